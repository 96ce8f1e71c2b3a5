// Test harness: starts a real scrmd on 127.0.0.1 port 0 with a temporary
// database, and gives the tests a small HTTP client. Used by every *.test.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { after } from 'node:test';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.resolve(ROOT, process.env.SCRM_BIN || 'build/scrmd');
export const ADMIN_PASSWORD = 'admin-password-for-tests';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// How long a daemon may take to answer /healthz after its start (SCRM_START_TIMEOUT_MS:
// longer under valgrind).
const START_TIMEOUT_MS = Number(process.env.SCRM_START_TIMEOUT_MS || 20000);

// Run the scrmd binary as a command-line tool (not the daemon).
export function cli(args, { input, env = {}, cwd = ROOT, timeout = 60000 } = {}) {
  const r = spawnSync(BIN, args, {
    cwd, input, encoding: 'utf8', timeout,
    env: { ...process.env, SCRM_CONFIG: '', SCRM_LISTEN: '', SCRM_DB: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export class Daemon {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scrmd-test-'));
    this.db = path.join(this.dir, 'scrm.db');
    this.stderr = '';
    this.stdout = '';
  }

  // Start; options: env (extra environment), args (extra flags), config (INI text),
  // wrap (a command that execs the daemon, e.g. ['setpriv', '--reuid=65534', ...]),
  // healthy (the /healthz statuses that mean started: 503 on a read-only database).
  async start({ env = {}, args = [], config = null, adminPassword = ADMIN_PASSWORD, wrap = [], healthy = [200] } = {}) {
    const portFile = path.join(this.dir, 'port');
    fs.rmSync(portFile, { force: true });
    const flags = ['serve', '--listen', '127.0.0.1:0', '--port-file', portFile, '--db', this.db,
      '--web-root', path.join(ROOT, 'web')];
    if (config !== null) {
      const cf = path.join(this.dir, 'scrmd.ini');
      fs.writeFileSync(cf, config);
      flags.push('--config', cf);
    }
    const e = { ...process.env, SCRM_CONFIG: '', SCRM_LISTEN: '', SCRM_DB: '', ...env };
    if (adminPassword !== null) e.SCRM_ADMIN_PASSWORD = adminPassword;
    else delete e.SCRM_ADMIN_PASSWORD;
    // SCRM_WRAP: a command to start the daemon under (e.g. valgrind and its
    // flags, split at spaces), inside `wrap` and before the daemon's path
    const outer = (process.env.SCRM_WRAP || '').split(' ').filter(Boolean);
    const argv = [...wrap, ...outer, BIN, ...flags, ...args];
    this.proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.proc.stdout.on('data', (d) => { this.stdout += d; });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`scrmd exited at start:\n${this.stderr}`);
      if (fs.existsSync(portFile)) {
        this.port = Number(fs.readFileSync(portFile, 'utf8').trim());
        this.base = `http://127.0.0.1:${this.port}`;
        try {
          const r = await fetch(`${this.base}/healthz`);
          if (healthy.includes(r.status)) return this;
        } catch { /* not ready yet */ }
      }
      await sleep(20);
    }
    throw new Error(`scrmd did not become healthy:\n${this.stderr}`);
  }

  // SIGTERM, wait for a clean exit, and fail on any sanitizer report.
  async stop({ expectCode = 0 } = {}) {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const { code, signal } = await this.exited;
    assertNoSanitizerReport(this.stderr);
    assert.ok(!this.stderr.includes(ADMIN_PASSWORD), 'the admin password is in the daemon log');
    assert.equal(signal, null, `scrmd died of ${signal}:\n${this.stderr.slice(-4000)}`);
    assert.equal(code, expectCode, `scrmd exit code ${code}:\n${this.stderr.slice(-4000)}`);
  }

  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // HTTP request. opts: body (object -> JSON, string/Buffer -> as is), token,
  // session ({cookie, csrf}), headers, raw (skip JSON parse).
  async req(method, p, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    let body = opts.body;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      body = JSON.stringify(body);
      if (!('Content-Type' in headers)) headers['Content-Type'] = 'application/json';
    } else if (body !== undefined && !('Content-Type' in headers)) {
      headers['Content-Type'] = 'application/json';
    }
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.session) {
      headers.Cookie = opts.session.cookie;
      if (opts.session.csrf && !('X-CSRF-Token' in headers) && method !== 'GET') headers['X-CSRF-Token'] = opts.session.csrf;
    }
    const r = await fetch(this.base + p, { method, headers, body, redirect: 'manual' });
    const text = await r.text();
    let json;
    if (!opts.raw && text && (r.headers.get('content-type') || '').includes('json')) {
      try { json = JSON.parse(text); } catch { /* left undefined */ }
    }
    return { status: r.status, headers: r.headers, text, json };
  }

  // Log in through the API; returns {cookie, csrf, user}.
  async login(username = 'admin', password = ADMIN_PASSWORD) {
    const r = await this.req('POST', '/api/v1/auth/login', { body: { username, password } });
    assert.equal(r.status, 200, r.text);
    const set = r.headers.get('set-cookie');
    const cookie = set.split(';')[0];
    return { cookie, csrf: r.json.csrf_token, user: r.json.user, setCookie: set };
  }

  // Wait until the daemon's stderr matches re (a log line); returns the match.
  async waitForLog(re, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.stderr.match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no log line matching ${re}:\n${this.stderr.slice(-3000)}`);
      await sleep(10);
    }
  }

  // An admin API token, created once per daemon and reused.
  async adminToken() {
    if (!this.cachedAdminToken) this.cachedAdminToken = await this.token('admin', 'test-admin');
    return this.cachedAdminToken;
  }

  // An API token of the given role, created through the API by the admin.
  async token(role = 'admin', name = `t-${role}-${Math.random().toString(36).slice(2)}`) {
    if (!this.adminSession) this.adminSession = await this.login();
    const r = await this.req('POST', '/api/v1/tokens', { session: this.adminSession, body: { name, role } });
    assert.equal(r.status, 201, r.text);
    return r.json.token;
  }
}

export function assertNoSanitizerReport(log) {
  for (const marker of ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:', 'SUMMARY: UndefinedBehaviorSanitizer', 'WARNING: ThreadSanitizer']) {
    assert.ok(!log.includes(marker), `sanitizer report in the daemon log:\n${log.slice(log.indexOf(marker) - 200, log.indexOf(marker) + 3000)}`);
  }
  // valgrind (SCRM_WRAP): its summary line at exit, errors and definite leaks
  const vg = log.match(/==\d+== ERROR SUMMARY: [1-9]\d* errors/);
  assert.ok(!vg, `valgrind errors in the daemon log:\n${log.slice(-8000)}`);
}

// A daemon shared by the tests of one file: started before, stopped (cleanly) after.
export async function withDaemon(t, opts) {
  const d = new Daemon();
  await d.start(opts);
  t.after(async () => { try { await d.stop(); } finally { d.cleanup(); } });
  return d;
}

// Check the error shape: {"error": {code, message, field?}}.
export function assertError(r, status, code, field) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.text}`);
  assert.ok(r.json && r.json.error, `no error object: ${r.text}`);
  assert.equal(r.json.error.code, code, r.text);
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok(r.json.error.message.length > 0);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
}

