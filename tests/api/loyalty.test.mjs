// The member club: points rules, order points (per yuan, member day, bind
// bonus, refunds with shortfall, paid again), manual grants and deductions,
// FIFO lots and their expiry, check-in streaks on the business calendar, the
// wallet, content bonuses, merges, Idempotency-Key, concurrency, and the
// 401/403/400/404/422 answers of every endpoint. Tests that move the clock
// run their own daemon started with SCRM_TEST_CLOCK=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, withDaemon, assertError, auditAll, sqlite, sqliteJson, unique, isoSeconds } from './lib.mjs';
import {
  CLOCK_ENV, DEFAULT_RULES, LEDGER_KEYS, RFC3339, DAY, nowS, shDay, shMidnight, shNoon, shDate, shDom, secOf,
  expiryOf, phones, club,
} from './loyalty_lib.mjs';

const d = await fileDaemon();
const adminTok = await d.adminToken();
const opTok = await d.token('operator', 'loyalty-operator');
const viewerTok = await d.token('viewer', 'loyalty-viewer');
const admin = { token: adminTok }, op = { token: opTok }, viewer = { token: viewerTok };
const L = club(d, op, admin);
const newPhone = phones('1370');

const pointsSum = (id) => sqliteJson(d.db, `SELECT coalesce(sum(delta), 0) AS s, coalesce(sum(remaining), 0) AS r FROM points_ledger WHERE customer_id = ${id}`)[0];
const orderNet = (dbFile, orderId) => Number(sqlite(dbFile, `SELECT coalesce(sum(delta - shortfall), 0) FROM points_ledger WHERE ref_type = 'order' AND ref_id = ${orderId} AND reason IN ('order', 'bind_bonus', 'refund');`));
const rowsFor = (ledger, orderId) => ledger.filter((e) => e.ref_type === 'order' && e.ref_id === orderId).reverse();
const brief = (e) => [e.reason, e.delta, e.remaining, e.shortfall];

// Both cached balances equal their ledgers: balance = sum(delta) = sum(remaining).
async function assertConsistent(id, dm = d, Lc = L) {
  const c = await Lc.get(id);
  const [p] = sqliteJson(dm.db, `SELECT coalesce(sum(delta), 0) AS s, coalesce(sum(remaining), 0) AS r, coalesce(min(remaining), 0) AS m FROM points_ledger WHERE customer_id = ${id}`);
  const [w] = sqliteJson(dm.db, `SELECT coalesce(sum(delta_cents), 0) AS s FROM wallet_ledger WHERE customer_id = ${id}`);
  assert.deepEqual([c.points_balance, c.points_balance, p.m >= 0], [p.s, p.r, true], `points of customer ${id}`);
  assert.equal(c.wallet_balance_cents, w.s, `wallet of customer ${id}`);
  assert.ok(c.wallet_balance_cents >= 0);
  return c;
}

test('GET|PUT /settings/points: the defaults, partial updates keep the rest, bounds and unknown fields 422 naming the field, admin only', async () => {
  const g = await d.req('GET', '/api/v1/settings/points', viewer);
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.json, DEFAULT_RULES);
  // fields left out keep their value
  let r = await d.req('PUT', '/api/v1/settings/points', { ...admin, body: { points_per_yuan: 0.5 } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { ...DEFAULT_RULES, points_per_yuan: 0.5 });
  r = await d.req('PUT', '/api/v1/settings/points', { ...admin, body: { bind_bonus: 30, checkin_schedule: [1, 2, 3] } });
  assert.deepEqual(r.json, { ...DEFAULT_RULES, points_per_yuan: 0.5, bind_bonus: 30, checkin_schedule: [1, 2, 3] });
  assert.deepEqual((await d.req('GET', '/api/v1/settings/points', op)).json, r.json);
  const kept = r.json;
  const bad = [
    [{ points_per_yuan: -1 }, 'points_per_yuan'], [{ points_per_yuan: 1000.5 }, 'points_per_yuan'], [{ points_per_yuan: 0.125 }, 'points_per_yuan'],
    [{ points_per_yuan: '1' }, 'points_per_yuan'], [{ points_per_yuan: null }, 'points_per_yuan'], [{ points_per_yuan: true }, 'points_per_yuan'],
    [{ bind_bonus: -1 }, 'bind_bonus'], [{ bind_bonus: 1.5 }, 'bind_bonus'], [{ bind_bonus: '5' }, 'bind_bonus'], [{ bind_bonus: 1000001 }, 'bind_bonus'],
    [{ review_bonus: -1 }, 'review_bonus'], [{ review_bonus: true }, 'review_bonus'], [{ review_bonus: null }, 'review_bonus'],
    [{ checkin_schedule: [] }, 'checkin_schedule'], [{ checkin_schedule: 5 }, 'checkin_schedule'], [{ checkin_schedule: new Array(32).fill(1) }, 'checkin_schedule'],
    [{ checkin_schedule: [1, -1] }, 'checkin_schedule[1]'], [{ checkin_schedule: [1, 2, 'x'] }, 'checkin_schedule[2]'],
    [{ checkin_schedule: [100001] }, 'checkin_schedule[0]'], [{ checkin_schedule: [1.5] }, 'checkin_schedule[0]'],
    [{ expiry_months: -1 }, 'expiry_months'], [{ expiry_months: 121 }, 'expiry_months'], [{ expiry_months: '12' }, 'expiry_months'],
    [{ member_day: 32 }, 'member_day'], [{ member_day: -1 }, 'member_day'], [{ member_day: 1.5 }, 'member_day'],
    [{ member_day_multiplier: 0 }, 'member_day_multiplier'], [{ member_day_multiplier: 11 }, 'member_day_multiplier'], [{ member_day_multiplier: 1.5 }, 'member_day_multiplier'],
    [{ colour: 'red' }, 'colour'], [{ points_per_yuan: 1, nope: 1 }, 'nope'],
  ];
  for (const [body, field] of bad) assertError(await d.req('PUT', '/api/v1/settings/points', { ...admin, body }), 422, 'validation_failed', field);
  for (const body of ['[]', '"x"', 'null', '7']) assertError(await d.req('PUT', '/api/v1/settings/points', { ...admin, body }), 422, 'validation_failed');
  for (const body of ['{', '{"bind_bonus":1,}', '{"bind_bonus":1,"bind_bonus":2}']) assertError(await d.req('PUT', '/api/v1/settings/points', { ...admin, body }), 400, 'invalid_json');
  assert.deepEqual((await d.req('GET', '/api/v1/settings/points', viewer)).json, kept, 'a refused PUT changed the rules');
  // the bounds themselves are fine
  const hi = { points_per_yuan: 1000, bind_bonus: 1000000, review_bonus: 1000000, checkin_schedule: new Array(31).fill(100000), expiry_months: 120, member_day: 31, member_day_multiplier: 10 };
  assert.deepEqual((await d.req('PUT', '/api/v1/settings/points', { ...admin, body: hi })).json, hi);
  const lo = { points_per_yuan: 0, bind_bonus: 0, review_bonus: 0, checkin_schedule: [0], expiry_months: 0, member_day: 0, member_day_multiplier: 1 };
  assert.deepEqual((await d.req('PUT', '/api/v1/settings/points', { ...admin, body: lo })).json, lo);
  assert.deepEqual((await d.req('PUT', '/api/v1/settings/points', { ...admin, body: { points_per_yuan: 0.01 } })).json.points_per_yuan, 0.01);
  // roles: anyone signed in reads; only an admin writes
  assertError(await d.req('GET', '/api/v1/settings/points'), 401, 'unauthorized');
  assertError(await d.req('PUT', '/api/v1/settings/points', { body: { bind_bonus: 1 } }), 401, 'unauthorized');
  assertError(await d.req('PUT', '/api/v1/settings/points', { ...viewer, body: { bind_bonus: 1 } }), 403, 'forbidden');
  assertError(await d.req('PUT', '/api/v1/settings/points', { ...op, body: { bind_bonus: 1 } }), 403, 'forbidden');
  const back = await L.rules();
  assert.deepEqual(back, { ...DEFAULT_RULES, member_day: 0 });
  const rows = await auditAll(d, { action: 'settings.points' });
  assert.equal(rows.length, 6);
  assert.deepEqual(rows[0].detail, back);
});

