/* daily.c - the daily pass: expire points lots and coupons past their date, end
 * tier overrides and recompute every customer's tier, so that people drop a
 * tier when old orders leave the 12-month window. The tier walk goes in id
 * ranges, one short transaction each, so that requests keep flowing. */
#include "scrm/sched.h"

#include "scrm/core_loyalty.h"
#include "scrm/core_segments.h"
#include "scrm/store_segments.h"
#include "scrm/log.h"
#include "scrm/store.h"
#include "scrm/store_ambassadors.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 20000

struct expire_ctx {
	int64_t now, lots, points, coupons, commissions;
};

static int expire_fn(struct store_db *db, void *arg)
{
	struct expire_ctx *x = arg;
	int st = store_points_expire_due(db, x->now, &x->lots, &x->points);
	if (st == ST_OK)
		st = store_coupons_expire_due(db, x->now, &x->coupons);
	/* commissions whose return window has passed are the ambassadors' now */
	if (st == ST_OK)
		st = store_commissions_settle_due(db, x->now, &x->commissions);
	return st == ST_OK ? 0 : -st;
}

struct tier_ctx {
	int64_t now, since, from, to, scanned, changed;
	struct tier *tiers;
	size_t n;
	bool want_spent, want_points;
	struct store_db *db;
	int failed;
};

static void tier_row(void *arg, int64_t customer_id, const struct customer_tier *cur, int64_t spent,
                     int64_t points)
{
	struct tier_ctx *x = arg;
	if (x->failed)
		return;
	x->scanned++;
	struct customer_tier next = *cur;
	if (next.override_id && next.override_until <= x->now)
		next.override_id = next.override_until = 0;
	next.tier_id =
	    next.override_id ? next.override_id : core_tier_pick(x->tiers, x->n, spent, points);
	if (!memcmp(cur, &next, sizeof next))
		return;
	struct core_err e = {0};
	if (core_tier_apply(x->db, customer_id, cur, &next, x->tiers, x->n, x->now, &e) < 0)
		x->failed = e.st ? e.st : ST_ERR;
	else if (cur->tier_id != next.tier_id)
		x->changed++;
}

static int tier_chunk_fn(struct store_db *db, void *arg)
{
	struct tier_ctx *x = arg;
	x->db = db;
	x->failed = 0;
	int st = store_tier_scan(db, x->from, x->to, x->since, x->want_spent, x->want_points,
	                         tier_row, x);
	if (st == ST_OK && x->failed)
		st = x->failed;
	/* the auto tags of all customers are re-evaluated just after */
	core_segments_forget();
	return st == ST_OK ? 0 : -st;
}

/* Every auto tag and every audience, each in a transaction of its own: rules
 * that read the calendar ("birthday this month", "no order in 30 days") change
 * their members as the days pass. */
struct seg_ctx {
	int64_t id, now, a, b, c;
	bool audience;
};

static int seg_fn(struct store_db *db, void *arg)
{
	struct seg_ctx *x = arg;
	struct core_err e = {0};
	int rc = x->audience
	             ? core_audience_evaluate(db, x->id, x->now, true, &x->a, &x->b, &x->c, &e)
	             : core_autotag_evaluate(db, x->id, x->now, &x->a, &x->b, &e);
	if (rc < 0 && e.rc != CORE_STORE) {
		log_warn("daily pass: %s %lld skipped: %s", x->audience ? "audience" : "auto tag",
		         (long long)x->id, e.msg);
		return 0;
	}
	return rc < 0 ? -(e.st ? e.st : ST_ERR) : 0;
}

struct idlist {
	int64_t *ids;
	size_t n;
};

static void collect_tag(void *arg, int64_t id, const char *name, const char *rule)
{
	(void)name;
	(void)rule;
	struct idlist *l = arg;
	l->ids = xrealloc(l->ids, (l->n + 1) * sizeof *l->ids);
	l->ids[l->n++] = id;
}

static void collect_audience(void *arg, const struct audience *a)
{
	collect_tag(arg, a->id, NULL, NULL);
}

static int analyze_fn(struct store_db *db, void *arg)
{
	(void)arg;
	int st = store_refresh_statistics(db);
	return st == ST_OK ? 0 : -st;
}

