/* internal.h - shared by the files of src/store/ only. */
#ifndef SCRM_STORE_INTERNAL_H
#define SCRM_STORE_INTERNAL_H

#include "scrm/store.h"

#include <sqlite3.h>

struct stmt_slot {
	const char *sql; /* static string: its address is the key */
	sqlite3_stmt *st;
};

struct store_db {
	sqlite3 *h;
	struct stmt_slot *slots;
	size_t nslots, used;
	bool reader;
};

/* Open a connection with the daemon's pragmas. NULL on failure (logged). */
struct store_db *db_open(bool reader);
void db_close(struct store_db *db);
int db_exec(struct store_db *db, const char *sql);

/* The cached, reset statement for a static SQL string; NULL (logged) if it does
 * not prepare. The statement stays owned by the cache: do not finalize it. */
sqlite3_stmt *db_stmt(struct store_db *db, const char *sql);
/* Prepare a statement assembled from constant fragments (never from request
 * text) for one use; the caller finalizes it. NULL (logged) on error. */
sqlite3_stmt *db_prepare_dynamic(struct store_db *db, const char *sql);
/* The end of a prefix range: every string that starts with prefix sorts below
 * the result in SQLite's byte order (prefix + U+10FFFF). Caller frees. */
char *db_prefix_end(const char *prefix);
/* Step; returns SQLITE_ROW, SQLITE_DONE or -ST_* (logged unless a constraint). */
int db_step(struct store_db *db, sqlite3_stmt *st);
/* Step a statement that returns no rows and reset it: 0 or -ST_*. */
int db_run(struct store_db *db, sqlite3_stmt *st);
/* Run an INSERT and put the new rowid in *id: ST_OK or the failure. */
int db_insert(struct store_db *db, sqlite3_stmt *st, int64_t *id);
/* Run an UPDATE or DELETE meant for one row: ST_OK, ST_NOT_FOUND when no row
 * changed, or the failure. */
int db_change_one(struct store_db *db, sqlite3_stmt *st);
/* Run a one-row UPDATE or DELETE whose only parameter is :id (db_change_one). */
int db_change_id(struct store_db *db, const char *sql, int64_t id);
/* Step a query for one row and reset it: read(st, out) fills out from the row;
 * ST_OK, ST_NOT_FOUND when there is none, or the failure. */
int db_one(struct store_db *db, sqlite3_stmt *st, void (*read)(sqlite3_stmt *st, void *out),
           void *out);
/* Step a one-row, one-column query and reset it: the integer, or -1 (logged). */
int64_t db_scalar(struct store_db *db, sqlite3_stmt *st);
/* A commission earning (alias k) that stands: not reversed, and not taken back
 * after settling. */
#define ACTIVE_EARN                                                                                \
	"k.kind = 'earn' AND k.status != 'reversed' AND NOT EXISTS (SELECT 1 FROM commissions r"   \
	" WHERE r.order_id = k.order_id AND r.kind = 'reversal')"
/* The business day (days since 1970-01-01 of the local date) and month
 * (year * 12 + month - 1) of a unix time, in SQL; NULL for NULL. */
#define DB_DAY(t) "CAST(julianday(" t ", 'unixepoch', 'localtime') - 2440587.5 AS INTEGER)"
#define DB_MONTH(t)                                                                                \
	"(CAST(strftime('%Y', " t ", 'unixepoch', 'localtime') AS INTEGER) * 12"                    \
	" + CAST(strftime('%m', " t ", 'unixepoch', 'localtime') AS INTEGER) - 1)"
/* The columns of a customer row (alias c) and their reader. */
#define DB_CUSTOMER_COLS                                                                           \
	"c.id, c.name, c.phone, c.email, c.unionid, c.gender, c.birthday, c.stage, c.attrs,"       \
	" coalesce(c.birth_month, 0), coalesce(c.birth_day, 0), coalesce(c.source_channel_id, 0)," \
	" coalesce(c.owner_user_id, 0), c.stage_manual, c.points_balance, c.wallet_balance_cents," \
	" c.order_count, c.total_spent_cents, coalesce(c.first_order_at, 0),"                      \
	" coalesce(c.last_order_at, 0), coalesce(c.erased_at, 0), c.created_at, c.updated_at,"     \
	" coalesce(c.tier_id, 0), coalesce(c.tier_override_until, 0),"                             \
	" (SELECT name FROM tiers t WHERE t.id = c.tier_id)"
struct customer;
void db_read_customer(sqlite3_stmt *st, struct customer *c);
/* Map a SQLite result code to enum st_rc. */
int db_rc(int sqlite_rc);

void db_bind_text(sqlite3_stmt *st, const char *name, const char *v); /* NULL binds NULL */
void db_bind_i64(sqlite3_stmt *st, const char *name, int64_t v);
void db_bind_blob(sqlite3_stmt *st, const char *name, const void *p, size_t n);
void db_bind_null(sqlite3_stmt *st, const char *name);
char *db_col_dup(sqlite3_stmt *st, int col); /* NULL stays NULL; caller owns */

/* A statement "<head> (<where>)<tail>" for one use (the caller finalizes it),
 * with the rule's parameters bound as ?1..?n: named parameters of the head or
 * tail must come after the rule in the text (SQLite numbers a named parameter
 * by its first appearance). where is r->where or r->where_one. */
struct rule_sql;
sqlite3_stmt *db_prepare_rule(struct store_db *db, const char *head, const char *where,
                              const struct rule_sql *r, const char *tail);
const struct store_opts *store_opts_get(void);
int store_migrate(struct store_db *db, const char *dir, bool verbose);
void store_note_result(int st_rc_value); /* tracks the unavailable flag */
/* A write failed for want of space, permission or a working disk: sets the
 * flag and logs why (rate limited). db may be NULL. */
void store_note_unavailable(struct store_db *db, int sqlite_rc);
/* How many times store_note_unavailable() was called so far. */
uint64_t store_unavailable_events(void);

#endif
