// Users (admin): the people who sign in to the dashboard. Create one with a
// role and a password, change a display name, role or password, deactivate
// (the name stays taken, the audit trail whole) and reactivate. The API's
// refusals (the last admin, deactivating yourself) are said in plain words.
import { useState } from 'preact/hooks';
import { ApiError, del, get, patch, post } from '../api.js';
import { addStrings, t, when } from '../i18n.js';
import {
  Async, Button, Card, ConfirmButton, Field, FormError, Modal, Pager, Table, isAdmin, toast, useAsync, useSubmit, useUrlPager, user,
} from '../ui.jsx';
import './deliveries.css';

addStrings({
  zh: {
    us_title: '用户', us_new: '新建用户', us_edit: '编辑用户', us_username: '用户名', us_display_name: '显示名', us_role: '角色',
    us_password: '密码', us_password2: '再次输入密码', us_new_password: '新密码（可选）', us_status: '状态', us_active: '在用',
    us_disabled: '已停用', us_deactivate: '停用', us_reactivate: '重新启用', us_you: '（我）', us_created: '用户已创建：{name}',
    us_deactivate_q: '停用用户“{name}”？TA 将立即退出登录、无法再登录；用户名保留，审计记录不变。', us_deactivated: '用户已停用',
    us_reactivated: '用户已重新启用', us_err_self: '不能停用你自己：请让另一位管理员操作。',
    us_err_last_admin: '至少要保留一位在用的管理员：先把另一位用户设为管理员。', us_err_mismatch: '两次输入的密码不一致',
    us_username_hint: '登录用：字母、数字和 . _ - @，创建后不能修改', us_password_hint: '至少 10 个字符', us_new_password_hint: '留空则不修改；修改后该用户需重新登录',
    us_self_note: '修改你自己的角色或密码后需要重新登录。', us_nothing: '没有改动', us_saved: '用户已保存', us_admin_only: '只有管理员可以管理用户。',
    us_role_hint_admin: '全部权限：用户、令牌、Webhook、消息通道、审计日志', us_role_hint_operator: '所有客户运营工作', us_role_hint_viewer: '只读',
    us_audit: '审计记录',
  },
  en: {
    us_title: 'Users', us_new: 'New user', us_edit: 'Edit user', us_username: 'User name', us_display_name: 'Display name', us_role: 'Role',
    us_password: 'Password', us_password2: 'Password again', us_new_password: 'New password (optional)', us_status: 'Status',
    us_active: 'active', us_disabled: 'deactivated', us_deactivate: 'Deactivate', us_reactivate: 'Reactivate', us_you: ' (me)',
    us_created: 'User created: {name}',
    us_deactivate_q: 'Deactivate "{name}"? They are signed out at once and cannot sign in again; the name stays taken and the audit trail whole.',
    us_deactivated: 'User deactivated', us_reactivated: 'User reactivated',
    us_err_self: 'You cannot deactivate yourself: ask another admin.',
    us_err_last_admin: 'At least one active admin must remain: make another user an admin first.',
    us_err_mismatch: 'The two passwords differ', us_username_hint: 'For signing in: letters, digits and . _ - @; cannot change later', us_password_hint: '10 characters or more',
    us_new_password_hint: 'Empty: unchanged; once changed, the user signs in again', us_self_note: 'Changing your own role or password signs you out.',
    us_nothing: 'Nothing changed', us_saved: 'User saved', us_admin_only: 'Only admins manage users.',
    us_role_hint_admin: 'Everything: users, tokens, webhooks, message channels, audit log', us_role_hint_operator: 'All customer work',
    us_role_hint_viewer: 'Read only', us_audit: 'Audit trail',
  },
});

const ROLES = ['viewer', 'operator', 'admin'];
const mismatch = () => new ApiError(422, { error: { code: 'validation_failed', message: t('us_err_mismatch'), field: 'password2' } });

