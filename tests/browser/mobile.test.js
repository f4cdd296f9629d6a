// Mobile and touch: the dashboard on a phone (390x844 and 360x740, touch) and a tablet
// (768x1024, touch) with a finished run that reported its model, raised an alert and has
// statistics. Nothing scrolls sideways; every interactive element is at least 44x44 px; the
// non-essential panels start folded on a phone and a tap unfolds them (remembered); a tap on
// the chart shows its tooltip and a tap on a layer its details; pinches zoom the chart and the
// diagram (real touch input through CDP); turning the phone re-lays the page out.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./harness');
const m = require('./model_support');

let agent;
let browser;
let run;
h.useAgentAndBrowser((a, b) => {
  agent = a;
  browser = b;
});

const NAN_AT = 1500;

/**
 * The run every test shows, made once: 2000 steps, NaN from step 1500 (a critical alert),
 * max_iters for the progress figure, and the SDK's 6-layer GPT as model info.
 */
let runMade = null;
function makeRun() {
  runMade = runMade || startRun();
  return runMade;
}

async function startRun() {
  const trainer = await h.startProducer(agent, {
    steps: 2000,
    rate: 0,
    name: 'phone-run-with-a-rather-long-name',
    extra: ['--nan_at', String(NAN_AT), '--hold_ms', '200', '--config', '{"max_iters": 2000}',
      '--model_info', m.gptModelInfo(m.SIX_LAYERS)],
  });
  await trainer.done;
  await agent.waitFinished(trainer.sessionId);
  run = trainer.sessionId;
}

