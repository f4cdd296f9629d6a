// X axis (issue 16): step (default), wall time, or time relative to the run's first point.
// Two real trainers whose points lie 30 s apart (the earlier one stamps its points 30 s back
// through Metric::log_at, ts-producer --time_shift_ms: no test waits 30 s), overlaid: in
// wall time they sit 30 s apart, in relative time both start at 0. The x values are the
// REST points' steps, times, and times since the first point; ticks read as clock times or
// h:mm:ss; the tooltip shows the axis value; markers, zoom detail, smoothing and exports
// follow the axis; the choice survives a reload and travels in a copied link.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const h = require('./harness');

let agent;
let browser;
h.useAgentAndBrowser((a, b) => {
  agent = a;
  browser = b;
});

const SHIFT_MS = 30000;

/** Runs a trainer to its end; resolves to its session id once the agent saw it finish. */
async function finishedRun(options) {
  const trainer = await h.startProducer(agent, options);
  await trainer.done;
  await agent.waitFinished(trainer.sessionId);
  return trainer.sessionId;
}

/** Picks an axis and waits until the chart was redrawn with it (title and points). */
async function setXAxis(page, mode) {
  await page.getByTestId('x-axis').selectOption(mode);
  await page.waitForFunction((m) => {
    const chart = Chart.getChart(document.getElementById('loss-chart'));
    const title = chart.scales.x.options.title.text;
    const titled = m === 'relative' ? /^relative time/.test(title) : title === (m === 'wall' ? 'wall time' : 'step');
    // ... and the points drawn are the mode's: a time axis holds mapped copies ({x, step}).
    const p = chart.data.datasets[0] && chart.data.datasets[0].data[1];
    const mapped = p && (m === 'step' ? p.step === undefined : m === 'wall' ? p.x === p.t : p.step !== undefined && p.x !== p.t);
    return titled && mapped;
  }, mode);
}

/** train/loss of the shown run and of the overlay: [{overlay, smoothed, points: [{x, step, t, y}]}]. */
function lossSets(page) {
  return page.evaluate(() => Chart.getChart(document.getElementById('loss-chart')).data.datasets
    .filter((d) => d.metric === 'train/loss')
    .map((d) => ({ overlay: d.overlay, smoothed: Boolean(d.smoothed), sessionId: d.sessionId,
      points: d.data.map((p) => ({ x: p.x, step: p.step === undefined ? p.x : p.step, t: p.t, y: p.y })) })));
}

/** Waits until the chart draws the compared run's n points (its snapshot merged, then drawn). */
function overlayDrawn(page, n) {
  return page.waitForFunction((count) => Chart.getChart(document.getElementById('loss-chart')).data.datasets
    .some((d) => d.overlay && !d.smoothed && d.data.length === count), n);
}

function axisState(page) {
  return page.evaluate(() => {
    const x = Chart.getChart(document.getElementById('loss-chart')).scales.x;
    return { title: x.options.title.text, labels: x.ticks.map((t) => t.label), min: x.min, max: x.max };
  });
}

/** Each REST point [step, t, value] as the chart should draw it in `mode`. */
function expectedX(points, mode) {
  const origin = points[0][1];
  return points.map((p) => (mode === 'step' ? p[0] : mode === 'wall' ? p[1] : p[1] - origin));
}

