// The daemon's life: the first admin and its generated password, one log line
// per request, a clean stop on SIGTERM that finishes requests in flight, and a
// clear failure when the port is taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Daemon, BIN, ROOT, rawHttp, metric, assertNoSanitizerReport, sleep, unique, ADMIN_PASSWORD } from './lib.mjs';

// Start a daemon, run fn, stop it cleanly, clean up (also on failure).
async function withOwnDaemon(opts, fn) {
  const d = new Daemon();
  try {
    await d.start(opts);
    await fn(d);
    await d.stop();
  } finally {
    if (d.proc && d.proc.exitCode === null) d.proc.kill('SIGKILL');
    d.cleanup();
  }
}

test('the first start without SCRM_ADMIN_PASSWORD prints a generated password once; it logs in', async () => {
  const d = new Daemon();
  try {
    await d.start({ adminPassword: null, env: { SCRM_ADMIN_USER: 'chief' } });
    const deadline = Date.now() + 5000;
    while (!/password: \S+/.test(d.stdout) && Date.now() < deadline) await sleep(10);
    const m = d.stdout.match(/user: chief\s+password: (\S+)/);
    assert.ok(m, `no password on stdout: ${d.stdout}`);
    assert.equal(d.stdout.match(/password:/g).length, 1);
    const pw = m[1];
    assert.ok(pw.length >= 16, 'a short generated password');
    assert.ok(!d.stderr.includes(pw), 'the generated password is in the log');
    const s = await d.login('chief', pw);
    assert.equal(s.user.role, 'admin');
    assert.equal(s.user.display_name, 'Administrator');
    assert.equal((await d.req('POST', '/api/v1/auth/login', { body: { username: 'admin', password: pw } })).status, 401);
    await d.stop();

    // the second start finds a user and prints nothing; the password still works
    const out = d.stdout.length;
    await d.start({ adminPassword: null });
    await sleep(50);
    assert.equal(d.stdout.slice(out), '', 'the second start printed something');
    await d.login('chief', pw);
    await d.stop();
    assert.ok(!d.stderr.includes(pw));
  } finally {
    if (d.proc && d.proc.exitCode === null) d.proc.kill('SIGKILL');
    d.cleanup();
  }
});

test('the first admin takes SCRM_ADMIN_PASSWORD and prints nothing; a weak one stops the start', async () => {
  await withOwnDaemon({}, async (d) => {
    assert.ok(!/password/i.test(d.stdout), d.stdout);
    assert.ok(!d.stderr.includes(ADMIN_PASSWORD));
    await d.login('admin', ADMIN_PASSWORD);
  });
  const d = new Daemon();
  try {
    await assert.rejects(d.start({ adminPassword: 'short' }), /exited at start/);
    assert.match(d.stderr, /SCRM_ADMIN_PASSWORD must be at least 10 characters/);
    assert.ok(!d.stderr.includes('ready'));
  } finally {
    d.cleanup();
  }
});