test('a bound paid order earns floor(amount_cents × points_per_yuan / 100) once, as a lot: exact with 1, 0.5 and 2.25 per yuan', async () => {
  await L.rules({ points_per_yuan: 1 });
  const c = await L.customer({ phone: newPhone() });
  const o1 = await L.order({ buyer_phone: c.phone, amount_cents: 12345 });
  assert.equal(o1.customer_id, c.id);
  const o2 = await L.order({ customer_id: c.id, amount_cents: 99 });
  const o3 = await L.order({ customer_id: c.id, amount_cents: 100 });
  await L.rules({ points_per_yuan: 0.5 });
  const o4 = await L.order({ customer_id: c.id, amount_cents: 12345 });
  const o5 = await L.order({ customer_id: c.id, amount_cents: 199 });
  const o6 = await L.order({ customer_id: c.id, amount_cents: 200 });
  await L.rules({ points_per_yuan: 2.25 });
  const o7 = await L.order({ customer_id: c.id, amount_cents: 12345 });
  await L.rules({ points_per_yuan: 0 });
  const o8 = await L.order({ customer_id: c.id, amount_cents: 5000000 });
  const ledger = await L.ledger(c.id);
  assert.deepEqual(ledger.map((e) => [e.reason, e.ref_type, e.ref_id, e.delta, e.remaining, e.shortfall]).reverse(), [
    ['order', 'order', o1.id, 123, 123, 0], ['order', 'order', o3.id, 1, 1, 0], ['order', 'order', o4.id, 61, 61, 0],
    ['order', 'order', o6.id, 1, 1, 0], ['order', 'order', o7.id, 277, 277, 0],
  ]);
  for (const o of [o2, o5, o8]) assert.equal(orderNet(d.db, o.id), 0, 'a zero-point order wrote a row');
  for (const e of ledger) {
    assert.deepEqual(Object.keys(e).sort(), LEDGER_KEYS);
    assert.match(e.created_at, RFC3339);
    assert.equal(e.expires_at, expiryOf(e.created_at, 12));
    assert.equal(e.note, null);
  }
  const p = await L.points(c.id);
  assert.deepEqual([p.balance, p.earned_12m, p.next_cursor], [463, 463, null]);
  assert.equal((await assertConsistent(c.id)).points_balance, 463);
  // an unbound order earns nothing; bound later (customer_id), it earns then, at the rate of that moment
  await L.rules({ points_per_yuan: 1 });
  const u = await L.order({ amount_cents: 5050 });
  assert.equal(u.customer_id, null);
  assert.equal(Number(sqlite(d.db, `SELECT count(*) FROM points_ledger WHERE ref_id = ${u.id} AND ref_type = 'order';`)), 0);
  await L.order({ platform: u.platform, external_id: u.external_id, customer_id: c.id }, 200);
  assert.deepEqual(rowsFor(await L.ledger(c.id), u.id).map(brief), [['order', 50, 50, 0]]);
  assert.equal((await L.points(c.id)).balance, 513);
});

test('the bind bonus comes only through POST /orders/bind; re-sends, amount changes and re-binds never pay twice', async () => {
  await L.rules({ bind_bonus: 40 });
  const c = await L.customer({ phone: newPhone() });
  const byPhone = await L.order({ buyer_phone: c.phone, amount_cents: 1000 });
  const byId = await L.order({ customer_id: c.id, amount_cents: 2000 });
  const late = await L.order({ amount_cents: 3000 });
  await L.order({ platform: late.platform, external_id: late.external_id, customer_id: c.id }, 200);
  const bp = newPhone();
  const ob = await L.order({ buyer_phone: bp, amount_cents: 4567 });
  assert.equal(ob.customer_id, null);
  const b = await L.bind(ob, c.id);
  assert.deepEqual([b.customer_id, b.bound_by], [c.id, 'bind']);
  let ledger = await L.ledger(c.id);
  assert.deepEqual(rowsFor(ledger, byPhone.id).map(brief), [['order', 10, 10, 0]]);
  assert.deepEqual(rowsFor(ledger, byId.id).map(brief), [['order', 20, 20, 0]]);
  assert.deepEqual(rowsFor(ledger, late.id).map(brief), [['order', 30, 30, 0]]);
  assert.deepEqual(rowsFor(ledger, ob.id).map(brief), [['order', 45, 45, 0], ['bind_bonus', 40, 40, 0]]);
  assert.ok(rowsFor(ledger, ob.id).every((e) => e.expires_at === expiryOf(e.created_at, 12)));
  assert.equal((await L.get(c.id)).points_balance, 145);
  const n = ledger.length;
  // re-sends of every kind: nothing more
  await L.bind(ob, c.id);
  await L.order({ platform: ob.platform, external_id: ob.external_id }, 200);
  await L.order({ platform: ob.platform, external_id: ob.external_id, status: 'paid', amount_cents: 999999 }, 200);
  await L.order({ platform: byPhone.platform, external_id: byPhone.external_id, buyer_phone: c.phone, customer_id: c.id, status: 'paid' }, 200);
  await L.order({ platform: late.platform, external_id: late.external_id, customer_id: c.id }, 200);
  ledger = await L.ledger(c.id);
  assert.equal(ledger.length, n, 'a re-send paid twice');
  assert.equal((await L.get(c.id)).points_balance, 145);
  // with bind_bonus 0 a bind writes no bonus row
  await L.rules({ bind_bonus: 0 });
  const bp2 = newPhone();
  const ob2 = await L.order({ buyer_phone: bp2, amount_cents: 800 });
  await L.bind(ob2, c.id);
  assert.deepEqual(rowsFor(await L.ledger(c.id), ob2.id).map(brief), [['order', 8, 8, 0]]);
  await assertConsistent(c.id);
});

