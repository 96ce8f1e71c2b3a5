// Audiences: the saved segments (a list; /audiences/:id for one, ?new=1 for a new one)
// and the audience builder, a visual editor of the rule language (nested
// all/any/not groups of conditions) with the live count of who matches: POST
// /audiences/preview as the rule changes, debounced, the newest answer winning.
// A 422 from the preview or a save lands at the condition its path names
// (rule.all[1].any[0].value marks that condition's value).
import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, del, get, patch, post } from '../api.js';
import { addStrings, money, num, t, when } from '../i18n.js';
import { navigate } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, ErrorBox, Field, Loading, Pager, Spinner, Table, canWrite, errorText, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import { STAGES, StageBadge, customerName, newBase, postOnce, stageLabel, useChannels, useOwners } from './customers.jsx';
import './audiences.css';

addStrings({
  zh: {
    au_title: '人群', au_new: '新建人群', au_try: '试算规则', au_back: '人群列表', au_name: '名称', au_count: '人数',
    au_evaluated: '最近计算', au_updated: '修改时间', au_rule: '规则', au_none: '还没有保存的人群',
    au_builder: '规则', au_new_title: '新建人群', au_try_title: '试算规则',
    au_all: '满足全部', au_any: '满足任一', au_and: '且', au_or: '或', au_negate: '取反', au_negated: '非',
    au_group_not: '不满足以下条件', au_add_cond: '添加条件', au_add_group: '添加条件组',
    au_remove_cond: '删除这个条件', au_remove_group: '删除这个条件组', au_negate_cond: '取反这个条件',
    au_field: '字段', au_op: '条件', au_value: '取值', au_low: '最小值', au_high: '最大值', au_to: '至',
    au_pick: '请选择', au_add_value: '添加一个值', au_add_value_ph: '输入后回车', au_remove_value: '移除 {v}',
    au_key: '属性名', au_key_ph: '如 skin', au_atype: '类型', au_atype_text: '文本', au_atype_number: '数字', au_atype_bool: '是/否',
    au_true: '是', au_false: '否', au_current_month: '本月', au_month: '{n} 月',
    au_ex_true: '有记录', au_ex_false: '无记录', au_unit_days: '天',
    au_empty_root: '还没有条件：添加一个条件开始圈选客户。', au_empty_group: '空的条件组（统计时忽略）',
    au_g_buy: '购买', au_g_club: '会员', au_g_profile: '资料',
    au_f_order_count: '订单数', au_f_total_spent_cents: '累计消费', au_f_points_balance: '积分余额',
    au_f_wallet_balance_cents: '储值余额', au_f_days_since_last_order: '距最近下单天数', au_f_days_since_first_order: '距首次下单天数',
    au_f_days_since_created: '成为客户天数', au_f_days_since_last_checkin: '距最近签到天数', au_f_birthday_month: '生日月份',
    au_f_birthday_in_days: '距生日天数', au_f_coupon_expiring_in_days: '优惠券到期天数', au_f_stage: '阶段', au_f_tier: '会员等级',
    au_f_tag: '标签', au_f_source_channel_id: '来源渠道', au_f_owner_user_id: '负责人', au_f_platform: '购买平台',
    au_f_category: '购买品类', au_f_gender: '性别', au_f_group_id: '所在社群', au_f_attrs: '自定义属性',
    au_op_eq: '等于', au_op_ne: '不等于', au_op_gt: '大于', au_op_ge: '大于等于', au_op_lt: '小于', au_op_le: '小于等于',
    au_op_in: '是其中之一', au_op_not_in: '不是其中任何一个', au_op_between: '介于', au_op_exists: '有无记录',
    au_op_has: '有', au_op_has_not: '没有', au_op_has_in: '有其中任一', au_op_has_not_in: '一个都没有',
    au_op_stage_gt: '晚于', au_op_stage_ge: '达到或晚于', au_op_stage_lt: '早于', au_op_stage_le: '达到或早于',
    au_err_int: '请填写整数', au_err_days: '请填写 0 或更大的整数', au_err_money: '请填写金额（元），最多两位小数',
    au_err_number: '请填写数字', au_err_json: '不是有效的 JSON', au_need_value: '请填写取值', au_need_two: '请填写两端',
    au_need_list: '至少添加一个值', au_need_key: '请填写属性名',
    au_matching: '符合条件的客户', au_counting: '正在统计…', au_took: '用时 {ms} 毫秒', au_sample: '最新的 {n} 位',
    au_incomplete: '补全标出的条件后开始统计', au_empty_rule: '添加条件后显示人数', au_fix: '请修正标出的条件',
    au_no_match: '没有符合条件的客户',
    au_json: 'JSON', au_json_hide: '隐藏 JSON', au_json_title: '规则的 JSON', au_json_apply: '用这段 JSON 替换规则',
    au_json_bad: '无法识别这段规则：{msg}', au_json_hint: '规则语言的 JSON，可复制给 API 或自动标签使用；也可粘贴一段 JSON 再替换。',
    au_save_new: '保存为人群', au_saved: '人群已保存', au_name_required: '请填写名称', au_rule_required: '请至少添加一个完整的条件',
    au_unsaved: '有未保存的修改', au_reset: '撤销修改', au_evaluate: '立即重新计算', au_evaluated_ok: '已重新计算：进入 {entered}，离开 {left}',
    au_export: '导出 CSV', au_delete_q: '删除人群“{name}”？它保存的成员也会一起删除。', au_deleted: '人群已删除',
    au_stored: '保存的人数', au_stored_hint: '截至 {at}', au_members: '当前成员', au_members_hint: '按规则实时计算，新加入的在前',
    au_phone: '手机号', au_stage: '阶段', au_orders: '订单数', au_spent: '累计消费', au_points: '积分',
    au_created_at: '创建于', au_cust: '客户', au_combine: '组合方式', au_err_list: '“{op}” 后面应是一个条件数组',
    au_err_field: '条件缺少字段（field）', au_options_failed: '部分选项（标签、等级、社群、渠道或负责人）没有加载：',
  },
  en: {
    au_title: 'Audiences', au_new: 'New audience', au_try: 'Try a rule', au_back: 'Audiences', au_name: 'Name', au_count: 'Customers',
    au_evaluated: 'Last evaluated', au_updated: 'Updated', au_rule: 'Rule', au_none: 'No saved audience yet',
    au_builder: 'Rule', au_new_title: 'New audience', au_try_title: 'Try a rule',
    au_all: 'Match all', au_any: 'Match any', au_and: 'and', au_or: 'or', au_negate: 'Negate', au_negated: 'NOT',
    au_group_not: 'None of these holds', au_add_cond: 'Add a condition', au_add_group: 'Add a group',
    au_remove_cond: 'Remove this condition', au_remove_group: 'Remove this group', au_negate_cond: 'Negate this condition',
    au_field: 'Field', au_op: 'Condition', au_value: 'Value', au_low: 'From', au_high: 'To', au_to: 'to',
    au_pick: 'Choose…', au_add_value: 'Add a value', au_add_value_ph: 'Type, then Enter', au_remove_value: 'Remove {v}',
    au_key: 'Attribute key', au_key_ph: 'e.g. skin', au_atype: 'Type', au_atype_text: 'Text', au_atype_number: 'Number', au_atype_bool: 'Yes/no',
    au_true: 'yes', au_false: 'no', au_current_month: 'this month', au_month: 'month {n}',
    au_ex_true: 'is recorded', au_ex_false: 'is not recorded', au_unit_days: 'days',
    au_empty_root: 'No condition yet: add one to start picking customers.', au_empty_group: 'An empty group (left out of the count)',
    au_g_buy: 'Buying', au_g_club: 'Member club', au_g_profile: 'Profile',
    au_f_order_count: 'Paid orders', au_f_total_spent_cents: 'Total spent', au_f_points_balance: 'Points balance',
    au_f_wallet_balance_cents: 'Wallet balance', au_f_days_since_last_order: 'Days since the last order',
    au_f_days_since_first_order: 'Days since the first order', au_f_days_since_created: 'Days as a customer',
    au_f_days_since_last_checkin: 'Days since the last check-in', au_f_birthday_month: 'Birthday month',
    au_f_birthday_in_days: 'Days until the birthday', au_f_coupon_expiring_in_days: 'Coupon expiring within (days)',
    au_f_stage: 'Stage', au_f_tier: 'Tier', au_f_tag: 'Tag', au_f_source_channel_id: 'Source channel', au_f_owner_user_id: 'Owner',
    au_f_platform: 'Bought on platform', au_f_category: 'Bought in category', au_f_gender: 'Gender', au_f_group_id: 'Member of group',
    au_f_attrs: 'Attribute',
    au_op_eq: 'is', au_op_ne: 'is not', au_op_gt: 'more than', au_op_ge: 'at least', au_op_lt: 'less than', au_op_le: 'at most',
    au_op_in: 'is one of', au_op_not_in: 'is none of', au_op_between: 'between', au_op_exists: 'is recorded or not',
    au_op_has: 'has', au_op_has_not: 'has not', au_op_has_in: 'has any of', au_op_has_not_in: 'has none of',
    au_op_stage_gt: 'later than', au_op_stage_ge: 'at or later than', au_op_stage_lt: 'earlier than', au_op_stage_le: 'at or earlier than',
    au_err_int: 'A whole number', au_err_days: 'A whole number, 0 or more', au_err_money: 'An amount in yuan, at most two decimals',
    au_err_number: 'A number', au_err_json: 'Not valid JSON', au_need_value: 'Enter a value', au_need_two: 'Enter both ends',
    au_need_list: 'Add at least one value', au_need_key: 'Enter the attribute key',
    au_matching: 'Matching customers', au_counting: 'Counting…', au_took: 'took {ms} ms', au_sample: 'The {n} newest',
    au_incomplete: 'Complete the marked conditions to count', au_empty_rule: 'Add a condition to see who matches',
    au_fix: 'Fix the marked condition', au_no_match: 'No customer matches',
    au_json: 'JSON', au_json_hide: 'Hide JSON', au_json_title: 'The rule as JSON', au_json_apply: 'Replace the rule with this JSON',
    au_json_bad: 'Cannot read this rule: {msg}', au_json_hint: 'The rule language as JSON, for the API or an auto tag; paste one and replace to load it.',
    au_save_new: 'Save as an audience', au_saved: 'Audience saved', au_name_required: 'Give it a name',
    au_rule_required: 'Add at least one complete condition', au_unsaved: 'Unsaved changes', au_reset: 'Undo the changes',
    au_evaluate: 'Evaluate now', au_evaluated_ok: 'Evaluated: {entered} entered, {left} left', au_export: 'Export CSV',
    au_delete_q: 'Delete the audience "{name}"? Its stored members go with it.', au_deleted: 'Audience deleted',
    au_stored: 'Stored members', au_stored_hint: 'as of {at}', au_members: 'Members now',
    au_members_hint: 'The rule run now, newest first', au_phone: 'Phone', au_stage: 'Stage', au_orders: 'Orders',
    au_spent: 'Total spent', au_points: 'Points', au_created_at: 'Created', au_cust: 'Customer', au_combine: 'Combine',
    au_err_list: '"{op}" takes a list of conditions', au_err_field: 'A condition without a field', au_options_failed: 'Some choices (tags, tiers, groups, channels or owners) did not load:',
  },
});

