/* growth.c - acquisition channels and their scans; community groups, their
 * members and activity. */
#include "internal.h"

#include "scrm/store_growth.h"
#include "scrm/store_records.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

/* Acquisition channels ------------------------------------------------------------------ */

void acq_channel_clear(struct acq_channel *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->kind);
	free(c->code);
	free(c->contact_url);
	memset(c, 0, sizeof *c);
}

/* The channel's figures are counted where it is read: its customers by the
 * customers_channel index, its scans by channel_scans_channel. */
#define ACQ_COLS                                                                                   \
	"ch.id, ch.name, ch.kind, ch.code, ch.contact_url, ch.units, ch.cost_cents,"               \
	" ch.created_at, ch.updated_at,"                                                           \
	" (SELECT count(*) FROM customers c WHERE c.source_channel_id = ch.id),"                   \
	" (SELECT count(*) FROM channel_scans s WHERE s.channel_id = ch.id),"                      \
	" (SELECT count(DISTINCT ip_hash) FROM channel_scans s WHERE s.channel_id = ch.id)"

static void read_acq(sqlite3_stmt *st, void *out)
{
	struct acq_channel *c = out;
	c->id = sqlite3_column_int64(st, 0);
	c->name = db_col_dup(st, 1);
	c->kind = db_col_dup(st, 2);
	c->code = db_col_dup(st, 3);
	c->contact_url = db_col_dup(st, 4);
	c->units = sqlite3_column_int64(st, 5);
	c->cost_cents = sqlite3_column_int64(st, 6);
	c->created_at = sqlite3_column_int64(st, 7);
	c->updated_at = sqlite3_column_int64(st, 8);
	c->customers = sqlite3_column_int64(st, 9);
	c->scans = sqlite3_column_int64(st, 10);
	c->scanners = sqlite3_column_int64(st, 11);
}

static void bind_acq(sqlite3_stmt *st, const struct acq_channel *c)
{
	db_bind_text(st, ":name", c->name);
	db_bind_text(st, ":kind", c->kind);
	db_bind_text(st, ":code", c->code);
	db_bind_text(st, ":url", c->contact_url);
	db_bind_i64(st, ":units", c->units);
	db_bind_i64(st, ":cost", c->cost_cents);
}

int store_acq_channel_insert(struct store_db *db, struct acq_channel *c)
{
	static const char sql[] =
	    "INSERT INTO channels(name, kind, code, contact_url, units, cost_cents, created_at,"
	    " updated_at) VALUES (:name, :kind, :code, :url, :units, :cost, :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_acq(st, c);
	db_bind_i64(st, ":t", c->created_at);
	c->updated_at = c->created_at;
	return db_insert(db, st, &c->id);
}

int store_acq_channel_update(struct store_db *db, const struct acq_channel *c)
{
	static const char sql[] =
	    "UPDATE channels SET name = :name, kind = :kind, code = :code, contact_url = :url,"
	    " units = :units, cost_cents = :cost, updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_acq(st, c);
	db_bind_i64(st, ":t", c->updated_at);
	db_bind_i64(st, ":id", c->id);
	return db_change_one(db, st);
}

static int get_acq(struct store_db *db, const char *sql, const char *key, int64_t id,
                   const char *code, struct acq_channel *out)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	if (code)
		db_bind_text(st, key, code);
	else
		db_bind_i64(st, key, id);
	return db_one(db, st, read_acq, out);
}

int store_acq_channel_get(struct store_db *db, int64_t id, struct acq_channel *out)
{
	static const char sql[] = "SELECT " ACQ_COLS " FROM channels ch WHERE ch.id = :id";
	return get_acq(db, sql, ":id", id, NULL, out);
}

int store_acq_channel_by_code(struct store_db *db, const char *code, struct acq_channel *out)
{
	/* the live code's hot path: no figures */
	static const char sql[] = "SELECT ch.id, ch.name, ch.kind, ch.code, ch.contact_url,"
	                          " ch.units, ch.cost_cents, ch.created_at, ch.updated_at, 0, 0, 0"
	                          " FROM channels ch WHERE ch.code = :code";
	return get_acq(db, sql, ":code", 0, code, out);
}

int store_acq_channel_delete(struct store_db *db, int64_t id)
{
	sqlite3_stmt *used =
	    db_stmt(db, "SELECT count(*) FROM customers WHERE source_channel_id = :id");
	if (!used)
		return ST_ERR;
	db_bind_i64(used, ":id", id);
	int64_t n = db_scalar(db, used);
	if (n < 0)
		return ST_ERR;
	if (n > 0)
		return ST_CONFLICT;
	return db_change_id(db, "DELETE FROM channels WHERE id = :id", id);
}

