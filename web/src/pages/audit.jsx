// The audit log (admin): every write, newest first, filtered by actor, action,
// target and a range of days; filters and the page cursor live in the URL.
// Each entry opens to show who did what to which record, from where, and the
// detail the API recorded, as readable lines.
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { addStrings, t, when } from '../i18n.js';
import { setQuery } from '../router.js';
import { Async, Button, Card, Pager, isAdmin, isoDate, useAsync, useUrlPager } from '../ui.jsx';
import './deliveries.css';
import './audit.css';

addStrings({
  zh: {
    ad_title: '审计日志', ad_intro: '每一次写操作都有记录，最新的在前。', ad_actor: '操作人', ad_actor_ph: 'user:1、token:3 或 cli',
    ad_action: '操作', ad_action_ph: '如 user.create', ad_target_type: '对象类型', ad_target_id: '对象 ID', ad_from: '开始日期',
    ad_to: '结束日期（含）', ad_apply: '筛选', ad_clear: '清除筛选', ad_all: '全部', ad_when: '时间', ad_target: '对象',
    ad_result: '结果', ad_detail: '详情', ad_show: '展开', ad_hide: '收起', ad_none: '没有符合条件的记录', ad_method: '请求',
    ad_ip: '来源地址', ad_status: 'HTTP 状态', ad_no_detail: '无附加信息', ad_same_target: '只看这个对象', ad_same_actor: '只看这个操作人',
    ad_open: '打开', ad_admin_only: '只有管理员可以查看审计日志。', ad_code: '代码', ad_bad_range: '结束日期不能早于开始日期',
    ad_obj_admin: '系统', ad_obj_ambassador: '推广大使', ad_obj_audience: '人群', ad_obj_auth: '登录', ad_obj_channel: '渠道',
    ad_obj_coupon: '优惠券', ad_obj_coupon_template: '券模板', ad_obj_customer: '客户', ad_obj_delivery: '消息投递', ad_obj_group: '社群',
    ad_obj_job: '定时任务', ad_obj_message_channel: '消息通道', ad_obj_order: '订单', ad_obj_reward: '积分商城', ad_obj_settings: '设置',
    ad_obj_sop: 'SOP', ad_obj_tag: '标签', ad_obj_task: '任务', ad_obj_tier: '等级', ad_obj_token: 'API 令牌', ad_obj_user: '用户',
    ad_obj_wallet: '储值', ad_obj_webhook: 'Webhook', ad_obj_demo_data: '演示数据', ad_obj_backup: '备份', ad_obj_redemption: '兑换',
    ad_obj_points: '积分', ad_obj_import: '导入',
    ad_verb_create: '新建', ad_verb_update: '修改', ad_verb_delete: '删除', ad_verb_test: '发送测试消息', ad_verb_run_now: '立即运行',
    ad_verb_retry: '重试', ad_verb_deactivate: '停用', ad_verb_login: '登录', ad_verb_logout: '退出', ad_verb_login_failed: '登录失败',
    ad_verb_evaluate: '重新计算', ad_verb_export: '导出', ad_verb_merge: '合并', ad_verb_tag: '加标签', ad_verb_untag: '移除标签',
    ad_verb_erase: '删除个人资料', ad_verb_checkin: '签到', ad_verb_content: '登记内容', ad_verb_issue: '发放', ad_verb_redeem: '兑换/核销',
    ad_verb_bind: '绑定', ad_verb_upsert: '写入', ad_verb_revoke: '撤销', ad_verb_backup: '备份', ad_verb_clock: '调整时钟',
    ad_verb_activity: '登记活跃', ad_verb_members_add: '添加成员', ad_verb_members_remove: '移除成员', ad_verb_move: '变动',
    ad_verb_points: '积分规则', ad_verb_coupons: '券设置', ad_verb_tier_override: '指定等级', ad_verb_daily: '每日任务',
    ad_verb_update_self: '修改自己的资料', ad_verb_password_reset: '重置密码', ad_verb_load: '载入',
  },
  en: {
    ad_title: 'Audit log', ad_intro: 'Every write is recorded, newest first.', ad_actor: 'Actor', ad_actor_ph: 'user:1, token:3 or cli',
    ad_action: 'Action', ad_action_ph: 'e.g. user.create', ad_target_type: 'Target type', ad_target_id: 'Target id', ad_from: 'From',
    ad_to: 'To (inclusive)', ad_apply: 'Filter', ad_clear: 'Clear filters', ad_all: 'All', ad_when: 'When', ad_target: 'Target',
    ad_result: 'Result', ad_detail: 'Details', ad_show: 'Show', ad_hide: 'Hide', ad_none: 'No entry matches', ad_method: 'Request',
    ad_ip: 'From address', ad_status: 'HTTP status', ad_no_detail: 'No further detail', ad_same_target: 'Only this target',
    ad_same_actor: 'Only this actor', ad_open: 'Open', ad_admin_only: 'Only admins may read the audit log.', ad_code: 'Code',
    ad_bad_range: 'The end date is before the start date',
    ad_obj_admin: 'System', ad_obj_ambassador: 'Ambassador', ad_obj_audience: 'Audience', ad_obj_auth: 'Sign-in', ad_obj_channel: 'Channel',
    ad_obj_coupon: 'Coupon', ad_obj_coupon_template: 'Coupon template', ad_obj_customer: 'Customer', ad_obj_delivery: 'Delivery',
    ad_obj_group: 'Group', ad_obj_job: 'Job', ad_obj_message_channel: 'Message channel', ad_obj_order: 'Order', ad_obj_reward: 'Reward',
    ad_obj_settings: 'Settings', ad_obj_sop: 'SOP', ad_obj_tag: 'Tag', ad_obj_task: 'Task', ad_obj_tier: 'Tier', ad_obj_token: 'API token',
    ad_obj_user: 'User', ad_obj_wallet: 'Wallet', ad_obj_webhook: 'Webhook', ad_obj_demo_data: 'Demo data', ad_obj_backup: 'Backup',
    ad_obj_redemption: 'Redemption', ad_obj_points: 'Points', ad_obj_import: 'Import',
    ad_verb_create: 'created', ad_verb_update: 'changed', ad_verb_delete: 'deleted', ad_verb_test: 'test message sent',
    ad_verb_run_now: 'run by hand', ad_verb_retry: 'retried', ad_verb_deactivate: 'deactivated', ad_verb_login: 'signed in',
    ad_verb_logout: 'signed out', ad_verb_login_failed: 'sign-in failed', ad_verb_evaluate: 're-evaluated', ad_verb_export: 'exported',
    ad_verb_merge: 'merged', ad_verb_tag: 'tagged', ad_verb_untag: 'untagged', ad_verb_erase: 'personal data erased',
    ad_verb_checkin: 'checked in', ad_verb_content: 'content recorded', ad_verb_issue: 'issued', ad_verb_redeem: 'redeemed',
    ad_verb_bind: 'bound', ad_verb_upsert: 'written', ad_verb_revoke: 'revoked', ad_verb_backup: 'backed up', ad_verb_clock: 'clock set',
    ad_verb_activity: 'activity recorded', ad_verb_members_add: 'members added', ad_verb_members_remove: 'members removed',
    ad_verb_move: 'moved', ad_verb_points: 'points rules', ad_verb_coupons: 'coupon settings', ad_verb_tier_override: 'tier set by hand',
    ad_verb_daily: 'daily pass', ad_verb_update_self: 'own profile changed', ad_verb_password_reset: 'password reset', ad_verb_load: 'loaded',
  },
});

