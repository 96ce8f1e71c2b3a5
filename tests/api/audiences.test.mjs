// Audiences, auto tags and the rule language at the API: every rule error is
// a 422 naming the exact path and what is allowed; SQL-looking text, LIKE
// wildcards and unicode in every string value are plain values; the audience
// CRUD (shape, merge patch, 409, 404, 401/403, audit rows); the preview; the
// live member list through every page; the CSV export (BOM, quoting, formula
// guard, several pages); auto tags applied at once and kept current by
// orders, refunds, points, manual tags, check-ins, coupons, attrs, wallet and
// stage changes, with tag.added / tag.removed events; audience evaluation and
// the daily job with audience.entered / audience.left events as the test clock
// moves (days since the last order; "current" birthday month as the month
// turns); and GET /analytics/funnel on a fresh daemon, stage by stage. The
// brute-force comparison of random rules is in rules_random.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, withDaemon, assertError, auditAll, sqlite, sqliteJson, listAll, unique, isoSeconds } from './lib.mjs';

const CLOCK = { env: { SCRM_TEST_CLOCK: '1' } };
const d = await fileDaemon(CLOCK);
const admin = { token: await d.adminToken() };
const op = { token: await d.token('operator', 'audiences-operator') };
const viewer = { token: await d.token('viewer', 'audiences-viewer') };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const AUDIENCE_KEYS = ['created_at', 'created_by', 'customer_count', 'evaluated_at', 'id', 'name', 'rule', 'updated_at'];
const DAY = 86400;
const nowS = () => Math.floor(Date.now() / 1000);
// Asia/Shanghai (the default business zone) is UTC+8 all year.
const shDay = (sec) => Math.floor((sec + 8 * 3600) / DAY);
const shNoon = (day) => day * DAY - 8 * 3600 + 12 * 3600;

// The operator token of each daemon (the file's, and the fresh ones of single tests).
const OPERATOR = new Map([[d, op]]);
const opOf = (dm) => OPERATOR.get(dm);
async function freshDaemon(t) {
  const dm = await withDaemon(t, CLOCK);
  OPERATOR.set(dm, { token: await dm.token('operator', 'fresh-operator') });
  const adm = { token: await dm.adminToken() };
  const clock = async (sec) => ok(await dm.req('PUT', '/api/v1/admin/clock', { ...adm, body: { offset_s: sec - nowS() } }), 200).now;
  return { dm, o: opOf(dm), adm, clock };
}

function ok(r, status, what = '') {
  assert.equal(r.status, status, `${what} ${r.text}`);
  return r.json;
}
async function customer(body = {}, dm = d) {
  return ok(await dm.req('POST', '/api/v1/customers', { ...opOf(dm), body: { name: unique('aud'), ...body } }), 201, 'POST /customers');
}
async function getCustomer(id, dm = d) {
  return ok(await dm.req('GET', `/api/v1/customers/${id}`, opOf(dm)), 200);
}
let orderSeq = 0;
async function order(customerId, body = {}, dm = d) {
  const b = { platform: 'tmall', external_id: `aud-${process.pid}-${++orderSeq}`, amount_cents: 5000, paid_at: isoSeconds(nowS() - 3600), customer_id: customerId, ...body };
  return ok(await dm.req('POST', '/api/v1/orders', { ...opOf(dm), body: b }), 201, 'POST /orders');
}
async function setStatus(o, status, dm = d) {
  return ok(await dm.req('POST', '/api/v1/orders', { ...opOf(dm), body: { platform: o.platform, external_id: o.external_id, status } }), 200, `order -> ${status}`);
}
async function preview(rule, dm = d, auth = opOf(dm)) {
  const r = ok(await dm.req('POST', '/api/v1/audiences/preview', { ...auth, body: { rule } }), 200, `preview ${JSON.stringify(rule)}`);
  return r;
}
// The ids a rule finds, newest first, through a saved audience's pages.
async function members(audienceId, dm = d, limit = 500) {
  return (await listAll(dm, `/api/v1/audiences/${audienceId}/customers`, opOf(dm), { limit })).items.map((c) => c.id);
}
async function timeline(id, dm = d) {
  return (await listAll(dm, `/api/v1/customers/${id}/timeline`, opOf(dm))).items;
}
const tagEvents = (tl, tagId) => tl.filter((e) => e.ref_type === 'tag' && e.ref_id === tagId).map((e) => [e.kind, e.data]).reverse();
const audEvents = (tl, audId) => tl.filter((e) => e.ref_type === 'audience' && e.ref_id === audId).map((e) => [e.kind, e.data]).reverse();
const desc = (ids) => [...ids].sort((a, b) => b - a);
const mark = (m) => ({ field: 'attrs.m', op: '=', value: m });
async function tagHolders(tagId, m, dm = d) {
  const r = await preview({ all: [mark(m), { field: 'tag', op: 'has', value: tagId }] }, dm);
  return r.sample.map((c) => c.id);
}

// Rule errors --------------------------------------------------------------------

