/* analytics.c - keeping the analytics figures exact, and reading them.
 *
 * The triggers of migrations/0009_analytics.sql note in analytics_dirty which
 * customers (and orders bound to nobody) a write touched. Before the write's
 * closure ends, store_analytics_flush takes each one's facts out of the daily
 * tables (adding them with the sign -1), works the facts out again from the
 * records, and adds them back. The same statements without the customer filter
 * rebuild everything (demo data, a new time zone, an upgrade). */
#include "internal.h"

#include "scrm/log.h"
#include "scrm/store_analytics.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bumped whenever what the facts hold changes: a different stamp rebuilds. */
#define LAYOUT "1"

/* The facts a set of changes touches. For a customer (:c) both the facts now
 * filed under them and those of orders that are theirs now (an order moved
 * from another profile); for an order bound to nobody, its own fact. */
#define SET_CUSTOMER                                                                               \
	"(customer_id = :c OR order_id IN (SELECT id FROM orders WHERE customer_id = :c))"
#define SET_ORDER "(order_id = :c AND customer_id IS NULL)"
#define SET_ALL "1"

/* Add the facts of a set to the daily tables, times :s (1 or -1). */
#define ORDER_DAYS(set)                                                                            \
	"INSERT INTO analytics_order_days(day, channel_id, owner_id, orders, gmv_cents,"           \
	" bound_orders, referred_orders, referred_gmv_cents, month_repeats, quarter_repeats)"      \
	" SELECT day, channel_id, owner_id, :s * count(*), :s * sum(amount_cents),"                \
	" :s * count(customer_id), :s * sum(ambassador_id != 0),"                                  \
	" :s * sum(CASE WHEN ambassador_id != 0 THEN amount_cents ELSE 0 END),"                    \
	" :s * sum(nth_month = 2), :s * sum(nth_quarter = 2)"                                      \
	" FROM analytics_orders WHERE " set " GROUP BY day, channel_id, owner_id"                  \
	" ON CONFLICT DO UPDATE SET orders = orders + excluded.orders,"                            \
	" gmv_cents = gmv_cents + excluded.gmv_cents,"                                             \
	" bound_orders = bound_orders + excluded.bound_orders,"                                    \
	" referred_orders = referred_orders + excluded.referred_orders,"                           \
	" referred_gmv_cents = referred_gmv_cents + excluded.referred_gmv_cents,"                  \
	" month_repeats = month_repeats + excluded.month_repeats,"                                 \
	" quarter_repeats = quarter_repeats + excluded.quarter_repeats"

#define GAPS(set)                                                                                  \
	"INSERT INTO analytics_gaps(scope, day, prev_day, orders, gmv_cents)"                      \
	" SELECT * FROM (SELECT 0, day, prev_day, :s * count(*), :s * sum(amount_cents)"           \
	" FROM analytics_orders WHERE " set " AND customer_id IS NOT NULL GROUP BY day, prev_day"  \
	" UNION ALL SELECT -1, day, ref_prev_day, :s * count(*), :s * sum(amount_cents)"           \
	" FROM analytics_orders WHERE " set " AND ambassador_id != 0 GROUP BY day, ref_prev_day"   \
	" UNION ALL SELECT ambassador_id, day, amb_prev_day, :s * count(*), :s * "                 \
	"sum(amount_cents)"                                                                        \
	" FROM analytics_orders WHERE " set " AND ambassador_id != 0"                              \
	" GROUP BY ambassador_id, day, amb_prev_day) WHERE 1"                                      \
	" ON CONFLICT DO UPDATE SET orders = orders + excluded.orders,"                            \
	" gmv_cents = gmv_cents + excluded.gmv_cents"

