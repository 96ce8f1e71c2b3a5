/* test_rules.c - the rule language (src/core/rules.c): refusals that name the
 * exact path of the fault and say what is allowed, the limits, no user text in
 * the SQL, and the meaning of every field and operator on a real database at a
 * fixed moment in the business time zone (Asia/Shanghai, UTC+8), including
 * the day boundary, New Year, --MM-DD birthdays and 29 February. */
#include "harness.h"

#include "../../src/store/internal.h" /* white box: raw SQL for the fixtures */
#include "scrm/core.h"
#include "scrm/core_rules.h"
#include "scrm/core_segments.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <jansson.h>
#include <sqlite3.h>

static struct store_db *db;

/* Shanghai wall-clock time as Unix seconds. */
static int64_t sh(int y, int m, int d, int hh, int mm, int ss)
{
	return time_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60 +
	       ss - 8 * 3600;
}

/* 2026-03-01 00:30 in Shanghai is still 2026-02-28 in UTC: every calendar
 * condition below tells the business day from the UTC one. */
#define NOW sh(2026, 3, 1, 0, 30, 0)
#define TODAY 20513 /* 2026-03-01 as days since 1970-01-01 */

/* Rules are written with ' for " to keep them readable. */
static json_t *rule_q(const char *text)
{
	char *s = strdup(text);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t err;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &err);
	if (!j)
		fail_msg("bad test rule %s: %s", s, err.text);
	free(s);
	return j;
}

static void sql_exec(const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

/* Prepare "SELECT id ... WHERE <where>" with the parameters bound; checks the
 * parameter count (the rule's, plus any of the caller's after them). The
 * caller finalizes. */
static sqlite3_stmt *prepare_one(const struct rule_sql *r, size_t nparams)
{
	char *q = xasprintf("SELECT c.id FROM customers c WHERE %s ORDER BY c.id", r->where);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("compiled SQL does not prepare: %s\n%.600s", sqlite3_errmsg(db->h), q);
	free(q);
	assert_int_equal(sqlite3_bind_parameter_count(st), (int)nparams);
	for (size_t i = 0; i < r->nparams; i++) {
		const struct rule_param *p = &r->params[i];
		int idx = (int)i + 1;
		if (p->type == RP_INT)
			assert_int_equal(sqlite3_bind_int64(st, idx, p->i), SQLITE_OK);
		else if (p->type == RP_REAL)
			assert_int_equal(sqlite3_bind_double(st, idx, p->d), SQLITE_OK);
		else
			assert_int_equal(sqlite3_bind_text(st, idx, p->s, -1, SQLITE_TRANSIENT),
			                 SQLITE_OK);
	}
	return st;
}

static sqlite3_stmt *prepare_rule(const struct rule_sql *r)
{
	return prepare_one(r, r->nparams);
}

/* The ids a rule selects at now, as "1,2,3". */
static char *select_ids(const json_t *rule, int64_t now, bool *time_based)
{
	struct rule_sql r;
	struct core_err e = {0};
	if (rules_compile(rule, "rule", now, &r, &e) < 0) {
		char *t = json_dumps(rule, JSON_COMPACT);
		fail_msg("%s does not compile: %s: %s", t, e.field, e.msg);
	}
	if (time_based)
		*time_based = r.time_based;
	sqlite3_stmt *st = prepare_rule(&r);
	struct buf out = {0};
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		buf_printf(&out, "%s%lld", out.len ? "," : "",
		           (long long)sqlite3_column_int64(st, 0));
	if (s != SQLITE_DONE)
		fail_msg("compiled SQL fails: %s\n%s", sqlite3_errmsg(db->h), r.where);
	sqlite3_finalize(st);
	/* where_one, shaped for one customer, must agree customer by customer */
	assert_non_null(r.where_one);
	struct rule_sql one = r;
	one.where = xasprintf("(%s) AND c.id = ?%zu", r.where_one, r.nparams + 1);
	st = prepare_one(&one, r.nparams + 1);
	struct buf out1 = {0};
	for (int64_t id = 1; id <= 7; id++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, (int)r.nparams + 1, id);
		s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			buf_printf(&out1, "%s%lld", out1.len ? "," : "", (long long)id);
		else if (s != SQLITE_DONE)
			fail_msg("where_one fails: %s\n%s", sqlite3_errmsg(db->h), r.where_one);
	}
	sqlite3_finalize(st);
	free(one.where);
	if (strcmp(out.data ? out.data : "", out1.data ? out1.data : "") != 0)
		fail_msg("where selects [%s], where_one [%s]\n%s\n%s", out.data ? out.data : "",
		         out1.data ? out1.data : "", r.where, r.where_one);
	buf_clear(&out1);
	rule_sql_clear(&r);
	return out.data ? buf_steal(&out) : xstrdup("");
}

static void expect_at(int line, const char *rule, int64_t now, const char *ids)
{
	json_t *j = rule_q(rule);
	char *got = select_ids(j, now, NULL);
	if (strcmp(got, ids) != 0)
		fail_msg("line %d: %s selects [%s], expected [%s]", line, rule, got, ids);
	free(got);
	json_decref(j);
}
#define EXPECT(rule, ids) expect_at(__LINE__, rule, NOW, ids)
#define EXPECT_AT(now, rule, ids) expect_at(__LINE__, rule, now, ids)

/* A refusal at path whose message contains each of the fragments. */
static void refused_at(int line, const json_t *rule, const char *path, const char *const *frags)
{
	struct rule_sql r;
	struct core_err e = {0};
	char *t = json_dumps(rule, JSON_COMPACT | JSON_ENCODE_ANY);
	if (rules_compile(rule, "rule", NOW, &r, &e) == 0) {
		fail_msg("line %d: %.300s compiled: %s", line, t, r.where);
	}
	assert_int_equal(e.rc, CORE_INVALID);
	assert_null(r.where);
	assert_null(r.params);
	if (!e.field || strcmp(e.field, path) != 0)
		fail_msg("line %d: %.300s refused at %s, expected %s (%s)", line, t,
		         e.field ? e.field : "(null)", path, e.msg);
	for (; frags && *frags; frags++)
		if (!strstr(e.msg, *frags))
			fail_msg("line %d: %.300s: message \"%s\" lacks \"%s\"", line, t, e.msg,
			         *frags);
	free(t);
}
#define REFUSED(rule, path, ...)                                                                   \
	do {                                                                                       \
		json_t *j_ = rule_q(rule);                                                         \
		refused_at(__LINE__, j_, path, (const char *const[]){__VA_ARGS__, NULL});          \
		json_decref(j_);                                                                   \
	} while (0)

/* Fixtures -------------------------------------------------------------------------
 *
 *  id gender birthday    stage        orders spent  points wallet last order      created
 *   1 u      -           added        0      0      0      0      -               03-01 00:10
 *   2 f      --03-01     observing    1      5000   100    0      02-28 23:59:59  02-28 00:00
 *   3 m      --02-29     converted    3      30000  500    1000   02-27 23:59:59  2025-01-01
 *   4 f      1990-12-31  repurchasing 10     100000 2000   50     2025-12-01      2024-01-01
 *   5 m      2000-01-01  sharing      2      2000   0      0      2026-01-30      2025-12-31
 *   6 u      1985-02-28  interested   0      0      50     0      -               02-01
 *   7 f      1970-12-30  added        0      0      0      0      -               03-01 00:00
 *
 *  days since last order at NOW: 2 -> 1, 3 -> 2, 4 -> 90, 5 -> 30 (others none)
 *  days since first order: 2 -> 1, 3 -> 365, 4 -> 638, 5 -> 59
 *  days since created: 1 -> 0, 2 -> 1, 3 -> 424, 4 -> 790, 5 -> 60, 6 -> 28, 7 -> 0
 *  days since last check-in: 2 -> 1, 3 -> 7, 4 -> 0 (others none)
 *  tier: 2, 5 gold (1); 3 silver (2). channel: 2, 5 -> 1; 3 -> 2. owner: 3, 5 -> 1; 4 -> 2
 *  tags: vip (1) 2, 3; new (2) 3, 4; "O'Brien; --" (3) 6
 *  platforms: 2 tmall; 3 tmall, jd; 4 jd. categories: 2 tea; 3 tea, cups; 5 cups; 6 bit61
 *  groups: 1 -> 2, 3; 2 -> 3
 *  attrs: 2 {city Paris, n 5}; 3 {city O'Hare, n 10, vip true}; 4 {city paris};
 *         5 {n 2.5} (its "city": null removed the key); 6 {other: 1}
 *  active coupons expiring: 2 today 23:59:59; 3 tomorrow 23:59:59 (and a used one
 *         today); 4 at 00:10 today, already past; 5 in 7 days; 6 an expired one
 */
static const struct {
	const char *name, *gender, *birthday, *attrs;
} people[] = {
    {"Ann", "u", NULL, NULL},
    {"Bea", "f", "--03-01", "{\"city\": \"Paris\", \"n\": 5}"},
    {"Cid", "m", "--02-29", "{\"city\": \"O'Hare\", \"n\": 10, \"vip\": true}"},
    {"Dot", "f", "1990-12-31", "{\"city\": \"paris\"}"},
    {"Eli", "m", "2000-01-01", "{\"n\": 2.5, \"city\": null}"},
    {"Fay", "u", "1985-02-28", "{\"other\": 1}"},
    {"Gus", "f", "1970-12-30", NULL},
};

