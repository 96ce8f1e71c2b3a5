/* test_cron.c - cron expressions (src/core/cron.c): every syntax form and
 * refusal, the day-of-month / day-of-week OR rule, month ends, 29 February, New
 * Year, results strictly after the start, hand-computed times in Asia/Shanghai,
 * the spring-forward gap and the fall-back overlap in zones with daylight
 * saving time, the five-year limit, speed, and a seeded cross-check of
 * cron_next against a minute-by-minute search (with its own parse of the
 * expected bit sets) in zones with and without DST. */
#include "harness.h"

#include "scrm/core_cron.h"
#include "scrm/timeutil.h"

#include <pthread.h>
#include <time.h>

/* Unix seconds of a UTC wall-clock time. */
static int64_t utc(int y, int m, int d, int hh, int mm)
{
	return time_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60;
}

/* Shanghai (UTC+8, no DST since 1991) wall-clock time as Unix seconds. */
static int64_t sh(int y, int m, int d, int hh, int mm)
{
	return utc(y, m, d, hh, mm) - 8 * 3600;
}

static struct cron parse_ok(const char *expr)
{
	struct cron c;
	char err[256] = "";
	if (cron_parse(expr, &c, err, sizeof err) != 0)
		fail_msg("\"%s\" refused: %s", expr, err);
	return c;
}

/* The expression is refused and the message contains each fragment. */
static void refused(const char *expr, const char *frag1, const char *frag2)
{
	struct cron c;
	memset(&c, 0xab, sizeof c);
	struct cron before = c;
	char err[256] = "";
	if (cron_parse(expr, &c, err, sizeof err) != -1)
		fail_msg("\"%s\" was accepted", expr);
	if (!strstr(err, frag1) || (frag2 && !strstr(err, frag2)))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"%s%s", expr, err, frag1,
		         frag2 ? " or " : "", frag2 ? frag2 : "");
	assert_memory_equal(&c, &before, sizeof c); /* untouched */
	for (const char *p = err; *p; p++)          /* ASCII, printable */
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void same_cron(const struct cron *a, const struct cron *b, const char *what)
{
	if (a->minute != b->minute || a->hour != b->hour || a->dom != b->dom ||
	    a->month != b->month || a->dow != b->dow || a->dom_any != b->dom_any ||
	    a->dow_any != b->dow_any)
		fail_msg("%s: the sets differ", what);
}

static int64_t next(const char *expr, int64_t after)
{
	struct cron c = parse_ok(expr);
	return cron_next(&c, after);
}

/* Bit sets from a list of values, -1 terminated. */
static uint64_t bits(int first, ...)
{
	uint64_t b = 0;
	va_list ap;
	va_start(ap, first);
	for (int v = first; v >= 0; v = va_arg(ap, int))
		b |= 1ull << v;
	va_end(ap);
	return b;
}

static uint64_t span(int lo, int hi)
{
	uint64_t b = 0;
	for (int v = lo; v <= hi; v++)
		b |= 1ull << v;
	return b;
}

static void test_syntax(void **state)
{
	(void)state;
	struct cron c = parse_ok("* * * * *");
	assert_true(c.minute == span(0, 59) && c.hour == span(0, 23) && c.dom == span(1, 31));
	assert_true(c.month == span(1, 12) && c.dow == span(0, 6));
	assert_true(c.dom_any && c.dow_any);

	c = parse_ok("5 4 3 2 1");
	assert_true(c.minute == bits(5, -1) && c.hour == bits(4, -1) && c.dom == bits(3, -1));
	assert_true(c.month == bits(2, -1) && c.dow == bits(1, -1));
	assert_false(c.dom_any || c.dow_any);

	c = parse_ok("0-59 0-23 1-31 1-12 0-6"); /* full ranges are still restrictions */
	assert_true(c.minute == span(0, 59) && c.dow == span(0, 6));
	assert_false(c.dom_any || c.dow_any);

	assert_true(parse_ok("*/15 * * * *").minute == bits(0, 15, 30, 45, -1));
	assert_true(parse_ok("1-5/2 * * * *").minute == bits(1, 3, 5, -1));
	assert_true(parse_ok("5/20 * * * *").minute == bits(5, 25, 45, -1));
	assert_true(parse_ok("* */7 * * *").hour == bits(0, 7, 14, 21, -1));
	assert_true(parse_ok("* * */10 * *").dom == bits(1, 11, 21, 31, -1));
	assert_true(parse_ok("* * * */5 *").month == bits(1, 6, 11, -1));
	assert_true(parse_ok("* * * 10/2 *").month == bits(10, 12, -1));
	assert_true(parse_ok("*/60 * * * *").minute == bits(0, -1)); /* one per hour */
	assert_true(parse_ok("*/1 * * * *").minute == span(0, 59));
	assert_true(parse_ok("7-7/1 * * * *").minute == bits(7, -1));
	assert_true(parse_ok("59 23 31 12 7").minute == bits(59, -1));
	assert_true(parse_ok("00 05 07 09 0").hour == bits(5, -1)); /* leading zeros */

	c = parse_ok("1,2,10-12,*/30,40-50/5 0,12 1,15,31 1,7 1,3,5");
	assert_true(c.minute == (bits(1, 2, 10, 11, 12, 0, 30, 40, 45, 50, -1)));
	assert_true(c.hour == bits(0, 12, -1) && c.dom == bits(1, 15, 31, -1));
	assert_true(c.month == bits(1, 7, -1) && c.dow == bits(1, 3, 5, -1));

	/* blanks: any run of spaces and tabs, leading and trailing ones too */
	c = parse_ok(" \t 0\t\t12  *   * \t1-5 \t ");
	assert_true(c.minute == bits(0, -1) && c.hour == bits(12, -1) && c.dow == span(1, 5));

	/* Vixie: a field that starts with '*' counts as unrestricted */
	c = parse_ok("0 0 */2 * */2");
	assert_true(c.dom_any && c.dow_any);
	assert_true(c.dom == bits(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, -1));
	assert_true(c.dow == bits(0, 2, 4, 6, -1));
	c = parse_ok("0 0 *,5 * 1-5");
	assert_true(c.dom_any && !c.dow_any);
	c = parse_ok("0 0 5,* * 1");
	assert_false(c.dom_any);

	/* err may be NULL or short */
	assert_int_equal(cron_parse("* * * *", &c, NULL, 0), -1);
	char tiny[8];
	assert_int_equal(cron_parse("* * * *", &c, tiny, sizeof tiny), -1);
	assert_int_equal(strlen(tiny), 7);
}

