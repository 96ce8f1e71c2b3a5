/* customers.c - customer rows, their tags, merges, erasure and search. */
#include "internal.h"

#include "scrm/store_records.h"
#include "scrm/store_segments.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void customer_clear(struct customer *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->phone);
	free(c->email);
	free(c->unionid);
	free(c->gender);
	free(c->birthday);
	free(c->stage);
	free(c->attrs);
	free(c->tier_name);
	memset(c, 0, sizeof *c);
}

void db_read_customer(sqlite3_stmt *st, struct customer *c)
{
	c->id = sqlite3_column_int64(st, 0);
	c->name = db_col_dup(st, 1);
	c->phone = db_col_dup(st, 2);
	c->email = db_col_dup(st, 3);
	c->unionid = db_col_dup(st, 4);
	c->gender = db_col_dup(st, 5);
	c->birthday = db_col_dup(st, 6);
	c->stage = db_col_dup(st, 7);
	c->attrs = db_col_dup(st, 8);
	c->birth_month = sqlite3_column_int(st, 9);
	c->birth_day = sqlite3_column_int(st, 10);
	c->source_channel_id = sqlite3_column_int64(st, 11);
	c->owner_user_id = sqlite3_column_int64(st, 12);
	c->stage_manual = sqlite3_column_int(st, 13) != 0;
	c->points_balance = sqlite3_column_int64(st, 14);
	c->wallet_balance_cents = sqlite3_column_int64(st, 15);
	c->order_count = sqlite3_column_int64(st, 16);
	c->total_spent_cents = sqlite3_column_int64(st, 17);
	c->first_order_at = sqlite3_column_int64(st, 18);
	c->last_order_at = sqlite3_column_int64(st, 19);
	c->erased_at = sqlite3_column_int64(st, 20);
	c->created_at = sqlite3_column_int64(st, 21);
	c->updated_at = sqlite3_column_int64(st, 22);
	c->tier_id = sqlite3_column_int64(st, 23);
	c->tier_override_until = sqlite3_column_int64(st, 24);
	c->tier_name = db_col_dup(st, 25);
}

static const char sql_get[] = "SELECT " DB_CUSTOMER_COLS " FROM customers c WHERE c.id = :id";
static const char sql_merged[] = "SELECT into_id FROM customer_merges WHERE from_id = :id";
static const char sql_by_phone[] =
    "SELECT id FROM customers WHERE phone = :v AND erased_at IS NULL";
static const char sql_by_unionid[] =
    "SELECT id FROM customers WHERE unionid = :v AND erased_at IS NULL";
static const char sql_insert[] =
    "INSERT INTO customers(name, phone, email, unionid, gender, birthday, birth_month, birth_day,"
    " source_channel_id, owner_user_id, stage, stage_manual, attrs, created_at, updated_at)"
    " VALUES (:name, :phone, :email, :unionid, :gender, :birthday, nullif(:bm, 0), nullif(:bd, 0),"
    " nullif(:ch, 0), nullif(:owner, 0), :stage, :sm, :attrs, :t, :t)";
static const char sql_update[] =
    "UPDATE customers SET name = :name, phone = :phone, email = :email, unionid = :unionid,"
    " gender = :gender, birthday = :birthday, birth_month = nullif(:bm, 0),"
    " birth_day = nullif(:bd, 0), source_channel_id = nullif(:ch, 0),"
    " owner_user_id = nullif(:owner, 0), stage = :stage, stage_manual = :sm, attrs = :attrs,"
    " updated_at = :t WHERE id = :id";
static const char sql_figures[] =
    "UPDATE customers SET (order_count, total_spent_cents, first_order_at, last_order_at) ="
    " (SELECT count(*), coalesce(sum(amount_cents), 0), min(paid_at), max(paid_at) FROM orders"
    "  WHERE customer_id = :id AND status = 'paid') WHERE id = :id";