int store_acq_channel_list(struct store_db *db, int64_t after, int limit, store_acq_channel_cb cb,
                           void *arg)
{
	static const char sql[] =
	    "SELECT " ACQ_COLS " FROM channels ch WHERE ch.id > :after ORDER BY ch.id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct acq_channel c = {0};
		read_acq(st, &c);
		cb(arg, &c);
		acq_channel_clear(&c);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_acq_channel_total(struct store_db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM channels");
	return st ? db_scalar(db, st) : -1;
}

int store_channel_scan_add(struct store_db *db, int64_t channel_id, int64_t at, const char *ip_hash)
{
	static const char sql[] =
	    "INSERT INTO channel_scans(channel_id, at, ip_hash) VALUES (:ch, :at, :ip)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":ch", channel_id);
	db_bind_i64(st, ":at", at);
	db_bind_text(st, ":ip", ip_hash);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

/* Groups ------------------------------------------------------------------------------- */

void group_clear(struct group *g)
{
	if (!g)
		return;
	free(g->name);
	free(g->kind);
	memset(g, 0, sizeof *g);
}

#define GROUP_COLS                                                                                 \
	"g.id, g.name, g.kind, coalesce(g.owner_user_id, 0), g.created_at, g.updated_at,"          \
	" (SELECT count(*) FROM group_members m WHERE m.group_id = g.id)"

static void read_group(sqlite3_stmt *st, void *out)
{
	struct group *g = out;
	g->id = sqlite3_column_int64(st, 0);
	g->name = db_col_dup(st, 1);
	g->kind = db_col_dup(st, 2);
	g->owner_user_id = sqlite3_column_int64(st, 3);
	g->created_at = sqlite3_column_int64(st, 4);
	g->updated_at = sqlite3_column_int64(st, 5);
	g->members = sqlite3_column_int64(st, 6);
}

int store_group_insert(struct store_db *db, struct group *g)
{
	static const char sql[] = "INSERT INTO groups(name, kind, owner_user_id, created_at,"
	                          " updated_at) VALUES (:name, :kind, nullif(:owner, 0), :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":name", g->name);
	db_bind_text(st, ":kind", g->kind);
	db_bind_i64(st, ":owner", g->owner_user_id);
	db_bind_i64(st, ":t", g->created_at);
	g->updated_at = g->created_at;
	return db_insert(db, st, &g->id);
}

int store_group_update(struct store_db *db, const struct group *g)
{
	static const char sql[] =
	    "UPDATE groups SET name = :name, kind = :kind,"
	    " owner_user_id = nullif(:owner, 0), updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":name", g->name);
	db_bind_text(st, ":kind", g->kind);
	db_bind_i64(st, ":owner", g->owner_user_id);
	db_bind_i64(st, ":t", g->updated_at);
	db_bind_i64(st, ":id", g->id);
	return db_change_one(db, st);
}

int store_group_get(struct store_db *db, int64_t id, struct group *out)
{
	static const char sql[] = "SELECT " GROUP_COLS " FROM groups g WHERE g.id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_one(db, st, read_group, out);
}

int store_group_delete(struct store_db *db, int64_t id)
{
	return db_change_id(db, "DELETE FROM groups WHERE id = :id", id);
}

int store_group_list(struct store_db *db, int64_t after, int limit, store_group_cb cb, void *arg)
{
	static const char sql[] =
	    "SELECT " GROUP_COLS " FROM groups g WHERE g.id > :after ORDER BY g.id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct group g = {0};
		read_group(st, &g);
		cb(arg, &g);
		group_clear(&g);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_group_total(struct store_db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM groups");
	return st ? db_scalar(db, st) : -1;
}

int store_group_member_add(struct store_db *db, int64_t group_id, int64_t customer_id, int64_t at)
{
	static const char sql[] = "INSERT OR IGNORE INTO group_members(group_id, customer_id,"
	                          " joined_at) VALUES (:g, :c, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -ST_ERR;
	db_bind_i64(st, ":g", group_id);
	db_bind_i64(st, ":c", customer_id);
	db_bind_i64(st, ":t", at);
	int rc = db_run(db, st);
	return rc < 0 ? rc : sqlite3_changes(db->h);
}

int store_group_member_remove(struct store_db *db, int64_t group_id, int64_t customer_id)
{
	static const char sql[] =
	    "DELETE FROM group_members WHERE group_id = :g AND customer_id = :c";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":g", group_id);
	db_bind_i64(st, ":c", customer_id);
	return db_change_one(db, st);
}

int store_group_is_member(struct store_db *db, int64_t group_id, int64_t customer_id)
{
	static const char sql[] =
	    "SELECT count(*) FROM group_members WHERE group_id = :g AND customer_id = :c";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -1;
	db_bind_i64(st, ":g", group_id);
	db_bind_i64(st, ":c", customer_id);
	int64_t n = db_scalar(db, st);
	return n < 0 ? -1 : n > 0;
}

int store_group_members(struct store_db *db, int64_t group_id, int64_t after, int limit,
                        void (*cb)(void *arg, const struct customer *c, int64_t joined_at),
                        void *arg)
{
	static const char sql[] = "SELECT " DB_CUSTOMER_COLS ", m.joined_at FROM group_members m"
	                          " JOIN customers c ON c.id = m.customer_id"
	                          " WHERE m.group_id = :g AND m.customer_id > :after"
	                          " ORDER BY m.customer_id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":g", group_id);
	db_bind_i64(st, ":after", after);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct customer c = {0};
		db_read_customer(st, &c);
		cb(arg, &c, sqlite3_column_int64(st, sqlite3_column_count(st) - 1));
		customer_clear(&c);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int store_group_activity_add(struct store_db *db, int64_t group_id, int64_t customer_id, int64_t at,
                             const char *kind)
{
	static const char sql[] = "INSERT OR IGNORE INTO group_activity(group_id, customer_id, at,"
	                          " kind) VALUES (:g, :c, :t, :k)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -ST_ERR;
	db_bind_i64(st, ":g", group_id);
	db_bind_i64(st, ":c", customer_id);
	db_bind_i64(st, ":t", at);
	db_bind_text(st, ":k", kind);
	int rc = db_run(db, st);
	return rc < 0 ? rc : sqlite3_changes(db->h);
}