static void test_names(void **state)
{
	(void)state;
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
	                                     "jul", "aug", "sep", "oct", "nov", "dec"};
	static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	char e[64];
	for (int i = 0; i < 12; i++) {
		snprintf(e, sizeof e, "0 0 1 %s *", months[i]);
		assert_true(parse_ok(e).month == bits(i + 1, -1));
	}
	for (int i = 0; i < 7; i++) {
		snprintf(e, sizeof e, "0 0 * * %s", days[i]);
		assert_true(parse_ok(e).dow == bits(i, -1));
	}
	assert_true(parse_ok("0 0 1 JAN,Jul,sEp *").month == bits(1, 7, 9, -1));
	assert_true(parse_ok("0 0 1 mar-jun *").month == span(3, 6));
	assert_true(parse_ok("0 0 1 feb-8 *").month == span(2, 8));
	assert_true(parse_ok("0 0 1 jan-dec/3 *").month == bits(1, 4, 7, 10, -1));
	assert_true(parse_ok("0 0 1 nov/1 *").month == bits(11, 12, -1));
	assert_true(parse_ok("0 0 * * MON-FRI").dow == span(1, 5));
	assert_true(parse_ok("0 0 * * mon-fri/2").dow == bits(1, 3, 5, -1));
	assert_true(parse_ok("0 0 * * sat,Sun").dow == bits(0, 6, -1));
}

static void test_sunday(void **state)
{
	(void)state;
	assert_true(parse_ok("0 0 * * 0").dow == bits(0, -1));
	assert_true(parse_ok("0 0 * * 7").dow == bits(0, -1));
	assert_true(parse_ok("0 0 * * sun").dow == bits(0, -1));
	assert_true(parse_ok("0 0 * * 0,7").dow == bits(0, -1));
	assert_true(parse_ok("0 0 * * 5-7").dow == bits(5, 6, 0, -1));
	assert_true(parse_ok("0 0 * * fri-7").dow == bits(5, 6, 0, -1));
	assert_true(parse_ok("0 0 * * 0-7").dow == span(0, 6));
	assert_true(parse_ok("0 0 * * 1/3").dow == bits(1, 4, 0, -1)); /* runs to 7 */
	assert_true(parse_ok("0 0 * * */7").dow == bits(0, -1));
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	/* 2026-03-01 is a Sunday: 7 and 0 both fire on it */
	assert_int_equal(next("0 9 * * 7", sh(2026, 2, 27, 0, 0)), sh(2026, 3, 1, 9, 0));
	assert_int_equal(next("0 9 * * 0", sh(2026, 2, 27, 0, 0)), sh(2026, 3, 1, 9, 0));
	assert_int_equal(next("0 9 * * 6", sh(2026, 2, 27, 0, 0)), sh(2026, 2, 28, 9, 0));
}

static void test_macros(void **state)
{
	(void)state;
	static const char *const pairs[][2] = {
	    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"},  {"@monthly", "0 0 1 * *"},
	    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},     {"@midnight", "0 0 * * *"},
	    {"@hourly", "0 * * * *"}, {"  @DAILY  ", "0 0 * * *"}, {"@Weekly\t", "0 0 * * 0"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct cron a = parse_ok(pairs[i][0]), b = parse_ok(pairs[i][1]);
		same_cron(&a, &b, pairs[i][0]);
	}
	refused("@reboot", "@reboot is not supported", NULL);
	refused("@REBOOT", "@reboot is not supported", NULL);
	refused("@fortnightly", "unknown cron macro @fortnightly", "@hourly");
	refused("@", "unknown cron macro", "@daily");
	refused("@daily2", "unknown cron macro", NULL);
	refused("@daily 0", "nothing may follow", NULL);
	refused("0 0 * * * @daily", "6 fields", NULL);
}

