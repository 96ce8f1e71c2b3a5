// Journeys: build an audience with two conditions in the visual editor and
// watch the live count reach the exact figures POST /audiences/preview gives
// for those rules; make a condition invalid (also inside a nested group) and
// see the API's error at that very condition; save the audience. Edit the
// points rules as admin and see them stored. Viewers get no write control on
// these pages; the builder fits a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2E, withPage, settle, pageText, until, assertNoOverflow, TIMEOUT } from './lib.mjs';

const env = await startE2E();
const adminApi = async (method, p, body) => env.d.req(method, '/api/v1' + p, { token: await env.d.adminToken(), body });
const preview = async (rule) => {
  const r = await adminApi('POST', '/audiences/preview', { rule });
  assert.equal(r.status, 200, `preview: ${r.status} ${r.text}`);
  return r.json.count;
};

// what the live count shows once it is done counting (data-count is set only then)
const shownCount = (page) => page.locator('[data-page="audiences"] [data-testid="au-count"]').getAttribute('data-count');
async function countBecomes(page, n, what) {
  try {
    await until(async () => (await shownCount(page)) === String(n), what);
  } catch (e) {
    e.message += ` (the page shows ${await shownCount(page)}; it reads:\n${await pageText(page)})`;
    throw e;
  }
}

// The conditions of the editor, in document order.
const conds = (page) => page.locator('[data-page="audiences"] [data-cond]');
const rootAdd = (page, what) => page.locator(`[data-page="audiences"] [data-root] > .au-group-actions button[data-add="${what}"]`);

