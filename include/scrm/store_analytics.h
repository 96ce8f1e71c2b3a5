/* store_analytics.h - the figures behind /analytics: kept exact by every write
 * (store_analytics_flush, run by the writer at the end of each closure) and
 * read by a fixed set of queries over the daily tables of
 * migrations/0009_analytics.sql. Days are business days (time_local_day). */
#ifndef SCRM_STORE_ANALYTICS_H
#define SCRM_STORE_ANALYTICS_H

#include "scrm/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Take the customers and orders the triggers noted as changed out of the
 * figures and put them back as they are now; in the caller's transaction. */
int store_analytics_flush(struct store_db *db);
/* Work every figure out again from the records; in the caller's transaction. */
int store_analytics_rebuild(struct store_db *db);
/* At start-up: rebuild when the figures were made for another time zone or
 * layout (or never); takes its own write transaction. */
int store_analytics_prepare(void);
/* What the demo loader drops before a bulk load (the triggers that note
 * changes) and creates again after it, before store_analytics_rebuild. */
int store_analytics_triggers_drop(struct store_db *db, char ***sqls, size_t *n);
int store_analytics_triggers_create(struct store_db *db, char **sqls, size_t n);

/* The queries. Each binds what it uses of the arguments: f and t (days, or
 * months for the cohort curve; [f, t) unless said), x (an extra integer) and
 * ft, tt (the same range as unix times). */
enum an_query {
	AN_Q_CUSTOMERS,         /* customers joined before t, joined in [f, t) */
	AN_Q_ORDERS,            /* orders, gmv, bound, referred orders, referred gmv */
	AN_Q_BUYERS,            /* scope x: buyers, returning buyers */
	AN_Q_POINTS,            /* issued, used in range; outstanding before t */
	AN_Q_GAPS,              /* rows: day, prev_day, orders (scope 0) */
	AN_Q_ORDER_DAYS,        /* rows: day, orders, gmv, month repeats, quarter repeats */
	AN_Q_CHANNELS,          /* rows: id, units, cost_cents, name, kind */
	AN_Q_CHANNEL_CUSTOMERS, /* rows: channel, customers, buyers, converted_1d, gmv,
	                           eligible (joined before day x), retained */
	AN_Q_SCANS,             /* scans of channel x in [ft, tt) */
	AN_Q_OWNER_CUSTOMERS,   /* rows: owner, customers joined before t, of them in [f, t) */
	AN_Q_OWNER_ORDERS,      /* rows: owner, orders, gmv (bound orders) */
	AN_Q_USERS,             /* rows: id, username, display_name */
	AN_Q_GROUPS,            /* rows: id, members, active, converted, name, kind */
	AN_Q_GROUP,             /* the same row of group x only (none if no such group) */
	AN_Q_AMBASSADORS,       /* rows: id, customer_id, level, orders, gmv, customers,
	                           referral_code; top x by gmv */
	AN_Q_COHORT_SIZES, /* rows: day, channel, customers, buyers, gmv; channel x or all (< 0) */
	AN_Q_COHORT_CURVE, /* rows: join month, month, buyers, second orders; join
	                      months [f, t]; channel x or all (< 0) */
	AN_Q_N
};

struct an_args {
	int64_t f, t, x, ft, tt;
};

#define AN_COLS 8
/* One answer row: column k as an integer (i), as text (s, NULL when NULL). */
struct an_row {
	int n;
	int64_t i[AN_COLS];
	const char *s[AN_COLS];
};
typedef void (*store_an_cb)(void *arg, const struct an_row *r);
int store_an_query(struct store_db *db, enum an_query q, const struct an_args *a, store_an_cb cb,
                   void *arg);

#endif
