/* growth.c - /channels (acquisition channels and their live codes, GET /c/{code})
 * and /groups (community groups, members, activity). */
#include "internal.h"

#include "scrm/core_growth.h"
#include "scrm/crypto.h"
#include "scrm/store_growth.h"
#include "scrm/store_loyalty.h"
#include "scrm/store_records.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Acquisition channels ------------------------------------------------------------------ */

static json_t *ratio_or_null(int64_t a, int64_t b)
{
	return b > 0 ? json_real((double)a / (double)b) : json_null();
}

static json_t *acq_json(const struct acq_channel *c)
{
	json_t *j =
	    json_pack("{s:I, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
	              "id", (json_int_t)c->id, "name", c->name, "kind", c->kind, "units",
	              (json_int_t)c->units, "cost_cents", (json_int_t)c->cost_cents, "code",
	              c->code ? json_string(c->code) : json_null(), "contact_url",
	              c->contact_url ? json_string(c->contact_url) : json_null(), "live_path",
	              c->code ? json_sprintf("/c/%s", c->code) : json_null(), "customers",
	              (json_int_t)c->customers, "scans", (json_int_t)c->scans, "scanners",
	              (json_int_t)c->scanners, "add_rate", ratio_or_null(c->customers, c->units),
	              "cost_per_customer_cents",
	              c->customers > 0 ? json_integer(c->cost_cents / c->customers) : json_null(),
	              "created_at", api_time(c->created_at), "updated_at", api_time(c->updated_at));
	return j;
}

static const struct jfield acq_spec[] = {
    {"name", J_STRING, 0, 200},
    {"kind", J_STRING, 0, 20},
    {"units", J_INT, 0, 0},
    {"cost_cents", J_INT, 0, 0},
    {"code", J_STRING, JF_NULLABLE, 64},
    {"contact_url", J_STRING, JF_NULLABLE, 2000},
    {NULL, 0, 0, 0},
};

/* Apply a checked body over c: 0 or the error status in rs. */
static int read_acq(const json_t *body, struct acq_channel *c, bool create, struct resp *rs)
{
	int status = api_check_object(body, acq_spec, "", rs);
	if (status)
		return status;
	const char *name = api_get_str(body, "name"), *kind = api_get_str(body, "kind");
	if (create && !name)
		return api_error(rs, 422, "validation_failed", "name", "name is required");
	if (name && (status = api_check_label(rs, "name", name, 100, false)))
		return status;
	if (create && !kind)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "kind is required: package_card, sms, qr, live or other");
	if (kind && strcmp(kind, "package_card") != 0 && strcmp(kind, "sms") != 0 &&
	    strcmp(kind, "qr") != 0 && strcmp(kind, "live") != 0 && strcmp(kind, "other") != 0)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "kind must be package_card, sms, qr, live or other");
	static const char *const counts[] = {"units", "cost_cents"};
	for (size_t i = 0; i < 2; i++) {
		const json_t *v = json_object_get(body, counts[i]);
		if (v && (json_integer_value(v) < 0 || json_integer_value(v) > 1000000000000LL))
			return api_error(rs, 422, "validation_failed", counts[i],
			                 "%s must be a whole number, 0 or more", counts[i]);
	}
	const char *code = api_get_str(body, "code"), *url = api_get_str(body, "contact_url");
	if (code && !api_code_ok(code, 3, 32))
		return api_error(
		    rs, 422, "validation_failed", "code",
		    "code must be 3 to 32 letters, digits, - or _ (it goes in the URL)");
	if (url && (status = api_check_url(rs, "contact_url", url)))
		return status;
	if (name) {
		free(c->name);
		c->name = xstrdup(name);
	}
	if (kind) {
		free(c->kind);
		c->kind = xstrdup(kind);
	}
	if (json_object_get(body, "units"))
		c->units = json_integer_value(json_object_get(body, "units"));
	if (json_object_get(body, "cost_cents"))
		c->cost_cents = json_integer_value(json_object_get(body, "cost_cents"));
	if (json_object_get(body, "code")) {
		free(c->code);
		c->code = code ? xstrdup(code) : NULL;
	}
	if (json_object_get(body, "contact_url")) {
		free(c->contact_url);
		c->contact_url = url ? xstrdup(url) : NULL;
	}
	/* a contact link without a code gets one: the live code is the point */
	if (c->contact_url && !c->code) {
		unsigned char rnd[6];
		crypto_random(rnd, sizeof rnd);
		char hex[13];
		crypto_hex(rnd, sizeof rnd, hex);
		c->code = xstrdup(hex);
	}
	return 0;
}

