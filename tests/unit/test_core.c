/* test_core.c - roles, credential rules and the login failure limiter. */
#include "harness.h"

#include "scrm/core_auth.h"
#include "scrm/core_ratelimit.h"

static void test_roles(void **state)
{
	(void)state;
	assert_int_equal(core_role_parse("admin"), ROLE_ADMIN);
	assert_int_equal(core_role_parse("operator"), ROLE_OPERATOR);
	assert_int_equal(core_role_parse("viewer"), ROLE_VIEWER);
	assert_int_equal(core_role_parse("Admin"), ROLE_NONE);
	assert_int_equal(core_role_parse(""), ROLE_NONE);
	assert_int_equal(core_role_parse(NULL), ROLE_NONE);
	assert_true(ROLE_ADMIN > ROLE_OPERATOR && ROLE_OPERATOR > ROLE_VIEWER &&
	            ROLE_VIEWER > ROLE_NONE);
	for (int r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
		assert_int_equal(core_role_parse(core_role_name((enum role)r)), r);
}

static void test_usernames(void **state)
{
	(void)state;
	assert_null(core_username_problem("admin"));
	assert_null(core_username_problem("li.wei_2@brand-x"));
	assert_non_null(core_username_problem(""));
	assert_non_null(core_username_problem("has space"));
	assert_non_null(core_username_problem("quote\""));
	assert_non_null(core_username_problem("\xe6\x9d\x8e"));
	char long_name[70];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_non_null(core_username_problem(long_name));
	long_name[64] = '\0';
	assert_null(core_username_problem(long_name));
}

static void test_passwords_and_labels(void **state)
{
	(void)state;
	assert_non_null(core_password_problem("short"));
	assert_non_null(core_password_problem("123456789"));
	assert_null(core_password_problem("1234567890"));
	/* ten Chinese characters are ten characters, not thirty bytes' worth */
	assert_null(
	    core_password_problem("\xe5\xaf\x86\xe5\xaf\x86\xe5\xaf\x86\xe5\xaf\x86\xe5\xaf\x86"
	                          "\xe5\xaf\x86\xe5\xaf\x86\xe5\xaf\x86\xe5\xaf\x86\xe5\xaf\x86"));
	assert_non_null(core_password_problem("\xe5\xaf\x86\xe5\xaf\x86\xe5\xaf\x86"));
	assert_non_null(core_password_problem("bad utf8 \xff\xfe\xfd"));
	assert_null(core_label_problem("", 10, true));
	assert_non_null(core_label_problem("", 10, false));
	assert_null(core_label_problem("\xe5\xbc\xa0\xe4\xb8\x89", 2, false));
	assert_string_equal(core_label_problem("abc", 2, false), "is too long");
	assert_non_null(core_label_problem("tab\there", 20, false));
}

static void test_ratelimit_window(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(64, 3, 100);
	int64_t t = 1000;
	assert_int_equal(ratelimit_wait(rl, "ip:1", t), 0);
	ratelimit_fail(rl, "ip:1", t);
	ratelimit_fail(rl, "ip:1", t + 10);
	assert_int_equal(ratelimit_wait(rl, "ip:1", t + 10), 0);
	ratelimit_fail(rl, "ip:1", t + 20);
	assert_int_equal(ratelimit_wait(rl, "ip:1", t + 20), 80); /* until the window ends */
	assert_int_equal(ratelimit_wait(rl, "ip:2", t + 20), 0);  /* others unaffected */
	assert_int_equal(ratelimit_wait(rl, "ip:1", t + 100), 0); /* window over */
	ratelimit_fail(rl, "ip:1", t + 100);                      /* a new window starts */
	assert_int_equal(ratelimit_wait(rl, "ip:1", t + 100), 0);
	ratelimit_fail(rl, "user:a", t);
	ratelimit_fail(rl, "user:a", t);
	ratelimit_fail(rl, "user:a", t);
	assert_true(ratelimit_wait(rl, "user:a", t) > 0);
	ratelimit_reset(rl, "user:a");
	assert_int_equal(ratelimit_wait(rl, "user:a", t), 0);
	ratelimit_free(rl);
}

/* A flood of other keys must not push out a key that is being attacked
 * before its window ends, as long as there is room; with the table full the
 * stalest entries go first. */
static void test_ratelimit_pressure(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(16, 2, 100);
	ratelimit_fail(rl, "victim", 5000);
	ratelimit_fail(rl, "victim", 5000);
	char key[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "other-%d", i);
		ratelimit_fail(rl, key, 4000); /* all older than the victim's window */
	}
	assert_true(ratelimit_wait(rl, "victim", 5001) > 0);
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_usernames),
	    cmocka_unit_test(test_passwords_and_labels),
	    cmocka_unit_test(test_ratelimit_window),
	    cmocka_unit_test(test_ratelimit_pressure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
