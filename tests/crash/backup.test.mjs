// The backup drill: under write load (the crash tests' workload, CRASH_CLIENTS
// clients), take an online backup, once through POST /admin/backup and once
// with `scrmd backup FILE` beside the running daemon. Note which writes were
// acknowledged before the backup began; restore each backup the documented
// way (a copy under a new database path, no -wal or -shm beside it), run
// integrity_check, check the restored file as the crash tests check a killed
// one (ledgers equal balances, stock plus redemptions equal the initial
// stock, every write present at most once and with its idempotency record),
// and that every write acknowledged before the backup began is there exactly
// once; then start a daemon on it and replay some of those writes: byte for
// byte their first answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Daemon, cli, sleep, sqlite } from '../api/lib.mjs';
import { CONFIG, Workload, checkDatabase, resend, send } from './workload.mjs';

const CLIENTS = Number(process.env.CRASH_CLIENTS || 8);
const SEED = Number(process.env.CRASH_SEED || Math.floor(Math.random() * 1e9));

for (const how of ['api', 'cli']) {
  test(`backup drill (${how === 'api' ? 'POST /admin/backup' : 'scrmd backup FILE'}) under write load, restored and checked (seed ${SEED})`, async (t) => {
    const d = new Daemon();
    const restored = new Daemon();
    t.after(async () => {
      for (const x of [d, restored]) {
        if (x.proc && x.proc.exitCode === null) await x.stop();
        x.cleanup();
      }
    });
    await d.start({ config: CONFIG });
    const admin = await d.adminToken();
    const op = await d.token('operator', 'backup-operator');
    const w = new Workload({ seed: SEED, prefix: `bk${how}` });
    await w.setup(d, { admin, op });
    const load = w.run(d, op, CLIENTS);
    // some data first: a few hundred acknowledged writes
    for (const until = Date.now() + 10000; Date.now() < until && w.requests.filter((q) => q.acked).length < 300;) await sleep(50);
    // every write acknowledged before the backup begins
    const before = w.requests.filter((q) => q.acked);
    const t0 = Date.now();
    let file;
    if (how === 'api') {
      const r = await send(d, 'POST', '/api/v1/admin/backup', { token: admin });
      assert.equal(r.status, 201, r.text);
      file = r.json.path;
    } else {
      file = path.join(d.dir, 'cli-backup.db');
      const r = cli(['backup', file, '--db', d.db]);
      assert.equal(r.code, 0, r.stderr);
    }
    const ms = Date.now() - t0;
    const duringStart = w.requests.length;
    await sleep(300); // the load goes on after it
    await load.stop();
    assert.ok(w.requests.every((q) => q.acked || q.refused), 'no write failed while the backup ran');
    const during = w.requests.slice(0, duringStart).filter((q) => q.acked).length - before.length;
    const bytes = fs.statSync(file).size;

    // restore: a copy under a new path, nothing beside it
    fs.copyFileSync(file, restored.db);
    assert.ok(!fs.existsSync(`${restored.db}-wal`) && !fs.existsSync(`${restored.db}-shm`));
    assert.equal(sqlite(restored.db, 'PRAGMA integrity_check;'), 'ok');
    // the checks of a killed database, with "acknowledged" meaning: before the backup began
    const all = w.requests;
    const model = { ...w, prefix: w.prefix, requests: all.map((q) => (before.includes(q) ? q : { ...q, acked: false, refused: false, error: 'after the backup began' })) };
    const f = checkDatabase(restored.db, model, `backup (${how})`);
    assert.equal(f.acked, before.length);
    await restored.start({ config: CONFIG });
    for (const q of before.slice(-20)) {
      const r = await resend(restored, op, q);
      assert.equal(r.replayed, true, `${q.kind} ${q.key} on the restored daemon: ${r.text}`);
      assert.equal(r.text, q.answer, `${q.kind} ${q.key} on the restored daemon`);
    }
    const n = Number(sqlite(restored.db, `SELECT count(*) FROM customers WHERE name LIKE '${w.prefix}-%';`));
    const r = await send(restored, 'GET', '/api/v1/customers?count=true&limit=1', { token: op });
    assert.equal(r.json.total, n);
    t.diagnostic(`${how}: backup of ${bytes} bytes in ${ms} ms; ${before.length} writes acknowledged before it began (all restored), ${during} more acknowledged while it ran, ${f.unackedPresent} of the ${f.unacked} later ones in it`);
  });
}

// Several backups at once (two admins, a retry): each must be answered 201
// with its own file, whole and of the size the answer gives. They used to
// share one temporary file ("<name>.partial") when they fell in the same
// second: two VACUUM INTOs wrote into it at once and most answered 500 or
// 503 ("table schema_migrations already exists", "disk I/O error").
test(`concurrent backups under write load each write their own whole file (seed ${SEED})`, async (t) => {
  const d = new Daemon();
  t.after(async () => {
    if (d.proc && d.proc.exitCode === null) await d.stop();
    d.cleanup();
  });
  await d.start({ config: CONFIG });
  const admin = await d.adminToken();
  const op = await d.token('operator', 'backup-operator');
  const w = new Workload({ seed: SEED, prefix: 'bkmany' });
  await w.setup(d, { admin, op });
  const load = w.run(d, op, 4);
  for (const until = Date.now() + 10000; Date.now() < until && w.requests.filter((q) => q.acked).length < 300;) await sleep(50);
  const answers = [];
  for (let round = 0; round < 3; round++) {
    answers.push(...await Promise.all(Array.from({ length: 6 }, () => send(d, 'POST', '/api/v1/admin/backup', { token: admin }))));
  }
  await load.stop();
  for (const r of answers) assert.equal(r.status, 201, r.text);
  const files = answers.map((r) => r.json.file);
  assert.equal(new Set(files).size, files.length, `two answers name one file: ${files}`);
  for (const r of answers) {
    assert.equal(fs.statSync(r.json.path).size, r.json.bytes, `${r.json.file}: the size answered`);
    assert.equal(sqlite(r.json.path, 'PRAGMA integrity_check;'), 'ok', r.json.file);
  }
  const dir = path.dirname(answers[0].json.path);
  assert.deepEqual(fs.readdirSync(dir).sort(), [...files].sort(), 'nothing else is left in the backup directory');
  assert.equal((await send(d, 'GET', '/healthz', {})).status, 200);
});
