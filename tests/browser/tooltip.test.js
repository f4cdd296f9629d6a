// Test 2: hovering a point shows iteration, loss (4 significant digits), the wall-clock
// timestamp and the time elapsed since the run started.
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

const pad = (n, w = 2) => String(n).padStart(w, '0');

test('tooltip shows iteration, loss, timestamp and elapsed time', async () => {
  const trainer = await h.startProducer(agent, { steps: 400, rate: 200, name: 'tooltip' });
  await trainer.done;
  const run = await agent.waitFinished(trainer.sessionId);
  const rest = await agent.series(trainer.sessionId, 'train/loss');

  const page = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(page, trainer.sessionId);
  const step = 357;  // ~1.8 s in; not a multiple of 100, so no val/loss point shares the step
  const target = await page.waitForFunction((s) => {
    const canvas = document.getElementById('loss-chart');
    const chart = Chart.getChart(canvas);
    const i = chart.data.datasets.findIndex((d) => d.metric === 'train/loss');
    if (i < 0) return null;
    const j = chart.data.datasets[i].data.findIndex((p) => p.x === s);
    const el = j >= 0 && chart.getDatasetMeta(i).data[j];
    if (!el || !Number.isFinite(el.x)) return null;
    const box = canvas.getBoundingClientRect();
    return { x: box.left + el.x, y: box.top + el.y };
  }, step).then((handle) => handle.jsonValue());

  await page.mouse.move(target.x - 30, target.y - 30);
  await page.mouse.move(target.x, target.y, { steps: 4 });
  const tooltip = page.getByTestId('chart-tooltip');
  await tooltip.waitFor({ state: 'visible', timeout: 5000 });
  await page.waitForFunction((s) => document.getElementById('chart-tooltip').dataset.step === String(s), step);
  const text = await tooltip.innerText();
  await h.screenshot(page, 'tooltip');

  const point = rest.points.find((p) => p[0] === step);
  assert.ok(point, 'REST has the hovered step');
  const [, tMs, value] = point;
  assert.match(text, new RegExp(`Iteration\\s+${step}\\b`), text);
  assert.match(text, /Loss/, text);
  assert.ok(text.includes(value.toPrecision(4)), `tooltip lacks the loss ${value.toPrecision(4)}:\n${text}`);
  const d = new Date(tMs);
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  assert.ok(text.includes(stamp), `tooltip lacks the timestamp ${stamp}:\n${text}`);
  const elapsed = Math.floor((tMs - run.started_ms) / 1000);
  const hms = `${Math.floor(elapsed / 3600)}:${pad(Math.floor(elapsed / 60) % 60)}:${pad(elapsed % 60)}`;
  assert.match(text, new RegExp(`Elapsed\\s+${hms}`), `expected elapsed ${hms}:\n${text}`);
  assert.deepEqual(page.errors, []);
});
