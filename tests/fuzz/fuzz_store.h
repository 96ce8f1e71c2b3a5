/* fuzz_store.h - shared by the harnesses that go through the store (fuzz_body,
 * fuzz_import, fuzz_template): the daemon's own database, migrated, in a fresh
 * temporary directory (the store opens one connection per thread, so it cannot
 * be ":memory:"), with its writer thread, a little seed data, the API set up
 * with the default configuration as src/main.c sets it up (the auto-tag hooks
 * of the writer, the ambassador levels), and an admin principal. The directory is
 * removed at exit; a crash leaves it in /tmp/scrmd-fuzz-*.
 *
 * fuzz_store_hash() hashes the database's content (read through a connection
 * of our own, again only after PRAGMA data_version says some other connection
 * committed), so a rejected request can be shown to have changed nothing. */
#ifndef SCRM_FUZZ_STORE_H
#define SCRM_FUZZ_STORE_H

#include "fuzz_die.h"
#include "../../src/store/internal.h"
#include "scrm/api.h"
#include "scrm/config.h"
#include "scrm/core_ambassadors.h"
#include "scrm/core_segments.h"
#include "scrm/log.h"
#include "scrm/http_auth.h"
#include "scrm/store.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAYBE_UNUSED __attribute__((unused))

#ifndef FUZZ_MIGRATIONS
#define FUZZ_MIGRATIONS "migrations"
#endif

#define FUZZ_STORE_DIE FUZZ_DIE

static struct scrm_config fuzz_cfg;
static struct principal fuzz_admin;
static char fuzz_dir[64];
static sqlite3 *fuzz_watch; /* our own connection, for data_version */

/* 2026-02-28 23:30 in Shanghai: the seed data's "now" */
#define FUZZ_NOW 1772292600

static const char fuzz_seed_sql[] =
    "INSERT INTO users(id, username, display_name, role, password_hash, created_at, updated_at)"
    " VALUES (1, 'admin', 'Admin', 'admin', 'x', 0, 0), (2, 'op', '', 'operator', 'x', 0, 0);"
    "INSERT INTO channels(id, name, kind, code, created_at, updated_at)"
    " VALUES (1, 'cards', 'package_card', 'CARD1', 0, 0);"
    "INSERT INTO tiers(id, name, basis, threshold, rank, created_at, updated_at)"
    " VALUES (1, 'gold', 'points', 1000, 1, 0, 0);"
    "INSERT INTO tags(id, name, created_at, updated_at) VALUES (1, 'vip', 0, 0),"
    " (2, 'O''Brien; --', 0, 0);"
    "INSERT INTO groups(id, name, created_at, updated_at) VALUES (1, 'g', 0, 0);"
    /* balances and order figures are zero here: they come from the ledgers and
     * orders, which fuzz_store_open() makes through the handlers */
    "INSERT INTO customers(id, name, phone, unionid, gender, birthday, birth_month, birth_day,"
    " stage, attrs, created_at, updated_at, tier_id, source_channel_id, owner_user_id) VALUES"
    " (1, 'Alice 王', '13800138000', 'u-alice', 'f', '--02-29', 2, 29, 'converted',"
    "  '{\"city\":\"杭州\"}', 1600000000, 0, 1, 1, 1),"
    " (2, NULL, NULL, 'u-2', 'u', NULL, NULL, NULL, 'added', '{}', 1772290000, 0, NULL, NULL,"
    "  NULL),"
    " (3, 'Bob \"{{name}}\"', '+1 555 0100', NULL, 'm', '1990-12-31', 12, 31, 'repurchasing',"
    "  '{}', 0, 0, NULL, NULL, NULL);"
    "INSERT INTO customer_tags(customer_id, tag_id, created_at) VALUES (1, 1, 0);"
    "INSERT INTO group_members(group_id, customer_id, joined_at) VALUES (1, 3, 0);"
    "INSERT INTO coupon_templates(id, name, kind, valid_days, created_at, updated_at)"
    " VALUES (1, 'ten off', 'gift', 30, 0, 0);"
    "INSERT INTO coupons(id, customer_id, template_id, code, source, issued_at, expires_at,"
    " created_at, updated_at) VALUES (1, 1, 1, 'COUPON-A', 'manual', 0, 1772380799, 0, 0),"
    " (2, 3, 1, 'COUPON-B', 'manual', 0, 1709222399, 0, 0);"
    "INSERT INTO message_channels(id, name, kind, created_at, updated_at)"
    " VALUES (1, 'log', 'log', 0, 0);";

static int fuzz_seed_fn(struct store_db *db, void *ctx)
{
	(void)ctx;
	return db_exec(db, fuzz_seed_sql) < 0 ? -ST_ERR : 0;
}

/* A write through its handler, as a client would make it; it must succeed. */
static void fuzz_seed_call(api_handler fn, const char *param, const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	struct req rq = {.method = "POST",
	                 .path = "/seed",
	                 .params = {param},
	                 .body = j,
	                 .raw_body = body,
	                 .raw_len = strlen(body),
	                 .body_fd = -1,
	                 .who = &fuzz_admin,
	                 .ip = "127.0.0.1"};
	struct resp rs = {0};
	int st = fn(&rq, &rs);
	if (st < 200 || st > 299) {
		char *t = rs.body ? json_dumps(rs.body, 0) : NULL;
		FUZZ_STORE_DIE("seeding %s: %d %s", body, st, t ? t : "");
	}
	http_resp_clear(&rs);
	json_decref(j);
}

