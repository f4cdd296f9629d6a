#!/usr/bin/env node
// Page memory over a long session: a trainer streams a 1,000,000-point run into the dashboard
// (headless chromium) and the page's JS heap is measured after a full garbage collection
// (CDP HeapProfiler.collectGarbage, then Runtime.getHeapUsage): at the start (page loaded, run
// subscribed), at 250k / 500k / 750k / 1M points received, its peak and its final value, and
// the growth per 100,000 points (Theil-Sen slope over every sample past the first 10 % of
// the run). The page keeps at most max_points (default 1000) points per series, so the heap
// should not grow with the run's length. Also reported: the points the chart holds and the
// points/s the page actually received.
//
//   node bench/heap_session.js [--points 1000000] [--rate 50000] [--series 8] [--sample-ms 1000]
//                              [--max-points N]
//   TRAINSCOPE_BUILD_DIR=<build tree with bin/trainscope-agent, bin/ts-producer>
//
// --rate is points/s over all series (2 trainer threads, --series/2 metrics each). Trainer,
// agent and browser share the machine: the load average is printed, figures are upper bounds.
'use strict';

const os = require('node:os');
const path = require('node:path');
const h = require(path.join(__dirname, '..', 'tests', 'browser', 'harness.js'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const MB = 1048576;
const mb = (bytes) => (Number.isFinite(bytes) ? (bytes / MB).toFixed(2) : 'n/a');

/** Counts in the page: live points received (each once, by seq), first and last arrival. */
function installProbe(page) {
  return page.evaluate(() => {
    const ts = window.trainscope;
    const probe = { received: 0, maxSeq: 0, firstAt: null, lastAt: null, lastSeq: new Map() };
    ts.socket.addEventListener('message', (e) => {
      const m = e.detail;
      if (m.type !== 'training_update' || !ts.run || m.session_id !== ts.run.session_id) return;
      const key = `${m.metric}@${m.rank}`;
      let last = probe.lastSeq.get(key) || 0;
      let n = 0;
      for (const p of m.points) {
        if (p[3] <= last) continue;
        last = p[3];
        ++n;
        if (p[3] > probe.maxSeq) probe.maxSeq = p[3];
      }
      probe.lastSeq.set(key, last);
      if (!n) return;
      probe.received += n;
      const now = performance.now();
      if (probe.firstAt === null) probe.firstAt = now;
      probe.lastAt = now;
    });
    window.__heapBench = probe;
  });
}

function readProbe(page) {
  return page.evaluate(() => {
    const { lastSeq, ...counts } = window.__heapBench;
    const chart = window.Chart.getChart(document.getElementById('loss-chart'));
    const lengths = chart ? chart.data.datasets.map((d) => d.data.length) : [];
    return {
      ...counts,
      chartPoints: lengths.reduce((a, b) => a + b, 0),
      chartMaxPerSeries: Math.max(0, ...lengths),
      storePoints: window.trainscope.store.totalPoints(),
      lastSteps: chart ? chart.data.datasets.map((d) => (d.data.length ? d.data[d.data.length - 1].x : null)) : [],
    };
  });
}

async function main() {
  const total = arg('points', 1000000);
  const rate = arg('rate', 50000);
  const series = Math.max(2, Math.round(arg('series', 8) / 2) * 2);
  const sampleMs = arg('sample-ms', 1000);
  const maxPoints = arg('max-points', null);
  const threads = 2;
  const metrics = series / threads;
  const steps = Math.ceil(total / series);
  const points = steps * series;
  const milestones = [0.25, 0.5, 0.75, 1].map((f) => Math.round(f * points));

  const loadStart = os.loadavg();
  const agent = await h.startAgent();
  const browser = await h.launchBrowser();
  const samples = [];  // {at: s since start, received, used (after GC), before (used before the GC)}
  let result;
  let idle = NaN;  // the page loaded, no run yet
  try {
    const query = new URLSearchParams({ metrics: 't0/m0,t0/m1,t1/m0' });
    if (maxPoints) query.set('max_points', String(maxPoints));
    const page = await h.openPage(browser, agent.pageUrl(`/?${query}`));
    await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
    await installProbe(page);
    const cdp = await h.cdpSession(page);
    const t0 = Date.now();
    idle = (await h.heapAfterGc(page)).usedSize;
    const sample = async () => {
      const { usedSize: before } = await cdp.send('Runtime.getHeapUsage');
      const { usedSize: used } = await h.heapAfterGc(page);
      const probe = await readProbe(page);
      samples.push({ at: (Date.now() - t0) / 1000, received: probe.received, seq: probe.maxSeq, used, before });
      return probe;
    };

    const trainer = await h.startProducer(agent, {
      steps, rate: rate / series, name: 'heap-session', lossOnly: false,
      extra: ['--threads', String(threads), '--metrics', String(metrics)],
    });
    await h.waitForRunLoaded(page, trainer.sessionId, 30000);
    await sample();
    let running = true;
    trainer.process.exited.then(() => { running = false; });
    // A sample every sampleMs, and one as soon as the page holds each milestone's point.
    let due = Date.now() + sampleMs;
    let milestone = 0;
    while (running) {
      await h.sleep(100);
      const seq = await page.evaluate(() => window.__heapBench.maxSeq);
      const crossed = milestone < milestones.length - 1 && seq >= milestones[milestone];
      if (!crossed && Date.now() < due) continue;
      if (crossed) ++milestone;
      due = Date.now() + sampleMs;
      const probe = await sample();
      if (process.stderr.isTTY) process.stderr.write(`\r${(probe.maxSeq / 1000).toFixed(0)}k points in, heap ${mb(samples.at(-1).used)} MB   `);
    }
    const dropped = await trainer.done;
    // Caught up: the newest point received is the run's last (nothing was lost on the way).
    await page.waitForFunction((last) => window.__heapBench.maxSeq >= last, points, { timeout: 120000, polling: 250 });
    const end = await sample();
    if (process.stderr.isTTY) process.stderr.write('\n');
    const run = await agent.run(trainer.sessionId);
    result = { end, dropped, run };
  } finally {
    await browser.close();
    await h.stopAll();
  }
  const loadEnd = os.loadavg();

  // Figures.
  const { end, dropped } = result;
  // Positions in the run are the newest point the page holds (its seq: points streamed so far).
  const atMilestone = milestones.map((m) => samples.find((s) => s.seq >= m) || null);
  const warm = samples.filter((s) => s.seq >= 0.1 * points);
  const perPoint = h.theilSenSlope(warm.map((s) => s.seq), warm.map((s) => s.used));
  const peak = samples.reduce((a, s) => (s.used > a.used ? s : a), samples[0]);
  const peakBefore = Math.max(...samples.map((s) => s.before));
  const final = samples[samples.length - 1];
  const seconds = (end.lastAt - end.firstAt) / 1000;
  const delivered = end.received / seconds;

  const cpu = os.cpus();
  const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`page heap over a long session: ${points.toLocaleString('en')} points (${series} series x ` +
    `${steps.toLocaleString('en')} steps) at ${rate.toLocaleString('en')} points/s asked, ` +
    `cap ${maxPoints || 1000} points per series, 3 series drawn`);
  console.log(`machine: ${cpu.length} x ${cpu[0] ? cpu[0].model.trim() : '?'}; load average ${la(loadStart)} at start, ` +
    `${la(loadEnd)} at end; trainer, agent and chromium on the same machine; trainer dropped ${dropped} records`);
  console.log('');
  const row = (what, s, extra = '') => console.log(`  ${what.padEnd(28)}${(s ? `${mb(s.used)} MB` : 'n/a').padStart(10)}` +
    `${(s ? `${(s.seq / 1000).toFixed(0)}k pts` : '').padStart(12)}${(s ? `${s.at.toFixed(0)} s` : '').padStart(8)}  ${extra}`);
  console.log(`  ${'JS heap after GC'.padEnd(28)}${'heap'.padStart(10)}${'run at'.padStart(12)}${'time'.padStart(8)}`);
  console.log(`  ${'page loaded, no run yet'.padEnd(28)}${`${mb(idle)} MB`.padStart(10)}`);
  row('start (run loaded, live)', samples[0]);
  milestones.forEach((m, i) => row(`at ${(m / 1000).toFixed(0)}k points`, atMilestone[i], atMilestone[i] ? '(first sample past it)' : ''));
  row('peak', peak);
  row('final (caught up)', final);
  console.log('');
  console.log(`  growth per 100k points (Theil-Sen slope past 10 %): ${(perPoint * 1e5 / 1024).toFixed(1)} KB`);
  console.log(`  peak used heap before a GC: ${mb(peakBefore)} MB (garbage between samples)`);
  console.log(`  points held at the end: chart ${end.chartPoints} (at most ${end.chartMaxPerSeries} per series), store ${end.storePoints}`);
  console.log(`  delivered: ${end.received.toLocaleString('en')} points live in ${seconds.toFixed(1)} s = ` +
    `${Math.round(delivered).toLocaleString('en')} points/s; last steps shown ${[...new Set(end.lastSteps)].join(',')} (run's last ${steps - 1})`);
  console.log(`  heap samples: ${samples.length}, every ~${sampleMs} ms`);
  console.log('');
  const R = (key, value) => console.log(`RESULT ${key} ${value}`);
  R('heap_idle_mb', mb(idle));
  R('heap_start_mb', mb(samples[0].used));
  milestones.forEach((m, i) => R(`heap_${Math.round(m / 1000)}k_mb`, atMilestone[i] ? mb(atMilestone[i].used) : 'n/a'));
  R('heap_peak_mb', mb(peak.used));
  R('heap_final_mb', mb(final.used));
  R('heap_peak_before_gc_mb', mb(peakBefore));
  R('heap_growth_kb_per_100k', (perPoint * 1e5 / 1024).toFixed(1));
  R('chart_points_held', end.chartPoints);
  R('chart_max_points_per_series', end.chartMaxPerSeries);
  R('delivered_pps', Math.round(delivered));
  R('points_received', end.received);
  R('trainer_dropped', dropped);
  R('load_end', loadEnd[0].toFixed(2));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
