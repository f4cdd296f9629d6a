// The page's critical path: the run to show and the series its chart draws by default. The
// agent writes them into the page it serves (page_first_load.hpp: the same answers the REST
// routes give, in <script id="trainscope-first-load">); what is not there is fetched the
// moment the page's script starts, straight from the address (?run=, else the newest run),
// in parallel with everything else the page asks for (the WebSocket, the run list, plugins,
// health). main.js takes these answers instead of asking again, draws the chart as soon as
// they are in, and opens the other panels after that.
import * as api from './api.js';

/** Whether the chart shows a metric at start when the user chose nothing (`?metrics=` or not). */
export function shownByDefault(metric, metrics, chosen = null) {
  if (chosen) return chosen.includes(metric);
  const isLoss = (m) => /loss/i.test(m);
  if (metrics.some(isLoss)) return isLoss(metric);
  // The system plugin's series have a panel of their own: never the chart's default choice.
  return metric === metrics.find((m) => !m.startsWith('system/'));
}

/**
 * Every {metric, rank, shown} of `run` whose snapshot the page loads, those the chart shows
 * by default (`shown`) first. A plugin's derived series ("<plugin>/<name>") exist at rank 0 only: other
 * ranks are not asked for them (they would only get 404s).
 */
export function snapshotJobs(run, plugins, chosen = null) {
  const ranks = run.ranks && run.ranks.length ? run.ranks : [0];
  const metrics = run.metrics || [];
  const jobs = [];
  for (const metric of metrics) {
    for (const rank of ranks) if (rank === 0 || !plugins.has(metric.split('/')[0])) jobs.push({ metric, rank });
  }
  for (const job of jobs) job.shown = shownByDefault(job.metric, metrics, chosen);
  return jobs.sort((a, b) => Number(b.shown) - Number(a.shown));  // stable: the agent's order within each group
}

const seriesKey = (sessionId, metric, rank) => `${sessionId}\u0000${metric}\u0000${rank}`;

/**
 * The first load the agent put into the page ({run_id, max_points, run, series: [{metric,
 * rank, answer}]}), taken out of it; null without one (an unbuilt page's agent, no run yet).
 */
export function embeddedFirstLoad(doc = globalThis.document) {
  const el = doc && doc.getElementById('trainscope-first-load');
  if (!el) return null;
  el.remove();  // read once: a later load of the run asks the agent afresh
  try {
    return JSON.parse(el.textContent);
  } catch {
    return null;
  }
}

/** The embedded run if it is the one this page shows (`runId`, or the newest when null). */
function embeddedRun(embedded, runId) {
  if (!embedded || !embedded.run) return null;
  const follows = (embedded.run_id ?? null) === null;
  return (runId ? embedded.run.session_id === runId : follows) ? embedded.run : null;
}

/**
 * Starts the first load: {runId, run, plugins, takeRun(id), takeSeries(id, metric, rank)}.
 * `run` resolves to the run to show, or null (none yet, or ?run= names no run: `missing`
 * then holds that id). Each answer can be taken once: a later load of the same run (a
 * reconnect, the user's choice) asks the agent afresh.
 */
export function startFirstLoad({ runId = null, maxPoints, metrics = null } = {}, embedded = embeddedFirstLoad()) {
  const series = new Map();
  const given = embeddedRun(embedded, runId);
  if (given && embedded.max_points === maxPoints) {
    for (const { metric, rank, answer } of embedded.series || []) {
      series.set(seriesKey(given.session_id, metric, rank), Promise.resolve(answer));
    }
  }
  const load = { runId, missing: null, run: null, takeRun, takeSeries };
  /** Names of the agent's plugins: which series exist at ranks other than 0. */
  load.plugins = api.listPlugins().then((list) => new Set(list.map((p) => p.name)), () => new Set());
  let missingError = null;
  const pickRun = given ? Promise.resolve(given) : runId
    ? api.getRun(runId).catch((e) => {
      if (e.status !== 404) throw e;
      load.missing = runId;
      missingError = e;
      return null;
    })
    : api.listRunsPage({ limit: 1 }).then(({ runs }) => (runs && runs[0] ? api.getRun(runs[0].session_id) : null));
  load.run = pickRun.catch(() => null).then((run) => {
    if (!run) return null;
    // Rank 0 only: which other ranks may be asked for a metric depends on the plugins.
    const names = run.metrics || [];
    const ranks = run.ranks && run.ranks.length ? run.ranks : [0];
    if (ranks.includes(0)) {
      for (const metric of names) {
        if (!shownByDefault(metric, names, metrics) || series.has(seriesKey(run.session_id, metric, 0))) continue;
        const answer = api.getSeries(run.session_id, metric, { maxPoints, rank: 0 });
        answer.catch(() => {});  // whoever takes it handles the error
        series.set(seriesKey(run.session_id, metric, 0), answer);
      }
    }
    return run;
  });

  let runTaken = false;
  /**
   * The run's answer if it is `sessionId`'s and not taken yet, else null; throws the
   * agent's 404 if ?run= named `sessionId` and the agent does not have it.
   */
  async function takeRun(sessionId) {
    if (runTaken || (runId && sessionId !== runId)) return null;
    const run = await load.run;
    if (runTaken) return null;
    if (missingError && sessionId === load.missing) {
      runTaken = true;
      throw missingError;
    }
    if (!run || run.session_id !== sessionId) return null;
    runTaken = true;
    return run;
  }
  /** The pending answer for a series, or null. */
  function takeSeries(sessionId, metric, rank) {
    const key = seriesKey(sessionId, metric, rank);
    const answer = series.get(key) || null;
    series.delete(key);
    return answer;
  }
  return load;
}
