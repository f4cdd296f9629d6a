// Exports (issue 7): the run as CSV at full resolution from the agent, the chart as a PNG on
// white with a header, the model diagram as standalone SVG and PNG; the buttons disabled when
// there is nothing to export; tapped on a phone and a tablet; a clear error when the agent
// no longer knows the run, and the page's own points (said so) when the agent is gone.
// Real agent, real trainers, real headless Chromium; files caught as real downloads.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const h = require('./harness');
const m = require('./model_support');

const STEPS = 5000;            // train/loss every step, val/loss every 100: 5050 points (+ plugins')
const RUN_NAME = 'export: loss/α #1';
const SAFE_NAME = 'export-loss-1';
const HEADER = 'session_id,metric,step,timestamp,value,rank';
const STAMP = '\\d{8}-\\d{6}';
const PHONE = { viewport: { width: 390, height: 844 }, contextOptions: { isMobile: true, hasTouch: true } };
const TABLET = { viewport: { width: 768, height: 1024 }, contextOptions: { isMobile: true, hasTouch: true } };

let agent;
let browser;
let run;          // the agent's view of the 5050-point run
let modelRun;     // a finished run that reported a 6-layer GPT
let emptyRun;     // a run that logged nothing
let agentRows;    // the agent's export, parsed: "metric@rank@step" -> {timestamp, value}

before(async () => {
  agent = await h.startAgent();
  browser = await h.launchBrowser();
  const [long, model] = await Promise.all([
    h.startProducer(agent, { steps: STEPS, name: RUN_NAME }),
    m.startModelRun(agent, 'model-run', m.gptModelInfo(m.SIX_LAYERS)),
  ]);
  modelRun = model.sessionId;
  assert.equal(await long.done, 0, 'the trainer dropped records');
  await agent.waitFinished(long.sessionId);
  // Plugins add derived series (velocity/iters_per_s) as they process the run, its end
  // included: wait until the stored count stops changing.
  let last = -1;
  run = await h.waitFor(async () => {
    const r = await agent.run(long.sessionId);
    const settled = r.points === last;
    last = r.points;
    return settled ? r : null;
  }, { intervalMs: 500, what: 'the run\'s point count to settle' });
  const empty = await h.startProducer(agent, { steps: 0, name: 'empty-run', extra: ['--hold_ms', '200'] });
  await empty.done;
  emptyRun = (await agent.waitFinished(empty.sessionId)).session_id;
});

after(async () => {
  if (browser) await browser.close();
  await h.stopAll();
});

const exportFiles = () => import(pathToFileURL(path.join(h.webDir, 'static', 'js', 'export_files.js')).href);

test('file names: the run name made safe for file systems, and the local time', async () => {
  const { safeName, exportFileName } = await exportFiles();
  assert.equal(safeName(RUN_NAME), SAFE_NAME);
  assert.equal(safeName('../../etc/passwd'), 'etc-passwd');
  assert.equal(safeName('.hidden run.'), 'hidden-run');
  assert.equal(safeName('résumé – v2'), 'resume-v2');
  assert.equal(safeName('a\\b:c*d?e"f<g>h|i'), 'a-b-c-d-e-f-g-h-i');
  assert.equal(safeName(''), 'run');
  assert.equal(safeName('日本語'), 'run');
  assert.equal(safeName('x'.repeat(200)).length, 80);
  const date = new Date(2025, 0, 31, 4, 5, 6);
  assert.equal(exportFileName('gpt small', 'csv', { date }), 'gpt-small-20250131-040506.csv');
  assert.equal(exportFileName('gpt small', 'png', { suffix: 'loss', date }), 'gpt-small-20250131-040506-loss.png');
});

test('the page\'s CSV: the agent\'s columns, fields quoted like the agent does, NaN/Inf left empty', async () => {
  const { seriesCsv, CSV_HEADER } = await exportFiles();
  const t = Date.UTC(2025, 0, 31, 14, 3, 22, 125);
  const { blob, rows } = seriesCsv('S1', [
    { metric: 'train/loss', rank: 0, points: [{ x: 0, y: 2.5, t }, { x: 1, y: null, t: t + 1 }] },
    { metric: 'eval "a,b"', rank: 3, points: [{ x: 7, y: 0.1 + 0.2, t: t + 2.9 }] },
  ]);
  assert.equal(CSV_HEADER, HEADER);
  assert.equal(rows, 3);
  assert.equal(await blob.text(), `${HEADER}\n` +
    'S1,train/loss,0,2025-01-31T14:03:22.125Z,2.5,0\n' +
    'S1,train/loss,1,2025-01-31T14:03:22.126Z,,0\n' +
    'S1,"eval ""a,b""",7,2025-01-31T14:03:22.127Z,0.30000000000000004,3\n');
});

