// A Python trainer's model on the page: a real /usr/bin/python3 child trains the example
// trainer's GPT (sdk/examples/python/gpt_model.py), 10 small layers, with run.watch(model);
// the model panel draws
// what watch() sent: the exact parameter count (the tied head counted once), the blocks with
// the middle six folded, the head marked as tied to wte, and the shapes of the first forward.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const m = require('./model_support');

const PYTHON = '/usr/bin/python3';  // Debian's torch imports only here
const packageDir = path.join(h.buildDir, 'python');
const exampleDir = path.join(h.repoRoot, 'sdk', 'examples', 'python');

/** Throws when what tools/bootstrap provides is missing: the tests fail rather than pass unrun. */
function checkPrerequisites() {
  if (!fs.existsSync(path.join(packageDir, 'trainscope', 'watch.py'))) {
    throw new Error(`${packageDir}/trainscope (with watch.py) is missing: build the Python package (tools/bootstrap)`);
  }
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing (tools/bootstrap installs python3-torch)`);
}

// The trainer: 6 SGD steps, loss logged after each, then it prints what the test compares.
const TRAINER = `
import json, sys
sys.path.insert(0, ${JSON.stringify(exampleDir)})
import torch, trainscope
from gpt_model import GPT, GPTConfig
torch.manual_seed(0)
cfg = GPTConfig(vocab_size=17, block_size=8, n_layer=10, n_head=2, n_embd=16)
model = GPT(cfg)

def batch(cfg, batch_size, seed):
    g = torch.Generator().manual_seed(seed)
    data = torch.randint(0, cfg.vocab_size, (batch_size, cfg.block_size + 1), generator=g)
    return data[:, :-1], data[:, 1:]

run = trainscope.init("python-model", autostart=False)
run.watch(model, grad_norms_every=2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loss_metric = run.metric("train/loss")
for it in range(6):
    x, y = batch(cfg, batch_size=4, seed=it)
    _, loss = model(x, y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    loss_metric.log(it, loss)
print(json.dumps({"session": run.session_id, "total": sum(p.numel() for p in model.parameters())}), flush=True)
run.finish()
`;

function runTrainer(agent) {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', TRAINER], {
      env: { ...process.env, PYTHONPATH: packageDir, TRAINSCOPE_NAMESPACE: agent.namespace, TRAINSCOPE_AUTOSTART: '0' },
      timeout: 120000,
    }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the Python trainer failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

let agent;
let browser;
let trained;   // {session, total} as the trainer saw them
let info;      // GET /api/model-info's reply

before(async () => {
  checkPrerequisites();
  agent = await h.startAgent();
  browser = await h.launchBrowser();
  trained = await runTrainer(agent);
  await agent.waitFinished(trained.session);
  // The shapes come with the second report, after the first forward pass.
  info = await h.waitFor(async () => {
    const r = await agent.fetch(`/api/model-info?session=${trained.session}`);
    const body = r.status === 200 ? await r.json() : null;
    return body && body.tree.input_shape ? body : null;
  }, { what: 'the model info with shapes' });
});

after(async () => {
  if (browser) await browser.close();
  await h.stopAll();
});

async function svgState(page) {
  return page.evaluate(() => {
    const svg = document.querySelector('#model-panel svg.ms-svg');
    return {
      blocks: [...svg.querySelectorAll('g.ms-node')].filter((g) => g.dataset.type === 'Block').map((g) => g.dataset.path),
      ranges: [...svg.querySelectorAll('[data-testid="model-range"]')].map((r) => Number(r.dataset.count)),
    };
  });
}

/** Brings a layer into view (focus pans the diagram to it), clicks it, returns the details shown. */
async function selected(page, layerPath) {
  const part = page.locator(`#model-panel .ms-part[data-path="${layerPath}"]`);
  await part.focus();
  await part.click();  // once it stands still
  await page.waitForFunction((p) => document.getElementById('model-panel').dataset.selected === p, layerPath);
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-testid^="model-info-"]')]
    .map((e) => [e.dataset.testid.replace('model-info-', ''), e.textContent])));
}

test('the page draws the model a Python trainer watched', async () => {
  const { formatParams } = await m.layoutModule();
  assert.equal(info.total_params, trained.total, 'the tied weight is counted once, as model.parameters() does');
  const page = await m.openModelPage(browser, agent, trained.session);

  // The total, exact and formatted, and the config's layer count in the summary.
  const total = page.getByTestId('model-param-total');
  assert.equal(Number(await total.getAttribute('data-params')), trained.total);
  assert.equal(await total.innerText(), formatParams(trained.total));
  assert.equal(await page.getByTestId('model-summary').innerText(), `GPT · 10 layers · ${formatParams(trained.total)} parameters`);
  assert.equal(await page.getByTestId('model-param-n_layer').innerText(), '10');

  // Ten identical blocks: the first and last two drawn, the middle six folded; unfolding shows all.
  let state = await svgState(page);
  assert.deepEqual(state.blocks, ['transformer.h.0', 'transformer.h.1', 'transformer.h.8', 'transformer.h.9']);
  assert.deepEqual(state.ranges, [6]);
  await page.getByTestId('model-range').focus();  // pans it into view
  await page.getByTestId('model-range').click();
  await page.waitForFunction(() => !document.querySelector('#model-panel [data-testid="model-range"]'));
  state = await svgState(page);
  assert.deepEqual(state.blocks, Array.from({ length: 10 }, (_, i) => `transformer.h.${i}`));

  // The head: no parameters of its own, labelled as tied, the owner named in its details.
  const headText = await page.evaluate(() => document.querySelector('#model-panel .ms-part[data-path="lm_head"]').textContent);
  assert.match(headText, /tied to wte/);
  let shown = await selected(page, 'lm_head');
  assert.equal(shown['attr-tied_to'], 'transformer.wte.weight');
  assert.equal(Number(await page.getByTestId('model-info-params').getAttribute('data-params')), 0);
  assert.equal(shown.output, '(4, 8, 17)');

  // A layer inside a block: its path, type and the shapes the first forward pass recorded.
  shown = await selected(page, 'transformer.h.4.attn.c_attn');
  assert.equal(shown.name, 'transformer.h.4.attn.c_attn');
  assert.equal(shown.type, 'Linear');
  assert.equal(shown.input, '(4, 8, 16)');
  assert.equal(shown.output, '(4, 8, 48)');
  assert.equal(Number(await page.getByTestId('model-info-params').getAttribute('data-params')), 16 * 48, 'no bias');

  await (await page.$('#model-panel')).screenshot({ path: `${h.artifactsDir}/python-model.png` });
  assert.deepEqual(page.errors, []);
});

test('the watched model logs per-layer gradient norms every 2 steps', async () => {
  const run = await agent.run(trained.session);
  const norms = run.metrics.filter((name) => name.startsWith('grad_norm/'));
  assert.equal(norms.length, 2 + 10 * 6 + 1, 'wte, wpe, six layers per block, ln_f (the head has no weight of its own)');
  const series = await agent.series(trained.session, 'grad_norm/transformer.h.4.mlp.c_fc');
  // Steps 0, 2 and 4 (step 4's norms are logged as step 5's backward begins), none between.
  assert.deepEqual(series.points.map((p) => p[0]), [0, 2, 4]);
  assert.ok(series.points.every((p) => Number.isFinite(p[2]) && p[2] > 0));
});
