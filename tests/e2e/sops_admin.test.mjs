// Journeys of SOP automation and the admin pages, in real Chromium:
// - a message channel of kind webhook pointing at a local receiver (its secret
//   shown once, a test message delivered), an SOP built in the editor whose
//   action sends a template through it to an audience holding a seeded
//   customer (a bad placeholder refused at its field first), its dry run
//   rendering the message, run now, the receiver getting the signed message
//   and the outbox showing it delivered;
// - an admin creates a user (and is refused demoting the last admin), deactivates
//   it, and finds the creation in the audit log;
// - a dead delivery retried from the outbox; an event webhook created in the
//   page and its deliveries; an existing SOP loaded, switched off and deleted;
// - every one of these pages at desktop and 375 px, in both languages, and
//   what a viewer sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, pageText, until, shot, assertNoOverflow, TIMEOUT } from './lib.mjs';
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

// the seeded customer the SOP reaches: alone in its tag
const target = env.seed.searchTarget;
const TAG = 'SOP 测试对象';
await ok('POST', `/customers/${target.id}/tags`, { names: [TAG] });
const RULE = { field: 'tag', op: 'has', value: TAG };

// The control named name inside scope (a form or the page).
const named = (scope, name) => scope.locator(`[name="${name}"]`).first();
// The alert shown at the field holding the control named name.
const fieldError = (page, scope, name) => scope.locator('label', { has: page.locator(`[name="${name}"]`) }).getByRole('alert').first();

