/* coupons.c - /coupon-templates, coupons issued to customers and redeemed by
 * code, and the coupon settings (the new-member gift pack). */
#include "internal.h"

#include "scrm/core_loyalty.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_NAME_MAX 100
#define CODE_MAX 32

/* Views -------------------------------------------------------------------------- */

static json_t *template_json(const struct coupon_template *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "kind", json_string(t->kind));
	json_object_set_new(o, "value", json_integer(t->value));
	json_object_set_new(o, "min_spend_cents", json_integer(t->min_spend_cents));
	json_object_set_new(o, "valid_days",
	                    t->valid_days ? json_integer(t->valid_days) : json_null());
	json_object_set_new(o, "valid_until", api_time(t->valid_until));
	json_object_set_new(o, "active", json_boolean(t->active));
	json_object_set_new(o, "created_at", api_time(t->created_at));
	json_object_set_new(o, "updated_at", api_time(t->updated_at));
	return o;
}

json_t *api_coupon_json(const struct coupon *c, int64_t now)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "code", json_string(c->code));
	json_object_set_new(o, "status", json_string(core_coupon_status(c, now)));
	json_object_set_new(o, "customer_id", json_integer(c->customer_id));
	json_object_set_new(o, "template_id", json_integer(c->template_id));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "kind", json_string(c->kind));
	json_object_set_new(o, "value", json_integer(c->value));
	json_object_set_new(o, "min_spend_cents", json_integer(c->min_spend_cents));
	json_object_set_new(o, "source", json_string(c->source));
	json_object_set_new(o, "issued_at", api_time(c->issued_at));
	json_object_set_new(o, "expires_at", api_time(c->expires_at));
	json_object_set_new(o, "used_at", api_time(c->used_at));
	json_object_set_new(o, "order_id", c->order_id ? json_integer(c->order_id) : json_null());
	return o;
}

/* Templates ---------------------------------------------------------------------- */

static const struct jfield template_spec[] = {
    {"name", J_STRING, 0, 400},
    {"kind", J_STRING, 0, 16},
    {"value", J_INT, 0, 0},
    {"min_spend_cents", J_INT, 0, 0},
    {"valid_days", J_INT, JF_NULLABLE, 0},
    {"valid_until", J_STRING, JF_NULLABLE, 64},
    {"active", J_BOOL, 0, 0},
    {NULL, 0, 0, 0},
};

/* Check the body's shape (name and kind required when creating). */
static int check_template_body(const json_t *body, bool create, struct resp *rs)
{
	int status = api_check_object(body, template_spec, "", rs);
	if (status)
		return status;
	if (create && !json_object_get(body, "name"))
		return api_error(rs, 422, "validation_failed", "name", "name is required");
	if (create && !json_object_get(body, "kind"))
		return api_error(rs, 422, "validation_failed", "kind", "kind is required");
	const char *name = api_get_str(body, "name");
	if (name && (status = api_check_label(rs, "name", name, TEMPLATE_NAME_MAX, false)))
		return status;
	const char *until = api_get_str(body, "valid_until");
	int64_t t;
	if (until && !time_parse_rfc3339(until, &t))
		return api_error(
		    rs, 422, "validation_failed", "valid_until",
		    "valid_until must be an RFC 3339 time such as 2026-11-22T08:00:00Z");
	return 0;
}

/* Lay the fields the body carries over t (a checked body). */
static void apply_template_body(const json_t *body, struct coupon_template *t)
{
	json_t *v;
	if ((v = json_object_get(body, "name"))) {
		free(t->name);
		t->name = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(body, "kind"))) {
		free(t->kind);
		t->kind = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(body, "value")))
		t->value = json_integer_value(v);
	if ((v = json_object_get(body, "min_spend_cents")))
		t->min_spend_cents = json_integer_value(v);
	if ((v = json_object_get(body, "valid_days")))
		t->valid_days = json_is_null(v) ? 0 : json_integer_value(v);
	if ((v = json_object_get(body, "valid_until"))) {
		t->valid_until = 0;
		if (!json_is_null(v))
			time_parse_rfc3339(json_string_value(v), &t->valid_until);
	}
	if ((v = json_object_get(body, "active")))
		t->active = json_is_true(v);
}

static bool until_set(const json_t *body)
{
	json_t *v = json_object_get(body, "valid_until");
	return v && !json_is_null(v);
}

static int template_create_fn(struct store_db *db, struct api_write *w)
{
	struct coupon_template t = {.active = true};
	struct core_err e = {0};
	int64_t now = time_now();
	int status;
	apply_template_body(w->rq->body, &t);
	if (core_coupon_template_check(&t, until_set(w->rq->body), now, &e) < 0 ||
	    core_coupon_template_save(db, &t, NULL, now, &e) < 0) {
		status = api_core_error(w->rs, &e);
	} else {
		w->target_id = t.id;
		w->detail = json_pack("{s:s, s:s, s:I}", "name", t.name, "kind", t.kind, "value",
		                      (json_int_t)t.value);
		w->rs->body = template_json(&t);
		w->rs->location = xasprintf("/api/v1/coupon-templates/%lld", (long long)t.id);
		status = 201;
	}
	coupon_template_clear(&t);
	return status;
}

