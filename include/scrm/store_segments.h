/* store_segments.h - running compiled rules (core_rules.h) against customers:
 * counts, pages, membership of auto tags and audiences, and the per-customer
 * purchase bitmasks that "platform" and "category" conditions read. */
#ifndef SCRM_STORE_SEGMENTS_H
#define SCRM_STORE_SEGMENTS_H

#include "scrm/core_rules.h"
#include "scrm/store.h"
#include "scrm/store_records.h"

#include <stdbool.h>
#include <stdint.h>

/* Live customers matching r: how many; newest first below before_id. */
int64_t store_segment_count(struct store_db *db, const struct rule_sql *r);
int store_segment_list(struct store_db *db, const struct rule_sql *r, int64_t before_id, int limit,
                       store_customer_cb cb, void *arg);
/* One pass over the matches of r: how many, and the ids of the newest
 * (up to limit, newest first) into ids. -1 on failure. */
int64_t store_segment_count_sample(struct store_db *db, const struct rule_sql *r, int64_t *ids,
                                   int limit, int *nids);
/* Refresh the query planner's statistics (a sampled ANALYZE, milliseconds on
 * a million customers), so that a rule on a rare tag is driven from the tag
 * and not by a scan of every customer. */
int store_refresh_statistics(struct store_db *db);
/* Whether a tag, tier or group ("tag", "tier", "group") with this id (name
 * NULL) or name exists: 1, 0, or -1 on failure. */
int store_rule_ref_exists(struct store_db *db, const char *kind, int64_t id, const char *name);
/* Whether one customer matches (false for erased or missing ones). -1 on failure. */
int store_segment_matches(struct store_db *db, const struct rule_sql *r, int64_t customer_id);

/* Make an auto tag's holders exactly the matches of r: tag.added / tag.removed
 * events for the differences. */
int store_autotag_apply(struct store_db *db, int64_t tag_id, const char *tag_name,
                        const struct rule_sql *r, int64_t now, int64_t *added, int64_t *removed);
/* Give or take one customer's auto tag; ST_OK even when nothing changed. */
int store_autotag_set(struct store_db *db, int64_t tag_id, const char *tag_name,
                      int64_t customer_id, bool has, int64_t now, bool *changed);

/* Re-evaluate an audience: membership, customer_count and evaluated_at; with
 * events, audience.entered / audience.left for the differences. */
int store_audience_apply(struct store_db *db, int64_t audience_id, const struct rule_sql *r,
                         int64_t now, bool events, int64_t *count, int64_t *entered, int64_t *left);

/* Recompute a customer's platform and category bitmasks from their paid
 * orders, giving new names the next free bit. */
int store_customer_refresh_masks(struct store_db *db, int64_t customer_id);
/* Record a check-in day on the customer row. */
int store_customer_checkin_day(struct store_db *db, int64_t customer_id, int64_t day);

/* Auto tags: id, name and rule text of each, in id order. */
typedef void (*store_autotag_cb)(void *arg, int64_t id, const char *name, const char *rule);
int store_autotags(struct store_db *db, store_autotag_cb cb, void *arg);

/* Audiences. */
struct audience {
	int64_t id, customer_count, evaluated_at, created_by, created_at, updated_at;
	char *name, *rule;
};
void audience_clear(struct audience *a);
int store_audience_get(struct store_db *db, int64_t id, struct audience *out);
int store_audience_insert(struct store_db *db, struct audience *a);
int store_audience_update(struct store_db *db, const struct audience *a);
int store_audience_delete(struct store_db *db, int64_t id);
typedef void (*store_audience_cb)(void *arg, const struct audience *a);
int store_audience_list(struct store_db *db, int64_t after_id, int limit, store_audience_cb cb,
                        void *arg);
int64_t store_audience_total(struct store_db *db);

/* Lifecycle funnel: live customers per stage (created in [from, to) when set). */
typedef void (*store_stage_count_cb)(void *arg, const char *stage, int64_t count);
int store_stage_counts(struct store_db *db, int64_t from, int64_t to, store_stage_count_cb cb,
                       void *arg);

/* A private read connection for a long export (inside one read transaction,
 * so that every page comes from the same snapshot), and the page reader: like
 * store_segment_list, with the customer's tag names joined by '|'. */
struct store_db *store_export_open(void);
void store_export_close(struct store_db *db);
typedef void (*store_export_cb)(void *arg, const struct customer *c, const char *tags);
int store_segment_export_page(struct store_db *db, const struct rule_sql *r, int64_t before_id,
                              int limit, store_export_cb cb, void *arg);

#endif
