// Journeys of the growth pages and the admin pages, in real Chromium:
// - a channel created in the page: its live code shown as a QR image of its
//   link, its figures (customers, add rate, cost per customer, scans) as the
//   API counts them, a taken code refused at its field;
// - a group created, members added by id (an unknown id refused at the field);
// - a customer enrolled as an ambassador: the generated referral code shown,
//   an order carrying it booked in the commission ledger;
// - the analytics tabs deep-linked with a range: the figures of that range,
//   the range kept across tabs and a reload;
// - an event webhook: its secret shown once and never again, deleted after a
//   confirmation (cancelled first);
// - an API token: shown once and never again, revoked after a confirmation;
// - a message channel of kind webhook at a local receiver: a test message
//   received and shown delivered in the outbox of that channel;
// - a user: created as an operator, a taken name refused at its field, the
//   role changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, pageText, until, numZh, TIMEOUT } from './lib.mjs';
import { startReceiver, verifySignature } from '../api/receiver.mjs';

const rx = await startReceiver();
const env = await startE2E();
test.after(() => rx.close());
const adminApi = async (method, p, body) => env.d.req(method, '/api/v1' + p, { token: await env.d.adminToken(), body });
async function ok(method, p, body, status = [200, 201, 202]) {
  const r = await adminApi(method, p, body);
  assert.ok([].concat(status).includes(r.status), `${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

const named = (scope, name) => scope.locator(`[name="${name}"]`).first();
const fieldError = (scope, name) => scope.locator(`[data-field-error="${name}"]`);
const money = (cents) => '¥' + (cents / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

async function waitVisible(loc, what) {
  try {
    await loc.first().waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch {
    assert.fail(`not shown: ${what}`);
  }
}

// A definition list as {term: value}.
const kv = (loc) => loc.evaluate((dl) => {
  const out = {};
  for (const dt of dl.querySelectorAll(':scope > dt')) out[dt.textContent.trim()] = dt.nextElementSibling.textContent.trim();
  return out;
});

// Confirm (or cancel) the open ConfirmButton dialog.
async function answer(page, yes) {
  const dialog = page.locator('dialog[open]');
  await waitVisible(dialog, 'the confirmation');
  await dialog.getByRole('button', { name: yes ? '确认' : '取消', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

test('a channel created in the page shows its live code as a QR image and its figures; a taken code is refused at its field', async () => {
  const allow = [{ status: 409, path: '/api/v1/channels' }];
  await withPage(env, { allow }, async (page, ctx) => {
    await page.goto(env.base + '/channels');
    await settle(page, ctx, 'channels');
    await page.getByRole('button', { name: '新建渠道' }).click();
    const form = page.locator('form[data-form="channel"]');
    await waitVisible(form, 'the channel form');
    await named(form, 'name').fill('E2E 快递卡');
    await named(form, 'kind').selectOption('package_card');
    await named(form, 'units').fill('1000');
    await named(form, 'cost').fill('500');
    await named(form, 'contact_url').fill('https://work.weixin.qq.com/ca/e2e-contact');
    // the code of a seeded channel: refused by the API, shown at the code
    await named(form, 'code').fill('pkg2026');
    await form.locator('button[type="submit"]').click();
    await waitVisible(fieldError(form, 'code'), 'the taken code at its field');
    await named(form, 'code').fill('e2e-card');
    await form.locator('button[type="submit"]').click();
    await form.waitFor({ state: 'detached' });
    await settle(page, ctx, 'channels');
    const id = Number(new URL(page.url()).searchParams.get('id'));
    assert.ok(id > 0, `no ?id= after saving: ${page.url()}`);
    const ch = await ok('GET', `/channels/${id}`);
    assert.deepEqual([ch.units, ch.cost_cents, ch.code, ch.live_path], [1000, 50000, 'e2e-card', '/c/e2e-card']);

    // the live code: a QR image of the channel's link
    const img = page.locator('[data-testid="live-code"] img[data-qr]');
    await waitVisible(img, 'the QR image');
    assert.equal(await img.getAttribute('data-qr'), env.base + '/c/e2e-card');
    assert.match(await img.getAttribute('src'), /^data:image\/png;base64,/);
    assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth >= 100), 'the QR image did not load');
    assert.equal(await page.locator('[data-live-url]').getAttribute('href'), env.base + '/c/e2e-card');

    // four customers from the channel and one scan: the figures follow
    for (let i = 0; i < 4; i++) await ok('POST', '/customers', { name: `E2E 卡客 ${i}`, source_channel_id: id });
    const scan = await env.d.req('GET', '/c/e2e-card');
    assert.equal(scan.status, 302, scan.text);
    await page.reload();
    await settle(page, ctx, 'channels');
    const f = await kv(page.locator('[data-channel] dl.kv'));
    assert.match(f['客户'], new RegExp(`^${numZh(4)}\\b`));
    assert.equal(f['投放量'], numZh(1000));
    assert.equal(f['添加率'], '0.4%');
    assert.equal(f['总成本'], money(50000));
    assert.equal(f['获客成本'], money(12500));
    assert.equal(f['扫码次数'], numZh(1));
    assert.equal(f['扫码人数'], numZh(1));

    // the list shows the same row
    await page.locator('a', { hasText: '返回渠道列表' }).click();
    await settle(page, ctx, 'channels');
    const row = page.locator('tr', { has: page.locator(`a[href="/channels?id=${id}"]`) }).first();
    assert.match(await row.innerText(), /E2E 快递卡[\s\S]*¥125\.00/);
  });
});

test('a group created in the page gets members by id; an unknown customer is refused at the field', async () => {
  const [a, b] = env.seed.customers.slice(20, 22);
  const allow = [{ status: 422, path: /^\/api\/v1\/groups\/\d+\/members$/ }];
  await withPage(env, { allow }, async (page, ctx) => {
    await page.goto(env.base + '/groups');
    await settle(page, ctx, 'groups');
    await page.getByRole('button', { name: '新建社群' }).click();
    const form = page.locator('form[data-form="group"]');
    await waitVisible(form, 'the group form');
    await named(form, 'name').fill('E2E 新品体验群');
    await named(form, 'kind').selectOption('koc');
    await form.locator('button[type="submit"]').click();
    await form.waitFor({ state: 'detached' });
    await settle(page, ctx, 'groups');
    const id = Number(new URL(page.url()).searchParams.get('id'));
    assert.ok(id > 0, `no ?id= after saving: ${page.url()}`);
    assert.deepEqual(await ok('GET', `/groups/${id}`).then((g) => [g.name, g.kind, g.members]), ['E2E 新品体验群', 'koc', 0]);

    const add = page.locator('form[data-form="add-members"]');
    await named(add, 'customer_ids').fill(`${a.id}, 99999999`);
    await add.locator('button[type="submit"]').click();
    await waitVisible(fieldError(add, 'customer_ids'), 'the unknown customer at the ids');
    assert.equal((await ok('GET', `/groups/${id}`)).members, 0, 'a refused batch added someone');
    await named(add, 'customer_ids').fill(`${a.id}, ${b.id}`);
    await add.locator('button[type="submit"]').click();
    await until(async () => (await named(add, 'customer_ids').inputValue()) === '', 'the ids form to clear after adding');
    await settle(page, ctx, 'groups');
    const text = await pageText(page);
    assert.match(text, /共 2 人/);
    for (const c of [a, b]) assert.equal(await page.locator(`[data-group] a[href="/customers/${c.id}"]`).count(), 1, `member #${c.id} not listed`);
    const g = await ok('GET', `/groups/${id}`);
    assert.equal(g.members, 2);
    assert.equal((await kv(page.locator('[data-group] dl.kv')))['成员'], numZh(2));
  });
});

