/* orders.c - order rows, upserted on (platform, external_id). */
#include "internal.h"

#include "scrm/store_records.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void order_clear(struct order *o)
{
	if (!o)
		return;
	free(o->platform);
	free(o->external_id);
	free(o->buyer_phone);
	free(o->status);
	free(o->items);
	free(o->referral_code);
	free(o->bound_by);
	memset(o, 0, sizeof *o);
}

#define ORDER_COLS                                                                                 \
	"id, coalesce(customer_id, 0), platform, external_id, buyer_phone, status, items,"         \
	" referral_code, bound_by, amount_cents, paid_at, coalesce(bound_at, 0), created_at,"      \
	" updated_at"

static void read_order(sqlite3_stmt *st, struct order *o)
{
	o->id = sqlite3_column_int64(st, 0);
	o->customer_id = sqlite3_column_int64(st, 1);
	o->platform = db_col_dup(st, 2);
	o->external_id = db_col_dup(st, 3);
	o->buyer_phone = db_col_dup(st, 4);
	o->status = db_col_dup(st, 5);
	o->items = db_col_dup(st, 6);
	o->referral_code = db_col_dup(st, 7);
	o->bound_by = db_col_dup(st, 8);
	o->amount_cents = sqlite3_column_int64(st, 9);
	o->paid_at = sqlite3_column_int64(st, 10);
	o->bound_at = sqlite3_column_int64(st, 11);
	o->created_at = sqlite3_column_int64(st, 12);
	o->updated_at = sqlite3_column_int64(st, 13);
}

static int one(struct store_db *db, sqlite3_stmt *st, struct order *out)
{
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		read_order(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

static const char sql_get[] = "SELECT " ORDER_COLS " FROM orders WHERE id = :id";
static const char sql_by_key[] =
    "SELECT " ORDER_COLS " FROM orders WHERE platform = :p AND external_id = :e";
static const char sql_insert[] =
    "INSERT INTO orders(platform, external_id, customer_id, buyer_phone, amount_cents, status,"
    " paid_at, items, referral_code, bound_at, bound_by, created_at, updated_at)"
    " VALUES (:p, :e, nullif(:c, 0), :phone, :amount, :status, :paid, :items, :ref,"
    " nullif(:bound, 0), :by, :t, :t)";
static const char sql_update[] =
    "UPDATE orders SET customer_id = nullif(:c, 0), buyer_phone = :phone, amount_cents = :amount,"
    " status = :status, paid_at = :paid, items = :items, referral_code = :ref,"
    " bound_at = nullif(:bound, 0), bound_by = :by, updated_at = :t WHERE id = :id";
static const char sql_unbound_phone[] =
    "SELECT id FROM orders WHERE buyer_phone = :phone AND customer_id IS NULL ORDER BY id";

int store_order_get(struct store_db *db, int64_t id, struct order *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_get);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return one(db, st, out);
}

int store_order_by_key(struct store_db *db, const char *platform, const char *external_id,
                       struct order *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_by_key);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":p", platform);
	db_bind_text(st, ":e", external_id);
	return one(db, st, out);
}

static void bind_order(sqlite3_stmt *st, const struct order *o)
{
	db_bind_i64(st, ":c", o->customer_id);
	db_bind_text(st, ":phone", o->buyer_phone);
	db_bind_i64(st, ":amount", o->amount_cents);
	db_bind_text(st, ":status", o->status);
	db_bind_i64(st, ":paid", o->paid_at);
	db_bind_text(st, ":items", o->items ? o->items : "[]");
	db_bind_text(st, ":ref", o->referral_code);
	db_bind_i64(st, ":bound", o->bound_at);
	db_bind_text(st, ":by", o->bound_by);
}

int store_order_insert(struct store_db *db, struct order *o)
{
	sqlite3_stmt *st = db_stmt(db, sql_insert);
	if (!st)
		return ST_ERR;
	bind_order(st, o);
	db_bind_text(st, ":p", o->platform);
	db_bind_text(st, ":e", o->external_id);
	db_bind_i64(st, ":t", o->created_at);
	int rc = db_insert(db, st, &o->id);
	if (rc != ST_OK)
		return rc;
	o->updated_at = o->created_at;
	return ST_OK;
}

int store_order_update(struct store_db *db, const struct order *o)
{
	sqlite3_stmt *st = db_stmt(db, sql_update);
	if (!st)
		return ST_ERR;
	bind_order(st, o);
	db_bind_i64(st, ":t", o->updated_at);
	db_bind_i64(st, ":id", o->id);
	return db_change_one(db, st);
}

int store_orders_unbound_by_phone(struct store_db *db, const char *phone, int64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	sqlite3_stmt *st = db_stmt(db, sql_unbound_phone);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":phone", phone);
	int rc;
	size_t cap = 0;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*ids = xrealloc(*ids, cap * sizeof **ids);
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

/* Lists: WHERE from constant fragments, values bound. */
static void build_where(struct buf *b, const struct order_filter *f)
{
	buf_puts(b, " WHERE 1");
	if (f->customer_id)
		buf_puts(b, " AND customer_id = :c");
	if (f->unbound)
		buf_puts(b, " AND customer_id IS NULL");
	if (f->platform)
		buf_puts(b, " AND platform = :p");
	if (f->status)
		buf_puts(b, " AND status = :s");
}

static void bind_filter(sqlite3_stmt *st, const struct order_filter *f)
{
	if (f->customer_id)
		db_bind_i64(st, ":c", f->customer_id);
	if (f->platform)
		db_bind_text(st, ":p", f->platform);
	if (f->status)
		db_bind_text(st, ":s", f->status);
}

int store_order_list(struct store_db *db, const struct order_filter *f, int64_t before_id,
                     int limit, store_order_cb cb, void *arg)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT " ORDER_COLS " FROM orders");
	build_where(&sql, f);
	if (before_id)
		buf_puts(&sql, " AND id < :before");
	buf_puts(&sql, " ORDER BY id DESC LIMIT :lim");
	sqlite3_stmt *st = db_prepare_dynamic(db, sql.data);
	buf_clear(&sql);
	if (!st)
		return ST_ERR;
	bind_filter(st, f);
	if (before_id)
		db_bind_i64(st, ":before", before_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct order o = {0};
		read_order(st, &o);
		cb(arg, &o);
		order_clear(&o);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_order_count(struct store_db *db, const struct order_filter *f)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT count(*) FROM orders");
	build_where(&sql, f);
	sqlite3_stmt *st = db_prepare_dynamic(db, sql.data);
	buf_clear(&sql);
	if (!st)
		return -1;
	bind_filter(st, f);
	int64_t n = db_scalar(db, st);
	sqlite3_finalize(st);
	return n;
}