test('step, wall and relative axes: x values, 30 s apart runs overlaid from 0, ticks, tooltip, reload, link, exports', async () => {
  const early = await finishedRun({ steps: 300, rate: 300, name: 'early', extra: ['--time_shift_ms', String(-SHIFT_MS)] });
  const late = await finishedRun({ steps: 300, rate: 300, name: 'late' });
  const earlyRest = (await agent.series(early, 'train/loss')).points;
  const lateRest = (await agent.series(late, 'train/loss')).points;
  const apart = lateRest[0][1] - earlyRest[0][1];
  assert.ok(apart >= SHIFT_MS && apart < SHIFT_MS + 20000, `the runs' first points are ${apart} ms apart`);

  const page = await h.openPage(browser, agent.pageUrl(`/?run=${late}&compare=${early}`), { contextOptions: { acceptDownloads: true } });
  await h.waitForRunLoaded(page, late);
  await overlayDrawn(page, earlyRest.length);

  // Step, the default: x is the step, for both runs; nothing in the address.
  assert.equal(await page.getByTestId('x-axis').inputValue(), 'step');
  let sets = await lossSets(page);
  const shown = () => sets.find((d) => !d.overlay && !d.smoothed);
  const overlay = () => sets.find((d) => d.overlay && !d.smoothed);
  assert.deepEqual(shown().points.map((p) => p.x), expectedX(lateRest, 'step'));
  assert.deepEqual(overlay().points.map((p) => p.x), expectedX(earlyRest, 'step'));
  assert.equal((await axisState(page)).title, 'step');
  assert.equal(new URL(page.url()).searchParams.get('xaxis'), null);

  // Wall time: x is each point's time; the overlay sits 30 s before the shown run.
  await setXAxis(page, 'wall');
  sets = await lossSets(page);
  assert.deepEqual(shown().points.map((p) => p.x), expectedX(lateRest, 'wall'));
  assert.deepEqual(overlay().points.map((p) => p.x), expectedX(earlyRest, 'wall'));
  assert.deepEqual(shown().points.map((p) => p.step), lateRest.map((p) => p[0]), 'each point keeps its step');
  let axis = await axisState(page);
  assert.equal(axis.title, 'wall time');
  assert.ok(axis.min <= earlyRest[0][1] && axis.max >= lateRest[lateRest.length - 1][1], `axis ${axis.min}-${axis.max}`);
  assert.ok(axis.labels.length >= 2 && axis.labels.every((l) => /^(\w{3} \d{1,2} )?\d\d:\d\d(:\d\d)?$/.test(l)),
    `wall ticks read as clock times: ${axis.labels}`);
  assert.equal(new URL(page.url()).searchParams.get('xaxis'), 'wall');

  // Relative time: both runs start at 0, each from its own first point.
  await setXAxis(page, 'relative');
  sets = await lossSets(page);
  assert.equal(shown().points[0].x, 0);
  assert.equal(overlay().points[0].x, 0);
  assert.deepEqual(shown().points.map((p) => p.x), expectedX(lateRest, 'relative'));
  assert.deepEqual(overlay().points.map((p) => p.x), expectedX(earlyRest, 'relative'));
  axis = await axisState(page);
  assert.match(axis.title, /^relative time/);
  assert.ok(axis.min <= 0 && axis.min > -1000, `the relative axis starts at 0 (${axis.min})`);
  assert.ok(axis.labels.length >= 2 && axis.labels.every((l) => /^\d+:\d\d:\d\d(\.\d+)?$/.test(l)),
    `relative ticks read as h:mm:ss: ${axis.labels}`);
  assert.equal(new URL(page.url()).searchParams.get('xaxis'), 'relative');

  // Smoothing follows the axis: the smoothed line has the raw line's x values.
  await page.evaluate(() => {
    const input = document.querySelector('[data-testid=smoothing]');
    input.value = '0.6';
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.waitForFunction(() => Chart.getChart(document.getElementById('loss-chart')).data.datasets
    .some((d) => d.smoothed && !d.overlay && d.data.length > 0));
  sets = await lossSets(page);
  const smoothed = sets.find((d) => d.smoothed && !d.overlay);
  assert.deepEqual(smoothed.points.map((p) => p.x), shown().points.map((p) => p.x), 'smoothed line on the same x');

  // The tooltip shows the hovered point's relative time and its step.
  const box = await page.locator('#loss-chart').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForSelector('#chart-tooltip:not([hidden]) .tt-relative');
  const tip = await page.evaluate(() => ({ ...document.getElementById('chart-tooltip').dataset,
    relative: document.querySelector('#chart-tooltip .tt-relative').textContent }));
  const hovered = sets.flatMap((d) => d.points).find((p) => String(p.x) === tip.x);
  assert.ok(hovered, `the tooltip's x ${tip.x} is a drawn point's`);
  assert.equal(tip.step, String(hovered.step));
  const secs = Math.floor(hovered.x / 1000);
  assert.ok(tip.relative.startsWith(`0:00:${String(secs).padStart(2, '0')}`), `tooltip says ${tip.relative} for ${hovered.x} ms`);

  // PNG: the plot carries the chosen axis title. CSV: still step and wall time columns.
  await page.waitForFunction(() => document.getElementById('export-png').getAttribute('aria-disabled') === 'false');
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').click()]);
  assert.equal(await png.failure(), null);
  const last = await page.evaluate(() => window.trainscope.exports.toolbar.last);
  assert.equal(last.kind, 'png');
  assert.match(last.xTitle, /^relative time/);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const lines = fs.readFileSync(await csv.path(), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'session_id,metric,step,timestamp,value,rank');
  const lossRows = lines.slice(1).map((l) => l.split(',')).filter((r) => r[1] === 'train/loss');
  assert.deepEqual(lossRows.map((r) => Number(r[2])), lateRest.map((p) => p[0]), 'CSV steps');
  assert.deepEqual(lossRows.map((r) => Date.parse(r[3])), lateRest.map((p) => Math.floor(p[1])), 'CSV wall times (whole ms)');

  // A reload keeps the axis; so does the copied link, in a fresh context (no storage).
  await page.reload();
  await h.waitForRunLoaded(page, late);
  assert.equal(await page.getByTestId('x-axis').inputValue(), 'relative');
  assert.match((await axisState(page)).title, /^relative time/);
  const link = new URL(page.url());
  const other = await h.openPage(browser, agent.pageUrl(`/${link.search}`));
  await h.waitForRunLoaded(other, late);
  await overlayDrawn(other, earlyRest.length);
  sets = await lossSets(other);
  assert.equal(await other.getByTestId('x-axis').inputValue(), 'relative');
  assert.deepEqual(overlay().points.map((p) => p.x), expectedX(earlyRest, 'relative'));

  // Back to step: the address forgets it.
  await setXAxis(page, 'step');
  sets = await lossSets(page);
  assert.deepEqual(shown().points.map((p) => p.x), expectedX(lateRest, 'step'));
  assert.equal(new URL(page.url()).searchParams.get('xaxis'), null);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(other.errors, []);
  await h.screenshot(other, 'x_axis_relative');
});

test('markers sit at their point\'s time; zooming a time axis fetches that stretch at full resolution', async () => {
  const nanAt = 3000;
  const run = await finishedRun({ steps: 4000, rate: 2000, name: 'x-nan', extra: ['--nan_at', String(nanAt)] });
  const rest = (await agent.series(run, 'train/loss')).points;
  const nanT = rest.find((p) => p[0] === nanAt)[1];
  const origin = rest[0][1];

  const page = await h.openPage(browser, agent.pageUrl(`/?run=${run}&xaxis=wall`));
  await h.waitForRunLoaded(page, run);
  // The NaN alert's line and the NaN band start at the time of step 3000's point.
  await page.waitForFunction((t) => {
    const d = Chart.getChart(document.getElementById('loss-chart')).$tsMarkersDrawn;
    return d && d.alerts.some((a) => a.x === t) && d.nanSpans.some((s) => s.from === t);
  }, nanT, { timeout: 10000 });
  const drawn = await page.evaluate(() => Chart.getChart(document.getElementById('loss-chart')).$tsMarkersDrawn);
  assert.equal(drawn.alerts.find((a) => a.x === nanT).step, nanAt);

  await setXAxis(page, 'relative');
  await page.waitForFunction((x) => {
    const d = Chart.getChart(document.getElementById('loss-chart')).$tsMarkersDrawn;
    return d && d.alerts.some((a) => a.x === x) && d.nanSpans.some((s) => s.from === x);
  }, nanT - origin, { timeout: 10000 });

  // The whole run is held downsampled; zoom into the middle fifth of its time by dragging.
  const whole = (await lossSets(page)).find((d) => !d.overlay);
  assert.ok(whole.points.length < rest.length, 'the whole-run view is downsampled');
  const span = rest[rest.length - 1][1] - origin;
  const [from, to] = [span * 0.4, span * 0.6];
  const px = await page.evaluate(([a, b]) => {
    const canvas = document.getElementById('loss-chart');
    const chart = Chart.getChart(canvas);
    const r = canvas.getBoundingClientRect();
    return { a: r.left + chart.scales.x.getPixelForValue(a), b: r.left + chart.scales.x.getPixelForValue(b),
      y: r.top + (chart.chartArea.top + chart.chartArea.bottom) / 2 };
  }, [from, to]);
  await page.mouse.move(px.a, px.y);
  await page.mouse.down();
  await page.mouse.move((px.a + px.b) / 2, px.y, { steps: 5 });
  await page.mouse.move(px.b, px.y, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('app').dataset.drawnZoom === 'detail', null, { timeout: 5000 });
  const view = await page.evaluate(() => {
    const x = Chart.getChart(document.getElementById('loss-chart')).scales.x;
    return { min: x.min, max: x.max };
  });
  const zoomed = (await lossSets(page)).find((d) => !d.overlay);
  const inView = rest.filter((p) => p[1] - origin >= view.min && p[1] - origin <= view.max);
  assert.ok(inView.length > 200, `${inView.length} points in the zoomed view`);
  const drawnSteps = new Set(zoomed.points.map((p) => p.step));
  const missing = inView.filter((p) => !drawnSteps.has(p[0]));
  assert.deepEqual(missing.map((p) => p[0]), [], 'every point inside the zoomed time range is drawn');
  for (const p of zoomed.points) assert.equal(p.x, p.t - origin, `step ${p.step}: x is its relative time`);
  assert.deepEqual(page.errors, []);
});
