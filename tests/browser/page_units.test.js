// Unit tests of the page's pure modules, run in node (no browser, no agent): the series
// store (merge, dedupe by seq, the decimation bound), the reconnect backoff, formatting, and
// the page's own CSV (formula-like text guarded), smoothing, the first load's order.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { requireWeb, webDir } = require('./harness');

const webModule = (name) => import(pathToFileURL(path.join(webDir, 'static', 'js', name)).href);
const load = () => webModule('series_store.js');

const pt = (step, value, seq, t = 1000 + step) => [step, t, value, seq];

test('live points are deduplicated by seq (a replay after reconnect adds nothing)', async () => {
  const { Series } = await load();
  const s = new Series('train/loss', 0, 1000);
  assert.equal(s.applyLive([pt(0, 1, 1), pt(1, 2, 3), pt(2, 3, 5)]), 3);
  assert.equal(s.applyLive([pt(1, 2, 3), pt(2, 3, 5), pt(3, 4, 7)]), 1);
  assert.deepEqual(s.points.map((p) => p.x), [0, 1, 2, 3]);
  assert.equal(s.lastSeq, 7);
});

test('a REST snapshot replaces what it covers and keeps newer pushed points', async () => {
  const { Series } = await load();
  const s = new Series('train/loss', 0, 1000);
  s.applyLive([pt(5, 0.5, 11), pt(6, 0.6, 12), pt(7, 0.7, 14)]);
  // The snapshot holds steps 0..6 and was taken at run seq 12.
  s.mergeSnapshot([0, 1, 2, 3, 4, 5, 6].map((x) => [x, 1000 + x, x / 10]), 12);
  assert.deepEqual(s.points.map((p) => p.x), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(s.lastSeq, 14);
  // Pushed points the snapshot already holds are ignored.
  assert.equal(s.applyLive([pt(6, 0.6, 12)]), 0);
  assert.equal(s.applyLive([pt(8, 0.8, 15)]), 1);
  assert.equal(s.points.length, 9);
});

test('decimation keeps at most cap points, both ends, the newest at full resolution, and spikes', async () => {
  const { Series } = await load();
  const cap = 1000;
  const s = new Series('train/loss', 0, cap);
  let seq = 0;
  for (let step = 0; step < 50000; step += 100) {
    const batch = [];
    for (let k = step; k < step + 100; ++k) batch.push(pt(k, k === 12345 ? 99 : Math.sin(k / 10), ++seq));
    s.applyLive(batch);
    assert.ok(s.points.length <= cap, `${s.points.length} points after step ${step}`);
  }
  const xs = s.points.map((p) => p.x);
  assert.equal(xs[0], 0);
  assert.equal(xs[xs.length - 1], 49999);
  for (let i = 1; i < xs.length; ++i) assert.ok(xs[i] > xs[i - 1]);
  const tail = xs.filter((x) => x >= 49999 - cap / 4);
  assert.equal(tail.length, cap / 4 + 1, 'the newest quarter of the budget is at full resolution');
  assert.ok(s.points.some((p) => p.y === 99), 'the spike at step 12345 survived');
});

test('NaN/Inf (null) points survive decimation', async () => {
  const { decimate } = await load();
  const points = [];
  for (let x = 0; x < 5000; ++x) points.push({ x, y: x === 777 ? null : 1, t: x, seq: x + 1 });
  const out = decimate(points, 100);
  assert.ok(out.length <= 100);
  assert.ok(out.some((p) => p.y === null && p.x === 777));
});

test('reconnect backoff: 0.5 s doubling to a 30 s cap, within ±30 % jitter', async () => {
  const { backoffDelay, BACKOFF } = await webModule('live_socket.js');
  assert.deepEqual([0, 1, 2, 3, 6, 7, 20].map((a) => backoffDelay(a, () => 0.5)),
    [500, 1000, 2000, 4000, 30000, 30000, 30000]);
  assert.equal(backoffDelay(0, () => 0), 500 * (1 - BACKOFF.jitter));
  assert.equal(backoffDelay(10, () => 0.999999), Math.round(30000 * (1 + BACKOFF.jitter * 0.999998)));
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3)));
  assert.ok(spread.size > 10, 'jitter spreads the retries');
  for (const d of spread) assert.ok(d >= 2800 && d <= 5200, `delay ${d}`);
});

