/* rewards.c - /rewards, the points mall: rewards, redeeming them for a
 * customer's points, and the redemptions of a reward or of a customer. */
#include "internal.h"

#include "scrm/core_loyalty.h"
#include "scrm/store_rewards.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

#define REWARD_NAME_MAX 100

static json_t *opt_int(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

static json_t *reward_json(const struct reward *r)
{
	json_t *prizes = json_loads(r->prizes ? r->prizes : "[]", 0, NULL);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "kind", json_string(r->kind));
	json_object_set_new(o, "points_cost", json_integer(r->points_cost));
	json_object_set_new(o, "stock", r->has_stock ? json_integer(r->stock) : json_null());
	json_object_set_new(o, "per_customer_limit", json_integer(r->per_customer_limit));
	json_object_set_new(o, "starts_at", api_time(r->starts_at));
	json_object_set_new(o, "ends_at", api_time(r->ends_at));
	json_object_set_new(o, "coupon_template_id", opt_int(r->coupon_template_id));
	json_object_set_new(o, "prizes", prizes ? prizes : json_array());
	json_object_set_new(o, "active", json_boolean(r->active));
	json_object_set_new(o, "created_at", api_time(r->created_at));
	json_object_set_new(o, "updated_at", api_time(r->updated_at));
	return o;
}

static json_t *redemption_json(const struct redemption *d)
{
	json_t *prize = d->prize ? json_loads(d->prize, 0, NULL) : NULL;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(d->id));
	json_object_set_new(o, "reward_id", json_integer(d->reward_id));
	json_object_set_new(o, "reward_name", json_string(d->reward_name));
	json_object_set_new(o, "reward_kind", json_string(d->reward_kind));
	json_object_set_new(o, "customer_id", json_integer(d->customer_id));
	json_object_set_new(o, "points_spent", json_integer(d->points));
	json_object_set_new(o, "prize", prize ? prize : json_null());
	json_object_set_new(o, "coupon_id", opt_int(d->coupon_id));
	json_object_set_new(o, "created_at", api_time(d->created_at));
	return o;
}

/* Rewards ------------------------------------------------------------------------ */

static const struct jfield reward_spec[] = {
    {"name", J_STRING, 0, 400},
    {"kind", J_STRING, 0, 16},
    {"points_cost", J_INT, 0, 0},
    {"stock", J_INT, JF_NULLABLE, 0},
    {"per_customer_limit", J_INT, 0, 0},
    {"starts_at", J_STRING, JF_NULLABLE, 64},
    {"ends_at", J_STRING, JF_NULLABLE, 64},
    {"coupon_template_id", J_INT, JF_NULLABLE, 0},
    {"prizes", J_ARRAY, 0, 0},
    {"active", J_BOOL, 0, 0},
    {NULL, 0, 0, 0},
};

static int check_reward_body(const json_t *body, bool create, struct resp *rs)
{
	int status = api_check_object(body, reward_spec, "", rs);
	if (status)
		return status;
	static const char *const required[] = {"name", "kind", "points_cost"};
	for (size_t i = 0; create && i < SCRM_ARRAY_LEN(required); i++)
		if (!json_object_get(body, required[i]))
			return api_error(rs, 422, "validation_failed", required[i],
			                 "%s is required", required[i]);
	const char *name = api_get_str(body, "name");
	if (name && (status = api_check_label(rs, "name", name, REWARD_NAME_MAX, false)))
		return status;
	static const char *const times[] = {"starts_at", "ends_at"};
	for (size_t i = 0; i < SCRM_ARRAY_LEN(times); i++) {
		const char *s = api_get_str(body, times[i]);
		int64_t t;
		if (s && !time_parse_rfc3339(s, &t))
			return api_error(rs, 422, "validation_failed", times[i],
			                 "%s must be an RFC 3339 time such as 2026-11-22T08:00:00Z",
			                 times[i]);
	}
	json_t *tpl = json_object_get(body, "coupon_template_id");
	if (json_is_integer(tpl) && json_integer_value(tpl) <= 0)
		return api_error(rs, 422, "validation_failed", "coupon_template_id",
		                 "coupon_template_id must be a coupon template id or null");
	return 0;
}

