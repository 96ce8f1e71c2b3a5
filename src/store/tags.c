/* tags.c - tag rows. customer_count is kept by triggers on customer_tags. */
#include "internal.h"

#include "scrm/store_records.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void tag_clear(struct tag *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->group);
	free(t->color);
	free(t->kind);
	free(t->rule);
	memset(t, 0, sizeof *t);
}

#define TAG_COLS "id, name, tag_group, color, kind, rule, customer_count, created_at, updated_at"

static void read_tag(sqlite3_stmt *st, struct tag *t)
{
	t->id = sqlite3_column_int64(st, 0);
	t->name = db_col_dup(st, 1);
	t->group = db_col_dup(st, 2);
	t->color = db_col_dup(st, 3);
	t->kind = db_col_dup(st, 4);
	t->rule = db_col_dup(st, 5);
	t->customer_count = sqlite3_column_int64(st, 6);
	t->created_at = sqlite3_column_int64(st, 7);
	t->updated_at = sqlite3_column_int64(st, 8);
}

static int one(struct store_db *db, sqlite3_stmt *st, struct tag *out)
{
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		read_tag(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

static const char sql_get[] = "SELECT " TAG_COLS " FROM tags WHERE id = :id";
static const char sql_by_name[] = "SELECT " TAG_COLS " FROM tags WHERE name = :n";
static const char sql_insert[] =
    "INSERT INTO tags(name, tag_group, color, kind, rule, created_at, updated_at)"
    " VALUES (:n, :g, :c, :k, :r, :t, :t)";
static const char sql_update[] = "UPDATE tags SET name = :n, tag_group = :g, color = :c, kind = :k,"
                                 " rule = :r, updated_at = :t WHERE id = :id";
static const char sql_delete[] = "DELETE FROM tags WHERE id = :id";

int store_tag_get(struct store_db *db, int64_t id, struct tag *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_get);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return one(db, st, out);
}

int store_tag_by_name(struct store_db *db, const char *name, struct tag *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_by_name);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":n", name);
	return one(db, st, out);
}

static void bind_tag(sqlite3_stmt *st, const struct tag *t)
{
	db_bind_text(st, ":n", t->name);
	db_bind_text(st, ":g", t->group);
	db_bind_text(st, ":c", t->color);
	db_bind_text(st, ":k", t->kind ? t->kind : "manual");
	db_bind_text(st, ":r", t->rule);
}

int store_tag_insert(struct store_db *db, struct tag *t)
{
	sqlite3_stmt *st = db_stmt(db, sql_insert);
	if (!st)
		return ST_ERR;
	bind_tag(st, t);
	db_bind_i64(st, ":t", t->created_at);
	int rc = db_insert(db, st, &t->id);
	if (rc != ST_OK)
		return rc;
	t->updated_at = t->created_at;
	return ST_OK;
}

int store_tag_update(struct store_db *db, const struct tag *t)
{
	sqlite3_stmt *st = db_stmt(db, sql_update);
	if (!st)
		return ST_ERR;
	bind_tag(st, t);
	db_bind_i64(st, ":t", t->updated_at);
	db_bind_i64(st, ":id", t->id);
	return db_change_one(db, st);
}

int store_tag_delete(struct store_db *db, int64_t id)
{
	sqlite3_stmt *st = db_stmt(db, sql_delete);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

static void build_where(struct buf *b, const struct tag_filter *f)
{
	buf_puts(b, " WHERE 1");
	if (f->group)
		buf_puts(b, " AND tag_group = :g");
	if (f->kind)
		buf_puts(b, " AND kind = :k");
	if (f->q)
		buf_puts(b, " AND name >= :q AND name < :qend");
}

static void bind_filter(sqlite3_stmt *st, const struct tag_filter *f, char **qend)
{
	if (f->group)
		db_bind_text(st, ":g", f->group);
	if (f->kind)
		db_bind_text(st, ":k", f->kind);
	if (f->q) {
		*qend = db_prefix_end(f->q);
		db_bind_text(st, ":q", f->q);
		db_bind_text(st, ":qend", *qend);
	}
}

int store_tag_list(struct store_db *db, const struct tag_filter *f, int64_t after_id, int limit,
                   store_tag_cb cb, void *arg)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT " TAG_COLS " FROM tags");
	build_where(&sql, f);
	buf_puts(&sql, " AND id > :after ORDER BY id LIMIT :lim");
	sqlite3_stmt *st = db_prepare_dynamic(db, sql.data);
	buf_clear(&sql);
	if (!st)
		return ST_ERR;
	char *qend = NULL;
	bind_filter(st, f, &qend);
	db_bind_i64(st, ":after", after_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct tag t = {0};
		read_tag(st, &t);
		cb(arg, &t);
		tag_clear(&t);
	}
	sqlite3_finalize(st);
	free(qend);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_tag_count(struct store_db *db, const struct tag_filter *f)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT count(*) FROM tags");
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
