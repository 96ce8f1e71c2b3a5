// Growth analytics: overview, repurchase (by month and by quarter), channels,
// operators, groups, ambassadors and cohorts, each answer compared whole with
// one worked out here, plainly and from the definitions, out of the records
// this file wrote itself.
//
// A daemon on the test clock walks day by day from 2031-01-06 to 2031-06-24
// (business days in Asia/Shanghai, UTC+8 all year). A seeded generator makes
// customers with and without a channel and an operator, paid orders before
// joining, within 24 hours of joining and months later, orders bound to nobody
// (some bound later through the binding flow or when their buyer signs up),
// refunds, cancelled orders, an order refunded and paid again, orders with
// ambassadors' referral codes (also the ambassador's own and orders paid
// before the enrolment), check-ins, group members and activity, live-code
// scans, points by hand; then a merge, an operator change, a customer who
// leaves a group and an erasure. The test keeps its own model of all of it,
// checks the model against the plain records (customers, orders, commissions,
// members, scans, points ledgers), and computes every expected figure from the
// model, never from an analytics answer.
//
// Readings of the contract where it leaves a choice:
// - operators are sorted by gmv_cents descending, then user_id ascending with
//   the null row after every user among equal GMV (SQL "NULLS LAST");
// - 30-day retention counts every recorded group activity of the customer,
//   whether or not they are still a member of that group;
// - cohorts: every calendar month overlapping the range is a cohort, also an
//   empty one (customers 0, ltv_cents null, channels []);
// - cohorts given channel_id answer with "channel_id" as the number given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, listAll, isoSeconds, sqliteJson } from './lib.mjs';

// Business calendar (Asia/Shanghai).
const DAY = 86400;
const TZ = 8 * 3600;
const nowS = () => Math.floor(Date.now() / 1000);
const secOf = (iso) => Date.parse(iso) / 1000;
const dayOf = (sec) => Math.floor((sec + TZ) / DAY); // business day number
const dateOf = (day) => new Date(day * DAY * 1000).toISOString().slice(0, 10);
const dayOfDate = (s) => Date.parse(`${s}T00:00:00Z`) / 1000 / DAY;
const noonOf = (day) => day * DAY - TZ + 12 * 3600;
const monthOfDay = (day) => {
  const t = new Date(day * DAY * 1000);
  return t.getUTCFullYear() * 12 + t.getUTCMonth();
};
const monthStart = (m) => Date.UTC(Math.floor(m / 12), m % 12, 1) / 1000 / DAY;
const monthLabel = (m) => `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
const quarterOfDay = (day) => Math.floor(monthOfDay(day) / 3);
const quarterLabel = (q) => `${Math.floor(q / 4)}-Q${(q % 4) + 1}`;

// Rates as C computes them ((double)a / b), null without a denominator; money
// ratios rounded half up in whole cents.
const rate = (a, b) => (b === 0 ? null : a / b);
const roundDiv = (a, b) => (b === 0 ? null : Number((2n * BigInt(a) + BigInt(b)) / (2n * BigInt(b))));
const sum = (xs, f) => xs.reduce((s, x) => s + f(x), 0);

// A seeded generator: the same data on every run.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20310106);
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const chance = (p) => rnd() < p;

const START = dayOfDate('2031-01-06');
const END = dayOfDate('2031-06-24');
const PLATFORMS = ['tmall', 'jd', 'douyin', 'wechat'];
const CODES = ['KOCALPHA', 'KOCBRAVO', 'KOCDELTA']; // referral codes, used before and after enrolment

// commission_return_days at its maximum: no earning settles during the walk,
// so a refund always reverses a pending earning.
const d = await fileDaemon({
  config: '[general]\ntimezone = Asia/Shanghai\n\n[growth]\ncommission_return_days = 365\nambassador_levels = 200,1000,5000\n',
  env: { SCRM_TEST_CLOCK: '1' },
});
// every token before the clock moves: the admin session that makes them expires
const admin = { token: await d.adminToken() };
const op = { token: await d.token('operator', 'analytics-operator') };
const viewer = { token: await d.token('viewer', 'analytics-viewer') };
const req = (m, p, body, who = op) => d.req(m, p, { ...who, body });

function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.status}: ${r.text}`);
  return r.json;
}

// The model: what the test wrote, as the daemon should hold it now.
const M = {
  users: [], // {id, username, display_name}
  channels: [], // {id, name, kind, units, cost_cents, code}
  groups: [], // {id, name, kind, members: Set}
  customers: new Map(), // id -> {id, created_at, channel, owner, phone, erased, checkins: Set(day), activity: [{group, at}]}
  merged: new Map(), // merged-away id -> kept id
  orders: [], // {id, platform, external_id, amount, paid_at, status, customer, buyerPhone, code, earn, earned, keep}
  ambassadors: [], // {id, customer, code, created_at}
  scans: [], // {channel, at}
  ledgers: new Map(), // customer id -> [{delta, at}]
};
const S = {}; // the special records: users, channels, groups and customers by role
let clockNow = 0;
let seq = 0;
let phoneSeq = 0;
const futurePhones = []; // phones of orders waiting for a customer who has not signed up yet
const pending = []; // orders planned for later: {cid, paid_at, amount, code, viaPhone}

const resolve = (id) => {
  while (M.merged.has(id)) id = M.merged.get(id);
  return id;
};
const live = () => [...M.customers.values()].filter((c) => !c.erased);
// customers the random walk may touch (the retention edges are left alone)
const pickable = () => live().filter((c) => !c.quiet);
const ambCustomers = () => new Set(M.ambassadors.map((a) => a.customer));
const nextPhone = (prefix) => `${prefix}${String(1000000 + ++phoneSeq).slice(-7)}`;
const amount = () => int(9, 900) * 100 + pick([0, 0, 0, 50, 99]);
const someCode = () => (chance(0.22) ? pick(CODES) : null);

async function setClock(sec) {
  const r = ok(await req('PUT', '/api/v1/admin/clock', { offset_s: sec - nowS() }, admin));
  clockNow = secOf(r.now);
}
const today = () => dayOf(clockNow);

async function newCustomer({ channel = null, owner = null, phone = null, quiet = false } = {}) {
  const body = { name: `客户${++seq}` };
  if (phone) body.phone = phone;
  if (channel) body.source_channel_id = channel;
  if (owner) body.owner_user_id = owner;
  const r = ok(await req('POST', '/api/v1/customers', body), 201);
  const c = { id: r.id, created_at: secOf(r.created_at), channel, owner, phone, erased: false, checkins: new Set(), activity: [], quiet };
  M.customers.set(c.id, c);
  // orders waiting with that phone are bound to the new customer at once
  if (phone) for (const o of M.orders) if (o.customer === null && o.buyerPhone === phone) o.customer = c.id;
  return c;
}

// The commission rule: an earning for a paid order carrying the code of an
// enrolled ambassador, paid at or after the enrolment, not the ambassador's
// own; reversed when the order stops being paid, never earned again.
function syncEarn(o) {
  const paid = o.status === 'paid';
  if (o.earned) {
    if (!paid) o.earn = null;
    return;
  }
  const a = o.code && M.ambassadors.find((x) => x.code === o.code);
  if (a && paid && o.customer !== a.customer && o.paid_at >= a.created_at) {
    o.earn = a.id;
    o.earned = true;
  }
}

