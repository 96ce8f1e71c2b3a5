// Outbound delivery against a real local peer (receiver.mjs): message channels
// (webhook, WeCom group robot, WeCom customer messages, log), event webhooks fed
// from the timeline and new orders, signatures, retries with backoff, the dead
// state and retry by hand, the robots' rate limit, WeCom access tokens, secrets
// never answered or logged, and kill -9 in the middle of a burst.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, fileDaemon, assertError, assertNoSecrets, listAll, sleep, unique } from './lib.mjs';
import { startReceiver, verifySignature } from './receiver.mjs';

const FAST = '[notify]\npoll_ms = 50\nretry_base_s = 1\nretry_max_s = 2\n';
const rx = await startReceiver();
const d = await fileDaemon({ config: FAST });
const admin = { token: await d.adminToken() };
const op = { token: await d.token('operator', 'notify-operator') };
const viewer = { token: await d.token('viewer', 'notify-viewer') };
test.after(() => rx.close());

async function ok(r, status = 200) {
  assert.equal(r.status, status, r.text);
  return r.json;
}
const post = (p, body, who = admin) => d.req('POST', p, { ...who, body });
async function channel(body) {
  return ok(await post('/api/v1/message-channels', { name: unique('ch'), ...body }), 201);
}
async function sendTest(id, body) {
  return ok(await post(`/api/v1/message-channels/${id}/test`, body), 202);
}
async function delivery(id) {
  return ok(await d.req('GET', `/api/v1/deliveries/${id}`, op));
}
// wait until the delivery reaches one of the states
async function settled(id, states = ['delivered', 'dead'], timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const x = await delivery(id);
    if (states.includes(x.status)) return x;
    if (Date.now() > deadline) assert.fail(`delivery ${id} is still ${x.status}: ${JSON.stringify(x)}`);
    await sleep(25);
  }
}

