// SOP automation (/sops; ?id= opens one, ?id=new starts one). The list: name,
// trigger, who, on or off, next run. One SOP: its editor in forms (the trigger
// of each kind the API takes, the audience as a rule of the rule language, up
// to ten actions), the dry run (who it would reach now and the rendered
// messages, for the first of them), and its runs (status filter, each action's
// result and delivery); writers switch it on and off, run it now and delete it.
// The tab, run filters and page cursor live in the URL.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, del, get, patch, post } from '../api.js';
import { addStrings, num, t, when } from '../i18n.js';
import { navigate, setQuery } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, ErrorBox, Field, FieldGroup, FormError, errorText, Modal, Pager, Table, canWrite, isAdmin, toast,
  useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import { useOwners } from './customers.jsx';
import { channelLabel, useMessageChannels } from './deliveries.jsx';
import './sops.css';

addStrings({
  zh: {
    sp_title: 'SOP 自动化', sp_new: '新建 SOP', sp_back: '返回 SOP 列表', sp_name: '名称', sp_trigger: '触发', sp_audience: '人群',
    sp_actions: '动作', sp_enabled: '启用', sp_status: '状态', sp_on: '启用中', sp_off: '已停用', sp_next: '下次运行', sp_none: '还没有 SOP',
    sp_everyone: '所有人', sp_rule: '按规则', sp_intro: 'SOP 按触发条件自动运行：对人群中的每位客户执行动作（发消息、发积分、发券、打标签、建任务）。',
    sp_tab_edit: '设置', sp_tab_runs: '运行记录', sp_enable: '启用', sp_disable: '停用', sp_enabled_ok: 'SOP 已启用', sp_disabled_ok: 'SOP 已停用',
    sp_delete_q: '删除 SOP“{name}”？它的运行记录一并删除，已排队的消息照常发送。', sp_deleted: 'SOP 已删除', sp_created: 'SOP 已创建',
    sp_saved: 'SOP 已保存', sp_save: '保存', sp_create: '创建', sp_gone: '找不到这个 SOP：ID 不存在，或已被删除。',
    sp_t_type: '触发方式', sp_t_schedule: '定时（cron）', sp_t_event: '客户事件', sp_t_date: '日期提醒',
    sp_t_schedule_hint: '按时间表运行：有人群时对人群中的每位客户各运行一次；没有人群时运行一次（群发消息）。',
    sp_t_event_hint: '客户发生这个事件后运行（可延迟）；触发时再检查人群。', sp_t_date_hint: '在某个日期的前后某天、某个时刻运行（业务时区）。',
    sp_repeat: '重复', sp_rep_daily: '每天', sp_rep_weekly: '每周', sp_rep_monthly: '每月', sp_rep_hourly: '每小时', sp_rep_custom: '自定义 cron',
    sp_time: '时间', sp_minute: '第几分钟', sp_weekdays: '星期', sp_month_day: '每月几号', sp_cron: 'cron 表达式',
    sp_cron_hint: '五段：分 时 日 月 周，支持 * a-b /n 列表、mon-sun、@daily 等（业务时区）', sp_cron_reads: '含义：{text}',
    sp_wd_0: '周日', sp_wd_1: '周一', sp_wd_2: '周二', sp_wd_3: '周三', sp_wd_4: '周四', sp_wd_5: '周五', sp_wd_6: '周六',
    sp_cr_daily: '每天 {time}', sp_cr_weekly: '每{days} {time}', sp_cr_monthly: '每月 {days} 号 {time}', sp_cr_yearly: '每年 {month} 月 {days} 号 {time}',
    sp_cr_hourly: '每小时第 {m} 分', sp_cr_join: '、', sp_pick_day: '请至少选择一天', sp_bad_time: '请填写时间 HH:MM', sp_bad_day: '请填写 1 到 31 的日期',
    sp_event: '事件', sp_delay: '延迟（分钟）', sp_delay_hint: '0 表示立即', sp_ev_name: '只在这个名称时触发（可选）',
    sp_ev_name_hint_tag: '标签名', sp_ev_name_hint_audience: '人群名', sp_ev_name_hint_group: '社群名',
    sp_date_field: '日期', sp_df_birthday: '生日', sp_df_coupon_expires_at: '优惠券到期日', sp_df_last_order_at: '最近下单日',
    sp_offset: '相差天数', sp_when_dir: '在这个日期', sp_dir_before: '之前', sp_dir_on: '当天', sp_dir_after: '之后', sp_at: '时刻',
    sp_bad_int: '请填写整数',
    sp_aud_all: '不限人群', sp_aud_rule: '按规则筛选', sp_aud_rule_label: '规则（JSON，规则语言）',
    sp_aud_hint: '例如 {"field": "tag", "op": "has", "value": "高价值"}；错误会标出出错的路径。', sp_aud_from: '从已保存的人群复制规则',
    sp_aud_pick: '选择人群…', sp_aud_check: '检查规则', sp_aud_count: '当前符合：{n} 位客户', sp_bad_json: '不是有效的 JSON：{msg}',
    sp_aud_all_hint_schedule: '定时 SOP 不限人群时只运行一次、不针对具体客户（适合发到群机器人）。',
    sp_aud_all_hint: '不限人群：所有发生该事件或日期相符的客户。',
    sp_act_message: '发消息', sp_act_add_tag: '加标签', sp_act_remove_tag: '移除标签', sp_act_grant_points: '发积分',
    sp_act_grant_coupon: '发优惠券', sp_act_task: '创建任务', sp_act_n: '动作 {n}', sp_act_type: '动作类型', sp_add_action: '添加动作',
    sp_remove_action: '删除动作', sp_up: '上移', sp_down: '下移', sp_max_actions: '最多 10 个动作',
    sp_channel: '消息通道', sp_channel_pick: '选择通道…', sp_channel_id: '消息通道 ID',
    sp_template: '消息模板', sp_template_hint: '可用 {{name}} 等占位符；未知占位符会被拒绝', sp_insert_ph: '插入占位符', sp_markdown: '按 Markdown 发送（群机器人）',
    sp_tag: '标签（名称或 ID）', sp_points: '积分数', sp_reason: '备注（可选）', sp_coupon: '券模板', sp_coupon_pick: '选择券模板…',
    sp_assignee: '负责人', sp_assignee_owner: '客户的负责人', sp_task_text: '任务内容', sp_task_template: '要发送的话术（可选）',
    sp_no_channels: '还没有消息通道：由管理员在“消息通道”中创建。',
    sp_preview: '预览（试运行）', sp_preview_hint: '按已保存的设置计算：现在会触达谁、消息渲染成什么样。不会执行任何动作。',
    sp_preview_dirty: '预览包含尚未保存的修改。', sp_preview_waiting: '填好表单后显示预览：', sp_preview_need: '动作 {n} 还没有填完。', sp_task_due: '完成时限（小时，可选）', sp_task_due_hint: '触发后多少小时内完成；留空则不设时限',
    sp_reach: '现在会触达 {n} 位客户', sp_reach_runs: '{n} 次运行', sp_reach_group: '运行一次，不针对具体客户（群发）',
    sp_sample_for: '示例客户：', sp_sample: '触达的客户（最多 20 位）', sp_rendered: '渲染后的消息', sp_no_render: '没有消息或任务动作',
    sp_refresh: '刷新',
    sp_run_now: '立即运行', sp_run_now_q: '现在运行 SOP“{name}”？动作会真正执行（发消息、发积分等）。',
    sp_run_for_aud: '对人群中的所有客户', sp_run_for_group: '运行一次（不针对具体客户）', sp_run_for_ids: '只对这些客户', sp_run_ids: '客户 ID（逗号分隔）',
    sp_run_go: '确认运行', sp_run_queued: '已排队 {n} 次运行', sp_bad_ids: '请填写客户 ID，用逗号分隔',
    sp_runs_none: '还没有运行记录', sp_run: '运行', sp_customer: '客户', sp_due: '计划时间', sp_fired: '执行时间', sp_result: '结果',
    sp_rs_scheduled: '待运行', sp_rs_done: '完成', sp_rs_skipped: '跳过', sp_rs_failed: '失败', sp_all: '全部', sp_customer_filter: '客户 ID',
    sp_no_customer: '（全体）', sp_delivery: '投递 #{id}', sp_ok: '成功', sp_failed: '失败', sp_task_n: '任务 #{id}', sp_coupon_n: '券 #{id}',
    sp_points_n: '{n} 积分', sp_changed: '已变更', sp_unchanged: '无变化', sp_cause: '起因：{type} #{id}', sp_filter: '筛选',
    sp_placeholder: '占位符', sp_unsaved: '未保存', sp_default_template: '{{name}}，您好！',
    sp_ev_customer_created: '成为客户', sp_ev_customer_updated: '资料修改', sp_ev_order_bound: '订单绑定', sp_ev_checkin: '签到',
    sp_ev_coupon_issued: '获得优惠券', sp_ev_coupon_redeemed: '使用优惠券', sp_ev_points_changed: '积分变动', sp_ev_wallet_changed: '储值变动',
    sp_ev_tag_added: '添加标签', sp_ev_tag_removed: '移除标签', sp_ev_audience_entered: '进入人群', sp_ev_audience_left: '离开人群',
    sp_ev_stage_changed: '阶段变化', sp_ev_tier_changed: '等级变化', sp_ev_content_added: '发布内容', sp_ev_reward_redeemed: '积分兑换',
    sp_ev_group_joined: '加入社群', sp_ev_group_left: '退出社群',
    sp_sum_event: '事件：{event}', sp_sum_event_name: '事件：{event}“{name}”', sp_sum_delay: '，{n} 分钟后',
    sp_sum_date_on: '{field}当天 {at}', sp_sum_date_before: '{field}前 {n} 天 {at}', sp_sum_date_after: '{field}后 {n} 天 {at}',
    sp_ph_name: '姓名', sp_ph_phone_tail: '手机尾号', sp_ph_points_balance: '积分余额', sp_ph_wallet_balance: '储值余额（元）',
    sp_ph_total_spent: '累计消费（元）', sp_ph_tier: '等级', sp_ph_stage: '阶段', sp_ph_order_count: '订单数', sp_ph_birthday: '生日',
    sp_ph_last_order_date: '最近下单日', sp_ph_coupon_name: '券名称', sp_ph_coupon_code: '券码', sp_ph_coupon_expires_at: '券到期日',
    sp_ph_coupon_days_left: '券剩余天数', sp_ph_sop_name: 'SOP 名称',
  },
  en: {
    sp_title: 'SOP automation', sp_new: 'New SOP', sp_back: 'Back to the SOPs', sp_name: 'Name', sp_trigger: 'Trigger', sp_audience: 'Audience',
    sp_actions: 'Actions', sp_enabled: 'Enabled', sp_status: 'Status', sp_on: 'on', sp_off: 'off', sp_next: 'Next run', sp_none: 'No SOP yet',
    sp_everyone: 'everyone', sp_rule: 'by rule', sp_intro: 'An SOP runs by itself when its trigger fires: it does its actions (message, points, coupon, tag, task) for each customer of its audience.',
    sp_tab_edit: 'Settings', sp_tab_runs: 'Runs', sp_enable: 'Switch on', sp_disable: 'Switch off', sp_enabled_ok: 'SOP switched on',
    sp_disabled_ok: 'SOP switched off', sp_delete_q: 'Delete the SOP "{name}"? Its runs go too; messages already queued are still sent.',
    sp_deleted: 'SOP deleted', sp_created: 'SOP created', sp_saved: 'SOP saved', sp_save: 'Save', sp_create: 'Create',
    sp_gone: 'No such SOP: the id does not exist, or it was deleted.',
    sp_t_type: 'Trigger kind', sp_t_schedule: 'Schedule (cron)', sp_t_event: 'Customer event', sp_t_date: 'Date reminder',
    sp_t_schedule_hint: 'Runs at each time of the schedule: with an audience once per customer in it, without one once for no one (a group message).',
    sp_t_event_hint: 'Runs after the event happens to a customer (with an optional delay); the audience is checked when it fires.',
    sp_t_date_hint: 'Runs at a time of day, some days before or after a date (business time zone).',
    sp_repeat: 'Repeat', sp_rep_daily: 'Every day', sp_rep_weekly: 'Every week', sp_rep_monthly: 'Every month', sp_rep_hourly: 'Every hour',
    sp_rep_custom: 'Custom cron', sp_time: 'Time', sp_minute: 'Minute', sp_weekdays: 'Days', sp_month_day: 'Day of the month',
    sp_cron: 'Cron expression', sp_cron_hint: 'Five fields: minute hour day month weekday; *, a-b, /n, lists, mon-sun, @daily … (business time zone)',
    sp_cron_reads: 'Reads: {text}',
    sp_wd_0: 'Sun', sp_wd_1: 'Mon', sp_wd_2: 'Tue', sp_wd_3: 'Wed', sp_wd_4: 'Thu', sp_wd_5: 'Fri', sp_wd_6: 'Sat',
    sp_cr_daily: 'every day at {time}', sp_cr_weekly: 'every {days} at {time}', sp_cr_monthly: 'on day {days} of every month at {time}',
    sp_cr_yearly: 'every year on {month}/{days} at {time}', sp_cr_hourly: 'every hour at minute {m}', sp_cr_join: ', ',
    sp_pick_day: 'Choose at least one day', sp_bad_time: 'Give a time HH:MM', sp_bad_day: 'Give a day from 1 to 31',
    sp_event: 'Event', sp_delay: 'Delay (minutes)', sp_delay_hint: '0: at once', sp_ev_name: 'Only for this name (optional)',
    sp_ev_name_hint_tag: 'a tag name', sp_ev_name_hint_audience: 'an audience name', sp_ev_name_hint_group: 'a group name',
    sp_date_field: 'Date', sp_df_birthday: 'Birthday', sp_df_coupon_expires_at: 'Coupon expiry', sp_df_last_order_at: 'Last order',
    sp_offset: 'Days', sp_when_dir: 'Relative to the date', sp_dir_before: 'before', sp_dir_on: 'on the day', sp_dir_after: 'after', sp_at: 'At',
    sp_bad_int: 'Give a whole number',
    sp_aud_all: 'Everyone', sp_aud_rule: 'A rule', sp_aud_rule_label: 'Rule (JSON, the rule language)',
    sp_aud_hint: 'For example {"field": "tag", "op": "has", "value": "VIP"}; a mistake is shown with its path.',
    sp_aud_from: 'Copy the rule of a saved audience', sp_aud_pick: 'Choose an audience…', sp_aud_check: 'Check the rule',
    sp_aud_count: '{n} customers match now', sp_bad_json: 'Not valid JSON: {msg}',
    sp_aud_all_hint_schedule: 'A schedule without an audience runs once, for no customer in particular (for a group robot).',
    sp_aud_all_hint: 'Everyone: every customer the event happens to or whose date matches.',
    sp_act_message: 'Send a message', sp_act_add_tag: 'Add a tag', sp_act_remove_tag: 'Remove a tag', sp_act_grant_points: 'Grant points',
    sp_act_grant_coupon: 'Issue a coupon', sp_act_task: 'Create a task', sp_act_n: 'Action {n}', sp_act_type: 'Action', sp_add_action: 'Add an action',
    sp_remove_action: 'Remove the action', sp_up: 'Move up', sp_down: 'Move down', sp_max_actions: 'At most 10 actions',
    sp_channel: 'Message channel', sp_channel_pick: 'Choose a channel…', sp_channel_id: 'Message channel id',
    sp_template: 'Message template',
    sp_template_hint: 'Placeholders such as {{name}} are filled in; unknown ones are refused', sp_insert_ph: 'Insert a placeholder', sp_markdown: 'Send as Markdown (group robots)',
    sp_tag: 'Tag (name or id)', sp_points: 'Points', sp_reason: 'Note (optional)', sp_coupon: 'Coupon template', sp_coupon_pick: 'Choose a template…',
    sp_assignee: 'Assignee', sp_assignee_owner: 'The customer\'s owner', sp_task_text: 'Task', sp_task_template: 'Message to send (optional)',
    sp_no_channels: 'No message channel yet: an admin sets them up under "Message channels".',
    sp_preview: 'Preview (dry run)', sp_preview_hint: 'From the saved settings: whom it would reach now and what the messages would say. Nothing is done.',
    sp_preview_dirty: 'The preview includes your unsaved changes.', sp_preview_waiting: 'The preview shows once the form is complete:', sp_preview_need: 'action {n} is not filled in yet.', sp_task_due: 'Due within (hours, optional)', sp_task_due_hint: 'Hours after it fires; leave empty for no due time',
    sp_reach: 'Would reach {n} customers now', sp_reach_runs: '{n} runs', sp_reach_group: 'One run, for no customer in particular (a group message)',
    sp_sample_for: 'Sample customer: ', sp_sample: 'Customers reached (up to 20)', sp_rendered: 'Rendered messages', sp_no_render: 'No message or task action',
    sp_refresh: 'Refresh',
    sp_run_now: 'Run now', sp_run_now_q: 'Run the SOP "{name}" now? Its actions are really done (messages, points …).',
    sp_run_for_aud: 'For every customer of the audience', sp_run_for_group: 'Once, for no customer in particular', sp_run_for_ids: 'Only for these customers',
    sp_run_ids: 'Customer ids (comma separated)', sp_run_go: 'Run it', sp_run_queued: '{n} runs queued', sp_bad_ids: 'Give customer ids separated by commas',
    sp_runs_none: 'No run yet', sp_run: 'Run', sp_customer: 'Customer', sp_due: 'Due', sp_fired: 'Fired', sp_result: 'Result',
    sp_rs_scheduled: 'scheduled', sp_rs_done: 'done', sp_rs_skipped: 'skipped', sp_rs_failed: 'failed', sp_all: 'All', sp_customer_filter: 'Customer id',
    sp_no_customer: '(everyone)', sp_delivery: 'delivery #{id}', sp_ok: 'ok', sp_failed: 'failed', sp_task_n: 'task #{id}', sp_coupon_n: 'coupon #{id}',
    sp_points_n: '{n} points', sp_changed: 'changed', sp_unchanged: 'no change', sp_cause: 'because of {type} #{id}', sp_filter: 'Filter',
    sp_placeholder: 'Placeholders', sp_unsaved: 'unsaved', sp_default_template: 'Hello {{name}}!',
    sp_ev_customer_created: 'Became a customer', sp_ev_customer_updated: 'Profile changed', sp_ev_order_bound: 'Order bound', sp_ev_checkin: 'Checked in',
    sp_ev_coupon_issued: 'Coupon received', sp_ev_coupon_redeemed: 'Coupon used', sp_ev_points_changed: 'Points changed', sp_ev_wallet_changed: 'Wallet changed',
    sp_ev_tag_added: 'Tag added', sp_ev_tag_removed: 'Tag removed', sp_ev_audience_entered: 'Entered an audience', sp_ev_audience_left: 'Left an audience',
    sp_ev_stage_changed: 'Stage changed', sp_ev_tier_changed: 'Tier changed', sp_ev_content_added: 'Content posted', sp_ev_reward_redeemed: 'Points redeemed',
    sp_ev_group_joined: 'Joined a group', sp_ev_group_left: 'Left a group',
    sp_sum_event: 'event: {event}', sp_sum_event_name: 'event: {event} "{name}"', sp_sum_delay: ', {n} min later',
    sp_sum_date_on: 'on the {field} at {at}', sp_sum_date_before: '{n} days before the {field} at {at}', sp_sum_date_after: '{n} days after the {field} at {at}',
    sp_ph_name: 'name', sp_ph_phone_tail: 'last digits of the phone', sp_ph_points_balance: 'points balance', sp_ph_wallet_balance: 'wallet (yuan)',
    sp_ph_total_spent: 'total spent (yuan)', sp_ph_tier: 'tier', sp_ph_stage: 'stage', sp_ph_order_count: 'orders', sp_ph_birthday: 'birthday',
    sp_ph_last_order_date: 'last order date', sp_ph_coupon_name: 'coupon name', sp_ph_coupon_code: 'coupon code', sp_ph_coupon_expires_at: 'coupon expiry',
    sp_ph_coupon_days_left: 'coupon days left', sp_ph_sop_name: 'SOP name',
  },
});

