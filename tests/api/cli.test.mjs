// The command line: --help, --version, unknown commands, demo-data usage, config
// file errors, migrate, and user/token/backup run beside a live daemon on the
// same database.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileDaemon, cli, sqlite, assertError, auditAll } from './lib.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scrmd-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
// Every await before the first test(): the runner ends the file (and runs its
// after hooks) once the tests registered so far are done.
const d = await fileDaemon();
const adminTok = await d.adminToken();

test('--help and --version exit 0', () => {
  for (const args of [['--help'], ['-h'], ['help'], ['serve', '--help'], ['user', 'add', '--help']]) {
    const r = cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^usage: scrmd/m);
    for (const sub of ['migrate', 'user add', 'token create', 'backup', 'demo-data']) assert.ok(r.stdout.includes(sub), sub);
  }
  const v = cli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^scrmd \S+\n$/);
});

test('demo-data refuses bad arguments with usage before touching any database', () => {
  // (the generator itself is tested in demo_data.test.mjs)
  for (const args of [['demo-data', '--customers', 'many'], ['demo-data', '--customers', '0'],
    ['demo-data', '--seed'], ['demo-data', '--end', '2026-13-01'], ['demo-data', '--bogus']]) {
    const r = cli([...args, '--db', path.join(tmp, 'demo-never.db')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage/);
  }
  assert.ok(!fs.existsSync(path.join(tmp, 'demo-never.db')));
});

test('an unknown command or bad arguments exit 2 with usage', () => {
  for (const args of [['frobnicate'], ['serve', 'extra'], ['backup'], ['backup', 'a', 'b'], ['migrate', 'now'], ['user'], ['user', 'remove', 'x'],
    ['token'], ['token', 'create', '--name'], ['token', 'revoke', 'abc'], ['--db']]) {
    const r = cli([...args, '--db', path.join(tmp, 'unused.db')], { timeout: 10000 });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.code} ${r.stderr}`);
    assert.match(r.stderr, /usage|needs a value/, args.join(' '));
  }
  assert.ok(!fs.existsSync(path.join(tmp, 'unused.db')), 'a refused command created the database');
});

test('a config file with an unknown key fails naming the file and the line', () => {
  const cases = [
    ['[http]\nlisten = 127.0.0.1:0\nno_such_key = 1\n', 3, /unknown key 'no_such_key' in \[http\]/],
    ['; comment\n\n[nosection]\nx = 1\n', 3, /unknown section \[nosection\]/], // the header's own line
    ['[http]\nworkers = 0\n', 2, /http\.workers must be a whole number/],
    ['[store]\nsynchronous = sometimes\n', 2, /store\.synchronous must be one of/],
    ['listen = 127.0.0.1:0\n', 1, /outside of any \[section\]/],
    ['[http\n', 1, /malformed section header/],
    ['[http]\njust words\n', 2, /expected key = value/],
  ];
  for (const [i, [text, line, re]] of cases.entries()) {
    const file = path.join(tmp, `bad-${i}.ini`);
    fs.writeFileSync(file, text);
    for (const r of [
      cli(['migrate', '--config', file, '--db', path.join(tmp, 'never.db')], { timeout: 10000 }),
      cli(['serve', '--db', path.join(tmp, 'never.db')], { env: { SCRM_CONFIG: file }, timeout: 10000 }),
    ]) {
      assert.equal(r.code, 2, `${text}: ${r.code} ${r.stderr}`);
      assert.ok(r.stderr.includes(`${file}:${line}:`), `${JSON.stringify(text)}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  }
  assert.ok(!fs.existsSync(path.join(tmp, 'never.db')));
  const missing = cli(['migrate', '--config', path.join(tmp, 'nope.ini')]);
  assert.equal(missing.code, 2);
  assert.ok(missing.stderr.includes(path.join(tmp, 'nope.ini')));
});

test('migrate on a fresh database, then again, is idempotent', () => {
  const db = path.join(tmp, 'sub', 'dir', 'fresh.db');
  const r1 = cli(['migrate', '--db', db]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, /up to date \([1-9]\d* migrations? applied now\)/);
  const schema1 = sqlite(db, '.schema');
  for (const t of ['users', 'sessions', 'api_tokens', 'audit_log', 'idempotency_keys']) assert.match(schema1, new RegExp(`CREATE TABLE ${t}\\b`));
  const r2 = cli(['migrate', '--db', db]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /\(0 migrations applied now\)/);
  assert.equal(sqlite(db, '.schema'), schema1);
  assert.equal(sqlite(db, 'SELECT count(*) FROM users;'), '0', 'migrate must not create users');
});

test('flags beat the environment, which beats the config file', () => {
  const fromFlag = path.join(tmp, 'flag.db');
  const fromEnv = path.join(tmp, 'env.db');
  const fromFile = path.join(tmp, 'file.db');
  const ini = path.join(tmp, 'prec.ini');
  fs.writeFileSync(ini, `[store]\npath = ${fromFile}\n`);
  assert.equal(cli(['migrate', '--config', ini, '--db', fromFlag], { env: { SCRM_DB: fromEnv } }).code, 0);
  assert.ok(fs.existsSync(fromFlag) && !fs.existsSync(fromEnv) && !fs.existsSync(fromFile));
  assert.equal(cli(['migrate', '--config', ini], { env: { SCRM_DB: fromEnv } }).code, 0);
  assert.ok(fs.existsSync(fromEnv) && !fs.existsSync(fromFile));
  assert.equal(cli(['migrate'], { env: { SCRM_CONFIG: ini } }).code, 0);
  assert.ok(fs.existsSync(fromFile));
});

