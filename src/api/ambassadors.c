/* ambassadors.c - /ambassadors: KOC ambassadors, their commissions and the
 * customers their referral codes brought. */
#include "internal.h"

#include "scrm/core_ambassadors.h"
#include "scrm/crypto.h"
#include "scrm/store_ambassadors.h"
#include "scrm/store_records.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *amb_json(const struct ambassador *a)
{
	return json_pack(
	    "{s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "id", (json_int_t)a->id,
	    "customer_id", (json_int_t)a->customer_id, "level", (json_int_t)a->level,
	    "referral_code", a->referral_code, "commission_pct", (json_int_t)a->commission_pct,
	    "referred_orders", (json_int_t)a->referred_orders, "referred_gmv_cents",
	    (json_int_t)a->referred_gmv_cents, "referred_customers",
	    (json_int_t)a->referred_customers, "commission_pending_cents",
	    (json_int_t)a->pending_cents, "commission_settled_cents", (json_int_t)a->settled_cents,
	    "created_at", api_time(a->created_at), "updated_at", api_time(a->updated_at));
}

static const struct jfield amb_spec[] = {
    {"customer_id", J_INT, 0, 0},       {"level", J_INT, 0, 0}, {"commission_pct", J_INT, 0, 0},
    {"referral_code", J_STRING, 0, 64}, {NULL, 0, 0, 0},
};

/* Eight characters nobody misreads on a poster (no 0/O, 1/I). */
static char *new_code(void)
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	char *c = xmalloc(9);
	for (int i = 0; i < 8; i++)
		c[i] = alphabet[crypto_random_below(sizeof alphabet - 1)];
	c[8] = '\0';
	return c;
}

static int read_amb(const json_t *body, struct ambassador *a, bool create, struct resp *rs)
{
	int status = api_check_object(body, amb_spec, "", rs);
	if (status)
		return status;
	const json_t *cid = json_object_get(body, "customer_id"),
	             *lv = json_object_get(body, "level"),
	             *pct = json_object_get(body, "commission_pct");
	const char *code = api_get_str(body, "referral_code");
	if (create && !cid)
		return api_error(rs, 422, "validation_failed", "customer_id",
		                 "customer_id is required: the customer who becomes an ambassador");
	if (!create && cid)
		return api_error(rs, 422, "validation_failed", "customer_id",
		                 "an ambassador's customer cannot change");
	if (create && !pct)
		return api_error(
		    rs, 422, "validation_failed", "commission_pct",
		    "commission_pct is required: the percent of referred orders earned");
	if (pct && (json_integer_value(pct) < 0 || json_integer_value(pct) > 100))
		return api_error(rs, 422, "validation_failed", "commission_pct",
		                 "commission_pct must be a whole percent from 0 to 100");
	if (lv && (json_integer_value(lv) < 1 || json_integer_value(lv) > 10))
		return api_error(rs, 422, "validation_failed", "level",
		                 "level must be from 1 to 10");
	if (code && !api_code_ok(code, 4, 32))
		return api_error(rs, 422, "validation_failed", "referral_code",
		                 "referral_code must be 4 to 32 letters, digits, - or _");
	if (cid)
		a->customer_id = json_integer_value(cid);
	if (pct)
		a->commission_pct = json_integer_value(pct);
	if (lv)
		a->level = json_integer_value(lv);
	if (code || create) {
		free(a->referral_code);
		a->referral_code = code ? xstrdup(code) : new_code();
	}
	return 0;
}

/* A taken customer or code: 409 naming which. */
static int amb_conflict(struct store_db *db, struct resp *rs, const struct ambassador *a)
{
	struct ambassador other = {0};
	int st = store_ambassador_by_code(db, a->referral_code, &other);
	bool code = st == ST_OK && other.id != a->id;
	ambassador_clear(&other);
	return code
	           ? api_error(rs, 409, "conflict", "referral_code",
	                       "another ambassador has the code %s", a->referral_code)
	           : api_error(rs, 409, "conflict", "customer_id",
	                       "customer %lld is an ambassador already", (long long)a->customer_id);
}

static int create_fn(struct store_db *db, struct api_write *w)
{
	struct ambassador a = {.created_at = time_now(), .level = 1};
	int status = read_amb(w->rq->body, &a, true, w->rs);
	if (!status) {
		struct customer c = {0};
		int st = store_customer_get(db, a.customer_id, &c);
		bool gone = st == ST_NOT_FOUND || (st == ST_OK && c.erased_at);
		customer_clear(&c);
		if (gone)
			status =
			    api_error(w->rs, 422, "validation_failed", "customer_id",
			              "customer %lld does not exist", (long long)a.customer_id);
		else if (st != ST_OK)
			status = -st;
	}
	if (!status) {
		int st = store_ambassador_insert(db, &a);
		if (st == ST_CONFLICT) {
			status = amb_conflict(db, w->rs, &a);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			struct ambassador back = {0};
			st = store_ambassador_get(db, a.id, &back);
			if (st == ST_OK) {
				w->target_id = a.id;
				w->detail = json_pack("{s:I, s:s}", "customer_id",
				                      (json_int_t)a.customer_id, "referral_code",
				                      a.referral_code);
				w->rs->body = amb_json(&back);
				w->rs->location =
				    xasprintf("/api/v1/ambassadors/%lld", (long long)a.id);
				status = 201;
			} else {
				status = -st;
			}
			ambassador_clear(&back);
		}
	}
	ambassador_clear(&a);
	return status;
}