test('formatting: 4 significant digits, h:mm:ss elapsed, NaN/Inf', async () => {
  const f = await webModule('format.js');
  assert.equal(f.formatValue(2.345678), '2.346');
  assert.equal(f.formatValue(0.30000001), '0.3000');
  assert.equal(f.formatValue(0.000123456), '0.0001235');
  assert.equal(f.formatValue(123456), '1.235e+5');
  assert.equal(f.formatValue(null), 'NaN/Inf');
  assert.equal(f.formatElapsed(0), '0:00:00');
  assert.equal(f.formatElapsed(59999), '0:00:59');
  assert.equal(f.formatElapsed(3600000 + 61000), '1:01:01');
  assert.equal(f.formatElapsed(-5), '0:00:00');
  assert.equal(f.formatElapsed(30 * 3600000), '30:00:00');
  assert.match(f.formatTimestamp(Date.UTC(2025, 0, 31, 12, 3, 4, 5)), /^2025-01-3\d \d\d:03:04\.005$/);
  assert.equal(f.formatCount(1234567), '1,234,567');
});

test('a snapshot logged out of step order is held sorted by step', async () => {
  const { Series } = await load();
  const s = new Series('train/loss', 0, 1000);
  // A trainer that resumed from a checkpoint at step 3 after reaching step 5.
  s.mergeSnapshot([[0, 1, 1], [1, 2, 1], [2, 3, 1], [3, 4, 1], [4, 5, 1], [5, 6, 1], [3, 7, 2], [4, 8, 2]], 8);
  assert.deepEqual(s.points.map((p) => p.x), [0, 1, 2, 3, 3, 4, 4, 5]);
  assert.deepEqual(s.points.map((p) => p.t), [1, 2, 3, 4, 7, 5, 8, 6]);
});

test('zoom detail: a full REST answer plus newer live points stays within the budget', async () => {
  const { Series } = await load();
  const { ZoomDetail } = await webModule('zoom_detail.js');
  const cap = 100;
  const s = new Series('train/loss', 0, 1000);
  s.applyLive(Array.from({ length: 40 }, (_, i) => pt(1000 + i, i, 2001 + i)));
  // The range holds more points than the budget: the agent answers with `cap` of them, at
  // seq 2000; the 40 pushed since lie in the range too.
  const rest = Array.from({ length: cap }, (_, i) => [i * 10, 0, i]);
  const detail = new ZoomDetail(async () => ({ points: rest, seq: 2000, downsampled: true }), cap, () => {});
  detail.range = { from: 0, to: 5000 };
  await detail.load([s]);
  const held = detail.data().points.get(s.key);
  assert.ok(held.length <= cap, `${held.length} points held for a budget of ${cap}`);
  assert.equal(held[held.length - 1].x, 1039, 'the newest pushed point is kept');
  assert.equal(held[0].x, 0, 'the first point of the range is kept');
});

