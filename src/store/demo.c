/* demo.c - the bulk loader behind scrmd demo-data: all of its SQL.
 *
 * Millions of rows in one transaction. What makes it fast: one connection and a
 * handful of statements prepared once and bound by position; rows arrive in
 * primary-key order; the secondary indexes of the filled tables are dropped first
 * and rebuilt by CREATE INDEX at the end (a sort, instead of a random b-tree
 * insert per row); and on a database nobody else has open the load runs with a
 * rollback journal, so the new pages are written once instead of to the WAL and
 * again by the checkpoint. The UNIQUE (platform, external_id) of orders cannot be
 * dropped: the generator hands out external ids in ascending order per platform.
 * Nor can the keys of group_members and group_activity or the UNIQUE (order_id,
 * kind) of commissions: group members come in groups that fill one after the
 * other, and commissions in the order of their orders. */
#include "internal.h"

#include "scrm/demo.h"
#include "scrm/log.h"
#include "scrm/store_analytics.h"
#include "scrm/store_auth.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

enum {
	S_CUSTOMER,
	S_ORDER,
	S_CTAG,
	S_EVENT,
	S_USER_FIND,
	S_USER_INS,
	S_CHANNEL_FIND,
	S_CHANNEL_INS,
	S_TAG_FIND,
	S_TAG_INS,
	S_KEY_INS,
	S_GROUP_INS,
	S_MEMBER,
	S_ACTIVITY,
	S_AMB_INS,
	S_COMMISSION,
	S_N
};

struct saved_index {
	char *name, *sql;
};

struct store_demo {
	struct store_db *db;
	sqlite3_stmt *st[S_N];
	struct saved_index *idx;
	size_t nidx;
	char **triggers; /* the analytics triggers, made again after the load */
	size_t ntriggers;
	bool in_tx, wal_off;
};

/* Parameters are bound by position: each statement lists its names in order, and
 * the prepare checks that SQLite numbered them so. */
struct stmt_def {
	const char *sql;
	const char *params[24];
};

