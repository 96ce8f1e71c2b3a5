/* loyalty.c - the member club's API: points rules and ledgers, manual grants,
 * check-ins, the wallet, content, tiers with overrides, and the daily pass. */
#include "internal.h"

#include "scrm/core_loyalty.h"
#include "scrm/sched.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

#define REASON_MAX 64
#define NOTE_MAX 500

/* Settings ---------------------------------------------------------------------- */

int api_settings_points_get(const struct req *rq, struct resp *rs)
{
	(void)rq;
	struct points_rules r;
	struct core_err e = {0};
	if (core_points_rules_load(store_reader(), &r, &e) < 0)
		return api_core_error(rs, &e);
	rs->body = core_points_rules_json(&r);
	return 200;
}

static int rules_fn(struct store_db *db, struct api_write *w)
{
	struct points_rules r;
	struct core_err e = {0};
	int64_t now = time_now();
	if (core_points_rules_load(db, &r, &e) < 0 ||
	    core_points_rules_apply(&r, w->rq->body, &e) < 0 ||
	    core_points_rules_save(db, &r, now, &e) < 0)
		return api_core_error(w->rs, &e);
	w->rs->body = core_points_rules_json(&r);
	w->detail = json_deep_copy(w->rs->body);
	return 200;
}

int api_settings_points_put(const struct req *rq, struct resp *rs)
{
	if (!json_is_object(rq->body))
		return api_error(rs, 422, "validation_failed", NULL,
		                 "the body must be a JSON object");
	/* checked once here so that a bad body never reaches the writer */
	struct points_rules r;
	struct core_err e = {0};
	core_points_rules_default(&r);
	if (core_points_rules_apply(&r, rq->body, &e) < 0)
		return api_core_error(rs, &e);
	return api_write(rq, rs, "settings.points", "settings", rules_fn, NULL);
}

/* Ledgers ----------------------------------------------------------------------- */

static json_t *entry_json(const struct ledger_entry *e, bool points)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, points ? "delta" : "delta_cents", json_integer(e->delta));
	json_object_set_new(o, "reason", json_string(e->reason));
	json_object_set_new(o, "ref_type", e->ref_type ? json_string(e->ref_type) : json_null());
	json_object_set_new(o, "ref_id", e->ref_id ? json_integer(e->ref_id) : json_null());
	json_object_set_new(o, "note", e->note ? json_string(e->note) : json_null());
	if (points) {
		json_object_set_new(o, "expires_at", api_time(e->expires_at));
		json_object_set_new(o, "remaining", json_integer(e->remaining));
		json_object_set_new(o, "shortfall", json_integer(e->shortfall));
	}
	json_object_set_new(o, "created_at", api_time(e->created_at));
	return o;
}

static void add_points_entry(void *arg, const struct ledger_entry *e)
{
	json_array_append_new(arg, entry_json(e, true));
}

static void add_wallet_entry(void *arg, const struct ledger_entry *e)
{
	json_array_append_new(arg, entry_json(e, false));
}

/* GET /customers/{id}/points and /wallet: the balance and a page of the ledger. */
static int ledger_get(const struct req *rq, struct resp *rs, bool points)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct page pg;
	if ((status = api_page_parse(rq, rs, &pg)))
		return status;
	struct store_db *db = store_reader();
	struct customer c = {0};
	struct core_err e = {0};
	json_t *data = json_array();
	store_read_begin(db);
	int st = ST_OK;
	int64_t earned = 0;
	if (core_customer_load(db, id, &c, &e) < 0) {
		status = api_core_error(rs, &e);
	} else if (points) {
		st = store_points_list(db, id, pg.after, pg.limit + 1, add_points_entry, data);
		earned = store_points_earned_since(db, id, core_tier_window_start(time_now()));
	} else {
		st = store_wallet_list(db, id, pg.after, pg.limit + 1, add_wallet_entry, data);
	}
	store_read_end(db);
	if (status || st != ST_OK) {
		json_decref(data);
		customer_clear(&c);
		return status ? status : api_store_error(rs, st);
	}
	int64_t next = api_page_trim(data, pg.limit, "id");
	json_t *page = api_page_result(json_array(), next, -1);
	json_t *o = json_object();
	if (points) {
		json_object_set_new(o, "balance", json_integer(c.points_balance));
		json_object_set_new(o, "earned_12m", json_integer(earned));
	} else {
		json_object_set_new(o, "balance_cents", json_integer(c.wallet_balance_cents));
	}
	json_object_set_new(o, "ledger", data);
	json_object_set(o, "next_cursor", json_object_get(page, "next_cursor"));
	json_decref(page);
	customer_clear(&c);
	rs->body = o;
	return 200;
}