// A daemon shared by every test of one file (top-level await in the file):
// stopped cleanly, and checked for sanitizer reports, after the file's tests.
// Do every top-level await before the first test(): node:test runs the root
// after-hooks as soon as the tests registered so far have finished.
export async function fileDaemon(opts) {
  const d = new Daemon();
  await d.start(opts);
  after(async () => { try { await d.stop(); } finally { d.cleanup(); } });
  return d;
}

export { sleep };

// Send bytes over a plain TCP connection and collect the answer: until one
// whole response has arrived (by its Content-Length), the server closes the
// connection, or timeoutMs passes. For requests that fetch would refuse to send
// or would normalise (raw "..", odd methods, bad framing). Not for HEAD.
// Returns {raw, status, headers, body, closed, error}; status is null when no
// HTTP answer came.
export function rawHttp(port, data, { timeoutMs = 3000, localAddress } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ ...parseRawResponse(buf), closed, error });
    };
    const timer = setTimeout(() => finish(false, null), timeoutMs);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const r = parseRawResponse(buf);
      const cl = r.headers['content-length'];
      if (r.status === 204 || r.status === 304 || (cl !== undefined && buf.length - end - 4 >= Number(cl))) finish(false, null);
    });
    s.on('error', (e) => finish(true, e.code || String(e)));
    s.on('close', () => finish(true, null));
    s.on('connect', () => {
      const parts = Array.isArray(data) ? data : [data];
      for (const p of parts) s.write(p);
    });
  });
}

