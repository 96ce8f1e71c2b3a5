/* notify.c - /message-channels, /webhooks and /deliveries: where messages go,
 * who is told of events, and the outbox with each delivery's fate. Secrets
 * (webhook signing secrets, the key in a robot's URL, WeCom corp secrets) are
 * taken in and never answered, except a generated signing secret once, in
 * the answer that created it. */
#include "internal.h"

#include "scrm/crypto.h"
#include "scrm/notify.h"
#include "scrm/store_notify.h"
#include "scrm/store_records.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

/* The events a webhook may subscribe to ("*": all of them). */
static const char *const events_known[] = {
    "customer.created", "customer.updated", "customer.merged",
    "order.created",    "order.bound",      "checkin",
    "coupon.issued",    "coupon.redeemed",  "points.changed",
    "wallet.changed",   "tag.added",        "tag.removed",
    "audience.entered", "audience.left",    "stage.changed",
    "tier.changed",     "content.added",    "reward.redeemed",
    "group.joined",     "group.left",       "*"};

static bool known_event(const char *e)
{
	for (size_t i = 0; i < SCRM_ARRAY_LEN(events_known); i++)
		if (strcmp(events_known[i], e) == 0)
			return true;
	return false;
}

static void set_str(char **dst, const json_t *body, const char *key)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return;
	free(*dst);
	*dst = json_is_string(v) && json_string_length(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* Message channels --------------------------------------------------------------------- */

/* A robot's URL carries its key: shown with the key hidden. */
static json_t *shown_url(const struct channel *c)
{
	if (!c->url)
		return json_null();
	if (strcmp(c->kind, "wecom_bot") != 0)
		return json_string(c->url);
	const char *k = strstr(c->url, "key=");
	if (!k)
		return json_string(c->url);
	const char *end = k + 4 + strcspn(k + 4, "&#");
	char *s = xasprintf("%.*s***%s", (int)(k + 4 - c->url), c->url, end);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static json_t *channel_json(const struct channel *c)
{
	return json_pack(
	    "{s:I, s:s, s:s, s:o, s:b, s:o, s:b, s:o, s:b, s:o, s:o}", "id", (json_int_t)c->id,
	    "name", c->name, "kind", c->kind, "url", shown_url(c), "has_secret", c->secret != NULL,
	    "corp_id", c->corp_id ? json_string(c->corp_id) : json_null(), "has_corp_secret",
	    c->corp_secret != NULL, "sender", c->sender ? json_string(c->sender) : json_null(),
	    "enabled", c->enabled, "created_at", api_time(c->created_at), "updated_at",
	    api_time(c->updated_at));
}

static const struct jfield channel_spec[] = {
    {"name", J_STRING, 0, 200},
    {"kind", J_STRING, 0, 20},
    {"url", J_STRING, JF_NULLABLE, 2000},
    {"secret", J_STRING, JF_NULLABLE, 200},
    {"corp_id", J_STRING, JF_NULLABLE, 100},
    {"corp_secret", J_STRING, JF_NULLABLE, 200},
    {"sender", J_STRING, JF_NULLABLE, 100},
    {"enabled", J_BOOL, 0, 0},
    {NULL, 0, 0, 0},
};

/* Apply body over c and check the whole: 0 or the error status in rs. On
 * creation a webhook channel without a secret gets a generated one, which is
 * put in *generated (caller frees) to be shown once. */
static int read_channel(const json_t *body, struct channel *c, bool create, char **generated,
                        struct resp *rs)
{
	int status = api_check_object(body, channel_spec, "", rs);
	if (status)
		return status;
	const char *name = api_get_str(body, "name"), *kind = api_get_str(body, "kind");
	if (create && !name)
		return api_error(rs, 422, "validation_failed", "name", "name is required");
	if (name && (status = api_check_label(rs, "name", name, 50, false)))
		return status;
	if (create && !kind)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "kind is required: wecom_bot, wecom_customer, webhook or log");
	if (kind && !create && strcmp(kind, c->kind) != 0)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "a channel's kind cannot change; create another channel");
	if (kind && strcmp(kind, "wecom_bot") != 0 && strcmp(kind, "wecom_customer") != 0 &&
	    strcmp(kind, "webhook") != 0 && strcmp(kind, "log") != 0)
		return api_error(rs, 422, "validation_failed", "kind",
		                 "kind must be wecom_bot, wecom_customer, webhook or log");
	if (name) {
		free(c->name);
		c->name = xstrdup(name);
	}
	if (kind) {
		free(c->kind);
		c->kind = xstrdup(kind);
	}
	set_str(&c->url, body, "url");
	set_str(&c->secret, body, "secret");
	set_str(&c->corp_id, body, "corp_id");
	set_str(&c->corp_secret, body, "corp_secret");
	set_str(&c->sender, body, "sender");
	if (json_object_get(body, "enabled"))
		c->enabled = json_is_true(json_object_get(body, "enabled"));
	bool bot = strcmp(c->kind, "wecom_bot") == 0, hook = strcmp(c->kind, "webhook") == 0,
	     wc = strcmp(c->kind, "wecom_customer") == 0;
	if ((bot || hook) && !c->url)
		return api_error(rs, 422, "validation_failed", "url",
		                 bot ? "a wecom_bot channel needs url: the robot's webhook address "
		                       "(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...)"
		                     : "a webhook channel needs url: where to post");
	if (c->url && (status = api_check_url(rs, "url", c->url)))
		return status;
	if (!hook && c->secret)
		return api_error(rs, 422, "validation_failed", "secret",
		                 "only webhook channels have a signing secret");
	if (hook && c->secret && strlen(c->secret) < 16)
		return api_error(rs, 422, "validation_failed", "secret",
		                 "secret must be 16 characters or more (leave it out to get one)");
	if (hook && !c->secret && create) {
		*generated = crypto_token_new("whsec_");
		c->secret = xstrdup(*generated);
	} else if (hook && !c->secret) {
		return api_error(rs, 422, "validation_failed", "secret",
		                 "a webhook channel's secret cannot be removed");
	}
	if (wc && (!c->corp_id || !c->corp_secret))
		return api_error(rs, 422, "validation_failed",
		                 c->corp_id ? "corp_secret" : "corp_id",
		                 "a wecom_customer channel needs corp_id and corp_secret (the "
		                 "customer-contact app's secret)");
	if (!wc && (c->corp_id || c->corp_secret || c->sender))
		return api_error(
		    rs, 422, "validation_failed",
		    c->corp_id       ? "corp_id"
		    : c->corp_secret ? "corp_secret"
		                     : "sender",
		    "only wecom_customer channels have corp_id, corp_secret and sender");
	if (strcmp(c->kind, "log") == 0 && c->url)
		return api_error(rs, 422, "validation_failed", "url", "a log channel has no url");
	return 0;
}

