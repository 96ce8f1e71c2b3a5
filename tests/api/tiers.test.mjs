// Member tiers: /tiers CRUD and its checks, a customer's tier from the last
// 12 months (points earned or money spent, never the balance; the highest rank
// reached wins), refunds undoing tier progress, dropping a tier when orders
// leave the window (test clock + daily job), overrides that win until they
// end, and tier.changed on the timeline. Every test runs its own daemon, since
// tiers apply to every customer of a database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDaemon, assertError, auditAll, sqliteJson, isoSeconds } from './lib.mjs';
import { CLOCK_ENV, RFC3339, DAY, nowS, phones, club } from './loyalty_lib.mjs';

const TIER_KEYS = ['basis', 'created_at', 'discount_pct', 'id', 'min_points_12m', 'min_spent_cents_12m', 'name', 'perks', 'rank', 'updated_at'];
const newPhone = phones('1382');

async function setup(t) {
  const dm = await withDaemon(t, CLOCK_ENV);
  const admin = { token: await dm.adminToken() };
  const op = { token: await dm.token('operator') };
  const viewer = { token: await dm.token('viewer') };
  const L = club(dm, op, admin);
  await L.rules(); // member day off, 1 point per yuan
  const tier = async (body) => {
    const r = await dm.req('POST', '/api/v1/tiers', { ...admin, body });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const tierOf = async (id) => {
    const c = await L.get(id);
    return c.tier;
  };
  const override = (id, body, auth = op) => dm.req('PUT', `/api/v1/customers/${id}/tier`, { ...auth, body });
  const tierEvents = async (id) => (await L.timeline(id)).filter((e) => e.kind === 'tier.changed').reverse().map((e) => e.data);
  return { dm, admin, op, viewer, L, tier, tierOf, override, tierEvents };
}

test('/tiers: create, read, list by rank, patch, delete; every field checked; admin writes', async (t) => {
  const { dm, admin, op, viewer, tier } = await setup(t);
  const r = await dm.req('POST', '/api/v1/tiers', { ...admin, body: { name: 'Silver', min_spent_cents_12m: 10000, discount_pct: 5, perks: ['free shipping', '生日礼'] } });
  assert.equal(r.status, 201, r.text);
  const silver = r.json;
  assert.deepEqual(Object.keys(silver).sort(), TIER_KEYS);
  assert.equal(r.headers.get('location'), `/api/v1/tiers/${silver.id}`);
  assert.deepEqual([silver.name, silver.basis, silver.min_spent_cents_12m, silver.min_points_12m, silver.rank, silver.discount_pct, silver.perks],
    ['Silver', 'spent', 10000, null, 1, 5, ['free shipping', '生日礼']]);
  assert.match(silver.created_at, RFC3339);
  assert.equal(silver.updated_at, silver.created_at);
  // rank defaults to above every tier so far; discount_pct to 0, perks to []
  const gold = await tier({ name: 'Gold', min_points_12m: 500 });
  assert.deepEqual([gold.basis, gold.min_points_12m, gold.min_spent_cents_12m, gold.rank, gold.discount_pct, gold.perks], ['points', 500, null, 2, 0, []]);
  const base = await tier({ name: 'Base', min_points_12m: 0, rank: 0, discount_pct: 100 });
  assert.equal(base.rank, 0);
  const top = await tier({ name: 'Top', min_spent_cents_12m: 100000000000, rank: 50 });
  assert.equal((await tier({ name: 'Next', min_points_12m: 1 })).rank, 51);
  const list = await dm.req('GET', '/api/v1/tiers', viewer);
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.data.map((x) => x.name), ['Next', 'Top', 'Gold', 'Silver', 'Base']);
  assert.equal(list.json.next_cursor, null);
  assert.deepEqual((await dm.req('GET', `/api/v1/tiers/${silver.id}`, viewer)).json, silver);
  assert.deepEqual(list.json.data.find((x) => x.id === top.id), top);
  // validation: 422 naming the field, nothing created
  const bad = [
    [{ min_points_12m: 1 }, 'name'], [{ name: '', min_points_12m: 1 }, 'name'], [{ name: 'n'.repeat(51), min_points_12m: 1 }, 'name'],
    [{ name: 5, min_points_12m: 1 }, 'name'], [{ name: null, min_points_12m: 1 }, 'name'], [{ name: 'a\u0001b', min_points_12m: 1 }, 'name'],
    [{ name: 'X' }, 'min_points_12m'], [{ name: 'X', min_points_12m: null, min_spent_cents_12m: null }, 'min_points_12m'],
    [{ name: 'X', min_points_12m: 1, min_spent_cents_12m: 1 }, 'min_spent_cents_12m'],
    [{ name: 'X', min_points_12m: -1 }, 'min_points_12m'], [{ name: 'X', min_spent_cents_12m: -1 }, 'min_spent_cents_12m'],
    [{ name: 'X', min_points_12m: '5' }, 'min_points_12m'], [{ name: 'X', min_points_12m: 1.5 }, 'min_points_12m'],
    [{ name: 'X', min_spent_cents_12m: 100000000001 }, 'min_spent_cents_12m'],
    [{ name: 'X', min_points_12m: 1, discount_pct: 101 }, 'discount_pct'], [{ name: 'X', min_points_12m: 1, discount_pct: -1 }, 'discount_pct'],
    [{ name: 'X', min_points_12m: 1, discount_pct: 5.5 }, 'discount_pct'], [{ name: 'X', min_points_12m: 1, discount_pct: '5' }, 'discount_pct'],
    [{ name: 'X', min_points_12m: 1, rank: 'top' }, 'rank'], [{ name: 'X', min_points_12m: 1, rank: 1.5 }, 'rank'],
    [{ name: 'X', min_points_12m: 1, perks: 'x' }, 'perks'], [{ name: 'X', min_points_12m: 1, perks: [1] }, 'perks'],
    [{ name: 'X', min_points_12m: 1, perks: ['p'.repeat(201)] }, 'perks'], [{ name: 'X', min_points_12m: 1, perks: new Array(51).fill('p') }, 'perks'],
    [{ name: 'X', min_points_12m: 1, colour: 'gold' }, 'colour'], [{ name: 'X', min_points_12m: 1, id: 3 }, 'id'],
    [{ name: 'X', min_points_12m: 1, basis: 'points' }, 'basis'],
  ];
  for (const [body, field] of bad) assertError(await dm.req('POST', '/api/v1/tiers', { ...admin, body }), 422, 'validation_failed', field);
  for (const body of ['[]', '"x"', 'null']) assertError(await dm.req('POST', '/api/v1/tiers', { ...admin, body }), 422, 'validation_failed');
  for (const body of ['{', '{"name":"X",}']) {
    assertError(await dm.req('POST', '/api/v1/tiers', { ...admin, body }), 400, 'invalid_json');
    assertError(await dm.req('PATCH', `/api/v1/tiers/${gold.id}`, { ...admin, body }), 400, 'invalid_json');
  }
  assertError(await dm.req('POST', '/api/v1/tiers', { ...admin, body: { name: 'Silver', min_points_12m: 3 } }), 409, 'conflict', 'name');
  assert.equal((await dm.req('GET', '/api/v1/tiers', viewer)).json.data.length, 5, 'a refused tier was stored');
  // limits are fine
  await tier({ name: 'n'.repeat(50), min_spent_cents_12m: 100000000000, discount_pct: 0, perks: new Array(50).fill('p'.repeat(200)) });
  // PATCH: only what is sent changes; the basis follows the threshold sent
  let p = await dm.req('PATCH', `/api/v1/tiers/${silver.id}`, { ...admin, body: { discount_pct: 10 } });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual({ ...p.json, updated_at: silver.updated_at }, { ...silver, discount_pct: 10 });
  p = await dm.req('PATCH', `/api/v1/tiers/${silver.id}`, { ...admin, body: { min_points_12m: 800, name: 'Silver+', rank: 7, perks: [] } });
  assert.deepEqual([p.json.name, p.json.basis, p.json.min_points_12m, p.json.min_spent_cents_12m, p.json.rank, p.json.perks, p.json.discount_pct], ['Silver+', 'points', 800, null, 7, [], 10]);
  assert.deepEqual((await dm.req('GET', `/api/v1/tiers/${silver.id}`, viewer)).json, p.json);
  assert.deepEqual((await dm.req('PATCH', `/api/v1/tiers/${silver.id}`, { ...admin, body: {} })).json.name, 'Silver+');
  for (const [body, field] of [[{ min_points_12m: 1, min_spent_cents_12m: 1 }, 'min_spent_cents_12m'], [{ discount_pct: 101 }, 'discount_pct'],
    [{ name: '' }, 'name'], [{ min_points_12m: -5 }, 'min_points_12m'], [{ colour: 1 }, 'colour']]) {
    assertError(await dm.req('PATCH', `/api/v1/tiers/${silver.id}`, { ...admin, body }), 422, 'validation_failed', field);
  }
  assertError(await dm.req('PATCH', `/api/v1/tiers/${silver.id}`, { ...admin, body: { name: 'Gold' } }), 409, 'conflict', 'name');
  assert.equal((await dm.req('GET', `/api/v1/tiers/${silver.id}`, viewer)).json.name, 'Silver+');
  // DELETE: 204, then 404 everywhere
  assert.equal((await dm.req('DELETE', `/api/v1/tiers/${top.id}`, admin)).status, 204);
  assertError(await dm.req('GET', `/api/v1/tiers/${top.id}`, viewer), 404, 'not_found');
  assertError(await dm.req('PATCH', `/api/v1/tiers/${top.id}`, { ...admin, body: { discount_pct: 1 } }), 404, 'not_found');
  assertError(await dm.req('DELETE', `/api/v1/tiers/${top.id}`, admin), 404, 'not_found');
  for (const id of ['999999', '0', '-1', 'abc', '1.5']) {
    assertError(await dm.req('GET', `/api/v1/tiers/${id}`, viewer), 404, 'not_found');
    assertError(await dm.req('PATCH', `/api/v1/tiers/${id}`, { ...admin, body: { discount_pct: 1 } }), 404, 'not_found');
    assertError(await dm.req('DELETE', `/api/v1/tiers/${id}`, admin), 404, 'not_found');
  }
  // roles
  for (const [m, path, body] of [['POST', '/api/v1/tiers', { name: 'Op', min_points_12m: 1 }], ['PATCH', `/api/v1/tiers/${gold.id}`, { discount_pct: 1 }], ['DELETE', `/api/v1/tiers/${gold.id}`]]) {
    assertError(await dm.req(m, path, { body }), 401, 'unauthorized');
    assertError(await dm.req(m, path, { ...viewer, body }), 403, 'forbidden');
    assertError(await dm.req(m, path, { ...op, body }), 403, 'forbidden');
  }
  assertError(await dm.req('GET', '/api/v1/tiers'), 401, 'unauthorized');
  assert.deepEqual((await dm.req('GET', `/api/v1/tiers/${gold.id}`, op)).json, gold);
  const audit = (await auditAll(dm, { target_type: 'tier' })).reverse();
  assert.deepEqual(audit.map((x) => x.action), ['tier.create', 'tier.create', 'tier.create', 'tier.create', 'tier.create', 'tier.create',
    'tier.update', 'tier.update', 'tier.update', 'tier.delete']);
});