// ------------------------------------------------------------------ the rule language

const NUM_OPS = ['>=', '>', '=', '!=', '<', '<=', 'between', 'in', 'not_in'];
const DAY_OPS = ['<=', '<', '=', '!=', '>', '>=', 'between', 'exists'];
const ID_OPS = ['=', '!=', 'in', 'not_in', 'exists'];
const HAS_OPS = ['has', 'has_not', 'in', 'not_in'];
const ALL_OPS = ['=', '!=', '>', '>=', '<', '<=', 'in', 'not_in', 'has', 'has_not', 'exists', 'between'];

// Every field of the rule language: the kind of value and the operators it takes.
const FIELDS = {
  order_count: { type: 'int', ops: NUM_OPS, g: 'buy' },
  total_spent_cents: { type: 'money', ops: NUM_OPS, g: 'buy' },
  days_since_last_order: { type: 'days', ops: DAY_OPS, g: 'buy' },
  days_since_first_order: { type: 'days', ops: DAY_OPS, g: 'buy' },
  platform: { type: 'platform', ops: HAS_OPS, g: 'buy' },
  category: { type: 'category', ops: HAS_OPS, g: 'buy' },
  points_balance: { type: 'int', ops: NUM_OPS, g: 'club' },
  wallet_balance_cents: { type: 'money', ops: NUM_OPS, g: 'club' },
  tier: { type: 'tier', ops: ID_OPS, g: 'club' },
  coupon_expiring_in_days: { type: 'days', ops: ['<=', '<', 'between', 'exists'], g: 'club' },
  days_since_last_checkin: { type: 'days', ops: DAY_OPS, g: 'club' },
  stage: { type: 'stage', ops: ['=', '!=', 'in', 'not_in', '>', '>=', '<', '<='], g: 'profile' },
  tag: { type: 'tag', ops: HAS_OPS, g: 'profile' },
  group_id: { type: 'group', ops: HAS_OPS, g: 'profile' },
  gender: { type: 'gender', ops: ['=', '!=', 'in', 'not_in'], g: 'profile' },
  birthday_month: { type: 'month', ops: ['=', '!=', 'in', 'not_in', 'exists'], g: 'profile' },
  birthday_in_days: { type: 'bdays', ops: ['<=', '<', '=', 'between'], g: 'profile' },
  days_since_created: { type: 'days', ops: DAY_OPS, g: 'profile' },
  source_channel_id: { type: 'channel', ops: ID_OPS, g: 'profile' },
  owner_user_id: { type: 'owner', ops: ID_OPS, g: 'profile' },
  attrs: { type: 'attr', ops: ['=', '!=', '>', '>=', '<', '<=', 'in', 'not_in', 'between', 'exists'], g: 'profile' },
};
const RAW = { type: 'raw', ops: ALL_OPS };
const defOf = (c) => FIELDS[c.field] || RAW;
const PLATFORMS = ['tmall', 'taobao', 'douyin', 'jd', 'pdd', 'wechat', 'xiaohongshu', 'offline'];
const SELECT_TYPES = new Set(['stage', 'gender', 'month', 'tier', 'channel', 'owner', 'group']);
const isList = (op) => op === 'in' || op === 'not_in';
const OP_KEY = { '=': 'eq', '!=': 'ne', '>': 'gt', '>=': 'ge', '<': 'lt', '<=': 'le' };
const MAX_DEPTH = 8; // the API takes 10 levels; "not" wrappers count too

