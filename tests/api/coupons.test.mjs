// Coupons: /coupon-templates (CRUD, terms fixed once issued, deletes refused
// while anything refers to a template), issuing to customers with expiry on the
// business calendar, lists by status (an unused coupon past its expiry shows
// as expired before the daily pass), lookup and redemption by code against
// orders, the new-member gift pack in /settings/coupons, roles, malformed
// bodies, Idempotency-Key and audit rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, auditAll, listAll, sqliteJson, unique } from './lib.mjs';

const d = await fileDaemon();
const adminTok = await d.adminToken();
const opTok = await d.token('operator', 'coupons-operator');
const viewerTok = await d.token('viewer', 'coupons-viewer');
const op = { token: opTok };
const admin = { token: adminTok };
const viewer = { token: viewerTok };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const CODE = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{12}$/;
const TEMPLATE_KEYS = ['active', 'created_at', 'id', 'kind', 'min_spend_cents', 'name', 'updated_at', 'valid_days', 'valid_until', 'value'];
const COUPON_KEYS = ['code', 'customer_id', 'expires_at', 'id', 'issued_at', 'kind', 'min_spend_cents', 'name', 'order_id', 'source', 'status',
  'template_id', 'used_at', 'value'];
const DAY = 86400;
const SH = 8 * 3600; // Asia/Shanghai, the default business time zone: UTC+8 all year

let seq = 0;
const newPhone = () => `1370${String(2000000 + ++seq).slice(-7)}`;
const secs = (iso) => Date.parse(iso) / 1000;
const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
// the last second of the business day `days` after the one holding t
const dayEnd = (t, days) => (Math.floor((t + SH) / DAY) + days + 1) * DAY - SH - 1;
const future = (days) => iso(Math.floor(Date.now() / 1000) + days * DAY);