// The API's refusals in the words of the page, still naming their field.
function explain(e) {
  if (e instanceof ApiError && e.status === 409) {
    let msg = null;
    if (/yourself/.test(e.message)) msg = t('us_err_self');
    else if (/admin must remain/.test(e.message)) msg = t('us_err_last_admin');
    if (msg) return new ApiError(409, { error: { code: e.code, message: msg, field: e.field } });
  }
  return e;
}

async function explained(fn) {
  try {
    return await fn();
  } catch (e) {
    throw explain(e);
  }
}

export default function Users({ query }) {
  const pager = useUrlPager(query, 'users');
  const [version, setVersion] = useState(0);
  const list = useAsync(() => get('/users', { cursor: pager.cursor, limit: 50 }), [pager.cursor, version]);
  const [form, setForm] = useState(null);
  const admin = isAdmin();
  const me = user();
  const bump = () => setVersion((v) => v + 1);
  // reactivations under way, by user id: each row's button is busy on its own
  const [reactivating, setReactivating] = useState(() => new Set());
  const [reactivateError, setReactivateError] = useState(null);
  const reactivate = async (u) => {
    setReactivating((s) => new Set(s).add(u.id));
    setReactivateError(null);
    try {
      await explained(() => patch(`/users/${u.id}`, { disabled: false }));
      toast(t('us_reactivated'));
      bump();
    } catch (e) {
      setReactivateError(e);
    } finally {
      setReactivating((s) => {
        const n = new Set(s);
        n.delete(u.id);
        return n;
      });
    }
  };
  return (
    <div data-page="users">
      <div class="page-head">
        <h1>{t('us_title')}</h1>
        {admin && <Button class="primary" data-write data-action="new-user" onClick={() => setForm({})}>{t('us_new')}</Button>}
      </div>
      {!admin ? <Card><p class="muted">{t('us_admin_only')}</p></Card> : (
        <Card>
          <FormError error={reactivateError} fields={[]} />
          <Async state={list}>{(d) => (
            <>
              <Table rows={d.data} stack columns={[
                { label: t('us_username'), render: (u) => <span data-user={u.username}><strong>{u.username}</strong>{me && u.id === me.id && <span class="muted">{t('us_you')}</span>}</span> },
                { label: t('us_display_name'), render: (u) => u.display_name || '—' },
                { label: t('us_role'), render: (u) => t('role_' + u.role) },
                { label: t('us_status'), render: (u) => <span class={`badge ${u.disabled ? 'bad' : 'ok'}`}>{u.disabled ? t('us_disabled') : t('us_active')}</span> },
                { label: t('created_at'), render: (u) => when(u.created_at) },
                { label: t('actions'), render: (u) => (
                  <span class="row-btns">
                    <Button class="small" data-write onClick={() => setForm(u)}>{t('edit')}</Button>
                    {u.disabled ? (
                      <Button class="small" data-write data-action="reactivate" busy={reactivating.has(u.id)} onClick={() => reactivate(u)}>{t('us_reactivate')}</Button>
                    ) : (!me || u.id !== me.id) && (
                      <ConfirmButton class="small" data-action="deactivate" message={t('us_deactivate_q', { name: u.display_name || u.username })}
                        onConfirm={async () => { await explained(() => del(`/users/${u.id}`)); toast(t('us_deactivated')); bump(); }}>
                        {t('us_deactivate')}
                      </ConfirmButton>
                    )}
                    <a class="btn small ghost" href={`/admin/audit?target_type=user&target_id=${u.id}`}>{t('us_audit')}</a>
                  </span>
                ) },
              ]} />
              <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
            </>
          )}</Async>
        </Card>
      )}
      {form && (form.id
        ? <EditUser u={form} onClose={() => setForm(null)} onSaved={() => { setForm(null); bump(); }} />
        : <NewUser onClose={() => setForm(null)} onSaved={() => { setForm(null); bump(); }} />)}
    </div>
  );
}

function RoleSelect({ value, onChange, error }) {
  return (
    <Field label={t('us_role')} name="role" error={error} hint={t('us_role_hint_' + value)}>
      <select name="role" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {ROLES.map((r) => <option value={r}>{t('role_' + r)}</option>)}
      </select>
    </Field>
  );
}

