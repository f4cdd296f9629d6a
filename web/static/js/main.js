// The dashboard's wiring: picks a run, keeps it subscribed, merges the REST snapshot with the
// live stream into the series store, and redraws at most once per animation frame.
//
// Page flow for a run: GET /api/runs/{id} -> subscribe(since_seq = run.last_seq) -> GET each
// series (max_points = the cap) -> merge: REST points for everything up to the response's
// seq, pushed points after it. A reconnect resubscribes from the last complete flush; the
// store drops anything it already holds, so the chart has no gap and no duplicate.
// First: takes ?token= out of the address bar before any other module runs.
import './address_token.js';
import * as api from './api.js';
import { readConfig, rememberRun } from './config.js';
import { initialSmoothing, parseSmoothing, rememberSmoothing } from './smoothing.js';
import { initialXAxis, originOf, parseXAxis, rememberXAxis, stepRangeForTimes } from './x_axis.js';
import { ConnectionBadge } from './connection_badge.js';
import { FallbackTable } from './fallback_table.js';
import { LiveSocket } from './live_socket.js';
import { isLossMetric, LossChart, zoomHint } from './loss_chart.js';
import { FOLLOW, MAX_ROWS as MAX_PICKER_ROWS, RunPicker } from './run_picker.js';
import { SeriesChips } from './series_chips.js';
import { Series, SeriesStore } from './series_store.js';
import { StatusBar } from './status_bar.js';
import { watchStorage } from './storage_watch.js';
import { ZoomDetail } from './zoom_detail.js';
import { AlertCenter } from './alerts.js';
import { RunAnalytics } from './analytics.js';
import { ALL_RANKS, RankSelect } from './rank_select.js';
import { compareIdsFromUrl, MAX_COMPARED, RunCompare } from './run_compare.js';
import { lossMetricOf } from './run_picker.js';
import { StatsPanel, statsFromSeries } from './stats_panel.js';
import { TrendBadges } from './trend_badges.js';
import { initModelPanel } from './model_panel.js';
import { ExportToolbar } from './export_toolbar.js';
import { attachModelExport } from './model_export.js';
import { initPanelToggles, isPhone } from './panel_toggles.js';
import { isSystemMetric, SystemPanel } from './system_panel.js';
import { RunsTable } from './runs_table.js';
import { shownByDefault, snapshotJobs, startFirstLoad } from './first_load.js';

const $ = (id) => document.getElementById(id);
const app = $('app');
const config = readConfig();
// The run and its chart's series, asked for before anything else was loaded (the page's
// first script, first_load_start.js), or now.
const firstLoad = window.__trainscopeFirstLoad || startFirstLoad(config);
/** Names of the agent's plugins (their derived series are "<plugin>/<name>", at rank 0). */
const pluginNames = firstLoad.plugins;
const store = new SeriesStore(config.maxPoints);
// No token in the URL: the upgrade carries the agent's cookie. A failed attempt asks a REST
// route whether the agent still takes that cookie (a refused upgrade cannot say so itself).
const socket = new LiveSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  { onAttemptFailed: () => api.checkAccess() });
const events = new EventTarget();

const state = {
  runs: [],                 // newest first
  run: null,                // the run shown
  loadingId: null,          // the run being loaded
  chosen: config.runId || FOLLOW,
  generation: 0,
  userVisibility: new Map(),  // series key -> shown, for chips the user toggled
  lastLiveAt: null,
  missingSnapshots: [],     // {metric, rank} whose REST snapshot failed: retried on reconnect
  totalRuns: null,          // runs the agent stores (hello), beyond the newest page listed
};

// ---- chart, or the text fallback when Chart.js is missing ----

const fallback = new FallbackTable($('fallback-panel'));
let lossChart = null;
const zoom = new ZoomDetail(
  (metric, opts) => (state.run ? api.getSeries(state.run.session_id, metric, opts)
    : Promise.reject(new Error('no run shown'))),
  config.maxPoints,
  () => {
    paintZoomState();
    requestRender();
  });