static int64_t body_time(const json_t *v)
{
	int64_t t = 0;
	if (json_is_string(v))
		time_parse_rfc3339(json_string_value(v), &t);
	return t;
}

/* Lay the fields the body carries over r (a checked body); prizes are left
 * to core_reward_check. */
static void apply_reward_body(const json_t *body, struct reward *r)
{
	json_t *v;
	if ((v = json_object_get(body, "name"))) {
		free(r->name);
		r->name = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(body, "kind"))) {
		free(r->kind);
		r->kind = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(body, "points_cost")))
		r->points_cost = json_integer_value(v);
	if ((v = json_object_get(body, "stock"))) {
		r->has_stock = !json_is_null(v);
		r->stock = json_integer_value(v);
	}
	if ((v = json_object_get(body, "per_customer_limit")))
		r->per_customer_limit = json_integer_value(v);
	if ((v = json_object_get(body, "starts_at")))
		r->starts_at = body_time(v);
	if ((v = json_object_get(body, "ends_at")))
		r->ends_at = body_time(v);
	if ((v = json_object_get(body, "coupon_template_id")))
		r->coupon_template_id = json_integer_value(v);
	if ((v = json_object_get(body, "active")))
		r->active = json_is_true(v);
}

static int reward_create_fn(struct store_db *db, struct api_write *w)
{
	struct reward r = {.active = true, .prizes = xstrdup("[]")};
	struct core_err e = {0};
	int st, status;
	apply_reward_body(w->rq->body, &r);
	r.created_at = time_now();
	if (core_reward_check(db, &r, json_object_get(w->rq->body, "prizes"), &e) < 0) {
		status = api_core_error(w->rs, &e);
	} else if ((st = store_reward_insert(db, &r)) != ST_OK) {
		status = -st;
	} else {
		w->target_id = r.id;
		w->detail = json_pack("{s:s, s:s, s:I}", "name", r.name, "kind", r.kind,
		                      "points_cost", (json_int_t)r.points_cost);
		w->rs->body = reward_json(&r);
		w->rs->location = xasprintf("/api/v1/rewards/%lld", (long long)r.id);
		status = 201;
	}
	reward_clear(&r);
	return status;
}

int api_rewards_create(const struct req *rq, struct resp *rs)
{
	int status = check_reward_body(rq->body, true, rs);
	return status ? status
	              : api_write(rq, rs, "reward.create", "reward", reward_create_fn, NULL);
}

static int reward_update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct reward r = {0};
	struct core_err e = {0};
	int st = store_reward_get(db, id, &r);
	int status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such reward");
	} else if (st != ST_OK) {
		status = -st;
	} else {
		apply_reward_body(w->rq->body, &r);
		r.updated_at = time_now();
		if (core_reward_check(db, &r, json_object_get(w->rq->body, "prizes"), &e) < 0) {
			status = api_core_error(w->rs, &e);
		} else if ((st = store_reward_update(db, &r)) != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->detail = json_deep_copy(w->rq->body);
			w->rs->body = reward_json(&r);
			status = 200;
		}
	}
	reward_clear(&r);
	return status;
}

int api_rewards_patch(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id || (status = check_reward_body(rq->body, false, rs)))
		return status;
	return api_write(rq, rs, "reward.update", "reward", reward_update_fn, &id);
}

static int reward_delete_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct core_err e = {0};
	if (core_reward_delete(db, id, &e) < 0)
		return api_core_error(w->rs, &e);
	w->target_id = id;
	return 204;
}

int api_rewards_delete(const struct req *rq, struct resp *rs)
{
	return api_write_id(rq, rs, "reward.delete", "reward", reward_delete_fn);
}

API_GETTER(get_rewards, reward, store_reward_get, reward_json, reward_clear);

int api_rewards_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_rewards, "reward");
}

static void add_reward(void *arg, const struct reward *r)
{
	json_array_append_new(arg, reward_json(r));
}

