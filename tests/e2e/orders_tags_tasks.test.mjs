// Journeys: import a CSV of orders through the orders page (a real upload with
// its progress bar) and read the counts and the bad line's error; create a
// manual tag and an auto tag (a rule refused at rule.all[1].op, shown and
// selected next to the textarea, then fixed) and evaluate it now; tick a task a
// SOP handed out done and copy its message. At phone width nothing scrolls
// sideways; a viewer sees no write control on these pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, shot, pageText, until, assertNoOverflow, numZh, TIMEOUT } from './lib.mjs';

const env = await startE2E();
const adminApi = async (method, p, body) => env.d.req(method, '/api/v1' + p, { token: await env.d.adminToken(), body });

test('import a CSV of orders: a progress bar, the created count, and the bad line\'s error next to its line number', async () => {
  const csv = [
    'platform,external_id,buyer_phone,amount_cents,paid_at,items',
    'tmall,E2E-IMP-1,13900000001,12900,2026-11-01T10:00:00Z,"[{""sku"":""IMP-A"",""name"":""导入商品甲"",""quantity"":1,""price_cents"":12900}]"',
    'tmall,E2E-IMP-2,,abc,2026-11-02T10:00:00Z,',
    'jd,E2E-IMP-3,13700009999,5900,2026-11-03T10:00:00Z,',
    '',
  ].join('\n');
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/orders');
    await settle(page, ctx, 'orders');
    const root = page.locator('[data-page="orders"]');
    await root.getByRole('tab', { name: /导入/ }).click();
    await settle(page, ctx, 'orders');
    assert.equal(new URL(page.url()).searchParams.get('tab'), 'import', 'the import tab is not in the address');
    // the expected columns are there for an operator preparing a file
    const formats = await root.locator('[data-testid="format-columns"]').innerText();
    for (const col of ['platform', 'external_id', 'amount_cents', 'paid_at', 'items']) assert.ok(formats.includes(col), `the format help lacks ${col}`);

    await root.locator('input[type="file"][name="file"]').setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    // watch for the progress bar: shown while the file goes up
    await page.evaluate(() => {
      window.__sawProgress = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="upload-progress"] progress')) window.__sawProgress = true;
      }).observe(document.body, { subtree: true, childList: true });
    });
    const upload = root.locator('button[data-action="upload"]');
    assert.notEqual(await upload.getAttribute('data-write'), null, 'the upload button has no data-write');
    await upload.click();
    const result = root.locator('[data-testid="import-result"]');
    await result.waitFor({ state: 'visible', timeout: TIMEOUT });
    await settle(page, ctx, 'orders');
    assert.ok(await page.evaluate(() => window.__sawProgress), 'no progress bar was shown during the upload');
    assert.equal(await result.locator('[data-count="created"]').innerText(), numZh(2));
    assert.equal(await result.locator('[data-count="updated"]').innerText(), numZh(0));
    assert.equal(await result.locator('[data-count="errors"]').innerText(), numZh(1));
    const errors = root.locator('[data-testid="import-errors"] tbody tr');
    assert.equal(await errors.count(), 1, 'one bad line listed');
    const row = await errors.first().innerText();
    assert.match(row, /\b3\b/, `the bad line's number (3) is not shown: ${row}`);
    assert.match(row, /amount_cents/, `the bad line's field is not shown: ${row}`);
    await shot(page, ctx, 'orders-import');

    // the good lines landed, the bad one did not
    const got = (await adminApi('GET', '/orders?platform=tmall&limit=500')).json.data.map((o) => o.external_id);
    assert.ok(got.includes('E2E-IMP-1') && !got.includes('E2E-IMP-2'));

    // the list shows the imported order; its detail lists its items
    await root.getByRole('tab', { name: /订单列表/ }).click();
    await settle(page, ctx, 'orders');
    const imported = (await adminApi('GET', '/orders?platform=tmall&limit=500')).json.data.find((o) => o.external_id === 'E2E-IMP-1');
    assert.equal(imported.customer_id, env.seed.customers[1].id, 'the buyer phone bound the order to its customer');
    await root.locator(`a[data-order="${imported.id}"]`).click();
    const detail = page.locator(`[data-order-detail="${imported.id}"]`);
    await detail.waitFor({ state: 'visible', timeout: TIMEOUT });
    await settle(page, ctx, 'orders');
    assert.equal(new URL(page.url()).searchParams.get('id'), String(imported.id), 'the open order is not in the address');
    const text = await detail.innerText();
    assert.ok(text.includes('导入商品甲') && text.includes('IMP-A'), `the detail does not list the items:\n${text}`);
    assert.ok(await detail.locator(`a[href="/customers/${imported.customer_id}"]`).count(), 'the detail does not link the customer');
  });
});

