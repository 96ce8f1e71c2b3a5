// Many writes at once: idempotency under concurrency, unique names under
// concurrency, no 5xx, audit rows that match the changes exactly, and group
// commit (batches of more than one write per commit) visible in /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, auditAll, metric, sqlite, unique } from './lib.mjs';

// 280 requests at once from one address: above the default per-address
// connection limit (256), so this daemon allows more.
const d = await fileDaemon({ config: '[http]\nper_ip_connections = 1024\n' });
d.adminSession = await d.login();
const adminTok = await d.adminToken();
const adminTokId = (await d.req('GET', '/api/v1/me', { token: adminTok })).json.token.id;
const viewerTok = await d.token('viewer', 'conc-viewer');

const count = async (what) => (await d.req('GET', `/api/v1/${what}?count=true&limit=1`, { token: adminTok })).json.total;
const metricsText = async () => (await d.req('GET', '/metrics', { token: viewerTok })).text;

test('200 distinct Idempotency-Keys and 50 repeats of one key at once: 201 new tokens, no 5xx', async () => {
  const tokensBefore = await count('tokens');
  const auditBefore = (await auditAll(d, { actor: `token:${adminTokId}`, action: 'token.create' })).length;
  const m0 = await metricsText();
  const reqs = [];
  for (let i = 0; i < 200; i++) {
    reqs.push(d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: `burst-${i}`, role: 'viewer' }, headers: { 'Idempotency-Key': `burst-key-${i}` } }));
  }
  const sharedKey = unique('shared');
  const sharedBody = { name: 'shared', role: 'operator' };
  const shared = [];
  for (let i = 0; i < 50; i++) shared.push(d.req('POST', '/api/v1/tokens', { token: adminTok, body: sharedBody, headers: { 'Idempotency-Key': sharedKey } }));
  // reads in the middle of it all
  const reads = [];
  for (let i = 0; i < 30; i++) reads.push(d.req('GET', i % 2 ? '/healthz' : '/api/v1/tokens?limit=500', { token: adminTok }));
  const [distinct, repeated, readAnswers] = await Promise.all([Promise.all(reqs), Promise.all(shared), Promise.all(reads)]);

  for (const r of [...distinct, ...repeated]) assert.equal(r.status, 201, r.text);
  for (const r of readAnswers) assert.equal(r.status, 200, r.text);
  const ids = distinct.map((r) => r.json.id);
  assert.equal(new Set(ids).size, 200, 'distinct keys shared an id');
  assert.equal(new Set(distinct.map((r) => r.json.token)).size, 200);
  distinct.forEach((r, i) => assert.equal(r.json.name, `burst-${i}`));

  // one of the 50 ran; the other 49 are replays of its answer
  const firsts = repeated.filter((r) => r.headers.get('idempotent-replayed') !== 'true');
  const replays = repeated.filter((r) => r.headers.get('idempotent-replayed') === 'true');
  assert.equal(firsts.length, 1, 'more than one request with the shared key ran');
  assert.equal(replays.length, 49);
  assert.match(firsts[0].json.token, /^scrm_/);
  const sharedId = firsts[0].json.id;
  const expectReplay = firsts[0].text.replace(JSON.stringify(firsts[0].json.token), 'null');
  for (const r of replays) {
    assert.equal(r.json.id, sharedId);
    assert.equal(r.json.token, null);
    assert.equal(r.text, expectReplay);
    assert.equal(r.headers.get('location'), `/api/v1/tokens/${sharedId}`);
  }
  assert.ok(!ids.includes(sharedId));

  assert.equal(await count('tokens'), tokensBefore + 201);
  const rows = await auditAll(d, { actor: `token:${adminTokId}`, action: 'token.create' });
  assert.equal(rows.length, auditBefore + 201);
  const rowTargets = new Set(rows.map((r) => r.target_id));
  for (const id of [...ids, sharedId]) assert.ok(rowTargets.has(id), `no audit row for token ${id}`);
  assert.equal(Number(sqlite(d.db, `SELECT count(*) FROM idempotency_keys WHERE principal = 'token:${adminTokId}' AND (key LIKE 'burst-key-%' OR key = '${sharedKey}');`)), 201);
  assert.equal(Number(sqlite(d.db, "SELECT count(*) FROM api_tokens WHERE name = 'shared';")), 1);

  // a repeat now, after it all, is still the same answer
  const late = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'burst-7', role: 'viewer' }, headers: { 'Idempotency-Key': 'burst-key-7' } });
  assert.equal(late.status, 201);
  assert.equal(late.json.id, distinct[7].json.id);
  assert.equal(late.headers.get('idempotent-replayed'), 'true');

  // group commit: fewer commits than writes, and some commits held more than one
  const m1 = await metricsText();
  const commits = metric(m1, 'scrmd_db_commits_total') - metric(m0, 'scrmd_db_commits_total');
  const writes = metric(m1, 'scrmd_db_writes_total') - metric(m0, 'scrmd_db_writes_total');
  const multi = (t) => metric(t, 'scrmd_db_commit_batch_size_count') - metric(t, 'scrmd_db_commit_batch_size_bucket', { le: '1' });
  assert.ok(writes >= 201, `writes ${writes}`);
  assert.ok(commits < writes, `commits ${commits} writes ${writes}: no group commit`);
  assert.ok(multi(m1) - multi(m0) >= 1, 'no commit held more than one write');
  assert.equal(metric(m1, 'scrmd_db_failed_commits_total'), 0);
  for (const s of ['500', '503', 'other']) {
    assert.equal(metric(m1, 'scrmd_http_requests_total', { status: s }), undefined, `a ${s} answer:\n${m1}`);
  }
});