int api_coupon_templates_create(const struct req *rq, struct resp *rs)
{
	int status = check_template_body(rq->body, true, rs);
	return status ? status
	              : api_write(rq, rs, "coupon_template.create", "coupon_template",
	                          template_create_fn, NULL);
}

static int template_update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct coupon_template old = {0}, t = {0};
	struct core_err e = {0};
	int64_t now = time_now();
	int st = store_coupon_template_get(db, id, &old);
	int status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such coupon template");
	} else if (st != ST_OK) {
		status = -st;
	} else {
		t = old;
		t.name = xstrdup(old.name);
		t.kind = xstrdup(old.kind);
		apply_template_body(w->rq->body, &t);
		if (core_coupon_template_check(&t, until_set(w->rq->body), now, &e) < 0 ||
		    core_coupon_template_save(db, &t, &old, now, &e) < 0) {
			status = api_core_error(w->rs, &e);
		} else {
			w->target_id = id;
			w->detail = json_deep_copy(w->rq->body);
			w->rs->body = template_json(&t);
			status = 200;
		}
	}
	coupon_template_clear(&t);
	coupon_template_clear(&old);
	return status;
}

int api_coupon_templates_patch(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id || (status = check_template_body(rq->body, false, rs)))
		return status;
	return api_write(rq, rs, "coupon_template.update", "coupon_template", template_update_fn,
	                 &id);
}

static int template_delete_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct core_err e = {0};
	if (core_coupon_template_delete(db, id, &e) < 0)
		return api_core_error(w->rs, &e);
	w->target_id = id;
	return 204;
}

int api_coupon_templates_delete(const struct req *rq, struct resp *rs)
{
	return api_write_id(rq, rs, "coupon_template.delete", "coupon_template",
	                    template_delete_fn);
}

API_GETTER(get_coupon_templates, coupon_template, store_coupon_template_get, template_json,
           coupon_template_clear);

int api_coupon_templates_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_coupon_templates, "coupon template");
}

static void add_template(void *arg, const struct coupon_template *t)
{
	json_array_append_new(arg, template_json(t));
}

int api_coupon_templates_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct coupon_template_filter f = {.active = -1};
	if (http_req_query(rq, "active")) {
		bool a = false;
		if ((status = api_query_bool(rq, "active", &a, rs)))
			return status;
		f.active = a;
	}
	struct store_db *db = store_reader();
	json_t *data = json_array();
	store_read_begin(db);
	int st = store_coupon_template_list(db, &f, pg.after, pg.limit + 1, add_template, data);
	int64_t total = pg.count ? store_coupon_template_count(db, &f) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

/* Coupons ------------------------------------------------------------------------ */

static int issue_fn(struct store_db *db, struct api_write *w)
{
	int64_t customer_id = *(int64_t *)w->arg;
	int64_t template_id = json_integer_value(json_object_get(w->rq->body, "template_id"));
	struct customer c = {0};
	struct coupon cp = {0};
	struct core_err e = {0};
	int64_t now = time_now();
	int status;
	if (core_customer_load(db, customer_id, &c, &e) < 0 ||
	    core_coupon_issue(db, customer_id, template_id, "manual", now, &cp, &e) < 0) {
		status = api_core_error(w->rs, &e);
	} else {
		w->target_id = cp.id;
		w->detail = json_pack("{s:I, s:I}", "customer_id", (json_int_t)customer_id,
		                      "template_id", (json_int_t)template_id);
		w->rs->body = api_coupon_json(&cp, now);
		w->rs->location = xasprintf("/api/v1/coupons/%s", cp.code);
		status = 201;
	}
	customer_clear(&c);
	coupon_clear(&cp);
	return status;
}

int api_customers_coupon_issue(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"template_id", J_INT, JF_REQUIRED, 0},
	    {NULL, 0, 0, 0},
	};
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id || (status = api_check_object(rq->body, spec, "", rs)))
		return status;
	if (api_body_id(rq->body, "template_id", rs, &status) < 0)
		return status;
	return api_write(rq, rs, "coupon.issue", "coupon", issue_fn, &id);
}

struct coupon_page {
	json_t *data;
	int64_t now;
};

static void add_coupon(void *arg, const struct coupon *c)
{
	struct coupon_page *p = arg;
	json_array_append_new(p->data, api_coupon_json(c, p->now));
}