async function template(extra = {}) {
  const r = await d.req('POST', '/api/v1/coupon-templates', { ...op, body: { name: unique('tpl'), kind: 'amount_off', value: 1000, valid_days: 7, ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function customer(body = {}) {
  const r = await d.req('POST', '/api/v1/customers', { ...op, body: { name: 'Coupon holder', ...body } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function issue(customerId, templateId, auth = op, headers = {}) {
  return d.req('POST', `/api/v1/customers/${customerId}/coupons`, { ...auth, body: { template_id: templateId }, headers });
}
async function issued(customerId, templateId) {
  const r = await issue(customerId, templateId);
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function order(body) {
  const r = await d.req('POST', '/api/v1/orders', { ...op, body: { platform: 'tmall', external_id: unique('O'), amount_cents: 10000, paid_at: '2026-04-01T08:00:00Z', ...body } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
const redeem = (code, body, auth = op, headers = {}) => d.req('POST', `/api/v1/coupons/${code}/redeem`, { ...auth, body, headers });
const timeline = async (id) => (await listAll(d, `/api/v1/customers/${id}/timeline`, viewer)).items;
const templateCount = async () => (await d.req('GET', '/api/v1/coupon-templates?count=true&limit=1', viewer)).json.total;
const couponRows = () => Number(sqliteJson(d.db, 'SELECT count(*) AS n FROM coupons')[0].n);

test('POST /coupon-templates creates each kind: 201, Location, the full shape, defaults; GET gives the same', async () => {
  const r = await d.req('POST', '/api/v1/coupon-templates', { ...op, body: { name: '满100减10', kind: 'amount_off', value: 1000, min_spend_cents: 10000, valid_days: 30 } });
  assert.equal(r.status, 201, r.text);
  const t = r.json;
  assert.deepEqual(Object.keys(t).sort(), TEMPLATE_KEYS);
  assert.equal(r.headers.get('location'), `/api/v1/coupon-templates/${t.id}`);
  assert.deepEqual([t.name, t.kind, t.value, t.min_spend_cents, t.valid_days, t.valid_until, t.active], ['满100减10', 'amount_off', 1000, 10000, 30, null, true]);
  assert.match(t.created_at, RFC3339);
  assert.equal(t.updated_at, t.created_at);
  assert.deepEqual((await d.req('GET', `/api/v1/coupon-templates/${t.id}`, viewer)).json, t);
  // percent_off with valid_until only (given with an offset, stored in UTC); gift without value
  const until = '2031-06-30T23:59:59+08:00';
  const p = await template({ kind: 'percent_off', value: 15, valid_days: undefined, valid_until: until, active: false });
  assert.deepEqual([p.kind, p.value, p.valid_days, p.valid_until, p.active, p.min_spend_cents], ['percent_off', 15, null, '2031-06-30T15:59:59Z', false, 0]);
  const g = await template({ kind: 'gift', value: undefined, valid_days: 3, valid_until: future(100) });
  assert.deepEqual([g.kind, g.value, g.valid_days], ['gift', 0, 3]);
  assert.equal((await template({ kind: 'percent_off', value: 99 })).value, 99);
  assert.equal((await template({ kind: 'gift', value: 0 })).value, 0);
});

test('coupon-template bodies: 400, 415, 422 naming the field, and nothing is created', async () => {
  const before = await templateCount();
  const ok = { name: 'x', kind: 'amount_off', value: 100, valid_days: 1 };
  for (const bad of ['{', '{"name":"x",}', '{"a":1,"a":2}']) assertError(await d.req('POST', '/api/v1/coupon-templates', { ...op, body: bad }), 400, 'invalid_json');
  assertError(await d.req('POST', '/api/v1/coupon-templates', op), 400, 'invalid_json');
  assertError(await d.req('POST', '/api/v1/coupon-templates', { ...op, body: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  for (const v of ['[]', '"x"', '7', 'null']) assertError(await d.req('POST', '/api/v1/coupon-templates', { ...op, body: v }), 422, 'validation_failed');
  const cases = [
    [{ name: undefined }, 'name'], [{ kind: undefined }, 'kind'], [{ name: '' }, 'name'], [{ name: 'n'.repeat(101) }, 'name'], [{ name: 5 }, 'name'],
    [{ name: 'tab\there' }, 'name'], [{ name: null }, 'name'],
    [{ kind: 'cashback' }, 'kind'], [{ kind: 'AMOUNT_OFF' }, 'kind'], [{ kind: 1 }, 'kind'],
    [{ value: 0 }, 'value'], [{ value: -1 }, 'value'], [{ value: '100' }, 'value'], [{ value: 1.5 }, 'value'], [{ value: undefined }, 'value'],
    [{ kind: 'percent_off', value: 0 }, 'value'], [{ kind: 'percent_off', value: 100 }, 'value'], [{ kind: 'gift', value: 5 }, 'value'],
    [{ min_spend_cents: -1 }, 'min_spend_cents'], [{ min_spend_cents: '5' }, 'min_spend_cents'], [{ min_spend_cents: null }, 'min_spend_cents'],
    [{ valid_days: 0 }, 'valid_days'], [{ valid_days: 3651 }, 'valid_days'], [{ valid_days: '7' }, 'valid_days'], [{ valid_days: null }, 'valid_days'],
    [{ valid_days: undefined }, 'valid_days'],
    [{ valid_until: 'tomorrow' }, 'valid_until'], [{ valid_until: '2031-02-30T00:00:00Z' }, 'valid_until'], [{ valid_until: 1900000000 }, 'valid_until'],
    [{ valid_until: '2020-01-01T00:00:00Z' }, 'valid_until'],
    [{ active: 'yes' }, 'active'], [{ active: null }, 'active'],
    [{ note: 'x' }, 'note'], [{ id: 4 }, 'id'], [{ created_at: '2026-01-01T00:00:00Z' }, 'created_at'],
  ];
  for (const [patch, field] of cases) {
    const body = { ...ok, ...patch };
    for (const k of Object.keys(patch)) if (patch[k] === undefined) delete body[k];
    assertError(await d.req('POST', '/api/v1/coupon-templates', { ...op, body }), 422, 'validation_failed', field);
  }
  assert.equal(await templateCount(), before, 'a refused template was stored');
});

test('every coupon route needs auth (401); a viewer reads and gets 403 on writes; the gift pack is the admin\'s', async () => {
  const t = await template();
  const c = await customer();
  const cp = await issued(c.id, t.id);
  const routes = [
    ['GET', '/api/v1/coupon-templates'], ['POST', '/api/v1/coupon-templates', { name: 'x', kind: 'gift', valid_days: 1 }],
    ['GET', `/api/v1/coupon-templates/${t.id}`], ['PATCH', `/api/v1/coupon-templates/${t.id}`, { name: 'y' }], ['DELETE', `/api/v1/coupon-templates/${t.id}`],
    ['GET', `/api/v1/customers/${c.id}/coupons`], ['POST', `/api/v1/customers/${c.id}/coupons`, { template_id: t.id }],
    ['GET', `/api/v1/coupons/${cp.code}`], ['POST', `/api/v1/coupons/${cp.code}/redeem`, {}],
    ['GET', '/api/v1/settings/coupons'], ['PUT', '/api/v1/settings/coupons', { new_member_gift_pack: [] }],
  ];
  const couponsBefore = couponRows();
  for (const [m, p, body] of routes) {
    assertError(await d.req(m, p, { body }), 401, 'unauthorized');
    assertError(await d.req(m, p, { body, token: 'scrm_bogus' }), 401, 'unauthorized');
    if (m === 'GET') assert.equal((await d.req(m, p, viewer)).status, 200, p);
    else assertError(await d.req(m, p, { ...viewer, body }), 403, 'forbidden');
  }
  assertError(await d.req('PUT', '/api/v1/settings/coupons', { ...op, body: { new_member_gift_pack: [] } }), 403, 'forbidden');
  assert.equal(couponRows(), couponsBefore);
  assert.equal((await d.req('GET', `/api/v1/coupons/${cp.code}`, viewer)).json.status, 'active');
  assert.equal((await d.req('GET', `/api/v1/coupon-templates/${t.id}`, viewer)).json.name, t.name);
  // wrong methods
  assertError(await d.req('PUT', `/api/v1/coupon-templates/${t.id}`, { ...op, body: {} }), 405, 'method_not_allowed');
  assertError(await d.req('DELETE', `/api/v1/coupons/${cp.code}`, op), 405, 'method_not_allowed');
  assertError(await d.req('POST', '/api/v1/settings/coupons', { ...admin, body: {} }), 405, 'method_not_allowed');
});

test('GET /coupon-templates: pages in id order, filter active, 422 for bad parameters; 404 for unknown ids', async () => {
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await template({ active: i % 2 === 0 }));
  const all = (await listAll(d, '/api/v1/coupon-templates', viewer, { limit: 2, count: true })).items.map((t) => t.id);
  assert.deepEqual(all, [...all].sort((a, b) => a - b));
  for (const t of made) assert.ok(all.includes(t.id));
  const active = (await listAll(d, '/api/v1/coupon-templates?active=true', viewer, { limit: 3, count: true })).items;
  const inactive = (await listAll(d, '/api/v1/coupon-templates?active=false', viewer, { count: true })).items;
  assert.ok(active.every((t) => t.active) && inactive.every((t) => !t.active));
  assert.equal(active.length + inactive.length, all.length);
  assert.ok(made.filter((t) => !t.active).every((t) => inactive.some((x) => x.id === t.id)));
  for (const [qs, field] of [['active=maybe', 'active'], ['limit=0', 'limit'], ['limit=501', 'limit'], ['cursor=zzz', 'cursor'], ['count=2', 'count']]) {
    assertError(await d.req('GET', `/api/v1/coupon-templates?${qs}`, viewer), 422, 'validation_failed', field);
  }
  for (const id of ['999999', '0', '-1', 'abc']) {
    assertError(await d.req('GET', `/api/v1/coupon-templates/${id}`, viewer), 404, 'not_found');
    assertError(await d.req('PATCH', `/api/v1/coupon-templates/${id}`, { ...op, body: { name: 'x' } }), 404, 'not_found');
    assertError(await d.req('DELETE', `/api/v1/coupon-templates/${id}`, op), 404, 'not_found');
  }
});

test('PATCH /coupon-templates/{id}: a merge patch checked whole; terms fixed once a coupon was issued; switched off stops issuing', async () => {
  const t = await template({ min_spend_cents: 5000 });
  const r = await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { name: 'Renamed', value: 1500, valid_until: future(30) } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.name, r.json.value, r.json.min_spend_cents, r.json.valid_days, r.json.kind], ['Renamed', 1500, 5000, 7, 'amount_off']);
  assert.match(r.json.valid_until, RFC3339);
  assert.deepEqual((await d.req('GET', `/api/v1/coupon-templates/${t.id}`, viewer)).json, r.json);
  // null clears valid_days while valid_until stays; clearing both is refused
  const n = await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { valid_days: null } });
  assert.deepEqual([n.status, n.json.valid_days], [200, null]);
  assertError(await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { valid_until: null } }), 422, 'validation_failed', 'valid_days');
  // a kind change must bring a fitting value
  assertError(await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { kind: 'percent_off' } }), 422, 'validation_failed', 'value');
  assertError(await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { colour: 'red' } }), 422, 'validation_failed', 'colour');
  assertError(await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: '{"name":' }), 400, 'invalid_json');
  const k = await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { kind: 'percent_off', value: 20 } });
  assert.deepEqual([k.status, k.json.kind, k.json.value], [200, 'percent_off', 20]);
  // once issued, the terms are fixed (409 naming the field); name, expiry and active still change
  const c = await customer();
  const cp = await issued(c.id, t.id);
  assert.deepEqual([cp.kind, cp.value, cp.min_spend_cents], ['percent_off', 20, 5000]);
  for (const [body, field] of [[{ value: 25 }, 'value'], [{ kind: 'amount_off', value: 20 }, 'kind'], [{ min_spend_cents: 0 }, 'min_spend_cents']]) {
    assertError(await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body }), 409, 'conflict', field);
  }
  const same = await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { value: 20, name: 'Twenty off', valid_days: 14 } });
  assert.equal(same.status, 200, same.text);
  assert.equal((await d.req('GET', `/api/v1/coupons/${cp.code}`, viewer)).json.name, 'Twenty off');
  const off = await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { active: false } });
  assert.equal(off.json.active, false);
  const refused = await issue(c.id, t.id);
  assertError(refused, 422, 'not_available', 'template_id');
  assert.match(refused.json.error.message, /switched off/);
  // a coupon already issued stays redeemable
  assert.equal((await redeem(cp.code)).status, 200);
  const rows = (await auditAll(d, { action: 'coupon_template.update', target_id: String(t.id) })).reverse();
  assert.equal(rows.length, 5);
  assert.deepEqual(rows[0].detail, { name: 'Renamed', value: 1500, valid_until: r.json.valid_until });
});

