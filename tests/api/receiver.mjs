// A real local HTTP peer for the tests of outbound delivery (signed webhooks,
// WeCom group robots, WeCom customer-message tasks). The daemon is pointed at
// its URL; nothing is mocked inside the daemon.
//
//   const rx = await startReceiver();
//   ... configure the daemon with rx.url (webhook target, WeCom API base) ...
//   const [hit] = await rx.waitFor((r) => r.path === '/hook');
//   assert.ok(verifySignature(hit.headers['x-scrm-signature'], hit.raw, secret).ok);
//   await rx.close();
//
// Every request is recorded in rx.requests. Requests to the three WeCom paths
// (/cgi-bin/gettoken, /cgi-bin/externalcontact/add_msg_template,
// /cgi-bin/webhook/send) are answered by rx.wecom, which speaks WeCom's JSON;
// every other path is "generic": answered {"ok":true} unless scripted to fail
// with failNext, failFor or setDefault.
import http from 'node:http';
import crypto from 'node:crypto';

const GETTOKEN = '/cgi-bin/gettoken';
const MSG_TEMPLATE = '/cgi-bin/externalcontact/add_msg_template';
const ROBOT_SEND = '/cgi-bin/webhook/send';
const WECOM_PATHS = new Set([GETTOKEN, MSG_TEMPLATE, ROBOT_SEND]);

const OK_BODY = '{"ok":true}';
const OK_WECOM = { errcode: 0, errmsg: 'ok' };
const WECOM_ERRMSG = {
  [-1]: 'system busy', 40001: 'invalid credential', 40008: 'invalid message type', 40014: 'invalid access_token',
  42001: 'access_token expired', 44004: 'empty content', 45009: 'api freq out of limit', 93000: 'invalid webhook url',
};

// Own property, also for keys such as "__proto__" that come from requests.
function bucket(obj, key) {
  if (!Object.hasOwn(obj, key)) {
    Object.defineProperty(obj, key, { value: [], enumerable: true, writable: true, configurable: true });
  }
  return obj[key];
}

