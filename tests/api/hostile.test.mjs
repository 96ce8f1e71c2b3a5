// Hostile clients and a hostile disk: slow and idle connections (slowloris)
// must not starve other clients; oversize heads and bodies are refused; static
// paths never leave the web root; a full disk or a read-only database gives 503
// with one clear log line, reads go on, and writes work again without a restart
// once space or permission returns, with nothing lost or corrupted.
//
// Figures (connections held, answer times under attack) are printed as test
// diagnostics. Timing bounds are wide: the machine is shared and the suite
// also runs under ASan.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  Daemon, fileDaemon, rawHttp, httpRequest, assertError, metric, sleep, sqliteJson,
} from './lib.mjs';

const MEM_KB = 32;   // connection_memory_kb: bounds the request line plus headers
const BODY_KB = 64;  // max_body_kb
const TIMEOUT_S = 2; // connection_timeout_s
const PER_IP = 300;  // per_ip_connections

// A web root made here, with a secret beside it (where "../" would lead) and
// symbolic links inside it that lead out.
const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'scrmd-hostile-'));
after(() => fs.rmSync(outer, { recursive: true, force: true }));
const webRoot = path.join(outer, 'web');
fs.mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
const INDEX = '<!doctype html><title>hostile fixture</title>HOSTILE-INDEX\n';
fs.writeFileSync(path.join(webRoot, 'index.html'), INDEX);
fs.writeFileSync(path.join(webRoot, 'assets', 'app.js'), 'console.log("app");\n');
fs.writeFileSync(path.join(outer, 'secret.txt'), 'SECRET-BESIDE-THE-WEB-ROOT\n');
fs.mkdirSync(path.join(outer, 'private'));
fs.writeFileSync(path.join(outer, 'private', 'key.txt'), 'SECRET-IN-A-SIBLING-DIR\n');
fs.symlinkSync(path.join(outer, 'secret.txt'), path.join(webRoot, 'assets', 'link.txt'));
fs.symlinkSync('../secret.txt', path.join(webRoot, 'rel.txt'));
fs.symlinkSync(path.join(outer, 'private'), path.join(webRoot, 'assets', 'dir'));
fs.symlinkSync('/etc/passwd', path.join(webRoot, 'passwd.txt'));
// a big file for the client that does not read its answer
const BIG = 32 << 20;
fs.writeFileSync(path.join(webRoot, 'big.bin'), Buffer.alloc(BIG, 0x61));

const d = await fileDaemon({
  args: ['--web-root', webRoot],
  config: `[http]\nthreads = 2\nconnection_timeout_s = ${TIMEOUT_S}\nconnection_memory_kb = ${MEM_KB}\n` +
    `max_body_kb = ${BODY_KB}\nper_ip_connections = ${PER_IP}\n`,
});
const tok = await d.adminToken();
const auth = { token: tok };
// Requests to d on a connection of their own: with connection_timeout_s = 2 a
// pooled keep-alive connection (fetch's) may be closed by the server just as
// it is reused, which is the client's race, not the server's fault.
const req = (method, p, opts) => httpRequest(d, method, p, opts);

// A raw connection kept open by hand. Records when the server closed it and
// everything it sent.
function openConn(port, { localAddress = '127.0.0.1', first = null } = {}) {
  return new Promise((resolve) => {
    const c = { t0: Date.now(), closedAt: null, bytes: 0, data: Buffer.alloc(0), keep: true };
    c.sock = net.connect({ port, host: '127.0.0.1', localAddress });
    c.sock.on('data', (b) => { c.bytes += b.length; if (c.keep) c.data = Buffer.concat([c.data, b]); });
    c.sock.on('error', () => {});
    c.sock.on('close', () => { c.closedAt = Date.now(); });
    c.closed = new Promise((r) => c.sock.on('close', r));
    c.sock.on('connect', () => { if (first) c.sock.write(first); resolve(c); });
  });
}

// Send bytes and collect everything until the server closes the connection or
// timeoutMs passes: {raw, status, closedByServer, ms}.
function exchange(port, data, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closedByServer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const raw = buf.toString('latin1');
      const m = raw.match(/^HTTP\/1\.[01] (\d{3})/);
      resolve({ raw, status: m ? Number(m[1]) : null, closedByServer, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('data', (b) => { buf = Buffer.concat([buf, b]); });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('connect', () => { for (const p of Array.isArray(data) ? data : [data]) s.write(p); });
  });
}

