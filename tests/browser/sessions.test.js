// Sessions: the run list (name, status, latest loss), switching runs (the chart shows the
// picked run's data, the URL follows, ?run= reopens it), overlaying runs to compare them
// (each overlay equals its run's REST data, and streams live), and the ranks of a
// distributed run (one run, a rank selector, each rank's series equal to its REST ?rank=).
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

/** The chart's datasets, with the run each belongs to. */
function datasets(page) {
  return page.evaluate(() => Chart.getChart(document.getElementById('loss-chart')).data.datasets.map((d) => ({
    label: d.label,
    metric: d.metric,
    rank: d.rank,
    sessionId: d.sessionId,
    overlay: d.overlay,
    hidden: Boolean(d.hidden),
    color: d.borderColor,
    points: d.data.map((p) => [p.x, p.y, p.t]),
  })));
}

function assertEqualsRest(d, rest, what) {
  assert.equal(rest.downsampled, false, `${what}: REST had to downsample`);
  assert.equal(d.points.length, rest.points.length, `${what}: chart ${d.points.length} points, REST ${rest.points.length}`);
  assert.deepEqual(d.points.map((p) => p[0]), rest.points.map((p) => p[0]), `${what}: steps differ`);
  assert.deepEqual(d.points.map((p) => p[1]), rest.points.map((p) => p[2]), `${what}: values differ`);
  assert.deepEqual(d.points.map((p) => p[2]), rest.points.map((p) => p[1]), `${what}: timestamps differ`);
}

/**
 * Waits until the chart has a dataset matching `spec` ({metric, rank, sessionId, overlay}:
 * each given field must be equal) holding `n` points.
 */
async function waitForDataset(page, spec, n, timeout = 10000) {
  await page.waitForFunction(({ want, count }) => {
    const chart = Chart.getChart(document.getElementById('loss-chart'));
    const d = chart && chart.data.datasets.find((x) => Object.entries(want).every(([k, v]) => x[k] === v));
    return d && d.data.length === count;
  }, { want: spec, count: n }, { timeout });
}

async function openRunList(page) {
  if (await page.getByTestId('run-list').isHidden()) await page.getByTestId('run-select').click();
  await page.getByTestId('run-list').waitFor({ state: 'visible' });
}

function rows(page) {
  return page.$$eval('[data-testid=run-row]', (els) => els.map((r) => ({
    session: r.dataset.session,
    status: r.dataset.status,
    badge: r.querySelector('.status-badge').textContent.trim(),
    name: r.querySelector('.run-name').textContent,
    loss: r.querySelector('[data-testid=run-loss]').textContent,
    current: r.getAttribute('aria-current') === 'true',
  })));
}

test('the run list shows each session with its status; picking one shows its data; ?run= reopens it', async () => {
  const alpha = await h.startProducer(agent, { steps: 600, rate: 0, name: 'sess-alpha', extra: ['--hold_ms', '200'] });
  await alpha.done;
  await agent.waitFinished(alpha.sessionId);
  const crashed = await h.startProducer(agent, { steps: 300, rate: 0, name: 'sess-crashed', extra: ['--crash', '--hold_ms', '200'] });
  await crashed.done;
  assert.equal((await agent.waitFinished(crashed.sessionId)).status, 'crashed');
  // Still running while the page looks: 4000 steps at 200/s.
  const beta = await h.startProducer(agent, { steps: 4000, rate: 200, name: 'sess-beta', extra: ['--start_step', '1000'] });

  const page = await h.openPage(browser, agent.pageUrl());
  await h.waitForRunLoaded(page, beta.sessionId);  // follows the newest run

  await openRunList(page);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 3 &&
    [...document.querySelectorAll('[data-testid=run-loss]')].every((el) => /\d/.test(el.textContent)));
  const listed = await rows(page);
  assert.deepEqual(listed.map((r) => r.name), ['sess-beta', 'sess-crashed', 'sess-alpha'], 'newest first');
  assert.deepEqual(listed.map((r) => r.status), ['running', 'crashed', 'finished']);
  // The status is a word, not a color alone.
  assert.deepEqual(listed.map((r) => r.badge.replace(/^\W+/, '')), ['running', 'crashed', 'finished']);
  assert.deepEqual(listed.map((r) => r.current), [true, false, false]);
  const alphaRest = await agent.series(alpha.sessionId, 'train/loss');
  const alphaLast = alphaRest.points[alphaRest.points.length - 1][2];
  assert.equal(listed[2].loss, alphaLast.toPrecision(4), 'the latest loss of sess-alpha');
  await h.screenshot(page, 'sessions_run_list');

  // Pick the finished run: the chart shows its data, the URL names it.
  await page.locator(`[data-session="${alpha.sessionId}"] [data-testid=run-open]`).click();
  await h.waitForRunLoaded(page, alpha.sessionId);
  await waitForDataset(page, { metric: 'train/loss', overlay: false }, 600);
  let train = (await datasets(page)).find((d) => d.metric === 'train/loss');
  assert.equal(train.sessionId, null);  // the shown run's own series carry no overlay id
  assertEqualsRest(train, alphaRest, 'sess-alpha train/loss');
  assert.equal(new URL(page.url()).searchParams.get('run'), alpha.sessionId);
  await page.waitForFunction(() => document.getElementById('run-status').dataset.status === 'finished');
  assert.equal(await page.getByTestId('run-select').getAttribute('data-follow'), 'false');

  // A reload keeps the run.
  await page.reload();
  await h.waitForRunLoaded(page, alpha.sessionId);
  await waitForDataset(page, { metric: 'train/loss', overlay: false }, 600);

  // A bookmark of the crashed run opens it (not the newest run), browsable from the database.
  const later = await h.openPage(browser, agent.pageUrl(`/?run=${crashed.sessionId}`));
  await h.waitForRunLoaded(later, crashed.sessionId);
  await waitForDataset(later, { metric: 'train/loss' }, 300);
  train = (await datasets(later)).find((d) => d.metric === 'train/loss');
  assertEqualsRest(train, await agent.series(crashed.sessionId, 'train/loss'), 'sess-crashed train/loss');
  await later.waitForFunction(() => document.getElementById('run-status').dataset.status === 'crashed');
  assert.match(await later.locator('#run-status').innerText(), /crashed/);

  // Back to following: the newest run again.
  await openRunList(page);
  await page.getByTestId('run-follow').click();
  await h.waitForRunLoaded(page, beta.sessionId);
  assert.equal(new URL(page.url()).searchParams.get('run'), null);

  await h.stopChild(beta.process);
  assert.deepEqual([...page.errors, ...later.errors], []);
});

