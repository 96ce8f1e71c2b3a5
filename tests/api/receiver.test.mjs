// The test peer of receiver.mjs, checked on its own with fetch, so that when a
// delivery test fails the peer is known to be right: recording and waitFor,
// scripted failures (status, delay, destroyed sockets, default answer), the
// WeCom stand-in (gettoken, customer-message tasks, group robots and their rate
// limit, scripted WeCom errors) and verifySignature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { startReceiver, verifySignature } from './receiver.mjs';
import { rawHttp, sleep } from './lib.mjs';

async function receiver(t) {
  const rx = await startReceiver();
  t.after(() => rx.close());
  return rx;
}

// fetch, read the body, parse JSON when it is JSON
async function call(rx, method, p, { body, headers = {}, signal } = {}) {
  if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    body = JSON.stringify(body);
    headers = { 'Content-Type': 'application/json', ...headers };
  }
  const r = await fetch(rx.url + p, { method, body, headers, signal });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}
const post = (rx, p, body, opts = {}) => call(rx, 'POST', p, { ...opts, body });

function sign(secret, t, body) {
  return crypto.createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

test('every request is recorded in order, with method, path, query, headers, raw body, text and JSON', async (t) => {
  const rx = await receiver(t);
  assert.match(rx.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(rx.url, `http://127.0.0.1:${rx.port}`);
  const before = Date.now();
  const r1 = await post(rx, '/hook?a=1&b=x%20y', { event: 'order.paid', id: 7 }, { headers: { 'X-SCRM-Event': 'order.paid' } });
  assert.equal(r1.status, 200);
  assert.deepEqual(r1.json, { ok: true });
  assert.match(r1.headers.get('content-type'), /^application\/json/);
  const bin = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
  await call(rx, 'PUT', '/bin', { body: bin, headers: { 'Content-Type': 'application/octet-stream' } });
  await call(rx, 'GET', '/x/y');
  assert.equal(rx.requests.length, 3);
  const [a, b, c] = rx.requests;
  assert.equal(a.method, 'POST');
  assert.equal(a.path, '/hook');
  assert.deepEqual(a.query, { a: '1', b: 'x y' });
  assert.equal(a.headers['x-scrm-event'], 'order.paid');
  assert.equal(a.headers['content-type'], 'application/json');
  assert.ok(Buffer.isBuffer(a.raw));
  assert.equal(a.text, '{"event":"order.paid","id":7}');
  assert.deepEqual(a.raw, Buffer.from(a.text));
  assert.deepEqual(a.json, { event: 'order.paid', id: 7 });
  assert.equal(a.status, 200);
  assert.ok(a.at >= before && a.at <= Date.now());
  assert.deepEqual(b.raw, bin);
  assert.equal(b.json, undefined);
  assert.equal(c.method, 'GET');
  assert.equal(c.path, '/x/y');
  assert.deepEqual(c.query, {});
  assert.equal(c.text, '');
  assert.equal(c.json, undefined);
  assert.ok(a.at <= b.at && b.at <= c.at);
  rx.clear();
  assert.equal(rx.requests.length, 0);
  await call(rx, 'GET', '/after');
  assert.deepEqual(rx.requests.map((r) => r.path), ['/after']);
});

test('waitFor resolves with the matching requests once count have arrived, and says what it saw on timeout', async (t) => {
  const rx = await receiver(t);
  const waiting = rx.waitFor((r) => r.path === '/hook', { count: 3 });
  let settled = false;
  waiting.then(() => { settled = true; }, () => { settled = true; });
  for (let i = 0; i < 2; i++) await post(rx, '/hook', { i });
  await post(rx, '/other', {});
  await sleep(10);
  assert.equal(settled, false, 'resolved before the third /hook');
  await post(rx, '/hook', { i: 2 });
  const hits = await waiting;
  assert.deepEqual(hits.map((r) => r.json.i), [0, 1, 2]);
  // requests that arrived before the call count; a path string is a predicate
  assert.equal((await rx.waitFor('/other')).length, 1);
  assert.equal((await rx.waitFor(/^\/ho/, { count: 3 })).length, 3);
  // timeout: how many matched, the last paths
  const t0 = Date.now();
  await assert.rejects(rx.waitFor((r) => r.path === '/hook', { count: 5, timeoutMs: 60 }), (e) => {
    assert.match(e.message, /timed out after 60 ms/);
    assert.match(e.message, /3 of 5/);
    assert.match(e.message, /4 received/);
    assert.match(e.message, /POST \/other -> 200; POST \/hook -> 200/);
    return true;
  });
  assert.ok(Date.now() - t0 < 1000);
  // a pending waitFor is rejected by close()
  const pending = rx.waitFor('/never');
  await rx.close();
  await assert.rejects(pending, /closed/);
});

test('failNext answers the next n generic requests with a status and body, then the default again', async (t) => {
  const rx = await receiver(t);
  rx.failNext(2, { status: 503, body: 'down for maintenance' });
  rx.failNext(1); // 500 "fail", queued after the first two
  const got = [];
  for (let i = 0; i < 4; i++) got.push(await post(rx, '/hook', { i }));
  assert.deepEqual(got.map((r) => r.status), [503, 503, 500, 200]);
  assert.deepEqual(got.map((r) => r.text), ['down for maintenance', 'down for maintenance', 'fail', '{"ok":true}']);
  assert.match(got[0].headers.get('content-type'), /^text\/plain/);
  assert.deepEqual(rx.requests.map((r) => r.status), [503, 503, 500, 200]);
  // a JSON body is sent as JSON
  rx.failNext(1, { status: 429, body: { error: 'slow down' }, headers: { 'Retry-After': '2' } });
  const r = await call(rx, 'GET', '/x');
  assert.equal(r.status, 429);
  assert.deepEqual(r.json, { error: 'slow down' });
  assert.equal(r.headers.get('retry-after'), '2');
  assert.match(r.headers.get('content-type'), /^application\/json/);
});

test('failNext with delayMs answers late (a client timeout fires first) and with destroy closes the socket unanswered', async (t) => {
  const rx = await receiver(t);
  const lateAt = Date.now() + 250;
  rx.failNext(1, { status: 200, body: 'late', delayMs: 250 });
  await assert.rejects(post(rx, '/slow', {}, { signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' });
  assert.equal((await post(rx, '/next', {})).status, 200, 'the next request is answered at once');
  rx.failNext(1, { status: 202, body: 'late', delayMs: 120 });
  const t0 = Date.now();
  const r = await post(rx, '/slow', {});
  assert.ok(Date.now() - t0 >= 110, `answered after ${Date.now() - t0} ms`);
  assert.equal(r.status, 202);
  assert.equal(r.text, 'late');
  // destroyed: no HTTP answer at all
  rx.failNext(1, { destroy: true });
  await assert.rejects(post(rx, '/boom', { x: 1 }), TypeError);
  const boom = rx.requests.find((q) => q.path === '/boom');
  assert.equal(boom.status, null);
  assert.equal(boom.destroyed, true);
  assert.deepEqual(boom.json, { x: 1 }, 'the request was read before the socket was destroyed');
  assert.equal((await post(rx, '/after', {})).status, 200);
  await sleep(lateAt + 30 - Date.now()); // the late answer to the timed-out client is dropped quietly
  assert.equal((await call(rx, 'GET', '/still-up')).status, 200);
});

test('setDefault sets the answer of every generic request; failNext and failFor go first', async (t) => {
  const rx = await receiver(t);
  rx.setDefault({ status: 410, body: { gone: true } });
  for (let i = 0; i < 2; i++) {
    const r = await post(rx, '/hook', {});
    assert.equal(r.status, 410);
    assert.deepEqual(r.json, { gone: true });
  }
  rx.failNext(1, { status: 500 });
  assert.equal((await post(rx, '/hook', {})).status, 500);
  assert.equal((await post(rx, '/hook', {})).status, 410);
  rx.setDefault({ status: 503 });
  assert.equal((await post(rx, '/hook', {})).text, 'fail');
  rx.setDefault({ status: 204, body: '' });
  assert.equal((await post(rx, '/hook', {})).status, 204);
  rx.setDefault();
  const r = await post(rx, '/hook', {});
  assert.equal(r.status, 200);
  assert.equal(r.text, '{"ok":true}');
  // failFor: by path or predicate, at most times times, removable
  const stop = rx.failFor('/b', { status: 502 });
  rx.failFor((q) => q.json && q.json.poison === true, { status: 400, body: 'poison', times: 1 });
  assert.equal((await post(rx, '/a', {})).status, 200);
  assert.equal((await post(rx, '/b', {})).status, 502);
  assert.equal((await post(rx, '/b', {})).status, 502);
  assert.equal((await post(rx, '/a', { poison: true })).status, 400);
  assert.equal((await post(rx, '/a', { poison: true })).status, 200);
  stop();
  assert.equal((await post(rx, '/b', {})).status, 200);
  rx.failFor(/^\/c/, { status: 503 });
  rx.failNext(3, { status: 500 });
  rx.clearFailures();
  assert.equal((await post(rx, '/c', {})).status, 200);
});

test('generic failures never touch the WeCom paths', async (t) => {
  const rx = await receiver(t);
  rx.wecom.addCorp('ww1', 's1');
  rx.failNext(5, { status: 500 });
  rx.setDefault({ status: 503 });
  rx.failFor(() => true, { status: 502 });
  const r = await call(rx, 'GET', '/cgi-bin/gettoken?corpid=ww1&corpsecret=s1');
  assert.equal(r.status, 200);
  assert.equal(r.json.errcode, 0);
  assert.equal(rx.requests[0].wecom, true);
  assert.equal(rx.requests[0].errcode, 0);
  // /cgi-bin paths that WeCom's stand-in does not serve are generic
  assert.equal((await call(rx, 'GET', '/cgi-bin/user/get')).status, 502);
});

test('gettoken: a token for a registered corpid/secret pair, 40001 otherwise, counted', async (t) => {
  const rx = await receiver(t);
  rx.wecom.addCorp('wwcorp', 'app-secret');
  const ok = await call(rx, 'GET', '/cgi-bin/gettoken?corpid=wwcorp&corpsecret=app-secret');
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(Object.keys(ok.json), ['errcode', 'errmsg', 'access_token', 'expires_in']);
  assert.equal(ok.json.errcode, 0);
  assert.equal(ok.json.errmsg, 'ok');
  assert.equal(ok.json.expires_in, 7200);
  assert.match(ok.json.access_token, /^[A-Za-z0-9_-]{32,}$/);
  // still valid: the same token again, as WeCom does
  const again = await call(rx, 'GET', '/cgi-bin/gettoken?corpid=wwcorp&corpsecret=app-secret');
  assert.equal(again.json.access_token, ok.json.access_token);
  assert.ok(rx.wecom.tokens.has(ok.json.access_token));
  for (const q of ['corpid=wwcorp&corpsecret=wrong', 'corpid=other&corpsecret=app-secret']) {
    const bad = await call(rx, 'GET', `/cgi-bin/gettoken?${q}`);
    assert.equal(bad.status, 200);
    assert.deepEqual(bad.json, { errcode: 40001, errmsg: 'invalid credential' });
  }
  assert.equal((await call(rx, 'GET', '/cgi-bin/gettoken?corpsecret=x')).json.errcode, 41002);
  assert.equal((await call(rx, 'GET', '/cgi-bin/gettoken?corpid=wwcorp')).json.errcode, 41004);
  assert.equal(rx.wecom.tokenRequests, 6);
  rx.wecom.clear();
  assert.equal(rx.wecom.tokenRequests, 0);
});

test('customer messages: 40014 for an unknown token, 42001 once expired, accepted with a fresh token', async (t) => {
  const rx = await receiver(t);
  rx.wecom.addCorp('wwcorp', 'contact-secret');
  const msg = { chat_type: 'single', external_userid: ['wmAAA'], sender: 'zhangsan', text: { content: 'hi' } };
  const path = (tok) => `/cgi-bin/externalcontact/add_msg_template?access_token=${encodeURIComponent(tok)}`;
  assert.deepEqual((await post(rx, path('nope'), msg)).json, { errcode: 40014, errmsg: 'invalid access_token' });
  assert.equal((await post(rx, '/cgi-bin/externalcontact/add_msg_template', msg)).json.errcode, 41001);
  const tok1 = (await call(rx, 'GET', '/cgi-bin/gettoken?corpid=wwcorp&corpsecret=contact-secret')).json.access_token;
  assert.equal((await post(rx, path(tok1), msg)).json.errcode, 0);
  rx.wecom.expireTokens();
  const expired = await post(rx, path(tok1), msg);
  assert.equal(expired.status, 200);
  assert.deepEqual(expired.json, { errcode: 42001, errmsg: 'access_token expired' });
  const tok2 = (await call(rx, 'GET', '/cgi-bin/gettoken?corpid=wwcorp&corpsecret=contact-secret')).json.access_token;
  assert.notEqual(tok2, tok1);
  assert.equal((await post(rx, path(tok2), msg)).json.errcode, 0);
  assert.equal(rx.wecom.customerMessages.length, 2);
  assert.deepEqual(rx.wecom.customerRejected.map((m) => m.errcode), [40014, 41001, 42001]);
  assert.equal(rx.wecom.tokenRequests, 2);
});

test('customer messages: accepted and recorded, or refused with 40008/44004 when malformed', async (t) => {
  const rx = await receiver(t);
  rx.wecom.addCorp('wwcorp', 'contact-secret');
  const tok = (await call(rx, 'GET', '/cgi-bin/gettoken?corpid=wwcorp&corpsecret=contact-secret')).json.access_token;
  const path = `/cgi-bin/externalcontact/add_msg_template?access_token=${tok}`;
  const msg = { chat_type: 'single', external_userid: ['wmAAA', 'wmBBB'], sender: 'zhangsan', text: { content: '会员日：全场 8 折' } };
  const r = await post(rx, path, msg);
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json), ['errcode', 'errmsg', 'fail_list', 'msgid']);
  assert.equal(r.json.errcode, 0);
  assert.equal(r.json.errmsg, 'ok');
  assert.deepEqual(r.json.fail_list, []);
  assert.match(r.json.msgid, /^msg[A-Za-z0-9_-]+$/);
  const [m] = rx.wecom.customerMessages;
  assert.equal(m.msgid, r.json.msgid);
  assert.equal(m.corpid, 'wwcorp');
  assert.deepEqual(m.body, msg);
  // external_userids marked as unreachable come back in fail_list
  rx.wecom.failUserIds.add('wmBBB');
  assert.deepEqual((await post(rx, path, msg)).json.fail_list, ['wmBBB']);
  const bad = [
    ['not json', 40008],
    [[1, 2], 40008],
    [{ ...msg, external_userid: undefined }, 40008],
    [{ ...msg, external_userid: [] }, 40008],
    [{ ...msg, external_userid: 'wmAAA' }, 40008],
    [{ ...msg, chat_type: 'broadcast' }, 40008],
    [{ ...msg, text: undefined }, 44004],
    [{ ...msg, text: {} }, 44004],
    [{ ...msg, text: { content: '' } }, 44004],
    [{ ...msg, text: { content: 5 } }, 40008],
  ];
  for (const [body, errcode] of bad) {
    const res = await post(rx, path, body);
    assert.equal(res.status, 200);
    assert.equal(res.json.errcode, errcode, JSON.stringify(body));
    assert.equal(res.json.errmsg, errcode === 40008 ? 'invalid message type' : 'empty content');
  }
  assert.equal(rx.wecom.customerMessages.length, 2);
  assert.equal(rx.wecom.customerRejected.length, bad.length);
  // a GET is refused too
  assert.equal((await call(rx, 'GET', path)).json.errcode, 43002);
});

test('group robot: text and markdown accepted and recorded per key; 93000 for an unknown key; 40008 when malformed', async (t) => {
  const rx = await receiver(t);
  rx.wecom.addRobot('key-a');
  rx.wecom.addRobot('key-b');
  const send = (key, body) => post(rx, `/cgi-bin/webhook/send?key=${key}`, body);
  const text = { msgtype: 'text', text: { content: '新订单 #42', mentioned_list: ['zhangsan', '@all'] } };
  const r = await send('key-a', text);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { errcode: 0, errmsg: 'ok' });
  assert.deepEqual((await send('key-b', { msgtype: 'markdown', markdown: { content: '**42** paid' } })).json, { errcode: 0, errmsg: 'ok' });
  assert.equal(rx.wecom.robotMessages['key-a'].length, 1);
  const [m] = rx.wecom.robotMessages['key-a'];
  assert.equal(m.msgtype, 'text');
  assert.equal(m.content, '新订单 #42');
  assert.deepEqual(m.body, text);
  assert.equal(typeof m.at, 'number');
  assert.equal(rx.wecom.robotMessages['key-b'][0].content, '**42** paid');
  const unknown = await send('nope', text);
  assert.equal(unknown.status, 200);
  assert.deepEqual(unknown.json, { errcode: 93000, errmsg: 'invalid webhook url' });
  assert.equal((await post(rx, '/cgi-bin/webhook/send', text)).json.errcode, 93000);
  assert.equal(rx.wecom.robotRejected.nope.length, 1);
  for (const body of ['{not json', [], { msgtype: 'image', image: {} }, { text: { content: 'x' } },
    { msgtype: 'text', text: 'x' }, { msgtype: 'text', text: { content: 'x', mentioned_list: 'zhangsan' } },
    { msgtype: 'markdown', text: { content: 'x' } }]) {
    const res = await send('key-a', body);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { errcode: 40008, errmsg: 'invalid message type' }, JSON.stringify(body));
  }
  assert.equal((await send('key-a', { msgtype: 'text', text: { content: '' } })).json.errcode, 44004);
  assert.equal(rx.wecom.robotMessages['key-a'].length, 1);
  assert.equal(rx.wecom.robotRejected['key-a'].length, 8);
  // keys from requests cannot reach the prototype
  assert.equal((await send('__proto__', text)).json.errcode, 93000);
  assert.equal(Object.getPrototypeOf(rx.wecom.robotRejected), Object.prototype);
});

test('group robot rate limit: the 21st message within the window is 45009, and works again once the window has passed', async (t) => {
  const rx = await receiver(t);
  const windowMs = 700;
  rx.wecom.addRobot('rl', { windowMs });
  rx.wecom.addRobot('other', { windowMs });
  const send = (key, i) => post(rx, `/cgi-bin/webhook/send?key=${key}`, { msgtype: 'text', text: { content: `m${i}` } });
  for (let i = 0; i < 20; i++) assert.equal((await send('rl', i)).json.errcode, 0, `message ${i}`);
  const sent = rx.wecom.robotMessages.rl;
  assert.equal(sent.length, 20);
  const first = sent[0].at;
  assert.ok(sent[19].at - first < windowMs, 'the 20 messages took longer than the window');
  const over = await send('rl', 20);
  assert.equal(over.status, 200);
  assert.deepEqual(over.json, { errcode: 45009, errmsg: 'api freq out of limit' });
  assert.equal((await send('other', 0)).json.errcode, 0, 'the limit is per key');
  assert.deepEqual(rx.wecom.robotRejected.rl.map((m) => m.errcode), [45009]);
  assert.equal(rx.wecom.robotMessages.rl.length, 20);
  await sleep(first + windowMs + 30 - Date.now());
  assert.equal((await send('rl', 21)).json.errcode, 0);
  assert.equal(rx.wecom.robotMessages.rl.length, 21);
  // a smaller limit
  rx.wecom.addRobot('three', { limit: 3 });
  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await send('three', i)).json.errcode);
  assert.deepEqual(codes, [0, 0, 0, 45009, 45009]);
});

