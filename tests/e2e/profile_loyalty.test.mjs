// Journeys of the customer profile not covered elsewhere: grant and deduct
// points (a deduction asks first; the ledger and the balance follow), issue a
// coupon, add and remove tags, assign an owner, merge a duplicate in after a
// confirmation, the timeline and ledger tabs deep-linked. The tags page:
// create, rename (a taken name is refused at the name field), delete after a
// confirmation. The member club: a points rule, a tier, a coupon template and
// a points-mall reward with stock, each created or edited in its form with an
// API error shown at the field it names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, pageText, until, TIMEOUT } from './lib.mjs';

const env = await startE2E();
const adminApi = async (method, p, body) => env.d.req(method, '/api/v1' + p, { token: await env.d.adminToken(), body });
async function ok(method, p, body) {
  const r = await adminApi(method, p, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

let phoneSeq = 0;
const newCustomer = (name, extra = {}) => ok('POST', '/customers', { name, phone: `1380000${String(++phoneSeq).padStart(4, '0')}`, ...extra });

// The visible error at the field named name inside scope (Field's data-field-error).
async function fieldError(scope, name) {
  const err = scope.locator(`[data-field-error="${name}"]`).first();
  try {
    await err.waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch {
    assert.fail(`no error shown at the field ${name}; the form reads:\n${await scope.innerText().catch(() => '?')}`);
  }
  return err.innerText();
}

const profile = (page) => page.locator('[data-page="customer"]');
const balanceShown = async (page) => (await profile(page).locator('[data-testid="points-balance"]').innerText()).trim();
async function openAction(page, key) {
  const b = profile(page).locator(`button[data-action="${key}"]`);
  assert.notEqual(await b.getAttribute('data-write'), null, `the ${key} button has no data-write`);
  await b.click();
  return page.locator('dialog[open]');
}

test('profile: grant points, then deduct after a confirmation; the balance and the ledger follow; too many is refused', async () => {
  const c = await newCustomer('积分测试');
  await withPage(env, { allow: [{ status: 422, path: `/api/v1/customers/${c.id}/points` }] }, async (page, ctx) => {
    // the ledger tab deep-linked
    await page.goto(env.base + `/customers/${c.id}?tab=points`);
    await settle(page, ctx, 'customer');
    assert.equal(await profile(page).locator('button[data-tab="points"]').getAttribute('aria-selected'), 'true');
    assert.equal(await balanceShown(page), '0');
    const ledger = profile(page).locator('[data-tabpanel="points"]');

    let dlg = await openAction(page, 'points');
    await dlg.locator('[name="delta"]').fill('120');
    await dlg.locator('[name="reason"]').fill('活动奖励');
    await dlg.locator('[name="note"]').fill('e2e 发放');
    await dlg.locator('button[type="submit"]').click();
    await until(async () => (await balanceShown(page)) === '120', 'the balance to show 120');
    await settle(page, ctx, 'customer');
    assert.equal((await ok('GET', `/customers/${c.id}`)).points_balance, 120);
    let rows = ledger.locator('tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /\+120[\s\S]*活动奖励[\s\S]*e2e 发放/);

    // deduct: a confirmation first, nothing moves before it
    dlg = await openAction(page, 'points');
    await dlg.locator('button[data-mode="deduct"]').click();
    await dlg.locator('[name="delta"]').fill('30');
    await dlg.locator('[name="reason"]').fill('更正');
    await dlg.locator('button[type="submit"]').click();
    const confirm = dlg.locator('[data-confirm-step="deduct"]');
    await confirm.waitFor({ state: 'visible' });
    assert.match(await confirm.innerText(), /30/);
    assert.equal((await ok('GET', `/customers/${c.id}`)).points_balance, 120, 'points moved before the confirmation');
    await confirm.locator('button[data-confirm="yes"]').click();
    await until(async () => (await balanceShown(page)) === '90', 'the balance to show 90');
    await settle(page, ctx, 'customer');
    assert.equal((await ok('GET', `/customers/${c.id}`)).points_balance, 90);
    rows = ledger.locator('tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(await rows.first().innerText(), /-30[\s\S]*更正/, 'the newest ledger row is not the deduction');

    // more than the balance: the API's refusal shows at the amount, nothing moves
    dlg = await openAction(page, 'points');
    await dlg.locator('button[data-mode="deduct"]').click();
    await dlg.locator('[name="delta"]').fill('500');
    await dlg.locator('[name="reason"]').fill('更正');
    await dlg.locator('button[type="submit"]').click();
    await dlg.locator('[data-confirm-step="deduct"] button[data-confirm="yes"]').click();
    assert.match(await fieldError(dlg, 'delta'), /90/);
    assert.equal((await ok('GET', `/customers/${c.id}`)).points_balance, 90);
    await page.keyboard.press('Escape');
    await page.locator('dialog[open]').waitFor({ state: 'detached' });

    // the tab survives a reload
    await page.reload();
    await settle(page, ctx, 'customer');
    assert.equal(await profile(page).locator('button[data-tab="points"]').getAttribute('aria-selected'), 'true');
    assert.equal(await ledger.locator('tbody tr').count(), 2);
  });
});

test('profile: the timeline and ledger tabs are in the address and survive a reload', async () => {
  const c = await newCustomer('动态测试');
  await ok('POST', `/customers/${c.id}/points`, { delta: 15, reason: '客服补偿' });
  await ok('POST', `/customers/${c.id}/wallet`, { delta_cents: 5000, reason: 'topup' });
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + `/customers/${c.id}`);
    await settle(page, ctx, 'customer');
    // the timeline by default, newest first
    const tl = profile(page).locator('[data-tabpanel="timeline"] [data-testid="timeline"] li');
    assert.equal(await tl.first().getAttribute('data-kind'), 'wallet.changed');
    assert.ok(await profile(page).locator('[data-tabpanel="timeline"] li[data-kind="points.changed"]').count(), 'no points change on the timeline');

    for (const [tab, text] of [['wallet', '¥50.00'], ['points', '客服补偿']]) {
      await profile(page).locator(`button[data-tab="${tab}"]`).click();
      await settle(page, ctx, 'customer');
      assert.equal(new URL(page.url()).searchParams.get('tab'), tab);
      assert.ok((await profile(page).locator(`[data-tabpanel="${tab}"]`).innerText()).includes(text), `the ${tab} tab does not show ${text}`);
      await page.reload();
      await settle(page, ctx, 'customer');
      assert.equal(await profile(page).locator(`button[data-tab="${tab}"]`).getAttribute('aria-selected'), 'true', `${tab} is not selected after a reload`);
      assert.ok((await profile(page).locator(`[data-tabpanel="${tab}"]`).innerText()).includes(text));
    }
    await profile(page).locator('button[data-tab="timeline"]').click();
    await settle(page, ctx, 'customer');
    assert.equal(new URL(page.url()).searchParams.get('tab'), null);
    assert.ok(await profile(page).locator('[data-tabpanel="timeline"] li').count());
  });
});

test('profile: issue a coupon; the coupons tab opens with its code', async () => {
  const c = await newCustomer('发券测试');
  const tpl = env.seed.couponTemplate;
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + `/customers/${c.id}`);
    await settle(page, ctx, 'customer');
    const dlg = await openAction(page, 'coupon');
    const sel = dlg.locator('select[name="template_id"]');
    await sel.waitFor({ state: 'visible' });
    await sel.selectOption(String(tpl.id));
    await dlg.locator('button[type="submit"]').click();
    await until(async () => new URL(page.url()).searchParams.get('tab') === 'coupons', 'the coupons tab to open');
    await settle(page, ctx, 'customer');
    const coupons = (await ok('GET', `/customers/${c.id}/coupons`)).data;
    assert.equal(coupons.length, 1);
    assert.equal(coupons[0].template_id ?? tpl.id, tpl.id);
    const panel = await profile(page).locator('[data-tabpanel="coupons"]').innerText();
    assert.ok(panel.includes(coupons[0].code), `the coupons tab does not show the code ${coupons[0].code}:\n${panel}`);
    assert.ok(panel.includes(tpl.name));
  });
});

