// Access: every route of the route table, tried with no credentials, with each
// role by bearer token and by session cookie (with and without X-CSRF-Token),
// and with credentials that must not work (a revoked token, a disabled user's
// session, garbage, and, with the test clock, an expired session and an expired
// token). The table of who may do what comes from two sources that must agree:
// openapi.json (x-scrm-role of every operation) and the route table in
// src/http/routes.c. Then: secrets (passwords, tokens, session cookies, webhook
// secrets, WeCom robot keys and corp secrets, WeCom access tokens) never appear
// in any answer but the one that created them, the daemon's log, the audit log,
// /metrics, nor in clear in the database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileDaemon, assertError, assertNoSecrets, ROOT, ADMIN_PASSWORD, sqliteJson, auditAll, sleep, unique, isoSeconds } from './lib.mjs';
import { startReceiver } from './receiver.mjs';

const RANK = { none: 0, viewer: 1, operator: 2, admin: 3 };
const ROLES = ['viewer', 'operator', 'admin'];
const FAKE = '999999';
const SESSION_HOURS = 168; // README: sessions end after 168 hours or 12 idle hours
const IDLE_HOURS = 12;

// ---- the table of who may do what, from two independent sources ----

function fromOpenapi() {
  const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'src/api/openapi.json'), 'utf8'));
  const out = new Map();
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      if (m === 'parameters') continue;
      out.set(`${m.toUpperCase()} ${p}`, { role: op['x-scrm-role'], opId: op.operationId });
    }
  }
  return out;
}

