/* analytics.c - GET /analytics/overview, repurchase, channels, operators, groups,
 * ambassadors and cohorts: the growth figures over a range of business days,
 * read from the daily tables the store keeps exact (store_analytics.h). The
 * definitions are in README.md ("Analytics") and the OpenAPI description. */
#include "internal.h"

#include "scrm/store_analytics.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An open start: before every day and every "previous order" day. */
#define OPEN_DAY (-(INT64_C(1) << 40))
/* How many months or quarters one answer may span; cohorts carry a curve of
 * up to that many months each. */
#define MAX_PERIODS 1200
#define MAX_COHORTS 240

/* A range of business days [f, t), with the same as unix times. */
struct range {
	int64_t f, t, ft, tt, today;
	bool open;
};

static int parse_range(const struct req *rq, struct resp *rs, struct range *r)
{
	int64_t from = 0, to = 0;
	int status = api_query_range(rq, &from, &to, rs);
	if (status)
		return status;
	r->today = time_local_day(time_now());
	r->open = http_req_query(rq, "from") == NULL;
	r->f = r->open ? OPEN_DAY : time_local_day(from);
	r->t = http_req_query(rq, "to") ? time_local_day(to) : r->today + 1;
	if (r->t < r->f)
		return api_error(rs, 422, "validation_failed", "to", "to must not be before from");
	r->ft = r->open ? INT64_MIN : time_local_day_start(r->f);
	r->tt = time_local_day_start(r->t);
	return 0;
}

static json_t *date_json(int64_t day)
{
	int y, m, d;
	time_civil_from_days(day, &y, &m, &d);
	char s[16];
	snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, d);
	return json_string(s);
}

static json_t *range_json(const struct range *r)
{
	return json_pack("{s:o, s:o}", "from", r->open ? json_null() : date_json(r->f), "to",
	                 date_json(r->t));
}

static json_t *rate(int64_t a, int64_t b)
{
	return b > 0 ? json_real((double)a / (double)b) : json_null();
}

/* a / b in cents to the nearest cent, halves up; null when b is 0 */
static json_t *per(int64_t a, int64_t b)
{
	return b > 0 ? json_integer((json_int_t)((2 * a + b) / (2 * b))) : json_null();
}

static json_t *num(int64_t v)
{
	return json_integer((json_int_t)v);
}

/* The first row's integers. */
static void grab(void *arg, const struct an_row *r)
{
	memcpy(arg, r->i, sizeof r->i);
}

static int one(enum an_query q, const struct an_args *a, int64_t out[AN_COLS])
{
	memset(out, 0, sizeof(int64_t) * AN_COLS);
	return store_an_query(store_reader(), q, a, grab, out);
}

/* Calendar months as year * 12 + month - 1. */
static int64_t month_of_day(int64_t day)
{
	int y, m, d;
	time_civil_from_days(day, &y, &m, &d);
	return (int64_t)y * 12 + m - 1;
}

static int64_t month_start(int64_t month)
{
	int64_t y = month >= 0 ? month / 12 : (month - 11) / 12;
	return time_days_from_civil(y, (unsigned)(month - y * 12 + 1), 1);
}

static json_t *month_json(int64_t month)
{
	char s[48];
	int64_t y = month >= 0 ? month / 12 : (month - 11) / 12;
	snprintf(s, sizeof s, "%04lld-%02lld", (long long)y, (long long)(month - y * 12 + 1));
	return json_string(s);
}

/* The periods (months, or quarters when unit is 3) that overlap the range, as
 * period numbers month / unit; without a start, the 12 (4) ending with the one
 * holding the range's last day. */
static int periods(const struct range *r, int unit, int64_t max, struct resp *rs, int64_t *p0,
                   int64_t *p1)
{
	*p1 = month_of_day(r->t - 1) / unit;
	if (r->t == r->f) /* an empty range: the period it sits in */
		*p1 = month_of_day(r->f) / unit;
	*p0 = r->open ? *p1 - 12 / unit + 1 : month_of_day(r->f) / unit;
	if (*p1 - *p0 + 1 > max)
		return api_error(rs, 422, "validation_failed", "from",
		                 "the range spans more than %lld %s", (long long)max,
		                 unit == 3 ? "quarters" : "months");
	return 0;
}