test('profile: add two tags (one new), remove one after a confirmation', async () => {
  const c = await newCustomer('标签测试');
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + `/customers/${c.id}`);
    await settle(page, ctx, 'customer');
    const tags = profile(page).locator('[data-testid="customer-tags"]');
    const dlg = await openAction(page, 'tag');
    await dlg.locator('[name="names"]').fill('复购，E2E 新客标签');
    await dlg.locator('button[type="submit"]').click();
    await tags.locator('[data-tag="E2E 新客标签"]').waitFor({ state: 'visible' });
    await tags.locator('[data-tag="复购"]').waitFor({ state: 'visible' });
    await settle(page, ctx, 'customer');
    const names = () => ok('GET', `/customers/${c.id}`).then((x) => x.tags.map((t) => t.name).sort());
    assert.deepEqual(await names(), ['E2E 新客标签', '复购'].sort());

    const x = tags.locator('[data-tag="复购"] button');
    assert.notEqual(await x.getAttribute('data-write'), null, 'the remove-tag button has no data-write');
    await x.click();
    const confirm = page.locator('dialog[open] button[data-confirm="yes"]');
    await confirm.waitFor({ state: 'visible' });
    assert.deepEqual(await names(), ['E2E 新客标签', '复购'].sort(), 'the tag went before the confirmation');
    await confirm.click();
    await tags.locator('[data-tag="复购"]').waitFor({ state: 'detached' });
    await settle(page, ctx, 'customer');
    assert.deepEqual(await names(), ['E2E 新客标签']);
    assert.ok(await tags.locator('[data-tag="E2E 新客标签"]').count());
  });
});

