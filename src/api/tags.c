/* tags.c - /tags: manual tags, and auto tags that apply themselves by a rule
 * of the rule language; groups, colours and exact customer counts. */
#include "internal.h"

#include "scrm/core_rules.h"
#include "scrm/core_segments.h"

#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

#define TAG_NAME_MAX 50

json_t *api_tag_json(const struct tag *t)
{
	json_t *rule = t->rule ? json_loads(t->rule, 0, NULL) : NULL;
	return json_pack("{s:I, s:s, s:o, s:o, s:s, s:o, s:I, s:o, s:o}", "id", (json_int_t)t->id,
	                 "name", t->name, "group", t->group ? json_string(t->group) : json_null(),
	                 "color", t->color ? json_string(t->color) : json_null(), "kind", t->kind,
	                 "rule", rule ? rule : json_null(), "customer_count",
	                 (json_int_t)t->customer_count, "created_at", api_time(t->created_at),
	                 "updated_at", api_time(t->updated_at));
}

static const struct jfield tag_spec[] = {
    {"name", J_STRING, 0, 200},          {"group", J_STRING, JF_NULLABLE, 200},
    {"color", J_STRING, JF_NULLABLE, 7}, {"kind", J_STRING, 0, 16},
    {"rule", J_ANY, JF_NULLABLE, 0},     {NULL, 0, 0, 0},
};

/* Check the writable fields present in body (name required when creating). */
static int check_tag_body(const json_t *body, bool create, struct resp *rs)
{
	int status = api_check_object(body, tag_spec, "", rs);
	if (status)
		return status;
	const char *name = api_get_str(body, "name");
	if (create && !name)
		return api_error(rs, 422, "validation_failed", "name", "name is required");
	if (name && (status = api_check_label(rs, "name", name, TAG_NAME_MAX, false)))
		return status;
	const char *group = api_get_str(body, "group");
	if (group && (status = api_check_label(rs, "group", group, TAG_NAME_MAX, true)))
		return status;
	const char *color = api_get_str(body, "color"), *why;
	if (color && (why = core_color_problem(color)))
		return api_error(rs, 422, "validation_failed", "color", "color %s", why);
	const char *kind = api_get_str(body, "kind");
	if (kind && strcmp(kind, "manual") != 0 && strcmp(kind, "auto") != 0)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "kind must be manual or auto");
	json_t *rule = json_object_get(body, "rule");
	bool is_auto = kind && strcmp(kind, "auto") == 0;
	if (create && is_auto && (!rule || json_is_null(rule)))
		return api_error(rs, 422, "validation_failed", "rule",
		                 "an auto tag needs a rule: who should have it");
	if (create && !is_auto && rule && !json_is_null(rule))
		return api_error(rs, 422, "validation_failed", "rule",
		                 "only auto tags have a rule (send kind: auto)");
	if (rule && !json_is_null(rule)) {
		struct rule_sql r;
		struct core_err e = {0};
		if (rules_compile(rule, "rule", time_now(), &r, &e) < 0 ||
		    core_rule_check_refs(store_reader(), rule, "rule", &e) < 0) {
			rule_sql_clear(&r);
			return api_core_error(rs, &e);
		}
		rule_sql_clear(&r);
	}
	return 0;
}

static char *rule_text(const json_t *body)
{
	json_t *rule = json_object_get(body, "rule");
	return rule && !json_is_null(rule) ? json_dumps(rule, JSON_COMPACT) : NULL;
}

/* An auto tag's holders after its rule was set: evaluated now. */
static int apply_rule(struct store_db *db, struct api_write *w, struct tag *t)
{
	struct core_err e = {0};
	int64_t added = 0, removed = 0;
	if (core_autotag_evaluate(db, t->id, time_now(), &added, &removed, &e) < 0)
		return api_core_error(w->rs, &e);
	tag_clear(t);
	int st = store_tag_get(db, w->target_id, t); /* the fresh count */
	if (st != ST_OK)
		return -st;
	json_object_set_new(w->detail, "added", json_integer(added));
	json_object_set_new(w->detail, "removed", json_integer(removed));
	return 0;
}

static void take(char **slot, const json_t *body, const char *key)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return;
	free(*slot);
	*slot = xstrdup(json_string_value(v));
}

static int create_fn(struct store_db *db, struct api_write *w)
{
	const json_t *body = w->rq->body;
	const char *kind = api_get_str(body, "kind");
	struct tag t = {.kind = xstrdup(kind ? kind : "manual"),
	                .created_at = time_now(),
	                .rule = rule_text(body)};
	take(&t.name, body, "name");
	take(&t.group, body, "group");
	take(&t.color, body, "color");
	int st = store_tag_insert(db, &t);
	int status;
	if (st == ST_CONFLICT) {
		struct tag have = {0};
		store_tag_by_name(db, t.name, &have);
		status = api_error(w->rs, 409, "conflict", "name", "a tag named %s exists", t.name);
		json_object_set_new(json_object_get(w->rs->body, "error"), "id",
		                    json_integer(have.id));
		tag_clear(&have);
	} else if (st != ST_OK) {
		status = -st;
	} else {
		w->target_id = t.id;
		w->detail = json_pack("{s:s, s:s}", "name", t.name, "kind", t.kind);
		status = t.rule ? apply_rule(db, w, &t) : 0;
		if (status == 0) {
			w->rs->body = api_tag_json(&t);
			w->rs->location = xasprintf("/api/v1/tags/%lld", (long long)t.id);
			status = 201;
		}
	}
	tag_clear(&t);
	return status;
}

