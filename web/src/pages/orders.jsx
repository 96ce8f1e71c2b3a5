// Orders: the list with its filters (customer, platform, status, unbound) and
// cursor pages, one order's detail with its items (?id=), and for writers a new
// order or an edit (an upsert on platform + external_id), binding an unbound
// order to a customer, and the import of a CSV or NDJSON file of orders or
// customers with a real upload progress bar and the per-line errors.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, get } from '../api.js';
import { addStrings, money, num, t, when } from '../i18n.js';
import { setQuery } from '../router.js';
import {
  Async, Button, Card, ErrorBox, Field, FormError, Modal, Pager, Spinner, Stat, Table, canWrite, toast, useAsync,
  useSubmit, useUrlPager,
} from '../ui.jsx';
import { ExistingLink, customerName, idemKey, isExisting, localError, newBase, postOnce } from './customers.jsx';
import './orders.css';

addStrings({
  zh: {
    or_title: '订单', or_tab_list: '订单列表', or_tab_import: '导入文件', or_new: '新建订单', or_edit: '修改订单',
    or_platform: '平台', or_external_id: '订单号', or_customer: '客户', or_buyer_phone: '下单手机号', or_amount: '金额',
    or_amount_yuan: '金额（元）', or_status: '状态', or_paid_at: '付款时间', or_referral: '推荐码', or_items: '商品',
    or_bound_at: '绑定时间', or_bound_by: '绑定方式', or_created: '创建时间', or_updated: '更新时间', or_customer_id: '客户 ID',
    or_unbound: '未绑定', or_only_unbound: '只看未绑定', or_all: '全部', or_clear: '清除筛选', or_none: '没有符合条件的订单',
    or_st_paid: '已付款', or_st_refunded: '已退款', or_st_cancelled: '已取消',
    or_by_phone: '手机号匹配', or_by_bind: '绑定流程', or_by_customer_id: '随订单指定',
    or_bad_platform: '只能是小写字母、数字和下划线（1 到 32 个）', or_bad_id: '请输入客户 ID（整数）',
    or_detail: '订单详情', or_back_list: '返回订单列表', or_detail_title: '订单 {platform} · {id}', or_open: '查看订单 {id}',
    or_sku: 'SKU', or_item_name: '商品名', or_category: '品类', or_quantity: '数量', or_price: '单价（元）', or_unit_price: '单价', or_subtotal: '小计',
    or_no_items: '没有商品明细', or_add_item: '添加商品', or_remove_item: '移除第 {n} 行', or_item_n: '第 {n} 行',
    or_amount_hint: '留空则按商品小计合计', or_paid_hint: '按本机时区填写', or_customer_id_hint: '可选：直接绑定到这位客户',
    or_phone_hint: '与客户手机号一致时自动绑定', or_referral_hint: 'KOC 推广大使的推荐码，可选',
    or_bad_yuan: '请输入金额（元），最多两位小数', or_bad_qty: '请输入不小于 1 的整数', or_need_amount: '新订单需要金额（或填写商品单价）',
    or_need_paid: '新订单需要付款时间', or_need_sku: '请填写 SKU 或商品名', or_saved_new: '订单已创建', or_saved: '订单已保存',
    or_unchanged: '没有改动', or_bound_other: '这笔订单已绑定给客户 #{id}：', or_status_q: '把订单 {id} 改为“{status}”？',
    or_status_what: '已付款订单退款或取消后，它带来的积分、等级进度和推广佣金都会被扣回。', or_back: '返回',
    or_bind: '绑定客户', or_bind_title: '绑定订单 {id}', or_bind_do: '绑定', or_bind_phone: '客户提供的下单手机号',
    or_bind_phone_hint: '须与订单的下单手机号一致', or_bound_ok: '订单已绑定到客户 #{id}',
    or_pick: '客户：ID、手机号或姓名', or_pick_none: '没有找到客户', or_pick_choose: '选择', or_pick_change: '换一位',
    or_pick_need: '请先选择客户', or_searching: '正在搜索…',
    or_imp_what: '导入内容', or_imp_orders: '订单', or_imp_customers: '客户', or_imp_file: '文件（CSV 或 NDJSON）',
    or_imp_format: '格式', or_imp_auto: '按扩展名判断', or_imp_csv: 'CSV（text/csv）', or_imp_ndjson: 'NDJSON（每行一个 JSON）',
    or_imp_upload: '上传并导入', or_imp_cancel: '取消上传', or_imp_cancelled: '上传已取消', or_imp_need_file: '请选择一个文件',
    or_imp_unknown_fmt: '看不出文件格式，请选择 CSV 或 NDJSON', or_imp_uploading: '正在上传 {pct}（{done} / {total}）',
    or_imp_processing: '上传完成，服务器正在逐行导入…', or_imp_done: '导入完成', or_imp_lines: '读取行数',
    or_imp_created: '新建', or_imp_updated: '更新', or_imp_unchanged: '无变化', or_imp_errors: '出错行数',
    or_imp_err_title: '出错的行', or_imp_line: '行号', or_imp_field: '字段', or_imp_code: '错误类型', or_imp_message: '说明',
    or_imp_truncated: '只列出前 1,000 个错误，共 {n} 行出错。', or_imp_all_good: '所有行都已导入。',
    or_imp_see_orders: '查看订单列表', or_imp_see_customers: '查看客户列表', or_imp_size: '{name}，{size}',
    or_imp_again_hint: '同一文件再导入一次不会重复创建：订单按平台+订单号匹配，客户按手机号、再按 unionid 匹配。',
    or_fmt_title: '文件格式', or_fmt_csv: 'CSV：第一行是表头，列名顺序不限、不区分大小写；空单元格表示不修改该字段；UTF-8 编码（可带 BOM）。行号从表头算起（表头是第 1 行）。',
    or_fmt_ndjson: 'NDJSON：每行一个 JSON 对象，字段与 API 相同；空行跳过。', or_fmt_col: '列', or_fmt_meaning: '含义',
    or_fmt_sample_csv: '下载 CSV 示例', or_fmt_sample_ndjson: '下载 NDJSON 示例', or_fmt_limit: '文件最大 256 MiB；好的行会写入，出错的行逐行报告。',
    or_col_platform: '平台，必填：小写字母、数字、下划线，如 tmall、douyin、jd、wechat、offline',
    or_col_external_id: '平台订单号，必填；与平台一起确定一笔订单（重复导入会更新）',
    or_col_customer_id: '客户 ID（整数），可选：直接绑定到这位客户',
    or_col_buyer_phone: '下单手机号，可选：与某位客户手机号一致时自动绑定',
    or_col_amount_cents: '金额，单位为分（整数），新订单必填',
    or_col_status: 'paid（默认）、refunded 或 cancelled',
    or_col_paid_at: '付款时间，RFC 3339，如 2026-11-20T12:00:00Z 或 2026-11-20T20:00:00+08:00，新订单必填',
    or_col_items: '商品明细，JSON 数组：[{"sku","name","category","quantity","price_cents"}]',
    or_col_referral_code: '推荐码，可选：KOC 推广大使的推荐码',
    or_col_name: '姓名', or_col_phone: '手机号；每行需要手机号或 unionid 之一（用于匹配已有客户）',
    or_col_email: '邮箱', or_col_unionid: '微信 unionid', or_col_gender: 'm、f 或 u',
    or_col_birthday: '生日：YYYY-MM-DD，或不含年份的 --MM-DD', or_col_source_channel_id: '来源渠道 ID（整数）',
    or_col_owner_user_id: '负责人用户 ID（整数）',
    or_col_stage: '阶段：added、observing、interested、converted、sharing、repurchasing',
    or_col_attrs: '自定义属性，JSON 对象，如 {"skin":"dry"}', or_col_tags: '标签名，多个用 | 分隔；只添加不移除，没有的标签会新建',
  },
  en: {
    or_title: 'Orders', or_tab_list: 'Orders', or_tab_import: 'Import a file', or_new: 'New order', or_edit: 'Edit the order',
    or_platform: 'Platform', or_external_id: 'Order number', or_customer: 'Customer', or_buyer_phone: 'Buyer phone',
    or_amount: 'Amount', or_amount_yuan: 'Amount (yuan)', or_status: 'Status', or_paid_at: 'Paid', or_referral: 'Referral code',
    or_items: 'Items', or_bound_at: 'Bound', or_bound_by: 'Bound by', or_created: 'Created', or_updated: 'Updated',
    or_customer_id: 'Customer id', or_unbound: 'unbound', or_only_unbound: 'Unbound only', or_all: 'All',
    or_clear: 'Clear filters', or_none: 'No order matches', or_st_paid: 'paid', or_st_refunded: 'refunded',
    or_st_cancelled: 'cancelled', or_by_phone: 'phone match', or_by_bind: 'binding flow', or_by_customer_id: 'sent with the order',
    or_bad_platform: 'Lower-case letters, digits and _ only (1 to 32)', or_bad_id: 'A customer id (a whole number)',
    or_detail: 'Order', or_back_list: 'Back to the orders', or_detail_title: 'Order {platform} · {id}', or_open: 'Open the order {id}',
    or_sku: 'SKU', or_item_name: 'Name', or_category: 'Category', or_quantity: 'Qty', or_price: 'Price (yuan)', or_unit_price: 'Price', or_subtotal: 'Subtotal',
    or_no_items: 'No items', or_add_item: 'Add an item', or_remove_item: 'Remove line {n}', or_item_n: 'Line {n}',
    or_amount_hint: 'Left empty: the sum of the items', or_paid_hint: 'In this computer\'s time zone',
    or_customer_id_hint: 'Optional: bind the order to this customer', or_phone_hint: 'Bound at once when a customer has this phone',
    or_referral_hint: 'A KOC ambassador\'s code, optional', or_bad_yuan: 'An amount in yuan, at most two decimals',
    or_bad_qty: 'A whole number, 1 or more', or_need_amount: 'A new order needs an amount (or item prices)',
    or_need_paid: 'A new order needs the time it was paid', or_need_sku: 'Give a SKU or a name', or_saved_new: 'Order created',
    or_saved: 'Order saved', or_unchanged: 'Nothing changed', or_bound_other: 'This order is bound to customer #{id}: ',
    or_status_q: 'Mark the order {id} "{status}"?',
    or_status_what: 'A refund or cancellation of a paid order takes back the points, tier progress and commission it earned.',
    or_back: 'Back', or_bind: 'Bind to a customer', or_bind_title: 'Bind the order {id}', or_bind_do: 'Bind',
    or_bind_phone: 'Phone the customer ordered with', or_bind_phone_hint: 'Must be the order\'s buyer phone',
    or_bound_ok: 'Order bound to customer #{id}', or_pick: 'Customer: id, phone or name', or_pick_none: 'No customer found',
    or_pick_choose: 'Choose', or_pick_change: 'Change', or_pick_need: 'Choose a customer first', or_searching: 'Searching…',
    or_imp_what: 'What to import', or_imp_orders: 'Orders', or_imp_customers: 'Customers', or_imp_file: 'File (CSV or NDJSON)',
    or_imp_format: 'Format', or_imp_auto: 'From the file name', or_imp_csv: 'CSV (text/csv)', or_imp_ndjson: 'NDJSON (a JSON object a line)',
    or_imp_upload: 'Upload and import', or_imp_cancel: 'Cancel the upload', or_imp_cancelled: 'Upload cancelled',
    or_imp_need_file: 'Choose a file', or_imp_unknown_fmt: 'Cannot tell the format: choose CSV or NDJSON',
    or_imp_uploading: 'Uploading {pct} ({done} of {total})', or_imp_processing: 'Uploaded; the server imports it line by line…',
    or_imp_done: 'Import finished', or_imp_lines: 'Lines read', or_imp_created: 'Created', or_imp_updated: 'Updated',
    or_imp_unchanged: 'Unchanged', or_imp_errors: 'Lines with errors', or_imp_err_title: 'Lines with errors', or_imp_line: 'Line',
    or_imp_field: 'Field', or_imp_code: 'Error', or_imp_message: 'Message',
    or_imp_truncated: 'Only the first 1,000 errors are listed; {n} lines had errors.', or_imp_all_good: 'Every line was imported.',
    or_imp_see_orders: 'See the orders', or_imp_see_customers: 'See the customers', or_imp_size: '{name}, {size}',
    or_imp_again_hint: 'Importing the same file again creates nothing twice: orders match on platform + order number, customers on phone, then unionid.',
    or_fmt_title: 'File formats', or_fmt_csv: 'CSV: a header row naming the columns, in any order and case; an empty cell leaves the field as it is; UTF-8 (a byte-order mark is fine). Line numbers count the header as line 1.',
    or_fmt_ndjson: 'NDJSON: one JSON object a line, with the fields of the API; blank lines are skipped.', or_fmt_col: 'Column',
    or_fmt_meaning: 'Meaning', or_fmt_sample_csv: 'Download a CSV sample', or_fmt_sample_ndjson: 'Download an NDJSON sample',
    or_fmt_limit: 'Up to 256 MiB; good lines land, bad lines are reported one by one.',
    or_col_platform: 'Platform, required: lower-case letters, digits, _ (tmall, douyin, jd, wechat, offline ...)',
    or_col_external_id: 'The platform\'s order number, required; with the platform it names the order (a repeat updates it)',
    or_col_customer_id: 'Customer id (whole number), optional: binds the order to that customer',
    or_col_buyer_phone: 'The phone it was bought with, optional: bound at once when a customer has it',
    or_col_amount_cents: 'Amount in cents (whole number), required for a new order',
    or_col_status: 'paid (the default), refunded or cancelled',
    or_col_paid_at: 'When it was paid, RFC 3339 such as 2026-11-20T12:00:00Z or 2026-11-20T20:00:00+08:00; required for a new order',
    or_col_items: 'The items, a JSON array: [{"sku","name","category","quantity","price_cents"}]',
    or_col_referral_code: 'Referral code, optional: a KOC ambassador\'s code',
    or_col_name: 'Name', or_col_phone: 'Phone; each line needs a phone or a unionid (to match an existing customer)',
    or_col_email: 'E-mail', or_col_unionid: 'WeChat unionid', or_col_gender: 'm, f or u',
    or_col_birthday: 'Birthday: YYYY-MM-DD, or --MM-DD without the year', or_col_source_channel_id: 'Source channel id (whole number)',
    or_col_owner_user_id: 'Owner\'s user id (whole number)',
    or_col_stage: 'Stage: added, observing, interested, converted, sharing, repurchasing',
    or_col_attrs: 'Attributes, a JSON object such as {"skin":"dry"}', or_col_tags: 'Tag names separated by |; added, never removed; new names make new tags',
  },
});