test('runs overlaid to compare: each overlay equals its run\'s REST data, live ones stream', async () => {
  const one = await h.startProducer(agent, { steps: 800, rate: 0, name: 'cmp-one', extra: ['--hold_ms', '200'] });
  const two = await h.startProducer(agent, { steps: 700, rate: 0, name: 'cmp-two', extra: ['--start_step', '300', '--hold_ms', '200'] });
  await Promise.all([one.done, two.done]);
  await agent.waitFinished(one.sessionId);
  await agent.waitFinished(two.sessionId);

  const page = await h.openPage(browser, agent.pageUrl(`/?run=${one.sessionId}`));
  await h.waitForRunLoaded(page, one.sessionId);
  await openRunList(page);
  // The run shown cannot be compared with itself.
  assert.equal(await page.locator(`[data-session="${one.sessionId}"] [data-testid=run-compare]`).isDisabled(), true);
  await page.locator(`[data-session="${two.sessionId}"] [data-testid=run-compare]`).check();
  await waitForDataset(page, { metric: 'train/loss', overlay: true }, 700);

  let all = await datasets(page);
  const own = all.find((d) => d.metric === 'train/loss' && !d.overlay);
  const overlay = all.find((d) => d.overlay);
  assertEqualsRest(own, await agent.series(one.sessionId, 'train/loss'), 'cmp-one train/loss');
  assertEqualsRest(overlay, await agent.series(two.sessionId, 'train/loss'), 'cmp-two train/loss (overlay)');
  assert.equal(overlay.sessionId, two.sessionId);
  assert.match(overlay.label, /cmp-two/, 'the legend names the run');
  assert.equal(overlay.hidden, false);
  assert.notEqual(overlay.color, own.color);
  // Its chip (the legend) names the run too.
  const chip = page.locator(`[data-testid=series-chip][data-series="cmp:${two.sessionId}:train/loss@0"]`);
  assert.match(await chip.innerText(), /cmp-two/);
  assert.equal(new URL(page.url()).searchParams.get('compare'), two.sessionId);

  // A running run overlaid keeps streaming: once it ends, its overlay holds every point.
  const live = await h.startProducer(agent, { steps: 900, rate: 300, name: 'cmp-live', extra: ['--start_step', '100'] });
  await h.waitFor(async () => (await agent.run(live.sessionId)).points > 100, { what: 'cmp-live to log' });
  await page.waitForFunction((id) => !!document.querySelector(`[data-session="${id}"] [data-testid=run-compare]`), live.sessionId);
  await page.locator(`[data-session="${live.sessionId}"] [data-testid=run-compare]`).check();
  await page.keyboard.press('Escape');
  await page.waitForFunction((id) => {
    const d = Chart.getChart(document.getElementById('loss-chart')).data.datasets.find((x) => x.sessionId === id);
    return d && d.data.length > 0 && d.data.length < 900;
  }, live.sessionId, { timeout: 10000 });  // seen mid-run
  await h.screenshot(page, 'sessions_compare_live');
  await live.done;
  await agent.waitFinished(live.sessionId);
  await waitForDataset(page, { sessionId: live.sessionId }, 900);
  all = await datasets(page);
  assertEqualsRest(all.find((d) => d.sessionId === live.sessionId), await agent.series(live.sessionId, 'train/loss'),
    'cmp-live train/loss (overlay, streamed)');
  assert.equal(all.filter((d) => d.overlay).length, 2);

  // The comparison is in the URL: a reload brings both overlays back.
  const url = new URL(page.url());
  assert.deepEqual(url.searchParams.get('compare').split(','), [two.sessionId, live.sessionId]);
  await page.reload();
  await h.waitForRunLoaded(page, one.sessionId);
  await waitForDataset(page, { sessionId: two.sessionId }, 700);
  await waitForDataset(page, { sessionId: live.sessionId }, 900);

  // Unticking takes an overlay off.
  await openRunList(page);
  await page.locator(`[data-session="${two.sessionId}"] [data-testid=run-compare]`).uncheck();
  await page.waitForFunction((id) => !Chart.getChart(document.getElementById('loss-chart')).data.datasets.some((d) => d.sessionId === id),
    two.sessionId);
  assert.equal(new URL(page.url()).searchParams.get('compare'), live.sessionId);
  assert.deepEqual(page.errors, []);
});

