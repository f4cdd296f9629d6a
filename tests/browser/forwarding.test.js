// A node agent that cannot reach its PostgreSQL (--postgres via $TRAINSCOPE_POSTGRES, here a
// socket directory that does not exist), seen on the page: the status bar warns "forwarding N
// points behind" with N every point stored locally (the trainer's 3,030 and any a plugin
// derived), and its tooltip names the error. No
// PostgreSQL server is needed: the failure is the point.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

test('PostgreSQL unreachable: the status bar says how many points are behind', async () => {
  process.env.TRAINSCOPE_POSTGRES = `host=${h.tempDir('tsweb-nopg-')}/missing dbname=trainscope connect_timeout=2`;
  let browser;
  try {
    const agent = await h.startAgent();
    browser = await h.launchBrowser();
    // 3,000 steps of train/loss plus val/loss every 100 steps: 3,030 points.
    const trainer = await h.startProducer(agent, { steps: 3000, name: 'no-postgres' });
    assert.equal(await trainer.done, 0);
    const page = await h.openPage(browser, agent.pageUrl());
    await h.waitForRunLoaded(page, trainer.sessionId);
    const notice = page.getByTestId('status-forwarding');
    await notice.waitFor({ state: 'visible', timeout: 15000 });
    // At least the trainer's points; plugins' derived points of the run are behind too.
    const text = () => page.getByTestId('stat-forwarding').textContent();
    await page.waitForFunction(() => {
      const m = /^forwarding ([\d,]+) points behind$/.exec(
        document.querySelector('[data-testid=stat-forwarding]').textContent);
      return m && Number(m[1].replace(/,/g, '')) >= 3030;
    }, null, { timeout: 15000 }).catch(async (e) => { throw new Error(`${e.message}; the bar says "${await text()}"`); });
    assert.equal(await notice.getAttribute('data-warn'), 'true');
    assert.match(await notice.getAttribute('title'), /PostgreSQL/);
    const health = await (await agent.fetch('/healthz')).json();
    assert.equal(health.forwarding.ok, false);
    assert.ok(health.forwarding.behind_points >= 3030, `behind_points ${health.forwarding.behind_points}`);
    assert.equal(health.forwarding.shipped_points, 0);
    assert.deepEqual(page.errors, []);
  } finally {
    delete process.env.TRAINSCOPE_POSTGRES;
    if (browser) await browser.close();
    await h.stopAll();
  }
});
