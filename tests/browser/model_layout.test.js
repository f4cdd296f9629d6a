// Unit tests of the model diagram's layout (web/static/js/model_layout.js), run in node on the
// SDK's real nanoGPT trees (ts-model-info): blocks, folded ranges, nesting, formatting, fit.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const m = require('./model_support');

const six = () => JSON.parse(m.gptModelInfo(m.SIX_LAYERS));
const big = () => JSON.parse(m.gptModelInfo(m.FORTY_EIGHT_LAYERS));

/** Every item of a layout, depth first, with its parent node item. */
function walk(item, visit, parent = null) {
  visit(item, parent);
  if (item.kind === 'node') for (const c of item.children) walk(c, visit, item);
}

function nodesOf(layout) {
  const out = [];
  walk(layout.root, (it) => {
    if (it.kind === 'node') out.push(it);
  });
  return out;
}

test('parameter counts, shares and shapes are formatted for people', async () => {
  const { formatParams, formatParamsShort, formatShare, formatShape } = await m.layoutModule();
  assert.equal(formatParams(10745088), '10.75 M');
  assert.equal(formatParams(1770240), '1.77 M');
  assert.equal(formatParams(442368), '442.37 K');
  assert.equal(formatParams(384), '384');
  assert.equal(formatParams(1638022400), '1.64 B');
  assert.equal(formatParamsShort(442368), '442K');
  assert.equal(formatParamsShort(1770240), '1.77M');
  assert.equal(formatParamsShort(24960), '25.0K');
  assert.equal(formatShare(1770240, 10745088), '16.5 %');
  assert.equal(formatShare(384, 10745088), '< 0.1 %');
  assert.equal(formatShare(0, 10745088), '0 %');
  assert.equal(formatShape(['B', 'T', 384]), '(B, T, 384)');
  assert.equal(formatShape(undefined), '—');
});

test('a 6-layer GPT: embeddings, 6 residual blocks with their parts nested, ln_f, head', async () => {
  const { layoutModel } = await m.layoutModule();
  const info = six();
  const layout = layoutModel(info);
  assert.equal(layout.blocks, 6);
  assert.equal(layout.ranges.length, 0);
  const nodes = nodesOf(layout);
  const byPath = new Map(nodes.map((n) => [n.path, n]));
  for (const p of ['GPT', 'wte', 'wpe', 'ln_f', 'lm_head']) assert.ok(byPath.has(p), p);
  for (let i = 0; i < 6; ++i) {
    const block = byPath.get(`h.${i}`);
    assert.equal(block.variant, 'block');
    const kids = block.children.filter((c) => c.kind === 'node').map((c) => c.path);
    assert.deepEqual(kids, [`h.${i}.ln_1`, `h.${i}.attn`, `h.${i}.ln_2`, `h.${i}.mlp`]);
    const attn = byPath.get(`h.${i}.attn`);
    assert.deepEqual(attn.children.filter((c) => c.kind === 'node').map((c) => c.name), ['c_attn', 'heads', 'c_proj']);
    const mlp = byPath.get(`h.${i}.mlp`);
    assert.deepEqual(mlp.children.filter((c) => c.kind === 'node').map((c) => c.name), ['c_fc', 'gelu', 'c_proj']);
    // Two residual paths, each ending in a ⊕.
    assert.equal(block.children.filter((c) => c.kind === 'add').length, 2);
    assert.equal(block.children.filter((c) => c.kind === 'edge' && c.variant === 'residual').length, 2);
    // Children lie inside their block.
    for (const c of block.children.filter((x) => x.kind === 'node')) {
      assert.ok(c.x >= block.x && c.x + c.w <= block.x + block.w && c.y >= block.y && c.y + c.h <= block.y + block.h, c.path);
    }
  }
  // Blocks go down the page in order, without overlapping.
  for (let i = 1; i < 6; ++i) assert.ok(byPath.get(`h.${i}`).y >= byPath.get(`h.${i - 1}`).y + byPath.get(`h.${i - 1}`).h);
  // Params are the API's.
  assert.equal(byPath.get('h.2.attn').params, info.tree.children[4].children[1].params);
  assert.ok(layout.width > 0 && layout.height > layout.width);
});