test('orders imported in bulk earn and give back points like single ones; importing the same lines again never pays twice', async () => {
  await L.rules({ bind_bonus: 40 });
  const c = await L.customer({ phone: newPhone() });
  const ids = [unique('imp'), unique('imp'), unique('imp')];
  const lines = [
    { platform: 'tmall', external_id: ids[0], buyer_phone: c.phone, amount_cents: 12345, paid_at: '2026-05-01T00:00:00Z' },
    { platform: 'tmall', external_id: ids[1], customer_id: c.id, amount_cents: 2000, paid_at: '2026-05-02T00:00:00Z' },
    { platform: 'tmall', external_id: ids[2], buyer_phone: c.phone, amount_cents: 5000, paid_at: '2026-05-03T00:00:00Z', status: 'refunded' },
  ];
  const ndjson = (ls) => ls.map((x) => JSON.stringify(x)).join('\n') + '\n';
  const imp = async (ls) => {
    const r = await d.req('POST', '/api/v1/orders/import', { ...op, body: ndjson(ls), headers: { 'Content-Type': 'application/x-ndjson' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.errors, []);
    return r.json;
  };
  assert.equal((await imp(lines)).created, 3);
  let p = await L.points(c.id);
  assert.equal(p.balance, 123 + 20);
  assert.deepEqual(p.ledger.map((e) => [e.reason, e.delta]).reverse(), [['order', 123], ['order', 20]]);
  await imp(lines);
  assert.equal((await L.ledger(c.id)).length, 2, 'an import of the same lines paid again');
  // a refund and a payment arriving by import
  await imp([{ ...lines[0], status: 'refunded' }, { ...lines[2], status: 'paid' }]);
  p = await L.points(c.id);
  assert.equal(p.balance, 20 + 50);
  const idOf = Object.fromEntries(sqliteJson(d.db, `SELECT external_id, id FROM orders WHERE external_id IN ('${ids.join("','")}')`).map((x) => [x.external_id, x.id]));
  const ledger = await L.ledger(c.id);
  assert.deepEqual(rowsFor(ledger, idOf[ids[0]]).map(brief), [['order', 123, 0, 0], ['refund', -123, 0, 0]]);
  assert.deepEqual(rowsFor(ledger, idOf[ids[1]]).map(brief), [['order', 20, 20, 0]]);
  assert.deepEqual(rowsFor(ledger, idOf[ids[2]]).map(brief), [['order', 50, 50, 0]]);
  await imp([{ ...lines[0], status: 'refunded' }, { ...lines[2], status: 'paid' }]);
  assert.equal((await L.ledger(c.id)).length, ledger.length);
  await assertConsistent(c.id);
  await L.rules();
});

test('a refund or cancellation takes back what the order earned, never below zero (shortfall recorded); paid again it earns again', async () => {
  await L.rules({ bind_bonus: 40 });
  const c = await L.customer({ phone: newPhone() });
  const o = await L.order({ buyer_phone: c.phone, amount_cents: 12345 });
  assert.equal((await L.grant(c.id, 1, 'warmup')).balance, 124); // a 1-point lot, newer than the order's
  let r = await L.move(c.id, -101, 'mall');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.balance, 23);
  await L.setStatus(o, 'refunded');
  let rows = rowsFor(await L.ledger(c.id), o.id);
  assert.deepEqual(rows.map(brief), [['order', 123, 0, 0], ['refund', -23, 0, 100]]);
  assert.equal(rows[1].ref_type, 'order');
  assert.equal(rows[1].expires_at, null);
  let p = await L.points(c.id);
  assert.equal(p.balance, 0);
  // the order gave back all it earned: the 23 taken plus the 100 shortfall; earned_12m counts only the warm-up point
  assert.equal(p.earned_12m, 1);
  assert.equal(orderNet(d.db, o.id), 0);
  // the same refund again: nothing more, the shortfall is never asked for again
  await L.setStatus(o, 'refunded');
  await L.setStatus(o, 'cancelled');
  assert.equal(rowsFor(await L.ledger(c.id), o.id).length, 2);
  // paid again: it earns again, and a cancellation takes it all back
  await L.setStatus(o, 'paid');
  assert.equal((await L.points(c.id)).balance, 123);
  assert.equal(orderNet(d.db, o.id), 123);
  await L.setStatus(o, 'cancelled');
  rows = rowsFor(await L.ledger(c.id), o.id);
  assert.deepEqual(rows.map(brief), [['order', 123, 0, 0], ['refund', -23, 0, 100], ['order', 123, 0, 0], ['refund', -123, 0, 0]]);
  assert.equal((await L.points(c.id)).balance, 0);
  // paid again, all of it spent, then refunded: a 0-point row carries the whole shortfall
  await L.setStatus(o, 'paid');
  assert.equal((await L.move(c.id, -123, 'mall')).status, 201);
  await L.setStatus(o, 'refunded');
  rows = rowsFor(await L.ledger(c.id), o.id);
  assert.deepEqual(rows.slice(-2).map(brief), [['order', 123, 0, 0], ['refund', 0, 0, 123]]);
  assert.equal(orderNet(d.db, o.id), 0);
  // an order bound through the binding flow gives back its bind bonus too
  const bp = newPhone();
  const ob = await L.order({ buyer_phone: bp, amount_cents: 4500 });
  await L.bind(ob, c.id);
  assert.equal((await L.points(c.id)).balance, 85);
  await L.setStatus(ob, 'cancelled');
  assert.deepEqual(rowsFor(await L.ledger(c.id), ob.id).map(brief), [['order', 45, 0, 0], ['bind_bonus', 40, 0, 0], ['refund', -85, 0, 0]]);
  await L.setStatus(ob, 'paid');
  assert.deepEqual(rowsFor(await L.ledger(c.id), ob.id).slice(-2).map(brief), [['order', 45, 45, 0], ['bind_bonus', 40, 40, 0]]);
  assert.equal(orderNet(d.db, ob.id), 85);
  assert.equal((await L.points(c.id)).balance, 85);
  // the refund takes from the oldest lots first
  const c2 = await L.customer({ phone: newPhone() });
  const o2 = await L.order({ buyer_phone: c2.phone, amount_cents: 10000 });
  await L.grant(c2.id, 50);
  await L.grant(c2.id, 30);
  assert.equal((await L.move(c2.id, -120, 'mall')).json.balance, 60);
  await L.setStatus(o2, 'refunded');
  const l2 = (await L.ledger(c2.id)).reverse();
  assert.deepEqual(l2.map(brief), [['order', 100, 0, 0], ['gift', 50, 0, 0], ['gift', 30, 0, 0], ['mall', -120, 0, 0], ['refund', -60, 0, 40]]);
  assert.equal((await L.points(c2.id)).earned_12m, 80);
  await assertConsistent(c.id);
  await assertConsistent(c2.id);
  await L.rules();
});

test('POST /customers/{id}/points: grants are lots, deductions never go below zero (422 insufficient_points), every field checked', async () => {
  const c = await L.customer();
  const g = await L.grant(c.id, 50, 'welcome', { note: 'hello' });
  assert.deepEqual(Object.keys(g).sort(), ['balance', 'entry']);
  assert.equal(g.balance, 50);
  assert.deepEqual(Object.keys(g.entry).sort(), LEDGER_KEYS);
  assert.deepEqual([g.entry.delta, g.entry.reason, g.entry.ref_type, g.entry.ref_id, g.entry.note, g.entry.remaining, g.entry.shortfall],
    [50, 'welcome', 'manual', null, 'hello', 50, 0]);
  assert.equal(g.entry.expires_at, expiryOf(g.entry.created_at, 12));
  assert.deepEqual((await L.ledger(c.id))[0], g.entry);
  const t = await L.grant(c.id, -20, '积分兑换 gift', { note: null });
  assert.equal(t.balance, 30);
  assert.deepEqual([t.entry.delta, t.entry.reason, t.entry.remaining, t.entry.expires_at, t.entry.note], [-20, '积分兑换 gift', 0, null, null]);
  // beyond the balance: refused, nothing written
  for (const delta of [-31, -1000, -100000000000]) {
    const r = await L.move(c.id, delta, 'too much');
    assertError(r, 422, 'insufficient_points', 'delta');
  }
  assert.equal((await L.ledger(c.id)).length, 2);
  assert.equal((await L.grant(c.id, -30, 'all of it')).balance, 0);
  assertError(await L.move(c.id, -1, 'nothing left'), 422, 'insufficient_points', 'delta');
  assert.equal((await L.points(c.id)).balance, 0);
  const before = (await L.ledger(c.id)).length;
  const bad = [
    [{}, 'delta'], [{ reason: 'x' }, 'delta'], [{ delta: 0, reason: 'x' }, 'delta'], [{ delta: 1.5, reason: 'x' }, 'delta'], [{ delta: '5', reason: 'x' }, 'delta'],
    [{ delta: null, reason: 'x' }, 'delta'], [{ delta: 100000000001, reason: 'x' }, 'delta'], [{ delta: -100000000001, reason: 'x' }, 'delta'],
    [{ delta: 5 }, 'reason'], [{ delta: 5, reason: '' }, 'reason'], [{ delta: 5, reason: 'r'.repeat(65) }, 'reason'], [{ delta: 5, reason: 7 }, 'reason'],
    [{ delta: 5, reason: null }, 'reason'], [{ delta: 5, reason: 'a\u0001b' }, 'reason'], [{ delta: 5, reason: 'a\u0000b' }, 'reason'],
    [{ delta: 5, reason: 'x', note: 'n'.repeat(501) }, 'note'], [{ delta: 5, reason: 'x', note: 5 }, 'note'],
    [{ delta: 5, reason: 'x', ref_type: 'order' }, 'ref_type'], [{ delta: 5, reason: 'x', expires_at: null }, 'expires_at'],
  ];
  for (const [body, field] of bad) assertError(await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, body }), 422, 'validation_failed', field);
  for (const body of ['[]', '"x"', '5', 'null']) assertError(await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, body }), 422, 'validation_failed');
  for (const body of ['{', '{"delta":5,"reason":"x",}', 'delta=5']) assertError(await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, body }), 400, 'invalid_json');
  assertError(await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op }), 400, 'invalid_json');
  assert.equal((await L.ledger(c.id)).length, before, 'a refused request wrote a row');
  // the limits themselves are fine
  assert.equal((await L.grant(c.id, 100000000000, 'r'.repeat(64), { note: 'n'.repeat(500) })).balance, 100000000000);
  assert.equal((await L.grant(c.id, -100000000000, 'back')).balance, 0);
  // audited with the delta and the reason
  const rows = (await auditAll(d, { action: 'points.adjust', target_id: String(c.id) })).reverse();
  assert.deepEqual(rows.map((x) => x.detail), [{ delta: 50, reason: 'welcome' }, { delta: -20, reason: '积分兑换 gift' }, { delta: -30, reason: 'all of it' },
    { delta: 100000000000, reason: 'r'.repeat(64) }, { delta: -100000000000, reason: 'back' }]);
  assert.ok(rows.every((x) => x.target_type === 'customer' && x.status === 201));
  await assertConsistent(c.id);
});

test('spending takes from the oldest lot first (remaining of each lot); never-expiring lots go last', async () => {
  await L.rules();
  const c = await L.customer();
  const a = (await L.grant(c.id, 10, 'a')).entry, b = (await L.grant(c.id, 20, 'b')).entry, cc = (await L.grant(c.id, 30, 'c')).entry;
  const lots = async () => Object.fromEntries((await L.ledger(c.id)).filter((e) => e.delta > 0).map((e) => [e.reason, e.remaining]));
  assert.deepEqual(await lots(), { a: 10, b: 20, c: 30 });
  assert.equal((await L.grant(c.id, -15, 'spend1')).balance, 45);
  assert.deepEqual(await lots(), { a: 0, b: 15, c: 30 });
  assert.equal((await L.grant(c.id, -20, 'spend2')).balance, 25);
  assert.deepEqual(await lots(), { a: 0, b: 0, c: 25 });
  assert.ok(a.id < b.id && b.id < cc.id);
  // a lot that never expires (granted under expiry_months 0) is spent after every lot that does, though older
  await L.rules({ expiry_months: 0 });
  const n = (await L.grant(c.id, 40, 'never')).entry;
  assert.equal(n.expires_at, null);
  await L.rules({ expiry_months: 12 });
  await L.grant(c.id, 5, 'e');
  // c (25 left) and e expire the same day: the older first
  assert.equal((await L.grant(c.id, -28, 'spend3')).balance, 42);
  assert.deepEqual(await lots(), { a: 0, b: 0, c: 0, never: 40, e: 2 });
  assert.equal((await L.grant(c.id, -5, 'spend4')).balance, 37);
  assert.deepEqual(await lots(), { a: 0, b: 0, c: 0, never: 37, e: 0 });
  await assertConsistent(c.id);
  // one deduction across more lots than fit in a page of them
  const many = await L.customer();
  for (let i = 0; i < 70; i++) await L.grant(many.id, 1 + (i % 3), `lot${i}`);
  const total = Array.from({ length: 70 }, (_, i) => 1 + (i % 3)).reduce((x, y) => x + y, 0);
  const take = total - 10;
  assert.equal((await L.grant(many.id, -take, 'big spend')).balance, 10);
  const left = (await L.ledger(many.id)).filter((e) => e.delta > 0).reverse();
  let need = take;
  for (const e of left) {
    const used = Math.min(e.delta, need);
    need -= used;
    assert.equal(e.remaining, e.delta - used, `${e.reason}: ${e.remaining} left`);
  }
  await assertConsistent(many.id);
});

