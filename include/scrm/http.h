/* http.h - the request and response a handler sees, the route table, and the
 * server's life cycle. A handler takes a parsed request and fills a response; it
 * never touches the connection, so it can be called without a socket. */
#ifndef SCRM_HTTP_H
#define SCRM_HTTP_H

#include "scrm/core_auth.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct scrm_config;

enum principal_kind { PRINCIPAL_USER = 1, PRINCIPAL_TOKEN = 2 };

/* Who is calling: a dashboard user (session cookie) or an API token. */
struct principal {
	enum principal_kind kind;
	int64_t id;         /* user id or token id */
	int64_t session_id; /* sessions only */
	enum role role;
	bool via_cookie; /* writes must then carry X-CSRF-Token */
	char key[32];    /* "user:7" / "token:3": audit actor, idempotency scope */
	char name[72];   /* user name or token name, for logs and the audit log */
	char csrf[48];
};

struct qparam {
	const char *key, *value;
};

#define REQ_MAX_PARAMS 4
#define REQ_MAX_QUERY 32

struct route;

/* Everything is borrowed from the server for the duration of the call. */
struct req {
	const char *method, *path;          /* path without the query string */
	const char *params[REQ_MAX_PARAMS]; /* {placeholders} of the route, in order */
	const struct qparam *query;
	size_t nquery;
	const json_t *body;   /* parsed JSON body (routes with a body) */
	const char *raw_body; /* the body's bytes as received */
	size_t raw_len;
	int body_fd; /* R_STREAM: the spooled body (read from 0), else -1 */
	uint64_t body_len;
	const char *content_type;
	const struct principal *who; /* NULL on public routes */
	const char *idem_key;        /* Idempotency-Key, validated, or NULL */
	const char *ip, *user_agent;
	bool secure; /* the client reached us over TLS */
	const struct route *route;
	void *conn; /* for http_req_header() */
};

#define RESP_MAX_HEADERS 6

/* What a handler fills; the server owns it and frees it after sending. */
struct resp {
	json_t *body; /* owned; serialised compactly */
	char *raw;    /* owned; sent as is when set (replays, text formats) */
	size_t raw_len;
	const char *content_type; /* static; default application/json */
	char *location;           /* owned */
	struct {
		char *name, *value; /* owned */
	} headers[RESP_MAX_HEADERS];
	int nheaders;
	bool replayed; /* an Idempotency-Key replay */
	/* A body made piece by piece as it is sent (exports). stream fills buf
	 * with up to max bytes and returns how many (> 0), HTTP_STREAM_END or
	 * HTTP_STREAM_ERROR; stream_free(stream_cls) runs when the answer is done
	 * or abandoned. Owned by the response until it is sent. */
	ssize_t (*stream)(void *cls, uint64_t pos, char *buf, size_t max);
	void *stream_cls;
	void (*stream_free)(void *cls);
};

#define HTTP_STREAM_END ((ssize_t)-1)
#define HTTP_STREAM_ERROR ((ssize_t)-2)

typedef int (*api_handler)(const struct req *rq, struct resp *rs); /* returns HTTP status */

enum route_flags {
	R_PUBLIC = 1 << 0,   /* no authentication */
	R_BODY = 1 << 1,     /* takes a JSON body */
	R_SLOW = 1 << 2,     /* a read that may take long: run on a worker thread */
	R_NO_CSRF = 1 << 3,  /* login: no session yet */
	R_OPT_BODY = 1 << 4, /* a JSON body is optional */
	R_STREAM = 1 << 5,   /* an upload (NDJSON or CSV) spooled to a file, up to
	                      * [http] max_import_mb, never held in memory */
};

struct route {
	const char *method;  /* GET also answers HEAD */
	const char *pattern; /* "/api/v1/users/{id}" */
	api_handler fn;
	enum role min_role;
	unsigned flags;
	const char *name; /* operation id, e.g. "users.get" */
};

/* The table lives in src/http/routes.c; terminated by a NULL method. */
extern const struct route http_routes[];

/* Match method and path; fills params (pointers into scratch, which must hold a
 * copy of the path). Returns the route, or NULL with *path_matched set if the
 * path exists for another method (-> 405). */
const struct route *http_route_match(const char *method, const char *path, char *scratch,
                                     size_t scratch_len, const char **params, bool *path_matched);
/* Allowed methods for a path, "GET, POST" style, into out. */
void http_route_allow(const char *path, char *out, size_t cap);
/* Percent-decoding of paths and query keys and values, in place (the server's
 * unescape callback); returns the new length. A %00 is left as it is: decoded,
 * the NUL would cut the C string short, so "/tags/1%00junk" would name tag 1.
 * Left encoded it is just text that matches nothing. Invalid escapes ("%zz",
 * a "%" near the end) stay as written. */
size_t http_unescape(char *s);

/* A request header (case-insensitive name); NULL if absent or no connection. */
const char *http_req_header(const struct req *rq, const char *name);
/* A query parameter; NULL if absent. */
const char *http_req_query(const struct req *rq, const char *key);

/* Add a header to a response (copies both). */
void http_resp_header(struct resp *rs, const char *name, const char *value);
void http_resp_clear(struct resp *rs);

/* Start serving; the bound port is written to *port_out. 0 or -1 (logged). */
int http_start(const struct scrm_config *cfg, unsigned *port_out);
/* Stop accepting, wait up to the grace period for requests in flight, stop. */
void http_stop(void);
/* The first step of http_stop alone: the listening socket is closed, so a new
 * connection is refused from now on; requests in flight go on. */
void http_stop_accepting(void);

#endif
