/* segments.c - compiled rules run against customers, auto tags and audiences as
 * set differences, purchase bitmasks, audiences, the stage funnel. */
#include "internal.h"

#include "scrm/log.h"
#include "scrm/store_segments.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

sqlite3_stmt *db_prepare_rule(struct store_db *db, const char *head, const char *where,
                              const struct rule_sql *r, const char *tail)
{
	struct buf sql = {0};
	buf_printf(&sql, "%s (%s)%s", head, where, tail ? tail : "");
	sqlite3_stmt *st = db_prepare_dynamic(db, sql.data);
	buf_clear(&sql);
	if (!st)
		return NULL;
	for (size_t i = 0; i < r->nparams; i++) {
		const struct rule_param *p = &r->params[i];
		int idx = (int)i + 1;
		if (p->type == RP_INT)
			sqlite3_bind_int64(st, idx, p->i);
		else if (p->type == RP_REAL)
			sqlite3_bind_double(st, idx, p->d);
		else
			sqlite3_bind_text(st, idx, p->s, -1, SQLITE_TRANSIENT);
	}
	return st;
}

static sqlite3_stmt *prepare_rule(struct store_db *db, const char *head, const struct rule_sql *r,
                                  const char *tail)
{
	return db_prepare_rule(db, head, r->where, r, tail);
}

/* A scan of every live customer for a rule. A rule reads only columns of the
 * narrow customers_segment index unless it reads attrs: the scan is made to
 * walk that index, as the planner, seeing "stage IN (...)" or a rare value,
 * would otherwise look rows up one by one through another index. */
#define LIVE "FROM customers c WHERE c.erased_at IS NULL AND"
#define LIVE_COVERED "FROM customers c INDEXED BY customers_segment WHERE c.erased_at IS NULL AND"
#define SCAN(r) ((r)->reads_attrs ? LIVE : LIVE_COVERED)
static sqlite3_stmt *prepare_scan(struct store_db *db, const char *select, const struct rule_sql *r)
{
	char head[256];
	snprintf(head, sizeof head, "%s%s", select, SCAN(r));
	return prepare_rule(db, head, r, NULL);
}

/* Pages walk the table backwards from a rowid: NOT INDEXED keeps the planner
 * from scanning the covering index and sorting every match for one page. */
#define PAGE "FROM customers c NOT INDEXED WHERE c.erased_at IS NULL AND"
#define BELOW " AND c.id < :before ORDER BY c.id DESC LIMIT :lim"

int64_t store_segment_count(struct store_db *db, const struct rule_sql *r)
{
	sqlite3_stmt *st = prepare_scan(db, "SELECT count(*) ", r);
	if (!st)
		return -1;
	int64_t n = db_scalar(db, st);
	sqlite3_finalize(st);
	return n;
}

