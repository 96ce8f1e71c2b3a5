/* sops.c - SOPs, their runs (one per SOP, customer and occurrence) and the
 * tasks they hand to operators. */
#include "internal.h"

#include "scrm/core_rules.h"
#include "scrm/store_records.h"
#include "scrm/store_sops.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

/* SOPs ------------------------------------------------------------------------------- */

void sop_clear(struct sop *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->trigger);
	free(s->audience);
	free(s->actions);
	memset(s, 0, sizeof *s);
}

#define SOP_COLS                                                                                   \
	"id, name, enabled, trigger, audience, actions, coalesce(created_by, 0), created_at,"      \
	" updated_at, coalesce(next_at, 0), cursor"

static void read_sop(sqlite3_stmt *st, void *out)
{
	struct sop *s = out;
	s->id = sqlite3_column_int64(st, 0);
	s->name = db_col_dup(st, 1);
	s->enabled = sqlite3_column_int(st, 2) != 0;
	s->trigger = db_col_dup(st, 3);
	s->audience = db_col_dup(st, 4);
	s->actions = db_col_dup(st, 5);
	s->created_by = sqlite3_column_int64(st, 6);
	s->created_at = sqlite3_column_int64(st, 7);
	s->updated_at = sqlite3_column_int64(st, 8);
	s->next_at = sqlite3_column_int64(st, 9);
	s->cursor = sqlite3_column_int64(st, 10);
}

int store_sop_insert(struct store_db *db, struct sop *s)
{
	static const char sql[] =
	    "INSERT INTO sops(name, enabled, trigger, audience, actions, created_by, created_at,"
	    " updated_at, next_at, cursor) VALUES (:name, :en, :tr, :aud, :act, nullif(:by, 0), :t,"
	    " :t, nullif(:next, 0), :cur)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":name", s->name);
	db_bind_i64(st, ":en", s->enabled);
	db_bind_text(st, ":tr", s->trigger);
	db_bind_text(st, ":aud", s->audience);
	db_bind_text(st, ":act", s->actions);
	db_bind_i64(st, ":by", s->created_by);
	db_bind_i64(st, ":t", s->created_at);
	db_bind_i64(st, ":next", s->next_at);
	db_bind_i64(st, ":cur", s->cursor);
	s->updated_at = s->created_at;
	return db_insert(db, st, &s->id);
}

int store_sop_update(struct store_db *db, const struct sop *s)
{
	static const char sql[] =
	    "UPDATE sops SET name = :name, enabled = :en, trigger = :tr, audience = :aud,"
	    " actions = :act, updated_at = :t, next_at = nullif(:next, 0), cursor = :cur"
	    " WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":name", s->name);
	db_bind_i64(st, ":en", s->enabled);
	db_bind_text(st, ":tr", s->trigger);
	db_bind_text(st, ":aud", s->audience);
	db_bind_text(st, ":act", s->actions);
	db_bind_i64(st, ":t", s->updated_at);
	db_bind_i64(st, ":next", s->next_at);
	db_bind_i64(st, ":cur", s->cursor);
	db_bind_i64(st, ":id", s->id);
	return db_change_one(db, st);
}