test('GET /customers/{id}/points: the ledger newest first in pages, balance and earned_12m', async () => {
  const c = await L.customer();
  for (let i = 1; i <= 7; i++) await L.grant(c.id, i, `g${i}`);
  await L.grant(c.id, -10, 'spend');
  const all = await L.ledger(c.id);
  assert.deepEqual(all.map((e) => e.reason), ['spend', 'g7', 'g6', 'g5', 'g4', 'g3', 'g2', 'g1']);
  for (const limit of [1, 3, 5]) assert.deepEqual(await L.ledger(c.id, { limit }), all);
  const first = await L.points(c.id, 'limit=3');
  assert.deepEqual(Object.keys(first).sort(), ['balance', 'earned_12m', 'ledger', 'next_cursor']);
  assert.deepEqual([first.balance, first.earned_12m, first.ledger.length, typeof first.next_cursor], [18, 28, 3, 'string']);
  for (const [q, field] of [['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=x', 'limit'], ['cursor=bad!', 'cursor']]) {
    assertError(await d.req('GET', `/api/v1/customers/${c.id}/points?${q}`, viewer), 422, 'validation_failed', field);
  }
  const w = await L.wallet(c.id);
  assert.deepEqual(w, { balance_cents: 0, ledger: [], next_cursor: null });
});

test('check-in: once per business day (409 after), awards the schedule, moves the stage to interested', async () => {
  await L.rules({ checkin_schedule: [3, 4] });
  const c = await L.customer();
  assert.equal(c.stage, 'added');
  const r = await L.checkin(c.id);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { streak: 1, points_awarded: 3, balance: 3, day: shDate(shDay(nowS())) });
  assertError(await L.checkin(c.id), 409, 'conflict');
  assertError(await L.checkin(c.id, { body: {} }), 409, 'conflict');
  assert.equal((await L.get(c.id)).stage, 'interested');
  assert.deepEqual((await L.ledger(c.id)).map((e) => [e.reason, e.ref_type, e.ref_id, e.delta]), [['checkin', 'checkin', shDay(nowS()), 3]]);
  assert.deepEqual(sqliteJson(d.db, `SELECT day, streak, points FROM checkins WHERE customer_id = ${c.id}`), [{ day: shDay(nowS()), streak: 1, points: 3 }]);
  // a body, when sent, is an empty object
  const c2 = await L.customer();
  assertError(await L.checkin(c2.id, { body: { day: '2026-01-01' } }), 422, 'validation_failed', 'day');
  assertError(await L.checkin(c2.id, { body: '[]' }), 422, 'validation_failed');
  assertError(await L.checkin(c2.id, { body: '{' }), 400, 'invalid_json');
  assert.equal((await L.checkin(c2.id, { body: {} })).status, 200);
  const tl = (await L.timeline(c.id)).filter((e) => e.kind === 'checkin');
  assert.deepEqual(tl.map((e) => e.data), [{ streak: 1, points: 3 }]);
  await L.rules();
});

test('wallet: topup, spend, refund and adjust with their signs, never below zero (422 insufficient_balance), the ledger newest first', async () => {
  const c = await L.customer();
  const steps = [[1000, 'topup', 1000], [-300, 'spend', 700], [100, 'refund', 800], [-800, 'adjust', 0], [50, 'adjust', 50]];
  for (const [delta, reason, balance] of steps) {
    const r = await L.walletMove(c.id, delta, reason, { note: `n ${reason}` });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ['balance_cents', 'entry']);
    assert.equal(r.json.balance_cents, balance);
    assert.deepEqual(Object.keys(r.json.entry).sort(), ['created_at', 'delta_cents', 'id', 'note', 'reason', 'ref_id', 'ref_type']);
    assert.deepEqual([r.json.entry.delta_cents, r.json.entry.reason, r.json.entry.note], [delta, reason, `n ${reason}`]);
  }
  for (const [delta, reason] of [[-51, 'spend'], [-51, 'adjust'], [-100000000000, 'spend']]) assertError(await L.walletMove(c.id, delta, reason), 422, 'insufficient_balance', 'delta_cents');
  const bad = [
    [{ delta_cents: -5, reason: 'topup' }, 'delta_cents'], [{ delta_cents: 5, reason: 'spend' }, 'delta_cents'], [{ delta_cents: -5, reason: 'refund' }, 'delta_cents'],
    [{ delta_cents: 0, reason: 'adjust' }, 'delta_cents'], [{ delta_cents: 5, reason: 'gift' }, 'reason'], [{ delta_cents: 5, reason: 'TOPUP' }, 'reason'],
    [{ delta_cents: 5 }, 'reason'], [{ reason: 'topup' }, 'delta_cents'], [{ delta_cents: '5', reason: 'topup' }, 'delta_cents'],
    [{ delta_cents: 1.5, reason: 'topup' }, 'delta_cents'], [{ delta_cents: 100000000001, reason: 'topup' }, 'delta_cents'],
    [{ delta_cents: 5, reason: 'topup', note: 'n'.repeat(501) }, 'note'], [{ delta_cents: 5, reason: 'topup', delta: 5 }, 'delta'],
    [{ delta_cents: 5, reason: 5 }, 'reason'],
  ];
  for (const [body, field] of bad) assertError(await d.req('POST', `/api/v1/customers/${c.id}/wallet`, { ...op, body }), 422, 'validation_failed', field);
  assertError(await d.req('POST', `/api/v1/customers/${c.id}/wallet`, { ...op, body: '{' }), 400, 'invalid_json');
  const w = await L.wallet(c.id);
  assert.equal(w.balance_cents, 50);
  assert.deepEqual(w.ledger.map((e) => [e.delta_cents, e.reason]), steps.map(([x, y]) => [x, y]).reverse());
  assert.deepEqual(await L.ledger(c.id, { kind: 'wallet', limit: 2 }), w.ledger);
  assert.equal((await L.get(c.id)).wallet_balance_cents, 50);
  const tl = (await L.timeline(c.id)).filter((e) => e.kind === 'wallet.changed').reverse();
  assert.deepEqual(tl.map((e) => e.data), steps.map(([delta_cents, reason, balance_cents]) => ({ delta_cents, reason, balance_cents })));
  assert.deepEqual((await auditAll(d, { action: 'wallet.move', target_id: String(c.id) })).map((x) => x.detail).reverse(),
    steps.map(([delta_cents, reason]) => ({ delta_cents, reason })));
  await assertConsistent(c.id);
});