async function waitVisible(loc, what) {
  try {
    await loc.waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch {
    assert.fail(`not shown: ${what}`);
  }
}

test('an SOP built in the editor sends its rendered message through a webhook channel to the receiver, and the outbox shows it delivered', async () => {
  const hookPath = '/e2e-sop-hook';
  const allow = [{ status: 422, path: '/api/v1/sops' }, { status: 422, path: '/api/v1/sops/dry-run' }];
  await withPage(env, { allow }, async (page, ctx) => {
    // 1. the message channel, created in the page
    await page.goto(env.base + '/admin/message-channels');
    await settle(page, ctx, 'message_channels');
    const add = page.locator('[data-action="new-channel"]');
    assert.notEqual(await add.getAttribute('data-write'), null, 'the new-channel button has no data-write');
    await add.click();
    const form = page.locator('form[data-form="message-channel"]');
    await waitVisible(form, 'the message-channel form');
    await named(form, 'name').fill('E2E 回执通道');
    await named(form, 'kind').selectOption('webhook');
    await named(form, 'url').fill(rx.url + hookPath);
    await form.locator('button[type="submit"]').click();
    const secretBox = page.locator('[data-testid="channel-secret"]');
    await waitVisible(secretBox, 'the generated signing secret (shown once)');
    const secret = (await secretBox.locator('code').innerText()).trim();
    assert.match(secret, /^whsec_/);
    await settle(page, ctx, 'message_channels');
    const channelId = Number(new URL(page.url()).searchParams.get('id'));
    assert.ok(channelId > 0, `no ?id= after creating the channel: ${page.url()}`);
    const ch = await ok('GET', `/message-channels/${channelId}`);
    assert.equal(ch.url, rx.url + hookPath);
    assert.equal(ch.secret, undefined);
    await shot(page, ctx, 'message-channel');

    // the test message: queued, received, shown delivered
    const testForm = page.locator('form[data-form="test-message"]');
    await named(testForm, 'text').fill('E2E 通道测试消息');
    await testForm.locator('[data-action="send-test"]').click();
    const [testHit] = await rx.waitFor((r) => r.path === hookPath && r.json && r.json.text === 'E2E 通道测试消息');
    assert.ok(verifySignature(testHit.headers['x-scrm-signature'], testHit.raw, secret).ok, 'the test message is not signed with the secret shown');
    await waitVisible(page.locator('[data-testid="test-outcome"] [data-delivery-detail][data-status="delivered"]'), 'the test message shown as delivered');
    // the page no longer shows the secret once it is reloaded
    await page.reload();
    await settle(page, ctx, 'message_channels');
    assert.equal(await page.locator('[data-testid="channel-secret"]').count(), 0, 'the secret is shown again after a reload');
    assert.ok(!(await pageText(page)).includes(secret));

    // 2. the SOP, built in the editor
    await page.goto(env.base + '/sops');
    await settle(page, ctx, 'sops');
    await page.locator('[data-action="new-sop"]').click();
    await settle(page, ctx, 'sops');
    const sop = page.locator('form[data-form="sop"]');
    await waitVisible(sop, 'the SOP editor');
    await named(sop, 'name').fill('E2E 积分提醒');
    await named(sop, 'trigger.type').selectOption('schedule');
    await named(sop, 'cron_mode').selectOption('weekly');
    await named(sop, 'cron_time').fill('09:30');
    const reads = page.locator('[data-testid="cron-reads"]');
    await until(async () => /周一/.test(await reads.innerText()) && /09:30/.test(await reads.innerText()), 'the cron to read "周一 09:30"');
    assert.equal(await named(sop, 'trigger.cron').inputValue(), '30 9 * * 1');
    await sop.locator('input[name="aud_mode"][value="rule"]').check();
    await named(sop, 'audience').fill(JSON.stringify(RULE));
    await named(sop, 'actions[0].type').selectOption('message');
    await named(sop, 'actions[0].channel_id').selectOption(String(channelId));
    // an unknown placeholder: refused, at the template's field
    await named(sop, 'actions[0].template').fill('{{name}}您好 {{nope}}');
    await sop.locator('[data-action="save-sop"]').click();
    const tplErr = fieldError(page, sop, 'actions[0].template');
    await waitVisible(tplErr, 'the 422 at actions[0].template');
    assert.match(await tplErr.innerText(), /nope/);
    assert.equal(new URL(page.url()).searchParams.get('id'), 'new', 'the refused SOP left the editor');
    const template = '{{name}}，您的积分 {{points_balance}}，感谢支持 E2E';
    await named(sop, 'actions[0].template').fill(template);
    // previewed before it is saved: whom it reaches and the message, rendered
    const c0 = await ok('GET', `/customers/${target.id}`);
    const unsaved = page.locator('[data-testid="rendered-message"]').first();
    await until(async () => (await unsaved.count()) && (await unsaved.innerText()).trim() === `${c0.name}，您的积分 ${c0.points_balance}，感谢支持 E2E`,
      'the unsaved SOP\'s preview to render the message');
    assert.equal(await page.locator(`[data-testid="dry-run"] [data-sample="${target.id}"]`).count(), 1, 'the unsaved SOP\'s preview misses the customer');
    assert.equal((await ok('GET', '/sops?limit=500')).data.filter((x) => x.name === 'E2E 积分提醒').length, 0, 'the preview saved the SOP');
    await sop.locator('[data-action="save-sop"]').click();
    await until(() => /^\d+$/.test(new URL(page.url()).searchParams.get('id') || ''), 'the new SOP to open');
    await settle(page, ctx, 'sops');
    const sopId = Number(new URL(page.url()).searchParams.get('id'));
    const saved = await ok('GET', `/sops/${sopId}`);
    assert.deepEqual(saved.trigger, { type: 'schedule', cron: '30 9 * * 1' });
    assert.deepEqual(saved.audience, RULE);
    assert.deepEqual(saved.actions, [{ type: 'message', channel_id: channelId, template }]);

    // the dry run renders the message for the seeded customer
    const c = await ok('GET', `/customers/${target.id}`);
    const rendered = `${c.name}，您的积分 ${c.points_balance}，感谢支持 E2E`;
    const preview = page.locator('[data-testid="rendered-message"]').first();
    await waitVisible(preview, 'the rendered message of the dry run');
    assert.equal((await preview.innerText()).trim(), rendered);
    assert.ok((await page.locator('[data-testid="dry-run"]').innerText()).includes('现在会触达 1 位客户'), 'the dry run does not say it reaches 1 customer');
    assert.equal(await page.locator(`[data-testid="dry-run"] [data-sample="${target.id}"]`).count(), 1, 'the seeded customer is not in the dry run sample');
    await shot(page, ctx, 'sop-editor');
    // an unsaved edit is previewed at once, and nothing is saved
    await named(sop, 'actions[0].template').fill('改过的 {{name}}');
    await until(async () => (await preview.innerText()).trim() === `改过的 ${c.name}`, 'the preview of the unsaved edit');
    await waitVisible(page.locator('.sp-dirty'), 'the note that the preview holds unsaved edits');
    assert.deepEqual((await ok('GET', `/sops/${sopId}`)).actions[0].template, template);
    await named(sop, 'actions[0].template').fill(template);
    await until(async () => (await preview.innerText()).trim() === rendered, 'the preview back to the saved text');

    // 3. run it now (confirmed), see the run and its delivery
    await page.locator('[data-action="run-now"]').click();
    const runForm = page.locator('form[data-form="run-now"]');
    await waitVisible(runForm, 'the run-now confirmation');
    await runForm.locator('[data-confirm="yes"]').click();
    await until(() => new URL(page.url()).searchParams.get('tab') === 'runs', 'the runs tab after run now');
    const doneRun = page.locator('[data-run-status="done"]').first();
    await waitVisible(doneRun, 'a done run in the runs tab');
    await settle(page, ctx, 'sops');
    const link = page.locator('[data-delivery-link]').first();
    await waitVisible(link, 'the delivery link of the message action');
    const deliveryId = Number(await link.getAttribute('data-delivery-link'));
    assert.ok((await pageText(page)).includes(rendered), 'the run does not show the text sent');
    await shot(page, ctx, 'sop-runs');

    // the receiver got it, signed, with the rendered message
    const [hit] = await rx.waitFor((r) => r.path === hookPath && r.json && r.json.sop_id === sopId);
    assert.equal(hit.method, 'POST');
    assert.equal(hit.json.text, rendered, `the receiver got ${hit.raw}`);
    assert.equal(hit.json.customer_id, target.id);
    assert.ok(hit.raw.toString().includes(rendered));
    assert.equal(hit.headers['x-scrm-delivery'], String(deliveryId));
    assert.ok(verifySignature(hit.headers['x-scrm-signature'], hit.raw, secret).ok, 'bad signature');

    // 4. the outbox shows it delivered
    await link.click();
    await settle(page, ctx, 'deliveries');
    assert.equal(new URL(page.url()).pathname, '/deliveries');
    assert.equal(new URL(page.url()).searchParams.get('id'), String(deliveryId));
    await waitVisible(page.locator(`[data-delivery-detail="${deliveryId}"][data-status="delivered"]`), 'the delivery shown as delivered');
    assert.equal((await page.locator('[data-testid="delivery-text"]').innerText()).trim(), rendered);
    await settle(page, ctx, 'deliveries');
    await shot(page, ctx, 'delivery');
    // and in the list filtered to delivered messages of that channel
    await page.goto(env.base + `/deliveries?status=delivered&channel_id=${channelId}`);
    await settle(page, ctx, 'deliveries');
    assert.equal(await page.locator(`a[data-delivery="${deliveryId}"]`).count(), 1, 'the delivery is not listed under delivered of its channel');
  });
});

test('an admin creates a user, is refused demoting the last admin, deactivates the user, and finds the creation in the audit log', async () => {
  const me = await ok('GET', '/users?limit=500');
  const admin = me.data.find((u) => u.username === 'admin');
  const allow = [{ status: 409, path: `/api/v1/users/${admin.id}` }];
  await withPage(env, { allow }, async (page, ctx) => {
    await page.goto(env.base + '/admin/users');
    await settle(page, ctx, 'users');
    await page.locator('[data-action="new-user"]').click();
    const form = page.locator('form[data-form="new-user"]');
    await waitVisible(form, 'the new-user form');
    await named(form, 'username').fill('e2e-ops');
    await named(form, 'display_name').fill('E2E 运营');
    await named(form, 'role').selectOption('operator');
    await named(form, 'password').fill('e2e-ops-password-1');
    await named(form, 'password2').fill('e2e-ops-password-2');
    await form.locator('button[type="submit"]').click();
    await waitVisible(fieldError(page, form, 'password2'), 'the mismatch at the second password');
    await named(form, 'password2').fill('e2e-ops-password-1');
    await form.locator('button[type="submit"]').click();
    const row = page.locator('tr', { has: page.locator('[data-user="e2e-ops"]') });
    await waitVisible(row, 'the new user in the list');
    await settle(page, ctx, 'users');
    const created = (await ok('GET', '/users?limit=500')).data.find((u) => u.username === 'e2e-ops');
    assert.equal(created.role, 'operator');
    assert.equal(created.display_name, 'E2E 运营');
    const login = await env.d.login('e2e-ops', 'e2e-ops-password-1');
    assert.ok(login.cookie, 'the new user cannot sign in');

    // the last admin cannot be demoted: said at the role field, in the page's words
    const myRow = page.locator('tr', { has: page.locator('[data-user="admin"]') });
    await myRow.getByRole('button', { name: /编辑|Edit/ }).click();
    const edit = page.locator('form[data-form="edit-user"]');
    await waitVisible(edit, 'the edit-user form');
    await named(edit, 'role').selectOption('operator');
    await edit.locator('button[type="submit"]').click();
    const roleErr = fieldError(page, edit, 'role');
    await waitVisible(roleErr, 'the refusal at the role field');
    assert.match(await roleErr.innerText(), /管理员/);
    assert.equal((await ok('GET', `/users/${admin.id}`)).role, 'admin');
    await edit.getByRole('button', { name: /取消|Cancel/ }).click();
    // no deactivate button on one's own row
    assert.equal(await myRow.locator('[data-action="deactivate"]').count(), 0, 'the admin is offered to deactivate themselves');

    // deactivate the new user, confirmed
    await row.locator('[data-action="deactivate"]').click();
    await page.locator('dialog[open] [data-confirm="yes"]').click();
    await until(async () => (await row.innerText()).includes('已停用'), 'the user to show as deactivated');
    assert.equal((await ok('GET', `/users/${created.id}`)).disabled, true);
    await settle(page, ctx, 'users');
    await shot(page, ctx, 'users');

    // the audit log: filter by the action, find the creation, read its detail
    await page.goto(env.base + '/admin/audit');
    await settle(page, ctx, 'audit');
    await page.locator('form.ad-filters [name="action"]').fill('user.create');
    await page.locator('form.ad-filters [data-action="apply"]').click();
    await until(() => new URL(page.url()).searchParams.get('action') === 'user.create', 'the action filter in the address');
    await settle(page, ctx, 'audit');
    const actions = await page.locator('[data-audit]').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    assert.ok(actions.length >= 2 && actions.every((a) => a === 'user.create'), `entries shown: ${actions}`);
    const entry = page.locator('[data-audit]', { hasText: 'e2e-ops' }).first();
    await waitVisible(entry, 'the audit entry of the user creation');
    await entry.getByRole('button', { name: /展开|Show/ }).click();
    const detail = entry.locator('[data-audit-detail]');
    await waitVisible(detail, 'the entry\'s detail');
    const text = await detail.innerText();
    for (const want of ['e2e-ops', 'operator', `#${created.id}`, 'POST /api/v1/users', '201']) assert.ok(text.includes(want), `the detail lacks ${want}:\n${text}`);
    await shot(page, ctx, 'audit');
    // a deep link filtered by the target: the user's whole story
    await page.goto(env.base + `/admin/audit?target_type=user&target_id=${created.id}`);
    await settle(page, ctx, 'audit');
    const forUser = await page.locator('[data-audit]').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    // (the sign-in of the new user above is recorded on it too)
    assert.deepEqual(forUser, ['user.deactivate', 'auth.login', 'user.create']);
  });
});

test('a dead delivery is retried from the outbox and delivered', async () => {
  const deadPath = '/e2e-dead';
  const ch = await ok('POST', '/message-channels', { name: 'E2E 失败通道', kind: 'webhook', url: rx.url + deadPath });
  const remove = rx.failFor(deadPath, { status: 400, body: 'no such hook', times: 1 });
  const sent = await ok('POST', `/message-channels/${ch.id}/test`, { text: 'E2E 重试消息' });
  await until(async () => (await ok('GET', `/deliveries/${sent.id}`)).status === 'dead', 'the delivery to die on the 400');
  remove();
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/deliveries?status=dead');
    await settle(page, ctx, 'deliveries');
    const link = page.locator(`a[data-delivery="${sent.id}"]`);
    await waitVisible(link, 'the dead delivery in the list');
    await link.click();
    await settle(page, ctx, 'deliveries');
    const detail = page.locator(`[data-delivery-detail="${sent.id}"]`);
    await waitVisible(detail, 'the delivery detail');
    assert.equal(await detail.getAttribute('data-status'), 'dead');
    assert.match(await detail.innerText(), /400/);
    assert.ok((await detail.innerText()).includes('E2E 重试消息'));
    const retry = detail.locator('[data-action="retry"]');
    assert.notEqual(await retry.getAttribute('data-write'), null);
    await retry.click();
    await waitVisible(page.locator(`[data-delivery-detail="${sent.id}"][data-status="delivered"]`), 'the retried delivery shown as delivered');
    await settle(page, ctx, 'deliveries');
    assert.equal(rx.requests.filter((r) => r.path === deadPath).length, 2);
  });
});

