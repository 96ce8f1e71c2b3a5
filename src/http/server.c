/* server.c - libmicrohttpd set-up and the life of a request.
 *
 * MHD runs an epoll thread pool. Fast reads (GET routes, static files) are
 * answered on the MHD thread. Everything that may wait (writes, which wait for
 * their group commit, password hashing, slow reports) is handed to a pool of
 * worker threads: the connection is suspended, the worker runs the handler and
 * builds the response, then resumes the connection. An MHD thread serves many
 * connections, so it must never sit waiting on a commit.
 *
 * Responses are queued on the access handler's final call, never on the first:
 * libmicrohttpd answers with "Connection: close" when a response is queued while
 * only the headers have been seen, and keep-alive is worth several times the
 * throughput. */
#include "scrm/http_internal.h"

#include "scrm/api.h"
#include "scrm/config.h"
#include "scrm/crypto.h"
#include "scrm/http_auth.h"
#include "scrm/log.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct rctx {
	struct MHD_Connection *conn;
	uint64_t t0;
	const char *method;
	char *path, *scratch;
	const struct route *route;
	bool path_matched, too_big, draining, is_static, close_conn;
	size_t discarded; /* bytes of an oversize body read and dropped */
	int spool_fd;     /* R_STREAM: the upload so far, in an unlinked file */
	uint64_t spool_len;
	bool spool_failed;
	const char *params[REQ_MAX_PARAMS];
	size_t limit;
	struct buf body;
	struct principal who;
	bool have_who;
	char ip[64];
	struct qparam query[REQ_MAX_QUERY];
	size_t nquery;
	json_t *json;
	struct req rq;
	struct resp rs;
	/* the prepared answer */
	struct MHD_Response *response;
	unsigned status;
	uint64_t bytes;
	bool ready;
	struct rctx *next; /* worker queue */
};

/* How far past the limit an oversize body is read and dropped, so that the
 * client gets to see its 413; beyond this the connection is closed. */
#define DRAIN_MAX ((size_t)16 << 20)

static struct MHD_Daemon *daemon_;
static const struct scrm_config *cfg;
static bool tls;
static char *tls_cert_pem, *tls_key_pem;
static char *spool_dir;
static atomic_uint in_flight, suspended;
static atomic_bool draining;

/* Worker pool ---------------------------------------------------------------- */

static pthread_mutex_t wq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wq_cond = PTHREAD_COND_INITIALIZER;
static struct rctx *wq_head, *wq_tail;
static bool wq_stop;
static pthread_t *workers;
static unsigned nworkers;

static void run_handler(struct rctx *x);
static void build_response(struct rctx *x);

static void *worker_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&wq_mu);
		while (!wq_head && !wq_stop)
			pthread_cond_wait(&wq_cond, &wq_mu);
		struct rctx *x = wq_head;
		if (!x) {
			pthread_mutex_unlock(&wq_mu);
			break;
		}
		wq_head = x->next;
		if (!wq_head)
			wq_tail = NULL;
		pthread_mutex_unlock(&wq_mu);

		run_handler(x);
		build_response(x);
		x->ready = true;
		/* x may be freed by the MHD thread once resumed. Count down only
		 * after resuming: http_stop() stops MHD when the count reaches 0, and
		 * stopping with a connection still suspended is not allowed. */
		MHD_resume_connection(x->conn);
		atomic_fetch_sub(&suspended, 1);
	}
	return NULL;
}

static void dispatch(struct rctx *x)
{
	atomic_fetch_add(&suspended, 1);
	MHD_suspend_connection(x->conn);
	pthread_mutex_lock(&wq_mu);
	x->next = NULL;
	if (wq_tail)
		wq_tail->next = x;
	else
		wq_head = x;
	wq_tail = x;
	pthread_cond_signal(&wq_cond);
	pthread_mutex_unlock(&wq_mu);
}

/* Requests and responses ------------------------------------------------------ */

unsigned http_requests_in_flight(void)
{
	return atomic_load(&in_flight);
}

unsigned http_connections_current(void)
{
	if (!daemon_)
		return 0;
	const union MHD_DaemonInfo *i =
	    MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return i ? i->num_connections : 0;
}

