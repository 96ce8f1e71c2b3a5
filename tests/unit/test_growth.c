/* test_growth.c - ambassador levels: the configured GMV steps, refused when
 * not rising whole numbers, and the level a referred GMV reaches; and the
 * commission rules on a real database: what earns, a refund within and after
 * the return window, and an order found to be the ambassador's own later
 * (bound to them, or a profile merged with theirs). */
#include "harness.h"

#include "../../src/store/internal.h"
#include "db_tx.h"
#include "scrm/core.h"
#include "scrm/core_ambassadors.h"
#include "scrm/store_ambassadors.h"
#include "scrm/util.h"

static void test_levels(void **state)
{
	(void)state;
	assert_int_equal(core_ambassadors_configure(15, "1000,5000,20000"), 0);
	assert_int_equal(core_ambassador_level_for(0), 1);
	assert_int_equal(core_ambassador_level_for(99999), 1);
	assert_int_equal(core_ambassador_level_for(100000), 2); /* 1000 yuan exactly */
	assert_int_equal(core_ambassador_level_for(499999), 2);
	assert_int_equal(core_ambassador_level_for(2000000), 4);
	assert_int_equal(core_ambassador_level_for(999999999), 4);
	/* refused, and the levels before stay */
	static const char *const bad[] = {
	    "5000,1000", "1000,1000", "abc", "1000,,2000", "-5", "1,2,3,4,5,6,7,8,9,10", "1000x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(core_ambassadors_configure(15, bad[i]), -1);
	assert_int_equal(core_ambassador_level_for(2000000), 4);
	assert_int_equal(core_ambassadors_configure(15, ""), 0); /* no levels: all level 1 */
	assert_int_equal(core_ambassador_level_for(999999999), 1);
}

/* Commissions on a real database ---------------------------------------------- */

#define DAY 86400
#define T0 1800000000 /* the enrolment */

static int64_t new_customer(const char *name, const char *phone)
{
	struct customer_patch p = {
	    .set = CF_NAME | (phone ? CF_PHONE : 0), .name = name, .phone = phone};
	struct core_err e = {0};
	struct customer c = {0};
	if (core_customer_create(db, &p, T0, &c, &e) < 0)
		fail_msg("create: %s", e.msg);
	int64_t id = c.id;
	customer_clear(&c);
	return id;
}

/* An order with the code, bought with phone (NULL: none), bound to customer
 * (0: by phone or not at all), paid at T0 + 1 h; the id. */
static int64_t order(const char *ext, const char *phone, int64_t customer, const char *status,
                     int64_t amount)
{
	struct order_in in = {.set = OF_AMOUNT | OF_PAID_AT | OF_STATUS | OF_REFERRAL |
	                             (phone ? OF_PHONE : 0) | (customer ? OF_CUSTOMER : 0),
	                      .platform = "tmall",
	                      .external_id = ext,
	                      .buyer_phone = phone,
	                      .status = status,
	                      .referral_code = "KOC12345",
	                      .amount_cents = amount,
	                      .paid_at = T0 + 3600,
	                      .customer_id = customer};
	struct order o = {0};
	struct core_err e = {0};
	enum upsert_result res;
	if (core_order_upsert(db, &in, T0 + 3600, &o, &res, &e) < 0)
		fail_msg("upsert %s: %s", ext, e.msg);
	int64_t id = o.id;
	order_clear(&o);
	return id;
}

/* The order's earning and reversal: status of the earning ("-" for none),
 * amount of the reversal (0 for none). */
static void ledger_is(int64_t order_id, const char *earn_status, int64_t reversal)
{
	struct commission c = {0};
	int st = store_commission_of_order(db, order_id, "earn", &c);
	assert_string_equal(st == ST_OK ? c.status : "-", earn_status);
	commission_clear(&c);
	st = store_commission_of_order(db, order_id, "reversal", &c);
	assert_int_equal(st == ST_OK ? c.amount_cents : 0, reversal);
	commission_clear(&c);
}

static void referred_is(int64_t amb, int64_t orders, int64_t gmv)
{
	struct ambassador a = {0};
	assert_int_equal(store_ambassador_get(db, amb, &a), ST_OK);
	assert_int_equal(a.referred_orders, orders);
	assert_int_equal(a.referred_gmv_cents, gmv);
	ambassador_clear(&a);
}

static void test_commissions(void **state)
{
	(void)state;
	assert_int_equal(core_ambassadors_configure(7, ""), 0);
	int64_t koc = new_customer("KOC", NULL), friend = new_customer("friend", "13700000001");
	struct ambassador a = {.customer_id = koc,
	                       .level = 1,
	                       .commission_pct = 10,
	                       .referral_code = xstrdup("KOC12345"),
	                       .created_at = T0,
	                       .updated_at = T0};
	assert_int_equal(store_ambassador_insert(db, &a), ST_OK);
	struct core_err e = {0};

	/* a friend's order earns; the ambassador's own never does */
	int64_t o1 = order("o1", "13700000001", 0, "paid", 10000);
	int64_t own = order("own", NULL, koc, "paid", 5000);
	ledger_is(o1, "pending", 0);
	ledger_is(own, "-", 0);
	referred_is(a.id, 1, 10000);

	/* refunded within the window: reversed; a re-send changes nothing */
	order("o1", "13700000001", 0, "refunded", 10000);
	ledger_is(o1, "reversed", 0);
	order("o1", "13700000001", 0, "refunded", 10000);
	referred_is(a.id, 0, 0);

	/* unbound orders earn; the one bound to the ambassador by hand loses it */
	int64_t o2 = order("o2", "13900000002", 0, "paid", 20000);
	int64_t o3 = order("o3", "13900000003", 0, "paid", 30000);
	referred_is(a.id, 2, 50000);
	struct order got = {0};
	bool changed = false;
	assert_int_equal(
	    core_order_bind(db, koc, "tmall", "o2", "13900000002", T0 + 7200, &got, &changed, &e),
	    0);
	order_clear(&got);
	ledger_is(o2, "reversed", 0);
	referred_is(a.id, 1, 30000);

	/* settled, then the buyer's profile is merged into the ambassador's */
	int64_t n = 0;
	assert_int_equal(store_commissions_settle_due(db, T0 + 8 * DAY, &n), ST_OK);
	assert_int_equal(n, 1);
	int64_t alias = new_customer("alias", "13900000003"); /* binds o3 by phone */
	ledger_is(o3, "settled", 0);
	struct customer kept = {0};
	assert_int_equal(core_customer_merge(db, koc, alias, T0 + 9 * DAY, &kept, &e), 0);
	customer_clear(&kept);
	ledger_is(o3, "settled", -3000);
	referred_is(a.id, 0, 0);
	/* a refund after that takes nothing back twice */
	order("o3", "13900000003", 0, "refunded", 30000);
	ledger_is(o3, "settled", -3000);

	/* a merge of two others keeps the earning */
	int64_t o4 = order("o4", "13700000001", 0, "paid", 40000);
	int64_t twin = new_customer("twin", NULL);
	assert_int_equal(core_customer_merge(db, twin, friend, T0 + 9 * DAY, &kept, &e), 0);
	customer_clear(&kept);
	ledger_is(o4, "pending", 0);
	referred_is(a.id, 1, 40000);
	ambassador_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test_setup_teardown(test_commissions, tx_setup, tx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
