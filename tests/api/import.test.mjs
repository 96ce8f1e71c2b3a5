// POST /api/v1/orders/import and /api/v1/customers/import: NDJSON and CSV
// uploads with good and bad lines mixed (bad lines reported by line number,
// good ones landed), re-runs that change nothing, header checks, large files
// crossing several batches, customer updates matched by phone then unionid,
// Idempotency-Key, content types, auth and audit rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDaemon, assertError, auditAll, httpRequest, sqlite, sqliteJson, listAll, unique } from './lib.mjs';

const d = await fileDaemon();
const opTok = await d.token('operator', 'import-operator');
const viewerTok = await d.token('viewer', 'import-viewer');
const op = { token: opTok };
const viewer = { token: viewerTok };
const NDJSON = 'application/x-ndjson';
const CSV = 'text/csv';
const RESULT_KEYS = ['created', 'error_count', 'errors', 'errors_truncated', 'lines', 'unchanged', 'updated'];

async function upload(kind, type, text, { headers = {}, auth = op, expect = 200 } = {}) {
  const r = await d.req('POST', `/api/v1/${kind}/import`, { ...auth, body: Buffer.from(text), headers: { 'Content-Type': type, ...headers } });
  if (expect) assert.equal(r.status, expect, r.text);
  if (r.status === 200) assert.deepEqual(Object.keys(r.json).sort(), RESULT_KEYS);
  return r;
}
// The error list as [line, code, field] triples.
const errs = (r) => r.json.errors.map((e) => [e.line, e.error.code, e.error.field ?? null]);
// Everything the imports write (not the audit log or the idempotency keys).
const dump = () => sqlite(d.db, '.dump customers orders tags customer_tags customer_events customer_merges channels');
async function customer(body) {
  const r = await d.req('POST', '/api/v1/customers', { ...op, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function findByPhone(phone) {
  const r = await d.req('GET', `/api/v1/customers?q=${phone}&count=true`, viewer);
  assert.equal(r.status, 200);
  assert.ok(r.json.total <= 1, r.text);
  return r.json.data[0];
}
async function ordersOf(platform) {
  const all = await listAll(d, `/api/v1/orders?platform=${platform}`, viewer, { count: true });
  return new Map(all.items.map((o) => [o.external_id, o]));
}
const line = (o) => JSON.stringify(o);
const T = '2026-05-01T09:00:00Z';

test('NDJSON orders: good lines land, bad ones are reported by line number; a re-run changes nothing', async () => {
  const phone = '13811112222';
  const c = await customer({ name: 'Import buyer', phone });
  const P = 'ndj';
  const lines = [
    '\uFEFF' + line({ platform: P, external_id: 'N1', amount_cents: 100, paid_at: T }), // 1 good, after a BOM
    '{"platform":"ndj","external_id":"N2",', // 2 not JSON
    '[1,2,3]', // 3 not an object
    line({ platform: P, external_id: 'N4', amount_cents: 1, paid_at: T, gift: true }), // 4 unknown field
    line({ platform: P, external_id: 'N5', amount_cents: '12', paid_at: T }), // 5 wrong type
    line({ platform: P, external_id: 'N6', amount_cents: -12, paid_at: T }), // 6 negative amount
    line({ platform: P, external_id: 'N7', amount_cents: 1, paid_at: T, buyer_phone: '12' }), // 7 bad phone
    '', // 8 blank: not a record
    line({ platform: P, external_id: 'N9', amount_cents: 900, paid_at: T }) + '\r', // 9 good, CRLF
    line({ platform: P, external_id: 'N10', amount_cents: 1000, paid_at: T, items: [{ sku: 'S1', name: '茶, "特级"', quantity: 2, price_cents: 500 }] }), // 10 good
    line({ platform: P, external_id: 'N11', amount_cents: 1, paid_at: T, items: [{ sku: 'a', price_cents: 1 }, { sku: 'b', price_cents: 1, quantity: 0 }] }), // 11 item path
    '{"platform":"ndj","external_id":"N12","external_id":"again","amount_cents":1,"paid_at":"2026-05-01T09:00:00Z"}', // 12 repeated key
    line({ platform: P, external_id: 'N13', amount_cents: 1300, paid_at: T, buyer_phone: `+86 ${phone}` }), // 13 good, binds
    line({ platform: P, external_id: 'N14', amount_cents: 1, paid_at: T, customer_id: 999999 }), // 14 no such customer
    line({ platform: P, external_id: 'N15', amount_cents: 1500, paid_at: T, customer_id: c.id, status: 'refunded' }), // 15 good
    '{"platform":"ndj","external_id":"N16\\u0000","amount_cents":1,"paid_at":"2026-05-01T09:00:00Z"}', // 16 NUL
    '   \t', // 17 blank
    line({ platform: P, external_id: 'N18', amount_cents: 5 }), // 18 a new order needs paid_at
    '"just a string"', // 19 not an object
    line({ platform: P, external_id: 'N20', amount_cents: 2000, paid_at: '2026-05-02T00:00:00Z', buyer_phone: phone }), // 20 good, no newline at the end
  ];
  const text = lines.join('\n');
  const r = await upload('orders', NDJSON, text);
  assert.deepEqual(errs(r), [
    [2, 'invalid_json', null], [3, 'validation_failed', null], [4, 'validation_failed', 'gift'], [5, 'validation_failed', 'amount_cents'],
    [6, 'validation_failed', 'amount_cents'], [7, 'validation_failed', 'buyer_phone'], [11, 'validation_failed', 'items[1].quantity'],
    [12, 'invalid_json', null], [14, 'validation_failed', 'customer_id'], [16, 'invalid_json', null], [18, 'validation_failed', 'paid_at'],
    [19, 'validation_failed', null],
  ]);
  for (const e of r.json.errors) assert.ok(e.error.message.length > 0);
  assert.deepEqual({ ...r.json, errors: undefined }, { lines: 18, created: 6, updated: 0, unchanged: 0, error_count: 12, errors: undefined, errors_truncated: false });
  // the good lines are there, as sent
  const got = await ordersOf(P);
  assert.deepEqual([...got.keys()].sort(), ['N1', 'N10', 'N13', 'N15', 'N20', 'N9']);
  assert.deepEqual(got.get('N10').items, [{ sku: 'S1', name: '茶, "特级"', quantity: 2, price_cents: 500 }]);
  assert.deepEqual([got.get('N13').customer_id, got.get('N13').bound_by, got.get('N13').buyer_phone], [c.id, 'phone', phone]);
  assert.deepEqual([got.get('N15').customer_id, got.get('N15').status], [c.id, 'refunded']);
  const cg = (await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json;
  assert.deepEqual([cg.order_count, cg.total_spent_cents, cg.first_order_at, cg.last_order_at], [2, 3300, T, '2026-05-02T00:00:00Z']);
  // a second run of the same file: nothing created or updated, the same errors, the database as it was
  const before = dump();
  const again = await upload('orders', NDJSON, text);
  assert.deepEqual({ ...again.json, errors: undefined }, { lines: 18, created: 0, updated: 0, unchanged: 6, error_count: 12, errors: undefined, errors_truncated: false });
  assert.deepEqual(again.json.errors, r.json.errors);
  assert.equal(dump(), before);
  // a file that changes some orders: updated, and the figures follow
  const changed = [line({ platform: P, external_id: 'N13', status: 'refunded' }), line({ platform: P, external_id: 'N20', amount_cents: 2500 }), line({ platform: P, external_id: 'N1' })].join('\n') + '\n';
  const r3 = await upload('orders', NDJSON, changed);
  assert.deepEqual({ ...r3.json, errors: undefined }, { lines: 3, created: 0, updated: 2, unchanged: 1, error_count: 0, errors: undefined, errors_truncated: false });
  const cg2 = (await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json;
  assert.deepEqual([cg2.order_count, cg2.total_spent_cents], [1, 2500]);
  // the same through a chunked upload
  const chunked = await httpRequest(d, 'POST', '/api/v1/orders/import', { ...op, headers: { 'Content-Type': 'application/x-ndjson; charset=utf-8' },
    body: [line({ platform: P, external_id: 'NC1', amount_cents: 1, paid_at: T }) + '\n{"platf', 'orm":"ndj","external_id":"NC2","amount_cents":2,"paid_at":"2026-05-01T09:00:00Z"}\n', 'oops\n'] });
  assert.equal(chunked.status, 200, chunked.text);
  assert.deepEqual([chunked.json.lines, chunked.json.created, chunked.json.errors.map((e) => e.line)], [3, 2, [3]]);
});

test('CSV orders: BOM, CRLF, quoted fields with commas, newlines and Chinese; stray quotes and wrong field counts by line', async () => {
  const P = 'csvo';
  const items = '"[{""sku"":""A,1"",\r\n""name"":""龙井, 特级 \\""明前\\"""",""category"":""茶"",""price_cents"":2000}]"';
  const rows = [
    '\uFEFFplatform,external_id,buyer_phone,amount_cents,status,paid_at,items', // 1 header
    `${P},C2,,1000,paid,2026-01-02T00:00:00Z,`, // 2 good: empty cells are left out
    `${P},C3,"+86 138-0000-0003",2000,paid,2026-01-03T00:00:00Z,${items}`, // 3-4 good: one record on two lines
    `${P},C5,abc,100,paid,2026-01-05T00:00:00Z,`, // 5 bad phone
    `${P},C6,,-5,paid,2026-01-06T00:00:00Z,`, // 6 negative amount
    `${P},C7,,12x,paid,2026-01-07T00:00:00Z,`, // 7 not a number
    `${P},C"8,,100,paid,2026-01-08T00:00:00Z,`, // 8 stray quote
    `${P},C9,,100,paid`, // 9 too few fields
    `"${P}","C10","",300,"paid","2026-01-10T00:00:00Z",""`, // 10 good, every field quoted
    `${P},C11,,100,shipped,2026-01-11T00:00:00Z,`, // 11 bad status
    '', // 12 empty line: not a record
    `${P},C13,,100,paid,2026-01-13T00:00:00Z,"[1]"`, // 13 items[0] is not an object
    `${P},C14,,100,paid,2026-01-14T00:00:00Z,{bad json}`, // 14 items is not JSON
    `"${P}","C15" x,,100,paid,2026-01-15T00:00:00Z,`, // 15 text after a closing quote
    `${P},C16,,100,paid,2026-01-16T00:00:00Z,,extra`, // 16 too many fields
    `${P},C17,13800000017,1700,paid,2026-01-17T00:00:00Z,`, // 17 good, no line end
  ];
  const text = rows.join('\r\n');
  const r = await upload('orders', CSV, text);
  assert.deepEqual(errs(r), [
    [5, 'validation_failed', 'buyer_phone'], [6, 'validation_failed', 'amount_cents'], [7, 'validation_failed', 'amount_cents'],
    [8, 'invalid_csv', null], [9, 'validation_failed', null], [11, 'validation_failed', 'status'], [13, 'validation_failed', 'items[0]'],
    [14, 'validation_failed', 'items'], [15, 'invalid_csv', null], [16, 'validation_failed', null],
  ]);
  assert.deepEqual({ ...r.json, errors: undefined }, { lines: 14, created: 4, updated: 0, unchanged: 0, error_count: 10, errors: undefined, errors_truncated: false });
  const got = await ordersOf(P);
  assert.deepEqual([...got.keys()].sort(), ['C10', 'C17', 'C2', 'C3']);
  assert.deepEqual(got.get('C3').items, [{ sku: 'A,1', name: '龙井, 特级 "明前"', category: '茶', quantity: 1, price_cents: 2000 }]);
  assert.equal(got.get('C3').buyer_phone, '13800000003');
  assert.deepEqual([got.get('C2').buyer_phone, got.get('C2').items, got.get('C2').amount_cents], [null, [], 1000]);
  assert.equal(got.get('C10').amount_cents, 300);
  // again: nothing changes
  const before = dump();
  const again = await upload('orders', 'text/csv; charset=utf-8', text);
  assert.deepEqual({ ...again.json, errors: undefined }, { lines: 14, created: 0, updated: 0, unchanged: 4, error_count: 10, errors: undefined, errors_truncated: false });
  assert.deepEqual(again.json.errors, r.json.errors);
  assert.equal(dump(), before);
  // columns in another order and case, LF line ends, a quote not closed before the end of the file
  const r2 = await upload('orders', CSV, `PAID_AT,Amount_Cents,external_id,platform\n2026-02-01T00:00:00Z,10,C20,${P}\n2026-02-01T00:00:00Z,11,"C21,${P}\n`);
  assert.deepEqual([r2.json.lines, r2.json.created, errs(r2)], [2, 1, [[3, 'invalid_csv', null]]]);
  assert.equal((await ordersOf(P)).get('C20').amount_cents, 10);
});

test('the CSV header: an unknown or repeated column is 422 naming header, and nothing is imported', async () => {
  const P = 'hdr';
  const before = dump();
  const good = `${P},H1,100,2026-01-01T00:00:00Z`;
  for (const header of ['platform,external_id,amount_cents,paid_at,colour', 'platform,external_id,amount_cents,paid_at,platform',
    'platform,external_id,amount,paid_at', 'platform,"external_id,amount_cents,paid_at', 'platform,external_id,amount_cents,paid_at,']) {
    const r = await upload('orders', CSV, `${header}\n${good}\n`, { expect: 422 });
    assertError(r, 422, 'validation_failed', 'header');
  }
  const rc = await upload('customers', CSV, 'name,phone,vip\nA,13800000001,yes\n', { expect: 422 });
  assertError(rc, 422, 'validation_failed', 'header');
  assert.match(rc.json.error.message, /vip/);
  assert.equal(dump(), before);
  // a header alone, or an empty file, is an import of nothing
  for (const [kind, type, text] of [['orders', CSV, 'platform,external_id,amount_cents,paid_at\r\n'], ['orders', CSV, ''], ['orders', NDJSON, ''],
    ['customers', CSV, ''], ['customers', NDJSON, ''], ['customers', CSV, 'name,phone'], ['orders', NDJSON, '\n\n  \n'], ['orders', NDJSON, '\uFEFF']]) {
    const r = await upload(kind, type, text);
    assert.deepEqual(r.json, { lines: 0, created: 0, updated: 0, unchanged: 0, error_count: 0, errors: [], errors_truncated: false }, `${kind} ${type} ${JSON.stringify(text)}`);
  }
  assert.equal(dump(), before);
});

test('imports need an NDJSON or CSV Content-Type (415), auth (401) and the operator role (403)', async () => {
  const text = line({ platform: 'ctype', external_id: 'X1', amount_cents: 1, paid_at: T }) + '\n';
  const before = dump();
  for (const kind of ['orders', 'customers']) {
    for (const type of ['application/json', 'text/plain', 'application/octet-stream', 'text/csvx', 'multipart/form-data; boundary=x']) {
      assertError(await upload(kind, type, text, { expect: 415 }), 415, 'unsupported_media_type');
    }
    // no Content-Type at all
    const none = await fetch(`${d.base}/api/v1/${kind}/import`, { method: 'POST', headers: { Authorization: `Bearer ${opTok}` }, body: Buffer.from(text) });
    assert.equal(none.status, 415);
    assertError(await upload(kind, NDJSON, text, { auth: {}, expect: 401 }), 401, 'unauthorized');
    assertError(await upload(kind, NDJSON, text, { auth: viewer, expect: 403 }), 403, 'forbidden');
    assertError(await upload(kind, NDJSON, text, { auth: { token: 'scrm_nope' }, expect: 401 }), 401, 'unauthorized');
  }
  // application/jsonlines is NDJSON too
  assert.equal((await upload('orders', 'application/jsonlines', text)).json.created, 1);
  assert.notEqual(dump(), before);
});

test('CSV customers: created, updated by phone then unionid, a phone and a unionid of two customers is a conflict line', async () => {
  const e1 = await customer({ name: 'Existing One', phone: '13911119001', email: 'old@example.com' });
  const e2 = await customer({ name: 'Existing Two', unionid: 'oUnionE2' });
  const e3 = await customer({ name: 'Existing Three', phone: '13911119003' });
  const e4 = await customer({ name: 'Existing Four', unionid: 'oUnionE4' });
  const rows = [
    'name,phone,email,unionid,gender,birthday,tags,attrs,stage', // 1
    '"王, 小明",13911110001,wxm@example.com,,m,1990-01-02,vip|新客,"{""city"":""杭州""}",', // 2 good
    '李雷,+86 139-1111-0002,,oU_lilei,,--02-29,,,interested', // 3 good
    'Bad Phone,12,,,,,,,', // 4 bad phone
    '韩梅梅,13911110004,,,,2023-02-29,,,', // 5 bad birthday
    'Attr,13911110005,,,,,,{notjson},', // 6 attrs not JSON
    'Attr2,13911110006,,,,,,[1],', // 7 attrs not an object
    'Nobody,,nobody@example.com,,,,,,', // 8 neither phone nor unionid
    'Existing Renamed,13911119001,new@example.com,,,,,,', // 9 update by phone
    ',13911110009,,oUnionE2,,,,,', // 10 update by unionid: gets a phone
    ',13911119003,,oUnionE4,,,,,', // 11 phone and unionid of two customers
    'too,few', // 12 wrong number of fields
    '多行,13911110010,,,,,,"{""note"":', // 13-14 good: attrs over two lines
    '""第二行""}",',
    'Good Last,13911110011,,,f,,a-tag|b-tag|a-tag,,bogus', // 15 bad stage
    'Good Last,13911110011,,,f,,a-tag|b-tag|a-tag,,', // 16 good
  ];
  const text = rows.join('\n') + '\n';
  const r = await upload('customers', CSV, text);
  assert.deepEqual(errs(r), [
    [4, 'validation_failed', 'phone'], [5, 'validation_failed', 'birthday'], [6, 'validation_failed', 'attrs'], [7, 'validation_failed', 'attrs'],
    [8, 'validation_failed', 'phone'], [11, 'conflict', 'unionid'], [12, 'validation_failed', null], [15, 'validation_failed', 'stage'],
  ]);
  assert.deepEqual({ ...r.json, errors: undefined }, { lines: 14, created: 4, updated: 2, unchanged: 0, error_count: 8, errors: undefined, errors_truncated: false });
  const wxm = await findByPhone('13911110001');
  assert.deepEqual([wxm.name, wxm.email, wxm.gender, wxm.birthday, wxm.attrs], ['王, 小明', 'wxm@example.com', 'm', '1990-01-02', { city: '杭州' }]);
  assert.deepEqual(wxm.tags.map((t) => t.name).sort(), ['vip', '新客'].sort());
  const ll = await findByPhone('13911110002');
  assert.deepEqual([ll.name, ll.unionid, ll.birthday, ll.stage, ll.stage_manual], ['李雷', 'oU_lilei', '--02-29', 'interested', true]);
  assert.deepEqual((await findByPhone('13911110010')).attrs, { note: '第二行' });
  assert.deepEqual((await findByPhone('13911110011')).tags.map((t) => t.name), ['a-tag', 'b-tag']);
  const g1 = (await d.req('GET', `/api/v1/customers/${e1.id}`, viewer)).json;
  assert.deepEqual([g1.name, g1.email, g1.phone], ['Existing Renamed', 'new@example.com', '13911119001']);
  const g2 = (await d.req('GET', `/api/v1/customers/${e2.id}`, viewer)).json;
  assert.deepEqual([g2.name, g2.phone, g2.unionid], ['Existing Two', '13911110009', 'oUnionE2']);
  for (const e of [e3, e4]) assert.deepEqual((await d.req('GET', `/api/v1/customers/${e.id}`, viewer)).json, e);
  for (const p of ['12', '13911110004', '13911110005', '13911110006']) assert.equal(await findByPhone(p), undefined);
  assert.equal((await d.req('GET', '/api/v1/customers?q=nobody%40example.com&count=true', viewer)).json.total, 0);
  // the conflict names the customer that has the phone
  assert.equal(r.json.errors.find((e) => e.line === 11).error.message.includes(String(e3.id)), true);
  // a second run: nothing created or updated, the database as it was
  const before = dump();
  const again = await upload('customers', CSV, text);
  assert.deepEqual({ ...again.json, errors: undefined }, { lines: 14, created: 0, updated: 0, unchanged: 6, error_count: 8, errors: undefined, errors_truncated: false });
  assert.deepEqual(again.json.errors, r.json.errors);
  assert.equal(dump(), before);
  // imported customers pick up the orders waiting for their phone
  const o = await d.req('POST', '/api/v1/orders', { ...op, body: { platform: 'cimp', external_id: 'W1', buyer_phone: '13911110077', amount_cents: 700, paid_at: T } });
  assert.equal(o.json.customer_id, null);
  const r3 = await upload('customers', CSV, 'phone,name\n13911110077,Waiting buyer\n');
  assert.equal(r3.json.created, 1);
  const wb = await findByPhone('13911110077');
  assert.deepEqual([wb.order_count, wb.total_spent_cents, wb.stage], [1, 700, 'converted']);
});

test('NDJSON customers: tags as an array, attrs merged on update, every field checked', async () => {
  const ch = Number(sqlite(d.db, "INSERT INTO channels(name, kind, created_at, updated_at) VALUES ('import-ch', 'qr', 1, 1) RETURNING id;"));
  const lines = [
    line({ name: 'N1', phone: '13922220001', tags: ['ndjson-tag', '会员'], attrs: { k: 1, keep: true }, stage: 'interested', source_channel_id: ch }), // 1
    line({ name: 'N2', unionid: 'oN2', tags: 'not-an-array' }), // 2
    line({ name: 'N3', phone: '13922220003', tags: ['ok', 5] }), // 3
    line({ phone: '13922220004', bogus: 1 }), // 4
    line({ name: 'N5' }), // 5
    line({ phone: '13922220006', source_channel_id: 999999 }), // 6
    line({ phone: '13922220007', owner_user_id: 999999 }), // 7
    line({ phone: '13922220008', gender: 'x' }), // 8
    line({ phone: '13922220009', name: 7 }), // 9
    line({ phone: '13922220001', attrs: { added: 'x' } }), // 10 the first again: attrs merged
    line({ unionid: 'oN11', email: 'bad-email' }), // 11
    line({ unionid: 'oN12', tags: [] }), // 12 good
    line({ phone: '139 2222 0013', name: 'x'.repeat(101) }), // 13
  ];
  const r = await upload('customers', NDJSON, lines.join('\n'));
  assert.deepEqual(errs(r), [
    [2, 'validation_failed', 'tags'], [3, 'validation_failed', 'tags'], [4, 'validation_failed', 'bogus'], [5, 'validation_failed', 'phone'],
    [6, 'validation_failed', 'source_channel_id'], [7, 'validation_failed', 'owner_user_id'], [8, 'validation_failed', 'gender'],
    [9, 'validation_failed', 'name'], [11, 'validation_failed', 'email'], [13, 'validation_failed', 'name'],
  ]);
  assert.deepEqual([r.json.lines, r.json.created, r.json.updated, r.json.unchanged], [13, 2, 1, 0]);
  const n1 = await findByPhone('13922220001');
  assert.deepEqual([n1.name, n1.stage, n1.source_channel_id, n1.attrs], ['N1', 'interested', ch, { k: 1, keep: true, added: 'x' }]);
  assert.deepEqual(n1.tags.map((t) => t.name).sort(), ['ndjson-tag', '会员'].sort());
  assert.equal(await findByPhone('13922220003'), undefined, 'a line with a bad tag was half imported');
  assert.equal((await d.req('GET', '/api/v1/tags?q=ok&count=true', viewer)).json.data.some((t) => t.name === 'ok'), false);
  const before = dump();
  const again = await upload('customers', NDJSON, lines.join('\n'));
  assert.deepEqual([again.json.created, again.json.updated, again.json.unchanged, again.json.error_count], [0, 0, 3, 10]);
  assert.equal(dump(), before);
});

test('3,000 order lines with errors sprinkled in: several batches, exact counts and line numbers, a re-run changes nothing', async () => {
  const P = 'bulk';
  const phones = ['13733330001', '13733330002', '13733330003'];
  const cs = [];
  for (const p of phones) cs.push(await customer({ name: `Bulk ${p}`, phone: p }));
  const out = [];
  const bad = new Map();
  const good = new Map();
  for (let i = 1; i <= 3000; i++) {
    const o = { platform: P, external_id: `B${i}`, amount_cents: i, paid_at: new Date(Date.UTC(2026, 0, 1) + i * 60000).toISOString().replace('.000', '') };
    if (i % 5 === 0) o.buyer_phone = phones[i % 3];
    if (i % 7 === 0) o.status = 'refunded';
    if (i % 97 === 0) { o.amount_cents = -1; bad.set(i, ['validation_failed', 'amount_cents']); }
    if (i % 251 === 0) { out.push(`{"platform":"${P}","external_id":"B${i}",`); bad.set(i, ['invalid_json', null]); continue; }
    if (i % 401 === 0) { o.customer_id = 999999; bad.set(i, ['validation_failed', 'customer_id']); }
    if (!bad.has(i)) good.set(`B${i}`, o);
    out.push(line(o));
  }
  const text = out.join('\n') + '\n';
  const t0 = Date.now();
  const r = await upload('orders', NDJSON, text);
  const ms = Date.now() - t0;
  assert.deepEqual(errs(r), [...bad.entries()].sort((a, b) => a[0] - b[0]).map(([l, [code, field]]) => [l, code, field]));
  assert.deepEqual([r.json.lines, r.json.created, r.json.updated, r.json.unchanged, r.json.error_count, r.json.errors_truncated], [3000, good.size, 0, 0, bad.size, false]);
  const got = await ordersOf(P);
  assert.equal(got.size, good.size);
  for (const [k, o] of good) {
    const g = got.get(k);
    assert.ok(g, k);
    assert.deepEqual([g.amount_cents, g.status, g.paid_at, g.buyer_phone], [o.amount_cents, o.status ?? 'paid', o.paid_at, o.buyer_phone ?? null], k);
  }
  // the bound customers' figures equal a recount of what was sent
  for (const [i, c] of cs.entries()) {
    const mine = [...good.values()].filter((o) => o.buyer_phone === phones[i] && (o.status ?? 'paid') === 'paid');
    const g = (await d.req('GET', `/api/v1/customers/${c.id}`, viewer)).json;
    assert.equal(g.order_count, mine.length);
    assert.equal(g.total_spent_cents, mine.reduce((s, o) => s + o.amount_cents, 0));
    assert.equal(g.first_order_at, mine[0].paid_at);
    assert.equal(g.last_order_at, mine.at(-1).paid_at);
  }
  // again
  const before = dump();
  const again = await upload('orders', NDJSON, text);
  assert.deepEqual([again.json.created, again.json.updated, again.json.unchanged, again.json.error_count], [0, 0, good.size, bad.size]);
  assert.deepEqual(again.json.errors, r.json.errors);
  assert.equal(dump(), before);
  // a CSV of the same orders with every tenth one refunded: those are updates
  const csv = ['platform,external_id,status'];
  let refunds = 0;
  for (const [k, o] of good) {
    const n = Number(k.slice(1));
    const status = n % 10 === 0 ? 'refunded' : (o.status ?? 'paid');
    if (status !== (o.status ?? 'paid')) refunds++;
    csv.push(`${P},${k},${status}`);
  }
  const r3 = await upload('orders', CSV, csv.join('\r\n'));
  assert.deepEqual([r3.json.lines, r3.json.created, r3.json.updated, r3.json.unchanged, r3.json.error_count], [good.size, 0, refunds, good.size - refunds, 0]);
  const recount = sqliteJson(d.db, `SELECT customer_id, count(*) AS n, sum(amount_cents) AS s FROM orders WHERE platform = '${P}' AND status = 'paid' AND customer_id IS NOT NULL GROUP BY customer_id ORDER BY customer_id`);
  for (const row of recount) {
    const g = (await d.req('GET', `/api/v1/customers/${row.customer_id}`, viewer)).json;
    assert.deepEqual([g.order_count, g.total_spent_cents], [row.n, row.s]);
  }
  assert.ok(ms < 30000, `the import took ${ms} ms`);
});

test('more than 1,000 bad lines: error_count counts all, the first 1,000 are listed, errors_truncated; a line over 1 MiB', async () => {
  const lines = [];
  for (let i = 1; i <= 1100; i++) lines.push(i === 1050 ? line({ platform: 'trunc', external_id: 'T1', amount_cents: 1, paid_at: T }) : `bad ${i}`);
  const r = await upload('orders', NDJSON, lines.join('\n'));
  assert.deepEqual([r.json.lines, r.json.created, r.json.error_count, r.json.errors.length, r.json.errors_truncated], [1100, 1, 1099, 1000, true]);
  assert.deepEqual(r.json.errors.map((e) => e.line), Array.from({ length: 1000 }, (_, i) => i + 1));
  // a line longer than 1 MiB is refused on its own; the next line lands
  const long = `{"platform":"trunc","external_id":"LONG","amount_cents":1,"paid_at":"${T}","referral_code":"${'x'.repeat(1100000)}"}`;
  const r2 = await upload('orders', NDJSON, `${long}\n${line({ platform: 'trunc', external_id: 'T2', amount_cents: 2, paid_at: T })}\n`);
  assert.deepEqual([r2.json.lines, r2.json.created, r2.json.error_count, r2.json.errors[0].line], [2, 1, 1, 1]);
  assert.deepEqual([...(await ordersOf('trunc')).keys()].sort(), ['T1', 'T2']);
});

test('Idempotency-Key on imports: a repeat is the first answer and imports nothing; another file with the key is 409', async () => {
  const P = 'idem';
  const text = [line({ platform: P, external_id: 'I1', amount_cents: 1, paid_at: T }), 'bad', line({ platform: P, external_id: 'I2', amount_cents: 2, paid_at: T })].join('\n');
  const key = unique('imp-key');
  const r1 = await upload('orders', NDJSON, text, { headers: { 'Idempotency-Key': key } });
  assert.deepEqual([r1.json.created, r1.json.error_count], [2, 1]);
  const rows = (await auditAll(d, { action: 'order.import' })).length;
  // the orders change in between; the repeat still answers what the first run did
  await d.req('POST', '/api/v1/orders', { ...op, body: { platform: P, external_id: 'I1', status: 'cancelled' } });
  const before = dump();
  const r2 = await upload('orders', NDJSON, text, { headers: { 'Idempotency-Key': key } });
  assert.equal(r2.text, r1.text);
  assert.equal(r2.headers.get('idempotent-replayed'), 'true');
  assert.equal(dump(), before);
  assert.equal((await auditAll(d, { action: 'order.import' })).length, rows);
  assertError(await upload('orders', NDJSON, text + '\n', { headers: { 'Idempotency-Key': key }, expect: 409 }), 409, 'idempotency_mismatch');
  assertError(await upload('orders', CSV, text, { headers: { 'Idempotency-Key': key }, expect: 409 }), 409, 'idempotency_mismatch');
  assertError(await upload('customers', NDJSON, text, { headers: { 'Idempotency-Key': key }, expect: 409 }), 409, 'idempotency_mismatch');
  assert.equal(dump(), before);
  // without the key the same file runs again (and finds the orders in place)
  const r3 = await upload('orders', NDJSON, text);
  assert.deepEqual([r3.json.created, r3.json.updated, r3.json.unchanged], [0, 0, 2]);
  // customers too
  const ck = unique('imp-cust-key');
  const ctext = 'phone,name\n13944440001,Idem Customer\n';
  const c1 = await upload('customers', CSV, ctext, { headers: { 'Idempotency-Key': ck } });
  const c2 = await upload('customers', CSV, ctext, { headers: { 'Idempotency-Key': ck } });
  assert.deepEqual([c1.json.created, c2.text, c2.headers.get('idempotent-replayed')], [1, c1.text, 'true']);
});

test('every import leaves one audit row with its counts', async () => {
  const opId = (await d.req('GET', '/api/v1/me', op)).json.token.id;
  const r = await upload('orders', NDJSON, [line({ platform: 'aud', external_id: 'A1', amount_cents: 1, paid_at: T }), 'x'].join('\n'));
  const c = await upload('customers', CSV, 'phone,name\n13955550001,审计 Import\n13955550002,\n');
  const rows = await auditAll(d, { actor: `token:${opId}`, target_type: 'order', action: 'order.import' });
  assert.deepEqual([rows[0].status, rows[0].method, rows[0].path, rows[0].detail], [200, 'POST', '/api/v1/orders/import', { lines: 2, created: 1, updated: 0, unchanged: 0, errors: 1 }]);
  const crow = (await auditAll(d, { actor: `token:${opId}`, action: 'customer.import' }))[0];
  assert.deepEqual(crow.detail, { lines: 2, created: c.json.created, updated: 0, unchanged: 0, errors: c.json.error_count });
  assert.ok(!JSON.stringify(crow).includes('13955550001'));
  assert.equal(r.json.created, 1);
  // a refused import (bad header) leaves none
  const n = (await auditAll(d, { action: 'customer.import' })).length;
  await upload('customers', CSV, 'phone,wat\n1,2\n', { expect: 422 });
  assert.equal((await auditAll(d, { action: 'customer.import' })).length, n);
});
