// The analytics figures are kept by every write: after a long random run of
// writes of every kind (orders paid, refunded and paid again, bound later,
// customers merged, erased, moved to another operator or channel, check-ins,
// group activity, groups deleted, referred orders, points), the daily tables
// equal what a rebuild from the records alone gives, row for row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDaemon, sqliteJson, sqlite } from './lib.mjs';

const DAY = 86400;
const nowS = () => Math.floor(Date.now() / 1000);
const iso = (s) => new Date(s * 1000).toISOString().replace('.000', '');

function rng(seed) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

const TABLES = {
  analytics_orders: 'order_id',
  analytics_customers: 'customer_id',
  analytics_customer_days: 'day, channel_id, owner_id',
  analytics_order_days: 'day, channel_id, owner_id',
  analytics_gaps: 'scope, day, prev_day',
  analytics_cohorts: 'join_month, channel_id, month',
  analytics_points_days: 'day',
};
// rows whose every figure is zero are what subtracting leaves behind: the same as no row
const FIGURES = {
  analytics_customer_days: 'customers != 0 OR buyers != 0 OR converted_1d != 0 OR retained_30d != 0 OR gmv_cents != 0',
  analytics_order_days: 'orders != 0 OR gmv_cents != 0 OR bound_orders != 0 OR referred_orders != 0 OR referred_gmv_cents != 0 OR month_repeats != 0 OR quarter_repeats != 0',
  analytics_gaps: 'orders != 0 OR gmv_cents != 0',
  analytics_cohorts: 'buyers != 0 OR second_orders != 0 OR orders != 0 OR gmv_cents != 0',
  analytics_points_days: 'issued != 0 OR used != 0',
};

function snapshot(db) {
  const out = {};
  for (const [t, key] of Object.entries(TABLES)) {
    const where = FIGURES[t] ? ` WHERE ${FIGURES[t]}` : '';
    out[t] = sqliteJson(db, `SELECT * FROM ${t}${where} ORDER BY ${key}`);
  }
  return out;
}