test('DELETE /coupon-templates/{id}: 204 when nothing refers to it; 409 after an issue, while a reward gives it, or in the gift pack', async () => {
  const free = await template();
  assert.equal((await d.req('DELETE', `/api/v1/coupon-templates/${free.id}`, op)).status, 204);
  assertError(await d.req('GET', `/api/v1/coupon-templates/${free.id}`, viewer), 404, 'not_found');
  assertError(await d.req('DELETE', `/api/v1/coupon-templates/${free.id}`, op), 404, 'not_found');
  const used = await template();
  await issued((await customer()).id, used.id);
  const c1 = await d.req('DELETE', `/api/v1/coupon-templates/${used.id}`, op);
  assertError(c1, 409, 'conflict');
  assert.match(c1.json.error.message, /PATCH \{"active": false\}/);
  const byReward = await template();
  const rw = await d.req('POST', '/api/v1/rewards', { ...op, body: { name: 'Coupon reward', kind: 'coupon', points_cost: 10, coupon_template_id: byReward.id } });
  assert.equal(rw.status, 201, rw.text);
  const byPrize = await template();
  const lot = await d.req('POST', '/api/v1/rewards', { ...op, body: { name: 'Lottery', kind: 'lottery', points_cost: 10, prizes: [{ name: 'p', weight: 1, coupon_template_id: byPrize.id }] } });
  assert.equal(lot.status, 201, lot.text);
  const inPack = await template();
  assert.equal((await d.req('PUT', '/api/v1/settings/coupons', { ...admin, body: { new_member_gift_pack: [inPack.id] } })).status, 200);
  for (const t of [byReward, byPrize, inPack]) assertError(await d.req('DELETE', `/api/v1/coupon-templates/${t.id}`, op), 409, 'conflict');
  // once let go, they can go
  assert.equal((await d.req('DELETE', `/api/v1/rewards/${rw.json.id}`, op)).status, 204);
  assert.equal((await d.req('DELETE', `/api/v1/rewards/${lot.json.id}`, op)).status, 204);
  assert.equal((await d.req('PUT', '/api/v1/settings/coupons', { ...admin, body: { new_member_gift_pack: [] } })).status, 200);
  for (const t of [byReward, byPrize, inPack]) assert.equal((await d.req('DELETE', `/api/v1/coupon-templates/${t.id}`, op)).status, 204);
  const rows = await auditAll(d, { action: 'coupon_template.delete' });
  assert.ok([free, byReward, byPrize, inPack].every((t) => rows.some((r) => r.target_id === t.id && r.status === 204)));
  assert.ok(!rows.some((r) => r.target_id === used.id));
});

