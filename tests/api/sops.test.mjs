// SOP automation against a real daemon with the test clock (set to times after
// the real one: a restarted daemon starts on the real clock): each trigger type
// (event with delay and filters, schedule by cron, date by birthday, coupon
// expiry and last order), audiences narrowing who is reached, every action,
// templates, tasks, runs, run-now and dry-run, catch-up after downtime (and
// skipping what is too late), and kill -9 in the middle of a burst: every run
// fired once, every message queued once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, assertError, listAll, sleep, sqliteJson, unique } from './lib.mjs';
import { startReceiver } from './receiver.mjs';

const DAY = 86400;
const CONFIG = '[notify]\npoll_ms = 50\nretry_base_s = 1\nretry_max_s = 2\n[sop]\ntick_ms = 100\n';
const nowS = () => Math.floor(Date.now() / 1000);
// Asia/Shanghai, the default business zone, is UTC+8 all year
const sh = (y, m, d, hh = 0, mm = 0, ss = 0) => Date.UTC(y, m - 1, d, hh - 8, mm, ss) / 1000;
const shDay = (sec) => Math.floor((sec + 8 * 3600) / DAY);
const ymd = (day) => new Date(day * DAY * 1000).toISOString().slice(0, 10);

function ok(r, status = 200) {
  assert.equal(r.status, status, r.text);
  return r.json;
}

const rx = await startReceiver();
test.after(() => rx.close());

// A daemon with the test clock, an admin and an operator, and a webhook channel
// to the receiver; stopped cleanly after the test.
async function setup(t, { config = CONFIG, dm = new Daemon() } = {}) {
  await dm.start({ config, env: { SCRM_TEST_CLOCK: '1' } });
  t.after(async () => { try { await dm.stop(); } finally { dm.cleanup(); } });
  const adm = { token: await dm.adminToken() };
  const op = { token: await dm.token('operator', 'sop-operator') };
  const path = `/${unique('hook')}`;
  const ch = ok(await dm.req('POST', '/api/v1/message-channels', { ...adm, body: { name: unique('ch'), kind: 'webhook', url: `${rx.url}${path}` } }), 201);
  const clock = async (sec) => ok(await dm.req('PUT', '/api/v1/admin/clock', { ...adm, body: { offset_s: sec - nowS() } })).now;
  const req = (m, p, body, who = op) => dm.req(m, p, { ...who, body });
  const sop = async (body) => ok(await req('POST', '/api/v1/sops', { name: unique('sop'), ...body }), 201);
  const customer = async (body = {}) => ok(await req('POST', '/api/v1/customers', body), 201);
  const runs = async (id, q = '') => (await listAll(dm, `/api/v1/sops/${id}/runs${q}`, op)).items;
  // wait until the SOP has n runs in a final state
  const settled = async (id, n, timeoutMs = 10000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await runs(id);
      const done = all.filter((r) => r.status !== 'scheduled');
      if (done.length >= n) return done;
      if (Date.now() > deadline) assert.fail(`SOP ${id}: ${done.length} of ${n} runs settled: ${JSON.stringify(all).slice(0, 2000)}`);
      await sleep(50);
    }
  };
  const messages = (pred = () => true) => rx.requests.filter((r) => r.path === path && pred(r.json));
  return { dm, adm, op, ch, path, clock, req, sop, customer, runs, settled, messages };
}