// The error shown at condition i (its role=alert), or null after the wait.
async function errorAt(page, i) {
  const err = conds(page).nth(i).getByRole('alert');
  try {
    await err.first().waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch {
    return null;
  }
  return err.first().innerText();
}

test('build an audience: two conditions, the live count matches the API, errors land at their condition, save it', async () => {
  const c1 = { field: 'order_count', op: '>=', value: 2 };
  const c2 = { field: 'total_spent_cents', op: '>=', value: 50000 };
  const one = await preview({ all: [c1] });
  const two = await preview({ all: [c1, c2] });
  assert.ok(one > 0 && two > 0 && one !== two, `the seed gives counts ${one} and ${two}; pick other conditions`);

  await withPage(env, { allow: [{ status: 422, path: '/api/v1/audiences/preview' }] }, async (page, ctx) => {
    await page.goto(env.base + '/audiences');
    await settle(page, ctx, 'audiences');
    const add = page.locator('[data-page="audiences"] button[data-action="new"]');
    assert.notEqual(await add.getAttribute('data-write'), null, 'the new-audience button has no data-write');
    await add.click();
    await settle(page, ctx, 'audiences');
    assert.equal(new URL(page.url()).searchParams.get('new'), '1');

    // first condition: paid orders at least 2
    await rootAdd(page, 'cond').click();
    const first = conds(page).nth(0);
    await first.locator('select[name="field"]').selectOption('order_count');
    await first.locator('select[name="op"]').selectOption('>=');
    await first.locator('input[name="value"]').fill('2');
    await countBecomes(page, one, `the count to show ${one} for ${JSON.stringify(c1)}`);
    // the sample links to the customers' profiles
    const links = await page.locator('[data-testid="au-sample"] a[href^="/customers/"]').count();
    assert.equal(links, Math.min(20, one), 'the sample does not link its customers');

    // second condition: spent at least 500 yuan (sent as cents)
    await rootAdd(page, 'cond').click();
    const second = conds(page).nth(1);
    await second.locator('select[name="field"]').selectOption('total_spent_cents');
    await second.locator('select[name="op"]').selectOption('>=');
    await second.locator('input[name="value"]').fill('500');
    await countBecomes(page, two, `the count to change to ${two} for ${JSON.stringify({ all: [c1, c2] })}`);
    await settle(page, ctx, 'audiences');

    // the JSON view shows the rule the count is for
    await page.locator('[data-json-toggle]').click();
    const json = JSON.parse(await page.locator('textarea[name="rule_json"]').inputValue());
    assert.deepEqual(json, { all: [c1, c2] });
    await page.locator('[data-json-toggle]').click();

    // an unknown tag: the API's 422 names rule.all[1].value, shown at the second condition
    await second.locator('select[name="field"]').selectOption('tag');
    await second.locator('select[name="op"]').selectOption('has');
    await second.locator('input[name="value"]').fill('没有这个标签');
    const msg = await errorAt(page, 1);
    assert.ok(msg, `no error at the second condition; the page reads:\n${await pageText(page)}`);
    assert.match(msg, /没有这个标签/);
    assert.equal(await conds(page).nth(0).getByRole('alert').count(), 0, 'the first condition shows an error too');
    assert.equal(await shownCount(page), null, 'a count is shown for a rule the API refused');

    // back to the spend condition: the count comes back
    await second.locator('select[name="field"]').selectOption('total_spent_cents');
    await second.locator('select[name="op"]').selectOption('>=');
    await second.locator('input[name="value"]').fill('500');
    await countBecomes(page, two, `the count to come back to ${two}`);
    assert.equal(await page.locator('[data-page="audiences"] [data-cond-error]').count(), 0, 'an error stayed after the fix');

    // a nested group (any) whose condition is out of range: rule.all[2].any[0].value marks it
    await rootAdd(page, 'group').click();
    const inner = conds(page).nth(2);
    assert.equal(await page.locator('[data-root] [data-group] [data-cond]').count(), 1, 'the new group has no condition');
    await inner.locator('select[name="field"]').selectOption('days_since_last_order');
    await inner.locator('select[name="op"]').selectOption('<=');
    await inner.locator('input[name="value"]').fill('40000');
    const msg2 = await errorAt(page, 2);
    assert.ok(msg2, `no error at the condition inside the group; the page reads:\n${await pageText(page)}`);
    assert.match(msg2, /36500/);
    for (const i of [0, 1]) assert.equal(await conds(page).nth(i).getByRole('alert').count(), 0, `condition ${i} shows an error too`);
    // remove the group: the two conditions count again
    await page.locator('[data-root] [data-group] button[data-remove]').last().click();
    assert.equal(await conds(page).count(), 2);
    await countBecomes(page, two, `the count after removing the group to be ${two}`);

    // save it
    const name = '两单以上且消费满 500';
    const form = page.locator('[data-form="audience"]');
    await form.locator('input[name="name"]').fill(name);
    const save = form.locator('button[type="submit"]');
    assert.notEqual(await save.getAttribute('data-write'), null, 'the save button has no data-write');
    await save.click();
    await page.waitForURL(/\/audiences\/\d+$/, { timeout: TIMEOUT });
    await settle(page, ctx, 'audiences');
    const id = new URL(page.url()).pathname.split('/')[2];
    const saved = (await adminApi('GET', `/audiences/${id}`)).json;
    assert.equal(saved.name, name);
    assert.deepEqual(saved.rule, { all: [c1, c2] });
    assert.equal(saved.customer_count, two);
    assert.match(await page.locator('[data-testid="au-stored"]').innerText(), new RegExp(`^${two}\\b`));
    await countBecomes(page, two, 'the saved audience to count its rule');
    // the editor holds the saved rule after a reload, and the list shows the audience
    await page.reload();
    await settle(page, ctx, 'audiences');
    assert.equal(await conds(page).count(), 2);
    assert.equal(await conds(page).nth(1).locator('input[name="value"]').inputValue(), '500');
    await page.goto(env.base + '/audiences');
    await settle(page, ctx, 'audiences');
    assert.ok((await pageText(page)).includes(name), 'the list does not show the saved audience');
    assert.equal(await page.locator(`[data-page="audiences"] a[href="/audiences/${id}"]`).count(), 1, 'no link to the saved audience');
  });
});

test('an audience is in the path (/audiences/N); the old link /audiences?id=N is replaced by it', async () => {
  const audience = (await adminApi('POST', '/audiences', { name: '路径里的人群', rule: { field: 'order_count', op: '>=', value: 2 } })).json;
  await withPage(env, {}, async (page, ctx) => {
    // from the list: the link in the row opens /audiences/N, the navigation entry stays marked
    await page.goto(env.base + '/audiences');
    await settle(page, ctx, 'audiences');
    await page.locator(`[data-page="audiences"] a[href="/audiences/${audience.id}"]`).click();
    await page.waitForURL((u) => u.pathname === `/audiences/${audience.id}`, { timeout: TIMEOUT });
    await settle(page, ctx, 'audiences');
    assert.equal(await page.locator(`[data-audience="${audience.id}"] h1`).innerText(), '路径里的人群');
    assert.equal(await page.locator('a[data-nav="/audiences"]').getAttribute('aria-current'), 'page');
    // a reload of the deep link shows the same audience
    await page.reload();
    await settle(page, ctx, 'audiences');
    assert.equal(await page.locator(`[data-audience="${audience.id}"]`).count(), 1);

    // the old link: replaced (not a new history entry), other parameters kept
    await page.goto(env.base + '/tags');
    await settle(page, ctx, 'tags');
    await page.goto(`${env.base}/audiences?id=${audience.id}&page=1`);
    await page.waitForURL((u) => u.pathname === `/audiences/${audience.id}`, { timeout: TIMEOUT });
    await settle(page, ctx, 'audiences');
    const u = new URL(page.url());
    assert.equal(u.searchParams.get('id'), null);
    assert.equal(u.searchParams.get('page'), '1');
    assert.equal(await page.locator(`[data-audience="${audience.id}"]`).count(), 1);
    await page.goBack();
    await page.waitForURL((x) => x.pathname === '/tags', { timeout: TIMEOUT });
    await settle(page, ctx, 'tags');
  });
  // an audience that does not exist: said so, no console error beyond the 404
  await withPage(env, { allow: [{ status: 404, path: '/api/v1/audiences/999999' }] }, async (page, ctx) => {
    await page.goto(env.base + '/audiences/999999');
    await settle(page, ctx, 'audiences');
    assert.match(await page.locator('[data-page="audiences"] .error-box').innerText(), /找不到这条记录/);
  });
});

test('the live count: a spinner while counting, and a late answer to an older rule never replaces the newer one', async () => {
  const slow = await preview({ all: [{ field: 'order_count', op: '>=', value: 1 }] });
  const fast = await preview({ all: [{ field: 'order_count', op: '>=', value: 3 }] });
  assert.notEqual(slow, fast);
  await withPage(env, {}, async (page, ctx) => {
    // the answer for ">= 1" is held back 1.5 s
    await page.route('**/api/v1/audiences/preview', async (route) => {
      const body = JSON.parse(route.request().postData() || '{}');
      const r = await route.fetch();
      if (JSON.stringify(body.rule).includes('"value":1}')) await new Promise((res) => setTimeout(res, 1500));
      await route.fulfill({ response: r });
    });
    await page.goto(env.base + '/audiences?new=1');
    await settle(page, ctx, 'audiences');
    await rootAdd(page, 'cond').click();
    const c = conds(page).nth(0);
    await c.locator('select[name="op"]').selectOption('>=');
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/audiences/preview') && r.postData().includes('"value":1}'));
    await c.locator('input[name="value"]').fill('1');
    await sent;
    assert.ok(await page.locator('.au-preview .spinner').count() > 0, 'no spinner while counting');
    await c.locator('input[name="value"]').fill('3');
    await countBecomes(page, fast, `the count for ">= 3" (${fast})`);
    await page.waitForTimeout(1800); // the late answer for ">= 1" has come by now
    assert.equal(await shownCount(page), String(fast), `the late answer (${slow}) replaced the newer one`);
    await settle(page, ctx, 'audiences');
  });
});

