// GET /api/v1/audit-log: every write leaves a row (who, what, on what, status,
// from where), filters and pagination work, only admins may read it, and no
// secret ever reaches it or the daemon's log. POST /api/v1/admin/backup: a
// consistent online snapshot, also while writes are running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileDaemon, assertError, auditAll, sqlite, sleep, unique, assertNoSecrets, ADMIN_PASSWORD } from './lib.mjs';

const d = await fileDaemon();
d.adminSession = await d.login();
const admin = d.adminSession;
const adminTok = await d.adminToken();
const adminTokId = (await d.req('GET', '/api/v1/me', { token: adminTok })).json.token.id;
const operatorTok = await d.token('operator', 'audit-operator');
const viewerTok = await d.token('viewer', 'audit-viewer');
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

// Everything secret this file handles; none of it may show up in the audit
// log, the daemon's log or (tokens, passwords, cookies) the database.
const secrets = { passwords: [ADMIN_PASSWORD], tokens: [adminTok, operatorTok, viewerTok], cookies: [admin.cookie.split('=')[1]], csrf: [admin.csrf] };

// The writes whose rows are checked below.
const U_PW = 'audited-user-pw-1';
const U_PW2 = 'audited-user-pw-2';
const uname = unique('audited');
const w = {};
w.userCreate = await d.req('POST', '/api/v1/users', { session: admin, body: { username: uname, role: 'operator', password: U_PW } });
w.userUpdate = await d.req('PATCH', `/api/v1/users/${w.userCreate.json.id}`, { token: adminTok, body: { display_name: 'Audited', password: U_PW2 } });
w.tokenCreate = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'audited-token', role: 'viewer' } });
w.tokenRevoke = await d.req('DELETE', `/api/v1/tokens/${w.tokenCreate.json.id}`, { session: admin });
w.badLogin = await d.req('POST', '/api/v1/auth/login', { body: { username: uname, password: U_PW } }); // the old password
w.unknownLogin = await d.req('POST', '/api/v1/auth/login', { body: { username: 'no-such-person', password: 'whatever-pw' } });
const uSession = await d.login(uname, U_PW2);
w.meUpdate = await d.req('PATCH', '/api/v1/me', { session: uSession, body: { display_name: 'Audited Self' } });
w.logout = await d.req('POST', '/api/v1/auth/logout', { session: uSession });
w.deactivate = await d.req('DELETE', `/api/v1/users/${w.userCreate.json.id}`, { token: adminTok });
secrets.passwords.push(U_PW, U_PW2);
secrets.tokens.push(w.tokenCreate.json.token);
secrets.cookies.push(uSession.cookie.split('=')[1]);
secrets.csrf.push(uSession.csrf);

async function rowsUntil(query, n) {
  let rows = [];
  for (let i = 0; i < 100; i++) { // failed logins are written off the request path
    rows = await auditAll(d, query);
    if (rows.length >= n) return rows;
    await sleep(20);
  }
  return rows;
}

test('the writes above succeeded', () => {
  assert.deepEqual(Object.fromEntries(Object.entries(w).map(([k, r]) => [k, r.status])), {
    userCreate: 201, userUpdate: 200, tokenCreate: 201, tokenRevoke: 204, badLogin: 401,
    unknownLogin: 401, meUpdate: 200, logout: 204, deactivate: 204,
  });
});