test('an event webhook created in the page: its secret is shown once and its deliveries are listed', async () => {
  const hookPath = '/e2e-events';
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/admin/webhooks');
    await settle(page, ctx, 'webhooks');
    await page.locator('[data-action="new-webhook"]').click();
    const form = page.locator('form[data-form="webhook"]');
    await waitVisible(form, 'the webhook form');
    await named(form, 'url').fill(rx.url + hookPath);
    // no event chosen: refused in the page, at the events
    await form.locator('button[type="submit"]').click();
    await waitVisible(form.locator('[data-field-error="events"]'), 'the error at the events');
    await form.locator('input[name="events"][value="customer.created"]').check();
    await form.locator('button[type="submit"]').click();
    const box = page.locator('[data-testid="webhook-secret"]');
    await waitVisible(box, 'the webhook secret shown once');
    const secret = (await box.locator('code').innerText()).trim();
    const id = Number(new URL(page.url()).searchParams.get('id'));
    assert.deepEqual((await ok('GET', `/webhooks/${id}`)).events, ['customer.created']);
    await settle(page, ctx, 'webhooks');

    const c = await ok('POST', '/customers', { name: 'E2E 事件客户', phone: '13966660001' });
    const [hit] = await rx.waitFor((r) => r.path === hookPath && r.json && r.json.customer_id === c.id);
    assert.equal(hit.headers['x-scrm-event'], 'customer.created');
    assert.ok(verifySignature(hit.headers['x-scrm-signature'], hit.raw, secret).ok);
    const delivery = Number(hit.headers['x-scrm-delivery']);
    await until(async () => {
      await page.getByRole('button', { name: /^(刷新|Refresh)$/ }).first().click();
      await settle(page, ctx, 'webhooks');
      return (await page.locator(`a[data-delivery="${delivery}"]`).count()) === 1;
    }, 'the delivery in the webhook\'s list');
    await shot(page, ctx, 'webhook');
  });
});

