// The customer list: search as you type, filters, cursor pages, an optional
// total, and a new customer for writers. Filters, search and the page cursor
// live in the URL so that the page deep-links and survives a reload.
// Also the pieces the profile (customer.jsx) shares: stages, owners, channels,
// the profile fields, the "that phone belongs to" link and idempotent posts.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, get } from '../api.js';
import { addStrings, money, num, t, when } from '../i18n.js';
import { navigate, setQuery } from '../router.js';
import {
  Async, Button, Card, Field, FormError, Modal, Pager, Spinner, Table, canWrite, isAdmin, toast, useAsync, useSubmit, useUrlPager, user,
} from '../ui.jsx';
import './customers.css';

addStrings({
  zh: {
    cu_title: '客户', cu_search: '搜索', cu_search_ph: '姓名、手机号或邮箱开头', cu_searching: '正在搜索…',
    cu_stage: '阶段', cu_tag: '标签', cu_tag_ph: '标签名', cu_owner: '负责人', cu_channel: '来源渠道', cu_all: '全部',
    cu_clear: '清除筛选', cu_count: '统计总数', cu_count_hide: '隐藏总数', cu_total: '共 {n} 位客户', cu_counting: '正在统计…',
    cu_new: '新建客户', cu_name: '姓名', cu_phone: '手机号', cu_email: '邮箱', cu_gender: '性别', cu_birthday: '生日',
    cu_birthday_hint: 'YYYY-MM-DD，或不含年份 --MM-DD', cu_tier: '等级', cu_orders: '订单数', cu_spent: '累计消费',
    cu_points: '积分', cu_last_order: '最近下单', cu_tags: '标签', cu_none_sel: '无', cu_no_match: '没有符合条件的客户',
    cu_gender_m: '男', cu_gender_f: '女', cu_gender_u: '未知', cu_created: '客户已创建', cu_unnamed: '未命名客户',
    cu_exists: '这个手机号（或 unionid）已属于客户 #{id}：', cu_open_existing: '打开该客户', cu_page_of: '第 {n} 页',
    cu_stage_added: '已添加', cu_stage_observing: '观望', cu_stage_interested: '有兴趣', cu_stage_converted: '已转化',
    cu_stage_sharing: '分享', cu_stage_repurchasing: '复购', cu_user_disabled: '（已停用）', cu_me: '（我）',
    cu_empty_profile: '请至少填写姓名或手机号',
  },
  en: {
    cu_title: 'Customers', cu_search: 'Search', cu_search_ph: 'Start of a name, phone or e-mail', cu_searching: 'Searching…',
    cu_stage: 'Stage', cu_tag: 'Tag', cu_tag_ph: 'Tag name', cu_owner: 'Owner', cu_channel: 'Source channel', cu_all: 'All',
    cu_clear: 'Clear filters', cu_count: 'Count them', cu_count_hide: 'Hide the total', cu_total: '{n} customers',
    cu_counting: 'Counting…', cu_new: 'New customer', cu_name: 'Name', cu_phone: 'Phone', cu_email: 'E-mail',
    cu_gender: 'Gender', cu_birthday: 'Birthday', cu_birthday_hint: 'YYYY-MM-DD, or --MM-DD without the year',
    cu_tier: 'Tier', cu_orders: 'Orders', cu_spent: 'Total spent', cu_points: 'Points', cu_last_order: 'Last order',
    cu_tags: 'Tags', cu_none_sel: 'None', cu_no_match: 'No customer matches', cu_gender_m: 'Male', cu_gender_f: 'Female',
    cu_gender_u: 'Unknown', cu_created: 'Customer created', cu_unnamed: 'Unnamed customer',
    cu_exists: 'This phone (or unionid) belongs to customer #{id}: ', cu_open_existing: 'open that customer',
    cu_page_of: 'Page {n}', cu_stage_added: 'Added', cu_stage_observing: 'Observing', cu_stage_interested: 'Interested',
    cu_stage_converted: 'Converted', cu_stage_sharing: 'Sharing', cu_stage_repurchasing: 'Repurchasing',
    cu_user_disabled: ' (deactivated)', cu_me: ' (me)', cu_empty_profile: 'Give at least a name or a phone',
  },
});

export const STAGES = ['added', 'observing', 'interested', 'converted', 'sharing', 'repurchasing'];
export const stageLabel = (s) => (s ? t('cu_stage_' + s) : '—');
const STAGE_BADGE = { converted: 'ok', repurchasing: 'ok', sharing: 'ok', interested: 'warn' };
export function StageBadge({ stage }) {
  return <span class={`badge ${STAGE_BADGE[stage] || ''}`}>{stageLabel(stage)}</span>;
}

export function customerName(c) {
  return (c && c.name) || t('cu_unnamed');
}

