/* common.c - the error shape, body checking, pagination and the write wrapper
 * shared by every resource. */
#include "internal.h"

#include "scrm/config.h"
#include "scrm/crypto.h"
#include "scrm/log.h"
#include "scrm/store_auth.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct scrm_config *config;

void api_init(const struct scrm_config *cfg)
{
	config = cfg;
}

const struct scrm_config *api_config(void)
{
	return config;
}

int api_error(struct resp *rs, int status, const char *code, const char *field, const char *fmt,
              ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* the message may quote what the client sent (a CSV header's bytes) or be
	 * cut in the middle of a character: JSON strings must be UTF-8 */
	str_utf8_scrub(msg);
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (field) {
		char *f = xstrdup(field);
		str_utf8_scrub(f);
		json_object_set_new(err, "field", json_string(f));
		free(f);
	}
	json_decref(rs->body);
	free(rs->raw);
	rs->raw = NULL;
	rs->body = json_pack("{s:o}", "error", err);
	return status;
}

int api_core_error(struct resp *rs, const struct core_err *e)
{
	switch (e->rc) {
	case CORE_INVALID:
		return api_error(rs, 422, e->code ? e->code : "validation_failed", e->field, "%s",
		                 e->msg);
	case CORE_NOT_FOUND:
		return api_error(rs, 404, "not_found", e->field, "%s", e->msg);
	case CORE_CONFLICT: {
		int st = api_error(rs, 409, "conflict", e->field, "%s", e->msg);
		if (e->id)
			json_object_set_new(json_object_get(rs->body, "error"), "id",
			                    json_integer(e->id));
		return st;
	}
	case CORE_STORE:
		return api_store_error(rs, e->st ? e->st : ST_ERR);
	default:
		return api_error(rs, 500, "internal", NULL, "internal error");
	}
}

int64_t api_body_id(const json_t *body, const char *key, struct resp *rs, int *status)
{
	json_t *v = json_object_get(body, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		*status =
		    api_error(rs, 422, "validation_failed", key, "%s must be a positive id", key);
		return -1;
	}
	return json_integer_value(v);
}

int api_store_error(struct resp *rs, int st)
{
	if (st < 0)
		st = -st;
	switch (st) {
	case ST_NOT_FOUND:
		return api_error(rs, 404, "not_found", NULL, "no such record");
	case ST_CONFLICT:
		return api_error(rs, 409, "conflict", NULL,
		                 "the change conflicts with existing data");
	case ST_BUSY:
	case ST_UNAVAILABLE: {
		const char *why = store_unavailable_reason();
		if (why)
			return api_error(rs, 503, "unavailable", NULL,
			                 "the database refuses writes: %s; try again later", why);
		return api_error(rs, 503, "unavailable", NULL,
		                 "the database cannot take writes right now; try again shortly");
	}
	default:
		return api_error(rs, 500, "internal", NULL, "internal error; see the server log");
	}
}

static const char *type_name(enum jtype t)
{
	switch (t) {
	case J_STRING:
		return "a string";
	case J_INT:
		return "an integer";
	case J_BOOL:
		return "true or false";
	case J_OBJECT:
		return "an object";
	case J_ARRAY:
		return "an array";
	default:
		return "a value";
	}
}

static bool type_ok(const json_t *v, enum jtype t)
{
	switch (t) {
	case J_STRING:
		return json_is_string(v);
	case J_INT:
		return json_is_integer(v);
	case J_BOOL:
		return json_is_boolean(v);
	case J_OBJECT:
		return json_is_object(v);
	case J_ARRAY:
		return json_is_array(v);
	default:
		return true;
	}
}

int api_check_object(const json_t *obj, const struct jfield *spec, const char *prefix,
                     struct resp *rs)
{
	char path[256];
	if (!json_is_object(obj))
		return api_error(rs, 422, "validation_failed", *prefix ? prefix : NULL,
		                 "%s must be a JSON object", *prefix ? prefix : "the body");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		const struct jfield *f = NULL;
		for (const struct jfield *s = spec; s->name; s++)
			if (strcmp(s->name, key) == 0)
				f = s;
		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
		if (!f) {
			struct buf allowed = {0};
			for (const struct jfield *s = spec; s->name; s++)
				buf_printf(&allowed, "%s%s", allowed.len ? ", " : "", s->name);
			int st = api_error(rs, 422, "validation_failed", path,
			                   "unknown field '%s'; allowed: %s", key,
			                   allowed.len ? allowed.data : "none");
			buf_clear(&allowed);
			return st;
		}
		if (json_is_null(v)) {
			if (f->flags & JF_NULLABLE)
				continue;
			return api_error(rs, 422, "validation_failed", path,
			                 "%s must be %s, not null", path, type_name(f->type));
		}
		if (!type_ok(v, f->type))
			return api_error(rs, 422, "validation_failed", path, "%s must be %s", path,
			                 type_name(f->type));
		if (json_is_string(v)) {
			size_t n = json_string_length(v);
			unsigned max = f->max_len ? f->max_len : 10000;
			/* jansson accepts \u0000; a NUL would silently cut C strings short */
			if (strlen(json_string_value(v)) != n)
				return api_error(rs, 422, "validation_failed", path,
				                 "%s must not contain NUL characters", path);
			if (n > max)
				return api_error(rs, 422, "validation_failed", path,
				                 "%s is too long (%u bytes at most)", path, max);
		}
	}
	for (const struct jfield *s = spec; s->name; s++) {
		if (!(s->flags & JF_REQUIRED))
			continue;
		v = json_object_get(obj, s->name);
		if (!v) {
			snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", s->name);
			return api_error(rs, 422, "validation_failed", path, "%s is required",
			                 path);
		}
	}
	return 0;
}