test('message channels: create, read, update, delete; secrets never answered; validation and roles', async () => {
  const hook = await channel({ kind: 'webhook', url: `${rx.url}/ch-hook` });
  assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/, 'a generated secret is shown once');
  assert.equal(hook.has_secret, true);
  const got = await ok(await d.req('GET', `/api/v1/message-channels/${hook.id}`, admin));
  assert.equal(got.secret, undefined);
  assert.deepEqual(Object.keys(got).sort(), ['corp_id', 'created_at', 'enabled', 'has_corp_secret', 'has_secret', 'id', 'kind', 'name', 'sender', 'updated_at', 'url']);
  const bot = await channel({ kind: 'wecom_bot', url: `${rx.url}/cgi-bin/webhook/send?key=robot-key-secret-1&x=1` });
  assert.equal(bot.url, `${rx.url}/cgi-bin/webhook/send?key=***&x=1`, 'the robot key is hidden');
  const wc = await channel({ kind: 'wecom_customer', corp_id: 'corp-1', corp_secret: 'corp-secret-value-1', sender: 'zhangsan' });
  assert.equal(wc.corp_secret, undefined);
  assert.equal(wc.has_corp_secret, true);
  const log = await channel({ kind: 'log' });
  const list = (await listAll(d, '/api/v1/message-channels', admin)).items;
  for (const c of [hook, bot, wc, log]) assert.ok(list.some((x) => x.id === c.id));
  assert.ok(!JSON.stringify(list).includes('robot-key-secret-1'));
  assert.ok(!JSON.stringify(list).includes('corp-secret-value-1'));
  assert.ok(!JSON.stringify(list).includes(hook.secret));
  // update: merge patch; kind fixed; secrets kept unless sent
  const renamed = unique('renamed');
  const p = await ok(await d.req('PATCH', `/api/v1/message-channels/${hook.id}`, { ...admin, body: { name: renamed, enabled: false } }));
  assert.deepEqual([p.name, p.enabled, p.has_secret], [renamed, false, true]);
  assertError(await d.req('PATCH', `/api/v1/message-channels/${hook.id}`, { ...admin, body: { kind: 'log' } }), 422, 'validation_failed', 'kind');
  assertError(await d.req('PATCH', `/api/v1/message-channels/${hook.id}`, { ...admin, body: { name: bot.name } }), 409, 'conflict', 'name');
  // validation
  for (const [body, field] of [
    [{ kind: 'webhook' }, 'url'], [{ kind: 'webhook', url: 'ftp://x/y' }, 'url'], [{ kind: 'webhook', url: 'http://' }, 'url'],
    [{ kind: 'webhook', url: 'http://a b/' }, 'url'], [{ kind: 'webhook', url: `${rx.url}/x`, secret: 'short' }, 'secret'],
    [{ kind: 'wecom_bot' }, 'url'], [{ kind: 'wecom_customer', corp_id: 'c' }, 'corp_secret'], [{ kind: 'wecom_customer' }, 'corp_id'],
    [{ kind: 'log', url: `${rx.url}/x` }, 'url'], [{ kind: 'log', secret: 'x'.repeat(20) }, 'secret'], [{ kind: 'sms' }, 'kind'],
    [{ kind: 'log', corp_id: 'x' }, 'corp_id'], [{ kind: 'log', bogus: 1 }, 'bogus'], [{ kind: 'log', name: '' }, 'name'],
  ]) {
    assertError(await post('/api/v1/message-channels', { name: unique('bad'), ...body }), 422, 'validation_failed', field);
  }
  assertError(await post('/api/v1/message-channels', { kind: 'log' }), 422, 'validation_failed', 'name');
  assertError(await post('/api/v1/message-channels', { name: unique('n') }), 422, 'validation_failed', 'kind');
  // operators and viewers see which channels exist (to pick one for a SOP), never where they point
  for (const who of [op, viewer]) {
    const seen = (await listAll(d, '/api/v1/message-channels', who)).items;
    for (const c of [hook, bot, wc, log]) assert.deepEqual(seen.find((x) => x.id === c.id), { id: c.id, name: c.id === hook.id ? renamed : c.name, kind: c.kind, enabled: c.enabled && c.id !== hook.id });
    assert.deepEqual(await ok(await d.req('GET', `/api/v1/message-channels/${bot.id}`, who)), { id: bot.id, name: bot.name, kind: 'wecom_bot', enabled: true });
    assert.ok(!JSON.stringify(seen).includes(rx.url) && !JSON.stringify(seen).includes('corp-1'));
  }
  // writing them is for admins only: channels hold secrets
  assertError(await post('/api/v1/message-channels', { name: unique('x'), kind: 'log' }, op), 403, 'forbidden');
  assertError(await d.req('PATCH', `/api/v1/message-channels/${bot.id}`, { ...op, body: { name: unique('x') } }), 403, 'forbidden');
  assertError(await post(`/api/v1/message-channels/${bot.id}/test`, { text: 'x' }, op), 403, 'forbidden');
  // delete; a second time 404
  assert.equal((await d.req('DELETE', `/api/v1/message-channels/${log.id}`, admin)).status, 204);
  assertError(await d.req('DELETE', `/api/v1/message-channels/${log.id}`, admin), 404, 'not_found');
  assertError(await d.req('GET', `/api/v1/message-channels/${log.id}`, admin), 404, 'not_found');
  assertNoSecrets(d.stderr, ['robot-key-secret-1', 'corp-secret-value-1', hook.secret], 'daemon log');
});

