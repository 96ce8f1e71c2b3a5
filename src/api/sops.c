/* sops.c - /sops: SOPs, their runs, firing one by hand, a dry run; and
 * /tasks, the work SOPs hand to operators. */
#include "internal.h"

#include "scrm/core_rules.h"
#include "scrm/core_segments.h"
#include "scrm/core_sops.h"
#include "scrm/crypto.h"
#include "scrm/sched.h"
#include "scrm/store_records.h"
#include "scrm/store_segments.h"
#include "scrm/store_sops.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parsed(const char *text)
{
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	return j ? j : json_null();
}

static json_t *sop_json(const struct sop *s)
{
	return json_pack(
	    "{s:I, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)s->id, "name",
	    s->name, "enabled", s->enabled, "trigger", parsed(s->trigger), "audience",
	    parsed(s->audience), "actions", parsed(s->actions), "next_at",
	    s->next_at > 0 && s->enabled ? api_time(s->next_at) : json_null(), "created_by",
	    s->created_by ? json_integer(s->created_by) : json_null(), "created_at",
	    api_time(s->created_at), "updated_at", api_time(s->updated_at));
}

static const struct jfield sop_spec[] = {
    {"name", J_STRING, 0, 400},  {"enabled", J_BOOL, 0, 0},
    {"trigger", J_OBJECT, 0, 0}, {"audience", J_OBJECT, JF_NULLABLE, 0},
    {"actions", J_ARRAY, 0, 0},  {NULL, 0, 0, 0},
};

/* Apply a checked body over s (the writer's db, for references). 0 or the
 * error status in rs; *retrigger when the trigger or enabled changed, so that
 * the scheduler starts afresh from now (no catch-up of a paused SOP). */
static int read_sop(struct store_db *db, const json_t *body, struct sop *s, bool create,
                    bool *retrigger, struct resp *rs)
{
	int status = api_check_object(body, sop_spec, "", rs);
	if (status)
		return status;
	const char *name = api_get_str(body, "name");
	const json_t *trig = json_object_get(body, "trigger"),
	             *aud = json_object_get(body, "audience"),
	             *acts = json_object_get(body, "actions"),
	             *en = json_object_get(body, "enabled");
	if (create && !name)
		return api_error(rs, 422, "validation_failed", "name", "name is required");
	if (name && (status = api_check_label(rs, "name", name, 100, false)))
		return status;
	if (create && !trig)
		return api_error(
		    rs, 422, "validation_failed", "trigger",
		    "trigger is required: {\"type\": \"schedule\" | \"event\" | \"date\", ...}");
	if (create && !acts)
		return api_error(rs, 422, "validation_failed", "actions",
		                 "actions is required: a list of 1 to 10 actions");
	struct core_err e = {0};
	struct sop_trigger t;
	if (trig && core_sop_trigger_parse(trig, &t, &e) < 0)
		return api_core_error(rs, &e);
	if (aud && !json_is_null(aud)) {
		struct rule_sql r;
		if (rules_compile(aud, "audience", time_now(), &r, &e) < 0)
			return api_core_error(rs, &e);
		rule_sql_clear(&r);
		if (core_rule_check_refs(db, aud, "audience", &e) < 0)
			return api_core_error(rs, &e);
	}
	if (acts && core_sop_actions_check(db, acts, &e) < 0)
		return api_core_error(rs, &e);
	bool was_enabled = s->enabled;
	if (name) {
		free(s->name);
		s->name = xstrdup(name);
	}
	if (en)
		s->enabled = json_is_true(en);
	char *tt = trig ? json_dumps(trig, JSON_COMPACT) : NULL;
	*retrigger = create || (tt && strcmp(tt, s->trigger) != 0) || (s->enabled && !was_enabled);
	if (tt) {
		free(s->trigger);
		s->trigger = tt;
	}
	if (aud) {
		free(s->audience);
		s->audience = json_is_null(aud) ? NULL : json_dumps(aud, JSON_COMPACT);
	}
	if (acts) {
		free(s->actions);
		s->actions = json_dumps(acts, JSON_COMPACT);
	}
	if (*retrigger) { /* an event SOP waits for what happens from now on */
		s->next_at = 0;
		s->cursor = store_event_last_id(db);
		if (s->cursor < 0)
			return api_store_error(rs, ST_ERR);
	}
	return 0;
}

