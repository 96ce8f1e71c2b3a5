// /healthz, /metrics, /api/v1/openapi.json, static files from the web root, and
// the headers every answer carries. The daemon here serves a web root built by
// the test (so the checks do not depend on the dashboard's files); one check
// uses the repository's web/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  ROOT, fileDaemon, rawHttp, metric, assertError, assertSecurityHeaders, sleep, unique,
} from './lib.mjs';

const webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'scrmd-web-'));
after(() => fs.rmSync(webRoot, { recursive: true, force: true }));
const INDEX = '<!doctype html><html><head><title>fixture index</title></head><body>FIXTURE-INDEX</body></html>\n';
fs.writeFileSync(path.join(webRoot, 'index.html'), INDEX);
fs.writeFileSync(path.join(webRoot, 'app-3f9a1c2b7d.js'), 'console.log("hashed asset");\n');
fs.writeFileSync(path.join(webRoot, 'style.css'), 'body { color: black; }\n');
// a precompressed twin, as the dashboard's build leaves them
const BUNDLE = 'console.log("bundle");\n'.repeat(50);
fs.writeFileSync(path.join(webRoot, 'bundle.js'), BUNDLE);
fs.writeFileSync(path.join(webRoot, 'bundle.js.gz'), zlib.gzipSync(BUNDLE));
// a hashed chunk and its twin, as the dashboard's build names them
fs.writeFileSync(path.join(webRoot, 'chunk-7XK2P3QZ.js'), BUNDLE);
fs.writeFileSync(path.join(webRoot, 'chunk-7XK2P3QZ.js.gz'), zlib.gzipSync(BUNDLE));
fs.writeFileSync(path.join(webRoot, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
fs.writeFileSync(path.join(webRoot, 'data.xyz'), 'opaque\n');
fs.writeFileSync(path.join(webRoot, '.secret'), 'HIDDEN-FILE-CONTENT\n');
fs.mkdirSync(path.join(webRoot, 'sub'));
fs.writeFileSync(path.join(webRoot, 'sub', 'index.html'), '<html><body>SUB-INDEX</body></html>\n');
fs.writeFileSync(path.join(webRoot, 'sub', '.hidden.txt'), 'HIDDEN-IN-SUB\n');
fs.mkdirSync(path.join(webRoot, '.git'));
fs.writeFileSync(path.join(webRoot, '.git', 'config'), '[core]\n\tGIT-CONFIG-CONTENT\n');
// symbolic links that lead out of the root
fs.symlinkSync(path.join(ROOT, 'Makefile'), path.join(webRoot, 'escape.txt'));
fs.symlinkSync('/etc/passwd', path.join(webRoot, 'passwd.txt'));
fs.symlinkSync('/etc', path.join(webRoot, 'etcdir'));

const d = await fileDaemon({ args: ['--web-root', webRoot] });
const viewer = await d.token('viewer');

// What would show that a file outside the web root was served.
const LEAKS = ['root:x:0:0', 'PKG_CFLAGS', 'GIT-CONFIG-CONTENT', 'HIDDEN-FILE-CONTENT', 'HIDDEN-IN-SUB', '[core]'];
function assertNoLeak(text, what) {
  for (const l of LEAKS) assert.ok(!text.includes(l), `${what} leaked ${l}:\n${text.slice(0, 500)}`);
}

test('GET /healthz needs no credentials and answers {"status":"ok"}', async () => {
  const r = await d.req('GET', '/healthz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ok' });
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assertSecurityHeaders(r.headers, { api: true, where: '/healthz' });
  const h = await d.req('HEAD', '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.text, '');
  const p = await d.req('POST', '/healthz', { body: {} });
  assertError(p, 405, 'method_not_allowed');
  assert.equal(p.headers.get('allow'), 'GET, HEAD');
});

test('GET /api/v1/openapi.json is public JSON with openapi and paths', async () => {
  const r = await d.req('GET', '/api/v1/openapi.json');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /json/);
  const doc = JSON.parse(r.text);
  assert.equal(typeof doc.openapi, 'string');
  assert.equal(typeof doc.paths, 'object');
  assertSecurityHeaders(r.headers, { api: true, where: 'openapi.json' });
});

test('/metrics needs a credential: 401 with WWW-Authenticate without one', async () => {
  const r = await d.req('GET', '/metrics');
  assertError(r, 401, 'unauthorized');
  assert.match(r.headers.get('www-authenticate') || '', /^Bearer/);
  assertSecurityHeaders(r.headers, { api: true, where: '401' });
  const bad = await d.req('GET', '/metrics', { token: 'scrm_not-a-real-token' });
  assertError(bad, 401, 'unauthorized');
  assert.match(bad.headers.get('www-authenticate') || '', /^Bearer/);
});

test('/metrics: request counters by route and status, histograms, database and uptime', async () => {
  const first = await d.req('GET', '/metrics', { token: viewer });
  assert.equal(first.status, 200, first.text);
  assert.match(first.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const before = metric(first.text, 'scrmd_http_requests_total', { route: '/healthz', status: '200' }) || 0;
  for (let i = 0; i < 3; i++) assert.equal((await d.req('GET', '/healthz')).status, 200);
  // a concrete id must be counted under its route pattern, never as its own label
  assert.equal((await d.req('GET', '/api/v1/users/987654', { token: viewer })).status, 403);
  await d.req('GET', `/api/v1/${unique('no-such-endpoint')}`);
  await d.req('GET', '/style.css');

  // counters are updated when a request completes, just after its answer is sent
  let text;
  for (let i = 0; i < 100; i++) {
    text = (await d.req('GET', '/metrics', { token: viewer })).text;
    if ((metric(text, 'scrmd_http_requests_total', { route: '/healthz', status: '200' }) || 0) >= before + 3) break;
    await sleep(20);
  }
  assert.equal(metric(text, 'scrmd_http_requests_total', { method: 'GET', route: '/healthz', status: '200' }), before + 3, text);
  assert.ok(metric(text, 'scrmd_http_requests_total', { route: '/api/v1/users/{id}', status: '403' }) >= 1, text);
  assert.ok(!text.includes('987654'), 'a concrete id became a label');
  assert.ok(metric(text, 'scrmd_http_requests_total', { route: 'unmatched', status: '404' }) >= 1, text);
  assert.ok(metric(text, 'scrmd_http_requests_total', { route: 'static', status: '200' }) >= 1, text);
  assert.ok(metric(text, 'scrmd_http_requests_total', { route: '/metrics', status: '200' }) >= 1, text);
  assert.match(text, /# TYPE scrmd_http_requests_total counter/);

  // the latency histogram: cumulative buckets ending in +Inf == _count
  assert.match(text, /# TYPE scrmd_http_request_duration_seconds histogram/);
  const lines = text.split('\n').filter((l) => l.startsWith('scrmd_http_request_duration_seconds_bucket{method="GET",route="/healthz"'));
  assert.ok(lines.length >= 10, text);
  const values = lines.map((l) => Number(l.split(' ').pop()));
  for (let i = 1; i < values.length; i++) assert.ok(values[i] >= values[i - 1], 'buckets are not cumulative');
  assert.match(lines.at(-1), /le="\+Inf"/);
  assert.equal(values.at(-1), metric(text, 'scrmd_http_request_duration_seconds_count', { route: '/healthz' }));
  assert.ok(metric(text, 'scrmd_http_request_duration_seconds_sum', { route: '/healthz' }) >= 0);

  assert.ok(metric(text, 'scrmd_db_size_bytes') > 0, 'scrmd_db_size_bytes');
  const up = metric(text, 'scrmd_uptime_seconds');
  assert.ok(Number.isInteger(up) && up >= 0, `scrmd_uptime_seconds ${up}`);
  // writes happened (the token above), so the commit batch histogram has counts
  assert.match(text, /# TYPE scrmd_db_commit_batch_size histogram/);
  const batches = metric(text, 'scrmd_db_commit_batch_size_count');
  assert.ok(batches >= 1, text);
  assert.equal(metric(text, 'scrmd_db_commit_batch_size_bucket', { le: '+Inf' }), batches);
  assert.ok(metric(text, 'scrmd_db_commit_batch_size_sum') >= batches);
  assert.ok(metric(text, 'scrmd_db_commits_total') >= 1);
  assert.equal(metric(text, 'scrmd_db_failed_commits_total'), 0);
});

test('/metrics also works with a dashboard session cookie', async () => {
  const s = await d.login();
  const r = await d.req('GET', '/metrics', { session: { cookie: s.cookie } });
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /scrmd_uptime_seconds \d+/);
});

test('/ serves index.html as text/html with the security headers', async () => {
  const r = await d.req('GET', '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.equal(r.text, INDEX);
  assertSecurityHeaders(r.headers, { where: 'static /' });
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.ok(r.headers.get('etag'));
  const i = await d.req('GET', '/index.html');
  assert.equal(i.status, 200);
  assert.equal(i.text, INDEX);
});

test('the repository web/ is served at / as text/html by default', async () => {
  // a daemon with the default web root (the harness points it at web/)
  const { Daemon } = await import('./lib.mjs');
  const d2 = new Daemon();
  try {
    await d2.start();
    const r = await d2.req('GET', '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.equal(r.text, fs.readFileSync(path.join(ROOT, 'web', 'index.html'), 'utf8'));
    assertSecurityHeaders(r.headers, { where: 'web/' });
    await d2.stop();
  } finally {
    d2.cleanup();
  }
});

test('static content types and caching', async () => {
  const js = await d.req('GET', '/app-3f9a1c2b7d.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  assert.match(js.headers.get('cache-control'), /immutable/);
  const css = await d.req('GET', '/style.css');
  assert.match(css.headers.get('content-type'), /^text\/css/);
  assert.equal(css.headers.get('cache-control'), 'no-cache');
  const svg = await d.req('GET', '/logo.svg');
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  const other = await d.req('GET', '/data.xyz');
  assert.equal(other.status, 200);
  assert.equal(other.headers.get('content-type'), 'application/octet-stream');
  for (const r of [js, css, svg, other]) assertSecurityHeaders(r.headers, { where: 'static' });
});

test('a path without an extension that names no file gets index.html; a missing file 404', async () => {
  for (const p of ['/customers/42', '/settings', '/a/b/c']) {
    const r = await d.req('GET', p);
    assert.equal(r.status, 200, p);
    assert.equal(r.text, INDEX, p);
  }
  const sub = await d.req('GET', '/sub/');
  assert.equal(sub.status, 200);
  assert.match(sub.text, /SUB-INDEX/);
  const missing = await d.req('GET', '/missing.js');
  assertError(missing, 404, 'not_found');
  assertSecurityHeaders(missing.headers, { api: true, where: 'static 404' });
  const api404 = await d.req('GET', '/api/v1/no-such-thing');
  assertError(api404, 404, 'not_found');
  assertSecurityHeaders(api404.headers, { api: true, where: 'api 404' });
});

test('ETag with If-None-Match gives 304; HEAD gives the headers without a body', async () => {
  const r = await d.req('GET', '/style.css');
  const etag = r.headers.get('etag');
  assert.match(etag, /^".+"$/);
  const again = await d.req('GET', '/style.css', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  assert.equal(again.headers.get('etag'), etag);
  assertSecurityHeaders(again.headers, { where: '304' });
  const other = await d.req('GET', '/style.css', { headers: { 'If-None-Match': '"something-else"' } });
  assert.equal(other.status, 200);
  assert.equal(other.text, r.text);

  const h = await d.req('HEAD', '/style.css');
  assert.equal(h.status, 200);
  assert.equal(h.text, '');
  assert.equal(h.headers.get('content-length'), String(Buffer.byteLength(r.text)));
  assert.equal(h.headers.get('etag'), etag);
  assert.match(h.headers.get('content-type'), /^text\/css/);
  const hi = await d.req('HEAD', '/');
  assert.equal(hi.status, 200);
  assert.equal(hi.text, '');
});

test('hidden files and directories are refused with 404', async () => {
  for (const p of ['/.secret', '/sub/.hidden.txt', '/.git/config', '/.git/', '/sub/.hidden']) {
    const r = await d.req('GET', p);
    assert.equal(r.status, 404, `${p}: ${r.status}`);
    assertNoLeak(r.text, p);
  }
});

test('symbolic links leading out of the web root are not followed', async () => {
  for (const p of ['/escape.txt', '/passwd.txt', '/etcdir/host.conf', '/etcdir/']) {
    const r = await d.req('GET', p);
    assert.equal(r.status, 404, `${p}: ${r.status}`);
    assertNoLeak(r.text, p);
  }
  // without an extension the dashboard's index.html answers instead
  const r = await d.req('GET', '/etcdir/passwd');
  assert.equal(r.text, INDEX);
});

test('path traversal never returns a file from outside the web root (raw requests)', async () => {
  const paths = [
    '/../etc/passwd', '/../../../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2fetc/passwd',
    '/..%2f..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/.git/config',
    '/%2egit/config', '/web/../Makefile', '/../Makefile', '/sub/../../Makefile', '/sub/%2e%2e/%2e%2e/Makefile',
    '/..\\..\\Makefile', '/%2e%2e%5c%2e%2e%5cMakefile', '//etc/passwd', '/%2fetc%2fpasswd',
    '/etcdir/../../etc/passwd', '/index.html/../../Makefile', '/%252e%252e/%252e%252e/etc/passwd',
    '/..;/..;/etc/passwd', '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/.%2e/.%2e/etc/passwd',
  ];
  for (const p of paths) {
    const r = await rawHttp(d.port, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.ok(r.status !== null, `${p}: no answer (${r.error})`);
    assertNoLeak(r.raw, p);
    // anything with a ".." segment or a dot segment must be refused outright
    if (/(^|\/)(\.|%2e){2}(\/|%2f|$)/i.test(p) || p.includes('/.git')) assert.equal(r.status, 404, `${p}: ${r.status}`);
    else assert.ok([200, 400, 404].includes(r.status), `${p}: ${r.status}`);
    if (r.status === 200) assert.equal(r.body, INDEX, `${p} served something other than index.html`);
    if (r.status !== 400) assertSecurityHeaders(r.headers, { where: p });
  }
  assert.equal((await d.req('GET', '/healthz')).status, 200);
});

test('every kind of answer carries the security headers', async () => {
  const cases = [
    await d.req('GET', '/healthz'),
    await d.req('GET', '/api/v1/me', { token: viewer }),
    await d.req('GET', '/api/v1/me'),
    await d.req('GET', '/api/v1/users', { token: viewer }),
    await d.req('PUT', '/api/v1/users', { token: viewer }),
    await d.req('POST', '/api/v1/auth/login', { body: '{bad' }),
    await d.req('GET', '/'),
    await d.req('GET', '/nope.png'),
  ];
  const statuses = cases.map((r) => r.status);
  assert.deepEqual(statuses, [200, 200, 401, 403, 405, 400, 200, 404]);
  cases.forEach((r, i) => assertSecurityHeaders(r.headers, { api: i !== 6, where: `case ${i}` }));
});

test('a file with a NAME.gz twin is answered gzipped to clients that accept gzip, plainly to others', async () => {
  const ask = async (ae) => {
    const h = ae === null ? '' : `Accept-Encoding: ${ae}\r\n`;
    return rawHttp(d.port, `GET /bundle.js HTTP/1.1\r\nHost: 127.0.0.1\r\n${h}Connection: close\r\n\r\n`);
  };
  for (const ae of ['gzip', 'gzip, deflate, br', 'br;q=1.0, GZIP;q=0.5', '*']) {
    const r = await ask(ae);
    assert.equal(r.status, 200, ae);
    assert.equal(r.headers['content-encoding'], 'gzip', ae);
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8', ae);
    assert.match(r.headers.vary || '', /Accept-Encoding/i);
    assert.equal(zlib.gunzipSync(Buffer.from(r.body, 'latin1')).toString(), BUNDLE, `${ae}: the twin's bytes`);
  }
  for (const ae of [null, 'identity', 'gzip;q=0', 'deflate, br', '*;q=0']) {
    const r = await ask(ae);
    assert.equal(r.status, 200, String(ae));
    assert.equal(r.headers['content-encoding'], undefined, String(ae));
    assert.equal(r.body, BUNDLE, `${ae}: the plain file`);
  }
  // the two answers have different tags; each revalidates as itself
  const gz = await ask('gzip');
  const plain = await ask(null);
  assert.notEqual(gz.headers.etag, plain.headers.etag);
  const again = await rawHttp(d.port, `GET /bundle.js HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nIf-None-Match: ${gz.headers.etag}\r\nConnection: close\r\n\r\n`);
  assert.equal(again.status, 304);
  // the .gz itself is still a file of its own
  const raw = await ask(null).then(() => rawHttp(d.port, 'GET /bundle.js.gz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
  assert.equal(raw.status, 200);
  assert.equal(raw.headers['content-encoding'], undefined);
  assert.equal(gz.headers['cache-control'], 'no-cache', 'an unhashed name is revalidated');
  // a hashed chunk is kept for good, gzipped or not
  for (const ae of ['gzip', null]) {
    const h = ae === null ? '' : `Accept-Encoding: ${ae}\r\n`;
    const r = await rawHttp(d.port, `GET /chunk-7XK2P3QZ.js HTTP/1.1\r\nHost: 127.0.0.1\r\n${h}Connection: close\r\n\r\n`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], ae === null ? undefined : 'gzip');
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', String(ae));
  }
});
