// A randomized run over the member-club ledgers: ~400 operations across 8
// customers (orders bound by phone, by customer_id and through the binding
// flow, refunded, cancelled and paid again, re-sent; manual grants and
// deductions; check-ins; wallet moves; reviews; clock jumps with daily jobs;
// merges), many of them concurrently, then the books are checked customer by
// customer and order by order against the database. The seed is printed;
// SCRM_TEST_SEED=<n> replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, prng, sqlite, sqliteJson, unique } from './lib.mjs';
import { CLOCK_ENV, DAY, nowS, shDay, shDom, secOf, phones, club } from './loyalty_lib.mjs';

const SEED = Number(process.env.SCRM_TEST_SEED || 20261122);
const OPS = 400;
const SCHEDULE = [1, 2, 3, 10];
const BIND_BONUS = 7, REVIEW_BONUS = 11, MULT = 3;

const d = await fileDaemon(CLOCK_ENV);
const admin = { token: await d.adminToken() };
const op = { token: await d.token('operator', 'random-operator') };
const L = club(d, op, admin);

test(`randomized ledger run (seed ${SEED}): balances equal their ledgers, lots never negative, orders earn exactly once or not at all`, async (t) => {
  t.diagnostic(`seed ${SEED} (replay with SCRM_TEST_SEED=${SEED})`);
  const rnd = prng(SEED);
  const int = (n) => Math.floor(rnd() * n); // 0..n-1
  const pick = (arr) => arr[int(arr.length)];
  const newPhone = phones('1383');
  const where = (what) => `seed ${SEED}: ${what}`;

  const memberDay = shDom(shDay(nowS()) + 1);
  await L.rules({ points_per_yuan: 1, bind_bonus: BIND_BONUS, review_bonus: REVIEW_BONUS, checkin_schedule: SCHEDULE, expiry_months: 1, member_day: memberDay, member_day_multiplier: MULT });

  // the model: only what the outcome of each request says for sure
  const customers = new Map(); // id -> {id, phone, wallet, points (last seen), mergedInto, absorbed}
  for (let i = 0; i < 8; i++) {
    const c = await L.customer({ phone: newPhone() });
    customers.set(c.id, { id: c.id, phone: c.phone, wallet: 0, points: 0, mergedInto: null, absorbed: false });
  }
  const orders = []; // {platform, external_id, buyer_phone, customerId, status}
  const reviewed = new Set();
  let offset = 0;
  const stats = {};
  const alive = () => [...customers.values()].filter((c) => !c.mergedInto);
  const ghosts = () => [...customers.values()].filter((c) => c.mergedInto);

  async function call(name, method, p, body, allowed) {
    const r = await d.req(method, p, { ...(p.includes('/admin/') || p.includes('/settings/') ? admin : op), body });
    assert.ok(r.status < 500, where(`${name}: ${method} ${p} -> ${r.status} ${r.text}`));
    assert.ok(allowed.includes(r.status), where(`${name}: ${method} ${p} ${JSON.stringify(body)} -> ${r.status} ${r.text}`));
    stats[`${name} ${r.status}`] = (stats[`${name} ${r.status}`] || 0) + 1;
    return r;
  }

  // One random operation; `busy` holds the orders and customers a concurrent
  // sibling already uses (a merge or an order runs alone on them).
  function plan(busy) {
    const live = alive().filter((c) => !busy.has(`c${c.id}`));
    if (live.length === 0) return null;
    const c = pick(live);
    const free = orders.filter((o) => !busy.has(o.external_id));
    const x = rnd();
    if (x < 0.12) {
      return async () => {
        const r = await call('order.phone', 'POST', '/api/v1/orders', { platform: 'tmall', external_id: unique('R'), buyer_phone: c.phone, amount_cents: int(60000), paid_at: '2026-06-01T00:00:00Z' }, [201]);
        orders.push({ ...r.json, customerId: r.json.customer_id });
      };
    }
    if (x < 0.18) {
      return async () => {
        const r = await call('order.customer_id', 'POST', '/api/v1/orders', { platform: 'jd', external_id: unique('R'), customer_id: c.id, amount_cents: int(30000), paid_at: '2026-06-02T00:00:00Z', status: rnd() < 0.2 ? 'cancelled' : 'paid' }, [201]);
        orders.push({ ...r.json, customerId: r.json.customer_id });
      };
    }
    if (x < 0.24) {
      return async () => {
        const r = await call('order.waiting', 'POST', '/api/v1/orders', { platform: 'douyin', external_id: unique('R'), buyer_phone: newPhone(), amount_cents: int(40000), paid_at: '2026-06-03T00:00:00Z' }, [201]);
        assert.equal(r.json.customer_id, null, where('a waiting order was bound'));
        orders.push({ ...r.json, customerId: null });
      };
    }
    const unbound = free.filter((o) => o.customerId === null);
    if (x < 0.30 && unbound.length) {
      const o = pick(unbound);
      busy.add(o.external_id);
      return async () => {
        const r = await call('bind', 'POST', '/api/v1/orders/bind', { customer_id: c.id, platform: o.platform, external_id: o.external_id, phone: o.buyer_phone }, [200]);
        assert.deepEqual([r.json.customer_id, r.json.bound_by], [c.id, 'bind']);
        o.customerId = c.id;
      };
    }
    if (x < 0.42 && free.length) {
      const o = pick(free);
      busy.add(o.external_id);
      // mostly a refund or cancellation of a paid order, or paying again
      const status = o.status === 'paid' ? pick(['refunded', 'cancelled', 'paid']) : pick(['paid', 'paid', 'refunded', 'cancelled']);
      return async () => {
        const r = await call('order.status', 'POST', '/api/v1/orders', { platform: o.platform, external_id: o.external_id, status }, [200]);
        assert.equal(r.json.status, status);
        o.status = status;
      };
    }
    if (x < 0.46 && free.length) {
      const o = pick(free);
      busy.add(o.external_id);
      return async () => {
        await call('order.resend', 'POST', '/api/v1/orders', { platform: o.platform, external_id: o.external_id, amount_cents: o.amount_cents, buyer_phone: o.buyer_phone }, [200]);
      };
    }
    if (x < 0.54) {
      return async () => {
        const r = await call('points.grant', 'POST', `/api/v1/customers/${c.id}/points`, { delta: 1 + int(200), reason: 'promo' }, [201]);
        c.points = r.json.balance;
      };
    }
    if (x < 0.64) {
      return async () => {
        const r = await call('points.deduct', 'POST', `/api/v1/customers/${c.id}/points`, { delta: -(1 + int(c.points + 30)), reason: 'mall' }, [201, 422]);
        if (r.status === 201) c.points = r.json.balance;
        else assert.equal(r.json.error.code, 'insufficient_points');
      };
    }
    if (x < 0.72) {
      return async () => {
        const r = await call('checkin', 'POST', `/api/v1/customers/${c.id}/checkin`, undefined, [200, 409]);
        if (r.status === 200) {
          assert.ok(r.json.streak >= 1 && r.json.streak <= SCHEDULE.length);
          assert.equal(r.json.points_awarded, SCHEDULE[r.json.streak - 1]);
        }
      };
    }
    if (x < 0.82 && !busy.has(`w${c.id}`)) {
      busy.add(`w${c.id}`); // the wallet model follows one move of a customer at a time
      const [reason, sign] = pick([['topup', 1], ['topup', 1], ['spend', -1], ['spend', -1], ['refund', 1], ['adjust', -1], ['adjust', 1]]);
      const delta = sign * (1 + int(sign > 0 ? 5000 : c.wallet + 1000));
      return async () => {
        const r = await call('wallet', 'POST', `/api/v1/customers/${c.id}/wallet`, { delta_cents: delta, reason }, [201, 422]);
        if (r.status === 201) {
          c.wallet += delta;
          assert.equal(r.json.balance_cents, c.wallet, where(`wallet model of ${c.id}`));
        } else {
          assert.equal(r.json.error.code, 'insufficient_balance');
          assert.ok(c.wallet + delta < 0);
        }
      };
    }
    const mine = free.filter((o) => o.customerId === c.id);
    if (x < 0.86 && mine.length) {
      const o = pick(mine);
      busy.add(o.external_id);
      return async () => {
        const r = await call('review', 'POST', `/api/v1/customers/${c.id}/content`, { kind: 'review', order_id: o.id }, [201]);
        // the first review of the order while it is paid earns the bonus
        const earns = !reviewed.has(o.id) && o.status === 'paid';
        assert.equal(r.json.points_awarded, earns ? REVIEW_BONUS : 0, where(`review of order ${o.id} (${o.status})`));
        if (earns) reviewed.add(o.id);
      };
    }
    if (x < 0.91 && !busy.has('clock')) {
      busy.add('clock'); // one clock move per batch, so the last one sent is the last one made
      const step = pick([3600, 6 * 3600, 20 * 3600, DAY, DAY, 3 * DAY, 9 * DAY, 17 * DAY]);
      return async () => {
        offset += step;
        await call('clock', 'PUT', '/api/v1/admin/clock', { offset_s: offset }, [200]);
      };
    }
    if (x < 0.95) return async () => { await call('daily', 'POST', '/api/v1/admin/jobs/daily', undefined, [200]); };
    if (x < 0.97 && ghosts().length) {
      const g = pick(ghosts());
      return async () => {
        await call('ghost', 'POST', `/api/v1/customers/${g.id}/points`, { delta: 5, reason: 'x' }, [404]);
        await call('ghost', 'POST', `/api/v1/customers/${g.id}/checkin`, undefined, [404]);
      };
    }
    return async () => { await call('points.read', 'GET', `/api/v1/customers/${c.id}/points?limit=5`, undefined, [200]); };
  }

  // A merge of two live customers, run alone.
  function planMerge() {
    const live = alive();
    const c = pick(live);
    const other = pick(live.filter((y) => y.id !== c.id));
    return async () => {
      const r = await call('merge', 'POST', '/api/v1/customers/merge', { into: c.id, from: other.id }, [200]);
      other.mergedInto = c.id;
      c.absorbed = true;
      c.wallet += other.wallet;
      c.points = r.json.points_balance;
      assert.equal(r.json.wallet_balance_cents, c.wallet, where('wallet after a merge'));
      for (const o of orders) if (o.customerId === other.id) o.customerId = c.id;
    };
  }

  let done = 0;
  const mergeAt = [OPS / 4, OPS / 2, (3 * OPS) / 4];
  const jumpAt = [0.4 * OPS, 0.8 * OPS]; // over a month on, so that lots expire mid-run
  while (done < OPS) {
    if (done >= mergeAt[0]) {
      mergeAt.shift();
      await planMerge()();
      done++;
      continue;
    }
    if (done >= jumpAt[0]) {
      jumpAt.shift();
      offset += 35 * DAY;
      await call('clock', 'PUT', '/api/v1/admin/clock', { offset_s: offset }, [200]);
      await call('daily', 'POST', '/api/v1/admin/jobs/daily', undefined, [200]);
      done += 2;
      continue;
    }
    const size = 1 + int(6);
    const busy = new Set();
    const batch = [];
    for (let i = 0; i < size && done + batch.length < OPS; i++) {
      const f = plan(busy);
      if (!f) break;
      batch.push(f);
    }
    await Promise.all(batch.map((f) => f()));
    done += batch.length;
  }
  t.diagnostic(`operations: ${JSON.stringify(stats)}`);
  for (const k of ['order.status 200', 'bind 200', 'points.deduct 201', 'points.deduct 422', 'checkin 200', 'wallet 201', 'wallet 422', 'daily 200', 'merge 200']) {
    assert.ok(stats[k] > 0, where(`the run never did ${k}: ${JSON.stringify(stats)}`));
  }
  await call('daily', 'POST', '/api/v1/admin/jobs/daily', undefined, [200]);

  // ---- the books --------------------------------------------------------------------
  for (const c of customers.values()) {
    if (c.mergedInto) {
      await call('merged', 'GET', `/api/v1/customers/${c.id}/points`, undefined, [404]);
      assert.deepEqual(sqliteJson(d.db, `SELECT count(*) AS n FROM points_ledger WHERE customer_id = ${c.id}`), [{ n: 0 }], where(`ledger rows left on merged ${c.id}`));
      continue;
    }
    const g = await L.get(c.id);
    const [p] = sqliteJson(d.db, `SELECT coalesce(sum(delta), 0) AS s, coalesce(sum(remaining), 0) AS r, coalesce(min(remaining), 0) AS m,
      coalesce(sum(remaining > delta AND delta > 0), 0) AS over, coalesce(sum(delta <= 0 AND remaining != 0), 0) AS neg FROM points_ledger WHERE customer_id = ${c.id}`);
    const [w] = sqliteJson(d.db, `SELECT coalesce(sum(delta_cents), 0) AS s FROM wallet_ledger WHERE customer_id = ${c.id}`);
    assert.equal(g.points_balance, p.s, where(`points_balance of ${c.id} vs sum(delta)`));
    assert.equal(g.points_balance, p.r, where(`points_balance of ${c.id} vs sum(remaining)`));
    assert.ok(p.m >= 0 && p.over === 0 && p.neg === 0, where(`lots of ${c.id}: ${JSON.stringify(p)}`));
    assert.equal(g.wallet_balance_cents, w.s, where(`wallet of ${c.id} vs its ledger`));
    assert.equal(g.wallet_balance_cents, c.wallet, where(`wallet of ${c.id} vs the accepted moves`));
    assert.ok(g.wallet_balance_cents >= 0);
    const ledger = await L.ledger(c.id);
    assert.equal(ledger.reduce((s, e) => s + e.delta, 0), g.points_balance, where(`API ledger of ${c.id}`));
    assert.equal((await L.points(c.id, 'limit=1')).balance, g.points_balance);
    // check-in streaks (a merge mixes two people's days, so only unmerged profiles)
    if (!c.absorbed) {
      const rows = sqliteJson(d.db, `SELECT day, streak, points FROM checkins WHERE customer_id = ${c.id} ORDER BY day`);
      rows.forEach((row, i) => {
        const want = i > 0 && rows[i - 1].day === row.day - 1 ? (rows[i - 1].streak % SCHEDULE.length) + 1 : 1;
        assert.deepEqual([row.streak, row.points], [want, SCHEDULE[want - 1]], where(`check-in of ${c.id} on day ${row.day}`));
      });
    }
  }
  // expired lots: every expire row empties a lot that was past its date
  const badExpire = sqliteJson(d.db, `SELECT e.id FROM points_ledger e JOIN points_ledger l ON l.id = e.ref_id
    WHERE e.reason = 'expire' AND (e.ref_type != 'points_lot' OR l.remaining != 0 OR l.expires_at > e.created_at OR e.customer_id != l.customer_id OR e.delta >= 0)`);
  assert.deepEqual(badExpire, [], where('expire rows'));
  const expired = Number(sqlite(d.db, "SELECT count(*) FROM points_ledger WHERE reason = 'expire';"));
  assert.ok(expired > 0, where('no lot ever expired'));
  // every order: its net is its whole earning when bound and paid, else 0; earned once per payment
  const rows = sqliteJson(d.db, `SELECT o.id, o.customer_id, o.status, o.amount_cents, o.bound_by,
      coalesce((SELECT sum(delta - shortfall) FROM points_ledger p WHERE p.ref_type = 'order' AND p.ref_id = o.id AND p.reason IN ('order', 'bind_bonus', 'refund')), 0) AS net,
      (SELECT count(*) FROM points_ledger p WHERE p.ref_type = 'order' AND p.ref_id = o.id AND p.reason = 'order') AS grants,
      (SELECT count(*) FROM points_ledger p WHERE p.ref_type = 'order' AND p.ref_id = o.id AND p.reason = 'bind_bonus') AS bonuses,
      (SELECT count(*) FROM points_ledger p WHERE p.ref_type = 'order' AND p.ref_id = o.id AND p.reason = 'refund') AS refunds,
      (SELECT delta FROM points_ledger p WHERE p.ref_type = 'order' AND p.ref_id = o.id AND p.reason = 'order' ORDER BY id DESC LIMIT 1) AS last_delta,
      (SELECT created_at FROM points_ledger p WHERE p.ref_type = 'order' AND p.ref_id = o.id AND p.reason = 'order' ORDER BY id DESC LIMIT 1) AS last_at
    FROM orders o`);
  assert.equal(rows.length, orders.length);
  let earning = 0, refunded = 0, repaid = 0, memberDays = 0;
  for (const o of rows) {
    const base = Math.floor(o.amount_cents / 100);
    const bonus = o.bound_by === 'bind' ? BIND_BONUS : 0;
    const earns = o.customer_id !== null && o.status === 'paid';
    let full = bonus;
    if (base > 0 && o.grants > 0) {
      const mult = shDom(shDay(o.last_at)) === memberDay ? MULT : 1;
      if (mult > 1) memberDays++;
      assert.equal(o.last_delta, base * mult, where(`order ${o.id}: the points of its last payment`));
      full += base * mult;
    }
    assert.equal(o.net, earns ? full : 0, where(`order ${o.id} (${o.status}, customer ${o.customer_id}, ${o.amount_cents} cents, ${o.bound_by}): net ${o.net}`));
    const payments = base > 0 ? o.grants : o.bonuses;
    if (base > 0 && bonus) assert.equal(o.bonuses, o.grants, where(`order ${o.id}: a bonus with each payment`));
    if (base > 0 || bonus) {
      assert.equal(payments - o.refunds, earns ? 1 : 0, where(`order ${o.id}: ${payments} payments, ${o.refunds} refunds`));
      if (earns) earning++;
      if (o.refunds > 0) refunded++;
      if (o.refunds > 0 && payments > 1) repaid++;
    } else {
      assert.equal(o.refunds + o.grants + o.bonuses, 0, where(`order ${o.id} earned nothing yet has rows`));
    }
  }
  t.diagnostic(`orders: ${rows.length}, earning ${earning}, refunded ${refunded}, paid again ${repaid}, earned on member day ${memberDays}; lots expired: ${expired}`);
  assert.ok(earning > 0 && refunded > 0 && repaid > 0, where('the run covered earning, refunds and paying again'));
  // points of erased or merged-away customers never linger; the database is sound
  assert.deepEqual(sqliteJson(d.db, 'SELECT c.id FROM customers c WHERE c.points_balance != (SELECT coalesce(sum(delta), 0) FROM points_ledger p WHERE p.customer_id = c.id) OR c.wallet_balance_cents != (SELECT coalesce(sum(delta_cents), 0) FROM wallet_ledger w WHERE w.customer_id = c.id)'), []);
  assert.equal(sqlite(d.db, 'PRAGMA integrity_check;'), 'ok');
  assert.equal(sqlite(d.db, 'PRAGMA foreign_key_check;'), '');
  assert.ok(secOf((await L.customer()).created_at) >= nowS() + offset - 60);
});