test('content: a review of an order bound to the customer earns review_bonus once per order; other kinds earn nothing; stage sharing', async () => {
  await L.rules({ review_bonus: 25 });
  const c = await L.customer({ phone: newPhone() });
  const o = await L.order({ customer_id: c.id, amount_cents: 1000 });
  const o2 = await L.order({ customer_id: c.id, amount_cents: 1000 });
  const stranger = await L.customer({ phone: newPhone() });
  const theirs = await L.order({ customer_id: stranger.id, amount_cents: 1000 });
  const unbound = await L.order({ amount_cents: 1000 });
  const r = await L.content(c.id, { kind: 'review', order_id: o.id, url: 'https://example.com/r/1', note: '好喝' });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), ['created_at', 'customer_id', 'id', 'kind', 'note', 'order_id', 'points_awarded', 'url']);
  assert.deepEqual([r.json.customer_id, r.json.kind, r.json.order_id, r.json.url, r.json.note, r.json.points_awarded], [c.id, 'review', o.id, 'https://example.com/r/1', '好喝', 25]);
  // content moves the stage to at least sharing: a repurchasing customer stays where they are
  assert.equal((await L.get(c.id)).stage, 'repurchasing');
  // the same order again: 201, nothing awarded
  const again = await L.content(c.id, { kind: 'review', order_id: o.id });
  assert.deepEqual([again.status, again.json.points_awarded], [201, 0]);
  // another order: the bonus again; buyer shows and shares never
  const r2 = await L.content(c.id, { kind: 'review', order_id: o2.id });
  assert.equal(r2.json.points_awarded, 25);
  assert.equal((await L.content(c.id, { kind: 'buyer_show', order_id: o.id, url: 'http://example.com/show' })).json.points_awarded, 0);
  const share = await L.content(c.id, { kind: 'share', url: 'https://example.com/s' });
  assert.deepEqual([share.status, share.json.points_awarded, share.json.order_id], [201, 0, null]);
  const ledger = (await L.ledger(c.id)).filter((e) => e.reason === 'review').reverse();
  assert.deepEqual(ledger.map((e) => [e.delta, e.ref_type, e.ref_id]), [[25, 'content', r.json.id], [25, 'content', r2.json.id]]);
  assert.ok(ledger.every((e) => e.expires_at === expiryOf(e.created_at, 12)));
  assert.equal((await L.points(c.id)).balance, 10 + 10 + 50);
  // someone else's order, an unbound one, one that does not exist, none at all
  for (const [body, field] of [[{ kind: 'review', order_id: theirs.id }, 'order_id'], [{ kind: 'review', order_id: unbound.id }, 'order_id'],
    [{ kind: 'review', order_id: 999999 }, 'order_id'], [{ kind: 'review' }, 'order_id'], [{ kind: 'review', order_id: null }, 'order_id'],
    [{ kind: 'buyer_show', order_id: theirs.id }, 'order_id'], [{ kind: 'review', order_id: 0 }, 'order_id'], [{ kind: 'review', order_id: '1' }, 'order_id'],
    [{ kind: 'blog', order_id: o.id }, 'kind'], [{ kind: 5 }, 'kind'], [{ order_id: o.id }, 'kind'], [{ kind: 'share', url: 'ftp://x' }, 'url'],
    [{ kind: 'share', url: 'javascript:alert(1)' }, 'url'], [{ kind: 'share', url: 'https://x/' + 'a'.repeat(2048) }, 'url'],
    [{ kind: 'share', note: 'n'.repeat(4001) }, 'note'], [{ kind: 'share', points: 5 }, 'points']]) {
    assertError(await L.content(c.id, body), 422, 'validation_failed', field);
  }
  assertError(await L.content(c.id, '{'), 400, 'invalid_json');
  assert.equal((await L.points(stranger.id)).balance, 10);
  // a review of a refunded or cancelled order earns nothing; paid again, its first review earns
  const o4 = await L.order({ customer_id: c.id, amount_cents: 100, status: 'refunded' });
  assert.equal((await L.content(c.id, { kind: 'review', order_id: o4.id })).json.points_awarded, 0);
  await L.setStatus(o4, 'cancelled');
  assert.equal((await L.content(c.id, { kind: 'review', order_id: o4.id })).json.points_awarded, 0);
  await L.setStatus(o4, 'paid');
  assert.equal((await L.content(c.id, { kind: 'review', order_id: o4.id })).json.points_awarded, 25);
  assert.equal((await L.content(c.id, { kind: 'review', order_id: o4.id })).json.points_awarded, 0);
  // review_bonus 0: a review earns nothing, and the order can still earn when the bonus is back
  const o3 = await L.order({ customer_id: c.id, amount_cents: 100 });
  await L.rules({ review_bonus: 0 });
  assert.equal((await L.content(c.id, { kind: 'review', order_id: o3.id })).json.points_awarded, 0);
  await L.rules({ review_bonus: 7 });
  assert.equal((await L.content(c.id, { kind: 'review', order_id: o3.id })).json.points_awarded, 7);
  assert.equal((await L.content(c.id, { kind: 'review', order_id: o3.id })).json.points_awarded, 0);
  assert.deepEqual(sqliteJson(d.db, `SELECT kind, points_awarded FROM content WHERE customer_id = ${c.id} ORDER BY id`).map((x) => [x.kind, x.points_awarded]),
    [['review', 25], ['review', 0], ['review', 25], ['buyer_show', 0], ['share', 0], ['review', 0], ['review', 0], ['review', 25], ['review', 0],
      ['review', 0], ['review', 7], ['review', 0]]);
  // customers at an earlier stage are moved to sharing, by a review or by a share alone
  assert.equal((await L.get(stranger.id)).stage, 'converted');
  assert.equal((await L.content(stranger.id, { kind: 'review', order_id: theirs.id })).json.points_awarded, 7);
  assert.equal((await L.get(stranger.id)).stage, 'sharing');
  const s = await L.customer();
  assert.equal((await L.content(s.id, { kind: 'share' })).status, 201);
  assert.equal((await L.get(s.id)).stage, 'sharing');
  await assertConsistent(c.id);
  await L.rules();
});

test('Idempotency-Key on POST /points, /wallet, /checkin and /content: the first answer again, the balance moved once; another body 409', async () => {
  await L.rules({ review_bonus: 20 });
  const c = await L.customer();
  const o = await L.order({ customer_id: c.id, amount_cents: 500 });
  const key = () => ({ headers: { 'Idempotency-Key': unique('loy-idem') } });
  const cases = [
    ['POST', `/api/v1/customers/${c.id}/points`, { delta: 40, reason: 'promo' }, { delta: 41, reason: 'promo' }, 201],
    ['POST', `/api/v1/customers/${c.id}/points`, { delta: -10, reason: 'mall' }, { delta: -10, reason: 'mall2' }, 201],
    ['POST', `/api/v1/customers/${c.id}/wallet`, { delta_cents: 700, reason: 'topup' }, { delta_cents: 700, reason: 'refund' }, 201],
    ['POST', `/api/v1/customers/${c.id}/wallet`, { delta_cents: -200, reason: 'spend' }, { delta_cents: -201, reason: 'spend' }, 201],
    ['POST', `/api/v1/customers/${c.id}/checkin`, undefined, {}, 200],
    ['POST', `/api/v1/customers/${c.id}/content`, { kind: 'review', order_id: o.id }, { kind: 'review', order_id: o.id, note: 'x' }, 201],
  ];
  for (const [m, p, body, other, status] of cases) {
    const k = key();
    const r1 = await d.req(m, p, { ...op, ...k, body });
    assert.equal(r1.status, status, r1.text);
    const state = await L.get(c.id);
    for (let i = 0; i < 2; i++) {
      const r2 = await d.req(m, p, { ...op, ...k, body });
      assert.deepEqual([r2.status, r2.text, r2.headers.get('idempotent-replayed')], [status, r1.text, 'true']);
    }
    const after = await L.get(c.id);
    assert.deepEqual([after.points_balance, after.wallet_balance_cents], [state.points_balance, state.wallet_balance_cents], `${p} moved twice`);
    assertError(await d.req(m, p, { ...op, ...k, body: other }), 409, 'idempotency_mismatch');
    // the same key on another customer's path is another request
    assertError(await d.req(m, p.replace(`/${c.id}/`, `/${c.id + 100000}/`), { ...op, ...k, body }), 409, 'idempotency_mismatch');
  }
  const p = await L.points(c.id);
  // 5 (order) + 40 - 10 + 5 (check-in) + 20 (review)
  assert.equal(p.balance, 60);
  assert.equal((await L.wallet(c.id)).balance_cents, 500);
  assert.equal(Number(sqlite(d.db, `SELECT count(*) FROM checkins WHERE customer_id = ${c.id};`)), 1);
  assert.equal(Number(sqlite(d.db, `SELECT count(*) FROM content WHERE customer_id = ${c.id};`)), 1);
  // a refusal by the ledger is the first answer too: replayed as it was, even after the balance grew
  const k = key();
  const refused = await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, ...k, body: { delta: -61, reason: 'x' } });
  assertError(refused, 422, 'insufficient_points', 'delta');
  await L.grant(c.id, 1, 'top up');
  const again = await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, ...k, body: { delta: -61, reason: 'x' } });
  assert.deepEqual([again.status, again.text], [422, refused.text]);
  assert.equal((await L.points(c.id)).balance, 61);
  assert.equal((await d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, ...key(), body: { delta: -61, reason: 'x' } })).status, 201);
  // the same key sent many times at once: one movement
  const k2 = key();
  const rs = await Promise.all(Array.from({ length: 6 }, () => d.req('POST', `/api/v1/customers/${c.id}/points`, { ...op, ...k2, body: { delta: 9, reason: 'burst' } })));
  assert.ok(rs.every((x) => x.status === 201 && x.text === rs[0].text), rs.map((x) => x.status).join());
  assert.equal((await L.points(c.id)).balance, 9);
  await assertConsistent(c.id);
  await L.rules();
});