test('SOPs: create, read, list, update, delete; every fault named by its place', async (t) => {
  const { dm, op, ch, req, sop } = await setup(t);
  const s = await sop({ trigger: { type: 'event', event: 'customer.created' }, actions: [{ type: 'message', channel_id: ch.id, template: '欢迎 {{name}}' }] });
  assert.deepEqual(Object.keys(s).sort(), ['actions', 'audience', 'created_at', 'created_by', 'enabled', 'id', 'name', 'next_at', 'trigger', 'updated_at']);
  assert.equal(s.enabled, true);
  assert.equal(s.audience, null);
  assert.deepEqual(ok(await req('GET', `/api/v1/sops/${s.id}`)), s);
  assert.ok((await listAll(dm, '/api/v1/sops', op)).items.some((x) => x.id === s.id));
  const p = ok(await req('PATCH', `/api/v1/sops/${s.id}`, { enabled: false, audience: { field: 'order_count', op: '>=', value: 1 } }));
  assert.equal(p.enabled, false);
  assert.deepEqual(p.audience, { field: 'order_count', op: '>=', value: 1 });
  assertError(await req('POST', '/api/v1/sops', { name: s.name, trigger: { type: 'event', event: 'checkin' }, actions: [{ type: 'message', channel_id: ch.id, template: 'x' }] }), 409, 'conflict', 'name');
  const good = { trigger: { type: 'event', event: 'checkin' }, actions: [{ type: 'message', channel_id: ch.id, template: 'x' }] };
  for (const [body, field] of [
    [{ ...good, trigger: { type: 'sometimes' } }, 'trigger.type'],
    [{ ...good, trigger: { type: 'schedule', cron: '61 * * * *' } }, 'trigger.cron'],
    [{ ...good, trigger: { type: 'schedule' } }, 'trigger.cron'],
    [{ ...good, trigger: { type: 'event', event: 'order.created' } }, 'trigger.event'],
    [{ ...good, trigger: { type: 'event', event: 'checkin', delay_minutes: -1 } }, 'trigger.delay_minutes'],
    [{ ...good, trigger: { type: 'event', event: 'checkin', name: 'x' } }, 'trigger.name'],
    [{ ...good, trigger: { type: 'event', event: 'checkin', bogus: 1 } }, 'trigger.bogus'],
    [{ ...good, trigger: { type: 'date', field: 'anniversary' } }, 'trigger.field'],
    [{ ...good, trigger: { type: 'date', field: 'birthday', at: '25:00' } }, 'trigger.at'],
    [{ ...good, trigger: { type: 'date', field: 'birthday', offset_days: 400 } }, 'trigger.offset_days'],
    [{ ...good, audience: { field: 'order_count', op: '~', value: 1 } }, 'audience.op'],
    [{ ...good, audience: { field: 'tag', op: 'has', value: 'no-such-tag-x' } }, 'audience.value'],
    [{ ...good, actions: [] }, 'actions'],
    [{ ...good, actions: [{ type: 'fax' }] }, 'actions[0].type'],
    [{ ...good, actions: [{ type: 'message', channel_id: 999999, template: 'x' }] }, 'actions[0].channel_id'],
    [{ ...good, actions: [{ type: 'message', channel_id: ch.id, template: 'hi {{nmae}}' }] }, 'actions[0].template'],
    [{ ...good, actions: [{ type: 'message', channel_id: ch.id, template: 'hi {{name' }] }, 'actions[0].template'],
    [{ ...good, actions: [{ type: 'message', channel_id: ch.id, template: 'x' }, { type: 'add_tag', tag: 'no-such-tag-y' }] }, 'actions[1].tag'],
    [{ ...good, actions: [{ type: 'grant_points', points: 0 }] }, 'actions[0].points'],
    [{ ...good, actions: [{ type: 'grant_coupon', template_id: 999999 }] }, 'actions[0].template_id'],
    [{ ...good, actions: [{ type: 'task', assignee: 'boss', text: 'x' }] }, 'actions[0].assignee'],
    [{ ...good, actions: [{ type: 'task', assignee: 999999, text: 'x' }] }, 'actions[0].assignee'],
    [{ ...good, actions: [{ type: 'task', assignee: 'owner' }] }, 'actions[0].text'],
    [{ ...good, actions: [{ type: 'message', channel_id: ch.id, template: 'x', extra: 1 }] }, 'actions[0].extra'],
  ]) {
    assertError(await req('POST', '/api/v1/sops', { name: unique('bad'), ...body }), 422, 'validation_failed', field);
  }
  const tpl = await req('POST', '/api/v1/sops', { name: unique('bad'), ...good, actions: [{ type: 'message', channel_id: ch.id, template: 'hi {{nmae}}' }] });
  assert.match(tpl.json.error.message, /\{\{nmae\}\} is not a placeholder; known: name/);
  assertError(await req('POST', '/api/v1/sops', { ...good }), 422, 'validation_failed', 'name');
  const viewer = { token: await dm.token('viewer', 'sop-viewer') };
  assertError(await dm.req('POST', '/api/v1/sops', { ...viewer, body: { name: 'v', ...good } }), 403, 'forbidden');
  assert.equal((await req('DELETE', `/api/v1/sops/${s.id}`)).status, 204);
  assertError(await req('GET', `/api/v1/sops/${s.id}`), 404, 'not_found');
  assertError(await req('GET', `/api/v1/sops/${s.id}/runs`), 404, 'not_found');
});

