// Phone tables at 375 px: the shared `Table stack` turns rows into cards (no
// header row, the table and its body blocks) on the customer list and every
// tab of a profile, and no page of the navigation or record scrolls sideways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, assertNoOverflow, NAV } from './lib.mjs';

const env = await startE2E();
const adminApi = async (method, p, body) => env.d.req(method, '/api/v1' + p, { token: await env.d.adminToken(), body });

const at375 = async (page) => page.setViewportSize({ width: 375, height: 812 });

// Every table of the page: stacked (no header shown, block table and body) and
// inside the viewport.
async function assertStacked(page, where) {
  const tables = await page.locator('#content table.table').evaluateAll((ts) => ts.map((tb) => ({
    stack: tb.classList.contains('stack'),
    display: getComputedStyle(tb).display,
    body: getComputedStyle(tb.tBodies[0]).display,
    head: tb.tHead ? getComputedStyle(tb.tHead).display : 'none',
    right: tb.getBoundingClientRect().right,
    rows: tb.tBodies[0].rows.length,
  })));
  assert.ok(tables.length > 0, `no table on ${where}`);
  for (const x of tables) {
    assert.ok(x.stack, `a table without stack on ${where}`);
    assert.deepEqual([x.display, x.body, x.head], ['block', 'block', 'none'], `a table on ${where} is not stacked`);
    assert.ok(x.right <= 375 + 1, `a table on ${where} reaches ${x.right} px`);
    assert.ok(x.rows > 0);
  }
}

test('375 px: the customer list and each profile tab show stacked tables, and nothing scrolls sideways', async () => {
  const c = env.seed.binder;
  // a coupon and a wallet line, so that every tab has a table
  const r1 = await adminApi('POST', `/customers/${c.id}/coupons`, { template_id: env.seed.couponTemplate.id });
  assert.ok([200, 201].includes(r1.status), `issue a coupon: ${r1.status} ${r1.text}`);
  const r2 = await adminApi('POST', `/customers/${c.id}/wallet`, { delta_cents: 5000, reason: 'topup', note: 'E2E' });
  assert.ok([200, 201].includes(r2.status), `top up: ${r2.status} ${r2.text}`);
  await withPage(env, { viewport: 'phone' }, async (page, ctx) => {
    await at375(page);
    await page.goto(env.base + '/customers');
    await settle(page, ctx, 'customers');
    await assertStacked(page, '/customers');
    await assertNoOverflow(page);
    for (const tab of ['orders', 'points', 'wallet', 'coupons']) {
      const link = `/customers/${c.id}?tab=${tab}`;
      await page.goto(env.base + link);
      await settle(page, ctx, 'customer');
      await assertStacked(page, link);
      await assertNoOverflow(page);
    }
  });
});

test('375 px: no page of the navigation and no record page scrolls sideways', async () => {
  const links = [...NAV.map((n) => [n[0], n[1]]), [`/customers/${env.seed.searchTarget.id}`, 'customer'],
    [`/groups?id=${env.seed.group.id}`, 'groups'], [`/ambassadors?id=${env.seed.ambassador.id}`, 'ambassadors']];
  await withPage(env, { viewport: 'phone' }, async (page, ctx) => {
    await at375(page);
    for (const [link, name] of links) {
      await page.goto(env.base + link);
      await settle(page, ctx, name);
      await assertNoOverflow(page);
    }
  });
});
