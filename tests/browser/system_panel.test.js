// The System panel (issue 16, "What must hold" #4) in real Chromium against a real agent and
// a real, live trainer: the trainer's CPU and RSS show within a few seconds and are values the
// agent stored; with the tests' stand-in NVML (two GPUs, fixed figures) the GPU charts carry
// its figures; without NVML the panel says "no GPU found". The system series stay out of the
// loss chart's default choice, grouped in one folded chip; on a phone the panel starts folded.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./harness');

// Built by tests/plugins/CMakeLists.txt (no GPU on these machines).
const STAND_IN = path.join(h.buildDir, 'tests', 'plugins', 'fixtures', 'libnvml_stand_in.so');
const NO_NVML = '/nonexistent/libnvidia-ml.so.1';
const GIB = 1024 ** 3;

let browser;
before(async () => {
  browser = await h.launchBrowser();
});
after(async () => {
  if (browser) await browser.close();
  await h.stopAll();
});

/** An agent whose system plugin loads `library` as NVML, and a trainer that stays live. */
async function agentWithTrainer(library) {
  const agent = await h.startAgent({
    extraArgs: ['--plugin-option=system.enabled=true', `--plugin-option=system.nvml_library=${library}`],
  });
  const trainer = await h.startProducer(agent, { steps: 1000000, rate: 20, name: 'system-panel' });
  await agent.waitKnown(trainer.sessionId);
  return { agent, trainer };
}

