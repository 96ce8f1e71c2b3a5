/* core_ambassadors.h - KOC ambassadors: what a referred order earns, and when. */
#ifndef SCRM_CORE_AMBASSADORS_H
#define SCRM_CORE_AMBASSADORS_H

#include "scrm/core.h"

#include <stdint.h>

struct store_db;
struct order;

/* The return window (days after payment before a commission settles) and the
 * levels: referred GMV in yuan to reach level 2, 3, ... ("1000,5000,20000").
 * Set once at start; 0 on success, -1 when levels is not such a list. */
int core_ambassadors_configure(unsigned return_days, const char *levels);
/* The level referred GMV (cents) reaches. */
int64_t core_ambassador_level_for(int64_t gmv_cents);
/* Bring the commission of order o in line with its state, in the order's
 * transaction: a paid order carrying an ambassador's referral code (not the
 * ambassador's own, paid after the enrolment) earns commission_pct of its amount, pending until the
 * return window has passed; refunded, cancelled or found to be the
 * ambassador's own (bound to their profile later), a pending earning is
 * reversed and a settled one gets a negative reversal. An order earns once. */
int core_commission_sync(struct store_db *db, const struct order *o, int64_t now,
                         struct core_err *e);
/* After a merge: the orders of customer_id that earned the commission of the
 * ambassador who is now that same customer are their own; each earning is
 * taken back as core_commission_sync takes back a refunded order's. */
int core_commission_own_sync(struct store_db *db, int64_t customer_id, int64_t now,
                             struct core_err *e);

#endif