test('edit the points rules as admin: stored as entered, a bad day refused at the schedule', async () => {
  const before = (await adminApi('GET', '/settings/points')).json;
  const want = {
    ...before, review_bonus: before.review_bonus + 13, bind_bonus: 7,
    checkin_schedule: [...before.checkin_schedule.map((p, i) => (i === 2 ? 12 : p)), 40],
  };
  await withPage(env, { allow: [{ status: 422, path: '/api/v1/settings/points' }] }, async (page, ctx) => {
    await page.goto(env.base + '/loyalty');
    await settle(page, ctx, 'loyalty');
    const form = page.locator('[data-form="points-rules"]');
    assert.equal(await form.locator('input[name="review_bonus"]').inputValue(), String(before.review_bonus));
    // a day above what the API takes: refused, shown at the schedule
    await form.locator('input[name="checkin_schedule[2]"]').fill('200000');
    const submit = form.locator('button[type="submit"]');
    assert.notEqual(await submit.getAttribute('data-write'), null, 'the save button has no data-write');
    await submit.click();
    // the schedule is a group of inputs (a fieldset with its legend and error)
    const err = form.locator(':is(label, fieldset)', { has: page.locator('[name="checkin_schedule[2]"]') }).getByRole('alert');
    await err.waitFor({ state: 'visible', timeout: TIMEOUT });
    assert.match(await err.innerText(), /checkin_schedule\[2\]/);
    assert.deepEqual((await adminApi('GET', '/settings/points')).json, before, 'a refused save changed the rules');

    await form.locator('input[name="checkin_schedule[2]"]').fill('12');
    await form.locator('[data-add-day]').click();
    await form.locator(`input[name="checkin_schedule[${before.checkin_schedule.length}]"]`).fill('40');
    await form.locator('input[name="review_bonus"]').fill(String(want.review_bonus));
    await form.locator('input[name="bind_bonus"]').fill('7');
    await submit.click();
    await until(async () => JSON.stringify((await adminApi('GET', '/settings/points')).json) === JSON.stringify(want),
      `the rules to be stored as ${JSON.stringify(want)}`);
    await settle(page, ctx, 'loyalty');
    await page.reload();
    await settle(page, ctx, 'loyalty');
    assert.equal(await form.locator('input[name="review_bonus"]').inputValue(), String(want.review_bonus));
    assert.equal(await form.locator('input[name="bind_bonus"]').inputValue(), '7');
    const days = await form.locator('input[name^="checkin_schedule["]').evaluateAll((els) => els.map((e) => Number(e.value)));
    assert.deepEqual(days, want.checkin_schedule);
  });
  await adminApi('PUT', '/settings/points', before);
});

