// The run list's search and deletion, in the page: typing narrows the list as you type (name
// or id, any case); deleting an ended run asks first, naming the run and its point count,
// then the run is gone from the list and from the agent; a live run offers no delete button,
// and the agent refuses to delete it anyway (409).
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

function listedNames(page) {
  return page.$$eval('[data-testid=run-row]', (rows) => rows.map((r) => r.querySelector('.run-name').textContent));
}

test('the run list searches as you type and deletes an ended run after asking', async () => {
  const ended = [];
  for (const name of ['warmup-small', 'Warmup-LARGE', 'finetune']) {
    const run = await h.startProducer(agent, { steps: 300, rate: 0, name });
    await run.done;
    await agent.waitFinished(run.sessionId);
    ended.push(run);
  }
  const live = await h.startProducer(agent, { steps: 4000, rate: 200, name: 'live-one' });
  await agent.waitKnown(live.sessionId);

  const page = await h.openPage(browser, agent.pageUrl());
  await h.waitForRunLoaded(page, live.sessionId);
  await page.getByTestId('run-select').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 4);

  // Search: case does not matter; the title says how many match.
  await page.getByTestId('run-search').fill('warmup');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 2);
  assert.deepEqual(await listedNames(page), ['Warmup-LARGE', 'warmup-small']);
  assert.match(await page.locator('.run-pop-title').textContent(), /2 of 4/);
  await page.getByTestId('run-search').fill('no such run');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 0);
  assert.match(await page.locator('.run-empty').textContent(), /No run matches/);
  await page.getByTestId('run-search').fill('');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 4);

  // The live run has no delete button; the agent refuses it too.
  assert.equal(await page.locator(`[data-session="${live.sessionId}"] [data-testid=run-delete]`).isVisible(), false);
  const refused = await agent.fetch(`/api/runs/${live.sessionId}`, { method: 'DELETE' });
  assert.equal(refused.status, 409);

  // Delete an ended run: the confirmation names it and its points; cancelling keeps it.
  const victim = ended[0];
  const questions = [];
  page.once('dialog', (d) => { questions.push(d.message()); d.dismiss(); });
  await page.locator(`[data-session="${victim.sessionId}"] [data-testid=run-delete]`).click();
  await h.waitFor(() => questions.length === 1, { what: 'the confirmation' });
  assert.match(questions[0], /warmup-small/);
  assert.match(questions[0], /and its [1-9][\d,.\s]* points/);
  assert.equal((await agent.fetch(`/api/runs/${victim.sessionId}`)).status, 200, 'cancelled, yet deleted');

  // Another page open on the same agent learns of the deletion too (run_deleted).
  const other = await h.openPage(browser, agent.pageUrl());
  await h.waitForRunLoaded(other, live.sessionId);
  await other.getByTestId('run-select').click();
  await other.waitForFunction((id) => document.querySelector(`[data-testid=run-row][data-session="${id}"]`), victim.sessionId);

  page.once('dialog', (d) => d.accept());
  await page.locator(`[data-session="${victim.sessionId}"] [data-testid=run-delete]`).click();
  await page.waitForFunction((id) => !document.querySelector(`[data-testid=run-row][data-session="${id}"]`), victim.sessionId);
  assert.equal((await agent.fetch(`/api/runs/${victim.sessionId}`)).status, 404);
  assert.deepEqual(await listedNames(page), ['live-one', 'finetune', 'Warmup-LARGE']);
  await other.waitForFunction((id) => !document.querySelector(`[data-testid=run-row][data-session="${id}"]`), victim.sessionId);
  assert.deepEqual(other.errors, []);
  assert.deepEqual(page.errors, []);
  await h.screenshot(page, 'run_list_search_delete');
});