/** The latest values a chart of the panel shows (one per line), as numbers. */
function shownValues(page, chart) {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="system-value-${id}"]`);
    return el && el.dataset.values ? JSON.parse(el.dataset.values) : null;
  }, chart);
}

async function waitForValues(page, chart, ok, what) {
  await page.waitForFunction((id) => {
    const el = document.querySelector(`[data-testid="system-value-${id}"]`);
    const v = el && el.dataset.values ? JSON.parse(el.dataset.values) : [];
    return v.length > 0 && v.every((x) => typeof x === 'number');
  }, chart, { timeout: 30000 });
  const values = await shownValues(page, chart);
  assert.ok(ok(values), `${what}: ${JSON.stringify(values)}`);
  return values;
}

/** Points drawn by the chart of the panel named `chart`, per line. */
function drawnPoints(page, chart) {
  return page.evaluate((id) => {
    const canvas = document.querySelector(`[data-testid="system-chart"][data-chart="${id}"] canvas`);
    const c = canvas && window.Chart.getChart(canvas);
    return c ? c.data.datasets.map((d) => d.data.length) : null;
  }, chart);
}

test('the trainer\'s CPU and RSS show within seconds; the stand-in NVML\'s two GPUs show its figures', async () => {
  const { agent, trainer } = await agentWithTrainer(STAND_IN);
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(page, trainer.sessionId, 30000);
  await page.getByTestId('system-panel').waitFor({ state: 'visible', timeout: 30000 });

  const cpu = await waitForValues(page, 'cpu', ([v]) => v >= 0 && v < 100 * 64, 'trainer CPU %');
  const [rss] = await waitForValues(page, 'rss', ([v]) => v > 1024 * 1024, 'trainer RSS');
  // What the page shows is what the agent stored (the latest RSS point, or one just before it).
  const stored = await agent.series(trainer.sessionId, 'system/rss_bytes');
  assert.ok(stored.points.some((p) => p[2] === rss), `RSS ${rss} is one of the stored points`);
  assert.match(await page.getByTestId('system-value-cpu').textContent(), /^\d+(\.\d)? %$/);
  assert.match(await page.getByTestId('system-value-rss').textContent(), /^\d+ MiB$|^\d+\.\d GiB$/);
  assert.ok(cpu.length === 1);

  // The stand-in's figures, per GPU, in the charts and their text.
  await waitForValues(page, 'gpu_util', (v) => v.length === 2 && v[0] === 37 && v[1] === 41, 'GPU utilisation');
  await waitForValues(page, 'gpu_mem', (v) => v[0] === 5 * GIB && v[1] === 6 * GIB, 'GPU memory used');
  await waitForValues(page, 'gpu_temp', (v) => v[0] === 61 && v[1] === 62, 'GPU temperature');
  await waitForValues(page, 'gpu_power', (v) => v[0] === 123.456 && v[1] === 124.456, 'GPU power');
  assert.equal(await page.getByTestId('system-value-gpu_util').textContent(), 'GPU 0 37 % · GPU 1 41 %');
  assert.equal(await page.getByTestId('system-value-gpu_temp').textContent(), 'GPU 0 61 °C · GPU 1 62 °C');
  assert.equal(await page.getByTestId('system-gpu-note').isVisible(), false);
  // Each chart draws its lines (two for the GPU charts).
  for (const chart of ['cpu', 'rss', 'host_cpu', 'host_mem']) {
    const drawn = await drawnPoints(page, chart);
    assert.ok(drawn && drawn.length === 1 && drawn[0] > 0, `${chart} draws ${JSON.stringify(drawn)}`);
  }
  const gpuDrawn = await drawnPoints(page, 'gpu_power');
  assert.ok(gpuDrawn.length === 2 && gpuDrawn.every((n) => n > 0), `GPU power draws ${JSON.stringify(gpuDrawn)}`);

  // The charts keep moving: a later sample arrives live.
  const before = (await drawnPoints(page, 'rss'))[0];
  await page.waitForFunction(([n]) => {
    const c = window.Chart.getChart(document.querySelector('[data-chart="rss"] canvas'));
    return c.data.datasets[0].data.length > n;
  }, [before], { timeout: 30000 });

  // The loss chart: train/loss is the default choice, the system series sit folded in one group.
  const chips = await page.evaluate(() => [...document.querySelectorAll('[data-testid=series-chip]')].map((c) => ({
    metric: c.dataset.metric, checked: c.dataset.checked === 'true', grouped: Boolean(c.closest('[data-testid=system-chips]')),
  })));
  const system = chips.filter((c) => c.metric.startsWith('system/'));
  assert.ok(system.length >= 14, `system chips: ${system.length}`);
  assert.ok(system.every((c) => c.grouped && !c.checked), 'system chips are grouped and not shown by default');
  assert.ok(chips.some((c) => c.metric === 'train/loss' && c.checked && !c.grouped));
  assert.equal(await page.getByTestId('system-chips').evaluate((d) => d.open), false);
  await page.screenshot({ path: path.join(h.artifactsDir, 'system-panel-gpus.png'), fullPage: true }).catch(() => {});
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await h.stopChild(trainer.process);
});

test('without NVML the panel says "no GPU found" and still shows the trainer\'s CPU and RSS', async () => {
  const { agent, trainer } = await agentWithTrainer(NO_NVML);
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(page, trainer.sessionId, 30000);
  await page.getByTestId('system-panel').waitFor({ state: 'visible', timeout: 30000 });
  await waitForValues(page, 'rss', ([v]) => v > 1024 * 1024, 'trainer RSS');
  await waitForValues(page, 'cpu', ([v]) => v >= 0, 'trainer CPU %');
  await page.getByTestId('system-gpu-note').waitFor({ state: 'visible', timeout: 30000 });
  assert.equal(await page.getByTestId('system-gpu-note').textContent(), 'no GPU found');
  assert.equal(await page.locator('[data-testid="system-chart"][data-chart^="gpu"]').count(), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // A phone: the panel is there, folded; a tap opens it.
  const phone = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`), {
    viewport: { width: 390, height: 844 }, contextOptions: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  });
  await h.waitForRunLoaded(phone, trainer.sessionId, 30000);
  await phone.getByTestId('system-toggle').waitFor({ state: 'visible', timeout: 30000 });
  assert.equal(await phone.getByTestId('system-toggle').getAttribute('aria-expanded'), 'false');
  assert.equal(await phone.locator('#system-body').isVisible(), false);
  await phone.getByTestId('system-toggle').tap();
  await phone.locator('[data-chart="rss"] canvas').waitFor({ state: 'visible', timeout: 15000 });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
  assert.deepEqual(phone.errors, []);
  await phone.context().close();
  await h.stopChild(trainer.process);
});
