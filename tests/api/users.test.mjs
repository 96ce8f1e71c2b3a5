// /api/v1/users (admin only): create, read, update, deactivate, the last-admin
// rule, the sessions that end when a person changes, and list pagination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, unique } from './lib.mjs';

const d = await fileDaemon();
d.adminSession = await d.login();
const admin = d.adminSession;
const adminTok = await d.adminToken();
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const USER_KEYS = ['created_at', 'disabled', 'display_name', 'id', 'role', 'updated_at', 'username'];

async function userCount() {
  const r = await d.req('GET', '/api/v1/users?count=true&limit=1', { token: adminTok });
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

async function createUser(body, auth = { token: adminTok }) {
  const r = await d.req('POST', '/api/v1/users', { ...auth, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

function assertUserShape(u) {
  assert.deepEqual(Object.keys(u).sort(), USER_KEYS);
  assert.equal(typeof u.id, 'number');
  assert.match(u.created_at, RFC3339);
  assert.match(u.updated_at, RFC3339);
}

test('POST /users creates a user: 201, Location, and never a password or its hash', async () => {
  const username = unique('op');
  const password = 'operator-password-1';
  const r = await d.req('POST', '/api/v1/users', { session: admin, body: { username, display_name: 'Olga Operator', role: 'operator', password } });
  assert.equal(r.status, 201, r.text);
  assertUserShape(r.json);
  assert.equal(r.json.username, username);
  assert.equal(r.json.display_name, 'Olga Operator');
  assert.equal(r.json.role, 'operator');
  assert.equal(r.json.disabled, false);
  assert.equal(r.headers.get('location'), `/api/v1/users/${r.json.id}`);
  assert.ok(!/password/i.test(r.text), r.text);
  const got = await d.req('GET', r.headers.get('location'), { token: adminTok });
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, r.json);
  assert.ok(!/password/i.test(got.text));
  const list = await d.req('GET', '/api/v1/users?limit=500', { token: adminTok });
  assert.ok(list.json.data.some((u) => u.id === r.json.id));
  assert.ok(!/password|pbkdf2/i.test(list.text));
  // the new user can log in and has the operator role, not admin
  const s = await d.login(username, password);
  assert.equal(s.user.role, 'operator');
  assertError(await d.req('GET', '/api/v1/users', { session: s }), 403, 'forbidden');
  // display_name defaults to empty
  const plain = await createUser({ username: unique('plain'), role: 'viewer', password: 'plain-password-1' });
  assert.equal(plain.display_name, '');
});

test('a duplicate user name is 409 conflict naming username, whatever its case', async () => {
  const username = unique('dup');
  await createUser({ username, role: 'viewer', password: 'dup-password-1' });
  const before = await userCount();
  assertError(await d.req('POST', '/api/v1/users', { token: adminTok, body: { username, role: 'viewer', password: 'dup-password-2' } }), 409, 'conflict', 'username');
  assertError(await d.req('POST', '/api/v1/users', { token: adminTok, body: { username: username.toUpperCase(), role: 'admin', password: 'dup-password-2' } }), 409, 'conflict', 'username');
  assert.equal(await userCount(), before);
});

test('POST /users validates every field and creates nothing when it refuses', async () => {
  const before = await userCount();
  const ok = { username: 'valid.name_1-x@y', role: 'viewer', password: 'long-enough-pw' };
  const cases = [
    [{}, 'username'],
    [{ role: 'viewer', password: ok.password }, 'username'],
    [{ username: ok.username, password: ok.password }, 'role'],
    [{ username: ok.username, role: 'viewer' }, 'password'],
    [{ ...ok, username: '' }, 'username'],
    [{ ...ok, username: 'has space' }, 'username'],
    [{ ...ok, username: 'semi;colon' }, 'username'],
    [{ ...ok, username: 'ünïcode' }, 'username'],
    [{ ...ok, username: 'a'.repeat(65) }, 'username'],
    [{ ...ok, username: 42 }, 'username'],
    [{ ...ok, username: null }, 'username'],
    [{ ...ok, role: 'root' }, 'role'],
    [{ ...ok, role: 'Admin' }, 'role'],
    [{ ...ok, role: ['admin'] }, 'role'],
    [{ ...ok, password: 'short' }, 'password'],
    [{ ...ok, password: 'nine-char' }, 'password'],
    [{ ...ok, password: '密码密码密码密码密' }, 'password'], // 9 characters, 27 bytes
    [{ ...ok, password: 12345678901 }, 'password'],
    [{ ...ok, password: 'p'.repeat(1025) }, 'password'],
    [{ ...ok, display_name: 'bell\u0007' }, 'display_name'],
    [{ ...ok, display_name: 'line\nbreak' }, 'display_name'],
    [{ ...ok, display_name: 'x'.repeat(101) }, 'display_name'],
    [{ ...ok, display_name: 5 }, 'display_name'],
    [{ ...ok, display_name: null }, 'display_name'],
    [{ ...ok, is_admin: true }, 'is_admin'],
    [{ ...ok, password_hash: 'pbkdf2$1$x$y' }, 'password_hash'],
    [{ ...ok, id: 1 }, 'id'],
    [{ ...ok, disabled: false }, 'disabled'],
  ];
  for (const [body, field] of cases) {
    const r = await d.req('POST', '/api/v1/users', { token: adminTok, body });
    assertError(r, 422, 'validation_failed', field);
  }
  assert.equal(await userCount(), before);
});

test('a password is measured in characters: 10 multi-byte characters are enough', async () => {
  const username = unique('cjk');
  const password = '密码密码密码密码密码';
  await createUser({ username, role: 'viewer', password, display_name: '王小明' });
  const s = await d.login(username, password);
  assert.equal(s.user.display_name, '王小明');
});

test('GET/PATCH/DELETE of an unknown or malformed id is 404', async () => {
  for (const id of ['999999', '0', '-1', 'abc', '1.5', '1e3', '0x10', '99999999999999999999', '%20']) {
    for (const [m, body] of [['GET'], ['PATCH', { display_name: 'x' }], ['DELETE']]) {
      const r = await d.req(m, `/api/v1/users/${id}`, { token: adminTok, body });
      assertError(r, 404, 'not_found');
    }
  }
});

test('PATCH /users/{id} changes the writable fields and validates them', async () => {
  const u = await createUser({ username: unique('patch'), role: 'viewer', password: 'patch-password-1' });
  const url = `/api/v1/users/${u.id}`;
  const r = await d.req('PATCH', url, { token: adminTok, body: { display_name: 'Patched Name', role: 'operator' } });
  assert.equal(r.status, 200, r.text);
  assertUserShape(r.json);
  assert.equal(r.json.display_name, 'Patched Name');
  assert.equal(r.json.role, 'operator');
  assert.equal(r.json.username, u.username);
  assert.equal(r.json.created_at, u.created_at);
  const cases = [
    [{ role: 'god' }, 'role'],
    [{ disabled: 'yes' }, 'disabled'],
    [{ disabled: 1 }, 'disabled'],
    [{ password: 'short' }, 'password'],
    [{ display_name: 'x'.repeat(101) }, 'display_name'],
    [{ username: 'renamed' }, 'username'],
    [{ role: null }, 'role'],
  ];
  for (const [body, field] of cases) assertError(await d.req('PATCH', url, { token: adminTok, body }), 422, 'validation_failed', field);
  const after = await d.req('GET', url, { token: adminTok });
  assert.deepEqual(after.json, r.json, 'a refused PATCH changed something');
  // an empty patch changes nothing
  const empty = await d.req('PATCH', url, { token: adminTok, body: {} });
  assert.equal(empty.status, 200);
  assert.equal(empty.json.display_name, 'Patched Name');
});

test('changing a user\'s role ends their sessions; the next login has the new role', async () => {
  const pw = 'role-change-pw-1';
  const u = await createUser({ username: unique('rolechg'), role: 'operator', password: pw });
  const s = await d.login(u.username, pw);
  assert.equal((await d.req('GET', '/api/v1/me', { session: s })).json.role, 'operator');
  // a display-name change alone keeps the session
  assert.equal((await d.req('PATCH', `/api/v1/users/${u.id}`, { token: adminTok, body: { display_name: 'Still Here' } })).status, 200);
  assert.equal((await d.req('GET', '/api/v1/me', { session: s })).status, 200);
  assert.equal((await d.req('PATCH', `/api/v1/users/${u.id}`, { token: adminTok, body: { role: 'viewer' } })).status, 200);
  assertError(await d.req('GET', '/api/v1/me', { session: s }), 401, 'unauthorized');
  const s2 = await d.login(u.username, pw);
  const me = await d.req('GET', '/api/v1/me', { session: s2 });
  assert.equal(me.json.role, 'viewer');
  assert.equal(me.json.user.display_name, 'Still Here');
});

test('an admin password reset ends the user\'s sessions and the new password works', async () => {
  const u = await createUser({ username: unique('reset'), role: 'viewer', password: 'old-password-12' });
  const s = await d.login(u.username, 'old-password-12');
  const r = await d.req('PATCH', `/api/v1/users/${u.id}`, { token: adminTok, body: { password: 'new-password-12' } });
  assert.equal(r.status, 200, r.text);
  assert.ok(!/password/i.test(r.text));
  assertError(await d.req('GET', '/api/v1/me', { session: s }), 401, 'unauthorized');
  await d.login(u.username, 'new-password-12');
});

test('DELETE deactivates: the session stops working, login is refused, the row stays', async () => {
  const pw = 'deactivate-pw-1';
  const u = await createUser({ username: unique('gone'), role: 'operator', password: pw });
  const s = await d.login(u.username, pw);
  const r = await d.req('DELETE', `/api/v1/users/${u.id}`, { session: admin });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assertError(await d.req('GET', '/api/v1/me', { session: s }), 401, 'unauthorized');
  const login = await d.req('POST', '/api/v1/auth/login', { body: { username: u.username, password: pw } });
  assertError(login, 401, 'unauthorized');
  assert.equal(login.json.error.message, 'wrong user name or password');
  const got = await d.req('GET', `/api/v1/users/${u.id}`, { token: adminTok });
  assert.equal(got.status, 200);
  assert.equal(got.json.disabled, true);
  // the name stays taken
  assertError(await d.req('POST', '/api/v1/users', { token: adminTok, body: { username: u.username, role: 'viewer', password: 'another-pw-123' } }), 409, 'conflict', 'username');
  // deactivating again is harmless; re-enabling lets the person back in
  assert.equal((await d.req('DELETE', `/api/v1/users/${u.id}`, { token: adminTok })).status, 204);
  const en = await d.req('PATCH', `/api/v1/users/${u.id}`, { token: adminTok, body: { disabled: false } });
  assert.equal(en.status, 200);
  assert.equal(en.json.disabled, false);
  await d.login(u.username, pw);
});

test('an admin cannot deactivate themselves', async () => {
  const r = await d.req('DELETE', '/api/v1/users/1', { session: admin });
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /yourself/);
  // nor through PATCH, even with another admin around
  const other = await createUser({ username: unique('admin-x'), role: 'admin', password: 'other-admin-pw1' });
  assertError(await d.req('PATCH', '/api/v1/users/1', { session: admin, body: { disabled: true } }), 409, 'conflict', 'disabled');
  assert.equal((await d.req('GET', '/api/v1/me', { session: admin })).status, 200);
  // the other admin is no longer needed
  assert.equal((await d.req('DELETE', `/api/v1/users/${other.id}`, { session: admin })).status, 204);
});

test('the last enabled admin cannot be demoted or disabled', async () => {
  const url = '/api/v1/users/1';
  assertError(await d.req('PATCH', url, { token: adminTok, body: { role: 'operator' } }), 409, 'conflict', 'role');
  assertError(await d.req('PATCH', url, { token: adminTok, body: { disabled: true } }), 409, 'conflict', 'disabled');
  assertError(await d.req('PATCH', url, { session: admin, body: { role: 'viewer' } }), 409, 'conflict', 'role');
  assertError(await d.req('DELETE', url, { token: adminTok }), 409, 'conflict');
  const one = await d.req('GET', url, { token: adminTok });
  assert.equal(one.json.role, 'admin');
  assert.equal(one.json.disabled, false);
  assert.equal((await d.req('GET', '/api/v1/me', { session: admin })).status, 200);

  // with a second enabled admin, the second may be demoted (the first remains)
  const second = await createUser({ username: unique('admin2'), role: 'admin', password: 'second-admin-pw' });
  const demoted = await d.req('PATCH', `/api/v1/users/${second.id}`, { token: adminTok, body: { role: 'operator' } });
  assert.equal(demoted.status, 200, demoted.text);
  // a disabled admin does not count
  const third = await createUser({ username: unique('admin3'), role: 'admin', password: 'third-admin-pw1' });
  assert.equal((await d.req('DELETE', `/api/v1/users/${third.id}`, { token: adminTok })).status, 204);
  assertError(await d.req('PATCH', url, { token: adminTok, body: { role: 'operator' } }), 409, 'conflict', 'role');
  assert.equal((await d.req('GET', url, { token: adminTok })).json.role, 'admin');
});

test('GET /users pages with limit and cursor: every user once, in id order, next_cursor null at the end', async () => {
  // make sure there are enough users for several pages
  while (await userCount() < 7) await createUser({ username: unique('page'), role: 'viewer', password: 'page-password-1' });
  const all = await d.req('GET', '/api/v1/users?limit=500&count=true', { token: adminTok });
  assert.equal(all.status, 200);
  const total = all.json.total;
  assert.equal(all.json.data.length, total);
  assert.equal(all.json.next_cursor, null);
  const allIds = all.json.data.map((u) => u.id);

  for (const limit of [1, 2, 3, total - 1, total]) {
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = new URLSearchParams({ limit: String(limit), count: 'true' });
      if (cursor) q.set('cursor', cursor);
      const r = await d.req('GET', `/api/v1/users?${q}`, { token: adminTok });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.total, total);
      assert.ok(r.json.data.length <= limit);
      assert.ok(r.json.data.length > 0, 'an empty page');
      r.json.data.forEach(assertUserShape);
      seen.push(...r.json.data.map((u) => u.id));
      cursor = r.json.next_cursor;
      if (cursor !== null) assert.equal(typeof cursor, 'string');
      assert.ok(++pages <= total + 1, 'pagination does not end');
    } while (cursor);
    assert.deepEqual(seen, allIds, `limit=${limit}`);
    assert.equal(new Set(seen).size, seen.length, 'duplicates');
    assert.equal(pages, Math.ceil(total / limit), `limit=${limit}`);
  }
  assert.deepEqual([...allIds].sort((a, b) => a - b), allIds, 'not in id order');
  // without count=true there is no total; the default limit is 50
  const plain = await d.req('GET', '/api/v1/users', { token: adminTok });
  assert.ok(!('total' in plain.json));
  assert.deepEqual(Object.keys(plain.json).sort(), ['data', 'next_cursor']);
  assert.equal(plain.json.data.length, Math.min(total, 50));
  assert.equal((await d.req('GET', '/api/v1/users?count=false', { token: adminTok })).status, 200);
  assert.equal((await d.req('GET', '/api/v1/users?cursor=', { token: adminTok })).status, 200);
});

