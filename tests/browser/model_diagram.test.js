// The model panel's diagram against a real agent and real trainers reporting the SDK's nanoGPT
// trees: 6 and 48 layers drawn with the right blocks (48: a folded range that expands), each
// block's parts as nested groups, clicks and keyboard selecting a layer whose details are the
// API's, and the parameter table.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const m = require('./model_support');

let agent;
let browser;
let six;
let big;

before(async () => {
  agent = await h.startAgent();
  browser = await h.launchBrowser();
  [six, big] = await Promise.all([
    m.startModelRun(agent, 'gpt-6-layers', m.gptModelInfo(m.SIX_LAYERS)),
    m.startModelRun(agent, 'gpt-48-layers', m.gptModelInfo(m.FORTY_EIGHT_LAYERS)),
  ]);
});

after(async () => {
  if (browser) await browser.close();
  await h.stopAll();
});

/** Groups that mirror the tree: [data-path] node groups by type, and the ⊕ count. */
async function diagramCounts(page) {
  return page.evaluate(() => {
    const svg = document.querySelector('#model-panel svg.ms-svg');
    const nodes = [...svg.querySelectorAll('g.ms-node')];
    return {
      blocks: nodes.filter((g) => g.dataset.type === 'Block').map((g) => g.dataset.path),
      adds: svg.querySelectorAll('.ms-add').length,
      residuals: svg.querySelectorAll('.ms-edge-residual').length,
      ranges: [...svg.querySelectorAll('[data-testid="model-range"]')].map((r) => ({ count: Number(r.dataset.count), label: r.getAttribute('aria-label') })),
      parts: svg.querySelectorAll('.ms-part').length,
      unlabeled: [...svg.querySelectorAll('.ms-part')].filter((p) => p.getAttribute('role') !== 'button' ||
        p.getAttribute('tabindex') !== '0' || !p.getAttribute('aria-label')).length,
      selfStyled: Boolean(svg.querySelector('style')) && svg.querySelector('style').textContent.includes('.ms-frame'),
    };
  });
}

test('a 6-layer model: 6 blocks with ln_1, attention, ln_2, MLP and two residual adds each', async () => {
  const page = await m.openModelPage(browser, agent, six.sessionId);
  const counts = await diagramCounts(page);
  assert.deepEqual(counts.blocks, ['h.0', 'h.1', 'h.2', 'h.3', 'h.4', 'h.5']);
  assert.equal(counts.ranges.length, 0);
  assert.equal(counts.adds, 6 * 2 + 1, 'two residual ⊕ per block, one for the embeddings');
  assert.equal(counts.residuals, 12);
  assert.equal(counts.parts, 1 + 2 + 6 * 11 + 2, 'every layer of the tree is a part');
  assert.equal(counts.unlabeled, 0, 'every part is a labelled, focusable button');
  assert.ok(counts.selfStyled, 'the svg carries its own styles');

  // Nested <g> groups mirror the tree.
  const nested = await page.evaluate(() => {
    const q = (sel) => document.querySelector(`#model-panel ${sel}`) !== null;
    const g = (p) => `g.ms-node[data-path="${p}"]`;
    return ['ln_1', 'ln_2'].every((n) => q(`${g('h.3')} > ${g(`h.3.${n}`)}`)) &&
      ['c_attn', 'heads', 'c_proj'].every((n) => q(`${g('h.3')} > ${g('h.3.attn')} > ${g(`h.3.attn.${n}`)}`)) &&
      ['c_fc', 'gelu', 'c_proj'].every((n) => q(`${g('h.3')} > ${g('h.3.mlp')} > ${g(`h.3.mlp.${n}`)}`)) &&
      q(`${g('GPT')} > ${g('wte')}`) && q(`${g('GPT')} > ${g('lm_head')}`) && q(`${g('GPT')} > ${g('ln_f')}`);
  });
  assert.ok(nested, 'block parts are nested groups');

  // The parameter table.
  const params = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-testid^="model-param-"]')]
    .map((e) => [e.dataset.testid.replace('model-param-', ''), e.textContent])));
  assert.equal(params.vocab_size, '65');
  assert.equal(params.n_layer, '6');
  assert.equal(params.n_head, '6');
  assert.equal(params.n_embd, '384');
  assert.equal(params.block_size, '256');
  const total = six.reply.body.total_params;
  assert.equal(params.total, `${(total / 1e6).toFixed(2)} M`);
  assert.match(await page.getByTestId('model-summary').innerText(), /GPT · 6 layers · 10\.75 M parameters/);

  // A selected layer for the screenshot.
  await page.click('#model-panel .ms-part[data-path="h.0.attn.c_attn"]');
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.0.attn.c_attn');
  await page.mouse.move(5, 5);
  await (await page.$('#model-panel')).screenshot({ path: `${h.artifactsDir}/model-6-layers.png` });
  assert.deepEqual(page.errors, []);
});

