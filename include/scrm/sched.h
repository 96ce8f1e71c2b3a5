/* sched.h - background work on its own thread: housekeeping (expired sessions,
 * old idempotency records, audit retention) every few minutes, and the daily
 * pass of the member club once per business day. */
#ifndef SCRM_SCHED_H
#define SCRM_SCHED_H

struct scrm_config;

int sched_start(const struct scrm_config *cfg);
void sched_stop(void);
/* One housekeeping pass now, on the calling thread; 0 or -1. */
int sched_housekeeping_once(const struct scrm_config *cfg);

#include <stdint.h>

struct daily_result {
	int64_t lots_expired, points_expired, coupons_expired, customers_scanned, tiers_changed;
	int64_t commissions_settled;
	int64_t auto_tags, tags_added, tags_removed, audiences, audience_entered, audience_left;
	double expiry_ms, tier_ms, segments_ms;
};
/* The daily pass at time now: expiry of points lots and coupons, tier
 * overrides ended and every tier recomputed. 0 or -1 (logged). */
int sched_daily_pass(int64_t now, struct daily_result *out);
/* Run the daily pass if the business day changed since its last run. */
void sched_daily_if_due(void);

/* The SOP scheduler thread: plans runs from triggers and fires due ones every
 * [sop] tick_ms, or sooner when kicked (a SOP saved or run by hand). */
int sched_sops_start(const struct scrm_config *cfg);
void sched_sops_stop(void);
void sched_sops_kick(void);
/* One pass (plan, then fire) on the calling thread. */
void sched_sops_tick(void);
#endif
