/* test_router.c - route matching: placeholders, 405 detection, Allow lists;
 * percent-decoding of paths and query strings. */
#include "harness.h"

#include "scrm/http.h"

static const struct route *match(const char *method, const char *path, const char **params,
                                 bool *pm)
{
	static char scratch[512];
	return http_route_match(method, path, scratch, sizeof scratch, params, pm);
}

static void test_literal_and_params(void **state)
{
	(void)state;
	const char *p[REQ_MAX_PARAMS] = {0};
	bool pm;
	const struct route *r = match("GET", "/api/v1/users", p, &pm);
	assert_non_null(r);
	assert_string_equal(r->name, "users.list");
	r = match("GET", "/api/v1/users/42", p, &pm);
	assert_non_null(r);
	assert_string_equal(r->name, "users.get");
	assert_string_equal(p[0], "42");
	r = match("DELETE", "/api/v1/tokens/7", p, &pm);
	assert_non_null(r);
	assert_string_equal(r->name, "tokens.delete");
	assert_string_equal(p[0], "7");
	r = match("HEAD", "/healthz", p, &pm); /* HEAD is served by GET routes */
	assert_non_null(r);
	assert_string_equal(r->name, "healthz");
}

static void test_no_match(void **state)
{
	(void)state;
	const char *p[REQ_MAX_PARAMS] = {0};
	bool pm;
	assert_null(match("GET", "/api/v1/users/", p, &pm)); /* empty placeholder */
	assert_false(pm);
	assert_null(match("GET", "/api/v1/users/1/x", p, &pm));
	assert_null(match("GET", "/api/v1/user", p, &pm));
	assert_null(match("GET", "/api/v1/usersx", p, &pm));
	assert_null(match("GET", "/", p, &pm));
	assert_null(match("GET", "", p, &pm));
	assert_null(match("PUT", "/api/v1/users/1", p, &pm));
	assert_true(pm); /* the path exists: 405, not 404 */
	assert_null(match("DELETE", "/api/v1/users", p, &pm));
	assert_true(pm);
	char big[600];
	memset(big, 'a', sizeof big - 1);
	big[0] = '/';
	big[sizeof big - 1] = '\0';
	assert_null(match("GET", big, p, &pm)); /* longer than the scratch buffer */
}

static void test_allow(void **state)
{
	(void)state;
	char allow[128];
	http_route_allow("/api/v1/users/9", allow, sizeof allow);
	assert_string_equal(allow, "GET, HEAD, PATCH, DELETE");
	http_route_allow("/api/v1/users", allow, sizeof allow);
	assert_string_equal(allow, "GET, HEAD, POST");
	http_route_allow("/api/v1/auth/login", allow, sizeof allow);
	assert_string_equal(allow, "POST");
	http_route_allow("/nowhere", allow, sizeof allow);
	assert_string_equal(allow, "");
}

/* The table itself: unique (method, pattern), names unique, roles sensible. */
static void test_table(void **state)
{
	(void)state;
	for (const struct route *a = http_routes; a->method; a++) {
		assert_true(a->pattern[0] == '/');
		assert_non_null(a->fn);
		assert_non_null(a->name);
		if (!(a->flags & R_PUBLIC))
			assert_true(a->min_role >= ROLE_VIEWER);
		for (const struct route *b = a + 1; b->method; b++) {
			if (strcmp(a->method, b->method) == 0 &&
			    strcmp(a->pattern, b->pattern) == 0)
				fail_msg("duplicate route %s %s", a->method, a->pattern);
			if (strcmp(a->name, b->name) == 0)
				fail_msg("duplicate route name %s", a->name);
		}
	}
}

static void unescaped(const char *in, const char *want)
{
	char s[128];
	snprintf(s, sizeof s, "%s", in);
	size_t n = http_unescape(s);
	assert_string_equal(s, want);
	assert_int_equal(n, strlen(want));
}

static void test_unescape(void **state)
{
	(void)state;
	unescaped("/api/v1/tags", "/api/v1/tags");
	unescaped("%E7%8E%8B%2f%2F", "\xe7\x8e\x8b//");
	unescaped("a%20b+c", "a b+c");                 /* "+" is the query splitter's business */
	unescaped("/tags/1%00junk", "/tags/1%00junk"); /* %00 stays encoded */
	unescaped("%zz%4%", "%zz%4%");                 /* not escapes: as written */
	unescaped("%2525", "%25");                     /* decoded once only */
	unescaped("%", "%");
	unescaped("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literal_and_params),
	    cmocka_unit_test(test_no_match),
	    cmocka_unit_test(test_allow),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_unescape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