/* GET /analytics/overview ------------------------------------------------------------- */

int api_analytics_overview(const struct req *rq, struct resp *rs)
{
	struct range r;
	int status;
	if ((status = parse_range(rq, rs, &r)))
		return status;
	struct an_args a = {.f = r.f, .t = r.t};
	int64_t c[AN_COLS], o[AN_COLS], b[AN_COLS], p[AN_COLS];
	int st = one(AN_Q_CUSTOMERS, &a, c);
	if (st == ST_OK)
		st = one(AN_Q_ORDERS, &a, o);
	if (st == ST_OK)
		st = one(AN_Q_BUYERS, &a, b);
	if (st == ST_OK)
		st = one(AN_Q_POINTS, &a, p);
	if (st != ST_OK)
		return api_store_error(rs, st);
	json_t *j = range_json(&r);
	json_object_set_new(j, "customers", num(c[0]));
	json_object_set_new(j, "new_customers", num(c[1]));
	json_object_set_new(j, "orders", num(o[0]));
	json_object_set_new(j, "gmv_cents", num(o[1]));
	json_object_set_new(j, "bound_orders", num(o[2]));
	json_object_set_new(j, "bound_order_rate", rate(o[2], o[0]));
	json_object_set_new(j, "buyers", num(b[0]));
	json_object_set_new(j, "new_buyers", num(b[0] - b[1]));
	json_object_set_new(j, "returning_buyers", num(b[1]));
	json_object_set_new(j, "repurchase_rate", rate(b[1], b[0]));
	json_object_set_new(j, "points_issued", num(p[0]));
	json_object_set_new(j, "points_used", num(p[1]));
	json_object_set_new(j, "points_outstanding", num(p[2]));
	rs->body = j;
	return 200;
}

/* GET /analytics/repurchase ----------------------------------------------------------- */

struct period_sums {
	int64_t buyers, returning, repeat, orders, gmv;
};

struct bucket {
	struct period_sums *v;
	int64_t p0, unit;
	bool quarter;
};

static struct period_sums *bucket_of(struct bucket *b, int64_t day, int64_t *start)
{
	int64_t p = month_of_day(day) / b->unit;
	if (start)
		*start = month_start(p * b->unit);
	return &b->v[p - b->p0];
}

static void add_gap(void *arg, const struct an_row *r)
{
	struct bucket *b = arg;
	int64_t start;
	struct period_sums *s = bucket_of(b, r->i[0], &start);
	int64_t prev = r->i[1];
	if (prev == -1 || (prev >= 0 && prev < start))
		s->buyers += r->i[2];
	if (prev >= 0 && prev < start)
		s->returning += r->i[2];
}

static void add_order_day(void *arg, const struct an_row *r)
{
	struct bucket *b = arg;
	struct period_sums *s = bucket_of(b, r->i[0], NULL);
	s->orders += r->i[1];
	s->gmv += r->i[2];
	s->repeat += b->quarter ? r->i[4] : r->i[3];
}

static json_t *period_label(int64_t p, bool quarter)
{
	if (!quarter)
		return month_json(p);
	char s[48];
	int64_t m = p * 3, y = m >= 0 ? m / 12 : (m - 11) / 12;
	snprintf(s, sizeof s, "%04lld-Q%lld", (long long)y, (long long)((m - y * 12) / 3 + 1));
	return json_string(s);
}

