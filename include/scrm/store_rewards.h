/* store_rewards.h - persistence of the points mall: rewards, their stock and
 * the redemptions. Functions return enum st_rc; structs pair with *_clear().
 * A redemption's points are a points_ledger row written in the same
 * transaction (core_reward_redeem). */
#ifndef SCRM_STORE_REWARDS_H
#define SCRM_STORE_REWARDS_H

#include "scrm/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Times and coupon_template_id: 0 = none. stock counts only when has_stock
 * (else unlimited); per_customer_limit 0 = no limit. prizes: the JSON array
 * text [{"name","weight","coupon_template_id"}] ("[]" unless a lottery). */
struct reward {
	int64_t id, points_cost, stock, per_customer_limit, starts_at, ends_at, coupon_template_id,
	    created_at, updated_at;
	bool has_stock, active;
	char *name, *kind, *prizes;
};
void reward_clear(struct reward *r);

int store_reward_get(struct store_db *db, int64_t id, struct reward *out);
/* Insert r; sets r->id and updated_at = created_at (which the caller sets). */
int store_reward_insert(struct store_db *db, struct reward *r);
/* Write every writable column of r->id, with r->updated_at. */
int store_reward_update(struct store_db *db, const struct reward *r);
/* Delete a reward: the caller checks first that it was never redeemed. */
int store_reward_delete(struct store_db *db, int64_t id);
struct reward_filter {
	const char *kind; /* NULL: any */
	int active;       /* -1: any, else 0 or 1 */
};
typedef void (*store_reward_cb)(void *arg, const struct reward *r);
/* In id order, ids above after_id, at most limit. */
int store_reward_list(struct store_db *db, const struct reward_filter *f, int64_t after_id,
                      int limit, store_reward_cb cb, void *arg);
int64_t store_reward_count(struct store_db *db, const struct reward_filter *f);
/* Take one from a limited stock: ST_CONFLICT when none is left, ST_NOT_FOUND
 * when the reward does not exist or its stock is unlimited. */
int store_reward_take_stock(struct store_db *db, int64_t id, int64_t now);
/* How many rewards refer to a coupon template, as their coupon or as a
 * lottery prize (-1 on error). */
int64_t store_rewards_using_template(struct store_db *db, int64_t template_id);

/* prize: the lottery prize drawn, JSON object text or NULL; coupon_id 0 =
 * none. reward_name and reward_kind are filled by the list. */
struct redemption {
	int64_t id, reward_id, customer_id, points, coupon_id, created_at;
	char *prize, *reward_name, *reward_kind;
};
void redemption_clear(struct redemption *r);
/* Insert r (created_at set by the caller); sets r->id. */
int store_redemption_insert(struct store_db *db, struct redemption *r);
/* Redemptions of one reward by one customer / of one reward by anyone
 * (customer_id 0). -1 on error. */
int64_t store_redemption_count_by(struct store_db *db, int64_t reward_id, int64_t customer_id);
/* Exactly one of reward_id and customer_id is set. */
struct redemption_filter {
	int64_t reward_id, customer_id;
};
typedef void (*store_redemption_cb)(void *arg, const struct redemption *r);
/* Newest first: ids below before_id (0: from the newest), at most limit. */
int store_redemption_list(struct store_db *db, const struct redemption_filter *f, int64_t before_id,
                          int limit, store_redemption_cb cb, void *arg);
int64_t store_redemption_count(struct store_db *db, const struct redemption_filter *f);

#endif