function chartUnavailable(reason) {
  $('chart-panel').hidden = true;
  app.dataset.chart = 'unavailable';
  fallback.show(reason);
}

/**
 * Loads a classic script; resolves false (and records it) if it cannot be loaded. Scripts
 * added together download at once and still run in the order added (async = false).
 */
function loadScript(src) {
  return new Promise((resolve) => {
    const el = document.createElement('script');
    el.src = src;
    el.async = false;
    el.onload = () => resolve(true);
    el.onerror = () => {
      window.__trainscopeVendorFailed(src);
      resolve(false);
    };
    document.head.append(el);
  });
}

/**
 * Zoom and pan: chartjs-plugin-zoom (and hammer.js for pinch and touch pan), run once the
 * first chart is drawn. The page preloads both, so they download meanwhile; running them
 * first would delay that chart. Optional: without the plugin the chart works, without zoom.
 * app's data-chart-zoom: loading, ready or unavailable.
 */
let zoomLoad = null;
function loadZoom() {
  if (zoomLoad || !lossChart) return;
  app.dataset.chartZoom = 'loading';
  zoomLoad = Promise.all([loadScript('/vendor/hammer.min.js'), loadScript('/vendor/chartjs-plugin-zoom.min.js')]).then(() => {
    if (window.ChartZoom) lossChart.enableZoom(window.ChartZoom);
    else $('zoom-hint').textContent = 'Zoom unavailable (plugin not loaded)';
    app.dataset.chartZoom = window.ChartZoom ? 'ready' : 'unavailable';
    paintZoomState();
  });
}

// The statistics above the chart take their place first: a chart made before them would be
// resized (and drawn again) as soon as they appear.
const statsPanel = new StatsPanel($('stats-panel'));
const trendBadges = new TrendBadges(statsPanel.trendRoot);
statsPanel.update({ run: null, statistics: null, velocity: null, fallback: null, state: 'none' });

if (typeof window.Chart !== 'function') {
  const failed = (window.__trainscopeVendorErrors || []).join(', ');
  chartUnavailable(`The chart library (Chart.js) could not be loaded${failed ? ` from ${failed}` : ''}. ` +
    'Showing the latest value of every series as text instead; it updates live.');
} else {
  try {
    lossChart = new LossChart($('loss-chart'), window.Chart, {
      tooltipEl: $('chart-tooltip'),
      getRunStart: () => (state.run ? state.run.started_ms : NaN),
      onRangeChange: (range) => zoom.setRange(stepRangeOf(range), shownSeries()),
    });
    app.dataset.chart = 'ready';
    // Said from the start, though the plugin runs after the first chart: text appearing later
    // would move the chart under the pointer.
    $('zoom-hint').textContent = zoomHint();
  } catch (e) {
    console.error(e);
    chartUnavailable(`The chart could not be created (${e.message}). Showing the latest values as text instead.`);
  }
}

const chips = new SeriesChips($('series-chips'), (key, checked) => {
  state.userVisibility.set(key, checked);
  zoom.refresh(shownSeries());
  requestRender(true);
});

// ---- compared runs, ranks, statistics and trends, alerts ----

const compare = new RunCompare(socket, config.maxPoints, (id) => {
  const run = state.runs.find((r) => r.session_id === id);
  return run ? run.name : (runsTable && runsTable.nameOf(id)) || id;
});
compare.addEventListener('change', () => {
  picker.refresh();
  requestRender(true);
});
const rankSelect = new RankSelect($('rank-select'), () => {
  zoom.refresh(shownSeries());
  paintAnalytics();
  requestRender(true);
});
const analytics = new RunAnalytics();
const alerts = new AlertCenter($('alerts'));
const systemPanel = new SystemPanel($('system-panel'), lossChart ? window.Chart : null);
analytics.addEventListener('change', () => {
  paintAnalytics();
  systemPanel.update(state.run, store, analytics.get('system'));
});
alerts.addEventListener('change', () => {
  if (lossChart) lossChart.setMarkers(alerts.markers());
  requestRender();
});
store.onSeriesAdded = () => syncRanks();

