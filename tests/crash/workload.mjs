// The crash tests' workload and its bookkeeping: client loops that create
// customers, orders, bindings, point grants and deductions and reward
// redemptions against a real daemon, each request with a unique
// Idempotency-Key, recording whether it was acknowledged (a 2xx answer came
// back), refused (a 4xx answer came back: definitive, nothing may exist) or
// unacknowledged (no answer: connection error or reset, or a 5xx). Then the
// checks that run on the database file (sqlite3) and through the API.
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
export const REWARDS = [
  { name: 'crash-mug', kind: 'gift', points_cost: 5, stock: 1000000 },
  { name: 'crash-scarce', kind: 'gift', points_cost: 1, stock: 40 }, // runs out: out_of_stock answers
];

// One HTTP request; never throws. Returns {status, text, json, replayed} or
// {status: null, error} when no answer came (refused, reset, timed out).
export async function send(d, method, p, { token, body, key, timeoutMs = 15000 } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
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

// The state of one database under load: the model the checks compare with.
export class Workload {
  constructor({ seed = 1, prefix = 'ck' } = {}) {
    this.rnd = prng(seed);
    this.prefix = `${prefix}-${seed}`;
    this.seq = 0;
    this.phoneSeq = 0;
    this.requests = []; // every request: {key, kind, method, path, body, status, acked, answer, cycle, ...}
    this.customers = []; // acknowledged: {id, phone}
    this.unbound = []; // acknowledged orders with a phone no customer has: {id, external_id, buyer_phone}
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
    ok(await send(d, 'PUT', '/api/v1/settings/points', { token: admin, body: JSON.stringify({ points_per_yuan: 1, bind_bonus: BIND_BONUS, review_bonus: 20, checkin_schedule: [5], expiry_months: 12, member_day: 0, member_day_multiplier: 2 }) }), 200);
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
    if (!c || x < 0.2) {
      return { key, kind: 'customer', method: 'POST', path: '/api/v1/customers', body: { name: key, phone: this.phone('139') } };
    }
    if (x < 0.45) {
      const stray = this.rnd() < 0.4;
      return { key, kind: 'order', method: 'POST', path: '/api/v1/orders', stray,
        body: { platform: 'tmall', external_id: key, buyer_phone: stray ? this.phone('137') : c.phone, amount_cents: 100 + this.int(50000), paid_at: '2026-06-01T00:00:00Z' } };
    }
    if (x < 0.6 && this.unbound.length) {
      const o = this.unbound.splice(this.int(this.unbound.length), 1)[0]; // each order is bound once
      return { key, kind: 'bind', method: 'POST', path: '/api/v1/orders/bind', orderId: o.id, customerId: c.id,
        body: { customer_id: c.id, platform: 'tmall', external_id: o.external_id, phone: o.buyer_phone } };
    }
    if (x < 0.75) {
      const delta = this.rnd() < 0.6 ? 1 + this.int(200) : -(1 + this.int(100));
      return { key, kind: 'points', method: 'POST', path: `/api/v1/customers/${c.id}/points`, customerId: c.id,
        body: { delta, reason: 'crash', note: key } };
    }
    if (x < 0.85) { // stored value: top-ups, and spends that may find too little
      const topup = this.rnd() < 0.6;
      return { key, kind: 'wallet', method: 'POST', path: `/api/v1/customers/${c.id}/wallet`, customerId: c.id,
        body: { delta_cents: topup ? 1 + this.int(50000) : -(1 + this.int(20000)), reason: topup ? 'topup' : 'spend', note: key } };
    }
    const rid = this.rnd() < 0.7 ? this.rewardIds[0] : this.rewardIds[1];
    return { key, kind: 'redeem', method: 'POST', path: `/api/v1/rewards/${rid}/redeem`, customerId: c.id, rewardId: rid,
      body: { customer_id: c.id } };
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
      assert.ok(['insufficient_points', 'insufficient_balance', 'out_of_stock'].includes(code), `${q.kind} ${q.key} ${q.path} ${q.bodyText} -> ${r.status} ${r.text}`);
    }
    if (!q.acked) return;
    q.answer = r.text;
    q.json = r.json;
    if (q.kind === 'customer') this.customers.push({ id: r.json.id, phone: r.json.phone });
    if (q.kind === 'order') {
      q.orderId = r.json.id;
      if (q.stray) this.unbound.push({ id: r.json.id, external_id: q.body.external_id, buyer_phone: q.body.buyer_phone });
    }
  }

  // n client loops until stop() is called; each request is recorded before it
  // is sent. Resolves when every loop has ended.
  run(d, token, n) {
    let stopping = false;
    const loop = async () => {
      while (!stopping) {
        const q = this.plan();
        q.bodyText = JSON.stringify(q.body);
        q.cycle = this.cycle;
        q.sentAt = Date.now();
        this.requests.push(q);
        const r = await send(d, q.method, q.path, { token, body: q.bodyText, key: q.key });
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
// customers by name (the key), orders by external_id (the key), point and
// wallet moves by note (the key), bindings by their bonus row, redemptions by the redemption
// id its idempotency record answered. Returns Map key -> count, plus the
// idempotency records and the redemptions.
export function countWrites(dbFile, w) {
  const like = `${w.prefix}-%`;
  const counts = new Map();
  const add = (k, n) => counts.set(k, (counts.get(k) || 0) + n);
  for (const r of sqliteJson(dbFile, `SELECT name AS k, count(*) AS n FROM customers WHERE name LIKE '${like}' GROUP BY name`)) add(r.k, r.n);
  for (const r of sqliteJson(dbFile, `SELECT external_id AS k, count(*) AS n FROM orders WHERE external_id LIKE '${like}' GROUP BY external_id`)) add(r.k, r.n);
  for (const r of sqliteJson(dbFile, `SELECT note AS k, count(*) AS n FROM points_ledger WHERE note LIKE '${like}' GROUP BY note`)) add(r.k, r.n);
  for (const r of sqliteJson(dbFile, `SELECT note AS k, count(*) AS n FROM wallet_ledger WHERE note LIKE '${like}' GROUP BY note`)) add(r.k, r.n);
  const bonuses = new Map(sqliteJson(dbFile, "SELECT ref_id AS o, count(*) AS n FROM points_ledger WHERE reason = 'bind_bonus' AND ref_type = 'order' GROUP BY ref_id").map((r) => [r.o, r.n]));
  const bound = new Map(sqliteJson(dbFile, "SELECT id, customer_id, bound_by FROM orders WHERE bound_by = 'bind'").map((r) => [r.id, r]));
  const idem = new Map(sqliteJson(dbFile, `SELECT key, status, body FROM idempotency_keys WHERE key LIKE '${like}'`).map((r) => [r.key, r]));
  const redemptions = sqliteJson(dbFile, 'SELECT id, reward_id, customer_id FROM redemptions');
  const redemptionIds = new Map(redemptions.map((r) => [r.id, r]));
  for (const q of w.requests) {
    if (q.kind === 'bind') {
      const b = bound.get(q.orderId);
      add(q.key, b && b.customer_id === q.customerId ? (bonuses.get(q.orderId) || 0) : 0);
    } else if (q.kind === 'redeem') {
      const rec = idem.get(q.key);
      let n = 0;
      if (rec && rec.status === 201) {
        const id = JSON.parse(rec.body).redemption_id;
        n = redemptionIds.has(id) ? 1 : 0;
      }
      add(q.key, n);
    }
  }
  return { counts, idem, redemptions };
}

// The checks every state of the database must pass, also straight after a
// kill -9: integrity, foreign keys, ledgers equal balances, stock plus
// redemptions equal the initial stock, every redemption answered by exactly
// one stored idempotency record, every acknowledged write present exactly
// once with its idempotency record holding the very answer the client got,
// every other write at most once (refused ones never). Returns the counts.
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
  const { counts, idem, redemptions } = countWrites(dbFile, w);
  const claimed = new Map();
  for (const rec of idem.values()) {
    if (rec.status !== 201) continue;
    const id = JSON.parse(rec.body).redemption_id;
    if (id !== undefined) claimed.set(id, (claimed.get(id) || 0) + 1);
  }
  for (const r of redemptions) assert.equal(claimed.get(r.id), 1, `${where}: redemption ${r.id} is answered by ${claimed.get(r.id) || 0} idempotency records`);
  const figures = { acked: 0, unacked: 0, refused: 0, unackedPresent: 0 };
  for (const q of w.requests) {
    const n = counts.get(q.key) || 0;
    const what = `${where}: ${q.kind} ${q.key} (${q.acked ? 'acknowledged' : q.refused ? 'refused' : `unacknowledged: ${q.error}`}) ${q.bodyText}`;
    if (q.acked) {
      figures.acked++;
      assert.equal(n, 1, `${what}: present ${n} times`);
      const rec = idem.get(q.key);
      assert.ok(rec, `${what}: no idempotency record`);
      assert.equal(rec.status, q.status, `${what}: stored status`);
      assert.equal(rec.body, q.answer, `${what}: stored answer differs from the one sent`);
    } else if (q.refused) {
      figures.refused++;
      assert.equal(n, 0, `${what}: present ${n} times`);
    } else {
      figures.unacked++;
      assert.ok(n <= 1, `${what}: present ${n} times`);
      if (n === 1) figures.unackedPresent++;
      const rec = idem.get(q.key);
      // the write and its idempotency record commit together
      if (q.kind !== 'redeem') assert.equal(Boolean(rec && rec.status < 300), n === 1, `${what}: present ${n} times, idempotency record ${JSON.stringify(rec)}`);
    }
  }
  figures.counts = counts;
  figures.idem = idem;
  return figures;
}

// After a restart: send every unacknowledged request again with its key. One
// whose idempotency record is in the database (its write committed, or its
// refusal) must be a replay (Idempotent-Replayed) of exactly the stored
// answer; one without must run now. Also replays a sample of acknowledged
// requests: byte for byte the first answer. before: checkDatabase's result on
// the database as the kill left it.
export async function retryUnacked(d, token, w, before, { sample = 20 } = {}) {
  const out = { retried: 0, replayed: 0, ranNow: 0, refusedNow: 0, ackedReplays: 0 };
  for (const q of w.unacked()) {
    const r = await send(d, q.method, q.path, { token, body: q.bodyText, key: q.key });
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
      if (r.status < 300) out.ranNow++; else out.refusedNow++;
    }
    q.retried = true;
    w.settle(q, r);
  }
  const acked = w.requests.filter((q) => q.acked && !q.retried);
  for (let i = 0; i < sample && acked.length; i++) {
    const q = acked[w.int(acked.length)];
    const r = await send(d, q.method, q.path, { token, body: q.bodyText, key: q.key });
    assert.equal(r.status, q.status, `replay of ${q.kind} ${q.key}: ${r.text}`);
    assert.equal(r.replayed, true, `replay of ${q.kind} ${q.key}`);
    assert.equal(r.text, q.answer, `replay of ${q.kind} ${q.key}: not byte for byte the first answer`);
    out.ackedReplays++;
  }
  return out;
}
