/* core_loyalty.h - the rules of the member club: points (rules, grants, FIFO
 * spending, order earnings and refund clawbacks, expiry), check-ins, the wallet,
 * content bonuses and tiers. Like core.h, every function runs inside a write
 * transaction, writes its ledger rows, balances and timeline events there, and
 * on a refusal fills a core_err and returns -1. */
#ifndef SCRM_CORE_LOYALTY_H
#define SCRM_CORE_LOYALTY_H

#include "scrm/core.h"
#include "scrm/store_loyalty.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Refusals with their own error code (422 unless said). */
#define CORE_CODE_INSUFFICIENT_POINTS "insufficient_points"
#define CORE_CODE_INSUFFICIENT_BALANCE "insufficient_balance"
#define CORE_CODE_OUT_OF_STOCK "out_of_stock"
#define CORE_CODE_LIMIT_REACHED "limit_reached"
#define CORE_CODE_NOT_AVAILABLE "not_available"
/* Fill e as a 422 with one of the codes above and return -1. */
int core_fail_code(struct core_err *e, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Points rules ([settings] "points"). */
#define POINTS_SCHEDULE_MAX 31
struct points_rules {
	int64_t per_yuan_x100; /* points per yuan paid, in hundredths (100 = 1 per yuan) */
	int64_t bind_bonus;    /* for an order bound through the binding flow */
	int64_t review_bonus;  /* for the first review of a bound order */
	int64_t schedule[POINTS_SCHEDULE_MAX];
	size_t schedule_len; /* check-in streak day N earns schedule[N-1]; then it restarts */
	int expiry_months;   /* a lot expires this many months after it was earned; 0: never */
	int member_day;      /* day of the month (1..31), 0: none */
	int64_t member_day_multiplier; /* order points on member day, times this */
};
void core_points_rules_default(struct points_rules *r);
/* The stored rules (defaults for what was never set). */
int core_points_rules_load(struct store_db *db, struct points_rules *r, struct core_err *e);
/* Apply the fields present in j over r, checking each (field names the fault). */
int core_points_rules_apply(struct points_rules *r, const json_t *j, struct core_err *e);
json_t *core_points_rules_json(const struct points_rules *r);
int core_points_rules_save(struct store_db *db, const struct points_rules *r, int64_t now,
                           struct core_err *e);

/* Give points as a lot that expires by the rules. reason: order, bind_bonus,
 * review, checkin, or an operator's reason with ref_type "manual". */
int core_points_grant(struct store_db *db, int64_t customer_id, int64_t points, const char *reason,
                      const char *ref_type, int64_t ref_id, const char *note, int64_t now,
                      const struct points_rules *r, struct core_err *e);
/* Take points from the oldest lots first. Without partial, a balance below
 * points is refused (insufficient_points); with partial (refund clawbacks) it
 * takes what there is and records the rest as shortfall. *taken may be NULL. */
int core_points_take(struct store_db *db, int64_t customer_id, int64_t points, const char *reason,
                     const char *ref_type, int64_t ref_id, const char *note, int64_t now,
                     bool partial, int64_t *taken, struct core_err *e);
/* Bring an order's points in line with its state: a bound, paid order has
 * earned its points (once: re-sends and re-binds do not pay twice; the member
 * day multiplier and the bind bonus apply at that moment); any other order has
 * given them back. */
int core_points_order_sync(struct store_db *db, const struct order *o, int64_t now,
                           struct core_err *e);

/* Check in for today (business time zone): CORE_CONFLICT when done already. */
int core_checkin(struct store_db *db, int64_t customer_id, int64_t now, int *streak,
                 int64_t *points, struct core_err *e);

/* Wallet: reason topup (delta > 0), spend (< 0), refund (> 0) or adjust. */
int core_wallet_move(struct store_db *db, int64_t customer_id, int64_t delta_cents,
                     const char *reason, const char *note, int64_t now, struct core_err *e);

/* Reviews, buyer shows and shares. *content_id and *points get the result. */
int core_content_add(struct store_db *db, int64_t customer_id, const char *kind, int64_t order_id,
                     const char *url, const char *note, int64_t now, int64_t *content_id,
                     int64_t *points, struct core_err *e);

/* Stages moved by engagement: at least `stage` (never back). */
int core_stage_at_least(struct store_db *db, int64_t customer_id, const char *stage, int64_t now,
                        struct core_err *e);

/* Tiers. The tier a customer's 12-month figures reach (0: none). */
int64_t core_tier_pick(const struct tier *tiers, size_t n, int64_t spent_12m, int64_t points_12m);
/* The start of the 12-month window that ends at now (business calendar). */
int64_t core_tier_window_start(int64_t now);
/* Recompute a customer's tier (an override wins until its end). */
int core_tier_refresh(struct store_db *db, int64_t customer_id, int64_t now, struct core_err *e);
/* Set (tier_id > 0, until > now) or clear (tier_id 0) a manual override. */
int core_tier_override(struct store_db *db, int64_t customer_id, int64_t tier_id, int64_t until,
                       int64_t now, struct core_err *e);
/* Record a tier change on the customer and the timeline. */
int core_tier_apply(struct store_db *db, int64_t customer_id, const struct customer_tier *before,
                    const struct customer_tier *after, const struct tier *tiers, size_t n,
                    int64_t now, struct core_err *e);

/* Coupons. When a coupon of template t issued at now expires: the end of the
 * business day valid_days later, or valid_until, whichever is first. */
int64_t core_coupon_expiry(const struct coupon_template *t, int64_t now);
/* Issue a coupon of a template to a customer (source: manual, gift_pack,
 * reward, lottery, sop, audience) with a fresh unguessable code. */
int core_coupon_issue(struct store_db *db, int64_t customer_id, int64_t template_id,
                      const char *source, int64_t now, struct coupon *out, struct core_err *e);
/* The new-member gift pack ([settings] "coupons": {"new_member_gift_pack": [template
 * ids]}) issued to a customer who just joined. Implemented with coupons. */
int core_coupons_gift_pack(struct store_db *db, int64_t customer_id, int64_t now,
                           struct core_err *e);
/* The status a coupon shows at now: an active coupon past expires_at is
 * "expired" even before the daily pass marks it. Static string. */
const char *core_coupon_status(const struct coupon *c, int64_t now);
/* Check a template as it would be stored: kind and value (amount_off: cents
 * > 0; percent_off: 1..99; gift: 0), min_spend_cents, valid_days (1..3650)
 * and/or valid_until (ahead of now when until_set says the caller sets it). */
int core_coupon_template_check(const struct coupon_template *t, bool until_set, int64_t now,
                               struct core_err *e);
/* Store a checked template: a new one (old NULL) or a change of old. The
 * terms (kind, value, min_spend_cents) of a template that coupons were issued
 * from are fixed (CORE_CONFLICT). t gets its id and times. */
int core_coupon_template_save(struct store_db *db, struct coupon_template *t,
                              const struct coupon_template *old, int64_t now, struct core_err *e);
/* Delete a template nothing refers to: no coupon issued from it (else
 * CORE_CONFLICT: switch it off instead), no reward, not in the gift pack. */
int core_coupon_template_delete(struct store_db *db, int64_t id, struct core_err *e);
/* Redeem a coupon by its code (upper-cased by the caller), optionally against
 * an order (0: none) that must belong to the coupon's customer, be paid and
 * reach the template's min_spend_cents (field order_id). A used or expired
 * coupon is CORE_CONFLICT. Writes coupon.redeemed and moves the stage to at
 * least interested. *out gets the used coupon (caller clears). */
int core_coupon_redeem(struct store_db *db, const char *code, int64_t order_id, int64_t now,
                       struct coupon *out, struct core_err *e);
/* The coupon settings: {"new_member_gift_pack": [template ids]} (caller owns). */
json_t *core_coupons_settings(struct store_db *db, struct core_err *e);
/* Replace the gift pack: every id a positive integer naming an active
 * template (field new_member_gift_pack[i]), at most 20. */
int core_coupons_settings_put(struct store_db *db, const json_t *gift_pack, int64_t now,
                              struct core_err *e);

/* The points mall (struct reward in store_rewards.h). */
struct reward;
/* Check a reward as it would be stored. prizes (may be NULL: keep r->prizes)
 * is the lottery's array, checked with paths such as prizes[1].weight and
 * stored into r->prizes as compact text. Kind rules: coupon needs
 * coupon_template_id; flash_sale needs starts_at and ends_at and may name a
 * template; lottery needs prizes; only lotteries have prizes. Templates named
 * must exist. */
int core_reward_check(struct store_db *db, struct reward *r, const json_t *prizes,
                      struct core_err *e);
/* Delete a reward never redeemed (else CORE_CONFLICT: switch it off). */
int core_reward_delete(struct store_db *db, int64_t id, struct core_err *e);
/* Draw an index in [0, n) with probability weight[i] / sum (non-positive
 * weights are never drawn), from the CSPRNG; -1 when no weight is positive. */
int core_lottery_draw(const int64_t *weights, size_t n);
/* The same with the random number r in [0, sum of positive weights) given. */
int core_lottery_pick(const int64_t *weights, size_t n, uint64_t r);

struct reward_result {
	int64_t redemption_id, points_spent, points_balance;
	json_t *prize; /* lottery: {"name", "coupon_template_id"} (owned), else NULL */
	bool has_coupon;
	struct coupon coupon; /* when has_coupon */
};
void core_reward_result_clear(struct reward_result *r);
/* Redeem a reward for a customer, all of it in the caller's transaction. In
 * this order: the reward is active and inside its window, with its coupon
 * templates usable (not_available); the customer's per_customer_limit
 * (limit_reached); the stock (out_of_stock); the points (insufficient_points).
 * Then the points are taken, the stock lowered, a coupon issued (kind coupon,
 * a flash sale with a template, or a lottery prize with one) and the
 * redemption recorded; reward.redeemed on the timeline; stage at least
 * interested. */
int core_reward_redeem(struct store_db *db, int64_t reward_id, int64_t customer_id, int64_t now,
                       struct reward_result *out, struct core_err *e);

#endif