const OK_LEAF = { field: 'order_count', op: '>=', value: 0 };
const leaf = (field, op, value) => (value === undefined ? { field, op } : { field, op, value });
let nest = OK_LEAF;
for (let i = 0; i < 10; i++) nest = { not: nest };
let nestOk = OK_LEAF;
for (let i = 0; i < 9; i++) nestOk = { not: nestOk };
const FIELDS_MSG = /order_count, total_spent_cents, .*coupon_expiring_in_days, attrs\.<key>/;
const ATTR_KEY_MSG = /an attrs key is 1 to 64 characters of A-Z, a-z, 0-9 and _/;
// [rule, the path named, what the message must say]
const RULE_ERRORS = [
  // the shape of nodes
  [{}, 'rule.field', /rule\.field is required: one of order_count/],
  [{ field: 5, op: '=', value: 1 }, 'rule.field', /is required: one of/],
  [{ field: 'nope', op: '=', value: 1 }, 'rule.field', FIELDS_MSG],
  [{ field: 'Order_Count', op: '=', value: 1 }, 'rule.field', /unknown field 'Order_Count'/],
  [{ field: 'order_count', op: '=', value: 1, extra: 1 }, 'rule.extra', /unknown key 'extra'; a condition is \{"field", "op", "value"\}/],
  [{ field: 'order_count', op: '=', Value: 1 }, 'rule.Value', /unknown key 'Value'/],
  [{ all: [] }, 'rule.all', /rule\.all must be a list of at least one condition/],
  [{ any: [] }, 'rule.any', /at least one condition/],
  [{ any: {} }, 'rule.any', /must be a list/],
  [{ all: 5 }, 'rule.all', /must be a list/],
  [{ all: null }, 'rule.all', /must be a list/],
  [{ all: [OK_LEAF], any: [OK_LEAF] }, 'rule', /all\/any stand alone in their object/],
  [{ all: [OK_LEAF], field: 'order_count' }, 'rule', /stand alone/],
  [{ not: OK_LEAF, op: '=' }, 'rule', /not stands alone in its object/],
  [{ not: 5 }, 'rule.not', /rule\.not must be an object: \{"all": \[\.\.\.\]\}, \{"any": \[\.\.\.\]\}, \{"not": \{\.\.\.\}\} or \{"field", "op", "value"\}/],
  [{ not: [] }, 'rule.not', /must be an object/],
  [{ all: [OK_LEAF, 'x'] }, 'rule.all[1]', /rule\.all\[1\] must be an object/],
  [{ any: [null] }, 'rule.any[0]', /must be an object/],
  [{ any: [[OK_LEAF]] }, 'rule.any[0]', /must be an object/],
  // where the fault is, however deep
  [{ all: [OK_LEAF, OK_LEAF, leaf('order_count', '=', 'x')] }, 'rule.all[2].value', /rule\.all\[2\]\.value must be a whole number/],
  [{ not: leaf('order_count', '~', 1) }, 'rule.not.op', /rule\.not\.op must be one of = != > >= < <= in not_in between for order_count/],
  [{ any: [{ all: [OK_LEAF, leaf('bogus', '=', 1)] }] }, 'rule.any[0].all[1].field', /unknown field 'bogus'/],
  [{ any: [OK_LEAF, { not: { all: [leaf('stage', 'in', ['added', 'converted', 'buyer'])] } }] }, 'rule.any[1].not.all[0].value[2]', /must be one of added, observing, interested, converted, sharing, repurchasing/],
  [{ all: [{ any: [{ not: { any: [OK_LEAF, leaf('tag', 'has', 0)] } }] }] }, 'rule.all[0].any[0].not.any[1].value', /must be a name or a positive id/],
  // the limits
  [nest, `rule${'.not'.repeat(10)}`, /rules nest 10 levels deep at most/],
  [{ all: Array.from({ length: 200 }, () => OK_LEAF) }, 'rule.all[199]', /a rule holds 200 conditions at most/],
  [{ any: [{ all: Array.from({ length: 150 }, () => OK_LEAF) }, { all: Array.from({ length: 50 }, () => OK_LEAF) }] }, 'rule.any[1].all[47]', /200 conditions at most/],
  [leaf('tag', 'in', Array.from({ length: 1001 }, (_, i) => i + 1)), 'rule.value', /rule\.value must be a list of 1 to 1000 values/],
  [leaf('order_count', 'not_in', Array.from({ length: 1001 }, () => 1)), 'rule.value', /1 to 1000 values/],
  [leaf('attrs.note', 'in', ['x'.repeat(1001)]), 'rule.value[0]', /must be a string, a number or true\/false/],
  // operators per field
  [leaf('order_count', 'like', 1), 'rule.op', /must be one of = != > >= < <= in not_in between for order_count/],
  [{ field: 'order_count', value: 1 }, 'rule.op', /for order_count/],
  [leaf('order_count', 5, 1), 'rule.op', /for order_count/],
  [leaf('order_count', 'exists'), 'rule.op', /for order_count/],
  [leaf('order_count', 'has', 1), 'rule.op', /for order_count/],
  [leaf('source_channel_id', '>', 1), 'rule.op', /= != in not_in exists for source_channel_id/],
  [leaf('days_since_created', 'in', [1]), 'rule.op', /= != > >= < <= between exists for days_since_created/],
  [leaf('birthday_month', '>', 3), 'rule.op', /= != in not_in exists for birthday_month/],
  [leaf('birthday_in_days', '>', 3), 'rule.op', /= < <= between for birthday_in_days/],
  [leaf('birthday_in_days', 'exists'), 'rule.op', /for birthday_in_days/],
  [leaf('stage', 'between', ['added', 'converted']), 'rule.op', /= != in not_in > >= < <= for stage/],
  [leaf('tier', '>', 'Gold'), 'rule.op', /= != in not_in exists for tier/],
  [leaf('tag', '=', 'vip'), 'rule.op', /has has_not in not_in for tag/],
  [leaf('platform', '=', 'tmall'), 'rule.op', /has has_not in not_in for platform/],
  [leaf('category', 'exists'), 'rule.op', /for category/],
  [leaf('gender', 'has', 'm'), 'rule.op', /= != in not_in for gender/],
  [leaf('group_id', '=', 1), 'rule.op', /has has_not in not_in for group_id/],
  [leaf('coupon_expiring_in_days', '>', 3), 'rule.op', /< <= between exists for coupon_expiring_in_days/],
  [leaf('attrs.level', 'has', 1), 'rule.op', /= != > >= < <= in not_in between exists for attrs\.level/],
  [leaf('order_count', 'IN', [1]), 'rule.op', /for order_count/],
  [leaf('order_count', '= ', 1), 'rule.op', /for order_count/],
  [leaf('order_count', '', 1), 'rule.op', /for order_count/],
  [leaf('order_count', 'in not_in', [1]), 'rule.op', /for order_count/],
  [leaf('order_count', 'n', [1]), 'rule.op', /for order_count/],
  // the values each field takes
  [leaf('order_count', '='), 'rule.value', /rule\.value is required/],
  [leaf('order_count', '=', null), 'rule.value', /must be a whole number/],
  [leaf('order_count', '=', '1'), 'rule.value', /must be a whole number/],
  [leaf('total_spent_cents', '>', 1.5), 'rule.value', /must be a whole number/],
  [leaf('points_balance', '<', true), 'rule.value', /must be a whole number/],
  [leaf('wallet_balance_cents', '>=', [1]), 'rule.value', /must be a whole number/],
  [leaf('source_channel_id', '=', 0), 'rule.value', /must be a positive id/],
  [leaf('owner_user_id', '!=', -1), 'rule.value', /must be a positive id/],
  [leaf('owner_user_id', 'in', [1, 'admin']), 'rule.value[1]', /must be a positive id/],
  [leaf('source_channel_id', 'exists', 'yes'), 'rule.value', /must be true or false \(or left out\) for exists/],
  [leaf('days_since_last_order', '>', -1), 'rule.value', /must be a number of days from 0 to 36500/],
  [leaf('days_since_first_order', '<', 36501), 'rule.value', /0 to 36500/],
  [leaf('days_since_created', '=', '3'), 'rule.value', /0 to 36500/],
  [leaf('days_since_last_checkin', 'between', [0, 36501]), 'rule.value[1]', /0 to 36500/],
  [leaf('days_since_last_checkin', 'between', [5, 1]), 'rule.value', /low must not be above high/],
  [leaf('days_since_last_order', 'between', [1]), 'rule.value', /must be \[low, high\]/],
  [leaf('days_since_last_order', 'between', [1, 2, 3]), 'rule.value', /must be \[low, high\]/],
  [leaf('days_since_last_order', 'between', 5), 'rule.value', /must be \[low, high\]/],
  [leaf('days_since_last_order', 'exists', 1), 'rule.value', /true or false/],
  [leaf('birthday_month', '=', 0), 'rule.value', /must be a month 1 to 12 or "current"/],
  [leaf('birthday_month', '=', 13), 'rule.value', /month 1 to 12/],
  [leaf('birthday_month', '=', 'Current'), 'rule.value', /month 1 to 12 or "current"/],
  [leaf('birthday_month', 'in', [1, 'now']), 'rule.value[1]', /month 1 to 12/],
  [leaf('birthday_month', 'not_in', []), 'rule.value', /list of 1 to 1000 values/],
  [leaf('birthday_in_days', '<=', 367), 'rule.value', /must be a number of days from 0 to 366/],
  [leaf('birthday_in_days', '=', -1), 'rule.value', /0 to 366/],
  [leaf('birthday_in_days', 'between', [10, 3]), 'rule.value', /low must not be above high/],
  [leaf('stage', '=', 'Added'), 'rule.value', /must be one of added, observing, interested, converted, sharing, repurchasing/],
  [leaf('stage', '>', 3), 'rule.value', /one of added/],
  [leaf('stage', 'in', 'added'), 'rule.value', /list of 1 to 1000 values/],
  [leaf('tier', '=', ''), 'rule.value', /must be a name or a positive id/],
  [leaf('tier', '=', 0), 'rule.value', /name or a positive id/],
  [leaf('tier', '=', true), 'rule.value', /name or a positive id/],
  [leaf('tier', 'in', ['Gold', 'x'.repeat(201)]), 'rule.value[1]', /name or a positive id/],
  [leaf('tier', 'exists', null), 'rule.value', /true or false/],
  [leaf('tag', 'has', ''), 'rule.value', /name or a positive id/],
  [leaf('tag', 'has', -3), 'rule.value', /name or a positive id/],
  [leaf('tag', 'has_not', {}), 'rule.value', /name or a positive id/],
  [leaf('tag', 'in', [1, 2.5]), 'rule.value[1]', /name or a positive id/],
  [leaf('platform', 'has', 'TMall'), 'rule.value', /must be a platform name such as tmall/],
  [leaf('platform', 'has', 'x y'), 'rule.value', /platform name/],
  [leaf('platform', 'has', ''), 'rule.value', /platform name/],
  [leaf('platform', 'has', 'a'.repeat(33)), 'rule.value', /platform name/],
  [leaf('platform', 'in', ['jd', 5]), 'rule.value[1]', /platform name/],
  [leaf('category', 'has', ''), 'rule.value', /must be a category name/],
  [leaf('category', 'has', 'c'.repeat(65)), 'rule.value', /category name/],
  [leaf('category', 'has_not', 3), 'rule.value', /category name/],
  [leaf('gender', '=', 'x'), 'rule.value', /must be m, f or u/],
  [leaf('gender', '=', 'M'), 'rule.value', /m, f or u/],
  [leaf('gender', 'not_in', ['m', 1]), 'rule.value[1]', /m, f or u/],
  [leaf('group_id', 'has', 0), 'rule.value', /must be a positive id/],
  [leaf('group_id', 'has', 'g1'), 'rule.value', /positive id/],
  [leaf('coupon_expiring_in_days', '<=', -1), 'rule.value', /0 to 36500/],
  [leaf('coupon_expiring_in_days', '<', 'soon'), 'rule.value', /0 to 36500/],
  [leaf('coupon_expiring_in_days', 'exists', 'true'), 'rule.value', /true or false/],
  [leaf('attrs.level', '=', null), 'rule.value', /must be a string, a number or true\/false/],
  [leaf('attrs.level', '=', {}), 'rule.value', /string, a number or true\/false/],
  [leaf('attrs.level', '=', [1]), 'rule.value', /string, a number or true\/false/],
  [leaf('attrs.level', 'between', [3, 1]), 'rule.value', /low must not be above high/],
  [leaf('attrs.level', 'between', [1, null]), 'rule.value[1]', /string, a number or true\/false/],
  [leaf('attrs.level', 'exists', 0), 'rule.value', /true or false/],
  // attrs keys: characters that mean something in a JSON path (or in SQL) are refused
  ...['', "a'b", 'a"b', 'a.b', 'a[0]', '$', 'a b', '*', 'a-b', 'ключ', 'k'.repeat(65), 'a\\b', 'a)--'].map((k) => [leaf(`attrs.${k}`, 'exists'), 'rule.field', ATTR_KEY_MSG]),
];

