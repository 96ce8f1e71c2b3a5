/* tiers.c - /tiers, a customer's tier override, the daily pass on demand and
 * the test clock. */
#include "internal.h"

#include "scrm/core_loyalty.h"
#include "scrm/log.h"
#include "scrm/sched.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

static json_t *tier_json(const struct tier *t)
{
	bool spent = strcmp(t->basis, "spent") == 0;
	json_t *perks = json_loads(t->perks ? t->perks : "[]", 0, NULL);
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:I, s:I, s:o, s:o, s:o}", "id",
	                 (json_int_t)t->id, "name", t->name, "basis", t->basis, "min_points_12m",
	                 spent ? json_null() : json_integer(t->threshold), "min_spent_cents_12m",
	                 spent ? json_integer(t->threshold) : json_null(), "rank",
	                 (json_int_t)t->rank, "discount_pct", (json_int_t)t->discount_pct, "perks",
	                 perks ? perks : json_array(), "created_at", api_time(t->created_at),
	                 "updated_at", api_time(t->updated_at));
}

static const struct jfield tier_spec[] = {
    {"name", J_STRING, 0, 200},
    {"min_points_12m", J_INT, JF_NULLABLE, 0},
    {"min_spent_cents_12m", J_INT, JF_NULLABLE, 0},
    {"rank", J_INT, 0, 0},
    {"discount_pct", J_INT, 0, 0},
    {"perks", J_ARRAY, 0, 0},
    {NULL, 0, 0, 0},
};

/* Apply a checked body over t. 0 or the error status in rs. */
static int read_tier(const json_t *body, struct tier *t, bool create, struct resp *rs)
{
	int status = api_check_object(body, tier_spec, "", rs);
	if (status)
		return status;
	const char *name = api_get_str(body, "name");
	if (create && !name)
		return api_error(rs, 422, "validation_failed", "name", "name is required");
	if (name && (status = api_check_label(rs, "name", name, 50, false)))
		return status;
	json_t *mp = json_object_get(body, "min_points_12m"),
	       *ms = json_object_get(body, "min_spent_cents_12m");
	bool has_p = mp && !json_is_null(mp), has_s = ms && !json_is_null(ms);
	if (has_p && has_s)
		return api_error(rs, 422, "validation_failed", "min_spent_cents_12m",
		                 "a tier is reached by points earned or by money spent: send "
		                 "min_points_12m or min_spent_cents_12m, not both");
	if (create && !has_p && !has_s)
		return api_error(
		    rs, 422, "validation_failed", "min_points_12m",
		    "say what the tier is reached by: min_points_12m (points earned in "
		    "the last 12 months) or min_spent_cents_12m (money spent in them)");
	json_t *th = has_p ? mp : has_s ? ms : NULL; /* a null threshold is left out */
	if (th && (json_integer_value(th) < 0 || json_integer_value(th) > 100000000000LL))
		return api_error(rs, 422, "validation_failed",
		                 has_p ? "min_points_12m" : "min_spent_cents_12m",
		                 "the threshold must be a whole number, 0 or more");
	json_t *dp = json_object_get(body, "discount_pct");
	if (dp && (json_integer_value(dp) < 0 || json_integer_value(dp) > 100))
		return api_error(rs, 422, "validation_failed", "discount_pct",
		                 "discount_pct must be from 0 to 100");
	json_t *perks = json_object_get(body, "perks");
	size_t i;
	json_t *p;
	json_array_foreach(perks, i, p)
	{
		if (!json_is_string(p) || json_string_length(p) > 200 || i >= 50)
			return api_error(rs, 422, "validation_failed", "perks",
			                 "perks must be a list of up to 50 short texts");
	}
	if (name) {
		free(t->name);
		t->name = xstrdup(name);
	}
	if (th) {
		free(t->basis);
		t->basis = xstrdup(has_p ? "points" : "spent");
		t->threshold = json_integer_value(th);
	}
	if (json_object_get(body, "rank"))
		t->rank = json_integer_value(json_object_get(body, "rank"));
	if (dp)
		t->discount_pct = json_integer_value(dp);
	if (perks) {
		free(t->perks);
		t->perks = json_dumps(perks, JSON_COMPACT);
	}
	return 0;
}