const PLATFORMS = ['tmall', 'douyin', 'jd', 'wechat', 'offline'];
const STATUSES = ['paid', 'refunded', 'cancelled'];
const STATUS_BADGE = { paid: 'ok', refunded: 'warn', cancelled: 'bad' };
const PLATFORM_RE = /^[a-z0-9_]{1,32}$/;

const ORDER_COLUMNS = ['platform', 'external_id', 'customer_id', 'buyer_phone', 'amount_cents', 'status', 'paid_at', 'items', 'referral_code'];
const CUSTOMER_COLUMNS = ['name', 'phone', 'email', 'unionid', 'gender', 'birthday', 'source_channel_id', 'owner_user_id', 'stage', 'attrs', 'tags'];
const SAMPLES = {
  orders: {
    csv: 'platform,external_id,buyer_phone,amount_cents,status,paid_at,items,referral_code\n'
      + 'tmall,3861520331,13800138000,19900,paid,2026-11-20T12:00:00Z,"[{""sku"":""A-100"",""name"":""面霜"",""quantity"":1,""price_cents"":19900}]",\n'
      + 'tmall,3861520298,,,refunded,,,\n',
    ndjson: '{"platform":"tmall","external_id":"3861520331","buyer_phone":"13800138000","amount_cents":19900,"paid_at":"2026-11-20T12:00:00Z","items":[{"sku":"A-100","name":"面霜","quantity":1,"price_cents":19900}]}\n'
      + '{"platform":"tmall","external_id":"3861520298","status":"refunded"}\n',
  },
  customers: {
    csv: 'phone,name,gender,birthday,stage,tags\n13800138000,王芳,f,--03-08,converted,VIP|复购\n13900139000,李强,m,1990-05-01,,\n',
    ndjson: '{"phone":"13800138000","name":"王芳","tags":["VIP"]}\n{"unionid":"oJ8Xq5m1kD2vR7tYw3Zb9nLc0aPe","gender":"f","attrs":{"skin":"dry"}}\n',
  },
};