test('create an order in the form: a bad item price is refused next to that item\'s field', async () => {
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/orders');
    await settle(page, ctx, 'orders');
    await page.locator('button[data-action="new-order"]').click();
    const form = page.locator('form[data-form="order"]');
    await form.waitFor({ state: 'visible', timeout: TIMEOUT });
    await form.locator('[name="platform"]').fill('offline');
    await form.locator('[name="external_id"]').fill('E2E-FORM-1');
    await form.locator('[name="items[0].sku"]').fill('F-1');
    await form.locator('[name="items[0].price"]').fill('12.345');
    await form.locator('button[type="submit"]').click();
    const err = form.locator('[data-field-error="items[0].price_cents"]');
    await err.waitFor({ state: 'visible', timeout: TIMEOUT });
    await form.locator('[name="items[0].price"]').fill('88.50');
    await form.locator('button[type="submit"]').click();
    await until(async () => (await adminApi('GET', '/orders?platform=offline')).json.data.some((o) => o.external_id === 'E2E-FORM-1'), 'the order to be created');
    const o = (await adminApi('GET', '/orders?platform=offline')).json.data.find((x) => x.external_id === 'E2E-FORM-1');
    assert.equal(o.amount_cents, 8850, 'the amount is the sum of the items');
    await page.locator(`[data-order-detail="${o.id}"]`).waitFor({ state: 'visible', timeout: TIMEOUT });
    await settle(page, ctx, 'orders');
  });
});

test('create a manual tag and see it listed, linked to its customers; an auto tag\'s rule error is shown at its path; evaluate it now', async () => {
  await withPage(env, { allow: [{ status: 422, path: '/api/v1/tags' }] }, async (page, ctx) => {
    await page.goto(env.base + '/tags');
    await settle(page, ctx, 'tags');
    const root = page.locator('[data-page="tags"]');
    const name = 'E2E 新标签';
    await root.locator('button[data-action="new-tag"]').click();
    let form = page.locator('form[data-form="tag"]');
    await form.waitFor({ state: 'visible', timeout: TIMEOUT });
    await form.locator('[name="name"]').fill(name);
    await form.locator('[name="group"]').fill('E2E 分组');
    await form.locator('[name="color"]').fill('#16a34a');
    await form.locator('button[type="submit"]').click();
    const link = root.locator(`a[data-tag="${name}"]`);
    await link.waitFor({ state: 'visible', timeout: TIMEOUT });
    await settle(page, ctx, 'tags');
    assert.equal(await link.getAttribute('href'), `/customers?tag=${encodeURIComponent(name)}`);
    const made = (await adminApi('GET', `/tags?q=${encodeURIComponent(name)}`)).json.data[0];
    assert.equal(made.kind, 'manual');
    assert.equal(made.group, 'E2E 分组');
    assert.equal(made.color, '#16a34a');

    // an auto tag: a wrong op is refused at rule.all[1].op, shown and selected in the text
    await root.locator('button[data-action="new-tag"]').click();
    form = page.locator('form[data-form="tag"]');
    await form.waitFor({ state: 'visible', timeout: TIMEOUT });
    await form.locator('[name="name"]').fill('E2E 复购自动');
    await form.locator('[data-kind-choice="auto"]').click();
    const area = form.locator('textarea[name="rule"]');
    await area.fill('{"all": [{"field": "order_count", "op": ">=", "value": 1}, {"field": "order_count", "op": "has", "value": 2}]}');
    await form.locator('button[type="submit"]').click();
    const err = form.locator('[data-rule-path]');
    await err.waitFor({ state: 'visible', timeout: TIMEOUT });
    assert.equal(await err.getAttribute('data-rule-path'), 'rule.all[1].op');
    assert.match(await err.innerText(), /rule\.all\[1\]\.op/);
    assert.equal(await area.evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd)), '"has"', 'the faulty op is not selected in the rule');
    await shot(page, ctx, 'tags-rule-error');
    const fixed = (await area.inputValue()).replace('"has"', '">="');
    await area.fill(fixed);
    await form.locator('button[type="submit"]').click();
    const autoLink = root.locator('a[data-tag="E2E 复购自动"]');
    await autoLink.waitFor({ state: 'visible', timeout: TIMEOUT });
    await settle(page, ctx, 'tags');
    const auto = (await adminApi('GET', `/tags?q=${encodeURIComponent('E2E 复购自动')}`)).json.data[0];
    assert.equal(auto.kind, 'auto');
    assert.ok(auto.customer_count > 0, 'the seed has repeat buyers');
    const row = root.locator('tr', { has: page.locator('a[data-tag="E2E 复购自动"]') });
    assert.ok((await row.innerText()).includes(numZh(auto.customer_count)), 'the row does not show the customer count');

    // evaluate now: a spinner, then the counts (nothing changed since it was created)
    await row.locator('button[data-action="evaluate"]').click();
    const res = root.locator(`[data-eval-result="${auto.id}"]`);
    await res.waitFor({ state: 'visible', timeout: TIMEOUT });
    assert.match(await res.innerText(), /\+0\s*\/\s*−0/);
    await settle(page, ctx, 'tags');
  });
});

