// Bundle the dashboard: src/main.jsx and everything it imports (Preact, Chart.js,
// the QR encoder, the stylesheet) into assets/main.js and assets/main.css, which
// web/index.html loads. Run by the Makefile after `npm ci`; no CDN, no network at
// run time.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['src/main.jsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: 'assets',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
const out = result.metafile.outputs;
for (const [file, o] of Object.entries(out)) console.log(`  WEB     ${file} ${(o.bytes / 1024).toFixed(1)} KiB`);
