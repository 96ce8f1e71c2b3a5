// scrmd demo-data: synthetic customers, orders, tags, timeline, community
// groups and KOC ambassadors for a sock brand. The same seed and end date give
// the same data; the figures kept on each customer agree with a recount of its
// orders; the tag counts with the tag rows; every commission with its order and
// the ambassadors' figures with the ledger; a second run refuses; bad arguments
// are usage errors; and the daemon starts on the result, lets the admin in and
// lists the groups and ambassadors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT, ADMIN_PASSWORD, Daemon, cli, sqlite, assertNoSanitizerReport } from './lib.mjs';

const N = 3000;
const END = '2025-06-30';
const END_TS = Date.UTC(2025, 5, 30) / 1000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scrmd-demo-'));

// Run demo-data without blocking, so that the runs below share the two cores.
function demo(db, args) {
  return new Promise((resolve) => {
    const p = spawn(BIN, ['demo-data', '--db', db, ...args], {
      cwd: ROOT,
      env: { ...process.env, SCRM_CONFIG: '', SCRM_LISTEN: '', SCRM_DB: '', SCRM_ADMIN_PASSWORD: ADMIN_PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// SHA-256 of a canonical dump: every column of the generated tables in key order.
// Users only by their generated columns (password hashes are salted; the admin is
// created at the real time).
function dumpHash(db) {
  const sql = [
    'SELECT * FROM channels ORDER BY id',
    'SELECT * FROM customers ORDER BY id',
    'SELECT * FROM orders ORDER BY id',
    'SELECT * FROM tags ORDER BY id',
    'SELECT * FROM customer_tags ORDER BY customer_id, tag_id',
    'SELECT * FROM customer_events ORDER BY id',
    'SELECT * FROM groups ORDER BY id',
    'SELECT * FROM group_members ORDER BY group_id, customer_id',
    'SELECT * FROM group_activity ORDER BY id',
    'SELECT * FROM ambassadors ORDER BY id',
    'SELECT * FROM commissions ORDER BY id',
    "SELECT id, username, display_name, role, created_at, updated_at FROM users WHERE role = 'operator' ORDER BY id",
  ].join(';\n');
  const r = spawnSync('sqlite3', ['-batch', '-bail', '-cmd', '.timeout 10000', db, sql], { maxBuffer: 1 << 30, timeout: 60000 });
  assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
  assert.ok(r.stdout.length > 1000);
  return crypto.createHash('sha256').update(r.stdout).digest('hex');
}

const num = (db, sql) => Number(sqlite(db, sql));
// Tables, indexes and triggers as text, to compare with a freshly migrated database.
const schema = (db) => sqlite(db, "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");

// Three loads at once before the tests: two with the same seed, one with another.
// The first is the daemon's database.
const d = new Daemon();
after(() => d.cleanup());
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const dbRef = path.join(tmp, 'ref', 'scrm.db');
assert.equal(cli(['migrate', '--db', dbRef]).code, 0);
const dbB = path.join(tmp, 'b', 'scrm.db');
const dbC = path.join(tmp, 'c', 'scrm.db');
const [runA, runB, runC] = await Promise.all([
  demo(d.db, ['--customers', String(N), '--seed', '7', '--end', END]),
  demo(dbB, ['--customers', String(N), '--seed', '7', '--end', END]),
  demo(dbC, ['--customers', String(N), '--seed', '8', '--end', END]),
]);

test('demo-data loads, reports a summary and shows no secret', () => {
  for (const r of [runA, runB, runC]) {
    assertNoSanitizerReport(r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${N} customers, \\d+ orders \\(\\d+\\.\\d% bound`));
    assert.match(r.stderr, /demo-data: +50% /, 'progress on stderr');
    assert.match(r.stderr, /demo-data: 3 groups with \d+ members and \d+ activity rows, \d+ ambassadors with \d+ referred orders/);
    assert.ok(!/password/i.test(r.stdout + r.stderr), 'a password was printed');
  }
  assert.equal(num(d.db, 'SELECT count(*) FROM customers'), N);
  const orders = num(d.db, 'SELECT count(*) FROM orders');
  assert.ok(orders > 4 * N && orders < 6 * N, `about five orders a customer: ${orders}`);
  assert.equal(sqlite(d.db, 'PRAGMA journal_mode'), 'wal');
  assert.ok(num(d.db, 'SELECT count(*) FROM sqlite_stat1') > 0, 'ANALYZE ran');
  assert.equal(num(d.db, "SELECT count(*) FROM audit_log WHERE action = 'demo_data.load' AND actor = 'cli'"), 1);
});

test('the same seed and end date give the same data; another seed does not', () => {
  const a = dumpHash(d.db);
  assert.equal(dumpHash(dbB), a);
  assert.notEqual(dumpHash(dbC), a);
});

test('customer figures equal a recount of their paid orders', () => {
  assert.equal(num(d.db, `
    SELECT count(*) FROM customers c LEFT JOIN (
      SELECT customer_id, count(*) AS n, sum(amount_cents) AS s, min(paid_at) AS f, max(paid_at) AS l
      FROM orders WHERE status = 'paid' AND customer_id IS NOT NULL GROUP BY customer_id) o
    ON o.customer_id = c.id
    WHERE c.order_count != coalesce(o.n, 0) OR c.total_spent_cents != coalesce(o.s, 0)
       OR c.first_order_at IS NOT o.f OR c.last_order_at IS NOT o.l`), 0);
  assert.equal(num(d.db, `SELECT count(*) FROM customers WHERE NOT (
      (order_count = 0 AND stage IN ('added', 'observing', 'interested'))
      OR (order_count = 1 AND stage IN ('converted', 'sharing'))
      OR (order_count >= 2 AND stage IN ('repurchasing', 'sharing')))`), 0, 'stage agrees with the paid orders');
  assert.equal(num(d.db, 'SELECT count(*) FROM customers WHERE stage_manual != 0 OR points_balance != 0 OR wallet_balance_cents != 0'), 0);
  const none = num(d.db, 'SELECT count(*) FROM customers WHERE NOT EXISTS (SELECT 1 FROM orders WHERE customer_id = customers.id)');
  assert.ok(none > 0.15 * N && none < 0.35 * N, `about a quarter without orders: ${none}`);
  const heavy = num(d.db, 'SELECT count(*) FROM customers WHERE order_count >= 6');
  assert.ok(heavy > 0.1 * N, `heavy buyers: ${heavy}`);
  assert.ok(num(d.db, 'SELECT max(order_count) FROM customers') <= 30);
});

test('orders: about 70% bound by phone, the rest from non-members', () => {
  const pct = num(d.db, 'SELECT 100.0 * count(customer_id) / count(*) FROM orders');
  assert.ok(pct >= 60 && pct <= 80, `bound ${pct}%`);
  assert.equal(num(d.db, `SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id
    WHERE o.buyer_phone IS NOT c.phone OR o.bound_by IS NOT 'phone' OR o.bound_at IS NOT max(o.paid_at, c.created_at)`), 0);
  assert.equal(num(d.db, 'SELECT count(*) FROM orders o JOIN customers c ON c.phone = o.buyer_phone WHERE o.customer_id IS NULL'), 0,
    'an unbound order has a customer\'s phone');
  assert.equal(num(d.db, 'SELECT count(*) FROM orders WHERE customer_id IS NULL AND (bound_at IS NOT NULL OR bound_by IS NOT NULL)'), 0);
  assert.ok(num(d.db, 'SELECT count(*) FROM orders WHERE customer_id IS NULL AND buyer_phone IS NULL') > 0);
  assert.equal(num(d.db, 'SELECT count(*) FROM orders WHERE referral_code IS NOT NULL AND referral_code NOT IN (SELECT referral_code FROM ambassadors)'), 0);
  // items: valid JSON from the catalogue; the amount never above their sum, never negative
  assert.equal(num(d.db, `SELECT count(*) FROM orders WHERE NOT json_valid(items) OR amount_cents < 0
    OR amount_cents > (SELECT sum(json_extract(value, '$.quantity') * json_extract(value, '$.price_cents')) FROM json_each(items))
    OR EXISTS (SELECT 1 FROM json_each(items) WHERE json_extract(value, '$.category') NOT IN ('basics', 'fashion', 'gift'))`), 0);
  const rows = sqlite(d.db, 'SELECT platform, count(*) FROM orders GROUP BY platform ORDER BY platform').split('\n');
  assert.deepEqual(rows.map((l) => l.split('|')[0]), ['douyin', 'tmall', 'wechat']);
  const status = Object.fromEntries(sqlite(d.db, 'SELECT status, count(*) FROM orders GROUP BY status').split('\n').map((l) => l.split('|')));
  assert.ok(Number(status.paid) > 0.9 * num(d.db, 'SELECT count(*) FROM orders'));
  assert.ok(Number(status.refunded) > 0 && Number(status.cancelled) > 0);
  // external ids look like the platforms' and are unique per platform (the UNIQUE index)
  assert.equal(num(d.db, `SELECT count(*) FROM orders WHERE NOT (
      (platform = 'tmall' AND external_id GLOB '[1-9]*' AND length(external_id) = 19 AND NOT external_id GLOB '*[^0-9]*')
      OR (platform = 'douyin' AND external_id GLOB 'DY[0-9]*' AND NOT substr(external_id, 3) GLOB '*[^0-9]*')
      OR (platform = 'wechat' AND external_id GLOB 'WX[0-9]*' AND NOT substr(external_id, 3) GLOB '*[^0-9]*'))`), 0);
  // every time inside the twelve months before the end date
  assert.equal(num(d.db, `SELECT count(*) FROM orders WHERE paid_at < ${END_TS - 365 * 86400} OR paid_at >= ${END_TS}
    OR updated_at >= ${END_TS} OR created_at < ${END_TS - 365 * 86400}`), 0);
});

test('customers: unique phones and unionids, names, birthdays, spread over the year', () => {
  const [n, phones, okPhones, unionids, okUnionids] = sqlite(d.db, `SELECT count(*), count(DISTINCT phone),
    sum(phone GLOB '1[35789][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'), count(DISTINCT unionid),
    sum(length(unionid) = 28 AND unionid GLOB 'o*' AND NOT unionid GLOB '*[^A-Za-z0-9_-]*') FROM customers`).split('|').map(Number);
  assert.deepEqual([phones, okPhones, unionids, okUnionids], [n, n, n, n]);
  assert.equal(num(d.db, "SELECT count(*) FROM customers WHERE name IS NULL OR name GLOB '*[A-Za-z0-9]*' OR length(name) < 2"), 0);
  assert.equal(num(d.db, `SELECT count(*) FROM customers WHERE (birthday IS NULL) != (birth_month IS NULL)
    OR (birthday IS NOT NULL AND (birth_month != CAST(substr(birthday, -5, 2) AS INT) OR birth_day != CAST(substr(birthday, -2) AS INT)))`), 0);
  assert.ok(num(d.db, "SELECT count(*) FROM customers WHERE birthday LIKE '--%'") > 0);
  const bdays = num(d.db, 'SELECT count(birthday) FROM customers');
  assert.ok(bdays > 0.5 * N && bdays < 0.7 * N, `birthdays ${bdays}`);
  const emails = num(d.db, 'SELECT count(email) FROM customers');
  assert.ok(emails > 0.05 * N && emails < 0.15 * N, `emails ${emails}`);
  const genders = Object.fromEntries(sqlite(d.db, 'SELECT gender, count(*) FROM customers GROUP BY gender').split('\n').map((l) => l.split('|').map((x, i) => (i ? Number(x) : x))));
  assert.ok(genders.f > genders.m && genders.m > genders.u && genders.u > 0);
  assert.equal(num(d.db, `SELECT count(*) FROM customers WHERE created_at < ${END_TS - 365 * 86400} OR created_at >= ${END_TS} OR updated_at < created_at`), 0);
  const firstQ = num(d.db, `SELECT count(*) FROM customers WHERE created_at < ${END_TS - 274 * 86400}`);
  const lastQ = num(d.db, `SELECT count(*) FROM customers WHERE created_at >= ${END_TS - 91 * 86400}`);
  assert.ok(lastQ > firstQ, `recent months are busier: ${firstQ} then ${lastQ}`);
  // mostly from package cards; about 90% owned by one of the three operators
  assert.ok(num(d.db, "SELECT count(*) FROM customers c JOIN channels ch ON ch.id = c.source_channel_id WHERE ch.kind = 'package_card'") > 0.5 * N);
  assert.equal(sqlite(d.db, "SELECT group_concat(username) FROM (SELECT username FROM users WHERE role = 'operator' ORDER BY id)"), 'xiaomei,azhe,lingling');
  const owned = num(d.db, "SELECT count(*) FROM customers c JOIN users u ON u.id = c.owner_user_id WHERE u.role = 'operator'");
  assert.ok(owned > 0.85 * N && owned < 0.95 * N, `owned ${owned}`);
  assert.equal(num(d.db, "SELECT count(*) FROM users WHERE role = 'operator' AND password_hash NOT LIKE 'pbkdf2-sha256$%'"), 0);
  assert.ok(num(d.db, "SELECT count(DISTINCT kind) FROM channels WHERE units > 0 AND cost_cents > 0") >= 3);
});

test('tags: counts equal their rows; timeline: one event per customer and per bound order', () => {
  assert.equal(num(d.db, 'SELECT count(*) FROM tags'), 12);
  assert.equal(num(d.db, 'SELECT count(*) FROM tags t WHERE customer_count != (SELECT count(*) FROM customer_tags WHERE tag_id = t.id)'), 0);
  assert.equal(num(d.db, "SELECT count(*) FROM tags WHERE kind != 'manual' OR tag_group IS NULL OR NOT color GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'"), 0);
  const perCustomer = num(d.db, 'SELECT 1.0 * count(*) / (SELECT count(*) FROM customers) FROM customer_tags');
  assert.ok(perCustomer > 1 && perCustomer < 2, `tags per customer ${perCustomer}`);
  assert.equal(num(d.db, 'SELECT count(*) FROM customer_tags ct JOIN customers c ON c.id = ct.customer_id WHERE ct.created_at < c.created_at'), 0);
  assert.equal(num(d.db, `SELECT count(*) FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id JOIN customers c ON c.id = ct.customer_id
    WHERE t.name = '高价值' AND c.total_spent_cents < 60000`), 0, 'high value without the spending');

  assert.equal(num(d.db, "SELECT count(*) FROM customer_events WHERE kind = 'customer.created'"), N);
  assert.equal(num(d.db, `SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customer_events e
    WHERE e.customer_id = c.id AND e.kind = 'customer.created' AND e.at = c.created_at AND e.ref_type IS NULL
      AND e.data = json_object('source_channel_id', c.source_channel_id))`), 0);
  assert.equal(num(d.db, "SELECT count(*) FROM customer_events WHERE kind = 'order.bound'"), num(d.db, 'SELECT count(customer_id) FROM orders'));
  assert.equal(num(d.db, `SELECT count(*) FROM customer_events e LEFT JOIN orders o ON o.id = e.ref_id WHERE e.kind = 'order.bound' AND (
      o.id IS NULL OR e.ref_type IS NOT 'order' OR e.customer_id != o.customer_id OR e.at != o.bound_at
      OR e.data != json_object('platform', o.platform, 'external_id', o.external_id, 'amount_cents', o.amount_cents, 'by', 'phone'))`), 0);
  assert.equal(num(d.db, "SELECT count(*) FROM customer_events WHERE kind NOT IN ('customer.created', 'order.bound', 'group.joined')"), 0);
});

test('community groups: kinds, members who joined after they came, activity after joining', () => {
  // one group per 2,000 customers, at least one of each kind
  assert.equal(sqlite(d.db, 'SELECT group_concat(kind) FROM (SELECT kind FROM groups ORDER BY kind)'), 'basic,high_value,koc');
  assert.equal(num(d.db, `SELECT count(*) FROM groups WHERE NOT (
      (kind = 'basic' AND name GLOB '袜子福利群 [1-9]*') OR (kind = 'high_value' AND name GLOB '高价值会员群 [1-9]*')
      OR (kind = 'koc' AND name GLOB 'KOC 种草群 [1-9]*'))
    OR owner_user_id NOT IN (SELECT id FROM users WHERE role = 'operator')
    OR updated_at != created_at OR created_at >= ${END_TS}`), 0);
  assert.equal(num(d.db, `SELECT count(*) FROM groups g WHERE created_at > (SELECT min(joined_at) FROM group_members WHERE group_id = g.id)
    OR NOT EXISTS (SELECT 1 FROM group_members WHERE group_id = g.id)`), 0, 'a group is there before its first member');

  // about a quarter of the customers, each in one group, joined after they came and before the end
  const members = num(d.db, 'SELECT count(*) FROM group_members');
  assert.ok(members > 0.18 * N && members < 0.32 * N, `members ${members}`);
  assert.equal(num(d.db, 'SELECT count(DISTINCT customer_id) FROM group_members'), members);
  assert.equal(num(d.db, `SELECT count(*) FROM group_members m JOIN customers c ON c.id = m.customer_id
    WHERE m.joined_at <= c.created_at OR m.joined_at >= ${END_TS}`), 0);
  // big spenders are more often in the high-value groups
  const hv = (cond) => num(d.db, `SELECT 1.0 * sum(g.kind = 'high_value') / count(*) FROM group_members m
    JOIN groups g ON g.id = m.group_id JOIN customers c ON c.id = m.customer_id WHERE ${cond}`);
  assert.ok(hv('c.total_spent_cents >= 60000') > 2 * hv('c.total_spent_cents < 60000'));
  // the timeline says so, as the daemon writes it
  assert.equal(num(d.db, "SELECT count(*) FROM customer_events WHERE kind = 'group.joined'"), members);
  assert.equal(num(d.db, `SELECT count(*) FROM group_members m JOIN groups g ON g.id = m.group_id WHERE NOT EXISTS (
      SELECT 1 FROM customer_events e WHERE e.customer_id = m.customer_id AND e.kind = 'group.joined' AND e.ref_type = 'group'
        AND e.ref_id = g.id AND e.at = m.joined_at AND e.data = json_object('name', g.name, 'kind', g.kind))`), 0);

  // 0 to 6 activity rows a member, after joining, before the end
  const activity = num(d.db, 'SELECT count(*) FROM group_activity');
  assert.ok(activity > members && activity < 3 * members, `activity ${activity} of ${members} members`);
  assert.equal(num(d.db, `SELECT count(*) FROM group_activity a LEFT JOIN group_members m
      ON m.group_id = a.group_id AND m.customer_id = a.customer_id
    WHERE m.joined_at IS NULL OR a.at <= m.joined_at OR a.at >= ${END_TS}`), 0);
  assert.ok(num(d.db, 'SELECT max(n) FROM (SELECT count(*) AS n FROM group_activity GROUP BY customer_id)') <= 6);
  assert.equal(sqlite(d.db, 'SELECT group_concat(kind) FROM (SELECT DISTINCT kind FROM group_activity ORDER BY kind)'), 'spoke,took_part');
  assert.ok(num(d.db, 'SELECT count(*) FROM group_members m WHERE NOT EXISTS (SELECT 1 FROM group_activity a WHERE a.customer_id = m.customer_id)') > 0);
  // taking part makes a new contact one who is watching, as the daemon does
  assert.equal(num(d.db, "SELECT count(*) FROM customers WHERE stage = 'added' AND id IN (SELECT customer_id FROM group_activity)"), 0);
  assert.ok(num(d.db, `SELECT count(*) FROM customers c WHERE stage = 'observing'
    AND updated_at = (SELECT min(at) FROM group_activity WHERE customer_id = c.id)`) > 0, 'some were promoted');
  assert.equal(num(d.db, `SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders WHERE customer_id = c.id)
    AND updated_at != created_at AND updated_at IS NOT (SELECT min(at) FROM group_activity WHERE customer_id = c.id)`), 0);
});

// The level the GMV reaches with the default thresholds of 1000, 5000, 20000 and 50000 yuan.
const levelFor = (gmv) => 1 + [100000, 500000, 2000000, 5000000].filter((t) => gmv >= t).length;

test('ambassadors: buyers enrolled after they came and bought, with unique poster-safe codes', () => {
  const amb = num(d.db, 'SELECT count(*) FROM ambassadors');
  const buyers = num(d.db, 'SELECT count(*) FROM customers WHERE order_count > 0');
  assert.ok(amb >= 3 && amb <= Math.max(3, 0.004 * buyers), `ambassadors ${amb} of ${buyers} buyers`);
  assert.equal(num(d.db, `SELECT count(*) FROM ambassadors a JOIN customers c ON c.id = a.customer_id
    WHERE c.order_count = 0 OR a.created_at <= c.created_at OR a.created_at <= c.first_order_at OR a.created_at >= ${END_TS}
      OR a.commission_pct NOT BETWEEN 5 AND 15 OR a.updated_at < a.created_at OR a.updated_at >= ${END_TS}`), 0);
  assert.equal(num(d.db, 'SELECT count(DISTINCT referral_code) FROM ambassadors'), amb);
  assert.equal(num(d.db, `SELECT count(*) FROM ambassadors WHERE length(referral_code) != 8
    OR referral_code GLOB '*[^ABCDEFGHJKLMNPQRSTUVWXYZ23456789]*'`), 0);
});

test('referred orders: every commission is what the daemon books for its order', () => {
  const bound = num(d.db, 'SELECT count(*) FROM orders WHERE customer_id IS NOT NULL');
  const referred = num(d.db, 'SELECT count(*) FROM orders WHERE customer_id IS NOT NULL AND referral_code IS NOT NULL');
  assert.ok(referred > 0.03 * bound && referred < 0.12 * bound, `referred ${referred} of ${bound} bound orders`);
  assert.ok(num(d.db, 'SELECT count(*) FROM orders WHERE customer_id IS NULL AND referral_code IS NOT NULL') > 0, 'some unbound orders referred');
  // one earning per referred order, none for any other, no reversal entries
  assert.equal(num(d.db, 'SELECT count(*) FROM commissions'), num(d.db, 'SELECT count(*) FROM orders WHERE referral_code IS NOT NULL'));
  assert.equal(num(d.db, `SELECT count(*) FROM orders o WHERE referral_code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM commissions k WHERE k.order_id = o.id AND k.kind = 'earn')`), 0);
  assert.equal(num(d.db, `SELECT count(*) FROM commissions k JOIN orders o ON o.id = k.order_id
    JOIN ambassadors a ON a.id = k.ambassador_id
    WHERE k.kind != 'earn' OR o.referral_code IS NOT a.referral_code
      OR k.amount_cents != o.amount_cents * a.commission_pct / 100 OR k.order_cents != o.amount_cents
      OR k.settle_at != o.paid_at + 15 * 86400 OR k.created_at != o.paid_at
      OR k.status != CASE WHEN o.status != 'paid' THEN 'reversed' WHEN k.settle_at <= ${END_TS} THEN 'settled' ELSE 'pending' END
      OR (k.status = 'settled' AND k.updated_at != k.settle_at) OR (k.status = 'pending' AND k.updated_at != k.created_at)
      OR (k.status = 'reversed' AND NOT (k.updated_at > k.created_at AND k.updated_at <= o.updated_at AND k.updated_at < k.settle_at))
      OR o.paid_at <= a.created_at OR o.customer_id IS a.customer_id`), 0);
  assert.ok(num(d.db, "SELECT count(*) FROM commissions WHERE status = 'reversed'") > 0);
  assert.ok(num(d.db, "SELECT count(*) FROM commissions WHERE status = 'pending'") > 0);

  // the ambassadors' figures are what their standing earnings give
  assert.equal(num(d.db, `SELECT count(*) FROM ambassadors a LEFT JOIN (
      SELECT ambassador_id, count(*) AS n, sum(order_cents) AS s FROM commissions
      WHERE kind = 'earn' AND status != 'reversed' GROUP BY ambassador_id) k ON k.ambassador_id = a.id
    WHERE a.referred_orders != coalesce(k.n, 0) OR a.referred_gmv_cents != coalesce(k.s, 0)`), 0);
  // the level followed the GMV up as it came and went, never down; updated_at moved with it
  const steps = new Map();
  for (const line of sqlite(d.db, "SELECT ambassador_id, id, created_at, order_cents, status, updated_at FROM commissions WHERE kind = 'earn' ORDER BY id").split('\n')) {
    const [a, id, at, cents, status, upd] = line.split('|');
    if (!steps.has(a)) steps.set(a, []);
    steps.get(a).push([Number(at), 2 * Number(id), Number(cents)]);
    if (status === 'reversed') steps.get(a).push([Number(upd), 2 * Number(id) + 1, -Number(cents)]);
  }
  let levelled = 0;
  for (const line of sqlite(d.db, 'SELECT id, level, referred_gmv_cents, created_at, updated_at FROM ambassadors').split('\n')) {
    const [id, level, gmv, created, updated] = line.split('|').map(Number);
    const s = (steps.get(String(id)) || []).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let run = 0;
    let peak = 0;
    for (const [, , c] of s) peak = Math.max(peak, (run += c));
    assert.equal(run, gmv);
    assert.equal(level, levelFor(peak), `ambassador ${id}`);
    assert.equal(updated, Math.max(created, ...s.map((x) => x[0])));
    levelled += level > 1;
  }
  assert.ok(levelled > 0, 'an ambassador went up a level');
});

test('the database is sound: integrity, foreign keys, the schema as migrated', () => {
  assert.equal(sqlite(d.db, 'PRAGMA integrity_check'), 'ok');
  assert.equal(sqlite(d.db, 'PRAGMA foreign_key_check'), '');
  // every index dropped for the load is back, the triggers are untouched
  assert.equal(schema(d.db), schema(dbRef));
  assert.ok(num(d.db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders'") >= 3);
});

test('a second run on the same database refuses and changes nothing', async () => {
  const before = dumpHash(d.db);
  const r = await demo(d.db, ['--customers', '10', '--end', END]);
  assertNoSanitizerReport(r.stderr);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /already has 3000 customers/);
  assert.equal(dumpHash(d.db), before);
});

test('a load that fails part-way is rolled back as a whole', async () => {
  // an order already holding an external id the generator hands out later
  const db = path.join(tmp, 'clash', 'scrm.db');
  const m = cli(['migrate', '--db', db]);
  assert.equal(m.code, 0, m.stderr);
  const ext = sqlite(dbB, "SELECT external_id FROM orders WHERE platform = 'tmall' ORDER BY id LIMIT 1 OFFSET 300");
  sqlite(db, `INSERT INTO orders(platform, external_id, amount_cents, status, paid_at, created_at, updated_at)
    VALUES ('tmall', '${ext}', 100, 'paid', 1, 1, 1)`);
  const r = await demo(db, ['--customers', String(N), '--seed', '7', '--end', END]);
  assertNoSanitizerReport(r.stderr);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /UNIQUE constraint failed: orders\.platform, orders\.external_id/);
  assert.match(r.stderr, /rolled back/);
  assert.equal(sqlite(db, "SELECT (SELECT count(*) FROM customers) || ',' || (SELECT count(*) FROM orders) || ',' || (SELECT count(*) FROM tags) || ',' || (SELECT count(*) FROM channels) || ',' || (SELECT count(*) FROM users WHERE role = 'operator')"), '0,1,0,0,0');
  assert.equal(schema(db), schema(dbRef));
  assert.equal(sqlite(db, 'PRAGMA journal_mode'), 'wal');
  assert.equal(sqlite(db, 'PRAGMA integrity_check'), 'ok');
  // and with the clash gone, the same load goes through
  sqlite(db, 'DELETE FROM orders');
  const ok = await demo(db, ['--customers', '100', '--seed', '7', '--end', END]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('bad arguments are usage errors (exit 2) and create nothing', () => {
  const db = path.join(tmp, 'never', 'scrm.db');
  for (const args of [['--customers', '0'], ['--customers', 'abc'], ['--customers', '-5'], ['--customers', '99999999999'],
    ['--customers'], ['--seed'], ['--seed', 'x'], ['--end', '2025-02-30'], ['--end', 'yesterday'], ['--end'], ['--frobnicate'], ['extra']]) {
    const r = cli(['demo-data', '--db', db, ...args], { timeout: 10000 });
    assertNoSanitizerReport(r.stderr);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.code} ${r.stderr}`);
    assert.match(r.stderr, /usage: scrmd demo-data/);
  }
  assert.ok(!fs.existsSync(db));
  const h = cli(['demo-data', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /demo-data \[--customers N\] \[--seed S\] \[--end YYYY-MM-DD\]/);
});

test('the daemon starts on the demo database and the admin logs in', async () => {
  await d.start();
  try {
    const h = await d.req('GET', '/healthz');
    assert.equal(h.status, 200);
    const s = await d.login('admin', ADMIN_PASSWORD);
    assert.equal(s.user.role, 'admin');
    const users = await d.req('GET', '/api/v1/users', { session: s });
    assert.equal(users.status, 200, users.text);
    const names = users.json.data.map((u) => u.username).sort();
    assert.deepEqual(names, ['admin', 'azhe', 'lingling', 'xiaomei']);

    const groups = await d.req('GET', '/api/v1/groups', { session: s });
    assert.equal(groups.status, 200, groups.text);
    assert.equal(groups.json.data.length, num(d.db, 'SELECT count(*) FROM groups'));
    assert.equal(groups.json.data.reduce((n, g) => n + g.members, 0), num(d.db, 'SELECT count(*) FROM group_members'));
    const members = await d.req('GET', `/api/v1/groups/${groups.json.data[0].id}/members`, { session: s });
    assert.equal(members.status, 200, members.text);
    assert.ok(members.json.data.length > 0);

    const ambs = await d.req('GET', '/api/v1/ambassadors', { session: s });
    assert.equal(ambs.status, 200, ambs.text);
    assert.equal(ambs.json.data.length, num(d.db, 'SELECT count(*) FROM ambassadors'));
    for (const a of ambs.json.data) {
      const [orders, gmv, pending, settled] = sqlite(d.db, `SELECT referred_orders, referred_gmv_cents,
        (SELECT coalesce(sum(amount_cents), 0) FROM commissions WHERE ambassador_id = a.id AND status = 'pending'),
        (SELECT coalesce(sum(amount_cents), 0) FROM commissions WHERE ambassador_id = a.id AND status = 'settled')
        FROM ambassadors a WHERE id = ${a.id}`).split('|').map(Number);
      assert.deepEqual([a.referred_orders, a.referred_gmv_cents, a.commission_pending_cents, a.commission_settled_cents],
        [orders, gmv, pending, settled]);
      assert.match(a.referral_code, /^[A-HJ-NP-Z2-9]{8}$/);
    }
    const top = ambs.json.data.reduce((x, y) => (y.referred_orders > x.referred_orders ? y : x));
    const ledger = await d.req('GET', `/api/v1/ambassadors/${top.id}/commissions`, { session: s });
    assert.equal(ledger.status, 200, ledger.text);
    assert.ok(ledger.json.data.length > 0);
  } finally {
    await d.stop();
  }
});
