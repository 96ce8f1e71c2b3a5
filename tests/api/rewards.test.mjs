// The points mall, /rewards: rewards of every kind and their rules, redeeming
// them for points (the points ledger, the stock, coupons issued, lottery
// prizes, the timeline and the stage), refusals in their order (not_available,
// limit_reached, out_of_stock, insufficient_points), redemption lists, roles,
// malformed bodies, Idempotency-Key, and under concurrency: never oversold,
// never charged twice, every balance equal to its ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, auditAll, listAll, sqliteJson, unique } from './lib.mjs';

// 200 requests at once from one address, on top of the client's idle keep-alive
// connections: above the default per-address limit (256), so this daemon allows more.
const d = await fileDaemon({ config: '[http]\nper_ip_connections = 1024\n' });
const adminTok = await d.adminToken();
const opTok = await d.token('operator', 'rewards-operator');
const viewerTok = await d.token('viewer', 'rewards-viewer');
const op = { token: opTok };
const viewer = { token: viewerTok };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const REWARD_KEYS = ['active', 'coupon_template_id', 'created_at', 'ends_at', 'id', 'kind', 'name', 'per_customer_limit', 'points_cost', 'prizes', 'starts_at',
  'stock', 'updated_at'];
const RESULT_KEYS = ['coupon', 'customer_id', 'points_balance', 'points_spent', 'prize', 'redemption_id', 'reward_id'];
const REDEMPTION_KEYS = ['coupon_id', 'created_at', 'customer_id', 'id', 'points_spent', 'prize', 'reward_id', 'reward_kind', 'reward_name'];
const now = () => Math.floor(Date.now() / 1000);
const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function template(extra = {}) {
  const r = await d.req('POST', '/api/v1/coupon-templates', { ...op, body: { name: unique('tpl'), kind: 'amount_off', value: 500, valid_days: 10, ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function reward(body) {
  const r = await d.req('POST', '/api/v1/rewards', { ...op, body: { name: unique('reward'), kind: 'gift', points_cost: 100, ...body } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function customer(body = {}) {
  const r = await d.req('POST', '/api/v1/customers', { ...op, body: { name: 'Member', ...body } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
// Points through the points API (a lot in the ledger and the cached balance in
// one transaction); while a daemon lacks that route, the same two rows
// written with the sqlite3 tool in one transaction.
async function grant(customerId, points) {
  const r = await d.req('POST', `/api/v1/customers/${customerId}/points`, { ...op, body: { delta: points, reason: 'test grant' } });
  if (r.status === 200 || r.status === 201) return;
  assert.ok(r.status === 404 || r.status === 405, r.text);
  sqliteJson(d.db, `BEGIN; INSERT INTO points_ledger(customer_id, delta, reason, ref_type, remaining, created_at) VALUES (${customerId}, ${points}, 'test grant', 'manual', ${points}, ${now()});`
    + ` UPDATE customers SET points_balance = points_balance + ${points} WHERE id = ${customerId}; COMMIT;`);
}
async function member(points) {
  const c = await customer();
  if (points) await grant(c.id, points);
  return c;
}
const redeem = (rid, customerId, auth = op, headers = {}) => d.req('POST', `/api/v1/rewards/${rid}/redeem`, { ...auth, body: { customer_id: customerId }, headers });
const balance = async (id) => (await d.req('GET', `/api/v1/customers/${id}`, viewer)).json.points_balance;
const getReward = async (id) => (await d.req('GET', `/api/v1/rewards/${id}`, viewer)).json;
const timeline = async (id) => (await listAll(d, `/api/v1/customers/${id}/timeline`, viewer)).items;
const rewardCount = async () => (await d.req('GET', '/api/v1/rewards?count=true&limit=1', viewer)).json.total;
function assertLedgers() {
  const bad = sqliteJson(d.db, 'SELECT c.id, c.points_balance, coalesce(sum(l.delta), 0) AS s, coalesce(sum(l.remaining), 0) AS r, coalesce(min(l.remaining), 0) AS m'
    + ' FROM customers c LEFT JOIN points_ledger l ON l.customer_id = c.id GROUP BY c.id HAVING c.points_balance != s OR s != r OR m < 0');
  assert.deepEqual(bad, [], 'a balance differs from its ledger');
}

test('POST /rewards creates each kind: 201, Location, the full shape, defaults; GET gives the same', async () => {
  const t = await template();
  const r = await d.req('POST', '/api/v1/rewards', { ...op, body: { name: '定制帆布袋', kind: 'gift', points_cost: 800, stock: 50, per_customer_limit: 1 } });
  assert.equal(r.status, 201, r.text);
  const g = r.json;
  assert.deepEqual(Object.keys(g).sort(), REWARD_KEYS);
  assert.equal(r.headers.get('location'), `/api/v1/rewards/${g.id}`);
  assert.deepEqual([g.name, g.kind, g.points_cost, g.stock, g.per_customer_limit, g.starts_at, g.ends_at, g.coupon_template_id, g.prizes, g.active],
    ['定制帆布袋', 'gift', 800, 50, 1, null, null, null, [], true]);
  assert.match(g.created_at, RFC3339);
  assert.equal(g.updated_at, g.created_at);
  assert.deepEqual(await getReward(g.id), g);
  const c = await reward({ kind: 'coupon', coupon_template_id: t.id, points_cost: 0 });
  assert.deepEqual([c.coupon_template_id, c.stock, c.per_customer_limit, c.points_cost], [t.id, null, 0, 0]);
  const f = await reward({ kind: 'flash_sale', starts_at: '2026-01-01T10:00:00+08:00', ends_at: '2036-01-01T02:00:00Z', stock: 0, active: false });
  assert.deepEqual([f.starts_at, f.ends_at, f.stock, f.active, f.coupon_template_id], ['2026-01-01T02:00:00Z', '2036-01-01T02:00:00Z', 0, false, null]);
  const f2 = await reward({ kind: 'flash_sale', starts_at: '2026-01-01T00:00:00Z', ends_at: '2036-01-01T00:00:00Z', coupon_template_id: t.id });
  assert.equal(f2.coupon_template_id, t.id);
  const l = await reward({ kind: 'lottery', prizes: [{ name: '一等奖', weight: 1, coupon_template_id: t.id }, { name: '谢谢参与', weight: 9, coupon_template_id: null }, { name: 'again', weight: 2 }] });
  assert.deepEqual(l.prizes, [{ name: '一等奖', weight: 1, coupon_template_id: t.id }, { name: '谢谢参与', weight: 9, coupon_template_id: null },
    { name: 'again', weight: 2, coupon_template_id: null }]);
  const rows = await auditAll(d, { action: 'reward.create', target_id: String(g.id) });
  assert.deepEqual(rows.map((x) => [x.status, x.target_type, x.detail]), [[201, 'reward', { name: '定制帆布袋', kind: 'gift', points_cost: 800 }]]);
});

test('reward bodies: 400, 415, 422 naming the field (prizes by path), and nothing is created', async () => {
  const t = await template();
  const before = await rewardCount();
  for (const bad of ['{', '{"name":"x",}', '{"a":1,"a":2}']) assertError(await d.req('POST', '/api/v1/rewards', { ...op, body: bad }), 400, 'invalid_json');
  assertError(await d.req('POST', '/api/v1/rewards', op), 400, 'invalid_json');
  assertError(await d.req('POST', '/api/v1/rewards', { ...op, body: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  for (const v of ['[]', '"x"', '7', 'null']) assertError(await d.req('POST', '/api/v1/rewards', { ...op, body: v }), 422, 'validation_failed');
  const base = { name: 'x', kind: 'gift', points_cost: 10 };
  const window = { starts_at: '2026-01-01T00:00:00Z', ends_at: '2026-02-01T00:00:00Z' };
  const cases = [
    [{ name: undefined }, 'name'], [{ kind: undefined }, 'kind'], [{ points_cost: undefined }, 'points_cost'], [{ name: '' }, 'name'], [{ name: 'n'.repeat(101) }, 'name'],
    [{ name: 3 }, 'name'], [{ kind: 'raffle' }, 'kind'], [{ kind: null }, 'kind'], [{ points_cost: -1 }, 'points_cost'], [{ points_cost: '10' }, 'points_cost'],
    [{ points_cost: 1.5 }, 'points_cost'], [{ points_cost: 1000000001 }, 'points_cost'],
    [{ stock: -1 }, 'stock'], [{ stock: '5' }, 'stock'], [{ per_customer_limit: -1 }, 'per_customer_limit'], [{ per_customer_limit: null }, 'per_customer_limit'],
    [{ starts_at: 'soon' }, 'starts_at'], [{ ends_at: 1700000000 }, 'ends_at'], [{ starts_at: '2026-02-01T00:00:00Z', ends_at: '2026-01-01T00:00:00Z' }, 'ends_at'],
    [{ ...window, ends_at: window.starts_at }, 'ends_at'],
    [{ coupon_template_id: t.id }, 'coupon_template_id'], [{ coupon_template_id: 0 }, 'coupon_template_id'], [{ coupon_template_id: 'x' }, 'coupon_template_id'],
    [{ kind: 'coupon' }, 'coupon_template_id'], [{ kind: 'coupon', coupon_template_id: 999999 }, 'coupon_template_id'],
    [{ kind: 'coupon', coupon_template_id: t.id, prizes: [{ name: 'p', weight: 1 }] }, 'prizes'],
    [{ kind: 'flash_sale' }, 'starts_at'], [{ kind: 'flash_sale', starts_at: window.starts_at }, 'ends_at'],
    [{ kind: 'flash_sale', ...window, coupon_template_id: 999999 }, 'coupon_template_id'],
    [{ kind: 'lottery' }, 'prizes'], [{ kind: 'lottery', prizes: [] }, 'prizes'], [{ kind: 'lottery', prizes: {} }, 'prizes'], [{ kind: 'lottery', prizes: null }, 'prizes'],
    [{ kind: 'lottery', coupon_template_id: t.id, prizes: [{ name: 'p', weight: 1 }] }, 'coupon_template_id'],
    [{ kind: 'lottery', prizes: ['p'] }, 'prizes[0]'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: 1 }, { weight: 1 }] }, 'prizes[1].name'],
    [{ kind: 'lottery', prizes: [{ name: '', weight: 1 }] }, 'prizes[0].name'],
    [{ kind: 'lottery', prizes: [{ name: 7, weight: 1 }] }, 'prizes[0].name'],
    [{ kind: 'lottery', prizes: [{ name: 'a' }] }, 'prizes[0].weight'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: 1 }, { name: 'b', weight: 0 }] }, 'prizes[1].weight'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: -3 }] }, 'prizes[0].weight'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: 1.5 }] }, 'prizes[0].weight'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: '1' }] }, 'prizes[0].weight'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: 1000001 }] }, 'prizes[0].weight'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: 1, coupon_template_id: 999999 }] }, 'prizes[0].coupon_template_id'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: 1, coupon_template_id: 0 }] }, 'prizes[0].coupon_template_id'],
    [{ kind: 'lottery', prizes: [{ name: 'a', weight: 1, odds: 5 }] }, 'prizes[0].odds'],
    [{ kind: 'lottery', prizes: Array.from({ length: 51 }, (_, i) => ({ name: `p${i}`, weight: 1 })) }, 'prizes'],
    [{ prizes: [{ name: 'a', weight: 1 }] }, 'prizes'],
    [{ active: 'no' }, 'active'], [{ note: 'x' }, 'note'], [{ id: 1 }, 'id'], [{ updated_at: '2026-01-01T00:00:00Z' }, 'updated_at'],
  ];
  for (const [patch, field] of cases) {
    const body = { ...base, ...patch };
    for (const k of Object.keys(patch)) if (patch[k] === undefined) delete body[k];
    assertError(await d.req('POST', '/api/v1/rewards', { ...op, body }), 422, 'validation_failed', field);
  }
  assert.equal(await rewardCount(), before, 'a refused reward was stored');
  // the limits themselves are fine
  await reward({ kind: 'lottery', points_cost: 1000000000, prizes: Array.from({ length: 50 }, (_, i) => ({ name: `p${i}`, weight: 1000000 })) });
});

