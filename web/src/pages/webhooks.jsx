// Event webhooks (admin): tell an integration what happens as it happens.
// Create, edit, switch off and delete them; a generated signing secret is shown
// once; ?id= opens one with its deliveries (status filter and page in the URL).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, del, get, patch, post } from '../api.js';
import { addStrings, t, when } from '../i18n.js';
import { navigate, setQuery } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, Field, FieldGroup, FormError, Modal, OnceBox, Pager, Table, isAdmin, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import { DELIVERY_STATUSES, DeliveriesTable } from './deliveries.jsx';

addStrings({
  zh: {
    wh_title: 'Webhook', wh_intro: '有事件发生时，以签名 JSON POST 通知你的系统（X-SCRM-Signature、X-SCRM-Delivery、X-SCRM-Event）。',
    wh_new: '新建 Webhook', wh_edit: '编辑 Webhook', wh_url: '接收地址', wh_events: '事件', wh_all_events: '全部事件（*）',
    wh_secret: '签名密钥', wh_secret_hint: '至少 16 个字符；留空则自动生成并只显示一次', wh_secret_keep: '留空则保留现有密钥；填写则替换',
    wh_enabled: '启用', wh_status: '状态', wh_on: '启用中', wh_off: '已停用', wh_enable: '启用', wh_disable: '停用',
    wh_secret_once: '签名密钥只显示这一次，请立即复制：', wh_created: 'Webhook 已创建', wh_deleted: 'Webhook 已删除',
    wh_delete_q: '删除 Webhook {url}？尚未发出的通知不再发送。', wh_back: '返回 Webhook 列表', wh_deliveries: '投递记录',
    wh_updated: '更新时间', wh_nothing: '没有改动', wh_pick_events: '请至少选择一个事件', wh_admin_only: '只有管理员可以管理 Webhook。',
    wh_toggled_on: '已启用', wh_toggled_off: '已停用', wh_n_events: '{n} 个事件',
    wh_ev_customer_created: '新客户', wh_ev_customer_updated: '客户资料修改', wh_ev_customer_merged: '客户合并', wh_ev_order_created: '新订单',
    wh_ev_order_bound: '订单绑定', wh_ev_checkin: '签到', wh_ev_coupon_issued: '发券', wh_ev_coupon_redeemed: '用券',
    wh_ev_points_changed: '积分变动', wh_ev_wallet_changed: '储值变动', wh_ev_tag_added: '添加标签', wh_ev_tag_removed: '移除标签',
    wh_ev_audience_entered: '进入人群', wh_ev_audience_left: '离开人群', wh_ev_stage_changed: '阶段变化', wh_ev_tier_changed: '等级变化',
    wh_ev_content_added: '发布内容', wh_ev_reward_redeemed: '积分兑换', wh_ev_group_joined: '加入社群', wh_ev_group_left: '退出社群',
  },
  en: {
    wh_title: 'Webhooks', wh_intro: 'When something happens, your system is told by a signed JSON POST (X-SCRM-Signature, X-SCRM-Delivery, X-SCRM-Event).',
    wh_new: 'New webhook', wh_edit: 'Edit webhook', wh_url: 'Receiving address', wh_events: 'Events', wh_all_events: 'All events (*)',
    wh_secret: 'Signing secret', wh_secret_hint: '16 characters or more; empty: one is generated and shown once',
    wh_secret_keep: 'Empty: keep the current secret; filled in: replace it', wh_enabled: 'Enabled', wh_status: 'Status', wh_on: 'on',
    wh_off: 'off', wh_enable: 'Switch on', wh_disable: 'Switch off', wh_secret_once: 'The signing secret is shown only this once; copy it now:',
    wh_created: 'Webhook created', wh_deleted: 'Webhook deleted', wh_delete_q: 'Delete the webhook {url}? Notices not sent yet will not be.',
    wh_back: 'Back to the webhooks', wh_deliveries: 'Deliveries', wh_updated: 'Updated', wh_nothing: 'Nothing changed',
    wh_pick_events: 'Choose at least one event', wh_admin_only: 'Only admins manage webhooks.', wh_toggled_on: 'Switched on',
    wh_toggled_off: 'Switched off', wh_n_events: '{n} events',
    wh_ev_customer_created: 'New customer', wh_ev_customer_updated: 'Profile changed', wh_ev_customer_merged: 'Profiles merged',
    wh_ev_order_created: 'New order', wh_ev_order_bound: 'Order bound', wh_ev_checkin: 'Check-in', wh_ev_coupon_issued: 'Coupon issued',
    wh_ev_coupon_redeemed: 'Coupon used', wh_ev_points_changed: 'Points changed', wh_ev_wallet_changed: 'Wallet changed',
    wh_ev_tag_added: 'Tag added', wh_ev_tag_removed: 'Tag removed', wh_ev_audience_entered: 'Entered an audience',
    wh_ev_audience_left: 'Left an audience', wh_ev_stage_changed: 'Stage changed', wh_ev_tier_changed: 'Tier changed',
    wh_ev_content_added: 'Content posted', wh_ev_reward_redeemed: 'Points redeemed', wh_ev_group_joined: 'Joined a group',
    wh_ev_group_left: 'Left a group',
  },
});

