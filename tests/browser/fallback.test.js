// Test 4: when Chart.js cannot be loaded, the page says so and shows the latest value of each
// series as text, updated live while the trainer runs.
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

async function row(page, metric) {
  return page.evaluate((m) => {
    const tr = document.querySelector(`[data-testid=fallback-table] tr[data-metric="${m}"]`);
    if (!tr) return null;
    const cell = (f) => tr.querySelector(`[data-field=${f}]`).textContent;
    return { step: cell('step'), value: cell('value'), time: cell('time') };
  }, metric);
}

test('blocked Chart.js: a visible error and a live text table', async () => {
  const trainer = await h.startProducer(agent, { steps: 3000, rate: 300, name: 'fallback' });
  const page = await h.openPage(browser, agent.pageUrl(), {
    setup: (p) => p.route('**/vendor/chart.umd.js', (route) => route.abort()),
  });
  await h.waitForRunLoaded(page, trainer.sessionId);

  const error = page.getByTestId('chart-error');
  await error.waitFor({ state: 'visible', timeout: 5000 });
  assert.match(await error.innerText(), /Chart\.js.*could not be loaded/i);
  assert.equal(await page.getByTestId('loss-chart').isVisible(), false, 'the empty chart is hidden');
  assert.equal(await page.evaluate(() => typeof window.Chart), 'undefined');

  // The table shows current values...
  await page.waitForFunction(() => document.querySelector('[data-testid=fallback-table] tr[data-metric="train/loss"]'));
  const first = await row(page, 'train/loss');
  assert.match(first.step, /^\d+$/);
  assert.match(first.value, /^\d+\.\d+$/, `value ${first.value}`);
  await h.screenshot(page, 'fallback');

  // ...and they move while the trainer runs.
  await page.waitForFunction((step) => {
    const tr = document.querySelector('[data-testid=fallback-table] tr[data-metric="train/loss"]');
    return Number(tr.querySelector('[data-field=step]').textContent) >= Number(step) + 100;
  }, first.step, { timeout: 5000 });
  const second = await row(page, 'train/loss');
  assert.notEqual(second.value, first.value, 'the value did not change');
  assert.ok(Number(second.step) > Number(first.step));
  assert.ok(await row(page, 'val/loss'), 'val/loss has a row too');

  // They match the agent: after the run, the table shows the last point of each series.
  await trainer.done;
  await agent.waitFinished(trainer.sessionId);
  const rest = await agent.series(trainer.sessionId, 'train/loss');
  const last = rest.points[rest.points.length - 1];
  await page.waitForFunction((s) => {
    const tr = document.querySelector('[data-testid=fallback-table] tr[data-metric="train/loss"]');
    return tr.querySelector('[data-field=step]').textContent === String(s);
  }, last[0], { timeout: 5000 });
  assert.equal((await row(page, 'train/loss')).value, last[2].toPrecision(6));
  // The blocked request is the only thing that went wrong.
  assert.deepEqual(page.errors.filter((e) => !/chart\.umd\.js|ERR_FAILED/.test(e)), []);
});