static void test_refusals(void **state)
{
	(void)state;
	/* the example of the interface, in full */
	struct cron c;
	char err[256];
	assert_int_equal(cron_parse("0 24 * * *", &c, err, sizeof err), -1);
	assert_string_equal(err, "cron field 2 (hour): 24 is out of range 0-23");

	refused(NULL, "empty", "5 fields");
	refused("", "empty", "minute hour day-of-month month day-of-week");
	refused(" \t ", "empty", NULL);
	refused("*", "1 field;", "expected 5");
	refused("* * * *", "4 fields", "expected 5");
	refused("* * * * * *", "6 fields", NULL);
	refused("0 0 1 1 1 2026", "6 fields", NULL);
	refused("0\n0 * * * *", "cron field 1 (minute)", "byte 0x0a");
	refused("* * * * *\n", "cron field 5 (day of week)", "byte 0x0a");

	/* out of range, every field, both ends */
	refused("60 * * * *", "cron field 1 (minute): 60 is out of range 0-59", NULL);
	refused("* 24 * * *", "cron field 2 (hour): 24 is out of range 0-23", NULL);
	refused("* * 0 * *", "cron field 3 (day of month): 0 is out of range 1-31", NULL);
	refused("* * 32 * *", "cron field 3 (day of month): 32 is out of range 1-31", NULL);
	refused("* * * 0 *", "cron field 4 (month): 0 is out of range 1-12", NULL);
	refused("* * * 13 *", "cron field 4 (month): 13 is out of range 1-12", NULL);
	refused("* * * * 8", "cron field 5 (day of week): 8 is out of range 0-7", NULL);
	refused("0-60 * * * *", "(minute): 60 is out of range", NULL);
	refused("* 1-99 * * *", "(hour): 99 is out of range", NULL);
	refused("99999999999 * * * *", "(minute): 99999999999 is out of range 0-59", NULL);
	refused("* * * * 1-99999999999999999999999999",
	        "(day of week): 999999999999999999999999 is out of range", NULL);

	/* ranges and steps */
	refused("5-2 * * * *", "(minute): the range 5-2 runs backwards", NULL);
	refused("* * * dec-jan *", "(month): the range 12-1 runs backwards", NULL);
	refused("* * * * sat-sun", "(day of week): the range 6-0 runs backwards", NULL);
	refused("*/0 * * * *", "(minute): step 0 is not allowed", NULL);
	refused("* 1-5/0 * * *", "(hour): step 0 is not allowed", NULL);
	refused("*/61 * * * *", "(minute): step 61 is larger than the 60 values of 0-59", NULL);
	refused("* */25 * * *", "(hour): step 25 is larger", NULL);
	refused("* * 1-5/6 * *", "(day of month): step 6 is larger than the 5 values of 1-5", NULL);
	refused("* * * 12/2 *", "(month): step 2 is larger than the 1 values of 12-12", NULL);
	refused("*/99999999999 * * * *", "step 999999999", "larger");
	refused("* * * */jan *", "(month): a step must be a number", NULL);
	refused("*/ * * * *", "(minute): a number is missing", NULL);
	refused("*/-1 * * * *", "(minute): unexpected '-'", NULL);
	refused("1/2/3 * * * *", "(minute): unexpected '/'", NULL);
	refused("1-2-3 * * * *", "(minute): unexpected '-'", NULL);

	/* lists */
	refused("1,,2 * * * *", "(minute): empty entry in a list", NULL);
	refused(",1 * * * *", "(minute): empty entry", NULL);
	refused("* * 1, * *", "(day of month): empty entry", NULL);
	refused("* * * * mon,", "(day of week): empty entry", NULL);

	/* garbage */
	refused("1x * * * *", "(minute): unexpected 'x'", "0-59");
	refused("-5 * * * *", "(minute): unexpected '-'", NULL);
	refused("*-5 * * * *", "(minute): unexpected '-'", NULL);
	refused("** * * * *", "(minute): unexpected '*'", NULL);
	refused("*5 * * * *", "(minute): unexpected '5'", NULL);
	refused("1- * * * *", "(minute): a number is missing", NULL);
	refused("* * * 1- *", "(month): a number or name is missing", "jan-dec");
	refused("? * * * *", "(minute): unexpected '?'", NULL);
	refused("* * L * *", "(day of month): names are not allowed here", "1-31");
	refused("* * * * 5#3", "(day of week): unexpected '#'", NULL);
	refused("1.5 * * * *", "(minute): unexpected '.'", NULL);
	refused("\xc2\xa0* * * * *", "(minute): unexpected byte 0xc2", NULL);
	refused("* * * * \x01", "(day of week): unexpected byte 0x01", NULL);

	/* names: only in their fields, three letters, no wrap-around */
	refused("mon * * * *", "(minute): names are not allowed here", NULL);
	refused("* jan * * *", "(hour): names are not allowed", NULL);
	refused("* * * january *", "(month): unknown name \"january\"", "jan-dec");
	refused("* * * foo *", "(month): unknown name \"foo\"", NULL);
	refused("* * * * monday", "(day of week): unknown name \"monday\"", "sun-sat");
	refused("* * * mon *", "(month): unknown name \"mon\"", NULL);
	refused("* * * * jan", "(day of week): unknown name \"jan\"", NULL);
	refused("* * * * m0n", "(day of week): unknown name \"m\"", NULL);
}

