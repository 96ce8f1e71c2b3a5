/* loyalty.c - settings, the points and wallet ledgers, check-ins and tiers. */
#include "internal.h"

#include "scrm/store_loyalty.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

/* Settings ------------------------------------------------------------------- */

int store_setting_get(struct store_db *db, const char *key, char **value)
{
	static const char sql[] = "SELECT value FROM settings WHERE key = :k";
	*value = NULL;
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":k", key);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		*value = db_col_dup(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

int store_setting_put(struct store_db *db, const char *key, const char *value, int64_t now)
{
	static const char sql[] = "INSERT INTO settings(key, value, updated_at) VALUES (:k, :v, :t)"
	                          " ON CONFLICT(key) DO UPDATE SET value = :v, updated_at = :t";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":k", key);
	db_bind_text(st, ":v", value);
	db_bind_i64(st, ":t", now);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

/* Ledgers ---------------------------------------------------------------------- */

static const char sql_points_add[] =
    "INSERT INTO points_ledger(customer_id, delta, reason, ref_type, ref_id, note, expires_at,"
    " remaining, shortfall, created_at) VALUES (:c, :d, :r, :rt, nullif(:ri, 0), :n,"
    " nullif(:e, 0), :rem, :sf, :t)";
static const char sql_points_bal[] =
    "UPDATE customers SET points_balance = points_balance + :d WHERE id = :c";
static const char sql_wallet_add[] =
    "INSERT INTO wallet_ledger(customer_id, delta_cents, reason, ref_type, ref_id, note,"
    " created_at) VALUES (:c, :d, :r, :rt, nullif(:ri, 0), :n, :t)";
static const char sql_wallet_bal[] =
    "UPDATE customers SET wallet_balance_cents = wallet_balance_cents + :d WHERE id = :c";

/* Insert a ledger row and move the balance with it. */
static int ledger_add(struct store_db *db, const char *ins, const char *bal,
                      const struct ledger_entry *e, int64_t *id)
{
	sqlite3_stmt *st = db_stmt(db, ins);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", e->customer_id);
	db_bind_i64(st, ":d", e->delta);
	db_bind_text(st, ":r", e->reason);
	db_bind_text(st, ":rt", e->ref_type);
	db_bind_i64(st, ":ri", e->ref_id);
	db_bind_text(st, ":n", e->note);
	db_bind_i64(st, ":t", e->created_at);
	if (sqlite3_bind_parameter_index(st, ":e")) {
		db_bind_i64(st, ":e", e->expires_at);
		db_bind_i64(st, ":rem", e->remaining);
		db_bind_i64(st, ":sf", e->shortfall);
	}
	int rc = db_insert(db, st, id);
	if (rc != ST_OK)
		return rc;
	st = db_stmt(db, bal);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":d", e->delta);
	db_bind_i64(st, ":c", e->customer_id);
	return db_change_one(db, st);
}

int store_points_add(struct store_db *db, const struct ledger_entry *e, int64_t *id)
{
	return ledger_add(db, sql_points_add, sql_points_bal, e, id);
}

int store_wallet_add(struct store_db *db, const struct ledger_entry *e, int64_t *id)
{
	return ledger_add(db, sql_wallet_add, sql_wallet_bal, e, id);
}

static int64_t customer_scalar(struct store_db *db, const char *sql, int64_t customer_id,
                               int64_t since)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -1;
	db_bind_i64(st, ":c", customer_id);
	if (sqlite3_bind_parameter_index(st, ":since"))
		db_bind_i64(st, ":since", since);
	return db_scalar(db, st);
}

int64_t store_points_balance(struct store_db *db, int64_t customer_id)
{
	static const char sql[] = "SELECT points_balance FROM customers WHERE id = :c";
	return customer_scalar(db, sql, customer_id, 0);
}

int64_t store_wallet_balance(struct store_db *db, int64_t customer_id)
{
	static const char sql[] = "SELECT wallet_balance_cents FROM customers WHERE id = :c";
	return customer_scalar(db, sql, customer_id, 0);
}

