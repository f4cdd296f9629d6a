// Access token (issue 12): the agent lets in only the holder of its token, like Jupyter.
// Real agent, real trainers, real headless Chromium:
//   - the printed URL (?token=) opens the dashboard; the page drops the token from its
//     address and never puts it in a request URL again (the HttpOnly, SameSite=Strict cookie
//     carries it);
//   - without the token, GET / is the sign-in screen (401) and shows nothing about runs;
//     pasting the token (or the whole URL) there opens the dashboard;
//   - a wrong ?token= says the token is not this agent's;
//   - an open dashboard whose agent restarts with a new token lands on the sign-in screen;
//   - from node: REST needs the token, a WebSocket upgrade from a foreign Origin is refused.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const h = require('./harness');

const RUN_NAME = 'access-secret-run';

let agent;
let browser;
let run;  // a finished run of RUN_NAME: {sessionId}

before(async () => {
  agent = await h.startAgent();
  browser = await h.launchBrowser();
  const trainer = await h.startProducer(agent, { steps: 300, rate: 0, name: RUN_NAME });
  assert.equal(await trainer.done, 0, 'the trainer dropped records');
  await agent.waitFinished(trainer.sessionId);
  run = { sessionId: trainer.sessionId };
});

after(async () => {
  if (browser) await browser.close();
  await h.stopAll();
});

const webModule = (name) => import(pathToFileURL(path.join(h.webDir, 'static', 'js', name)).href);
const cookieName = (a) => `trainscope-token-${a.port}`;

/**
 * A page in a context of its own, opened at `url` without the harness's console-error
 * bookkeeping (a 401 page logs a console error by design). Resolves to {page, response}.
 */
