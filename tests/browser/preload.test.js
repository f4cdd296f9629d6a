// The page the agent serves is the built one (web/build_page.mjs -> web/dist): its modules in
// one bundle, its stylesheets in one file, both named by content and cached for good; the
// run and its chart's series come inside the page (page_first_load.hpp), what is not there is
// asked for from the page's first (inline) script, and nothing is asked twice; and the
// unbundled source page still works when nothing was built.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const staticDir = path.join(h.webDir, 'static');
const jsDir = path.join(staticDir, 'js');
const distDir = path.join(h.webDir, 'dist');

let agent;
let browser;
h.useAgentAndBrowser((a, b) => {
  agent = a;
  browser = b;
});

/** Relative imports of a module: static `import ... from './x.js'`, `export ... from`, bare `import './x.js'`. */
function importsOf(file) {
  const source = fs.readFileSync(path.join(jsDir, file), 'utf8');
  const found = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]\.\/([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of source.matchAll(/^\s*import\s+['"]\.\/([^'"]+)['"]/gm)) found.push(m[1]);
  return found;
}

function moduleGraph(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const dep of importsOf(file)) visit(dep);
  };
  visit(entry);
  return seen;
}

/** The files a page asked this agent for (resource timing), as paths. */
function requestedPaths(page) {
  return page.evaluate(() => performance.getEntriesByType('resource')
    .filter((r) => r.name.startsWith(location.origin))
    .map((r) => r.name.slice(location.origin.length)));
}

test('the built page bundles exactly the modules main.js imports, and every stylesheet', () => {
  const built = JSON.parse(fs.readFileSync(path.join(distDir, 'inputs.json'), 'utf8'));
  const needed = [...moduleGraph('main.js')].map((f) => `js/${f}`).sort();
  assert.ok(needed.length > 10, `the import scan found only ${needed.length} modules`);
  // The inline first-load script's modules are in the bundle too (main.js falls back to them).
  assert.deepEqual(built.modules, needed, 'bundle inputs differ from main.js\'s import graph');
  const html = fs.readFileSync(path.join(staticDir, 'dashboard.html'), 'utf8');
  const styles = [...html.matchAll(/<link rel="stylesheet" href="\/static\/(css\/[^"]+)">/g)].map((m) => m[1]);
  assert.deepEqual(built.styles, styles);
  assert.deepEqual(fs.readdirSync(path.join(staticDir, 'css')).map((f) => `css/${f}`).sort(), [...styles].sort(),
    'a stylesheet in static/css that the page does not link');
  assert.deepEqual(built.inline, ['js/first_load_start.js']);
});

test('served: one bundle and one stylesheet, immutable; the page itself revalidated', async () => {
  const trainer = await h.startProducer(agent, { steps: 50, name: 'built-page' });
  await trainer.done;
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(page, trainer.sessionId);
  const files = (await requestedPaths(page)).filter((p) => !p.startsWith('/api/') && p !== '/healthz');
  const bundles = files.filter((p) => /^\/dist\/dashboard-[A-Z0-9]+\.js$/.test(p));
  const styles = files.filter((p) => /^\/dist\/dashboard-[A-Z0-9]+\.css$/.test(p));
  assert.equal(bundles.length, 1, `one script bundle: ${files}`);
  assert.equal(styles.length, 1, `one stylesheet: ${files}`);
  assert.deepEqual(files.filter((p) => p.startsWith('/static/')), [], 'no source module or stylesheet fetched');
  assert.deepEqual(files.filter((p) => !p.startsWith('/dist/')).sort(),
    ['/vendor/chart.umd.js', '/vendor/chartjs-plugin-zoom.min.js', '/vendor/hammer.min.js']);
  assert.deepEqual(page.errors, []);

  // Content-named: kept for good. Open like the source modules were (no token needed).
  for (const file of [...bundles, ...styles]) {
    const r = await fetch(agent.url + file);
    assert.equal(r.status, 200, file);
    assert.match(r.headers.get('cache-control'), /immutable/, file);
  }
  // The page carries the newest run: made for each request, never kept.
  const root = await agent.fetch('/');
  assert.equal(root.headers.get('cache-control'), 'no-store');
  assert.match(await root.text(), new RegExp(bundles[0].replace(/[.]/g, '\\.')), 'the page names the bundle it was served with');
  assert.equal((await fetch(`${agent.url}/dist/no-such-bundle.js`)).status, 404);
  assert.equal((await fetch(`${agent.url}/dist/.inputs.json`)).status, 400);
  await page.context().close();
});