static int sop_conflict(struct resp *rs, const char *name)
{
	return api_error(rs, 409, "conflict", "name", "a SOP named %s exists", name);
}

static int create_fn(struct store_db *db, struct api_write *w)
{
	struct sop s = {.created_at = time_now(), .enabled = true};
	bool re = false;
	int status = read_sop(db, w->rq->body, &s, true, &re, w->rs);
	if (!status) {
		s.created_by = w->rq->who->kind == PRINCIPAL_USER ? w->rq->who->id : 0;
		int st = store_sop_insert(db, &s);
		if (st == ST_CONFLICT) {
			status = sop_conflict(w->rs, s.name);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = s.id;
			w->detail = json_pack("{s:s}", "name", s.name);
			w->rs->body = sop_json(&s);
			w->rs->location = xasprintf("/api/v1/sops/%lld", (long long)s.id);
			status = 201;
		}
	}
	sop_clear(&s);
	return status;
}

int api_sops_create(const struct req *rq, struct resp *rs)
{
	int status = api_write(rq, rs, "sop.create", "sop", create_fn, NULL);
	if (status == 201)
		sched_sops_kick();
	return status;
}

static int update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct sop s = {0};
	int st = store_sop_get(db, id, &s), status;
	bool re = false;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such SOP");
	} else if (st != ST_OK) {
		status = -st;
	} else if (!(status = read_sop(db, w->rq->body, &s, false, &re, w->rs))) {
		s.updated_at = time_now();
		st = store_sop_update(db, &s);
		if (st == ST_CONFLICT) {
			status = sop_conflict(w->rs, s.name);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->rs->body = sop_json(&s);
			status = 200;
		}
	}
	sop_clear(&s);
	return status;
}

int api_sops_patch(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	status = api_write(rq, rs, "sop.update", "sop", update_fn, &id);
	if (status == 200)
		sched_sops_kick();
	return status;
}

int api_sops_delete(const struct req *rq, struct resp *rs)
{
	return api_delete_by_id(rq, rs, "sop.delete", "sop", store_sop_delete, "SOP", NULL);
}

API_GETTER(get_sops, sop, store_sop_get, sop_json, sop_clear);

int api_sops_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_sops, "SOP");
}

static void add_sop(void *arg, const struct sop *s)
{
	json_array_append_new(arg, sop_json(s));
}

static int fetch_sops(struct store_db *db, int64_t after, int limit, json_t *data)
{
	return store_sop_list(db, after, limit, false, add_sop, data);
}

int api_sops_list(const struct req *rq, struct resp *rs)
{
	return api_list_page(rq, rs, fetch_sops, store_sop_total);
}

/* Runs --------------------------------------------------------------------------------- */

static json_t *run_json(const struct sop_run *r)
{
	return json_pack("{s:I, s:I, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "id",
	                 (json_int_t)r->id, "sop_id", (json_int_t)r->sop_id, "customer_id",
	                 r->customer_id ? json_integer(r->customer_id) : json_null(), "occurrence",
	                 r->occurrence, "due_at", api_time(r->due_at), "status", r->status,
	                 "result", parsed(r->result), "ref_type",
	                 r->ref_type ? json_string(r->ref_type) : json_null(), "ref_id",
	                 r->ref_id ? json_integer(r->ref_id) : json_null(), "created_at",
	                 api_time(r->created_at), "fired_at", api_time(r->fired_at));
}

static void add_run(void *arg, const struct sop_run *r)
{
	json_array_append_new(arg, run_json(r));
}