const phoneOwner = (p) => live().find((c) => c.phone === p)?.id ?? null;

// fixed: an order the random walk never refunds (the edges some figures turn on)
async function postOrder({ customer = null, phone = null, amount: cents, paid_at, code = null, status = 'paid', fixed = false }) {
  const body = { platform: pick(PLATFORMS), external_id: `A${++seq}`, amount_cents: cents, paid_at: isoSeconds(paid_at), status };
  if (customer) body.customer_id = customer;
  if (phone) body.buyer_phone = phone;
  if (code) body.referral_code = code;
  const r = ok(await req('POST', '/api/v1/orders', body), 201);
  const o = {
    id: r.id, platform: body.platform, external_id: body.external_id, amount: cents, paid_at, status,
    customer: customer ?? (phone ? phoneOwner(phone) : null), buyerPhone: phone, code, earn: null, earned: false, keep: false, fixed,
  };
  assert.equal(r.customer_id, o.customer, `order ${o.external_id} bound to ${r.customer_id}, expected ${o.customer}`);
  M.orders.push(o);
  syncEarn(o);
  return o;
}

async function setStatus(o, status) {
  ok(await req('POST', '/api/v1/orders', { platform: o.platform, external_id: o.external_id, status }));
  o.status = status;
  syncEarn(o);
}

async function bind(o, c) {
  const r = ok(await req('POST', '/api/v1/orders/bind', { customer_id: c.id, platform: o.platform, external_id: o.external_id, phone: o.buyerPhone }));
  assert.equal(r.customer_id, c.id);
  o.customer = c.id;
}

async function checkin(c) {
  if (c.checkins.has(today())) return;
  const r = ok(await req('POST', `/api/v1/customers/${c.id}/checkin`));
  assert.equal(r.day, dateOf(today()));
  c.checkins.add(today());
}

async function join(g, c) {
  ok(await req('POST', `/api/v1/groups/${g.id}/members`, { customer_ids: [c.id] }));
  g.members.add(c.id);
}

async function activity(g, items) {
  ok(await req('POST', `/api/v1/groups/${g.id}/activity`, {
    items: items.map((it) => ({ customer_id: it.c.id, at: isoSeconds(it.at), kind: it.kind })),
  }));
  for (const it of items) it.c.activity.push({ group: g.id, at: it.at });
}

async function scan(ch) {
  const r = await fetch(`${d.base}/c/${ch.code}`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  await r.arrayBuffer();
  M.scans.push({ channel: ch.id, at: clockNow });
}

async function readLedger(id) {
  const rows = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ limit: '500' });
    if (cursor) q.set('cursor', cursor);
    const p = ok(await req('GET', `/api/v1/customers/${id}/points?${q}`, undefined, viewer));
    rows.push(...p.ledger.map((e) => ({ delta: e.delta, at: secOf(e.created_at) })));
    cursor = p.next_cursor;
  } while (cursor);
  return rows;
}

function planOrders(c, ownCode = null) {
  const plan = (paid_at) => pending.push({
    cid: c.id, paid_at, amount: amount(), code: ownCode && chance(0.5) ? ownCode : someCode(), viaPhone: chance(0.4),
  });
  if (chance(0.25)) plan(c.created_at + int(0, DAY - 1));
  for (let n = pick([0, 0, 1, 1, 1, 2, 2, 3, 4]); n > 0; n--) plan(c.created_at + int(1, 120) * DAY + int(-40000, 40000));
}

// Send every planned order whose payment time has come (to a merged profile's
// survivor; none to an erased customer).
async function flushPending() {
  pending.sort((a, b) => a.paid_at - b.paid_at);
  const due = pending.filter((p) => p.paid_at <= clockNow);
  pending.splice(0, due.length);
  for (const p of due) {
    const c = M.customers.get(resolve(p.cid));
    if (!c || c.erased) continue;
    const viaPhone = p.viaPhone && c.phone;
    await postOrder({ customer: viaPhone ? null : c.id, phone: viaPhone ? c.phone : null, amount: p.amount, paid_at: p.paid_at, code: p.code, fixed: !!p.fixed });
  }
}

async function randomCustomer() {
  const r = rnd();
  const channel = r < 0.3 ? S.card.id : r < 0.55 ? S.sms.id : r < 0.7 ? S.qr.id : null;
  const r2 = rnd();
  const owner = r2 < 0.3 ? S.li.id : r2 < 0.6 ? S.wang.id : r2 < 0.8 ? S.zhao.id : null;
  let phone = null;
  if (chance(0.8)) phone = futurePhones.length && chance(0.7) ? futurePhones.shift() : nextPhone('1391');
  const c = await newCustomer({ channel, owner, phone });
  const open = M.groups.filter((g) => g !== S.empty);
  if (chance(0.45)) await join(pick(open), c);
  if (chance(0.15)) await join(pick(open), c);
  planOrders(c);
  if (chance(0.1)) await postOrder({ customer: c.id, amount: amount(), paid_at: c.created_at - int(1, 40) * DAY - int(0, 80000), code: someCode() });
  return c;
}

async function setup() {
  for (const [key, username, display_name] of [['li', 'op_li', '李娜'], ['wang', 'op_wang', '王强'], ['zhao', 'op_zhao', '赵敏'], ['chen', 'op_chen', '陈晨']]) {
    const u = ok(await req('POST', '/api/v1/users', { username, display_name, role: 'operator', password: 'a-long-enough-password' }, admin), 201);
    S[key] = { id: u.id, username, display_name };
    M.users.push(S[key]);
  }
  for (const [key, body] of [
    ['card', { name: '包裹卡', kind: 'package_card', units: 2000, cost_cents: 300000, contact_url: 'https://work.weixin.qq.com/ca/cawcdeana1' }],
    ['sms', { name: '短信', kind: 'sms', units: 5000, cost_cents: 25000 }],
    ['qr', { name: '门店活码', kind: 'qr', units: 0, cost_cents: 0, contact_url: 'https://work.weixin.qq.com/ca/cawcdeana2' }],
    ['live', { name: '直播间', kind: 'live', units: 300, cost_cents: 1234567 }],
    ['poster', { name: '海报', kind: 'other', units: 10, cost_cents: 999, contact_url: 'https://work.weixin.qq.com/ca/cawcdeana3' }],
    ['callback', { name: '回访', kind: 'other', units: 3, cost_cents: 100 }], // only the retention edges
  ]) {
    const ch = ok(await req('POST', '/api/v1/channels', body), 201);
    S[key] = { id: ch.id, name: body.name, kind: body.kind, units: body.units, cost_cents: body.cost_cents, code: ch.code ?? null };
    M.channels.push(S[key]);
  }
  for (const [key, name, kind] of [['g1', '新人群一', 'basic'], ['g2', '新人群二', 'basic'], ['vip', '福利群', 'high_value'], ['koc', '达人群', 'koc'], ['empty', '空群', 'koc']]) {
    const g = ok(await req('POST', '/api/v1/groups', { name, kind }), 201);
    S[key] = { id: g.id, name, kind, members: new Set() };
    M.groups.push(S[key]);
  }
  // the ambassadors-to-be, buying with their own code now and then
  S.s1 = await newCustomer({ channel: S.card.id, owner: S.li.id, phone: nextPhone('1391') });
  S.s2 = await newCustomer({ owner: S.wang.id, phone: nextPhone('1391') });
  S.s3 = await newCustomer({ channel: S.sms.id, phone: nextPhone('1391') });
  planOrders(S.s1, CODES[0]);
  planOrders(S.s2, CODES[1]);
  planOrders(S.s3, CODES[2]);
}

