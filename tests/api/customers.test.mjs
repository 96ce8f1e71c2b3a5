// /api/v1/customers: profiles (phone normalisation, uniqueness, validation),
// merge-patch updates, search and filters, pagination, erasure, merges, the
// timeline, Idempotency-Key and the audit rows of every customer write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, auditAll, sqlite, sqliteJson, listAll, isoSeconds, unique } from './lib.mjs';

const d = await fileDaemon();
const adminTok = await d.adminToken();
const opTok = await d.token('operator', 'cust-operator');
const viewerTok = await d.token('viewer', 'cust-viewer');
const op = { token: opTok };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const CUSTOMER_KEYS = ['attrs', 'birthday', 'created_at', 'email', 'first_order_at', 'gender', 'id', 'last_order_at',
  'name', 'order_count', 'owner_user_id', 'phone', 'points_balance', 'source_channel_id', 'stage', 'stage_manual',
  'tags', 'tier', 'tier_id', 'tier_override_until', 'total_spent_cents', 'unionid', 'updated_at',
  'wallet_balance_cents'];

// A fresh mainland mobile number (national form) for every call.
let seq = 0;
const newPhone = (prefix = '1370') => `${prefix}${String(1000000 + ++seq).slice(-7)}`;

async function create(body, auth = op) {
  const r = await d.req('POST', '/api/v1/customers', { ...auth, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function get(id) {
  const r = await d.req('GET', `/api/v1/customers/${id}`, { token: viewerTok });
  assert.equal(r.status, 200, r.text);
  return r.json;
}
async function patch(id, body) {
  const r = await d.req('PATCH', `/api/v1/customers/${id}`, { ...op, body });
  assert.equal(r.status, 200, r.text);
  return r.json;
}
async function order(body) {
  const r = await d.req('POST', '/api/v1/orders', { ...op, body: { platform: 'tmall', paid_at: '2026-03-01T10:00:00Z', ...body } });
  assert.ok(r.status === 201 || r.status === 200, r.text);
  return r.json;
}
async function total(query = '') {
  const r = await d.req('GET', `/api/v1/customers?count=true&limit=1${query}`, { token: viewerTok });
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}
async function timeline(id) {
  return (await listAll(d, `/api/v1/customers/${id}/timeline`, { token: viewerTok })).items;
}
const ids = (list) => list.map((c) => c.id);
async function search(q, extra = '') {
  return (await listAll(d, `/api/v1/customers?q=${encodeURIComponent(q)}${extra}`, { token: viewerTok }, { count: true })).items;
}

function assertCustomerShape(c) {
  assert.deepEqual(Object.keys(c).sort(), CUSTOMER_KEYS);
  assert.equal(typeof c.id, 'number');
  assert.match(c.created_at, RFC3339);
  assert.match(c.updated_at, RFC3339);
  assert.equal(typeof c.attrs, 'object');
  assert.ok(Array.isArray(c.tags));
}

test('POST /customers creates a profile: 201, Location, every field, defaults', async () => {
  const phone = newPhone();
  const r = await d.req('POST', '/api/v1/customers', { ...op, body: {
    name: '王小明', phone, email: 'wxm@example.com', unionid: unique('oU'), gender: 'm', birthday: '1990-05-17',
    attrs: { city: '杭州', vip: true, sizes: [38, 39], nested: { a: 1 } },
  } });
  assert.equal(r.status, 201, r.text);
  const c = r.json;
  assertCustomerShape(c);
  assert.equal(r.headers.get('location'), `/api/v1/customers/${c.id}`);
  assert.equal(c.name, '王小明');
  assert.equal(c.phone, phone);
  assert.equal(c.email, 'wxm@example.com');
  assert.equal(c.gender, 'm');
  assert.equal(c.birthday, '1990-05-17');
  assert.deepEqual(c.attrs, { city: '杭州', vip: true, sizes: [38, 39], nested: { a: 1 } });
  assert.equal(c.stage, 'added');
  assert.equal(c.stage_manual, false);
  assert.deepEqual([c.order_count, c.total_spent_cents, c.points_balance, c.wallet_balance_cents], [0, 0, 0, 0]);
  assert.deepEqual([c.first_order_at, c.last_order_at, c.source_channel_id, c.owner_user_id], [null, null, null, null]);
  assert.deepEqual(c.tags, []);
  assert.equal(c.created_at, c.updated_at);
  // a viewer reads it, exactly as the write answered
  assert.deepEqual(await get(c.id), c);
  // an empty body is a profile with nothing known yet
  const bare = await create({});
  assertCustomerShape(bare);
  assert.deepEqual([bare.name, bare.phone, bare.email, bare.unionid, bare.birthday, bare.gender], [null, null, null, null, null, 'u']);
  assert.deepEqual(bare.attrs, {});
  // explicit nulls are the same as leaving fields out
  const nulls = await create({ name: null, phone: null, email: null, unionid: null, birthday: null, attrs: null, source_channel_id: null, owner_user_id: null });
  assert.deepEqual([nulls.name, nulls.phone, nulls.attrs, nulls.source_channel_id], [null, null, {}, null]);
});

test('phones are normalised: spaces, dashes, dots, brackets, +86 / 0086 / 86 before a mainland mobile', async () => {
  const cases = [
    ['+86 138-0013-8000', '13800138000'],
    ['0086 138 0013 8001', '13800138001'],
    ['86-138-0013-8002', '13800138002'],
    ['8613800138003', '13800138003'],
    ['(138) 0013.8004', '13800138004'],
    ['+8613800138005', '13800138005'],
    ['+1 (415) 555-0100', '+14155550100'],
    ['+86 10 8888 6666', '1088886666'],
    ['010-8888-7777', '01088887777'],
    ['12345', '12345'],
  ];
  for (const [typed, stored] of cases) {
    const c = await create({ phone: typed });
    assert.equal(c.phone, stored, typed);
    assert.equal((await get(c.id)).phone, stored);
  }
});

test('every customer route needs auth (401); a viewer reads but gets 403 on every write', async () => {
  const c = await create({ name: 'Auth Target', phone: newPhone() });
  const routes = [
    ['GET', '/api/v1/customers'], ['GET', `/api/v1/customers/${c.id}`], ['GET', `/api/v1/customers/${c.id}/timeline`],
    ['POST', '/api/v1/customers', { name: 'x' }], ['PATCH', `/api/v1/customers/${c.id}`, { name: 'x' }],
    ['DELETE', `/api/v1/customers/${c.id}`], ['POST', '/api/v1/customers/merge', { into: c.id, from: c.id + 1 }],
    ['POST', `/api/v1/customers/${c.id}/tags`, { names: ['x'] }], ['DELETE', `/api/v1/customers/${c.id}/tags/1`],
  ];
  for (const [m, p, body] of routes) {
    const r = await d.req(m, p, { body });
    assertError(r, 401, 'unauthorized');
    assert.ok(r.headers.get('www-authenticate'), `${m} ${p}`);
    assertError(await d.req(m, p, { body, token: 'scrm_not-a-real-token' }), 401, 'unauthorized');
    if (m === 'GET') assert.equal((await d.req(m, p, { token: viewerTok })).status, 200, `${m} ${p}`);
    else assertError(await d.req(m, p, { body, token: viewerTok }), 403, 'forbidden');
  }
  // nothing changed
  assert.deepEqual(await get(c.id), c);
  // an admin may do customer work
  assert.equal((await d.req('PATCH', `/api/v1/customers/${c.id}`, { token: adminTok, body: { gender: 'f' } })).status, 200);
  // a cookie session writes with its CSRF token, and not without
  const s = await d.login();
  assertError(await d.req('POST', '/api/v1/customers', { session: { cookie: s.cookie }, body: { name: 'no csrf' } }), 403, 'forbidden', 'X-CSRF-Token');
  assert.equal((await d.req('POST', '/api/v1/customers', { session: s, body: { name: 'with csrf' } })).status, 201);
});

test('malformed bodies: 400 bad JSON, 415 other types, 422 non-objects, unknown fields, wrong types and NUL, 413 oversize', async () => {
  const c = await create({ name: 'Malformed Target', phone: newPhone() });
  const before = await total();
  const writes = [['POST', '/api/v1/customers'], ['PATCH', `/api/v1/customers/${c.id}`],
    ['POST', '/api/v1/customers/merge'], ['POST', `/api/v1/customers/${c.id}/tags`]];
  for (const [m, p] of writes) {
    for (const bad of ['{', '{"name": }', '{"name": "x",}', "{'name': 'x'}", 'nul', '{"a":1}{"b":2}']) {
      assertError(await d.req(m, p, { ...op, body: bad }), 400, 'invalid_json');
    }
    assertError(await d.req(m, p, { ...op, body: '{"name":"a","name":"b"}' }), 400, 'invalid_json');
    assertError(await d.req(m, p, { ...op }), 400, 'invalid_json'); // no body at all
    assertError(await d.req(m, p, { ...op, body: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
    for (const v of ['[]', '"x"', '42', 'null', 'true']) assertError(await d.req(m, p, { ...op, body: v }), 422, 'validation_failed');
    assertError(await d.req(m, p, { ...op, body: { surprise: 1 } }), 422, 'validation_failed', 'surprise');
    const big = { name: 'x'.repeat(1024 * 1024 + 10) };
    assertError(await d.req(m, p, { ...op, body: big }), 413, 'payload_too_large');
  }
  // wrong types and NUL on the customer fields, by POST and PATCH
  const typeCases = [
    [{ name: 5 }, 'name'], [{ name: ['a'] }, 'name'], [{ phone: 13800138000 }, 'phone'], [{ email: true }, 'email'],
    [{ unionid: {} }, 'unionid'], [{ gender: null }, 'gender'], [{ gender: 1 }, 'gender'], [{ birthday: 19900517 }, 'birthday'],
    [{ source_channel_id: '1' }, 'source_channel_id'], [{ source_channel_id: 1.5 }, 'source_channel_id'],
    [{ owner_user_id: true }, 'owner_user_id'], [{ stage: null }, 'stage'], [{ stage: 3 }, 'stage'],
    [{ attrs: [] }, 'attrs'], [{ attrs: 'x' }, 'attrs'], [{ attrs: 1 }, 'attrs'],
    [{ name: 'a\u0000b' }, 'name'], [{ phone: '138\u000000138000' }, 'phone'], [{ attrs: { k: 'v\u0000' } }, 'attrs.k'],
    [{ tags: ['x'] }, 'tags'], [{ id: 5 }, 'id'], [{ order_count: 3 }, 'order_count'], [{ stage_manual: true }, 'stage_manual'],
    [{ created_at: '2026-01-01T00:00:00Z' }, 'created_at'], [{ points_balance: 100 }, 'points_balance'],
  ];
  for (const [body, field] of typeCases) {
    assertError(await d.req('POST', '/api/v1/customers', { ...op, body }), 422, 'validation_failed', field);
    assertError(await d.req('PATCH', `/api/v1/customers/${c.id}`, { ...op, body }), 422, 'validation_failed', field);
  }
  assert.equal(await total(), before, 'a refused request created a customer');
  assert.deepEqual(await get(c.id), c, 'a refused PATCH changed the customer');
});

test('field rules: name, phone, email, unionid, gender, birthday, stage, attrs keys, 422 naming the field', async () => {
  const before = await total();
  const c = await create({ name: 'Rules Target' });
  const cases = [
    [{ name: '' }, 'name'], [{ name: 'x'.repeat(101) }, 'name'], [{ name: 'tab\there' }, 'name'], [{ name: 'bell\u0007' }, 'name'],
    [{ phone: 'abc' }, 'phone'], [{ phone: '138-abc-0000' }, 'phone'], [{ phone: '1234' }, 'phone'], [{ phone: '' }, 'phone'],
    [{ phone: '+86' }, 'phone'], [{ phone: '1'.repeat(21) }, 'phone'], [{ phone: '12012345678' }, 'phone'],
    [{ phone: '10012345678' }, 'phone'], [{ phone: '138 0013 8000 ext 5' }, 'phone'], [{ phone: '++8613800138000' }, 'phone'],
    [{ phone: '138+00138000' }, 'phone'], [{ phone: '1'.repeat(65) }, 'phone'],
    [{ email: 'nope' }, 'email'], [{ email: '@example.com' }, 'email'], [{ email: 'a@b' }, 'email'], [{ email: 'a b@example.com' }, 'email'],
    [{ email: 'a@b@example.com' }, 'email'], [{ email: '' }, 'email'],
    [{ unionid: '' }, 'unionid'], [{ unionid: 'has space' }, 'unionid'], [{ unionid: 'x'.repeat(129) }, 'unionid'],
    [{ gender: 'x' }, 'gender'], [{ gender: 'M' }, 'gender'], [{ gender: '' }, 'gender'], [{ gender: 'male' }, 'gender'],
    [{ birthday: '2023-02-29' }, 'birthday'], [{ birthday: '--13-01' }, 'birthday'], [{ birthday: '--02-30' }, 'birthday'],
    [{ birthday: '--00-10' }, 'birthday'], [{ birthday: '1899-12-31' }, 'birthday'], [{ birthday: '2024/01/01' }, 'birthday'],
    [{ birthday: '01-01' }, 'birthday'], [{ birthday: '1990-5-7' }, 'birthday'], [{ birthday: '' }, 'birthday'],
    [{ birthday: '1990-05-17T00:00:00Z' }, 'birthday'], [{ birthday: '--4-01' }, 'birthday'],
    [{ stage: 'vip' }, 'stage'], [{ stage: 'Added' }, 'stage'], [{ stage: '' }, 'stage'],
    [{ attrs: { 'bad key': 1 } }, 'attrs'], [{ attrs: { '': 1 } }, 'attrs'], [{ attrs: { ['k'.repeat(65)]: 1 } }, 'attrs'],
    [{ attrs: { 'ключ': 1 } }, 'attrs'], [{ attrs: { big: 'x'.repeat(17000) } }, 'attrs'],
    [{ source_channel_id: 0 }, 'source_channel_id'], [{ source_channel_id: -1 }, 'source_channel_id'],
    [{ source_channel_id: 999999 }, 'source_channel_id'], [{ owner_user_id: 0 }, 'owner_user_id'],
    [{ owner_user_id: 999999 }, 'owner_user_id'],
  ];
  for (const [body, field] of cases) {
    const r = await d.req('POST', '/api/v1/customers', { ...op, body });
    assertError(r, 422, 'validation_failed', field);
    assertError(await d.req('PATCH', `/api/v1/customers/${c.id}`, { ...op, body }), 422, 'validation_failed', field);
  }
  assert.equal(await total(), before + 1);
  assert.deepEqual(await get(c.id), c);
  // accepted birthdays: full dates (also 29 February of a leap year) and year-less ones
  for (const b of ['1990-05-17', '--05-17', '--02-29', '2024-02-29', '1900-01-01', '--12-31']) {
    assert.equal((await patch(c.id, { birthday: b })).birthday, b);
    assert.equal((await get(c.id)).birthday, b);
  }
  const months = sqliteJson(d.db, `SELECT birth_month, birth_day FROM customers WHERE id = ${c.id}`);
  assert.deepEqual(months, [{ birth_month: 12, birth_day: 31 }]);
  // 100 characters of Chinese are a name of 100 characters, 300 bytes
  assert.equal((await patch(c.id, { name: '名'.repeat(100) })).name, '名'.repeat(100));
});

test('phone and unionid belong to one live customer: 409 conflict naming the field, with the existing id', async () => {
  const phone = newPhone();
  const unionid = unique('oUnique');
  const a = await create({ name: 'First', phone, unionid });
  const before = await total();
  for (const typed of [phone, `+86 ${phone.slice(0, 3)}-${phone.slice(3, 7)}-${phone.slice(7)}`, `0086${phone}`]) {
    const r = await d.req('POST', '/api/v1/customers', { ...op, body: { name: 'Second', phone: typed } });
    assertError(r, 409, 'conflict', 'phone');
    assert.equal(r.json.error.id, a.id);
  }
  const u = await d.req('POST', '/api/v1/customers', { ...op, body: { name: 'Second', unionid } });
  assertError(u, 409, 'conflict', 'unionid');
  assert.equal(u.json.error.id, a.id);
  assert.equal(await total(), before);
  // the same through PATCH on another customer, which stays as it was
  const b = await create({ name: 'Other', phone: newPhone() });
  const p1 = await d.req('PATCH', `/api/v1/customers/${b.id}`, { ...op, body: { name: 'Renamed', phone } });
  assertError(p1, 409, 'conflict', 'phone');
  assert.equal(p1.json.error.id, a.id);
  const p2 = await d.req('PATCH', `/api/v1/customers/${b.id}`, { ...op, body: { unionid } });
  assertError(p2, 409, 'conflict', 'unionid');
  assert.equal(p2.json.error.id, a.id);
  assert.deepEqual(await get(b.id), b);
  // a customer may be patched with its own phone and unionid
  assert.equal((await patch(a.id, { phone: `+86${phone}`, unionid })).phone, phone);
  // once the first is erased, phone and unionid are free again
  assert.equal((await d.req('DELETE', `/api/v1/customers/${a.id}`, op)).status, 204);
  const again = await create({ name: 'Reuse', phone, unionid });
  assert.equal(again.phone, phone);
  assert.equal(again.unionid, unionid);
});

test('PATCH is a JSON merge patch: absent keeps, null clears, attrs merged per RFC 7386', async () => {
  const ch = await channel('patch-channel');
  const c = await create({ name: '李雷', phone: newPhone(), email: 'lilei@example.com', unionid: unique('oP'), gender: 'm',
    birthday: '1991-02-03', source_channel_id: ch, attrs: { a: 1, b: { c: 2, d: 3 }, e: 'x', list: [1, 2] } });
  // a change of one field keeps every other
  const r1 = await patch(c.id, { name: '李雷雷' });
  assert.equal(r1.name, '李雷雷');
  for (const k of ['phone', 'email', 'unionid', 'gender', 'birthday', 'source_channel_id', 'attrs', 'created_at']) assert.deepEqual(r1[k], c[k], k);
  // attrs: null removes a key, objects merge, anything else replaces
  const r2 = await patch(c.id, { attrs: { b: { c: null, f: 4 }, e: null, list: [3], g: { h: 'i' }, a: { now: 'object' } } });
  assert.deepEqual(r2.attrs, { a: { now: 'object' }, b: { d: 3, f: 4 }, list: [3], g: { h: 'i' } });
  const r3 = await patch(c.id, { attrs: { a: 7, b: 'scalar' } });
  assert.deepEqual(r3.attrs, { a: 7, b: 'scalar', list: [3], g: { h: 'i' } });
  const r4 = await patch(c.id, { attrs: { missing: null } });
  assert.deepEqual(r4.attrs, r3.attrs);
  // null clears every nullable field; attrs null empties the object
  const r5 = await patch(c.id, { name: null, email: null, unionid: null, birthday: null, source_channel_id: null, attrs: null, phone: null });
  assert.deepEqual([r5.name, r5.email, r5.unionid, r5.birthday, r5.source_channel_id, r5.phone], [null, null, null, null, null, null]);
  assert.deepEqual(r5.attrs, {});
  assert.equal(r5.gender, 'm');
  assert.deepEqual(await get(c.id), r5);
  const row = sqliteJson(d.db, `SELECT name, phone, birthday, birth_month, birth_day, attrs FROM customers WHERE id = ${c.id}`)[0];
  assert.deepEqual(row, { name: null, phone: null, birthday: null, birth_month: null, birth_day: null, attrs: '{}' });
  // an empty patch, or one that changes nothing, leaves updated_at and the timeline alone
  const events = (await timeline(c.id)).length;
  const same = await patch(c.id, {});
  assert.deepEqual(same, r5);
  const same2 = await patch(c.id, { gender: 'm', name: null });
  assert.equal(same2.updated_at, r5.updated_at);
  assert.equal((await timeline(c.id)).length, events);
  // application/merge-patch+json is accepted too
  const mp = await d.req('PATCH', `/api/v1/customers/${c.id}`, { ...op, body: JSON.stringify({ gender: 'f' }), headers: { 'Content-Type': 'application/merge-patch+json' } });
  assert.equal(mp.status, 200, mp.text);
  assert.equal(mp.json.gender, 'f');
});

// An acquisition channel; returns its id.
async function channel(name) {
  const r = await d.req('POST', '/api/v1/channels', { token: adminTok, body: { name: unique(name), kind: 'package_card', units: 100, cost_cents: 5000 } });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

test('stage: set by hand sets stage_manual; paid orders only move it forward, and clear stage_manual when they do', async () => {
  const phone = newPhone();
  const c = await create({ name: 'Stage', phone });
  const m = await patch(c.id, { stage: 'interested' });
  assert.equal(m.stage, 'interested');
  assert.equal(m.stage_manual, true);
  assert.equal((await get(c.id)).stage_manual, true);
  await order({ external_id: unique('st1'), buyer_phone: phone, amount_cents: 1000 });
  let g = await get(c.id);
  assert.equal(g.stage, 'converted');
  assert.equal(g.stage_manual, false);
  // by hand past what the orders prove: kept through a first order's refund and a new first order
  assert.equal((await patch(c.id, { stage: 'sharing' })).stage_manual, true);
  const o2 = await order({ external_id: unique('st2'), buyer_phone: phone, amount_cents: 500, status: 'cancelled' });
  g = await get(c.id);
  assert.deepEqual([g.stage, g.stage_manual, g.order_count], ['sharing', true, 1]);
  // a second paid order proves more: repurchasing
  await order({ external_id: o2.external_id, status: 'paid' });
  g = await get(c.id);
  assert.deepEqual([g.stage, g.stage_manual, g.order_count], ['repurchasing', false, 2]);
  // refunds never move the stage back
  await order({ external_id: o2.external_id, status: 'refunded' });
  g = await get(c.id);
  assert.deepEqual([g.stage, g.order_count], ['repurchasing', 1]);
  // a stage set back by hand is what the operator wants; orders move it on only when they prove more
  assert.equal((await patch(c.id, { stage: 'observing' })).stage, 'observing');
  await order({ external_id: unique('st3'), buyer_phone: phone, amount_cents: 700 });
  g = await get(c.id);
  assert.deepEqual([g.stage, g.stage_manual, g.order_count], ['repurchasing', false, 2]);
  // setting the stage it already has still marks it as set by hand, and the mark is stored
  const again = await patch(c.id, { stage: 'repurchasing' });
  assert.equal(again.stage_manual, true);
  assert.deepEqual(await get(c.id), again);
  // the timeline shows the moves the orders made
  const moves = (await timeline(c.id)).filter((e) => e.kind === 'stage.changed').map((e) => e.data);
  assert.deepEqual(moves, [{ from: 'observing', to: 'repurchasing' }, { from: 'sharing', to: 'repurchasing' }, { from: 'interested', to: 'converted' }]);
});

test('owner_user_id and source_channel_id must exist (422); both filter the list', async () => {
  const u = await d.req('POST', '/api/v1/users', { token: adminTok, body: { username: unique('owner'), role: 'operator', password: 'owner-password-1' } });
  assert.equal(u.status, 201, u.text);
  const ch1 = await channel('filter-ch-1');
  const ch2 = await channel('filter-ch-2');
  assertError(await d.req('POST', '/api/v1/customers', { ...op, body: { source_channel_id: ch2 + 1000 } }), 422, 'validation_failed', 'source_channel_id');
  assertError(await d.req('POST', '/api/v1/customers', { ...op, body: { owner_user_id: u.json.id + 1000 } }), 422, 'validation_failed', 'owner_user_id');
  const a = await create({ name: 'Owned 1', owner_user_id: u.json.id, source_channel_id: ch1 });
  const b = await create({ name: 'Owned 2', owner_user_id: u.json.id, source_channel_id: ch2 });
  const c = await create({ name: 'Unowned', source_channel_id: ch1 });
  assert.deepEqual([a.owner_user_id, a.source_channel_id], [u.json.id, ch1]);
  assertError(await d.req('PATCH', `/api/v1/customers/${c.id}`, { ...op, body: { owner_user_id: 999999 } }), 422, 'validation_failed', 'owner_user_id');
  assertError(await d.req('PATCH', `/api/v1/customers/${c.id}`, { ...op, body: { source_channel_id: 999999 } }), 422, 'validation_failed', 'source_channel_id');
  const list = async (q) => ids((await listAll(d, `/api/v1/customers?${q}`, { token: viewerTok }, { count: true, limit: 1 })).items);
  assert.deepEqual(await list(`owner_user_id=${u.json.id}`), [b.id, a.id]);
  assert.deepEqual(await list(`source_channel_id=${ch1}`), [c.id, a.id]);
  assert.deepEqual(await list(`source_channel_id=${ch1}&owner_user_id=${u.json.id}`), [a.id]);
  assert.deepEqual(await list(`source_channel_id=${ch2 + 1000}`), []);
  assert.deepEqual(await list('owner_user_id=999999'), []);
  for (const [k, v] of [['owner_user_id', 'abc'], ['owner_user_id', '1.5'], ['source_channel_id', 'x'], ['source_channel_id', '']]) {
    assertError(await d.req('GET', `/api/v1/customers?${k}=${v}`, { token: viewerTok }), 422, 'validation_failed', k);
  }
  // the timeline's first event names the channel
  const first = (await timeline(a.id)).at(-1);
  assert.deepEqual([first.kind, first.data], ['customer.created', { source_channel_id: ch1 }]);
  // moving a customer to another owner and clearing the channel
  const moved = await patch(c.id, { owner_user_id: u.json.id, source_channel_id: null });
  assert.deepEqual([moved.owner_user_id, moved.source_channel_id], [u.json.id, null]);
  assert.deepEqual(await list(`owner_user_id=${u.json.id}`), [c.id, b.id, a.id]);
});

test('search q: phone prefix (also typed with +86, spaces and dashes), Chinese name prefix, e-mail, exact unionid', async () => {
  const p1 = '13655501234', p2 = '13655509876', p3 = '13755501234';
  const union = unique('oSearchUnion');
  const a = await create({ name: '欧阳小明', phone: p1, email: 'ouyang.xm@example.com' });
  const b = await create({ name: '欧阳小红', phone: p2, email: 'ouyang.xh@example.org', unionid: union });
  const c = await create({ name: '司马光', phone: p3, email: 'sima@example.com' });
  assert.deepEqual(ids(await search('1365550')), [b.id, a.id]);
  assert.deepEqual(ids(await search('136555012')), [a.id]);
  assert.deepEqual(ids(await search(p1)), [a.id]);
  assert.deepEqual(ids(await search('+86 136-5550')), [b.id, a.id]);
  assert.deepEqual(ids(await search('+86 136 5550 9876')), [b.id]);
  assert.deepEqual(ids(await search('0086 13655509876')), [b.id]);
  assert.deepEqual(ids(await search('136-5550-1234')), [a.id]);
  assert.deepEqual(ids(await search('(136) 5550')), [b.id, a.id]);
  assert.deepEqual(ids(await search('1375550')), [c.id]);
  // only the start of a number, however it is typed
  assert.deepEqual(ids(await search('1365')), [b.id, a.id]);
  assert.deepEqual(ids(await search('+86 1365')), [b.id, a.id]);
  assert.deepEqual(ids(await search('+86 136-5')), [b.id, a.id]);
  assert.deepEqual(ids(await search('136-5')), [b.id, a.id]);
  assert.deepEqual(ids(await search('0086 136 5550 98')), [b.id]);
  assert.deepEqual(ids(await search('8613655501234')), [a.id]);
  assert.deepEqual(ids(await search('+86')), []);
  assert.deepEqual(ids(await search('1385550')), []);
  // name: a prefix, in Chinese
  assert.deepEqual(ids(await search('欧阳')), [b.id, a.id]);
  assert.deepEqual(ids(await search('欧阳小红')), [b.id]);
  assert.deepEqual(ids(await search('司马')), [c.id]);
  assert.deepEqual(ids(await search('小明')), [], 'name search is by prefix');
  // e-mail: the whole address or its start
  assert.deepEqual(ids(await search('ouyang.xm@example.com')), [a.id]);
  assert.deepEqual(ids(await search('ouyang.x')), [b.id, a.id]);
  assert.deepEqual(ids(await search('sima@')), [c.id]);
  // unionid: exact only
  assert.deepEqual(ids(await search(union)), [b.id]);
  assert.deepEqual(ids(await search(union.slice(0, -2))), []);
  // an empty q is no filter; a long one is refused
  assert.equal((await d.req('GET', '/api/v1/customers?q=&count=true', { token: viewerTok })).json.total, await total());
  assertError(await d.req('GET', `/api/v1/customers?q=${'x'.repeat(101)}`, { token: viewerTok }), 422, 'validation_failed', 'q');
  // search with other filters, and characters that mean something to SQL or LIKE
  assert.deepEqual(ids(await search('欧阳', '&stage=added')), [b.id, a.id]);
  assert.deepEqual(ids(await search('欧阳', '&stage=converted')), []);
  for (const q of ["'", '%', '_', '\\', '"; DROP TABLE customers; --', '欧%', '1365%']) assert.deepEqual(await search(q), [], q);
  // an erased customer is not found
  assert.equal((await d.req('DELETE', `/api/v1/customers/${c.id}`, op)).status, 204);
  assert.deepEqual(ids(await search('司马')), []);
  assert.deepEqual(ids(await search('1375550')), []);
});

test('filters: tag by id and by name (unknown name: empty list), stage; bad values are 422', async () => {
  const tagName = unique('VIP客户');
  const a = await create({ name: 'Tagged A' });
  const b = await create({ name: 'Tagged B' });
  await create({ name: 'Untagged' });
  const t1 = await d.req('POST', `/api/v1/customers/${a.id}/tags`, { ...op, body: { names: [tagName] } });
  assert.equal(t1.status, 200, t1.text);
  const tagId = t1.json.tags.find((t) => t.name === tagName).id;
  assert.equal((await d.req('POST', `/api/v1/customers/${b.id}/tags`, { ...op, body: { tag_ids: [tagId] } })).status, 200);
  const list = async (q, limit = 500) => (await listAll(d, `/api/v1/customers?${q}`, { token: viewerTok }, { count: true, limit })).items;
  assert.deepEqual(ids(await list(`tag=${tagId}`, 1)), [b.id, a.id]);
  assert.deepEqual(ids(await list(`tag=${encodeURIComponent(tagName)}`, 1)), [b.id, a.id]);
  for (const t of [encodeURIComponent('no such tag'), '999999', '0', '-3']) {
    const r = await d.req('GET', `/api/v1/customers?tag=${t}&count=true`, { token: viewerTok });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { data: [], next_cursor: null, total: 0 }, t);
  }
  // stage
  await patch(b.id, { stage: 'interested' });
  assert.deepEqual(ids(await list(`tag=${tagId}&stage=interested`)), [b.id]);
  const interested = await list('stage=interested');
  assert.ok(interested.every((c) => c.stage === 'interested'));
  assert.ok(ids(interested).includes(b.id));
  for (const s of ['vip', 'Added', '']) assertError(await d.req('GET', `/api/v1/customers?stage=${s}`, { token: viewerTok }), 422, 'validation_failed', 'stage');
});

test('GET /customers pages with limit, cursor and count: every live customer once, newest first', async () => {
  for (let i = 0; i < 12; i++) await create({ name: `Page ${i}` });
  const n = await total();
  const all = await listAll(d, '/api/v1/customers', { token: viewerTok }, { count: true });
  assert.equal(all.items.length, n);
  assert.deepEqual(ids(all.items), [...ids(all.items)].sort((x, y) => y - x), 'not newest first');
  all.items.forEach(assertCustomerShape);
  const live = Number(sqlite(d.db, 'SELECT count(*) FROM customers WHERE erased_at IS NULL;'));
  assert.equal(n, live);
  for (const limit of [1, 5, 7, n]) {
    const page = await listAll(d, '/api/v1/customers', { token: viewerTok }, { count: true, limit });
    assert.deepEqual(ids(page.items), ids(all.items), `limit ${limit}`);
    assert.equal(page.pages, Math.ceil(n / limit), `limit ${limit}`);
  }
  // default limit 50, no total without count=true
  const plain = await d.req('GET', '/api/v1/customers', { token: viewerTok });
  assert.deepEqual(Object.keys(plain.json).sort(), ['data', 'next_cursor']);
  assert.equal(plain.json.data.length, Math.min(n, 50));
  for (const l of ['0', '501', 'x', '-1', '']) assertError(await d.req('GET', `/api/v1/customers?limit=${l}`, { token: viewerTok }), 422, 'validation_failed', 'limit');
  for (const c of ['garbage!!', 'bm9wZQ', '%00', Buffer.from('v1:0').toString('base64url')]) assertError(await d.req('GET', `/api/v1/customers?cursor=${encodeURIComponent(c)}`, { token: viewerTok }), 422, 'validation_failed', 'cursor');
  assertError(await d.req('GET', '/api/v1/customers?count=yes', { token: viewerTok }), 422, 'validation_failed', 'count');
});

test('unknown or malformed customer ids are 404 on every route', async () => {
  for (const id of ['999999', '0', '-1', 'abc', '1.5', '99999999999999999999']) {
    for (const [m, p, body] of [['GET', `/api/v1/customers/${id}`], ['PATCH', `/api/v1/customers/${id}`, { name: 'x' }],
      ['DELETE', `/api/v1/customers/${id}`], ['GET', `/api/v1/customers/${id}/timeline`],
      ['POST', `/api/v1/customers/${id}/tags`, { names: ['x'] }], ['DELETE', `/api/v1/customers/${id}/tags/1`]]) {
      assertError(await d.req(m, p, { ...op, body }), 404, 'not_found');
    }
  }
  assertError(await d.req('GET', '/api/v1/customers/1/nope', op), 404, 'not_found');
});

test('DELETE erases personal data: the customer answers 404, its orders stay without a buyer phone', async () => {
  const phone = newPhone();
  const unionid = unique('oErase');
  const tagName = unique('erase-tag');
  const c = await create({ name: '赵敏', phone, email: 'zhaomin@example.com', unionid, gender: 'f', birthday: '1995-06-07', attrs: { secret: 'yes' } });
  const tagged = await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: { names: [tagName] } });
  const tagId = tagged.json.tags[0].id;
  const o1 = await order({ external_id: unique('er1'), buyer_phone: phone, amount_cents: 1200 });
  const o2 = await order({ external_id: unique('er2'), customer_id: c.id, amount_cents: 800 });
  assert.equal(o1.customer_id, c.id);
  const tagBefore = (await d.req('GET', `/api/v1/tags/${tagId}`, op)).json.customer_count;
  const r = await d.req('DELETE', `/api/v1/customers/${c.id}`, op);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  for (const [m, p, body] of [['GET', `/api/v1/customers/${c.id}`], ['PATCH', `/api/v1/customers/${c.id}`, { name: 'back' }],
    ['DELETE', `/api/v1/customers/${c.id}`], ['GET', `/api/v1/customers/${c.id}/timeline`],
    ['POST', `/api/v1/customers/${c.id}/tags`, { names: ['x'] }], ['DELETE', `/api/v1/customers/${c.id}/tags/${tagId}`]]) {
    assertError(await d.req(m, p, { ...op, body }), 404, 'not_found');
  }
  // the row keeps no personal data
  const row = sqliteJson(d.db, `SELECT name, phone, email, unionid, gender, birthday, birth_month, birth_day, attrs, erased_at IS NOT NULL AS erased FROM customers WHERE id = ${c.id}`)[0];
  assert.deepEqual(row, { name: null, phone: null, email: null, unionid: null, gender: 'u', birthday: null, birth_month: null, birth_day: null, attrs: '{}', erased: 1 });
  assert.equal(sqlite(d.db, `SELECT count(*) FROM customer_tags WHERE customer_id = ${c.id};`), '0');
  assert.equal(sqlite(d.db, `SELECT count(*) FROM customer_events WHERE customer_id = ${c.id};`), '0');
  const dump = sqlite(d.db, '.dump customers customer_events customer_tags orders');
  for (const s of [phone, unionid, 'zhaomin@example.com', '赵敏', '1995-06-07', 'secret']) assert.ok(!dump.includes(s), `${s} is still in the database`);
  // the orders stay, bound, without the phone
  for (const o of [o1, o2]) {
    const g = await d.req('GET', `/api/v1/orders/${o.id}`, op);
    assert.equal(g.status, 200);
    assert.equal(g.json.customer_id, c.id);
    assert.equal(g.json.buyer_phone, null);
    assert.equal(g.json.amount_cents, o.amount_cents);
  }
  assert.equal((await d.req('GET', `/api/v1/tags/${tagId}`, op)).json.customer_count, tagBefore - 1);
  assert.ok(!ids((await listAll(d, '/api/v1/customers', op)).items).includes(c.id));
  // an order with the old phone now waits; a new customer with that phone takes it
  const later = await order({ external_id: unique('er3'), buyer_phone: phone, amount_cents: 300 });
  assert.equal(later.customer_id, null);
  const n = await create({ name: 'New owner of the number', phone });
  assert.equal(n.order_count, 1);
  assert.equal((await d.req('GET', `/api/v1/orders/${later.id}`, op)).json.customer_id, n.id);
  // an order naming the erased customer is refused
  assertError(await d.req('POST', '/api/v1/orders', { ...op, body: { platform: 'tmall', external_id: unique('er4'), customer_id: c.id, amount_cents: 1, paid_at: '2026-01-01T00:00:00Z' } }), 422, 'validation_failed', 'customer_id');
  // the audit row holds no personal data
  const rows = await auditAll(d, { action: 'customer.erase', target_id: String(c.id) });
  assert.equal(rows.length, 1);
  for (const s of [phone, unionid, 'zhaomin', '赵敏']) assert.ok(!JSON.stringify(rows).includes(s));
});

test('POST /customers/merge: orders, tags and timeline move, missing fields are filled, the old id answers 404 "merged into"', async () => {
  const pB = newPhone();
  const unionB = unique('oMergeB');
  const tShared = unique('merge-shared');
  const tOnlyB = unique('merge-onlyB');
  const a = await create({ name: '张无忌', gender: 'u', attrs: { a: 1, keep: 'A' } });
  const b = await create({ name: 'Zhang W.', phone: pB, unionid: unionB, email: 'zwj@example.com', gender: 'm', birthday: '--03-04', attrs: { a: 2, b: 3 } });
  await d.req('POST', `/api/v1/customers/${a.id}/tags`, { ...op, body: { names: [tShared] } });
  const tb = await d.req('POST', `/api/v1/customers/${b.id}/tags`, { ...op, body: { names: [tShared, tOnlyB] } });
  const tagIds = Object.fromEntries(tb.json.tags.map((t) => [t.name, t.id]));
  const oa = await order({ external_id: unique('mA'), customer_id: a.id, amount_cents: 1000, paid_at: '2026-02-01T00:00:00Z' });
  const ob1 = await order({ external_id: unique('mB1'), buyer_phone: pB, amount_cents: 2000, paid_at: '2026-01-01T00:00:00Z' });
  const ob2 = await order({ external_id: unique('mB2'), buyer_phone: pB, amount_cents: 4000, paid_at: '2026-03-01T00:00:00Z' });
  assert.equal(ob1.customer_id, b.id);
  const eventsA = await timeline(a.id);
  const eventsB = await timeline(b.id);
  const counts = () => sqliteJson(d.db, `SELECT id, customer_count FROM tags WHERE id IN (${Object.values(tagIds).join(',')}) ORDER BY id`);
  const before = counts();

  const r = await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: b.id } });
  assert.equal(r.status, 200, r.text);
  const m = r.json;
  assertCustomerShape(m);
  assert.equal(m.id, a.id);
  assert.equal(m.name, '张无忌', 'the kept profile keeps its own name');
  assert.equal(m.phone, pB, 'the phone of the merged profile moves to the kept one');
  assert.equal(m.unionid, unionB);
  assert.equal(m.email, 'zwj@example.com');
  assert.equal(m.birthday, '--03-04');
  assert.equal(m.gender, 'm');
  assert.deepEqual(m.attrs, { a: 1, b: 3, keep: 'A' });
  assert.deepEqual(m.tags.map((t) => t.name).sort(), [tShared, tOnlyB].sort());
  assert.equal(m.order_count, 3);
  assert.equal(m.total_spent_cents, 7000);
  assert.equal(m.first_order_at, '2026-01-01T00:00:00Z');
  assert.equal(m.last_order_at, '2026-03-01T00:00:00Z');
  assert.equal(m.stage, 'repurchasing');
  assert.deepEqual(await get(a.id), m);
  // the old id: 404 naming the kept one
  const gone = await d.req('GET', `/api/v1/customers/${b.id}`, op);
  assertError(gone, 404, 'not_found');
  assert.match(gone.json.error.message, new RegExp(`merged into customer ${a.id}`));
  assertError(await d.req('PATCH', `/api/v1/customers/${b.id}`, { ...op, body: { name: 'x' } }), 404, 'not_found');
  assertError(await d.req('GET', `/api/v1/customers/${b.id}/timeline`, op), 404, 'not_found');
  // orders moved
  for (const o of [oa, ob1, ob2]) assert.equal((await d.req('GET', `/api/v1/orders/${o.id}`, op)).json.customer_id, a.id);
  const byCustomer = await listAll(d, `/api/v1/orders?customer_id=${a.id}`, op, { count: true });
  assert.deepEqual(byCustomer.items.map((o) => o.id).sort(), [oa.id, ob1.id, ob2.id].sort());
  assert.equal((await listAll(d, `/api/v1/orders?customer_id=${b.id}`, op, { count: true })).total, 0);
  // tag counts: the shared tag now counts one person, the other moved
  const after = counts();
  assert.equal(after.find((t) => t.id === tagIds[tShared]).customer_count, before.find((t) => t.id === tagIds[tShared]).customer_count - 1);
  assert.equal(after.find((t) => t.id === tagIds[tOnlyB]).customer_count, before.find((t) => t.id === tagIds[tOnlyB]).customer_count);
  for (const t of sqliteJson(d.db, 'SELECT t.id, t.customer_count, (SELECT count(*) FROM customer_tags ct WHERE ct.tag_id = t.id) AS n FROM tags t')) assert.equal(t.customer_count, t.n, `tag ${t.id}`);
  // the timeline holds both histories and the merge
  const merged = await timeline(a.id);
  assert.equal(merged[0].kind, 'customer.merged');
  assert.deepEqual(merged[0].data, { from: b.id });
  const mergedIds = new Set(merged.map((e) => e.id));
  for (const e of [...eventsA, ...eventsB]) assert.ok(mergedIds.has(e.id), `event ${e.kind} ${e.id} lost`);
  // search by the moved phone and unionid finds the kept profile; new orders with the phone bind to it
  assert.deepEqual(ids(await search(pB)), [a.id]);
  assert.deepEqual(ids(await search(unionB)), [a.id]);
  const late = await order({ external_id: unique('mLate'), buyer_phone: pB, amount_cents: 100 });
  assert.equal(late.customer_id, a.id);
  // the phone is taken by the kept profile
  assertError(await d.req('POST', '/api/v1/customers', { ...op, body: { phone: pB } }), 409, 'conflict', 'phone');
  // audit
  const rows = await auditAll(d, { action: 'customer.merge', target_id: String(a.id) });
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0].detail, { into: a.id, from: b.id });
});

