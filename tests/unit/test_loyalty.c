/* test_loyalty.c - the member club's rules on a real database: the business
 * calendar, points rules, FIFO lots and expiry, order earnings and refund
 * clawbacks with shortfall, check-in streaks across month ends and the time
 * zone's midnight, tiers over the 12-month window, and the wallet floor. */
#include "harness.h"

#include "../../src/store/internal.h"
#include "db_tx.h"
#include "scrm/core_loyalty.h"
#include "scrm/timeutil.h"

#include <jansson.h>

/* 2026-11-22 00:00 in Asia/Shanghai is 2026-11-21 16:00 UTC. */
static int64_t sh(int y, int m, int d, int hh, int mm)
{
	return time_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60 -
	       8 * 3600;
}

static int setup(void **state)
{
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	return tx_setup(state);
}

static int64_t customer(const char *phone)
{
	struct customer_patch p = {.set = CF_PHONE, .phone = phone};
	struct core_err e = {0};
	struct customer c = {0};
	assert_int_equal(core_customer_check(&p, &e), 0);
	if (core_customer_create(db, &p, sh(2026, 1, 1, 9, 0), &c, &e) < 0)
		fail_msg("create: %s", e.msg);
	int64_t id = c.id;
	customer_clear(&c);
	return id;
}

static void set_rules(const char *json)
{
	struct points_rules r;
	struct core_err e = {0};
	core_points_rules_default(&r);
	json_t *j = json_loads(json, 0, NULL);
	if (core_points_rules_apply(&r, j, &e) < 0)
		fail_msg("rules: %s", e.msg);
	json_decref(j);
	assert_int_equal(core_points_rules_save(db, &r, 1, &e), 0);
}

/* balance, ledger sum and lots must agree, always */
static int64_t balance(int64_t c)
{
	int64_t b = store_points_balance(db, c);
	sqlite3_stmt *st = NULL;
	assert_int_equal(
	    sqlite3_prepare_v2(
	        db->h,
	        "SELECT coalesce(sum(delta), 0), coalesce(sum(remaining), 0),"
	        " coalesce(min(remaining), 0) FROM points_ledger WHERE customer_id = ?",
	        -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, c);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), b);
	assert_int_equal(sqlite3_column_int64(st, 1), b);
	assert_true(sqlite3_column_int64(st, 2) >= 0);
	sqlite3_finalize(st);
	return b;
}

static void test_calendar(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	/* one second before and at midnight in Shanghai: two business days */
	int64_t d1 = time_local_day(sh(2026, 11, 22, 23, 59) + 59);
	int64_t d2 = time_local_day(sh(2026, 11, 23, 0, 0));
	assert_int_equal(d2, d1 + 1);
	assert_int_equal(time_local_day_start(d2), sh(2026, 11, 23, 0, 0));
	assert_int_equal(time_local_day_end(d1), sh(2026, 11, 23, 0, 0) - 1);
	/* month arithmetic clamps to the month's end */
	int y, m, d;
	time_local_ymd(time_local_add_months(sh(2026, 1, 31, 10, 0), 1), &y, &m, &d);
	assert_int_equal(y * 10000 + m * 100 + d, 20260228);
	time_local_ymd(time_local_add_months(sh(2024, 1, 31, 10, 0), 1), &y, &m, &d);
	assert_int_equal(y * 10000 + m * 100 + d, 20240229);
	time_local_ymd(time_local_add_months(sh(2026, 11, 30, 10, 0), -12), &y, &m, &d);
	assert_int_equal(y * 10000 + m * 100 + d, 20251130);
	time_civil_from_days(time_days_from_civil(2000, 2, 29), &y, &m, &d);
	assert_int_equal(y * 10000 + m * 100 + d, 20000229);
	assert_int_equal(time_set_zone("No/Such_Zone"), -1);
}