static void fuzz_store_cleanup(void)
{
	if (fuzz_watch)
		sqlite3_close(fuzz_watch);
	fuzz_watch = NULL;
	store_shutdown();
	if (fuzz_dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
	}
}

static void fuzz_store_open(void)
{
	if (time_set_zone("Asia/Shanghai") < 0)
		FUZZ_STORE_DIE("no Asia/Shanghai in /usr/share/zoneinfo (install tzdata)");
	snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/scrmd-fuzz-XXXXXX");
	if (!mkdtemp(fuzz_dir))
		FUZZ_STORE_DIE("mkdtemp failed");
	char path[128];
	snprintf(path, sizeof path, "%s/scrm.db", fuzz_dir);
	const char *mig = getenv("SCRM_MIGRATIONS");
	struct store_opts o = {.path = path,
	                       .migrations_dir = mig && *mig ? mig : FUZZ_MIGRATIONS,
	                       .sync_full = false,
	                       .busy_timeout_ms = 5000,
	                       .cache_mb = 8,
	                       .batch_max = 64};
	/* as src/main.c starts the daemon (quieter: a warning per refusal) */
	log_set_level(getenv("FUZZ_VERBOSE") ? LOG_INFO : LOG_ERROR);
	config_defaults(&fuzz_cfg);
	core_segments_init();
	if (core_ambassadors_configure(fuzz_cfg.commission_return_days,
	                               fuzz_cfg.ambassador_levels) < 0)
		FUZZ_STORE_DIE("the default ambassador levels are refused");
	api_init(&fuzz_cfg);
	if (store_init(&o) < 0 || store_writer_start() < 0)
		FUZZ_STORE_DIE("cannot open the store in %s (set SCRM_MIGRATIONS?)", fuzz_dir);
	atexit(fuzz_store_cleanup);
	if (store_write(fuzz_seed_fn, NULL) != 0)
		FUZZ_STORE_DIE("the seed data does not fit the schema");
	http_principal_user(&fuzz_admin, 1, "admin", "admin", 0, NULL);
	time_set_offset(FUZZ_NOW - time_now());
	/* customer 1 has orders, points and money; the others have none */
	fuzz_seed_call(
	    api_orders_upsert, NULL,
	    "{\"platform\":\"tmall\",\"external_id\":\"T-seed-1\",\"customer_id\":1,"
	    "\"amount_cents\":12900,\"status\":\"paid\",\"paid_at\":\"2026-02-01T10:00:00Z\","
	    "\"items\":[{\"sku\":\"A1\",\"name\":\"tea\",\"category\":\"tea\","
	    "\"quantity\":2,\"price_cents\":6450}]}");
	fuzz_seed_call(
	    api_orders_upsert, NULL,
	    "{\"platform\":\"jd\",\"external_id\":\"J-seed-1\",\"customer_id\":1,"
	    "\"amount_cents\":500,\"status\":\"paid\",\"paid_at\":\"2026-02-20T09:00:00+08:00\"}");
	fuzz_seed_call(api_points_post, "1", "{\"delta\":1200,\"reason\":\"seed\"}");
	fuzz_seed_call(api_wallet_post, "1", "{\"delta_cents\":1999,\"reason\":\"topup\"}");
	if (sqlite3_open_v2(path, &fuzz_watch, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		FUZZ_STORE_DIE("cannot open %s", path);
}

FUZZ_MAYBE_UNUSED static int64_t fuzz_store_version(void)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(fuzz_watch, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		FUZZ_STORE_DIE("PRAGMA data_version: %s", sqlite3_errmsg(fuzz_watch));
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

FUZZ_MAYBE_UNUSED static uint64_t fuzz_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* A hash of every row of every table, in rowid order. */
FUZZ_MAYBE_UNUSED static uint64_t fuzz_store_hash_now(void)
{
	uint64_t h = 0xcbf29ce484222325ull;
	sqlite3_stmt *tables = NULL;
	if (sqlite3_prepare_v2(fuzz_watch,
	                       "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
	                       -1, &tables, NULL) != SQLITE_OK)
		FUZZ_STORE_DIE("listing tables: %s", sqlite3_errmsg(fuzz_watch));
	sqlite3_exec(fuzz_watch, "BEGIN", NULL, NULL, NULL);
	while (sqlite3_step(tables) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(tables, 0);
		h = fuzz_fnv(h, name, strlen(name) + 1);
		char *q = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(fuzz_watch, q, -1, &st, NULL) != SQLITE_OK)
			FUZZ_STORE_DIE("%s: %s", q, sqlite3_errmsg(fuzz_watch));
		while (sqlite3_step(st) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				int t = sqlite3_column_type(st, c);
				h = fuzz_fnv(h, &t, sizeof t);
				const void *b = sqlite3_column_blob(st, c);
				h = fuzz_fnv(h, b ? b : "", (size_t)sqlite3_column_bytes(st, c));
			}
		sqlite3_finalize(st);
		sqlite3_free(q);
	}
	sqlite3_exec(fuzz_watch, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(tables);
	return h;
}

/* The database's content hash, computed again only when some commit happened
 * since the last time (a write rolled back to its savepoint still commits an
 * empty change, so data_version alone would not do). */
FUZZ_MAYBE_UNUSED static uint64_t fuzz_store_hash(void)
{
	static int64_t version = -1;
	static uint64_t hash;
	int64_t v = fuzz_store_version();
	if (v != version) {
		hash = fuzz_store_hash_now();
		version = v;
	}
	return hash;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
FUZZ_MAYBE_UNUSED static bool fuzz_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < k + 1)
			return false;
		unsigned cp = c & (0x3fu >> k);
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

#endif
