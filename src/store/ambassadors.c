/* ambassadors.c - KOC ambassadors and the commission ledger. */
#include "internal.h"

#include "scrm/store_ambassadors.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void ambassador_clear(struct ambassador *a)
{
	if (!a)
		return;
	free(a->referral_code);
	memset(a, 0, sizeof *a);
}

#define AMB_COLS                                                                                   \
	"a.id, a.customer_id, a.level, a.referral_code, a.commission_pct, a.referred_orders,"      \
	" a.referred_gmv_cents, a.created_at, a.updated_at,"                                       \
	" (SELECT count(DISTINCT o.customer_id) FROM commissions k JOIN orders o"                  \
	" ON o.id = k.order_id WHERE k.ambassador_id = a.id AND " ACTIVE_EARN                      \
	" AND o.customer_id IS NOT NULL),"                                                         \
	" (SELECT coalesce(sum(amount_cents), 0) FROM commissions k WHERE k.ambassador_id = a.id"  \
	" AND k.status = 'pending'),"                                                              \
	" (SELECT coalesce(sum(amount_cents), 0) FROM commissions k WHERE k.ambassador_id = a.id"  \
	" AND k.status = 'settled')"

static void read_amb(sqlite3_stmt *st, void *out)
{
	struct ambassador *a = out;
	a->id = sqlite3_column_int64(st, 0);
	a->customer_id = sqlite3_column_int64(st, 1);
	a->level = sqlite3_column_int64(st, 2);
	a->referral_code = db_col_dup(st, 3);
	a->commission_pct = sqlite3_column_int64(st, 4);
	a->referred_orders = sqlite3_column_int64(st, 5);
	a->referred_gmv_cents = sqlite3_column_int64(st, 6);
	a->created_at = sqlite3_column_int64(st, 7);
	a->updated_at = sqlite3_column_int64(st, 8);
	a->referred_customers = sqlite3_column_int64(st, 9);
	a->pending_cents = sqlite3_column_int64(st, 10);
	a->settled_cents = sqlite3_column_int64(st, 11);
}

int store_ambassador_insert(struct store_db *db, struct ambassador *a)
{
	static const char sql[] =
	    "INSERT INTO ambassadors(customer_id, level, referral_code, commission_pct, created_at,"
	    " updated_at) VALUES (:c, :lv, :code, :pct, :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", a->customer_id);
	db_bind_i64(st, ":lv", a->level);
	db_bind_text(st, ":code", a->referral_code);
	db_bind_i64(st, ":pct", a->commission_pct);
	db_bind_i64(st, ":t", a->created_at);
	a->updated_at = a->created_at;
	return db_insert(db, st, &a->id);
}

int store_ambassador_update(struct store_db *db, const struct ambassador *a)
{
	static const char sql[] = "UPDATE ambassadors SET level = :lv, referral_code = :code,"
	                          " commission_pct = :pct, updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":lv", a->level);
	db_bind_text(st, ":code", a->referral_code);
	db_bind_i64(st, ":pct", a->commission_pct);
	db_bind_i64(st, ":t", a->updated_at);
	db_bind_i64(st, ":id", a->id);
	return db_change_one(db, st);
}

static int get_amb(struct store_db *db, sqlite3_stmt *st, struct ambassador *out)
{
	return db_one(db, st, read_amb, out);
}

int store_ambassador_get(struct store_db *db, int64_t id, struct ambassador *out)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT " AMB_COLS " FROM ambassadors a WHERE a.id = :id");
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return get_amb(db, st, out);
}

int store_ambassador_by_code(struct store_db *db, const char *code, struct ambassador *out)
{
	sqlite3_stmt *st =
	    db_stmt(db, "SELECT " AMB_COLS " FROM ambassadors a WHERE a.referral_code = :code");
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":code", code);
	return get_amb(db, st, out);
}

int64_t store_ambassador_id_of(struct store_db *db, int64_t customer_id)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT coalesce(max(id), 0) FROM ambassadors"
	                               " WHERE customer_id = :c");
	if (!st)
		return -1;
	db_bind_i64(st, ":c", customer_id);
	return db_scalar(db, st);
}

