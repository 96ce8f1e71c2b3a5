// The shipped systemd unit: `systemd-analyze security --offline=true` rates its
// exposure OK or better. Offline mode reads the unit file alone, without a
// running systemd (CI machines have none). systemd-analyze comes with Debian's
// systemd package, which contrib/install-deps.sh installs for the tests; when it
// is missing this test fails rather than skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

const UNIT = path.join(ROOT, 'contrib/scrmd.service');
const LEVELS = ['SAFE', 'OK', 'MEDIUM', 'EXPOSED', 'UNSAFE'];

test('systemd-analyze security --offline=true contrib/scrmd.service: overall exposure OK or better', (t) => {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], {
    encoding: 'utf8', timeout: 60000, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
  });
  assert.ok(!r.error, `systemd-analyze could not run (${r.error?.code}); install the systemd package (contrib/install-deps.sh test)`);
  assert.equal(r.status, 0, `systemd-analyze failed:\n${r.stderr}\n${r.stdout}`);
  const m = r.stdout.match(/Overall exposure level for scrmd\.service: (\d+(?:\.\d+)?) ([A-Z]+)/);
  assert.ok(m, `no overall exposure level in:\n${r.stdout.slice(-2000)}`);
  t.diagnostic(`exposure ${m[1]} ${m[2]}`);
  assert.ok(LEVELS.includes(m[2]), `unknown level ${m[2]}`);
  assert.ok(LEVELS.indexOf(m[2]) <= LEVELS.indexOf('OK'), `exposure ${m[1]} ${m[2]}, worse than OK:\n${r.stdout}`);
  assert.ok(!/Unknown key|Failed to parse|Invalid/i.test(r.stderr), `systemd-analyze complains about the unit:\n${r.stderr}`);
});

test('the hardened unit still lets the daemon work: its state directory, network sockets, its binary', () => {
  const unit = fs.readFileSync(UNIT, 'utf8');
  const get = (k) => [...unit.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1]);
  assert.deepEqual(get('StateDirectory'), ['scrmd']);
  assert.deepEqual(get('WorkingDirectory'), ['/var/lib/scrmd']);
  assert.match(get('ExecStart')[0], /^\/usr\/local\/bin\/scrmd serve /);
  const families = get('RestrictAddressFamilies').join(' ').split(/\s+/);
  for (const f of ['AF_INET', 'AF_INET6']) assert.ok(families.includes(f), `${f} not allowed`);
  assert.deepEqual(get('PrivateNetwork').filter((v) => v !== 'no'), [], 'the daemon needs the network');
  assert.deepEqual(get('IPAddressDeny'), [], 'the daemon reaches WeCom and webhooks anywhere');
  // writes only to its state directory: no other writable path
  assert.deepEqual(get('ProtectSystem'), ['strict']);
  assert.deepEqual(get('ReadWritePaths'), []);
  assert.deepEqual(get('SystemCallFilter')[0], '@system-service');
});