async function enrol(c, code) {
  const a = ok(await req('POST', '/api/v1/ambassadors', { customer_id: c.id, commission_pct: 10, referral_code: code }), 201);
  const amb = { id: a.id, customer: c.id, code, created_at: secOf(a.created_at) };
  M.ambassadors.push(amb);
  return amb;
}

const notSpecial = (c) => !c.quiet && ![S.s1, S.s2, S.s3, S.A, S.B, S.E, S.x1, S.x2, S.x3, S.x4].includes(c);

async function special(k) {
  if (k === 5) { // the ambassador's own order with the own code earns nothing
    S.amb1 = await enrol(S.s1, CODES[0]);
    S.own = await postOrder({ customer: S.s1.id, amount: 23300, paid_at: clockNow - 60, code: CODES[0], fixed: true });
    assert.equal(S.own.earn, null);
  }
  if (k === 10) { // B: joins in January through the package card; merged into A later
    S.B = await newCustomer({ channel: S.card.id, owner: S.zhao.id, phone: nextPhone('1391'), quiet: true });
    await join(S.g1, S.B);
    await checkin(S.B);
    await activity(S.g1, [{ c: S.B, at: clockNow - 60, kind: 'spoke' }]);
    pending.push({ cid: S.B.id, paid_at: S.B.created_at + 20000, amount: 12800, code: null, viaPhone: true });
    pending.push({ cid: S.B.id, paid_at: S.B.created_at + 20 * DAY, amount: 30050, code: CODES[0], viaPhone: false });
  }
  if (k === 11) await checkin(S.B);
  if (k === 20) { // the edges of "within 24 hours of joining"
    S.x1 = await newCustomer({ channel: S.sms.id, owner: S.wang.id });
    await postOrder({ customer: S.x1.id, amount: 1000, paid_at: S.x1.created_at, fixed: true });
    S.x2 = await newCustomer({ channel: S.sms.id, owner: S.wang.id });
    pending.push({ cid: S.x2.id, paid_at: S.x2.created_at + DAY - 1, amount: 2000, code: null, viaPhone: false, fixed: true });
    S.x3 = await newCustomer({ channel: S.sms.id, owner: S.wang.id });
    pending.push({ cid: S.x3.id, paid_at: S.x3.created_at + DAY, amount: 3000, code: null, viaPhone: false, fixed: true });
    S.x4 = await newCustomer({ channel: S.sms.id, owner: S.wang.id });
    await postOrder({ customer: S.x4.id, amount: 4000, paid_at: S.x4.created_at - 1, fixed: true });
  }
  if (k === 25) { // E: erased later, still counted
    S.E = await newCustomer({ channel: S.sms.id, owner: S.li.id, phone: nextPhone('1391') });
    await join(S.vip, S.E);
    await checkin(S.E);
    for (const [off, cents] of [[3600, 8800], [12 * DAY, 19900], [50 * DAY, 45000]]) pending.push({ cid: S.E.id, paid_at: S.E.created_at + off, amount: cents, code: null, viaPhone: false });
  }
  if (k === 26) {
    await checkin(S.E);
    await activity(S.vip, [{ c: S.E, at: clockNow - 300, kind: 'took_part' }]);
  }
  if (k === 30) { // A: joins in February, no channel, no operator, no phone; nothing after its first order
    S.A = await newCustomer({ quiet: true });
    await join(S.g2, S.A);
    await checkin(S.A);
    pending.push({ cid: S.A.id, paid_at: S.A.created_at + 5 * DAY, amount: 15000, code: null, viaPhone: false, fixed: true });
  }
  if (k === 40) S.amb2 = await enrol(S.s2, CODES[1]);
  if (k === 60) { // a referred order refunded and paid again: its earning stays reversed
    const c = live().find((x) => notSpecial(x) && !ambCustomers().has(x.id));
    S.repaid = await postOrder({ customer: c.id, amount: 52000, paid_at: clockNow - 7200, code: CODES[0] });
    assert.equal(S.repaid.earn, S.amb1.id);
  }
  if (k === 61) await setStatus(S.repaid, 'refunded');
  if (k === 62) await setStatus(S.repaid, 'paid');
  if (k === 90) { // enrolment: an order paid an hour before earns nothing, one paid at the moment does
    S.amb3 = await enrol(S.s3, CODES[2]);
    const c = live().filter((x) => notSpecial(x) && !ambCustomers().has(x.id)).at(-1);
    await postOrder({ customer: c.id, amount: 7700, paid_at: S.amb3.created_at - 3600, code: CODES[2], fixed: true });
    const o = await postOrder({ customer: c.id, amount: 6600, paid_at: S.amb3.created_at, code: CODES[2], fixed: true });
    assert.equal(o.earn, S.amb3.id);
  }
  // B's last check-in is all that makes the merged profile retained at 30 days
  if (k === 95) await checkin(S.B);
  if (k === 100) { // B merged into A: A keeps its join time, takes B's channel, operator and phone
    const r = ok(await req('POST', '/api/v1/customers/merge', { into: S.A.id, from: S.B.id }));
    const A = S.A, B = S.B;
    A.channel ??= B.channel;
    A.owner ??= B.owner;
    A.phone ??= B.phone;
    assert.deepEqual([r.source_channel_id, r.owner_user_id, r.created_at], [A.channel, A.owner, isoSeconds(A.created_at)]);
    for (const o of M.orders) if (o.customer === B.id) o.customer = A.id;
    for (const day of B.checkins) A.checkins.add(day);
    A.activity.push(...B.activity);
    for (const g of M.groups) if (g.members.delete(B.id)) g.members.add(A.id);
    M.customers.delete(B.id);
    M.merged.set(B.id, A.id);
  }
  if (k === 110) { // a member speaks, then leaves: no longer counted in the group
    let id = [...S.g2.members].find((x) => x !== S.A.id);
    if (!id) {
      id = live().find((x) => notSpecial(x)).id;
      await join(S.g2, M.customers.get(id));
    }
    const c = M.customers.get(id);
    await activity(S.g2, [{ c, at: clockNow - 3600, kind: 'spoke' }]);
    assert.equal((await req('DELETE', `/api/v1/groups/${S.g2.id}/members/${id}`)).status, 204);
    S.g2.members.delete(id);
    S.leaver = c;
  }
  if (k === 120) { // operators change: the orders follow the customer
    const pool = live().filter(notSpecial);
    const a = pool.find((c) => c.owner === S.li.id);
    const b = pool.find((c) => c.owner === S.wang.id);
    const n = pool.find((c) => c.owner === null);
    assert.ok(a && b && n, 'customers of li, of wang and of nobody to move');
    for (const [c, owner] of [[a, S.wang.id], [b, null], [n, S.chen.id]]) {
      ok(await req('PATCH', `/api/v1/customers/${c.id}`, { owner_user_id: owner }));
      c.owner = owner;
    }
  }
  // the edges of 30-day retention: joined 31, 30 and 29 days before the last day
  if (k === END - START - 31) S.r31 = await newCustomer({ channel: S.callback.id, owner: S.zhao.id, quiet: true });
  if (k === END - START - 30) S.r30 = await newCustomer({ channel: S.callback.id, owner: S.zhao.id, quiet: true });
  if (k === END - START - 29) S.r29 = await newCustomer({ channel: S.callback.id, owner: S.zhao.id, quiet: true });
  if (k === END - START - 2) await checkin(S.r31); // day 29 after joining: not retained
  if (k === END - START) {
    await checkin(S.r30); // day 30 after joining, eligible today: retained
    await checkin(S.r29); // not eligible yet
  }
  if (k === 130) { // E erased: personal data gone, history kept
    M.ledgers.set(S.E.id, await readLedger(S.E.id));
    assert.equal((await req('DELETE', `/api/v1/customers/${S.E.id}`)).status, 204);
    S.E.erased = true;
    S.E.phone = null;
    for (const o of M.orders) if (o.customer === S.E.id) o.buyerPhone = null;
    for (const g of M.groups) g.members.delete(S.E.id);
  }
}

