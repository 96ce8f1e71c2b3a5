// Analytics: the growth figures over a range of days, one tab each: repurchase
// by month or quarter, channels compared, the journey funnel, monthly cohorts,
// operators, community groups and KOC ambassadors. Every column header carries
// the one-sentence definition of its figure (the README's "Analytics") as a
// tooltip, so a business reader knows what a number means.
import { get } from '../api.js';
import { addStrings, money, num, pct, t } from '../i18n.js';
import { setQuery } from '../router.js';
import { Async, Card, ChartView, RangePicker, color, useAsync } from '../ui.jsx';
import './analytics.css';

addStrings({
  zh: {
    an_title: '数据分析',
    an_tab_repurchase: '复购', an_tab_channels: '渠道对比', an_tab_funnel: '旅程漏斗', an_tab_cohorts: '同期群',
    an_tab_operators: '运营人员', an_tab_groups: '社群', an_tab_ambassadors: 'KOC 推广',
    an_tabs: '分析维度', an_period: '周期', an_period_month: '按月', an_period_quarter: '按季度',
    an_open_from_month: '未选开始日期时显示最近 12 个月。', an_open_from_quarter: '未选开始日期时显示最近 4 个季度。',
    an_open_from_cohort: '未选开始日期时显示最近 12 个月的同期群。',
    an_repurchase_chart: '购买客户与复购率', an_periods: '各周期明细',
    an_col_period: '周期', an_col_buyers: '购买客户', an_col_returning: '老客', an_col_repurchase_rate: '复购率',
    an_col_repeat_buyers: '期内多次购买', an_col_repeat_rate: '期内复购率', an_col_orders: '订单', an_col_gmv: 'GMV',
    an_col_channel: '渠道', an_col_kind: '类型', an_col_units: '投放量', an_col_cost: '总成本', an_col_acquired: '获客',
    an_col_add_rate: '添加率', an_col_cpc: '获客成本', an_col_converted_1d: '24 小时首单', an_col_first_order_1d_rate: '24 小时首单率',
    an_col_retention_eligible: '满 30 天', an_col_retained_30d: '30 天留存', an_col_retention_30d_rate: '30 天留存率',
    an_col_ltv: 'LTV', an_col_scans: '扫码',
    an_channels_chart: '各渠道获客与 LTV', an_channels_table: '渠道对比', an_no_channel: '无渠道',
    an_ltv_yuan: 'LTV（元）',
    an_funnel_chart: '客户旅程漏斗', an_col_stage: '阶段', an_col_count: '客户数', an_col_share: '占比', an_total: '合计',
    an_stage_added: '已添加', an_stage_observing: '观望', an_stage_interested: '有兴趣', an_stage_converted: '已转化',
    an_stage_sharing: '分享', an_stage_repurchasing: '复购',
    an_cohort_metric: '单元格', an_metric_buyer_rate: '当月购买率', an_metric_repurchase_rate: '累计复购率',
    an_cohort_channel: '渠道', an_all_channels: '全部渠道', an_cohort_heat: '同期群热力表',
    an_col_cohort: '同期群', an_col_customers: '客户数', an_col_cohort_buyers: '购买客户', an_col_month_k: '第 {k} 月',
    an_cell_title: '{month}：{n} / {of}', an_cohort_ltv_chart: '各同期群 LTV',
    an_operators_chart: '各运营人员 GMV', an_operators_table: '运营人员', an_col_operator: '运营人员',
    an_col_new_customers: '新增客户', an_col_gmv_per_customer: '人均 GMV', an_unowned: '未分配',
    an_gmv_yuan: 'GMV（元）', an_gmv_per_customer_yuan: '人均 GMV（元）',
    an_groups_table: '各社群', an_kinds_table: '按类型合计', an_kinds_note: '按类型合计把各群的数字相加，同时在两个群的客户两边都算。',
    an_col_group: '社群', an_col_groups: '群数', an_col_members: '成员', an_col_active: '活跃成员', an_col_interaction_rate: '互动率',
    an_col_converted: '成交成员', an_col_conversion_rate: '成交转化率', an_gkind_basic: '普通群', an_gkind_high_value: '高价值群', an_gkind_koc: 'KOC 群',
    an_ckind_package_card: '包裹卡', an_ckind_sms: '短信', an_ckind_qr: '二维码', an_ckind_live: '直播', an_ckind_other: '其他',
    an_amb_totals: 'KOC 推广合计', an_amb_top: '推广大使排行', an_amb_limit: '显示前', an_col_ambassador: '推广大使',
    an_col_customer: '客户', an_col_level: '等级', an_col_code: '推荐码', an_col_referred_orders: '推荐订单',
    an_col_referred_gmv: '推荐 GMV', an_col_referred_customers: '推荐客户', an_col_gmv_share: 'GMV 占比', an_col_customer_share: '客户占比',
    an_col_amb_orders: '订单', an_col_amb_gmv: 'GMV', an_col_amb_customers: '客户', an_amb_chart: '推广大使 GMV 占比',

    an_d_period: '一个自然月或季度；与所选区间重叠的周期整段计算。',
    an_d_buyers: '该周期内有已支付订单的客户。',
    an_d_returning: '在该周期开始前已下过已支付订单的购买客户。',
    an_d_repurchase_rate: '老客 ÷ 购买客户：该周期购买客户中以前买过的比例。',
    an_d_repeat_buyers: '在该周期内下了两笔或以上已支付订单的购买客户。',
    an_d_repeat_rate: '期内多次购买 ÷ 购买客户：购买客户中期内买了两次及以上的比例。',
    an_d_orders: '该周期内的已支付订单（无论是否绑定客户）。',
    an_d_gmv: '这些已支付订单的金额合计。',
    an_d_channel: '获客渠道；“无渠道”是没有来源渠道的客户。',
    an_d_kind: '渠道类型：包裹卡、短信、二维码、直播或其他。',
    an_d_units: '渠道投放（印制、发送）的总量，与所选区间无关。',
    an_d_cost: '渠道的总成本，与所选区间无关。',
    an_d_acquired: '该渠道在区间内加入的客户。',
    an_d_add_rate: '获客 ÷ 投放量：发出的卡片、短信或码中变成客户的比例（无投放量时为空）。',
    an_d_cpc: '总成本 ÷ 获客，精确到分（无人加入时为空）。',
    an_d_converted_1d: '加入后 24 小时内下了已支付订单的获客客户。',
    an_d_first_order_1d_rate: '24 小时首单 ÷ 获客：加入后一天内下首单的比例。',
    an_d_retention_eligible: '至少在 30 天前加入的获客客户。',
    an_d_retained_30d: '满 30 天的客户中，加入第 30 天及以后仍有行为（已支付订单、签到、在社群发言或参与）的人数。',
    an_d_retention_30d_rate: '30 天留存 ÷ 满 30 天：加入 30 天后仍然活跃的比例。',
    an_d_ch_buyers: '获客客户中任何时候下过已支付订单的人数。',
    an_d_ch_gmv: '获客客户至今支付的全部金额。',
    an_d_ch_ltv: '每位获客客户的 GMV（生命周期价值，精确到分）。',
    an_d_scans: '区间内该渠道活码被扫描的次数。',
    an_d_stage: '客户旅程阶段。',
    an_d_count: '现在处于该阶段的客户；选了区间时只算区间内加入的客户。',
    an_d_share: '该阶段客户数 ÷ 客户总数。',
    an_d_cohort: '在这个自然月加入的客户。',
    an_d_co_customers: '当月加入的客户数。',
    an_d_co_buyers: '其中任何时候下过已支付订单的人数。',
    an_d_co_gmv: '该同期群至今支付的全部金额。',
    an_d_co_ltv: '同期群每位客户的 GMV（生命周期价值，精确到分）。',
    an_d_month_buyer_rate: '加入后第 k 个自然月（0 为加入当月）有已支付订单的同期群客户，占同期群的比例。',
    an_d_month_repurchase_rate: '到该月月底累计下过至少两笔已支付订单的同期群客户，占同期群的比例：复购曲线。',
    an_d_operator: '客户的负责人（owner）；“未分配”是没有负责人的客户。',
    an_d_op_customers: '该运营人员现在负责、且在区间结束前加入的客户。',
    an_d_op_new_customers: '其中在区间内加入的客户。',
    an_d_op_orders: '该运营人员现在负责的客户在区间内的已支付订单。',
    an_d_op_gmv: '这些订单的金额合计。',
    an_d_op_gmv_per_customer: 'GMV ÷ 客户数，精确到分（无客户时为空）。',
    an_d_group: '社群。', an_d_groups: '该类型的群数。',
    an_d_members: '该群现在的成员数。',
    an_d_active: '区间内在群里发言或参与活动的成员。',
    an_d_interaction_rate: '活跃成员 ÷ 成员：互动率。',
    an_d_converted: '区间内有已支付订单的成员。',
    an_d_conversion_rate: '成交成员 ÷ 成员：成交转化率。',
    an_d_amb_orders: '区间内全部已支付订单。',
    an_d_amb_gmv: '这些订单的金额合计。',
    an_d_amb_buyers: '区间内有已支付订单的客户。',
    an_d_referred_orders: '区间内为推广大使带来佣金的已支付订单（带有推广大使的推荐码）。',
    an_d_referred_gmv: '这些推荐订单的金额合计。',
    an_d_referred_customers: '区间内有这类订单的客户。',
    an_d_gmv_share: '推荐 GMV ÷ GMV：推广大使带来的 GMV 占比。',
    an_d_customer_share: '推荐客户 ÷ 购买客户：推广大使带来的购买客户占比。',
    an_d_ambassador: '推广大使编号。', an_d_customer: '作为推广大使的客户。',
    an_d_level: '推广大使等级，随推荐 GMV 自动上升。', an_d_code: '买家下单时携带的推荐码。',
    an_d_one_orders: '区间内带有该推广大使推荐码的已支付订单。',
    an_d_one_gmv: '这些订单的金额合计。',
    an_d_one_customers: '区间内有这类订单的客户。',
    an_d_one_gmv_share: '该推广大使的 GMV 占区间内全部 GMV 的比例。',
  },
  en: {
    an_title: 'Analytics',
    an_tab_repurchase: 'Repurchase', an_tab_channels: 'Channels', an_tab_funnel: 'Funnel', an_tab_cohorts: 'Cohorts',
    an_tab_operators: 'Operators', an_tab_groups: 'Groups', an_tab_ambassadors: 'Ambassadors',
    an_tabs: 'Views', an_period: 'Period', an_period_month: 'Monthly', an_period_quarter: 'Quarterly',
    an_open_from_month: 'Without a start date: the last 12 months.', an_open_from_quarter: 'Without a start date: the last 4 quarters.',
    an_open_from_cohort: 'Without a start date: the cohorts of the last 12 months.',
    an_repurchase_chart: 'Buyers and repurchase', an_periods: 'Periods',
    an_col_period: 'Period', an_col_buyers: 'Buyers', an_col_returning: 'Returning', an_col_repurchase_rate: 'Repurchase rate',
    an_col_repeat_buyers: 'Repeat buyers', an_col_repeat_rate: 'Repeat rate', an_col_orders: 'Orders', an_col_gmv: 'GMV',
    an_col_channel: 'Channel', an_col_kind: 'Kind', an_col_units: 'Units', an_col_cost: 'Cost', an_col_acquired: 'Acquired',
    an_col_add_rate: 'Add rate', an_col_cpc: 'Cost per customer', an_col_converted_1d: 'First order ≤ 1 day', an_col_first_order_1d_rate: '1-day first-order rate',
    an_col_retention_eligible: '30+ days in', an_col_retained_30d: 'Retained 30 d', an_col_retention_30d_rate: '30-day retention',
    an_col_ltv: 'LTV', an_col_scans: 'Scans',
    an_channels_chart: 'Acquired and LTV by channel', an_channels_table: 'Channels compared', an_no_channel: 'No channel',
    an_ltv_yuan: 'LTV (yuan)',
    an_funnel_chart: 'Journey funnel', an_col_stage: 'Stage', an_col_count: 'Customers', an_col_share: 'Share', an_total: 'Total',
    an_stage_added: 'Added', an_stage_observing: 'Observing', an_stage_interested: 'Interested', an_stage_converted: 'Converted',
    an_stage_sharing: 'Sharing', an_stage_repurchasing: 'Repurchasing',
    an_cohort_metric: 'Cells', an_metric_buyer_rate: 'Buyer rate that month', an_metric_repurchase_rate: 'Cumulative repurchase rate',
    an_cohort_channel: 'Channel', an_all_channels: 'All channels', an_cohort_heat: 'Cohort heatmap',
    an_col_cohort: 'Cohort', an_col_customers: 'Customers', an_col_cohort_buyers: 'Buyers', an_col_month_k: 'M{k}',
    an_cell_title: '{month}: {n} of {of}', an_cohort_ltv_chart: 'LTV by cohort',
    an_operators_chart: 'GMV by operator', an_operators_table: 'Operators', an_col_operator: 'Operator',
    an_col_new_customers: 'New customers', an_col_gmv_per_customer: 'GMV per customer', an_unowned: 'Unassigned',
    an_gmv_yuan: 'GMV (yuan)', an_gmv_per_customer_yuan: 'GMV per customer (yuan)',
    an_groups_table: 'Groups', an_kinds_table: 'Totals by kind', an_kinds_note: 'The totals per kind add the groups\' figures up, so a customer in two groups counts in both.',
    an_col_group: 'Group', an_col_groups: 'Groups', an_col_members: 'Members', an_col_active: 'Active members', an_col_interaction_rate: 'Interaction rate',
    an_col_converted: 'Converted members', an_col_conversion_rate: 'Conversion rate', an_gkind_basic: 'Basic', an_gkind_high_value: 'High value', an_gkind_koc: 'KOC',
    an_ckind_package_card: 'Package card', an_ckind_sms: 'SMS', an_ckind_qr: 'QR code', an_ckind_live: 'Live stream', an_ckind_other: 'Other',
    an_amb_totals: 'Ambassadors in total', an_amb_top: 'Top ambassadors', an_amb_limit: 'Show top', an_col_ambassador: 'Ambassador',
    an_col_customer: 'Customer', an_col_level: 'Level', an_col_code: 'Referral code', an_col_referred_orders: 'Referred orders',
    an_col_referred_gmv: 'Referred GMV', an_col_referred_customers: 'Referred customers', an_col_gmv_share: 'GMV share', an_col_customer_share: 'Customer share',
    an_col_amb_orders: 'Orders', an_col_amb_gmv: 'GMV', an_col_amb_customers: 'Customers', an_amb_chart: 'Share of GMV by ambassador',

    an_d_period: 'A calendar month or quarter; each one that overlaps the range is counted whole.',
    an_d_buyers: 'Customers with a paid order in the period.',
    an_d_returning: 'Buyers who had placed a paid order before the period began.',
    an_d_repurchase_rate: 'Returning buyers / buyers: the share of the period\'s buyers who had bought before.',
    an_d_repeat_buyers: 'Buyers who placed two or more paid orders within the period.',
    an_d_repeat_rate: 'Repeat buyers / buyers: the share of buyers with two or more paid orders in the period.',
    an_d_orders: 'Paid orders in the period, bound to a customer or not.',
    an_d_gmv: 'What those paid orders are worth.',
    an_d_channel: 'The acquisition channel; "No channel" holds the customers without one.',
    an_d_kind: 'The kind of channel: package card, SMS, QR code, live stream or other.',
    an_d_units: 'What the channel sent or printed in all (its own total, whatever the range).',
    an_d_cost: 'What the channel cost in all (its own total, whatever the range).',
    an_d_acquired: 'Customers of the channel who joined in the range.',
    an_d_add_rate: 'Acquired / units: the share of cards, texts or codes sent that became a customer (none without units).',
    an_d_cpc: 'Cost / acquired, to the nearest cent (none when nobody joined).',
    an_d_converted_1d: 'Acquired customers who placed a paid order within 24 hours after joining.',
    an_d_first_order_1d_rate: 'First orders within a day / acquired: the share who bought within 24 hours of joining.',
    an_d_retention_eligible: 'Acquired customers who joined at least 30 days before today.',
    an_d_retained_30d: 'Eligible customers who still did something (a paid order, a check-in, or speaking or taking part in a group) on their 30th day after joining or later.',
    an_d_retention_30d_rate: 'Retained / eligible: the share still active 30 days after joining.',
    an_d_ch_buyers: 'Acquired customers who have placed a paid order at any time.',
    an_d_ch_gmv: 'Everything the acquired customers have paid to date.',
    an_d_ch_ltv: 'GMV per acquired customer (lifetime value, to the nearest cent).',
    an_d_scans: 'Scans of the channel\'s live code in the range.',
    an_d_stage: 'The stage of the customer journey.',
    an_d_count: 'Live customers at this stage now; with a range, only those who joined in it.',
    an_d_share: 'The stage\'s customers / all customers counted.',
    an_d_cohort: 'The customers who joined in this calendar month.',
    an_d_co_customers: 'Customers who joined in the month.',
    an_d_co_buyers: 'Of them, those who have placed a paid order at any time.',
    an_d_co_gmv: 'Everything the cohort has paid to date.',
    an_d_co_ltv: 'GMV per customer of the cohort (lifetime value, to the nearest cent).',
    an_d_month_buyer_rate: 'Cohort customers with a paid order in the k-th calendar month after joining (0 is the month they joined), as a share of the cohort.',
    an_d_month_repurchase_rate: 'Cohort customers who by the end of that month had placed at least two paid orders, as a share of the cohort: the repurchase curve.',
    an_d_operator: 'The customers\' owner; "Unassigned" holds the customers nobody owns.',
    an_d_op_customers: 'Customers the operator owns now who joined before the end of the range.',
    an_d_op_new_customers: 'Of those, the ones who joined in the range.',
    an_d_op_orders: 'Paid orders in the range of the customers the operator owns now.',
    an_d_op_gmv: 'What those orders are worth.',
    an_d_op_gmv_per_customer: 'GMV / customers, to the nearest cent (none without customers).',
    an_d_group: 'The community group.', an_d_groups: 'How many groups of this kind.',
    an_d_members: 'The group\'s members now.',
    an_d_active: 'Members who spoke or took part in the group in the range.',
    an_d_interaction_rate: 'Active members / members: the share who interacted.',
    an_d_converted: 'Members with a paid order in the range.',
    an_d_conversion_rate: 'Converted members / members: the share who bought.',
    an_d_amb_orders: 'All paid orders in the range.',
    an_d_amb_gmv: 'What those orders are worth.',
    an_d_amb_buyers: 'Customers with a paid order in the range.',
    an_d_referred_orders: 'Paid orders in the range that earned an ambassador a commission (they carried the ambassador\'s referral code).',
    an_d_referred_gmv: 'What those referred orders are worth.',
    an_d_referred_customers: 'Customers with such an order in the range.',
    an_d_gmv_share: 'Referred GMV / GMV: the share of GMV the ambassadors brought.',
    an_d_customer_share: 'Referred customers / buyers: the share of buyers the ambassadors brought.',
    an_d_ambassador: 'The ambassador\'s number.', an_d_customer: 'The customer who is the ambassador.',
    an_d_level: 'The ambassador\'s level; it rises by itself with referred GMV.', an_d_code: 'The code buyers bring with their orders.',
    an_d_one_orders: 'Paid orders in the range that carried this ambassador\'s code.',
    an_d_one_gmv: 'What those orders are worth.',
    an_d_one_customers: 'Customers with such an order in the range.',
    an_d_one_gmv_share: 'This ambassador\'s GMV as a share of all GMV in the range.',
  },
});