test('the page\'s CSV guards text cells a spreadsheet would run as formulas; values stay numbers', async () => {
  const { seriesCsv, csvText } = await webModule('export_files.js');
  for (const [raw, cell] of [['=1+2', "'=1+2"], ['+cmd', "'+cmd"], ['-x', "'-x"], ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"], ['\r=1', `"'\r=1"`], ['=A1,"B"', `"'=A1,""B"""`], ['plain-name', 'plain-name'],
    ['train/loss', 'train/loss'], ['', '']]) assert.equal(csvText(raw), cell, JSON.stringify(raw));

  const t = Date.UTC(2025, 0, 31, 14, 3, 22, 125);
  const { blob } = seriesCsv('-S1', [
    { metric: '=1+2', rank: 0, points: [{ x: 0, y: -1.5, t }, { x: 1, y: null, t }, { x: 2, y: -3e-7, t }] },
    { metric: 'a-b', rank: 1, points: [{ x: 5, y: -2, t }] },
  ]);
  const lines = (await blob.text()).split('\n');
  assert.deepEqual(lines.slice(1), [
    "'-S1,'=1+2,0,2025-01-31T14:03:22.125Z,-1.5,0",
    "'-S1,'=1+2,1,2025-01-31T14:03:22.125Z,,0",
    "'-S1,'=1+2,2,2025-01-31T14:03:22.125Z,-3e-7,0",
    "'-S1,a-b,5,2025-01-31T14:03:22.125Z,-2,1",
    '',
  ]);
});

test('smoothing: the debiased EMA (first value kept, constant series unchanged), NaN passes through, 0 is off', async () => {
  const { smoothPoints, parseSmoothing } = await webModule('smoothing.js');
  const ys = (points) => points.map((p) => p.y);
  // Debiased: the first smoothed value is the first value itself, and a constant stays constant.
  assert.deepEqual(ys(smoothPoints([{ x: 0, y: 3 }, { x: 1, y: 3 }, { x: 2, y: 3 }], 0.9)).map((v) => +v.toFixed(12)), [3, 3, 3]);
  const s = smoothPoints([{ x: 0, y: 1 }, { x: 1, y: 0 }], 0.5);
  assert.equal(s[0].y, 1);
  assert.ok(Math.abs(s[1].y - (0.5 * 0.5 * 1 + 0.5 * 0) / 0.75) < 1e-12);  // (w(1-w)·1 + (1-w)·0) / (1 - w²)
  assert.deepEqual(s.map((p) => p.rawY), [1, 0]);
  // NaN (null) is drawn as NaN and does not poison the average after it.
  const n = smoothPoints([{ x: 0, y: 2 }, { x: 1, y: null }, { x: 2, y: 2 }], 0.6);
  assert.equal(n[1].y, null);
  assert.ok(Math.abs(n[2].y - 2) < 1e-12);
  assert.deepEqual(ys(smoothPoints([{ x: 0, y: 1 }, { x: 1, y: 5 }], 0)), [1, 5]);
  assert.equal(parseSmoothing('0.95'), 0.95);
  assert.equal(parseSmoothing('1'), 0.999);
  assert.equal(parseSmoothing('-1'), null);
  assert.equal(parseSmoothing('x'), null);
  assert.equal(parseSmoothing(''), null);
});

test('x axis: modes parsed, durations and clock labels, round time ticks, a time range mapped to steps', async () => {
  const x = await webModule('x_axis.js');
  assert.equal(x.parseXAxis('Relative'), 'relative');
  assert.equal(x.parseXAxis('time'), null);
  assert.equal(x.formatDuration(0), '0:00:00');
  assert.equal(x.formatDuration(30000), '0:00:30');
  assert.equal(x.formatDuration(3723000), '1:02:03');
  assert.equal(x.formatDuration(1500, 500), '0:00:01.5');
  assert.equal(x.formatDuration((3 * 24 + 4) * 3600000), '3d 4h');
  assert.equal(x.formatDuration(-30000), '-0:00:30');
  const noon = new Date(2026, 11, 5, 12, 0, 0).getTime();
  assert.equal(x.formatClock(noon + 30000, { step: 10000 }), '12:00:30');
  assert.equal(x.formatClock(noon, { step: 3600000, withDate: true }), 'Dec 5 12:00');
  assert.equal(x.spansDays(noon, noon + 86400000), true);
  assert.equal(x.spansDays(noon, noon + 3600000), false);
  // Relative ticks: whole 30 s over 5 minutes; wall ticks on whole local minutes.
  const rel = x.timeTicks(0, 300000, 'relative', 10);
  assert.equal(rel.step, 30000);
  assert.deepEqual(rel.values.slice(0, 3), [0, 30000, 60000]);
  const wall = x.timeTicks(noon + 7000, noon + 3 * 3600000, 'wall', 8);
  assert.equal(wall.step, 30 * 60000);
  assert.ok(wall.values.every((v) => new Date(v).getMinutes() % 30 === 0 && new Date(v).getSeconds() === 0));
  // Points of a run 1 step per 10 ms, held decimated, plus a sparse validation series.
  const points = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((s) => ({ x: s, t: 5000 + s * 10, y: 1 }));
  const val = [0, 50].map((s) => ({ x: s, t: 5000 + s * 10, y: 1 }));
  assert.equal(x.originOf([{ points }, { points: val }]), 5000);
  // 300-500 ms after the first point: steps 30-50 held inside, 20 and 60 around them.
  assert.deepEqual(x.stepRangeForTimes({ from: 300, to: 500 }, [{ points: val }, { points }], 'relative', 5000),
    { from: 20, to: 60 });
  // Between two held points.
  assert.deepEqual(x.stepRangeForTimes({ from: 5312, to: 5318 }, [{ points }], 'wall', 0), { from: 30, to: 40 });
  const mapped = x.mapPoints([{ x: 7, t: 9000, y: 2, seq: 3 }, { x: 8, t: 8000, y: 1, seq: 4 }], 'relative', 8000);
  assert.deepEqual(mapped.map((p) => [p.x, p.step]), [[0, 8], [1000, 7]], 'sorted by time, each keeps its step');
});

test('axis labels: the digits Chart.js\'s own numeric and log formatters write (en-US), without Intl', async () => {
  const { numericTick, logTick } = await webModule('axis_ticks.js');
  const { Ticks } = requireWeb('chart.js');
  const scale = { chart: { options: { locale: 'en-US' } }, options: { ticks: { format: {} } } };
  const chartNumeric = (v, i, ticks) => Ticks.formatters.numeric.call(scale, v, i, ticks);
  const chartLog = (v, i, ticks) => Ticks.formatters.logarithmic.call(scale, v, i, ticks);
  // Tick sets as axes make them: a round start and spacing over many magnitudes, negative
  // ranges, a zoomed axis's off-grid ends, scientific ranges (>1e15, <1e-4).
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const sets = [[0], [0, 1], [1234567, 1234568], [-0.0001, 0.0099, 0.0199], [2.5e16, 5e16, 7.5e16], [3e-5, 6e-5, 9e-5]];
  for (let i = 0; i < 400; ++i) {
    const spacing = [1, 2, 2.5, 5][i % 4] * 10 ** (Math.floor(random() * 24) - 10);
    const start = Math.round((random() - 0.5) * 20) * spacing;
    const values = Array.from({ length: 2 + Math.floor(random() * 9) }, (_, k) => start + k * spacing);
    if (i % 5 === 0) values.push(values[values.length - 1] + spacing * random());  // an off-grid end
    sets.push(values);
  }
  let checked = 0;
  for (const values of sets) {
    const ticks = values.map((value) => ({ value }));
    ticks.forEach(({ value }, i) => {
      assert.equal(numericTick(value, ticks), chartNumeric(value, i, ticks), `linear ${value} among ${values}`);
      ++checked;
    });
  }
  const decades = [0.1, 0.2, 0.3, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30, 40, 50, 100, 1000, 2e6].map((value) => ({ value }));
  decades.forEach(({ value }, i) => assert.equal(logTick(value, i, decades), chartLog(value, i, decades), `log ${value}`));
  assert.ok(checked > 1500);
});

test('first load: the series a run shows by default load first; plugin series only at rank 0', async () => {
  const { shownByDefault, snapshotJobs } = await webModule('first_load.js');
  const metrics = ['lr', 'train/loss', 'system/cpu_percent', 'val/loss', 'trend/slope'];
  assert.deepEqual(metrics.filter((m) => shownByDefault(m, metrics)), ['train/loss', 'val/loss']);
  assert.deepEqual(metrics.filter((m) => shownByDefault(m, metrics, ['lr'])), ['lr'], '?metrics= decides');
  // No loss at all: the first series that is not the system plugin's.
  assert.deepEqual(['system/cpu_percent', 'acc', 'lr'].filter((m, _, all) => shownByDefault(m, all)), ['acc']);

  const run = { metrics, ranks: [0, 1] };
  const jobs = snapshotJobs(run, new Set(['trend', 'system']));
  assert.deepEqual(jobs.map((j) => `${j.metric}@${j.rank}${j.shown ? '*' : ''}`), [
    'train/loss@0*', 'train/loss@1*', 'val/loss@0*', 'val/loss@1*',
    'lr@0', 'lr@1', 'system/cpu_percent@0', 'trend/slope@0',
  ]);
  // A run that reported no ranks yet is rank 0.
  assert.deepEqual(snapshotJobs({ metrics: ['train/loss'] }, new Set()).map((j) => j.rank), [0]);
});

test('first load: the run and series the agent put in the page are taken when they are this page\'s', async () => {
  const { embeddedFirstLoad, startFirstLoad } = await webModule('first_load.js');
  const run = { session_id: 'R1', metrics: ['train/loss', 'val/loss', 'lr'], ranks: [0] };
  const answer = { session_id: 'R1', metric: 'train/loss', points: [[0, 1, 2.5]], rank: 0, seq: 5 };
  const embedded = { run_id: 'R1', max_points: 1000, run, series: [{ metric: 'train/loss', rank: 0, answer }] };
  // There is no agent here: whatever is asked for fails (a network error).
  const load = startFirstLoad({ runId: 'R1', maxPoints: 1000 }, embedded);
  assert.equal(await load.takeRun('R1'), run);
  assert.equal(await load.takeSeries('R1', 'train/loss', 0), answer);
  assert.equal(load.takeSeries('R1', 'train/loss', 0), null, 'taken once');
  await load.run;
  await assert.rejects(load.takeSeries('R1', 'val/loss', 0) || Promise.resolve('not asked'), /network error/,
    'a series shown by default that the page does not carry is asked for');
  assert.equal(load.takeSeries('R1', 'lr', 0), null, 'not shown by default: left to main.js');
  // Another max_points: the run is taken, its series asked for.
  const other = startFirstLoad({ runId: 'R1', maxPoints: 500 }, embedded);
  assert.equal(await other.takeRun('R1'), run);
  await assert.rejects(other.takeSeries('R1', 'train/loss', 0), /network error/);
  // Made for ?run=R1: not for a page showing R2, nor one following the newest run.
  assert.equal(await startFirstLoad({ runId: 'R2', maxPoints: 1000 }, embedded).takeRun('R2'), null);
  assert.equal(await startFirstLoad({ maxPoints: 1000 }, embedded).run, null);
  assert.equal(await startFirstLoad({ maxPoints: 1000 }, { ...embedded, run_id: null }).run, run, 'the newest run');

  // Read from the page once, then gone from it; malformed text is no first load.
  const page = (text) => {
    const el = { textContent: text, removed: false, remove() { this.removed = true; } };
    return { el, doc: { getElementById: (id) => (id === 'trainscope-first-load' ? el : null) } };
  };
  const good = page(JSON.stringify(embedded));
  assert.deepEqual(embeddedFirstLoad(good.doc), embedded);
  assert.equal(good.el.removed, true);
  assert.equal(embeddedFirstLoad(page('{"run": ').doc), null);
  assert.equal(embeddedFirstLoad({ getElementById: () => null }), null);
});