test('a customer enrolled as an ambassador shows the generated referral code, and an order carrying it lands in the commission ledger', async () => {
  const who = env.seed.customers[5];
  const buyer = env.seed.customers[6];
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/ambassadors');
    await settle(page, ctx, 'ambassadors');
    await page.locator('.page-head').getByRole('button', { name: '招募推广大使' }).click();
    const form = page.locator('form[data-form="ambassador"]');
    await waitVisible(form, 'the enrol form');
    await named(form, 'customer_id').fill(String(who.id));
    await named(form, 'commission_pct').fill('12');
    await form.locator('button[type="submit"]').click();
    await form.waitFor({ state: 'detached' });
    await settle(page, ctx, 'ambassadors');
    const id = Number(new URL(page.url()).searchParams.get('id'));
    assert.ok(id > 0, `no ?id= after enrolling: ${page.url()}`);
    const amb = await ok('GET', `/ambassadors/${id}`);
    assert.deepEqual([amb.customer_id, amb.commission_pct], [who.id, 12]);
    const shown = await kv(page.locator('[data-ambassador] dl.kv'));
    assert.equal(shown['推荐码'], amb.referral_code);
    assert.match(amb.referral_code, /^[A-Za-z0-9_-]{8}$/);
    assert.match(await page.locator('[data-testid="commission-ledger"]').innerText(), /暂无数据/);

    // an order with the code, paid after the enrolment: 12% of 250.00 yuan is pending
    const paid = new Date(Math.max(Date.parse(amb.created_at) + 1000, Math.floor(Date.now() / 1000) * 1000));
    const order = await ok('POST', '/orders', {
      platform: 'tmall', external_id: 'E2E-KOC-1', customer_id: buyer.id, amount_cents: 25000,
      paid_at: paid.toISOString().replace(/\.\d{3}Z$/, 'Z'), referral_code: amb.referral_code,
    });
    await page.reload();
    await settle(page, ctx, 'ambassadors');
    const ledger = page.locator('[data-testid="commission-ledger"]');
    const row = ledger.locator('tr', { has: page.locator(`a[href="/orders?id=${order.id}"]`) });
    await waitVisible(row, 'the ledger entry of the order');
    const line = await row.innerText();
    assert.match(line, /收入/);
    assert.match(line, /待结算/);
    assert.ok(line.includes(money(3000)) && line.includes(money(25000)), `ledger row: ${line}`);
    const stats = await page.locator('[data-ambassador] .stats').innerText();
    assert.match(stats, new RegExp(`待结算佣金\\s+${money(3000).replace(/[.]/g, '\\.')}`));
    assert.equal((await ok('GET', `/ambassadors/${id}`)).commission_pending_cents, 3000);
    assert.equal(await page.locator(`[data-testid="referred-customers"] a[href="/customers/${buyer.id}"]`).count(), 1);
  });
});

