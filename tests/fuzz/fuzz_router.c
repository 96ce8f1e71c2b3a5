/* fuzz_router.c - libFuzzer harness of the URL router (src/http/router.c), the
 * percent-decoding of paths and query strings (http_unescape) and the query
 * parameter readers of src/api/common.c (pagination, cursors, integers,
 * times, booleans).
 *
 * Input: byte 0 picks the method, the rest is the request target
 * "PATH?QUERY" as it arrives. As libmicrohttpd does, the path is decoded, the
 * query split at "&" into key=value pairs whose "+" become spaces before both
 * are decoded, and the first REQ_MAX_QUERY pairs kept. Checks:
 *  - decoding agrees with a reference, never grows the text nor puts a NUL
 *    in it, and leaves text without "%" as it is;
 *  - a matched route's parameters are non-empty segments of the decoded path
 *    at the place of the pattern's placeholders (the pattern with them filled
 *    in gives the path back), and its method is among the path's allowed ones;
 *    a path matched for another method has allowed methods, an unknown path
 *    none;
 *  - the query readers either accept (limit 1-500, cursor keys positive, and
 *    a cursor that the API issues for them decodes to the same keys; from <=
 *    to) or answer 422 naming the parameter.
 *
 *   build/fuzz/fuzz_router -dict=tests/fuzz/router.dict CORPUS_DIR tests/fuzz/corpus/router
 */
#include "fuzz_die.h"
#include "scrm/api.h"
#include "scrm/http.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIE FUZZ_DIE

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (time_set_zone("Asia/Shanghai") < 0)
		DIE("no Asia/Shanghai in /usr/share/zoneinfo (install tzdata)");
	return 0;
}

static int hex(char c)
{
	const char *d = "0123456789abcdef0123456789ABCDEF";
	const char *p = c ? strchr(d, c) : NULL;
	return p ? (int)((p - d) % 16) : -1;
}

/* http_unescape, checked against a reference, in place. */
static void decode(char *s)
{
	size_t n = strlen(s);
	char *want = xmalloc(n + 1), *w = want;
	for (size_t i = 0; i < n;) {
		if (s[i] == '%' && i + 2 < n + 1 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0 &&
		    (hex(s[i + 1]) | hex(s[i + 2])) != 0) {
			*w++ = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
			i += 3;
		} else {
			*w++ = s[i++];
		}
	}
	*w = '\0';
	char *orig = strchr(s, '%') ? NULL : xstrdup(s);
	size_t got = http_unescape(s);
	if (got != strlen(s) || got > n)
		DIE("http_unescape returned %zu for %zu bytes (%zu decoded)", got, n, strlen(s));
	if (strcmp(s, want) != 0)
		DIE("http_unescape gave \"%s\", the reference \"%s\"", s, want);
	if (orig && strcmp(orig, s) != 0)
		DIE("http_unescape changed \"%s\", which has no %%", orig);
	free(orig);
	free(want);
}

