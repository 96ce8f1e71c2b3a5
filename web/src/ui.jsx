// Shared pieces of every page: loading and errors, forms whose API errors land
// next to the field they name, confirmations, tables, paging, figures, charts
// and the date range.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { addStrings, t } from './i18n.js';
import { setQuery } from './router.js';

// The signed-in user, set by main.jsx; viewers see no write buttons.
let currentUser = null;
export function setUser(u) {
  currentUser = u;
}
export function user() {
  return currentUser;
}
export function canWrite() {
  return !!currentUser && (currentUser.role === 'admin' || currentUser.role === 'operator');
}
export function isAdmin() {
  return !!currentUser && currentUser.role === 'admin';
}

// Run an async loader; reload() runs it again. Stale answers are dropped.
export function useAsync(fn, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const seq = useRef(0);
  const run = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(fn)
      .then((data) => { if (n === seq.current) setState({ loading: false, data, error: null }); })
      .catch((error) => { if (n === seq.current) setState({ loading: false, data: null, error }); });
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(run, [run]);
  return { ...state, reload: run };
}

export function Spinner({ label }) {
  return (
    <span class="spinner" role="status" aria-live="polite">
      <span class="spinner-dot" aria-hidden="true" />
      {label !== false && <span class="sr">{label || t('loading')}</span>}
    </span>
  );
}

export function Loading() {
  return <div class="loading"><Spinner /> {t('loading')}</div>;
}

export function errorText(e) {
  if (!e) return '';
  if (e instanceof ApiError) {
    if (e.status === 0) return t('error_network');
    if (e.status === 403) return t('error_forbidden');
    if (e.status === 404) return t('not_found');
    return e.field ? `${e.field}: ${e.message}` : e.message;
  }
  return String(e.message || e);
}

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  return (
    <div class="error-box" role="alert">
      <span>{errorText(error)}</span>
      {onRetry && <button type="button" class="btn small" onClick={onRetry}>{t('retry')}</button>}
    </div>
  );
}

// Async data with its loading and error states handled the same way everywhere.
export function Async({ state, children }) {
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (state.loading && state.data === null) return <Loading />;
  return children(state.data);
}

export function Button({ busy, disabled, children, class: cls = '', ...rest }) {
  return (
    <button type="button" class={`btn ${cls}`} {...rest} disabled={busy || disabled} aria-busy={busy ? 'true' : undefined}>
      {busy && <Spinner label={false} />}
      {children}
    </button>
  );
}

// A form field: the label, the control, and the API error that names this field.
export function Field({ label, name, error, hint, children }) {
  const mine = names(error, name);
  return (
    <label class={`field ${mine ? 'has-error' : ''}`}>
      <span class="field-label">{label}</span>
      {children}
      {hint && !mine && <span class="field-hint">{hint}</span>}
      {mine && <span class="field-error" role="alert" data-field-error={name}>{error.message}</span>}
    </label>
  );
}

const names = (error, name) => error instanceof ApiError && error.field &&
  (error.field === name || error.field.startsWith(name + '.') || error.field.startsWith(name + '['));

// A group of controls (check boxes, radios) with its legend and the API error
// naming it: a Field for controls that cannot sit inside one <label>.
export function FieldGroup({ label, name, error, hint, children, class: cls = '' }) {
  const mine = names(error, name);
  return (
    <fieldset class={`fgroup ${mine ? 'has-error' : ''} ${cls}`}>
      <legend class="field-label">{label}</legend>
      {children}
      {hint && !mine && <span class="field-hint">{hint}</span>}
      {mine && <span class="field-error" role="alert" data-field-error={name}>{error.message}</span>}
    </fieldset>
  );
}

// An error of a form submission that names no field of the form shows above the buttons.
export function FormError({ error, fields }) {
  if (!error) return null;
  if (fields.some((f) => names(error, f))) return null;
  return <ErrorBox error={error} />;
}

// Submit handler state: busy while the call runs, the error it ended with.
export function useSubmit(fn) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (...args) => {
    setBusy(true);
    setError(null);
    try {
      return await fn(...args);
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit, setError };
}

export function Modal({ title, onClose, children, wide }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const onCancel = (e) => { e.preventDefault(); onClose(); };
    d.addEventListener('cancel', onCancel);
    return () => d.removeEventListener('cancel', onCancel);
  }, []);
  return (
    <dialog ref={ref} class={`modal ${wide ? 'wide' : ''}`} aria-label={title}>
      <header class="modal-head">
        <h2>{title}</h2>
        <button type="button" class="btn ghost" aria-label={t('close')} onClick={onClose}>×</button>
      </header>
      <div class="modal-body">{children}</div>
    </dialog>
  );
}

