// Memory over a long session: a trainer streams hundreds of thousands of points into the page
// at a high rate, long enough for the series store to re-bucket every series many times. The
// page must stay bounded: at most `max_points` points per series in the store and in the
// chart at every moment we look, and a JS heap (measured after a full GC) with no growth trend
// over the session. And it must really have received the run, point for point.
//
//   TRAINSCOPE_LONG_SESSION_SCALE=N   stream N times as many steps (default 1: 8 series x
//                                     40,000 steps = 320,000 points at 8,000 points/s)
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let agent;
let browser;
h.useAgentAndBrowser((a, b) => {
  agent = a;
  browser = b;
});

const scale = Number(process.env.TRAINSCOPE_LONG_SESSION_SCALE || 1);
const THREADS = 2;
const METRICS = 4;              // per thread: series t0/m0..m3 and t1/m0..m3
const SERIES = THREADS * METRICS;
const RATE = 1000;              // steps per second per thread: 8,000 points/s in all
const STEPS = Math.max(2000, Math.round(40000 * scale));
const TOTAL = STEPS * SERIES;
const CAP = 1000;               // the page's default max_points
// A heap sample (after a full GC) this often while streaming: ~15-20 samples at any scale.
const SAMPLE_EVERY_MS = Math.round(2000 * Math.min(1, scale));
// Samples before this share of the run are warm-up: the store fills to its cap, Chart.js
// builds its elements and V8 compiles and optimizes the hot paths (code counts as heap).
const WARM_UP = 0.12;

// The growth bounds. The page holds at most CAP points per series however long the run, so
// its heap after GC should be flat once warm (measured: -0.3 to +0.1 MB per 100k points,
// samples within +-1.5 MB of each other). Whatever the page keeps per point or per message
// costs far more: a held point {x, y, t, seq} measured ~75 bytes (7.6 MB per 100k points
// when every pushed point was kept), every training_update message kept 6.3 MB per 100k,
// a quarter of the points kept 1.7 MB per 100k (one in six: 0.7, within the bounds). So the
// slope bound (~10 bytes per point) catches keeping one point in four or more, or any
// message; the bounds leave room for what legitimately moves between samples (V8's code
// and feedback caches, Chart.js' elements swapped at a re-bucket, messages in flight when a
// sample's GC runs mid-stream).
const MAX_SLOPE_PER_100K = 1 << 20;   // Theil-Sen slope of heap vs points received
const MAX_THIRDS_GROWTH = 3 << 20;    // median of the last third minus median of the first

/** Installs counters in the page (kept O(series), so the probe itself cannot leak). */
function installProbe(page) {
  return page.evaluate(() => {
    const ts = window.trainscope;
    const probe = {
      cap: ts.store.cap,
      liveDistinct: 0,     // points of the shown run pushed live, each counted once (by seq)
      minSeq: Infinity,
      maxSeq: 0,
      lastSeq: new Map(),  // series key -> newest seq seen
      storeChecks: 0,
      storeMax: 0,         // the most points any series of the store held after a message
      chartChecks: 0,
      chartMax: 0,         // the most points any chart dataset held after a redraw
      zoomMax: 0,          // the most points any zoom-detail series held (after a message or fetch)
      zoomLastStep: -1,    // the newest step the zoom detail held (it follows the live edge)
      compareMax: 0,       // compared runs' points (none here: must stay 0)
      over: [],            // the first few violations, for the failure message
    };
    const note = (what, n) => {
      if (n > probe.cap && probe.over.length < 5) probe.over.push(`${what}: ${n}`);
    };
    const checkZoom = () => {
      for (const [key, entry] of ts.zoom.entries) {
        const n = entry.points.length;
        probe.zoomMax = Math.max(probe.zoomMax, n);
        note(`zoom ${key}`, n);
        if (n) probe.zoomLastStep = Math.max(probe.zoomLastStep, entry.points[n - 1].x);
      }
    };
    // Also right after the zoom detail changes by itself (its REST answers arrived).
    const onZoomChange = ts.zoom.onChange;
    ts.zoom.onChange = () => {
      onZoomChange();
      checkZoom();
    };
    ts.socket.addEventListener('message', (e) => {
      const m = e.detail;
      if (m.type !== 'training_update' || !ts.run || m.session_id !== ts.run.session_id) return;
      const key = `${m.metric}@${m.rank}`;
      let last = probe.lastSeq.get(key) || 0;
      for (const p of m.points) {
        if (p[3] <= last) continue;
        last = p[3];
        ++probe.liveDistinct;
        if (p[3] < probe.minSeq) probe.minSeq = p[3];
        if (p[3] > probe.maxSeq) probe.maxSeq = p[3];
      }
      probe.lastSeq.set(key, last);
      // main.js's listener was added first: the store has applied this message by now.
      ++probe.storeChecks;
      for (const s of ts.store.series.values()) {
        probe.storeMax = Math.max(probe.storeMax, s.points.length);
        note(`store ${s.key}`, s.points.length);
      }
      checkZoom();
      probe.compareMax = Math.max(probe.compareMax, ts.compare.pointCount());
    });
    ts.events.addEventListener('render', () => {
      const chart = window.Chart.getChart(document.getElementById('loss-chart'));
      if (!chart) return;  // made with the first series drawn
      ++probe.chartChecks;
      for (const d of chart.data.datasets) {
        probe.chartMax = Math.max(probe.chartMax, d.data.length);
        note(`chart ${d.seriesKey}`, d.data.length);
      }
    });
    window.__longSession = probe;
  });
}