test('every reward route needs auth (401); a viewer reads and gets 403 on writes', async () => {
  const r = await reward({});
  const c = await member(1000);
  const routes = [['GET', '/api/v1/rewards'], ['POST', '/api/v1/rewards', { name: 'x', kind: 'gift', points_cost: 1 }], ['GET', `/api/v1/rewards/${r.id}`],
    ['PATCH', `/api/v1/rewards/${r.id}`, { name: 'y' }], ['DELETE', `/api/v1/rewards/${r.id}`], ['POST', `/api/v1/rewards/${r.id}/redeem`, { customer_id: c.id }],
    ['GET', `/api/v1/rewards/${r.id}/redemptions`], ['GET', `/api/v1/customers/${c.id}/redemptions`]];
  const count = await rewardCount();
  for (const [m, p, body] of routes) {
    assertError(await d.req(m, p, { body }), 401, 'unauthorized');
    assertError(await d.req(m, p, { body, token: 'scrm_bogus' }), 401, 'unauthorized');
    if (m === 'GET') assert.equal((await d.req(m, p, viewer)).status, 200, p);
    else assertError(await d.req(m, p, { ...viewer, body }), 403, 'forbidden');
  }
  assert.equal(await rewardCount(), count);
  assert.deepEqual(await getReward(r.id), r);
  assert.equal(await balance(c.id), 1000);
  assertError(await d.req('GET', `/api/v1/rewards/${r.id}/redeem`, viewer), 405, 'method_not_allowed');
  assertError(await d.req('PUT', `/api/v1/rewards/${r.id}`, { ...op, body: {} }), 405, 'method_not_allowed');
});