test('merge refusals: itself 422, a merged, erased or missing profile 404 naming into/from, body checks', async () => {
  const a = await create({ name: 'Keep', phone: newPhone() });
  const b = await create({ name: 'Fold' });
  const c = await create({ name: 'Erased' });
  assert.equal((await d.req('DELETE', `/api/v1/customers/${c.id}`, op)).status, 204);
  assertError(await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: a.id } }), 422, 'validation_failed', 'from');
  assertError(await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: c.id } }), 404, 'not_found', 'from');
  assertError(await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: c.id, from: a.id } }), 404, 'not_found', 'into');
  assertError(await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: 999999 } }), 404, 'not_found', 'from');
  assertError(await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: 999999, from: a.id } }), 404, 'not_found', 'into');
  for (const [body, field] of [[{ from: b.id }, 'into'], [{ into: a.id }, 'from'], [{ into: 'x', from: b.id }, 'into'],
    [{ into: a.id, from: 0 }, 'from'], [{ into: -1, from: b.id }, 'into'], [{ into: a.id, from: 1.5 }, 'from'],
    [{ into: null, from: b.id }, 'into'], [{ into: a.id, from: b.id, force: true }, 'force']]) {
    assertError(await d.req('POST', '/api/v1/customers/merge', { ...op, body }), 422, 'validation_failed', field);
  }
  assert.equal((await get(b.id)).name, 'Fold');
  // a real merge, then both directions again are 404
  assert.equal((await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: b.id } })).status, 200);
  const again = await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: b.id } });
  assertError(again, 404, 'not_found', 'from');
  assert.match(again.json.error.message, /merged into/);
  assertError(await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: b.id, from: a.id } }), 404, 'not_found', 'into');
  // a chain: x merged into a, then a into y: x's message names y
  const y = await create({ name: 'Final' });
  assert.equal((await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: y.id, from: a.id } })).status, 200);
  const chained = await d.req('GET', `/api/v1/customers/${b.id}`, op);
  assertError(chained, 404, 'not_found');
  assert.match(chained.json.error.message, new RegExp(`merged into customer ${y.id}`));
  // the kept one had a phone: it keeps its own
  assert.equal((await get(y.id)).phone, a.phone);
});