int api_analytics_repurchase(const struct req *rq, struct resp *rs)
{
	struct range r;
	int status;
	if ((status = parse_range(rq, rs, &r)))
		return status;
	const char *period = http_req_query(rq, "period");
	bool quarter = period && strcmp(period, "quarter") == 0;
	if (period && !quarter && strcmp(period, "month") != 0)
		return api_error(rs, 422, "validation_failed", "period",
		                 "period must be month or quarter");
	int unit = quarter ? 3 : 1;
	int64_t p0, p1;
	if ((status = periods(&r, unit, MAX_PERIODS, rs, &p0, &p1)))
		return status;
	struct bucket b = {.v = xcalloc((size_t)(p1 - p0 + 1), sizeof *b.v),
	                   .p0 = p0,
	                   .unit = unit,
	                   .quarter = quarter};
	struct an_args a = {.f = month_start(p0 * unit), .t = month_start((p1 + 1) * unit)};
	int st = store_an_query(store_reader(), AN_Q_GAPS, &a, add_gap, &b);
	if (st == ST_OK)
		st = store_an_query(store_reader(), AN_Q_ORDER_DAYS, &a, add_order_day, &b);
	if (st != ST_OK) {
		free(b.v);
		return api_store_error(rs, st);
	}
	json_t *list = json_array();
	for (int64_t p = p0; p <= p1; p++) {
		const struct period_sums *s = &b.v[p - p0];
		json_t *j = json_pack("{s:o, s:o, s:o}", "period", period_label(p, quarter), "from",
		                      date_json(month_start(p * unit)), "to",
		                      date_json(month_start((p + 1) * unit)));
		json_object_set_new(j, "buyers", num(s->buyers));
		json_object_set_new(j, "returning_buyers", num(s->returning));
		json_object_set_new(j, "repurchase_rate", rate(s->returning, s->buyers));
		json_object_set_new(j, "repeat_buyers", num(s->repeat));
		json_object_set_new(j, "repeat_rate", rate(s->repeat, s->buyers));
		json_object_set_new(j, "orders", num(s->orders));
		json_object_set_new(j, "gmv_cents", num(s->gmv));
		json_array_append_new(list, j);
	}
	free(b.v);
	rs->body = json_pack("{s:s, s:o, s:o, s:o}", "period", quarter ? "quarter" : "month",
	                     "from", date_json(a.f), "to", date_json(a.t), "periods", list);
	return 200;
}

/* Rows keyed by an id, gathered from several queries ------------------------------------ */

struct keyed {
	int64_t key;
	int64_t v[AN_COLS];
	bool named;
	char *s[2];
};

struct keyset {
	struct keyed *k;
	size_t n, cap;
	int off; /* where this query's values go in v */
};

static struct keyed *key_get(struct keyset *ks, int64_t key)
{
	for (size_t i = 0; i < ks->n; i++)
		if (ks->k[i].key == key)
			return &ks->k[i];
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 16;
		ks->k = xrealloc(ks->k, ks->cap * sizeof *ks->k);
	}
	struct keyed *k = &ks->k[ks->n++];
	memset(k, 0, sizeof *k);
	k->key = key;
	return k;
}

static void keyset_clear(struct keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->k[i].s[0]);
		free(ks->k[i].s[1]);
	}
	free(ks->k);
}

/* Column 0 is the key; the others go to v[off ...]. */
static void add_keyed(void *arg, const struct an_row *r)
{
	struct keyset *ks = arg;
	struct keyed *k = key_get(ks, r->i[0]);
	for (int c = 1; c < r->n && ks->off + c - 1 < AN_COLS; c++)
		k->v[ks->off + c - 1] += r->i[c];
}