test('GET /rewards: pages in id order, filters kind and active, 422 for bad parameters; 404 for unknown ids', async () => {
  const t = await template();
  const made = [await reward({ kind: 'gift' }), await reward({ kind: 'coupon', coupon_template_id: t.id, active: false }),
    await reward({ kind: 'lottery', prizes: [{ name: 'p', weight: 1 }] }), await reward({ kind: 'gift', active: false })];
  const all = (await listAll(d, '/api/v1/rewards', viewer, { limit: 2, count: true })).items;
  assert.deepEqual(all.map((x) => x.id), all.map((x) => x.id).sort((a, b) => a - b));
  for (const m of made) assert.deepEqual(all.find((x) => x.id === m.id), m);
  for (const kind of ['gift', 'coupon', 'lottery', 'flash_sale']) {
    const got = (await listAll(d, `/api/v1/rewards?kind=${kind}`, viewer, { count: true })).items;
    assert.ok(got.every((x) => x.kind === kind));
    assert.equal(got.length, all.filter((x) => x.kind === kind).length);
  }
  const offGifts = (await listAll(d, '/api/v1/rewards?kind=gift&active=false', viewer, { limit: 1, count: true })).items;
  assert.ok(offGifts.some((x) => x.id === made[3].id) && offGifts.every((x) => x.kind === 'gift' && !x.active));
  assert.equal((await listAll(d, '/api/v1/rewards?active=true', viewer)).items.length + (await listAll(d, '/api/v1/rewards?active=0', viewer)).items.length, all.length);
  for (const [qs, field] of [['kind=raffle', 'kind'], ['active=maybe', 'active'], ['limit=0', 'limit'], ['cursor=x', 'cursor'], ['count=yes', 'count']]) {
    assertError(await d.req('GET', `/api/v1/rewards?${qs}`, viewer), 422, 'validation_failed', field);
  }
  for (const id of ['999999', '0', 'abc', '-4']) {
    assertError(await d.req('GET', `/api/v1/rewards/${id}`, viewer), 404, 'not_found');
    assertError(await d.req('PATCH', `/api/v1/rewards/${id}`, { ...op, body: { name: 'x' } }), 404, 'not_found');
    assertError(await d.req('DELETE', `/api/v1/rewards/${id}`, op), 404, 'not_found');
    assertError(await d.req('GET', `/api/v1/rewards/${id}/redemptions`, viewer), 404, 'not_found');
    assertError(await redeem(id, 1), 404, 'not_found');
  }
});

