// Analytics on the page: the trend indicator of train/loss follows the trend plugin live
// (decreasing, then increasing for a loss that turns up), and the statistics panel shows
// the rate, the estimated completion, the best validation loss and the progress exactly as
// the agent's REST analytics have them.
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

const TRAIN_BADGE = '[data-testid=trend-badge][data-series="train/loss"][data-rank="0"]';

test('trend indicator: a loss that falls and then rises shows decreasing, then increasing', async () => {
  const page = await h.openPage(browser, agent.pageUrl());
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  const trainer = await h.startProducer(agent, { steps: 3000, rate: 300, name: 'trend-rise', extra: ['--rise_at', '1200'] });
  await h.waitForRunLoaded(page, trainer.sessionId);

  await page.waitForSelector(`${TRAIN_BADGE}[data-trend=decreasing]`, { timeout: 10000 });
  const falling = await page.locator(TRAIN_BADGE).innerText();
  // Arrow and word, not color alone.
  assert.match(falling.replace(/\s+/g, ' '), /train\/loss ↓ decreasing/);
  const fallingStep = (await agent.run(trainer.sessionId)).points;
  assert.ok(fallingStep < 1400, `decreasing was seen only after ${fallingStep} points`);
  await h.screenshot(page, 'analytics_trend_decreasing');

  await page.waitForSelector(`${TRAIN_BADGE}[data-trend=increasing]`, { timeout: 20000 });
  const rising = await page.locator(TRAIN_BADGE).innerText();
  assert.match(rising.replace(/\s+/g, ' '), /train\/loss ↑ increasing/);
  // The agent says the same.
  const rest = (await agent.getJson(`/api/runs/${trainer.sessionId}/analytics`)).stats.trend.series['train/loss'];
  assert.equal(rest.trend, 'increasing');
  await h.screenshot(page, 'analytics_trend_increasing');
  await h.stopChild(trainer.process);
  assert.deepEqual(page.errors, []);
});

/** What the statistics panel shows: each tile's raw value (data-value) and text. */
function readPanel(page) {
  return page.evaluate(() => {
    const get = (id) => document.querySelector(`[data-testid=${id}]`);
    const value = (id) => {
      const v = get(id).dataset.value;
      return v === '' || v === undefined ? null : Number(v);
    };
    const text = (id) => get(id).textContent;
    return {
      source: document.getElementById('stats-panel').dataset.source,
      current: value('stat-current'),
      currentText: text('stat-current'),
      mean: value('stat-mean'),
      recentMean: value('stat-mean-sub'),
      best: value('stat-best'),
      bestText: text('stat-best'),
      bestStep: value('stat-best-sub'),
      bestStepText: text('stat-best-sub'),
      iters: value('stat-rate'),
      itersText: text('stat-rate'),
      tokens: value('stat-rate-sub'),
      tokensText: text('stat-rate-sub'),
      elapsed: value('stat-elapsed'),
      eta: value('stat-eta'),
      etaText: text('stat-eta'),
      etaMs: value('stat-eta-sub'),
      progressText: text('stat-progress-text'),
      progressNow: Number(document.querySelector('[data-testid=stat-progress] [role=progressbar]').getAttribute('aria-valuenow')),
    };
  });
}

const pad = (n) => String(n).padStart(2, '0');
const hms = (s) => `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(Math.floor(s % 60))}`;

test('statistics panel: rate, ETA, best val loss and progress agree with the REST analytics', async () => {
  const maxIters = 4000;
  const tokensPerIter = 1024;
  const trainer = await h.startProducer(agent, {
    steps: 2000, rate: 250, name: 'stats-eta',
    extra: ['--config', JSON.stringify({ max_iters: maxIters, tokens_per_iter: tokensPerIter })],
  });
  const id = trainer.sessionId;
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${id}`));
  await h.waitForRunLoaded(page, id);
  await page.waitForFunction(() => /left$/.test(document.querySelector('[data-testid=stat-eta]').textContent),
    null, { timeout: 10000 });

  // While the run goes: wait for a moment when the page and the agent hold the same
  // publication (the plugins publish about once a second), then compare every figure.
  let rest;
  let shown;
  await h.waitFor(async () => {
    rest = (await agent.getJson(`/api/runs/${id}/analytics`)).stats;
    shown = await readPanel(page);
    const st = rest.statistics;
    const vel = rest.velocity;
    return st && vel && shown.source === 'plugins' && shown.iters === vel.iters_per_s &&
      shown.tokens === vel.tokens_per_s && shown.eta === st.eta_s && shown.etaMs === st.eta_ms &&
      shown.best === st.best_val_loss && shown.current === st.current_loss;
  }, { timeoutMs: 10000, intervalMs: 80, what: 'the panel to show the REST analytics' });
  const st = rest.statistics;
  const vel = rest.velocity;
  // (the plugins write 10 significant digits)
  assert.ok(Math.abs(vel.tokens_per_s / (vel.iters_per_s * tokensPerIter) - 1) < 1e-8, 'tokens/s = it/s × tokens_per_iter');
  assert.equal(shown.itersText, `${Math.round(vel.iters_per_s)} it/s`);
  assert.equal(shown.tokensText, `${(vel.tokens_per_s / 1000).toFixed(1)} k tokens/s`);
  assert.equal(shown.etaText, `${hms(st.eta_s)} left`);
  assert.equal(shown.bestText, st.best_val_loss.toPrecision(4));
  assert.equal(shown.bestStep, st.best_val_step);
  assert.equal(shown.mean, st.mean_loss);
  assert.equal(shown.recentMean, st.recent_mean_loss);
  assert.ok(vel.iters_per_s > 200 && vel.iters_per_s < 300, `rate ${vel.iters_per_s}`);
  assert.match(shown.progressText, /^[\d,]+ \/ 4,000 iters · [\d.]+ %$/);
  await h.screenshot(page, 'analytics_stats_running');

  // Once the run is over, the final figures stay, and the ETA tile says it finished.
  await trainer.done;
  await agent.waitFinished(id);
  await page.waitForFunction(() => document.querySelector('[data-testid=stat-eta]').textContent === 'Finished',
    null, { timeout: 10000 });
  await h.waitFor(async () => {
    rest = (await agent.getJson(`/api/runs/${id}/analytics`)).stats;
    shown = await readPanel(page);
    return rest.statistics.step === 1999 && shown.current === rest.statistics.current_loss &&
      shown.best === rest.statistics.best_val_loss ? true : null;
  }, { timeoutMs: 5000, what: 'the final figures' });
  assert.equal(shown.bestStep, 1900);
  assert.equal(shown.progressNow, 50);
  assert.equal(shown.progressText, '2,000 / 4,000 iters · 50 %');
  await h.screenshot(page, 'analytics_stats_finished');
  assert.deepEqual(page.errors, []);
});
