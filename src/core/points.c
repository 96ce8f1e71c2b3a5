/* points.c - the points rules and every movement of points: grants as lots,
 * spending from the oldest lot first, order earnings that are paid once and
 * taken back on refund, check-in streaks, content bonuses; and the wallet. */
#include "scrm/core_loyalty.h"

#include "scrm/store_segments.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int core_fail_code(struct core_err *e, const char *code, const char *field, const char *fmt, ...)
{
	e->rc = CORE_INVALID;
	e->code = code;
	e->field = field;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Rules ------------------------------------------------------------------------ */

void core_points_rules_default(struct points_rules *r)
{
	static const int64_t schedule[] = {5, 5, 5, 5, 5, 5, 30};
	memset(r, 0, sizeof *r);
	r->per_yuan_x100 = 100;
	r->bind_bonus = 0;
	r->review_bonus = 20;
	memcpy(r->schedule, schedule, sizeof schedule);
	r->schedule_len = SCRM_ARRAY_LEN(schedule);
	r->expiry_months = 12;
	r->member_day = 18;
	r->member_day_multiplier = 2;
}

static int int_field(const json_t *j, const char *key, int64_t lo, int64_t hi, int64_t *out,
                     struct core_err *e)
{
	json_t *v = json_object_get(j, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return core_fail(e, CORE_INVALID, key,
		                 "%s must be a whole number from %lld to %lld", key, (long long)lo,
		                 (long long)hi);
	*out = json_integer_value(v);
	return 0;
}

int core_points_rules_apply(struct points_rules *r, const json_t *j, struct core_err *e)
{
	static const char *const known[] = {"points_per_yuan",      "bind_bonus",    "review_bonus",
	                                    "checkin_schedule",     "expiry_months", "member_day",
	                                    "member_day_multiplier"};
	if (!json_is_object(j))
		return core_fail(e, CORE_INVALID, NULL, "the points rules must be an object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v)
	{
		bool ok = false;
		for (size_t i = 0; i < SCRM_ARRAY_LEN(known); i++)
			ok = ok || strcmp(k, known[i]) == 0;
		if (!ok) {
			snprintf(e->path, sizeof e->path, "%s", k);
			return core_fail(
			    e, CORE_INVALID, e->path,
			    "unknown field '%s'; allowed: points_per_yuan, bind_bonus, "
			    "review_bonus, checkin_schedule, expiry_months, member_day, "
			    "member_day_multiplier",
			    k);
		}
	}
	v = json_object_get(j, "points_per_yuan");
	if (v) {
		/* whole or with up to two decimals: 0.1 means a point per ten yuan */
		double d = json_is_number(v) ? json_number_value(v) : -1;
		int64_t x100 = (int64_t)(d * 100 + 0.5);
		if (!json_is_number(v) || d < 0 || d > 1000 || (double)x100 / 100 - d > 1e-9 ||
		    d - (double)x100 / 100 > 1e-9)
			return core_fail(
			    e, CORE_INVALID, "points_per_yuan",
			    "points_per_yuan must be a number from 0 to 1000 with at most "
			    "two decimals");
		r->per_yuan_x100 = x100;
	}
	int64_t x;
	if (int_field(j, "bind_bonus", 0, 1000000, &r->bind_bonus, e) < 0 ||
	    int_field(j, "review_bonus", 0, 1000000, &r->review_bonus, e) < 0 ||
	    int_field(j, "member_day_multiplier", 1, 10, &r->member_day_multiplier, e) < 0)
		return -1;
	x = r->expiry_months;
	if (int_field(j, "expiry_months", 0, 120, &x, e) < 0)
		return -1;
	r->expiry_months = (int)x;
	x = r->member_day;
	if (int_field(j, "member_day", 0, 31, &x, e) < 0)
		return -1;
	r->member_day = (int)x;
	v = json_object_get(j, "checkin_schedule");
	if (v) {
		size_t n = json_array_size(v);
		if (!json_is_array(v) || n < 1 || n > POINTS_SCHEDULE_MAX)
			return core_fail(e, CORE_INVALID, "checkin_schedule",
			                 "checkin_schedule must be a list of 1 to %d point amounts",
			                 POINTS_SCHEDULE_MAX);
		for (size_t i = 0; i < n; i++) {
			json_t *p = json_array_get(v, i);
			if (!json_is_integer(p) || json_integer_value(p) < 0 ||
			    json_integer_value(p) > 100000) {
				snprintf(e->path, sizeof e->path, "checkin_schedule[%zu]", i);
				return core_fail(e, CORE_INVALID, e->path,
				                 "%s must be a whole number from 0 to 100000",
				                 e->path);
			}
			r->schedule[i] = json_integer_value(p);
		}
		r->schedule_len = n;
	}
	return 0;
}

json_t *core_points_rules_json(const struct points_rules *r)
{
	json_t *sched = json_array();
	for (size_t i = 0; i < r->schedule_len; i++)
		json_array_append_new(sched, json_integer(r->schedule[i]));
	json_t *ppy = r->per_yuan_x100 % 100 == 0 ? json_integer(r->per_yuan_x100 / 100)
	                                          : json_real((double)r->per_yuan_x100 / 100);
	return json_pack("{s:o, s:I, s:I, s:o, s:i, s:i, s:I}", "points_per_yuan", ppy,
	                 "bind_bonus", (json_int_t)r->bind_bonus, "review_bonus",
	                 (json_int_t)r->review_bonus, "checkin_schedule", sched, "expiry_months",
	                 r->expiry_months, "member_day", r->member_day, "member_day_multiplier",
	                 (json_int_t)r->member_day_multiplier);
}

int core_points_rules_load(struct store_db *db, struct points_rules *r, struct core_err *e)
{
	core_points_rules_default(r);
	char *text = NULL;
	int st = store_setting_get(db, "points", &text);
	if (st == ST_NOT_FOUND)
		return 0;
	if (st != ST_OK)
		return core_store_fail(e, st);
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	int rc = j ? core_points_rules_apply(r, j, e) : 0;
	json_decref(j);
	return rc;
}

int core_points_rules_save(struct store_db *db, const struct points_rules *r, int64_t now,
                           struct core_err *e)
{
	json_t *j = core_points_rules_json(r);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	int st = store_setting_put(db, "points", text, now);
	free(text);
	return st == ST_OK ? 0 : core_store_fail(e, st);
}

/* Movements --------------------------------------------------------------------- */

static int changed_event(struct store_db *db, int64_t customer_id, int64_t delta,
                         const char *reason, int64_t now, struct core_err *e)
{
	int64_t balance = store_points_balance(db, customer_id);
	return core_event(db, customer_id, now, "points.changed", NULL, 0,
	                  json_pack("{s:I, s:s, s:I}", "delta", (json_int_t)delta, "reason", reason,
	                            "balance", (json_int_t)balance),
	                  e);
}

int core_points_grant(struct store_db *db, int64_t customer_id, int64_t points, const char *reason,
                      const char *ref_type, int64_t ref_id, const char *note, int64_t now,
                      const struct points_rules *r, struct core_err *e)
{
	if (points <= 0)
		return 0;
	int64_t expires = 0;
	if (r->expiry_months > 0) /* to the end of that business day */
		expires = time_local_day_end(
		    time_local_day(time_local_add_months(now, r->expiry_months)));
	struct ledger_entry le = {.customer_id = customer_id,
	                          .delta = points,
	                          .reason = reason,
	                          .ref_type = ref_type,
	                          .ref_id = ref_id,
	                          .note = note,
	                          .expires_at = expires,
	                          .remaining = points,
	                          .created_at = now};
	int64_t id;
	int st = store_points_add(db, &le, &id);
	if (st != ST_OK)
		return core_store_fail(e, st);
	if (changed_event(db, customer_id, points, reason, now, e) < 0)
		return -1;
	return core_tier_refresh(db, customer_id, now, e);
}

struct lots {
	int64_t ids[64], left[64];
	size_t n;
};

static void take_lot(void *arg, int64_t id, int64_t remaining)
{
	struct lots *l = arg;
	if (l->n < SCRM_ARRAY_LEN(l->ids)) {
		l->ids[l->n] = id;
		l->left[l->n++] = remaining;
	}
}

/* Empty `amount` points from lots, the order's own first when order_id is set,
 * then the one that expires first, in pages of lots. */
static int consume(struct store_db *db, int64_t customer_id, int64_t order_id, int64_t amount,
                   struct core_err *e)
{
	while (amount > 0) {
		struct lots l = {.n = 0};
		int st = store_points_lots(db, customer_id, order_id, SCRM_ARRAY_LEN(l.ids),
		                           take_lot, &l);
		if (st != ST_OK)
			return core_store_fail(e, st);
		if (l.n == 0) /* lots and balance disagree: refuse rather than invent points */
			return core_store_fail(e, ST_ERR);
		for (size_t i = 0; i < l.n && amount > 0; i++) {
			int64_t use = l.left[i] < amount ? l.left[i] : amount;
			if ((st = store_points_lot_set(db, l.ids[i], l.left[i] - use)) != ST_OK)
				return core_store_fail(e, st);
			amount -= use;
		}
	}
	return 0;
}

/* Take up to `want` points (never below zero) and write the row; `owed` is
 * what the row settles: the part not taken is its shortfall. */
static int take_points(struct store_db *db, int64_t customer_id, int64_t want, int64_t owed,
                       int64_t order_id, const char *reason, const char *ref_type, int64_t ref_id,
                       const char *note, int64_t now, int64_t *taken_out, struct core_err *e)
{
	int64_t balance = store_points_balance(db, customer_id);
	if (balance < 0)
		return core_store_fail(e, ST_ERR);
	int64_t take = balance < want ? balance : want;
	if (consume(db, customer_id, order_id, take, e) < 0)
		return -1;
	if (taken_out)
		*taken_out = take;
	/* a clawback that finds less than it wants records the rest as shortfall
	 * (even all of it, with a 0-point row), so that it is never asked again */
	struct ledger_entry le = {.customer_id = customer_id,
	                          .delta = -take,
	                          .reason = reason,
	                          .ref_type = ref_type,
	                          .ref_id = ref_id,
	                          .note = note,
	                          .shortfall = owed - take,
	                          .created_at = now};
	int64_t id;
	int st = store_points_add(db, &le, &id);
	if (st != ST_OK)
		return core_store_fail(e, st);
	if (take == 0)
		return 0;
	if (changed_event(db, customer_id, -take, reason, now, e) < 0)
		return -1;
	return core_tier_refresh(db, customer_id, now, e);
}

int core_points_take(struct store_db *db, int64_t customer_id, int64_t points, const char *reason,
                     const char *ref_type, int64_t ref_id, const char *note, int64_t now,
                     bool partial, int64_t *taken_out, struct core_err *e)
{
	if (taken_out)
		*taken_out = 0;
	if (points <= 0)
		return 0;
	int64_t balance = store_points_balance(db, customer_id);
	if (balance < 0)
		return core_store_fail(e, ST_ERR);
	if (balance < points && !partial)
		return core_fail_code(e, CORE_CODE_INSUFFICIENT_POINTS, NULL,
		                      "needs %lld points; the customer has %lld", (long long)points,
		                      (long long)balance);
	return take_points(db, customer_id, points, points, 0, reason, ref_type, ref_id, note, now,
	                   taken_out, e);
}

/* Orders ------------------------------------------------------------------------ */

/* The points an order pays at time now: by the amount, times the member day
 * multiplier when now falls on member day in the business calendar. */
static int64_t order_points(const struct points_rules *r, int64_t amount_cents, int64_t now)
{
	int64_t p = amount_cents * r->per_yuan_x100 / 10000;
	int y, m, d;
	time_local_ymd(now, &y, &m, &d);
	if (r->member_day && d == r->member_day)
		p *= r->member_day_multiplier;
	return p;
}

int core_points_order_sync(struct store_db *db, const struct order *o, int64_t now,
                           struct core_err *e)
{
	if (!o->customer_id)
		return 0;
	int64_t net = store_points_order_net(db, o->id);
	if (net < 0)
		return core_store_fail(e, ST_ERR);
	bool earns = strcmp(o->status, "paid") == 0;
	if (earns && net == 0) {
		struct points_rules r;
		if (core_points_rules_load(db, &r, e) < 0)
			return -1;
		int64_t p = order_points(&r, o->amount_cents, now);
		if (core_points_grant(db, o->customer_id, p, "order", "order", o->id, NULL, now, &r,
		                      e) < 0)
			return -1;
		if (o->bound_by && strcmp(o->bound_by, "bind") == 0 && r.bind_bonus > 0)
			return core_points_grant(db, o->customer_id, r.bind_bonus, "bind_bonus",
			                         "order", o->id, NULL, now, &r, e);
		return 0;
	}
	if (!earns && net > 0) {
		/* A refund or cancellation takes back what the order earned: what is
		 * left of its own lots first, then what was spent of them from the
		 * oldest other points. What of them expired is gone already and is
		 * not taken twice; it counts, with what cannot be taken, as
		 * shortfall, so that the order's account is settled. */
		int64_t expired = store_points_order_expired(db, o->id);
		int64_t want = net - (expired > 0 ? expired : 0);
		return take_points(db, o->customer_id, want > 0 ? want : 0, net, o->id, "refund",
		                   "order", o->id, NULL, now, NULL, e);
	}
	return 0;
}

/* Engagement ---------------------------------------------------------------------- */

int core_stage_at_least(struct store_db *db, int64_t customer_id, const char *stage, int64_t now,
                        struct core_err *e)
{
	struct customer c = {0};
	int st = store_customer_get(db, customer_id, &c);
	int rc = 0;
	if (st != ST_OK) {
		rc = core_store_fail(e, st);
	} else if (!c.erased_at && core_stage_rank(stage) > core_stage_rank(c.stage)) {
		json_t *data = json_pack("{s:s, s:s}", "from", c.stage, "to", stage);
		free(c.stage);
		c.stage = xstrdup(stage);
		c.stage_manual = false;
		c.updated_at = now;
		st = store_customer_update(db, &c);
		if (st != ST_OK) {
			json_decref(data);
			rc = core_store_fail(e, st);
		} else {
			rc = core_event(db, customer_id, now, "stage.changed", NULL, 0, data, e);
		}
	}
	customer_clear(&c);
	return rc;
}

static int live(struct store_db *db, int64_t customer_id, struct core_err *e)
{
	struct customer c = {0};
	int rc = core_customer_load(db, customer_id, &c, e);
	customer_clear(&c);
	return rc;
}

int core_checkin(struct store_db *db, int64_t customer_id, int64_t now, int *streak,
                 int64_t *points, struct core_err *e)
{
	if (live(db, customer_id, e) < 0)
		return -1;
	struct points_rules r;
	if (core_points_rules_load(db, &r, e) < 0)
		return -1;
	int64_t today = time_local_day(now), last_day = 0;
	int last_streak = 0;
	int st = store_checkin_last(db, customer_id, &last_day, &last_streak);
	if (st != ST_OK && st != ST_NOT_FOUND)
		return core_store_fail(e, st);
	if (st == ST_OK && last_day >= today)
		return core_fail(e, CORE_CONFLICT, NULL,
		                 "the customer has checked in today already; come back tomorrow");
	/* yesterday continues the streak; after the schedule's last day it
	 * starts again at day 1; a missed day starts it again too */
	bool continues = st == ST_OK && last_day == today - 1 && last_streak < (int)r.schedule_len;
	*streak = continues ? last_streak + 1 : 1;
	*points = r.schedule[*streak - 1];
	st = store_checkin_add(db, customer_id, today, *streak, *points, now);
	if (st == ST_CONFLICT)
		return core_fail(e, CORE_CONFLICT, NULL,
		                 "the customer has checked in today already");
	if (st == ST_OK)
		st = store_customer_checkin_day(db, customer_id, today);
	if (st != ST_OK)
		return core_store_fail(e, st);
	if (core_event(db, customer_id, now, "checkin", NULL, 0,
	               json_pack("{s:i, s:I}", "streak", *streak, "points", (json_int_t)*points),
	               e) < 0 ||
	    core_points_grant(db, customer_id, *points, "checkin", "checkin", today, NULL, now, &r,
	                      e) < 0)
		return -1;
	return core_stage_at_least(db, customer_id, "interested", now, e);
}

int core_wallet_move(struct store_db *db, int64_t customer_id, int64_t delta_cents,
                     const char *reason, const char *note, int64_t now, struct core_err *e)
{
	if (delta_cents == 0)
		return core_fail(e, CORE_INVALID, "delta_cents", "delta_cents must not be 0");
	bool topup = strcmp(reason, "topup") == 0, spend = strcmp(reason, "spend") == 0,
	     refund = strcmp(reason, "refund") == 0, adjust = strcmp(reason, "adjust") == 0;
	if (!topup && !spend && !refund && !adjust)
		return core_fail(e, CORE_INVALID, "reason",
		                 "reason must be topup, spend, refund or adjust");
	if ((topup || refund) && delta_cents < 0)
		return core_fail(e, CORE_INVALID, "delta_cents",
		                 "a %s adds money: delta_cents must be positive", reason);
	if (spend && delta_cents > 0)
		return core_fail(e, CORE_INVALID, "delta_cents",
		                 "a spend takes money: delta_cents must be negative");
	if (live(db, customer_id, e) < 0)
		return -1;
	int64_t balance = store_wallet_balance(db, customer_id);
	if (balance < 0)
		return core_store_fail(e, ST_ERR);
	if (balance + delta_cents < 0)
		return core_fail_code(e, CORE_CODE_INSUFFICIENT_BALANCE, "delta_cents",
		                      "the wallet holds %lld cents", (long long)balance);
	struct ledger_entry le = {.customer_id = customer_id,
	                          .delta = delta_cents,
	                          .reason = reason,
	                          .note = note,
	                          .created_at = now};
	int64_t id;
	int st = store_wallet_add(db, &le, &id);
	if (st != ST_OK)
		return core_store_fail(e, st);
	return core_event(db, customer_id, now, "wallet.changed", "wallet", id,
	                  json_pack("{s:I, s:s, s:I}", "delta_cents", (json_int_t)delta_cents,
	                            "reason", reason, "balance_cents",
	                            (json_int_t)(balance + delta_cents)),
	                  e);
}

int core_content_add(struct store_db *db, int64_t customer_id, const char *kind, int64_t order_id,
                     const char *url, const char *note, int64_t now, int64_t *content_id,
                     int64_t *points, struct core_err *e)
{
	*points = 0;
	if (live(db, customer_id, e) < 0)
		return -1;
	bool review = strcmp(kind, "review") == 0;
	if (!review && strcmp(kind, "buyer_show") != 0 && strcmp(kind, "share") != 0)
		return core_fail(e, CORE_INVALID, "kind",
		                 "kind must be review, buyer_show or share");
	struct order o = {0};
	bool paid = false;
	if (order_id) {
		int st = store_order_get(db, order_id, &o);
		if (st != ST_OK && st != ST_NOT_FOUND)
			return core_store_fail(e, st);
		bool mine = st == ST_OK && o.customer_id == customer_id;
		paid = mine && strcmp(o.status, "paid") == 0;
		order_clear(&o);
		if (!mine)
			return core_fail(e, CORE_INVALID, "order_id",
			                 "order_id must be an order bound to this customer");
	} else if (review) {
		return core_fail(e, CORE_INVALID, "order_id",
		                 "a review is of an order: order_id is required");
	}
	struct points_rules r;
	if (core_points_rules_load(db, &r, e) < 0)
		return -1;
	/* a review of a bound, paid order earns the bonus once per order */
	int64_t bonus = 0;
	if (review && paid && r.review_bonus > 0 && !store_content_review_paid(db, order_id))
		bonus = r.review_bonus;
	int st =
	    store_content_add(db, customer_id, kind, order_id, url, note, bonus, now, content_id);
	if (st != ST_OK)
		return core_store_fail(e, st);
	*points = bonus;
	if (core_event(db, customer_id, now, "content.added", "content", *content_id,
	               json_pack("{s:s, s:I}", "kind", kind, "points", (json_int_t)bonus), e) < 0)
		return -1;
	if (bonus && core_points_grant(db, customer_id, bonus, "review", "content", *content_id,
	                               NULL, now, &r, e) < 0)
		return -1;
	return core_stage_at_least(db, customer_id, "sharing", now, e);
}