const EVENTS = [
  'customer.created', 'customer.updated', 'order.bound', 'checkin', 'coupon.issued', 'coupon.redeemed', 'points.changed',
  'wallet.changed', 'tag.added', 'tag.removed', 'audience.entered', 'audience.left', 'stage.changed', 'tier.changed',
  'content.added', 'reward.redeemed', 'group.joined', 'group.left',
];
const DATE_FIELDS = ['birthday', 'coupon_expires_at', 'last_order_at'];
const ACTION_TYPES = ['message', 'grant_points', 'grant_coupon', 'add_tag', 'remove_tag', 'task'];
const PLACEHOLDERS = [
  'name', 'phone_tail', 'points_balance', 'wallet_balance', 'total_spent', 'tier', 'stage', 'order_count', 'birthday',
  'last_order_date', 'coupon.name', 'coupon.code', 'coupon.expires_at', 'coupon.days_left', 'sop.name',
];
const RUN_STATUSES = ['scheduled', 'done', 'skipped', 'failed'];
const WEEK = [1, 2, 3, 4, 5, 6, 0]; // Monday first
const DAY_NAMES = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MACROS = { '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *' };

const evLabel = (e) => t('sp_ev_' + e.replace(/\./g, '_'));
const pad2 = (n) => String(n).padStart(2, '0');
const invalid = (field, message) => new ApiError(422, { error: { code: 'validation_failed', message, field } });
const isInt = (s) => /^-?\d+$/.test(String(s).trim());