const char *api_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int64_t api_path_id(const struct req *rq, int i, struct resp *rs, int *status)
{
	int64_t id;
	if (!rq->params[i] || !str_to_i64(rq->params[i], &id) || id <= 0) {
		*status = api_error(rs, 404, "not_found", NULL, "no such record");
		return 0;
	}
	return id;
}

/* Cursors are opaque to clients: "v1:<key>" or "v1:<key>:<key2>" in base64url,
 * so that the encoding can change without breaking anyone who stored one. */
static char *cursor_encode(int64_t key, int64_t key2)
{
	char raw[64], *out = xmalloc(96);
	int n = key2 ? snprintf(raw, sizeof raw, "v1:%lld:%lld", (long long)key, (long long)key2)
	             : snprintf(raw, sizeof raw, "v1:%lld", (long long)key);
	crypto_b64url_encode((const unsigned char *)raw, (size_t)n, out);
	return out;
}

static bool cursor_decode(const char *s, int64_t *key, int64_t *key2)
{
	unsigned char raw[64];
	if (strlen(s) > 80)
		return false;
	long n = crypto_b64url_decode(s, raw, sizeof raw - 1);
	if (n < 4)
		return false;
	raw[n] = '\0';
	if (memcmp(raw, "v1:", 3) != 0)
		return false;
	char *two = strchr((char *)raw + 3, ':');
	*key2 = 0;
	if (two) {
		*two++ = '\0';
		if (!str_to_i64(two, key2) || *key2 <= 0)
			return false;
	}
	return str_to_i64((const char *)raw + 3, key) && *key > 0;
}

int api_page_parse(const struct req *rq, struct resp *rs, struct page *pg)
{
	pg->limit = 50;
	pg->after = pg->after2 = 0;
	pg->count = false;
	const char *l = http_req_query(rq, "limit");
	if (l) {
		int64_t v;
		if (!str_to_i64(l, &v) || v < 1 || v > 500)
			return api_error(rs, 422, "validation_failed", "limit",
			                 "limit must be a whole number from 1 to 500");
		pg->limit = (int)v;
	}
	const char *c = http_req_query(rq, "cursor");
	if (c && *c && !cursor_decode(c, &pg->after, &pg->after2))
		return api_error(rs, 422, "validation_failed", "cursor",
		                 "cursor is not one this API issued; pass next_cursor unchanged");
	return api_query_bool(rq, "count", &pg->count, rs);
}

int64_t api_page_trim(json_t *data, int limit, const char *key_field)
{
	if (json_array_size(data) <= (size_t)limit)
		return 0;
	while (json_array_size(data) > (size_t)limit)
		json_array_remove(data, json_array_size(data) - 1);
	return json_integer_value(
	    json_object_get(json_array_get(data, (size_t)limit - 1), key_field));
}

json_t *api_page_result(json_t *data, int64_t next_key, int64_t total)
{
	return api_page_result2(data, next_key, 0, total);
}

json_t *api_page_result2(json_t *data, int64_t next_key, int64_t next_key2, int64_t total)
{
	json_t *o = json_object();
	json_object_set_new(o, "data", data);
	if (next_key > 0) {
		char *c = cursor_encode(next_key, next_key2);
		json_object_set_new(o, "next_cursor", json_string(c));
		free(c);
	} else {
		json_object_set_new(o, "next_cursor", json_null());
	}
	if (total >= 0)
		json_object_set_new(o, "total", json_integer(total));
	return o;
}