const ACTIONS = [
  'admin.backup', 'ambassador.create', 'ambassador.update', 'audience.create', 'audience.delete', 'audience.evaluate', 'audience.export',
  'audience.update', 'auth.login', 'auth.login_failed', 'auth.logout', 'channel.create', 'channel.delete', 'channel.update', 'coupon.issue',
  'coupon.redeem', 'coupon_template.create', 'coupon_template.delete', 'coupon_template.update', 'customer.checkin', 'customer.content',
  'customer.create', 'customer.erase', 'customer.merge', 'customer.tag', 'customer.tier_override', 'customer.untag', 'customer.update',
  'delivery.retry', 'group.activity', 'group.create', 'group.delete', 'group.members_add', 'group.members_remove', 'group.update',
  'job.daily', 'message_channel.create', 'message_channel.delete', 'message_channel.test', 'message_channel.update', 'order.bind',
  'order.upsert', 'reward.create', 'reward.delete', 'reward.redeem', 'reward.update', 'settings.coupons', 'settings.points',
  'sop.create', 'sop.delete', 'sop.run_now', 'sop.update', 'tag.create', 'tag.delete', 'tag.evaluate', 'tag.update', 'task.update',
  'tier.create', 'tier.delete', 'tier.update', 'token.create', 'token.revoke', 'user.create', 'user.deactivate', 'user.update',
  'user.update_self', 'wallet.move', 'webhook.create', 'webhook.delete', 'webhook.update',
];
const TARGET_TYPES = [
  'ambassador', 'audience', 'backup', 'channel', 'coupon', 'coupon_template', 'customer', 'delivery', 'group', 'job', 'message_channel',
  'order', 'redemption', 'reward', 'settings', 'sop', 'tag', 'task', 'tier', 'token', 'user', 'webhook',
];
const FILTERS = ['actor', 'action', 'target_type', 'target_id', 'from', 'to'];