// A table whose column headers explain their figure: {key, label, title, render, num}.
// Used by the growth pages (analytics, channels, groups, ambassadors).
export function DefTable({ columns, rows, rowKey, empty, stack = false, class: cls = '', foot }) {
  if (!rows || rows.length === 0) return <p class="empty">{empty || t('none')}</p>;
  return (
    <div class="table-wrap">
      <table class={`table ${stack ? 'stack' : ''} ${cls}`}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={c.num ? 'num' : ''} title={c.title || undefined}>
                {c.title ? <span class="def">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={rowKey ? rowKey(r, i) : (r.id ?? i)}>
              {columns.map((c) => (
                <td class={c.num ? 'num' : ''} data-label={c.label}>{c.render ? c.render(r) : (r[c.key] ?? '—')}</td>
              ))}
            </tr>
          ))}
        </tbody>
        {foot && (
          <tfoot>
            <tr>{columns.map((c) => <td class={c.num ? 'num' : ''} data-label={c.label}>{c.foot ? c.foot(foot) : ''}</td>)}</tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}

// A figure with its definition as a tooltip.
export function DefStat({ label, value, title, hint }) {
  return (
    <div class="stat" title={title}>
      <div class="stat-label"><span class="def">{label}</span></div>
      <div class="stat-value">{value}</div>
      {hint && <div class="stat-hint">{hint}</div>}
    </div>
  );
}

// A row of chips choosing one value; the choice lives in the URL.
export function Switch({ label, value, options, onChange, name }) {
  return (
    <div class="an-switch" role="group" aria-label={label} data-switch={name}>
      <span class="muted">{label}</span>
      {options.map(([v, text]) => (
        <button type="button" class={`chip ${v === value ? 'on' : ''}`} aria-pressed={v === value ? 'true' : 'false'}
          data-value={v} onClick={() => onChange(v)}>{text}</button>
      ))}
    </div>
  );
}

const TABS = ['repurchase', 'channels', 'funnel', 'cohorts', 'operators', 'groups', 'ambassadors'];
const yuan = (cents) => (cents === null || cents === undefined ? null : cents / 100);
const pctAxis = { min: 0, ticks: { callback: (v) => pct(v) } };
const moneyAxis = { beginAtZero: true, ticks: { callback: (v) => '¥' + num(v) } };

export default function Analytics({ query }) {
  const from = query.get('from') || '';
  const to = query.get('to') || '';
  const q = query.get('tab');
  const tab = TABS.includes(q) ? q : 'repurchase';
  const range = { from, to };
  const Tab = { repurchase: Repurchase, channels: Channels, funnel: Funnel, cohorts: Cohorts, operators: Operators, groups: Groups, ambassadors: Ambassadors }[tab];
  return (
    <div data-page="analytics" data-tab={tab}>
      <div class="page-head">
        <h1>{t('an_title')}</h1>
        <RangePicker from={from} to={to} onChange={(r) => setQuery(r)} />
      </div>
      <div class="tabs" role="tablist" aria-label={t('an_tabs')}>
        {TABS.map((k) => (
          <button type="button" role="tab" id={`an-tab-${k}`} aria-selected={k === tab ? 'true' : 'false'} class={k === tab ? 'on' : ''}
            data-tab={k} onClick={() => setQuery({ tab: k === 'repurchase' ? '' : k })}>{t('an_tab_' + k)}</button>
        ))}
      </div>
      <div role="tabpanel" aria-labelledby={`an-tab-${tab}`}>
        <Tab key={tab} range={range} query={query} />
      </div>
    </div>
  );
}

function Repurchase({ range, query }) {
  const period = query.get('period') === 'quarter' ? 'quarter' : 'month';
  const st = useAsync(() => get('/analytics/repurchase', { period, ...range }), [period, range.from, range.to]);
  return (
    <>
      <Switch name="period" label={t('an_period')} value={period}
        options={[['month', t('an_period_month')], ['quarter', t('an_period_quarter')]]}
        onChange={(v) => setQuery({ period: v === 'month' ? '' : v })} />
      {!range.from && <p class="muted an-note">{t(period === 'month' ? 'an_open_from_month' : 'an_open_from_quarter')}</p>}
      <Async state={st}>{(r) => (
        <>
          <Card title={t('an_repurchase_chart')}>
            <ChartView label={t('an_repurchase_chart')} config={{
              type: 'bar',
              data: {
                labels: r.periods.map((p) => p.period),
                datasets: [
                  { type: 'bar', label: t('an_col_buyers'), data: r.periods.map((p) => p.buyers), backgroundColor: '#c7d2fe', yAxisID: 'y', order: 2 },
                  { type: 'line', label: t('an_col_repurchase_rate'), data: r.periods.map((p) => p.repurchase_rate), borderColor: color(0), backgroundColor: color(0), yAxisID: 'rate', order: 1 },
                  { type: 'line', label: t('an_col_repeat_rate'), data: r.periods.map((p) => p.repeat_rate), borderColor: color(2), backgroundColor: color(2), yAxisID: 'rate', order: 0 },
                ],
              },
              options: {
                interaction: { mode: 'index', intersect: false },
                scales: { y: { position: 'left', beginAtZero: true }, rate: { position: 'right', grid: { drawOnChartArea: false }, ...pctAxis } },
                plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.dataset.yAxisID === 'rate' ? pct(c.raw) : num(c.raw)}` } } },
              },
            }} />
          </Card>
          <Card title={t('an_periods')}>
            <DefTable rowKey={(p) => p.period} rows={r.periods} columns={[
              { label: t('an_col_period'), title: t('an_d_period'), render: (p) => <span title={`${p.from} – ${p.to}`}>{p.period}</span> },
              { label: t('an_col_buyers'), title: t('an_d_buyers'), num: true, render: (p) => num(p.buyers) },
              { label: t('an_col_returning'), title: t('an_d_returning'), num: true, render: (p) => num(p.returning_buyers) },
              { label: t('an_col_repurchase_rate'), title: t('an_d_repurchase_rate'), num: true, render: (p) => pct(p.repurchase_rate) },
              { label: t('an_col_repeat_buyers'), title: t('an_d_repeat_buyers'), num: true, render: (p) => num(p.repeat_buyers) },
              { label: t('an_col_repeat_rate'), title: t('an_d_repeat_rate'), num: true, render: (p) => pct(p.repeat_rate) },
              { label: t('an_col_orders'), title: t('an_d_orders'), num: true, render: (p) => num(p.orders) },
              { label: t('an_col_gmv'), title: t('an_d_gmv'), num: true, render: (p) => money(p.gmv_cents) },
            ]} />
          </Card>
        </>
      )}</Async>
    </>
  );
}

const channelName = (c) => (c.channel_id === null ? t('an_no_channel') : c.name);

function Channels({ range }) {
  const st = useAsync(() => get('/analytics/channels', range), [range.from, range.to]);
  return (
    <Async state={st}>{(r) => (
      <>
        <Card title={t('an_channels_chart')}>
          <ChartView label={t('an_channels_chart')} config={{
            type: 'bar',
            data: {
              labels: r.channels.map(channelName),
              datasets: [
                { label: t('an_col_acquired'), data: r.channels.map((c) => c.acquired), backgroundColor: color(0), yAxisID: 'y' },
                { label: t('an_ltv_yuan'), data: r.channels.map((c) => yuan(c.ltv_cents)), backgroundColor: color(1), yAxisID: 'ltv' },
              ],
            },
            options: {
              interaction: { mode: 'index', intersect: false },
              scales: { y: { position: 'left', beginAtZero: true }, ltv: { position: 'right', grid: { drawOnChartArea: false }, ...moneyAxis } },
              plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.dataset.yAxisID === 'ltv' ? money(c.raw === null ? null : Math.round(c.raw * 100)) : num(c.raw)}` } } },
            },
          }} />
        </Card>
        <Card title={t('an_channels_table')}>
          <DefTable rowKey={(c) => String(c.channel_id)} rows={r.channels} columns={[
            { label: t('an_col_channel'), title: t('an_d_channel'), render: (c) => (c.channel_id === null ? <span class="muted">{t('an_no_channel')}</span> : <a href={`/channels?id=${c.channel_id}`}>{c.name}</a>) },
            { label: t('an_col_kind'), title: t('an_d_kind'), render: (c) => (c.kind ? t('an_ckind_' + c.kind) : '—') },
            { label: t('an_col_acquired'), title: t('an_d_acquired'), num: true, render: (c) => num(c.acquired) },
            { label: t('an_col_units'), title: t('an_d_units'), num: true, render: (c) => num(c.units) },
            { label: t('an_col_add_rate'), title: t('an_d_add_rate'), num: true, render: (c) => pct(c.add_rate) },
            { label: t('an_col_cost'), title: t('an_d_cost'), num: true, render: (c) => money(c.cost_cents) },
            { label: t('an_col_cpc'), title: t('an_d_cpc'), num: true, render: (c) => money(c.cost_per_customer_cents) },
            { label: t('an_col_first_order_1d_rate'), title: t('an_d_first_order_1d_rate'), num: true, render: (c) => <span title={t('an_d_converted_1d') + ' ' + num(c.converted_1d)}>{pct(c.first_order_1d_rate)}</span> },
            { label: t('an_col_retention_30d_rate'), title: t('an_d_retention_30d_rate'), num: true, render: (c) => <span title={`${num(c.retained_30d)} / ${num(c.retention_eligible)}`}>{pct(c.retention_30d_rate)}</span> },
            { label: t('an_col_buyers'), title: t('an_d_ch_buyers'), num: true, render: (c) => num(c.buyers) },
            { label: t('an_col_gmv'), title: t('an_d_ch_gmv'), num: true, render: (c) => money(c.gmv_cents) },
            { label: t('an_col_ltv'), title: t('an_d_ch_ltv'), num: true, render: (c) => money(c.ltv_cents) },
            { label: t('an_col_scans'), title: t('an_d_scans'), num: true, render: (c) => num(c.scans) },
          ]} />
        </Card>
      </>
    )}</Async>
  );
}

