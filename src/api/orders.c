/* orders.c - /orders: upserts from platform syncs, lists, and the binding flow. */
#include "internal.h"

#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

json_t *api_order_json(const struct order *o)
{
	json_t *items = json_loads(o->items ? o->items : "[]", 0, NULL);
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(o->id));
	json_object_set_new(j, "platform", json_string(o->platform));
	json_object_set_new(j, "external_id", json_string(o->external_id));
	json_object_set_new(j, "customer_id",
	                    o->customer_id ? json_integer(o->customer_id) : json_null());
	json_object_set_new(j, "buyer_phone",
	                    o->buyer_phone ? json_string(o->buyer_phone) : json_null());
	json_object_set_new(j, "amount_cents", json_integer(o->amount_cents));
	json_object_set_new(j, "status", json_string(o->status));
	json_object_set_new(j, "paid_at", api_time(o->paid_at));
	json_object_set_new(j, "items", items ? items : json_array());
	json_object_set_new(j, "referral_code",
	                    o->referral_code ? json_string(o->referral_code) : json_null());
	json_object_set_new(j, "bound_at", api_time(o->bound_at));
	json_object_set_new(j, "bound_by", o->bound_by ? json_string(o->bound_by) : json_null());
	json_object_set_new(j, "created_at", api_time(o->created_at));
	json_object_set_new(j, "updated_at", api_time(o->updated_at));
	return j;
}

const struct jfield api_order_spec[] = {
    {"platform", J_STRING, JF_REQUIRED, 32},
    {"external_id", J_STRING, JF_REQUIRED, 128},
    {"customer_id", J_INT, JF_NULLABLE, 0},
    {"buyer_phone", J_STRING, JF_NULLABLE, 64},
    {"amount_cents", J_INT, 0, 0},
    {"status", J_STRING, 0, 16},
    {"paid_at", J_STRING, 0, 64},
    {"items", J_ARRAY, 0, 0},
    {"referral_code", J_STRING, JF_NULLABLE, 64},
    {NULL, 0, 0, 0},
};

int api_order_read(const json_t *body, struct order_in *in, char phone[CORE_PHONE_MAX],
                   char **items, struct core_err *e)
{
	memset(in, 0, sizeof *in);
	*items = NULL;
	const char *why;
	in->platform = json_string_value(json_object_get(body, "platform"));
	in->external_id = json_string_value(json_object_get(body, "external_id"));
	if ((why = core_platform_problem(in->platform)))
		return core_fail(e, CORE_INVALID, "platform", "platform %s", why);
	if ((why = core_external_id_problem(in->external_id)))
		return core_fail(e, CORE_INVALID, "external_id", "external_id %s", why);
	json_t *v;
	if ((v = json_object_get(body, "customer_id"))) {
		in->set |= OF_CUSTOMER;
		if (!json_is_null(v) && json_integer_value(v) <= 0)
			return core_fail(e, CORE_INVALID, "customer_id",
			                 "customer_id must be a positive id");
		in->customer_id = json_integer_value(v);
	}
	if ((v = json_object_get(body, "buyer_phone"))) {
		in->set |= OF_PHONE;
		if (json_is_string(v)) {
			if ((why = core_phone_normalize(json_string_value(v), phone)))
				return core_fail(e, CORE_INVALID, "buyer_phone", "buyer_phone %s",
				                 why);
			in->buyer_phone = phone;
		}
	}
	if ((v = json_object_get(body, "amount_cents"))) {
		in->set |= OF_AMOUNT;
		in->amount_cents = json_integer_value(v);
		if (in->amount_cents < 0 || in->amount_cents > 100000000000LL)
			return core_fail(e, CORE_INVALID, "amount_cents",
			                 "amount_cents must be a whole number of cents, 0 or more");
	}
	if ((v = json_object_get(body, "status"))) {
		in->set |= OF_STATUS;
		in->status = json_string_value(v);
		if (!core_order_status_valid(in->status))
			return core_fail(e, CORE_INVALID, "status",
			                 "status must be paid, refunded or cancelled");
	}
	if ((v = json_object_get(body, "paid_at"))) {
		in->set |= OF_PAID_AT;
		if (!time_parse_rfc3339(json_string_value(v), &in->paid_at))
			return core_fail(
			    e, CORE_INVALID, "paid_at",
			    "paid_at must be an RFC 3339 time such as 2026-11-22T08:00:00Z");
	}
	if ((v = json_object_get(body, "items"))) {
		in->set |= OF_ITEMS;
		if (core_order_items(v, "items", items, e) < 0)
			return -1;
		in->items = *items;
	}
	if ((v = json_object_get(body, "referral_code"))) {
		in->set |= OF_REFERRAL;
		in->referral_code = json_string_value(v);
		if (in->referral_code && (why = core_external_id_problem(in->referral_code)))
			return core_fail(e, CORE_INVALID, "referral_code", "referral_code %s", why);
	}
	return 0;
}

struct upsert {
	struct order_in in;
};