test('analytics tabs deep-linked with a range show that range\'s figures and keep it across tabs and a reload', async () => {
  const day = (n) => new Date(Date.now() - n * 86400e3).toISOString().slice(0, 10);
  const from = day(120);
  const to = day(1);
  const chans = await ok('GET', `/analytics/channels?from=${from}&to=${to}`);
  const seeded = chans.channels.find((c) => c.channel_id === env.seed.channels[0].id);
  const groups = await ok('GET', `/analytics/groups?from=${from}&to=${to}`);
  const core = groups.groups.find((g) => g.group_id === env.seed.group.id);
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(`${env.base}/analytics?tab=channels&from=${from}&to=${to}`);
    await settle(page, ctx, 'analytics');
    assert.equal(await page.locator('[role="tab"][aria-selected="true"]').getAttribute('data-tab'), 'channels');
    const range = page.locator('[data-page="analytics"] .page-head .range');
    assert.equal(await range.locator('input[type="date"]').nth(0).inputValue(), from);
    assert.equal(await range.locator('input[type="date"]').nth(1).inputValue(), to);
    const row = page.locator('tr', { has: page.locator(`a[href="/channels?id=${seeded.channel_id}"]`) });
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[2], numZh(seeded.acquired), `acquired of ${seeded.name} in the range`);
    assert.equal(cells[12], numZh(seeded.scans));

    await page.locator('[role="tab"][data-tab="groups"]').click();
    await settle(page, ctx, 'analytics');
    const url = new URL(page.url());
    assert.deepEqual([url.searchParams.get('tab'), url.searchParams.get('from'), url.searchParams.get('to')], ['groups', from, to]);
    await page.reload();
    await settle(page, ctx, 'analytics');
    assert.equal(await page.locator('[role="tab"][aria-selected="true"]').getAttribute('data-tab'), 'groups');
    const g = page.locator('tr', { has: page.locator(`a[href="/groups?id=${core.group_id}"]`) });
    const gc = await g.locator('td').allInnerTexts();
    assert.deepEqual([gc[2], gc[3], gc[5]], [numZh(core.members), numZh(core.active_members), numZh(core.converted_members)]);

    // a preset replaces the range in the URL, the tab stays
    await range.getByRole('button', { name: '近 30 天' }).click();
    await settle(page, ctx, 'analytics');
    const u2 = new URL(page.url());
    assert.deepEqual([u2.searchParams.get('tab'), u2.searchParams.get('from'), u2.searchParams.get('to')], ['groups', day(30), null]);
  });
});

