/* audit.c - the audit log and idempotency records. Both are written by the same
 * closure as the change they describe, so they commit or vanish with it. */
#include "internal.h"

#include "scrm/store_auth.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

static const char sql_audit_ins[] =
    "INSERT INTO audit_log(at, actor, actor_name, action, target_type, target_id, method, path,"
    " status, ip, detail) VALUES (:at, :actor, :an, :action, :tt, nullif(:tid, 0), :m, :p, :s,"
    " :ip, :d)";

int store_audit_insert(struct store_db *db, const struct audit_entry *e)
{
	sqlite3_stmt *st = db_stmt(db, sql_audit_ins);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":at", e->at);
	db_bind_text(st, ":actor", e->actor);
	db_bind_text(st, ":an", e->actor_name);
	db_bind_text(st, ":action", e->action);
	db_bind_text(st, ":tt", e->target_type);
	db_bind_i64(st, ":tid", e->target_id);
	db_bind_text(st, ":m", e->method);
	db_bind_text(st, ":p", e->path);
	db_bind_i64(st, ":s", e->status);
	db_bind_text(st, ":ip", e->ip);
	db_bind_text(st, ":d", e->detail);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

/* One statement for every combination of filters: an absent filter is bound as
 * NULL and drops out. No SQL text is ever assembled from a request. */
#define AUDIT_WHERE                                                                                \
	" WHERE (:actor IS NULL OR actor = :actor) AND (:action IS NULL OR action = :action)"      \
	" AND (:tt IS NULL OR target_type = :tt) AND (:tid = 0 OR target_id = :tid)"               \
	" AND (:from = 0 OR at >= :from) AND (:to = 0 OR at < :to)"

static const char sql_audit_list[] =
    "SELECT id, at, actor, actor_name, action, target_type, coalesce(target_id, 0), method, path,"
    " coalesce(status, 0), ip, detail FROM audit_log" AUDIT_WHERE
    " AND (:before = 0 OR id < :before) ORDER BY id DESC LIMIT :lim";
static const char sql_audit_count[] = "SELECT count(*) FROM audit_log" AUDIT_WHERE;
static const char sql_audit_purge[] = "DELETE FROM audit_log WHERE at < :before";

static void bind_filter(sqlite3_stmt *st, const struct audit_filter *f)
{
	db_bind_text(st, ":actor", f->actor);
	db_bind_text(st, ":action", f->action);
	db_bind_text(st, ":tt", f->target_type);
	db_bind_i64(st, ":tid", f->target_id);
	db_bind_i64(st, ":from", f->from);
	db_bind_i64(st, ":to", f->to);
}

int store_audit_list(struct store_db *db, const struct audit_filter *f, int64_t before_id,
                     int limit, store_audit_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql_audit_list);
	if (!st)
		return ST_ERR;
	bind_filter(st, f);
	db_bind_i64(st, ":before", before_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct audit_entry e = {
		    .id = sqlite3_column_int64(st, 0),
		    .at = sqlite3_column_int64(st, 1),
		    .actor = (const char *)sqlite3_column_text(st, 2),
		    .actor_name = (const char *)sqlite3_column_text(st, 3),
		    .action = (const char *)sqlite3_column_text(st, 4),
		    .target_type = (const char *)sqlite3_column_text(st, 5),
		    .target_id = sqlite3_column_int64(st, 6),
		    .method = (const char *)sqlite3_column_text(st, 7),
		    .path = (const char *)sqlite3_column_text(st, 8),
		    .status = sqlite3_column_int(st, 9),
		    .ip = (const char *)sqlite3_column_text(st, 10),
		    .detail = (const char *)sqlite3_column_text(st, 11),
		};
		cb(arg, &e); /* borrowed columns: valid until the next step */
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_audit_count(struct store_db *db, const struct audit_filter *f)
{
	sqlite3_stmt *st = db_stmt(db, sql_audit_count);
	if (st)
		bind_filter(st, f);
	return db_scalar(db, st);
}

int store_audit_purge(struct store_db *db, int64_t before)
{
	sqlite3_stmt *st = db_stmt(db, sql_audit_purge);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":before", before);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

/* Idempotency ------------------------------------------------------------- */

void idem_record_clear(struct idem_record *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->location);
	memset(r, 0, sizeof *r);
}

static const char sql_idem_get[] =
    "SELECT request_hash, status, body, location FROM idempotency_keys"
    " WHERE principal = :p AND key = :k";
static const char sql_idem_put[] =
    "INSERT INTO idempotency_keys(principal, key, request_hash, status, body, location, created_at)"
    " VALUES (:p, :k, :h, :s, :b, :l, :t)";
static const char sql_idem_purge[] = "DELETE FROM idempotency_keys WHERE created_at < :before";

int store_idem_get(struct store_db *db, const char *principal, const char *key,
                   struct idem_record *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_idem_get);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":p", principal);
	db_bind_text(st, ":k", key);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW) {
		memset(out->request_hash, 0, sizeof out->request_hash);
		int n = sqlite3_column_bytes(st, 0);
		const void *h = sqlite3_column_blob(st, 0);
		if (h && n == 32)
			memcpy(out->request_hash, h, 32);
		out->status = sqlite3_column_int(st, 1);
		out->body = db_col_dup(st, 2);
		out->location = db_col_dup(st, 3);
		rc = ST_OK;
	} else {
		rc = rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
	}
	sqlite3_reset(st);
	return rc;
}

int store_idem_put(struct store_db *db, const char *principal, const char *key,
                   const struct idem_record *r, int64_t now)
{
	sqlite3_stmt *st = db_stmt(db, sql_idem_put);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":p", principal);
	db_bind_text(st, ":k", key);
	db_bind_blob(st, ":h", r->request_hash, 32);
	db_bind_i64(st, ":s", r->status);
	db_bind_text(st, ":b", r->body ? r->body : "");
	db_bind_text(st, ":l", r->location);
	db_bind_i64(st, ":t", now);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

int store_idem_purge(struct store_db *db, int64_t before)
{
	sqlite3_stmt *st = db_stmt(db, sql_idem_purge);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":before", before);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}