static int channel_conflict(struct resp *rs, const char *name)
{
	return api_error(rs, 409, "conflict", "name", "a message channel named %s exists", name);
}

static int channel_create_fn(struct store_db *db, struct api_write *w)
{
	struct channel c = {.created_at = time_now(), .enabled = true};
	char *generated = NULL;
	int status = read_channel(w->rq->body, &c, true, &generated, w->rs);
	if (!status) {
		int st = store_channel_insert(db, &c);
		if (st == ST_CONFLICT) {
			status = channel_conflict(w->rs, c.name);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = c.id;
			w->detail = json_pack("{s:s, s:s}", "name", c.name, "kind", c.kind);
			w->rs->body = channel_json(&c);
			if (generated) {
				json_object_set_new(w->rs->body, "secret", json_string(generated));
				w->redact_field = "secret";
			}
			w->rs->location =
			    xasprintf("/api/v1/message-channels/%lld", (long long)c.id);
			status = 201;
		}
	}
	if (generated)
		crypto_wipe(generated, strlen(generated));
	free(generated);
	channel_clear(&c);
	return status;
}

int api_channels_create(const struct req *rq, struct resp *rs)
{
	return api_write(rq, rs, "message_channel.create", "message_channel", channel_create_fn,
	                 NULL);
}

