/* ambassadors.c - commission on referred orders, and ambassador levels. */
#include "scrm/core_ambassadors.h"

#include "scrm/store_ambassadors.h"
#include "scrm/store_records.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

#define LEVELS_MAX 9

static unsigned return_days = 15;
static int64_t level_gmv[LEVELS_MAX] = {100000, 500000, 2000000, 5000000}; /* cents */
static int nlevels = 4;

int core_ambassadors_configure(unsigned days, const char *levels)
{
	return_days = days;
	if (!levels)
		return 0;
	int64_t v[LEVELS_MAX];
	int n = 0;
	for (const char *p = levels; *p;) {
		char *end;
		long long yuan = strtoll(p, &end, 10);
		if (end == p || yuan < 0 || n == LEVELS_MAX || (n && yuan * 100 <= v[n - 1]))
			return -1;
		v[n++] = yuan * 100;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	memcpy(level_gmv, v, (size_t)n * sizeof v[0]);
	nlevels = n;
	return 0;
}

int64_t core_ambassador_level_for(int64_t gmv_cents)
{
	int64_t level = 1;
	for (int i = 0; i < nlevels; i++)
		if (gmv_cents >= level_gmv[i])
			level = i + 2;
	return level;
}

/* The referred totals move and the level follows the GMV up (never down: a
 * level is a promotion, taken back by an operator if at all). */
static int add_referred(struct store_db *db, const struct ambassador *a, int64_t orders,
                        int64_t gmv, int64_t now, struct core_err *e)
{
	int64_t level = core_ambassador_level_for(a->referred_gmv_cents + gmv);
	int st = store_ambassador_add_referred(db, a->id, orders, gmv, level, now);
	return st == ST_OK ? 0 : core_store_fail(e, st);
}

int core_commission_sync(struct store_db *db, const struct order *o, int64_t now,
                         struct core_err *e)
{
	struct ambassador a = {0};
	struct commission earn = {0};
	int rc = 0;
	int st = store_commission_of_order(db, o->id, "earn", &earn);
	if (st != ST_OK && st != ST_NOT_FOUND)
		return core_store_fail(e, st);
	bool earned = st == ST_OK;
	/* the ambassador of the earning, or of the code the order carries now */
	if (earned)
		st = store_ambassador_get(db, earn.ambassador_id, &a);
	else if (o->referral_code)
		st = store_ambassador_by_code(db, o->referral_code, &a);
	else
		st = ST_NOT_FOUND;
	if (st != ST_OK && st != ST_NOT_FOUND) {
		rc = core_store_fail(e, st);
		goto out;
	}
	bool found = st == ST_OK;
	bool paid = strcmp(o->status, "paid") == 0;
	bool own = found && o->customer_id && o->customer_id == a.customer_id;
	/* refunded, cancelled, or found to be the ambassador's own (bound or
	 * merged into their profile after it earned): the earning goes */
	bool void_it = !paid || own;
	/* orders paid before the enrolment were not the ambassador's doing */
	if (!earned && found && paid && !own && o->paid_at >= a.created_at) {
		struct commission c = {.ambassador_id = a.id,
		                       .order_id = o->id,
		                       .kind = "earn",
		                       .amount_cents = o->amount_cents * a.commission_pct / 100,
		                       .order_cents = o->amount_cents,
		                       .status = "pending",
		                       .settle_at = o->paid_at + (int64_t)return_days * 86400,
		                       .created_at = now};
		st = store_commission_insert(db, &c);
		rc = st == ST_OK ? add_referred(db, &a, 1, o->amount_cents, now, e)
		                 : core_store_fail(e, st);
	} else if (earned && void_it && strcmp(earn.status, "pending") == 0) {
		st = store_commission_set_status(db, earn.id, "reversed", now);
		rc = st == ST_OK ? add_referred(db, &a, -1, -earn.order_cents, now, e)
		                 : core_store_fail(e, st);
	} else if (earned && void_it && strcmp(earn.status, "settled") == 0) {
		struct commission back = {0};
		st = store_commission_of_order(db, o->id, "reversal", &back);
		commission_clear(&back);
		if (st == ST_NOT_FOUND) {
			struct commission c = {.ambassador_id = a.id,
			                       .order_id = o->id,
			                       .kind = "reversal",
			                       .amount_cents = -earn.amount_cents,
			                       .order_cents = earn.order_cents,
			                       .status = "settled",
			                       .settle_at = now,
			                       .created_at = now};
			st = store_commission_insert(db, &c);
			rc = st == ST_OK ? add_referred(db, &a, -1, -earn.order_cents, now, e)
			                 : core_store_fail(e, st);
		} else if (st != ST_OK) {
			rc = core_store_fail(e, st);
		}
	}
out:
	ambassador_clear(&a);
	commission_clear(&earn);
	return rc;
}

/* Collects order ids. */
struct ids {
	int64_t *v;
	size_t n, cap;
};

static void keep_id(void *arg, int64_t id)
{
	struct ids *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = id;
}

int core_commission_own_sync(struct store_db *db, int64_t customer_id, int64_t now,
                             struct core_err *e)
{
	struct ids l = {0};
	int st = store_commission_own_orders(db, customer_id, keep_id, &l);
	int rc = st == ST_OK ? 0 : core_store_fail(e, st);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct order o = {0};
		st = store_order_get(db, l.v[i], &o);
		rc = st == ST_OK ? core_commission_sync(db, &o, now, e) : core_store_fail(e, st);
		order_clear(&o);
	}
	free(l.v);
	return rc;
}