test('GET /users refuses a bad limit, cursor or count with 422 naming it', async () => {
  for (const l of ['0', '501', '-1', 'abc', '1.5', '', '99999999999999999999']) {
    assertError(await d.req('GET', `/api/v1/users?limit=${encodeURIComponent(l)}`, { token: adminTok }), 422, 'validation_failed', 'limit');
  }
  assert.equal((await d.req('GET', '/api/v1/users?limit=500', { token: adminTok })).status, 200);
  const b64 = (s) => Buffer.from(s).toString('base64url');
  for (const c of ['garbage!!', 'bm90LWEtY3Vyc29y', b64('v2:5'), b64('v1:-5'), b64('v1:0'), b64('v1:abc'), 'x'.repeat(100), '%00']) {
    assertError(await d.req('GET', `/api/v1/users?cursor=${encodeURIComponent(c)}`, { token: adminTok }), 422, 'validation_failed', 'cursor');
  }
  assertError(await d.req('GET', '/api/v1/users?count=maybe', { token: adminTok }), 422, 'validation_failed', 'count');
  // a cursor that this API issued, past the end, is simply empty
  const end = await d.req('GET', `/api/v1/users?cursor=${b64('v1:99999999')}`, { token: adminTok });
  assert.equal(end.status, 200);
  assert.deepEqual(end.json, { data: [], next_cursor: null });
});