static void test_shanghai(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	/* hand-computed: 2026-03-01 00:30 +08:00 is 1772296200 */
	const int64_t t0 = 1772296200;
	assert_int_equal(sh(2026, 3, 1, 0, 30), t0);
	assert_int_equal(next("30 9 * * *", t0), 1772328600);           /* 2026-03-01 09:30 */
	assert_int_equal(next("* * * * *", t0), t0 + 60);               /* 00:31 */
	assert_int_equal(next("0 * * * *", t0), t0 + 1800);             /* 01:00 */
	assert_int_equal(next("0 0 * * *", t0), 1772380800);            /* 2026-03-02 00:00 */
	assert_int_equal(next("0 0 1 1 *", t0), 1798732800);            /* 2027-01-01 00:00 */
	assert_int_equal(next("0 0 1 3 *", t0), 1803830400);            /* 2027-03-01 00:00 */
	assert_int_equal(next("0 0 29 2 *", t0), 1835366400);           /* 2028-02-29 00:00 */
	assert_int_equal(next("15 8 * * mon", t0), 1772324100 + 86400); /* 03-02 08:15 */
	/* the business day, not the UTC one: 23:59 local is 15:59 UTC */
	assert_int_equal(next("59 23 * * *", t0), sh(2026, 3, 1, 23, 59));
	assert_int_equal(next("0 8 * * *", t0), utc(2026, 3, 1, 0, 0));
	assert_int_equal(next("*/15 9-10 * * *", sh(2026, 3, 1, 10, 45)), sh(2026, 3, 2, 9, 0));
	assert_int_equal(next("5/20 * * * *", sh(2026, 3, 1, 10, 45)), sh(2026, 3, 1, 11, 5));
	assert_int_equal(next("1-5/2 * * * *", sh(2026, 3, 1, 10, 3)), sh(2026, 3, 1, 10, 5));
	assert_int_equal(next("0 12 * 6-8 *", t0), sh(2026, 6, 1, 12, 0));
	assert_int_equal(next("0 12 * jun-aug *", sh(2026, 8, 31, 12, 0)), sh(2027, 6, 1, 12, 0));
	/* a time before 1970 */
	assert_int_equal(next("0 0 1 1 *", sh(1969, 6, 1, 0, 0)), sh(1970, 1, 1, 0, 0));
	/* starts out of the supported years */
	assert_int_equal(next("* * * * *", INT64_MAX), -1);
	assert_int_equal(next("* * * * *", INT64_MIN), -1);
}

static void test_strictly_after(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	const int64_t nine = sh(2026, 3, 2, 9, 0);
	/* exactly a matching minute: the next one */
	assert_int_equal(next("0 9 * * *", nine), nine + 86400);
	assert_int_equal(next("* * * * *", nine), nine + 60);
	/* seconds inside a matching minute: not the same minute */
	assert_int_equal(next("0 9 * * *", nine + 1), nine + 86400);
	assert_int_equal(next("0 9 * * *", nine + 59), nine + 86400);
	assert_int_equal(next("* * * * *", nine + 30), nine + 60);
	/* a second before it: that minute */
	assert_int_equal(next("0 9 * * *", nine - 1), nine);
	assert_int_equal(next("* * * * *", nine - 1), nine);
	/* every result is a whole minute, and chaining walks the matches */
	struct cron c = parse_ok("*/20 9 * * *");
	int64_t t = nine - 7;
	const int64_t want[] = {nine, nine + 1200, nine + 2400, nine + 86400};
	for (int i = 0; i < 4; i++) {
		t = cron_next(&c, t);
		assert_int_equal(t, want[i]);
		assert_int_equal(t % 60, 0);
	}
}

static void test_or_rule(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	/* 2026-03: Friday the 6th, 13th (Friday), 20th, 27th */
	const int64_t t = sh(2026, 3, 1, 12, 0);
	struct cron c = parse_ok("0 0 10 * 5"); /* the 10th or any Friday */
	const int64_t want[] = {sh(2026, 3, 6, 0, 0), sh(2026, 3, 10, 0, 0), sh(2026, 3, 13, 0, 0),
	                        sh(2026, 3, 20, 0, 0)};
	int64_t x = t;
	for (int i = 0; i < 4; i++)
		assert_int_equal(x = cron_next(&c, x), want[i]);
	/* one field '*': only the other counts */
	assert_int_equal(next("0 0 10 * *", t), sh(2026, 3, 10, 0, 0));
	assert_int_equal(next("0 0 * * 5", sh(2026, 3, 6, 0, 0)), sh(2026, 3, 13, 0, 0));
	/* a full range is a restriction: 1-31 or Friday is every day */
	assert_int_equal(next("0 0 1-31 * 5", t), sh(2026, 3, 2, 0, 0));
	assert_int_equal(next("0 0 10 * 0-7", t), sh(2026, 3, 2, 0, 0));
	/* Vixie: '*' with a step is unrestricted, so both must match: odd
	 * dates that are Mondays (2026-03-02 is even, 03-09 odd); written as a
	 * range it is a restriction, and Monday the 2nd matches */
	assert_int_equal(next("0 0 */2 * 1", t), sh(2026, 3, 9, 0, 0));
	assert_int_equal(next("0 0 1-31/2 * 1", t), sh(2026, 3, 2, 0, 0));
	assert_int_equal(next("0 0 */2 * 1", sh(2026, 3, 9, 0, 0)), sh(2026, 3, 23, 0, 0));
	/* so a step of 1 after "*" is every Monday, where "1-31" or Monday is every day */
	assert_int_equal(next("0 0 */1 * 1", sh(2026, 3, 2, 0, 0)), sh(2026, 3, 9, 0, 0));
	assert_int_equal(next("0 0 1-31 * 1", sh(2026, 3, 2, 0, 0)), sh(2026, 3, 3, 0, 0));
	/* the same on the other side: Sundays (star with a step) that are 13th */
	assert_int_equal(next("0 0 13 * */7", t), sh(2026, 9, 13, 0, 0));
	assert_int_equal(next("0 0 13 * 5", sh(2026, 3, 27, 12, 0)), sh(2026, 4, 3, 0, 0));
}