const char *http_req_header(const struct req *rq, const char *name)
{
	if (!rq->conn)
		return NULL;
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const struct req *rq, const char *key)
{
	for (size_t i = 0; i < rq->nquery; i++)
		if (strcmp(rq->query[i].key, key) == 0)
			return rq->query[i].value;
	return NULL;
}

void http_resp_header(struct resp *rs, const char *name, const char *value)
{
	if (rs->nheaders >= RESP_MAX_HEADERS) {
		log_error("http: too many response headers; dropped %s", name);
		return;
	}
	rs->headers[rs->nheaders].name = xstrdup(name);
	rs->headers[rs->nheaders].value = xstrdup(value);
	rs->nheaders++;
}

void http_resp_clear(struct resp *rs)
{
	json_decref(rs->body);
	free(rs->raw);
	free(rs->location);
	for (int i = 0; i < rs->nheaders; i++) {
		free(rs->headers[i].name);
		free(rs->headers[i].value);
	}
	if (rs->stream_free && rs->stream_cls)
		rs->stream_free(rs->stream_cls);
	memset(rs, 0, sizeof *rs);
}

static void add_security_headers(struct MHD_Response *r, bool api)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Permissions-Policy",
	                        "camera=(), microphone=(), geolocation=()");
	MHD_add_response_header(
	    r, "Content-Security-Policy",
	    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
	    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
	    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
	if (tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	if (api)
		MHD_add_response_header(r, "Cache-Control", "no-store");
}

/* Turn x->rs into an MHD response (on whichever thread ran the handler). */
static void build_response(struct rctx *x)
{
	struct resp *rs = &x->rs;
	char *data = NULL;
	size_t len = 0;
	if (x->status != 204 && x->status != 304) {
		if (rs->raw) {
			data = rs->raw;
			len = rs->raw_len;
			rs->raw = NULL;
		} else if (rs->body) {
			data = json_dumps(rs->body, JSON_COMPACT);
			len = data ? strlen(data) : 0;
		}
	}
	struct MHD_Response *r;
	if (rs->stream && x->status < 300) {
		/* the response owns the stream from here; MHD frees it */
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, rs->stream,
		                                      rs->stream_cls, rs->stream_free);
		rs->stream = NULL;
		rs->stream_cls = NULL;
		rs->stream_free = NULL;
		free(data);
		data = NULL;
		len = 0;
	} else {
		r = data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE)
		         : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (data || rs->content_type)
		MHD_add_response_header(r, "Content-Type",
		                        rs->content_type ? rs->content_type
		                                         : "application/json; charset=utf-8");
	add_security_headers(r, true);
	if (rs->location)
		MHD_add_response_header(r, "Location", rs->location);
	for (int i = 0; i < rs->nheaders; i++)
		MHD_add_response_header(r, rs->headers[i].name, rs->headers[i].value);
	if (rs->replayed)
		MHD_add_response_header(r, "Idempotent-Replayed", "true");
	if (x->draining || x->close_conn)
		MHD_add_response_header(r, "Connection", "close");
	x->response = r;
	x->bytes = len;
}

static enum MHD_Result queue(struct rctx *x)
{
	enum MHD_Result ok = MHD_queue_response(x->conn, x->status, x->response);
	MHD_destroy_response(x->response);
	x->response = NULL;
	return ok;
}

static enum MHD_Result reply_error(struct rctx *x, unsigned status, const char *code,
                                   const char *field, const char *msg)
{
	x->status = (unsigned)api_error(&x->rs, (int)status, code, field, "%s", msg);
	build_response(x);
	return queue(x);
}

static void run_handler(struct rctx *x)
{
	x->status = (unsigned)x->route->fn(&x->rq, &x->rs);
	if (x->status < 100 || x->status > 599) {
		log_error("http: handler %s returned status %u", x->route->name, x->status);
		x->status = (unsigned)api_error(&x->rs, 500, "internal", NULL, "internal error");
	}
}