function isStringArray(v) {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function randomId(bytes) {
  return crypto.randomBytes(bytes).toString('base64url');
}

// body: string, Buffer, or anything else (sent as JSON); -> {buf, type}
function encodeBody(body) {
  if (Buffer.isBuffer(body)) return { buf: body, type: 'application/octet-stream' };
  if (typeof body === 'string') {
    let type = 'text/plain; charset=utf-8';
    if (/^\s*[[{]/.test(body)) {
      try { JSON.parse(body); type = 'application/json'; } catch { /* stays text */ }
    }
    return { buf: Buffer.from(body), type };
  }
  return { buf: Buffer.from(JSON.stringify(body === undefined ? null : body)), type: 'application/json' };
}

function summary(r) {
  return `${r.method} ${r.path} -> ${r.status === null ? (r.destroyed ? 'destroyed' : 'no answer') : r.status}`;
}

function toMatcher(pred) {
  if (pred === undefined || pred === null) return () => true;
  if (typeof pred === 'function') return pred;
  if (typeof pred === 'string') return (r) => r.path === pred;
  if (pred instanceof RegExp) return (r) => pred.test(r.path);
  throw new TypeError('a predicate is a function, a path string or a RegExp');
}

// Starts the peer on 127.0.0.1, port 0. opts: maxBodyBytes (default 16 MiB;
// larger request bodies are answered 413).
export async function startReceiver(opts = {}) {
  const { maxBodyBytes = 16 * 1024 * 1024 } = opts;
  const requests = [];
  const sockets = new Set();
  const timers = new Set();
  const waiters = new Set();
  let failQueue = []; // failNext: one answer per entry, for generic requests
  let failRules = []; // failFor: {match, answer, left}
  let generic; // setDefault
  let closed = false;

  const answerOf = ({ status = 500, body = 'fail', delayMs = 0, destroy = false, headers = {} } = {}) =>
    ({ status, body, delayMs, destroy, headers });

  function setDefault({ status = 200, body = status >= 400 ? 'fail' : OK_BODY, delayMs = 0, destroy = false, headers = {} } = {}) {
    generic = answerOf({ status, body, delayMs, destroy, headers });
  }
  setDefault();

  function later(fn, ms) {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
  }

  function notify() {
    for (const w of waiters) w.check();
  }

  // Answer (or not) as ans says; rec.status says what was answered.
  function respond(req, res, rec, ans) {
    const hang = ans.delayMs === Infinity;
    rec.status = ans.destroy || hang ? null : ans.status;
    rec.destroyed = !!ans.destroy;
    rec.delayMs = ans.delayMs;
    let body = ans.body;
    if (typeof body === 'function') {
      try { body = body(rec); } catch (e) { body = `body function threw: ${e && e.message}`; }
    }
    requests.push(rec);
    notify();
    if (hang) return; // until close()
    const act = () => {
      if (res.destroyed || res.writableEnded) return;
      if (ans.destroy) { req.socket.destroy(); return; }
      const { buf, type } = encodeBody(body);
      const headers = { 'Content-Type': type, 'Content-Length': buf.length, ...ans.headers };
      try {
        res.writeHead(ans.status, headers);
        res.end(buf);
      } catch {
        req.socket.destroy(); // e.g. a status writeHead refuses
      }
    };
    if (ans.delayMs > 0) later(act, ans.delayMs);
    else act();
  }

  function genericAnswer(rec) {
    for (const rule of failRules) {
      if (rule.left > 0 && safeMatch(rule.match, rec)) {
        rule.left -= 1;
        rule.hits += 1;
        return rule.answer;
      }
    }
    failRules = failRules.filter((r) => r.left > 0);
    if (failQueue.length) return failQueue.shift();
    return generic;
  }

  function safeMatch(match, rec) {
    try { return !!match(rec); } catch { return false; }
  }

  const wecom = makeWecom();

  function handle(req, res) {
    req.on('error', () => {});
    res.on('error', () => {});
    const url = req.url || '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    let query = {};
    try { query = Object.fromEntries(new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1))); } catch { /* {} */ }
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (closed) { req.socket.destroy(); return; }
      const raw = Buffer.concat(chunks);
      const text = raw.toString('utf8');
      let json;
      if (text.length) {
        try { json = JSON.parse(text); } catch { /* undefined */ }
      }
      const rec = {
        method: req.method, path, query, headers: { ...req.headers }, raw, text, json,
        at: Date.now(), status: null,
      };
      try {
        if (tooLarge) {
          rec.truncated = true;
          respond(req, res, rec, answerOf({ status: 413, body: 'too large' }));
        } else if (WECOM_PATHS.has(path)) {
          rec.wecom = true;
          const ans = wecom.handle(rec);
          rec.errcode = ans.errcode;
          respond(req, res, rec, ans);
        } else {
          respond(req, res, rec, genericAnswer(rec));
        }
      } catch (e) {
        // a bug here must show in the test, not kill the process
        if (!requests.includes(rec)) {
          rec.error = String(e && e.stack);
          respond(req, res, rec, answerOf({ status: 500, body: `receiver error: ${e && e.message}` }));
        }
      }
    });
  }

  const server = http.createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable && !socket.destroyed) {
      const status = err && err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      try { socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`); } catch { /* gone */ }
    }
    socket.destroy();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  server.on('error', () => {});
  const port = server.address().port;

  const rx = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    wecom,

    // Resolves with the matching requests once at least count have arrived
    // (also counting those before the call). pred: function of a request,
    // a path string, a RegExp on the path, or undefined for any request.
    waitFor(pred, { count = 1, timeoutMs = 10000 } = {}) {
      const match = toMatcher(pred);
      return new Promise((resolve, reject) => {
        const w = {
          check() {
            const hits = requests.filter((r) => safeMatch(match, r));
            if (hits.length >= count) { done(); resolve(hits); }
          },
          fail(why) {
            done();
            const hits = requests.filter((r) => safeMatch(match, r));
            const last = requests.slice(-8).map(summary).join('; ') || 'none';
            const what = typeof pred === 'function' ? pred.toString().slice(0, 200) : String(pred);
            reject(new Error(`waitFor: ${why}: ${hits.length} of ${count} wanted request(s) matched ${what}; ` +
              `${requests.length} received in all; last: ${last}`));
          },
        };
        const timer = setTimeout(() => w.fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        function done() { clearTimeout(timer); waiters.delete(w); }
        if (closed) { w.fail('the receiver is closed'); return; }
        waiters.add(w);
        w.check();
      });
    },

    // Forgets the recorded requests (not the scripted failures, not rx.wecom).
    clear() {
      requests.length = 0;
    },

    // The next n generic requests get this answer; queued after earlier failNext
    // calls. answer: {status = 500, body = 'fail' (string, Buffer, JSON value or
    // function of the request), delayMs = 0 (Infinity: never answered until
    // close()), destroy = false (socket destroyed unanswered, after delayMs),
    // headers = {}}.
    failNext(n = 1, answer = {}) {
      const a = answerOf(answer);
      for (let i = 0; i < n; i++) failQueue.push(a);
    },

    // Generic requests matching match (a path string, a RegExp on the path or a
    // function of the request) get this answer, at most times times; before
    // failNext and the default. Returns a function that removes the rule.
    failFor(match, { times = Infinity, ...answer } = {}) {
      const rule = { match: toMatcher(match), answer: answerOf(answer), left: times, hits: 0 };
      failRules.push(rule);
      return () => { rule.left = 0; failRules = failRules.filter((r) => r !== rule); };
    },

    // The answer to every other generic request (body: {"ok":true} below
    // status 400, "fail" from 400); setDefault() restores 200 {"ok":true}.
    setDefault,

    // Drops failNext and failFor scripts and restores the default answer.
    clearFailures() {
      failQueue = [];
      failRules = [];
      setDefault();
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of [...waiters]) w.fail('the receiver was closed');
      const done = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
    },
  };
  return rx;
}

// The WeCom (企业微信) endpoints: access tokens, customer-message tasks and group
// robots, with WeCom's error codes (always HTTP 200 unless scripted).
function makeWecom() {
  const corps = new Map(); // `${corpid}\n${secret}` -> {corpid, secret, expiresIn}
  const robots = new Map(); // key -> {limit, windowMs}
  let failQueue = [];

  const wecom = {
    tokens: new Map(), // token -> {corpid, secret, issuedAt, expiresAt, expired}
    tokenRequests: 0,
    customerMessages: [], // accepted: {at, corpid, token, msgid, body, fail_list}
    customerRejected: [], // {at, token, errcode, errmsg, reason, body}
    robotMessages: {}, // key -> accepted: [{at, msgtype, content, body}]
    robotRejected: {}, // key -> [{at, errcode, errmsg, reason, body}]
    failUserIds: new Set(), // external_userids reported in fail_list, not sent

    // Registers an app secret; gettoken with this pair succeeds. Tokens live
    // expiresIn seconds (also the expires_in answered).
    addCorp(corpid, secret, { expiresIn = 7200 } = {}) {
      corps.set(`${corpid}\n${secret}`, { corpid, secret, expiresIn });
    },

    // Registers a group robot; more than limit accepted messages within any
    // windowMs are refused with 45009 (refused ones do not count).
    addRobot(key, { limit = 20, windowMs = 60000 } = {}) {
      robots.set(key, { limit, windowMs });
      bucket(wecom.robotMessages, key);
      bucket(wecom.robotRejected, key);
    },

    // Every token issued so far is expired (42001); gettoken issues new ones.
    expireTokens() {
      for (const t of wecom.tokens.values()) t.expired = true;
    },

    // The next n WeCom requests (of any WeCom path, or only of path) are not
    // processed and get {errcode, errmsg} (default -1 "system busy"; errmsg
    // defaults to WeCom's for known codes) with HTTP status; a status of 300
    // or more without errcode answers a plain-text error page instead of JSON.
    failNext(n = 1, { errcode, errmsg, status = 200, body, delayMs = 0, destroy = false, path } = {}) {
      let b = body;
      if (b === undefined) {
        if (status >= 300 && errcode === undefined) {
          b = `${status} error`;
        } else {
          const code = errcode === undefined ? -1 : errcode;
          b = { errcode: code, errmsg: errmsg === undefined ? (WECOM_ERRMSG[code] || 'error') : errmsg };
        }
      }
      for (let i = 0; i < n; i++) {
        failQueue.push({ path, errcode: typeof b === 'object' ? b.errcode : undefined, status, body: b, delayMs, destroy, headers: {} });
      }
    },

    // Forgets the recorded messages and the gettoken count (not corps, robots, tokens).
    clear() {
      wecom.tokenRequests = 0;
      wecom.customerMessages.length = 0;
      wecom.customerRejected.length = 0;
      for (const k of Object.keys(wecom.robotMessages)) wecom.robotMessages[k].length = 0;
      for (const k of Object.keys(wecom.robotRejected)) wecom.robotRejected[k].length = 0;
    },

    clearFailures() {
      failQueue = [];
    },

    handle,
  };

  const json = (body) => ({ status: 200, body, errcode: body.errcode, delayMs: 0, destroy: false, headers: {} });
  const err = (errcode, errmsg) => json({ errcode, errmsg });

  function tokenState(t) {
    const tok = t === undefined ? undefined : wecom.tokens.get(t);
    if (t === undefined || t === '') return err(41001, 'access_token missing');
    if (!tok) return err(40014, 'invalid access_token');
    if (tok.expired || Date.now() >= tok.expiresAt) return err(42001, 'access_token expired');
    return null;
  }

  function gettoken(rec) {
    if (rec.method !== 'GET') return err(43001, 'require GET method');
    const { corpid, corpsecret } = rec.query;
    if (!corpid) return err(41002, 'corpid missing');
    if (!corpsecret) return err(41004, 'corpsecret missing');
    const corp = corps.get(`${corpid}\n${corpsecret}`);
    if (!corp) return err(40001, 'invalid credential');
    const now = Date.now();
    // as WeCom does: a token still valid is answered again
    for (const [token, t] of wecom.tokens) {
      if (t.corpid === corpid && t.secret === corpsecret && !t.expired && now < t.expiresAt) {
        return json({ errcode: 0, errmsg: 'ok', access_token: token, expires_in: Math.max(1, Math.floor((t.expiresAt - now) / 1000)) });
      }
    }
    const token = randomId(48);
    wecom.tokens.set(token, { corpid, secret: corpsecret, issuedAt: now, expiresAt: now + corp.expiresIn * 1000, expired: false });
    return json({ errcode: 0, errmsg: 'ok', access_token: token, expires_in: corp.expiresIn });
  }

  function customerMessage(rec) {
    const token = rec.query.access_token;
    const reject = (ans, reason) => {
      wecom.customerRejected.push({ at: rec.at, token, errcode: ans.errcode, errmsg: ans.body.errmsg, reason, body: rec.json });
      return ans;
    };
    if (rec.method !== 'POST') return reject(err(43002, 'require POST method'), 'not POST');
    const bad = tokenState(token);
    if (bad) return reject(bad, 'token');
    const b = rec.json;
    if (!b || typeof b !== 'object' || Array.isArray(b)) return reject(err(40008, 'invalid message type'), 'body is not a JSON object');
    const chatType = b.chat_type === undefined ? 'single' : b.chat_type;
    if (chatType !== 'single' && chatType !== 'group') return reject(err(40008, 'invalid message type'), 'chat_type');
    if (b.sender !== undefined && typeof b.sender !== 'string') return reject(err(40008, 'invalid message type'), 'sender');
    if (chatType === 'single' && (!isStringArray(b.external_userid) || b.external_userid.length === 0)) {
      return reject(err(40008, 'invalid message type'), 'external_userid missing or not a list of strings');
    }
    if (b.text === undefined || b.text === null) return reject(err(44004, 'empty content'), 'text missing');
    if (typeof b.text !== 'object' || Array.isArray(b.text)) return reject(err(40008, 'invalid message type'), 'text is not an object');
    if (b.text.content === undefined || b.text.content === '') return reject(err(44004, 'empty content'), 'text.content missing');
    if (typeof b.text.content !== 'string') return reject(err(40008, 'invalid message type'), 'text.content is not a string');
    const failList = (b.external_userid || []).filter((u) => wecom.failUserIds.has(u));
    const msgid = `msg${randomId(18)}`;
    wecom.customerMessages.push({ at: rec.at, corpid: wecom.tokens.get(token).corpid, token, msgid, body: b, fail_list: failList });
    return json({ errcode: 0, errmsg: 'ok', fail_list: failList, msgid });
  }

  function robotSend(rec) {
    const key = rec.query.key;
    const robot = key === undefined ? undefined : robots.get(key);
    const reject = (ans, reason) => {
      bucket(wecom.robotRejected, key === undefined ? '' : key)
        .push({ at: rec.at, errcode: ans.errcode, errmsg: ans.body.errmsg, reason, body: rec.json });
      return ans;
    };
    if (!robot) return reject(err(93000, 'invalid webhook url'), 'unknown key');
    if (rec.method !== 'POST') return reject(err(43002, 'require POST method'), 'not POST');
    const b = rec.json;
    const malformed = (reason) => reject(err(40008, 'invalid message type'), reason);
    if (!b || typeof b !== 'object' || Array.isArray(b)) return malformed('body is not a JSON object');
    if (b.msgtype !== 'text' && b.msgtype !== 'markdown') return malformed(`msgtype ${JSON.stringify(b.msgtype)}`);
    const part = b[b.msgtype];
    if (!part || typeof part !== 'object' || Array.isArray(part)) return malformed(`${b.msgtype} is not an object`);
    if (part.content === undefined || part.content === '') return reject(err(44004, 'empty content'), 'content missing');
    if (typeof part.content !== 'string') return malformed('content is not a string');
    if (b.msgtype === 'text') {
      for (const f of ['mentioned_list', 'mentioned_mobile_list']) {
        if (part[f] !== undefined && !isStringArray(part[f])) return malformed(`${f} is not a list of strings`);
      }
    }
    const sent = bucket(wecom.robotMessages, key);
    const since = rec.at - robot.windowMs;
    if (sent.filter((m) => m.at > since).length >= robot.limit) {
      return reject(err(45009, 'api freq out of limit'), `more than ${robot.limit} in ${robot.windowMs} ms`);
    }
    sent.push({ at: rec.at, msgtype: b.msgtype, content: part.content, body: b });
    return json({ ...OK_WECOM });
  }

  function handle(rec) {
    if (rec.path === GETTOKEN) wecom.tokenRequests += 1;
    const i = failQueue.findIndex((f) => f.path === undefined || f.path === rec.path);
    if (i >= 0) {
      const [f] = failQueue.splice(i, 1);
      rec.injected = true;
      const entry = { at: rec.at, errcode: f.errcode, errmsg: f.body && f.body.errmsg, reason: 'failNext', injected: true, body: rec.json };
      if (rec.path === ROBOT_SEND) bucket(wecom.robotRejected, rec.query.key === undefined ? '' : rec.query.key).push(entry);
      if (rec.path === MSG_TEMPLATE) wecom.customerRejected.push({ ...entry, token: rec.query.access_token });
      return f;
    }
    if (rec.path === GETTOKEN) return gettoken(rec);
    if (rec.path === MSG_TEMPLATE) return customerMessage(rec);
    return robotSend(rec);
  }

  return wecom;
}

// Checks a webhook signature header "t=<unix seconds>,v1=<hex>[,v1=<hex>...]":
// v1 is the lower-case hex HMAC-SHA256 of "<t>.<raw body>" with secret (a
// string or Buffer, or an array of them); any v1 matching any secret passes.
// Other keys (v0, ...) are ignored. Returns {ok: true, t} or {ok: false,
// reason}, reason starting with "bad format", "stale timestamp" or "mismatch".
export function verifySignature(header, rawBody, secret, { toleranceSec = 300, now = Date.now() / 1000 } = {}) {
  const bad = (why) => ({ ok: false, reason: `bad format: ${why}` });
  if (typeof header !== 'string' || header === '') return bad('no signature header');
  let tText;
  const sigs = [];
  for (const part of header.split(',').map((p) => p.trim())) {
    const i = part.indexOf('=');
    if (i <= 0) return bad(`${JSON.stringify(part)} is not key=value`);
    const k = part.slice(0, i);
    const v = part.slice(i + 1);
    if (k === 't') {
      if (tText !== undefined) return bad('more than one t');
      if (!/^\d{1,12}$/.test(v)) return bad(`t=${JSON.stringify(v)} is not unix seconds`);
      tText = v;
    } else if (k === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(v)) return bad(`v1=${JSON.stringify(v)} is not 64 lower-case hex digits`);
      sigs.push(Buffer.from(v, 'hex'));
    }
  }
  if (tText === undefined) return bad('no t');
  if (!sigs.length) return bad('no v1');
  const t = Number(tText);
  if (Math.abs(now - t) > toleranceSec) {
    return { ok: false, reason: `stale timestamp: t=${t} is ${Math.round(now - t)} s from now (tolerance ${toleranceSec} s)` };
  }
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : Buffer.from(rawBody || []);
  const payload = Buffer.concat([Buffer.from(`${tText}.`), body]);
  let ok = false;
  for (const s of [].concat(secret)) {
    const expected = crypto.createHmac('sha256', s).update(payload).digest();
    for (const sig of sigs) if (crypto.timingSafeEqual(sig, expected)) ok = true;
  }
  return ok ? { ok: true, t } : { ok: false, reason: `mismatch: none of ${sigs.length} v1 signature(s) matches` };
}
