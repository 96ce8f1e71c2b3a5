// Journeys of a record's sub-lists, in real Chromium:
// - a group's members page in the URL (mem_cursor, mem_page): a reload keeps
//   the page, the main list's cursor is left alone;
// - an ambassador's commission ledger and referred customers, each with its
//   own cursor in the URL (led_*, ref_*): both kept by a reload, stepping one
//   back leaves the other where it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, until, TIMEOUT } from './lib.mjs';

const env = await startE2E();
const adminApi = async (method, p, body) => env.d.req(method, '/api/v1' + p, { token: await env.d.adminToken(), body });
async function ok(method, p, body, status = [200, 201, 202]) {
  const r = await adminApi(method, p, body);
  assert.ok([].concat(status).includes(r.status), `${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

async function waitVisible(loc, what) {
  try {
    await loc.first().waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch {
    assert.fail(`not shown: ${what}`);
  }
}

const param = (page, k) => new URL(page.url()).searchParams.get(k);
// the customer ids linked from a part of the page, in order
const linked = (loc) => loc.locator('a[href^="/customers/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
const pageNo = async (scope) => (await scope.locator('.pager-page').innerText()).trim();

test('a group\'s members page is kept in the URL under its own prefix, and a reload shows the same page', async () => {
  const members = env.seed.customers.slice(0, 30).map((c) => c.id);
  const g = await ok('POST', '/groups', { name: 'E2E 翻页群', kind: 'basic' });
  await ok('POST', `/groups/${g.id}/members`, { customer_ids: members });
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(`${env.base}/groups?id=${g.id}`);
    await settle(page, ctx, 'groups');
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: '成员列表', exact: true }) });
    await waitVisible(card.locator('tbody tr'), 'the members');
    const first = await linked(card.locator('tbody'));
    assert.equal(first.length, 20, 'the first page holds 20 members');
    await card.locator('.pager').getByRole('button', { name: '下一页' }).click();
    await until(() => param(page, 'mem_cursor'), 'mem_cursor in the URL');
    await settle(page, ctx, 'groups');
    assert.equal(param(page, 'mem_page'), '2');
    assert.equal(param(page, 'cursor'), null, 'the members\' pager moved the main list\'s cursor');
    assert.equal(param(page, 'id'), String(g.id));
    const second = await linked(card.locator('tbody'));
    assert.equal(second.length, 10);
    assert.ok(second.every((h) => !first.includes(h)), 'the second page repeats members of the first');

    await page.reload();
    await settle(page, ctx, 'groups');
    await waitVisible(card.locator('tbody tr'), 'the members after the reload');
    assert.deepEqual(await linked(card.locator('tbody')), second, 'the reload lost the members\' page');
    assert.equal(await pageNo(card), '2');

    // back to the first page: the parameters go
    await card.locator('.pager').getByRole('button', { name: '上一页' }).click();
    await until(() => !param(page, 'mem_cursor'), 'mem_cursor gone');
    await settle(page, ctx, 'groups');
    assert.deepEqual(await linked(card.locator('tbody')), first);
    assert.equal(param(page, 'mem_page'), null);
  });
});

test('an ambassador\'s ledger and referred customers each keep their page in the URL, and a reload keeps both', async () => {
  const who = env.seed.customers[39];
  const amb = await ok('POST', '/ambassadors', { customer_id: who.id, commission_pct: 5 });
  const paid = new Date(Math.max(Date.parse(amb.created_at) + 1000, Math.floor(Date.now() / 1000) * 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  // 25 buyers, one order each: 25 ledger entries and 25 referred customers
  for (const [i, c] of env.seed.customers.slice(10, 35).entries()) {
    await ok('POST', '/orders', {
      platform: 'tmall', external_id: `E2E-SUB-${i}`, customer_id: c.id, amount_cents: 10000 + i * 100, paid_at: paid,
      referral_code: amb.referral_code,
    });
  }
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(`${env.base}/ambassadors?id=${amb.id}`);
    await settle(page, ctx, 'ambassadors');
    const ledger = page.locator('section.card', { has: page.locator('[data-testid="commission-ledger"]') });
    const brought = page.locator('section.card', { has: page.locator('[data-testid="referred-customers"]') });
    const orders = (loc) => loc.locator('a[href^="/orders?id="]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    await waitVisible(ledger.locator('tbody tr'), 'the ledger');
    const led1 = await orders(ledger);
    const ref1 = await linked(brought.locator('tbody'));
    assert.equal(led1.length, 20);
    assert.equal(ref1.length, 20);

    await ledger.locator('.pager').getByRole('button', { name: '下一页' }).click();
    await until(() => param(page, 'led_cursor'), 'led_cursor in the URL');
    await settle(page, ctx, 'ambassadors');
    await brought.locator('.pager').getByRole('button', { name: '下一页' }).click();
    await until(() => param(page, 'ref_cursor'), 'ref_cursor in the URL');
    await settle(page, ctx, 'ambassadors');
    assert.equal(param(page, 'led_page'), '2');
    assert.equal(param(page, 'ref_page'), '2');
    assert.equal(param(page, 'cursor'), null, 'a sub-list moved the main list\'s cursor');
    const led2 = await orders(ledger);
    const ref2 = await linked(brought.locator('tbody'));
    assert.equal(led2.length, 5);
    assert.equal(ref2.length, 5);
    assert.ok(led2.every((h) => !led1.includes(h)) && ref2.every((h) => !ref1.includes(h)), 'a second page repeats the first');

    await page.reload();
    await settle(page, ctx, 'ambassadors');
    await waitVisible(ledger.locator('tbody tr'), 'the ledger after the reload');
    assert.deepEqual(await orders(ledger), led2, 'the reload lost the ledger\'s page');
    assert.deepEqual(await linked(brought.locator('tbody')), ref2, 'the reload lost the referred customers\' page');
    assert.equal(await pageNo(ledger), '2');
    assert.equal(await pageNo(brought), '2');

    // the ledger back to its first page: the referred customers stay on their second
    await ledger.locator('.pager').getByRole('button', { name: '上一页' }).click();
    await until(() => !param(page, 'led_cursor'), 'led_cursor gone');
    await settle(page, ctx, 'ambassadors');
    assert.deepEqual(await orders(ledger), led1);
    assert.equal(param(page, 'ref_cursor') !== null && param(page, 'ref_page'), '2');
    assert.deepEqual(await linked(brought.locator('tbody')), ref2);
  });
});

test('a group\'s activity asks the API for that group alone (group_id) and shows its figures', async () => {
  const g = env.seed.group;
  const from = new Date(Date.now() - 90 * 86400e3).toISOString().slice(0, 10);
  await withPage(env, {}, async (page, ctx) => {
    const asked = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/v1/analytics/groups') asked.push(new URL(r.url()).searchParams); });
    await page.goto(`${env.base}/groups?id=${g.id}&from=${from}`);
    await settle(page, ctx, 'groups');
    assert.ok(asked.length >= 1, 'the page did not ask for the group figures');
    for (const q of asked) {
      assert.equal(q.get('group_id'), String(g.id), 'the page asked for every group');
      assert.equal(q.get('from'), from);
    }
    const want = await ok('GET', `/analytics/groups?group_id=${g.id}&from=${from}`);
    assert.equal(want.groups.length, 1);
    const row = want.groups[0];
    const shown = await page.locator('[data-testid="group-activity"]').innerText();
    assert.ok(shown.includes(String(row.members)), `members ${row.members} not in: ${shown}`);
    assert.ok(shown.includes(String(row.active_members)) && shown.includes(String(row.converted_members)), `figures not in: ${shown}`);
  });
});