static const struct stmt_def defs[S_N] = {
    [S_CUSTOMER] = {"INSERT INTO customers(name, phone, email, unionid, gender, birthday,"
                    " birth_month, birth_day, source_channel_id, owner_user_id, stage,"
                    " order_count, total_spent_cents, first_order_at, last_order_at, attrs,"
                    " created_at, updated_at, platform_mask, category_mask)"
                    " VALUES (:name, :phone, :email, :unionid, :gender, :birthday, :bm, :bd,"
                    " :channel, :owner, :stage, :oc, :spent, :first, :last, :attrs, :created,"
                    " :updated, :pmask, :cmask)",
                    {":name", ":phone",   ":email",   ":unionid", ":gender", ":birthday", ":bm",
                     ":bd",   ":channel", ":owner",   ":stage",   ":oc",     ":spent",    ":first",
                     ":last", ":attrs",   ":created", ":updated", ":pmask",  ":cmask"}},
    [S_ORDER] = {"INSERT INTO orders(platform, external_id, customer_id, buyer_phone, amount_cents,"
                 " status, paid_at, items, bound_at, bound_by, created_at, updated_at,"
                 " referral_code) VALUES (:platform, :ext, :cid, :phone, :amount, :status, :paid,"
                 " :items, :bound_at, :bound_by, :created, :updated, :ref)",
                 {":platform", ":ext", ":cid", ":phone", ":amount", ":status", ":paid", ":items",
                  ":bound_at", ":bound_by", ":created", ":updated", ":ref"}},
    [S_CTAG] = {"INSERT INTO customer_tags(customer_id, tag_id, created_at)"
                " VALUES (:cid, :tid, :at)",
                {":cid", ":tid", ":at"}},
    [S_EVENT] = {"INSERT INTO customer_events(customer_id, at, kind, ref_type, ref_id, data)"
                 " VALUES (:cid, :at, :kind, :rt, :rid, :data)",
                 {":cid", ":at", ":kind", ":rt", ":rid", ":data"}},
    [S_USER_FIND] = {"SELECT id FROM users WHERE username = :u", {":u"}},
    [S_USER_INS] = {"INSERT INTO users(username, display_name, role, password_hash, created_at,"
                    " updated_at) VALUES (:u, :d, :r, :p, :t, :t)",
                    {":u", ":d", ":r", ":p", ":t"}},
    [S_CHANNEL_FIND] = {"SELECT id FROM channels WHERE code = :code", {":code"}},
    [S_CHANNEL_INS] = {"INSERT INTO channels(name, kind, units, cost_cents, code, contact_url,"
                       " created_at, updated_at) VALUES (:name, :kind, :units, :cost, :code, :url,"
                       " :t, :t)",
                       {":name", ":kind", ":units", ":cost", ":code", ":url", ":t"}},
    [S_TAG_FIND] = {"SELECT id FROM tags WHERE name = :name", {":name"}},
    [S_TAG_INS] = {"INSERT INTO tags(name, tag_group, color, kind, created_at, updated_at)"
                   " VALUES (:name, :grp, :color, 'manual', :t, :t)",
                   {":name", ":grp", ":color", ":t"}},
    [S_KEY_INS] =
        {"INSERT OR IGNORE INTO purchase_keys(kind, name, bit) VALUES (:kind, :name, :bit)",
         {":kind", ":name", ":bit"}},
    [S_GROUP_INS] = {"INSERT INTO groups(name, kind, owner_user_id, created_at, updated_at)"
                     " VALUES (:name, :kind, :owner, :t, :t)",
                     {":name", ":kind", ":owner", ":t"}},
    [S_MEMBER] = {"INSERT INTO group_members(group_id, customer_id, joined_at)"
                  " VALUES (:gid, :cid, :at)",
                  {":gid", ":cid", ":at"}},
    [S_ACTIVITY] = {"INSERT INTO group_activity(group_id, customer_id, at, kind)"
                    " VALUES (:gid, :cid, :at, :kind)",
                    {":gid", ":cid", ":at", ":kind"}},
    [S_AMB_INS] = {"INSERT INTO ambassadors(customer_id, level, referral_code, commission_pct,"
                   " created_at, updated_at) VALUES (:cid, :level, :code, :pct, :created,"
                   " :updated)",
                   {":cid", ":level", ":code", ":pct", ":created", ":updated"}},
    [S_COMMISSION] = {"INSERT INTO commissions(ambassador_id, order_id, kind, amount_cents,"
                      " order_cents, status, settle_at, created_at, updated_at)"
                      " VALUES (:aid, :oid, :kind, :amount, :ocents, :status, :settle, :created,"
                      " :updated)",
                      {":aid", ":oid", ":kind", ":amount", ":ocents", ":status", ":settle",
                       ":created", ":updated"}},
};

/* The tables this loader fills: their secondary indexes are rebuilt after the load. */
static const char sql_indexes[] =
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    " AND tbl_name IN ('customers', 'orders', 'customer_tags', 'customer_events', 'group_members',"
    " 'group_activity', 'commissions') ORDER BY name";
static const char sql_count[] = "SELECT count(*) FROM customers";

static int fail(struct store_demo *ld, int rc, const char *what)
{
	log_error("demo-data: %s: %s", what, sqlite3_errmsg(ld->db->h));
	return db_rc(rc) == ST_OK ? ST_ERR : db_rc(rc);
}

