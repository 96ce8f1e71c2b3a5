// One customer's profile: who they are, their key figures, what happened to
// them (timeline, orders, points, wallet, coupons; the tab is in the URL) and,
// for writers, the day's work: bind an order, move points, issue a coupon, tag,
// assign, edit, merge a duplicate in, erase.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, del, get, patch } from '../api.js';
import { addStrings, money, num, t, when } from '../i18n.js';
import { navigate, setQuery } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, ErrorBox, Field, FormError, Loading, Modal, Pager, Spinner, Stat, Table,
  canWrite, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import {
  ExistingLink, OwnerOptions, isExisting, PROFILE_FIELDS, ProfileFields, StageBadge, channelName, customerName, localError, newBase,
  ownerName, postOnce, stageLabel, useChannels, useOwners,
} from './customers.jsx';

addStrings({
  zh: {
    cu_back: '客户列表', cu_gone: '找不到这位客户：ID 不存在，或资料已被删除。', cu_merged_into: '这份资料已合并到客户 #{id}。',
    cu_open_kept: '打开保留的资料', cu_unionid: 'UnionID', cu_created_at: '创建于', cu_manual: '手动设置',
    cu_f_orders: '订单', cu_f_spent: '累计消费', cu_f_points: '积分', cu_f_wallet: '储值余额', cu_f_first: '首次下单',
    cu_f_last: '最近下单', cu_f_earned: '近 12 个月获得 {n}', cu_no_tags: '暂无标签',
    cu_tab_timeline: '动态', cu_tab_orders: '订单', cu_tab_points: '积分明细', cu_tab_wallet: '储值明细', cu_tab_coupons: '优惠券',
    cu_act_bind: '绑定订单', cu_act_points: '调整积分', cu_act_coupon: '发券', cu_act_tag: '加标签', cu_act_owner: '分配负责人',
    cu_act_edit: '编辑资料', cu_act_merge: '合并重复资料', cu_act_erase: '删除个人资料',
    cu_remove_tag: '移除标签 {name}', cu_remove_tag_q: '从这位客户身上移除标签“{name}”？', cu_tag_removed: '标签已移除',
    cu_platform: '平台', cu_external_id: '订单号', cu_bind_phone: '下单手机号', cu_bind_hint: '客户提供的下单手机号，须与订单一致',
    cu_bind: '绑定', cu_bound_ok: '订单已绑定，积分 +{n}', cu_bound_other: '这笔订单已绑定给客户 #{id}：',
    cu_grant: '发放', cu_deduct: '扣减', cu_amount: '积分数', cu_reason: '原因', cu_note: '备注', cu_err_amount: '请填写大于 0 的整数',
    cu_err_reason: '请填写原因', cu_deduct_q: '从 {name} 扣减 {n} 积分（当前余额 {b}）？', cu_points_ok: '积分已更新，余额 {n}',
    cu_rs_event: '活动奖励', cu_rs_comp: '客服补偿', cu_rs_gift: '兑换礼品', cu_rs_fix: '更正',
    cu_template: '券模板', cu_no_templates: '没有可用的券模板，请先创建券模板。', cu_issue: '发放', cu_coupon_ok: '已发券，券码 {code}',
    cu_tag_names: '标签名', cu_tag_hint: '多个标签用逗号分隔；没有的标签会新建', cu_tag_ok: '标签已添加', cu_add: '添加',
    cu_owner_ok: '负责人已更新', cu_edit_ok: '资料已保存', cu_nothing_changed: '没有改动',
    cu_merge_find: '要并入的资料：ID、手机号或姓名', cu_merge_hint: '找到另一份属于同一个人的资料，把它并入当前资料。',
    cu_merge_none: '没有找到其他客户', cu_merge_pick: '选择', cu_merge_q: '把 {from} 并入 {into}？',
    cu_merge_what: '{from} 的订单、标签和动态都会转到当前资料，当前资料缺少的字段从它补上；之后 {from} 不再存在。',
    cu_merge_do: '确认合并', cu_merged_ok: '已合并，保留的资料是 #{id}', cu_back_step: '返回',
    cu_erase_1: '删除会抹去 {name} 的个人资料：姓名、手机号、邮箱、unionid、生日、自定义属性、标签和动态，以及其订单上的下单手机号。订单和积分、储值流水为记账保留。',
    cu_erase_2: '再次确认：{name} 的个人资料将被永久抹去，无法恢复。', cu_erase_next: '继续', cu_erase_do: '永久删除',
    cu_erased: '个人资料已删除',
    cu_when: '时间', cu_event: '事件', cu_detail: '详情', cu_amount_col: '金额', cu_status: '状态', cu_paid_at: '付款时间',
    cu_bound_by: '绑定方式', cu_items: '商品', cu_delta: '变动', cu_expires: '到期', cu_remaining: '剩余', cu_balance: '余额 {n}',
    cu_code: '券码', cu_coupon: '券', cu_value: '面额', cu_issued: '发放时间', cu_used: '使用时间', cu_source: '来源',
    cu_ev_customer_created: '成为客户', cu_ev_customer_updated: '资料修改', cu_ev_customer_merged: '合并资料',
    cu_ev_order_bound: '订单绑定', cu_ev_order_paid: '订单付款', cu_ev_order_refunded: '订单退款', cu_ev_order_cancelled: '订单取消',
    cu_ev_tag_added: '添加标签', cu_ev_tag_removed: '移除标签', cu_ev_audience_entered: '进入人群', cu_ev_audience_left: '离开人群',
    cu_ev_group_joined: '加入社群', cu_ev_group_left: '退出社群', cu_ev_stage_changed: '阶段变化', cu_ev_checkin: '签到',
    cu_ev_points_changed: '积分变动', cu_ev_wallet_changed: '储值变动', cu_ev_coupon_issued: '获得优惠券',
    cu_ev_coupon_redeemed: '使用优惠券', cu_ev_reward_redeemed: '积分兑换', cu_ev_content_added: '发布内容', cu_ev_tier_changed: '等级变化',
    cu_evd_channel: '来源：{name}', cu_evd_merged: '并入了客户 #{id}', cu_evd_checkin: '连续第 {streak} 天，积分 +{points}',
    cu_evd_auto: '自动', cu_evd_expires: '{date} 到期', cu_evd_points: '积分 {n}', cu_evd_sop: '自动化', cu_evd_none: '无',
    cu_by_phone: '手机号匹配', cu_by_bind: '绑定流程', cu_by_customer_id: '随订单指定',
    cu_os_paid: '已付款', cu_os_refunded: '已退款', cu_os_cancelled: '已取消',
    cu_pr_order: '订单积分', cu_pr_bind_bonus: '绑定奖励', cu_pr_review: '评价奖励', cu_pr_checkin: '签到', cu_pr_redeem: '积分兑换',
    cu_pr_refund: '退款扣回', cu_pr_expire: '过期', cu_pr_sop: '自动化发放',
    cu_wr_topup: '充值', cu_wr_spend: '消费', cu_wr_refund: '退回', cu_wr_adjust: '调整',
    cu_cs_active: '可用', cu_cs_used: '已使用', cu_cs_expired: '已过期',
    cu_cp_amount: '减 {v}', cu_cp_percent: '{v}% 折扣', cu_cp_gift: '赠品', cu_cp_min: '满 {v} 可用',
    cu_ck_review: '评价', cu_ck_buyer_show: '买家秀', cu_ck_share: '分享',
    cu_fl_name: '姓名', cu_fl_phone: '手机号', cu_fl_email: '邮箱', cu_fl_unionid: 'unionid', cu_fl_gender: '性别',
    cu_fl_birthday: '生日', cu_fl_source_channel_id: '来源渠道', cu_fl_owner_user_id: '负责人', cu_fl_stage: '阶段', cu_fl_attrs: '自定义属性',
  },
  en: {
    cu_back: 'Customers', cu_gone: 'No such customer: the id does not exist, or the profile was erased.',
    cu_merged_into: 'This profile was merged into customer #{id}.', cu_open_kept: 'Open the kept profile', cu_unionid: 'UnionID',
    cu_created_at: 'Created', cu_manual: 'set by hand', cu_f_orders: 'Orders', cu_f_spent: 'Total spent', cu_f_points: 'Points',
    cu_f_wallet: 'Wallet', cu_f_first: 'First order', cu_f_last: 'Last order', cu_f_earned: '{n} earned in 12 months',
    cu_no_tags: 'No tags', cu_tab_timeline: 'Timeline', cu_tab_orders: 'Orders', cu_tab_points: 'Points ledger',
    cu_tab_wallet: 'Wallet ledger', cu_tab_coupons: 'Coupons', cu_act_bind: 'Bind an order', cu_act_points: 'Grant or deduct points',
    cu_act_coupon: 'Issue a coupon', cu_act_tag: 'Add a tag', cu_act_owner: 'Assign an owner', cu_act_edit: 'Edit profile',
    cu_act_merge: 'Merge a duplicate', cu_act_erase: 'Erase personal data', cu_remove_tag: 'Remove the tag {name}',
    cu_remove_tag_q: 'Take the tag "{name}" off this customer?', cu_tag_removed: 'Tag removed', cu_platform: 'Platform',
    cu_external_id: 'Order number', cu_bind_phone: 'Phone used to order', cu_bind_hint: 'The phone the customer gives; it must be the order\'s',
    cu_bind: 'Bind', cu_bound_ok: 'Order bound, {n} points added', cu_bound_other: 'This order is bound to customer #{id}: ',
    cu_grant: 'Grant', cu_deduct: 'Deduct', cu_amount: 'Points', cu_reason: 'Reason', cu_note: 'Note',
    cu_err_amount: 'A whole number above 0', cu_err_reason: 'Give a reason',
    cu_deduct_q: 'Deduct {n} points from {name} (balance {b})?', cu_points_ok: 'Points updated, balance {n}',
    cu_rs_event: 'Event reward', cu_rs_comp: 'Service compensation', cu_rs_gift: 'Gift redemption', cu_rs_fix: 'Correction',
    cu_template: 'Coupon template', cu_no_templates: 'No coupon template is active; create one first.', cu_issue: 'Issue',
    cu_coupon_ok: 'Coupon issued, code {code}', cu_tag_names: 'Tag names', cu_tag_hint: 'Separate several with commas; new names make new tags',
    cu_tag_ok: 'Tag added', cu_add: 'Add', cu_owner_ok: 'Owner changed', cu_edit_ok: 'Profile saved', cu_nothing_changed: 'Nothing changed',
    cu_merge_find: 'The profile to fold in: id, phone or name', cu_merge_hint: 'Find another profile of the same person and fold it into this one.',
    cu_merge_none: 'No other customer found', cu_merge_pick: 'Choose', cu_merge_q: 'Merge {from} into {into}?',
    cu_merge_what: 'The orders, tags and timeline of {from} move to this profile, which takes the fields it lacks from it; {from} is gone afterwards.',
    cu_merge_do: 'Merge', cu_merged_ok: 'Merged; the kept profile is #{id}', cu_back_step: 'Back',
    cu_erase_1: 'Erasing removes the personal data of {name}: name, phone, e-mail, unionid, birthday, attributes, tags and timeline, and the buyer phone of their orders. The orders and the points and wallet ledgers stay for the books.',
    cu_erase_2: 'Once more: the personal data of {name} will be erased for good. This cannot be undone.',
    cu_erase_next: 'Continue', cu_erase_do: 'Erase for good', cu_erased: 'Personal data erased',
    cu_when: 'When', cu_event: 'Event', cu_detail: 'Details', cu_amount_col: 'Amount', cu_status: 'Status', cu_paid_at: 'Paid',
    cu_bound_by: 'Bound by', cu_items: 'Items', cu_delta: 'Change', cu_expires: 'Expires', cu_remaining: 'Left', cu_balance: 'Balance {n}',
    cu_code: 'Code', cu_coupon: 'Coupon', cu_value: 'Value', cu_issued: 'Issued', cu_used: 'Used', cu_source: 'Source',
    cu_ev_customer_created: 'Became a customer', cu_ev_customer_updated: 'Profile changed', cu_ev_customer_merged: 'Profiles merged',
    cu_ev_order_bound: 'Order bound', cu_ev_order_paid: 'Order paid', cu_ev_order_refunded: 'Order refunded',
    cu_ev_order_cancelled: 'Order cancelled', cu_ev_tag_added: 'Tag added', cu_ev_tag_removed: 'Tag removed',
    cu_ev_audience_entered: 'Entered an audience', cu_ev_audience_left: 'Left an audience', cu_ev_group_joined: 'Joined a group',
    cu_ev_group_left: 'Left a group', cu_ev_stage_changed: 'Stage changed', cu_ev_checkin: 'Checked in',
    cu_ev_points_changed: 'Points changed', cu_ev_wallet_changed: 'Wallet changed', cu_ev_coupon_issued: 'Coupon received',
    cu_ev_coupon_redeemed: 'Coupon used', cu_ev_reward_redeemed: 'Points redeemed', cu_ev_content_added: 'Content posted',
    cu_ev_tier_changed: 'Tier changed', cu_evd_channel: 'from {name}', cu_evd_merged: 'took in customer #{id}',
    cu_evd_checkin: 'day {streak} of the streak, +{points} points', cu_evd_auto: 'automatic', cu_evd_expires: 'expires {date}',
    cu_evd_points: '{n} points', cu_evd_sop: 'automation', cu_evd_none: 'none',
    cu_by_phone: 'phone match', cu_by_bind: 'binding flow', cu_by_customer_id: 'sent with the order',
    cu_os_paid: 'paid', cu_os_refunded: 'refunded', cu_os_cancelled: 'cancelled',
    cu_pr_order: 'Order', cu_pr_bind_bonus: 'Binding bonus', cu_pr_review: 'Review bonus', cu_pr_checkin: 'Check-in',
    cu_pr_redeem: 'Redemption', cu_pr_refund: 'Refund clawback', cu_pr_expire: 'Expired', cu_pr_sop: 'Automation',
    cu_wr_topup: 'Top-up', cu_wr_spend: 'Spend', cu_wr_refund: 'Refund', cu_wr_adjust: 'Adjustment',
    cu_cs_active: 'active', cu_cs_used: 'used', cu_cs_expired: 'expired',
    cu_cp_amount: '{v} off', cu_cp_percent: '{v}% off', cu_cp_gift: 'Gift', cu_cp_min: 'on {v} or more',
    cu_ck_review: 'review', cu_ck_buyer_show: 'buyer show', cu_ck_share: 'share',
    cu_fl_name: 'name', cu_fl_phone: 'phone', cu_fl_email: 'e-mail', cu_fl_unionid: 'unionid', cu_fl_gender: 'gender',
    cu_fl_birthday: 'birthday', cu_fl_source_channel_id: 'source channel', cu_fl_owner_user_id: 'owner', cu_fl_stage: 'stage',
    cu_fl_attrs: 'attributes',
  },
});

