// Order figures under concurrency: 40 clients at once post about 600 order
// writes (new orders, re-sends, refunds, status flips, orders arriving before
// their customer exists, small imports), bindings, customer creations and
// phone changes, and tag changes for the same 20 customers. Afterwards every customer's
// order_count, total_spent_cents and first/last_order_at equal a recount of the
// orders table (paid orders only), no order is bound twice, every order whose
// buyer_phone belongs to a live customer is bound, tag counts equal their
// rows, nothing answered 5xx and the database is intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, prng, sqlite, sqliteJson, isoSeconds } from './lib.mjs';

const d = await fileDaemon();
const opTok = await d.token('operator', 'figures-operator');
const op = { token: opTok };

// A small seeded generator, so that a failure can be replayed with its seed.
const SEED = Number(process.env.SCRM_TEST_SEED || Date.now() % 1000000);
const rand = prng(SEED);
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const N = 20;
const PHONES = Array.from({ length: N }, (_, i) => `1365${String(1000000 + i * 7919).slice(-7)}`);
const PLATFORMS = ['tmall', 'jd', 'douyin'];
const TAGS = ['conc-a', 'conc-b', '并发-c'];
// 0..11 exist with their phone from the start; 12..15 are created while the
// orders arrive; 16..17 exist without a phone and get it by PATCH; 18..19 exist
// without a phone and prove it through the binding flow.
const UPFRONT = [...Array(12).keys()];
const LATE = [12, 13, 14, 15];
const PATCHED = [16, 17];
const BINDERS = [18, 19];