export function parseRawResponse(buf) {
  const raw = buf.toString('latin1');
  const m = raw.match(/^HTTP\/1\.[01] (\d{3})/);
  const end = raw.indexOf('\r\n\r\n');
  const headers = {};
  if (m && end > 0) {
    for (const line of raw.slice(0, end).split('\r\n').slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
  }
  return { raw, status: m ? Number(m[1]) : null, headers, body: end > 0 ? raw.slice(end + 4) : '' };
}

// A request through node:http, for what fetch cannot do: a chosen local
// address (to appear as another client, e.g. 127.0.0.2) and bodies sent with
// chunked transfer encoding (body given as an array of chunks, no
// Content-Length). opts: headers, body (string/Buffer/array), token, session,
// localAddress.
export function httpRequest(d, method, p, opts = {}) {
  return new Promise((resolve, reject) => {
    const headers = { ...(opts.headers || {}) };
    let body = opts.body;
    if (body !== undefined && !Array.isArray(body) && typeof body !== 'string' && !Buffer.isBuffer(body)) body = JSON.stringify(body);
    if (body !== undefined && !('Content-Type' in headers)) headers['Content-Type'] = 'application/json';
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.session) {
      headers.Cookie = opts.session.cookie;
      if (method !== 'GET' && !('X-CSRF-Token' in headers)) headers['X-CSRF-Token'] = opts.session.csrf;
    }
    if (Array.isArray(body)) headers['Transfer-Encoding'] = 'chunked';
    else if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
    const rq = http.request({ host: '127.0.0.1', port: d.port, method, path: p, headers,
      localAddress: opts.localAddress, agent: false });
    rq.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        if ((res.headers['content-type'] || '').includes('json')) { try { json = JSON.parse(text); } catch { /* left undefined */ } }
        resolve({ status: res.statusCode, headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])), text, json });
      });
    });
    rq.on('error', reject);
    if (Array.isArray(body)) {
      // ignore write errors: the server may answer and close before the end
      rq.on('error', () => {});
      for (const c of body) rq.write(c);
      rq.end();
    } else {
      rq.end(body);
    }
  });
}