/** Ranks of the shown run: the agent's list plus any rank whose points arrived since. */
function syncRanks() {
  const ranks = new Set(state.run && state.run.ranks ? state.run.ranks : []);
  for (const s of store.series.values()) ranks.add(s.rank);
  rankSelect.setRanks([...ranks]);
}

function lowestRank() {
  const ranks = state.run && state.run.ranks && state.run.ranks.length ? state.run.ranks : [0];
  return Math.min(...ranks);
}

function paintAnalytics() {
  const run = state.run;
  // The statistics plugin follows rank 0; another rank's loss figures come from its series.
  const rank = rankSelect.value === ALL_RANKS || !rankSelect.multiRank ? lowestRank() : rankSelect.value;
  const statistics = rank === 0 ? analytics.get('statistics') : null;
  const velocity = analytics.get('velocity');
  const fallback = run && !statistics ? statsFromSeries(store.get('train/loss', rank), store.get('val/loss', rank)) : null;
  statsPanel.update({ run, statistics, velocity, fallback, state: analytics.state,
    rankNote: rankSelect.multiRank ? `rank ${rank}` : '' });
  trendBadges.update(analytics.get('trend'), { accepts: (r) => rankSelect.accepts(r), multiRank: rankSelect.multiRank });
}

/** Overlays a run's train/loss on the chart (or takes it off). */
function setCompared(sessionId, on) {
  if (on) {
    if (!state.run || sessionId !== state.run.session_id) compare.add(sessionId);
    return;
  }
  const key = compare.remove(sessionId);
  if (key && lossChart) lossChart.releaseColor(key);
}

const compareOptions = {
  searchRuns: (q) => api.listRunsPage({ limit: MAX_PICKER_ROWS, q }),
  onCompare: setCompared,
  onDelete: deleteRun,
  isCompared: (id) => compare.has(id),
  compareColor: (id) => (lossChart && compare.seriesOf(id) ? lossChart.colorFor(compare.seriesOf(id)) : null),
  maxCompared: MAX_COMPARED,
};

/** The latest losses the page holds live feed the run list. */
function noteLatestLosses() {
  const run = state.run;
  if (run) {
    const metric = lossMetricOf(run);
    const s = metric && store.get(metric, lowestRank());
    const p = s && s.latest();
    if (p) picker.noteLoss(run.session_id, [p.x, p.t, p.y]);
  }
  for (const s of compare.seriesList()) {
    const p = s.latest();
    if (p) picker.noteLoss(s.sessionId, [p.x, p.t, p.y]);
  }
}

// ---- which series are shown ----

function defaultVisible(series, list) {
  if (config.metrics || list.some((s) => isLossMetric(s.metric))) {
    return shownByDefault(series.metric, list.map((s) => s.metric), config.metrics);
  }
  // The system plugin's series have a panel of their own: never the chart's default choice.
  return series === list.find((s) => !isSystemMetric(s.metric));
}

function visibleKeys(list) {
  const keys = new Set();
  for (const s of list) {
    const user = state.userVisibility.get(s.key);
    if (user === undefined ? defaultVisible(s, list) : user) keys.add(s.key);
  }
  return keys;
}

/** The shown run's series, of the selected rank(s). */
function primaryList() {
  return store.list().filter((s) => rankSelect.accepts(s.rank));
}

/** What the chart and its legend show: the shown run's series, then the compared runs'. */
function displayList() {
  return [...primaryList(), ...compare.seriesList()];
}

function shownSeries() {
  const list = primaryList();
  const keys = visibleKeys(list);
  return list.filter((s) => keys.has(s.key));
}

// ---- rendering: chart at most once per frame, text at most 5 times a second ----

/**
 * Resolves once the page's first run is drawn (or failed to load, or there is none to show):
 * what the first chart does not need waits for it. At most a second after the page started.
 */
