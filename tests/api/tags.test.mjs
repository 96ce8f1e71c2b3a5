// /api/v1/tags and the tags of customers: manual tags (auto tags, whose rules
// are tested in audiences.test.mjs, cannot be set by hand), tagging by id or by name, customer_count kept exact
// through every path, lists, validation, Idempotency-Key and audit rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, auditAll, sqlite, sqliteJson, listAll, unique } from './lib.mjs';

const d = await fileDaemon();
const opTok = await d.token('operator', 'tags-operator');
const viewerTok = await d.token('viewer', 'tags-viewer');
const op = { token: opTok };
const viewer = { token: viewerTok };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const TAG_KEYS = ['color', 'created_at', 'customer_count', 'group', 'id', 'kind', 'name', 'rule', 'updated_at'];

async function createTag(body) {
  const r = await d.req('POST', '/api/v1/tags', { ...op, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function getTag(id) {
  const r = await d.req('GET', `/api/v1/tags/${id}`, viewer);
  assert.equal(r.status, 200, r.text);
  return r.json;
}
async function customer(body = {}) {
  const r = await d.req('POST', '/api/v1/customers', { ...op, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function tagCustomer(id, body, expect = 200) {
  const r = await d.req('POST', `/api/v1/customers/${id}/tags`, { ...op, body });
  assert.equal(r.status, expect, r.text);
  return r.json;
}
async function tagCount() {
  return (await d.req('GET', '/api/v1/tags?count=true&limit=1', viewer)).json.total;
}
// customer_count of every tag equals its customer_tags rows
function assertCountsExact() {
  const bad = sqliteJson(d.db, 'SELECT t.id, t.customer_count, (SELECT count(*) FROM customer_tags ct WHERE ct.tag_id = t.id) AS n FROM tags t WHERE t.customer_count <> n');
  assert.deepEqual(bad, [], 'customer_count differs from the customer_tags rows');
}
// An auto tag: customers with two orders or more.
async function autoTag(name) {
  const r = await d.req('POST', '/api/v1/tags', { ...op, body: { name, kind: 'auto', rule: { field: 'order_count', op: '>=', value: 2 } } });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

test('POST /tags creates a manual tag: 201, Location, the shape; GET gives the same', async () => {
  const name = unique('高价值');
  const r = await d.req('POST', '/api/v1/tags', { ...op, body: { name, group: '价值分层', color: '#3370ff' } });
  assert.equal(r.status, 201, r.text);
  const t = r.json;
  assert.deepEqual(Object.keys(t).sort(), TAG_KEYS);
  assert.equal(r.headers.get('location'), `/api/v1/tags/${t.id}`);
  assert.deepEqual([t.name, t.group, t.color, t.kind, t.rule, t.customer_count], [name, '价值分层', '#3370ff', 'manual', null, 0]);
  assert.match(t.created_at, RFC3339);
  assert.equal(t.created_at, t.updated_at);
  assert.deepEqual(await getTag(t.id), t);
  const plain = await createTag({ name: unique('plain'), kind: 'manual', group: null, color: null, rule: null });
  assert.deepEqual([plain.group, plain.color, plain.kind], [null, null, 'manual']);
  // 50 characters of Chinese are a name of 50 characters
  assert.equal((await createTag({ name: '标'.repeat(48) + String(Date.now() % 100).padStart(2, '0') })).name.length, 50);
});

test('POST /tags: names are unique (409 with the id), a rule only with kind auto and an auto tag only with a rule, every field is checked', async () => {
  const name = unique('dup');
  const t = await createTag({ name });
  const before = await tagCount();
  const r = await d.req('POST', '/api/v1/tags', { ...op, body: { name } });
  assertError(r, 409, 'conflict', 'name');
  assert.equal(r.json.error.id, t.id);
  const cases = [
    [{}, 'name'], [{ name: '' }, 'name'], [{ name: null }, 'name'], [{ name: 5 }, 'name'], [{ name: 'x'.repeat(51) }, 'name'],
    [{ name: '标'.repeat(51) }, 'name'], [{ name: 'new\nline' }, 'name'], [{ name: 'nul\u0000' }, 'name'],
    [{ name: 'ok', group: 'g'.repeat(51) }, 'group'], [{ name: 'ok', group: 7 }, 'group'], [{ name: 'ok', group: 'a\tb' }, 'group'],
    [{ name: 'ok', color: 'blue' }, 'color'], [{ name: 'ok', color: '#12345' }, 'color'], [{ name: 'ok', color: '#12345g' }, 'color'],
    [{ name: 'ok', color: '3370ff0' }, 'color'], [{ name: 'ok', color: 3370 }, 'color'],
    [{ name: 'ok', kind: 'auto' }, 'rule'], [{ name: 'ok', kind: 'auto', rule: null }, 'rule'], [{ name: 'ok', kind: 'auto', rule: 'x' }, 'rule'],
    [{ name: 'ok', kind: 'auto', rule: {} }, 'rule.field'], [{ name: 'ok', kind: 'auto', rule: { field: 'order_count', op: '>=', value: 'two' } }, 'rule.value'],
    [{ name: 'ok', kind: 'smart' }, 'kind'], [{ name: 'ok', kind: null }, 'kind'],
    [{ name: 'ok', rule: { field: 'order_count', op: '>=', value: 2 } }, 'rule'], [{ name: 'ok', rule: 'x' }, 'rule'],
    [{ name: 'ok', customer_count: 5 }, 'customer_count'], [{ name: 'ok', id: 1 }, 'id'], [{ name: 'ok', tag_group: 'x' }, 'tag_group'],
  ];
  for (const [body, field] of cases) assertError(await d.req('POST', '/api/v1/tags', { ...op, body }), 422, 'validation_failed', field);
  for (const bad of ['{', '{"name":}', '{"name":"a","name":"b"}']) assertError(await d.req('POST', '/api/v1/tags', { ...op, body: bad }), 400, 'invalid_json');
  for (const v of ['[]', '"tag"', '1']) assertError(await d.req('POST', '/api/v1/tags', { ...op, body: v }), 422, 'validation_failed');
  assertError(await d.req('POST', '/api/v1/tags', { ...op, body: { name: 'x'.repeat(1100000) } }), 413, 'payload_too_large');
  assertError(await d.req('POST', '/api/v1/tags', { ...op, body: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  assert.equal(await tagCount(), before);
});

test('tag routes need auth (401); a viewer reads but gets 403 on writes', async () => {
  const t = await createTag({ name: unique('auth') });
  const c = await customer({ name: 'Tag auth' });
  const routes = [['GET', '/api/v1/tags'], ['GET', `/api/v1/tags/${t.id}`], ['POST', '/api/v1/tags', { name: 'x' }],
    ['PATCH', `/api/v1/tags/${t.id}`, { name: 'y' }], ['DELETE', `/api/v1/tags/${t.id}`],
    ['POST', `/api/v1/customers/${c.id}/tags`, { tag_ids: [t.id] }], ['DELETE', `/api/v1/customers/${c.id}/tags/${t.id}`]];
  for (const [m, p, body] of routes) {
    assertError(await d.req(m, p, { body }), 401, 'unauthorized');
    if (m === 'GET') assert.equal((await d.req(m, p, viewer)).status, 200);
    else assertError(await d.req(m, p, { ...viewer, body }), 403, 'forbidden');
  }
  assert.deepEqual(await getTag(t.id), t);
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json.tags, []);
});

test('PATCH and DELETE /tags/{id}: merge patch, 409 on a taken name, 404 for unknown ids', async () => {
  const t = await createTag({ name: unique('patch'), group: 'g1', color: '#000000' });
  const other = await createTag({ name: unique('taken') });
  const p1 = await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { color: '#FFFFFF' } });
  assert.equal(p1.status, 200, p1.text);
  assert.deepEqual([p1.json.name, p1.json.group, p1.json.color], [t.name, 'g1', '#FFFFFF']);
  // sending the kind and rule it already has back is fine (a client that PATCHes what it read)
  const same = await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { kind: 'manual', rule: null, color: '#FFFFFF' } });
  assert.equal(same.status, 200, same.text);
  const newName = unique('renamed');
  const p2 = await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { name: newName, group: null } });
  assert.deepEqual([p2.json.name, p2.json.group], [newName, null]);
  assert.deepEqual(await getTag(t.id), p2.json);
  assertError(await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { name: other.name } }), 409, 'conflict', 'name');
  for (const [body, field] of [[{ name: '' }, 'name'], [{ name: null }, 'name'], [{ color: 'red' }, 'color'], [{ kind: 'auto' }, 'kind'], [{ rule: {} }, 'rule.field'],
    [{ rule: { field: 'order_count', op: '>=', value: 1 } }, 'rule'], [{ bogus: 1 }, 'bogus']]) {
    assertError(await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body }), 422, 'validation_failed', field);
  }
  assert.deepEqual(await getTag(t.id), p2.json);
  for (const id of ['999999', '0', 'abc', '-2']) {
    assertError(await d.req('GET', `/api/v1/tags/${id}`, viewer), 404, 'not_found');
    assertError(await d.req('PATCH', `/api/v1/tags/${id}`, { ...op, body: { color: '#111111' } }), 404, 'not_found');
    assertError(await d.req('DELETE', `/api/v1/tags/${id}`, op), 404, 'not_found');
  }
  // a renamed tag shows its new name on its customers; filtering by the new name finds them
  const c = await customer({ name: 'Renamed tag holder' });
  await tagCustomer(c.id, { tag_ids: [t.id] });
  const renamed = unique('renamed-again');
  await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { name: renamed } });
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json.tags, [{ id: t.id, name: renamed }]);
  assert.deepEqual((await d.req('GET', `/api/v1/customers?tag=${encodeURIComponent(renamed)}`, viewer)).json.data.map((x) => x.id), [c.id]);
  // DELETE: 204, gone from its customers, 404 after
  const del = await d.req('DELETE', `/api/v1/tags/${t.id}`, op);
  assert.equal(del.status, 204, del.text);
  assertError(await d.req('GET', `/api/v1/tags/${t.id}`, viewer), 404, 'not_found');
  assertError(await d.req('DELETE', `/api/v1/tags/${t.id}`, op), 404, 'not_found');
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json.tags, []);
  assert.equal(sqlite(d.db, `SELECT count(*) FROM customer_tags WHERE tag_id = ${t.id};`), '0');
  // the name is free again
  assert.equal((await createTag({ name: renamed })).customer_count, 0);
});