function opLabel(def, op) {
  if (def.type === 'stage' && ['>', '>=', '<', '<='].includes(op)) return t('au_op_stage_' + OP_KEY[op]);
  if (def.ops === HAS_OPS && isList(op)) return t(op === 'in' ? 'au_op_has_in' : 'au_op_has_not_in');
  return t('au_op_' + (OP_KEY[op] || op));
}

function fieldLabel(c) {
  if (c.field === 'attrs') return `${t('au_f_attrs')}${c.key ? ' ' + c.key : ''}`;
  return FIELDS[c.field] ? t('au_f_' + c.field) : c.field;
}

// ------------------------------------------------------------------ the editor's tree

let seq = 0;
const uid = () => `n${++seq}`;
const newGroup = (op = 'all', children = [], not = false) => ({ id: uid(), kind: 'group', op, not, children });
function newCond(field = 'order_count') {
  return { id: uid(), kind: 'cond', not: false, field, op: FIELDS[field].ops[0], v: '', lo: '', hi: '', list: [], ex: 'true', key: '', atype: 'text' };
}

// The tree with the node `id` replaced by fn(node) (null removes it).
function update(node, id, fn) {
  if (node.id === id) return fn(node);
  if (node.kind !== 'group') return node;
  let changed = false;
  const children = [];
  for (const c of node.children) {
    const n = update(c, id, fn);
    if (n !== c) changed = true;
    if (n) children.push(n);
  }
  return changed ? { ...node, children } : node;
}

// A value as the editor holds it (text) from the JSON of a rule, and back.
function toText(type, v) {
  if (v === null || v === undefined) return '';
  if (type === 'money' && typeof v === 'number') return v % 100 === 0 ? String(v / 100) : (v / 100).toFixed(2);
  if (type === 'tag' && typeof v === 'number') return `#${v}`;
  if (type === 'raw') return JSON.stringify(v);
  return String(v);
}