int store_customer_get(struct store_db *db, int64_t id, struct customer *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_get);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		db_read_customer(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

static int64_t id_query(struct store_db *db, const char *sql, const char *name, const char *v,
                        int64_t i)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return 0;
	if (v)
		db_bind_text(st, name, v);
	else
		db_bind_i64(st, name, i);
	int64_t r = db_scalar(db, st);
	return r > 0 ? r : 0;
}

int64_t store_customer_merged_into(struct store_db *db, int64_t id)
{
	return id_query(db, sql_merged, ":id", NULL, id);
}

int64_t store_customer_by_phone(struct store_db *db, const char *phone)
{
	return id_query(db, sql_by_phone, ":v", phone, 0);
}

int64_t store_customer_by_unionid(struct store_db *db, const char *unionid)
{
	return id_query(db, sql_by_unionid, ":v", unionid, 0);
}

static void bind_writable(sqlite3_stmt *st, const struct customer *c)
{
	db_bind_text(st, ":name", c->name);
	db_bind_text(st, ":phone", c->phone);
	db_bind_text(st, ":email", c->email);
	db_bind_text(st, ":unionid", c->unionid);
	db_bind_text(st, ":gender", c->gender ? c->gender : "u");
	db_bind_text(st, ":birthday", c->birthday);
	db_bind_i64(st, ":bm", c->birth_month);
	db_bind_i64(st, ":bd", c->birth_day);
	db_bind_i64(st, ":ch", c->source_channel_id);
	db_bind_i64(st, ":owner", c->owner_user_id);
	db_bind_text(st, ":stage", c->stage ? c->stage : "added");
	db_bind_i64(st, ":sm", c->stage_manual);
	db_bind_text(st, ":attrs", c->attrs ? c->attrs : "{}");
}

int store_customer_insert(struct store_db *db, struct customer *c)
{
	sqlite3_stmt *st = db_stmt(db, sql_insert);
	if (!st)
		return ST_ERR;
	bind_writable(st, c);
	db_bind_i64(st, ":t", c->created_at);
	int rc = db_insert(db, st, &c->id);
	if (rc != ST_OK)
		return rc;
	c->updated_at = c->created_at;
	return ST_OK;
}

int store_customer_update(struct store_db *db, const struct customer *c)
{
	sqlite3_stmt *st = db_stmt(db, sql_update);
	if (!st)
		return ST_ERR;
	bind_writable(st, c);
	db_bind_i64(st, ":t", c->updated_at);
	db_bind_i64(st, ":id", c->id);
	return db_change_one(db, st);
}

int store_customer_refresh_figures(struct store_db *db, int64_t id)
{
	sqlite3_stmt *st = db_stmt(db, sql_figures);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	int rc = db_run(db, st);
	/* what the customer has bought on and in goes with the figures */
	return rc < 0 ? -rc : store_customer_refresh_masks(db, id);
}

/* Run a list of one-parameter statements in order; stop at the first failure. */
static int run_all(struct store_db *db, const char *const *sqls, size_t n, int64_t a, int64_t b)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(db, sqls[i]);
		if (!st)
			return ST_ERR;
		if (sqlite3_bind_parameter_index(st, ":a"))
			db_bind_i64(st, ":a", a);
		if (sqlite3_bind_parameter_index(st, ":b"))
			db_bind_i64(st, ":b", b);
		int rc = db_run(db, st);
		if (rc < 0)
			return -rc;
	}
	return ST_OK;
}

static const char sql_erase_row[] =
    "UPDATE customers SET name = NULL, phone = NULL, email = NULL, unionid = NULL, gender = 'u',"
    " birthday = NULL, birth_month = NULL, birth_day = NULL, attrs = '{}', erased_at = :b,"
    " updated_at = :b WHERE id = :a";
static const char sql_erase_tags[] = "DELETE FROM customer_tags WHERE customer_id = :a";
static const char sql_erase_events[] = "DELETE FROM customer_events WHERE customer_id = :a";
static const char sql_erase_phones[] =
    "UPDATE orders SET buyer_phone = NULL WHERE customer_id = :a";
