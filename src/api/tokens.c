/* tokens.c - /tokens: API tokens for integrations (admin only). The token text
 * is shown once, in the answer to POST; only its SHA-256 is stored. */
#include "internal.h"

#include "scrm/crypto.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN_PREFIX "scrm_"
#define SHOWN_PREFIX_LEN 12 /* "scrm_" and 7 characters: enough to tell tokens apart */

static json_t *token_json(const struct api_token *t)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)t->id,
	                 "name", t->name, "role", t->role, "prefix", t->prefix, "created_by",
	                 t->created_by ? json_integer(t->created_by) : json_null(), "created_at",
	                 api_time(t->created_at), "last_used_at", api_time(t->last_used_at),
	                 "expires_at", api_time(t->expires_at), "revoked_at",
	                 api_time(t->revoked_at));
}

struct create {
	struct api_token t;
	char *secret;
};

static int create_fn(struct store_db *db, struct api_write *w)
{
	struct create *c = w->arg;
	unsigned char h[CRYPTO_SHA256_LEN];
	crypto_sha256(c->secret, strlen(c->secret), h);
	int st = store_token_insert(db, h, &c->t);
	if (st != ST_OK)
		return -st;
	w->target_id = c->t.id;
	w->detail = json_pack("{s:s, s:s}", "name", c->t.name, "role", c->t.role);
	w->redact_field = "token";
	json_t *o = token_json(&c->t);
	json_object_set_new(o, "token", json_string(c->secret));
	w->rs->body = o;
	w->rs->location = xasprintf("/api/v1/tokens/%lld", (long long)c->t.id);
	return 201;
}

int api_tokens_create(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"name", J_STRING, JF_REQUIRED, 400},
	    {"role", J_STRING, JF_REQUIRED, 16},
	    {"expires_at", J_STRING, JF_NULLABLE, 64},
	    {NULL, 0, 0, 0},
	};
	int status = api_check_object(rq->body, spec, "", rs);
	if (status)
		return status;
	const char *name = api_get_str(rq->body, "name");
	if ((status = api_check_label(rs, "name", name, 100, false)))
		return status;
	const char *role = api_get_str(rq->body, "role");
	if (core_role_parse(role) == ROLE_NONE)
		return api_error(rs, 422, "validation_failed", "role",
		                 "role must be one of admin, operator, viewer");
	int64_t expires = 0, now = time_now();
	const char *exp = api_get_str(rq->body, "expires_at");
	if (exp && (!time_parse_rfc3339(exp, &expires) || expires <= now))
		return api_error(
		    rs, 422, "validation_failed", "expires_at",
		    "expires_at must be a future RFC 3339 time such as 2027-01-01T00:00:00Z");
	struct create c = {
	    .t = {.name = xstrdup(name),
	          .role = xstrdup(role),
	          .created_by = rq->who->kind == PRINCIPAL_USER ? rq->who->id : 0,
	          .created_at = now,
	          .expires_at = expires},
	    .secret = crypto_token_new(TOKEN_PREFIX),
	};
	c.t.prefix = xstrndup(c.secret, SHOWN_PREFIX_LEN);
	status = api_write(rq, rs, "token.create", "token", create_fn, &c);
	crypto_wipe(c.secret, strlen(c.secret));
	free(c.secret);
	api_token_clear(&c.t);
	return status;
}

struct acc {
	json_t *data;
};

static void add_token(void *arg, const struct api_token *t)
{
	struct acc *a = arg;
	json_array_append_new(a->data, token_json(t));
}

int api_tokens_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct acc a = {.data = json_array()};
	struct store_db *db = store_reader();
	store_read_begin(db);
	int st = store_token_list(db, pg.after, pg.limit + 1, add_token, &a);
	int64_t total = pg.count ? store_token_count(db) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(a.data);
		return api_store_error(rs, st);
	}
	int64_t next = api_page_trim(a.data, pg.limit, "id");
	rs->body = api_page_result(a.data, next, total);
	return 200;
}

int api_tokens_get(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct api_token t = {0};
	int st = store_token_get(store_reader(), id, &t);
	if (st == ST_OK) {
		rs->body = token_json(&t);
		status = 200;
	} else {
		status = api_store_error(rs, st);
	}
	api_token_clear(&t);
	return status;
}

static int revoke_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	int st = store_token_revoke(db, id, time_now());
	if (st == ST_NOT_FOUND)
		return api_error(w->rs, 404, "not_found", NULL, "no such token");
	if (st != ST_OK)
		return -st;
	w->target_id = id;
	return 204;
}

int api_tokens_delete(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	return api_write(rq, rs, "token.revoke", "token", revoke_fn, &id);
}
