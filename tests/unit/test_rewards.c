/* test_rewards.c - coupons and the points mall: the lottery draw (weights
 * respected, zero weights never drawn), coupon expiry on the business
 * calendar across month and year ends, template rules, and on a real database
 * the order of the redeem checks, the stock floor, per-customer limits, the
 * points ledger staying equal to the balance, and coupon redemption rules. */
#include "harness.h"

#include "../../src/store/internal.h"
#include "db_tx.h"
#include "scrm/core_loyalty.h"
#include "scrm/store_rewards.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <jansson.h>

/* A local time in Asia/Shanghai (UTC+8, no daylight saving) as Unix time. */
static int64_t sh(int y, int m, int d, int hh, int mm, int ss)
{
	return time_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60 +
	       ss - 8 * 3600;
}

static int setup(void **state)
{
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	return tx_setup(state);
}

/* The lottery ------------------------------------------------------------------- */

static void test_lottery_pick(void **state)
{
	(void)state;
	const int64_t w[] = {3, 0, 1, -5, 2};
	/* r walks the positive weights in order: [0,3) -> 0, [3,4) -> 2, [4,6) -> 4 */
	const int want[] = {0, 0, 0, 2, 4, 4};
	for (uint64_t r = 0; r < 6; r++)
		assert_int_equal(core_lottery_pick(w, 5, r), want[r]);
	assert_int_equal(core_lottery_pick(w, 5, 6), -1);
	const int64_t none[] = {0, 0, -1};
	assert_int_equal(core_lottery_draw(none, 3), -1);
	assert_int_equal(core_lottery_draw(none, 0), -1);
	const int64_t only[] = {0, 7, 0};
	for (int i = 0; i < 100; i++)
		assert_int_equal(core_lottery_draw(only, 3), 1);
}

static void test_lottery_weights(void **state)
{
	(void)state;
	/* 1 : 0 : 3 : 6 over 40,000 draws: expected 4,000 / 0 / 12,000 / 24,000.
	 * One standard deviation is at most ~100; allow six. */
	const int64_t w[] = {1, 0, 3, 6};
	int counts[4] = {0};
	const int n = 40000;
	for (int i = 0; i < n; i++) {
		int k = core_lottery_draw(w, 4);
		assert_true(k >= 0 && k < 4);
		counts[k]++;
	}
	assert_int_equal(counts[1], 0);
	const int expect[] = {4000, 0, 12000, 24000};
	for (int k = 0; k < 4; k++) {
		if (abs(counts[k] - expect[k]) > 600)
			fail_msg("prize %d drawn %d times, expected about %d", k, counts[k],
			         expect[k]);
	}
}

/* Expiry ------------------------------------------------------------------------ */