static int acq_conflict(struct resp *rs, const char *code)
{
	return api_error(rs, 409, "conflict", "code", "another channel has the code %s", code);
}

static int acq_create_fn(struct store_db *db, struct api_write *w)
{
	struct acq_channel c = {.created_at = time_now()};
	int status = read_acq(w->rq->body, &c, true, w->rs);
	if (!status) {
		int st = store_acq_channel_insert(db, &c);
		if (st == ST_CONFLICT) {
			status = acq_conflict(w->rs, c.code);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = c.id;
			w->detail = json_pack("{s:s, s:s}", "name", c.name, "kind", c.kind);
			w->rs->body = acq_json(&c);
			w->rs->location = xasprintf("/api/v1/channels/%lld", (long long)c.id);
			status = 201;
		}
	}
	acq_channel_clear(&c);
	return status;
}

int api_acq_channels_create(const struct req *rq, struct resp *rs)
{
	return api_write(rq, rs, "channel.create", "channel", acq_create_fn, NULL);
}

static int acq_update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct acq_channel c = {0};
	int st = store_acq_channel_get(db, id, &c), status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such channel");
	} else if (st != ST_OK) {
		status = -st;
	} else if (!(status = read_acq(w->rq->body, &c, false, w->rs))) {
		c.updated_at = time_now();
		st = store_acq_channel_update(db, &c);
		if (st == ST_CONFLICT) {
			status = acq_conflict(w->rs, c.code);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->rs->body = acq_json(&c);
			status = 200;
		}
	}
	acq_channel_clear(&c);
	return status;
}

int api_acq_channels_patch(const struct req *rq, struct resp *rs)
{
	return api_write_id(rq, rs, "channel.update", "channel", acq_update_fn);
}

int api_acq_channels_delete(const struct req *rq, struct resp *rs)
{
	return api_delete_by_id(rq, rs, "channel.delete", "channel", store_acq_channel_delete,
	                        "channel",
	                        "customers came from this channel; it stays for their records");
}

API_GETTER(get_acq_channels, acq_channel, store_acq_channel_get, acq_json, acq_channel_clear);

int api_acq_channels_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_acq_channels, "channel");
}

API_FETCHER(fetch_acq_channels, acq_channel, store_acq_channel_list, acq_json);

int api_acq_channels_list(const struct req *rq, struct resp *rs)
{
	return api_list_page(rq, rs, fetch_acq_channels, store_acq_channel_total);
}

/* The live code ---------------------------------------------------------------------------- */

struct scan {
	int64_t channel_id, at;
	const char *ip;
};

/* Scanners are told apart by a keyed hash of their address, the key drawn once
 * per database and kept in memory after the first scan (closures run on the
 * writer thread only): addresses are never kept. */
static char *scan_salt;

static int scan_fn(struct store_db *db, void *arg)
{
	const struct scan *s = arg;
	int st = ST_OK;
	if (!scan_salt) {
		st = store_setting_get(db, "scan_salt", &scan_salt);
		if (st == ST_NOT_FOUND) {
			unsigned char rnd[16];
			char hex[33];
			crypto_random(rnd, sizeof rnd);
			crypto_hex(rnd, sizeof rnd, hex);
			scan_salt = xstrdup(hex);
			st = store_setting_put(db, "scan_salt", scan_salt, s->at);
		}
		if (st != ST_OK) {
			free(scan_salt);
			scan_salt = NULL;
			return -st;
		}
	}
	unsigned char mac[CRYPTO_SHA256_LEN];
	const char *ip = s->ip ? s->ip : "";
	crypto_hmac_sha256(scan_salt, strlen(scan_salt), ip, strlen(ip), mac);
	char hex[33];
	crypto_hex(mac, 16, hex);
	st = store_channel_scan_add(db, s->channel_id, s->at, hex);
	if (st != ST_OK) { /* a salt drawn now is rolled back with the scan */
		free(scan_salt);
		scan_salt = NULL;
	}
	return st == ST_OK ? 0 : -st;
}