static void create_people(void)
{
	for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
		json_t *attrs = people[i].attrs ? json_loads(people[i].attrs, 0, NULL) : NULL;
		struct customer_patch p = {.set = CF_NAME | CF_GENDER | CF_BIRTHDAY | CF_ATTRS,
		                           .name = people[i].name,
		                           .gender = people[i].gender,
		                           .birthday = people[i].birthday,
		                           .attrs = attrs};
		struct core_err e = {0};
		struct customer c = {0};
		if (core_customer_check(&p, &e) < 0 ||
		    core_customer_create(db, &p, sh(2020, 1, 1, 9, 0, 0), &c, &e) < 0)
			fail_msg("create %s: %s", people[i].name, e.msg);
		assert_int_equal(c.id, (int64_t)i + 1);
		customer_clear(&c);
		json_decref(attrs);
	}
}

static void fixtures(void)
{
	create_people();
	char *sql = xasprintf(
	    "INSERT INTO users(id, username, role, password_hash, created_at, updated_at)"
	    " VALUES (1, 'u1', 'operator', 'x', 0, 0), (2, 'u2', 'operator', 'x', 0, 0);"
	    "INSERT INTO channels(id, name, kind, created_at, updated_at)"
	    " VALUES (1, 'card', 'package_card', 0, 0), (2, 'sms', 'sms', 0, 0);"
	    "INSERT INTO tiers(id, name, basis, threshold, rank, created_at, updated_at)"
	    " VALUES (1, 'gold', 'points', 1000, 2, 0, 0), (2, 'silver', 'points', 100, 1, 0, 0);"
	    "INSERT INTO tags(id, name, created_at, updated_at)"
	    " VALUES (1, 'vip', 0, 0), (2, 'new', 0, 0), (3, 'O''Brien; --', 0, 0);"
	    "INSERT INTO customer_tags(customer_id, tag_id, created_at)"
	    " VALUES (2, 1, 0), (3, 1, 0), (3, 2, 0), (4, 2, 0), (6, 3, 0);"
	    "INSERT INTO purchase_keys(kind, name, bit) VALUES ('platform', 'tmall', 0),"
	    " ('platform', 'jd', 1), ('platform', 'douyin', 2), ('category', 'tea', 0),"
	    " ('category', 'cups', 1), ('category', 'bit61', 61);"
	    "INSERT INTO groups(id, name, created_at, updated_at) VALUES (1, 'g1', 0, 0), (2, "
	    "'g2', 0, 0);"
	    "INSERT INTO group_members(group_id, customer_id, joined_at) VALUES (1, 2, 0), (1, 3, "
	    "0),"
	    " (2, 3, 0);"
	    /* the figures, as the order and loyalty code keep them */
	    "UPDATE customers SET stage = CASE id WHEN 2 THEN 'observing' WHEN 3 THEN 'converted'"
	    "  WHEN 4 THEN 'repurchasing' WHEN 5 THEN 'sharing' WHEN 6 THEN 'interested' ELSE "
	    "'added' END,"
	    " order_count = CASE id WHEN 2 THEN 1 WHEN 3 THEN 3 WHEN 4 THEN 10 WHEN 5 THEN 2 ELSE "
	    "0 END,"
	    " total_spent_cents = CASE id WHEN 2 THEN 5000 WHEN 3 THEN 30000 WHEN 4 THEN 100000"
	    "  WHEN 5 THEN 2000 ELSE 0 END,"
	    " points_balance = CASE id WHEN 2 THEN 100 WHEN 3 THEN 500 WHEN 4 THEN 2000 WHEN 6 "
	    "THEN 50"
	    "  ELSE 0 END,"
	    " wallet_balance_cents = CASE id WHEN 3 THEN 1000 WHEN 4 THEN 50 ELSE 0 END,"
	    " tier_id = CASE id WHEN 2 THEN 1 WHEN 5 THEN 1 WHEN 3 THEN 2 END,"
	    " source_channel_id = CASE id WHEN 2 THEN 1 WHEN 5 THEN 1 WHEN 3 THEN 2 END,"
	    " owner_user_id = CASE id WHEN 3 THEN 1 WHEN 5 THEN 1 WHEN 4 THEN 2 END,"
	    " platform_mask = CASE id WHEN 2 THEN 1 WHEN 3 THEN 3 WHEN 4 THEN 2 ELSE 0 END,"
	    " category_mask = CASE id WHEN 2 THEN 1 WHEN 3 THEN 3 WHEN 5 THEN 2"
	    "  WHEN 6 THEN 2305843009213693952 ELSE 0 END,"
	    " last_checkin_day = CASE id WHEN 2 THEN %d WHEN 3 THEN %d WHEN 4 THEN %d END,"
	    " first_order_at = CASE id WHEN 2 THEN %lld WHEN 3 THEN %lld WHEN 4 THEN %lld"
	    "  WHEN 5 THEN %lld END,"
	    " last_order_at = CASE id WHEN 2 THEN %lld WHEN 3 THEN %lld WHEN 4 THEN %lld"
	    "  WHEN 5 THEN %lld END,"
	    " created_at = CASE id WHEN 1 THEN %lld WHEN 2 THEN %lld WHEN 3 THEN %lld WHEN 4 THEN "
	    "%lld"
	    "  WHEN 5 THEN %lld WHEN 6 THEN %lld WHEN 7 THEN %lld END;"
	    "INSERT INTO coupon_templates(id, name, kind, valid_days, created_at, updated_at)"
	    " VALUES (1, 'gift', 'gift', 30, 0, 0);"
	    "INSERT INTO coupons(customer_id, template_id, code, status, source, issued_at, "
	    "expires_at,"
	    " created_at, updated_at) VALUES"
	    " (2, 1, 'C2', 'active', 'manual', 0, %lld, 0, 0),"
	    " (3, 1, 'C3', 'active', 'manual', 0, %lld, 0, 0),"
	    " (3, 1, 'C3used', 'used', 'manual', 0, %lld, 0, 0),"
	    " (4, 1, 'C4', 'active', 'manual', 0, %lld, 0, 0),"
	    " (5, 1, 'C5', 'active', 'manual', 0, %lld, 0, 0),"
	    " (6, 1, 'C6', 'expired', 'manual', 0, %lld, 0, 0);",
	    TODAY - 1, TODAY - 7, TODAY,
	    /* first orders */
	    (long long)sh(2026, 2, 28, 23, 59, 59), (long long)sh(2025, 3, 1, 12, 0, 0),
	    (long long)sh(2024, 6, 1, 12, 0, 0), (long long)sh(2026, 1, 1, 12, 0, 0),
	    /* last orders */
	    (long long)sh(2026, 2, 28, 23, 59, 59), (long long)sh(2026, 2, 27, 23, 59, 59),
	    (long long)sh(2025, 12, 1, 10, 0, 0), (long long)sh(2026, 1, 30, 8, 0, 0),
	    /* created */
	    (long long)sh(2026, 3, 1, 0, 10, 0), (long long)sh(2026, 2, 28, 0, 0, 0),
	    (long long)sh(2025, 1, 1, 12, 0, 0), (long long)sh(2024, 1, 1, 12, 0, 0),
	    (long long)sh(2025, 12, 31, 12, 0, 0), (long long)sh(2026, 2, 1, 0, 0, 0),
	    (long long)sh(2026, 3, 1, 0, 0, 0),
	    /* coupons */
	    (long long)sh(2026, 3, 1, 23, 59, 59), (long long)sh(2026, 3, 2, 23, 59, 59),
	    (long long)sh(2026, 3, 1, 23, 59, 59), (long long)sh(2026, 3, 1, 0, 10, 0),
	    (long long)sh(2026, 3, 8, 12, 0, 0), (long long)sh(2026, 3, 2, 12, 0, 0));
	sql_exec(sql);
	free(sql);
}

static int group_setup(void **state)
{
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	*state = test_db_open(false);
	db = db_open(false);
	assert_non_null(db);
	sql_exec("BEGIN");
	fixtures();
	sql_exec("COMMIT");
	core_segments_forget();
	return 0;
}

static int group_teardown(void **state)
{
	db_close(db);
	test_db_close(*state);
	return 0;
}

/* Refusals ------------------------------------------------------------------------ */

static void test_error_paths(void **state)
{
	(void)state;
	REFUSED("{'all': [{'field': 'order_count', 'op': '>', 'value': 1},"
	        " {'field': 'tag', 'op': 'has', 'value': 'vip'},"
	        " {'field': 'order_count', 'op': '=', 'value': 'x'}]}",
	        "rule.all[2].value", "whole number");
	REFUSED("{'not': {'field': 'nope', 'op': '=', 'value': 1}}", "rule.not.field",
	        "unknown field 'nope'", "order_count", "coupon_expiring_in_days", "attrs.<key>");
	REFUSED("{'any': [{'all': [{'field': 'order_count', 'op': '>', 'value': 1},"
	        " {'field': 'tag', 'op': '>', 'value': 'vip'}]}]}",
	        "rule.any[0].all[1].op", "has has_not in not_in", "tag");
	REFUSED("{'not': {'not': {'any': [{'field': 'stage', 'op': '=', 'value': 'added'},"
	        " {'field': 'gender', 'op': 'in', 'value': ['m', 'x']}]}}}",
	        "rule.not.not.any[1].value[1]", "m, f or u");
	REFUSED("{'all': [{'field': 'order_count', 'op': 'between', 'value': [1, 'x']}]}",
	        "rule.all[0].value[1]", "whole number");
	/* the caller's name for the rule starts every path */
	json_t *j = rule_q("{'field': 'order_count', 'op': '=', 'value': null}");
	struct rule_sql r;
	struct core_err e = {0};
	assert_int_equal(rules_compile(j, "audience.rule", NOW, &r, &e), -1);
	assert_string_equal(e.field, "audience.rule.value");
	json_decref(j);
}

