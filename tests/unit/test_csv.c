/* test_csv.c - the streaming CSV reader: quoting, line ends, BOM, blank lines,
 * line numbers, malformed records and recovery. */
#include "harness.h"

#include "scrm/core_csv.h"
#include "scrm/util.h"

struct want {
	int rc;
	size_t line, n;
	const char *f[4];
};

static void expect(const char *text, const struct want *w, size_t nw)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	struct csv_reader r;
	csv_init(&r, f);
	for (size_t i = 0; i < nw; i++) {
		const char *why = NULL;
		int rc = csv_next(&r, &why);
		if (rc != w[i].rc)
			fail_msg("record %zu: rc %d, want %d (%s)", i, rc, w[i].rc, why ? why : "");
		if (rc == 1 || rc == -1)
			assert_int_equal(r.line, w[i].line);
		if (rc != 1)
			continue;
		assert_int_equal(r.nfields, w[i].n);
		for (size_t k = 0; k < w[i].n && k < 4; k++)
			assert_string_equal(r.fields[k], w[i].f[k]);
	}
	csv_clear(&r);
	fclose(f);
}

static void test_plain(void **state)
{
	(void)state;
	const struct want w[] = {
	    {1, 1, 3, {"a", "b", "c"}},
	    {1, 2, 3, {"1", "", "3"}},
	    {1, 3, 1, {"x"}},
	    {0, 0, 0, {NULL}},
	};
	expect("a,b,c\n1,,3\nx", w, 4);
	expect("a,b,c\r\n1,,3\r\nx\r\n", w, 4);
}

static void test_quotes(void **state)
{
	(void)state;
	const struct want w[] = {
	    {1, 1, 3, {"say \"hi\"", "a,b", "line1\nline2"}},
	    {1, 3, 2, {"", "王小美"}},
	    {0, 0, 0, {NULL}},
	};
	expect("\"say \"\"hi\"\"\",\"a,b\",\"line1\nline2\"\n\"\",王小美\n", w, 3);
}

static void test_bom_and_blank(void **state)
{
	(void)state;
	const struct want w[] = {
	    {1, 1, 2, {"platform", "id"}},
	    {1, 4, 2, {"tmall", "1"}},
	    {0, 0, 0, {NULL}},
	};
	expect("\xEF\xBB\xBFplatform,id\n\n\r\ntmall,1\n\n", w, 3);
	/* a short file that is not a BOM is read as it is */
	const struct want w2[] = {{1, 1, 1, {"\xEF\xBB"}}, {0, 0, 0, {NULL}}};
	expect("\xEF\xBB", w2, 2);
}

static void test_malformed_then_recover(void **state)
{
	(void)state;
	const struct want w[] = {
	    {1, 1, 2, {"a", "b"}}, {-1, 2, 0, {NULL}}, /* quote inside an unquoted field */
	    {1, 3, 2, {"c", "d"}}, {-1, 4, 0, {NULL}}, /* text after a closing quote */
	    {1, 5, 2, {"e", "f"}}, {-1, 6, 0, {NULL}}, /* unclosed quote at the end */
	};
	expect("a,b\nx\"y,z\nc,d\n\"q\"r,s\ne,f\n\"open,end", w, 6);
}

static void test_limits(void **state)
{
	(void)state;
	struct buf b = {0};
	for (int i = 0; i < 300; i++)
		buf_puts(&b, "x,");
	buf_puts(&b, "x\nok,1\n");
	const struct want w[] = {{-1, 1, 0, {NULL}}, {1, 2, 2, {"ok", "1"}}, {0, 0, 0, {NULL}}};
	expect(b.data, w, 3);
	buf_clear(&b);
	buf_putc(&b, '"');
	for (int i = 0; i < CSV_MAX_RECORD + 10; i++)
		buf_putc(&b, 'y');
	buf_puts(&b, "\"\nok,2\n");
	const struct want w2[] = {{-1, 1, 0, {NULL}}};
	expect(b.data, w2, 1);
	buf_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),         cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_bom_and_blank), cmocka_unit_test(test_malformed_then_recover),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
