// Tasks: the work SOPs hand to operators (a `task` action): what to do, about
// which customer, and the message to send by hand (with a copy button). "My
// open tasks" by default; switches for everyone's and for done ones. Writers
// tick a task done (and can open it again or hand it to someone else).
import { useState } from 'preact/hooks';
import { ApiError, get, patch } from '../api.js';
import { addStrings, num, t, when } from '../i18n.js';
import { setQuery } from '../router.js';
import {
  Async, Button, Card, Field, FormError, Pager, Spinner, Table, canWrite, errorText, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import { OwnerOptions, customerName, ownerName, useOwners } from './customers.jsx';
import './tasks.css';

addStrings({
  zh: {
    tk2_title: '我的任务', tk2_who: '谁的任务', tk2_mine: '我的', tk2_everyone: '所有人', tk2_state: '状态', tk2_open: '待办',
    tk2_done_only: '已完成', tk2_all: '全部', tk2_task: '任务', tk2_customer: '客户', tk2_message: '要发送的消息',
    tk2_handed: '派发时间', tk2_assignee: '负责人', tk2_done: '完成', tk2_done_at: '完成时间', tk2_done_by: '完成人',
    tk2_unassigned: '未分配', tk2_no_customer: '无（群发任务）', tk2_no_message: '无', tk2_copy: '复制', tk2_copied: '消息已复制',
    tk2_copy_failed: '无法复制，请手动选中文字复制', tk2_copy_label: '复制要发送给 {name} 的消息',
    tk2_mark_done: '标记任务“{text}”为完成', tk2_done_ok: '任务已完成', tk2_reopened: '任务已重新打开',
    tk2_none_open: '没有待办任务 🎉', tk2_none: '没有任务', tk2_total: '共 {n} 项', tk2_detail: '任务详情', tk2_sop: '来自 SOP',
    tk2_sop_gone: 'SOP 已删除', tk2_run: '运行 #{id}', tk2_reassign: '转交', tk2_reassign_ok: '任务已转交',
    tk2_state_open: '待办', tk2_state_done: '已完成', tk2_created: '创建时间', tk2_updated: '更新时间',
    tk2_handed_hint: '任务在 SOP 触发时派发', tk2_open_task: '打开任务 #{id}', tk2_reopen: '重新打开', tk2_back: '返回任务列表',
    tk2_overdue_only: '已逾期', tk2_due: '截止时间', tk2_no_due: '不限', tk2_overdue: '已逾期', tk2_set_due: '修改截止时间',
    tk2_due_ok: '截止时间已更新', tk2_due_cleared: '已取消截止时间', tk2_clear_due: '取消截止时间', tk2_due_need: '请选择日期和时间',
  },
  en: {
    tk2_title: 'My tasks', tk2_who: 'Whose', tk2_mine: 'Mine', tk2_everyone: 'Everyone\'s', tk2_state: 'State', tk2_open: 'Open',
    tk2_done_only: 'Done', tk2_all: 'All', tk2_task: 'Task', tk2_customer: 'Customer', tk2_message: 'Message to send',
    tk2_handed: 'Handed out', tk2_assignee: 'Assignee', tk2_done: 'Done', tk2_done_at: 'Done at', tk2_done_by: 'Done by',
    tk2_unassigned: 'unassigned', tk2_no_customer: 'none (a group task)', tk2_no_message: 'none', tk2_copy: 'Copy',
    tk2_copied: 'Message copied', tk2_copy_failed: 'Could not copy: select the text and copy it by hand',
    tk2_copy_label: 'Copy the message for {name}', tk2_mark_done: 'Mark the task "{text}" done', tk2_done_ok: 'Task done',
    tk2_reopened: 'Task opened again', tk2_none_open: 'No open task 🎉', tk2_none: 'No task', tk2_total: '{n} in all',
    tk2_detail: 'Task', tk2_sop: 'From the SOP', tk2_sop_gone: 'SOP deleted', tk2_run: 'run #{id}', tk2_reassign: 'Hand over',
    tk2_reassign_ok: 'Task handed over', tk2_state_open: 'open', tk2_state_done: 'done', tk2_created: 'Created',
    tk2_updated: 'Updated', tk2_handed_hint: 'Handed out when the SOP fired', tk2_open_task: 'Open the task #{id}',
    tk2_reopen: 'Open again', tk2_back: 'Back to the tasks', tk2_overdue_only: 'Overdue', tk2_due: 'Due',
    tk2_no_due: 'no due time', tk2_overdue: 'overdue', tk2_set_due: 'Change the due time', tk2_due_ok: 'Due time changed',
    tk2_due_cleared: 'Due time removed', tk2_clear_due: 'Remove the due time', tk2_due_need: 'Choose a date and a time',
  },
});

// Copy text to the clipboard; the older way where the Clipboard API is not
// there (a page served over plain http on a LAN address).
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  const ok = document.execCommand('copy');
  ta.remove();
  if (!ok) throw new Error('copy');
}