const TABS = ['timeline', 'orders', 'points', 'wallet', 'coupons'];
const PLATFORMS = ['tmall', 'douyin', 'jd', 'wechat', 'offline'];

// A translation when there is one, else the raw value (a reason typed by hand).
function label(prefix, v) {
  if (v === null || v === undefined || v === '') return '—';
  const k = prefix + v;
  const s = t(k);
  return s === k ? String(v) : s;
}
const signed = (n, f = num) => (n > 0 ? '+' : '') + f(n);
const signedMoney = (c) => (c > 0 ? '+' : c < 0 ? '−' : '') + money(Math.abs(c));
const who = (c) => `${customerName(c)} #${c.id}`;

function couponValue(c) {
  if (c.kind === 'amount_off') return t('cu_cp_amount', { v: money(c.value) });
  if (c.kind === 'percent_off') return t('cu_cp_percent', { v: c.value });
  return t('cu_cp_gift');
}

// What a timeline event says, in the language shown.
function eventLabel(kind) {
  return label('cu_ev_', kind.replace(/\./g, '_'));
}

function eventDetail(ev, channels) {
  const d = ev.data || {};
  switch (ev.kind) {
    case 'customer.created':
      return d.source_channel_id ? t('cu_evd_channel', { name: channelName(channels, d.source_channel_id) }) : '';
    case 'customer.updated':
      return (d.changed || []).map((f) => label('cu_fl_', f)).join(', ');
    case 'customer.merged':
      return t('cu_evd_merged', { id: d.from });
    case 'order.bound':
    case 'order.paid':
    case 'order.refunded':
    case 'order.cancelled':
      return [d.platform, d.external_id, d.amount_cents !== undefined ? money(d.amount_cents) : null, d.by ? label('cu_by_', d.by) : null]
        .filter((x) => x !== null && x !== undefined && x !== '').join(' · ');
    case 'tag.added':
    case 'tag.removed':
      return d.auto ? `${d.name} (${t('cu_evd_auto')})` : d.name || '';
    case 'audience.entered':
    case 'audience.left':
    case 'group.joined':
    case 'group.left':
      return d.name || '';
    case 'stage.changed':
      return `${stageLabel(d.from)} → ${stageLabel(d.to)}`;
    case 'tier.changed':
      return `${d.from || t('cu_evd_none')} → ${d.to || t('cu_evd_none')}`;
    case 'checkin':
      return t('cu_evd_checkin', { streak: d.streak, points: d.points });
    case 'points.changed':
      return [signed(d.delta), label('cu_pr_', d.reason), d.balance !== undefined ? t('cu_balance', { n: num(d.balance) }) : null]
        .filter(Boolean).join(' · ');
    case 'wallet.changed':
      return [signedMoney(d.delta_cents), label('cu_wr_', d.reason), d.balance_cents !== undefined ? t('cu_balance', { n: money(d.balance_cents) }) : null]
        .filter(Boolean).join(' · ');
    case 'coupon.issued':
      return [d.name, d.expires_at ? t('cu_evd_expires', { date: when(d.expires_at) }) : null].filter(Boolean).join(' · ');
    case 'coupon.redeemed':
      return d.name || '';
    case 'reward.redeemed':
      return [d.name, d.points !== undefined ? t('cu_evd_points', { n: signed(-d.points) }) : null].filter(Boolean).join(' · ');
    case 'content.added':
      return [label('cu_ck_', d.kind), d.points ? t('cu_evd_points', { n: signed(d.points) }) : null].filter(Boolean).join(' · ');
    default:
      return '';
  }
}