static int segments_pass(int64_t now, struct daily_result *out)
{
	uint64_t t0 = time_mono_ns();
	if (store_write(analyze_fn, NULL) != 0)
		log_warn("daily pass: the planner statistics were not refreshed");
	struct idlist tags = {0}, auds = {0};
	struct store_db *rd = store_reader();
	int rc = store_autotags(rd, collect_tag, &tags) == ST_OK &&
	                 store_audience_list(rd, 0, 1000000, collect_audience, &auds) == ST_OK
	             ? 0
	             : -1;
	for (size_t i = 0; i < tags.n && rc == 0; i++) {
		struct seg_ctx x = {.id = tags.ids[i], .now = now};
		rc = store_write(seg_fn, &x);
		out->tags_added += x.a;
		out->tags_removed += x.b;
	}
	for (size_t i = 0; i < auds.n && rc == 0; i++) {
		struct seg_ctx x = {.id = auds.ids[i], .now = now, .audience = true};
		rc = store_write(seg_fn, &x);
		out->audience_entered += x.b;
		out->audience_left += x.c;
	}
	out->auto_tags = (int64_t)tags.n;
	out->audiences = (int64_t)auds.n;
	free(tags.ids);
	free(auds.ids);
	out->segments_ms = (double)(time_mono_ns() - t0) / 1e6;
	return rc == 0 ? 0 : -1;
}

int sched_daily_pass(int64_t now, struct daily_result *out)
{
	memset(out, 0, sizeof *out);
	uint64_t t0 = time_mono_ns();
	struct expire_ctx ex = {.now = now};
	int rc = store_write(expire_fn, &ex);
	if (rc != 0)
		return -1;
	out->lots_expired = ex.lots;
	out->points_expired = ex.points;
	out->coupons_expired = ex.coupons;
	out->commissions_settled = ex.commissions;
	out->expiry_ms = (double)(time_mono_ns() - t0) / 1e6;

	uint64_t t1 = time_mono_ns();
	struct store_db *rd = store_reader();
	struct tier_ctx x = {.now = now, .since = core_tier_window_start(now)};
	if (store_tiers_all(rd, &x.tiers, &x.n) != ST_OK)
		return -1;
	for (size_t i = 0; i < x.n; i++) {
		x.want_spent = x.want_spent || strcmp(x.tiers[i].basis, "spent") == 0;
		x.want_points = x.want_points || strcmp(x.tiers[i].basis, "points") == 0;
	}
	int64_t max_id = store_customer_max_id(rd);
	for (int64_t from = 1; from <= max_id && rc == 0; from += CHUNK) {
		x.from = from;
		x.to = from + CHUNK;
		rc = store_write(tier_chunk_fn, &x);
	}
	store_tiers_free(x.tiers, x.n);
	out->customers_scanned = x.scanned;
	out->tiers_changed = x.changed;
	out->tier_ms = (double)(time_mono_ns() - t1) / 1e6;
	if (rc != 0)
		return -1;
	if (segments_pass(now, out) < 0)
		return -1;
	log_info("daily pass: %lld lots (%lld points) and %lld coupons expired in %.0f ms; "
	         "%lld customers' tiers checked, %lld changed, in %.0f ms; %lld auto tags and %lld "
	         "audiences in %.0f ms",
	         (long long)out->lots_expired, (long long)out->points_expired,
	         (long long)out->coupons_expired, out->expiry_ms, (long long)out->customers_scanned,
	         (long long)out->tiers_changed, out->tier_ms, (long long)out->auto_tags,
	         (long long)out->audiences, out->segments_ms);
	return 0;
}

/* Run the pass when the business day has changed since the last one. */
struct mark {
	int64_t day;
	bool due;
};

static int mark_fn(struct store_db *db, void *arg)
{
	struct mark *m = arg;
	char *text = NULL;
	int st = store_setting_get(db, "daily_pass", &text);
	int64_t last = -1;
	if (st == ST_OK) {
		json_t *j = json_loads(text, 0, NULL);
		last = json_integer_value(json_object_get(j, "day"));
		json_decref(j);
		free(text);
	} else if (st != ST_NOT_FOUND) {
		return -st;
	}
	m->due = last < m->day;
	if (!m->due)
		return 0;
	char value[64];
	snprintf(value, sizeof value, "{\"day\":%lld}", (long long)m->day);
	st = store_setting_put(db, "daily_pass", value, time_now());
	return st == ST_OK ? 0 : -st;
}

void sched_daily_if_due(void)
{
	int64_t now = time_now();
	struct mark m = {.day = time_local_day(now)};
	/* claim the day first: a crash in the pass must not run it in a loop,
	 * and the pass is safe to run again by hand */
	if (store_write(mark_fn, &m) != 0 || !m.due)
		return;
	struct daily_result r;
	if (sched_daily_pass(now, &r) < 0)
		log_error("daily pass failed; run POST /api/v1/admin/jobs/daily to retry");
}