int64_t store_segment_count_sample(struct store_db *db, const struct rule_sql *r, int64_t *ids,
                                   int limit, int *nids)
{
	/* no ORDER BY: the scan may run over the covering index, in its order;
	 * the newest ids are kept here, in descending order */
	sqlite3_stmt *st = prepare_scan(db, "SELECT c.id ", r);
	*nids = 0;
	if (!st)
		return -1;
	int64_t n = 0;
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		n++;
		if (limit <= 0 || (*nids == limit && id <= ids[limit - 1]))
			continue;
		int i = *nids < limit ? (*nids)++ : limit - 1;
		for (; i > 0 && ids[i - 1] < id; i--)
			ids[i] = ids[i - 1];
		ids[i] = id;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

int store_rule_ref_exists(struct store_db *db, const char *kind, int64_t id, const char *name)
{
	static const char *const kinds[][3] = {
	    {"tag", "SELECT count(*) FROM tags WHERE id = :id",
	     "SELECT count(*) FROM tags WHERE name = :n"},
	    {"tier", "SELECT count(*) FROM tiers WHERE id = :id",
	     "SELECT count(*) FROM tiers WHERE name = :n"},
	    {"group", "SELECT count(*) FROM groups WHERE id = :id",
	     "SELECT count(*) FROM groups WHERE name = :n"},
	};
	for (size_t i = 0; i < SCRM_ARRAY_LEN(kinds); i++) {
		if (strcmp(kinds[i][0], kind) != 0)
			continue;
		sqlite3_stmt *st = db_stmt(db, name ? kinds[i][2] : kinds[i][1]);
		if (!st)
			return -1;
		if (name)
			db_bind_text(st, ":n", name);
		else
			db_bind_i64(st, ":id", id);
		int64_t n = db_scalar(db, st);
		return n < 0 ? -1 : n > 0;
	}
	return -1;
}

int store_refresh_statistics(struct store_db *db)
{
	return db_exec(db, "PRAGMA analysis_limit=1000; ANALYZE;") < 0 ? ST_ERR : ST_OK;
}

int store_segment_list(struct store_db *db, const struct rule_sql *r, int64_t before_id, int limit,
                       store_customer_cb cb, void *arg)
{
	sqlite3_stmt *st = prepare_rule(db, "SELECT " DB_CUSTOMER_COLS " " PAGE, r, BELOW);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":before", before_id > 0 ? before_id : INT64_MAX);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct customer c = {0};
		db_read_customer(st, &c);
		cb(arg, &c);
		customer_clear(&c);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int store_segment_matches(struct store_db *db, const struct rule_sql *r, int64_t customer_id)
{
	/* the rule's ?1..?n come first in the text, so that :cid numbers after them */
	sqlite3_stmt *st =
	    db_prepare_rule(db, "SELECT count(*) FROM customers c WHERE", r->where_one, r,
	                    " AND c.id = :cid AND c.erased_at IS NULL");
	if (!st)
		return -1;
	db_bind_i64(st, ":cid", customer_id);
	int64_t n = db_scalar(db, st);
	sqlite3_finalize(st);
	return n < 0 ? -1 : n > 0;
}

/* Fill temp.seg_match with the ids matching r. */
static int fill_match(struct store_db *db, const struct rule_sql *r)
{
	int rc = db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS seg_match(id INTEGER PRIMARY KEY)");
	if (rc == 0)
		rc = db_exec(db, "DELETE FROM temp.seg_match");
	if (rc < 0)
		return -rc;
	sqlite3_stmt *st = prepare_scan(db, "INSERT INTO temp.seg_match SELECT c.id ", r);
	if (!st)
		return ST_ERR;
	rc = db_run(db, st);
	sqlite3_finalize(st);
	return rc < 0 ? -rc : ST_OK;
}

/* Run a step of a set difference with the usual named parameters. */
static int run_step(struct store_db *db, const char *sql, int64_t id, const char *name, int64_t now,
                    int64_t *changes)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	if (sqlite3_bind_parameter_index(st, ":id"))
		db_bind_i64(st, ":id", id);
	if (sqlite3_bind_parameter_index(st, ":name"))
		db_bind_text(st, ":name", name);
	if (sqlite3_bind_parameter_index(st, ":now"))
		db_bind_i64(st, ":now", now);
	int rc = db_run(db, st);
	if (rc < 0)
		return -rc;
	if (changes)
		*changes = sqlite3_changes(db->h);
	return ST_OK;
}

static const char sql_tag_add_events[] =
    "INSERT INTO customer_events(customer_id, at, kind, ref_type, ref_id, data)"
    " SELECT m.id, :now, 'tag.added', 'tag', :id, json_object('name', :name, 'auto', json('true'))"
    " FROM temp.seg_match m WHERE NOT EXISTS (SELECT 1 FROM customer_tags ct"
    " WHERE ct.customer_id = m.id AND ct.tag_id = :id)";
static const char sql_tag_add[] =
    "INSERT INTO customer_tags(customer_id, tag_id, created_at) SELECT m.id, :id, :now"
    " FROM temp.seg_match m WHERE NOT EXISTS (SELECT 1 FROM customer_tags ct"
    " WHERE ct.customer_id = m.id AND ct.tag_id = :id)";
static const char sql_tag_del_events[] =
    "INSERT INTO customer_events(customer_id, at, kind, ref_type, ref_id, data)"
    " SELECT ct.customer_id, :now, 'tag.removed', 'tag', :id, json_object('name', :name, 'auto',"
    " json('true')) FROM customer_tags ct WHERE ct.tag_id = :id AND ct.customer_id NOT IN"
    " (SELECT id FROM temp.seg_match)";
