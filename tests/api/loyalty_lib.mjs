// Helpers shared by the member-club tests (loyalty, tiers, ledger_random):
// business-calendar arithmetic for Asia/Shanghai (UTC+8, no DST), the test
// clock, and a small client for one daemon.
import assert from 'node:assert/strict';
import { isoSeconds, listAll, unique } from './lib.mjs';

export const CLOCK_ENV = { env: { SCRM_TEST_CLOCK: '1' } };
export const DEFAULT_RULES = {
  points_per_yuan: 1, bind_bonus: 0, review_bonus: 20, checkin_schedule: [5, 5, 5, 5, 5, 5, 30],
  expiry_months: 12, member_day: 18, member_day_multiplier: 2,
};
export const LEDGER_KEYS = ['created_at', 'delta', 'expires_at', 'id', 'note', 'reason', 'ref_id', 'ref_type', 'remaining', 'shortfall'];
export const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

// Business calendar: Asia/Shanghai is UTC+8 all year.
export const DAY = 86400;
const TZ = 8 * 3600;
export const nowS = () => Math.floor(Date.now() / 1000);
export const shDay = (sec) => Math.floor((sec + TZ) / DAY); // days since 1970-01-01 in Shanghai
export const shMidnight = (day) => day * DAY - TZ; // Unix time of 00:00 Shanghai that day (16:00 UTC the day before)
export const shNoon = (day) => shMidnight(day) + 12 * 3600;
export const shDate = (day) => new Date(day * DAY * 1000).toISOString().slice(0, 10);
export const shDom = (day) => new Date(day * DAY * 1000).getUTCDate();
export const secOf = (iso) => Date.parse(iso) / 1000;

// When a lot earned at createdAt expires: the end of the business day
// `months` later (day of month clamped to the target month's last day).
export function expiryOf(createdAt, months) {
  const local = new Date((secOf(createdAt) + TZ) * 1000);
  const y = local.getUTCFullYear(), m = local.getUTCMonth() + months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.floor(Date.UTC(y, m, Math.min(local.getUTCDate(), last)) / 1000 / DAY);
  return isoSeconds(shMidnight(day + 1) - 1);
}

// A fresh mainland mobile number for every call (prefix per file keeps them apart).
export function phones(prefix) {
  let seq = 0;
  return () => `${prefix}${String(1000000 + ++seq).slice(-7)}`;
}

// A client for one daemon: auth for customer work, adminAuth for settings,
// jobs and the clock.
export function club(dm, auth, adminAuth = auth) {
  const ok = (r, status, what) => {
    assert.equal(r.status, status, `${what}: ${r.text}`);
    return r.json;
  };
  const L = {
    dm,
    auth,
    adminAuth,
    // The points rules: the defaults with member day off, plus patch.
    async rules(patch = {}) {
      return ok(await dm.req('PUT', '/api/v1/settings/points', { ...adminAuth, body: { ...DEFAULT_RULES, member_day: 0, ...patch } }), 200, 'PUT /settings/points');
    },
    async customer(body = {}) {
      return ok(await dm.req('POST', '/api/v1/customers', { ...auth, body: { name: unique('member'), ...body } }), 201, 'POST /customers');
    },
    async get(id) {
      return ok(await dm.req('GET', `/api/v1/customers/${id}`, auth), 200, 'GET /customers/{id}');
    },
    // POST /orders: a new order (with defaults for what body leaves out), or
    // with external_id an upsert of exactly the fields given.
    async order(body = {}, expect) {
      const full = body.external_id === undefined
        ? { platform: 'tmall', external_id: unique('L'), amount_cents: 9900, paid_at: isoSeconds(nowS() - DAY), ...body }
        : { platform: 'tmall', ...body };
      const r = await dm.req('POST', '/api/v1/orders', { ...auth, body: full });
      if (expect) return ok(r, expect, 'POST /orders');
      assert.ok(r.status === 201 || r.status === 200, r.text);
      return r.json;
    },
    async setStatus(o, status) {
      return ok(await dm.req('POST', '/api/v1/orders', { ...auth, body: { platform: o.platform, external_id: o.external_id, status } }), 200, `order -> ${status}`);
    },
    async bind(o, customerId, phone = o.buyer_phone) {
      return ok(await dm.req('POST', '/api/v1/orders/bind', { ...auth, body: { customer_id: customerId, platform: o.platform, external_id: o.external_id, phone } }), 200, 'POST /orders/bind');
    },
    async points(id, q = 'limit=500') {
      return ok(await dm.req('GET', `/api/v1/customers/${id}/points?${q}`, auth), 200, 'GET points');
    },
    async wallet(id, q = 'limit=500') {
      return ok(await dm.req('GET', `/api/v1/customers/${id}/wallet?${q}`, auth), 200, 'GET wallet');
    },
    // Every ledger row (points or wallet), newest first, through pages of `limit`.
    async ledger(id, { kind = 'points', limit = 500 } = {}) {
      const rows = [];
      let cursor = null;
      for (let i = 0; i < 10000; i++) {
        const q = new URLSearchParams({ limit: String(limit) });
        if (cursor) q.set('cursor', cursor);
        const page = ok(await dm.req('GET', `/api/v1/customers/${id}/${kind}?${q}`, auth), 200, `GET ${kind}`);
        assert.ok(page.ledger.length <= limit);
        rows.push(...page.ledger);
        cursor = page.next_cursor;
        if (cursor === null) return rows;
        assert.ok(page.ledger.length > 0, 'an empty page with a next_cursor');
      }
      throw new Error('the ledger pages do not end');
    },
    async move(id, delta, reason = 'gift', extra = {}, opts = {}) {
      return dm.req('POST', `/api/v1/customers/${id}/points`, { ...auth, ...opts, body: { delta, reason, ...extra } });
    },
    async grant(id, delta, reason = 'gift', extra = {}) {
      return ok(await L.move(id, delta, reason, extra), 201, `points ${delta}`);
    },
    async walletMove(id, delta_cents, reason, extra = {}, opts = {}) {
      return dm.req('POST', `/api/v1/customers/${id}/wallet`, { ...auth, ...opts, body: { delta_cents, reason, ...extra } });
    },
    async checkin(id, opts = {}) {
      return dm.req('POST', `/api/v1/customers/${id}/checkin`, { ...auth, ...opts });
    },
    async content(id, body, opts = {}) {
      return dm.req('POST', `/api/v1/customers/${id}/content`, { ...auth, ...opts, body });
    },
    async timeline(id) {
      return (await listAll(dm, `/api/v1/customers/${id}/timeline`, auth)).items;
    },
    async daily() {
      return ok(await dm.req('POST', '/api/v1/admin/jobs/daily', adminAuth), 200, 'POST /admin/jobs/daily');
    },
    // Move the daemon's clock so that it reads `unixSec` now (and runs on from there).
    async clockAt(unixSec) {
      const offset = unixSec - nowS();
      const r = ok(await dm.req('PUT', '/api/v1/admin/clock', { ...adminAuth, body: { offset_s: offset } }), 200, 'PUT /admin/clock');
      assert.equal(r.offset_s, offset);
      return offset;
    },
    async merge(into, from) {
      return ok(await dm.req('POST', '/api/v1/customers/merge', { ...auth, body: { into, from } }), 200, 'merge');
    },
    async erase(id) {
      assert.equal((await dm.req('DELETE', `/api/v1/customers/${id}`, auth)).status, 204);
    },
  };
  return L;
}