test('event trigger: the message rendered per customer, once; delay, name filter and audience', async (t) => {
  const { clock, req, sop, customer, settled, messages, ch, runs } = await setup(t);
  const t0 = sh(2031, 6, 1, 10);
  await clock(t0);
  const welcome = await sop({ trigger: { type: 'event', event: 'customer.created' }, actions: [{ type: 'message', channel_id: ch.id, template: '{{name}}，欢迎加入！积分{{points_balance}}' }] });
  const c = await customer({ name: '王芳', phone: '13800000001' });
  const [run] = await settled(welcome.id, 1);
  assert.equal(run.status, 'done', JSON.stringify(run));
  assert.equal(run.customer_id, c.id);
  assert.match(run.occurrence, /^event:\d+$/);
  assert.equal(run.result[0].type, 'message');
  assert.equal(run.result[0].ok, true);
  assert.equal(run.result[0].text, '王芳，欢迎加入！积分0');
  const [m] = await rx.waitFor((r) => r.json?.sop_run_id === run.id);
  assert.equal(m.json.text, '王芳，欢迎加入！积分0');
  assert.equal(m.json.customer_id, c.id);
  assert.equal(m.json.sop_id, welcome.id);
  await sleep(400);
  assert.equal(messages((j) => j.sop_run_id === run.id).length, 1, 'fired once');

  // a delay: due an hour after the event
  const later = await sop({ trigger: { type: 'event', event: 'checkin', delay_minutes: 60 }, actions: [{ type: 'message', channel_id: ch.id, template: '{{name}} checked in an hour ago' }] });
  ok(await req('POST', `/api/v1/customers/${c.id}/checkin`), 200);
  await sleep(500);
  const waiting = await runs(later.id);
  assert.equal(waiting.length, 1);
  assert.equal(waiting[0].status, 'scheduled');
  assert.equal(Date.parse(waiting[0].due_at) / 1000 - t0 >= 3600, true);
  await clock(t0 + 3601);
  assert.equal((await settled(later.id, 1))[0].status, 'done');

  // tag.added for one tag only, and an audience that narrows who is reached
  const vip = ok(await req('POST', '/api/v1/tags', { name: unique('VIP') }), 201);
  const other = ok(await req('POST', '/api/v1/tags', { name: unique('other') }), 201);
  const narrow = await sop({ trigger: { type: 'event', event: 'tag.added', name: vip.name }, audience: { field: 'gender', op: '=', value: 'f' }, actions: [{ type: 'message', channel_id: ch.id, template: 'VIP {{name}}' }] });
  const f = await customer({ name: '李娜', gender: 'f' });
  const mm = await customer({ name: '张伟', gender: 'm' });
  for (const x of [f, mm]) ok(await req('POST', `/api/v1/customers/${x.id}/tags`, { tag_ids: [vip.id, other.id] }));
  const done = await settled(narrow.id, 2);
  const by = Object.fromEntries(done.map((r) => [r.customer_id, r]));
  assert.equal(by[f.id].status, 'done');
  assert.equal(by[mm.id].status, 'skipped');
  assert.equal(by[mm.id].result[0].skipped, 'not in the SOP\'s audience');
  assert.equal(done.length, 2, 'the other tag did not trigger it');
  // switched off: events are not planned; switched on again: only new ones
  ok(await req('PATCH', `/api/v1/sops/${welcome.id}`, { enabled: false }));
  await customer({ name: 'while off' });
  await sleep(400);
  ok(await req('PATCH', `/api/v1/sops/${welcome.id}`, { enabled: true }));
  const c3 = await customer({ name: 'after on' });
  await settled(welcome.id, 4);
  await sleep(300);
  const sorted = (xs) => xs.sort((x, y) => x - y);
  assert.deepEqual(sorted((await runs(welcome.id)).map((r) => r.customer_id)), sorted([c.id, f.id, mm.id, c3.id]), 'not the one created while it was off');
});

test('schedule trigger: a cron time fires once for its audience, in the business time zone', async (t) => {
  const { clock, sop, customer, settled, runs, ch, req } = await setup(t);
  await clock(sh(2026, 6, 5, 19, 59, 30));
  const a = await customer({ name: 'A', gender: 'f' });
  await customer({ name: 'B', gender: 'm' });
  const s = await sop({ trigger: { type: 'schedule', cron: '0 20 * * 5' }, audience: { field: 'gender', op: '=', value: 'f' }, actions: [{ type: 'message', channel_id: ch.id, template: '周五闪购 {{name}}' }] });
  await sleep(300);
  const got = ok(await req('GET', `/api/v1/sops/${s.id}`));
  assert.equal(got.next_at, new Date(sh(2026, 6, 5, 20) * 1000).toISOString().replace('.000', ''));
  assert.equal((await runs(s.id)).length, 0);
  await clock(sh(2026, 6, 5, 20, 0, 5));
  const done = await settled(s.id, 1);
  assert.equal(done.length, 1);
  assert.equal(done[0].customer_id, a.id);
  assert.equal(done[0].occurrence, `cron:${sh(2026, 6, 5, 20)}`);
  await clock(sh(2026, 6, 5, 20, 30));
  await sleep(400);
  assert.equal((await runs(s.id)).length, 1, 'once per cron time');
  // without an audience: one run for no one (a group message)
  const group = await sop({ trigger: { type: 'schedule', cron: '*/10 * * * *' }, actions: [{ type: 'message', channel_id: ch.id, template: '{{sop.name}} 整点提醒' }] });
  await sleep(300);
  await clock(sh(2026, 6, 5, 20, 40, 1));
  const [g] = await settled(group.id, 1);
  assert.equal(g.customer_id, null);
  assert.equal(g.result[0].text, `${group.name} 整点提醒`);
});