test('analytics: the figures kept by every write equal a rebuild from the records', async (t) => {
  const d = await withDaemon(t, { env: { SCRM_TEST_CLOCK: '1' } });
  const adm = { token: await d.adminToken() };
  const req = async (m, p, body) => d.req(m, p, { ...adm, body });
  const ok = async (m, p, body) => {
    const r = await req(m, p, body);
    assert.ok(r.status < 300, `${m} ${p} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
    return r.json;
  };
  let now = Date.UTC(2031, 2, 1, 2) / 1000;
  const clock = async (s) => { now = s; await ok('PUT', '/api/v1/admin/clock', { offset_s: s - nowS() }); };
  await clock(now);
  const rand = rng(20311122);
  const pick = (a) => a[Math.floor(rand() * a.length)];

  const users = [];
  for (const u of ['op1', 'op2']) users.push((await ok('POST', '/api/v1/users', { username: `an-${u}`, password: 'password-for-tests-1', role: 'operator' })).id);
  const channels = [];
  for (const k of ['package_card', 'sms']) channels.push((await ok('POST', '/api/v1/channels', { name: k, kind: k, units: 500, cost_cents: 10000 })).id);
  const groups = [];
  for (const k of ['basic', 'koc', 'high_value']) groups.push((await ok('POST', '/api/v1/groups', { name: `g-${k}`, kind: k })).id);

  const live = []; // customer ids that still exist
  const phones = new Map(); // id -> phone
  let nPhone = 0;
  const newCustomer = async () => {
    const phone = `1390000${String(++nPhone).padStart(4, '0')}`;
    const body = { name: `c${nPhone}`, phone };
    if (rand() < 0.7) body.source_channel_id = pick(channels);
    if (rand() < 0.7) body.owner_user_id = pick(users);
    const c = await ok('POST', '/api/v1/customers', body);
    live.push(c.id);
    phones.set(c.id, phone);
    return c.id;
  };
  for (let i = 0; i < 12; i++) await newCustomer();
  const ambassadors = [];
  for (let i = 0; i < 2; i++) {
    const a = await ok('POST', '/api/v1/ambassadors', { customer_id: live[i], commission_pct: 10 });
    ambassadors.push({ id: a.id, customer: live[i], code: a.referral_code });
  }
  const orders = []; // {body, bound}
  let nOrder = 0;
  const ambCustomers = () => new Set(ambassadors.map((a) => a.customer));

  for (let step = 0; step < 320; step++) {
    if (rand() < 0.3) await clock(now + Math.floor(rand() * 3 * DAY));
    const r = rand();
    if (r < 0.12) {
      await newCustomer();
    } else if (r < 0.45) {
      const ext = `o${++nOrder}`;
      const body = { platform: pick(['tmall', 'jd']), external_id: ext, amount_cents: 100 + Math.floor(rand() * 50000), status: 'paid', paid_at: iso(now - Math.floor(rand() * 120 * DAY)) };
      const u = rand();
      if (u < 0.6 && live.length) body.customer_id = pick(live);
      else if (u < 0.8) body.buyer_phone = `1370000${String(nOrder).padStart(4, '0')}`; // nobody's, for now
      if (rand() < 0.3) body.referral_code = pick(ambassadors).code;
      await ok('POST', '/api/v1/orders', body);
      orders.push({ body, bound: false });
    } else if (r < 0.55 && orders.length) {
      const o = pick(orders).body;
      o.status = o.status === 'paid' ? pick(['refunded', 'cancelled']) : 'paid';
      const { customer_id: _c, ...change } = o; // the order may belong to a merged profile now
      await ok('POST', '/api/v1/orders', change);
    } else if (r < 0.62 && orders.length) {
      // bind an order that waits for its buyer
      const o = orders.find((x) => !x.body.customer_id && x.body.buyer_phone && !x.bound);
      if (o && live.length) {
        const cid = pick(live);
        const { platform, external_id: ext, buyer_phone: phone } = o.body;
        const res = await req('POST', '/api/v1/orders/bind', { customer_id: cid, platform, external_id: ext, phone });
        if (res.status === 200) o.bound = true;
      }
    } else if (r < 0.68 && live.length) {
      const id = pick(live);
      const patch = rand() < 0.5 ? { owner_user_id: rand() < 0.2 ? null : pick(users) } : { source_channel_id: rand() < 0.2 ? null : pick(channels) };
      await ok('PATCH', `/api/v1/customers/${id}`, patch);
    } else if (r < 0.72 && live.length > 4) {
      const amb = ambCustomers();
      const cands = live.filter((x) => !amb.has(x));
      if (cands.length >= 2) {
        const into = pick(cands);
        const from = pick(cands.filter((x) => x !== into));
        await ok('POST', '/api/v1/customers/merge', { into, from });
        live.splice(live.indexOf(from), 1);
      }
    } else if (r < 0.74 && live.length > 4) {
      const amb = ambCustomers();
      const id = pick(live.filter((x) => !amb.has(x)));
      await ok('DELETE', `/api/v1/customers/${id}`);
      live.splice(live.indexOf(id), 1); // erased: kept, but no longer worked on
    } else if (r < 0.82 && live.length) {
      await req('POST', `/api/v1/customers/${pick(live)}/checkin`); // 409 when done today
    } else if (r < 0.92 && live.length) {
      const g = pick(groups);
      const who = [pick(live), pick(live)];
      await req('POST', `/api/v1/groups/${g}/members`, { customer_ids: who });
      await req('POST', `/api/v1/groups/${g}/activity`, { items: who.map((c) => ({ customer_id: c, at: iso(now - Math.floor(rand() * 40 * DAY)), kind: pick(['spoke', 'took_part']) })) });
    } else if (r < 0.96 && live.length) {
      await req('POST', `/api/v1/customers/${pick(live)}/points`, { delta: rand() < 0.7 ? 50 : -10, reason: 'adjust', note: 'test' });
    } else if (r < 0.97 && groups.length > 1) {
      const g = groups.splice(Math.floor(rand() * groups.length), 1)[0];
      await ok('DELETE', `/api/v1/groups/${g}`);
    }
  }
  // the daily pass settles commissions and expires what is due
  await clock(now + 40 * DAY);
  await ok('POST', '/api/v1/admin/jobs/daily');

  assert.deepEqual(sqliteJson(d.db, 'SELECT count(*) AS n FROM analytics_dirty'), [{ n: 0 }], 'every change was taken in');
  const kept = snapshot(d.db);
  assert.ok(kept.analytics_orders.length > 50, 'the run made orders');
  assert.ok(kept.analytics_gaps.some((g) => g.scope > 0), 'and referred ones');

  // Restart with the figures' stamp gone: the daemon works them out anew.
  await d.stop();
  sqlite(d.db, "DELETE FROM settings WHERE key = 'analytics.stamp'");
  await d.start({ env: { SCRM_TEST_CLOCK: '1' } });
  assert.match(d.stderr, /analytics: working the figures out/);
  const rebuilt = snapshot(d.db);
  for (const name of Object.keys(TABLES)) assert.deepEqual(kept[name], rebuilt[name], `${name} kept by the writes equals the rebuild`);
});
