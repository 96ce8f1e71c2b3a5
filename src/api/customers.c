/* customers.c - /customers: profiles, search, timeline, tags, merge, erase. */
#include "internal.h"

#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

static void add_tag_ref(void *arg, int64_t id, const char *name)
{
	json_array_append_new(arg, json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", name));
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *opt_id(int64_t id)
{
	return id ? json_integer(id) : json_null();
}

json_t *api_customer_json(struct store_db *db, const struct customer *c)
{
	json_t *tags = json_array();
	store_customer_tags(db, c->id, add_tag_ref, tags);
	json_t *attrs = json_loads(c->attrs ? c->attrs : "{}", 0, NULL);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "name", opt_str(c->name));
	json_object_set_new(o, "phone", opt_str(c->phone));
	json_object_set_new(o, "email", opt_str(c->email));
	json_object_set_new(o, "unionid", opt_str(c->unionid));
	json_object_set_new(o, "gender", json_string(c->gender ? c->gender : "u"));
	json_object_set_new(o, "birthday", opt_str(c->birthday));
	json_object_set_new(o, "source_channel_id", opt_id(c->source_channel_id));
	json_object_set_new(o, "owner_user_id", opt_id(c->owner_user_id));
	json_object_set_new(o, "stage", json_string(c->stage));
	json_object_set_new(o, "stage_manual", json_boolean(c->stage_manual));
	json_object_set_new(o, "tier", opt_str(c->tier_name));
	json_object_set_new(o, "tier_id", opt_id(c->tier_id));
	json_object_set_new(o, "tier_override_until", api_time(c->tier_override_until));
	json_object_set_new(o, "points_balance", json_integer(c->points_balance));
	json_object_set_new(o, "wallet_balance_cents", json_integer(c->wallet_balance_cents));
	json_object_set_new(o, "order_count", json_integer(c->order_count));
	json_object_set_new(o, "total_spent_cents", json_integer(c->total_spent_cents));
	json_object_set_new(o, "first_order_at", api_time(c->first_order_at));
	json_object_set_new(o, "last_order_at", api_time(c->last_order_at));
	json_object_set_new(o, "attrs", attrs ? attrs : json_object());
	json_object_set_new(o, "tags", tags);
	json_object_set_new(o, "created_at", api_time(c->created_at));
	json_object_set_new(o, "updated_at", api_time(c->updated_at));
	return o;
}

const struct jfield api_customer_spec[] = {
    {"name", J_STRING, JF_NULLABLE, 400},
    {"phone", J_STRING, JF_NULLABLE, 64},
    {"email", J_STRING, JF_NULLABLE, 300},
    {"unionid", J_STRING, JF_NULLABLE, 128},
    {"gender", J_STRING, 0, 1},
    {"birthday", J_STRING, JF_NULLABLE, 10},
    {"source_channel_id", J_INT, JF_NULLABLE, 0},
    {"owner_user_id", J_INT, JF_NULLABLE, 0},
    {"stage", J_STRING, 0, 16},
    {"attrs", J_OBJECT, JF_NULLABLE, 0},
    {NULL, 0, 0, 0},
};

static int read_patch(const json_t *body, struct customer_patch *p, struct resp *rs)
{
	int status = api_check_object(body, api_customer_spec, "", rs);
	if (status)
		return status;
	return api_customer_patch(body, p, rs);
}

int api_customer_patch(const json_t *body, struct customer_patch *p, struct resp *rs)
{
	int status = 0;
	static const struct {
		const char *key;
		unsigned flag;
		size_t off;
	} strs[] = {
	    {"name", CF_NAME, offsetof(struct customer_patch, name)},
	    {"phone", CF_PHONE, offsetof(struct customer_patch, phone)},
	    {"email", CF_EMAIL, offsetof(struct customer_patch, email)},
	    {"unionid", CF_UNIONID, offsetof(struct customer_patch, unionid)},
	    {"gender", CF_GENDER, offsetof(struct customer_patch, gender)},
	    {"birthday", CF_BIRTHDAY, offsetof(struct customer_patch, birthday)},
	    {"stage", CF_STAGE, offsetof(struct customer_patch, stage)},
	};
	memset(p, 0, sizeof *p);
	for (size_t i = 0; i < SCRM_ARRAY_LEN(strs); i++) {
		json_t *v = json_object_get(body, strs[i].key);
		if (!v)
			continue;
		p->set |= strs[i].flag;
		*(const char **)((char *)p + strs[i].off) = json_string_value(v);
	}
	if (json_object_get(body, "source_channel_id")) {
		p->set |= CF_CHANNEL;
		if ((p->source_channel_id = api_body_id(body, "source_channel_id", rs, &status)) <
		    0)
			return status;
	}
	if (json_object_get(body, "owner_user_id")) {
		p->set |= CF_OWNER;
		if ((p->owner_user_id = api_body_id(body, "owner_user_id", rs, &status)) < 0)
			return status;
	}
	if (json_object_get(body, "attrs")) {
		p->set |= CF_ATTRS;
		p->attrs = json_object_get(body, "attrs");
		if (json_is_null(p->attrs))
			p->attrs = NULL;
	}
	struct core_err e = {0};
	if (core_customer_check(p, &e) < 0)
		return api_core_error(rs, &e);
	return 0;
}

struct write_ctx {
	struct customer_patch patch;
	int64_t id, other, *tag_ids;
	const char *const *names;
	size_t n;
};

/* The answer of every customer write: the profile as it now is. */
static int answer(struct store_db *db, struct api_write *w, struct customer *c, int status)
{
	w->target_id = c->id;
	w->rs->body = api_customer_json(db, c);
	customer_clear(c);
	return status;
}

static int create_fn(struct store_db *db, struct api_write *w)
{
	struct write_ctx *x = w->arg;
	struct customer c = {0};
	struct core_err e = {0};
	if (core_customer_create(db, &x->patch, time_now(), &c, &e) < 0) {
		customer_clear(&c);
		return api_core_error(w->rs, &e);
	}
	w->rs->location = xasprintf("/api/v1/customers/%lld", (long long)c.id);
	return answer(db, w, &c, 201);
}

int api_customers_create(const struct req *rq, struct resp *rs)
{
	struct write_ctx x = {0};
	int status = read_patch(rq->body, &x.patch, rs);
	if (status)
		return status;
	return api_write(rq, rs, "customer.create", "customer", create_fn, &x);
}

static int update_fn(struct store_db *db, struct api_write *w)
{
	struct write_ctx *x = w->arg;
	struct customer c = {0};
	struct core_err e = {0};
	if (core_customer_update(db, x->id, &x->patch, time_now(), &c, NULL, &e) < 0) {
		customer_clear(&c);
		return api_core_error(w->rs, &e);
	}
	json_t *changed = json_array();
	for (const struct jfield *f = api_customer_spec; f->name; f++)
		if (json_object_get(w->rq->body, f->name))
			json_array_append_new(changed, json_string(f->name));
	w->detail = json_pack("{s:o}", "fields", changed); /* names only: no personal data */
	return answer(db, w, &c, 200);
}

int api_customers_patch(const struct req *rq, struct resp *rs)
{
	int status = 0;
	struct write_ctx x = {0};
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = read_patch(rq->body, &x.patch, rs)))
		return status;
	x.id = id;
	return api_write(rq, rs, "customer.update", "customer", update_fn, &x);
}