test('a distributed run: one run, a rank selector, each rank\'s series equal to its REST data', async () => {
  const runId = `ranks-${process.pid}`;
  const r0 = h.withEnv({ TRAINSCOPE_RUN_ID: runId, RANK: '0' },
    () => h.startProducer(agent, { steps: 800, rate: 0, name: 'ddp-job', extra: ['--hold_ms', '200'] }));
  const r1 = h.withEnv({ TRAINSCOPE_RUN_ID: runId, RANK: '1' },
    () => h.startProducer(agent, { steps: 600, rate: 0, name: 'ddp-job', extra: ['--start_step', '2000', '--hold_ms', '200'] }));
  assert.equal((await r0).sessionId, runId);
  assert.equal((await r1).sessionId, runId);
  await Promise.all([(await r0).done, (await r1).done]);
  await h.waitFor(async () => {
    const run = await agent.run(runId);
    if (run.status === 'running') return null;
    const [a, b] = await Promise.all([agent.series(runId, 'train/loss', { rank: 0 }), agent.series(runId, 'train/loss', { rank: 1 })]);
    return a.points.length === 800 && b.points.length === 600;
  }, { what: 'both ranks stored' });
  const runs = (await agent.getJson('/api/runs')).runs.filter((r) => r.session_id === runId);
  assert.equal(runs.length, 1, 'both ranks are one run');
  assert.deepEqual(runs[0].ranks, [0, 1]);

  const page = await h.openPage(browser, agent.pageUrl(`/?run=${runId}`));
  await h.waitForRunLoaded(page, runId);
  await waitForDataset(page, { metric: 'train/loss', rank: 1 }, 600);
  await waitForDataset(page, { metric: 'train/loss', rank: 0 }, 800);

  // One entry in the run list, saying it has two ranks.
  await openRunList(page);
  const listed = (await rows(page)).filter((r) => r.session === runId);
  assert.equal(listed.length, 1);
  assert.match(await page.locator(`[data-session="${runId}"] .run-ranks`).innerText(), /2 ranks/);
  await page.keyboard.press('Escape');

  // The rank selector: All, 0, 1.
  const selector = page.getByTestId('rank-select');
  assert.equal(await selector.isVisible(), true);
  assert.deepEqual(await page.$$eval('[data-testid=rank-option]', (els) => els.map((e) => e.textContent)), ['All', '0', '1']);

  let all = await datasets(page);
  for (const rank of [0, 1]) {
    for (const metric of ['train/loss', 'val/loss']) {
      const d = all.find((x) => x.metric === metric && x.rank === rank);
      assert.ok(d, `no dataset for ${metric} rank ${rank}`);
      assert.equal(d.label, `${metric} [rank ${rank}]`);
      assert.equal(d.hidden, false);
      assertEqualsRest(d, await agent.series(runId, metric, { rank }), `${metric} rank ${rank}`);
    }
  }
  await h.screenshot(page, 'sessions_ranks_all');

  // Rank 1 only: rank 0's series leave the chart; the URL keeps the choice.
  await page.locator('[data-testid=rank-option][data-rank="1"]').click();
  await page.waitForFunction(() => !Chart.getChart(document.getElementById('loss-chart')).data.datasets
    .some((d) => d.rank === 0 && ['train/loss', 'val/loss'].includes(d.metric)));
  all = await datasets(page);
  const shown = all.filter((d) => !d.hidden && /loss/.test(d.metric)).map((d) => d.label).sort();
  assert.deepEqual(shown, ['train/loss [rank 1]', 'val/loss [rank 1]']);
  assertEqualsRest(all.find((d) => d.metric === 'train/loss'), await agent.series(runId, 'train/loss', { rank: 1 }), 'rank 1 only');
  assert.equal(new URL(page.url()).searchParams.get('rank'), '1');
  await h.screenshot(page, 'sessions_ranks_one');

  await page.locator('[data-testid=rank-option][data-rank="all"]').click();
  await page.waitForFunction(() => Chart.getChart(document.getElementById('loss-chart')).data.datasets
    .filter((d) => d.metric === 'train/loss').length === 2);
  assert.deepEqual(page.errors, []);
});