/* Does an Accept-Encoding list gzip (not refused with q=0)? */
static bool accepts_gzip(const char *ae)
{
	for (const char *p = ae; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		size_t tok = strcspn(p, " ;,");
		if ((tok == 4 && strncasecmp(p, "gzip", 4) == 0) || (tok == 1 && *p == '*')) {
			const char *q = memchr(p, ';', n);
			bool refused = false;
			if (q) {
				const char *v = strstr(q, "q=");
				refused = v && v < p + n && strtod(v + 2, NULL) <= 0.0;
			}
			return !refused;
		}
		p += n;
	}
	return false;
}

static enum MHD_Result serve_static(struct rctx *x)
{
	struct static_file f;
	x->is_static = true;
	const char *ae = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Accept-Encoding");
	if (http_static_open(x->path, accepts_gzip(ae), &f) < 0)
		return reply_error(x, 404, "not_found", NULL, "no such page or file");
	const char *inm = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "If-None-Match");
	struct MHD_Response *r;
	if (inm && strcmp(inm, f.etag) == 0) {
		close(f.fd);
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		x->status = 304;
	} else {
		r = MHD_create_response_from_fd((size_t)f.size, f.fd);
		MHD_add_response_header(r, "Content-Type", f.type);
		if (f.gzip)
			MHD_add_response_header(r, "Content-Encoding", "gzip");
		x->status = 200;
		x->bytes = f.size;
	}
	/* caches keep the gzip and the plain answer apart */
	MHD_add_response_header(r, "Vary", "Accept-Encoding");
	add_security_headers(r, false);
	MHD_add_response_header(r, "ETag", f.etag);
	MHD_add_response_header(r, "Cache-Control",
	                        f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
	x->response = r;
	return queue(x);
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	(void)kind;
	struct rctx *x = cls;
	if (x->nquery < REQ_MAX_QUERY) {
		x->query[x->nquery].key = key;
		x->query[x->nquery].value = value ? value : "";
		x->nquery++;
	}
	return MHD_YES;
}

static bool is_unsafe(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

static bool json_content_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strcspn(ct, "; ");
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	       (n == 28 && strncasecmp(ct, "application/merge-patch+json", 28) == 0);
}

/* Find a string holding U+0000 anywhere in v (C strings would be cut short
 * there); writes its path, such as "name" or "items[2].sku", to out. */
static bool find_nul(const json_t *v, char *out, size_t cap, size_t len)
{
	if (json_is_string(v))
		return strlen(json_string_value(v)) != json_string_length(v);
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			int n = snprintf(out + len, cap - len, "[%zu]", i);
			size_t nl = n > 0 && (size_t)n < cap - len ? len + (size_t)n : cap - 1;
			if (find_nul(json_array_get(v, i), out, cap, nl))
				return true;
			out[len] = '\0';
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach((json_t *)v, k, m)
		{
			int n = snprintf(out + len, cap - len, "%s%s", len ? "." : "", k);
			size_t nl = n > 0 && (size_t)n < cap - len ? len + (size_t)n : cap - 1;
			if (find_nul(m, out, cap, nl))
				return true;
			out[len] = '\0';
		}
	}
	return false;
}

/* Parse the JSON body; 0 or the error status already queued in *ret. */
static int parse_body(struct rctx *x, enum MHD_Result *ret)
{
	unsigned flags = x->route->flags;
	if (!(flags & (R_BODY | R_OPT_BODY)) || x->body.len == 0) {
		if ((flags & R_BODY) && x->body.len == 0) {
			*ret = reply_error(x, 400, "invalid_json", NULL, "a JSON body is required");
			return -1;
		}
		return 0;
	}
	const char *ct = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Content-Type");
	if (!json_content_type(ct)) {
		*ret = reply_error(x, 415, "unsupported_media_type", NULL,
		                   "send the body as Content-Type: application/json");
		return -1;
	}
	json_error_t err;
	/* Any JSON value is accepted here, so that a body that is valid JSON but not
	 * an object gets 422 from the handler's check, not 400 "not valid JSON". */
	x->json = json_loadb(x->body.data, x->body.len,
	                     JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!x->json) {
		char msg[300], field[128] = "";
		/* jansson reports a repeated key as: duplicate object key near '"k"' */
		const char *near = strstr(err.text, "near '\"");
		if (strstr(err.text, "duplicate") && near) {
			snprintf(field, sizeof field, "%s", near + 7);
			field[strcspn(field, "\"")] = '\0';
		}
		snprintf(msg, sizeof msg, "the body is not valid JSON (line %d, column %d): %s",
		         err.line, err.column, err.text);
		*ret = reply_error(x, 400, "invalid_json", field[0] ? field : NULL, msg);
		return -1;
	}
	char path[256] = "";
	if (find_nul(x->json, path, sizeof path, 0)) {
		*ret = reply_error(x, 422, "validation_failed", path[0] ? path : NULL,
		                   "strings must not contain NUL characters (\\u0000)");
		return -1;
	}
	return 0;
}