// A destructive action asks first.
// It writes: both of its buttons carry data-write (render it only for writers).
export function ConfirmButton({ message, onConfirm, children, danger = true, class: cls = '', ...rest }) {
  const [open, setOpen] = useState(false);
  const s = useSubmit(async () => { await onConfirm(); setOpen(false); });
  return (
    <>
      <Button class={`${danger ? 'danger' : ''} ${cls}`} data-write onClick={() => setOpen(true)} {...rest}>{children}</Button>
      {open && (
        <Modal title={t('are_you_sure')} onClose={() => setOpen(false)}>
          <p>{message}</p>
          <ErrorBox error={s.error} />
          <div class="form-actions">
            <Button onClick={() => setOpen(false)}>{t('cancel')}</Button>
            <Button class={danger ? 'danger' : 'primary'} busy={s.busy} onClick={() => s.submit()} data-confirm="yes" data-write>{t('confirm')}</Button>
          </div>
        </Modal>
      )}
    </>
  );
}

addStrings({
  zh: { once_copy: '复制', once_copied: '已复制', once_copy_failed: '无法复制，请手动选中复制', once_hide: '隐藏' },
  en: { once_copy: 'Copy', once_copied: 'Copied', once_copy_failed: 'Could not copy: select it and copy by hand', once_hide: 'Hide' },
});

// Select all the text of an element (the shown-once secret): a click or the
// keyboard focus selects it whole, ready for Ctrl+C.
function selectAll(el) {
  const sel = window.getSelection();
  const range = document.createRange();
  range.selectNodeContents(el);
  sel.removeAllRanges();
  sel.addRange(range);
}

// A secret or token shown this once (the API never returns it again): the
// text, a copy button and a hide button (onHide forgets it).
export function OnceBox({ label, value, testid, onHide }) {
  const code = useRef(null);
  const [copied, setCopied] = useState(null); // null, 'ok' or 'failed'
  const copy = async () => {
    selectAll(code.current);
    try {
      await navigator.clipboard.writeText(value);
      setCopied('ok');
    } catch {
      // no clipboard API (an insecure context, refused): copy the selection;
      // failing that, the text stays selected for Ctrl+C
      setCopied(document.execCommand('copy') ? 'ok' : 'failed');
    }
  };
  return (
    <div class="once-box" role="status" data-testid={testid}>
      {label}
      <code tabIndex={0} onFocus={(e) => selectAll(e.currentTarget)} onClick={(e) => selectAll(e.currentTarget)} ref={code}>{value}</code>
      <div class="once-actions">
        <Button class="small primary" data-action="copy-once" onClick={copy}>{copied === 'ok' ? t('once_copied') : t('once_copy')}</Button>
        <Button class="small" data-action="hide-once" onClick={onHide}>{t('once_hide')}</Button>
        {copied === 'failed' && <span class="muted" role="alert">{t('once_copy_failed')}</span>}
      </div>
    </div>
  );
}

