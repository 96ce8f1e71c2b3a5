// The member club: the points rules (admin edits, others read), member tiers
// (admin), coupon templates and the points mall (operators). The tab, the
// mall's filters and the page cursors are in the URL.
import { useRef, useState } from 'preact/hooks';
import { ApiError, del, get, patch, put } from '../api.js';
import { addStrings, money, num, t, when } from '../i18n.js';
import { setQuery } from '../router.js';
import {
  Async, Button, Card, ConfirmButton, ErrorBox, Field, FieldGroup, FormError, Modal, Pager, Table, canWrite, isAdmin, toast, useAsync, useSubmit, useUrlPager,
} from '../ui.jsx';
import { localError, newBase, postOnce } from './customers.jsx';
import './loyalty.css';

addStrings({
  zh: {
    ly_title: '会员与积分', ly_tab_points: '积分规则', ly_tab_tiers: '会员等级', ly_tab_coupons: '优惠券模板', ly_tab_rewards: '积分商城',
    ly_points_per_yuan: '每元积分', ly_points_per_yuan_hint: '订单每付 1 元得到的积分，最多两位小数：0.1 即每 10 元 1 分',
    ly_bind_bonus: '绑定奖励', ly_bind_bonus_hint: '通过绑定流程绑定一笔订单时额外奖励的积分',
    ly_review_bonus: '评价奖励', ly_review_bonus_hint: '已绑定订单的第一条评价奖励的积分',
    ly_checkin_schedule: '签到积分', ly_checkin_hint: '连续签到第 N 天得到的积分；最后一天之后或断签后从第 1 天重新开始（1–31 天）',
    ly_day: '第 {n} 天', ly_add_day: '添加一天', ly_remove_day: '删除第 {n} 天',
    ly_expiry_months: '积分有效期（月）', ly_expiry_hint: '积分获得后多少个月过期（当天结束时）；0 为永不过期',
    ly_member_day: '会员日', ly_member_day_hint: '每月的第几天（1–31）；0 关闭会员日',
    ly_member_day_multiplier: '会员日倍数', ly_member_day_multiplier_hint: '会员日绑定的订单积分乘以这个倍数（1–10）',
    ly_points_saved: '积分规则已保存', ly_admin_only: '只有管理员可以修改积分规则。', ly_never: '永不过期', ly_off: '关闭',
    ly_months: '{n} 个月', ly_nth_day: '每月 {n} 日', ly_times: '{n} 倍', ly_per_yuan: '每元 {n} 分',
    ly_err_whole: '请填写 0 或更大的整数', ly_err_number: '请填写数字，最多两位小数', ly_err_yuan: '请填写金额（元），最多两位小数',
    ly_tier_new: '新建等级', ly_tier_edit: '编辑等级', ly_tier_name: '等级名称', ly_tier_basis: '达到条件',
    ly_basis_points: '近 12 个月获得积分', ly_basis_spent: '近 12 个月消费金额', ly_threshold_points: '至少获得积分',
    ly_threshold_spent: '至少消费（元）', ly_discount_pct: '会员折扣（%）', ly_discount_hint: '减免的百分比 0–100，供店铺使用',
    ly_perks: '会员权益', ly_perks_hint: '每行一项，最多 50 项', ly_rank: '排序', ly_rank_hint: '客户取达到的排序最高的等级；留空则排在最高',
    ly_reach_points: '近 12 个月获得 ≥ {n} 积分', ly_reach_spent: '近 12 个月消费 ≥ {n}', ly_no_tiers: '还没有会员等级',
    ly_tier_delete_q: '删除等级“{name}”？持有它的客户会在下次重新计算时落到其他等级。', ly_tier_deleted: '等级已删除',
    ly_tier_hint: '修改等级后，客户在下一次积分或订单变化、或每日任务时调整等级。', ly_pct: '{n}%',
    ly_tpl_new: '新建券模板', ly_tpl_edit: '编辑券模板', ly_tpl_name: '名称', ly_tpl_kind: '类型',
    ly_kind_amount_off: '满减券', ly_kind_percent_off: '折扣券', ly_kind_gift: '礼品券', ly_value_yuan: '减免金额（元）',
    ly_value_pct: '折扣（减免 %）', ly_value_pct_hint: '1–99：20 即减 20%（八折）', ly_min_spend: '最低消费（元）', ly_min_spend_hint: '0 或留空为无门槛',
    ly_valid_days: '有效天数', ly_valid_days_hint: '发放后多少天内有效（当天结束时到期）', ly_valid_until: '截止时间',
    ly_valid_until_hint: '有效天数和截止时间至少填一项；都填时以先到者为准', ly_value: '面额', ly_validity: '有效期',
    ly_status: '状态', ly_active: '启用', ly_inactive: '已停用', ly_switch_off: '停用', ly_switch_on: '启用',
    ly_amount_off: '减 {v}', ly_percent_off: '减 {v}%', ly_gift: '赠品', ly_min: '满 {v}', ly_no_min: '无门槛',
    ly_days_valid: '{n} 天', ly_until: '至 {t}', ly_no_templates: '还没有券模板', ly_tpl_delete_q: '删除券模板“{name}”？',
    ly_tpl_deleted: '券模板已删除', ly_switched_off: '已停用', ly_switched_on: '已启用', ly_terms_fixed: '已发出的券沿用模板的类型、面额和门槛；已发过券的模板只能改名称、有效期和启用状态。',
    ly_rw_new: '新建奖品', ly_rw_edit: '编辑奖品', ly_rw_name: '名称', ly_rw_kind: '类型', ly_rk_gift: '实物礼品', ly_rk_coupon: '兑换优惠券',
    ly_rk_lottery: '抽奖', ly_rk_flash_sale: '限时秒杀', ly_points_cost: '所需积分', ly_stock: '库存', ly_stock_hint: '留空为不限量',
    ly_per_customer_limit: '每人限兑', ly_limit_hint: '0 或留空为不限', ly_starts_at: '开始时间', ly_ends_at: '结束时间',
    ly_window_hint: '留空即立即开始、没有结束；限时秒杀两者都要填', ly_coupon_template: '发放的优惠券', ly_none: '无',
    ly_prizes: '奖项', ly_prizes_hint: '按权重抽取一项；不带券的奖项即“未中奖”', ly_prize_name: '奖项名称', ly_weight: '权重',
    ly_prize_coupon: '奖项的券', ly_add_prize: '添加奖项', ly_remove_prize: '删除这个奖项', ly_prize_nothing: '不发券',
    ly_unlimited: '不限', ly_window: '时间', ly_from: '{t} 起', ly_to: '至 {t}', ly_always: '长期有效', ly_gives: '内容',
    ly_prize_count: '{n} 个奖项', ly_no_rewards: '积分商城还没有奖品', ly_rw_delete_q: '删除奖品“{name}”？已被兑换过的奖品不能删除，只能停用。',
    ly_rw_deleted: '奖品已删除', ly_kind_all: '全部类型', ly_active_all: '全部状态', ly_filter_kind: '类型', ly_filter_active: '状态',
    ly_points_n: '{n} 积分', ly_tpl_missing: '券模板 #{id}',
  },
  en: {
    ly_title: 'Member club', ly_tab_points: 'Points rules', ly_tab_tiers: 'Tiers', ly_tab_coupons: 'Coupon templates', ly_tab_rewards: 'Points mall',
    ly_points_per_yuan: 'Points per yuan', ly_points_per_yuan_hint: 'Points for each yuan an order pays, at most two decimals: 0.1 is a point per ten yuan',
    ly_bind_bonus: 'Binding bonus', ly_bind_bonus_hint: 'Extra points when an order is bound through the binding flow',
    ly_review_bonus: 'Review bonus', ly_review_bonus_hint: 'Points for the first review of a bound order',
    ly_checkin_schedule: 'Check-in points', ly_checkin_hint: 'Points on day N of a check-in streak; after the last day, or a missed one, the streak starts again (1 to 31 days)',
    ly_day: 'Day {n}', ly_add_day: 'Add a day', ly_remove_day: 'Remove day {n}',
    ly_expiry_months: 'Points expire after (months)', ly_expiry_hint: 'Months after they were earned, at the end of that day; 0: never',
    ly_member_day: 'Member day', ly_member_day_hint: 'Day of the month (1 to 31); 0 switches it off',
    ly_member_day_multiplier: 'Member day multiplier', ly_member_day_multiplier_hint: 'Orders bound on the member day earn this many times the points (1 to 10)',
    ly_points_saved: 'Points rules saved', ly_admin_only: 'Only admins change the points rules.', ly_never: 'never', ly_off: 'off',
    ly_months: '{n} months', ly_nth_day: 'day {n} of each month', ly_times: '×{n}', ly_per_yuan: '{n} per yuan',
    ly_err_whole: 'A whole number, 0 or more', ly_err_number: 'A number with at most two decimals', ly_err_yuan: 'An amount in yuan, at most two decimals',
    ly_tier_new: 'New tier', ly_tier_edit: 'Edit tier', ly_tier_name: 'Tier name', ly_tier_basis: 'Reached by',
    ly_basis_points: 'Points earned in 12 months', ly_basis_spent: 'Money spent in 12 months', ly_threshold_points: 'At least (points)',
    ly_threshold_spent: 'At least (yuan)', ly_discount_pct: 'Member discount (%)', ly_discount_hint: 'Percent off, 0 to 100, for the shops to apply',
    ly_perks: 'Perks', ly_perks_hint: 'One a line, 50 at most', ly_rank: 'Rank', ly_rank_hint: 'A customer holds the highest-ranked tier they reach; empty puts it on top',
    ly_reach_points: '≥ {n} points earned in 12 months', ly_reach_spent: '≥ {n} spent in 12 months', ly_no_tiers: 'No tier yet',
    ly_tier_delete_q: 'Delete the tier "{name}"? Its members move to another tier when they are next recomputed.', ly_tier_deleted: 'Tier deleted',
    ly_tier_hint: 'After a change, customers move at their next points or order change, or at the daily pass.', ly_pct: '{n}%',
    ly_tpl_new: 'New coupon template', ly_tpl_edit: 'Edit coupon template', ly_tpl_name: 'Name', ly_tpl_kind: 'Kind',
    ly_kind_amount_off: 'Amount off', ly_kind_percent_off: 'Percent off', ly_kind_gift: 'Gift', ly_value_yuan: 'Amount off (yuan)',
    ly_value_pct: 'Percent off', ly_value_pct_hint: '1 to 99: 20 takes 20% off', ly_min_spend: 'Minimum spend (yuan)', ly_min_spend_hint: '0 or empty: none',
    ly_valid_days: 'Valid for (days)', ly_valid_days_hint: 'Days after it is issued; it expires at the end of that day', ly_valid_until: 'Valid until',
    ly_valid_until_hint: 'Give the days, the end or both (whichever comes first)', ly_value: 'Value', ly_validity: 'Validity',
    ly_status: 'Status', ly_active: 'active', ly_inactive: 'switched off', ly_switch_off: 'Switch off', ly_switch_on: 'Switch on',
    ly_amount_off: '{v} off', ly_percent_off: '{v}% off', ly_gift: 'Gift', ly_min: 'on {v} or more', ly_no_min: 'no minimum',
    ly_days_valid: '{n} days', ly_until: 'until {t}', ly_no_templates: 'No coupon template yet', ly_tpl_delete_q: 'Delete the coupon template "{name}"?',
    ly_tpl_deleted: 'Coupon template deleted', ly_switched_off: 'Switched off', ly_switched_on: 'Switched on', ly_terms_fixed: 'Issued coupons keep their template\'s kind, value and minimum; once a template has issued coupons only its name, validity and status change.',
    ly_rw_new: 'New reward', ly_rw_edit: 'Edit reward', ly_rw_name: 'Name', ly_rw_kind: 'Kind', ly_rk_gift: 'Gift', ly_rk_coupon: 'Coupon',
    ly_rk_lottery: 'Lottery', ly_rk_flash_sale: 'Flash sale', ly_points_cost: 'Points', ly_stock: 'Stock', ly_stock_hint: 'Empty: unlimited',
    ly_per_customer_limit: 'Per customer', ly_limit_hint: '0 or empty: no limit', ly_starts_at: 'Starts', ly_ends_at: 'Ends',
    ly_window_hint: 'Empty: from now, no end; a flash sale needs both', ly_coupon_template: 'Coupon given', ly_none: 'None',
    ly_prizes: 'Prizes', ly_prizes_hint: 'One is drawn by weight; a prize without a coupon is "nothing"', ly_prize_name: 'Prize name', ly_weight: 'Weight',
    ly_prize_coupon: 'Its coupon', ly_add_prize: 'Add a prize', ly_remove_prize: 'Remove this prize', ly_prize_nothing: 'No coupon',
    ly_unlimited: 'unlimited', ly_window: 'When', ly_from: 'from {t}', ly_to: 'until {t}', ly_always: 'always', ly_gives: 'Gives',
    ly_prize_count: '{n} prizes', ly_no_rewards: 'The points mall has no reward yet', ly_rw_delete_q: 'Delete the reward "{name}"? A reward redeemed before cannot be deleted, only switched off.',
    ly_rw_deleted: 'Reward deleted', ly_kind_all: 'All kinds', ly_active_all: 'Any status', ly_filter_kind: 'Kind', ly_filter_active: 'Status',
    ly_points_n: '{n} points', ly_tpl_missing: 'template #{id}',
  },
});

