// Shared harness for the browser end-to-end tests and bench/e2e_latency.js.
//
// Starts real processes as direct children and stops them by pid: a trainscope-agent on a
// free port with its own namespace, a fresh data dir and a known access token, ts-producer
// trainers in that namespace, and headless Debian chromium through playwright-core.
//
// Access: each agent gets a random token (--token=), kept across restarts so an open page
// reconnects. Pages open agent.pageUrl(...) (the token in the query, as the agent's printed
// URL has it: the agent answers with a cookie and the page drops the token from its
// address); node-side requests go through agent.fetch(), which sends Authorization: Bearer.
//
//   TRAINSCOPE_BUILD_DIR  build tree holding bin/trainscope-agent and bin/ts-producer
//                         (default: <repo>/build)
//   TRAINSCOPE_CHROMIUM   browser binary (default /usr/bin/chromium)
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createRequire } = require('node:module');

const repoRoot = path.resolve(__dirname, '..', '..');
const buildDir = path.resolve(process.env.TRAINSCOPE_BUILD_DIR || path.join(repoRoot, 'build'));
const webDir = path.join(repoRoot, 'web');
const artifactsDir = path.join(repoRoot, 'tests', 'artifacts');
/** require() for packages installed in web/node_modules (playwright-core, ws). */
const requireWeb = createRequire(path.join(webDir, 'package.json'));

const agentBin = path.join(buildDir, 'bin', 'trainscope-agent');
const producerBin = path.join(buildDir, 'bin', 'ts-producer');

const children = new Set();
const tempDirs = new Set();
const namespaces = new Set();
let namespaceCounter = 0;

function checkBinaries() {
  for (const bin of [agentBin, producerBin]) {
    if (!fs.existsSync(bin)) {
      throw new Error(`${bin} is missing: build it (cmake --build <build> --target trainscope-agent ts-producer) ` +
        'or point TRAINSCOPE_BUILD_DIR at a build tree');
    }
  }
  if (!fs.existsSync(path.join(webDir, 'node_modules', 'chart.js'))) {
    throw new Error(`${webDir}/node_modules is missing: run npm ci in web/`);
  }
  ensurePageBuilt();
}