test('PATCH /rewards/{id}: a merge patch checked whole; null stock is unlimited; prizes replaced', async () => {
  const t = await template();
  const r = await reward({ stock: 5 });
  const p = await d.req('PATCH', `/api/v1/rewards/${r.id}`, { ...op, body: { name: 'Restocked', stock: 20, per_customer_limit: 2 } });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual([p.json.name, p.json.stock, p.json.per_customer_limit, p.json.points_cost, p.json.kind], ['Restocked', 20, 2, 100, 'gift']);
  assert.deepEqual(await getReward(r.id), p.json);
  assert.equal((await d.req('PATCH', `/api/v1/rewards/${r.id}`, { ...op, body: { stock: null } })).json.stock, null);
  // to a lottery: prizes must come along; back to a gift: they must go
  assertError(await d.req('PATCH', `/api/v1/rewards/${r.id}`, { ...op, body: { kind: 'lottery' } }), 422, 'validation_failed', 'prizes');
  const l = await d.req('PATCH', `/api/v1/rewards/${r.id}`, { ...op, body: { kind: 'lottery', prizes: [{ name: 'a', weight: 1, coupon_template_id: t.id }] } });
  assert.deepEqual([l.status, l.json.prizes], [200, [{ name: 'a', weight: 1, coupon_template_id: t.id }]]);
  const l2 = await d.req('PATCH', `/api/v1/rewards/${r.id}`, { ...op, body: { prizes: [{ name: 'b', weight: 3 }] } });
  assert.deepEqual(l2.json.prizes, [{ name: 'b', weight: 3, coupon_template_id: null }]);
  assertError(await d.req('PATCH', `/api/v1/rewards/${r.id}`, { ...op, body: { kind: 'gift' } }), 422, 'validation_failed', 'prizes');
  assertError(await d.req('PATCH', `/api/v1/rewards/${r.id}`, { ...op, body: { prizes: [{ name: 'b', weight: 0 }] } }), 422, 'validation_failed', 'prizes[0].weight');
  const g = await d.req('PATCH', `/api/v1/rewards/${r.id}`, { ...op, body: { kind: 'gift', prizes: [] } });
  assert.deepEqual([g.status, g.json.kind, g.json.prizes], [200, 'gift', []]);
  // flash sale times: null clears, and a flash sale cannot lose them
  const f = await reward({ kind: 'flash_sale', starts_at: '2026-01-01T00:00:00Z', ends_at: '2036-01-01T00:00:00Z' });
  assertError(await d.req('PATCH', `/api/v1/rewards/${f.id}`, { ...op, body: { ends_at: null } }), 422, 'validation_failed', 'ends_at');
  const tg = await d.req('PATCH', `/api/v1/rewards/${f.id}`, { ...op, body: { kind: 'gift', starts_at: null, ends_at: null } });
  assert.deepEqual([tg.json.starts_at, tg.json.ends_at], [null, null]);
  assertError(await d.req('PATCH', `/api/v1/rewards/${f.id}`, { ...op, body: '{"name"' }), 400, 'invalid_json');
  assertError(await d.req('PATCH', `/api/v1/rewards/${f.id}`, { ...op, body: { kind: 'coupon', coupon_template_id: 999999 } }), 422, 'validation_failed', 'coupon_template_id');
  assert.deepEqual(await getReward(f.id), tg.json, 'a refused PATCH changed the reward');
  assert.equal((await auditAll(d, { action: 'reward.update', target_id: String(r.id) })).length, 5);
});

