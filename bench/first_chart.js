#!/usr/bin/env node
// First chart of a long run: from opening the page (headless Chromium) to the chart drawn
// with the run loaded, for the 10 M-point series lod_bench writes (build-bench/lod-cache).
// Baselines in the same run: the same page for a 100-point run (what the page costs whatever
// the run), and the series request alone over HTTP (no browser).
//
//   node bench/first_chart.js [--rounds 5] [--db <lod-long-10m.db>]
//   TRAINSCOPE_BUILD_DIR=<build tree with bin/trainscope-agent>
//
// The database is copied into the agent's fresh data dir (the agent may write to it).
// Goal: first chart <= 300 ms end to end. Each round opens a new browser context.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require(path.join(__dirname, '..', 'tests', 'browser', 'harness.js'));

const GOAL_MS = 300;
const SESSION = '01BENCHLOD0LONG00000000000';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const rounds = Number(arg('rounds', 5));
  const buildDir = process.env.TRAINSCOPE_BUILD_DIR || path.join(__dirname, '..', 'build-bench');
  const db = arg('db', path.join(buildDir, 'lod-cache', 'lod-long-10m.db'));
  if (!fs.existsSync(db)) {
    console.error(`first_chart: ${db} is missing: run build-bench/bin/lod_bench once (it writes it)`);
    process.exit(2);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbench-first-chart-'));
  fs.copyFileSync(db, path.join(dataDir, 'trainscope.db'));
  const agent = await h.startAgent({ dataDir });
  const browser = await h.launchBrowser();
  const page_ms = [];
  const rest_ms = [];
  const small_ms = [];
  try {
    // The baseline: the same page for a 100-point run of the same agent (a real trainer).
    const small = await h.startProducer(agent, { steps: 100, rate: 0, name: 'first_chart_small' });
    await small.done;
    await agent.waitFinished(small.sessionId);
    for (let i = 0; i < rounds; ++i) {
      const smallPage = await h.openPage(browser, agent.pageUrl(`/?run=${small.sessionId}`));
      await h.waitForRunLoaded(smallPage, small.sessionId, 30000);
      small_ms.push(Math.round(await smallPage.evaluate(() => performance.now())));
      await smallPage.context().close();

      let t0 = Date.now();
      const res = await agent.fetch(`/api/runs/${SESSION}/metrics/train%2Floss?max_points=1000`);
      const body = await res.json();
      rest_ms.push(Date.now() - t0);
      if (!body.downsampled || body.total !== 10000000) throw new Error(`unexpected answer: ${JSON.stringify(body).slice(0, 200)}`);

      // From the navigation's start (performance.now() in the page: a new browser context's
      // own start-up is not the page's), polled every animation frame.
      const page = await h.openPage(browser, agent.pageUrl(`/?run=${SESSION}`));
      await h.waitForRunLoaded(page, SESSION, 30000);
      page_ms.push(Math.round(await page.evaluate(() => performance.now())));
      if (page.errors.length) throw new Error(page.errors.join('; '));
      await page.context().close();
    }
  } finally {
    await browser.close();
    await agent.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const first = median(page_ms);
  console.log(`Summary: first chart of a 10 M-point series (${rounds} rounds, load ${os.loadavg()[0].toFixed(1)})`);
  console.log(`  navigation -> chart drawn:   median ${first} ms (${page_ms.join(', ')})`);
  console.log(`  the same page, 100-point run: median ${median(small_ms)} ms (${small_ms.join(', ')}) (baseline)`);
  console.log(`  the series request alone:    median ${median(rest_ms)} ms (${rest_ms.join(', ')})`);
  console.log(`Goal: first chart <= ${GOAL_MS} ms: ${first <= GOAL_MS ? 'PASS' : 'MISS'}`);
  console.log(`RESULT first_chart_ms ${first}`);
  console.log(`RESULT first_chart_rest_ms ${median(rest_ms)}`);
  console.log(`RESULT first_chart_small_run_ms ${median(small_ms)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