async function walk() {
  let keepSet = false;
  for (let day = START; day <= END; day++) {
    await setClock(noonOf(day) + int(0, 900));
    const k = day - START;
    if (k === 0) await setup();
    await flushPending();
    await special(k);
    for (let n = pick([0, 0, 0, 1, 1, 2]); n > 0; n--) await randomCustomer();
    // orders nobody is bound to: some wait for a customer who signs up later
    if (chance(0.45)) {
      const o = await postOrder({ phone: nextPhone('1880'), amount: amount(), paid_at: clockNow - int(0, 3 * DAY), code: chance(0.3) ? pick(CODES) : null });
      if (!keepSet && monthLabel(monthOfDay(dayOf(o.paid_at))) === '2031-03') o.keep = keepSet = true;
    }
    if (chance(0.1)) {
      const phone = nextPhone('1390');
      futurePhones.push(phone);
      await postOrder({ phone, amount: amount(), paid_at: clockNow - int(0, 2 * DAY), code: someCode() });
    }
    if (chance(0.18)) {
      const orders = M.orders.filter((o) => o.customer === null && o.buyerPhone?.startsWith('1880') && !o.keep);
      const targets = pickable().filter((c) => c.phone && !ambCustomers().has(c.id));
      if (orders.length && targets.length) await bind(pick(orders), pick(targets));
    }
    if (chance(0.2)) {
      const orders = M.orders.filter((o) => o.status === 'paid' && !o.keep && !o.fixed && o !== S.repaid && !(o.customer && M.customers.get(o.customer).erased));
      if (orders.length) await setStatus(pick(orders), 'refunded');
    }
    if (chance(0.06)) await postOrder({ customer: pick(pickable()).id, amount: amount(), paid_at: clockNow - int(60, 20000), status: 'cancelled' });
    for (let n = int(0, 4); n > 0; n--) await checkin(pick(pickable()));
    const active = (g) => [...g.members].filter((id) => !M.customers.get(id).quiet);
    const withMembers = M.groups.filter((g) => active(g).length > 0);
    if (chance(0.6) && withMembers.length) {
      const g = pick(withMembers);
      const ids = active(g);
      const items = [];
      for (let n = int(1, 3); n > 0; n--) items.push({ c: M.customers.get(pick(ids)), at: clockNow - int(0, 4 * DAY), kind: pick(['spoke', 'took_part']) });
      await activity(g, items);
    }
    for (let n = int(0, 2); n > 0; n--) await scan(pick(M.channels.filter((ch) => ch.code)));
    if (chance(0.12)) {
      const c = pick(pickable());
      ok(await req('POST', `/api/v1/customers/${c.id}/points`, { delta: int(10, 300), reason: 'goodwill', note: 'by hand' }), 201);
    }
    if (chance(0.1)) {
      const c = pick(pickable());
      const bal = ok(await req('GET', `/api/v1/customers/${c.id}/points?limit=1`)).balance;
      if (bal > 0) ok(await req('POST', `/api/v1/customers/${c.id}/points`, { delta: -int(1, bal), reason: 'adjust' }), 201);
    }
  }
  for (const c of live()) M.ledgers.set(c.id, await readLedger(c.id));
}

await walk();

// Expected answers ------------------------------------------------------------------

// A range as the daemon reads it: business days [from, to); a time is the day it falls on.
function range(q) {
  const bound = (s) => (/^\d{4}-\d\d-\d\d$/.test(s) ? dayOfDate(s) : dayOf(secOf(s)));
  return { q, from: q.from ? bound(q.from) : null, to: q.to ? bound(q.to) : today() + 1 };
}
const inR = (R, day) => (R.from === null || day >= R.from) && day < R.to;
const head = (R) => ({ from: R.from === null ? null : dateOf(R.from), to: dateOf(R.to) });

function facts() {
  const customers = [...M.customers.values()];
  const paid = M.orders.filter((o) => o.status === 'paid');
  const paidOf = new Map(customers.map((c) => [c.id, []]));
  for (const o of paid) if (o.customer !== null) paidOf.get(o.customer).push(o);
  for (const list of paidOf.values()) list.sort((a, b) => a.paid_at - b.paid_at || a.id - b.id);
  const firstPaidDay = (id) => dayOf(paidOf.get(id)[0].paid_at);
  const owner = (id) => M.customers.get(id).owner;
  const ledger = [...M.ledgers.values()].flat();
  return { customers, paid, paidOf, firstPaidDay, owner, ledger };
}

function expOverview(R) {
  const F = facts();
  const orders = F.paid.filter((o) => inR(R, dayOf(o.paid_at)));
  const bound = orders.filter((o) => o.customer !== null);
  const buyers = [...new Set(bound.map((o) => o.customer))];
  const returning = buyers.filter((id) => R.from !== null && F.firstPaidDay(id) < R.from).length;
  const inRange = F.ledger.filter((e) => inR(R, dayOf(e.at)));
  return {
    ...head(R),
    customers: F.customers.filter((c) => dayOf(c.created_at) < R.to).length,
    new_customers: F.customers.filter((c) => inR(R, dayOf(c.created_at))).length,
    orders: orders.length,
    gmv_cents: sum(orders, (o) => o.amount),
    bound_orders: bound.length,
    bound_order_rate: rate(bound.length, orders.length),
    buyers: buyers.length,
    new_buyers: buyers.length - returning,
    returning_buyers: returning,
    repurchase_rate: rate(returning, buyers.length),
    points_issued: sum(inRange.filter((e) => e.delta > 0), (e) => e.delta),
    points_used: sum(inRange.filter((e) => e.delta < 0), (e) => -e.delta),
    points_outstanding: sum(F.ledger.filter((e) => dayOf(e.at) < R.to), (e) => e.delta),
  };
}