static void test_calendar(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	/* the 31st skips short months */
	struct cron c = parse_ok("0 12 31 * *");
	int64_t t = sh(2026, 1, 31, 13, 0);
	const int mon[] = {3, 5, 7, 8, 10, 12};
	for (int i = 0; i < 6; i++)
		assert_int_equal(t = cron_next(&c, t), sh(2026, mon[i], 31, 12, 0));
	assert_int_equal(cron_next(&c, t), sh(2027, 1, 31, 12, 0));
	/* the 30th skips February only */
	assert_int_equal(next("0 0 30 * *", sh(2026, 1, 30, 0, 0)), sh(2026, 3, 30, 0, 0));
	/* 29 February: the next leap year, four years on when needed, and over
	 * 2100, which is no leap year */
	assert_int_equal(next("0 0 29 2 *", sh(2027, 3, 1, 0, 0)), sh(2028, 2, 29, 0, 0));
	assert_int_equal(next("0 0 29 2 *", sh(2028, 2, 29, 0, 0)), 1961596800); /* 2032 */
	assert_int_equal(next("0 0 29 2 *", sh(2028, 2, 28, 23, 59)), sh(2028, 2, 29, 0, 0));
	assert_int_equal(next("0 0 29 2 *", 4075977600), 4233657600); /* 2099-03-01 -> 2104 */
	assert_int_equal(next("0 0 29 * *", sh(2027, 1, 29, 0, 0)), sh(2027, 3, 29, 0, 0));
	assert_int_equal(next("0 0 28-31 2 *", sh(2028, 2, 28, 0, 0)), sh(2028, 2, 29, 0, 0));
	assert_int_equal(next("0 0 28-31 2 *", sh(2027, 2, 28, 0, 0)), sh(2028, 2, 28, 0, 0));
	/* New Year */
	assert_int_equal(next("0 0 1 1 *", 1798732770), 1798732800);
	assert_int_equal(next("* * * * *", sh(2026, 12, 31, 23, 59)), sh(2027, 1, 1, 0, 0));
	assert_int_equal(next("59 23 31 12 *", sh(2026, 12, 31, 23, 59)), sh(2027, 12, 31, 23, 59));
	assert_int_equal(next("0 0 * 1 *", sh(2026, 2, 1, 0, 0)), sh(2027, 1, 1, 0, 0));
	assert_int_equal(next("0 9 * * mon", sh(2026, 12, 29, 0, 0)), sh(2027, 1, 4, 9, 0));
	/* end of an hour, of a day, of a month */
	assert_int_equal(next("0,30 * * * *", sh(2026, 4, 30, 23, 45)), sh(2026, 5, 1, 0, 0));
}

static void test_five_years(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
	const int64_t t = sh(2026, 3, 1, 0, 0);
	assert_int_equal(next("0 0 30 2 *", t), -1);
	assert_int_equal(next("0 0 31 2 *", t), -1);
	assert_int_equal(next("0 0 31 4,6,9,11 *", t), -1);
	assert_int_equal(next("* * 30,31 feb *", t), -1);
	/* 2096-02-29: the next is 2104-02-29, eight years on */
	assert_int_equal(next("0 0 29 2 *", 3981283200), -1);
	/* 1 March on a Monday (Vixie's AND, as the day of month starts with
	 * '*'): 2021, 2027, 2032. The limit is the same date five years on,
	 * inclusive. */
	struct cron c = parse_ok("0 0 */31 3 mon");
	assert_int_equal(cron_next(&c, sh(2021, 2, 28, 0, 0)), sh(2021, 3, 1, 0, 0));
	assert_int_equal(cron_next(&c, sh(2021, 3, 1, 0, 0)), -1); /* six years */
	assert_int_equal(cron_next(&c, sh(2022, 2, 28, 23, 0)), -1);
	assert_int_equal(cron_next(&c, sh(2022, 3, 1, 0, 0)), sh(2027, 3, 1, 0, 0));
	assert_int_equal(cron_next(&c, sh(2027, 3, 1, 0, 0)), sh(2032, 3, 1, 0, 0));
}

static void test_speed(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Europe/Berlin"), 0);
	struct cron leap = parse_ok("0 0 29 2 *"), never = parse_ok("0 0 30 2 *");
	struct cron rare = parse_ok("59 23 31 dec *");
	const int64_t t = utc(2027, 3, 1, 0, 0);
	enum { N = 200 };
	uint64_t t0 = time_mono_ns();
	for (int i = 0; i < N; i++) {
		assert_int_equal(cron_next(&leap, t), utc(2028, 2, 28, 23, 0));
		assert_int_equal(cron_next(&never, t), -1);
		assert_true(cron_next(&rare, t) > t);
	}
	uint64_t per = (time_mono_ns() - t0) / (3 * N);
	/* well under a millisecond, even under the sanitizers */
	if (per > 1000000)
		fail_msg("cron_next took %llu ns per call", (unsigned long long)per);
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
}