// Answer times of ordinary clients: n GET /healthz and n authenticated reads,
// 10 at a time. Returns the times in ms and asserts every status.
async function ordinaryClients(n) {
  const times = [];
  for (let i = 0; i < n; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, n - i) }, async (_, k) => {
      for (const [p, opts] of [['/healthz', {}], [`/api/v1/customers?limit=5&k=${i + k}`, auth]]) {
        const t = Date.now();
        const r = await req('GET', p, opts);
        times.push(Date.now() - t);
        assert.equal(r.status, 200, `${p}: ${r.status} ${r.text}`);
      }
    }));
  }
  times.sort((a, b) => a - b);
  return { times, max: times.at(-1), median: times[Math.floor(times.length / 2)] };
}

async function connections() {
  const r = await req('GET', '/metrics', auth);
  return metric(r.text, 'scrmd_http_connections');
}

test('slowloris: 200 trickling and 100 idle connections hang on, ordinary clients are answered at once', async (t) => {
  // 200 clients send a request head one byte a second (inside the idle
  // timeout, so the server keeps them), 100 send nothing at all
  const slow = await Promise.all(Array.from({ length: 200 }, () =>
    openConn(d.port, { localAddress: '127.0.0.2', first: 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' })));
  const idle = await Promise.all(Array.from({ length: 100 }, () => openConn(d.port, { localAddress: '127.0.0.3' })));
  const trickle = setInterval(() => { for (const c of slow) if (c.closedAt === null) c.sock.write('a'); }, 1000);
  try {
    const held = await connections();
    assert.ok(held >= 300, `the server holds ${held} connections`);
    const o = await ordinaryClients(50);
    t.diagnostic(`held ${held} connections; 100 ordinary answers: median ${o.median} ms, max ${o.max} ms`);
    assert.ok(o.max < 2000, `an ordinary client waited ${o.max} ms`);

    // the idle ones are closed by the server after connection_timeout_s
    await Promise.race([Promise.all(idle.map((c) => c.closed)), sleep((TIMEOUT_S + 8) * 1000)]);
    const idleOpen = idle.filter((c) => c.closedAt === null).length;
    assert.equal(idleOpen, 0, `${idleOpen} idle connections still open after ${TIMEOUT_S + 8} s`);
    const lives = idle.map((c) => c.closedAt - c.t0).sort((a, b) => a - b);
    t.diagnostic(`idle connections closed after ${lives[0]}..${lives.at(-1)} ms (connection_timeout_s = ${TIMEOUT_S})`);
    assert.ok(lives[0] >= TIMEOUT_S * 1000 - 500, `an idle connection closed after ${lives[0]} ms`);
    for (const c of idle) assert.equal(c.bytes, 0, 'an idle connection got an answer');

    // The timeout is an idle timeout: a client that keeps sending a byte a
    // second is kept (until its head outgrows connection_memory_kb: 431). What
    // bounds such clients is per_ip_connections and max_connections.
    const slowOpen = slow.filter((c) => c.closedAt === null).length;
    t.diagnostic(`${slowOpen} of 200 trickling connections still open after ${Date.now() - slow[0].t0} ms`);
    assert.equal(slowOpen, 200);
    const o2 = await ordinaryClients(20);
    assert.ok(o2.max < 2000, `an ordinary client waited ${o2.max} ms`);
  } finally {
    clearInterval(trickle);
  }
  // once they stop sending, they are idle: closed too, without an answer
  const stopped = Date.now();
  await Promise.race([Promise.all(slow.map((c) => c.closed)), sleep((TIMEOUT_S + 8) * 1000)]);
  const left = slow.filter((c) => c.closedAt === null);
  assert.equal(left.length, 0, `${left.length} trickling connections still open ${Date.now() - stopped} ms after they stopped`);
  for (const c of slow) assert.equal(c.bytes, 0, 'a half-sent request got an answer');
  t.diagnostic(`trickling connections closed ${Math.min(...slow.map((c) => c.closedAt)) - stopped}..${Math.max(...slow.map((c) => c.closedAt)) - stopped} ms after their last byte`);
  assert.equal((await req('GET', '/healthz')).status, 200);
});

test('per_ip_connections: one address cannot take every connection; others are served', async (t) => {
  const mine = await Promise.all(Array.from({ length: PER_IP }, () => openConn(d.port, { localAddress: '127.0.0.4' })));
  try {
    await sleep(200);
    assert.equal(mine.filter((c) => c.closedAt !== null).length, 0, 'connections under the limit were closed');
    // one more from that address: closed without an answer
    const extra = await rawHttp(d.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { localAddress: '127.0.0.4', timeoutMs: 5000 });
    assert.equal(extra.status, null, `over the per-IP limit: ${extra.raw.slice(0, 200)}`);
    assert.equal(extra.closed, true);
    // another address is served normally
    const other = await rawHttp(d.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', { localAddress: '127.0.0.5' });
    assert.equal(other.status, 200);
    const o = await ordinaryClients(10);
    t.diagnostic(`${PER_IP} connections from 127.0.0.4 held; the next one refused; others answered in at most ${o.max} ms`);
    assert.ok(o.max < 2000, `an ordinary client waited ${o.max} ms`);
  } finally {
    for (const c of mine) c.sock.destroy();
  }
});

test('clients that do not read their answer do not block others, and are dropped after the timeout', async (t) => {
  // 8 clients ask for a 32 MiB file and never read the socket
  const readers = await Promise.all(Array.from({ length: 8 }, () =>
    openConn(d.port, { localAddress: '127.0.0.6', first: 'GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' })));
  for (const c of readers) { c.keep = false; c.sock.pause(); }
  try {
    await sleep(300);
    const o = await ordinaryClients(50);
    t.diagnostic(`8 stalled 32 MiB downloads; 100 ordinary answers: median ${o.median} ms, max ${o.max} ms`);
    assert.ok(o.max < 2000, `an ordinary client waited ${o.max} ms`);
    // the server gives up on a connection it cannot write to for connection_timeout_s
    await sleep((TIMEOUT_S + 4) * 1000);
    for (const c of readers) c.sock.resume();
    await Promise.race([Promise.all(readers.map((c) => c.closed)), sleep(10000)]);
    const got = readers.map((c) => c.bytes);
    t.diagnostic(`stalled readers got ${Math.min(...got)}..${Math.max(...got)} of ${BIG} bytes before the server closed`);
    for (const c of readers) {
      assert.notEqual(c.closedAt, null, 'a stalled download is still open');
      assert.ok(c.bytes < BIG, 'a stalled download was sent completely: the server did not time it out');
    }
  } finally {
    for (const c of readers) c.sock.destroy();
  }
  assert.equal((await req('GET', '/healthz')).status, 200);
});

test(`oversize heads: 431 (headers) or 414 (request line) past connection_memory_kb = ${MEM_KB}, then the connection is closed`, async (t) => {
  const big = 'a'.repeat(MEM_KB * 1024 + 1000);
  const cases = [
    ['a header bigger than the limit', `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${big}\r\n\r\n`, 431],
    ['3000 small headers', `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`, 431],
    ['a huge cookie', `GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: scrm_session=${big}\r\n\r\n`, 431],
    ['a huge bearer token', `GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${big}\r\n\r\n`, 431],
    ['a request line bigger than the limit', `GET /healthz?${big} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 414],
    ['a path bigger than the limit', `GET /${big} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 414],
  ];
  const seen = new Set();
  for (const [what, data, status] of cases) {
    const r = await exchange(d.port, data);
    // The server closes with bytes of ours unread, so the kernel may send a
    // reset that overtakes its answer: no answer is allowed, a wrong one not.
    assert.ok(r.closedByServer, `${what}: the connection stayed open`);
    if (r.status !== null) {
      assert.equal(r.status, status, `${what}: ${r.raw.slice(0, 300)}`);
      assert.match(r.raw, /\r\nConnection: close\r\n/i, `${what}: no Connection: close`);
      seen.add(status);
    }
    t.diagnostic(`${what} (${data.length} bytes): ${r.status ?? 'reset'}, closed after ${r.ms} ms`);
  }
  assert.deepEqual([...seen].sort(), [414, 431], 'no 431 or no 414 answer was seen at all');
  // heads under the limit are fine, however odd
  const fits = 'b'.repeat(MEM_KB * 1024 / 2);
  const ok = await rawHttp(d.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fits: ${fits}\r\nConnection: close\r\n\r\n`);
  assert.equal(ok.status, 200);
  const cookie = await req('GET', '/api/v1/me', { headers: { Cookie: `scrm_session=${'c'.repeat(8000)}` } });
  assertError(cookie, 401, 'unauthorized');
  // a head that arrives one piece at a time is counted as a whole
  const c = await openConn(d.port, { first: 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n' });
  for (let i = 0; i < 40 && c.closedAt === null && c.bytes === 0; i++) {
    c.sock.write(`X-P${i}: ${'p'.repeat(1000)}\r\n`);
    await sleep(10);
  }
  await Promise.race([c.closed, sleep(5000)]);
  assert.notEqual(c.closedAt, null, 'a head sent in 1 KiB pieces past the limit: the connection stayed open');
  assert.match(c.data.toString('latin1'), /^HTTP\/1\.1 431 /, 'a head sent in 1 KiB pieces past the limit');
  assert.equal((await req('GET', '/healthz')).status, 200);
});

test(`oversize bodies: 413 payload_too_large past max_body_kb = ${BODY_KB}, however they are framed`, async (t) => {
  const LIMIT = BODY_KB * 1024;
  const H = (m, p) => `${m} ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\n`;
  const countCustomers = () => sqliteJson(d.db, 'SELECT count(*) AS n FROM customers')[0].n;
  const before = countCustomers();
  const json413 = (r, what) => {
    assert.equal(r.status, 413, `${what}: ${r.raw.slice(0, 300)}`);
    const body = JSON.parse(r.raw.slice(r.raw.indexOf('\r\n\r\n') + 4).split('HTTP/1.1')[0]);
    assert.equal(body.error.code, 'payload_too_large', what);
    assert.match(body.error.message, new RegExp(`${LIMIT} bytes`), what);
  };
  // by Content-Length, one byte over; sent whole: read, dropped, answered
  const over = `{"name":"${'x'.repeat(LIMIT)}"}`;
  const a = await exchange(d.port, `${H('POST', '/api/v1/customers')}Content-Length: ${over.length}\r\nConnection: close\r\n\r\n${over}`);
  json413(a, 'Content-Length over the limit');
  // chunked without a length: counted as it arrives
  const chunks = Array.from({ length: 6 }, () => `4000\r\n${'y'.repeat(0x4000)}\r\n`);
  const b = await exchange(d.port, [`${H('POST', '/api/v1/customers')}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, ...chunks, '0\r\n\r\n']);
  json413(b, 'chunked over the limit');
  // many tiny chunks
  const tiny = Array.from({ length: 70 }, () => `400\r\n${'z'.repeat(0x400)}\r\n`).join('');
  const c = await exchange(d.port, `${H('PATCH', '/api/v1/users/1')}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${tiny}0\r\n\r\n`);
  json413(c, '70 chunks of 1 KiB');
  // a Content-Length far over the limit is answered at once, before any body
  const far = await exchange(d.port, `${H('POST', '/api/v1/customers')}Content-Length: 99999999999\r\n\r\n`);
  json413(far, 'Content-Length: 99999999999');
  assert.ok(far.closedByServer, 'the connection stays open after a far-too-big Content-Length');

  // Content-Length lies, bigger than what is sent: the server waits for the
  // rest, then drops the connection at connection_timeout_s, without an answer
  const liar = await exchange(d.port, `${H('POST', '/api/v1/customers')}Content-Length: ${LIMIT * 2}\r\n\r\n${'w'.repeat(LIMIT + 100)}`, { timeoutMs: (TIMEOUT_S + 8) * 1000 });
  t.diagnostic(`Content-Length ${LIMIT * 2} with ${LIMIT + 100} bytes sent: status ${liar.status}, closed after ${liar.ms} ms`);
  assert.equal(liar.status, null, liar.raw.slice(0, 300));
  assert.ok(liar.closedByServer, 'a client that announced more than it sent is never dropped');
  assert.ok(liar.ms >= TIMEOUT_S * 1000 - 500, `dropped after ${liar.ms} ms`);
  // Content-Length lies, smaller than what is sent: the body is what it says;
  // the rest is read as the next request, which is garbage (414) and closes
  const junk = 'v'.repeat(LIMIT * 2);
  const short = await exchange(d.port, `${H('POST', '/api/v1/customers')}Content-Length: 10\r\n\r\n{"name":"a${junk}"}`);
  t.diagnostic(`Content-Length 10 with ${junk.length + 13} bytes sent: ${[...short.raw.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]).join(', ')}`);
  assert.ok(short.closedByServer);
  if (short.status !== null) { // (a reset may overtake the answers, as above)
    assert.equal(short.status, 400, short.raw.slice(0, 300));
    assert.match(short.raw, /"code":"invalid_json"/);
    assert.doesNotMatch(short.raw, /HTTP\/1\.1 [23]\d\d /, 'the bytes after the body were taken as a request');
  }

  // exactly the limit is read and parsed (here refused for its content)
  const head = '{"name":"fits","pad":"';
  const exact = head + 'p'.repeat(LIMIT - head.length - 2) + '"}';
  assert.equal(exact.length, LIMIT);
  assertError(await req('POST', '/api/v1/customers', { token: tok, body: exact }), 422, 'validation_failed', 'pad');
  assert.equal(countCustomers(), before, 'an oversize body created something');
  // after all that the daemon serves normally and logged no crash
  assert.equal((await req('GET', '/healthz')).status, 200);
  const r = await req('POST', '/api/v1/customers', { token: tok, body: { name: 'after the oversize bodies' } });
  assert.equal(r.status, 201, r.text);
  assert.doesNotMatch(d.stderr, /AddressSanitizer|runtime error|SIGSEGV|assert/);
});

test('static files: no path leaves the web root, however it is spelt', async () => {
  const LEAKS = ['SECRET-BESIDE-THE-WEB-ROOT', 'SECRET-IN-A-SIBLING-DIR', 'root:x:0:0', 'MAKEFLAGS', '[core]'];
  const o = path.basename(outer);
  const paths = [
    '/../secret.txt', '/assets/../../secret.txt', '/assets/../../etc/passwd', '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt', '/..%2fsecret.txt', '/%2E%2E/%2E%2E/etc/passwd', '/.%2e/secret.txt',
    '/%252e%252e/secret.txt', '/%252e%252e%252fsecret.txt', '/..\\secret.txt', '/assets\\..\\..\\secret.txt',
    '/%5c..%5csecret.txt', '/%c0%ae%c0%ae/secret.txt', '/%c0%ae%c0%ae%c0%afsecret.txt', '/%e0%80%ae%e0%80%ae/secret.txt',
    '/..%c0%afsecret.txt', '/index.html%00.js', '/assets/app.js%00', '/../secret.txt%00.html', '/%00/../secret.txt',
    `/../../${o}/secret.txt`, '//etc/passwd', '///etc/passwd', '/%2fetc%2fpasswd', `/${outer}/secret.txt`,
    `/%2f${outer.slice(1).replaceAll('/', '%2f')}%2fsecret.txt`, '/assets/link.txt', '/rel.txt', '/assets/dir/key.txt',
    '/assets/dir/', '/assets/dir/../../secret.txt', '/passwd.txt', '/assets/./../../secret.txt', '/assets/%2e/%2e%2e/%2e%2e/secret.txt',
    '/assets/..;/..;/secret.txt', '/..../secret.txt', '/....//....//secret.txt',
  ];
  for (const p of paths) {
    for (const target of [p, `http://127.0.0.1${p}`]) { // origin and absolute form
      const r = await rawHttp(d.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      for (const l of LEAKS) assert.ok(!r.raw.includes(l), `${target} leaked ${l}: ${r.raw.slice(0, 300)}`);
      assert.ok(r.status === null || [200, 400, 404].includes(r.status), `${target}: ${r.status}`);
      if (r.status === 200) assert.equal(r.body, INDEX, `${target} served something other than index.html`);
    }
  }
  // the files inside are served, so the refusals above are not blanket ones
  assert.equal((await req('GET', '/assets/app.js')).text, 'console.log("app");\n');
  assert.equal((await req('GET', '/')).text, INDEX);
});

// --- the disk ---------------------------------------------------------------

const newCustomer = (dm, tkn, name, pad = 0) =>
  dm.req('POST', '/api/v1/customers', { token: tkn, body: { name, attrs: pad ? { pad: 'f'.repeat(pad) } : {} } });

// Every customer acknowledged with 201 is in the database, no refused one is,
// and the file is sound.
function assertAcknowledged(dbFile, acked, refused) {
  assert.equal(sqliteJson(dbFile, 'PRAGMA integrity_check')[0].integrity_check, 'ok');
  const rows = new Map(sqliteJson(dbFile, 'SELECT id, name FROM customers').map((r) => [r.id, r.name]));
  for (const [id, name] of acked) assert.equal(rows.get(id), name, `acknowledged customer ${id} (${name}) is missing`);
  const names = new Set(rows.values());
  for (const name of refused) assert.ok(!names.has(name), `refused write ${name} is in the database`);
}

function logLines(dm, re) {
  return dm.stderr.split('\n').filter((l) => re.test(l));
}

// Write until the database refuses: returns {acked, refused, first503}.
async function fillUntilFull(dm, tkn, prefix, pad, { extraRefusals = 20, max = 3000 } = {}) {
  const acked = new Map();
  const refused = [];
  let first503;
  for (let i = 0; i < max && refused.length < extraRefusals; i++) {
    const name = `${prefix}-${i}`;
    const r = await newCustomer(dm, tkn, name, pad);
    if (r.status === 201) {
      assert.equal(refused.length, 0, 'a write succeeded after the disk was full');
      acked.set(r.json.id, name);
    } else {
      assertError(r, 503, 'unavailable');
      first503 ??= r;
      refused.push(name);
    }
  }
  assert.ok(first503, `the database never filled up (${acked.size} writes)`);
  return { acked, refused, first503 };
}

// The checks made while the database refuses writes.
async function assertRefusing(dm, tkn, acked, reason, refused) {
  const probe = await newCustomer(dm, tkn, 'probe-refused', 12000);
  assertError(probe, 503, 'unavailable');
  assert.match(probe.json.error.message, reason);
  refused.push('probe-refused');
  for (const id of [...acked.keys()].slice(-5)) assert.equal((await dm.req('GET', `/api/v1/customers/${id}`, { token: tkn })).status, 200);
  const list = await dm.req('GET', '/api/v1/customers?limit=5', { token: tkn });
  assert.equal(list.status, 200, 'reads stop while writes are refused');
  const h = await dm.req('GET', '/healthz');
  assert.equal(h.status, 503, h.text);
  assert.equal(h.json.status, 'unavailable');
  assert.match(h.json.reason, reason);
  const m = await dm.req('GET', '/metrics', { token: tkn });
  assert.equal(metric(m.text, 'scrmd_db_unavailable'), 1);
}

// After the fix: writes work again without a restart (within a few seconds).
async function assertRecovers(dm, tkn, acked, prefix) {
  let r;
  const deadline = Date.now() + 10000;
  for (let i = 0; ; i++) {
    r = await newCustomer(dm, tkn, `${prefix}-${i}`);
    if (r.status === 201) { acked.set(r.json.id, `${prefix}-${i}`); break; }
    assertError(r, 503, 'unavailable');
    assert.ok(Date.now() < deadline, `writes still refused: ${r.text}`);
    await sleep(200);
  }
  for (let i = 0; i < 20; i++) {
    const w = await newCustomer(dm, tkn, `${prefix}-more-${i}`, 2000);
    assert.equal(w.status, 201, w.text);
    acked.set(w.json.id, `${prefix}-more-${i}`);
  }
  assert.deepEqual((await dm.req('GET', '/healthz')).json, { status: 'ok' });
  assert.equal(metric((await dm.req('GET', '/metrics', { token: tkn })).text, 'scrmd_db_unavailable'), 0);
  await dm.waitForLog(/store: the database takes writes again/);
}

test('full database ([store] max_db_mb): 503 with one log line, reads go on, writes work again once space is freed', async (t) => {
  const dm = new Daemon();
  try {
    await dm.start({ config: '[store]\nmax_db_mb = 2\n' });
    const tkn = await dm.adminToken();
    // a filler table beside the daemon's, playing a file on the same disk
    sqliteJson(dm.db, 'CREATE TABLE hostile_filler(b BLOB); INSERT INTO hostile_filler VALUES (zeroblob(800000));');
    const { acked, refused, first503 } = await fillUntilFull(dm, tkn, 'full', 12000);
    t.diagnostic(`${acked.size} writes acknowledged, then ${refused.length} refused: ${first503.json.error.message}`);
    assert.match(first503.json.error.message, /full/);
    await assertRefusing(dm, tkn, acked, /the disk or the database is full/, refused);
    // one clear line, however many writes were refused
    const lines = logLines(dm, /refuses writes/);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /ERROR store: the database refuses writes: the disk or the database is full .*503/);
    assert.equal(logLines(dm, /ERROR/).length, 1, `more error lines than one:\n${logLines(dm, /ERROR/).join('\n')}`);
    // free space: the filler goes; its pages are reused
    sqliteJson(dm.db, 'DROP TABLE hostile_filler;');
    await assertRecovers(dm, tkn, acked, 'after-full');
    await dm.stop();
    assertAcknowledged(dm.db, acked, refused);
  } finally {
    if (dm.proc && dm.proc.exitCode === null) dm.proc.kill('SIGKILL');
    dm.cleanup();
  }
});

function tryRun(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0;
}

test('full disk (a small tmpfs): 503 with one log line, writes work again once a file is deleted', async (t) => {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'scrmd-tmpfs-'));
  if (!tryRun('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt])) {
    fs.rmSync(mnt, { recursive: true, force: true });
    t.skip('mount -t tmpfs is not allowed here (not root, or no CAP_SYS_ADMIN); the max_db_mb test covers the behaviour');
    return;
  }
  const dm = new Daemon();
  dm.db = path.join(mnt, 'scrm.db');
  try {
    await dm.start();
    const tkn = await dm.adminToken();
    // leave about 1.5 MiB free
    const used = Number(spawnSync('df', ['-B1', '--output=used', mnt], { encoding: 'utf8' }).stdout.split('\n')[1]);
    fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(Math.max(0, 6 * 1048576 - used - 1536 * 1024)));
    const { acked, refused, first503 } = await fillUntilFull(dm, tkn, 'disk', 12000);
    t.diagnostic(`${acked.size} writes acknowledged on the tmpfs, then ${refused.length} refused: ${first503.json.error.message}`);
    await assertRefusing(dm, tkn, acked, /the disk or the database is full/, refused);
    const lines = logLines(dm, /refuses writes/);
    assert.equal(lines.length, 1, lines.join('\n'));
    fs.rmSync(path.join(mnt, 'filler'));
    await assertRecovers(dm, tkn, acked, 'after-disk');
    await dm.stop();
    assertAcknowledged(dm.db, acked, refused);
  } finally {
    if (dm.proc && dm.proc.exitCode === null) dm.proc.kill('SIGKILL');
    await sleep(100);
    spawnSync('umount', [mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
    dm.cleanup();
  }
});

// Root ignores file modes: the daemon runs as nobody then (setpriv, from
// util-linux, needs only CAP_SETUID, which a Debian container's root has).
function asUser() {
  if (process.getuid() !== 0) return [];
  if (!tryRun('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true'])) return null;
  return ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
}

test('read-only database file: modes changed while scrmd runs do not matter; at start it is refused with a clear message', async (t) => {
  const wrap = asUser();
  if (wrap === null) { t.skip('running as root without setpriv: file modes cannot be tested'); return; }
  const dm = new Daemon();
  const dbFiles = () => [dm.db, `${dm.db}-wal`, `${dm.db}-shm`].filter((f) => fs.existsSync(f));
  try {
    fs.chmodSync(dm.dir, 0o777);
    await dm.start({ wrap });
    const tkn = await dm.adminToken();
    const acked = new Map();
    const write = async (name) => {
      const r = await newCustomer(dm, tkn, name);
      assert.equal(r.status, 201, r.text);
      acked.set(r.json.id, name);
    };
    for (let i = 0; i < 5; i++) await write(`rw-${i}`);
    // scrmd holds its files open: a mode changed now changes nothing
    for (const f of dbFiles()) fs.chmodSync(f, 0o444);
    fs.chmodSync(dm.dir, 0o555);
    for (let i = 0; i < 5; i++) await write(`chmod-${i}`);
    assert.equal((await dm.req('GET', '/healthz')).status, 200);
    await dm.stop();
    // at start, a database it may not write stops scrmd with one clear line
    // (SQLite would open it read-only, and no write could work before a restart)
    dm.stderr = '';
    await assert.rejects(dm.start({ wrap }), /scrmd exited at start/);
    assert.deepEqual(await dm.exited, { code: 1, signal: null });
    const lines = logLines(dm, /ERROR/);
    t.diagnostic(lines.map((l) => l.replace(/^\S+ /, '')).join(' | '));
    assert.match(dm.stderr, /ERROR store: \S+scrm\.db is read-only for this user \(uid \d+\): .*fix their owner or mode and start again/);
    assert.ok(lines.length <= 2, lines.join('\n'));
    // fixed: it starts, and everything acknowledged is there
    fs.chmodSync(dm.dir, 0o777);
    for (const f of dbFiles()) fs.chmodSync(f, 0o644);
    dm.stderr = '';
    await dm.start({ wrap });
    await write('after-fix');
    await dm.stop();
    assertAcknowledged(dm.db, acked, []);
  } finally {
    if (dm.proc && dm.proc.exitCode === null) dm.proc.kill('SIGKILL');
    fs.chmodSync(dm.dir, 0o755);
    dm.cleanup();
  }
});

test('database made immutable while the daemon runs (chattr +i): 503, then writes work again once it is not', async (t) => {
  const dm = new Daemon();
  const probe = path.join(dm.dir, 'probe');
  fs.writeFileSync(probe, '');
  if (!tryRun('chattr', ['+i', probe])) {
    dm.cleanup();
    t.skip('chattr +i is not allowed here (needs CAP_LINUX_IMMUTABLE on a filesystem with the attribute)');
    return;
  }
  tryRun('chattr', ['-i', probe]);
  // The -shm file is left alone: SQLite writes it through a shared memory
  // map, and a write to an immutable file's map is a SIGBUS from the kernel.
  const files = () => [dm.db, `${dm.db}-wal`].filter((f) => fs.existsSync(f));
  try {
    await dm.start();
    const tkn = await dm.adminToken();
    const acked = new Map();
    for (let i = 0; i < 5; i++) {
      const r = await newCustomer(dm, tkn, `before-${i}`);
      acked.set(r.json.id, `before-${i}`);
    }
    assert.ok(tryRun('chattr', ['+i', ...files()]));
    const refused = [];
    for (let i = 0; i < 10; i++) {
      const r = await newCustomer(dm, tkn, `immutable-${i}`);
      assertError(r, 503, 'unavailable');
      refused.push(`immutable-${i}`);
    }
    await assertRefusing(dm, tkn, acked, /refuses writes/, refused);
    const lines = logLines(dm, /refuses writes/);
    assert.equal(lines.length, 1, lines.join('\n'));
    t.diagnostic(lines[0].replace(/^\S+ /, ''));
    // the delivery senders poll (and fail) meanwhile: no line each time
    await sleep(2500);
    assert.equal(logLines(dm, /notify: could not claim/).length, 0, 'the senders log every failed poll');
    assert.equal(logLines(dm, /refuses writes/).length, 1);
    assert.ok(tryRun('chattr', ['-i', ...files()]));
    await assertRecovers(dm, tkn, acked, 'after-immutable');
    await dm.stop();
    assertAcknowledged(dm.db, acked, refused);
  } finally {
    spawnSync('chattr', ['-i', ...files(), dm.dir]);
    if (dm.proc && dm.proc.exitCode === null) dm.proc.kill('SIGKILL');
    dm.cleanup();
  }
});