int api_live_code(const struct req *rq, struct resp *rs)
{
	const char *code = rq->params[0];
	struct acq_channel c = {0};
	int st = code && api_code_ok(code, 3, 32)
	             ? store_acq_channel_by_code(store_reader(), code, &c)
	             : ST_NOT_FOUND;
	if (st != ST_OK || !c.contact_url) {
		acq_channel_clear(&c);
		if (st != ST_OK && st != ST_NOT_FOUND)
			return api_store_error(rs, st);
		return api_error(rs, 404, "not_found", NULL, "no such live code");
	}
	struct scan s = {.channel_id = c.id, .at = time_now(), .ip = rq->ip};
	/* the scan is counted before the customer is sent on: a lost count is
	 * worse than a slower redirect */
	if (store_write(scan_fn, &s) != 0) {
		acq_channel_clear(&c);
		return api_store_error(rs, ST_UNAVAILABLE);
	}
	rs->location = xstrdup(c.contact_url);
	rs->raw = xstrdup("");
	rs->raw_len = 0;
	rs->content_type = "text/plain; charset=utf-8";
	acq_channel_clear(&c);
	return 302;
}

/* Groups ----------------------------------------------------------------------------------- */

static json_t *group_json(const struct group *g)
{
	return json_pack("{s:I, s:s, s:s, s:o, s:I, s:o, s:o}", "id", (json_int_t)g->id, "name",
	                 g->name, "kind", g->kind, "owner_user_id",
	                 g->owner_user_id ? json_integer(g->owner_user_id) : json_null(), "members",
	                 (json_int_t)g->members, "created_at", api_time(g->created_at),
	                 "updated_at", api_time(g->updated_at));
}

static const struct jfield group_spec[] = {
    {"name", J_STRING, 0, 200},
    {"kind", J_STRING, 0, 20},
    {"owner_user_id", J_INT, JF_NULLABLE, 0},
    {NULL, 0, 0, 0},
};

static int read_group(struct store_db *db, const json_t *body, struct group *g, bool create,
                      struct resp *rs)
{
	int status = api_check_object(body, group_spec, "", rs);
	if (status)
		return status;
	const char *name = api_get_str(body, "name"), *kind = api_get_str(body, "kind");
	if (create && !name)
		return api_error(rs, 422, "validation_failed", "name", "name is required");
	if (name && (status = api_check_label(rs, "name", name, 100, false)))
		return status;
	if (kind && strcmp(kind, "basic") != 0 && strcmp(kind, "high_value") != 0 &&
	    strcmp(kind, "koc") != 0)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "kind must be basic, high_value or koc");
	const json_t *owner = json_object_get(body, "owner_user_id");
	if (owner && !json_is_null(owner)) {
		struct user u = {0};
		int st = store_user_get(db, json_integer_value(owner), &u);
		bool off = st == ST_OK && u.disabled;
		user_clear(&u);
		if (st == ST_NOT_FOUND || off || json_integer_value(owner) < 1)
			return api_error(rs, 422, "validation_failed", "owner_user_id",
			                 "no such active user");
		if (st != ST_OK)
			return api_store_error(rs, st);
	}
	if (name) {
		free(g->name);
		g->name = xstrdup(name);
	}
	if (kind || create) {
		free(g->kind);
		g->kind = xstrdup(kind ? kind : "basic");
	}
	if (owner)
		g->owner_user_id = json_integer_value(owner);
	return 0;
}

static int group_create_fn(struct store_db *db, struct api_write *w)
{
	struct group g = {.created_at = time_now()};
	int status = read_group(db, w->rq->body, &g, true, w->rs);
	if (!status) {
		int st = store_group_insert(db, &g);
		if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = g.id;
			w->detail = json_pack("{s:s}", "name", g.name);
			w->rs->body = group_json(&g);
			w->rs->location = xasprintf("/api/v1/groups/%lld", (long long)g.id);
			status = 201;
		}
	}
	group_clear(&g);
	return status;
}

int api_groups_create(const struct req *rq, struct resp *rs)
{
	return api_write(rq, rs, "group.create", "group", group_create_fn, NULL);
}

static int group_update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct group g = {0};
	int st = store_group_get(db, id, &g), status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such group");
	} else if (st != ST_OK) {
		status = -st;
	} else if (!(status = read_group(db, w->rq->body, &g, false, w->rs))) {
		g.updated_at = time_now();
		st = store_group_update(db, &g);
		if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->rs->body = group_json(&g);
			status = 200;
		}
	}
	group_clear(&g);
	return status;
}