test('every write leaves one row with actor, action, target, status, method, path and ip', async () => {
  const uid = w.userCreate.json.id;
  const tid = w.tokenCreate.json.id;
  const expect = [
    { action: 'user.create', actor: 'user:1', actor_name: 'admin', target_type: 'user', target_id: uid, status: 201, method: 'POST', path: '/api/v1/users', detail: { username: uname, role: 'operator' } },
    { action: 'user.update', actor: `token:${adminTokId}`, actor_name: 'test-admin', target_type: 'user', target_id: uid, status: 200, method: 'PATCH', path: `/api/v1/users/${uid}` },
    { action: 'token.create', actor: `token:${adminTokId}`, target_type: 'token', target_id: tid, status: 201, method: 'POST', path: '/api/v1/tokens', detail: { name: 'audited-token', role: 'viewer' } },
    { action: 'token.revoke', actor: 'user:1', target_type: 'token', target_id: tid, status: 204, method: 'DELETE', path: `/api/v1/tokens/${tid}` },
    { action: 'auth.login', actor: `user:${uid}`, actor_name: uname, target_type: 'user', target_id: uid, status: 200, method: 'POST', path: '/api/v1/auth/login' },
    { action: 'user.update_self', actor: `user:${uid}`, target_type: 'user', target_id: uid, status: 200, method: 'PATCH', path: '/api/v1/me', detail: { changed: ['display_name'] } },
    { action: 'auth.logout', actor: `user:${uid}`, target_type: 'user', target_id: uid, status: 204, method: 'POST', path: '/api/v1/auth/logout' },
    { action: 'user.deactivate', actor: `token:${adminTokId}`, target_type: 'user', target_id: uid, status: 204, method: 'DELETE', path: `/api/v1/users/${uid}` },
  ];
  for (const e of expect) {
    const rows = await auditAll(d, { action: e.action, target_id: String(e.target_id) });
    assert.equal(rows.length, 1, `${e.action}: ${JSON.stringify(rows)}`);
    const row = rows[0];
    for (const [k, v] of Object.entries(e)) assert.deepEqual(row[k], v, `${e.action}.${k}: ${JSON.stringify(row)}`);
    assert.equal(row.ip, '127.0.0.1');
    assert.match(row.created_at, RFC3339);
    assert.equal(typeof row.id, 'number');
  }
  const upd = (await auditAll(d, { action: 'user.update', target_id: String(uid) }))[0];
  assert.deepEqual([...upd.detail.changed].sort(), ['display_name', 'password']);
});

test('failed logins are recorded as auth.login_failed, anonymous, status 401', async () => {
  const rows = await rowsUntil({ action: 'auth.login_failed' }, 2);
  assert.equal(rows.length, 2, JSON.stringify(rows));
  const [unknown, bad] = rows; // newest first
  assert.deepEqual(bad.detail, { username: uname });
  assert.equal(bad.target_id, w.userCreate.json.id);
  assert.deepEqual(unknown.detail, { username: 'no-such-person' });
  assert.equal(unknown.target_id, null);
  for (const r of rows) {
    assert.equal(r.actor, 'anonymous');
    assert.equal(r.status, 401);
    assert.equal(r.ip, '127.0.0.1');
    assert.equal(r.path, '/api/v1/auth/login');
  }
});

test('refused writes leave no row', async () => {
  const before = (await auditAll(d)).length;
  assertError(await d.req('POST', '/api/v1/users', { token: adminTok, body: { username: uname, role: 'viewer', password: 'another-pw-123' } }), 409, 'conflict');
  assertError(await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: '', role: 'viewer' } }), 422, 'validation_failed');
  assertError(await d.req('DELETE', '/api/v1/users/1', { session: admin }), 409, 'conflict');
  assertError(await d.req('DELETE', '/api/v1/tokens/999999', { token: adminTok }), 404, 'not_found');
  assertError(await d.req('POST', '/api/v1/tokens', { token: viewerTok, body: { name: 'x', role: 'viewer' } }), 403, 'forbidden');
  assert.equal((await auditAll(d)).length, before);
});

