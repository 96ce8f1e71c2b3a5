// The conventions every endpoint shares: the error shape, 404 and 405 with
// Allow, body limits (413, also for chunked bodies), 415, invalid JSON, bodies
// that are not objects, unknown fields, wrong types, duplicate keys, and
// Idempotency-Key replays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, httpRequest, rawHttp, auditAll, unique } from './lib.mjs';

const d = await fileDaemon();
d.adminSession = await d.login();
const admin = d.adminSession;
const adminTok = await d.adminToken();
const MiB = 1024 * 1024;

async function counts() {
  const u = await d.req('GET', '/api/v1/users?count=true&limit=1', { token: adminTok });
  const t = await d.req('GET', '/api/v1/tokens?count=true&limit=1', { token: adminTok });
  const a = await d.req('GET', '/api/v1/audit-log?count=true&limit=1', { token: adminTok });
  return { users: u.json.total, tokens: t.json.total, audit: a.json.total };
}

test('errors have one shape: {"error": {code, message, field?}} as JSON', async () => {
  const r = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'x', role: 'nope' } });
  assert.equal(r.status, 422);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(Object.keys(r.json), ['error']);
  assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'field', 'message']);
  assert.equal(r.json.error.code, 'validation_failed');
  assert.equal(r.json.error.field, 'role');
  // no field when no single field is at fault
  const nf = await d.req('GET', '/api/v1/nothing-here');
  assert.deepEqual(Object.keys(nf.json.error).sort(), ['code', 'message']);
  for (const code of [r.json.error.code, nf.json.error.code]) assert.match(code, /^[a-z]+(_[a-z]+)*$/);
});

