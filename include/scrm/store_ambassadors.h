/* store_ambassadors.h - KOC ambassadors and their commission ledger
 * (migrations/0008_ambassadors.sql). Strings in the structs are owned by the
 * struct (free with the _clear function). */
#ifndef SCRM_STORE_AMBASSADORS_H
#define SCRM_STORE_AMBASSADORS_H

#include "scrm/store.h"

#include <stdint.h>

struct ambassador {
	int64_t id, customer_id, level, commission_pct, referred_orders, referred_gmv_cents;
	int64_t created_at, updated_at;
	char *referral_code;
	/* read only, counted when read */
	int64_t referred_customers, pending_cents, settled_cents;
};
void ambassador_clear(struct ambassador *a);

/* ST_CONFLICT: the customer is one already, or the code is taken. */
int store_ambassador_insert(struct store_db *db, struct ambassador *a);
/* level, commission_pct, referral_code; ST_CONFLICT on a taken code. */
int store_ambassador_update(struct store_db *db, const struct ambassador *a);
int store_ambassador_get(struct store_db *db, int64_t id, struct ambassador *out);
int store_ambassador_by_code(struct store_db *db, const char *code, struct ambassador *out);
/* The ambassador id of a customer: 0 when none, -1 on failure. */
int64_t store_ambassador_id_of(struct store_db *db, int64_t customer_id);
typedef void (*store_ambassador_cb)(void *arg, const struct ambassador *a);
int store_ambassador_list(struct store_db *db, int64_t after, int limit, store_ambassador_cb cb,
                          void *arg);
int64_t store_ambassador_total(struct store_db *db);
/* The referred totals move by (orders, gmv) and the level becomes at least
 * `level`. */
int store_ambassador_add_referred(struct store_db *db, int64_t id, int64_t orders, int64_t gmv,
                                  int64_t level, int64_t now);

struct commission {
	int64_t id, ambassador_id, order_id, amount_cents, order_cents, settle_at, created_at,
	    updated_at;
	char *kind, *status;
};
void commission_clear(struct commission *c);
int store_commission_insert(struct store_db *db, struct commission *c);
/* The order's entry of a kind (earn / reversal): ST_OK or ST_NOT_FOUND. */
int store_commission_of_order(struct store_db *db, int64_t order_id, const char *kind,
                              struct commission *out);
int store_commission_set_status(struct store_db *db, int64_t id, const char *status, int64_t now);
/* Pending earnings whose return window has passed become settled. */
int store_commissions_settle_due(struct store_db *db, int64_t now, int64_t *count);
typedef void (*store_commission_cb)(void *arg, const struct commission *c);
/* Newest first below `before`. */
int store_commission_list(struct store_db *db, int64_t ambassador_id, int64_t before, int limit,
                          store_commission_cb cb, void *arg);
int64_t store_commission_total(struct store_db *db, int64_t ambassador_id);
/* The orders of customer_id holding a pending or settled earning of the
 * ambassador who is customer_id, oldest first. */
int store_commission_own_orders(struct store_db *db, int64_t customer_id,
                                void (*cb)(void *arg, int64_t order_id), void *arg);

/* The customers an ambassador's code brought: per bound customer, the orders
 * whose earning stands and their amounts, by customer id after `after`. */
int store_ambassador_referrals(struct store_db *db, const char *code, int64_t after, int limit,
                               void (*cb)(void *arg, int64_t customer_id, const char *name,
                                          int64_t orders, int64_t gmv_cents),
                               void *arg);

#endif