#define COHORTS(set)                                                                               \
	"INSERT INTO analytics_cohorts(join_month, channel_id, month, buyers, second_orders,"      \
	" orders, gmv_cents)"                                                                      \
	" SELECT join_month, channel_id, month, :s * sum(nth_month = 1), :s * sum(nth = 2),"       \
	" :s * count(*), :s * sum(amount_cents) FROM analytics_orders WHERE " set                  \
	" AND customer_id IS NOT NULL GROUP BY join_month, channel_id, month"                      \
	" ON CONFLICT DO UPDATE SET buyers = buyers + excluded.buyers,"                            \
	" second_orders = second_orders + excluded.second_orders,"                                 \
	" orders = orders + excluded.orders, gmv_cents = gmv_cents + excluded.gmv_cents"

#define CUSTOMER_DAYS(set)                                                                         \
	"INSERT INTO analytics_customer_days(day, channel_id, owner_id, customers, buyers,"        \
	" converted_1d, retained_30d, gmv_cents)"                                                  \
	" SELECT day, channel_id, owner_id, :s * count(*), :s * sum(orders > 0),"                  \
	" :s * sum(converted_1d), :s * sum(retained_30d), :s * sum(gmv_cents)"                     \
	" FROM analytics_customers WHERE " set " GROUP BY day, channel_id, owner_id"               \
	" ON CONFLICT DO UPDATE SET customers = customers + excluded.customers,"                   \
	" buyers = buyers + excluded.buyers, converted_1d = converted_1d + excluded.converted_1d," \
	" retained_30d = retained_30d + excluded.retained_30d,"                                    \
	" gmv_cents = gmv_cents + excluded.gmv_cents"

/* The facts of bound paid orders, worked out from the records: the previous
 * order's day and the ranks come from one window over each customer's paid
 * orders in (paid_at, id) order, in which months (and quarters) only grow, so
 * that the rank within a month is read from the months of the two orders
 * before (1, 2, or 3 for the third and later). Referred orders are few: their
 * own previous orders come from windows over them alone. */
// clang-format off
#define ORDER_FACTS(filter)                                                                        \
	"WITH base AS MATERIALIZED (SELECT o.id, o.customer_id, o.paid_at, o.amount_cents,"        \
	"   " DB_DAY("o.paid_at") " day, " DB_MONTH("o.paid_at") " month,"                         \
	"   coalesce(c.source_channel_id, 0) ch, coalesce(c.owner_user_id, 0) ow,"                 \
	"   " DB_MONTH("c.created_at") " jm,"                                                      \
	"   coalesce((SELECT k.ambassador_id FROM commissions k"                                   \
	"     WHERE k.order_id = o.id AND " ACTIVE_EARN "), 0) amb"                                \
	"   FROM orders o JOIN customers c ON c.id = o.customer_id"                                \
	"   WHERE o.status = 'paid' AND " filter "),"                                              \
	" ranked AS (SELECT *, lag(day) OVER w pd, row_number() OVER w n,"                         \
	"   lag(month) OVER w m1, lag(month, 2) OVER w m2 FROM base"                               \
	"   WINDOW w AS (PARTITION BY customer_id ORDER BY paid_at, id)),"                         \
	" referred AS (SELECT id,"                                                                 \
	"   lag(day) OVER (PARTITION BY customer_id, amb ORDER BY paid_at, id) ap,"                \
	"   lag(day) OVER (PARTITION BY customer_id ORDER BY paid_at, id) rp"                      \
	"   FROM base WHERE amb != 0)"                                                             \
	" INSERT INTO analytics_orders(order_id, customer_id, day, month, amount_cents, channel_id," \
	" owner_id, join_month, prev_day, nth, nth_month, nth_quarter, ambassador_id,"             \
	" amb_prev_day, ref_prev_day)"                                                             \
	" SELECT r.id, r.customer_id, r.day, r.month, r.amount_cents, r.ch, r.ow, r.jm,"           \
	" coalesce(r.pd, -1), r.n,"                                                                \
	" CASE WHEN r.m1 IS NOT r.month THEN 1 WHEN r.m2 IS NOT r.month THEN 2 ELSE 3 END,"        \
	" CASE WHEN r.m1 / 3 IS NOT r.month / 3 THEN 1"                                            \
	"   WHEN r.m2 / 3 IS NOT r.month / 3 THEN 2 ELSE 3 END,"                                   \
	" r.amb, coalesce(x.ap, -1), coalesce(x.rp, -1)"                                           \
	" FROM ranked r LEFT JOIN referred x ON x.id = r.id"

