/* auth.c - POST /auth/login, POST /auth/logout, GET|PATCH /me. */
#include "internal.h"

#include "scrm/config.h"
#include "scrm/core_ratelimit.h"
#include "scrm/crypto.h"
#include "scrm/http_auth.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ratelimit *limiter;
static pthread_once_t limiter_once = PTHREAD_ONCE_INIT;

static void limiter_init(void)
{
	const struct scrm_config *c = api_config();
	limiter = ratelimit_new(8192, c->login_max_failures, c->login_window_s);
}

void api_auth_shutdown(void);
void api_auth_shutdown(void)
{
	ratelimit_free(limiter);
	limiter = NULL;
}

/* A hash of a password nobody has, verified when the user does not exist, so
 * that "no such user" takes as long as "wrong password". */
static char *dummy_hash;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void dummy_init(void)
{
	dummy_hash = crypto_password_hash("no such user: equalise the timing", 0);
}

static bool cookie_secure(const struct req *rq)
{
	const char *m = api_config()->cookie_secure;
	if (str_eq(m, "always"))
		return true;
	if (str_eq(m, "never"))
		return false;
	return rq->secure;
}

static void set_cookie(const struct req *rq, struct resp *rs, const char *value, int64_t max_age)
{
	char c[256];
	snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
	         HTTP_SESSION_COOKIE, value, (long long)max_age,
	         cookie_secure(rq) ? "; Secure" : "");
	http_resp_header(rs, "Set-Cookie", c);
	crypto_wipe(c, sizeof c);
}

struct login {
	struct user *u;
	unsigned char hash[CRYPTO_SHA256_LEN];
	char *csrf;
	int64_t expires_at;
};

static int login_fn(struct store_db *db, struct api_write *w)
{
	struct login *l = w->arg;
	struct session s = {.user_id = l->u->id,
	                    .csrf_token = l->csrf,
	                    .created_at = time_now(),
	                    .expires_at = l->expires_at};
	int st = store_session_insert(db, l->hash, &s, w->rq->ip, w->rq->user_agent);
	if (st != ST_OK)
		return -st;
	w->target_id = l->u->id;
	w->rs->body = json_pack("{s:o, s:s, s:o}", "user", api_user_json(l->u), "csrf_token",
	                        l->csrf, "expires_at", api_time(l->expires_at));
	return 200;
}

int api_auth_login(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"username", J_STRING, JF_REQUIRED, 64},
	    {"password", J_STRING, JF_REQUIRED, 1024},
	    {NULL, 0, 0, 0},
	};
	int status = api_check_object(rq->body, spec, "", rs);
	if (status)
		return status;
	pthread_once(&limiter_once, limiter_init);
	pthread_once(&dummy_once, dummy_init);
	const char *username = api_get_str(rq->body, "username");
	const char *password = api_get_str(rq->body, "password");

	char ipkey[96], userkey[96];
	snprintf(ipkey, sizeof ipkey, "ip:%s", rq->ip ? rq->ip : "-");
	snprintf(userkey, sizeof userkey, "user:%s", username);
	for (char *p = userkey; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	int64_t now = time_now();
	int64_t wait = ratelimit_wait(limiter, ipkey, now);
	int64_t wait_user = ratelimit_wait(limiter, userkey, now);
	if (wait_user > wait)
		wait = wait_user;
	if (wait > 0) {
		char ra[24];
		snprintf(ra, sizeof ra, "%lld", (long long)wait);
		http_resp_header(rs, "Retry-After", ra);
		return api_error(rs, 429, "rate_limited", NULL,
		                 "too many failed logins; try again in %lld seconds",
		                 (long long)wait);
	}

	struct user u = {0};
	int st = store_user_by_name(store_reader(), username, &u);
	if (st != ST_OK && st != ST_NOT_FOUND) {
		user_clear(&u);
		return api_store_error(rs, st);
	}
	bool ok = crypto_password_verify(password, st == ST_OK ? u.password_hash : dummy_hash);
	if (!ok || st != ST_OK || u.disabled) {
		ratelimit_fail(limiter, ipkey, now);
		ratelimit_fail(limiter, userkey, now);
		api_audit_async(rq, NULL, "auth.login_failed", "user", st == ST_OK ? u.id : 0, 401,
		                json_pack("{s:s}", "username", username));
		user_clear(&u);
		return api_error(rs, 401, "unauthorized", NULL, "wrong user name or password");
	}
	ratelimit_reset(limiter, userkey);

	char *token = crypto_token_new("");
	struct login l = {.u = &u,
	                  .csrf = crypto_token_new(""),
	                  .expires_at = now + (int64_t)api_config()->session_hours * 3600};
	crypto_sha256(token, strlen(token), l.hash);
	struct principal who;
	http_principal_user(&who, u.id, u.username, u.role, 0, NULL);
	struct req as_user = *rq;
	as_user.who = &who;
	as_user.idem_key = NULL;
	status = api_write(&as_user, rs, "auth.login", "user", login_fn, &l);
	if (status == 200)
		set_cookie(rq, rs, token, (int64_t)api_config()->session_hours * 3600);
	crypto_wipe(token, strlen(token));
	free(token);
	free(l.csrf);
	user_clear(&u);
	return status;
}

