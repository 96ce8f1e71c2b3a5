// The overview: the key figures of a range, the repurchase trend, where
// customers come from and the journey funnel.
import { get } from '../api.js';
import { addStrings, money, num, pct, t } from '../i18n.js';
import { setQuery } from '../router.js';
import { Async, Card, ChartView, RangePicker, Stat, color, daysAgo, useAsync } from '../ui.jsx';

addStrings({
  zh: {
    ov_title: '概览', ov_customers: '客户总数', ov_new_customers: '新增客户', ov_orders: '订单', ov_gmv: 'GMV',
    ov_bound_rate: '订单绑定率', ov_buyers: '购买客户', ov_repurchase_rate: '复购率', ov_points: '积分余额',
    ov_new_buyers: '首购客户 {n}', ov_bound: '已绑定 {n}', ov_returning: '老客 {n}', ov_issued: '发放 {a} / 使用 {b}',
    ov_trend: '复购趋势（按月）', ov_channels: '渠道获客', ov_funnel: '客户旅程漏斗', ov_acquired: '获客',
    ov_repeat_rate: '期内复购率', ov_stage_added: '已添加', ov_stage_observing: '观望', ov_stage_interested: '有兴趣',
    ov_stage_converted: '已转化', ov_stage_sharing: '分享', ov_stage_repurchasing: '复购', ov_no_channel: '无渠道',
  },
  en: {
    ov_title: 'Overview', ov_customers: 'Customers', ov_new_customers: 'New customers', ov_orders: 'Orders', ov_gmv: 'GMV',
    ov_bound_rate: 'Bound-order rate', ov_buyers: 'Buyers', ov_repurchase_rate: 'Repurchase rate', ov_points: 'Points outstanding',
    ov_new_buyers: '{n} first-time', ov_bound: '{n} bound', ov_returning: '{n} returning', ov_issued: '{a} issued / {b} used',
    ov_trend: 'Repurchase by month', ov_channels: 'Customers by channel', ov_funnel: 'Journey funnel', ov_acquired: 'Acquired',
    ov_repeat_rate: 'In-period repeat rate', ov_stage_added: 'Added', ov_stage_observing: 'Observing',
    ov_stage_interested: 'Interested', ov_stage_converted: 'Converted', ov_stage_sharing: 'Sharing',
    ov_stage_repurchasing: 'Repurchasing', ov_no_channel: 'No channel',
  },
});

const pctAxis = { ticks: { callback: (v) => `${Math.round(v * 100)}%` }, min: 0 };

// The overview opens on the last 30 days: over all time nobody "bought before".
export default function Overview({ query }) {
  const from = query.get('from') || daysAgo(30);
  const to = query.get('to') || '';
  const range = { from, to };
  const overview = useAsync(() => get('/analytics/overview', range), [from, to]);
  // the trend: the 12 months up to the end of the range
  const repurchase = useAsync(() => get('/analytics/repurchase', { period: 'month', to }), [to]);
  const channels = useAsync(() => get('/analytics/channels', range), [from, to]);
  const funnel = useAsync(() => get('/analytics/funnel', range), [from, to]);
  return (
    <div data-page="overview">
      <div class="page-head">
        <h1>{t('ov_title')}</h1>
        <RangePicker from={from} to={to} allowAll={false} onChange={(r) => setQuery(r)} />
      </div>
      <Async state={overview}>{(o) => (
        <div class="stats" data-testid="overview-stats">
          <Stat label={t('ov_customers')} value={num(o.customers)} hint={`+${num(o.new_customers)}`} />
          <Stat label={t('ov_orders')} value={num(o.orders)} hint={t('ov_bound', { n: num(o.bound_orders) })} />
          <Stat label={t('ov_gmv')} value={money(o.gmv_cents)} />
          <Stat label={t('ov_bound_rate')} value={pct(o.bound_order_rate)} />
          <Stat label={t('ov_buyers')} value={num(o.buyers)} hint={t('ov_new_buyers', { n: num(o.new_buyers) })} />
          <Stat label={t('ov_repurchase_rate')} value={pct(o.repurchase_rate)} hint={t('ov_returning', { n: num(o.returning_buyers) })} />
          <Stat label={t('ov_points')} value={num(o.points_outstanding)} hint={t('ov_issued', { a: num(o.points_issued), b: num(o.points_used) })} />
        </div>
      )}</Async>
      <div class="grid">
        <Card title={t('ov_trend')}>
          <Async state={repurchase}>{(r) => (
            <ChartView label={t('ov_trend')} config={{
              type: 'bar',
              data: {
                labels: r.periods.map((p) => p.period),
                datasets: [
                  { type: 'bar', label: t('ov_buyers'), data: r.periods.map((p) => p.buyers), backgroundColor: '#c7d2fe', yAxisID: 'y' },
                  { type: 'line', label: t('ov_repurchase_rate'), data: r.periods.map((p) => p.repurchase_rate), borderColor: color(0), backgroundColor: color(0), yAxisID: 'rate' },
                  { type: 'line', label: t('ov_repeat_rate'), data: r.periods.map((p) => p.repeat_rate), borderColor: color(2), backgroundColor: color(2), yAxisID: 'rate' },
                ],
              },
              options: { scales: { y: { position: 'left', beginAtZero: true }, rate: { position: 'right', grid: { drawOnChartArea: false }, ...pctAxis } } },
            }} />
          )}</Async>
        </Card>
        <Card title={t('ov_channels')}>
          <Async state={channels}>{(c) => (
            <ChartView label={t('ov_channels')} config={{
              type: 'bar',
              data: {
                labels: c.channels.map((x) => x.name || t('ov_no_channel')),
                datasets: [{ label: t('ov_acquired'), data: c.channels.map((x) => x.acquired), backgroundColor: c.channels.map((x, i) => color(i)) }],
              },
              options: { indexAxis: 'y', plugins: { legend: { display: false } } },
            }} />
          )}</Async>
        </Card>
        <Card title={t('ov_funnel')}>
          <Async state={funnel}>{(f) => (
            <ChartView label={t('ov_funnel')} config={{
              type: 'bar',
              data: {
                labels: f.stages.map((s) => t('ov_stage_' + s.stage)),
                datasets: [{ label: t('ov_customers'), data: f.stages.map((s) => s.count), backgroundColor: f.stages.map((s, i) => color(i)) }],
              },
              options: { plugins: { legend: { display: false } } },
            }} />
          )}</Async>
        </Card>
      </div>
    </div>
  );
}
