// Bundle the dashboard into assets/, which web/index.html loads:
// - main.js: the shell (session, navigation, shared pieces) and Preact; each page
//   under src/pages/ and each large package (Chart.js, the QR encoder) is a chunk
//   loaded when first needed (PAGE-HASH.js, cached for good by the daemon);
// - main.css: every stylesheet under src/ in one file (app.css first), so a page
//   loaded later never waits for its styles.
// Every .js and .css also gets a .gz twin, answered to browsers that accept gzip.
// Run by the Makefile after `npm ci`; no CDN, no network at run time.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const assets = path.join(here, 'assets');
fs.mkdirSync(assets, { recursive: true });
for (const f of fs.readdirSync(assets)) fs.rmSync(path.join(assets, f), { recursive: true, force: true }); // no stale chunks

const common = { absWorkingDir: here, bundle: true, minify: true, metafile: true, legalComments: 'linked', logLevel: 'warning' };

// a page's `import './x.css'` is served by main.css: nothing to load in JS
const stylesElsewhere = {
  name: 'styles-in-main-css',
  setup(b) {
    b.onResolve({ filter: /\.css$/ }, (a) => ({ path: a.path, namespace: 'main-css' }));
    b.onLoad({ filter: /.*/, namespace: 'main-css' }, () => ({ contents: '', loader: 'js' }));
  },
};
const js = await esbuild.build({
  ...common,
  entryPoints: ['src/main.jsx'],
  splitting: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: 'assets',
  chunkNames: '[name]-[hash]',
  plugins: [stylesElsewhere],
});

const src = path.join(here, 'src');
const sheets = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.css') && p !== path.join(src, 'app.css')) sheets.push(p);
  }
})(src);
const css = await esbuild.build({
  ...common,
  stdin: {
    contents: ['app.css', ...sheets.map((p) => path.relative(src, p))].map((p) => `@import "./${p}";`).join('\n'),
    resolveDir: src,
    sourcefile: 'styles.css',
    loader: 'css',
  },
  outfile: 'assets/main.css',
});

const outputs = { ...js.metafile.outputs, ...css.metafile.outputs };
const gzipped = {};
let all = 0;
for (const [file, o] of Object.entries(outputs)) {
  if (!/\.(js|css)$/.test(file)) continue;
  const gz = zlib.gzipSync(fs.readFileSync(path.join(here, file)), { level: 9 });
  fs.writeFileSync(path.join(here, file + '.gz'), gz);
  gzipped[file] = gz.length;
  all += o.bytes;
}
// what a first visit loads before any page: main.css, main.js and what it imports statically
const shell = new Set(['assets/main.css']);
(function add(file) {
  if (shell.has(file)) return;
  shell.add(file);
  for (const i of outputs[file].imports) if (i.kind === 'import-statement') add(i.path);
})('assets/main.js');
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const shellGz = [...shell].reduce((s, f) => s + gzipped[f], 0);
console.log(`  WEB     assets/: ${Object.keys(gzipped).length} files, ${kib(all)}; the shell (${shell.size} files) ${kib([...shell].reduce((s, f) => s + outputs[f].bytes, 0))}, ${kib(shellGz)} gzipped`);