static void test_coupon_expiry(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	struct coupon_template t = {.valid_days = 1};
	/* Jan 31 04:00 local (Jan 30 in UTC): one day later is Feb 1, to its last second */
	assert_int_equal(core_coupon_expiry(&t, sh(2026, 1, 31, 4, 0, 0)),
	                 sh(2026, 2, 1, 23, 59, 59));
	/* the last second of Jan 31 and the first of Feb 1 are different business days */
	assert_int_equal(core_coupon_expiry(&t, sh(2026, 1, 31, 23, 59, 59)),
	                 sh(2026, 2, 1, 23, 59, 59));
	assert_int_equal(core_coupon_expiry(&t, sh(2026, 2, 1, 0, 0, 0)),
	                 sh(2026, 2, 2, 23, 59, 59));
	/* in UTC that is Feb 1 15:59:59 */
	assert_int_equal(sh(2026, 2, 1, 23, 59, 59),
	                 time_days_from_civil(2026, 2, 1) * 86400 + 15 * 3600 + 59 * 60 + 59);
	/* 30 days from Jan 31 is Mar 2 (February has 28 days in 2026, 29 in 2028) */
	t.valid_days = 30;
	assert_int_equal(core_coupon_expiry(&t, sh(2026, 1, 31, 12, 0, 0)),
	                 sh(2026, 3, 2, 23, 59, 59));
	assert_int_equal(core_coupon_expiry(&t, sh(2028, 1, 31, 12, 0, 0)),
	                 sh(2028, 3, 1, 23, 59, 59));
	/* across the year end; Feb 28 of a leap year is followed by Feb 29 */
	t.valid_days = 1;
	assert_int_equal(core_coupon_expiry(&t, sh(2026, 12, 31, 8, 0, 0)),
	                 sh(2027, 1, 1, 23, 59, 59));
	assert_int_equal(core_coupon_expiry(&t, sh(2028, 2, 28, 8, 0, 0)),
	                 sh(2028, 2, 29, 23, 59, 59));
	/* valid_until wins when it comes first, valid_days when it does */
	t.valid_days = 7;
	t.valid_until = sh(2026, 3, 3, 12, 0, 0);
	assert_int_equal(core_coupon_expiry(&t, sh(2026, 3, 1, 9, 0, 0)), t.valid_until);
	assert_int_equal(core_coupon_expiry(&t, sh(2026, 2, 1, 9, 0, 0)),
	                 sh(2026, 2, 8, 23, 59, 59));
	t.valid_days = 0;
	assert_int_equal(core_coupon_expiry(&t, sh(2026, 2, 1, 9, 0, 0)), t.valid_until);
	/* the status seen at a time: active up to and at expires_at, expired after */
	struct coupon c = {.status = "active", .expires_at = 1000};
	assert_string_equal(core_coupon_status(&c, 1000), "active");
	assert_string_equal(core_coupon_status(&c, 1001), "expired");
	c.status = "used";
	assert_string_equal(core_coupon_status(&c, 5000), "used");
	c.status = "expired";
	assert_string_equal(core_coupon_status(&c, 0), "expired");
}

static void test_template_rules(void **state)
{
	(void)state;
	struct core_err e = {0};
	int64_t now = sh(2026, 5, 1, 0, 0, 0);
	struct {
		const char *kind;
		int64_t value, min_spend, days, until;
		bool until_set;
		const char *field; /* NULL: accepted */
	} cases[] = {
	    {"amount_off", 1000, 0, 7, 0, false, NULL},
	    {"amount_off", 0, 0, 7, 0, false, "value"},
	    {"amount_off", -5, 0, 7, 0, false, "value"},
	    {"percent_off", 1, 0, 7, 0, false, NULL},
	    {"percent_off", 99, 0, 7, 0, false, NULL},
	    {"percent_off", 100, 0, 7, 0, false, "value"},
	    {"percent_off", 0, 0, 7, 0, false, "value"},
	    {"gift", 0, 0, 7, 0, false, NULL},
	    {"gift", 5, 0, 7, 0, false, "value"},
	    {"cashback", 5, 0, 7, 0, false, "kind"},
	    {"gift", 0, -1, 7, 0, false, "min_spend_cents"},
	    {"gift", 0, 0, 0, 0, false, "valid_days"},
	    {"gift", 0, 0, 3651, 0, false, "valid_days"},
	    {"gift", 0, 0, 0, now + 1, true, NULL},
	    {"gift", 0, 0, 0, now, true, "valid_until"},
	    /* a stored past valid_until is not refused when the patch leaves it */
	    {"gift", 0, 0, 0, now - 10, false, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct coupon_template t = {.kind = (char *)cases[i].kind,
		                            .value = cases[i].value,
		                            .min_spend_cents = cases[i].min_spend,
		                            .valid_days = cases[i].days,
		                            .valid_until = cases[i].until};
		int rc = core_coupon_template_check(&t, cases[i].until_set, now, &e);
		if (!cases[i].field) {
			if (rc != 0)
				fail_msg("case %zu refused: %s", i, e.msg);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(e.field, cases[i].field);
		}
	}
}

/* On a database --------------------------------------------------------------------- */

static int64_t customer(const char *name)
{
	struct customer_patch p = {.set = CF_NAME, .name = name};
	struct core_err e = {0};
	struct customer c = {0};
	assert_int_equal(core_customer_check(&p, &e), 0);
	if (core_customer_create(db, &p, sh(2026, 1, 1, 9, 0, 0), &c, &e) < 0)
		fail_msg("create: %s", e.msg);
	int64_t id = c.id;
	customer_clear(&c);
	return id;
}

static void grant(int64_t c, int64_t points, int64_t now)
{
	struct points_rules r;
	struct core_err e = {0};
	core_points_rules_default(&r);
	if (core_points_grant(db, c, points, "test", "manual", 0, NULL, now, &r, &e) < 0)
		fail_msg("grant: %s", e.msg);
}

/* balance, ledger sum and lots agree */
static int64_t balance(int64_t c)
{
	int64_t b = store_points_balance(db, c);
	sqlite3_stmt *st = NULL;
	assert_int_equal(
	    sqlite3_prepare_v2(db->h,
	                       "SELECT coalesce(sum(delta), 0), coalesce(sum(remaining), 0)"
	                       " FROM points_ledger WHERE customer_id = ?",
	                       -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, c);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), b);
	assert_int_equal(sqlite3_column_int64(st, 1), b);
	sqlite3_finalize(st);
	return b;
}