async function openRaw(url, { viewport = { width: 1280, height: 760 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  const response = await page.goto(url);
  return { page, response };
}

/** What the sign-in screen shows: null if the page is not the sign-in screen. */
async function signInState(page) {
  return page.evaluate(() => {
    const main = document.querySelector('[data-testid="sign-in"]');
    if (!main) return null;
    const reason = document.querySelector('[data-testid="sign-in-reason"]');
    return { reason: main.dataset.reason, text: reason.hidden ? '' : reason.textContent, html: document.documentElement.outerHTML };
  });
}

/** Types `text` into the sign-in form and submits it; resolves once the dashboard runs. */
async function signIn(page, text) {
  await page.getByTestId('sign-in-token').fill(text);
  await page.getByTestId('sign-in-submit').click();
  // The form's GET replaces the page; waitForSelector keeps waiting across that navigation.
  await page.waitForSelector('[data-testid="app"]', { timeout: 10000 });
  await page.waitForFunction(() => window.trainscope, null, { timeout: 10000 });
}

function assertNoToken(page) {
  const url = new URL(page.url());
  assert.equal(url.searchParams.has('token'), false, `the address still holds the token: ${page.url()}`);
  assert.ok(!page.url().includes(agent.token), 'the address still holds the token');
}

test('page JS: the token and the sign-in marker leave the address, everything else stays', async () => {
  const { addressWithoutToken } = await webModule('address_token.js');
  assert.equal(addressWithoutToken('http://h:1/?run=a&token=T&max_points=5#x'), 'http://h:1/?run=a&max_points=5#x');
  assert.equal(addressWithoutToken('http://h:1/?token=T'), 'http://h:1/');
  assert.equal(addressWithoutToken('http://h:1/?expired=1&run=b'), 'http://h:1/?run=b');
  assert.equal(addressWithoutToken('http://h:1/?run=a#token=x'), null, 'nothing to change');
  const { signInAddress } = await webModule('access_lost.js');
  assert.equal(signInAddress('http://h:1/?run=a&compare=b,c#k'), '/?run=a&compare=b%2Cc&expired=1#k');
  assert.equal(signInAddress('http://h:1/?token=T'), '/?expired=1');
});

test('opened with ?token=: the dashboard works, the token leaves the address and every later request URL', async () => {
  const requests = [];
  const page = await h.openPage(browser, agent.pageUrl(`/?run=${run.sessionId}`), {
    setup: (p) => {
      p.on('request', (r) => requests.push(r.url()));
      p.on('websocket', (ws) => requests.push(ws.url()));
    },
  });
  await h.waitForRunLoaded(page, run.sessionId);
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  await page.waitForFunction(() => document.getElementById('run-status').dataset.status === 'finished');
  const train = (await h.chartData(page)).find((d) => d.metric === 'train/loss');
  assert.equal(train.points.length, 300, 'the chart draws the run');
  assert.match(await page.getByTestId('run-select').innerText(), new RegExp(RUN_NAME));
  assertNoToken(page);
  // A live run from a trainer started now reaches the page over the cookie-authenticated socket.
  const live = await h.startProducer(agent, { steps: 200, rate: 200, name: 'access-live' });
  await page.goto(agent.pageUrl(`/?run=${live.sessionId}`));
  await h.waitForRunLoaded(page, live.sessionId);
  await live.done;
  await page.waitForFunction(() => document.getElementById('run-status').dataset.status === 'finished', null, { timeout: 15000 });
  assertNoToken(page);

  // The two navigations carry the token (that is how the page is opened); nothing else does.
  const navigations = requests.filter((u) => new URL(u).pathname === '/');
  assert.equal(navigations.length, 2, `navigations: ${navigations}`);
  const later = requests.filter((u) => !navigations.includes(u));
  assert.ok(later.some((u) => u.startsWith(`ws://127.0.0.1:${agent.port}/ws`)), `no WebSocket seen: ${later}`);
  assert.ok(later.some((u) => u.includes('/api/runs/')), 'no REST request seen');
  const leaks = later.filter((u) => /[?&]token=/.test(u) || u.includes(agent.token));
  assert.deepEqual(leaks, [], 'requests with the token in their URL');

  // The cookie that carries it instead: HttpOnly (page JS cannot read it), SameSite=Strict.
  const cookie = (await page.context().cookies()).find((c) => c.name === cookieName(agent));
  assert.ok(cookie, 'no session cookie');
  assert.equal(cookie.value, agent.token);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/');
  assert.ok(!(await page.evaluate(() => document.cookie)).includes(agent.token), 'page JS reads the token');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('no token: the sign-in screen (401) shows nothing about runs; pasting the token opens the dashboard', async () => {
  const requests = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  const response = await page.goto(`${agent.url}/`);
  assert.equal(response.status(), 401);
  const state = await signInState(page);
  assert.ok(state, 'not the sign-in screen');
  assert.equal(state.reason, 'none');
  assert.equal(state.text, '', 'no reason shown for a plain visit');
  assert.ok(!state.html.includes(RUN_NAME) && !state.html.includes(run.sessionId), 'the sign-in screen shows a run');
  assert.deepEqual(requests.filter((u) => u.includes('/api/') || u.includes('/ws')), [], 'the sign-in screen asked for data');
  assert.match(await page.getByTestId('sign-in-title').innerText(), /access token/);
  const help = await page.getByTestId('sign-in-help').innerText();
  assert.ok(help.includes(`trainscope-agent listening on http://127.0.0.1:${agent.port}/?token=`), help);
  assert.match(help, /trainscope: dashboard at/);
  assert.match(help, /trainscope-agent --print-url/);
  assert.match(help, /--namespace NAME/);
  // The form has a labelled token field: what a screen reader and a keyboard user get.
  const field = page.getByLabel('Access token', { exact: true });
  assert.equal(await field.getAttribute('name'), 'token');
  await h.screenshot(page, 'sign_in');

  await signIn(page, agent.token);
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  assertNoToken(page);
  // Follow mode: the newest run gets drawn, its REST snapshot merged.
  await page.waitForFunction(() => /:loaded$/.test(document.getElementById('app').dataset.drawn || ''));
  await context.close();
});

test('the sign-in screen fits a phone', async () => {
  const { page, response } = await openRaw(`${agent.url}/`, { viewport: { width: 360, height: 740 } });
  assert.equal(response.status(), 401);
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(fits, 'the sign-in screen scrolls sideways on a phone');
  await h.screenshot(page, 'sign_in_phone');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('wrong ?token=: the sign-in screen says it is not this agent\'s token; the printed URL pasted there opens the run', async () => {
  const wrong = h.newToken();
  const { page, response } = await openRaw(`${agent.url}/?run=${run.sessionId}&token=${wrong}`);
  assert.equal(response.status(), 401);
  const state = await signInState(page);
  assert.ok(state, 'not the sign-in screen');
  assert.equal(state.reason, 'wrong-token');
  assert.match(state.text, /not this agent's/);
  assert.match(state.text, /every time the agent starts/);
  assert.match(state.text, /--token/);
  assert.match(state.text, /TRAINSCOPE_TOKEN/);
  assert.ok(!state.html.includes(RUN_NAME), 'the sign-in screen shows a run');
  // The refused token leaves the address; the run asked for stays, and rides along.
  assert.ok(!page.url().includes(wrong), page.url());
  assert.equal(new URL(page.url()).searchParams.get('run'), run.sessionId);

  await signIn(page, agent.printedUrl);
  await h.waitForRunLoaded(page, run.sessionId);
  assertNoToken(page);
  assert.equal(new URL(page.url()).searchParams.get('run'), run.sessionId);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the agent restarts with a new token: the open dashboard lands on the sign-in screen', async () => {
  // An agent of its own: this one changes its token.
  const own = await h.startAgent();
  const trainer = await h.startProducer(own, { steps: 100, rate: 0, name: 'access-restart' });
  await trainer.done;
  await own.waitFinished(trainer.sessionId);
  const page = await h.openPage(browser, own.pageUrl(`/?run=${trainer.sessionId}`));
  await h.waitForRunLoaded(page, trainer.sessionId);
  // A finished run: the page polls nothing, so only the socket's reconnect path can notice.
  await page.waitForFunction(() => document.getElementById('run-status').dataset.status === 'finished');
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');

  const port = own.port;
  await own.stop();
  own.token = h.newToken();
  await own.start();
  assert.equal(own.port, port, 'the agent came back on the same port');
  await page.waitForSelector('[data-testid="sign-in"]', { timeout: 20000 });
  const state = await signInState(page);
  assert.equal(state.reason, 'expired');
  assert.match(state.text, /lost access/);
  assert.match(state.text, /every time the agent starts/);
  assert.ok(!state.html.includes('access-restart'), 'the sign-in screen shows a run');
  assert.equal(new URL(page.url()).searchParams.get('run'), trainer.sessionId);
  await h.screenshot(page, 'sign_in_expired');

  await signIn(page, own.token);
  await h.waitForRunLoaded(page, trainer.sessionId);
  await page.waitForFunction(() => document.getElementById('connection-status').dataset.state === 'connected');
  assert.deepEqual(new URL(page.url()).search, `?run=${trainer.sessionId}`, 'neither the token nor the marker stays');
  await page.context().close();
  await own.stop();
});

/** A raw HTTP request to the agent: {status, headers, body}; an upgrade answered 101 resolves status 101. */
function rawRequest(a, pathAndQuery, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: a.port, path: pathAndQuery, headers });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const upgradeHeaders = (a) => ({
  Host: `127.0.0.1:${a.port}`, Upgrade: 'websocket', Connection: 'Upgrade',
  'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), 'Sec-WebSocket-Version': '13',
});

test('from node: REST needs the token; a WebSocket upgrade needs it too, and a foreign Origin is refused', async () => {
  const bare = await fetch(`${agent.url}/api/runs`);
  assert.equal(bare.status, 401);
  assert.equal(typeof (await bare.json()).error, 'string');
  const wrong = await fetch(`${agent.url}/api/runs`, { headers: { Authorization: `Bearer ${h.newToken()}` } });
  assert.equal(wrong.status, 401);
  const good = await agent.fetch('/api/runs');
  assert.equal(good.status, 200);
  assert.ok((await good.json()).runs.some((r) => r.session_id === run.sessionId));
  assert.equal((await fetch(`${agent.url}/metrics`)).status, 401);
  // What tells nothing about runs stays open.
  assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${agent.url}/static/js/main.js`)).status, 200);

  assert.equal((await rawRequest(agent, '/ws', upgradeHeaders(agent))).status, 401, 'upgrade without the token');
  assert.equal((await rawRequest(agent, '/ws', { ...upgradeHeaders(agent), ...agent.authHeaders })).status, 101);
  const foreign = await rawRequest(agent, '/ws',
    { ...upgradeHeaders(agent), ...agent.authHeaders, Origin: 'http://evil.example' });
  assert.equal(foreign.status, 403, 'a page on another site must not read the runs, token or not');
});