static void test_unknown_fields_and_ops(void **state)
{
	(void)state;
	REFUSED("{'field': 'nope', 'op': '=', 'value': 1}", "rule.field", "unknown field",
	        "order_count, total_spent_cents", "attrs.<key>");
	REFUSED("{'field': 'ORDER_COUNT', 'op': '=', 'value': 1}", "rule.field", "unknown field");
	REFUSED("{'field': 'order_count ', 'op': '=', 'value': 1}", "rule.field", "unknown field");
	REFUSED("{'field': 'c.order_count', 'op': '=', 'value': 1}", "rule.field", "unknown field");
	REFUSED("{'op': '=', 'value': 1}", "rule.field", "required", "order_count");
	REFUSED("{'field': 7, 'op': '=', 'value': 1}", "rule.field", "required", "attrs.<key>");
	REFUSED("{}", "rule.field", "required");
	/* attrs keys: 1 to 64 of A-Z a-z 0-9 _ */
	const char *bad_keys[] = {"",    "a-b",  "a.b", "a b", "a'b", "a\\\"b",
	                          "a;b", "a[0]", "a$",  "é",   "a--", "a%"};
	for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
		char *rule = xasprintf("{\"field\": \"attrs.%s\", \"op\": \"=\", \"value\": 1}",
		                       bad_keys[i]);
		json_t *jr = json_loads(rule, JSON_ALLOW_NUL, NULL);
		assert_non_null(jr);
		refused_at(__LINE__, jr, "rule.field",
		           (const char *const[]){"A-Z, a-z, 0-9 and _", NULL});
		json_decref(jr);
		free(rule);
	}
	/* a NUL would cut the name short, to a valid key */
	json_t *jn = json_loads("{\"field\": \"attrs.a\\u0000b\", \"op\": \"=\", \"value\": 1}",
	                        JSON_ALLOW_NUL, NULL);
	assert_non_null(jn);
	refused_at(__LINE__, jn, "rule.field", (const char *const[]){"NUL", NULL});
	json_decref(jn);
	jn = json_loads("{\"field\": \"order_count\", \"op\": \"=\\u0000x\", \"value\": 1}",
	                JSON_ALLOW_NUL, NULL);
	refused_at(__LINE__, jn, "rule.op", (const char *const[]){"must be one of", NULL});
	json_decref(jn);
	static const char *const nul_values[] = {
	    "{\"field\": \"stage\", \"op\": \"=\", \"value\": \"added\\u0000x\"}",
	    "{\"field\": \"platform\", \"op\": \"has\", \"value\": \"tmall\\u0000x\"}",
	    "{\"field\": \"gender\", \"op\": \"=\", \"value\": \"f\\u0000\"}",
	    "{\"field\": \"birthday_month\", \"op\": \"=\", \"value\": \"current\\u0000\"}",
	    "{\"field\": \"category\", \"op\": \"has\", \"value\": \"tea\\u0000x\"}",
	};
	for (size_t i = 0; i < sizeof nul_values / sizeof nul_values[0]; i++) {
		jn = json_loads(nul_values[i], JSON_ALLOW_NUL, NULL);
		assert_non_null(jn);
		refused_at(__LINE__, jn, "rule.value", NULL);
		json_decref(jn);
	}
	char long_key[80];
	memset(long_key, 'k', 65);
	long_key[65] = '\0';
	json_t *jl =
	    json_pack("{s:s+, s:s, s:i}", "field", "attrs.", long_key, "op", "=", "value", 1);
	refused_at(__LINE__, jl, "rule.field", (const char *const[]){"1 to 64", NULL});
	json_decref(jl);
	long_key[64] = '\0';
	jl = json_pack("{s:s+, s:s, s:i}", "field", "attrs.", long_key, "op", "=", "value", 1);
	char *ids = select_ids(jl, NOW, NULL);
	assert_string_equal(ids, "");
	free(ids);
	json_decref(jl);

	/* operators: whole words of the field's list only */
	REFUSED("{'field': 'order_count', 'op': 'like', 'value': 1}", "rule.op",
	        "= != > >= < <= in not_in between", "order_count");
	REFUSED("{'field': 'order_count', 'op': 'has', 'value': 1}", "rule.op", "between");
	REFUSED("{'field': 'order_count', 'op': 'exists'}", "rule.op", "order_count");
	REFUSED("{'field': 'order_count', 'op': '', 'value': 1}", "rule.op", "must be one of");
	REFUSED("{'field': 'order_count', 'op': 'not', 'value': [1]}", "rule.op", "must be one of");
	REFUSED("{'field': 'order_count', 'op': 'in ', 'value': [1]}", "rule.op", "must be one of");
	REFUSED("{'field': 'order_count', 'op': '= !=', 'value': 1}", "rule.op", "must be one of");
	REFUSED("{'field': 'order_count', 'op': '==', 'value': 1}", "rule.op", "must be one of");
	REFUSED("{'field': 'order_count', 'value': 1}", "rule.op", "must be one of");
	REFUSED("{'field': 'order_count', 'op': 1, 'value': 1}", "rule.op", "must be one of");
	REFUSED("{'field': 'tag', 'op': '=', 'value': 'vip'}", "rule.op", "has has_not in not_in");
	REFUSED("{'field': 'stage', 'op': 'between', 'value': ['added', 'sharing']}", "rule.op",
	        "= != in not_in > >= < <=");
	REFUSED("{'field': 'birthday_in_days', 'op': '>', 'value': 3}", "rule.op",
	        "= < <= between");
	REFUSED("{'field': 'coupon_expiring_in_days', 'op': '=', 'value': 3}", "rule.op",
	        "< <= between exists");
	REFUSED("{'field': 'gender', 'op': 'exists'}", "rule.op", "= != in not_in");
	REFUSED("{'field': 'group_id', 'op': '=', 'value': 1}", "rule.op", "has has_not in not_in");
	REFUSED("{'field': 'days_since_created', 'op': 'in', 'value': [1]}", "rule.op",
	        "= != > >= < <= between exists");
	REFUSED("{'field': 'attrs.x', 'op': 'has', 'value': 1}", "rule.op",
	        "= != > >= < <= in not_in between exists");
}

