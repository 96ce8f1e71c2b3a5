/* notify.c - message channels, event webhooks and the outbox of deliveries. */
#include "internal.h"

#include "scrm/store_notify.h"
#include "scrm/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Channels ------------------------------------------------------------------------ */

void channel_clear(struct channel *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->kind);
	free(c->url);
	free(c->secret);
	free(c->corp_id);
	free(c->corp_secret);
	free(c->sender);
	memset(c, 0, sizeof *c);
}

#define CHANNEL_COLS                                                                               \
	"id, name, kind, url, secret, corp_id, corp_secret, sender, enabled, created_at, "         \
	"updated_at"

static void read_channel(sqlite3_stmt *st, void *out)
{
	struct channel *c = out;
	c->id = sqlite3_column_int64(st, 0);
	c->name = db_col_dup(st, 1);
	c->kind = db_col_dup(st, 2);
	c->url = db_col_dup(st, 3);
	c->secret = db_col_dup(st, 4);
	c->corp_id = db_col_dup(st, 5);
	c->corp_secret = db_col_dup(st, 6);
	c->sender = db_col_dup(st, 7);
	c->enabled = sqlite3_column_int(st, 8) != 0;
	c->created_at = sqlite3_column_int64(st, 9);
	c->updated_at = sqlite3_column_int64(st, 10);
}

static void bind_channel(sqlite3_stmt *st, const struct channel *c)
{
	db_bind_text(st, ":name", c->name);
	db_bind_text(st, ":kind", c->kind);
	db_bind_text(st, ":url", c->url);
	db_bind_text(st, ":secret", c->secret);
	db_bind_text(st, ":corp_id", c->corp_id);
	db_bind_text(st, ":corp_secret", c->corp_secret);
	db_bind_text(st, ":sender", c->sender);
	db_bind_i64(st, ":enabled", c->enabled);
}

int store_channel_insert(struct store_db *db, struct channel *c)
{
	static const char sql[] =
	    "INSERT INTO message_channels(name, kind, url, secret, corp_id, corp_secret, sender,"
	    " enabled, created_at, updated_at) VALUES (:name, :kind, :url, :secret, :corp_id,"
	    " :corp_secret, :sender, :enabled, :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_channel(st, c);
	db_bind_i64(st, ":t", c->created_at);
	c->updated_at = c->created_at;
	return db_insert(db, st, &c->id);
}

int store_channel_update(struct store_db *db, const struct channel *c)
{
	static const char sql[] =
	    "UPDATE message_channels SET name = :name, kind = :kind, url = :url, secret = :secret,"
	    " corp_id = :corp_id, corp_secret = :corp_secret, sender = :sender, enabled = :enabled,"
	    " updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	bind_channel(st, c);
	db_bind_i64(st, ":t", c->updated_at);
	db_bind_i64(st, ":id", c->id);
	return db_change_one(db, st);
}

int store_channel_get(struct store_db *db, int64_t id, struct channel *out)
{
	static const char sql[] = "SELECT " CHANNEL_COLS " FROM message_channels WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_one(db, st, read_channel, out);
}

int store_channel_delete(struct store_db *db, int64_t id)
{
	return db_change_id(db, "DELETE FROM message_channels WHERE id = :id", id);
}