function CopyButton({ text, name }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await copyText(text);
      setDone(true);
      toast(t('tk2_copied'));
      setTimeout(() => setDone(false), 1500);
    } catch {
      toast(t('tk2_copy_failed'), 'bad');
    }
  };
  return (
    <Button class="small" data-action="copy" aria-label={t('tk2_copy_label', { name })} onClick={copy}>
      {done ? '✓ ' : ''}{t('tk2_copy')}
    </Button>
  );
}

// The done box: PATCH /tasks/{id} {done}; the task stays in the list (struck
// through) so that a slip can be undone.
function DoneBox({ task, onChange, label }) {
  const [want, setWant] = useState(null); // the state asked for while the PATCH runs
  const [error, setError] = useState(null);
  const busy = want !== null;
  const flip = async (done) => {
    setWant(done);
    setError(null);
    try {
      const r = await patch(`/tasks/${task.id}`, { done });
      toast(r.done ? t('tk2_done_ok') : t('tk2_reopened'));
      onChange(r);
    } catch (e) {
      setError(e);
    } finally {
      setWant(null);
    }
  };
  return (
    <span class="tk2-donebox">
      <label class="tk2-check">
        <input type="checkbox" data-write data-task-done={task.id} checked={busy ? want : task.done} disabled={busy}
          aria-label={t('tk2_mark_done', { text: task.text })} onChange={(e) => flip(e.currentTarget.checked)} />
        {label && <span>{t('tk2_done')}</span>}
        {busy && <Spinner label={false} />}
      </label>
      {error && <span class="field-error" role="alert">{errorText(error)}</span>}
    </span>
  );
}

function MessageBox({ task }) {
  if (!task.message) return <span class="muted">{t('tk2_no_message')}</span>;
  const who = task.customer ? customerName(task.customer) : '';
  return (
    <span class="tk2-msg">
      <span class="tk2-msg-text" data-message>{task.message}</span>
      <CopyButton text={task.message} name={who} />
    </span>
  );
}

function CustomerCell({ c }) {
  if (!c) return <span class="muted">{t('tk2_no_customer')}</span>;
  return (
    <span class="tk2-cust">
      <a href={`/customers/${c.id}`} data-customer={c.id}>{customerName(c)}</a>
      {c.phone && <span class="muted"> {c.phone}</span>}
    </span>
  );
}

function taskHref(query, id) {
  const p = new URLSearchParams(query);
  p.set('id', String(id));
  return `/tasks?${p.toString()}`;
}

// ---------------------------------------------------------------- the page