test('an existing date SOP opens in the editor as saved, is switched off, and deleted after a confirmation', async () => {
  const ch = await ok('POST', '/message-channels', { name: 'E2E 日志', kind: 'log' });
  const s = await ok('POST', '/sops', {
    name: 'E2E 券到期提醒', trigger: { type: 'date', field: 'coupon_expires_at', offset_days: -3, at: '10:30' },
    actions: [{ type: 'message', channel_id: ch.id, template: '{{name}}，您的{{coupon.name}}将于{{coupon.expires_at}}到期' },
      { type: 'grant_points', points: 5, reason: '提醒' }, { type: 'task', assignee: 'owner', text: '回访 {{name}}' }],
  });
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + `/sops?id=${s.id}`);
    await settle(page, ctx, 'sops');
    const form = page.locator('form[data-form="sop"]');
    assert.equal(await named(form, 'trigger.type').inputValue(), 'date');
    assert.equal(await named(form, 'trigger.field').inputValue(), 'coupon_expires_at');
    assert.equal(await named(form, 'date_dir').inputValue(), 'before');
    assert.equal(await named(form, 'trigger.offset_days').inputValue(), '3');
    assert.equal(await named(form, 'trigger.at').inputValue(), '10:30');
    assert.equal(await named(form, 'actions[1].points').inputValue(), '5');
    assert.equal(await named(form, 'actions[2].assignee').inputValue(), 'owner');
    assert.equal(await named(form, 'actions[2].text').inputValue(), '回访 {{name}}');
    assert.ok((await pageText(page)).includes('优惠券到期日前 3 天 10:30'));

    // a change saved through the form
    await named(form, 'trigger.at').fill('11:00');
    await form.locator('[data-action="save-sop"]').click();
    await until(async () => (await ok('GET', `/sops/${s.id}`)).trigger.at === '11:00', 'the new time to be saved');
    await settle(page, ctx, 'sops');

    await page.locator('[data-action="toggle"]').click();
    await until(async () => (await ok('GET', `/sops/${s.id}`)).enabled === false, 'the SOP to be switched off');
    await waitVisible(page.locator('h1 [data-enabled="false"]'), 'the off badge');
    await settle(page, ctx, 'sops');

    await page.locator('[data-action="delete"]').click();
    await page.locator('dialog[open] [data-confirm="yes"]').click();
    await until(() => !new URL(page.url()).searchParams.get('id'), 'the list after the delete');
    await settle(page, ctx, 'sops');
    assert.equal((await adminApi('GET', `/sops/${s.id}`)).status, 404);
    assert.equal(await page.locator(`a[data-sop="${s.id}"]`).count(), 0);
  });
});