test('an event webhook\'s secret is shown once and never again, and the webhook is deleted only after a confirmation', async () => {
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/admin/webhooks');
    await settle(page, ctx, 'webhooks');
    await page.locator('[data-action="new-webhook"]').click();
    const form = page.locator('form[data-form="webhook"]');
    await waitVisible(form, 'the webhook form');
    await named(form, 'url').fill(rx.url + '/e2e-wh-once');
    await form.locator('input[name="events"][value="order.created"]').check();
    await form.locator('button[type="submit"]').click();
    const box = page.locator('[data-testid="webhook-secret"]');
    await waitVisible(box, 'the secret');
    const secret = (await box.locator('code').innerText()).trim();
    assert.match(secret, /^whsec_/);
    const id = Number(new URL(page.url()).searchParams.get('id'));
    assert.equal((await ok('GET', `/webhooks/${id}`)).secret, undefined);

    // back to the list and into the webhook again: the secret is gone
    await page.getByRole('link', { name: /返回 Webhook 列表/ }).click();
    await settle(page, ctx, 'webhooks');
    await page.locator(`a[data-webhook="${id}"]`).click();
    await settle(page, ctx, 'webhooks');
    await waitVisible(page.locator(`[data-webhook-detail="${id}"]`), 'the webhook again');
    assert.equal(await box.count(), 0, 'the secret is shown a second time');
    assert.ok(!(await pageText(page)).includes(secret));

    // delete: cancelled first, then confirmed
    const del = page.locator('.card-actions').getByRole('button', { name: '删除' });
    await del.click();
    await answer(page, false);
    assert.equal((await adminApi('GET', `/webhooks/${id}`)).status, 200, 'cancelling deleted the webhook');
    await del.click();
    await answer(page, true);
    await until(() => !new URL(page.url()).searchParams.get('id'), 'the list after deleting');
    await settle(page, ctx, 'webhooks');
    assert.equal((await adminApi('GET', `/webhooks/${id}`)).status, 404);
    assert.equal(await page.locator(`a[data-webhook="${id}"]`).count(), 0);
  });
});

test('an API token is shown once and never again, works, and stops working once revoked after a confirmation', async () => {
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/admin/tokens');
    await settle(page, ctx, 'tokens');
    const form = page.locator('form[data-form="token"]');
    await named(form, 'name').fill('E2E 集成');
    await named(form, 'role').selectOption('viewer');
    await form.locator('button[type="submit"]').click();
    const box = page.locator('[data-testid="new-token"]');
    await waitVisible(box, 'the new token');
    const token = (await box.locator('code').innerText()).trim();
    assert.ok(token.length >= 20, `token: ${token}`);
    assert.equal((await env.d.req('GET', '/api/v1/customers?limit=1', { token })).status, 200, 'the token shown does not work');
    const listed = (await ok('GET', '/tokens?limit=500')).data.find((x) => x.name === 'E2E 集成');
    assert.equal(listed.role, 'viewer');
    assert.ok(token.startsWith(listed.prefix));
    await settle(page, ctx, 'tokens');
    const row = page.locator('tr', { has: page.locator(`[data-token="${listed.id}"]`) });
    await waitVisible(row, 'the token in the list');
    assert.equal(await row.locator('[data-status]').getAttribute('data-status'), 'active');

    // the shared shown-once box: a click on the text selects all of it, the
    // copy button puts it on the clipboard, both buttons reachable by keyboard
    await box.locator('code').click();
    assert.equal(await page.evaluate(() => String(window.getSelection()).trim()), token, 'a click does not select the whole token');
    await ctx.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.base });
    const copy = box.locator('[data-action="copy-once"]');
    assert.equal(await copy.evaluate((b) => b.tagName), 'BUTTON');
    await copy.focus();
    await page.keyboard.press('Enter');
    await until(async () => (await copy.innerText()).includes('已复制'), 'the copy button says copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token, 'the clipboard does not hold the token');

    // never again: not after hiding it, not after coming back
    await box.locator('[data-action="hide-once"]').click();
    assert.equal(await box.count(), 0);
    await page.goto(env.base + '/');
    await settle(page, ctx, 'overview');
    await page.goto(env.base + '/admin/tokens');
    await settle(page, ctx, 'tokens');
    assert.equal(await box.count(), 0);
    assert.ok(!(await page.content()).includes(token), 'the token is in the page again');

    // revoke: cancelled first, then confirmed
    await row.locator('[data-action="revoke"]').click();
    await answer(page, false);
    assert.equal((await env.d.req('GET', '/api/v1/customers?limit=1', { token })).status, 200);
    await row.locator('[data-action="revoke"]').click();
    await answer(page, true);
    await waitVisible(row.locator('[data-status="revoked"]'), 'the token shown revoked');
    assert.equal(await row.locator('[data-action="revoke"]').count(), 0);
    assert.equal((await env.d.req('GET', '/api/v1/customers?limit=1', { token })).status, 401);
  });
});