static int tier_conflict(struct resp *rs, const char *name)
{
	return api_error(rs, 409, "conflict", "name", "a tier named %s exists", name);
}

static int create_fn(struct store_db *db, struct api_write *w)
{
	struct tier t = {.created_at = time_now(), .rank = -1};
	int status = read_tier(w->rq->body, &t, true, w->rs);
	if (!status) {
		if (!json_object_get(w->rq->body, "rank"))
			t.rank = store_tier_next_rank(db); /* above every tier so far */
		int st = store_tier_insert(db, &t);
		if (st == ST_CONFLICT) {
			status = tier_conflict(w->rs, t.name);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = t.id;
			w->detail = json_pack("{s:s}", "name", t.name);
			w->rs->body = tier_json(&t);
			w->rs->location = xasprintf("/api/v1/tiers/%lld", (long long)t.id);
			status = 201;
		}
	}
	tier_clear(&t);
	return status;
}

int api_tiers_create(const struct req *rq, struct resp *rs)
{
	struct tier probe = {0};
	int status = read_tier(rq->body, &probe, true, rs);
	tier_clear(&probe);
	return status ? status : api_write(rq, rs, "tier.create", "tier", create_fn, NULL);
}

static int update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct tier t = {0};
	int st = store_tier_get(db, id, &t), status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such tier");
	} else if (st != ST_OK) {
		status = -st;
	} else if (!(status = read_tier(w->rq->body, &t, false, w->rs))) {
		t.updated_at = time_now();
		st = store_tier_update(db, &t);
		if (st == ST_CONFLICT) {
			status = tier_conflict(w->rs, t.name);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->rs->body = tier_json(&t);
			status = 200;
		}
	}
	tier_clear(&t);
	return status;
}

int api_tiers_patch(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct tier probe = {0};
	status = read_tier(rq->body, &probe, false, rs);
	tier_clear(&probe);
	return status ? status : api_write(rq, rs, "tier.update", "tier", update_fn, &id);
}

int api_tiers_delete(const struct req *rq, struct resp *rs)
{
	return api_delete_by_id(rq, rs, "tier.delete", "tier", store_tier_delete, "tier", NULL);
}

API_GETTER(get_tiers, tier, store_tier_get, tier_json, tier_clear);

int api_tiers_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_tiers, "tier");
}

int api_tiers_list(const struct req *rq, struct resp *rs)
{
	(void)rq;
	struct tier *tiers = NULL;
	size_t n = 0;
	int st = store_tiers_all(store_reader(), &tiers, &n);
	if (st != ST_OK)
		return api_store_error(rs, st);
	json_t *data = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(data, tier_json(&tiers[i]));
	store_tiers_free(tiers, n);
	/* tiers are few: one page, highest rank first */
	rs->body = api_page_result(data, 0, (int64_t)n);
	return 200;
}

struct override_ctx {
	int64_t customer_id, tier_id, until;
};

static int override_fn(struct store_db *db, struct api_write *w)
{
	struct override_ctx *x = w->arg;
	struct core_err e = {0};
	int64_t now = time_now();
	struct customer c = {0};
	if (core_tier_override(db, x->customer_id, x->tier_id, x->until, now, &e) < 0 ||
	    core_customer_load(db, x->customer_id, &c, &e) < 0) {
		customer_clear(&c);
		return api_core_error(w->rs, &e);
	}
	w->target_id = x->customer_id;
	w->detail = json_pack("{s:I}", "tier_id", (json_int_t)x->tier_id);
	w->rs->body = api_customer_json(db, &c);
	customer_clear(&c);
	return 200;
}