test('merge: the kept profile keeps its own phone and unionid when it has them', async () => {
  const pa = newPhone(), pb = newPhone();
  const a = await create({ name: 'Has', phone: pa, unionid: unique('oA') });
  const b = await create({ name: 'Other', phone: pb, unionid: unique('oB'), email: 'other@example.com' });
  const m = await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: b.id } });
  assert.equal(m.status, 200, m.text);
  assert.deepEqual([m.json.phone, m.json.unionid, m.json.email], [pa, a.unionid, 'other@example.com']);
  // the other phone and unionid are nobody's now
  assert.deepEqual(await search(pb), []);
  assert.deepEqual(await search(b.unionid), []);
  assert.equal((await create({ phone: pb, unionid: b.unionid })).phone, pb);
});

test('the timeline: what happened, newest first, paged with limit and cursor', async () => {
  const phone = newPhone();
  const c = await create({ name: 'Timeline', phone });
  await patch(c.id, { email: 'tl@example.com', attrs: { x: 1 } });
  const tagName = unique('tl-tag');
  const tg = await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: { names: [tagName] } });
  const tagId = tg.json.tags[0].id;
  const o1 = await order({ external_id: unique('tl1'), buyer_phone: phone, amount_cents: 1500 });
  await new Promise((r) => setTimeout(r, 1100)); // a later second, so that time orders the list too
  const o2 = await order({ external_id: unique('tl2'), customer_id: c.id, amount_cents: 2500 });
  await order({ external_id: o1.external_id, status: 'refunded' });
  await order({ external_id: o2.external_id, status: 'cancelled' });
  assert.equal((await d.req('DELETE', `/api/v1/customers/${c.id}/tags/${tagId}`, op)).status, 204);
  const other = await create({ name: 'Folded in' });
  await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: c.id, from: other.id } });

  const all = await timeline(c.id);
  // points.changed events (orders earn points) are checked by the loyalty tests
  const got = all.filter((e) => e.kind !== 'points.changed').map((e) => [e.kind, e.ref_type, e.ref_id, e.data]);
  const expect = [
    ['customer.merged', null, null, { from: other.id }],
    ['customer.created', null, null, { source_channel_id: null }], // the folded-in profile's own history, moved over
    ['tag.removed', 'tag', tagId, { name: tagName }],
    ['order.cancelled', 'order', o2.id, { platform: 'tmall', external_id: o2.external_id, amount_cents: 2500 }],
    ['order.refunded', 'order', o1.id, { platform: 'tmall', external_id: o1.external_id, amount_cents: 1500 }],
    ['stage.changed', null, null, { from: 'converted', to: 'repurchasing' }],
    ['order.bound', 'order', o2.id, { platform: 'tmall', external_id: o2.external_id, amount_cents: 2500, by: 'customer_id' }],
    ['stage.changed', null, null, { from: 'added', to: 'converted' }],
    ['order.bound', 'order', o1.id, { platform: 'tmall', external_id: o1.external_id, amount_cents: 1500, by: 'phone' }],
    ['tag.added', 'tag', tagId, { name: tagName }],
    ['customer.updated', null, null, { changed: ['email', 'attrs'] }],
    ['customer.created', null, null, { source_channel_id: null }],
  ];
  assert.deepEqual(got, expect);
  for (const e of all) {
    assert.deepEqual(Object.keys(e).sort(), ['created_at', 'data', 'id', 'kind', 'ref_id', 'ref_type']);
    assert.match(e.created_at, RFC3339);
  }
  // newest first: by time, then by id
  for (let i = 1; i < all.length; i++) {
    const [p, q] = [all[i - 1], all[i]];
    assert.ok(p.created_at > q.created_at || (p.created_at === q.created_at && p.id > q.id), `out of order at ${i}: ${JSON.stringify([p, q])}`);
  }
  assert.ok(all.at(-1).created_at < all[0].created_at, 'the events did not span two seconds');
  // the same list through every page size
  for (const limit of [1, 2, 5]) {
    const paged = await listAll(d, `/api/v1/customers/${c.id}/timeline`, { token: viewerTok }, { limit });
    assert.deepEqual(paged.items, all, `limit ${limit}`);
    assert.equal(paged.pages, Math.ceil(all.length / limit));
  }
  for (const l of ['0', '501', 'x']) assertError(await d.req('GET', `/api/v1/customers/${c.id}/timeline?limit=${l}`, op), 422, 'validation_failed', 'limit');
  assertError(await d.req('GET', `/api/v1/customers/${c.id}/timeline?cursor=nope!`, op), 422, 'validation_failed', 'cursor');
  // events are stored as the database says
  const rows = sqliteJson(d.db, `SELECT id, kind, at FROM customer_events WHERE customer_id = ${c.id} ORDER BY at DESC, id DESC`);
  assert.deepEqual(rows.map((r) => [r.id, r.kind, isoSeconds(r.at)]), all.map((e) => [e.id, e.kind, e.created_at]));
});