test("clicking a block's attention shows the API's parameter count and share, with B and T shapes", async () => {
  const page = await m.openModelPage(browser, agent, six.sessionId);
  const { tree, total_params: total } = six.reply.body;
  // The attention container of h.0 (its header, clear of its children).
  const box = await m.partBox(page, 'h.0.attn');
  await page.mouse.click(box.x + 40, box.y + 10);
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.0.attn');
  const info = async () => page.evaluate(() => {
    const t = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
    return {
      name: t('model-info-name'),
      type: t('model-info-type'),
      input: t('model-info-input'),
      output: t('model-info-output'),
      params: t('model-info-params'),
      exact: Number(document.querySelector('[data-testid="model-info-params"]')?.dataset.params),
    };
  });
  let shown = await info();
  const attn = m.findNode(tree, 'h.0.attn');
  assert.equal(shown.name, 'h.0.attn');
  assert.equal(shown.type, 'CausalSelfAttention');
  assert.equal(shown.exact, attn.params);
  const share = ((attn.params / total) * 100).toFixed(1);
  assert.ok(shown.params.startsWith(`${(attn.params / 1e3).toFixed(2)} K · ${share} %`), shown.params);
  assert.equal(shown.input, '(B, T, 384)');

  // A leaf: the full path, Linear, its shapes.
  const leaf = await m.partBox(page, 'h.0.attn.c_attn');
  await page.mouse.click(leaf.cx, leaf.cy);
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.0.attn.c_attn');
  shown = await info();
  const cAttn = m.findNode(tree, 'h.0.attn.c_attn');
  assert.equal(shown.name, 'h.0.attn.c_attn');
  assert.equal(shown.type, 'Linear');
  assert.equal(shown.input, '(B, T, 384)');
  assert.equal(shown.output, '(B, T, 1152)');
  assert.equal(shown.exact, cAttn.params);

  // A whole block: "1.77 M · 16.5 %".
  const block = await m.partBox(page, 'h.0');
  await page.mouse.click(block.x + 60, block.y + 12);
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.0');
  shown = await info();
  const h0 = m.findNode(tree, 'h.0');
  assert.ok(shown.params.startsWith(`${(h0.params / 1e6).toFixed(2)} M · ${((h0.params / total) * 100).toFixed(1)} %`), shown.params);
  assert.deepEqual(page.errors, []);
});