// ---------------------------------------------------------------- the tabs

function TimelineTab({ id, query, tick, channels }) {
  const pager = useUrlPager(query, 'timeline');
  const s = useAsync(() => get(`/customers/${id}/timeline`, { limit: 50, cursor: pager.cursor }), [id, pager.cursor, tick]);
  return (
    <Async state={s}>{(d) => (
      <>
        {d.data.length === 0 ? <p class="empty">{t('none')}</p> : (
          <ol class="cu-timeline" data-testid="timeline">
            {d.data.map((ev) => {
              const detail = eventDetail(ev, channels);
              const sop = ev.data && ev.data.sop_id;
              return (
                <li key={ev.id} data-kind={ev.kind}>
                  <time datetime={ev.created_at}>{when(ev.created_at)}</time>
                  <div class="cu-ev">
                    <strong>{eventLabel(ev.kind)}</strong>
                    {detail && <span class="cu-ev-detail">{detail}</span>}
                    {sop && <span class="badge">{t('cu_evd_sop')}</span>}
                  </div>
                </li>
              );
            })}
          </ol>
        )}
        <Pager pager={pager} nextCursor={d.next_cursor} busy={s.loading} />
      </>
    )}</Async>
  );
}

const ORDER_BADGE = { paid: 'ok', refunded: 'warn', cancelled: 'bad' };
function OrdersTab({ id, query, tick }) {
  const pager = useUrlPager(query, 'orders');
  const s = useAsync(() => get('/orders', { customer_id: id, limit: 50, cursor: pager.cursor }), [id, pager.cursor, tick]);
  return (
    <Async state={s}>{(d) => (
      <>
        <Table rows={d.data} stack columns={[
          { label: t('cu_platform'), render: (o) => o.platform },
          { label: t('cu_external_id'), render: (o) => <code>{o.external_id}</code> },
          { label: t('cu_amount_col'), num: true, render: (o) => money(o.amount_cents) },
          { label: t('cu_status'), render: (o) => <span class={`badge ${ORDER_BADGE[o.status] || ''}`}>{label('cu_os_', o.status)}</span> },
          { label: t('cu_paid_at'), render: (o) => when(o.paid_at) },
          { label: t('cu_bound_by'), render: (o) => label('cu_by_', o.bound_by) },
          { label: t('cu_items'), render: (o) => <span class="cu-items">{(o.items || []).map((i) => `${i.name || i.sku} ×${i.quantity}`).join('，') || '—'}</span> },
        ]} />
        <Pager pager={pager} nextCursor={d.next_cursor} busy={s.loading} />
      </>
    )}</Async>
  );
}

