// /api/v1/orders: upserts on (platform, external_id), validation with field
// paths, binding to customers (by phone on arrival, later when a customer gets
// the phone, by customer_id, through the binding flow), refunds and
// cancellations recounting the customer's figures, lists, Idempotency-Key and
// audit rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, auditAll, sqlite, sqliteJson, listAll, unique } from './lib.mjs';

const d = await fileDaemon();
const adminTok = await d.adminToken();
const opTok = await d.token('operator', 'orders-operator');
const viewerTok = await d.token('viewer', 'orders-viewer');
const opTokId = (await d.req('GET', '/api/v1/me', { token: opTok })).json.token.id;
const op = { token: opTok };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const ORDER_KEYS = ['amount_cents', 'bound_at', 'bound_by', 'buyer_phone', 'created_at', 'customer_id', 'external_id', 'id',
  'items', 'paid_at', 'platform', 'referral_code', 'status', 'updated_at'];

let seq = 0;
const newPhone = () => `1390${String(1000000 + ++seq).slice(-7)}`;
const base = (extra = {}) => ({ platform: 'tmall', external_id: unique('T'), amount_cents: 9900, paid_at: '2026-04-01T08:00:00Z', ...extra });

async function post(body, expect) {
  const r = await d.req('POST', '/api/v1/orders', { ...op, body });
  if (expect) assert.equal(r.status, expect, r.text);
  else assert.ok(r.status === 200 || r.status === 201, r.text);
  return r.json;
}
async function customer(body = {}) {
  const r = await d.req('POST', '/api/v1/customers', { ...op, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function cust(id) {
  const r = await d.req('GET', `/api/v1/customers/${id}`, { token: viewerTok });
  assert.equal(r.status, 200, r.text);
  return r.json;
}
async function getOrder(id) {
  const r = await d.req('GET', `/api/v1/orders/${id}`, { token: viewerTok });
  assert.equal(r.status, 200, r.text);
  return r.json;
}
async function bind(body, auth = op) {
  return d.req('POST', '/api/v1/orders/bind', { ...auth, body });
}
async function orderCount() {
  return (await d.req('GET', '/api/v1/orders?count=true&limit=1', { token: viewerTok })).json.total;
}
async function timeline(id) {
  return (await listAll(d, `/api/v1/customers/${id}/timeline`, { token: viewerTok })).items;
}
const figures = (c) => ({ order_count: c.order_count, total_spent_cents: c.total_spent_cents, first_order_at: c.first_order_at, last_order_at: c.last_order_at });

function assertOrderShape(o) {
  assert.deepEqual(Object.keys(o).sort(), ORDER_KEYS);
  assert.equal(typeof o.id, 'number');
  assert.match(o.created_at, RFC3339);
  assert.match(o.updated_at, RFC3339);
  assert.match(o.paid_at, RFC3339);
  assert.ok(Array.isArray(o.items));
}

test('POST /orders creates: 201, Location, the full shape, defaults; GET /orders/{id} gives the same', async () => {
  const body = base({ platform: 'douyin', items: [{ sku: 'TEA-01', name: '龙井礼盒', category: 'tea', quantity: 2, price_cents: 4950 }], referral_code: 'KOC-77' });
  const r = await d.req('POST', '/api/v1/orders', { ...op, body });
  assert.equal(r.status, 201, r.text);
  const o = r.json;
  assertOrderShape(o);
  assert.equal(r.headers.get('location'), `/api/v1/orders/${o.id}`);
  assert.deepEqual([o.platform, o.external_id, o.amount_cents, o.status, o.paid_at, o.referral_code], ['douyin', body.external_id, 9900, 'paid', '2026-04-01T08:00:00Z', 'KOC-77']);
  assert.deepEqual(o.items, [{ sku: 'TEA-01', name: '龙井礼盒', category: 'tea', quantity: 2, price_cents: 4950 }]);
  assert.deepEqual([o.customer_id, o.buyer_phone, o.bound_at, o.bound_by], [null, null, null, null]);
  assert.deepEqual(await getOrder(o.id), o);
  // quantity defaults to 1; items default to []; a paid_at with an offset is stored in UTC
  const o2 = await post(base({ items: [{ name: 'Gift card', price_cents: 0 }], paid_at: '2026-04-01T16:30:00+08:00', status: 'cancelled' }), 201);
  assert.deepEqual(o2.items, [{ name: 'Gift card', quantity: 1, price_cents: 0 }]);
  assert.equal(o2.paid_at, '2026-04-01T08:30:00Z');
  assert.equal(o2.status, 'cancelled');
  assert.deepEqual((await post(base(), 201)).items, []);
  // the same external_id on another platform is another order
  const o3 = await post({ ...body, platform: 'jd' }, 201);
  assert.notEqual(o3.id, o.id);
});

test('every order route needs auth (401); a viewer reads but gets 403 on writes', async () => {
  const o = await post(base(), 201);
  const routes = [['GET', '/api/v1/orders'], ['GET', `/api/v1/orders/${o.id}`], ['POST', '/api/v1/orders', base()],
    ['POST', '/api/v1/orders/bind', { customer_id: 1, platform: 'tmall', external_id: o.external_id, phone: '13800138000' }]];
  const before = await orderCount();
  for (const [m, p, body] of routes) {
    assertError(await d.req(m, p, { body }), 401, 'unauthorized');
    assertError(await d.req(m, p, { body, token: 'scrm_bogus' }), 401, 'unauthorized');
    if (m === 'GET') assert.equal((await d.req(m, p, { token: viewerTok })).status, 200);
    else assertError(await d.req(m, p, { body, token: viewerTok }), 403, 'forbidden');
  }
  assert.equal(await orderCount(), before);
  assertError(await d.req('GET', '/api/v1/orders/999999', op), 404, 'not_found');
  for (const id of ['0', '-1', 'abc', '1.5', '99999999999999999999']) assertError(await d.req('GET', `/api/v1/orders/${id}`, op), 404, 'not_found');
  assertError(await d.req('DELETE', `/api/v1/orders/${o.id}`, op), 405, 'method_not_allowed');
  assertError(await d.req('PATCH', `/api/v1/orders/${o.id}`, { ...op, body: {} }), 405, 'method_not_allowed');
});

test('malformed bodies on POST /orders and /orders/bind: 400, 415, 422 naming the field, 413', async () => {
  const before = await orderCount();
  for (const p of ['/api/v1/orders', '/api/v1/orders/bind']) {
    for (const bad of ['{', '{"platform":"tmall",}', 'platform=tmall', '{"a":1,"a":2}']) assertError(await d.req('POST', p, { ...op, body: bad }), 400, 'invalid_json');
    assertError(await d.req('POST', p, { ...op }), 400, 'invalid_json');
    assertError(await d.req('POST', p, { ...op, body: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
    for (const v of ['[]', '"order"', '7', 'null']) assertError(await d.req('POST', p, { ...op, body: v }), 422, 'validation_failed');
    assertError(await d.req('POST', p, { ...op, body: { platform: 'tmall', note: 'x' } }), 422, 'validation_failed', 'note');
    assertError(await d.req('POST', p, { ...op, body: { platform: 'tmall', external_id: 'x'.repeat(2 * 1024 * 1024) } }), 413, 'payload_too_large');
  }
  assert.equal(await orderCount(), before);
});

test('POST /orders validates every field, items with paths such as items[1].quantity, and creates nothing when it refuses', async () => {
  const before = await orderCount();
  const cases = [
    [{ platform: undefined }, 'platform'], [{ external_id: undefined }, 'external_id'],
    [{ platform: 'TMall' }, 'platform'], [{ platform: 'tm-all' }, 'platform'], [{ platform: '' }, 'platform'],
    [{ platform: 'p'.repeat(33) }, 'platform'], [{ platform: 5 }, 'platform'], [{ platform: null }, 'platform'], [{ platform: '淘宝' }, 'platform'],
    [{ external_id: '' }, 'external_id'], [{ external_id: 'has space' }, 'external_id'], [{ external_id: 'x'.repeat(129) }, 'external_id'],
    [{ external_id: 123 }, 'external_id'], [{ external_id: 'tab\t1' }, 'external_id'],
    [{ amount_cents: -1 }, 'amount_cents'], [{ amount_cents: '100' }, 'amount_cents'], [{ amount_cents: 1.5 }, 'amount_cents'],
    [{ amount_cents: null }, 'amount_cents'], [{ amount_cents: 100000000001 }, 'amount_cents'], [{ amount_cents: undefined }, 'amount_cents'],
    [{ status: 'shipped' }, 'status'], [{ status: 'PAID' }, 'status'], [{ status: null }, 'status'], [{ status: 1 }, 'status'],
    [{ paid_at: 'yesterday' }, 'paid_at'], [{ paid_at: '2026-13-01T00:00:00Z' }, 'paid_at'], [{ paid_at: '2026-04-01' }, 'paid_at'],
    [{ paid_at: 1711958400 }, 'paid_at'], [{ paid_at: null }, 'paid_at'], [{ paid_at: undefined }, 'paid_at'],
    [{ buyer_phone: 'abc' }, 'buyer_phone'], [{ buyer_phone: '123' }, 'buyer_phone'], [{ buyer_phone: 13900000000 }, 'buyer_phone'],
    [{ buyer_phone: '12012345678' }, 'buyer_phone'],
    [{ customer_id: 0 }, 'customer_id'], [{ customer_id: -3 }, 'customer_id'], [{ customer_id: '5' }, 'customer_id'],
    [{ customer_id: 999999 }, 'customer_id'], [{ customer_id: 2.5 }, 'customer_id'],
    [{ referral_code: 'has space' }, 'referral_code'], [{ referral_code: 7 }, 'referral_code'], [{ referral_code: 'r'.repeat(65) }, 'referral_code'],
    [{ items: {} }, 'items'], [{ items: 'x' }, 'items'], [{ items: null }, 'items'],
    [{ items: [{ sku: 'a', price_cents: 1 }, { sku: 'b', price_cents: 1, quantity: 0 }] }, 'items[1].quantity'],
    [{ items: [{ sku: 'a', price_cents: 1, quantity: -2 }] }, 'items[0].quantity'],
    [{ items: [{ sku: 'a', price_cents: 1, quantity: 1.5 }] }, 'items[0].quantity'],
    [{ items: [{ sku: 'a', price_cents: 1, quantity: '2' }] }, 'items[0].quantity'],
    [{ items: [{ sku: 'a', price_cents: 1, quantity: 1000001 }] }, 'items[0].quantity'],
    [{ items: [{ sku: 'a' }] }, 'items[0].price_cents'],
    [{ items: [{ sku: 'a', price_cents: -5 }] }, 'items[0].price_cents'],
    [{ items: [{ sku: 'a', price_cents: '5' }] }, 'items[0].price_cents'],
    [{ items: [{ sku: 'a', price_cents: 1 }, { sku: 'b', price_cents: 1 }, 'c'] }, 'items[2]'],
    [{ items: [[]] }, 'items[0]'],
    [{ items: [{ sku: 'a', price_cents: 1, colour: 'red' }] }, 'items[0].colour'],
    [{ items: [{ price_cents: 1 }] }, 'items[0].sku'],
    [{ items: [{ sku: 5, price_cents: 1 }] }, 'items[0].sku'],
    [{ items: [{ sku: 's'.repeat(65), price_cents: 1 }] }, 'items[0].sku'],
    [{ items: [{ sku: 'a', name: 'n'.repeat(201), price_cents: 1 }] }, 'items[0].name'],
    [{ items: [{ sku: 'a', category: ['x'], price_cents: 1 }] }, 'items[0].category'],
    [{ items: Array.from({ length: 201 }, (_, i) => ({ sku: `s${i}`, price_cents: 1 })) }, 'items'],
    [{ items: [{ sku: 'a', price_cents: 1 }, { sku: 'b', name: 'x\u0000y', price_cents: 1 }] }, 'items[1].name'],
    [{ external_id: 'a\u0000b' }, 'external_id'], [{ buyer_phone: '139\u000000000000' }, 'buyer_phone'],
    [{ bound_by: 'bind' }, 'bound_by'], [{ id: 1 }, 'id'], [{ created_at: '2026-01-01T00:00:00Z' }, 'created_at'],
  ];
  for (const [patch, field] of cases) {
    const body = base(patch);
    for (const k of Object.keys(patch)) if (patch[k] === undefined) delete body[k];
    assertError(await d.req('POST', '/api/v1/orders', { ...op, body }), 422, 'validation_failed', field);
  }
  assert.equal(await orderCount(), before, 'a refused order was stored');
  // the limits themselves are fine
  const ok = await post(base({ external_id: 'x'.repeat(128), amount_cents: 100000000000, platform: 'p'.repeat(32),
    items: Array.from({ length: 200 }, (_, i) => ({ sku: `s${i}`, price_cents: 0, quantity: 1000000 })) }), 201);
  assert.equal(ok.items.length, 200);
  // on an existing order the same checks apply, and a refused update changes nothing
  const o = await post(base(), 201);
  for (const [patch, field] of [[{ status: 'lost' }, 'status'], [{ items: [{ sku: 'a', price_cents: 1 }, { sku: 'b' }] }, 'items[1].price_cents'], [{ amount_cents: -5 }, 'amount_cents']]) {
    assertError(await d.req('POST', '/api/v1/orders', { ...op, body: { platform: o.platform, external_id: o.external_id, ...patch } }), 422, 'validation_failed', field);
  }
  assert.deepEqual(await getOrder(o.id), o);
});

test('upsert on (platform, external_id): 200 for an existing order; left-out fields keep their values; unchanged changes nothing', async () => {
  const phone = newPhone();
  const body = base({ buyer_phone: phone, items: [{ sku: 'A', price_cents: 9900 }], referral_code: 'R1' });
  const o = await post(body, 201);
  // the same again: 200, the same order, updated_at untouched, an audit row that says unchanged
  const again = await d.req('POST', '/api/v1/orders', { ...op, body });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json, o);
  assert.equal(again.headers.get('location'), null);
  // a phone typed differently is the same phone
  const same = await post({ ...body, buyer_phone: `+86 ${phone.slice(0, 3)} ${phone.slice(3)}` }, 200);
  assert.deepEqual(same, o);
  // only the key: nothing changes
  assert.deepEqual(await post({ platform: o.platform, external_id: o.external_id }, 200), o);
  // one field: that field changes, the rest stay
  const amt = await post({ platform: o.platform, external_id: o.external_id, amount_cents: 12000 }, 200);
  assert.equal(amt.amount_cents, 12000);
  for (const k of ['buyer_phone', 'items', 'referral_code', 'paid_at', 'status', 'created_at']) assert.deepEqual(amt[k], o[k], k);
  // null clears nullable fields; items [] empties
  const cleared = await post({ platform: o.platform, external_id: o.external_id, referral_code: null, items: [], buyer_phone: null }, 200);
  assert.deepEqual([cleared.referral_code, cleared.items, cleared.buyer_phone], [null, [], null]);
  assert.deepEqual(await getOrder(o.id), cleared);
  const rows = (await auditAll(d, { action: 'order.upsert', target_id: String(o.id) })).reverse();
  assert.deepEqual(rows.map((r) => r.detail.result), ['created', 'unchanged', 'unchanged', 'unchanged', 'updated', 'updated']);
  assert.deepEqual(rows.map((r) => r.status), [201, 200, 200, 200, 200, 200]);
  assert.deepEqual(rows[0].detail, { platform: 'tmall', external_id: o.external_id, result: 'created' });
  assert.ok(rows.every((r) => r.actor === `token:${opTokId}` && r.target_type === 'order'));
  assert.equal(sqlite(d.db, `SELECT count(*) FROM orders WHERE platform = 'tmall' AND external_id = '${o.external_id}';`), '1');
});

test('an order whose buyer_phone is a live customer\'s is bound at once, and the figures and stage follow', async () => {
  const phone = newPhone();
  const c = await customer({ name: 'Buyer', phone });
  const o = await post(base({ buyer_phone: `+86-${phone}`, amount_cents: 5000, paid_at: '2026-02-10T12:00:00Z' }), 201);
  assert.equal(o.customer_id, c.id);
  assert.equal(o.bound_by, 'phone');
  assert.match(o.bound_at, RFC3339);
  assert.equal(o.buyer_phone, phone);
  let g = await cust(c.id);
  assert.deepEqual(figures(g), { order_count: 1, total_spent_cents: 5000, first_order_at: '2026-02-10T12:00:00Z', last_order_at: '2026-02-10T12:00:00Z' });
  assert.equal(g.stage, 'converted');
  await post(base({ buyer_phone: phone, amount_cents: 3000, paid_at: '2026-01-05T00:00:00Z' }), 201);
  await post(base({ buyer_phone: phone, amount_cents: 7000, paid_at: '2026-05-05T00:00:00Z', status: 'cancelled' }), 201);
  g = await cust(c.id);
  assert.deepEqual(figures(g), { order_count: 2, total_spent_cents: 8000, first_order_at: '2026-01-05T00:00:00Z', last_order_at: '2026-02-10T12:00:00Z' });
  assert.equal(g.stage, 'repurchasing');
  const bound = (await timeline(c.id)).filter((e) => e.kind === 'order.bound');
  assert.equal(bound.length, 3);
  assert.ok(bound.every((e) => e.data.by === 'phone'));
});

test('orders waiting for their buyer are picked up when a customer with that phone is created, or a customer\'s phone changes to it', async () => {
  const p1 = newPhone(), p2 = newPhone(), p3 = newPhone();
  const w1 = await post(base({ buyer_phone: p1, amount_cents: 1000, paid_at: '2026-03-01T00:00:00Z' }), 201);
  const w2 = await post(base({ buyer_phone: p1, amount_cents: 2000, paid_at: '2026-03-02T00:00:00Z', status: 'refunded' }), 201);
  const w3 = await post(base({ buyer_phone: p1, amount_cents: 4000, paid_at: '2026-03-03T00:00:00Z' }), 201);
  assert.equal(w1.customer_id, null);
  const unbound = await listAll(d, '/api/v1/orders?unbound=true', { token: viewerTok }, { count: true });
  for (const w of [w1, w2, w3]) assert.ok(unbound.items.some((o) => o.id === w.id));
  const c = await customer({ name: 'Late', phone: p1 });
  assert.deepEqual(figures(c), { order_count: 2, total_spent_cents: 5000, first_order_at: '2026-03-01T00:00:00Z', last_order_at: '2026-03-03T00:00:00Z' });
  assert.equal(c.stage, 'repurchasing');
  for (const w of [w1, w2, w3]) {
    const g = await getOrder(w.id);
    assert.deepEqual([g.customer_id, g.bound_by], [c.id, 'phone']);
  }
  // a phone change picks up the new number's orders; those bought with the old one stay
  const x = await post(base({ buyer_phone: p3, amount_cents: 600, paid_at: '2026-06-01T00:00:00Z' }), 201);
  const d1 = await customer({ name: 'Changer', phone: p2 });
  const own = await post(base({ buyer_phone: p2, amount_cents: 100, paid_at: '2026-01-01T00:00:00Z' }), 201);
  assert.equal(own.customer_id, d1.id);
  const r = await d.req('PATCH', `/api/v1/customers/${d1.id}`, { ...op, body: { phone: p3 } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(figures(r.json), { order_count: 2, total_spent_cents: 700, first_order_at: '2026-01-01T00:00:00Z', last_order_at: '2026-06-01T00:00:00Z' });
  assert.equal((await getOrder(x.id)).customer_id, d1.id);
  assert.equal((await getOrder(own.id)).customer_id, d1.id);
  assert.deepEqual(await cust(d1.id), r.json);
  // an order now with the old number waits again
  assert.equal((await post(base({ buyer_phone: p2, amount_cents: 1 }), 201)).customer_id, null);
  // nothing left waiting for a live customer's phone
  assert.equal(sqlite(d.db, 'SELECT count(*) FROM orders o JOIN customers c ON c.phone = o.buyer_phone AND c.erased_at IS NULL WHERE o.customer_id IS NULL;'), '0');
});

test('customer_id in an order binds it (bound_by customer_id); another customer_id later is 409 with the bound id', async () => {
  const pA = newPhone();
  const a = await customer({ name: 'Named', phone: newPhone() });
  const b = await customer({ name: 'Phone owner', phone: pA });
  // customer_id wins over a phone that belongs to someone else
  const o = await post(base({ customer_id: a.id, buyer_phone: pA, amount_cents: 1500 }), 201);
  assert.deepEqual([o.customer_id, o.bound_by], [a.id, 'customer_id']);
  assert.equal((await cust(a.id)).order_count, 1);
  assert.equal((await cust(b.id)).order_count, 0);
  // the same customer_id again: unchanged
  assert.deepEqual(await post({ platform: o.platform, external_id: o.external_id, customer_id: a.id }, 200), o);
  // another: 409, nothing changes
  const r = await d.req('POST', '/api/v1/orders', { ...op, body: { platform: o.platform, external_id: o.external_id, customer_id: b.id, amount_cents: 1 } });
  assertError(r, 409, 'conflict', 'customer_id');
  assert.equal(r.json.error.id, a.id);
  assert.deepEqual(await getOrder(o.id), o);
  // customer_id null in a re-send leaves the binding alone
  assert.equal((await post({ platform: o.platform, external_id: o.external_id, customer_id: null }, 200)).customer_id, a.id);
  // an unbound order that gets a customer_id later is bound then
  const u = await post(base({ amount_cents: 800 }), 201);
  const ub = await post({ platform: u.platform, external_id: u.external_id, customer_id: b.id }, 200);
  assert.deepEqual([ub.customer_id, ub.bound_by], [b.id, 'customer_id']);
  assert.match(ub.bound_at, RFC3339);
  assert.equal((await cust(b.id)).total_spent_cents, 800);
  // a customer that does not exist, was erased or merged away
  const gone = await customer({ name: 'Gone' });
  assert.equal((await d.req('DELETE', `/api/v1/customers/${gone.id}`, op)).status, 204);
  const folded = await customer({ name: 'Folded' });
  assert.equal((await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: folded.id } })).status, 200);
  for (const id of [gone.id, folded.id, 999999]) {
    assertError(await d.req('POST', '/api/v1/orders', { ...op, body: base({ customer_id: id }) }), 422, 'validation_failed', 'customer_id');
    assertError(await d.req('POST', '/api/v1/orders', { ...op, body: { platform: u.platform, external_id: u.external_id, customer_id: id } }), 409, 'conflict', 'customer_id');
  }
  const unb = await post(base({ amount_cents: 1 }), 201);
  assertError(await d.req('POST', '/api/v1/orders', { ...op, body: { platform: unb.platform, external_id: unb.external_id, customer_id: gone.id } }), 422, 'validation_failed', 'customer_id');
  assert.equal((await getOrder(unb.id)).customer_id, null);
});

test('refunds and cancellations recount the figures (paid orders only) and write order.refunded / order.cancelled', async () => {
  const phone = newPhone();
  const c = await customer({ name: 'Refunder', phone });
  const o1 = await post(base({ buyer_phone: phone, amount_cents: 1000, paid_at: '2026-01-01T00:00:00Z' }), 201);
  const o2 = await post(base({ buyer_phone: phone, amount_cents: 2000, paid_at: '2026-02-01T00:00:00Z' }), 201);
  const o3 = await post(base({ buyer_phone: phone, amount_cents: 4000, paid_at: '2026-03-01T00:00:00Z' }), 201);
  assert.deepEqual(figures(await cust(c.id)), { order_count: 3, total_spent_cents: 7000, first_order_at: '2026-01-01T00:00:00Z', last_order_at: '2026-03-01T00:00:00Z' });
  const r1 = await post({ platform: o1.platform, external_id: o1.external_id, status: 'refunded' }, 200);
  assert.equal(r1.status, 'refunded');
  assert.deepEqual(figures(await cust(c.id)), { order_count: 2, total_spent_cents: 6000, first_order_at: '2026-02-01T00:00:00Z', last_order_at: '2026-03-01T00:00:00Z' });
  await post({ platform: o3.platform, external_id: o3.external_id, status: 'cancelled' }, 200);
  assert.deepEqual(figures(await cust(c.id)), { order_count: 1, total_spent_cents: 2000, first_order_at: '2026-02-01T00:00:00Z', last_order_at: '2026-02-01T00:00:00Z' });
  // a refund repeated is no change and no second event
  await post({ platform: o1.platform, external_id: o1.external_id, status: 'refunded' }, 200);
  // an amount change of a paid order counts; of a refunded one does not
  await post({ platform: o2.platform, external_id: o2.external_id, amount_cents: 2500 }, 200);
  await post({ platform: o1.platform, external_id: o1.external_id, amount_cents: 99999 }, 200);
  assert.equal((await cust(c.id)).total_spent_cents, 2500);
  // back to paid counts again
  await post({ platform: o3.platform, external_id: o3.external_id, status: 'paid' }, 200);
  assert.deepEqual(figures(await cust(c.id)), { order_count: 2, total_spent_cents: 6500, first_order_at: '2026-02-01T00:00:00Z', last_order_at: '2026-03-01T00:00:00Z' });
  // everything refunded: nothing counts, the stage stays where the orders took it
  for (const o of [o2, o3]) await post({ platform: o.platform, external_id: o.external_id, status: 'refunded' }, 200);
  const g = await cust(c.id);
  assert.deepEqual(figures(g), { order_count: 0, total_spent_cents: 0, first_order_at: null, last_order_at: null });
  assert.equal(g.stage, 'repurchasing');
  const events = (await timeline(c.id)).filter((e) => e.ref_type === 'order' && e.kind !== 'order.bound').reverse();
  assert.deepEqual(events.map((e) => [e.kind, e.ref_id]), [
    ['order.refunded', o1.id], ['order.cancelled', o3.id], ['order.paid', o3.id], ['order.refunded', o2.id], ['order.refunded', o3.id],
  ]);
  assert.deepEqual(events[0].data, { platform: 'tmall', external_id: o1.external_id, amount_cents: 1000 });
  // the stored figures equal a recount of the orders table
  const [row] = sqliteJson(d.db, `SELECT order_count, total_spent_cents, first_order_at, last_order_at FROM customers WHERE id = ${c.id}`);
  assert.deepEqual(row, { order_count: 0, total_spent_cents: 0, first_order_at: null, last_order_at: null });
});

test('POST /orders/bind: every answer of the binding flow', async () => {
  const phone = newPhone();
  const other = await customer({ name: 'Binder without phone' });
  const owner = await customer({ name: 'Owner', phone: newPhone() });
  const o = await post(base({ buyer_phone: phone, amount_cents: 3300, paid_at: '2026-07-07T07:07:07Z' }), 201);
  const o2 = await post(base({ buyer_phone: phone, amount_cents: 700, paid_at: '2026-07-08T00:00:00Z' }), 201);
  const noPhone = await post(base({ amount_cents: 500 }), 201);
  const taken = await post(base({ customer_id: owner.id, buyer_phone: phone, amount_cents: 1 }), 201);
  const req = (extra = {}) => ({ customer_id: other.id, platform: o.platform, external_id: o.external_id, phone, ...extra });

  // 422: the phone does not match; the order carries no phone
  assertError(await bind(req({ phone: newPhone() })), 422, 'validation_failed', 'phone');
  assertError(await bind(req({ external_id: noPhone.external_id, phone })), 422, 'validation_failed', 'phone');
  // 404: no such order; no such customer (also erased or merged away)
  const r404 = await bind(req({ external_id: 'no-such-order' }));
  assertError(r404, 404, 'not_found', 'external_id');
  assertError(await bind(req({ platform: 'jd' })), 404, 'not_found', 'external_id');
  assertError(await bind(req({ customer_id: 999999 })), 404, 'not_found', 'customer_id');
  const erased = await customer({ name: 'Erased binder' });
  await d.req('DELETE', `/api/v1/customers/${erased.id}`, op);
  assertError(await bind(req({ customer_id: erased.id })), 404, 'not_found', 'customer_id');
  // 409: bound to someone else
  const c409 = await bind(req({ external_id: taken.external_id }));
  assertError(c409, 409, 'conflict');
  assert.equal(c409.json.error.id, owner.id);
  assert.equal((await getOrder(o.id)).customer_id, null, 'a refused bind bound the order');

  // 200: bound by the binding flow; the phone may be typed in any accepted form
  const ok = await bind(req({ phone: `+86 ${phone.slice(0, 3)}-${phone.slice(3, 7)}-${phone.slice(7)}` }));
  assert.equal(ok.status, 200, ok.text);
  assertOrderShape(ok.json);
  assert.deepEqual([ok.json.id, ok.json.customer_id, ok.json.bound_by], [o.id, other.id, 'bind']);
  assert.match(ok.json.bound_at, RFC3339);
  assert.deepEqual(await getOrder(o.id), ok.json);
  // the customer had no phone: it takes the proved one, with the other order bought with it
  const g = await cust(other.id);
  assert.equal(g.phone, phone);
  assert.deepEqual(figures(g), { order_count: 2, total_spent_cents: 4000, first_order_at: '2026-07-07T07:07:07Z', last_order_at: '2026-07-08T00:00:00Z' });
  assert.deepEqual([(await getOrder(o2.id)).customer_id, (await getOrder(o2.id)).bound_by], [other.id, 'phone']);
  const tl = await timeline(other.id);
  assert.ok(tl.some((e) => e.kind === 'order.bound' && e.ref_id === o.id && e.data.by === 'bind'));
  assert.ok(tl.some((e) => e.kind === 'customer.updated' && JSON.stringify(e.data) === JSON.stringify({ changed: ['phone'] })));
  // a repeat: 200, the same order, nothing new
  const events = tl.length;
  const again = await bind(req());
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json, ok.json);
  assert.equal((await timeline(other.id)).length, events);
  const rows = (await auditAll(d, { action: 'order.bind', target_id: String(o.id) })).reverse();
  assert.deepEqual(rows.map((r) => r.detail), [{ customer_id: other.id, changed: true }, { customer_id: other.id, changed: false }]);
  // now bound: binding it to a third customer is 409
  const third = await customer({ name: 'Third' });
  const c2 = await bind(req({ customer_id: third.id }));
  assertError(c2, 409, 'conflict');
  assert.equal(c2.json.error.id, other.id);

  // a customer with a phone of their own keeps it when binding an order bought with another
  const p2 = newPhone();
  const keeper = await customer({ name: 'Keeper', phone: newPhone() });
  const o3 = await post(base({ buyer_phone: p2, amount_cents: 900 }), 201);
  const waiting = await post(base({ buyer_phone: p2, amount_cents: 100 }), 201);
  const k = await bind({ customer_id: keeper.id, platform: o3.platform, external_id: o3.external_id, phone: p2 });
  assert.equal(k.status, 200, k.text);
  const kg = await cust(keeper.id);
  assert.equal(kg.phone, keeper.phone);
  assert.equal(kg.order_count, 1);
  assert.equal((await getOrder(waiting.id)).customer_id, null);

  // request checks
  for (const [body, field] of [[req({ customer_id: undefined }), 'customer_id'], [req({ platform: undefined }), 'platform'],
    [req({ external_id: undefined }), 'external_id'], [req({ phone: undefined }), 'phone'], [req({ phone: 'abc' }), 'phone'],
    [req({ phone: '12' }), 'phone'], [req({ phone: 13800138000 }), 'phone'], [req({ customer_id: 0 }), 'customer_id'],
    [req({ customer_id: '5' }), 'customer_id'], [req({ customer_id: null }), 'customer_id'], [req({ platform: 'T mall' }), 'platform'],
    [req({ external_id: 'a b' }), 'external_id'], [req({ external_id: '' }), 'external_id'], [req({ note: 'x' }), 'note'],
    [req({ phone: '138\u000000138000' }), 'phone']]) {
    for (const k2 of Object.keys(body)) if (body[k2] === undefined) delete body[k2];
    assertError(await bind(body), 422, 'validation_failed', field);
  }
});

test('GET /orders: filters customer_id, platform, status, unbound; pages walk every order once, newest first', async () => {
  const c = await customer({ name: 'Lister', phone: newPhone() });
  const plat = `pl_${seq}`;
  const made = [];
  for (let i = 0; i < 9; i++) {
    made.push(await post(base({ platform: plat, customer_id: i < 6 ? c.id : undefined, amount_cents: 100 + i, status: i % 3 === 2 ? 'refunded' : 'paid' }), 201));
  }
  const list = async (q, limit = 500) => (await listAll(d, `/api/v1/orders?${q}`, { token: viewerTok }, { count: true, limit })).items.map((o) => o.id);
  const desc = (arr) => arr.map((o) => o.id).sort((x, y) => y - x);
  assert.deepEqual(await list(`platform=${plat}`, 2), desc(made));
  assert.deepEqual(await list(`platform=${plat}&customer_id=${c.id}`, 4), desc(made.slice(0, 6)));
  assert.deepEqual(await list(`platform=${plat}&unbound=true`, 1), desc(made.slice(6)));
  assert.deepEqual(await list(`platform=${plat}&unbound=false`), desc(made));
  assert.deepEqual(await list(`platform=${plat}&status=refunded`), desc(made.filter((o) => o.status === 'refunded')));
  assert.deepEqual(await list(`customer_id=${c.id}&status=paid`), desc(made.slice(0, 6).filter((o) => o.status === 'paid')));
  assert.deepEqual(await list('platform=nosuchplatform'), []);
  // listed orders carry their customer's name as it is now; unbound ones null
  const named = (await listAll(d, `/api/v1/orders?platform=${plat}`, { token: viewerTok })).items;
  assert.deepEqual(named.map((o) => o.customer_name), named.map((o) => (o.customer_id === c.id ? 'Lister' : null)));
  assert.equal((await d.req('GET', `/api/v1/orders/${made[0].id}`, { token: viewerTok })).json.customer_name, undefined, 'lists only');
  // every order, through pages of several sizes
  const all = await list('');
  assert.equal(all.length, Number(sqlite(d.db, 'SELECT count(*) FROM orders;')));
  assert.deepEqual(all, [...all].sort((x, y) => y - x));
  for (const limit of [3, 7]) assert.deepEqual(await list('', limit), all);
  for (const [q, field] of [['platform=Bad!', 'platform'], ['status=shipped', 'status'], ['unbound=maybe', 'unbound'], ['customer_id=abc', 'customer_id'],
    ['limit=0', 'limit'], ['limit=501', 'limit'], ['cursor=bad!', 'cursor'], ['count=2', 'count']]) {
    assertError(await d.req('GET', `/api/v1/orders?${q}`, { token: viewerTok }), 422, 'validation_failed', field);
  }
});

test('Idempotency-Key on POST /orders and /orders/bind: the first answer again, 409 for another body', async () => {
  const body = base({ amount_cents: 4242 });
  const key = unique('idem-order');
  const before = await orderCount();
  const r1 = await d.req('POST', '/api/v1/orders', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.equal(r1.status, 201);
  // the order changes afterwards; the replay is still the first answer, and changes nothing back
  await post({ platform: body.platform, external_id: body.external_id, status: 'refunded' }, 200);
  const r2 = await d.req('POST', '/api/v1/orders', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.equal(r2.status, 201);
  assert.equal(r2.text, r1.text);
  assert.equal(r2.headers.get('idempotent-replayed'), 'true');
  assert.equal(r2.headers.get('location'), `/api/v1/orders/${r1.json.id}`);
  assert.equal((await getOrder(r1.json.id)).status, 'refunded');
  assert.equal(await orderCount(), before + 1);
  assertError(await d.req('POST', '/api/v1/orders', { ...op, body: { ...body, amount_cents: 1 }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assertError(await d.req('POST', '/api/v1/orders', { ...op, body: base(), headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assert.equal(await orderCount(), before + 1);
  // an upsert of an existing order under a new key is a 200 replayed as 200
  const k2 = unique('idem-upd');
  const u1 = await d.req('POST', '/api/v1/orders', { ...op, body: { platform: body.platform, external_id: body.external_id, status: 'paid' }, headers: { 'Idempotency-Key': k2 } });
  assert.equal(u1.status, 200);
  const u2 = await d.req('POST', '/api/v1/orders', { ...op, body: { platform: body.platform, external_id: body.external_id, status: 'paid' }, headers: { 'Idempotency-Key': k2 } });
  assert.deepEqual([u2.status, u2.text, u2.headers.get('idempotent-replayed')], [200, u1.text, 'true']);
  // bind
  const phone = newPhone();
  const c = await customer({ name: 'Idem binder' });
  const o = await post(base({ buyer_phone: phone }), 201);
  const bk = unique('idem-bind');
  const bb = { customer_id: c.id, platform: o.platform, external_id: o.external_id, phone };
  const b1 = await d.req('POST', '/api/v1/orders/bind', { ...op, body: bb, headers: { 'Idempotency-Key': bk } });
  assert.equal(b1.status, 200, b1.text);
  const b2 = await d.req('POST', '/api/v1/orders/bind', { ...op, body: bb, headers: { 'Idempotency-Key': bk } });
  assert.deepEqual([b2.status, b2.text, b2.headers.get('idempotent-replayed')], [200, b1.text, 'true']);
  assertError(await d.req('POST', '/api/v1/orders/bind', { ...op, body: { ...bb, customer_id: c.id + 1 }, headers: { 'Idempotency-Key': bk } }), 409, 'idempotency_mismatch');
  assert.equal((await auditAll(d, { action: 'order.bind', target_id: String(o.id) })).length, 1);
  // a refusal is not stored under the key
  const k3 = unique('idem-refused');
  const bad = base({ amount_cents: -1 });
  assertError(await d.req('POST', '/api/v1/orders', { ...op, body: bad, headers: { 'Idempotency-Key': k3 } }), 422, 'validation_failed', 'amount_cents');
  const fixed = await d.req('POST', '/api/v1/orders', { ...op, body: { ...bad, amount_cents: 1 }, headers: { 'Idempotency-Key': k3 } });
  assert.equal(fixed.status, 201, fixed.text);
});

test('order writes are audited with platform and external id, never the buyer phone', async () => {
  const phone = newPhone();
  const c = await customer({ name: 'Audited buyer' });
  const o = await post(base({ buyer_phone: phone }), 201);
  await post({ platform: o.platform, external_id: o.external_id, status: 'cancelled' }, 200);
  assert.equal((await bind({ customer_id: c.id, platform: o.platform, external_id: o.external_id, phone })).status, 200);
  const rows = (await auditAll(d, { target_type: 'order', target_id: String(o.id) })).reverse();
  assert.deepEqual(rows.map((r) => [r.action, r.status, r.method, r.path]), [
    ['order.upsert', 201, 'POST', '/api/v1/orders'], ['order.upsert', 200, 'POST', '/api/v1/orders'], ['order.bind', 200, 'POST', '/api/v1/orders/bind'],
  ]);
  assert.deepEqual(rows.map((r) => r.detail.result), ['created', 'updated', undefined]);
  assert.ok(!JSON.stringify(rows).includes(phone));
  // a refused write leaves no row
  const n = (await auditAll(d, { target_type: 'order' })).length;
  await d.req('POST', '/api/v1/orders', { ...op, body: base({ status: 'nope' }) });
  await bind({ customer_id: c.id, platform: 'tmall', external_id: 'missing', phone });
  assert.equal((await auditAll(d, { target_type: 'order' })).length, n);
});