const TABS = ['points', 'tiers', 'coupons', 'rewards'];
const TPL_KINDS = ['amount_off', 'percent_off', 'gift'];
const RW_KINDS = ['gift', 'coupon', 'lottery', 'flash_sale'];

// ------------------------------------------------------------------ values in forms

const str = (v) => (v === null || v === undefined ? '' : String(v));
const yuanText = (cents) => (cents === null || cents === undefined ? '' : cents % 100 === 0 ? String(cents / 100) : (cents / 100).toFixed(2));

// A whole number from a form (empty: def); throws a 422 naming field.
function whole(text, field, def = undefined) {
  const s = String(text).trim();
  if (s === '' && def !== undefined) return def;
  if (!/^\d{1,12}$/.test(s)) throw localError(field, t('ly_err_whole'));
  return Number(s);
}
function cents(text, field, def = undefined) {
  const s = String(text).trim().replace(/[,，¥￥\s]/g, '');
  if (s === '' && def !== undefined) return def;
  if (!/^\d{1,13}(\.\d{1,2})?$/.test(s)) throw localError(field, t('ly_err_yuan'));
  return Math.round(Number(s) * 100);
}

// datetime-local text (the browser's zone) and RFC 3339 UTC.
function toLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocal(text) {
  if (!text) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// An input bound to form state f[k].
const bind = (f, setF, k) => ({ name: k, value: f[k], onInput: (e) => { const v = e.currentTarget.value; setF((x) => ({ ...x, [k]: v })); } });

function FormButtons({ onClose, busy, children }) {
  return (
    <div class="form-actions">
      {onClose && <Button onClick={onClose}>{t('cancel')}</Button>}
      <Button type="submit" class="primary" busy={busy} data-write>{children || t('save')}</Button>
    </div>
  );
}

// ------------------------------------------------------------------ points rules

const RULE_FIELDS = ['points_per_yuan', 'bind_bonus', 'review_bonus', 'checkin_schedule', 'expiry_months', 'member_day', 'member_day_multiplier'];

function PointsTab() {
  const [version, setVersion] = useState(0);
  const st = useAsync(() => get('/settings/points'), [version]);
  return (
    <Async state={st}>{(r) => (isAdmin()
      ? <PointsForm key={JSON.stringify(r)} rules={r} onSaved={() => setVersion((v) => v + 1)} />
      : <PointsView rules={r} />)}</Async>
  );
}

function PointsView({ rules: r }) {
  return (
    <Card>
      <p class="muted">{t('ly_admin_only')}</p>
      <dl class="kv ly-kv" data-testid="points-rules">
        <dt>{t('ly_points_per_yuan')}</dt><dd data-rule="points_per_yuan">{t('ly_per_yuan', { n: num(r.points_per_yuan) })}</dd>
        <dt>{t('ly_bind_bonus')}</dt><dd data-rule="bind_bonus">{num(r.bind_bonus)}</dd>
        <dt>{t('ly_review_bonus')}</dt><dd data-rule="review_bonus">{num(r.review_bonus)}</dd>
        <dt>{t('ly_checkin_schedule')}</dt>
        <dd data-rule="checkin_schedule" class="ly-days">
          {r.checkin_schedule.map((p, i) => <span class="tag">{t('ly_day', { n: i + 1 })}: {num(p)}</span>)}
        </dd>
        <dt>{t('ly_expiry_months')}</dt><dd data-rule="expiry_months">{r.expiry_months ? t('ly_months', { n: r.expiry_months }) : t('ly_never')}</dd>
        <dt>{t('ly_member_day')}</dt><dd data-rule="member_day">{r.member_day ? t('ly_nth_day', { n: r.member_day }) : t('ly_off')}</dd>
        <dt>{t('ly_member_day_multiplier')}</dt><dd data-rule="member_day_multiplier">{t('ly_times', { n: r.member_day_multiplier })}</dd>
      </dl>
    </Card>
  );
}

function PointsForm({ rules, onSaved }) {
  const [f, setF] = useState(() => ({
    points_per_yuan: str(rules.points_per_yuan), bind_bonus: str(rules.bind_bonus), review_bonus: str(rules.review_bonus),
    expiry_months: str(rules.expiry_months), member_day: str(rules.member_day), member_day_multiplier: str(rules.member_day_multiplier),
  }));
  const [days, setDays] = useState(() => rules.checkin_schedule.map(String));
  const s = useSubmit(async () => {
    const ppy = f.points_per_yuan.trim();
    if (!/^\d{1,4}(\.\d{1,2})?$/.test(ppy)) throw localError('points_per_yuan', t('ly_err_number'));
    const body = {
      points_per_yuan: Number(ppy),
      bind_bonus: whole(f.bind_bonus, 'bind_bonus'),
      review_bonus: whole(f.review_bonus, 'review_bonus'),
      checkin_schedule: days.map((d, i) => whole(d, `checkin_schedule[${i}]`)),
      expiry_months: whole(f.expiry_months, 'expiry_months'),
      member_day: whole(f.member_day, 'member_day'),
      member_day_multiplier: whole(f.member_day_multiplier, 'member_day_multiplier'),
    };
    await put('/settings/points', body);
    toast(t('ly_points_saved'));
    onSaved();
  });
  const e = s.error;
  const badDay = e instanceof ApiError && e.field && /^checkin_schedule\[(\d+)\]$/.exec(e.field);
  const numField = (k, hint, mode = 'numeric') => (
    <Field label={t('ly_' + k)} name={k} error={e} hint={hint}>
      <input {...bind(f, setF, k)} inputMode={mode} autocomplete="off" />
    </Field>
  );
  return (
    <Card>
      <form onSubmit={(ev) => { ev.preventDefault(); s.submit(); }} novalidate data-form="points-rules">
        <div class="form-row">
          {numField('points_per_yuan', t('ly_points_per_yuan_hint'), 'decimal')}
          {numField('bind_bonus', t('ly_bind_bonus_hint'))}
          {numField('review_bonus', t('ly_review_bonus_hint'))}
        </div>
        <div class="form-row">
          {numField('expiry_months', t('ly_expiry_hint'))}
          {numField('member_day', t('ly_member_day_hint'))}
          {numField('member_day_multiplier', t('ly_member_day_multiplier_hint'))}
        </div>
        <FieldGroup label={t('ly_checkin_schedule')} name="checkin_schedule" error={e} hint={t('ly_checkin_hint')}>
          <span class="ly-days">
            {days.map((d, i) => (
              <span class={`ly-day ${badDay && Number(badDay[1]) === i ? 'ly-bad' : ''}`}>
                <span class="ly-day-n">{t('ly_day', { n: i + 1 })}</span>
                <input name={`checkin_schedule[${i}]`} aria-label={t('ly_day', { n: i + 1 })} inputMode="numeric" value={d} autocomplete="off"
                  aria-invalid={badDay && Number(badDay[1]) === i ? 'true' : undefined}
                  onInput={(ev) => { const v = ev.currentTarget.value; setDays((x) => x.map((y, k) => (k === i ? v : y))); }} />
                {days.length > 1 && (
                  <button type="button" class="ly-x" aria-label={t('ly_remove_day', { n: i + 1 })} title={t('ly_remove_day', { n: i + 1 })}
                    onClick={(ev) => { ev.preventDefault(); setDays((x) => x.filter((_, k) => k !== i)); }}>×</button>
                )}
              </span>
            ))}
            {days.length < 31 && (
              <button type="button" class="btn small" data-add-day onClick={(ev) => { ev.preventDefault(); setDays((x) => [...x, x.length ? x[x.length - 1] : '5']); }}>
                + {t('ly_add_day')}
              </button>
            )}
          </span>
        </FieldGroup>
        <FormError error={e} fields={RULE_FIELDS} />
        <FormButtons busy={s.busy} />
      </form>
    </Card>
  );
}

// ------------------------------------------------------------------ tiers

function reachText(tr) {
  return tr.basis === 'spent' ? t('ly_reach_spent', { n: money(tr.min_spent_cents_12m) }) : t('ly_reach_points', { n: num(tr.min_points_12m) });
}

function TiersTab() {
  const [version, setVersion] = useState(0);
  const [form, setForm] = useState(null);
  const st = useAsync(() => get('/tiers'), [version]);
  const admin = isAdmin();
  const reload = () => setVersion((v) => v + 1);
  return (
    <Card title={t('ly_tab_tiers')} actions={admin && <Button class="primary" data-write data-action="new-tier" onClick={() => setForm({})}>{t('ly_tier_new')}</Button>}>
      <p class="muted">{t('ly_tier_hint')}</p>
      <Async state={st}>{(d) => (
        <Table rows={d.data} stack empty={t('ly_no_tiers')} columns={[
          { label: t('ly_tier_name'), render: (tr) => <strong>{tr.name}</strong> },
          { label: t('ly_tier_basis'), render: reachText },
          { label: t('ly_discount_pct'), num: true, render: (tr) => t('ly_pct', { n: tr.discount_pct }) },
          { label: t('ly_perks'), render: (tr) => (tr.perks.length ? <span class="ly-chips">{tr.perks.map((p) => <span class="tag">{p}</span>)}</span> : '—') },
          { label: t('ly_rank'), num: true, render: (tr) => num(tr.rank) },
          ...(admin ? [{ label: t('actions'), render: (tr) => (
            <span class="ly-actions">
              <Button class="small" data-write onClick={() => setForm(tr)}>{t('edit')}</Button>
              <ConfirmButton class="small" message={t('ly_tier_delete_q', { name: tr.name })}
                onConfirm={async () => { await del(`/tiers/${tr.id}`); toast(t('ly_tier_deleted')); reload(); }}>{t('delete')}</ConfirmButton>
            </span>
          ) }] : []),
        ]} />
      )}</Async>
      {form && <TierForm tier={form.id ? form : null} onClose={() => setForm(null)} onSaved={() => { setForm(null); reload(); }} />}
    </Card>
  );
}

function TierForm({ tier, onClose, onSaved }) {
  const [f, setF] = useState(() => ({
    name: tier ? tier.name : '',
    basis: tier ? tier.basis : 'points',
    threshold: tier ? (tier.basis === 'spent' ? yuanText(tier.min_spent_cents_12m) : str(tier.min_points_12m)) : '',
    discount_pct: tier ? str(tier.discount_pct) : '0',
    perks: tier ? tier.perks.join('\n') : '',
    rank: tier ? str(tier.rank) : '',
  }));
  const base = useRef(newBase());
  const key = f.basis === 'spent' ? 'min_spent_cents_12m' : 'min_points_12m';
  const s = useSubmit(async () => {
    const body = { name: f.name.trim() };
    const other = f.basis === 'spent' ? 'min_points_12m' : 'min_spent_cents_12m';
    body[key] = f.basis === 'spent' ? cents(f.threshold, key) : whole(f.threshold, key);
    if (tier) body[other] = null;
    body.discount_pct = whole(f.discount_pct, 'discount_pct', 0);
    body.perks = f.perks.split('\n').map((x) => x.trim()).filter(Boolean);
    const rank = f.rank.trim();
    if (rank !== '') {
      if (!/^-?\d{1,9}$/.test(rank)) throw localError('rank', t('ly_err_whole'));
      body.rank = Number(rank);
    }
    if (tier) await patch(`/tiers/${tier.id}`, body);
    else await postOnce(base.current, '/tiers', body);
    toast(t('saved'));
    onSaved();
  });
  return (
    <Modal title={tier ? t('ly_tier_edit') : t('ly_tier_new')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="tier">
        <Field label={t('ly_tier_name')} name="name" error={s.error}><input {...bind(f, setF, 'name')} maxLength={50} autocomplete="off" /></Field>
        <div class="form-row">
          <Field label={t('ly_tier_basis')} name="basis" error={s.error}>
            <select name="basis" value={f.basis} onChange={(e) => { const v = e.currentTarget.value; setF((x) => ({ ...x, basis: v })); }}>
              <option value="points">{t('ly_basis_points')}</option>
              <option value="spent">{t('ly_basis_spent')}</option>
            </select>
          </Field>
          <Field label={t(f.basis === 'spent' ? 'ly_threshold_spent' : 'ly_threshold_points')} name={key} error={s.error}>
            <input {...bind(f, setF, 'threshold')} inputMode={f.basis === 'spent' ? 'decimal' : 'numeric'} autocomplete="off" />
          </Field>
        </div>
        <div class="form-row">
          <Field label={t('ly_discount_pct')} name="discount_pct" error={s.error} hint={t('ly_discount_hint')}>
            <input {...bind(f, setF, 'discount_pct')} inputMode="numeric" autocomplete="off" />
          </Field>
          <Field label={t('ly_rank')} name="rank" error={s.error} hint={t('ly_rank_hint')}>
            <input {...bind(f, setF, 'rank')} inputMode="numeric" autocomplete="off" />
          </Field>
        </div>
        <Field label={t('ly_perks')} name="perks" error={s.error} hint={t('ly_perks_hint')}>
          <textarea {...bind(f, setF, 'perks')} rows={4} />
        </Field>
        <FormError error={s.error} fields={['name', 'basis', key, 'discount_pct', 'rank', 'perks']} />
        <FormButtons onClose={onClose} busy={s.busy} />
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------ coupon templates

function tplValue(x) {
  const v = x.kind === 'amount_off' ? t('ly_amount_off', { v: money(x.value) }) : x.kind === 'percent_off' ? t('ly_percent_off', { v: x.value }) : t('ly_gift');
  return x.min_spend_cents ? `${v} · ${t('ly_min', { v: money(x.min_spend_cents) })}` : v;
}
function tplValidity(x) {
  return [x.valid_days ? t('ly_days_valid', { n: x.valid_days }) : null, x.valid_until ? t('ly_until', { t: when(x.valid_until) }) : null].filter(Boolean).join(' · ') || '—';
}
const ActiveBadge = ({ on }) => <span class={`badge ${on ? 'ok' : ''}`}>{on ? t('ly_active') : t('ly_inactive')}</span>;

// Switch a template or a reward on or off.
function SwitchButton({ path, item, onDone }) {
  const s = useSubmit(async () => {
    await patch(path, { active: !item.active });
    toast(item.active ? t('ly_switched_off') : t('ly_switched_on'));
    onDone();
  });
  return (
    <>
      <Button class="small" busy={s.busy} data-write data-action={item.active ? 'switch-off' : 'switch-on'} onClick={() => s.submit()}>
        {item.active ? t('ly_switch_off') : t('ly_switch_on')}
      </Button>
      {s.error && <ErrorBox error={s.error} />}
    </>
  );
}

function CouponsTab({ query }) {
  const pager = useUrlPager(query, 'coupons');
  const [version, setVersion] = useState(0);
  const [form, setForm] = useState(null);
  const st = useAsync(() => get('/coupon-templates', { limit: 50, cursor: pager.cursor }), [pager.cursor, version]);
  const write = canWrite();
  const reload = () => setVersion((v) => v + 1);
  return (
    <Card title={t('ly_tab_coupons')} actions={write && <Button class="primary" data-write data-action="new-template" onClick={() => setForm({})}>{t('ly_tpl_new')}</Button>}>
      <Async state={st}>{(d) => (
        <>
          <Table rows={d.data} stack empty={t('ly_no_templates')} columns={[
            { label: t('ly_tpl_name'), render: (x) => <strong>{x.name}</strong> },
            { label: t('ly_tpl_kind'), render: (x) => t('ly_kind_' + x.kind) },
            { label: t('ly_value'), render: tplValue },
            { label: t('ly_validity'), render: tplValidity },
            { label: t('ly_status'), render: (x) => <ActiveBadge on={x.active} /> },
            ...(write ? [{ label: t('actions'), render: (x) => (
              <span class="ly-actions">
                <Button class="small" data-write onClick={() => setForm(x)}>{t('edit')}</Button>
                <SwitchButton path={`/coupon-templates/${x.id}`} item={x} onDone={reload} />
                <ConfirmButton class="small" message={t('ly_tpl_delete_q', { name: x.name })}
                  onConfirm={async () => { await del(`/coupon-templates/${x.id}`); toast(t('ly_tpl_deleted')); reload(); }}>{t('delete')}</ConfirmButton>
              </span>
            ) }] : []),
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={st.loading} />
        </>
      )}</Async>
      {form && <TemplateForm tpl={form.id ? form : null} onClose={() => setForm(null)} onSaved={() => { setForm(null); reload(); }} />}
    </Card>
  );
}

function TemplateForm({ tpl, onClose, onSaved }) {
  const [f, setF] = useState(() => ({
    name: tpl ? tpl.name : '', kind: tpl ? tpl.kind : 'amount_off',
    value: tpl ? (tpl.kind === 'amount_off' ? yuanText(tpl.value) : tpl.kind === 'percent_off' ? str(tpl.value) : '') : '',
    min_spend: tpl ? yuanText(tpl.min_spend_cents) : '', valid_days: tpl ? str(tpl.valid_days) : '30',
    valid_until: tpl ? toLocal(tpl.valid_until) : '', active: tpl ? tpl.active : true,
  }));
  const base = useRef(newBase());
  const s = useSubmit(async () => {
    const body = { name: f.name.trim(), kind: f.kind };
    if (f.kind === 'amount_off') body.value = cents(f.value, 'value');
    else if (f.kind === 'percent_off') body.value = whole(f.value, 'value');
    else body.value = 0;
    body.min_spend_cents = cents(f.min_spend, 'min_spend_cents', 0);
    body.valid_days = f.valid_days.trim() === '' ? null : whole(f.valid_days, 'valid_days');
    const until = fromLocal(f.valid_until);
    if (!tpl || until !== (tpl.valid_until || null)) body.valid_until = until;
    body.active = f.active;
    if (tpl) await patch(`/coupon-templates/${tpl.id}`, body);
    else await postOnce(base.current, '/coupon-templates', body);
    toast(t('saved'));
    onSaved();
  });
  const fields = ['name', 'kind', 'value', 'min_spend_cents', 'valid_days', 'valid_until'];
  return (
    <Modal title={tpl ? t('ly_tpl_edit') : t('ly_tpl_new')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="coupon-template">
        <Field label={t('ly_tpl_name')} name="name" error={s.error}><input {...bind(f, setF, 'name')} maxLength={100} autocomplete="off" /></Field>
        <div class="form-row">
          <Field label={t('ly_tpl_kind')} name="kind" error={s.error}>
            <select name="kind" value={f.kind} onChange={(e) => { const v = e.currentTarget.value; setF((x) => ({ ...x, kind: v, value: '' })); }}>
              {TPL_KINDS.map((k) => <option value={k}>{t('ly_kind_' + k)}</option>)}
            </select>
          </Field>
          {f.kind !== 'gift' && (
            <Field label={t(f.kind === 'amount_off' ? 'ly_value_yuan' : 'ly_value_pct')} name="value" error={s.error}
              hint={f.kind === 'percent_off' ? t('ly_value_pct_hint') : undefined}>
              <input {...bind(f, setF, 'value')} inputMode={f.kind === 'amount_off' ? 'decimal' : 'numeric'} autocomplete="off" />
            </Field>
          )}
          <Field label={t('ly_min_spend')} name="min_spend_cents" error={s.error} hint={t('ly_min_spend_hint')}>
            <input {...bind(f, setF, 'min_spend')} inputMode="decimal" autocomplete="off" />
          </Field>
        </div>
        <div class="form-row">
          <Field label={t('ly_valid_days')} name="valid_days" error={s.error} hint={t('ly_valid_days_hint')}>
            <input {...bind(f, setF, 'valid_days')} inputMode="numeric" autocomplete="off" />
          </Field>
          <Field label={t('ly_valid_until')} name="valid_until" error={s.error} hint={t('ly_valid_until_hint')}>
            <input {...bind(f, setF, 'valid_until')} type="datetime-local" />
          </Field>
        </div>
        <label class="ly-check">
          <input type="checkbox" name="active" checked={f.active} onChange={(e) => { const v = e.currentTarget.checked; setF((x) => ({ ...x, active: v })); }} />
          {t('ly_active')}
        </label>
        {tpl && <p class="muted ly-note">{t('ly_terms_fixed')}</p>}
        <FormError error={s.error} fields={fields} />
        <FormButtons onClose={onClose} busy={s.busy} />
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------ the points mall

function useTemplates() {
  return useAsync(() => get('/coupon-templates', { limit: 500 }).then((r) => r.data), []);
}
function tplName(list, id) {
  if (!id) return '—';
  const x = list && list.find((y) => y.id === id);
  return x ? x.name : t('ly_tpl_missing', { id });
}

function rewardGives(r, templates) {
  if (r.kind === 'lottery') return t('ly_prize_count', { n: r.prizes.length });
  if (r.coupon_template_id) return tplName(templates, r.coupon_template_id);
  return r.kind === 'gift' ? t('ly_rk_gift') : '—';
}
function rewardWindow(r) {
  if (!r.starts_at && !r.ends_at) return t('ly_always');
  return [r.starts_at ? t('ly_from', { t: when(r.starts_at) }) : null, r.ends_at ? t('ly_to', { t: when(r.ends_at) }) : null].filter(Boolean).join(' ');
}

function RewardsTab({ query }) {
  const kind = RW_KINDS.includes(query.get('kind')) ? query.get('kind') : '';
  const active = ['true', 'false'].includes(query.get('active')) ? query.get('active') : '';
  const pager = useUrlPager(query, `rewards-${kind}-${active}`);
  const [version, setVersion] = useState(0);
  const [form, setForm] = useState(null);
  const templates = useTemplates();
  const st = useAsync(() => get('/rewards', { limit: 50, cursor: pager.cursor, kind, active }), [pager.cursor, kind, active, version]);
  const write = canWrite();
  const reload = () => { setVersion((v) => v + 1); templates.reload(); };
  const filter = (k, v) => setQuery({ [k]: v, cursor: '', page: '' });
  return (
    <Card title={t('ly_tab_rewards')} actions={write && <Button class="primary" data-write data-action="new-reward" onClick={() => setForm({})}>{t('ly_rw_new')}</Button>}>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label class="field">
          <span class="field-label">{t('ly_filter_kind')}</span>
          <select name="kind" value={kind} onChange={(e) => filter('kind', e.currentTarget.value)}>
            <option value="">{t('ly_kind_all')}</option>
            {RW_KINDS.map((k) => <option value={k}>{t('ly_rk_' + k)}</option>)}
          </select>
        </label>
        <label class="field">
          <span class="field-label">{t('ly_filter_active')}</span>
          <select name="active" value={active} onChange={(e) => filter('active', e.currentTarget.value)}>
            <option value="">{t('ly_active_all')}</option>
            <option value="true">{t('ly_active')}</option>
            <option value="false">{t('ly_inactive')}</option>
          </select>
        </label>
      </form>
      <Async state={st}>{(d) => (
        <>
          <Table rows={d.data} stack empty={t('ly_no_rewards')} columns={[
            { label: t('ly_rw_name'), render: (r) => <strong>{r.name}</strong> },
            { label: t('ly_rw_kind'), render: (r) => t('ly_rk_' + r.kind) },
            { label: t('ly_points_cost'), num: true, render: (r) => num(r.points_cost) },
            { label: t('ly_stock'), num: true, render: (r) => (r.stock === null ? t('ly_unlimited') : num(r.stock)) },
            { label: t('ly_per_customer_limit'), num: true, render: (r) => (r.per_customer_limit ? num(r.per_customer_limit) : t('ly_unlimited')) },
            { label: t('ly_window'), render: rewardWindow },
            { label: t('ly_gives'), render: (r) => rewardGives(r, templates.data) },
            { label: t('ly_status'), render: (r) => <ActiveBadge on={r.active} /> },
            ...(write ? [{ label: t('actions'), render: (r) => (
              <span class="ly-actions">
                <Button class="small" data-write onClick={() => setForm(r)}>{t('edit')}</Button>
                <SwitchButton path={`/rewards/${r.id}`} item={r} onDone={reload} />
                <ConfirmButton class="small" message={t('ly_rw_delete_q', { name: r.name })}
                  onConfirm={async () => { await del(`/rewards/${r.id}`); toast(t('ly_rw_deleted')); reload(); }}>{t('delete')}</ConfirmButton>
              </span>
            ) }] : []),
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={st.loading} />
        </>
      )}</Async>
      {form && <RewardForm reward={form.id ? form : null} templates={templates.data || []}
        onClose={() => setForm(null)} onSaved={() => { setForm(null); reload(); }} />}
    </Card>
  );
}

function TemplateOptions({ list, current, none }) {
  return (
    <>
      <option value="">{none}</option>
      {list.filter((x) => x.active || x.id === current).map((x) => <option value={String(x.id)}>{x.name} · {tplValue(x)}</option>)}
      {current && !list.some((x) => x.id === current) && <option value={String(current)}>{t('ly_tpl_missing', { id: current })}</option>}
    </>
  );
}

function RewardForm({ reward, templates, onClose, onSaved }) {
  const [f, setF] = useState(() => ({
    name: reward ? reward.name : '', kind: reward ? reward.kind : 'gift', points_cost: reward ? str(reward.points_cost) : '',
    stock: reward ? str(reward.stock) : '', per_customer_limit: reward ? str(reward.per_customer_limit || '') : '',
    starts_at: reward ? toLocal(reward.starts_at) : '', ends_at: reward ? toLocal(reward.ends_at) : '',
    coupon_template_id: reward && reward.coupon_template_id ? String(reward.coupon_template_id) : '', active: reward ? reward.active : true,
  }));
  const [prizes, setPrizes] = useState(() => (reward && reward.prizes.length
    ? reward.prizes.map((p) => ({ name: p.name, weight: str(p.weight), coupon_template_id: p.coupon_template_id ? String(p.coupon_template_id) : '' }))
    : [{ name: '', weight: '1', coupon_template_id: '' }]));
  const base = useRef(newBase());
  const lottery = f.kind === 'lottery';
  const withCoupon = f.kind === 'coupon' || f.kind === 'flash_sale';
  const s = useSubmit(async () => {
    const body = { name: f.name.trim(), kind: f.kind, points_cost: whole(f.points_cost, 'points_cost') };
    body.stock = f.stock.trim() === '' ? null : whole(f.stock, 'stock');
    body.per_customer_limit = whole(f.per_customer_limit, 'per_customer_limit', 0);
    body.starts_at = fromLocal(f.starts_at);
    body.ends_at = fromLocal(f.ends_at);
    body.coupon_template_id = withCoupon && f.coupon_template_id ? Number(f.coupon_template_id) : null;
    body.prizes = lottery ? prizes.map((p, i) => ({
      name: p.name.trim(), weight: whole(p.weight, `prizes[${i}].weight`),
      ...(p.coupon_template_id ? { coupon_template_id: Number(p.coupon_template_id) } : {}),
    })) : [];
    body.active = f.active;
    if (reward) await patch(`/rewards/${reward.id}`, body);
    else await postOnce(base.current, '/rewards', body);
    toast(t('saved'));
    onSaved();
  });
  const e = s.error;
  const badPrize = e instanceof ApiError && e.field && /^prizes\[(\d+)\]/.exec(e.field);
  const setPrize = (i, k, v) => setPrizes((x) => x.map((p, j) => (j === i ? { ...p, [k]: v } : p)));
  const fields = ['name', 'kind', 'points_cost', 'stock', 'per_customer_limit', 'starts_at', 'ends_at', 'coupon_template_id', 'prizes'];
  return (
    <Modal title={reward ? t('ly_rw_edit') : t('ly_rw_new')} onClose={onClose} wide>
      <form onSubmit={(ev) => { ev.preventDefault(); s.submit(); }} novalidate data-form="reward">
        <div class="form-row">
          <Field label={t('ly_rw_name')} name="name" error={e}><input {...bind(f, setF, 'name')} maxLength={100} autocomplete="off" /></Field>
          <Field label={t('ly_rw_kind')} name="kind" error={e}>
            <select name="kind" value={f.kind} onChange={(ev) => { const v = ev.currentTarget.value; setF((x) => ({ ...x, kind: v })); }}>
              {RW_KINDS.map((k) => <option value={k}>{t('ly_rk_' + k)}</option>)}
            </select>
          </Field>
        </div>
        <div class="form-row">
          <Field label={t('ly_points_cost')} name="points_cost" error={e}><input {...bind(f, setF, 'points_cost')} inputMode="numeric" autocomplete="off" /></Field>
          <Field label={t('ly_stock')} name="stock" error={e} hint={t('ly_stock_hint')}><input {...bind(f, setF, 'stock')} inputMode="numeric" autocomplete="off" /></Field>
          <Field label={t('ly_per_customer_limit')} name="per_customer_limit" error={e} hint={t('ly_limit_hint')}>
            <input {...bind(f, setF, 'per_customer_limit')} inputMode="numeric" autocomplete="off" />
          </Field>
        </div>
        <div class="form-row">
          <Field label={t('ly_starts_at')} name="starts_at" error={e} hint={t('ly_window_hint')}><input {...bind(f, setF, 'starts_at')} type="datetime-local" /></Field>
          <Field label={t('ly_ends_at')} name="ends_at" error={e}><input {...bind(f, setF, 'ends_at')} type="datetime-local" /></Field>
        </div>
        {withCoupon && (
          <Field label={t('ly_coupon_template')} name="coupon_template_id" error={e}>
            <select name="coupon_template_id" value={f.coupon_template_id} onChange={(ev) => { const v = ev.currentTarget.value; setF((x) => ({ ...x, coupon_template_id: v })); }}>
              <TemplateOptions list={templates} current={reward && reward.coupon_template_id} none={t('ly_none')} />
            </select>
          </Field>
        )}
        {lottery && (
          <FieldGroup label={t('ly_prizes')} name="prizes" error={e} hint={t('ly_prizes_hint')}>
            <span class="ly-prizes">
              {prizes.map((p, i) => (
                <span class={`ly-prize ${badPrize && Number(badPrize[1]) === i ? 'ly-bad' : ''}`} data-prize={i}>
                  <input name={`prizes[${i}].name`} aria-label={t('ly_prize_name')} placeholder={t('ly_prize_name')} value={p.name} maxLength={100}
                    autocomplete="off" onInput={(ev) => setPrize(i, 'name', ev.currentTarget.value)} />
                  <input name={`prizes[${i}].weight`} aria-label={t('ly_weight')} title={t('ly_weight')} class="ly-weight" inputMode="numeric" value={p.weight}
                    autocomplete="off" onInput={(ev) => setPrize(i, 'weight', ev.currentTarget.value)} />
                  <select name={`prizes[${i}].coupon_template_id`} aria-label={t('ly_prize_coupon')} value={p.coupon_template_id}
                    onChange={(ev) => setPrize(i, 'coupon_template_id', ev.currentTarget.value)}>
                    <TemplateOptions list={templates} current={p.coupon_template_id ? Number(p.coupon_template_id) : null} none={t('ly_prize_nothing')} />
                  </select>
                  {prizes.length > 1 && (
                    <button type="button" class="ly-x" aria-label={t('ly_remove_prize')} title={t('ly_remove_prize')}
                      onClick={(ev) => { ev.preventDefault(); setPrizes((x) => x.filter((_, j) => j !== i)); }}>×</button>
                  )}
                </span>
              ))}
              {prizes.length < 50 && (
                <button type="button" class="btn small" onClick={(ev) => { ev.preventDefault(); setPrizes((x) => [...x, { name: '', weight: '1', coupon_template_id: '' }]); }}>
                  + {t('ly_add_prize')}
                </button>
              )}
            </span>
          </FieldGroup>
        )}
        <label class="ly-check">
          <input type="checkbox" name="active" checked={f.active} onChange={(ev) => { const v = ev.currentTarget.checked; setF((x) => ({ ...x, active: v })); }} />
          {t('ly_active')}
        </label>
        <FormError error={e} fields={fields} />
        <FormButtons onClose={onClose} busy={s.busy} />
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------ the page

export default function Loyalty({ query }) {
  const tab = TABS.includes(query.get('tab')) ? query.get('tab') : 'points';
  return (
    <div data-page="loyalty" class="ly-page">
      <div class="page-head"><h1>{t('ly_title')}</h1></div>
      <div class="tabs ly-tabs" role="tablist">
        {TABS.map((k) => (
          <button type="button" role="tab" class={tab === k ? 'on' : ''} aria-selected={tab === k ? 'true' : 'false'} data-tab={k}
            onClick={() => setQuery({ tab: k === 'points' ? '' : k, cursor: '', page: '', kind: '', active: '' })}>{t('ly_tab_' + k)}</button>
        ))}
      </div>
      <div role="tabpanel" data-tabpanel={tab}>
        {tab === 'points' && <PointsTab />}
        {tab === 'tiers' && <TiersTab />}
        {tab === 'coupons' && <CouponsTab query={query} />}
        {tab === 'rewards' && <RewardsTab query={query} />}
      </div>
    </div>
  );
}