test('a customer holds the highest-ranked tier reached by points earned or money spent in 12 months, never by the balance', async (t) => {
  const { L, tier, tierOf, tierEvents } = await setup(t);
  // created out of rank order; ranks decide
  const plat = await tier({ name: 'Platinum', min_spent_cents_12m: 300000, rank: 30 });
  const legacy = await tier({ name: 'Legacy', min_spent_cents_12m: 1000, rank: 5 });
  const gold = await tier({ name: 'Gold', min_points_12m: 500, rank: 20 });
  const silver = await tier({ name: 'Silver', min_spent_cents_12m: 10000, rank: 10 });
  const c = await L.customer({ phone: newPhone() });
  assert.equal(await tierOf(c.id), null);
  await L.order({ buyer_phone: c.phone, amount_cents: 5000 }); // 5000 spent, 50 points
  let g = await L.get(c.id);
  assert.deepEqual([g.tier, g.tier_id, g.tier_override_until], ['Legacy', legacy.id, null]);
  await L.order({ buyer_phone: c.phone, amount_cents: 10000 }); // 15000, 150
  assert.equal(await tierOf(c.id), 'Silver');
  await L.grant(c.id, 400, 'promo'); // 550 earned
  assert.equal(await tierOf(c.id), 'Gold');
  // spending the balance does not lower points earned
  await L.grant(c.id, -550, 'mall');
  g = await L.get(c.id);
  assert.deepEqual([g.points_balance, g.tier, g.tier_id], [0, 'Gold', gold.id]);
  assert.equal((await L.points(c.id)).earned_12m, 550);
  // a big order: the top tier
  const big = await L.order({ buyer_phone: c.phone, amount_cents: 300000 });
  assert.deepEqual([(await L.get(c.id)).tier, (await L.get(c.id)).tier_id], ['Platinum', plat.id]);
  // refunded: back to what the rest reaches
  await L.setStatus(big, 'refunded');
  assert.equal(await tierOf(c.id), 'Gold');
  // a points balance far above every threshold, given by hand and spent... only earning counts, not holding
  const rich = await L.customer();
  await L.grant(rich.id, 499, 'gift');
  assert.equal(await tierOf(rich.id), null);
  await L.checkin(rich.id); // +5: 504 earned
  assert.equal(await tierOf(rich.id), 'Gold');
  assert.deepEqual(await tierEvents(c.id), [
    { from: null, to: 'Legacy', override: false }, { from: 'Legacy', to: 'Silver', override: false }, { from: 'Silver', to: 'Gold', override: false },
    { from: 'Gold', to: 'Platinum', override: false }, { from: 'Platinum', to: 'Gold', override: false },
  ]);
  const ev = (await L.timeline(c.id)).find((e) => e.kind === 'tier.changed');
  assert.deepEqual([ev.ref_type, ev.ref_id], ['tier', gold.id]);
  // a threshold change applies at the next daily pass
  const r = await L.dm.req('PATCH', `/api/v1/tiers/${gold.id}`, { ...L.adminAuth, body: { min_points_12m: 600 } });
  assert.equal(r.status, 200, r.text);
  const j = await L.daily();
  assert.deepEqual([j.customers_scanned, j.tiers_changed], [2, 2]);
  assert.equal(await tierOf(c.id), 'Silver');
  assert.equal(await tierOf(rich.id), null);
  assert.equal((await L.daily()).tiers_changed, 0);
  // no tier reached at all; deleting the one held drops it
  await L.dm.req('PATCH', `/api/v1/tiers/${silver.id}`, { ...L.adminAuth, body: { min_spent_cents_12m: 1000000 } });
  assert.equal((await L.daily()).tiers_changed, 1);
  assert.equal(await tierOf(c.id), 'Legacy');
  assert.equal((await L.dm.req('DELETE', `/api/v1/tiers/${legacy.id}`, L.adminAuth)).status, 204);
  g = await L.get(c.id);
  assert.deepEqual([g.tier, g.tier_id], [null, null]);
  assert.equal((await L.daily()).tiers_changed, 0);
});