// A label of the page's language when there is one, else the raw text.
function maybe(key, raw) {
  const s = t(key);
  return s === key ? raw : s;
}

export function actionLabel(action) {
  const i = action.indexOf('.');
  if (i < 0) return action;
  const obj = action.slice(0, i);
  const verb = action.slice(i + 1);
  const o = t('ad_obj_' + obj);
  const v = t('ad_verb_' + verb);
  if (o === 'ad_obj_' + obj || v === 'ad_verb_' + verb) return action;
  return `${o} · ${v}`;
}

const targetLabel = (type) => (type ? maybe('ad_obj_' + type, type) : '—');

// Where a target is shown in the dashboard, when it has a page.
function targetHref(type, id) {
  if (!type || !id) return null;
  switch (type) {
    case 'customer': return `/customers/${id}`;
    case 'sop': return `/sops?id=${id}`;
    case 'message_channel': return `/admin/message-channels?id=${id}`;
    case 'webhook': return `/admin/webhooks?id=${id}`;
    case 'delivery': return `/deliveries?id=${id}`;
    case 'channel': return `/channels?id=${id}`;
    case 'token': return '/admin/tokens';
    case 'user': return '/admin/users';
    default: return null;
  }
}

// One value of the detail, readable: lists joined, objects as compact JSON.
function show(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? t('yes') : t('no');
  if (Array.isArray(v)) return v.every((x) => x === null || typeof x !== 'object') ? v.join(', ') : JSON.stringify(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function summary(detail) {
  const keys = Object.keys(detail || {});
  if (keys.length === 0) return '';
  const s = keys.slice(0, 3).map((k) => `${k}: ${show(detail[k])}`).join(' · ');
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

const nextDay = (d) => {
  const x = new Date(d + 'T00:00:00');
  x.setDate(x.getDate() + 1);
  return isoDate(x);
};
const validDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s || '');

export default function Audit({ query }) {
  const admin = isAdmin();
  return (
    <div data-page="audit" class="ad-page">
      <div class="page-head"><h1>{t('ad_title')}</h1></div>
      {admin ? <Log query={query} /> : <Card><p class="muted">{t('ad_admin_only')}</p></Card>}
    </div>
  );
}

function Log({ query }) {
  const f = {};
  for (const k of FILTERS) f[k] = query.get(k) || '';
  if (!/^\d+$/.test(f.target_id)) f.target_id = '';
  if (!validDate(f.from)) f.from = '';
  if (!validDate(f.to)) f.to = '';
  const key = JSON.stringify(f);
  const pager = useUrlPager(query, key);
  const users = useAsync(() => get('/users', { limit: 500 }).then((r) => r.data), []);
  // the end date is inclusive here; the API's "to" is the first moment left out
  const list = useAsync(() => get('/audit-log', { ...f, to: f.to ? nextDay(f.to) : '', cursor: pager.cursor, limit: 50 }), [key, pager.cursor]);
  const [open, setOpen] = useState(() => new Set());
  const toggle = (id) => setOpen((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id); else n.add(id);
    return n;
  });
  const userName = (actor) => {
    const m = /^user:(\d+)$/.exec(actor || '');
    const u = m && users.data && users.data.find((x) => x.id === Number(m[1]));
    return u ? u.display_name || u.username : null;
  };
  const apply = (v) => setQuery({ ...v, cursor: '', page: '' });
  return (
    <Card>
      <p class="muted ad-intro">{t('ad_intro')}</p>
      <Filters f={f} users={users.data} onApply={apply} />
      <Async state={list}>{(d) => (
        <div class={list.loading ? 'dl-stale' : ''} aria-busy={list.loading ? 'true' : 'false'}>
          {d.data.length === 0 ? <p class="empty">{t('ad_none')}</p> : (
            <ol class="ad-list" data-testid="audit-entries">
              {d.data.map((e) => {
                const href = targetHref(e.target_type, e.target_id);
                const isOpen = open.has(e.id);
                const name = e.actor_name || userName(e.actor);
                const bad = e.status && e.status >= 400;
                return (
                  <li key={e.id} class={`ad-entry ${isOpen ? 'open' : ''}`} data-audit={e.id} data-action={e.action}>
                    <div class="ad-row">
                      <time class="ad-when" datetime={e.created_at}>{when(e.created_at)}</time>
                      <span class="ad-actor">
                        <strong>{name || e.actor}</strong>
                        {name && <code class="muted"> {e.actor}</code>}
                      </span>
                      <span class="ad-action">
                        <span>{actionLabel(e.action)}</span> <code class="muted">{e.action}</code>
                      </span>
                      <span class="ad-target">
                        {e.target_type ? (
                          href ? <a href={href}>{targetLabel(e.target_type)}{e.target_id ? ` #${e.target_id}` : ''}</a>
                            : <>{targetLabel(e.target_type)}{e.target_id ? ` #${e.target_id}` : ''}</>
                        ) : '—'}
                      </span>
                      {e.status ? <span class={`badge ${bad ? 'bad' : 'ok'}`}>{e.status}</span> : <span />}
                      <Button class="small ghost ad-toggle" aria-expanded={isOpen ? 'true' : 'false'} onClick={() => toggle(e.id)}>
                        {isOpen ? t('ad_hide') : t('ad_show')}
                      </Button>
                    </div>
                    {!isOpen && summary(e.detail) && <p class="ad-summary muted">{summary(e.detail)}</p>}
                    {isOpen && (
                      <div class="ad-detail" data-audit-detail={e.id}>
                        <dl class="kv dl-kv">
                          <dt>{t('ad_when')}</dt><dd>{when(e.created_at)} <code class="muted">{e.created_at}</code></dd>
                          <dt>{t('ad_actor')}</dt><dd>{name ? `${name} (${e.actor})` : e.actor}</dd>
                          <dt>{t('ad_action')}</dt><dd>{actionLabel(e.action)} <code class="muted">{e.action}</code></dd>
                          <dt>{t('ad_target')}</dt><dd>{targetLabel(e.target_type)}{e.target_id ? ` #${e.target_id}` : ''}</dd>
                          {e.method && <><dt>{t('ad_method')}</dt><dd><code>{e.method} {e.path}</code></dd></>}
                          {e.status ? <><dt>{t('ad_status')}</dt><dd>{e.status}</dd></> : null}
                          {e.ip && <><dt>{t('ad_ip')}</dt><dd>{e.ip}</dd></>}
                          <dt>{t('ad_detail')}</dt>
                          <dd>
                            {Object.keys(e.detail || {}).length === 0 ? <span class="muted">{t('ad_no_detail')}</span> : (
                              <dl class="kv ad-kv">
                                {Object.entries(e.detail).map(([k, v]) => <><dt><code>{k}</code></dt><dd>{show(v)}</dd></>)}
                              </dl>
                            )}
                          </dd>
                        </dl>
                        <p class="ad-links">
                          <a href={`/admin/audit?actor=${encodeURIComponent(e.actor)}`}>{t('ad_same_actor')}</a>
                          {e.target_type && e.target_id && (
                            <a href={`/admin/audit?target_type=${encodeURIComponent(e.target_type)}&target_id=${e.target_id}`}>{t('ad_same_target')}</a>
                          )}
                          {href && <a href={href}>{t('ad_open')}</a>}
                        </p>
                      </div>
                    )}
                  </li>
                );
              })}
            </ol>
          )}
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </div>
      )}</Async>
    </Card>
  );
}

function Filters({ f, users, onApply }) {
  const [v, setV] = useState(f);
  const key = JSON.stringify(f);
  useEffect(() => setV(f), [key]);
  const set = (k) => (e) => { const val = e.currentTarget.value; setV((s) => ({ ...s, [k]: val })); };
  const [bad, setBad] = useState(false);
  const submit = (e) => {
    e.preventDefault();
    if (v.from && v.to && v.to < v.from) { setBad(true); return; }
    setBad(false);
    const out = {};
    for (const k of FILTERS) out[k] = (v[k] || '').trim();
    if (!/^\d+$/.test(out.target_id)) out.target_id = '';
    onApply(out);
  };
  const any = FILTERS.some((k) => f[k]);
  return (
    <form class="filters ad-filters" role="search" onSubmit={submit} novalidate>
      <label class="field">
        <span class="field-label">{t('ad_actor')}</span>
        <input name="actor" list="ad-actors" value={v.actor} onInput={set('actor')} placeholder={t('ad_actor_ph')} autocomplete="off" />
        <datalist id="ad-actors">{(users || []).map((u) => <option value={`user:${u.id}`}>{u.display_name || u.username}</option>)}</datalist>
      </label>
      <label class="field">
        <span class="field-label">{t('ad_action')}</span>
        <input name="action" list="ad-actions" value={v.action} onInput={set('action')} placeholder={t('ad_action_ph')} autocomplete="off" />
        <datalist id="ad-actions">{ACTIONS.map((a) => <option value={a}>{actionLabel(a)}</option>)}</datalist>
      </label>
      <label class="field">
        <span class="field-label">{t('ad_target_type')}</span>
        <select name="target_type" value={v.target_type} onChange={set('target_type')}>
          <option value="">{t('ad_all')}</option>
          {TARGET_TYPES.map((x) => <option value={x}>{targetLabel(x)}</option>)}
          {v.target_type && !TARGET_TYPES.includes(v.target_type) && <option value={v.target_type}>{v.target_type}</option>}
        </select>
      </label>
      <label class="field ad-narrow">
        <span class="field-label">{t('ad_target_id')}</span>
        <input name="target_id" inputMode="numeric" value={v.target_id} onInput={set('target_id')} autocomplete="off" />
      </label>
      <label class="field">
        <span class="field-label">{t('ad_from')}</span>
        <input name="from" type="date" value={v.from} onInput={set('from')} />
      </label>
      <label class="field">
        <span class="field-label">{t('ad_to')}</span>
        <input name="to" type="date" value={v.to} onInput={set('to')} />
      </label>
      <div class="ad-buttons">
        <Button type="submit" class="primary" data-action="apply">{t('ad_apply')}</Button>
        {any && <Button class="ghost" onClick={() => onApply(Object.fromEntries(FILTERS.map((k) => [k, ''])))}>{t('ad_clear')}</Button>}
      </div>
      {bad && <p class="field-error ad-bad" role="alert">{t('ad_bad_range')}</p>}
    </form>
  );
}