static void test_value_types(void **state)
{
	(void)state;
	/* each kind of field with values of the wrong type or range */
	static const struct {
		const char *rule, *frag;
	} bad[] = {
	    {"{'field': 'order_count', 'op': '=', 'value': '1'}", "whole number"},
	    {"{'field': 'total_spent_cents', 'op': '>', 'value': 1.5}", "whole number"},
	    {"{'field': 'points_balance', 'op': '<', 'value': true}", "whole number"},
	    {"{'field': 'wallet_balance_cents', 'op': '=', 'value': null}", "whole number"},
	    {"{'field': 'order_count', 'op': '=', 'value': [1]}", "whole number"},
	    {"{'field': 'source_channel_id', 'op': '=', 'value': 0}", "positive id"},
	    {"{'field': 'owner_user_id', 'op': '!=', 'value': -1}", "positive id"},
	    {"{'field': 'owner_user_id', 'op': '=', 'value': '1'}", "positive id"},
	    {"{'field': 'days_since_last_order', 'op': '>', 'value': -1}", "days from 0 to 36500"},
	    {"{'field': 'days_since_first_order', 'op': '>', 'value': 36501}",
	     "days from 0 to 36500"},
	    {"{'field': 'days_since_created', 'op': '=', 'value': '1'}", "days from 0 to 36500"},
	    {"{'field': 'days_since_last_checkin', 'op': '=', 'value': 1.0}",
	     "days from 0 to 36500"},
	    {"{'field': 'birthday_month', 'op': '=', 'value': 0}", "month 1 to 12 or \"current\""},
	    {"{'field': 'birthday_month', 'op': '=', 'value': 13}", "month 1 to 12 or \"current\""},
	    {"{'field': 'birthday_month', 'op': '=', 'value': 'now'}",
	     "month 1 to 12 or \"current\""},
	    {"{'field': 'birthday_month', 'op': '=', 'value': 'Current'}", "1 to 12"},
	    {"{'field': 'birthday_in_days', 'op': '<=', 'value': 367}", "days from 0 to 366"},
	    {"{'field': 'birthday_in_days', 'op': '<=', 'value': -1}", "days from 0 to 366"},
	    {"{'field': 'stage', 'op': '=', 'value': 'vip'}",
	     "added, observing, interested, converted, sharing, repurchasing"},
	    {"{'field': 'stage', 'op': '>', 'value': 3}", "one of added"},
	    {"{'field': 'tier', 'op': '=', 'value': 0}", "name or a positive id"},
	    {"{'field': 'tier', 'op': '=', 'value': ''}", "name or a positive id"},
	    {"{'field': 'tier', 'op': '=', 'value': 1.5}", "name or a positive id"},
	    {"{'field': 'tag', 'op': 'has', 'value': false}", "name or a positive id"},
	    {"{'field': 'tag', 'op': 'has', 'value': -3}", "name or a positive id"},
	    {"{'field': 'platform', 'op': 'has', 'value': 'TMall'}", "platform name such as tmall"},
	    {"{'field': 'platform', 'op': 'has', 'value': 1}", "platform name"},
	    {"{'field': 'category', 'op': 'has', 'value': ''}", "category name"},
	    {"{'field': 'category', 'op': 'has', 'value': 5}", "category name"},
	    {"{'field': 'gender', 'op': '=', 'value': 'x'}", "m, f or u"},
	    {"{'field': 'gender', 'op': '=', 'value': 'F'}", "m, f or u"},
	    {"{'field': 'group_id', 'op': 'has', 'value': 'g1'}", "positive id"},
	    {"{'field': 'coupon_expiring_in_days', 'op': '<=', 'value': -1}",
	     "days from 0 to 36500"},
	    {"{'field': 'attrs.k', 'op': '=', 'value': {}}", "a string, a number or true/false"},
	    {"{'field': 'attrs.k', 'op': '=', 'value': null}", "a string, a number or true/false"},
	    {"{'field': 'attrs.k', 'op': '=', 'value': [1]}", "a string, a number or true/false"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = rule_q(bad[i].rule);
		refused_at(__LINE__, j, "rule.value",
		           (const char *const[]){"rule.value", bad[i].frag, NULL});
		json_decref(j);
	}
	/* a tag name of 201 bytes, an attrs text of 1001, a category of 65 */
	char big[1100];
	memset(big, 'x', sizeof big);
	big[201] = '\0';
	json_t *j = json_pack("{s:s, s:s, s:s}", "field", "tag", "op", "has", "value", big);
	refused_at(__LINE__, j, "rule.value", (const char *const[]){"name or a positive id", NULL});
	json_decref(j);
	big[200] = '\0';
	j = json_pack("{s:s, s:s, s:s}", "field", "tag", "op", "has", "value", big);
	char *ids = select_ids(j, NOW, NULL);
	assert_string_equal(ids, "");
	free(ids);
	json_decref(j);
	memset(big, 'x', sizeof big);
	big[1001] = '\0';
	j = json_pack("{s:s, s:s, s:s}", "field", "attrs.k", "op", "=", "value", big);
	refused_at(__LINE__, j, "rule.value", (const char *const[]){"a string", NULL});
	json_decref(j);
	big[65] = '\0';
	j = json_pack("{s:s, s:s, s:s}", "field", "category", "op", "has", "value", big);
	refused_at(__LINE__, j, "rule.value", (const char *const[]){"category name", NULL});
	json_decref(j);
	/* a NUL inside a name would cut it short: refused */
	j = json_loads("{\"field\": \"tag\", \"op\": \"has\", \"value\": \"vip\\u0000x\"}",
	               JSON_ALLOW_NUL, NULL);
	refused_at(__LINE__, j, "rule.value", (const char *const[]){"name", NULL});
	json_decref(j);
	j = json_loads("{\"field\": \"attrs.k\", \"op\": \"=\", \"value\": \"a\\u0000b\"}",
	               JSON_ALLOW_NUL, NULL);
	refused_at(__LINE__, j, "rule.value", NULL);
	json_decref(j);

	/* the shapes of in/not_in, between and exists */
	REFUSED("{'field': 'order_count', 'op': 'in', 'value': []}", "rule.value",
	        "list of 1 to 1000 values");
	REFUSED("{'field': 'order_count', 'op': 'in', 'value': 1}", "rule.value",
	        "list of 1 to 1000");
	REFUSED("{'field': 'tag', 'op': 'not_in', 'value': 'vip'}", "rule.value",
	        "list of 1 to 1000");
	REFUSED("{'field': 'tag', 'op': 'in', 'value': ['vip', '']}", "rule.value[1]",
	        "name or a positive id");
	REFUSED("{'field': 'order_count', 'op': 'between', 'value': [1]}", "rule.value",
	        "[low, high]");
	REFUSED("{'field': 'order_count', 'op': 'between', 'value': [1, 2, 3]}", "rule.value",
	        "[low, high]");
	REFUSED("{'field': 'order_count', 'op': 'between', 'value': {'low': 1}}", "rule.value",
	        "[low, high]");
	REFUSED("{'field': 'order_count', 'op': 'between', 'value': [5, 1]}", "rule.value",
	        "low must not be above high");
	REFUSED("{'field': 'days_since_created', 'op': 'between', 'value': [-1, 1]}",
	        "rule.value[0]", "0 to 36500");
	REFUSED("{'field': 'attrs.n', 'op': 'between', 'value': [2.5, 1]}", "rule.value",
	        "low must not be above high");
	REFUSED("{'field': 'order_count', 'op': '='}", "rule.value", "required");
	REFUSED("{'field': 'tier', 'op': 'exists', 'value': 1}", "rule.value", "true or false");
	REFUSED("{'field': 'attrs.k', 'op': 'exists', 'value': 'yes'}", "rule.value",
	        "true or false");
}

static void test_structure(void **state)
{
	(void)state;
	REFUSED("{'all': []}", "rule.all", "list of at least one condition");
	REFUSED("{'any': []}", "rule.any", "list of at least one condition");
	REFUSED("{'any': {'field': 'order_count', 'op': '=', 'value': 1}}", "rule.any",
	        "list of at least one");
	REFUSED("{'not': {'all': [{'any': []}]}}", "rule.not.all[0].any", "at least one");
	/* extra keys */
	REFUSED("{'field': 'order_count', 'op': '=', 'value': 1, 'x': 2}", "rule.x",
	        "unknown key 'x'", "{\"field\", \"op\", \"value\"}");
	REFUSED("{'any': [{'field': 'order_count', 'op': '=', 'value': 1, 'values': [2]}]}",
	        "rule.any[0].values", "unknown key 'values'");
	REFUSED("{'all': [{'field': 'order_count', 'op': '=', 'value': 1}], 'x': 1}", "rule",
	        "stand alone");
	REFUSED("{'all': [{'field': 'order_count', 'op': '=', 'value': 1}],"
	        " 'any': [{'field': 'order_count', 'op': '=', 'value': 1}]}",
	        "rule", "stand alone");
	REFUSED("{'not': {'field': 'order_count', 'op': '=', 'value': 1}, 'field': 'tag'}", "rule",
	        "not stands alone");
	/* nodes that are not objects */
	static const char *const shapes[] = {"{\"all\": [...]}", "{\"any\": [...]}",
	                                     "{\"not\": {...}}", "{\"field\", \"op\", \"value\"}",
	                                     NULL};
	REFUSED("[]", "rule", "must be an object");
	REFUSED("null", "rule", "must be an object");
	REFUSED("'order_count > 1'", "rule", "must be an object");
	REFUSED("{'all': [{'field': 'order_count', 'op': '=', 'value': 1}, 1]}", "rule.all[1]",
	        "must be an object");
	REFUSED("{'not': 'x'}", "rule.not", "must be an object");
	REFUSED("{'any': [[{'field': 'order_count', 'op': '=', 'value': 1}]]}", "rule.any[0]",
	        "must be an object");
	json_t *j = rule_q("{'not': [1]}");
	refused_at(__LINE__, j, "rule.not", shapes);
	json_decref(j);
	/* a long unknown key is cut in the path, not overflowing it */
	char key[400];
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	j = json_pack("{s:s, s:s, s:i, s:i}", "field", "order_count", "op", "=", "value", 1, key,
	              1);
	struct rule_sql r;
	struct core_err e = {0};
	assert_int_equal(rules_compile(j, "rule", NOW, &r, &e), -1);
	assert_true(strncmp(e.field, "rule.kkkk", 9) == 0);
	assert_true(strlen(e.field) < 100);
	json_decref(j);
}

/* {"not": {"all": [{"not": ...}]}} with depth levels in all, the leaf last */
static json_t *nested(int depth)
{
	json_t *n = json_pack("{s:s, s:s, s:i}", "field", "order_count", "op", ">", "value", 0);
	for (int d = depth - 1; d >= 1; d--)
		n = d % 2 ? json_pack("{s:o}", "not", n) : json_pack("{s:[o]}", "all", n);
	return n;
}

static void test_limits(void **state)
{
	(void)state;
	/* depth: RULES_MAX_DEPTH levels compile (and prepare), one more does not */
	json_t *j = nested(RULES_MAX_DEPTH);
	char *ids = select_ids(j, NOW, NULL);
	/* an odd number of nots around order_count > 0 */
	assert_string_equal(ids, RULES_MAX_DEPTH / 2 % 2 ? "1,6,7" : "2,3,4,5");
	free(ids);
	json_decref(j);
	j = nested(RULES_MAX_DEPTH + 1);
	struct rule_sql r;
	struct core_err e = {0};
	assert_int_equal(rules_compile(j, "rule", NOW, &r, &e), -1);
	assert_string_equal(e.field, "rule.not.all[0].not.all[0].not.all[0].not.all[0].not.all[0]");
	assert_non_null(strstr(e.msg, "10 levels"));
	json_decref(j);

	/* nodes: the all and 199 leaves are 200 nodes; one leaf more is refused */
	json_t *list = json_array();
	for (int i = 0; i < RULES_MAX_NODES - 1; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:i}", "field", "order_count",
		                                      "op", ">=", "value", i % 3));
	j = json_pack("{s:O}", "all", list);
	ids = select_ids(j, NOW, NULL);
	assert_string_equal(ids, "3,4,5");
	free(ids);
	json_decref(j);
	json_array_append_new(
	    list, json_pack("{s:s, s:s, s:i}", "field", "order_count", "op", ">=", "value", 0));
	j = json_pack("{s:O}", "any", list);
	memset(&e, 0, sizeof e);
	assert_int_equal(rules_compile(j, "rule", NOW, &r, &e), -1);
	assert_string_equal(e.field, "rule.any[199]");
	assert_non_null(strstr(e.msg, "200 conditions"));
	json_decref(j);
	json_decref(list);

	/* lists: RULES_MAX_LIST values are fine (and valid SQL for every kind of
	 * list: SQLite caps expression depth at 1000), one more is refused */
	static const struct {
		const char *field, *op;
		int kind; /* 0 integers 1.., 1 names */
		const char *ids;
	} lists[] = {
	    {"order_count", "in", 0, "2,3,4,5"}, {"source_channel_id", "not_in", 0, "1,4,6,7"},
	    {"tag", "in", 0, "2,3,4,6"},         {"tag", "not_in", 1, "1,2,3,4,5,6,7"},
	    {"tier", "in", 0, "2,3,5"},          {"tier", "not_in", 1, "1,2,3,4,5,6,7"},
	    {"group_id", "in", 0, "2,3"},        {"attrs.n", "in", 0, "2,3"},
	    {"category", "in", 1, ""},           {"platform", "not_in", 1, "1,2,3,4,5,6,7"},
	};
	for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
		for (int n = RULES_MAX_LIST; n <= RULES_MAX_LIST + 1; n++) {
			json_t *vals = json_array();
			for (int i = 1; i <= n; i++) {
				char name[16];
				snprintf(name, sizeof name, "n%d", i);
				json_array_append_new(vals, lists[k].kind ? json_string(name)
				                                          : json_integer(i));
			}
			j = json_pack("{s:s, s:s, s:o}", "field", lists[k].field, "op", lists[k].op,
			              "value", vals);
			if (n == RULES_MAX_LIST) {
				ids = select_ids(j, NOW, NULL);
				if (strcmp(ids, lists[k].ids) != 0)
					fail_msg("%s %s [%d values]: [%s], expected [%s]",
					         lists[k].field, lists[k].op, n, ids, lists[k].ids);
				free(ids);
			} else {
				refused_at(__LINE__, j, "rule.value",
				           (const char *const[]){"1 to 1000", NULL});
			}
			json_decref(j);
		}
	}
	/* the largest rules stay valid SQL: 199 birthday windows of a year each */
	list = json_array();
	for (int i = 0; i < RULES_MAX_NODES - 1; i++)
		json_array_append_new(list,
		                      json_pack("{s:s, s:s, s:[ii]}", "field", "birthday_in_days",
		                                "op", "between", "value", 0, 366));
	j = json_pack("{s:o}", "any", list);
	memset(&e, 0, sizeof e);
	int rc = rules_compile(j, "rule", NOW, &r, &e);
	if (rc == 0) {
		sqlite3_finalize(prepare_rule(&r));
		rule_sql_clear(&r);
	} else {
		assert_non_null(strstr(e.msg, "too large"));
	}
	json_decref(j);
}

