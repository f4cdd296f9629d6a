// Plugins on the hub (issue 17: "analytics (plugins run on the hub over the shipped points)"):
// two node agents, each running its own plugins, ship a run of 4 ranks (2 per node) to one
// PostgreSQL; the page of a hub shows the statistics panel fed by the hub's plugins and the
// velocity plugin's derived series, and asks for nothing that fails (a derived series exists
// at rank 0 only: the page must know the hub's plugins to not ask the other ranks for it).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const { Hub, withPostgresCluster, failedRequests } = require('./postgres');

test('the hub page shows the analytics panel and derived series of a 2-node run', () => withPostgresCluster(async ({ postgres, track, launchBrowser }) => {
  const nodes = [];
  for (const host of ['node-a', 'node-b']) {
    // The built plugins on every node too: what they derive stays on the node.
    const node = await h.startAgent({ extraArgs: [`--postgres=${postgres.conninfo}`, `--host-name=${host}`] });
    nodes.push(track(node));
  }
  const hub = track(await new Hub(postgres.conninfo).start());

  const runId = `hub-plugins-web-${process.pid}`;
  const start = (rank) => h.withEnv({ TRAINSCOPE_RUN_ID: runId, RANK: String(rank) },
    () => h.startProducer(nodes[rank < 2 ? 0 : 1], {
      steps: 20000, rate: 200, name: 'hub-analytics', extra: ['--config', '{"max_iters":20000}'],
    }));
  await start(0);  // rank 0 first: velocity follows the lowest rank it has seen
  await hub.waitKnown(runId, 30000);
  for (const rank of [1, 2, 3]) await start(rank);

  // The hub derives velocity/iters_per_s once the rate is known.
  await h.waitFor(async () => {
    const r = await hub.fetch(`/api/runs/${encodeURIComponent(runId)}/metrics/${encodeURIComponent('velocity/iters_per_s')}?last=1`);
    return r.ok;
  }, { timeoutMs: 30000, what: 'the hub to derive velocity/iters_per_s' });
  await h.waitFor(async () => (await hub.run(runId)).ranks.length === 4, { timeoutMs: 20000, what: 'four ranks' });

  const page = await h.openPage(await launchBrowser(), hub.pageUrl(`/?run=${encodeURIComponent(runId)}`));
  const failed = failedRequests(page);
  await h.waitForRunLoaded(page, runId, 20000);

  // The statistics panel is the plugins' (not the page's own fallback), with a rate.
  await page.waitForFunction(() => document.getElementById('stats-panel').dataset.source === 'plugins',
    null, { timeout: 20000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=stat-rate]').dataset.value) > 0,
    null, { timeout: 20000 });
  // The derived series is offered as a series of the run, and charted once chosen.
  const chip = page.locator('[data-testid=series-chip][data-metric="velocity/iters_per_s"]');
  await chip.first().waitFor({ timeout: 20000 });
  await chip.first().click();
  await page.waitForFunction(() => document.querySelector(
    '[data-testid=series-chip][data-metric="velocity/iters_per_s"]').dataset.checked === 'true');
  await h.waitFor(async () => {
    const data = await h.chartData(page);
    return (data || []).some((d) => d.metric === 'velocity/iters_per_s' && d.points.length > 0);
  }, { timeoutMs: 20000, what: 'velocity/iters_per_s on the chart' });
  await h.screenshot(page, 'hub_plugins_analytics');

  const rest = await hub.getJson(`/api/runs/${encodeURIComponent(runId)}/analytics`);
  assert.ok(rest.stats.statistics && rest.stats.velocity, JSON.stringify(rest));
  const plugins = (await hub.getJson('/api/plugins')).plugins;
  assert.equal(plugins.find((p) => p.name === 'velocity').state, 'enabled');

  assert.deepEqual(failed, []);
  assert.deepEqual(page.errors.filter((e) => !/Failed to load resource: .* status of 404/.test(e)), []);
}));