/** Newest modification time (ms) of the files the built page is made from. */
function pageSourcesMtime() {
  const files = [path.join(webDir, 'build_page.mjs'), path.join(webDir, 'static', 'dashboard.html')];
  for (const sub of ['js', 'css']) {
    const dir = path.join(webDir, 'static', sub);
    for (const name of fs.readdirSync(dir)) files.push(path.join(dir, name));
  }
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

/**
 * The agent serves web/dist (the bundled page): rebuilt here when a source is newer, so a
 * test never runs yesterday's bundle after an edit without a cmake build (the build is
 * atomic, a second test file building at the same time does no harm).
 */
function ensurePageBuilt() {
  const page = path.join(webDir, 'dist', 'dashboard.html');
  if (fs.existsSync(page) && fs.statSync(page).mtimeMs >= pageSourcesMtime()) return;
  require('node:child_process').execFileSync(process.execPath, [path.join(webDir, 'build_page.mjs')], { stdio: 'inherit' });
}

/** A namespace no other test (or agent) uses: "tsweb-<pid>-<n>". */
function newNamespace() {
  namespaceCounter += 1;
  const ns = `tsweb-${process.pid}-${namespaceCounter}`;
  namespaces.add(ns);
  return ns;
}

/** A fresh temp dir (under $TRAINSCOPE_TEST_TMPDIR if set, else the OS temp dir). */
function tempDir(prefix = 'tsweb-') {
  const dir = fs.mkdtempSync(path.join(process.env.TRAINSCOPE_TEST_TMPDIR || os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * Removes what the tests left: temp dirs (data dirs, and the runtime dirs that hold the
 * agents' lock files), and each test namespace's segments in /dev/shm.
 * Only call it once every process of ours has exited.
 */
function removeLeftovers() {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
  let shm = [];
  try {
    shm = fs.readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const ns of namespaces) {
    for (const name of shm) if (name.startsWith(`${ns}.`)) fs.rmSync(path.join('/dev/shm', name), { force: true });
  }
  namespaces.clear();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. */
async function waitFor(fn, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
        (lastError ? ` (last error: ${lastError.message})` : ''));
    }
    await sleep(intervalMs);
  }
}

/** Spawns a child we own; its output is kept (last 64 KiB) for failure messages. */
function spawnChild(bin, args, env) {
  const child = spawn(bin, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.output = '';
  const keep = (chunk) => {
    child.output += chunk.toString();
    if (child.output.length > 65536) child.output = child.output.slice(-65536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return child;
}

/** Waits until the child's stdout has a line matching `re`; returns the match. */
function waitForLine(child, re, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${what}; output so far:\n${child.output}`));
    }, timeoutMs);
    const onData = (chunk) => {
      buffer += chunk.toString();
      const m = buffer.match(re);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${what}: process exited (${code ?? signal}) first; output:\n${child.output}`));
    };
    function cleanup() {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    }
    child.stdout.on('data', onData);
    child.on('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
async function stopChild(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** A fresh access token: 128 random bits as hex. */
function newToken() {
  return crypto.randomBytes(16).toString('hex');
}

class Agent {
  constructor({ namespace, dataDir, runtimeDir, port = 0, token = newToken(), extraArgs = [], web = webDir }) {
    this.namespace = namespace;
    /** The dashboard files it serves (--web-dir): the repository's web/ unless a test says. */
    this.webDir = web;
    /**
     * More command-line arguments, e.g. --plugin-option=system.nvml_library=PATH. The system
     * plugin is off unless they turn it on (--plugin-option=system.enabled=true): it adds a
     * point per second per series to every run that lives a second or two, which would
     * change what the other tests count and chart.
     */
    this.extraArgs = ['--plugin-option=system.enabled=false', ...extraArgs];
    // The agent's access token, passed as --token=: assign a new one before start() to
    // restart the agent as if it had made a fresh token.
    this.token = token;
    /** The URL the agent printed when it last started (it carries the token). */
    this.printedUrl = null;
    this.dataDir = dataDir;
    // $XDG_RUNTIME_DIR of the agent and its trainers: where its lock file lives (0700, ours).
    this.runtimeDir = runtimeDir;
    this.port = port;
    this.process = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Authorization header for node-side requests (REST, WebSocket upgrades). */
  get authHeaders() {
    return { Authorization: `Bearer ${this.token}` };
  }

  /**
   * The dashboard's address with the token in its query, the way the agent prints it:
   * pageUrl('/?run=ID') -> http://127.0.0.1:PORT/?run=ID&token=TOKEN.
   */
  pageUrl(pathAndQuery = '/') {
    const url = new URL(pathAndQuery, this.url);
    url.searchParams.set('token', this.token);
    return url.href;
  }

  /** fetch() on this agent with the token in an Authorization header (never in the URL). */
  fetch(pathAndQuery, init = {}) {
    return fetch(this.url + pathAndQuery, { ...init, headers: { ...this.authHeaders, ...init.headers } });
  }

  /** Starts (or restarts, on the same port, namespace and data dir) the agent. */
  async start() {
    const args = [`--port=${this.port}`, `--namespace=${this.namespace}`, `--data-dir=${this.dataDir}`,
      `--web-dir=${this.webDir}`, `--token=${this.token}`, ...this.extraArgs];
    // TRAINSCOPE_TOKEN from the caller's environment must not matter: --token wins anyway.
    this.process = spawnChild(agentBin, args, { XDG_RUNTIME_DIR: this.runtimeDir });
    // "trainscope-agent listening on http://127.0.0.1:PORT/?token=TOKEN"
    const m = await waitForLine(this.process, /listening on (http:\/\/[\d.]+:(\d+)\/\S*)/, 10000, 'the agent to listen');
    this.printedUrl = m[1];
    this.port = Number(m[2]);
    return this;
  }

  /** Kills the agent without letting it clean up (a crash). */
  async kill() {
    const p = this.process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGKILL');
    await p.exited;
  }

  async stop() {
    await stopChild(this.process);
  }

  async getJson(pathAndQuery) {
    const response = await this.fetch(pathAndQuery);
    const body = await response.json();
    if (!response.ok) throw new Error(`GET ${pathAndQuery}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  }

  async run(sessionId) {
    return this.getJson(`/api/runs/${encodeURIComponent(sessionId)}`);
  }

  /** The whole series at full resolution (throws if the agent had to downsample). */
  async series(sessionId, metric, { maxPoints = 1000000, rank } = {}) {
    const q = new URLSearchParams({ max_points: String(maxPoints) });
    if (rank !== undefined) q.set('rank', String(rank));
    return this.getJson(`/api/runs/${encodeURIComponent(sessionId)}/metrics/${encodeURIComponent(metric)}?${q}`);
  }

  /**
   * Waits until the agent has registered the run. A trainer prints its session id as soon as
   * Run() returns, before the agent attached its segment; a WebSocket subscribe sent in
   * between is answered "unknown session_id".
   */
  async waitKnown(sessionId, timeoutMs = 10000) {
    return waitFor(async () => {
      const response = await this.fetch(`/api/runs/${encodeURIComponent(sessionId)}`);
      return response.ok ? response.json() : null;
    }, { timeoutMs, what: `the agent to register run ${sessionId}` });
  }

  /** Waits until the run's status is no longer "running" (the agent saw it finish). */
  async waitFinished(sessionId, timeoutMs = 15000) {
    return waitFor(async () => {
      const run = await this.run(sessionId);
      return run.status !== 'running' ? run : null;
    }, { timeoutMs, what: `run ${sessionId} to finish` });
  }
}

/**
 * Starts a fresh agent: own namespace, own temp data dir, a free port. Options: namespace,
 * dataDir, runtimeDir, port, token, extraArgs, webDir (the page it serves; default web/).
 */
async function startAgent(options = {}) {
  checkBinaries();
  const agent = new Agent({
    namespace: options.namespace || newNamespace(),
    dataDir: options.dataDir || tempDir('tsweb-data-'),
    runtimeDir: options.runtimeDir || tempDir('tsweb-run-'),
    port: options.port || 0,
    token: options.token || newToken(),
    extraArgs: options.extraArgs || [],
    web: options.webDir || webDir,
  });
  return agent.start();
}

/**
 * Starts a ts-producer trainer in the agent's namespace. Resolves once it printed its
 * session id: {process, sessionId, done} where `done` resolves to the dropped count at exit.
 */
async function startProducer(agent, { steps = 1000, rate = 0, name = 'browser-test', lossOnly = true, extra = [] } = {}) {
  const args = ['--name', name, '--steps', String(steps), '--rate', String(rate), ...extra];
  if (lossOnly) args.push('--loss_only');
  const child = spawnChild(producerBin, args,
    { TRAINSCOPE_NAMESPACE: agent.namespace, XDG_RUNTIME_DIR: agent.runtimeDir });
  const m = await waitForLine(child, /session (\S+)/, 10000, 'the trainer to start');
  const done = child.exited.then(({ code, signal }) => {
    if (code !== 0) throw new Error(`ts-producer exited with ${code ?? signal}:\n${child.output}`);
    const d = child.output.match(/done (\d+)/);
    return d ? Number(d[1]) : null;
  });
  done.catch(() => {});  // awaited by tests that care
  return { process: child, sessionId: m[1], done };
}

/** Launches headless chromium (Debian's) through playwright-core. */
async function launchBrowser() {
  const { chromium } = requireWeb('playwright-core');
  return chromium.launch({
    executablePath: process.env.TRAINSCOPE_CHROMIUM || '/usr/bin/chromium',
    args: ['--enable-precise-memory-info'],
  });
}

/**
 * A new page (in a context of its own) that records console errors and page errors for
 * failure messages. `contextOptions` go to browser.newContext (a phone: isMobile, hasTouch,
 * deviceScaleFactor).
 */
async function openPage(browser, url, { viewport = { width: 1280, height: 760 }, setup, contextOptions = {} } = {}) {
  const context = await browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every 4xx response. GET /api/model-info answers 404 by design for a run
    // that never reported its model (the model panel then says so): not a page error.
    if (/^Failed to load resource: .* 404\b/.test(m.text()) && /\/api\/model-info(\?|$)/.test(m.location().url || '')) return;
    page.errors.push(`console: ${m.text()}`);
  });
  if (setup) await setup(page);
  await page.goto(url);
  return page;
}

/** Runs `fn` (which spawns a trainer synchronously) with extra environment variables. */
function withEnv(env, fn) {
  const saved = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * Waits until the page has drawn `sessionId` with its REST snapshot merged, and a chart it
 * drew takes zoom gestures (the page runs the zoom plugin just after its first chart).
 */
async function waitForRunLoaded(page, sessionId, timeoutMs = 10000) {
  await page.waitForFunction((id) => {
    const app = document.getElementById('app');
    if (app.dataset.drawn !== `${id}:loaded`) return false;
    return !window.trainscope.chart || ['ready', 'unavailable'].includes(app.dataset.chartZoom);
  }, sessionId, { timeout: timeoutMs });
}

/** The chart's datasets as plain data: [{label, metric, rank, hidden, points: [[x, y, t]...]}]. */
async function chartData(page) {
  return page.evaluate(() => {
    const canvas = document.getElementById('loss-chart');
    const chart = window.Chart && window.Chart.getChart(canvas);
    if (!chart) return null;
    return chart.data.datasets.map((d) => ({
      label: d.label,
      metric: d.metric,
      rank: d.rank,
      hidden: Boolean(d.hidden),
      points: d.data.map((p) => [p.x, p.y, p.t]),
    }));
  });
}

/** The page's CDP session (one per page, made on first use). */
const cdpSessions = new WeakMap();
async function cdpSession(page) {
  if (!cdpSessions.has(page)) cdpSessions.set(page, await page.context().newCDPSession(page));
  return cdpSessions.get(page);
}

/**
 * The page's JS heap after a full garbage collection (CDP HeapProfiler.collectGarbage, twice:
 * the second pass frees what finalizers of the first released), from Runtime.getHeapUsage:
 * {usedSize, totalSize} in bytes.
 */
async function heapAfterGc(page) {
  const cdp = await cdpSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize, totalSize } = await cdp.send('Runtime.getHeapUsage');
  return { usedSize, totalSize };
}

async function screenshot(page, name) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`) });
}

/** Stops every child process this harness started (SIGTERM, then SIGKILL), then cleans up. */
async function stopAll() {
  await Promise.all([...children].map((c) => stopChild(c)));
  removeLeftovers();
}

process.on('exit', () => {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** p-th percentile (0..100) of numbers, nearest-rank. */
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Theil-Sen slope of y over x: the median of the slopes between every pair of samples. A
 * sample taken while a burst of messages was in flight (a few MB above the rest) cannot
 * tilt it, as it can a least-squares fit; a steady growth moves every pair.
 */
function theilSenSlope(xs, ys) {
  const slopes = [];
  for (let i = 0; i < xs.length; ++i) {
    for (let j = i + 1; j < xs.length; ++j) if (xs[j] !== xs[i]) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
  }
  if (!slopes.length) return NaN;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length % 2 ? slopes[mid] : (slopes[mid - 1] + slopes[mid]) / 2;
}

/**
 * Opens a raw WebSocket client on a net socket (no library): does the upgrade handshake
 * (with Authorization: Bearer `token`, if given), then lets the caller send frames. Used for
 * clients that stop reading.
 */
function rawWebSocket(port, { token } = {}) {
  const net = require('node:net');
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let head = '';
    socket.once('error', reject);
    socket.on('connect', () => {
      const auth = token ? `Authorization: Bearer ${token}\r\n` : '';
      socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${auth}\r\n`);
    });
    const onData = (chunk) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!/^HTTP\/1\.1 101/.test(head)) {
        reject(new Error(`upgrade refused: ${head.slice(0, end)}`));
        return;
      }
      resolve({
        socket,
        /** Sends one masked text frame (clients must mask). */
        sendText(text) {
          const payload = Buffer.from(text);
          const mask = crypto.randomBytes(4);
          let header;
          if (payload.length < 126) {
            header = Buffer.from([0x81, 0x80 | payload.length]);
          } else {
            header = Buffer.alloc(4);
            header[0] = 0x81;
            header[1] = 0x80 | 126;
            header.writeUInt16BE(payload.length, 2);
          }
          const masked = Buffer.alloc(payload.length);
          for (let i = 0; i < payload.length; ++i) masked[i] = payload[i] ^ mask[i % 4];
          socket.write(Buffer.concat([header, mask, masked]));
        },
      });
    };
    socket.on('data', onData);
  });
}

/**
 * The usual set-up of a test file: one agent and one browser for all its tests, started
 * before the first and stopped (with every trainer) after the last. `use(agent, browser)`
 * receives them.
 */
function useAgentAndBrowser(use) {
  const { before, after } = require('node:test');
  let browser;
  before(async () => {
    const agent = await startAgent();
    browser = await launchBrowser();
    use(agent, browser);
  });
  after(async () => {
    if (browser) await browser.close();
    await stopAll();
  });
}

module.exports = {
  useAgentAndBrowser,
  repoRoot,
  buildDir,
  webDir,
  artifactsDir,
  requireWeb,
  newNamespace,
  newToken,
  tempDir,
  sleep,
  waitFor,
  startAgent,
  startProducer,
  launchBrowser,
  openPage,
  waitForRunLoaded,
  withEnv,
  chartData,
  cdpSession,
  heapAfterGc,
  screenshot,
  stopAll,
  stopChild,
  percentile,
  theilSenSlope,
  rawWebSocket,
  Agent,
  agentBin,
  spawnChild,
  waitForLine,
};