function fromRoutesC() {
  const src = fs.readFileSync(path.join(ROOT, 'src/http/routes.c'), 'utf8');
  let table = src.slice(src.indexOf('http_routes[] = {'));
  table = table.slice(0, table.indexOf('{NULL, NULL'));
  table = table.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, ' ');
  const roles = { ROLE_NONE: 'none', V: 'viewer', ROLE_VIEWER: 'viewer', O: 'operator', ROLE_OPERATOR: 'operator', A: 'admin', ROLE_ADMIN: 'admin' };
  const re = /\{\s*"([A-Z]+)",\s*"([^"]+)",\s*(\w+),\s*(\w+),\s*([\w| ]+?),\s*"([^"]+)"\s*\}/g;
  const out = new Map();
  for (const m of table.matchAll(re)) {
    const [, method, p, , role, flags, opId] = m;
    assert.ok(roles[role], `routes.c: unknown role ${role} for ${method} ${p}`);
    const key = `${method} ${p}`;
    assert.ok(!out.has(key), `routes.c: ${key} twice`);
    out.set(key, { method, path: p, role: roles[role], opId, flags: new Set(flags.split('|').map((f) => f.trim()).filter((f) => f !== '0')) });
  }
  // every entry of the table was read (none skipped by a pattern too narrow)
  assert.equal(out.size, (table.match(/\{\s*"/g) || []).length, 'routes.c: an entry the parser did not read');
  return out;
}

const OPENAPI = fromOpenapi();
const ROUTES_C = fromRoutesC();
const ROUTES = [...ROUTES_C.values()];
// the routes that answer without credentials, kept here by hand as a third check
const PUBLIC = ['GET /healthz', 'GET /api/v1/openapi.json', 'POST /api/v1/auth/login', 'POST /api/v1/auth/logout',
  'GET /api/v1/auth/session', 'GET /c/{code}'];

const allowed = (role, route) => RANK[role] >= RANK[route.role];
const isWrite = (route) => route.method !== 'GET';

// ---- the daemon, and every answer it gives, kept for the secrets scan ----

const rx = await startReceiver();
const d = await fileDaemon({ env: { SCRM_TEST_CLOCK: '1' }, config: '[notify]\npoll_ms = 50\nretry_base_s = 1\nretry_max_s = 2\n' });
test.after(() => rx.close());
const answers = []; // {where, text, oneTime: [secret texts this answer may show]}
{
  const req = d.req.bind(d);
  d.req = async (method, p, opts = {}) => {
    const r = await req(method, p, opts);
    const a = { where: `${method} ${p} -> ${r.status}`, text: r.text, headers: [...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n'), oneTime: [] };
    answers.push(a);
    r.record = a;
    return r;
  };
}
let requests = 0; // requests of the access matrix
const passedWrites = new Map(); // status -> allowed writes that answered it

async function ok(r, status = 200) {
  assert.equal(r.status, status, `${r.record?.where}: ${r.text}`);
  return r.json;
}
const nowS = () => Math.floor(Date.now() / 1000);

const adminSession = await d.login();
d.adminSession = adminSession;
const adm = { token: await d.adminToken() };
const secrets = { passwords: [ADMIN_PASSWORD], tokens: [], cookies: [], other: [] };

async function makeToken(role, extra = {}) {
  const r = await d.req('POST', '/api/v1/tokens', { ...adm, body: { name: unique(`acc-${role}`), role, ...extra } });
  const j = await ok(r, 201);
  r.record.oneTime.push(j.token);
  secrets.tokens.push(j.token);
  return j;
}
async function makeUser(role) {
  const username = unique(`acc-${role}`).slice(0, 60);
  const password = `pw-${crypto.randomBytes(12).toString('hex')}`;
  const u = await ok(await d.req('POST', '/api/v1/users', { ...adm, body: { username, password, role } }), 201);
  secrets.passwords.push(password);
  return { ...u, username, password };
}
async function login(user) {
  const s = await d.login(user.username, user.password);
  secrets.cookies.push(s.cookie.split('=')[1]);
  return { cookie: s.cookie, csrf: s.csrf };
}

// credentials of each role, by token and by session
const tok = {};
const sess = {};
const users = {};
for (const role of ROLES) {
  tok[role] = (await makeToken(role)).token;
  users[role] = await makeUser(role);
  sess[role] = await login(users[role]);
}
// credentials that must not work: a revoked token, a disabled user's session,
// garbage; and (with the test clock, at the end) an expired token
const revoked = await makeToken('admin');
await ok(await d.req('DELETE', `/api/v1/tokens/${revoked.id}`, adm), 204);
const expiring = await makeToken('admin', { expires_at: isoSeconds(nowS() + 3600) });
const gone = await makeUser('admin');
const goneSession = await login(gone);
const goneTokenR = await d.req('POST', '/api/v1/tokens', { session: goneSession, body: { name: 'made-by-gone', role: 'admin' } });
const goneToken = await ok(goneTokenR, 201);
goneTokenR.record.oneTime.push(goneToken.token);
secrets.tokens.push(goneToken.token);
await ok(await d.req('DELETE', `/api/v1/users/${gone.id}`, adm), 204);
const DEAD = {
  'revoked token': { token: revoked.token },
  'disabled user session': { session: goneSession },
  'garbage bearer': { token: `scrm_${crypto.randomBytes(32).toString('base64url')}` },
  'garbage cookie': { session: { cookie: `scrm_session=${crypto.randomBytes(32).toString('base64url')}`, csrf: goneSession.csrf } },
  'basic auth': { headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` } },
};

// ---- seeded records: a real id for every kind of path parameter ----

const post = async (p, body, status = 201) => ok(await d.req('POST', p, { ...adm, body }), status);
const seed = {};
seed.customer = (await post('/api/v1/customers', { name: '访问测试', phone: '13900009999' })).id;
seed.customer2 = (await post('/api/v1/customers', { name: '大使' })).id;
seed.tag = (await post('/api/v1/tags', { name: unique('acc-tag') })).id;
await post(`/api/v1/customers/${seed.customer}/tags`, { tag_ids: [seed.tag] }, 200);
seed.audience = (await post('/api/v1/audiences', { name: unique('acc-aud'), rule: { field: 'order_count', op: '>=', value: 0 } })).id;
seed.template = (await post('/api/v1/coupon-templates', { name: unique('acc-tpl'), kind: 'amount_off', value: 500, valid_days: 7 })).id;
seed.coupon = (await post(`/api/v1/customers/${seed.customer}/coupons`, { template_id: seed.template })).code;
seed.reward = (await post('/api/v1/rewards', { name: unique('acc-rw'), kind: 'gift', points_cost: 10, stock: 5 })).id;
const acq = await post('/api/v1/channels', { name: unique('acc-ch'), kind: 'qr', contact_url: 'https://work.weixin.qq.com/ca/x' });
seed.channel = acq.id;
seed.liveCode = acq.code;
seed.group = (await post('/api/v1/groups', { name: unique('acc-g'), kind: 'basic' })).id;
await post(`/api/v1/groups/${seed.group}/members`, { customer_ids: [seed.customer] }, 200);
seed.ambassador = (await post('/api/v1/ambassadors', { customer_id: seed.customer2, commission_pct: 10 })).id;
seed.sop = (await post('/api/v1/sops', { name: unique('acc-sop'), enabled: false, trigger: { type: 'event', event: 'customer.created' }, actions: [{ type: 'add_tag', tag: seed.tag }] })).id;
seed.tier = (await post('/api/v1/tiers', { name: unique('acc-tier'), min_points_12m: 100000000 })).id;
seed.messageChannel = (await post('/api/v1/message-channels', { name: unique('acc-log'), kind: 'log' })).id;
seed.delivery = (await post(`/api/v1/message-channels/${seed.messageChannel}/test`, { text: 'access test' }, 202)).id;
seed.webhook = (await post('/api/v1/webhooks', { url: `${rx.url}/acc-hook`, events: ['order.created'], secret: 'acc-webhook-secret-0123456789' })).id;
secrets.other.push('acc-webhook-secret-0123456789');
seed.order = (await post('/api/v1/orders', { platform: 'tmall', external_id: unique('acc-o'), amount_cents: 100, status: 'paid', paid_at: isoSeconds(nowS() - 60) })).id;
seed.user = users.viewer.id;
seed.token = revoked.id;

const BY_COLLECTION = {
  users: 'user', tokens: 'token', customers: 'customer', orders: 'order', tags: 'tag', audiences: 'audience',
  'coupon-templates': 'template', coupons: 'coupon', rewards: 'reward', channels: 'channel', groups: 'group',
  ambassadors: 'ambassador', sops: 'sop', 'message-channels': 'messageChannel', webhooks: 'webhook',
  deliveries: 'delivery', tiers: 'tier',
};
// A path with its parameters filled: real ids of seeded records, or FAKE.
function fill(route, real) {
  return route.path.replace(/\{(\w+)\}/g, (_, name) => {
    if (!real) return FAKE;
    if (name === 'tag_id') return String(seed.tag);
    if (name === 'customer_id') return String(seed.customer);
    if (route.path.startsWith('/c/')) return seed.liveCode;
    const coll = route.path.split('/')[3];
    const key = BY_COLLECTION[coll];
    return key && seed[key] !== undefined ? encodeURIComponent(String(seed[key])) : FAKE;
  });
}

// One request of the matrix. Requests expected to reach the handler use fake
// ids and a body that fails validation (nothing changes); requests expected to
// be refused use the seeded records' ids, so that a refusal that leaked would
// show in the read-back at the end.
async function call(route, auth, expectRefused, extraHeaders = {}) {
  requests++;
  const real = expectRefused || route.method === 'GET';
  const opts = { ...auth, headers: { ...(auth.headers || {}), ...extraHeaders } };
  if (isWrite(route) && route.method !== 'DELETE') opts.body = { access_probe: 1 };
  return d.req(route.method, fill(route, real), opts);
}

// a limited number of requests in flight
async function pool(jobs, n = 8) {
  let i = 0;
  const worker = async () => { while (i < jobs.length) { const j = jobs[i++]; await j(); } };
  await Promise.all(Array.from({ length: n }, worker));
}

function assertPassed(r, what) {
  assert.ok(r.status !== 401 && r.status !== 403, `${what}: refused (${r.status}) but allowed: ${r.text}`);
  assert.ok(r.status < 500, `${what}: ${r.status} ${r.text}`);
}
function assert401(r, what) {
  assertError(r, 401, 'unauthorized');
  assert.match(r.headers.get('www-authenticate') || '', /^Bearer realm=/, what);
}
function assert403Role(r, route, what) {
  assert.equal(r.status, 403, `${what}: expected 403, got ${r.status}: ${r.text}`);
  assertError(r, 403, 'forbidden');
  assert.match(r.json.error.message, new RegExp(`needs the ${route.role} role`), what);
}
function assert403Csrf(r, what) {
  assert.equal(r.status, 403, `${what}: a cookie write without X-CSRF-Token got ${r.status}: ${r.text}`);
  assertError(r, 403, 'forbidden', 'X-CSRF-Token');
}

// ---- tests ----

test('the table of who may do what: openapi.json and routes.c agree, route for route', () => {
  assert.ok(ROUTES.length >= 100, `only ${ROUTES.length} routes read from routes.c`);
  for (const [key, r] of ROUTES_C) {
    const o = OPENAPI.get(key);
    assert.ok(o, `${key} is in routes.c but not in openapi.json`);
    assert.equal(o.role, r.role, `${key}: x-scrm-role ${o.role} but routes.c says ${r.role}`);
    assert.equal(o.opId, r.opId, `${key}: operationId`);
    assert.equal(r.flags.has('R_PUBLIC'), r.role === 'none', `${key}: R_PUBLIC and ROLE_NONE go together`);
  }
  for (const [key, o] of OPENAPI) {
    assert.ok(ROUTES_C.has(key), `${key} is in openapi.json but not in routes.c`);
    assert.ok(o.role in RANK, `${key}: x-scrm-role ${o.role}`);
  }
  assert.deepEqual(ROUTES.filter((r) => r.role === 'none').map((r) => `${r.method} ${r.path}`).sort(), [...PUBLIC].sort());
  // only the login may be posted with a cookie and no CSRF token
  assert.deepEqual(ROUTES.filter((r) => r.flags.has('R_NO_CSRF')).map((r) => `${r.method} ${r.path}`), ['POST /api/v1/auth/login']);
});

test('every route, with no credentials, each role by token and by session, and cookie writes without X-CSRF-Token', async () => {
  const jobs = [];
  for (const route of ROUTES) {
    const name = `${route.method} ${route.path}`;
    jobs.push(async () => {
      const r = await call(route, {}, route.role !== 'none');
      if (route.role === 'none') assertPassed(r, `${name} without credentials`);
      else assert401(r, `${name} without credentials`);
    });
    for (const role of ROLES) {
      const may = allowed(role, route);
      for (const [how, auth] of [['token', { token: tok[role] }], ['session', { session: sess[role] }]]) {
        jobs.push(async () => {
          const what = `${name} as ${role} by ${how}`;
          const r = await call(route, auth, !may);
          if (may && how === 'token' && name === 'PATCH /api/v1/me' && r.status === 403) {
            // a token has no profile to change (auth.test.mjs): refused by the handler, not for its role
            assertError(r, 403, 'forbidden');
            assert.doesNotMatch(r.json.error.message, /needs the/);
          } else if (may) {
            assertPassed(r, what);
            if (isWrite(route)) passedWrites.set(r.status, [...(passedWrites.get(r.status) || []), `${name} as ${role}`]);
          }
          else assert403Role(r, route, what);
        });
      }
      if (isWrite(route)) {
        jobs.push(async () => {
          const what = `${name} as ${role} by session without X-CSRF-Token`;
          const r = await call(route, { session: { cookie: sess[role].cookie } }, true);
          if (route.flags.has('R_NO_CSRF')) assertPassed(r, what);
          else if (may) assert403Csrf(r, what);
          else assert403Role(r, route, what);
        });
        jobs.push(async () => {
          const what = `${name} as ${role} by session with a wrong X-CSRF-Token`;
          const wrong = sess[role].csrf.slice(0, -1) + (sess[role].csrf.endsWith('A') ? 'B' : 'A');
          const r = await call(route, { session: { cookie: sess[role].cookie } }, true, { 'X-CSRF-Token': wrong });
          if (route.flags.has('R_NO_CSRF')) assertPassed(r, what);
          else if (may) assert403Csrf(r, what);
          else assert403Role(r, route, what);
        });
      }
    }
  }
  await pool(jobs);
  // the allowed writes were sent with fake ids or a body that fails validation: none took effect
  for (const [status, who] of passedWrites) assert.ok(status >= 400, `allowed writes answered ${status}: ${who.join(', ')}`);
});

test('every route refuses a revoked token, a disabled user\'s session and garbage credentials with 401', async () => {
  const jobs = [];
  for (const route of ROUTES) {
    for (const [how, auth] of Object.entries(DEAD)) {
      jobs.push(async () => {
        const what = `${route.method} ${route.path} with a ${how}`;
        const r = await call(route, auth, route.role !== 'none');
        if (route.role === 'none') assertPassed(r, what);
        else assert401(r, what);
      });
    }
  }
  await pool(jobs);
});

test('API tokens outlive the user who created them: deactivating a user ends their sessions, not their tokens', async () => {
  // documented in the README; revoke such tokens with DELETE /tokens/{id}
  assert.equal((await d.req('GET', '/api/v1/me', { token: goneToken.token })).status, 200);
  assert401(await d.req('GET', '/api/v1/me', { session: goneSession }), 'disabled user session');
  // and the disabled user cannot log in again
  const r = await d.req('POST', '/api/v1/auth/login', { body: { username: gone.username, password: gone.password } });
  assertError(r, 401, 'unauthorized');
  await ok(await d.req('DELETE', `/api/v1/tokens/${goneToken.id}`, adm), 204);
  assert401(await d.req('GET', '/api/v1/me', { token: goneToken.token }), 'revoked');
});

test('refused writes change nothing: read back after real writes sent without the right to make them', async () => {
  const auditBefore = (await auditAll(d)).length;
  const cust = `/api/v1/customers/${seed.customer}`;
  const before = {
    customer: await ok(await d.req('GET', cust, adm)),
    points: await ok(await d.req('GET', '/api/v1/settings/points', adm)),
    tokens: (await ok(await d.req('GET', '/api/v1/tokens?count=true&limit=1', adm))).total,
    users: (await ok(await d.req('GET', '/api/v1/users?count=true&limit=1', adm))).total,
    webhooks: (await ok(await d.req('GET', '/api/v1/webhooks?count=true&limit=1', adm))).total,
    customers: (await ok(await d.req('GET', '/api/v1/customers?count=true&limit=1', adm))).total,
  };
  const writes = [
    // [method, path, body, lowest role refused]
    ['PATCH', cust, { name: 'changed by a viewer' }, 'viewer'],
    ['POST', `${cust}/points`, { delta: 100, reason: 'manual' }, 'viewer'],
    ['POST', `${cust}/wallet`, { delta_cents: 100, reason: 'manual' }, 'viewer'],
    ['POST', '/api/v1/customers', { name: 'made by a viewer' }, 'viewer'],
    ['DELETE', cust, undefined, 'viewer'],
    ['POST', '/api/v1/tokens', { name: 'made by an operator', role: 'admin' }, 'operator'],
    ['POST', '/api/v1/users', { username: 'made-by-operator', password: 'long-enough-password', role: 'admin' }, 'operator'],
    ['PATCH', `/api/v1/users/${users.viewer.id}`, { role: 'admin' }, 'operator'],
    ['PUT', '/api/v1/settings/points', { ...before.points, points_per_yuan: 77 }, 'operator'],
    ['POST', '/api/v1/webhooks', { url: `${rx.url}/evil`, events: ['*'] }, 'operator'],
    ['DELETE', `/api/v1/message-channels/${seed.messageChannel}`, undefined, 'operator'],
    ['PUT', '/api/v1/admin/clock', { offset_s: 86400 * 400 }, 'operator'],
  ];
  let n = 0;
  for (const [method, p, body, lowest] of writes) {
    const tries = [['no credentials', {}], ...Object.entries(DEAD)];
    for (const role of ROLES.filter((r) => RANK[r] <= RANK[lowest])) {
      tries.push([`${role} token`, { token: tok[role] }], [`${role} session`, { session: sess[role] }]);
    }
    // cookie writes without the CSRF token, even by the admin
    tries.push(['admin session without X-CSRF-Token', { session: { cookie: sess.admin.cookie } }]);
    for (const [how, auth] of tries) {
      const r = await d.req(method, p, { ...auth, body });
      n++;
      assert.ok(r.status === 401 || r.status === 403, `${method} ${p} by ${how}: ${r.status} ${r.text}`);
    }
  }
  requests += n;
  assert.deepEqual(await ok(await d.req('GET', cust, adm)), before.customer);
  assert.deepEqual(await ok(await d.req('GET', '/api/v1/settings/points', adm)), before.points);
  assert.equal((await ok(await d.req('GET', '/api/v1/tokens?count=true&limit=1', adm))).total, before.tokens);
  assert.equal((await ok(await d.req('GET', '/api/v1/users?count=true&limit=1', adm))).total, before.users);
  assert.equal((await ok(await d.req('GET', '/api/v1/webhooks?count=true&limit=1', adm))).total, before.webhooks);
  assert.equal((await ok(await d.req('GET', '/api/v1/customers?count=true&limit=1', adm))).total, before.customers);
  assert.equal((await ok(await d.req('GET', `/api/v1/users/${users.viewer.id}`, adm))).role, 'viewer');
  await ok(await d.req('GET', `/api/v1/message-channels/${seed.messageChannel}`, adm));
  const now = await ok(await d.req('GET', '/api/v1/me', adm));
  assert.ok(now);
  assert.equal((await auditAll(d)).length, auditBefore, 'a refused write left an audit entry');
});

test('every seeded record is still there after the matrix (no refused DELETE or write took effect)', async () => {
  const gets = ROUTES.filter((r) => r.method === 'GET' && /\{/.test(r.path) && r.role !== 'none');
  for (const route of gets) {
    const p = fill(route, true);
    if (p.includes(FAKE)) continue;
    const r = await d.req('GET', p, adm);
    assert.ok(r.status === 200, `${p}: ${r.status} ${r.text}`);
  }
  const c = await ok(await d.req('GET', `/api/v1/customers/${seed.customer}`, adm));
  assert.equal(c.name, '访问测试');
  assert.equal(c.points_balance, 0);
  assert.deepEqual(c.tags.map((t) => t.id), [seed.tag]);
  const coupon = await ok(await d.req('GET', `/api/v1/coupons/${seed.coupon}`, adm));
  assert.equal(coupon.status, 'active');
  for (const role of ROLES) assert.equal((await d.req('GET', '/api/v1/me', { session: sess[role] })).status, 200, `${role} session lost`);
});

// ---- secrets ----

async function settled(id, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const x = await ok(await d.req('GET', `/api/v1/deliveries/${id}`, adm));
    if (x.status === 'delivered' || x.status === 'dead') return x;
    assert.ok(Date.now() < deadline, `delivery ${id} is still ${x.status}`);
    await sleep(25);
  }
}

test('secrets never appear in answers (but the one that created them), the log, the audit log, /metrics, nor in clear in the database', async () => {
  const hex = () => crypto.randomBytes(10).toString('hex');
  // a user with a known password: logs in, fails a login, changes the password, gets it reset
  const u = await makeUser('operator');
  const s1 = await login(u);
  const wrongPw = `wrong-pw-${hex()}`;
  secrets.passwords.push(wrongPw);
  assertError(await d.req('POST', '/api/v1/auth/login', { body: { username: u.username, password: wrongPw } }), 401, 'unauthorized');
  const pw2 = `changed-pw-${hex()}`;
  secrets.passwords.push(pw2);
  await ok(await d.req('PATCH', '/api/v1/me', { session: s1, body: { password: pw2, current_password: u.password } }));
  const pw3 = `reset-pw-${hex()}`;
  secrets.passwords.push(pw3);
  await ok(await d.req('PATCH', `/api/v1/users/${u.id}`, { ...adm, body: { password: pw3 } }));
  const s2 = await login({ ...u, password: pw3 });
  assert.equal((await d.req('GET', '/api/v1/me', { session: s2 })).status, 200);
  // a user created with an Idempotency-Key (the key store must not keep the password)
  const pw4 = `idem-pw-${hex()}`;
  secrets.passwords.push(pw4);
  const idemUser = { username: unique('acc-idem').slice(0, 60), password: pw4, role: 'viewer' };
  await ok(await d.req('POST', '/api/v1/users', { ...adm, body: idemUser, headers: { 'Idempotency-Key': unique('k') } }), 201);
  // a token, created with an Idempotency-Key and replayed, then used
  const key = unique('tok');
  const tr = await d.req('POST', '/api/v1/tokens', { ...adm, body: { name: 'acc-secret', role: 'viewer' }, headers: { 'Idempotency-Key': key } });
  const t = await ok(tr, 201);
  tr.record.oneTime.push(t.token);
  secrets.tokens.push(t.token);
  const replay = await ok(await d.req('POST', '/api/v1/tokens', { ...adm, body: { name: 'acc-secret', role: 'viewer' }, headers: { 'Idempotency-Key': key } }), 201);
  assert.equal(replay.token, null);
  assert.equal((await d.req('GET', '/api/v1/me', { token: t.token })).status, 200);
  // event webhooks: one with a secret given, one with a generated secret (shown once)
  const whSecret = `wh-secret-${hex()}`;
  secrets.other.push(whSecret);
  const wh = await ok(await d.req('POST', '/api/v1/webhooks', { ...adm, body: { url: `${rx.url}/acc-events`, events: ['*'], secret: whSecret } }), 201);
  const genR = await d.req('POST', '/api/v1/webhooks', { ...adm, body: { url: `${rx.url}/acc-events-2`, events: ['customer.created'] } });
  const gen = await ok(genR, 201);
  assert.equal(typeof gen.secret, 'string');
  genR.record.oneTime.push(gen.secret);
  secrets.other.push(gen.secret);
  // message channels: a signed webhook, a WeCom robot (its key in the URL), WeCom customer messages (a corp secret)
  const chSecret = `ch-secret-${hex()}`;
  const robotKey = `robot-key-${hex()}`;
  const badRobotKey = `bad-robot-key-${hex()}`;
  const corp = unique('corp');
  const corpSecret = `corp-secret-${hex()}`;
  const wrongCorpSecret = `wrong-corp-secret-${hex()}`;
  secrets.other.push(chSecret, robotKey, badRobotKey, corpSecret, wrongCorpSecret);
  rx.wecom.addRobot(robotKey, { limit: 100 });
  rx.wecom.addCorp(corp, corpSecret);
  const mk = async (body) => ok(await d.req('POST', '/api/v1/message-channels', { ...adm, body: { name: unique('acc-mc'), ...body } }), 201);
  const hook = await mk({ kind: 'webhook', url: `${rx.url}/acc-ch`, secret: chSecret });
  const bot = await mk({ kind: 'wecom_bot', url: `${rx.url}/cgi-bin/webhook/send?key=${robotKey}` });
  const badBot = await mk({ kind: 'wecom_bot', url: `${rx.url}/cgi-bin/webhook/send?key=${badRobotKey}` });
  const wc = await mk({ kind: 'wecom_customer', url: rx.url, corp_id: corp, corp_secret: corpSecret, sender: 'lisi' });
  const wrongWc = await mk({ kind: 'wecom_customer', url: rx.url, corp_id: corp, corp_secret: wrongCorpSecret });
  const sendTest = async (id, body) => (await ok(await d.req('POST', `/api/v1/message-channels/${id}/test`, { ...adm, body }), 202)).id;
  const sent = [
    await sendTest(hook.id, { text: 'signed' }),
    await sendTest(bot.id, { text: 'robot' }),
    await sendTest(badBot.id, { text: 'robot' }),
    await sendTest(wc.id, { text: 'customer', external_userid: 'wmACC1' }),
    await sendTest(wrongWc.id, { text: 'customer', external_userid: 'wmACC2' }),
  ];
  const fates = [];
  for (const id of sent) fates.push((await settled(id)).status);
  assert.deepEqual(fates, ['delivered', 'delivered', 'dead', 'delivered', 'dead']);
  // an event for the webhooks: a new customer, and wait for its delivery to the receiver
  await ok(await d.req('POST', '/api/v1/customers', { ...adm, body: { name: 'secret-event' } }), 201);
  await rx.waitFor((r) => r.path === '/acc-events');
  const wecomTokens = [...rx.wecom.tokens.keys()];
  assert.ok(wecomTokens.length >= 1);
  secrets.other.push(...wecomTokens);
  // read everything back, as every role (each answer is scanned below)
  for (const who of [adm, { token: tok.operator }, { token: tok.viewer }, { session: sess.admin }]) {
    for (const p of ['/api/v1/message-channels', `/api/v1/message-channels/${bot.id}`, `/api/v1/message-channels/${wc.id}`,
      `/api/v1/message-channels/${hook.id}`, '/api/v1/deliveries?limit=500', ...sent.map((id) => `/api/v1/deliveries/${id}`),
      '/api/v1/webhooks', `/api/v1/webhooks/${wh.id}`, `/api/v1/webhooks/${gen.id}`, `/api/v1/webhooks/${wh.id}/deliveries`,
      '/api/v1/users?limit=500', `/api/v1/users/${u.id}`, '/api/v1/tokens?limit=500', `/api/v1/tokens/${t.id}`,
      '/api/v1/me', '/api/v1/auth/session', '/metrics', '/api/v1/audit-log?limit=500']) {
      await d.req('GET', p, who);
    }
  }
  const audit = JSON.stringify(await auditAll(d));
  assert.ok(audit.includes('user.create'), 'the audit log was read');
  const metrics = await d.req('GET', '/metrics', { token: tok.viewer });
  assert.match(metrics.text, /scrmd_http_requests_total/);
  assert.equal(metrics.status, 200);

  const all = [...secrets.passwords, ...secrets.tokens, ...secrets.cookies, ...secrets.other, adm.token];
  assert.ok(all.every((s) => typeof s === 'string' && s.length >= 16), 'every secret is long enough to be found');
  // the answers: a secret only in the one answer that created it
  const shown = new Map();
  for (const a of answers) {
    const headers = a.headers.split('\n').filter((h) => !h.startsWith('set-cookie:')).join('\n');
    for (const s of all) {
      if (!a.text.includes(s) && !headers.includes(s)) continue;
      if (a.oneTime.includes(s) || (s === adm.token && a.where === 'POST /api/v1/tokens -> 201')) {
        shown.set(s, (shown.get(s) || 0) + 1);
        continue;
      }
      assert.fail(`a secret (${s.slice(0, 8)}...) appears in the answer to ${a.where}: ${a.text.slice(0, 500)}`);
    }
  }
  for (const [s, n] of shown) assert.equal(n, 1, `${s.slice(0, 8)}... shown ${n} times`);
  // the one-time answers did show them (so the scan looks where it should)
  for (const s of [t.token, gen.secret, adm.token, tok.viewer]) assert.equal(shown.get(s), 1, `${s.slice(0, 8)}... not in its creation answer`);
  assertNoSecrets(d.stderr, all, 'the daemon log');
  assertNoSecrets(d.stdout, all, 'the daemon stdout');
  assertNoSecrets(audit, all, 'the audit log');
  assertNoSecrets(metrics.text, all, 'GET /metrics');
  assert.ok(!/key=(?!\*\*\*)/.test(answers.filter((a) => a.where.includes('message-channels')).map((a) => a.text).join('\n')), 'a robot key shown');
  // the database holds passwords and tokens only as hashes: not in a dump, not in the files' bytes
  const hashes = sqliteJson(d.db, 'SELECT password_hash FROM users');
  assert.ok(hashes.length >= 5 && hashes.every((h) => h.password_hash.length > 0 && !secrets.passwords.includes(h.password_hash)));
  const sql = spawnSync('sqlite3', ['-batch', '-cmd', '.timeout 10000', d.db, '.dump'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(sql.status, 0, sql.stderr);
  const clear = [...secrets.passwords, ...secrets.tokens, ...secrets.cookies, adm.token];
  assertNoSecrets(sql.stdout, clear, 'the database (sqlite3 .dump)');
  for (const f of [d.db, `${d.db}-wal`]) {
    if (fs.existsSync(f)) assertNoSecrets(fs.readFileSync(f).toString('latin1'), clear, path.basename(f));
  }
});

// ---- expiry, with the test clock (last: it moves the daemon's time) ----

async function clock(offset) {
  return ok(await d.req('PUT', '/api/v1/admin/clock', { ...adm, body: { offset_s: offset } }));
}
// wait until the session's last use (written off the request path) reaches t
async function touched(userId, t) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const [row] = sqliteJson(d.db, `SELECT max(last_seen_at) AS s FROM sessions WHERE user_id = ${userId}`);
    if (row && row.s >= t) return;
    assert.ok(Date.now() < deadline, `the session of user ${userId} was not touched at ${t}: ${JSON.stringify(row)}`);
    await sleep(20);
  }
}

test(`sessions end after ${IDLE_HOURS} idle hours and ${SESSION_HOURS} hours after login; tokens at expires_at; every route answers 401 then`, async () => {
  const H = 3600;
  try {
    // a session used 11 hours later lives on; the others, idle 12 hours, end
    const busy = await makeUser('viewer');
    const bs = await login(busy);
    assert.equal((await d.req('GET', '/api/v1/me', { token: expiring.token })).status, 200, 'the token before its expires_at');
    const c11 = await clock(11 * H);
    assert.equal((await d.req('GET', '/api/v1/me', { session: bs })).status, 200);
    await touched(busy.id, Date.parse(c11.now) / 1000 - 5);
    assert401(await d.req('GET', '/api/v1/me', { token: expiring.token }), 'the token after its expires_at');
    await clock(IDLE_HOURS * H + 120);
    assert.equal((await d.req('GET', '/api/v1/me', { session: bs })).status, 200, 'a session used 1 hour ago');
    for (const role of ROLES) assert401(await d.req('GET', '/api/v1/me', { session: sess[role] }), `${role} session idle ${IDLE_HOURS} h`);
    for (const role of ROLES) assert.equal((await d.req('GET', '/api/v1/me', { token: tok[role] })).status, 200, 'tokens without expires_at live on');
    // every route, with the expired sessions and the expired token (expires_at was 1 hour after its creation)
    const expired = {
      ...Object.fromEntries(ROLES.map((r) => [`expired ${r} session`, { session: sess[r] }])),
      'expired token': { token: expiring.token },
    };
    const jobs = [];
    for (const route of ROUTES) {
      for (const [how, auth] of Object.entries(expired)) {
        jobs.push(async () => {
          const what = `${route.method} ${route.path} with an ${how}`;
          const r = await call(route, auth, route.role !== 'none');
          if (route.role === 'none') assertPassed(r, what);
          else assert401(r, what);
        });
      }
    }
    await pool(jobs);

    // the lifetime: a session used every 10 hours still ends 168 hours after login
    await clock(0);
    const life = await makeUser('viewer');
    const lr = await d.req('POST', '/api/v1/auth/login', { body: { username: life.username, password: life.password } });
    const lj = await ok(lr);
    const ls = { cookie: lr.headers.get('set-cookie').split(';')[0], csrf: lj.csrf_token };
    secrets.cookies.push(ls.cookie.split('=')[1]);
    const tLogin = nowS();
    const exp = Date.parse(lj.expires_at) / 1000;
    assert.ok(Math.abs(exp - (tLogin + SESSION_HOURS * H)) <= 2, `expires_at ${lj.expires_at} is not ${SESSION_HOURS} hours after login`);
    const steps = [];
    for (let h = 10; h < SESSION_HOURS - 1; h += 10) steps.push(h);
    steps.push(SESSION_HOURS - 1);
    for (const h of steps) {
      const c = await clock(h * H);
      assert.equal((await d.req('GET', '/api/v1/me', { session: ls })).status, 200, `the session ${h} hours after login`);
      await touched(life.id, Date.parse(c.now) / 1000 - 5);
    }
    await clock(exp - tLogin + 60);
    const r = await d.req('GET', '/api/v1/me', { session: ls });
    assert401(r, `a session ${SESSION_HOURS} hours after login, used 1 hour ago`);
  } finally {
    await clock(0);
  }
});

test('how much was checked', (t) => {
  t.diagnostic(`${ROUTES.length} routes (${ROUTES.filter((r) => r.role === 'none').length} public), ${requests} access requests`);
  assert.ok(requests > ROUTES.length * 18, `only ${requests} requests`);
});
