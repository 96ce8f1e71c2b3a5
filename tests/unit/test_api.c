/* test_api.c - handlers and API helpers called directly with struct req and
 * struct resp, without a socket: body checking, pagination, the write wrapper's
 * idempotency and audit rules, and user validation. */
#include "harness.h"

#include "../../src/store/internal.h"
#include "scrm/api.h"
#include "scrm/config.h"
#include "scrm/http_auth.h"
#include "scrm/store_auth.h"

#include "scrm/util.h"

#include <jansson.h>

static struct scrm_config cfg;
static struct principal admin;

static int setup(void **state)
{
	config_defaults(&cfg);
	api_init(&cfg);
	http_principal_user(&admin, 1, "admin", "admin", 0, NULL);
	*state = test_db_open(true);
	return 0;
}

static int teardown(void **state)
{
	test_db_close(*state);
	config_clear(&cfg);
	return 0;
}

static const char *err_field(const struct resp *rs)
{
	return json_string_value(json_object_get(json_object_get(rs->body, "error"), "field"));
}

static const char *err_code(const struct resp *rs)
{
	return json_string_value(json_object_get(json_object_get(rs->body, "error"), "code"));
}

static void check(const char *json, int want_status, const char *want_field)
{
	static const struct jfield spec[] = {
	    {"name", J_STRING, JF_REQUIRED, 8},
	    {"count", J_INT, 0, 0},
	    {"on", J_BOOL, JF_NULLABLE, 0},
	    {NULL, 0, 0, 0},
	};
	json_t *body = json_loads(json, 0, NULL);
	assert_non_null(body);
	struct resp rs = {0};
	int st = api_check_object(body, spec, "", &rs);
	assert_int_equal(st, want_status);
	if (want_field)
		assert_string_equal(err_field(&rs), want_field);
	if (want_status)
		assert_string_equal(err_code(&rs), "validation_failed");
	http_resp_clear(&rs);
	json_decref(body);
}

static void test_check_object(void **state)
{
	(void)state;
	check("{\"name\":\"x\"}", 0, NULL);
	check("{\"name\":\"x\",\"count\":3,\"on\":null}", 0, NULL);
	check("{}", 422, "name");
	check("{\"name\":1}", 422, "name");
	check("{\"name\":\"x\",\"cnt\":1}", 422, "cnt");
	check("{\"name\":\"x\",\"count\":1.5}", 422, "count");
	check("{\"name\":\"x\",\"count\":null}", 422, "count");
	check("{\"name\":\"123456789\"}", 422, "name"); /* over 8 bytes */
	check("[1]", 422, NULL);
	/* the parser refuses \u0000; a NUL in a string built otherwise is caught too */
	json_t *nul = json_pack("{s:o}", "name", json_stringn("a\0b", 3));
	struct resp r0 = {0};
	static const struct jfield str[] = {{"name", J_STRING, 0, 0}, {NULL, 0, 0, 0}};
	assert_int_equal(api_check_object(nul, str, "", &r0), 422);
	assert_string_equal(err_field(&r0), "name");
	http_resp_clear(&r0);
	json_decref(nul);
	/* the message of an unknown field lists what is allowed */
	json_t *b = json_loads("{\"name\":\"x\",\"zzz\":1}", 0, NULL);
	struct resp rs = {0};
	static const struct jfield one[] = {{"name", J_STRING, 0, 0}, {NULL, 0, 0, 0}};
	api_check_object(b, one, "outer", &rs);
	assert_string_equal(err_field(&rs), "outer.zzz");
	const char *msg =
	    json_string_value(json_object_get(json_object_get(rs.body, "error"), "message"));
	assert_non_null(strstr(msg, "allowed: name"));
	http_resp_clear(&rs);
	json_decref(b);
}

