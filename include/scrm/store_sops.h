/* store_sops.h - SOPs, their runs and operators' tasks
 * (migrations/0006_sops.sql). Strings in the structs are owned by the struct
 * (free with the _clear function); callbacks get borrowed ones. */
#ifndef SCRM_STORE_SOPS_H
#define SCRM_STORE_SOPS_H

#include "scrm/store.h"

#include <stdbool.h>
#include <stdint.h>

struct rule_sql;

struct sop {
	int64_t id;
	char *name, *trigger, *audience, *actions; /* JSON text; audience may be NULL */
	bool enabled;
	int64_t created_by, created_at, updated_at;
	int64_t next_at, cursor; /* scheduler state */
};
void sop_clear(struct sop *s);

int store_sop_insert(struct store_db *db, struct sop *s); /* ST_CONFLICT: name taken */
/* Every field but the scheduler state; ST_NOT_FOUND, ST_CONFLICT (name). */
int store_sop_update(struct store_db *db, const struct sop *s);
int store_sop_set_state(struct store_db *db, int64_t id, int64_t next_at, int64_t cursor);
int store_sop_get(struct store_db *db, int64_t id, struct sop *out);
int store_sop_delete(struct store_db *db, int64_t id);
typedef void (*store_sop_cb)(void *arg, const struct sop *s);
/* In id order after `after`; enabled_only for the scheduler. */
int store_sop_list(struct store_db *db, int64_t after, int limit, bool enabled_only,
                   store_sop_cb cb, void *arg);
int64_t store_sop_total(struct store_db *db);

struct sop_run {
	int64_t id, sop_id, customer_id, due_at, ref_id, created_at, fired_at;
	int64_t depth; /* caused by an event that SOPs caused, this many deep */
	char *occurrence, *status, *result, *ref_type; /* result: JSON or NULL */
};
void sop_run_clear(struct sop_run *r);

/* A run, unless (sop, customer, occurrence) has one already: 1 added, 0 not,
 * or -ST_*. */
int store_sop_run_add(struct store_db *db, const struct sop_run *r);
/* Runs for every live customer matching r (every one when r is NULL), and
 * with the extra condition `only`, one of: NULL; "birthday" (a birthday on
 * month a, day b, and when c is 1 also those on 29 February); "last_order"
 * (last order in [a, b]); "coupon" (one run per active coupon expiring in
 * [a, b], its id appended to the occurrence as ":coupon:<id>", ref coupon).
 * Returns how many were added (existing ones are kept), or -ST_*. */
int64_t store_sop_runs_add_matching(struct store_db *db, int64_t sop_id, const struct rule_sql *r,
                                    const char *only, int64_t a, int64_t b, int64_t c,
                                    const char *occurrence, int64_t due, int64_t now);
/* The same customers counted instead (a customer with two coupons once), the
 * newest up to limit into ids (newest first), and into *nruns the runs they
 * would make (one per coupon for a coupon expiry). -1 on failure. */
int64_t store_sop_match_sample(struct store_db *db, const struct rule_sql *r, const char *only,
                               int64_t a, int64_t b, int64_t c, int64_t *ids, int limit, int *nids,
                               int64_t *nruns);
/* Scheduled runs due by now, oldest first, up to limit. */
int store_sop_runs_due(struct store_db *db, int64_t now, int limit,
                       void (*cb)(void *arg, const struct sop_run *r), void *arg);
int store_sop_run_get(struct store_db *db, int64_t id, struct sop_run *out);
/* The outcome of a scheduled run: ST_NOT_FOUND when it is no longer scheduled. */
int store_sop_run_finish(struct store_db *db, int64_t id, const char *status, const char *result,
                         int64_t fired_at);
/* A SOP's runs, newest first below `before`; status and customer filters when
 * not NULL / 0. */
int store_sop_run_list(struct store_db *db, int64_t sop_id, const char *status, int64_t customer_id,
                       int64_t before, int limit, void (*cb)(void *arg, const struct sop_run *r),
                       void *arg);
int64_t store_sop_run_total(struct store_db *db, int64_t sop_id, const char *status,
                            int64_t customer_id);

/* The timeline as an event stream: the newest entry's id, and the entries of
 * one kind after an id, in id order. */
int64_t store_event_last_id(struct store_db *db);
struct customer_event;
int store_events_after(struct store_db *db, int64_t after_id, const char *kind, int limit,
                       void (*cb)(void *arg, const struct customer_event *e), void *arg);
/* The customer's active coupon that expires first, after now: ST_OK with its id
 * in *id, or ST_NOT_FOUND. */
int store_coupon_first_expiring(struct store_db *db, int64_t customer_id, int64_t now, int64_t *id);

struct task {
	int64_t id, sop_id, sop_run_id, customer_id, assignee_user_id, done_at, done_by;
	int64_t created_at, updated_at, due_at; /* due_at 0: no due time */
	char *text, *message;
	bool done;
};
void task_clear(struct task *t);
int store_task_insert(struct store_db *db, struct task *t);
int store_task_get(struct store_db *db, int64_t id, struct task *out);
/* done, done_at, done_by, assignee_user_id, due_at and updated_at. */
int store_task_update(struct store_db *db, const struct task *t);
struct task_filter {
	int64_t assignee; /* 0: anyone; -1: nobody (unassigned) */
	int done;         /* -1: both; 0 open; 1 done */
	int64_t customer_id, sop_id;
	int64_t overdue_at; /* > 0: only open tasks due before this time */
};
/* Newest first below `before`. */
int store_task_list(struct store_db *db, const struct task_filter *f, int64_t before, int limit,
                    void (*cb)(void *arg, const struct task *t), void *arg);
int64_t store_task_total(struct store_db *db, const struct task_filter *f);

#endif