let firstChartSettled = null;
const firstChartDrawn = new Promise((resolve) => {
  firstChartSettled = resolve;
  setTimeout(resolve, 1000);
});

let frameRequested = false;
let drawCost = 0;  // script ms of the last redraw, and when it ended (renderFrame)
let drawEnd = -Infinity;
let textDirty = false;
let textAt = 0;
let textTimer = null;

function requestRender(now = false) {
  textDirty = true;
  // A user's action or a finished load is drawn at the next frame: the redraw budget below
  // is for streamed points, which would otherwise starve the socket handler.
  if (now) {
    textAt = 0;
    drawEnd = -Infinity;
  }
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(renderFrame);
  }
}

// The chart is redrawn at most config.maxFps times a second, and drawing may take at most
// about a third of the main thread: after a redraw whose script took c ms, the next waits at
// least 2c ms. Rasterizing the canvas costs as much again outside that measure; both keep
// the socket handler (and so the data) from queueing behind the chart on a busy machine.
const minFrameMs = 1000 / config.maxFps - 4;  // rAF ticks are ~16.7 ms apart: allow jitter

function renderFrame(now) {
  if (now < drawEnd + Math.max(2 * drawCost, minFrameMs)) {
    requestAnimationFrame(renderFrame);
    return;
  }
  frameRequested = false;
  const list = displayList();
  const visible = visibleKeys(list);
  // The text first (chips, statistics): what it changes around the chart is then measured by
  // the chart's own draw, not by a second one (LossChart.render resizes first).
  if (lossChart) lossChart.noteMultiRank(list, rankSelect.multiRank);
  // Before the chart is made, the text is never held back: chips painted after its first
  // draw would resize it under the pointer.
  if (lossChart && !lossChart.chart) textAt = 0;
  paintText(list, visible);
  if (lossChart) {
    const t0 = performance.now();
    try {
      lossChart.render(list, visible, zoom.data(), { multiRank: rankSelect.multiRank });
    } catch (e) {
      if (lossChart.chart) throw e;
      // Chart.js is made with the first series (LossChart.render): it could not be.
      console.error(e);
      lossChart = null;
      chartUnavailable(`The chart could not be created (${e.message}). Showing the latest values as text instead.`);
      return;
    }
    drawEnd = performance.now();
    drawCost = drawEnd - t0;
    // After this frame is on screen (a task queued now runs after it).
    if (lossChart.chart && !zoomLoad) setTimeout(loadZoom, 0);
    const hasData = list.some((s) => visible.has(s.key) && s.points.length > 0);
    const empty = $('chart-empty');
    empty.hidden = hasData;
    if (!hasData) {
      empty.textContent = !state.run ? 'Waiting for a run to start…'
        : app.dataset.snapshot === 'loading' ? 'Loading…' : 'Waiting for data…';
    }
  }
  // What is on screen now reflects this snapshot state (tests wait for "loaded" here).
  const drawn = `${app.dataset.runId || ''}:${app.dataset.snapshot}`;
  if (app.dataset.snapshot === 'loaded' && drawn !== app.dataset.drawn) {
    // When: bench/first_chart.js reads it (polling the attribute would add its own delay).
    performance.mark('trainscope:run-loaded', { detail: app.dataset.runId });
  }
  app.dataset.drawn = drawn;
  if (app.dataset.snapshot !== 'loading' && app.dataset.snapshot !== 'none') firstChartSettled();
  app.dataset.drawnZoom = app.dataset.zoom;
  events.dispatchEvent(new CustomEvent('render', { detail: { at: performance.now() } }));
}

/** Chips, the text fallback and the status bar: at most every 200 ms, the last change always. */
function paintText(list = displayList(), visible = visibleKeys(list)) {
  if (!textDirty) return;
  const wait = textAt + 200 - performance.now();
  if (wait > 0) {
    if (!textTimer) {
      textTimer = setTimeout(() => {
        textTimer = null;
        paintText();
      }, wait);
    }
    return;
  }
  textDirty = false;
  textAt = performance.now();
  if (lossChart) chips.render(list, visible, (s) => lossChart.colorFor(s), (s) => lossChart.labelFor(s));
  fallback.render(list);
  systemPanel.update(state.run, store, analytics.get('system'));
  tickStatus();
}