test('POST /customers/{id}/coupons issues: 201, Location by code, an unguessable code, expiry at the end of a business day, timeline', async () => {
  const c = await customer();
  const t = await template({ min_spend_cents: 8000, valid_days: 3 });
  const r = await issue(c.id, t.id);
  assert.equal(r.status, 201, r.text);
  const cp = r.json;
  assert.deepEqual(Object.keys(cp).sort(), COUPON_KEYS);
  assert.match(cp.code, CODE);
  assert.equal(r.headers.get('location'), `/api/v1/coupons/${cp.code}`);
  assert.deepEqual([cp.status, cp.customer_id, cp.template_id, cp.name, cp.kind, cp.value, cp.min_spend_cents, cp.source, cp.used_at, cp.order_id],
    ['active', c.id, t.id, t.name, 'amount_off', 1000, 8000, 'manual', null, null]);
  assert.match(cp.issued_at, RFC3339);
  assert.equal(cp.expires_at, iso(dayEnd(secs(cp.issued_at), 3)));
  assert.equal(new Date(cp.expires_at).getUTCHours(), 15, 'a business day ends at 23:59:59 in Asia/Shanghai');
  // valid_until before the end of valid_days wins
  const soon = future(1);
  const t2 = await template({ valid_days: 30, valid_until: soon });
  assert.equal((await issued(c.id, t2.id)).expires_at, soon);
  // codes differ
  const codes = new Set([cp.code]);
  for (let i = 0; i < 20; i++) codes.add((await issued(c.id, t.id)).code);
  assert.equal(codes.size, 21);
  const ev = (await timeline(c.id)).filter((e) => e.kind === 'coupon.issued' && e.ref_id === cp.id);
  assert.equal(ev.length, 1);
  assert.deepEqual(ev[0].data, { template_id: t.id, name: t.name, source: 'manual', expires_at: cp.expires_at });
  assert.equal(ev[0].ref_type, 'coupon');
  const rows = await auditAll(d, { action: 'coupon.issue', target_id: String(cp.id) });
  assert.deepEqual(rows.map((x) => [x.target_type, x.status, x.detail]), [['coupon', 201, { customer_id: c.id, template_id: t.id }]]);
  assert.ok(!JSON.stringify(rows).includes(cp.code), 'the code is in the audit log');
});