static const char sql_erase_groups[] = "DELETE FROM group_members WHERE customer_id = :a";
static const char sql_erase_audiences[] = "DELETE FROM audience_members WHERE customer_id = :a";

int store_customer_erase(struct store_db *db, int64_t id, int64_t now)
{
	static const char *const steps[] = {sql_erase_row,    sql_erase_tags,
	                                    sql_erase_events, sql_erase_phones,
	                                    sql_erase_groups, sql_erase_audiences};
	return run_all(db, steps, SCRM_ARRAY_LEN(steps), id, now);
}

/* :a = into, :b = from. Tags the kept profile already has are dropped from the
 * other; everything else changes owner. The final DELETE fails on a foreign
 * key if any table still points at the old row, rolling the merge back. */
static const char sql_merge_orders[] = "UPDATE orders SET customer_id = :a WHERE customer_id = :b";
static const char sql_merge_tags[] =
    "INSERT OR IGNORE INTO customer_tags(customer_id, tag_id, created_at)"
    " SELECT :a, tag_id, created_at FROM customer_tags WHERE customer_id = :b";
static const char sql_merge_tags_del[] = "DELETE FROM customer_tags WHERE customer_id = :b";
static const char sql_merge_events[] =
    "UPDATE customer_events SET customer_id = :a WHERE customer_id = :b";
static const char sql_merge_chain[] = "UPDATE customer_merges SET into_id = :a WHERE into_id = :b";
/* the member club follows the person; balances are their ledgers' sums */
static const char sql_merge_points[] =
    "UPDATE points_ledger SET customer_id = :a WHERE customer_id = :b";
static const char sql_merge_wallet[] =
    "UPDATE wallet_ledger SET customer_id = :a WHERE customer_id = :b";
static const char sql_merge_checkins[] =
    "INSERT OR IGNORE INTO checkins(customer_id, day, streak, points, created_at)"
    " SELECT :a, day, streak, points, created_at FROM checkins WHERE customer_id = :b";
static const char sql_merge_checkins_del[] = "DELETE FROM checkins WHERE customer_id = :b";
static const char sql_merge_checkin_day[] =
    "UPDATE customers SET last_checkin_day = (SELECT max(day) FROM checkins WHERE customer_id = :a)"
    " WHERE id = :a";
static const char sql_merge_coupons[] =
    "UPDATE coupons SET customer_id = :a WHERE customer_id = :b";
static const char sql_merge_redemptions[] =
    "UPDATE redemptions SET customer_id = :a WHERE customer_id = :b";
static const char sql_merge_content[] =
    "UPDATE content SET customer_id = :a WHERE customer_id = :b";
static const char sql_merge_groups[] =
    "INSERT OR IGNORE INTO group_members(group_id, customer_id, joined_at)"
    " SELECT group_id, :a, joined_at FROM group_members WHERE customer_id = :b";
static const char sql_merge_groups_del[] = "DELETE FROM group_members WHERE customer_id = :b";
static const char sql_merge_activity[] =
    "UPDATE OR IGNORE group_activity SET customer_id = :a WHERE customer_id = :b";
static const char sql_merge_activity_del[] = "DELETE FROM group_activity WHERE customer_id = :b";
static const char sql_merge_tasks[] = "UPDATE tasks SET customer_id = :a WHERE customer_id = :b";
/* an ambassador stays one; two ambassadors cannot become one (the merge fails) */
static const char sql_merge_ambassador[] =
    "UPDATE ambassadors SET customer_id = :a WHERE customer_id = :b"
    " AND NOT EXISTS (SELECT 1 FROM ambassadors WHERE customer_id = :a)";
/* audience membership is recomputed at the next evaluation */
static const char sql_merge_audiences[] = "DELETE FROM audience_members WHERE customer_id = :b";
static const char sql_merge_balances[] =
    "UPDATE customers SET points_balance = (SELECT coalesce(sum(delta), 0) FROM points_ledger"
    " WHERE customer_id = :a), wallet_balance_cents = (SELECT coalesce(sum(delta_cents), 0)"
    " FROM wallet_ledger WHERE customer_id = :a) WHERE id = :a";
