// Bundle the dashboard: src/main.jsx and everything it imports (Preact, Chart.js,
// the QR encoder, the stylesheet) into assets/main.js and assets/main.css, which
// web/index.html loads. Run by the Makefile after `npm ci`; no CDN, no network at
// run time.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

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
// main.js.gz and main.css.gz beside them: the daemon answers those to browsers
// that accept gzip (a third of the bytes).
const out = result.metafile.outputs;
for (const [file, o] of Object.entries(out)) {
  let note = '';
  if (/\.(js|css)$/.test(file)) {
    const gz = zlib.gzipSync(fs.readFileSync(path.join(here, file)), { level: 9 });
    fs.writeFileSync(path.join(here, file + '.gz'), gz);
    note = `, ${(gz.length / 1024).toFixed(1)} KiB gzipped`;
  }
  console.log(`  WEB     ${file} ${(o.bytes / 1024).toFixed(1)} KiB${note}`);
}