test('issuing refuses: 404 for unknown, erased or merged customers; 422 for bad or unknown templates; nothing is issued', async () => {
  const t = await template();
  const c = await customer();
  const gone = await customer();
  assert.equal((await d.req('DELETE', `/api/v1/customers/${gone.id}`, op)).status, 204);
  const folded = await customer();
  assert.equal((await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: c.id, from: folded.id } })).status, 200);
  const before = couponRows();
  for (const id of [999999, gone.id]) assertError(await issue(id, t.id), 404, 'not_found');
  const m = await issue(folded.id, t.id);
  assertError(m, 404, 'not_found');
  assert.match(m.json.error.message, new RegExp(`merged into customer ${c.id}`));
  for (const id of ['0', 'abc', '-2']) assertError(await d.req('POST', `/api/v1/customers/${id}/coupons`, { ...op, body: { template_id: t.id } }), 404, 'not_found');
  for (const [body, field] of [[{}, 'template_id'], [{ template_id: 0 }, 'template_id'], [{ template_id: '1' }, 'template_id'], [{ template_id: null }, 'template_id'],
    [{ template_id: 1.5 }, 'template_id'], [{ template_id: 999999 }, 'template_id'], [{ template_id: t.id, source: 'x' }, 'source']]) {
    assertError(await d.req('POST', `/api/v1/customers/${c.id}/coupons`, { ...op, body }), 422, 'validation_failed', field);
  }
  assertError(await d.req('POST', `/api/v1/customers/${c.id}/coupons`, { ...op, body: '{"template_id":' }), 400, 'invalid_json');
  // a template whose valid_until has passed since it was made cannot issue
  const late = await template({ valid_days: undefined, valid_until: future(1) });
  sqliteJson(d.db, `UPDATE coupon_templates SET valid_until = ${Math.floor(Date.now() / 1000) - 60} WHERE id = ${late.id}`);
  const past = await issue(c.id, late.id);
  assertError(past, 422, 'not_available', 'template_id');
  assert.match(past.json.error.message, /valid_until/);
  assert.equal(couponRows(), before);
});

