/* test_openapi.c - the embedded OpenAPI document and the route table agree:
 * every route is described under its exact pattern, operationId and role, the
 * document describes no route that does not exist, and errors are documented. */
#include "harness.h"

#include "scrm/api.h"
#include "scrm/http.h"

#include <ctype.h>
#include <jansson.h>

/* The operation keys of an OpenAPI path item; anything else (parameters,
 * summary ...) is not an operation. */
static const char *const op_keys[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};
#define NOP_KEYS (sizeof op_keys / sizeof op_keys[0])

static bool is_op_key(const char *key)
{
	for (size_t i = 0; i < NOP_KEYS; i++)
		if (strcmp(key, op_keys[i]) == 0)
			return true;
	return false;
}

static void lower(const char *in, char *out, size_t cap)
{
	size_t i = 0;
	for (; in[i] && i + 1 < cap; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static const char *role_name(enum role r)
{
	return r == ROLE_NONE ? "none" : core_role_name(r);
}

static int setup(void **state)
{
	json_error_t err;
	const char *text = api_openapi_text();
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	if (!doc) {
		print_error("openapi.json does not parse: line %d, column %d: %s\n", err.line,
		            err.column, err.text);
		return -1;
	}
	*state = doc;
	return 0;
}

static int teardown(void **state)
{
	json_decref(*state);
	return 0;
}

static json_t *paths_of(void **state)
{
	json_t *paths = json_object_get(*state, "paths");
	assert_true(json_is_object(paths));
	return paths;
}

static void test_version(void **state)
{
	const char *v = json_string_value(json_object_get(*state, "openapi"));
	assert_non_null(v);
	assert_true(strncmp(v, "3.1", 3) == 0);
	assert_true(json_is_object(json_object_get(*state, "info")));
}

static void test_every_route_described(void **state)
{
	json_t *paths = paths_of(state);
	int bad = 0;
	char m[16];
	for (const struct route *r = http_routes; r->method; r++) {
		lower(r->method, m, sizeof m);
		json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
		if (!json_is_object(op)) {
			print_error("route %s %s (%s) is missing from openapi.json\n", r->method,
			            r->pattern, r->name);
			bad++;
			continue;
		}
		const char *id = json_string_value(json_object_get(op, "operationId"));
		if (!id || strcmp(id, r->name) != 0) {
			print_error("route %s %s: operationId is %s, want %s\n", r->method,
			            r->pattern, id ? id : "(none)", r->name);
			bad++;
		}
		const char *role = json_string_value(json_object_get(op, "x-scrm-role"));
		if (!role || strcmp(role, role_name(r->min_role)) != 0) {
			print_error("route %s %s: x-scrm-role is %s, want %s\n", r->method,
			            r->pattern, role ? role : "(none)", role_name(r->min_role));
			bad++;
		}
	}
	if (bad)
		fail_msg("%d problem(s) between http_routes[] and openapi.json", bad);
}

static const struct route *find_route(const char *pattern, const char *op_key)
{
	char m[16];
	for (const struct route *r = http_routes; r->method; r++) {
		lower(r->method, m, sizeof m);
		if (strcmp(r->pattern, pattern) == 0 && strcmp(m, op_key) == 0)
			return r;
	}
	return NULL;
}

static void test_no_phantom_operations(void **state)
{
	json_t *paths = paths_of(state);
	const char *path, *key;
	json_t *item, *op;
	int bad = 0;
	json_object_foreach(paths, path, item)
	{
		/* a $ref'd path item would hide its operations from this check */
		assert_null(json_object_get(item, "$ref"));
		json_object_foreach(item, key, op)
		{
			if (!is_op_key(key))
				continue;
			if (!find_route(path, key)) {
				print_error("openapi.json describes %s %s, which no route serves\n",
				            key, path);
				bad++;
			}
		}
	}
	if (bad)
		fail_msg("%d operation(s) in openapi.json without a route", bad);
}

static void test_operation_ids_unique(void **state)
{
	json_t *paths = paths_of(state);
	json_t *seen = json_object();
	const char *path, *key;
	json_t *item, *op;
	int bad = 0;
	json_object_foreach(paths, path, item)
	{
		json_object_foreach(item, key, op)
		{
			const char *id = json_string_value(json_object_get(op, "operationId"));
			if (!is_op_key(key) || !id)
				continue;
			if (json_object_get(seen, id)) {
				print_error("operationId %s is used twice (again at %s %s)\n", id,
				            key, path);
				bad++;
			}
			json_object_set_new(seen, id, json_true());
		}
	}
	json_decref(seen);
	if (bad)
		fail_msg("%d duplicate operationId(s)", bad);
}

static bool has_client_error(json_t *responses)
{
	const char *code;
	json_t *r;
	json_object_foreach(responses, code, r)
	{
		if (code[0] == '4')
			return true;
	}
	return false;
}

static void test_errors_documented(void **state)
{
	json_t *paths = paths_of(state);
	const char *path, *key;
	json_t *item, *op;
	int bad = 0;
	json_object_foreach(paths, path, item)
	{
		json_object_foreach(item, key, op)
		{
			if (!is_op_key(key))
				continue;
			json_t *responses = json_object_get(op, "responses");
			if (!json_is_object(responses) || json_object_size(responses) == 0) {
				print_error("%s %s documents no responses\n", key, path);
				bad++;
				continue;
			}
			/* the health check has no client errors to report */
			if (strcmp(path, "/healthz") == 0 && strcmp(key, "get") == 0)
				continue;
			if (!has_client_error(responses)) {
				print_error("%s %s documents no 4xx response\n", key, path);
				bad++;
			}
		}
	}
	if (bad)
		fail_msg("%d operation(s) without a documented 4xx answer", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_every_route_described),
	    cmocka_unit_test(test_no_phantom_operations),
	    cmocka_unit_test(test_operation_ids_unique),
	    cmocka_unit_test(test_errors_documented),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