const PHONE = { width: 390, height: 844 };
const SMALL_PHONE = { width: 360, height: 740 };
const TABLET = { width: 768, height: 1024 };
const TOUCH = { isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** A touch device's page on the run, loaded: chart drawn, alert banner and model info in. */
async function openTouchPage(viewport) {
  await makeRun();
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${run}`), { viewport, contextOptions: TOUCH });
  await h.waitForRunLoaded(page, run);
  await page.waitForFunction(() => document.getElementById('alerts').dataset.count === '1', null, { timeout: 10000 });
  await m.waitForPanel(page, 'ready', run);
  await page.waitForFunction(() => document.getElementById('stats-panel').dataset.source === 'plugins', null, { timeout: 10000 });
  return page;
}

async function fullScreenshot(page, name) {
  await page.screenshot({ path: path.join(h.artifactsDir, `${name}.png`), fullPage: true });
}

/** Elements wider than the viewport, and the document's scroll and client widths. */
function overflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    // Inside a box that scrolls sideways itself (the phone's row of chips), reaching past the
    // viewport is scrolled out of view, not overflow: that box is checked instead.
    const inScroller = (e) => {
      for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true;
      }
      return false;
    };
    const wide = [...document.querySelectorAll('body *')].filter((e) => {
      const b = e.getBoundingClientRect();
      return b.width > 0 && (b.right > doc.clientWidth + 0.5 || b.left < -0.5) && e.checkVisibility() && !inScroller(e);
    }).slice(0, 10).map((e) => `${e.tagName.toLowerCase()}.${e.className.baseVal ?? e.className} ` +
      `[${Math.round(e.getBoundingClientRect().left)}, ${Math.round(e.getBoundingClientRect().right)}]`);
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide };
  });
}

async function assertNoSidewaysScroll(page, what) {
  const o = await overflow(page);
  assert.ok(o.scrollWidth <= o.clientWidth, `${what}: the page scrolls sideways (${o.scrollWidth} > ${o.clientWidth}): ${o.wide.join('; ')}`);
  assert.deepEqual(o.wide, [], `${what}: elements reach past the viewport`);
}

/**
 * Visible interactive elements smaller than 44x44 px: "name WxH" each. A checkbox is measured
 * by its label (what a finger hits). The parts of the model diagram are left out: they sit on
 * a surface that pinches and pans, and their size is the zoom's.
 */
function smallTargets(page) {
  return page.evaluate(() => {
    const selector = 'button, a[href], input, select, textarea, [role=button], [role=radio], [role=checkbox], [tabindex="0"]';
    const out = [];
    let checked = 0;
    for (const el of document.querySelectorAll(selector)) {
      if (el.closest('.mp-viewport')) continue;
      const target = el.matches('input[type=checkbox], input[type=radio]') && el.closest('label') ? el.closest('label') : el;
      if (!target.checkVisibility({ visibilityProperty: true })) continue;
      const b = target.getBoundingClientRect();
      if (b.width === 0 && b.height === 0) continue;
      checked += 1;
      if (b.width + 0.5 < 44 || b.height + 0.5 < 44) {
        const name = el.dataset.testid || el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 24);
        out.push(`${el.tagName.toLowerCase()}.${el.className.baseVal ?? el.className} "${name}" ${b.width.toFixed(1)}x${b.height.toFixed(1)}`);
      }
    }
    return { checked, small: out };
  });
}

async function assertTouchTargets(page, what, minChecked) {
  const r = await smallTargets(page);
  assert.deepEqual(r.small, [], `${what}: targets under 44x44 px`);
  assert.ok(r.checked >= minChecked, `${what}: only ${r.checked} targets checked`);
}

/** The toggles' state: {stats, model, statusbar} -> aria-expanded. */
function toggleState(page) {
  return page.evaluate(() => Object.fromEntries(['stats-toggle', 'model-toggle', 'statusbar-toggle']
    .map((id) => [id.replace('-toggle', ''), document.querySelector(`[data-testid="${id}"]`).getAttribute('aria-expanded')])));
}

/** Which of the foldable contents can be seen. */
function contentShown(page) {
  return page.evaluate(() => {
    const seen = (testid) => document.querySelector(`[data-testid="${testid}"]`).checkVisibility();
    return {
      current: seen('stat-current'), mean: seen('stat-mean'), progress: seen('stat-progress'),
      model: seen('model-body'), step: seen('stat-step'), heap: seen('stat-heap'),
    };
  });
}

/** Finger input through CDP: touch(type, [[x, y], ...]). */
async function fingers(page) {
  const cdp = await page.context().newCDPSession(page);
  return (type, points) => cdp.send('Input.dispatchTouchEvent', {
    type, touchPoints: points.map(([x, y], id) => ({ x, y, id, radiusX: 2, radiusY: 2, force: 1 })),
  });
}

/** The chart's x range and plot area in client coordinates. */
function chartGeometry(page) {
  return page.evaluate(() => {
    const canvas = document.getElementById('loss-chart');
    const chart = Chart.getChart(canvas);
    const box = canvas.getBoundingClientRect();
    const a = chart.chartArea;
    return { min: chart.scales.x.min, max: chart.scales.x.max, left: box.left + a.left, right: box.left + a.right,
      top: box.top + a.top, bottom: box.top + a.bottom, cy: box.top + (a.top + a.bottom) / 2, canvasWidth: box.width };
  });
}

test('phone: folded panels unfold with a tap (remembered), no sideways scroll, 44 px targets', async () => {
  const page = await openTouchPage(PHONE);
  // Folded by default on a phone: the statistics keep current loss and completion, the status
  // bar keeps the step; the model panel keeps its head.
  assert.deepEqual(await toggleState(page), { stats: 'false', model: 'false', statusbar: 'false' });
  assert.deepEqual(await contentShown(page), { current: true, mean: false, progress: false, model: false, step: true, heap: false });
  assert.equal(await page.getByTestId('alert-dismiss').isVisible(), true);
  await assertNoSidewaysScroll(page, 'phone, folded');
  await assertTouchTargets(page, 'phone, folded', 10);
  await fullScreenshot(page, 'phone');

  await page.getByTestId('stats-toggle').tap();
  await page.getByTestId('model-toggle').tap();
  await page.getByTestId('statusbar-toggle').tap();
  assert.deepEqual(await toggleState(page), { stats: 'true', model: 'true', statusbar: 'true' });
  assert.deepEqual(await contentShown(page), { current: true, mean: true, progress: true, model: true, step: true, heap: true });
  await page.waitForFunction(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length === 6);
  // A layer with parts, so its details list them (buttons too).
  await page.evaluate(() => window.trainscope.model.select('h.0.attn'));
  await page.locator('#model-panel .mp-child').first().waitFor();
  await assertNoSidewaysScroll(page, 'phone, unfolded');
  await assertTouchTargets(page, 'phone, unfolded', 20);
  await fullScreenshot(page, 'phone-unfolded');

  // The session list, opened by a tap.
  await page.getByTestId('run-select').tap();
  await page.getByTestId('run-list').waitFor({ state: 'visible' });
  await page.getByTestId('run-row').first().waitFor();
  await assertNoSidewaysScroll(page, 'phone, run list open');
  await assertTouchTargets(page, 'phone, run list open', 20);
  await h.screenshot(page, 'phone-run-list');

  // The choices are remembered.
  await page.reload();
  await h.waitForRunLoaded(page, run);
  assert.deepEqual(await toggleState(page), { stats: 'true', model: 'true', statusbar: 'true' });
  assert.equal((await contentShown(page)).mean, true);
  await page.getByTestId('stats-toggle').tap();
  await page.reload();
  await h.waitForRunLoaded(page, run);
  assert.deepEqual(await toggleState(page), { stats: 'false', model: 'true', statusbar: 'true' });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('phone: a tap shows the chart tooltip, a pinch zooms, a sideways swipe pans only when zoomed', async () => {
  const page = await openTouchPage(PHONE);
  const touch = await fingers(page);
  await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
  const whole = await chartGeometry(page);
  assert.ok(whole.min <= 0 && whole.max >= 1999, `whole run on the x axis: ${whole.min}..${whole.max}`);

  // Tap: the tooltip names the step under the finger.
  const tapX = whole.left + (whole.right - whole.left) * 0.4;
  await page.touchscreen.tap(tapX, whole.cy);
  const tooltip = page.getByTestId('chart-tooltip');
  await tooltip.waitFor({ state: 'visible', timeout: 5000 });
  const step = Number(await tooltip.getAttribute('data-step'));
  const stepX = await page.evaluate((s) => {
    const canvas = document.getElementById('loss-chart');
    return canvas.getBoundingClientRect().left + Chart.getChart(canvas).scales.x.getPixelForValue(s);
  }, step);
  assert.ok(Math.abs(stepX - tapX) <= 3, `tooltip step ${step} is at x=${stepX.toFixed(1)}, the tap at ${tapX.toFixed(1)}`);
  assert.match(await tooltip.innerText(), new RegExp(`Iteration\\s+${step}\\b`));
  // Inside the screen, and not over the point (where the finger is).
  const tipBox = await tooltip.boundingBox();
  assert.ok(tipBox.x >= 0 && tipBox.x + tipBox.width <= PHONE.width, `tooltip inside the screen: ${JSON.stringify(tipBox)}`);
  const caret = await page.evaluate(() => {
    const canvas = document.getElementById('loss-chart');
    const { caretX, caretY } = Chart.getChart(canvas).tooltip;
    const box = canvas.getBoundingClientRect();
    return { x: box.left + caretX, y: box.top + caretY };
  });
  const covers = caret.x >= tipBox.x && caret.x <= tipBox.x + tipBox.width && caret.y >= tipBox.y - 20 && caret.y <= tipBox.y + tipBox.height + 20;
  assert.ok(!covers, `the tooltip covers the tapped point: ${JSON.stringify({ caret, tipBox })}`);
  await h.screenshot(page, 'phone-tooltip');
  // A tap elsewhere closes it.
  await page.getByTestId('stat-current').tap();
  await tooltip.waitFor({ state: 'hidden', timeout: 5000 });

  // Not zoomed, a sideways swipe moves along the line: it does not pan.
  await touch('touchStart', [[whole.left + 200, whole.cy]]);
  for (let i = 1; i <= 6; ++i) await touch('touchMove', [[whole.left + 200 - 20 * i, whole.cy]]);
  await touch('touchEnd', []);
  let g = await chartGeometry(page);
  assert.deepEqual([g.min, g.max], [whole.min, whole.max], 'a swipe on the whole run panned it');
  assert.equal(await page.evaluate(() => document.getElementById('app').dataset.zoom), 'none');

  // Pinch: two fingers moving apart around the middle zoom the x axis in.
  const cx = (whole.left + whole.right) / 2;
  await touch('touchStart', [[cx - 30, whole.cy], [cx + 30, whole.cy]]);
  for (let i = 1; i <= 6; ++i) await touch('touchMove', [[cx - 30 - 15 * i, whole.cy], [cx + 30 + 15 * i, whole.cy]]);
  await touch('touchEnd', []);
  await page.waitForFunction(() => document.getElementById('app').dataset.drawnZoom === 'detail', null, { timeout: 5000 });
  const zoomed = await chartGeometry(page);
  const wholeSpan = whole.max - whole.min;
  assert.ok(zoomed.max - zoomed.min < wholeSpan * 0.6, `pinch zoomed ${whole.min}..${whole.max} to ${zoomed.min}..${zoomed.max}`);
  const middle = (whole.min + whole.max) / 2;
  assert.ok(zoomed.min < middle && zoomed.max > middle, 'zoomed around the fingers');
  const range = await page.evaluate(() => window.trainscope.zoom.range);
  assert.ok(range && range.to - range.from < wholeSpan * 0.6, `zoom range ${JSON.stringify(range)}`);
  assert.equal(await page.getByTestId('reset-zoom').isEnabled(), true);

  // Zoomed, a sideways swipe pans: a finger moving left shows later steps.
  await touch('touchStart', [[cx + 80, zoomed.cy]]);
  for (let i = 1; i <= 8; ++i) await touch('touchMove', [[cx + 80 - 20 * i, zoomed.cy]]);
  await touch('touchEnd', []);
  g = await chartGeometry(page);
  const perPx = (zoomed.max - zoomed.min) / (zoomed.right - zoomed.left);
  assert.ok(g.min > zoomed.min + 100 * perPx && g.max > zoomed.max + 100 * perPx,
    `pan by 160 px (${(160 * perPx).toFixed(0)} steps): ${zoomed.min}..${zoomed.max} -> ${g.min}..${g.max}`);
  await h.screenshot(page, 'phone-zoomed');

  // A vertical drag on the chart scrolls the page (the chart does not trap it).
  const y0 = await page.evaluate(() => window.scrollY);
  await touch('touchStart', [[cx, g.bottom - 10]]);
  for (let i = 1; i <= 8; ++i) await touch('touchMove', [[cx, g.bottom - 10 - 25 * i]]);
  await touch('touchEnd', []);
  await page.waitForFunction((y) => window.scrollY > y + 50, y0, { timeout: 5000 });
  g = await chartGeometry(page);
  assert.ok(Math.abs((g.max - g.min) - (zoomed.max - zoomed.min)) < 1, 'the vertical drag did not zoom');

  await page.getByTestId('reset-zoom').tap();
  await page.waitForFunction(() => document.getElementById('app').dataset.drawnZoom === 'none');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('phone: a tap on a layer shows its details, a pinch zooms the diagram', async () => {
  const page = await openTouchPage(PHONE);
  await page.getByTestId('model-toggle').tap();
  await page.waitForFunction(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length === 6);
  await page.getByTestId('model-viewport').scrollIntoViewIfNeeded();
  const view = await m.viewBox(page);
  assert.ok(view.width <= PHONE.width - 16 && view.height >= 200, `diagram fits the screen: ${JSON.stringify(view)}`);
  const t0 = await m.transform(page);
  assert.ok(t0.k > 0 && t0.k <= 1, `fitted: ${JSON.stringify(t0)}`);

  // Tap the first block's attention (whatever the fitted scale made of it).
  const part = await m.partBox(page, 'h.0.attn');
  assert.ok(part && part.cx > view.x && part.cx < view.x + view.width && part.cy > view.y && part.cy < view.y + view.height,
    `h.0.attn is in view: ${JSON.stringify(part)}`);
  await page.touchscreen.tap(part.cx, part.y + Math.min(8, part.height / 4));
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.0.attn', null, { timeout: 5000 });
  assert.equal(await page.getByTestId('model-info-name').innerText(), 'h.0.attn');
  // The details come right below the diagram.
  const info = await page.getByTestId('model-info').boundingBox();
  assert.ok(info.y >= view.y + view.height - 1 && info.y < view.y + view.height + 40, `details below the diagram: ${JSON.stringify(info)}`);

  // A part drawn under 44 px tall takes a tap that misses it by a little: on the free space
  // of a block or of the model beside it, inside its box grown to 44 px, nearer than any
  // other small part's.
  const near = await page.evaluate((v) => {
    const box = (p) => p.querySelector('.ms-frame').getBoundingClientRect();
    const small = (b) => b.width < 44 || b.height < 44;
    const parts = [...document.querySelectorAll('#model-panel .ms-part')].map((p) => ({ path: p.dataset.path, b: box(p) }));
    const gap = (b, x, y) => ({ dx: Math.max(b.left - x, 0, x - b.right), dy: Math.max(b.top - y, 0, y - b.bottom) });
    const within44 = (b, x, y) => {
      const { dx, dy } = gap(b, x, y);
      return dx <= Math.max(0, (44 - b.width) / 2) && dy <= Math.max(0, (44 - b.height) / 2);
    };
    for (const { path, b } of parts.filter((p) => small(p.b) && p.b.height <= 30)) {
      const off = (44 - b.height) / 2 - 3;
      for (const y of [b.bottom + off, b.top - off]) {
        const x = b.left + b.width / 2;
        if (!(x > v.x + 4 && x < v.x + v.width - 4 && y > v.y + 4 && y < v.y + v.height - 4)) continue;
        const hit = document.elementFromPoint(x, y)?.closest('[data-action]');
        if (hit && (!hit.classList.contains('ms-part') || small(box(hit)))) continue;  // not free space
        const { dy } = gap(b, x, y);
        if (parts.some((o) => o.path !== path && small(o.b) && within44(o.b, x, y) && Math.hypot(gap(o.b, x, y).dx, gap(o.b, x, y).dy) <= dy)) continue;
        return { path, x, y, height: b.height, missedBy: dy };
      }
    }
    return null;
  }, view);
  assert.ok(near, 'a small part with free space beside it');
  await page.touchscreen.tap(near.x, near.y);
  await page.waitForFunction((p) => document.getElementById('model-panel').dataset.selected === p, near.path, { timeout: 5000 });
  await page.evaluate(() => window.trainscope.model.select('h.0.attn'));

  // Pinch: the fingers from 60 to 180 px apart: three times the scale.
  const touch = await fingers(page);
  const c = { x: view.x + view.width / 2, y: view.y + view.height / 2 };
  const k0 = (await m.transform(page)).k;
  await touch('touchStart', [[c.x - 30, c.y], [c.x + 30, c.y]]);
  for (let i = 1; i <= 6; ++i) await touch('touchMove', [[c.x - 30 - 10 * i, c.y], [c.x + 30 + 10 * i, c.y]]);
  await touch('touchEnd', []);
  const k1 = (await m.transform(page)).k;
  assert.ok(Math.abs(k1 / k0 - 3) < 0.05, `pinch scale ${k0} -> ${k1}`);
  assert.equal(await page.evaluate(() => document.getElementById('model-panel').dataset.selected), 'h.0.attn', 'the pinch selected nothing else');
  await h.screenshot(page, 'phone-model');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('phone: ten series keep their chips on one row that scrolls by itself, and the chart on the first screen', async () => {
  const trainer = await h.startProducer(agent, { steps: 300, name: 'ten-series', lossOnly: false, extra: ['--metrics', '10'] });
  await trainer.done;
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${trainer.sessionId}`), { viewport: PHONE, contextOptions: TOUCH });
  await h.waitForRunLoaded(page, trainer.sessionId);
  await page.waitForFunction(() => document.querySelectorAll('#series-chips .chip').length >= 10);
  const strip = () => page.evaluate(() => {
    const chips = document.getElementById('series-chips');
    const boxes = [...chips.querySelectorAll('.chip')].map((c) => c.getBoundingClientRect());
    return {
      rows: new Set(boxes.map((b) => Math.round(b.top))).size,
      scrolls: chips.scrollWidth > chips.clientWidth,
      lastRight: boxes[boxes.length - 1].right,
      canvasTop: document.getElementById('loss-chart').getBoundingClientRect().top,
    };
  });
  const before = await strip();
  assert.equal(before.rows, 1, 'the chips make one row');
  assert.ok(before.scrolls && before.lastRight > PHONE.width, 'the row runs past the screen');
  assert.ok(before.canvasTop < PHONE.height / 2, `the chart starts in the upper half of the first screen (at ${before.canvasTop} px)`);
  await assertNoSidewaysScroll(page, 'ten series');
  // The last chip is reached by scrolling the row (a swipe), and a tap on it shows its series.
  await page.evaluate(() => {
    const chips = document.getElementById('series-chips');
    chips.scrollLeft = chips.scrollWidth;
  });
  const after = await strip();
  assert.ok(after.lastRight <= PHONE.width, `the last chip scrolls into view (right edge ${after.lastRight})`);
  await page.locator('#series-chips .chip').last().tap();
  await page.waitForFunction(() => document.querySelector('#series-chips .chip:last-child').dataset.checked === 'true');
  await fullScreenshot(page, 'phone-ten-series');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('tablet 768x1024 and phone 360x740: no sideways scroll, 44 px targets; desktop shows every panel', async () => {
  const tablet = await openTouchPage(TABLET);
  // Not a phone: open by default.
  assert.deepEqual(await toggleState(tablet), { stats: 'true', model: 'true', statusbar: 'true' });
  assert.equal(await tablet.getByTestId('stats-toggle').isVisible(), true);
  await tablet.waitForFunction(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length === 6);
  await assertNoSidewaysScroll(tablet, 'tablet');
  await assertTouchTargets(tablet, 'tablet', 15);
  assert.deepEqual(await hoverOnly(tablet), [], 'tablet: titles a touch screen cannot show');
  const chartBox = await tablet.getByTestId('loss-chart').boundingBox();
  assert.ok(chartBox.width > 680 && chartBox.height > 300, `chart fills the tablet: ${JSON.stringify(chartBox)}`);
  await fullScreenshot(tablet, 'tablet');
  await tablet.context().close();

  const small = await openTouchPage(SMALL_PHONE);
  await assertNoSidewaysScroll(small, '360 px, folded');
  await assertTouchTargets(small, '360 px, folded', 10);
  await fullScreenshot(small, 'phone-360');
  for (const id of ['stats-toggle', 'model-toggle', 'statusbar-toggle']) await small.getByTestId(id).tap();
  await small.waitForFunction(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length === 6);
  await assertNoSidewaysScroll(small, '360 px, unfolded');
  await assertTouchTargets(small, '360 px, unfolded', 15);
  assert.deepEqual(await hoverOnly(small), [], '360 px: titles a touch screen cannot show');
  assert.deepEqual([...small.errors], []);
  await small.context().close();

  // Desktop: no fold toggles, every panel whole, even with "folded" stored.
  const desktop = await h.openPage(browser, agent.pageUrl(`/?run=${run}`), { viewport: { width: 1280, height: 800 } });
  await h.waitForRunLoaded(desktop, run);
  await desktop.evaluate(() => {
    localStorage.setItem('trainscope.panel.stats.collapsed', '1');
    localStorage.setItem('trainscope.panel.statusbar.collapsed', '1');
  });
  await desktop.reload();
  await h.waitForRunLoaded(desktop, run);
  assert.equal(await desktop.getByTestId('stats-toggle').isVisible(), false);
  assert.equal(await desktop.getByTestId('statusbar-toggle').isVisible(), false);
  const shown = await contentShown(desktop);
  assert.ok(shown.mean && shown.progress && shown.heap, JSON.stringify(shown));
  assert.deepEqual(desktop.errors, []);
  await desktop.context().close();
});