test('Idempotency-Key on POST /customers and /customers/merge: a repeat is the first answer; another body is 409', async () => {
  const key = unique('idem-cust');
  const body = { name: 'Idempotent', phone: newPhone() };
  const before = await total();
  const r1 = await d.req('POST', '/api/v1/customers', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.equal(r1.status, 201, r1.text);
  const r2 = await d.req('POST', '/api/v1/customers', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.equal(r2.status, 201);
  assert.equal(r2.text, r1.text);
  assert.equal(r2.headers.get('idempotent-replayed'), 'true');
  assert.equal(r2.headers.get('location'), r1.headers.get('location'));
  assert.equal(await total(), before + 1);
  // the same bytes are needed: another body, even one that means the same, is a mismatch
  assertError(await d.req('POST', '/api/v1/customers', { ...op, body: { ...body, name: 'Changed' }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assertError(await d.req('POST', '/api/v1/customers', { ...op, body: JSON.stringify(body, null, 1), headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assert.equal(await total(), before + 1);
  // a failure is not remembered: the conflict repeats as a conflict, and never as the first answer
  const k2 = unique('idem-conflict');
  const c1 = await d.req('POST', '/api/v1/customers', { ...op, body, headers: { 'Idempotency-Key': k2 } });
  assertError(c1, 409, 'conflict', 'phone');
  assertError(await d.req('POST', '/api/v1/customers', { ...op, body, headers: { 'Idempotency-Key': k2 } }), 409, 'conflict', 'phone');
  // keys belong to their principal: another token with the same key creates its own
  const other = await d.req('POST', '/api/v1/customers', { token: adminTok, body: { name: 'Idempotent 2' }, headers: { 'Idempotency-Key': key } });
  assert.equal(other.status, 201);
  assert.notEqual(other.json.id, r1.json.id);
  // a malformed key
  assertError(await d.req('POST', '/api/v1/customers', { ...op, body, headers: { 'Idempotency-Key': 'has space' } }), 422, 'validation_failed', 'Idempotency-Key');
  // merge
  const a = await create({ name: 'IM a' });
  const b = await create({ name: 'IM b' });
  const mk = unique('idem-merge');
  const m1 = await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: b.id }, headers: { 'Idempotency-Key': mk } });
  assert.equal(m1.status, 200, m1.text);
  const m2 = await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: b.id }, headers: { 'Idempotency-Key': mk } });
  assert.equal(m2.status, 200);
  assert.equal(m2.text, m1.text);
  assert.equal(m2.headers.get('idempotent-replayed'), 'true');
  assertError(await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: b.id, from: a.id }, headers: { 'Idempotency-Key': mk } }), 409, 'idempotency_mismatch');
  assert.equal((await auditAll(d, { action: 'customer.merge', target_id: String(a.id) })).length, 1);
});