static int upsert_fn(struct store_db *db, struct api_write *w)
{
	struct upsert *u = w->arg;
	struct order o = {0};
	struct core_err e = {0};
	enum upsert_result res;
	if (core_order_upsert(db, &u->in, time_now(), &o, &res, &e) < 0) {
		order_clear(&o);
		return api_core_error(w->rs, &e);
	}
	w->target_id = o.id;
	w->detail = json_pack("{s:s, s:s, s:s}", "platform", o.platform, "external_id",
	                      o.external_id, "result",
	                      res == UPSERT_CREATED   ? "created"
	                      : res == UPSERT_UPDATED ? "updated"
	                                              : "unchanged");
	w->rs->body = api_order_json(&o);
	if (res == UPSERT_CREATED)
		w->rs->location = xasprintf("/api/v1/orders/%lld", (long long)o.id);
	order_clear(&o);
	return res == UPSERT_CREATED ? 201 : 200;
}

int api_orders_upsert(const struct req *rq, struct resp *rs)
{
	int status = api_check_object(rq->body, api_order_spec, "", rs);
	if (status)
		return status;
	struct upsert u;
	char phone[CORE_PHONE_MAX], *items = NULL;
	struct core_err e = {0};
	if (api_order_read(rq->body, &u.in, phone, &items, &e) < 0)
		status = api_core_error(rs, &e);
	else
		status = api_write(rq, rs, "order.upsert", "order", upsert_fn, &u);
	free(items);
	return status;
}

int api_orders_get(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct order o = {0};
	int st = store_order_get(store_reader(), id, &o);
	if (st == ST_OK) {
		rs->body = api_order_json(&o);
		status = 200;
	} else {
		status = st == ST_NOT_FOUND ? api_error(rs, 404, "not_found", NULL, "no such order")
		                            : api_store_error(rs, st);
	}
	order_clear(&o);
	return status;
}

struct order_acc {
	struct store_db *db;
	json_t *data;
};

/* A listed order also carries its customer's name, so that a list shows who
 * bought without a call per row. */
static void add_order(void *arg, const struct order *o)
{
	struct order_acc *a = arg;
	json_t *j = api_order_json(o);
	struct customer c = {0};
	json_object_set_new(j, "customer_name",
	                    o->customer_id &&
	                            store_customer_get(a->db, o->customer_id, &c) == ST_OK && c.name
	                        ? json_string(c.name)
	                        : json_null());
	customer_clear(&c);
	json_array_append_new(a->data, j);
}

int api_orders_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct order_filter f = {.platform = http_req_query(rq, "platform"),
	                         .status = http_req_query(rq, "status")};
	if ((status = api_query_i64(rq, "customer_id", &f.customer_id, rs)) ||
	    (status = api_query_bool(rq, "unbound", &f.unbound, rs)))
		return status;
	if (f.platform && core_platform_problem(f.platform))
		return api_error(rs, 422, "validation_failed", "platform", "platform %s",
		                 core_platform_problem(f.platform));
	if (f.status && !core_order_status_valid(f.status))
		return api_error(rs, 422, "validation_failed", "status",
		                 "status must be paid, refunded or cancelled");
	struct store_db *db = store_reader();
	json_t *data = json_array();
	struct order_acc acc = {db, data};
	store_read_begin(db);
	int st = store_order_list(db, &f, pg.after, pg.limit + 1, add_order, &acc);
	int64_t total = pg.count ? store_order_count(db, &f) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

struct bind {
	int64_t customer_id;
	const char *platform, *external_id;
	char phone[CORE_PHONE_MAX];
};

static int bind_fn(struct store_db *db, struct api_write *w)
{
	struct bind *b = w->arg;
	struct order o = {0};
	struct core_err e = {0};
	bool changed;
	if (core_order_bind(db, b->customer_id, b->platform, b->external_id, b->phone, time_now(),
	                    &o, &changed, &e) < 0) {
		order_clear(&o);
		return api_core_error(w->rs, &e);
	}
	w->target_id = o.id;
	w->detail =
	    json_pack("{s:I, s:b}", "customer_id", (json_int_t)b->customer_id, "changed", changed);
	w->rs->body = api_order_json(&o);
	order_clear(&o);
	return 200;
}

int api_orders_bind(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"customer_id", J_INT, JF_REQUIRED, 0},
	    {"platform", J_STRING, JF_REQUIRED, 32},
	    {"external_id", J_STRING, JF_REQUIRED, 128},
	    {"phone", J_STRING, JF_REQUIRED, 64},
	    {NULL, 0, 0, 0},
	};
	int status = api_check_object(rq->body, spec, "", rs);
	if (status)
		return status;
	struct bind b = {0};
	if ((b.customer_id = api_body_id(rq->body, "customer_id", rs, &status)) < 0)
		return status;
	b.platform = api_get_str(rq->body, "platform");
	b.external_id = api_get_str(rq->body, "external_id");
	const char *why;
	if ((why = core_platform_problem(b.platform)))
		return api_error(rs, 422, "validation_failed", "platform", "platform %s", why);
	if ((why = core_external_id_problem(b.external_id)))
		return api_error(rs, 422, "validation_failed", "external_id", "external_id %s",
		                 why);
	if ((why = core_phone_normalize(api_get_str(rq->body, "phone"), b.phone)))
		return api_error(rs, 422, "validation_failed", "phone", "phone %s", why);
	return api_write(rq, rs, "order.bind", "order", bind_fn, &b);
}