test('date triggers: birthday (29 February on the 28th), coupon expiry a week ahead with its date, last order 30 days on', async (t) => {
  const { clock, sop, customer, settled, runs, ch, req } = await setup(t);
  await clock(sh(2027, 2, 27, 12));
  const born = await customer({ name: '寿星', birthday: '1990-02-28' });
  const leap = await customer({ name: '闰日', birthday: '--02-29' });
  await customer({ name: '别人', birthday: '1990-03-01' });
  const bday = await sop({ trigger: { type: 'date', field: 'birthday', offset_days: 0, at: '10:00' }, actions: [{ type: 'message', channel_id: ch.id, template: '{{name}}生日快乐 {{birthday}}' }, { type: 'grant_points', points: 88, reason: 'birthday gift' }] });
  await sleep(300);
  await clock(sh(2027, 2, 28, 10, 0, 5));
  const done = await settled(bday.id, 2);
  assert.deepEqual(done.map((r) => r.customer_id).sort(), [born.id, leap.id].sort());
  for (const r of done) {
    assert.equal(r.status, 'done', JSON.stringify(r));
    assert.equal(r.occurrence, 'date:2027-02-28');
    assert.equal(r.result[1].points, 88);
  }
  assert.equal(ok(await req('GET', `/api/v1/customers/${born.id}`)).points_balance, 88);

  // coupon expiry: 7 days before, with {{coupon.expires_at}}
  const tpl = ok(await req('POST', '/api/v1/coupon-templates', { name: unique('10元券'), kind: 'amount_off', value: 1000, valid_days: 10 }), 201);
  const holder = await customer({ name: '持券人' });
  await clock(sh(2027, 3, 1, 9));
  const cp = ok(await req('POST', `/api/v1/customers/${holder.id}/coupons`, { template_id: tpl.id }), 201);
  const cp2 = ok(await req('POST', `/api/v1/customers/${holder.id}/coupons`, { template_id: tpl.id }), 201); // the same day: a run each
  const expDay = shDay(Date.parse(cp.expires_at) / 1000);
  assert.equal(shDay(Date.parse(cp2.expires_at) / 1000), expDay);
  const expiring = await sop({ trigger: { type: 'date', field: 'coupon_expires_at', offset_days: -7, at: '09:30' }, actions: [{ type: 'message', channel_id: ch.id, template: '您的{{coupon.name}}将于{{coupon.expires_at}}到期，还剩{{coupon.days_left}}天' }] });
  await sleep(300);
  const fireDay = expDay - 7;
  await clock((fireDay * DAY - 8 * 3600) + 9 * 3600);
  // the dry run that morning: one customer, a run per coupon
  const dryCp = ok(await req('POST', `/api/v1/sops/${expiring.id}/dry-run`));
  assert.deepEqual([dryCp.customers, dryCp.runs, dryCp.sample.map((x) => x.id)], [1, 2, [holder.id]]);
  await clock((fireDay * DAY - 8 * 3600) + 9.5 * 3600 + 5);
  const ers = await settled(expiring.id, 2);
  assert.deepEqual(ers.map((r) => [r.status, r.ref_type, r.ref_id]).sort(), [['done', 'coupon', cp.id], ['done', 'coupon', cp2.id]].sort());
  for (const er of ers) assert.equal(er.result[0].text, `您的${tpl.name}将于${ymd(expDay)}到期，还剩7天`);

  // last order: 30 days after, at 09:00 by default
  const buyer = await customer({ name: '老客', phone: '13800000077' });
  const paid = sh(2027, 3, 2, 15);
  ok(await req('POST', '/api/v1/orders', { platform: 'tmall', external_id: unique('o'), amount_cents: 5000, status: 'paid', paid_at: new Date(paid * 1000).toISOString(), customer_id: buyer.id }), 201);
  const lapse = await sop({ trigger: { type: 'date', field: 'last_order_at', offset_days: 30 }, actions: [{ type: 'task', assignee: 'owner', text: '回访 {{name}}，上次下单 {{last_order_date}}', template: '{{name}}您好，好久不见' }] });
  await sleep(300);
  await clock(sh(2027, 4, 1, 9, 0, 5));
  const [lr] = await settled(lapse.id, 1);
  assert.equal(lr.customer_id, buyer.id);
  assert.equal(lr.status, 'done', JSON.stringify(lr));
  const task = ok(await req('GET', `/api/v1/tasks/${lr.result[0].task_id}`));
  assert.equal(task.text, '回访 老客，上次下单 2027-03-02');
  assert.equal(task.message, '老客您好，好久不见');
  assert.equal(task.assignee_user_id, null, 'no owner: unassigned');
  assert.equal((await runs(lapse.id)).length, 1);
});