test('DELETE /rewards/{id}: 204 when never redeemed, 409 after (its redemptions are kept)', async () => {
  const free = await reward({});
  assert.equal((await d.req('DELETE', `/api/v1/rewards/${free.id}`, op)).status, 204);
  assertError(await d.req('GET', `/api/v1/rewards/${free.id}`, viewer), 404, 'not_found');
  assertError(await d.req('DELETE', `/api/v1/rewards/${free.id}`, op), 404, 'not_found');
  const used = await reward({ points_cost: 1 });
  const c = await member(5);
  assert.equal((await redeem(used.id, c.id)).status, 201);
  const r = await d.req('DELETE', `/api/v1/rewards/${used.id}`, op);
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /PATCH \{"active": false\}/);
  assert.equal((await d.req('PATCH', `/api/v1/rewards/${used.id}`, { ...op, body: { active: false } })).json.active, false);
  assert.equal((await listAll(d, `/api/v1/rewards/${used.id}/redemptions`, viewer)).items.length, 1);
});

test('redeeming a gift: the points (oldest lots first), the stock, a redemption, the ledger row, the timeline and the stage', async () => {
  const r = await reward({ points_cost: 300, stock: 3 });
  const c = await member(1000);
  const res = await redeem(r.id, c.id);
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), RESULT_KEYS);
  assert.deepEqual({ ...res.json, redemption_id: 0 }, { redemption_id: 0, reward_id: r.id, customer_id: c.id, points_spent: 300, points_balance: 700, prize: null, coupon: null });
  assert.equal(await balance(c.id), 700);
  assert.equal((await getReward(r.id)).stock, 2);
  const [row] = sqliteJson(d.db, `SELECT delta, reason, ref_type, ref_id, note FROM points_ledger WHERE customer_id = ${c.id} AND delta < 0`);
  assert.deepEqual(row, { delta: -300, reason: 'redeem', ref_type: 'reward', ref_id: r.id, note: r.name });
  const tl = await timeline(c.id);
  const ev = tl.filter((e) => e.kind === 'reward.redeemed');
  assert.equal(ev.length, 1);
  assert.deepEqual([ev[0].ref_type, ev[0].ref_id, ev[0].data], ['reward', r.id, { redemption_id: res.json.redemption_id, reward_id: r.id, name: r.name, kind: 'gift', points: 300 }]);
  assert.equal((await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json.stage, 'interested');
  const list = (await listAll(d, `/api/v1/customers/${c.id}/redemptions`, viewer, { count: true })).items;
  assert.equal(list.length, 1);
  assert.deepEqual(Object.keys(list[0]).sort(), REDEMPTION_KEYS);
  assert.deepEqual({ ...list[0], created_at: 0 }, { id: res.json.redemption_id, reward_id: r.id, reward_name: r.name, reward_kind: 'gift', customer_id: c.id, points_spent: 300,
    prize: null, coupon_id: null, created_at: 0 });
  assert.match(list[0].created_at, RFC3339);
  const rows = await auditAll(d, { action: 'reward.redeem', target_id: String(res.json.redemption_id) });
  assert.deepEqual(rows.map((x) => [x.target_type, x.status, x.detail]), [['redemption', 201, { reward_id: r.id, customer_id: c.id, points: 300 }]]);
  // a free reward takes no points and writes no ledger row
  const free = await reward({ points_cost: 0 });
  const z = await member(0);
  const fr = await redeem(free.id, z.id);
  assert.deepEqual([fr.status, fr.json.points_spent, fr.json.points_balance], [201, 0, 0]);
  assert.deepEqual(sqliteJson(d.db, `SELECT count(*) AS n FROM points_ledger WHERE customer_id = ${z.id}`), [{ n: 0 }]);
  assertLedgers();
});

