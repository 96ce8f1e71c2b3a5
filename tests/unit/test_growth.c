/* test_growth.c - ambassador levels: the configured GMV steps, refused when
 * not rising whole numbers, and the level a referred GMV reaches. */
#include "harness.h"

#include "scrm/core_ambassadors.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_levels)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