/* No user text in the SQL ------------------------------------------------------------ */

static const char *const evil[] = {
    "x' OR '1'='1", "a--b",   "; DROP TABLE customers; --", "100%",    "a_b_",        "\"quoted\"",
    "back\\slash",  "é中文😀", "'); DELETE FROM tags; --",   "/* c */", "O'Brien; --",
};

static bool has_text_param(const struct rule_sql *r, const char *s)
{
	for (size_t i = 0; i < r->nparams; i++)
		if (r->params[i].type == RP_TEXT && strcmp(r->params[i].s, s) == 0)
			return true;
	return false;
}

static void test_no_user_text(void **state)
{
	(void)state;
	json_t *names = json_array();
	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++)
		json_array_append_new(names, json_string(evil[i]));
	json_t *any = json_array();
	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		json_array_append_new(any, json_pack("{s:s, s:s, s:s}", "field", "tag", "op", "has",
		                                     "value", evil[i]));
		json_array_append_new(any, json_pack("{s:s, s:s, s:s}", "field", "tier", "op",
		                                     "!=", "value", evil[i]));
		json_array_append_new(any, json_pack("{s:s, s:s, s:s}", "field", "attrs.city", "op",
		                                     ">=", "value", evil[i]));
		json_array_append_new(any, json_pack("{s:s, s:s, s:[ss]}", "field", "attrs.city",
		                                     "op", "between", "value", evil[i], evil[i]));
		if (strlen(evil[i]) <= 64)
			json_array_append_new(any, json_pack("{s:s, s:s, s:s}", "field", "category",
			                                     "op", "has_not", "value", evil[i]));
	}
	json_array_append_new(
	    any, json_pack("{s:s, s:s, s:O}", "field", "tag", "op", "not_in", "value", names));
	json_array_append_new(
	    any, json_pack("{s:s, s:s, s:O}", "field", "attrs.A9_z", "op", "in", "value", names));
	json_array_append_new(
	    any, json_pack("{s:s, s:s, s:O}", "field", "category", "op", "in", "value", names));
	json_array_append_new(
	    any, json_pack("{s:s, s:s}", "field", "attrs.Weird_Key_42", "op", "exists"));
	json_array_append_new(any, json_pack("{s:s, s:s, s:s}", "field", "platform", "op", "has",
	                                     "value", "evil_platform_1"));
	json_t *rule = json_pack("{s:o}", "any", any);
	struct rule_sql r;
	struct core_err e = {0};
	if (rules_compile(rule, "rule", NOW, &r, &e) < 0)
		fail_msg("%s: %s", e.field, e.msg);
	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		if (strstr(r.where, evil[i]))
			fail_msg("\"%s\" is in the SQL: %s", evil[i], r.where);
		assert_true(has_text_param(&r, evil[i]));
	}
	/* attrs keys travel as JSON path parameters; platform names as parameters */
	const char *others[] = {"A9_z", "Weird_Key_42", "evil_platform_1"};
	for (size_t i = 0; i < 3; i++)
		if (strstr(r.where, others[i]))
			fail_msg("\"%s\" is in the SQL: %s", others[i], r.where);
	assert_true(has_text_param(&r, "$.A9_z"));
	assert_true(has_text_param(&r, "$.Weird_Key_42"));
	assert_true(has_text_param(&r, "evil_platform_1"));
	/* the SQL holds no quote, comment or statement break at all */
	assert_null(strchr(r.where, '"'));
	assert_null(strstr(r.where, "--"));
	assert_null(strchr(r.where, ';'));
	assert_null(strstr(r.where, "/*"));
	assert_null(strchr(r.where, '%'));
	/* the only quoted literals are the compiler's own */
	for (const char *q = strchr(r.where, '\''); q; q = strchr(q, '\'')) {
		if (strncmp(q, "'active'", 8) == 0)
			q += 8;
		else if (strncmp(q, "'platform'", 10) == 0 || strncmp(q, "'category'", 10) == 0)
			q += 10;
		else
			fail_msg("a literal not of the compiler's: %.40s", q);
	}
	sqlite3_finalize(prepare_rule(&r));
	rule_sql_clear(&r);
	json_decref(rule);
	json_decref(names);

	/* and they are bound, not spliced: the evil tag name finds its customer */
	EXPECT("{'field': 'tag', 'op': 'has', 'value': 'O\\u0027Brien; --'}", "6");
	EXPECT("{'field': 'attrs.city', 'op': '=', 'value': 'O\\u0027Hare'}", "3");
	EXPECT(
	    "{'field': 'attrs.city', 'op': '=', 'value': 'x\\u0027 OR \\u00271\\u0027=\\u00271'}",
	    "");
	EXPECT("{'field': 'tag', 'op': 'in', 'value': ['%', '_', 'v%']}", "");
	/* ... and the tables are still there */
	EXPECT("{'field': 'tag', 'op': 'has', 'value': 'vip'}", "2,3");
}

/* Semantics --------------------------------------------------------------------------- */

static void test_numbers(void **state)
{
	(void)state;
	EXPECT("{'field': 'order_count', 'op': '=', 'value': 0}", "1,6,7");
	EXPECT("{'field': 'order_count', 'op': '!=', 'value': 0}", "2,3,4,5");
	EXPECT("{'field': 'order_count', 'op': '>', 'value': 2}", "3,4");
	EXPECT("{'field': 'order_count', 'op': '>=', 'value': 2}", "3,4,5");
	EXPECT("{'field': 'order_count', 'op': '<', 'value': 2}", "1,2,6,7");
	EXPECT("{'field': 'order_count', 'op': '<=', 'value': 2}", "1,2,5,6,7");
	EXPECT("{'field': 'order_count', 'op': 'in', 'value': [1, 3]}", "2,3");
	EXPECT("{'field': 'order_count', 'op': 'not_in', 'value': [0, 10]}", "2,3,5");
	EXPECT("{'field': 'order_count', 'op': 'between', 'value': [1, 3]}", "2,3,5");
	EXPECT("{'field': 'order_count', 'op': 'between', 'value': [3, 3]}", "3");
	EXPECT("{'field': 'total_spent_cents', 'op': '>', 'value': 4999}", "2,3,4");
	EXPECT("{'field': 'total_spent_cents', 'op': '>=', 'value': 9223372036854775807}", "");
	EXPECT("{'field': 'points_balance', 'op': 'between', 'value': [50, 500]}", "2,3,6");
	EXPECT("{'field': 'points_balance', 'op': '>', 'value': -9223372036854775808}",
	       "1,2,3,4,5,6,7");
	EXPECT("{'field': 'wallet_balance_cents', 'op': '>=', 'value': 50}", "3,4");
	/* combinations */
	EXPECT("{'all': [{'field': 'order_count', 'op': '>', 'value': 0},"
	       " {'field': 'points_balance', 'op': '<', 'value': 1000}]}",
	       "2,3,5");
	EXPECT("{'any': [{'field': 'order_count', 'op': '>', 'value': 5},"
	       " {'field': 'points_balance', 'op': '=', 'value': 50}]}",
	       "4,6");
	EXPECT("{'not': {'field': 'order_count', 'op': '>', 'value': 2}}", "1,2,5,6,7");
}