test('a task a SOP handed out: listed under my tasks with its customer and message, copied, ticked done', async () => {
  const users = (await adminApi('GET', '/users')).json.data;
  const adminId = users.find((u) => u.username === 'admin').id;
  const c = env.seed.customers[5];
  const sop = (await adminApi('POST', '/sops', {
    name: 'E2E 回访', enabled: false, trigger: { type: 'schedule', cron: '0 0 30 2 *' },
    actions: [{ type: 'task', assignee: adminId, text: '回访 {{name}}', template: '{{name}}您好，这是 E2E 的回访消息' }],
  })).json;
  assert.ok(sop.id, 'the SOP was not created');
  const run = await adminApi('POST', `/sops/${sop.id}/run-now`, { customer_ids: [c.id] });
  assert.ok([200, 202].includes(run.status), run.text);
  const task = await until(async () => (await adminApi('GET', `/tasks?sop_id=${sop.id}`)).json.data[0], 'the SOP to hand out the task');
  assert.equal(task.customer.id, c.id);
  const message = `${c.name}您好，这是 E2E 的回访消息`;

  await withPage(env, {}, async (page, ctx) => {
    await ctx.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.base });
    await page.goto(env.base + '/tasks');
    await settle(page, ctx, 'tasks');
    const root = page.locator('[data-page="tasks"]');
    const link = root.locator(`a[data-task="${task.id}"]`);
    await link.waitFor({ state: 'visible', timeout: TIMEOUT });
    const row = root.locator('tr', { has: page.locator(`a[data-task="${task.id}"]`) });
    const text = await row.innerText();
    assert.ok(text.includes(`回访 ${c.name}`), `the task text is not shown: ${text}`);
    assert.ok(text.includes(message), `the message is not shown: ${text}`);
    assert.ok(await row.locator(`a[href="/customers/${c.id}"]`).count(), 'the task does not link its customer');

    await row.locator('button[data-action="copy"]').click();
    assert.equal(await until(async () => page.evaluate(() => navigator.clipboard.readText()), 'the clipboard'), message);

    const box = row.locator(`input[data-task-done="${task.id}"]`);
    assert.notEqual(await box.getAttribute('data-write'), null);
    await box.check();
    await until(async () => (await adminApi('GET', `/tasks/${task.id}`)).json.done === true, 'the task to be done');
    await settle(page, ctx, 'tasks');
    assert.ok(await box.isChecked());
    await shot(page, ctx, 'tasks');

    // gone from the open ones after a reload; listed under "done", its detail says done
    await page.reload();
    await settle(page, ctx, 'tasks');
    assert.equal(await root.locator(`a[data-task="${task.id}"]`).count(), 0, 'a done task is still listed as open');
    await root.locator('button[data-state="done"]').click();
    await settle(page, ctx, 'tasks');
    assert.equal(new URL(page.url()).searchParams.get('state'), 'done');
    await root.locator(`a[data-task="${task.id}"]`).click();
    const detail = page.locator(`[data-task-detail="${task.id}"]`);
    await detail.waitFor({ state: 'visible', timeout: TIMEOUT });
    await settle(page, ctx, 'tasks');
    assert.ok((await detail.innerText()).includes(message));
    assert.equal(await detail.locator('[data-task-state]').innerText(), '已完成');
  });
});

