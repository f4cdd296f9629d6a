// Test 1: the chart holds exactly the points the REST API returns — for a page that watched
// the run live (pushed points merged with the REST snapshot) and for a page opened after it.
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

function datasetFor(datasets, metric) {
  const d = datasets.find((x) => x.metric === metric && x.rank === 0);
  assert.ok(d, `the chart has no dataset for ${metric}: ${datasets.map((x) => x.label)}`);
  return d;
}

async function assertChartEqualsRest(page, sessionId, metric) {
  const rest = await agent.series(sessionId, metric);
  assert.equal(rest.downsampled, false);
  const chart = datasetFor(await h.chartData(page), metric);
  assert.equal(chart.points.length, rest.points.length, `${metric}: chart has ${chart.points.length} points, REST ${rest.points.length}`);
  assert.deepEqual(chart.points.map((p) => p[0]), rest.points.map((p) => p[0]), `${metric}: steps differ`);
  assert.deepEqual(chart.points.map((p) => p[1]), rest.points.map((p) => p[2]), `${metric}: values differ`);
  assert.deepEqual(chart.points.map((p) => p[2]), rest.points.map((p) => p[1]), `${metric}: timestamps differ`);
}

test('chart equals REST for a run within the cap, live and after the fact', async () => {
  const steps = 900;  // under the 1000-point cap: the chart must hold every point
  const live = await h.openPage(browser, agent.pageUrl());
  // The page follows the newest run: it switches to the trainer's run when it starts.
  const trainer = await h.startProducer(agent, { steps, rate: 400, name: 'chart-equals-rest' });
  await h.waitForRunLoaded(live, trainer.sessionId);
  assert.equal(await trainer.done, 0, 'the trainer dropped records');
  await agent.waitFinished(trainer.sessionId);

  // Every point arrives: train/loss has `steps` points, val/loss one per 100 steps.
  await live.waitForFunction((n) => {
    const chart = Chart.getChart(document.getElementById('loss-chart'));
    const train = chart && chart.data.datasets.find((d) => d.metric === 'train/loss');
    return train && train.data.length === n && train.data[n - 1].x === n - 1;
  }, steps, { timeout: 10000 });
  await assertChartEqualsRest(live, trainer.sessionId, 'train/loss');
  await assertChartEqualsRest(live, trainer.sessionId, 'val/loss');
  await live.waitForFunction(() => document.getElementById('run-status').dataset.status === 'finished');
  await h.screenshot(live, 'chart_matches_rest_live');

  // A page opened after the run: the REST snapshot alone.
  const later = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(later, trainer.sessionId);
  await later.waitForFunction(() => {
    const chart = Chart.getChart(document.getElementById('loss-chart'));
    return chart && chart.data.datasets.some((d) => d.metric === 'val/loss' && d.data.length > 0);
  });
  await assertChartEqualsRest(later, trainer.sessionId, 'train/loss');
  await assertChartEqualsRest(later, trainer.sessionId, 'val/loss');

  // Both losses are shown by default, and the status bar counts what the page holds: every
  // point of the run (the losses and the velocity plugin's derived series), all under the cap.
  const shown = (await h.chartData(later)).filter((d) => !d.hidden).map((d) => d.metric).sort();
  assert.deepEqual(shown, ['train/loss', 'val/loss']);
  // The velocity plugin adds its final figure just after the run ends: wait until the count
  // holds still for longer than the plugins' 1 s tick.
  let stored = (await agent.run(trainer.sessionId)).points;
  for (let still = Date.now(); Date.now() - still < 1500; await h.sleep(100)) {
    const now = (await agent.run(trainer.sessionId)).points;
    if (now !== stored) { stored = now; still = Date.now(); }
  }
  assert.ok(stored >= steps + steps / 100, `the run stored only ${stored} points`);
  await later.waitForFunction((n) =>
    document.querySelector('[data-testid=stat-points]').textContent.replace(/,/g, '') === String(n) &&
    document.querySelector('[data-testid=stat-dropped]').textContent === '0', stored);
  // Opened after the run finished: no live rate, and the data's age from its newest point.
  const text = (field) => later.evaluate((f) => document.querySelector(`#status-bar [data-field=${f}]`).textContent, field);
  assert.equal(await text('rate'), '—');
  assert.match(await text('updated'), /^(just now|\d+ s ago)$/);
  assert.deepEqual([...live.errors, ...later.errors], []);
});

test('records the trainer dropped (full ring) are shown in the status bar', async () => {
  // A tiny ring and no rate limit: the trainer outruns the agent and drops records.
  const trainer = await h.startProducer(agent,
    { steps: 50000, rate: 0, name: 'drops', extra: ['--capacity', '1024'] });
  const dropped = await trainer.done;
  assert.ok(dropped > 0, 'the trainer dropped nothing: the test needs a smaller ring');
  const run = await agent.waitFinished(trainer.sessionId);
  assert.equal(run.dropped, dropped);

  const page = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(page, trainer.sessionId);
  const shown = (n) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  await page.waitForFunction((text) => document.querySelector('[data-testid=stat-dropped]').textContent === text,
    shown(dropped), { timeout: 5000 });
  assert.equal(await page.evaluate(() =>
    document.querySelector('[data-testid=stat-dropped]').closest('.stat').dataset.warn), 'true');
});