// The people a customer can be given to. GET /users is for admins only; the
// others get the operators who own customers (GET /analytics/operators) and
// themselves.
export function useOwners() {
  const admin = isAdmin();
  return useAsync(async () => {
    const me = user();
    let list;
    if (admin) {
      const r = await get('/users', { limit: 500 });
      list = r.data.map((u) => ({ id: u.id, name: u.display_name || u.username, disabled: u.disabled }));
    } else {
      const r = await get('/analytics/operators');
      list = r.operators.filter((o) => o.user_id).map((o) => ({ id: o.user_id, name: o.display_name || o.username }));
    }
    if (me && !list.some((o) => o.id === me.id)) list.push({ id: me.id, name: me.display_name || me.username });
    return list;
  }, [admin]);
}

export function useChannels() {
  return useAsync(() => get('/channels', { limit: 500 }).then((r) => r.data), []);
}

export function ownerName(owners, id) {
  if (id === null || id === undefined) return '—';
  const o = owners && owners.find((x) => x.id === id);
  return o ? o.name : `#${id}`;
}

export function channelName(channels, id) {
  if (id === null || id === undefined) return '—';
  const c = channels && channels.find((x) => x.id === id);
  return c ? c.name : `#${id}`;
}

export function OwnerOptions({ owners, current }) {
  const me = user();
  const list = owners || [];
  return (
    <>
      <option value="">{t('cu_none_sel')}</option>
      {list.filter((o) => !o.disabled || o.id === current).map((o) => (
        <option value={String(o.id)}>{o.name}{o.disabled ? t('cu_user_disabled') : ''}{me && o.id === me.id ? t('cu_me') : ''}</option>
      ))}
      {current && !list.some((o) => o.id === current) && <option value={String(current)}>#{current}</option>}
    </>
  );
}

export function ChannelOptions({ channels, current }) {
  const list = channels || [];
  return (
    <>
      <option value="">{t('cu_none_sel')}</option>
      {list.map((c) => <option value={String(c.id)}>{c.name}</option>)}
      {current && !list.some((c) => c.id === current) && <option value={String(current)}>#{current}</option>}
    </>
  );
}

// A 409 on phone or unionid names the customer who has it: offer a link.
export const isExisting = (error) => error instanceof ApiError && error.status === 409 && !!error.existingId;
export function ExistingLink({ error, text = 'cu_exists' }) {
  if (!isExisting(error)) return null;
  return (
    <p class="cu-exists" role="alert" data-existing={error.existingId}>
      {t(text, { id: error.existingId })}
      <a href={`/customers/${error.existingId}`}>{t('cu_open_existing')}</a>
    </p>
  );
}

// A check made in the browser, shown like the API's own errors.
export function localError(field, message) {
  return new ApiError(422, { error: { code: 'validation_failed', message, field } });
}

// An Idempotency-Key per form and body: a retry of the same request after a
// lost answer replays it; a changed body is a new request.
export function idemKey(base, body) {
  const s = JSON.stringify(body);
  let h = 5381;
  for (let i = 0; i < s.length; i++) h = ((h * 33) ^ s.charCodeAt(i)) >>> 0;
  return `${base}-${h.toString(36)}`;
}
export function postOnce(base, path, body) {
  return api('POST', path, body, { headers: { 'Idempotency-Key': idemKey(base, body) } });
}
export function newBase() {
  return 'web-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
}


// The API takes a q of up to 100 bytes of UTF-8: a longer one is cut, never refused.
function clipBytes(s, max) {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= max) return s;
  let out = '';
  for (const ch of s) {
    if (enc.encode(out + ch).length > max) break;
    out += ch;
  }
  return out;
}

// A text input whose value reaches the URL once the typing pauses (the tags
// page filters with it too).
export function useDebouncedParam(key, value, delay = 250) {
  const [text, setText] = useState(value);
  const sent = useRef(value);
  useEffect(() => {
    if (value !== sent.current) {
      sent.current = value;
      setText(value);
    }
  }, [value]);
  useEffect(() => {
    const v = text.trim();
    if (v === sent.current) return undefined;
    const h = setTimeout(() => {
      sent.current = v;
      setQuery({ [key]: v, cursor: '', page: '' });
    }, delay);
    return () => clearTimeout(h);
  }, [text]);
  return { text, setText, pending: text.trim() !== value };
}

// The profile fields of the new-customer and edit forms.
export function ProfileFields({ form, set, error, owners, channels, withOwner, withStage }) {
  const bind = (k) => ({ name: k, value: form[k], onInput: (e) => set(k, e.currentTarget.value) });
  return (
    <div class="form-row">
      <Field label={t('cu_name')} name="name" error={error}><input {...bind('name')} maxLength={100} autocomplete="off" /></Field>
      <Field label={t('cu_phone')} name="phone" error={error}><input {...bind('phone')} type="tel" inputMode="tel" autocomplete="off" /></Field>
      <Field label={t('cu_email')} name="email" error={error}><input {...bind('email')} type="email" autocomplete="off" /></Field>
      <Field label={t('cu_gender')} name="gender" error={error}>
        <select name="gender" value={form.gender} onChange={(e) => set('gender', e.currentTarget.value)}>
          {['u', 'f', 'm'].map((g) => <option value={g}>{t('cu_gender_' + g)}</option>)}
        </select>
      </Field>
      <Field label={t('cu_birthday')} name="birthday" error={error} hint={t('cu_birthday_hint')}>
        <input {...bind('birthday')} placeholder="1990-03-08" autocomplete="off" />
      </Field>
      {withStage && (
        <Field label={t('cu_stage')} name="stage" error={error}>
          <select name="stage" value={form.stage} onChange={(e) => set('stage', e.currentTarget.value)}>
            {STAGES.map((s) => <option value={s}>{stageLabel(s)}</option>)}
          </select>
        </Field>
      )}
      <Field label={t('cu_channel')} name="source_channel_id" error={error}>
        <select name="source_channel_id" value={form.source_channel_id} onChange={(e) => set('source_channel_id', e.currentTarget.value)}>
          <ChannelOptions channels={channels} current={form.source_channel_id ? Number(form.source_channel_id) : null} />
        </select>
      </Field>
      {withOwner && (
        <Field label={t('cu_owner')} name="owner_user_id" error={error}>
          <select name="owner_user_id" value={form.owner_user_id} onChange={(e) => set('owner_user_id', e.currentTarget.value)}>
            <OwnerOptions owners={owners} current={form.owner_user_id ? Number(form.owner_user_id) : null} />
          </select>
        </Field>
      )}
    </div>
  );
}

export const PROFILE_FIELDS = ['name', 'phone', 'email', 'gender', 'birthday', 'stage', 'source_channel_id', 'owner_user_id'];

function NewCustomer({ onClose, owners, channels }) {
  const me = user();
  const [form, setForm] = useState({
    name: '', phone: '', email: '', gender: 'u', birthday: '', source_channel_id: '',
    owner_user_id: me && me.role === 'operator' ? String(me.id) : '',
  });
  const set = (k, v) => setForm((f) => ({ ...f, [k]: v }));
  const base = useRef(newBase());
  const s = useSubmit(async () => {
    const body = {};
    for (const k of ['name', 'phone', 'email', 'birthday']) if (form[k].trim()) body[k] = form[k].trim();
    if (form.gender !== 'u') body.gender = form.gender;
    if (form.source_channel_id) body.source_channel_id = Number(form.source_channel_id);
    if (form.owner_user_id) body.owner_user_id = Number(form.owner_user_id);
    if (!body.name && !body.phone) throw localError('name', t('cu_empty_profile'));
    const r = await postOnce(base.current, '/customers', body);
    toast(t('cu_created'));
    onClose();
    navigate(`/customers/${r.id}`);
  });
  return (
    <Modal title={t('cu_new')} onClose={onClose} wide>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="new-customer">
        <ProfileFields form={form} set={set} error={s.error} owners={owners} channels={channels} withOwner />
        <ExistingLink error={s.error} />
        <FormError error={isExisting(s.error) ? null : s.error} fields={PROFILE_FIELDS} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('create')}</Button>
        </div>
      </form>
    </Modal>
  );
}