test('wecom.failNext: scripted errcodes and HTTP errors, for any WeCom path or one path', async (t) => {
  const rx = await receiver(t);
  rx.wecom.addCorp('wwcorp', 's');
  rx.wecom.addRobot('k');
  const gettoken = () => call(rx, 'GET', '/cgi-bin/gettoken?corpid=wwcorp&corpsecret=s');
  const robot = () => post(rx, '/cgi-bin/webhook/send?key=k', { msgtype: 'text', text: { content: 'x' } });
  rx.wecom.failNext(1);
  const busy = await gettoken();
  assert.equal(busy.status, 200);
  assert.deepEqual(busy.json, { errcode: -1, errmsg: 'system busy' });
  assert.equal((await gettoken()).json.errcode, 0);
  rx.wecom.failNext(1, { status: 502 });
  const gw = await robot();
  assert.equal(gw.status, 502);
  assert.equal(gw.json, undefined);
  rx.wecom.failNext(1, { errcode: 45009, path: '/cgi-bin/webhook/send' });
  assert.equal((await gettoken()).json.errcode, 0, 'a failure for another path is not used');
  assert.deepEqual((await robot()).json, { errcode: 45009, errmsg: 'api freq out of limit' });
  assert.equal((await robot()).json.errcode, 0);
  assert.equal(rx.wecom.robotMessages.k.length, 1);
  assert.deepEqual(rx.wecom.robotRejected.k.map((m) => [m.errcode, m.injected]), [[undefined, true], [45009, true]]);
  assert.deepEqual(rx.requests.map((r) => r.status), [200, 200, 502, 200, 200, 200]);
  assert.deepEqual(rx.requests.map((r) => r.errcode), [-1, 0, undefined, 0, 45009, 0]);
  assert.equal(rx.wecom.tokenRequests, 3);
  rx.wecom.failNext(1, { destroy: true });
  await assert.rejects(gettoken(), TypeError);
  rx.wecom.failNext(2);
  rx.wecom.clearFailures();
  assert.equal((await gettoken()).json.errcode, 0);
});