test('actions: tags, points, coupons and tasks; a failing action leaves the others done; tasks listed and done', async (t) => {
  const { dm, clock, sop, customer, settled, req, adm } = await setup(t);
  await clock(sh(2026, 7, 1, 12));
  const me = await dm.login();
  const tag = ok(await req('POST', '/api/v1/tags', { name: unique('新客') }), 201);
  const old = ok(await req('POST', '/api/v1/tags', { name: unique('潜客') }), 201);
  const tpl = ok(await req('POST', '/api/v1/coupon-templates', { name: unique('首单券'), kind: 'amount_off', value: 500, valid_days: 7 }), 201);
  const users = ok(await dm.req('GET', '/api/v1/users', adm)).data;
  const adminId = users.find((u) => u.username === 'admin').id;
  const s = await sop({ trigger: { type: 'event', event: 'customer.created' }, actions: [
    { type: 'add_tag', tag: tag.id }, { type: 'remove_tag', tag: old.name }, { type: 'grant_points', points: 20 },
    { type: 'grant_coupon', template_id: tpl.id }, { type: 'task', assignee: adminId, text: '加微信 {{name}} 尾号{{phone_tail}}' }] });
  const c = await customer({ name: '新人', phone: '13900001234' });
  const [r] = await settled(s.id, 1);
  assert.equal(r.status, 'done', JSON.stringify(r));
  assert.deepEqual(r.result.map((x) => [x.type, x.ok]), [['add_tag', true], ['remove_tag', true], ['grant_points', true], ['grant_coupon', true], ['task', true]]);
  const got = ok(await req('GET', `/api/v1/customers/${c.id}`));
  assert.ok(got.tags.some((x) => x.id === tag.id));
  assert.equal(got.points_balance, 20);
  const coupons = ok(await req('GET', `/api/v1/customers/${c.id}/coupons`)).data;
  assert.equal(coupons.length, 1);
  assert.equal(coupons[0].source, 'sop');
  // tasks: mine (a session user), done by me
  const mine = ok(await dm.req('GET', '/api/v1/tasks?assignee=me&done=false', { session: me })).data;
  const task = mine.find((x) => x.id === r.result[4].task_id);
  assert.equal(task.text, '加微信 新人 尾号1234');
  assert.equal(task.customer.id, c.id);
  assert.equal(task.customer.name, '新人');
  assert.equal(task.customer.phone, c.phone);
  const doneTask = ok(await dm.req('PATCH', `/api/v1/tasks/${task.id}`, { session: me, body: { done: true } }));
  assert.equal(doneTask.done, true);
  assert.equal(doneTask.done_by, adminId);
  assert.ok(doneTask.done_at);
  assert.ok(!ok(await dm.req('GET', '/api/v1/tasks?assignee=me&done=false', { session: me })).data.some((x) => x.id === task.id));
  assertError(await req('GET', '/api/v1/tasks?assignee=me'), 422, 'validation_failed', 'assignee');
  assertError(await req('PATCH', `/api/v1/tasks/${task.id}`, { assignee_user_id: 999999 }), 422, 'validation_failed', 'assignee_user_id');
  assertError(await req('PATCH', '/api/v1/tasks/999999', { done: true }), 404, 'not_found');
  // a tag deleted after the SOP was saved: that action fails, the rest is done
  assert.equal((await req('DELETE', `/api/v1/tags/${tag.id}`)).status, 204);
  const c2 = await customer({ name: '第二人' });
  const runs2 = await settled(s.id, 2);
  const r2 = runs2.find((x) => x.customer_id === c2.id);
  assert.equal(r2.status, 'failed');
  assert.equal(r2.result[0].ok, false);
  assert.match(r2.result[0].error, /deleted/);
  assert.equal(r2.result[2].ok, true);
  assert.equal(ok(await req('GET', `/api/v1/customers/${c2.id}`)).points_balance, 20);
  assert.equal(task.due_at, null, 'no due_in_hours: no due time');
  // due times: from the action's due_in_hours, moved and cleared by PATCH, overdue filter
  const due = await sop({ trigger: { type: 'event', event: 'customer.created' }, actions: [{ type: 'task', assignee: adminId, text: 'due', due_in_hours: 24 }] });
  await customer({ name: '限时' });
  const [dr] = await settled(due.id, 1);
  const dt = ok(await req('GET', `/api/v1/tasks/${dr.result[0].task_id}`));
  assert.equal(Date.parse(dt.due_at) - Date.parse(dt.created_at), 24 * 3600 * 1000);
  const overdue = async () => ok(await req('GET', `/api/v1/tasks?overdue=true&sop_id=${due.id}`)).data.map((x) => x.id);
  assert.deepEqual(await overdue(), []);
  await clock(sh(2026, 7, 2, 13));
  assert.deepEqual(await overdue(), [dt.id]);
  const moved = ok(await req('PATCH', `/api/v1/tasks/${dt.id}`, { due_at: '2026-07-05T18:00:00+08:00' }));
  assert.equal(moved.due_at, '2026-07-05T10:00:00Z');
  assert.deepEqual(await overdue(), []);
  ok(await req('PATCH', `/api/v1/tasks/${dt.id}`, { due_at: '2026-07-01T00:00:00Z' }));
  assert.deepEqual(await overdue(), [dt.id]);
  ok(await req('PATCH', `/api/v1/tasks/${dt.id}`, { done: true }));
  assert.deepEqual(await overdue(), [], 'a done task is never overdue');
  assert.equal(ok(await req('PATCH', `/api/v1/tasks/${dt.id}`, { due_at: null })).due_at, null);
  assertError(await req('PATCH', `/api/v1/tasks/${dt.id}`, { due_at: 'tomorrow' }), 422, 'validation_failed', 'due_at');
  assertError(await req('GET', '/api/v1/tasks?overdue=maybe'), 422, 'validation_failed', 'overdue');
  for (const h of [0, 8761, 1.5, '2'])
    assertError(await req('POST', '/api/v1/sops', { name: unique('bad'), trigger: { type: 'event', event: 'checkin' }, actions: [{ type: 'task', assignee: 'owner', text: 'x', due_in_hours: h }] }), 422, 'validation_failed', 'actions[0].due_in_hours');
});