test('the same user name created 6 times at once: one 201, five 409', async () => {
  const username = unique('race');
  const before = await count('users');
  const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => d.req('POST', '/api/v1/users', {
    token: adminTok, body: { username, role: 'viewer', password: `race-password-${i}` }, headers: { 'Idempotency-Key': unique('race-key') },
  })));
  const created = rs.filter((r) => r.status === 201);
  assert.equal(created.length, 1, rs.map((r) => r.status).join(','));
  for (const r of rs.filter((x) => x.status !== 201)) assertError(r, 409, 'conflict', 'username');
  assert.equal(await count('users'), before + 1);
  const rows = await auditAll(d, { action: 'user.create', target_id: String(created[0].json.id) });
  assert.equal(rows.length, 1);
});

test('one token revoked 20 times at once: all 204, one revocation time', async () => {
  const c = await d.req('POST', '/api/v1/tokens', { token: adminTok, body: { name: 'revoke-race', role: 'viewer' } });
  const rs = await Promise.all(Array.from({ length: 20 }, () => d.req('DELETE', `/api/v1/tokens/${c.json.id}`, { token: adminTok })));
  for (const r of rs) assert.equal(r.status, 204, r.text);
  assertError(await d.req('GET', '/api/v1/me', { token: c.json.token }), 401, 'unauthorized');
  const t = await d.req('GET', `/api/v1/tokens/${c.json.id}`, { token: adminTok });
  assert.ok(t.json.revoked_at);
});

test('concurrent PATCHes of one user: every answer is a whole state, the last write wins whole', async () => {
  const u = await d.req('POST', '/api/v1/users', { token: adminTok, body: { username: unique('patchrace'), role: 'viewer', password: 'patch-race-pw1' } });
  const names = Array.from({ length: 30 }, (_, i) => `name-${i}`);
  const rs = await Promise.all(names.map((n, i) => d.req('PATCH', `/api/v1/users/${u.json.id}`, { token: adminTok, body: { display_name: n, role: i % 2 ? 'operator' : 'viewer' } })));
  for (const [i, r] of rs.entries()) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.display_name, names[i]);
    assert.equal(r.json.role, i % 2 ? 'operator' : 'viewer');
  }
  const final = await d.req('GET', `/api/v1/users/${u.json.id}`, { token: adminTok });
  const i = names.indexOf(final.json.display_name);
  assert.ok(i >= 0);
  assert.equal(final.json.role, i % 2 ? 'operator' : 'viewer', 'fields of two different writes were mixed');
  assert.equal((await auditAll(d, { action: 'user.update', target_id: String(u.json.id) })).length, 30);
});