// The calendar periods of a range: every one overlapping it, or without from
// the 12 months (4 quarters) ending with the one holding the range's last day.
function periods(R, quarter) {
  const of = quarter ? quarterOfDay : monthOfDay;
  const start = quarter ? (p) => monthStart(p * 3) : monthStart;
  const last = of(R.to - 1);
  const first = R.from === null ? last - (quarter ? 3 : 11) : of(R.from);
  const out = [];
  for (let p = first; p <= last; p++) out.push({ p, label: quarter ? quarterLabel(p) : monthLabel(p), from: start(p), to: start(p + 1) });
  return out;
}

function expRepurchase(R, period) {
  const F = facts();
  const ps = periods(R, period === 'quarter');
  return {
    period,
    from: dateOf(ps[0].from),
    to: dateOf(ps.at(-1).to),
    periods: ps.map((P) => {
      const orders = F.paid.filter((o) => { const day = dayOf(o.paid_at); return day >= P.from && day < P.to; });
      const count = new Map();
      for (const o of orders) if (o.customer !== null) count.set(o.customer, (count.get(o.customer) || 0) + 1);
      const buyers = [...count.keys()];
      const returning = buyers.filter((id) => F.firstPaidDay(id) < P.from).length;
      const repeat = buyers.filter((id) => count.get(id) >= 2).length;
      return {
        period: P.label, from: dateOf(P.from), to: dateOf(P.to),
        buyers: buyers.length, returning_buyers: returning, repurchase_rate: rate(returning, buyers.length),
        repeat_buyers: repeat, repeat_rate: rate(repeat, buyers.length),
        orders: orders.length, gmv_cents: sum(orders, (o) => o.amount),
      };
    }),
  };
}

function lastActivityDay(F, c) {
  let last = -Infinity;
  for (const o of F.paidOf.get(c.id)) last = Math.max(last, dayOf(o.paid_at));
  for (const day of c.checkins) last = Math.max(last, day);
  for (const a of c.activity) last = Math.max(last, dayOf(a.at));
  return last;
}

function expChannels(R) {
  const F = facts();
  const row = (ch) => {
    const id = ch ? ch.id : null;
    const acquired = F.customers.filter((c) => c.channel === id && inR(R, dayOf(c.created_at)));
    const units = ch ? ch.units : 0, cost = ch ? ch.cost_cents : 0;
    const converted = acquired.filter((c) => F.paidOf.get(c.id).some((o) => o.paid_at >= c.created_at && o.paid_at < c.created_at + DAY)).length;
    const eligible = acquired.filter((c) => dayOf(c.created_at) <= today() - 30);
    const retained = eligible.filter((c) => lastActivityDay(F, c) >= dayOf(c.created_at) + 30).length;
    const gmv = sum(acquired, (c) => sum(F.paidOf.get(c.id), (o) => o.amount));
    return {
      channel_id: id, name: ch ? ch.name : null, kind: ch ? ch.kind : null, units, cost_cents: cost,
      acquired: acquired.length,
      add_rate: units === 0 ? null : acquired.length / units,
      cost_per_customer_cents: roundDiv(cost, acquired.length),
      converted_1d: converted, first_order_1d_rate: rate(converted, acquired.length),
      retention_eligible: eligible.length, retained_30d: retained, retention_30d_rate: rate(retained, eligible.length),
      buyers: acquired.filter((c) => F.paidOf.get(c.id).length > 0).length,
      gmv_cents: gmv, ltv_cents: roundDiv(gmv, acquired.length),
      scans: ch ? M.scans.filter((s) => s.channel === id && inR(R, dayOf(s.at))).length : 0,
    };
  };
  const rows = [...M.channels].sort((a, b) => a.id - b.id).map(row);
  if (F.customers.some((c) => c.channel === null && inR(R, dayOf(c.created_at)))) rows.push(row(null));
  return { ...head(R), channels: rows };
}

function expOperators(R) {
  const F = facts();
  const rows = [];
  for (const u of [...M.users, null]) {
    const uid = u ? u.id : null;
    const owned = F.customers.filter((c) => c.owner === uid);
    const customers = owned.filter((c) => dayOf(c.created_at) < R.to).length;
    const orders = F.paid.filter((o) => o.customer !== null && F.owner(o.customer) === uid && inR(R, dayOf(o.paid_at)));
    if (customers === 0 && orders.length === 0) continue;
    const gmv = sum(orders, (o) => o.amount);
    rows.push({
      user_id: uid, username: u ? u.username : null, display_name: u ? u.display_name : null,
      customers, new_customers: owned.filter((c) => inR(R, dayOf(c.created_at))).length,
      orders: orders.length, gmv_cents: gmv, gmv_per_customer_cents: roundDiv(gmv, customers),
    });
  }
  rows.sort((a, b) => b.gmv_cents - a.gmv_cents || (a.user_id === null) - (b.user_id === null) || a.user_id - b.user_id);
  return { ...head(R), operators: rows };
}

function expGroups(R) {
  const F = facts();
  const groups = [...M.groups].sort((a, b) => a.id - b.id).map((g) => {
    const members = [...g.members].map((id) => M.customers.get(id));
    const active = members.filter((c) => c.activity.some((a) => a.group === g.id && inR(R, dayOf(a.at)))).length;
    const converted = members.filter((c) => F.paidOf.get(c.id).some((o) => inR(R, dayOf(o.paid_at)))).length;
    return {
      group_id: g.id, name: g.name, kind: g.kind, members: members.length,
      active_members: active, interaction_rate: rate(active, members.length),
      converted_members: converted, conversion_rate: rate(converted, members.length),
    };
  });
  const kinds = ['basic', 'high_value', 'koc'].map((kind) => {
    const gs = groups.filter((g) => g.kind === kind);
    const members = sum(gs, (g) => g.members), active = sum(gs, (g) => g.active_members), converted = sum(gs, (g) => g.converted_members);
    return {
      kind, groups: gs.length, members, active_members: active, interaction_rate: rate(active, members),
      converted_members: converted, conversion_rate: rate(converted, members),
    };
  });
  return { ...head(R), groups, kinds };
}

async function levels() {
  const out = new Map();
  for (const a of M.ambassadors) out.set(a.id, ok(await req('GET', `/api/v1/ambassadors/${a.id}`, undefined, viewer)).level);
  return out;
}

function expAmbassadors(R, level, limit = 50) {
  const ov = expOverview(R);
  const F = facts();
  const orders = F.paid.filter((o) => inR(R, dayOf(o.paid_at)));
  const referred = orders.filter((o) => o.earn !== null);
  const distinctBound = (os) => new Set(os.filter((o) => o.customer !== null).map((o) => o.customer)).size;
  const refGmv = sum(referred, (o) => o.amount);
  const refCustomers = distinctBound(referred);
  const rows = M.ambassadors.map((a) => {
    const mine = referred.filter((o) => o.earn === a.id);
    const gmv = sum(mine, (o) => o.amount);
    return {
      ambassador_id: a.id, customer_id: a.customer, level: level.get(a.id), referral_code: a.code,
      orders: mine.length, gmv_cents: gmv, customers: distinctBound(mine), gmv_share: rate(gmv, ov.gmv_cents),
    };
  });
  rows.sort((a, b) => b.gmv_cents - a.gmv_cents || a.ambassador_id - b.ambassador_id);
  return {
    ...head(R), orders: ov.orders, gmv_cents: ov.gmv_cents, buyers: ov.buyers,
    referred_orders: referred.length, referred_gmv_cents: refGmv, referred_customers: refCustomers,
    gmv_share: rate(refGmv, ov.gmv_cents), customer_share: rate(refCustomers, ov.buyers),
    ambassadors: rows.slice(0, limit),
  };
}