test('user add NAME --role operator (password on stdin) works against the running daemon', async () => {
  const pw = 'cli-operator-pw-1';
  const r = cli(['user', 'add', 'cliop', '--role', 'operator', '--display-name', 'CLI Operator', '--db', d.db], { input: `${pw}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created user cliop \(id \d+\)/);
  assert.ok(!r.stdout.includes(pw) && !r.stderr.includes(pw));
  const s = await d.login('cliop', pw);
  assert.equal(s.user.role, 'operator');
  assert.equal(s.user.display_name, 'CLI Operator');
  assertError(await d.req('GET', '/api/v1/users', { session: s }), 403, 'forbidden');
  const dup = cli(['user', 'add', 'cliop', '--role', 'viewer', '--db', d.db], { input: 'another-password\n' });
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /taken/);
  const badRole = cli(['user', 'add', 'x1', '--role', 'god', '--db', d.db], { input: 'another-password\n' });
  assert.equal(badRole.code, 2);
  const shortPw = cli(['user', 'add', 'x2', '--role', 'viewer', '--db', d.db], { input: 'short\n' });
  assert.equal(shortPw.code, 2);
  assert.match(shortPw.stderr, /at least 10/);
  const noPw = cli(['user', 'add', 'x3', '--role', 'viewer', '--db', d.db], { input: '' });
  assert.equal(noPw.code, 2);
  const badName = cli(['user', 'add', 'bad name', '--role', 'viewer', '--db', d.db], { input: 'long-enough-pw\n' });
  assert.equal(badName.code, 2);
  const list = cli(['user', 'list', '--db', d.db]);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /cliop\s+operator/);
  assert.ok(!/x1|x2|x3/.test(list.stdout));
  // user passwd sets a new password and ends the sessions
  const pw2 = 'cli-operator-pw-2';
  const pr = cli(['user', 'passwd', 'cliop', '--db', d.db], { input: `${pw2}\n` });
  assert.equal(pr.code, 0, pr.stderr);
  assertError(await d.req('GET', '/api/v1/me', { session: s }), 401, 'unauthorized');
  await d.login('cliop', pw2);
  // the CLI's writes are audited as "cli"
  const rows = await auditAll(d, { actor: 'cli' });
  assert.deepEqual(rows.map((x) => x.action).sort(), ['user.create', 'user.create', 'user.password_reset']);
});

test('token create --name x --role viewer prints a token that works against the running daemon', async () => {
  const r = cli(['token', 'create', '--name', 'x', '--role', 'viewer', '--db', d.db]);
  assert.equal(r.code, 0, r.stderr);
  const tok = r.stdout.trim();
  assert.match(tok, /^scrm_[A-Za-z0-9_-]{40,}$/);
  assert.match(r.stderr, /shown only this once/);
  const me = await d.req('GET', '/api/v1/me', { token: tok });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.role, 'viewer');
  assert.equal(me.json.token.name, 'x');
  assertError(await d.req('POST', '/api/v1/tokens', { token: tok, body: { name: 'y', role: 'admin' } }), 403, 'forbidden');
  const listed = await d.req('GET', `/api/v1/tokens/${me.json.token.id}`, { token: adminTok });
  assert.equal(listed.json.prefix, tok.slice(0, 12));
  assert.equal(listed.json.created_by, null);
  const list = cli(['token', 'list', '--db', d.db]);
  assert.equal(list.code, 0);
  assert.ok(list.stdout.includes(tok.slice(0, 12)));
  assert.ok(!list.stdout.includes(tok));
  assert.equal(cli(['token', 'create', '--name', 'x', '--role', 'root', '--db', d.db]).code, 2);
  assert.equal(cli(['token', 'create', '--role', 'viewer', '--db', d.db]).code, 2);
  // revoke from the command line: the daemon refuses it at once
  const rv = cli(['token', 'revoke', String(me.json.token.id), '--db', d.db]);
  assert.equal(rv.code, 0, rv.stderr);
  assertError(await d.req('GET', '/api/v1/me', { token: tok }), 401, 'unauthorized');
  const none = cli(['token', 'revoke', '999999', '--db', d.db]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no such token/);
});

test('backup OUT writes a good copy while the daemon runs; an existing file is not overwritten', async () => {
  const out = path.join(tmp, 'cli-backup.db');
  const users = (await d.req('GET', '/api/v1/users?count=true&limit=1', { token: adminTok })).json.total;
  const r = cli(['backup', out, '--db', d.db]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*cli-backup\.db \(\d+ bytes\)/);
  assert.equal(fs.readFileSync(out).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  assert.equal(sqlite(out, 'PRAGMA integrity_check;'), 'ok');
  assert.equal(Number(sqlite(out, 'SELECT count(*) FROM users;')), users);
  const size = fs.statSync(out).size;
  const again = cli(['backup', out, '--db', d.db]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists/);
  assert.equal(fs.statSync(out).size, size);
  assert.equal((await d.req('GET', '/healthz')).status, 200);
});