int api_points_get(const struct req *rq, struct resp *rs)
{
	return ledger_get(rq, rs, true);
}

int api_wallet_get(const struct req *rq, struct resp *rs)
{
	return ledger_get(rq, rs, false);
}

struct move {
	int64_t customer_id, delta;
	const char *reason, *note;
};

/* The answer of a ledger write: the new balance and the row just written. */
static int move_answer(struct store_db *db, struct api_write *w, bool points)
{
	struct move *m = w->arg;
	json_t *data = json_array();
	if (points)
		store_points_list(db, m->customer_id, 0, 1, add_points_entry, data);
	else
		store_wallet_list(db, m->customer_id, 0, 1, add_wallet_entry, data);
	int64_t bal = points ? store_points_balance(db, m->customer_id)
	                     : store_wallet_balance(db, m->customer_id);
	w->target_id = m->customer_id;
	w->detail = json_pack("{s:I, s:s}", points ? "delta" : "delta_cents", (json_int_t)m->delta,
	                      "reason", m->reason);
	w->rs->body = json_pack("{s:I, s:O}", points ? "balance" : "balance_cents", (json_int_t)bal,
	                        "entry", json_array_get(data, 0));
	json_decref(data);
	return 201;
}

static int points_fn(struct store_db *db, struct api_write *w)
{
	struct move *m = w->arg;
	struct core_err e = {0};
	struct customer c = {0};
	int64_t now = time_now();
	int rc = core_customer_load(db, m->customer_id, &c, &e);
	customer_clear(&c);
	if (rc == 0 && m->delta > 0) {
		struct points_rules r;
		rc = core_points_rules_load(db, &r, &e);
		if (rc == 0)
			rc = core_points_grant(db, m->customer_id, m->delta, m->reason, "manual", 0,
			                       m->note, now, &r, &e);
	} else if (rc == 0) {
		rc = core_points_take(db, m->customer_id, -m->delta, m->reason, "manual", 0,
		                      m->note, now, false, NULL, &e);
		if (rc < 0 && e.code)
			e.field = "delta";
	}
	return rc < 0 ? api_core_error(w->rs, &e) : move_answer(db, w, true);
}

static int wallet_fn(struct store_db *db, struct api_write *w)
{
	struct move *m = w->arg;
	struct core_err e = {0};
	if (core_wallet_move(db, m->customer_id, m->delta, m->reason, m->note, time_now(), &e) < 0)
		return api_core_error(w->rs, &e);
	return move_answer(db, w, false);
}

static int ledger_post(const struct req *rq, struct resp *rs, bool points)
{
	static const struct jfield pspec[] = {
	    {"delta", J_INT, JF_REQUIRED, 0},
	    {"reason", J_STRING, JF_REQUIRED, 256},
	    {"note", J_STRING, JF_NULLABLE, 2000},
	    {NULL, 0, 0, 0},
	};
	static const struct jfield wspec[] = {
	    {"delta_cents", J_INT, JF_REQUIRED, 0},
	    {"reason", J_STRING, JF_REQUIRED, 16},
	    {"note", J_STRING, JF_NULLABLE, 2000},
	    {NULL, 0, 0, 0},
	};
	int status = 0;
	struct move m = {0};
	if (!(m.customer_id = api_path_id(rq, 0, rs, &status)))
		return status;
	if ((status = api_check_object(rq->body, points ? pspec : wspec, "", rs)))
		return status;
	const char *field = points ? "delta" : "delta_cents";
	m.delta = json_integer_value(json_object_get(rq->body, field));
	m.reason = api_get_str(rq->body, "reason");
	m.note = api_get_str(rq->body, "note");
	if (m.delta == 0 || m.delta > 100000000000LL || m.delta < -100000000000LL)
		return api_error(rs, 422, "validation_failed", field,
		                 "%s must be a non-zero whole number", field);
	if ((status = api_check_label(rs, "reason", m.reason, REASON_MAX, false)) ||
	    (m.note && (status = api_check_label(rs, "note", m.note, NOTE_MAX, true))))
		return status;
	return api_write(rq, rs, points ? "points.adjust" : "wallet.move", "customer",
	                 points ? points_fn : wallet_fn, &m);
}