function readProbe(page) {
  return page.evaluate(() => {
    const { lastSeq, ...counts } = window.__longSession;
    const ts = window.trainscope;
    const series = [...ts.store.series.values()];
    return {
      ...counts,
      minSeq: Number.isFinite(counts.minSeq) ? counts.minSeq : null,
      series: series.length,
      zoomHeld: ts.zoom.pointCount(),
      // Every re-bucketing (and snapshot merge) bumps a series' epoch.
      epochs: series.map((s) => s.epoch),
      lastSteps: window.Chart.getChart(document.getElementById('loss-chart')).data.datasets
        .map((d) => (d.data.length ? d.data[d.data.length - 1].x : null)),
    };
  });
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const mb = (bytes) => `${(bytes / 1048576).toFixed(2)} MB`;

test(`a ${TOTAL.toLocaleString('en')}-point session keeps the page's points and heap bounded`, async () => {
  // Three of the eight series drawn, the rest held (hidden datasets are updated too).
  const page = await h.openPage(browser, agent.pageUrl(`/?metrics=t0/m0,t0/m1,t1/m0`));
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  await installProbe(page);
  const cdp = await h.cdpSession(page);
  await cdp.send('Performance.enable');
  const domCounts = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const get = (name) => metrics.find((m) => m.name === name).value;
    return { nodes: get('Nodes'), listeners: get('JSEventListeners') };
  };

  const trainer = await h.startProducer(agent, {
    steps: STEPS, rate: RATE, name: 'long-session', lossOnly: false,
    extra: ['--threads', String(THREADS), '--metrics', String(METRICS)],
  });
  await h.waitForRunLoaded(page, trainer.sessionId, 20000);

  const samples = [];  // {points: live points received, used: heap bytes after GC}
  let domWarm = null;
  const sample = async () => {
    const heap = await h.heapAfterGc(page);
    const probe = await readProbe(page);
    samples.push({ points: probe.liveDistinct, used: heap.usedSize });
    if (!domWarm && probe.liveDistinct >= WARM_UP * TOTAL) domWarm = await domCounts();
    return probe;
  };
  // The middle third of the run is watched zoomed in on the live edge (as after panning past
  // the newest step): the zoom detail fetches the range (at most CAP points), adds the pushed
  // points it lacks, then takes in every pushed point inside the range, so it must bound itself
  // like the store does. The range is fetched again at every sample while zoomed.
  let zoomedAt = null;
  let unzoomedAt = null;
  const unzoom = async () => {
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.getElementById('app').dataset.drawnZoom === 'none');
    unzoomedAt = (await readProbe(page)).liveDistinct;
  };
  while (trainer.process.exitCode === null) {
    await h.sleep(SAMPLE_EVERY_MS);
    const probe = await sample();
    if (zoomedAt === null && probe.liveDistinct >= TOTAL / 3) {
      zoomedAt = probe.liveDistinct;
      await page.evaluate((future) => {
        const chart = window.Chart.getChart(document.getElementById('loss-chart'));
        const last = chart.scales.x.max;
        chart.zoomScale('x', { min: last - 2000, max: last + future }, 'none');
        chart.options.plugins.zoom.zoom.onZoomComplete({ chart });  // as at the end of a gesture
      }, STEPS);
      await page.waitForFunction(() => document.getElementById('app').dataset.drawnZoom === 'detail');
    } else if (zoomedAt !== null && unzoomedAt === null && probe.liveDistinct >= (2 * TOTAL) / 3) {
      await unzoom();
    } else if (zoomedAt !== null && unzoomedAt === null) {
      // The same range again (another gesture's end): the detail is fetched anew and replaced.
      await page.evaluate(() => {
        const chart = window.Chart.getChart(document.getElementById('loss-chart'));
        chart.options.plugins.zoom.zoom.onZoomComplete({ chart });
      });
    }
  }
  if (zoomedAt !== null && unzoomedAt === null) await unzoom();
  assert.equal(await trainer.done, 0, 'the trainer dropped records: the run is not what the test assumes');

  // The page caught up: it received every point pushed after it subscribed, the newest one is
  // the trainer's last, and every chart dataset ends at the trainer's last step.
  await page.waitForFunction(({ total, last }) => {
    const p = window.__longSession;
    const chart = window.Chart.getChart(document.getElementById('loss-chart'));
    return p.maxSeq === total && chart.data.datasets.length > 0 &&
      chart.data.datasets.every((d) => d.data.length && d.data[d.data.length - 1].x === last);
  }, { total: TOTAL, last: STEPS - 1 }, { timeout: 30000, polling: 250 });
  const end = await sample();
  await sample();
  const domEnd = await domCounts();

  const used = samples.map((s) => s.used);
  const warm = samples.filter((s) => s.points >= WARM_UP * TOTAL);
  const third = Math.floor(warm.length / 3);
  const first = warm.slice(0, third).map((s) => s.used);
  const lastThird = warm.slice(-third).map((s) => s.used);
  const perPoint = h.theilSenSlope(warm.map((s) => s.points), warm.map((s) => s.used));
  const report = `heap after GC: ${samples.map((s) => `${Math.round(s.points / 1000)}k:${mb(s.used)}`).join(' ')}; ` +
    `slope ${mb(perPoint * 1e5)} per 100k points; medians first/last third ${mb(median(first))} / ${mb(median(lastThird))}; ` +
    `store checks ${end.storeChecks} (max ${end.storeMax}), chart checks ${end.chartChecks} (max ${end.chartMax}), ` +
    `zoom max ${end.zoomMax} to step ${end.zoomLastStep} (zoomed ${zoomedAt}-${unzoomedAt} points); ` +
    `epochs ${end.epochs.join(',')}; DOM ${JSON.stringify(domWarm)} -> ${JSON.stringify(domEnd)}; ` +
    `load average ${require('node:os').loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  console.log(`# ${report}`);

  // Not vacuous: the points arrived, and the store re-bucketed every series many times.
  assert.equal(end.series, SERIES);
  assert.equal(end.maxSeq, TOTAL, 'the newest point received is the trainer\'s last');
  assert.equal(end.liveDistinct, end.maxSeq - end.minSeq + 1, 'points pushed after the subscription went missing');
  assert.ok(end.minSeq <= 0.1 * TOTAL, `the page subscribed late (first live seq ${end.minSeq}): most points came from REST`);
  assert.deepEqual(end.lastSteps, Array(SERIES).fill(STEPS - 1));
  // A re-bucketing takes the series from CAP+1 points to about 3/4 CAP: one per ~CAP/4 points.
  const minCycles = Math.floor((STEPS * (1 - 0.1)) / (CAP / 4) / 2);
  for (const e of end.epochs) assert.ok(e >= minCycles, `a series was re-bucketed only ${e} times (expected >= ${minCycles})`);
  assert.ok(warm.length >= 6, `only ${warm.length} heap samples after warm-up: ${report}`);
  assert.ok(end.storeChecks >= 1000 && end.chartChecks >= 50, `too few checks: ${report}`);

  // The cap: series_store.js keeps points.length <= cap after every public call (decimate()
  // thins to exactly cap in the worst case), and the chart mirrors the store, so both <= CAP.
  assert.equal(end.cap, CAP);
  assert.deepEqual(end.over, [], `more than ${CAP} points held`);
  assert.ok(end.storeMax <= CAP && end.chartMax <= CAP, report);
  assert.ok(end.storeMax > CAP * 0.9, `the store never filled up to its cap (max ${end.storeMax})`);
  // The zoom detail was live (it followed the stream well past its REST fetch) and bounded,
  // and let go of everything when the zoom was reset.
  assert.ok(zoomedAt !== null, 'the run ended before the page was zoomed');
  assert.ok(end.zoomLastStep >= (unzoomedAt / SERIES) * 0.9,
    `the zoom detail stopped at step ${end.zoomLastStep}; unzoomed at ~${Math.round(unzoomedAt / SERIES)}`);
  assert.ok(end.zoomMax <= CAP && end.zoomMax > CAP * 0.9, `zoom detail held at most ${end.zoomMax} points per series`);
  assert.equal(end.zoomHeld, 0, 'the zoom detail kept points after the zoom was reset');
  assert.equal(end.compareMax, 0, 'compared runs held points in a single-run page');

  // The heap: no growth trend once warm.
  assert.ok(perPoint * 1e5 <= MAX_SLOPE_PER_100K, `the heap grows ${mb(perPoint * 1e5)} per 100k points: ${report}`);
  assert.ok(median(lastThird) - median(first) <= MAX_THIRDS_GROWTH, `the heap grew from the first to the last third: ${report}`);
  assert.ok(Math.max(...used) < 64 << 20, `the heap reached ${mb(Math.max(...used))}: ${report}`);
  // DOM nodes and listeners: nothing accumulates per message either (alert banners, rows).
  assert.ok(domEnd.nodes - domWarm.nodes <= 200, `DOM nodes grew: ${report}`);
  assert.ok(domEnd.listeners - domWarm.listeners <= 50, `event listeners grew: ${report}`);
  assert.deepEqual(page.errors, []);
});
