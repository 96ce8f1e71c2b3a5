/* rewards.c - the points mall: rewards with their stock, and redemptions. */
#include "internal.h"

#include "scrm/store_rewards.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void reward_clear(struct reward *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->kind);
	free(r->prizes);
	memset(r, 0, sizeof *r);
}

void redemption_clear(struct redemption *r)
{
	if (!r)
		return;
	free(r->prize);
	free(r->reward_name);
	free(r->reward_kind);
	memset(r, 0, sizeof *r);
}

/* Rewards --------------------------------------------------------------------- */

#define REWARD_COLS                                                                                \
	"id, name, kind, points_cost, stock IS NOT NULL, coalesce(stock, 0), per_customer_limit,"  \
	" coalesce(starts_at, 0), coalesce(ends_at, 0), coalesce(coupon_template_id, 0), prizes,"  \
	" active, created_at, updated_at"

static void read_reward(sqlite3_stmt *st, struct reward *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->name = db_col_dup(st, 1);
	r->kind = db_col_dup(st, 2);
	r->points_cost = sqlite3_column_int64(st, 3);
	r->has_stock = sqlite3_column_int(st, 4) != 0;
	r->stock = sqlite3_column_int64(st, 5);
	r->per_customer_limit = sqlite3_column_int64(st, 6);
	r->starts_at = sqlite3_column_int64(st, 7);
	r->ends_at = sqlite3_column_int64(st, 8);
	r->coupon_template_id = sqlite3_column_int64(st, 9);
	r->prizes = db_col_dup(st, 10);
	r->active = sqlite3_column_int(st, 11) != 0;
	r->created_at = sqlite3_column_int64(st, 12);
	r->updated_at = sqlite3_column_int64(st, 13);
}

