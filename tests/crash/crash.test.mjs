// Crash safety: CRASH_CLIENTS (8) client loops write customers, orders,
// bindings, point grants and deductions, wallet top-ups and spends, reward
// redemptions, check-ins, order imports (files of 5 to 20 orders, CSV or
// NDJSON) and merges of two customers, each with a unique Idempotency-Key,
// while the daemon is killed with SIGKILL at a random moment and restarted on
// the same database, CRASH_CYCLES (5) times. After each kill, on the database
// file as the kill left it: integrity_check and foreign_key_check pass, every
// acknowledged write is there exactly once with its idempotency record
// holding the very answer the client got, every unacknowledged one at most
// once (together with its idempotency record; an import's orders all or none,
// its record written after them), refused ones never, ledgers equal balances,
// stock plus redemptions equal the initial stock. Every order, point and
// wallet row and redemption is on the customer its request named, or the one
// that customer was merged into; a merged-away customer has no row left and
// its merge record names the kept one. The check-in rows (one per customer
// and business day) and their ledger rows are exactly those of the check-ins
// that landed, with streaks and points that follow the schedule. After the
// restart every unacknowledged request is sent again with its key: a
// committed one is replayed, byte for byte, the others run now (an import
// whose orders the kill left finds them unchanged); then every write is there
// exactly once.
//
// A SOP welcomes each new customer through a webhook channel to a local
// receiver; the daemon dies while deliveries are being sent. At the end every
// customer has exactly one SOP run and one delivery row, counted per person
// (a customer merged away before their welcome went out has it run for the
// one kept, or skipped with no delivery), the receiver got every delivery id
// at least once, an id arrived again only if it was not yet marked delivered
// when the daemon died (at most one per sender thread per kill), and never
// after the daemon had recorded it as delivered.
//
// One online backup (POST /admin/backup) is started in each cycle: a file
// under its final name must be whole (integrity_check) even when the kill
// came in the middle of it, and an acknowledged one must be there.
//
// CRASH_SEED replays a run's choices (the kill moments still vary with timing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Daemon, assertNoSanitizerReport, sleep, listAll, sqlite } from '../api/lib.mjs';
import { startReceiver } from '../api/receiver.mjs';
import { CONFIG, Workload, checkDatabase, retryUnacked, send, sqliteJson } from './workload.mjs';

const CYCLES = Number(process.env.CRASH_CYCLES || 5);
const CLIENTS = Number(process.env.CRASH_CLIENTS || 8);
const SEED = Number(process.env.CRASH_SEED || Math.floor(Math.random() * 1e9));
const SENDERS = 4; // [notify] senders, the default