test('a webhook channel posts signed JSON; the outbox records it delivered', async () => {
  const secret = 'channel-secret-0123456789';
  const ch = await channel({ kind: 'webhook', url: `${rx.url}/signed`, secret });
  assert.equal(ch.secret, undefined, 'a secret that was sent is not answered back');
  const c = await ok(await post('/api/v1/customers', { name: '王芳' }, op), 201);
  const dl = await sendTest(ch.id, { text: '你好 {{name}}', customer_id: c.id });
  assert.equal(dl.status, 'pending');
  assert.equal(dl.kind, 'webhook');
  assert.equal(dl.channel_id, ch.id);
  const [req] = await rx.waitFor((r) => r.path === '/signed' && r.json?.delivery_id === dl.id);
  assert.equal(req.method, 'POST');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['x-scrm-delivery'], String(dl.id));
  assert.equal(req.headers['x-scrm-event'], 'message');
  assert.match(req.headers['user-agent'], /^scrmd\//);
  assert.deepEqual(verifySignature(req.headers['x-scrm-signature'], req.raw, secret).ok, true);
  assert.equal(verifySignature(req.headers['x-scrm-signature'], req.raw, 'another-secret-0000').ok, false);
  assert.equal(req.json.text, '你好 {{name}}');
  assert.equal(req.json.customer_id, c.id);
  const done = await settled(dl.id);
  assert.equal(done.status, 'delivered');
  assert.equal(done.attempts, 1);
  assert.equal(done.last_http_status, 200);
  assert.equal(done.next_attempt_at, null);
  assert.ok(done.delivered_at);
  const delivered = (await listAll(d, '/api/v1/deliveries?status=delivered', op)).items;
  assert.ok(delivered.some((x) => x.id === dl.id));
  assertError(await d.req('GET', '/api/v1/deliveries?status=lost', op), 422, 'validation_failed', 'status');
  assertError(await d.req('GET', '/api/v1/deliveries', viewer), 403, 'forbidden');
  // by message channel, alone and with a status: exactly that channel's messages
  const all = (await listAll(d, '/api/v1/deliveries', op)).items;
  for (const q of [`channel_id=${ch.id}`, `channel_id=${ch.id}&status=delivered`]) {
    const got = await listAll(d, `/api/v1/deliveries?${q}`, op, { limit: 1, count: true });
    const want = all.filter((x) => x.channel_id === ch.id && (!q.includes('status') || x.status === 'delivered'));
    assert.deepEqual(got.items.map((x) => x.id), want.map((x) => x.id), q);
    assert.equal(got.total, want.length, `${q}: total`);
  }
  assert.deepEqual((await listAll(d, '/api/v1/deliveries?channel_id=99999999', op)).items, []);
  for (const bad of ['0', '-1', 'x', '1.5']) assertError(await d.req('GET', `/api/v1/deliveries?channel_id=${bad}`, op), 422, 'validation_failed', 'channel_id');
  // bad test messages
  assertError(await post(`/api/v1/message-channels/${ch.id}/test`, {}), 422, 'validation_failed', 'text');
  assertError(await post(`/api/v1/message-channels/${ch.id}/test`, { text: '' }), 422, 'validation_failed', 'text');
  assertError(await post(`/api/v1/message-channels/${ch.id}/test`, { text: 'x', customer_id: 99999999 }), 422, 'validation_failed', 'customer_id');
  assertError(await post('/api/v1/message-channels/99999999/test', { text: 'x' }), 404, 'not_found');
});

test('retries with backoff after passing faults; a permanent fault is dead at once and can be retried by hand', async () => {
  const ch = await channel({ kind: 'webhook', url: `${rx.url}/flaky` });
  rx.failFor('/flaky', { times: 2, status: 503 });
  const dl = await sendTest(ch.id, { text: 'retry me' });
  const done = await settled(dl.id);
  assert.equal(done.status, 'delivered');
  assert.equal(done.attempts, 3);
  const seen = rx.requests.filter((r) => r.path === '/flaky' && r.json?.delivery_id === dl.id);
  assert.equal(seen.length, 3);
  assert.deepEqual(seen.map((r) => r.headers['x-scrm-delivery']), [String(dl.id), String(dl.id), String(dl.id)]);

  rx.failFor('/gone', { times: 1, status: 404, body: 'no such hook' });
  const ch2 = await channel({ kind: 'webhook', url: `${rx.url}/gone` });
  const dl2 = await sendTest(ch2.id, { text: 'nobody home' });
  const dead = await settled(dl2.id);
  assert.equal(dead.status, 'dead');
  assert.equal(dead.attempts, 1);
  assert.equal(dead.last_http_status, 404);
  assert.match(dead.last_error, /HTTP 404/);
  assert.ok(((await listAll(d, '/api/v1/deliveries?status=dead', op)).items).some((x) => x.id === dl2.id));
  // retried by hand (an operator), it goes out again and arrives
  const again = await ok(await post(`/api/v1/deliveries/${dl2.id}/retry`, undefined, op));
  assert.equal(again.status, 'pending');
  assert.equal((await settled(dl2.id)).status, 'delivered');
  assertError(await post(`/api/v1/deliveries/${dl2.id}/retry`, undefined, op), 409, 'conflict', 'status');
  assertError(await post('/api/v1/deliveries/99999999/retry', undefined, op), 404, 'not_found');
  assertError(await post(`/api/v1/deliveries/${dl2.id}/retry`, { x: 1 }, op), 422, 'validation_failed', 'x');

  // a connection refused is a passing fault too
  const ch3 = await channel({ kind: 'webhook', url: 'http://127.0.0.1:9/refused' });
  const dl3 = await sendTest(ch3.id, { text: 'no listener' });
  const deadline = Date.now() + 10000;
  let x;
  do { x = await delivery(dl3.id); await sleep(25); } while (x.status !== 'failed' && Date.now() < deadline);
  assert.equal(x.status, 'failed');
  assert.ok(x.last_error.length > 0);
  assert.ok(x.next_attempt_at);
  // a deleted channel: its waiting deliveries die
  assert.equal((await d.req('DELETE', `/api/v1/message-channels/${ch3.id}`, admin)).status, 204);
  const gone = await settled(dl3.id);
  assert.equal(gone.status, 'dead');
  assert.equal(gone.channel_id, null);
  assert.match(gone.last_error, /deleted/);
});