int api_query_i64(const struct req *rq, const char *key, int64_t *out, struct resp *rs)
{
	const char *v = http_req_query(rq, key);
	if (!v)
		return 0;
	if (!str_to_i64(v, out))
		return api_error(rs, 422, "validation_failed", key, "%s must be an integer", key);
	return 0;
}

int api_query_time(const struct req *rq, const char *key, int64_t *out, struct resp *rs)
{
	const char *v = http_req_query(rq, key);
	if (!v)
		return 0;
	int y, m, d;
	if (time_parse_rfc3339(v, out))
		return 0;
	if (time_parse_date(v, &y, &m, &d)) { /* a bare date: its start in the business time zone */
		*out = time_local_day_start(time_days_from_civil(y, (unsigned)m, (unsigned)d));
		return 0;
	}
	return api_error(rs, 422, "validation_failed", key,
	                 "%s must be an RFC 3339 time such as 2026-11-22T08:00:00Z or a date "
	                 "YYYY-MM-DD",
	                 key);
}

int api_query_range(const struct req *rq, int64_t *from, int64_t *to, struct resp *rs)
{
	int status;
	if ((status = api_query_time(rq, "from", from, rs)) ||
	    (status = api_query_time(rq, "to", to, rs)))
		return status;
	if (*from && *to && *to < *from)
		return api_error(rs, 422, "validation_failed", "to", "to must not be before from");
	return 0;
}

int api_query_bool(const struct req *rq, const char *key, bool *out, struct resp *rs)
{
	const char *v = http_req_query(rq, key);
	if (!v)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return api_error(rs, 422, "validation_failed", key, "%s must be true or false",
		                 key);
	return 0;
}

json_t *api_time(int64_t t)
{
	char s[TIME_RFC3339_LEN];
	return t ? json_string(time_fmt_rfc3339(t, s)) : json_null();
}

/* Writes ------------------------------------------------------------------- */

struct wrap {
	struct api_write w;
	api_write_fn fn;
	unsigned char hash[CRYPTO_SHA256_LEN];
	int status;
};

static void request_hash(const struct req *rq, unsigned char out[CRYPTO_SHA256_LEN])
{
	struct crypto_sha256_state *s = crypto_sha256_begin();
	crypto_sha256_add(s, rq->method, strlen(rq->method) + 1);
	crypto_sha256_add(s, rq->path, strlen(rq->path) + 1);
	if (rq->route && (rq->route->flags & R_STREAM)) {
		/* an upload: its media type (the same bytes read as CSV or as
		 * NDJSON are another request) and its spooled bytes */
		char type[64];
		const char *ct = rq->content_type ? rq->content_type : "";
		ct += strspn(ct, " ");
		size_t t = 0;
		for (; ct[t] && ct[t] != ';' && ct[t] != ' ' && t + 1 < sizeof type; t++)
			type[t] = (char)tolower((unsigned char)ct[t]);
		type[t] = '\0';
		crypto_sha256_add(s, type, t + 1);
		char chunk[65536];
		ssize_t n;
		off_t off = 0;
		while (rq->body_fd >= 0 && (n = pread(rq->body_fd, chunk, sizeof chunk, off)) > 0) {
			crypto_sha256_add(s, chunk, (size_t)n);
			off += n;
		}
	} else if (rq->raw_body) {
		crypto_sha256_add(s, rq->raw_body, rq->raw_len);
	}
	crypto_sha256_end(s, out);
}

/* Turn a stored record into the response: the stored bytes, unchanged. */
static int replay(struct resp *rs, struct idem_record *r, const unsigned char hash[32])
{
	if (!crypto_equal(r->request_hash, hash, 32))
		return api_error(rs, 409, "idempotency_mismatch", NULL,
		                 "this Idempotency-Key was used with a different request");
	json_decref(rs->body);
	rs->body = NULL;
	free(rs->raw);
	rs->raw = r->body;
	rs->raw_len = strlen(r->body);
	r->body = NULL;
	free(rs->location);
	rs->location = r->location;
	r->location = NULL;
	rs->replayed = true;
	return r->status;
}

static void resp_reset(struct resp *rs)
{
	json_decref(rs->body);
	rs->body = NULL;
	free(rs->raw);
	rs->raw = NULL;
	free(rs->location);
	rs->location = NULL;
}