test('a SOP is not woken by what it did itself; SOPs may wake each other, in chains of at most 3', async (t) => {
  const { clock, sop, customer, settled, runs, req, ch } = await setup(t);
  await clock(sh(2031, 8, 2, 12));
  // a points grant on points.changed would wake itself for ever
  const bonus = await sop({ trigger: { type: 'event', event: 'points.changed' }, actions: [{ type: 'grant_points', points: 1 }] });
  const c = await customer({ name: 'loop' });
  ok(await req('POST', `/api/v1/customers/${c.id}/points`, { delta: 10, reason: 'by hand' }), 201);
  await settled(bonus.id, 1);
  await sleep(600);
  assert.equal((await runs(bonus.id)).length, 1);
  assert.equal(ok(await req('GET', `/api/v1/customers/${c.id}`)).points_balance, 11);
  // a chain: A tags new customers, B welcomes the tagged ones, C and D go on
  const names = [unique('t1'), unique('t2'), unique('t3')];
  for (const n of names) ok(await req('POST', '/api/v1/tags', { name: n }), 201);
  const a = await sop({ trigger: { type: 'event', event: 'customer.created' }, actions: [{ type: 'add_tag', tag: names[0] }] });
  const b = await sop({ trigger: { type: 'event', event: 'tag.added', name: names[0] }, actions: [{ type: 'add_tag', tag: names[1] }] });
  const cc = await sop({ trigger: { type: 'event', event: 'tag.added', name: names[1] }, actions: [{ type: 'add_tag', tag: names[2] }] });
  const dd = await sop({ trigger: { type: 'event', event: 'tag.added', name: names[2] }, actions: [{ type: 'message', channel_id: ch.id, template: 'too deep' }] });
  const n = await customer({ name: 'chain' });
  for (const s of [a, b, cc]) assert.equal((await settled(s.id, 1))[0].status, 'done');
  await sleep(600);
  assert.equal((await runs(dd.id)).length, 0, 'the fourth link is not woken');
  const tags = ok(await req('GET', `/api/v1/customers/${n.id}`)).tags.map((x) => x.name);
  for (const x of names) assert.ok(tags.includes(x));
  const timeline = ok(await req('GET', `/api/v1/customers/${n.id}/timeline`)).data;
  const added = timeline.find((e) => e.kind === 'tag.added' && e.data.name === names[0]);
  assert.equal(added.data.sop_id, a.id, 'the timeline says which SOP did it');
});

