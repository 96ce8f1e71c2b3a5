// The outbox (/deliveries): every outbound message (SOP messages, test
// messages, event webhooks) and its fate. Filters by status and message
// channel and the page cursor live in the URL; ?id= opens one delivery with
// its attempts, last error and payload, and writers retry a failed or dead one.
// Also the pieces the SOP, message-channel and webhook pages share: the status
// badge, the delivery table, a delivery's detail and the message channels.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post } from '../api.js';
import { addStrings, num, t, when } from '../i18n.js';
import { setQuery } from '../router.js';
import {
  Async, Button, Card, ErrorBox, Pager, Spinner, Table, canWrite, isAdmin, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import './deliveries.css';

addStrings({
  zh: {
    dl_title: '消息发件箱', dl_intro: '系统发出的每一条消息（SOP 消息、测试消息、事件 Webhook）及其投递结果。',
    dl_status: '状态', dl_channel: '消息通道', dl_channel_id: '消息通道 ID', dl_all: '全部', dl_clear: '清除筛选',
    dl_st_pending: '待发送', dl_st_sending: '发送中', dl_st_failed: '失败待重试', dl_st_delivered: '已送达', dl_st_dead: '已放弃',
    dl_id: '编号', dl_created: '创建时间', dl_target: '发往', dl_customer: '客户', dl_content: '内容', dl_attempts: '尝试次数',
    dl_last_error: '最近错误', dl_http: 'HTTP 状态', dl_next: '下次尝试', dl_delivered_at: '送达时间', dl_updated: '更新时间',
    dl_kind: '类型', dl_event: '事件', dl_webhook: 'Webhook', dl_webhook_n: 'Webhook #{id}', dl_channel_n: '通道 #{id}',
    dl_kind_wecom_bot: '企业微信群机器人', dl_kind_wecom_customer: '企业微信客户消息', dl_kind_webhook: 'Webhook', dl_kind_log: '日志',
    dl_kind_event: '事件 Webhook', dl_payload: '消息内容（payload）', dl_text: '消息文本', dl_test: '测试消息', dl_sop: '来自 SOP #{id}', dl_sop_label: '来源',
    dl_retry: '立即重试', dl_retried: '已重新排队发送', dl_retry_hint: '失败或已放弃的消息可以立即重新发送。',
    dl_detail: '投递 #{id}', dl_close: '关闭详情', dl_refresh: '刷新', dl_none: '没有符合条件的消息',
    dl_operators_only: '发件箱只对运营和管理员开放。',
    dl_no_channels: '还没有消息通道', dl_open: '查看', dl_waiting: '等待发送结果…', dl_outcome: '投递结果',
    dl_open_outbox: '在发件箱中查看', dl_not_retryable: '只有失败或已放弃的消息可以重试；这条正在等待、发送中或已送达。',
  },
  en: {
    dl_title: 'Outbox', dl_intro: 'Every message scrmd sends (SOP messages, test messages, event webhooks) and what became of it.',
    dl_status: 'Status', dl_channel: 'Message channel', dl_channel_id: 'Message channel id', dl_all: 'All', dl_clear: 'Clear filters',
    dl_st_pending: 'pending', dl_st_sending: 'sending', dl_st_failed: 'failed, will retry', dl_st_delivered: 'delivered', dl_st_dead: 'dead',
    dl_id: 'No.', dl_created: 'Created', dl_target: 'To', dl_customer: 'Customer', dl_content: 'Content', dl_attempts: 'Attempts',
    dl_last_error: 'Last error', dl_http: 'HTTP status', dl_next: 'Next attempt', dl_delivered_at: 'Delivered', dl_updated: 'Updated',
    dl_kind: 'Kind', dl_event: 'Event', dl_webhook: 'Webhook', dl_webhook_n: 'Webhook #{id}', dl_channel_n: 'Channel #{id}',
    dl_kind_wecom_bot: 'WeCom group robot', dl_kind_wecom_customer: 'WeCom customer message', dl_kind_webhook: 'Webhook', dl_kind_log: 'Log',
    dl_kind_event: 'Event webhook', dl_payload: 'Payload', dl_text: 'Message text', dl_test: 'test message', dl_sop: 'from SOP #{id}', dl_sop_label: 'Source',
    dl_retry: 'Retry now', dl_retried: 'Queued to be sent again', dl_retry_hint: 'A failed or dead message can be sent again now.',
    dl_detail: 'Delivery #{id}', dl_close: 'Close', dl_refresh: 'Refresh', dl_none: 'No message matches',
    dl_operators_only: 'The outbox is open to operators and admins.',
    dl_no_channels: 'No message channel yet', dl_open: 'Open', dl_waiting: 'Waiting for the outcome…', dl_outcome: 'Outcome',
    dl_open_outbox: 'See it in the outbox', dl_not_retryable: 'Only failed and dead messages can be retried; this one is waiting, being sent or delivered.',
  },
});

export const DELIVERY_STATUSES = ['pending', 'sending', 'failed', 'delivered', 'dead'];
const BADGE = { delivered: 'ok', failed: 'warn', dead: 'bad' };
export const isFinal = (d) => d && (d.status === 'delivered' || d.status === 'dead');
// on its way now: a failed one waits for its next attempt (up to an hour)
const onItsWay = (d) => d && (d.status === 'pending' || d.status === 'sending');

export function DeliveryStatus({ status }) {
  return <span class={`badge ${BADGE[status] || ''}`} data-status={status}>{t('dl_st_' + status)}</span>;
}

export function kindLabel(kind) {
  const k = 'dl_kind_' + kind;
  const s = t(k);
  return s === k ? kind : s;
}

// The message channels, for names and pickers: admins get whole records,
// others each one's id, name, kind and enabled.
export function useMessageChannels() {
  return useAsync(() => get('/message-channels', { limit: 500 }).then((r) => r.data), []);
}

export function channelLabel(channels, id) {
  if (!id) return '—';
  const c = channels && channels.find((x) => x.id === id);
  return c ? c.name : t('dl_channel_n', { id });
}

function target(d, channels) {
  if (d.webhook_id) {
    const text = t('dl_webhook_n', { id: d.webhook_id });
    return isAdmin() ? <a href={`/admin/webhooks?id=${d.webhook_id}`}>{text}</a> : text;
  }
  const name = channelLabel(channels, d.channel_id);
  return isAdmin() && d.channel_id ? <a href={`/admin/message-channels?id=${d.channel_id}`}>{name}</a> : name;
}

function content(d) {
  const p = d.payload || {};
  if (d.event) return <code>{d.event}</code>;
  const text = typeof p.text === 'string' ? p.text : '';
  return (
    <span class="dl-text" title={text}>
      {p.test && <span class="badge">{t('dl_test')}</span>} {text.length > 60 ? text.slice(0, 60) + '…' : text || '—'}
    </span>
  );
}

const customerLink = (id) => (id ? <a href={`/customers/${id}`}>#{id}</a> : '—');

// The outbox rows; link(d) is where a row's number leads.
export function DeliveriesTable({ rows, channels, link = (d) => `/deliveries?id=${d.id}`, empty }) {
  return (
    <Table rows={rows} stack empty={empty || t('dl_none')} columns={[
      { label: t('dl_id'), render: (d) => <a href={link(d)} data-delivery={d.id}>#{d.id}</a> },
      { label: t('dl_created'), render: (d) => when(d.created_at) },
      { label: t('dl_status'), render: (d) => <DeliveryStatus status={d.status} /> },
      { label: t('dl_target'), render: (d) => target(d, channels) },
      { label: t('dl_customer'), render: (d) => customerLink(d.customer_id) },
      { label: t('dl_content'), render: content },
      { label: t('dl_attempts'), num: true, render: (d) => num(d.attempts) },
      { label: t('dl_last_error'), render: (d) => (d.last_error ? <span class="dl-err" title={d.last_error}>{d.last_error.length > 50 ? d.last_error.slice(0, 50) + '…' : d.last_error}</span> : '—') },
    ]} />
  );
}

// Poll one delivery while it is pending or being sent: how a page shows the
// outcome of what it just queued (a failed one shows when it is tried again).
export function useDelivery(id, { poll = true, tick = 0 } = {}) {
  const st = useAsync(() => (id ? get(`/deliveries/${id}`) : Promise.resolve(null)), [id, tick]);
  const waiting = poll && onItsWay(st.data);
  useEffect(() => {
    if (!waiting) return undefined;
    const h = setTimeout(st.reload, 1500);
    return () => clearTimeout(h);
  }, [waiting, st.data]);
  return st;
}

// What a delivery is and what became of it, with the payload; writers retry a
// failed or dead one.
export function DeliveryDetail({ id, channels, onChanged, compact = false }) {
  const [tick, setTick] = useState(0);
  const st = useDelivery(id, { tick });
  const retry = useSubmit(async () => {
    try {
      await post(`/deliveries/${id}/retry`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) throw new Error(t('dl_not_retryable'));
      throw e;
    }
    toast(t('dl_retried'));
    setTick((n) => n + 1);
    if (onChanged) onChanged();
  });
  return (
    <Async state={st}>{(d) => (
      <div class="dl-detail" data-delivery-detail={d.id} data-status={d.status}>
        <div class="dl-detail-head">
          <DeliveryStatus status={d.status} />
          {onItsWay(d) && <span class="muted dl-wait"><Spinner label={false} /> {t('dl_waiting')}</span>}
          <span class="grow" />
          <Button class="small ghost" onClick={() => setTick((n) => n + 1)}>{t('dl_refresh')}</Button>
          {canWrite() && (d.status === 'failed' || d.status === 'dead') && (
            <Button class="small primary" data-write data-action="retry" busy={retry.busy} onClick={() => retry.submit()}>{t('dl_retry')}</Button>
          )}
        </div>
        <ErrorBox error={retry.error} />
        <dl class="kv dl-kv">
          <dt>{t('dl_kind')}</dt><dd>{d.event ? t('dl_kind_event') : kindLabel(d.kind)}</dd>
          <dt>{t('dl_target')}</dt><dd>{target(d, channels)}</dd>
          {d.event && <><dt>{t('dl_event')}</dt><dd><code>{d.event}</code>{d.event_id ? ` #${d.event_id}` : ''}</dd></>}
          <dt>{t('dl_customer')}</dt><dd>{customerLink(d.customer_id)}</dd>
          {d.payload && d.payload.sop_id && <><dt>{t('dl_sop_label')}</dt><dd><a href={`/sops?id=${d.payload.sop_id}`}>{t('dl_sop', { id: d.payload.sop_id })}</a></dd></>}
          <dt>{t('dl_attempts')}</dt><dd data-testid="delivery-attempts">{num(d.attempts)}</dd>
          <dt>{t('dl_http')}</dt><dd>{d.last_http_status ?? '—'}</dd>
          <dt>{t('dl_last_error')}</dt><dd class="dl-err-full">{d.last_error || '—'}</dd>
          {d.next_attempt_at && <><dt>{t('dl_next')}</dt><dd>{when(d.next_attempt_at)}</dd></>}
          <dt>{t('dl_created')}</dt><dd>{when(d.created_at)}</dd>
          <dt>{t('dl_updated')}</dt><dd>{when(d.updated_at)}</dd>
          <dt>{t('dl_delivered_at')}</dt><dd>{when(d.delivered_at)}</dd>
        </dl>
        {!compact && d.payload && typeof d.payload.text === 'string' && (
          <>
            <h3 class="dl-h3">{t('dl_text')}</h3>
            <p class="dl-message" data-testid="delivery-text">{d.payload.text}</p>
          </>
        )}
        {!compact && (
          <>
            <h3 class="dl-h3">{t('dl_payload')}</h3>
            <pre class="dl-payload">{JSON.stringify(d.payload, null, 2)}</pre>
          </>
        )}
        {compact && <p><a href={`/deliveries?id=${d.id}`} data-outbox-link={d.id}>{t('dl_open_outbox')}</a></p>}
      </div>
    )}</Async>
  );
}

// Status and channel are filtered by the API (GET /deliveries?status=&channel_id=).
function loadPage({ status, channel, cursor }) {
  return get('/deliveries', { status, channel_id: channel, cursor, limit: 50 });
}

export default function Deliveries({ query }) {
  const status = DELIVERY_STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const channel = /^\d+$/.test(query.get('channel_id') || '') ? query.get('channel_id') : '';
  const id = /^\d+$/.test(query.get('id') || '') ? query.get('id') : '';
  const allowed = canWrite();
  return (
    <div data-page="deliveries" class="dl-page">
      <div class="page-head">
        <h1>{t('dl_title')}</h1>
      </div>
      {allowed ? <Outbox status={status} channel={channel} id={id} query={query} /> : (
        <Card><p class="muted" data-testid="outbox-forbidden">{t('dl_operators_only')}</p></Card>
      )}
    </div>
  );
}

function Outbox({ status, channel, id, query }) {
  const filterKey = `${status}|${channel}`;
  const pager = useUrlPager(query, filterKey);
  const channels = useMessageChannels();
  const [tick, setTick] = useState(0);
  const list = useAsync(() => loadPage({ status, channel, cursor: pager.cursor }), [filterKey, pager.cursor, tick]);
  const [chText, setChText] = useState(channel);
  useEffect(() => setChText(channel), [channel]);
  const setFilter = (k, v) => setQuery({ [k]: v, cursor: '', page: '' });
  return (
    <>
      {id && (
        <Card title={t('dl_detail', { id })} class="dl-detail-card"
          actions={<a href={`/deliveries${status || channel ? '?' + new URLSearchParams({ ...(status && { status }), ...(channel && { channel_id: channel }) }) : ''}`} data-action="close-detail">{t('dl_close')}</a>}>
          <DeliveryDetail key={id} id={id} channels={channels.data} onChanged={() => setTick((n) => n + 1)} />
        </Card>
      )}
      <Card>
        <p class="muted dl-intro">{t('dl_intro')}</p>
        <div class="filters">
          <div class="chips" role="group" aria-label={t('dl_status')}>
            <button type="button" class={`chip ${!status ? 'on' : ''}`} aria-pressed={!status ? 'true' : 'false'} onClick={() => setFilter('status', '')}>{t('dl_all')}</button>
            {DELIVERY_STATUSES.map((s) => (
              <button type="button" class={`chip ${status === s ? 'on' : ''}`} aria-pressed={status === s ? 'true' : 'false'} data-filter-status={s}
                onClick={() => setFilter('status', s)}>{t('dl_st_' + s)}</button>
            ))}
          </div>
          {channels.data ? (
            <label class="field">
              <span class="field-label">{t('dl_channel')}</span>
              <select name="channel_id" value={channel} onChange={(e) => setFilter('channel_id', e.currentTarget.value)}>
                <option value="">{t('dl_all')}</option>
                {channels.data.map((c) => <option value={String(c.id)}>{c.name}</option>)}
                {channel && !channels.data.some((c) => String(c.id) === channel) && <option value={channel}>#{channel}</option>}
              </select>
            </label>
          ) : (
            <form onSubmit={(e) => { e.preventDefault(); setFilter('channel_id', /^\d+$/.test(chText.trim()) ? chText.trim() : ''); }}>
              <label class="field">
                <span class="field-label">{t('dl_channel_id')}</span>
                <input name="channel_id" inputMode="numeric" value={chText} size={8} onInput={(e) => setChText(e.currentTarget.value)}
                  onBlur={() => chText.trim() !== channel && setFilter('channel_id', /^\d+$/.test(chText.trim()) ? chText.trim() : '')} />
              </label>
            </form>
          )}
          {(status || channel) && <Button class="ghost" onClick={() => setQuery({ status: '', channel_id: '', cursor: '', page: '' })}>{t('dl_clear')}</Button>}
        </div>
        <Async state={list}>{(d) => (
          <div class={list.loading ? 'dl-stale' : ''} aria-busy={list.loading ? 'true' : 'false'}>
            <DeliveriesTable rows={d.data} channels={channels.data}
              link={(x) => `/deliveries?${new URLSearchParams({ ...(status && { status }), ...(channel && { channel_id: channel }), ...(pager.cursor && { cursor: pager.cursor, page: pager.page }), id: x.id })}`} />
            <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
          </div>
        )}</Async>
      </Card>
    </>
  );
}