test('GET /customers/{id}/coupons: newest first, status filters as seen now (expired before the daily pass), pages, 404, 422', async () => {
  const c = await customer();
  const t = await template();
  const made = [];
  for (let i = 0; i < 7; i++) made.push(await issued(c.id, t.id));
  // one used, two past their expiry (still "active" in storage)
  assert.equal((await redeem(made[1].code)).status, 200);
  const past = Math.floor(Date.now() / 1000) - 10;
  sqliteJson(d.db, `UPDATE coupons SET expires_at = ${past} WHERE id IN (${made[3].id}, ${made[5].id})`);
  assert.deepEqual(sqliteJson(d.db, `SELECT DISTINCT status FROM coupons WHERE id IN (${made[3].id}, ${made[5].id})`), [{ status: 'active' }]);
  const list = async (qs, limit = 500) => (await listAll(d, `/api/v1/customers/${c.id}/coupons${qs}`, viewer, { limit, count: true })).items;
  const all = await list('', 2);
  assert.deepEqual(all.map((x) => x.id), made.map((x) => x.id).reverse());
  assert.deepEqual(all.map((x) => x.status), ['active', 'expired', 'active', 'expired', 'active', 'used', 'active']);
  assert.deepEqual((await list('?status=expired', 1)).map((x) => x.id), [made[5].id, made[3].id]);
  assert.deepEqual((await list('?status=used')).map((x) => x.id), [made[1].id]);
  assert.deepEqual((await list('?status=active', 3)).map((x) => x.id), [made[6].id, made[4].id, made[2].id, made[0].id]);
  const one = (await d.req('GET', `/api/v1/coupons/${made[3].code}`, viewer)).json;
  assert.deepEqual([one.status, one.expires_at], ['expired', iso(past)]);
  for (const [qs, field] of [['status=lost', 'status'], ['status=ACTIVE', 'status'], ['limit=0', 'limit'], ['cursor=bad', 'cursor']]) {
    assertError(await d.req('GET', `/api/v1/customers/${c.id}/coupons?${qs}`, viewer), 422, 'validation_failed', field);
  }
  assertError(await d.req('GET', '/api/v1/customers/999999/coupons', viewer), 404, 'not_found');
  const other = await customer();
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${other.id}/coupons`, viewer)).json, { data: [], next_cursor: null });
});

test('GET /coupons/{code}: any case finds it; anything else is 404', async () => {
  const c = await customer();
  const cp = await issued(c.id, (await template()).id);
  const r = await d.req('GET', `/api/v1/coupons/${cp.code}`, viewer);
  assert.deepEqual([r.status, r.json], [200, cp]);
  assert.deepEqual((await d.req('GET', `/api/v1/coupons/${cp.code.toLowerCase()}`, viewer)).json, cp);
  for (const code of ['AAAAAAAAAAAA', 'x', 'A'.repeat(33), 'AB-CD', '%20', `${cp.code}X`, `${cp.code}%20`]) {
    assertError(await d.req('GET', `/api/v1/coupons/${code}`, viewer), 404, 'not_found');
    assertError(await redeem(code, {}), 404, 'not_found');
  }
});

test('POST /coupons/{code}/redeem: used once; again 409; expired 409 saying when; orders must be the customer\'s, paid and reach the minimum', async () => {
  const phone = newPhone();
  const c = await customer({ phone });
  const other = await customer({ phone: newPhone() });
  const t = await template({ min_spend_cents: 10000 });
  const cp = await issued(c.id, t.id);
  const small = await order({ buyer_phone: phone, amount_cents: 9999 });
  const refunded = await order({ buyer_phone: phone, amount_cents: 20000, status: 'refunded' });
  const others = await order({ customer_id: other.id, amount_cents: 20000 });
  const unbound = await order({ amount_cents: 20000 });
  const good = await order({ buyer_phone: phone, amount_cents: 10000 });
  assert.equal(small.customer_id, c.id);
  const cases = [[small.id, /minimum spend of 10000 cents \(100\.00 yuan\)/], [refunded.id, /refunded/], [others.id, /not an order of this coupon's customer/],
    [unbound.id, /not an order of/], [999999, /no such order/]];
  for (const [orderId, msg] of cases) {
    const r = await redeem(cp.code, { order_id: orderId });
    assertError(r, 422, 'validation_failed', 'order_id');
    assert.match(r.json.error.message, msg);
  }
  for (const [body, field] of [[{ order_id: 0 }, 'order_id'], [{ order_id: '5' }, 'order_id'], [{ order_id: -1 }, 'order_id'], [{ order: 1 }, 'order']]) {
    assertError(await redeem(cp.code, body), 422, 'validation_failed', field);
  }
  for (const v of ['[]', '"x"', '3']) assertError(await redeem(cp.code, v), 422, 'validation_failed');
  assertError(await redeem(cp.code, '{"order_id":'), 400, 'invalid_json');
  assert.equal((await d.req('GET', `/api/v1/coupons/${cp.code}`, viewer)).json.status, 'active', 'a refused redeem used the coupon');
  assert.equal(c.stage, 'added');
  const r = await redeem(cp.code.toLowerCase(), { order_id: good.id });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), COUPON_KEYS);
  assert.deepEqual([r.json.status, r.json.order_id, r.json.id, r.json.code], ['used', good.id, cp.id, cp.code]);
  assert.match(r.json.used_at, RFC3339);
  assert.deepEqual((await d.req('GET', `/api/v1/coupons/${cp.code}`, viewer)).json, r.json);
  const again = await redeem(cp.code, {});
  assertError(again, 409, 'conflict');
  assert.match(again.json.error.message, new RegExp(`used at ${r.json.used_at}`));
  const ev = (await timeline(c.id)).filter((e) => e.kind === 'coupon.redeemed');
  assert.equal(ev.length, 1);
  assert.deepEqual([ev[0].ref_type, ev[0].ref_id, ev[0].data], ['coupon', cp.id, { template_id: t.id, name: t.name, kind: 'amount_off', order_id: good.id }]);
  // two paid orders made the customer repurchasing: a redeem never moves a stage back
  assert.equal((await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json.stage, 'repurchasing');
  // without an order, with no body or {} or {"order_id": null}; the stage moves up to interested
  const fresh = await customer();
  for (const body of [undefined, {}, { order_id: null }]) {
    const x = await issued(fresh.id, t.id);
    const y = await redeem(x.code, body);
    assert.equal(y.status, 200, y.text);
    assert.deepEqual([y.json.status, y.json.order_id], ['used', null]);
  }
  assert.equal((await d.req('GET', `/api/v1/customers/${fresh.id}`, viewer)).json.stage, 'interested');
  assert.equal((await timeline(fresh.id)).filter((e) => e.kind === 'stage.changed').length, 1);
  // expired: 409 naming the time; the coupon stays as it was
  const old = await issued(fresh.id, t.id);
  const when = Math.floor(Date.now() / 1000) - 3600;
  sqliteJson(d.db, `UPDATE coupons SET expires_at = ${when} WHERE id = ${old.id}`);
  const ex = await redeem(old.code, {});
  assertError(ex, 409, 'conflict');
  assert.match(ex.json.error.message, new RegExp(`expired at ${iso(when)}`));
  assert.equal((await d.req('GET', `/api/v1/coupons/${old.code}`, viewer)).json.status, 'expired');
  // a coupon of an erased customer cannot be used
  const erased = await customer();
  const lost = await issued(erased.id, t.id);
  assert.equal((await d.req('DELETE', `/api/v1/customers/${erased.id}`, op)).status, 204);
  assertError(await redeem(lost.code, {}), 409, 'conflict');
  const rows = await auditAll(d, { action: 'coupon.redeem', target_id: String(cp.id) });
  assert.deepEqual(rows.map((x) => [x.status, x.detail]), [[200, { customer_id: c.id, order_id: good.id }]]);
});

test('Idempotency-Key on template create, issue and redeem: the first answer again, nothing twice, 409 for another body', async () => {
  const tk = unique('idem-template');
  const tb = { name: unique('idem'), kind: 'gift', valid_days: 5 };
  const templatesBefore = await templateCount();
  const t1 = await d.req('POST', '/api/v1/coupon-templates', { ...op, body: tb, headers: { 'Idempotency-Key': tk } });
  assert.equal(t1.status, 201, t1.text);
  const t1b = await d.req('POST', '/api/v1/coupon-templates', { ...op, body: tb, headers: { 'Idempotency-Key': tk } });
  assert.deepEqual([t1b.status, t1b.text, t1b.headers.get('idempotent-replayed'), t1b.headers.get('location')], [201, t1.text, 'true', `/api/v1/coupon-templates/${t1.json.id}`]);
  assertError(await d.req('POST', '/api/v1/coupon-templates', { ...op, body: { ...tb, valid_days: 6 }, headers: { 'Idempotency-Key': tk } }), 409, 'idempotency_mismatch');
  assert.equal(await templateCount(), templatesBefore + 1);
  assert.equal((await auditAll(d, { action: 'coupon_template.create', target_id: String(t1.json.id) })).length, 1);
  const c = await customer();
  const t = await template();
  const t2 = await template();
  const key = unique('idem-issue');
  const before = couponRows();
  const r1 = await issue(c.id, t.id, op, { 'Idempotency-Key': key });
  assert.equal(r1.status, 201);
  const r2 = await issue(c.id, t.id, op, { 'Idempotency-Key': key });
  assert.deepEqual([r2.status, r2.text, r2.headers.get('idempotent-replayed'), r2.headers.get('location')], [201, r1.text, 'true', `/api/v1/coupons/${r1.json.code}`]);
  assert.equal(couponRows(), before + 1);
  assertError(await issue(c.id, t2.id, op, { 'Idempotency-Key': key }), 409, 'idempotency_mismatch');
  const c2 = await customer();
  assertError(await issue(c2.id, t.id, op, { 'Idempotency-Key': key }), 409, 'idempotency_mismatch');
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${c2.id}/coupons`, viewer)).json.data, []);
  // the same key from another caller is another key
  const r3 = await issue(c.id, t.id, admin, { 'Idempotency-Key': key });
  assert.equal(r3.status, 201);
  assert.notEqual(r3.json.id, r1.json.id);
  assert.equal(couponRows(), before + 2);
  // redeem: a replay answers the first success, not 409
  const rk = unique('idem-redeem');
  const u1 = await redeem(r1.json.code, {}, op, { 'Idempotency-Key': rk });
  assert.equal(u1.status, 200);
  const u2 = await redeem(r1.json.code, {}, op, { 'Idempotency-Key': rk });
  assert.deepEqual([u2.status, u2.text, u2.headers.get('idempotent-replayed')], [200, u1.text, 'true']);
  assertError(await redeem(r1.json.code, { order_id: 1 }, op, { 'Idempotency-Key': rk }), 409, 'idempotency_mismatch');
  assertError(await redeem(r3.json.code, {}, op, { 'Idempotency-Key': rk }), 409, 'idempotency_mismatch');
  assert.equal((await timeline(c.id)).filter((e) => e.kind === 'coupon.redeemed').length, 1);
  assert.equal((await auditAll(d, { action: 'coupon.redeem', target_id: String(r1.json.id) })).length, 1);
  // a refusal inside the write is kept under its key too: the replay is the same 409
  const fk = unique('idem-refusal');
  const f1 = await redeem(r1.json.code, {}, op, { 'Idempotency-Key': fk });
  assertError(f1, 409, 'conflict');
  const f2 = await redeem(r1.json.code, {}, op, { 'Idempotency-Key': fk });
  assert.deepEqual([f2.status, f2.text], [409, f1.text]);
});

