/* static.c - the dashboard's files under the web root. A path is refused unless
 * its resolved location lies inside the root: no "..", no hidden files, no
 * symbolic link leading out. Paths without an extension that name no file get
 * index.html, so the dashboard's deep links survive a reload. */
#include "scrm/http_internal.h"

#include "scrm/log.h"
#include "scrm/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;
static size_t root_len;

int http_static_init(const char *dir)
{
	free(root);
	root = NULL;
	if (!dir)
		return 0;
	root = realpath(dir, NULL);
	if (!root) {
		log_warn("web root %s: %s; the dashboard will not be served", dir, strerror(errno));
		return 0;
	}
	root_len = strlen(root);
	return 0;
}

void http_static_shutdown(void)
{
	free(root);
	root = NULL;
}

static const struct {
	const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".webmanifest", "application/manifest+json"},
};

static const char *type_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < SCRM_ARRAY_LEN(types); i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static bool safe_path(const char *p)
{
	if (p[0] != '/' || strlen(p) > 1024)
		return false;
	for (const char *s = p; *s; s++) {
		if (*s == '\\' || (unsigned char)*s < 0x20)
			return false;
		if (*s == '/' && s[1] == '.') /* "..", "." and hidden files alike */
			return false;
	}
	return true;
}

/* Bundlers name long-lived assets like index-3f9a1c2b.js (and its gzipped twin
 * index-3f9a1c2b.js.gz): cache those for good. */
static bool hashed_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dash = strrchr(base, '-'), *dot = strrchr(base, '.');
	size_t n = strlen(base);
	if (dot && n > 3 && strcmp(base + n - 3, ".gz") == 0)
		dot = memrchr(base, '.', (size_t)(dot - base));
	if (!dash || !dot || dot < dash || dot - dash - 1 < 8)
		return false;
	for (const char *c = dash + 1; c < dot; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z') || *c == '_'))
			return false;
	return true;
}

static int open_inside(const char *rel, struct static_file *out)
{
	char *full = xasprintf("%s%s", root, rel);
	char *real = realpath(full, NULL);
	free(full);
	if (!real)
		return -1;
	int rc = -1;
	if (strncmp(real, root, root_len) == 0 && real[root_len] == '/') {
		int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct stat sb;
		if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
			out->fd = fd;
			out->size = (uint64_t)sb.st_size;
			out->type = type_of(real);
			out->immutable = hashed_name(real);
			snprintf(out->etag, sizeof out->etag, "\"%llx-%llx\"",
			         (unsigned long long)sb.st_size,
			         (unsigned long long)sb.st_mtim.tv_sec * 1000000000ull +
			             (unsigned long long)sb.st_mtim.tv_nsec);
			rc = 0;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	free(real);
	return rc;
}

/* NAME.gz beside NAME, made by the dashboard's build: the same bytes, smaller. */
static int open_gzip(const char *path, struct static_file *out)
{
	char *gz = xasprintf("%s.gz", path);
	int rc = open_inside(gz, out);
	free(gz);
	if (rc == 0) {
		out->type = type_of(path);
		out->gzip = true;
		/* another representation, another tag */
		size_t n = strlen(out->etag);
		if (n >= 2 && n + 3 < sizeof out->etag)
			memcpy(out->etag + n - 1, "-gz\"", 5);
	}
	return rc;
}

int http_static_open(const char *path, bool gzip_ok, struct static_file *out)
{
	if (!root || !safe_path(path))
		return -1;
	out->gzip = false;
	size_t n = strlen(path);
	if (path[n - 1] == '/') {
		char *p = xasprintf("%sindex.html", path);
		int rc = open_inside(p, out);
		free(p);
		return rc;
	}
	if (gzip_ok && open_gzip(path, out) == 0)
		return 0;
	if (open_inside(path, out) == 0)
		return 0;
	const char *slash = strrchr(path, '/');
	if (!strchr(slash, '.')) /* a dashboard route such as /customers/42 */
		return open_inside("/index.html", out);
	return -1;
}