static int prepare_all(struct store_demo *ld)
{
	for (int i = 0; i < S_N; i++) {
		int rc = sqlite3_prepare_v3(ld->db->h, defs[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
		                            &ld->st[i], NULL);
		if (rc != SQLITE_OK)
			return fail(ld, rc, "prepare");
		int n = 0;
		while (n < (int)SCRM_ARRAY_LEN(defs[i].params) && defs[i].params[n])
			n++;
		for (int k = 0; k < n; k++) {
			if (sqlite3_bind_parameter_index(ld->st[i], defs[i].params[k]) != k + 1 ||
			    sqlite3_bind_parameter_count(ld->st[i]) != n) {
				log_error("demo-data: parameter %s out of order in %s",
				          defs[i].params[k], defs[i].sql);
				return ST_ERR;
			}
		}
	}
	return ST_OK;
}

/* Borrowed text: every statement is stepped before its caller returns. */
static void bt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bi(sqlite3_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(st, i, v);
}

/* Zero binds NULL. */
static void bz(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* Step an INSERT and reset it; *id gets the new rowid when asked for. */
static int run_insert(struct store_demo *ld, sqlite3_stmt *st, int64_t *id, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(ld, rc, what);
	if (id)
		*id = sqlite3_last_insert_rowid(ld->db->h);
	return ST_OK;
}

/* Step a one-integer query: the value, 0 for no row, -1 on error. */
static int64_t run_find(struct store_demo *ld, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st);
	if (v < 0)
		fail(ld, rc, "lookup");
	return v;
}

int64_t store_demo_customer_count(void)
{
	struct store_db *db = db_open(true);
	if (!db)
		return -1;
	int64_t n = db_scalar(db, db_stmt(db, sql_count));
	db_close(db);
	return n;
}

/* The journal mode now in force, read back from the pragma that sets it: SQLite
 * keeps WAL when another connection has the database open. */
static bool set_journal(struct store_demo *ld, const char *mode)
{
	char sql[48];
	snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", mode);
	sqlite3_stmt *st = NULL;
	bool ok = false;
	if (sqlite3_prepare_v2(ld->db->h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *now = (const char *)sqlite3_column_text(st, 0);
		ok = now && strcasecmp(now, mode) == 0;
	}
	sqlite3_finalize(st);
	return ok;
}

static int save_and_drop_indexes(struct store_demo *ld)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ld->db->h, sql_indexes, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(ld, rc, "list indexes");
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (ld->nidx == cap) {
			cap = cap ? cap * 2 : 16;
			ld->idx = xrealloc(ld->idx, cap * sizeof *ld->idx);
		}
		ld->idx[ld->nidx].name = db_col_dup(st, 0);
		ld->idx[ld->nidx].sql = db_col_dup(st, 1);
		ld->nidx++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(ld, rc, "list indexes");
	for (size_t i = 0; i < ld->nidx; i++) {
		/* names come from sqlite_master; quote them all the same */
		char *sql = sqlite3_mprintf("DROP INDEX \"%w\"", ld->idx[i].name);
		int e = db_exec(ld->db, sql);
		sqlite3_free(sql);
		if (e < 0)
			return -e;
	}
	return ST_OK;
}

static void free_loader(struct store_demo *ld)
{
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(ld->st[i]);
	for (size_t i = 0; i < ld->nidx; i++) {
		free(ld->idx[i].name);
		free(ld->idx[i].sql);
	}
	free(ld->idx);
	for (size_t i = 0; i < ld->ntriggers; i++)
		free(ld->triggers[i]);
	free(ld->triggers);
	db_close(ld->db);
	free(ld);
}

int store_demo_begin(int64_t cache_mb, struct store_demo **out)
{
	*out = NULL;
#ifdef __GLIBC__
	/* Every insert checking an IN (...) constraint (status, gender, stage) builds
	 * a small ephemeral table whose page cache is an 85 KiB malloc; freed at the
	 * top of the heap, glibc hands it back to the kernel and faults it in again
	 * on the next row, which cost a third of the load. This process is only
	 * loading now: keep freed memory. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
	struct store_demo *ld = xcalloc(1, sizeof *ld);
	ld->db = db_open(false);
	if (!ld->db) {
		free(ld);
		return ST_UNAVAILABLE;
	}
	/* A big page cache keeps the right-hand edges of every b-tree in memory; the
	 * same figure bounds the sorter of CREATE INDEX. Sort runs go to temporary
	 * files, not to memory, so that the rebuild stays within it. */
	char pragmas[160];
	snprintf(pragmas, sizeof pragmas,
	         "PRAGMA cache_size=-%lld; PRAGMA temp_store=FILE; PRAGMA threads=2;",
	         (long long)cache_mb * 1024);
	int rc = db_exec(ld->db, pragmas) < 0 ? ST_ERR : ST_OK;
	if (rc == ST_OK) {
		ld->wal_off = set_journal(ld, "delete");
		if (!ld->wal_off)
			log_info("demo-data: the database is open elsewhere; loading through"
			         " the WAL");
	}
	if (rc == ST_OK && db_exec(ld->db, "BEGIN IMMEDIATE") < 0)
		rc = ST_BUSY;
	if (rc == ST_OK) {
		ld->in_tx = true;
		int64_t n = db_scalar(ld->db, db_stmt(ld->db, sql_count));
		rc = n < 0 ? ST_ERR : n > 0 ? ST_CONFLICT : ST_OK;
	}
	if (rc == ST_OK)
		rc = prepare_all(ld);
	if (rc == ST_OK)
		rc = save_and_drop_indexes(ld);
	/* no change noting per row: the figures are worked out once at the end */
	if (rc == ST_OK)
		rc = store_analytics_triggers_drop(ld->db, &ld->triggers, &ld->ntriggers);
	if (rc != ST_OK) {
		store_demo_abort(ld);
		return rc;
	}
	*out = ld;
	return ST_OK;
}

int64_t store_demo_user_find(struct store_demo *ld, const char *username)
{
	sqlite3_stmt *st = ld->st[S_USER_FIND];
	bt(st, 1, username);
	return run_find(ld, st);
}

int store_demo_user_insert(struct store_demo *ld, const struct demo_user *u, int64_t *id)
{
	sqlite3_stmt *st = ld->st[S_USER_INS];
	bt(st, 1, u->username);
	bt(st, 2, u->display_name);
	bt(st, 3, u->role);
	bt(st, 4, u->password_hash);
	bi(st, 5, u->created_at);
	return run_insert(ld, st, id, "insert user");
}

int store_demo_channel_put(struct store_demo *ld, const struct demo_channel *c, int64_t *id)
{
	sqlite3_stmt *st = ld->st[S_CHANNEL_FIND];
	bt(st, 1, c->code);
	if ((*id = run_find(ld, st)) != 0)
		return *id > 0 ? ST_OK : ST_ERR;
	st = ld->st[S_CHANNEL_INS];
	bt(st, 1, c->name);
	bt(st, 2, c->kind);
	bi(st, 3, c->units);
	bi(st, 4, c->cost_cents);
	bt(st, 5, c->code);
	bt(st, 6, c->contact_url);
	bi(st, 7, c->created_at);
	return run_insert(ld, st, id, "insert channel");
}

int store_demo_tag_put(struct store_demo *ld, const struct demo_tag *t, int64_t *id)
{
	sqlite3_stmt *st = ld->st[S_TAG_FIND];
	bt(st, 1, t->name);
	if ((*id = run_find(ld, st)) != 0)
		return *id > 0 ? ST_OK : ST_ERR;
	st = ld->st[S_TAG_INS];
	bt(st, 1, t->name);
	bt(st, 2, t->group);
	bt(st, 3, t->color);
	bi(st, 4, t->created_at);
	return run_insert(ld, st, id, "insert tag");
}

int store_demo_customer_insert(struct store_demo *ld, const struct demo_customer *c, int64_t *id)
{
	sqlite3_stmt *st = ld->st[S_CUSTOMER];
	bt(st, 1, c->name);
	bt(st, 2, c->phone);
	bt(st, 3, c->email);
	bt(st, 4, c->unionid);
	bt(st, 5, c->gender);
	bt(st, 6, c->birthday);
	bz(st, 7, c->birth_month);
	bz(st, 8, c->birth_day);
	bz(st, 9, c->source_channel_id);
	bz(st, 10, c->owner_user_id);
	bt(st, 11, c->stage);
	bi(st, 12, c->order_count);
	bi(st, 13, c->total_spent_cents);
	bz(st, 14, c->first_order_at);
	bz(st, 15, c->last_order_at);
	bt(st, 16, c->attrs);
	bi(st, 17, c->created_at);
	bi(st, 18, c->updated_at);
	bi(st, 19, c->platform_mask);
	bi(st, 20, c->category_mask);
	return run_insert(ld, st, id, "insert customer");
}

int store_demo_purchase_key(struct store_demo *ld, const char *kind, const char *name, int bit)
{
	sqlite3_stmt *st = ld->st[S_KEY_INS];
	int64_t id;
	bt(st, 1, kind);
	bt(st, 2, name);
	bi(st, 3, bit);
	return run_insert(ld, st, &id, "insert purchase key");
}

int store_demo_order_insert(struct store_demo *ld, const struct demo_order *o, int64_t *id)
{
	sqlite3_stmt *st = ld->st[S_ORDER];
	bool bound = o->customer_id != 0;
	bt(st, 1, o->platform);
	bt(st, 2, o->external_id);
	bz(st, 3, o->customer_id);
	bt(st, 4, o->buyer_phone);
	bi(st, 5, o->amount_cents);
	bt(st, 6, o->status);
	bi(st, 7, o->paid_at);
	bt(st, 8, o->items);
	bz(st, 9, bound ? o->bound_at : 0);
	bt(st, 10, bound ? o->bound_by : NULL);
	bi(st, 11, o->created_at);
	bi(st, 12, o->updated_at);
	bt(st, 13, o->referral_code);
	return run_insert(ld, st, id, "insert order");
}

int store_demo_customer_tag_insert(struct store_demo *ld, int64_t customer_id, int64_t tag_id,
                                   int64_t at)
{
	sqlite3_stmt *st = ld->st[S_CTAG];
	bi(st, 1, customer_id);
	bi(st, 2, tag_id);
	bi(st, 3, at);
	return run_insert(ld, st, NULL, "insert customer tag");
}

int store_demo_event_insert(struct store_demo *ld, const struct demo_event *e)
{
	sqlite3_stmt *st = ld->st[S_EVENT];
	bi(st, 1, e->customer_id);
	bi(st, 2, e->at);
	bt(st, 3, e->kind);
	bt(st, 4, e->ref_type);
	bz(st, 5, e->ref_id);
	bt(st, 6, e->data);
	return run_insert(ld, st, NULL, "insert event");
}

int store_demo_group_insert(struct store_demo *ld, const struct demo_group *g, int64_t *id)
{
	sqlite3_stmt *st = ld->st[S_GROUP_INS];
	bt(st, 1, g->name);
	bt(st, 2, g->kind);
	bz(st, 3, g->owner_user_id);
	bi(st, 4, g->created_at);
	return run_insert(ld, st, id, "insert group");
}

int store_demo_group_member_insert(struct store_demo *ld, int64_t group_id, int64_t customer_id,
                                   int64_t joined_at)
{
	sqlite3_stmt *st = ld->st[S_MEMBER];
	bi(st, 1, group_id);
	bi(st, 2, customer_id);
	bi(st, 3, joined_at);
	return run_insert(ld, st, NULL, "insert group member");
}

int store_demo_group_activity_insert(struct store_demo *ld, int64_t group_id, int64_t customer_id,
                                     int64_t at, const char *kind)
{
	sqlite3_stmt *st = ld->st[S_ACTIVITY];
	bi(st, 1, group_id);
	bi(st, 2, customer_id);
	bi(st, 3, at);
	bt(st, 4, kind);
	return run_insert(ld, st, NULL, "insert group activity");
}

int store_demo_ambassador_insert(struct store_demo *ld, const struct demo_ambassador *a,
                                 int64_t *id)
{
	sqlite3_stmt *st = ld->st[S_AMB_INS];
	bi(st, 1, a->customer_id);
	bi(st, 2, a->level);
	bt(st, 3, a->referral_code);
	bi(st, 4, a->commission_pct);
	bi(st, 5, a->created_at);
	bi(st, 6, a->updated_at);
	return run_insert(ld, st, id, "insert ambassador");
}

int store_demo_commission_insert(struct store_demo *ld, const struct demo_commission *c)
{
	sqlite3_stmt *st = ld->st[S_COMMISSION];
	bi(st, 1, c->ambassador_id);
	bi(st, 2, c->order_id);
	bt(st, 3, c->kind);
	bi(st, 4, c->amount_cents);
	bi(st, 5, c->order_cents);
	bt(st, 6, c->status);
	bi(st, 7, c->settle_at);
	bi(st, 8, c->created_at);
	bi(st, 9, c->updated_at);
	return run_insert(ld, st, NULL, "insert commission");
}

/* What the daemon keeps on each ambassador, replayed from the ledger in one pass:
 * an earning adds its order to the referred orders and GMV when it is made, a
 * reversal takes it out again when it is made (updated_at of a reversed
 * earning), and every change moves updated_at. The level follows the GMV up and
 * never down (core_commission_sync), so it is the level of the highest GMV on the
 * way: 1 plus the thresholds reached among the defaults of
 * core_ambassadors_configure, 1000, 5000, 20000 and 50000 yuan. */
static const char sql_ambassadors[] =
    "WITH ev(a, t, o, n, d) AS ("
    "  SELECT ambassador_id, created_at, 2 * id, 1, order_cents FROM commissions"
    "  WHERE kind = 'earn'"
    "  UNION ALL SELECT ambassador_id, updated_at, 2 * id + 1, -1, -order_cents FROM commissions"
    "  WHERE kind = 'earn' AND status = 'reversed'),"
    " run AS (SELECT a, t, n, d, sum(d) OVER (PARTITION BY a ORDER BY t, o"
    "  ROWS UNBOUNDED PRECEDING) AS g FROM ev),"
    " k AS (SELECT a, sum(n) AS n, sum(d) AS gmv, max(g) AS peak, max(t) AS last"
    "  FROM run GROUP BY a)"
    " UPDATE ambassadors SET referred_orders = k.n, referred_gmv_cents = k.gmv,"
    "  level = max(level, 1 + (k.peak >= 100000) + (k.peak >= 500000) + (k.peak >= 2000000)"
    "   + (k.peak >= 5000000)),"
    "  updated_at = max(updated_at, k.last)"
    " FROM k WHERE ambassadors.id = k.a";

int store_demo_audit(struct store_demo *ld, const struct audit_entry *e)
{
	return store_audit_insert(ld->db, e);
}

int store_demo_commit(struct store_demo *ld, void (*note)(const char *phase))
{
	if (note)
		note("ambassadors");
	int done = db_exec(ld->db, sql_ambassadors);
	int rc = done < 0 ? -done : ST_OK;
	for (size_t i = 0; i < ld->nidx && rc == ST_OK; i++) {
		if (note) {
			char phase[160];
			snprintf(phase, sizeof phase, "index %s", ld->idx[i].name);
			note(phase);
		}
		int e = db_exec(ld->db, ld->idx[i].sql);
		rc = e < 0 ? -e : ST_OK;
	}
	if (rc == ST_OK) {
		if (note)
			note("analytics");
		rc = store_analytics_rebuild(ld->db);
		if (rc == ST_OK)
			rc = store_analytics_triggers_create(ld->db, ld->triggers, ld->ntriggers);
	}
	if (rc == ST_OK) {
		if (note)
			note("commit");
		int e = db_exec(ld->db, "COMMIT");
		rc = e < 0 ? -e : ST_OK;
		if (rc == ST_OK)
			ld->in_tx = false;
	}
	if (rc != ST_OK) {
		store_demo_abort(ld);
		return rc;
	}
	if (ld->wal_off && !set_journal(ld, "wal"))
		log_warn("demo-data: could not switch the database back to WAL; the daemon will");
	ld->wal_off = false;
	if (note)
		note("analyze");
	/* statistics for the planner, then an empty WAL; the data is committed already,
	 * so a failure here is reported but loses nothing */
	if (db_exec(ld->db, "ANALYZE") < 0 ||
	    db_exec(ld->db, "PRAGMA wal_checkpoint(TRUNCATE)") < 0)
		log_warn("demo-data: ANALYZE or the checkpoint failed; the data is stored");
	free_loader(ld);
	return ST_OK;
}

void store_demo_abort(struct store_demo *ld)
{
	if (!ld)
		return;
	/* statements first: a pending one would keep the rollback from finishing */
	for (int i = 0; i < S_N; i++) {
		sqlite3_finalize(ld->st[i]);
		ld->st[i] = NULL;
	}
	if (ld->in_tx)
		db_exec(ld->db, "ROLLBACK");
	if (ld->wal_off)
		set_journal(ld, "wal");
	free_loader(ld);
}