test(`crash safety: ${CYCLES} cycles of kill -9 under write load (${CLIENTS} clients, seed ${SEED})`, async (t) => {
  t.diagnostic(`seed ${SEED} (replay with CRASH_SEED=${SEED})`);
  const rx = await startReceiver();
  t.after(() => rx.close());
  rx.setDefault({ status: 200, delayMs: 15 }); // deliveries take a moment: some are in flight at each kill
  const d = new Daemon();
  t.after(async () => {
    if (d.proc && d.proc.exitCode === null) await d.stop();
    d.cleanup();
  });
  await d.start({ config: CONFIG });
  const admin = await d.adminToken();
  const op = await d.token('operator', 'crash-operator');
  const w = new Workload({ seed: SEED });
  await w.setup(d, { admin, op, rxUrl: rx.url });
  const hook = (r) => r.path === '/crash-hook' && r.status === 200;

  const backupDir = path.join(d.dir, 'backups');
  const checkedBackups = new Set();
  const backups = { acked: 0 };
  // per kill: mark, the number of requests the receiver had taken in once
  // everything the dead daemon had sent was in; delivered, the delivery ids
  // marked delivered in the file the kill left
  const kills = [];
  const totals = { acked: 0, unacked: 0, unackedPresent: 0, refused: 0, replayed: 0, ranNow: 0, ackedReplays: 0, importsRedone: 0 };
  const cycleMs = [];
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const t0 = Date.now();
    w.cycle = cycle;
    const first = w.requests.length;
    const load = w.run(d, op, CLIENTS);
    // an online backup at a random moment too: the kill may land in it
    const backup = sleep(w.int(1000)).then(() => send(d, 'POST', '/api/v1/admin/backup', { token: admin }));
    await sleep(200 + w.int(1300));
    d.proc.kill('SIGKILL');
    const { signal } = await d.exited;
    assert.equal(signal, 'SIGKILL');
    await load.stop();
    assertNoSanitizerReport(d.stderr);
    // a backup file under its final name is whole, even when the kill came
    // in the middle of writing one; an acknowledged one is there
    const b = await backup;
    if (b.status !== null) {
      assert.equal(b.status, 201, b.text);
      assert.ok(fs.existsSync(b.json.path), `backup ${b.json.path} was acknowledged, yet it is not there`);
      backups.acked++;
    }
    for (const f of fs.existsSync(backupDir) ? fs.readdirSync(backupDir) : []) {
      if (!f.endsWith('.db') || checkedBackups.has(f)) continue;
      assert.equal(sqlite(path.join(backupDir, f), 'PRAGMA integrity_check;'), 'ok', `backup ${f}`);
      checkedBackups.add(f);
    }
    const where = `cycle ${cycle} (seed ${SEED}), after kill -9`;
    const mine = w.requests.slice(first);
    const f = checkDatabase(d.db, w, where);
    for (const q of w.unacked()) q.committedAtKill = (f.counts.get(q.key) || 0) > 0;
    const delivered = new Set(sqliteJson(d.db, `SELECT id FROM deliveries WHERE channel_id = ${w.channel.id} AND status = 'delivered'`).map((r) => r.id));
    await sleep(100); // what the dead daemon had sent reaches the receiver; nothing more can
    kills.push({ mark: rx.requests.length, delivered });
    const thisCycle = { sent: mine.length, acked: mine.filter((q) => q.acked).length, unacked: mine.filter((q) => !q.acked && !q.refused).length };
    assert.ok(thisCycle.acked > 0, `${where}: no write was acknowledged before the kill`);
    totals.acked += thisCycle.acked;
    totals.unacked += thisCycle.unacked;
    totals.unackedPresent += f.unackedPresent;

    await d.start({ config: CONFIG });
    const r = await retryUnacked(d, op, w, f);
    totals.replayed += r.replayed;
    totals.ranNow += r.ranNow;
    totals.ackedReplays += r.ackedReplays;
    totals.importsRedone += r.importsRedone;
    assert.equal(w.unacked().length, 0, 'every request has its definitive answer');
    const after = checkDatabase(d.db, w, `cycle ${cycle} (seed ${SEED}), after the retries`);
    assert.equal(after.unacked, 0);
    cycleMs.push(Date.now() - t0);
    t.diagnostic(`cycle ${cycle}: ${thisCycle.sent} sent, ${thisCycle.acked} acknowledged, ${thisCycle.unacked} unacknowledged at the kill (${f.unackedPresent} of them with their write committed); retries: ${r.replayed} replayed (a committed write or refusal), ${r.ranNow} ran now, ${r.refusedNow} refused now; ${delivered.size} deliveries delivered; ${Date.now() - t0} ms`);
  }
  totals.refused = w.requests.filter((q) => q.refused).length;

  // the SOP: every customer welcomed once. A run is planned from the
  // customer.created entry of the timeline, and a merge moves the timeline
  // to the kept customer: one merged away before their run was planned has it
  // planned for the kept one, one merged away after that but before it fired
  // has it skipped. So per person (a kept customer and those merged into
  // them) as many runs as customers; every run done (or skipped, when its
  // customer is merged away) and a delivery row for each done one.
  const customers = w.requests.filter((q) => q.kind === 'customer' && q.acked).map((q) => q.json.id);
  const live = new Set(sqliteJson(d.db, `SELECT id FROM customers WHERE name LIKE '${w.prefix}-%'`).map((r) => r.id));
  const mergedInto = new Map(sqliteJson(d.db, 'SELECT from_id, into_id FROM customer_merges').map((r) => [r.from_id, r.into_id]));
  for (const id of customers) assert.ok(live.has(id) !== mergedInto.has(id), `customer ${id}: there ${live.has(id)}, merged away ${mergedInto.has(id)}`);
  assert.equal(live.size + mergedInto.size, customers.length, 'no other customer is there or merged away');
  const person = (id) => mergedInto.get(id) ?? id;
  const deadline = Date.now() + 60000;
  let runs, rows;
  for (;;) {
    runs = sqliteJson(d.db, `SELECT customer_id, status, count(*) AS n FROM sop_runs WHERE sop_id = ${w.sop.id} GROUP BY customer_id, status`);
    rows = sqliteJson(d.db, `SELECT id, customer_id, status FROM deliveries WHERE channel_id = ${w.channel.id}`);
    const done = runs.filter((x) => x.status === 'done').reduce((a, x) => a + x.n, 0);
    const settled = runs.every((x) => x.status !== 'scheduled') && rows.every((x) => x.status === 'delivered') && rows.length >= done;
    if (settled) break;
    assert.ok(Date.now() < deadline, `SOP runs and deliveries settle: ${JSON.stringify(runs.filter((x) => x.status !== 'done')).slice(0, 500)}; ${rows.filter((x) => x.status !== 'delivered').length} of ${rows.length} deliveries not delivered`);
    await sleep(100);
  }
  const count = (m, k, n = 1) => m.set(k, (m.get(k) || 0) + n);
  const want = new Map();
  for (const id of customers) count(want, person(id));
  const got = new Map();
  const doneOf = new Map();
  for (const x of runs) {
    count(got, person(x.customer_id), x.n);
    if (x.status === 'done') count(doneOf, x.customer_id, x.n);
  }
  for (const [p, n] of want) assert.equal(got.get(p), n, `customer ${p} and those merged into them: ${got.get(p) || 0} SOP runs for ${n} customers`);
  assert.equal(got.size, want.size, 'no SOP run for anyone else');
  assert.deepEqual(runs.filter((x) => x.status !== 'done' && !(x.status === 'skipped' && mergedInto.has(x.customer_id))), [], 'every SOP run is done (or skipped: its customer was merged away first)');
  const skipped = runs.filter((x) => x.status === 'skipped').reduce((a, x) => a + x.n, 0);
  const adopted = [...live].reduce((a, id) => a + Math.max(0, (doneOf.get(id) || 0) - 1), 0);
  const rowsOf = new Map();
  for (const x of rows) rowsOf.set(x.customer_id, [...(rowsOf.get(x.customer_id) || []), x.id]);
  for (const id of new Set([...doneOf.keys(), ...rowsOf.keys()])) assert.equal((rowsOf.get(id) || []).length, doneOf.get(id) || 0, `customer ${id}: ${doneOf.get(id) || 0} SOP runs done, delivery rows ${JSON.stringify(rowsOf.get(id))}`);
  assert.equal(rows.length, customers.length - skipped, 'no delivery row for anyone else');
  await sleep(300);
  const seen = new Map(); // delivery id -> the positions in rx.requests of its receipts
  rx.requests.forEach((h, i) => {
    if (!hook(h)) return;
    const id = Number(h.headers['x-scrm-delivery']);
    seen.set(id, [...(seen.get(id) || []), i]);
  });
  for (const x of rows) assert.ok(seen.has(x.id), `delivery ${x.id} (customer ${x.customer_id}) never reached the receiver`);
  assert.equal(seen.size, rows.length, 'the receiver got ids of no other delivery');
  let twice = 0;
  for (const [id, ats] of seen) {
    if (ats.length === 1) continue;
    twice += ats.length - 1;
    for (const k of kills) {
      if (k.delivered.has(id)) {
        assert.ok(ats.every((a) => a < k.mark), `delivery ${id} was recorded as delivered before kill ${kills.indexOf(k) + 1}, yet arrived again after it`);
      }
    }
  }
  // a delivery that arrived in the cycle a kill ended and again after that
  // kill was being sent at that kill: at most one per sender thread
  for (const [i, k] of kills.entries()) {
    const from = i ? kills[i - 1].mark : 0;
    const straddle = [...seen].filter(([, ats]) => ats.some((a) => a >= from && a < k.mark) && ats.some((a) => a >= k.mark)).map(([id]) => id);
    assert.ok(straddle.length <= SENDERS, `kill ${i + 1}: ${straddle.length} deliveries arrived before and again after it (${straddle.map((id) => `${id} at ${seen.get(id)}`).join('; ')}; kills at ${kills.map((x) => x.mark)}); at most one per sender thread (${SENDERS}) may`);
  }
  // the API agrees with the file
  const delivered = (await listAll(d, `/api/v1/deliveries?channel_id=${w.channel.id}&status=delivered`, { token: admin })).items;
  assert.equal(delivered.length, rows.length);
  const health = await send(d, 'GET', '/healthz', { token: admin });
  assert.equal(health.status, 200);
  await d.stop();
  const partial = fs.readdirSync(backupDir).filter((f) => f.includes('.partial')).length;
  const avg = Math.round(cycleMs.reduce((a, b) => a + b, 0) / cycleMs.length);
  const kinds = {};
  for (const q of w.requests) kinds[q.kind] = (kinds[q.kind] || 0) + (q.acked ? 1 : 0);
  t.diagnostic(`acknowledged by kind: ${JSON.stringify(kinds)}`);
  for (const k of ['checkin', 'import', 'merge']) assert.ok(kinds[k] > 0, `no ${k} was acknowledged`);
  const cut = {};
  for (const q of w.requests.filter((x) => x.retried)) {
    const c = cut[q.kind] || (cut[q.kind] = { cut: 0, committed: 0 });
    c.cut++;
    if (q.committedAtKill) c.committed++;
  }
  t.diagnostic(`unacknowledged at a kill by kind (and how many of them had committed): ${Object.entries(cut).map(([k, c]) => `${k} ${c.cut} (${c.committed})`).join(', ')}`);
  t.diagnostic(`${CYCLES} cycles survived; ${w.requests.length} requests: ${totals.acked} acknowledged, ${totals.unacked} unacknowledged at a kill (${totals.unackedPresent} of them with their write committed; on retry ${totals.replayed} replayed a committed write or refusal, ${totals.ranNow} ran then, ${totals.importsRedone} of them imports whose orders were in without their answer), ${totals.refused} refused; ${totals.ackedReplays} acknowledged ones replayed byte for byte; ${customers.length} customers (${mergedInto.size} of them merged away: ${adopted} welcomed as the one kept, ${skipped} not welcomed) welcomed by ${rows.length} deliveries, ${twice} received twice; ${backups.acked} backups acknowledged, ${checkedBackups.size} backup files whole, ${partial} half-written ones left under a .partial-* name by a kill; ${avg} ms per cycle`);
});