static const char sql_tag_del[] =
    "DELETE FROM customer_tags WHERE tag_id = :id AND customer_id NOT IN"
    " (SELECT id FROM temp.seg_match)";

int store_autotag_apply(struct store_db *db, int64_t tag_id, const char *tag_name,
                        const struct rule_sql *r, int64_t now, int64_t *added, int64_t *removed)
{
	int st = fill_match(db, r);
	if (st == ST_OK)
		st = run_step(db, sql_tag_add_events, tag_id, tag_name, now, NULL);
	if (st == ST_OK)
		st = run_step(db, sql_tag_add, tag_id, tag_name, now, added);
	if (st == ST_OK)
		st = run_step(db, sql_tag_del_events, tag_id, tag_name, now, NULL);
	if (st == ST_OK)
		st = run_step(db, sql_tag_del, tag_id, tag_name, now, removed);
	return st;
}

int store_autotag_set(struct store_db *db, int64_t tag_id, const char *tag_name,
                      int64_t customer_id, bool has, int64_t now, bool *changed)
{
	int st = has ? store_customer_tag_add(db, customer_id, tag_id, now)
	             : store_customer_tag_remove(db, customer_id, tag_id);
	*changed = st == ST_OK;
	if (st == ST_CONFLICT || st == ST_NOT_FOUND)
		return ST_OK;
	if (st != ST_OK)
		return st;
	static const char sql[] =
	    "INSERT INTO customer_events(customer_id, at, kind, ref_type, ref_id, data)"
	    " VALUES (:c, :now, :k, 'tag', :id, json_object('name', :name, 'auto', json('true')))";
	sqlite3_stmt *s = db_stmt(db, sql);
	if (!s)
		return ST_ERR;
	db_bind_i64(s, ":c", customer_id);
	db_bind_i64(s, ":now", now);
	db_bind_text(s, ":k", has ? "tag.added" : "tag.removed");
	db_bind_i64(s, ":id", tag_id);
	db_bind_text(s, ":name", tag_name);
	int rc = db_run(db, s);
	return rc < 0 ? -rc : ST_OK;
}

static const char sql_aud_enter_events[] =
    "INSERT INTO customer_events(customer_id, at, kind, ref_type, ref_id, data)"
    " SELECT m.id, :now, 'audience.entered', 'audience', :id, json_object('name', :name)"
    " FROM temp.seg_match m WHERE NOT EXISTS (SELECT 1 FROM audience_members am"
    " WHERE am.audience_id = :id AND am.customer_id = m.id)";
static const char sql_aud_enter[] =
    "INSERT INTO audience_members(audience_id, customer_id) SELECT :id, m.id FROM temp.seg_match m"
    " WHERE NOT EXISTS (SELECT 1 FROM audience_members am WHERE am.audience_id = :id AND"
    " am.customer_id = m.id)";
static const char sql_aud_left_events[] =
    "INSERT INTO customer_events(customer_id, at, kind, ref_type, ref_id, data)"
    " SELECT am.customer_id, :now, 'audience.left', 'audience', :id, json_object('name', :name)"
    " FROM audience_members am WHERE am.audience_id = :id AND am.customer_id NOT IN"
    " (SELECT id FROM temp.seg_match)";
static const char sql_aud_left[] =
    "DELETE FROM audience_members WHERE audience_id = :id AND customer_id NOT IN"
    " (SELECT id FROM temp.seg_match)";
static const char sql_aud_count[] =
    "UPDATE audiences SET customer_count = (SELECT count(*) FROM temp.seg_match),"
    " evaluated_at = :now WHERE id = :id";
static const char sql_aud_name[] = "SELECT name FROM audiences WHERE id = :id";