test('run-now and dry-run', async (t) => {
  const { clock, sop, customer, settled, req, ch, runs } = await setup(t);
  await clock(sh(2026, 8, 1, 12));
  const a = await customer({ name: 'RA', gender: 'f' });
  const b = await customer({ name: 'RB', gender: 'f' });
  const s = await sop({ enabled: false, trigger: { type: 'schedule', cron: '0 9 1 1 *' }, audience: { field: 'gender', op: '=', value: 'f' }, actions: [{ type: 'message', channel_id: ch.id, template: 'hi {{name}}' }] });
  const dry = ok(await req('POST', `/api/v1/sops/${s.id}/dry-run`));
  assert.ok(dry.customers >= 2);
  assert.equal(dry.runs, dry.customers);
  assert.ok(dry.sample.some((x) => x.id === b.id));
  assert.equal(dry.preview[0].type, 'message');
  assert.match(dry.preview[0].text, /^hi /);
  assert.equal((await runs(s.id)).length, 0, 'a dry run does nothing');
  // unsaved edits: applied for the answer only, checked as saving them would be
  const m = await customer({ name: 'RM', gender: 'm' });
  const edited = ok(await req('POST', `/api/v1/sops/${s.id}/dry-run`, {
    audience: { field: 'gender', op: '=', value: 'm' }, actions: [{ type: 'message', channel_id: ch.id, template: 'yo {{name}}' }] }));
  assert.ok(edited.sample.some((x) => x.id === m.id) && !edited.sample.some((x) => x.id === b.id));
  assert.equal(edited.preview[0].text, `yo ${edited.sample[0].name}`);
  assert.deepEqual(ok(await req('GET', `/api/v1/sops/${s.id}`)).audience, { field: 'gender', op: '=', value: 'f' }, 'nothing saved');
  assertError(await req('POST', `/api/v1/sops/${s.id}/dry-run`, { actions: [{ type: 'message', channel_id: ch.id, template: '{{nope}}' }] }), 422, 'validation_failed', 'actions[0].template');
  assertError(await req('POST', `/api/v1/sops/${s.id}/dry-run`, { bogus: 1 }), 422, 'validation_failed', 'bogus');
  // a SOP not saved yet
  const fresh = { name: unique('unsaved'), trigger: { type: 'event', event: 'checkin' }, audience: { field: 'gender', op: '=', value: 'f' },
    actions: [{ type: 'task', assignee: 'owner', text: 'call {{name}}' }] };
  const nd = ok(await req('POST', '/api/v1/sops/dry-run', fresh));
  assert.equal(nd.customers, dry.customers);
  assert.equal(nd.preview[0].type, 'task');
  assert.equal(nd.preview[0].text, `call ${nd.sample[0].name}`);
  assert.ok(!ok(await req('GET', '/api/v1/sops?limit=500')).data.some((x) => x.name === fresh.name), 'nothing saved');
  assertError(await req('POST', '/api/v1/sops/dry-run', { ...fresh, name: undefined }), 422, 'validation_failed', 'name');
  assertError(await req('POST', '/api/v1/sops/dry-run', { ...fresh, actions: [{ type: 'message', channel_id: 999999, template: 'x' }] }), 422, 'validation_failed', 'actions[0].channel_id');
  assertError(await req('POST', '/api/v1/sops/dry-run'), 400, 'invalid_json');
  const one = ok(await req('POST', `/api/v1/sops/${s.id}/run-now`, { customer_ids: [a.id] }), 202);
  assert.equal(one.runs, 1);
  assert.match(one.occurrence, /^manual:/);
  const [r] = await settled(s.id, 1);
  assert.equal(r.status, 'done', 'a switched-off SOP still runs by hand');
  const all = ok(await req('POST', `/api/v1/sops/${s.id}/run-now`), 202);
  assert.equal(all.runs, dry.customers);
  await settled(s.id, 1 + dry.customers);
  assertError(await req('POST', `/api/v1/sops/${s.id}/run-now`, { customer_ids: [999999] }), 422, 'validation_failed', 'customer_ids[0]');
  assertError(await req('POST', `/api/v1/sops/${s.id}/run-now`, { customer_ids: [] }), 422, 'validation_failed', 'customer_ids');
  const ev = await sop({ trigger: { type: 'event', event: 'checkin' }, actions: [{ type: 'message', channel_id: ch.id, template: 'x' }] });
  assertError(await req('POST', `/api/v1/sops/${ev.id}/run-now`), 422, 'validation_failed', 'customer_ids');
  assertError(await req('POST', '/api/v1/sops/999999/dry-run'), 404, 'not_found');
});

