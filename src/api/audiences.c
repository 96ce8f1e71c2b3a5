/* audiences.c - /audiences: saved segments of the rule language, the live
 * preview, members, the CSV export, evaluation; and GET /analytics/funnel. */
#include "internal.h"

#include "scrm/core_rules.h"
#include "scrm/core_segments.h"
#include "scrm/store_segments.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

#define SAMPLE_SIZE 20
#define EXPORT_PAGE 500

static json_t *audience_json(const struct audience *a)
{
	json_t *rule = json_loads(a->rule ? a->rule : "{}", 0, NULL);
	return json_pack("{s:I, s:s, s:o, s:I, s:o, s:o, s:o, s:o}", "id", (json_int_t)a->id,
	                 "name", a->name, "rule", rule ? rule : json_object(), "customer_count",
	                 (json_int_t)a->customer_count, "evaluated_at", api_time(a->evaluated_at),
	                 "created_by", a->created_by ? json_integer(a->created_by) : json_null(),
	                 "created_at", api_time(a->created_at), "updated_at",
	                 api_time(a->updated_at));
}

/* Compile a stored rule; 0 or the error status in rs. */
static int compile(const json_t *rule, struct rule_sql *r, struct resp *rs)
{
	struct core_err e = {0};
	if (rules_compile(rule, "rule", time_now(), r, &e) < 0)
		return api_core_error(rs, &e);
	return 0;
}

/* Compile body.rule, whose tags, tiers and groups must exist; 0 or the error
 * status (422 naming rule.<path>) in rs. */
static int compile_new(const json_t *rule, struct rule_sql *r, struct resp *rs)
{
	struct core_err e = {0};
	int status = compile(rule, r, rs);
	if (status == 0 && core_rule_check_refs(store_reader(), rule, "rule", &e) < 0) {
		rule_sql_clear(r);
		return api_core_error(rs, &e);
	}
	return status;
}

static void add_customer(void *arg, const struct customer *c)
{
	struct {
		struct store_db *db;
		json_t *data;
	} *a = arg;
	json_array_append_new(a->data, api_customer_json(a->db, c));
}

int api_audiences_preview(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {{"rule", J_OBJECT, JF_REQUIRED, 0}, {NULL, 0, 0, 0}};
	int status = api_check_object(rq->body, spec, "", rs);
	if (status)
		return status;
	struct rule_sql r;
	if ((status = compile_new(json_object_get(rq->body, "rule"), &r, rs)))
		return status;
	uint64_t t0 = time_mono_ns();
	struct store_db *db = store_scan_acquire();
	if (!db) {
		rule_sql_clear(&r);
		return api_store_error(rs, ST_UNAVAILABLE);
	}
	struct {
		struct store_db *db;
		json_t *data;
	} acc = {db, json_array()};
	store_read_begin(db);
	/* one scan gives the count and the sample: a second, LIMITed scan would
	 * cross the whole table again whenever matches are rare */
	int64_t ids[SAMPLE_SIZE];
	int nids = 0;
	int64_t count = store_segment_count_sample(db, &r, ids, SAMPLE_SIZE, &nids);
	int st = count < 0 ? ST_ERR : ST_OK;
	for (int i = 0; i < nids && st == ST_OK; i++) {
		struct customer c = {0};
		if ((st = store_customer_get(db, ids[i], &c)) == ST_OK)
			add_customer(&acc, &c);
		customer_clear(&c);
	}
	store_read_end(db);
	store_scan_release(db);
	rule_sql_clear(&r);
	if (st != ST_OK) {
		json_decref(acc.data);
		return api_store_error(rs, st);
	}
	rs->body = json_pack("{s:I, s:o, s:f}", "count", (json_int_t)count, "sample", acc.data,
	                     "took_ms", (double)(time_mono_ns() - t0) / 1e6);
	return 200;
}

static const struct jfield audience_spec[] = {
    {"name", J_STRING, 0, 200},
    {"rule", J_OBJECT, 0, 0},
    {NULL, 0, 0, 0},
};

