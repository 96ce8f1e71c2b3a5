/* store_loyalty.h - persistence of the member club: settings, the points and
 * wallet ledgers with their cached balances, check-ins and tiers. Functions
 * return enum st_rc. Balances change only together with a ledger row. */
#ifndef SCRM_STORE_LOYALTY_H
#define SCRM_STORE_LOYALTY_H

#include "scrm/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Settings: a JSON text per key; ST_NOT_FOUND when never set. */
int store_setting_get(struct store_db *db, const char *key, char **value);
int store_setting_put(struct store_db *db, const char *key, const char *value, int64_t now);

struct ledger_entry {
	int64_t id, customer_id, delta, ref_id, expires_at, remaining, shortfall, created_at;
	const char *reason, *ref_type, *note; /* borrowed in callbacks */
};
typedef void (*store_ledger_cb)(void *arg, const struct ledger_entry *e);

/* Points. Insert a ledger row and move the cached balance by its delta. */
int store_points_add(struct store_db *db, const struct ledger_entry *e, int64_t *id);
int64_t store_points_balance(struct store_db *db, int64_t customer_id);
/* The customer's lots with points left: those order_id earned first (when not
 * 0), then the one that expires first (never-expiring last), then the oldest.
 * At most limit. */
typedef void (*store_lot_cb)(void *arg, int64_t id, int64_t remaining);
int store_points_lots(struct store_db *db, int64_t customer_id, int64_t order_id, int limit,
                      store_lot_cb cb, void *arg);
/* Points of an order's lots (since its last refund) that expired unspent. */
int64_t store_points_order_expired(struct store_db *db, int64_t order_id);
int store_points_lot_set(struct store_db *db, int64_t id, int64_t remaining);
/* What an order has earned and not lost: grants minus clawbacks and shortfalls. */
int64_t store_points_order_net(struct store_db *db, int64_t order_id);
/* Points granted since t, less what refunds since t took back, shortfall included
 * (a tier's "points earned": a refund undoes it even when the points were spent). */
int64_t store_points_earned_since(struct store_db *db, int64_t customer_id, int64_t since);
int store_points_list(struct store_db *db, int64_t customer_id, int64_t before_id, int limit,
                      store_ledger_cb cb, void *arg);
/* Expire every lot past its date: an expire row for the rest of each, lots
 * emptied, balances lowered. *count gets the number of lots. */
int store_points_expire_due(struct store_db *db, int64_t now, int64_t *count, int64_t *points);

/* Wallet: the same shape in cents (delta is delta_cents). */
int store_wallet_add(struct store_db *db, const struct ledger_entry *e, int64_t *id);
int64_t store_wallet_balance(struct store_db *db, int64_t customer_id);
int store_wallet_list(struct store_db *db, int64_t customer_id, int64_t before_id, int limit,
                      store_ledger_cb cb, void *arg);

/* Content (reviews, buyer shows, shares). */
int store_content_add(struct store_db *db, int64_t customer_id, const char *kind, int64_t order_id,
                      const char *url, const char *note, int64_t points, int64_t now, int64_t *id);
/* Whether a review of this order has earned its bonus already. */
bool store_content_review_paid(struct store_db *db, int64_t order_id);

/* Check-ins. The last one (day, streak) or ST_NOT_FOUND. */
int store_checkin_last(struct store_db *db, int64_t customer_id, int64_t *day, int *streak);
/* ST_CONFLICT when the customer checked in on that day already. */
int store_checkin_add(struct store_db *db, int64_t customer_id, int64_t day, int streak,
                      int64_t points, int64_t now);

/* Tiers. */
struct tier {
	int64_t id, threshold, rank, discount_pct, created_at, updated_at;
	char *name, *basis, *perks;
};
void tier_clear(struct tier *t);
int store_tier_get(struct store_db *db, int64_t id, struct tier *out);
int store_tier_insert(struct store_db *db, struct tier *t);
int store_tier_update(struct store_db *db, const struct tier *t);
int store_tier_delete(struct store_db *db, int64_t id);
/* All tiers, highest rank first; caller frees with store_tiers_free. */
int store_tiers_all(struct store_db *db, struct tier **out, size_t *n);
void store_tiers_free(struct tier *t, size_t n);
int64_t store_tier_next_rank(struct store_db *db);