test('verifySignature: valid, wrong secret, stale or future t, malformed headers, several v1 entries', () => {
  const secret = 'whsec_test_1';
  const body = Buffer.from('{"event":"order.paid","amount":"12.50","name":"张三"}');
  const now = 1750000000;
  const t = now - 10;
  const header = `t=${t},v1=${sign(secret, t, body)}`;
  assert.deepEqual(verifySignature(header, body, secret, { now }), { ok: true, t });
  assert.deepEqual(verifySignature(header, body.toString(), secret, { now }), { ok: true, t }, 'a string body');
  const clock = Math.floor(Date.now() / 1000);
  assert.ok(verifySignature(`t=${clock},v1=${sign(secret, clock, body)}`, body, secret).ok, 'now defaults to the clock');
  const wrong = verifySignature(header, body, 'whsec_other', { now });
  assert.equal(wrong.ok, false);
  assert.match(wrong.reason, /^mismatch/);
  assert.match(verifySignature(header, Buffer.concat([body, Buffer.from(' ')]), secret, { now }).reason, /^mismatch/);
  // stale, both ways, and the tolerance
  for (const at of [now - 301, now + 301]) {
    const r = verifySignature(`t=${at},v1=${sign(secret, at, body)}`, body, secret, { now });
    assert.equal(r.ok, false);
    assert.match(r.reason, /^stale timestamp/);
  }
  assert.ok(verifySignature(`t=${now - 300},v1=${sign(secret, now - 300, body)}`, body, secret, { now }).ok);
  assert.ok(verifySignature(`t=${now - 1000},v1=${sign(secret, now - 1000, body)}`, body, secret, { now, toleranceSec: 3600 }).ok);
  // malformed
  const hex = sign(secret, t, body);
  for (const h of [undefined, '', 'garbage', `v1=${hex}`, `t=${t}`, `t=${t},v1=${hex.toUpperCase()}`,
    `t=${t},v1=${hex.slice(2)}`, `t=abc,v1=${hex}`, `t=${t},t=${t},v1=${hex}`, `t=${t},,v1=${hex}`, `t=-5,v1=${hex}`,
    `${t},${hex}`]) {
    const r = verifySignature(h, body, secret, { now });
    assert.equal(r.ok, false, String(h));
    assert.match(r.reason, /^bad format/, String(h));
  }
  // secret rotation: two v1 entries, either secret passes, neither other does
  const oldSecret = 'whsec_old';
  const two = `t=${t},v1=${sign(oldSecret, t, body)},v1=${sign(secret, t, body)}`;
  assert.ok(verifySignature(two, body, secret, { now }).ok);
  assert.ok(verifySignature(two, body, oldSecret, { now }).ok);
  assert.match(verifySignature(two, body, 'whsec_third', { now }).reason, /^mismatch/);
  // several secrets on the checking side; unknown schemes are ignored
  assert.ok(verifySignature(header, body, ['whsec_x', secret], { now }).ok);
  assert.ok(verifySignature(`t=${t}, v0=abc, v1=${hex}`, body, secret, { now }).ok);
});