test('concurrent deductions, wallet spends and check-ins never overdraw or double up', async () => {
  const c = await L.customer();
  await L.grant(c.id, 50);
  assert.equal((await L.walletMove(c.id, 500, 'topup')).status, 201);
  const [pts, wal, chk] = await Promise.all([
    Promise.all(Array.from({ length: 10 }, () => L.move(c.id, -10, 'race'))),
    Promise.all(Array.from({ length: 8 }, () => L.walletMove(c.id, -100, 'spend'))),
    Promise.all(Array.from({ length: 6 }, () => L.checkin(c.id))),
  ]);
  const count = (rs, s) => rs.filter((x) => x.status === s).length;
  assert.deepEqual([count(pts, 201), count(pts, 422)], [5, 5], pts.map((x) => x.status).join());
  for (const x of pts.filter((y) => y.status === 422)) assertError(x, 422, 'insufficient_points', 'delta');
  assert.deepEqual([count(wal, 201), count(wal, 422)], [5, 3], wal.map((x) => x.status).join());
  for (const x of wal.filter((y) => y.status === 422)) assertError(x, 422, 'insufficient_balance', 'delta_cents');
  assert.deepEqual([count(chk, 200), count(chk, 409)], [1, 5], chk.map((x) => x.status).join());
  const g = await assertConsistent(c.id);
  assert.deepEqual([g.points_balance, g.wallet_balance_cents], [5, 0]);
});

test('404 for an unknown, erased or merged-away customer on every member-club route; bad ids are 404', async () => {
  const keep = await L.customer();
  const gone = await L.customer();
  await L.grant(gone.id, 10);
  await L.erase(gone.id);
  const folded = await L.customer();
  await L.grant(folded.id, 10);
  await L.merge(keep.id, folded.id);
  const routes = (id) => [
    ['GET', `/api/v1/customers/${id}/points`], ['POST', `/api/v1/customers/${id}/points`, { delta: 5, reason: 'x' }],
    ['POST', `/api/v1/customers/${id}/points`, { delta: -5, reason: 'x' }], ['POST', `/api/v1/customers/${id}/checkin`],
    ['GET', `/api/v1/customers/${id}/wallet`], ['POST', `/api/v1/customers/${id}/wallet`, { delta_cents: 5, reason: 'topup' }],
    ['POST', `/api/v1/customers/${id}/content`, { kind: 'share' }], ['PUT', `/api/v1/customers/${id}/tier`, { tier_id: null }],
  ];
  for (const id of [999999, gone.id, folded.id]) {
    for (const [m, p, body] of routes(id)) {
      const r = await d.req(m, p, { ...op, body });
      assertError(r, 404, 'not_found');
      if (id === folded.id) assert.match(r.json.error.message, new RegExp(`merged into customer ${keep.id}\\b`), r.text);
    }
  }
  for (const id of ['0', '-1', 'abc', '1.5', '99999999999999999999']) {
    for (const [m, p, body] of routes(id)) assertError(await d.req(m, p, { ...op, body }), 404, 'not_found');
  }
  // an erased customer's ledger is kept for the books, and nothing new lands on it
  assert.deepEqual(sqliteJson(d.db, `SELECT sum(delta) AS s FROM points_ledger WHERE customer_id = ${gone.id}`), [{ s: 10 }]);
  assert.equal(Number(sqlite(d.db, `SELECT count(*) FROM wallet_ledger WHERE customer_id = ${gone.id};`)), 0);
  assert.equal(Number(sqlite(d.db, `SELECT count(*) FROM checkins WHERE customer_id = ${gone.id};`)), 0);
});

test('every member-club route needs auth (401); a viewer reads but gets 403 on writes; an operator gets 403 on admin-only writes', async () => {
  const c = await L.customer();
  const t = await d.req('POST', '/api/v1/tiers', { ...admin, body: { name: unique('AuthTier').slice(0, 40), min_points_12m: 999999999 } });
  assert.equal(t.status, 201, t.text);
  const rules = (await d.req('GET', '/api/v1/settings/points', viewer)).json;
  const routes = [
    ['GET', '/api/v1/settings/points', undefined, 'viewer'], ['PUT', '/api/v1/settings/points', { bind_bonus: 77 }, 'admin'],
    ['GET', `/api/v1/customers/${c.id}/points`, undefined, 'viewer'], ['POST', `/api/v1/customers/${c.id}/points`, { delta: 5, reason: 'x' }, 'operator'],
    ['POST', `/api/v1/customers/${c.id}/checkin`, undefined, 'operator'],
    ['GET', `/api/v1/customers/${c.id}/wallet`, undefined, 'viewer'], ['POST', `/api/v1/customers/${c.id}/wallet`, { delta_cents: 5, reason: 'topup' }, 'operator'],
    ['POST', `/api/v1/customers/${c.id}/content`, { kind: 'share' }, 'operator'],
    ['PUT', `/api/v1/customers/${c.id}/tier`, { tier_id: t.json.id, until: isoSeconds(nowS() + DAY) }, 'operator'],
    ['GET', '/api/v1/tiers', undefined, 'viewer'], ['POST', '/api/v1/tiers', { name: 'Nope', min_points_12m: 1 }, 'admin'],
    ['GET', `/api/v1/tiers/${t.json.id}`, undefined, 'viewer'], ['PATCH', `/api/v1/tiers/${t.json.id}`, { discount_pct: 9 }, 'admin'],
    ['DELETE', `/api/v1/tiers/${t.json.id}`, undefined, 'admin'],
    ['POST', '/api/v1/admin/jobs/daily', undefined, 'admin'], ['PUT', '/api/v1/admin/clock', { offset_s: 86400 }, 'admin'],
  ];
  for (const [m, p, body, min] of routes) {
    assertError(await d.req(m, p, { body }), 401, 'unauthorized');
    assertError(await d.req(m, p, { body, token: 'scrm_bogus' }), 401, 'unauthorized');
    if (min === 'viewer') {
      assert.equal((await d.req(m, p, viewer)).status, 200, p);
    } else {
      assertError(await d.req(m, p, { ...viewer, body }), 403, 'forbidden');
      if (min === 'admin') assertError(await d.req(m, p, { ...op, body }), 403, 'forbidden');
    }
  }
  // nothing changed
  const g = await L.get(c.id);
  assert.deepEqual([g.points_balance, g.wallet_balance_cents, g.tier, g.tier_override_until, g.stage], [0, 0, null, null, 'added']);
  assert.deepEqual((await d.req('GET', '/api/v1/settings/points', viewer)).json, rules);
  assert.deepEqual((await d.req('GET', `/api/v1/tiers/${t.json.id}`, viewer)).json, t.json);
  assert.equal(Number(sqlite(d.db, `SELECT count(*) FROM checkins WHERE customer_id = ${c.id};`)), 0);
  assert.equal(Number(sqlite(d.db, `SELECT count(*) FROM content WHERE customer_id = ${c.id};`)), 0);
  // the daily job takes no body but an empty object
  assertError(await d.req('POST', '/api/v1/admin/jobs/daily', { ...admin, body: '{' }), 400, 'invalid_json');
  assertError(await d.req('POST', '/api/v1/admin/jobs/daily', { ...admin, body: { dry_run: true } }), 422, 'validation_failed', 'dry_run');
  assert.equal((await d.req('POST', '/api/v1/admin/jobs/daily', { ...admin, body: {} })).status, 200);
  // a daemon started without SCRM_TEST_CLOCK has no clock to move: 404 even for an admin
  assertError(await d.req('PUT', '/api/v1/admin/clock', { ...admin, body: { offset_s: 86400 } }), 404, 'not_found');
  assert.ok(Math.abs(secOf((await L.customer()).created_at) - nowS()) < 60);
  assert.equal((await d.req('DELETE', `/api/v1/tiers/${t.json.id}`, admin)).status, 204);
});

test('merge: the kept profile gets both ledgers; balance = ledger sum; lots, refunds and check-ins keep working', async () => {
  await L.rules();
  const a = await L.customer({ phone: newPhone() });
  const b = await L.customer({ phone: newPhone() });
  const ob = await L.order({ buyer_phone: b.phone, amount_cents: 20000 }); // b: 200, the oldest lot
  await L.grant(b.id, 30, 'b-gift');
  const oa = await L.order({ buyer_phone: a.phone, amount_cents: 5000 }); // a: 50
  assert.equal((await L.checkin(a.id)).status, 200);
  assert.equal((await L.checkin(b.id)).status, 200);
  for (const [id, dc, reason] of [[a.id, 700, 'topup'], [b.id, 300, 'topup'], [b.id, -100, 'spend']]) assert.equal((await L.walletMove(id, dc, reason)).status, 201);
  const m = await L.merge(a.id, b.id);
  assert.deepEqual([m.id, m.points_balance, m.wallet_balance_cents], [a.id, 290, 900]);
  assert.deepEqual(pointsSum(a.id), { s: 290, r: 290 });
  assert.deepEqual(sqliteJson(d.db, `SELECT count(*) AS n FROM points_ledger WHERE customer_id = ${b.id}`), [{ n: 0 }]);
  assert.deepEqual(sqliteJson(d.db, `SELECT sum(delta_cents) AS s FROM wallet_ledger WHERE customer_id = ${a.id}`), [{ s: 900 }]);
  const p = await L.points(a.id);
  assert.deepEqual([p.balance, p.ledger.length], [290, 5]);
  assert.equal((await L.wallet(a.id)).ledger.length, 3);
  assertError(await d.req('GET', `/api/v1/customers/${b.id}/points`, viewer), 404, 'not_found');
  // both checked in today: the kept profile has checked in today
  assertError(await L.checkin(a.id), 409, 'conflict');
  // spending takes the oldest lot (b's order) first
  assert.equal((await L.grant(a.id, -210, 'mall')).balance, 80);
  const lots = async () => (await L.ledger(a.id)).filter((e) => e.delta > 0).reverse().map((e) => [e.reason, e.ref_id, e.remaining]);
  assert.deepEqual(await lots(), [['order', ob.id, 0], ['b-gift', null, 20], ['order', oa.id, 50], ['checkin', shDay(nowS()), 5], ['checkin', shDay(nowS()), 5]]);
  // b's order, now a's, refunded: taken back from a, never below zero
  await L.setStatus(ob, 'refunded');
  assert.deepEqual(rowsFor(await L.ledger(a.id), ob.id).map(brief), [['order', 200, 0, 0], ['refund', -80, 0, 120]]);
  assert.equal((await L.get(a.id)).points_balance, 0);
  await L.setStatus(ob, 'paid');
  assert.equal((await L.get(a.id)).points_balance, 200);
  assert.equal((await L.walletMove(a.id, -900, 'spend')).status, 201);
  assertError(await L.walletMove(a.id, -1, 'spend'), 422, 'insufficient_balance', 'delta_cents');
  const g = await assertConsistent(a.id);
  assert.deepEqual([g.points_balance, g.wallet_balance_cents], [200, 0]);
});

