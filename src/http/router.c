/* router.c - match a method and path against the static route table. Patterns
 * are literal segments and {placeholders} (one non-empty segment each). */
#include "scrm/http.h"

#include "scrm/util.h"

#include <string.h>

/* Compare pattern and path segment by segment; on success store the start of each
 * placeholder segment in params and NUL-terminate it in scratch. */
static bool match_path(const char *pat, char *path, const char **params)
{
	int np = 0;
	const char *p = pat;
	char *s = path;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		const char *pe = strchr(p, '/');
		size_t pl = pe ? (size_t)(pe - p) : strlen(p);
		char *se = strchr(s, '/');
		size_t sl = se ? (size_t)(se - s) : strlen(s);
		if (pl >= 2 && p[0] == '{') {
			if (sl == 0 || np >= REQ_MAX_PARAMS)
				return false;
			params[np++] = s;
		} else if (pl != sl || memcmp(p, s, pl) != 0) {
			return false;
		}
		p += pl;
		s += sl;
	}
	if (*p || *s)
		return false;
	/* terminate the captured segments only once the whole path matched */
	for (int i = 0; i < np; i++) {
		char *e = strchr((char *)params[i], '/');
		if (e)
			*e = '\0';
	}
	return true;
}

static bool method_is(const struct route *r, const char *method)
{
	return strcmp(r->method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
}

const struct route *http_route_match(const char *method, const char *path, char *scratch,
                                     size_t scratch_len, const char **params, bool *path_matched)
{
	size_t n = strlen(path);
	*path_matched = false;
	if (n + 1 > scratch_len)
		return NULL;
	for (const struct route *r = http_routes; r->method; r++) {
		memcpy(scratch, path, n + 1);
		const char *tmp[REQ_MAX_PARAMS] = {0};
		if (!match_path(r->pattern, scratch, tmp))
			continue;
		if (!method_is(r, method)) {
			*path_matched = true;
			continue;
		}
		memcpy(params, tmp, sizeof tmp);
		return r;
	}
	return NULL;
}

void http_route_allow(const char *path, char *out, size_t cap)
{
	char scratch[2048];
	struct buf b = {0};
	size_t n = strlen(path);
	if (n + 1 <= sizeof scratch) {
		for (const struct route *r = http_routes; r->method; r++) {
			const char *tmp[REQ_MAX_PARAMS];
			memcpy(scratch, path, n + 1);
			if (match_path(r->pattern, scratch, tmp) &&
			    !strstr(b.data ? b.data : "", r->method)) {
				buf_printf(&b, "%s%s", b.len ? ", " : "", r->method);
				if (strcmp(r->method, "GET") == 0)
					buf_puts(&b, ", HEAD");
			}
		}
	}
	snprintf(out, cap, "%s", b.data ? b.data : "");
	buf_clear(&b);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t http_unescape(char *s)
{
	char *w = s;
	for (const char *r = s; *r;) {
		int hi, lo;
		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 &&
		    (hi || lo)) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}
