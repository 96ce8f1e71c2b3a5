// Login, sessions, CSRF, bearer tokens, logout, GET|PATCH /me and the role
// checks of every protected route. Failed logins are also limited per client
// address (5 in 15 minutes), so this file makes at most 4 of them; the limit
// itself is tested in ratelimit.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, ADMIN_PASSWORD, unique } from './lib.mjs';

const d = await fileDaemon();
d.adminSession = await d.login();
const admin = d.adminSession;
const adminTok = await d.adminToken();
const operatorTok = await d.token('operator', 'auth-operator');
const viewerTok = await d.token('viewer', 'auth-viewer');

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

async function tokenCount() {
  const r = await d.req('GET', '/api/v1/tokens?count=true&limit=1', { token: adminTok });
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

test('login answers the user and a CSRF token and sets an HttpOnly SameSite=Strict cookie (no Secure over HTTP)', async () => {
  const r = await d.req('POST', '/api/v1/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.user.username, 'admin');
  assert.equal(r.json.user.role, 'admin');
  assert.equal(r.json.user.disabled, false);
  assert.ok(!('password_hash' in r.json.user) && !('password' in r.json.user));
  assert.ok(!r.text.includes(ADMIN_PASSWORD));
  assert.equal(typeof r.json.csrf_token, 'string');
  assert.ok(r.json.csrf_token.length >= 20);
  assert.match(r.json.expires_at, RFC3339);
  assert.ok(Date.parse(r.json.expires_at) > Date.now());
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const set = r.headers.get('set-cookie');
  assert.match(set, /^scrm_session=[A-Za-z0-9_-]{20,};/);
  const attrs = set.split(';').map((a) => a.trim());
  assert.ok(attrs.includes('HttpOnly'), set);
  assert.ok(attrs.includes('SameSite=Strict'), set);
  assert.ok(attrs.includes('Path=/'), set);
  assert.ok(!attrs.some((a) => /^secure$/i.test(a)), `Secure flag over plain HTTP: ${set}`);
  // the cookie works and /me tells it is a session
  const me = await d.req('GET', '/api/v1/me', { session: { cookie: set.split(';')[0] } });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.auth, 'session');
  assert.equal(me.json.role, 'admin');
  assert.equal(me.json.user.username, 'admin');
  assert.equal(me.json.token, null);
  assert.equal(me.json.csrf_token, r.json.csrf_token);
});

test('wrong password and unknown user both get 401 with the same answer and no cookie', async () => {
  const wrong = await d.req('POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'not-the-password' } });
  const unknown = await d.req('POST', '/api/v1/auth/login', { body: { username: unique('nobody'), password: 'not-the-password' } });
  assertError(wrong, 401, 'unauthorized');
  assertError(unknown, 401, 'unauthorized');
  assert.equal(wrong.json.error.message, unknown.json.error.message);
  assert.equal(wrong.text, unknown.text);
  assert.equal(wrong.headers.get('set-cookie'), null);
  assert.equal(unknown.headers.get('set-cookie'), null);
});

test('login validates its body (these do not count as failed logins)', async () => {
  const url = '/api/v1/auth/login';
  assertError(await d.req('POST', url, { body: { username: 'admin' } }), 422, 'validation_failed', 'password');
  assertError(await d.req('POST', url, { body: { password: 'x' } }), 422, 'validation_failed', 'username');
  assertError(await d.req('POST', url, { body: { username: 5, password: 'x' } }), 422, 'validation_failed', 'username');
  assertError(await d.req('POST', url, { body: { username: 'admin', password: ADMIN_PASSWORD, remember: true } }), 422, 'validation_failed', 'remember');
  assertError(await d.req('POST', url, { body: '["admin"]' }), 422, 'validation_failed');
  assertError(await d.req('POST', url, { body: '{"username":' }), 400, 'invalid_json');
  assertError(await d.req('POST', url, { body: 'username=admin', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
  assertError(await d.req('POST', url), 400, 'invalid_json');
  assertError(await d.req('GET', url), 405, 'method_not_allowed');
});

test('cookie-authenticated writes need the X-CSRF-Token given at login', async () => {
  const before = await tokenCount();
  const cookieOnly = { cookie: admin.cookie };
  const wrongSameLength = admin.csrf.slice(0, -1) + (admin.csrf.endsWith('A') ? 'B' : 'A');
  const attempts = [
    ['POST', '/api/v1/tokens', { name: 'csrf', role: 'viewer' }],
    ['PATCH', '/api/v1/me', { display_name: 'csrf' }],
    ['POST', '/api/v1/users', { username: 'csrf-user', role: 'viewer', password: 'long-enough-password' }],
    ['PATCH', '/api/v1/users/1', { display_name: 'csrf' }],
    ['DELETE', '/api/v1/users/1', undefined],
    ['DELETE', '/api/v1/tokens/1', undefined],
    ['POST', '/api/v1/admin/backup', undefined],
    ['POST', '/api/v1/auth/logout', undefined],
  ];
  for (const [m, p, body] of attempts) {
    for (const headers of [{}, { 'X-CSRF-Token': 'wrong' }, { 'X-CSRF-Token': wrongSameLength }, { 'X-CSRF-Token': '' }]) {
      const r = await d.req(m, p, { session: cookieOnly, body, headers });
      assertError(r, 403, 'forbidden', 'X-CSRF-Token');
    }
  }
  assert.equal(await tokenCount(), before, 'a write without CSRF token went through');
  // the session survived (the logout above was refused) and reads need no CSRF token
  const me = await d.req('GET', '/api/v1/me', { session: cookieOnly });
  assert.equal(me.status, 200);
  // with the right token the write goes through
  const ok = await d.req('POST', '/api/v1/tokens', { session: admin, body: { name: 'csrf-ok', role: 'viewer' } });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(await tokenCount(), before + 1);
});

test('bearer-token writes need no CSRF token', async () => {
  const r = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'bearer-write', role: 'viewer' } });
  assert.equal(r.status, 201, r.text);
  const r2 = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'bearer-write-2', role: 'viewer' }, headers: { 'X-CSRF-Token': 'irrelevant' } });
  assert.equal(r2.status, 201, r2.text);
});