test('the timeline records points.changed (delta, reason, balance) for every movement and checkin (streak, points)', async () => {
  await L.rules({ checkin_schedule: [2] });
  const c = await L.customer({ phone: newPhone() });
  const o = await L.order({ buyer_phone: c.phone, amount_cents: 3000 });
  await L.checkin(c.id);
  await L.grant(c.id, -12, 'mall');
  await L.setStatus(o, 'refunded');
  const tl = (await L.timeline(c.id)).reverse();
  assert.deepEqual(tl.filter((e) => e.kind === 'points.changed').map((e) => e.data), [
    { delta: 30, reason: 'order', balance: 30 }, { delta: 2, reason: 'checkin', balance: 32 },
    { delta: -12, reason: 'mall', balance: 20 }, { delta: -20, reason: 'refund', balance: 0 },
  ]);
  assert.deepEqual(tl.filter((e) => e.kind === 'checkin').map((e) => e.data), [{ streak: 1, points: 2 }]);
  assert.ok(tl.every((e) => RFC3339.test(e.created_at)));
  await L.rules();
});

// ---- tests on their own daemon, with the test clock ------------------------------------

test('PUT /admin/clock (SCRM_TEST_CLOCK=1): admin only, offset_s checked, moves every time the daemon writes', async (t) => {
  const dm = await withDaemon(t, CLOCK_ENV);
  const adm = { token: await dm.adminToken() };
  const opc = { token: await dm.token('operator') };
  const C = club(dm, adm);
  assertError(await dm.req('PUT', '/api/v1/admin/clock', { body: { offset_s: 5 } }), 401, 'unauthorized');
  assertError(await dm.req('PUT', '/api/v1/admin/clock', { ...opc, body: { offset_s: 5 } }), 403, 'forbidden');
  for (const [body, field] of [[{}, 'offset_s'], [{ offset_s: '5' }, 'offset_s'], [{ offset_s: 1.5 }, 'offset_s'], [{ offset_s: null }, 'offset_s'],
    [{ offset_s: 3153600001 }, 'offset_s'], [{ offset_s: -3153600001 }, 'offset_s'], [{ offset_s: 1, x: 1 }, 'x']]) {
    assertError(await dm.req('PUT', '/api/v1/admin/clock', { ...adm, body }), 422, 'validation_failed', field);
  }
  assertError(await dm.req('PUT', '/api/v1/admin/clock', { ...adm, body: '{' }), 400, 'invalid_json');
  const r = await dm.req('PUT', '/api/v1/admin/clock', { ...adm, body: { offset_s: 10 * DAY } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.offset_s, 10 * DAY);
  assert.ok(Math.abs(secOf(r.json.now) - (nowS() + 10 * DAY)) < 60, r.text);
  const c = await C.customer();
  assert.ok(Math.abs(secOf(c.created_at) - (nowS() + 10 * DAY)) < 60);
  const ck = await C.checkin(c.id);
  assert.equal(ck.json.day, shDate(shDay(nowS() + 10 * DAY)));
  await C.clockAt(nowS());
  assert.ok(Math.abs(secOf((await C.customer()).created_at) - nowS()) < 60);
});

test('member day: order points times the multiplier when bound on member day in Asia/Shanghai, not the day before or after; the bind bonus is not multiplied', async (t) => {
  const dm = await withDaemon(t, CLOCK_ENV);
  const C = club(dm, { token: await dm.adminToken() });
  const P = phones('1381');
  const md = shDay(nowS()) + 3; // a business day three days ahead
  const dom = shDom(md);
  await C.rules({ member_day: dom, member_day_multiplier: 3, bind_bonus: 50 });
  const c = await C.customer({ phone: P() });
  const earned = async (o) => rowsFor(await C.ledger(c.id), o.id).map((e) => [e.reason, e.delta]);
  // noon on member day
  await C.clockAt(shNoon(md));
  const o1 = await C.order({ buyer_phone: c.phone, amount_cents: 12345 });
  assert.deepEqual(await earned(o1), [['order', 369]]);
  const p2 = P();
  const o2 = await C.order({ buyer_phone: p2, amount_cents: 12345 });
  await C.bind(o2, c.id, p2);
  assert.deepEqual(await earned(o2), [['order', 369], ['bind_bonus', 50]]);
  // member day off (0): no multiplier even on that date
  await C.rules({ member_day: 0, member_day_multiplier: 3, bind_bonus: 50 });
  const o3 = await C.order({ customer_id: c.id, amount_cents: 12345 });
  assert.deepEqual(await earned(o3), [['order', 123]]);
  await C.rules({ member_day: dom, member_day_multiplier: 3, bind_bonus: 50 });
  // two minutes before midnight in Shanghai: the day before, no multiplier
  await C.clockAt(shMidnight(md) - 120);
  const o4 = await C.order({ customer_id: c.id, amount_cents: 12345 });
  assert.deepEqual(await earned(o4), [['order', 123]]);
  // just after midnight in Shanghai (still the day before in UTC): member day
  await C.clockAt(shMidnight(md) + 30);
  const o5 = await C.order({ customer_id: c.id, amount_cents: 12345 });
  assert.deepEqual(await earned(o5), [['order', 369]]);
  const row5 = rowsFor(await C.ledger(c.id), o5.id)[0];
  assert.equal(row5.created_at.slice(0, 10), shDate(md - 1), 'the member-day grant is dated the day before in UTC');
  // the next day: no multiplier
  await C.clockAt(shNoon(md + 1));
  const o6 = await C.order({ customer_id: c.id, amount_cents: 12345 });
  assert.deepEqual(await earned(o6), [['order', 123]]);
  // paid on member day but bound (through the binding flow) the day after: the binding day counts
  await C.clockAt(shNoon(md));
  const p7 = P();
  const o7 = await C.order({ buyer_phone: p7, amount_cents: 20000, paid_at: isoSeconds(shNoon(md)) });
  assert.equal(o7.customer_id, null);
  await C.clockAt(shNoon(md + 1));
  await C.bind(o7, c.id, p7);
  assert.deepEqual(await earned(o7), [['order', 200], ['bind_bonus', 50]]);
  // re-sent on member day: never paid twice
  await C.clockAt(shNoon(md));
  for (const o of [o1, o3, o6, o7]) await C.order({ platform: o.platform, external_id: o.external_id, status: 'paid' }, 200);
  assert.deepEqual(await earned(o7), [['order', 200], ['bind_bonus', 50]]);
  assert.deepEqual(await earned(o1), [['order', 369]]);
  const total = 369 + 419 + 123 + 123 + 369 + 123 + 250;
  assert.equal((await C.points(c.id)).balance, total);
  await assertConsistent(c.id, dm, C);
});

test('check-in streaks follow the business day (00:00 Asia/Shanghai = 16:00 UTC), across a month end, restart after the schedule and after a missed day', async (t) => {
  const dm = await withDaemon(t, CLOCK_ENV);
  const C = club(dm, { token: await dm.adminToken() });
  // D0: the next business day that is the last of its month
  let D0 = shDay(nowS()) + 1;
  while (shDom(D0 + 1) !== 1) D0++;
  await C.rules({ checkin_schedule: [1, 2, 3] });
  const c = await C.customer();
  const at = async (sec) => { await C.clockAt(sec); return C.checkin(c.id); };
  const ok = (r, streak, points, day) => {
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.streak, r.json.points_awarded, r.json.day], [streak, points, shDate(day)]);
  };
  ok(await at(shMidnight(D0 + 1) - 180), 1, 1, D0); // 23:57 Shanghai on the month's last day
  assertError(await at(shMidnight(D0 + 1) - 60), 409, 'conflict'); // 23:59: the same business day
  ok(await at(shMidnight(D0 + 1) + 30), 2, 2, D0 + 1); // 00:00:30 on the 1st: the UTC date has not changed
  assert.equal(shDom(D0 + 1), 1);
  assertError(await at(shMidnight(D0 + 1) + 9 * 3600), 409, 'conflict'); // 09:00 on the 1st: a new UTC date, the same business day
  assertError(await at(shMidnight(D0 + 2) - 60), 409, 'conflict'); // 23:59 on the 1st
  ok(await at(shNoon(D0 + 2)), 3, 3, D0 + 2); // the schedule's last day
  ok(await at(shNoon(D0 + 3)), 1, 1, D0 + 3); // then it starts again
  ok(await at(shMidnight(D0 + 4) + 5), 2, 2, D0 + 4);
  ok(await at(shMidnight(D0 + 6) + 5), 1, 1, D0 + 6); // D0+5 missed
  const r = await at(shNoon(D0 + 7));
  ok(r, 2, 2, D0 + 7);
  assert.equal(r.json.balance, 1 + 2 + 3 + 1 + 2 + 1 + 2);
  assert.deepEqual(sqliteJson(dm.db, `SELECT day, streak, points FROM checkins WHERE customer_id = ${c.id} ORDER BY day`),
    [[D0, 1, 1], [D0 + 1, 2, 2], [D0 + 2, 3, 3], [D0 + 3, 1, 1], [D0 + 4, 2, 2], [D0 + 6, 1, 1], [D0 + 7, 2, 2]].map(([day, streak, points]) => ({ day, streak, points })));
  const lots = (await C.ledger(c.id)).reverse();
  assert.deepEqual(lots.map((e) => [e.reason, e.ref_type, e.ref_id, e.delta]), [D0, D0 + 1, D0 + 2, D0 + 3, D0 + 4, D0 + 6, D0 + 7].map((day, i) => ['checkin', 'checkin', day, [1, 2, 3, 1, 2, 1, 2][i]]));
  assert.deepEqual((await C.timeline(c.id)).filter((e) => e.kind === 'checkin').reverse().map((e) => e.data.streak), [1, 2, 3, 1, 2, 1, 2]);
  // the default schedule: 5 a day, 30 on day 7, then 5 again
  await C.rules();
  const c2 = await C.customer();
  const got = [];
  for (let i = 0; i < 8; i++) {
    await C.clockAt(shNoon(D0 + 20 + i) + (i % 2 ? 11 * 3600 : -11 * 3600)); // 01:00 or 23:00 Shanghai
    const x = await C.checkin(c2.id);
    assert.equal(x.status, 200, x.text);
    got.push([x.json.streak, x.json.points_awarded]);
  }
  assert.deepEqual(got, [[1, 5], [2, 5], [3, 5], [4, 5], [5, 5], [6, 5], [7, 30], [1, 5]]);
  assert.equal((await C.get(c2.id)).points_balance, 65);
  assert.equal((await C.get(c2.id)).stage, 'interested');
});