static int check_body(const json_t *body, bool create, struct resp *rs)
{
	int status = api_check_object(body, audience_spec, "", rs);
	if (status)
		return status;
	const char *name = api_get_str(body, "name");
	if (create && !name)
		return api_error(rs, 422, "validation_failed", "name", "name is required");
	if (name && (status = api_check_label(rs, "name", name, 50, false)))
		return status;
	json_t *rule = json_object_get(body, "rule");
	if (create && !rule)
		return api_error(rs, 422, "validation_failed", "rule", "rule is required");
	if (rule) {
		struct rule_sql r;
		if ((status = compile_new(rule, &r, rs)))
			return status;
		rule_sql_clear(&r);
	}
	return 0;
}

static int evaluate(struct store_db *db, struct api_write *w, int64_t id, bool events)
{
	struct core_err e = {0};
	int64_t count = 0, entered = 0, left = 0;
	if (core_audience_evaluate(db, id, time_now(), events, &count, &entered, &left, &e) < 0)
		return api_core_error(w->rs, &e);
	json_decref(w->detail);
	w->detail = json_pack("{s:I, s:I, s:I}", "count", (json_int_t)count, "entered",
	                      (json_int_t)entered, "left", (json_int_t)left);
	return 0;
}

/* Answer with the audience as stored now. */
static int answer(struct store_db *db, struct api_write *w, int64_t id, int status)
{
	struct audience a = {0};
	int st = store_audience_get(db, id, &a);
	if (st != ST_OK) {
		audience_clear(&a);
		return -st;
	}
	w->target_id = id;
	w->rs->body = audience_json(&a);
	audience_clear(&a);
	return status;
}

static int conflict(struct resp *rs, const char *name)
{
	return api_error(rs, 409, "conflict", "name", "an audience named %s exists", name);
}

static int create_fn(struct store_db *db, struct api_write *w)
{
	const json_t *body = w->rq->body;
	struct audience a = {.name = xstrdup(api_get_str(body, "name")),
	                     .rule = json_dumps(json_object_get(body, "rule"), JSON_COMPACT),
	                     .created_by = w->rq->who->kind == PRINCIPAL_USER ? w->rq->who->id : 0,
	                     .created_at = time_now()};
	int st = store_audience_insert(db, &a);
	int status;
	if (st == ST_CONFLICT) {
		status = conflict(w->rs, a.name);
	} else if (st != ST_OK) {
		status = -st;
	} else {
		/* the members at creation are the starting point: no events for them */
		status = evaluate(db, w, a.id, false);
		if (status == 0) {
			w->rs->location = xasprintf("/api/v1/audiences/%lld", (long long)a.id);
			status = answer(db, w, a.id, 201);
		}
	}
	audience_clear(&a);
	return status;
}

int api_audiences_create(const struct req *rq, struct resp *rs)
{
	int status = check_body(rq->body, true, rs);
	return status ? status : api_write(rq, rs, "audience.create", "audience", create_fn, NULL);
}

static int update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	const json_t *body = w->rq->body;
	struct audience a = {0};
	int st = store_audience_get(db, id, &a), status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such audience");
	} else if (st != ST_OK) {
		status = -st;
	} else {
		const char *name = api_get_str(body, "name");
		json_t *rule = json_object_get(body, "rule");
		if (name) {
			free(a.name);
			a.name = xstrdup(name);
		}
		if (rule) {
			free(a.rule);
			a.rule = json_dumps(rule, JSON_COMPACT);
		}
		a.updated_at = time_now();
		/* an empty patch changes nothing, updated_at included */
		st = name || rule ? store_audience_update(db, &a) : ST_OK;
		if (st == ST_CONFLICT)
			status = conflict(w->rs, a.name);
		else if (st != ST_OK)
			status = -st;
		else /* a new rule: who is in now, with entered/left events */
			status = rule ? evaluate(db, w, id, true) : 0;
		if (status == 0)
			status = answer(db, w, id, 200);
	}
	audience_clear(&a);
	return status;
}

int api_audiences_patch(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id || (status = check_body(rq->body, false, rs)))
		return status;
	return api_write(rq, rs, "audience.update", "audience", update_fn, &id);
}

int api_audiences_delete(const struct req *rq, struct resp *rs)
{
	return api_delete_by_id(rq, rs, "audience.delete", "audience", store_audience_delete,
	                        "audience", NULL);
}

