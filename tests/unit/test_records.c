/* test_records.c - the field rules (phones, birthdays, e-mail, platforms,
 * colours, stages) and the core operations on a real database: binding on
 * arrival and on customer creation, figures through refunds, the binding
 * flow's refusals, merges and erasure. */
#include "harness.h"

#include "../../src/store/internal.h"
#include "db_tx.h"
#include "scrm/core.h"

#include <jansson.h>

static void phone_is(const char *in, const char *want)
{
	char out[CORE_PHONE_MAX];
	const char *why = core_phone_normalize(in, out);
	if (!want) {
		if (!why)
			fail_msg("'%s' was accepted as '%s'", in, out);
		return;
	}
	if (why)
		fail_msg("'%s' refused: %s", in, why);
	assert_string_equal(out, want);
}

static void test_phones(void **state)
{
	(void)state;
	phone_is("13800138000", "13800138000");
	phone_is("138 0013 8000", "13800138000");
	phone_is("138-0013-8000", "13800138000");
	phone_is("+86 138 0013 8000", "13800138000");
	phone_is("+86-13800138000", "13800138000");
	phone_is("0086 138 0013 8000", "13800138000");
	phone_is("8613800138000", "13800138000");
	phone_is("(010) 6552-9988", "01065529988");
	phone_is("+86 10 6552 9988", "1065529988");
	phone_is("+1 (415) 555-0100", "+14155550100");
	phone_is("+852 9123 4567", "+85291234567");
	phone_is("12800138000", NULL); /* no mainland mobile starts 12 */
	phone_is("1234", NULL);
	phone_is("138001380001234567890", NULL);
	phone_is("138abc", NULL);
	phone_is("138+001", NULL);
	phone_is("", NULL);
	phone_is("  ", NULL);
}

static void test_fields(void **state)
{
	(void)state;
	int m, d;
	assert_null(core_birthday_parse("1990-03-08", &m, &d));
	assert_int_equal(m * 100 + d, 308);
	assert_null(core_birthday_parse("--02-29", &m, &d));
	assert_int_equal(m * 100 + d, 229);
	assert_non_null(core_birthday_parse("2023-02-29", &m, &d));
	assert_non_null(core_birthday_parse("--13-01", &m, &d));
	assert_non_null(core_birthday_parse("1800-01-01", &m, &d));
	assert_non_null(core_birthday_parse("03-08", &m, &d));
	assert_null(core_email_problem("li@example.com"));
	assert_non_null(core_email_problem("li@example"));
	assert_non_null(core_email_problem("li example@x.com"));
	assert_non_null(core_email_problem("@x.com"));
	assert_null(core_platform_problem("tmall"));
	assert_null(core_platform_problem("red_book2"));
	assert_non_null(core_platform_problem("Tmall"));
	assert_non_null(core_platform_problem(""));
	assert_null(core_color_problem("#3370FF"));
	assert_non_null(core_color_problem("3370ff"));
	assert_non_null(core_color_problem("#33g0ff"));
	assert_null(core_external_id_problem("1234567890123456789"));
	assert_non_null(core_external_id_problem("a b"));
	assert_true(core_order_status_valid("refunded"));
	assert_false(core_order_status_valid("shipped"));
}

static void test_stages(void **state)
{
	(void)state;
	assert_string_equal(core_stage_for_orders("added", 1), "converted");
	assert_string_equal(core_stage_for_orders("interested", 2), "repurchasing");
	assert_string_equal(core_stage_for_orders("sharing", 2), "repurchasing");
	assert_null(core_stage_for_orders("sharing", 1)); /* further along already */
	assert_null(core_stage_for_orders("converted", 1));
	assert_null(core_stage_for_orders("repurchasing", 0)); /* never back */
	assert_null(core_stage_for_orders("observing", 0));
}