static int keyed_query(enum an_query q, const struct an_args *a, struct keyset *ks, int off)
{
	ks->off = off;
	return store_an_query(store_reader(), q, a, add_keyed, ks);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* GET /analytics/channels ------------------------------------------------------------- */

struct channel_row {
	int64_t id, units, cost;
	char *name, *kind;
};

struct channel_list {
	struct channel_row *v;
	size_t n, cap;
};

static void add_channel(void *arg, const struct an_row *r)
{
	struct channel_list *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = (struct channel_row){.id = r->i[0],
	                                    .units = r->i[1],
	                                    .cost = r->i[2],
	                                    .name = xstrdup(r->s[3] ? r->s[3] : ""),
	                                    .kind = xstrdup(r->s[4] ? r->s[4] : "")};
}

static json_t *channel_json(const struct range *r, int64_t id, const char *name, const char *kind,
                            int64_t units, int64_t cost, const int64_t *v, int64_t scans)
{
	/* v: acquired, buyers, converted_1d, gmv, eligible, retained */
	json_t *j = json_pack("{s:o, s:o, s:o, s:I, s:I}", "channel_id", id ? num(id) : json_null(),
	                      "name", str_or_null(name), "kind", str_or_null(kind), "units",
	                      (json_int_t)units, "cost_cents", (json_int_t)cost);
	(void)r;
	json_object_set_new(j, "acquired", num(v[0]));
	json_object_set_new(j, "add_rate", rate(v[0], units));
	json_object_set_new(j, "cost_per_customer_cents", per(cost, v[0]));
	json_object_set_new(j, "converted_1d", num(v[2]));
	json_object_set_new(j, "first_order_1d_rate", rate(v[2], v[0]));
	json_object_set_new(j, "retention_eligible", num(v[4]));
	json_object_set_new(j, "retained_30d", num(v[5]));
	json_object_set_new(j, "retention_30d_rate", rate(v[5], v[4]));
	json_object_set_new(j, "buyers", num(v[1]));
	json_object_set_new(j, "gmv_cents", num(v[3]));
	json_object_set_new(j, "ltv_cents", per(v[3], v[0]));
	json_object_set_new(j, "scans", num(scans));
	return j;
}

int api_analytics_channels(const struct req *rq, struct resp *rs)
{
	struct range r;
	int status;
	if ((status = parse_range(rq, rs, &r)))
		return status;
	struct channel_list l = {0};
	struct keyset ks = {0};
	/* joined at least 30 days before today: a join day before today - 29 */
	struct an_args a = {.f = r.f, .t = r.t, .x = r.today - 29, .ft = r.ft, .tt = r.tt};
	int st = store_an_query(store_reader(), AN_Q_CHANNELS, &a, add_channel, &l);
	if (st == ST_OK)
		st = keyed_query(AN_Q_CHANNEL_CUSTOMERS, &a, &ks, 0);
	json_t *list = json_array();
	for (size_t i = 0; i < l.n && st == ST_OK; i++) {
		int64_t scans[AN_COLS];
		struct an_args sa = a;
		sa.x = l.v[i].id;
		st = one(AN_Q_SCANS, &sa, scans);
		if (st == ST_OK)
			json_array_append_new(list,
			                      channel_json(&r, l.v[i].id, l.v[i].name, l.v[i].kind,
			                                   l.v[i].units, l.v[i].cost,
			                                   key_get(&ks, l.v[i].id)->v, scans[0]));
	}
	const int64_t *none = key_get(&ks, 0)->v;
	if (st == ST_OK && none[0] > 0)
		json_array_append_new(list, channel_json(&r, 0, NULL, NULL, 0, 0, none, 0));
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].name);
		free(l.v[i].kind);
	}
	free(l.v);
	keyset_clear(&ks);
	if (st != ST_OK) {
		json_decref(list);
		return api_store_error(rs, st);
	}
	json_t *j = range_json(&r);
	json_object_set_new(j, "channels", list);
	rs->body = j;
	return 200;
}

/* GET /analytics/operators ------------------------------------------------------------ */

static void add_user(void *arg, const struct an_row *r)
{
	struct keyset *ks = arg;
	struct keyed *k = key_get(ks, r->i[0]);
	k->named = true;
	k->s[0] = xstrdup(r->s[1] ? r->s[1] : "");
	k->s[1] = r->s[2] ? xstrdup(r->s[2]) : NULL;
}

static int by_gmv(const void *x, const void *y)
{
	const struct keyed *a = x, *b = y;
	/* v: customers, new customers, orders, gmv */
	if (a->v[3] != b->v[3])
		return a->v[3] > b->v[3] ? -1 : 1;
	if ((a->key == 0) != (b->key == 0))
		return a->key == 0 ? 1 : -1;
	return a->key < b->key ? -1 : a->key > b->key;
}

int api_analytics_operators(const struct req *rq, struct resp *rs)
{
	struct range r;
	int status;
	if ((status = parse_range(rq, rs, &r)))
		return status;
	struct keyset ks = {0};
	struct an_args a = {.f = r.f, .t = r.t};
	int st = keyed_query(AN_Q_OWNER_CUSTOMERS, &a, &ks, 0);
	if (st == ST_OK)
		st = keyed_query(AN_Q_OWNER_ORDERS, &a, &ks, 2);
	if (st == ST_OK)
		st = store_an_query(store_reader(), AN_Q_USERS, &a, add_user, &ks);
	if (st != ST_OK) {
		keyset_clear(&ks);
		return api_store_error(rs, st);
	}
	if (ks.n > 1)
		qsort(ks.k, ks.n, sizeof *ks.k, by_gmv);
	json_t *list = json_array();
	for (size_t i = 0; i < ks.n; i++) {
		const struct keyed *k = &ks.k[i];
		if (k->v[0] == 0 && k->v[2] == 0)
			continue;
		json_t *j =
		    json_pack("{s:o, s:o, s:o}", "user_id", k->key ? num(k->key) : json_null(),
		              "username", str_or_null(k->key ? k->s[0] : NULL), "display_name",
		              str_or_null(k->key ? k->s[1] : NULL));
		json_object_set_new(j, "customers", num(k->v[0]));
		json_object_set_new(j, "new_customers", num(k->v[1]));
		json_object_set_new(j, "orders", num(k->v[2]));
		json_object_set_new(j, "gmv_cents", num(k->v[3]));
		json_object_set_new(j, "gmv_per_customer_cents", per(k->v[3], k->v[0]));
		json_array_append_new(list, j);
	}
	keyset_clear(&ks);
	json_t *j = range_json(&r);
	json_object_set_new(j, "operators", list);
	rs->body = j;
	return 200;
}