test('event webhooks: subscribed events from the timeline and new orders, signed; others not sent', async () => {
  const w = await ok(await post('/api/v1/webhooks', { url: `${rx.url}/events`, events: ['customer.created', 'tag.added', 'order.created'] }), 201);
  assert.match(w.secret, /^whsec_/);
  assert.deepEqual(w.events, ['customer.created', 'tag.added', 'order.created']);
  assert.equal(w.enabled, true);
  const c = await ok(await post('/api/v1/customers', { name: '李雷', phone: '13800138123' }, op), 201);
  await ok(await post(`/api/v1/customers/${c.id}/tags`, { names: [unique('vip')] }, op));
  await ok(await post('/api/v1/customers/' + c.id + '/points', { delta: 5, reason: 'not subscribed' }, op), 201);
  const ext = unique('ord');
  await ok(await post('/api/v1/orders', { platform: 'tmall', external_id: ext, amount_cents: 1999, status: 'paid', paid_at: new Date().toISOString(), buyer_phone: '13800138123' }, op), 201);
  const got = await rx.waitFor((r) => r.path === '/events' && r.json?.customer_id === c.id, { count: 3 });
  const byEvent = Object.fromEntries(got.map((r) => [r.json.event, r]));
  assert.deepEqual(Object.keys(byEvent).sort(), ['customer.created', 'order.created', 'tag.added']);
  for (const r of got) {
    assert.equal(verifySignature(r.headers['x-scrm-signature'], r.raw, w.secret).ok, true);
    assert.equal(r.headers['x-scrm-event'], r.json.event);
    assert.match(r.json.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
  const o = byEvent['order.created'].json;
  assert.equal(o.data.external_id, ext);
  assert.equal(o.data.amount_cents, 1999);
  assert.equal(o.ref_type, 'order');
  assert.equal(byEvent['customer.created'].json.ref_type ?? null, byEvent['customer.created'].json.ref_type);
  await sleep(300);
  assert.ok(!rx.requests.some((r) => r.path === '/events' && r.json?.event === 'points.changed'), 'not subscribed');
  const mine = (await listAll(d, `/api/v1/webhooks/${w.id}/deliveries`, admin)).items;
  assert.equal(mine.filter((x) => x.customer_id === c.id).length, 3);
  assert.ok(mine.every((x) => x.webhook_id === w.id && x.kind === 'event'));
  // switched off: no deliveries; '*' takes every event
  await ok(await d.req('PATCH', `/api/v1/webhooks/${w.id}`, { ...admin, body: { enabled: false } }));
  const all = await ok(await post('/api/v1/webhooks', { url: `${rx.url}/all`, events: ['*'], secret: 'all-events-secret-123' }), 201);
  assert.equal(all.secret, undefined);
  const c2 = await ok(await post('/api/v1/customers', { name: '韩梅梅' }, op), 201);
  await rx.waitFor((r) => r.path === '/all' && r.json?.customer_id === c2.id);
  await sleep(300);
  assert.ok(!rx.requests.some((r) => r.path === '/events' && r.json?.customer_id === c2.id));
  // validation and roles
  for (const [body, field] of [[{ events: ['tag.added'] }, 'url'], [{ url: `${rx.url}/x` }, 'events'], [{ url: `${rx.url}/x`, events: [] }, 'events'],
    [{ url: `${rx.url}/x`, events: ['tag.added', 'nope'] }, 'events[1]'], [{ url: 'mailto:x', events: ['*'] }, 'url'], [{ url: `${rx.url}/x`, events: ['*'], secret: 'short' }, 'secret']]) {
    assertError(await post('/api/v1/webhooks', body), 422, 'validation_failed', field);
  }
  assertError(await d.req('GET', '/api/v1/webhooks', op), 403, 'forbidden');
  assertError(await d.req('GET', '/api/v1/webhooks/99999999/deliveries', admin), 404, 'not_found');
  assert.equal((await d.req('DELETE', `/api/v1/webhooks/${all.id}`, admin)).status, 204);
  assertError(await d.req('GET', `/api/v1/webhooks/${all.id}`, admin), 404, 'not_found');
  assertNoSecrets(d.stderr, [w.secret, 'all-events-secret-123'], 'daemon log');
});

test('WeCom group robot: text and markdown, an unknown key dead at once, busy tried again', async () => {
  const key = unique('robot');
  rx.wecom.addRobot(key, { limit: 100 });
  const bot = await channel({ kind: 'wecom_bot', url: `${rx.url}/cgi-bin/webhook/send?key=${key}` });
  const a = await sendTest(bot.id, { text: '今晚8点闪购' });
  const b = await sendTest(bot.id, { text: '**会员日**', markdown: true });
  // a robot's messages reach the group in the order they were queued, though 4 senders run
  const more = await Promise.all(['第1条', '第2条', '第3条', '第4条', '第5条', '第6条'].map((text) => sendTest(bot.id, { text })));
  more.sort((x, y) => x.id - y.id);
  assert.equal((await settled(a.id)).status, 'delivered');
  assert.equal((await settled(b.id)).status, 'delivered');
  for (const m of more) assert.equal((await settled(m.id)).status, 'delivered');
  const queued = [['text', '今晚8点闪购'], ['markdown', '**会员日**']];
  for (const m of more) queued.push(['text', (await delivery(m.id)).payload.text]);
  assert.deepEqual(rx.wecom.robotMessages[key].map((m) => [m.msgtype, m.content]), queued);

  const bad = await channel({ kind: 'wecom_bot', url: `${rx.url}/cgi-bin/webhook/send?key=not-registered` });
  const x = await settled((await sendTest(bad.id, { text: 'x' })).id);
  assert.equal(x.status, 'dead');
  assert.match(x.last_error, /errcode 93000/);
  const busy = await channel({ kind: 'wecom_bot', url: `${rx.url}/cgi-bin/webhook/send?key=${key}` });
  rx.wecom.failNext(1, { errcode: -1, path: '/cgi-bin/webhook/send' });
  const y = await settled((await sendTest(busy.id, { text: 'busy once' })).id);
  assert.equal(y.status, 'delivered');
  assert.equal(y.attempts, 2, 'errcode -1 (busy) is tried again');
});

test('the robot limit: no more than wecom_bot_per_minute a minute, the rest sent when the minute has passed', async (t) => {
  const rx2 = await startReceiver();
  t.after(() => rx2.close());
  const dm = new Daemon();
  await dm.start({ config: `${FAST}wecom_bot_per_minute = 3\n`, env: { SCRM_TEST_CLOCK: '1' } });
  t.after(async () => { try { await dm.stop(); } finally { dm.cleanup(); } });
  const adm = { token: await dm.adminToken() };
  const key = unique('limited');
  rx2.wecom.addRobot(key, { limit: 100 });
  const bot = await ok(await dm.req('POST', '/api/v1/message-channels', { ...adm, body: { name: 'limited', kind: 'wecom_bot', url: `${rx2.url}/cgi-bin/webhook/send?key=${key}` } }), 201);
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await ok(await dm.req('POST', `/api/v1/message-channels/${bot.id}/test`, { ...adm, body: { text: `m${i}` } }), 202)).id);
  await rx2.waitFor((r) => r.path === '/cgi-bin/webhook/send', { count: 3 });
  await sleep(700);
  assert.equal(rx2.wecom.robotMessages[key].length, 3, 'held back after 3 in the minute');
  const held = [];
  for (const id of ids) held.push((await ok(await dm.req('GET', `/api/v1/deliveries/${id}`, adm))));
  const waiting = held.filter((x) => x.status === 'pending');
  assert.equal(waiting.length, 2);
  for (const w of waiting) {
    assert.match(w.last_error, /held back/);
    assert.equal(w.attempts, 0, 'a held-back message has not been tried');
  }
  // a minute later (test clock) the rest go out
  await ok(await dm.req('PUT', '/api/v1/admin/clock', { ...adm, body: { offset_s: 61 } }));
  await rx2.waitFor((r) => r.path === '/cgi-bin/webhook/send', { count: 5 });
  assert.deepEqual(rx2.wecom.robotMessages[key].map((m) => m.content).sort(), ['m0', 'm1', 'm2', 'm3', 'm4']);
  assert.ok((rx2.wecom.robotRejected[key] || []).every((m) => m.errcode !== 45009));
});