static int evaluate_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	int status = evaluate(db, w, id, true);
	if (status)
		return status;
	status = answer(db, w, id, 200);
	if (status == 200) {
		json_t *o = json_pack("{s:o, s:O, s:O}", "audience", w->rs->body, "entered",
		                      json_object_get(w->detail, "entered"), "left",
		                      json_object_get(w->detail, "left"));
		w->rs->body = o;
	}
	return status;
}

int api_audiences_evaluate(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = api_check_empty_body(rq, rs)))
		return status;
	return api_write(rq, rs, "audience.evaluate", "audience", evaluate_fn, &id);
}

API_GETTER(get_audiences, audience, store_audience_get, audience_json, audience_clear);

int api_audiences_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_audiences, "audience");
}

API_FETCHER(fetch_audiences, audience, store_audience_list, audience_json);

int api_audiences_list(const struct req *rq, struct resp *rs)
{
	return api_list_page(rq, rs, fetch_audiences, store_audience_total);
}

/* Load an audience's rule compiled for now; 0 or the error status in rs. */
static int audience_rule(struct store_db *db, const struct req *rq, struct resp *rs,
                         struct rule_sql *r, struct audience *a)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	int st = store_audience_get(db, id, a);
	if (st != ST_OK)
		return st == ST_NOT_FOUND
		           ? api_error(rs, 404, "not_found", NULL, "no such audience")
		           : api_store_error(rs, st);
	json_t *rule = json_loads(a->rule, 0, NULL);
	status = compile(rule, r, rs);
	json_decref(rule);
	return status;
}

int api_audiences_customers(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct store_db *db = store_reader();
	struct audience a = {0};
	struct rule_sql r = {0};
	store_read_begin(db);
	status = audience_rule(db, rq, rs, &r, &a);
	struct {
		struct store_db *db;
		json_t *data;
	} acc = {db, json_array()};
	int st = ST_OK;
	int64_t total = -1;
	if (!status) {
		/* members as the rule finds them now */
		st = store_segment_list(db, &r, pg.after, pg.limit + 1, add_customer, &acc);
		if (st == ST_OK && pg.count)
			total = store_segment_count(db, &r);
	}
	store_read_end(db);
	rule_sql_clear(&r);
	audience_clear(&a);
	if (status || st != ST_OK) {
		json_decref(acc.data);
		return status ? status : api_store_error(rs, st);
	}
	rs->body = api_page_result(acc.data, api_page_trim(acc.data, pg.limit, "id"), total);
	return 200;
}

/* The CSV export, streamed page by page from one snapshot. */
struct export
{
	struct store_db *db;
	struct rule_sql r;
	int64_t last_id;
	struct buf pending;
	size_t off;
	bool done;
};

static void csv_cell(struct buf *b, const char *s, bool guard)
{
	if (!s)
		s = "";
	/* a cell that a spreadsheet would run as a formula is kept as text */
	bool formula = guard && (*s == '=' || *s == '+' || *s == '-' || *s == '@');
	if (!formula && !strpbrk(s, ",\"\r\n")) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	if (formula)
		buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static void csv_time(struct buf *b, int64_t t)
{
	char s[TIME_RFC3339_LEN];
	if (t)
		buf_puts(b, time_fmt_rfc3339(t, s));
}

static void export_row(void *arg, const struct customer *c, const char *tags)
{
	struct export *x = arg;
	struct buf *b = &x->pending;
	buf_printf(b, "%lld,", (long long)c->id);
	csv_cell(b, c->name, true);
	buf_putc(b, ',');
	csv_cell(b, c->phone, false);
	buf_putc(b, ',');
	csv_cell(b, c->email, true);
	buf_putc(b, ',');
	csv_cell(b, c->unionid, true);
	buf_printf(b, ",%s,", c->gender ? c->gender : "u");
	csv_cell(b, c->birthday, false);
	buf_printf(b, ",%s,", c->stage);
	csv_cell(b, c->tier_name, true);
	buf_printf(b, ",%lld,%lld,%lld,%lld,", (long long)c->points_balance,
	           (long long)c->wallet_balance_cents, (long long)c->order_count,
	           (long long)c->total_spent_cents);
	csv_time(b, c->first_order_at);
	buf_putc(b, ',');
	csv_time(b, c->last_order_at);
	if (c->source_channel_id)
		buf_printf(b, ",%lld", (long long)c->source_channel_id);
	else
		buf_putc(b, ',');
	if (c->owner_user_id)
		buf_printf(b, ",%lld,", (long long)c->owner_user_id);
	else
		buf_puts(b, ",,");
	csv_cell(b, tags, true);
	buf_putc(b, ',');
	csv_time(b, c->created_at);
	buf_puts(b, "\r\n");
	x->last_id = c->id;
}

static ssize_t export_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct export *x = cls;
	if (x->off >= x->pending.len) {
		if (x->done)
			return HTTP_STREAM_END;
		x->pending.len = 0;
		x->off = 0;
		int64_t before = x->last_id;
		if (store_segment_export_page(x->db, &x->r, x->last_id, EXPORT_PAGE, export_row,
		                              x) != ST_OK)
			return HTTP_STREAM_ERROR;
		if (x->last_id == before || x->pending.len == 0) /* a short page ends it */
			x->done = true;
		if (x->pending.len == 0)
			return HTTP_STREAM_END;
	}
	size_t n = x->pending.len - x->off;
	if (n > max)
		n = max;
	memcpy(out, x->pending.data + x->off, n);
	x->off += n;
	return (ssize_t)n;
}

