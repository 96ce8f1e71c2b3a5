/* test_config.c - the INI reader: defaults, every key of config.example.ini,
 * errors that name the line, bounds, and listen addresses. */
#include "harness.h"

#include "scrm/config.h"

static char *write_tmp(const char *text)
{
	char tmpl[] = "/tmp/scrmd-cfg-XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return strdup(tmpl);
}

static void expect_error(const char *text, const char *needle)
{
	struct scrm_config c;
	config_defaults(&c);
	char *path = write_tmp(text), *err = NULL;
	assert_int_equal(config_load_file(&c, path, &err), -1);
	assert_non_null(err);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	assert_non_null(strstr(err, path)); /* the message names the file */
	free(err);
	unlink(path);
	free(path);
	config_clear(&c);
}

static void test_defaults_valid(void **state)
{
	(void)state;
	struct scrm_config c;
	config_defaults(&c);
	char *err = NULL;
	assert_int_equal(config_validate(&c, &err), 0);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_string_equal(c.db_path, "data/scrm.db");
	assert_string_equal(c.timezone, "Asia/Shanghai");
	assert_string_equal(c.synchronous, "full");
	assert_true(c.pbkdf2_iterations >= 600000);
	config_clear(&c);
}

/* The shipped example must load and restate the defaults exactly. */
static void test_example_file(void **state)
{
	(void)state;
	struct scrm_config c, d;
	config_defaults(&c);
	config_defaults(&d);
	char *err = NULL;
	if (config_load_file(&c, "config.example.ini", &err) != 0)
		fail_msg("config.example.ini: %s", err);
	assert_string_equal(c.listen, d.listen);
	assert_string_equal(c.db_path, d.db_path);
	assert_string_equal(c.synchronous, d.synchronous);
	assert_int_equal(c.workers, d.workers);
	assert_int_equal(c.max_body_kb, d.max_body_kb);
	assert_int_equal(c.session_hours, d.session_hours);
	assert_int_equal(c.login_max_failures, d.login_max_failures);
	assert_int_equal(c.idempotency_hours, d.idempotency_hours);
	assert_int_equal(c.batch_max, d.batch_max);
	assert_false(c.trust_proxy);
	assert_null(c.tls_cert);
	assert_null(c.backup_dir);
	assert_int_equal(config_validate(&c, &err), 0);
	config_clear(&c);
	config_clear(&d);
}

/* Every key the daemon knows is documented in the example, in its section. */
static void test_example_documents_every_key(void **state)
{
	(void)state;
	char *text = NULL;
	FILE *f = fopen("config.example.ini", "r");
	assert_non_null(f);
	size_t cap = 0;
	ssize_t n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	assert_true(n > 0);
	const char *section;
	for (size_t i = 0; config_key_at(i, &section); i++) {
		char head[64], line[96];
		snprintf(head, sizeof head, "\n[%s]\n", section);
		snprintf(line, sizeof line, "\n%s =", config_key_at(i, &section));
		const char *sec = strstr(text, head);
		if (!sec)
			fail_msg("config.example.ini has no [%s] section", section);
		const char *next = strstr(sec + 1, "\n[");
		const char *at = strstr(sec, line);
		if (!at || (next && at > next))
			fail_msg("config.example.ini does not document %s.%s", section, line + 1);
	}
	free(text);
}

static void test_values(void **state)
{
	(void)state;
	struct scrm_config c;
	config_defaults(&c);
	char *path = write_tmp("# comment\n; another\n[http]\nlisten = \"0.0.0.0:9000\"\n"
	                       "trust_proxy = yes\nworkers=4\n\n[store]\nsynchronous = normal\n"),
	     *err = NULL;
	assert_int_equal(config_load_file(&c, path, &err), 0);
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_true(c.trust_proxy);
	assert_int_equal(c.workers, 4);
	assert_string_equal(c.synchronous, "normal");
	unlink(path);
	free(path);
	config_clear(&c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[http]\nlisten = x:1\nthreadz = 3\n", ":3: unknown key 'threadz' in [http]");
	expect_error("[nope]\nx = 1\n", ":1: unknown section [nope]");
	expect_error("[http]\n[empty]\n", ":2: unknown section [empty]");
	expect_error("[http]\nworkers = 0\n", "http.workers must be a whole number from 1");
	expect_error("[http]\nworkers = 12abc\n", ":2:");
	expect_error("[auth]\npbkdf2_iterations = 1000\n", "from 600000");
	expect_error("[store]\nsynchronous = off\n", "full|normal");
	expect_error("[http]\ntrust_proxy = maybe\n", "true or false");
	expect_error("listen = x\n", "outside of any [section]");
	expect_error("[http\n", "malformed section");
	expect_error("[http]\njust words\n", "key = value");
	struct scrm_config c;
	config_defaults(&c);
	char *err = NULL;
	assert_int_equal(config_load_file(&c, "/nonexistent/scrmd.ini", &err), -1);
	assert_non_null(strstr(err, "/nonexistent/scrmd.ini"));
	free(err);
	config_clear(&c);
}

static void test_validate(void **state)
{
	(void)state;
	struct scrm_config c;
	char *err = NULL;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "http", "tls_cert", "/x.pem", &err), 0);
	assert_int_equal(config_validate(&c, &err), -1);
	assert_non_null(strstr(err, "together"));
	free(err);
	config_clear(&c);
	config_defaults(&c);
	assert_int_equal(config_set(&c, "general", "timezone", "Mars/Olympus", &err), 0);
	assert_int_equal(config_validate(&c, &err), -1);
	assert_non_null(strstr(err, "Mars/Olympus"));
	free(err);
	config_set(&c, "general", "timezone", "../../etc/passwd", &err);
	assert_int_equal(config_validate(&c, &err), -1);
	free(err);
	config_clear(&c);
	config_defaults(&c);
	config_set(&c, "http", "listen", "localhost", &err);
	assert_int_equal(config_validate(&c, &err), -1);
	free(err);
	config_clear(&c);
}

static void test_listen(void **state)
{
	(void)state;
	char host[64];
	unsigned port;
	assert_int_equal(config_parse_listen("127.0.0.1:0", host, sizeof host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 0);
	assert_int_equal(config_parse_listen("[::1]:8080", host, sizeof host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	assert_int_equal(config_parse_listen(":8080", host, sizeof host, &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(config_parse_listen("host:65536", host, sizeof host, &port), -1);
	assert_int_equal(config_parse_listen("::1:80", host, sizeof host, &port), -1);
	assert_int_equal(config_parse_listen("[::1]80", host, sizeof host, &port), -1);
	assert_int_equal(config_parse_listen("h:-1", host, sizeof host, &port), -1);
	assert_int_equal(config_parse_listen("", host, sizeof host, &port), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_valid),
	    cmocka_unit_test(test_example_file),
	    cmocka_unit_test(test_example_documents_every_key),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_listen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
