/* users.c - users and dashboard sessions. */
#include "internal.h"

#include "scrm/store_auth.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void user_clear(struct user *u)
{
	if (!u)
		return;
	free(u->username);
	free(u->display_name);
	free(u->role);
	free(u->password_hash);
	memset(u, 0, sizeof *u);
}

void session_clear(struct session *s)
{
	if (!s)
		return;
	free(s->csrf_token);
	memset(s, 0, sizeof *s);
}

#define USER_COLS                                                                                  \
	"id, username, display_name, role, password_hash, disabled, created_at, updated_at"

static void read_user(sqlite3_stmt *st, int c, struct user *u)
{
	u->id = sqlite3_column_int64(st, c);
	u->username = db_col_dup(st, c + 1);
	u->display_name = db_col_dup(st, c + 2);
	u->role = db_col_dup(st, c + 3);
	u->password_hash = db_col_dup(st, c + 4);
	u->disabled = sqlite3_column_int(st, c + 5) != 0;
	u->created_at = sqlite3_column_int64(st, c + 6);
	u->updated_at = sqlite3_column_int64(st, c + 7);
}

/* Run a prepared single-row query and read a user from column 0. */
static int one_user(struct store_db *db, sqlite3_stmt *st, struct user *out)
{
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW) {
		read_user(st, 0, out);
		rc = ST_OK;
	} else if (rc == SQLITE_DONE) {
		rc = ST_NOT_FOUND;
	} else {
		rc = -rc;
	}
	sqlite3_reset(st);
	return rc;
}

static const char sql_user_get[] = "SELECT " USER_COLS " FROM users WHERE id = :id";
static const char sql_user_by_name[] = "SELECT " USER_COLS " FROM users WHERE username = :u";
static const char sql_user_ins[] = "INSERT INTO users(username, display_name, role, password_hash, "
                                   "disabled, created_at, updated_at)"
                                   " VALUES (:u, :d, :r, :p, :x, :t, :t)";
static const char sql_user_upd[] =
    "UPDATE users SET display_name = :d, role = :r, password_hash = :p,"
    " disabled = :x, updated_at = :t WHERE id = :id";
static const char sql_user_count[] = "SELECT count(*) FROM users";
static const char sql_admins[] =
    "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id != :id";
static const char sql_user_list[] =
    "SELECT " USER_COLS " FROM users WHERE id > :after ORDER BY id LIMIT :lim";

int store_user_get(struct store_db *db, int64_t id, struct user *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_user_get);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return one_user(db, st, out);
}

int store_user_by_name(struct store_db *db, const char *username, struct user *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_user_by_name);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":u", username);
	return one_user(db, st, out);
}

int store_user_insert(struct store_db *db, struct user *u)
{
	sqlite3_stmt *st = db_stmt(db, sql_user_ins);
	if (!st)
		return ST_ERR;
	int64_t now = time_now();
	db_bind_text(st, ":u", u->username);
	db_bind_text(st, ":d", u->display_name ? u->display_name : "");
	db_bind_text(st, ":r", u->role);
	db_bind_text(st, ":p", u->password_hash);
	db_bind_i64(st, ":x", u->disabled);
	db_bind_i64(st, ":t", now);
	int rc = db_insert(db, st, &u->id);
	if (rc != ST_OK)
		return rc;
	u->created_at = u->updated_at = now;
	return ST_OK;
}

int store_user_update(struct store_db *db, const struct user *u)
{
	sqlite3_stmt *st = db_stmt(db, sql_user_upd);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", u->id);
	db_bind_text(st, ":d", u->display_name ? u->display_name : "");
	db_bind_text(st, ":r", u->role);
	db_bind_text(st, ":p", u->password_hash);
	db_bind_i64(st, ":x", u->disabled);
	db_bind_i64(st, ":t", u->updated_at ? u->updated_at : time_now());
	return db_change_one(db, st);
}

int64_t store_user_count(struct store_db *db)
{
	return db_scalar(db, db_stmt(db, sql_user_count));
}

