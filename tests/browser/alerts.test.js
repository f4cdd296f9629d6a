// Alerts: a trainer whose loss turns NaN gets a critical banner naming the step, a marker on
// the chart at that step (the NaN values themselves arrive as null and are marked too), a
// dismiss button that sticks across reloads, and the alert is there for a page opened later
// (from GET /api/runs/{id}/events). Several alerts stack, with a count and "Dismiss all".
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

/** What the marker plugin drew last: {alerts: [{step, severity}], nanSpans: [{from, to}]}. */
function markers(page) {
  return page.evaluate(() => {
    const chart = Chart.getChart(document.getElementById('loss-chart'));
    const drawn = chart.$tsMarkersDrawn || { alerts: [], nanSpans: [] };
    return { alerts: drawn.alerts.map((a) => ({ step: a.step, severity: a.severity, label: a.label })),
      nanSpans: drawn.nanSpans.map((s) => ({ from: s.from, to: s.to, metric: s.metric })) };
  });
}

test('a NaN loss: banner with the step, chart marker at that step, dismissable; loaded again on open', async () => {
  const nanAt = 900;
  const page = await h.openPage(browser, agent.pageUrl());
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  const trainer = await h.startProducer(agent, { steps: 1500, rate: 300, name: 'alert-nan', extra: ['--nan_at', String(nanAt)] });
  await h.waitForRunLoaded(page, trainer.sessionId);

  // The banner, pushed live.
  const banner = page.locator(`[data-testid=alert][data-kind=nan][data-step="${nanAt}"]`);
  await banner.waitFor({ state: 'visible', timeout: 10000 });
  assert.equal(await banner.getAttribute('data-severity'), 'critical');
  const text = (await banner.innerText()).replace(/\s+/g, ' ');
  assert.match(text, /critical/i);
  assert.match(text, new RegExp(`train/loss became NaN at step ${nanAt}`));
  assert.match(text, /step 900/);

  // The chart: a critical marker at step 900, and the NaN stretch marked from there on.
  await page.waitForFunction((step) => {
    const chart = Chart.getChart(document.getElementById('loss-chart'));
    const d = chart.$tsMarkersDrawn;
    return d && d.alerts.some((a) => a.step === step) && d.nanSpans.some((s) => s.from === step);
  }, nanAt, { timeout: 10000 });
  let drawn = await markers(page);
  assert.deepEqual(drawn.alerts.filter((a) => a.step === nanAt).map((a) => a.severity), ['critical']);
  assert.equal(drawn.nanSpans.find((s) => s.from === nanAt).metric, 'train/loss');
  // ... where the data holds nulls (NaN), which the line alone would only show as a gap.
  const atStep = await page.evaluate((step) => {
    const d = Chart.getChart(document.getElementById('loss-chart')).data.datasets.find((x) => x.metric === 'train/loss');
    return d.data.filter((p) => p.x === step - 1 || p.x === step).map((p) => p.y);
  }, nanAt);
  assert.equal(typeof atStep[0], 'number');
  assert.equal(atStep[1], null);
  // The statistics panel and the trend badge say it too.
  await page.waitForFunction(() => document.querySelector('[data-testid=stat-current]').textContent === 'NaN/Inf',
    null, { timeout: 5000 });
  await page.waitForSelector('[data-testid=trend-badge][data-series="train/loss"][data-non-finite="true"]', { timeout: 5000 });
  await h.screenshot(page, 'alerts_nan');

  // Dismiss: the banner goes, the marker stays.
  await banner.locator('[data-testid=alert-dismiss]').click();
  await page.waitForFunction(() => document.getElementById('alerts').hidden);
  drawn = await markers(page);
  assert.ok(drawn.alerts.some((a) => a.step === nanAt));

  await trainer.done;
  await agent.waitFinished(trainer.sessionId);
  const events = (await agent.getJson(`/api/runs/${trainer.sessionId}/events`)).events.filter((e) => e.kind === 'alert');
  assert.equal(events.length, 1);

  // A reload keeps it dismissed, and the marker comes back from the stored events.
  await page.reload();
  await h.waitForRunLoaded(page, trainer.sessionId);
  await page.waitForFunction((step) => {
    const d = Chart.getChart(document.getElementById('loss-chart')).$tsMarkersDrawn;
    return d && d.alerts.some((a) => a.step === step);
  }, nanAt, { timeout: 5000 });
  assert.equal(await page.locator('#alerts').isHidden(), true);
  assert.equal(await page.locator('#alerts').getAttribute('data-total'), '1');

  // A page opened later (another browser profile): the past alert is loaded with the run.
  const later = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(later, trainer.sessionId);
  await later.locator(`[data-testid=alert][data-kind=nan][data-step="${nanAt}"]`).waitFor({ state: 'visible', timeout: 5000 });
  await later.context().close();
  assert.deepEqual([...page.errors, ...later.errors], []);
});

test('several alerts stack with a count; "Dismiss all" clears them', async () => {
  // Three ranks of one run go NaN at different steps: three critical alerts.
  const runId = `nan3-${process.pid}`;
  const trainers = [];
  for (const [rank, nanAt] of [[0, 300], [1, 400], [2, 500]]) {
    trainers.push(await h.withEnv({ TRAINSCOPE_RUN_ID: runId, RANK: String(rank) },
      () => h.startProducer(agent, { steps: 800, rate: 400, name: 'nan-ranks', extra: ['--nan_at', String(nanAt), '--hold_ms', '200'] })));
  }
  await Promise.all(trainers.map((t) => t.done));
  await agent.waitFinished(runId);
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${runId}`));
  await h.waitForRunLoaded(page, runId);
  await page.waitForFunction(() => document.getElementById('alerts').dataset.count === '3', null, { timeout: 10000 });

  // Two shown, the rest behind "Show 1 more"; the count says how many and how bad.
  assert.equal(await page.locator('[data-testid=alert]').count(), 2);
  assert.equal(await page.getByTestId('alerts-count').innerText(), '3 alerts · 3 critical');
  await page.getByTestId('alerts-toggle').click();
  assert.equal(await page.locator('[data-testid=alert]').count(), 3);
  const steps = await page.$$eval('[data-testid=alert]', (els) => els.map((e) => Number(e.dataset.step)).sort((a, b) => a - b));
  assert.deepEqual(steps, [300, 400, 500]);
  assert.match(await page.locator('[data-testid=alert][data-step="400"]').innerText(), /train\/loss \[rank 1\]/);
  const drawn = await markers(page);
  assert.deepEqual(drawn.alerts.map((a) => a.step).sort((a, b) => a - b), [300, 400, 500]);
  await h.screenshot(page, 'alerts_stacked');

  await page.getByTestId('alerts-dismiss-all').click();
  await page.waitForFunction(() => document.getElementById('alerts').hidden);
  assert.deepEqual(page.errors, []);
});