int store_channel_list(struct store_db *db, int64_t after, int limit, store_channel_cb cb,
                       void *arg)
{
	static const char sql[] = "SELECT " CHANNEL_COLS " FROM message_channels WHERE id > :after"
	                          " ORDER BY id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct channel c = {0};
		read_channel(st, &c);
		cb(arg, &c);
		channel_clear(&c);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_channel_total(struct store_db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM message_channels");
	return st ? db_scalar(db, st) : -1;
}

/* Webhooks ------------------------------------------------------------------------ */

void webhook_clear(struct webhook *w)
{
	if (!w)
		return;
	free(w->url);
	free(w->events);
	free(w->secret);
	memset(w, 0, sizeof *w);
}

#define WEBHOOK_COLS "id, url, events, secret, enabled, created_at, updated_at"

static void read_webhook(sqlite3_stmt *st, void *out)
{
	struct webhook *w = out;
	w->id = sqlite3_column_int64(st, 0);
	w->url = db_col_dup(st, 1);
	w->events = db_col_dup(st, 2);
	w->secret = db_col_dup(st, 3);
	w->enabled = sqlite3_column_int(st, 4) != 0;
	w->created_at = sqlite3_column_int64(st, 5);
	w->updated_at = sqlite3_column_int64(st, 6);
}

/* The subscriptions of a webhook: one row per distinct event name. */
static int write_subscriptions(struct store_db *db, const struct webhook *w)
{
	sqlite3_stmt *del = db_stmt(db, "DELETE FROM webhook_events WHERE webhook_id = :id");
	if (!del)
		return ST_ERR;
	db_bind_i64(del, ":id", w->id);
	int rc = db_run(db, del);
	if (rc < 0)
		return -rc;
	sqlite3_stmt *ins = db_stmt(db, "INSERT OR IGNORE INTO webhook_events(webhook_id, event)"
	                                " SELECT :id, value FROM json_each(:events)");
	if (!ins)
		return ST_ERR;
	db_bind_i64(ins, ":id", w->id);
	db_bind_text(ins, ":events", w->events);
	rc = db_run(db, ins);
	return rc < 0 ? -rc : ST_OK;
}

int store_webhook_insert(struct store_db *db, struct webhook *w)
{
	static const char sql[] =
	    "INSERT INTO webhooks(url, events, secret, enabled, created_at, updated_at)"
	    " VALUES (:url, :events, :secret, :enabled, :t, :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":url", w->url);
	db_bind_text(st, ":events", w->events);
	db_bind_text(st, ":secret", w->secret);
	db_bind_i64(st, ":enabled", w->enabled);
	db_bind_i64(st, ":t", w->created_at);
	w->updated_at = w->created_at;
	int rc = db_insert(db, st, &w->id);
	return rc == ST_OK ? write_subscriptions(db, w) : rc;
}

int store_webhook_update(struct store_db *db, const struct webhook *w)
{
	static const char sql[] =
	    "UPDATE webhooks SET url = :url, events = :events, secret = :secret,"
	    " enabled = :enabled, updated_at = :t WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":url", w->url);
	db_bind_text(st, ":events", w->events);
	db_bind_text(st, ":secret", w->secret);
	db_bind_i64(st, ":enabled", w->enabled);
	db_bind_i64(st, ":t", w->updated_at);
	db_bind_i64(st, ":id", w->id);
	int rc = db_change_one(db, st);
	return rc == ST_OK ? write_subscriptions(db, w) : rc;
}

int store_webhook_get(struct store_db *db, int64_t id, struct webhook *out)
{
	static const char sql[] = "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_one(db, st, read_webhook, out);
}

int store_webhook_delete(struct store_db *db, int64_t id)
{
	return db_change_id(db, "DELETE FROM webhooks WHERE id = :id", id);
}

int store_webhook_list(struct store_db *db, int64_t after, int limit, store_webhook_cb cb,
                       void *arg)
{
	static const char sql[] =
	    "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id > :after ORDER BY id LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":after", after);
	db_bind_i64(st, ":lim", limit);
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct webhook w = {0};
		read_webhook(st, &w);
		cb(arg, &w);
		webhook_clear(&w);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int64_t store_webhook_total(struct store_db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM webhooks");
	return st ? db_scalar(db, st) : -1;
}

/* Deliveries ---------------------------------------------------------------------- */

void delivery_clear(struct delivery *d)
{
	if (!d)
		return;
	free(d->kind);
	free(d->event);
	free(d->payload);
	free(d->status);
	free(d->last_error);
	memset(d, 0, sizeof *d);
}

#define DELIVERY_COLS                                                                              \
	"id, coalesce(channel_id, 0), coalesce(webhook_id, 0), coalesce(customer_id, 0),"          \
	" coalesce(event_id, 0), kind, event, payload, status, last_error, attempts,"              \
	" next_attempt_at, coalesce(last_http_status, 0), created_at, updated_at,"                 \
	" coalesce(delivered_at, 0), coalesce(retried_at, 0)"

static void read_delivery(sqlite3_stmt *st, void *out)
{
	struct delivery *d = out;
	d->id = sqlite3_column_int64(st, 0);
	d->channel_id = sqlite3_column_int64(st, 1);
	d->webhook_id = sqlite3_column_int64(st, 2);
	d->customer_id = sqlite3_column_int64(st, 3);
	d->event_id = sqlite3_column_int64(st, 4);
	d->kind = db_col_dup(st, 5);
	d->event = db_col_dup(st, 6);
	d->payload = db_col_dup(st, 7);
	d->status = db_col_dup(st, 8);
	d->last_error = db_col_dup(st, 9);
	d->attempts = sqlite3_column_int64(st, 10);
	d->next_attempt_at = sqlite3_column_int64(st, 11);
	d->last_http_status = sqlite3_column_int64(st, 12);
	d->created_at = sqlite3_column_int64(st, 13);
	d->updated_at = sqlite3_column_int64(st, 14);
	d->delivered_at = sqlite3_column_int64(st, 15);
	d->retried_at = sqlite3_column_int64(st, 16);
}

int store_delivery_add(struct store_db *db, struct delivery *d)
{
	static const char sql[] =
	    "INSERT INTO deliveries(channel_id, webhook_id, kind, customer_id, event, event_id,"
	    " payload, next_attempt_at, created_at, updated_at) VALUES (nullif(:ch, 0),"
	    " nullif(:wh, 0), :kind, nullif(:cid, 0), :event, nullif(:eid, 0), :payload, :due, :t,"
	    " :t)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":ch", d->channel_id);
	db_bind_i64(st, ":wh", d->webhook_id);
	db_bind_text(st, ":kind", d->kind);
	db_bind_i64(st, ":cid", d->customer_id);
	db_bind_text(st, ":event", d->event);
	db_bind_i64(st, ":eid", d->event_id);
	db_bind_text(st, ":payload", d->payload);
	db_bind_i64(st, ":due", d->next_attempt_at ? d->next_attempt_at : d->created_at);
	db_bind_i64(st, ":t", d->created_at);
	return db_insert(db, st, &d->id);
}

int store_delivery_get(struct store_db *db, int64_t id, struct delivery *out)
{
	static const char sql[] = "SELECT " DELIVERY_COLS " FROM deliveries WHERE id = :id";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_one(db, st, read_delivery, out);
}

/* Rows of a list or claim statement to the callback; ST_OK or the failure. */
static int each_delivery(struct store_db *db, sqlite3_stmt *st, store_delivery_cb cb, void *arg,
                         int *n)
{
	int rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct delivery d = {0};
		read_delivery(st, &d);
		cb(arg, &d);
		delivery_clear(&d);
		if (n)
			(*n)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ST_OK : -rc;
}

int store_delivery_list(struct store_db *db, const struct delivery_filter *f, int64_t before,
                        int limit, store_delivery_cb cb, void *arg)
{
	/* the filters as index-friendly alternatives: by webhook, by channel, by
	 * status, or none, each walking ids downwards; the others are checked */
#define OTHERS                                                                                     \
	" AND (:s IS NULL OR status = :s) AND (:wh = 0 OR webhook_id = :wh)"                       \
	" AND (:ch = 0 OR channel_id = :ch) ORDER BY id DESC LIMIT :lim"
	static const char by_webhook[] =
	    "SELECT " DELIVERY_COLS
	    " FROM deliveries WHERE webhook_id = :wh AND id < :before" OTHERS;
	static const char by_channel[] =
	    "SELECT " DELIVERY_COLS
	    " FROM deliveries WHERE channel_id = :ch AND id < :before" OTHERS;
	static const char by_status[] =
	    "SELECT " DELIVERY_COLS " FROM deliveries WHERE status = :s AND id < :before" OTHERS;
	static const char all[] =
	    "SELECT " DELIVERY_COLS " FROM deliveries WHERE id < :before" OTHERS;
#undef OTHERS
	sqlite3_stmt *st = db_stmt(db, f->webhook_id   ? by_webhook
	                               : f->channel_id ? by_channel
	                               : f->status     ? by_status
	                                               : all);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":s", f->status);
	db_bind_i64(st, ":wh", f->webhook_id);
	db_bind_i64(st, ":ch", f->channel_id);
	db_bind_i64(st, ":before", before > 0 ? before : INT64_MAX);
	db_bind_i64(st, ":lim", limit);
	return each_delivery(db, st, cb, arg, NULL);
}

int64_t store_delivery_total(struct store_db *db, const struct delivery_filter *f)
{
	static const char sql[] =
	    "SELECT count(*) FROM deliveries WHERE (:s IS NULL OR status = :s)"
	    " AND (:wh = 0 OR webhook_id = :wh) AND (:ch = 0 OR channel_id = :ch)";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -1;
	db_bind_text(st, ":s", f->status);
	db_bind_i64(st, ":wh", f->webhook_id);
	db_bind_i64(st, ":ch", f->channel_id);
	return db_scalar(db, st);
}

int store_delivery_claim(struct store_db *db, int64_t now, int limit, store_delivery_cb cb,
                         void *arg)
{
	/* A group robot's messages are read by people in one chat, so they go out
	 * in the order they fell due: while one of a robot's messages is being
	 * sent no other sender takes the next (the claimer of a batch sends its
	 * share in order). Held back by the robot limit, they keep that order.
	 * The unary + keeps the check on the few 'sending' rows, not on the
	 * robot's whole history. */
	static const char sql[] =
	    "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = :now"
	    " WHERE id IN (SELECT d.id FROM deliveries d WHERE d.status IN ('pending', 'failed')"
	    " AND d.next_attempt_at <= :now"
	    " AND (d.kind <> 'wecom_bot' OR NOT EXISTS (SELECT 1 FROM deliveries s"
	    " WHERE s.status = 'sending' AND +s.channel_id = d.channel_id))"
	    " ORDER BY d.next_attempt_at, d.id LIMIT :lim)"
	    " RETURNING " DELIVERY_COLS;
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -ST_ERR;
	db_bind_i64(st, ":now", now);
	db_bind_i64(st, ":lim", limit);
	int n = 0;
	int rc = each_delivery(db, st, cb, arg, &n);
	return rc == ST_OK ? n : -rc;
}

int store_delivery_finish(struct store_db *db, int64_t id, const char *status, int64_t next_at,
                          const char *error, int64_t http_status, int64_t now)
{
	static const char sql[] =
	    "UPDATE deliveries SET status = :s, next_attempt_at = :next, last_error = :err,"
	    " last_http_status = nullif(:http, 0), updated_at = :now,"
	    " delivered_at = CASE WHEN :s = 'delivered' THEN :now END"
	    " WHERE id = :id AND status = 'sending'";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_text(st, ":s", status);
	db_bind_i64(st, ":next", next_at ? next_at : now);
	db_bind_text(st, ":err", error);
	db_bind_i64(st, ":http", http_status);
	db_bind_i64(st, ":now", now);
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int store_delivery_postpone(struct store_db *db, int64_t id, int64_t next_at, const char *why,
                            int64_t now)
{
	static const char sql[] =
	    "UPDATE deliveries SET status = 'pending', attempts = max(attempts - 1, 0),"
	    " next_attempt_at = :next, last_error = coalesce(:why, last_error), updated_at = :now"
	    " WHERE id = :id AND status = 'sending'";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":next", next_at);
	db_bind_text(st, ":why", why);
	db_bind_i64(st, ":now", now);
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int store_delivery_unclaim(struct store_db *db, int64_t now)
{
	static const char sql[] =
	    "UPDATE deliveries SET status = 'failed', next_attempt_at = :now, updated_at = :now,"
	    " last_error = 'interrupted while sending (scrmd stopped); sent again'"
	    " WHERE status = 'sending'";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -ST_ERR;
	db_bind_i64(st, ":now", now);
	int rc = db_run(db, st);
	return rc < 0 ? rc : sqlite3_changes(db->h);
}

int store_delivery_retry(struct store_db *db, int64_t id, int64_t now)
{
	static const char sql[] =
	    "UPDATE deliveries SET status = 'pending', next_attempt_at = :now, updated_at = :now,"
	    " retried_at = :now WHERE id = :id AND status IN ('failed', 'dead')";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":now", now);
	db_bind_i64(st, ":id", id);
	int rc = db_change_one(db, st);
	if (rc != ST_NOT_FOUND)
		return rc;
	struct delivery d = {0};
	rc = store_delivery_get(db, id, &d);
	delivery_clear(&d);
	return rc == ST_OK ? ST_CONFLICT : rc;
}

int store_delivery_purge(struct store_db *db, int64_t before)
{
	static const char sql[] = "DELETE FROM deliveries WHERE status IN ('delivered', 'dead')"
	                          " AND updated_at < :before";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":before", before);
	int rc = db_run(db, st);
	return rc < 0 ? -rc : ST_OK;
}

int store_channel_recent_sends(struct store_db *db, int64_t channel_id, int64_t since,
                               int64_t *times, int max)
{
	static const char sql[] =
	    "SELECT delivered_at FROM deliveries WHERE channel_id = :ch AND delivered_at >= :since"
	    " ORDER BY delivered_at DESC LIMIT :lim";
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return -1;
	db_bind_i64(st, ":ch", channel_id);
	db_bind_i64(st, ":since", since);
	db_bind_i64(st, ":lim", max);
	int n = 0, rc;
	while ((rc = db_step(db, st)) == SQLITE_ROW && n < max)
		times[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? n : -1;
}
