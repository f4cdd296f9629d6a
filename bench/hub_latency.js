#!/usr/bin/env node
// log() on a node -> a WebSocket client of a hub (trainscope-agent --hub), through the node's
// spool, its shipper's batches (COPY + NOTIFY), PostgreSQL, and the hub's LISTEN: the point's
// t_ms (the trainer's clock at log time) against the client's clock at arrival. Baseline in
// the same run: the same points at a WebSocket client of their own node agent.
//
//   node bench/hub_latency.js [--ranks 8] [--nodes 2] [--rate 200] [--seconds 20]
//   TRAINSCOPE_BUILD_DIR=<build tree with bin/trainscope-agent, bin/ts-producer>
//
// Needs PostgreSQL 15 (Debian `postgresql`, tools/bootstrap); starts its own server, node
// agents and hub, and stops them by pid. Goal: hub client p99 <= 1 s. Everything shares one
// machine and its clock; the load average is printed because other work moves the tail.
'use strict';

const os = require('node:os');
const path = require('node:path');
const h = require(path.join(__dirname, '..', 'tests', 'browser', 'harness.js'));
const { startPostgres, Hub } = require(path.join(__dirname, '..', 'tests', 'browser', 'postgres.js'));

const WebSocket = h.requireWeb('ws');
const GOAL_P99_MS = 1000;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function stats(values) {
  return {
    n: values.length,
    p50: h.percentile(values, 50),
    p99: h.percentile(values, 99),
    max: values.reduce((a, b) => Math.max(a, b), -Infinity),
  };
}

/** Subscribes to the run; records arrival - t_ms for points logged after measureFrom. */
function wsClient(agent, sessionId, measureFrom) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(agent.wsUrl, { headers: agent.authHeaders });
    const client = { ws, latencies: [] };
    ws.on('error', reject);
    ws.on('message', (data) => {
      const now = Date.now();
      const m = JSON.parse(data.toString());
      if (m.type === 'hello') {
        ws.send(JSON.stringify({ type: 'subscribe', session_id: sessionId }));
        resolve(client);
      } else if (m.type === 'training_update' && m.session_id === sessionId) {
        for (const p of m.points) if (p[1] >= measureFrom()) client.latencies.push(now - p[1]);
      }
    });
  });
}

async function main() {
  const ranks = arg('ranks', 8);
  const nodeCount = arg('nodes', 2);
  const rate = arg('rate', 200);
  const seconds = arg('seconds', 20);
  const runId = `hub-latency-${process.pid}`;
  let postgres;
  let result;
  const stoppable = [];
  try {
    postgres = await startPostgres();
    const nodes = [];
    for (let i = 0; i < nodeCount; ++i)
      nodes.push(await h.startAgent({
        extraArgs: [`--postgres=${postgres.conninfo}`, `--host-name=node-${i}`, '--plugins-dir='],
      }));
    stoppable.push(...nodes);
    const hub = await new Hub(postgres.conninfo).start();
    stoppable.push(hub);
    const trainers = [];
    // Each rank logs train/loss at `rate` steps/s (val/loss every 100 steps) for `seconds`.
    for (let rank = 0; rank < ranks; ++rank) {
      const node = nodes[rank % nodeCount];
      trainers.push(await h.withEnv({ TRAINSCOPE_RUN_ID: runId, RANK: String(rank) },
        () => h.startProducer(node, { steps: Math.round(rate * seconds), rate, name: 'hub-latency' })));
    }
    await hub.waitKnown(runId, 30000);
    await nodes[0].waitKnown(runId, 30000);
    // Skip the first second: the run appearing, the subscribes and their replays.
    const measureFrom = Date.now() + 1000;
    const onHub = await wsClient(hub, runId, () => measureFrom);
    const onNode = await wsClient(nodes[0], runId, () => measureFrom);
    let dropped = 0;
    for (const t of trainers) dropped += (await t.done) || 0;
    // The last batch ships within a second; then the run's last points have arrived.
    await h.sleep(2500);
    onHub.ws.close();
    onNode.ws.close();
    result = { hub: stats(onHub.latencies), node: stats(onNode.latencies), dropped };
  } finally {
    // Agents before PostgreSQL (its fast shutdown ends their connections), then the rest.
    for (const s of stoppable) await s.stop();
    if (postgres) await postgres.stop();
    await h.stopAll();
  }

  const cpu = os.cpus();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`log() -> hub client latency: ${ranks} ranks on ${nodeCount} node agents, ${rate} steps/s each ` +
    `for ${seconds} s (train/loss, plus val/loss every 100 steps)`);
  console.log(`machine: ${cpu.length} x ${cpu[0] ? cpu[0].model.trim() : '?'}, ${os.platform()} ${os.release()}; ` +
    `load average ${load} (at the end); trainers, agents, PostgreSQL, hub and clients on the same machine; ` +
    `trainers dropped ${result.dropped} records`);
  console.log('');
  const f = (v) => (Number.isFinite(v) ? v.toFixed(0) : '—').padStart(8);
  console.log(`${'client'.padEnd(34)}${'points'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max ms'.padStart(8)}`);
  console.log(`${'hub (all ranks)'.padEnd(34)}${String(result.hub.n).padStart(8)}${f(result.hub.p50)}${f(result.hub.p99)}${f(result.hub.max)}`);
  console.log(`${'baseline: node 0 (its own ranks)'.padEnd(34)}${String(result.node.n).padStart(8)}${f(result.node.p50)}${f(result.node.p99)}${f(result.node.max)}`);
  console.log('');
  console.log(`hub p99 / node p99: ${(result.hub.p99 / result.node.p99).toFixed(1)}x`);
  const p99 = result.hub.p99;
  console.log(`goal: hub client p99 <= ${GOAL_P99_MS} ms: ${p99 <= GOAL_P99_MS ? 'met' : 'MISSED'} (${p99.toFixed(0)} ms)`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