test('every rule error is 422 validation_failed naming the exact path and saying what is allowed (preview, audiences, auto tags)', async () => {
  const audiences = (await d.req('GET', '/api/v1/audiences?count=true', op)).json.total;
  const tags = (await d.req('GET', '/api/v1/tags?count=true', op)).json.total;
  for (const [rule, field, msg] of RULE_ERRORS) {
    const what = JSON.stringify(rule).slice(0, 300);
    const r = await d.req('POST', '/api/v1/audiences/preview', { ...op, body: { rule } });
    assertError(r, 422, 'validation_failed', field);
    assert.match(r.json.error.message, msg, what);
    const a = await d.req('POST', '/api/v1/audiences', { ...op, body: { name: unique('bad'), rule } });
    assertError(a, 422, 'validation_failed', field);
    assert.equal(a.json.error.message, r.json.error.message);
    const t = await d.req('POST', '/api/v1/tags', { ...op, body: { name: unique('bad'), kind: 'auto', rule } });
    assertError(t, 422, 'validation_failed', field);
    assert.equal(t.json.error.message, r.json.error.message);
  }
  // the rule itself must be an object
  for (const rule of [5, 'x', [], null, true]) {
    assertError(await d.req('POST', '/api/v1/audiences/preview', { ...op, body: { rule } }), 422, 'validation_failed', 'rule');
    assertError(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: unique('bad'), rule } }), 422, 'validation_failed', 'rule');
  }
  assertError(await d.req('POST', '/api/v1/audiences/preview', { ...op, body: {} }), 422, 'validation_failed', 'rule');
  assertError(await d.req('POST', '/api/v1/audiences/preview', { ...op, body: { rule: OK_LEAF, limit: 5 } }), 422, 'validation_failed', 'limit');
  // nothing was created by any of them
  assert.equal((await d.req('GET', '/api/v1/audiences?count=true', op)).json.total, audiences);
  assert.equal((await d.req('GET', '/api/v1/tags?count=true', op)).json.total, tags);
  // tags, tiers and groups must exist when a rule is written (a stored rule whose tag went away matches nobody)
  const tg = ok(await d.req('POST', '/api/v1/tags', { ...op, body: { name: unique('exists') } }), 201);
  const tier = ok(await d.req('POST', '/api/v1/tiers', { ...admin, body: { name: unique('tier'), min_points_12m: 100000000 } }), 201);
  for (const [rule, field, msg] of [
    [leaf('tag', 'has', 'no such tag'), 'rule.value', 'rule.value: there is no tag named no such tag'],
    [leaf('tag', 'in', [tg.id, 999999]), 'rule.value[1]', 'rule.value[1]: there is no tag with id 999999'],
    [leaf('tier', '=', 'Platinum'), 'rule.value', 'rule.value: there is no tier named Platinum'],
    [leaf('tier', 'not_in', [tier.name, 424242]), 'rule.value[1]', 'rule.value[1]: there is no tier with id 424242'],
    [leaf('group_id', 'has', 99999), 'rule.value', 'rule.value: there is no group with id 99999'],
    [{ any: [OK_LEAF, { not: leaf('tag', 'not_in', [tg.name, 'ghost']) }] }, 'rule.any[1].not.value[1]', 'rule.any[1].not.value[1]: there is no tag named ghost'],
  ]) {
    for (const [method, p, body] of [['POST', '/api/v1/audiences/preview', { rule }], ['POST', '/api/v1/audiences', { name: unique('ref'), rule }],
      ['POST', '/api/v1/tags', { name: unique('ref'), kind: 'auto', rule }]]) {
      const r = await d.req(method, p, { ...op, body });
      assertError(r, 422, 'validation_failed', field);
      assert.equal(r.json.error.message, msg);
    }
  }
  // just inside every limit is fine
  for (const rule of [nestOk, { all: Array.from({ length: 199 }, () => OK_LEAF) }, { any: Array.from({ length: 198 }, (_, i) => (i ? OK_LEAF : { all: [OK_LEAF] })) },
    leaf('tag', 'in', Array.from({ length: 1000 }, (_, i) => (i % 2 ? tg.id : tg.name))), leaf('tier', 'not_in', Array.from({ length: 1000 }, (_, i) => (i % 2 ? tier.id : tier.name))),
    leaf('attrs.note', '=', 'x'.repeat(1000)), leaf(`attrs.${'k'.repeat(64)}`, 'exists'), leaf('attrs.1st', 'exists', false), leaf('days_since_created', '<=', 36500),
    leaf('birthday_in_days', 'between', [0, 366]), leaf('birthday_month', 'in', ['current', 1, 12]), leaf('platform', 'has', 'a'.repeat(32)), leaf('category', 'has', 'c'.repeat(64)),
    leaf('order_count', 'between', [2, 2]), leaf('attrs.x', 'between', ['b', 'a'])]) {
    const r = await d.req('POST', '/api/v1/audiences/preview', { ...op, body: { rule } });
    assert.equal(r.status, 200, `${JSON.stringify(rule).slice(0, 200)}: ${r.text}`);
  }
});

// Injection --------------------------------------------------------------------------

const EVIL = ["x' OR 1=1 --", '"); DROP TABLE customers; --', "'; DELETE FROM tags; --", '%', '_', '%_%', '*', '\\', "Robert'); DROP TABLE orders;--", '标签🙂', 'Ünïcode ÿ'];

test('SQL, LIKE wildcards and unicode in every string value are plain values: the answers are exactly the holders, the tables intact', async () => {
  const m = unique('inj');
  const tablesBefore = sqlite(d.db, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name);");
  const ctl = await customer({ name: 'control', attrs: { m, city: 'plain' } });
  const cs = [];
  for (let i = 0; i < EVIL.length; i++) {
    const s = EVIL[i];
    const c = await customer({ name: s, attrs: { m, city: s, [`k${i}`]: s }, gender: 'f' });
    ok(await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: { names: [s] } }), 200, 'tag by name');
    await order(c.id, { platform: 'jd', items: [{ sku: `s${i}`, category: s, price_cents: 100 }] });
    cs.push(c);
  }
  // a tier whose name is SQL, given by override
  const tierName = `Gold' OR '1'='1 ${m.slice(-6)}`;
  const tier = ok(await d.req('POST', '/api/v1/tiers', { ...admin, body: { name: tierName, min_points_12m: 100000000 } }), 201);
  ok(await d.req('PUT', `/api/v1/customers/${cs[0].id}/tier`, { ...op, body: { tier_id: tier.id, until: isoSeconds(nowS() + 30 * DAY) } }), 200, 'tier override');
  const all = [ctl.id, ...cs.map((c) => c.id)];
  const within = (rule) => ({ all: [mark(m), rule] });
  const expect = async (rule, ids, what) => {
    const r = await preview(within(rule));
    assert.deepEqual(r.sample.map((c) => c.id), desc(ids), `${what}: ${JSON.stringify(rule)}`);
    assert.equal(r.count, ids.length, what);
  };
  for (let i = 0; i < EVIL.length; i++) {
    const s = EVIL[i], id = cs[i].id;
    await expect({ field: 'tag', op: 'has', value: s }, [id], `tag ${s}`);
    await expect({ field: 'tag', op: 'has_not', value: s }, all.filter((x) => x !== id), `no tag ${s}`);
    await expect({ field: 'category', op: 'has', value: s }, [id], `category ${s}`);
    await expect({ field: 'category', op: 'not_in', value: [s] }, all.filter((x) => x !== id), `not category ${s}`);
    await expect({ field: 'attrs.city', op: '=', value: s }, [id], `attrs value ${s}`);
    await expect({ field: 'attrs.city', op: '!=', value: s }, all.filter((x) => x !== id), `attrs value != ${s}`);
    await expect({ field: `attrs.k${i}`, op: 'exists' }, [id], `attrs key k${i}`);
    // a tier must exist to be asked for: the name is looked up, as a value
    const r = await d.req('POST', '/api/v1/audiences/preview', { ...op, body: { rule: within({ field: 'tier', op: '=', value: s }) } });
    assertError(r, 422, 'validation_failed', 'rule.all[1].value');
    assert.equal(r.json.error.message, `rule.all[1].value: there is no tier named ${s}`);
  }
  await expect({ field: 'tag', op: 'in', value: [EVIL[0], '%', EVIL[9]] }, [cs[0].id, cs[3].id, cs[9].id], 'in list of tags');
  await expect({ field: 'attrs.city', op: 'in', value: ['%', '_', "x' OR 1=1 --"] }, [cs[3].id, cs[4].id, cs[0].id], 'in list of attrs');
  await expect({ field: 'attrs.city', op: 'not_in', value: EVIL }, [ctl.id], 'not_in list of attrs');
  await expect({ field: 'category', op: 'in', value: ['%_%', '*'] }, [cs[5].id, cs[6].id], 'in list of categories');
  await expect({ field: 'tier', op: '=', value: tierName }, [cs[0].id], 'the tier named with SQL');
  await expect({ field: 'tier', op: 'in', value: [tierName, tier.id] }, [cs[0].id], 'tiers by name and id');
  await expect({ field: 'tier', op: '!=', value: tierName }, all.filter((x) => x !== cs[0].id), 'not the tier');
  // text compares as text: '%' < 'Ü...' by bytes, never as a pattern
  await expect({ field: 'attrs.city', op: '>=', value: '标' }, [cs[9].id], 'text order by bytes');
  await expect({ field: 'attrs.city', op: 'between', value: ['%', '&'] }, [cs[3].id, cs[5].id], 'between texts');
  // values that must be names are refused, not run
  for (const [rule, field] of [[{ field: 'platform', op: 'has', value: EVIL[0] }, 'rule.value'], [{ field: 'gender', op: '=', value: "m' OR '1'='1" }, 'rule.value'],
    [{ field: 'stage', op: 'in', value: ['added', EVIL[1]] }, 'rule.value[1]'], [{ field: 'platform', op: 'in', value: ['jd', '%'] }, 'rule.value[1]'],
    [{ field: "attrs.city') OR 1=1 --", op: 'exists' }, 'rule.field'], [{ field: 'attrs.a.b', op: 'exists' }, 'rule.field'], [{ field: 'attrs.a[0]', op: '=', value: 1 }, 'rule.field'],
    [{ field: "order_count' OR 1=1 --", op: '=', value: 1 }, 'rule.field'], [{ field: 'order_count', op: "= 1 OR 1=1 --", value: 1 }, 'rule.op']]) {
    assertError(await d.req('POST', '/api/v1/audiences/preview', { ...op, body: { rule: within(rule) } }), 422, 'validation_failed', field.replace('rule', 'rule.all[1]'));
  }
  // attrs keys a JSON path would read as structure are refused on customers too, so no stored key is ambiguous
  for (const k of ["a'b", 'a.b', 'a[0]', 'a"b', '$', 'a b']) {
    assertError(await d.req('PATCH', `/api/v1/customers/${ctl.id}`, { ...op, body: { attrs: { [k]: 1 } } }), 422, 'validation_failed', 'attrs');
  }
  // a saved audience and an auto tag with those values find the same people, and the export carries them intact
  const aud = ok(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: `${EVIL[1]} ${m.slice(-6)}`, rule: within({ field: 'tag', op: 'in', value: EVIL.slice(0, 3) }) } }), 201);
  assert.deepEqual([aud.customer_count, await members(aud.id)], [3, desc(cs.slice(0, 3).map((c) => c.id))]);
  const auto = ok(await d.req('POST', '/api/v1/tags', { ...op, body: { name: `${EVIL[0]} auto ${m.slice(-6)}`, kind: 'auto', rule: within({ field: 'category', op: 'has', value: EVIL[2] }) } }), 201);
  assert.equal(auto.customer_count, 1);
  assert.deepEqual(await tagHolders(auto.id, m), [cs[2].id]);
  const csv = await d.req('GET', `/api/v1/audiences/${aud.id}/export`, op);
  assert.equal(csv.status, 200);
  for (const c of cs.slice(0, 3)) assert.ok(csv.text.includes(`,"${c.name.replaceAll('"', '""')}",`) || csv.text.includes(`,${c.name},`), `${c.name} in ${csv.text}`);
  // every table is still there, and holds what the API says
  assert.equal(sqlite(d.db, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name);"), tablesBefore);
  assert.equal(Number(sqlite(d.db, 'SELECT count(*) FROM customers WHERE erased_at IS NULL;')), (await d.req('GET', '/api/v1/customers?count=true&limit=1', op)).json.total);
  assert.equal(Number(sqlite(d.db, 'SELECT count(*) FROM tags;')), (await d.req('GET', '/api/v1/tags?count=true&limit=1', op)).json.total);
  assert.equal((await getCustomer(cs[1].id)).name, EVIL[1]);
});