int api_points_post(const struct req *rq, struct resp *rs)
{
	return ledger_post(rq, rs, true);
}

int api_wallet_post(const struct req *rq, struct resp *rs)
{
	return ledger_post(rq, rs, false);
}

/* Check-in and content ---------------------------------------------------------------- */

static int checkin_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg, points = 0, now = time_now();
	int streak = 0;
	struct core_err e = {0};
	if (core_checkin(db, id, now, &streak, &points, &e) < 0)
		return api_core_error(w->rs, &e);
	int y, m, d;
	time_local_ymd(now, &y, &m, &d);
	char day[16];
	snprintf(day, sizeof day, "%04d-%02d-%02d", y, m, d);
	w->target_id = id;
	w->detail = json_pack("{s:i, s:I}", "streak", streak, "points", (json_int_t)points);
	w->rs->body = json_pack("{s:i, s:I, s:I, s:s}", "streak", streak, "points_awarded",
	                        (json_int_t)points, "balance",
	                        (json_int_t)store_points_balance(db, id), "day", day);
	return 200;
}

int api_checkin(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = api_check_empty_body(rq, rs)))
		return status;
	return api_write(rq, rs, "customer.checkin", "customer", checkin_fn, &id);
}

struct content_ctx {
	int64_t customer_id, order_id;
	const char *kind, *url, *note;
};

static int content_fn(struct store_db *db, struct api_write *w)
{
	struct content_ctx *x = w->arg;
	struct core_err e = {0};
	int64_t id = 0, points = 0, now = time_now();
	if (core_content_add(db, x->customer_id, x->kind, x->order_id, x->url, x->note, now, &id,
	                     &points, &e) < 0)
		return api_core_error(w->rs, &e);
	w->target_id = x->customer_id;
	w->detail = json_pack("{s:s, s:I}", "kind", x->kind, "points", (json_int_t)points);
	w->rs->body = json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:I, s:o}", "id", (json_int_t)id,
	                        "customer_id", (json_int_t)x->customer_id, "kind", x->kind,
	                        "order_id", x->order_id ? json_integer(x->order_id) : json_null(),
	                        "url", x->url ? json_string(x->url) : json_null(), "note",
	                        x->note ? json_string(x->note) : json_null(), "points_awarded",
	                        (json_int_t)points, "created_at", api_time(now));
	return 201;
}

int api_content_post(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"kind", J_STRING, JF_REQUIRED, 16},
	    {"order_id", J_INT, JF_NULLABLE, 0},
	    {"url", J_STRING, JF_NULLABLE, 2048},
	    {"note", J_STRING, JF_NULLABLE, 4000},
	    {NULL, 0, 0, 0},
	};
	int status = 0;
	struct content_ctx x = {0};
	if (!(x.customer_id = api_path_id(rq, 0, rs, &status)))
		return status;
	if ((status = api_check_object(rq->body, spec, "", rs)))
		return status;
	if ((x.order_id = api_body_id(rq->body, "order_id", rs, &status)) < 0)
		return status;
	x.kind = api_get_str(rq->body, "kind");
	x.url = api_get_str(rq->body, "url");
	x.note = api_get_str(rq->body, "note");
	if (x.url && ((strncmp(x.url, "https://", 8) != 0 && strncmp(x.url, "http://", 7) != 0) ||
	              core_external_id_problem(x.url + 7)))
		return api_error(rs, 422, "validation_failed", "url",
		                 "url must be an http(s) address without spaces");
	for (const char *p = x.note; p && *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t')
			return api_error(rs, 422, "validation_failed", "note",
			                 "note must not contain control characters");
	return api_write(rq, rs, "customer.content", "customer", content_fn, &x);
}