/* Paid orders bound to nobody: no customer, so no channel, operator or ranks. */
#define UNBOUND_FACTS(filter)                                                                      \
	"INSERT INTO analytics_orders(order_id, customer_id, day, month, amount_cents, channel_id," \
	" owner_id, join_month, prev_day, nth, nth_month, nth_quarter, ambassador_id,"             \
	" amb_prev_day, ref_prev_day)"                                                             \
	" SELECT o.id, NULL, " DB_DAY("o.paid_at") ", " DB_MONTH("o.paid_at") ","                  \
	" o.amount_cents, -1, -1, -1, -2, 0, 0, 0,"                                                \
	" coalesce((SELECT k.ambassador_id FROM commissions k"                                     \
	"   WHERE k.order_id = o.id AND " ACTIVE_EARN "), 0), -2, -2"                              \
	" FROM orders o WHERE o.status = 'paid' AND o.customer_id IS NULL AND " filter

/* A customer's fact: retained when the latest of their last paid order, last
 * check-in and last group activity is 30 days or more after they joined. */
#define CUSTOMER_FACTS(filter)                                                                     \
	"INSERT INTO analytics_customers(customer_id, day, channel_id, owner_id, orders,"          \
	" gmv_cents, converted_1d, retained_30d)"                                                    \
	" SELECT c.id, " DB_DAY("c.created_at") ", coalesce(c.source_channel_id, 0),"              \
	" coalesce(c.owner_user_id, 0), c.order_count, c.total_spent_cents,"                       \
	" EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id"                               \
	"   AND o.paid_at >= c.created_at AND o.paid_at < c.created_at + 86400"                    \
	"   AND o.status = 'paid'),"                                                               \
	" max(coalesce(" DB_DAY("c.last_order_at") ", -1), coalesce(c.last_checkin_day, -1),"      \
	"   coalesce((SELECT " DB_DAY("max(a.at)") " FROM group_activity a"                        \
	"     WHERE a.customer_id = c.id), -1)) >= " DB_DAY("c.created_at") " + 30"                \
	" FROM customers c WHERE " filter
// clang-format on

static const char sql_dirty[] = "SELECT kind, id FROM analytics_dirty";
static const char sql_dirty_clear[] = "DELETE FROM analytics_dirty";

/* One customer */
static const char c_order_days[] = ORDER_DAYS(SET_CUSTOMER);
static const char c_gaps[] = GAPS(SET_CUSTOMER);
static const char c_cohorts[] = COHORTS(SET_CUSTOMER);
static const char c_customer_days[] = CUSTOMER_DAYS("customer_id = :c");
static const char c_del_orders[] = "DELETE FROM analytics_orders WHERE " SET_CUSTOMER;
static const char c_del_customer[] = "DELETE FROM analytics_customers WHERE customer_id = :c";
static const char c_order_facts[] = ORDER_FACTS("o.customer_id = :c");
static const char c_customer_facts[] = CUSTOMER_FACTS("c.id = :c");

/* One order bound to nobody */
static const char o_order_days[] = ORDER_DAYS(SET_ORDER);
static const char o_gaps[] = GAPS(SET_ORDER);
static const char o_del[] = "DELETE FROM analytics_orders WHERE " SET_ORDER;
static const char o_facts[] = UNBOUND_FACTS("o.id = :c");