static void export_free(void *cls)
{
	struct export *x = cls;
	store_export_close(x->db);
	rule_sql_clear(&x->r);
	buf_clear(&x->pending);
	free(x);
}

int api_audiences_export(const struct req *rq, struct resp *rs)
{
	struct export *x = xcalloc(1, sizeof *x);
	x->db = store_export_open();
	if (!x->db) {
		free(x);
		return api_error(rs, 503, "unavailable", NULL,
		                 "cannot open the database for the export");
	}
	struct audience a = {0};
	int status = audience_rule(x->db, rq, rs, &x->r, &a);
	if (status) {
		audience_clear(&a);
		export_free(x);
		return status;
	}
	/* UTF-8 with a byte-order mark, so that Excel reads Chinese names right */
	buf_puts(&x->pending, "\xEF\xBB\xBFid,name,phone,email,unionid,gender,birthday,stage,tier,"
	                      "points_balance,wallet_balance_cents,order_count,total_spent_cents,"
	                      "first_order_at,last_order_at,source_channel_id,owner_user_id,tags,"
	                      "created_at\r\n");
	char disp[128];
	snprintf(disp, sizeof disp, "attachment; filename=\"audience-%lld.csv\"", (long long)a.id);
	http_resp_header(rs, "Content-Disposition", disp);
	/* a file of phones and e-mails leaves the system: who took it, and when */
	api_audit_async(rq, rq->who, "audience.export", "audience", a.id, 200,
	                json_pack("{s:s}", "name", a.name));
	audience_clear(&a);
	rs->content_type = "text/csv; charset=utf-8";
	rs->stream = export_read;
	rs->stream_cls = x;
	rs->stream_free = export_free;
	return 200;
}

/* GET /analytics/funnel -------------------------------------------------------------- */

static void add_stage(void *arg, const char *stage, int64_t count)
{
	json_t *counts = arg;
	json_object_set_new(counts, stage, json_integer(count));
}

int api_analytics_funnel(const struct req *rq, struct resp *rs)
{
	int64_t from = 0, to = 0;
	int status;
	if ((status = api_query_range(rq, &from, &to, rs)))
		return status;
	json_t *counts = json_object();
	int st = store_stage_counts(store_reader(), from, to, add_stage, counts);
	if (st != ST_OK) {
		json_decref(counts);
		return api_store_error(rs, st);
	}
	json_t *stages = json_array();
	int64_t total = 0;
	for (int i = 0; i < 6; i++) {
		int64_t n = json_integer_value(json_object_get(counts, core_stages[i]));
		total += n;
		json_array_append_new(stages, json_pack("{s:s, s:I}", "stage", core_stages[i],
		                                        "count", (json_int_t)n));
	}
	json_decref(counts);
	rs->body = json_pack("{s:o, s:I, s:o, s:o}", "stages", stages, "total", (json_int_t)total,
	                     "from", api_time(from), "to", api_time(to));
	return 200;
}
