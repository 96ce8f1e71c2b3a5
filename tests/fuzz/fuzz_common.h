/* fuzz_common.h - shared by the rule-compiler fuzz harnesses: an in-memory
 * SQLite database with the migrated schema and a few customers, and the check
 * that a compiled rule is valid SQL whose parameters all bind and that runs to
 * completion. Any violation aborts (a crash for libFuzzer). */
#ifndef SCRM_FUZZ_COMMON_H
#define SCRM_FUZZ_COMMON_H

#include "fuzz_die.h"
#include "scrm/core_rules.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <dirent.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_MIGRATIONS
#define FUZZ_MIGRATIONS "migrations"
#endif

static sqlite3 *fuzz_db;
#define FUZZ_CUSTOMERS 3 /* ids 1..3 in fuzz_open() */
#define FUZZ_ALL 0xeu    /* their bits */

static int fuzz_cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fuzz_exec(const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(fuzz_db, sql, NULL, NULL, &err) != SQLITE_OK)
		FUZZ_DIE("setup SQL failed: %s\n%s", err ? err : "?", sql);
}

/* Apply migrations/NNNN_*.sql in order (the store's runner needs a file
 * database and the logger; the schema is all the compiler's SQL needs). */
static void fuzz_migrate(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		FUZZ_DIE("cannot open the migrations directory %s (set SCRM_MIGRATIONS)", dir);
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.' && str_endswith(e->d_name, ".sql"))
			names[n++] = xstrdup(e->d_name);
	closedir(d);
	if (n == 0)
		FUZZ_DIE("no migrations in %s", dir);
	qsort(names, n, sizeof *names, fuzz_cmp_name);
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		size_t len;
		char *sql = file_read_all(path, &len);
		if (!sql)
			FUZZ_DIE("cannot read %s", path);
		fuzz_exec(sql);
		free(sql);
		free(path);
		free(names[i]);
	}
}

/* 2026-02-28 23:30 in Shanghai and a few other edges of the calendar: the
 * compiled parameters depend on the day. */
static const int64_t fuzz_nows[] = {
    1772292600, /* 2026-02-28 23:30 +08:00 (not a leap year) */
    1709136000, /* 2024-02-29 00:00 +08:00 (leap day) */
    1798732799, /* 2026-12-31 23:59:59 +08:00 */
    1767196800, /* 2026-01-01 00:00 +08:00 */
    0,
};

static void fuzz_open(void)
{
	if (fuzz_db)
		return;
	if (time_set_zone("Asia/Shanghai") < 0)
		FUZZ_DIE("no Asia/Shanghai in /usr/share/zoneinfo (install tzdata)");
	if (sqlite3_open(":memory:", &fuzz_db) != SQLITE_OK)
		FUZZ_DIE("sqlite3_open failed");
	const char *dir = getenv("SCRM_MIGRATIONS");
	fuzz_migrate(dir && *dir ? dir : FUZZ_MIGRATIONS);
	/* something for every kind of condition to look at */
	fuzz_exec(
	    "INSERT INTO tiers(id, name, basis, threshold, rank, created_at, updated_at)"
	    " VALUES (1, 'gold', 'points', 1000, 1, 0, 0);"
	    "INSERT INTO tags(id, name, created_at, updated_at) VALUES (1, 'vip', 0, 0),"
	    " (2, 'O''Brien; --', 0, 0);"
	    "INSERT INTO purchase_keys(kind, name, bit) VALUES ('platform', 'tmall', 0),"
	    " ('platform', 'jd', 1), ('category', 'tea', 0), ('category', 'cups', 61);"
	    "INSERT INTO groups(id, name, created_at, updated_at) VALUES (1, 'g', 0, 0);"
	    "INSERT INTO customers(id, name, gender, birthday, birth_month, birth_day, stage,"
	    " points_balance, wallet_balance_cents, order_count, total_spent_cents, first_order_at,"
	    " last_order_at, attrs, created_at, updated_at, tier_id, platform_mask, category_mask,"
	    " last_checkin_day, source_channel_id, owner_user_id) VALUES"
	    " (1, 'a', 'f', '--02-29', 2, 29, 'converted', 10, 0, 3, 30000, 1700000000, 1772200000,"
	    "  '{\"city\":\"x\",\"n\":3,\"b\":true,\"r\":1.5,\"o\":{\"k\":1},\"l\":[1]}', "
	    "1600000000,"
	    "  0, 1, 3, 4611686018427387905, 20500, 1, 1),"
	    " (2, 'b', 'u', NULL, NULL, NULL, 'added', 0, 0, 0, 0, NULL, NULL, '{}', 1772290000, 0,"
	    "  NULL, 0, 0, NULL, NULL, NULL),"
	    " (3, 'c', 'm', '1990-12-31', 12, 31, 'repurchasing', -5, 100, 9, 9223372036854775807,"
	    "  0, 0, '{\"city\":null}', 0, 0, NULL, 2, 1, 0, 2, NULL);"
	    "INSERT INTO customer_tags(customer_id, tag_id, created_at) VALUES (1, 1, 0), (3, 2, "
	    "0);"
	    "INSERT INTO group_members(group_id, customer_id, joined_at) VALUES (1, 3, 0);"
	    "INSERT INTO coupon_templates(id, name, kind, valid_days, created_at, updated_at)"
	    " VALUES (1, 't', 'gift', 30, 0, 0);"
	    "INSERT INTO coupons(customer_id, template_id, code, source, issued_at, expires_at,"
	    " created_at, updated_at) VALUES (1, 1, 'A', 'manual', 0, 1772380799, 0, 0),"
	    " (3, 1, 'B', 'manual', 0, 1709222399, 0, 0);");
}