static void test_pagination(void **state)
{
	(void)state;
	struct qparam q[3];
	struct req rq = {.query = q};
	struct resp rs = {0};
	struct page pg;
	assert_int_equal(api_page_parse(&rq, &rs, &pg), 0);
	assert_int_equal(pg.limit, 50);
	assert_int_equal(pg.after, 0);
	const char *bad_limits[] = {"0", "501", "-1", "ten", "", "1.5"};
	for (size_t i = 0; i < 6; i++) {
		q[0] = (struct qparam){"limit", bad_limits[i]};
		rq.nquery = 1;
		assert_int_equal(api_page_parse(&rq, &rs, &pg), 422);
		assert_string_equal(err_field(&rs), "limit");
		http_resp_clear(&rs);
	}
	/* a cursor issued by a page result goes back in and decodes to its key */
	json_t *page = api_page_result(json_array(), 12345, 7);
	const char *cursor = json_string_value(json_object_get(page, "next_cursor"));
	assert_non_null(cursor);
	assert_int_equal(json_integer_value(json_object_get(page, "total")), 7);
	q[0] = (struct qparam){"cursor", cursor};
	q[1] = (struct qparam){"limit", "500"};
	q[2] = (struct qparam){"count", "true"};
	rq.nquery = 3;
	assert_int_equal(api_page_parse(&rq, &rs, &pg), 0);
	assert_int_equal(pg.after, 12345);
	assert_int_equal(pg.limit, 500);
	assert_true(pg.count);
	json_decref(page);
	const char *bad_cursors[] = {"12345", "djE6", "!!!", "djI6NQ", "djE6LTE"};
	for (size_t i = 0; i < 5; i++) {
		q[0] = (struct qparam){"cursor", bad_cursors[i]};
		rq.nquery = 1;
		assert_int_equal(api_page_parse(&rq, &rs, &pg), 422);
		assert_string_equal(err_field(&rs), "cursor");
		http_resp_clear(&rs);
	}
	page = api_page_result(json_array(), 0, -1);
	assert_true(json_is_null(json_object_get(page, "next_cursor")));
	assert_null(json_object_get(page, "total"));
	json_decref(page);
	/* trimming the extra row of a limit + 1 fetch */
	json_t *data = json_array();
	for (int i = 1; i <= 4; i++)
		json_array_append_new(data, json_pack("{s:i}", "id", i * 10));
	assert_int_equal(api_page_trim(data, 3, "id"), 30);
	assert_int_equal(json_array_size(data), 3);
	assert_int_equal(api_page_trim(data, 3, "id"), 0);
	json_decref(data);
}

static int create_marker(struct store_db *db, struct api_write *w)
{
	int reject = *(int *)w->arg;
	struct audit_entry e = {.at = 1, .actor = "test", .action = "marker"};
	store_audit_insert(db, &e);
	if (reject)
		return api_error(w->rs, 422, "limit_reached", NULL, "no more");
	w->target_id = 99;
	w->rs->body = json_pack("{s:i}", "made", 1);
	return 201;
}

static int64_t count(const char *sql)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_reader()->h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_write_idempotency(void **state)
{
	(void)state;
	int reject = 0;
	struct req rq = {.method = "POST",
	                 .path = "/api/v1/x",
	                 .who = &admin,
	                 .idem_key = "key-1",
	                 .raw_body = "{\"a\":1}",
	                 .raw_len = 7};
	struct resp rs = {0};
	assert_int_equal(api_write(&rq, &rs, "x.create", "x", create_marker, &reject), 201);
	char *first = strdup(rs.raw);
	assert_false(rs.replayed);
	http_resp_clear(&rs);
	assert_int_equal(
	    count("SELECT count(*) FROM audit_log WHERE action = 'x.create' AND target_id = 99"),
	    1);

	/* the same request again: the stored answer, byte for byte, and no change */
	assert_int_equal(api_write(&rq, &rs, "x.create", "x", create_marker, &reject), 201);
	assert_true(rs.replayed);
	assert_string_equal(rs.raw, first);
	http_resp_clear(&rs);
	assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'marker'"), 1);

	/* the same key with another body */
	rq.raw_body = "{\"a\":2}";
	assert_int_equal(api_write(&rq, &rs, "x.create", "x", create_marker, &reject), 409);
	assert_string_equal(err_code(&rs), "idempotency_mismatch");
	http_resp_clear(&rs);

	/* a business rejection is rolled back, kept as the key's answer, not audited */
	reject = 1;
	rq.idem_key = "key-2";
	assert_int_equal(api_write(&rq, &rs, "x.create", "x", create_marker, &reject), 422);
	http_resp_clear(&rs);
	reject = 0;
	assert_int_equal(api_write(&rq, &rs, "x.create", "x", create_marker, &reject), 422);
	assert_true(rs.replayed);
	http_resp_clear(&rs);
	assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'marker'"), 1);
	assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'x.create'"), 1);

	/* keys belong to one principal */
	struct principal other;
	http_principal_user(&other, 2, "op", "operator", 0, NULL);
	rq.who = &other;
	rq.idem_key = "key-1";
	rq.raw_body = "{\"a\":1}";
	assert_int_equal(api_write(&rq, &rs, "x.create", "x", create_marker, &reject), 201);
	assert_false(rs.replayed);
	http_resp_clear(&rs);
	free(first);
}