// One value from its text: {value} or {err: key} or {empty: true}.
function parseValue(c, type, text) {
  const s = String(text ?? '').trim();
  if (type === 'attr' && c.atype === 'text') return text === '' ? { empty: true } : { value: String(text) };
  if (!s) return { empty: true };
  switch (type) {
    case 'int': return /^[-+]?\d{1,15}$/.test(s) ? { value: Number(s) } : { err: 'au_err_int' };
    case 'days':
    case 'bdays': return /^\d{1,6}$/.test(s) ? { value: Number(s) } : { err: 'au_err_days' };
    case 'money': {
      const m = s.replace(/[,，¥￥\s]/g, '');
      return /^-?\d{1,13}(\.\d{1,2})?$/.test(m) ? { value: Math.round(Number(m) * 100) } : { err: 'au_err_money' };
    }
    case 'month': return { value: s === 'current' ? 'current' : Number(s) };
    case 'tag': return { value: /^#\d+$/.test(s) ? Number(s.slice(1)) : s };
    case 'tier':
    case 'channel':
    case 'owner':
    case 'group': return { value: /^\d+$/.test(s) ? Number(s) : s };
    case 'attr':
      if (c.atype === 'bool') return { value: s === 'true' };
      return s !== '' && Number.isFinite(Number(s)) ? { value: Number(s) } : { err: 'au_err_number' };
    case 'raw':
      try { return { value: JSON.parse(s) }; } catch { return { err: 'au_err_json' }; }
    default: return { value: s };
  }
}

// The JSON of one condition, and what keeps it from being sent (a problem:
// {part, idx, key, soft}; soft: not filled in yet, not wrong).
function condJson(c) {
  const def = defOf(c);
  const type = def.type;
  let field = c.field;
  if (type === 'attr') {
    if (!c.key.trim()) return { json: { field: 'attrs.', op: c.op }, problem: { part: 'field', key: 'au_need_key', soft: true } };
    field = 'attrs.' + c.key.trim();
  }
  const json = { field, op: c.op };
  if (c.op === 'exists') {
    json.value = c.ex !== 'false';
    return { json };
  }
  if (c.op === 'between') {
    const lo = parseValue(c, type, c.lo);
    const hi = parseValue(c, type, c.hi);
    json.value = [lo.value ?? null, hi.value ?? null];
    if (lo.err) return { json, problem: { part: 'value', idx: 0, key: lo.err } };
    if (hi.err) return { json, problem: { part: 'value', idx: 1, key: hi.err } };
    if (lo.empty || hi.empty) return { json, problem: { part: 'value', key: 'au_need_two', soft: true } };
    return { json };
  }
  if (isList(c.op)) {
    const values = [];
    for (let i = 0; i < c.list.length; i++) {
      const p = parseValue(c, type, c.list[i]);
      if (p.err) return { json: { ...json, value: values }, problem: { part: 'value', idx: i, key: p.err } };
      if (!p.empty) values.push(p.value);
    }
    json.value = values;
    if (!values.length) return { json, problem: { part: 'value', key: 'au_need_list', soft: true } };
    return { json };
  }
  const p = parseValue(c, type, c.v);
  if (p.err) return { json, problem: { part: 'value', key: p.err } };
  if (p.empty) return { json, problem: { part: 'value', key: 'au_need_value', soft: true } };
  json.value = p.value;
  return { json };
}

const isEmpty = (n) => n.kind === 'group' && n.children.every(isEmpty);

// The rule of the tree: {rule (null when empty), paths: [[path, id]] (where
// each node sits in the rule, for the API's error paths), problems: {id: problem}}.
function buildRule(root) {
  const paths = [];
  const problems = {};
  function ser(node, path) {
    let p = path;
    if (node.not) {
      paths.push([path, node.id]);
      p = path + '.not';
    }
    paths.push([p, node.id]);
    let json;
    if (node.kind === 'group') {
      const kids = node.children.filter((c) => !isEmpty(c));
      json = { [node.op]: kids.map((c, i) => ser(c, `${p}.${node.op}[${i}]`)) };
    } else {
      const r = condJson(node);
      if (r.problem) problems[node.id] = r.problem;
      json = r.json;
    }
    return node.not ? { not: json } : json;
  }
  const rule = isEmpty(root) ? null : ser(root, 'rule');
  return { rule, paths, problems };
}

// The tree of a rule's JSON (what the API stored); throws on what is no rule.
function fromJson(j) {
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error(t('au_err_json'));
  const keys = Object.keys(j);
  if (keys.length === 1 && (keys[0] === 'all' || keys[0] === 'any')) {
    if (!Array.isArray(j[keys[0]])) throw new Error(t('au_err_list', { op: keys[0] }));
    return newGroup(keys[0], j[keys[0]].map(fromJson));
  }
  if (keys.length === 1 && keys[0] === 'not') {
    const n = fromJson(j.not);
    return n.not ? newGroup('all', [n], true) : { ...n, not: true };
  }
  if (typeof j.field !== 'string') throw new Error(t('au_err_field'));
  const c = newCond();
  c.field = j.field;
  if (j.field.startsWith('attrs.')) {
    c.field = 'attrs';
    c.key = j.field.slice(6);
    const sample = Array.isArray(j.value) ? j.value[0] : j.value;
    c.atype = typeof sample === 'number' ? 'number' : typeof sample === 'boolean' ? 'bool' : 'text';
  }
  c.op = String(j.op ?? '');
  const type = defOf(c).type;
  if (c.op === 'exists') c.ex = j.value === false ? 'false' : 'true';
  else if (c.op === 'between' && Array.isArray(j.value)) {
    c.lo = toText(type, j.value[0]);
    c.hi = toText(type, j.value[1]);
  } else if (isList(c.op) && Array.isArray(j.value)) c.list = j.value.map((v) => toText(type, v));
  else c.v = toText(type, j.value);
  return c;
}

function treeOf(rule) {
  if (!rule) return newGroup();
  const n = fromJson(rule);
  return n.kind === 'group' && !n.not ? n : newGroup('all', [n]);
}

// The node an API error path names, and what of it: {id, part, idx}.
function locate(paths, field) {
  if (!field || !field.startsWith('rule')) return null;
  let best = null;
  for (const [p, id] of paths) {
    if (field === p || field.startsWith(p + '.') || field.startsWith(p + '[')) {
      if (!best || p.length > best.p.length) best = { p, id };
    }
  }
  if (!best) return null;
  const rest = field.slice(best.p.length);
  const m = /^\.(field|op|value)(?:\[(\d+)\])?/.exec(rest);
  return { id: best.id, part: m ? m[1] : null, idx: m && m[2] !== undefined ? Number(m[2]) : null };
}

// The API's message without the path it starts with (shown at the place it names).
function shortMessage(e) {
  const msg = e.message || '';
  if (e.field && msg.startsWith(e.field + ': ')) return msg.slice(e.field.length + 2);
  return msg;
}

// A one-line reading of a rule, for the list.
function summary(rule, depth = 0) {
  if (!rule || typeof rule !== 'object') return '';
  if (rule.all || rule.any) {
    const list = rule.all || rule.any;
    const s = list.map((r) => summary(r, depth + 1)).join(` ${t(rule.all ? 'au_and' : 'au_or')} `);
    return depth && list.length > 1 ? `(${s})` : s;
  }
  if (rule.not) return `${t('au_negated')} (${summary(rule.not, depth + 1)})`;
  let c;
  try { c = fromJson(rule); } catch { return JSON.stringify(rule); }
  const def = defOf(c);
  const show = (v) => (def.type === 'money' && /^-?\d/.test(v) ? `¥${v}` : def.type === 'stage' ? stageLabel(v) : v === 'current' ? t('au_current_month') : v);
  let v = '';
  if (c.op === 'exists') v = t(c.ex === 'false' ? 'au_ex_false' : 'au_ex_true');
  else if (c.op === 'between') v = `${show(c.lo)}–${show(c.hi)}`;
  else if (isList(c.op)) v = c.list.map(show).join('、');
  else v = show(c.v);
  return `${fieldLabel(c)} ${c.op === 'exists' ? '' : opLabel(def, c.op) + ' '}${v}`.replace(/\s+/g, ' ');
}

// ------------------------------------------------------------------ the live count

// POST /audiences/preview for the rule text, 400 ms after it last changed; an
// answer to an older rule never replaces the answer to a newer one.
function usePreview(ruleText, ready) {
  const [st, setSt] = useState({ pending: false, data: null, error: null, text: null });
  const [tick, setTick] = useState(0);
  const n = useRef(0);
  useEffect(() => {
    const my = ++n.current;
    if (!ready) {
      setSt({ pending: false, data: null, error: null, text: null });
      return undefined;
    }
    setSt((s) => ({ ...s, pending: true }));
    const h = setTimeout(async () => {
      try {
        const data = await post('/audiences/preview', { rule: JSON.parse(ruleText) });
        if (my === n.current) setSt({ pending: false, data, error: null, text: ruleText });
      } catch (error) {
        if (my === n.current) setSt({ pending: false, data: null, error, text: ruleText });
      }
    }, 400);
    return () => clearTimeout(h);
  }, [ruleText, ready, tick]);
  return { ...st, retry: () => setTick((x) => x + 1) };
}

// The choices of the select-type fields, loaded once per editor: {opts, error
// (the first load that failed), retry}.
function useOptions() {
  const tags = useAsync(() => get('/tags', { limit: 500 }).then((r) => r.data), []);
  const tiers = useAsync(() => get('/tiers').then((r) => r.data), []);
  const groups = useAsync(() => get('/groups', { limit: 500 }).then((r) => r.data), []);
  const channels = useChannels();
  const owners = useOwners();
  const opts = useMemo(() => ({
    tag: (tags.data || []).map((x) => ({ value: x.name, label: x.name, id: x.id })),
    tier: (tiers.data || []).map((x) => ({ value: String(x.id), label: x.name })),
    group: (groups.data || []).map((x) => ({ value: String(x.id), label: x.name })),
    channel: (channels.data || []).map((x) => ({ value: String(x.id), label: x.name })),
    owner: (owners.data || []).map((x) => ({ value: String(x.id), label: x.name })),
    stage: STAGES.map((s) => ({ value: s, label: stageLabel(s) })),
    gender: ['f', 'm', 'u'].map((g) => ({ value: g, label: t('cu_gender_' + g) })),
    month: [{ value: 'current', label: t('au_current_month') }, ...Array.from({ length: 12 }, (_, i) => ({ value: String(i + 1), label: t('au_month', { n: i + 1 }) }))],
    platform: PLATFORMS.map((p) => ({ value: p, label: p })),
  }), [tags.data, tiers.data, groups.data, channels.data, owners.data, t('au_current_month')]);
  const loads = [tags, tiers, groups, channels, owners];
  const error = loads.map((x) => x.error).find(Boolean) || null;
  return { opts, error, retry: () => loads.forEach((x) => x.error && x.reload()) };
}

// ------------------------------------------------------------------ the editor

// a tag named by its id ("#3") shows its name too
const tagLabel = (opts, v) => {
  const m = /^#(\d+)$/.exec(v);
  const x = m && opts.find((o) => o.id === Number(m[1]));
  return x ? `${x.label} (${v})` : v;
};

const optionLabel = (opts, v) => {
  const o = opts && opts.find((x) => x.value === v);
  return o ? o.label : v;
};

function SelectValue({ name, value, opts, onChange, invalid, label }) {
  const known = opts.some((o) => o.value === value);
  return (
    <select name={name} value={value} aria-label={label} aria-invalid={invalid ? 'true' : undefined} onChange={(e) => onChange(e.currentTarget.value)}>
      <option value="">{t('au_pick')}</option>
      {opts.map((o) => <option value={o.value}>{o.label}</option>)}
      {value && !known && <option value={value}>{value}</option>}
    </select>
  );
}

function TextValue({ name, value, type, onChange, invalid, label, listId, onEnter }) {
  const numeric = ['int', 'days', 'bdays'].includes(type);
  return (
    <span class={`au-input ${type === 'money' ? 'au-money' : ''}`}>
      {type === 'money' && <span class="au-unit" aria-hidden="true">¥</span>}
      <input name={name} value={value} aria-label={label} aria-invalid={invalid ? 'true' : undefined} autocomplete="off"
        inputMode={numeric ? 'numeric' : type === 'money' ? 'decimal' : undefined} list={listId}
        onInput={(e) => onChange(e.currentTarget.value)}
        onKeyDown={onEnter ? (e) => { if (e.key === 'Enter') { e.preventDefault(); onEnter(e.currentTarget.value); } } : undefined} />
      {(type === 'days' || type === 'bdays') && <span class="au-unit" aria-hidden="true">{t('au_unit_days')}</span>}
    </span>
  );
}

// in / not_in: the values as chips, and a control to add one.
function MultiValue({ c, type, opts, set, err }) {
  const [text, setText] = useState('');
  const add = (raw) => {
    const parts = String(raw).split(/[,，、\n]/).map((x) => (type === 'attr' && c.atype === 'text' ? x : x.trim())).filter((x) => x !== '');
    const list = [...c.list];
    for (const p of parts) if (!list.includes(p)) list.push(p);
    if (list.length !== c.list.length) set({ list });
    setText('');
  };
  const remove = (i) => set({ list: c.list.filter((_, k) => k !== i) });
  const selectType = SELECT_TYPES.has(type) || (type === 'attr' && c.atype === 'bool');
  const choices = type === 'attr' ? [{ value: 'true', label: t('au_true') }, { value: 'false', label: t('au_false') }] : opts;
  return (
    <span class="au-multi">
      {c.list.map((v, i) => (
        <span class={`tag au-chip ${err && err.idx === i ? 'au-chip-bad' : ''}`} data-value={v}>
          {selectType ? optionLabel(choices, v) : type === 'money' ? `¥${v}` : type === 'tag' ? tagLabel(opts, v) : v}
          <button type="button" class="au-chip-x" aria-label={t('au_remove_value', { v })} onClick={() => remove(i)}>×</button>
        </span>
      ))}
      {selectType ? (
        <select name="value_add" aria-label={t('au_add_value')} value="" onChange={(e) => { const v = e.currentTarget.value; if (v) add(v); }}>
          <option value="">+ {t('au_add_value')}</option>
          {choices.filter((o) => !c.list.includes(o.value)).map((o) => <option value={o.value}>{o.label}</option>)}
        </select>
      ) : (
        <span class={`au-input ${type === 'money' ? 'au-money' : ''}`}>
          {type === 'money' && <span class="au-unit" aria-hidden="true">¥</span>}
          <input name="value_add" value={text} placeholder={t('au_add_value_ph')} aria-label={t('au_add_value')} autocomplete="off"
            list={type === 'tag' ? 'au-tags' : type === 'platform' ? 'au-platforms' : undefined}
            onInput={(e) => { const v = e.currentTarget.value; if (/[,，、]/.test(v)) add(v); else setText(v); }}
            onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); add(e.currentTarget.value); } }}
            onChange={(e) => { if (e.currentTarget.value) add(e.currentTarget.value); }} />
        </span>
      )}
    </span>
  );
}