function Funnel({ range }) {
  const st = useAsync(() => get('/analytics/funnel', range), [range.from, range.to]);
  return (
    <Async state={st}>{(f) => {
      const total = f.total ?? f.stages.reduce((a, s) => a + s.count, 0);
      return (
        <div class="grid">
          <Card title={t('an_funnel_chart')}>
            <ChartView label={t('an_funnel_chart')} config={{
              type: 'bar',
              data: {
                labels: f.stages.map((s) => t('an_stage_' + s.stage)),
                datasets: [{ label: t('an_col_count'), data: f.stages.map((s) => s.count), backgroundColor: f.stages.map((s, i) => color(i)) }],
              },
              options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
            }} />
          </Card>
          <Card title={t('an_col_count')}>
            <DefTable rowKey={(s) => s.stage} rows={f.stages} foot={{ total }} columns={[
              { label: t('an_col_stage'), title: t('an_d_stage'), render: (s) => t('an_stage_' + s.stage), foot: () => <strong>{t('an_total')}</strong> },
              { label: t('an_col_count'), title: t('an_d_count'), num: true, render: (s) => num(s.count), foot: (x) => <strong>{num(x.total)}</strong> },
              { label: t('an_col_share'), title: t('an_d_share'), num: true, render: (s) => pct(total ? s.count / total : null) },
            ]} />
          </Card>
        </div>
      );
    }}</Async>
  );
}

