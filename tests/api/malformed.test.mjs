// No request, however malformed, crashes the daemon or leaves a half-written
// change: a batch of garbage, then /healthz must answer and no table may have
// changed. (Under the ASan build a crash or a memory error also fails the
// file when the daemon is stopped.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { fileDaemon, rawHttp, sqlite } from './lib.mjs';

const d = await fileDaemon();
d.adminSession = await d.login();
const admin = d.adminSession;
const adminTok = await d.adminToken();

function tableCounts() {
  const out = sqlite(d.db, ['users', 'sessions', 'api_tokens', 'audit_log', 'idempotency_keys']
    .map((t) => `SELECT '${t}', count(*) FROM ${t};`).join(' '));
  return Object.fromEntries(out.split('\n').map((l) => l.split('|')).map(([k, v]) => [k, Number(v)]));
}

const HEAD = (method, p, extra = '') => `${method} ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${adminTok}\r\n${extra}`;

// Each garbage request must get an answer in the 4xx range (or, for what is not
// HTTP at all, a closed connection); never a 2xx, never a 5xx.
function assertRefused(r, what) {
  if (r.status === null) {
    assert.ok(r.closed, `${what}: neither an answer nor a closed connection`);
    return;
  }
  assert.ok(r.status >= 400 && r.status < 500, `${what}: status ${r.status}\n${r.raw.slice(0, 300)}`);
}

const before = tableCounts();

test('garbage JSON bodies are refused with 400 or 422 and change nothing', async () => {
  const bodies = [];
  for (let i = 0; i < 30; i++) bodies.push(crypto.randomBytes(1 + Math.floor(Math.random() * 4000)));
  bodies.push(Buffer.from('['.repeat(100000) + ']'.repeat(100000)));
  bodies.push(Buffer.from('{"a":'.repeat(100000) + '1' + '}'.repeat(100000)));
  bodies.push(Buffer.from('['.repeat(100000))); // never closed
  bodies.push(Buffer.from('{"name":"\xff\xfe\xfd","role":"viewer"}', 'latin1')); // invalid UTF-8
  bodies.push(Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d])); // overlong encoding
  bodies.push(Buffer.from('{"name":"\\ud800","role":"viewer"}')); // lone surrogate
  bodies.push(Buffer.from('{"name":"x","role":"viewer","expires_at":123456789012345678901234567890}'));
  bodies.push(Buffer.from('{"name":"x","role":"viewer","expires_at":1e999}'));
  bodies.push(Buffer.from('{"name":"x","role":"viewer","expires_at":-1e999}'));
  bodies.push(Buffer.from('{"name":"x","role":"viewer","expires_at":9223372036854775808}'));
  bodies.push(Buffer.from('{"name":"x","role":"viewer","expires_at":-9223372036854775809}'));
  bodies.push(Buffer.from('{"name":"x\\u0000","role":"viewer"}'));
  bodies.push(Buffer.from('{"name":"x","role":"view\\u0000er"}'));
  bodies.push(Buffer.from('{"na\\u0000me":"x","role":"viewer"}'));
  bodies.push(Buffer.from(`{"name":"${'\\u00e9'.repeat(50000)}","role":"viewer"}`));
  bodies.push(Buffer.from(`{${Array.from({ length: 20000 }, (_, i) => `"k${i}":${i}`).join(',')}}`));
  bodies.push(Buffer.from(`[${'1,'.repeat(200000)}1]`));
  bodies.push(Buffer.from('\0\0\0\0'));
  bodies.push(Buffer.alloc(0));
  const routes = [
    ['POST', '/api/v1/tokens', { token: adminTok }],
    ['POST', '/api/v1/users', { token: adminTok }],
    ['PATCH', '/api/v1/users/1', { session: admin }],
    ['PATCH', '/api/v1/me', { session: admin }],
    ['POST', '/api/v1/auth/login', {}],
    ['POST', '/api/v1/admin/backup', { token: adminTok }],
  ];
  for (const [m, p, auth] of routes) {
    for (const body of bodies) {
      const r = await d.req(m, p, { ...auth, body });
      // backup and logout take an optional body: an empty one is fine there
      if (body.length === 0 && p === '/api/v1/admin/backup') {
        assert.equal(r.status, 201, r.text);
        continue;
      }
      assert.ok([400, 422].includes(r.status), `${m} ${p} ${body.slice(0, 40).toString('hex')}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(r.json && r.json.error, r.text.slice(0, 200));
    }
  }
  assert.equal((await d.req('GET', '/healthz')).status, 200);
});

test('odd ids, odd queries and odd paths are refused without harm', async () => {
  const paths = [
    '/api/v1/users/0', '/api/v1/users/-1', '/api/v1/users/-9223372036854775808', '/api/v1/users/9223372036854775807',
    '/api/v1/users/9223372036854775808', '/api/v1/users/1e5', '/api/v1/users/%00', '/api/v1/users/%ff%fe',
    '/api/v1/users/1%2f2', `/api/v1/users/${'9'.repeat(5000)}`, '/api/v1/users?limit=%00', '/api/v1/users?limit=1&limit=2&limit=abc',
    `/api/v1/users?cursor=${'A'.repeat(5000)}`, '/api/v1/audit-log?from=%ff&to=%00', '/api/v1/audit-log?target_id=-1',
    `/api/v1/audit-log?actor=${'%27%20OR%201=1--'.repeat(10)}`, '/api/v1/tokens?count=%00true', `/${'a/'.repeat(3000)}`,
    '/%00', '/%', '/%zz', '/..%00/etc/passwd', '/index.html%00.js',
  ];
  for (const p of paths) {
    const r = await rawHttp(d.port, `${HEAD('GET', p)}Connection: close\r\n\r\n`);
    assert.ok(r.status !== null || r.closed, p);
    if (r.status !== null) assert.ok(r.status < 500, `${p}: ${r.status}`);
    for (const m of ['PATCH', 'DELETE']) {
      if (!p.startsWith('/api/v1/users/')) continue;
      const w = await rawHttp(d.port, `${HEAD(m, p)}Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      assertRefused(w, `${m} ${p}`);
    }
  }
  // the audit log filter is bound, never pasted into SQL: no rows for that actor
  const inj = await d.req('GET', `/api/v1/audit-log?actor=${encodeURIComponent("x' OR '1'='1")}`, { token: adminTok });
  assert.equal(inj.status, 200);
  assert.deepEqual(inj.json.data, []);
});

