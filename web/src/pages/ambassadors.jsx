// KOC ambassadors: customers who bring others with a referral code and earn a
// share of the orders that carry it. The list with their figures; an
// ambassador's page (?id= in the URL) with the commission ledger and the
// customers the code brought. Writers enrol customers and edit ambassadors.
import { useState } from 'preact/hooks';
import { ApiError, get, patch, post } from '../api.js';
import { addStrings, money, num, t, when } from '../i18n.js';
import { navigate } from '../router.js';
import { Async, Button, Card, Field, FormError, Modal, Pager, canWrite, toast, useAsync, useSubmit, useUrlPager } from '../ui.jsx';
import { DefStat, DefTable } from './analytics.jsx';

addStrings({
  zh: {
    am_title: 'KOC 推广大使', am_enrol: '招募推广大使', am_edit: '编辑推广大使', am_ambassador: '推广大使', am_customer: '客户',
    am_customer_id: '客户 ID', am_level: '等级', am_code: '推荐码', am_code_hint: '留空则自动生成 8 位推荐码', am_code_edit_hint: '只有在还没有订单产生佣金时才能修改',
    am_pct: '佣金比例（%）', am_pct_short: '佣金比例', am_orders: '推荐订单', am_gmv: '推荐 GMV', am_customers: '推荐客户',
    am_pending: '待结算佣金', am_settled: '已结算佣金', am_enrolled: '招募时间', am_back: '返回推广大使列表',
    am_ledger: '佣金明细', am_brought: '带来的客户', am_total: '共 {n} 条', am_total_customers: '共 {n} 人',
    am_entry_id: '编号', am_order: '订单', am_kind: '类型', am_amount: '佣金', am_order_cents: '订单金额', am_status: '状态',
    am_settle_at: '结算时间', am_created: '记录时间', am_kind_earn: '收入', am_kind_reversal: '冲回',
    am_status_pending: '待结算', am_status_settled: '已结算', am_status_reversed: '已冲销',
    am_c_orders: '订单数', am_c_gmv: '金额', am_name: '姓名', am_erased: '（已删除）', am_enrolled_ok: '已招募为推广大使',
    am_bad_int: '请输入整数', am_bad_pct: '请输入 0 到 100 的整数', am_bad_level: '请输入 1 到 10 的整数',
    am_d_level: '随推荐 GMV 自动上升，从不自动下降；也可以手动设置。',
    am_d_code: '买家下单时携带的推荐码。',
    am_d_pct: '每笔推荐订单金额中推广大使获得的百分比。',
    am_d_orders: '带有推荐码、已产生佣金且之后没有退款或取消的已支付订单。',
    am_d_gmv: '这些订单产生佣金时的金额合计，等级按它计算。',
    am_d_customers: '推荐订单绑定到的不同客户数。',
    am_d_pending: '仍在退货期内的佣金，退款或取消还会扣回。',
    am_d_settled: '已过退货期、确定属于推广大使的佣金，扣除之后的冲回。',
  },
  en: {
    am_title: 'KOC ambassadors', am_enrol: 'Enrol an ambassador', am_edit: 'Edit ambassador', am_ambassador: 'Ambassador', am_customer: 'Customer',
    am_customer_id: 'Customer id', am_level: 'Level', am_code: 'Referral code', am_code_hint: 'Left empty: an 8-character code is generated', am_code_edit_hint: 'Can change only while no order has earned commission',
    am_pct: 'Commission (%)', am_pct_short: 'Commission', am_orders: 'Referred orders', am_gmv: 'Referred GMV', am_customers: 'Referred customers',
    am_pending: 'Commission pending', am_settled: 'Commission settled', am_enrolled: 'Enrolled', am_back: 'Back to the ambassadors',
    am_ledger: 'Commission ledger', am_brought: 'Customers brought', am_total: '{n} entries', am_total_customers: '{n} customers',
    am_entry_id: 'No.', am_order: 'Order', am_kind: 'Kind', am_amount: 'Commission', am_order_cents: 'Order amount', am_status: 'Status',
    am_settle_at: 'Settles', am_created: 'Recorded', am_kind_earn: 'earning', am_kind_reversal: 'reversal',
    am_status_pending: 'pending', am_status_settled: 'settled', am_status_reversed: 'reversed',
    am_c_orders: 'Orders', am_c_gmv: 'Amount', am_name: 'Name', am_erased: '(erased)', am_enrolled_ok: 'Enrolled as an ambassador',
    am_bad_int: 'Enter a whole number', am_bad_pct: 'Enter a whole number from 0 to 100', am_bad_level: 'Enter a whole number from 1 to 10',
    am_d_level: 'Rises by itself with referred GMV and never falls by itself; can also be set by hand.',
    am_d_code: 'The code buyers bring with their orders.',
    am_d_pct: 'The whole percent of each referred order\'s amount that the ambassador earns.',
    am_d_orders: 'Paid orders carrying the code that have earned commission and not been refunded or cancelled since.',
    am_d_gmv: 'What those orders were worth when they earned: the figure the level is reckoned on.',
    am_d_customers: 'Different customers bound to the referred orders.',
    am_d_pending: 'Commission still inside the return window, which a refund or cancellation would take back.',
    am_d_settled: 'Commission that is the ambassador\'s for good: earnings past the return window, less later reversals.',
  },
});