export const statusLabel = (s) => (s ? t('or_st_' + s) : '—');
export function StatusBadge({ status }) {
  return <span class={`badge ${STATUS_BADGE[status] || ''}`} data-status={status}>{statusLabel(status)}</span>;
}
const boundBy = (b) => (b ? t('or_by_' + b) : '—');

// yuan text -> cents, NaN when it is not an amount
function parseYuan(s) {
  const v = String(s).trim().replace(/[,，]/g, '');
  if (!/^\d+(\.\d{1,2})?$/.test(v)) return NaN;
  const [i, f = ''] = v.split('.');
  return Number(i) * 100 + Number((f + '00').slice(0, 2));
}
const yuan = (cents) => (cents === null || cents === undefined ? '' : (cents / 100).toFixed(2));

// RFC 3339 <-> the value of a datetime-local input (the browser's zone)
function toLocalInput(iso) {
  const d = iso ? new Date(iso) : new Date();
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocalInput(v) {
  const d = new Date(v);
  if (!v || Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function fileSize(n) {
  if (n < 1024) return `${num(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// A text filter whose value reaches the URL once the typing pauses, and only when valid.
function useTypedParam(key, value, valid) {
  const [text, setText] = useState(value);
  const sent = useRef(value);
  useEffect(() => {
    if (value !== sent.current) {
      sent.current = value;
      setText(value);
    }
  }, [value]);
  const v = text.trim();
  const ok = v === '' || valid(v);
  useEffect(() => {
    if (v === sent.current || !ok) return undefined;
    const h = setTimeout(() => {
      sent.current = v;
      setQuery({ [key]: v, cursor: '', page: '' });
    }, 300);
    return () => clearTimeout(h);
  }, [text]);
  return { text, setText, bad: !ok, pending: ok && v !== value };
}

// ---------------------------------------------------------------- the page

export default function Orders({ query }) {
  const write = canWrite();
  const tab = write && query.get('tab') === 'import' ? 'import' : 'list';
  const id = query.get('id') || '';
  const [version, setVersion] = useState(0);
  const [form, setForm] = useState(null); // {order} to edit, {} for a new one
  const [binding, setBinding] = useState(null);
  const bump = () => setVersion((v) => v + 1);
  return (
    <div data-page="orders" class="or-page">
      <div class="page-head">
        <h1>{t('or_title')}</h1>
        {write && <Button class="primary" data-write data-action="new-order" onClick={() => setForm({})}>{t('or_new')}</Button>}
      </div>
      {write && (
        <div class="tabs" role="tablist">
          {['list', 'import'].map((k) => (
            <button type="button" role="tab" class={tab === k ? 'on' : ''} aria-selected={tab === k ? 'true' : 'false'} data-tab={k}
              onClick={() => setQuery({ tab: k === 'list' ? '' : k, id: '' })}>{t('or_tab_' + k)}</button>
          ))}
        </div>
      )}
      {id ? (
        <OrderDetail key={id} id={id} version={version} write={write} back={listHref(query)}
          onEdit={(o) => setForm({ order: o })} onBind={setBinding} />
      ) : tab === 'import' ? <ImportPanel query={query} /> : (
        <OrderList query={query} version={version} write={write} onBind={setBinding} />
      )}
      {form && (
        <OrderForm order={form.order || null} onClose={() => setForm(null)} onSaved={(o) => {
          setForm(null);
          bump();
          setQuery({ id: o.id });
        }} />
      )}
      {binding && <BindModal order={binding} onClose={() => setBinding(null)} onDone={() => { setBinding(null); bump(); }} />}
    </div>
  );
}

function OrderList({ query, version, write, onBind }) {
  const customerId = query.get('customer_id') || '';
  const platform = query.get('platform') || '';
  const status = query.get('status') || '';
  const unbound = query.get('unbound') === 'true';
  const filters = { customer_id: customerId, platform, status, unbound: unbound ? 'true' : '' };
  const key = JSON.stringify(filters);
  const pager = useUrlPager(query, key);
  const cust = useTypedParam('customer_id', customerId, (v) => /^\d{1,18}$/.test(v));
  const plat = useTypedParam('platform', platform, (v) => PLATFORM_RE.test(v));
  const list = useAsync(() => get('/orders', { ...filters, limit: 50, cursor: pager.cursor }), [key, pager.cursor, version]);
  const setFilter = (k, v) => setQuery({ [k]: v, cursor: '', page: '' });
  const any = customerId || platform || status || unbound;
  const busy = cust.pending || plat.pending || list.loading;
  return (
    <Card>
      <form class="filters or-filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label class={`field ${cust.bad ? 'has-error' : ''}`}>
          <span class="field-label">{t('or_customer_id')}</span>
          <input name="customer_id" inputMode="numeric" autocomplete="off" value={cust.text} onInput={(e) => cust.setText(e.currentTarget.value)} />
          {cust.bad && <span class="field-error" role="alert">{t('or_bad_id')}</span>}
        </label>
        <label class={`field ${plat.bad ? 'has-error' : ''}`}>
          <span class="field-label">{t('or_platform')}</span>
          <input name="platform" list="or-platforms" autocomplete="off" value={plat.text} onInput={(e) => plat.setText(e.currentTarget.value)} />
          <datalist id="or-platforms">{PLATFORMS.map((p) => <option value={p} />)}</datalist>
          {plat.bad && <span class="field-error" role="alert">{t('or_bad_platform')}</span>}
        </label>
        <label class="field">
          <span class="field-label">{t('or_status')}</span>
          <select name="status" value={status} onChange={(e) => setFilter('status', e.currentTarget.value)}>
            <option value="">{t('or_all')}</option>
            {STATUSES.map((s) => <option value={s}>{statusLabel(s)}</option>)}
          </select>
        </label>
        <label class="or-check">
          <input type="checkbox" name="unbound" checked={unbound} onChange={(e) => setFilter('unbound', e.currentTarget.checked ? 'true' : '')} />
          <span>{t('or_only_unbound')}</span>
        </label>
        <span class="or-spin">{busy && <Spinner label={false} />}</span>
        {any && (
          <Button class="ghost" data-action="clear" onClick={() => setQuery({ customer_id: '', platform: '', status: '', unbound: '', cursor: '', page: '' })}>
            {t('or_clear')}
          </Button>
        )}
      </form>
      <Async state={list}>{(d) => (
        <div class={list.loading ? 'or-stale' : ''} aria-busy={list.loading ? 'true' : 'false'}>
          <Table rows={d.data} stack empty={t('or_none')} columns={[
            { label: t('or_platform'), render: (o) => <span class="or-platform">{o.platform}</span> },
            { label: t('or_external_id'), render: (o) => (
              <a href={`/orders?${orderHref(query, o.id)}`} data-order={o.id} aria-label={t('or_open', { id: o.external_id })}><code>{o.external_id}</code></a>
            ) },
            { label: t('or_customer'), render: (o) => <CustomerCell o={o} /> },
            { label: t('or_buyer_phone'), render: (o) => o.buyer_phone || '—' },
            { label: t('or_amount'), num: true, render: (o) => money(o.amount_cents) },
            { label: t('or_status'), render: (o) => <StatusBadge status={o.status} /> },
            { label: t('or_paid_at'), render: (o) => when(o.paid_at) },
            { label: t('or_referral'), render: (o) => (o.referral_code ? <code>{o.referral_code}</code> : '—') },
            ...(write ? [{ label: t('actions'), render: (o) => (o.customer_id === null
              ? <Button class="small" data-write data-action="bind" onClick={() => onBind(o)}>{t('or_bind')}</Button> : '') }] : []),
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </div>
      )}</Async>
    </Card>
  );
}

// the list's query string with ?id= added (filters and page stay)
function orderHref(query, id) {
  const p = new URLSearchParams(query);
  p.set('id', String(id));
  return p.toString();
}

// back from an order to the list as it was (filters, page, tab)
function listHref(query) {
  const p = new URLSearchParams(query);
  p.delete('id');
  const s = p.toString();
  return '/orders' + (s ? '?' + s : '');
}

function CustomerCell({ o }) {
  if (o.customer_id === null || o.customer_id === undefined) return <span class="badge warn" data-unbound>{t('or_unbound')}</span>;
  return <a href={`/customers/${o.customer_id}`} data-customer={o.customer_id}>{o.customer_name || `#${o.customer_id}`}</a>;
}

// ---------------------------------------------------------------- one order

function OrderDetail({ id, version, write, back, onEdit, onBind }) {
  const st = useAsync(() => get(`/orders/${encodeURIComponent(id)}`), [id, version]);
  const o = st.data;
  const title = o ? t('or_detail_title', { platform: o.platform, id: o.external_id }) : t('or_detail');
  return (
    <Card title={title} class="or-detail" actions={<a href={back} data-action="back">← {t('or_back_list')}</a>}>
      <Async state={st}>{(ord) => (
        <div data-order-detail={ord.id}>
          <dl class="kv or-kv">
            <dt>{t('or_platform')}</dt><dd>{ord.platform}</dd>
            <dt>{t('or_external_id')}</dt><dd><code>{ord.external_id}</code></dd>
            <dt>{t('or_status')}</dt><dd><StatusBadge status={ord.status} /></dd>
            <dt>{t('or_amount')}</dt><dd>{money(ord.amount_cents)}</dd>
            <dt>{t('or_paid_at')}</dt><dd>{when(ord.paid_at)}</dd>
            <dt>{t('or_customer')}</dt>
            <dd>{ord.customer_id !== null ? <CustomerLink id={ord.customer_id} /> : <span class="badge warn">{t('or_unbound')}</span>}</dd>
            <dt>{t('or_buyer_phone')}</dt><dd>{ord.buyer_phone || '—'}</dd>
            <dt>{t('or_bound_at')}</dt><dd>{when(ord.bound_at)}</dd>
            <dt>{t('or_bound_by')}</dt><dd>{boundBy(ord.bound_by)}</dd>
            <dt>{t('or_referral')}</dt><dd>{ord.referral_code ? <code>{ord.referral_code}</code> : '—'}</dd>
            <dt>{t('or_created')}</dt><dd>{when(ord.created_at)}</dd>
            <dt>{t('or_updated')}</dt><dd>{when(ord.updated_at)}</dd>
          </dl>
          <h3 class="or-h3">{t('or_items')}</h3>
          <Table rows={ord.items.map((it, i) => ({ ...it, id: i }))} stack empty={t('or_no_items')} columns={[
            { label: t('or_sku'), render: (it) => (it.sku ? <code>{it.sku}</code> : '—') },
            { label: t('or_item_name'), render: (it) => it.name || '—' },
            { label: t('or_category'), render: (it) => it.category || '—' },
            { label: t('or_quantity'), num: true, render: (it) => num(it.quantity) },
            { label: t('or_unit_price'), num: true, render: (it) => money(it.price_cents) },
            { label: t('or_subtotal'), num: true, render: (it) => money(it.price_cents * it.quantity) },
          ]} />
          <div class="form-actions">
            {write && ord.customer_id === null && (
              <Button class="primary" data-write data-action="bind" onClick={() => onBind(ord)}>{t('or_bind')}</Button>
            )}
            {write && <Button data-write data-action="edit" onClick={() => onEdit(ord)}>{t('edit')}</Button>}
          </div>
        </div>
      )}</Async>
    </Card>
  );
}

// The customer's name when it can be read (an erased profile answers 404: the id alone).
function CustomerLink({ id }) {
  const c = useAsync(() => get(`/customers/${id}`).catch(() => null), [id]);
  return (
    <a href={`/customers/${id}`} data-customer={id}>
      {c.data ? `${customerName(c.data)} #${id}` : `#${id}`}
    </a>
  );
}

// ---------------------------------------------------------------- new order / edit (upsert)

const emptyItem = () => ({ sku: '', name: '', category: '', quantity: '1', price: '' });
const blankItem = (it) => !it.sku.trim() && !it.name.trim() && !it.category.trim() && !it.price.trim() && (it.quantity.trim() === '' || it.quantity.trim() === '1');

function OrderForm({ order, onClose, onSaved }) {
  const [f, setF] = useState(() => ({
    platform: order ? order.platform : '', external_id: order ? order.external_id : '',
    buyer_phone: order && order.buyer_phone ? order.buyer_phone : '', customer_id: '',
    amount: order ? yuan(order.amount_cents) : '', status: order ? order.status : 'paid',
    paid_at: toLocalInput(order ? order.paid_at : null), referral_code: order && order.referral_code ? order.referral_code : '',
  }));
  const [items, setItems] = useState(() => (order && order.items.length
    ? order.items.map((it) => ({ sku: it.sku || '', name: it.name || '', category: it.category || '', quantity: String(it.quantity), price: yuan(it.price_cents) }))
    : [emptyItem()]));
  const [confirming, setConfirming] = useState(null);
  const base = useRef(newBase());
  const set = (k) => (e) => { const v = e.currentTarget.value; setF((x) => ({ ...x, [k]: v })); };
  const setItem = (i, k) => (e) => { const v = e.currentTarget.value; setItems((l) => l.map((it, j) => (j === i ? { ...it, [k]: v } : it))); };

  // the body of the upsert, checked here first (errors named like the API's)
  const build = () => {
    const rows = items.filter((it) => !blankItem(it));
    if (rows.length !== items.length) setItems(rows.length ? rows : [emptyItem()]);
    const sent = [];
    rows.forEach((it, i) => {
      const price = parseYuan(it.price);
      if (Number.isNaN(price)) throw localError(`items[${i}].price_cents`, t('or_bad_yuan'));
      const q = it.quantity.trim() === '' ? 1 : Number(it.quantity.trim());
      if (!Number.isInteger(q) || q < 1 || !/^\d+$/.test(it.quantity.trim() || '1')) throw localError(`items[${i}].quantity`, t('or_bad_qty'));
      if (!it.sku.trim() && !it.name.trim()) throw localError(`items[${i}].sku`, t('or_need_sku'));
      const x = { quantity: q, price_cents: price };
      if (it.sku.trim()) x.sku = it.sku.trim();
      if (it.name.trim()) x.name = it.name.trim();
      if (it.category.trim()) x.category = it.category.trim();
      sent.push(x);
    });
    const body = { platform: f.platform.trim(), external_id: f.external_id.trim() };
    if (!order && !PLATFORM_RE.test(body.platform)) throw localError('platform', t('or_bad_platform'));
    let amount = null;
    if (f.amount.trim() !== '') {
      amount = parseYuan(f.amount);
      if (Number.isNaN(amount)) throw localError('amount_cents', t('or_bad_yuan'));
    } else if (sent.length) {
      amount = sent.reduce((s, x) => s + x.price_cents * x.quantity, 0);
    } else if (!order) throw localError('amount_cents', t('or_need_amount'));
    const paid = fromLocalInput(f.paid_at);
    if (!order && !paid) throw localError('paid_at', t('or_need_paid'));
    const phone = f.buyer_phone.trim();
    const ref = f.referral_code.trim();
    const cid = f.customer_id.trim();
    if (cid && !/^\d{1,18}$/.test(cid)) throw localError('customer_id', t('or_bad_id'));
    if (!order) {
      body.amount_cents = amount;
      body.paid_at = paid;
      body.status = f.status;
      if (phone) body.buyer_phone = phone;
      if (ref) body.referral_code = ref;
      if (cid) body.customer_id = Number(cid);
      if (sent.length) body.items = sent;
      return body;
    }
    // an edit sends what changed; the rest keeps its stored value
    if (amount !== null && amount !== order.amount_cents) body.amount_cents = amount;
    if (paid && toLocalInput(paid) !== toLocalInput(order.paid_at)) body.paid_at = paid;
    if (f.status !== order.status) body.status = f.status;
    if (phone !== (order.buyer_phone || '')) body.buyer_phone = phone || null;
    if (ref !== (order.referral_code || '')) body.referral_code = ref || null;
    if (cid) body.customer_id = Number(cid);
    const was = order.items.map((it) => {
      const x = { quantity: it.quantity, price_cents: it.price_cents };
      if (it.sku) x.sku = it.sku;
      if (it.name) x.name = it.name;
      if (it.category) x.category = it.category;
      return x;
    });
    if (JSON.stringify(sent) !== JSON.stringify(was)) body.items = sent;
    return body;
  };

  const s = useSubmit(async (confirmed) => {
    const body = build();
    if (order && Object.keys(body).length === 2) {
      toast(t('or_unchanged'));
      onClose();
      return;
    }
    // a refund or cancellation of a paid order takes its points back: ask first
    if (order && !confirmed && order.status === 'paid' && body.status && body.status !== 'paid') {
      setConfirming(body.status);
      return;
    }
    setConfirming(null);
    const r = await api('POST', '/orders', body, { raw: true, headers: { 'Idempotency-Key': idemKey(base.current, body) } });
    const saved = await r.json();
    toast(r.status === 201 ? t('or_saved_new') : t('or_saved'));
    onSaved(saved);
  });
  const fields = ['platform', 'external_id', 'buyer_phone', 'customer_id', 'amount_cents', 'status', 'paid_at', 'referral_code', 'items'];
  const itemErr = (i) => {
    const e = s.error;
    if (!(e instanceof ApiError) || !e.field) return null;
    const p = `items[${i}]`;
    if (e.field !== p && !e.field.startsWith(p + '.')) return null;
    const known = ['sku', 'name', 'category', 'quantity', 'price_cents'].some((k) => e.field === `${p}.${k}`);
    return known ? null : e;
  };
  // an error about the list itself, or about a line no longer shown
  const itemsErr = s.error instanceof ApiError && s.error.field && (s.error.field === 'items'
    || (/^items\[(\d+)\]/.exec(s.error.field) || [0, -1])[1] >= items.length) ? s.error : null;
  const title = order ? `${t('or_edit')} · ${order.platform} ${order.external_id}` : t('or_new');
  return (
    <Modal title={title} onClose={onClose} wide>
      {confirming ? (
        <div data-confirm-step="status">
          <p><strong>{t('or_status_q', { id: order.external_id, status: statusLabel(confirming) })}</strong></p>
          <p>{t('or_status_what')}</p>
          <FormError error={s.error} fields={[]} />
          <div class="form-actions">
            <Button onClick={() => setConfirming(null)}>{t('or_back')}</Button>
            <Button class="danger" busy={s.busy} data-write data-confirm="yes" onClick={() => s.submit(true)}>{t('confirm')}</Button>
          </div>
        </div>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); s.submit(false); }} novalidate data-form="order">
          <div class="form-row">
            <Field label={t('or_platform')} name="platform" error={s.error}>
              <input name="platform" list="or-platforms-form" value={f.platform} onInput={set('platform')} disabled={!!order} autocomplete="off" required />
              <datalist id="or-platforms-form">{PLATFORMS.map((p) => <option value={p} />)}</datalist>
            </Field>
            <Field label={t('or_external_id')} name="external_id" error={s.error}>
              <input name="external_id" value={f.external_id} onInput={set('external_id')} disabled={!!order} maxLength={128} autocomplete="off" required />
            </Field>
            <Field label={t('or_status')} name="status" error={s.error}>
              <select name="status" value={f.status} onChange={set('status')}>
                {STATUSES.map((x) => <option value={x}>{statusLabel(x)}</option>)}
              </select>
            </Field>
          </div>
          <div class="form-row">
            <Field label={t('or_amount_yuan')} name="amount_cents" error={s.error} hint={t('or_amount_hint')}>
              <input name="amount" inputMode="decimal" value={f.amount} onInput={set('amount')} placeholder="0.00" autocomplete="off" />
            </Field>
            <Field label={t('or_paid_at')} name="paid_at" error={s.error} hint={t('or_paid_hint')}>
              <input name="paid_at" type="datetime-local" value={f.paid_at} onInput={set('paid_at')} />
            </Field>
          </div>
          <div class="form-row">
            <Field label={t('or_buyer_phone')} name="buyer_phone" error={s.error} hint={t('or_phone_hint')}>
              <input name="buyer_phone" type="tel" inputMode="tel" value={f.buyer_phone} onInput={set('buyer_phone')} autocomplete="off" />
            </Field>
            {!(order && order.customer_id !== null) && (
              <Field label={t('or_customer_id')} name="customer_id" error={s.error} hint={t('or_customer_id_hint')}>
                <input name="customer_id" inputMode="numeric" value={f.customer_id} onInput={set('customer_id')} autocomplete="off" />
              </Field>
            )}
            <Field label={t('or_referral')} name="referral_code" error={s.error} hint={t('or_referral_hint')}>
              <input name="referral_code" value={f.referral_code} onInput={set('referral_code')} maxLength={64} autocomplete="off" />
            </Field>
          </div>
          <fieldset class="or-items">
            <legend>{t('or_items')}</legend>
            {itemsErr && <p class="field-error" role="alert" data-field-error="items">{itemsErr.message}</p>}
            {items.map((it, i) => {
              const rowErr = itemErr(i);
              return (
                <div class={`or-item ${rowErr ? 'has-error' : ''}`} data-item={i} key={i}>
                  <span class="or-item-n">{t('or_item_n', { n: i + 1 })}</span>
                  <Field label={t('or_sku')} name={`items[${i}].sku`} error={s.error}>
                    <input name={`items[${i}].sku`} value={it.sku} onInput={setItem(i, 'sku')} maxLength={64} autocomplete="off" />
                  </Field>
                  <Field label={t('or_item_name')} name={`items[${i}].name`} error={s.error}>
                    <input name={`items[${i}].name`} value={it.name} onInput={setItem(i, 'name')} maxLength={200} autocomplete="off" />
                  </Field>
                  <Field label={t('or_category')} name={`items[${i}].category`} error={s.error}>
                    <input name={`items[${i}].category`} value={it.category} onInput={setItem(i, 'category')} maxLength={64} autocomplete="off" />
                  </Field>
                  <Field label={t('or_quantity')} name={`items[${i}].quantity`} error={s.error}>
                    <input name={`items[${i}].quantity`} inputMode="numeric" value={it.quantity} onInput={setItem(i, 'quantity')} autocomplete="off" />
                  </Field>
                  <Field label={t('or_price')} name={`items[${i}].price_cents`} error={s.error}>
                    <input name={`items[${i}].price`} inputMode="decimal" value={it.price} onInput={setItem(i, 'price')} placeholder="0.00" autocomplete="off" />
                  </Field>
                  <button type="button" class="btn ghost small or-item-x" aria-label={t('or_remove_item', { n: i + 1 })} title={t('or_remove_item', { n: i + 1 })}
                    onClick={() => setItems((l) => (l.length > 1 ? l.filter((_, j) => j !== i) : [emptyItem()]))}>×</button>
                  {rowErr && <p class="field-error or-item-err" role="alert" data-field-error={rowErr.field}>{rowErr.field}: {rowErr.message}</p>}
                </div>
              );
            })}
            <Button class="small" onClick={() => setItems((l) => [...l, emptyItem()])}>{t('or_add_item')}</Button>
          </fieldset>
          <ExistingLink error={s.error} text="or_bound_other" />
          <FormError error={isExisting(s.error) ? null : s.error} fields={fields} />
          <div class="form-actions">
            <Button onClick={onClose}>{t('cancel')}</Button>
            <Button type="submit" class="primary" busy={s.busy} data-write>{t('save')}</Button>
          </div>
        </form>
      )}
    </Modal>
  );
}