// Audiences CRUD -----------------------------------------------------------------------

test('audiences CRUD: 201 with Location and the shape, GET, list, merge PATCH, 409 on a taken name, DELETE 204, 404s, validation', async () => {
  const m = unique('crud');
  const a1 = await customer({ attrs: { m, level: 3 } });
  const a2 = await customer({ attrs: { m, level: 1 } });
  const name = unique('高价值人群');
  const rule = { all: [mark(m), { field: 'attrs.level', op: '>=', value: 2 }] };
  const r = await d.req('POST', '/api/v1/audiences', { ...op, body: { name, rule } });
  assert.equal(r.status, 201, r.text);
  const a = r.json;
  assert.equal(r.headers.get('location'), `/api/v1/audiences/${a.id}`);
  assert.deepEqual(Object.keys(a).sort(), AUDIENCE_KEYS);
  assert.deepEqual([a.name, a.rule, a.customer_count, a.created_by], [name, rule, 1, null]);
  for (const k of ['created_at', 'updated_at', 'evaluated_at']) assert.match(a[k], RFC3339);
  assert.equal(a.created_at, a.updated_at);
  assert.ok(Math.abs(Date.parse(a.evaluated_at) - Date.now()) < 120000, 'evaluated at creation');
  assert.deepEqual(ok(await d.req('GET', `/api/v1/audiences/${a.id}`, viewer), 200), a);
  assert.deepEqual(await members(a.id), [a1.id]);
  // created from a dashboard session: created_by is the user
  const session = await d.login();
  const s = ok(await d.req('POST', '/api/v1/audiences', { session, body: { name: unique('by-session'), rule: mark(m) } }), 201);
  assert.deepEqual([s.created_by, s.customer_count], [session.user.id, 2]);
  // the list: every audience once, in id order
  const list = await listAll(d, '/api/v1/audiences', viewer, { count: true, limit: 1 });
  assert.equal(list.total, Number(sqlite(d.db, 'SELECT count(*) FROM audiences;')));
  assert.deepEqual(list.items.map((x) => x.id), [...list.items.map((x) => x.id)].sort((x, y) => x - y));
  assert.deepEqual(list.items.find((x) => x.id === a.id), a);
  // PATCH: name only keeps the rule and does not evaluate; a rule re-evaluates
  const n2 = unique('renamed');
  const p1 = ok(await d.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body: { name: n2 } }), 200);
  assert.deepEqual([p1.name, p1.rule, p1.customer_count, p1.evaluated_at, p1.created_at], [n2, rule, 1, a.evaluated_at, a.created_at]);
  const rule2 = { all: [mark(m), { field: 'attrs.level', op: '<', value: 5 }] };
  const p2 = ok(await d.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body: { rule: rule2 } }), 200);
  assert.deepEqual([p2.name, p2.rule, p2.customer_count], [n2, rule2, 2]);
  assert.deepEqual(await members(a.id), desc([a1.id, a2.id]));
  assert.deepEqual(ok(await d.req('GET', `/api/v1/audiences/${a.id}`, viewer), 200), p2);
  // an empty patch changes nothing, updated_at included (a second later, so that it would show)
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(ok(await d.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body: {} }), 200), p2);
  // names are unique; a rename onto a taken name is refused too
  assertError(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: s.name, rule } }), 409, 'conflict', 'name');
  assertError(await d.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body: { name: s.name } }), 409, 'conflict', 'name');
  // validation of the body
  for (const [body, field] of [[{ rule }, 'name'], [{ name: unique('x') }, 'rule'], [{ name: '', rule }, 'name'], [{ name: 'x'.repeat(51), rule }, 'name'],
    [{ name: 5, rule }, 'name'], [{ name: 'tab\there', rule }, 'name'], [{ name: null, rule }, 'name'], [{ name: unique('x'), rule, customer_count: 3 }, 'customer_count'],
    [{ name: unique('x'), rule: null }, 'rule']]) {
    assertError(await d.req('POST', '/api/v1/audiences', { ...op, body }), 422, 'validation_failed', field);
  }
  for (const [body, field] of [[{ name: '' }, 'name'], [{ rule: null }, 'rule'], [{ rule: {} }, 'rule.field'], [{ id: 5 }, 'id'], [{ evaluated_at: null }, 'evaluated_at']]) {
    assertError(await d.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body }), 422, 'validation_failed', field);
  }
  assertError(await d.req('POST', '/api/v1/audiences', { ...op, body: '{"name":' }), 400, 'invalid_json');
  assertError(await d.req('POST', `/api/v1/audiences/${a.id}/evaluate`, { ...op, body: { force: true } }), 422, 'validation_failed', 'force');
  assert.deepEqual(ok(await d.req('GET', `/api/v1/audiences/${a.id}`, viewer), 200), p2);
  // DELETE: 204, then 404 everywhere; the members' rows go with it
  const del = await d.req('DELETE', `/api/v1/audiences/${a.id}`, op);
  assert.deepEqual([del.status, del.text], [204, '']);
  assert.equal(sqlite(d.db, `SELECT count(*) FROM audience_members WHERE audience_id = ${a.id};`), '0');
  for (const id of [a.id, 999999, 0, 'abc', -1]) {
    assertError(await d.req('GET', `/api/v1/audiences/${id}`, viewer), 404, 'not_found');
    assertError(await d.req('PATCH', `/api/v1/audiences/${id}`, { ...op, body: { name: unique('x') } }), 404, 'not_found');
    assertError(await d.req('DELETE', `/api/v1/audiences/${id}`, op), 404, 'not_found');
    assertError(await d.req('GET', `/api/v1/audiences/${id}/customers`, viewer), 404, 'not_found');
    assertError(await d.req('GET', `/api/v1/audiences/${id}/export`, viewer), 404, 'not_found');
    assertError(await d.req('POST', `/api/v1/audiences/${id}/evaluate`, op), 404, 'not_found');
  }
  // the name is free again
  assert.equal(ok(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: n2, rule: mark(m) } }), 201).customer_count, 2);
  // Idempotency-Key: the same answer, one audience
  const key = unique('idem-aud');
  const body = { name: unique('idem'), rule: mark(m) };
  const i1 = await d.req('POST', '/api/v1/audiences', { ...op, body, headers: { 'Idempotency-Key': key } });
  const i2 = await d.req('POST', '/api/v1/audiences', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.deepEqual([i1.status, i2.status, i2.text, i2.headers.get('idempotent-replayed')], [201, 201, i1.text, 'true']);
  assertError(await d.req('POST', '/api/v1/audiences', { ...op, body: { ...body, name: unique('other') }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
});

test('audience routes need auth (401); a viewer reads, previews and exports but gets 403 on every write; writes are audited', async () => {
  const m = unique('auth');
  const c = await customer({ attrs: { m } });
  const a = ok(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: unique('audited'), rule: mark(m) } }), 201);
  const routes = [['GET', '/api/v1/audiences'], ['GET', `/api/v1/audiences/${a.id}`], ['GET', `/api/v1/audiences/${a.id}/customers`], ['GET', `/api/v1/audiences/${a.id}/export`],
    ['POST', '/api/v1/audiences/preview', { rule: mark(m) }], ['GET', '/api/v1/analytics/funnel'],
    ['POST', '/api/v1/audiences', { name: unique('v'), rule: mark(m) }], ['PATCH', `/api/v1/audiences/${a.id}`, { name: unique('v') }],
    ['POST', `/api/v1/audiences/${a.id}/evaluate`], ['DELETE', `/api/v1/audiences/${a.id}`]];
  for (const [method, p, body] of routes) {
    assertError(await d.req(method, p, { body }), 401, 'unauthorized');
    assertError(await d.req(method, p, { body, token: 'not-a-token' }), 401, 'unauthorized');
    const r = await d.req(method, p, { ...viewer, body });
    if (method === 'GET' || p.endsWith('/preview')) assert.equal(r.status, 200, `${method} ${p}: ${r.text}`);
    else assertError(r, 403, 'forbidden');
  }
  assert.deepEqual(ok(await d.req('GET', `/api/v1/audiences/${a.id}`, viewer), 200), a);
  // the audit rows of create, update (name and rule), evaluate, delete
  const n2 = unique('audited-2');
  ok(await d.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body: { name: n2 } }), 200);
  ok(await d.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body: { rule: { all: [mark(m), { field: 'order_count', op: '>', value: 0 }] } } }), 200);
  ok(await d.req('POST', `/api/v1/audiences/${a.id}/evaluate`, op), 200);
  assert.equal((await d.req('DELETE', `/api/v1/audiences/${a.id}`, op)).status, 204);
  const rows = (await auditAll(d, { target_type: 'audience', target_id: String(a.id) })).reverse();
  assert.deepEqual(rows.map((x) => [x.action, x.status, x.detail]), [
    ['audience.create', 201, { count: 1, entered: 1, left: 0 }], ['audience.export', 200, { name: a.name }], ['audience.update', 200, {}], ['audience.update', 200, { count: 0, entered: 0, left: 1 }],
    ['audience.evaluate', 200, { count: 0, entered: 0, left: 0 }], ['audience.delete', 204, {}],
  ]);
  assert.ok(rows.every((x) => x.target_type === 'audience' && x.target_id === a.id));
  // who took the file of phones and e-mails
  assert.deepEqual([rows[1].actor_name, rows[1].method, rows[1].path], ['audiences-viewer', 'GET', `/api/v1/audiences/${a.id}/export`]);
  // previews and reads are not writes: nothing in the audit log for them
  assert.equal((await auditAll(d, { action: 'audience.preview' })).length, 0);
  assert.ok(c.id > 0);
});

// Preview and members -----------------------------------------------------------------------