function expCohorts(R, channelId) {
  const F = facts();
  const ps = periods(R, false);
  const current = monthOfDay(today());
  const want = channelId === undefined ? () => true : channelId === 0 ? (c) => c.channel === null : (c) => c.channel === channelId;
  const gmvOf = (c) => sum(F.paidOf.get(c.id), (o) => o.amount);
  const cohorts = ps.map((P) => {
    const cs = F.customers.filter((c) => want(c) && monthOfDay(dayOf(c.created_at)) === P.p);
    const gmv = sum(cs, gmvOf);
    const months = [];
    for (let m = P.p; m <= current; m++) {
      const buyers = cs.filter((c) => F.paidOf.get(c.id).some((o) => monthOfDay(dayOf(o.paid_at)) === m)).length;
      const repurchased = cs.filter((c) => { const second = F.paidOf.get(c.id)[1]; return second && monthOfDay(dayOf(second.paid_at)) <= m; }).length;
      months.push({ offset: m - P.p, month: monthLabel(m), buyers, buyer_rate: rate(buyers, cs.length), repurchased, repurchase_rate: rate(repurchased, cs.length) });
    }
    const ids = [...new Set(cs.map((c) => c.channel))].sort((a, b) => (a === null) - (b === null) || a - b);
    return {
      cohort: P.label, from: dateOf(P.from), to: dateOf(P.to),
      customers: cs.length, buyers: cs.filter((c) => F.paidOf.get(c.id).length > 0).length,
      gmv_cents: gmv, ltv_cents: roundDiv(gmv, cs.length), months,
      channels: ids.map((id) => {
        const part = cs.filter((c) => c.channel === id);
        const g = sum(part, gmvOf);
        return { channel_id: id, customers: part.length, gmv_cents: g, ltv_cents: roundDiv(g, part.length) };
      }),
    };
  });
  const out = { from: dateOf(ps[0].from), to: dateOf(ps.at(-1).to), cohorts };
  if (channelId !== undefined) out.channel_id = channelId;
  return out;
}

async function get(path, q = {}, extra = {}) {
  const qs = new URLSearchParams({ ...q, ...extra }).toString();
  const r = await req('GET', `/api/v1/analytics/${path}${qs ? `?${qs}` : ''}`, undefined, viewer);
  assert.equal(r.status, 200, `GET ${path}?${qs}: ${r.status} ${r.text}`);
  return r.json;
}

const RANGES = [
  { name: 'open', q: {} },
  { name: 'a pair of dates', q: { from: '2031-02-10', to: '2031-05-03' } },
  { name: 'one month', q: { from: '2031-03-01', to: '2031-04-01' } },
  { name: 'RFC 3339 times', q: { from: '2031-02-27T16:30:00Z', to: '2031-04-30T20:00:00-04:00' } },
  { name: 'February as RFC 3339 times', q: { from: '2031-01-31T16:00:00.500Z', to: '2031-03-01T00:00:00+08:00' } },
  { name: 'from only', q: { from: '2031-04-20' } },
  { name: 'to only', q: { to: '2031-03-20' } },
  { name: 'before the data', q: { from: '2030-10-01', to: '2030-11-15' } },
  { name: 'into the future', q: { from: '2031-06-10', to: '2031-09-01' } },
];

// Every endpoint's whole answer over every range.
async function checkAll(ranges = RANGES) {
  const level = await levels();
  for (const { name, q } of ranges) {
    const R = range(q);
    const at = (what) => `${what} over ${name} ${JSON.stringify(q)}`;
    assert.deepStrictEqual(await get('overview', q), expOverview(R), at('overview'));
    assert.deepStrictEqual(await get('repurchase', q), expRepurchase(R, 'month'), at('repurchase (default)'));
    assert.deepStrictEqual(await get('repurchase', q, { period: 'month' }), expRepurchase(R, 'month'), at('repurchase by month'));
    assert.deepStrictEqual(await get('repurchase', q, { period: 'quarter' }), expRepurchase(R, 'quarter'), at('repurchase by quarter'));
    assert.deepStrictEqual(await get('channels', q), expChannels(R), at('channels'));
    assert.deepStrictEqual(await get('operators', q), expOperators(R), at('operators'));
    assert.deepStrictEqual(await get('groups', q), expGroups(R), at('groups'));
    assert.deepStrictEqual(await get('ambassadors', q), expAmbassadors(R, level), at('ambassadors'));
    assert.deepStrictEqual(await get('cohorts', q), expCohorts(R), at('cohorts'));
  }
}

// Tests ---------------------------------------------------------------------------------

