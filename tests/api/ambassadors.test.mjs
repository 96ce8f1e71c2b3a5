// KOC ambassadors: enrolment with a referral code, commission on referred
// orders (bound or not, never on the ambassador's own), pending until the
// return window has passed and then settled by the daily pass, reversed on a
// refund within it and taken back by a negative entry after it; referred
// customers, orders and GMV kept exact; levels promoted by referred GMV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDaemon, assertError, listAll, unique } from './lib.mjs';

const DAY = 86400;
const nowS = () => Math.floor(Date.now() / 1000);
const sh = (y, m, d, hh = 12) => Date.UTC(y, m - 1, d, hh - 8) / 1000;
const iso = (s) => new Date(s * 1000).toISOString().replace('.000', '');

function ok(r, status = 200) {
  assert.equal(r.status, status, r.text);
  return r.json;
}

test('ambassadors: commission pending, settled, reversed; referred figures and levels', async (t) => {
  const d = await withDaemon(t, { config: '[growth]\ncommission_return_days = 7\nambassador_levels = 100,500\n', env: { SCRM_TEST_CLOCK: '1' } });
  const adm = { token: await d.adminToken() };
  const op = { token: await d.token('operator', 'amb-op') };
  const viewer = { token: await d.token('viewer', 'amb-viewer') }; // before the clock moves past the session
  const req = (m, p, body, who = op) => d.req(m, p, { ...who, body });
  const clock = async (sec) => ok(await req('PUT', '/api/v1/admin/clock', { offset_s: sec - nowS() }, adm));
  const T0 = sh(2031, 5, 1);
  // the enrolment a minute before the orders paid at T0 (which count only when
  // paid after it), however slowly the daemon runs (under TSan a second passed)
  await clock(T0 - 60);
  const koc = ok(await req('POST', '/api/v1/customers', { name: 'KOC 小美' }), 201);
  const buyer = ok(await req('POST', '/api/v1/customers', { name: '被推荐人', phone: '13700000001' }), 201);
  const amb = ok(await req('POST', '/api/v1/ambassadors', { customer_id: koc.id, commission_pct: 10 }), 201);
  assert.match(amb.referral_code, /^[A-HJ-NP-Z2-9]{8}$/);
  assert.deepEqual([amb.level, amb.referred_orders, amb.referred_gmv_cents, amb.referred_customers, amb.commission_pending_cents], [1, 0, 0, 0, 0]);
  assertError(await req('POST', '/api/v1/ambassadors', { customer_id: koc.id, commission_pct: 5 }), 409, 'conflict', 'customer_id');
  const other = ok(await req('POST', '/api/v1/customers', { name: 'x' }), 201);
  assertError(await req('POST', '/api/v1/ambassadors', { customer_id: other.id, commission_pct: 5, referral_code: amb.referral_code }), 409, 'conflict', 'referral_code');
  for (const [body, field] of [[{ commission_pct: 5 }, 'customer_id'], [{ customer_id: other.id }, 'commission_pct'], [{ customer_id: other.id, commission_pct: 101 }, 'commission_pct'],
    [{ customer_id: other.id, commission_pct: 5, level: 0 }, 'level'], [{ customer_id: other.id, commission_pct: 5, referral_code: 'a b' }, 'referral_code'], [{ customer_id: 99999999, commission_pct: 5 }, 'customer_id']]) {
    assertError(await req('POST', '/api/v1/ambassadors', body), 422, 'validation_failed', field);
  }
  const order = async (ext, cents, extra = {}) => ok(await req('POST', '/api/v1/orders', { platform: 'tmall', external_id: ext, amount_cents: cents, status: 'paid', paid_at: iso(T0), referral_code: amb.referral_code, ...extra }), 201);
  const setStatus = async (ext, cents, status) => ok(await req('POST', '/api/v1/orders', { platform: 'tmall', external_id: ext, amount_cents: cents, status, paid_at: iso(T0), referral_code: amb.referral_code }));
  const get = async () => ok(await req('GET', `/api/v1/ambassadors/${amb.id}`));
  const commissions = async () => (await listAll(d, `/api/v1/ambassadors/${amb.id}/commissions`, op)).items;

  await order('o1', 19900, { customer_id: buyer.id }); // referred, bound
  await order('o2', 5000, { buyer_phone: '13900000002' }); // referred, nobody bound yet
  await order('o3', 8000, { customer_id: koc.id }); // the ambassador's own: no commission
  let a = await get();
  assert.deepEqual([a.referred_orders, a.referred_gmv_cents, a.referred_customers, a.commission_pending_cents, a.commission_settled_cents], [2, 24900, 1, 1990 + 500, 0]);
  assert.equal(a.level, 2, '249 yuan referred: level 2');
  const c1 = await commissions();
  assert.deepEqual(c1.map((c) => [c.kind, c.amount_cents, c.order_cents, c.status]).sort(), [['earn', 1990, 19900, 'pending'], ['earn', 500, 5000, 'pending']].sort());
  assert.equal(c1[0].settle_at, iso(T0 + 7 * DAY));

  // a refund within the window reverses the earning; the figures drop back
  await setStatus('o2', 5000, 'refunded');
  a = await get();
  assert.deepEqual([a.referred_orders, a.referred_gmv_cents, a.commission_pending_cents], [1, 19900, 1990]);
  assert.equal((await commissions()).find((c) => c.order_cents === 5000).status, 'reversed');
  // a re-send of the same refund changes nothing
  await req('POST', '/api/v1/orders', { platform: 'tmall', external_id: 'o2', amount_cents: 5000, status: 'refunded', paid_at: iso(T0), referral_code: amb.referral_code });
  assert.equal((await get()).referred_orders, 1);

  // after the window the daily pass settles it; a refund then takes it back
  await clock(T0 + 8 * DAY);
  const job = ok(await req('POST', '/api/v1/admin/jobs/daily', {}, adm));
  assert.equal(job.commissions_settled, 1);
  a = await get();
  assert.deepEqual([a.commission_pending_cents, a.commission_settled_cents], [0, 1990]);
  await setStatus('o1', 19900, 'refunded');
  a = await get();
  assert.deepEqual([a.referred_orders, a.referred_gmv_cents, a.commission_settled_cents], [0, 0, 0]);
  const back = (await commissions()).find((c) => c.kind === 'reversal');
  assert.deepEqual([back.amount_cents, back.status], [-1990, 'settled']);

  // levels follow referred GMV up: 100 yuan → 2, 500 yuan → 3
  await order('o4', 60000, { customer_id: buyer.id, paid_at: iso(T0 + 8 * DAY) });
  a = await get();
  assert.equal(a.level, 3);
  assert.equal(a.referred_gmv_cents, 60000);
  const referred = (await listAll(d, `/api/v1/ambassadors/${amb.id}/customers`, op)).items;
  assert.deepEqual(referred.map((r) => [r.customer_id, r.orders, r.gmv_cents]), [[buyer.id, 1, 60000]]);
  // once an order earned under it, the code stays
  assertError(await req('PATCH', `/api/v1/ambassadors/${amb.id}`, { referral_code: 'NEWCODE1' }), 409, 'conflict', 'referral_code');
  const p = ok(await req('PATCH', `/api/v1/ambassadors/${amb.id}`, { commission_pct: 12, level: 4 }));
  assert.deepEqual([p.commission_pct, p.level], [12, 4]);
  assertError(await req('PATCH', `/api/v1/ambassadors/${amb.id}`, { customer_id: other.id }), 422, 'validation_failed', 'customer_id');
  assertError(await req('GET', '/api/v1/ambassadors/99999/commissions'), 404, 'not_found');
  assert.ok((await listAll(d, '/api/v1/ambassadors', op)).items.some((x) => x.id === amb.id));
  assertError(await d.req('POST', '/api/v1/ambassadors', { ...viewer, body: { customer_id: other.id, commission_pct: 1 } }), 403, 'forbidden');
  // an order paid before the enrolment earns nothing, even when it changes later
  const early = unique('E').replace(/[^A-Za-z0-9_-]/g, '');
  const third = ok(await req('POST', '/api/v1/customers', { name: '后来的大使' }), 201);
  ok(await req('POST', '/api/v1/orders', { platform: 'jd', external_id: 'pre1', amount_cents: 10000, status: 'paid', paid_at: iso(T0), referral_code: early }), 201);
  const amb3 = ok(await req('POST', '/api/v1/ambassadors', { customer_id: third.id, commission_pct: 10, referral_code: early }), 201);
  ok(await req('POST', '/api/v1/orders', { platform: 'jd', external_id: 'pre1', amount_cents: 10000, status: 'paid', paid_at: iso(T0), referral_code: early, items: [{ sku: 'x', quantity: 1, price_cents: 10000 }] }));
  assert.equal(ok(await req('GET', `/api/v1/ambassadors/${amb3.id}`)).referred_orders, 0);
  // the ambassador's profile merged into another: the ambassador goes with it
  const twin = ok(await req('POST', '/api/v1/customers', { name: '同一人' }), 201);
  ok(await req('POST', '/api/v1/customers/merge', { into: twin.id, from: third.id }));
  assert.equal(ok(await req('GET', `/api/v1/ambassadors/${amb3.id}`)).customer_id, twin.id);
  // two ambassadors are two ledgers: their profiles do not merge
  assertError(await req('POST', '/api/v1/customers/merge', { into: twin.id, from: koc.id }), 409, 'conflict', 'from');
  const codeOf = unique('c').replace(/[^A-Za-z0-9_-]/g, '');
  const amb2 = ok(await req('POST', '/api/v1/ambassadors', { customer_id: other.id, commission_pct: 5, referral_code: codeOf }), 201);
  assert.equal(ok(await req('PATCH', `/api/v1/ambassadors/${amb2.id}`, { referral_code: `${codeOf}x` })).referral_code, `${codeOf}x`, 'no earnings yet: the code may change');
});