static void test_items(void **state)
{
	(void)state;
	struct core_err e = {0};
	char *out = NULL;
	json_t *ok =
	    json_loads("[{\"price_cents\":100,\"name\":\"袜\",\"quantity\":2,\"sku\":\"A\"},"
	               "{\"sku\":\"B\",\"price_cents\":0}]",
	               0, NULL);
	assert_int_equal(core_order_items(ok, "items", &out, &e), 0);
	/* canonical key order, quantity defaulted */
	assert_string_equal(out,
	                    "[{\"sku\":\"A\",\"name\":\"袜\",\"quantity\":2,\"price_cents\":100},"
	                    "{\"sku\":\"B\",\"quantity\":1,\"price_cents\":0}]");
	free(out);
	json_decref(ok);
	const char *bad[][2] = {
	    {"[{\"sku\":\"A\"}]", "items[0].price_cents"},
	    {"[{\"sku\":\"A\",\"price_cents\":1},{\"sku\":\"B\",\"price_cents\":1,\"quantity\":0}]",
	     "items[1].quantity"},
	    {"[{\"price_cents\":1}]", "items[0].sku"},
	    {"[{\"sku\":\"A\",\"price_cents\":1,\"colour\":\"red\"}]", "items[0].colour"},
	    {"[{\"sku\":7,\"price_cents\":1}]", "items[0].sku"},
	    {"[3]", "items[0]"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = json_loads(bad[i][0], 0, NULL);
		assert_int_equal(core_order_items(j, "items", &out, &e), -1);
		assert_string_equal(e.field, bad[i][1]);
		assert_non_null(strstr(e.msg, bad[i][1]));
		json_decref(j);
	}
}

/* Core operations on a database ---------------------------------------------- */

static int64_t new_customer(const char *name, const char *phone)
{
	struct customer_patch p = {.set = CF_NAME | CF_PHONE, .name = name, .phone = phone};
	struct core_err e = {0};
	struct customer c = {0};
	assert_int_equal(core_customer_check(&p, &e), 0);
	if (core_customer_create(db, &p, 1000, &c, &e) < 0)
		fail_msg("create: %s", e.msg);
	int64_t id = c.id;
	customer_clear(&c);
	return id;
}

static enum upsert_result put_order(const char *ext, const char *phone, int64_t amount,
                                    const char *status, int64_t paid_at)
{
	struct order_in in = {.set = OF_AMOUNT | OF_PAID_AT | OF_STATUS | (phone ? OF_PHONE : 0),
	                      .platform = "tmall",
	                      .external_id = ext,
	                      .buyer_phone = phone,
	                      .status = status,
	                      .amount_cents = amount,
	                      .paid_at = paid_at};
	struct order o = {0};
	struct core_err e = {0};
	enum upsert_result res;
	if (core_order_upsert(db, &in, 2000, &o, &res, &e) < 0)
		fail_msg("upsert %s: %s", ext, e.msg);
	order_clear(&o);
	return res;
}

static void figures(int64_t id, int64_t count, int64_t spent, int64_t first, int64_t last,
                    const char *stage)
{
	struct customer c = {0};
	assert_int_equal(store_customer_get(db, id, &c), ST_OK);
	assert_int_equal(c.order_count, count);
	assert_int_equal(c.total_spent_cents, spent);
	assert_int_equal(c.first_order_at, first);
	assert_int_equal(c.last_order_at, last);
	assert_string_equal(c.stage, stage);
	customer_clear(&c);
}

static void test_binding_and_figures(void **state)
{
	(void)state;
	/* an order that arrives first waits for its customer */
	assert_int_equal(put_order("T1", "13800138000", 500, "paid", 100), UPSERT_CREATED);
	int64_t a = new_customer("甲", "13800138000");
	figures(a, 1, 500, 100, 100, "converted");
	/* later orders bind on arrival; re-sending changes nothing */
	assert_int_equal(put_order("T2", "13800138000", 700, "paid", 300), UPSERT_CREATED);
	assert_int_equal(put_order("T2", "13800138000", 700, "paid", 300), UPSERT_UNCHANGED);
	figures(a, 2, 1200, 100, 300, "repurchasing");
	/* a refund leaves the count, not the stage */
	assert_int_equal(put_order("T1", "13800138000", 500, "refunded", 100), UPSERT_UPDATED);
	figures(a, 1, 700, 300, 300, "repurchasing");
	put_order("T2", "13800138000", 700, "cancelled", 300);
	figures(a, 0, 0, 0, 0, "repurchasing");
	put_order("T2", "13800138000", 650, "paid", 300);
	figures(a, 1, 650, 300, 300, "repurchasing");
}

static void test_bind_flow(void **state)
{
	(void)state;
	int64_t a = new_customer("甲", NULL), b = new_customer("乙", "13700000000");
	put_order("X1", "13900000000", 900, "paid", 100);
	put_order("X2", "13900000000", 100, "paid", 200);
	put_order("X3", NULL, 100, "paid", 200);
	struct order o = {0};
	struct core_err e = {0};
	bool changed;
	assert_int_equal(
	    core_order_bind(db, a, "tmall", "X1", "13900000001", 3000, &o, &changed, &e), -1);
	assert_int_equal(e.rc, CORE_INVALID);
	assert_string_equal(e.field, "phone");
	order_clear(&o);
	assert_int_equal(
	    core_order_bind(db, a, "tmall", "X3", "13900000000", 3000, &o, &changed, &e), -1);
	assert_int_equal(e.rc, CORE_INVALID); /* nothing to check the phone against */
	order_clear(&o);
	assert_int_equal(
	    core_order_bind(db, a, "tmall", "nope", "13900000000", 3000, &o, &changed, &e), -1);
	assert_int_equal(e.rc, CORE_NOT_FOUND);
	order_clear(&o);
	assert_int_equal(
	    core_order_bind(db, a, "tmall", "X1", "139 0000 0000", 3000, &o, &changed, &e), -1);
	order_clear(&o); /* the caller normalises; the raw text does not match */
	assert_int_equal(
	    core_order_bind(db, a, "tmall", "X1", "13900000000", 3000, &o, &changed, &e), 0);
	assert_true(changed);
	order_clear(&o);
	/* the customer had no phone: it takes the proved one and its other order */
	figures(a, 2, 1000, 100, 200, "repurchasing");
	assert_int_equal(
	    core_order_bind(db, a, "tmall", "X1", "13900000000", 3000, &o, &changed, &e), 0);
	assert_false(changed);
	order_clear(&o);
	assert_int_equal(
	    core_order_bind(db, b, "tmall", "X1", "13900000000", 3000, &o, &changed, &e), -1);
	assert_int_equal(e.rc, CORE_CONFLICT);
	assert_int_equal(e.id, a);
	order_clear(&o);
}

static void test_merge_and_erase(void **state)
{
	(void)state;
	int64_t a = new_customer("甲", NULL), b = new_customer(NULL, "13600000000");
	put_order("M1", "13600000000", 300, "paid", 100);
	size_t added;
	struct core_err e = {0};
	const char *names[] = {"高价值"};
	assert_int_equal(core_customer_tag_names(db, b, names, 1, 10, &added, &e), 0);
	struct customer c = {0};
	assert_int_equal(core_customer_merge(db, a, b, 20, &c, &e), 0);
	assert_string_equal(c.name, "甲");
	assert_string_equal(c.phone, "13600000000");
	assert_int_equal(c.order_count, 1);
	customer_clear(&c);
	assert_int_equal(core_customer_load(db, b, &c, &e), -1);
	assert_non_null(strstr(e.msg, "merged into"));
	assert_int_equal(core_customer_merge(db, a, a, 20, &c, &e), -1);
	assert_int_equal(core_customer_merge(db, a, b, 20, &c, &e), -1);
	customer_clear(&c);
	struct tag t = {0};
	assert_int_equal(store_tag_by_name(db, "高价值", &t), ST_OK);
	assert_int_equal(t.customer_count, 1);
	tag_clear(&t);
	/* erasure keeps the order, forgets the person */
	assert_int_equal(core_customer_erase(db, a, 30, &e), 0);
	assert_int_equal(core_customer_load(db, a, &c, &e), -1);
	struct order o = {0};
	assert_int_equal(store_order_by_key(db, "tmall", "M1", &o), ST_OK);
	assert_int_equal(o.customer_id, a);
	assert_null(o.buyer_phone);
	order_clear(&o);
	assert_int_equal(store_tag_by_name(db, "高价值", &t), ST_OK);
	assert_int_equal(t.customer_count, 0);
	tag_clear(&t);
	/* the phone is free again */
	int64_t again = new_customer("丙", "13600000000");
	assert_true(again > b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_phones),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_stages),
	    cmocka_unit_test(test_items),
	    cmocka_unit_test_setup_teardown(test_binding_and_figures, tx_setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_flow, tx_setup, tx_teardown),
	    cmocka_unit_test_setup_teardown(test_merge_and_erase, tx_setup, tx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