test('a task\'s due time: set by the SOP, moved in its detail, overdue listed and marked, then cleared', async () => {
  const users = (await adminApi('GET', '/users')).json.data;
  const adminId = users.find((u) => u.username === 'admin').id;
  const c = env.seed.customers[6];
  const sop = (await adminApi('POST', '/sops', {
    name: 'E2E 限时回访', enabled: false, trigger: { type: 'schedule', cron: '0 0 30 2 *' },
    actions: [{ type: 'task', assignee: adminId, text: '限时回访 {{name}}', due_in_hours: 48 }],
  })).json;
  const run = await adminApi('POST', `/sops/${sop.id}/run-now`, { customer_ids: [c.id] });
  assert.ok([200, 202].includes(run.status), run.text);
  const task = await until(async () => (await adminApi('GET', `/tasks?sop_id=${sop.id}`)).json.data[0], 'the SOP to hand out the task');
  assert.equal(Date.parse(task.due_at) - Date.parse(task.created_at), 48 * 3600 * 1000);

  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + `/tasks?id=${task.id}`);
    await settle(page, ctx, 'tasks');
    const detail = page.locator(`[data-task-detail="${task.id}"]`);
    await detail.waitFor({ state: 'visible', timeout: TIMEOUT });
    assert.equal(await detail.locator(`[data-due="${task.due_at}"]`).count(), 1, 'the due time is not shown');
    assert.equal(await detail.locator('[data-overdue]').count(), 0);
    // moved into the past: overdue
    const form = detail.locator('form[data-form="due"]');
    await form.locator('input[name="due_at"]').fill('2020-01-02T09:30');
    await form.locator('button[type="submit"]').click();
    const moved = await until(async () => {
      const x = (await adminApi('GET', `/tasks/${task.id}`)).json;
      return x.due_at !== task.due_at && x;
    }, 'the due time to change');
    assert.equal(moved.due_at, '2020-01-02T01:30:00Z', 'the time was not read in the browser\'s zone (Asia/Shanghai)');
    await detail.locator('[data-overdue]').waitFor({ state: 'visible', timeout: TIMEOUT });
    await settle(page, ctx, 'tasks');
    // listed under "overdue"
    await page.goto(env.base + '/tasks?state=overdue');
    await settle(page, ctx, 'tasks');
    const root = page.locator('[data-page="tasks"]');
    const row = root.locator('tr', { has: page.locator(`a[data-task="${task.id}"]`) });
    await row.waitFor({ state: 'visible', timeout: TIMEOUT });
    assert.equal(await row.locator('[data-overdue]').count(), 1, 'the overdue row is not marked');
    await shot(page, ctx, 'tasks-overdue');
    // cleared: no due time, not overdue
    await row.locator(`a[data-task="${task.id}"]`).click();
    await detail.waitFor({ state: 'visible', timeout: TIMEOUT });
    await detail.locator('[data-action="clear-due"]').click();
    await until(async () => (await adminApi('GET', `/tasks/${task.id}`)).json.due_at === null, 'the due time to be cleared');
    await settle(page, ctx, 'tasks');
    assert.equal(await detail.locator('[data-overdue]').count(), 0);
  });
});

for (const link of ['/orders', '/orders?tab=import', '/tags', '/tasks?who=all&state=all']) {
  test(`phone: ${link} fits the screen`, async () => {
    await withPage(env, { viewport: 'phone' }, async (page, ctx) => {
      await page.goto(env.base + link);
      await settle(page, ctx, link.slice(1).split('?')[0]);
      await assertNoOverflow(page);
      assert.ok((await pageText(page)).trim(), 'the page is empty');
      await shot(page, ctx, link.slice(1).replace(/[^a-z]+/g, '-').replace(/-$/, ''));
    });
  });
}

for (const [link, name] of [['/orders', 'orders'], ['/orders?tab=import', 'orders'], ['/tags', 'tags'], ['/tasks?who=all&state=all', 'tasks']]) {
  test(`a viewer sees no write control on ${link}; an admin does`, async () => {
    await withPage(env, { as: 'viewer' }, async (page, ctx) => {
      await page.goto(env.base + link);
      await settle(page, ctx, name);
      const what = await page.locator('[data-write]').evaluateAll((els) => els.map((e) => e.outerHTML.slice(0, 160)));
      assert.deepEqual(what, [], 'write controls shown to a viewer');
      // no import for a viewer: the list instead
      assert.equal(await page.locator('input[type="file"]').count(), 0);
    });
    await withPage(env, {}, async (page, ctx) => {
      await page.goto(env.base + link);
      await settle(page, ctx, name);
      assert.ok(await page.locator('[data-write]').count() > 0, `no [data-write] on ${link} for an admin`);
    });
  });
}