// ---------------------------------------------------------------- binding

function CustomerPicker({ picked, onPick, error }) {
  const [text, setText] = useState('');
  const [found, setFound] = useState({ loading: false, list: null, error: null });
  const seq = useRef(0);
  useEffect(() => {
    const q = text.trim();
    const n = ++seq.current;
    if (!q) {
      setFound({ loading: false, list: null, error: null });
      return undefined;
    }
    setFound((x) => ({ ...x, loading: true }));
    const h = setTimeout(async () => {
      try {
        const byId = /^\d{1,15}$/.test(q) ? get(`/customers/${q}`).catch(() => null) : Promise.resolve(null);
        const [page, one] = await Promise.all([get('/customers', { q, limit: 8 }), byId]);
        const list = [];
        for (const x of [one, ...page.data]) if (x && !list.some((y) => y.id === x.id)) list.push(x);
        if (n === seq.current) setFound({ loading: false, list, error: null });
      } catch (e) {
        if (n === seq.current) setFound({ loading: false, list: null, error: e });
      }
    }, 250);
    return () => clearTimeout(h);
  }, [text]);
  if (picked) {
    return (
      <Field label={t('or_customer')} name="customer_id" error={error}>
        <span class="or-picked" data-picked={picked.id}>
          <a href={`/customers/${picked.id}`} target="_blank" rel="noopener">{customerName(picked)} #{picked.id}</a>
          <span class="muted">{picked.phone || ''}</span>
          <Button class="small ghost" onClick={() => onPick(null)}>{t('or_pick_change')}</Button>
        </span>
      </Field>
    );
  }
  return (
    <div>
      <Field label={t('or_pick')} name="customer_id" error={error}>
        <span class="or-search">
          <input type="search" name="customer_q" value={text} onInput={(e) => setText(e.currentTarget.value)} autocomplete="off" maxLength={100} />
          <span class="or-spin">{found.loading && <Spinner label={t('or_searching')} />}</span>
        </span>
      </Field>
      <ErrorBox error={found.error} />
      {found.list && (found.list.length === 0 ? <p class="empty">{t('or_pick_none')}</p> : (
        <ul class="or-pick">
          {found.list.map((x) => (
            <li key={x.id}>
              <span><strong>{customerName(x)} #{x.id}</strong> <span class="muted">{x.phone || '—'}</span></span>
              <Button class="small" data-pick={x.id} onClick={() => onPick(x)}>{t('or_pick_choose')}</Button>
            </li>
          ))}
        </ul>
      ))}
    </div>
  );
}