static void test_rules(void **state)
{
	(void)state;
	struct points_rules r;
	struct core_err e = {0};
	core_points_rules_default(&r);
	assert_int_equal(r.per_yuan_x100, 100);
	assert_int_equal(r.schedule_len, 7);
	const char *bad[][2] = {
	    {"{\"points_per_yuan\":-1}", "points_per_yuan"},
	    {"{\"points_per_yuan\":0.125}", "points_per_yuan"},
	    {"{\"checkin_schedule\":[]}", "checkin_schedule"},
	    {"{\"checkin_schedule\":[5,\"x\"]}", "checkin_schedule[1]"},
	    {"{\"member_day\":32}", "member_day"},
	    {"{\"member_day_multiplier\":0}", "member_day_multiplier"},
	    {"{\"expiry_months\":-1}", "expiry_months"},
	    {"{\"bonus\":1}", "bonus"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = json_loads(bad[i][0], 0, NULL);
		assert_int_equal(core_points_rules_apply(&r, j, &e), -1);
		assert_string_equal(e.field, bad[i][1]);
		json_decref(j);
	}
	json_t *j = json_loads("{\"points_per_yuan\":0.5}", 0, NULL);
	assert_int_equal(core_points_rules_apply(&r, j, &e), 0);
	assert_int_equal(r.per_yuan_x100, 50);
	json_decref(j);
	j = core_points_rules_json(&r);
	assert_true(json_number_value(json_object_get(j, "points_per_yuan")) == 0.5);
	json_decref(j);
}

static void test_fifo_and_expiry(void **state)
{
	(void)state;
	set_rules("{\"expiry_months\":1}");
	int64_t c = customer("13800000001");
	struct points_rules r;
	struct core_err e = {0};
	core_points_rules_load(db, &r, &e);
	assert_int_equal(core_points_grant(db, c, 100, "manual", "manual", 0, NULL,
	                                   sh(2026, 1, 10, 9, 0), &r, &e),
	                 0);
	assert_int_equal(core_points_grant(db, c, 50, "manual", "manual", 0, NULL,
	                                   sh(2026, 1, 20, 9, 0), &r, &e),
	                 0);
	r.expiry_months = 0; /* a lot that never expires goes last */
	assert_int_equal(
	    core_points_grant(db, c, 30, "manual", "manual", 0, NULL, sh(2026, 1, 5, 9, 0), &r, &e),
	    0);
	assert_int_equal(balance(c), 180);
	/* spending takes from the lot that expires first */
	assert_int_equal(core_points_take(db, c, 120, "redeem", "reward", 1, NULL,
	                                  sh(2026, 1, 25, 9, 0), false, NULL, &e),
	                 0);
	assert_int_equal(balance(c), 60);
	assert_int_equal(core_points_take(db, c, 61, "redeem", "reward", 1, NULL,
	                                  sh(2026, 1, 25, 9, 0), false, NULL, &e),
	                 -1);
	assert_string_equal(e.code, CORE_CODE_INSUFFICIENT_POINTS);
	/* the 10th's lot (emptied) and the 20th's lot (30 left) expire at the end
	 * of Feb 10 and Feb 20 */
	int64_t lots, pts;
	assert_int_equal(store_points_expire_due(db, sh(2026, 2, 10, 23, 59), &lots, &pts), ST_OK);
	assert_int_equal(lots, 0);
	assert_int_equal(store_points_expire_due(db, sh(2026, 2, 21, 0, 0), &lots, &pts), ST_OK);
	assert_int_equal(lots, 1);
	assert_int_equal(pts, 30);
	assert_int_equal(balance(c), 30); /* the never-expiring lot */
	assert_int_equal(store_points_expire_due(db, sh(2030, 1, 1, 0, 0), &lots, &pts), ST_OK);
	assert_int_equal(lots, 0);
	assert_int_equal(balance(c), 30);
}

static struct order put_order(const char *ext, const char *phone, int64_t amount,
                              const char *status, int64_t now)
{
	struct order_in in = {.set = OF_AMOUNT | OF_PAID_AT | OF_STATUS | OF_PHONE,
	                      .platform = "tmall",
	                      .external_id = ext,
	                      .buyer_phone = phone,
	                      .status = status,
	                      .amount_cents = amount,
	                      .paid_at = now};
	struct order o = {0};
	struct core_err e = {0};
	enum upsert_result res;
	if (core_order_upsert(db, &in, now, &o, &res, &e) < 0)
		fail_msg("upsert: %s", e.msg);
	return o;
}

static void test_order_points_and_clawback(void **state)
{
	(void)state;
	set_rules("{\"points_per_yuan\":1,\"member_day\":18,\"member_day_multiplier\":3}");
	int64_t c = customer("13800000002");
	struct order o = put_order("P1", "13800000002", 9999, "paid", sh(2026, 3, 17, 23, 0));
	order_clear(&o);
	assert_int_equal(balance(c), 99); /* floor(99.99 yuan) */
	/* bound on member day (the 18th in Shanghai, still the 17th in UTC) */
	o = put_order("P2", "13800000002", 1000, "paid", sh(2026, 3, 18, 0, 30));
	order_clear(&o);
	assert_int_equal(balance(c), 99 + 30);
	/* re-sending pays nothing */
	o = put_order("P2", "13800000002", 1000, "paid", sh(2026, 3, 19, 0, 30));
	order_clear(&o);
	assert_int_equal(balance(c), 129);
	struct core_err e = {0};
	assert_int_equal(core_points_take(db, c, 120, "redeem", "reward", 1, NULL,
	                                  sh(2026, 3, 20, 9, 0), false, NULL, &e),
	                 0);
	/* the refund of P1 wants 99 back, finds 9: 90 shortfall */
	o = put_order("P1", "13800000002", 9999, "refunded", sh(2026, 3, 21, 9, 0));
	assert_int_equal(balance(c), 0);
	assert_int_equal(store_points_order_net(db, o.id), 0);
	/* refunded again, nothing more; paid again, it earns again */
	order_clear(&o);
	o = put_order("P1", "13800000002", 9999, "cancelled", sh(2026, 3, 22, 9, 0));
	assert_int_equal(balance(c), 0);
	order_clear(&o);
	o = put_order("P1", "13800000002", 9999, "paid", sh(2026, 3, 23, 9, 0));
	assert_int_equal(balance(c), 99);
	assert_int_equal(store_points_order_net(db, o.id), 99);
	order_clear(&o);
}

/* A refund after part of the order's points expired takes back only what was
 * left or spent, never the expired part a second time. */
static void test_clawback_after_expiry(void **state)
{
	(void)state;
	set_rules("{\"points_per_yuan\":1,\"member_day\":0,\"expiry_months\":1}");
	int64_t c = customer("13800000006");
	struct order o = put_order("X1", "13800000006", 10000, "paid", sh(2026, 5, 1, 10, 0));
	order_clear(&o);
	struct core_err e = {0};
	/* spend 30 of the order's 100, then earn 50 that expire much later */
	assert_int_equal(core_points_take(db, c, 30, "redeem", "reward", 1, NULL,
	                                  sh(2026, 5, 2, 9, 0), false, NULL, &e),
	                 0);
	struct points_rules r;
	core_points_rules_load(db, &r, &e);
	r.expiry_months = 12;
	assert_int_equal(core_points_grant(db, c, 50, "manual", "manual", 0, NULL,
	                                   sh(2026, 6, 15, 9, 0), &r, &e),
	                 0);
	/* the order's remaining 70 expire at the end of June 1 */
	int64_t lots, pts;
	assert_int_equal(store_points_expire_due(db, sh(2026, 6, 20, 0, 0), &lots, &pts), ST_OK);
	assert_int_equal(pts, 70);
	assert_int_equal(balance(c), 50);
	/* the refund takes the 30 that were spent, from the other points; the 70
	 * that expired are not taken again */
	o = put_order("X1", "13800000006", 10000, "refunded", sh(2026, 6, 21, 9, 0));
	assert_int_equal(balance(c), 20);
	assert_int_equal(store_points_order_net(db, o.id), 0);
	order_clear(&o);
	/* paid again: it earns again, and a second refund takes its own lot */
	o = put_order("X1", "13800000006", 10000, "paid", sh(2026, 6, 22, 9, 0));
	assert_int_equal(balance(c), 120);
	order_clear(&o);
	o = put_order("X1", "13800000006", 10000, "refunded", sh(2026, 6, 23, 9, 0));
	assert_int_equal(balance(c), 20);
	assert_int_equal(store_points_order_net(db, o.id), 0);
	order_clear(&o);
}

static void checkin_at(int64_t c, int64_t now, int want_streak, int64_t want_points)
{
	int streak;
	int64_t points;
	struct core_err e = {0};
	if (core_checkin(db, c, now, &streak, &points, &e) < 0)
		fail_msg("checkin: %s", e.msg);
	assert_int_equal(streak, want_streak);
	assert_int_equal(points, want_points);
}

static void test_checkin_streaks(void **state)
{
	(void)state;
	set_rules("{\"checkin_schedule\":[1,2,3]}");
	int64_t c = customer("13800000003");
	/* Jan 30, 31, Feb 1 (across the month end), then the schedule restarts */
	checkin_at(c, sh(2026, 1, 30, 8, 0), 1, 1);
	checkin_at(c, sh(2026, 1, 31, 23, 59), 2, 2);
	checkin_at(c, sh(2026, 2, 1, 0, 1), 3, 3);
	checkin_at(c, sh(2026, 2, 2, 12, 0), 1, 1);
	/* the same business day, though another UTC day: refused */
	int streak;
	int64_t points;
	struct core_err e = {0};
	assert_int_equal(core_checkin(db, c, sh(2026, 2, 2, 23, 0), &streak, &points, &e), -1);
	assert_int_equal(e.rc, CORE_CONFLICT);
	/* 16:00 UTC is midnight in Shanghai: the next business day */
	checkin_at(c, sh(2026, 2, 3, 0, 0), 2, 2);
	/* a missed day starts again */
	checkin_at(c, sh(2026, 2, 5, 9, 0), 1, 1);
	assert_int_equal(balance(c), 1 + 2 + 3 + 1 + 2 + 1);
}

static void test_tiers(void **state)
{
	(void)state;
	struct tier silver = {.name = strdup("银卡"),
	                      .basis = strdup("spent"),
	                      .threshold = 10000,
	                      .rank = 1},
	            gold = {.name = strdup("金卡"),
	                    .basis = strdup("points"),
	                    .threshold = 500,
	                    .rank = 2};
	assert_int_equal(store_tier_insert(db, &silver), ST_OK);
	assert_int_equal(store_tier_insert(db, &gold), ST_OK);
	struct tier *all;
	size_t n;
	assert_int_equal(store_tiers_all(db, &all, &n), ST_OK);
	assert_int_equal(n, 2);
	assert_int_equal(core_tier_pick(all, n, 20000, 100), silver.id);
	assert_int_equal(core_tier_pick(all, n, 20000, 600), gold.id); /* higher rank */
	assert_int_equal(core_tier_pick(all, n, 9999, 499), 0);
	store_tiers_free(all, n);

	set_rules("{\"points_per_yuan\":0}");
	int64_t c = customer("13800000004");
	struct order o = put_order("T1", "13800000004", 12000, "paid", sh(2025, 3, 1, 10, 0));
	order_clear(&o);
	struct customer_tier t;
	assert_int_equal(store_customer_tier_get(db, c, &t), ST_OK);
	/* the order was bound now (2025-03-01): silver */
	assert_int_equal(t.tier_id, silver.id);
	/* a year and a day later it has left the window: the tier goes */
	struct core_err e = {0};
	assert_int_equal(core_tier_refresh(db, c, sh(2026, 3, 1, 9, 0), &e), 0);
	assert_int_equal(store_customer_tier_get(db, c, &t), ST_OK);
	assert_int_equal(t.tier_id, silver.id); /* still inside on the anniversary morning */
	assert_int_equal(core_tier_refresh(db, c, sh(2026, 3, 2, 9, 0), &e), 0);
	assert_int_equal(store_customer_tier_get(db, c, &t), ST_OK);
	assert_int_equal(t.tier_id, 0);
	/* an override holds until its end */
	assert_int_equal(
	    core_tier_override(db, c, gold.id, sh(2026, 4, 1, 0, 0), sh(2026, 3, 2, 9, 0), &e), 0);
	assert_int_equal(store_customer_tier_get(db, c, &t), ST_OK);
	assert_int_equal(t.tier_id, gold.id);
	assert_int_equal(core_tier_refresh(db, c, sh(2026, 4, 1, 0, 1), &e), 0);
	assert_int_equal(store_customer_tier_get(db, c, &t), ST_OK);
	assert_int_equal(t.tier_id, 0);
	assert_int_equal(t.override_id, 0);
	assert_int_equal(
	    core_tier_override(db, c, gold.id, sh(2026, 1, 1, 0, 0), sh(2026, 3, 2, 9, 0), &e), -1);
	assert_string_equal(e.field, "until");
	tier_clear(&silver);
	tier_clear(&gold);
}

static void test_wallet(void **state)
{
	(void)state;
	int64_t c = customer("13800000005");
	struct core_err e = {0};
	assert_int_equal(core_wallet_move(db, c, 5000, "topup", NULL, 10, &e), 0);
	assert_int_equal(core_wallet_move(db, c, -5001, "spend", NULL, 11, &e), -1);
	assert_string_equal(e.code, CORE_CODE_INSUFFICIENT_BALANCE);
	assert_int_equal(core_wallet_move(db, c, -5000, "spend", NULL, 12, &e), 0);
	assert_int_equal(core_wallet_move(db, c, 100, "spend", NULL, 13, &e), -1);
	assert_int_equal(core_wallet_move(db, c, -100, "topup", NULL, 13, &e), -1);
	assert_int_equal(core_wallet_move(db, c, 100, "gift", NULL, 13, &e), -1);
	assert_int_equal(store_wallet_balance(db, c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_calendar, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_rules, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_and_expiry, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_order_points_and_clawback, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_clawback_after_expiry, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_checkin_streaks, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_tiers, setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_wallet, setup, tx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