test('a refund undoes the tier progress of its points, even when they were spent (shortfall)', async (t) => {
  const { L, tier, tierOf } = await setup(t);
  await tier({ name: 'Gold', min_points_12m: 100 });
  const c = await L.customer({ phone: newPhone() });
  const o = await L.order({ buyer_phone: c.phone, amount_cents: 12345 });
  assert.equal(await tierOf(c.id), 'Gold');
  await L.grant(c.id, -100, 'mall');
  assert.equal(await tierOf(c.id), 'Gold');
  await L.setStatus(o, 'refunded');
  const p = await L.points(c.id);
  assert.deepEqual([p.balance, p.earned_12m], [0, 0]);
  assert.equal(await tierOf(c.id), null);
  // the daily pass agrees
  assert.equal((await L.daily()).tiers_changed, 0);
  assert.equal(await tierOf(c.id), null);
  // paid again: earned again
  await L.setStatus(o, 'paid');
  assert.equal(await tierOf(c.id), 'Gold');
  assert.equal((await L.points(c.id)).earned_12m, 123);
});

test('tiers drop when orders and points leave the 12-month window (test clock + daily job)', async (t) => {
  const { L, tier, tierOf, tierEvents } = await setup(t);
  await L.rules({ expiry_months: 0 });
  await tier({ name: 'Silver', min_spent_cents_12m: 20000 });
  const gold = await tier({ name: 'Gold', min_points_12m: 150 });
  const now = nowS();
  const spender = await L.customer({ phone: newPhone() });
  await L.order({ buyer_phone: spender.phone, amount_cents: 20000, paid_at: isoSeconds(now - 300 * DAY) });
  await L.order({ buyer_phone: spender.phone, amount_cents: 5000, paid_at: isoSeconds(now - 30 * DAY) });
  await L.grant(spender.id, -250, 'mall'); // no points left; the 250 earned keep Gold
  assert.equal(await tierOf(spender.id), 'Gold');
  await L.dm.req('PATCH', `/api/v1/tiers/${gold.id}`, { ...L.adminAuth, body: { min_points_12m: 1000 } });
  assert.equal((await L.daily()).tiers_changed, 1);
  assert.equal(await tierOf(spender.id), 'Silver');
  const earner = await L.customer();
  await L.grant(earner.id, 1000, 'promo');
  assert.equal(await tierOf(earner.id), 'Gold');
  // 50 days on: nothing has left the window yet
  await L.clockAt(now + 50 * DAY);
  let j = await L.daily();
  assert.deepEqual([j.customers_scanned, j.tiers_changed], [2, 0]);
  // 70 days on: the 20000 order is more than 12 months old
  await L.clockAt(now + 70 * DAY);
  j = await L.daily();
  assert.deepEqual([j.customers_scanned, j.tiers_changed], [2, 1]);
  let g = await L.get(spender.id);
  assert.deepEqual([g.tier, g.tier_id], [null, null]);
  assert.equal(await tierOf(earner.id), 'Gold');
  // 13 months on: the points were earned more than 12 months ago (the balance is still there)
  await L.clockAt(now + 400 * DAY);
  j = await L.daily();
  assert.deepEqual([j.tiers_changed, j.lots_expired], [1, 0]);
  g = await L.get(earner.id);
  assert.deepEqual([g.tier, g.points_balance], [null, 1000]);
  assert.equal((await L.points(earner.id)).earned_12m, 0);
  // earning again brings it back at once
  await L.grant(earner.id, 1000, 'promo');
  assert.equal(await tierOf(earner.id), 'Gold');
  assert.deepEqual(await tierEvents(spender.id), [
    { from: null, to: 'Gold', override: false }, { from: 'Gold', to: 'Silver', override: false }, { from: 'Silver', to: null, override: false },
  ]);
  assert.deepEqual(await tierEvents(earner.id), [
    { from: null, to: 'Gold', override: false }, { from: 'Gold', to: null, override: false }, { from: null, to: 'Gold', override: false },
  ]);
});

