/* users.c - /users: the people who log in to the dashboard (admin only).
 * DELETE deactivates: the row stays, so that the audit log, ownership of
 * customers and tasks keep pointing at a real person, and the name stays taken. */
#include "internal.h"

#include "scrm/config.h"
#include "scrm/crypto.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

json_t *api_user_json(const struct user *u)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:b, s:o, s:o}", "id", (json_int_t)u->id, "username",
	                 u->username, "display_name", u->display_name ? u->display_name : "",
	                 "role", u->role, "disabled", u->disabled, "created_at",
	                 api_time(u->created_at), "updated_at", api_time(u->updated_at));
}

int api_check_label(struct resp *rs, const char *field, const char *value, unsigned max,
                    bool allow_empty)
{
	const char *why = core_label_problem(value, max, allow_empty);
	if (!why)
		return 0;
	if (strcmp(why, "is too long") == 0)
		return api_error(rs, 422, "validation_failed", field,
		                 "%s is too long (%u characters at most)", field, max);
	return api_error(rs, 422, "validation_failed", field, "%s %s", field, why);
}

static int check_role(struct resp *rs, const json_t *body)
{
	const char *role = api_get_str(body, "role");
	if (role && core_role_parse(role) == ROLE_NONE)
		return api_error(rs, 422, "validation_failed", "role",
		                 "role must be one of admin, operator, viewer");
	return 0;
}

struct page_acc {
	json_t *data;
};

static void add_user(void *arg, const struct user *u)
{
	struct page_acc *a = arg;
	json_array_append_new(a->data, api_user_json(u));
}

int api_users_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct store_db *db = store_reader();
	struct page_acc a = {.data = json_array()};
	store_read_begin(db);
	int st = store_user_list(db, pg.after, pg.limit + 1, add_user, &a);
	int64_t total = pg.count ? store_user_count(db) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(a.data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(a.data, api_page_trim(a.data, pg.limit, "id"), total);
	return 200;
}

int api_users_get(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct user u = {0};
	int st = store_user_get(store_reader(), id, &u);
	status = st == ST_OK ? (rs->body = api_user_json(&u), 200) : api_store_error(rs, st);
	user_clear(&u);
	return status;
}

static int create_fn(struct store_db *db, struct api_write *w)
{
	struct user *u = w->arg;
	int st = store_user_insert(db, u);
	if (st == ST_CONFLICT)
		return api_error(w->rs, 409, "conflict", "username", "the user name %s is taken",
		                 u->username);
	if (st != ST_OK)
		return -st;
	w->target_id = u->id;
	w->detail = json_pack("{s:s, s:s}", "username", u->username, "role", u->role);
	w->rs->body = api_user_json(u);
	w->rs->location = xasprintf("/api/v1/users/%lld", (long long)u->id);
	return 201;
}

int api_users_create(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"username", J_STRING, JF_REQUIRED, 64},
	    {"display_name", J_STRING, 0, 400},
	    {"role", J_STRING, JF_REQUIRED, 16},
	    {"password", J_STRING, JF_REQUIRED, 1024},
	    {NULL, 0, 0, 0},
	};
	int status = api_check_object(rq->body, spec, "", rs);
	if (status || (status = check_role(rs, rq->body)))
		return status;
	const char *username = api_get_str(rq->body, "username");
	const char *why = core_username_problem(username);
	if (why)
		return api_error(rs, 422, "validation_failed", "username", "username %s", why);
	const char *dn = api_get_str(rq->body, "display_name");
	if (dn && (status = api_check_label(rs, "display_name", dn, 100, true)))
		return status;
	const char *pw = api_get_str(rq->body, "password");
	if ((why = core_password_problem(pw)))
		return api_error(rs, 422, "validation_failed", "password", "password %s", why);
	/* hash here, on the request's worker, never inside the writer */
	struct user u = {
	    .username = xstrdup(username),
	    .display_name = xstrdup(dn ? dn : ""),
	    .role = xstrdup(api_get_str(rq->body, "role")),
	    .password_hash = crypto_password_hash(pw, api_config()->pbkdf2_iterations),
	};
	status = api_write(rq, rs, "user.create", "user", create_fn, &u);
	user_clear(&u);
	return status;
}

struct patch {
	int64_t id;
	const json_t *body;
	char *new_hash;
	bool deactivate; /* DELETE */
};