test('POST /customers/{id}/tags: by id or by name (new names become manual tags), idempotent per tag, atomic on refusal', async () => {
  const t1 = await createTag({ name: unique('t1') });
  const t2 = await createTag({ name: unique('t2') });
  const c = await customer({ name: 'Tag holder' });
  const r1 = await tagCustomer(c.id, { tag_ids: [t1.id, t2.id, t1.id] });
  assert.equal(r1.id, c.id);
  assert.deepEqual(r1.tags.map((t) => t.id).sort(), [t1.id, t2.id].sort());
  assert.equal((await getTag(t1.id)).customer_count, 1);
  // by name: an existing one and a new one
  const fresh = unique('新标签');
  const before = await tagCount();
  const r2 = await tagCustomer(c.id, { names: [t1.name, fresh] });
  assert.equal(await tagCount(), before + 1);
  const created = r2.tags.find((t) => t.name === fresh);
  assert.ok(created, JSON.stringify(r2.tags));
  const ct = await getTag(created.id);
  assert.deepEqual([ct.kind, ct.customer_count, ct.group, ct.color], ['manual', 1, null, null]);
  assert.deepEqual(r2.tags.map((t) => t.name), [...r2.tags.map((t) => t.name)].sort(), 'tags are listed by name');
  assert.equal((await getTag(t1.id)).customer_count, 1, 'tagging twice counted twice');
  // the timeline has one tag.added per tag actually added
  const tl = (await listAll(d, `/api/v1/customers/${c.id}/timeline`, viewer)).items.filter((e) => e.kind === 'tag.added');
  assert.deepEqual(tl.map((e) => e.ref_id).sort(), [t1.id, t2.id, created.id].sort());
  assert.ok(tl.every((e) => e.ref_type === 'tag' && typeof e.data.name === 'string'));
  // refusals: nothing is applied, not even the good entries before the bad one
  const t3 = await createTag({ name: unique('t3') });
  const c2 = await customer({ name: 'Refused' });
  const cases = [
    [{ tag_ids: [t3.id, 999999] }, 422, 'tag_ids[1]'], [{ tag_ids: [t3.id, 0] }, 422, 'tag_ids[1]'], [{ tag_ids: ['x'] }, 422, 'tag_ids[0]'],
    [{ tag_ids: [t3.id, 1.5] }, 422, 'tag_ids[1]'], [{ tag_ids: [] }, 422, 'tag_ids'], [{ names: [] }, 422, 'names'],
    [{ names: ['ok-name', ''] }, 422, 'names[1]'], [{ names: ['ok', 5] }, 422, 'names[1]'], [{ names: ['x'.repeat(51)] }, 422, 'names[0]'],
    [{ names: ['bad\u0000'] }, 422, 'names[0]'], [{ names: ['line\nbreak'] }, 422, 'names[0]'],
    [{ tag_ids: [t3.id], names: ['x'] }, 422, undefined], [{}, 422, undefined], [{ tag_ids: 5 }, 422, 'tag_ids'], [{ names: 'x' }, 422, 'names'],
    [{ tag_ids: Array.from({ length: 101 }, () => t3.id) }, 422, 'tag_ids'], [{ tag: [1] }, 422, 'tag'],
  ];
  const tagsBefore = await tagCount();
  for (const [body, status, field] of cases) assertError(await d.req('POST', `/api/v1/customers/${c2.id}/tags`, { ...op, body }), status, 'validation_failed', field);
  assert.equal(await tagCount(), tagsBefore);
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${c2.id}`, viewer)).json.tags, []);
  assert.equal((await getTag(t3.id)).customer_count, 0);
  // a new name before a bad id is not created either (one transaction)
  const ghost = unique('ghost');
  assertError(await d.req('POST', `/api/v1/customers/${c2.id}/tags`, { ...op, body: { names: [ghost, 'x'.repeat(60)] } }), 422, 'validation_failed', 'names[1]');
  assert.equal((await d.req('GET', `/api/v1/tags?q=${ghost}&count=true`, viewer)).json.total, 0);
  // 100 entries are allowed
  assert.equal((await tagCustomer(c2.id, { tag_ids: Array.from({ length: 100 }, () => t3.id) })).tags.length, 1);
  assertCountsExact();
});

test('auto tags cannot be put on or taken off by hand (422); they can be read', async () => {
  const name = unique('auto');
  const id = await autoTag(name);
  const t = await getTag(id);
  assert.deepEqual([t.kind, t.rule], ['auto', { field: 'order_count', op: '>=', value: 2 }]);
  assertError(await d.req('PATCH', `/api/v1/tags/${id}`, { ...op, body: { rule: null } }), 422, 'validation_failed', 'rule');
  assertError(await d.req('PATCH', `/api/v1/tags/${id}`, { ...op, body: { kind: 'manual' } }), 422, 'validation_failed', 'kind');
  const c = await customer({ name: 'Auto target' });
  assertError(await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: { tag_ids: [id] } }), 422, 'validation_failed', 'tag_ids[0]');
  assertError(await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: { names: [unique('fine'), name] } }), 422, 'validation_failed', 'names[1]');
  assertError(await d.req('DELETE', `/api/v1/customers/${c.id}/tags/${id}`, op), 422, 'validation_failed');
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json.tags, []);
  assert.equal((await getTag(id)).customer_count, 0);
  // the list filters by kind
  const autos = (await listAll(d, '/api/v1/tags?kind=auto', viewer, { count: true })).items;
  assert.ok(autos.some((x) => x.id === id));
  assert.ok(autos.every((x) => x.kind === 'auto'));
  assert.ok(!(await listAll(d, '/api/v1/tags?kind=manual', viewer)).items.some((x) => x.id === id));
  assertError(await d.req('GET', '/api/v1/tags?kind=smart', viewer), 422, 'validation_failed', 'kind');
});

test('DELETE /customers/{id}/tags/{tag_id}: 204, tag.removed on the timeline, counts follow; 404s', async () => {
  const t = await createTag({ name: unique('untag') });
  const c = await customer({ name: 'Untag me' });
  const c2 = await customer({ name: 'Keep mine' });
  await tagCustomer(c.id, { tag_ids: [t.id] });
  await tagCustomer(c2.id, { tag_ids: [t.id] });
  assert.equal((await getTag(t.id)).customer_count, 2);
  const r = await d.req('DELETE', `/api/v1/customers/${c.id}/tags/${t.id}`, op);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assert.equal((await getTag(t.id)).customer_count, 1);
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json.tags, []);
  const tl = (await listAll(d, `/api/v1/customers/${c.id}/timeline`, viewer)).items;
  assert.deepEqual([tl[0].kind, tl[0].ref_type, tl[0].ref_id, tl[0].data], ['tag.removed', 'tag', t.id, { name: t.name }]);
  // again: nothing to take off, still 204, no second event, the count stays
  assert.equal((await d.req('DELETE', `/api/v1/customers/${c.id}/tags/${t.id}`, op)).status, 204);
  assert.equal((await listAll(d, `/api/v1/customers/${c.id}/timeline`, viewer)).items.length, tl.length);
  assert.equal((await getTag(t.id)).customer_count, 1);
  assertError(await d.req('DELETE', `/api/v1/customers/${c.id}/tags/999999`, op), 404, 'not_found');
  assertError(await d.req('DELETE', `/api/v1/customers/999999/tags/${t.id}`, op), 404, 'not_found');
  assertError(await d.req('DELETE', `/api/v1/customers/${c.id}/tags/abc`, op), 404, 'not_found');
  assertError(await d.req('POST', `/api/v1/customers/999999/tags`, { ...op, body: { tag_ids: [t.id] } }), 404, 'not_found');
  assertError(await d.req('POST', `/api/v1/customers/999999/tags`, { ...op, body: { names: [unique('never')] } }), 404, 'not_found');
  assertCountsExact();
});

test('customer_count stays exact through tagging, erasure, merges and tag deletion', async () => {
  const ta = await createTag({ name: unique('cnt-a') });
  const tb = await createTag({ name: unique('cnt-b') });
  const cs = [];
  for (let i = 0; i < 6; i++) cs.push(await customer({ name: `Counted ${i}` }));
  for (const c of cs) await tagCustomer(c.id, { tag_ids: [ta.id] });
  for (const c of cs.slice(0, 3)) await tagCustomer(c.id, { tag_ids: [tb.id] });
  assert.deepEqual([(await getTag(ta.id)).customer_count, (await getTag(tb.id)).customer_count], [6, 3]);
  // erasure takes the customer's tags away
  assert.equal((await d.req('DELETE', `/api/v1/customers/${cs[0].id}`, op)).status, 204);
  assert.deepEqual([(await getTag(ta.id)).customer_count, (await getTag(tb.id)).customer_count], [5, 2]);
  // a merge of two holders of a tag leaves one
  assert.equal((await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: cs[1].id, from: cs[2].id } })).status, 200);
  assert.deepEqual([(await getTag(ta.id)).customer_count, (await getTag(tb.id)).customer_count], [4, 1]);
  // a merge of a holder into a non-holder moves the tag
  assert.equal((await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: cs[5].id, from: cs[1].id } })).status, 200);
  assert.deepEqual([(await getTag(ta.id)).customer_count, (await getTag(tb.id)).customer_count], [3, 1]);
  assert.deepEqual((await d.req('GET', `/api/v1/customers/${cs[5].id}`, viewer)).json.tags.map((t) => t.id).sort(), [ta.id, tb.id].sort());
  // the filter lists exactly the holders
  const holders = (await listAll(d, `/api/v1/customers?tag=${ta.id}`, viewer, { count: true, limit: 2 })).items.map((c) => c.id);
  assert.deepEqual(holders, [cs[5].id, cs[4].id, cs[3].id]);
  assertCountsExact();
  // deleting a tag takes it off everyone
  assert.equal((await d.req('DELETE', `/api/v1/tags/${ta.id}`, op)).status, 204);
  for (const c of [cs[3], cs[4], cs[5]]) assert.ok(!(await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json.tags.some((t) => t.id === ta.id));
  assertCountsExact();
});

test('GET /tags: every tag once in id order through pages; filters group, kind and name prefix', async () => {
  const group = unique('grp');
  const made = [];
  for (let i = 0; i < 7; i++) made.push(await createTag({ name: `${group}-渠道-${i}`, group }));
  const all = await listAll(d, '/api/v1/tags', viewer, { count: true });
  assert.equal(all.total, Number(sqlite(d.db, 'SELECT count(*) FROM tags;')));
  const allIds = all.items.map((t) => t.id);
  assert.deepEqual(allIds, [...allIds].sort((x, y) => x - y));
  all.items.forEach((t) => assert.deepEqual(Object.keys(t).sort(), TAG_KEYS));
  for (const limit of [1, 4, 9]) assert.deepEqual((await listAll(d, '/api/v1/tags', viewer, { count: true, limit })).items.map((t) => t.id), allIds);
  const byGroup = await listAll(d, `/api/v1/tags?group=${group}`, viewer, { count: true, limit: 3 });
  assert.deepEqual(byGroup.items.map((t) => t.id), made.map((t) => t.id));
  const byPrefix = await listAll(d, `/api/v1/tags?q=${encodeURIComponent(`${group}-渠道-`)}`, viewer, { count: true });
  assert.equal(byPrefix.total, 7);
  assert.equal((await listAll(d, `/api/v1/tags?q=${encodeURIComponent(`${group}-渠道-3`)}`, viewer, { count: true })).total, 1);
  assert.equal((await listAll(d, '/api/v1/tags?group=no-such-group', viewer, { count: true })).total, 0);
  for (const [q, field] of [['limit=0', 'limit'], ['limit=x', 'limit'], ['cursor=bad!', 'cursor'], ['count=maybe', 'count']]) {
    assertError(await d.req('GET', `/api/v1/tags?${q}`, viewer), 422, 'validation_failed', field);
  }
});

test('Idempotency-Key on POST /tags and POST /customers/{id}/tags', async () => {
  const key = unique('idem-tag');
  const body = { name: unique('idem') };
  const before = await tagCount();
  const r1 = await d.req('POST', '/api/v1/tags', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.equal(r1.status, 201);
  const r2 = await d.req('POST', '/api/v1/tags', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.deepEqual([r2.status, r2.text, r2.headers.get('idempotent-replayed'), r2.headers.get('location')], [201, r1.text, 'true', r1.headers.get('location')]);
  assert.equal(await tagCount(), before + 1);
  assertError(await d.req('POST', '/api/v1/tags', { ...op, body: { name: unique('idem2') }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assert.equal(await tagCount(), before + 1);
  const c = await customer({ name: 'Idem tagged' });
  const k2 = unique('idem-ctag');
  const tb = { names: [unique('idem-new')] };
  const t1 = await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: tb, headers: { 'Idempotency-Key': k2 } });
  assert.equal(t1.status, 200, t1.text);
  const t2 = await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: tb, headers: { 'Idempotency-Key': k2 } });
  assert.deepEqual([t2.status, t2.text, t2.headers.get('idempotent-replayed')], [200, t1.text, 'true']);
  assertError(await d.req('POST', `/api/v1/customers/${c.id}/tags`, { ...op, body: { names: ['other'] }, headers: { 'Idempotency-Key': k2 } }), 409, 'idempotency_mismatch');
  // the same key and body on another customer's URL is another request
  const c2 = await customer({ name: 'Idem other' });
  assertError(await d.req('POST', `/api/v1/customers/${c2.id}/tags`, { ...op, body: tb, headers: { 'Idempotency-Key': k2 } }), 409, 'idempotency_mismatch');
  assert.equal(await tagCount(), before + 2);
  assert.equal((await auditAll(d, { action: 'customer.tag', target_id: String(c.id) })).length, 1);
});

test('tag writes are audited: tag.create, tag.update, tag.delete, customer.tag, customer.untag', async () => {
  const t = await createTag({ name: unique('audited') });
  await d.req('PATCH', `/api/v1/tags/${t.id}`, { ...op, body: { color: '#abcdef' } });
  const c = await customer({ name: 'Audited holder' });
  await tagCustomer(c.id, { tag_ids: [t.id] });
  await d.req('DELETE', `/api/v1/customers/${c.id}/tags/${t.id}`, op);
  await tagCustomer(c.id, { tag_ids: [t.id] });
  assert.equal((await d.req('DELETE', `/api/v1/tags/${t.id}`, op)).status, 204);
  const tagRows = (await auditAll(d, { target_type: 'tag', target_id: String(t.id) })).reverse();
  assert.deepEqual(tagRows.map((r) => [r.action, r.status, r.detail]), [
    ['tag.create', 201, { name: t.name, kind: 'manual' }], ['tag.update', 200, { name: t.name }], ['tag.delete', 204, { name: t.name, customers: 1 }],
  ]);
  const custRows = (await auditAll(d, { target_type: 'customer', target_id: String(c.id) })).reverse();
  assert.deepEqual(custRows.map((r) => [r.action, r.status, r.detail]), [
    ['customer.create', 201, {}], ['customer.tag', 200, { added: 1 }], ['customer.untag', 204, { tag_id: t.id }], ['customer.tag', 200, { added: 1 }],
  ]);
});