static int channel_update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct channel c = {0};
	int st = store_channel_get(db, id, &c), status;
	char *generated = NULL;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such message channel");
	} else if (st != ST_OK) {
		status = -st;
	} else if (!(status = read_channel(w->rq->body, &c, false, &generated, w->rs))) {
		c.updated_at = time_now();
		st = store_channel_update(db, &c);
		if (st == ST_CONFLICT) {
			status = channel_conflict(w->rs, c.name);
		} else if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->rs->body = channel_json(&c);
			status = 200;
		}
	}
	free(generated);
	channel_clear(&c);
	return status;
}

int api_channels_patch(const struct req *rq, struct resp *rs)
{
	return api_write_id(rq, rs, "message_channel.update", "message_channel", channel_update_fn);
}

int api_channels_delete(const struct req *rq, struct resp *rs)
{
	return api_delete_by_id(rq, rs, "message_channel.delete", "message_channel",
	                        store_channel_delete, "message channel", NULL);
}

API_GETTER(get_channels, channel, store_channel_get, channel_json, channel_clear);

/* Operators and viewers see which channels exist, to pick one for a SOP, but
 * not where a channel points: only its id, name, kind and whether it is on. */
static void for_role(const struct req *rq, json_t *c)
{
	static const char *const shown[] = {"id", "name", "kind", "enabled"};
	if (rq->who->role == ROLE_ADMIN || !json_is_object(c))
		return;
	json_t *keep = json_object();
	for (size_t i = 0; i < sizeof shown / sizeof *shown; i++)
		json_object_set(keep, shown[i], json_object_get(c, shown[i]));
	json_object_clear(c);
	json_object_update(c, keep);
	json_decref(keep);
}

int api_channels_get(const struct req *rq, struct resp *rs)
{
	int status = api_get_by_id(rq, rs, get_channels, "message channel");
	if (status == 200)
		for_role(rq, rs->body);
	return status;
}

API_FETCHER(fetch_channels, channel, store_channel_list, channel_json);

int api_channels_list(const struct req *rq, struct resp *rs)
{
	int status = api_list_page(rq, rs, fetch_channels, store_channel_total);
	json_t *c, *data = status == 200 ? json_object_get(rs->body, "data") : NULL;
	size_t i;
	json_array_foreach(data, i, c) for_role(rq, c);
	return status;
}

/* Deliveries ------------------------------------------------------------------------------ */

static json_t *delivery_json(const struct delivery *d)
{
	json_t *payload = json_loads(d->payload ? d->payload : "{}", 0, NULL);
	bool waiting = strcmp(d->status, "pending") == 0 || strcmp(d->status, "failed") == 0;
	return json_pack(
	    "{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)d->id, "kind", d->kind, "channel_id",
	    d->channel_id ? json_integer(d->channel_id) : json_null(), "webhook_id",
	    d->webhook_id ? json_integer(d->webhook_id) : json_null(), "customer_id",
	    d->customer_id ? json_integer(d->customer_id) : json_null(), "event",
	    d->event ? json_string(d->event) : json_null(), "event_id",
	    d->event_id ? json_integer(d->event_id) : json_null(), "status", d->status, "attempts",
	    (json_int_t)d->attempts, "next_attempt_at",
	    waiting ? api_time(d->next_attempt_at) : json_null(), "last_error",
	    d->last_error ? json_string(d->last_error) : json_null(), "last_http_status",
	    d->last_http_status ? json_integer(d->last_http_status) : json_null(), "payload",
	    payload ? payload : json_object(), "created_at", api_time(d->created_at), "updated_at",
	    api_time(d->updated_at), "delivered_at", api_time(d->delivered_at));
}

static void add_delivery(void *arg, const struct delivery *d)
{
	json_array_append_new(arg, delivery_json(d));
}