int api_groups_patch(const struct req *rq, struct resp *rs)
{
	return api_write_id(rq, rs, "group.update", "group", group_update_fn);
}

int api_groups_delete(const struct req *rq, struct resp *rs)
{
	return api_delete_by_id(rq, rs, "group.delete", "group", store_group_delete, "group", NULL);
}

API_GETTER(get_groups, group, store_group_get, group_json, group_clear);

int api_groups_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_groups, "group");
}

API_FETCHER(fetch_groups, group, store_group_list, group_json);

int api_groups_list(const struct req *rq, struct resp *rs)
{
	return api_list_page(rq, rs, fetch_groups, store_group_total);
}

/* Members and activity ---------------------------------------------------------------------- */

/* The group of the path, in the write: 0 or the error status. */
static int load_group(struct store_db *db, struct api_write *w, struct group *g)
{
	int st = store_group_get(db, *(int64_t *)w->arg, g);
	if (st == ST_NOT_FOUND)
		return api_error(w->rs, 404, "not_found", NULL, "no such group");
	return st == ST_OK ? 0 : -st;
}

static int join_fn(struct store_db *db, struct api_write *w)
{
	struct group g = {0};
	int status = load_group(db, w, &g);
	int64_t now = time_now(), added = 0, already = 0;
	const json_t *ids = json_object_get(w->rq->body, "customer_ids");
	for (size_t i = 0; !status && i < json_array_size(ids); i++) {
		struct core_err e = {0};
		bool fresh = false;
		if (core_group_join(db, &g, json_integer_value(json_array_get(ids, i)), now, &fresh,
		                    &e) < 0) {
			char field[40];
			snprintf(field, sizeof field, "customer_ids[%zu]", i);
			status = e.rc == CORE_STORE ? api_core_error(w->rs, &e)
			                            : api_error(w->rs, 422, "validation_failed",
			                                        field, "%s: %s", field, e.msg);
		}
		fresh ? added++ : already++;
	}
	if (!status) {
		w->target_id = g.id;
		w->detail = json_pack("{s:I}", "added", (json_int_t)added);
		w->rs->body = json_pack("{s:I, s:I}", "added", (json_int_t)added, "already",
		                        (json_int_t)already);
		status = 200;
	}
	group_clear(&g);
	return status;
}

int api_groups_members_add(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {{"customer_ids", J_ARRAY, JF_REQUIRED, 0},
	                                     {NULL, 0, 0, 0}};
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = api_check_object(rq->body, spec, "", rs)) ||
	    (status = api_check_ids(rq->body, "customer_ids", true, rs)))
		return status;
	return api_write(rq, rs, "group.members_add", "group", join_fn, &id);
}

struct leave {
	int64_t group_id, customer_id;
};

static int leave_fn(struct store_db *db, struct api_write *w)
{
	const struct leave *l = w->arg;
	struct group g = {0};
	int st = store_group_get(db, l->group_id, &g), status = 0;
	struct core_err e = {0};
	if (st == ST_NOT_FOUND)
		status = api_error(w->rs, 404, "not_found", NULL, "no such group");
	else if (st != ST_OK)
		status = -st;
	else if (core_group_leave(db, &g, l->customer_id, time_now(), &e) < 0)
		status = api_core_error(w->rs, &e);
	else {
		w->target_id = g.id;
		w->detail = json_pack("{s:I}", "customer_id", (json_int_t)l->customer_id);
		status = 204;
	}
	group_clear(&g);
	return status;
}

int api_groups_members_remove(const struct req *rq, struct resp *rs)
{
	int status = 0;
	struct leave l = {.group_id = api_path_id(rq, 0, rs, &status)};
	if (!l.group_id || !(l.customer_id = api_path_id(rq, 1, rs, &status)))
		return status;
	return api_write(rq, rs, "group.members_remove", "group", leave_fn, &l);
}

struct member_acc {
	struct store_db *db;
	json_t *data;
};

static void add_member(void *arg, const struct customer *c, int64_t joined_at)
{
	struct member_acc *a = arg;
	json_t *j = api_customer_json(a->db, c);
	json_object_set_new(j, "joined_at", api_time(joined_at));
	json_array_append_new(a->data, j);
}

