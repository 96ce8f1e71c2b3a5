/* core_segments.h - auto tags and audiences. Auto tags are kept current two
 * ways: every write that changes a customer (anything that writes a timeline
 * event) has that customer's auto tags re-evaluated in the same transaction,
 * and a full pass (daily, or on demand) re-evaluates every auto tag for every
 * customer, which is how rules that read the calendar stay true. Audiences are
 * re-evaluated by the full pass and on demand; entering and leaving either is
 * recorded on the timeline (tag.added/tag.removed with auto, audience.entered/
 * audience.left). */
#ifndef SCRM_CORE_SEGMENTS_H
#define SCRM_CORE_SEGMENTS_H

#include "scrm/core.h"

#include <jansson.h>
#include <stdint.h>

/* Register the per-write hooks with the store writer (once, at start). */
void core_segments_init(void);
/* Mark a customer changed in the write being run on this thread. */
void core_customer_dirty(int64_t customer_id);
/* Forget the marks (a full pass follows anyway). */
void core_segments_forget(void);

/* The tags, tiers and groups a compiled rule names must exist: an unknown name
 * is far more often a typo than a wish to match nobody. 0, or -1 with e
 * (CORE_INVALID, the path of the value). Stored rules are not re-checked: a
 * tag deleted later simply matches nobody. */
int core_rule_check_refs(struct store_db *db, const json_t *rule, const char *path,
                         struct core_err *e);

/* One auto tag for every customer now. */
int core_autotag_evaluate(struct store_db *db, int64_t tag_id, int64_t now, int64_t *added,
                          int64_t *removed, struct core_err *e);
/* One audience now (count, membership; events when asked). */
int core_audience_evaluate(struct store_db *db, int64_t audience_id, int64_t now, bool events,
                           int64_t *count, int64_t *entered, int64_t *left, struct core_err *e);

#endif