/** Clicks (or taps) `testid` and returns the download it starts: {name, bytes}. */
async function download(page, testid, { tap = false } = {}) {
  const button = page.getByTestId(testid);
  await button.scrollIntoViewIfNeeded();
  const [d] = await Promise.all([page.waitForEvent('download'), tap ? button.tap() : button.click()]);
  const file = await d.path();
  assert.equal(await d.failure(), null, 'the download failed');
  return { name: d.suggestedFilename(), bytes: fs.readFileSync(file) };
}

function parseCsv(text) {
  assert.ok(text.endsWith('\n'), 'the file ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  return { header: lines[0], rows: lines.slice(1).map((l) => l.split(',')) };
}

const isPng = (bytes) => bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

/**
 * Decodes a PNG in the page and counts pixels: {width, height, corners: [[r,g,b,a] x4],
 * dark (neutral, luma < 110: text) and blue (near train/loss's #5b9cff) in rows [y0, y1)}.
 */
function pixelStats(page, bytes, bands) {
  return page.evaluate(async ({ b64, bands: wanted }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    const at = (x, y) => Array.from(px.subarray((y * c.width + x) * 4, (y * c.width + x) * 4 + 4));
    const count = ([y0, y1]) => {
      let dark = 0;
      let blue = 0;
      for (let y = Math.max(0, y0); y < Math.min(c.height, y1); ++y) {
        for (let x = 0; x < c.width; ++x) {
          const i = (y * c.width + x) * 4;
          const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
          const luma = 0.299 * r + 0.587 * g + 0.114 * b;
          if (luma < 110 && Math.max(r, g, b) - Math.min(r, g, b) < 40) ++dark;
          if (Math.abs(r - 0x5b) < 30 && Math.abs(g - 0x9c) < 30 && Math.abs(b - 0xff) < 30) ++blue;
        }
      }
      return { dark, blue };
    };
    return {
      width: c.width,
      height: c.height,
      corners: [at(0, 0), at(c.width - 1, 0), at(0, c.height - 1), at(c.width - 1, c.height - 1)],
      bands: wanted.map(count),
    };
  }, { b64: bytes.toString('base64'), bands });
}

const WHITE = [255, 255, 255, 255];

/** Keeps an exported file in tests/artifacts/ for a human to look at. */
function saveArtifact(name, bytes) {
  fs.mkdirSync(h.artifactsDir, { recursive: true });
  fs.writeFileSync(path.join(h.artifactsDir, name), bytes);
}

async function exportState(page) {
  return page.evaluate(() => ({
    toolbar: window.trainscope.exports.toolbar.last,
    model: window.trainscope.exports.model.last,
    notice: (() => {
      const el = document.querySelector('[data-testid="export-notice"]');
      return el && !el.hidden ? { kind: el.dataset.kind, text: el.querySelector('[data-role=text]').textContent } : null;
    })(),
  }));
}

async function openRun(sessionId, { query = '', ...options } = {}) {
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${sessionId}${query}`), options);
  await h.waitForRunLoaded(page, sessionId);
  await page.waitForFunction(() => document.getElementById('export-csv').getAttribute('aria-disabled') === 'false');
  return page;
}

/** Checks a CSV download is the agent's full export of `run`; returns its rows. */
function checkFullCsv(file) {
  // The agent's Content-Disposition names the file (it wins over the download attribute):
  // the page asks it for "<run name>-<local time>.csv".
  assert.match(file.name, new RegExp(`^${SAFE_NAME}-${STAMP}\\.csv$`));
  const { header, rows } = parseCsv(file.bytes.toString('utf8'));
  assert.equal(header, HEADER);
  assert.equal(rows.length, run.points, 'one row per point the agent stored');
  const stepsOf = (metric) => rows.filter((r) => r[1] === metric).map((r) => Number(r[2])).sort((a, b) => a - b);
  assert.deepEqual(stepsOf('train/loss'), Array.from({ length: STEPS }, (_, i) => i), 'every train/loss step once');
  assert.deepEqual(stepsOf('val/loss'), Array.from({ length: STEPS / 100 }, (_, i) => i * 100), 'every val/loss step once');
  // Beyond the trainer's 5050 points: the plugins' derived series, stored in the run too.
  assert.deepEqual([...new Set(rows.map((r) => r[1]))].sort(), [...run.metrics].sort());
  assert.ok(rows.every((r) => r.length === 6 && r[0] === run.session_id && r[5] === '0'));
  return rows;
}

test('Export CSV: every stored point from the agent, though the chart holds 200 per series', async () => {
  const page = await openRun(run.session_id, { query: '&max_points=200' });
  const held = await page.evaluate(() => window.trainscope.store.totalPoints());
  assert.ok(held <= 200 * run.metrics.length && held < run.points, `the page holds ${held} points`);
  const file = await download(page, 'export-csv');
  const rows = checkFullCsv(file);
  agentRows = new Map(rows.map((r) => [`${r[1]}@${r[5]}@${r[2]}`, { timestamp: r[3], value: r[4] }]));
  const state = await exportState(page);
  assert.equal(state.toolbar.source, 'agent');
  assert.match(state.toolbar.requestedName, new RegExp(`^${SAFE_NAME}-${STAMP}\\.csv$`), 'the name the page asked for');
  assert.equal(state.notice.kind, 'info');
  assert.equal(state.notice.text, `Exporting every point of the run (${run.points.toLocaleString('en-US')} points) from the agent.`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('Export PNG: the chart on white under a header with the run name, axis text dark', async () => {
  const page = await openRun(run.session_id);
  const before = await page.evaluate(() => {
    // Counts Chart.js's toBase64Image calls: the picture is taken through it.
    const chart = window.trainscope.chart;
    const own = chart.toBase64Image.bind(chart);
    window.base64Images = 0;
    chart.toBase64Image = (...args) => {
      window.base64Images += 1;
      return own(...args);
    };
    return JSON.stringify(chart.config.options.scales);
  });
  const file = await download(page, 'export-png');
  assert.equal(await page.evaluate(() => window.base64Images), 1, 'taken with chart.toBase64Image()');
  assert.match(file.name, new RegExp(`^${SAFE_NAME}-${STAMP}-loss\\.png$`));
  assert.ok(isPng(file.bytes), 'PNG signature');
  saveArtifact('export_chart.png', file.bytes);
  const { toolbar } = await exportState(page);
  assert.equal(toolbar.header[0], RUN_NAME, 'the header names the run');
  assert.match(toolbar.header[1], /^run started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} · exported \d{4}-/);
  assert.deepEqual(toolbar.legend, ['train/loss', 'val/loss'], 'a legend of the series shown');
  const stats = await pixelStats(page, file.bytes, [[0, toolbar.headerHeight], [toolbar.headerHeight, 1e9]]);
  assert.equal(stats.width, toolbar.width);
  assert.equal(stats.height, toolbar.height);
  assert.deepEqual(stats.corners, [WHITE, WHITE, WHITE, WHITE], 'white background');
  const [head, plot] = stats.bands;
  assert.ok(head.dark > 100, `header strip holds dark text (${head.dark} dark pixels)`);
  // On the dark page the axis text is light grey: dark pixels below the header are the
  // ticks and titles redrawn for white.
  assert.ok(plot.dark > 200, `axis text is dark on white (${plot.dark} dark pixels)`);
  assert.ok(plot.blue > 200, `the train/loss line is drawn (${plot.blue} blue pixels)`);
  const afterwards = await page.evaluate(() => JSON.stringify(window.trainscope.chart.config.options.scales));
  assert.equal(afterwards, before, 'the live chart got its own colours back');
  await h.screenshot(page, 'export_desktop');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('model export: standalone SVG with every label (even when zoomed out), and PNG', async () => {
  const page = await m.openModelPage(browser, agent, modelRun);
  // Zoomed far out the panel hides its labels.
  await page.evaluate(() => window.trainscope.model.zoom.set({ k: 0.25, x: 0, y: 0 }));
  assert.ok(await page.evaluate(() => document.querySelector('#model-panel svg.ms-svg').classList.contains('ms-far')));

  const svgFile = await download(page, 'model-export-svg');
  assert.match(svgFile.name, new RegExp(`^model-run-${STAMP}-model\\.svg$`));
  saveArtifact('export_model.svg', svgFile.bytes);
  const text = svgFile.bytes.toString('utf8');
  assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const parsed = await page.evaluate((t) => {
    const doc = new DOMParser().parseFromString(t, 'image/svg+xml');
    const svg = doc.documentElement;
    return {
      error: doc.querySelector('parsererror') ? doc.querySelector('parsererror').textContent : null,
      root: svg.localName,
      classes: svg.getAttribute('class'),
      width: Number(svg.getAttribute('width')),
      parts: svg.querySelectorAll('.ms-part').length,
      texts: [...svg.querySelectorAll('text')].map((e) => e.textContent),
      styled: [...svg.querySelectorAll('style')].map((s) => s.textContent).join('').includes('.ms-frame'),
      external: [...svg.querySelectorAll('[href], image, use')].map((e) => e.outerHTML),
    };
  }, text);
  assert.equal(parsed.error, null);
  assert.equal(parsed.root, 'svg');
  assert.equal(parsed.classes, 'ms-svg', 'no low-detail class: labels shown');
  assert.equal(parsed.parts, 1 + 2 + 6 * 11 + 2, 'every layer of the model');
  for (const label of ['wte', 'wpe', 'ln_1', 'attn', 'c_attn', 'ln_2', 'mlp', 'c_fc', 'gelu', 'c_proj', 'ln_f', 'lm_head', 'model-run']) {
    assert.ok(parsed.texts.includes(label), `label ${label} is in the SVG`);
  }
  assert.ok(parsed.styled, 'its styles are inside it');
  assert.deepEqual(parsed.external, [], 'nothing outside the file is referenced');
  assert.ok(await page.evaluate(() => document.querySelector('#model-panel svg.ms-svg').classList.contains('ms-far')),
    'the panel itself is left as it was');

  const pngFile = await download(page, 'model-export-png');
  assert.match(pngFile.name, new RegExp(`^model-run-${STAMP}-model\\.png$`));
  assert.ok(isPng(pngFile.bytes), 'PNG signature');
  saveArtifact('export_model.png', pngFile.bytes);
  const stats = await pixelStats(page, pngFile.bytes, [[0, 1e9]]);
  assert.equal(stats.width, 2 * parsed.width, 'drawn at twice the diagram size');
  assert.deepEqual(stats.corners, [WHITE, WHITE, WHITE, WHITE], 'white background');
  // Dark pixels are the labels: at low detail or in the dark theme there would be none.
  assert.ok(stats.bands[0].dark > 2000, `labels drawn dark on white (${stats.bands[0].dark} dark pixels)`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('buttons are unavailable, saying why on hover and on a tap, when there is no data or no model', async () => {
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${emptyRun}`));
  await h.waitForRunLoaded(page, emptyRun);
  await m.waitForPanel(page, 'none', emptyRun);
  await page.evaluate(() => window.trainscope.exports.toolbar.update());
  const buttons = await page.evaluate(() => ['export-csv', 'export-png', 'model-export-svg', 'model-export-png'].map((id) => {
    const b = document.querySelector(`[data-testid="${id}"]`);
    return { id, tag: b.tagName, disabled: b.getAttribute('aria-disabled'), title: b.title, text: b.textContent.trim() };
  }));
  assert.deepEqual(buttons.map((b) => [b.id, b.tag, b.disabled]), [
    ['export-csv', 'BUTTON', 'true'], ['export-png', 'BUTTON', 'true'],
    ['model-export-svg', 'BUTTON', 'true'], ['model-export-png', 'BUTTON', 'true']]);
  assert.match(buttons[0].title, /no points yet/);
  assert.match(buttons[1].title, /shows no data/);
  assert.match(buttons[2].title, /did not report its model/);
  assert.deepEqual(buttons.map((b) => b.text), ['Export CSV', 'Export PNG', 'Export SVG', 'Export PNG']);
  // A click (a tap, Enter) on one says why in a popover, and downloads nothing.
  const downloads = [];
  page.on('download', (d) => downloads.push(d.suggestedFilename()));
  for (const [id, why] of [['export-csv', /no points yet/], ['model-export-png', /did not report its model/]]) {
    await page.getByTestId(id).click({ force: true });
    await page.waitForFunction(() => !document.querySelector('[data-testid="tap-detail"]').hidden);
    assert.match(await page.getByTestId('tap-detail').textContent(), why);
  }
  await page.getByTestId('export-png').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /shows no data/.test(document.querySelector('[data-testid="tap-detail"]').textContent));
  await page.keyboard.press('Escape');
  assert.equal(await page.getByTestId('tap-detail').isHidden(), true);
  assert.deepEqual(downloads, [], 'no file');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const [label, device] of [['phone 390×844', PHONE], ['tablet 768×1024', TABLET]]) {
  test(`${label}: the export buttons can be tapped and produce the files`, async () => {
    const page = await openRun(run.session_id, device);
    await h.screenshot(page, `export_${label.split(' ')[0]}`);
    checkFullCsv(await download(page, 'export-csv', { tap: true }));
    const png = await download(page, 'export-png', { tap: true });
    assert.ok(isPng(png.bytes), 'PNG signature');
    await page.goto(agent.pageUrl(`/?run=${modelRun}`));
    await m.waitForPanel(page, 'ready', modelRun);
    const svg = await download(page, 'model-export-svg', { tap: true });
    await h.screenshot(page, `export_${label.split(' ')[0]}_model`);
    assert.match(svg.bytes.toString('utf8'), /<text [^>]*>c_fc<\/text>/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('agent without the run: a clear error and no file; agent gone: the page\'s points, said so', async () => {
  const page = await openRun(run.session_id, { query: '&max_points=200' });
  const downloads = [];
  page.on('download', (d) => downloads.push(d.suggestedFilename()));

  // The agent comes back on the same port with an empty data dir: it no longer has the run.
  const port = agent.port;
  await agent.stop();
  // Same token: the open page keeps its cookie (a new token would send it to the sign-in screen).
  const fresh = new h.Agent({ namespace: agent.namespace, dataDir: h.tempDir('tsweb-data-'), port, token: agent.token });
  await fresh.start();
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected',
    null, { timeout: 15000 });
  await page.getByTestId('export-csv').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="export-notice"]')?.dataset.kind === 'error');
  let state = await exportState(page);
  assert.match(state.notice.text, new RegExp(`^CSV export failed: the agent has no run ${run.session_id}`));
  assert.equal(state.toolbar.source, 'none');
  assert.deepEqual(downloads, [], 'no file');

  // A page on this agent (no runs at all): nothing to export, and the titles say so.
  const empty = await h.openPage(browser, fresh.pageUrl());
  await empty.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  await empty.waitForFunction(() => document.getElementById('chart-empty').textContent === 'Waiting for a run to start…');
  const titles = await empty.evaluate(() => ['export-csv', 'export-png', 'model-export-svg', 'model-export-png']
    .map((id) => document.querySelector(`[data-testid="${id}"]`)).map((b) => [b.getAttribute('aria-disabled'), b.title]));
  assert.deepEqual(titles, [
    ['true', 'No run shown: nothing to export'], ['true', 'No run shown: nothing to export'],
    ['true', 'No run shown: nothing to export'], ['true', 'No run shown: nothing to export']]);
  await empty.context().close();

  // No agent at all: the page exports what it holds.
  await fresh.stop();
  const file = await download(page, 'export-csv');
  assert.match(file.name, new RegExp(`^${SAFE_NAME}-${STAMP}-page\\.csv$`));
  const { header, rows } = parseCsv(file.bytes.toString('utf8'));
  assert.equal(header, HEADER);
  const held = await page.evaluate(() => window.trainscope.store.totalPoints());
  assert.equal(rows.length, held, 'every point the page holds');
  assert.ok(rows.length < run.points);
  for (const r of rows) {
    const stored = agentRows.get(`${r[1]}@${r[5]}@${r[2]}`);
    assert.ok(stored, `row ${r.join(',')} is a point of the run`);
    assert.equal(r[0], run.session_id);
    assert.equal(r[3], stored.timestamp, 'same timestamp as the agent writes');
    assert.equal(Number(r[4]), Number(stored.value), 'same value');
  }
  state = await exportState(page);
  assert.equal(state.toolbar.source, 'page');
  assert.equal(state.notice.kind, 'warn');
  assert.equal(state.notice.text, `Agent unreachable: exported the ${held.toLocaleString('en-US')} points this page holds ` +
    `(downsampled; the run has ${run.points.toLocaleString('en-US')}), not the full run.`);
  assert.ok(await page.getByTestId('export-notice').isVisible());
  await h.screenshot(page, 'export_fallback');
  await page.context().close();
});