test('POST /audiences/preview: count, a sample of the newest 20 in the customers shape, took_ms', async () => {
  const m = unique('prev');
  const ids = [];
  for (let i = 0; i < 26; i++) ids.push((await customer({ attrs: { m, i }, gender: i % 2 ? 'f' : 'm' })).id);
  const r = await preview(mark(m), d, viewer);
  assert.deepEqual(Object.keys(r).sort(), ['count', 'sample', 'took_ms']);
  assert.equal(r.count, 26);
  assert.deepEqual(r.sample.map((c) => c.id), desc(ids).slice(0, 20));
  assert.equal(typeof r.took_ms, 'number');
  assert.ok(r.took_ms >= 0 && r.took_ms < 60000, String(r.took_ms));
  // a sample entry is the customer as GET /customers/{id} gives it
  assert.deepEqual(r.sample[0], await getCustomer(ids[25]));
  assert.deepEqual(r.sample[19], await getCustomer(ids[6]));
  const f = await preview({ all: [mark(m), { field: 'gender', op: '=', value: 'f' }, { field: 'attrs.i', op: '<', value: 6 }] });
  assert.deepEqual([f.count, f.sample.map((c) => c.id)], [3, [ids[5], ids[3], ids[1]]]);
  const none = await preview({ all: [mark(m), { not: mark(m) }] });
  assert.deepEqual([none.count, none.sample], [0, []]);
  // erased customers are never counted
  assert.equal((await d.req('DELETE', `/api/v1/customers/${ids[25]}`, op)).status, 204);
  const after = await preview(mark(m));
  assert.deepEqual([after.count, after.sample[0].id], [25, ids[24]]);
});

test('GET /audiences/{id}/customers: every member exactly once through the pages, newest first, live as the rule finds them', async () => {
  const m = unique('pages');
  const ids = [];
  for (let i = 0; i < 41; i++) ids.push((await customer({ attrs: { m, n: i } })).id);
  const want = desc(ids.filter((_, i) => i % 3 !== 0));
  const a = ok(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: unique('paged'), rule: { all: [mark(m), { not: { field: 'attrs.n', op: 'in', value: ids.map((_, i) => i).filter((i) => i % 3 === 0) } }] } } }), 201);
  assert.equal(a.customer_count, want.length);
  for (const limit of [1, 2, 7, 27, 500]) {
    const got = await listAll(d, `/api/v1/audiences/${a.id}/customers`, viewer, { limit, count: true });
    assert.deepEqual(got.items.map((c) => c.id), want, `limit ${limit}`);
    assert.equal(got.total, want.length);
    assert.equal(got.pages, Math.ceil(want.length / limit));
  }
  // the list is live: a new matching customer shows at once, the stored count waits for an evaluation
  const late = await customer({ attrs: { m, n: 100 } });
  const got = await members(a.id, d, 10);
  assert.deepEqual(got, [late.id, ...want]);
  assert.equal(ok(await d.req('GET', `/api/v1/audiences/${a.id}`, op), 200).customer_count, want.length);
  const ev = ok(await d.req('POST', `/api/v1/audiences/${a.id}/evaluate`, op), 200);
  assert.deepEqual([ev.audience.customer_count, ev.entered, ev.left], [want.length + 1, 1, 0]);
  for (const [q, field] of [['limit=0', 'limit'], ['limit=501', 'limit'], ['cursor=bad!', 'cursor'], ['count=yes', 'count']]) {
    assertError(await d.req('GET', `/api/v1/audiences/${a.id}/customers?${q}`, viewer), 422, 'validation_failed', field);
  }
});

// The CSV export ---------------------------------------------------------------------------

// RFC 4180 rows (CRLF line ends, "" inside quotes).
function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      cell += ch; i++; continue;
    }
    if (ch === '"' && cell === '') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(cell); cell = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i += 2; continue; }
    assert.ok(ch !== '\n' && ch !== '\r' && ch !== '"', `a bare ${JSON.stringify(ch)} at ${i}: ${text.slice(Math.max(0, i - 40), i + 40)}`);
    cell += ch; i++;
  }
  assert.equal(cell, '', 'the file ends with CRLF');
  assert.equal(row.length, 0);
  return rows;
}
const HEADER = ['id', 'name', 'phone', 'email', 'unionid', 'gender', 'birthday', 'stage', 'tier', 'points_balance', 'wallet_balance_cents', 'order_count',
  'total_spent_cents', 'first_order_at', 'last_order_at', 'source_channel_id', 'owner_user_id', 'tags', 'created_at'];

test('GET /audiences/{id}/export: text/csv with a BOM, the header, one row per member, Chinese intact, quoting, formula cells guarded', async () => {
  const m = unique('csv');
  const tier = ok(await d.req('POST', '/api/v1/tiers', { ...admin, body: { name: `=HYPERLINK("x") ${m.slice(-5)}`, min_points_12m: 100000000 } }), 201);
  const people = [
    { name: '张三丰', phone: '13800001111', email: 'zhang@example.com', gender: 'm', birthday: '1990-12-31' },
    { name: 'Li, Na', unionid: `u-${m}`, birthday: '--02-29', gender: 'f' },
    { name: 'O"Neil "the" one' },
    { name: '=SUM(A1:A9)', email: '=cmd@example.com' },
    { name: '+86 trick', unionid: `-${m}` },
    { name: '-2+3' },
    { name: '@SUM(1)' },
    { name: '普通, "引号"' },
    { name: 'abroad', phone: '+1 415 555 0100', birthday: '--12-31' },
  ];
  const cs = [];
  for (const p of people) cs.push(await customer({ ...p, attrs: { m } }));
  ok(await d.req('PUT', `/api/v1/customers/${cs[0].id}/tier`, { ...op, body: { tier_id: tier.id, until: isoSeconds(nowS() + 10 * DAY) } }), 200);
  ok(await d.req('POST', `/api/v1/customers/${cs[0].id}/tags`, { ...op, body: { names: [`@tag ${m.slice(-5)}`] } }), 200);
  ok(await d.req('POST', `/api/v1/customers/${cs[2].id}/tags`, { ...op, body: { names: [`标签,"q" ${m.slice(-5)}`] } }), 200);
  ok(await d.req('POST', `/api/v1/customers/${cs[0].id}/wallet`, { ...op, body: { delta_cents: 1234, reason: 'topup' } }), 201);
  const o = await order(cs[0].id, { amount_cents: 25900, paid_at: '2026-01-02T03:04:05Z' });
  // no text field can hold a line break, so none can break a row
  assertError(await d.req('PATCH', `/api/v1/customers/${cs[1].id}`, { ...op, body: { name: 'two\nlines' } }), 422, 'validation_failed', 'name');
  const a = ok(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: unique('export'), rule: mark(m) } }), 201);
  const r = await d.req('GET', `/api/v1/audiences/${a.id}/export`, viewer);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /^text\/csv(;|$)/);
  assert.match(r.headers.get('content-disposition') || '', new RegExp(`attachment; filename="audience-${a.id}\\.csv"`));
  const raw = Buffer.from(await (await fetch(`${d.base}/api/v1/audiences/${a.id}/export`, { headers: { Authorization: `Bearer ${viewer.token}` } })).arrayBuffer());
  assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte-order mark');
  assert.equal(raw.subarray(3).toString('utf8'), r.text.replace(/^\uFEFF/, ''));
  const rows = parseCsv(raw.subarray(3).toString('utf8'));
  assert.deepEqual(rows[0], HEADER);
  assert.equal(rows.length, 1 + cs.length);
  assert.deepEqual(rows.slice(1).map((x) => Number(x[0])), desc(cs.map((c) => c.id)));
  const byId = new Map(rows.slice(1).map((x) => [Number(x[0]), Object.fromEntries(HEADER.map((h, i) => [h, x[i]]))]));
  const guard = (s) => (/^[=+\-@]/.test(s) ? `'${s}` : s);
  for (const c of cs) {
    const g = await getCustomer(c.id);
    const row = byId.get(c.id);
    assert.deepEqual(row, {
      id: String(g.id), name: guard(g.name), phone: g.phone ?? '', email: g.email ? guard(g.email) : '', unionid: g.unionid ? guard(g.unionid) : '', gender: g.gender,
      birthday: g.birthday ?? '', stage: g.stage, tier: g.tier ? guard(g.tier) : '', points_balance: String(g.points_balance), wallet_balance_cents: String(g.wallet_balance_cents),
      order_count: String(g.order_count), total_spent_cents: String(g.total_spent_cents), first_order_at: g.first_order_at ?? '', last_order_at: g.last_order_at ?? '',
      source_channel_id: g.source_channel_id == null ? '' : String(g.source_channel_id), owner_user_id: g.owner_user_id == null ? '' : String(g.owner_user_id),
      tags: guard(g.tags.map((t) => t.name).join('|')), created_at: g.created_at,
    }, `row of ${c.id}`);
  }
  // the exact bytes of the tricky cells
  assert.equal(byId.get(cs[0].id).name, '张三丰');
  assert.deepEqual([byId.get(cs[0].id).total_spent_cents, byId.get(cs[0].id).first_order_at, byId.get(cs[0].id).wallet_balance_cents], ['25900', o.paid_at, '1234']);
  assert.equal(byId.get(cs[0].id).tier, `'${tier.name}`);
  for (const s of ['"Li, Na"', '"O""Neil ""the"" one"', `"'=SUM(A1:A9)"`, `"'=cmd@example.com"`, `"'+86 trick"`, `"'-${m}"`, `"'-2+3"`, `"'@SUM(1)"`, '"普通, ""引号"""',
    `"'@tag ${m.slice(-5)}"`, `"标签,""q"" ${m.slice(-5)}"`, `"'=HYPERLINK(""x"") ${m.slice(-5)}"`, ',13800001111,', ',1990-12-31,',
    // phone and birthday cells are written as they are (documented): digits and dashes, nothing a spreadsheet could run
    ',--02-29,', ',+14155550100,', ',--12-31,']) {
    assert.ok(r.text.includes(s), `${s} not in the export:\n${r.text}`);
  }
  assert.equal(r.text.split('\r\n').length, cs.length + 2, 'one CRLF per row');
  // an audience nobody is in: the header alone
  const e = ok(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: unique('empty'), rule: { all: [mark(m), { field: 'order_count', op: '>', value: 100 }] } } }), 201);
  const er = await fetch(`${d.base}/api/v1/audiences/${e.id}/export`, { headers: { Authorization: `Bearer ${op.token}` } });
  assert.equal(er.status, 200);
  assert.equal(Buffer.from(await er.arrayBuffer()).toString('latin1'), Buffer.from(`\uFEFF${HEADER.join(',')}\r\n`, 'utf8').toString('latin1'));
});