// ---- runs ----

function sortRuns() {
  state.runs.sort((a, b) => b.started_ms - a.started_ms);
}

function upsertRun(run) {
  upsertRuns([run]);
}

/** Merges runs into the list: one sort and one repaint however many (hello lists 200). */
function upsertRuns(runs) {
  const index = new Map(state.runs.map((r, i) => [r.session_id, i]));
  for (const run of runs) {
    if (!run || !run.session_id) continue;
    const i = index.get(run.session_id);
    if (i !== undefined) state.runs[i] = { ...state.runs[i], ...run };
    else index.set(run.session_id, state.runs.push(run) - 1);
    if (state.run && state.run.session_id === run.session_id) {
      // WS run objects carry the stored drop count; never let it go backwards.
      const dropped = Math.max(Number(state.run.dropped) || 0, Number(run.dropped) || 0);
      state.run = { ...state.run, ...run, dropped };
    }
  }
  sortRuns();
  paintRuns();
}

/** Deletes an ended run (the picker asked first); the page then forgets it. */
async function deleteRun(run) {
  await api.deleteRun(run.session_id);
  forgetRun(run.session_id);
}

/** A run deleted here or elsewhere (the agent says run_deleted): out of the list and the chart. */
function forgetRun(sessionId) {
  state.runs = state.runs.filter((r) => r.session_id !== sessionId);
  if (compare.has(sessionId)) setCompared(sessionId, false);
  if (state.run && state.run.session_id === sessionId) {
    state.chosen = FOLLOW;
    rememberRun(null);
    followNewest();
  }
  paintRuns();
}

function paintRuns() {
  picker.setRuns(state.runs, state.chosen, state.run, state.totalRuns);
}

/** The runs table (#runs): "overlay" shows the first selected run and overlays the others. */
const runsTable = new RunsTable($('runs-view'), app, {
  onOverlay: (ids) => {
    const [first, ...rest] = ids;
    state.chosen = first;
    rememberRun(first);
    showRun(first);
    for (const id of rest.slice(0, MAX_COMPARED)) setCompared(id, true);
    window.location.hash = '';
  },
  onDeleted: (id) => forgetRun(id),
  onEdited: (run) => upsertRun(run),
});

const picker = new RunPicker($('run-select'), $('run-status'), $('run-meta'), (value) => {
  state.chosen = value;
  rememberRun(value === FOLLOW ? null : value);
  const target = value === FOLLOW ? (state.runs[0] && state.runs[0].session_id) : value;
  if (target) showRun(target);
}, compareOptions);

/** Shows a run: subscribe from its current seq, then merge every series' REST snapshot. */
async function showRun(sessionId, { force = false } = {}) {
  if (!force && (state.loadingId === sessionId || (state.run && state.run.session_id === sessionId))) return;
  const generation = ++state.generation;
  state.loadingId = sessionId;
  state.run = null;  // from here on, pushed points of the previous run are ignored
  state.missingSnapshots = [];
  socket.unsubscribe();
  if (lossChart) lossChart.resetZoom();
  zoom.setRange(null);
  store.clear();
  // The run shown is not also an overlay; its analytics and alerts replace the previous run's.
  if (compare.has(sessionId)) setCompared(sessionId, false);
  rankSelect.reset();
  analytics.open(null);
  alerts.open(null);
  app.dataset.runId = sessionId;
  app.dataset.panelsRun = '';
  app.dataset.snapshot = 'loading';
  requestRender(true);

  let run;
  try {
    // The page's first run was asked for as the page started (first_load.js).
    run = await firstLoad.takeRun(sessionId) || await api.getRun(sessionId);
  } catch (e) {
    if (generation !== state.generation) return;
    state.loadingId = null;
    app.dataset.snapshot = 'error';
    notice(`Cannot load run ${sessionId}: ${e.message}`);
    return;
  }
  if (generation !== state.generation) return;
  state.run = run;
  state.loadingId = null;
  upsertRun(run);
  notice('');
  socket.subscribe(sessionId, run.last_seq);
  syncRanks();

  // The series the chart shows first; then, once they are drawn, the panels that are not
  // the chart, while the other series load.
  // Plugin names matter for ranks other than 0 only: a run of rank 0 does not wait for them.
  const plugins = (run.ranks || []).some((r) => r !== 0) ? await pluginNames : new Set();
  const jobs = snapshotJobs(run, plugins, config.metrics);
  if (generation !== state.generation) return;
  const rest = jobs.filter((j) => !j.shown);
  const failed = await fetchSnapshots(sessionId, generation, jobs.filter((j) => j.shown));
  if (generation !== state.generation) return;
  if (!rest.length) finishSnapshots(generation, failed);  // drawn as loaded in the next frame
  afterNextDraw(() => {
    if (generation !== state.generation) return;
    analytics.open(sessionId);
    alerts.open(sessionId);
    app.dataset.panelsRun = sessionId;  // the model panel follows it
  });
  if (rest.length) finishSnapshots(generation, [...failed, ...await fetchSnapshots(sessionId, generation, rest)]);
}

