// Growth: acquisition channels with their figures and the live code (a real
// HTTP client following nothing: the 302 and the scan count), community groups
// with members, their timeline events and activity that moves customers to
// the observing stage, and rules and SOPs that read groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, assertSecurityHeaders, listAll, sleep, unique } from './lib.mjs';

const d = await fileDaemon({ config: '[sop]\ntick_ms = 100\n' });
const op = { token: await d.token('operator', 'growth-operator') };
const viewer = { token: await d.token('viewer', 'growth-viewer') };

function ok(r, status = 200) {
  assert.equal(r.status, status, r.text);
  return r.json;
}
const req = (m, p, body, who = op) => d.req(m, p, { ...who, body });

test('channels: create, figures (customers, add rate, cost per customer), update, delete; validation', async () => {
  const ch = ok(await req('POST', '/api/v1/channels', { name: unique('包裹卡'), kind: 'package_card', units: 1000, cost_cents: 50000, contact_url: 'https://work.weixin.qq.com/ca/cawcde1234' }), 201);
  assert.match(ch.code, /^[0-9a-f]{12}$/, 'a contact link gets a code');
  assert.equal(ch.live_path, `/c/${ch.code}`);
  assert.deepEqual([ch.customers, ch.scans, ch.scanners, ch.add_rate, ch.cost_per_customer_cents], [0, 0, 0, 0, null]);
  for (let i = 0; i < 4; i++) ok(await req('POST', '/api/v1/customers', { name: `card${i}`, source_channel_id: ch.id }), 201);
  const got = ok(await req('GET', `/api/v1/channels/${ch.id}`, undefined, viewer));
  assert.equal(got.customers, 4);
  assert.equal(got.add_rate, 0.004);
  assert.equal(got.cost_per_customer_cents, 12500);
  assert.ok((await listAll(d, '/api/v1/channels', viewer)).items.some((x) => x.id === ch.id));
  const sms = ok(await req('POST', '/api/v1/channels', { name: unique('短信'), kind: 'sms', units: 0 }), 201);
  assert.equal(sms.code, null);
  assert.equal(sms.add_rate, null, 'no units: no rate');
  const p = ok(await req('PATCH', `/api/v1/channels/${sms.id}`, { units: 200, code: unique('sms').replace(/[^A-Za-z0-9_-]/g, '') }));
  assert.equal(p.units, 200);
  assertError(await req('PATCH', `/api/v1/channels/${sms.id}`, { code: ch.code }), 409, 'conflict', 'code');
  for (const [body, field] of [[{ kind: 'sms' }, 'name'], [{ name: 'x' }, 'kind'], [{ name: 'x', kind: 'tv' }, 'kind'], [{ name: 'x', kind: 'sms', units: -1 }, 'units'],
    [{ name: 'x', kind: 'sms', code: 'a b' }, 'code'], [{ name: 'x', kind: 'sms', code: 'ab' }, 'code'], [{ name: 'x', kind: 'sms', contact_url: 'weixin://x' }, 'contact_url'], [{ name: 'x', kind: 'sms', what: 1 }, 'what']]) {
    assertError(await req('POST', '/api/v1/channels', body), 422, 'validation_failed', field);
  }
  assertError(await req('POST', '/api/v1/channels', { name: 'x', kind: 'sms' }, viewer), 403, 'forbidden');
  assertError(await req('DELETE', `/api/v1/channels/${ch.id}`), 409, 'conflict');
  assert.equal((await req('DELETE', `/api/v1/channels/${sms.id}`)).status, 204);
  assertError(await req('GET', `/api/v1/channels/${sms.id}`), 404, 'not_found');
});

