#!/usr/bin/env node
// End-to-end latency: from log() in a trainer (the point's t_ms, which the agent derives from
// the trainer's clock at log time) to the point arriving in the dashboard page (headless
// chromium) and, as a baseline in the same run, in a plain WebSocket client (ws package).
//
//   node bench/e2e_latency.js [--rate 1000] [--seconds 10] [--fps N] [--text]
//   TRAINSCOPE_BUILD_DIR=<build tree with bin/trainscope-agent, bin/ts-producer>
//
// "page: arrival" is when the page's WebSocket handler got the message; "page: drawn" is when
// the chart had been redrawn with the point (the page redraws at most 30 times a second by
// default; --fps sets its ?fps=). Goal: page arrival p99 <= 50 ms. Trainer, agent and
// clients share the machine and its clock; the load average is printed because other work
// on a 2-core machine moves the tail a lot.
'use strict';

const os = require('node:os');
const path = require('node:path');
const h = require(path.join(__dirname, '..', 'tests', 'browser', 'harness.js'));

const WebSocket = h.requireWeb('ws');
const GOAL_P99_MS = 50;

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

function wsClient(url, headers, sessionId, measureFrom) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const client = { ws, latencies: [] };
    ws.on('error', reject);
    ws.on('message', (data) => {
      const now = Date.now();
      const m = JSON.parse(data.toString());
      if (m.type === 'hello') {
        ws.send(JSON.stringify({ type: 'subscribe', session_id: sessionId, since_seq: 0 }));
        resolve(client);
      } else if (m.type === 'training_update') {
        for (const p of m.points) if (p[1] >= measureFrom()) client.latencies.push(now - p[1]);
      }
    });
  });
}

async function main() {
  const rate = arg('rate', 1000);
  const seconds = arg('seconds', 10);
  const agent = await h.startAgent();
  const browser = await h.launchBrowser();
  let result;
  try {
    // --text: the page without Chart.js (its text fallback), to see what drawing costs.
    const textOnly = process.argv.includes('--text');
    const fps = arg('fps', null);  // the page's ?fps= setting (most chart redraws per second)
    const page = await h.openPage(browser, agent.pageUrl(fps ? `/?fps=${fps}` : '/'), {
      setup: textOnly ? (p) => p.route('**/vendor/chart.umd.js', (r) => r.abort()) : undefined,
    });
    await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
    // Measure in the page: arrival (socket handler) and drawn (after the chart redraw).
    await page.evaluate(() => {
      const b = { from: Infinity, arrival: [], drawn: [], pending: [] };
      window.__bench = b;
      window.trainscope.socket.addEventListener('message', (e) => {
        const m = e.detail;
        if (m.type !== 'training_update') return;
        const at = window.trainscope.socket.lastReceivedAt;
        for (const p of m.points) {
          if (p[1] < b.from) continue;
          b.arrival.push(at - p[1]);
          b.pending.push(p[1]);
        }
      });
      window.trainscope.events.addEventListener('render', () => {
        const now = Date.now();
        for (const t of b.pending) b.drawn.push(now - t);
        b.pending = [];
      });
    });

    const trainer = await h.startProducer(agent, { steps: Math.round(rate * seconds), rate, name: 'e2e-latency' });
    await agent.waitKnown(trainer.sessionId);  // a subscribe before the agent attached it is refused
    // Skip the first half second: page load, run switch and the REST snapshot.
    const measureFrom = Date.now() + 500;
    await page.evaluate((from) => { window.__bench.from = from; }, measureFrom);
    const client = await wsClient(agent.wsUrl, agent.authHeaders, trainer.sessionId, () => measureFrom);
    const dropped = await trainer.done;
    await agent.waitFinished(trainer.sessionId);
    await h.sleep(500);
    client.ws.close();
    const inPage = await page.evaluate(() => ({ arrival: window.__bench.arrival, drawn: window.__bench.drawn }));
    result = {
      rows: [
        ['chromium page: arrival', stats(inPage.arrival)],
        ['chromium page: drawn', stats(inPage.drawn)],
        ['ws client (node)', stats(client.latencies)],
      ],
      dropped,
    };
  } finally {
    await browser.close();
    await h.stopAll();
  }

  const cpu = os.cpus();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`e2e latency, trainer log() -> client: ${rate} points/s for ${seconds} s ` +
    `(train/loss, plus val/loss every 100 steps)`);
  console.log(`machine: ${cpu.length} x ${cpu[0] ? cpu[0].model.trim() : '?'}, ${os.platform()} ${os.release()}; ` +
    `load average ${load} (at the end); trainer, agent and clients on the same machine; ` +
    `trainer dropped ${result.dropped} records`);
  console.log('');
  const f = (v) => (Number.isFinite(v) ? v.toFixed(1) : '—').padStart(8);
  console.log(`${'client'.padEnd(26)}${'points'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max ms'.padStart(8)}`);
  for (const [name, s] of result.rows) {
    console.log(`${name.padEnd(26)}${String(s.n).padStart(8)}${f(s.p50)}${f(s.p99)}${f(s.max)}`);
  }
  const pageP99 = result.rows[0][1].p99;
  console.log('');
  console.log(`goal: page arrival p99 <= ${GOAL_P99_MS} ms: ${pageP99 <= GOAL_P99_MS ? 'met' : 'MISSED'} (${pageP99.toFixed(1)} ms)`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