int store_sop_set_state(struct store_db *db, int64_t id, int64_t next_at, int64_t cursor)
{
	static const char sql[] =
	    "UPDATE sops SET next_at = nullif(:next, 0), cursor = :cur WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":next", next_at);
	db_bind_i64(st, ":cur", cursor);
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int store_sop_get(struct store_db *db, int64_t id, struct sop *out)
{
	static const char sql[] = "SELECT " SOP_COLS " FROM sops WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_one(db, st, read_sop, out);
}

int store_sop_delete(struct store_db *db, int64_t id)
{
	return db_change_id(db, "DELETE FROM sops WHERE id = :id", id);
}

int store_sop_list(struct store_db *db, int64_t after, int limit, bool enabled_only,
                   store_sop_cb cb, void *arg)
{
	static const char sql[] = "SELECT " SOP_COLS " FROM sops WHERE id > :after"
	                          " AND (:en = 0 OR enabled = 1) ORDER BY id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after);
	db_bind_i64(st, ":en", enabled_only);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct sop s = {0};
		read_sop(st, &s);
		cb(arg, &s);
		sop_clear(&s);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_sop_total(struct store_db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM sops");
	return st ? db_scalar(db, st) : -1;
}

/* Runs ------------------------------------------------------------------------------- */

void sop_run_clear(struct sop_run *r)
{
	if (!r)
		return;
	free(r->occurrence);
	free(r->status);
	free(r->result);
	free(r->ref_type);
	memset(r, 0, sizeof *r);
}

#define RUN_COLS                                                                                   \
	"id, sop_id, customer_id, occurrence, due_at, status, result, ref_type,"                   \
	" coalesce(ref_id, 0), created_at, coalesce(fired_at, 0), depth"

static void read_run(sqlite3_stmt *st, void *out)
{
	struct sop_run *r = out;
	r->id = sqlite3_column_int64(st, 0);
	r->sop_id = sqlite3_column_int64(st, 1);
	r->customer_id = sqlite3_column_int64(st, 2);
	r->occurrence = db_col_dup(st, 3);
	r->due_at = sqlite3_column_int64(st, 4);
	r->status = db_col_dup(st, 5);
	r->result = db_col_dup(st, 6);
	r->ref_type = db_col_dup(st, 7);
	r->ref_id = sqlite3_column_int64(st, 8);
	r->created_at = sqlite3_column_int64(st, 9);
	r->fired_at = sqlite3_column_int64(st, 10);
	r->depth = sqlite3_column_int64(st, 11);
}

int store_sop_run_add(struct store_db *db, const struct sop_run *r)
{
	static const char sql[] =
	    "INSERT OR IGNORE INTO sop_runs(sop_id, customer_id, occurrence, due_at, ref_type,"
	    " ref_id, created_at, depth) VALUES (:sop, :cid, :occ, :due, :rt, nullif(:rid, 0), "
	    ":now,"
	    " :depth)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -ST_ERR;
	db_bind_i64(st, ":sop", r->sop_id);
	db_bind_i64(st, ":cid", r->customer_id);
	db_bind_text(st, ":occ", r->occurrence);
	db_bind_i64(st, ":due", r->due_at);
	db_bind_text(st, ":rt", r->ref_type);
	db_bind_i64(st, ":rid", r->ref_id);
	db_bind_i64(st, ":now", r->created_at);
	db_bind_i64(st, ":depth", r->depth);
	int rc = db_run(db, st);
	return rc < 0 ? rc : sqlite3_changes(db->h);
}

static const struct rule_sql everyone = {.where = (char *)"1", .where_one = (char *)"1"};

/* "WITH m(id, ref) AS (<customers matching r and only>)" as head and the
 * start of the tail; the caller finishes the tail after ")". */
static void match_sql(struct buf *head, struct buf *tail, const char *only)
{
	bool coupon = only && strcmp(only, "coupon") == 0;
	const char *cond = "";
	if (only && strcmp(only, "birthday") == 0)
		cond =
		    " AND c.birth_month = :a AND (c.birth_day = :b OR (:c = 1 AND c.birth_month = 2"
		    " AND c.birth_day = 29))";
	else if (only && strcmp(only, "last_order") == 0)
		cond = " AND c.last_order_at BETWEEN :a AND :b";
	else if (coupon)
		cond = " AND cp.status = 'active' AND cp.expires_at BETWEEN :a AND :b";
	buf_printf(head, "WITH m(id, ref) AS (SELECT c.id, %s FROM %s", coupon ? "cp.id" : "0",
	           coupon ? "coupons cp JOIN customers c ON c.id = cp.customer_id"
	                    " WHERE c.erased_at IS NULL AND"
	                  : "customers c WHERE c.erased_at IS NULL AND");
	buf_printf(tail, "%s)", cond);
}

static void bind_match(sqlite3_stmt *st, const char *only, int64_t a, int64_t b, int64_t c)
{
	if (!only)
		return;
	db_bind_i64(st, ":a", a);
	db_bind_i64(st, ":b", b);
	if (strcmp(only, "birthday") == 0)
		db_bind_i64(st, ":c", c);
}

int64_t store_sop_runs_add_matching(struct store_db *db, int64_t sop_id, const struct rule_sql *r,
                                    const char *only, int64_t a, int64_t b, int64_t c,
                                    const char *occurrence, int64_t due, int64_t now)
{
	bool coupon = only && strcmp(only, "coupon") == 0;
	struct buf head = {0}, tail = {0};
	match_sql(&head, &tail, only);
	buf_printf(&tail,
	           " INSERT OR IGNORE INTO sop_runs(sop_id, customer_id, occurrence, ref_type,"
	           " ref_id, due_at, created_at) SELECT :sop, m.id, %s, :due, :now FROM m",
	           coupon ? ":occ || ':coupon:' || m.ref, 'coupon', m.ref" : ":occ, NULL, NULL");
	/* the rule's ?1..?n come first in the text, our named parameters after */
	sqlite3_stmt *st = db_prepare_rule(db, head.data, (r ? r : &everyone)->where,
	                                   r ? r : &everyone, tail.data);
	buf_clear(&head);
	buf_clear(&tail);
	if (!st)
		return -ST_ERR;
	bind_match(st, only, a, b, c);
	db_bind_text(st, ":occ", occurrence);
	db_bind_i64(st, ":sop", sop_id);
	db_bind_i64(st, ":due", due);
	db_bind_i64(st, ":now", now);
	int rc = db_step(db, st);
	int64_t n = rc == SQLITE_DONE ? sqlite3_changes(db->h) : rc < 0 ? rc : -ST_ERR;
	sqlite3_finalize(st);
	return n;
}

int64_t store_sop_match_sample(struct store_db *db, const struct rule_sql *r, const char *only,
                               int64_t a, int64_t b, int64_t c, int64_t *ids, int limit, int *nids,
                               int64_t *nruns)
{
	struct buf head = {0}, tail = {0};
	match_sql(&head, &tail, only);
	/* a row per run (per coupon for a coupon expiry), a customer's together */
	buf_puts(&tail, " SELECT id FROM m ORDER BY id DESC");
	sqlite3_stmt *st = db_prepare_rule(db, head.data, (r ? r : &everyone)->where,
	                                   r ? r : &everyone, tail.data);
	buf_clear(&head);
	buf_clear(&tail);
	*nids = 0;
	if (!st)
		return -1;
	bind_match(st, only, a, b, c);
	int64_t n = 0, last = 0;
	*nruns = 0;
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		++*nruns;
		if (n && id == last)
			continue;
		if (*nids < limit)
			ids[(*nids)++] = id;
		last = id;
		n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

int store_sop_runs_due(struct store_db *db, int64_t now, int limit,
                       void (*cb)(void *arg, const struct sop_run *r), void *arg)
{
	static const char sql[] = "SELECT " RUN_COLS " FROM sop_runs WHERE status = 'scheduled'"
	                          " AND due_at <= :now ORDER BY due_at, id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":now", now);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct sop_run r = {0};
		read_run(st, &r);
		cb(arg, &r);
		sop_run_clear(&r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int store_sop_run_get(struct store_db *db, int64_t id, struct sop_run *out)
{
	static const char sql[] = "SELECT " RUN_COLS " FROM sop_runs WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_one(db, st, read_run, out);
}

int store_sop_run_finish(struct store_db *db, int64_t id, const char *status, const char *result,
                         int64_t fired_at)
{
	static const char sql[] = "UPDATE sop_runs SET status = :s, result = :r, fired_at = :t"
	                          " WHERE id = :id AND status = 'scheduled'";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":s", status);
	db_bind_text(st, ":r", result);
	db_bind_i64(st, ":t", fired_at);
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int store_sop_run_list(struct store_db *db, int64_t sop_id, const char *status, int64_t customer_id,
                       int64_t before, int limit, void (*cb)(void *arg, const struct sop_run *r),
                       void *arg)
{
	static const char sql[] =
	    "SELECT " RUN_COLS " FROM sop_runs WHERE sop_id = :sop AND id < :before"
	    " AND (:s IS NULL OR status = :s) AND (:cid = 0 OR customer_id = :cid)"
	    " ORDER BY id DESC LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":sop", sop_id);
	db_bind_i64(st, ":before", before > 0 ? before : INT64_MAX);
	db_bind_text(st, ":s", status);
	db_bind_i64(st, ":cid", customer_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct sop_run r = {0};
		read_run(st, &r);
		cb(arg, &r);
		sop_run_clear(&r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_sop_run_total(struct store_db *db, int64_t sop_id, const char *status,
                            int64_t customer_id)
{
	static const char sql[] =
	    "SELECT count(*) FROM sop_runs WHERE sop_id = :sop"
	    " AND (:s IS NULL OR status = :s) AND (:cid = 0 OR customer_id = :cid)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -1;
	db_bind_i64(st, ":sop", sop_id);
	db_bind_text(st, ":s", status);
	db_bind_i64(st, ":cid", customer_id);
	return db_scalar(db, st);
}

/* The event stream ------------------------------------------------------------------- */

int64_t store_event_last_id(struct store_db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT coalesce(max(id), 0) FROM customer_events");
	return st ? db_scalar(db, st) : -1;
}

int store_events_after(struct store_db *db, int64_t after_id, const char *kind, int limit,
                       void (*cb)(void *arg, const struct customer_event *e), void *arg)
{
	static const char sql[] =
	    "SELECT id, customer_id, at, kind, ref_type, coalesce(ref_id, 0), data"
	    " FROM customer_events WHERE id > :after AND kind = :k ORDER BY id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after_id);
	db_bind_text(st, ":k", kind);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct customer_event e = {
		    .id = sqlite3_column_int64(st, 0),
		    .customer_id = sqlite3_column_int64(st, 1),
		    .at = sqlite3_column_int64(st, 2),
		    .kind = (const char *)sqlite3_column_text(st, 3),
		    .ref_type = (const char *)sqlite3_column_text(st, 4),
		    .ref_id = sqlite3_column_int64(st, 5),
		    .data = (const char *)sqlite3_column_text(st, 6),
		};
		cb(arg, &e);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int store_coupon_first_expiring(struct store_db *db, int64_t customer_id, int64_t now, int64_t *id)
{
	static const char sql[] =
	    "SELECT id FROM coupons WHERE customer_id = :cid AND status = 'active'"
	    " AND expires_at > :now ORDER BY expires_at, id LIMIT 1";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":cid", customer_id);
	db_bind_i64(st, ":now", now);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

/* Tasks ------------------------------------------------------------------------------ */

void task_clear(struct task *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->message);
	memset(t, 0, sizeof *t);
}

#define TASK_COLS                                                                                  \
	"id, coalesce(sop_id, 0), coalesce(sop_run_id, 0), coalesce(customer_id, 0),"              \
	" coalesce(assignee_user_id, 0), text, message, done, coalesce(done_at, 0),"               \
	" coalesce(done_by, 0), created_at, updated_at, coalesce(due_at, 0)"

static void read_task(sqlite3_stmt *st, void *out)
{
	struct task *t = out;
	t->id = sqlite3_column_int64(st, 0);
	t->sop_id = sqlite3_column_int64(st, 1);
	t->sop_run_id = sqlite3_column_int64(st, 2);
	t->customer_id = sqlite3_column_int64(st, 3);
	t->assignee_user_id = sqlite3_column_int64(st, 4);
	t->text = db_col_dup(st, 5);
	t->message = db_col_dup(st, 6);
	t->done = sqlite3_column_int(st, 7) != 0;
	t->done_at = sqlite3_column_int64(st, 8);
	t->done_by = sqlite3_column_int64(st, 9);
	t->created_at = sqlite3_column_int64(st, 10);
	t->updated_at = sqlite3_column_int64(st, 11);
	t->due_at = sqlite3_column_int64(st, 12);
}

int store_task_insert(struct store_db *db, struct task *t)
{
	static const char sql[] =
	    "INSERT INTO tasks(sop_id, sop_run_id, customer_id, assignee_user_id, text, message,"
	    " created_at, updated_at, due_at) VALUES (nullif(:sop, 0), nullif(:run, 0),"
	    " nullif(:cid, 0), nullif(:who, 0), :text, :msg, :t, :t, nullif(:due, 0))";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":sop", t->sop_id);
	db_bind_i64(st, ":run", t->sop_run_id);
	db_bind_i64(st, ":cid", t->customer_id);
	db_bind_i64(st, ":who", t->assignee_user_id);
	db_bind_text(st, ":text", t->text);
	db_bind_text(st, ":msg", t->message);
	db_bind_i64(st, ":t", t->created_at);
	db_bind_i64(st, ":due", t->due_at);
	t->updated_at = t->created_at;
	return db_insert(db, st, &t->id);
}

int store_task_get(struct store_db *db, int64_t id, struct task *out)
{
	static const char sql[] = "SELECT " TASK_COLS " FROM tasks WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_one(db, st, read_task, out);
}

int store_task_update(struct store_db *db, const struct task *t)
{
	static const char sql[] =
	    "UPDATE tasks SET done = :done, done_at = nullif(:at, 0), done_by = nullif(:by, 0),"
	    " assignee_user_id = nullif(:who, 0), due_at = nullif(:due, 0), updated_at = :t"
	    " WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":done", t->done);
	db_bind_i64(st, ":at", t->done_at);
	db_bind_i64(st, ":by", t->done_by);
	db_bind_i64(st, ":who", t->assignee_user_id);
	db_bind_i64(st, ":t", t->updated_at);
	db_bind_i64(st, ":due", t->due_at);
	db_bind_i64(st, ":id", t->id);
	return db_change_one(db, st);
}

#define TASK_WHERE                                                                                 \
	" (:who = 0 OR (:who = -1 AND assignee_user_id IS NULL) OR assignee_user_id = :who)"       \
	" AND (:done = -1 OR done = :done) AND (:cid = 0 OR customer_id = :cid)"                   \
	" AND (:sop = 0 OR sop_id = :sop)"                                                         \
	" AND (:overdue = 0 OR (done = 0 AND due_at < :overdue))"

static void bind_task_filter(sqlite3_stmt *st, const struct task_filter *f)
{
	db_bind_i64(st, ":who", f->assignee);
	db_bind_i64(st, ":done", f->done);
	db_bind_i64(st, ":cid", f->customer_id);
	db_bind_i64(st, ":sop", f->sop_id);
	db_bind_i64(st, ":overdue", f->overdue_at);
}

int store_task_list(struct store_db *db, const struct task_filter *f, int64_t before, int limit,
                    void (*cb)(void *arg, const struct task *t), void *arg)
{
	static const char sql[] =
	    "SELECT " TASK_COLS " FROM tasks WHERE id < :before AND" TASK_WHERE
	    " ORDER BY id DESC LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_task_filter(st, f);
	db_bind_i64(st, ":before", before > 0 ? before : INT64_MAX);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct task t = {0};
		read_task(st, &t);
		cb(arg, &t);
		task_clear(&t);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_task_total(struct store_db *db, const struct task_filter *f)
{
	static const char sql[] = "SELECT count(*) FROM tasks WHERE" TASK_WHERE;
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -1;
	bind_task_filter(st, f);
	return db_scalar(db, st);
}
