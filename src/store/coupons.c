/* coupons.c - coupon templates and issued coupons. A coupon is read joined to
 * its template, whose name and terms it shows. */
#include "internal.h"

#include "scrm/store_loyalty.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void coupon_template_clear(struct coupon_template *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->kind);
	memset(t, 0, sizeof *t);
}

void coupon_clear(struct coupon *c)
{
	if (!c)
		return;
	free(c->code);
	free(c->status);
	free(c->source);
	free(c->name);
	free(c->kind);
	memset(c, 0, sizeof *c);
}

/* Templates ------------------------------------------------------------------- */

#define TEMPLATE_COLS                                                                              \
	"id, name, kind, value, min_spend_cents, coalesce(valid_days, 0), coalesce(valid_until, "  \
	"0),"                                                                                      \
	" active, created_at, updated_at"

static void read_template(sqlite3_stmt *st, struct coupon_template *t)
{
	t->id = sqlite3_column_int64(st, 0);
	t->name = db_col_dup(st, 1);
	t->kind = db_col_dup(st, 2);
	t->value = sqlite3_column_int64(st, 3);
	t->min_spend_cents = sqlite3_column_int64(st, 4);
	t->valid_days = sqlite3_column_int64(st, 5);
	t->valid_until = sqlite3_column_int64(st, 6);
	t->active = sqlite3_column_int(st, 7) != 0;
	t->created_at = sqlite3_column_int64(st, 8);
	t->updated_at = sqlite3_column_int64(st, 9);
}

int store_coupon_template_get(struct store_db *db, int64_t id, struct coupon_template *out)
{
	static const char sql[] = "SELECT " TEMPLATE_COLS " FROM coupon_templates WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		read_template(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

static void bind_template(sqlite3_stmt *st, const struct coupon_template *t)
{
	db_bind_text(st, ":n", t->name);
	db_bind_text(st, ":k", t->kind);
	db_bind_i64(st, ":v", t->value);
	db_bind_i64(st, ":ms", t->min_spend_cents);
	db_bind_i64(st, ":vd", t->valid_days);
	db_bind_i64(st, ":vu", t->valid_until);
	db_bind_i64(st, ":a", t->active ? 1 : 0);
}

int store_coupon_template_insert(struct store_db *db, struct coupon_template *t)
{
	static const char sql[] =
	    "INSERT INTO coupon_templates(name, kind, value, min_spend_cents, valid_days,"
	    " valid_until, active, created_at, updated_at) VALUES (:n, :k, :v, :ms, nullif(:vd, 0),"
	    " nullif(:vu, 0), :a, :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_template(st, t);
	db_bind_i64(st, ":t", t->created_at);
	t->updated_at = t->created_at;
	return db_insert(db, st, &t->id);
}

int store_coupon_template_update(struct store_db *db, const struct coupon_template *t)
{
	static const char sql[] =
	    "UPDATE coupon_templates SET name = :n, kind = :k, value = :v, min_spend_cents = :ms,"
	    " valid_days = nullif(:vd, 0), valid_until = nullif(:vu, 0), active = :a,"
	    " updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_template(st, t);
	db_bind_i64(st, ":t", t->updated_at);
	db_bind_i64(st, ":id", t->id);
	return db_change_one(db, st);
}

int store_coupon_template_delete(struct store_db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM coupon_templates WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int64_t store_coupon_template_issued(struct store_db *db, int64_t id)
{
	/* coupons has no index on template_id alone: count through the rowid
	 * scan only when asked (deletes and term changes, both rare) */
	static const char sql[] = "SELECT count(*) FROM coupons WHERE template_id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -1;
	db_bind_i64(st, ":id", id);
	return db_scalar(db, st);
}

static const char sql_template_list[] =
    "SELECT " TEMPLATE_COLS " FROM coupon_templates WHERE id > :after AND (:a < 0 OR active = :a)"
    " ORDER BY id LIMIT :lim";
static const char sql_template_count[] =
    "SELECT count(*) FROM coupon_templates WHERE (:a < 0 OR active = :a)";

int store_coupon_template_list(struct store_db *db, const struct coupon_template_filter *f,
                               int64_t after_id, int limit, store_coupon_template_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql_template_list);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after_id);
	db_bind_i64(st, ":a", f->active);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct coupon_template t = {0};
		read_template(st, &t);
		cb(arg, &t);
		coupon_template_clear(&t);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_coupon_template_count(struct store_db *db, const struct coupon_template_filter *f)
{
	sqlite3_stmt *st = db_stmt(db, sql_template_count);
	if (!st)
		return -1;
	db_bind_i64(st, ":a", f->active);
	return db_scalar(db, st);
}

/* Coupons --------------------------------------------------------------------- */

#define COUPON_COLS                                                                                \
	"c.id, c.customer_id, c.template_id, c.code, c.status, c.source, c.issued_at,"             \
	" c.expires_at, coalesce(c.used_at, 0), coalesce(c.order_id, 0), c.created_at,"            \
	" c.updated_at, t.name, t.kind, t.value, t.min_spend_cents"
#define COUPON_FROM " FROM coupons c JOIN coupon_templates t ON t.id = c.template_id"

static void read_coupon(sqlite3_stmt *st, struct coupon *c)
{
	c->id = sqlite3_column_int64(st, 0);
	c->customer_id = sqlite3_column_int64(st, 1);
	c->template_id = sqlite3_column_int64(st, 2);
	c->code = db_col_dup(st, 3);
	c->status = db_col_dup(st, 4);
	c->source = db_col_dup(st, 5);
	c->issued_at = sqlite3_column_int64(st, 6);
	c->expires_at = sqlite3_column_int64(st, 7);
	c->used_at = sqlite3_column_int64(st, 8);
	c->order_id = sqlite3_column_int64(st, 9);
	c->created_at = sqlite3_column_int64(st, 10);
	c->updated_at = sqlite3_column_int64(st, 11);
	c->name = db_col_dup(st, 12);
	c->kind = db_col_dup(st, 13);
	c->value = sqlite3_column_int64(st, 14);
	c->min_spend_cents = sqlite3_column_int64(st, 15);
}

int store_coupon_insert(struct store_db *db, struct coupon *c)
{
	static const char sql[] =
	    "INSERT INTO coupons(customer_id, template_id, code, status, source, issued_at,"
	    " expires_at, created_at, updated_at) VALUES (:c, :t, :code, 'active', :src, :at, :exp,"
	    " :at, :at)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", c->customer_id);
	db_bind_i64(st, ":t", c->template_id);
	db_bind_text(st, ":code", c->code);
	db_bind_text(st, ":src", c->source);
	db_bind_i64(st, ":at", c->issued_at);
	db_bind_i64(st, ":exp", c->expires_at);
	c->created_at = c->updated_at = c->issued_at;
	return db_insert(db, st, &c->id);
}