/* NOT is the complement of the set, whatever is NULL. */
static void test_not_over_nulls(void **state)
{
	(void)state;
	static const char *const leaves[] = {
	    "{'field': 'days_since_last_order', 'op': '>', 'value': 1}",
	    "{'field': 'days_since_last_order', 'op': '!=', 'value': 1}",
	    "{'field': 'days_since_last_checkin', 'op': '<=', 'value': 1}",
	    "{'field': 'source_channel_id', 'op': '=', 'value': 1}",
	    "{'field': 'owner_user_id', 'op': 'not_in', 'value': [1]}",
	    "{'field': 'birthday_month', 'op': '!=', 'value': 2}",
	    "{'field': 'birthday_in_days', 'op': '<=', 'value': 31}",
	    "{'field': 'tier', 'op': '!=', 'value': 'gold'}",
	    "{'field': 'attrs.city', 'op': '!=', 'value': 'Paris'}",
	    "{'field': 'attrs.n', 'op': 'not_in', 'value': [5]}",
	    "{'field': 'attrs.n', 'op': '<', 'value': 6}",
	    "{'field': 'attrs.city', 'op': 'exists'}",
	    "{'field': 'coupon_expiring_in_days', 'op': '<=', 'value': 1}",
	    "{'field': 'platform', 'op': 'has_not', 'value': 'tmall'}",
	    "{'field': 'tag', 'op': 'not_in', 'value': ['vip']}",
	    "{'field': 'stage', 'op': '>', 'value': 'interested'}",
	    "{'field': 'gender', 'op': '!=', 'value': 'f'}",
	    "{'field': 'group_id', 'op': 'has_not', 'value': 1}",
	};
	for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
		json_t *leaf = rule_q(leaves[i]);
		json_t *neg = json_pack("{s:O}", "not", leaf);
		json_t *both = json_pack("{s:[OO]}", "any", leaf, neg);
		json_t *none = json_pack("{s:[OO]}", "all", leaf, neg);
		char *a = select_ids(leaf, NOW, NULL), *b = select_ids(neg, NOW, NULL);
		char *u = select_ids(both, NOW, NULL), *n = select_ids(none, NOW, NULL);
		if (strcmp(u, "1,2,3,4,5,6,7") != 0 || strcmp(n, "") != 0)
			fail_msg("%s: [%s] and its NOT [%s] do not split the customers", leaves[i],
			         a, b);
		free(a);
		free(b);
		free(u);
		free(n);
		json_decref(leaf);
		json_decref(neg);
		json_decref(both);
		json_decref(none);
	}
	/* and the exact sets, NULL rows on the NOT side */
	EXPECT("{'not': {'field': 'days_since_last_order', 'op': '>', 'value': 1}}", "1,2,6,7");
	EXPECT("{'not': {'field': 'source_channel_id', 'op': '=', 'value': 1}}", "1,3,4,6,7");
	EXPECT("{'not': {'field': 'attrs.city', 'op': '=', 'value': 'Paris'}}", "1,3,4,5,6,7");
	EXPECT("{'not': {'field': 'birthday_month', 'op': '=', 'value': 2}}", "1,2,4,5,7");
	EXPECT("{'not': {'not': {'field': 'tier', 'op': '=', 'value': 'gold'}}}", "2,5");
}

static void test_ids_exists(void **state)
{
	(void)state;
	EXPECT("{'field': 'source_channel_id', 'op': '=', 'value': 1}", "2,5");
	EXPECT("{'field': 'source_channel_id', 'op': '!=', 'value': 1}", "1,3,4,6,7");
	EXPECT("{'field': 'source_channel_id', 'op': 'in', 'value': [1, 2]}", "2,3,5");
	EXPECT("{'field': 'source_channel_id', 'op': 'not_in', 'value': [2]}", "1,2,4,5,6,7");
	EXPECT("{'field': 'source_channel_id', 'op': 'exists'}", "2,3,5");
	EXPECT("{'field': 'source_channel_id', 'op': 'exists', 'value': true}", "2,3,5");
	EXPECT("{'field': 'owner_user_id', 'op': '=', 'value': 1}", "3,5");
	EXPECT("{'field': 'owner_user_id', 'op': 'exists', 'value': false}", "1,2,6,7");
	EXPECT("{'field': 'days_since_last_order', 'op': 'exists'}", "2,3,4,5");
	EXPECT("{'field': 'days_since_last_order', 'op': 'exists', 'value': false}", "1,6,7");
	EXPECT("{'field': 'days_since_last_checkin', 'op': 'exists', 'value': false}", "1,5,6,7");
	EXPECT("{'field': 'birthday_month', 'op': 'exists'}", "2,3,4,5,6,7");
	EXPECT("{'field': 'birthday_month', 'op': 'exists', 'value': false}", "1");
	EXPECT("{'field': 'tier', 'op': 'exists'}", "2,3,5");
	EXPECT("{'field': 'tier', 'op': 'exists', 'value': false}", "1,4,6,7");
	/* 5's "city": null was a removal (attrs merge as RFC 7386 patches) */
	EXPECT("{'field': 'attrs.city', 'op': 'exists'}", "2,3,4");
	EXPECT("{'field': 'attrs.city', 'op': 'exists', 'value': false}", "1,5,6,7");
	EXPECT("{'field': 'attrs.vip', 'op': 'exists'}", "3");
}

static void test_days_since(void **state)
{
	(void)state;
	/* last order: 2 at 02-28 23:59:59 (1 day here, 0 in UTC), 3 at 02-27
	 * 23:59:59 (2), 4 (90), 5 (30) */
	EXPECT("{'field': 'days_since_last_order', 'op': '=', 'value': 0}", "");
	EXPECT("{'field': 'days_since_last_order', 'op': '=', 'value': 1}", "2");
	EXPECT("{'field': 'days_since_last_order', 'op': '=', 'value': 2}", "3");
	EXPECT("{'field': 'days_since_last_order', 'op': '!=', 'value': 1}", "3,4,5");
	EXPECT("{'field': 'days_since_last_order', 'op': '>', 'value': 1}", "3,4,5");
	EXPECT("{'field': 'days_since_last_order', 'op': '>=', 'value': 30}", "4,5");
	EXPECT("{'field': 'days_since_last_order', 'op': '>', 'value': 30}", "4");
	EXPECT("{'field': 'days_since_last_order', 'op': '<', 'value': 2}", "2");
	EXPECT("{'field': 'days_since_last_order', 'op': '<', 'value': 0}", "");
	EXPECT("{'field': 'days_since_last_order', 'op': '<=', 'value': 2}", "2,3");
	EXPECT("{'field': 'days_since_last_order', 'op': 'between', 'value': [2, 30]}", "3,5");
	EXPECT("{'field': 'days_since_last_order', 'op': 'between', 'value': [90, 90]}", "4");
	EXPECT("{'field': 'days_since_first_order', 'op': 'between', 'value': [59, 365]}", "3,5");
	EXPECT("{'field': 'days_since_first_order', 'op': '>', 'value': 365}", "4");
	EXPECT("{'field': 'days_since_first_order', 'op': '=', 'value': 638}", "4");
	/* created: 1 at 00:10 today, 7 at 00:00:00 today, 2 at 00:00:00 yesterday */
	EXPECT("{'field': 'days_since_created', 'op': '=', 'value': 0}", "1,7");
	EXPECT("{'field': 'days_since_created', 'op': '<=', 'value': 1}", "1,2,7");
	EXPECT("{'field': 'days_since_created', 'op': '>', 'value': 28}", "3,4,5");
	EXPECT("{'field': 'days_since_created', 'op': '>=', 'value': 28}", "3,4,5,6");
	EXPECT("{'field': 'days_since_created', 'op': '=', 'value': 60}", "5");
	EXPECT("{'field': 'days_since_created', 'op': '>=', 'value': 36500}", "");
	/* check-ins are day numbers: 2 yesterday, 3 a week ago, 4 today */
	EXPECT("{'field': 'days_since_last_checkin', 'op': '=', 'value': 0}", "4");
	EXPECT("{'field': 'days_since_last_checkin', 'op': '!=', 'value': 0}", "2,3");
	EXPECT("{'field': 'days_since_last_checkin', 'op': '<=', 'value': 7}", "2,3,4");
	EXPECT("{'field': 'days_since_last_checkin', 'op': '<', 'value': 7}", "2,4");
	EXPECT("{'field': 'days_since_last_checkin', 'op': '>', 'value': 1}", "3");
	EXPECT("{'field': 'days_since_last_checkin', 'op': 'between', 'value': [1, 7]}", "2,3");
	/* one second before local midnight the day has not turned yet */
	int64_t before = sh(2026, 2, 28, 23, 59, 59);
	EXPECT_AT(before, "{'field': 'days_since_last_order', 'op': '=', 'value': 0}", "2");
	EXPECT_AT(before, "{'field': 'days_since_last_order', 'op': '=', 'value': 1}", "3");
	EXPECT_AT(before, "{'field': 'days_since_last_checkin', 'op': '=', 'value': 0}", "2");
	EXPECT_AT(before, "{'field': 'days_since_created', 'op': '=', 'value': 0}", "2");
	/* and the same instant seen from a zone west of UTC is another day again */
	assert_int_equal(time_set_zone("America/New_York"), 0);
	/* 2026-02-28 11:30 in New York: customer 2's last order (02-28 10:59:59
	 * there) is today, customer 3's (02-27 10:59:59) yesterday */
	EXPECT("{'field': 'days_since_last_order', 'op': '=', 'value': 0}", "2");
	EXPECT("{'field': 'days_since_last_order', 'op': '=', 'value': 1}", "3");
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
}

