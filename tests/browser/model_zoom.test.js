// Zoom and pan of the model diagram in a real browser: the wheel zooms around the pointer
// (the point under it stays put), a drag pans (and selects nothing), a two-finger pinch zooms,
// the buttons zoom, reset returns to the initial view, and the panel's collapsed state
// survives a reload.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const m = require('./model_support');

let agent;
let browser;
let run;

before(async () => {
  agent = await h.startAgent();
  browser = await h.launchBrowser();
  run = await m.startModelRun(agent, 'gpt-zoom', m.gptModelInfo(m.SIX_LAYERS));
});

after(async () => {
  if (browser) await browser.close();
  await h.stopAll();
});

const near = (a, b, tol) => Math.abs(a - b) <= tol;

test('the wheel zooms around the pointer: the point under it stays put', async () => {
  const page = await m.openModelPage(browser, agent, run.sessionId);
  const t0 = await m.transform(page);
  const target = await m.partBox(page, 'h.0.attn.heads');
  const scroll = await page.evaluate(() => document.querySelector('.content').scrollTop);
  // Aim off-centre in the box, so a zoom around anything else would move it.
  const p = { x: target.x + target.width * 0.8, y: target.y + target.height * 0.3 };
  await page.mouse.move(p.x, p.y);
  await page.mouse.wheel(0, -240);  // zoom in
  await page.waitForFunction((k) => window.trainscope.model.zoom.transform.k > k * 1.2, t0.k);
  const t1 = await m.transform(page);
  const after = await m.partBox(page, 'h.0.attn.heads');
  assert.ok(near(t1.k / t0.k, 2 ** (240 * 0.002), 0.01), `scale ${t0.k} -> ${t1.k}`);
  // The diagram point under the pointer maps to the same screen point.
  const fx = (p.x - target.x) / target.width;
  const fy = (p.y - target.y) / target.height;
  assert.ok(near(after.x + fx * after.width, p.x, 2) && near(after.y + fy * after.height, p.y, 2),
    `point moved: ${JSON.stringify({ p, before: target, after })}`);
  assert.ok(after.width > target.width * 1.2, 'the part got bigger');

  await page.mouse.wheel(0, 500);  // zoom out, twice as far
  await page.waitForFunction((k) => window.trainscope.model.zoom.transform.k < k, t1.k);
  const back = await m.partBox(page, 'h.0.attn.heads');
  assert.ok(near(back.x + fx * back.width, p.x, 2) && near(back.y + fy * back.height, p.y, 2), 'zoom out keeps it too');
  assert.equal(await page.evaluate(() => document.querySelector('.content').scrollTop), scroll, 'the page did not scroll');
  assert.match(await page.getByTestId('model-scale').textContent(), /^\d+ %$/);
  assert.deepEqual(page.errors, []);
});

test('a drag pans by exactly the distance moved and selects nothing; reset restores the initial view', async () => {
  const page = await m.openModelPage(browser, agent, run.sessionId);
  const initial = await m.transform(page);
  // Start the drag on a part: a drag is not a click.
  const start = await m.partBox(page, 'h.0.ln_1');
  await page.mouse.move(start.cx, start.cy);
  await page.mouse.down();
  await page.mouse.move(start.cx + 60, start.cy + 40, { steps: 4 });
  await page.mouse.move(start.cx + 130, start.cy - 90, { steps: 6 });
  await page.mouse.up();
  const moved = await m.transform(page);
  assert.ok(near(moved.x - initial.x, 130, 0.5) && near(moved.y - initial.y, -90, 0.5), JSON.stringify({ initial, moved }));
  assert.equal(moved.k, initial.k);
  const after = await m.partBox(page, 'h.0.ln_1');
  assert.ok(near(after.cx - start.cx, 130, 1) && near(after.cy - start.cy, -90, 1));
  assert.equal(await page.evaluate(() => document.getElementById('model-panel').dataset.selected), '', 'drag selected nothing');
  // ...but a plain click still selects.
  await page.mouse.click(after.cx, after.cy);
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.0.ln_1');

  // Buttons and keys zoom around the centre; reset returns exactly to the start.
  await page.getByTestId('model-zoom-in').click();
  await page.getByTestId('model-zoom-in').click();
  const zoomed = await m.transform(page);
  assert.ok(near(zoomed.k, Math.min(4, initial.k * 1.25 * 1.25), 1e-6), `k ${zoomed.k}`);
  await page.mouse.move(start.cx, start.cy);
  await page.mouse.wheel(0, 300);
  await page.getByTestId('model-reset').click();
  const reset = await m.transform(page);
  assert.ok(near(reset.k, initial.k, 1e-6) && near(reset.x, initial.x, 0.01) && near(reset.y, initial.y, 0.01),
    `reset ${JSON.stringify(reset)} vs initial ${JSON.stringify(initial)}`);
  // Keyboard: "+" zooms, "0" resets (focus in the diagram).
  await page.evaluate(() => document.querySelector('#model-panel .ms-part[data-path="h.0.ln_1"]').focus());
  await page.keyboard.press('+');
  assert.ok((await m.transform(page)).k > initial.k);
  await page.keyboard.press('0');
  assert.deepEqual(await m.transform(page), initial);
  assert.deepEqual(page.errors, []);
});