test('a viewer reads the pages with no write control; an admin has them', async () => {
  const audience = (await adminApi('POST', '/audiences', { name: '看得见的人群', rule: { field: 'order_count', op: '>=', value: 1 } })).json;
  const pages = ['/audiences', `/audiences/${audience.id}`, '/audiences?new=1', '/loyalty', '/loyalty?tab=tiers', '/loyalty?tab=coupons', '/loyalty?tab=rewards'];
  for (const link of pages) {
    await withPage(env, { as: 'viewer' }, async (page, ctx) => {
      await page.goto(env.base + link);
      await settle(page, ctx, link.startsWith('/loyalty') ? 'loyalty' : 'audiences');
      const what = await page.locator('[data-write]').evaluateAll((els) => els.map((e) => e.outerHTML.slice(0, 160)));
      assert.deepEqual(what, [], `write controls shown to a viewer on ${link}`);
      if (link === '/loyalty') assert.ok((await pageText(page)).includes(String((await adminApi('GET', '/settings/points')).json.review_bonus)));
    });
    await withPage(env, {}, async (page, ctx) => {
      await page.goto(env.base + link);
      await settle(page, ctx, link.startsWith('/loyalty') ? 'loyalty' : 'audiences');
      assert.ok(await page.locator('[data-write]').count() > 0, `no [data-write] for an admin on ${link}`);
    });
  }
});

test('phone: the builder fits 375 px with a condition of each kind of value control', async () => {
  await withPage(env, { viewport: 'phone' }, async (page, ctx) => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(env.base + '/audiences?new=1');
    await settle(page, ctx, 'audiences');
    for (const [field, op] of [['stage', 'in'], ['total_spent_cents', 'between'], ['birthday_month', '='], ['attrs', '=']]) {
      await rootAdd(page, 'cond').click();
      const c = conds(page).last();
      await c.locator('select[name="field"]').selectOption(field);
      await c.locator('select[name="op"]').selectOption(op);
    }
    await rootAdd(page, 'group').click();
    await settle(page, ctx, 'audiences');
    await assertNoOverflow(page);
  });
});

