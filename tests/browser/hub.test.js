// The hub's page (issue 17, what must hold 2): two node agents with four ranks each under one
// run id ship to one PostgreSQL; the page of a hub (trainscope-agent --hub), which shares
// nothing with the nodes but that database, shows the run with its 8 ranks in the rank
// selector and a loss chart that grows while the trainers log.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const { Hub, withPostgresCluster, failedRequests } = require('./postgres');

test('the hub shows a run of 8 ranks on two nodes, its loss chart live', () => withPostgresCluster(async ({ postgres, track, launchBrowser }) => {
  const nodes = [];
  for (const host of ['node-a', 'node-b']) {
    // No plugins on the nodes: this test is about ranks and live points (hub_plugins.test.js
    // covers the plugins, which run on the hub).
    const node = await h.startAgent({
      extraArgs: [`--postgres=${postgres.conninfo}`, `--host-name=${host}`, '--plugins-dir='],
    });
    nodes.push(track(node));
  }
  const hub = track(await new Hub(postgres.conninfo).start());

  const runId = `hub-web-${process.pid}`;
  for (let rank = 0; rank < 8; ++rank) {
    const node = nodes[Math.floor(rank / 4)];
    // 200 steps/s for up to 100 s (stopped at the end): the chart has time to be seen growing.
    await (h.withEnv({ TRAINSCOPE_RUN_ID: runId, RANK: String(rank) },
      () => h.startProducer(node, { steps: 20000, rate: 200, name: 'hub-page' })));
  }
  await hub.waitKnown(runId, 30000);

  const page = await h.openPage(await launchBrowser(), hub.pageUrl(`/?run=${encodeURIComponent(runId)}`));
  const failed = failedRequests(page);
  await h.waitForRunLoaded(page, runId, 20000);

  // Ranks across hosts: All, then 0 to 7 (each node ships its four as they start).
  const options = () => page.$$eval('[data-testid=rank-option]', (els) => els.map((e) => e.textContent));
  await h.waitFor(async () => (await options()).length === 9, { timeoutMs: 20000, what: 'eight ranks on the page' });
  assert.deepEqual(await options(), ['All', '0', '1', '2', '3', '4', '5', '6', '7']);

  // Live: the loss chart's newest step grows while the trainers log, with no reload.
  const newestStep = async () => {
    const data = await h.chartData(page);
    const steps = (data || []).filter((d) => d.metric === 'train/loss').flatMap((d) => d.points.map((p) => p[0]));
    return steps.length ? Math.max(...steps) : -1;
  };
  const before = await newestStep();
  await h.waitFor(async () => (await newestStep()) >= before + 300,
    { timeoutMs: 20000, what: `the loss chart to grow past step ${before + 300}` });
  await h.screenshot(page, 'hub_eight_ranks');
  assert.deepEqual(failed, []);
  assert.deepEqual(page.errors.filter((e) => !/Failed to load resource: .* status of 404/.test(e)), []);
}));