test('redeeming a coupon reward, a flash sale with a template and a lottery issues coupons (source reward / lottery)', async () => {
  const t = await template({ kind: 'percent_off', value: 12, valid_days: 5 });
  const c = await member(100000);
  const cr = await reward({ kind: 'coupon', coupon_template_id: t.id, points_cost: 200 });
  const x = await redeem(cr.id, c.id);
  assert.equal(x.status, 201, x.text);
  assert.deepEqual([x.json.coupon.template_id, x.json.coupon.source, x.json.coupon.status, x.json.coupon.kind, x.json.coupon.value, x.json.prize],
    [t.id, 'reward', 'active', 'percent_off', 12, null]);
  assert.deepEqual((await d.req('GET', `/api/v1/coupons/${x.json.coupon.code}`, viewer)).json, x.json.coupon);
  const fs = await reward({ kind: 'flash_sale', coupon_template_id: t.id, starts_at: iso(now() - 3600), ends_at: iso(now() + 3600), stock: 1 });
  const y = await redeem(fs.id, c.id);
  assert.deepEqual([y.status, y.json.coupon.source], [201, 'reward']);
  assertError(await redeem(fs.id, c.id), 422, 'out_of_stock');
  const bare = await reward({ kind: 'flash_sale', starts_at: iso(now() - 3600), ends_at: iso(now() + 3600) });
  assert.equal((await redeem(bare.id, c.id)).json.coupon, null);
  // a lottery of one coupon prize (weight 1) and one "nothing" (weight 3)
  const lot = await reward({ kind: 'lottery', points_cost: 10, prizes: [{ name: 'Coupon', weight: 1, coupon_template_id: t.id }, { name: 'Nothing', weight: 3 }] });
  const seen = { Coupon: 0, Nothing: 0 };
  for (let i = 0; i < 60; i++) {
    const r = await redeem(lot.id, c.id);
    assert.equal(r.status, 201, r.text);
    seen[r.json.prize.name]++;
    if (r.json.prize.name === 'Coupon') {
      assert.deepEqual(r.json.prize, { name: 'Coupon', coupon_template_id: t.id });
      assert.deepEqual([r.json.coupon.source, r.json.coupon.template_id], ['lottery', t.id]);
    } else {
      assert.deepEqual([r.json.prize, r.json.coupon], [{ name: 'Nothing', coupon_template_id: null }, null]);
    }
  }
  assert.equal(seen.Coupon + seen.Nothing, 60);
  assert.ok(seen.Coupon > 0 && seen.Nothing > seen.Coupon, JSON.stringify(seen));
  const mine = (await listAll(d, `/api/v1/customers/${c.id}/coupons?status=active`, viewer, { count: true })).items;
  assert.equal(mine.filter((k) => k.source === 'lottery').length, seen.Coupon);
  const reds = (await listAll(d, `/api/v1/rewards/${lot.id}/redemptions`, viewer, { limit: 7, count: true })).items;
  assert.equal(reds.length, 60);
  assert.equal(reds.filter((k) => k.prize.name === 'Coupon' && k.coupon_id).length, seen.Coupon);
  assert.ok(reds.filter((k) => k.prize.name === 'Nothing').every((k) => k.coupon_id === null));
  assert.equal(await balance(c.id), 100000 - 200 - 100 - 100 - 600);
  const ev = (await timeline(c.id)).find((e) => e.kind === 'reward.redeemed' && e.data.prize && e.data.prize.name === 'Coupon');
  assert.ok(ev.data.coupon_id > 0);
  assertLedgers();
});

test('refusals in order: not_available, limit_reached, out_of_stock, insufficient_points; 404 and 422; nothing is taken', async () => {
  const rich = await member(10000);
  const poor = await member(50);
  const snapshot = async () => [await balance(rich.id), await balance(poor.id)];
  const start = await snapshot();
  const expect = async (rid, cust, code, msg) => {
    const r = await redeem(rid, cust.id);
    assertError(r, 422, code);
    if (msg) assert.match(r.json.error.message, msg);
  };
  // not_available: switched off, not yet open, over, a template switched off; before everything else
  const off = await reward({ active: false, stock: 0, per_customer_limit: 1 });
  await expect(off.id, poor, 'not_available', /switched off/);
  const early = await reward({ kind: 'flash_sale', starts_at: iso(now() + 3600), ends_at: iso(now() + 7200), stock: 0 });
  await expect(early.id, poor, 'not_available', new RegExp(`opens at ${iso(now() + 3600).slice(0, 13)}`));
  const late = await reward({ kind: 'flash_sale', starts_at: iso(now() - 7200), ends_at: iso(now() - 3600) });
  await expect(late.id, rich, 'not_available', /ended at/);
  const t = await template();
  const viaTemplate = await reward({ kind: 'coupon', coupon_template_id: t.id, points_cost: 1000000 });
  const viaPrize = await reward({ kind: 'lottery', points_cost: 1, prizes: [{ name: 'x', weight: 1, coupon_template_id: t.id }, { name: 'y', weight: 1 }] });
  assert.equal((await d.req('PATCH', `/api/v1/coupon-templates/${t.id}`, { ...op, body: { active: false } })).status, 200);
  await expect(viaTemplate.id, poor, 'not_available', /switched off/);
  await expect(viaPrize.id, rich, 'not_available', /switched off/);
  // limit_reached before out_of_stock and points
  const limited = await reward({ points_cost: 100, stock: 1, per_customer_limit: 1 });
  assert.equal((await redeem(limited.id, rich.id)).status, 201);
  await expect(limited.id, rich, 'limit_reached', /1 time/);
  // out_of_stock before points
  await expect(limited.id, poor, 'out_of_stock');
  const zero = await reward({ stock: 0 });
  await expect(zero.id, rich, 'out_of_stock');
  // insufficient_points names what it takes
  const dear = await reward({ points_cost: 51 });
  await expect(dear.id, poor, 'insufficient_points', /needs 51 points; the customer has 50/);
  assert.equal((await redeem(dear.id, (await member(51)).id)).status, 201);
  // a limit of 2 lets two through
  const two = await reward({ points_cost: 1, per_customer_limit: 2 });
  for (let i = 0; i < 2; i++) assert.equal((await redeem(two.id, poor.id)).status, 201);
  await expect(two.id, poor, 'limit_reached');
  assert.deepEqual(await snapshot(), [start[0] - 100, start[1] - 2]);
  assert.equal((await getReward(limited.id)).stock, 0);
  assert.equal((await getReward(zero.id)).stock, 0);
  // 404: no such customer (erased, merged, never made); no such reward
  const gone = await member(100);
  assert.equal((await d.req('DELETE', `/api/v1/customers/${gone.id}`, op)).status, 204);
  for (const id of [999999, gone.id]) assertError(await redeem(two.id, id), 404, 'not_found', 'customer_id');
  assertError(await redeem(999999, rich.id), 404, 'not_found');
  // 422 and 400 for the body
  for (const [body, field] of [[{}, 'customer_id'], [{ customer_id: 0 }, 'customer_id'], [{ customer_id: '1' }, 'customer_id'], [{ customer_id: null }, 'customer_id'],
    [{ customer_id: rich.id, points: 5 }, 'points']]) {
    assertError(await d.req('POST', `/api/v1/rewards/${two.id}/redeem`, { ...op, body }), 422, 'validation_failed', field);
  }
  assertError(await d.req('POST', `/api/v1/rewards/${two.id}/redeem`, { ...op, body: '{"customer_id":' }), 400, 'invalid_json');
  assertError(await d.req('POST', `/api/v1/rewards/${two.id}/redeem`, op), 400, 'invalid_json');
  assert.deepEqual(await snapshot(), [start[0] - 100, start[1] - 2]);
  assert.equal((await listAll(d, `/api/v1/customers/${rich.id}/redemptions`, viewer)).items.length, 1);
  assert.equal((await auditAll(d, { action: 'reward.redeem' })).filter((x) => x.detail.customer_id === rich.id).length, 1);
  assertLedgers();
});

