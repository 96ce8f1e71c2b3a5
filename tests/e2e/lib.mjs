// Browser tests of the dashboard: a real scrmd (tests/api/lib.mjs's Daemon,
// serving web/) on a temporary database seeded through the API, and Debian's
// Chromium driven headless by playwright-core. Every test file calls
// startE2E() once at top level (before its first test()); the browser and the
// daemon are stopped after the file's tests.
//
// withPage() gives a test a fresh browser context (its own cookies and
// localStorage) signed in as admin, viewer or nobody, at desktop (1280x800)
// or phone (390x844) size, and fails the test on any console error or warning
// and any uncaught page error, except failed loads the test declared
// (allow: [{status, path}], e.g. the 401 of GET /me before logging in).
import { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Daemon, ROOT, ADMIN_PASSWORD } from '../api/lib.mjs';

export { ADMIN_PASSWORD };
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'tests/e2e/screenshots');
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};
export const VIEWER = { username: 'viewer', password: 'viewer-password-e2e' };
// how long a page may take to show what it loaded
export const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 10000);

// The same figures as the dashboard's i18n.num() in Chinese (the default language).
export const numZh = (n) => Number(n).toLocaleString('zh-CN');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PAD = (n, w = 2) => String(n).padStart(w, '0');
const isoAgo = (days, hour = 12) => {
  const d = new Date(Date.now() - days * 86400000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
};

// The daemon, the seed and the browser of one test file.
export async function startE2E() {
  const d = new Daemon();
  await d.start();
  let browser = null;
  after(async () => {
    try {
      if (browser) await browser.close();
    } finally {
      try { await d.stop(); } finally { d.cleanup(); }
    }
  });
  const seed = await seedData(d);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // as root, and without the network Chromium would reach out to at start
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return { d, base: d.base, seed, browser };
}

// API call as the admin (token); asserts the status.
async function call(d, method, p, body, expect) {
  const r = await d.req(method, '/api/v1' + p, { token: await d.adminToken(), body });
  if (expect !== undefined) {
    const ok = Array.isArray(expect) ? expect.includes(r.status) : r.status === expect;
    assert.ok(ok, `${method} ${p}: ${r.status} ${r.text}`);
  }
  return r.json;
}

// A small shop: three channels, 40 customers with orders over the last ten
// months, tags, a group, an ambassador, a coupon template, unbound orders
// carrying a buyer's phone (to bind in the browser) and a viewer.
export async function seedData(d) {
  const api = (m, p, body, expect = m === 'POST' ? [200, 201] : 200) => call(d, m, p, body, expect);
  // points: 1 per yuan on every day (no member-day doubling), no bind bonus
  await api('PUT', '/settings/points', { points_per_yuan: 1, member_day: 0, bind_bonus: 0 });

  const channels = [];
  for (const [name, kind, units, cost, code] of [
    ['包装卡 2026 春', 'package_card', 5000, 250000, 'pkg2026'], ['短信召回', 'sms', 20000, 80000, 'sms-back'],
    ['直播间', 'live', 0, 0, 'live-01']]) {
    channels.push(await api('POST', '/channels', { name, kind, units, cost_cents: cost, code }));
  }
  const tags = [];
  for (const [name, group, color] of [['高价值', '价值', '#dc2626'], ['复购', '行为', '#2563eb'], ['母婴', '兴趣', '#16a34a']]) {
    tags.push(await api('POST', '/tags', { name, group, color, kind: 'manual' }));
  }

  const family = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
  const given = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '洋', '艳', '勇', '杰', '娟', '涛'];
  const stages = ['added', 'observing', 'interested', 'converted', 'sharing', 'repurchasing'];
  const customers = [];
  let orderSeq = 0;
  for (let i = 0; i < 40; i++) {
    const name = i === 7 ? '司马青云' : `${family[i % family.length]}${given[(i * 3) % given.length]}${given[(i * 5 + 1) % given.length]}`;
    const c = await api('POST', '/customers', {
      name, phone: `1390000${PAD(i, 4)}`, gender: ['m', 'f', 'u'][i % 3],
      source_channel_id: i % 4 === 3 ? null : channels[i % 3].id, stage: stages[i % stages.length],
    });
    customers.push(c);
    const n = i % 4; // 0..3 orders
    for (let k = 0; k < n; k++) {
      await api('POST', '/orders', {
        platform: k % 2 ? 'jd' : 'tmall', external_id: `E2E-${PAD(++orderSeq, 5)}`, customer_id: c.id,
        amount_cents: 5900 + ((i * 7919 + k * 104729) % 60000), paid_at: isoAgo(3 + ((i * 37 + k * 61) % 290)),
        items: [{ sku: `SKU-${i % 5}`, name: `商品 ${i % 5}`, quantity: 1 + (k % 2), price_cents: 5900 }],
      });
    }
    if (i % 3 === 0) await api('POST', `/customers/${c.id}/tags`, { tag_ids: [tags[i % tags.length].id] });
  }
  const searchTarget = customers[7];

  // the profile where the browser binds an order: one order of its own
  // already (a balance to rise from) and an unbound order bought with a
  // phone no customer has
  const binder = await api('POST', '/customers', { name: '欧阳明月', phone: '13911112222', source_channel_id: channels[0].id, stage: 'converted' });
  await api('POST', '/orders', { platform: 'tmall', external_id: 'E2E-BINDER-OWN', customer_id: binder.id, amount_cents: 12800, paid_at: isoAgo(20) });
  const unbound = [];
  for (let i = 0; i < 5; i++) {
    unbound.push(await api('POST', '/orders', {
      platform: i % 2 ? 'jd' : 'tmall', external_id: `E2E-UNBOUND-${i + 1}`, buyer_phone: `1370000${PAD(i, 4)}`,
      amount_cents: 19900 + i * 1000, paid_at: isoAgo(2 + i),
    }));
  }
  const bindOrder = unbound[0]; // tmall, 199.00 yuan: 199 points

  const group = await api('POST', '/groups', { name: '核心会员群', kind: 'high_value' });
  await api('POST', `/groups/${group.id}/members`, { customer_ids: customers.slice(0, 12).map((c) => c.id) });
  const ambassador = await api('POST', '/ambassadors', { customer_id: customers[1].id, commission_pct: 10, referral_code: 'KOC-0001' });
  const couponTemplate = await api('POST', '/coupon-templates', { name: '满100减20', kind: 'amount_off', value: 2000, min_spend_cents: 10000, valid_days: 30 });
  await api('POST', '/users', { username: VIEWER.username, display_name: '只读同事', role: 'viewer', password: VIEWER.password });
  const binderNow = await api('GET', `/customers/${binder.id}`);
  return { channels, tags, customers, searchTarget, binder: binderNow, bindOrder, unbound, group, ambassador, couponTemplate };
}

