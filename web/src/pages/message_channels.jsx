// Message channels (admin): where SOP and test messages go (WeCom group
// robots, WeCom customer messages, signed webhooks, the log). Create, edit,
// switch off and delete them; a webhook's generated signing secret is shown
// once; send a test message and watch its delivery. ?id= opens one channel.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, del, get, patch, post } from '../api.js';
import { addStrings, t, when } from '../i18n.js';
import { navigate, setQuery } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, Field, FormError, Modal, OnceBox, Pager, Table, isAdmin, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import { DeliveryDetail, kindLabel } from './deliveries.jsx';

addStrings({
  zh: {
    mc_title: '消息通道', mc_intro: 'SOP 消息和测试消息经由消息通道发出。密钥只写入，从不显示。', mc_new: '新建消息通道',
    mc_edit: '编辑消息通道', mc_name: '名称', mc_kind: '类型', mc_url: '地址', mc_enabled: '启用', mc_status: '状态',
    mc_on: '启用中', mc_off: '已停用', mc_secret: '签名密钥', mc_corp_id: '企业 ID（corp_id）', mc_corp_secret: '客户联系应用 Secret',
    mc_sender: '发送成员 userid（可选）', mc_api_base: 'API 地址（可选）', mc_api_base_hint: '留空使用企业微信官方地址',
    mc_bot_url: '群机器人 Webhook 地址', mc_bot_url_hint: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…，保存后 key 会被隐藏',
    mc_hook_url: '接收地址', mc_hook_url_hint: '消息以签名 JSON POST 到这个地址（X-SCRM-Signature）',
    mc_secret_hint: '至少 16 个字符；留空则自动生成并只显示一次', mc_secret_keep: '留空则保留现有密钥',
    mc_corp_secret_keep: '留空则保留现有 Secret', mc_set: '已设置', mc_not_set: '未设置',
    mc_kind_hint_wecom_bot: '发到企业微信群机器人（每个机器人每分钟最多 20 条，超出的排队而不丢失）。',
    mc_kind_hint_wecom_customer: '为客户的 attrs.wecom_external_userid 创建企业微信客户群发任务，由员工确认发送。',
    mc_kind_hint_webhook: '以签名 JSON POST 到你的地址。', mc_kind_hint_log: '只写一行到守护进程日志，适合试用。',
    mc_secret_once: '签名密钥只显示这一次，请立即复制：', mc_created: '消息通道已创建', mc_deleted: '消息通道已删除',
    mc_delete_q: '删除消息通道“{name}”？使用它的 SOP 消息动作将失败。', mc_detail: '消息通道', mc_back: '返回消息通道列表',
    mc_test: '发送测试消息', mc_test_text: '消息内容', mc_test_default: '这是一条来自 scrmd 的测试消息。', mc_markdown: '按 Markdown 发送',
    mc_test_customer: '客户 ID（可选，用于客户消息）', mc_test_ext: 'external_userid（可选）', mc_test_send: '发送',
    mc_test_queued: '测试消息已排队，投递 #{id}', mc_outbox: '查看这个通道发出的消息', mc_updated: '更新时间', mc_has_secret: '签名密钥',
    mc_nothing: '没有改动', mc_admin_only: '只有管理员可以管理消息通道。', mc_enable: '启用', mc_disable: '停用',
    mc_toggled_on: '已启用', mc_toggled_off: '已停用', mc_bad_customer: '请输入客户 ID（数字）',
  },
  en: {
    mc_title: 'Message channels', mc_intro: 'SOP messages and test messages leave through message channels. Secrets are write-only, never shown.',
    mc_new: 'New message channel', mc_edit: 'Edit message channel', mc_name: 'Name', mc_kind: 'Kind', mc_url: 'Address',
    mc_enabled: 'Enabled', mc_status: 'Status', mc_on: 'on', mc_off: 'off', mc_secret: 'Signing secret', mc_corp_id: 'Corp id (corp_id)',
    mc_corp_secret: 'Customer-contact app secret', mc_sender: 'Sending member userid (optional)', mc_api_base: 'API base (optional)',
    mc_api_base_hint: 'Empty: WeCom\'s own address', mc_bot_url: 'Group robot webhook address',
    mc_bot_url_hint: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…; the key is hidden once saved',
    mc_hook_url: 'Receiving address', mc_hook_url_hint: 'Messages are POSTed here as signed JSON (X-SCRM-Signature)',
    mc_secret_hint: '16 characters or more; empty: one is generated and shown once', mc_secret_keep: 'Empty: keep the current secret',
    mc_corp_secret_keep: 'Empty: keep the current secret', mc_set: 'set', mc_not_set: 'not set',
    mc_kind_hint_wecom_bot: 'Posts to a WeCom group robot (at most 20 a minute per robot; the rest wait, none is lost).',
    mc_kind_hint_wecom_customer: 'Creates a WeCom customer-message task to the customer\'s attrs.wecom_external_userid, for a staff member to confirm.',
    mc_kind_hint_webhook: 'POSTs signed JSON to your address.', mc_kind_hint_log: 'Writes a line to the daemon\'s log: for trying things out.',
    mc_secret_once: 'The signing secret is shown only this once; copy it now:', mc_created: 'Message channel created',
    mc_deleted: 'Message channel deleted', mc_delete_q: 'Delete the message channel "{name}"? SOP message actions using it will fail.',
    mc_detail: 'Message channel', mc_back: 'Back to the message channels', mc_test: 'Send a test message', mc_test_text: 'Text',
    mc_test_default: 'This is a test message from scrmd.', mc_markdown: 'Send as Markdown',
    mc_test_customer: 'Customer id (optional, for customer messages)', mc_test_ext: 'external_userid (optional)', mc_test_send: 'Send',
    mc_test_queued: 'Test message queued: delivery #{id}', mc_outbox: 'See what this channel sent', mc_updated: 'Updated',
    mc_has_secret: 'Signing secret', mc_nothing: 'Nothing changed', mc_admin_only: 'Only admins manage message channels.',
    mc_enable: 'Switch on', mc_disable: 'Switch off', mc_toggled_on: 'Switched on', mc_toggled_off: 'Switched off',
    mc_bad_customer: 'Enter a customer id (a number)',
  },
});