test('a webhook message channel at a local receiver sends a test message, shown delivered in the outbox of that channel', async () => {
  const hookPath = '/e2e-mc-test';
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/admin/message-channels');
    await settle(page, ctx, 'message_channels');
    await page.locator('[data-action="new-channel"]').click();
    const form = page.locator('form[data-form="message-channel"]');
    await waitVisible(form, 'the message-channel form');
    await named(form, 'name').fill('E2E 测试回执');
    await named(form, 'kind').selectOption('webhook');
    await named(form, 'url').fill(rx.url + hookPath);
    await named(form, 'secret').fill('e2e-secret-0123456789');
    await form.locator('button[type="submit"]').click();
    await form.waitFor({ state: 'detached' });
    await settle(page, ctx, 'message_channels');
    const id = Number(new URL(page.url()).searchParams.get('id'));
    assert.ok(id > 0, `no ?id= after creating: ${page.url()}`);
    // a secret of one's own is not shown back
    assert.equal(await page.locator('[data-testid="channel-secret"]').count(), 0);

    const testForm = page.locator('form[data-form="test-message"]');
    await named(testForm, 'text').fill('E2E 发件箱测试');
    await testForm.locator('[data-action="send-test"]').click();
    const [hit] = await rx.waitFor((r) => r.path === hookPath && r.json && r.json.text === 'E2E 发件箱测试');
    assert.ok(verifySignature(hit.headers['x-scrm-signature'], hit.raw, 'e2e-secret-0123456789').ok, 'not signed with the secret given');
    const outcome = page.locator('[data-testid="test-outcome"] [data-delivery-detail]');
    await waitVisible(page.locator('[data-testid="test-outcome"] [data-delivery-detail][data-status="delivered"]'), 'the test message delivered');
    const deliveryId = Number(await outcome.getAttribute('data-delivery-detail'));

    // the channel's outbox
    await page.getByRole('link', { name: '查看这个通道发出的消息' }).click();
    await settle(page, ctx, 'deliveries');
    assert.equal(new URL(page.url()).searchParams.get('channel_id'), String(id));
    assert.equal(await page.locator('select[name="channel_id"]').inputValue(), String(id));
    const row = page.locator('tr', { has: page.locator(`a[data-delivery="${deliveryId}"]`) });
    await waitVisible(row, 'the test message in the outbox');
    assert.equal(await row.locator('[data-status]').getAttribute('data-status'), 'delivered');
    assert.match(await row.innerText(), /E2E 测试回执[\s\S]*E2E 发件箱测试/);
    const rows = await page.locator('tbody tr').count();
    assert.equal(rows, 1, 'the outbox of the channel lists other channels\' messages');
  });
});

