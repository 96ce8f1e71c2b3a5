// Dashboard benchmark in headless Chromium: the time from navigation to the
// first useful render of the overview (its figures and charts) and of the
// customer list (its first page of rows), each in a fresh browser context (no
// cache), median and slowest of 5; and the bytes on the wire of a first load.
// Usage: node tests/bench/web.mjs BASE_URL USERNAME PASSWORD
import { chromium } from '../e2e/node_modules/playwright-core/index.mjs';

const [base, username, password] = process.argv.slice(2);
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({ executablePath: exe, headless: true, args: ['--no-sandbox'] });

async function session() {
  const ctx = await browser.newContext();
  const r = await ctx.request.post(`${base}/api/v1/auth/login`, { data: { username, password } });
  if (!r.ok()) throw new Error(`login: ${r.status()} ${await r.text()}`);
  return ctx;
}

// One cold load: ms to the selector, and the bytes of every response.
async function load(path, selector) {
  const ctx = await session();
  const page = await ctx.newPage();
  let bytes = 0;
  // bytes on the wire: the encoded (gzipped) bodies and the headers
  page.on('requestfinished', async (req) => {
    try {
      const s = await req.sizes();
      bytes += s.responseBodySize + s.responseHeadersSize;
    } catch { /* an aborted request has no sizes */ }
  });
  const t0 = Date.now();
  await page.goto(base + path);
  await page.waitForSelector(selector, { timeout: 60000 });
  const ms = Date.now() - t0;
  await page.waitForLoadState('networkidle');
  await ctx.close();
  return { ms, bytes };
}

const cases = [
  ['overview: figures and charts', '/', '[data-page=overview] .stat-value >> nth=0'],
  ['customer list: first page', '/customers', '[data-page=customers] table tbody tr >> nth=0'],
];
console.log(`${'page'.padEnd(34)} ${'median ms'.padStart(10)} ${'max ms'.padStart(8)} ${'KiB moved'.padStart(10)}`);
for (const [name, path, sel] of cases) {
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await load(path, sel));
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  const kib = (runs[0].bytes / 1024).toFixed(0);
  console.log(`${name.padEnd(34)} ${String(ms[2]).padStart(10)} ${String(ms[4]).padStart(8)} ${kib.padStart(10)}`);
}
await browser.close();