static void test_birthday_month(void **state)
{
	(void)state;
	/* NOW is in March here and still in February in UTC */
	EXPECT("{'field': 'birthday_month', 'op': '=', 'value': 'current'}", "2");
	EXPECT_AT(sh(2026, 2, 28, 23, 59, 59),
	          "{'field': 'birthday_month', 'op': '=', 'value': 'current'}", "3,6");
	EXPECT_AT(sh(2026, 12, 15, 12, 0, 0),
	          "{'field': 'birthday_month', 'op': '=', 'value': 'current'}", "4,7");
	EXPECT("{'field': 'birthday_month', 'op': 'in', 'value': [1, 'current']}", "2,5");
	EXPECT("{'field': 'birthday_month', 'op': '!=', 'value': 2}", "2,4,5,7");
	EXPECT("{'field': 'birthday_month', 'op': 'not_in', 'value': [2, 12]}", "2,5");
	EXPECT("{'field': 'birthday_month', 'op': '!=', 'value': 'current'}", "3,4,5,6,7");
	static const char *const by_month[13] = {NULL, "5", "3,6", "2", "", "",   "",
	                                         "",   "",  "",    "",  "", "4,7"};
	for (int m = 1; m <= 12; m++) {
		char rule[100];
		snprintf(rule, sizeof rule, "{'field': 'birthday_month', 'op': '=', 'value': %d}",
		         m);
		expect_at(__LINE__, rule, NOW, by_month[m]);
	}
}

static void test_birthday_in_days(void **state)
{
	(void)state;
	/* birthdays: 2 --03-01, 3 --02-29, 4 12-31, 5 01-01, 6 02-28, 7 12-30 */
	EXPECT("{'field': 'birthday_in_days', 'op': '=', 'value': 0}", "2");
	EXPECT("{'field': 'birthday_in_days', 'op': '<', 'value': 1}", "2");
	EXPECT("{'field': 'birthday_in_days', 'op': '<', 'value': 0}", "");
	EXPECT("{'field': 'birthday_in_days', 'op': '<=', 'value': 1}", "2");
	/* 2026-12-30 is 304 days on: the window runs over New Year */
	EXPECT("{'field': 'birthday_in_days', 'op': 'between', 'value': [304, 306]}", "4,5,7");
	EXPECT("{'field': 'birthday_in_days', 'op': '=', 'value': 306}", "5");
	/* a year ahead reaches 2027-02-28, where 29 February birthdays are kept */
	EXPECT("{'field': 'birthday_in_days', 'op': '<=', 'value': 366}", "2,3,4,5,6,7");
	EXPECT("{'field': 'birthday_in_days', 'op': 'between', 'value': [364, 364]}", "3,6");
	/* over New Year, late on 30 December (still the 30th in UTC too) */
	int64_t ny = sh(2026, 12, 30, 23, 30, 0);
	EXPECT_AT(ny, "{'field': 'birthday_in_days', 'op': '=', 'value': 0}", "7");
	EXPECT_AT(ny, "{'field': 'birthday_in_days', 'op': '<=', 'value': 2}", "4,5,7");
	EXPECT_AT(ny, "{'field': 'birthday_in_days', 'op': 'between', 'value': [1, 2]}", "4,5");
	EXPECT_AT(ny, "{'field': 'birthday_in_days', 'op': '=', 'value': 2}", "5");
	/* 00:30 on 31 December here is the 30th in UTC */
	EXPECT_AT(sh(2026, 12, 31, 0, 30, 0),
	          "{'field': 'birthday_in_days', 'op': '=', 'value': 0}", "4");
	EXPECT_AT(sh(2026, 12, 31, 0, 30, 0),
	          "{'field': 'birthday_in_days', 'op': '=', 'value': 1}", "5");
	/* 29 February: on the 28th in other years, on the day in leap years */
	int64_t feb = sh(2026, 2, 27, 12, 0, 0);
	EXPECT_AT(feb, "{'field': 'birthday_in_days', 'op': '=', 'value': 1}", "3,6");
	EXPECT_AT(feb, "{'field': 'birthday_in_days', 'op': '=', 'value': 2}", "2");
	EXPECT_AT(feb, "{'field': 'birthday_in_days', 'op': '<=', 'value': 2}", "2,3,6");
	EXPECT_AT(sh(2026, 2, 28, 0, 30, 0), "{'field': 'birthday_in_days', 'op': '=', 'value': 0}",
	          "3,6");
	int64_t leap = sh(2028, 2, 27, 12, 0, 0);
	EXPECT_AT(leap, "{'field': 'birthday_in_days', 'op': '=', 'value': 1}", "6");
	EXPECT_AT(leap, "{'field': 'birthday_in_days', 'op': '=', 'value': 2}", "3");
	EXPECT_AT(leap, "{'field': 'birthday_in_days', 'op': '=', 'value': 3}", "2");
	EXPECT_AT(leap, "{'field': 'birthday_in_days', 'op': 'between', 'value': [1, 3]}", "2,3,6");
	/* 2100 is not a leap year */
	EXPECT_AT(sh(2100, 2, 27, 12, 0, 0), "{'field': 'birthday_in_days', 'op': '=', 'value': 1}",
	          "3,6");
	EXPECT_AT(sh(2000, 2, 27, 12, 0, 0), "{'field': 'birthday_in_days', 'op': '=', 'value': 1}",
	          "6");
}

static void test_coupons(void **state)
{
	(void)state;
	/* active: 2 ends today, 3 tomorrow (its used one today is no matter), 4
	 * ended at 00:10 today, 5 in 7 days; 6's is expired */
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': '<=', 'value': 0}", "2");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': '<', 'value': 1}", "2");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': '<', 'value': 0}", "");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': '<=', 'value': 1}", "2,3");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': '<=', 'value': 7}", "2,3,5");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': '<=', 'value': 6}", "2,3");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': 'between', 'value': [1, 7]}", "3,5");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': 'between', 'value': [2, 6]}", "");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': 'between', 'value': [7, 7]}", "5");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': 'exists'}", "2,3,5");
	EXPECT("{'field': 'coupon_expiring_in_days', 'op': 'exists', 'value': false}", "1,4,6,7");
	/* at 00:05, customer 4's coupon is still good and ends today */
	EXPECT_AT(sh(2026, 3, 1, 0, 5, 0),
	          "{'field': 'coupon_expiring_in_days', 'op': '<=', 'value': 0}", "2,4");
	/* late on 28 February (the 28th in UTC too) today's coupons are 1 day off */
	EXPECT_AT(sh(2026, 2, 28, 23, 0, 0),
	          "{'field': 'coupon_expiring_in_days', 'op': 'between', 'value': [1, 1]}", "2,4");
}

static void test_stage_tier_tag(void **state)
{
	(void)state;
	EXPECT("{'field': 'stage', 'op': '=', 'value': 'converted'}", "3");
	EXPECT("{'field': 'stage', 'op': '!=', 'value': 'added'}", "2,3,4,5,6");
	EXPECT("{'field': 'stage', 'op': 'in', 'value': ['added', 'sharing']}", "1,5,7");
	EXPECT("{'field': 'stage', 'op': 'not_in', 'value': ['added', 'sharing']}", "2,3,4,6");
	EXPECT("{'field': 'stage', 'op': '>', 'value': 'converted'}", "4,5");
	EXPECT("{'field': 'stage', 'op': '>=', 'value': 'converted'}", "3,4,5");
	EXPECT("{'field': 'stage', 'op': '<', 'value': 'interested'}", "1,2,7");
	EXPECT("{'field': 'stage', 'op': '<=', 'value': 'interested'}", "1,2,6,7");
	EXPECT("{'field': 'stage', 'op': '<', 'value': 'added'}", "");
	EXPECT("{'field': 'stage', 'op': '>', 'value': 'repurchasing'}", "");
	EXPECT("{'field': 'stage', 'op': '>=', 'value': 'added'}", "1,2,3,4,5,6,7");

	EXPECT("{'field': 'tier', 'op': '=', 'value': 'gold'}", "2,5");
	EXPECT("{'field': 'tier', 'op': '=', 'value': 2}", "3");
	EXPECT("{'field': 'tier', 'op': 'in', 'value': ['silver', 1]}", "2,3,5");
	EXPECT("{'field': 'tier', 'op': '!=', 'value': 'gold'}", "1,3,4,6,7");
	EXPECT("{'field': 'tier', 'op': 'not_in', 'value': [1, 'silver']}", "1,4,6,7");
	EXPECT("{'field': 'tier', 'op': '=', 'value': 'bronze'}", "");
	EXPECT("{'field': 'tier', 'op': '=', 'value': 'GOLD'}", "");

	EXPECT("{'field': 'tag', 'op': 'has', 'value': 'vip'}", "2,3");
	EXPECT("{'field': 'tag', 'op': 'has', 'value': 2}", "3,4");
	EXPECT("{'field': 'tag', 'op': 'has_not', 'value': 'vip'}", "1,4,5,6,7");
	EXPECT("{'field': 'tag', 'op': 'has_not', 'value': 1}", "1,4,5,6,7");
	EXPECT("{'field': 'tag', 'op': 'in', 'value': ['vip', 2]}", "2,3,4");
	EXPECT("{'field': 'tag', 'op': 'not_in', 'value': ['vip', 'new']}", "1,5,6,7");
	EXPECT("{'field': 'tag', 'op': 'has', 'value': 'nosuch'}", "");
	EXPECT("{'field': 'tag', 'op': 'has', 'value': 99}", "");
	EXPECT("{'all': [{'field': 'tag', 'op': 'has', 'value': 'vip'},"
	       " {'field': 'tag', 'op': 'has', 'value': 'new'}]}",
	       "3");
}