test('the records read back agree with the model the expected figures come from', async () => {
  const F = facts();
  assert.ok(M.customers.size >= 60 && M.customers.size <= 150, `${M.customers.size} customers`);
  assert.ok(M.orders.length >= 200 && M.orders.length <= 500, `${M.orders.length} orders`);
  // orders: owner, status, time and amount
  const orders = (await listAll(d, '/api/v1/orders', viewer)).items;
  assert.deepStrictEqual(
    orders.map((o) => [o.id, o.customer_id, o.status, secOf(o.paid_at), o.amount_cents, o.referral_code]).sort((a, b) => a[0] - b[0]),
    M.orders.map((o) => [o.id, o.customer, o.status, o.paid_at, o.amount, o.code]).sort((a, b) => a[0] - b[0]));
  // customers (the erased one is not listed, the merged-away one is gone)
  const listed = (await listAll(d, '/api/v1/customers', viewer)).items;
  assert.deepStrictEqual(
    listed.map((c) => [c.id, secOf(c.created_at), c.source_channel_id, c.owner_user_id, c.order_count, c.total_spent_cents]).sort((a, b) => a[0] - b[0]),
    live().map((c) => [c.id, c.created_at, c.channel, c.owner, F.paidOf.get(c.id).length, sum(F.paidOf.get(c.id), (o) => o.amount)]).sort((a, b) => a[0] - b[0]));
  assert.equal((await req('GET', `/api/v1/customers/${S.B.id}`)).status, 404);
  assert.equal((await req('GET', `/api/v1/customers/${S.E.id}`)).status, 404);
  // commissions: the active earnings are exactly the orders the model says earned
  for (const a of M.ambassadors) {
    const items = (await listAll(d, `/api/v1/ambassadors/${a.id}/commissions`, viewer)).items;
    assert.ok(items.every((c) => c.status !== 'settled'), 'nothing settles within the return window');
    const active = items.filter((c) => c.kind === 'earn' && c.status !== 'reversed').map((c) => c.order_id).sort((x, y) => x - y);
    assert.deepStrictEqual(active, M.orders.filter((o) => o.earn === a.id).map((o) => o.id).sort((x, y) => x - y), `ambassador ${a.id}`);
    assert.equal(ok(await req('GET', `/api/v1/ambassadors/${a.id}`)).customer_id, a.customer);
  }
  assert.ok(M.orders.some((o) => o.code && o.earn === null && o.status === 'paid'), 'some paid orders with a code earned nothing');
  assert.equal(S.own.earn, null);
  const fixed = M.orders.filter((o) => o.fixed);
  assert.equal(fixed.length, 8);
  assert.ok(fixed.every((o) => o.status === 'paid'), 'the edge orders stay paid');
  assert.equal(S.repaid.status, 'paid');
  assert.equal(S.repaid.earn, null);
  // group members, scans, points
  for (const g of M.groups) {
    const members = (await listAll(d, `/api/v1/groups/${g.id}/members`, viewer)).items.map((c) => c.id).sort((x, y) => x - y);
    assert.deepStrictEqual(members, [...g.members].sort((x, y) => x - y), `members of group ${g.id}`);
  }
  for (const ch of M.channels) assert.equal(ok(await req('GET', `/api/v1/channels/${ch.id}`)).scans, M.scans.filter((s) => s.channel === ch.id).length);
  for (const c of live()) assert.equal(ok(await req('GET', `/api/v1/customers/${c.id}`)).points_balance, sum(M.ledgers.get(c.id), (e) => e.delta), `points of ${c.id}`);
  const [all] = sqliteJson(d.db, 'SELECT count(*) AS n, coalesce(sum(delta), 0) AS s FROM points_ledger');
  assert.deepStrictEqual([all.n, all.s], [F.ledger.length, sum(F.ledger, (e) => e.delta)], 'every ledger row is in the model');
  // the data has what the figures are about
  assert.ok(M.orders.some((o) => o.customer !== null && o.paid_at < M.customers.get(o.customer).created_at), 'orders paid before joining');
  assert.ok(M.orders.some((o) => o.customer === null && o.status === 'paid' && o.keep), 'an order bound to nobody');
  assert.ok(M.orders.some((o) => o.buyerPhone?.startsWith('1880') && o.customer !== null), 'orders bound later');
  assert.ok(M.orders.some((o) => o.status === 'refunded') && M.orders.some((o) => o.status === 'cancelled'));
  assert.ok(F.customers.some((c) => c.channel === null) && F.customers.some((c) => c.owner === null));
});

test('overview: customers, orders, GMV, bound orders, buyers new and returning, points, over every kind of range', async () => {
  for (const { name, q } of RANGES) {
    const R = range(q);
    const got = await get('overview', q);
    assert.deepStrictEqual(got, expOverview(R), `overview over ${name}`);
    assert.equal(got.new_buyers + got.returning_buyers, got.buyers);
  }
  const open = await get('overview');
  assert.equal(open.from, null);
  assert.equal(open.to, dateOf(today() + 1), 'without to: through today');
  assert.equal(open.customers, M.customers.size, 'the erased customer counts, the merged-away profile does not');
  assert.equal(open.returning_buyers, 0, 'nothing comes before an open start');
  // a time is the business day it falls on, whatever zone it is written in
  assert.deepStrictEqual(await get('overview', { from: '2031-02-01', to: '2031-03-01' }), { ...(await get('overview', RANGES[4].q)) });
});

test('repurchase by month and by quarter: buyers, returning and repeat buyers, orders and GMV per period', async () => {
  for (const { name, q } of RANGES) {
    const R = range(q);
    assert.deepStrictEqual(await get('repurchase', q), expRepurchase(R, 'month'), `default period over ${name}`);
    assert.deepStrictEqual(await get('repurchase', q, { period: 'month' }), expRepurchase(R, 'month'), `months over ${name}`);
    assert.deepStrictEqual(await get('repurchase', q, { period: 'quarter' }), expRepurchase(R, 'quarter'), `quarters over ${name}`);
  }
  const months = await get('repurchase');
  assert.equal(months.periods.length, 12);
  assert.equal(months.periods.at(-1).period, monthLabel(monthOfDay(today())));
  assert.deepStrictEqual((await get('repurchase', {}, { period: 'quarter' })).periods.map((p) => p.period), ['2030-Q3', '2030-Q4', '2031-Q1', '2031-Q2']);
  assert.deepStrictEqual((await get('repurchase', RANGES[2].q)).periods.map((p) => p.period), ['2031-03']);
});

test('channels: acquired, add rate, cost per customer, 1-day conversion, 30-day retention, buyers, GMV, LTV, scans', async () => {
  for (const { name, q } of RANGES) assert.deepStrictEqual(await get('channels', q), expChannels(range(q)), `channels over ${name}`);
  const open = await get('channels');
  assert.deepStrictEqual(open.channels.map((c) => c.channel_id), [...M.channels.map((c) => c.id), null]);
  const sms = open.channels.find((c) => c.channel_id === S.sms.id);
  assert.ok(sms.converted_1d >= 2, 'x1 (paid at the moment of joining) and x2 (a second before 24 hours) converted');
  const edge = open.channels.find((c) => c.channel_id === S.callback.id);
  assert.deepStrictEqual([edge.acquired, edge.add_rate, edge.cost_per_customer_cents, edge.retention_eligible, edge.retained_30d, edge.retention_30d_rate], [3, 1, 33, 2, 1, 0.5],
    'joined 31 days ago and last seen on day 29; 30 days ago and back today; 29 days ago');
  assert.equal(open.channels.find((c) => c.channel_id === S.live.id).cost_per_customer_cents, null, 'nobody joined: no cost per customer');
  assert.equal(open.channels.find((c) => c.channel_id === S.qr.id).add_rate, null, 'no units: no add rate');
  assert.deepStrictEqual((await get('channels', RANGES[7].q)).channels.map((c) => c.channel_id), M.channels.map((c) => c.id), 'no row for no channel when nobody joined without one');
});

test('operators: customers, new customers, orders, GMV and GMV per customer by owner now, highest GMV first', async () => {
  for (const { name, q } of RANGES) assert.deepStrictEqual(await get('operators', q), expOperators(range(q)), `operators over ${name}`);
  const open = await get('operators');
  assert.ok(open.operators.some((r) => r.user_id === null), 'customers nobody owns');
  assert.ok(open.operators.some((r) => r.user_id === S.chen.id), 'an operator given a customer later');
});

test('groups: members now, interaction and conversion per group and per kind', async () => {
  for (const { name, q } of RANGES) assert.deepStrictEqual(await get('groups', q), expGroups(range(q)), `groups over ${name}`);
  const open = await get('groups');
  const empty = open.groups.find((g) => g.group_id === S.empty.id);
  assert.deepStrictEqual([empty.members, empty.interaction_rate, empty.conversion_rate], [0, null, null]);
  assert.deepStrictEqual(open.kinds.map((k) => k.kind), ['basic', 'high_value', 'koc']);
});