/* Append upload bytes to the request's spool file, created unlinked on the
 * first chunk so that it vanishes with the descriptor, whatever happens. */
static void spool(struct rctx *x, const char *data, size_t n)
{
	if (x->spool_failed)
		return;
	if (x->spool_fd < 0) {
		char *tmpl = xasprintf("%s/upload-XXXXXX", spool_dir);
		x->spool_fd = mkostemp(tmpl, O_CLOEXEC);
		if (x->spool_fd >= 0)
			unlink(tmpl);
		else
			log_error("http: cannot create a spool file in %s: %s", spool_dir,
			          strerror(errno));
		free(tmpl);
		if (x->spool_fd < 0) {
			x->spool_failed = true;
			return;
		}
	}
	while (n > 0) {
		ssize_t w = write(x->spool_fd, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_error("http: spooling an upload failed: %s", strerror(errno));
			x->spool_failed = true;
			return;
		}
		data += w;
		n -= (size_t)w;
		x->spool_len += (uint64_t)w;
	}
}

static bool upload_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strcspn(ct, "; ");
	return (n == 20 && strncasecmp(ct, "application/x-ndjson", 20) == 0) ||
	       (n == 21 && strncasecmp(ct, "application/jsonlines", 21) == 0) ||
	       (n == 8 && strncasecmp(ct, "text/csv", 8) == 0);
}

/* A streamed upload: NDJSON or CSV, spooled completely. */
static int check_upload(struct rctx *x, enum MHD_Result *ret)
{
	const char *ct = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Content-Type");
	if (!upload_type(ct)) {
		*ret =
		    reply_error(x, 415, "unsupported_media_type", NULL,
		                "send the file as Content-Type: application/x-ndjson or text/csv");
		return -1;
	}
	if (x->spool_failed) {
		*ret = reply_error(x, 503, "unavailable", NULL,
		                   "the upload could not be stored (disk full?); try again later");
		return -1;
	}
	return 0;
}