static void test_users_create_validation(void **state)
{
	(void)state;
	const struct {
		const char *body, *field;
		int status;
	} cases[] = {
	    {"{\"username\":\"a b\",\"role\":\"viewer\",\"password\":\"long enough pw\"}",
	     "username", 422},
	    {"{\"username\":\"ab\",\"role\":\"root\",\"password\":\"long enough pw\"}", "role",
	     422},
	    {"{\"username\":\"ab\",\"role\":\"viewer\",\"password\":\"short\"}", "password", 422},
	    {"{\"username\":\"ab\",\"role\":\"viewer\"}", "password", 422},
	    {"{\"username\":\"ab\",\"role\":\"viewer\",\"password\":\"long enough pw\",\"x\":1}",
	     "x", 422},
	    {"{\"username\":\"ab\",\"role\":\"viewer\",\"password\":\"long enough "
	     "pw\",\"display_name\":\"a\\tb\"}",
	     "display_name", 422},
	};
	for (size_t i = 0; i < SCRM_ARRAY_LEN(cases); i++) {
		json_t *body = json_loads(cases[i].body, 0, NULL);
		struct req rq = {
		    .method = "POST", .path = "/api/v1/users", .who = &admin, .body = body};
		struct resp rs = {0};
		assert_int_equal(api_users_create(&rq, &rs), cases[i].status);
		assert_string_equal(err_field(&rs), cases[i].field);
		http_resp_clear(&rs);
		json_decref(body);
	}
	assert_int_equal(count("SELECT count(*) FROM users"), 0); /* nothing half-made */
}

/* Found by fuzz_import: a CSV header with bytes that are not UTF-8 was quoted
 * in the 422's message, which jansson refused, so the answer had no body. Any
 * error message cut at its 512-byte limit inside a character did the same. */
static void test_error_not_utf8(void **state)
{
	(void)state;
	struct resp rs = {0};
	assert_int_equal(api_error(&rs, 422, "validation_failed",
	                           "a\xff"
	                           "b",
	                           "bad '%s'", "\xff\xfe\xc0\xaf"),
	                 422);
	assert_non_null(rs.body);
	assert_string_equal(err_field(&rs), "a?b");
	const char *msg =
	    json_string_value(json_object_get(json_object_get(rs.body, "error"), "message"));
	assert_string_equal(msg, "bad '\?\?\?\?'");
	http_resp_clear(&rs);
	/* 600 bytes of Chinese: cut at 511 bytes, inside the 171st character */
	char long_text[601];
	for (int i = 0; i < 200; i++)
		memcpy(long_text + 3 * i, "\xe4\xb8\xad", 3);
	long_text[600] = '\0';
	api_error(&rs, 422, "validation_failed", "name", "%s", long_text);
	assert_non_null(rs.body);
	msg = json_string_value(json_object_get(json_object_get(rs.body, "error"), "message"));
	assert_non_null(msg);
	assert_int_equal(strlen(msg), 511);
	http_resp_clear(&rs);
}

static void test_import_header_not_utf8(void **state)
{
	(void)state;
	/* the artifact's shape: a header whose third column is not UTF-8 */
	static const char csv[] = "platform,external_id,buyer\xff\xff\xff_p0,paid\n"
	                          "tmall,T1,13800138000,paid\n";
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(fwrite(csv, 1, sizeof csv - 1, f), sizeof csv - 1);
	fflush(f);
	struct req rq = {.method = "POST",
	                 .path = "/api/v1/orders/import",
	                 .who = &admin,
	                 .body_fd = fileno(f),
	                 .body_len = sizeof csv - 1,
	                 .content_type = "text/csv"};
	struct resp rs = {0};
	assert_int_equal(api_orders_import(&rq, &rs), 422);
	assert_non_null(rs.body);
	assert_string_equal(err_field(&rs), "header");
	const char *msg =
	    json_string_value(json_object_get(json_object_get(rs.body, "error"), "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "column 3 ('buyer???_p0') is unknown"));
	http_resp_clear(&rs);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_object),
	    cmocka_unit_test(test_pagination),
	    cmocka_unit_test_setup_teardown(test_write_idempotency, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_users_create_validation, setup, teardown),
	    cmocka_unit_test(test_error_not_utf8),
	    cmocka_unit_test_setup_teardown(test_import_header_not_utf8, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