test('Idempotency-Key on create: the first answer again, one reward; 409 for another body', async () => {
  const key = unique('idem-create');
  const body = { name: unique('idem'), kind: 'gift', points_cost: 5, stock: 3 };
  const before = await rewardCount();
  const a = await d.req('POST', '/api/v1/rewards', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.equal(a.status, 201, a.text);
  const b = await d.req('POST', '/api/v1/rewards', { ...op, body, headers: { 'Idempotency-Key': key } });
  assert.deepEqual([b.status, b.text, b.headers.get('idempotent-replayed'), b.headers.get('location')], [201, a.text, 'true', `/api/v1/rewards/${a.json.id}`]);
  assertError(await d.req('POST', '/api/v1/rewards', { ...op, body: { ...body, stock: 4 }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assert.equal(await rewardCount(), before + 1);
});

test('Idempotency-Key on redeem: a replay answers the first answer (refusals too) and never charges twice; 409 for another body', async () => {
  const r = await reward({ points_cost: 100, stock: 10 });
  const c = await member(250);
  const key = unique('idem-redeem');
  const a = await redeem(r.id, c.id, op, { 'Idempotency-Key': key });
  assert.equal(a.status, 201);
  for (let i = 0; i < 3; i++) {
    const b = await redeem(r.id, c.id, op, { 'Idempotency-Key': key });
    assert.deepEqual([b.status, b.text, b.headers.get('idempotent-replayed')], [201, a.text, 'true']);
  }
  assert.equal(await balance(c.id), 150);
  assert.equal((await getReward(r.id)).stock, 9);
  const other = await member(500);
  assertError(await redeem(r.id, other.id, op, { 'Idempotency-Key': key }), 409, 'idempotency_mismatch');
  assertError(await d.req('POST', `/api/v1/rewards/${r.id + 1}/redeem`, { ...op, body: { customer_id: c.id }, headers: { 'Idempotency-Key': key } }), 409, 'idempotency_mismatch');
  assert.equal(await balance(other.id), 500);
  // 20 at once with one key: one charge
  const k2 = unique('idem-burst');
  const burst = await Promise.all(Array.from({ length: 20 }, () => redeem(r.id, other.id, op, { 'Idempotency-Key': k2 })));
  assert.ok(burst.every((x) => x.status === 201 && x.text === burst[0].text), burst.map((x) => x.status).join(','));
  assert.equal(burst.filter((x) => x.headers.get('idempotent-replayed') !== 'true').length, 1);
  assert.equal(await balance(other.id), 400);
  // a refusal is kept under its key as well: after a top-up the replay still refuses
  await redeem(r.id, c.id);
  const k3 = unique('idem-poor');
  const p1 = await redeem(r.id, c.id, op, { 'Idempotency-Key': k3 });
  assertError(p1, 422, 'insufficient_points');
  await grant(c.id, 1000);
  const p2 = await redeem(r.id, c.id, op, { 'Idempotency-Key': k3 });
  assert.deepEqual([p2.status, p2.text], [422, p1.text]);
  assert.equal(await balance(c.id), 1050);
  assert.equal((await redeem(r.id, c.id, op, { 'Idempotency-Key': unique('fresh') })).status, 201);
  assert.equal((await listAll(d, `/api/v1/rewards/${r.id}/redemptions`, viewer)).items.length, 4);
  assertLedgers();
});

test('200 redeems at once of a stock of 10: exactly 10 succeed, the rest are out_of_stock; customers short of points get insufficient_points', async () => {
  const N = 200;
  const people = await Promise.all(Array.from({ length: N }, () => member(1000)));
  const r = await reward({ points_cost: 300, stock: 10 });
  const answers = await Promise.all(people.map((c) => redeem(r.id, c.id)));
  const won = answers.filter((x) => x.status === 201);
  assert.equal(won.length, 10, answers.filter((x) => x.status !== 201 && x.status !== 422).map((x) => x.text).join('\n'));
  for (const x of answers.filter((y) => y.status !== 201)) assertError(x, 422, 'out_of_stock');
  assert.equal((await getReward(r.id)).stock, 0);
  const winners = new Set(won.map((x) => x.json.customer_id));
  assert.equal(winners.size, 10);
  for (const x of won) assert.equal(x.json.points_balance, 700);
  const bal = sqliteJson(d.db, `SELECT points_balance AS b, count(*) AS n FROM customers WHERE id IN (${people.map((c) => c.id).join(',')}) GROUP BY points_balance ORDER BY b`);
  assert.deepEqual(bal, [{ b: 700, n: 10 }, { b: 1000, n: N - 10 }]);
  const reds = (await listAll(d, `/api/v1/rewards/${r.id}/redemptions`, viewer, { limit: 3, count: true })).items;
  assert.deepEqual(reds.map((x) => x.customer_id).sort((a, b) => a - b), [...winners].sort((a, b) => a - b));

  // the same crowd at a reward none can afford: all insufficient_points, the stock untouched
  const dear = await reward({ points_cost: 5000, stock: 10 });
  const poor = await Promise.all(people.map((c) => redeem(dear.id, c.id)));
  for (const x of poor) assertError(x, 422, 'insufficient_points');
  assert.equal((await getReward(dear.id)).stock, 10);

  // a mixed crowd: only those with the points can win, never more than the stock
  const mixed = await reward({ points_cost: 900, stock: 10 });
  const mixedAnswers = await Promise.all(people.map((c) => redeem(mixed.id, c.id)));
  const mixedWon = mixedAnswers.filter((x) => x.status === 201);
  assert.equal(mixedWon.length, 10);
  assert.ok(mixedWon.every((x) => !winners.has(x.json.customer_id)), 'a customer with 700 points got a reward of 900');
  for (const x of mixedAnswers.filter((y) => y.status !== 201)) {
    assert.equal(x.status, 422, x.text);
    assert.ok(['out_of_stock', 'insufficient_points'].includes(x.json.error.code), x.text);
  }
  assert.equal((await getReward(mixed.id)).stock, 0);
  assert.equal(sqliteJson(d.db, `SELECT count(*) AS n FROM redemptions WHERE reward_id IN (${r.id}, ${dear.id}, ${mixed.id})`)[0].n, 20);
  assertLedgers();
});

test('redemption lists: newest first, pages, 404 for unknown owners, 422 for bad parameters', async () => {
  const r = await reward({ points_cost: 1 });
  const r2 = await reward({ points_cost: 1 });
  const a = await member(100), b = await member(100);
  const ids = [];
  for (const [rid, c] of [[r.id, a], [r.id, b], [r2.id, a], [r.id, a], [r2.id, b]]) ids.push((await redeem(rid, c.id)).json.redemption_id);
  const byReward = (await listAll(d, `/api/v1/rewards/${r.id}/redemptions`, viewer, { limit: 2, count: true })).items;
  assert.deepEqual(byReward.map((x) => x.id), [ids[3], ids[1], ids[0]]);
  const byCustomer = (await listAll(d, `/api/v1/customers/${a.id}/redemptions`, viewer, { limit: 1, count: true })).items;
  assert.deepEqual(byCustomer.map((x) => [x.id, x.reward_id, x.reward_name]), [[ids[3], r.id, r.name], [ids[2], r2.id, r2.name], [ids[0], r.id, r.name]]);
  assertError(await d.req('GET', '/api/v1/customers/999999/redemptions', viewer), 404, 'not_found');
  for (const [qs, field] of [['limit=0', 'limit'], ['limit=x', 'limit'], ['cursor=%%%', 'cursor']]) {
    assertError(await d.req('GET', `/api/v1/rewards/${r.id}/redemptions?${qs}`, viewer), 422, 'validation_failed', field);
    assertError(await d.req('GET', `/api/v1/customers/${a.id}/redemptions?${qs}`, viewer), 422, 'validation_failed', field);
  }
  // merged profiles bring their redemptions along
  assert.equal((await d.req('POST', '/api/v1/customers/merge', { ...op, body: { into: a.id, from: b.id } })).status, 200);
  assert.equal((await listAll(d, `/api/v1/customers/${a.id}/redemptions`, viewer)).items.length, 5);
  assertError(await d.req('GET', `/api/v1/customers/${b.id}/redemptions`, viewer), 404, 'not_found');
  assertLedgers();
});
