/* tokens.c - API tokens, stored as SHA-256 hashes. A token carries 256 random
 * bits, so a fast hash is enough: nobody can guess their way to a preimage. */
#include "internal.h"

#include "scrm/store_auth.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void api_token_clear(struct api_token *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->role);
	free(t->prefix);
	memset(t, 0, sizeof *t);
}

#define TOKEN_COLS                                                                                 \
	"id, name, role, prefix, coalesce(created_by, 0), created_at,"                             \
	" coalesce(last_used_at, 0), coalesce(expires_at, 0), coalesce(revoked_at, 0)"

static void read_token(sqlite3_stmt *st, struct api_token *t)
{
	t->id = sqlite3_column_int64(st, 0);
	t->name = db_col_dup(st, 1);
	t->role = db_col_dup(st, 2);
	t->prefix = db_col_dup(st, 3);
	t->created_by = sqlite3_column_int64(st, 4);
	t->created_at = sqlite3_column_int64(st, 5);
	t->last_used_at = sqlite3_column_int64(st, 6);
	t->expires_at = sqlite3_column_int64(st, 7);
	t->revoked_at = sqlite3_column_int64(st, 8);
}

static const char sql_ins[] =
    "INSERT INTO api_tokens(name, role, token_hash, prefix, created_by, created_at, expires_at)"
    " VALUES (:n, :r, :h, :p, nullif(:by, 0), :t, nullif(:e, 0))";
static const char sql_by_hash[] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE token_hash = :h";
static const char sql_get[] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE id = :id";
static const char sql_list[] =
    "SELECT " TOKEN_COLS " FROM api_tokens WHERE id > :after ORDER BY id LIMIT :lim";
static const char sql_count[] = "SELECT count(*) FROM api_tokens";
static const char sql_revoke[] =
    "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, :t) WHERE id = :id";
static const char sql_touch[] = "UPDATE api_tokens SET last_used_at = :t WHERE id = :id";

int store_token_insert(struct store_db *db, const unsigned char hash[32], struct api_token *t)
{
	sqlite3_stmt *st = db_stmt(db, sql_ins);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":n", t->name);
	db_bind_text(st, ":r", t->role);
	db_bind_blob(st, ":h", hash, 32);
	db_bind_text(st, ":p", t->prefix);
	db_bind_i64(st, ":by", t->created_by);
	db_bind_i64(st, ":t", t->created_at);
	db_bind_i64(st, ":e", t->expires_at);
	int rc = db_insert(db, st, &t->id);
	if (rc != ST_OK)
		return rc;
	return ST_OK;
}

static int one(struct store_db *db, sqlite3_stmt *st, struct api_token *t)
{
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW) {
		read_token(st, t);
		rc = ST_OK;
	} else {
		rc = rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
	}
	sqlite3_reset(st);
	return rc;
}

int store_token_by_hash(struct store_db *db, const unsigned char hash[32], struct api_token *t)
{
	sqlite3_stmt *st = db_stmt(db, sql_by_hash);
	if (!st)
		return ST_ERR;
	db_bind_blob(st, ":h", hash, 32);
	return one(db, st, t);
}

int store_token_get(struct store_db *db, int64_t id, struct api_token *t)
{
	sqlite3_stmt *st = db_stmt(db, sql_get);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return one(db, st, t);
}

int store_token_list(struct store_db *db, int64_t after_id, int limit, store_token_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql_list);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct api_token t = {0};
		read_token(st, &t);
		cb(arg, &t);
		api_token_clear(&t);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

static int update_one(struct store_db *db, const char *sql, int64_t id, int64_t now)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	db_bind_i64(st, ":t", now);
	return db_change_one(db, st);
}

int store_token_revoke(struct store_db *db, int64_t id, int64_t now)
{
	return update_one(db, sql_revoke, id, now);
}

int store_token_touch(struct store_db *db, int64_t id, int64_t now)
{
	return update_one(db, sql_touch, id, now);
}

int64_t store_token_count(struct store_db *db)
{
	return db_scalar(db, db_stmt(db, sql_count));
}
