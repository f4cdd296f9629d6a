// Starts the first load (first_load.js) before anything else on the page: the built page
// (web/build_page.mjs) inlines this module as the first script in its <head>, so the run and
// its chart's series are on their way while the stylesheet, Chart.js and the page's own
// bundle still download. main.js takes the load from window.__trainscopeFirstLoad (or starts
// it itself when this did not run).
import { readConfig } from './config.js';
import { startFirstLoad } from './first_load.js';

window.__trainscopeFirstLoad = startFirstLoad(readConfig());