int64_t store_admins_active(struct store_db *db, int64_t except_id)
{
	sqlite3_stmt *st = db_stmt(db, sql_admins);
	if (st)
		db_bind_i64(st, ":id", except_id);
	return db_scalar(db, st);
}

int store_user_list(struct store_db *db, int64_t after_id, int limit, store_user_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql_user_list);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct user u = {0};
		read_user(st, 0, &u);
		cb(arg, &u);
		user_clear(&u);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

/* Sessions ----------------------------------------------------------------- */

static const char sql_sess_ins[] =
    "INSERT INTO sessions(token_hash, user_id, csrf_token, ip, user_agent, created_at,"
    " last_seen_at, expires_at) VALUES (:h, :u, :c, :ip, :ua, :t, :t, :e)";
static const char sql_sess_get[] =
    "SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, "
    "u.id, u.username, u.display_name, u.role, u.password_hash, u.disabled, u.created_at,"
    " u.updated_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = :h";
static const char sql_sess_del[] = "DELETE FROM sessions WHERE id = :id";
static const char sql_sess_del_user[] = "DELETE FROM sessions WHERE user_id = :u AND id != :keep";
static const char sql_sess_touch[] = "UPDATE sessions SET last_seen_at = :t WHERE id = :id";
static const char sql_sess_purge[] =
    "DELETE FROM sessions WHERE expires_at <= :now OR last_seen_at < :idle";

int store_session_insert(struct store_db *db, const unsigned char hash[32], struct session *s,
                         const char *ip, const char *user_agent)
{
	sqlite3_stmt *st = db_stmt(db, sql_sess_ins);
	if (!st)
		return ST_ERR;
	db_bind_blob(st, ":h", hash, 32);
	db_bind_i64(st, ":u", s->user_id);
	db_bind_text(st, ":c", s->csrf_token);
	db_bind_text(st, ":ip", ip);
	db_bind_text(st, ":ua", user_agent);
	db_bind_i64(st, ":t", s->created_at);
	db_bind_i64(st, ":e", s->expires_at);
	int rc = db_insert(db, st, &s->id);
	if (rc != ST_OK)
		return rc;
	s->last_seen_at = s->created_at;
	return ST_OK;
}

int store_session_get(struct store_db *db, const unsigned char hash[32], struct session *s,
                      struct user *u)
{
	sqlite3_stmt *st = db_stmt(db, sql_sess_get);
	if (!st)
		return ST_ERR;
	db_bind_blob(st, ":h", hash, 32);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW) {
		s->id = sqlite3_column_int64(st, 0);
		s->user_id = sqlite3_column_int64(st, 1);
		s->csrf_token = db_col_dup(st, 2);
		s->created_at = sqlite3_column_int64(st, 3);
		s->last_seen_at = sqlite3_column_int64(st, 4);
		s->expires_at = sqlite3_column_int64(st, 5);
		read_user(st, 6, u);
		rc = ST_OK;
	} else {
		rc = rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
	}
	sqlite3_reset(st);
	return rc;
}

static int run_ids(struct store_db *db, const char *sql, const char *n1, int64_t v1, const char *n2,
                   int64_t v2)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, n1, v1);
	if (n2)
		db_bind_i64(st, n2, v2);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

int store_session_delete(struct store_db *db, int64_t id)
{
	return run_ids(db, sql_sess_del, ":id", id, NULL, 0);
}

int store_session_delete_user(struct store_db *db, int64_t user_id, int64_t keep_id)
{
	return run_ids(db, sql_sess_del_user, ":u", user_id, ":keep", keep_id);
}

int store_session_touch(struct store_db *db, int64_t id, int64_t now)
{
	return run_ids(db, sql_sess_touch, ":id", id, ":t", now);
}

int store_session_purge(struct store_db *db, int64_t now, int64_t idle_before)
{
	return run_ids(db, sql_sess_purge, ":now", now, ":idle", idle_before);
}