test('bad credentials get 401 with WWW-Authenticate', async () => {
  const cases = [
    { headers: { Authorization: 'Bearer scrm_this-is-not-a-token' } },
    { headers: { Authorization: 'Bearer ' } },
    { headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` } },
    { headers: { Authorization: `Bearer ${'x'.repeat(300)}` } },
    { headers: { Authorization: adminTok } },
    { headers: { Cookie: 'scrm_session=not-a-session' } },
    { headers: { Cookie: 'scrm_session=' } },
    { headers: { Cookie: `scrm_session=${'a'.repeat(500)}` } },
    { headers: { Cookie: 'other=1' } },
    {},
  ];
  for (const c of cases) {
    const r = await d.req('GET', '/api/v1/me', c);
    assertError(r, 401, 'unauthorized');
    assert.match(r.headers.get('www-authenticate') || '', /^Bearer realm=/, JSON.stringify(c));
  }
  // a bad bearer token is not rescued by a good cookie
  const both = await d.req('GET', '/api/v1/me', { headers: { Authorization: 'Bearer scrm_bad', Cookie: admin.cookie } });
  assertError(both, 401, 'unauthorized');
});

test('every protected route: 401 without credentials, 403 for a role below the one it needs', async () => {
  const adminRoutes = [
    ['GET', '/api/v1/users'], ['POST', '/api/v1/users', { username: 'zz', role: 'viewer', password: 'long-enough-pw' }],
    ['GET', '/api/v1/users/1'], ['PATCH', '/api/v1/users/1', { display_name: 'x' }], ['DELETE', '/api/v1/users/1'],
    ['GET', '/api/v1/tokens'], ['POST', '/api/v1/tokens', { name: 'x', role: 'admin' }], ['GET', '/api/v1/tokens/1'], ['DELETE', '/api/v1/tokens/1'],
    ['GET', '/api/v1/audit-log'], ['POST', '/api/v1/admin/backup'],
  ];
  const viewerRoutes = [['GET', '/metrics'], ['GET', '/api/v1/me'], ['PATCH', '/api/v1/me', { display_name: 'x' }]];
  const before = await tokenCount();
  for (const [m, p, body] of [...adminRoutes, ...viewerRoutes]) {
    const r = await d.req(m, p, { body });
    assertError(r, 401, 'unauthorized');
    assert.match(r.headers.get('www-authenticate') || '', /^Bearer/, `${m} ${p}`);
  }
  for (const tok of [viewerTok, operatorTok]) {
    for (const [m, p, body] of adminRoutes) {
      const r = await d.req(m, p, { body, token: tok });
      assertError(r, 403, 'forbidden');
      assert.match(r.json.error.message, /admin/);
    }
    assert.equal((await d.req('GET', '/metrics', { token: tok })).status, 200);
    assert.equal((await d.req('GET', '/api/v1/me', { token: tok })).status, 200);
  }
  assert.equal(await tokenCount(), before);
  const users = await d.req('GET', '/api/v1/users/1', { token: adminTok });
  assert.equal(users.json.disabled, false);
  assert.equal(users.json.display_name, 'Administrator');
});

test('GET /me for a token principal: user null and token {id, name}', async () => {
  const c = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'me-probe', role: 'operator' } });
  assert.equal(c.status, 201);
  const r = await d.req('GET', '/api/v1/me', { token: c.json.token });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { role: 'operator', auth: 'token', user: null, token: { id: c.json.id, name: 'me-probe' } });
  // a token has no profile to change
  assertError(await d.req('PATCH', '/api/v1/me', { token: c.json.token, body: { display_name: 'x' } }), 403, 'forbidden');
});

test('logout ends the session and clears the cookie', async () => {
  const s = await d.login();
  assert.equal((await d.req('GET', '/api/v1/me', { session: s })).status, 200);
  assertError(await d.req('POST', '/api/v1/auth/logout', { session: s, body: { extra: 1 } }), 422, 'validation_failed', 'extra');
  const r = await d.req('POST', '/api/v1/auth/logout', { session: s });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  const set = r.headers.get('set-cookie');
  assert.match(set, /^scrm_session=;/);
  assert.match(set, /Max-Age=0/);
  assertError(await d.req('GET', '/api/v1/me', { session: s }), 401, 'unauthorized');
  assertError(await d.req('POST', '/api/v1/tokens', { session: s, body: { name: 'x', role: 'viewer' } }), 401, 'unauthorized');
  // logging out without a session is harmless, and other sessions live on
  const anon = await d.req('POST', '/api/v1/auth/logout');
  assert.equal(anon.status, 204);
  assert.equal((await d.req('GET', '/api/v1/me', { session: admin })).status, 200);
  // a token "logout" does not revoke the token
  assert.equal((await d.req('POST', '/api/v1/auth/logout', { token: viewerTok })).status, 204);
  assert.equal((await d.req('GET', '/api/v1/me', { token: viewerTok })).status, 200);
});

test('a revoked token gets 401', async () => {
  const c = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'to-revoke', role: 'viewer' } });
  assert.equal((await d.req('GET', '/api/v1/me', { token: c.json.token })).status, 200);
  assert.equal((await d.req('DELETE', `/api/v1/tokens/${c.json.id}`, { token: adminTok })).status, 204);
  const r = await d.req('GET', '/api/v1/me', { token: c.json.token });
  assertError(r, 401, 'unauthorized');
  assert.match(r.json.error.message, /revoked/);
});

test('a token with expires_at in the past is refused at creation', async () => {
  const before = await tokenCount();
  assertError(await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'old', role: 'viewer', expires_at: '2020-01-01T00:00:00Z' } }), 422, 'validation_failed', 'expires_at');
  const justNow = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  assertError(await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'old', role: 'viewer', expires_at: justNow } }), 422, 'validation_failed', 'expires_at');
  assert.equal(await tokenCount(), before);
});

test('a viewer may change their own profile; a password change needs current_password and ends their other sessions', async () => {
  const name = unique('viewer');
  const pw = 'viewer-password-1';
  const created = await d.req('POST', '/api/v1/users', { token: adminTok, body: { username: name, role: 'viewer', password: pw } });
  assert.equal(created.status, 201, created.text);
  const a = await d.login(name, pw);
  const b = await d.login(name, pw);
  assert.equal(a.user.role, 'viewer');

  const dn = await d.req('PATCH', '/api/v1/me', { session: a, body: { display_name: 'Vera Viewer' } });
  assert.equal(dn.status, 200, dn.text);
  assert.equal(dn.json.display_name, 'Vera Viewer');
  assert.equal(dn.json.username, name);
  assert.ok(!/password/i.test(dn.text));
  // a viewer still cannot do admin work
  assertError(await d.req('POST', '/api/v1/tokens', { session: a, body: { name: 'x', role: 'admin' } }), 403, 'forbidden');
  assertError(await d.req('PATCH', `/api/v1/users/${created.json.id}`, { session: a, body: { role: 'admin' } }), 403, 'forbidden');

  const newPw = 'a-brand-new-password';
  const url = '/api/v1/me';
  assertError(await d.req('PATCH', url, { session: a, body: { password: newPw } }), 422, 'validation_failed', 'current_password');
  assertError(await d.req('PATCH', url, { session: a, body: { password: newPw, current_password: 'wrong-password!' } }), 422, 'validation_failed', 'current_password');
  assertError(await d.req('PATCH', url, { session: a, body: { password: 'short', current_password: pw } }), 422, 'validation_failed', 'password');
  assertError(await d.req('PATCH', url, { session: a, body: { display_name: 'bell\u0007' } }), 422, 'validation_failed', 'display_name');
  assertError(await d.req('PATCH', url, { session: a, body: { display_name: 'x'.repeat(101) } }), 422, 'validation_failed', 'display_name');
  assertError(await d.req('PATCH', url, { session: a, body: { role: 'admin' } }), 422, 'validation_failed', 'role');
  assertError(await d.req('PATCH', url, { session: a, body: { display_name: 7 } }), 422, 'validation_failed', 'display_name');
  // none of that changed the password: b still works
  assert.equal((await d.req('GET', '/api/v1/me', { session: b })).status, 200);

  const ok = await d.req('PATCH', url, { session: a, body: { password: newPw, current_password: pw } });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(!ok.text.includes(newPw) && !/password_hash/.test(ok.text));
  assertError(await d.req('GET', '/api/v1/me', { session: b }), 401, 'unauthorized');
  const still = await d.req('GET', '/api/v1/me', { session: a });
  assert.equal(still.status, 200, 'the session that changed the password must live on');
  assert.equal(still.json.user.display_name, 'Vera Viewer');
  assertError(await d.req('POST', '/api/v1/auth/login', { body: { username: name, password: pw } }), 401, 'unauthorized');
  const fresh = await d.login(name, newPw);
  assert.equal(fresh.user.username, name);
  // the change is in the audit log without the password
  const log = await d.req('GET', `/api/v1/audit-log?action=user.update_self&target_id=${created.json.id}`, { token: adminTok });
  assert.equal(log.status, 200);
  assert.equal(log.json.data.length, 2);
  assert.deepEqual(log.json.data[0].detail.changed, ['password']);
  assert.deepEqual(log.json.data[1].detail.changed, ['display_name']);
  assert.ok(!log.text.includes(newPw) && !log.text.includes(pw));
});

test('the admin may also use PATCH /me with a merge-patch content type', async () => {
  const r = await d.req('PATCH', '/api/v1/me', { session: admin, body: JSON.stringify({ display_name: 'Chief Admin' }), headers: { 'Content-Type': 'application/merge-patch+json' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.display_name, 'Chief Admin');
  const r2 = await d.req('PATCH', '/api/v1/me', { session: admin, body: { display_name: 'Administrator' } });
  assert.equal(r2.status, 200);
});

test('GET /auth/session: who is signed in, and 200 with nulls (not 401) when nobody is', async () => {
  const none = { user: null, role: null, auth: null, token: null };
  let r = await d.req('GET', '/api/v1/auth/session');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, none);
  r = await d.req('GET', '/api/v1/auth/session', { token: 'scrm_not-a-token' });
  assert.deepEqual([r.status, r.json], [200, none], 'a bad token is nobody');
  r = await d.req('GET', '/api/v1/auth/session', { headers: { Cookie: 'scrm_session=forged' } });
  assert.deepEqual([r.status, r.json], [200, none], 'a forged cookie is nobody');
  r = await d.req('GET', '/api/v1/auth/session', { session: admin });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.user.username, 'admin');
  assert.equal(r.json.auth, 'session');
  assert.equal(r.json.csrf_token, admin.csrf, 'a reloaded dashboard gets its CSRF token back');
  const me = await d.req('GET', '/api/v1/me', { session: admin });
  assert.deepEqual(r.json, me.json, 'signed in, it answers what /me answers');
  r = await d.req('GET', '/api/v1/auth/session', { token: viewerTok });
  assert.deepEqual([r.json.role, r.json.auth, r.json.user], ['viewer', 'token', null]);
  assertError(await d.req('POST', '/api/v1/auth/session', { session: admin, body: {} }), 405, 'method_not_allowed');
});
