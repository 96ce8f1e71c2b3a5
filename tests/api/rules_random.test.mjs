// The rule language against a brute force. A seeded generator builds a small
// world through the API on a fixed test clock in a business time zone far from
// UTC and from the default (America/New_York: UTC-5, and UTC-4 in summer):
// customers with every kind of birthday, gender, stage, owner, channel and
// attrs of several types; orders on several platforms with item categories
// (bound by customer_id, by phone, later by a new phone or the binding flow;
// refunded, cancelled, paid again, corrected); points, wallet moves, check-ins,
// coupons that expire on different days (and earlier today), manual tags, tier
// overrides, shares, erasures. Then, at three instants (New Year's Eve local
// evening, which is already 1 January in UTC; the day summer time starts; the
// day before a leap day), hundreds of random rules (all/any/not trees over
// every field and operator, depth up to 4) are run through
// POST /audiences/preview and an audience's member list, and each answer must
// equal a JS evaluation of the rule over what the test read back through the
// API (customers, orders, coupons) or knows because it made it (check-in days,
// groups). Auto tags must hold exactly their rule's customers. The seed is
// printed; SCRM_TEST_SEED=<n> replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, prng, sqliteJson, listAll } from './lib.mjs';

const SEED = Number(process.env.SCRM_TEST_SEED || Math.floor(Math.random() * 2 ** 31));
const TZ = 'America/New_York';
const RULES_PER_INSTANT = Number(process.env.SCRM_RULES_PER_INSTANT || 130);

const d = await fileDaemon({
  env: { SCRM_TEST_CLOCK: '1' },
  config: `[general]\ntimezone = ${TZ}\n[store]\nsynchronous = normal\n`,
});
const admin = { token: await d.adminToken() };
const op = { token: await d.token('operator', 'rules-random-operator') };