test('catch-up after downtime: missed cron times fire once each; those older than catchup_hours are skipped', async (t) => {
  const dm = new Daemon();
  const config = `${CONFIG}catchup_hours = 2\n`;
  const first = await setup(t, { config, dm });
  await first.clock(sh(2031, 9, 1, 8, 30));
  const s = await first.sop({ trigger: { type: 'schedule', cron: '0 * * * *' }, actions: [{ type: 'message', channel_id: first.ch.id, template: '{{sop.name}}' }] });
  await sleep(300);
  await dm.stop();
  // down from 08:30 to 13:10: 09:00 .. 13:00 fell due; 09:00 to 11:00 are more than 2 h late
  // (the real clock, where the daemon starts, is before all of it)
  await dm.start({ config, env: { SCRM_TEST_CLOCK: '1' } });
  const adm = { token: await dm.adminToken() };
  ok(await dm.req('PUT', '/api/v1/admin/clock', { ...adm, body: { offset_s: sh(2031, 9, 1, 13, 10) - nowS() } }));
  const done = await first.settled(s.id, 2);
  await sleep(400);
  const all = await first.runs(s.id);
  assert.deepEqual(all.map((r) => r.occurrence).sort(), [12, 13].map((h) => `cron:${sh(2031, 9, 1, h)}`));
  assert.ok(done.every((r) => r.status === 'done'));
  await dm.waitForLog(/sop \d+: 3 occurrences were more than 2 hours late and skipped/);
});

test('kill -9 in the middle of a burst: every run fired once, every message queued once', async (t) => {
  const dm = new Daemon();
  const { clock, sop, customer, req, ch, adm } = await setup(t, { dm, config: `${CONFIG}batch = 20\n` });
  await clock(sh(2031, 10, 1, 12));
  const N = 400;
  for (let i = 0; i < N; i++) await customer({ name: `burst${i}`, attrs: { burst: 1 } });
  const s = await sop({ enabled: false, trigger: { type: 'schedule', cron: '0 0 1 1 *' }, audience: { field: 'attrs.burst', op: '=', value: 1 }, actions: [{ type: 'message', channel_id: ch.id, template: 'burst {{name}}' }, { type: 'grant_points', points: 1 }] });
  const started = ok(await req('POST', `/api/v1/sops/${s.id}/run-now`), 202);
  assert.equal(started.runs, N);
  for (let i = 0; i < 400; i++) {
    const doneNow = (await listAll(dm, `/api/v1/sops/${s.id}/runs?status=done`, adm)).items.length;
    if (doneNow >= 40) break;
    await sleep(5);
  }
  dm.proc.kill('SIGKILL');
  await dm.exited;
  await dm.start({ config: `${CONFIG}batch = 20\n`, env: { SCRM_TEST_CLOCK: '1' } });
  const adm2 = { token: await dm.adminToken() };
  ok(await dm.req('PUT', '/api/v1/admin/clock', { ...adm2, body: { offset_s: sh(2031, 10, 1, 12, 0, 30) - nowS() } }));
  const deadline = Date.now() + 30000;
  let runsNow;
  for (;;) {
    runsNow = (await listAll(dm, `/api/v1/sops/${s.id}/runs`, adm2)).items;
    if (runsNow.every((r) => r.status !== 'scheduled')) break;
    assert.ok(Date.now() < deadline, 'every run fires after the restart');
    await sleep(100);
  }
  assert.equal(runsNow.length, N);
  assert.ok(runsNow.every((r) => r.status === 'done'));
  // once each: one point per customer, one message per customer in the outbox
  const deliveries = (await listAll(dm, '/api/v1/deliveries', adm2)).items.filter((x) => x.channel_id === ch.id && x.payload.sop_id === s.id);
  assert.equal(deliveries.length, N);
  assert.equal(new Set(deliveries.map((x) => x.customer_id)).size, N);
  assert.deepEqual(sqliteJson(dm.db, "SELECT count(*) AS n, sum(points_balance) AS p FROM customers WHERE name LIKE 'burst%'"), [{ n: N, p: N }]);
});