int api_customers_get(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct store_db *db = store_reader();
	struct customer c = {0};
	struct core_err e = {0};
	store_read_begin(db);
	if (core_customer_load(db, id, &c, &e) < 0) {
		status = api_core_error(rs, &e);
	} else {
		rs->body = api_customer_json(db, &c);
		status = 200;
	}
	store_read_end(db);
	customer_clear(&c);
	return status;
}

static int erase_fn(struct store_db *db, struct api_write *w)
{
	struct write_ctx *x = w->arg;
	struct core_err e = {0};
	if (core_customer_erase(db, x->id, time_now(), &e) < 0)
		return api_core_error(w->rs, &e);
	w->target_id = x->id;
	return 204;
}

int api_customers_delete(const struct req *rq, struct resp *rs)
{
	int status = 0;
	struct write_ctx x = {0};
	if (!(x.id = api_path_id(rq, 0, rs, &status)))
		return status;
	return api_write(rq, rs, "customer.erase", "customer", erase_fn, &x);
}

struct list_acc {
	struct store_db *db;
	json_t *data;
};

static void add_customer(void *arg, const struct customer *c)
{
	struct list_acc *a = arg;
	json_array_append_new(a->data, api_customer_json(a->db, c));
}

int api_customers_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct customer_filter f = {.q = http_req_query(rq, "q"),
	                            .stage = http_req_query(rq, "stage")};
	if (f.q && strlen(f.q) > 100)
		return api_error(rs, 422, "validation_failed", "q",
		                 "q is too long (100 bytes at most)");
	if (f.q && !*f.q)
		f.q = NULL;
	if (f.stage && core_stage_rank(f.stage) < 0)
		return api_error(rs, 422, "validation_failed", "stage",
		                 "stage must be one of added, observing, interested, converted, "
		                 "sharing, repurchasing");
	if ((status = api_query_i64(rq, "owner_user_id", &f.owner_user_id, rs)) ||
	    (status = api_query_i64(rq, "source_channel_id", &f.source_channel_id, rs)))
		return status;
	/* a phone typed with +86 or dashes finds the stored form, also when only
	 * its start is typed */
	char phone[CORE_PHONE_MAX];
	if (f.q && strspn(f.q, "+0123456789 -()") == strlen(f.q) && strpbrk(f.q, "0123456789") &&
	    core_phone_prefix(f.q, phone))
		f.q = phone;
	struct store_db *db = store_reader();
	struct list_acc a = {.db = db, .data = json_array()};
	store_read_begin(db);
	const char *tag = http_req_query(rq, "tag");
	int st = ST_OK;
	bool no_such_tag = false;
	if (tag && !str_to_i64(tag, &f.tag_id)) {
		/* a tag by name: no such name means nobody has it */
		struct tag t = {0};
		st = store_tag_by_name(db, tag, &t);
		f.tag_id = t.id;
		no_such_tag = st == ST_NOT_FOUND;
		st = st == ST_NOT_FOUND ? ST_OK : st;
		tag_clear(&t);
	} else if (tag && f.tag_id <= 0) {
		no_such_tag = true;
	}
	int64_t total = no_such_tag ? 0 : -1;
	if (st == ST_OK && !no_such_tag) {
		st = store_customer_list(db, &f, pg.after, pg.limit + 1, add_customer, &a);
		if (pg.count)
			total = store_customer_count(db, &f);
	}
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(a.data);
		return api_store_error(rs, st);
	}
	rs->body =
	    api_page_result(a.data, api_page_trim(a.data, pg.limit, "id"), pg.count ? total : -1);
	return 200;
}