test('GET|PUT /settings/coupons: the gift pack, checked id by id, issued to each new customer', async () => {
  const g = await d.req('GET', '/api/v1/settings/coupons', viewer);
  assert.deepEqual([g.status, Object.keys(g.json)], [200, ['new_member_gift_pack']]);
  const a = await template({ kind: 'gift', value: 0, valid_days: 30, name: 'Welcome gift' });
  const b = await template({ value: 500, valid_days: 10 });
  const off = await template({ active: false });
  const put = (body, auth = admin) => d.req('PUT', '/api/v1/settings/coupons', { ...auth, body });
  for (const [body, field] of [[{}, 'new_member_gift_pack'], [{ new_member_gift_pack: 'x' }, 'new_member_gift_pack'], [{ new_member_gift_pack: null }, 'new_member_gift_pack'],
    [{ new_member_gift_pack: [a.id, 999999] }, 'new_member_gift_pack[1]'], [{ new_member_gift_pack: [a.id, b.id, off.id] }, 'new_member_gift_pack[2]'],
    [{ new_member_gift_pack: ['1'] }, 'new_member_gift_pack[0]'], [{ new_member_gift_pack: [0] }, 'new_member_gift_pack[0]'], [{ new_member_gift_pack: [a.id, null] }, 'new_member_gift_pack[1]'],
    [{ new_member_gift_pack: Array(21).fill(a.id) }, 'new_member_gift_pack'], [{ new_member_gift_pack: [], extra: 1 }, 'extra']]) {
    assertError(await put(body), 422, 'validation_failed', field);
  }
  assertError(await d.req('PUT', '/api/v1/settings/coupons', { ...admin, body: '[' }), 400, 'invalid_json');
  assert.deepEqual((await d.req('GET', '/api/v1/settings/coupons', viewer)).json, g.json, 'a refused PUT changed the settings');
  const ok = await put({ new_member_gift_pack: [a.id, b.id, b.id] });
  assert.deepEqual([ok.status, ok.json], [200, { new_member_gift_pack: [a.id, b.id, b.id] }]);
  assert.deepEqual((await d.req('GET', '/api/v1/settings/coupons', viewer)).json, ok.json);
  const rows = await auditAll(d, { action: 'settings.coupons' });
  assert.deepEqual(rows[0].detail, ok.json);
  // a new customer gets the pack; a template switched off since is left out
  const c = await customer();
  const got = (await listAll(d, `/api/v1/customers/${c.id}/coupons`, viewer)).items;
  assert.deepEqual(got.map((x) => [x.template_id, x.source, x.status]).sort((x, y) => x[0] - y[0]), [[a.id, 'gift_pack', 'active'], [b.id, 'gift_pack', 'active'], [b.id, 'gift_pack', 'active']]);
  assert.equal(got.find((x) => x.template_id === a.id).expires_at, iso(dayEnd(secs(got[0].issued_at), 30)));
  assert.equal((await d.req('PATCH', `/api/v1/coupon-templates/${b.id}`, { ...op, body: { active: false } })).status, 200);
  const c2 = await customer();
  assert.deepEqual((await listAll(d, `/api/v1/customers/${c2.id}/coupons`, viewer)).items.map((x) => x.template_id), [a.id]);
  assert.equal((await put({ new_member_gift_pack: [] })).status, 200);
  const c3 = await customer();
  assert.deepEqual((await listAll(d, `/api/v1/customers/${c3.id}/coupons`, viewer)).items, []);
});