/* America/New_York 2026: 02:00 EST -> 03:00 EDT on 8 March (07:00 UTC), and
 * 02:00 EDT -> 01:00 EST on 1 November (06:00 UTC). */
static void test_dst_new_york(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("America/New_York"), 0);
	/* the gap: 02:30 does not exist, it fires once at 03:00 EDT */
	assert_int_equal(next("30 2 * * *", utc(2026, 3, 7, 8, 0)), utc(2026, 3, 8, 7, 0));
	assert_int_equal(next("30 2 * * *", utc(2026, 3, 8, 7, 0)), utc(2026, 3, 9, 6, 30));
	struct cron c = parse_ok("*/15 2 * * *"); /* four gap minutes, one firing */
	assert_int_equal(cron_next(&c, utc(2026, 3, 8, 6, 50)), utc(2026, 3, 8, 7, 0));
	assert_int_equal(cron_next(&c, utc(2026, 3, 8, 7, 0)), utc(2026, 3, 9, 6, 0));
	/* hourly: 01:00 EST, then 03:00 EDT (for 02:00 and 03:00 both), 04:00 */
	c = parse_ok("0 * * * *");
	int64_t t = utc(2026, 3, 8, 5, 30);
	const int64_t gap[] = {utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 8, 0)};
	for (int i = 0; i < 3; i++)
		assert_int_equal(t = cron_next(&c, t), gap[i]);
	/* daily just after the gap, and a time on the day that is not in it */
	assert_int_equal(next("0 3 * * *", utc(2026, 3, 8, 0, 0)), utc(2026, 3, 8, 7, 0));
	assert_int_equal(next("59 1 * * *", utc(2026, 3, 8, 0, 0)), utc(2026, 3, 8, 6, 59));
	assert_int_equal(next("0 12 8 3 *", utc(2026, 3, 8, 0, 0)), utc(2026, 3, 8, 16, 0));

	/* the overlap: 01:30 fires at 01:30 EDT only */
	assert_int_equal(next("30 1 * * *", utc(2026, 11, 1, 4, 0)), utc(2026, 11, 1, 5, 30));
	assert_int_equal(next("30 1 * * *", utc(2026, 11, 1, 5, 30)), utc(2026, 11, 2, 6, 30));
	c = parse_ok("*/20 * * * *");
	t = utc(2026, 11, 1, 4, 30);
	const int64_t ov[] = {utc(2026, 11, 1, 4, 40), utc(2026, 11, 1, 5, 0),
	                      utc(2026, 11, 1, 5, 20), utc(2026, 11, 1, 5, 40),
	                      utc(2026, 11, 1, 7, 0), /* 02:00 EST: 01:xx EST were done */
	                      utc(2026, 11, 1, 7, 20)};
	for (int i = 0; i < 6; i++)
		assert_int_equal(t = cron_next(&c, t), ov[i]);
	/* a start inside the second 01:xx: those minutes are done, 02:00 is next */
	assert_int_equal(cron_next(&c, utc(2026, 11, 1, 6, 10)), utc(2026, 11, 1, 7, 0));
	assert_int_equal(next("30 1 * * *", utc(2026, 11, 1, 6, 10)), utc(2026, 11, 2, 6, 30));
	assert_int_equal(next("0 2 * * *", utc(2026, 11, 1, 4, 0)), utc(2026, 11, 1, 7, 0));
	assert_int_equal(next("59 0 * * *", utc(2026, 11, 1, 4, 0)), utc(2026, 11, 1, 4, 59));
	/* a day across the changes is 23 or 25 hours long: noon stays noon */
	assert_int_equal(next("0 12 * * *", utc(2026, 3, 7, 17, 0)), utc(2026, 3, 8, 16, 0));
	assert_int_equal(next("0 12 * * *", utc(2026, 10, 31, 16, 0)), utc(2026, 11, 1, 17, 0));
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
}

/* Europe/Berlin 2026: 02:00 CET -> 03:00 CEST on 29 March (01:00 UTC), 03:00
 * CEST -> 02:00 CET on 25 October (01:00 UTC); America/Havana changes at
 * midnight: 8 March 2026 starts at 01:00 CDT (05:00 UTC). */