/* Everything */
static const char a_customer_days[] = CUSTOMER_DAYS(SET_ALL);
static const char a_order_facts[] = ORDER_FACTS("1");
static const char a_unbound_facts[] = UNBOUND_FACTS("1");
static const char a_customer_facts[] = CUSTOMER_FACTS("1");
static const char a_points[] =
    "INSERT INTO analytics_points_days(day, issued, used)"
    " SELECT " DB_DAY("created_at") ", sum(max(delta, 0)), sum(max(-delta, 0))"
                                    " FROM points_ledger WHERE delta != 0 GROUP BY 1";
static const char a_clear[] =
    "DELETE FROM analytics_dirty; DELETE FROM analytics_orders; DELETE FROM analytics_customers;"
    " DELETE FROM analytics_customer_days; DELETE FROM analytics_order_days;"
    " DELETE FROM analytics_gaps; DELETE FROM analytics_cohorts;"
    " DELETE FROM analytics_points_days;";

/* Run statements in order with :c and :s bound where they appear. */
static int run(struct store_db *db, const char *const *sqls, size_t n, int64_t c, int64_t s)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(db, sqls[i]);
		if (!st)
			return ST_ERR;
		if (sqlite3_bind_parameter_index(st, ":c"))
			db_bind_i64(st, ":c", c);
		if (sqlite3_bind_parameter_index(st, ":s"))
			db_bind_i64(st, ":s", s);
		int rc = db_run(db, st);
		if (rc < 0)
			return -rc;
	}
	return ST_OK;
}

static int redo_customer(struct store_db *db, int64_t id)
{
	static const char *const out[] = {c_order_days,    c_gaps,       c_cohorts,
	                                  c_customer_days, c_del_orders, c_del_customer};
	static const char *const in[] = {c_order_facts, c_customer_facts, c_order_days,
	                                 c_gaps,        c_cohorts,        c_customer_days};
	int rc = run(db, out, SCRM_ARRAY_LEN(out), id, -1);
	return rc == ST_OK ? run(db, in, SCRM_ARRAY_LEN(in), id, 1) : rc;
}

static int redo_order(struct store_db *db, int64_t id)
{
	static const char *const out[] = {o_order_days, o_gaps, o_del};
	static const char *const in[] = {o_facts, o_order_days, o_gaps};
	int rc = run(db, out, SCRM_ARRAY_LEN(out), id, -1);
	return rc == ST_OK ? run(db, in, SCRM_ARRAY_LEN(in), id, 1) : rc;
}

struct noted {
	int64_t kind, id;
};

int store_analytics_flush(struct store_db *db)
{
	sqlite3_stmt *st = db_stmt(db, sql_dirty);
	if (!st)
		return ST_ERR;
	struct noted *v = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n].kind = sqlite3_column_int64(st, 0);
		v[n].id = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_reset(st);
	int out = rc == SQLITE_DONE ? ST_OK : -rc;
	/* the orders bound to nobody first: an order just bound leaves its old
	 * fact before its customer's facts are worked out (the customer's set
	 * takes it too, so either order is right; this one does less) */
	for (size_t i = 0; i < n && out == ST_OK; i++)
		if (v[i].kind == 1)
			out = redo_order(db, v[i].id);
	for (size_t i = 0; i < n && out == ST_OK; i++)
		if (v[i].kind == 0)
			out = redo_customer(db, v[i].id);
	free(v);
	if (out == ST_OK && n > 0 && db_exec(db, sql_dirty_clear) < 0)
		out = ST_ERR;
	return out;
}

/* The stamp of the figures: the layout and the time zone they were made in. */
static void stamp(char *out, size_t n)
{
	const char *tz = getenv("TZ");
	snprintf(out, n, "%s %s", LAYOUT, tz && *tz ? tz : "localtime");
}

static const char sql_stamp_get[] = "SELECT value FROM settings WHERE key = 'analytics.stamp'";
static const char sql_stamp_put[] =
    "INSERT INTO settings(key, value, updated_at) VALUES ('analytics.stamp', :v, :t)"
    " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