test('keyboard: Tab reaches the parts in tree order, Enter and Space select, focus pans into view', async () => {
  const page = await m.openModelPage(browser, agent, six.sessionId);
  // The head's last control (toggle, Export SVG, Export PNG): the next Tab enters the diagram.
  await page.getByTestId('model-export-png').focus();
  const focused = () => page.evaluate(() => document.activeElement?.dataset?.path ?? null);
  const order = [];
  for (let i = 0; i < 6; ++i) {
    await page.keyboard.press('Tab');
    order.push(await focused());
  }
  assert.deepEqual(order, ['GPT', 'wte', 'wpe', 'h.0', 'h.0.ln_1', 'h.0.attn']);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.0.attn');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'h.0.attn.c_attn');
  const scroll = await page.evaluate(() => document.querySelector('.content').scrollTop);
  await page.keyboard.press(' ');
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.0.attn.c_attn');
  assert.equal(await page.evaluate(() => document.querySelector('.content').scrollTop), scroll, 'Space did not scroll the page');
  assert.equal(await page.getByTestId('model-info-name').textContent(), 'h.0.attn.c_attn');
  const label = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  assert.equal(label, 'h.0.attn.c_attn, Linear, 442.37 K parameters');

  // A part far below the initial view: focusing it pans the diagram to it.
  const before = await m.partBox(page, 'h.4.mlp.c_proj');
  const initialView = await m.viewBox(page);
  assert.ok(before.y > initialView.y + initialView.height, 'h.4 starts out of view');
  await page.evaluate(() => document.querySelector('#model-panel .ms-part[data-path="h.4.mlp.c_proj"]').focus());
  await page.waitForFunction(() => document.activeElement?.dataset?.path === 'h.4.mlp.c_proj');
  // The browser may also scroll the page to show the focused part (the panel can reach
  // below the window), which moves the viewport itself: measure both after the focus.
  const view = await m.viewBox(page);
  const after = await m.partBox(page, 'h.4.mlp.c_proj');
  assert.ok(after.y >= view.y && after.y + after.height <= view.y + view.height, `focused part in view: ${JSON.stringify({ after, view })}`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('model-panel').dataset.selected === 'h.4.mlp.c_proj');
  assert.deepEqual(page.errors, []);
});

test('a 48-layer model: h.0, h.1, "h.2 … h.45" folded, h.46, h.47; expanding shows all 48 blocks', async () => {
  const page = await m.openModelPage(browser, agent, big.sessionId);
  let counts = await diagramCounts(page);
  assert.deepEqual(counts.blocks, ['h.0', 'h.1', 'h.46', 'h.47']);
  assert.equal(counts.ranges.length, 1);
  assert.equal(counts.ranges[0].count, 44);
  assert.match(counts.ranges[0].label, /^h\.2 … h\.45: 44 identical Blocks/);
  assert.equal(await page.getByTestId('model-param-total').textContent(), '1.64 B');
  assert.equal(await page.getByTestId('model-param-n_layer').textContent(), '48');

  // Screenshot with the folded range in the middle of the view.
  const range = page.getByTestId('model-range');
  await page.evaluate(() => {
    const { zoom, layout } = window.trainscope.model;
    const r = layout.ranges[0];
    const view = zoom.viewSize();
    const k = 0.8;
    zoom.set({ k, x: view.width / 2 - (r.x + r.w / 2) * k - 20, y: view.height / 2 - (r.y + r.h / 2) * k });
  });
  await page.mouse.move(5, 5);
  await (await page.$('#model-panel')).screenshot({ path: `${h.artifactsDir}/model-48-layers.png` });

  // Expand: by click.
  await range.click();
  await page.waitForFunction(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length === 48);
  counts = await diagramCounts(page);
  assert.deepEqual(counts.blocks, Array.from({ length: 48 }, (_, i) => `h.${i}`));
  assert.equal(counts.ranges.length, 0);
  assert.equal(counts.adds, 48 * 2 + 1);
  const renderMs = Number(await page.evaluate(() => document.getElementById('model-panel').dataset.renderMs));
  assert.ok(renderMs < 1000, `48 blocks drawn in ${renderMs} ms`);
  // Focus moved to the control that folds them again; Enter folds.
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'model-collapse');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length === 4);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'model-range');
  // And by keyboard: Space on the focused range.
  await page.keyboard.press(' ');
  await page.waitForFunction(() => document.querySelectorAll('#model-panel g.ms-node[data-type="Block"]').length === 48);

  // Selecting a block inside the unfolded range shows its own details.
  const h30 = await m.partBox(page, 'h.30.mlp');
  assert.ok(h30, 'h.30 is drawn');
  await page.evaluate(() => window.trainscope.model.selectAndReveal('h.30.mlp'));
  assert.equal(await page.getByTestId('model-info-name').textContent(), 'h.30.mlp');
  const exact = Number(await page.getByTestId('model-info-params').getAttribute('data-params'));
  assert.equal(exact, m.findNode(big.reply.body.tree, 'h.30.mlp').params);
  assert.deepEqual(page.errors, []);
});