test('the export streams several pages: 1203 members, each exactly once, newest first', async () => {
  const m = unique('bulk');
  const lines = Array.from({ length: 1203 }, (_, i) => JSON.stringify({ name: `批量 ${i}`, unionid: `${m}-${i}`, attrs: { m, i } })).join('\n');
  const imp = await d.req('POST', '/api/v1/customers/import', { ...op, body: Buffer.from(lines), headers: { 'Content-Type': 'application/x-ndjson' } });
  assert.equal(imp.status, 200, imp.text);
  assert.equal(imp.json.created, 1203);
  const a = ok(await d.req('POST', '/api/v1/audiences', { ...op, body: { name: unique('bulk'), rule: mark(m) } }), 201);
  assert.equal(a.customer_count, 1203);
  const r = await d.req('GET', `/api/v1/audiences/${a.id}/export`, op);
  assert.equal(r.status, 200);
  const rows = parseCsv(r.text.replace(/^\uFEFF/, ''));
  assert.deepEqual(rows[0], HEADER);
  const ids = rows.slice(1).map((x) => Number(x[0]));
  assert.equal(ids.length, 1203);
  assert.equal(new Set(ids).size, 1203);
  assert.deepEqual(ids, desc(ids));
  assert.deepEqual(await members(a.id), ids);
  assert.deepEqual(new Set(rows.slice(1).map((x) => x[1])), new Set(Array.from({ length: 1203 }, (_, i) => `批量 ${i}`)));
});

// Auto tags ---------------------------------------------------------------------------------

async function autoTag(name, rule, dm = d) {
  return ok(await dm.req('POST', '/api/v1/tags', { ...opOf(dm), body: { name, kind: 'auto', rule } }), 201, 'POST auto tag');
}
const tagCount = async (id, dm = d) => ok(await dm.req('GET', `/api/v1/tags/${id}`, opOf(dm)), 200).customer_count;
const hasTag = async (cid, tagId, dm = d) => (await getCustomer(cid, dm)).tags.some((t) => t.id === tagId);

test('an auto tag applies at once, with tag.added {name, auto: true} events; it cannot be put on or taken off by hand', async () => {
  const m = unique('at-once');
  const two = await customer({ attrs: { m } });
  const one = await customer({ attrs: { m } });
  await order(two.id);
  await order(two.id);
  await order(one.id);
  const name = unique('复购');
  const rule = { all: [mark(m), { field: 'order_count', op: '>=', value: 2 }] };
  const t = await autoTag(name, rule);
  assert.deepEqual([t.kind, t.rule, t.customer_count], ['auto', rule, 1]);
  assert.deepEqual((await getCustomer(two.id)).tags, [{ id: t.id, name }]);
  assert.deepEqual((await getCustomer(one.id)).tags, []);
  assert.deepEqual(tagEvents(await timeline(two.id), t.id), [['tag.added', { name, auto: true }]]);
  assert.deepEqual(tagEvents(await timeline(one.id), t.id), []);
  const rows = await auditAll(d, { action: 'tag.create', target_id: String(t.id) });
  assert.deepEqual(rows.map((x) => x.detail), [{ name, kind: 'auto', added: 1, removed: 0 }]);
  // by hand: refused either way, nothing changes
  assertError(await d.req('POST', `/api/v1/customers/${one.id}/tags`, { ...op, body: { tag_ids: [t.id] } }), 422, 'validation_failed', 'tag_ids[0]');
  assertError(await d.req('POST', `/api/v1/customers/${one.id}/tags`, { ...op, body: { names: [name] } }), 422, 'validation_failed', 'names[0]');
  assertError(await d.req('DELETE', `/api/v1/customers/${two.id}/tags/${t.id}`, op), 422, 'validation_failed');
  assert.equal(await tagCount(t.id), 1);
  assert.ok(await hasTag(two.id, t.id));
  // the kind cannot change, a manual tag takes no rule, an auto tag keeps one
  assertError(await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { kind: 'manual' } }), 422, 'validation_failed', 'kind');
  assertError(await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { rule: null } }), 422, 'validation_failed', 'rule');
  assertError(await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { rule: { all: [] } } }), 422, 'validation_failed', 'rule.all');
  const manual = ok(await d.req('POST', '/api/v1/tags', { ...op, body: { name: unique('manual') } }), 201);
  assertError(await d.req('PATCH', `/api/v1/tags/${manual.id}`, { ...op, body: { rule } }), 422, 'validation_failed', 'rule');
  assertError(await d.req('POST', `/api/v1/tags/${manual.id}/evaluate`, op), 422, 'validation_failed');
  assertError(await d.req('POST', '/api/v1/tags/999999/evaluate', op), 404, 'not_found');
  assertError(await d.req('POST', `/api/v1/tags/${t.id}/evaluate`, viewer), 403, 'forbidden');
  assertError(await d.req('POST', `/api/v1/tags/${t.id}/evaluate`, {}), 401, 'unauthorized');
  assert.deepEqual(ok(await d.req('GET', `/api/v1/tags/${t.id}`, op), 200).rule, rule);
});

test('auto tags are kept current by every kind of write: orders and refunds, corrections, points, manual tags, check-ins, coupons, wallet, attrs, stage, erasure', async () => {
  const m = unique('current');
  const c = await customer({ attrs: { m } });
  const other = await customer({ attrs: { m } });
  const manual = ok(await d.req('POST', '/api/v1/tags', { ...op, body: { name: unique('手动') } }), 201);
  const tpl = ok(await d.req('POST', '/api/v1/coupon-templates', { ...op, body: { name: unique('tpl'), kind: 'amount_off', value: 500, valid_days: 7 } }), 201);
  const within = (rule) => ({ all: [mark(m), rule] });
  const T = {};
  for (const [k, rule] of Object.entries({
    repeat: { field: 'order_count', op: '>=', value: 2 }, big: { field: 'total_spent_cents', op: '>=', value: 10000 }, jd: { field: 'platform', op: 'has', value: 'jd' },
    shoes: { field: 'category', op: 'has', value: '鞋' }, points: { field: 'points_balance', op: '>=', value: 300 }, tagged: { field: 'tag', op: 'has', value: manual.name },
    checkin: { field: 'days_since_last_checkin', op: '<=', value: 1 }, coupon: { field: 'coupon_expiring_in_days', op: '<=', value: 7 },
    wallet: { field: 'wallet_balance_cents', op: 'between', value: [1000, 5000] }, level: { field: 'attrs.level', op: '>', value: 2 }, stage: { field: 'stage', op: '=', value: 'observing' },
  })) T[k] = await autoTag(`${k}-${m}`, within(rule));
  const holders = async () => {
    const g = await getCustomer(c.id);
    return Object.keys(T).filter((k) => g.tags.some((t) => t.id === T[k].id)).sort();
  };
  assert.deepEqual(await holders(), []);
  const o1 = await order(c.id, { amount_cents: 6000, platform: 'jd' });
  assert.deepEqual(await holders(), ['jd']);
  const o2 = await order(c.id, { amount_cents: 7000, items: [{ sku: 'b1', category: '鞋', price_cents: 7000 }] });
  assert.deepEqual(await holders(), ['big', 'jd', 'repeat', 'shoes']);
  await setStatus(o2, 'refunded');
  assert.deepEqual(await holders(), ['jd']);
  await setStatus(o2, 'paid');
  assert.deepEqual(await holders(), ['big', 'jd', 'repeat', 'shoes']);
  await setStatus(o1, 'cancelled');
  assert.deepEqual(await holders(), ['shoes']);
  // a corrected order (amount, items) moves the figures and the masks: no event of its own, still applied
  ok(await d.req('POST', '/api/v1/orders', { ...op, body: { platform: o2.platform, external_id: o2.external_id, amount_cents: 150000, items: [{ sku: 'b2', category: '包', price_cents: 150000 }] } }), 200);
  assert.deepEqual(await holders(), ['big']);
  // points: granted, then taken below the line
  ok(await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, body: { delta: 300, reason: 'gift' } }), 201);
  assert.deepEqual(await holders(), ['big', 'points']);
  const bal = (await getCustomer(c.id)).points_balance;
  // (down to 199: the check-in below adds 5)
  ok(await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, body: { delta: -(bal - 199), reason: 'fix' } }), 201);
  assert.deepEqual(await holders(), ['big']);
  // a manual tag on and off
  ok(await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: { tag_ids: [manual.id] } }), 200);
  assert.deepEqual(await holders(), ['big', 'tagged']);
  assert.equal((await d.req('DELETE', `/api/v1/customers/${c.id}/tags/${manual.id}`, op)).status, 204);
  assert.deepEqual(await holders(), ['big']);
  // a check-in today
  ok(await d.req('POST', `/api/v1/customers/${c.id}/checkin`, op), 200);
  assert.deepEqual(await holders(), ['big', 'checkin']);
  // a coupon: issued, then redeemed
  const cp = ok(await d.req('POST', `/api/v1/customers/${c.id}/coupons`, { ...op, body: { template_id: tpl.id } }), 201);
  assert.deepEqual(await holders(), ['big', 'checkin', 'coupon']);
  ok(await d.req('POST', `/api/v1/coupons/${cp.code}/redeem`, { ...op, body: {} }), 200);
  assert.deepEqual(await holders(), ['big', 'checkin']);
  // the wallet into the band and out above it
  ok(await d.req('POST', `/api/v1/customers/${c.id}/wallet`, { ...op, body: { delta_cents: 2000, reason: 'topup' } }), 201);
  assert.deepEqual(await holders(), ['big', 'checkin', 'wallet']);
  ok(await d.req('POST', `/api/v1/customers/${c.id}/wallet`, { ...op, body: { delta_cents: 4000, reason: 'topup' } }), 201);
  assert.deepEqual(await holders(), ['big', 'checkin']);
  // attrs set and removed by a merge patch
  ok(await d.req('PATCH', `/api/v1/customers/${c.id}`, { ...op, body: { attrs: { level: 3 } } }), 200);
  assert.deepEqual(await holders(), ['big', 'checkin', 'level']);
  ok(await d.req('PATCH', `/api/v1/customers/${c.id}`, { ...op, body: { attrs: { level: null } } }), 200);
  assert.deepEqual(await holders(), ['big', 'checkin']);
  // the stage, set by hand (from repurchasing) and moved on by a share
  ok(await d.req('PATCH', `/api/v1/customers/${c.id}`, { ...op, body: { stage: 'observing' } }), 200);
  assert.deepEqual(await holders(), ['big', 'checkin', 'stage']);
  ok(await d.req('POST', `/api/v1/customers/${c.id}/content`, { ...op, body: { kind: 'share', url: 'https://example.com/s' } }), 201);
  assert.equal((await getCustomer(c.id)).stage, 'sharing');
  assert.deepEqual(await holders(), ['big', 'checkin']);
  // the timeline tells each change of one tag, marked auto
  assert.deepEqual(tagEvents(await timeline(c.id), T.big.id), [['tag.added', { name: T.big.name, auto: true }], ['tag.removed', { name: T.big.name, auto: true }],
    ['tag.added', { name: T.big.name, auto: true }], ['tag.removed', { name: T.big.name, auto: true }], ['tag.added', { name: T.big.name, auto: true }]]);
  // nobody else was touched, and each count is its holders
  assert.deepEqual((await getCustomer(other.id)).tags, []);
  for (const k of Object.keys(T)) assert.equal(await tagCount(T[k].id), ['big', 'checkin'].includes(k) ? 1 : 0, k);
  // erasure takes every auto tag away
  assert.equal((await d.req('DELETE', `/api/v1/customers/${c.id}`, op)).status, 204);
  for (const k of Object.keys(T)) assert.equal(await tagCount(T[k].id), 0, `${k} after erasure`);
});

