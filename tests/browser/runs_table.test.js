// The runs table (#runs) with 202 runs: 200 ended runs written into the agent's SQLite file by
// ts-seed-runs (through the agent's own Store, before the agent starts: how an agent that had
// drained them would have left them) and two real trainer processes. Proves: the table is
// reached from the run picker and by URL; it sorts by a config key and filters by text and
// status; two selected runs are overlaid on the chart, and the config keys that differ
// between them are listed with the rest folded; a rename, notes and tags persist across an
// agent restart and are found by the run picker's search (through the agent: the renamed run
// is older than the newest 200 the page holds); deleting asks, naming the run and its points;
// at 390 px the table scrolls sideways inside its frame and the page does not.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./harness');

const SEEDED = 200;
let agent;
let browser;
let trainers;

before(async () => {
  const dataDir = h.tempDir('tsweb-data-');
  execFileSync(path.join(h.buildDir, 'bin', 'ts-seed-runs'),
    [`--db=${path.join(dataDir, 'trainscope.db')}`, `--runs=${SEEDED}`, '--points=50']);
  agent = await h.startAgent({ dataDir });
  browser = await h.launchBrowser();
  trainers = [];
  for (const lr of [0.5, 0.25]) {
    const t = await h.startProducer(agent, { steps: 200, name: `live-lr-${lr}`, extra: ['--config', JSON.stringify({ optim: { lr }, seed: 7 })] });
    await t.done;
    await agent.waitFinished(t.sessionId);
    trainers.push(t);
  }
});

after(async () => {
  if (browser) await browser.close();
  await h.stopAll();
});

const seededId = (i) => `01SEED${String(i).padStart(6, '0')}`;

/** The names of the rows built, top to bottom. */
function rowNames(page) {
  return page.$$eval('[data-testid=runs-row] [data-testid=runs-name]', (cells) => cells.map((c) => c.textContent));
}

async function openTable(page) {
  await page.waitForFunction(() => {
    const view = document.querySelector('[data-testid=runs-view]');
    return view && !view.hidden && view.dataset.loading === 'false' && document.querySelectorAll('[data-testid=runs-row]').length > 0;
  }, null, { timeout: 10000 });
}

test('sort by a config key, filter, overlay two runs and see the keys that differ', async () => {
  const page = await h.openPage(browser, agent.pageUrl('/'));
  await h.waitForRunLoaded(page, trainers[1].sessionId);

  // Reached from the run picker.
  await page.getByTestId('run-select').click();
  await page.getByTestId('open-runs-table').click();
  await openTable(page);
  assert.equal(new URL(page.url()).hash, '#runs');
  assert.match(await page.getByTestId('runs-count').textContent(), /^202 runs/);
  // Only the rows in sight are built.
  const built = await page.locator('[data-testid=runs-row]').count();
  assert.ok(built < 100, `${built} rows built for 202 runs`);

  // Sort by optim.lr (a config key): ascending, then descending; runs without it last.
  const lrHead = page.locator('th[data-column="config:optim.lr"]');
  await lrHead.click();
  assert.equal(await lrHead.getAttribute('aria-sort'), 'ascending');
  const lrs = async () => page.$$eval('[data-testid=runs-row] td[data-column="config:optim.lr"]', (cells) => cells.map((c) => Number(c.textContent)));
  const up = await lrs();
  assert.equal(up[0], 0.0003);
  assert.deepEqual(up, [...up].sort((a, b) => a - b));
  await lrHead.click();
  assert.equal(await lrHead.getAttribute('aria-sort'), 'descending');
  const down = await lrs();
  assert.equal(down[0], 0.5);  // a real trainer's config
  assert.deepEqual(down, [...down].sort((a, b) => b - a));

  // The latest and best val/loss columns carry the agent's figures.
  const table = await agent.getJson('/api/runs/table?metrics=val/loss');
  const first = await page.locator('[data-testid=runs-row]').nth(2);
  const firstId = await first.getAttribute('data-session');
  const figures = table.runs.find((r) => r.session_id === firstId).figures['val/loss'];
  assert.equal(Number(await first.locator('td[data-column="best:val/loss"]').getAttribute('data-value')), figures.best);
  assert.equal(Number(await first.locator('td[data-column="latest:val/loss"]').getAttribute('data-value')), figures.latest);
  assert.ok(figures.best < figures.latest, 'the seeded val/loss ends above its best');

  // Filter by text and status.
  await page.getByTestId('runs-filter').fill('sweep-01');
  await page.waitForFunction(() => document.querySelector('[data-testid=runs-count]').textContent.startsWith('10 of 202'));
  for (const name of await rowNames(page)) assert.match(name, /^sweep-01\d$/);
  await page.getByTestId('runs-filter').fill('');
  await page.getByTestId('runs-status').selectOption('crashed');
  await page.waitForFunction(() => document.querySelector('[data-testid=runs-count]').textContent.startsWith('0 of 202'));
  await page.getByTestId('runs-status').selectOption('');

  // Select two seeded runs (lr and seed differ, the rest is the same) and overlay them.
  await page.getByTestId('runs-filter').fill('sweep-00');
  await page.waitForFunction(() => document.querySelector('[data-testid=runs-count]').textContent.startsWith('10 of 202'));
  await page.locator(`[data-session="${seededId(5)}"] [data-testid=runs-select]`).check();
  await page.locator(`[data-session="${seededId(6)}"] [data-testid=runs-select]`).check();
  const diffKeys = await page.$$eval('[data-testid=runs-diff-key]', (rows) => rows.map((r) => r.dataset.key));
  assert.deepEqual(diffKeys, ['optim.lr', 'seed']);
  const folded = page.getByTestId('runs-diff-same');
  assert.match(await folded.locator('summary').textContent(), /^4 keys the same/);
  assert.equal(await folded.getAttribute('open'), null, 'the keys that agree are folded away');

  await page.getByTestId('runs-overlay').click();
  await h.waitForRunLoaded(page, seededId(5));
  assert.equal(new URL(page.url()).hash, '');
  await page.waitForFunction((id) => window.trainscope.compare.has(id), seededId(6));
  await page.waitForFunction(() => window.trainscope.compare.seriesList().some((s) => s.points.length > 0), null, { timeout: 10000 });
  assert.equal(await page.getByTestId('runs-view').isVisible(), false);
  await page.close();
});

