// API tokens (admin): create one (its text is shown this once), see and revoke them.
import { useState } from 'preact/hooks';
import { del, get, post } from '../api.js';
import { addStrings, t, when } from '../i18n.js';
import { Async, Button, Card, ConfirmButton, Field, FormError, Pager, Table, toast, useAsync, usePager, useSubmit } from '../ui.jsx';

addStrings({
  zh: {
    tk_title: 'API 令牌', tk_new: '新建令牌', tk_name: '名称', tk_role: '角色', tk_prefix: '前缀', tk_status: '状态',
    tk_active: '有效', tk_revoked: '已撤销', tk_revoke: '撤销', tk_shown_once: '令牌只显示这一次，请立即复制：',
    tk_revoke_q: '撤销令牌“{name}”？使用它的集成将立即失效。', tk_last_used: '最近使用',
  },
  en: {
    tk_title: 'API tokens', tk_new: 'New token', tk_name: 'Name', tk_role: 'Role', tk_prefix: 'Prefix', tk_status: 'Status',
    tk_active: 'active', tk_revoked: 'revoked', tk_revoke: 'Revoke', tk_shown_once: 'The token is shown only this once; copy it now:',
    tk_revoke_q: 'Revoke the token "{name}"? Integrations using it stop at once.', tk_last_used: 'Last used',
  },
});

export default function Tokens() {
  const pager = usePager();
  const list = useAsync(() => get('/tokens', { cursor: pager.cursor, limit: 50 }), [pager.cursor]);
  const [name, setName] = useState('');
  const [role, setRole] = useState('operator');
  const [shown, setShown] = useState(null);
  const create = useSubmit(async () => {
    const r = await post('/tokens', { name, role });
    setShown(r.token);
    setName('');
    list.reload();
  });
  return (
    <div data-page="tokens">
      <div class="page-head"><h1>{t('tk_title')}</h1></div>
      <Card title={t('tk_new')}>
        <form class="form-row" onSubmit={(e) => { e.preventDefault(); create.submit(); }} novalidate>
          <Field label={t('tk_name')} name="name" error={create.error}>
            <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </Field>
          <Field label={t('tk_role')} name="role" error={create.error}>
            <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              {['viewer', 'operator', 'admin'].map((r) => <option value={r}>{t('role_' + r)}</option>)}
            </select>
          </Field>
          <div class="form-actions"><Button type="submit" class="primary" busy={create.busy} data-write>{t('create')}</Button></div>
        </form>
        <FormError error={create.error} fields={['name', 'role']} />
        {shown && <p class="error-box" style={{ background: '#e7f6ec', color: '#14532d' }} data-testid="new-token">{t('tk_shown_once')} <code>{shown}</code></p>}
      </Card>
      <Card>
        <Async state={list}>{(d) => (
          <>
            <Table rows={d.data} columns={[
              { key: 'id', label: t('id') },
              { key: 'name', label: t('tk_name') },
              { label: t('tk_role'), render: (r) => t('role_' + r.role) },
              { key: 'prefix', label: t('tk_prefix') },
              { label: t('tk_status'), render: (r) => (r.revoked_at ? <span class="badge bad">{t('tk_revoked')}</span> : <span class="badge ok">{t('tk_active')}</span>) },
              { label: t('tk_last_used'), render: (r) => when(r.last_used_at) },
              { label: t('actions'), render: (r) => !r.revoked_at && (
                <ConfirmButton class="small" message={t('tk_revoke_q', { name: r.name })}
                  onConfirm={async () => { await del(`/tokens/${r.id}`); toast(t('saved')); list.reload(); }}>{t('tk_revoke')}</ConfirmButton>
              ) },
            ]} />
            <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
          </>
        )}</Async>
      </Card>
    </div>
  );
}