static void test_masks_gender_groups(void **state)
{
	(void)state;
	EXPECT("{'field': 'platform', 'op': 'has', 'value': 'tmall'}", "2,3");
	EXPECT("{'field': 'platform', 'op': 'has', 'value': 'jd'}", "3,4");
	EXPECT("{'field': 'platform', 'op': 'has_not', 'value': 'tmall'}", "1,4,5,6,7");
	EXPECT("{'field': 'platform', 'op': 'in', 'value': ['tmall', 'jd']}", "2,3,4");
	EXPECT("{'field': 'platform', 'op': 'not_in', 'value': ['tmall', 'jd']}", "1,5,6,7");
	EXPECT("{'field': 'platform', 'op': 'has', 'value': 'douyin'}", "");
	EXPECT("{'field': 'platform', 'op': 'has', 'value': 'never_seen'}", "");
	EXPECT("{'field': 'platform', 'op': 'has_not', 'value': 'never_seen'}", "1,2,3,4,5,6,7");
	EXPECT("{'field': 'platform', 'op': 'in', 'value': ['never_seen', 'jd']}", "3,4");
	EXPECT("{'field': 'category', 'op': 'has', 'value': 'tea'}", "2,3");
	EXPECT("{'field': 'category', 'op': 'has', 'value': 'cups'}", "3,5");
	EXPECT("{'field': 'category', 'op': 'has_not', 'value': 'cups'}", "1,2,4,6,7");
	EXPECT("{'field': 'category', 'op': 'has', 'value': 'bit61'}", "6");
	EXPECT("{'field': 'category', 'op': 'in', 'value': ['bit61', 'tea']}", "2,3,6");
	EXPECT("{'field': 'category', 'op': 'has', 'value': 'Tea'}", "");
	/* a platform name is not a category */
	EXPECT("{'field': 'category', 'op': 'has', 'value': 'tmall'}", "");

	EXPECT("{'field': 'gender', 'op': '=', 'value': 'f'}", "2,4,7");
	EXPECT("{'field': 'gender', 'op': '!=', 'value': 'f'}", "1,3,5,6");
	EXPECT("{'field': 'gender', 'op': 'in', 'value': ['m', 'u']}", "1,3,5,6");
	EXPECT("{'field': 'gender', 'op': 'not_in', 'value': ['u']}", "2,3,4,5,7");

	EXPECT("{'field': 'group_id', 'op': 'has', 'value': 1}", "2,3");
	EXPECT("{'field': 'group_id', 'op': 'has', 'value': 2}", "3");
	EXPECT("{'field': 'group_id', 'op': 'has_not', 'value': 1}", "1,4,5,6,7");
	EXPECT("{'field': 'group_id', 'op': 'in', 'value': [1, 2]}", "2,3");
	EXPECT("{'field': 'group_id', 'op': 'not_in', 'value': [2]}", "1,2,4,5,6,7");
	EXPECT("{'field': 'group_id', 'op': 'has', 'value': 3}", "");
}

static void test_attrs(void **state)
{
	(void)state;
	/* attrs: 2 {city Paris, n 5}, 3 {city O'Hare, n 10, vip true}, 4 {city
	 * paris}, 5 {n 2.5}, 6 {other: 1} */
	EXPECT("{'field': 'attrs.city', 'op': '=', 'value': 'Paris'}", "2");
	EXPECT("{'field': 'attrs.city', 'op': '!=', 'value': 'Paris'}", "3,4");
	EXPECT("{'field': 'attrs.city', 'op': 'in', 'value': ['Paris', 'paris']}", "2,4");
	EXPECT("{'field': 'attrs.city', 'op': 'not_in', 'value': ['Paris']}", "3,4");
	EXPECT("{'field': 'attrs.city', 'op': '>', 'value': 'P'}", "2,4");
	EXPECT("{'field': 'attrs.city', 'op': 'between', 'value': ['O', 'Q']}", "2,3");
	EXPECT("{'field': 'attrs.n', 'op': '=', 'value': 5}", "2");
	EXPECT("{'field': 'attrs.n', 'op': '=', 'value': 5.0}", "2");
	EXPECT("{'field': 'attrs.n', 'op': '>', 'value': 4}", "2,3");
	EXPECT("{'field': 'attrs.n', 'op': '<', 'value': 5}", "5");
	EXPECT("{'field': 'attrs.n', 'op': '<=', 'value': 5}", "2,5");
	EXPECT("{'field': 'attrs.n', 'op': '>=', 'value': 2.5}", "2,3,5");
	EXPECT("{'field': 'attrs.n', 'op': 'between', 'value': [2, 5]}", "2,5");
	EXPECT("{'field': 'attrs.n', 'op': 'between', 'value': [2.6, 10]}", "2,3");
	EXPECT("{'field': 'attrs.n', 'op': 'in', 'value': [10, 2.5]}", "3,5");
	EXPECT("{'field': 'attrs.n', 'op': 'not_in', 'value': [5]}", "3,5");
	EXPECT("{'field': 'attrs.n', 'op': '!=', 'value': 5}", "3,5");
	/* a number is not its text */
	EXPECT("{'field': 'attrs.n', 'op': '=', 'value': '5'}", "");
	EXPECT("{'field': 'attrs.vip', 'op': '=', 'value': true}", "3");
	EXPECT("{'field': 'attrs.vip', 'op': '!=', 'value': false}", "3");
	EXPECT("{'field': 'attrs.nosuch', 'op': '=', 'value': 1}", "");
}

static void test_time_based(void **state)
{
	(void)state;
	static const struct {
		const char *rule;
		bool time_based;
	} cases[] = {
	    {"{'field': 'order_count', 'op': '>', 'value': 1}", false},
	    {"{'field': 'total_spent_cents', 'op': 'between', 'value': [1, 2]}", false},
	    {"{'field': 'stage', 'op': '>', 'value': 'added'}", false},
	    {"{'field': 'tier', 'op': '=', 'value': 'gold'}", false},
	    {"{'field': 'tag', 'op': 'has', 'value': 'vip'}", false},
	    {"{'field': 'platform', 'op': 'has', 'value': 'tmall'}", false},
	    {"{'field': 'category', 'op': 'has', 'value': 'tea'}", false},
	    {"{'field': 'gender', 'op': '=', 'value': 'f'}", false},
	    {"{'field': 'group_id', 'op': 'has', 'value': 1}", false},
	    {"{'field': 'source_channel_id', 'op': 'exists'}", false},
	    {"{'field': 'attrs.n', 'op': '>', 'value': 1}", false},
	    {"{'field': 'birthday_month', 'op': '=', 'value': 3}", false},
	    {"{'field': 'birthday_month', 'op': 'in', 'value': [1, 2]}", false},
	    {"{'field': 'birthday_month', 'op': 'exists'}", false},
	    {"{'field': 'days_since_last_order', 'op': 'exists'}", false},
	    {"{'field': 'days_since_last_order', 'op': '>', 'value': 30}", true},
	    {"{'field': 'days_since_first_order', 'op': 'between', 'value': [1, 2]}", true},
	    {"{'field': 'days_since_created', 'op': '=', 'value': 0}", true},
	    {"{'field': 'days_since_last_checkin', 'op': '<=', 'value': 7}", true},
	    {"{'field': 'birthday_month', 'op': '=', 'value': 'current'}", true},
	    {"{'field': 'birthday_month', 'op': 'not_in', 'value': [1, 'current']}", true},
	    {"{'field': 'birthday_in_days', 'op': '<=', 'value': 7}", true},
	    {"{'field': 'coupon_expiring_in_days', 'op': '<=', 'value': 3}", true},
	    {"{'field': 'coupon_expiring_in_days', 'op': 'exists'}", true},
	    {"{'all': [{'field': 'order_count', 'op': '>', 'value': 1},"
	     " {'field': 'tag', 'op': 'has', 'value': 'vip'}]}",
	     false},
	    {"{'any': [{'field': 'order_count', 'op': '>', 'value': 1},"
	     " {'not': {'field': 'days_since_last_order', 'op': '<', 'value': 7}}]}",
	     true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = rule_q(cases[i].rule);
		bool tb = !cases[i].time_based;
		char *ids = select_ids(j, NOW, &tb);
		if (tb != cases[i].time_based)
			fail_msg("%s: time_based is %d", cases[i].rule, tb);
		free(ids);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_paths),
	    cmocka_unit_test(test_unknown_fields_and_ops),
	    cmocka_unit_test(test_value_types),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_no_user_text),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_not_over_nulls),
	    cmocka_unit_test(test_ids_exists),
	    cmocka_unit_test(test_days_since),
	    cmocka_unit_test(test_birthday_month),
	    cmocka_unit_test(test_birthday_in_days),
	    cmocka_unit_test(test_coupons),
	    cmocka_unit_test(test_stage_tier_tag),
	    cmocka_unit_test(test_masks_gender_groups),
	    cmocka_unit_test(test_attrs),
	    cmocka_unit_test(test_time_based),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