// ------------------------------------------------------------------ cron

// A cron expression as the editor's repeat modes, or custom.
export function parseCron(expr) {
  const raw = (expr || '').trim();
  const e = MACROS[raw.toLowerCase()] || raw;
  const f = e.split(/\s+/);
  const base = { mode: 'custom', time: '09:00', minute: '0', weekdays: [1], monthDay: '1', cron: raw };
  if (f.length !== 5) return base;
  const [mi, h, dom, mon, dow] = f;
  const n = (s, lo, hi) => /^\d{1,2}$/.test(s) && Number(s) >= lo && Number(s) <= hi;
  if (!n(mi, 0, 59)) return base;
  if (h === '*' && dom === '*' && mon === '*' && dow === '*') return { ...base, mode: 'hourly', minute: String(Number(mi)) };
  if (!n(h, 0, 23)) return base;
  const time = `${pad2(h)}:${pad2(mi)}`;
  if (mon !== '*') return { ...base, time };
  if (dom === '*' && dow === '*') return { ...base, mode: 'daily', time };
  if (dom === '*') {
    const days = [];
    for (const d of dow.toLowerCase().split(',')) {
      const v = d in DAY_NAMES ? DAY_NAMES[d] : n(d, 0, 7) ? Number(d) % 7 : null;
      if (v === null) return { ...base, time };
      if (!days.includes(v)) days.push(v);
    }
    return { ...base, mode: 'weekly', time, weekdays: days };
  }
  if (dow === '*' && n(dom, 1, 31)) return { ...base, mode: 'monthly', time, monthDay: String(Number(dom)) };
  return { ...base, time };
}

