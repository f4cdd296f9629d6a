// Test 5: the agent is killed (SIGKILL) mid-run and restarted on the same port, namespace and
// data dir. The page shows "reconnecting", then "connected", and after the run the chart holds
// every point exactly once.
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

test('agent killed and restarted mid-run: reconnects, no gap, no duplicate', async () => {
  const steps = 800;  // 8 s at 100/s, under the 1000-point cap: the chart holds every point
  const page = await h.openPage(browser, agent.pageUrl());
  const connection = page.getByTestId('connection-status');
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  const trainer = await h.startProducer(agent, { steps, rate: 100, name: 'reconnect' });
  await h.waitForRunLoaded(page, trainer.sessionId);
  await page.waitForFunction(() => {
    const train = Chart.getChart(document.getElementById('loss-chart')).data.datasets.find((d) => d.metric === 'train/loss');
    return train && train.data.length >= 150;
  }, null, { timeout: 5000 });

  // States the pill goes through, recorded in the page so none is missed between polls.
  await page.evaluate(() => {
    window.__states = [];
    const el = document.getElementById('connection-status');
    new MutationObserver(() => window.__states.push(`${el.dataset.state}|${el.textContent.trim()}`))
      .observe(el, { attributes: true, childList: true, subtree: true, characterData: true });
  });

  const port = agent.port;
  await agent.kill();
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'reconnecting',
    null, { timeout: 5000 });
  assert.match(await connection.innerText(), /reconnecting/);
  await h.screenshot(page, 'reconnect_down');
  await h.sleep(1200);  // the trainer keeps logging while nobody collects

  await agent.start();
  assert.equal(agent.port, port, 'the agent came back on the same port');
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected',
    null, { timeout: 15000 });
  const states = await page.evaluate(() => window.__states);
  assert.ok(states.some((s) => /^reconnecting\|reconnecting in \d+ s/.test(s)), `no countdown seen: ${states}`);

  assert.equal(await trainer.done, 0, 'the trainer dropped records');
  await agent.waitFinished(trainer.sessionId);
  const rest = await agent.series(trainer.sessionId, 'train/loss');
  assert.equal(rest.points.length, steps, 'the agent stored every point once');

  await page.waitForFunction((n) => {
    const train = Chart.getChart(document.getElementById('loss-chart')).data.datasets.find((d) => d.metric === 'train/loss');
    return train && train.data.length >= n && train.data[train.data.length - 1].x === n - 1;
  }, steps, { timeout: 10000 }).catch(() => {});
  const chart = (await h.chartData(page)).find((d) => d.metric === 'train/loss');
  const xs = chart.points.map((p) => p[0]);
  const dupes = xs.filter((x, i) => i > 0 && x === xs[i - 1]);
  assert.deepEqual(dupes, [], 'points shown twice');
  const held = new Set(xs);
  const missing = rest.points.map((p) => p[0]).filter((x) => !held.has(x));
  assert.deepEqual(missing, [], 'points missing from the chart');
  assert.deepEqual(chart.points.map((p) => p[1]), rest.points.map((p) => p[2]));
  const val = (await h.chartData(page)).find((d) => d.metric === 'val/loss');
  assert.deepEqual(val.points.map((p) => p[0]), [0, 100, 200, 300, 400, 500, 600, 700]);
  await page.waitForFunction(() => document.getElementById('run-status').dataset.status === 'finished');
  await h.screenshot(page, 'reconnect_after');
});

test('browser offline: the status says offline, and reconnects when back online', async () => {
  const page = await h.openPage(browser, agent.pageUrl());
  const state = () => page.evaluate(() => document.getElementById('connection-status').dataset.state);
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  await page.context().setOffline(true);
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'offline',
    null, { timeout: 5000 });
  assert.match(await page.getByTestId('connection-status').innerText(), /offline/);
  await h.sleep(1500);
  assert.equal(await state(), 'offline', 'no reconnect attempts while the browser is offline');
  await page.context().setOffline(false);
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected',
    null, { timeout: 5000 });
});
