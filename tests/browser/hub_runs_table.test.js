// The runs table on the hub (issue 17): a node agent ships a run to PostgreSQL; two hubs
// serve it. In the page of hub one the user renames and tags the run; the page of hub two,
// open all along, shows the new name without a reload (run_updated through PostgreSQL's
// NOTIFY); deleting the run from hub two's table removes it from PostgreSQL, so hub one
// answers 404 for it too.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const { Hub, withPostgresCluster, failedRequests } = require('./postgres');

async function openTable(page) {
  await page.waitForFunction(() => {
    const view = document.querySelector('[data-testid=runs-view]');
    return view && !view.hidden && view.dataset.loading === 'false' && document.querySelectorAll('[data-testid=runs-row]').length > 0;
  }, null, { timeout: 20000 });
}

test('a run renamed on one hub shows renamed on another; deleted there, it is gone from both', () => withPostgresCluster(async ({ postgres, track, launchBrowser }) => {
  const node = await h.startAgent({ extraArgs: [`--postgres=${postgres.conninfo}`, '--host-name=node-a', '--plugins-dir='] });
  track(node);
  const one = await new Hub(postgres.conninfo).start();
  const two = await new Hub(postgres.conninfo).start();
  track(one, two);
  const trainer = await h.startProducer(node, { steps: 300, name: 'hub-table' });
  await trainer.done;
  await h.waitFor(async () => {
    const r = await one.fetch(`/api/runs/${trainer.sessionId}`);
    return r.status === 200 && (await r.json()).status === 'finished';
  }, { timeoutMs: 30000, what: 'the finished run on the hub' });

  const browser = await launchBrowser();
  const watching = await h.openPage(browser, two.pageUrl('/#runs'));
  await openTable(watching);
  const editing = await h.openPage(browser, one.pageUrl('/#runs'));
  await openTable(editing);

  await editing.locator(`[data-session="${trainer.sessionId}"] [data-testid=runs-edit]`).click();
  await editing.getByTestId('runs-edit-name').fill('renamed-on-hub');
  await editing.getByTestId('runs-edit-tags').fill('hub, lr:1e-3');
  await editing.getByTestId('runs-edit-save').click();
  await editing.waitForFunction(() => document.querySelector('[data-testid=runs-editor]').hidden);

  // The other hub's page, untouched since it loaded, shows the new name.
  await watching.waitForFunction(() => [...document.querySelectorAll('[data-testid=runs-name]')]
    .map((n) => n.textContent).includes('renamed-on-hub'), null, { timeout: 20000 });
  const run = await (await two.fetch(`/api/runs/${trainer.sessionId}`)).json();
  assert.deepEqual(run.tags, ['hub', 'lr:1e-3']);
  assert.equal(run.original_name, 'hub-table');

  // Deleted from hub two's table: gone from PostgreSQL, so from hub one as well.
  watching.once('dialog', (d) => d.accept());
  await watching.locator(`[data-session="${trainer.sessionId}"] [data-testid=runs-delete]`).click();
  await watching.waitForFunction(() => document.querySelectorAll('[data-testid=runs-row]').length === 0);
  assert.equal((await one.fetch(`/api/runs/${trainer.sessionId}`)).status, 404);
  assert.deepEqual(editing.errors.filter((e) => !/status of 404/.test(e)), []);
  assert.deepEqual(watching.errors.filter((e) => !/status of 404/.test(e)), []);
}));