export default function Customers({ query }) {
  const q = query.get('q') || '';
  const tag = query.get('tag') || '';
  const stage = query.get('stage') || '';
  const owner = query.get('owner_user_id') || '';
  const channel = query.get('source_channel_id') || '';
  const counting = query.get('count') === '1';
  const filters = { q, tag, stage, owner_user_id: owner, source_channel_id: channel };
  const filterKey = JSON.stringify(filters);
  const pager = useUrlPager(query, filterKey);
  const search = useDebouncedParam('q', q);
  const tagInput = useDebouncedParam('tag', tag);
  const owners = useOwners();
  const channels = useChannels();
  const tags = useAsync(() => get('/tags', { limit: 500 }).then((r) => r.data), []);
  const apiFilters = { ...filters, q: clipBytes(q, 100) };
  const list = useAsync(() => get('/customers', { ...apiFilters, limit: 50, cursor: pager.cursor }), [filterKey, pager.cursor]);
  const total = useAsync(
    () => (counting ? get('/customers', { ...apiFilters, limit: 1, count: 'true' }).then((r) => r.total) : Promise.resolve(null)),
    [filterKey, counting],
  );
  const [creating, setCreating] = useState(false);
  const setFilter = (k, v) => setQuery({ [k]: v, cursor: '', page: '' });
  const anyFilter = q || tag || stage || owner || channel;
  const busy = search.pending || tagInput.pending || list.loading;

  return (
    <div data-page="customers" class="cu-list">
      <div class="page-head">
        <h1>{t('cu_title')}</h1>
        {canWrite() && <Button class="primary" data-write onClick={() => setCreating(true)}>{t('cu_new')}</Button>}
      </div>
      <Card>
        <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
          <label class="field cu-search-field">
            <span class="field-label">{t('cu_search')}</span>
            <span class="cu-search">
              <input type="search" name="q" value={search.text} placeholder={t('cu_search_ph')} maxLength={100}
                autocomplete="off" onInput={(e) => search.setText(e.currentTarget.value)} />
              <span class="cu-search-spin" aria-hidden={busy ? undefined : 'true'}>{busy && <Spinner label={t('cu_searching')} />}</span>
            </span>
          </label>
          <label class="field">
            <span class="field-label">{t('cu_stage')}</span>
            <select name="stage" value={stage} onChange={(e) => setFilter('stage', e.currentTarget.value)}>
              <option value="">{t('cu_all')}</option>
              {STAGES.map((s) => <option value={s}>{stageLabel(s)}</option>)}
            </select>
          </label>
          <label class="field">
            <span class="field-label">{t('cu_tag')}</span>
            <input name="tag" list="cu-tag-names" value={tagInput.text} placeholder={t('cu_tag_ph')} autocomplete="off"
              onInput={(e) => tagInput.setText(e.currentTarget.value)} />
            <datalist id="cu-tag-names">{(tags.data || []).map((x) => <option value={x.name} />)}</datalist>
          </label>
          <label class="field">
            <span class="field-label">{t('cu_owner')}</span>
            <select name="owner_user_id" value={owner} onChange={(e) => setFilter('owner_user_id', e.currentTarget.value)}>
              <option value="">{t('cu_all')}</option>
              {(owners.data || []).map((o) => <option value={String(o.id)}>{o.name}</option>)}
              {owner && owners.data && !owners.data.some((o) => String(o.id) === owner) && <option value={owner}>#{owner}</option>}
            </select>
          </label>
          <label class="field">
            <span class="field-label">{t('cu_channel')}</span>
            <select name="source_channel_id" value={channel} onChange={(e) => setFilter('source_channel_id', e.currentTarget.value)}>
              <option value="">{t('cu_all')}</option>
              {(channels.data || []).map((c) => <option value={String(c.id)}>{c.name}</option>)}
              {channel && channels.data && !channels.data.some((c) => String(c.id) === channel) && <option value={channel}>#{channel}</option>}
            </select>
          </label>
          {anyFilter && (
            <Button class="ghost" data-action="clear"
              onClick={() => setQuery({ q: '', tag: '', stage: '', owner_user_id: '', source_channel_id: '', cursor: '', page: '' })}>
              {t('cu_clear')}
            </Button>
          )}
        </form>
        <div class="cu-total">
          {counting ? (
            <>
              <span data-testid="customers-total">
                {total.loading ? <><Spinner label={false} /> {t('cu_counting')}</> : total.error ? '' : t('cu_total', { n: num(total.data) })}
              </span>
              <Button class="small ghost" onClick={() => setQuery({ count: '' })}>{t('cu_count_hide')}</Button>
              {total.error && <FormError error={total.error} fields={[]} />}
            </>
          ) : (
            <Button class="small" data-action="count" onClick={() => setQuery({ count: '1' })}>{t('cu_count')}</Button>
          )}
        </div>
        <Async state={list}>{(d) => (
          <div class={list.loading ? 'cu-stale' : undefined} aria-busy={list.loading ? 'true' : 'false'}>
            <Table rows={d.data} stack empty={t('cu_no_match')} onRowClick={(r) => navigate(`/customers/${r.id}`)} columns={[
              { label: t('cu_name'), render: (r) => <a href={`/customers/${r.id}`} data-customer={r.id}>{customerName(r)}</a> },
              { label: t('cu_phone'), render: (r) => r.phone || '—' },
              { label: t('cu_stage'), render: (r) => <StageBadge stage={r.stage} /> },
              { label: t('cu_tier'), render: (r) => r.tier || '—' },
              { label: t('cu_orders'), num: true, render: (r) => num(r.order_count) },
              { label: t('cu_spent'), num: true, render: (r) => money(r.total_spent_cents) },
              { label: t('cu_points'), num: true, render: (r) => num(r.points_balance) },
              { label: t('cu_last_order'), render: (r) => when(r.last_order_at) },
              { label: t('cu_tags'), render: (r) => (r.tags.length ? <span class="cu-tags">{r.tags.map((x) => <span class="tag">{x.name}</span>)}</span> : '—') },
            ]} />
            <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
          </div>
        )}</Async>
      </Card>
      {creating && <NewCustomer onClose={() => setCreating(false)} owners={owners.data} channels={channels.data} />}
    </div>
  );
}