test('oversized heads, absurd methods and requests that are not HTTP', async () => {
  const big = 'a'.repeat(64 * 1024);
  const cases = [
    [`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${big}\r\n\r\n`, '64 KiB header'],
    [`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`, '3000 headers'],
    [`GET /healthz?${'q'.repeat(70000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, '70 KB request line'],
    [`GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: scrm_session=${big}\r\n\r\n`, '64 KiB cookie'],
    [`GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${big}\r\n\r\n`, '64 KiB bearer'],
    [`${'M'.repeat(10000)} /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 'a 10 KB method'],
    ['FROB /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 'FROB'],
    ['DELETE /api/v1/audit-log HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 'DELETE audit log'],
    ['GET /api/v1/users HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n', 'HTTP/9.9'],
    ['GARBAGE\x01\x02\x03 NOT HTTP\r\n\r\n', 'a garbage request line'],
    ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + 'x'.repeat(200), 'a TLS hello'],
    ['GET /healthz\r\n\r\n', 'HTTP/0.9'],
    ['GET /healthz HTTP/1.1\r\n\r\n', 'no Host'],
    ['GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'two Host headers'],
    ['GET  HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'no path'],
    ['GET healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'a relative path'],
    ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n', 'a header without a colon'],
    ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n folded: continuation\r\n\r\n', 'a folded header'],
    ['\r\n\r\n\r\n\r\n', 'empty lines'],
    ['\0\0\0\0\0\0\0\0\r\n\r\n', 'NUL bytes'],
    [`${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`, 'Content-Length: abc'],
    [`${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nContent-Length: -5\r\n\r\n{}`, 'Content-Length: -5'],
    [`${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}`, 'two Content-Lengths'],
    [`${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n`, 'a bad chunk size'],
    [`${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}`, 'a huge chunk size'],
    [`${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 'gzip transfer coding'],
    [`${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":"short"`, 'a body shorter than announced'],
  ];
  // all at once: some (a TLS hello, a body shorter than announced) get no
  // answer and just wait for the connection timeout
  const answers = await Promise.all(cases.map(([data]) => rawHttp(d.port, data, { timeoutMs: 1000 })));
  for (const [i, [, what]] of cases.entries()) {
    const r = answers[i];
    if (r.status !== null && !(what === 'HTTP/9.9' && r.status === 505)) assert.ok(r.status < 500 && r.status !== 201, `${what}: ${r.status}\n${r.raw.slice(0, 300)}`);
    if (what === '64 KiB header') assert.ok(r.status === null || [413, 431, 400].includes(r.status), `${what}: ${r.status}`);
    if (what === 'FROB' || what === 'DELETE audit log') assert.equal(r.status, 405, what);
    if (what.startsWith('Content-Length') || what.includes('chunk')) assert.ok(r.status === null || r.status >= 400, `${what}: ${r.status}`);
  }
  // a connection that sends half a request and goes away
  const half = await rawHttp(d.port, `${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{"na`, { timeoutMs: 200 });
  assert.equal(half.status, null);
  // many connections that open and close at once
  await Promise.all(Array.from({ length: 50 }, () => rawHttp(d.port, 'GET /heal', { timeoutMs: 100 })));
  assert.equal((await d.req('GET', '/healthz')).status, 200);
});

test('a chunked body that is never finished, then the client leaves', async () => {
  const raw = await rawHttp(d.port, `${HEAD('POST', '/api/v1/tokens')}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"nam\r\n`, { timeoutMs: 300 });
  assert.equal(raw.status, null);
  assert.equal((await d.req('GET', '/healthz')).status, 200);
});

test('after all that: /healthz is 200 and no table changed', async () => {
  assert.equal((await d.req('GET', '/healthz')).status, 200);
  assert.equal((await d.req('GET', '/api/v1/me', { session: admin })).status, 200);
  const after = tableCounts();
  // the empty-bodied backup above wrote one audit row (and nothing else changed)
  assert.deepEqual(after, { ...before, audit_log: before.audit_log + 1 });
  const rows = sqlite(d.db, "SELECT action FROM audit_log ORDER BY id DESC LIMIT 1;");
  assert.equal(rows, 'admin.backup');
  assert.equal(sqlite(d.db, 'PRAGMA integrity_check;'), 'ok');
});