test('audit-log filters: actor, action, target_type, target_id, from, to', async () => {
  const all = await auditAll(d);
  assert.ok(all.length >= 10);
  // pred picks the rows the filter must return; empty says none may come back
  const check = async (query, pred, empty = false) => {
    const rows = await auditAll(d, query);
    const expected = all.filter(pred);
    if (empty !== null) assert.equal(expected.length === 0, empty, `check of ${JSON.stringify(query)} is vacuous`);
    if (!empty) assert.ok(expected.length < all.length || !Object.keys(query).some((k) => k !== 'from' && k !== 'to'), `filter ${JSON.stringify(query)} selects everything`);
    assert.deepEqual(rows.map((r) => r.id), expected.map((r) => r.id), JSON.stringify(query));
  };
  const uid = w.userCreate.json.id;
  await check({ actor: 'user:1' }, (r) => r.actor === 'user:1');
  await check({ actor: `token:${adminTokId}` }, (r) => r.actor === `token:${adminTokId}`);
  await check({ action: 'token.create' }, (r) => r.action === 'token.create');
  await check({ target_type: 'token' }, (r) => r.target_type === 'token');
  await check({ target_type: 'user', target_id: String(uid) }, (r) => r.target_type === 'user' && r.target_id === uid);
  await check({ actor: `user:${uid}`, action: 'auth.logout' }, (r) => r.actor === `user:${uid}` && r.action === 'auth.logout');
  await check({ from: '2000-01-01' }, () => true);
  await check({ from: '2000-01-01T00:00:00Z', to: '2999-01-01T00:00:00Z' }, () => true);
  await check({ to: '2000-01-01T00:00:00Z' }, () => false, true);
  await check({ from: '2999-01-01' }, () => false, true);
  // "from" is inclusive, "to" exclusive, at one-second resolution
  const t = all[0].created_at;
  const next = new Date(Date.parse(t) + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  await check({ to: t }, (r) => r.created_at < t, null); // empty when every row is from one second
  await check({ from: t, to: next }, (r) => r.created_at === t);
  await check({ actor: 'nobody:0' }, () => false, true);
  assertError(await d.req('GET', '/api/v1/audit-log?from=yesterday', { token: adminTok }), 422, 'validation_failed', 'from');
  assertError(await d.req('GET', '/api/v1/audit-log?to=2026-13-45', { token: adminTok }), 422, 'validation_failed', 'to');
  assertError(await d.req('GET', '/api/v1/audit-log?target_id=abc', { token: adminTok }), 422, 'validation_failed', 'target_id');
  assertError(await d.req('GET', '/api/v1/audit-log?limit=0', { token: adminTok }), 422, 'validation_failed', 'limit');
  assertError(await d.req('GET', '/api/v1/audit-log?cursor=nonsense', { token: adminTok }), 422, 'validation_failed', 'cursor');
});

test('audit-log pages newest first, every row once; count=true gives the total', async () => {
  const all = await auditAll(d);
  const ids = all.map((r) => r.id);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] < ids[i - 1], 'not newest first');
  for (const limit of [1, 3]) {
    const seen = [];
    let cursor = null;
    do {
      const r = await d.req('GET', `/api/v1/audit-log?limit=${limit}&count=true${cursor ? `&cursor=${cursor}` : ''}`, { token: adminTok });
      assert.equal(r.status, 200);
      assert.ok(r.json.total >= ids.length);
      seen.push(...r.json.data.map((x) => x.id));
      cursor = r.json.next_cursor;
    } while (cursor);
    // rows written meanwhile (none here) would only be newer
    assert.deepEqual(seen.slice(seen.length - ids.length), ids, `limit=${limit}`);
    assert.equal(new Set(seen).size, seen.length);
  }
  const total = await d.req('GET', '/api/v1/audit-log?count=true&action=token.create', { token: adminTok });
  assert.equal(total.json.total, all.filter((r) => r.action === 'token.create').length);
});

test('only admins may read the audit log', async () => {
  assertError(await d.req('GET', '/api/v1/audit-log', { token: operatorTok }), 403, 'forbidden');
  assertError(await d.req('GET', '/api/v1/audit-log', { token: viewerTok }), 403, 'forbidden');
  const r = await d.req('GET', '/api/v1/audit-log');
  assertError(r, 401, 'unauthorized');
  assert.match(r.headers.get('www-authenticate'), /^Bearer/);
  assert.equal((await d.req('GET', '/api/v1/audit-log', { session: admin })).status, 200);
});

const backupsDir = path.join(d.dir, 'backups');

function assertGoodBackup(file, users) {
  const head = Buffer.alloc(16);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, head, 0, 16, 0);
  fs.closeSync(fd);
  assert.equal(head.toString('latin1'), 'SQLite format 3\0');
  const out = sqlite(file, 'PRAGMA integrity_check; SELECT count(*) FROM users;').split('\n');
  assert.equal(out[0], 'ok');
  if (users !== undefined) assert.equal(Number(out[1]), users);
}

test('POST /admin/backup writes a consistent snapshot: 201 with file, path, bytes', async () => {
  const users = (await d.req('GET', '/api/v1/users?count=true&limit=1', { token: adminTok })).json.total;
  const r = await d.req('POST', '/api/v1/admin/backup', { session: admin });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.file, /^scrm-\d{8}T\d{6}Z(-\d+)?\.db$/);
  assert.equal(r.json.path, path.join(backupsDir, r.json.file));
  assert.ok(fs.existsSync(r.json.path));
  assert.equal(r.json.bytes, fs.statSync(r.json.path).size);
  assert.ok(r.json.bytes > 0);
  assert.match(r.json.created_at, RFC3339);
  assertGoodBackup(r.json.path, users);
  // no temporary file is left behind
  assert.deepEqual(fs.readdirSync(backupsDir).filter((f) => !f.endsWith('.db')), []);
  // two backups in the same second get distinct names; an empty JSON object is fine
  const r2 = await d.req('POST', '/api/v1/admin/backup', { token: adminTok, body: {} });
  assert.equal(r2.status, 201, r2.text);
  assert.notEqual(r2.json.file, r.json.file);
  assertGoodBackup(r2.json.path, users);
  const rows = await auditAll(d, { action: 'admin.backup' });
  assert.equal(rows.length, 2);
  assert.equal(rows[1].detail.file, r.json.file);
  assert.equal(rows[1].status, 201);
  assert.equal(rows[1].actor, 'user:1');
});