function BindModal({ order, onClose, onDone }) {
  const [picked, setPicked] = useState(null);
  const [phone, setPhone] = useState(order.buyer_phone || '');
  const base = useRef(newBase());
  const s = useSubmit(async () => {
    if (!picked) throw localError('customer_id', t('or_pick_need'));
    const body = { customer_id: picked.id, platform: order.platform, external_id: order.external_id, phone: phone.trim() };
    await postOnce(base.current, '/orders/bind', body);
    toast(t('or_bound_ok', { id: picked.id }));
    onDone();
  });
  return (
    <Modal title={t('or_bind_title', { id: `${order.platform} ${order.external_id}` })} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="bind">
        <p class="muted">{order.platform} · <code>{order.external_id}</code> · {money(order.amount_cents)} · {when(order.paid_at)}</p>
        <CustomerPicker picked={picked} onPick={setPicked} error={s.error} />
        <Field label={t('or_bind_phone')} name="phone" error={s.error} hint={t('or_bind_phone_hint')}>
          <input name="phone" type="tel" inputMode="tel" value={phone} onInput={(e) => setPhone(e.currentTarget.value)} autocomplete="off" required />
        </Field>
        <ExistingLink error={s.error} text="or_bound_other" />
        <FormError error={isExisting(s.error) ? null : s.error} fields={['customer_id', 'phone']} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('or_bind_do')}</Button>
        </div>
      </form>
    </Modal>
  );
}