test('unknown API paths are 404 not_found', async () => {
  for (const p of ['/api/v1/nope', '/api/v1/users/1/extra', '/api/v1/users/', '/api/v2/users', '/api', '/api/v1', '/api/v1/USERS', '/api/v1/tokens/1/2']) {
    for (const m of ['GET', 'POST', 'DELETE']) {
      const r = await d.req(m, p, { token: adminTok, body: m === 'POST' ? {} : undefined });
      assertError(r, 404, 'not_found');
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
  }
});

test('a wrong method on a known path is 405 with an Allow header', async () => {
  const cases = [
    ['PUT', '/api/v1/users', 'GET, HEAD, POST'],
    ['DELETE', '/api/v1/users', 'GET, HEAD, POST'],
    ['POST', '/api/v1/users/1', 'GET, HEAD, PATCH, DELETE'],
    ['PUT', '/api/v1/users/1', 'GET, HEAD, PATCH, DELETE'],
    ['DELETE', '/api/v1/me', 'GET, HEAD, PATCH'],
    ['POST', '/api/v1/me', 'GET, HEAD, PATCH'],
    ['GET', '/api/v1/auth/login', 'POST'],
    ['PUT', '/api/v1/auth/logout', 'POST'],
    ['PATCH', '/api/v1/tokens', 'GET, HEAD, POST'],
    ['POST', '/api/v1/tokens/5', 'GET, HEAD, DELETE'],
    ['DELETE', '/api/v1/audit-log', 'GET, HEAD'],
    ['GET', '/api/v1/admin/backup', 'POST'],
    ['DELETE', '/metrics', 'GET, HEAD'],
    ['PUT', '/healthz', 'GET, HEAD'],
    ['POST', '/api/v1/openapi.json', 'GET, HEAD'],
  ];
  for (const [m, p, allow] of cases) {
    // with and without credentials: the method is wrong either way
    for (const auth of [{ token: adminTok }, {}]) {
      const r = await d.req(m, p, { ...auth, body: ['POST', 'PUT', 'PATCH'].includes(m) ? {} : undefined });
      assertError(r, 405, 'method_not_allowed');
      assert.equal(r.headers.get('allow'), allow, `${m} ${p}`);
    }
  }
  // odd methods through a raw socket
  for (const m of ['OPTIONS', 'TRACE', 'BREW', 'PROPFIND']) {
    const r = await rawHttp(d.port, `${m} /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.equal(r.status, 405, `${m}: ${r.raw.slice(0, 200)}`);
    assert.equal(r.headers.allow, 'GET, HEAD, POST');
  }
});

test('a body over 1 MiB is 413 payload_too_large, by Content-Length and when sent chunked', async () => {
  const before = await counts();
  // Content-Length over the limit with Expect: 100-continue, or far over it:
  // refused before the body is read, and the connection closed.
  for (const [len, expect] of [[MiB + 1, true], [2 * MiB, true], [1e12, false]]) {
    const r = await rawHttp(d.port, `POST /api/v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${adminTok}\r\nContent-Type: application/json\r\n${expect ? 'Expect: 100-continue\r\n' : ''}Content-Length: ${len}\r\n\r\n`);
    assert.equal(r.status, 413, `Content-Length ${len}: ${r.raw.slice(0, 300)}`);
    assert.equal(JSON.parse(r.body).error.code, 'payload_too_large');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers.connection, 'close');
  }
  // a client that just sends a few MiB too many: the body is read and dropped,
  // so it sees the 413 (never a reset), and the connection stays open
  for (const size of [MiB + 1, 3 * MiB, 12 * MiB]) {
    const r = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: 'x'.repeat(size) });
    assertError(r, 413, 'payload_too_large');
    assert.notEqual(r.headers.get('connection'), 'close');
  }
  // chunked, no Content-Length: counted while it arrives
  const chunk = ' '.repeat(64 * 1024);
  const chunks = ['{"name":"chunked","role":"viewer"', ...Array(17).fill(chunk), '}'];
  const c = await httpRequest(d, 'POST', '/api/v1/tokens', { token: adminTok, body: chunks });
  assertError(c, 413, 'payload_too_large');
  // a PATCH too
  const pc = await httpRequest(d, 'PATCH', '/api/v1/users/1', { token: adminTok, body: ['{"display_name":"', 'y'.repeat(MiB), '"}'] });
  assertError(pc, 413, 'payload_too_large');
  // exactly 1 MiB is read and parsed (then refused for its content, here an unknown field)
  const head = '{"name":"fits","role":"viewer","pad":"';
  const exact = head + 'z'.repeat(MiB - head.length - 2) + '"}';
  assert.equal(Buffer.byteLength(exact), MiB);
  assertError(await d.req('POST', '/api/v1/tokens', { token: adminTok, body: exact }), 422, 'validation_failed', 'pad');
  const exactChunked = await httpRequest(d, 'POST', '/api/v1/tokens', { token: adminTok, body: [exact.slice(0, 1000), exact.slice(1000)] });
  assertError(exactChunked, 422, 'validation_failed', 'pad');
  assert.deepEqual(await counts(), before);
  assert.equal((await d.req('GET', '/healthz')).status, 200);
});

test('a body in another Content-Type is 415', async () => {
  const before = await counts();
  const body = JSON.stringify({ name: 'x', role: 'viewer' });
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/xml', 'json', '']) {
    const r = await d.req('POST', '/api/v1/tokens', { token: adminTok, body, headers: { 'Content-Type': ct } });
    assertError(r, 415, 'unsupported_media_type');
  }
  // parameters and case do not matter
  for (const ct of ['application/json; charset=utf-8', 'Application/JSON']) {
    const r = await d.req('POST', '/api/v1/tokens', { token: adminTok, body, headers: { 'Content-Type': ct } });
    assert.equal(r.status, 201, `${ct}: ${r.text}`);
  }
  assert.equal((await counts()).tokens, before.tokens + 2);
});

test('a body that is not JSON is 400 invalid_json; a missing body too', async () => {
  for (const body of ['{bad', '{"name": "x",}', "{'name':'x'}", '{"name":"x"} trailing', '{"name":"x"}{"a":1}', 'NaN', '{"a":01}', '\uFEFF{}', ' ']) {
    const r = await d.req('POST', '/api/v1/tokens', { token: adminTok, body });
    assertError(r, 400, 'invalid_json');
    assert.match(r.json.error.message, /JSON/);
  }
  assertError(await d.req('POST', '/api/v1/tokens', { token: adminTok }), 400, 'invalid_json');
  assertError(await d.req('PATCH', '/api/v1/users/1', { token: adminTok }), 400, 'invalid_json');
  assertError(await d.req('PATCH', '/api/v1/me', { session: admin, body: '{' }), 400, 'invalid_json');
});

test('JSON that is not an object is 422', async () => {
  for (const body of ['[]', '[{"name":"x","role":"viewer"}]', '"text"', '42', '-1.5', 'true', 'null']) {
    for (const [m, p, auth] of [['POST', '/api/v1/tokens', { token: adminTok }], ['POST', '/api/v1/users', { session: admin }], ['PATCH', '/api/v1/users/1', { token: adminTok }], ['PATCH', '/api/v1/me', { session: admin }], ['POST', '/api/v1/auth/login', {}], ['POST', '/api/v1/admin/backup', { token: adminTok }]]) {
      const r = await d.req(m, p, { ...auth, body });
      assertError(r, 422, 'validation_failed');
      assert.match(r.json.error.message, /object/, `${m} ${p} ${body}`);
    }
  }
});

test('duplicate keys are 400 invalid_json naming the key', async () => {
  const r = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: '{"name":"a","role":"viewer","name":"b"}' });
  assertError(r, 400, 'invalid_json', 'name');
  const r2 = await d.req('PATCH', '/api/v1/users/1', { token: adminTok, body: '{"role":"admin","role":"viewer"}' });
  assertError(r2, 400, 'invalid_json', 'role');
});

test('unknown fields and wrong types are 422 naming the field', async () => {
  const cases = [
    ['POST', '/api/v1/tokens', { name: 'x', role: 'viewer', scope: 'all' }, 'scope'],
    ['POST', '/api/v1/tokens', { name: ['x'], role: 'viewer' }, 'name'],
    ['POST', '/api/v1/tokens', { name: 'x', role: { r: 1 } }, 'role'],
    ['POST', '/api/v1/tokens', { name: 'x', role: 'viewer', expires_at: true }, 'expires_at'],
    ['POST', '/api/v1/users', { username: 'u1', role: 'viewer', password: 'long-enough-pw', email: 'a@b' }, 'email'],
    ['POST', '/api/v1/users', { username: true, role: 'viewer', password: 'long-enough-pw' }, 'username'],
    ['PATCH', '/api/v1/users/1', { disabled: 'false' }, 'disabled'],
    ['PATCH', '/api/v1/users/1', { display_name: { x: 1 } }, 'display_name'],
    ['PATCH', '/api/v1/users/1', { '': 1 }, ''],
    ['PATCH', '/api/v1/me', { display_name: 1.5 }, 'display_name'],
    ['PATCH', '/api/v1/me', { current_password: 5 }, 'current_password'],
    ['POST', '/api/v1/auth/logout', { all: true }, 'all'],
    ['POST', '/api/v1/admin/backup', { to: 'x' }, 'to'],
  ];
  const before = await counts();
  for (const [m, p, body, field] of cases) {
    const r = await d.req(m, p, { session: admin, body });
    assertError(r, 422, 'validation_failed', field);
  }
  assert.deepEqual(await counts(), before);
});

test('strings holding \\u0000 are 422 naming the field', async () => {
  const before = await counts();
  const r = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: '{"name":"nul\\u0000byte","role":"viewer"}' });
  assertError(r, 422, 'validation_failed', 'name');
  assertError(await d.req('POST', '/api/v1/users', { token: adminTok, body: '{"username":"admin\\u0000x","role":"viewer","password":"long-enough-pw"}' }), 422, 'validation_failed', 'username');
  assertError(await d.req('POST', '/api/v1/auth/login', { body: '{"username":"admin\\u0000","password":"x"}' }), 422, 'validation_failed', 'username');
  assertError(await d.req('PATCH', '/api/v1/users/1', { token: adminTok, body: '{"display_name":"\\u0000"}' }), 422, 'validation_failed', 'display_name');
  assert.deepEqual(await counts(), before);
});

test('Idempotency-Key: a repeat answers the first answer unchanged and changes nothing', async () => {
  const before = await counts();
  const key = unique('key');
  const body = { username: unique('idem'), role: 'viewer', password: 'idempotent-pw-1' };
  const first = await d.req('POST', '/api/v1/users', { session: admin, body, headers: { 'Idempotency-Key': key } });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  for (let i = 0; i < 3; i++) {
    const again = await d.req('POST', '/api/v1/users', { session: admin, body, headers: { 'Idempotency-Key': key } });
    assert.equal(again.status, 201);
    assert.equal(again.text, first.text, 'the replay is not byte for byte the first answer');
    assert.equal(again.headers.get('location'), first.headers.get('location'));
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.match(again.headers.get('content-type'), /^application\/json/);
  }
  const after = await counts();
  assert.equal(after.users, before.users + 1);
  assert.equal(after.audit, before.audit + 1);
  const rows = await auditAll(d, { action: 'user.create', target_id: String(first.json.id) });
  assert.equal(rows.length, 1);

  // the same key with another body, or on another path, is a mismatch and changes nothing
  assertError(await d.req('POST', '/api/v1/users', { session: admin, body: { ...body, role: 'admin' }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assertError(await d.req('POST', '/api/v1/tokens', { session: admin, body: { name: 'x', role: 'viewer' }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  // a body that differs only in spacing is another body, too
  assertError(await d.req('POST', '/api/v1/users', { session: admin, body: JSON.stringify(body, null, 1), headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assert.deepEqual(await counts(), after);
});

test('Idempotency-Key: an answer that was an error is replayed as that error', async () => {
  const key = unique('key');
  const body = { username: 'admin', role: 'viewer', password: 'taken-name-pw-1' };
  const first = await d.req('POST', '/api/v1/users', { token: adminTok, body, headers: { 'Idempotency-Key': key } });
  assertError(first, 409, 'conflict', 'username');
  const again = await d.req('POST', '/api/v1/users', { token: adminTok, body, headers: { 'Idempotency-Key': key } });
  assert.equal(again.status, 409);
  assert.equal(again.text, first.text);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  // a request refused before it ran (validation) does not use the key up
  const key2 = unique('key');
  const bad = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'k', role: 'bad' }, headers: { 'Idempotency-Key': key2 } });
  assertError(bad, 422, 'validation_failed', 'role');
  const good = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'k', role: 'viewer' }, headers: { 'Idempotency-Key': key2 } });
  assert.equal(good.status, 201, good.text);
});

test('an invalid Idempotency-Key header is 422 naming it', async () => {
  const before = await counts();
  for (const k of ['', 'x'.repeat(256), 'has space', 'tab\tinside', 'ümlaut']) {
    const r = await httpRequest(d, 'POST', '/api/v1/tokens', { token: adminTok, body: { name: 'x', role: 'viewer' }, headers: { 'Idempotency-Key': k } });
    assertError(r, 422, 'validation_failed', 'Idempotency-Key');
  }
  assert.equal((await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'ok', role: 'viewer' }, headers: { 'Idempotency-Key': 'x'.repeat(255) } })).status, 201);
  assert.equal((await counts()).tokens, before.tokens + 1);
});