function timeParts(s) {
  const m = /^(\d{1,2}):(\d{2})$/.exec((s || '').trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return null;
  return [Number(m[1]), Number(m[2])];
}

// The cron expression of the repeat mode; throws a field error.
function buildCron(c) {
  if (c.mode === 'custom') return c.cron.trim();
  if (c.mode === 'hourly') {
    if (!/^\d{1,2}$/.test(c.minute.trim()) || Number(c.minute) > 59) throw invalid('trigger.cron', t('sp_bad_int'));
    return `${Number(c.minute)} * * * *`;
  }
  const tp = timeParts(c.time);
  if (!tp) throw invalid('trigger.cron', t('sp_bad_time'));
  const [h, m] = tp;
  if (c.mode === 'daily') return `${m} ${h} * * *`;
  if (c.mode === 'weekly') {
    if (!c.weekdays.length) throw invalid('trigger.cron', t('sp_pick_day'));
    return `${m} ${h} * * ${WEEK.filter((d) => c.weekdays.includes(d)).join(',')}`;
  }
  if (!/^\d{1,2}$/.test(c.monthDay.trim()) || Number(c.monthDay) < 1 || Number(c.monthDay) > 31) throw invalid('trigger.cron', t('sp_bad_day'));
  return `${m} ${h} ${Number(c.monthDay)} * *`;
}

// A readable sentence for the common cron shapes; null for the others.
export function describeCron(expr) {
  const raw = (expr || '').trim();
  const e = MACROS[raw.toLowerCase()] || raw;
  const p = parseCron(e);
  const sep = t('sp_cr_join');
  if (p.mode === 'hourly') return t('sp_cr_hourly', { m: p.minute });
  if (p.mode === 'daily') return t('sp_cr_daily', { time: p.time });
  if (p.mode === 'weekly') return t('sp_cr_weekly', { days: WEEK.filter((d) => p.weekdays.includes(d)).map((d) => t('sp_wd_' + d)).join(sep), time: p.time });
  if (p.mode === 'monthly') return t('sp_cr_monthly', { days: p.monthDay, time: p.time });
  const f = e.split(/\s+/);
  if (f.length === 5 && /^\d{1,2}$/.test(f[0]) && /^\d{1,2}$/.test(f[1]) && /^\d{1,2}$/.test(f[2]) && /^\d{1,2}$/.test(f[3]) && f[4] === '*') {
    return t('sp_cr_yearly', { month: Number(f[3]), days: Number(f[2]), time: `${pad2(f[1])}:${pad2(f[0])}` });
  }
  return null;
}

export function triggerSummary(tr) {
  if (!tr || typeof tr !== 'object') return '—';
  if (tr.type === 'schedule') return describeCron(tr.cron) || tr.cron;
  if (tr.type === 'event') {
    const ev = EVENTS.includes(tr.event) ? evLabel(tr.event) : tr.event;
    const s = tr.name ? t('sp_sum_event_name', { event: ev, name: tr.name }) : t('sp_sum_event', { event: ev });
    return s + (tr.delay_minutes ? t('sp_sum_delay', { n: tr.delay_minutes }) : '');
  }
  if (tr.type === 'date') {
    const field = DATE_FIELDS.includes(tr.field) ? t('sp_df_' + tr.field) : tr.field;
    const off = tr.offset_days || 0;
    const at = tr.at || '00:00';
    if (off === 0) return t('sp_sum_date_on', { field, at });
    return t(off < 0 ? 'sp_sum_date_before' : 'sp_sum_date_after', { field, at, n: Math.abs(off) });
  }
  return JSON.stringify(tr);
}

function EnabledBadge({ on }) {
  return <span class={`badge ${on ? 'ok' : ''}`} data-enabled={on ? 'true' : 'false'}>{on ? t('sp_on') : t('sp_off')}</span>;
}

// ------------------------------------------------------------------ the page

export default function Sops({ query }) {
  const id = query.get('id') || '';
  let body;
  if (id === 'new') body = canWrite() ? <NewSop /> : <SopList query={query} />;
  else if (/^\d+$/.test(id)) body = <SopView key={id} id={id} query={query} />;
  else body = <SopList query={query} />;
  return <div data-page="sops" class="sp-page">{body}</div>;
}

function SopList({ query }) {
  const pager = useUrlPager(query, 'sops');
  const list = useAsync(() => get('/sops', { cursor: pager.cursor, limit: 50 }), [pager.cursor]);
  return (
    <>
      <div class="page-head">
        <h1>{t('sp_title')}</h1>
        {canWrite() && <a class="btn primary" href="/sops?id=new" data-write data-action="new-sop">{t('sp_new')}</a>}
      </div>
      <Card>
        <p class="muted sp-intro">{t('sp_intro')}</p>
        <Async state={list}>{(d) => (
          <>
            <Table rows={d.data} stack empty={t('sp_none')} onRowClick={(s) => navigate(`/sops?id=${s.id}`)} columns={[
              { label: t('sp_name'), render: (s) => <a href={`/sops?id=${s.id}`} data-sop={s.id}>{s.name}</a> },
              { label: t('sp_trigger'), render: (s) => <span class="sp-sum">{triggerSummary(s.trigger)}</span> },
              { label: t('sp_audience'), render: (s) => (s.audience ? t('sp_rule') : t('sp_everyone')) },
              { label: t('sp_actions'), render: (s) => <span class="sp-acts">{(s.actions || []).map((a) => <span class="tag">{t('sp_act_' + a.type)}</span>)}</span> },
              { label: t('sp_status'), render: (s) => <EnabledBadge on={s.enabled} /> },
              { label: t('sp_next'), render: (s) => when(s.next_at) },
            ]} />
            <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
          </>
        )}</Async>
      </Card>
    </>
  );
}

function NewSop() {
  const [draft, setDraft] = useState(null);
  return (
    <>
      <p class="sp-back"><a href="/sops">← {t('sp_back')}</a></p>
      <div class="page-head"><h1>{t('sp_new')}</h1></div>
      <div class="sp-grid">
        <Editor sop={null} onDraft={setDraft} onSaved={(s) => { toast(t('sp_created')); navigate(`/sops?id=${s.id}`); }} />
        <DryRun id={null} draft={draft} dirty />
      </div>
    </>
  );
}

function SopView({ id, query }) {
  const [version, setVersion] = useState(0);
  const st = useAsync(() => get(`/sops/${id}`), [id, version]);
  const tab = query.get('tab') === 'runs' ? 'runs' : 'edit';
  const write = canWrite();
  const [running, setRunning] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [draft, setDraft] = useState(null);
  const [runTick, setRunTick] = useState(0);
  const toggle = useSubmit(async (s) => {
    await patch(`/sops/${s.id}`, { enabled: !s.enabled });
    toast(s.enabled ? t('sp_disabled_ok') : t('sp_enabled_ok'));
    setVersion((v) => v + 1);
  });
  if (st.error instanceof ApiError && st.error.status === 404) {
    return (
      <>
        <p class="sp-back"><a href="/sops">← {t('sp_back')}</a></p>
        <div class="page-head"><h1>{t('sp_title')}</h1></div>
        <Card><p role="alert" data-testid="sop-gone">{t('sp_gone')}</p></Card>
      </>
    );
  }
  return (
    <>
      <p class="sp-back"><a href="/sops">← {t('sp_back')}</a></p>
      <Async state={st}>{(s) => (
        <>
          <div class="page-head">
            <h1 data-testid="sop-name">{s.name} <EnabledBadge on={s.enabled} /></h1>
            {write && (
              <div class="card-actions">
                <Button data-write data-action="toggle" busy={toggle.busy} onClick={() => toggle.submit(s)}>{s.enabled ? t('sp_disable') : t('sp_enable')}</Button>
                <Button class="primary" data-write data-action="run-now" onClick={() => setRunning(true)}>{t('sp_run_now')}</Button>
                <ConfirmButton message={t('sp_delete_q', { name: s.name })} data-action="delete"
                  onConfirm={async () => { await del(`/sops/${s.id}`); toast(t('sp_deleted')); navigate('/sops'); }}>{t('delete')}</ConfirmButton>
              </div>
            )}
          </div>
          <FormError error={toggle.error} fields={[]} />
          <p class="sp-head-sum">
            <span>{t('sp_trigger')}: <strong>{triggerSummary(s.trigger)}</strong></span>
            <span>{t('sp_next')}: <strong data-testid="sop-next">{when(s.next_at)}</strong></span>
          </p>
          <div class="tabs" role="tablist">
            {['edit', 'runs'].map((k) => (
              <button type="button" role="tab" class={tab === k ? 'on' : ''} aria-selected={tab === k ? 'true' : 'false'} data-tab={k}
                onClick={() => setQuery({ tab: k === 'edit' ? '' : k, status: '', customer_id: '', cursor: '', page: '' })}>{t('sp_tab_' + k)}</button>
            ))}
          </div>
          <div role="tabpanel" data-tabpanel={tab}>
            {tab === 'edit' ? (
              <div class="sp-grid">
                <Editor key={s.id} sop={s} onDirty={setDirty} onDraft={setDraft}
                  onSaved={() => { toast(t('sp_saved')); setDirty(false); setVersion((v) => v + 1); }} />
                <DryRun id={s.id} version={s.updated_at} draft={draft} dirty={dirty} />
              </div>
            ) : <Runs id={s.id} query={query} tick={runTick} />}
          </div>
          {running && (
            <RunNow s={s} onClose={() => setRunning(false)} onDone={(n) => {
              setRunning(false);
              toast(t('sp_run_queued', { n: num(n) }));
              setRunTick((x) => x + 1);
              setQuery({ tab: 'runs', status: '', customer_id: '', cursor: '', page: '' });
            }} />
          )}
        </>
      )}</Async>
    </>
  );
}

// ------------------------------------------------------------------ run now

function RunNow({ s, onClose, onDone }) {
  const schedule = s.trigger && s.trigger.type === 'schedule';
  const canAll = !!s.audience || schedule;
  const [mode, setMode] = useState(canAll ? 'all' : 'ids');
  const [ids, setIds] = useState('');
  const r = useSubmit(async () => {
    let body = {};
    if (mode === 'ids') {
      const list = ids.split(/[\s,，、]+/).filter(Boolean);
      if (!list.length || list.some((x) => !/^\d+$/.test(x))) throw invalid('customer_ids', t('sp_bad_ids'));
      body = { customer_ids: list.map(Number) };
    }
    const out = await post(`/sops/${s.id}/run-now`, body);
    onDone(out.runs);
  });
  return (
    <Modal title={t('sp_run_now')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); r.submit(); }} novalidate data-form="run-now">
        <p>{t('sp_run_now_q', { name: s.name })}</p>
        {canAll && (
          <label class="check-row"><input type="radio" name="run_for" value="all" checked={mode === 'all'} onChange={() => setMode('all')} />
            {s.audience ? t('sp_run_for_aud') : t('sp_run_for_group')}</label>
        )}
        <label class="check-row"><input type="radio" name="run_for" value="ids" checked={mode === 'ids'} onChange={() => setMode('ids')} />{t('sp_run_for_ids')}</label>
        {mode === 'ids' && (
          <Field label={t('sp_run_ids')} name="customer_ids" error={r.error}>
            <input name="customer_ids" value={ids} onInput={(e) => setIds(e.currentTarget.value)} inputMode="numeric" autocomplete="off" placeholder="12, 34" />
          </Field>
        )}
        <FormError error={r.error} fields={mode === 'ids' ? ['customer_ids'] : []} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={r.busy} data-write data-confirm="yes">{t('sp_run_go')}</Button>
        </div>
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------ dry run

// A value that follows v once it has stayed put for ms.
function useSettled(v, ms) {
  const [s, setS] = useState(v);
  useEffect(() => {
    const h = setTimeout(() => setS(v), ms);
    return () => clearTimeout(h);
  }, [v, ms]);
  return s;
}

// Whom the SOP would reach and what it would say: as saved, or with the
// editor's unsaved form (draft) while it is dirty, or a SOP not saved yet (no
// id). Edits are previewed once typing pauses; nothing is saved.
function DryRun({ id, version, draft, dirty }) {
  const call = useMemo(() => {
    if (id && (!dirty || !draft)) return { path: `/sops/${id}/dry-run`, key: `saved ${version}` };
    if (!draft) return { wait: true, key: 'wait' };
    try {
      const body = draftBody(draft);
      if (!id) body.name = body.name || t('sp_new');
      const missing = incomplete(body);
      if (missing >= 0) return { note: t('sp_preview_need', { n: missing + 1 }), key: `missing ${missing}` };
      return { path: id ? `/sops/${id}/dry-run` : '/sops/dry-run', body, key: JSON.stringify(body) };
    } catch (e) {
      return { error: e, key: `error ${e.field} ${e.message}` };
    }
  }, [id, version, draft, dirty]);
  const key = useSettled(call.key, call.key.startsWith('saved') ? 0 : 500);
  const st = useAsync(() => (call.error ? Promise.reject(call.error) : call.wait || call.note ? new Promise(() => {}) : post(call.path, call.body)), [key]);
  // what the form still lacks, or what the API refused in it: a note, not a failure
  const waiting = call.note || (st.error instanceof ApiError && st.error.status === 422 ? errorText(st.error) : '');
  return (
    <Card title={t('sp_preview')} class="sp-preview" actions={<Button class="small ghost" onClick={st.reload} busy={st.loading && st.data !== null}>{t('sp_refresh')}</Button>}>
      <p class="muted sp-small">{t('sp_preview_hint')}</p>
      {dirty && id && <p class="badge warn sp-dirty" role="status">{t('sp_preview_dirty')}</p>}
      {waiting ? <p class="muted" role="status" data-testid="dry-run-waiting">{t('sp_preview_waiting')} {waiting}</p> : <Async state={st}>{(d) => {
        const first = d.sample[0];
        return (
          <div data-testid="dry-run">
            <p class="sp-reach"><strong>{d.customers === 0 && d.runs === 1 ? t('sp_reach_group') : t('sp_reach', { n: num(d.customers) })}</strong>
              {d.customers > 0 && <span class="muted"> · {t('sp_reach_runs', { n: num(d.runs) })}</span>}</p>
            <h3 class="dl-h3">{t('sp_rendered')}</h3>
            {first && <p class="muted sp-small">{t('sp_sample_for')}<a href={`/customers/${first.id}`}>{first.name || `#${first.id}`}</a> #{first.id}</p>}
            {d.preview.length === 0 ? <p class="muted">{t('sp_no_render')}</p> : (
              <ul class="sp-rendered">
                {d.preview.map((p) => (
                  <li data-preview-action={p.action}>
                    <span class="muted sp-small">{t('sp_act_n', { n: p.action + 1 })} · {t('sp_act_' + p.type)}</span>
                    <p class="sp-bubble" data-testid="rendered-message">{p.text}</p>
                  </li>
                ))}
              </ul>
            )}
            {d.sample.length > 0 && (
              <>
                <h3 class="dl-h3">{t('sp_sample')}</h3>
                <p class="sp-sample">{d.sample.map((c) => <a href={`/customers/${c.id}`} class="tag" data-sample={c.id}>{c.name || `#${c.id}`}</a>)}</p>
              </>
            )}
          </div>
        );
      }}</Async>}
    </Card>
  );
}

// The index of the first action still lacking a field for a preview (the API
// would refuse it anyway), or -1: so that a half-filled form asks for nothing.
function incomplete(body) {
  const need = { message: ['channel_id', 'template'], add_tag: ['tag'], remove_tag: ['tag'], grant_points: ['points'], grant_coupon: ['template_id'], task: ['text'] };
  return body.actions.findIndex((a) => (need[a.type] || []).some((k) => a[k] === null || a[k] === undefined || a[k] === ''));
}

// ------------------------------------------------------------------ runs

function ResultItem({ a }) {
  if (a.skipped) return <li class="muted">{a.skipped}</li>;
  return (
    <li class={a.ok ? '' : 'sp-bad'}>
      <span class={`badge ${a.ok ? 'ok' : 'bad'}`}>{a.ok ? t('sp_ok') : t('sp_failed')}</span>{' '}
      <strong>{a.type ? t('sp_act_' + a.type) : '?'}</strong>
      {a.delivery_id && <> · <a href={`/deliveries?id=${a.delivery_id}`} data-delivery-link={a.delivery_id}>{t('sp_delivery', { id: a.delivery_id })}</a></>}
      {a.points !== undefined && <> · {t('sp_points_n', { n: num(a.points) })}</>}
      {a.coupon_id && <> · {t('sp_coupon_n', { id: a.coupon_id })}</>}
      {a.task_id && <> · <a href="/tasks">{t('sp_task_n', { id: a.task_id })}</a></>}
      {a.changed !== undefined && <> · {a.changed ? t('sp_changed') : t('sp_unchanged')}</>}
      {a.text && <span class="sp-run-text" data-testid="run-text">{a.text}</span>}
      {a.error && <span class="sp-run-err">{a.error}</span>}
    </li>
  );
}

function Runs({ id, query, tick }) {
  const status = RUN_STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const customer = /^\d+$/.test(query.get('customer_id') || '') ? query.get('customer_id') : '';
  const key = `${status}|${customer}`;
  const pager = useUrlPager(query, key);
  const list = useAsync(() => get(`/sops/${id}/runs`, { status, customer_id: customer, cursor: pager.cursor, limit: 50 }), [id, key, pager.cursor, tick]);
  const [text, setText] = useState(customer);
  useEffect(() => setText(customer), [customer]);
  // while runs due by now wait to be fired, look again (for a minute at most)
  const started = useRef(Date.now());
  useEffect(() => { started.current = Date.now(); }, [tick]);
  const pending = list.data && list.data.data.some((r) => r.status === 'scheduled' && Date.parse(r.due_at) <= Date.now() + 5000);
  useEffect(() => {
    if (!pending || Date.now() - started.current > 60000) return undefined;
    const h = setTimeout(list.reload, 1000);
    return () => clearTimeout(h);
  }, [pending, list.data]);
  const set = (k, v) => setQuery({ [k]: v, cursor: '', page: '' });
  return (
    <Card>
      <div class="filters">
        <div class="chips" role="group" aria-label={t('sp_status')}>
          <button type="button" class={`chip ${!status ? 'on' : ''}`} aria-pressed={!status ? 'true' : 'false'} onClick={() => set('status', '')}>{t('sp_all')}</button>
          {RUN_STATUSES.map((s) => (
            <button type="button" class={`chip ${status === s ? 'on' : ''}`} aria-pressed={status === s ? 'true' : 'false'} data-run-status={s}
              onClick={() => set('status', s)}>{t('sp_rs_' + s)}</button>
          ))}
        </div>
        <form class="sp-cust-filter" onSubmit={(e) => { e.preventDefault(); set('customer_id', /^\d+$/.test(text.trim()) ? text.trim() : ''); }}>
          <label class="field">
            <span class="field-label">{t('sp_customer_filter')}</span>
            <input name="customer_id" inputMode="numeric" value={text} size={8} onInput={(e) => setText(e.currentTarget.value)} autocomplete="off" />
          </label>
          <Button type="submit" class="small">{t('sp_filter')}</Button>
        </form>
        <Button class="small ghost" onClick={list.reload}>{t('sp_refresh')}</Button>
      </div>
      <Async state={list}>{(d) => (
        <>
          <Table rows={d.data} stack empty={t('sp_runs_none')} columns={[
            { label: t('sp_run'), render: (r) => <span data-run={r.id} data-run-status={r.status}>#{r.id}</span> },
            { label: t('sp_customer'), render: (r) => (r.customer_id ? <a href={`/customers/${r.customer_id}`}>#{r.customer_id}</a> : t('sp_no_customer')) },
            { label: t('sp_status'), render: (r) => <span class={`badge ${r.status === 'done' ? 'ok' : r.status === 'failed' ? 'bad' : r.status === 'skipped' ? 'warn' : ''}`}>{t('sp_rs_' + r.status)}</span> },
            { label: t('sp_due'), render: (r) => when(r.due_at) },
            { label: t('sp_fired'), render: (r) => when(r.fired_at) },
            { label: t('sp_result'), render: (r) => (
              <div class="sp-result">
                {Array.isArray(r.result) && r.result.length > 0 ? <ul class="sp-result-list">{r.result.map((a) => <ResultItem a={a} />)}</ul> : '—'}
                {r.ref_type && <span class="muted sp-small">{t('sp_cause', { type: r.ref_type, id: r.ref_id })}</span>}
              </div>
            ) },
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </>
      )}</Async>
    </Card>
  );
}

// ------------------------------------------------------------------ the editor

let actionSeq = 0;
const newKey = () => `a${++actionSeq}`;

function actionState(a) {
  const s = (v) => (v === null || v === undefined ? '' : String(v));
  return {
    key: newKey(),
    type: a.type || 'message',
    channel_id: s(a.channel_id),
    template: a.type === 'task' ? s(a.template) : s(a.template),
    markdown: !!a.markdown,
    tag: a.tag === undefined ? '' : a.tag, // an id stays a number unless edited
    points: s(a.points),
    reason: s(a.reason),
    template_id: s(a.template_id),
    assignee: a.assignee === undefined ? 'owner' : String(a.assignee),
    text: s(a.text),
    due: s(a.due_in_hours),
  };
}

function initForm(sop) {
  const tr = (sop && sop.trigger) || { type: 'schedule', cron: '0 10 * * *' };
  const off = tr.type === 'date' ? Number(tr.offset_days || 0) : 0;
  return {
    name: sop ? sop.name : '',
    enabled: sop ? sop.enabled : true,
    type: ['schedule', 'event', 'date'].includes(tr.type) ? tr.type : 'schedule',
    cron: parseCron(tr.type === 'schedule' ? tr.cron : '0 10 * * *'),
    event: tr.type === 'event' ? tr.event : 'customer.created',
    delay: tr.type === 'event' ? String(tr.delay_minutes || 0) : '0',
    evName: tr.type === 'event' && tr.name ? tr.name : '',
    field: tr.type === 'date' ? tr.field : 'birthday',
    dir: off < 0 ? 'before' : off > 0 ? 'after' : 'on',
    days: String(Math.abs(off) || 7),
    at: tr.type === 'date' && tr.at ? tr.at : '10:00',
    audMode: sop && sop.audience ? 'rule' : 'all',
    rule: sop && sop.audience ? JSON.stringify(sop.audience, null, 2) : '',
    actions: sop && Array.isArray(sop.actions) && sop.actions.length ? sop.actions.map(actionState)
      : [actionState({ type: 'message', template: t('sp_default_template') })],
  };
}

function buildTrigger(f) {
  if (f.type === 'schedule') return { type: 'schedule', cron: buildCron(f.cron) };
  if (f.type === 'event') {
    if (!isInt(f.delay)) throw invalid('trigger.delay_minutes', t('sp_bad_int'));
    const tr = { type: 'event', event: f.event, delay_minutes: Number(f.delay) };
    if (f.evName.trim() && /^(tag|audience|group)\./.test(f.event)) tr.name = f.evName.trim();
    return tr;
  }
  if (f.dir !== 'on' && !isInt(f.days)) throw invalid('trigger.offset_days', t('sp_bad_int'));
  if (!timeParts(f.at)) throw invalid('trigger.at', t('sp_bad_time'));
  const n = f.dir === 'on' ? 0 : Math.abs(Number(f.days));
  return { type: 'date', field: f.field, offset_days: f.dir === 'before' ? -n : n, at: f.at };
}

// The body of POST /sops or PATCH /sops/{id} for the form (without enabled);
// throws an error naming the field when the form cannot make one.
function draftBody(f) {
  const body = { name: f.name.trim(), trigger: buildTrigger(f) };
  if (f.audMode === 'rule') {
    try {
      body.audience = JSON.parse(f.rule);
    } catch (e) {
      throw invalid('audience', t('sp_bad_json', { msg: e.message }));
    }
    if (body.audience === null || typeof body.audience !== 'object' || Array.isArray(body.audience)) {
      throw invalid('audience', t('sp_bad_json', { msg: '{ … }' }));
    }
  } else {
    body.audience = null;
  }
  body.actions = f.actions.map(buildAction);
  return body;
}

function buildAction(a, i) {
  const p = `actions[${i}]`;
  const intOf = (v, field) => {
    if (!isInt(v)) throw invalid(`${p}.${field}`, t('sp_bad_int'));
    return Number(v);
  };
  switch (a.type) {
    case 'message': {
      const out = { type: 'message', channel_id: a.channel_id === '' ? null : intOf(a.channel_id, 'channel_id'), template: a.template };
      if (a.markdown) out.markdown = true;
      return out;
    }
    case 'add_tag':
    case 'remove_tag':
      return { type: a.type, tag: typeof a.tag === 'number' ? a.tag : String(a.tag).trim() };
    case 'grant_points': {
      const out = { type: 'grant_points', points: intOf(a.points, 'points') };
      if (a.reason.trim()) out.reason = a.reason.trim();
      return out;
    }
    case 'grant_coupon':
      return { type: 'grant_coupon', template_id: a.template_id === '' ? null : intOf(a.template_id, 'template_id') };
    case 'task': {
      const out = { type: 'task', assignee: a.assignee === 'owner' ? 'owner' : intOf(a.assignee, 'assignee'), text: a.text };
      if (a.template.trim()) out.template = a.template;
      if (a.due.trim()) out.due_in_hours = intOf(a.due.trim(), 'due_in_hours');
      return out;
    }
    default:
      return { type: a.type };
  }
}

// The Field names each action type shows (an error naming another field of
// the action is shown on the action's card).
const ACTION_FIELDS = {
  message: ['type', 'channel_id', 'template'], add_tag: ['type', 'tag'], remove_tag: ['type', 'tag'],
  grant_points: ['type', 'points', 'reason'], grant_coupon: ['type', 'template_id'], task: ['type', 'assignee', 'text', 'template', 'due_in_hours'],
};
const TRIGGER_FIELDS = {
  schedule: ['trigger.type', 'trigger.cron'], event: ['trigger.type', 'trigger.event', 'trigger.delay_minutes', 'trigger.name'],
  date: ['trigger.type', 'trigger.field', 'trigger.offset_days', 'trigger.at'],
};

// The error when it names the scope (or inside it) but none of the shown fields.
function leftover(error, scope, shown) {
  if (!(error instanceof ApiError) || !error.field) return null;
  const f = error.field;
  const inside = f === scope || f.startsWith(scope + '.') || f.startsWith(scope + '[');
  if (!inside) return null;
  if (shown.some((x) => f === x || f.startsWith(x + '.') || f.startsWith(x + '['))) return null;
  return error;
}

function Editor({ sop, onSaved, onDirty, onDraft }) {
  const write = canWrite();
  const [f, setF] = useState(() => initForm(sop));
  const set = (patchObj) => {
    setF((x) => ({ ...x, ...patchObj }));
    if (onDirty) onDirty(true);
  };
  const channels = useMessageChannels();
  useEffect(() => { if (onDraft) onDraft(f); }, [f]); // eslint-disable-line react-hooks/exhaustive-deps
  const s = useSubmit(async () => {
    const body = draftBody(f);
    if (!sop) body.enabled = f.enabled;
    const out = sop ? await patch(`/sops/${sop.id}`, body) : await post('/sops', body);
    if (sop) setF(initForm(out)); // what was saved, as the API answered it
    onSaved(out);
  });
  const err = s.error;
  const formRef = useRef(null);
  useEffect(() => {
    if (!err || !formRef.current) return;
    const el = formRef.current.querySelector('[role="alert"]');
    if (el && el.scrollIntoView) el.scrollIntoView({ block: 'center' });
  }, [err]);
  const shownFields = ['name', 'audience', 'actions', 'trigger'];
  return (
    <Card class="sp-editor">
      <form ref={formRef} onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="sop">
        <fieldset class="sp-fs" disabled={!write}>
          <Field label={t('sp_name')} name="name" error={err}>
            <input name="name" value={f.name} maxLength={100} onInput={(e) => set({ name: e.currentTarget.value })} autocomplete="off" required />
          </Field>
          {!sop && (
            <label class="check-row"><input type="checkbox" name="enabled" checked={f.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} />{t('sp_enabled')}</label>
          )}

          <section class="sp-section" data-section="trigger">
            <h2>{t('sp_trigger')}</h2>
            <TriggerFields f={f} set={set} err={err} />
            <ErrorBox error={leftover(err, 'trigger', TRIGGER_FIELDS[f.type])} />
          </section>

          <section class="sp-section" data-section="audience">
            <h2>{t('sp_audience')}</h2>
            <AudienceFields f={f} set={set} err={err} write={write} />
          </section>

          <section class="sp-section" data-section="actions">
            <h2>{t('sp_actions')}</h2>
            {f.actions.map((a, i) => (
              <ActionCard key={a.key} a={a} i={i} n={f.actions.length} err={err} write={write} channels={channels.data}
                onChange={(na) => set({ actions: f.actions.map((x, j) => (j === i ? { ...x, ...na } : x)) })}
                onMove={(d) => {
                  const list = [...f.actions];
                  const [x] = list.splice(i, 1);
                  list.splice(i + d, 0, x);
                  set({ actions: list });
                }}
                onRemove={() => set({ actions: f.actions.filter((_, j) => j !== i) })} />
            ))}
            {err instanceof ApiError && err.field === 'actions' && <p class="field-error" role="alert" data-field-error="actions">{err.message}</p>}
            {write && (
              <Button class="small" data-write data-action="add-action" disabled={f.actions.length >= 10}
                title={f.actions.length >= 10 ? t('sp_max_actions') : undefined}
                onClick={() => set({ actions: [...f.actions, actionState({ type: 'message', template: '' })] })}>+ {t('sp_add_action')}</Button>
            )}
          </section>
        </fieldset>
        <FormError error={err} fields={shownFields} />
        {write && (
          <div class="form-actions">
            {sop && <Button onClick={() => { setF(initForm(sop)); s.setError(null); if (onDirty) onDirty(false); }}>{t('cancel')}</Button>}
            <Button type="submit" class="primary" busy={s.busy} data-write data-action="save-sop">{sop ? t('sp_save') : t('sp_create')}</Button>
          </div>
        )}
      </form>
    </Card>
  );
}

function TriggerFields({ f, set, err }) {
  const c = f.cron;
  const setCron = (p) => set({ cron: { ...c, ...p } });
  let cronText = '';
  try { cronText = buildCron(c); } catch { cronText = ''; }
  const reads = cronText ? describeCron(cronText) : null;
  const named = /^(tag|audience|group)\./.test(f.event);
  const kind = named ? f.event.split('.')[0] : null;
  const names = useAsync(() => {
    if (!kind) return Promise.resolve([]);
    const path = { tag: '/tags', audience: '/audiences', group: '/groups' }[kind];
    return get(path, { limit: 500 }).then((r) => r.data.map((x) => x.name));
  }, [kind]);
  return (
    <>
      <Field label={t('sp_t_type')} name="trigger.type" error={err} hint={t('sp_t_' + f.type + '_hint')}>
        <select name="trigger.type" value={f.type} onChange={(e) => set({ type: e.currentTarget.value })}>
          {['schedule', 'event', 'date'].map((x) => <option value={x}>{t('sp_t_' + x)}</option>)}
        </select>
      </Field>
      {f.type === 'schedule' && (
        <>
          <div class="form-row">
            <Field label={t('sp_repeat')} name="cron_mode" error={null}>
              <select name="cron_mode" value={c.mode} onChange={(e) => {
                const mode = e.currentTarget.value;
                setCron(mode === 'custom' ? { mode, cron: cronText || c.cron } : { mode });
              }}>
                {['daily', 'weekly', 'monthly', 'hourly', 'custom'].map((m) => <option value={m}>{t('sp_rep_' + m)}</option>)}
              </select>
            </Field>
            {['daily', 'weekly', 'monthly'].includes(c.mode) && (
              <Field label={t('sp_time')} name="cron_time" error={null}>
                <input type="time" name="cron_time" value={c.time} onInput={(e) => setCron({ time: e.currentTarget.value })} />
              </Field>
            )}
            {c.mode === 'monthly' && (
              <Field label={t('sp_month_day')} name="cron_day" error={null}>
                <input name="cron_day" inputMode="numeric" value={c.monthDay} onInput={(e) => setCron({ monthDay: e.currentTarget.value })} />
              </Field>
            )}
            {c.mode === 'hourly' && (
              <Field label={t('sp_minute')} name="cron_minute" error={null}>
                <input name="cron_minute" inputMode="numeric" value={c.minute} onInput={(e) => setCron({ minute: e.currentTarget.value })} />
              </Field>
            )}
          </div>
          {c.mode === 'weekly' && (
            <FieldGroup label={t('sp_weekdays')} name="cron_days" error={null}>
              <span class="sp-days">
                {WEEK.map((d) => (
                  <label class="check-row"><input type="checkbox" name="weekday" value={d} checked={c.weekdays.includes(d)}
                    onChange={() => setCron({ weekdays: c.weekdays.includes(d) ? c.weekdays.filter((x) => x !== d) : [...c.weekdays, d] })} />{t('sp_wd_' + d)}</label>
                ))}
              </span>
            </FieldGroup>
          )}
          <Field label={t('sp_cron')} name="trigger.cron" error={err} hint={t('sp_cron_hint')}>
            {c.mode === 'custom'
              ? <input name="trigger.cron" value={c.cron} onInput={(e) => setCron({ cron: e.currentTarget.value })} autocomplete="off" spellcheck={false} placeholder="0 20 * * fri" />
              : <input name="trigger.cron" value={cronText} readOnly tabIndex={-1} class="sp-readonly" />}
          </Field>
          {reads && <p class="sp-reads" data-testid="cron-reads">{t('sp_cron_reads', { text: reads })}</p>}
        </>
      )}
      {f.type === 'event' && (
        <div class="form-row">
          <Field label={t('sp_event')} name="trigger.event" error={err}>
            <select name="trigger.event" value={f.event} onChange={(e) => set({ event: e.currentTarget.value })}>
              {EVENTS.map((x) => <option value={x}>{evLabel(x)}</option>)}
              {!EVENTS.includes(f.event) && <option value={f.event}>{f.event}</option>}
            </select>
          </Field>
          <Field label={t('sp_delay')} name="trigger.delay_minutes" error={err} hint={t('sp_delay_hint')}>
            <input name="trigger.delay_minutes" inputMode="numeric" value={f.delay} onInput={(e) => set({ delay: e.currentTarget.value })} />
          </Field>
          {named && (
            <Field label={t('sp_ev_name')} name="trigger.name" error={err} hint={t('sp_ev_name_hint_' + kind)}>
              <input name="trigger.name" list="sp-ev-names" value={f.evName} onInput={(e) => set({ evName: e.currentTarget.value })} autocomplete="off" />
              <datalist id="sp-ev-names">{(names.data || []).map((x) => <option value={x} />)}</datalist>
            </Field>
          )}
        </div>
      )}
      {f.type === 'date' && (
        <div class="form-row">
          <Field label={t('sp_date_field')} name="trigger.field" error={err}>
            <select name="trigger.field" value={f.field} onChange={(e) => set({ field: e.currentTarget.value })}>
              {DATE_FIELDS.map((x) => <option value={x}>{t('sp_df_' + x)}</option>)}
            </select>
          </Field>
          <Field label={t('sp_when_dir')} name="date_dir" error={null}>
            <select name="date_dir" value={f.dir} onChange={(e) => set({ dir: e.currentTarget.value })}>
              {['before', 'on', 'after'].map((x) => <option value={x}>{t('sp_dir_' + x)}</option>)}
            </select>
          </Field>
          {f.dir !== 'on' && (
            <Field label={t('sp_offset')} name="trigger.offset_days" error={err}>
              <input name="trigger.offset_days" inputMode="numeric" value={f.days} onInput={(e) => set({ days: e.currentTarget.value })} />
            </Field>
          )}
          <Field label={t('sp_at')} name="trigger.at" error={err}>
            <input type="time" name="trigger.at" value={f.at} onInput={(e) => set({ at: e.currentTarget.value })} />
          </Field>
        </div>
      )}
    </>
  );
}

function AudienceFields({ f, set, err, write }) {
  const audiences = useAsync(() => (f.audMode === 'rule' ? get('/audiences', { limit: 500 }).then((r) => r.data) : Promise.resolve(null)), [f.audMode]);
  const check = useSubmit(async () => {
    let rule;
    try {
      rule = JSON.parse(f.rule);
    } catch (e) {
      throw invalid('rule', t('sp_bad_json', { msg: e.message }));
    }
    return post('/audiences/preview', { rule });
  });
  const [count, setCount] = useState(null);
  return (
    <>
      <div class="sp-radios" role="radiogroup" aria-label={t('sp_audience')}>
        <label class="check-row"><input type="radio" name="aud_mode" value="all" checked={f.audMode === 'all'} onChange={() => set({ audMode: 'all' })} />{t('sp_aud_all')}</label>
        <label class="check-row"><input type="radio" name="aud_mode" value="rule" checked={f.audMode === 'rule'} onChange={() => set({ audMode: 'rule' })} />{t('sp_aud_rule')}</label>
      </div>
      {f.audMode === 'all' ? (
        <p class="muted sp-small">{f.type === 'schedule' ? t('sp_aud_all_hint_schedule') : t('sp_aud_all_hint')}</p>
      ) : (
        <>
          {write && audiences.data && audiences.data.length > 0 && (
            <label class="field">
              <span class="field-label">{t('sp_aud_from')}</span>
              <select name="aud_copy" value="" onChange={(e) => {
                const a = audiences.data.find((x) => String(x.id) === e.currentTarget.value);
                if (a) { set({ rule: JSON.stringify(a.rule, null, 2) }); setCount(null); check.setError(null); }
              }}>
                <option value="">{t('sp_aud_pick')}</option>
                {audiences.data.map((a) => <option value={String(a.id)}>{a.name}</option>)}
              </select>
            </label>
          )}
          <Field label={t('sp_aud_rule_label')} name="audience" error={err} hint={t('sp_aud_hint')}>
            <textarea name="audience" class="sp-code" rows={6} spellcheck={false} value={f.rule}
              onInput={(e) => { set({ rule: e.currentTarget.value }); setCount(null); check.setError(null); }} />
          </Field>
          {err instanceof ApiError && err.field && err.field.startsWith('audience') && err.field !== 'audience' && !err.message.includes(err.field) && (
            <p class="sp-small muted" data-testid="audience-path"><code>{err.field}</code></p>
          )}
          <div class="sp-check">
            <Button class="small" busy={check.busy} onClick={async () => { const r = await check.submit(); if (r) setCount(r.count); }}>{t('sp_aud_check')}</Button>
            {count !== null && !check.error && <span data-testid="audience-count">{t('sp_aud_count', { n: num(count) })}</span>}
          </div>
          {check.error && (
            // the preview names the rule "rule"; here it is the SOP's "audience"
            <p class="field-error" role="alert">{String(check.error.message).replace(/^rule\b/, 'audience')}</p>
          )}
        </>
      )}
    </>
  );
}

// Insert text at the caret of a textarea (or at its end).
function insertAt(el, value, text) {
  if (!el || typeof el.selectionStart !== 'number') return value + text;
  const a = el.selectionStart;
  const b = el.selectionEnd;
  return value.slice(0, a) + text + value.slice(b);
}

function Placeholders({ onPick }) {
  return (
    <div class="sp-ph" role="group" aria-label={t('sp_placeholder')}>
      {PLACEHOLDERS.map((p) => (
        <button type="button" class="chip sp-chip" title={t('sp_ph_' + p.replace('.', '_'))} onMouseDown={(e) => e.preventDefault()} onClick={() => onPick(`{{${p}}}`)}>
          {`{{${p}}}`}
        </button>
      ))}
    </div>
  );
}

function TemplateField({ label, name, value, onChange, err, write, rows = 3, hint }) {
  const ref = useRef(null);
  const [open, setOpen] = useState(false);
  return (
    <>
      <Field label={label} name={name} error={err} hint={hint}>
        <textarea ref={ref} name={name} rows={rows} value={value} maxLength={4000} onInput={(e) => onChange(e.currentTarget.value)} />
      </Field>
      {write && (
        <button type="button" class="btn small ghost sp-ph-toggle" aria-expanded={open ? 'true' : 'false'} onClick={() => setOpen(!open)}>
          {'{{…}}'} {t('sp_insert_ph')} {open ? '▴' : '▾'}
        </button>
      )}
      {write && open && <Placeholders onPick={(p) => {
        const next = insertAt(ref.current, value, p);
        onChange(next);
        const pos = (ref.current && typeof ref.current.selectionStart === 'number' ? ref.current.selectionStart : value.length) + p.length;
        requestAnimationFrame(() => { if (ref.current) { ref.current.focus(); ref.current.setSelectionRange(pos, pos); } });
      }} />}
    </>
  );
}

function ActionCard({ a, i, n, err, write, channels, onChange, onMove, onRemove }) {
  const p = `actions[${i}]`;
  const nm = (k) => `${p}.${k}`;
  const needs = (kind) => ['add_tag', 'remove_tag'].includes(a.type) && kind === 'tags'
    || a.type === 'grant_coupon' && kind === 'coupons' || a.type === 'task' && kind === 'owners';
  const tags = useAsync(() => (needs('tags') ? get('/tags', { kind: 'manual', limit: 500 }).then((r) => r.data) : Promise.resolve(null)), [a.type]);
  const coupons = useAsync(() => (needs('coupons') ? get('/coupon-templates', { limit: 500 }).then((r) => r.data) : Promise.resolve(null)), [a.type]);
  const ch = channels && a.channel_id && channels.find((c) => String(c.id) === String(a.channel_id));
  const rest = leftover(err, p, (ACTION_FIELDS[a.type] || ['type']).map(nm));
  return (
    <div class={`sp-action ${rest ? 'has-error' : ''}`} data-action-index={i} data-action-type={a.type}>
      <div class="sp-action-head">
        <strong>{t('sp_act_n', { n: i + 1 })}</strong>
        <span class="grow" />
        {write && (
          <span class="row-btns">
            <Button class="small ghost" data-write disabled={i === 0} aria-label={t('sp_up')} title={t('sp_up')} onClick={() => onMove(-1)}>↑</Button>
            <Button class="small ghost" data-write disabled={i === n - 1} aria-label={t('sp_down')} title={t('sp_down')} onClick={() => onMove(1)}>↓</Button>
            <Button class="small ghost danger" data-write disabled={n <= 1} aria-label={t('sp_remove_action')} title={t('sp_remove_action')} onClick={onRemove}>×</Button>
          </span>
        )}
      </div>
      <Field label={t('sp_act_type')} name={nm('type')} error={err}>
        <select name={nm('type')} value={a.type} onChange={(e) => onChange({ type: e.currentTarget.value })}>
          {ACTION_TYPES.map((x) => <option value={x}>{t('sp_act_' + x)}</option>)}
        </select>
      </Field>
      {a.type === 'message' && (
        <>
          {channels ? (
            channels.length === 0 ? <p class="muted" role="status">{t('sp_no_channels')} {isAdmin() && <a href="/admin/message-channels">{t('nav_message_channels')}</a>}</p> : (
              <Field label={t('sp_channel')} name={nm('channel_id')} error={err}>
                <select name={nm('channel_id')} value={a.channel_id} onChange={(e) => onChange({ channel_id: e.currentTarget.value })}>
                  <option value="">{t('sp_channel_pick')}</option>
                  {channels.map((c) => <option value={String(c.id)}>{c.name}</option>)}
                  {a.channel_id && !ch && <option value={a.channel_id}>{channelLabel(channels, Number(a.channel_id))}</option>}
                </select>
              </Field>
            )
          ) : (
            <Field label={t('sp_channel_id')} name={nm('channel_id')} error={err}>
              <input name={nm('channel_id')} inputMode="numeric" value={a.channel_id} onInput={(e) => onChange({ channel_id: e.currentTarget.value })} />
            </Field>
          )}
          <TemplateField label={t('sp_template')} name={nm('template')} value={a.template} err={err} write={write} hint={t('sp_template_hint')}
            onChange={(v) => onChange({ template: v })} />
          {(!ch || ch.kind === 'wecom_bot') && (
            <label class="check-row"><input type="checkbox" name={nm('markdown')} checked={a.markdown} onChange={(e) => onChange({ markdown: e.currentTarget.checked })} />{t('sp_markdown')}</label>
          )}
        </>
      )}
      {(a.type === 'add_tag' || a.type === 'remove_tag') && (
        <Field label={t('sp_tag')} name={nm('tag')} error={err}>
          <input name={nm('tag')} list={`sp-tags-${a.key}`} value={String(a.tag)} onInput={(e) => onChange({ tag: e.currentTarget.value })} autocomplete="off" />
          <datalist id={`sp-tags-${a.key}`}>{(tags.data || []).map((x) => <option value={x.name} />)}</datalist>
        </Field>
      )}
      {a.type === 'grant_points' && (
        <div class="form-row">
          <Field label={t('sp_points')} name={nm('points')} error={err}>
            <input name={nm('points')} inputMode="numeric" value={a.points} onInput={(e) => onChange({ points: e.currentTarget.value })} />
          </Field>
          <Field label={t('sp_reason')} name={nm('reason')} error={err}>
            <input name={nm('reason')} value={a.reason} maxLength={200} onInput={(e) => onChange({ reason: e.currentTarget.value })} />
          </Field>
        </div>
      )}
      {a.type === 'grant_coupon' && (
        <Field label={t('sp_coupon')} name={nm('template_id')} error={err}>
          <select name={nm('template_id')} value={a.template_id} onChange={(e) => onChange({ template_id: e.currentTarget.value })}>
            <option value="">{t('sp_coupon_pick')}</option>
            {(coupons.data || []).map((c) => <option value={String(c.id)}>{c.name}</option>)}
            {a.template_id && !(coupons.data || []).some((c) => String(c.id) === a.template_id) && <option value={a.template_id}>#{a.template_id}</option>}
          </select>
        </Field>
      )}
      {a.type === 'task' && <TaskFields a={a} nm={nm} err={err} write={write} onChange={onChange} />}
      <ErrorBox error={rest} />
    </div>
  );
}

function TaskFields({ a, nm, err, write, onChange }) {
  const owners = useOwners();
  return (
    <>
      <Field label={t('sp_assignee')} name={nm('assignee')} error={err}>
        <select name={nm('assignee')} value={a.assignee} onChange={(e) => onChange({ assignee: e.currentTarget.value })}>
          <option value="owner">{t('sp_assignee_owner')}</option>
          {(owners.data || []).filter((o) => !o.disabled).map((o) => <option value={String(o.id)}>{o.name}</option>)}
          {a.assignee !== 'owner' && !(owners.data || []).some((o) => String(o.id) === a.assignee) && <option value={a.assignee}>#{a.assignee}</option>}
        </select>
      </Field>
      <TemplateField label={t('sp_task_text')} name={nm('text')} value={a.text} err={err} write={write} rows={2} onChange={(v) => onChange({ text: v })} />
      <TemplateField label={t('sp_task_template')} name={nm('template')} value={a.template} err={err} write={write} onChange={(v) => onChange({ template: v })} />
      <Field label={t('sp_task_due')} name={nm('due_in_hours')} error={err} hint={t('sp_task_due_hint')}>
        <input name={nm('due_in_hours')} inputMode="numeric" value={a.due} onInput={(e) => onChange({ due: e.currentTarget.value })} autocomplete="off" />
      </Field>
    </>
  );
}