static int write_audit(struct store_db *db, const struct req *rq, const struct principal *who,
                       const char *action, const char *target_type, int64_t target_id, int status,
                       json_t *detail)
{
	char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	struct audit_entry e = {
	    .at = time_now(),
	    .actor = who ? who->key : "anonymous",
	    .actor_name = who ? who->name : NULL,
	    .action = action,
	    .target_type = target_type,
	    .target_id = target_id,
	    .method = rq ? rq->method : NULL,
	    .path = rq ? rq->path : NULL,
	    .status = status,
	    .ip = rq ? rq->ip : NULL,
	    .detail = d,
	};
	int rc = store_audit_insert(db, &e);
	free(d);
	return rc;
}

static int wrapped(struct store_db *db, void *ctx)
{
	struct wrap *x = ctx;
	const struct req *rq = x->w.rq;
	struct resp *rs = x->w.rs;
	bool idem = rq->idem_key && rq->who;
	if (idem) {
		/* The authoritative check: inside the write transaction, so two
		 * concurrent requests with one key cannot both run. */
		struct idem_record r = {0};
		int st = store_idem_get(db, rq->who->key, rq->idem_key, &r);
		if (st == ST_OK) {
			x->status = replay(rs, &r, x->hash);
			idem_record_clear(&r);
			return 0;
		}
		if (st != ST_NOT_FOUND)
			return -st;
	}
	int rc = store_savepoint(db, "api");
	if (rc < 0)
		return rc;
	int status = x->fn(db, &x->w);
	if (status < 0 || status >= 400)
		store_rollback_to(db, "api");
	store_release(db, "api");
	if (status < 0)
		return status;
	if (status < 400) {
		int st = write_audit(db, rq, rq->who, x->w.action, x->w.target_type, x->w.target_id,
		                     status, x->w.detail);
		if (st != ST_OK)
			return -st;
	}
	if (idem) {
		/* Serialise once and send exactly those bytes, so the first answer
		 * and every replay are byte for byte the same. */
		char *stored = NULL;
		if (rs->body) {
			/* A secret shown once (a new token) is not kept: its replay
			 * carries null in its place. */
			if (x->w.redact_field && json_object_get(rs->body, x->w.redact_field)) {
				json_t *copy = json_copy(rs->body);
				json_object_set_new(copy, x->w.redact_field, json_null());
				stored = json_dumps(copy, JSON_COMPACT);
				json_decref(copy);
			}
			free(rs->raw);
			rs->raw = json_dumps(rs->body, JSON_COMPACT);
			rs->raw_len = strlen(rs->raw);
			json_decref(rs->body);
			rs->body = NULL;
		}
		struct idem_record r = {.status = status,
		                        .body = stored    ? stored
		                                : rs->raw ? rs->raw
		                                          : (char *)"",
		                        .location = rs->location};
		memcpy(r.request_hash, x->hash, 32);
		int st = store_idem_put(db, rq->who->key, rq->idem_key, &r, time_now());
		free(stored);
		if (st != ST_OK)
			return -st;
	}
	x->status = status;
	return 0;
}

int api_write(const struct req *rq, struct resp *rs, const char *action, const char *target_type,
              api_write_fn fn, void *arg)
{
	struct wrap x = {
	    .w = {.rq = rq, .rs = rs, .arg = arg, .action = action, .target_type = target_type},
	    .fn = fn,
	};
	if (rq->idem_key)
		request_hash(rq, x.hash);
	int r = store_write(wrapped, &x);
	json_decref(x.w.detail);
	if (r < 0) {
		resp_reset(rs);
		return api_store_error(rs, r);
	}
	return x.status;
}

int api_idem_replay(const struct req *rq, struct resp *rs)
{
	if (!rq->idem_key || !rq->who)
		return 0;
	unsigned char hash[32];
	request_hash(rq, hash);
	struct idem_record r = {0};
	int st = store_idem_get(store_reader(), rq->who->key, rq->idem_key, &r);
	int status = 0;
	if (st == ST_OK)
		status = replay(rs, &r, hash);
	idem_record_clear(&r);
	return status;
}

struct async_audit {
	struct principal who;
	bool have_who;
	char *action, *target_type, *method, *path, *ip;
	int64_t target_id;
	int status;
	json_t *detail;
};

static int async_audit_fn(struct store_db *db, void *ctx)
{
	struct async_audit *a = ctx;
	struct req rq = {.method = a->method, .path = a->path, .ip = a->ip};
	int st = write_audit(db, &rq, a->have_who ? &a->who : NULL, a->action, a->target_type,
	                     a->target_id, a->status, a->detail);
	return st == ST_OK ? 0 : -st;
}

static void async_audit_free(void *ctx)
{
	struct async_audit *a = ctx;
	free(a->action);
	free(a->target_type);
	free(a->method);
	free(a->path);
	free(a->ip);
	json_decref(a->detail);
	free(a);
}

