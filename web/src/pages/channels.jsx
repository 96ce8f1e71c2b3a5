// Acquisition channels and their live codes: where customers come from, what
// each channel cost and brought; writers create, edit and delete channels. A
// channel with a contact link has a live code, shown as a QR code to print.
import { useEffect, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import { ApiError, del, get, patch, post } from '../api.js';
import { addStrings, money, num, pct, t, when } from '../i18n.js';
import { navigate, setQuery } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, ErrorBox, Field, FormError, Modal, Pager, Spinner, canWrite, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import { DefTable } from './analytics.jsx';
import './channels.css';

addStrings({
  zh: {
    ch_title: '渠道与活码', ch_new: '新建渠道', ch_edit: '编辑渠道', ch_name: '名称', ch_kind: '类型', ch_units: '投放量',
    ch_cost: '总成本', ch_cost_yuan: '总成本（元）', ch_code: '活码编号', ch_code_hint: '留空则自动生成（有联系我链接时）',
    ch_contact_url: '企业微信“联系我”链接', ch_contact_hint: '填写后生成活码：扫码计数后跳转到这个链接',
    ch_units_hint: '印制的卡片、发送的短信等数量，用于计算添加率',
    ch_customers: '客户', ch_add_rate: '添加率', ch_cpc: '获客成本', ch_scans: '扫码次数', ch_scanners: '扫码人数',
    ch_live: '活码', ch_has_live: '有活码', ch_no_live: '无活码', ch_detail: '渠道详情', ch_back: '返回渠道列表',
    ch_kind_package_card: '包裹卡', ch_kind_sms: '短信', ch_kind_qr: '二维码', ch_kind_live: '直播', ch_kind_other: '其他',
    ch_delete_q: '删除渠道“{name}”？它的活码将失效，扫码记录一并删除。', ch_in_use: '还有 {n} 位客户的来源是这个渠道，不能删除。',
    ch_deleted: '渠道已删除', ch_bad_yuan: '请输入金额（元），最多两位小数', ch_bad_units: '请输入不小于 0 的整数',
    ch_qr_alt: '渠道“{name}”的活码二维码', ch_download: '下载 PNG', ch_live_hint: '打印这个二维码；每次扫码都会计数，然后跳转到联系我链接。',
    ch_live_inactive: '这个渠道有活码编号，但没有联系我链接，扫码会返回 404。', ch_customers_link: '查看这些客户',
    ch_d_customers: '来源渠道为该渠道的客户数。', ch_d_add_rate: '客户 ÷ 投放量：发出的卡片、短信或码中变成客户的比例。',
    ch_d_cpc: '总成本 ÷ 客户数，精确到分。', ch_d_scans: '活码被扫描的总次数。', ch_d_scanners: '扫过活码的不同设备（按地址哈希去重）。',
    ch_d_units: '印制或发送的数量。', ch_d_cost: '这个渠道的总成本。', ch_updated: '更新时间',
  },
  en: {
    ch_title: 'Channels & live codes', ch_new: 'New channel', ch_edit: 'Edit channel', ch_name: 'Name', ch_kind: 'Kind', ch_units: 'Units',
    ch_cost: 'Cost', ch_cost_yuan: 'Cost (yuan)', ch_code: 'Live code', ch_code_hint: 'Left empty: generated (when there is a contact link)',
    ch_contact_url: 'WeCom "contact me" link', ch_contact_hint: 'Gives the channel a live code: a scan is counted, then sent to this link',
    ch_units_hint: 'Cards printed, texts sent ...: the base of the add rate',
    ch_customers: 'Customers', ch_add_rate: 'Add rate', ch_cpc: 'Cost per customer', ch_scans: 'Scans', ch_scanners: 'Scanners',
    ch_live: 'Live code', ch_has_live: 'live code', ch_no_live: 'no live code', ch_detail: 'Channel', ch_back: 'Back to the channels',
    ch_kind_package_card: 'Package card', ch_kind_sms: 'SMS', ch_kind_qr: 'QR code', ch_kind_live: 'Live stream', ch_kind_other: 'Other',
    ch_delete_q: 'Delete the channel "{name}"? Its live code stops working and its scans are deleted.', ch_in_use: '{n} customers came through this channel: it cannot be deleted.',
    ch_deleted: 'Channel deleted', ch_bad_yuan: 'Enter an amount in yuan, at most two decimals', ch_bad_units: 'Enter a whole number, 0 or more',
    ch_qr_alt: 'QR code of the live code of "{name}"', ch_download: 'Download PNG', ch_live_hint: 'Print this QR code: every scan is counted, then sent on to the contact link.',
    ch_live_inactive: 'This channel has a code but no contact link: its live code answers 404.', ch_customers_link: 'See these customers',
    ch_d_customers: 'Customers whose source channel this is.', ch_d_add_rate: 'Customers / units: the share of cards, texts or codes sent that became a customer.',
    ch_d_cpc: 'Cost / customers, to the nearest cent.', ch_d_scans: 'Scans of the live code in all.', ch_d_scanners: 'Distinct scanners of the live code (by a keyed hash of their address).',
    ch_d_units: 'How many were printed or sent.', ch_d_cost: 'What the channel cost in all.', ch_updated: 'Updated',
  },
});

const KINDS = ['package_card', 'sms', 'qr', 'live', 'other'];
const hasLive = (c) => !!(c.contact_url && c.live_path);

export default function Channels({ query }) {
  const [form, setForm] = useState(null); // {} to create, a channel to edit
  const [version, setVersion] = useState(0); // bumped by every write
  const id = query.get('id') || '';
  const write = canWrite();
  const remove = async (c) => {
    try {
      await del(`/channels/${c.id}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) throw new Error(t('ch_in_use', { n: num(c.customers) }));
      throw e;
    }
    toast(t('ch_deleted'));
    setVersion((v) => v + 1);
    if (String(c.id) === id) setQuery({ id: '' });
  };
  return (
    <div data-page="channels">
      <div class="page-head">
        <h1>{t('ch_title')}</h1>
        {write && <Button class="primary" data-write onClick={() => setForm({})}>{t('ch_new')}</Button>}
      </div>
      {id ? <Detail key={id} id={id} version={version} write={write} onEdit={(c) => setForm(c)} onDelete={remove} />
        : <List query={query} version={version} write={write} onEdit={(c) => setForm(c)} onDelete={remove} />}
      {form && (
        <ChannelForm channel={form.id ? form : null} onClose={() => setForm(null)} onSaved={(c) => {
          setForm(null);
          setVersion((v) => v + 1);
          navigate(`/channels?id=${c.id}`);
        }} />
      )}
    </div>
  );
}

function List({ query, version, write, onEdit, onDelete }) {
  const pager = useUrlPager(query, 'channels');
  const list = useAsync(() => get('/channels', { cursor: pager.cursor, limit: 50 }), [pager.cursor, version]);
  return (
    <Card>
      <Async state={list}>{(d) => (
        <>
          <DefTable rows={d.data} stack columns={[
            { label: t('ch_name'), render: (c) => <a href={`/channels?id=${c.id}`}>{c.name}</a> },
            { label: t('ch_kind'), render: (c) => t('ch_kind_' + c.kind) },
            { label: t('ch_customers'), title: t('ch_d_customers'), num: true, render: (c) => num(c.customers) },
            { label: t('ch_units'), title: t('ch_d_units'), num: true, render: (c) => num(c.units) },
            { label: t('ch_add_rate'), title: t('ch_d_add_rate'), num: true, render: (c) => pct(c.add_rate) },
            { label: t('ch_cost'), title: t('ch_d_cost'), num: true, render: (c) => money(c.cost_cents) },
            { label: t('ch_cpc'), title: t('ch_d_cpc'), num: true, render: (c) => money(c.cost_per_customer_cents) },
            { label: t('ch_scans'), title: t('ch_d_scans'), num: true, render: (c) => num(c.scans) },
            { label: t('ch_scanners'), title: t('ch_d_scanners'), num: true, render: (c) => num(c.scanners) },
            { label: t('ch_live'), render: (c) => (hasLive(c)
              ? <a href={`/channels?id=${c.id}`} class="badge ok" data-live-code={c.code}>{c.live_path}</a>
              : <span class="badge">{t('ch_no_live')}</span>) },
            ...(write ? [{ label: t('actions'), render: (c) => (
              <span class="row-actions">
                <Button class="small" data-write onClick={() => onEdit(c)}>{t('edit')}</Button>
                <ConfirmButton class="small danger" data-write message={t('ch_delete_q', { name: c.name })} onConfirm={() => onDelete(c)}>{t('delete')}</ConfirmButton>
              </span>
            ) }] : []),
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function Detail({ id, version, write, onEdit, onDelete }) {
  const st = useAsync(() => get(`/channels/${encodeURIComponent(id)}`), [id, version]);
  return (
    <Card title={t('ch_detail')} class="ch-detail" actions={<a href="/channels">{t('ch_back')}</a>}>
      <Async state={st}>{(c) => (
        <div data-channel={c.id}>
          <div class="ch-detail-head">
            <h2>{c.name} <span class="tag">{t('ch_kind_' + c.kind)}</span></h2>
            {write && (
              <div class="card-actions">
                <Button class="small" data-write onClick={() => onEdit(c)}>{t('edit')}</Button>
                <ConfirmButton class="small danger" data-write message={t('ch_delete_q', { name: c.name })} onConfirm={() => onDelete(c)}>{t('delete')}</ConfirmButton>
              </div>
            )}
          </div>
          <div class="ch-detail-body">
            <dl class="kv">
              <dt title={t('ch_d_customers')}>{t('ch_customers')}</dt>
              <dd>{num(c.customers)} {c.customers > 0 && <a href={`/customers?source_channel_id=${c.id}`}>{t('ch_customers_link')}</a>}</dd>
              <dt title={t('ch_d_units')}>{t('ch_units')}</dt><dd>{num(c.units)}</dd>
              <dt title={t('ch_d_add_rate')}>{t('ch_add_rate')}</dt><dd>{pct(c.add_rate)}</dd>
              <dt title={t('ch_d_cost')}>{t('ch_cost')}</dt><dd>{money(c.cost_cents)}</dd>
              <dt title={t('ch_d_cpc')}>{t('ch_cpc')}</dt><dd>{money(c.cost_per_customer_cents)}</dd>
              <dt title={t('ch_d_scans')}>{t('ch_scans')}</dt><dd>{num(c.scans)}</dd>
              <dt title={t('ch_d_scanners')}>{t('ch_scanners')}</dt><dd>{num(c.scanners)}</dd>
              <dt>{t('ch_code')}</dt><dd>{c.code ? <code>{c.code}</code> : '—'}</dd>
              <dt>{t('ch_contact_url')}</dt><dd class="ch-link">{c.contact_url || '—'}</dd>
              <dt>{t('created_at')}</dt><dd>{when(c.created_at)}</dd>
              <dt>{t('ch_updated')}</dt><dd>{when(c.updated_at)}</dd>
            </dl>
            {hasLive(c) ? <LiveCode channel={c} /> : (c.code && <p class="muted">{t('ch_live_inactive')}</p>)}
          </div>
        </div>
      )}</Async>
    </Card>
  );
}

// The live code as a QR image (the qrcode package), its link, and the PNG to download.
function LiveCode({ channel }) {
  const url = location.origin + channel.live_path;
  const [qr, setQr] = useState({ src: null, error: null });
  useEffect(() => {
    let live = true;
    setQr({ src: null, error: null });
    QRCode.toDataURL(url, { width: 512, margin: 2, errorCorrectionLevel: 'M' })
      .then((src) => live && setQr({ src, error: null }))
      .catch((error) => live && setQr({ src: null, error }));
    return () => { live = false; };
  }, [url]);
  return (
    <div class="ch-live" data-testid="live-code">
      <div class="qr">
        {qr.src ? <img src={qr.src} alt={t('ch_qr_alt', { name: channel.name })} width="180" height="180" data-qr={url} />
          : qr.error ? <ErrorBox error={qr.error} /> : <Spinner />}
      </div>
      <div class="ch-live-text">
        <a class="ch-link" href={url} target="_blank" rel="noopener noreferrer" data-live-url>{url}</a>
        <p class="muted">{t('ch_live_hint')}</p>
        {qr.src && <a class="btn" href={qr.src} download={`live-code-${channel.code}.png`} data-download>{t('ch_download')}</a>}
      </div>
    </div>
  );
}

const invalid = (field, message) => new ApiError(422, { error: { code: 'validation_failed', message, field } });

function ChannelForm({ channel, onClose, onSaved }) {
  const [v, setV] = useState(() => ({
    name: channel ? channel.name : '',
    kind: channel ? channel.kind : 'package_card',
    units: channel ? String(channel.units) : '',
    cost: channel ? (channel.cost_cents / 100).toFixed(2) : '',
    code: channel && channel.code ? channel.code : '',
    contact_url: channel && channel.contact_url ? channel.contact_url : '',
  }));
  const set = (k) => (e) => { const val = e.currentTarget.value; setV((s) => ({ ...s, [k]: val })); };
  const s = useSubmit(async () => {
    const body = { name: v.name.trim(), kind: v.kind };
    const units = v.units.trim();
    if (units !== '') {
      if (!/^\d+$/.test(units)) throw invalid('units', t('ch_bad_units'));
      body.units = Number(units);
    } else if (channel) body.units = 0;
    const cost = v.cost.trim().replace(/,/g, '');
    if (cost !== '') {
      if (!/^\d+(\.\d{1,2})?$/.test(cost)) throw invalid('cost_cents', t('ch_bad_yuan'));
      body.cost_cents = Math.round(Number(cost) * 100);
    } else if (channel) body.cost_cents = 0;
    const code = v.code.trim();
    const contact = v.contact_url.trim();
    if (channel) {
      if (code !== (channel.code || '')) body.code = code || null;
      if (contact !== (channel.contact_url || '')) body.contact_url = contact || null;
    } else {
      if (code) body.code = code;
      if (contact) body.contact_url = contact;
    }
    const r = channel ? await patch(`/channels/${channel.id}`, body) : await post('/channels', body);
    toast(t('saved'));
    onSaved(r);
  });
  const fields = ['name', 'kind', 'units', 'cost_cents', 'code', 'contact_url'];
  return (
    <Modal title={channel ? t('ch_edit') : t('ch_new')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="channel">
        <Field label={t('ch_name')} name="name" error={s.error}>
          <input name="name" value={v.name} onInput={set('name')} required maxLength={100} />
        </Field>
        <div class="form-row">
          <Field label={t('ch_kind')} name="kind" error={s.error}>
            <select name="kind" value={v.kind} onChange={set('kind')}>
              {KINDS.map((k) => <option value={k}>{t('ch_kind_' + k)}</option>)}
            </select>
          </Field>
          <Field label={t('ch_units')} name="units" error={s.error} hint={t('ch_units_hint')}>
            <input name="units" inputMode="numeric" value={v.units} onInput={set('units')} placeholder="0" />
          </Field>
          <Field label={t('ch_cost_yuan')} name="cost_cents" error={s.error}>
            <input name="cost" inputMode="decimal" value={v.cost} onInput={set('cost')} placeholder="0.00" />
          </Field>
        </div>
        <Field label={t('ch_contact_url')} name="contact_url" error={s.error} hint={t('ch_contact_hint')}>
          <input name="contact_url" type="url" value={v.contact_url} onInput={set('contact_url')} placeholder="https://work.weixin.qq.com/ca/..." />
        </Field>
        <Field label={t('ch_code')} name="code" error={s.error} hint={t('ch_code_hint')}>
          <input name="code" value={v.code} onInput={set('code')} maxLength={32} autocomplete="off" />
        </Field>
        <FormError error={s.error} fields={fields} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('save')}</Button>
        </div>
      </form>
    </Modal>
  );
}