function ValueControl({ c, opts, set, err }) {
  const def = defOf(c);
  const type = def.type;
  const bad = (idx) => err && err.part === 'value' && (idx === undefined || err.idx === null || err.idx === idx);
  if (c.op === 'exists') {
    return (
      <select name="value" aria-label={t('au_value')} value={c.ex} onChange={(e) => set({ ex: e.currentTarget.value })}>
        <option value="true">{t('au_ex_true')}</option>
        <option value="false">{t('au_ex_false')}</option>
      </select>
    );
  }
  if (isList(c.op)) return <MultiValue c={c} type={type} opts={opts[type] || []} set={set} err={err && err.part === 'value' ? err : null} />;
  const listId = type === 'tag' ? 'au-tags' : type === 'platform' ? 'au-platforms' : undefined;
  const one = (name, key, label, idx) => {
    if (type === 'attr' && c.atype === 'bool') {
      return (
        <select name={name} aria-label={label} value={c[key]} aria-invalid={bad(idx) ? 'true' : undefined} onChange={(e) => set({ [key]: e.currentTarget.value })}>
          <option value="">{t('au_pick')}</option>
          <option value="true">{t('au_true')}</option>
          <option value="false">{t('au_false')}</option>
        </select>
      );
    }
    if (SELECT_TYPES.has(type)) return <SelectValue name={name} label={label} value={c[key]} opts={opts[type] || []} invalid={bad(idx)} onChange={(v) => set({ [key]: v })} />;
    return <TextValue name={name} label={label} value={c[key]} type={type} listId={listId} invalid={bad(idx)} onChange={(v) => set({ [key]: v })} />;
  };
  if (c.op === 'between') {
    return (
      <span class="au-between">
        {one('value_lo', 'lo', t('au_low'), 0)}
        <span class="muted">{t('au_to')}</span>
        {one('value_hi', 'hi', t('au_high'), 1)}
      </span>
    );
  }
  return one('value', 'v', t('au_value'));
}

// A field change keeps the values when the kind of value stays, and an op the field takes.
function changeField(c, field) {
  const def = FIELDS[field] || RAW;
  const same = defOf(c).type === def.type;
  const op = def.ops.includes(c.op) ? c.op : def.ops[0];
  return same ? { ...c, field, op } : { ...c, field, op, v: '', lo: '', hi: '', list: [], ex: 'true' };
}

function changeOp(c, op) {
  const n = { ...c, op };
  if (isList(op) && !isList(c.op) && c.v && !c.list.length) n.list = [c.v];
  if (!isList(op) && isList(c.op) && !c.v && c.list.length) n.v = c.list[0];
  if (op === 'between' && !c.lo && c.v) n.lo = c.v;
  return n;
}