/* GET /analytics/groups --------------------------------------------------------------- */

static const char *const group_kinds[] = {"basic", "high_value", "koc"};

struct group_acc {
	json_t *list;
	int64_t kinds[3][4]; /* groups, members, active, converted */
};

static json_t *group_figures(json_t *j, const int64_t *v)
{
	/* v: members, active, converted */
	json_object_set_new(j, "members", num(v[0]));
	json_object_set_new(j, "active_members", num(v[1]));
	json_object_set_new(j, "interaction_rate", rate(v[1], v[0]));
	json_object_set_new(j, "converted_members", num(v[2]));
	json_object_set_new(j, "conversion_rate", rate(v[2], v[0]));
	return j;
}

static void add_group(void *arg, const struct an_row *r)
{
	struct group_acc *g = arg;
	const char *kind = r->s[5] ? r->s[5] : "basic";
	json_array_append_new(
	    g->list, group_figures(json_pack("{s:I, s:s, s:s}", "group_id", (json_int_t)r->i[0],
	                                     "name", r->s[4] ? r->s[4] : "", "kind", kind),
	                           &r->i[1]));
	for (int k = 0; k < 3; k++)
		if (strcmp(kind, group_kinds[k]) == 0) {
			g->kinds[k][0]++;
			for (int c = 0; c < 3; c++)
				g->kinds[k][c + 1] += r->i[c + 1];
		}
}

int api_analytics_groups(const struct req *rq, struct resp *rs)
{
	struct range r;
	int status;
	if ((status = parse_range(rq, rs, &r)))
		return status;
	/* group_id: that group's figures only (no row if there is no such group) */
	int64_t group = 0;
	const char *gs = http_req_query(rq, "group_id");
	if (gs && (!str_to_i64(gs, &group) || group < 1))
		return api_error(rs, 422, "validation_failed", "group_id",
		                 "group_id must be a group id (a whole number from 1)");
	struct group_acc g = {.list = json_array()};
	struct an_args a = {.x = group, .ft = r.ft, .tt = r.tt};
	/* a look at every member's activity and orders: on a connection of the
	 * scan pool, whose cache keeps those indexes warm between requests */
	struct store_db *db = store_scan_acquire();
	int st = db ? store_an_query(db, gs ? AN_Q_GROUP : AN_Q_GROUPS, &a, add_group, &g)
	            : ST_UNAVAILABLE;
	if (db)
		store_scan_release(db);
	if (st != ST_OK) {
		json_decref(g.list);
		return api_store_error(rs, st);
	}
	json_t *kinds = json_array();
	for (int k = 0; k < 3; k++)
		json_array_append_new(kinds,
		                      group_figures(json_pack("{s:s, s:I}", "kind", group_kinds[k],
		                                              "groups", (json_int_t)g.kinds[k][0]),
		                                    &g.kinds[k][1]));
	json_t *j = range_json(&r);
	json_object_set_new(j, "groups", g.list);
	json_object_set_new(j, "kinds", kinds);
	rs->body = j;
	return 200;
}

/* GET /analytics/ambassadors ---------------------------------------------------------- */

struct amb_acc {
	json_t *list;
	int64_t gmv;
};