function NewUser({ onClose, onSaved }) {
  const [v, setV] = useState({ username: '', display_name: '', role: 'operator', password: '', password2: '' });
  const set = (k) => (e) => { const val = e.currentTarget.value; setV((s) => ({ ...s, [k]: val })); };
  const s = useSubmit(async () => {
    if (v.password !== v.password2) throw mismatch();
    const body = { username: v.username.trim(), role: v.role, password: v.password };
    if (v.display_name.trim()) body.display_name = v.display_name.trim();
    const r = await post('/users', body);
    toast(t('us_created', { name: r.username }));
    onSaved(r);
  });
  return (
    <Modal title={t('us_new')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="new-user">
        <div class="form-row">
          <Field label={t('us_username')} name="username" error={s.error} hint={t('us_username_hint')}>
            <input name="username" value={v.username} onInput={set('username')} autocomplete="off" maxLength={64} required />
          </Field>
          <Field label={t('us_display_name')} name="display_name" error={s.error}>
            <input name="display_name" value={v.display_name} onInput={set('display_name')} autocomplete="off" maxLength={100} />
          </Field>
        </div>
        <RoleSelect value={v.role} onChange={(r) => setV((x) => ({ ...x, role: r }))} error={s.error} />
        <div class="form-row">
          <Field label={t('us_password')} name="password" error={s.error} hint={t('us_password_hint')}>
            <input name="password" type="password" value={v.password} onInput={set('password')} autocomplete="new-password" required />
          </Field>
          <Field label={t('us_password2')} name="password2" error={s.error}>
            <input name="password2" type="password" value={v.password2} onInput={set('password2')} autocomplete="new-password" required />
          </Field>
        </div>
        <FormError error={s.error} fields={['username', 'display_name', 'role', 'password', 'password2']} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('create')}</Button>
        </div>
      </form>
    </Modal>
  );
}

function EditUser({ u, onClose, onSaved }) {
  const me = user();
  const self = me && me.id === u.id;
  const [v, setV] = useState({ display_name: u.display_name || '', role: u.role, password: '', password2: '' });
  const set = (k) => (e) => { const val = e.currentTarget.value; setV((s) => ({ ...s, [k]: val })); };
  const s = useSubmit(async () => {
    const body = {};
    if (v.display_name.trim() !== (u.display_name || '')) body.display_name = v.display_name.trim();
    if (v.role !== u.role) body.role = v.role;
    if (v.password || v.password2) {
      if (v.password !== v.password2) throw mismatch();
      body.password = v.password;
    }
    if (Object.keys(body).length === 0) {
      toast(t('us_nothing'));
      onClose();
      return;
    }
    await explained(() => patch(`/users/${u.id}`, body));
    toast(t('us_saved'));
    onSaved();
  });
  return (
    <Modal title={`${t('us_edit')} · ${u.username}`} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="edit-user">
        {self && <p class="muted">{t('us_self_note')}</p>}
        <Field label={t('us_display_name')} name="display_name" error={s.error}>
          <input name="display_name" value={v.display_name} onInput={set('display_name')} autocomplete="off" maxLength={100} />
        </Field>
        <RoleSelect value={v.role} onChange={(r) => setV((x) => ({ ...x, role: r }))} error={s.error} />
        <div class="form-row">
          <Field label={t('us_new_password')} name="password" error={s.error} hint={t('us_new_password_hint')}>
            <input name="password" type="password" value={v.password} onInput={set('password')} autocomplete="new-password" />
          </Field>
          <Field label={t('us_password2')} name="password2" error={s.error}>
            <input name="password2" type="password" value={v.password2} onInput={set('password2')} autocomplete="new-password" />
          </Field>
        </div>
        <FormError error={s.error} fields={['display_name', 'role', 'password', 'password2']} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('save')}</Button>
        </div>
      </form>
    </Modal>
  );
}