// ---------------------------------------------------------------- import

function guessFormat(name) {
  const n = (name || '').toLowerCase();
  if (n.endsWith('.csv') || n.endsWith('.txt')) return 'csv';
  if (n.endsWith('.ndjson') || n.endsWith('.jsonl') || n.endsWith('.json')) return 'ndjson';
  return '';
}

// POST the file with XMLHttpRequest, for its upload progress; the CSRF token
// of the session comes from GET /auth/session.
async function uploadFile({ path, file, format, key, onProgress, onSent, xhrRef }) {
  const session = await api('GET', '/auth/session');
  const token = session && session.csrf_token;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhrRef.current = xhr;
    xhr.open('POST', '/api/v1' + path);
    xhr.setRequestHeader('Content-Type', format === 'csv' ? 'text/csv' : 'application/x-ndjson');
    if (token) xhr.setRequestHeader('X-CSRF-Token', token);
    xhr.setRequestHeader('Idempotency-Key', key);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.upload.onload = () => onSent();
    xhr.onload = () => {
      xhrRef.current = null;
      let body = null;
      try { body = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { body = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => { xhrRef.current = null; reject(new ApiError(0, { error: { message: t('error_network') } })); };
    xhr.onabort = () => { xhrRef.current = null; reject(Object.assign(new Error(t('or_imp_cancelled')), { aborted: true })); };
    xhr.send(file);
  });
}

function ImportPanel({ query }) {
  const what = query.get('what') === 'customers' ? 'customers' : 'orders';
  const [file, setFile] = useState(null);
  const [format, setFormat] = useState('auto');
  const [phase, setPhase] = useState({ step: 'idle' }); // idle | sending | processing | done
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const xhr = useRef(null);
  const key = useRef(newBase());
  useEffect(() => () => { if (xhr.current) xhr.current.abort(); }, []);
  const pick = (f) => {
    setFile(f);
    setResult(null);
    setError(null);
    setPhase({ step: 'idle' });
    key.current = newBase(); // a new choice is a new request; a retry of the same one replays
  };
  const busy = phase.step === 'sending' || phase.step === 'processing';
  const start = async () => {
    setError(null);
    setResult(null);
    if (!file) { setError(localError('file', t('or_imp_need_file'))); return; }
    const fmt = format === 'auto' ? guessFormat(file.name) : format;
    if (!fmt) { setError(localError('format', t('or_imp_unknown_fmt'))); return; }
    setPhase({ step: 'sending', loaded: 0, total: file.size });
    try {
      const r = await uploadFile({
        path: `/${what}/import`, file, format: fmt, key: `${key.current}-${what}-${fmt}`, xhrRef: xhr,
        onProgress: (loaded, total) => setPhase((p) => (p.step === 'sending' ? { ...p, loaded, total } : p)),
        onSent: () => setPhase((p) => ({ step: 'processing', loaded: p.total || file.size, total: p.total || file.size })),
      });
      setResult(r);
      setPhase({ step: 'done' });
      toast(t('or_imp_done'));
    } catch (e) {
      setPhase({ step: 'idle' });
      // an answer was given (or the upload stopped): sending again is a new
      // request; after a lost answer (status 0) the same key replays the first
      if (!(e instanceof ApiError && e.status === 0)) key.current = newBase();
      if (e && e.aborted) toast(t('or_imp_cancelled'));
      else setError(e);
    }
  };
  const pct = phase.total ? Math.min(100, Math.round((phase.loaded / phase.total) * 100)) : 0;
  return (
    <div class="or-import" data-testid="import">
      <Card>
        <form onSubmit={(e) => { e.preventDefault(); start(); }} novalidate data-form="import">
          <div class="range or-what" role="group" aria-label={t('or_imp_what')}>
            <span class="field-label">{t('or_imp_what')}</span>
            {['orders', 'customers'].map((w) => (
              <button type="button" class={`chip ${what === w ? 'on' : ''}`} aria-pressed={what === w ? 'true' : 'false'} data-what={w} disabled={busy}
                onClick={() => { setQuery({ what: w === 'orders' ? '' : w }); setResult(null); setError(null); }}>{t('or_imp_' + w)}</button>
            ))}
          </div>
          <div class="form-row">
            <Field label={t('or_imp_file')} name="file" error={error}>
              <input type="file" name="file" accept=".csv,.ndjson,.jsonl,.json,.txt,text/csv,application/x-ndjson" disabled={busy}
                onChange={(e) => pick(e.currentTarget.files && e.currentTarget.files[0] ? e.currentTarget.files[0] : null)} />
            </Field>
            <Field label={t('or_imp_format')} name="format" error={error}>
              <select name="format" value={format} disabled={busy} onChange={(e) => setFormat(e.currentTarget.value)}>
                <option value="auto">{t('or_imp_auto')}{file && guessFormat(file.name) ? ` (${guessFormat(file.name).toUpperCase()})` : ''}</option>
                <option value="csv">{t('or_imp_csv')}</option>
                <option value="ndjson">{t('or_imp_ndjson')}</option>
              </select>
            </Field>
          </div>
          {file && <p class="muted" data-file>{t('or_imp_size', { name: file.name, size: fileSize(file.size) })}</p>}
          {phase.step !== 'idle' && phase.step !== 'done' && (
            <div class="or-progress" data-testid="upload-progress">
              <progress max="100" value={pct} aria-label={t('or_imp_upload')} />
              <span role="status" aria-live="polite">
                {phase.step === 'sending'
                  ? t('or_imp_uploading', { pct: `${pct}%`, done: fileSize(phase.loaded || 0), total: fileSize(phase.total || 0) })
                  : <><Spinner label={false} /> {t('or_imp_processing')}</>}
              </span>
            </div>
          )}
          <FormError error={error} fields={['file', 'format']} />
          <div class="form-actions">
            {phase.step === 'sending' && <Button onClick={() => xhr.current && xhr.current.abort()}>{t('or_imp_cancel')}</Button>}
            <Button type="submit" class="primary" busy={busy} data-write data-action="upload">{t('or_imp_upload')}</Button>
          </div>
        </form>
      </Card>
      {result && <ImportResult result={result} what={what} />}
      <Formats what={what} />
    </div>
  );
}

function ImportResult({ result, what }) {
  const r = result;
  return (
    <Card title={t('or_imp_done')} class="or-result">
      <div class="stats" data-testid="import-result">
        <Stat label={t('or_imp_lines')} value={<span data-count="lines">{num(r.lines)}</span>} />
        <Stat label={t('or_imp_created')} value={<span data-count="created">{num(r.created)}</span>} />
        <Stat label={t('or_imp_updated')} value={<span data-count="updated">{num(r.updated)}</span>} />
        <Stat label={t('or_imp_unchanged')} value={<span data-count="unchanged">{num(r.unchanged)}</span>} />
        <Stat label={t('or_imp_errors')} value={<span data-count="errors" class={r.error_count ? 'or-bad' : ''}>{num(r.error_count)}</span>} />
      </div>
      {r.error_count === 0 ? <p class="muted">{t('or_imp_all_good')}</p> : (
        <>
          <h3 class="or-h3">{t('or_imp_err_title')}</h3>
          <div data-testid="import-errors">
            <Table rows={r.errors.map((e, i) => ({ ...e, id: i }))} stack columns={[
              { label: t('or_imp_line'), num: true, render: (e) => <span data-line={e.line}>{num(e.line)}</span> },
              { label: t('or_imp_field'), render: (e) => (e.error.field ? <code>{e.error.field}</code> : '—') },
              { label: t('or_imp_code'), render: (e) => <code>{e.error.code}</code> },
              { label: t('or_imp_message'), render: (e) => <span class="or-msg">{e.error.message}</span> },
            ]} />
          </div>
          {r.errors_truncated && <p class="muted">{t('or_imp_truncated', { n: num(r.error_count) })}</p>}
        </>
      )}
      <p>
        {what === 'orders'
          ? <a href="/orders">{t('or_imp_see_orders')}</a>
          : <a href="/customers">{t('or_imp_see_customers')}</a>}
      </p>
    </Card>
  );
}

// A link to download a sample file, made in the browser (a blob: URL).
function SampleLink({ text, name, type, label }) {
  const url = useMemo(() => URL.createObjectURL(new Blob([text], { type })), [text, type]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return <a class="btn small" href={url} download={name} data-sample={name}>{label}</a>;
}

function Formats({ what }) {
  const cols = what === 'orders' ? ORDER_COLUMNS : CUSTOMER_COLUMNS;
  const sample = SAMPLES[what];
  return (
    <Card title={t('or_fmt_title')} class="or-formats" actions={(
      <>
        <SampleLink text={sample.csv} name={`${what}-sample.csv`} type="text/csv" label={t('or_fmt_sample_csv')} />
        <SampleLink text={sample.ndjson} name={`${what}-sample.ndjson`} type="application/x-ndjson" label={t('or_fmt_sample_ndjson')} />
      </>
    )}>
      <p>{t('or_fmt_csv')}</p>
      <p>{t('or_fmt_ndjson')}</p>
      <p class="muted">{t('or_fmt_limit')} {t('or_imp_again_hint')}</p>
      <div data-testid="format-columns">
        <Table rows={cols.map((c) => ({ id: c, c }))} stack columns={[
          { label: t('or_fmt_col'), render: (r) => <code>{r.c}</code> },
          { label: t('or_fmt_meaning'), render: (r) => <span class="or-msg">{t('or_col_' + r.c)}</span> },
        ]} />
      </div>
      <pre class="or-sample" aria-label="CSV">{sample.csv}</pre>
      <pre class="or-sample" aria-label="NDJSON">{sample.ndjson}</pre>
    </Card>
  );
}