test('a signed request recorded by the receiver verifies with its raw body', async (t) => {
  const rx = await receiver(t);
  const body = '{"b":1,  "a":"spacing kept"}';
  const ts = Math.floor(Date.now() / 1000);
  await post(rx, '/hook', body, { headers: { 'X-SCRM-Signature': `t=${ts},v1=${sign('s3cret', ts, body)}`, 'Content-Type': 'application/json' } });
  const [r] = await rx.waitFor('/hook');
  assert.deepEqual(verifySignature(r.headers['x-scrm-signature'], r.raw, 's3cret'), { ok: true, t: ts });
});

test('receivers are independent, and bad input does not break them', async (t) => {
  const [a, b] = await Promise.all([receiver(t), receiver(t)]);
  assert.notEqual(a.port, b.port);
  a.failNext(1, { status: 500 });
  assert.equal((await post(b, '/x', {})).status, 200);
  assert.equal((await post(a, '/x', {})).status, 500);
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 1);
  // garbage, a broken query, a body cut short, an absolute-form target, a huge header
  assert.equal((await rawHttp(a.port, 'NOT HTTP AT ALL\r\n\r\n', { timeoutMs: 1000 })).status, 400);
  const q = await rawHttp(a.port, 'GET /cgi-bin/webhook/send?key=%zz%&&=&key HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(q.status, 200);
  assert.equal(JSON.parse(q.body).errcode, 93000);
  const cut = await rawHttp(a.port, 'POST /cut HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":', { timeoutMs: 100 });
  assert.equal(cut.status, null);
  const abs = await rawHttp(a.port, 'GET http://example.com/abs?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(abs.status, 200);
  const big = await rawHttp(a.port, `GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100000)}\r\n\r\n`);
  assert.equal(big.status, 431);
  await post(a, '/cgi-bin/externalcontact/add_msg_template?access_token=%E0%A4%A', '\u0000\uffff');
  const r = await post(a, '/fine', { still: 'up' });
  assert.equal(r.status, 200);
  assert.ok(a.requests.some((x) => x.path === '/fine'));
});

test('close() ends every socket and timer: a process using the receiver exits at once', async () => {
  const script = `
    const { startReceiver } = await import(process.argv[1]);
    const rx = await startReceiver();
    rx.failFor('/slow', { delayMs: 60000, status: 200 });
    rx.failFor('/hang', { delayMs: Infinity });
    await fetch(rx.url + '/a', { method: 'POST', body: 'x' });
    const slow = fetch(rx.url + '/slow').then((r) => r.status, () => 'aborted');
    const hang = fetch(rx.url + '/hang').then((r) => r.status, () => 'aborted');
    const never = rx.waitFor('/never', { timeoutMs: 60000 }).then(() => 'resolved', (e) => e.message);
    await rx.waitFor((r) => r.path === '/slow' || r.path === '/hang', { count: 2 });
    await rx.close();
    await rx.close();
    console.log(JSON.stringify({ slow: await slow, hang: await hang, never: await never }));
  `;
  const url = new URL('./receiver.mjs', import.meta.url).href;
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 4000);
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  assert.equal(signal, null, `still running after 4 s: ${out} ${err}`);
  assert.equal(code, 0, err);
  const res = JSON.parse(out);
  assert.equal(res.slow, 'aborted');
  assert.equal(res.hang, 'aborted');
  assert.match(res.never, /closed/);
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
});