function CondView({ c, ctx, parent }) {
  const def = defOf(c);
  const set = (patchObj) => ctx.set(c.id, (x) => ({ ...x, ...patchObj }));
  const server = ctx.marks[c.id];
  const local = ctx.problems[c.id];
  // a value not filled in yet is a hint, until a save needs it
  const err = server || (local && (!local.soft || ctx.showSoft) ? local : null);
  const message = server ? server.message : local ? t(local.key) : '';
  const fieldBad = err && err.part === 'field';
  const opBad = err && err.part === 'op';
  const group = (g) => Object.keys(FIELDS).filter((f) => FIELDS[f].g === g);
  return (
    <div class={`au-cond ${c.not ? 'au-not' : ''} ${err ? 'has-error' : ''}`} data-cond={c.id} data-field={c.field}>
      <div class="au-cond-row">
        <button type="button" class={`chip au-neg ${c.not ? 'on' : ''}`} aria-pressed={c.not ? 'true' : 'false'} title={t('au_negate_cond')}
          aria-label={t('au_negate_cond')} data-negate onClick={() => set({ not: !c.not })}>{t('au_negated')}</button>
        <select name="field" aria-label={t('au_field')} value={c.field} aria-invalid={fieldBad ? 'true' : undefined}
          onChange={(e) => ctx.set(c.id, (x) => changeField(x, e.currentTarget.value))}>
          {['buy', 'club', 'profile'].map((g) => (
            <optgroup label={t('au_g_' + g)}>{group(g).map((f) => <option value={f}>{t('au_f_' + f)}</option>)}</optgroup>
          ))}
          {!FIELDS[c.field] && <option value={c.field}>{c.field}</option>}
        </select>
        {def.type === 'attr' && (
          <>
            <input name="key" class="au-key" value={c.key} placeholder={t('au_key_ph')} aria-label={t('au_key')} autocomplete="off"
              aria-invalid={fieldBad ? 'true' : undefined} onInput={(e) => set({ key: e.currentTarget.value })} />
            <select name="atype" aria-label={t('au_atype')} value={c.atype} onChange={(e) => set({ atype: e.currentTarget.value, v: '', lo: '', hi: '', list: [] })}>
              {['text', 'number', 'bool'].map((k) => <option value={k}>{t('au_atype_' + k)}</option>)}
            </select>
          </>
        )}
        <select name="op" aria-label={t('au_op')} value={c.op} aria-invalid={opBad ? 'true' : undefined}
          onChange={(e) => ctx.set(c.id, (x) => changeOp(x, e.currentTarget.value))}>
          {def.ops.map((op) => <option value={op}>{opLabel(def, op)}</option>)}
          {!def.ops.includes(c.op) && <option value={c.op}>{c.op}</option>}
        </select>
        <ValueControl c={c} opts={ctx.opts} set={set} err={err} />
        <button type="button" class="btn ghost small au-x" aria-label={t('au_remove_cond')} title={t('au_remove_cond')} data-remove
          onClick={() => { ctx.focusAdd(parent); ctx.set(c.id, () => null); }}>×</button>
      </div>
      {message && (
        <p class={`au-msg ${err ? 'field-error' : 'field-hint'}`} role={err ? 'alert' : undefined}
          data-cond-error={err ? (err.part || 'node') : undefined}>{message}</p>
      )}
    </div>
  );
}

function GroupView({ g, ctx, depth, root, parent }) {
  const set = (fn) => ctx.set(g.id, fn);
  const server = ctx.marks[g.id];
  return (
    <div class={`au-group ${g.not ? 'au-not' : ''} ${root ? 'au-root' : ''} ${server ? 'has-error' : ''}`} data-group={g.id} data-root={root ? '' : undefined}
      role="group" aria-label={t(g.op === 'all' ? 'au_all' : 'au_any')}>
      <div class="au-group-head">
        <span class="au-seg" role="group" aria-label={t('au_combine')}>
          {['all', 'any'].map((op) => (
            <button type="button" class={`chip ${g.op === op ? 'on' : ''}`} aria-pressed={g.op === op ? 'true' : 'false'} data-op={op}
              onClick={() => set((x) => ({ ...x, op }))}>{t('au_' + op)}</button>
          ))}
        </span>
        <button type="button" class={`chip au-neg ${g.not ? 'on' : ''}`} aria-pressed={g.not ? 'true' : 'false'} data-negate
          onClick={() => set((x) => ({ ...x, not: !x.not }))}>{g.not ? t('au_group_not') : t('au_negate')}</button>
        <span class="grow" />
        {!root && <button type="button" class="btn ghost small au-x" aria-label={t('au_remove_group')} title={t('au_remove_group')} data-remove
          onClick={() => { ctx.focusAdd(parent); set(() => null); }}>×</button>}
      </div>
      {server && <p class="field-error au-msg" role="alert" data-cond-error="node">{server.message}</p>}
      {g.children.length === 0 && <p class="muted au-empty">{root ? t('au_empty_root') : t('au_empty_group')}</p>}
      <div class="au-children">
        {g.children.map((c, i) => (
          <Fragment key={c.id}>
            {i > 0 && <span class="au-join" aria-hidden="true">{t(g.op === 'all' ? 'au_and' : 'au_or')}</span>}
            {c.kind === 'group' ? <GroupView g={c} ctx={ctx} depth={depth + 1} parent={g.id} /> : <CondView c={c} ctx={ctx} parent={g.id} />}
          </Fragment>
        ))}
      </div>
      <div class="au-group-actions">
        <Button class="small" data-add="cond" onClick={() => {
          const c = newCond();
          ctx.focusCond(c.id);
          set((x) => ({ ...x, children: [...x.children, c] }));
        }}>+ {t('au_add_cond')}</Button>
        {depth < MAX_DEPTH && (
          <Button class="small" data-add="group" onClick={() => {
            const c = newCond();
            ctx.focusCond(c.id);
            set((x) => ({ ...x, children: [...x.children, newGroup(x.op === 'all' ? 'any' : 'all', [c])] }));
          }}>
            + {t('au_add_group')}
          </Button>
        )}
      </div>
    </div>
  );
}

// ------------------------------------------------------------------ the count and the sample

