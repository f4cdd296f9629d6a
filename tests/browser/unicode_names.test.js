// Names in any script: a run named with 40 CJK characters (120 bytes, past the 95-byte name
// field) and series named with CJK, emoji and combining characters reach the page whole (the
// SDK cuts the name on a character boundary), the page lists and labels them as written, and
// its WebSocket stays up: before issue 13 the cut name was invalid UTF-8 in `hello`, which
// made the browser close every dashboard's socket, over and over.
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

const RUN_NAME = '训练'.repeat(20);  // 40 characters, 120 bytes
const SERIES = ['损失/训练 🚀', 'e\u0301val/loss', '👩‍🔬/精度'];  // CJK + emoji, combining accent, a ZWJ sequence

test('CJK, emoji and combining characters in run and series names show whole and the socket stays up', async () => {
  const run = await h.startProducer(agent, {
    steps: 1, name: RUN_NAME, lossOnly: true,
    extra: SERIES.flatMap((name, i) => ['--series', `${name}:${i + 1},${i + 0.5},${i + 0.25}`]),
  });
  await run.done;
  const stored = await agent.waitFinished(run.sessionId);
  // Whole characters only: 31 of them fit in 95 bytes.
  assert.equal(stored.name, RUN_NAME.slice(0, 31));
  assert.deepEqual([...stored.metrics].sort(), ['train/loss', 'val/loss', ...SERIES].sort());

  const page = await h.openPage(browser, agent.pageUrl(`/?run=${run.sessionId}`));
  await h.waitForRunLoaded(page, run.sessionId);
  await page.waitForFunction((want) => {
    const shown = [...document.querySelectorAll('[data-testid=series-chip]')].map((c) => c.dataset.metric);
    return want.every((m) => shown.includes(m));
  }, SERIES, { timeout: 10000 });
  const labels = await page.$$eval('[data-testid=series-chip]', (els) => els.map((c) => ({
    metric: c.dataset.metric,
    text: c.querySelector('.chip-label').textContent,
  })));
  for (const name of SERIES) {
    const chip = labels.find((l) => l.metric === name);
    assert.ok(chip && chip.text.includes(name), `the chip of ${name} reads ${chip && chip.text}`);
  }
  assert.ok((await page.getByTestId('run-select').textContent()).includes(RUN_NAME.slice(0, 31)),
    'the run picker names the run');

  // The socket is up, and stays up while another such run starts (its name goes out live).
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  const second = await h.startProducer(agent, { steps: 1, name: `${RUN_NAME}🚀`, lossOnly: true });
  await second.done;
  await agent.waitFinished(second.sessionId);
  await page.getByTestId('run-select').click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid=run-row][data-session="${id}"]`),
    second.sessionId, { timeout: 10000 });
  assert.equal(await page.$eval('#connection-status', (el) => el.dataset.state), 'connected');
  assert.deepEqual(page.errors, []);
  await h.screenshot(page, 'unicode_names');
});