test(`40 clients, ~600 order writes, bindings and tag changes: the figures equal a recount (seed ${SEED})`, async (t) => {
  const ids = new Array(N).fill(null);
  for (const i of [...UPFRONT, ...PATCHED, ...BINDERS]) {
    const body = UPFRONT.includes(i) ? { name: `并发客户 ${i}`, phone: PHONES[i] } : { name: `No phone yet ${i}` };
    const r = await d.req('POST', '/api/v1/customers', { ...op, body });
    assert.equal(r.status, 201, r.text);
    ids[i] = r.json.id;
  }

  // the orders: 300 keys, each with one amount and paid_at, sent several ways
  const orders = [];
  for (let k = 0; k < 300; k++) {
    const who = int(0, N - 1);
    const o = {
      platform: pick(PLATFORMS),
      external_id: `F${SEED}-${k}`,
      amount_cents: int(1, 50000),
      paid_at: isoSeconds(Date.UTC(2026, 0, 1) / 1000 + int(0, 300 * 86400)),
      status: rand() < 0.8 ? 'paid' : pick(['refunded', 'cancelled']),
      items: [{ sku: `SKU-${int(1, 9)}`, quantity: int(1, 3), price_cents: int(100, 9000) }],
    };
    if (rand() < 0.1 && ids[who] && !BINDERS.includes(who)) o.customer_id = ids[who]; // bound by id, perhaps with nobody's phone
    else o.buyer_phone = rand() < 0.5 ? PHONES[who] : `+86 ${PHONES[who].slice(0, 3)}-${PHONES[who].slice(3, 7)}-${PHONES[who].slice(7)}`;
    orders.push({ o, who });
  }
  const ops = [];
  for (const { o } of orders) ops.push({ kind: 'new', body: o });
  for (let i = 0; i < 120; i++) ops.push({ kind: 'resend', body: pick(orders).o });
  for (let i = 0; i < 100; i++) {
    const { o } = pick(orders);
    ops.push({ kind: 'flip', body: { ...o, status: pick(['paid', 'refunded', 'cancelled']) } });
  }
  for (let i = 0; i < 80; i++) {
    const { o } = pick(orders);
    ops.push({ kind: 'refund', body: { platform: o.platform, external_id: o.external_id, status: 'refunded' } });
  }
  // bindings: the right customer with the right phone; binders proving their phone; a wrong phone
  for (let i = 0; i < 60; i++) {
    const cand = orders.filter(({ o, who }) => o.buyer_phone && (UPFRONT.includes(who) || BINDERS.includes(who)));
    const { o, who } = pick(cand);
    ops.push({ kind: 'bind', who, body: { platform: o.platform, external_id: o.external_id, phone: o.buyer_phone } });
  }
  for (let i = 0; i < 10; i++) {
    const { o } = pick(orders.filter(({ o: x }) => x.buyer_phone));
    ops.push({ kind: 'bind-wrong', who: pick(UPFRONT), body: { platform: o.platform, external_id: o.external_id, phone: '13000000000' } });
  }
  for (let i = 0; i < 50; i++) ops.push({ kind: 'tag', who: pick([...UPFRONT, ...PATCHED, ...BINDERS]), body: { names: [pick(TAGS), pick(TAGS)] } });
  for (let i = 0; i < 20; i++) ops.push({ kind: 'untag', who: pick([...UPFRONT, ...PATCHED, ...BINDERS]) });
  for (let i = 0; i < 40; i++) ops.push({ kind: 'read', who: pick(UPFRONT) });
  // imports of orders already sent or still to come, some with another status
  for (let i = 0; i < 6; i++) {
    const lines = Array.from({ length: 25 }, () => {
      const { o } = pick(orders);
      return JSON.stringify(rand() < 0.3 ? { ...o, status: pick(['paid', 'refunded', 'cancelled']) } : o);
    });
    ops.push({ kind: 'import', text: lines.join('\n') + '\n' });
  }
  // shuffle, then put the late customers and the phone changes in the middle of it all
  for (let i = ops.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [ops[i], ops[j]] = [ops[j], ops[i]];
  }
  const middle = Math.floor(ops.length / 2);
  ops.splice(middle, 0, ...LATE.map((who) => ({ kind: 'create', who })), ...PATCHED.map((who) => ({ kind: 'patch', who })));

  const tagIds = new Map();
  const results = [];
  async function run(x) {
    switch (x.kind) {
      case 'new': case 'resend': case 'flip': case 'refund':
        return d.req('POST', '/api/v1/orders', { ...op, body: x.body });
      case 'bind':
      case 'bind-wrong':
        return d.req('POST', '/api/v1/orders/bind', { ...op, body: { customer_id: ids[x.who], ...x.body } });
      case 'create': {
        const r = await d.req('POST', '/api/v1/customers', { ...op, body: { name: `Late ${x.who}`, phone: PHONES[x.who] } });
        if (r.status === 201) ids[x.who] = r.json.id;
        return r;
      }
      case 'patch':
        return d.req('PATCH', `/api/v1/customers/${ids[x.who]}`, { ...op, body: { phone: PHONES[x.who] } });
      case 'tag': {
        const r = await d.req('POST', `/api/v1/customers/${ids[x.who]}/tags`, { ...op, body: x.body });
        if (r.status === 200) for (const t of r.json.tags) tagIds.set(t.name, t.id);
        return r;
      }
      case 'untag': {
        const t = tagIds.get(pick(TAGS));
        if (!t) return { status: 204, skipped: true };
        return d.req('DELETE', `/api/v1/customers/${ids[x.who]}/tags/${t}`, op);
      }
      case 'import':
        return d.req('POST', '/api/v1/orders/import', { ...op, body: Buffer.from(x.text), headers: { 'Content-Type': 'application/x-ndjson' } });
      case 'read':
        return rand() < 0.5 ? d.req('GET', `/api/v1/customers/${ids[x.who]}`, op) : d.req('GET', `/api/v1/orders?customer_id=${ids[x.who]}&limit=100`, op);
      default:
        throw new Error(x.kind);
    }
  }
  let next = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 40 }, async () => {
    while (next < ops.length) {
      const x = ops[next++];
      results.push({ x, r: await run(x) });
    }
  }));
  const ms = Date.now() - t0;
  assert.equal(results.length, ops.length);

  // every answer is one the operation may give; none is 5xx
  const allowed = {
    new: [200, 201], resend: [200, 201], flip: [200, 201],
    refund: [200, 422], // 422 when the refund arrives before the order (a new order needs amount and paid_at)
    bind: [200, 404], // 404 before the order arrived
    'bind-wrong': [404, 422], create: [201], patch: [200], tag: [200], untag: [204], read: [200], import: [200],
  };
  const bad = results.filter(({ x, r }) => !allowed[x.kind].includes(r.status));
  assert.deepEqual(bad.map(({ x, r }) => `${x.kind} ${r.status} ${r.text}`), [], `seed ${SEED}`);
  for (const { x, r } of results) {
    if (x.kind === 'refund' && r.status === 422) assert.ok(['amount_cents', 'paid_at'].includes(r.json.error.field), r.text);
    if (x.kind === 'bind' && r.status === 404) assert.equal(r.json.error.field, 'external_id');
    if (x.kind === 'bind-wrong' && r.status === 422) assert.equal(r.json.error.field, 'phone');
    if (x.kind === 'import') assert.deepEqual([r.json.lines, r.json.created + r.json.updated + r.json.unchanged, r.json.error_count], [25, 25, 0], r.text);
  }
  assert.ok(results.filter(({ x, r }) => x.kind === 'bind' && r.status === 200).length > 0, 'no binding succeeded');
  const tally = {};
  for (const { x, r } of results) tally[`${x.kind} ${r.status}`] = (tally[`${x.kind} ${r.status}`] || 0) + 1;
  t.diagnostic(`${results.length} requests in ${ms} ms: ${JSON.stringify(tally)}`);

  // now that every order is in, each binder proves its phone once more (or for the first time)
  for (const i of BINDERS) {
    const { o } = orders.find(({ o: x, who }) => who === i && x.buyer_phone);
    const r = await d.req('POST', '/api/v1/orders/bind', { ...op, body: { customer_id: ids[i], platform: o.platform, external_id: o.external_id, phone: o.buyer_phone } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.customer_id, ids[i]);
    results.push({ x: { kind: 'bind', who: i }, r });
  }

  // the orders table holds each key once, with the amount and time that were sent
  const rows = sqliteJson(d.db, `SELECT id, platform, external_id, customer_id, buyer_phone, amount_cents, status, paid_at, bound_by FROM orders WHERE external_id LIKE 'F${SEED}-%'`);
  const sent = new Map(orders.map(({ o }) => [`${o.platform}/${o.external_id}`, o]));
  assert.equal(rows.length, 300);
  for (const row of rows) {
    const o = sent.get(`${row.platform}/${row.external_id}`);
    assert.ok(o, row.external_id);
    assert.equal(row.amount_cents, o.amount_cents);
    assert.equal(isoSeconds(row.paid_at), o.paid_at);
  }
  assert.equal(Number(sqlite(d.db, 'SELECT count(*) FROM (SELECT platform, external_id FROM orders GROUP BY 1, 2 HAVING count(*) > 1);')), 0);

  // figures: the API equals a recount of paid orders with the sqlite3 tool
  const recount = new Map(sqliteJson(d.db, "SELECT customer_id, count(*) AS n, sum(amount_cents) AS s, min(paid_at) AS f, max(paid_at) AS l FROM orders WHERE status = 'paid' AND customer_id IS NOT NULL GROUP BY customer_id").map((x) => [x.customer_id, x]));
  assert.ok(ids.every((id) => id !== null), 'a customer was not created');
  for (let i = 0; i < N; i++) {
    const r = await d.req('GET', `/api/v1/customers/${ids[i]}`, op);
    assert.equal(r.status, 200, r.text);
    const c = r.json;
    const want = recount.get(ids[i]) || { n: 0, s: 0, f: null, l: null };
    assert.deepEqual([c.order_count, c.total_spent_cents, c.first_order_at, c.last_order_at], [want.n, want.s, isoSeconds(want.f), isoSeconds(want.l)], `customer ${i} (id ${ids[i]}), seed ${SEED}`);
    // the stage is at least what the paid orders prove (refunds never move it back)
    if (c.order_count >= 2) assert.equal(c.stage, 'repurchasing', `customer ${i}`);
    else if (c.order_count === 1) assert.ok(['converted', 'sharing', 'repurchasing'].includes(c.stage), `customer ${i}: ${c.stage}`);
    // phones: the late and patched customers have theirs; a binder has its own when one of its bindings went through
    if (!BINDERS.includes(i)) assert.equal(c.phone, PHONES[i]);
    const proved = results.some(({ x, r: res }) => x.kind === 'bind' && x.who === i && res.status === 200);
    if (BINDERS.includes(i) && proved) assert.equal(c.phone, PHONES[i], `binder ${i} did not take the phone it proved`);
  }
  // the figures of every customer in the database, not only these, equal the recount
  const drift = sqliteJson(d.db, "SELECT c.id FROM customers c LEFT JOIN (SELECT customer_id, count(*) AS n, sum(amount_cents) AS s, min(paid_at) AS f, max(paid_at) AS l FROM orders WHERE status = 'paid' GROUP BY customer_id) o ON o.customer_id = c.id WHERE c.order_count <> coalesce(o.n, 0) OR c.total_spent_cents <> coalesce(o.s, 0) OR c.first_order_at IS NOT o.f OR c.last_order_at IS NOT o.l");
  assert.deepEqual(drift, []);

  // no order bound twice: one order.bound event per bound order, for the customer it is bound to
  assert.deepEqual(sqliteJson(d.db, "SELECT ref_id, count(*) AS n FROM customer_events WHERE kind = 'order.bound' GROUP BY ref_id HAVING n > 1"), []);
  assert.deepEqual(sqliteJson(d.db, "SELECT o.id FROM orders o WHERE o.customer_id IS NOT NULL AND (SELECT count(*) FROM customer_events e WHERE e.kind = 'order.bound' AND e.ref_id = o.id AND e.customer_id = o.customer_id) <> 1"), []);
  assert.deepEqual(sqliteJson(d.db, "SELECT e.ref_id FROM customer_events e JOIN orders o ON o.id = e.ref_id WHERE e.kind = 'order.bound' AND o.customer_id IS NULL"), []);
  assert.deepEqual(sqliteJson(d.db, 'SELECT id FROM orders WHERE (customer_id IS NULL) <> (bound_at IS NULL) OR (customer_id IS NULL) <> (bound_by IS NULL)'), []);
  // every order whose buyer_phone is a live customer's is bound
  assert.deepEqual(sqliteJson(d.db, 'SELECT o.id, o.buyer_phone FROM orders o JOIN customers c ON c.phone = o.buyer_phone AND c.erased_at IS NULL WHERE o.customer_id IS NULL'), []);
  // orders bound by phone went to the customer with that phone
  assert.deepEqual(sqliteJson(d.db, "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.bound_by = 'phone' AND c.phone IS NOT o.buyer_phone"), []);
  // tag counts equal their rows
  assert.deepEqual(sqliteJson(d.db, 'SELECT t.id FROM tags t WHERE t.customer_count <> (SELECT count(*) FROM customer_tags ct WHERE ct.tag_id = t.id)'), []);
  const tagsApi = (await d.req('GET', '/api/v1/tags?limit=500', op)).json.data;
  for (const t of tagsApi) assert.equal(t.customer_count, Number(sqlite(d.db, `SELECT count(*) FROM customer_tags WHERE tag_id = ${t.id};`)), t.name);
  // the database is intact
  assert.equal(sqlite(d.db, 'PRAGMA integrity_check;'), 'ok');
  assert.equal(sqlite(d.db, 'PRAGMA foreign_key_check;'), '');
  assert.ok(ms < 45000, `the writes took ${ms} ms`);
});
