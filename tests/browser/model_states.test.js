// The model panel's states with a real agent: loading, a run that never reported its model
// (404: a clear message), malformed model info (422: the agent's own error text), and
// following the run the page shows (a new newest run reloads the panel).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const m = require('./model_support');

let agent;
let browser;
h.useAgentAndBrowser((a, b) => {
  agent = a;
  browser = b;
});

const messageOf = (page) => page.evaluate(() => ({
  state: document.getElementById('model-panel').dataset.state,
  text: document.querySelector('[data-testid="model-message-text"]')?.textContent ?? null,
  error: document.querySelector('[data-testid="model-error"]')?.textContent ?? null,
  diagramShown: Boolean(document.querySelector('#model-panel .mp-main')?.offsetParent),
}));

test('a run without model info says so clearly', async () => {
  const run = await m.startModelRun(agent, 'no-model', null, { expectStatus: 404 });
  const page = await m.openModelPage(browser, agent, run.sessionId, { state: 'none' });
  const shown = await messageOf(page);
  assert.equal(shown.text, 'This run did not report its model — call run.set_model_info(...)');
  assert.equal(shown.diagramShown, false);
  assert.equal(await page.getByTestId('model-summary').textContent(), 'not reported');
  assert.ok(await page.getByTestId('model-retry').isVisible(), 'a "check again" button');
  await h.screenshot(page, 'model-no-info');
  assert.deepEqual(page.errors, []);
});

test("malformed model info shows the agent's error text", async () => {
  const cases = [
    ['bad-tree', JSON.stringify({ config: { n_layer: 1 }, tree: { name: 'GPT', type: 'GPT', children: [{ type: 'Block' }] } })],
    ['bad-json', '{"config": {"n_layer": 2}, "tree": {"name": "GPT", '],
  ];
  for (const [name, text] of cases) {
    const run = await m.startModelRun(agent, name, text, { expectStatus: 422 });
    const page = await m.openModelPage(browser, agent, run.sessionId, { state: 'error' });
    const shown = await messageOf(page);
    assert.equal(shown.error, run.reply.body.error, `${name}: the agent's words`);
    assert.match(shown.error, /^the trainer's model info /);
    assert.match(shown.text, /cannot read it/);
    assert.equal(shown.diagramShown, false);
    if (name === 'bad-tree') await h.screenshot(page, 'model-malformed');
    // Chromium logs the 422 response; nothing else may be logged.
    assert.deepEqual(page.errors.filter((e) => !/status of 422/.test(e)), []);
    await page.context().close();
  }
});

test('loading is shown while the model info is on its way', async () => {
  const run = await m.startModelRun(agent, 'slow', m.gptModelInfo(['--n_layer', 2]));
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
  });
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${run.sessionId}`), {
    setup: (p) => p.route('**/api/model-info*', async (route) => {
      await gate;
      await route.continue();
    }),
  });
  await m.waitForPanel(page, 'loading', run.sessionId);
  const shown = await messageOf(page);
  assert.equal(shown.text, 'Loading the model…');
  assert.equal(await page.getByTestId('model-summary').textContent(), 'loading…');
  release();
  await m.waitForPanel(page, 'ready', run.sessionId);
  assert.equal(await page.evaluate(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length), 2);
  assert.deepEqual(page.errors, []);
});

test('the panel follows the run shown: a new newest run reloads it', async () => {
  const first = await m.startModelRun(agent, 'follow-6', m.gptModelInfo(m.SIX_LAYERS));
  const page = await h.openPage(browser, agent.pageUrl());  // follow the newest run
  await m.waitForPanel(page, 'ready', first.sessionId);
  assert.equal(await page.evaluate(() => document.getElementById('model-panel').dataset.blocks), '6');

  const second = await m.startModelRun(agent, 'follow-48', m.gptModelInfo(m.FORTY_EIGHT_LAYERS));
  await m.waitForPanel(page, 'ready', second.sessionId);
  assert.equal(await page.evaluate(() => document.getElementById('model-panel').dataset.blocks), '4');
  assert.match(await page.getByTestId('model-summary').innerText(), /48 layers/);

  const third = await m.startModelRun(agent, 'follow-none', null, { expectStatus: 404 });
  await m.waitForPanel(page, 'none', third.sessionId);
  assert.deepEqual(page.errors, []);
});