int store_reward_get(struct store_db *db, int64_t id, struct reward *out)
{
	static const char sql[] = "SELECT " REWARD_COLS " FROM rewards WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		read_reward(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

static void bind_reward(sqlite3_stmt *st, const struct reward *r)
{
	db_bind_text(st, ":n", r->name);
	db_bind_text(st, ":k", r->kind);
	db_bind_i64(st, ":pc", r->points_cost);
	if (r->has_stock)
		db_bind_i64(st, ":s", r->stock);
	else
		db_bind_null(st, ":s");
	db_bind_i64(st, ":l", r->per_customer_limit);
	db_bind_i64(st, ":sa", r->starts_at);
	db_bind_i64(st, ":ea", r->ends_at);
	db_bind_i64(st, ":ct", r->coupon_template_id);
	db_bind_text(st, ":p", r->prizes ? r->prizes : "[]");
	db_bind_i64(st, ":a", r->active ? 1 : 0);
}

int store_reward_insert(struct store_db *db, struct reward *r)
{
	static const char sql[] =
	    "INSERT INTO rewards(name, kind, points_cost, stock, per_customer_limit, starts_at,"
	    " ends_at, coupon_template_id, prizes, active, created_at, updated_at) VALUES (:n, :k,"
	    " :pc, :s, :l, nullif(:sa, 0), nullif(:ea, 0), nullif(:ct, 0), :p, :a, :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_reward(st, r);
	db_bind_i64(st, ":t", r->created_at);
	r->updated_at = r->created_at;
	return db_insert(db, st, &r->id);
}

int store_reward_update(struct store_db *db, const struct reward *r)
{
	static const char sql[] =
	    "UPDATE rewards SET name = :n, kind = :k, points_cost = :pc, stock = :s,"
	    " per_customer_limit = :l, starts_at = nullif(:sa, 0), ends_at = nullif(:ea, 0),"
	    " coupon_template_id = nullif(:ct, 0), prizes = :p, active = :a, updated_at = :t"
	    " WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_reward(st, r);
	db_bind_i64(st, ":t", r->updated_at);
	db_bind_i64(st, ":id", r->id);
	return db_change_one(db, st);
}

int store_reward_delete(struct store_db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM rewards WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

static const char sql_reward_list[] =
    "SELECT " REWARD_COLS " FROM rewards WHERE id > :after AND (:k IS NULL OR kind = :k) AND"
    " (:a < 0 OR active = :a) ORDER BY id LIMIT :lim";
static const char sql_reward_count[] =
    "SELECT count(*) FROM rewards WHERE (:k IS NULL OR kind = :k) AND (:a < 0 OR active = :a)";

int store_reward_list(struct store_db *db, const struct reward_filter *f, int64_t after_id,
                      int limit, store_reward_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql_reward_list);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after_id);
	db_bind_text(st, ":k", f->kind);
	db_bind_i64(st, ":a", f->active);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct reward r = {0};
		read_reward(st, &r);
		cb(arg, &r);
		reward_clear(&r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_reward_count(struct store_db *db, const struct reward_filter *f)
{
	sqlite3_stmt *st = db_stmt(db, sql_reward_count);
	if (!st)
		return -1;
	db_bind_text(st, ":k", f->kind);
	db_bind_i64(st, ":a", f->active);
	return db_scalar(db, st);
}

int store_reward_take_stock(struct store_db *db, int64_t id, int64_t now)
{
	/* the condition is in the statement, so a stock can never go below zero
	 * whatever the caller checked before */
	static const char sql[] = "UPDATE rewards SET stock = stock - 1, updated_at = :now"
	                          " WHERE id = :id AND stock > 0";
	static const char sql_left[] = "SELECT stock IS NOT NULL FROM rewards WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":now", now);
	db_bind_i64(st, ":id", id);
	int rc = db_change_one(db, st);
	if (rc != ST_NOT_FOUND)
		return rc;
	if (!(st = db_stmt(db, sql_left)))
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_scalar(db, st) == 1 ? ST_CONFLICT : ST_NOT_FOUND;
}

int64_t store_rewards_using_template(struct store_db *db, int64_t template_id)
{
	static const char sql[] =
	    "SELECT count(*) FROM rewards r WHERE r.coupon_template_id = :t OR EXISTS (SELECT 1"
	    " FROM json_each(r.prizes) p WHERE json_extract(p.value, '$.coupon_template_id') = :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -1;
	db_bind_i64(st, ":t", template_id);
	return db_scalar(db, st);
}

/* Redemptions ----------------------------------------------------------------- */

int store_redemption_insert(struct store_db *db, struct redemption *r)
{
	static const char sql[] =
	    "INSERT INTO redemptions(reward_id, customer_id, points, prize, coupon_id, created_at)"
	    " VALUES (:r, :c, :p, :prize, nullif(:cp, 0), :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":r", r->reward_id);
	db_bind_i64(st, ":c", r->customer_id);
	db_bind_i64(st, ":p", r->points);
	db_bind_text(st, ":prize", r->prize);
	db_bind_i64(st, ":cp", r->coupon_id);
	db_bind_i64(st, ":t", r->created_at);
	return db_insert(db, st, &r->id);
}

int64_t store_redemption_count_by(struct store_db *db, int64_t reward_id, int64_t customer_id)
{
	static const char sql_one[] =
	    "SELECT count(*) FROM redemptions WHERE reward_id = :r AND customer_id = :c";
	static const char sql_all[] = "SELECT count(*) FROM redemptions WHERE reward_id = :r";
	sqlite3_stmt *st = db_stmt(db, customer_id ? sql_one : sql_all);
	if (!st)
		return -1;
	db_bind_i64(st, ":r", reward_id);
	if (customer_id)
		db_bind_i64(st, ":c", customer_id);
	return db_scalar(db, st);
}

#define REDEMPTION_COLS                                                                            \
	"d.id, d.reward_id, d.customer_id, d.points, d.prize, coalesce(d.coupon_id, 0),"           \
	" d.created_at, w.name, w.kind FROM redemptions d JOIN rewards w ON w.id = d.reward_id"

/* one statement per key, each served by its own index */
static const char sql_by_reward[] =
    "SELECT " REDEMPTION_COLS " WHERE d.reward_id = :k AND d.id < :before"
    " ORDER BY d.id DESC LIMIT :lim";
static const char sql_by_customer[] =
    "SELECT " REDEMPTION_COLS " WHERE d.customer_id = :k AND d.id < :before"
    " ORDER BY d.id DESC LIMIT :lim";
static const char sql_count_customer[] = "SELECT count(*) FROM redemptions WHERE customer_id = :k";

int store_redemption_list(struct store_db *db, const struct redemption_filter *f, int64_t before_id,
                          int limit, store_redemption_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, f->reward_id ? sql_by_reward : sql_by_customer);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":k", f->reward_id ? f->reward_id : f->customer_id);
	db_bind_i64(st, ":before", before_id > 0 ? before_id : INT64_MAX);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct redemption r = {
		    .id = sqlite3_column_int64(st, 0),
		    .reward_id = sqlite3_column_int64(st, 1),
		    .customer_id = sqlite3_column_int64(st, 2),
		    .points = sqlite3_column_int64(st, 3),
		    .prize = db_col_dup(st, 4),
		    .coupon_id = sqlite3_column_int64(st, 5),
		    .created_at = sqlite3_column_int64(st, 6),
		    .reward_name = db_col_dup(st, 7),
		    .reward_kind = db_col_dup(st, 8),
		};
		cb(arg, &r);
		redemption_clear(&r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_redemption_count(struct store_db *db, const struct redemption_filter *f)
{
	if (f->reward_id)
		return store_redemption_count_by(db, f->reward_id, 0);
	sqlite3_stmt *st = db_stmt(db, sql_count_customer);
	if (!st)
		return -1;
	db_bind_i64(st, ":k", f->customer_id);
	return db_scalar(db, st);
}