test('the nested rule editor works from the keyboard: real, named buttons; an added condition takes the focus, a removed one hands it back', async () => {
  await withPage(env, {}, async (page, ctx) => {
    await page.goto(env.base + '/audiences?new=1');
    await settle(page, ctx, 'audiences');
    const editor = page.locator('.au-editor');
    const active = () => page.evaluate(() => {
      const a = document.activeElement;
      return { tag: a.tagName, name: a.getAttribute('name'), add: a.getAttribute('data-add'), cond: a.closest('[data-cond]')?.getAttribute('data-cond') ?? null, group: a.closest('[data-group]')?.getAttribute('data-group') ?? null };
    });
    // the root's "add a condition", reached with Tab
    const rootAdd = editor.locator('[data-root] > .au-group-actions [data-add="cond"]');
    await rootAdd.focus();
    await page.keyboard.press('Enter');
    await until(async () => (await editor.locator('[data-cond]').count()) === 1, 'a condition added from the keyboard');
    let a = await active();
    assert.deepEqual([a.tag, a.name], ['SELECT', 'field'], `after adding, the focus is on ${JSON.stringify(a)}`);
    assert.equal(a.cond, await editor.locator('[data-cond]').first().getAttribute('data-cond'));

    // a group (with its first condition focused), from the keyboard
    await editor.locator('[data-root] > .au-group-actions [data-add="group"]').focus();
    await page.keyboard.press('Space');
    await until(async () => (await editor.locator('[data-group]:not([data-root])').count()) === 1, 'a group added');
    const inner = editor.locator('[data-group]:not([data-root])');
    const innerId = await inner.getAttribute('data-group');
    a = await active();
    assert.deepEqual([a.name, a.group], ['field', innerId], 'the new group\'s condition does not have the focus');
    await page.keyboard.press('Tab'); // on to the next control: the focus is really in the editor
    assert.equal((await active()).group, innerId);

    // every button of the editor is a real button with a name
    const buttons = await editor.locator('[data-add], [data-remove], [data-negate], [data-op]').evaluateAll((els) => els.map((e) => ({
      tag: e.tagName, type: e.getAttribute('type'), name: (e.getAttribute('aria-label') || e.textContent).trim(),
    })));
    assert.ok(buttons.length >= 8, `${buttons.length} editor buttons`);
    for (const b of buttons) {
      assert.deepEqual([b.tag, b.type], ['BUTTON', 'button'], `not a button: ${JSON.stringify(b)}`);
      assert.ok(b.name && b.name !== '×', `a button without a name: ${JSON.stringify(b)}`);
    }
    assert.ok(await editor.getByRole('group', { name: '组合方式' }).count() >= 2, 'the all/any switch has no name');

    // remove the inner group's condition with the keyboard: the focus goes to that group's "add a condition"
    await inner.locator('[data-cond] [data-remove]').focus();
    await page.keyboard.press('Enter');
    await until(async () => (await inner.locator('[data-cond]').count()) === 0, 'the condition removed');
    a = await active();
    assert.deepEqual([a.add, a.group], ['cond', innerId], `after removing, the focus is on ${JSON.stringify(a)}`);
    // the group itself: the focus goes to the root's "add a condition"
    await editor.getByRole('button', { name: '删除这个条件组' }).focus();
    await page.keyboard.press('Enter');
    await until(async () => (await editor.locator('[data-group]:not([data-root])').count()) === 0, 'the group removed');
    a = await active();
    assert.deepEqual([a.add, a.group], ['cond', await editor.locator('[data-root]').getAttribute('data-group')], `after removing the group, the focus is on ${JSON.stringify(a)}`);
  });
});

test('a choice list that does not load is said in the editor, with a retry', async () => {
  await withPage(env, { allow: [{ status: 500, path: '/api/v1/tiers' }] }, async (page, ctx) => {
    let fail = true;
    await page.route('**/api/v1/tiers', (route) => (fail
      ? route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: 'internal', message: 'E2E tiers down' } }) })
      : route.continue()));
    await page.goto(env.base + '/audiences?new=1');
    await settle(page, ctx, 'audiences');
    const box = page.locator('.au-editor .error-box');
    await box.waitFor({ state: 'visible', timeout: TIMEOUT });
    assert.match(await box.innerText(), /E2E tiers down/);
    fail = false;
    await box.getByRole('button', { name: '重试' }).click();
    await until(async () => (await page.locator('.au-editor .error-box').count()) === 0, 'the error gone after the retry');
    await settle(page, ctx, 'audiences');
  });
});
