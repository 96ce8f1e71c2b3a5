// API tokens (admin): create one (its text is shown this once, never again),
// see them page by page (the cursor in the URL) and revoke them.
import { useState } from 'preact/hooks';
import { ApiError, del, get, post } from '../api.js';
import { addStrings, t, when } from '../i18n.js';
import {
  Async, Button, Card, ConfirmButton, Field, FormError, OnceBox, Pager, Table, isAdmin, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import './deliveries.css';

addStrings({
  zh: {
    tk_title: 'API 令牌', tk_new: '新建令牌', tk_name: '名称', tk_role: '角色', tk_prefix: '前缀', tk_status: '状态',
    tk_active: '有效', tk_revoked: '已撤销', tk_expired: '已过期', tk_revoke: '撤销', tk_shown_once: '令牌只显示这一次，请立即复制：',
    tk_revoke_q: '撤销令牌“{name}”？使用它的集成将立即失效。', tk_last_used: '最近使用', tk_expires: '到期日（可选）',
    tk_expires_col: '到期时间', tk_expires_hint: '留空则永不过期；到期日当天 0 点起失效', tk_never: '永不',
    tk_created: '令牌已创建：{name}', tk_revoked_ok: '令牌已撤销', tk_admin_only: '只有管理员可以管理 API 令牌。',
    tk_bad_date: '请选择今天之后的日期',
  },
  en: {
    tk_title: 'API tokens', tk_new: 'New token', tk_name: 'Name', tk_role: 'Role', tk_prefix: 'Prefix', tk_status: 'Status',
    tk_active: 'active', tk_revoked: 'revoked', tk_expired: 'expired', tk_revoke: 'Revoke', tk_shown_once: 'The token is shown only this once; copy it now:',
    tk_revoke_q: 'Revoke the token "{name}"? Integrations using it stop at once.', tk_last_used: 'Last used', tk_expires: 'Expires on (optional)',
    tk_expires_col: 'Expires', tk_expires_hint: 'Empty: never; it stops working at the start of that day', tk_never: 'never',
    tk_created: 'Token created: {name}', tk_revoked_ok: 'Token revoked', tk_admin_only: 'Only admins manage API tokens.',
    tk_bad_date: 'Choose a date after today',
  },
});

const ROLES = ['viewer', 'operator', 'admin'];

function TokenStatus({ r }) {
  if (r.revoked_at) return <span class="badge bad" data-status="revoked">{t('tk_revoked')}</span>;
  if (r.expires_at && new Date(r.expires_at) <= new Date()) return <span class="badge warn" data-status="expired">{t('tk_expired')}</span>;
  return <span class="badge ok" data-status="active">{t('tk_active')}</span>;
}

export default function Tokens({ query }) {
  const admin = isAdmin();
  return (
    <div data-page="tokens">
      <div class="page-head"><h1>{t('tk_title')}</h1></div>
      {admin ? <TokenList query={query} /> : <Card><p class="muted">{t('tk_admin_only')}</p></Card>}
    </div>
  );
}

function TokenList({ query }) {
  const pager = useUrlPager(query, 'tokens');
  const [version, setVersion] = useState(0);
  const list = useAsync(() => get('/tokens', { cursor: pager.cursor, limit: 50 }), [pager.cursor, version]);
  // the text of the token just created: held here only, gone on hide or on leaving the page
  const [shown, setShown] = useState(null);
  const bump = () => setVersion((v) => v + 1);
  return (
    <>
      <Card title={t('tk_new')}>
        <NewToken onCreated={(r) => { setShown(r.token); bump(); }} />
        {shown && (
          <OnceBox label={t('tk_shown_once')} value={shown} testid="new-token" onHide={() => setShown(null)} />
        )}
      </Card>
      <Card>
        <Async state={list}>{(d) => (
          <>
            <Table rows={d.data} stack columns={[
              { label: t('tk_name'), render: (r) => <span data-token={r.id}>{r.name}</span> },
              { label: t('tk_role'), render: (r) => t('role_' + r.role) },
              { label: t('tk_prefix'), render: (r) => <code>{r.prefix}…</code> },
              { label: t('tk_status'), render: (r) => <TokenStatus r={r} /> },
              { label: t('created_at'), render: (r) => when(r.created_at) },
              { label: t('tk_last_used'), render: (r) => when(r.last_used_at) },
              { label: t('tk_expires_col'), render: (r) => (r.expires_at ? when(r.expires_at) : t('tk_never')) },
              { label: t('actions'), render: (r) => (r.revoked_at ? '—' : (
                <ConfirmButton class="small" data-action="revoke" message={t('tk_revoke_q', { name: r.name })}
                  onConfirm={async () => { await del(`/tokens/${r.id}`); toast(t('tk_revoked_ok')); bump(); }}>{t('tk_revoke')}</ConfirmButton>
              )) },
            ]} />
            <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
          </>
        )}</Async>
      </Card>
    </>
  );
}

function NewToken({ onCreated }) {
  const [v, setV] = useState({ name: '', role: 'operator', expires: '' });
  const set = (k) => (e) => { const val = e.currentTarget.value; setV((s) => ({ ...s, [k]: val })); };
  const s = useSubmit(async () => {
    const body = { name: v.name.trim(), role: v.role };
    if (v.expires) {
      // the start of that day in the browser's zone
      const at = new Date(`${v.expires}T00:00:00`);
      if (Number.isNaN(at.getTime()) || at <= new Date()) {
        throw new ApiError(422, { error: { code: 'validation_failed', message: t('tk_bad_date'), field: 'expires_at' } });
      }
      body.expires_at = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    const r = await post('/tokens', body);
    toast(t('tk_created', { name: r.name }));
    setV({ name: '', role: v.role, expires: '' });
    onCreated(r);
  });
  return (
    <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="token">
      <div class="form-row">
        <Field label={t('tk_name')} name="name" error={s.error}>
          <input name="name" value={v.name} onInput={set('name')} maxLength={100} required autocomplete="off" />
        </Field>
        <Field label={t('tk_role')} name="role" error={s.error}>
          <select name="role" value={v.role} onChange={set('role')}>
            {ROLES.map((r) => <option value={r}>{t('role_' + r)}</option>)}
          </select>
        </Field>
        <Field label={t('tk_expires')} name="expires_at" error={s.error} hint={t('tk_expires_hint')}>
          <input name="expires_at" type="date" value={v.expires} onInput={set('expires')} />
        </Field>
      </div>
      <FormError error={s.error} fields={['name', 'role', 'expires_at']} />
      <div class="form-actions">
        <Button type="submit" class="primary" busy={s.busy} data-write>{t('create')}</Button>
      </div>
    </form>
  );
}