// Run the sqlite3 command-line tool on a database file; returns stdout trimmed.
// It waits up to 10 s for a lock, as the daemon's own connections do: a
// running daemon may be committing (or checkpointing) at that moment.
export function sqlite(dbFile, sql) {
  const r = spawnSync('sqlite3', ['-batch', '-bail', '-cmd', '.timeout 10000', dbFile, sql], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
  return r.stdout.trim();
}

// The value of one Prometheus sample: name plus every label given must match;
// the values of all matching lines are summed. undefined when none match.
export function metric(text, name, labels = {}) {
  let sum;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const got = {};
    for (const [, k, v] of (m[3] || '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) got[k] = v;
    if (Object.entries(labels).every(([k, v]) => got[k] === String(v))) sum = (sum || 0) + Number(m[4]);
  }
  return sum;
}

// Every audit-log entry matching the query (walks all pages), newest first.
export async function auditAll(d, query = {}, auth = {}) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < 1000; i++) {
    const q = new URLSearchParams({ ...query, limit: '500' });
    if (cursor) q.set('cursor', cursor);
    const r = await d.req('GET', `/api/v1/audit-log?${q}`, auth.token || auth.session ? auth : { token: await d.adminToken() });
    assert.equal(r.status, 200, r.text);
    out.push(...r.json.data);
    cursor = r.json.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('audit log pagination does not end');
}

// The security headers every answer carries (API JSON, static files, errors).
// headers: a fetch Headers object or a plain object with lower-case names.
export function assertSecurityHeaders(headers, { api = false, where = '' } = {}) {
  const get = (k) => (typeof headers.get === 'function' ? headers.get(k) : headers[k]);
  assert.equal(get('x-content-type-options'), 'nosniff', where);
  assert.equal(get('x-frame-options'), 'DENY', where);
  const csp = get('content-security-policy') || '';
  assert.match(csp, /default-src 'self'/, where);
  assert.match(csp, /frame-ancestors 'none'/, where);
  assert.ok(get('referrer-policy'), `Referrer-Policy missing ${where}`);
  if (api) assert.equal(get('cache-control'), 'no-store', where);
}

// Assert that none of the secrets appears in text (where names the text).
export function assertNoSecrets(text, secrets, where) {
  for (const s of secrets) {
    if (!s) continue;
    assert.ok(!text.includes(s), `a secret (${s.slice(0, 6)}...) appears in ${where}`);
  }
}

// A name no other test uses.
let uniq = 0;
export function unique(prefix = 'x') {
  return `${prefix}-${process.pid}-${++uniq}-${Math.random().toString(36).slice(2, 8)}`;
}

// Rows of one SQL query as objects (sqlite3 -json), waiting for a lock held by
// the daemon rather than failing.
export function sqliteJson(dbFile, sql) {
  const r = spawnSync('sqlite3', ['-batch', '-bail', '-json', '-cmd', '.timeout 10000', dbFile, sql], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

// Every item of a paginated list: follows next_cursor with the given limit
// until it is null, and fails on an empty page, a page over the limit or an
// id seen twice. p may carry a query already. With count, every page must
// report the same total and it must equal the number of items.
export async function listAll(d, p, auth, { limit = 500, count = false } = {}) {
  const items = [];
  const seen = new Set();
  let cursor = null;
  let pages = 0;
  let total;
  for (;;) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (count) q.set('count', 'true');
    if (cursor) q.set('cursor', cursor);
    const r = await d.req('GET', `${p}${p.includes('?') ? '&' : '?'}${q}`, auth);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    assert.ok(Array.isArray(r.json.data), r.text);
    assert.ok(r.json.data.length <= limit, `${p}: a page of ${r.json.data.length} over limit ${limit}`);
    if (count) {
      if (total === undefined) total = r.json.total;
      assert.equal(r.json.total, total, `${p}: the total changed between pages`);
    } else {
      assert.ok(!('total' in r.json), `${p}: total without count=true`);
    }
    for (const it of r.json.data) {
      assert.ok(!seen.has(it.id), `${p}: id ${it.id} on two pages (limit ${limit})`);
      seen.add(it.id);
      items.push(it);
    }
    pages++;
    cursor = r.json.next_cursor;
    if (cursor === null) break;
    assert.equal(typeof cursor, 'string');
    assert.ok(r.json.data.length > 0, `${p}: an empty page with a next_cursor`);
    assert.ok(pages < 100000, `${p}: pagination does not end`);
  }
  if (count) assert.equal(items.length, total, `${p}: total ${total} but ${items.length} items`);
  return { items, pages, total };
}

// An RFC 3339 UTC string (no fraction) for a Unix time in seconds.
export function isoSeconds(sec) {
  return sec == null ? null : new Date(Number(sec) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// A seeded pseudo-random generator (mulberry32): numbers in [0, 1), the same
// sequence for the same seed, so a failing random test can be replayed.
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