// stack: on a phone, each row becomes a card of "label: value" lines.
export function Table({ columns, rows, empty, rowKey = 'id', onRowClick, stack = false }) {
  if (!rows || rows.length === 0) return <p class="empty">{empty || t('none')}</p>;
  return (
    <div class="table-wrap">
      <table class={`table ${stack ? 'stack' : ''}`}>
        <thead><tr>{columns.map((c) => <th class={c.num ? 'num' : ''}>{c.label}</th>)}</tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r[rowKey]} class={onRowClick ? 'clickable' : ''} onClick={onRowClick ? () => onRowClick(r) : undefined}>
              {columns.map((c) => <td class={c.num ? 'num' : ''} data-label={c.label}>{c.render ? c.render(r) : r[c.key] ?? '—'}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// Cursor paging kept in the URL (cursor, page); the cursors of the pages before
// are remembered while the page is open, so "previous" steps back; after a
// reload "previous" goes to the first page. prefix: the parameters are
// <prefix>_cursor and <prefix>_page, so one page keeps several lists' places
// (a record's sub-lists next to each other).
export function useUrlPager(query, scope, prefix = '') {
  const ck = prefix ? `${prefix}_cursor` : 'cursor';
  const pk = prefix ? `${prefix}_page` : 'page';
  const cursor = query.get(ck) || '';
  const page = cursor ? Math.max(2, parseInt(query.get(pk) || '2', 10) || 2) : 1;
  const trail = useRef({ scope, list: [] });
  if (trail.current.scope !== scope) trail.current = { scope, list: [] };
  return {
    cursor,
    page,
    next: (c) => {
      if (!c) return;
      trail.current.list.push({ cursor, page });
      setQuery({ [ck]: c, [pk]: page + 1 });
    },
    prev: () => {
      const last = trail.current.list.pop();
      if (last && last.cursor) setQuery({ [ck]: last.cursor, [pk]: last.page });
      else setQuery({ [ck]: '', [pk]: '' });
    },
  };
}

export function Pager({ pager, nextCursor, busy }) {
  return (
    <nav class="pager" aria-label="pages">
      <Button disabled={pager.page <= 1} onClick={pager.prev}>{t('prev_page')}</Button>
      <span class="pager-page">{pager.page}</span>
      <Button disabled={!nextCursor} busy={busy} onClick={() => pager.next(nextCursor)}>{t('next_page')}</Button>
    </nav>
  );
}

export function Stat({ label, value, hint }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint && <div class="stat-hint">{hint}</div>}
    </div>
  );
}

export function Card({ title, actions, children, class: cls = '' }) {
  return (
    <section class={`card ${cls}`}>
      {(title || actions) && (
        <header class="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#db2777', '#7c3aed', '#0891b2', '#dc2626', '#65a30d', '#9333ea', '#ea580c'];
export const color = (i) => PALETTE[i % PALETTE.length];

// A Chart.js chart; config is rebuilt on every render, the chart updated in place.
// Chart.js is loaded with the first chart drawn, not with the dashboard.
let chartClass = null;
let chartLoad = null;
const loadChart = () => (chartLoad ||= import('chart.js/auto').then((m) => { chartClass = m.default; return chartClass; }));

export function ChartView({ config, height = 260, label }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  const [Chart, setChart] = useState(() => chartClass);
  const [failed, setFailed] = useState(null);
  useEffect(() => {
    if (!Chart) loadChart().then((c) => setChart(() => c), (e) => { chartLoad = null; setFailed(e); });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (!Chart) return;
    if (!chart.current) {
      chart.current = new Chart(canvas.current, { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options } });
    } else {
      chart.current.data = config.data;
      chart.current.options = { responsive: true, maintainAspectRatio: false, animation: false, ...config.options };
      chart.current.update();
    }
  });
  useEffect(() => () => chart.current && chart.current.destroy(), []);
  if (failed) return <ErrorBox error={failed} />;
  return (
    <div class="chart" style={{ height: `${height}px` }} aria-busy={Chart ? undefined : 'true'}>
      {!Chart && <Spinner label={false} />}
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

// Dates in the business zone of the daemon are the same calendar dates the API
// speaks; the picker works in YYYY-MM-DD.
export function isoDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function daysAgo(n) {
  const d = new Date();
  d.setDate(d.getDate() - n);
  return isoDate(d);
}

// from/to of the analytics API: presets and two date inputs.
// allowAll: offer "all time" (an empty from and to).
export function RangePicker({ from, to, onChange, allowAll = true }) {
  const presets = [['range_30', 30], ['range_90', 90], ['range_365', 365]];
  return (
    <div class="range" role="group" aria-label={t('range_from')}>
      {allowAll && <button type="button" class={`chip ${!from && !to ? 'on' : ''}`} onClick={() => onChange({ from: '', to: '' })}>{t('range_all')}</button>}
      {presets.map(([k, n]) => {
        const f = daysAgo(n);
        return <button type="button" class={`chip ${from === f && !to ? 'on' : ''}`} onClick={() => onChange({ from: f, to: '' })}>{t(k)}</button>;
      })}
      <label class="inline"><span>{t('range_from')}</span>
        <input type="date" value={from || ''} onChange={(e) => onChange({ from: e.currentTarget.value, to })} /></label>
      <label class="inline"><span>{t('range_to')}</span>
        <input type="date" value={to || ''} onChange={(e) => onChange({ from, to: e.currentTarget.value })} /></label>
    </div>
  );
}

// A short message in the corner after a save.
let toastSet = null;
export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    toastSet = setItems;
    return () => { toastSet = null; };
  }, []);
  return <div class="toasts" aria-live="polite">{items.map((m) => <div class={`toast ${m.kind}`}>{m.text}</div>)}</div>;
}
export function toast(text, kind = 'ok') {
  if (!toastSet) return;
  const m = { text, kind, id: Math.random() };
  toastSet((s) => [...s, m]);
  setTimeout(() => toastSet && toastSet((s) => s.filter((x) => x !== m)), 3000);
}