test('turning the phone re-lays the page out: the chart follows the width, nothing scrolls sideways', async () => {
  const page = await openTouchPage(PHONE);
  const portrait = await chartGeometry(page);
  assert.ok(portrait.canvasWidth < PHONE.width, `portrait canvas ${portrait.canvasWidth}`);

  await page.setViewportSize({ width: PHONE.height, height: PHONE.width });
  await page.waitForFunction((w) => document.getElementById('loss-chart').getBoundingClientRect().width > w + 300,
    portrait.canvasWidth, { timeout: 5000 });
  const landscape = await chartGeometry(page);
  // Chart.js resized the drawing too, not just the element.
  const drawn = await page.evaluate(() => Chart.getChart(document.getElementById('loss-chart')).width);
  assert.ok(Math.abs(drawn - landscape.canvasWidth) < 1, `chart ${drawn} vs canvas ${landscape.canvasWidth}`);
  assert.ok(landscape.bottom - landscape.top > 120, `plot height in landscape: ${landscape.bottom - landscape.top}`);
  await assertNoSidewaysScroll(page, 'landscape');
  await assertTouchTargets(page, 'landscape', 10);
  await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
  await h.screenshot(page, 'phone-landscape');
  await page.evaluate(() => window.scrollTo(0, 0));
  await h.screenshot(page, 'phone-landscape-top');

  await page.setViewportSize(PHONE);
  await page.waitForFunction((w) => Math.abs(document.getElementById('loss-chart').getBoundingClientRect().width - w) < 1,
    portrait.canvasWidth, { timeout: 5000 });
  await assertNoSidewaysScroll(page, 'back to portrait');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/**
 * Visible elements whose title says something the page shows nowhere else and that a tap
 * cannot bring up: "tag.testid: title" each. A title is shown otherwise when the element's
 * text or aria-label holds it, or when the element explains itself on a tap (data-detail).
 * A working control's title says what a tap on it does, and the tap does it: not counted.
 */
function hoverOnly(page) {
  return page.evaluate(() => [...document.querySelectorAll('[title]')].filter((e) => {
    const title = e.getAttribute('title').trim().toLowerCase();
    if (!title || !e.checkVisibility({ visibilityProperty: true }) || e.dataset.detail === e.getAttribute('title')) return false;
    const control = e.matches('button, a[href], label, select, input, [role=button]');
    if (control && e.getAttribute('aria-disabled') !== 'true' && !e.disabled) return false;
    const shown = `${e.textContent} ${e.getAttribute('aria-label') || ''}`.toLowerCase();
    return !shown.includes(title);
  }).map((e) => `${e.tagName.toLowerCase()}.${e.dataset.testid || e.className}: ${e.getAttribute('title')}`));
}

/** The tap popover's text and box, or null while it is hidden. */
function tapDetail(page) {
  return page.evaluate(() => {
    const p = document.querySelector('[data-testid="tap-detail"]');
    if (!p || p.hidden) return null;
    const b = p.getBoundingClientRect();
    return { text: p.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom };
  });
}

test('phone: nothing is hover-only: a tap shows what a title says (trend figures, why an export is unavailable)', async () => {
  const page = await openTouchPage(PHONE);
  await page.getByTestId('stats-toggle').tap();
  await page.getByTestId('model-toggle').tap();
  await page.getByTestId('statusbar-toggle').tap();
  assert.deepEqual(await hoverOnly(page), [], 'titles a touch screen cannot show');

  // A trend badge: its figures. A second tap, or a tap elsewhere, closes them.
  const badge = page.locator('[data-testid=trend-badge][data-series="train/loss"]');
  await badge.scrollIntoViewIfNeeded();
  await badge.tap();
  let shown = await tapDetail(page);
  assert.ok(shown, 'a tap on the badge shows its figures');
  assert.match(shown.text, /^train\/loss: .+ over the last \d+ points.*; has NaN\/Inf values/);
  assert.ok(shown.left >= 0 && shown.right <= PHONE.width, `inside the screen: ${JSON.stringify(shown)}`);
  await h.screenshot(page, 'phone-tap-detail');
  await badge.tap();
  assert.equal(await tapDetail(page), null, 'a second tap closes');
  await badge.tap();
  await page.getByTestId('stat-current').tap();
  assert.equal(await tapDetail(page), null, 'a tap elsewhere closes');

  // An export that cannot run: the model panel of a run without a model says why.
  await page.evaluate(() => window.trainscope.model.setState('none', 'This run did not report its model.'));
  const svg = page.getByTestId('model-export-svg');
  await svg.scrollIntoViewIfNeeded();
  const box = await svg.boundingBox();
  const downloads = [];
  page.on('download', (d) => downloads.push(d.suggestedFilename()));
  await page.touchscreen.tap(box.x + box.width / 2, box.y + box.height / 2);
  shown = await tapDetail(page);
  assert.equal(shown && shown.text, 'This run did not report its model: nothing to export');
  assert.deepEqual(downloads, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