int api_groups_members(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct page pg;
	if ((status = api_page_parse(rq, rs, &pg)))
		return status;
	struct store_db *db = store_reader();
	struct member_acc acc = {db, json_array()};
	struct group g = {0};
	store_read_begin(db);
	int st = store_group_get(db, id, &g);
	if (st == ST_OK)
		st = store_group_members(db, id, pg.after, pg.limit + 1, add_member, &acc);
	store_read_end(db);
	int64_t total = g.members;
	group_clear(&g);
	if (st != ST_OK) {
		json_decref(acc.data);
		if (st == ST_NOT_FOUND)
			return api_error(rs, 404, "not_found", NULL, "no such group");
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(acc.data, api_page_trim(acc.data, pg.limit, "id"),
	                           pg.count ? total : -1);
	return 200;
}

/* 1 to 1000 activity items; 0 or a 422 in rs. */
static int check_items(const json_t *body, struct resp *rs)
{
	size_t n = json_array_size(json_object_get(body, "items"));
	return n < 1 || n > 1000 ? api_error(rs, 422, "validation_failed", "items",
	                                     "items must list 1 to 1000 items")
	                         : 0;
}

static int activity_fn(struct store_db *db, struct api_write *w)
{
	struct group g = {0};
	int status = load_group(db, w, &g);
	int64_t now = time_now(), recorded = 0, repeats = 0;
	const json_t *items = json_object_get(w->rq->body, "items");
	for (size_t i = 0; !status && i < json_array_size(items); i++) {
		const json_t *it = json_array_get(items, i);
		int64_t at = now;
		const char *when = api_get_str(it, "at");
		const char *kind = api_get_str(it, "kind");
		if (when)
			time_parse_rfc3339(when, &at); /* checked before the write */
		struct core_err e = {0};
		bool fresh = false;
		if (core_group_activity(db, &g,
		                        json_integer_value(json_object_get(it, "customer_id")), at,
		                        kind ? kind : "spoke", now, &fresh, &e) < 0) {
			char field[48];
			snprintf(field, sizeof field, "items[%zu].customer_id", i);
			status = e.rc == CORE_STORE ? api_core_error(w->rs, &e)
			                            : api_error(w->rs, 422, "validation_failed",
			                                        field, "%s: %s", field, e.msg);
		}
		fresh ? recorded++ : repeats++;
	}
	if (!status) {
		w->target_id = g.id;
		w->detail = json_pack("{s:I}", "recorded", (json_int_t)recorded);
		w->rs->body = json_pack("{s:I, s:I}", "recorded", (json_int_t)recorded, "repeats",
		                        (json_int_t)repeats);
		status = 200;
	}
	group_clear(&g);
	return status;
}

int api_groups_activity(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {{"items", J_ARRAY, JF_REQUIRED, 0}, {NULL, 0, 0, 0}};
	static const struct jfield item_spec[] = {{"customer_id", J_INT, JF_REQUIRED, 0},
	                                          {"at", J_STRING, 0, 40},
	                                          {"kind", J_STRING, 0, 20},
	                                          {NULL, 0, 0, 0}};
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = api_check_object(rq->body, spec, "", rs)) ||
	    (status = check_items(rq->body, rs)))
		return status;
	const json_t *items = json_object_get(rq->body, "items");
	int64_t now = time_now();
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *it = json_array_get(items, i);
		char prefix[32];
		snprintf(prefix, sizeof prefix, "items[%zu]", i);
		if ((status = api_check_object(it, item_spec, prefix, rs)))
			return status;
		const char *when = api_get_str(it, "at"), *kind = api_get_str(it, "kind");
		int64_t at = 0;
		char field[48];
		if (when && (!time_parse_rfc3339(when, &at) || at > now + 300)) {
			snprintf(field, sizeof field, "items[%zu].at", i);
			return api_error(rs, 422, "validation_failed", field,
			                 "%s must be an RFC 3339 time, not in the future", field);
		}
		if (kind && strcmp(kind, "spoke") != 0 && strcmp(kind, "took_part") != 0) {
			snprintf(field, sizeof field, "items[%zu].kind", i);
			return api_error(rs, 422, "validation_failed", field,
			                 "%s must be spoke or took_part", field);
		}
		if (json_integer_value(json_object_get(it, "customer_id")) < 1) {
			snprintf(field, sizeof field, "items[%zu].customer_id", i);
			return api_error(rs, 422, "validation_failed", field,
			                 "%s must be a customer id", field);
		}
	}
	return api_write(rq, rs, "group.activity", "group", activity_fn, &id);
}