static int logout_fn(struct store_db *db, struct api_write *w)
{
	int st = store_session_delete(db, w->rq->who->session_id);
	if (st != ST_OK)
		return -st;
	w->target_id = w->rq->who->id;
	return 204;
}

int api_auth_logout(const struct req *rq, struct resp *rs)
{
	int status = api_check_empty_body(rq, rs);
	if (status)
		return status;
	if (rq->who && rq->who->kind == PRINCIPAL_USER && rq->who->session_id) {
		struct req r = *rq;
		r.idem_key = NULL;
		status = api_write(&r, rs, "auth.logout", "user", logout_fn, NULL);
	} else {
		status = 204;
	}
	if (status == 204)
		set_cookie(rq, rs, "", 0);
	return status;
}

static int me_json(const struct req *rq, struct resp *rs, const struct user *u)
{
	const struct principal *who = rq->who;
	json_t *o = json_object();
	json_object_set_new(o, "role", json_string(core_role_name(who->role)));
	json_object_set_new(o, "auth", json_string(who->via_cookie ? "session" : "token"));
	json_object_set_new(o, "user", u ? api_user_json(u) : json_null());
	if (who->kind == PRINCIPAL_TOKEN)
		json_object_set_new(
		    o, "token",
		    json_pack("{s:I, s:s}", "id", (json_int_t)who->id, "name", who->name));
	else
		json_object_set_new(o, "token", json_null());
	if (who->via_cookie)
		json_object_set_new(o, "csrf_token", json_string(who->csrf));
	rs->body = o;
	return 200;
}

int api_me_get(const struct req *rq, struct resp *rs)
{
	if (rq->who->kind != PRINCIPAL_USER)
		return me_json(rq, rs, NULL);
	struct user u = {0};
	int st = store_user_get(store_reader(), rq->who->id, &u);
	int status = st == ST_OK ? me_json(rq, rs, &u) : api_store_error(rs, st);
	user_clear(&u);
	return status;
}

/* GET /auth/session: who is signed in, without a 401 when nobody is (the
 * dashboard's first question, asked before it knows whether to show the login). */
int api_auth_session(const struct req *rq, struct resp *rs)
{
	if (rq->who)
		return api_me_get(rq, rs);
	rs->body = json_pack("{s:n, s:n, s:n, s:n}", "user", "role", "auth", "token");
	return 200;
}

struct me_patch {
	const json_t *body;
	char *new_hash;
};

static int me_patch_fn(struct store_db *db, struct api_write *w)
{
	struct me_patch *m = w->arg;
	const struct principal *who = w->rq->who;
	struct user u = {0};
	int st = store_user_get(db, who->id, &u);
	if (st != ST_OK) {
		user_clear(&u);
		return -st;
	}
	json_t *changed = json_array();
	const char *dn = api_get_str(m->body, "display_name");
	if (dn) {
		free(u.display_name);
		u.display_name = xstrdup(dn);
		json_array_append_new(changed, json_string("display_name"));
	}
	if (m->new_hash) {
		free(u.password_hash);
		u.password_hash = xstrdup(m->new_hash);
		json_array_append_new(changed, json_string("password"));
	}
	u.updated_at = time_now();
	st = store_user_update(db, &u);
	/* a new password ends every other session of this user */
	if (st == ST_OK && m->new_hash)
		st = store_session_delete_user(db, u.id, who->session_id);
	if (st != ST_OK) {
		json_decref(changed);
		user_clear(&u);
		return -st;
	}
	w->target_id = u.id;
	w->detail = json_pack("{s:o}", "changed", changed);
	w->rs->body = api_user_json(&u);
	user_clear(&u);
	return 200;
}

int api_me_patch(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"display_name", J_STRING, 0, 400},
	    {"password", J_STRING, 0, 1024},
	    {"current_password", J_STRING, 0, 1024},
	    {NULL, 0, 0, 0},
	};
	int status = api_check_object(rq->body, spec, "", rs);
	if (status)
		return status;
	if (rq->who->kind != PRINCIPAL_USER)
		return api_error(rs, 403, "forbidden", NULL,
		                 "an API token has no profile; log in as a user to change it");
	const char *dn = api_get_str(rq->body, "display_name");
	if (dn && (status = api_check_label(rs, "display_name", dn, 100, true)))
		return status;
	struct me_patch m = {.body = rq->body};
	const char *pw = api_get_str(rq->body, "password");
	if (pw) {
		const char *why = core_password_problem(pw);
		if (why)
			return api_error(rs, 422, "validation_failed", "password", "password %s",
			                 why);
		const char *cur = api_get_str(rq->body, "current_password");
		if (!cur)
			return api_error(rs, 422, "validation_failed", "current_password",
			                 "current_password is required to set a new password");
		struct user u = {0};
		int st = store_user_get(store_reader(), rq->who->id, &u);
		bool ok = st == ST_OK && crypto_password_verify(cur, u.password_hash);
		user_clear(&u);
		if (st != ST_OK)
			return api_store_error(rs, st);
		if (!ok)
			return api_error(rs, 422, "validation_failed", "current_password",
			                 "current_password is wrong");
		m.new_hash = crypto_password_hash(pw, api_config()->pbkdf2_iterations);
	}
	status = api_write(rq, rs, "user.update_self", "user", me_patch_fn, &m);
	free(m.new_hash);
	return status;
}