// A cell of the heatmap: the rate, its background shaded by the value.
function heatStyle(v, max) {
  if (v === null || v === undefined || !max) return undefined;
  const a = 0.08 + 0.82 * Math.min(1, v / max);
  return { background: `rgba(37, 99, 235, ${a.toFixed(3)})`, color: a > 0.5 ? '#fff' : 'var(--text)' };
}

function Cohorts({ range, query }) {
  const metric = query.get('metric') === 'repurchase_rate' ? 'repurchase_rate' : 'buyer_rate';
  const channel = query.get('channel') || '';
  const channels = useAsync(() => get('/channels', { limit: 500 }), []);
  const st = useAsync(() => get('/analytics/cohorts', { ...range, channel_id: channel }), [range.from, range.to, channel]);
  const countKey = metric === 'buyer_rate' ? 'buyers' : 'repurchased';
  return (
    <>
      <div class="filters">
        <Switch name="metric" label={t('an_cohort_metric')} value={metric}
          options={[['buyer_rate', t('an_metric_buyer_rate')], ['repurchase_rate', t('an_metric_repurchase_rate')]]}
          onChange={(v) => setQuery({ metric: v === 'buyer_rate' ? '' : v })} />
        <label class="inline">
          <span>{t('an_cohort_channel')}</span>
          <select name="channel" value={channel} onChange={(e) => setQuery({ channel: e.currentTarget.value })}>
            <option value="">{t('an_all_channels')}</option>
            <option value="0">{t('an_no_channel')}</option>
            {(channels.data ? channels.data.data : []).map((c) => <option value={String(c.id)}>{c.name}</option>)}
            {channel && channel !== '0' && channels.data && !channels.data.data.some((c) => String(c.id) === channel) && <option value={channel}>#{channel}</option>}
          </select>
        </label>
      </div>
      {!range.from && <p class="muted an-note">{t('an_open_from_cohort')}</p>}
      <Async state={st}>{(r) => {
        const n = r.cohorts.reduce((m, c) => Math.max(m, c.months.length), 0);
        let max = 0;
        for (const c of r.cohorts) for (const m of c.months) if (m[metric] !== null && m[metric] > max) max = m[metric];
        const offsets = Array.from({ length: n }, (_, k) => k);
        const defMonth = t(metric === 'buyer_rate' ? 'an_d_month_buyer_rate' : 'an_d_month_repurchase_rate');
        return (
          <>
            <Card title={t('an_cohort_heat')}>
              {r.cohorts.length === 0 ? <p class="empty">{t('none')}</p> : (
                <div class="table-wrap">
                  <table class="table heat" data-metric={metric}>
                    <thead>
                      <tr>
                        <th scope="col" title={t('an_d_cohort')}><span class="def">{t('an_col_cohort')}</span></th>
                        <th scope="col" class="num" title={t('an_d_co_customers')}><span class="def">{t('an_col_customers')}</span></th>
                        <th scope="col" class="num" title={t('an_d_co_buyers')}><span class="def">{t('an_col_cohort_buyers')}</span></th>
                        <th scope="col" class="num" title={t('an_d_co_ltv')}><span class="def">{t('an_col_ltv')}</span></th>
                        {offsets.map((k) => <th scope="col" class="num" title={defMonth}><span class="def">{t('an_col_month_k', { k })}</span></th>)}
                      </tr>
                    </thead>
                    <tbody>
                      {r.cohorts.map((c) => (
                        <tr key={c.cohort}>
                          <th scope="row" title={`${c.from} – ${c.to}`}>{c.cohort}</th>
                          <td class="num" data-label={t('an_col_customers')}>{num(c.customers)}</td>
                          <td class="num" data-label={t('an_col_cohort_buyers')}>{num(c.buyers)}</td>
                          <td class="num" data-label={t('an_col_ltv')} title={t('an_d_co_gmv') + ' ' + money(c.gmv_cents)}>{money(c.ltv_cents)}</td>
                          {offsets.map((k) => {
                            const m = c.months[k];
                            if (!m) return <td class="cell" />;
                            return (
                              <td class="cell" style={heatStyle(m[metric], max)} data-offset={k}
                                title={t('an_cell_title', { month: m.month, n: num(m[countKey]), of: num(c.customers) })}>{pct(m[metric])}</td>
                            );
                          })}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </Card>
            {r.cohorts.length > 0 && (
              <Card title={t('an_cohort_ltv_chart')}>
                <ChartView label={t('an_cohort_ltv_chart')} height={220} config={{
                  type: 'bar',
                  data: {
                    labels: r.cohorts.map((c) => c.cohort),
                    datasets: [{ label: t('an_ltv_yuan'), data: r.cohorts.map((c) => yuan(c.ltv_cents)), backgroundColor: color(1) }],
                  },
                  options: { plugins: { legend: { display: false } }, scales: { y: moneyAxis } },
                }} />
              </Card>
            )}
          </>
        );
      }}</Async>
    </>
  );
}

const operatorName = (o) => (o.user_id === null ? t('an_unowned') : (o.display_name || o.username || `#${o.user_id}`));

function Operators({ range }) {
  const st = useAsync(() => get('/analytics/operators', range), [range.from, range.to]);
  return (
    <Async state={st}>{(r) => (
      <>
        <Card title={t('an_operators_chart')}>
          <ChartView label={t('an_operators_chart')} config={{
            type: 'bar',
            data: {
              labels: r.operators.map(operatorName),
              datasets: [
                { label: t('an_gmv_yuan'), data: r.operators.map((o) => yuan(o.gmv_cents)), backgroundColor: color(0), yAxisID: 'y' },
                { label: t('an_gmv_per_customer_yuan'), data: r.operators.map((o) => yuan(o.gmv_per_customer_cents)), backgroundColor: color(2), yAxisID: 'per' },
              ],
            },
            options: {
              interaction: { mode: 'index', intersect: false },
              scales: { y: { position: 'left', ...moneyAxis }, per: { position: 'right', grid: { drawOnChartArea: false }, ...moneyAxis } },
              plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.raw === null ? null : Math.round(c.raw * 100))}` } } },
            },
          }} />
        </Card>
        <Card title={t('an_operators_table')}>
          <DefTable rowKey={(o) => String(o.user_id)} rows={r.operators} columns={[
            { label: t('an_col_operator'), title: t('an_d_operator'), render: (o) => (o.user_id === null ? <span class="muted">{operatorName(o)}</span> : operatorName(o)) },
            { label: t('an_col_customers'), title: t('an_d_op_customers'), num: true, render: (o) => num(o.customers) },
            { label: t('an_col_new_customers'), title: t('an_d_op_new_customers'), num: true, render: (o) => num(o.new_customers) },
            { label: t('an_col_orders'), title: t('an_d_op_orders'), num: true, render: (o) => num(o.orders) },
            { label: t('an_col_gmv'), title: t('an_d_op_gmv'), num: true, render: (o) => money(o.gmv_cents) },
            { label: t('an_col_gmv_per_customer'), title: t('an_d_op_gmv_per_customer'), num: true, render: (o) => money(o.gmv_per_customer_cents) },
          ]} />
        </Card>
      </>
    )}</Async>
  );
}

// The group columns, shared by the analytics tab and the group page.
export function groupFigureColumns() {
  return [
    { label: t('an_col_members'), title: t('an_d_members'), num: true, render: (g) => num(g.members) },
    { label: t('an_col_active'), title: t('an_d_active'), num: true, render: (g) => num(g.active_members) },
    { label: t('an_col_interaction_rate'), title: t('an_d_interaction_rate'), num: true, render: (g) => pct(g.interaction_rate) },
    { label: t('an_col_converted'), title: t('an_d_converted'), num: true, render: (g) => num(g.converted_members) },
    { label: t('an_col_conversion_rate'), title: t('an_d_conversion_rate'), num: true, render: (g) => pct(g.conversion_rate) },
  ];
}

function Groups({ range }) {
  const st = useAsync(() => get('/analytics/groups', range), [range.from, range.to]);
  return (
    <Async state={st}>{(r) => (
      <>
        <Card title={t('an_groups_table')}>
          <DefTable rowKey={(g) => g.group_id} rows={r.groups} columns={[
            { label: t('an_col_group'), title: t('an_d_group'), render: (g) => <a href={`/groups?id=${g.group_id}`}>{g.name}</a> },
            { label: t('an_col_kind'), render: (g) => t('an_gkind_' + g.kind) },
            ...groupFigureColumns(),
          ]} />
        </Card>
        <Card title={t('an_kinds_table')}>
          <p class="muted an-note">{t('an_kinds_note')}</p>
          <DefTable rowKey={(k) => k.kind} rows={r.kinds} columns={[
            { label: t('an_col_kind'), render: (k) => t('an_gkind_' + k.kind) },
            { label: t('an_col_groups'), title: t('an_d_groups'), num: true, render: (k) => num(k.groups) },
            ...groupFigureColumns(),
          ]} />
        </Card>
      </>
    )}</Async>
  );
}

const LIMITS = ['10', '20', '50', '100', '500'];

function Ambassadors({ range, query }) {
  const limit = LIMITS.includes(query.get('limit')) ? query.get('limit') : '50';
  const st = useAsync(() => get('/analytics/ambassadors', { ...range, limit }), [range.from, range.to, limit]);
  return (
    <Async state={st}>{(r) => (
      <>
        <div class="stats" data-testid="ambassador-totals">
          <DefStat label={t('an_col_gmv_share')} title={t('an_d_gmv_share')} value={pct(r.gmv_share)} hint={`${money(r.referred_gmv_cents)} / ${money(r.gmv_cents)}`} />
          <DefStat label={t('an_col_customer_share')} title={t('an_d_customer_share')} value={pct(r.customer_share)} hint={`${num(r.referred_customers)} / ${num(r.buyers)}`} />
          <DefStat label={t('an_col_referred_orders')} title={t('an_d_referred_orders')} value={num(r.referred_orders)} />
          <DefStat label={t('an_col_referred_gmv')} title={t('an_d_referred_gmv')} value={money(r.referred_gmv_cents)} />
          <DefStat label={t('an_col_referred_customers')} title={t('an_d_referred_customers')} value={num(r.referred_customers)} />
          <DefStat label={t('an_col_orders')} title={t('an_d_amb_orders')} value={num(r.orders)} />
          <DefStat label={t('an_col_gmv')} title={t('an_d_amb_gmv')} value={money(r.gmv_cents)} />
          <DefStat label={t('an_col_buyers')} title={t('an_d_amb_buyers')} value={num(r.buyers)} />
        </div>
        <Card title={t('an_amb_top')} actions={
          <label class="inline">
            <span>{t('an_amb_limit')}</span>
            <select name="limit" value={limit} onChange={(e) => setQuery({ limit: e.currentTarget.value === '50' ? '' : e.currentTarget.value })}>
              {LIMITS.map((l) => <option value={l}>{l}</option>)}
            </select>
          </label>
        }>
          {r.ambassadors.length > 0 && (
            <ChartView label={t('an_amb_chart')} height={Math.max(160, Math.min(r.ambassadors.length, 20) * 26 + 40)} config={{
              type: 'bar',
              data: {
                labels: r.ambassadors.slice(0, 20).map((a) => a.referral_code),
                datasets: [{ label: t('an_col_gmv_share'), data: r.ambassadors.slice(0, 20).map((a) => a.gmv_share), backgroundColor: color(4) }],
              },
              options: {
                indexAxis: 'y',
                plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${pct(c.raw)}` } } },
                scales: { x: pctAxis },
              },
            }} />
          )}
          <DefTable rowKey={(a) => a.ambassador_id} rows={r.ambassadors} columns={[
            { label: t('an_col_ambassador'), title: t('an_d_ambassador'), render: (a) => <a href={`/ambassadors?id=${a.ambassador_id}`}>#{a.ambassador_id}</a> },
            { label: t('an_col_customer'), title: t('an_d_customer'), render: (a) => <a href={`/customers/${a.customer_id}`}>#{a.customer_id}</a> },
            { label: t('an_col_level'), title: t('an_d_level'), num: true, render: (a) => num(a.level) },
            { label: t('an_col_code'), title: t('an_d_code'), render: (a) => <code>{a.referral_code}</code> },
            { label: t('an_col_amb_orders'), title: t('an_d_one_orders'), num: true, render: (a) => num(a.orders) },
            { label: t('an_col_amb_gmv'), title: t('an_d_one_gmv'), num: true, render: (a) => money(a.gmv_cents) },
            { label: t('an_col_amb_customers'), title: t('an_d_one_customers'), num: true, render: (a) => num(a.customers) },
            { label: t('an_col_gmv_share'), title: t('an_d_one_gmv_share'), num: true, render: (a) => pct(a.gmv_share) },
          ]} />
        </Card>
      </>
    )}</Async>
  );
}