static void test_dst_berlin_havana(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("Europe/Berlin"), 0);
	assert_int_equal(next("30 2 * * *", utc(2026, 3, 28, 12, 0)), utc(2026, 3, 29, 1, 0));
	assert_int_equal(next("30 2 * * *", utc(2026, 3, 29, 1, 0)), utc(2026, 3, 30, 0, 30));
	assert_int_equal(next("30 2 * * *", utc(2026, 10, 24, 12, 0)), utc(2026, 10, 25, 0, 30));
	assert_int_equal(next("30 2 * * *", utc(2026, 10, 25, 0, 30)), utc(2026, 10, 26, 1, 30));
	assert_int_equal(next("0 3 * * *", utc(2026, 10, 24, 12, 0)), utc(2026, 10, 25, 2, 0));
	assert_int_equal(time_set_zone("America/Havana"), 0);
	/* midnight does not exist on 8 March: the daily run is at 01:00 */
	struct cron c = parse_ok("0 0 * * *");
	int64_t t = utc(2026, 3, 6, 12, 0);
	const int64_t want[] = {utc(2026, 3, 7, 5, 0), utc(2026, 3, 8, 5, 0),
	                        utc(2026, 3, 9, 4, 0)};
	for (int i = 0; i < 3; i++)
		assert_int_equal(t = cron_next(&c, t), want[i]);
	/* 1 November: midnight twice (04:00 UTC in CDT, 05:00 in CST), once */
	assert_int_equal(cron_next(&c, utc(2026, 10, 31, 12, 0)), utc(2026, 11, 1, 4, 0));
	assert_int_equal(cron_next(&c, utc(2026, 11, 1, 4, 0)), utc(2026, 11, 2, 5, 0));
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
}