int api_customer_tier_put(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"tier_id", J_INT, JF_REQUIRED | JF_NULLABLE, 0},
	    {"until", J_STRING, JF_NULLABLE, 64},
	    {NULL, 0, 0, 0},
	};
	int status = 0;
	struct override_ctx x = {0};
	if (!(x.customer_id = api_path_id(rq, 0, rs, &status)))
		return status;
	if ((status = api_check_object(rq->body, spec, "", rs)))
		return status;
	if ((x.tier_id = api_body_id(rq->body, "tier_id", rs, &status)) < 0)
		return status;
	const char *until = api_get_str(rq->body, "until");
	if (x.tier_id && (!until || !time_parse_rfc3339(until, &x.until)))
		return api_error(rs, 422, "validation_failed", "until",
		                 "an override needs until, an RFC 3339 time when it ends");
	return api_write(rq, rs, "customer.tier_override", "customer", override_fn, &x);
}

/* Jobs and the test clock ------------------------------------------------------------ */

struct job_ctx {
	struct daily_result r;
};

static int job_record_fn(struct store_db *db, struct api_write *w)
{
	(void)db;
	struct daily_result *r = &((struct job_ctx *)w->arg)->r;
	w->rs->body = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "lots_expired", (json_int_t)r->lots_expired,
	    "commissions_settled", (json_int_t)r->commissions_settled, "points_expired",
	    (json_int_t)r->points_expired, "coupons_expired", (json_int_t)r->coupons_expired,
	    "customers_scanned", (json_int_t)r->customers_scanned, "tiers_changed",
	    (json_int_t)r->tiers_changed, "expiry_ms", r->expiry_ms, "tier_ms", r->tier_ms);
	json_t *seg =
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "auto_tags", (json_int_t)r->auto_tags,
	              "tags_added", (json_int_t)r->tags_added, "tags_removed",
	              (json_int_t)r->tags_removed, "audiences", (json_int_t)r->audiences,
	              "audience_entered", (json_int_t)r->audience_entered, "audience_left",
	              (json_int_t)r->audience_left, "segments_ms", r->segments_ms);
	json_object_update(w->rs->body, seg);
	json_decref(seg);
	w->detail = json_deep_copy(w->rs->body);
	return 200;
}

int api_jobs_daily(const struct req *rq, struct resp *rs)
{
	int status = api_check_empty_body(rq, rs);
	if (status)
		return status;
	struct job_ctx x;
	if (sched_daily_pass(time_now(), &x.r) < 0)
		return api_error(rs, 503, "unavailable", NULL,
		                 "the daily pass failed; see the log");
	struct req r = *rq;
	r.idem_key = NULL; /* running it again is harmless and meant */
	return api_write(&r, rs, "job.daily", "job", job_record_fn, &x);
}

static bool test_clock_enabled(void)
{
	const char *v = getenv("SCRM_TEST_CLOCK");
	return v && strcmp(v, "1") == 0;
}

int api_clock_put(const struct req *rq, struct resp *rs)
{
	/* only in a daemon started with SCRM_TEST_CLOCK=1: tests move time with it */
	if (!test_clock_enabled())
		return api_error(rs, 404, "not_found", NULL, "no such endpoint");
	static const struct jfield spec[] = {{"offset_s", J_INT, JF_REQUIRED, 0}, {NULL, 0, 0, 0}};
	int status = api_check_object(rq->body, spec, "", rs);
	if (status)
		return status;
	int64_t off = json_integer_value(json_object_get(rq->body, "offset_s"));
	if (off < -3153600000LL || off > 3153600000LL)
		return api_error(rs, 422, "validation_failed", "offset_s",
		                 "offset_s is out of range");
	time_set_offset(off);
	log_warn("test clock: offset set to %lld s", (long long)off);
	api_audit_async(rq, rq->who, "admin.clock", "clock", 0, 200,
	                json_pack("{s:I}", "offset_s", (json_int_t)off));
	rs->body =
	    json_pack("{s:I, s:o}", "offset_s", (json_int_t)off, "now", api_time(time_now()));
	return 200;
}