static void add_event(void *arg, const struct customer_event *e)
{
	json_t *data = json_loads(e->data ? e->data : "{}", 0, NULL);
	json_array_append_new(
	    arg, json_pack("{s:I, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)e->id, "kind",
	                   e->kind, "ref_type", opt_str(e->ref_type), "ref_id", opt_id(e->ref_id),
	                   "data", data ? data : json_object(), "created_at", api_time(e->at)));
}

int api_customers_timeline(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct page pg;
	if ((status = api_page_parse(rq, rs, &pg)))
		return status;
	struct store_db *db = store_reader();
	struct customer c = {0};
	struct core_err e = {0};
	json_t *data = json_array();
	store_read_begin(db);
	int st = ST_OK;
	int64_t total = -1;
	if (core_customer_load(db, id, &c, &e) < 0)
		status = api_core_error(rs, &e);
	else
		st = store_event_list(db, id, pg.after, pg.after2, pg.limit + 1, add_event, data);
	if (!status && st == ST_OK && pg.count)
		total = store_event_count(db, id);
	store_read_end(db);
	customer_clear(&c);
	if (status || st != ST_OK) {
		json_decref(data);
		return status ? status : api_store_error(rs, st);
	}
	/* the cursor is (time, id) of the last event shown */
	int64_t next_id = api_page_trim(data, pg.limit, "id"), next_at = 0;
	if (next_id) {
		int64_t t = 0;
		time_parse_rfc3339(
		    json_string_value(json_object_get(
		        json_array_get(data, json_array_size(data) - 1), "created_at")),
		    &t);
		next_at = t;
	}
	rs->body = api_page_result2(data, next_at, next_id, total);
	return 200;
}

static int tag_fn(struct store_db *db, struct api_write *w)
{
	struct write_ctx *x = w->arg;
	struct core_err e = {0};
	size_t added = 0;
	int64_t now = time_now();
	int rc = x->tag_ids ? core_customer_tag_ids(db, x->id, x->tag_ids, x->n, now, &added, &e)
	                    : core_customer_tag_names(db, x->id, x->names, x->n, now, &added, &e);
	struct customer c = {0};
	if (rc == 0)
		rc = core_customer_load(db, x->id, &c, &e);
	if (rc < 0) {
		customer_clear(&c);
		return api_core_error(w->rs, &e);
	}
	w->detail = json_pack("{s:I}", "added", (json_int_t)added);
	return answer(db, w, &c, 200);
}