int api_tags_create(const struct req *rq, struct resp *rs)
{
	int status = check_tag_body(rq->body, true, rs);
	return status ? status : api_write(rq, rs, "tag.create", "tag", create_fn, NULL);
}

static int update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	const json_t *body = w->rq->body;
	struct tag t = {0};
	int st = store_tag_get(db, id, &t);
	int status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such tag");
	} else if (st != ST_OK) {
		status = -st;
	} else {
		take(&t.name, body, "name");
		take(&t.group, body, "group");
		take(&t.color, body, "color");
		char *rule = rule_text(body);
		bool new_rule = rule != NULL;
		if (rule) {
			free(t.rule);
			t.rule = rule;
		}
		t.updated_at = time_now();
		const char *kind = api_get_str(body, "kind");
		if (kind && strcmp(kind, t.kind) != 0) {
			status =
			    api_error(w->rs, 422, "validation_failed", "kind",
			              "a tag's kind cannot change (%s is %s); create a new tag",
			              t.name, t.kind);
		} else if (!new_rule && json_is_null(json_object_get(body, "rule")) &&
		           strcmp(t.kind, "auto") == 0) {
			status = api_error(
			    w->rs, 422, "validation_failed", "rule",
			    "an auto tag's rule cannot be null: send a rule, or delete the tag");
		} else if (new_rule && strcmp(t.kind, "auto") != 0) {
			status =
			    api_error(w->rs, 422, "validation_failed", "rule",
			              "%s is a manual tag: only auto tags have a rule", t.name);
		} else if ((st = store_tag_update(db, &t)) == ST_CONFLICT) {
			struct tag have = {0};
			store_tag_by_name(db, t.name, &have);
			status = api_error(w->rs, 409, "conflict", "name", "a tag named %s exists",
			                   t.name);
			json_object_set_new(json_object_get(w->rs->body, "error"), "id",
			                    json_integer(have.id));
			tag_clear(&have);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->detail = json_pack("{s:s}", "name", t.name);
			status = new_rule ? apply_rule(db, w, &t) : 0;
			if (status == 0) {
				w->rs->body = api_tag_json(&t);
				status = 200;
			}
		}
	}
	tag_clear(&t);
	return status;
}

int api_tags_patch(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id || (status = check_tag_body(rq->body, false, rs)))
		return status;
	return api_write(rq, rs, "tag.update", "tag", update_fn, &id);
}

static int delete_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct tag t = {0};
	int st = store_tag_get(db, id, &t);
	if (st == ST_OK)
		st = store_tag_delete(db, id);
	int status = st == ST_OK          ? 204
	             : st == ST_NOT_FOUND ? api_error(w->rs, 404, "not_found", NULL, "no such tag")
	                                  : -st;
	if (st == ST_OK) {
		w->target_id = id;
		w->detail = json_pack("{s:s, s:I}", "name", t.name, "customers",
		                      (json_int_t)t.customer_count);
	}
	tag_clear(&t);
	return status;
}

int api_tags_delete(const struct req *rq, struct resp *rs)
{
	return api_write_id(rq, rs, "tag.delete", "tag", delete_fn);
}

API_GETTER(get_tags, tag, store_tag_get, api_tag_json, tag_clear);

int api_tags_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_tags, "tag");
}

static void add_tag(void *arg, const struct tag *t)
{
	json_array_append_new(arg, api_tag_json(t));
}

int api_tags_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct tag_filter f = {.group = http_req_query(rq, "group"),
	                       .kind = http_req_query(rq, "kind"),
	                       .q = http_req_query(rq, "q")};
	if (f.kind && strcmp(f.kind, "manual") != 0 && strcmp(f.kind, "auto") != 0)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "kind must be manual or auto");
	if (f.q && strlen(f.q) > 100)
		return api_error(rs, 422, "validation_failed", "q",
		                 "q is too long (100 bytes at most)");
	if (f.q && !*f.q)
		f.q = NULL;
	struct store_db *db = store_reader();
	json_t *data = json_array();
	store_read_begin(db);
	int st = store_tag_list(db, &f, pg.after, pg.limit + 1, add_tag, data);
	int64_t total = pg.count ? store_tag_count(db, &f) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

static int evaluate_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct core_err e = {0};
	int64_t added = 0, removed = 0;
	if (core_autotag_evaluate(db, id, time_now(), &added, &removed, &e) < 0)
		return api_core_error(w->rs, &e);
	struct tag t = {0};
	int st = store_tag_get(db, id, &t);
	if (st != ST_OK) {
		tag_clear(&t);
		return -st;
	}
	w->target_id = id;
	w->detail =
	    json_pack("{s:I, s:I}", "added", (json_int_t)added, "removed", (json_int_t)removed);
	w->rs->body = json_pack("{s:o, s:I, s:I}", "tag", api_tag_json(&t), "added",
	                        (json_int_t)added, "removed", (json_int_t)removed);
	tag_clear(&t);
	return 200;
}

int api_tags_evaluate(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = api_check_empty_body(rq, rs)))
		return status;
	return api_write(rq, rs, "tag.evaluate", "tag", evaluate_fn, &id);
}