function PointsTab({ id, query, tick }) {
  const pager = useUrlPager(query, 'points');
  const s = useAsync(() => get(`/customers/${id}/points`, { limit: 50, cursor: pager.cursor }), [id, pager.cursor, tick]);
  return (
    <Async state={s}>{(d) => (
      <>
        <p class="muted">{t('cu_balance', { n: num(d.balance) })} · {t('cu_f_earned', { n: num(d.earned_12m) })}</p>
        <Table rows={d.ledger} stack columns={[
          { label: t('cu_when'), render: (r) => when(r.created_at) },
          { label: t('cu_delta'), num: true, render: (r) => <span class={r.delta < 0 ? 'cu-neg' : 'cu-pos'}>{signed(r.delta)}</span> },
          { label: t('cu_reason'), render: (r) => label('cu_pr_', r.reason) },
          { label: t('cu_note'), render: (r) => r.note || '—' },
          { label: t('cu_remaining'), num: true, render: (r) => (r.delta > 0 ? num(r.remaining) : '—') },
          { label: t('cu_expires'), render: (r) => (r.delta > 0 ? when(r.expires_at) : '—') },
        ]} />
        <Pager pager={pager} nextCursor={d.next_cursor} busy={s.loading} />
      </>
    )}</Async>
  );
}

function WalletTab({ id, query, tick }) {
  const pager = useUrlPager(query, 'wallet');
  const s = useAsync(() => get(`/customers/${id}/wallet`, { limit: 50, cursor: pager.cursor }), [id, pager.cursor, tick]);
  return (
    <Async state={s}>{(d) => (
      <>
        <p class="muted">{t('cu_balance', { n: money(d.balance_cents) })}</p>
        <Table rows={d.ledger} stack columns={[
          { label: t('cu_when'), render: (r) => when(r.created_at) },
          { label: t('cu_delta'), num: true, render: (r) => <span class={r.delta_cents < 0 ? 'cu-neg' : 'cu-pos'}>{signedMoney(r.delta_cents)}</span> },
          { label: t('cu_reason'), render: (r) => label('cu_wr_', r.reason) },
          { label: t('cu_note'), render: (r) => r.note || '—' },
        ]} />
        <Pager pager={pager} nextCursor={d.next_cursor} busy={s.loading} />
      </>
    )}</Async>
  );
}