/* The last enabled admin cannot be demoted or disabled: nobody could undo it. */
static int keeps_an_admin(struct store_db *db, const struct user *before, const struct user *after)
{
	bool was = !before->disabled && strcmp(before->role, "admin") == 0;
	bool is = !after->disabled && strcmp(after->role, "admin") == 0;
	if (!was || is)
		return 1;
	int64_t others = store_admins_active(db, before->id);
	return others < 0 ? -1 : others > 0;
}

static int patch_fn(struct store_db *db, struct api_write *w)
{
	struct patch *p = w->arg;
	struct user before = {0}, u = {0};
	int st = store_user_get(db, p->id, &before);
	if (st == ST_OK)
		st = store_user_get(db, p->id, &u);
	if (st != ST_OK) {
		user_clear(&before);
		user_clear(&u);
		return st == ST_NOT_FOUND ? api_error(w->rs, 404, "not_found", NULL, "no such user")
		                          : -st;
	}
	json_t *changed = json_array();
	const char *dn = api_get_str(p->body, "display_name");
	const char *role = api_get_str(p->body, "role");
	const json_t *dis = json_object_get(p->body, "disabled");
	if (dn) {
		free(u.display_name);
		u.display_name = xstrdup(dn);
		json_array_append_new(changed, json_string("display_name"));
	}
	if (role) {
		free(u.role);
		u.role = xstrdup(role);
		json_array_append_new(changed, json_string("role"));
	}
	if (json_is_boolean(dis) || p->deactivate) {
		u.disabled = p->deactivate || json_is_true(dis);
		json_array_append_new(changed, json_string("disabled"));
	}
	if (p->new_hash) {
		free(u.password_hash);
		u.password_hash = xstrdup(p->new_hash);
		json_array_append_new(changed, json_string("password"));
	}
	int status;
	int keeps = keeps_an_admin(db, &before, &u);
	if (keeps < 0) {
		status = -ST_ERR;
	} else if (!keeps) {
		status = api_error(w->rs, 409, "conflict",
		                   p->deactivate ? NULL
		                   : role        ? "role"
		                                 : "disabled",
		                   "at least one enabled admin must remain");
	} else {
		u.updated_at = time_now();
		st = store_user_update(db, &u);
		/* Sessions end when the person is switched off or their password or
		 * role changes: the next login picks up the new state. */
		if (st == ST_OK && (u.disabled || p->new_hash || strcmp(before.role, u.role) != 0))
			st = store_session_delete_user(db, u.id, 0);
		if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = u.id;
			w->detail = json_pack("{s:O}", "changed", changed);
			if (role)
				json_object_set_new(w->detail, "role", json_string(role));
			if (!p->deactivate)
				w->rs->body = api_user_json(&u);
			status = p->deactivate ? 204 : 200;
		}
	}
	json_decref(changed);
	user_clear(&before);
	user_clear(&u);
	return status;
}

int api_users_patch(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"display_name", J_STRING, 0, 400},
	    {"role", J_STRING, 0, 16},
	    {"password", J_STRING, 0, 1024},
	    {"disabled", J_BOOL, 0, 0},
	    {NULL, 0, 0, 0},
	};
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = api_check_object(rq->body, spec, "", rs)) ||
	    (status = check_role(rs, rq->body)))
		return status;
	if (json_is_true(json_object_get(rq->body, "disabled")) &&
	    rq->who->kind == PRINCIPAL_USER && rq->who->id == id)
		return api_error(rs, 409, "conflict", "disabled", "you cannot deactivate yourself");
	const char *dn = api_get_str(rq->body, "display_name");
	if (dn && (status = api_check_label(rs, "display_name", dn, 100, true)))
		return status;
	struct patch p = {.id = id, .body = rq->body};
	const char *pw = api_get_str(rq->body, "password");
	if (pw) {
		const char *why = core_password_problem(pw);
		if (why)
			return api_error(rs, 422, "validation_failed", "password", "password %s",
			                 why);
		p.new_hash = crypto_password_hash(pw, api_config()->pbkdf2_iterations);
	}
	status = api_write(rq, rs, "user.update", "user", patch_fn, &p);
	free(p.new_hash);
	return status;
}

int api_users_delete(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if (rq->who->kind == PRINCIPAL_USER && rq->who->id == id)
		return api_error(rs, 409, "conflict", NULL, "you cannot deactivate yourself");
	struct patch p = {.id = id, .body = NULL, .deactivate = true};
	return api_write(rq, rs, "user.deactivate", "user", patch_fn, &p);
}