static const char sql_merge_delete[] = "DELETE FROM customers WHERE id = :b";

int store_customer_merge(struct store_db *db, int64_t into, int64_t from, int64_t now)
{
	static const char *const steps[] = {
	    sql_merge_orders,      sql_merge_tags,         sql_merge_tags_del,
	    sql_merge_events,      sql_merge_chain,        sql_merge_points,
	    sql_merge_wallet,      sql_merge_checkins,     sql_merge_checkins_del,
	    sql_merge_checkin_day, sql_merge_coupons,      sql_merge_redemptions,
	    sql_merge_content,     sql_merge_groups,       sql_merge_groups_del,
	    sql_merge_activity,    sql_merge_activity_del, sql_merge_tasks,
	    sql_merge_ambassador,  sql_merge_audiences,    sql_merge_balances,
	    sql_merge_delete};
	int rc = run_all(db, steps, SCRM_ARRAY_LEN(steps), into, from);
	if (rc != ST_OK)
		return rc;
	static const char sql_rec[] =
	    "INSERT INTO customer_merges(from_id, into_id, created_at) VALUES (:b, :a, :t)";
	sqlite3_stmt *st = db_stmt(db, sql_rec);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":a", into);
	db_bind_i64(st, ":b", from);
	db_bind_i64(st, ":t", now);
	rc = db_run(db, st);
	if (rc < 0)
		return -rc;
	return store_customer_refresh_figures(db, into);
}

/* Search ---------------------------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The WHERE clause is assembled from constant fragments according to which
 * filters are present; every value is bound. */
static void build_where(struct buf *b, const struct customer_filter *f)
{
	buf_puts(b, " WHERE c.erased_at IS NULL");
	if (f->q && *f->q) {
		if (all_digits(f->q) || f->q[0] == '+')
			buf_puts(b, " AND c.phone >= :q AND c.phone < :qend");
		else if (strchr(f->q, '@'))
			buf_puts(b, " AND c.email >= :q AND c.email < :qend");
		else
			buf_puts(b, " AND ((c.name >= :q AND c.name < :qend) OR c.unionid = :q"
			            " OR (c.email >= :q AND c.email < :qend))");
	}
	if (f->stage)
		buf_puts(b, " AND c.stage = :stage");
	if (f->owner_user_id)
		buf_puts(b, " AND c.owner_user_id = :owner");
	if (f->source_channel_id)
		buf_puts(b, " AND c.source_channel_id = :ch");
	if (f->tag_id)
		buf_puts(
		    b, " AND c.id IN (SELECT customer_id FROM customer_tags WHERE tag_id = :tag)");
}

static void bind_filter(sqlite3_stmt *st, const struct customer_filter *f, char **qend)
{
	if (f->q && *f->q) {
		*qend = db_prefix_end(f->q);
		db_bind_text(st, ":q", f->q);
		db_bind_text(st, ":qend", *qend);
	}
	if (f->stage)
		db_bind_text(st, ":stage", f->stage);
	if (f->owner_user_id)
		db_bind_i64(st, ":owner", f->owner_user_id);
	if (f->source_channel_id)
		db_bind_i64(st, ":ch", f->source_channel_id);
	if (f->tag_id)
		db_bind_i64(st, ":tag", f->tag_id);
}

int store_customer_list(struct store_db *db, const struct customer_filter *f, int64_t before_id,
                        int limit, store_customer_cb cb, void *arg)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT " DB_CUSTOMER_COLS " FROM customers c");
	build_where(&sql, f);
	if (before_id)
		buf_puts(&sql, " AND c.id < :before");
	buf_puts(&sql, " ORDER BY c.id DESC LIMIT :lim");
	sqlite3_stmt *st = db_prepare_dynamic(db, sql.data);
	buf_clear(&sql);
	if (!st)
		return ST_ERR;
	char *qend = NULL;
	bind_filter(st, f, &qend);
	if (before_id)
		db_bind_i64(st, ":before", before_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct customer c = {0};
		db_read_customer(st, &c);
		cb(arg, &c);
		customer_clear(&c);
	}
	sqlite3_finalize(st);
	free(qend);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_customer_count(struct store_db *db, const struct customer_filter *f)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT count(*) FROM customers c");
	build_where(&sql, f);
	sqlite3_stmt *st = db_prepare_dynamic(db, sql.data);
	buf_clear(&sql);
	if (!st)
		return -1;
	char *qend = NULL;
	bind_filter(st, f, &qend);
	int64_t n = db_scalar(db, st);
	sqlite3_finalize(st);
	free(qend);
	return n;
}