export default function Ambassadors({ query }) {
  const [form, setForm] = useState(null);
  const [version, setVersion] = useState(0); // bumped by every write
  const id = query.get('id') || '';
  const write = canWrite();
  return (
    <div data-page="ambassadors">
      <div class="page-head">
        <h1>{t('am_title')}</h1>
        {write && <Button class="primary" data-write onClick={() => setForm({})}>{t('am_enrol')}</Button>}
      </div>
      {id ? <Detail key={id} id={id} query={query} version={version} write={write} onEdit={(a) => setForm(a)} />
        : <List query={query} version={version} write={write} onEdit={(a) => setForm(a)} />}
      {form && (
        <AmbassadorForm ambassador={form.id ? form : null} onClose={() => setForm(null)} onSaved={(a) => {
          setForm(null);
          setVersion((v) => v + 1);
          navigate(`/ambassadors?id=${a.id}`);
        }} />
      )}
    </div>
  );
}

function List({ query, version, write, onEdit }) {
  const pager = useUrlPager(query, 'ambassadors');
  const list = useAsync(() => get('/ambassadors', { cursor: pager.cursor, limit: 50 }), [pager.cursor, version]);
  return (
    <Card>
      <Async state={list}>{(d) => (
        <>
          <DefTable rows={d.data} stack columns={[
            { label: t('am_ambassador'), render: (a) => <a href={`/ambassadors?id=${a.id}`}>#{a.id}</a> },
            { label: t('am_customer'), render: (a) => <a href={`/customers/${a.customer_id}`}>#{a.customer_id}</a> },
            { label: t('am_level'), title: t('am_d_level'), num: true, render: (a) => num(a.level) },
            { label: t('am_code'), title: t('am_d_code'), render: (a) => <code>{a.referral_code}</code> },
            { label: t('am_pct_short'), title: t('am_d_pct'), num: true, render: (a) => `${a.commission_pct}%` },
            { label: t('am_orders'), title: t('am_d_orders'), num: true, render: (a) => num(a.referred_orders) },
            { label: t('am_gmv'), title: t('am_d_gmv'), num: true, render: (a) => money(a.referred_gmv_cents) },
            { label: t('am_customers'), title: t('am_d_customers'), num: true, render: (a) => num(a.referred_customers) },
            { label: t('am_pending'), title: t('am_d_pending'), num: true, render: (a) => money(a.commission_pending_cents) },
            { label: t('am_settled'), title: t('am_d_settled'), num: true, render: (a) => money(a.commission_settled_cents) },
            ...(write ? [{ label: t('actions'), render: (a) => <Button class="small" data-write onClick={() => onEdit(a)}>{t('edit')}</Button> }] : []),
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={list.loading} />
        </>
      )}</Async>
    </Card>
  );
}

function Detail({ id, query, version, write, onEdit }) {
  const st = useAsync(async () => {
    const a = await get(`/ambassadors/${encodeURIComponent(id)}`);
    let name = null;
    try {
      const c = await get(`/customers/${a.customer_id}`);
      name = c.name;
    } catch {
      // the name is a nicety; the id still links
    }
    return { ...a, name };
  }, [id, version]);
  return (
    <Async state={st}>{(a) => (
      <div data-ambassador={a.id}>
        <Card title={`${t('am_ambassador')} #${a.id} · ${a.name || `#${a.customer_id}`}`} actions={
          <>
            {write && <Button class="small" data-write onClick={() => onEdit(a)}>{t('edit')}</Button>}
            <a href="/ambassadors">{t('am_back')}</a>
          </>
        }>
          <dl class="kv am-kv">
            <dt>{t('am_customer')}</dt><dd><a href={`/customers/${a.customer_id}`}>#{a.customer_id} {a.name || ''}</a></dd>
            <dt title={t('am_d_code')}>{t('am_code')}</dt><dd><code>{a.referral_code}</code></dd>
            <dt title={t('am_d_level')}>{t('am_level')}</dt><dd>{num(a.level)}</dd>
            <dt title={t('am_d_pct')}>{t('am_pct_short')}</dt><dd>{a.commission_pct}%</dd>
            <dt>{t('am_enrolled')}</dt><dd>{when(a.created_at)}</dd>
          </dl>
        </Card>
        <div class="stats">
          <DefStat label={t('am_orders')} title={t('am_d_orders')} value={num(a.referred_orders)} />
          <DefStat label={t('am_gmv')} title={t('am_d_gmv')} value={money(a.referred_gmv_cents)} />
          <DefStat label={t('am_customers')} title={t('am_d_customers')} value={num(a.referred_customers)} />
          <DefStat label={t('am_pending')} title={t('am_d_pending')} value={money(a.commission_pending_cents)} />
          <DefStat label={t('am_settled')} title={t('am_d_settled')} value={money(a.commission_settled_cents)} />
        </div>
        <Ledger id={a.id} query={query} version={version} />
        <Brought id={a.id} query={query} version={version} />
      </div>
    )}</Async>
  );
}

const statusBadge = { pending: 'warn', settled: 'ok', reversed: 'bad' };

// The ledger's and the referred customers' pages are in the URL, each under its
// own prefix (led_cursor, ref_cursor): a reload keeps both.
function Ledger({ id, query, version }) {
  const pager = useUrlPager(query, `ledger-${id}`, 'led');
  const st = useAsync(() => get(`/ambassadors/${id}/commissions`, { cursor: pager.cursor, limit: 20, count: 'true' }), [id, pager.cursor, version]);
  return (
    <Card title={t('am_ledger')} actions={st.data && st.data.total !== undefined && <span class="muted">{t('am_total', { n: num(st.data.total) })}</span>}>
      <Async state={st}>{(d) => (
        <div data-testid="commission-ledger">
          <DefTable rows={d.data} stack columns={[
            { label: t('am_entry_id'), render: (e) => `#${e.id}` },
            { label: t('am_order'), render: (e) => <a href={`/orders?id=${e.order_id}`}>#{e.order_id}</a> },
            { label: t('am_kind'), render: (e) => t('am_kind_' + e.kind) },
            { label: t('am_status'), render: (e) => <span class={`badge ${statusBadge[e.status] || ''}`}>{t('am_status_' + e.status)}</span> },
            { label: t('am_order_cents'), num: true, render: (e) => money(e.order_cents) },
            { label: t('am_amount'), num: true, render: (e) => <span class={e.amount_cents < 0 ? 'am-neg' : ''}>{money(e.amount_cents)}</span> },
            { label: t('am_settle_at'), render: (e) => when(e.settle_at) },
            { label: t('am_created'), render: (e) => when(e.created_at) },
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={st.loading} />
        </div>
      )}</Async>
    </Card>
  );
}

function Brought({ id, query, version }) {
  const pager = useUrlPager(query, `brought-${id}`, 'ref');
  const st = useAsync(() => get(`/ambassadors/${id}/customers`, { cursor: pager.cursor, limit: 20, count: 'true' }), [id, pager.cursor, version]);
  return (
    <Card title={t('am_brought')} actions={st.data && st.data.total !== undefined && <span class="muted">{t('am_total_customers', { n: num(st.data.total) })}</span>}>
      <Async state={st}>{(d) => (
        <div data-testid="referred-customers">
          <DefTable rows={d.data} rowKey={(c) => c.customer_id} stack columns={[
            { label: t('am_customer'), render: (c) => <a href={`/customers/${c.customer_id}`}>#{c.customer_id}</a> },
            { label: t('am_name'), render: (c) => c.name || <span class="muted">{t('am_erased')}</span> },
            { label: t('am_c_orders'), num: true, render: (c) => num(c.orders) },
            { label: t('am_c_gmv'), num: true, render: (c) => money(c.gmv_cents) },
          ]} />
          <Pager pager={pager} nextCursor={d.next_cursor} busy={st.loading} />
        </div>
      )}</Async>
    </Card>
  );
}

const invalid = (field, message) => new ApiError(422, { error: { code: 'validation_failed', message, field } });

function intIn(text, field, lo, hi, message) {
  const s = text.trim();
  if (!/^\d+$/.test(s)) throw invalid(field, message);
  const n = Number(s);
  if (n < lo || n > hi) throw invalid(field, message);
  return n;
}

function AmbassadorForm({ ambassador, onClose, onSaved }) {
  const a = ambassador;
  const [v, setV] = useState(() => ({
    customer_id: '',
    commission_pct: a ? String(a.commission_pct) : '10',
    referral_code: a ? a.referral_code : '',
    level: a ? String(a.level) : '1',
  }));
  const set = (k) => (e) => { const val = e.currentTarget.value; setV((s) => ({ ...s, [k]: val })); };
  const s = useSubmit(async () => {
    const body = {
      commission_pct: intIn(v.commission_pct, 'commission_pct', 0, 100, t('am_bad_pct')),
      level: intIn(v.level, 'level', 1, 10, t('am_bad_level')),
    };
    const code = v.referral_code.trim();
    let r;
    if (a) {
      if (code && code !== a.referral_code) body.referral_code = code;
      r = await patch(`/ambassadors/${a.id}`, body);
    } else {
      body.customer_id = intIn(v.customer_id, 'customer_id', 1, Number.MAX_SAFE_INTEGER, t('am_bad_int'));
      if (code) body.referral_code = code;
      r = await post('/ambassadors', body);
    }
    toast(a ? t('saved') : t('am_enrolled_ok'));
    onSaved(r);
  });
  return (
    <Modal title={a ? t('am_edit') : t('am_enrol')} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); s.submit(); }} novalidate data-form="ambassador">
        {!a && (
          <Field label={t('am_customer_id')} name="customer_id" error={s.error}>
            <input name="customer_id" inputMode="numeric" value={v.customer_id} onInput={set('customer_id')} required autocomplete="off" />
          </Field>
        )}
        <div class="form-row">
          <Field label={t('am_pct')} name="commission_pct" error={s.error}>
            <input name="commission_pct" inputMode="numeric" value={v.commission_pct} onInput={set('commission_pct')} required />
          </Field>
          <Field label={t('am_level')} name="level" error={s.error}>
            <input name="level" inputMode="numeric" value={v.level} onInput={set('level')} />
          </Field>
        </div>
        <Field label={t('am_code')} name="referral_code" error={s.error} hint={a ? t('am_code_edit_hint') : t('am_code_hint')}>
          <input name="referral_code" value={v.referral_code} onInput={set('referral_code')} maxLength={32} autocomplete="off" />
        </Field>
        <FormError error={s.error} fields={['customer_id', 'commission_pct', 'level', 'referral_code']} />
        <div class="form-actions">
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="submit" class="primary" busy={s.busy} data-write>{a ? t('save') : t('am_enrol')}</Button>
        </div>
      </form>
    </Modal>
  );
}