/** Calls `fn` once the next frame has been drawn. */
function afterNextDraw(fn) {
  const once = () => {
    events.removeEventListener('render', once);
    fn();
  };
  events.addEventListener('render', once);
  requestRender(true);
}

/**
 * Fetches and merges the REST snapshot of each {metric, rank}. Snapshots that fail (the
 * agent went away mid-load) are kept in state.missingSnapshots and fetched again after
 * the next reconnect, so the chart never keeps a hole.
 */
async function loadSnapshots(sessionId, generation, jobs) {
  finishSnapshots(generation, await fetchSnapshots(sessionId, generation, jobs));
}

/** Every snapshot asked for has come (or failed, `failed`): the run counts as loaded. */
function finishSnapshots(generation, failed) {
  if (generation !== state.generation) return;
  state.missingSnapshots = failed;
  app.dataset.snapshot = failed.length ? 'partial' : 'loaded';
  requestRender(true);
}

/** Fetches and merges snapshots (each one drawn as it comes); resolves to the jobs that failed. */
async function fetchSnapshots(sessionId, generation, jobs) {
  const failed = [];
  await runLimited(jobs, 4, async (job) => {
    try {
      const answer = firstLoad.takeSeries(sessionId, job.metric, job.rank) ||
        api.getSeries(sessionId, job.metric, { maxPoints: config.maxPoints, rank: job.rank });
      const r = await answer;
      if (generation !== state.generation) return;
      store.mergeSnapshot(job.metric, r.rank, r.points, r.seq);
      requestRender();
    } catch (e) {
      if (e.status === 404) return;  // no such rank for this metric
      failed.push(job);
      console.warn(`series ${job.metric} (rank ${job.rank}):`, e.message);
    }
  });
  return failed;
}

