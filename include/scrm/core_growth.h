/* core_growth.h - community groups: joining and leaving (timeline events), and
 * activity, a member's first of which moves them to the `observing` stage. */
#ifndef SCRM_CORE_GROWTH_H
#define SCRM_CORE_GROWTH_H

#include "scrm/core.h"

#include <stdbool.h>
#include <stdint.h>

struct store_db;
struct group;

/* Add a live customer to g: *added false when a member already. */
int core_group_join(struct store_db *db, const struct group *g, int64_t customer_id, int64_t now,
                    bool *added, struct core_err *e);
/* CORE_NOT_FOUND when not a member. */
int core_group_leave(struct store_db *db, const struct group *g, int64_t customer_id, int64_t now,
                     struct core_err *e);
/* A member spoke or took part at `at`; *recorded false for a repeat of the same
 * (member, time, kind). Moves the customer to at least `observing`. */
int core_group_activity(struct store_db *db, const struct group *g, int64_t customer_id, int64_t at,
                        const char *kind, int64_t now, bool *recorded, struct core_err *e);

#endif