test('rename, notes and tags persist across an agent restart and are searchable', async () => {
  const page = await h.openPage(browser, agent.pageUrl('/#runs'));
  await openTable(page);  // reachable by URL

  // sweep-001 is older than the newest 200 runs the page's hello lists.
  const id = seededId(1);
  await page.getByTestId('runs-filter').fill('sweep-001');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=runs-row]').length === 1);
  await page.locator(`[data-session="${id}"] [data-testid=runs-edit]`).click();
  // A bad tag is refused with the agent's reason; nothing is saved.
  await page.getByTestId('runs-edit-tags').fill('good bad<tag');
  await page.getByTestId('runs-edit-save').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid=runs-edit-error]').hidden);
  assert.match(await page.getByTestId('runs-edit-error').textContent(), /bad<tag/);
  assert.equal((await agent.run(id)).name, 'sweep-001');

  await page.getByTestId('runs-edit-name').fill('renamed-one');
  await page.getByTestId('runs-edit-notes').fill('diverged after warmup');
  await page.getByTestId('runs-edit-tags').fill('keeper, lr:3e-4');
  await page.getByTestId('runs-edit-save').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=runs-editor]').hidden);
  await page.getByTestId('runs-filter').fill('keeper');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=runs-name]')].map((n) => n.textContent).join() === 'renamed-one');
  await page.close();

  await agent.stop();
  await agent.start();
  const run = await agent.run(id);
  assert.equal(run.name, 'renamed-one');
  assert.equal(run.original_name, 'sweep-001');
  assert.equal(run.notes, 'diverged after warmup');
  assert.deepEqual(run.tags, ['keeper', 'lr:3e-4']);

  // After the restart: the picker finds it by tag and by notes (asking the agent), and the
  // table shows the new name with the trainer's beside it.
  const again = await h.openPage(browser, agent.pageUrl('/'));
  await h.waitForRunLoaded(again, trainers[1].sessionId);
  await again.getByTestId('run-select').click();
  await again.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 200);
  assert.equal(await again.locator(`[data-testid=run-row][data-session="${id}"]`).count(), 0, 'older than the newest 200');
  assert.match(await again.locator('.run-pop-title').textContent(), /Runs \(202\)/);
  for (const query of ['KEEPER', 'after warmup']) {
    await again.getByTestId('run-search').fill(query);
    await again.waitForFunction(() => [...document.querySelectorAll('[data-testid=run-row] .run-name')].map((n) => n.textContent).join() === 'renamed-one');
  }
  await again.getByTestId('open-runs-table').click();
  await openTable(again);
  await again.getByTestId('runs-filter').fill('lr:3e-4');
  await again.waitForFunction(() => document.querySelectorAll('[data-testid=runs-row]').length === 1);
  assert.equal(await again.locator('.runs-original').textContent(), 'sweep-001');

  // Delete from the table: the question names the run and its points.
  const questions = [];
  again.once('dialog', (d) => { questions.push(d.message()); d.accept(); });
  await again.locator(`[data-session="${id}"] [data-testid=runs-delete]`).click();
  await again.waitForFunction(() => document.querySelectorAll('[data-testid=runs-row]').length === 0);
  assert.match(questions[0], /"renamed-one" and its 55 points/);
  assert.equal((await agent.fetch(`/api/runs/${id}`)).status, 404);
  await again.close();
});

test('at 390 px the table scrolls sideways inside its frame, never the page', async () => {
  const page = await h.openPage(browser, agent.pageUrl('/#runs'), {
    viewport: { width: 390, height: 844 }, contextOptions: { isMobile: true, hasTouch: true },
  });
  await openTable(page);
  const widths = await page.evaluate(() => {
    const frame = document.querySelector('[data-testid=runs-frame]');
    frame.scrollLeft = 10000;  // as a swipe inside the frame would
    return {
      docScroll: document.documentElement.scrollWidth,
      docClient: document.documentElement.clientWidth,
      frameScroll: frame.scrollWidth,
      frameClient: frame.clientWidth,
      frameLeft: frame.scrollLeft,
      frameRight: frame.getBoundingClientRect().right,
    };
  });
  assert.ok(widths.docScroll <= widths.docClient, `the page scrolls sideways: ${JSON.stringify(widths)}`);
  assert.ok(widths.frameScroll > widths.frameClient, 'the table is wider than its frame on a phone');
  assert.ok(widths.frameLeft > 0, 'the frame scrolled sideways');
  assert.ok(widths.frameRight <= widths.docClient + 0.5);
  // Selecting two runs shows their differences within the width too.
  await page.locator('[data-testid=runs-select]').nth(0).check();
  await page.locator('[data-testid=runs-select]').nth(1).check();
  await page.getByTestId('runs-diff').waitFor();
  const after2 = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(after2[0] <= after2[1], `with the differences shown the page scrolls sideways: ${after2}`);
  await page.close();
});