async function runLimited(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Follow mode: show the newest run whenever it changes. */
function followNewest() {
  if (state.chosen !== FOLLOW || state.runs.length === 0) return;
  showRun(state.runs[0].session_id);
}

async function refreshCurrentRun() {
  const run = state.run;
  if (!run) return;
  try {
    const fresh = await api.getRun(run.session_id);
    if (state.run && state.run.session_id === fresh.session_id) upsertRun(fresh);
  } catch {
    // The status bar keeps the last known values; the socket state tells what is wrong.
  }
}

function notice(text) {
  const el = $('notice');
  el.textContent = text;
  el.hidden = !text;
}

// ---- live messages ----

socket.addEventListener('message', (e) => {
  const m = e.detail;
  switch (m.type) {
    case 'hello':
      // The newest runs only (the agent sends a page and the total); older ones are found by
      // the picker's search and the runs table.
      if (Number.isFinite(m.total_runs)) state.totalRuns = m.total_runs;
      upsertRuns(m.sessions || []);
      if (state.run && state.missingSnapshots.length) {
        loadSnapshots(state.run.session_id, state.generation, state.missingSnapshots);
      }
      if (state.chosen === FOLLOW) followNewest();
      else if (!state.run && !state.loadingId) showRun(state.chosen);
      break;
    case 'run_started':
      if (Number.isFinite(state.totalRuns) && !state.runs.some((r) => r.session_id === m.session_id)) state.totalRuns += 1;
      runsTable.noteRunEvent();
      upsertRun(m.run || { session_id: m.session_id });
      followNewest();
      break;
    case 'run_deleted':
      if (Number.isFinite(state.totalRuns)) state.totalRuns = Math.max(0, state.totalRuns - 1);
      forgetRun(m.session_id);
      runsTable.forget(m.session_id);
      break;
    case 'run_updated':
      // Renamed, or new notes or tags: only runs the page already lists are updated.
      if (m.run && state.runs.some((r) => r.session_id === m.session_id)) upsertRun(m.run);
      runsTable.applyRun(m.run);
      break;
    case 'run_ended':
      runsTable.noteRunEvent();
      upsertRun(m.run);
      if (state.run && state.run.session_id === m.session_id) refreshCurrentRun();
      break;
    case 'training_update': {
      if (!state.run || m.session_id !== state.run.session_id) {
        if (compare.applyLive(m)) requestRender();
        return;
      }
      const n = store.applyLive(m.metric, m.rank, m.points);
      if (n) {
        zoom.applyLive(Series.key(m.metric, m.rank), m.points);
        statusBar.countLive(n);
        state.lastLiveAt = Date.now();
        requestRender();
      }
      break;
    }
    case 'analytics':
      analytics.apply(m);
      break;
    case 'alert':
      alerts.apply(m);
      break;
    case 'error':
      console.warn('agent says:', m.error);
      break;
    default:
      break;
  }
});

// ---- header, toolbar, status bar ----

const statusBar = new StatusBar($('status-bar'));
new ConnectionBadge($('connection-status'), socket);  // eslint-disable-line no-new

function paintZoomState() {
  const button = $('reset-zoom');
  const range = zoom.range;
  button.disabled = !range;
  app.dataset.zoom = range ? (zoom.loading ? 'loading' : 'detail') : 'none';
  $('zoom-hint').textContent = !lossChart || !lossChart.zoomEnabled ? $('zoom-hint').textContent
    : range ? `Steps ${range.from}–${range.to}${zoom.loading ? ' · loading full resolution…' : ' · full resolution'}`
      : zoomHint();
}

$('reset-zoom').addEventListener('click', () => lossChart && lossChart.resetZoom());
$('log-scale').addEventListener('change', (e) => lossChart && lossChart.setLogScale(e.target.checked));

// Smoothing: kept in the address and across reloads (smoothing.js); the chart redraws at once.
function applySmoothing(weight, { remember = true } = {}) {
  $('smoothing').value = String(weight);
  $('smoothing-value').textContent = weight > 0 ? weight.toFixed(weight >= 0.99 ? 3 : 2) : 'off';
  if (lossChart) lossChart.setSmoothing(weight);
  if (remember) rememberSmoothing(weight);
  requestRender();
}
$('smoothing').addEventListener('input', (e) => applySmoothing(parseSmoothing(e.target.value) || 0));
applySmoothing(initialSmoothing(), { remember: false });

// X axis: step, wall time or relative time (x_axis.js); kept like smoothing. A zoomed range
// means nothing in another unit: switching resets the zoom.
let xMode = 'step';
function applyXAxis(mode, { remember = true } = {}) {
  xMode = mode;
  $('x-axis').value = mode;
  app.dataset.xaxis = mode;
  if (lossChart) {
    lossChart.resetZoom();
    lossChart.setXAxis(mode);
  }
  if (remember) rememberXAxis(mode);
  requestRender(true);
}
/** A zoomed range in axis units as the step range whose full resolution to fetch. */
function stepRangeOf(range) {
  if (!range || xMode === 'step') return range;
  return stepRangeForTimes(range, shownSeries(), xMode, originOf(primaryList()));
}
$('x-axis').addEventListener('change', (e) => applyXAxis(parseXAxis(e.target.value) || 'step'));
applyXAxis(initialXAxis(), { remember: false });
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && lossChart) lossChart.resetZoom();
});
paintZoomState();

