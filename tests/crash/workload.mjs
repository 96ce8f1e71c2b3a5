// The crash tests' workload and its bookkeeping: client loops that create
// customers, orders, bindings, point grants and deductions, wallet top-ups and
// spends, reward redemptions, check-ins, order imports (small CSV or NDJSON
// files) and merges of two customers against a real daemon, each request with
// a unique Idempotency-Key, recording whether it was acknowledged (a 2xx
// answer came back), refused (a 4xx answer came back: definitive, nothing may
// exist) or unacknowledged (no answer: connection error or reset, or a 5xx).
// Then the checks that run on the database file (sqlite3) and through the API.
//
// A customer taking part in a request that has no definitive answer yet is
// busy; a merge takes two idle customers out of the pool the clients pick
// from (the kept one comes back once the merge is acknowledged), so that no
// request ever names a customer merged away while it is in flight.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { prng, sqlite } from '../api/lib.mjs';

// Rows of one query as objects (sqlite3 -json), with room for big answers.
export function sqliteJson(dbFile, sql) {
  const r = spawnSync('sqlite3', ['-batch', '-bail', '-json', '-cmd', '.timeout 10000', dbFile, sql], { encoding: 'utf8', timeout: 60000, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `sqlite3 failed (${r.error || r.signal || r.status}): ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

export const CONFIG = '[notify]\npoll_ms = 50\nretry_base_s = 1\nretry_max_s = 2\n[sop]\ntick_ms = 100\n';
export const BIND_BONUS = 7;
export const CHECKIN_SCHEDULE = [5, 10, 20];
export const REWARDS = [
  { name: 'crash-mug', kind: 'gift', points_cost: 5, stock: 1000000 },
  { name: 'crash-scarce', kind: 'gift', points_cost: 1, stock: 40 }, // runs out: out_of_stock answers
];

// One HTTP request; never throws. Returns {status, text, json, replayed} or
// {status: null, error} when no answer came (refused, reset, timed out).
export async function send(d, method, p, { token, body, key, type = 'application/json', timeoutMs = 15000 } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = type;
  if (key) headers['Idempotency-Key'] = key;
  try {
    const r = await fetch(d.base + p, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, text, json, replayed: r.headers.get('idempotent-replayed') === 'true' };
  } catch (e) {
    return { status: null, error: String((e && e.cause && e.cause.code) || e) };
  }
}

// One recorded request sent (again) as it was first sent: same body, media
// type and key.
export function resend(d, token, q) {
  return send(d, q.method, q.path, { token, body: q.bodyText, key: q.key, type: q.contentType });
}

// A check-in answer's "day" (YYYY-MM-DD, business calendar) as the day number
// the database keeps (days since 1970-01-01).
export function dayNumber(ymd) {
  const [y, m, d] = ymd.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 86400000;
}

// The state of one database under load: the model the checks compare with.
export class Workload {
  constructor({ seed = 1, prefix = 'ck' } = {}) {
    this.rnd = prng(seed);
    this.prefix = `${prefix}-${seed}`;
    this.seq = 0;
    this.phoneSeq = 0;
    this.requests = []; // every request: {key, kind, method, path, body, status, acked, answer, cycle, ...}
    // the pool the clients pick from: acknowledged customers not merged away
    // and not in a merge: {id, phone, busy (requests naming them without a
    // definitive answer), writes (acknowledged ones), checkins (check-in
    // requests of this person and of those merged into them)}
    this.customers = [];
    this.unbound = []; // acknowledged orders (sent alone or imported) with a phone no customer has: {external_id, buyer_phone}
    this.rewardIds = [];
    this.cycle = 0;
  }

  int(n) { return Math.floor(this.rnd() * n); }
  pick(a) { return a[this.int(a.length)]; }
  key() { return `${this.prefix}-${++this.seq}`; }
  // customers' phones start 139, orders' stray phones 137: never the same person
  phone(p) { return `${p}${String(10000000 + ++this.phoneSeq).slice(-8)}`; }

  // Before the load: points rules, rewards, a webhook channel to the receiver
  // and a SOP that welcomes every new customer through it.
  async setup(d, { admin, op, rxUrl }) {
    const ok = (r, s) => { assert.equal(r.status, s, r.text); return r.json; };
    ok(await send(d, 'PUT', '/api/v1/settings/points', { token: admin, body: JSON.stringify({ points_per_yuan: 1, bind_bonus: BIND_BONUS, review_bonus: 20, checkin_schedule: CHECKIN_SCHEDULE, expiry_months: 12, member_day: 0, member_day_multiplier: 2 }) }), 200);
    for (const rw of REWARDS) this.rewardIds.push(ok(await send(d, 'POST', '/api/v1/rewards', { token: op, body: JSON.stringify(rw) }), 201).id);
    if (rxUrl) {
      this.channel = ok(await send(d, 'POST', '/api/v1/message-channels', { token: admin, body: JSON.stringify({ name: 'crash-hook', kind: 'webhook', url: `${rxUrl}/crash-hook` }) }), 201);
      this.sop = ok(await send(d, 'POST', '/api/v1/sops', { token: op, body: JSON.stringify({ name: 'crash-welcome', trigger: { type: 'event', event: 'customer.created' }, actions: [{ type: 'message', channel_id: this.channel.id, template: 'welcome {{name}}' }] }) }), 201);
    }
  }

  // The next request of a client: chosen at random among what the model allows.
  plan() {
    const x = this.rnd();
    const key = this.key();
    const c = this.customers.length ? this.pick(this.customers) : null;
    const hold = (q, ...cs) => { q.holds = cs; for (const y of cs) y.busy++; return q; };
    if (!c || x < 0.18) {
      return { key, kind: 'customer', method: 'POST', path: '/api/v1/customers', body: { name: key, phone: this.phone('139') } };
    }
    if (x < 0.38) {
      const stray = this.rnd() < 0.4;
      const q = { key, kind: 'order', method: 'POST', path: '/api/v1/orders', stray, customerId: stray ? undefined : c.id,
        body: { platform: 'tmall', external_id: key, buyer_phone: stray ? this.phone('137') : c.phone, amount_cents: 100 + this.int(50000), paid_at: '2026-06-01T00:00:00Z' } };
      return stray ? q : hold(q, c);
    }
    if (x < 0.5 && this.unbound.length) {
      const o = this.unbound.splice(this.int(this.unbound.length), 1)[0]; // each order is bound once
      return hold({ key, kind: 'bind', method: 'POST', path: '/api/v1/orders/bind', externalId: o.external_id, customerId: c.id,
        body: { customer_id: c.id, platform: 'tmall', external_id: o.external_id, phone: o.buyer_phone } }, c);
    }
    if (x < 0.62) {
      const delta = this.rnd() < 0.6 ? 1 + this.int(200) : -(1 + this.int(100));
      return hold({ key, kind: 'points', method: 'POST', path: `/api/v1/customers/${c.id}/points`, customerId: c.id,
        body: { delta, reason: 'crash', note: key } }, c);
    }
    if (x < 0.7) { // stored value: top-ups, and spends that may find too little
      const topup = this.rnd() < 0.6;
      return hold({ key, kind: 'wallet', method: 'POST', path: `/api/v1/customers/${c.id}/wallet`, customerId: c.id,
        body: { delta_cents: topup ? 1 + this.int(50000) : -(1 + this.int(20000)), reason: topup ? 'topup' : 'spend', note: key } }, c);
    }
    if (x < 0.8) {
      const rid = this.rnd() < 0.7 ? this.rewardIds[0] : this.rewardIds[1];
      return hold({ key, kind: 'redeem', method: 'POST', path: `/api/v1/rewards/${rid}/redeem`, customerId: c.id, rewardId: rid,
        body: { customer_id: c.id } }, c);
    }
    if (x < 0.88) { // once a business day: a second one of the same person is a 409
      const q = hold({ key, kind: 'checkin', method: 'POST', path: `/api/v1/customers/${c.id}/checkin`, customerId: c.id, person: c }, c);
      c.checkins.push(q);
      return q;
    }
    if (x < 0.94) {
      // a small file of orders, some bought with c's phone (bound on arrival),
      // the others with phones nobody has
      const lines = Array.from({ length: 5 + this.int(16) }, (_, j) => {
        const mine = this.rnd() < 0.5;
        return { external_id: `${key}-${j + 1}`, buyer_phone: mine ? c.phone : this.phone('137'), amount_cents: 100 + this.int(50000), mine };
      });
      const csv = this.rnd() < 0.5;
      const row = (l) => ({ platform: 'tmall', external_id: l.external_id, buyer_phone: l.buyer_phone, amount_cents: l.amount_cents, paid_at: '2026-06-01T00:00:00Z' });
      const body = csv
        ? ['platform,external_id,buyer_phone,amount_cents,paid_at', ...lines.map((l) => Object.values(row(l)).join(','))].join('\r\n') + '\r\n'
        : lines.map((l) => JSON.stringify(row(l))).join('\n') + '\n';
      const q = { key, kind: 'import', method: 'POST', path: '/api/v1/orders/import', contentType: csv ? 'text/csv' : 'application/x-ndjson',
        lines, customerId: c.id, body };
      return lines.some((l) => l.mine) ? hold(q, c) : q;
    }
    // a merge of two idle customers, those with something to move first;
    // both leave the pool until it is acknowledged
    const idle = this.customers.filter((y) => !y.busy);
    const some = idle.filter((y) => y.writes > 0);
    const from = some.length >= 2 ? some : idle;
    if (from.length < 2) {
      return { key, kind: 'customer', method: 'POST', path: '/api/v1/customers', body: { name: key, phone: this.phone('139') } };
    }
    const a = this.pick(from);
    let b;
    do b = this.pick(from); while (b === a);
    this.customers = this.customers.filter((y) => y !== a && y !== b);
    return hold({ key, kind: 'merge', method: 'POST', path: '/api/v1/customers/merge', into: a.id, from: b.id, pair: [a, b],
      body: { into: a.id, from: b.id } }, a, b);
  }

  // Record what an answer says; an acknowledged write feeds the model.
  settle(q, r) {
    q.status = r.status;
    q.acked = r.status !== null && r.status >= 200 && r.status < 300;
    q.refused = r.status !== null && r.status >= 400 && r.status < 500;
    if (r.status !== null && r.status >= 500) q.error = `${r.status} ${r.text}`;
    if (r.status === null) q.error = r.error;
    if (q.refused) {
      // the refusals the model allows; anything else is a bug in the test or the daemon
      const code = r.json && r.json.error && r.json.error.code;
      const allowed = ['insufficient_points', 'insufficient_balance', 'out_of_stock'];
      // a check-in is refused when another one of the same person (theirs or
      // of someone merged into them) may have landed the same business day
      if (q.kind === 'checkin' && q.person.checkins.some((o) => o !== q && !o.refused)) allowed.push('conflict');
      assert.ok(allowed.includes(code), `${q.kind} ${q.key} ${q.path} ${String(q.bodyText).slice(0, 300)} -> ${r.status} ${r.text}`);
    }
    if ((q.acked || q.refused) && q.holds) {
      for (const y of q.holds) {
        y.busy--;
        if (q.acked) y.writes++;
      }
      q.holds = null;
    }
    if (!q.acked) return;
    q.answer = r.text;
    q.json = r.json;
    if (q.kind === 'customer') this.customers.push({ id: r.json.id, phone: r.json.phone, busy: 0, writes: 0, checkins: [] });
    if (q.kind === 'order') {
      if (q.stray) this.unbound.push({ external_id: q.body.external_id, buyer_phone: q.body.buyer_phone });
    }
    if (q.kind === 'checkin') {
      const s = r.json;
      assert.ok(s.streak >= 1 && s.streak <= CHECKIN_SCHEDULE.length && s.points_awarded === CHECKIN_SCHEDULE[s.streak - 1], `checkin ${q.key}: ${r.text}`);
    }
    if (q.kind === 'import') {
      const s = r.json;
      const n = q.lines.length;
      assert.ok(s.lines === n && s.error_count === 0 && s.created + s.updated + s.unchanged === n, `import ${q.key} of ${n} lines: ${r.text}`);
      // its orders with phones nobody has wait to be bound
      for (const l of q.lines) if (!l.mine) this.unbound.push({ external_id: l.external_id, buyer_phone: l.buyer_phone });
    }
    if (q.kind === 'merge') {
      const [a, b] = q.pair;
      assert.equal(r.json.id, a.id, `merge ${q.key}: ${r.text}`);
      a.checkins.push(...b.checkins);
      a.writes += b.writes;
      this.customers.push(a); // the kept one is back in the pool; b is gone
    }
  }

  // n client loops until stop() is called; each request is recorded before it
  // is sent. Resolves when every loop has ended.
  run(d, token, n) {
    let stopping = false;
    const loop = async () => {
      while (!stopping) {
        const q = this.plan();
        q.bodyText = typeof q.body === 'string' ? q.body : JSON.stringify(q.body);
        q.cycle = this.cycle;
        q.sentAt = Date.now();
        this.requests.push(q);
        const r = await resend(d, token, q);
        q.answeredAt = Date.now();
        this.settle(q, r);
        if (r.status === null) return; // the daemon is gone
      }
    };
    const loops = Promise.all(Array.from({ length: n }, loop));
    return { stop: () => { stopping = true; return loops; }, done: loops };
  }

  unacked() { return this.requests.filter((q) => !q.acked && !q.refused); }
}

// How many times each request's write is in the database file, by kind:
// customers by name (the key; one merged away by the record of its merge),
// orders by external_id (the key), point and wallet moves by note (the key),
// bindings by their bonus row, redemptions by the redemption id its
// idempotency record answered, check-ins by their idempotency record (the
// ledger rows and check-in rows are checked against those records as a
// whole), imports by how many of their lines' orders are there (external_id:
// the key, a dash and the line), merges by the record of the merged-away
// customer. owner: the customer an order, point or wallet row is on. resolve:
// a customer id to the one it is now (itself, or the one it was merged into).
// Returns Map key -> count, plus those and the idempotency records, the
// redemptions and the merges.
export function countWrites(dbFile, w) {
  const like = `${w.prefix}-%`;
  const counts = new Map();
  const owner = new Map();
  const add = (k, n) => counts.set(k, (counts.get(k) || 0) + n);
  const merged = new Map(sqliteJson(dbFile, 'SELECT from_id, into_id FROM customer_merges').map((r) => [r.from_id, r.into_id]));
  const resolve = (id) => merged.get(id) ?? id;
  for (const r of sqliteJson(dbFile, `SELECT name AS k, count(*) AS n FROM customers WHERE name LIKE '${like}' GROUP BY name`)) add(r.k, r.n);
  for (const t of ['orders', 'points_ledger', 'wallet_ledger']) {
    const col = t === 'orders' ? 'external_id' : 'note';
    for (const r of sqliteJson(dbFile, `SELECT ${col} AS k, count(*) AS n, max(customer_id) AS c FROM ${t} WHERE ${col} LIKE '${like}' GROUP BY ${col}`)) {
      add(r.k, r.n);
      owner.set(r.k, r.c);
    }
  }
  const bonuses = new Map(sqliteJson(dbFile, "SELECT ref_id AS o, count(*) AS n FROM points_ledger WHERE reason = 'bind_bonus' AND ref_type = 'order' GROUP BY ref_id").map((r) => [r.o, r.n]));
  const bound = new Map(sqliteJson(dbFile, "SELECT id, external_id, customer_id FROM orders WHERE bound_by = 'bind'").map((r) => [r.external_id, r]));
  const idem = new Map(sqliteJson(dbFile, `SELECT key, status, body FROM idempotency_keys WHERE key LIKE '${like}'`).map((r) => [r.key, r]));
  const redemptions = sqliteJson(dbFile, 'SELECT id, reward_id, customer_id FROM redemptions');
  const redemptionIds = new Map(redemptions.map((r) => [r.id, r]));
  for (const q of w.requests) {
    if (q.kind === 'bind') {
      const b = bound.get(q.externalId);
      add(q.key, b && b.customer_id === resolve(q.customerId) ? (bonuses.get(b.id) || 0) : 0);
    } else if (q.kind === 'redeem') {
      const rec = idem.get(q.key);
      let n = 0;
      if (rec && rec.status === 201) {
        const x = redemptionIds.get(JSON.parse(rec.body).redemption_id);
        n = x ? 1 : 0;
        if (x) owner.set(q.key, x.customer_id);
      }
      add(q.key, n);
    } else if (q.kind === 'customer') {
      // its answer gave its id: merged away, it is there as its merge
      if (q.json && merged.has(q.json.id)) add(q.key, 1);
    } else if (q.kind === 'checkin') {
      const rec = idem.get(q.key);
      add(q.key, rec && rec.status === 200 ? 1 : 0);
    } else if (q.kind === 'import') {
      add(q.key, q.lines.filter((l) => counts.has(l.external_id)).length);
    } else if (q.kind === 'merge') {
      add(q.key, merged.has(q.from) ? 1 : 0);
    }
  }
  return { counts, owner, resolve, merged, idem, redemptions };
}

// Check-ins as a whole: the ledger rows of reason checkin and the check-in
// rows (one per customer and business day) are exactly those of the check-ins
// whose idempotency record says they landed, each on the customer it is now
// (a merge moves the ledger rows and keeps one check-in row a day); no
// customer checked in twice on one day; the streak and points of every row
// follow the schedule and every kept customer's last_checkin_day is the day
// of their last row.
function checkCheckins(dbFile, w, { idem, resolve }, where) {
  const landed = new Map(); // "customer day" -> the answers of the check-ins that landed
  const once = new Set();
  for (const q of w.requests) {
    if (q.kind !== 'checkin') continue;
    const rec = idem.get(q.key);
    if (!rec || rec.status !== 200) continue;
    const a = JSON.parse(rec.body);
    const day = dayNumber(a.day);
    assert.ok(!once.has(`${q.customerId} ${day}`), `${where}: customer ${q.customerId} checked in twice on day ${a.day} (${q.key} is the second)`);
    once.add(`${q.customerId} ${day}`);
    const k = `${resolve(q.customerId)} ${day}`;
    landed.set(k, [...(landed.get(k) || []), a]);
  }
  const ledger = new Map(sqliteJson(dbFile, "SELECT customer_id AS c, ref_id AS day, count(*) AS n, sum(delta) AS points FROM points_ledger WHERE reason = 'checkin' AND ref_type = 'checkin' GROUP BY customer_id, ref_id")
    .map((r) => [`${r.c} ${r.day}`, r]));
  const rows = new Map(sqliteJson(dbFile, 'SELECT customer_id AS c, day, streak, points FROM checkins').map((r) => [`${r.c} ${r.day}`, r]));
  for (const [k, answers] of landed) {
    const l = ledger.get(k);
    const sum = answers.reduce((s, a) => s + a.points_awarded, 0);
    assert.ok(l && l.n === answers.length && l.points === sum, `${where}: check-ins of customer and day ${k}: ${answers.length} landed (${sum} points), ledger ${JSON.stringify(l)}`);
    const row = rows.get(k);
    assert.ok(row && answers.some((a) => a.streak === row.streak && a.points_awarded === row.points), `${where}: check-in row of customer and day ${k}: ${JSON.stringify(row)}, answers ${JSON.stringify(answers)}`);
  }
  for (const k of ledger.keys()) assert.ok(landed.has(k), `${where}: check-in ledger rows of customer and day ${k} without a check-in that landed`);
  for (const [k, row] of rows) {
    assert.ok(landed.has(k), `${where}: check-in row of customer and day ${k} without a check-in that landed`);
    assert.ok(row.streak >= 1 && row.streak <= CHECKIN_SCHEDULE.length && row.points === CHECKIN_SCHEDULE[row.streak - 1], `${where}: check-in row ${k}: ${JSON.stringify(row)}`);
    if (row.streak > 1) {
      const prev = rows.get(`${row.c} ${row.day - 1}`);
      assert.ok(prev && prev.streak === row.streak - 1, `${where}: check-in row ${k} (streak ${row.streak}) follows ${JSON.stringify(prev)}`);
    }
  }
  const lastDay = sqliteJson(dbFile, 'SELECT id, last_checkin_day FROM customers c WHERE last_checkin_day IS NOT (SELECT max(day) FROM checkins x WHERE x.customer_id = c.id)');
  assert.deepEqual(lastDay, [], `${where}: last_checkin_day differs from the last check-in row`);
}

// The checks every state of the database must pass, also straight after a
// kill -9: integrity, foreign keys, ledgers equal balances, stock plus
// redemptions equal the initial stock, every redemption answered by exactly
// one stored idempotency record, every acknowledged write present exactly
// once with its idempotency record holding the very answer the client got,
// every other write at most once (refused ones never), every order, point
// and wallet row and redemption on the customer its request named or the one
// that customer was merged into, a merge whole or not there at all, an
// import's orders all there or none (a small file is one batch, one
// transaction), check-ins as checkCheckins says. Returns the counts.
export function checkDatabase(dbFile, w, where) {
  assert.equal(sqlite(dbFile, 'PRAGMA integrity_check;'), 'ok', `${where}: integrity_check`);
  assert.equal(sqlite(dbFile, 'PRAGMA foreign_key_check;'), '', `${where}: foreign_key_check`);
  const badLedgers = sqliteJson(dbFile, `SELECT c.id, c.points_balance, c.wallet_balance_cents,
      (SELECT coalesce(sum(delta), 0) FROM points_ledger p WHERE p.customer_id = c.id) AS sum_delta,
      (SELECT coalesce(sum(remaining), 0) FROM points_ledger p WHERE p.customer_id = c.id) AS sum_remaining
    FROM customers c WHERE c.points_balance != sum_delta OR c.points_balance != sum_remaining OR c.points_balance < 0
      OR c.wallet_balance_cents != (SELECT coalesce(sum(delta_cents), 0) FROM wallet_ledger x WHERE x.customer_id = c.id)`);
  assert.deepEqual(badLedgers, [], `${where}: ledgers differ from balances`);
  const stock = sqliteJson(dbFile, 'SELECT r.name, r.stock, (SELECT count(*) FROM redemptions x WHERE x.reward_id = r.id) AS n FROM rewards r');
  for (const s of stock) {
    const initial = REWARDS.find((x) => x.name === s.name);
    if (initial) assert.equal(s.stock + s.n, initial.stock, `${where}: reward ${s.name}: stock ${s.stock} + ${s.n} redemptions`);
  }
  // each redemption costs its points once: per customer and reward, one
  // ledger row of minus its points per redemption
  const badRedemptions = sqliteJson(dbFile, `SELECT x.customer_id, x.reward_id, count(*) AS n, sum(x.points) AS spent,
      (SELECT count(*) FROM points_ledger p WHERE p.customer_id = x.customer_id AND p.reason = 'redeem' AND p.ref_type = 'reward' AND p.ref_id = x.reward_id) AS rows,
      (SELECT coalesce(-sum(delta), 0) FROM points_ledger p WHERE p.customer_id = x.customer_id AND p.reason = 'redeem' AND p.ref_type = 'reward' AND p.ref_id = x.reward_id) AS taken
    FROM redemptions x WHERE x.points > 0 GROUP BY x.customer_id, x.reward_id HAVING n != rows OR spent != taken`);
  assert.deepEqual(badRedemptions, [], `${where}: redemptions and their ledger rows disagree`);
  // a merged-away customer has no row left, and every merge record names a
  // kept customer (merging the kept one away later moves the record on)
  const badMerges = sqliteJson(dbFile, `SELECT m.from_id, m.into_id FROM customer_merges m
    WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = m.from_id) OR EXISTS (SELECT 1 FROM customer_merges n WHERE n.from_id = m.into_id)`);
  assert.deepEqual(badMerges, [], `${where}: merge records whose customer is still there or that name a merged-away one`);
  const written = countWrites(dbFile, w);
  const { counts, owner, resolve, merged, idem, redemptions } = written;
  const claimed = new Map();
  for (const rec of idem.values()) {
    if (rec.status !== 201) continue;
    const id = JSON.parse(rec.body).redemption_id;
    if (id !== undefined) claimed.set(id, (claimed.get(id) || 0) + 1);
  }
  for (const r of redemptions) assert.equal(claimed.get(r.id), 1, `${where}: redemption ${r.id} is answered by ${claimed.get(r.id) || 0} idempotency records`);
  const live = new Set(sqliteJson(dbFile, 'SELECT id FROM customers').map((r) => r.id));
  const figures = { acked: 0, unacked: 0, refused: 0, unackedPresent: 0 };
  for (const q of w.requests) {
    const n = counts.get(q.key) || 0;
    // what a whole write counts: an import, its lines
    const whole = q.kind === 'import' ? q.lines.length : 1;
    const what = `${where}: ${q.kind} ${q.key} (${q.acked ? 'acknowledged' : q.refused ? 'refused' : `unacknowledged: ${q.error}`}) ${String(q.bodyText).slice(0, 300)}`;
    const rec = idem.get(q.key);
    if (q.acked) {
      figures.acked++;
      assert.equal(n, whole, `${what}: present ${n} times`);
      assert.ok(rec, `${what}: no idempotency record`);
      assert.equal(rec.status, q.status, `${what}: stored status`);
      assert.equal(rec.body, q.answer, `${what}: stored answer differs from the one sent`);
    } else if (q.refused) {
      figures.refused++;
      assert.equal(n, 0, `${what}: present ${n} times`);
    } else {
      figures.unacked++;
      if (q.kind === 'import') {
        // one batch, one transaction: all its lines or none; its
        // idempotency record is written after them, so it may be missing
        assert.ok(n === 0 || n === whole, `${what}: ${n} of its ${whole} lines are there`);
        if (rec && rec.status < 300) assert.equal(n, whole, `${what}: its answer is stored, yet ${n} of its ${whole} lines are there`);
      } else {
        assert.ok(n <= 1, `${what}: present ${n} times`);
        // the write and its idempotency record commit together
        if (q.kind !== 'redeem') assert.equal(Boolean(rec && rec.status < 300), n === 1, `${what}: present ${n} times, idempotency record ${JSON.stringify(rec)}`);
      }
      if (n === whole) figures.unackedPresent++;
    }
    if (n === 0) continue;
    // where it is: on the customer it named, or the one they were merged into
    if (['points', 'wallet', 'redeem'].includes(q.kind) || (q.kind === 'order' && !q.stray)) {
      assert.equal(owner.get(q.key), resolve(q.customerId), `${what}: on customer ${owner.get(q.key)}, not ${resolve(q.customerId)} (customer ${q.customerId} or the one it was merged into)`);
    }
    if (q.kind === 'import') {
      for (const l of q.lines) {
        assert.equal(counts.get(l.external_id) || 0, 1, `${what}: line ${l.external_id}`);
        if (l.mine) assert.equal(owner.get(l.external_id), resolve(q.customerId), `${what}: order ${l.external_id} is on customer ${owner.get(l.external_id)}`);
      }
    }
    if (q.kind === 'merge') {
      assert.equal(merged.get(q.from), resolve(q.into), `${what}: customer ${q.from} recorded as merged into ${merged.get(q.from)}`);
      assert.ok(!live.has(q.from) && live.has(resolve(q.into)), `${what}: customer ${q.from} still there or ${resolve(q.into)} gone`);
    }
  }
  checkCheckins(dbFile, w, written, where);
  figures.counts = counts;
  figures.idem = idem;
  return figures;
}

// After a restart: send every unacknowledged request again with its key. One
// whose idempotency record is in the database (its write committed, or its
// refusal) must be a replay (Idempotent-Replayed) of exactly the stored
// answer; one without must run now. An import without its record runs again
// as a second run of its file does: its orders left by the kill are
// unchanged, the others created. Also replays a sample of acknowledged
// requests: byte for byte the first answer. before: checkDatabase's result on
// the database as the kill left it.
export async function retryUnacked(d, token, w, before, { sample = 20 } = {}) {
  const out = { retried: 0, replayed: 0, ranNow: 0, refusedNow: 0, ackedReplays: 0, importsRedone: 0 };
  for (const q of w.unacked()) {
    const r = await resend(d, token, q);
    assert.ok(r.status !== null && r.status < 500, `retry of ${q.kind} ${q.key}: ${r.status} ${r.text || r.error}`);
    out.retried++;
    const rec = before.idem.get(q.key);
    if (rec) {
      assert.equal(r.replayed, true, `retry of ${q.kind} ${q.key}: its answer was committed (${rec.status}), so the retry must replay it; got ${r.status} ${r.text}`);
      assert.equal(r.status, rec.status, `retry of ${q.kind} ${q.key}`);
      assert.equal(r.text, rec.body, `retry of ${q.kind} ${q.key}: not the stored answer`);
      out.replayed++;
    } else {
      assert.equal(r.replayed, false, `retry of ${q.kind} ${q.key}: nothing was committed, yet the answer is a replay: ${r.text}`);
      if (q.kind === 'import') {
        const n = q.lines.length;
        const there = before.counts.get(q.key) || 0;
        assert.equal(r.status, 200, `retry of import ${q.key}: ${r.text}`);
        assert.deepEqual([r.json.created, r.json.updated, r.json.unchanged], there ? [0, 0, n] : [n, 0, 0], `retry of import ${q.key}: ${there} of its ${n} orders were there: ${r.text}`);
        if (there) out.importsRedone++;
      }
      if (r.status < 300) out.ranNow++; else out.refusedNow++;
    }
    q.retried = true;
    w.settle(q, r);
  }
  const acked = w.requests.filter((q) => q.acked && !q.retried);
  for (let i = 0; i < sample && acked.length; i++) {
    const q = acked[w.int(acked.length)];
    const r = await resend(d, token, q);
    assert.equal(r.status, q.status, `replay of ${q.kind} ${q.key}: ${r.text}`);
    assert.equal(r.replayed, true, `replay of ${q.kind} ${q.key}`);
    assert.equal(r.text, q.answer, `replay of ${q.kind} ${q.key}: not byte for byte the first answer`);
    out.ackedReplays++;
  }
  return out;
}
