// A full disk under the agent, seen on the page: the status bar says "storage full: N points
// waiting" while commits fail, and the notice goes away by itself once space returns. The
// agent's data dir is a small tmpfs filled with a filler file (mounting needs root: skipped
// with the reason otherwise).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

/** Mounts a tmpfs of `size` on a fresh dir; null (and why) if this user may not mount. */
function mountTmpfs(size) {
  const dir = h.tempDir('tsweb-full-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    return { dir: null, why: String(e.stderr || e.message).trim() };
  }
  return { dir, why: '' };
}

/** Writes `file` until the file system is full. */
function fillDisk(file) {
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(4096, 120);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
}

test('disk full: the status bar says how many points wait, then clears by itself', async (t) => {
  const { dir, why } = mountTmpfs('16m');
  if (!dir) {
    t.skip(`cannot mount a tmpfs (${why}): needs root to make a disk that fills up`);
    return;
  }
  let browser;
  try {
    const agent = await h.startAgent({ dataDir: dir });
    browser = await h.launchBrowser();
    // 20 s at 1,000 points/s: well inside one lane's ring while the disk is full.
    const trainer = await h.startProducer(agent, { steps: 20000, rate: 1000, name: 'disk-full' });
    const page = await h.openPage(browser, agent.pageUrl());
    await h.waitForRunLoaded(page, trainer.sessionId);
    const notice = page.getByTestId('status-storage');
    assert.equal(await notice.isVisible(), false, 'no notice while storage works');

    fillDisk(path.join(dir, 'filler'));
    await notice.waitFor({ state: 'visible', timeout: 15000 });
    await page.waitForFunction(() => {
      const m = /^storage full: ([\d,]+) points waiting$/.exec(
        document.querySelector('[data-testid=stat-storage]').textContent);
      return m && m[1] !== '0';
    }, null, { timeout: 10000 });

    fs.rmSync(path.join(dir, 'filler'));
    await notice.waitFor({ state: 'hidden', timeout: 15000 });
    assert.deepEqual(page.errors, []);
  } finally {
    if (browser) await browser.close();
    // Lazily, before stopAll removes the dir: the agent may still hold its files open.
    execFileSync('umount', ['-l', dir]);
    await h.stopAll();
  }
});
