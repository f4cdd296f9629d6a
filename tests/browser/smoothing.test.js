// Smoothing (issue 16): at 0.9 the drawn train/loss is TensorBoard's debiased EMA of the drawn
// points, computed here independently; the raw line stays, faint, behind it; the tooltip shows
// both values; the setting survives a reload and travels in a copied link; 0 draws the raw
// series alone.
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

/** TensorBoard's smoothing: EMA from 0, divided by 1 - w^n; non-finite values pass through. */
function debiasedEma(values, w) {
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    n += 1;
    return last / (1 - w ** n);
  });
}

function trainLoss(page) {
  return page.evaluate(() => Chart.getChart(document.getElementById('loss-chart')).data.datasets
    .filter((d) => d.metric === 'train/loss' && !d.overlay)
    .map((d) => ({ smoothed: Boolean(d.smoothed), hidden: Boolean(d.hidden), color: d.borderColor,
      ys: d.data.map((p) => p.y), raws: d.data.map((p) => p.rawY) })));
}

async function setSmoothing(page, value) {
  await page.evaluate((v) => {
    const input = document.querySelector('[data-testid=smoothing]');
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

async function waitSmoothed(page, on) {
  await page.waitForFunction((want) => {
    const sets = Chart.getChart(document.getElementById('loss-chart')).data.datasets;
    return sets.some((d) => d.smoothed && d.metric === 'train/loss' && d.data.length > 0) === want;
  }, on);
}

function assertSmoothedMatches(sets, w, what) {
  const raw = sets.find((d) => !d.smoothed);
  const smooth = sets.find((d) => d.smoothed);
  assert.ok(raw && smooth, `${what}: raw and smoothed train/loss`);
  assert.equal(smooth.ys.length, raw.ys.length, `${what}: one smoothed point per drawn point`);
  const want = debiasedEma(raw.ys, w);
  smooth.ys.forEach((y, i) => assert.ok(Math.abs(y - want[i]) < 1e-9, `${what}: point ${i}: ${y} != ${want[i]}`));
  assert.deepEqual(smooth.raws, raw.ys, `${what}: each smoothed point keeps its raw value`);
  assert.equal(raw.hidden, false, `${what}: the raw line stays drawn`);
  assert.match(raw.color, /^rgba\(.*0\.28\)$/, `${what}: the raw line is faint`);
}

test('smoothing draws the debiased EMA, keeps the raw line faint, and survives reloads and links', async () => {
  const run = await h.startProducer(agent, { steps: 400, rate: 0, name: 'noisy' });
  await run.done;
  await agent.waitFinished(run.sessionId);

  const page = await h.openPage(browser, agent.pageUrl());
  await h.waitForRunLoaded(page, run.sessionId);
  assert.deepEqual((await trainLoss(page)).map((d) => d.smoothed), [false], 'off by default');

  await setSmoothing(page, 0.9);
  await waitSmoothed(page, true);
  assertSmoothedMatches(await trainLoss(page), 0.9, 'at 0.9');
  assert.equal(new URL(page.url()).searchParams.get('smoothing'), '0.9');
  assert.equal(await page.getByTestId('smoothing-value').textContent(), '0.90');

  // The tooltip: the smoothed value and the raw one.
  const box = await page.locator('#loss-chart').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForSelector('#chart-tooltip:not([hidden]) .tt-raw');
  assert.match(await page.locator('#chart-tooltip .tt-raw').first().textContent(), /^raw -?\d/);

  // A reload keeps it; so does the link, opened in a fresh context (no storage).
  await page.reload();
  await h.waitForRunLoaded(page, run.sessionId);
  await waitSmoothed(page, true);
  assert.equal(await page.getByTestId('smoothing').inputValue(), '0.9');
  // The copied address, opened by someone with access (a fresh context: no storage, so only
  // the address can carry the setting; the token is added as the agent's own URL does).
  const link = new URL(page.url());
  const other = await h.openPage(browser, agent.pageUrl(`/${link.search}`));
  await h.waitForRunLoaded(other, run.sessionId);
  await waitSmoothed(other, true);
  assertSmoothedMatches(await trainLoss(other), 0.9, 'opened from the link');

  // 0: the series alone, at full strength; the address forgets it.
  await setSmoothing(page, 0);
  await waitSmoothed(page, false);
  const off = await trainLoss(page);
  assert.equal(off.length, 1);
  assert.doesNotMatch(off[0].color, /^rgba/);
  assert.equal(new URL(page.url()).searchParams.get('smoothing'), null);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(other.errors, []);
  await h.screenshot(other, 'smoothing_0_9');
});
