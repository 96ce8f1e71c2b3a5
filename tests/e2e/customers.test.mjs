// Journeys: find a customer (type in the search, the list narrows, open the
// profile); bind an order in the profile (platform, external_id, phone) and
// see the points balance rise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, pageText, customerLinks, until, numZh, hasFigure, TIMEOUT } from './lib.mjs';

const env = await startE2E();
const adminApi = async (method, p, body) => env.d.req(method, '/api/v1' + p, { token: await env.d.adminToken(), body });

test('find a customer: the search narrows the list, a click opens the profile', async () => {
  const target = env.seed.searchTarget;
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/customers');
    await settle(page, ctx, 'customers');
    const before = await customerLinks(page);
    assert.ok(before.length >= 10, `the list links ${before.length} customers (/customers/<id>) of the ${env.seed.customers.length + 1} there are`);

    const root = page.locator('[data-page="customers"]');
    const box = root.getByRole('searchbox').or(root.locator('input[name="q"]')).first();
    assert.ok(await box.count(), 'no search box (a searchbox, or input name=q) on the customers page');
    await box.fill('司马');
    const after = await until(async () => {
      const ids = await customerLinks(page);
      return ids.length === 1 ? ids : null;
    }, 'the list to narrow to one customer');
    assert.deepEqual(after, [`/customers/${target.id}`]);
    await settle(page, ctx, 'customers');
    assert.equal(new URL(page.url()).searchParams.get('q'), '司马', 'the search is not in the address (?q=)');
    assert.ok((await pageText(page)).includes(target.name));

    // a search nobody matches: an empty list, then clearing it brings them back
    await box.fill('没有这个人');
    await until(async () => (await customerLinks(page)).length === 0, 'the list to empty');
    await box.fill('');
    await until(async () => (await customerLinks(page)).length >= 10, 'the full list to come back');
    await box.fill('司马');
    await until(async () => (await customerLinks(page)).length === 1, 'the list to narrow again');

    await root.locator(`a[href="/customers/${target.id}"]`).first().click();
    await settle(page, ctx, 'customer');
    assert.equal(new URL(page.url()).pathname, `/customers/${target.id}`);
    assert.ok((await pageText(page)).includes(target.name), 'the profile does not show the name');
    assert.ok((await pageText(page)).includes(target.phone), 'the profile does not show the phone');
  });
});

// The order-binding form: the form holding an external_id field (opened by a
// write button first when it is not on the page). Returns its locator.
async function bindingForm(page) {
  const root = page.locator('[data-page="customer"]');
  const form = () => page.locator('form').filter({ has: page.locator('[name="external_id"]') }).first();
  if (!(await form().count())) {
    const open = root.getByRole('button', { name: /绑定|Bind/i }).first();
    assert.ok(await open.count(), 'no order-binding form (a form with name=external_id) nor a button to open one on the profile');
    assert.notEqual(await open.getAttribute('data-write'), null, 'the button opening the binding form has no data-write');
    await open.click();
  }
  await form().waitFor({ state: 'visible', timeout: TIMEOUT });
  return form();
}

async function fillField(form, name, value) {
  const el = form.locator(`[name="${name}"]`).first();
  assert.ok(await el.count(), `the binding form has no field named ${name}`);
  if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
  else await el.fill(value);
}

test('bind an order in the profile: a wrong phone is refused next to the field, the right one binds and the points rise', async () => {
  const c = env.seed.binder;
  const o = env.seed.bindOrder;
  const b0 = c.points_balance;
  const b1 = b0 + Math.floor(o.amount_cents / 100);
  assert.ok(b0 > 0, 'the seed gave the binder no points');
  // the 422 of the refused bind is an expected failed load
  await withPage(env, { allow: [{ status: 422, path: '/api/v1/orders/bind' }] }, async (page, ctx) => {
    await page.goto(env.base + `/customers/${c.id}`);
    await settle(page, ctx, 'customer');
    const text0 = await pageText(page);
    assert.ok(hasFigure(text0, b0), `the profile does not show the points balance ${numZh(b0)}`);
    assert.ok(!hasFigure(text0, b1), `the profile already shows ${numZh(b1)}; pick other amounts`);

    let form = await bindingForm(page);
    await fillField(form, 'platform', o.platform);
    await fillField(form, 'external_id', o.external_id);
    await fillField(form, 'phone', '13900009999');
    const submit = form.locator('button[type="submit"]').first();
    assert.ok(await submit.count(), 'the binding form has no submit button');
    assert.notEqual(await submit.getAttribute('data-write'), null, 'the bind button has no data-write');
    await submit.click();
    // 422 naming phone: shown next to the phone field
    const err = form.locator('label', { has: page.locator('[name="phone"]') }).getByRole('alert').first();
    try {
      await err.waitFor({ state: 'visible', timeout: TIMEOUT });
    } catch {
      assert.fail(`no error shown at the phone field after a refused bind; the form reads:\n${await form.innerText()}`);
    }
    assert.equal((await adminApi('GET', `/customers/${c.id}`)).json.points_balance, b0);

    form = await bindingForm(page);
    await fillField(form, 'phone', o.buyer_phone);
    await form.locator('button[type="submit"]').first().click();
    await until(async () => (await adminApi('GET', `/orders/${o.id}`)).json.customer_id === c.id, 'the order to be bound');
    assert.equal((await adminApi('GET', `/customers/${c.id}`)).json.points_balance, b1, 'the API balance after binding');
    await until(async () => hasFigure(await pageText(page), b1), `the profile to show the new balance ${numZh(b1)} (was ${numZh(b0)})`);
    await settle(page, ctx, 'customer');
    assert.ok((await pageText(page)).includes(o.external_id), 'the bound order is not listed on the profile');
    // and it stays after a reload
    await page.reload();
    await settle(page, ctx, 'customer');
    assert.ok(hasFigure(await pageText(page), b1), `the balance ${numZh(b1)} is gone after a reload`);
  });
});