test('WeCom customer messages: an access token fetched once and renewed when WeCom calls it expired; a wrong secret is dead', async () => {
  const corp = unique('corp');
  rx.wecom.addCorp(corp, 'the-right-corp-secret');
  const wc = await channel({ kind: 'wecom_customer', url: rx.url, corp_id: corp, corp_secret: 'the-right-corp-secret', sender: 'lisi' });
  const before = rx.wecom.tokenRequests;
  const c = await ok(await post('/api/v1/customers', { name: '张伟', attrs: { wecom_external_userid: 'wmEXT0001' } }, op), 201);
  const a = await settled((await sendTest(wc.id, { text: '您的优惠券7天后到期', customer_id: c.id })).id);
  assert.equal(a.status, 'delivered', JSON.stringify(a));
  const b = await settled((await sendTest(wc.id, { text: '第二条', external_userid: 'wmEXT0002' })).id);
  assert.equal(b.status, 'delivered');
  assert.equal(rx.wecom.tokenRequests - before, 1, 'one token for both');
  const sent = rx.wecom.customerMessages.slice(-2).map((m) => [m.external_userid?.[0] ?? m.body?.external_userid?.[0], m.sender ?? m.body?.sender, m.text?.content ?? m.body?.text?.content]);
  assert.deepEqual(sent, [['wmEXT0001', 'lisi', '您的优惠券7天后到期'], ['wmEXT0002', 'lisi', '第二条']]);
  rx.wecom.expireTokens();
  const e = await settled((await sendTest(wc.id, { text: '过期后', external_userid: 'wmEXT0003' })).id);
  assert.equal(e.status, 'delivered');
  assert.equal(e.attempts, 1, 'the token is renewed within the same attempt');
  assert.equal(rx.wecom.tokenRequests - before, 2);
  assertError(await post(`/api/v1/message-channels/${wc.id}/test`, { text: 'nobody' }), 422, 'validation_failed', 'external_userid');
  const wrong = await channel({ kind: 'wecom_customer', url: rx.url, corp_id: corp, corp_secret: 'a-wrong-secret' });
  const w = await settled((await sendTest(wrong.id, { text: 'x', external_userid: 'wmX' })).id);
  assert.equal(w.status, 'dead');
  assert.match(w.last_error, /access token.*40001/);
  assertNoSecrets(d.stderr, ['the-right-corp-secret', 'a-wrong-secret'], 'daemon log');
});