static int write_stamp(struct store_db *db)
{
	char want[160];
	stamp(want, sizeof want);
	sqlite3_stmt *st = db_stmt(db, sql_stamp_put);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":v", want);
	db_bind_i64(st, ":t", time_now());
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

/* The rebuild sums the order facts in one pass here rather than in three
 * GROUP BY sorts of millions of rows: a small hash table per daily table. */
#define SUM_KEYS 3
#define SUM_VALS 7

struct sum_slot {
	int64_t k[SUM_KEYS], v[SUM_VALS];
	bool used;
};

struct sums {
	struct sum_slot *s;
	size_t cap, n;
};

static uint64_t sum_hash(const int64_t *k)
{
	uint64_t h = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < SUM_KEYS; i++) {
		h ^= (uint64_t)k[i] + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
		h *= 0xff51afd7ed558ccdu;
	}
	return h ^ (h >> 33);
}

static int64_t *sum_at(struct sums *m, int64_t a, int64_t b, int64_t c);

static void sums_grow(struct sums *m)
{
	struct sums old = *m;
	m->cap = old.cap ? old.cap * 2 : 1024;
	m->s = xcalloc(m->cap, sizeof *m->s);
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.s[i].used)
			memcpy(sum_at(m, old.s[i].k[0], old.s[i].k[1], old.s[i].k[2]), old.s[i].v,
			       sizeof old.s[i].v);
	free(old.s);
}

/* The values of a key, zeros when new. */
static int64_t *sum_at(struct sums *m, int64_t a, int64_t b, int64_t c)
{
	if ((m->n + 1) * 2 > m->cap)
		sums_grow(m);
	int64_t k[SUM_KEYS] = {a, b, c};
	size_t i = sum_hash(k) & (m->cap - 1);
	while (m->s[i].used && memcmp(m->s[i].k, k, sizeof k) != 0)
		i = (i + 1) & (m->cap - 1);
	if (!m->s[i].used) {
		m->s[i].used = true;
		memcpy(m->s[i].k, k, sizeof k);
		m->n++;
	}
	return m->s[i].v;
}

static int sums_insert(struct store_db *db, const struct sums *m, const char *sql, int nv)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->s[i].used)
			continue;
		int col = 1;
		for (int k = 0; k < SUM_KEYS; k++)
			sqlite3_bind_int64(st, col++, m->s[i].k[k]);
		for (int k = 0; k < nv; k++)
			sqlite3_bind_int64(st, col++, m->s[i].v[k]);
		int rc = db_run(db, st);
		if (rc < 0)
			return -rc;
	}
	return ST_OK;
}

static const char r_scan[] =
    "SELECT day, channel_id, owner_id, customer_id IS NOT NULL, amount_cents, ambassador_id,"
    " nth_month, nth_quarter, prev_day, ref_prev_day, amb_prev_day, join_month, month, nth"
    " FROM analytics_orders";
static const char r_order_days[] =
    "INSERT INTO analytics_order_days(day, channel_id, owner_id, orders, gmv_cents,"
    " bound_orders, referred_orders, referred_gmv_cents, month_repeats, quarter_repeats)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char r_gaps[] =
    "INSERT INTO analytics_gaps(scope, day, prev_day, orders, gmv_cents) VALUES (?, ?, ?, ?, ?)";
static const char r_cohorts[] =
    "INSERT INTO analytics_cohorts(join_month, channel_id, month, buyers, second_orders, orders,"
    " gmv_cents) VALUES (?, ?, ?, ?, ?, ?, ?)";

/* The daily tables of orders from all the order facts (in ORDER_DAYS, GAPS
 * and COHORTS: the same sums). */