// A browser context signed in through the API (admin, viewer, or null for
// nobody): the session cookie as the login answer set it.
async function newContext(env, as, viewport) {
  const context = await env.browser.newContext({ viewport: VIEWPORTS[viewport], locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  context.setDefaultTimeout(TIMEOUT);
  if (as) {
    const creds = as === 'viewer' ? VIEWER : { username: 'admin', password: ADMIN_PASSWORD };
    const s = await env.d.login(creds.username, creds.password);
    const [name, ...rest] = s.cookie.split('=');
    await context.addCookies([{ name, value: rest.join('='), url: env.base, httpOnly: true, sameSite: 'Strict' }]);
  }
  return context;
}

const FAILED_LOAD = /^Failed to load resource: the server responded with a status of (\d{3})/;

// Run fn(page, ctx) in a fresh context; then fail on console errors/warnings
// and page errors. opts: as ('admin' | 'viewer' | null), viewport
// ('desktop' | 'phone'), allow ([{status, path: string | RegExp}]).
export async function withPage(env, opts, fn) {
  const { as = 'admin', viewport = 'desktop', allow = [] } = opts;
  const context = await newContext(env, as, viewport);
  const page = await context.newPage();
  const problems = [];
  const ctx = { env, page, context, viewport, problems, inflight: 0, allow: [...allow] };
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const text = m.text();
    const url = (m.location() && m.location().url) || '';
    const f = text.match(FAILED_LOAD);
    if (f && url) {
      const p = new URL(url, env.base).pathname;
      if (ctx.allow.some((a) => a.status === Number(f[1]) && (a.path instanceof RegExp ? a.path.test(p) : a.path === p))) return;
    }
    problems.push(`console ${m.type()}: ${text}${url ? ` (${url})` : ''} on ${safeUrl(page)}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message} on ${safeUrl(page)}`));
  page.on('request', () => { ctx.inflight++; });
  page.on('requestfinished', () => { ctx.inflight--; });
  page.on('requestfailed', () => { ctx.inflight--; });
  try {
    await fn(page, ctx);
  } catch (e) {
    if (problems.length) e.message += `\nalso, in the browser console:\n  ${problems.join('\n  ')}`;
    // what the page looked like: screenshots/FAILED-<path>[-phone].png
    const where = safeUrl(page).replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '') || 'root';
    const file = path.join(SCREENSHOTS, `FAILED-${where}${viewport === 'phone' ? '-phone' : ''}.png`);
    if (await page.screenshot({ path: file, fullPage: true }).then(() => true, () => false)) e.message += `\n(screenshot: ${path.relative(ROOT, file)})`;
    throw e;
  } finally {
    await context.close().catch(() => {});
  }
  assert.deepEqual(problems, [], `console errors or warnings:\n  ${problems.join('\n  ')}`);
}

function safeUrl(page) {
  try { return new URL(page.url()).pathname + new URL(page.url()).search; } catch { return page.url(); }
}