int api_customers_coupons(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct page pg;
	if ((status = api_page_parse(rq, rs, &pg)))
		return status;
	struct coupon_filter f = {
	    .customer_id = id, .status = http_req_query(rq, "status"), .now = time_now()};
	if (f.status && strcmp(f.status, "active") != 0 && strcmp(f.status, "used") != 0 &&
	    strcmp(f.status, "expired") != 0)
		return api_error(rs, 422, "validation_failed", "status",
		                 "status must be active, used or expired");
	struct store_db *db = store_reader();
	struct customer c = {0};
	struct core_err e = {0};
	struct coupon_page p = {.data = json_array(), .now = f.now};
	int st = ST_OK;
	int64_t total = -1;
	store_read_begin(db);
	if (core_customer_load(db, id, &c, &e) < 0)
		status = api_core_error(rs, &e);
	else
		st = store_coupon_list(db, &f, pg.after, pg.limit + 1, add_coupon, &p);
	if (!status && st == ST_OK && pg.count)
		total = store_coupon_count(db, &f);
	store_read_end(db);
	customer_clear(&c);
	if (status || st != ST_OK) {
		json_decref(p.data);
		return status ? status : api_store_error(rs, st);
	}
	rs->body = api_page_result(p.data, api_page_trim(p.data, pg.limit, "id"), total);
	return 200;
}

/* A code from the path, upper-cased (codes are read aloud and typed); false
 * when it cannot be a code at all. */
static bool path_code(const struct req *rq, char out[CODE_MAX + 1])
{
	const char *s = rq->params[0];
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > CODE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]))
			return false;
		out[i] = (char)toupper((unsigned char)s[i]);
	}
	out[n] = '\0';
	return true;
}

int api_coupons_get(const struct req *rq, struct resp *rs)
{
	char code[CODE_MAX + 1];
	if (!path_code(rq, code))
		return api_error(rs, 404, "not_found", NULL, "no coupon with this code");
	struct coupon c = {0};
	int st = store_coupon_by_code(store_reader(), code, &c);
	int status;
	if (st == ST_OK) {
		rs->body = api_coupon_json(&c, time_now());
		status = 200;
	} else {
		status = st == ST_NOT_FOUND
		             ? api_error(rs, 404, "not_found", NULL, "no coupon with this code")
		             : api_store_error(rs, st);
	}
	coupon_clear(&c);
	return status;
}

struct redeem {
	char code[CODE_MAX + 1];
	int64_t order_id;
};

static int redeem_fn(struct store_db *db, struct api_write *w)
{
	struct redeem *x = w->arg;
	struct coupon c = {0};
	struct core_err e = {0};
	int64_t now = time_now();
	int status;
	if (core_coupon_redeem(db, x->code, x->order_id, now, &c, &e) < 0) {
		status = api_core_error(w->rs, &e);
	} else {
		w->target_id = c.id;
		w->detail =
		    json_pack("{s:I, s:o}", "customer_id", (json_int_t)c.customer_id, "order_id",
		              x->order_id ? json_integer(x->order_id) : json_null());
		w->rs->body = api_coupon_json(&c, now);
		status = 200;
	}
	coupon_clear(&c);
	return status;
}

int api_coupons_redeem(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"order_id", J_INT, JF_NULLABLE, 0},
	    {NULL, 0, 0, 0},
	};
	struct redeem x = {.order_id = 0};
	if (!path_code(rq, x.code))
		return api_error(rs, 404, "not_found", NULL, "no coupon with this code");
	int status = 0;
	if (rq->body && (status = api_check_object(rq->body, spec, "", rs)))
		return status;
	if ((x.order_id = api_body_id(rq->body, "order_id", rs, &status)) < 0)
		return status;
	return api_write(rq, rs, "coupon.redeem", "coupon", redeem_fn, &x);
}

/* Settings ----------------------------------------------------------------------- */

int api_settings_coupons_get(const struct req *rq, struct resp *rs)
{
	(void)rq;
	struct core_err e = {0};
	json_t *cfg = core_coupons_settings(store_reader(), &e);
	if (!cfg)
		return api_core_error(rs, &e);
	rs->body = cfg;
	return 200;
}

static int settings_fn(struct store_db *db, struct api_write *w)
{
	struct core_err e = {0};
	json_t *cfg;
	if (core_coupons_settings_put(db, json_object_get(w->rq->body, "new_member_gift_pack"),
	                              time_now(), &e) < 0 ||
	    !(cfg = core_coupons_settings(db, &e)))
		return api_core_error(w->rs, &e);
	w->rs->body = cfg;
	w->detail = json_deep_copy(cfg);
	return 200;
}

int api_settings_coupons_put(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"new_member_gift_pack", J_ARRAY, JF_REQUIRED, 0},
	    {NULL, 0, 0, 0},
	};
	int status = api_check_object(rq->body, spec, "", rs);
	return status ? status
	              : api_write(rq, rs, "settings.coupons", "settings", settings_fn, NULL);
}