test('a user created as an operator, a taken name refused at its field, and the role changed', async () => {
  const allow = [{ status: 409, path: '/api/v1/users' }];
  await withPage(env, { allow }, async (page, ctx) => {
    await page.goto(env.base + '/admin/users');
    await settle(page, ctx, 'users');
    await page.locator('[data-action="new-user"]').click();
    const form = page.locator('form[data-form="new-user"]');
    await waitVisible(form, 'the new-user form');
    // the seeded viewer's name: taken, said at the user name
    await named(form, 'username').fill('viewer');
    await named(form, 'display_name').fill('E2E 角色');
    await named(form, 'role').selectOption('operator');
    await named(form, 'password').fill('e2e-role-password');
    await named(form, 'password2').fill('e2e-role-password');
    await form.locator('button[type="submit"]').click();
    await waitVisible(fieldError(form, 'username'), 'the taken name at the user name');
    await named(form, 'username').fill('e2e-role');
    await form.locator('button[type="submit"]').click();
    await form.waitFor({ state: 'detached' });
    const row = page.locator('tr', { has: page.locator('[data-user="e2e-role"]') });
    await waitVisible(row, 'the new user');
    await settle(page, ctx, 'users');
    assert.match(await row.innerText(), /运营/);
    const u = (await ok('GET', '/users?limit=500')).data.find((x) => x.username === 'e2e-role');
    assert.deepEqual([u.role, u.display_name, u.disabled], ['operator', 'E2E 角色', false]);

    await row.getByRole('button', { name: '编辑' }).click();
    const edit = page.locator('form[data-form="edit-user"]');
    await waitVisible(edit, 'the edit form');
    await named(edit, 'role').selectOption('viewer');
    await edit.locator('button[type="submit"]').click();
    await edit.waitFor({ state: 'detached' });
    await until(async () => /只读/.test(await row.innerText()), 'the role shown as viewer');
    await settle(page, ctx, 'users');
    assert.equal((await ok('GET', `/users/${u.id}`)).role, 'viewer');
  });
});

test('reactivating a user makes only that row\'s button busy; another row can be reactivated meanwhile', async () => {
  const users = [];
  for (const name of ['e2e-back-a', 'e2e-back-b']) {
    const u = await ok('POST', '/users', { username: name, display_name: name, role: 'operator', password: 'e2e-reactivate-pw' });
    await ok('DELETE', `/users/${u.id}`, undefined, [200, 204]);
    users.push(u);
  }
  const [a, b] = users;
  await withPage(env, {}, async (page, ctx) => {
    // hold the answer to A's reactivation until B's is done
    let release;
    const held = new Promise((r) => { release = r; });
    await page.route(`**/api/v1/users/${a.id}`, async (route) => {
      if (route.request().method() === 'PATCH') await held;
      await route.continue();
    });
    await page.goto(env.base + '/admin/users');
    await settle(page, ctx, 'users');
    const btn = (u) => page.locator('tr', { has: page.locator(`[data-user="${u.username}"]`) }).locator('[data-action="reactivate"]');
    await waitVisible(btn(a), 'A\'s reactivate button');
    await btn(a).click();
    await until(async () => (await btn(a).getAttribute('aria-busy')) === 'true', 'A\'s button busy');
    assert.equal(await btn(b).getAttribute('aria-busy'), null, 'B\'s button looks busy while A is reactivated');
    assert.equal(await btn(b).isEnabled(), true, 'B\'s button is disabled while A is reactivated');
    const busyRows = await page.locator('[data-action="reactivate"][aria-busy="true"]').count();
    assert.equal(busyRows, 1, `${busyRows} rows look busy`);
    // B meanwhile: done while A still waits
    await btn(b).click();
    await until(async () => (await ok('GET', `/users/${b.id}`)).disabled === false, 'B reactivated');
    await until(async () => (await btn(b).count()) === 0, 'B\'s row shown active');
    assert.equal(await btn(a).getAttribute('aria-busy'), 'true', 'A\'s button stopped looking busy before its answer');
    release();
    await until(async () => (await btn(a).count()) === 0, 'A\'s row shown active');
    await settle(page, ctx, 'users');
    assert.equal((await ok('GET', `/users/${a.id}`)).disabled, false);
  });
});
