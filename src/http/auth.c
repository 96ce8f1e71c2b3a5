/* auth.c - Bearer tokens and session cookies. Both are random 256-bit values
 * whose SHA-256 is the lookup key, so the database never holds a usable secret. */
#include "scrm/http_auth.h"

#include "scrm/config.h"
#include "scrm/api.h"
#include "scrm/crypto.h"
#include "scrm/store_auth.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Last-use times are bookkeeping: written at most once a minute per credential,
 * off the request path. */
#define TOUCH_EVERY_S 60

bool http_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl + 1 > cap)
				return false;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

void http_principal_user(struct principal *who, int64_t user_id, const char *username,
                         const char *role, int64_t session_id, const char *csrf)
{
	memset(who, 0, sizeof *who);
	who->kind = PRINCIPAL_USER;
	who->id = user_id;
	who->session_id = session_id;
	who->role = core_role_parse(role);
	who->via_cookie = session_id != 0;
	snprintf(who->key, sizeof who->key, "user:%lld", (long long)user_id);
	snprintf(who->name, sizeof who->name, "%s", username);
	if (csrf)
		snprintf(who->csrf, sizeof who->csrf, "%s", csrf);
}

struct touch {
	int64_t id;
	bool session;
};

static int touch_fn(struct store_db *db, void *ctx)
{
	struct touch *t = ctx;
	int64_t now = time_now();
	int st =
	    t->session ? store_session_touch(db, t->id, now) : store_token_touch(db, t->id, now);
	return st == ST_OK || st == ST_NOT_FOUND ? 0 : -st;
}

static void touch_later(int64_t id, bool session)
{
	struct touch *t = xmalloc(sizeof *t);
	t->id = id;
	t->session = session;
	store_write_async(touch_fn, t, free);
}

static enum auth_result bearer(const char *token, struct principal *who)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	crypto_sha256(token, strlen(token), h);
	struct api_token t = {0};
	int st = store_token_by_hash(store_reader(), h, &t);
	enum auth_result res = AUTH_BAD;
	int64_t now = time_now();
	if (st == ST_OK && !t.revoked_at && (!t.expires_at || t.expires_at > now) &&
	    core_role_parse(t.role) != ROLE_NONE) {
		memset(who, 0, sizeof *who);
		who->kind = PRINCIPAL_TOKEN;
		who->id = t.id;
		who->role = core_role_parse(t.role);
		snprintf(who->key, sizeof who->key, "token:%lld", (long long)t.id);
		snprintf(who->name, sizeof who->name, "%s", t.name);
		if (now - t.last_used_at >= TOUCH_EVERY_S)
			touch_later(t.id, false);
		res = AUTH_OK;
	}
	api_token_clear(&t);
	return res;
}

static enum auth_result session(const char *value, struct principal *who)
{
	const struct scrm_config *cfg = api_config();
	unsigned char h[CRYPTO_SHA256_LEN];
	crypto_sha256(value, strlen(value), h);
	struct session s = {0};
	struct user u = {0};
	enum auth_result res = AUTH_BAD;
	int64_t now = time_now();
	int st = store_session_get(store_reader(), h, &s, &u);
	if (st == ST_OK && !u.disabled && s.expires_at > now &&
	    s.last_seen_at > now - (int64_t)cfg->session_idle_minutes * 60) {
		http_principal_user(who, u.id, u.username, u.role, s.id, s.csrf_token);
		if (now - s.last_seen_at >= TOUCH_EVERY_S)
			touch_later(s.id, true);
		res = AUTH_OK;
	}
	session_clear(&s);
	user_clear(&u);
	return res;
}

enum auth_result http_auth_resolve(const char *authorization, const char *cookie,
                                   struct principal *who)
{
	if (authorization) {
		if (strncasecmp(authorization, "Bearer ", 7) != 0)
			return AUTH_BAD;
		const char *t = authorization + 7;
		while (*t == ' ')
			t++;
		if (!*t || strlen(t) > 256)
			return AUTH_BAD;
		return bearer(t, who);
	}
	char value[128];
	if (cookie && http_cookie_get(cookie, HTTP_SESSION_COOKIE, value, sizeof value)) {
		enum auth_result r = value[0] ? session(value, who) : AUTH_BAD;
		crypto_wipe(value, sizeof value);
		return r;
	}
	return AUTH_NONE;
}