// Wait until the page named `name` (its data-page) is shown and done loading:
// no spinner of the shared Spinner/Loading left, no request in flight for a
// moment.
export async function settle(page, ctx, name) {
  const sel = name ? `[data-page="${name}"]` : '[data-page]';
  try {
    await page.locator(sel).first().waitFor({ state: 'attached', timeout: TIMEOUT });
  } catch {
    const shown = await page.locator('[data-page]').evaluateAll((els) => els.map((e) => e.getAttribute('data-page'))).catch(() => []);
    assert.fail(`no ${sel} on ${safeUrl(page)} (data-page shown: ${JSON.stringify(shown)})`);
  }
  const deadline = Date.now() + TIMEOUT;
  let quietSince = 0;
  for (;;) {
    const spinning = await page.locator('#app .spinner, #app .loading').count();
    if (spinning === 0 && ctx.inflight <= 0) {
      if (!quietSince) quietSince = Date.now();
      if (Date.now() - quietSince >= 150) break;
    } else {
      quietSince = 0;
    }
    if (Date.now() > deadline) assert.fail(`${safeUrl(page)} still loading after ${TIMEOUT} ms (spinners: ${spinning}, requests: ${ctx.inflight})`);
    await sleep(50);
  }
}

// Full-page screenshot to tests/e2e/screenshots/<name>.png (desktop) or <name>-phone.png.
export async function shot(page, ctx, name) {
  const file = path.join(SCREENSHOTS, `${name}${ctx.viewport === 'phone' ? '-phone' : ''}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// The text of the page's data-page root (what the user reads).
export async function pageText(page) {
  return page.locator('[data-page]').first().innerText();
}

// Wait until fn() (async, in Node) returns a truthy value; that value.
export async function until(fn, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// The distinct customer ids linked from the page (/customers/<id> hrefs).
export async function customerLinks(page, scope = '[data-page="customers"]') {
  return page.locator(`${scope} a[href]`).evaluateAll((as) => [...new Set(as
    .map((a) => new URL(a.href).pathname).filter((p) => /^\/customers\/\d+$/.test(p)))]);
}

// The pages: [path, data-page, screenshot name]. The navigation entries as the
// shell lists them for an admin, then the deep links.
export const NAV = [
  ['/', 'overview'], ['/customers', 'customers'], ['/orders', 'orders'], ['/tags', 'tags'],
  ['/audiences', 'audiences'], ['/loyalty', 'loyalty'], ['/sops', 'sops'], ['/tasks', 'tasks'],
  ['/analytics', 'analytics'], ['/channels', 'channels'], ['/groups', 'groups'], ['/ambassadors', 'ambassadors'],
  ['/deliveries', 'deliveries'], ['/admin/users', 'users'], ['/admin/tokens', 'tokens'],
  ['/admin/webhooks', 'webhooks'], ['/admin/message-channels', 'message_channels'], ['/admin/audit', 'audit'],
];
export function deepLinks(seed) {
  return [
    [`/customers/${seed.searchTarget.id}`, 'customer', 'customer'],
    [`/customers/${seed.binder.id}`, 'customer', null],
    ['/customers?q=' + encodeURIComponent('司马'), 'customers', 'customers-search'],
    ['/analytics?tab=cohorts', 'analytics', 'analytics-cohorts'],
    ...['channels', 'funnel', 'operators', 'groups', 'ambassadors'].map((tab) => [`/analytics?tab=${tab}`, 'analytics', `analytics-${tab}`]),
    ['/channels', 'channels', null],
    ['/groups', 'groups', null],
    ['/ambassadors', 'ambassadors', null],
    ['/admin/tokens', 'tokens', null],
    ['/orders?tab=import', 'orders', 'orders-import'],
    ['/tags?kind=manual', 'tags', null],
    ['/tasks?who=all&state=all', 'tasks', null],
    ['/audiences?new=1', 'audiences', 'audiences-builder'],
    ...['points', 'tiers', 'coupons', 'rewards'].map((tab) => [`/loyalty?tab=${tab}`, 'loyalty', `loyalty-${tab}`]),
    ['/no-such-page', 'not-found', 'not-found'],
  ];
}

// Open the phone menu when the navigation is folded away (the menu button is
// shown only then), and wait for the entries to slide into view.
export async function openNav(page) {
  const btn = page.getByRole('button', { name: /^(菜单|Menu)$/ });
  if (!(await btn.isVisible())) return;
  if ((await btn.getAttribute('aria-expanded')) !== 'true') await btn.click();
  await page.waitForFunction(() => {
    const a = document.querySelector('a[data-nav]');
    const r = a && a.getBoundingClientRect();
    return r && r.left >= 0 && r.right <= window.innerWidth && r.width > 0;
  }, null, { timeout: TIMEOUT });
}

// No horizontal scrolling of the whole page (wide tables scroll inside their wrapper).
export async function assertNoOverflow(page) {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= w + 1, `${safeUrl(page)} is ${sw} px wide at a ${w} px viewport (scrolls sideways)`);
}

// Whether text shows the figure n (as num() writes it in Chinese) standing
// alone: not part of a longer number, an amount (¥) or a change (+n / -n).
export function hasFigure(text, n) {
  const f = numZh(n).replace(/[.,]/g, (c) => `\\${c}`);
  return new RegExp(`(^|[^\\d.,¥+\\-])${f}($|[^\\d.,])`, 'm').test(text);
}

// The figure shown under a label: the line after the line that is exactly
// the label (a Stat: label, value, hint).
export function figureAfter(text, label) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const i = lines.indexOf(label);
  return i < 0 ? undefined : lines[i + 1];
}