const COUPON_BADGE = { active: 'ok', used: '', expired: 'bad' };
function CouponsTab({ id, query, tick }) {
  const pager = useUrlPager(query, 'coupons');
  const s = useAsync(() => get(`/customers/${id}/coupons`, { limit: 50, cursor: pager.cursor }), [id, pager.cursor, tick]);
  return (
    <Async state={s}>{(d) => (
      <>
        <Table rows={d.data} stack columns={[
          { label: t('cu_coupon'), render: (c) => c.name },
          { label: t('cu_value'), render: (c) => couponValue(c) + (c.min_spend_cents ? ` (${t('cu_cp_min', { v: money(c.min_spend_cents) })})` : '') },
          { label: t('cu_code'), render: (c) => <code>{c.code}</code> },
          { label: t('cu_status'), render: (c) => <span class={`badge ${COUPON_BADGE[c.status] || ''}`}>{label('cu_cs_', c.status)}</span> },
          { label: t('cu_issued'), render: (c) => when(c.issued_at) },
          { label: t('cu_expires'), render: (c) => when(c.expires_at) },
          { label: t('cu_used'), render: (c) => when(c.used_at) },
        ]} />
        <Pager pager={pager} nextCursor={d.next_cursor} busy={s.loading} />
      </>
    )}</Async>
  );
}

// ---------------------------------------------------------------- the actions

function FormButtons({ onClose, busy, children, cls = 'primary' }) {
  return (
    <div class="form-actions">
      <Button onClick={onClose}>{t('cancel')}</Button>
      <Button type="submit" class={cls} busy={busy} data-write>{children}</Button>
    </div>
  );
}