static int list_deliveries(const struct req *rq, struct resp *rs, int64_t webhook_id)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	const char *s = http_req_query(rq, "status");
	if (s && strcmp(s, "pending") != 0 && strcmp(s, "sending") != 0 &&
	    strcmp(s, "failed") != 0 && strcmp(s, "delivered") != 0 && strcmp(s, "dead") != 0)
		return api_error(rs, 422, "validation_failed", "status",
		                 "status must be pending, sending, failed, delivered or dead");
	struct delivery_filter f = {.status = s, .webhook_id = webhook_id};
	const char *ch = http_req_query(rq, "channel_id");
	if (ch && (!str_to_i64(ch, &f.channel_id) || f.channel_id < 1))
		return api_error(rs, 422, "validation_failed", "channel_id",
		                 "channel_id must be a message channel id");
	struct store_db *db = store_reader();
	json_t *data = json_array();
	store_read_begin(db);
	int st = store_delivery_list(db, &f, pg.after, pg.limit + 1, add_delivery, data);
	int64_t total = pg.count ? store_delivery_total(db, &f) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}

int api_deliveries_list(const struct req *rq, struct resp *rs)
{
	return list_deliveries(rq, rs, 0);
}

int api_deliveries_get(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct delivery d = {0};
	int st = store_delivery_get(store_reader(), id, &d);
	if (st == ST_OK)
		rs->body = delivery_json(&d);
	delivery_clear(&d);
	if (st == ST_NOT_FOUND)
		return api_error(rs, 404, "not_found", NULL, "no such delivery");
	return st == ST_OK ? 200 : api_store_error(rs, st);
}

static int retry_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	int st = store_delivery_retry(db, id, time_now());
	if (st == ST_NOT_FOUND)
		return api_error(w->rs, 404, "not_found", NULL, "no such delivery");
	if (st == ST_CONFLICT)
		return api_error(w->rs, 409, "conflict", "status",
		                 "only failed and dead deliveries can be retried; this one is "
		                 "waiting, being sent or delivered");
	if (st != ST_OK)
		return -st;
	struct delivery d = {0};
	st = store_delivery_get(db, id, &d);
	if (st == ST_OK)
		w->rs->body = delivery_json(&d);
	delivery_clear(&d);
	w->target_id = id;
	return st == ST_OK ? 200 : -st;
}

int api_deliveries_retry(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	if ((status = api_check_empty_body(rq, rs)))
		return status;
	status = api_write(rq, rs, "delivery.retry", "delivery", retry_fn, &id);
	if (status == 200)
		notify_kick();
	return status;
}

/* A test message through a channel ------------------------------------------------------ */

struct test_msg {
	int64_t channel_id;
};

static int test_fn(struct store_db *db, struct api_write *w)
{
	const struct test_msg *t = w->arg;
	const json_t *body = w->rq->body;
	struct channel c = {0};
	int st = store_channel_get(db, t->channel_id, &c), status = 0;
	if (st != ST_OK) {
		channel_clear(&c);
		return st == ST_NOT_FOUND
		           ? api_error(w->rs, 404, "not_found", NULL, "no such message channel")
		           : -st;
	}
	int64_t cid = json_integer_value(json_object_get(body, "customer_id"));
	const char *ext = api_get_str(body, "external_userid");
	struct customer cu = {0};
	if (cid) {
		st = store_customer_get(db, cid, &cu);
		if (st == ST_NOT_FOUND || (st == ST_OK && cu.erased_at))
			status = api_error(w->rs, 422, "validation_failed", "customer_id",
			                   "customer %lld does not exist", (long long)cid);
		else if (st != ST_OK)
			status = -st;
	}
	json_t *attrs = !status && cu.attrs ? json_loads(cu.attrs, 0, NULL) : NULL;
	if (!status && !ext)
		ext = json_string_value(json_object_get(attrs, "wecom_external_userid"));
	if (!status && strcmp(c.kind, "wecom_customer") == 0 && !ext)
		status =
		    api_error(w->rs, 422, "validation_failed", "external_userid",
		              "a wecom_customer message needs external_userid, or a customer_id "
		              "whose attrs.wecom_external_userid is set");
	if (!status) {
		json_t *p = json_pack("{s:s, s:b}", "text", api_get_str(body, "text"), "markdown",
		                      json_is_true(json_object_get(body, "markdown")));
		if (ext)
			json_object_set_new(p, "external_userid", json_string(ext));
		if (cid)
			json_object_set_new(p, "customer_id", json_integer(cid));
		json_object_set_new(p, "test", json_true());
		char *text = json_dumps(p, JSON_COMPACT);
		json_decref(p);
		struct delivery d = {.channel_id = c.id,
		                     .customer_id = cid,
		                     .kind = c.kind,
		                     .payload = text,
		                     .created_at = time_now()};
		st = store_delivery_add(db, &d);
		free(text);
		if (st != ST_OK) {
			status = -st;
		} else {
			struct delivery back = {0};
			st = store_delivery_get(db, d.id, &back);
			if (st == ST_OK) {
				w->rs->body = delivery_json(&back);
				w->rs->location =
				    xasprintf("/api/v1/deliveries/%lld", (long long)d.id);
				w->target_id = c.id;
				w->detail = json_pack("{s:I}", "delivery_id", (json_int_t)d.id);
				status = 202;
			} else {
				status = -st;
			}
			delivery_clear(&back);
		}
	}
	json_decref(attrs);
	customer_clear(&cu);
	channel_clear(&c);
	return status;
}

