// Failed logins are limited per user name and per client address: after 5
// failures in the window the next attempt gets 429 rate_limited with a
// Retry-After header, even with the right password. A daemon of its own, since
// the limit would lock out the other files' logins. Other client addresses are
// 127.0.0.x sources (Linux routes all of 127/8 to loopback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, httpRequest, assertError, auditAll, ADMIN_PASSWORD, sleep } from './lib.mjs';

const d = await fileDaemon();
d.adminSession = await d.login();
const adminTok = await d.adminToken();
const VICTIM_PW = 'victim-password-1';
const victim = await d.req('POST', '/api/v1/users', { token: adminTok, body: { username: 'victim', role: 'operator', password: VICTIM_PW } });
assert.equal(victim.status, 201, victim.text);

const login = (username, password, localAddress) =>
  httpRequest(d, 'POST', '/api/v1/auth/login', { body: { username, password }, localAddress });

function assertLimited(r) {
  assertError(r, 429, 'rate_limited');
  const ra = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 900, `Retry-After ${r.headers.get('retry-after')}`);
  assert.equal(r.headers.get('set-cookie'), null);
}

test('after 5 failed logins for one user name the next attempt is 429 with Retry-After', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await login('victim', `wrong-password-${i}`, '127.0.0.1');
    assertError(r, 401, 'unauthorized');
  }
  // even the right password is refused now
  assertLimited(await login('victim', VICTIM_PW, '127.0.0.1'));
  // from another address: the user name is still limited, whatever its case
  assertLimited(await login('victim', VICTIM_PW, '127.0.0.2'));
  assertLimited(await login('VICTIM', VICTIM_PW, '127.0.0.2'));
});

test('the limit also applies per client address, and only there', async () => {
  // 127.0.0.1 made 5 failures: even the admin cannot log in from it
  assertLimited(await login('admin', ADMIN_PASSWORD, '127.0.0.1'));
  // from another address the admin can
  const ok = await login('admin', ADMIN_PASSWORD, '127.0.0.3');
  assert.equal(ok.status, 200, ok.text);
  assert.match(ok.headers.get('set-cookie'), /^scrm_session=/);
  // sessions and tokens from the limited address keep working
  assert.equal((await d.req('GET', '/api/v1/me', { session: d.adminSession })).status, 200);
  assert.equal((await d.req('GET', '/api/v1/me', { token: adminTok })).status, 200);
});

test('each failed login is in the audit log as auth.login_failed; the refused ones are not', async () => {
  let rows = [];
  for (let i = 0; i < 100; i++) { // written off the request path: wait for it
    rows = await auditAll(d, { action: 'auth.login_failed' });
    if (rows.length >= 5) break;
    await sleep(20);
  }
  assert.equal(rows.length, 5, JSON.stringify(rows));
  for (const row of rows) {
    assert.equal(row.actor, 'anonymous');
    assert.equal(row.status, 401);
    assert.equal(row.ip, '127.0.0.1');
    assert.equal(row.target_type, 'user');
    assert.equal(row.target_id, victim.json.id);
    assert.equal(row.method, 'POST');
    assert.equal(row.path, '/api/v1/auth/login');
    assert.deepEqual(row.detail, { username: 'victim' });
    assert.ok(!JSON.stringify(row).includes('wrong-password'));
  }
});

test('a successful login resets the count for that user name', async () => {
  const pw = 'resetter-password-1';
  const u = await d.req('POST', '/api/v1/users', { token: adminTok, body: { username: 'resetter', role: 'viewer', password: pw } });
  assert.equal(u.status, 201);
  // every attempt from its own address, so that only the per-user count matters
  let ip = 10;
  for (let i = 0; i < 4; i++) assertError(await login('resetter', 'wrong-password', `127.0.0.${ip++}`), 401, 'unauthorized');
  assert.equal((await login('resetter', pw, `127.0.0.${ip++}`)).status, 200);
  for (let i = 0; i < 4; i++) assertError(await login('resetter', 'wrong-password', `127.0.0.${ip++}`), 401, 'unauthorized');
  // 4 failures since the success: one more is still judged on the password
  assertError(await login('resetter', 'wrong-password', `127.0.0.${ip++}`), 401, 'unauthorized');
  // and that was the fifth: now limited
  assertLimited(await login('resetter', pw, `127.0.0.${ip++}`));
});
