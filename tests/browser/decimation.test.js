// Test 3: a 20,000-step run leaves at most 1000 points per series in the chart, and they
// still span the run from its first to its last step (older points are re-bucketed, not cut).
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

function checkSeries(points, { cap, first, last, slack }) {
  assert.ok(points.length <= cap, `${points.length} points > cap ${cap}`);
  assert.ok(points.length >= cap / 2, `only ${points.length} points: decimated far below the cap ${cap}`);
  const xs = points.map((p) => p[0]);
  for (let i = 1; i < xs.length; ++i) assert.ok(xs[i] >= xs[i - 1], `steps out of order at ${i}`);
  assert.ok(xs[0] <= first + slack, `first step ${xs[0]}, expected ${first}`);
  assert.ok(xs[xs.length - 1] >= last - slack, `last step ${xs[xs.length - 1]}, expected ${last}`);
}

test('20,000 steps stay within 1000 points per series, first to last step', async () => {
  const steps = 20000;
  const live = await h.openPage(browser, agent.pageUrl());
  const trainer = await h.startProducer(agent, { steps, rate: 5000, name: 'decimation' });
  await h.waitForRunLoaded(live, trainer.sessionId);

  // While the run streams in, the bound holds at every moment we look.
  let samples = 0;
  while (trainer.process.exitCode === null) {
    const counts = await live.evaluate(() =>
      Chart.getChart(document.getElementById('loss-chart')).data.datasets.map((d) => d.data.length));
    for (const n of counts) assert.ok(n <= 1000, `a dataset held ${n} points mid-run`);
    ++samples;
    await h.sleep(200);
  }
  assert.ok(samples >= 3, 'the run ended before it could be watched');
  assert.equal(await trainer.done, 0, 'the trainer dropped records');
  await agent.waitFinished(trainer.sessionId);

  await live.waitForFunction((last) => {
    const chart = Chart.getChart(document.getElementById('loss-chart'));
    const train = chart.data.datasets.find((d) => d.metric === 'train/loss');
    return train && train.data.length && train.data[train.data.length - 1].x === last;
  }, steps - 1, { timeout: 10000 });
  await h.screenshot(live, 'decimation_live');
  const watched = await h.chartData(live);
  const train = watched.find((d) => d.metric === 'train/loss');
  const val = watched.find((d) => d.metric === 'val/loss');
  // Watched from the start: the very first and last steps are held exactly.
  checkSeries(train.points, { cap: 1000, first: 0, last: steps - 1, slack: 0 });
  assert.equal(val.points.length, steps / 100, 'val/loss (200 points) fits and is complete');
  // The newest points are at full resolution: the last 400 steps are all there.
  const tail = train.points.filter((p) => p[0] >= steps - 400).map((p) => p[0]);
  assert.equal(tail.length, 400, 'the newest steps are kept at full resolution');
  // Every held point is a real point (no averaging), and min/max re-bucketing keeps the
  // extremes: the run's maximum (early, in the re-bucketed part) and minimum are held.
  const rest = await agent.series(trainer.sessionId, 'train/loss');
  const truth = new Map(rest.points.map((p) => [p[0], p[2]]));
  for (const [x, y] of train.points) assert.equal(y, truth.get(x), `step ${x} holds ${y}, REST says ${truth.get(x)}`);
  const values = rest.points.map((p) => p[2]);
  const held = new Set(train.points.map((p) => p[1]));
  assert.ok(held.has(Math.max(...values)), 'decimation lost the maximum');
  assert.ok(held.has(Math.min(...values)), 'decimation lost the minimum');

  // Memory: the status bar reports what is held (≤ cap per series) and the JS heap.
  await live.waitForFunction(() => /^[\d,]+$/.test(document.querySelector('[data-testid=stat-points]').textContent));
  const heldCount = Number((await live.getByTestId('stat-points').textContent()).replace(/,/g, ''));
  assert.ok(heldCount <= 2000 && heldCount > 500, `status bar says ${heldCount} points held`);
  assert.match(await live.getByTestId('stat-heap').textContent(), /^(\d+\.\d MB|n\/a)$/);

  // A page opened afterwards gets the agent's min/max-downsampled snapshot: also within the cap.
  const later = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(later, trainer.sessionId);
  const snapshot = (await h.chartData(later)).find((d) => d.metric === 'train/loss');
  // The agent's first/last bucket holds the extremes of ~40 steps, not necessarily the ends.
  checkSeries(snapshot.points, { cap: 1000, first: 0, last: steps - 1, slack: 2 * steps / 1000 });

  // The cap is a setting: ?max_points=300.
  const small = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}&max_points=300`));
  await h.waitForRunLoaded(small, trainer.sessionId);
  const smallTrain = (await h.chartData(small)).find((d) => d.metric === 'train/loss');
  checkSeries(smallTrain.points, { cap: 300, first: 0, last: steps - 1, slack: 2 * steps / 300 });
  assert.deepEqual([...live.errors, ...later.errors, ...small.errors], []);
});