test('a log channel writes the message to the log', async () => {
  const ch = await channel({ kind: 'log' });
  const x = await settled((await sendTest(ch.id, { text: 'log line 7f3a' })).id);
  assert.equal(x.status, 'delivered');
  await d.waitForLog(/notify: channel [^,]+, customer 0: log line 7f3a/);
});

test('failing for longer than dead_after_minutes is dead', async (t) => {
  const rx3 = await startReceiver();
  t.after(() => rx3.close());
  rx3.setDefault({ status: 500 });
  const dm = new Daemon();
  await dm.start({ config: `${FAST}dead_after_minutes = 1\n`, env: { SCRM_TEST_CLOCK: '1' } });
  t.after(async () => { try { await dm.stop(); } finally { dm.cleanup(); } });
  const adm = { token: await dm.adminToken() };
  const ch = await ok(await dm.req('POST', '/api/v1/message-channels', { ...adm, body: { name: 'down', kind: 'webhook', url: `${rx3.url}/down` } }), 201);
  const dl = await ok(await dm.req('POST', `/api/v1/message-channels/${ch.id}/test`, { ...adm, body: { text: 'x' } }), 202);
  await rx3.waitFor('/down', { count: 2 });
  let x;
  do { x = await ok(await dm.req('GET', `/api/v1/deliveries/${dl.id}`, adm)); } while (x.status === 'sending');
  assert.equal(x.status, 'failed');
  await ok(await dm.req('PUT', '/api/v1/admin/clock', { ...adm, body: { offset_s: 120 } }));
  const deadline = Date.now() + 10000;
  do { await sleep(50); x = await ok(await dm.req('GET', `/api/v1/deliveries/${dl.id}`, adm)); } while (x.status !== 'dead' && Date.now() < deadline);
  assert.equal(x.status, 'dead');
  assert.match(x.last_error, /HTTP 500/);
});