int api_customers_tag(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"tag_ids", J_ARRAY, 0, 0},
	    {"names", J_ARRAY, 0, 0},
	    {NULL, 0, 0, 0},
	};
	int status = 0;
	struct write_ctx x = {0};
	if (!(x.id = api_path_id(rq, 0, rs, &status)))
		return status;
	if ((status = api_check_object(rq->body, spec, "", rs)))
		return status;
	const json_t *ids = json_object_get(rq->body, "tag_ids"),
	             *names = json_object_get(rq->body, "names");
	if (!ids == !names)
		return api_error(rs, 422, "validation_failed", ids ? "names" : "tag_ids",
		                 "send either tag_ids or names");
	const json_t *list = ids ? ids : names;
	x.n = json_array_size(list);
	if (x.n == 0 || x.n > 100)
		return api_error(rs, 422, "validation_failed", ids ? "tag_ids" : "names",
		                 "%s must hold 1 to 100 entries", ids ? "tag_ids" : "names");
	int64_t *idv = ids ? xcalloc(x.n, sizeof *idv) : NULL;
	const char **nv = names ? xcalloc(x.n, sizeof *nv) : NULL;
	for (size_t i = 0; i < x.n && !status; i++) {
		json_t *v = json_array_get(list, i);
		char path[32];
		snprintf(path, sizeof path, "%s[%zu]", ids ? "tag_ids" : "names", i);
		if (ids && (!json_is_integer(v) || json_integer_value(v) <= 0))
			status = api_error(rs, 422, "validation_failed", path,
			                   "%s must be a tag id", path);
		else if (names && (!json_is_string(v) ||
		                   strlen(json_string_value(v)) != json_string_length(v)))
			status = api_error(rs, 422, "validation_failed", path,
			                   "%s must be a tag name", path);
		else if (ids)
			idv[i] = json_integer_value(v);
		else
			nv[i] = json_string_value(v);
	}
	if (!status) {
		x.tag_ids = idv;
		x.names = nv;
		status = api_write(rq, rs, "customer.tag", "customer", tag_fn, &x);
	}
	free(idv);
	free(nv);
	return status;
}

static int untag_fn(struct store_db *db, struct api_write *w)
{
	struct write_ctx *x = w->arg;
	struct core_err e = {0};
	if (core_customer_untag(db, x->id, x->other, time_now(), &e) < 0)
		return api_core_error(w->rs, &e);
	w->target_id = x->id;
	w->detail = json_pack("{s:I}", "tag_id", (json_int_t)x->other);
	return 204;
}

int api_customers_untag(const struct req *rq, struct resp *rs)
{
	int status = 0;
	struct write_ctx x = {0};
	if (!(x.id = api_path_id(rq, 0, rs, &status)) ||
	    !(x.other = api_path_id(rq, 1, rs, &status)))
		return status;
	return api_write(rq, rs, "customer.untag", "customer", untag_fn, &x);
}

static int merge_fn(struct store_db *db, struct api_write *w)
{
	struct write_ctx *x = w->arg;
	struct customer c = {0};
	struct core_err e = {0};
	if (core_customer_merge(db, x->id, x->other, time_now(), &c, &e) < 0) {
		customer_clear(&c);
		return api_core_error(w->rs, &e);
	}
	w->detail =
	    json_pack("{s:I, s:I}", "into", (json_int_t)x->id, "from", (json_int_t)x->other);
	return answer(db, w, &c, 200);
}

int api_customers_merge(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"into", J_INT, JF_REQUIRED, 0},
	    {"from", J_INT, JF_REQUIRED, 0},
	    {NULL, 0, 0, 0},
	};
	int status = api_check_object(rq->body, spec, "", rs);
	if (status)
		return status;
	struct write_ctx x = {0};
	if ((x.id = api_body_id(rq->body, "into", rs, &status)) < 0 ||
	    (x.other = api_body_id(rq->body, "from", rs, &status)) < 0)
		return status;
	return api_write(rq, rs, "customer.merge", "customer", merge_fn, &x);
}