test('PUT /customers/{id}/tier: an override wins until its end, ends by the daily job or the next change after it, and can be cleared; every field checked', async (t) => {
  const { dm, L, viewer, tier, tierOf, override, tierEvents } = await setup(t);
  const silver = await tier({ name: 'Silver', min_spent_cents_12m: 10000 });
  const gold = await tier({ name: 'Gold', min_spent_cents_12m: 50000 });
  const black = await tier({ name: 'Black', min_points_12m: 1000000 });
  const c = await L.customer({ phone: newPhone() });
  const small = await L.order({ buyer_phone: c.phone, amount_cents: 20000 });
  assert.equal(await tierOf(c.id), 'Silver');
  const base = nowS();
  const until = isoSeconds(base + 10 * DAY);
  const r = await override(c.id, { tier_id: black.id, until });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.id, r.json.tier, r.json.tier_id, r.json.tier_override_until], [c.id, 'Black', black.id, until]);
  assert.deepEqual(await L.get(c.id), r.json);
  // orders do not move it while it lasts
  await L.order({ buyer_phone: c.phone, amount_cents: 60000 });
  await L.setStatus(small, 'refunded');
  assert.equal(await tierOf(c.id), 'Black');
  assert.equal((await L.daily()).tiers_changed, 0);
  await L.clockAt(base + 10 * DAY - 120);
  assert.equal((await L.daily()).tiers_changed, 0);
  assert.equal(await tierOf(c.id), 'Black');
  // past its end: the daily job puts the tier the figures reach (60000 spent: Gold)
  await L.clockAt(base + 10 * DAY + 120);
  const j = await L.daily();
  assert.equal(j.tiers_changed, 1);
  let g = await L.get(c.id);
  assert.deepEqual([g.tier, g.tier_id, g.tier_override_until], ['Gold', gold.id, null]);
  assert.deepEqual(sqliteJson(dm.db, `SELECT tier_override_id, tier_override_until FROM customers WHERE id = ${c.id}`), [{ tier_override_id: null, tier_override_until: null }]);
  // a new override, cleared by tier_id null: back at once
  const r2 = await override(c.id, { tier_id: silver.id, until: isoSeconds(nowS() + 30 * DAY) });
  assert.equal(r2.json.tier, 'Silver');
  const r3 = await override(c.id, { tier_id: null });
  assert.equal(r3.status, 200, r3.text);
  assert.deepEqual([r3.json.tier, r3.json.tier_id, r3.json.tier_override_until], ['Gold', gold.id, null]);
  // an override that ended is also gone at the customer's next change, before any daily job
  const c2 = await L.customer();
  const t0 = nowS();
  await L.clockAt(t0);
  assert.equal((await override(c2.id, { tier_id: gold.id, until: isoSeconds(t0 + DAY) })).json.tier, 'Gold');
  await L.clockAt(t0 + 2 * DAY);
  await L.grant(c2.id, 5, 'gift');
  g = await L.get(c2.id);
  assert.deepEqual([g.tier, g.tier_override_until], [null, null]);
  assert.deepEqual(await tierEvents(c.id), [
    { from: null, to: 'Silver', override: false }, { from: 'Silver', to: 'Black', override: true }, { from: 'Black', to: 'Gold', override: false },
    { from: 'Gold', to: 'Silver', override: true }, { from: 'Silver', to: 'Gold', override: false },
  ]);
  // checks: 422 naming the field, 404 for customers that are not there, roles
  const now2 = nowS();
  await L.clockAt(now2);
  for (const [body, field] of [[{ tier_id: silver.id }, 'until'], [{ tier_id: silver.id, until: null }, 'until'],
    [{ tier_id: silver.id, until: isoSeconds(now2 - 60) }, 'until'], [{ tier_id: silver.id, until: 'tomorrow' }, 'until'],
    [{ tier_id: silver.id, until: '2030-02-30T00:00:00Z' }, 'until'], [{ tier_id: silver.id, until: 5 }, 'until'],
    [{ tier_id: 999999, until: isoSeconds(now2 + DAY) }, 'tier_id'], [{ tier_id: 'x', until: isoSeconds(now2 + DAY) }, 'tier_id'],
    [{ tier_id: 0, until: isoSeconds(now2 + DAY) }, 'tier_id'], [{ tier_id: -1, until: isoSeconds(now2 + DAY) }, 'tier_id'],
    [{ tier_id: 1.5, until: isoSeconds(now2 + DAY) }, 'tier_id'], [{}, 'tier_id'], [{ until: isoSeconds(now2 + DAY) }, 'tier_id'],
    [{ tier_id: null, extra: 1 }, 'extra']]) {
    assertError(await override(c.id, body), 422, 'validation_failed', field);
  }
  for (const body of ['[]', 'null']) assertError(await override(c.id, body), 422, 'validation_failed');
  assertError(await override(c.id, '{'), 400, 'invalid_json');
  assertError(await override(c.id, { tier_id: null }, {}), 401, 'unauthorized');
  assertError(await override(c.id, { tier_id: silver.id, until: isoSeconds(now2 + DAY) }, viewer), 403, 'forbidden');
  const gone = await L.customer();
  await L.erase(gone.id);
  const folded = await L.customer();
  await L.merge(c.id, folded.id);
  for (const id of [999999, gone.id, folded.id]) assertError(await override(id, { tier_id: silver.id, until: isoSeconds(now2 + DAY) }), 404, 'not_found');
  assert.deepEqual([(await L.get(c.id)).tier, (await L.get(c.id)).tier_override_until], ['Gold', null]);
});

test('deleting a tier held as an override ends the override', async (t) => {
  const { dm, L, tier, tierOf, override } = await setup(t);
  const silver = await tier({ name: 'Silver', min_spent_cents_12m: 100 });
  const vip = await tier({ name: 'VIP', min_spent_cents_12m: 100000000 });
  const c = await L.customer({ phone: newPhone() });
  await L.order({ buyer_phone: c.phone, amount_cents: 500 });
  const r = await override(c.id, { tier_id: vip.id, until: isoSeconds(nowS() + 90 * DAY) });
  assert.equal(r.json.tier, 'VIP');
  assert.equal((await dm.req('DELETE', `/api/v1/tiers/${vip.id}`, L.adminAuth)).status, 204);
  let g = await L.get(c.id);
  assert.equal(g.tier_override_until, null, 'an override of a deleted tier still has an end date');
  await L.daily();
  g = await L.get(c.id);
  assert.deepEqual([g.tier, g.tier_id, g.tier_override_until], ['Silver', silver.id, null]);
  assert.equal(await tierOf(c.id), 'Silver');
});