export const CHANNEL_KINDS = ['wecom_bot', 'wecom_customer', 'webhook', 'log'];
const invalid = (field, message) => new ApiError(422, { error: { code: 'validation_failed', message, field } });

export default function MessageChannels({ query }) {
  const id = /^\d+$/.test(query.get('id') || '') ? query.get('id') : '';
  const [form, setForm] = useState(null); // {} to create, a channel to edit
  const [version, setVersion] = useState(0);
  const [secret, setSecret] = useState(null); // {id, secret}: shown once
  const admin = isAdmin();
  const bump = () => setVersion((v) => v + 1);
  const remove = async (c) => {
    await del(`/message-channels/${c.id}`);
    toast(t('mc_deleted'));
    bump();
    if (String(c.id) === id) setQuery({ id: '' });
  };
  return (
    <div data-page="message_channels" class="mc-page">
      <div class="page-head">
        <h1>{t('mc_title')}</h1>
        {admin && <Button class="primary" data-write data-action="new-channel" onClick={() => setForm({})}>{t('mc_new')}</Button>}
      </div>
      {!admin ? <Card><p class="muted">{t('mc_admin_only')}</p></Card> : (
        <>
          {id ? (
            <Detail key={id} id={id} version={version} secret={secret && String(secret.id) === id ? secret.secret : null}
              onEdit={(c) => setForm(c)} onDelete={remove} onChanged={bump} onHideSecret={() => setSecret(null)}
              onLeave={() => setSecret((x) => (x && String(x.id) === id ? null : x))} />
          ) : <List query={query} version={version} onEdit={(c) => setForm(c)} onDelete={remove} />}
        </>
      )}
      {form && (
        <ChannelForm channel={form.id ? form : null} onClose={() => setForm(null)} onSaved={(c, created) => {
          setForm(null);
          if (created && c.secret) setSecret({ id: c.id, secret: c.secret });
          bump();
          navigate(`/admin/message-channels?id=${c.id}`);
        }} />
      )}
    </div>
  );
}

