/* test_sops.c - message templates (known placeholders only, values put in as
 * they are and never expanded again), SOP triggers as read from JSON, and the
 * day a date trigger reaches (birthdays on 29 February, the business day's
 * bounds). */
#include "harness.h"

#include "scrm/core_sops.h"
#include "scrm/core_template.h"
#include "scrm/timeutil.h"

#include <jansson.h>

static const char *vals(void *arg, const char *field)
{
	(void)arg;
	if (strcmp(field, "name") == 0)
		return "{{points_balance}}"; /* a value that looks like a placeholder */
	if (strcmp(field, "points_balance") == 0)
		return "520";
	if (strcmp(field, "tier") == 0)
		return NULL; /* no tier */
	return "?";
}

static void test_template_check(void **state)
{
	(void)state;
	char err[400];
	assert_int_equal(tmpl_check("plain text { } }} no placeholders", err, sizeof err), 0);
	assert_int_equal(
	    tmpl_check("{{name}} {{ points_balance }} {{coupon.expires_at}}", err, sizeof err), 0);
	assert_int_equal(tmpl_check("hi {{nmae}}", err, sizeof err), -1);
	assert_non_null(strstr(err, "{{nmae}} is not a placeholder"));
	assert_int_equal(tmpl_check("hi {{name", err, sizeof err), -1);
	assert_non_null(strstr(err, "not closed"));
	assert_int_equal(tmpl_check("{{}}", err, sizeof err), -1);
	assert_int_equal(tmpl_check("{{coupon}}", err, sizeof err), -1);
	for (size_t i = 0; tmpl_fields[i]; i++) {
		char t[64];
		snprintf(t, sizeof t, "x{{%s}}y", tmpl_fields[i]);
		assert_int_equal(tmpl_check(t, err, sizeof err), 0);
	}
}

static void test_template_render(void **state)
{
	(void)state;
	char *s = tmpl_render("{{name}}，积分{{ points_balance }}，{{tier}}等级", vals, NULL);
	/* the value is put in as it is: its braces are not read again */
	assert_string_equal(s, "{{points_balance}}，积分520，等级");
	free(s);
	s = tmpl_render("no placeholders { x }", vals, NULL);
	assert_string_equal(s, "no placeholders { x }");
	free(s);
	s = tmpl_render("", vals, NULL);
	assert_string_equal(s, "");
	free(s);
	s = tmpl_render("{{unknown}} {{name", vals, NULL); /* unchecked text: left as written */
	assert_string_equal(s, "{{unknown}} {{name");
	free(s);
}

static int trigger(const char *text, struct sop_trigger *t, struct core_err *e)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	memset(e, 0, sizeof *e);
	int rc = core_sop_trigger_parse(j, t, e);
	json_decref(j);
	return rc;
}

static void test_triggers(void **state)
{
	(void)state;
	struct sop_trigger t;
	struct core_err e;
	assert_int_equal(trigger("{\"type\":\"schedule\",\"cron\":\"0 20 * * 5\"}", &t, &e), 0);
	assert_int_equal(t.type, TRIG_SCHEDULE);
	assert_int_equal(trigger("{\"type\":\"event\",\"event\":\"tag.added\",\"delay_minutes\":90,"
	                         "\"name\":\"VIP\"}",
	                         &t, &e),
	                 0);
	assert_int_equal(t.delay_s, 5400);
	assert_string_equal(t.name, "VIP");
	assert_int_equal(trigger("{\"type\":\"date\",\"field\":\"birthday\"}", &t, &e), 0);
	assert_int_equal(t.at_minute, 9 * 60);
	assert_int_equal(t.offset_days, 0);
	assert_int_equal(
	    trigger("{\"type\":\"date\",\"field\":\"coupon_expires_at\",\"offset_days\":-7,"
	            "\"at\":\"21:05\"}",
	            &t, &e),
	    0);
	assert_int_equal(t.at_minute, 21 * 60 + 5);
	assert_int_equal(t.offset_days, -7);
	static const char *const bad[][2] = {
	    {"{\"type\":\"schedule\",\"cron\":\"* * *\"}", "trigger.cron"},
	    {"{\"type\":\"event\",\"event\":\"checkin\",\"name\":\"x\"}", "trigger.name"},
	    {"{\"type\":\"event\",\"event\":\"checkin\",\"delay_minutes\":1.5}",
	     "trigger.delay_minutes"},
	    {"{\"type\":\"date\",\"field\":\"birthday\",\"at\":\"9:00\"}", "trigger.at"},
	    {"{\"type\":\"date\",\"field\":\"birthday\",\"at\":\"09:60\"}", "trigger.at"},
	    {"{\"type\":\"date\",\"field\":\"birthday\",\"at\":\"09:00 \"}", "trigger.at"},
	    {"{\"type\":\"date\",\"field\":\"birthday\",\"when\":1}", "trigger.when"},
	    {"{\"cron\":\"* * * * *\"}", "trigger.type"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(trigger(bad[i][0], &t, &e), -1);
		assert_string_equal(e.path, bad[i][1]);
	}
}

static void test_date_match(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	const char *only;
	int64_t a, b, c;
	/* 28 February of a common year also reaches 29 February birthdays */
	core_sop_date_match("birthday", time_days_from_civil(2027, 2, 28), &only, &a, &b, &c);
	assert_string_equal(only, "birthday");
	assert_int_equal(a, 2);
	assert_int_equal(b, 28);
	assert_int_equal(c, 1);
	core_sop_date_match("birthday", time_days_from_civil(2028, 2, 28), &only, &a, &b, &c);
	assert_int_equal(c, 0); /* a leap year has its own 29th */
	core_sop_date_match("birthday", time_days_from_civil(2028, 2, 29), &only, &a, &b, &c);
	assert_int_equal(b, 29);
	/* a business day in Shanghai: 16:00 UTC the day before to 15:59:59 */
	int64_t day = time_days_from_civil(2027, 3, 2);
	core_sop_date_match("last_order_at", day, &only, &a, &b, &c);
	assert_string_equal(only, "last_order");
	assert_int_equal(a, day * 86400 - 8 * 3600);
	assert_int_equal(b, day * 86400 - 8 * 3600 + 86399);
	core_sop_date_match("coupon_expires_at", day, &only, &a, &b, &c);
	assert_string_equal(only, "coupon");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template_check),
	    cmocka_unit_test(test_template_render),
	    cmocka_unit_test(test_triggers),
	    cmocka_unit_test(test_date_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
