// Helpers shared by the model-panel tests (model_*.test.js): real model info from the SDK
// (ts-model-info prints trainscope::gpt_model_info_json), trainers that report it, and the
// panel's state in the page.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const h = require('./harness');

const modelInfoBin = path.join(h.buildDir, 'bin', 'ts-model-info');

/** The SDK's nanoGPT model info for these flags (see tests/tools/model_info_json.cpp). */
function gptModelInfo(args = []) {
  if (!fs.existsSync(modelInfoBin)) {
    throw new Error(`${modelInfoBin} is missing: build it (cmake --build <build> --target ts-model-info)`);
  }
  return execFileSync(modelInfoBin, args.map(String)).toString().trim();
}

const SIX_LAYERS = ['--n_layer', 6, '--n_head', 6, '--n_embd', 384, '--block_size', 256, '--vocab_size', 65];
// GPT-2 XL's shape: 48 layers, 25 heads, 1600 wide, untied head.
const FORTY_EIGHT_LAYERS = ['--n_layer', 48, '--n_head', 25, '--n_embd', 1600, '--block_size', 1024,
  '--vocab_size', 50257, '--untied_lm_head'];

/** The page's layout and formatting module, loaded in node. */
function layoutModule() {
  return import(pathToFileURL(path.join(h.webDir, 'static', 'js', 'model_layout.js')).href);
}

/**
 * Starts a trainer that reports `modelInfo` (text; null: none), waits until it finished and
 * the agent answers /api/model-info for it with `expectStatus`. Returns {sessionId, reply}.
 */
async function startModelRun(agent, name, modelInfo, { expectStatus = 200, steps = 50 } = {}) {
  // --hold_ms: a trainer that exits within milliseconds can beat its own stdout to the harness.
  const extra = ['--hold_ms', '200', ...(modelInfo === null ? [] : ['--model_info', modelInfo])];
  const trainer = await h.startProducer(agent, { steps, rate: 0, name, extra });
  await trainer.done;
  await agent.waitFinished(trainer.sessionId);
  const reply = await h.waitFor(async () => {
    const r = await agent.fetch(`/api/model-info?session=${trainer.sessionId}`);
    return r.status === expectStatus ? { status: r.status, body: await r.json() } : null;
  }, { timeoutMs: 10000, what: `/api/model-info of ${name} to answer ${expectStatus}` });
  return { sessionId: trainer.sessionId, reply };
}

/** Waits until the model panel is in `state` (ready, none, error, ...) for `sessionId`. */
async function waitForPanel(page, state, sessionId, timeoutMs = 10000) {
  await page.waitForFunction(([s, id]) => {
    const panel = document.getElementById('model-panel');
    return panel && panel.dataset.state === s && (!id || panel.dataset.sessionId === id);
  }, [state, sessionId], { timeout: timeoutMs });
}

/** Opens the dashboard on a run and waits for its model panel; scrolls the panel into view. */
async function openModelPage(browser, agent, sessionId, { state = 'ready', viewport = { width: 1280, height: 800 } } = {}) {
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${sessionId}`), { viewport });
  await waitForPanel(page, state, sessionId);
  await page.evaluate(() => document.getElementById('model-panel').scrollIntoView({ block: 'start' }));
  return page;
}

/** The client-space box of a layer's frame ({x, y, width, height, cx, cy}), or null. */
async function partBox(page, layerPath) {
  return page.evaluate((p) => {
    const part = [...document.querySelectorAll('#model-panel .ms-part')].find((e) => e.dataset.path === p);
    if (!part) return null;
    const b = part.querySelector('.ms-frame').getBoundingClientRect();
    return { x: b.x, y: b.y, width: b.width, height: b.height, cx: b.x + b.width / 2, cy: b.y + b.height / 2 };
  }, layerPath);
}

/** The diagram's current transform {k, x, y}. */
async function transform(page) {
  return page.evaluate(() => ({ ...window.trainscope.model.zoom.transform }));
}

/** The client-space box of the diagram's view. */
async function viewBox(page) {
  return page.evaluate(() => {
    const b = document.querySelector('#model-panel .mp-viewport').getBoundingClientRect();
    return { x: b.x, y: b.y, width: b.width, height: b.height };
  });
}

/** Finds a node of the API's tree by full path ("h.3.attn"; the root is its own name). */
function findNode(tree, fullPath) {
  if (fullPath === tree.name) return tree;
  let node = tree;
  let rest = fullPath;
  while (rest) {
    const child = (node.children || []).filter((c) => rest === c.name || rest.startsWith(`${c.name}.`))
      .sort((a, b) => b.name.length - a.name.length)[0];
    if (!child) return null;
    node = child;
    rest = rest === child.name ? '' : rest.slice(child.name.length + 1);
  }
  return node;
}

module.exports = {
  gptModelInfo,
  SIX_LAYERS,
  FORTY_EIGHT_LAYERS,
  layoutModule,
  startModelRun,
  waitForPanel,
  openModelPage,
  partBox,
  transform,
  viewBox,
  findNode,
};
