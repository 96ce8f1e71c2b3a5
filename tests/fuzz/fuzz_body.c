/* fuzz_body.c - libFuzzer harness of the JSON body of every resource: the
 * handlers of the route table (src/http/routes.c) that take a body, called as
 * the server calls them, with an admin principal, against a real migrated
 * store with a few customers, tags, coupons and so on (fuzz_store.h).
 *
 * Input: the first byte picks the operation (and the {id} of its path: 1, 2, 3
 * or 999), the rest is the body, read as the server reads it (any JSON value,
 * duplicate keys refused, no NUL in strings). Checks, beyond ASan/UBSan/LSan:
 *  - the answer is 2xx or 4xx, never 5xx (a body cannot break the server);
 *  - an error answer carries an error object with a code and a message, and a
 *    validation_failed for an object body names the field at fault ("" only
 *    for a key "") (other
 *    422s, such as not_available for a reward not yet open, are about the
 *    resource's state, and so is evaluating a manual tag, whose body is
 *    optional);
 *  - an error answer changed nothing in the database (the content hash of
 *    fuzz_store.h is the same after it).
 * Valid bodies do land: the database grows while the fuzzer runs.
 *
 * Left out: login and logout, /me (sessions and password checks), sending a
 * test message, the clock, backups, jobs and SOP runs (side effects outside
 * the body's validation). A user body whose password would pass is skipped:
 * it would be hashed with 600000 PBKDF2 rounds, seconds under ASan.
 *
 *   make fuzz                      # FUZZ_SECONDS on tests/fuzz/corpus/body
 *   build/fuzz/fuzz_body -dict=tests/fuzz/body.dict CORPUS_DIR tests/fuzz/corpus/body
 */
#include "fuzz_store.h"

#include "scrm/core_auth.h"
#include "scrm/http.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const skipped[] = {
    "auth.login",   "auth.logout",      "me.update",    "message_channels.test", "admin.clock",
    "admin.backup", "admin.jobs_daily", "sops.run_now", "sops.dry_run",          "deliveries.retry",
    NULL,
};

static const struct route *ops[128];
static size_t nops;
static const char *const ids[] = {"1", "2", "3", "999"};

static bool is_skipped(const char *name)
{
	for (size_t i = 0; skipped[i]; i++)
		if (strcmp(skipped[i], name) == 0)
			return true;
	return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_store_open();
	for (const struct route *r = http_routes; r->method; r++)
		if ((r->flags & (R_BODY | R_OPT_BODY)) && !is_skipped(r->name) &&
		    nops < sizeof ops / sizeof ops[0])
			ops[nops++] = r;
	if (nops == 0)
		FUZZ_STORE_DIE("no routes with a body");
	if (getenv("FUZZ_BODY_LIST"))
		for (size_t i = 0; i < nops; i++)
			fprintf(stderr, "%zu %s %s %s\n", i, ops[i]->name, ops[i]->method,
			        ops[i]->pattern);
	return 0;
}

static const char *err_str(const json_t *body, const char *key)
{
	return json_string_value(json_object_get(json_object_get(body, "error"), key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 64 * 1024)
		return 0;
	const struct route *r = ops[data[0] % nops];
	const char *id = ids[(data[0] / nops) % (sizeof ids / sizeof ids[0])];
	json_error_t jerr;
	/* as src/http/server.c reads bodies, where a NUL in a string is refused
	 * before the handler */
	json_t *body = json_loadb((const char *)data + 1, size - 1,
	                          JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!body)
		return 0;
	if (strncmp(r->name, "users.", 6) == 0) {
		const char *pw = json_string_value(json_object_get(body, "password"));
		if (pw && !core_password_problem(pw)) {
			json_decref(body);
			return 0;
		}
	}
	char path[256];
	struct req rq = {
	    .method = r->method,
	    .path = path,
	    .body = body,
	    .raw_body = (const char *)data + 1,
	    .raw_len = size - 1,
	    .body_fd = -1,
	    .content_type = "application/json",
	    .who = &fuzz_admin,
	    .ip = "127.0.0.1",
	    .route = r,
	};
	/* the path, and its placeholders as the router leaves them */
	size_t np = 0, w = 0;
	for (const char *p = r->pattern; *p && w + 16 < sizeof path;) {
		if (*p == '{') {
			const char *v = strcmp(p, "{code}") == 0 || strncmp(p, "{code}/", 7) == 0
			                    ? "COUPON-A"
			                    : id;
			if (np < REQ_MAX_PARAMS)
				rq.params[np++] = v;
			w += (size_t)snprintf(path + w, sizeof path - w, "%s", v);
			p = strchr(p, '}') + 1;
		} else {
			path[w++] = *p++;
		}
	}
	path[w] = '\0';

	uint64_t before = fuzz_store_hash();
	struct resp rs = {0};
	int status = r->fn(&rq, &rs);
	if (status >= 500 || status < 200 || (status >= 300 && status < 400))
		FUZZ_STORE_DIE("%s %s answered %d: %s: %s", r->method, path, status,
		               err_str(rs.body, "code"), err_str(rs.body, "message"));
	if (status >= 400) {
		const char *code = err_str(rs.body, "code"), *msg = err_str(rs.body, "message");
		const char *field = err_str(rs.body, "field");
		if (!code || !*code || !msg || !*msg)
			FUZZ_STORE_DIE("%s %s answered %d without an error code and message",
			               r->method, path, status);
		if (status == 422 && strcmp(code, "validation_failed") == 0 &&
		    (r->flags & R_BODY) && json_is_object(body) &&
		    (!field || (!*field && !json_object_get(body, ""))))
			FUZZ_STORE_DIE("%s %s: a validation_failed that names no field: %s",
			               r->method, path, msg);
		if (fuzz_store_hash() != before)
			FUZZ_STORE_DIE("%s %s answered %d (%s) but changed the database", r->method,
			               path, status, msg);
	}
	http_resp_clear(&rs);
	json_decref(body);
	return 0;
}
