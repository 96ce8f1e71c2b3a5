// Community groups: the list with kind, owner and members; a group's page (in
// the URL as ?id=) with its activity figures over a range and its members, paged.
// Writers create, edit and delete groups, add members by customer id and take
// members out.
import { useState } from 'preact/hooks';
import { ApiError, del, get, patch, post } from '../api.js';
import { addStrings, money, num, pct, t, when } from '../i18n.js';
import { navigate, setQuery } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, Field, FormError, Modal, Pager, RangePicker, canWrite, isAdmin, toast, useAsync, useSubmit, useUrlPager, user,
} from '../ui.jsx';
import { DefStat, DefTable } from './analytics.jsx';

addStrings({
  zh: {
    gr_title: '社群', gr_new: '新建社群', gr_edit: '编辑社群', gr_name: '群名称', gr_kind: '类型', gr_owner: '负责人', gr_nobody: '无',
    gr_members: '成员', gr_kind_basic: '普通群', gr_kind_high_value: '高价值群', gr_kind_koc: 'KOC 群',
    gr_delete_q: '删除社群“{name}”？成员关系和活动记录会一并删除。', gr_deleted: '社群已删除', gr_back: '返回社群列表',
    gr_activity: '社群活跃度', gr_add_members: '添加成员', gr_customer_ids: '客户 ID', gr_customer_ids_hint: '多个 ID 用逗号、空格或换行分隔，一次最多 1000 个',
    gr_add: '添加', gr_added: '已添加 {added} 人，{already} 人原本就在群里', gr_bad_ids: '请输入客户 ID（正整数），用逗号或空格分隔',
    gr_too_many: '一次最多添加 1000 人', gr_member_list: '成员列表', gr_total: '共 {n} 人', gr_remove: '移出',
    gr_remove_q: '把客户“{name}”移出社群“{group}”？', gr_removed: '已移出', gr_customer: '客户', gr_phone: '手机号',
    gr_stage: '阶段', gr_orders: '订单数', gr_spent: '累计消费', gr_joined_at: '入群时间', gr_no_figures: '这个区间没有该群的数据',
    gr_erased: '（已删除）',
  },
  en: {
    gr_title: 'Groups', gr_new: 'New group', gr_edit: 'Edit group', gr_name: 'Name', gr_kind: 'Kind', gr_owner: 'Owner', gr_nobody: 'Nobody',
    gr_members: 'Members', gr_kind_basic: 'Basic', gr_kind_high_value: 'High value', gr_kind_koc: 'KOC',
    gr_delete_q: 'Delete the group "{name}"? Its memberships and activity are deleted with it.', gr_deleted: 'Group deleted', gr_back: 'Back to the groups',
    gr_activity: 'Activity', gr_add_members: 'Add members', gr_customer_ids: 'Customer ids', gr_customer_ids_hint: 'Separate ids with commas, spaces or new lines; up to 1,000 at once',
    gr_add: 'Add', gr_added: '{added} added, {already} were members already', gr_bad_ids: 'Enter customer ids (positive whole numbers) separated by commas or spaces',
    gr_too_many: 'At most 1,000 at once', gr_member_list: 'Members', gr_total: '{n} in all', gr_remove: 'Remove',
    gr_remove_q: 'Take the customer "{name}" out of the group "{group}"?', gr_removed: 'Removed', gr_customer: 'Customer', gr_phone: 'Phone',
    gr_stage: 'Stage', gr_orders: 'Orders', gr_spent: 'Spent', gr_joined_at: 'Joined', gr_no_figures: 'No figures for this group in the range',
    gr_erased: '(erased)',
  },
});

const KINDS = ['basic', 'high_value', 'koc'];

// Who can own a group: the users (admins may list them), else the operators who own customers, and me.
function useOwners() {
  return useAsync(async () => {
    const map = new Map();
    try {
      if (isAdmin()) {
        const r = await get('/users', { limit: 500 });
        for (const u of r.data) if (!u.disabled) map.set(u.id, u.display_name || u.username);
      } else {
        const r = await get('/analytics/operators');
        for (const o of r.operators) if (o.user_id !== null) map.set(o.user_id, o.display_name || o.username);
      }
    } catch {
      // names only; the ids still show
    }
    const me = user();
    if (me && !map.has(me.id)) map.set(me.id, me.display_name || me.username);
    return map;
  }, []);
}

const ownerName = (owners, id) => (id === null || id === undefined ? t('gr_nobody') : ((owners.data && owners.data.get(id)) || `#${id}`));