int store_ambassador_list(struct store_db *db, int64_t after, int limit, store_ambassador_cb cb,
                          void *arg)
{
	static const char sql[] =
	    "SELECT " AMB_COLS " FROM ambassadors a WHERE a.id > :after ORDER BY a.id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct ambassador a = {0};
		read_amb(st, &a);
		cb(arg, &a);
		ambassador_clear(&a);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_ambassador_total(struct store_db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM ambassadors");
	return st ? db_scalar(db, st) : -1;
}

int store_ambassador_add_referred(struct store_db *db, int64_t id, int64_t orders, int64_t gmv,
                                  int64_t level, int64_t now)
{
	static const char sql[] =
	    "UPDATE ambassadors SET referred_orders = referred_orders + :n,"
	    " referred_gmv_cents = referred_gmv_cents + :gmv, level = max(level, :lv),"
	    " updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":n", orders);
	db_bind_i64(st, ":gmv", gmv);
	db_bind_i64(st, ":lv", level);
	db_bind_i64(st, ":t", now);
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

/* Commissions ----------------------------------------------------------------------------- */

void commission_clear(struct commission *c)
{
	if (!c)
		return;
	free(c->kind);
	free(c->status);
	memset(c, 0, sizeof *c);
}

#define COM_COLS                                                                                   \
	"id, ambassador_id, order_id, kind, amount_cents, order_cents, status, settle_at,"         \
	" created_at, updated_at"

static void read_com(sqlite3_stmt *st, void *out)
{
	struct commission *c = out;
	c->id = sqlite3_column_int64(st, 0);
	c->ambassador_id = sqlite3_column_int64(st, 1);
	c->order_id = sqlite3_column_int64(st, 2);
	c->kind = db_col_dup(st, 3);
	c->amount_cents = sqlite3_column_int64(st, 4);
	c->order_cents = sqlite3_column_int64(st, 5);
	c->status = db_col_dup(st, 6);
	c->settle_at = sqlite3_column_int64(st, 7);
	c->created_at = sqlite3_column_int64(st, 8);
	c->updated_at = sqlite3_column_int64(st, 9);
}

int store_commission_insert(struct store_db *db, struct commission *c)
{
	static const char sql[] =
	    "INSERT INTO commissions(ambassador_id, order_id, kind, amount_cents, order_cents,"
	    " status, settle_at, created_at, updated_at) VALUES (:a, :o, :k, :amt, :oc, :s, :at,"
	    " :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":a", c->ambassador_id);
	db_bind_i64(st, ":o", c->order_id);
	db_bind_text(st, ":k", c->kind);
	db_bind_i64(st, ":amt", c->amount_cents);
	db_bind_i64(st, ":oc", c->order_cents);
	db_bind_text(st, ":s", c->status);
	db_bind_i64(st, ":at", c->settle_at);
	db_bind_i64(st, ":t", c->created_at);
	c->updated_at = c->created_at;
	return db_insert(db, st, &c->id);
}

int store_commission_of_order(struct store_db *db, int64_t order_id, const char *kind,
                              struct commission *out)
{
	static const char sql[] =
	    "SELECT " COM_COLS " FROM commissions WHERE order_id = :o AND kind = :k";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":o", order_id);
	db_bind_text(st, ":k", kind);
	return db_one(db, st, read_com, out);
}

int store_commission_set_status(struct store_db *db, int64_t id, const char *status, int64_t now)
{
	static const char sql[] =
	    "UPDATE commissions SET status = :s, updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":s", status);
	db_bind_i64(st, ":t", now);
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int store_commissions_settle_due(struct store_db *db, int64_t now, int64_t *count)
{
	static const char sql[] = "UPDATE commissions SET status = 'settled', updated_at = :t"
	                          " WHERE status = 'pending' AND settle_at <= :t";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":t", now);
	int rc = db_run(db, st);
	if (rc < 0)
		return -rc;
	*count = sqlite3_changes(db->h);
	return ST_OK;
}

int store_commission_list(struct store_db *db, int64_t ambassador_id, int64_t before, int limit,
                          store_commission_cb cb, void *arg)
{
	static const char sql[] = "SELECT " COM_COLS " FROM commissions WHERE ambassador_id = :a"
	                          " AND id < :before ORDER BY id DESC LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":a", ambassador_id);
	db_bind_i64(st, ":before", before > 0 ? before : INT64_MAX);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct commission c = {0};
		read_com(st, &c);
		cb(arg, &c);
		commission_clear(&c);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_commission_total(struct store_db *db, int64_t ambassador_id)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM commissions WHERE ambassador_id = :a");
	if (!st)
		return -1;
	db_bind_i64(st, ":a", ambassador_id);
	return db_scalar(db, st);
}

int store_commission_own_orders(struct store_db *db, int64_t customer_id,
                                void (*cb)(void *arg, int64_t order_id), void *arg)
{
	static const char sql[] =
	    "SELECT k.order_id FROM ambassadors a JOIN commissions k ON k.ambassador_id = a.id"
	    " JOIN orders o ON o.id = k.order_id WHERE a.customer_id = :c AND o.customer_id = :c"
	    " AND k.kind = 'earn' AND k.status IN ('pending', 'settled') ORDER BY k.order_id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		cb(arg, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int store_ambassador_referrals(struct store_db *db, const char *code, int64_t after, int limit,
                               void (*cb)(void *arg, int64_t customer_id, const char *name,
                                          int64_t orders, int64_t gmv_cents),
                               void *arg)
{
	static const char sql[] =
	    "SELECT o.customer_id, c.name, count(*), sum(k.order_cents) FROM commissions k"
	    " JOIN orders o ON o.id = k.order_id JOIN customers c ON c.id = o.customer_id"
	    " WHERE k.ambassador_id = (SELECT id FROM ambassadors WHERE referral_code = :code)"
	    " AND " ACTIVE_EARN " AND o.customer_id > :after"
	    " GROUP BY o.customer_id ORDER BY o.customer_id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":code", code);
	db_bind_i64(st, ":after", after);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		cb(arg, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		   sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}