int api_channels_test(const struct req *rq, struct resp *rs)
{
	static const struct jfield spec[] = {
	    {"text", J_STRING, JF_REQUIRED, 4000},
	    {"markdown", J_BOOL, 0, 0},
	    {"customer_id", J_INT, JF_NULLABLE, 0},
	    {"external_userid", J_STRING, JF_NULLABLE, 200},
	    {NULL, 0, 0, 0},
	};
	int status = 0;
	struct test_msg t = {.channel_id = api_path_id(rq, 0, rs, &status)};
	if (!t.channel_id)
		return status;
	if ((status = api_check_object(rq->body, spec, "", rs)))
		return status;
	if (!api_get_str(rq->body, "text")[0])
		return api_error(rs, 422, "validation_failed", "text", "text must not be empty");
	if (api_body_id(rq->body, "customer_id", rs, &status) < 0)
		return status;
	status = api_write(rq, rs, "message_channel.test", "message_channel", test_fn, &t);
	if (status == 202)
		notify_kick();
	return status;
}

/* Event webhooks ------------------------------------------------------------------------ */

static json_t *webhook_json(const struct webhook *w)
{
	json_t *events = json_loads(w->events ? w->events : "[]", 0, NULL);
	return json_pack("{s:I, s:s, s:o, s:b, s:o, s:o}", "id", (json_int_t)w->id, "url", w->url,
	                 "events", events ? events : json_array(), "enabled", w->enabled,
	                 "created_at", api_time(w->created_at), "updated_at",
	                 api_time(w->updated_at));
}

static const struct jfield webhook_spec[] = {
    {"url", J_STRING, 0, 2000}, {"events", J_ARRAY, 0, 0}, {"secret", J_STRING, 0, 200},
    {"enabled", J_BOOL, 0, 0},  {NULL, 0, 0, 0},
};

static int read_webhook(const json_t *body, struct webhook *w, bool create, char **generated,
                        struct resp *rs)
{
	int status = api_check_object(body, webhook_spec, "", rs);
	if (status)
		return status;
	const char *url = api_get_str(body, "url");
	json_t *events = json_object_get(body, "events");
	if (create && !url)
		return api_error(rs, 422, "validation_failed", "url", "url is required");
	if (url && (status = api_check_url(rs, "url", url)))
		return status;
	if (create && !events)
		return api_error(rs, 422, "validation_failed", "events",
		                 "events is required: a list of event names, or [\"*\"] for all");
	if (events && (json_array_size(events) == 0 || json_array_size(events) > 50))
		return api_error(rs, 422, "validation_failed", "events",
		                 "events must list 1 to 50 event names");
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		if (!json_is_string(e) || !known_event(json_string_value(e))) {
			char field[32];
			snprintf(field, sizeof field, "events[%zu]", i);
			return api_error(
			    rs, 422, "validation_failed", field,
			    "%s is not an event; known: customer.created, customer.updated, "
			    "customer.merged, order.created, order.bound, checkin, "
			    "coupon.issued, coupon.redeemed, points.changed, wallet.changed, "
			    "tag.added, tag.removed, audience.entered, audience.left, "
			    "stage.changed, tier.changed, content.added, reward.redeemed, "
			    "group.joined, group.left, *",
			    field);
		}
	}
	const char *secret = api_get_str(body, "secret");
	if (secret && strlen(secret) < 16)
		return api_error(rs, 422, "validation_failed", "secret",
		                 "secret must be 16 characters or more (leave it out to get one)");
	if (url) {
		free(w->url);
		w->url = xstrdup(url);
	}
	if (events) {
		free(w->events);
		w->events = json_dumps(events, JSON_COMPACT);
	}
	if (secret) {
		free(w->secret);
		w->secret = xstrdup(secret);
	} else if (create) {
		*generated = crypto_token_new("whsec_");
		w->secret = xstrdup(*generated);
	}
	if (json_object_get(body, "enabled"))
		w->enabled = json_is_true(json_object_get(body, "enabled"));
	return 0;
}

