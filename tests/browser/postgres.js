// A PostgreSQL 15 server of the test's own, for browser tests of the hub (the C++ tests have
// tests/support/postgres_server.*): initdb in a fresh directory under /tmp, the postmaster a
// direct child of the harness (stopped by pid with the rest), a Unix socket only, trust auth.
// PostgreSQL refuses to run as root, so a root caller runs it as the `postgres` user (setpriv).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const bin = '/usr/lib/postgresql/15/bin';

/** `command args...` as the server's user (postgres when we are root), in `dir`. */
function asServerUser(command, args) {
  if (process.getuid() !== 0) return [command, args];
  return ['/usr/bin/setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
}

/** Starts a server; resolves to {conninfo, process} once it accepts connections. */
async function startPostgres() {
  // Under /tmp, not $TMPDIR: the postgres user must be able to reach it.
  const dir = fs.mkdtempSync('/tmp/tspg-web-');
  const data = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  fs.mkdirSync(socketDir);
  if (process.getuid() === 0) {
    const id = (flag) => Number(spawnSync('id', [flag, 'postgres']).stdout.toString().trim());
    for (const d of [dir, socketDir]) fs.chownSync(d, id('-u'), id('-g'));
  }
  const [initCmd, initArgs] = asServerUser(`${bin}/initdb`,
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const init = spawnSync(initCmd, initArgs, { cwd: dir });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stdout}${init.stderr}`);
  const [cmd, args] = asServerUser(`${bin}/postgres`,
    ['-D', data, '-k', socketDir, '-c', 'listen_addresses=', '-c', 'max_connections=40']);
  const server = h.spawnChild(cmd, args);
  await h.waitFor(() => spawnSync('/usr/bin/pg_isready', ['-h', socketDir, '-U', 'postgres', '-q']).status === 0,
    { timeoutMs: 60000, intervalMs: 100, what: 'PostgreSQL to accept connections' });
  // SIGINT is PostgreSQL's fast shutdown: the postmaster ends its backends, then itself
  // (SIGKILL would leave them behind). Stop the agents first.
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGINT');
      await server.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { conninfo: `host=${socketDir} dbname=postgres user=postgres`, process: server, stop };
}

/** trainscope-agent --hub on that PostgreSQL: an Agent (harness.js) without namespace or store. */
class Hub extends h.Agent {
  constructor(conninfo) {
    super({ namespace: '', dataDir: '', runtimeDir: '' });
    this.conninfo = conninfo;
  }

  async start() {
    this.process = h.spawnChild(h.agentBin, ['--hub', '--port=0', `--postgres=${this.conninfo}`,
      `--web-dir=${h.webDir}`, `--token=${this.token}`]);
    const m = await h.waitForLine(this.process, /listening on (http:\/\/[\d.]+:(\d+)\/\S*)/, 20000, 'the hub to listen');
    this.printedUrl = m[1];
    this.port = Number(m[2]);
    return this;
  }
}

/**
 * Runs `body(cluster)` against a PostgreSQL of its own. cluster: {postgres, track(...agents),
 * launchBrowser()}: the agents and hubs handed to track() and the browser are stopped afterwards,
 * before the server, however the body ends.
 */
async function withPostgresCluster(body) {
  let postgres = null;
  let browser = null;
  const stoppable = [];
  try {
    postgres = await startPostgres();
    return await body({
      postgres,
      track: (...agents) => {
        stoppable.push(...agents);
        return agents[0];
      },
      launchBrowser: async () => {
        if (!browser) browser = await h.launchBrowser();
        return browser;
      },
    });
  } finally {
    if (browser) await browser.close();
    for (const s of stoppable) await s.stop();
    if (postgres) await postgres.stop();
    await h.stopAll();
  }
}

/**
 * The requests of `page` that fail (status 400 or more), as "<status> <url>": all but the
 * model panel's 404, the answer for a run that set no model info (a node agent gives it too).
 */
function failedRequests(page) {
  const failed = [];
  page.on('response', (r) => {
    if (r.status() >= 400 && !(r.status() === 404 && r.url().includes('/api/model-info'))) {
      failed.push(`${r.status()} ${r.url()}`);
    }
  });
  return failed;
}

module.exports = { startPostgres, Hub, withPostgresCluster, failedRequests };