// The business calendar, from the zone database of Intl (not the daemon's).
const fmt = new Intl.DateTimeFormat('en-US', {
  timeZone: TZ, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
function localParts(sec) {
  const o = {};
  for (const p of fmt.formatToParts(new Date(sec * 1000))) o[p.type] = p.value;
  return { y: +o.year, m: +o.month, d: +o.day, H: +o.hour, M: +o.minute, S: +o.second };
}
const DAY_MS = 86400000;
const dayOf = (y, m, dd) => Date.UTC(y, m - 1, dd) / DAY_MS; // a civil date as a day number
const civil = (day) => { const t = new Date(day * DAY_MS); return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() }; };
const localDay = (sec) => { const p = localParts(sec); return dayOf(p.y, p.m, p.d); };
// The Unix time of H:M on a local day (exact for the times used here: none in a DST gap).
function localInstant(day, H, M) {
  const want = day * 86400 + H * 3600 + M * 60;
  let t = want;
  for (let i = 0; i < 3; i++) {
    const p = localParts(t);
    t += want - Date.UTC(p.y, p.m - 1, p.d, p.H, p.M, p.S) / 1000;
  }
  const p = localParts(t);
  assert.deepEqual([dayOf(p.y, p.m, p.d), p.H, p.M], [day, H, M], 'localInstant');
  return t;
}
const iso = (sec) => new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const secOf = (s) => (s == null ? null : Date.parse(s) / 1000);
const leap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const STAGES = ['added', 'observing', 'interested', 'converted', 'sharing', 'repurchasing'];
const PLATFORMS = ['tmall', 'jd', 'douyin', 'wechat', 'offline', 'pdd_2'];
const CATEGORIES = ['美妆', 'skincare', 'Skincare', 'shoes', "x' OR 1=1 --", '"); DROP TABLE customers; --', '%', '_', 'a,b"c', '🙂 emoji'];
const TAG_NAMES = ['vip', 'VIP', "x' OR 1=1 --", '"); DROP TABLE customers; --', '%', '_', '高价值客户', 'line\\n', '🙂', "o'brien"];
const ATTR_STRINGS = ['上海', '北京', 'shenzhen', 'Shenzhen', "x' OR 1=1 --", '"); DROP TABLE customers; --', '%', '_', '', '3', '10', 'true', 'Ünïcode', '🙂', 'a\u00e9', 'z'];
const ATTR_KEYS = ['level', 'city', 'score', 'vip', 'note', '1st', 'mixed', 'Level'];
// Every operator each kind of field takes (include/scrm/core_rules.h, src/core/rules.c).
const KIND = {
  order_count: 'num', total_spent_cents: 'num', points_balance: 'num', wallet_balance_cents: 'num',
  days_since_last_order: 'days', days_since_first_order: 'days', days_since_created: 'days', days_since_last_checkin: 'days',
  birthday_month: 'bmonth', birthday_in_days: 'bdays', stage: 'stage', tier: 'tier', tag: 'tag',
  source_channel_id: 'id', owner_user_id: 'id', platform: 'set', category: 'set', gender: 'gender', group_id: 'set',
  coupon_expiring_in_days: 'coupon',
};
const OPS = {
  num: ['=', '!=', '>', '>=', '<', '<=', 'in', 'not_in', 'between'],
  id: ['=', '!=', 'in', 'not_in', 'exists'],
  days: ['=', '!=', '>', '>=', '<', '<=', 'between', 'exists'],
  bmonth: ['=', '!=', 'in', 'not_in', 'exists'],
  bdays: ['=', '<', '<=', 'between'],
  stage: ['=', '!=', 'in', 'not_in', '>', '>=', '<', '<='],
  tier: ['=', '!=', 'in', 'not_in', 'exists'],
  tag: ['has', 'has_not', 'in', 'not_in'],
  set: ['has', 'has_not', 'in', 'not_in'],
  gender: ['=', '!=', 'in', 'not_in'],
  coupon: ['<', '<=', 'between', 'exists'],
  attr: ['=', '!=', '>', '>=', '<', '<=', 'in', 'not_in', 'between', 'exists'],
};

// SQLite's order of values without affinity: numbers before text, text by bytes.
function sqlValue(v) {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}
function sqlCmp(a, b) {
  const ca = typeof a === 'number' ? 1 : 2, cb = typeof b === 'number' ? 1 : 2;
  if (ca !== cb) return ca - cb;
  if (ca === 1) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
function cmpOp(c, op) {
  switch (op) {
    case '=': return c === 0;
    case '!=': return c !== 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
  }
  throw new Error(`cmpOp ${op}`);
}
// x op v for a value x that is present (numbers, days, attrs).
function compare(x, op, v, cmp) {
  if (op === 'in') return v.some((w) => cmp(x, w) === 0);
  if (op === 'not_in') return !v.some((w) => cmp(x, w) === 0);
  if (op === 'between') return cmp(x, v[0]) >= 0 && cmp(x, v[1]) <= 0;
  return cmpOp(cmp(x, v), op);
}
const numCmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const asList = (op, v) => (op === 'in' || op === 'not_in' ? v : [v]);
const negated = (op) => op === '!=' || op === 'not_in' || op === 'has_not';

// The brute force: does customer c (as read back) match node at instant ctx?
function matches(n, c, ctx) {
  if (n.all) return n.all.every((x) => matches(x, c, ctx));
  if (n.any) return n.any.some((x) => matches(x, c, ctx));
  if (n.not) return !matches(n.not, c, ctx);
  const { field, op, value } = n;
  const want = value === undefined || value === true;
  if (field.startsWith('attrs.')) {
    const key = field.slice(6);
    const has = Object.prototype.hasOwnProperty.call(c.attrs, key);
    if (op === 'exists') return has === want;
    if (!has) return false;
    const x = sqlValue(c.attrs[key]);
    const v = Array.isArray(value) ? value.map(sqlValue) : sqlValue(value);
    return compare(x, op, v, sqlCmp);
  }
  const kind = KIND[field];
  switch (kind) {
    case 'num':
      return compare(c[field], op, value, numCmp);
    case 'id': {
      const x = c[field];
      if (op === 'exists') return (x != null) === want;
      const hit = x != null && asList(op, value).includes(x);
      return negated(op) ? !hit : hit;
    }
    case 'days': {
      const x = c.days[field];
      if (op === 'exists') return (x != null) === want;
      if (x == null) return false;
      if (op === '<' && value === 0) return false;
      return compare(x, op, value, numCmp);
    }
    case 'bmonth': {
      const x = c.birthMonth;
      if (op === 'exists') return (x != null) === want;
      if (x == null) return false;
      const hit = asList(op, value).map((v) => (v === 'current' ? ctx.month : v)).includes(x);
      return negated(op) ? !hit : hit;
    }
    case 'bdays': {
      if (c.birthMonth == null) return false;
      const [lo, hi] = op === 'between' ? value : op === '=' ? [value, value] : op === '<' ? [0, value - 1] : [0, value];
      for (let k = lo; k <= hi; k++) {
        const t = civil(ctx.today + k);
        if (t.m === c.birthMonth && t.d === c.birthDay) return true;
        // 29 February birthdays are kept on the 28th in other years
        if (c.birthMonth === 2 && c.birthDay === 29 && t.m === 2 && t.d === 28 && !leap(t.y)) return true;
      }
      return false;
    }
    case 'stage': {
      const r = STAGES.indexOf(c.stage);
      if (['>', '>=', '<', '<='].includes(op)) return cmpOp(numCmp(r, STAGES.indexOf(value)), op);
      const hit = asList(op, value).includes(c.stage);
      return negated(op) ? !hit : hit;
    }
    case 'tier': {
      if (op === 'exists') return (c.tier_id != null) === want;
      const hit = c.tier_id != null && asList(op, value).some((v) => (typeof v === 'number' ? v === c.tier_id : v === c.tier));
      return negated(op) ? !hit : hit;
    }
    case 'tag': {
      const hit = c.tags.some((t) => asList(op, value).some((v) => (typeof v === 'number' ? v === t.id : v === t.name)));
      return negated(op) ? !hit : hit;
    }
    case 'set': {
      const set = field === 'platform' ? c.platforms : field === 'category' ? c.categories : c.groups;
      const hit = asList(op, value).some((v) => set.has(v));
      return negated(op) ? !hit : hit;
    }
    case 'gender': {
      const hit = asList(op, value).includes(c.gender);
      return negated(op) ? !hit : hit;
    }
    case 'coupon': {
      const offs = c.couponDays; // local-day offsets of the active coupons' expiry
      if (op === 'exists') return (offs.length > 0) === want;
      const [lo, hi] = op === 'between' ? value : op === '<' ? [0, value - 1] : [0, value];
      return offs.some((o) => o >= lo && o <= hi);
    }
  }
  throw new Error(`no brute force for ${field}`);
}

test(`random rules against a brute force (seed ${SEED})`, async (t) => {
  t.diagnostic(`seed ${SEED} (replay with SCRM_TEST_SEED=${SEED})`);
  const where = (what) => `seed ${SEED}: ${what}`;
  const rnd = prng(SEED);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // lo..hi
  const chance = (p) => rnd() < p;
  const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
  const some = (arr, n) => Array.from({ length: n }, () => pick(arr));
  async function call(method, p, body, ok = [200, 201], auth = op) {
    const r = await d.req(method, p, { ...auth, body });
    assert.ok(ok.includes(r.status), where(`${method} ${p} ${JSON.stringify(body)} -> ${r.status} ${r.text}`));
    return r;
  }
  let clockNow = 0;
  async function clockAt(sec) {
    const r = await call('PUT', '/api/v1/admin/clock', { offset_s: sec - Math.floor(Date.now() / 1000) }, [200], admin);
    clockNow = secOf(r.json.now);
    assert.ok(Math.abs(clockNow - sec) <= 30, where(`clock at ${r.json.now}, wanted ${iso(sec)}`));
  }

  // Owners: two operators and the admin. Channels (and groups, below) have no API yet: written to the database.
  const users = [1];
  for (const username of ['owner-a', 'owner-b']) users.push((await call('POST', '/api/v1/users', { username, role: 'operator', password: 'owner-password-123' }, [201], admin)).json.id);
  const channels = sqliteJson(d.db, "INSERT INTO channels(name, kind, created_at, updated_at) VALUES ('card', 'package_card', 1, 1), ('live', 'live', 1, 1), ('sms', 'sms', 1, 1) RETURNING id").map((r) => r.id);

  // [days from T0's day, hour, minute, new customers]; the last is T0: New
  // Year's Eve, 20:30 in New York, when UTC says 2027-01-01T01:30Z
  const T0DAY = dayOf(2026, 12, 31);
  const PHASES = [[-400, 21, 15, 30], [-370, 22, 40, 10], [-200, 19, 5, 15], [-90, 23, 30, 12], [-31, 0, 10, 8], [-30, 21, 0, 8],
    [-8, 12, 0, 8], [-7, 23, 40, 7], [-2, 20, 0, 5], [-1, 22, 0, 5], [0, 20, 30, 5]];
  await clockAt(localInstant(T0DAY + PHASES[0][0], PHASES[0][1], PHASES[0][2]) - 3600);

  // Tiers (a name to inject with), coupon templates, tags, auto tags.
  const tiers = [];
  for (const body of [{ name: 'Silver', min_points_12m: 100 }, { name: "Gold' OR '1'='1", min_points_12m: 400 }, { name: '钻石', min_spent_cents_12m: 300000 }]) {
    tiers.push((await call('POST', '/api/v1/tiers', body, [201], admin)).json);
  }
  const templates = [];
  for (const v of [1, 3, 7, 30, 365]) templates.push((await call('POST', '/api/v1/coupon-templates', { name: `valid ${v}`, kind: 'amount_off', value: 100, valid_days: v }, [201])).json.id);
  // two fixed ends on the evening of T0's day: one still ahead of T0, one just behind it
  templates.push((await call('POST', '/api/v1/coupon-templates', { name: 'until tonight', kind: 'gift', value: 0, valid_until: iso(localInstant(T0DAY, 23, 0)) }, [201])).json.id);
  templates.push((await call('POST', '/api/v1/coupon-templates', { name: 'until this afternoon', kind: 'gift', value: 0, valid_until: iso(localInstant(T0DAY, 18, 30)) }, [201])).json.id);
  const tags = [];
  for (const name of TAG_NAMES) tags.push((await call('POST', '/api/v1/tags', { name }, [201])).json);
  const AUTO = [
    { name: 'auto-spender', rule: { all: [{ field: 'total_spent_cents', op: '>=', value: 30000 }, { any: [{ field: 'platform', op: 'has', value: 'jd' }, { field: 'category', op: 'in', value: ['shoes', "x' OR 1=1 --"] }] }] }, timeBased: false },
    { name: 'auto-tagged-points', rule: { all: [{ field: 'tag', op: 'in', value: ["x' OR 1=1 --", tags[6].id] }, { field: 'points_balance', op: '>', value: 50 }] }, timeBased: false },
    { name: 'auto-recent', rule: { any: [{ field: 'days_since_last_order', op: '<=', value: 30 }, { field: 'days_since_last_checkin', op: '<', value: 3 }, { field: 'birthday_in_days', op: '<=', value: 7 }] }, timeBased: true },
  ];
  for (const a of AUTO) a.id = (await call('POST', '/api/v1/tags', { name: a.name, kind: 'auto', rule: a.rule }, [201])).json.id;

  // The world.
  const live = []; // customer ids
  const erased = new Set();
  const phoneOf = new Map();
  const checkinDay = new Map(); // id -> last local day number of a check-in
  const coupons = new Map(); // id -> [code]
  const orders = []; // {platform, external_id, buyer_phone} of every order sent
  const waitingPhones = []; // phones of unbound orders no customer has
  let seq = 0;
  const phone = () => `139${String(10000000 + SEED % 9000000 + ++seq * 7).slice(-8)}`;
  const randBirthday = () => {
    const r = rnd();
    if (r < 0.25) return undefined;
    const special = [[2, 29], [2, 28], [3, 1], [12, 31], [1, 1], [1, 2], [1, 7], [1, 8], [3, 14], [3, 15], [2, 27]];
    const [m, dd] = chance(0.5) ? pick(special) : [int(1, 12), int(1, 28)];
    const md = `${String(m).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
    return r < 0.5 ? `--${md}` : `${m === 2 && dd === 29 ? pick([1988, 1996, 2000]) : int(1950, 2008)}-${md}`;
  };
  const randAttrValue = (key) => {
    switch (key) {
      case 'level': return chance(0.8) ? int(0, 5) : String(int(0, 5));
      case 'city': case 'note': return pick(ATTR_STRINGS);
      case 'score': return pick([3.5, -1.25, 10, 0, 2.75, 100.5, -7]);
      case 'vip': return chance(0.5);
      case '1st': return chance(0.5) ? int(1, 3) : pick(['a', 'b']);
      default: return pick([int(-3, 12), pick(ATTR_STRINGS), chance(0.5), pick([0.5, 2.5, 3.0])]);
    }
  };
  const randAttrs = () => {
    const a = {};
    for (const k of ATTR_KEYS) if (chance(0.45)) a[k] = randAttrValue(k);
    return a;
  };
  const NAMES = ['张伟', '王芳', 'Li, Na', 'O"Neil', '=SUM(A1)', 'Zoë', '李娜 换行', 'plain', "x' OR 1=1 --"];

  async function newCustomer() {
    const body = { name: `${pick(NAMES)} ${++seq}` };
    if (chance(0.7)) { body.phone = phone(); }
    if (chance(0.85)) body.gender = pick(['m', 'f', 'u']);
    const b = randBirthday();
    if (b) body.birthday = b;
    if (chance(0.6)) body.source_channel_id = pick(channels);
    if (chance(0.6)) body.owner_user_id = pick(users);
    if (chance(0.15)) body.stage = pick(STAGES);
    if (chance(0.8)) body.attrs = randAttrs();
    const c = (await call('POST', '/api/v1/customers', body, [201])).json;
    live.push(c.id);
    if (c.phone) phoneOf.set(c.id, c.phone);
  }
  function paidAt(now) {
    // some in the local evening, when the UTC date is already the next day
    const back = int(0, 45);
    const day = localDay(now) - back;
    const H = chance(0.5) ? int(19, 23) : pick([0, 1, 3, 4, 5, 8, 11, 12, 15, 18]); // never 02:xx, a gap on spring-forward days
    const t = localInstant(day, H, int(0, 59));
    return t <= now ? t : now - 60;
  }
  function items() {
    return Array.from({ length: int(0, 3) }, (_, i) => {
      const it = { sku: `sku-${i}`, price_cents: int(100, 20000) };
      if (chance(0.85)) it.category = pick(CATEGORIES);
      return it;
    });
  }
  async function newOrder(cid) {
    const o = { platform: pick(PLATFORMS), external_id: `o-${SEED}-${++seq}`, amount_cents: int(0, 60000), paid_at: iso(paidAt(clockNow)) };
    const its = items();
    if (its.length || chance(0.5)) o.items = its;
    const how = rnd();
    if (how < 0.5) o.customer_id = cid;
    else if (how < 0.75 && phoneOf.has(cid)) o.buyer_phone = phoneOf.get(cid);
    else { o.buyer_phone = phone(); waitingPhones.push(o.buyer_phone); }
    if (chance(0.08)) o.status = pick(['refunded', 'cancelled']);
    await call('POST', '/api/v1/orders', o, [201]);
    orders.push({ platform: o.platform, external_id: o.external_id, buyer_phone: o.buyer_phone ?? null });
  }

  for (const [off, H, M, nNew] of PHASES) {
    const at = localInstant(T0DAY + off, H, M);
    await clockAt(at);
    for (let i = 0; i < nNew; i++) await newCustomer();
    for (const cid of [...live]) {
      if (erased.has(cid)) continue;
      const base = `/api/v1/customers/${cid}`;
      if (chance(0.35)) await newOrder(cid);
      if (chance(0.3)) {
        const r = await call('POST', `${base}/checkin`, undefined, [200]);
        const [y, m, dd] = r.json.day.split('-').map(Number);
        checkinDay.set(cid, dayOf(y, m, dd));
        assert.equal(dayOf(y, m, dd), T0DAY + off, where(`check-in day ${r.json.day} at ${iso(at)}`));
      }
      if (chance(0.2)) await call('POST', `${base}/points`, { delta: int(1, 300), reason: 'gift' }, [201]);
      if (chance(0.05)) await call('POST', `${base}/points`, { delta: -int(1, 200), reason: 'fix' }, [201, 422]);
      if (chance(0.15)) await call('POST', `${base}/wallet`, { delta_cents: int(100, 50000), reason: 'topup' }, [201]);
      if (chance(0.05)) await call('POST', `${base}/wallet`, { delta_cents: -int(100, 30000), reason: 'spend' }, [201, 422]);
      if (chance(0.22)) {
        const tid = pick(templates);
        // a template past its valid_until issues nothing
        const r = await call('POST', `${base}/coupons`, { template_id: tid }, tid === templates[6] && clockNow > localInstant(T0DAY, 18, 30) ? [422] : [201]);
        if (r.status === 201) {
          if (!coupons.has(cid)) coupons.set(cid, []);
          coupons.get(cid).push(r.json.code);
        }
      }
      if (chance(0.05) && coupons.has(cid)) await call('POST', `/api/v1/coupons/${pick(coupons.get(cid))}/redeem`, {}, [200, 409]);
      if (chance(0.2)) {
        const ts = some(tags, int(1, 2));
        await call('POST', `${base}/tags`, chance(0.5) ? { tag_ids: ts.map((x) => x.id) } : { names: ts.map((x) => x.name) }, [200]);
      }
      if (chance(0.06)) await call('DELETE', `${base}/tags/${pick(tags).id}`, undefined, [204]);
      if (chance(0.1)) {
        const patch = {};
        for (const k of ATTR_KEYS) if (chance(0.3)) patch[k] = chance(0.25) ? null : randAttrValue(k);
        await call('PATCH', base, { attrs: patch }, [200]);
      }
      if (chance(0.04)) await call('PATCH', base, { stage: pick(STAGES) }, [200]);
      if (chance(0.04)) await call('PATCH', base, { gender: pick(['m', 'f', 'u']), birthday: randBirthday() ?? null }, [200]);
      if (chance(0.04)) await call('PATCH', base, { owner_user_id: chance(0.2) ? null : pick(users), source_channel_id: chance(0.2) ? null : pick(channels) }, [200]);
      if (chance(0.03)) await call('POST', `${base}/content`, { kind: 'share' }, [201]);
      if (chance(0.02)) await call('PUT', `${base}/tier`, { tier_id: pick(tiers).id, until: iso(at + int(5, 60) * 86400) }, [200]);
      if (chance(0.02) && !phoneOf.has(cid) && waitingPhones.length) {
        // a customer gets the phone of waiting orders: they are bound to them
        const p = waitingPhones.splice(int(0, waitingPhones.length - 1), 1)[0];
        await call('PATCH', base, { phone: p }, [200]);
        phoneOf.set(cid, p);
      }
      if (chance(0.008)) {
        await call('DELETE', base, undefined, [204]);
        erased.add(cid);
      }
    }
    // order changes: refunds, cancellations, paying again, corrections, the binding flow
    for (const o of orders) {
      const r = rnd();
      if (r < 0.06) await call('POST', '/api/v1/orders', { platform: o.platform, external_id: o.external_id, status: pick(['refunded', 'cancelled']) }, [200]);
      else if (r < 0.08) await call('POST', '/api/v1/orders', { platform: o.platform, external_id: o.external_id, status: 'paid' }, [200]);
      else if (r < 0.11) await call('POST', '/api/v1/orders', { platform: o.platform, external_id: o.external_id, amount_cents: int(0, 90000), items: items(), paid_at: iso(paidAt(clockNow)) }, [200]);
    }
  }
  // groups: members among the live and the erased
  const groups = sqliteJson(d.db, "INSERT INTO groups(name, kind, created_at, updated_at) VALUES ('g1', 'basic', 1, 1), ('g2', 'koc', 1, 1), ('g3', 'high_value', 1, 1) RETURNING id").map((r) => r.id);
  const membership = new Map();
  const rows = [];
  for (const cid of live) {
    const gs = groups.filter(() => chance(0.3));
    membership.set(cid, new Set(gs));
    for (const g of gs) rows.push(`(${g}, ${cid}, 1)`);
  }
  if (rows.length) sqliteJson(d.db, `INSERT INTO group_members(group_id, customer_id, joined_at) VALUES ${rows.join(', ')}`);

  // The world as the API tells it, at the clock's instant.
  async function readBack() {
    const now = clockNow;
    const today = localDay(now);
    const listed = (await listAll(d, '/api/v1/customers', op)).items;
    assert.deepEqual(listed.map((c) => c.id).sort((a, b) => a - b), live.filter((id) => !erased.has(id)).sort((a, b) => a - b), where('the live customers'));
    const allOrders = (await listAll(d, '/api/v1/orders', op)).items;
    assert.equal(allOrders.length, orders.length, where('orders'));
    const world = [];
    for (const c of listed) {
      const mine = allOrders.filter((o) => o.customer_id === c.id && o.status === 'paid');
      const paid = mine.map((o) => secOf(o.paid_at));
      // the figures on the customer are those of its paid orders
      assert.deepEqual([c.order_count, c.total_spent_cents, secOf(c.first_order_at), secOf(c.last_order_at)],
        [mine.length, mine.reduce((s, o) => s + o.amount_cents, 0), paid.length ? Math.min(...paid) : null, paid.length ? Math.max(...paid) : null],
        where(`figures of customer ${c.id}`));
      const couponDays = [];
      if (coupons.has(c.id)) {
        const cs = (await listAll(d, `/api/v1/customers/${c.id}/coupons`, op)).items;
        assert.equal(cs.length, coupons.get(c.id).length, where(`coupons of ${c.id}`));
        for (const cp of cs) {
          const exp = secOf(cp.expires_at);
          assert.equal(cp.status === 'active', cp.status !== 'used' && exp >= now, where(`coupon ${cp.code} status ${cp.status} at ${iso(now)}`));
          if (cp.status === 'active') couponDays.push(localDay(exp) - today);
        }
      }
      let birthMonth = null, birthDay = null;
      if (c.birthday) [birthMonth, birthDay] = c.birthday.slice(-5).split('-').map(Number);
      const ds = (sec) => (sec == null ? null : today - localDay(sec));
      world.push({
        ...c,
        birthMonth, birthDay, couponDays,
        days: {
          days_since_last_order: ds(secOf(c.last_order_at)), days_since_first_order: ds(secOf(c.first_order_at)),
          days_since_created: ds(secOf(c.created_at)), days_since_last_checkin: checkinDay.has(c.id) ? today - checkinDay.get(c.id) : null,
        },
        platforms: new Set(mine.map((o) => o.platform)),
        categories: new Set(mine.flatMap((o) => o.items.map((i) => i.category).filter((x) => x != null))),
        groups: membership.get(c.id) ?? new Set(),
      });
    }
    const p = localParts(now);
    return { now, today, month: p.m, world };
  }

  // Random rules, with values drawn from the world so that comparisons bite.
  function ruleGen(ctx) {
    const W = ctx.world;
    const around = (xs, lo, hi) => {
      const vals = xs.filter((x) => x != null);
      const v = vals.length && chance(0.8) ? pick(vals) + pick([-1, 0, 0, 1]) : int(lo, hi);
      return Math.max(lo, Math.min(hi, v));
    };
    const sorted2 = (a, b) => (a <= b ? [a, b] : [b, a]);
    const attrPool = W.flatMap((c) => Object.values(c.attrs)).concat(ATTR_STRINGS, [0, 1, 2.5, true, false, -3]);
    function valueFor(field, kind, op) {
      const one = () => {
        switch (kind) {
          case 'num': return around(W.map((c) => c[field]), field === 'order_count' ? 0 : -5, field === 'order_count' ? 8 : 120000);
          case 'id': return field === 'owner_user_id' ? pick([...users, 9999]) : pick([...channels, 9999]);
          case 'days': return around(W.map((c) => c.days[field]), 0, chance(0.02) ? 36500 : 500);
          case 'bmonth': return chance(0.2) ? 'current' : int(1, 12);
          case 'bdays': return chance(0.1) ? int(0, 366) : int(0, 75);
          case 'stage': return pick(STAGES);
          case 'tier': return pick([...tiers.map((x) => x.name), ...tiers.map((x) => x.id)]); // a tier, tag or group must exist
          case 'tag': return pick([...tags.map((x) => x.name), ...tags.map((x) => x.id), ...AUTO.map((a) => a.name), ...AUTO.map((a) => a.id)]);
          case 'gender': return pick(['m', 'f', 'u']);
          case 'coupon': return around(W.flatMap((c) => c.couponDays), 0, chance(0.1) ? 400 : 40);
          case 'attr': return pick(attrPool);
          case 'set':
            if (field === 'platform') return pick([...PLATFORMS, 'nowhere']);
            if (field === 'category') return pick([...CATEGORIES, 'none', 'SHOES']);
            return pick(groups);
        }
        throw new Error(kind);
      };
      if (op === 'exists') return pick([true, false, undefined]);
      if (op === 'in' || op === 'not_in') {
        if (chance(0.01)) return Array.from({ length: 1000 }, one);
        return Array.from({ length: int(1, 4) }, one);
      }
      if (op === 'between') {
        const a = one(), b = one();
        // numbers must come low first (the compiler refuses otherwise); other values may not
        return typeof a === 'number' && typeof b === 'number' ? sorted2(a, b) : [a, b];
      }
      return one();
    }
    function leaf() {
      const field = chance(0.15) ? `attrs.${pick([...ATTR_KEYS, 'missing'])}` : pick(Object.keys(KIND));
      const kind = field.startsWith('attrs.') ? 'attr' : KIND[field];
      const op = pick(OPS[kind]);
      const value = valueFor(field, kind, op);
      const n = { field, op };
      if (value !== undefined) n.value = value;
      return n;
    }
    function node(depth) {
      if (depth >= 4 || chance(depth === 1 ? 0.3 : 0.55)) return leaf();
      const r = rnd();
      if (r < 0.2) return { not: node(depth + 1) };
      const kids = Array.from({ length: int(1, 4) }, () => node(depth + 1));
      return r < 0.6 ? { all: kids } : { any: kids };
    }
    return node(1);
  }

  const probe = (await call('POST', '/api/v1/audiences', { name: `probe ${SEED}`, rule: { field: 'order_count', op: '>=', value: 0 } }, [201])).json;
  const stats = { rules: 0, empty: 0, all: 0, listed: 0 };
  const coverage = new Map(); // field kind -> {leaves, split}; and kind:op -> count
  function cover(n, ctx) {
    if (n.all || n.any) return (n.all || n.any).forEach((x) => cover(x, ctx));
    if (n.not) return cover(n.not, ctx);
    const kind = n.field.startsWith('attrs.') ? 'attrs' : n.field;
    const hits = ctx.world.filter((c) => matches(n, c, ctx)).length;
    const cv = coverage.get(kind) ?? { leaves: 0, split: 0, ops: new Set() };
    cv.leaves++;
    if (hits > 0 && hits < ctx.world.length) cv.split++;
    cv.ops.add(n.op);
    coverage.set(kind, cv);
  }
  async function checkRule(rule, ctx, label) {
    cover(rule, ctx);
    const expected = ctx.world.filter((c) => matches(rule, c, ctx)).map((c) => c.id).sort((a, b) => b - a);
    const r = await d.req('POST', '/api/v1/audiences/preview', { ...op, body: { rule } });
    const what = `${label}: rule ${JSON.stringify(rule)}`;
    assert.equal(r.status, 200, where(`${what}: ${r.text}`));
    assert.equal(r.json.count, expected.length, where(`${what}: count ${r.json.count}, brute force ${expected.length} (${expected.slice(0, 30)})`));
    assert.deepEqual(r.json.sample.map((c) => c.id), expected.slice(0, 20), where(`${what}: the sample is the newest 20`));
    stats.rules++;
    if (expected.length === 0) stats.empty++;
    if (expected.length === ctx.world.length) stats.all++;
    if (expected.length > 20 || chance(0.15)) {
      // every member, once, through the pages of a saved audience
      const p = await d.req('PATCH', `/api/v1/audiences/${probe.id}`, { ...op, body: { rule } });
      assert.equal(p.status, 200, where(`${what}: PATCH ${p.text}`));
      assert.deepEqual(p.json.rule, rule, where('the rule is kept as sent'));
      assert.equal(p.json.customer_count, expected.length, where(`${what}: customer_count`));
      const limit = pick([500, 500, 17, 50]);
      const got = (await listAll(d, `/api/v1/audiences/${probe.id}/customers`, op, { limit })).items.map((c) => c.id);
      assert.deepEqual(got, expected, where(`${what}: the members (limit ${limit})`));
      stats.listed++;
    }
  }
  async function checkAutoTags(ctx, which) {
    for (const a of AUTO.filter(which)) {
      const holders = ctx.world.filter((c) => c.tags.some((x) => x.id === a.id)).map((c) => c.id).sort((x, y) => x - y);
      const expected = ctx.world.filter((c) => matches(a.rule, c, ctx)).map((c) => c.id).sort((x, y) => x - y);
      assert.deepEqual(holders, expected, where(`auto tag ${a.name} at ${iso(ctx.now)}`));
      const tg = (await call('GET', `/api/v1/tags/${a.id}`)).json;
      assert.equal(tg.customer_count, expected.length, where(`customer_count of ${a.name}`));
    }
  }

  // Instant 1: T0, after the last phase. Auto tags that do not read the
  // calendar were kept current by every write.
  let ctx = await readBack();
  assert.equal(ctx.today, T0DAY);
  await checkAutoTags(ctx, (a) => !a.timeBased);
  await call('POST', '/api/v1/admin/jobs/daily', undefined, [200], admin);
  ctx = await readBack();
  await checkAutoTags(ctx, () => true);
  // the fixed cases of the calendar first: birthdays over the year end, the
  // current month in the business zone (December, while UTC says January)
  for (const rule of [{ field: 'birthday_month', op: '=', value: 'current' }, { field: 'birthday_month', op: '=', value: 12 },
    { field: 'birthday_in_days', op: '<=', value: 1 }, { field: 'birthday_in_days', op: '=', value: 59 }, { field: 'birthday_in_days', op: 'between', value: [1, 8] },
    { field: 'days_since_created', op: '=', value: 0 }, { field: 'days_since_last_checkin', op: '<', value: 2 }, { field: 'coupon_expiring_in_days', op: '<=', value: 0 },
    { field: 'coupon_expiring_in_days', op: 'exists' }, { field: 'days_since_last_order', op: 'between', value: [0, 1] }]) {
    await checkRule(rule, ctx, 'T0 fixed');
  }
  for (let i = 0; i < RULES_PER_INSTANT; i++) await checkRule(ruleGen(ctx), ctx, `T0 #${i}`);

  // Instant 2: noon on the day summer time starts; instant 3: the day before a leap day.
  for (const [label, day, H, M] of [['T1', dayOf(2027, 3, 14), 12, 0], ['T2', dayOf(2028, 2, 28), 10, 0]]) {
    await clockAt(localInstant(day, H, M));
    await call('POST', '/api/v1/admin/jobs/daily', undefined, [200], admin);
    ctx = await readBack();
    assert.equal(ctx.today, day);
    await checkAutoTags(ctx, () => true);
    for (const rule of [{ field: 'birthday_month', op: 'in', value: ['current', 2] }, { field: 'birthday_in_days', op: '=', value: 0 },
      { field: 'birthday_in_days', op: '=', value: 1 }, { field: 'birthday_in_days', op: '<', value: 366 }, { field: 'days_since_created', op: '>', value: 365 }]) {
      await checkRule(rule, ctx, `${label} fixed`);
    }
    for (let i = 0; i < RULES_PER_INSTANT; i++) await checkRule(ruleGen(ctx), ctx, `${label} #${i}`);
  }
  // the tables the values tried to reach are all still there
  const [counts] = sqliteJson(d.db, 'SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM tags) AS tags');
  assert.deepEqual(counts, { customers: live.length, orders: orders.length, tags: tags.length + AUTO.length });
  t.diagnostic(`${live.length} customers (${erased.size} erased), ${orders.length} orders; ${stats.rules} rules, ${stats.empty} matching nobody, ${stats.all} everybody, ${stats.listed} listed in full`);
  // most rules must split the customers, or the test proves little; and every field must have split them somewhere
  assert.ok(stats.empty + stats.all < stats.rules * 0.6, where(`too many trivial rules: ${JSON.stringify(stats)}`));
  for (const f of [...Object.keys(KIND), 'attrs']) {
    const cv = coverage.get(f);
    assert.ok(cv && cv.split > 0, where(`no condition on ${f} told customers apart: ${JSON.stringify(cv && { ...cv, ops: [...cv.ops] })}`));
  }
  t.diagnostic(`conditions per field (leaves/splitting/ops): ${[...coverage].map(([f, cv]) => `${f} ${cv.leaves}/${cv.split}/${cv.ops.size}`).join(', ')}`);
});