/* Tags of customers ------------------------------------------------------------ */

static const char sql_ctags[] = "SELECT t.id, t.name FROM customer_tags ct JOIN tags t"
                                " ON t.id = ct.tag_id WHERE ct.customer_id = :c ORDER BY t.name";
static const char sql_ctag_add[] =
    "INSERT OR IGNORE INTO customer_tags(customer_id, tag_id, created_at) VALUES (:c, :t, :now)";
static const char sql_ctag_del[] =
    "DELETE FROM customer_tags WHERE customer_id = :c AND tag_id = :t";

int store_customer_tags(struct store_db *db, int64_t customer_id, store_tag_ref_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql_ctags);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		cb(arg, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

static int tag_change(struct store_db *db, const char *sql, int64_t c, int64_t t, int64_t now,
                      int none)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", c);
	db_bind_i64(st, ":t", t);
	if (sqlite3_bind_parameter_index(st, ":now"))
		db_bind_i64(st, ":now", now);
	int rc = db_run(db, st);
	if (rc < 0)
		return -rc;
	return sqlite3_changes(db->h) ? ST_OK : none;
}

int store_customer_tag_add(struct store_db *db, int64_t customer_id, int64_t tag_id, int64_t now)
{
	return tag_change(db, sql_ctag_add, customer_id, tag_id, now, ST_CONFLICT);
}

int store_customer_tag_remove(struct store_db *db, int64_t customer_id, int64_t tag_id)
{
	return tag_change(db, sql_ctag_del, customer_id, tag_id, 0, ST_NOT_FOUND);
}

/* Timeline ---------------------------------------------------------------------- */

static const char sql_event_add[] =
    "INSERT INTO customer_events(customer_id, at, kind, ref_type, ref_id, data)"
    " VALUES (:c, :at, :k, :rt, nullif(:ri, 0), :d)";
static const char sql_event_list[] =
    "SELECT id, customer_id, at, kind, ref_type, coalesce(ref_id, 0), data FROM customer_events"
    " WHERE customer_id = :c AND (:bat = 0 OR at < :bat OR (at = :bat AND id < :bid))"
    " ORDER BY at DESC, id DESC LIMIT :lim";

int store_event_add(struct store_db *db, const struct customer_event *e)
{
	sqlite3_stmt *st = db_stmt(db, sql_event_add);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", e->customer_id);
	db_bind_i64(st, ":at", e->at);
	db_bind_text(st, ":k", e->kind);
	db_bind_text(st, ":rt", e->ref_type);
	db_bind_i64(st, ":ri", e->ref_id);
	db_bind_text(st, ":d", e->data ? e->data : "{}");
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

int store_event_list(struct store_db *db, int64_t customer_id, int64_t before_at, int64_t before_id,
                     int limit, store_event_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql_event_list);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	db_bind_i64(st, ":bat", before_at);
	db_bind_i64(st, ":bid", before_id);
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

int64_t store_event_count(struct store_db *db, int64_t customer_id)
{
	static const char sql[] = "SELECT count(*) FROM customer_events WHERE customer_id = :c";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (st)
		db_bind_i64(st, ":c", customer_id);
	return db_scalar(db, st);
}

bool store_channel_exists(struct store_db *db, int64_t id)
{
	static const char sql[] = "SELECT count(*) FROM channels WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return false;
	db_bind_i64(st, ":id", id);
	return db_scalar(db, st) > 0;
}