int store_audience_apply(struct store_db *db, int64_t audience_id, const struct rule_sql *r,
                         int64_t now, bool events, int64_t *count, int64_t *entered, int64_t *left)
{
	char *name = NULL;
	sqlite3_stmt *q = db_stmt(db, sql_aud_name);
	if (!q)
		return ST_ERR;
	db_bind_i64(q, ":id", audience_id);
	if (db_step(db, q) == SQLITE_ROW)
		name = db_col_dup(q, 0);
	sqlite3_reset(q);
	if (!name)
		return ST_NOT_FOUND;
	int st = fill_match(db, r);
	if (st == ST_OK && events)
		st = run_step(db, sql_aud_enter_events, audience_id, name, now, NULL);
	if (st == ST_OK)
		st = run_step(db, sql_aud_enter, audience_id, name, now, entered);
	if (st == ST_OK && events)
		st = run_step(db, sql_aud_left_events, audience_id, name, now, NULL);
	if (st == ST_OK)
		st = run_step(db, sql_aud_left, audience_id, name, now, left);
	if (st == ST_OK)
		st = run_step(db, sql_aud_count, audience_id, name, now, NULL);
	if (st == ST_OK)
		*count = db_scalar(db, db_stmt(db, "SELECT count(*) FROM temp.seg_match"));
	free(name);
	return st;
}

/* Purchase bitmasks ---------------------------------------------------------------- */

static const char *const sql_names[2] = {
    "SELECT DISTINCT platform FROM orders WHERE customer_id = :c AND status = 'paid'",
    "SELECT DISTINCT json_extract(j.value, '$.category') FROM orders o, json_each(o.items) j"
    " WHERE o.customer_id = :c AND o.status = 'paid' AND json_extract(j.value, '$.category')"
    " IS NOT NULL",
};
static const char *const kinds[2] = {"platform", "category"};
static const char sql_key_add[] =
    "INSERT OR IGNORE INTO purchase_keys(kind, name, bit) SELECT :k, :n, coalesce(max(bit), -1) + 1"
    " FROM purchase_keys WHERE kind = :k HAVING coalesce(max(bit), -1) + 1 <= 61";
static const char *const sql_mask[2] = {
    "UPDATE customers SET platform_mask = (SELECT coalesce(sum(1 << k.bit), 0) FROM purchase_keys k"
    " WHERE k.kind = 'platform' AND k.name IN (SELECT DISTINCT platform FROM orders WHERE"
    " customer_id = :c AND status = 'paid')) WHERE id = :c",
    "UPDATE customers SET category_mask = (SELECT coalesce(sum(1 << k.bit), 0) FROM purchase_keys k"
    " WHERE k.kind = 'category' AND k.name IN (SELECT DISTINCT json_extract(j.value, '$.category')"
    " FROM orders o, json_each(o.items) j WHERE o.customer_id = :c AND o.status = 'paid'))"
    " WHERE id = :c",
};

int store_customer_refresh_masks(struct store_db *db, int64_t customer_id)
{
	for (int k = 0; k < 2; k++) {
		/* first make sure every name has its bit (new names are rare) */
		sqlite3_stmt *st = db_stmt(db, sql_names[k]);
		if (!st)
			return ST_ERR;
		db_bind_i64(st, ":c", customer_id);
		char *names[64];
		int n = 0, rc;
		while ((rc = db_step(db, st)) == SQLITE_ROW && n < 64)
			names[n++] = db_col_dup(st, 0);
		sqlite3_reset(st);
		for (int i = 0; i < n; i++) {
			sqlite3_stmt *ins = db_stmt(db, sql_key_add);
			if (ins) {
				db_bind_text(ins, ":k", kinds[k]);
				db_bind_text(ins, ":n", names[i]);
				db_run(db, ins);
			}
			free(names[i]);
		}
		if (rc < 0 && rc != SQLITE_ROW)
			return -rc;
		st = db_stmt(db, sql_mask[k]);
		if (!st)
			return ST_ERR;
		db_bind_i64(st, ":c", customer_id);
		rc = db_run(db, st);
		if (rc < 0)
			return -rc;
	}
	return ST_OK;
}

int store_customer_checkin_day(struct store_db *db, int64_t customer_id, int64_t day)
{
	static const char sql[] = "UPDATE customers SET last_checkin_day = :d WHERE id = :c";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":d", day);
	db_bind_i64(st, ":c", customer_id);
	return db_change_one(db, st);
}

