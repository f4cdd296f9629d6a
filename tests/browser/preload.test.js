// The dashboard's module list stays complete: every module main.js imports (directly or
// through other modules) is named by a <link rel="modulepreload"> in dashboard.html, so the
// browser fetches them all at once instead of one import level after another; nothing listed
// is missing from disk. (A module left out still works, only later: this test says which.)
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const staticDir = path.join(__dirname, '..', '..', 'web', 'static');
const jsDir = path.join(staticDir, 'js');

/** Relative imports of a module: static `import ... from './x.js'`, `export ... from`, bare `import './x.js'`. */
function importsOf(file) {
  const source = fs.readFileSync(path.join(jsDir, file), 'utf8');
  const found = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]\.\/([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of source.matchAll(/^\s*import\s+['"]\.\/([^'"]+)['"]/gm)) found.push(m[1]);
  return found;
}

function moduleGraph(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const dep of importsOf(file)) visit(dep);
  };
  visit(entry);
  return seen;
}

test('dashboard.html preloads every module main.js needs', () => {
  const html = fs.readFileSync(path.join(staticDir, 'dashboard.html'), 'utf8');
  const preloaded = new Set([...html.matchAll(/<link rel="modulepreload" href="\/static\/js\/([^"]+)">/g)].map((m) => m[1]));
  const needed = moduleGraph('main.js');
  needed.delete('main.js');  // the entry itself is the <script type="module">
  assert.ok(needed.size > 10, `the import scan found only ${needed.size} modules`);
  assert.deepEqual([...needed].filter((f) => !preloaded.has(f)).sort(), [], 'imported but not preloaded');
  assert.deepEqual([...preloaded].filter((f) => !needed.has(f)).sort(), [], 'preloaded but not imported');
});
