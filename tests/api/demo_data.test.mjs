// scrmd demo-data: synthetic customers, orders, tags and timeline for a sock
// brand. The same seed and end date give the same data; the figures kept on
// each customer agree with a recount of its orders; the tag counts with the tag
// rows; a second run refuses; bad arguments are usage errors; and the daemon
// starts on the result and lets the admin in.
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
    "SELECT id, username, display_name, role, created_at, updated_at FROM users WHERE role = 'operator' ORDER BY id",
  ].join(';\n');
  const r = spawnSync('sqlite3', ['-batch', '-bail', db, sql], { maxBuffer: 1 << 30, timeout: 60000 });
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
  assert.equal(num(d.db, 'SELECT count(*) FROM orders WHERE referral_code IS NOT NULL'), 0);
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
  assert.equal(num(d.db, "SELECT count(*) FROM customer_events WHERE kind NOT IN ('customer.created', 'order.bound')"), 0);
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
  } finally {
    await d.stop();
  }
});