test('a two-finger pinch zooms around the fingers, and a one-finger drag pans (touch)', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true, isMobile: false });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(agent.pageUrl(`/?run=${run.sessionId}`));
  await m.waitForPanel(page, 'ready', run.sessionId);
  await page.evaluate(() => document.getElementById('model-panel').scrollIntoView({ block: 'start' }));
  const cdp = await context.newCDPSession(page);
  const touch = (type, points) => cdp.send('Input.dispatchTouchEvent', {
    type, touchPoints: points.map(([x, y], id) => ({ x, y, id, radiusX: 2, radiusY: 2, force: 1 })),
  });
  const view = await m.viewBox(page);
  const c = { x: view.x + view.width * 0.45, y: view.y + view.height * 0.45 };
  const t0 = await m.transform(page);
  const under = { x: (c.x - view.x - t0.x) / t0.k, y: (c.y - view.y - t0.y) / t0.k };  // diagram point at the midpoint

  await touch('touchStart', [[c.x - 40, c.y], [c.x + 40, c.y]]);
  for (let i = 1; i <= 5; ++i) await touch('touchMove', [[c.x - 40 - 16 * i, c.y], [c.x + 40 + 16 * i, c.y]]);
  await touch('touchEnd', []);
  const t1 = await m.transform(page);
  // The fingers went from 80 px apart to 80 + 2 * 5 * 16 = 240 px: three times the scale.
  assert.ok(near(t1.k / t0.k, 240 / 80, 0.02), `pinch scale ${t0.k} -> ${t1.k}`);
  const mapped = { x: view.x + t1.x + under.x * t1.k, y: view.y + t1.y + under.y * t1.k };
  assert.ok(near(mapped.x, c.x, 2) && near(mapped.y, c.y, 2), `midpoint moved: ${JSON.stringify({ c, mapped })}`);

  await touch('touchStart', [[c.x, c.y]]);
  for (let i = 1; i <= 5; ++i) await touch('touchMove', [[c.x - 12 * i, c.y + 8 * i]]);
  await touch('touchEnd', []);
  const t2 = await m.transform(page);
  assert.ok(near(t2.x - t1.x, -60, 0.5) && near(t2.y - t1.y, 40, 0.5), `touch pan ${JSON.stringify({ t1, t2 })}`);
  assert.equal(t2.k, t1.k);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the collapsed state is remembered across reloads', async () => {
  const page = await m.openModelPage(browser, agent, run.sessionId);
  const toggle = page.getByTestId('model-toggle');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.getByTestId('model-body').isVisible(), false);
  await page.reload();
  await page.waitForFunction(() => document.getElementById('model-panel')?.dataset.collapsed === 'true');
  assert.equal(await page.getByTestId('model-body').isVisible(), false);
  // The summary is there while collapsed; opening draws the diagram and fits it.
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.state === 'ready');
  assert.match(await page.getByTestId('model-summary').innerText(), /6 layers/);
  await page.getByTestId('model-toggle').click();
  await page.waitForFunction(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length === 6);
  const t = await m.transform(page);
  assert.ok(t.k > 0.2 && t.k <= 1, `fitted on open: ${JSON.stringify(t)}`);
  await page.reload();
  await m.waitForPanel(page, 'ready', run.sessionId);
  assert.equal(await page.getByTestId('model-toggle').getAttribute('aria-expanded'), 'true');
  assert.deepEqual(page.errors, []);
});