int api_ambassadors_create(const struct req *rq, struct resp *rs)
{
	return api_write(rq, rs, "ambassador.create", "ambassador", create_fn, NULL);
}

static int update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct ambassador a = {0};
	int st = store_ambassador_get(db, id, &a), status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such ambassador");
	} else if (st != ST_OK) {
		status = -st;
	} else {
		char *old_code = xstrdup(a.referral_code);
		status = read_amb(w->rq->body, &a, false, w->rs);
		/* orders were counted by the code they carry: once one has earned,
		 * the code stays, so that every figure keeps reading the same code */
		if (!status && strcmp(old_code, a.referral_code) != 0) {
			int64_t n = store_commission_total(db, id);
			if (n < 0)
				status = -ST_ERR;
			else if (n > 0)
				status = api_error(
				    w->rs, 409, "conflict", "referral_code",
				    "orders have earned commission under %s; it cannot change",
				    old_code);
		}
		free(old_code);
	}
	if (st == ST_OK && !status) {
		a.updated_at = time_now();
		st = store_ambassador_update(db, &a);
		if (st == ST_CONFLICT) {
			status = amb_conflict(db, w->rs, &a);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->rs->body = amb_json(&a);
			status = 200;
		}
	}
	ambassador_clear(&a);
	return status;
}

int api_ambassadors_patch(const struct req *rq, struct resp *rs)
{
	return api_write_id(rq, rs, "ambassador.update", "ambassador", update_fn);
}

API_GETTER(get_ambassadors, ambassador, store_ambassador_get, amb_json, ambassador_clear);

int api_ambassadors_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_ambassadors, "ambassador");
}

API_FETCHER(fetch_ambassadors, ambassador, store_ambassador_list, amb_json);

int api_ambassadors_list(const struct req *rq, struct resp *rs)
{
	return api_list_page(rq, rs, fetch_ambassadors, store_ambassador_total);
}

static void add_commission(void *arg, const struct commission *c)
{
	json_array_append_new(
	    arg, json_pack("{s:I, s:I, s:s, s:I, s:I, s:s, s:o, s:o, s:o}", "id", (json_int_t)c->id,
	                   "order_id", (json_int_t)c->order_id, "kind", c->kind, "amount_cents",
	                   (json_int_t)c->amount_cents, "order_cents", (json_int_t)c->order_cents,
	                   "status", c->status, "settle_at", api_time(c->settle_at), "created_at",
	                   api_time(c->created_at), "updated_at", api_time(c->updated_at)));
}

int api_ambassadors_commissions(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct page pg;
	if ((status = api_page_parse(rq, rs, &pg)))
		return status;
	struct store_db *db = store_reader();
	struct ambassador a = {0};
	json_t *data = json_array();
	store_read_begin(db);
	int st = store_ambassador_get(db, id, &a);
	if (st == ST_OK)
		st = store_commission_list(db, id, pg.after, pg.limit + 1, add_commission, data);
	int64_t total = st == ST_OK && pg.count ? store_commission_total(db, id) : -1;
	store_read_end(db);
	ambassador_clear(&a);
	if (st != ST_OK) {
		json_decref(data);
		if (st == ST_NOT_FOUND)
			return api_error(rs, 404, "not_found", NULL, "no such ambassador");
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

static void add_referral(void *arg, int64_t customer_id, const char *name, int64_t orders,
                         int64_t gmv)
{
	json_array_append_new(arg,
	                      json_pack("{s:I, s:I, s:o, s:I, s:I}", "id", (json_int_t)customer_id,
	                                "customer_id", (json_int_t)customer_id, "name",
	                                name ? json_string(name) : json_null(), "orders",
	                                (json_int_t)orders, "gmv_cents", (json_int_t)gmv));
}

int api_ambassadors_customers(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct page pg;
	if ((status = api_page_parse(rq, rs, &pg)))
		return status;
	struct store_db *db = store_reader();
	struct ambassador a = {0};
	json_t *data = json_array();
	store_read_begin(db);
	int st = store_ambassador_get(db, id, &a);
	if (st == ST_OK)
		st = store_ambassador_referrals(db, a.referral_code, pg.after, pg.limit + 1,
		                                add_referral, data);
	store_read_end(db);
	int64_t total = a.referred_customers;
	ambassador_clear(&a);
	if (st != ST_OK) {
		json_decref(data);
		if (st == ST_NOT_FOUND)
			return api_error(rs, 404, "not_found", NULL, "no such ambassador");
		return api_store_error(rs, st);
	}
	rs->body =
	    api_page_result(data, api_page_trim(data, pg.limit, "id"), pg.count ? total : -1);
	return 200;
}
