/* tiers.c - member tiers from the last 12 months: points earned or money spent
 * (each tier says which), never the spendable balance; a manual override wins
 * until its end date. */
#include "scrm/core_loyalty.h"

#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <string.h>

int64_t core_tier_window_start(int64_t now)
{
	return time_local_add_months(now, -12);
}

int64_t core_tier_pick(const struct tier *tiers, size_t n, int64_t spent_12m, int64_t points_12m)
{
	/* tiers come highest rank first: the first one reached is the tier */
	for (size_t i = 0; i < n; i++) {
		int64_t have = strcmp(tiers[i].basis, "spent") == 0 ? spent_12m : points_12m;
		if (have >= tiers[i].threshold)
			return tiers[i].id;
	}
	return 0;
}

static const char *tier_name(const struct tier *tiers, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (tiers[i].id == id)
			return tiers[i].name;
	return NULL;
}

int core_tier_apply(struct store_db *db, int64_t customer_id, const struct customer_tier *before,
                    const struct customer_tier *after, const struct tier *tiers, size_t n,
                    int64_t now, struct core_err *e)
{
	if (!memcmp(before, after, sizeof *before))
		return 0;
	int st = store_customer_tier_set(db, customer_id, after, now);
	if (st != ST_OK)
		return core_store_fail(e, st);
	if (before->tier_id == after->tier_id)
		return 0;
	const char *from = tier_name(tiers, n, before->tier_id),
	           *to = tier_name(tiers, n, after->tier_id);
	return core_event(
	    db, customer_id, now, "tier.changed", "tier", after->tier_id,
	    json_pack("{s:o, s:o, s:b}", "from", from ? json_string(from) : json_null(), "to",
	              to ? json_string(to) : json_null(), "override", after->override_id != 0),
	    e);
}

/* The tier fields a customer should have now. */
static struct customer_tier target(const struct customer_tier *cur, const struct tier *tiers,
                                   size_t n, int64_t spent, int64_t points, int64_t now)
{
	struct customer_tier t = *cur;
	if (t.override_id && t.override_until <= now)
		t.override_id = t.override_until = 0; /* the override ended */
	t.tier_id = t.override_id ? t.override_id : core_tier_pick(tiers, n, spent, points);
	return t;
}

int core_tier_refresh(struct store_db *db, int64_t customer_id, int64_t now, struct core_err *e)
{
	struct tier *tiers = NULL;
	size_t n = 0;
	struct customer_tier cur = {0};
	int st = store_tiers_all(db, &tiers, &n);
	if (st == ST_OK)
		st = store_customer_tier_get(db, customer_id, &cur);
	if (st != ST_OK) {
		store_tiers_free(tiers, n);
		return core_store_fail(e, st);
	}
	int rc = 0;
	if (n > 0 || cur.tier_id || cur.override_id) {
		bool want_spent = false, want_points = false;
		for (size_t i = 0; i < n; i++) {
			want_spent = want_spent || strcmp(tiers[i].basis, "spent") == 0;
			want_points = want_points || strcmp(tiers[i].basis, "points") == 0;
		}
		int64_t since = core_tier_window_start(now);
		int64_t spent = want_spent ? store_spent_since(db, customer_id, since) : 0;
		int64_t points =
		    want_points ? store_points_earned_since(db, customer_id, since) : 0;
		struct customer_tier next = target(&cur, tiers, n, spent, points, now);
		rc = core_tier_apply(db, customer_id, &cur, &next, tiers, n, now, e);
	}
	store_tiers_free(tiers, n);
	return rc;
}

int core_tier_override(struct store_db *db, int64_t customer_id, int64_t tier_id, int64_t until,
                       int64_t now, struct core_err *e)
{
	struct customer c = {0};
	if (core_customer_load(db, customer_id, &c, e) < 0)
		return -1;
	customer_clear(&c);
	struct customer_tier cur = {0};
	int st = store_customer_tier_get(db, customer_id, &cur);
	if (st != ST_OK)
		return core_store_fail(e, st);
	if (tier_id) {
		struct tier t = {0};
		st = store_tier_get(db, tier_id, &t);
		tier_clear(&t);
		if (st == ST_NOT_FOUND)
			return core_fail(e, CORE_INVALID, "tier_id", "no such tier");
		if (st != ST_OK)
			return core_store_fail(e, st);
		if (until <= now)
			return core_fail(e, CORE_INVALID, "until", "until must be in the future");
	}
	struct customer_tier next = cur;
	next.override_id = tier_id;
	next.override_until = tier_id ? until : 0;
	st = store_customer_tier_set(db, customer_id, &next, now);
	if (st != ST_OK)
		return core_store_fail(e, st);
	return core_tier_refresh(db, customer_id, now, e);
}