function StatusBadge({ c }) {
  return <span class={`badge ${c.enabled ? 'ok' : ''}`}>{c.enabled ? t('mc_on') : t('mc_off')}</span>;
}

function List({ query, version, onEdit, onDelete }) {
  const pager = useUrlPager(query, 'mc');
  const list = useAsync(() => get('/message-channels', { cursor: pager.cursor, limit: 50 }), [pager.cursor, version]);
  return (
    <Card>
      <p class="muted">{t('mc_intro')}</p>
      <Async state={list}>{(d) => (
        <>
          <Table rows={d.data} stack onRowClick={(c) => navigate(`/admin/message-channels?id=${c.id}`)} columns={[
            { label: t('mc_name'), render: (c) => <a href={`/admin/message-channels?id=${c.id}`} data-channel={c.id}>{c.name}</a> },
            { label: t('mc_kind'), render: (c) => kindLabel(c.kind) },
            { label: t('mc_url'), render: (c) => <span class="mc-url">{c.url || '—'}</span> },
            { label: t('mc_status'), render: (c) => <StatusBadge c={c} /> },
            { label: t('created_at'), render: (c) => when(c.created_at) },
            { label: t('actions'), render: (c) => (
              <span class="row-btns" onClick={(e) => e.stopPropagation()}>
                <Button class="small" data-write onClick={() => onEdit(c)}>{t('edit')}</Button>
                <ConfirmButton class="small" message={t('mc_delete_q', { name: c.name })} onConfirm={() => onDelete(c)}>{t('delete')}</ConfirmButton>
              </span>
            ) },
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function Detail({ id, version, secret, onEdit, onDelete, onChanged, onHideSecret, onLeave }) {
  // the secret is shown once: leaving the record forgets it
  useEffect(() => onLeave, []);
  const st = useAsync(() => get(`/message-channels/${id}`), [id, version]);
  const toggle = useSubmit(async (c) => {
    await patch(`/message-channels/${c.id}`, { enabled: !c.enabled });
    toast(c.enabled ? t('mc_toggled_off') : t('mc_toggled_on'));
    onChanged();
  });
  return (
    <>
      <p class="mc-back"><a href="/admin/message-channels">← {t('mc_back')}</a></p>
      <Async state={st}>{(c) => (
        <>
          <Card title={<>{c.name} <span class="tag">{kindLabel(c.kind)}</span> <StatusBadge c={c} /></>} actions={(
            <>
              <Button class="small" data-write busy={toggle.busy} onClick={() => toggle.submit(c)}>{c.enabled ? t('mc_disable') : t('mc_enable')}</Button>
              <Button class="small" data-write onClick={() => onEdit(c)}>{t('edit')}</Button>
              <ConfirmButton class="small" message={t('mc_delete_q', { name: c.name })} onConfirm={() => onDelete(c)}>{t('delete')}</ConfirmButton>
            </>
          )}>
            <div data-channel-detail={c.id}>
              {secret && (
                <OnceBox label={t('mc_secret_once')} value={secret} testid="channel-secret" onHide={onHideSecret} />
              )}
              <FormError error={toggle.error} fields={[]} />
              <dl class="kv dl-kv">
                <dt>{t('mc_kind')}</dt><dd>{kindLabel(c.kind)} <span class="muted">· {t('mc_kind_hint_' + c.kind)}</span></dd>
                {c.kind !== 'log' && <><dt>{t('mc_url')}</dt><dd class="mc-url">{c.url || '—'}</dd></>}
                {c.kind === 'webhook' && <><dt>{t('mc_has_secret')}</dt><dd>{c.has_secret ? t('mc_set') : t('mc_not_set')}</dd></>}
                {c.kind === 'wecom_customer' && (
                  <>
                    <dt>{t('mc_corp_id')}</dt><dd>{c.corp_id || '—'}</dd>
                    <dt>{t('mc_corp_secret')}</dt><dd>{c.has_corp_secret ? t('mc_set') : t('mc_not_set')}</dd>
                    <dt>{t('mc_sender')}</dt><dd>{c.sender || '—'}</dd>
                  </>
                )}
                <dt>{t('created_at')}</dt><dd>{when(c.created_at)}</dd>
                <dt>{t('mc_updated')}</dt><dd>{when(c.updated_at)}</dd>
              </dl>
              <p><a href={`/deliveries?channel_id=${c.id}`}>{t('mc_outbox')}</a></p>
            </div>
          </Card>
          <TestMessage c={c} />
        </>
      )}</Async>
    </>
  );
}

function TestMessage({ c }) {
  const [text, setText] = useState(t('mc_test_default'));
  const [markdown, setMarkdown] = useState(false);
  const [customer, setCustomer] = useState('');
  const [ext, setExt] = useState('');
  const [sent, setSent] = useState(null);
  const s = useSubmit(async () => {
    const body = { text };
    if (markdown) body.markdown = true;
    const cid = customer.trim();
    if (cid) {
      if (!/^\d+$/.test(cid)) throw invalid('customer_id', t('mc_bad_customer'));
      body.customer_id = Number(cid);
    }
    if (ext.trim()) body.external_userid = ext.trim();
    const d = await post(`/message-channels/${c.id}/test`, body);
    toast(t('mc_test_queued', { id: d.id }));
    setSent(d.id);
  });
  return (
    <Card title={t('mc_test')}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="test-message">
        <Field label={t('mc_test_text')} name="text" error={s.error}>
          <textarea name="text" rows={3} maxLength={4000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </Field>
        {c.kind === 'wecom_bot' && (
          <label class="check-row"><input type="checkbox" name="markdown" checked={markdown} onChange={(e) => setMarkdown(e.currentTarget.checked)} />{t('mc_markdown')}</label>
        )}
        {c.kind === 'wecom_customer' && (
          <div class="form-row">
            <Field label={t('mc_test_customer')} name="customer_id" error={s.error}>
              <input name="customer_id" inputMode="numeric" value={customer} onInput={(e) => setCustomer(e.currentTarget.value)} />
            </Field>
            <Field label={t('mc_test_ext')} name="external_userid" error={s.error}>
              <input name="external_userid" value={ext} onInput={(e) => setExt(e.currentTarget.value)} autocomplete="off" />
            </Field>
          </div>
        )}
        <FormError error={s.error} fields={c.kind === 'wecom_customer' ? ['text', 'customer_id', 'external_userid'] : ['text']} />
        <div class="form-actions">
          <Button type="submit" class="primary" busy={s.busy} data-write data-action="send-test">{t('mc_test_send')}</Button>
        </div>
      </form>
      {sent && (
        <div class="mc-outcome" data-testid="test-outcome">
          <h3 class="dl-h3">{t('dl_outcome')} · #{sent}</h3>
          <DeliveryDetail key={sent} id={sent} compact />
        </div>
      )}
    </Card>
  );
}

function ChannelForm({ channel, onClose, onSaved }) {
  const [v, setV] = useState(() => ({
    name: channel ? channel.name : '',
    kind: channel ? channel.kind : 'webhook',
    url: channel && channel.url ? channel.url : '',
    secret: '',
    corp_id: channel && channel.corp_id ? channel.corp_id : '',
    corp_secret: '',
    sender: channel && channel.sender ? channel.sender : '',
    enabled: channel ? channel.enabled : true,
  }));
  const set = (k) => (e) => { const val = e.currentTarget.value; setV((s) => ({ ...s, [k]: val })); };
  const kind = v.kind;
  const s = useSubmit(async () => {
    const body = {};
    const name = v.name.trim();
    const str = (x) => (x === null || x === undefined ? '' : String(x));
    if (!channel) {
      body.name = name;
      body.kind = kind;
      if (v.url.trim() && kind !== 'log') body.url = v.url.trim();
      if (kind === 'webhook' && v.secret) body.secret = v.secret;
      if (kind === 'wecom_customer') {
        body.corp_id = v.corp_id.trim();
        body.corp_secret = v.corp_secret;
        if (v.sender.trim()) body.sender = v.sender.trim();
      }
      if (!v.enabled) body.enabled = false;
      const r = await post('/message-channels', body);
      toast(t('mc_created'));
      onSaved(r, true);
      return;
    }
    if (name !== channel.name) body.name = name;
    if (kind !== 'log' && v.url.trim() !== str(channel.url)) body.url = v.url.trim() || null;
    if (kind === 'webhook' && v.secret) body.secret = v.secret;
    if (kind === 'wecom_customer') {
      if (v.corp_id.trim() !== str(channel.corp_id)) body.corp_id = v.corp_id.trim() || null;
      if (v.corp_secret) body.corp_secret = v.corp_secret;
      if (v.sender.trim() !== str(channel.sender)) body.sender = v.sender.trim() || null;
    }
    if (v.enabled !== channel.enabled) body.enabled = v.enabled;
    if (Object.keys(body).length === 0) {
      toast(t('mc_nothing'));
      onClose();
      return;
    }
    const r = await patch(`/message-channels/${channel.id}`, body);
    toast(t('saved'));
    onSaved(r, false);
  });
  // the fields shown for this kind: an error naming another shows above the buttons
  const fields = ['name', 'kind', ...({ wecom_bot: ['url'], webhook: ['url', 'secret'], wecom_customer: ['corp_id', 'corp_secret', 'sender', 'url'] }[kind] || [])];
  return (
    <Modal title={channel ? t('mc_edit') : t('mc_new')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="message-channel">
        <Field label={t('mc_name')} name="name" error={s.error}>
          <input name="name" value={v.name} onInput={set('name')} maxLength={50} required autocomplete="off" />
        </Field>
        <Field label={t('mc_kind')} name="kind" error={s.error} hint={t('mc_kind_hint_' + kind)}>
          <select name="kind" value={kind} onChange={set('kind')} disabled={!!channel}>
            {CHANNEL_KINDS.map((k) => <option value={k}>{kindLabel(k)}</option>)}
          </select>
        </Field>
        {kind === 'wecom_bot' && (
          <Field label={t('mc_bot_url')} name="url" error={s.error} hint={t('mc_bot_url_hint')}>
            <input name="url" type="url" value={v.url} onInput={set('url')} autocomplete="off" placeholder="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" />
          </Field>
        )}
        {kind === 'webhook' && (
          <>
            <Field label={t('mc_hook_url')} name="url" error={s.error} hint={t('mc_hook_url_hint')}>
              <input name="url" type="url" value={v.url} onInput={set('url')} autocomplete="off" placeholder="https://example.com/scrm-hook" />
            </Field>
            <Field label={t('mc_secret')} name="secret" error={s.error} hint={channel ? t('mc_secret_keep') : t('mc_secret_hint')}>
              <input name="secret" type="password" value={v.secret} onInput={set('secret')} autocomplete="new-password" maxLength={200} />
            </Field>
          </>
        )}
        {kind === 'wecom_customer' && (
          <>
            <div class="form-row">
              <Field label={t('mc_corp_id')} name="corp_id" error={s.error}>
                <input name="corp_id" value={v.corp_id} onInput={set('corp_id')} autocomplete="off" maxLength={100} />
              </Field>
              <Field label={t('mc_corp_secret')} name="corp_secret" error={s.error} hint={channel ? t('mc_corp_secret_keep') : undefined}>
                <input name="corp_secret" type="password" value={v.corp_secret} onInput={set('corp_secret')} autocomplete="new-password" maxLength={200} />
              </Field>
            </div>
            <div class="form-row">
              <Field label={t('mc_sender')} name="sender" error={s.error}>
                <input name="sender" value={v.sender} onInput={set('sender')} autocomplete="off" maxLength={100} />
              </Field>
              <Field label={t('mc_api_base')} name="url" error={s.error} hint={t('mc_api_base_hint')}>
                <input name="url" type="url" value={v.url} onInput={set('url')} autocomplete="off" />
              </Field>
            </div>
          </>
        )}
        <label class="check-row"><input type="checkbox" name="enabled" checked={v.enabled} onChange={(e) => { const c = e.currentTarget.checked; setV((x) => ({ ...x, enabled: c })); }} />{t('mc_enabled')}</label>
        <FormError error={s.error} fields={fields} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('save')}</Button>
        </div>
      </form>
    </Modal>
  );
}