test('a new rule re-applies the auto tag at once; POST /tags/{id}/evaluate answers what changed', async () => {
  const m = unique('rerule');
  const cs = [];
  for (let i = 0; i < 5; i++) cs.push(await customer({ attrs: { m, n: i } }));
  const t = await autoTag(unique('rerule'), { all: [mark(m), { field: 'attrs.n', op: '<', value: 2 }] });
  assert.equal(t.customer_count, 2);
  const p = ok(await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { rule: { all: [mark(m), { field: 'attrs.n', op: 'between', value: [1, 3] }] } } }), 200);
  assert.equal(p.customer_count, 3);
  assert.deepEqual(await tagHolders(t.id, m), desc([cs[1].id, cs[2].id, cs[3].id]));
  assert.deepEqual(tagEvents(await timeline(cs[0].id), t.id), [['tag.added', { name: t.name, auto: true }], ['tag.removed', { name: t.name, auto: true }]]);
  assert.deepEqual(tagEvents(await timeline(cs[3].id), t.id), [['tag.added', { name: t.name, auto: true }]]);
  const rows = await auditAll(d, { action: 'tag.update', target_id: String(t.id) });
  assert.deepEqual(rows.map((x) => x.detail), [{ name: t.name, added: 2, removed: 1 }]);
  // a rename alone keeps the holders and the rule
  const renamed = ok(await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { name: unique('renamed') } }), 200);
  assert.deepEqual([renamed.customer_count, renamed.rule], [3, p.rule]);
  // evaluate: nothing to do, then something after rows changed behind its back (a group joined in the database)
  const e1 = ok(await d.req('POST', `/api/v1/tags/${t.id}/evaluate`, op), 200);
  assert.deepEqual([e1.added, e1.removed, e1.tag.customer_count, e1.tag.id], [0, 0, 3, t.id]);
  const [g] = sqliteJson(d.db, `INSERT INTO groups(name, kind, created_at, updated_at) VALUES ('${m}', 'basic', 1, 1) RETURNING id`);
  ok(await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { rule: { all: [mark(m), { field: 'group_id', op: 'has', value: g.id }] } } }), 200);
  assert.equal(await tagCount(t.id), 0);
  sqliteJson(d.db, `INSERT INTO group_members(group_id, customer_id, joined_at) VALUES (${g.id}, ${cs[4].id}, 1), (${g.id}, ${cs[0].id}, 1)`);
  const e2 = ok(await d.req('POST', `/api/v1/tags/${t.id}/evaluate`, { ...op, body: {} }), 200);
  assert.deepEqual([e2.added, e2.removed, e2.tag.customer_count], [2, 0, 2]);
  assert.deepEqual(await tagHolders(t.id, m), desc([cs[0].id, cs[4].id]));
  assert.deepEqual((await auditAll(d, { action: 'tag.evaluate', target_id: String(t.id) })).map((x) => x.detail), [{ added: 2, removed: 0 }, { added: 0, removed: 0 }]);
});

test('an auto tag that reads a later auto tag follows it in the same write (chains a few deep)', async () => {
  const m = unique('chain');
  // two readers made first, so that their ids are lower than what they will read
  const second = await autoTag(unique('second'), { all: [mark(m), { field: 'attrs.v', op: '=', value: 1 }] });
  const first = await autoTag(unique('first'), { all: [mark(m), { field: 'attrs.v', op: '=', value: 1 }] });
  const buyer = await autoTag(unique('buyer'), { all: [mark(m), { field: 'order_count', op: '>=', value: 1 }] });
  ok(await d.req('PATCH', `/api/v1/tags/${first.id}`, { ...op, body: { rule: { all: [mark(m), { field: 'tag', op: 'has', value: buyer.id }] } } }), 200);
  ok(await d.req('PATCH', `/api/v1/tags/${second.id}`, { ...op, body: { rule: { all: [mark(m), { field: 'tag', op: 'has', value: first.id }] } } }), 200);
  const c = await customer({ attrs: { m } });
  assert.equal(await hasTag(c.id, second.id), false);
  await order(c.id);
  // one write: buyer, then first (reads buyer, a later id), then second (reads first)
  for (const t of [buyer, first, second]) assert.equal(await hasTag(c.id, t.id), true, `has ${t.name}`);
});

// Evaluation over time ----------------------------------------------------------------------

test('audiences over time: evaluate and the daily job record audience.entered / audience.left and update customer_count and evaluated_at as the days pass', async (t) => {
  const { dm, o: op, adm, clock } = await freshDaemon(t);
  const today = shDay(nowS()) + 3;
  await clock(shNoon(today) - 3600);
  // last orders 1, 2, 3 and 4 days ago (noon, Shanghai)
  const cs = [];
  for (let k = 1; k <= 4; k++) {
    const c = await customer({ name: `days ${k}` }, dm);
    await order(c.id, { paid_at: isoSeconds(shNoon(today - k)) }, dm);
    cs.push(c);
  }
  const [A, B, C, E] = cs.map((c) => c.id);
  const ids = async (rule) => (await preview(rule, dm)).sample.map((c) => c.id);
  const between = (lo, hi) => ({ field: 'days_since_last_order', op: 'between', value: [lo, hi] });
  assert.deepEqual(await ids(between(2, 3)), [C, B]);
  const name = unique('沉睡预警');
  const a = ok(await dm.req('POST', '/api/v1/audiences', { ...op, body: { name, rule: between(2, 3) } }), 201);
  assert.equal(a.customer_count, 2);
  // the members at creation are the starting point: no events for them
  for (const id of [A, B, C, E]) assert.deepEqual(audEvents(await timeline(id, dm), a.id), []);
  // a new rule: who entered and who left
  const p = ok(await dm.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body: { rule: between(1, 2) } }), 200);
  assert.equal(p.customer_count, 2);
  assert.deepEqual(audEvents(await timeline(A, dm), a.id), [['audience.entered', { name }]]);
  assert.deepEqual(audEvents(await timeline(C, dm), a.id), [['audience.left', { name }]]);
  assert.deepEqual(audEvents(await timeline(B, dm), a.id), []);
  ok(await dm.req('PATCH', `/api/v1/audiences/${a.id}`, { ...op, body: { rule: between(2, 3) } }), 200);
  // an auto tag that reads the calendar too
  const tag = await autoTag(unique('近两天下单'), { field: 'days_since_last_order', op: '<=', value: 2 }, dm);
  assert.equal(tag.customer_count, 2);
  // a day later: the live views move at once, the stored membership at the daily job
  const now1 = await clock(shNoon(today + 1));
  assert.deepEqual(await ids(between(2, 3)), [B, A]);
  assert.deepEqual(await members(a.id, dm), [B, A]);
  assert.equal(ok(await dm.req('GET', `/api/v1/audiences/${a.id}`, op), 200).customer_count, 2);
  assert.deepEqual(audEvents(await timeline(A, dm), a.id).length, 2);
  const j = ok(await dm.req('POST', '/api/v1/admin/jobs/daily', adm), 200);
  assert.deepEqual([j.audiences, j.audience_entered, j.audience_left, j.auto_tags, j.tags_added, j.tags_removed], [1, 1, 1, 1, 0, 1]);
  const g1 = ok(await dm.req('GET', `/api/v1/audiences/${a.id}`, op), 200);
  assert.equal(g1.customer_count, 2);
  assert.ok(Math.abs(Date.parse(g1.evaluated_at) - Date.parse(now1)) < 5000, `${g1.evaluated_at} vs ${now1}`);
  assert.deepEqual(audEvents(await timeline(A, dm), a.id), [['audience.entered', { name }], ['audience.left', { name }], ['audience.entered', { name }]]);
  assert.deepEqual(audEvents(await timeline(C, dm), a.id), [['audience.left', { name }], ['audience.entered', { name }], ['audience.left', { name }]]);
  assert.deepEqual(audEvents(await timeline(B, dm), a.id), []);
  assert.deepEqual(tagEvents(await timeline(B, dm), tag.id), [['tag.added', { name: tag.name, auto: true }], ['tag.removed', { name: tag.name, auto: true }]]);
  assert.equal(await tagCount(tag.id, dm), 1);
  // running it again the same day changes nothing
  const j2 = ok(await dm.req('POST', '/api/v1/admin/jobs/daily', adm), 200);
  assert.deepEqual([j2.audience_entered, j2.audience_left, j2.tags_added, j2.tags_removed], [0, 0, 0, 0]);
  // two days on, by hand: B leaves, nobody enters (A is 3 days out, still in)
  const now2 = await clock(shNoon(today + 2));
  const ev = ok(await dm.req('POST', `/api/v1/audiences/${a.id}/evaluate`, op), 200);
  assert.deepEqual(Object.keys(ev).sort(), ['audience', 'entered', 'left']);
  assert.deepEqual([ev.entered, ev.left, ev.audience.customer_count, ev.audience.id], [0, 1, 1, a.id]);
  assert.ok(Math.abs(Date.parse(ev.audience.evaluated_at) - Date.parse(now2)) < 5000);
  assert.deepEqual(audEvents(await timeline(B, dm), a.id), [['audience.left', { name }]]);
  assert.deepEqual(await members(a.id, dm), [A]);
  // a new order brings C back into "ordered in the last 2 days" with the tag at once, and into the audience at the next evaluation
  await order(C, { paid_at: isoSeconds(shNoon(today)) }, dm);
  assert.ok(await hasTag(C, tag.id, dm));
  assert.deepEqual(await members(a.id, dm), [C, A]);
  const ev2 = ok(await dm.req('POST', `/api/v1/audiences/${a.id}/evaluate`, op), 200);
  assert.deepEqual([ev2.entered, ev2.left, ev2.audience.customer_count], [1, 0, 2]);
  // audience and tag events carry the audience/tag as their reference
  const evA = (await timeline(A, dm)).find((e) => e.kind === 'audience.entered');
  assert.deepEqual([evA.ref_type, evA.ref_id], ['audience', a.id]);
});