int store_autotags(struct store_db *db, store_autotag_cb cb, void *arg)
{
	static const char sql[] =
	    "SELECT id, name, rule FROM tags WHERE kind = 'auto' AND rule IS NOT NULL ORDER BY id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		cb(arg, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		   (const char *)sqlite3_column_text(st, 2));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

/* Audiences ---------------------------------------------------------------------------- */

void audience_clear(struct audience *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->rule);
	memset(a, 0, sizeof *a);
}

#define AUD_COLS                                                                                   \
	"id, name, rule, customer_count, coalesce(evaluated_at, 0), coalesce(created_by, 0),"      \
	" created_at, updated_at"

static void read_audience(sqlite3_stmt *st, void *out)
{
	struct audience *a = out;
	a->id = sqlite3_column_int64(st, 0);
	a->name = db_col_dup(st, 1);
	a->rule = db_col_dup(st, 2);
	a->customer_count = sqlite3_column_int64(st, 3);
	a->evaluated_at = sqlite3_column_int64(st, 4);
	a->created_by = sqlite3_column_int64(st, 5);
	a->created_at = sqlite3_column_int64(st, 6);
	a->updated_at = sqlite3_column_int64(st, 7);
}

int store_audience_get(struct store_db *db, int64_t id, struct audience *out)
{
	static const char sql[] = "SELECT " AUD_COLS " FROM audiences WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_one(db, st, read_audience, out);
}

int store_audience_insert(struct store_db *db, struct audience *a)
{
	static const char sql[] =
	    "INSERT INTO audiences(name, rule, created_by, created_at, updated_at)"
	    " VALUES (:n, :r, nullif(:by, 0), :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":n", a->name);
	db_bind_text(st, ":r", a->rule);
	db_bind_i64(st, ":by", a->created_by);
	db_bind_i64(st, ":t", a->created_at);
	a->updated_at = a->created_at;
	return db_insert(db, st, &a->id);
}

int store_audience_update(struct store_db *db, const struct audience *a)
{
	static const char sql[] =
	    "UPDATE audiences SET name = :n, rule = :r, updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":n", a->name);
	db_bind_text(st, ":r", a->rule);
	db_bind_i64(st, ":t", a->updated_at);
	db_bind_i64(st, ":id", a->id);
	return db_change_one(db, st);
}

int store_audience_delete(struct store_db *db, int64_t id)
{
	return db_change_id(db, "DELETE FROM audiences WHERE id = :id", id);
}

int store_audience_list(struct store_db *db, int64_t after_id, int limit, store_audience_cb cb,
                        void *arg)
{
	static const char sql[] =
	    "SELECT " AUD_COLS " FROM audiences WHERE id > :after ORDER BY id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct audience a = {0};
		read_audience(st, &a);
		cb(arg, &a);
		audience_clear(&a);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_audience_total(struct store_db *db)
{
	return db_scalar(db, db_stmt(db, "SELECT count(*) FROM audiences"));
}

int store_stage_counts(struct store_db *db, int64_t from, int64_t to, store_stage_count_cb cb,
                       void *arg)
{
	static const char sql[] =
	    "SELECT stage, count(*) FROM customers WHERE erased_at IS NULL AND (:from = 0 OR"
	    " created_at >= :from) AND (:to = 0 OR created_at < :to) GROUP BY stage";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":from", from);
	db_bind_i64(st, ":to", to);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

struct store_db *store_export_open(void)
{
	struct store_db *db = db_open(true);
	if (db)
		store_read_begin(db);
	return db;
}

void store_export_close(struct store_db *db)
{
	if (!db)
		return;
	store_read_end(db);
	db_close(db);
}

int store_segment_export_page(struct store_db *db, const struct rule_sql *r, int64_t before_id,
                              int limit, store_export_cb cb, void *arg)
{
	sqlite3_stmt *st = prepare_rule(
	    db,
	    "SELECT " DB_CUSTOMER_COLS ", (SELECT group_concat(t.name, '|') FROM customer_tags ct"
	    " JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id = c.id) " PAGE,
	    r, BELOW);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":before", before_id > 0 ? before_id : INT64_MAX);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct customer c = {0};
		db_read_customer(st, &c);
		cb(arg, &c, (const char *)sqlite3_column_text(st, 26));
		customer_clear(&c);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}
