/* test_util.c - buffers, string parsing, UTF-8, base64url, RFC 3339 and the
 * log escaper. */
#include "harness.h"

#include "scrm/crypto.h"
#include "scrm/log.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

static void test_buf(void **state)
{
	(void)state;
	struct buf b = {0};
	buf_puts(&b, "hello");
	buf_putc(&b, ' ');
	buf_printf(&b, "%d-%s", 42, "x");
	for (int i = 0; i < 1000; i++)
		buf_putc(&b, 'a');
	assert_int_equal(b.len, 5 + 1 + 4 + 1000);
	assert_memory_equal(b.data, "hello 42-x", 10);
	assert_int_equal(b.data[b.len], '\0');
	char *s = buf_steal(&b);
	assert_null(b.data);
	assert_int_equal(strlen(s), 1010);
	free(s);
	s = buf_steal(&b); /* an empty buffer still gives a string */
	assert_string_equal(s, "");
	free(s);
}

static void test_str_to_i64(void **state)
{
	(void)state;
	int64_t v;
	assert_true(str_to_i64("0", &v) && v == 0);
	assert_true(str_to_i64("-17", &v) && v == -17);
	assert_true(str_to_i64("9223372036854775807", &v) && v == INT64_MAX);
	assert_false(str_to_i64("9223372036854775808", &v));
	assert_false(str_to_i64("", &v));
	assert_false(str_to_i64(NULL, &v));
	assert_false(str_to_i64(" 1", &v));
	assert_false(str_to_i64("+1", &v));
	assert_false(str_to_i64("1x", &v));
	assert_false(str_to_i64("0x10", &v));
}

static void test_utf8(void **state)
{
	(void)state;
	const char ok[] = "abc \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80";
	assert_true(str_utf8_valid(ok, strlen(ok)));
	assert_int_equal(str_utf8_len(ok), 8);
	assert_false(str_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
	assert_false(str_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(str_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(str_utf8_valid("\xe4\xb8", 2));         /* truncated */
	assert_false(str_utf8_valid("a\0b", 3));             /* NUL inside */
	assert_false(str_utf8_valid("\x80", 1));             /* lone continuation */

	/* scrubbing: valid text is left alone, each bad byte becomes '?' */
	char a[] = "abc \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80";
	assert_int_equal(str_utf8_scrub(a), 0);
	assert_string_equal(a, ok);
	char b[] = "x\xff\xfe\xc0\xafy\xed\xa0\x80\xe4\xb8"; /* found by fuzz_import */
	assert_int_equal(str_utf8_scrub(b), 9);
	assert_string_equal(b, "x????y?????");
	assert_true(str_utf8_valid(b, strlen(b)));
	char c[] = "\xe4\xb8\xad\xe4";
	assert_int_equal(str_utf8_scrub(c), 1);
	assert_string_equal(c, "\xe4\xb8\xad?");
}

static void test_b64url(void **state)
{
	(void)state;
	unsigned char in[64], out[64];
	char enc[128];
	for (size_t n = 0; n < sizeof in; n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(i * 37 + n);
		crypto_b64url_encode(in, n, enc);
		assert_int_equal(strlen(enc), crypto_b64url_len(n));
		assert_null(strchr(enc, '='));
		assert_int_equal(crypto_b64url_decode(enc, out, sizeof out), (long)n);
		assert_memory_equal(in, out, n);
	}
	crypto_b64url_encode((const unsigned char *)"\xfb\xff", 2, enc);
	assert_string_equal(enc, "-_8");
	assert_int_equal(crypto_b64url_decode("a", out, sizeof out), -1);    /* bad length */
	assert_int_equal(crypto_b64url_decode("ab+c", out, sizeof out), -1); /* not url-safe */
	assert_int_equal(crypto_b64url_decode("AB", out, sizeof out), -1);   /* stray bits */
	assert_int_equal(crypto_b64url_decode("AAAA", out, 2), -1);          /* does not fit */
}

static void test_rfc3339(void **state)
{
	(void)state;
	int64_t t;
	char s[TIME_RFC3339_LEN];
	assert_true(time_parse_rfc3339("2026-11-22T08:00:00Z", &t));
	assert_int_equal(t, 1795334400);
	assert_string_equal(time_fmt_rfc3339(t, s), "2026-11-22T08:00:00Z");
	assert_true(time_parse_rfc3339("2026-11-22T16:00:00+08:00", &t));
	assert_int_equal(t, 1795334400);
	assert_true(time_parse_rfc3339("2026-11-22T07:30:00.123456-00:30", &t));
	assert_int_equal(t, 1795334400);
	assert_true(time_parse_rfc3339("1970-01-01T00:00:00Z", &t) && t == 0);
	assert_true(time_parse_rfc3339("2024-02-29T00:00:00Z", &t));
	assert_false(time_parse_rfc3339("2023-02-29T00:00:00Z", &t));
	assert_false(time_parse_rfc3339("2026-13-01T00:00:00Z", &t));
	assert_false(time_parse_rfc3339("2026-11-22T24:00:00Z", &t));
	assert_false(time_parse_rfc3339("2026-11-22 08:00:00Z", &t));
	assert_false(time_parse_rfc3339("2026-11-22T08:00:00", &t));
	assert_false(time_parse_rfc3339("2026-11-22T08:00:00+0800", &t));
	assert_false(time_parse_rfc3339("2026-11-22T08:00:00Zjunk", &t));
	assert_false(time_parse_rfc3339("", &t));
	assert_string_equal(time_fmt_rfc3339(951782400, s), "2000-02-29T00:00:00Z");
}

static void test_dates(void **state)
{
	(void)state;
	int y, m, d;
	assert_true(time_parse_date("2026-01-31", &y, &m, &d));
	assert_int_equal(y * 10000 + m * 100 + d, 20260131);
	assert_false(time_parse_date("2026-04-31", NULL, NULL, NULL));
	assert_false(time_parse_date("2026-1-31", NULL, NULL, NULL));
	assert_false(time_parse_date("0000-01-01", NULL, NULL, NULL));
	assert_int_equal(time_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(time_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(time_days_from_civil(1969, 12, 31), -1);
	/* every day of four centuries converts and steps by one */
	int64_t prev = time_days_from_civil(1899, 12, 31);
	for (int yy = 1900; yy < 2300; yy++)
		for (unsigned mm = 1; mm <= 12; mm++)
			for (unsigned dd = 1; dd <= 31; dd++) {
				char txt[32];
				snprintf(txt, sizeof txt, "%04d-%02u-%02u", yy, mm, dd);
				if (!time_parse_date(txt, NULL, NULL, NULL))
					continue;
				int64_t cur = time_days_from_civil(yy, mm, dd);
				assert_int_equal(cur, prev + 1);
				prev = cur;
			}
}

static void test_log_escape(void **state)
{
	(void)state;
	char out[64];
	assert_string_equal(log_escape(out, sizeof out, "/a b\n\"x\"\\", 100),
	                    "/a\\x20b\\x0a\\x22x\\x22\\x5c");
	assert_string_equal(log_escape(out, sizeof out, NULL, 10), "-");
	assert_string_equal(log_escape(out, 5, "abcdefgh", 100), "abcd");
	assert_string_equal(log_escape(out, sizeof out, "abcdefgh", 3), "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf),        cmocka_unit_test(test_str_to_i64),
	    cmocka_unit_test(test_utf8),       cmocka_unit_test(test_b64url),
	    cmocka_unit_test(test_rfc3339),    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_log_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