test('"current" in a saved rule stays "current": the audience and the auto tag follow the business month as it turns', async (t) => {
  const { dm, o: op, adm, clock } = await freshDaemon(t);
  // the 15th of next month, then the 1st of the month after, at noon in Shanghai
  const sh = new Date((nowS() + 8 * 3600) * 1000);
  const y = sh.getUTCFullYear(), mo = sh.getUTCMonth(); // 0-based
  const dayOfMonth = (k, dom) => Date.UTC(y, mo + k, dom) / 1000 / DAY;
  const monthOf = (k) => new Date(Date.UTC(y, mo + k, 1)).getUTCMonth() + 1;
  const md = (k, dom) => `--${String(monthOf(k)).padStart(2, '0')}-${String(dom).padStart(2, '0')}`;
  await clock(shNoon(dayOfMonth(1, 15)));
  const now = await customer({ birthday: md(1, 20) }, dm);
  const next = await customer({ birthday: `1990${md(2, 1).slice(1)}` }, dm);
  const none = await customer({}, dm);
  const rule = { field: 'birthday_month', op: 'in', value: ['current'] };
  const a = ok(await dm.req('POST', '/api/v1/audiences', { ...op, body: { name: unique('本月生日'), rule } }), 201);
  assert.deepEqual([a.rule, a.customer_count], [rule, 1]);
  const notRule = { field: 'birthday_month', op: 'not_in', value: ['current', monthOf(3)] };
  const tag = await autoTag(unique('非本月生日'), notRule, dm);
  assert.deepEqual(tag.rule, notRule);
  assert.deepEqual(await members(a.id, dm), [now.id]);
  assert.deepEqual((await preview({ field: 'tag', op: 'has', value: tag.id }, dm)).sample.map((c) => c.id), [next.id]);
  // the month turns
  await clock(shNoon(dayOfMonth(2, 1)));
  const j = ok(await dm.req('POST', '/api/v1/admin/jobs/daily', adm), 200);
  assert.deepEqual([j.audience_entered, j.audience_left, j.tags_added, j.tags_removed], [1, 1, 1, 1]);
  assert.deepEqual(await members(a.id, dm), [next.id]);
  assert.deepEqual(ok(await dm.req('GET', `/api/v1/audiences/${a.id}`, op), 200).rule, rule, 'the stored rule still says "current"');
  assert.deepEqual(ok(await dm.req('GET', `/api/v1/tags/${tag.id}`, op), 200).rule, notRule);
  assert.deepEqual((await preview({ field: 'tag', op: 'has', value: tag.id }, dm)).sample.map((c) => c.id), [now.id]);
  assert.deepEqual(audEvents(await timeline(now.id, dm), a.id).map((e) => e[0]), ['audience.left']);
  assert.deepEqual(audEvents(await timeline(next.id, dm), a.id).map((e) => e[0]), ['audience.entered']);
  assert.deepEqual((await getCustomer(none.id, dm)).tags, []);
});

// The funnel -----------------------------------------------------------------------------------

test('GET /analytics/funnel on a fresh daemon: exact counts per stage; stages move with events, a stage set by hand stays until events pass it', async (t) => {
  const { dm, o: op, clock } = await freshDaemon(t);
  const t0 = nowS();
  await clock(t0 - 10 * DAY);
  const expect = new Map();
  const stageOf = async (id) => {
    const g = await getCustomer(id, dm);
    return [g.stage, g.stage_manual];
  };
  const check = async (id, stage, manual = false) => {
    assert.deepEqual(await stageOf(id), [stage, manual], `customer ${id}`);
    expect.set(id, stage);
  };
  const patch = async (id, body) => ok(await dm.req('PATCH', `/api/v1/customers/${id}`, { ...op, body }), 200);
  const checkin = async (id) => ok(await dm.req('POST', `/api/v1/customers/${id}/checkin`, op), 200);
  const share = async (id) => ok(await dm.req('POST', `/api/v1/customers/${id}/content`, { ...op, body: { kind: 'share' } }), 201);
  // ten days ago
  const added = await customer({}, dm);
  await check(added.id, 'added');
  const observing = await customer({ stage: 'observing' }, dm);
  await check(observing.id, 'observing', true);
  const interested = await customer({}, dm);
  await checkin(interested.id);
  await check(interested.id, 'interested');
  const converted = await customer({}, dm);
  await order(converted.id, {}, dm);
  await check(converted.id, 'converted');
  const repurchasing = await customer({}, dm);
  await order(repurchasing.id, {}, dm);
  await order(repurchasing.id, {}, dm);
  await check(repurchasing.id, 'repurchasing');
  const sharing = await customer({}, dm);
  await order(sharing.id, {}, dm);
  await share(sharing.id);
  await check(sharing.id, 'sharing');
  const early = [...expect.keys()];
  // now
  await clock(t0);
  // set by hand to converted: a check-in (interested) and a first order do not pass it, a second order does
  const manual = await customer({}, dm);
  await patch(manual.id, { stage: 'converted' });
  await check(manual.id, 'converted', true);
  await checkin(manual.id);
  await check(manual.id, 'converted', true);
  await order(manual.id, {}, dm);
  await check(manual.id, 'converted', true);
  const o2 = await order(manual.id, {}, dm);
  await check(manual.id, 'repurchasing');
  // stages never go back on a refund
  await setStatus(o2, 'refunded', dm);
  await check(manual.id, 'repurchasing');
  // set by hand to sharing: an order stays below it
  const mSharing = await customer({ stage: 'sharing' }, dm);
  await order(mSharing.id, {}, dm);
  await check(mSharing.id, 'sharing', true);
  // set by hand to observing: a check-in passes it
  const mObserving = await customer({}, dm);
  await patch(mObserving.id, { stage: 'observing' });
  await checkin(mObserving.id);
  await check(mObserving.id, 'interested');
  // set back by hand from repurchasing to added: it stays there, then a share passes it
  const back = await customer({}, dm);
  await order(back.id, {}, dm);
  await order(back.id, {}, dm);
  await patch(back.id, { stage: 'added' });
  await check(back.id, 'added', true);
  await share(back.id);
  await check(back.id, 'sharing');
  // a repurchaser who shares stays a repurchaser
  const rs = await customer({}, dm);
  await order(rs.id, {}, dm);
  await order(rs.id, {}, dm);
  await share(rs.id);
  await check(rs.id, 'repurchasing');
  // an erased customer counts nowhere
  const gone = await customer({}, dm);
  await order(gone.id, {}, dm);
  assert.equal((await dm.req('DELETE', `/api/v1/customers/${gone.id}`, op)).status, 204);
  const counts = (ids) => ['added', 'observing', 'interested', 'converted', 'sharing', 'repurchasing'].map((s) => ({ stage: s, count: ids.filter((id) => expect.get(id) === s).length }));
  const all = [...expect.keys()];
  const f = ok(await dm.req('GET', '/api/v1/analytics/funnel', op), 200);
  assert.deepEqual(f, { stages: counts(all), total: all.length, from: null, to: null });
  assert.deepEqual(f.stages.map((s) => s.count), [1, 1, 2, 1, 3, 3]);
  // the same numbers as the rule language finds
  for (const s of f.stages) assert.equal((await preview({ field: 'stage', op: '=', value: s.stage }, dm)).count, s.count, s.stage);
  assert.equal((await preview({ field: 'stage', op: '>=', value: 'converted' }, dm)).count, 7);
  // from/to: customers created in the window
  const cut = isoSeconds(t0 - 5 * DAY);
  const fEarly = ok(await dm.req('GET', `/api/v1/analytics/funnel?to=${cut}`, op), 200);
  assert.deepEqual([fEarly.stages, fEarly.total, fEarly.to], [counts(early), early.length, cut]);
  const late = all.filter((id) => !early.includes(id));
  const fLate = ok(await dm.req('GET', `/api/v1/analytics/funnel?from=${cut}`, op), 200);
  assert.deepEqual([fLate.stages, fLate.total, fLate.from], [counts(late), late.length, cut]);
  const fNone = ok(await dm.req('GET', `/api/v1/analytics/funnel?from=${isoSeconds(t0 + DAY)}`, op), 200);
  assert.equal(fNone.total, 0);
  assertError(await dm.req('GET', '/api/v1/analytics/funnel?from=yesterday', op), 422, 'validation_failed', 'from');
  assertError(await dm.req('GET', '/api/v1/analytics/funnel?to=2026-13-01', op), 422, 'validation_failed', 'to');
  assertError(await dm.req('GET', '/api/v1/analytics/funnel'), 401, 'unauthorized');
});