test('groups for one group (group_id): that group\'s row of the full answer, its kind\'s totals alone; an unknown group has no row', async () => {
  const zeroKind = (kind) => ({ kind, groups: 0, members: 0, active_members: 0, interaction_rate: null, converted_members: 0, conversion_rate: null });
  for (const { name, q } of RANGES) {
    const full = await get('groups', q);
    assert.equal(full.groups.length, M.groups.length);
    for (const row of full.groups) {
      const one = await get('groups', q, { group_id: row.group_id });
      const { groups, kinds, ...head } = one;
      const { groups: _g, kinds: _k, ...fullHead } = full;
      assert.deepStrictEqual(head, fullHead, `the range of group ${row.group_id} over ${name}`);
      assert.deepStrictEqual(groups, [row], `group ${row.group_id} over ${name}`);
      const { group_id: _id, name: _n, kind, ...figures } = row;
      assert.deepStrictEqual(kinds, ['basic', 'high_value', 'koc'].map((k) => (k === kind ? { kind, groups: 1, ...figures } : zeroKind(k))),
        `the kinds of group ${row.group_id} over ${name}`);
    }
  }
  const none = await get('groups', {}, { group_id: Math.max(...M.groups.map((g) => g.id)) + 1000 });
  assert.deepStrictEqual(none.groups, []);
  assert.deepStrictEqual(none.kinds, ['basic', 'high_value', 'koc'].map(zeroKind));
});

test('ambassadors: referred orders, GMV and customers, shares, every ambassador, limit', async () => {
  const level = await levels();
  for (const { name, q } of RANGES) {
    const R = range(q);
    assert.deepStrictEqual(await get('ambassadors', q), expAmbassadors(R, level), `ambassadors over ${name}`);
    for (const limit of [1, 2, 500]) assert.deepStrictEqual(await get('ambassadors', q, { limit }), expAmbassadors(R, level, limit), `ambassadors over ${name}, limit ${limit}`);
  }
  assert.equal((await get('ambassadors', RANGES[7].q)).ambassadors.length, M.ambassadors.length, 'every ambassador, also with nothing in the range');
});

test('cohorts: customers, buyers, GMV, LTV, the monthly curves and the split by channel, also for one channel', async () => {
  for (const { name, q } of RANGES) {
    const R = range(q);
    assert.deepStrictEqual(await get('cohorts', q), expCohorts(R), `cohorts over ${name}`);
    for (const ch of [S.card.id, S.sms.id, S.live.id, 0]) {
      assert.deepStrictEqual(await get('cohorts', q, { channel_id: ch }), expCohorts(R, ch), `cohorts of channel ${ch} over ${name}`);
    }
  }
  const future = await get('cohorts', RANGES[8].q);
  assert.deepStrictEqual(future.cohorts.map((c) => [c.cohort, c.months.length]), [['2031-06', 1], ['2031-07', 0], ['2031-08', 0]]);
  assert.equal((await get('cohorts')).cohorts.length, 12);
});

test('bad ranges, periods, limits, channels and groups are 422 naming the field; no token is 401', async () => {
  const paths = ['overview', 'repurchase', 'channels', 'operators', 'groups', 'ambassadors', 'cohorts'];
  const bad = (path, qs) => req('GET', `/api/v1/analytics/${path}?${qs}`, undefined, viewer);
  for (const path of paths) {
    for (const from of ['2031-13-01', '2031-02-30', 'yesterday', '2031-1-5', '2031-02-27T25:00:00Z', '2031-02-27T10:00:00']) {
      assertError(await bad(path, new URLSearchParams({ from })), 422, 'validation_failed', 'from');
    }
    for (const to of ['2031-00-10', 'soon', '2031-03-01T00:00']) {
      assertError(await bad(path, new URLSearchParams({ to })), 422, 'validation_failed', 'to');
    }
    assertError(await bad(path, 'from=2031-03-02&to=2031-03-01'), 422, 'validation_failed', 'to');
    assertError(await bad(path, new URLSearchParams({ from: '2031-03-02T00:00:00+08:00', to: '2031-03-01T15:59:59Z' })), 422, 'validation_failed', 'to');
    assertError(await d.req('GET', `/api/v1/analytics/${path}`), 401, 'unauthorized');
    assertError(await d.req('GET', `/api/v1/analytics/${path}`, { token: 'not-a-token' }), 401, 'unauthorized');
  }
  for (const period of ['week', 'year', 'months']) assertError(await bad('repurchase', `period=${period}`), 422, 'validation_failed', 'period');
  for (const limit of ['0', '501', '-1', 'ten']) assertError(await bad('ambassadors', `limit=${limit}`), 422, 'validation_failed', 'limit');
  for (const ch of ['-1', 'abc', '1.5']) assertError(await bad('cohorts', `channel_id=${ch}`), 422, 'validation_failed', 'channel_id');
  for (const g of ['0', '-1', 'abc', '1.5', '', '1e3', '99999999999999999999']) assertError(await bad('groups', `group_id=${g}`), 422, 'validation_failed', 'group_id');
  // an answer spans at most 240 cohorts and 1,200 months or quarters
  assertError(await bad('cohorts', 'from=2011-01-01&to=2031-01-02'), 422, 'validation_failed', 'from');
  assert.equal((await bad('cohorts', 'from=2011-02-01&to=2031-01-02')).json.cohorts.length, 240);
  assertError(await bad('repurchase', 'from=1900-01-01&to=2031-01-02'), 422, 'validation_failed', 'from');
  assert.equal((await bad('repurchase', 'period=quarter&from=1900-01-01&to=2031-01-02')).json.periods.length, 525);
});

test('figures follow the records: a refund takes its order out, a binding makes an order bound', async () => {
  const R = range({ from: '2031-03-01', to: '2031-04-01' });
  const before = await get('overview', R.q);
  assert.deepStrictEqual(before, expOverview(R));
  // refund an order counted in the range
  const o = M.orders.find((x) => x.status === 'paid' && x.customer !== null && !M.customers.get(x.customer).erased && inR(R, dayOf(x.paid_at)));
  await setStatus(o, 'refunded');
  M.ledgers.set(o.customer, await readLedger(o.customer));
  const refunded = await get('overview', R.q);
  assert.equal(refunded.orders, before.orders - 1);
  assert.equal(refunded.gmv_cents, before.gmv_cents - o.amount);
  assert.equal(refunded.bound_orders, before.bound_orders - 1);
  assert.deepStrictEqual(refunded, expOverview(R));
  // bind an order bound to nobody, paid in the range
  const u = M.orders.find((x) => x.keep);
  assert.ok(u.customer === null && u.status === 'paid' && inR(R, dayOf(u.paid_at)));
  const target = live().find((c) => c.phone && !ambCustomers().has(c.id) && c.id !== o.customer);
  await bind(u, target);
  M.ledgers.set(target.id, await readLedger(target.id));
  const bound = await get('overview', R.q);
  assert.equal(bound.bound_orders, refunded.bound_orders + 1);
  assert.equal(bound.orders, refunded.orders);
  assert.equal(bound.gmv_cents, refunded.gmv_cents);
  assert.deepStrictEqual(bound, expOverview(R));
  // and every other answer follows as well
  await checkAll([RANGES[0], RANGES[2], RANGES[3]]);
});