int store_coupons_expire_due(struct store_db *db, int64_t now, int64_t *count)
{
	static const char sql[] = "UPDATE coupons SET status = 'expired', updated_at = :now"
	                          " WHERE status = 'active' AND expires_at < :now";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":now", now);
	int rc = db_run(db, st);
	if (rc < 0)
		return -rc;
	*count = sqlite3_changes(db->h);
	return ST_OK;
}

static int one_coupon(struct store_db *db, sqlite3_stmt *st, struct coupon *out)
{
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		read_coupon(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

int store_coupon_get(struct store_db *db, int64_t id, struct coupon *out)
{
	static const char sql[] = "SELECT " COUPON_COLS COUPON_FROM " WHERE c.id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return one_coupon(db, st, out);
}

int store_coupon_by_code(struct store_db *db, const char *code, struct coupon *out)
{
	static const char sql[] = "SELECT " COUPON_COLS COUPON_FROM " WHERE c.code = :code";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":code", code);
	return one_coupon(db, st, out);
}

int store_coupon_use(struct store_db *db, int64_t id, int64_t order_id, int64_t now)
{
	static const char sql[] =
	    "UPDATE coupons SET status = 'used', used_at = :now, order_id = nullif(:o, 0),"
	    " updated_at = :now WHERE id = :id AND status = 'active'";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":now", now);
	db_bind_i64(st, ":o", order_id);
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

/* The status as seen at :now: the daily pass may not have marked a coupon
 * that ran out since, so "active" and "expired" look at expires_at too. */
#define COUPON_STATUS_FILTER                                                                       \
	" AND (:s IS NULL OR (:s = 'used' AND c.status = 'used') OR (:s = 'active' AND"            \
	" c.status = 'active' AND c.expires_at >= :now) OR (:s = 'expired' AND (c.status ="        \
	" 'expired' OR (c.status = 'active' AND c.expires_at < :now))))"

static const char sql_coupon_list[] =
    "SELECT " COUPON_COLS COUPON_FROM
    " WHERE c.customer_id = :c AND c.id < :before" COUPON_STATUS_FILTER
    " ORDER BY c.id DESC LIMIT :lim";
static const char sql_coupon_count[] =
    "SELECT count(*) FROM coupons c WHERE c.customer_id = :c" COUPON_STATUS_FILTER;

static void bind_coupon_filter(sqlite3_stmt *st, const struct coupon_filter *f)
{
	db_bind_i64(st, ":c", f->customer_id);
	db_bind_text(st, ":s", f->status);
	db_bind_i64(st, ":now", f->now);
}

int store_coupon_list(struct store_db *db, const struct coupon_filter *f, int64_t before_id,
                      int limit, store_coupon_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql_coupon_list);
	if (!st)
		return ST_ERR;
	bind_coupon_filter(st, f);
	db_bind_i64(st, ":before", before_id > 0 ? before_id : INT64_MAX);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct coupon c = {0};
		read_coupon(st, &c);
		cb(arg, &c);
		coupon_clear(&c);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_coupon_count(struct store_db *db, const struct coupon_filter *f)
{
	sqlite3_stmt *st = db_stmt(db, sql_coupon_count);
	if (!st)
		return -1;
	bind_coupon_filter(st, f);
	return db_scalar(db, st);
}