static void add_ambassador(void *arg, const struct an_row *r)
{
	struct amb_acc *acc = arg;
	json_t *j = json_pack("{s:I, s:I, s:I, s:s}", "ambassador_id", (json_int_t)r->i[0],
	                      "customer_id", (json_int_t)r->i[1], "level", (json_int_t)r->i[2],
	                      "referral_code", r->s[6] ? r->s[6] : "");
	json_object_set_new(j, "orders", num(r->i[3]));
	json_object_set_new(j, "gmv_cents", num(r->i[4]));
	json_object_set_new(j, "customers", num(r->i[5]));
	json_object_set_new(j, "gmv_share", rate(r->i[4], acc->gmv));
	json_array_append_new(acc->list, j);
}

int api_analytics_ambassadors(const struct req *rq, struct resp *rs)
{
	struct range r;
	int status;
	if ((status = parse_range(rq, rs, &r)))
		return status;
	int64_t limit = 50;
	const char *l = http_req_query(rq, "limit");
	if (l && (!str_to_i64(l, &limit) || limit < 1 || limit > 500))
		return api_error(rs, 422, "validation_failed", "limit",
		                 "limit must be a whole number from 1 to 500");
	struct an_args a = {.f = r.f, .t = r.t};
	int64_t o[AN_COLS], all[AN_COLS], ref[AN_COLS];
	int st = one(AN_Q_ORDERS, &a, o);
	if (st == ST_OK)
		st = one(AN_Q_BUYERS, &a, all);
	if (st == ST_OK) {
		a.x = -1;
		st = one(AN_Q_BUYERS, &a, ref);
	}
	struct amb_acc acc = {.list = json_array(), .gmv = o[1]};
	if (st == ST_OK) {
		a.x = limit;
		st = store_an_query(store_reader(), AN_Q_AMBASSADORS, &a, add_ambassador, &acc);
	}
	if (st != ST_OK) {
		json_decref(acc.list);
		return api_store_error(rs, st);
	}
	json_t *j = range_json(&r);
	json_object_set_new(j, "orders", num(o[0]));
	json_object_set_new(j, "gmv_cents", num(o[1]));
	json_object_set_new(j, "buyers", num(all[0]));
	json_object_set_new(j, "referred_orders", num(o[3]));
	json_object_set_new(j, "referred_gmv_cents", num(o[4]));
	json_object_set_new(j, "referred_customers", num(ref[0]));
	json_object_set_new(j, "gmv_share", rate(o[4], o[1]));
	json_object_set_new(j, "customer_share", rate(ref[0], all[0]));
	json_object_set_new(j, "ambassadors", acc.list);
	rs->body = j;
	return 200;
}

/* GET /analytics/cohorts -------------------------------------------------------------- */

struct cohort {
	int64_t customers, buyers, gmv;
	int64_t before;      /* second orders paid before the cohort's month */
	int64_t *buy, *sec;  /* per month offset 0 .. span - 1 */
	struct keyset chans; /* channel -> customers, gmv */
};

struct cohort_acc {
	struct cohort *c;
	int64_t m0, n, current;
};

static void add_size(void *arg, const struct an_row *r)
{
	struct cohort_acc *acc = arg;
	int64_t k = month_of_day(r->i[0]) - acc->m0;
	if (k < 0 || k >= acc->n)
		return;
	struct cohort *c = &acc->c[k];
	c->customers += r->i[2];
	c->buyers += r->i[3];
	c->gmv += r->i[4];
	struct keyed *ch = key_get(&c->chans, r->i[1]);
	ch->v[0] += r->i[2];
	ch->v[1] += r->i[4];
}

static void add_curve(void *arg, const struct an_row *r)
{
	struct cohort_acc *acc = arg;
	int64_t k = r->i[0] - acc->m0, month = r->i[1];
	if (k < 0 || k >= acc->n || month > acc->current)
		return;
	struct cohort *c = &acc->c[k];
	if (month < r->i[0]) {
		c->before += r->i[3];
		return;
	}
	c->buy[month - r->i[0]] += r->i[2];
	c->sec[month - r->i[0]] += r->i[3];
}

static int by_key(const void *x, const void *y)
{
	const struct keyed *a = x, *b = y;
	if ((a->key == 0) != (b->key == 0))
		return a->key == 0 ? 1 : -1;
	return a->key < b->key ? -1 : a->key > b->key;
}