static bool valid_idem_key(const char *k)
{
	size_t n = strlen(k);
	if (n < 1 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (k[i] < 0x21 || k[i] > 0x7e)
			return false;
	return true;
}

static bool is_api_path(const char *p)
{
	return strncmp(p, "/api/", 5) == 0 || strcmp(p, "/api") == 0;
}

static enum MHD_Result handle(struct rctx *x)
{
	enum MHD_Result ret = MHD_YES;
	if (x->draining)
		return reply_error(x, 503, "unavailable", NULL, "the server is shutting down");
	if (x->too_big) {
		char msg[96];
		snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", x->limit);
		return reply_error(x, 413, "payload_too_large", NULL, msg);
	}
	if (!x->route) {
		bool get = strcmp(x->method, "GET") == 0 || strcmp(x->method, "HEAD") == 0;
		if (x->path_matched) {
			char allow[128];
			http_route_allow(x->path, allow, sizeof allow);
			http_resp_header(&x->rs, "Allow", allow);
			char msg[192];
			snprintf(msg, sizeof msg, "%s is not allowed here; allowed: %s", x->method,
			         allow);
			return reply_error(x, 405, "method_not_allowed", NULL, msg);
		}
		if (get && !is_api_path(x->path))
			return serve_static(x);
		return reply_error(x, 404, "not_found", NULL, "no such endpoint");
	}
	const struct route *r = x->route;

	const char *authz = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Authorization");
	const char *cookie = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Cookie");
	enum auth_result ar = http_auth_resolve(authz, cookie, &x->who);
	x->have_who = ar == AUTH_OK;
	if (!(r->flags & R_PUBLIC)) {
		if (ar != AUTH_OK) {
			http_resp_header(&x->rs, "WWW-Authenticate", "Bearer realm=\"scrmd\"");
			return reply_error(x, 401, "unauthorized", NULL,
			                   ar == AUTH_NONE
			                       ? "authentication required: log in or send "
			                         "Authorization: Bearer <token>"
			                       : "the credentials are invalid, expired or revoked");
		}
		if (x->who.role < r->min_role) {
			char msg[96];
			snprintf(msg, sizeof msg, "this needs the %s role",
			         core_role_name(r->min_role));
			return reply_error(x, 403, "forbidden", NULL, msg);
		}
	}
	if (x->have_who && x->who.via_cookie && is_unsafe(x->method) && !(r->flags & R_NO_CSRF)) {
		const char *t =
		    MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "X-CSRF-Token");
		size_t n = strlen(x->who.csrf);
		if (!t || strlen(t) != n || n == 0 || !crypto_equal(t, x->who.csrf, n))
			return reply_error(x, 403, "forbidden", "X-CSRF-Token",
			                   "cookie-authenticated writes must send the X-CSRF-Token "
			                   "header given at login");
	}
	if ((r->flags & R_STREAM) ? check_upload(x, &ret) < 0 : parse_body(x, &ret) < 0)
		return ret;
	/* Idempotency-Key means something on POST only; elsewhere it is ignored */
	const char *idem =
	    strcmp(x->method, "POST") == 0
	        ? MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Idempotency-Key")
	        : NULL;
	if (idem && !valid_idem_key(idem))
		return reply_error(x, 422, "validation_failed", "Idempotency-Key",
		                   "Idempotency-Key must be 1 to 255 visible ASCII characters");
	MHD_get_connection_values(x->conn, MHD_GET_ARGUMENT_KIND, collect_query, x);

	x->rq = (struct req){
	    .method = x->method,
	    .path = x->path,
	    .query = x->query,
	    .nquery = x->nquery,
	    .body = x->json,
	    .raw_body = x->body.data,
	    .raw_len = x->body.len,
	    .body_fd = x->spool_fd,
	    .body_len = x->spool_len,
	    .content_type = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Content-Type"),
	    .who = x->have_who ? &x->who : NULL,
	    .idem_key = idem,
	    .ip = x->ip,
	    .user_agent = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "User-Agent"),
	    .secure = tls,
	    .route = r,
	    .conn = x->conn,
	};
	if (cfg->trust_proxy) {
		const char *proto =
		    MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
		if (proto && strcasecmp(proto, "https") == 0)
			x->rq.secure = true;
	}
	memcpy(x->rq.params, x->params, sizeof x->params);

	if (is_unsafe(x->method) || (r->flags & R_SLOW)) {
		dispatch(x);
		return MHD_YES;
	}
	run_handler(x);
	build_response(x);
	return queue(x);
}

