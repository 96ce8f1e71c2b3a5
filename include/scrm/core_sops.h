/* core_sops.h - SOPs: what a trigger, an audience and the actions may be
 * (checked when a SOP is saved, with errors naming the exact place), and the
 * firing of one run: its actions done in the caller's transaction. */
#ifndef SCRM_CORE_SOPS_H
#define SCRM_CORE_SOPS_H

#include "scrm/core.h"
#include "scrm/core_cron.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct store_db;
struct sop;
struct sop_run;
struct points_rules;

/* A task handed out by a SOP is due at most this many hours later. */
#define TASK_DUE_MAX_HOURS 8760

enum sop_trigger_type { TRIG_SCHEDULE, TRIG_EVENT, TRIG_DATE };
struct sop_trigger {
	enum sop_trigger_type type;
	struct cron cron; /* schedule */
	char event[32];   /* event: the timeline kind */
	char name[201];   /* event: only this tag or audience ("" any) */
	int64_t delay_s;  /* event */
	char field[24];   /* date: coupon_expires_at, birthday, last_order_at */
	int offset_days;  /* date: the day is the field's date plus this */
	int at_minute;    /* date: minutes after local midnight */
};

/* Read a trigger: 0, or -1 with e naming the place (trigger.cron ...). */
int core_sop_trigger_parse(const json_t *j, struct sop_trigger *out, struct core_err *e);
/* Check the actions (1 to 10) against the database: channels, tags (manual
 * ones), coupon templates and users must exist; templates name known
 * placeholders only. 0, or -1 with e naming actions[i].field. */
int core_sop_actions_check(struct store_db *db, const json_t *actions, struct core_err *e);

/* Who a date trigger reaches for the field's date `target` (a local day): the
 * condition for store_sop_runs_add_matching / store_sop_match_sample. */
void core_sop_date_match(const char *field, int64_t target, const char **only, int64_t *a,
                         int64_t *b, int64_t *c);

/* What firing a run did. */
struct sop_fired {
	json_t *result; /* owned: one object per action, in order */
	bool failed;    /* some action could not be done (it says why) */
	bool skipped;   /* nothing was done (why in result) */
	bool queued;    /* a delivery was written to the outbox */
};
/* Fire run r of SOP s in the current transaction: each action in a savepoint
 * of its own, so that one that fails (a deleted tag, a channel gone) leaves
 * the others done and says why. actions is s->actions parsed; pr the points
 * rules. -1 only on a store failure (then e is set and the transaction must
 * roll back). */
int core_sop_fire(struct store_db *db, const struct sop *s, const json_t *actions,
                  const struct sop_run *r, int64_t now, const struct points_rules *pr,
                  struct sop_fired *out, struct core_err *e);

/* The text a template gives for one customer (0: none) and coupon (0: the
 * customer's first to expire), as a SOP would send it now; caller frees. */
char *core_sop_render(struct store_db *db, const char *sop_name, const char *tmpl,
                      int64_t customer_id, int64_t coupon_id, int64_t now);

#endif