test('every customer write leaves one audit row; customer updates name the fields, never their values', async () => {
  const opId = (await d.req('GET', '/api/v1/me', op)).json.token.id;
  const phone = newPhone();
  const c = await create({ name: '审计对象', phone, email: 'audit.me@example.com', birthday: '1980-01-02' });
  const p = await patch(c.id, { name: '审计对象二', email: 'audit.two@example.com', attrs: { secret_note: 'likes tea' }, gender: 'f' });
  const t = await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: { names: [unique('audit-tag')] } });
  const tagId = t.json.tags[0].id;
  assert.equal((await d.req('DELETE', `/api/v1/customers/${c.id}/tags/${tagId}`, op)).status, 204);
  const other = await create({ name: 'Audit other' });
  assert.equal((await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: c.id, from: other.id } })).status, 200);
  assert.equal((await d.req('DELETE', `/api/v1/customers/${c.id}`, op)).status, 204);
  const rows = (await auditAll(d, { actor: `token:${opId}`, target_type: 'customer', target_id: String(c.id) })).reverse();
  assert.deepEqual(rows.map((r) => [r.action, r.method, r.status]), [
    ['customer.create', 'POST', 201], ['customer.update', 'PATCH', 200], ['customer.tag', 'POST', 200],
    ['customer.untag', 'DELETE', 204], ['customer.merge', 'POST', 200], ['customer.erase', 'DELETE', 204],
  ]);
  const upd = rows[1];
  assert.deepEqual(upd.detail, { fields: ['name', 'email', 'gender', 'attrs'] });
  assert.equal(upd.path, `/api/v1/customers/${c.id}`);
  assert.deepEqual(rows[2].detail, { added: 1 });
  assert.deepEqual(rows[3].detail, { tag_id: tagId });
  const text = JSON.stringify(rows);
  for (const s of [phone, '审计对象', 'audit.me', 'audit.two', 'likes tea', '1980-01-02']) assert.ok(!text.includes(s), `${s} is in the audit log`);
  // a refused write leaves no row
  const n = (await auditAll(d, { actor: `token:${opId}` })).length;
  await d.req('POST', '/api/v1/customers', { ...op, body: { phone: 'bad' } });
  await d.req('PATCH', `/api/v1/customers/${p.id}`, { ...op, body: { name: 'x' } });
  assert.equal((await auditAll(d, { actor: `token:${opId}` })).length, n);
});