test('profile: assign an owner', async () => {
  const c = await newCustomer('负责人测试');
  const op = await ok('POST', '/users', { username: 'e2e-owner', display_name: '小周运营', role: 'operator', password: 'operator-password-e2e' });
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + `/customers/${c.id}`);
    await settle(page, ctx, 'customer');
    const owner = profile(page).locator('[data-testid="customer-owner"]');
    assert.equal((await owner.innerText()).trim(), '—');
    const dlg = await openAction(page, 'owner');
    await dlg.locator('select[name="owner_user_id"]').selectOption(String(op.id));
    await dlg.locator('button[type="submit"]').click();
    await until(async () => (await owner.innerText()).trim() === '小周运营', 'the owner to show');
    await settle(page, ctx, 'customer');
    assert.equal((await ok('GET', `/customers/${c.id}`)).owner_user_id, op.id);
    await page.reload();
    await settle(page, ctx, 'customer');
    assert.equal((await owner.innerText()).trim(), '小周运营');
  });
});

test('profile: merge a duplicate in after a confirmation; the merged-away profile points to the kept one', async () => {
  const into = await newCustomer('合并保留');
  const from = await newCustomer('合并并入', { email: 'dup@example.com' });
  await ok('POST', '/orders', { platform: 'tmall', external_id: 'E2E-MERGE-1', customer_id: from.id, amount_cents: 10000, paid_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
  await withPage(env, { allow: [{ status: 404, path: `/api/v1/customers/${from.id}` }] }, async (page, ctx) => {
    await page.goto(env.base + `/customers/${into.id}`);
    await settle(page, ctx, 'customer');
    const figures = profile(page).locator('[data-testid="customer-figures"]');
    assert.ok((await figures.innerText()).includes('¥0.00'));
    const dlg = await openAction(page, 'merge');
    await dlg.locator('[name="merge_q"]').fill(from.phone);
    const pick = dlg.locator(`button[data-pick="${from.id}"]`);
    await pick.waitFor({ state: 'visible' });
    await pick.click();
    const step = dlg.locator('[data-confirm-step="merge"]');
    await step.waitFor({ state: 'visible' });
    assert.ok((await step.innerText()).includes(`#${from.id}`));
    assert.equal((await adminApi('GET', `/customers/${from.id}`)).status, 200, 'merged before the confirmation');
    await step.locator('button[data-confirm="yes"]').click();
    await until(async () => (await figures.innerText()).includes('¥100.00'), 'the kept profile to show the order of the merged one');
    await settle(page, ctx, 'customer');
    assert.equal(new URL(page.url()).pathname, `/customers/${into.id}`);
    assert.ok((await pageText(page)).includes('dup@example.com'), 'the kept profile did not take the e-mail it lacked');
    assert.equal((await adminApi('GET', `/customers/${from.id}`)).status, 404);
    assert.equal((await ok('GET', `/customers/${into.id}`)).order_count, 1);

    await page.goto(env.base + `/customers/${from.id}`);
    await settle(page, ctx, 'customer');
    const kept = profile(page).locator(`a[data-kept="${into.id}"]`);
    assert.ok(await kept.count(), `the merged-away profile does not link the kept one:\n${await pageText(page)}`);
  });
});

// ------------------------------------------------------------------ the tags page

test('tags: create, rename (a taken name refused at the name field), delete after a confirmation', async () => {
  await withPage(env, { allow: [{ status: 409, path: /^\/api\/v1\/tags\/\d+$/ }] }, async (page, ctx) => {
    await page.goto(env.base + '/tags');
    await settle(page, ctx, 'tags');
    const root = page.locator('[data-page="tags"]');
    await root.locator('button[data-action="new-tag"]').click();
    let form = page.locator('dialog[open] form[data-form="tag"]');
    await form.locator('[name="name"]').fill('E2E 临时');
    await form.locator('[name="group"]').fill('测试组');
    await form.locator('button[type="submit"]').click();
    await root.locator('a[data-tag="E2E 临时"]').waitFor({ state: 'visible' });
    await settle(page, ctx, 'tags');
    const made = (await ok('GET', '/tags?q=' + encodeURIComponent('E2E 临时'))).data;
    assert.equal(made.length, 1);
    assert.equal(made[0].group, '测试组');
    const row = (name) => root.locator('tr', { has: page.locator(`a[data-tag="${name}"]`) });

    await row('E2E 临时').locator('button[data-action="edit"]').click();
    form = page.locator('dialog[open] form[data-form="tag"]');
    await form.locator('[name="name"]').fill('高价值');
    await form.locator('button[type="submit"]').click();
    assert.match(await fieldError(form, 'name'), /高价值/);
    await form.locator('[name="name"]').fill('E2E 改名');
    await form.locator('button[type="submit"]').click();
    await root.locator('a[data-tag="E2E 改名"]').waitFor({ state: 'visible' });
    await settle(page, ctx, 'tags');
    assert.equal(await root.locator('a[data-tag="E2E 临时"]').count(), 0);
    assert.equal((await ok('GET', `/tags/${made[0].id}`)).name, 'E2E 改名');

    await row('E2E 改名').locator('button[data-action="delete"]').click();
    const dlg = page.locator('dialog[open]');
    await dlg.locator('button[data-confirm="yes"]').waitFor({ state: 'visible' });
    assert.ok((await dlg.innerText()).includes('E2E 改名'));
    assert.equal((await adminApi('GET', `/tags/${made[0].id}`)).status, 200, 'deleted before the confirmation');
    await dlg.locator('button[data-confirm="yes"]').click();
    await root.locator('a[data-tag="E2E 改名"]').waitFor({ state: 'detached' });
    await settle(page, ctx, 'tags');
    assert.equal((await adminApi('GET', `/tags/${made[0].id}`)).status, 404);
  });
});

// ------------------------------------------------------------------ the member club

const club = (page) => page.locator('[data-page="loyalty"]');
const clubRow = (page, text) => club(page).locator('tbody tr', { hasText: text });

test('loyalty: a points rule refused at its field, then saved and kept after a reload', async () => {
  const before = await ok('GET', '/settings/points');
  await withPage(env, { as: 'admin', allow: [{ status: 422, path: '/api/v1/settings/points' }] }, async (page, ctx) => {
    await page.goto(env.base + '/loyalty');
    await settle(page, ctx, 'loyalty');
    const form = club(page).locator('form[data-form="points-rules"]');
    await form.locator('[name="member_day_multiplier"]').fill('40');
    await form.locator('button[type="submit"]').click();
    assert.match(await fieldError(form, 'member_day_multiplier'), /member_day_multiplier/);
    assert.deepEqual(await ok('GET', '/settings/points'), before);
    await form.locator('[name="member_day_multiplier"]').fill('3');
    await form.locator('[name="review_bonus"]').fill('35');
    await form.locator('button[type="submit"]').click();
    await until(async () => (await ok('GET', '/settings/points')).review_bonus === 35, 'the rules to be stored');
    await settle(page, ctx, 'loyalty');
    assert.equal((await ok('GET', '/settings/points')).member_day_multiplier, 3);
    await page.reload();
    await settle(page, ctx, 'loyalty');
    assert.equal(await form.locator('[name="review_bonus"]').inputValue(), '35');
    assert.equal(await form.locator('[name="member_day_multiplier"]').inputValue(), '3');
  });
});

test('loyalty: a tier refused at its discount field, created, then edited to a spending threshold', async () => {
  await withPage(env, { allow: [{ status: 422, path: '/api/v1/tiers' }] }, async (page, ctx) => {
    await page.goto(env.base + '/loyalty?tab=tiers');
    await settle(page, ctx, 'loyalty');
    await club(page).locator('button[data-action="new-tier"]').click();
    let form = page.locator('dialog[open] form[data-form="tier"]');
    await form.locator('[name="name"]').fill('E2E 金卡');
    await form.locator('[name="threshold"]').fill('500');
    await form.locator('[name="discount_pct"]').fill('150');
    await form.locator('[name="perks"]').fill('生日礼\n包邮');
    await form.locator('button[type="submit"]').click();
    await fieldError(form, 'discount_pct');
    assert.equal((await ok('GET', '/tiers')).data.length, 0);
    await form.locator('[name="discount_pct"]').fill('5');
    await form.locator('button[type="submit"]').click();
    await clubRow(page, 'E2E 金卡').waitFor({ state: 'visible' });
    await settle(page, ctx, 'loyalty');
    let tier = (await ok('GET', '/tiers')).data[0];
    assert.deepEqual([tier.name, tier.min_points_12m, tier.discount_pct, tier.perks], ['E2E 金卡', 500, 5, ['生日礼', '包邮']]);
    assert.match(await clubRow(page, 'E2E 金卡').innerText(), /500[\s\S]*5%[\s\S]*生日礼/);

    await clubRow(page, 'E2E 金卡').getByRole('button', { name: '编辑' }).click();
    form = page.locator('dialog[open] form[data-form="tier"]');
    await form.locator('select[name="basis"]').selectOption('spent');
    await form.locator('[name="threshold"]').fill('1000');
    await form.locator('button[type="submit"]').click();
    await until(async () => (await clubRow(page, 'E2E 金卡').innerText()).includes('¥1,000.00'), 'the tier to show its spending threshold');
    await settle(page, ctx, 'loyalty');
    tier = (await ok('GET', `/tiers/${tier.id}`));
    assert.equal(tier.min_spent_cents_12m, 100000);
    assert.equal(tier.min_points_12m, null);
  });
});

test('loyalty: a coupon template refused at its value field, created, renamed', async () => {
  await withPage(env, { allow: [{ status: 422, path: '/api/v1/coupon-templates' }] }, async (page, ctx) => {
    await page.goto(env.base + '/loyalty?tab=coupons');
    await settle(page, ctx, 'loyalty');
    await club(page).locator('button[data-action="new-template"]').click();
    let form = page.locator('dialog[open] form[data-form="coupon-template"]');
    await form.locator('[name="name"]').fill('E2E 折扣券');
    await form.locator('select[name="kind"]').selectOption('percent_off');
    await form.locator('[name="value"]').fill('150');
    await form.locator('[name="min_spend"]').fill('99');
    await form.locator('button[type="submit"]').click();
    await fieldError(form, 'value');
    await form.locator('[name="value"]').fill('15');
    await form.locator('button[type="submit"]').click();
    await clubRow(page, 'E2E 折扣券').waitFor({ state: 'visible' });
    await settle(page, ctx, 'loyalty');
    const made = (await ok('GET', '/coupon-templates')).data.find((x) => x.name === 'E2E 折扣券');
    assert.ok(made, 'the template is not stored');
    assert.deepEqual([made.kind, made.value, made.min_spend_cents, made.valid_days], ['percent_off', 15, 9900, 30]);
    assert.match(await clubRow(page, 'E2E 折扣券').innerText(), /15%[\s\S]*¥99\.00[\s\S]*30/);

    await clubRow(page, 'E2E 折扣券').getByRole('button', { name: '编辑' }).click();
    form = page.locator('dialog[open] form[data-form="coupon-template"]');
    await form.locator('[name="name"]').fill('E2E 八五折券');
    await form.locator('button[type="submit"]').click();
    await clubRow(page, 'E2E 八五折券').waitFor({ state: 'visible' });
    await settle(page, ctx, 'loyalty');
    assert.equal((await ok('GET', `/coupon-templates/${made.id}`)).name, 'E2E 八五折券');
    assert.equal(await clubRow(page, 'E2E 折扣券').count(), 0);
  });
});

test('loyalty: a reward with stock refused at its coupon field, created, its stock edited and taken by a redemption', async () => {
  const buyer = await newCustomer('兑换测试');
  await ok('POST', `/customers/${buyer.id}/points`, { delta: 1000, reason: '活动奖励' });
  await withPage(env, { allow: [{ status: 422, path: '/api/v1/rewards' }] }, async (page, ctx) => {
    await page.goto(env.base + '/loyalty?tab=rewards');
    await settle(page, ctx, 'loyalty');
    await club(page).locator('button[data-action="new-reward"]').click();
    let form = page.locator('dialog[open] form[data-form="reward"]');
    await form.locator('[name="name"]').fill('E2E 帆布袋');
    await form.locator('select[name="kind"]').selectOption('coupon');
    await form.locator('[name="points_cost"]').fill('300');
    await form.locator('[name="stock"]').fill('20');
    await form.locator('button[type="submit"]').click();
    await fieldError(form, 'coupon_template_id');
    await form.locator('select[name="kind"]').selectOption('gift');
    await form.locator('button[type="submit"]').click();
    await clubRow(page, 'E2E 帆布袋').waitFor({ state: 'visible' });
    await settle(page, ctx, 'loyalty');
    const made = (await ok('GET', '/rewards')).data.find((x) => x.name === 'E2E 帆布袋');
    assert.ok(made, 'the reward is not stored');
    assert.deepEqual([made.kind, made.points_cost, made.stock], ['gift', 300, 20]);
    const stock = () => clubRow(page, 'E2E 帆布袋').locator('td[data-label="库存"]').innerText();
    assert.equal((await stock()).trim(), '20');

    await clubRow(page, 'E2E 帆布袋').getByRole('button', { name: '编辑' }).click();
    form = page.locator('dialog[open] form[data-form="reward"]');
    assert.equal(await form.locator('[name="stock"]').inputValue(), '20');
    await form.locator('[name="stock"]').fill('15');
    await form.locator('button[type="submit"]').click();
    await until(async () => (await stock()).trim() === '15', 'the stock to show 15');
    await settle(page, ctx, 'loyalty');
    assert.equal((await ok('GET', `/rewards/${made.id}`)).stock, 15);

    await ok('POST', `/rewards/${made.id}/redeem`, { customer_id: buyer.id });
    await page.reload();
    await settle(page, ctx, 'loyalty');
    assert.equal(new URL(page.url()).searchParams.get('tab'), 'rewards');
    assert.equal((await stock()).trim(), '14');
  });
});