int store_points_lots(struct store_db *db, int64_t customer_id, int64_t order_id, int limit,
                      store_lot_cb cb, void *arg)
{
	/* with order_id 0 the first key is the same for every lot */
	static const char sql[] =
	    "SELECT id, remaining FROM points_ledger WHERE customer_id = :c AND remaining > 0"
	    " ORDER BY NOT (ref_type = 'order' AND ref_id = :o), expires_at IS NULL, expires_at, id"
	    " LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	db_bind_i64(st, ":o", order_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		cb(arg, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_points_order_expired(struct store_db *db, int64_t order_id)
{
	static const char sql[] =
	    "SELECT coalesce(-sum(x.delta), 0) FROM points_ledger l JOIN points_ledger x"
	    " ON x.ref_type = 'points_lot' AND x.ref_id = l.id AND x.reason = 'expire'"
	    " WHERE l.ref_type = 'order' AND l.ref_id = :c AND l.delta > 0 AND l.id > coalesce(("
	    "  SELECT max(id) FROM points_ledger WHERE ref_type = 'order' AND ref_id = :c AND"
	    "  reason = 'refund'), 0)";
	return customer_scalar(db, sql, order_id, 0);
}

int store_points_lot_set(struct store_db *db, int64_t id, int64_t remaining)
{
	static const char sql[] = "UPDATE points_ledger SET remaining = :r WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":r", remaining);
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int64_t store_points_order_net(struct store_db *db, int64_t order_id)
{
	static const char sql[] =
	    "SELECT coalesce(sum(delta - shortfall), 0) FROM points_ledger WHERE ref_type = 'order'"
	    " AND ref_id = :c AND (reason = 'order' OR reason = 'bind_bonus' OR reason = 'refund')";
	return customer_scalar(db, sql, order_id, 0);
}

int64_t store_points_earned_since(struct store_db *db, int64_t customer_id, int64_t since)
{
	static const char sql[] =
	    "SELECT coalesce(sum(delta - shortfall), 0) FROM points_ledger WHERE"
	    " customer_id = :c AND created_at >= :since AND"
	    " (delta > 0 OR (reason = 'refund' AND ref_type = 'order'))";
	return customer_scalar(db, sql, customer_id, since);
}

int64_t store_spent_since(struct store_db *db, int64_t customer_id, int64_t since)
{
	static const char sql[] =
	    "SELECT coalesce(sum(amount_cents), 0) FROM orders WHERE customer_id = :c AND"
	    " paid_at >= :since AND status = 'paid'";
	return customer_scalar(db, sql, customer_id, since);
}

static int ledger_list(struct store_db *db, const char *sql, int64_t customer_id, int64_t before_id,
                       int limit, store_ledger_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	db_bind_i64(st, ":before", before_id);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct ledger_entry e = {
		    .id = sqlite3_column_int64(st, 0),
		    .customer_id = customer_id,
		    .delta = sqlite3_column_int64(st, 1),
		    .reason = (const char *)sqlite3_column_text(st, 2),
		    .ref_type = (const char *)sqlite3_column_text(st, 3),
		    .ref_id = sqlite3_column_int64(st, 4),
		    .note = (const char *)sqlite3_column_text(st, 5),
		    .expires_at = sqlite3_column_int64(st, 6),
		    .remaining = sqlite3_column_int64(st, 7),
		    .shortfall = sqlite3_column_int64(st, 8),
		    .created_at = sqlite3_column_int64(st, 9),
		};
		cb(arg, &e);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int store_points_list(struct store_db *db, int64_t customer_id, int64_t before_id, int limit,
                      store_ledger_cb cb, void *arg)
{
	static const char sql[] =
	    "SELECT id, delta, reason, ref_type, coalesce(ref_id, 0), note, coalesce(expires_at, "
	    "0),"
	    " remaining, shortfall, created_at FROM points_ledger WHERE customer_id = :c AND"
	    " (:before = 0 OR id < :before) ORDER BY id DESC LIMIT :lim";
	return ledger_list(db, sql, customer_id, before_id, limit, cb, arg);
}

int store_wallet_list(struct store_db *db, int64_t customer_id, int64_t before_id, int limit,
                      store_ledger_cb cb, void *arg)
{
	static const char sql[] =
	    "SELECT id, delta_cents, reason, ref_type, coalesce(ref_id, 0), note, 0, 0, 0, "
	    "created_at"
	    " FROM wallet_ledger WHERE customer_id = :c AND (:before = 0 OR id < :before)"
	    " ORDER BY id DESC LIMIT :lim";
	return ledger_list(db, sql, customer_id, before_id, limit, cb, arg);
}

int store_points_expire_due(struct store_db *db, int64_t now, int64_t *count, int64_t *points)
{
	/* the order matters: balances and expire rows are computed from the lots
	 * before they are emptied */
	static const char *const steps[] = {
	    "CREATE TEMP TABLE IF NOT EXISTS expiring(id INTEGER PRIMARY KEY, customer_id INTEGER,"
	    " remaining INTEGER)",
	    "CREATE INDEX IF NOT EXISTS temp.expiring_customer ON expiring(customer_id)",
	    "DELETE FROM temp.expiring",
	    "INSERT INTO temp.expiring SELECT id, customer_id, remaining FROM points_ledger"
	    " WHERE expires_at <= :now AND remaining > 0 AND expires_at IS NOT NULL",
	    "INSERT INTO points_ledger(customer_id, delta, reason, ref_type, ref_id, created_at)"
	    " SELECT customer_id, -remaining, 'expire', 'points_lot', id, :now FROM temp.expiring",
	    "UPDATE customers SET points_balance = points_balance - (SELECT sum(remaining) FROM"
	    " temp.expiring x WHERE x.customer_id = customers.id) WHERE id IN"
	    " (SELECT customer_id FROM temp.expiring)",
	    "UPDATE points_ledger SET remaining = 0 WHERE id IN (SELECT id FROM temp.expiring)",
	    /* one timeline entry per customer, like every other points change */
	    "INSERT INTO customer_events(customer_id, at, kind, data)"
	    " SELECT x.customer_id, :now, 'points.changed', json_object('delta', -sum(x.remaining),"
	    " 'reason', 'expire', 'balance', c.points_balance) FROM temp.expiring x"
	    " JOIN customers c ON c.id = x.customer_id GROUP BY x.customer_id",
	};
	*count = *points = 0;
	for (size_t i = 0; i < SCRM_ARRAY_LEN(steps); i++) {
		sqlite3_stmt *st = db_stmt(db, steps[i]);
		if (!st)
			return ST_ERR;
		if (sqlite3_bind_parameter_index(st, ":now"))
			db_bind_i64(st, ":now", now);
		int rc = db_run(db, st);
		if (rc < 0)
			return -rc;
		if (i == 3) {
			sqlite3_stmt *q = db_stmt(db, "SELECT count(*), coalesce(sum(remaining), 0)"
			                              " FROM temp.expiring");
			if (q && db_step(db, q) == SQLITE_ROW) {
				*count = sqlite3_column_int64(q, 0);
				*points = sqlite3_column_int64(q, 1);
			}
			if (q)
				sqlite3_reset(q);
		}
	}
	return ST_OK;
}

/* Content ----------------------------------------------------------------------- */

int store_content_add(struct store_db *db, int64_t customer_id, const char *kind, int64_t order_id,
                      const char *url, const char *note, int64_t points, int64_t now, int64_t *id)
{
	static const char sql[] = "INSERT INTO content(customer_id, kind, order_id, url, note, "
	                          "points_awarded, created_at)"
	                          " VALUES (:c, :k, nullif(:o, 0), :u, :n, :p, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	db_bind_text(st, ":k", kind);
	db_bind_i64(st, ":o", order_id);
	db_bind_text(st, ":u", url);
	db_bind_text(st, ":n", note);
	db_bind_i64(st, ":p", points);
	db_bind_i64(st, ":t", now);
	return db_insert(db, st, id);
}

bool store_content_review_paid(struct store_db *db, int64_t order_id)
{
	static const char sql[] = "SELECT count(*) FROM content WHERE order_id = :c AND"
	                          " kind = 'review' AND points_awarded > 0";
	return customer_scalar(db, sql, order_id, 0) > 0;
}

/* Check-ins --------------------------------------------------------------------- */

int store_checkin_last(struct store_db *db, int64_t customer_id, int64_t *day, int *streak)
{
	static const char sql[] = "SELECT day, streak FROM checkins WHERE customer_id = :c"
	                          " ORDER BY day DESC LIMIT 1";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW) {
		*day = sqlite3_column_int64(st, 0);
		*streak = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

int store_checkin_add(struct store_db *db, int64_t customer_id, int64_t day, int streak,
                      int64_t points, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO checkins(customer_id, day, streak, points, created_at)"
	    " VALUES (:c, :d, :s, :p, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	db_bind_i64(st, ":d", day);
	db_bind_i64(st, ":s", streak);
	db_bind_i64(st, ":p", points);
	db_bind_i64(st, ":t", now);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

/* Tiers -------------------------------------------------------------------------- */

void tier_clear(struct tier *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->basis);
	free(t->perks);
	memset(t, 0, sizeof *t);
}

#define TIER_COLS "id, name, basis, threshold, rank, discount_pct, perks, created_at, updated_at"

static void read_tier(sqlite3_stmt *st, struct tier *t)
{
	t->id = sqlite3_column_int64(st, 0);
	t->name = db_col_dup(st, 1);
	t->basis = db_col_dup(st, 2);
	t->threshold = sqlite3_column_int64(st, 3);
	t->rank = sqlite3_column_int64(st, 4);
	t->discount_pct = sqlite3_column_int64(st, 5);
	t->perks = db_col_dup(st, 6);
	t->created_at = sqlite3_column_int64(st, 7);
	t->updated_at = sqlite3_column_int64(st, 8);
}

int store_tier_get(struct store_db *db, int64_t id, struct tier *out)
{
	static const char sql[] = "SELECT " TIER_COLS " FROM tiers WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		read_tier(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

static void bind_tier(sqlite3_stmt *st, const struct tier *t)
{
	db_bind_text(st, ":n", t->name);
	db_bind_text(st, ":b", t->basis);
	db_bind_i64(st, ":th", t->threshold);
	db_bind_i64(st, ":rk", t->rank);
	db_bind_i64(st, ":dp", t->discount_pct);
	db_bind_text(st, ":p", t->perks ? t->perks : "[]");
}

int store_tier_insert(struct store_db *db, struct tier *t)
{
	static const char sql[] =
	    "INSERT INTO tiers(name, basis, threshold, rank, discount_pct, perks, created_at,"
	    " updated_at) VALUES (:n, :b, :th, :rk, :dp, :p, :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_tier(st, t);
	db_bind_i64(st, ":t", t->created_at);
	t->updated_at = t->created_at;
	return db_insert(db, st, &t->id);
}

int store_tier_update(struct store_db *db, const struct tier *t)
{
	static const char sql[] =
	    "UPDATE tiers SET name = :n, basis = :b, threshold = :th, rank = :rk,"
	    " discount_pct = :dp, perks = :p, updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_tier(st, t);
	db_bind_i64(st, ":t", t->updated_at);
	db_bind_i64(st, ":id", t->id);
	return db_change_one(db, st);
}

int store_tier_delete(struct store_db *db, int64_t id)
{
	/* an override of the tier ends with it (the foreign key clears the id,
	 * and its end date must go too) */
	static const char end[] = "UPDATE customers SET tier_override_until = NULL"
	                          " WHERE tier_override_id = :id";
	static const char sql[] = "DELETE FROM tiers WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, end);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	int rc = db_run(db, st);
	if (rc < 0)
		return -rc;
	st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int store_tiers_all(struct store_db *db, struct tier **out, size_t *n)
{
	static const char sql[] = "SELECT " TIER_COLS " FROM tiers ORDER BY rank DESC, id";
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		memset(&(*out)[*n], 0, sizeof **out);
		read_tier(st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

void store_tiers_free(struct tier *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tier_clear(&t[i]);
	free(t);
}

int64_t store_tier_next_rank(struct store_db *db)
{
	static const char sql[] = "SELECT coalesce(max(rank), 0) + 1 FROM tiers";
	return db_scalar(db, db_stmt(db, sql));
}

int store_customer_tier_get(struct store_db *db, int64_t customer_id, struct customer_tier *out)
{
	static const char sql[] = "SELECT coalesce(tier_id, 0), coalesce(tier_override_id, 0),"
	                          " coalesce(tier_override_until, 0) FROM customers WHERE id = :c";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":c", customer_id);
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW) {
		out->tier_id = sqlite3_column_int64(st, 0);
		out->override_id = sqlite3_column_int64(st, 1);
		out->override_until = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

int store_customer_tier_set(struct store_db *db, int64_t customer_id, const struct customer_tier *t,
                            int64_t now)
{
	static const char sql[] =
	    "UPDATE customers SET tier_id = nullif(:t, 0), tier_override_id = nullif(:o, 0),"
	    " tier_override_until = nullif(:u, 0), updated_at = :now WHERE id = :c";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":t", t->tier_id);
	db_bind_i64(st, ":o", t->override_id);
	db_bind_i64(st, ":u", t->override_until);
	db_bind_i64(st, ":now", now);
	db_bind_i64(st, ":c", customer_id);
	return db_change_one(db, st);
}

int64_t store_customer_max_id(struct store_db *db)
{
	return db_scalar(db, db_stmt(db, "SELECT coalesce(max(id), 0) FROM customers"));
}

int store_tier_scan(struct store_db *db, int64_t from, int64_t to, int64_t since, bool want_spent,
                    bool want_points, store_tier_row_cb cb, void *arg)
{
	/* one statement for each combination, so SQLite never computes a sum that
	 * no tier needs */
	static const char *const sqls[4] = {
	    "SELECT id, coalesce(tier_id, 0), coalesce(tier_override_id, 0),"
	    " coalesce(tier_override_until, 0), 0, 0 FROM customers WHERE id >= :a AND id < :b"
	    " AND erased_at IS NULL",
	    "SELECT c.id, coalesce(c.tier_id, 0), coalesce(c.tier_override_id, 0),"
	    " coalesce(c.tier_override_until, 0), (SELECT coalesce(sum(amount_cents), 0) FROM "
	    "orders o"
	    " WHERE o.customer_id = c.id AND o.paid_at >= :since AND o.status = 'paid'), 0"
	    " FROM customers c WHERE c.id >= :a AND c.id < :b AND c.erased_at IS NULL",
	    "SELECT c.id, coalesce(c.tier_id, 0), coalesce(c.tier_override_id, 0),"
	    " coalesce(c.tier_override_until, 0), 0, (SELECT coalesce(sum(delta - shortfall), 0) "
	    "FROM"
	    " points_ledger p WHERE p.customer_id = c.id AND p.created_at >= :since AND"
	    " (p.delta > 0 OR (p.reason = 'refund' AND p.ref_type = 'order'))) FROM customers c"
	    " WHERE c.id >= :a AND c.id < :b"
	    " AND c.erased_at IS NULL",
	    "SELECT c.id, coalesce(c.tier_id, 0), coalesce(c.tier_override_id, 0),"
	    " coalesce(c.tier_override_until, 0), (SELECT coalesce(sum(amount_cents), 0) FROM "
	    "orders o"
	    " WHERE o.customer_id = c.id AND o.paid_at >= :since AND o.status = 'paid'),"
	    " (SELECT coalesce(sum(delta - shortfall), 0) FROM points_ledger p WHERE"
	    " p.customer_id = c.id AND p.created_at >= :since AND (p.delta > 0 OR"
	    " (p.reason = 'refund' AND p.ref_type = 'order'))) FROM customers c"
	    " WHERE c.id >= :a AND c.id < :b AND c.erased_at IS NULL",
	};
	sqlite3_stmt *st = db_stmt(db, sqls[(want_spent ? 1 : 0) + (want_points ? 2 : 0)]);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":a", from);
	db_bind_i64(st, ":b", to);
	if (sqlite3_bind_parameter_index(st, ":since"))
		db_bind_i64(st, ":since", since);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct customer_tier t = {sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
		                          sqlite3_column_int64(st, 3)};
		cb(arg, sqlite3_column_int64(st, 0), &t, sqlite3_column_int64(st, 4),
		   sqlite3_column_int64(st, 5));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}