export default function Tasks({ query }) {
  const write = canWrite();
  const who = query.get('who') === 'all' ? 'all' : 'me';
  const state = ['done', 'all', 'overdue'].includes(query.get('state')) ? query.get('state') : 'open';
  const id = query.get('id') || '';
  const key = `${who}:${state}`;
  const pager = useUrlPager(query, key);
  const [version, setVersion] = useState(0);
  const [changed, setChanged] = useState({}); // task id -> the task as the last PATCH answered
  const owners = useOwners();
  const params = {
    assignee: who === 'all' ? 'any' : 'me',
    done: state === 'open' || state === 'overdue' ? 'false' : state === 'done' ? 'true' : '',
    overdue: state === 'overdue' ? 'true' : '',
    limit: 50, cursor: pager.cursor, count: pager.page === 1 ? 'true' : '',
  };
  const list = useAsync(() => get('/tasks', params).then((r) => { setChanged({}); return r; }), [key, pager.cursor, version]);
  const apply = (task) => setChanged((m) => ({ ...m, [task.id]: task }));
  const choose = (k, v) => setQuery({ [k]: v, cursor: '', page: '' });

  return (
    <div data-page="tasks" class="tk2-page">
      <div class="page-head">
        <h1>{t('tk2_title')}</h1>
        {list.data && list.data.total !== undefined && <span class="muted" data-testid="tasks-total">{t('tk2_total', { n: num(list.data.total) })}</span>}
      </div>
      {id ? (
        <TaskDetail key={id} id={id} write={write} owners={owners.data} back={listHref(query)}
          onChange={(task) => { apply(task); }} onReassigned={() => setVersion((v) => v + 1)} />
      ) : (
      <Card>
        <div class="filters tk2-filters">
          <div class="range" role="group" aria-label={t('tk2_who')}>
            {[['me', 'tk2_mine'], ['all', 'tk2_everyone']].map(([k, l]) => (
              <button type="button" class={`chip ${who === k ? 'on' : ''}`} aria-pressed={who === k ? 'true' : 'false'} data-who={k}
                onClick={() => choose('who', k === 'me' ? '' : k)}>{t(l)}</button>
            ))}
          </div>
          <div class="range" role="group" aria-label={t('tk2_state')}>
            {[['open', 'tk2_open'], ['overdue', 'tk2_overdue_only'], ['done', 'tk2_done_only'], ['all', 'tk2_all']].map(([k, l]) => (
              <button type="button" class={`chip ${state === k ? 'on' : ''}`} aria-pressed={state === k ? 'true' : 'false'} data-state={k}
                onClick={() => choose('state', k === 'open' ? '' : k)}>{t(l)}</button>
            ))}
          </div>
          <span class="tk2-spin">{list.loading && list.data && <Spinner label={false} />}</span>
        </div>
        <Async state={list}>{(d) => {
          const rows = d.data.map((x) => changed[x.id] || x);
          return (
            <div class={list.loading ? 'tk2-stale' : ''} aria-busy={list.loading ? 'true' : 'false'}>
              <Table rows={rows} stack empty={state === 'open' ? t('tk2_none_open') : t('tk2_none')} columns={[
                { label: t('tk2_task'), render: (x) => (
                  <a href={taskHref(query, x.id)} class={`tk2-text ${x.done ? 'tk2-is-done' : ''}`} data-task={x.id}
                    aria-label={`${t('tk2_open_task', { id: x.id })}: ${x.text}`}>{x.text}</a>
                ) },
                { label: t('tk2_customer'), render: (x) => <CustomerCell c={x.customer} /> },
                { label: t('tk2_message'), render: (x) => <MessageBox task={x} /> },
                { label: t('tk2_handed'), render: (x) => <span title={t('tk2_handed_hint')}>{when(x.created_at)}</span> },
                { label: t('tk2_due'), render: (x) => <Due task={x} /> },
                ...(who === 'all' ? [{ label: t('tk2_assignee'), render: (x) => (x.assignee_user_id === null
                  ? <span class="muted">{t('tk2_unassigned')}</span> : ownerName(owners.data, x.assignee_user_id)) }] : []),
                ...(state !== 'open' ? [{ label: t('tk2_done_at'), render: (x) => when(x.done_at) }] : []),
                { label: t('tk2_done'), render: (x) => (write
                  ? <DoneBox task={x} onChange={apply} />
                  : <span class={`badge ${x.done ? 'ok' : ''}`}>{t(x.done ? 'tk2_state_done' : 'tk2_state_open')}</span>) },
              ]} />
              <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
            </div>
          );
        }}</Async>
      </Card>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- one task

function listHref(query) {
  const p = new URLSearchParams(query);
  p.delete('id');
  const s = p.toString();
  return '/tasks' + (s ? '?' + s : '');
}

function TaskDetail({ id, write, owners, back, onChange, onReassigned }) {
  const st = useAsync(() => get(`/tasks/${encodeURIComponent(id)}`), [id]);
  const [task, setTask] = useState(null);
  const x = task || st.data;
  const update = (r) => { setTask(r); onChange(r); };
  return (
    <Card title={t('tk2_detail')} class="tk2-detail" actions={<a href={back} data-action="back">← {t('tk2_back')}</a>}>
      <Async state={st}>{() => (
        <div data-task-detail={x.id}>
          <p class={`tk2-detail-text ${x.done ? 'tk2-is-done' : ''}`}>{x.text}</p>
          <dl class="kv tk2-kv">
            <dt>{t('tk2_customer')}</dt><dd><CustomerCell c={x.customer} /></dd>
            <dt>{t('tk2_handed')}</dt><dd>{when(x.created_at)}</dd>
            <dt>{t('tk2_due')}</dt><dd><Due task={x} /></dd>
            <dt>{t('tk2_assignee')}</dt><dd>{x.assignee_user_id === null ? t('tk2_unassigned') : ownerName(owners, x.assignee_user_id)}</dd>
            <dt>{t('tk2_state')}</dt>
            <dd><span class={`badge ${x.done ? 'ok' : ''}`} data-task-state>{t(x.done ? 'tk2_state_done' : 'tk2_state_open')}</span></dd>
            {x.done && <><dt>{t('tk2_done_at')}</dt><dd>{when(x.done_at)}</dd></>}
            {x.done && <><dt>{t('tk2_done_by')}</dt><dd>{x.done_by === null ? '—' : ownerName(owners, x.done_by)}</dd></>}
            <dt>{t('tk2_sop')}</dt>
            <dd>
              {x.sop_id !== null ? <a href={`/sops?id=${x.sop_id}`}>SOP #{x.sop_id}</a> : <span class="muted">{t('tk2_sop_gone')}</span>}
              {x.sop_run_id !== null && <span class="muted"> · {t('tk2_run', { id: x.sop_run_id })}</span>}
            </dd>
            <dt>{t('tk2_updated')}</dt><dd>{when(x.updated_at)}</dd>
          </dl>
          <h3 class="tk2-h3">{t('tk2_message')}</h3>
          {x.message ? (
            <div class="tk2-message-box">
              <pre class="tk2-pre" data-message>{x.message}</pre>
              <CopyButton text={x.message} name={x.customer ? customerName(x.customer) : ''} />
            </div>
          ) : <p class="muted">{t('tk2_no_message')}</p>}
          {write && (
            <div class="tk2-detail-actions">
              <DoneBox task={x} onChange={update} label />
              <Reassign task={x} owners={owners} onDone={(r) => { update(r); onReassigned(); }} />
              <DueForm task={x} onDone={update} />
            </div>
          )}
        </div>
      )}</Async>
    </Card>
  );
}

// When a task is due, and a badge once an open one is past it.
function Due({ task }) {
  if (!task.due_at) return <span class="muted">{t('tk2_no_due')}</span>;
  const late = !task.done && Date.parse(task.due_at) < Date.now();
  return (
    <span class="tk2-due" data-due={task.due_at}>
      {when(task.due_at)} {late && <span class="badge bad" data-overdue>{t('tk2_overdue')}</span>}
    </span>
  );
}

// An RFC 3339 time as the value of a datetime-local input (the browser's zone), and back.
const pad = (n) => String(n).padStart(2, '0');
function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function DueForm({ task, onDone }) {
  const [v, setV] = useState(localInput(task.due_at));
  const s = useSubmit(async (clear) => {
    if (!clear && !v) throw new ApiError(422, { error: { code: 'validation_failed', message: t('tk2_due_need'), field: 'due_at' } });
    const r = await patch(`/tasks/${task.id}`, { due_at: clear ? null : new Date(v).toISOString() });
    toast(clear ? t('tk2_due_cleared') : t('tk2_due_ok'));
    setV(localInput(r.due_at));
    onDone(r);
  });
  return (
    <form class="tk2-reassign" onSubmit={(e) => { e.preventDefault(); s.submit(false); }} novalidate data-form="due">
      <Field label={t('tk2_due')} name="due_at" error={s.error}>
        <input type="datetime-local" name="due_at" value={v} onInput={(e) => setV(e.currentTarget.value)} />
      </Field>
      <Button type="submit" busy={s.busy} disabled={v === localInput(task.due_at)} data-write>{t('tk2_set_due')}</Button>
      {task.due_at && <Button class="ghost" busy={s.busy} data-write data-action="clear-due" onClick={() => s.submit(true)}>{t('tk2_clear_due')}</Button>}
      <FormError error={s.error} fields={['due_at']} />
    </form>
  );
}

function Reassign({ task, owners, onDone }) {
  const [to, setTo] = useState(task.assignee_user_id === null ? '' : String(task.assignee_user_id));
  const s = useSubmit(async () => {
    const r = await patch(`/tasks/${task.id}`, { assignee_user_id: to ? Number(to) : null });
    toast(t('tk2_reassign_ok'));
    onDone(r);
  });
  const same = to === (task.assignee_user_id === null ? '' : String(task.assignee_user_id));
  return (
    <form class="tk2-reassign" onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="reassign">
      <Field label={t('tk2_assignee')} name="assignee_user_id" error={s.error}>
        <select name="assignee_user_id" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
          <OwnerOptions owners={owners} current={task.assignee_user_id} />
        </select>
      </Field>
      <Button type="submit" busy={s.busy} disabled={same} data-write>{t('tk2_reassign')}</Button>
      <FormError error={s.error} fields={['assignee_user_id']} />
    </form>
  );
}