/* A customer's tier fields. */
struct customer_tier {
	int64_t tier_id, override_id, override_until; /* 0 = none */
};
int store_customer_tier_get(struct store_db *db, int64_t customer_id, struct customer_tier *out);
int store_customer_tier_set(struct store_db *db, int64_t customer_id, const struct customer_tier *t,
                            int64_t now);
/* Paid cents of a customer's orders paid since t. */
int64_t store_spent_since(struct store_db *db, int64_t customer_id, int64_t since);

/* The daily tier pass walks customers in id ranges; for each live customer
 * in [from, to) it reports the current tier fields and both 12-month sums. */
typedef void (*store_tier_row_cb)(void *arg, int64_t customer_id, const struct customer_tier *t,
                                  int64_t spent, int64_t points);
int store_tier_scan(struct store_db *db, int64_t from, int64_t to, int64_t since, bool want_spent,
                    bool want_points, store_tier_row_cb cb, void *arg);
int64_t store_customer_max_id(struct store_db *db);

/* Coupons ---------------------------------------------------------------------- */

/* valid_days and valid_until: 0 = not set (at least one is). */
struct coupon_template {
	int64_t id, value, min_spend_cents, valid_days, valid_until, created_at, updated_at;
	char *name, *kind;
	bool active;
};
void coupon_template_clear(struct coupon_template *t);
int store_coupon_template_get(struct store_db *db, int64_t id, struct coupon_template *out);
/* Insert t; sets t->id and updated_at = created_at (which the caller sets). */
int store_coupon_template_insert(struct store_db *db, struct coupon_template *t);
/* Write every writable column of t->id, with t->updated_at. */
int store_coupon_template_update(struct store_db *db, const struct coupon_template *t);
/* Delete a template: the caller checks first that nothing refers to it. */
int store_coupon_template_delete(struct store_db *db, int64_t id);
/* How many coupons were issued from a template (-1 on error). */
int64_t store_coupon_template_issued(struct store_db *db, int64_t id);
struct coupon_template_filter {
	int active; /* -1: any, else 0 or 1 */
};
typedef void (*store_coupon_template_cb)(void *arg, const struct coupon_template *t);
/* In id order, ids above after_id, at most limit. */
int store_coupon_template_list(struct store_db *db, const struct coupon_template_filter *f,
                               int64_t after_id, int limit, store_coupon_template_cb cb, void *arg);
int64_t store_coupon_template_count(struct store_db *db, const struct coupon_template_filter *f);

/* An issued coupon. status is as stored: the daily pass marks expired ones,
 * so an "active" coupon past expires_at is expired already (core_coupon_status).
 * name, kind, value and min_spend_cents are its template's, filled by the reads
 * and by core_coupon_issue (not used by store_coupon_insert). */
struct coupon {
	int64_t id, customer_id, template_id, issued_at, expires_at, used_at, order_id, created_at,
	    updated_at;
	char *code, *status, *source;
	char *name, *kind;
	int64_t value, min_spend_cents;
};
void coupon_clear(struct coupon *c);
/* ST_CONFLICT when the code exists (draw another). */
int store_coupon_insert(struct store_db *db, struct coupon *c);
/* Mark active coupons past expires_at expired; *count gets how many. */
int store_coupons_expire_due(struct store_db *db, int64_t now, int64_t *count);
int store_coupon_get(struct store_db *db, int64_t id, struct coupon *out);
int store_coupon_by_code(struct store_db *db, const char *code, struct coupon *out);
/* Mark an active coupon used (order_id 0: none): ST_NOT_FOUND when it is not
 * active any more. */
int store_coupon_use(struct store_db *db, int64_t id, int64_t order_id, int64_t now);
struct coupon_filter {
	int64_t customer_id;
	const char *status; /* NULL: any; else active, used or expired as seen at now */
	int64_t now;
};
typedef void (*store_coupon_cb)(void *arg, const struct coupon *c);
/* A customer's coupons, newest first: ids below before_id (0: from the newest). */
int store_coupon_list(struct store_db *db, const struct coupon_filter *f, int64_t before_id,
                      int limit, store_coupon_cb cb, void *arg);
int64_t store_coupon_count(struct store_db *db, const struct coupon_filter *f);

#endif