static json_t *cohort_json(const struct cohort_acc *acc, int64_t k)
{
	struct cohort *c = &acc->c[k];
	int64_t month = acc->m0 + k;
	json_t *j =
	    json_pack("{s:o, s:o, s:o}", "cohort", month_json(month), "from",
	              date_json(month_start(month)), "to", date_json(month_start(month + 1)));
	json_object_set_new(j, "customers", num(c->customers));
	json_object_set_new(j, "buyers", num(c->buyers));
	json_object_set_new(j, "gmv_cents", num(c->gmv));
	json_object_set_new(j, "ltv_cents", per(c->gmv, c->customers));
	json_t *months = json_array();
	int64_t repurchased = c->before;
	for (int64_t m = month; m <= acc->current; m++) {
		repurchased += c->sec[m - month];
		json_t *p = json_pack("{s:I, s:o}", "offset", (json_int_t)(m - month), "month",
		                      month_json(m));
		json_object_set_new(p, "buyers", num(c->buy[m - month]));
		json_object_set_new(p, "buyer_rate", rate(c->buy[m - month], c->customers));
		json_object_set_new(p, "repurchased", num(repurchased));
		json_object_set_new(p, "repurchase_rate", rate(repurchased, c->customers));
		json_array_append_new(months, p);
	}
	json_object_set_new(j, "months", months);
	if (c->chans.n > 1)
		qsort(c->chans.k, c->chans.n, sizeof *c->chans.k, by_key);
	json_t *chans = json_array();
	for (size_t i = 0; i < c->chans.n; i++) {
		const struct keyed *ch = &c->chans.k[i];
		if (ch->v[0] == 0)
			continue;
		json_t *p = json_pack("{s:o}", "channel_id", ch->key ? num(ch->key) : json_null());
		json_object_set_new(p, "customers", num(ch->v[0]));
		json_object_set_new(p, "gmv_cents", num(ch->v[1]));
		json_object_set_new(p, "ltv_cents", per(ch->v[1], ch->v[0]));
		json_array_append_new(chans, p);
	}
	json_object_set_new(j, "channels", chans);
	return j;
}

int api_analytics_cohorts(const struct req *rq, struct resp *rs)
{
	struct range r;
	int status;
	if ((status = parse_range(rq, rs, &r)))
		return status;
	int64_t channel = -1;
	const char *cs = http_req_query(rq, "channel_id");
	if (cs && (!str_to_i64(cs, &channel) || channel < 0))
		return api_error(rs, 422, "validation_failed", "channel_id",
		                 "channel_id must be a channel id, or 0 for customers without one");
	int64_t m0, m1;
	if ((status = periods(&r, 1, MAX_COHORTS, rs, &m0, &m1)))
		return status;
	struct cohort_acc acc = {.m0 = m0, .n = m1 - m0 + 1, .current = month_of_day(r.today)};
	acc.c = xcalloc((size_t)acc.n, sizeof *acc.c);
	for (int64_t k = 0; k < acc.n; k++) {
		int64_t span = acc.current - (m0 + k) + 1;
		acc.c[k].buy = xcalloc((size_t)(span > 0 ? span : 1), sizeof(int64_t));
		acc.c[k].sec = xcalloc((size_t)(span > 0 ? span : 1), sizeof(int64_t));
	}
	struct an_args a = {.f = month_start(m0), .t = month_start(m1 + 1), .x = channel};
	int st = store_an_query(store_reader(), AN_Q_COHORT_SIZES, &a, add_size, &acc);
	if (st == ST_OK) {
		struct an_args ca = {.f = m0, .t = m1, .x = channel};
		st = store_an_query(store_reader(), AN_Q_COHORT_CURVE, &ca, add_curve, &acc);
	}
	json_t *list = json_array();
	for (int64_t k = 0; k < acc.n; k++) {
		if (st == ST_OK)
			json_array_append_new(list, cohort_json(&acc, k));
		free(acc.c[k].buy);
		free(acc.c[k].sec);
		keyset_clear(&acc.c[k].chans);
	}
	free(acc.c);
	if (st != ST_OK) {
		json_decref(list);
		return api_store_error(rs, st);
	}
	json_t *j = json_pack("{s:o, s:o}", "from", date_json(a.f), "to", date_json(a.t));
	if (cs)
		json_object_set_new(j, "channel_id", num(channel));
	json_object_set_new(j, "cohorts", list);
	rs->body = j;
	return 200;
}