test('48 identical blocks fold into h.2 … h.45; expanding shows all 48', async () => {
  const { layoutModel } = await m.layoutModule();
  const info = big();
  const folded = layoutModel(info);
  assert.equal(folded.blocks, 4);
  assert.equal(folded.ranges.length, 1);
  const range = folded.ranges[0];
  assert.equal(range.first, 'h.2');
  assert.equal(range.last, 'h.45');
  assert.equal(range.count, 44);
  assert.equal(range.paths.length, 44);
  assert.deepEqual(nodesOf(folded).filter((n) => n.variant === 'block').map((n) => n.path), ['h.0', 'h.1', 'h.46', 'h.47']);
  const bracket = [];
  walk(folded.root, (it) => {
    if (it.kind === 'bracket') bracket.push(it);
  });
  assert.equal(bracket.length, 1);
  assert.equal(bracket[0].label, '48 ×');

  const open = layoutModel(info, { expanded: new Set([range.id]) });
  assert.equal(open.blocks, 48);
  assert.equal(open.ranges.length, 0);
  assert.equal(open.expandedRanges.length, 1);
  assert.ok(open.height > folded.height * 5);
});

test('runs up to 8 long are drawn in full', async () => {
  const { layoutModel } = await m.layoutModule();
  const info = JSON.parse(m.gptModelInfo(['--n_layer', 8]));
  assert.equal(layoutModel(info).blocks, 8);
  const nine = JSON.parse(m.gptModelInfo(['--n_layer', 9]));
  const layout = layoutModel(nine);
  assert.equal(layout.blocks, 4);
  assert.equal(layout.ranges[0].count, 5);
});

test('every node is indexed by its full path', async () => {
  const { indexTree } = await m.layoutModule();
  const info = six();
  const index = indexTree(info.tree);
  assert.equal(index.size, 2 + 6 * 11 + 2 + 1);
  const e = index.get('h.3.attn.c_attn');
  assert.equal(e.type, 'Linear');
  assert.deepEqual(e.input_shape, ['B', 'T', 384]);
  assert.deepEqual(e.output_shape, ['B', 'T', 1152]);
  assert.equal(e.params, 384 * 1152);
  assert.equal(e.attributes.out_features, 1152);
  assert.equal(e.parent, 'h.3.attn');
  assert.equal(index.get('h.3').parent, 'GPT');
  assert.equal(index.get('GPT').params, info.total_params);
});

test('any other tree lays out too: stacked containers, leaves, no residual lane', async () => {
  const { layoutModel } = await m.layoutModule();
  const leaf = (name, type, params) => ({ name, type, params, input_shape: ['B', 16], output_shape: ['B', 16], children: [] });
  const info = {
    config: {},
    total_params: 1000,
    tree: {
      name: 'Net', type: 'Sequential', params: 1000, children: [
        leaf('fc1', 'Linear', 300),
        { name: 'body', type: 'Sequential', params: 400, children: [leaf('a', 'ReLU', 0), leaf('b', 'Linear', 200), leaf('c', 'Linear', 200), leaf('d', 'Dropout', 0), leaf('e', 'Linear', 0)] },
        leaf('fc2', 'Linear', 300),
      ],
    },
  };
  const layout = layoutModel(info);
  const nodes = nodesOf(layout);
  assert.equal(layout.blocks, 0);
  assert.deepEqual(nodes.map((n) => n.path), ['Net', 'fc1', 'body', 'body.a', 'body.b', 'body.c', 'body.d', 'body.e', 'fc2']);
  const body = nodes.find((n) => n.path === 'body');
  const inner = body.children.filter((c) => c.kind === 'node');
  for (let i = 1; i < inner.length; ++i) assert.ok(inner[i].y > inner[i - 1].y, 'stacked top to bottom');
  assert.throws(() => layoutModel({ config: {} }), /no layer tree/);
});

test('the initial view shows the whole diagram when legible, else fits the width at the top', async () => {
  const { fitTransform } = await m.layoutModule();
  const small = fitTransform(900, 600, 400, 500);
  assert.ok(small.k <= 1 && small.k > 0.9);
  assert.ok(Math.abs(small.x - (900 - 400 * small.k) / 2) < 1e-9);
  const tall = fitTransform(900, 600, 592, 2900);
  assert.equal(tall.k, 1);
  assert.equal(tall.y, 12);
  assert.ok(Math.abs(tall.x - (900 - 592) / 2) < 1e-9);
  const narrow = fitTransform(400, 600, 592, 2900);
  assert.ok(Math.abs(narrow.k - (400 - 24) / 592) < 1e-9);
});