static int64_t template(const char *kind, int64_t value, int64_t min_spend, int64_t now)
{
	struct coupon_template t = {.name = "T",
	                            .kind = (char *)kind,
	                            .value = value,
	                            .min_spend_cents = min_spend,
	                            .valid_days = 10,
	                            .active = true};
	struct core_err e = {0};
	assert_int_equal(core_coupon_template_check(&t, false, now, &e), 0);
	assert_int_equal(core_coupon_template_save(db, &t, NULL, now, &e), 0);
	t.name = t.kind = NULL;
	return t.id;
}

/* stock -1: unlimited */
static int64_t reward_at(const char *kind, int64_t cost, int64_t stock, int64_t limit,
                         int64_t template_id, const char *prizes, int64_t starts, int64_t ends)
{
	struct reward r = {.name = xstrdup("R"),
	                   .kind = xstrdup(kind),
	                   .points_cost = cost,
	                   .has_stock = stock >= 0,
	                   .stock = stock,
	                   .per_customer_limit = limit,
	                   .coupon_template_id = template_id,
	                   .prizes = xstrdup("[]"),
	                   .starts_at = starts,
	                   .ends_at = ends,
	                   .active = true,
	                   .created_at = 1};
	json_t *p = prizes ? json_loads(prizes, 0, NULL) : NULL;
	struct core_err e = {0};
	if (core_reward_check(db, &r, p, &e) < 0)
		fail_msg("reward: %s (%s)", e.msg, e.field ? e.field : "-");
	json_decref(p);
	assert_int_equal(store_reward_insert(db, &r), ST_OK);
	int64_t id = r.id;
	reward_clear(&r);
	return id;
}

static int64_t reward(const char *kind, int64_t cost, int64_t stock, int64_t limit,
                      int64_t template_id, const char *prizes)
{
	return reward_at(kind, cost, stock, limit, template_id, prizes, 0, 0);
}

/* Redeem; returns the error code ("ok" on success). */
static const char *redeem(int64_t rid, int64_t c, int64_t now, struct reward_result *out)
{
	struct reward_result tmp;
	struct core_err e = {0};
	struct reward_result *res = out ? out : &tmp;
	int rc = core_reward_redeem(db, rid, c, now, res, &e);
	if (!out)
		core_reward_result_clear(&tmp);
	if (rc == 0)
		return "ok";
	if (e.rc == CORE_INVALID)
		return e.code ? e.code : "validation_failed";
	return e.rc == CORE_NOT_FOUND ? "not_found" : e.rc == CORE_CONFLICT ? "conflict" : "store";
}