static void check_route(const char *method, const char *path)
{
	char scratch[2048];
	const char *params[REQ_MAX_PARAMS] = {0};
	bool other = false;
	const struct route *r =
	    http_route_match(method, path, scratch, sizeof scratch, params, &other);
	char allow[256];
	http_route_allow(path, allow, sizeof allow);
	if (!r) {
		if (other && !allow[0])
			DIE("%s %s: matched for another method, but none allowed", method, path);
		if (!other && allow[0] && strlen(path) + 1 <= sizeof scratch)
			DIE("%s %s: no match, but allowed: %s", method, path, allow);
		return;
	}
	if (!strstr(allow, r->method))
		DIE("%s %s: matched %s %s, allowed only %s", method, path, r->method, r->pattern,
		    allow);
	if (strcmp(r->method, method) != 0 &&
	    !(strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
		DIE("%s %s: matched a %s route", method, path, r->method);
	/* the pattern with the parameters filled in is the path */
	struct buf b = {0};
	size_t np = 0;
	for (const char *p = r->pattern; *p;) {
		if (*p == '{') {
			if (np >= REQ_MAX_PARAMS || !params[np])
				DIE("%s %s: placeholder %zu of %s has no value", method, path, np,
				    r->pattern);
			const char *v = params[np++];
			if (v < scratch || v >= scratch + sizeof scratch || !*v || strchr(v, '/'))
				DIE("%s %s: parameter %zu \"%s\" is not a segment of the path",
				    method, path, np, v);
			/* at the same place in the path as in the scratch copy */
			size_t at = (size_t)(v - scratch), len = strlen(v);
			if (at + len > strlen(path) || memcmp(path + at, v, len) != 0 ||
			    (path[at + len] && path[at + len] != '/'))
				DIE("%s %s: parameter %zu \"%s\" is not the path's text at %zu",
				    method, path, np, v, at);
			buf_puts(&b, v);
			p = strchr(p, '}') + 1;
		} else {
			buf_putc(&b, *p++);
		}
	}
	for (size_t i = np; i < REQ_MAX_PARAMS; i++)
		if (params[i])
			DIE("%s %s: parameter %zu set, the pattern %s has %zu", method, path, i,
			    r->pattern, np);
	if (strcmp(b.data ? b.data : "", path) != 0)
		DIE("%s %s: %s filled in gives %s", method, path, r->pattern, b.data);
	buf_clear(&b);
}

static const char *err_field(const struct resp *rs)
{
	return json_string_value(json_object_get(json_object_get(rs->body, "error"), "field"));
}

/* 0, or a 422 naming one of the keys */
static void refused_ok(int st, struct resp *rs, const char *k1, const char *k2, const char *k3)
{
	if (st == 0) {
		if (rs->body)
			DIE("an accepted query left an answer behind");
		return;
	}
	const char *f = err_field(rs);
	if (st != 422 || !f ||
	    !(strcmp(f, k1) == 0 || (k2 && strcmp(f, k2) == 0) || (k3 && strcmp(f, k3) == 0)))
		DIE("a query refused with %d naming %s", st, f ? f : "(null)");
	http_resp_clear(rs);
}

static void check_query(char *q)
{
	struct qparam qp[REQ_MAX_QUERY];
	size_t nq = 0;
	for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && nq < REQ_MAX_QUERY;
	     kv = strtok_r(NULL, "&", &save)) {
		for (char *p = kv; *p; p++)
			if (*p == '+')
				*p = ' ';
		char *eq = strchr(kv, '=');
		char *v = "";
		if (eq) {
			*eq = '\0';
			v = eq + 1;
		}
		decode(kv);
		if (eq)
			decode(v);
		qp[nq++] = (struct qparam){kv, v};
	}
	struct req rq = {.method = "GET", .path = "/", .query = qp, .nquery = nq};
	struct resp rs = {0};

	struct page pg;
	int st = api_page_parse(&rq, &rs, &pg);
	refused_ok(st, &rs, "limit", "cursor", "count");
	if (st == 0) {
		if (pg.limit < 1 || pg.limit > 500 || pg.after < 0 || pg.after2 < 0 ||
		    (pg.after == 0 && pg.after2 != 0))
			DIE("a page of limit %d after %lld/%lld", pg.limit, (long long)pg.after,
			    (long long)pg.after2);
		if (pg.after > 0) {
			/* the cursor the API gives for these keys reads back as them */
			json_t *o = api_page_result2(json_array(), pg.after, pg.after2, -1);
			const char *c = json_string_value(json_object_get(o, "next_cursor"));
			struct qparam one = {"cursor", c};
			struct req r2 = {.query = &one, .nquery = 1};
			struct page p2;
			if (!c || api_page_parse(&r2, &rs, &p2) != 0 || p2.after != pg.after ||
			    p2.after2 != pg.after2)
				DIE("the cursor for %lld/%lld does not read back",
				    (long long)pg.after, (long long)pg.after2);
			json_decref(o);
		}
	}
	int64_t v = 0;
	refused_ok(api_query_i64(&rq, "customer_id", &v, &rs), &rs, "customer_id", NULL, NULL);
	int64_t from = 0, to = 0;
	st = api_query_range(&rq, &from, &to, &rs);
	refused_ok(st, &rs, "from", "to", NULL);
	if (st == 0 && from && to && to < from)
		DIE("a range from %lld to %lld", (long long)from, (long long)to);
	bool b = false;
	refused_ok(api_query_bool(&rq, "active", &b, &rs), &rs, "active", NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
	size_t n = strnlen((const char *)data + 1, size - 1);
	char *target = xmalloc(n + 1);
	memcpy(target, data + 1, n);
	target[n] = '\0';
	char *q = strchr(target, '?');
	if (q)
		*q++ = '\0';
	decode(target);
	check_route(method, target);
	if (q)
		check_query(q);
	free(target);
	return 0;
}