/* --- the cross-check ------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

static const int flo[5] = {0, 0, 1, 1, 0}, fhi[5] = {59, 23, 31, 12, 7};

/* A value of field fi as text: a name sometimes, where the field has them. */
static void put_value(char **p, int fi, int v)
{
	static const char *const mn[] = {"jan", "feb", "mar", "apr", "may", "jun",
	                                 "jul", "aug", "sep", "oct", "nov", "dec"};
	static const char *const dn[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	const char *name = NULL;
	if (fi == 3 && rnd(3) == 0)
		name = mn[v - 1];
	else if (fi == 4 && v < 7 && rnd(3) == 0)
		name = dn[v];
	if (!name) {
		*p += sprintf(*p, "%d", v);
		return;
	}
	for (int i = 0; i < 3; i++)
		*(*p)++ = rnd(2) ? (char)(name[i] - 'a' + 'A') : name[i];
	**p = '\0';
}

/* Append a random valid field to *p and return the set it stands for. The
 * mix leans to '*' for months and days so that matches are near enough, and
 * to the small hours, where clocks change. */
static uint64_t gen_field(char **p, int fi)
{
	int lo = flo[fi], hi = fhi[fi], top = fi == 1 && rnd(3) == 0 ? 3 : hi;
	uint64_t set = 0;
	int items = rnd(4) == 0 ? 2 + (int)rnd(2) : 1;
	if ((fi >= 2 && rnd(3) != 0) || (fi <= 1 && rnd(6) == 0)) {
		**p = '*';
		(*p)++;
		**p = '\0';
		set = ~0ull;
		items = 0;
	}
	for (int i = 0; i < items; i++) {
		if (i)
			*(*p)++ = ',';
		int a = lo + (int)rnd((uint32_t)(top - lo + 1)), b = a, step = 1;
		switch (rnd(6)) {
		case 0: /* "*" with a step */
			a = lo;
			b = hi;
			step = 1 + (int)rnd((uint32_t)(hi - lo + 1));
			*p += sprintf(*p, "*/%d", step);
			break;
		case 1: /* a */
			put_value(p, fi, a);
			break;
		case 2: /* a-b */
		case 3: /* a-b/n */
			b = a + (int)rnd((uint32_t)(top - a + 1));
			put_value(p, fi, a);
			*(*p)++ = '-';
			put_value(p, fi, b);
			if (rnd(2)) {
				step = 1 + (int)rnd((uint32_t)(b - a + 1));
				*p += sprintf(*p, "/%d", step);
			}
			break;
		default: /* a/n */
			b = hi;
			step = 1 + (int)rnd((uint32_t)(b - a + 1));
			put_value(p, fi, a);
			*p += sprintf(*p, "/%d", step);
			break;
		}
		for (int v = a; v <= b; v += step)
			set |= 1ull << v;
	}
	set &= ((2ull << hi) - 1) & ~((1ull << lo) - 1);
	if (fi == 4 && (set >> 7 & 1))
		set = (set | 1) & 0x7f;
	return set;
}

/* Whether local seconds L (the wall clock written as UTC) match, by the rules
 * as the manual states them. */
static bool naive_match(const struct cron *want, int64_t L)
{
	int64_t day = L >= 0 ? L / 86400 : -((-L + 86399) / 86400);
	int64_t sec = L - day * 86400;
	int y, m, d;
	time_civil_from_days(day, &y, &m, &d);
	int wd = (int)(((day % 7) + 11) % 7);
	int h = (int)(sec / 3600), mi = (int)(sec / 60 % 60);
	if (!(want->minute >> mi & 1) || !(want->hour >> h & 1) || !(want->month >> m & 1))
		return false;
	bool dm = want->dom >> d & 1, dw = want->dow >> wd & 1;
	if (want->dom_any || want->dow_any)
		return dm && dw;
	return dm || dw;
}

#define WINDOW_DAYS 10
#define PRE 180 /* minutes kept before the start, to recognise repeats */
#define NMIN (PRE + (WINDOW_DAYS + 5) * 1440)

/* The first whole minute after `after` at which a job fires, minute by minute:
 * a minute fires when its wall clock matches and was not shown before (fresh),
 * or when it ends a gap in which a skipped wall minute matches. wall[i] is the
 * local seconds of minute base + (i - PRE) * 60. */
static int64_t naive_next(const struct cron *want, const int64_t *wall, const bool *fresh,
                          int64_t base, int64_t after, int64_t limit)
{
	int64_t t = after - (after % 60 + 60) % 60 + 60;
	for (; t <= limit; t += 60) {
		int i = (int)((t - base) / 60) + PRE;
		if (!fresh[i])
			continue;
		if (naive_match(want, wall[i]))
			return t;
		for (int64_t L = wall[i - 1] + 60; L < wall[i]; L += 60)
			if (naive_match(want, L))
				return t;
	}
	return -1;
}

static void test_cross_check(void **state)
{
	(void)state;
	/* zones and window starts (UTC midnight), most three to four and a half
	 * days before a change */
	static const struct {
		const char *zone;
		int y, m, d;
	} windows[] = {
	    {"America/New_York", 2026, 3, 4},    {"America/New_York", 2026, 10, 28},
	    {"Europe/Berlin", 2026, 3, 25},      {"Europe/Berlin", 2026, 10, 21},
	    {"Australia/Lord_Howe", 2026, 4, 1}, {"Australia/Lord_Howe", 2026, 9, 30},
	    {"America/Havana", 2026, 3, 4},      {"America/Havana", 2026, 10, 28},
	    {"Asia/Shanghai", 2026, 12, 24},     {"Asia/Shanghai", 2028, 2, 22},
	    {"America/New_York", 2027, 6, 10},   {"Europe/Berlin", 2027, 12, 25},
	};
	static int64_t wall[NMIN];
	static bool fresh[NMIN];
	rng_state = 0x9e3779b97f4a7c15ull;
	int checked = 0, found = 0;
	for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
		assert_int_equal(time_set_zone(windows[w].zone), 0);
		const int64_t base = utc(windows[w].y, windows[w].m, windows[w].d, 0, 0);
		for (int i = 0; i < NMIN; i++) {
			time_t tt = (time_t)(base + (int64_t)(i - PRE) * 60);
			struct tm tm;
			localtime_r(&tt, &tm);
			wall[i] = (int64_t)tt + tm.tm_gmtoff;
		}
		fresh[0] = true;
		for (int i = 1, top = 0; i < NMIN; i++) { /* above all before it */
			fresh[i] = wall[i] > wall[top];
			if (fresh[i])
				top = i;
		}
		for (int e = 0; e < 30; e++) {
			char text[256], *p = text;
			struct cron want = {0};
			uint64_t set[5];
			for (int fi = 0; fi < 5; fi++) {
				if (fi)
					*p++ = rnd(4) ? ' ' : '\t';
				char *start = p;
				set[fi] = gen_field(&p, fi);
				if (fi == 2)
					want.dom_any = *start == '*';
				if (fi == 4)
					want.dow_any = *start == '*';
			}
			*p = '\0';
			want.minute = set[0];
			want.hour = (uint32_t)set[1];
			want.dom = (uint32_t)set[2];
			want.month = (uint16_t)set[3];
			want.dow = (uint8_t)set[4];
			struct cron c = parse_ok(text);
			same_cron(&c, &want, text);
			for (int s = 0; s < 3; s++) {
				/* the first start anywhere in three days, the others
				 * in the day and a half the clocks change in */
				int64_t after =
				    base + (s ? 3 * 86400 + rnd(36 * 3600) : rnd(3 * 86400));
				if (rnd(3) == 0)
					after -= after % 60; /* on a whole minute */
				const int64_t limit = after + WINDOW_DAYS * 86400;
				int64_t want_t = naive_next(&c, wall, fresh, base, after, limit);
				int64_t got = cron_next(&c, after);
				if (want_t >= 0 ? got != want_t : got >= 0 && got <= limit)
					fail_msg(
					    "%s \"%s\" after %lld: %lld, the naive search says "
					    "%lld",
					    windows[w].zone, text, (long long)after, (long long)got,
					    (long long)want_t);
				checked++;
				found += want_t >= 0;
			}
		}
	}
	/* the mix must exercise both outcomes */
	assert_true(checked == 1080 && found > 500 && found < checked);
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
}

/* Several threads at once give the same answers as one (no shared state). */
static void *thread_run(void *arg)
{
	int64_t *sum = arg;
	struct cron c = parse_ok("*/7 3-5,9 * * mon-fri");
	int64_t t = utc(2026, 3, 1, 0, 0);
	for (int i = 0; i < 2000; i++)
		*sum += t = cron_next(&c, t);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	assert_int_equal(time_set_zone("America/New_York"), 0);
	int64_t one = 0, sums[4] = {0};
	thread_run(&one);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_run, &sums[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(sums[i] == one);
	}
	assert_int_equal(time_set_zone("Asia/Shanghai"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_sunday),
	    cmocka_unit_test(test_macros),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_shanghai),
	    cmocka_unit_test(test_strictly_after),
	    cmocka_unit_test(test_or_rule),
	    cmocka_unit_test(test_calendar),
	    cmocka_unit_test(test_five_years),
	    cmocka_unit_test(test_speed),
	    cmocka_unit_test(test_dst_new_york),
	    cmocka_unit_test(test_dst_berlin_havana),
	    cmocka_unit_test(test_cross_check),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