// Every page of this file: opens at desktop and 375 px without sideways
// scrolling, keeps its address on a reload, reads differently in English.
const PAGES = [
  ['/sops', 'sops'], ['/sops?id=new', 'sops'], ['/deliveries', 'deliveries'], ['/deliveries?status=delivered', 'deliveries'],
  ['/admin/users', 'users'], ['/admin/webhooks', 'webhooks'], ['/admin/message-channels', 'message_channels'], ['/admin/audit', 'audit'],
  ['/admin/audit?action=user.create', 'audit'],
];
for (const viewport of ['desktop', 'phone']) {
  test(`${viewport}: the SOP, outbox and admin pages open, fit the screen and switch language`, async () => {
    const sop = (await ok('GET', '/sops?limit=1')).data[0];
    const delivery = (await ok('GET', '/deliveries?limit=1')).data[0];
    const links = [...PAGES];
    if (sop) links.push([`/sops?id=${sop.id}`, 'sops'], [`/sops?id=${sop.id}&tab=runs`, 'sops']);
    if (delivery) links.push([`/deliveries?id=${delivery.id}`, 'deliveries']);
    await withPage(env, { viewport }, async (page, ctx) => {
      if (viewport === 'phone') await page.setViewportSize({ width: 375, height: 812 });
      for (const [link, name] of links) {
        await page.goto(env.base + link);
        await settle(page, ctx, name);
        const at = new URL(page.url());
        assert.equal(at.pathname + at.search, link, 'the page changed its address');
        const h1 = page.locator(`[data-page="${name}"] h1`);
        assert.ok(await h1.count() > 0 && (await h1.first().innerText()).trim(), `${link}: no heading`);
        if (viewport === 'phone') await assertNoOverflow(page);
        await page.reload();
        await settle(page, ctx, name);
        assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, link, 'a reload lost the address');
        if (viewport === 'desktop') {
          const zh = await pageText(page);
          await page.getByRole('button', { name: 'English', exact: true }).click();
          await page.waitForFunction(() => document.documentElement.lang === 'en');
          await settle(page, ctx, name);
          assert.notEqual(await pageText(page), zh, `${link} reads the same in English`);
          await page.getByRole('button', { name: '中文', exact: true }).click();
          await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
          await settle(page, ctx, name);
        }
      }
      if (viewport === 'phone') {
        for (const [link, name, file] of [['/sops?id=new', 'sops', 'sop-new'], ['/admin/audit', 'audit', 'audit'], ['/deliveries', 'deliveries', 'deliveries']]) {
          await page.goto(env.base + link);
          await settle(page, ctx, name);
          await shot(page, ctx, file);
        }
      }
    });
  });
}