test('expiry: the daily job expires the unspent rest of lots past expires_at (FIFO), leaves spent lots alone, never touches expiry_months 0', async (t) => {
  const dm = await withDaemon(t, CLOCK_ENV);
  const C = club(dm, { token: await dm.adminToken() });
  const base = shNoon(shDay(nowS()) + 1);
  await C.clockAt(base);
  await C.rules({ expiry_months: 1 });
  const c = await C.customer();
  const other = await C.customer();
  const A = (await C.grant(c.id, 100, 'A')).entry;
  const B = (await C.grant(c.id, 40, 'B')).entry;
  const Cl = (await C.grant(c.id, 60, 'C')).entry;
  const E = (await C.grant(other.id, 30, 'E')).entry;
  for (const e of [A, B, Cl, E]) assert.equal(e.expires_at, expiryOf(e.created_at, 1));
  assert.equal((await C.grant(c.id, -120, 'mall')).balance, 80); // A all, B 20 of 40
  await C.rules({ expiry_months: 0 });
  const N = (await C.grant(c.id, 25, 'N')).entry;
  assert.equal(N.expires_at, null);
  await C.rules({ expiry_months: 1 });
  await C.clockAt(base + 10 * DAY);
  const D = (await C.grant(c.id, 10, 'D')).entry;
  assert.equal(D.expires_at, expiryOf(D.created_at, 1));
  // before the date: nothing expires
  await C.clockAt(secOf(A.expires_at) - 60);
  let j = await C.daily();
  assert.deepEqual([j.lots_expired, j.points_expired, j.customers_scanned, j.tiers_changed], [0, 0, 2, 0]);
  // past it: the rest of B and C and all of E; A (spent) untouched
  await C.clockAt(secOf(A.expires_at) + 60);
  j = await C.daily();
  assert.deepEqual(Object.keys(j).sort(), ['audience_entered', 'audience_left', 'audiences', 'auto_tags', 'commissions_settled', 'coupons_expired', 'customers_scanned', 'expiry_ms', 'lots_expired', 'points_expired', 'segments_ms', 'tags_added', 'tags_removed', 'tier_ms', 'tiers_changed']);
  assert.deepEqual([j.lots_expired, j.points_expired, j.coupons_expired], [3, 110, 0]);
  const ledger = await C.ledger(c.id);
  const exp = ledger.filter((e) => e.reason === 'expire').reverse();
  assert.deepEqual(exp.map((e) => [e.delta, e.ref_type, e.ref_id, e.remaining, e.expires_at]), [[-20, 'points_lot', B.id, 0, null], [-60, 'points_lot', Cl.id, 0, null]]);
  assert.ok(exp.every((e) => Math.abs(secOf(e.created_at) - secOf(A.expires_at) - 60) < 60));
  const rem = Object.fromEntries(ledger.filter((e) => e.delta > 0).map((e) => [e.reason, e.remaining]));
  assert.deepEqual(rem, { A: 0, B: 0, C: 0, N: 25, D: 10 });
  let p = await C.points(c.id);
  assert.equal(p.balance, 35);
  assert.equal(p.earned_12m, 235, 'expiry does not undo what was earned');
  assert.deepEqual((await C.ledger(other.id)).map((e) => [e.reason, e.delta, e.ref_id]), [['expire', -30, E.id], ['E', 30, null]]);
  assert.equal((await C.get(other.id)).points_balance, 0);
  // again: nothing more
  j = await C.daily();
  assert.deepEqual([j.lots_expired, j.points_expired], [0, 0]);
  // spending now takes D (expiring) before N (never)
  assert.equal((await C.grant(c.id, -30, 'mall2')).balance, 5);
  // twenty years on: the never-expiring lot is still there
  await C.clockAt(nowS() + 20 * 366 * DAY);
  j = await C.daily();
  assert.deepEqual([j.lots_expired, j.points_expired], [0, 0]);
  p = await C.points(c.id);
  assert.equal(p.balance, 5);
  assert.equal(p.ledger.find((e) => e.reason === 'N').remaining, 5);
  for (const id of [c.id, other.id]) await assertConsistent(id, dm, C);
  // a lot expiring with points left and an order refund after it: the refund takes what is left, records the rest
  await C.clockAt(nowS() + 21 * 366 * DAY);
  const buyer = await C.customer({ phone: '13812340000' });
  const o = await C.order({ buyer_phone: buyer.phone, amount_cents: 7000 });
  await C.grant(buyer.id, -20, 'mall');
  await C.clockAt(nowS() + 21 * 366 * DAY + 40 * DAY);
  j = await C.daily();
  assert.deepEqual([j.lots_expired, j.points_expired], [1, 50]);
  await C.setStatus(o, 'refunded');
  assert.deepEqual(rowsFor(await C.ledger(buyer.id), o.id).map(brief), [['order', 70, 0, 0], ['refund', 0, 0, 70]]);
  assert.equal(orderNet(dm.db, o.id), 0);
  await assertConsistent(buyer.id, dm, C);
});

test('a streak already past the end of a schedule that was shortened starts again at day 1', async (t) => {
  const dm = await withDaemon(t, CLOCK_ENV);
  const C = club(dm, { token: await dm.adminToken() });
  await C.rules({ checkin_schedule: [1, 2, 3, 4, 5] });
  const c = await C.customer();
  const D = shDay(nowS()) + 1;
  for (let i = 0; i < 3; i++) {
    await C.clockAt(shNoon(D + i));
    assert.equal((await C.checkin(c.id)).json.streak, i + 1);
  }
  await C.rules({ checkin_schedule: [10, 20] });
  await C.clockAt(shNoon(D + 3));
  const r = await C.checkin(c.id);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.streak, r.json.points_awarded], [1, 10]);
});