export const WEBHOOK_EVENTS = [
  'customer.created', 'customer.updated', 'customer.merged', 'order.created', 'order.bound', 'checkin', 'coupon.issued',
  'coupon.redeemed', 'points.changed', 'wallet.changed', 'tag.added', 'tag.removed', 'audience.entered', 'audience.left',
  'stage.changed', 'tier.changed', 'content.added', 'reward.redeemed', 'group.joined', 'group.left',
];
const evLabel = (e) => (e === '*' ? t('wh_all_events') : t('wh_ev_' + e.replace(/\./g, '_')));
const invalid = (field, message) => new ApiError(422, { error: { code: 'validation_failed', message, field } });

function Events({ events }) {
  if (events.includes('*')) return <span class="tag">{t('wh_all_events')}</span>;
  if (events.length > 4) return <span class="tag" title={events.join(', ')}>{t('wh_n_events', { n: events.length })}</span>;
  return <span class="wh-events">{events.map((e) => <span class="tag" title={e}>{evLabel(e)}</span>)}</span>;
}

function StatusBadge({ w }) {
  return <span class={`badge ${w.enabled ? 'ok' : ''}`}>{w.enabled ? t('wh_on') : t('wh_off')}</span>;
}

export default function Webhooks({ query }) {
  const id = /^\d+$/.test(query.get('id') || '') ? query.get('id') : '';
  const [form, setForm] = useState(null);
  const [version, setVersion] = useState(0);
  const [secret, setSecret] = useState(null);
  const admin = isAdmin();
  const bump = () => setVersion((v) => v + 1);
  const remove = async (w) => {
    await del(`/webhooks/${w.id}`);
    toast(t('wh_deleted'));
    bump();
    if (String(w.id) === id) setQuery({ id: '', status: '', cursor: '', page: '' });
  };
  return (
    <div data-page="webhooks" class="wh-page">
      <div class="page-head">
        <h1>{t('wh_title')}</h1>
        {admin && <Button class="primary" data-write data-action="new-webhook" onClick={() => setForm({})}>{t('wh_new')}</Button>}
      </div>
      {!admin ? <Card><p class="muted">{t('wh_admin_only')}</p></Card> : id ? (
        <Detail key={id} id={id} query={query} version={version} secret={secret && String(secret.id) === id ? secret.secret : null}
          onEdit={(w) => setForm(w)} onDelete={remove} onChanged={bump} onHideSecret={() => setSecret(null)}
          onLeave={() => setSecret((x) => (x && String(x.id) === id ? null : x))} />
      ) : <List query={query} version={version} onEdit={(w) => setForm(w)} onDelete={remove} />}
      {form && (
        <WebhookForm hook={form.id ? form : null} onClose={() => setForm(null)} onSaved={(w, created) => {
          setForm(null);
          if (created && w.secret) setSecret({ id: w.id, secret: w.secret });
          bump();
          navigate(`/admin/webhooks?id=${w.id}`);
        }} />
      )}
    </div>
  );
}