test('a viewer sees the SOPs without write controls, the outbox closed, and no admin page', async () => {
  const sop = await ok('POST', '/sops', {
    name: 'E2E 只读查看', trigger: { type: 'event', event: 'tag.added', name: TAG, delay_minutes: 30 },
    audience: RULE, actions: [{ type: 'grant_points', points: 1 }],
  });
  await withPage(env, { as: 'viewer' }, async (page, ctx) => {
    for (const link of ['/sops', `/sops?id=${sop.id}`, `/sops?id=${sop.id}&tab=runs`, '/deliveries']) {
      await page.goto(env.base + link);
      await settle(page, ctx, link.startsWith('/sops') ? 'sops' : 'deliveries');
      const n = await page.locator('[data-write]').count();
      const what = n ? await page.locator('[data-write]').evaluateAll((els) => els.map((e) => e.outerHTML.slice(0, 160))) : [];
      assert.equal(n, 0, `write controls shown to a viewer on ${link}:\n  ${what.join('\n  ')}`);
    }
    await page.goto(env.base + `/sops?id=${sop.id}`);
    await settle(page, ctx, 'sops');
    assert.ok((await pageText(page)).includes('事件：添加标签“SOP 测试对象”，30 分钟后'));
    assert.equal(await page.locator('form[data-form="sop"] fieldset[disabled]').count(), 1, 'the viewer\'s editor is not read-only');
    await page.goto(env.base + '/deliveries');
    await settle(page, ctx, 'deliveries');
    await waitVisible(page.locator('[data-testid="outbox-forbidden"]'), 'the note that the outbox is for operators');
    for (const link of ['/admin/users', '/admin/webhooks', '/admin/message-channels', '/admin/audit']) {
      await page.goto(env.base + link);
      await settle(page, ctx, 'not-found');
    }
    const navs = await page.locator('a[data-nav]').evaluateAll((as) => as.map((a) => a.getAttribute('data-nav')));
    assert.ok(navs.includes('/sops') && navs.includes('/deliveries'));
    assert.ok(!navs.some((p) => p.startsWith('/admin/')), `admin entries shown to a viewer: ${navs}`);
  });
});
