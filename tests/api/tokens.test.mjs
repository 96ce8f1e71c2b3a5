// /api/v1/tokens (admin only): created and shown once, stored as a hash, listed
// without their text, usable as Bearer, revocable, optionally expiring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, sqlite, sleep, unique } from './lib.mjs';

const d = await fileDaemon();
d.adminSession = await d.login();
const admin = d.adminSession;
const adminTok = await d.adminToken();
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const TOKEN_KEYS = ['created_at', 'created_by', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'role'];
const shownTokens = [];

async function listAll() {
  const out = [];
  let cursor = null;
  do {
    const r = await d.req('GET', `/api/v1/tokens?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: adminTok });
    assert.equal(r.status, 200, r.text);
    for (const t of r.json.data) assert.deepEqual(Object.keys(t).sort(), TOKEN_KEYS);
    out.push(...r.json.data);
    cursor = r.json.next_cursor;
  } while (cursor);
  return out;
}

async function create(body, auth = { token: adminTok }, headers = {}) {
  const r = await d.req('POST', '/api/v1/tokens', { ...auth, body, headers });
  assert.equal(r.status, 201, r.text);
  if (r.json.token) shownTokens.push(r.json.token);
  return r;
}

test('POST /tokens: 201, Location, the token shown once with a prefix of its first 12 characters', async () => {
  const r = await create({ name: 'integration', role: 'operator' }, { session: admin });
  const t = r.json;
  assert.deepEqual(Object.keys(t).sort(), [...TOKEN_KEYS, 'token'].sort());
  assert.match(t.token, /^scrm_[A-Za-z0-9_-]{40,}$/);
  assert.equal(t.prefix, t.token.slice(0, 12));
  assert.equal(t.name, 'integration');
  assert.equal(t.role, 'operator');
  assert.equal(t.created_by, 1, 'created by the admin user');
  assert.match(t.created_at, RFC3339);
  assert.equal(t.last_used_at, null);
  assert.equal(t.expires_at, null);
  assert.equal(t.revoked_at, null);
  assert.equal(r.headers.get('location'), `/api/v1/tokens/${t.id}`);
  // created with a token, there is no creating user
  const byToken = await create({ name: 'made-by-token', role: 'viewer' });
  assert.equal(byToken.json.created_by, null);
  // two tokens never share their text
  assert.notEqual(byToken.json.token, t.token);
});

test('GET /tokens never returns a token\'s text, only its prefix', async () => {
  const c = await create({ name: 'listed', role: 'viewer' });
  const all = await listAll();
  const mine = all.find((x) => x.id === c.json.id);
  assert.ok(mine, 'the new token is listed');
  assert.equal(mine.prefix, c.json.token.slice(0, 12));
  assert.equal(mine.name, 'listed');
  const text = JSON.stringify(all);
  for (const s of shownTokens) assert.ok(!text.includes(s), 'a token text is listed');
  assert.ok(!/"token"/.test(text));
  // nor is it in the database: only its hash is kept
  const dump = sqlite(d.db, '.dump');
  for (const s of shownTokens) assert.ok(!dump.includes(s), 'a token text is stored in the database');
  assert.ok(dump.includes(c.json.token.slice(0, 12)), 'the prefix is stored');
});

test('a new token works as Bearer with its role, and its last use is recorded', async () => {
  const c = await create({ name: 'bearer', role: 'viewer' });
  const me = await d.req('GET', '/api/v1/me', { token: c.json.token });
  assert.equal(me.status, 200, me.text);
  assert.deepEqual(me.json, { role: 'viewer', auth: 'token', user: null, token: { id: c.json.id, name: 'bearer' } });
  assertError(await d.req('GET', '/api/v1/tokens', { token: c.json.token }), 403, 'forbidden');
  // "Bearer" is case-insensitive
  assert.equal((await d.req('GET', '/api/v1/me', { headers: { Authorization: `bearer ${c.json.token}` } })).status, 200);
  // a token that differs in its last character is not accepted
  const last = c.json.token.at(-1);
  const other = c.json.token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
  assertError(await d.req('GET', '/api/v1/me', { token: other }), 401, 'unauthorized');
  let used = null;
  for (let i = 0; i < 100 && !used; i++) { // written off the request path
    used = (await listAll()).find((x) => x.id === c.json.id).last_used_at;
    if (!used) await sleep(20);
  }
  assert.match(used || '', RFC3339, 'last_used_at was not set');
});

test('an admin token can do admin work, e.g. create users and tokens', async () => {
  const c = await create({ name: 'admin-int', role: 'admin' });
  const u = await d.req('POST', '/api/v1/users', { token: c.json.token, body: { username: unique('bytoken'), role: 'viewer', password: 'by-token-pw-1' } });
  assert.equal(u.status, 201, u.text);
  const log = await d.req('GET', `/api/v1/audit-log?action=user.create&target_id=${u.json.id}`, { token: adminTok });
  assert.equal(log.json.data.length, 1);
  assert.equal(log.json.data[0].actor, `token:${c.json.id}`);
  assert.equal(log.json.data[0].actor_name, 'admin-int');
});

test('DELETE /tokens/{id} revokes; a second DELETE is 204 too; unknown ids are 404', async () => {
  const c = await create({ name: 'revoke-me', role: 'operator' });
  const del = await d.req('DELETE', `/api/v1/tokens/${c.json.id}`, { token: adminTok });
  assert.equal(del.status, 204, del.text);
  assert.equal(del.text, '');
  assertError(await d.req('GET', '/api/v1/me', { token: c.json.token }), 401, 'unauthorized');
  const listed = (await listAll()).find((x) => x.id === c.json.id);
  assert.match(listed.revoked_at, RFC3339);
  const again = await d.req('DELETE', `/api/v1/tokens/${c.json.id}`, { session: admin });
  assert.equal(again.status, 204);
  assert.equal((await listAll()).find((x) => x.id === c.json.id).revoked_at, listed.revoked_at, 'the revocation time moved');
  assertError(await d.req('GET', '/api/v1/me', { token: c.json.token }), 401, 'unauthorized');
  for (const id of ['999999', '0', '-3', 'abc', '1.0', '99999999999999999999']) {
    assertError(await d.req('DELETE', `/api/v1/tokens/${id}`, { token: adminTok }), 404, 'not_found');
  }
  const wrong = await d.req('PATCH', `/api/v1/tokens/${c.json.id}`, { token: adminTok, body: { name: 'x' } });
  assertError(wrong, 405, 'method_not_allowed');
  assert.equal(wrong.headers.get('allow'), 'GET, HEAD, DELETE');
});

test('GET /tokens/{id} shows one token without its text; unknown ids are 404', async () => {
  const c = await create({ name: 'one-token', role: 'operator' });
  const r = await d.req('GET', `/api/v1/tokens/${c.json.id}`, { token: adminTok });
  assert.equal(r.status, 200, r.text);
  const { token, ...rest } = c.json;
  assert.deepEqual(Object.keys(r.json).sort(), TOKEN_KEYS);
  assert.equal(r.json.id, rest.id);
  assert.equal(r.json.prefix, rest.prefix);
  assert.equal(r.json.name, 'one-token');
  assert.ok(!r.text.includes(token));
  for (const id of ['999999', '0', '-1', 'abc']) assertError(await d.req('GET', `/api/v1/tokens/${id}`, { token: adminTok }), 404, 'not_found');
  assertError(await d.req('GET', `/api/v1/tokens/${c.json.id}`, { token: c.json.token }), 403, 'forbidden');
});

test('a token can revoke itself', async () => {
  const c = await create({ name: 'self-revoke', role: 'admin' });
  assert.equal((await d.req('DELETE', `/api/v1/tokens/${c.json.id}`, { token: c.json.token })).status, 204);
  assertError(await d.req('GET', '/api/v1/me', { token: c.json.token }), 401, 'unauthorized');
});

test('POST /tokens validates name, role and expires_at', async () => {
  const before = (await listAll()).length;
  const cases = [
    [{ role: 'viewer' }, 'name'],
    [{ name: 'x' }, 'role'],
    [{ name: '', role: 'viewer' }, 'name'],
    [{ name: 'x'.repeat(101), role: 'viewer' }, 'name'],
    [{ name: 'tab\there', role: 'viewer' }, 'name'],
    [{ name: 5, role: 'viewer' }, 'name'],
    [{ name: 'x', role: 'superuser' }, 'role'],
    [{ name: 'x', role: '' }, 'role'],
    [{ name: 'x', role: 'viewer', expires_at: 'tomorrow' }, 'expires_at'],
    [{ name: 'x', role: 'viewer', expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
    [{ name: 'x', role: 'viewer', expires_at: '2099-13-01T00:00:00Z' }, 'expires_at'],
    [{ name: 'x', role: 'viewer', expires_at: 4102444800 }, 'expires_at'],
    [{ name: 'x', role: 'viewer', token: 'scrm_chosen' }, 'token'],
    [{ name: 'x', role: 'viewer', prefix: 'scrm_x' }, 'prefix'],
  ];
  for (const [body, field] of cases) assertError(await d.req('POST', '/api/v1/tokens', { token: adminTok, body }), 422, 'validation_failed', field);
  assert.equal((await listAll()).length, before);
  // expires_at may be null, and a future time is kept
  const n = await create({ name: 'no-expiry', role: 'viewer', expires_at: null });
  assert.equal(n.json.expires_at, null);
  const f = await create({ name: 'future', role: 'viewer', expires_at: '2099-01-01T00:00:00Z' });
  assert.equal(f.json.expires_at, '2099-01-01T00:00:00Z');
});

test('a token stops working when it expires', async () => {
  const exp = Math.floor(Date.now() / 1000) + 2;
  const iso = new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const c = await create({ name: 'short-lived', role: 'viewer', expires_at: iso });
  assert.equal(c.json.expires_at, iso);
  assert.equal((await d.req('GET', '/api/v1/me', { token: c.json.token })).status, 200);
  while (Date.now() < exp * 1000 + 1100) await sleep(100);
  assertError(await d.req('GET', '/api/v1/me', { token: c.json.token }), 401, 'unauthorized');
});

test('a replayed POST /tokens answers the first answer with "token": null and creates nothing', async () => {
  const key = unique('idem');
  const body = { name: unique('replayed'), role: 'viewer' };
  const first = await create(body, { token: adminTok }, { 'Idempotency-Key': key });
  assert.equal(first.headers.get('idempotent-replayed'), null);
  assert.match(first.json.token, /^scrm_/);
  const again = await d.req('POST', '/api/v1/tokens', { token: adminTok, body, headers: { 'Idempotency-Key': key } });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.headers.get('location'), first.headers.get('location'));
  assert.equal(again.json.token, null);
  const { token: _t, ...rest } = first.json;
  const { token: _n, ...restAgain } = again.json;
  assert.deepEqual(restAgain, rest);
  // byte for byte the same apart from the token
  assert.equal(again.text, first.text.replace(JSON.stringify(first.json.token), 'null'));
  assert.ok(!again.text.includes(first.json.token));
  // one token of that name, one audit row
  assert.equal((await listAll()).filter((x) => x.name === body.name).length, 1);
  const log = await d.req('GET', `/api/v1/audit-log?action=token.create&target_id=${first.json.id}`, { token: adminTok });
  assert.equal(log.json.data.length, 1);
  // the key with another body is a mismatch
  assertError(await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { ...body, role: 'admin' }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  // the stored answer does not keep the token text either
  assert.ok(!sqlite(d.db, '.dump').includes(first.json.token));
  // keys belong to one principal: the same key from the admin session is a new request
  const other = await create(body, { session: admin }, { 'Idempotency-Key': key });
  assert.notEqual(other.json.id, first.json.id);
  assert.equal(other.headers.get('idempotent-replayed'), null);
  assert.equal((await listAll()).filter((x) => x.name === body.name).length, 2);
});