static int sum_orders(struct store_db *db)
{
	struct sums od = {0}, gaps = {0}, coh = {0};
	sqlite3_stmt *st = db_stmt(db, r_scan);
	if (!st)
		return ST_ERR;
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		int64_t c[14];
		for (int k = 0; k < 14; k++)
			c[k] = sqlite3_column_int64(st, k);
		int64_t day = c[0], ch = c[1], ow = c[2], bound = c[3], amount = c[4], amb = c[5];
		int64_t *v = sum_at(&od, day, ch, ow);
		v[0]++;
		v[1] += amount;
		v[2] += bound;
		v[3] += amb != 0;
		v[4] += amb != 0 ? amount : 0;
		v[5] += c[6] == 2;
		v[6] += c[7] == 2;
		if (bound) {
			v = sum_at(&gaps, 0, day, c[8]);
			v[0]++;
			v[1] += amount;
			v = sum_at(&coh, c[11], ch, c[12]);
			v[0] += c[6] == 1;
			v[1] += c[13] == 2;
			v[2]++;
			v[3] += amount;
		}
		if (amb != 0) {
			v = sum_at(&gaps, -1, day, c[9]);
			v[0]++;
			v[1] += amount;
			v = sum_at(&gaps, amb, day, c[10]);
			v[0]++;
			v[1] += amount;
		}
	}
	sqlite3_reset(st);
	int out = rc == SQLITE_DONE ? ST_OK : -rc;
	if (out == ST_OK)
		out = sums_insert(db, &od, r_order_days, 7);
	if (out == ST_OK)
		out = sums_insert(db, &gaps, r_gaps, 2);
	if (out == ST_OK)
		out = sums_insert(db, &coh, r_cohorts, 4);
	free(od.s);
	free(gaps.s);
	free(coh.s);
	return out;
}

int store_analytics_rebuild(struct store_db *db)
{
	if (db_exec(db, a_clear) < 0)
		return ST_ERR;
	static const char *const facts[] = {a_order_facts, a_unbound_facts, a_customer_facts};
	static const char *const rest[] = {a_customer_days, a_points};
	int rc = run(db, facts, SCRM_ARRAY_LEN(facts), 0, 1);
	if (rc == ST_OK)
		rc = sum_orders(db);
	if (rc == ST_OK)
		rc = run(db, rest, SCRM_ARRAY_LEN(rest), 0, 1);
	return rc == ST_OK ? write_stamp(db) : rc;
}

static int prepare_fn(struct store_db *db, void *ctx)
{
	(void)ctx;
	char want[160];
	stamp(want, sizeof want);
	sqlite3_stmt *st = db_stmt(db, sql_stamp_get);
	if (!st)
		return -ST_ERR;
	int rc = db_step(db, st);
	bool same = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), want) == 0;
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	if (same)
		return 0;
	log_info("analytics: working the figures out from the records (%s)", want);
	int64_t t0 = time_mono_ns();
	rc = store_analytics_rebuild(db);
	if (rc == ST_OK)
		log_info("analytics: figures worked out in %.1f s",
		         (double)(time_mono_ns() - t0) / 1e9);
	return rc == ST_OK ? 0 : -rc;
}

int store_analytics_prepare(void)
{
	int rc = store_write(prepare_fn, NULL);
	return rc < 0 ? -rc : rc;
}

/* The triggers that note changes, by name: dropped for a bulk load. */
static const char sql_triggers[] =
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'analytics\\_%'"
    " ESCAPE '\\' ORDER BY name";