int api_sops_runs(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct page pg;
	int64_t cid = 0;
	if ((status = api_page_parse(rq, rs, &pg)) ||
	    (status = api_query_i64(rq, "customer_id", &cid, rs)))
		return status;
	const char *s = http_req_query(rq, "status");
	if (s && strcmp(s, "scheduled") != 0 && strcmp(s, "done") != 0 &&
	    strcmp(s, "skipped") != 0 && strcmp(s, "failed") != 0)
		return api_error(rs, 422, "validation_failed", "status",
		                 "status must be scheduled, done, skipped or failed");
	struct store_db *db = store_reader();
	struct sop sop = {0};
	json_t *data = json_array();
	store_read_begin(db);
	int st = store_sop_get(db, id, &sop);
	if (st == ST_OK)
		st = store_sop_run_list(db, id, s, cid, pg.after, pg.limit + 1, add_run, data);
	int64_t total = st == ST_OK && pg.count ? store_sop_run_total(db, id, s, cid) : -1;
	store_read_end(db);
	sop_clear(&sop);
	if (st != ST_OK) {
		json_decref(data);
		if (st == ST_NOT_FOUND)
			return api_error(rs, 404, "not_found", NULL, "no such SOP");
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

/* Firing by hand ------------------------------------------------------------------------- */

struct run_now {
	int64_t id;
	const json_t *customers;
};

static int run_now_fn(struct store_db *db, struct api_write *w)
{
	const struct run_now *x = w->arg;
	struct sop s = {0};
	int st = store_sop_get(db, x->id, &s), status = 0;
	if (st != ST_OK) {
		sop_clear(&s);
		return st == ST_NOT_FOUND ? api_error(w->rs, 404, "not_found", NULL, "no such SOP")
		                          : -st;
	}
	int64_t now = time_now(), added = 0;
	unsigned char rnd[4];
	crypto_random(rnd, sizeof rnd);
	char occ[64];
	snprintf(occ, sizeof occ, "manual:%lld:%02x%02x%02x%02x", (long long)now, rnd[0], rnd[1],
	         rnd[2], rnd[3]);
	json_t *trig = json_loads(s.trigger, 0, NULL);
	const char *type = json_string_value(json_object_get(trig, "type"));
	bool schedule = type && strcmp(type, "schedule") == 0;
	json_decref(trig);
	if (x->customers) {
		size_t i;
		json_t *v;
		json_array_foreach(x->customers, i, v)
		{
			struct customer c = {0};
			st = store_customer_get(db, json_integer_value(v), &c);
			bool gone = st == ST_NOT_FOUND || (st == ST_OK && c.erased_at);
			customer_clear(&c);
			if (gone) {
				char field[40];
				snprintf(field, sizeof field, "customer_ids[%zu]", i);
				status = api_error(w->rs, 422, "validation_failed", field,
				                   "customer %lld does not exist",
				                   (long long)json_integer_value(v));
				break;
			}
			struct sop_run r = {.sop_id = s.id,
			                    .customer_id = json_integer_value(v),
			                    .occurrence = occ,
			                    .due_at = now,
			                    .created_at = now};
			int n = st == ST_OK ? store_sop_run_add(db, &r) : -st;
			if (n < 0) {
				status = n;
				break;
			}
			added += n;
		}
	} else if (s.audience) {
		json_t *aud = json_loads(s.audience, 0, NULL);
		struct rule_sql r;
		struct core_err e = {0};
		if (rules_compile(aud, "audience", now, &r, &e) < 0) {
			status = api_core_error(w->rs, &e);
		} else {
			added =
			    store_sop_runs_add_matching(db, s.id, &r, NULL, 0, 0, 0, occ, now, now);
			rule_sql_clear(&r);
			if (added < 0)
				status = (int)added;
		}
		json_decref(aud);
	} else if (schedule) { /* a scheduled message for no one in particular */
		struct sop_run r = {
		    .sop_id = s.id, .occurrence = occ, .due_at = now, .created_at = now};
		int n = store_sop_run_add(db, &r);
		if (n < 0)
			status = n;
		added = n;
	} else {
		status =
		    api_error(w->rs, 422, "validation_failed", "customer_ids",
		              "say whom to run it for: customer_ids, or give the SOP an audience");
	}
	if (!status) {
		w->target_id = s.id;
		w->detail = json_pack("{s:s, s:I}", "occurrence", occ, "runs", (json_int_t)added);
		w->rs->body = json_pack("{s:s, s:I}", "occurrence", occ, "runs", (json_int_t)added);
		status = 202;
	}
	sop_clear(&s);
	return status;
}

int api_sops_run_now(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {{"customer_ids", J_ARRAY, 0, 0}, {NULL, 0, 0, 0}};
	int status = 0;
	struct run_now x = {.id = api_path_id(rq, 0, rs, &status)};
	if (!x.id)
		return status;
	if (rq->body && (status = api_check_object(rq->body, spec, "", rs)))
		return status;
	if ((status = api_check_ids(rq->body, "customer_ids", false, rs)))
		return status;
	x.customers = json_object_get(rq->body, "customer_ids");
	status = api_write(rq, rs, "sop.run_now", "sop", run_now_fn, &x);
	if (status == 202)
		sched_sops_kick();
	return status;
}

/* Who the SOP s would reach now and what its messages and tasks would say, into
 * *out, doing nothing: a store status. */
static int dry_run(struct store_db *db, const struct sop *s, json_t **out)
{
	int64_t now = time_now();
	struct sop_trigger t;
	struct core_err e = {0};
	json_t *trig = json_loads(s->trigger, 0, NULL),
	       *aud = s->audience ? json_loads(s->audience, 0, NULL) : NULL,
	       *acts = json_loads(s->actions, 0, NULL), *sample = json_array(),
	       *preview = json_array();
	struct rule_sql r = {0};
	int64_t ids[20], count = 0, runs = 0;
	int nids = 0, st = ST_OK;
	if (core_sop_trigger_parse(trig, &t, &e) < 0 ||
	    (aud && rules_compile(aud, "audience", now, &r, &e) < 0))
		st = ST_ERR; /* checked when saved */
	bool has_rule = aud && st == ST_OK;
	if (st == ST_OK && t.type == TRIG_DATE) {
		const char *only;
		int64_t a, b, c;
		core_sop_date_match(t.field, time_local_day(now) - t.offset_days, &only, &a, &b,
		                    &c);
		count = store_sop_match_sample(db, has_rule ? &r : NULL, only, a, b, c, ids, 20,
		                               &nids, &runs);
	} else if (st == ST_OK && (has_rule || t.type == TRIG_EVENT)) {
		count = store_sop_match_sample(db, has_rule ? &r : NULL, NULL, 0, 0, 0, ids, 20,
		                               &nids, &runs);
	} else if (st == ST_OK) {
		runs = 1; /* a schedule without an audience: one run, for no one */
	}
	if (count < 0)
		st = ST_ERR;
	for (int i = 0; i < nids && st == ST_OK; i++) {
		struct customer c = {0};
		if ((st = store_customer_get(db, ids[i], &c)) == ST_OK)
			json_array_append_new(sample, api_customer_json(db, &c));
		customer_clear(&c);
	}
	/* what the messages and tasks would say, for the first one reached */
	for (size_t i = 0; st == ST_OK && i < json_array_size(acts); i++) {
		const json_t *a = json_array_get(acts, i);
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *tmpl = type ? json_string_value(json_object_get(
		                              a, strcmp(type, "task") == 0 ? "text" : "template"))
		                        : NULL;
		if (!tmpl)
			continue;
		char *text = core_sop_render(db, s->name, tmpl, nids ? ids[0] : 0, 0, now);
		json_array_append_new(preview, json_pack("{s:I, s:s, s:s}", "action", (json_int_t)i,
		                                         "type", type, "text", text));
		free(text);
	}
	json_decref(trig);
	json_decref(aud);
	json_decref(acts);
	if (has_rule)
		rule_sql_clear(&r);
	if (st != ST_OK) {
		json_decref(sample);
		json_decref(preview);
		return st;
	}
	*out = json_pack("{s:I, s:I, s:o, s:o}", "customers", (json_int_t)count, "runs",
	                 (json_int_t)runs, "sample", sample, "preview", preview);
	return ST_OK;
}

/* A dry run of SOP id (0: a new one) with the edits in the body, if any, applied
 * over it unsaved; errors name the field as saving them would. */
static int dry_run_edited(const struct req *rq, struct resp *rs, int64_t id)
{
	struct store_db *db = store_scan_acquire();
	if (!db)
		return api_store_error(rs, ST_UNAVAILABLE);
	struct sop s = {.enabled = true};
	int status = 0, st = ST_OK;
	bool re = false;
	store_read_begin(db);
	if (id)
		st = store_sop_get(db, id, &s);
	if (st == ST_OK && rq->body)
		status = read_sop(db, rq->body, &s, id == 0, &re, rs);
	if (st == ST_OK && !status)
		st = dry_run(db, &s, &rs->body);
	store_read_end(db);
	store_scan_release(db);
	sop_clear(&s);
	if (status)
		return status;
	if (st == ST_NOT_FOUND)
		return api_error(rs, 404, "not_found", NULL, "no such SOP");
	return st == ST_OK ? 200 : api_store_error(rs, st);
}

/* Who a SOP would reach now, doing nothing: as saved, or with the unsaved
 * edits in the body (the fields of PATCH /sops/{id}). */
int api_sops_dry_run(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	return dry_run_edited(rq, rs, id);
}

/* The same for a SOP not saved yet: the body of POST /sops. */
int api_sops_dry_run_new(const struct req *rq, struct resp *rs)
{
	return dry_run_edited(rq, rs, 0);
}

/* Tasks -------------------------------------------------------------------------------- */

static json_t *task_json(struct store_db *db, const struct task *t)
{
	json_t *cust = json_null();
	struct customer c = {0};
	if (t->customer_id && store_customer_get(db, t->customer_id, &c) == ST_OK)
		cust = json_pack("{s:I, s:o, s:o}", "id", (json_int_t)c.id, "name",
		                 c.name ? json_string(c.name) : json_null(), "phone",
		                 c.phone ? json_string(c.phone) : json_null());
	customer_clear(&c);
	return json_pack(
	    "{s:I, s:o, s:o, s:o, s:o, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)t->id, "sop_id", t->sop_id ? json_integer(t->sop_id) : json_null(),
	    "sop_run_id", t->sop_run_id ? json_integer(t->sop_run_id) : json_null(), "customer",
	    cust, "assignee_user_id",
	    t->assignee_user_id ? json_integer(t->assignee_user_id) : json_null(), "text", t->text,
	    "message", t->message ? json_string(t->message) : json_null(), "done", t->done,
	    "done_at", api_time(t->done_at), "done_by",
	    t->done_by ? json_integer(t->done_by) : json_null(), "created_at",
	    api_time(t->created_at), "updated_at", api_time(t->updated_at), "due_at",
	    api_time(t->due_at));
}

struct task_acc {
	struct store_db *db;
	json_t *data;
};

static void add_task(void *arg, const struct task *t)
{
	struct task_acc *a = arg;
	json_array_append_new(a->data, task_json(a->db, t));
}

int api_tasks_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct task_filter f = {.done = -1};
	const char *who = http_req_query(rq, "assignee");
	if (!who || strcmp(who, "any") == 0) {
		f.assignee = 0;
	} else if (strcmp(who, "me") == 0) {
		if (rq->who->kind != PRINCIPAL_USER)
			return api_error(rs, 422, "validation_failed", "assignee",
			                 "an API token is not a user: ask for assignee=<user id>");
		f.assignee = rq->who->id;
	} else if (strcmp(who, "none") == 0) {
		f.assignee = -1;
	} else if ((status = api_query_i64(rq, "assignee", &f.assignee, rs)) || f.assignee < 1) {
		return status ? status
		              : api_error(rs, 422, "validation_failed", "assignee",
		                          "assignee must be me, none, any or a user id");
	}
	bool done = false;
	if (http_req_query(rq, "done")) {
		if ((status = api_query_bool(rq, "done", &done, rs)))
			return status;
		f.done = done;
	}
	if ((status = api_query_i64(rq, "customer_id", &f.customer_id, rs)) ||
	    (status = api_query_i64(rq, "sop_id", &f.sop_id, rs)))
		return status;
	bool overdue = false;
	if ((status = api_query_bool(rq, "overdue", &overdue, rs)))
		return status;
	if (overdue)
		f.overdue_at = time_now();
	struct store_db *db = store_reader();
	struct task_acc acc = {db, json_array()};
	store_read_begin(db);
	int st = store_task_list(db, &f, pg.after, pg.limit + 1, add_task, &acc);
	int64_t total = pg.count ? store_task_total(db, &f) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(acc.data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(acc.data, api_page_trim(acc.data, pg.limit, "id"), total);
	return 200;
}

int api_tasks_get(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct store_db *db = store_reader();
	struct task t = {0};
	int st = store_task_get(db, id, &t);
	if (st == ST_OK)
		rs->body = task_json(db, &t);
	task_clear(&t);
	if (st == ST_NOT_FOUND)
		return api_error(rs, 404, "not_found", NULL, "no such task");
	return st == ST_OK ? 200 : api_store_error(rs, st);
}

static int task_patch_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	const json_t *body = w->rq->body;
	struct task t = {0};
	int st = store_task_get(db, id, &t), status = 0;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such task");
	} else if (st != ST_OK) {
		status = -st;
	} else {
		int64_t now = time_now();
		const json_t *done = json_object_get(body, "done"),
		             *who = json_object_get(body, "assignee_user_id");
		if (who && !json_is_null(who)) {
			struct user u = {0};
			st = store_user_get(db, json_integer_value(who), &u);
			bool off = st == ST_OK && u.disabled;
			user_clear(&u);
			if (st == ST_NOT_FOUND || off)
				status = api_error(w->rs, 422, "validation_failed",
				                   "assignee_user_id", "no such active user");
			else if (st != ST_OK)
				status = -st;
		}
		if (!status) {
			if (who)
				t.assignee_user_id = json_integer_value(who);
			const char *due = api_get_str(body, "due_at");
			if (json_object_get(body, "due_at"))
				t.due_at = 0;
			if (due)
				time_parse_rfc3339(due, &t.due_at); /* checked before the write */
			if (done && json_is_true(done) != t.done) {
				t.done = json_is_true(done);
				t.done_at = t.done ? now : 0;
				t.done_by = t.done && w->rq->who->kind == PRINCIPAL_USER
				                ? w->rq->who->id
				                : 0;
			}
			t.updated_at = now;
			st = store_task_update(db, &t);
			if (st == ST_OK) {
				w->target_id = id;
				w->rs->body = task_json(db, &t);
				status = 200;
			} else {
				status = -st;
			}
		}
	}
	task_clear(&t);
	return status;
}

int api_tasks_patch(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {{"done", J_BOOL, 0, 0},
	                                     {"assignee_user_id", J_INT, JF_NULLABLE, 0},
	                                     {"due_at", J_STRING, JF_NULLABLE, 40},
	                                     {NULL, 0, 0, 0}};
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = api_check_object(rq->body, spec, "", rs)))
		return status;
	const char *due = api_get_str(rq->body, "due_at");
	int64_t due_at = 0;
	if (due && !time_parse_rfc3339(due, &due_at))
		return api_error(
		    rs, 422, "validation_failed", "due_at",
		    "due_at must be an RFC 3339 time such as 2026-11-22T18:00:00+08:00, "
		    "or null for none");
	if (api_body_id(rq->body, "assignee_user_id", rs, &status) < 0)
		return status;
	return api_write(rq, rs, "task.update", "task", task_patch_fn, &id);
}