static void test_reward_rules(void **state)
{
	(void)state;
	int64_t now = sh(2026, 5, 1, 10, 0, 0);
	int64_t tpl = template("amount_off", 500, 0, now);
	struct core_err e = {0};
	struct {
		const char *kind;
		int64_t template_id, starts, ends;
		const char *prizes, *field;
	} cases[] = {
	    {"gift", 0, 0, 0, NULL, NULL},
	    {"gift", tpl, 0, 0, NULL, "coupon_template_id"},
	    {"coupon", 0, 0, 0, NULL, "coupon_template_id"},
	    {"coupon", 99999, 0, 0, NULL, "coupon_template_id"},
	    {"coupon", tpl, 0, 0, "[{\"name\":\"x\",\"weight\":1}]", "prizes"},
	    {"lottery", 0, 0, 0, NULL, "prizes"},
	    {"lottery", 0, 0, 0, "[]", "prizes"},
	    {"lottery", tpl, 0, 0, "[{\"name\":\"x\",\"weight\":1}]", "coupon_template_id"},
	    {"lottery", 0, 0, 0, "[{\"name\":\"x\",\"weight\":0}]", "prizes[0].weight"},
	    {"lottery", 0, 0, 0, "[{\"name\":\"x\",\"weight\":1},{\"weight\":1}]",
	     "prizes[1].name"},
	    {"lottery", 0, 0, 0, "[{\"name\":\"x\",\"weight\":1,\"coupon_template_id\":99999}]",
	     "prizes[0].coupon_template_id"},
	    {"lottery", 0, 0, 0, "[{\"name\":\"x\",\"weight\":1,\"odds\":2}]", "prizes[0].odds"},
	    {"lottery", 0, 0, 0, "[7]", "prizes[0]"},
	    {"flash_sale", 0, 0, now + 10, NULL, "starts_at"},
	    {"flash_sale", 0, now, 0, NULL, "ends_at"},
	    {"flash_sale", 0, now, now, NULL, "ends_at"},
	    {"flash_sale", tpl, now, now + 10, NULL, NULL},
	    {"raffle", 0, 0, 0, NULL, "kind"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct reward r = {.name = xstrdup("R"),
		                   .kind = xstrdup(cases[i].kind),
		                   .coupon_template_id = cases[i].template_id,
		                   .starts_at = cases[i].starts,
		                   .ends_at = cases[i].ends,
		                   .prizes = xstrdup("[]"),
		                   .active = true};
		json_t *p = cases[i].prizes ? json_loads(cases[i].prizes, 0, NULL) : NULL;
		int rc = core_reward_check(db, &r, p, &e);
		json_decref(p);
		reward_clear(&r);
		if (!cases[i].field) {
			if (rc != 0)
				fail_msg("case %zu refused: %s", i, e.msg);
		} else {
			if (rc != -1)
				fail_msg("case %zu accepted", i);
			assert_string_equal(e.field, cases[i].field);
		}
	}
	/* a prize's template set to null is stored as null; missing is null too */
	struct reward r = {.name = xstrdup("L"), .kind = xstrdup("lottery"), .prizes = NULL};
	json_t *p = json_loads("[{\"name\":\"a\",\"weight\":2},{\"name\":\"b\",\"weight\":1,"
	                       "\"coupon_template_id\":null}]",
	                       0, NULL);
	assert_int_equal(core_reward_check(db, &r, p, &e), 0);
	assert_string_equal(r.prizes, "[{\"name\":\"a\",\"weight\":2,\"coupon_template_id\":null},"
	                              "{\"name\":\"b\",\"weight\":1,\"coupon_template_id\":null}]");
	json_decref(p);
	reward_clear(&r);
}

static void test_redeem_order_and_stock(void **state)
{
	(void)state;
	int64_t now = sh(2026, 5, 1, 10, 0, 0);
	int64_t rich = customer("Rich"), poor = customer("Poor");
	grant(rich, 1000, now);
	grant(poor, 50, now);
	/* stock 2, limit 1, cost 100 */
	int64_t rid = reward("gift", 100, 2, 1, 0, NULL);
	assert_string_equal(redeem(rid, poor, now, NULL), "insufficient_points");
	assert_string_equal(redeem(rid, rich, now, NULL), "ok");
	assert_int_equal(balance(rich), 900);
	assert_int_equal(balance(poor), 50);
	/* limit before stock and points */
	assert_string_equal(redeem(rid, rich, now, NULL), "limit_reached");
	int64_t other = customer("Other");
	grant(other, 100, now);
	assert_string_equal(redeem(rid, other, now, NULL), "ok");
	assert_int_equal(balance(other), 0);
	/* out of stock now: before points, after the limit */
	assert_string_equal(redeem(rid, poor, now, NULL), "out_of_stock");
	assert_string_equal(redeem(rid, rich, now, NULL), "limit_reached");
	struct reward r = {0};
	assert_int_equal(store_reward_get(db, rid, &r), ST_OK);
	assert_true(r.has_stock);
	assert_int_equal(r.stock, 0);
	/* the stock never goes below zero, whatever the caller checked */
	reward_clear(&r);
	assert_int_equal(store_reward_take_stock(db, rid, now), ST_CONFLICT);
	assert_int_equal(store_reward_get(db, rid, &r), ST_OK);
	assert_int_equal(r.stock, 0);
	reward_clear(&r);
	assert_int_equal(store_redemption_count_by(db, rid, 0), 2);
	assert_int_equal(store_redemption_count_by(db, rid, rich), 1);
	/* window and switch before everything: a switched-off reward out of stock */
	assert_int_equal(store_reward_get(db, rid, &r), ST_OK);
	r.active = false;
	assert_int_equal(store_reward_update(db, &r), ST_OK);
	assert_string_equal(redeem(rid, rich, now, NULL), "not_available");
	reward_clear(&r);
	int64_t later = reward_at("flash_sale", 10, -1, 0, 0, NULL, now + 60, now + 3600);
	assert_string_equal(redeem(later, rich, now, NULL), "not_available");
	assert_string_equal(redeem(later, rich, now + 60, NULL), "ok");
	assert_string_equal(redeem(later, rich, now + 3600, NULL), "not_available");
	/* unlimited stock stays unlimited */
	assert_int_equal(store_reward_take_stock(db, later, now), ST_NOT_FOUND);
	assert_string_equal(redeem(99999, rich, now, NULL), "not_found");
	assert_string_equal(redeem(rid, 99999, now, NULL), "not_found");
	assert_int_equal(balance(rich), 890);
}

static void test_redeem_coupons_and_lottery(void **state)
{
	(void)state;
	int64_t now = sh(2026, 5, 1, 10, 0, 0);
	int64_t c = customer("Winner");
	grant(c, 10000, now);
	int64_t tpl = template("percent_off", 10, 0, now);
	int64_t rid = reward("coupon", 300, -1, 0, tpl, NULL);
	struct reward_result res;
	assert_string_equal(redeem(rid, c, now, &res), "ok");
	assert_true(res.has_coupon);
	assert_null(res.prize);
	assert_string_equal(res.coupon.source, "reward");
	assert_string_equal(res.coupon.kind, "percent_off");
	assert_int_equal(res.coupon.expires_at, sh(2026, 5, 11, 23, 59, 59));
	assert_int_equal(res.points_spent, 300);
	assert_int_equal(res.points_balance, 9700);
	core_reward_result_clear(&res);
	/* a lottery: only the prize with weight is ever drawn; its coupon has source lottery */
	int64_t lot = 0;
	char prizes[200];
	snprintf(prizes, sizeof prizes,
	         "[{\"name\":\"coupon\",\"weight\":5,\"coupon_template_id\":%lld},"
	         "{\"name\":\"nothing\",\"weight\":5}]",
	         (long long)tpl);
	lot = reward("lottery", 10, -1, 0, 0, prizes);
	int won = 0, lost = 0;
	for (int i = 0; i < 40; i++) {
		assert_string_equal(redeem(lot, c, now, &res), "ok");
		assert_non_null(res.prize);
		const char *name = json_string_value(json_object_get(res.prize, "name"));
		if (strcmp(name, "coupon") == 0) {
			won++;
			assert_true(res.has_coupon);
			assert_string_equal(res.coupon.source, "lottery");
		} else {
			lost++;
			assert_string_equal(name, "nothing");
			assert_false(res.has_coupon);
		}
		core_reward_result_clear(&res);
	}
	assert_true(won > 0 && lost > 0);
	assert_int_equal(balance(c), 9700 - 400);
	/* a template switched off makes its rewards unavailable, before points */
	struct coupon_template t = {0};
	assert_int_equal(store_coupon_template_get(db, tpl, &t), ST_OK);
	t.active = false;
	assert_int_equal(store_coupon_template_update(db, &t), ST_OK);
	coupon_template_clear(&t);
	int64_t broke = customer("Broke");
	assert_string_equal(redeem(rid, broke, now, NULL), "not_available");
	assert_string_equal(redeem(lot, broke, now, NULL), "not_available");
	/* and the template cannot be deleted while rewards give it */
	struct core_err e = {0};
	assert_int_equal(core_coupon_template_delete(db, tpl, &e), -1);
	assert_int_equal(e.rc, CORE_CONFLICT);
	assert_int_equal(store_rewards_using_template(db, tpl), 2);
	balance(c);
}

static void test_coupon_redeem(void **state)
{
	(void)state;
	int64_t now = sh(2026, 5, 1, 10, 0, 0);
	int64_t c = customer("Shopper"), other = customer("Other");
	int64_t tpl = template("amount_off", 1000, 5000, now);
	struct coupon cp = {0}, used = {0};
	struct core_err e = {0};
	assert_int_equal(core_coupon_issue(db, c, tpl, "manual", now, &cp, &e), 0);
	assert_int_equal(strlen(cp.code), 12);
	/* orders: the customer's small one, a refunded one, the other's, a good one */
	struct order_in in = {.set = OF_AMOUNT | OF_STATUS | OF_PAID_AT | OF_CUSTOMER,
	                      .platform = "tmall",
	                      .status = "paid",
	                      .paid_at = now};
	int64_t ids[4];
	const char *ext[] = {"small", "refunded", "others", "good"};
	int64_t amount[] = {4999, 9000, 9000, 5000};
	for (int i = 0; i < 4; i++) {
		struct order o = {0};
		enum upsert_result res;
		in.external_id = ext[i];
		in.amount_cents = amount[i];
		in.customer_id = i == 2 ? other : c;
		in.status = i == 1 ? "refunded" : "paid";
		if (core_order_upsert(db, &in, now, &o, &res, &e) < 0)
			fail_msg("order: %s", e.msg);
		ids[i] = o.id;
		order_clear(&o);
	}
	const char *why[] = {"minimum spend of 5000 cents", "is refunded", "not an order of"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(core_coupon_redeem(db, cp.code, ids[i], now, &used, &e), -1);
		assert_int_equal(e.rc, CORE_INVALID);
		assert_string_equal(e.field, "order_id");
		if (!strstr(e.msg, why[i]))
			fail_msg("order %d: %s", i, e.msg);
		coupon_clear(&used);
	}
	assert_int_equal(core_coupon_redeem(db, cp.code, 999999, now, &used, &e), -1);
	assert_string_equal(e.field, "order_id");
	coupon_clear(&used);
	/* an expired coupon is a conflict that says when */
	assert_int_equal(core_coupon_redeem(db, cp.code, ids[3], cp.expires_at + 1, &used, &e), -1);
	assert_int_equal(e.rc, CORE_CONFLICT);
	assert_non_null(strstr(e.msg, "expired at 2026-05-11T15:59:59Z"));
	coupon_clear(&used);
	/* the last second is still good */
	assert_int_equal(core_coupon_redeem(db, cp.code, ids[3], cp.expires_at, &used, &e), 0);
	assert_string_equal(used.status, "used");
	assert_int_equal(used.order_id, ids[3]);
	assert_int_equal(used.used_at, cp.expires_at);
	coupon_clear(&used);
	assert_int_equal(core_coupon_redeem(db, cp.code, 0, now, &used, &e), -1);
	assert_int_equal(e.rc, CORE_CONFLICT);
	coupon_clear(&used);
	assert_int_equal(core_coupon_redeem(db, "NOSUCHCODE22", 0, now, &used, &e), -1);
	assert_int_equal(e.rc, CORE_NOT_FOUND);
	coupon_clear(&used);
	/* the terms of a template with issued coupons are fixed; its name is not */
	struct coupon_template old = {0}, t = {0};
	assert_int_equal(store_coupon_template_get(db, tpl, &old), ST_OK);
	t = old;
	t.value = 2000;
	assert_int_equal(core_coupon_template_save(db, &t, &old, now, &e), -1);
	assert_int_equal(e.rc, CORE_CONFLICT);
	assert_string_equal(e.field, "value");
	t.value = old.value;
	t.name = "Renamed";
	assert_int_equal(core_coupon_template_save(db, &t, &old, now, &e), 0);
	coupon_template_clear(&old);
	coupon_clear(&cp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lottery_pick),
	    cmocka_unit_test(test_lottery_weights),
	    cmocka_unit_test(test_coupon_expiry),
	    cmocka_unit_test(test_template_rules),
	    cmocka_unit_test_setup_teardown(test_reward_rules, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_redeem_order_and_stock, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_redeem_coupons_and_lottery, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_coupon_redeem, setup, tx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