int store_analytics_triggers_drop(struct store_db *db, char ***sqls, size_t *n)
{
	*sqls = NULL;
	*n = 0;
	sqlite3_stmt *st = db_stmt(db, sql_triggers);
	if (!st)
		return ST_ERR;
	size_t cap = 0;
	char **names = NULL;
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*sqls = xrealloc(*sqls, cap * sizeof **sqls);
			names = xrealloc(names, cap * sizeof *names);
		}
		names[*n] = db_col_dup(st, 0);
		(*sqls)[*n] = db_col_dup(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	int out = rc == SQLITE_DONE ? ST_OK : -rc;
	for (size_t i = 0; i < *n; i++) {
		if (out == ST_OK) {
			char *sql = sqlite3_mprintf("DROP TRIGGER \"%w\"", names[i]);
			if (db_exec(db, sql) < 0)
				out = ST_ERR;
			sqlite3_free(sql);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

int store_analytics_triggers_create(struct store_db *db, char **sqls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (db_exec(db, sqls[i]) < 0)
			return ST_ERR;
	return ST_OK;
}

/* Reading -------------------------------------------------------------------- */

#define BUYERS_IN(f) "(prev_day = -1 OR (prev_day >= 0 AND prev_day < " f "))"

static const char *const queries[AN_Q_N] = {
    [AN_Q_CUSTOMERS] = "SELECT coalesce(sum(customers), 0),"
                       " coalesce(sum(customers) FILTER (WHERE day >= :f), 0)"
                       " FROM analytics_customer_days WHERE day < :t",
    [AN_Q_ORDERS] = "SELECT coalesce(sum(orders), 0), coalesce(sum(gmv_cents), 0),"
                    " coalesce(sum(bound_orders), 0), coalesce(sum(referred_orders), 0),"
                    " coalesce(sum(referred_gmv_cents), 0)"
                    " FROM analytics_order_days WHERE day >= :f AND day < :t",
    [AN_Q_BUYERS] = "SELECT coalesce(sum(orders) FILTER (WHERE " BUYERS_IN(
        ":f") "), 0),"
              " coalesce(sum(orders) FILTER (WHERE prev_day >= 0 AND prev_day < :f), 0)"
              " FROM analytics_gaps WHERE scope = :x AND day >= :f AND day < :t",
    [AN_Q_POINTS] = "SELECT coalesce(sum(issued) FILTER (WHERE day >= :f), 0),"
                    " coalesce(sum(used) FILTER (WHERE day >= :f), 0),"
                    " coalesce(sum(issued - used), 0) FROM analytics_points_days WHERE day < :t",
    [AN_Q_GAPS] = "SELECT day, prev_day, orders FROM analytics_gaps"
                  " WHERE scope = 0 AND day >= :f AND day < :t AND orders != 0",
    [AN_Q_ORDER_DAYS] = "SELECT day, sum(orders), sum(gmv_cents), sum(month_repeats),"
                        " sum(quarter_repeats) FROM analytics_order_days"
                        " WHERE day >= :f AND day < :t GROUP BY day",
    [AN_Q_CHANNELS] = "SELECT id, units, cost_cents, name, kind FROM channels ORDER BY id",
    [AN_Q_CHANNEL_CUSTOMERS] =
        "SELECT channel_id, sum(customers), sum(buyers), sum(converted_1d), sum(gmv_cents),"
        " coalesce(sum(customers) FILTER (WHERE day < :x), 0),"
        " coalesce(sum(retained_30d) FILTER (WHERE day < :x), 0)"
        " FROM analytics_customer_days WHERE day >= :f AND day < :t GROUP BY channel_id",
    [AN_Q_SCANS] = "SELECT count(*) FROM channel_scans WHERE channel_id = :x AND at >= :ft"
                   " AND at < :tt",
    [AN_Q_OWNER_CUSTOMERS] = "SELECT owner_id, sum(customers),"
                             " coalesce(sum(customers) FILTER (WHERE day >= :f), 0)"
                             " FROM analytics_customer_days WHERE day < :t GROUP BY owner_id",
    [AN_Q_OWNER_ORDERS] = "SELECT owner_id, sum(orders), sum(gmv_cents) FROM analytics_order_days"
                          " WHERE day >= :f AND day < :t AND owner_id >= 0 GROUP BY owner_id",
    [AN_Q_USERS] = "SELECT id, username, display_name FROM users ORDER BY id",
    /* one walk over the members in group order, two index probes each */
    [AN_Q_GROUPS] =
        "SELECT g.id, coalesce(x.members, 0), coalesce(x.active, 0), coalesce(x.converted, 0),"
        " g.name, g.kind FROM groups g LEFT JOIN (SELECT m.group_id, count(*) members,"
        " sum(EXISTS (SELECT 1 FROM group_activity a WHERE a.group_id = m.group_id"
        " AND a.customer_id = m.customer_id AND a.at >= :ft AND a.at < :tt)) active,"
        " sum(EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = m.customer_id"
        " AND o.paid_at >= :ft AND o.paid_at < :tt AND o.status = 'paid')) converted"
        " FROM group_members m GROUP BY m.group_id) x ON x.group_id = g.id ORDER BY g.id",
    /* the same for group x: its members only */
    [AN_Q_GROUP] =
        "SELECT g.id, coalesce(x.members, 0), coalesce(x.active, 0), coalesce(x.converted, 0),"
        " g.name, g.kind FROM groups g LEFT JOIN (SELECT m.group_id, count(*) members,"
        " sum(EXISTS (SELECT 1 FROM group_activity a WHERE a.group_id = m.group_id"
        " AND a.customer_id = m.customer_id AND a.at >= :ft AND a.at < :tt)) active,"
        " sum(EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = m.customer_id"
        " AND o.paid_at >= :ft AND o.paid_at < :tt AND o.status = 'paid')) converted"
        " FROM group_members m WHERE m.group_id = :x GROUP BY m.group_id) x"
        " ON x.group_id = g.id WHERE g.id = :x",
    [AN_Q_AMBASSADORS] =
        "SELECT a.id, a.customer_id, a.level, coalesce(x.orders, 0), coalesce(x.gmv, 0),"
        " coalesce(x.customers, 0), a.referral_code FROM ambassadors a LEFT JOIN"
        " (SELECT scope, sum(orders) orders, sum(gmv_cents) gmv,"
        " sum(orders) FILTER (WHERE " BUYERS_IN(
            ":f") ") customers FROM analytics_gaps"
                  " WHERE scope > 0 AND day >= :f AND day < :t GROUP BY scope) x ON x.scope = a.id"
                  " ORDER BY coalesce(x.gmv, 0) DESC, a.id LIMIT :x",
    [AN_Q_COHORT_SIZES] = "SELECT day, channel_id, customers, buyers, gmv_cents"
                          " FROM analytics_customer_days WHERE day >= :f AND day < :t"
                          " AND (:x < 0 OR channel_id = :x) AND customers != 0",
    [AN_Q_COHORT_CURVE] = "SELECT join_month, month, sum(buyers), sum(second_orders)"
                          " FROM analytics_cohorts WHERE join_month >= :f AND join_month <= :t"
                          " AND (:x < 0 OR channel_id = :x) GROUP BY join_month, month",
};

static void bind_if(sqlite3_stmt *st, const char *name, int64_t v)
{
	if (sqlite3_bind_parameter_index(st, name))
		db_bind_i64(st, name, v);
}

int store_an_query(struct store_db *db, enum an_query q, const struct an_args *a, store_an_cb cb,
                   void *arg)
{
	if ((unsigned)q >= AN_Q_N)
		return ST_ERR;
	sqlite3_stmt *st = db_stmt(db, queries[q]);
	if (!st)
		return ST_ERR;
	bind_if(st, ":f", a->f);
	bind_if(st, ":t", a->t);
	bind_if(st, ":x", a->x);
	bind_if(st, ":ft", a->ft);
	bind_if(st, ":tt", a->tt);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct an_row r = {.n = sqlite3_column_count(st)};
		if (r.n > AN_COLS)
			r.n = AN_COLS;
		for (int k = 0; k < r.n; k++) {
			if (sqlite3_column_type(st, k) == SQLITE_TEXT)
				r.s[k] = (const char *)sqlite3_column_text(st, k);
			else
				r.i[k] = sqlite3_column_int64(st, k);
		}
		cb(arg, &r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}