function BindOrder({ c, onClose, onDone }) {
  const [f, setF] = useState({ platform: '', external_id: '', phone: c.phone || '' });
  const set = (k) => (e) => { const v = e.currentTarget.value; setF((x) => ({ ...x, [k]: v })); };
  const base = useRef(newBase());
  const s = useSubmit(async () => {
    const before = c.points_balance;
    const body = { customer_id: c.id, platform: f.platform.trim(), external_id: f.external_id.trim(), phone: f.phone.trim() };
    await postOnce(base.current, '/orders/bind', body);
    // the order's points are booked with the binding: read the balance again
    const fresh = await get(`/customers/${c.id}`);
    toast(t('cu_bound_ok', { n: num(Math.max(0, fresh.points_balance - before)) }));
    onClose();
    onDone();
  });
  return (
    <Modal title={t('cu_act_bind')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="bind">
        <Field label={t('cu_platform')} name="platform" error={s.error}>
          <input name="platform" list="cu-platforms" value={f.platform} onInput={set('platform')} autocomplete="off" required />
          <datalist id="cu-platforms">{PLATFORMS.map((p) => <option value={p} />)}</datalist>
        </Field>
        <Field label={t('cu_external_id')} name="external_id" error={s.error}>
          <input name="external_id" value={f.external_id} onInput={set('external_id')} autocomplete="off" required />
        </Field>
        <Field label={t('cu_bind_phone')} name="phone" error={s.error} hint={t('cu_bind_hint')}>
          <input name="phone" type="tel" inputMode="tel" value={f.phone} onInput={set('phone')} autocomplete="off" required />
        </Field>
        <ExistingLink error={s.error} text="cu_bound_other" />
        <FormError error={isExisting(s.error) ? null : s.error} fields={['platform', 'external_id', 'phone']} />
        <FormButtons onClose={onClose} busy={s.busy}>{t('cu_bind')}</FormButtons>
      </form>
    </Modal>
  );
}

function Points({ c, onClose, onDone }) {
  const [mode, setMode] = useState('grant');
  const [f, setF] = useState({ amount: '', reason: '', note: '' });
  const [confirming, setConfirming] = useState(false);
  const set = (k) => (e) => { const v = e.currentTarget.value; setF((x) => ({ ...x, [k]: v })); };
  const base = useRef(newBase());
  const n = /^\d+$/.test(f.amount.trim()) ? parseInt(f.amount.trim(), 10) : NaN;
  const s = useSubmit(async () => {
    if (!(n > 0)) throw localError('delta', t('cu_err_amount'));
    if (!f.reason.trim()) throw localError('reason', t('cu_err_reason'));
    if (mode === 'deduct' && !confirming) {
      setConfirming(true);
      return;
    }
    const body = { delta: mode === 'deduct' ? -n : n, reason: f.reason.trim() };
    if (f.note.trim()) body.note = f.note.trim();
    let r;
    try {
      r = await postOnce(base.current, `/customers/${c.id}/points`, body);
    } catch (e) {
      setConfirming(false);
      throw e;
    }
    toast(t('cu_points_ok', { n: num(r && r.balance !== undefined ? r.balance : c.points_balance + body.delta) }));
    onClose();
    onDone();
  });
  const chooser = (m) => (
    <button type="button" class={`chip ${mode === m ? 'on' : ''}`} aria-pressed={mode === m ? 'true' : 'false'} data-mode={m}
      onClick={() => { setMode(m); setConfirming(false); }}>{t('cu_' + m)}</button>
  );
  return (
    <Modal title={t('cu_act_points')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="points">
        {confirming ? (
          <div class="cu-confirm" data-confirm-step="deduct">
            <p>{t('cu_deduct_q', { n: num(n), name: who(c), b: num(c.points_balance) })}</p>
            <p class="muted">{t('cu_reason')}: {f.reason}</p>
            <div class="form-actions">
              <Button onClick={() => setConfirming(false)}>{t('cu_back_step')}</Button>
              <Button type="submit" class="danger" busy={s.busy} data-write data-confirm="yes">{t('cu_deduct')}</Button>
            </div>
          </div>
        ) : (
          <>
            <div class="range cu-mode" role="group" aria-label={t('cu_act_points')}>{chooser('grant')}{chooser('deduct')}</div>
            <p class="muted">{t('cu_balance', { n: num(c.points_balance) })}</p>
            <Field label={t('cu_amount')} name="delta" error={s.error}>
              <input name="delta" type="number" min="1" step="1" inputMode="numeric" value={f.amount} onInput={set('amount')} required />
            </Field>
            <Field label={t('cu_reason')} name="reason" error={s.error}>
              <input name="reason" list="cu-reasons" maxLength={64} value={f.reason} onInput={set('reason')} autocomplete="off" required />
              <datalist id="cu-reasons">{['cu_rs_event', 'cu_rs_comp', 'cu_rs_gift', 'cu_rs_fix'].map((k) => <option value={t(k)} />)}</datalist>
            </Field>
            <Field label={t('cu_note')} name="note" error={s.error}>
              <textarea name="note" maxLength={500} value={f.note} onInput={set('note')} />
            </Field>
            <FormError error={s.error} fields={['delta', 'reason', 'note']} />
            <FormButtons onClose={onClose} busy={s.busy} cls={mode === 'deduct' ? 'danger' : 'primary'}>{t('cu_' + mode)}</FormButtons>
          </>
        )}
      </form>
    </Modal>
  );
}

function IssueCoupon({ c, onClose, onDone }) {
  const templates = useAsync(() => get('/coupon-templates', { active: 'true', limit: 500 }).then((r) => r.data), []);
  const [tpl, setTpl] = useState('');
  const base = useRef(newBase());
  const s = useSubmit(async () => {
    const list = templates.data || [];
    const id = tpl || (list[0] && String(list[0].id));
    if (!id) throw localError('template_id', t('cu_no_templates'));
    const r = await postOnce(base.current, `/customers/${c.id}/coupons`, { template_id: Number(id) });
    toast(t('cu_coupon_ok', { code: r.code }));
    onClose();
    onDone('coupons');
  });
  return (
    <Modal title={t('cu_act_coupon')} onClose={onClose}>
      <Async state={templates}>{(list) => (list.length === 0 ? <p class="empty">{t('cu_no_templates')}</p> : (
        <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="coupon">
          <Field label={t('cu_template')} name="template_id" error={s.error}>
            <select name="template_id" value={tpl || String(list[0].id)} onChange={(e) => setTpl(e.currentTarget.value)}>
              {list.map((x) => <option value={String(x.id)}>{x.name} · {couponValue(x)}</option>)}
            </select>
          </Field>
          <FormError error={s.error} fields={['template_id']} />
          <FormButtons onClose={onClose} busy={s.busy}>{t('cu_issue')}</FormButtons>
        </form>
      ))}</Async>
    </Modal>
  );
}

function AddTag({ c, onClose, onDone }) {
  const tags = useAsync(() => get('/tags', { kind: 'manual', limit: 500 }).then((r) => r.data), []);
  const [names, setNames] = useState('');
  const base = useRef(newBase());
  const s = useSubmit(async () => {
    const list = names.split(/[,，、]/).map((x) => x.trim()).filter(Boolean);
    if (list.length === 0) throw localError('names', t('cu_tag_names'));
    await postOnce(base.current, `/customers/${c.id}/tags`, { names: list });
    toast(t('cu_tag_ok'));
    onClose();
    onDone();
  });
  const have = new Set(c.tags.map((x) => x.name));
  return (
    <Modal title={t('cu_act_tag')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="tag">
        <Field label={t('cu_tag_names')} name="names" error={s.error} hint={t('cu_tag_hint')}>
          <input name="names" list="cu-manual-tags" value={names} onInput={(e) => setNames(e.currentTarget.value)} autocomplete="off" required />
          <datalist id="cu-manual-tags">{(tags.data || []).filter((x) => !have.has(x.name)).map((x) => <option value={x.name} />)}</datalist>
        </Field>
        <FormError error={s.error} fields={['names']} />
        <FormButtons onClose={onClose} busy={s.busy}>{t('cu_add')}</FormButtons>
      </form>
    </Modal>
  );
}

function AssignOwner({ c, owners, onClose, onDone }) {
  const [owner, setOwner] = useState(c.owner_user_id ? String(c.owner_user_id) : '');
  const s = useSubmit(async () => {
    await patch(`/customers/${c.id}`, { owner_user_id: owner ? Number(owner) : null });
    toast(t('cu_owner_ok'));
    onClose();
    onDone();
  });
  return (
    <Modal title={t('cu_act_owner')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="owner">
        <Field label={t('cu_owner')} name="owner_user_id" error={s.error}>
          <select name="owner_user_id" value={owner} onChange={(e) => setOwner(e.currentTarget.value)}>
            <OwnerOptions owners={owners} current={c.owner_user_id} />
          </select>
        </Field>
        <FormError error={s.error} fields={['owner_user_id']} />
        <FormButtons onClose={onClose} busy={s.busy}>{t('save')}</FormButtons>
      </form>
    </Modal>
  );
}

function EditProfile({ c, channels, onClose, onDone }) {
  const str = (v) => (v === null || v === undefined ? '' : String(v));
  const [form, setForm] = useState({
    name: str(c.name), phone: str(c.phone), email: str(c.email), gender: c.gender || 'u', birthday: str(c.birthday),
    stage: c.stage, source_channel_id: str(c.source_channel_id),
  });
  const set = (k, v) => setForm((f) => ({ ...f, [k]: v }));
  const s = useSubmit(async () => {
    const body = {};
    for (const k of ['name', 'phone', 'email', 'birthday']) {
      const v = form[k].trim();
      if (v !== str(c[k])) body[k] = v === '' ? null : v;
    }
    if (form.gender !== (c.gender || 'u')) body.gender = form.gender;
    if (form.stage !== c.stage) body.stage = form.stage;
    if (form.source_channel_id !== str(c.source_channel_id)) body.source_channel_id = form.source_channel_id ? Number(form.source_channel_id) : null;
    if (Object.keys(body).length === 0) {
      toast(t('cu_nothing_changed'));
      onClose();
      return;
    }
    await patch(`/customers/${c.id}`, body);
    toast(t('cu_edit_ok'));
    onClose();
    onDone();
  });
  return (
    <Modal title={t('cu_act_edit')} onClose={onClose} wide>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="edit">
        <ProfileFields form={form} set={set} error={s.error} channels={channels} withStage />
        <ExistingLink error={s.error} />
        <FormError error={isExisting(s.error) ? null : s.error} fields={PROFILE_FIELDS} />
        <FormButtons onClose={onClose} busy={s.busy}>{t('save')}</FormButtons>
      </form>
    </Modal>
  );
}

function Merge({ c, onClose, onDone }) {
  const [text, setText] = useState('');
  const [found, setFound] = useState({ loading: false, list: null, error: null });
  const [from, setFrom] = useState(null);
  const seq = useRef(0);
  const base = useRef(newBase());
  useEffect(() => {
    const q = text.trim();
    const n = ++seq.current;
    if (!q) {
      setFound({ loading: false, list: null, error: null });
      return undefined;
    }
    setFound((f) => ({ ...f, loading: true }));
    const h = setTimeout(async () => {
      try {
        // an id (#42 or 42) is looked up as well; a whole mobile number (11
        // digits) is not an id, and asking for it would only answer 404
        const idm = /^#?(\d{1,10})$/.exec(q);
        const byId = idm ? get(`/customers/${idm[1]}`).catch(() => null) : Promise.resolve(null);
        const [page, one] = await Promise.all([get('/customers', { q, limit: 8 }), byId]);
        const list = [];
        for (const x of [one, ...page.data]) if (x && x.id !== c.id && !list.some((y) => y.id === x.id)) list.push(x);
        if (n === seq.current) setFound({ loading: false, list, error: null });
      } catch (e) {
        if (n === seq.current) setFound({ loading: false, list: null, error: e });
      }
    }, 250);
    return () => clearTimeout(h);
  }, [text]);
  const s = useSubmit(async () => {
    const r = await postOnce(base.current, '/customers/merge', { into: c.id, from: from.id });
    toast(t('cu_merged_ok', { id: r.id }));
    onClose();
    if (r.id !== c.id) navigate(`/customers/${r.id}`);
    onDone();
  });
  return (
    <Modal title={t('cu_act_merge')} onClose={onClose} wide>
      {from ? (
        <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="merge" data-confirm-step="merge">
          <p><strong>{t('cu_merge_q', { from: who(from), into: who(c) })}</strong></p>
          <p>{t('cu_merge_what', { from: who(from) })}</p>
          <FormError error={s.error} fields={[]} />
          <div class="form-actions">
            <Button onClick={() => setFrom(null)}>{t('cu_back_step')}</Button>
            <Button type="submit" class="danger" busy={s.busy} data-write data-confirm="yes">{t('cu_merge_do')}</Button>
          </div>
        </form>
      ) : (
        <div data-form="merge-find">
          <p class="muted">{t('cu_merge_hint')}</p>
          <label class="field">
            <span class="field-label">{t('cu_merge_find')}</span>
            <span class="cu-search">
              <input type="search" name="merge_q" value={text} onInput={(e) => setText(e.currentTarget.value)} autocomplete="off" maxLength={100} />
              <span class="cu-search-spin">{found.loading && <Spinner />}</span>
            </span>
          </label>
          <ErrorBox error={found.error} />
          {found.list && (found.list.length === 0 ? <p class="empty">{t('cu_merge_none')}</p> : (
            <ul class="cu-pick">
              {found.list.map((x) => (
                <li key={x.id}>
                  <span>
                    <strong>{who(x)}</strong>
                    <span class="muted"> · {x.phone || '—'} · {t('cu_f_orders')} {num(x.order_count)} · {stageLabel(x.stage)}</span>
                  </span>
                  <Button class="small" data-write data-pick={x.id} onClick={() => setFrom(x)}>{t('cu_merge_pick')}</Button>
                </li>
              ))}
            </ul>
          ))}
          <div class="form-actions"><Button onClick={onClose}>{t('cancel')}</Button></div>
        </div>
      )}
    </Modal>
  );
}

function Erase({ c, onClose }) {
  const [step, setStep] = useState(1);
  const s = useSubmit(async () => {
    await del(`/customers/${c.id}`);
    toast(t('cu_erased'));
    onClose();
    navigate('/customers');
  });
  return (
    <Modal title={t('cu_act_erase')} onClose={onClose}>
      {step === 1 ? (
        <div data-confirm-step="erase-1">
          <p>{t('cu_erase_1', { name: who(c) })}</p>
          <div class="form-actions">
            <Button onClick={onClose}>{t('cancel')}</Button>
            <Button class="danger" data-write data-confirm="first" onClick={() => setStep(2)}>{t('cu_erase_next')}</Button>
          </div>
        </div>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-confirm-step="erase-2">
          <p><strong>{t('cu_erase_2', { name: who(c) })}</strong></p>
          <FormError error={s.error} fields={[]} />
          <div class="form-actions">
            <Button onClick={onClose}>{t('cancel')}</Button>
            <Button type="submit" class="danger" busy={s.busy} data-write data-confirm="yes">{t('cu_erase_do')}</Button>
          </div>
        </form>
      )}
    </Modal>
  );
}

// ---------------------------------------------------------------- the page

// A merged-away profile answers 404 "customer 12 was merged into customer 7".
function Gone({ error, onRetry }) {
  if (!(error instanceof ApiError) || error.status !== 404) return <ErrorBox error={error} onRetry={onRetry} />;
  const m = /merged into customer (\d+)/.exec(error.message || '');
  return (
    <div class="card cu-gone" role="alert" data-testid="customer-gone">
      {m ? (
        <p>{t('cu_merged_into', { id: m[1] })} <a href={`/customers/${m[1]}`} data-kept={m[1]}>{t('cu_open_kept')}</a></p>
      ) : <p>{t('cu_gone')}</p>}
      <p><a href="/customers">{t('cu_back')}</a></p>
    </div>
  );
}

function Profile({ c, owners, channels, tab, query, tick, refresh }) {
  const [open, setOpen] = useState(null);
  const write = canWrite();
  const close = () => setOpen(null);
  const done = (goTab) => {
    if (goTab && goTab !== tab) setQuery({ tab: goTab, cursor: '', page: '' });
    refresh();
  };
  const act = (key, text, cls = '') => (
    <Button class={cls} data-write data-action={key} onClick={() => setOpen(key)}>{t(text)}</Button>
  );
  const tabProps = { id: c.id, query, tick, channels };
  return (
    <>
      <div class="page-head">
        <h1 data-testid="customer-name">{customerName(c)} <span class="muted cu-id">#{c.id}</span></h1>
        <StageBadge stage={c.stage} />
      </div>
      <Card>
        <dl class="kv cu-kv">
          <dt>{t('cu_phone')}</dt><dd data-testid="customer-phone">{c.phone || '—'}</dd>
          <dt>{t('cu_email')}</dt><dd>{c.email || '—'}</dd>
          <dt>{t('cu_gender')}</dt><dd>{t('cu_gender_' + (c.gender || 'u'))}</dd>
          <dt>{t('cu_birthday')}</dt><dd>{c.birthday || '—'}</dd>
          <dt>{t('cu_stage')}</dt><dd>{stageLabel(c.stage)}{c.stage_manual && <span class="muted"> ({t('cu_manual')})</span>}</dd>
          <dt>{t('cu_tier')}</dt><dd>{c.tier || '—'}</dd>
          <dt>{t('cu_owner')}</dt><dd data-testid="customer-owner">{ownerName(owners, c.owner_user_id)}</dd>
          <dt>{t('cu_channel')}</dt><dd>{channelName(channels, c.source_channel_id)}</dd>
          <dt>{t('cu_created_at')}</dt><dd>{when(c.created_at)}</dd>
          <dt>{t('cu_tags')}</dt>
          <dd class="cu-tags" data-testid="customer-tags">
            {c.tags.length === 0 && <span class="muted">{t('cu_no_tags')}</span>}
            {c.tags.map((x) => (
              <span class="tag cu-tag" key={x.id} data-tag={x.name}>
                {x.name}
                {write && (
                  <ConfirmButton class="cu-tag-x" aria-label={t('cu_remove_tag', { name: x.name })} title={t('cu_remove_tag', { name: x.name })}
                    data-write message={t('cu_remove_tag_q', { name: x.name })}
                    onConfirm={async () => { await del(`/customers/${c.id}/tags/${x.id}`); toast(t('cu_tag_removed')); refresh(); }}>×</ConfirmButton>
                )}
              </span>
            ))}
          </dd>
        </dl>
        {write && (
          <div class="cu-actions">
            {act('bind', 'cu_act_bind', 'primary')}
            {act('points', 'cu_act_points')}
            {act('coupon', 'cu_act_coupon')}
            {act('tag', 'cu_act_tag')}
            {act('owner', 'cu_act_owner')}
            {act('edit', 'cu_act_edit')}
            {act('merge', 'cu_act_merge')}
            {act('erase', 'cu_act_erase', 'danger')}
          </div>
        )}
      </Card>
      <div class="stats cu-figures" data-testid="customer-figures">
        <Stat label={t('cu_f_orders')} value={num(c.order_count)} />
        <Stat label={t('cu_f_spent')} value={money(c.total_spent_cents)} />
        <Stat label={t('cu_f_points')} value={<span data-testid="points-balance">{num(c.points_balance)}</span>} />
        <Stat label={t('cu_f_wallet')} value={money(c.wallet_balance_cents)} />
        <Stat label={t('cu_f_first')} value={<span class="cu-date">{when(c.first_order_at)}</span>} />
        <Stat label={t('cu_f_last')} value={<span class="cu-date">{when(c.last_order_at)}</span>} />
      </div>
      <Card>
        <div class="tabs" role="tablist">
          {TABS.map((k) => (
            <button type="button" role="tab" class={tab === k ? 'on' : ''} aria-selected={tab === k ? 'true' : 'false'} data-tab={k}
              onClick={() => setQuery({ tab: k === 'timeline' ? '' : k, cursor: '', page: '' })}>{t('cu_tab_' + k)}</button>
          ))}
        </div>
        <div role="tabpanel" data-tabpanel={tab}>
          {tab === 'timeline' && <TimelineTab {...tabProps} />}
          {tab === 'orders' && <OrdersTab {...tabProps} />}
          {tab === 'points' && <PointsTab {...tabProps} />}
          {tab === 'wallet' && <WalletTab {...tabProps} />}
          {tab === 'coupons' && <CouponsTab {...tabProps} />}
        </div>
      </Card>
      {open === 'bind' && <BindOrder c={c} onClose={close} onDone={done} />}
      {open === 'points' && <Points c={c} onClose={close} onDone={done} />}
      {open === 'coupon' && <IssueCoupon c={c} onClose={close} onDone={done} />}
      {open === 'tag' && <AddTag c={c} onClose={close} onDone={done} />}
      {open === 'owner' && <AssignOwner c={c} owners={owners} onClose={close} onDone={done} />}
      {open === 'edit' && <EditProfile c={c} channels={channels} onClose={close} onDone={done} />}
      {open === 'merge' && <Merge c={c} onClose={close} onDone={done} />}
      {open === 'erase' && <Erase c={c} onClose={close} />}
    </>
  );
}

export default function Customer({ params, query }) {
  const id = params.id;
  const tab = TABS.includes(query.get('tab')) ? query.get('tab') : 'timeline';
  const cust = useAsync(() => get(`/customers/${encodeURIComponent(id)}`), [id]);
  const owners = useOwners();
  const channels = useChannels();
  const [tick, setTick] = useState(0);
  const refresh = () => { cust.reload(); setTick((n) => n + 1); };
  let body;
  if (cust.error) body = <Gone error={cust.error} onRetry={cust.reload} />;
  else if (!cust.data) body = <Loading />;
  else body = <Profile c={cust.data} owners={owners.data} channels={channels.data} tab={tab} query={query} tick={tick} refresh={refresh} />;
  return (
    <div data-page="customer" data-customer-id={id}>
      <p class="cu-back"><a href="/customers">← {t('cu_back')}</a></p>
      {body}
    </div>
  );
}