test('an order found to be the ambassador\'s own after it earned (bound by hand, by a phone, by a merge) loses the earning', async (t) => {
  const d = await withDaemon(t, { config: '[growth]\ncommission_return_days = 7\n', env: { SCRM_TEST_CLOCK: '1' } });
  const adm = { token: await d.adminToken() };
  const op = { token: await d.token('operator', 'own-op') };
  const req = (m, p, body, who = op) => d.req(m, p, { ...who, body });
  const clock = async (sec) => ok(await req('PUT', '/api/v1/admin/clock', { offset_s: sec - nowS() }, adm));
  const T0 = sh(2031, 6, 1);
  await clock(T0 - 60);
  const koc = ok(await req('POST', '/api/v1/customers', { name: '大使本人' }), 201);
  const amb = ok(await req('POST', '/api/v1/ambassadors', { customer_id: koc.id, commission_pct: 10 }), 201);
  const order = async (ext, cents, extra = {}) => ok(await req('POST', '/api/v1/orders', { platform: 'tmall', external_id: ext, amount_cents: cents, status: 'paid', paid_at: iso(T0), referral_code: amb.referral_code, ...extra }), 201);
  const get = async () => ok(await req('GET', `/api/v1/ambassadors/${amb.id}`));
  const ledger = async () => (await listAll(d, `/api/v1/ambassadors/${amb.id}/commissions`, op)).items;
  const of = async (orderId) => (await ledger()).filter((c) => c.order_id === orderId).map((c) => [c.kind, c.amount_cents, c.status]).sort();
  const figures = async () => { const a = await get(); return [a.referred_orders, a.referred_gmv_cents, a.commission_pending_cents, a.commission_settled_cents]; };

  // unbound orders with the code earn, as a stranger's would
  const byHand = await order('own1', 10000, { buyer_phone: '13811110001' });
  const byPhone = await order('own2', 20000, { buyer_phone: '13811110002' });
  const stranger = await order('own3', 30000, { buyer_phone: '13811110003' });
  assert.deepEqual(await figures(), [3, 60000, 6000, 0]);

  // bound by hand to the ambassador while pending: reversed
  ok(await req('POST', '/api/v1/orders/bind', { customer_id: koc.id, platform: 'tmall', external_id: 'own1', phone: '13811110001' }));
  assert.deepEqual(await of(byHand.id), [['earn', 1000, 'reversed']]);
  assert.deepEqual(await figures(), [2, 50000, 5000, 0]);

  // settled, then bound through the phone the ambassador's profile gets: a reversal entry
  await clock(T0 + 8 * DAY);
  assert.equal(ok(await req('POST', '/api/v1/admin/jobs/daily', {}, adm)).commissions_settled, 2);
  ok(await req('PATCH', `/api/v1/customers/${koc.id}`, { phone: '13811110002' }));
  assert.equal(ok(await req('GET', `/api/v1/orders/${byPhone.id}`)).customer_id, koc.id);
  assert.deepEqual(await of(byPhone.id), [['earn', 2000, 'settled'], ['reversal', -2000, 'settled']]);
  assert.deepEqual(await figures(), [1, 30000, 0, 3000]);
  // a later refund of that order takes nothing back twice
  ok(await req('POST', '/api/v1/orders', { platform: 'tmall', external_id: 'own2', amount_cents: 20000, status: 'refunded', paid_at: iso(T0), referral_code: amb.referral_code }));
  assert.deepEqual(await of(byPhone.id), [['earn', 2000, 'settled'], ['reversal', -2000, 'settled']]);

  // the stranger's profile turns out to be the ambassador's: merged, the order is their own
  const alias = ok(await req('POST', '/api/v1/customers', { name: '小号', phone: '13811110003' }), 201);
  assert.equal(ok(await req('GET', `/api/v1/orders/${stranger.id}`)).customer_id, alias.id);
  assert.deepEqual(await of(stranger.id), [['earn', 3000, 'settled']], 'a referred customer\'s order keeps its earning');
  ok(await req('POST', '/api/v1/customers/merge', { into: alias.id, from: koc.id })); // the ambassador moves to the kept profile
  assert.equal((await get()).customer_id, alias.id);
  assert.deepEqual(await of(stranger.id), [['earn', 3000, 'settled'], ['reversal', -3000, 'settled']]);
  assert.deepEqual(await figures(), [0, 0, 0, 0]);
  // the ledger sums to what is owed: nothing
  assert.equal((await ledger()).filter((c) => c.status !== 'reversed').reduce((s, c) => s + c.amount_cents, 0), 0);

  // a referred customer merged into a profile that is no ambassador's keeps the earning
  const friend = ok(await req('POST', '/api/v1/customers', { name: '朋友', phone: '13811110004' }), 201);
  const fo = await order('own4', 40000, { buyer_phone: '13811110004', paid_at: iso(T0 + 8 * DAY) });
  assert.equal(fo.customer_id, friend.id);
  const twin = ok(await req('POST', '/api/v1/customers', { name: '朋友的另一个号' }), 201);
  ok(await req('POST', '/api/v1/customers/merge', { into: twin.id, from: friend.id }));
  assert.deepEqual(await of(fo.id), [['earn', 4000, 'pending']]);
});