test('POST /admin/backup: refusals and an idempotent replay that writes no second file', async () => {
  assertError(await d.req('POST', '/api/v1/admin/backup', { token: adminTok, body: { path: '/tmp/x.db' } }), 422, 'validation_failed', 'path');
  assertError(await d.req('POST', '/api/v1/admin/backup', { token: operatorTok }), 403, 'forbidden');
  assertError(await d.req('POST', '/api/v1/admin/backup'), 401, 'unauthorized');
  assertError(await d.req('GET', '/api/v1/admin/backup', { token: adminTok }), 405, 'method_not_allowed');
  const files = fs.readdirSync(backupsDir).length;
  const key = unique('backup');
  const r1 = await d.req('POST', '/api/v1/admin/backup', { token: adminTok, headers: { 'Idempotency-Key': key } });
  assert.equal(r1.status, 201, r1.text);
  const r2 = await d.req('POST', '/api/v1/admin/backup', { token: adminTok, headers: { 'Idempotency-Key': key } });
  assert.equal(r2.status, 201);
  assert.equal(r2.headers.get('idempotent-replayed'), 'true');
  assert.equal(r2.text, r1.text);
  assert.equal(fs.readdirSync(backupsDir).length, files + 1);
});

test('a backup taken while writes are running is consistent', async () => {
  const writes = [];
  for (let i = 0; i < 80; i++) {
    writes.push(d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: `during-backup-${i}`, role: 'viewer' }, headers: { 'Idempotency-Key': unique('during') } }));
    if (i % 20 === 0) writes.push(d.req('PATCH', '/api/v1/users/1', { token: adminTok, body: { display_name: `Admin ${i}` } }));
  }
  const backup = d.req('POST', '/api/v1/admin/backup', { token: adminTok });
  const results = await Promise.all(writes);
  const b = await backup;
  for (const r of results) assert.ok(r.status === 201 || r.status === 200, r.text);
  for (const r of results) if (r.json.token) secrets.tokens.push(r.json.token);
  assert.equal(b.status, 201, b.text);
  assertGoodBackup(b.json.path);
  // a change, its audit row and its idempotency record commit together: in
  // any consistent snapshot the counts agree
  const [tokens, tokenRows, keys, keyedTokens, users, userRows] = sqlite(b.json.path, [
    'SELECT count(*) FROM api_tokens;',
    "SELECT count(*) FROM audit_log WHERE action = 'token.create';",
    "SELECT count(*) FROM idempotency_keys WHERE principal = 'token:" + adminTokId + "' AND body LIKE '%during-backup-%';",
    "SELECT count(*) FROM api_tokens WHERE name LIKE 'during-backup-%';",
    'SELECT count(*) FROM users;',
    "SELECT count(*) FROM audit_log WHERE action = 'user.create';",
  ].join(' ')).split('\n').map(Number);
  assert.equal(tokens, tokenRows, 'tokens and their audit rows disagree in the backup');
  assert.equal(keys, keyedTokens, 'tokens and their idempotency records disagree in the backup');
  assert.equal(users, userRows);
  const live = (await d.req('GET', '/api/v1/tokens?count=true&limit=1', { token: adminTok })).json.total;
  assert.ok(tokens <= live);
});

test('no secret appears in the audit log, the daemon log or (passwords, tokens, cookies) the database', async () => {
  const all = [...secrets.passwords, ...secrets.tokens, ...secrets.cookies, ...secrets.csrf];
  assert.ok(all.length >= 10);
  assertNoSecrets(JSON.stringify(await auditAll(d)), all, 'the audit log');
  assertNoSecrets(d.stderr, all, 'the daemon log');
  assertNoSecrets(d.stdout, all, 'the daemon stdout');
  const dump = sqlite(d.db, '.dump');
  assertNoSecrets(dump, [...secrets.passwords, ...secrets.tokens, ...secrets.cookies], 'the database');
  for (const f of fs.readdirSync(backupsDir)) {
    assertNoSecrets(sqlite(path.join(backupsDir, f), '.dump'), [...secrets.passwords, ...secrets.tokens, ...secrets.cookies], `backup ${f}`);
  }
});
