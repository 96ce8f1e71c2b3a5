/* store_notify.h - message channels, event webhooks and the outbox of
 * deliveries (migrations/0005_notify.sql). Strings in the structs are owned by
 * the struct (free with the _clear function); callbacks get borrowed ones. */
#ifndef SCRM_STORE_NOTIFY_H
#define SCRM_STORE_NOTIFY_H

#include "scrm/store.h"

#include <stdbool.h>
#include <stdint.h>

struct channel {
	int64_t id;
	char *name, *kind, *url, *secret, *corp_id, *corp_secret, *sender;
	bool enabled;
	int64_t created_at, updated_at;
};
void channel_clear(struct channel *c);

/* ST_OK (c->id set), ST_CONFLICT on a taken name, or the failure. */
int store_channel_insert(struct store_db *db, struct channel *c);
/* Every field of c by c->id: ST_OK, ST_NOT_FOUND, ST_CONFLICT (name). */
int store_channel_update(struct store_db *db, const struct channel *c);
int store_channel_get(struct store_db *db, int64_t id, struct channel *out);
/* Its deliveries stay in the log without it (channel_id becomes null). */
int store_channel_delete(struct store_db *db, int64_t id);
typedef void (*store_channel_cb)(void *arg, const struct channel *c);
/* In id order after `after`, up to limit. */
int store_channel_list(struct store_db *db, int64_t after, int limit, store_channel_cb cb,
                       void *arg);
int64_t store_channel_total(struct store_db *db);

struct webhook {
	int64_t id;
	char *url, *events, *secret; /* events: a JSON array of names */
	bool enabled;
	int64_t created_at, updated_at;
};
void webhook_clear(struct webhook *w);

/* Insert or update the webhook and its subscriptions (one row per event name
 * of w->events). ST_OK or the failure (ST_NOT_FOUND on update). */
int store_webhook_insert(struct store_db *db, struct webhook *w);
int store_webhook_update(struct store_db *db, const struct webhook *w);
int store_webhook_get(struct store_db *db, int64_t id, struct webhook *out);
int store_webhook_delete(struct store_db *db, int64_t id);
typedef void (*store_webhook_cb)(void *arg, const struct webhook *w);
int store_webhook_list(struct store_db *db, int64_t after, int limit, store_webhook_cb cb,
                       void *arg);
int64_t store_webhook_total(struct store_db *db);

struct delivery {
	int64_t id, channel_id, webhook_id, customer_id, event_id; /* 0: none */
	char *kind, *event, *payload, *status, *last_error;
	int64_t attempts, next_attempt_at, last_http_status, created_at, updated_at, delivered_at;
	int64_t retried_at; /* 0: never retried by hand */
};
void delivery_clear(struct delivery *d);

/* Enqueue d (pending, due at d->next_attempt_at or created_at): ST_OK with
 * d->id set. Call it in the transaction of the cause. */
int store_delivery_add(struct store_db *db, struct delivery *d);
int store_delivery_get(struct store_db *db, int64_t id, struct delivery *out);
typedef void (*store_delivery_cb)(void *arg, const struct delivery *d);
/* Which deliveries: each filter applies when not NULL / 0. */
struct delivery_filter {
	const char *status;
	int64_t webhook_id, channel_id;
};
/* Newest first, ids below `before` (0: from the newest). */
int store_delivery_list(struct store_db *db, const struct delivery_filter *f, int64_t before,
                        int limit, store_delivery_cb cb, void *arg);
int64_t store_delivery_total(struct store_db *db, const struct delivery_filter *f);

/* The sender's side. Claim up to limit due deliveries (pending or failed with
 * next_attempt_at <= now), oldest due first: each becomes `sending` with one
 * more attempt, and is passed to cb. Returns how many, or -ST_*. */
int store_delivery_claim(struct store_db *db, int64_t now, int limit, store_delivery_cb cb,
                         void *arg);
/* The outcome of a claimed delivery: status delivered, failed (again at
 * next_at) or dead, with the error text and HTTP status of the attempt (NULL
 * / 0 for none). */
int store_delivery_finish(struct store_db *db, int64_t id, const char *status, int64_t next_at,
                          const char *error, int64_t http_status, int64_t now);
/* Put a claimed delivery back without counting the attempt (a rate limit or
 * a disabled channel): pending again at next_at. */
int store_delivery_postpone(struct store_db *db, int64_t id, int64_t next_at, const char *why,
                            int64_t now);
/* After a crash: deliveries left `sending` are due again now (sent a second
 * time, under the same id). Returns how many, or -ST_*. */
int store_delivery_unclaim(struct store_db *db, int64_t now);
/* Another try for a failed or dead delivery, now: ST_OK, ST_NOT_FOUND, or
 * ST_CONFLICT when it is pending, being sent or delivered. */
int store_delivery_retry(struct store_db *db, int64_t id, int64_t now);
/* Forget delivered and dead deliveries last changed before `before`. */
int store_delivery_purge(struct store_db *db, int64_t before);
/* When the channel's last sends (delivered_at since `since`) happened, newest
 * first, up to max into times; how many, or -1. */
int store_channel_recent_sends(struct store_db *db, int64_t channel_id, int64_t since,
                               int64_t *times, int max);

#endif