void api_audit_async(const struct req *rq, const struct principal *who, const char *action,
                     const char *target_type, int64_t target_id, int status, json_t *detail)
{
	struct async_audit *a = xcalloc(1, sizeof *a);
	if (who) {
		a->who = *who;
		a->have_who = true;
	}
	a->action = xstrdup(action);
	a->target_type = xstrdup(target_type);
	a->method = xstrdup(rq->method);
	a->path = xstrdup(rq->path);
	a->ip = xstrdup(rq->ip);
	a->target_id = target_id;
	a->status = status;
	a->detail = detail;
	store_write_async(async_audit_fn, a, async_audit_free);
}

/* Shared checks ---------------------------------------------------------------------------- */

int api_check_empty_body(const struct req *rq, struct resp *rs)
{
	static const struct jfield none[] = {{NULL, 0, 0, 0}};
	return rq->body ? api_check_object(rq->body, none, "", rs) : 0;
}

int api_check_url(struct resp *rs, const char *field, const char *url)
{
	const char *host = !url                               ? NULL
	                   : strncmp(url, "http://", 7) == 0  ? url + 7
	                   : strncmp(url, "https://", 8) == 0 ? url + 8
	                                                      : NULL;
	bool ok = host && strlen(url) <= 2000 && *host && !strchr("/?#", *host);
	for (const char *p = url; ok && *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			ok = false;
	if (!ok)
		return api_error(rs, 422, "validation_failed", field,
		                 "%s must be an http:// or https:// URL (2,000 characters at most, "
		                 "no spaces)",
		                 field);
	return 0;
}

bool api_code_ok(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

int api_check_ids(const json_t *body, const char *key, bool required, struct resp *rs)
{
	const json_t *l = json_object_get(body, key);
	if (!l && !required)
		return 0;
	if (json_array_size(l) < 1 || json_array_size(l) > 1000)
		return api_error(rs, 422, "validation_failed", key, "%s must list 1 to 1000 ids",
		                 key);
	for (size_t i = 0; i < json_array_size(l); i++) {
		const json_t *v = json_array_get(l, i);
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			char field[64];
			snprintf(field, sizeof field, "%s[%zu]", key, i);
			return api_error(rs, 422, "validation_failed", field, "%s must be an id",
			                 field);
		}
	}
	return 0;
}

/* Resource handlers ------------------------------------------------------------------------ */

int api_list_page(const struct req *rq, struct resp *rs, api_fetch_fn fetch, api_count_fn count)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct store_db *db = store_reader();
	json_t *data = json_array();
	store_read_begin(db);
	int st = fetch(db, pg.after, pg.limit + 1, data);
	int64_t total = st == ST_OK && pg.count && count ? count(db) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

int api_get_by_id(const struct req *rq, struct resp *rs, api_get_fn get, const char *what)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	json_t *out = NULL;
	int st = get(store_reader(), id, &out);
	if (st == ST_OK) {
		rs->body = out;
		return 200;
	}
	json_decref(out);
	if (st == ST_NOT_FOUND)
		return api_error(rs, 404, "not_found", NULL, "no such %s", what);
	return api_store_error(rs, st);
}

struct delete_ctx {
	int64_t id;
	int (*del)(struct store_db *db, int64_t id);
	const char *what, *conflict_msg;
};

static int delete_fn(struct store_db *db, struct api_write *w)
{
	const struct delete_ctx *x = w->arg;
	int st = x->del(db, x->id);
	if (st == ST_NOT_FOUND)
		return api_error(w->rs, 404, "not_found", NULL, "no such %s", x->what);
	if (st == ST_CONFLICT && x->conflict_msg)
		return api_error(w->rs, 409, "conflict", NULL, "%s", x->conflict_msg);
	if (st != ST_OK)
		return -st;
	w->target_id = x->id;
	return 204;
}

int api_delete_by_id(const struct req *rq, struct resp *rs, const char *action,
                     const char *target_type, int (*del)(struct store_db *db, int64_t id),
                     const char *what, const char *conflict_msg)
{
	int status = 0;
	struct delete_ctx x = {.id = api_path_id(rq, 0, rs, &status),
	                       .del = del,
	                       .what = what,
	                       .conflict_msg = conflict_msg};
	return x.id ? api_write(rq, rs, action, target_type, delete_fn, &x) : status;
}

int api_write_id(const struct req *rq, struct resp *rs, const char *action, const char *target_type,
                 api_write_fn fn)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	return id ? api_write(rq, rs, action, target_type, fn, &id) : status;
}
