// Builds the page the agent serves into web/dist/ (the CMake target web_page runs it):
//   dist/dashboard.html          static/dashboard.html with its stylesheets and its module
//                                entry each replaced by one bundled file, and each module
//                                marked data-inline bundled into the page itself (the first
//                                load's requests start before any file is fetched)
//   dist/dashboard-<hash>.css    the stylesheets, in the order the page lists them
//   dist/dashboard-<hash>.js     main.js and every module it imports, one ES module (+ .map)
// Why: ~45 modules and 5 stylesheets were ~50 requests over HTTP/1.1 (6 connections, a
// round trip each) before the page could start; now two. The sources stay plain ES modules
// (node's unit tests import them; the source map shows them in the browser's devtools).
// Names carry a content hash, so the agent serves them as immutable: a reload asks only for
// the page. Each file is written under a temporary name and renamed, the page last: an agent
// serving meanwhile never sends a half-written file or a page naming a missing one.
//
//   node web/build_page.mjs [--out DIR]     (default web/dist)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const esbuild = await import('esbuild').catch(() => {
  console.error('build_page: esbuild is not installed: run npm ci in web/ (tools/bootstrap does)');
  process.exit(1);
});

const webDir = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.join(webDir, 'static');
const outFlag = process.argv.indexOf('--out');
const outDir = path.resolve(outFlag > 0 ? process.argv[outFlag + 1] : path.join(webDir, 'dist'));

const STYLE_RE = /^[ \t]*<link rel="stylesheet" href="\/static\/(css\/[^"]+)">\n/gm;
const ENTRY_RE = /<script type="module" src="\/static\/(js\/[^"]+)"( blocking="render")?><\/script>/;
const INLINE_RE = /<script type="module" src="\/static\/(js\/[^"]+)" data-inline><\/script>/g;

/** What the page loads from static/: its stylesheets and its module entry. */
function pageParts(html) {
  const styles = [...html.matchAll(STYLE_RE)].map((m) => m[1]);
  const entry = html.match(ENTRY_RE);
  if (!styles.length || !entry) throw new Error('static/dashboard.html: no stylesheet or no <script type="module" src="/static/js/..."> found');
  return { styles, entry: entry[1] };
}

/** The one output file whose path ends with `suffix`. */
function outputOf(result, suffix) {
  const files = result.outputFiles.filter((f) => f.path.endsWith(suffix));
  if (files.length !== 1) throw new Error(`expected one ${suffix} output, got ${files.length}`);
  return files[0];
}

function writeAtomically(file, contents) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, file);
}

async function build() {
  const html = fs.readFileSync(path.join(staticDir, 'dashboard.html'), 'utf8');
  const { styles, entry } = pageParts(html);
  const common = { absWorkingDir: webDir, bundle: true, minify: !process.env.NO_MINIFY, write: false, outdir: outDir, entryNames: 'dashboard-[hash]', logLevel: 'warning' };
  const js = await esbuild.build({
    ...common,
    entryPoints: [path.join(staticDir, entry)],
    format: 'esm',
    target: 'es2022',
    sourcemap: 'linked',
    metafile: true,
  });
  // One stylesheet made of the page's, in its order (@import inlines each).
  const css = await esbuild.build({
    ...common,
    stdin: { contents: styles.map((s) => `@import "./${s}";`).join('\n'), resolveDir: staticDir, loader: 'css', sourcefile: 'dashboard.css' },
  });
  // Inline: a classic script (runs where it stands, not deferred like a module).
  const inline = new Map();
  for (const [, src] of html.matchAll(INLINE_RE)) {
    const r = await esbuild.build({ ...common, entryPoints: [path.join(staticDir, src)], format: 'iife', target: 'es2022' });
    const code = outputOf(r, '.js').text.trim();
    if (/<\/script|<!--/i.test(code)) throw new Error(`${src}: its bundle holds "</script" or "<!--", cannot be inlined`);
    inline.set(src, code);
  }
  const jsFile = outputOf(js, '.js');
  const cssFile = outputOf(css, '.css');

  let page = html.replace(STYLE_RE, (line, href) => (href === styles[0]
    ? `  <link rel="stylesheet" href="/dist/${path.basename(cssFile.path)}">\n` : ''));
  page = page.replace(ENTRY_RE, (tag, src, blocking = '') => `<script type="module" src="/dist/${path.basename(jsFile.path)}"${blocking}></script>`);
  page = page.replace(INLINE_RE, (tag, src) => `<script>${inline.get(src)}</script>`);

  fs.mkdirSync(outDir, { recursive: true });
  const keep = new Set(['dashboard.html']);
  for (const f of [...js.outputFiles, ...css.outputFiles]) {
    writeAtomically(f.path, f.contents);
    keep.add(path.basename(f.path));
  }
  // Which sources went in (tests/browser/preload.test.js checks it against the import graph).
  const inputs = Object.keys(js.metafile.inputs).map((p) => path.relative(staticDir, path.resolve(webDir, p)));
  const record = { entry, styles, inline: [...inline.keys()], modules: inputs.sort() };
  writeAtomically(path.join(outDir, 'inputs.json'), `${JSON.stringify(record, null, 1)}\n`);
  keep.add('inputs.json');
  writeAtomically(path.join(outDir, 'dashboard.html'), page);
  // Bundles of earlier builds: no page names them any more.
  for (const name of fs.readdirSync(outDir)) if (!keep.has(name) && !name.startsWith('.')) fs.rmSync(path.join(outDir, name));
  return { js: path.basename(jsFile.path), css: path.basename(cssFile.path) };
}

build().then((r) => {
  if (process.argv.includes('--verbose')) console.log(`web/dist: ${r.js}, ${r.css}`);
}, (e) => {
  console.error(`build_page: ${e.message}`);
  process.exit(1);
});
