// Tags: manual ones (put on and taken off by hand) and auto ones (a rule of
// the rule language decides who has them), with group, colour and how many
// customers have each. Writers create, edit and delete them; an auto tag's rule
// is edited as JSON, with the API's error path (rule.all[2].op) shown next to
// it and selected in the text, and can be evaluated now.
import { useRef, useState } from 'preact/hooks';
import { ApiError, api, del, get, patch, post } from '../api.js';
import { addStrings, num, t, when } from '../i18n.js';
import { setQuery } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, ErrorBox, Field, FieldGroup, FormError, Modal, Pager, Spinner, Table, canWrite, errorText, toast, useAsync,
  useSubmit, useUrlPager,
} from '../ui.jsx';
import { idemKey, localError, newBase, useDebouncedParam } from './customers.jsx';
import './tags.css';

addStrings({
  zh: {
    tg_title: '标签', tg_new: '新建标签', tg_edit: '编辑标签', tg_name: '名称', tg_group: '分组', tg_color: '颜色',
    tg_kind: '类型', tg_kind_manual: '手动', tg_kind_auto: '自动', tg_customers: '客户数', tg_rule: '规则', tg_all: '全部',
    tg_search: '名称开头', tg_clear: '清除筛选', tg_none: '没有符合条件的标签', tg_no_color: '无颜色', tg_pick_color: '颜色 {c}',
    tg_color_hint: '#rrggbb，留空为无颜色', tg_group_hint: '用于在列表中归类，可选', tg_evaluate: '立即重算',
    tg_evaluated: '已重算：新增 {added} 人，移除 {removed} 人', tg_eval_result: '+{added} / −{removed}',
    tg_delete_q: '删除标签“{name}”？它会从 {n} 位客户身上移除，无法恢复。', tg_deleted: '标签已删除',
    tg_created: '标签已创建', tg_created_auto: '自动标签已创建，{n} 位客户符合规则', tg_saved: '标签已保存',
    tg_unchanged: '没有改动', tg_customers_of: '查看有“{name}”标签的客户',
    tg_kind_manual_hint: '手动标签由运营人员给客户添加或移除。', tg_kind_auto_hint: '自动标签由规则决定：保存后立即应用到所有客户，之后随客户变化自动更新。',
    tg_kind_fixed: '类型创建后不能修改。', tg_rule_hint: '规则语言的 JSON：{"all": [...]}、{"any": [...]}、{"not": ...} 或 {"field", "op", "value"}。',
    tg_rule_bad_json: '不是有效的 JSON：{msg}', tg_rule_need: '自动标签需要规则', tg_rule_at: '出错位置',
    tg_format: '整理格式', tg_preview: '预览人数', tg_preview_n: '现在有 {n} 位客户符合这条规则', tg_example: '插入示例',
    tg_ex_repeat: '复购客：付款订单 ≥ 2', tg_ex_vip: '高消费：累计消费 ≥ 1000 元', tg_ex_lapsed: '沉睡：90 天未下单（含从未下单）',
    tg_ex_birthday: '本月生日', tg_builder: '在人群页面试规则', tg_updated: '更新时间', tg_rule_summary: '规则：{s}',
  },
  en: {
    tg_title: 'Tags', tg_new: 'New tag', tg_edit: 'Edit the tag', tg_name: 'Name', tg_group: 'Group', tg_color: 'Colour',
    tg_kind: 'Kind', tg_kind_manual: 'manual', tg_kind_auto: 'auto', tg_customers: 'Customers', tg_rule: 'Rule', tg_all: 'All',
    tg_search: 'Name starts with', tg_clear: 'Clear filters', tg_none: 'No tag matches', tg_no_color: 'No colour',
    tg_pick_color: 'Colour {c}', tg_color_hint: '#rrggbb; empty for none', tg_group_hint: 'Sorts tags in the list; optional',
    tg_evaluate: 'Evaluate now', tg_evaluated: 'Evaluated: {added} added, {removed} removed', tg_eval_result: '+{added} / −{removed}',
    tg_delete_q: 'Delete the tag "{name}"? It is taken off {n} customers, for good.', tg_deleted: 'Tag deleted',
    tg_created: 'Tag created', tg_created_auto: 'Auto tag created; {n} customers match its rule', tg_saved: 'Tag saved',
    tg_unchanged: 'Nothing changed', tg_customers_of: 'See the customers tagged "{name}"',
    tg_kind_manual_hint: 'Operators put a manual tag on customers and take it off by hand.',
    tg_kind_auto_hint: 'An auto tag\'s rule decides who has it: applied to every customer on saving, then kept current as customers change.',
    tg_kind_fixed: 'The kind cannot change after creation.',
    tg_rule_hint: 'JSON of the rule language: {"all": [...]}, {"any": [...]}, {"not": ...} or {"field", "op", "value"}.',
    tg_rule_bad_json: 'Not valid JSON: {msg}', tg_rule_need: 'An auto tag needs a rule', tg_rule_at: 'At',
    tg_format: 'Format', tg_preview: 'Preview the count', tg_preview_n: '{n} customers match this rule now', tg_example: 'Insert an example',
    tg_ex_repeat: 'Repeat buyers: 2 paid orders or more', tg_ex_vip: 'Big spenders: 1,000 yuan or more',
    tg_ex_lapsed: 'Lapsed: no order in 90 days (or never)', tg_ex_birthday: 'Birthday this month',
    tg_builder: 'Try rules on the audiences page', tg_updated: 'Updated', tg_rule_summary: 'Rule: {s}',
  },
});