test('the first load: the run and its chart\'s series come in the page; the rest is asked for once', async () => {
  const trainer = await h.startProducer(agent, { steps: 200, name: 'first-load', extra: ['--series', 'lr:0.1,0.09,0.08'] });
  await trainer.done;
  await agent.waitFinished(trainer.sessionId);
  const run = await agent.run(trainer.sessionId);
  assert.ok(run.metrics.length > 2, `the run has ${run.metrics}`);
  // Chosen, the newest run, and more points a series than the page carries (it asks for them).
  for (const [url, seriesCarried] of [[`/?run=${trainer.sessionId}`, true], ['/', true],
    [`/?run=${trainer.sessionId}&max_points=20000`, false]]) {
    const page = await h.openPage(browser, agent.pageUrl(url));
    await h.waitForRunLoaded(page, trainer.sessionId);
    assert.equal(await page.evaluate(() => Boolean(window.__trainscopeFirstLoad)), true, 'the inline script started it');
    assert.equal(await page.evaluate(() => document.getElementById('trainscope-first-load')), null, 'taken out of the page');
    const asked = await requestedPaths(page);
    const runPath = `/api/runs/${trainer.sessionId}`;
    assert.equal(asked.filter((p) => p === runPath).length, 0, `${url}: the run came in the page: ${asked}`);
    for (const metric of run.metrics) {
      const n = asked.filter((p) => p.startsWith(`${runPath}/metrics/${encodeURIComponent(metric)}?`)).length;
      const carried = seriesCarried && /loss/.test(metric);
      assert.equal(n, carried ? 0 : 1, `${url}: ${metric} asked for ${n} times`);
    }
    // Loaded means drawn with the run's data: every series in the chart, the losses shown.
    const datasets = await h.chartData(page);
    assert.deepEqual(datasets.map((d) => d.metric).sort(), [...run.metrics].sort());
    for (const d of datasets) {
      assert.ok(d.points.length > 0, `${d.metric} drawn empty`);
      assert.equal(d.hidden, !/loss/.test(d.metric), `${d.metric} shown by default: ${!d.hidden}`);
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('without a build, the agent serves the source page, and it works', async () => {
  // A web dir of its own: the sources and the npm packages, no dist/.
  const webDir = h.tempDir('tsweb-unbuilt-');
  fs.cpSync(staticDir, path.join(webDir, 'static'), { recursive: true });
  fs.symlinkSync(path.join(h.webDir, 'node_modules'), path.join(webDir, 'node_modules'));
  const plain = await h.startAgent({ webDir });
  try {
    const trainer = await h.startProducer(plain, { steps: 50, name: 'unbuilt' });
    await trainer.done;
    const page = await h.openPage(browser, plain.pageUrl(`/?run=${trainer.sessionId}`));
    await h.waitForRunLoaded(page, trainer.sessionId);
    const asked = await requestedPaths(page);
    assert.ok(asked.includes('/static/js/main.js') && asked.includes('/static/js/first_load_start.js'), `${asked}`);
    assert.equal(asked.filter((p) => p.startsWith('/dist/')).length, 0);
    const train = (await h.chartData(page)).find((d) => d.metric === 'train/loss');
    assert.equal(train.points.length, 50);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    await plain.stop();
  }
});
