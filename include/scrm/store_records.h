/* store_records.h - persistence of customers, orders, tags and the customer
 * timeline. Functions return enum st_rc (ST_OK, ST_NOT_FOUND, ST_CONFLICT are
 * outcomes; the rest failures, logged). Structs pair with *_clear(). Every
 * change of an order is followed, in the same transaction, by
 * store_customer_refresh_figures() for the customers it touched. */
#ifndef SCRM_STORE_RECORDS_H
#define SCRM_STORE_RECORDS_H

#include "scrm/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Customers ----------------------------------------------------------------- */

struct customer {
	int64_t id;
	char *name, *phone, *email, *unionid, *gender, *birthday, *stage;
	char *attrs;                              /* JSON object text */
	int birth_month, birth_day;               /* 0 = none */
	int64_t source_channel_id, owner_user_id; /* 0 = none */
	bool stage_manual;
	int64_t points_balance, wallet_balance_cents, order_count, total_spent_cents;
	int64_t first_order_at, last_order_at, erased_at, created_at, updated_at; /* 0 = none */
	int64_t tier_id,
	    tier_override_until; /* read only here: tiers are set by the loyalty core */
	char *tier_name;
};
void customer_clear(struct customer *c);

int store_customer_get(struct store_db *db, int64_t id, struct customer *out);
/* The profile an id was merged into (0 if it never was). */
int64_t store_customer_merged_into(struct store_db *db, int64_t id);
/* Id of the (not erased) customer with this phone / unionid, or 0. */
int64_t store_customer_by_phone(struct store_db *db, const char *phone);
int64_t store_customer_by_unionid(struct store_db *db, const char *unionid);
/* Insert c (id, created_at, updated_at set). ST_CONFLICT on a taken phone or
 * unionid: check with the lookups above first to say which. */
int store_customer_insert(struct store_db *db, struct customer *c);
/* Write every writable column of c->id (and updated_at). */
int store_customer_update(struct store_db *db, const struct customer *c);
/* Recount order_count, total_spent_cents, first_order_at and last_order_at
 * from the customer's paid orders. */
int store_customer_refresh_figures(struct store_db *db, int64_t id);
/* Clear every personal field, the tags, the timeline and the buyer phones of
 * the customer's orders; the row and the orders stay. */
int store_customer_erase(struct store_db *db, int64_t id, int64_t now);
/* Move orders, tags and timeline from one profile to another, record the
 * merge and delete the old row. The caller copies fields first. */
int store_customer_merge(struct store_db *db, int64_t into, int64_t from, int64_t now);

struct customer_filter {
	const char *q; /* start of name, phone or e-mail, or a whole unionid */
	int64_t tag_id;
	const char *stage;
	int64_t owner_user_id, source_channel_id;
};
typedef void (*store_customer_cb)(void *arg, const struct customer *c);
/* Newest first: ids below before_id (0: from the newest), at most limit. */
int store_customer_list(struct store_db *db, const struct customer_filter *f, int64_t before_id,
                        int limit, store_customer_cb cb, void *arg);
int64_t store_customer_count(struct store_db *db, const struct customer_filter *f);

/* Tags of a customer, in name order. */
typedef void (*store_tag_ref_cb)(void *arg, int64_t id, const char *name);
int store_customer_tags(struct store_db *db, int64_t customer_id, store_tag_ref_cb cb, void *arg);
/* ST_OK if added, ST_CONFLICT if the customer had it already. */
int store_customer_tag_add(struct store_db *db, int64_t customer_id, int64_t tag_id, int64_t now);
/* ST_OK if removed, ST_NOT_FOUND if the customer did not have it. */
int store_customer_tag_remove(struct store_db *db, int64_t customer_id, int64_t tag_id);

/* Timeline ------------------------------------------------------------------ */

struct customer_event {
	int64_t id, customer_id, at, ref_id; /* ref_id 0 = none */
	const char *kind, *ref_type, *data;  /* data: JSON object text */
};
int store_event_add(struct store_db *db, const struct customer_event *e);
typedef void (*store_event_cb)(void *arg, const struct customer_event *e);
/* Newest first by time, then id: events before (before_at, before_id) (0: from
 * the newest). Borrowed strings. */
int store_event_list(struct store_db *db, int64_t customer_id, int64_t before_at, int64_t before_id,
                     int limit, store_event_cb cb, void *arg);
int64_t store_event_count(struct store_db *db, int64_t customer_id);

/* Orders -------------------------------------------------------------------- */

struct order {
	int64_t id, customer_id; /* 0 = unbound */
	char *platform, *external_id, *buyer_phone, *status, *items, *referral_code, *bound_by;
	int64_t amount_cents, paid_at, bound_at, created_at, updated_at;
};
void order_clear(struct order *o);

int store_order_get(struct store_db *db, int64_t id, struct order *out);
int store_order_by_key(struct store_db *db, const char *platform, const char *external_id,
                       struct order *out);
int store_order_insert(struct store_db *db, struct order *o);
/* Write every column of o->id but created_at. */
int store_order_update(struct store_db *db, const struct order *o);

struct order_filter {
	int64_t customer_id;
	const char *platform, *status;
	bool unbound;
};
typedef void (*store_order_cb)(void *arg, const struct order *o);
int store_order_list(struct store_db *db, const struct order_filter *f, int64_t before_id,
                     int limit, store_order_cb cb, void *arg);
int64_t store_order_count(struct store_db *db, const struct order_filter *f);
/* Unbound orders whose buyer phone is this one, oldest first (ids into a
 * caller-freed array). */
int store_orders_unbound_by_phone(struct store_db *db, const char *phone, int64_t **ids, size_t *n);

/* Tags ---------------------------------------------------------------------- */

struct tag {
	int64_t id;
	char *name, *group, *color, *kind, *rule;
	int64_t customer_count, created_at, updated_at;
};
void tag_clear(struct tag *t);
int store_tag_get(struct store_db *db, int64_t id, struct tag *out);
int store_tag_by_name(struct store_db *db, const char *name, struct tag *out);
/* ST_CONFLICT: the name is taken. */
int store_tag_insert(struct store_db *db, struct tag *t);
int store_tag_update(struct store_db *db, const struct tag *t);
int store_tag_delete(struct store_db *db, int64_t id);
struct tag_filter {
	const char *group, *kind, *q; /* q: start of the name */
};
typedef void (*store_tag_cb)(void *arg, const struct tag *t);
/* In id order, ids above after_id. */
int store_tag_list(struct store_db *db, const struct tag_filter *f, int64_t after_id, int limit,
                   store_tag_cb cb, void *arg);
int64_t store_tag_count(struct store_db *db, const struct tag_filter *f);

/* Channels (read side; the /channels API comes with growth analytics). */
bool store_channel_exists(struct store_db *db, int64_t id);

#endif