const KINDS = ['manual', 'auto'];
const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#db2777', '#7c3aed', '#0891b2', '#dc2626', '#65a30d', '#64748b'];
const COLOR_RE = /^#[0-9A-Fa-f]{6}$/;
const EXAMPLES = {
  tg_ex_repeat: { field: 'order_count', op: '>=', value: 2 },
  tg_ex_vip: { field: 'total_spent_cents', op: '>=', value: 100000 },
  tg_ex_lapsed: { not: { field: 'days_since_last_order', op: '<', value: 90 } },
  tg_ex_birthday: { field: 'birthday_month', op: '=', value: 'current' },
};

export function KindBadge({ kind }) {
  return <span class={`badge ${kind === 'auto' ? 'ok' : ''}`} data-kind={kind}>{t('tg_kind_' + kind)}</span>;
}

export function TagChip({ tag }) {
  return (
    <span class="tg-chip">
      <span class="tg-dot" style={tag.color ? { background: tag.color } : undefined} aria-hidden="true" />
      {tag.name}
    </span>
  );
}

// JSON.stringify(v, null, 2), remembering where the value of each path
// (rule.all[2].op) starts and ends, to select the place an error names.
export function layoutJson(value, root = 'rule') {
  const spans = new Map();
  let out = '';
  const walk = (v, path, indent) => {
    const start = out.length;
    if (Array.isArray(v)) {
      if (v.length === 0) out += '[]';
      else {
        out += '[\n';
        v.forEach((x, i) => {
          out += indent + '  ';
          walk(x, `${path}[${i}]`, indent + '  ');
          out += i < v.length - 1 ? ',\n' : '\n';
        });
        out += indent + ']';
      }
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 0) out += '{}';
      else {
        out += '{\n';
        keys.forEach((k, i) => {
          out += indent + '  ' + JSON.stringify(k) + ': ';
          walk(v[k], `${path}.${k}`, indent + '  ');
          out += i < keys.length - 1 ? ',\n' : '\n';
        });
        out += indent + '}';
      }
    } else out += JSON.stringify(v);
    spans.set(path, [start, out.length]);
  };
  walk(value, root, '');
  return { text: out, spans };
}