test('the request log has one line per request with method, path, status, ms, bytes and who', async () => {
  await withOwnDaemon({}, async (d) => {
    const s = await d.login();
    const tok = await d.token('viewer', 'log-viewer');
    const tokId = (await d.req('GET', '/api/v1/me', { token: tok })).json.token.id;
    const mark = unique('logmark');
    const n = 700000000 + Math.floor(Math.random() * 1e8);
    const plan = [
      ['GET', `/api/v1/users/${n + 1}`, { token: tok }, 403],
      ['GET', `/api/v1/users/${n + 2}`, { session: s }, 404],
      ['DELETE', `/api/v1/tokens/${n + 3}`, { session: s }, 404],
      ['GET', `/api/v1/users/${n + 4}`, {}, 401],
      ['GET', `/api/v1/${mark}-a`, {}, 404],
      ['GET', `/${mark}-b.js`, {}, 404],
      ['GET', `/${mark}-c`, {}, 200],
      ['HEAD', `/${mark}-f`, {}, 200],
    ];
    for (const [m, p, opts, status] of plan) assert.equal((await d.req(m, p, opts)).status, status, `${m} ${p}`);
    const meTok = await d.req('GET', '/api/v1/me', { token: tok });
    const meSes = await d.req('GET', '/api/v1/me', { session: s });
    await d.waitForLog(new RegExp(`path=/${mark}-f `));
    for (const [m, p, opts, status] of plan) {
      const lines = d.stderr.split('\n').filter((l) => l.includes(`path=${p} `));
      assert.equal(lines.length, 1, `${p}: ${lines.length} lines`);
      const who = opts.token ? `token:${tokId}` : opts.session ? 'user:1' : '-';
      assert.match(lines[0], new RegExp(`\\bINFO req method=${m} path=${p.replace(/[.]/g, '\\.')} status=${status} ms=\\d+\\.\\d+ bytes=\\d+ who=${who} ip=127\\.0\\.0\\.1$`), lines[0]);
    }
    // the bytes field is the size of the body sent
    await sleep(50);
    const meLines = d.stderr.split('\n').filter((l) => /req method=GET path=\/api\/v1\/me status=200/.test(l));
    assert.equal(meLines.length, 3);
    assert.ok(meLines.some((l) => l.includes(`bytes=${Buffer.byteLength(meTok.text)} who=token:${tokId}`)), meLines.join('\n'));
    assert.ok(meLines.some((l) => l.includes(`bytes=${Buffer.byteLength(meSes.text)} who=user:1`)), meLines.join('\n'));
    // what a client sends is escaped: no forged log lines
    const forged = await rawHttp(d.port, `GET /x%0aINFO%20req%20method=GET%20forged HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.ok(forged.status !== null);
    await sleep(50);
    assert.ok(!d.stderr.split('\n').some((l) => l.startsWith('INFO req method=GET forged')));
    // neither the session cookie nor the token is logged
    assert.ok(!d.stderr.includes(tok));
    assert.ok(!d.stderr.includes(s.cookie.split('=')[1]));
  });
});

test('SIGTERM while slow requests are in flight: they finish normally and the daemon exits 0', async () => {
  const d = new Daemon();
  try {
    await d.start();
    const viewer = await d.token('viewer', 'watcher');
    // logins take ~0.1 s each (PBKDF2); four at once take longer on 2 cores
    const body = JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD });
    const req = `POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const inflight = Array.from({ length: 4 }, () => rawHttp(d.port, req, { timeoutMs: 20000 }));
    // signal only once all four are being processed (the scrape itself is the fifth)
    for (let i = 0; ; i++) {
      const m = await d.req('GET', '/metrics', { token: viewer, headers: { Connection: 'close' } });
      if (metric(m.text, 'scrmd_http_requests_in_flight') >= 5) break;
      assert.ok(i < 500, 'the logins never got in flight');
      await sleep(2);
    }
    d.proc.kill('SIGTERM');
    await d.waitForLog(/SIGTERM: stopping/);
    // no new connections are taken once the daemon is stopping
    const late = await rawHttp(d.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', { timeoutMs: 2000 });
    assert.notEqual(late.status, 200, 'a new request was served after SIGTERM');
    const answers = await Promise.all(inflight);
    for (const a of answers) {
      assert.equal(a.status, 200, a.raw.slice(0, 300));
      assert.match(a.headers['set-cookie'] || '', /^scrm_session=/);
      assert.ok(JSON.parse(a.body).csrf_token);
    }
    const { code, signal } = await d.exited;
    assertNoSanitizerReport(d.stderr);
    assert.equal(signal, null);
    assert.equal(code, 0, d.stderr.slice(-2000));
    // the logins were in flight when the signal came, and were logged as they ended
    const log = d.stderr;
    const stop = log.indexOf('SIGTERM: stopping');
    const logins = [...log.matchAll(/req method=POST path=\/api\/v1\/auth\/login status=200/g)].map((m) => m.index);
    assert.equal(logins.length, 5); // with the one that made the viewer token
    assert.equal(logins.filter((i) => i > stop).length, 4, 'the logins had finished before SIGTERM: the test proved nothing');
    assert.match(log, /stopped cleanly/);
    assert.ok(log.indexOf('stopped cleanly') > Math.max(...logins));
  } finally {
    if (d.proc && d.proc.exitCode === null) d.proc.kill('SIGKILL');
    d.cleanup();
  }
});

test('SIGTERM during a backup: the backup finishes and is complete', async () => {
  await withOwnDaemon({}, async (d) => {
    const tok = await d.adminToken();
    const backup = d.req('POST', '/api/v1/admin/backup', { token: tok });
    d.proc.kill('SIGTERM');
    const r = await backup.catch((e) => ({ status: 'refused', text: String(e) }));
    // either it was in flight (then it completes) or it came after the signal
    // (then it is refused); never a half-written file
    if (r.status === 201) assert.equal(fs.statSync(r.json.path).size, r.json.bytes);
    else assert.ok(r.status === 503 || r.status === 'refused', `${r.status} ${r.text}`);
    const { code } = await d.exited;
    assert.equal(code, 0);
    const dir = path.join(d.dir, 'backups');
    if (fs.existsSync(dir)) assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.partial')), []);
  });
});

test('a second daemon on a port that is taken fails to start with a clear message', async () => {
  await withOwnDaemon({}, async (d) => {
    const portFile = path.join(d.dir, 'port');
    const before = fs.readFileSync(portFile, 'utf8');
    const child = spawn(BIN, ['serve', '--listen', `127.0.0.1:${d.port}`, '--port-file', portFile, '--db', d.db, '--web-root', path.join(ROOT, 'web')], {
      cwd: ROOT, env: { ...process.env, SCRM_CONFIG: '', SCRM_LISTEN: '', SCRM_DB: '', SCRM_ADMIN_PASSWORD: ADMIN_PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (x) => { err += x; });
    const code = await new Promise((resolve) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); resolve('hung'); }, 15000);
      child.on('exit', (c) => { clearTimeout(t); resolve(c); });
    });
    assert.notEqual(code, 'hung', 'the second daemon started on a busy port');
    assert.notEqual(code, 0);
    assert.match(err, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${d.port}`));
    assert.match(err, /in use/i);
    assertNoSanitizerReport(err);
    assert.equal(fs.readFileSync(portFile, 'utf8'), before, 'the port file was overwritten');
    // the first daemon is unharmed
    assert.equal((await d.req('GET', '/healthz')).status, 200);
    await d.login();
  });
});