// Export CSV / PNG of the run shown (every metric and rank the page holds; the chart as drawn).
const exportToolbar = new ExportToolbar({ csv: $('export-csv'), png: $('export-png') }, {
  run: () => state.run,
  series: () => store.list(),
  chart: () => (lossChart ? lossChart.chart : null),
  chartAvailable: () => Boolean(lossChart),
});

function tickStatus() {
  const list = store.list();
  const keys = visibleKeys(list);
  const shown = list.filter((s) => keys.has(s.key));
  const main = shown.find((s) => isLossMetric(s.metric)) || shown[0] || list[0];
  statusBar.update({
    run: state.run,
    pointsHeld: store.totalPoints() + zoom.pointCount() + compare.pointCount(),
    seriesCount: store.series.size,
    lastPoint: main ? main.latest() : null,
    lastLiveAt: state.lastLiveAt,
    chartMode: !lossChart ? 'text' : zoom.range ? 'zoomed' : 'live',
  });
  if (state.run) picker.showRun(state.run);
  noteLatestLosses();
  paintAnalytics();
  exportToolbar.update();
}
setInterval(tickStatus, 1000);
// The run object's drop count and status come from the agent: poll it while the run is live.
setInterval(() => {
  if (state.run && state.run.status === 'running') refreshCurrentRun();
}, 2000);

// Whether the agent can store (a full disk): /healthz, polled, shown in the status bar.
watchStorage((storage, forwarding) => {
  statusBar.showStorage(storage);
  statusBar.showForwarding(forwarding);
});

// ---- start ----

window.trainscope = {
  config,
  store,
  socket,
  zoom,
  events,
  analytics,
  alerts,
  compare,
  rankSelect,
  systemPanel,
  get chart() {
    return lossChart ? lossChart.chart : null;
  },
  get run() {
    return state.run;
  },
};

// Panels a phone starts folded (the user's choice is remembered); the model panel follows
// the run shown (app's data-panels-run, set once its chart is drawn), and is itself built
// after that chart: laying out its diagram first would delay it.
window.trainscope.panels = initPanelToggles();
window.trainscope.exports = { toolbar: exportToolbar, model: null };
firstChartDrawn.then(() => {
  window.trainscope.model = initModelPanel($('model-panel'), app, { collapsedByDefault: isPhone(), follow: 'panelsRun' });
  window.trainscope.exports.model = attachModelExport(window.trainscope.model, () => state.run);
});
// The chosen run (first_load.js asked for it already), or the newest once known.
if (state.chosen !== FOLLOW) showRun(state.chosen);
firstLoad.run.then((run) => {
  if (firstLoad.missing && state.chosen === firstLoad.missing) {
    // ?run= names a run the agent does not have (deleted, another agent's).
    notice(`Run ${state.chosen} was not found; showing the newest run.`);
    state.chosen = FOLLOW;
    rememberRun(null);
    followNewest();
  } else if (run && state.chosen === FOLLOW && !state.run && !state.loadingId) {
    upsertRun(run);
    showRun(run.session_id);
  } else if (!run && !state.loadingId) {
    firstChartSettled();  // no run to draw
  }
});
socket.start();
api.listRunsPage({ limit: MAX_PICKER_ROWS }).then(({ runs }) => {
  upsertRuns(runs);
  followNewest();
}).catch((e) => notice(`Cannot list runs: ${e.message}`)).finally(() => {
  paintRuns();
  tickStatus();
  requestRender(true);
  for (const id of compareIdsFromUrl()) if (id !== state.chosen && id !== state.loadingId) setCompared(id, true);
});