test('the live code: a scan is counted and the scanner sent to the contact link; unknown codes are 404', async () => {
  const url = 'https://work.weixin.qq.com/ca/cawcde5678';
  const ch = ok(await req('POST', '/api/v1/channels', { name: unique('活码'), kind: 'qr', contact_url: url, code: unique('qr').replace(/[^A-Za-z0-9_-]/g, '') }), 201);
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${d.base}/c/${ch.code}`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), url);
    assertSecurityHeaders(r.headers, { where: '/c/{code}' });
  }
  const got = ok(await req('GET', `/api/v1/channels/${ch.id}`));
  assert.equal(got.scans, 3);
  assert.equal(got.scanners, 1, 'one address, one scanner');
  assert.equal((await fetch(`${d.base}/c/no-such-code`, { redirect: 'manual' })).status, 404);
  assert.equal((await fetch(`${d.base}/c/%00`, { redirect: 'manual' })).status, 404);
  const bare = ok(await req('POST', '/api/v1/channels', { name: unique('无链接'), kind: 'other', code: unique('bare').replace(/[^A-Za-z0-9_-]/g, '') }), 201);
  assert.equal((await fetch(`${d.base}/c/${bare.code}`, { redirect: 'manual' })).status, 404, 'no contact link: nowhere to send');
});

test('groups: members with timeline events, activity that moves customers to observing, repeats once, non-members refused', async () => {
  const g = ok(await req('POST', '/api/v1/groups', { name: unique('福利群'), kind: 'high_value' }), 201);
  assert.deepEqual([g.kind, g.members, g.owner_user_id], ['high_value', 0, null]);
  const a = ok(await req('POST', '/api/v1/customers', { name: '群友A' }), 201);
  const b = ok(await req('POST', '/api/v1/customers', { name: '群友B' }), 201);
  const out = ok(await req('POST', '/api/v1/customers', { name: '群外' }), 201);
  assert.deepEqual(ok(await req('POST', `/api/v1/groups/${g.id}/members`, { customer_ids: [a.id, b.id] })), { added: 2, already: 0 });
  assert.deepEqual(ok(await req('POST', `/api/v1/groups/${g.id}/members`, { customer_ids: [a.id] })), { added: 0, already: 1 });
  assertError(await req('POST', `/api/v1/groups/${g.id}/members`, { customer_ids: [a.id, 99999999] }), 422, 'validation_failed', 'customer_ids[1]');
  const members = (await listAll(d, `/api/v1/groups/${g.id}/members`, viewer, { count: true }));
  assert.deepEqual(members.items.map((x) => x.id), [a.id, b.id]);
  assert.equal(members.total, 2);
  assert.ok(members.items[0].joined_at);
  const tl = ok(await req('GET', `/api/v1/customers/${a.id}/timeline`)).data;
  const joined = tl.find((e) => e.kind === 'group.joined');
  assert.deepEqual([joined.ref_type, joined.ref_id, joined.data.name], ['group', g.id, g.name]);
  // activity: the first moves A to observing; a repeat is recorded once
  const at = new Date(Date.now() - 60000).toISOString().replace(/\.\d+Z$/, 'Z');
  assert.equal(ok(await req('GET', `/api/v1/customers/${a.id}`)).stage, 'added');
  assert.deepEqual(ok(await req('POST', `/api/v1/groups/${g.id}/activity`, { items: [{ customer_id: a.id, at }, { customer_id: a.id, at }] })), { recorded: 1, repeats: 1 });
  assert.equal(ok(await req('GET', `/api/v1/customers/${a.id}`)).stage, 'observing');
  assert.equal(ok(await req('GET', `/api/v1/customers/${b.id}`)).stage, 'added');
  // a non-member in the batch: nothing recorded at all
  assertError(await req('POST', `/api/v1/groups/${g.id}/activity`, { items: [{ customer_id: b.id }, { customer_id: out.id }] }), 422, 'validation_failed', 'items[1].customer_id');
  assert.equal(ok(await req('GET', `/api/v1/customers/${b.id}`)).stage, 'added', 'rolled back');
  for (const [body, field] of [[{ items: [] }, 'items'], [{ items: [{ customer_id: a.id, kind: 'lurked' }] }, 'items[0].kind'],
    [{ items: [{ customer_id: a.id, at: '2999-01-01T00:00:00Z' }] }, 'items[0].at'], [{ items: [{ at }] }, 'items[0].customer_id']]) {
    assertError(await req('POST', `/api/v1/groups/${g.id}/activity`, body), 422, 'validation_failed', field);
  }
  // a further stage is never taken back
  ok(await req('PATCH', `/api/v1/customers/${b.id}`, { stage: 'converted' }));
  ok(await req('POST', `/api/v1/groups/${g.id}/activity`, { items: [{ customer_id: b.id, kind: 'took_part' }] }));
  assert.equal(ok(await req('GET', `/api/v1/customers/${b.id}`)).stage, 'converted');
  // rules read membership
  const pv = ok(await req('POST', '/api/v1/audiences/preview', { rule: { field: 'group_id', op: 'has', value: g.id } }));
  assert.equal(pv.count, 2);
  // leaving
  assert.equal((await req('DELETE', `/api/v1/groups/${g.id}/members/${b.id}`)).status, 204);
  assertError(await req('DELETE', `/api/v1/groups/${g.id}/members/${b.id}`), 404, 'not_found');
  assert.ok(ok(await req('GET', `/api/v1/customers/${b.id}/timeline`)).data.some((e) => e.kind === 'group.left'));
  assert.equal(ok(await req('GET', `/api/v1/groups/${g.id}`)).members, 1);
  // validation, roles, delete
  for (const [body, field] of [[{}, 'name'], [{ name: 'x', kind: 'vip' }, 'kind'], [{ name: 'x', owner_user_id: 99999 }, 'owner_user_id']]) {
    assertError(await req('POST', '/api/v1/groups', body), 422, 'validation_failed', field);
  }
  assertError(await req('POST', `/api/v1/groups/${g.id}/members`, { customer_ids: [a.id] }, viewer), 403, 'forbidden');
  assert.equal((await req('DELETE', `/api/v1/groups/${g.id}`)).status, 204);
  assertError(await req('GET', `/api/v1/groups/${g.id}/members`), 404, 'not_found');
});

test('a SOP waits for one group: new members of that group are welcomed', async () => {
  const g = ok(await req('POST', '/api/v1/groups', { name: unique('新人群') }), 201);
  const other = ok(await req('POST', '/api/v1/groups', { name: unique('别的群') }), 201);
  const tag = ok(await req('POST', '/api/v1/tags', { name: unique('进群') }), 201);
  const s = ok(await req('POST', '/api/v1/sops', { name: unique('进群欢迎'), trigger: { type: 'event', event: 'group.joined', name: g.name }, actions: [{ type: 'add_tag', tag: tag.id }] }), 201);
  const c = ok(await req('POST', '/api/v1/customers', { name: '进群的人' }), 201);
  const c2 = ok(await req('POST', '/api/v1/customers', { name: '别的群的人' }), 201);
  ok(await req('POST', `/api/v1/groups/${other.id}/members`, { customer_ids: [c2.id] }));
  ok(await req('POST', `/api/v1/groups/${g.id}/members`, { customer_ids: [c.id] }));
  const deadline = Date.now() + 10000;
  let runs;
  do { runs = ok(await req('GET', `/api/v1/sops/${s.id}/runs`)).data; await sleep(50); } while (!runs.some((r) => r.status === 'done') && Date.now() < deadline);
  assert.deepEqual(runs.map((r) => [r.customer_id, r.status]), [[c.id, 'done']]);
  assert.ok(ok(await req('GET', `/api/v1/customers/${c.id}`)).tags.some((x) => x.id === tag.id));
});