test('kill -9 in the middle of a burst: after the restart every message arrives, and only those in flight arrive twice', async (t) => {
  const rx4 = await startReceiver();
  t.after(() => rx4.close());
  // the peer is down while the burst is queued (every message fails once and
  // waits for its retry), then answers, a little slowly
  rx4.setDefault({ status: 503 });
  const dm = new Daemon();
  t.after(() => dm.cleanup());
  await dm.start({ config: FAST });
  const adm = { token: await dm.adminToken() };
  const ch = await ok(await dm.req('POST', '/api/v1/message-channels', { ...adm, body: { name: 'burst', kind: 'webhook', url: `${rx4.url}/burst` } }), 201);
  const N = 300;
  const ids = [];
  for (let i = 0; i < N; i += 1) {
    ids.push((await ok(await dm.req('POST', `/api/v1/message-channels/${ch.id}/test`, { ...adm, body: { text: `burst ${i}` } }), 202)).id);
  }
  rx4.setDefault({ status: 200, delayMs: 10 });
  const ok200 = (r) => r.path === '/burst' && r.status === 200;
  await rx4.waitFor(ok200, { count: 60, timeoutMs: 30000 });
  dm.proc.kill('SIGKILL');
  await dm.exited;
  const atKill = rx4.requests.filter(ok200).length;
  assert.ok(atKill < N, `killed in the middle (${atKill} of ${N} had arrived)`);
  await dm.start({ config: FAST });
  t.after(() => dm.stop());
  await rx4.waitFor(ok200, { count: N, timeoutMs: 60000 });
  await sleep(300);
  const got = rx4.requests.filter(ok200).map((r) => Number(r.headers['x-scrm-delivery']));
  const distinct = new Set(got);
  assert.deepEqual([...distinct].sort((a, b) => a - b), [...ids].sort((a, b) => a - b), 'every message arrived');
  const twice = got.length - distinct.size;
  t.diagnostic(`${atKill} of ${N} arrived before kill -9; ${twice} arrived twice`);
  assert.ok(twice <= 4, `${twice} arrived twice; at most one per sender thread (4) may`);
  const adm2 = { token: await dm.adminToken() };
  const left = (await listAll(dm, '/api/v1/deliveries?status=delivered', adm2)).items;
  assert.equal(left.filter((x) => x.channel_id === ch.id).length, N);
});