int api_rewards_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct reward_filter f = {.kind = http_req_query(rq, "kind"), .active = -1};
	if (f.kind && strcmp(f.kind, "gift") != 0 && strcmp(f.kind, "coupon") != 0 &&
	    strcmp(f.kind, "lottery") != 0 && strcmp(f.kind, "flash_sale") != 0)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "kind must be gift, coupon, lottery or flash_sale");
	if (http_req_query(rq, "active")) {
		bool a = false;
		if ((status = api_query_bool(rq, "active", &a, rs)))
			return status;
		f.active = a;
	}
	struct store_db *db = store_reader();
	json_t *data = json_array();
	store_read_begin(db);
	int st = store_reward_list(db, &f, pg.after, pg.limit + 1, add_reward, data);
	int64_t total = pg.count ? store_reward_count(db, &f) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

/* Redeeming ---------------------------------------------------------------------- */

struct redeem {
	int64_t reward_id, customer_id;
};

static int redeem_fn(struct store_db *db, struct api_write *w)
{
	struct redeem *x = w->arg;
	struct reward_result res;
	struct core_err e = {0};
	int64_t now = time_now();
	int status;
	if (core_reward_redeem(db, x->reward_id, x->customer_id, now, &res, &e) < 0) {
		status = api_core_error(w->rs, &e);
	} else {
		json_t *o = json_object();
		json_object_set_new(o, "redemption_id", json_integer(res.redemption_id));
		json_object_set_new(o, "reward_id", json_integer(x->reward_id));
		json_object_set_new(o, "customer_id", json_integer(x->customer_id));
		json_object_set_new(o, "points_spent", json_integer(res.points_spent));
		json_object_set_new(o, "points_balance", json_integer(res.points_balance));
		json_object_set_new(o, "prize", res.prize ? json_incref(res.prize) : json_null());
		json_object_set_new(
		    o, "coupon", res.has_coupon ? api_coupon_json(&res.coupon, now) : json_null());
		w->target_id = res.redemption_id;
		w->detail = json_pack("{s:I, s:I, s:I}", "reward_id", (json_int_t)x->reward_id,
		                      "customer_id", (json_int_t)x->customer_id, "points",
		                      (json_int_t)res.points_spent);
		w->rs->body = o;
		status = 201;
	}
	core_reward_result_clear(&res);
	return status;
}

int api_rewards_redeem(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"customer_id", J_INT, JF_REQUIRED, 0},
	    {NULL, 0, 0, 0},
	};
	int status = 0;
	struct redeem x = {.reward_id = api_path_id(rq, 0, rs, &status)};
	if (!x.reward_id || (status = api_check_object(rq->body, spec, "", rs)))
		return status;
	if ((x.customer_id = api_body_id(rq->body, "customer_id", rs, &status)) < 0)
		return status;
	return api_write(rq, rs, "reward.redeem", "redemption", redeem_fn, &x);
}

/* Redemption lists --------------------------------------------------------------- */

static void add_redemption(void *arg, const struct redemption *d)
{
	json_array_append_new(arg, redemption_json(d));
}

/* The owner (a reward or a customer) must exist: checked by owner_ok in the
 * same read transaction as the page. */
static int redemptions(const struct req *rq, struct resp *rs, bool by_reward)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct page pg;
	if ((status = api_page_parse(rq, rs, &pg)))
		return status;
	struct redemption_filter f = {.reward_id = by_reward ? id : 0,
	                              .customer_id = by_reward ? 0 : id};
	struct store_db *db = store_reader();
	json_t *data = json_array();
	int st = ST_OK;
	int64_t total = -1;
	store_read_begin(db);
	if (by_reward) {
		struct reward r = {0};
		st = store_reward_get(db, id, &r);
		reward_clear(&r);
		if (st == ST_NOT_FOUND)
			status = api_error(rs, 404, "not_found", NULL, "no such reward");
	} else {
		struct customer c = {0};
		struct core_err e = {0};
		if (core_customer_load(db, id, &c, &e) < 0)
			status = api_core_error(rs, &e);
		customer_clear(&c);
	}
	if (!status && st == ST_OK)
		st = store_redemption_list(db, &f, pg.after, pg.limit + 1, add_redemption, data);
	if (!status && st == ST_OK && pg.count)
		total = store_redemption_count(db, &f);
	store_read_end(db);
	if (status || st != ST_OK) {
		json_decref(data);
		return status ? status : api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

int api_rewards_redemptions(const struct req *rq, struct resp *rs)
{
	return redemptions(rq, rs, true);
}

int api_customers_redemptions(const struct req *rq, struct resp *rs)
{
	return redemptions(rq, rs, false);
}