static int webhook_create_fn(struct store_db *db, struct api_write *w)
{
	struct webhook h = {.created_at = time_now(), .enabled = true};
	char *generated = NULL;
	int status = read_webhook(w->rq->body, &h, true, &generated, w->rs);
	if (!status) {
		int st = store_webhook_insert(db, &h);
		if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = h.id;
			w->detail = json_pack("{s:s}", "url", h.url);
			w->rs->body = webhook_json(&h);
			if (generated) {
				json_object_set_new(w->rs->body, "secret", json_string(generated));
				w->redact_field = "secret";
			}
			w->rs->location = xasprintf("/api/v1/webhooks/%lld", (long long)h.id);
			status = 201;
		}
	}
	if (generated)
		crypto_wipe(generated, strlen(generated));
	free(generated);
	webhook_clear(&h);
	return status;
}

int api_webhooks_create(const struct req *rq, struct resp *rs)
{
	return api_write(rq, rs, "webhook.create", "webhook", webhook_create_fn, NULL);
}

static int webhook_update_fn(struct store_db *db, struct api_write *w)
{
	int64_t id = *(int64_t *)w->arg;
	struct webhook h = {0};
	int st = store_webhook_get(db, id, &h), status;
	if (st == ST_NOT_FOUND) {
		status = api_error(w->rs, 404, "not_found", NULL, "no such webhook");
	} else if (st != ST_OK) {
		status = -st;
	} else if (!(status = read_webhook(w->rq->body, &h, false, NULL, w->rs))) {
		h.updated_at = time_now();
		st = store_webhook_update(db, &h);
		if (st != ST_OK) {
			status = -st;
		} else {
			w->target_id = id;
			w->rs->body = webhook_json(&h);
			status = 200;
		}
	}
	webhook_clear(&h);
	return status;
}

int api_webhooks_patch(const struct req *rq, struct resp *rs)
{
	return api_write_id(rq, rs, "webhook.update", "webhook", webhook_update_fn);
}

int api_webhooks_delete(const struct req *rq, struct resp *rs)
{
	return api_delete_by_id(rq, rs, "webhook.delete", "webhook", store_webhook_delete,
	                        "webhook", NULL);
}

API_GETTER(get_webhooks, webhook, store_webhook_get, webhook_json, webhook_clear);

int api_webhooks_get(const struct req *rq, struct resp *rs)
{
	return api_get_by_id(rq, rs, get_webhooks, "webhook");
}

API_FETCHER(fetch_webhooks, webhook, store_webhook_list, webhook_json);

int api_webhooks_list(const struct req *rq, struct resp *rs)
{
	return api_list_page(rq, rs, fetch_webhooks, store_webhook_total);
}

int api_webhooks_deliveries(const struct req *rq, struct resp *rs)
{
	int status = 0;
	int64_t id = api_path_id(rq, 0, rs, &status);
	if (!id)
		return status;
	struct webhook h = {0};
	int st = store_webhook_get(store_reader(), id, &h);
	webhook_clear(&h);
	if (st == ST_NOT_FOUND)
		return api_error(rs, 404, "not_found", NULL, "no such webhook");
	if (st != ST_OK)
		return api_store_error(rs, st);
	return list_deliveries(rq, rs, id);
}