export default function Groups({ query }) {
  const owners = useOwners();
  const [form, setForm] = useState(null);
  const [version, setVersion] = useState(0); // bumped by every write
  const id = query.get('id') || '';
  const write = canWrite();
  const remove = async (g) => {
    await del(`/groups/${g.id}`);
    toast(t('gr_deleted'));
    setVersion((v) => v + 1);
    if (String(g.id) === id) setQuery({ id: '', from: '', to: '' });
  };
  return (
    <div data-page="groups">
      <div class="page-head">
        <h1>{t('gr_title')}</h1>
        {write && <Button class="primary" data-write onClick={() => setForm({})}>{t('gr_new')}</Button>}
      </div>
      {id ? <GroupDetail key={id} id={id} query={query} version={version} owners={owners} write={write} onEdit={(g) => setForm(g)} onDelete={remove} />
        : <List query={query} version={version} owners={owners} write={write} onEdit={(g) => setForm(g)} onDelete={remove} />}
      {form && (
        <GroupForm group={form.id ? form : null} owners={owners} onClose={() => setForm(null)} onSaved={(g) => {
          setForm(null);
          setVersion((v) => v + 1);
          navigate(`/groups?id=${g.id}`);
        }} />
      )}
    </div>
  );
}

function List({ query, version, owners, write, onEdit, onDelete }) {
  const pager = useUrlPager(query, 'groups');
  const list = useAsync(() => get('/groups', { cursor: pager.cursor, limit: 50 }), [pager.cursor, version]);
  return (
    <Card>
      <Async state={list}>{(d) => (
        <>
          <DefTable rows={d.data} stack columns={[
            { label: t('gr_name'), render: (g) => <a href={`/groups?id=${g.id}`}>{g.name}</a> },
            { label: t('gr_kind'), render: (g) => t('gr_kind_' + g.kind) },
            { label: t('gr_owner'), render: (g) => ownerName(owners, g.owner_user_id) },
            { label: t('gr_members'), title: t('an_d_members'), num: true, render: (g) => num(g.members) },
            { label: t('created_at'), render: (g) => when(g.created_at) },
            ...(write ? [{ label: t('actions'), render: (g) => (
              <span class="row-actions">
                <Button class="small" data-write onClick={() => onEdit(g)}>{t('edit')}</Button>
                <ConfirmButton class="small danger" data-write message={t('gr_delete_q', { name: g.name })} onConfirm={() => onDelete(g)}>{t('delete')}</ConfirmButton>
              </span>
            ) }] : []),
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function GroupDetail({ id, query, version, owners, write, onEdit, onDelete }) {
  const [members, setMembers] = useState(0); // bumped when members change
  const st = useAsync(() => get(`/groups/${encodeURIComponent(id)}`), [id, version, members]);
  const changed = () => setMembers((n) => n + 1);
  return (
    <Async state={st}>{(g) => (
      <div data-group={g.id}>
        <Card title={g.name} class="gr-detail" actions={
          <>
            {write && <Button class="small" data-write onClick={() => onEdit(g)}>{t('edit')}</Button>}
            {write && <ConfirmButton class="small danger" data-write message={t('gr_delete_q', { name: g.name })} onConfirm={() => onDelete(g)}>{t('delete')}</ConfirmButton>}
            <a href="/groups">{t('gr_back')}</a>
          </>
        }>
          <dl class="kv">
            <dt>{t('gr_kind')}</dt><dd>{t('gr_kind_' + g.kind)}</dd>
            <dt>{t('gr_owner')}</dt><dd>{ownerName(owners, g.owner_user_id)}</dd>
            <dt title={t('an_d_members')}>{t('gr_members')}</dt><dd>{num(g.members)}</dd>
            <dt>{t('created_at')}</dt><dd>{when(g.created_at)}</dd>
          </dl>
        </Card>
        <Activity group={g} query={query} version={members} />
        {write && <AddMembers group={g} onAdded={changed} />}
        <Members group={g} query={query} write={write} version={members} onRemoved={changed} />
      </div>
    )}</Async>
  );
}

// The group's figures from GET /analytics/groups?group_id= over the range in the URL.
function Activity({ group, query, version }) {
  const from = query.get('from') || '';
  const to = query.get('to') || '';
  const st = useAsync(() => get('/analytics/groups', { from, to, group_id: group.id }), [group.id, from, to, version]);
  return (
    <Card title={t('gr_activity')} actions={<RangePicker from={from} to={to} onChange={(r) => setQuery(r)} />}>
      <Async state={st}>{(r) => {
        const g = r.groups.find((x) => x.group_id === group.id);
        if (!g) return <p class="empty">{t('gr_no_figures')}</p>;
        return (
          <div class="stats" data-testid="group-activity">
            <DefStat label={t('an_col_members')} title={t('an_d_members')} value={num(g.members)} />
            <DefStat label={t('an_col_active')} title={t('an_d_active')} value={num(g.active_members)} />
            <DefStat label={t('an_col_interaction_rate')} title={t('an_d_interaction_rate')} value={pct(g.interaction_rate)} />
            <DefStat label={t('an_col_converted')} title={t('an_d_converted')} value={num(g.converted_members)} />
            <DefStat label={t('an_col_conversion_rate')} title={t('an_d_conversion_rate')} value={pct(g.conversion_rate)} />
          </div>
        );
      }}</Async>
    </Card>
  );
}

const invalid = (field, message) => new ApiError(422, { error: { code: 'validation_failed', message, field } });

function AddMembers({ group, onAdded }) {
  const [text, setText] = useState('');
  const s = useSubmit(async () => {
    const parts = text.split(/[\s,，、;；]+/).filter(Boolean);
    if (parts.length === 0 || parts.some((p) => !/^[1-9]\d{0,17}$/.test(p))) throw invalid('customer_ids', t('gr_bad_ids'));
    if (parts.length > 1000) throw invalid('customer_ids', t('gr_too_many'));
    const r = await post(`/groups/${group.id}/members`, { customer_ids: parts.map(Number) });
    toast(t('gr_added', { added: num(r.added), already: num(r.already) }));
    setText('');
    onAdded();
  });
  return (
    <Card title={t('gr_add_members')}>
      <form class="gr-add" onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="add-members">
        <Field label={t('gr_customer_ids')} name="customer_ids" error={s.error} hint={t('gr_customer_ids_hint')}>
          <input name="customer_ids" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="42, 57, 108" autocomplete="off" />
        </Field>
        <FormError error={s.error} fields={['customer_ids']} />
        <div class="form-actions">
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('gr_add')}</Button>
        </div>
      </form>
    </Card>
  );
}

// The members' page is in the URL (mem_cursor, mem_page): a reload keeps it.
function Members({ group, query, write, version, onRemoved }) {
  const pager = useUrlPager(query, `members-${group.id}`, 'mem');
  const st = useAsync(() => get(`/groups/${group.id}/members`, { cursor: pager.cursor, limit: 20, count: 'true' }), [group.id, pager.cursor, version]);
  return (
    <Card title={t('gr_member_list')} actions={st.data && st.data.total !== undefined && <span class="muted">{t('gr_total', { n: num(st.data.total) })}</span>}>
      <Async state={st}>{(d) => (
        <>
          <DefTable rows={d.data} stack columns={[
            { label: t('gr_customer'), render: (c) => <a href={`/customers/${c.id}`}>#{c.id} {c.name || t('gr_erased')}</a> },
            { label: t('gr_phone'), render: (c) => c.phone || '—' },
            { label: t('gr_stage'), render: (c) => (c.stage ? t('an_stage_' + c.stage) : '—') },
            { label: t('gr_orders'), num: true, render: (c) => num(c.order_count) },
            { label: t('gr_spent'), num: true, render: (c) => money(c.total_spent_cents) },
            { label: t('gr_joined_at'), render: (c) => when(c.joined_at) },
            ...(write ? [{ label: t('actions'), render: (c) => (
              <ConfirmButton class="small danger" data-write message={t('gr_remove_q', { name: c.name || `#${c.id}`, group: group.name })}
                onConfirm={async () => { await del(`/groups/${group.id}/members/${c.id}`); toast(t('gr_removed')); onRemoved(); }}>{t('gr_remove')}</ConfirmButton>
            ) }] : []),
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={st.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function GroupForm({ group, owners, onClose, onSaved }) {
  const [name, setName] = useState(group ? group.name : '');
  const [kind, setKind] = useState(group ? group.kind : 'basic');
  const [owner, setOwner] = useState(group && group.owner_user_id !== null ? String(group.owner_user_id) : '');
  const s = useSubmit(async () => {
    const body = { name: name.trim(), kind, owner_user_id: owner ? Number(owner) : null };
    if (!group && body.owner_user_id === null) delete body.owner_user_id;
    const r = group ? await patch(`/groups/${group.id}`, body) : await post('/groups', body);
    toast(t('saved'));
    onSaved(r);
  });
  const choices = owners.data ? [...owners.data.entries()] : [];
  if (owner && !choices.some(([uid]) => String(uid) === owner)) choices.push([Number(owner), `#${owner}`]);
  return (
    <Modal title={group ? t('gr_edit') : t('gr_new')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="group">
        <Field label={t('gr_name')} name="name" error={s.error}>
          <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} />
        </Field>
        <div class="form-row">
          <Field label={t('gr_kind')} name="kind" error={s.error}>
            <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
              {KINDS.map((k) => <option value={k}>{t('gr_kind_' + k)}</option>)}
            </select>
          </Field>
          <Field label={t('gr_owner')} name="owner_user_id" error={s.error}>
            <select name="owner_user_id" value={owner} onChange={(e) => setOwner(e.currentTarget.value)}>
              <option value="">{t('gr_nobody')}</option>
              {choices.map(([uid, label]) => <option value={String(uid)}>{label}</option>)}
            </select>
          </Field>
        </div>
        <FormError error={s.error} fields={['name', 'kind', 'owner_user_id']} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('save')}</Button>
        </div>
      </form>
    </Modal>
  );
}