/* Prepare a rule's condition (over customers c; for one customer with an
 * extra parameter for its id after the rule's), check and bind the
 * parameters, run it: the ids selected, as bits 1 << id. */
static uint64_t fuzz_run(const struct rule_sql *r, const char *where, bool per_customer)
{
	char *q = per_customer
	              ? xasprintf("SELECT c.id FROM customers c WHERE (%s) AND c.id = ?%zu", where,
	                          r->nparams + 1)
	              : xasprintf("SELECT c.id FROM customers c WHERE %s ORDER BY c.id", where);
	size_t want = r->nparams + (per_customer ? 1 : 0);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(fuzz_db, q, -1, &st, NULL) != SQLITE_OK)
		FUZZ_DIE("a compiled rule is not valid SQL: %s\n%.2000s", sqlite3_errmsg(fuzz_db),
		         q);
	if ((size_t)sqlite3_bind_parameter_count(st) != want)
		FUZZ_DIE("%d parameters in the SQL, %zu compiled\n%.2000s",
		         sqlite3_bind_parameter_count(st), r->nparams, q);
	for (size_t i = 0; i < r->nparams; i++) {
		const struct rule_param *p = &r->params[i];
		int b = SQLITE_OK, idx = (int)i + 1;
		char name[32];
		snprintf(name, sizeof name, "?%d", idx);
		const char *pn = sqlite3_bind_parameter_name(st, idx);
		if (!pn || strcmp(pn, name) != 0)
			FUZZ_DIE("parameter %d is named %s", idx, pn ? pn : "(null)");
		switch (p->type) {
		case RP_INT:
			b = sqlite3_bind_int64(st, idx, p->i);
			break;
		case RP_REAL:
			b = sqlite3_bind_double(st, idx, p->d);
			break;
		case RP_TEXT:
			if (!p->s)
				FUZZ_DIE("text parameter %d is NULL", idx);
			b = sqlite3_bind_text(st, idx, p->s, -1, SQLITE_STATIC);
			break;
		default:
			FUZZ_DIE("parameter %d has type %d", idx, (int)p->type);
		}
		if (b != SQLITE_OK)
			FUZZ_DIE("binding parameter %d: %s", idx, sqlite3_errmsg(fuzz_db));
	}
	/* and it runs: no JSON path errors, no overflow */
	uint64_t ids = 0;
	for (int64_t id = 1; id <= (per_customer ? FUZZ_CUSTOMERS : 1); id++) {
		if (per_customer) {
			sqlite3_reset(st);
			sqlite3_bind_int64(st, (int)want, id);
		}
		int s;
		while ((s = sqlite3_step(st)) == SQLITE_ROW)
			ids |= 1ull << (sqlite3_column_int64(st, 0) & 63);
		if (s != SQLITE_DONE)
			FUZZ_DIE("a compiled rule fails to run: %s\n%.2000s",
			         sqlite3_errmsg(fuzz_db), q);
	}
	sqlite3_finalize(st);
	free(q);
	return ids;
}

/* The checks on one compilation. rc and out are what rules_compile gave; the
 * customers selected in *ids. */
static void fuzz_check(int rc, const struct rule_sql *r, const struct core_err *e, uint64_t *ids)
{
	if (rc < 0) {
		/* a refusal names a path under "rule" and says what is allowed */
		if (rc != -1 || e->rc != CORE_INVALID || !e->field ||
		    strncmp(e->field, "rule", 4) != 0 || !e->msg[0])
			FUZZ_DIE("a refusal without a proper error: rc %d, field %s, msg %s", rc,
			         e->field ? e->field : "(null)", e->msg);
		if (r->where || r->params || r->nparams)
			FUZZ_DIE("a refusal left a compiled rule behind");
		return;
	}
	if (rc != 0 || !r->where)
		FUZZ_DIE("rc %d without a where", rc);
	if (r->nparams > RULES_MAX_PARAMS + RULES_MAX_LIST * 2)
		FUZZ_DIE("%zu parameters", r->nparams);
	/* over all customers: the set of ids */
	uint64_t all = fuzz_run(r, r->where, false);
	/* where_one, for one customer at a time, must agree with it */
	if (!r->where_one)
		FUZZ_DIE("no where_one");
	uint64_t one = fuzz_run(r, r->where_one, true);
	if (all != one)
		FUZZ_DIE("where selects %#llx, where_one %#llx\n%.2000s\n%.2000s",
		         (unsigned long long)all, (unsigned long long)one, r->where, r->where_one);
	*ids = all;
}

/* Compile a rule at now and check it; when it compiles, {"not": rule} must
 * select exactly the other customers (NULL columns included). */
static void fuzz_rule(const json_t *rule, int64_t now)
{
	struct rule_sql r;
	struct core_err e = {0};
	uint64_t ids = 0, nids = 0;
	int rc = rules_compile(rule, "rule", now, &r, &e);
	fuzz_check(rc, &r, &e, &ids);
	rule_sql_clear(&r);
	if (rc < 0)
		return;
	json_t *neg = json_pack("{s:O}", "not", rule);
	memset(&e, 0, sizeof e);
	rc = rules_compile(neg, "rule", now, &r, &e);
	fuzz_check(rc, &r, &e, &nids);
	rule_sql_clear(&r);
	json_decref(neg);
	/* refused only for depth or size, which the wrapper may tip over */
	if (rc < 0 && !strstr(e.msg, "levels deep") && !strstr(e.msg, "conditions at most") &&
	    !strstr(e.msg, "too large"))
		FUZZ_DIE("a rule compiles but its NOT does not: %s: %s", e.field, e.msg);
	if (rc == 0 && (ids ^ nids) != FUZZ_ALL)
		FUZZ_DIE("a rule selects %#llx and its NOT %#llx", (unsigned long long)ids,
		         (unsigned long long)nids);
}

#endif