// The span of a path, or of its nearest parent that is in the text.
function spanOf(spans, path) {
  let p = path;
  while (p) {
    if (spans.has(p)) return spans.get(p);
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  return null;
}

function ruleSummary(rule) {
  if (!rule) return '';
  const s = JSON.stringify(rule);
  return s.length > 80 ? s.slice(0, 77) + '…' : s;
}

// ---------------------------------------------------------------- the page

export default function Tags({ query }) {
  const write = canWrite();
  const kind = KINDS.includes(query.get('kind')) ? query.get('kind') : '';
  const group = query.get('group') || '';
  const q = query.get('q') || '';
  const filters = { kind, group, q };
  const key = JSON.stringify(filters);
  const pager = useUrlPager(query, key);
  const qInput = useDebouncedParam('q', q, 300);
  const groupInput = useDebouncedParam('group', group, 300);
  const [version, setVersion] = useState(0);
  const [form, setForm] = useState(null); // {} new, {tag} edit
  const [evals, setEvals] = useState({}); // tag id -> {busy, result, error}
  const list = useAsync(() => get('/tags', { ...filters, limit: 50, cursor: pager.cursor }), [key, pager.cursor, version]);
  const groups = useAsync(() => get('/tags', { limit: 500 }).then((r) => [...new Set(r.data.map((x) => x.group).filter(Boolean))].sort()), [version]);
  const bump = () => setVersion((v) => v + 1);
  const setFilter = (k, v) => setQuery({ [k]: v, cursor: '', page: '' });
  const any = kind || group || q;

  const evaluate = async (tag) => {
    setEvals((m) => ({ ...m, [tag.id]: { busy: true } }));
    try {
      const r = await post(`/tags/${tag.id}/evaluate`);
      setEvals((m) => ({ ...m, [tag.id]: { result: r } }));
      toast(t('tg_evaluated', { added: num(r.added), removed: num(r.removed) }));
      bump();
    } catch (e) {
      setEvals((m) => ({ ...m, [tag.id]: { error: e } }));
    }
  };
  const remove = async (tag) => {
    await del(`/tags/${tag.id}`);
    toast(t('tg_deleted'));
    bump();
  };

  return (
    <div data-page="tags" class="tg-page">
      <div class="page-head">
        <h1>{t('tg_title')}</h1>
        {write && (
          <div class="card-actions">
            <a class="btn ghost" href="/audiences">{t('tg_builder')}</a>
            <Button class="primary" data-write data-action="new-tag" onClick={() => setForm({})}>{t('tg_new')}</Button>
          </div>
        )}
      </div>
      <Card>
        <form class="filters tg-filters" role="search" onSubmit={(e) => e.preventDefault()}>
          <label class="field">
            <span class="field-label">{t('tg_search')}</span>
            <input type="search" name="q" value={qInput.text} maxLength={50} autocomplete="off" onInput={(e) => qInput.setText(e.currentTarget.value)} />
          </label>
          <label class="field">
            <span class="field-label">{t('tg_group')}</span>
            <input name="group" list="tg-groups" value={groupInput.text} maxLength={50} autocomplete="off" onInput={(e) => groupInput.setText(e.currentTarget.value)} />
            <datalist id="tg-groups">{(groups.data || []).map((g) => <option value={g} />)}</datalist>
          </label>
          <div class="range tg-kinds" role="group" aria-label={t('tg_kind')}>
            {['', ...KINDS].map((k) => (
              <button type="button" class={`chip ${kind === k ? 'on' : ''}`} aria-pressed={kind === k ? 'true' : 'false'} data-kind-filter={k || 'all'}
                onClick={() => setFilter('kind', k)}>{k ? t('tg_kind_' + k) : t('tg_all')}</button>
            ))}
          </div>
          <span class="tg-spin">{(qInput.pending || groupInput.pending || list.loading) && <Spinner label={false} />}</span>
          {any && <Button class="ghost" data-action="clear" onClick={() => setQuery({ kind: '', group: '', q: '', cursor: '', page: '' })}>{t('tg_clear')}</Button>}
        </form>
        <Async state={list}>{(d) => (
          <div class={list.loading ? 'tg-stale' : ''} aria-busy={list.loading ? 'true' : 'false'}>
            <Table rows={d.data} stack empty={t('tg_none')} columns={[
              { label: t('tg_name'), render: (x) => (
                <a href={`/customers?tag=${encodeURIComponent(x.name)}`} data-tag={x.name} title={t('tg_customers_of', { name: x.name })}><TagChip tag={x} /></a>
              ) },
              { label: t('tg_group'), render: (x) => x.group || '—' },
              { label: t('tg_color'), render: (x) => (x.color
                ? <span class="tg-color"><span class="tg-dot" style={{ background: x.color }} aria-hidden="true" /><code>{x.color}</code></span> : '—') },
              { label: t('tg_kind'), render: (x) => <KindBadge kind={x.kind} /> },
              { label: t('tg_customers'), num: true, render: (x) => <span data-count={x.id}>{num(x.customer_count)}</span> },
              { label: t('tg_rule'), render: (x) => (x.rule ? <code class="tg-rule" title={JSON.stringify(x.rule)}>{ruleSummary(x.rule)}</code> : '—') },
              ...(write ? [{ label: t('actions'), render: (x) => {
                const ev = evals[x.id] || {};
                return (
                  <span class="tg-actions">
                    <Button class="small" data-write data-action="edit" onClick={() => setForm({ tag: x })}>{t('edit')}</Button>
                    {x.kind === 'auto' && (
                      <Button class="small" data-write data-action="evaluate" busy={ev.busy} onClick={() => evaluate(x)}>{t('tg_evaluate')}</Button>
                    )}
                    {ev.result && <span class="badge ok" data-eval-result={x.id}>{t('tg_eval_result', { added: num(ev.result.added), removed: num(ev.result.removed) })}</span>}
                    {ev.error && <span class="field-error" role="alert">{errorText(ev.error)}</span>}
                    <ConfirmButton class="small" data-action="delete" message={t('tg_delete_q', { name: x.name, n: num(x.customer_count) })}
                      onConfirm={() => remove(x)}>{t('delete')}</ConfirmButton>
                  </span>
                );
              } }] : []),
            ]} />
            <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
          </div>
        )}</Async>
      </Card>
      {form && (
        <TagForm tag={form.tag || null} groups={groups.data || []} onClose={() => setForm(null)}
          onSaved={() => { setForm(null); bump(); }} />
      )}
    </div>
  );
}

// ---------------------------------------------------------------- the form

function TagForm({ tag, groups, onClose, onSaved }) {
  const [f, setF] = useState(() => ({
    name: tag ? tag.name : '', group: tag && tag.group ? tag.group : '', color: tag && tag.color ? tag.color : '',
    kind: tag ? tag.kind : 'manual',
  }));
  const [ruleText, setRuleText] = useState(() => (tag && tag.rule ? layoutJson(tag.rule).text : layoutJson(EXAMPLES.tg_ex_repeat).text));
  const [preview, setPreview] = useState({ busy: false, count: null, error: null });
  const area = useRef(null);
  const base = useRef(newBase());
  const set = (k) => (e) => { const v = e.currentTarget.value; setF((x) => ({ ...x, [k]: v })); };
  const auto = f.kind === 'auto';

  const parseRule = () => {
    const text = ruleText.trim();
    if (!text) throw localError('rule', t('tg_rule_need'));
    try {
      return JSON.parse(text);
    } catch (e) {
      throw localError('rule', t('tg_rule_bad_json', { msg: e.message }));
    }
  };
  // On an error in the rule: lay the rule out and select the place it names.
  const showRuleError = (e) => {
    if (!(e instanceof ApiError) || !e.field || !e.field.startsWith('rule')) return;
    let rule;
    try { rule = JSON.parse(ruleText); } catch { return; }
    const { text, spans } = layoutJson(rule);
    const span = spanOf(spans, e.field);
    setRuleText(text);
    requestAnimationFrame(() => {
      const el = area.current;
      if (!el) return;
      el.focus();
      if (span) {
        el.setSelectionRange(span[0], span[1]);
        // scroll the selection into view: the line it is on
        const line = text.slice(0, span[0]).split('\n').length - 1;
        const lh = parseFloat(getComputedStyle(el).lineHeight) || 18;
        el.scrollTop = Math.max(0, line * lh - el.clientHeight / 3);
      }
    });
  };

  const s = useSubmit(async () => {
    const name = f.name.trim();
    const group = f.group.trim();
    const color = f.color.trim();
    if (color && !COLOR_RE.test(color)) throw localError('color', t('tg_color_hint'));
    let body;
    if (!tag) {
      body = { name, kind: f.kind };
      if (group) body.group = group;
      if (color) body.color = color;
      if (auto) body.rule = parseRule();
    } else {
      body = {};
      if (name !== tag.name) body.name = name;
      if (group !== (tag.group || '')) body.group = group || null;
      if (color.toLowerCase() !== (tag.color || '').toLowerCase()) body.color = color || null;
      if (tag.kind === 'auto') {
        const rule = parseRule();
        if (JSON.stringify(rule) !== JSON.stringify(tag.rule)) body.rule = rule;
      }
      if (Object.keys(body).length === 0) {
        toast(t('tg_unchanged'));
        onClose();
        return;
      }
    }
    try {
      const r = tag ? await patch(`/tags/${tag.id}`, body)
        : await api('POST', '/tags', body, { headers: { 'Idempotency-Key': idemKey(base.current, body) } });
      toast(tag ? t('tg_saved') : r.kind === 'auto' ? t('tg_created_auto', { n: num(r.customer_count) }) : t('tg_created'));
      onSaved(r);
    } catch (e) {
      showRuleError(e);
      throw e;
    }
  });

  const runPreview = async () => {
    setPreview({ busy: true, count: null, error: null });
    try {
      const rule = parseRule();
      const r = await post('/audiences/preview', { rule });
      setPreview({ busy: false, count: r.count, error: null });
    } catch (e) {
      setPreview({ busy: false, count: null, error: e });
      showRuleError(e);
    }
  };
  const format = () => {
    try {
      setRuleText(layoutJson(JSON.parse(ruleText)).text);
      setPreview((p) => ({ ...p, error: null }));
    } catch (e) {
      setPreview({ busy: false, count: null, error: localError('rule', t('tg_rule_bad_json', { msg: e.message })) });
    }
  };
  // the rule error shown under the textarea: the save's, else the preview's
  const ruleErr = [s.error, preview.error].find((e) => e instanceof ApiError && e.field && (e.field === 'rule' || e.field.startsWith('rule.') || e.field.startsWith('rule[')));
  const fields = ['name', 'group', 'color', 'kind', 'rule'];
  return (
    <Modal title={tag ? `${t('tg_edit')} · ${tag.name}` : t('tg_new')} onClose={onClose} wide>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="tag">
        <div class="form-row">
          <Field label={t('tg_name')} name="name" error={s.error}>
            <input name="name" value={f.name} onInput={set('name')} maxLength={50} autocomplete="off" required />
          </Field>
          <Field label={t('tg_group')} name="group" error={s.error} hint={t('tg_group_hint')}>
            <input name="group" list="tg-form-groups" value={f.group} onInput={set('group')} maxLength={50} autocomplete="off" />
            <datalist id="tg-form-groups">{groups.map((g) => <option value={g} />)}</datalist>
          </Field>
        </div>
        <Field label={t('tg_color')} name="color" error={s.error} hint={t('tg_color_hint')}>
          <span class="tg-color-row">
            <span class="tg-dot tg-dot-big" style={COLOR_RE.test(f.color) ? { background: f.color } : undefined} aria-hidden="true" />
            <input name="color" value={f.color} onInput={set('color')} maxLength={7} placeholder="#2563eb" autocomplete="off" class="tg-color-input" />
          </span>
        </Field>
        <div class="tg-palette" role="group" aria-label={t('tg_color')}>
          <button type="button" class={`tg-swatch tg-swatch-none ${f.color === '' ? 'on' : ''}`} aria-label={t('tg_no_color')} title={t('tg_no_color')}
            aria-pressed={f.color === '' ? 'true' : 'false'} onClick={() => setF((x) => ({ ...x, color: '' }))}>∅</button>
          {PALETTE.map((c) => (
            <button type="button" class={`tg-swatch ${f.color.toLowerCase() === c ? 'on' : ''}`} style={{ background: c }}
              aria-label={t('tg_pick_color', { c })} title={c} aria-pressed={f.color.toLowerCase() === c ? 'true' : 'false'}
              onClick={() => setF((x) => ({ ...x, color: c }))} />
          ))}
        </div>
        {tag ? (
          <div class="field">
            <span class="field-label">{t('tg_kind')}</span>
            <span><KindBadge kind={tag.kind} /> <span class="muted">{t('tg_kind_fixed')}</span></span>
            <span class="field-hint">{t(auto ? 'tg_kind_auto_hint' : 'tg_kind_manual_hint')}</span>
          </div>
        ) : (
          <FieldGroup label={t('tg_kind')} name="kind" error={s.error} hint={t(auto ? 'tg_kind_auto_hint' : 'tg_kind_manual_hint')}>
            <div class="range" role="radiogroup" aria-label={t('tg_kind')}>
              {KINDS.map((k) => (
                <label class={`chip tg-kind-chip ${f.kind === k ? 'on' : ''}`} data-kind-choice={k}>
                  <input type="radio" name="kind" value={k} checked={f.kind === k} class="sr" onChange={() => setF((x) => ({ ...x, kind: k }))} />
                  {t('tg_kind_' + k)}
                </label>
              ))}
            </div>
          </FieldGroup>
        )}
        {auto && (
          <div class={`field tg-rule-field ${ruleErr ? 'has-error' : ''}`}>
            <label class="field-label" for="tg-rule">{t('tg_rule')}</label>
            <textarea id="tg-rule" ref={area} name="rule" rows={12} spellcheck={false} autocomplete="off" class="tg-rule-text"
              value={ruleText} onInput={(e) => setRuleText(e.currentTarget.value)}
              aria-invalid={ruleErr ? 'true' : undefined} aria-describedby="tg-rule-msg" />
            <span id="tg-rule-msg">
              {ruleErr ? (
                <span class="field-error tg-rule-error" role="alert" data-field-error="rule" data-rule-path={ruleErr.field}>
                  {ruleErr.field !== 'rule' && <>{t('tg_rule_at')} <code>{ruleErr.field}</code>: </>}{ruleErr.message}
                </span>
              ) : <span class="field-hint">{t('tg_rule_hint')}</span>}
            </span>
          </div>
        )}
        {auto && (
          <div class="tg-rule-more">
            <div class="tg-rule-tools">
              <Button class="small" onClick={format}>{t('tg_format')}</Button>
              <Button class="small" busy={preview.busy} data-action="preview" onClick={runPreview}>{t('tg_preview')}</Button>
              <label class="inline">
                <span>{t('tg_example')}</span>
                <select name="example" value="" onChange={(e) => {
                  const k = e.currentTarget.value;
                  if (k) setRuleText(layoutJson(EXAMPLES[k]).text);
                  e.currentTarget.value = '';
                }}>
                  <option value="">…</option>
                  {Object.keys(EXAMPLES).map((k) => <option value={k}>{t(k)}</option>)}
                </select>
              </label>
              <a href="/audiences" target="_blank" rel="noopener">{t('tg_builder')}</a>
            </div>
            {preview.count !== null && <p class="muted" data-preview-count={preview.count}>{t('tg_preview_n', { n: num(preview.count) })}</p>}
            {preview.error && !ruleErr && <ErrorBox error={preview.error} />}
          </div>
        )}
        {tag && <p class="muted">{t('tg_customers')}: {num(tag.customer_count)} · {t('tg_updated')}: {when(tag.updated_at)}</p>}
        <FormError error={s.error} fields={fields} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{t('save')}</Button>
        </div>
      </form>
    </Modal>
  );
}