static void client_ip(struct rctx *x)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(x->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(x->ip, sizeof x->ip, "-");
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, x->ip,
			          sizeof x->ip);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, x->ip,
			          sizeof x->ip);
	}
	if (cfg->trust_proxy) {
		/* the right-most address is the one our proxy saw */
		const char *xff =
		    MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "X-Forwarded-For");
		if (xff && *xff) {
			const char *last = strrchr(xff, ',');
			last = last ? last + 1 : xff;
			while (*last == ' ')
				last++;
			char tmp[64];
			snprintf(tmp, sizeof tmp, "%s", last);
			tmp[strcspn(tmp, " ")] = '\0';
			unsigned char bin[16];
			if (inet_pton(AF_INET, tmp, bin) == 1 || inet_pton(AF_INET6, tmp, bin) == 1)
				snprintf(x->ip, sizeof x->ip, "%s", tmp);
		}
	}
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct rctx *x = *con_cls;
	if (!x) {
		x = xcalloc(1, sizeof *x);
		*con_cls = x;
		atomic_fetch_add(&in_flight, 1);
		x->conn = conn;
		x->t0 = time_mono_ns();
		x->method = method;
		x->path = xstrdup(url ? url : "/");
		size_t plen = strlen(x->path) + 1;
		x->scratch = xmalloc(plen);
		x->draining = atomic_load(&draining);
		x->spool_fd = -1;
		x->limit = (size_t)cfg->max_body_kb * 1024;
		client_ip(x);
		x->route = http_route_match(method, x->path, x->scratch, plen, x->params,
		                            &x->path_matched);
		if (x->route && (x->route->flags & R_STREAM))
			x->limit = (size_t)cfg->max_import_mb << 20;
		const char *cl =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
		int64_t n;
		if (cl && str_to_i64(cl, &n) && (uint64_t)n > x->limit) {
			x->too_big = true;
			/* A client waiting for "100 Continue", or one about to send far
			 * too much, is answered now and the connection closed. Others
			 * are answered once the body has been read and thrown away: a
			 * client still sending when we close would see a reset, not 413. */
			if (expect || (uint64_t)n > x->limit + DRAIN_MAX) {
				x->close_conn = true;
				return handle(x);
			}
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (x->too_big) {
			x->discarded += *upload_size;
			if (x->discarded > x->limit + DRAIN_MAX) {
				log_warn("http: dropping a connection after %zu bytes of an "
				         "oversize body",
				         x->discarded);
				return MHD_NO;
			}
		} else if (x->body.len + x->spool_len + *upload_size > x->limit) {
			x->too_big = true;
			x->discarded = x->body.len + x->spool_len + *upload_size;
			buf_clear(&x->body);
		} else if (x->route && (x->route->flags & R_STREAM)) {
			spool(x, upload, *upload_size);
		} else {
			buf_append(&x->body, upload, *upload_size);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (x->ready) { /* a worker finished; answer now */
		x->ready = false;
		return queue(x);
	}
	return handle(x);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	struct rctx *x = *con_cls;
	if (!x)
		return;
	*con_cls = NULL;
	uint64_t ns = time_mono_ns() - x->t0;
	char path[256];
	log_escape(path, sizeof path, x->path, 200);
	int ri = x->route       ? (int)(x->route - http_routes)
	         : x->is_static ? METRIC_STATIC
	                        : METRIC_UNMATCHED;
	http_metrics_observe(ri, x->status, ns);
	log_info("req method=%s path=%s status=%u ms=%.2f bytes=%llu who=%s ip=%s%s", x->method,
	         path, x->status, (double)ns / 1e6, (unsigned long long)x->bytes,
	         x->have_who ? x->who.key : "-", x->ip,
	         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	if (x->response)
		MHD_destroy_response(x->response);
	json_decref(x->json);
	if (x->spool_fd >= 0)
		close(x->spool_fd);
	http_resp_clear(&x->rs);
	buf_clear(&x->body);
	crypto_wipe(&x->who, sizeof x->who);
	free(x->path);
	free(x->scratch);
	free(x);
	atomic_fetch_sub(&in_flight, 1);
}

/* Percent-decoding of paths and query values (http_unescape, router.c). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return http_unescape(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("mhd: %s", msg);
}

/* Start and stop ------------------------------------------------------------- */

static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss, bool *v6)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", port);
	int rc = getaddrinfo(*host ? host : NULL, portstr, &hints, &res);
	if (rc != 0 || !res) {
		log_error("http: cannot resolve listen address %s: %s", host, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return 0;
}

int http_start(const struct scrm_config *c, unsigned *port_out)
{
	cfg = c;
	char host[256];
	unsigned port;
	if (config_parse_listen(c->listen, host, sizeof host, &port) < 0) {
		log_error("http: bad listen address %s", c->listen);
		return -1;
	}
	struct sockaddr_storage ss;
	bool v6 = false;
	if (resolve(host, port, &ss, &v6) < 0)
		return -1;
	http_metrics_init();
	http_static_init(c->web_root);
	free(spool_dir);
	if (c->spool_dir) {
		spool_dir = xstrdup(c->spool_dir);
	} else {
		char *copy = xstrdup(c->db_path);
		spool_dir = xasprintf("%s/spool", dirname(copy));
		free(copy);
	}
	if (mkdir(spool_dir, 0700) != 0 && errno != EEXIST)
		log_warn("http: cannot create spool directory %s: %s; imports will fail", spool_dir,
		         strerror(errno));

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = c->threads ? c->threads : (unsigned)(ncpu > 0 ? ncpu : 2);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	tls = c->tls_cert != NULL;
	if (tls) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			log_error("http: this libmicrohttpd was built without TLS; unset "
			          "tls_cert/tls_key "
			          "and terminate TLS in a reverse proxy");
			return -1;
		}
		tls_cert_pem = file_read_all(c->tls_cert, NULL);
		tls_key_pem = file_read_all(c->tls_key, NULL);
		if (!tls_cert_pem || !tls_key_pem) {
			log_error("http: cannot read TLS certificate %s or key %s", c->tls_cert,
			          c->tls_key);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	atomic_store(&draining, false);
	wq_stop = false;
	nworkers = c->workers;
	workers = xcalloc(nworkers, sizeof *workers);
	for (unsigned i = 0; i < nworkers; i++)
		pthread_create(&workers[i], NULL, worker_main, NULL);

	struct MHD_OptionItem opts[16];
	int k = 0;
	opts[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
	if (threads > 1)
		opts[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
	opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, c->max_connections, NULL};
	if (c->per_ip_connections)
		opts[k++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		                                    c->per_ip_connections, NULL};
	opts[k++] =
	    (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, c->connection_timeout_s, NULL};
	opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                                    (intptr_t)c->connection_memory_kb * 1024, NULL};
	opts[k++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
	opts[k++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL};
	/* refuse sloppy requests (HTTP/1.1 without Host, bad header syntax) */
	opts[k++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL};
	opts[k++] =
	    (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL};
	if (tls) {
		opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert_pem};
		opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key_pem};
	}
	opts[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

	daemon_ =
	    MHD_start_daemon(flags, 0, NULL, NULL, on_access, NULL, MHD_OPTION_EXTERNAL_LOGGER,
	                     mhd_log, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!daemon_) {
		log_error("http: cannot listen on %s (%s)", c->listen, strerror(errno));
		http_stop();
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	*port_out = info ? info->port : port;
	log_info("http: listening on %s%s%s%s:%u (%u epoll threads, %u workers)",
	         tls ? "https://" : "http://", v6 ? "[" : "", host, v6 ? "]" : "", *port_out,
	         threads, nworkers);
	return 0;
}

void http_stop_accepting(void)
{
	if (daemon_ && !atomic_exchange(&draining, true)) {
		MHD_socket s = MHD_quiesce_daemon(daemon_);
		if (s != MHD_INVALID_SOCKET)
			close(s);
	}
}

void http_stop(void)
{
	if (daemon_) {
		/* Stop accepting at once (if not done yet); keep serving what is in flight. */
		http_stop_accepting();
		uint64_t deadline = time_mono_ns() + (uint64_t)cfg->shutdown_grace_s * 1000000000u;
		while (atomic_load(&in_flight) > 0 && time_mono_ns() < deadline)
			usleep(5000);
		if (atomic_load(&in_flight) > 0)
			log_warn("http: %u requests still open after %us; closing them",
			         atomic_load(&in_flight), cfg->shutdown_grace_s);
		/* A suspended connection must be resumed before MHD stops: wait for the
		 * handlers that are running to finish. */
		while (atomic_load(&suspended) > 0)
			usleep(5000);
	}
	pthread_mutex_lock(&wq_mu);
	wq_stop = true;
	pthread_cond_broadcast(&wq_cond);
	pthread_mutex_unlock(&wq_mu);
	for (unsigned i = 0; i < nworkers && workers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	nworkers = 0;
	if (daemon_) {
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
	}
	http_static_shutdown();
	free(tls_cert_pem);
	free(tls_key_pem);
	free(spool_dir);
	tls_cert_pem = tls_key_pem = spool_dir = NULL;
}