function PreviewPanel({ prev, built, ready, located, onRetry }) {
  const ruleErr = prev.error instanceof ApiError && prev.error.status === 422 && located;
  let body;
  if (!built.rule) body = <p class="muted">{t('au_empty_rule')}</p>;
  else if (!ready) body = <p class="muted" data-preview="incomplete">{t('au_incomplete')}</p>;
  else if (prev.error && ruleErr) body = <p class="field-error" data-preview="invalid">{t('au_fix')}</p>;
  else if (prev.error) body = <ErrorBox error={prev.error} onRetry={onRetry} />;
  const d = prev.data;
  const fresh = d && !prev.pending;
  return (
    <Card class="au-preview" title={t('au_matching')}>
      <div class="au-count-line" aria-live="polite">
        <span class={`au-count ${prev.pending ? 'au-stale' : ''}`} data-testid="au-count" data-count={fresh ? String(d.count) : undefined}>
          {d ? num(d.count) : '—'}
        </span>
        {prev.pending && <Spinner label={t('au_counting')} />}
        {d && d.took_ms !== undefined && d.took_ms !== null && <span class="muted au-took">{t('au_took', { ms: num(Math.round(d.took_ms * 10) / 10) })}</span>}
      </div>
      {body}
      {d && (d.sample.length === 0 ? <p class="empty">{t('au_no_match')}</p> : (
        <div class={`au-sample ${prev.pending ? 'au-stale' : ''}`} data-testid="au-sample">
          <p class="muted au-sample-title">{t('au_sample', { n: d.sample.length })}</p>
          <ul>
            {d.sample.map((c) => (
              <li key={c.id}>
                <a href={`/customers/${c.id}`}>{customerName(c)}</a>
                <span class="muted"> #{c.id}</span>
                <span class="au-sample-figs">
                  <StageBadge stage={c.stage} />
                  <span class="muted">{t('au_orders')} {num(c.order_count)} · {money(c.total_spent_cents)}</span>
                </span>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </Card>
  );
}

// The rule as JSON: to read, copy, or replace the rule with a pasted one.
function JsonView({ rule, onApply }) {
  const text = rule ? JSON.stringify(rule, null, 2) : '';
  const [draft, setDraft] = useState(text);
  const [err, setErr] = useState('');
  useEffect(() => { setDraft(text); setErr(''); }, [text]);
  const apply = () => {
    try {
      onApply(treeOf(draft.trim() ? JSON.parse(draft) : null));
      setErr('');
    } catch (e) {
      setErr(t('au_json_bad', { msg: e.message }));
    }
  };
  return (
    <div class="au-json" data-testid="au-json">
      <p class="muted">{t('au_json_hint')}</p>
      <textarea name="rule_json" aria-label={t('au_json_title')} spellcheck={false} value={draft} rows={Math.min(24, Math.max(6, draft.split('\n').length + 1))}
        onInput={(e) => setDraft(e.currentTarget.value)} />
      {err && <p class="field-error" role="alert">{err}</p>}
      {draft !== text && <div class="form-actions"><Button class="small" onClick={apply}>{t('au_json_apply')}</Button></div>}
    </div>
  );
}

// ------------------------------------------------------------------ the builder

// The editor, the live count and (for writers) the save form. audience: the
// saved one being edited, or null for a new one.
function Builder({ audience, onSaved }) {
  const write = canWrite();
  const initial = useMemo(() => {
    try { return { tree: treeOf(audience ? audience.rule : null), error: null }; } catch (e) { return { tree: newGroup(), error: e }; }
  }, []);
  const [tree, setTree] = useState(initial.tree);
  const [name, setName] = useState(audience ? audience.name : '');
  const [showJson, setShowJson] = useState(false);
  const [showSoft, setShowSoft] = useState(false);
  const options = useOptions();
  const opts = options.opts;
  const built = useMemo(() => buildRule(tree), [tree]);
  // keyboard: a condition added takes the focus (its field), a node removed
  // hands it to its group's "add a condition" button
  const editor = useRef(null);
  const focusNext = useRef(null);
  useLayoutEffect(() => {
    const sel = focusNext.current;
    if (!sel || !editor.current) return;
    focusNext.current = null;
    const el = editor.current.querySelector(sel);
    if (el) el.focus();
  });
  const ruleText = built.rule ? JSON.stringify(built.rule) : '';
  const ready = !!built.rule && Object.keys(built.problems).length === 0;
  const prev = usePreview(ruleText, ready);
  const savedText = useMemo(() => (audience ? JSON.stringify(buildRule(initial.tree).rule) : ''), []);
  const base = useRef(newBase());
  const [saveText, setSaveText] = useState(null); // the rule a save was tried with
  const save = useSubmit(async () => {
    setSaveText(ruleText);
    const body = {};
    const n = name.trim();
    if (!n) throw new ApiError(422, { error: { code: 'validation_failed', field: 'name', message: t('au_name_required') } });
    if (!ready) {
      setShowSoft(true);
      throw new ApiError(422, { error: { code: 'validation_failed', message: t(built.rule ? 'au_incomplete' : 'au_rule_required') } });
    }
    if (!audience || n !== audience.name) body.name = n;
    if (!audience || ruleText !== savedText) body.rule = built.rule;
    let r;
    if (!audience) r = await postOnce(base.current, '/audiences', body);
    else if (Object.keys(body).length) r = await patch(`/audiences/${audience.id}`, body);
    else r = audience;
    toast(t('au_saved'));
    onSaved(r);
  });

  // the API's complaint about the rule, from the save or the preview, while the rule is unchanged
  const isRuleErr = (e) => e instanceof ApiError && !!e.field && e.field.startsWith('rule');
  const saveRuleErr = isRuleErr(save.error) && saveText === ruleText ? save.error : null;
  const prevRuleErr = isRuleErr(prev.error) && prev.text === ruleText ? prev.error : null;
  const marks = {};
  let located = false;
  for (const e of [prevRuleErr, saveRuleErr]) {
    const at = e && locate(built.paths, e.field);
    if (at) {
      marks[at.id] = { part: at.part, idx: at.idx, message: shortMessage(e) };
      located = true;
    }
  }
  const ctx = {
    set: (id, fn) => setTree((root) => update(root, id, fn) || newGroup()),
    marks, problems: built.problems, opts, showSoft,
    focusCond: (id) => { focusNext.current = `[data-cond="${id}"] select[name="field"]`; },
    focusAdd: (groupId) => { focusNext.current = `[data-group="${groupId}"] > .au-group-actions [data-add="cond"]`; },
  };
  const dirty = !!audience && (ruleText !== savedText || name.trim() !== audience.name);
  const nameError = save.error instanceof ApiError && save.error.field === 'name' ? save.error : null;
  // what names no place shown here goes above the buttons
  const formError = save.error && !nameError && !(isRuleErr(save.error) && (saveText !== ruleText || (saveRuleErr && locate(built.paths, saveRuleErr.field))))
    ? save.error : null;
  return (
    <div class="au-builder">
      <div class="au-editor" ref={editor}>
        <Card title={t('au_builder')} actions={(
          <>
            {dirty && <span class="badge warn" data-testid="au-dirty">{t('au_unsaved')}</span>}
            {dirty && <Button class="small ghost" onClick={() => { setTree(treeOf(JSON.parse(savedText))); setName(audience.name); }}>{t('au_reset')}</Button>}
            <Button class="small" aria-pressed={showJson ? 'true' : 'false'} data-json-toggle onClick={() => setShowJson(!showJson)}>
              {showJson ? t('au_json_hide') : t('au_json')}
            </Button>
          </>
        )}>
          {initial.error && <ErrorBox error={initial.error} />}
          {options.error && <ErrorBox error={new Error(`${t('au_options_failed')} ${errorText(options.error)}`)} onRetry={options.retry} />}
          <GroupView g={tree} ctx={ctx} depth={1} root />
          <datalist id="au-tags">{opts.tag.map((o) => <option value={o.value} />)}</datalist>
          <datalist id="au-platforms">{opts.platform.map((o) => <option value={o.value} />)}</datalist>
          {showJson && <JsonView rule={built.rule} onApply={(tr) => setTree(tr)} />}
        </Card>
      </div>
      <PreviewPanel prev={prev} built={built} ready={ready} located={located} onRetry={prev.retry} />
      {write && (
        <Card class="au-save-card">
          <form class="au-save" onSubmit={(e) => { e.preventDefault(); save.submit(); }} novalidate data-form="audience">
            <Field label={t('au_name')} name="name" error={nameError}>
              <input name="name" value={name} maxLength={50} autocomplete="off" onInput={(e) => setName(e.currentTarget.value)} />
            </Field>
            <ErrorBox error={formError} />
            <div class="form-actions">
              <Button type="submit" class="primary" busy={save.busy} data-write>{audience ? t('save') : t('au_save_new')}</Button>
            </div>
          </form>
        </Card>
      )}
    </div>
  );
}

// ------------------------------------------------------------------ list and detail

function List({ query }) {
  const pager = useUrlPager(query, 'list');
  const list = useAsync(() => get('/audiences', { limit: 50, cursor: pager.cursor }), [pager.cursor]);
  return (
    <Card>
      <Async state={list}>{(d) => (
        <>
          <Table rows={d.data} stack empty={t('au_none')} onRowClick={(a) => navigate(`/audiences/${a.id}`)} columns={[
            { label: t('au_name'), render: (a) => <a href={`/audiences/${a.id}`} onClick={(e) => e.stopPropagation()}>{a.name}</a> },
            { label: t('au_count'), num: true, render: (a) => num(a.customer_count) },
            { label: t('au_rule'), render: (a) => <span class="au-summary" title={summary(a.rule)}>{summary(a.rule)}</span> },
            { label: t('au_evaluated'), render: (a) => when(a.evaluated_at) },
            { label: t('au_updated'), render: (a) => when(a.updated_at) },
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function Members({ id, query, version }) {
  const pager = useUrlPager(query, `members-${id}`);
  const s = useAsync(() => get(`/audiences/${encodeURIComponent(id)}/customers`, { limit: 20, cursor: pager.cursor }), [id, pager.cursor, version]);
  return (
    <Card title={t('au_members')} actions={<span class="muted">{t('au_members_hint')}</span>}>
      <Async state={s}>{(d) => (
        <>
          <Table rows={d.data} stack empty={t('au_no_match')} columns={[
            { label: t('au_cust'), render: (c) => <a href={`/customers/${c.id}`}>{customerName(c)}</a> },
            { label: t('au_phone'), render: (c) => c.phone || '—' },
            { label: t('au_stage'), render: (c) => <StageBadge stage={c.stage} /> },
            { label: t('au_orders'), num: true, render: (c) => num(c.order_count) },
            { label: t('au_spent'), num: true, render: (c) => money(c.total_spent_cents) },
            { label: t('au_points'), num: true, render: (c) => num(c.points_balance) },
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={s.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function Detail({ id, query }) {
  const [version, setVersion] = useState(0);
  const st = useAsync(() => get(`/audiences/${encodeURIComponent(id)}`), [id, version]);
  const write = canWrite();
  const evaluate = useSubmit(async () => {
    const r = await post(`/audiences/${encodeURIComponent(id)}/evaluate`);
    toast(t('au_evaluated_ok', { entered: num(r.entered), left: num(r.left) }));
    setVersion((v) => v + 1);
  });
  const remove = async (a) => {
    await del(`/audiences/${a.id}`);
    toast(t('au_deleted'));
    navigate('/audiences');
  };
  return (
    <Async state={st}>{(a) => (
      <div data-audience={a.id}>
        <div class="page-head">
          <h1>{a.name}</h1>
          <div class="card-actions">
            <a class="btn" href={`/api/v1/audiences/${a.id}/export`} download={`audience-${a.id}.csv`} data-export>{t('au_export')}</a>
            {write && <Button busy={evaluate.busy} data-write data-action="evaluate" onClick={() => evaluate.submit()}>{t('au_evaluate')}</Button>}
            {write && <ConfirmButton data-write message={t('au_delete_q', { name: a.name })} onConfirm={() => remove(a)}>{t('delete')}</ConfirmButton>}
          </div>
        </div>
        <ErrorBox error={evaluate.error} />
        <dl class="kv au-kv">
          <dt>{t('au_stored')}</dt><dd data-testid="au-stored">{num(a.customer_count)} <span class="muted">{t('au_stored_hint', { at: when(a.evaluated_at) })}</span></dd>
          <dt>{t('au_created_at')}</dt><dd>{when(a.created_at)}</dd>
          <dt>{t('au_updated')}</dt><dd>{when(a.updated_at)}</dd>
        </dl>
        <Builder key={`${a.id}-${a.updated_at}`} audience={a} onSaved={() => setVersion((v) => v + 1)} />
        <Members id={a.id} query={query} version={version} />
      </div>
    )}</Async>
  );
}

export default function Audiences({ params, query }) {
  const id = params.id || '';
  // the old deep link /audiences?id=N goes on to /audiences/N
  const oldId = !id ? query.get('id') || '' : '';
  useEffect(() => {
    if (!oldId) return;
    const rest = new URLSearchParams(query);
    rest.delete('id');
    const s = rest.toString();
    navigate(`/audiences/${encodeURIComponent(oldId)}${s ? '?' + s : ''}`, { replace: true });
  }, [oldId]); // eslint-disable-line react-hooks/exhaustive-deps
  const isNew = !id && query.get('new') === '1';
  const write = canWrite();
  let body;
  if (oldId) body = <Loading />;
  else if (id) body = <Detail key={id} id={id} query={query} />;
  else if (isNew) {
    body = (
      <>
        <div class="page-head"><h1>{write ? t('au_new_title') : t('au_try_title')}</h1></div>
        <Builder audience={null} onSaved={(a) => navigate(`/audiences/${a.id}`)} />
      </>
    );
  } else {
    body = (
      <>
        <div class="page-head">
          <h1>{t('au_title')}</h1>
          {write ? <Button class="primary" data-write data-action="new" onClick={() => navigate('/audiences?new=1')}>{t('au_new')}</Button>
            : <Button class="primary" data-action="try" onClick={() => navigate('/audiences?new=1')}>{t('au_try')}</Button>}
        </div>
        <List query={query} />
      </>
    );
  }
  return (
    <div data-page="audiences" class="au-page">
      {(id || oldId || isNew) && <p class="au-back"><a href="/audiences">← {t('au_back')}</a></p>}
      {body}
    </div>
  );
}