function List({ query, version, onEdit, onDelete }) {
  const pager = useUrlPager(query, 'wh');
  const list = useAsync(() => get('/webhooks', { cursor: pager.cursor, limit: 50 }), [pager.cursor, version]);
  return (
    <Card>
      <p class="muted">{t('wh_intro')}</p>
      <Async state={list}>{(d) => (
        <>
          <Table rows={d.data} stack onRowClick={(w) => navigate(`/admin/webhooks?id=${w.id}`)} columns={[
            { label: t('wh_url'), render: (w) => <a href={`/admin/webhooks?id=${w.id}`} class="mc-url" data-webhook={w.id}>{w.url}</a> },
            { label: t('wh_events'), render: (w) => <Events events={w.events} /> },
            { label: t('wh_status'), render: (w) => <StatusBadge w={w} /> },
            { label: t('created_at'), render: (w) => when(w.created_at) },
            { label: t('actions'), render: (w) => (
              <span class="row-btns" onClick={(e) => e.stopPropagation()}>
                <Button class="small" data-write onClick={() => onEdit(w)}>{t('edit')}</Button>
                <ConfirmButton class="small" message={t('wh_delete_q', { url: w.url })} onConfirm={() => onDelete(w)}>{t('delete')}</ConfirmButton>
              </span>
            ) },
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function Detail({ id, query, version, secret, onEdit, onDelete, onChanged, onHideSecret, onLeave }) {
  // the secret is shown once: leaving the record forgets it
  useEffect(() => onLeave, []);
  const st = useAsync(() => get(`/webhooks/${id}`), [id, version]);
  const toggle = useSubmit(async (w) => {
    await patch(`/webhooks/${w.id}`, { enabled: !w.enabled });
    toast(w.enabled ? t('wh_toggled_off') : t('wh_toggled_on'));
    onChanged();
  });
  return (
    <>
      <p class="mc-back"><a href="/admin/webhooks">← {t('wh_back')}</a></p>
      <Async state={st}>{(w) => (
        <Card title={<><span class="mc-url">{w.url}</span> <StatusBadge w={w} /></>} actions={(
          <>
            <Button class="small" data-write busy={toggle.busy} onClick={() => toggle.submit(w)}>{w.enabled ? t('wh_disable') : t('wh_enable')}</Button>
            <Button class="small" data-write onClick={() => onEdit(w)}>{t('edit')}</Button>
            <ConfirmButton class="small" message={t('wh_delete_q', { url: w.url })} onConfirm={() => onDelete(w)}>{t('delete')}</ConfirmButton>
          </>
        )}>
          <div data-webhook-detail={w.id}>
            {secret && (
              <OnceBox label={t('wh_secret_once')} value={secret} testid="webhook-secret" onHide={onHideSecret} />
            )}
            <FormError error={toggle.error} fields={[]} />
            <dl class="kv dl-kv">
              <dt>{t('wh_events')}</dt>
              <dd class="wh-events">{w.events.map((e) => <span class="tag" title={e}>{evLabel(e)}</span>)}</dd>
              <dt>{t('created_at')}</dt><dd>{when(w.created_at)}</dd>
              <dt>{t('wh_updated')}</dt><dd>{when(w.updated_at)}</dd>
            </dl>
          </div>
        </Card>
      )}</Async>
      <HookDeliveries id={id} query={query} />
    </>
  );
}

function HookDeliveries({ id, query }) {
  const status = DELIVERY_STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const pager = useUrlPager(query, `wh-${id}-${status}`);
  const list = useAsync(() => get(`/webhooks/${id}/deliveries`, { status, cursor: pager.cursor, limit: 50 }), [id, status, pager.cursor]);
  const setStatus = (s) => setQuery({ status: s, cursor: '', page: '' });
  return (
    <Card title={t('wh_deliveries')} actions={<Button class="small ghost" onClick={list.reload}>{t('dl_refresh')}</Button>}>
      <div class="chips filters" role="group" aria-label={t('dl_status')}>
        <button type="button" class={`chip ${!status ? 'on' : ''}`} aria-pressed={!status ? 'true' : 'false'} onClick={() => setStatus('')}>{t('dl_all')}</button>
        {DELIVERY_STATUSES.map((s) => (
          <button type="button" class={`chip ${status === s ? 'on' : ''}`} aria-pressed={status === s ? 'true' : 'false'} onClick={() => setStatus(s)}>{t('dl_st_' + s)}</button>
        ))}
      </div>
      <Async state={list}>{(d) => (
        <>
          <DeliveriesTable rows={d.data} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function WebhookForm({ hook, onClose, onSaved }) {
  const [url, setUrl] = useState(hook ? hook.url : '');
  const [events, setEvents] = useState(() => new Set(hook ? hook.events : []));
  const [secret, setSecret] = useState('');
  const [enabled, setEnabled] = useState(hook ? hook.enabled : true);
  const all = events.has('*');
  const flip = (e) => setEvents((s) => {
    const n = new Set(s);
    if (n.has(e)) n.delete(e); else n.add(e);
    return n;
  });
  const s = useSubmit(async () => {
    const list = all ? ['*'] : WEBHOOK_EVENTS.filter((e) => events.has(e));
    if (list.length === 0) throw invalid('events', t('wh_pick_events'));
    if (!hook) {
      const body = { url: url.trim(), events: list };
      if (secret) body.secret = secret;
      if (!enabled) body.enabled = false;
      const r = await post('/webhooks', body);
      toast(t('wh_created'));
      onSaved(r, true);
      return;
    }
    const body = {};
    if (url.trim() !== hook.url) body.url = url.trim();
    if (JSON.stringify(list) !== JSON.stringify(hook.events)) body.events = list;
    if (secret) body.secret = secret;
    if (enabled !== hook.enabled) body.enabled = enabled;
    if (Object.keys(body).length === 0) {
      toast(t('wh_nothing'));
      onClose();
      return;
    }
    const r = await patch(`/webhooks/${hook.id}`, body);
    toast(t('saved'));
    onSaved(r, false);
  });
  return (
    <Modal title={hook ? t('wh_edit') : t('wh_new')} onClose={onClose} wide>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="webhook">
        <Field label={t('wh_url')} name="url" error={s.error}>
          <input name="url" type="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} required autocomplete="off" placeholder="https://example.com/scrm-events" />
        </Field>
        <FieldGroup label={t('wh_events')} name="events" error={s.error}>
          <span class="wh-picks">
            <label class="check-row wh-all"><input type="checkbox" name="events_all" checked={all} onChange={() => flip('*')} />{t('wh_all_events')}</label>
            {WEBHOOK_EVENTS.map((e) => (
              <label class="check-row" title={e}>
                <input type="checkbox" name="events" value={e} checked={all || events.has(e)} disabled={all} onChange={() => flip(e)} />
                <span>{evLabel(e)} <code class="muted">{e}</code></span>
              </label>
            ))}
          </span>
        </FieldGroup>
        <Field label={t('wh_secret')} name="secret" error={s.error} hint={hook ? t('wh_secret_keep') : t('wh_secret_hint')}>
          <input name="secret" type="password" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} autocomplete="new-password" maxLength={200} />
        </Field>
        <label class="check-row"><input type="checkbox" name="enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />{t('wh_enabled')}</label>
        <FormError error={s.error} fields={['url', 'events', 'secret']} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('save')}</Button>
        </div>
      </form>
    </Modal>
  );
}
