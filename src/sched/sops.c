/* sops.c - the SOP scheduler thread. Each tick it plans, then fires.
 *
 * Planning turns triggers into runs: a schedule's cron times that came due, a
 * date trigger's days (customers whose birthday, last order or coupon expiry
 * falls on the day), the timeline entries an event trigger waits for. A run is
 * (SOP, customer, occurrence) under a unique key, inserted with the SOP's new
 * state in one transaction, so that a crash between the two repeats nothing
 * and loses nothing. Firing takes due runs in batches and does each run's
 * actions in the transaction that marks it done: a run is fired at most once.
 * After downtime, what fell due meanwhile is fired if it is at most
 * [sop] catchup_hours late, and recorded as skipped if later. */
#include "scrm/sched.h"

#include "scrm/config.h"
#include "scrm/core_loyalty.h"
#include "scrm/core_rules.h"
#include "scrm/core_sops.h"
#include "scrm/log.h"
#include "scrm/notify.h"
#include "scrm/store.h"
#include "scrm/store_records.h"
#include "scrm/store_segments.h"
#include "scrm/store_sops.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_STEPS 1000 /* occurrences planned per SOP and tick (the rest next tick) */
#define EVENTS_PER_TICK 2000
#define MIN_GAP_MS 100 /* between two passes woken by events */
#define CHAIN_MAX 3    /* events caused by SOPs this many deep wake no further SOP */

static const struct scrm_config *config;
static pthread_t thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static bool stop, running;
static uint64_t kicks;

void sched_sops_kick(void)
{
	pthread_mutex_lock(&mu);
	kicks++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mu);
}

static int64_t window_s(void)
{
	return (int64_t)config->sop_catchup_hours * 3600 + 60;
}

/* A SOP as the scheduler uses it: trigger read, audience compiled for now. */
struct live_sop {
	struct sop s;
	struct sop_trigger trig;
	json_t *actions;
	struct rule_sql rule;
	bool has_rule, ok;
};

static void live_clear(struct live_sop *l)
{
	sop_clear(&l->s);
	json_decref(l->actions);
	if (l->has_rule)
		rule_sql_clear(&l->rule);
	memset(l, 0, sizeof *l);
}

/* Load and read SOP id; false (logged once per cause) when it cannot run. */
static bool live_load(struct store_db *db, int64_t id, int64_t now, struct live_sop *l)
{
	memset(l, 0, sizeof *l);
	if (store_sop_get(db, id, &l->s) != ST_OK)
		return false;
	struct core_err e = {0};
	json_t *trig = json_loads(l->s.trigger, 0, NULL);
	int rc = core_sop_trigger_parse(trig, &l->trig, &e);
	json_decref(trig);
	l->actions = json_loads(l->s.actions, 0, NULL);
	if (rc == 0 && l->s.audience) {
		json_t *aud = json_loads(l->s.audience, 0, NULL);
		rc = rules_compile(aud, "audience", now, &l->rule, &e);
		json_decref(aud);
		l->has_rule = rc == 0;
	}
	if (rc < 0 || !json_is_array(l->actions)) {
		log_warn("sop %lld (%s) cannot run: %s", (long long)id, l->s.name, e.msg);
		return false;
	}
	l->ok = true;
	return true;
}

/* Planning ---------------------------------------------------------------------------- */

/* The day's trigger time: local midnight of day plus at_minute. */
static int64_t day_at(int64_t day, int at_minute)
{
	return time_local_day_start(day) + (int64_t)at_minute * 60;
}

/* The runs of a date trigger on local day `day`. */
static int64_t plan_day(struct store_db *db, struct live_sop *l, int64_t day, int64_t due,
                        int64_t now)
{
	const char *only;
	int64_t a, b, c;
	core_sop_date_match(l->trig.field, day - l->trig.offset_days, &only, &a, &b, &c);
	int y, m, d;
	time_civil_from_days(day, &y, &m, &d);
	char occ[32];
	snprintf(occ, sizeof occ, "date:%04d-%02d-%02d", y, m, d);
	return store_sop_runs_add_matching(db, l->s.id, l->has_rule ? &l->rule : NULL, only, a, b,
	                                   c, occ, due, now);
}

struct ev_ctx {
	struct store_db *db;
	struct live_sop *l;
	int64_t now, max, added;
	int seen, rc;
};

static void event_cb(void *arg, const struct customer_event *e)
{
	struct ev_ctx *x = arg;
	x->seen++;
	if (e->id > x->max)
		x->max = e->id;
	if (x->rc < 0)
		return;
	json_t *d = json_loads(e->data ? e->data : "{}", 0, NULL);
	const char *name = json_string_value(json_object_get(d, "name"));
	int64_t by = json_integer_value(json_object_get(d, "sop_id")),
	        depth = json_integer_value(json_object_get(d, "sop_depth"));
	/* not what this SOP did itself (a points grant waking a points SOP would
	 * never end), nor a chain of SOPs waking each other without end */
	bool match = by != x->l->s.id && depth < CHAIN_MAX &&
	             (!x->l->trig.name[0] || (name && strcmp(name, x->l->trig.name) == 0));
	json_decref(d);
	if (!match)
		return;
	char occ[40];
	snprintf(occ, sizeof occ, "event:%lld", (long long)e->id);
	struct sop_run r = {.sop_id = x->l->s.id,
	                    .customer_id = e->customer_id,
	                    .occurrence = occ,
	                    .due_at = e->at + x->l->trig.delay_s,
	                    .ref_type = (char *)e->ref_type,
	                    .ref_id = e->ref_id,
	                    .created_at = x->now,
	                    .depth = depth};
	int n = store_sop_run_add(x->db, &r);
	if (n < 0)
		x->rc = n;
	else
		x->added += n;
}

struct plan_ctx {
	int64_t id, now, added, skipped;
};

/* The SOP's new runs and state, in one transaction (the writer's). */
static int plan_fn(struct store_db *db, void *arg)
{
	struct plan_ctx *p = arg;
	struct live_sop l;
	if (!live_load(db, p->id, p->now, &l) || !l.s.enabled) {
		live_clear(&l);
		return 0;
	}
	int64_t now = p->now, next = l.s.next_at, cursor = l.s.cursor, n;
	int rc = 0;
	if (l.trig.type == TRIG_SCHEDULE && next >= 0) {
		if (next == 0)
			next = cron_next(&l.trig.cron, now);
		for (int steps = 0; next > 0 && next <= now && steps < MAX_STEPS; steps++) {
			if (next >= now - window_s()) {
				char occ[40];
				snprintf(occ, sizeof occ, "cron:%lld", (long long)next);
				struct sop_run r = {.sop_id = l.s.id,
				                    .occurrence = occ,
				                    .due_at = next,
				                    .created_at = now};
				n = l.has_rule
				        ? store_sop_runs_add_matching(db, l.s.id, &l.rule, NULL, 0,
				                                      0, 0, occ, next, now)
				        : store_sop_run_add(db, &r);
				if (n < 0) {
					rc = (int)n;
					break;
				}
				p->added += n;
			} else {
				p->skipped++;
			}
			next = cron_next(&l.trig.cron, next);
		}
		if (next <= 0)
			next = -1; /* never again (a date that does not come) */
	} else if (l.trig.type == TRIG_DATE) {
		if (next <= 0) {
			int64_t today = time_local_day(now);
			next = day_at(today, l.trig.at_minute);
			if (next <= now)
				next = day_at(today + 1, l.trig.at_minute);
		}
		for (int steps = 0; next <= now && steps < MAX_STEPS; steps++) {
			int64_t day = time_local_day(next);
			if (next >= now - window_s()) {
				n = plan_day(db, &l, day, next, now);
				if (n < 0) {
					rc = (int)n;
					break;
				}
				p->added += n;
			} else {
				p->skipped++;
			}
			next = day_at(day + 1, l.trig.at_minute);
		}
	}
	if (rc == 0 && l.trig.type == TRIG_EVENT) {
		int64_t last = store_event_last_id(db);
		struct ev_ctx ev = {.db = db, .l = &l, .now = now, .max = cursor};
		int st = last < 0 ? ST_ERR
		                  : store_events_after(db, cursor, l.trig.event, EVENTS_PER_TICK,
		                                       event_cb, &ev);
		rc = st != ST_OK ? -(st < 0 ? -st : st) : ev.rc;
		if (rc == 0) {
			p->added += ev.added;
			/* all seen: up to the newest entry; else from the last one taken */
			cursor =
			    ev.seen < EVENTS_PER_TICK ? (last > cursor ? last : cursor) : ev.max;
		}
	}
	if (rc == 0 && (next != l.s.next_at || cursor != l.s.cursor))
		rc = -store_sop_set_state(db, l.s.id, next, cursor);
	live_clear(&l);
	return rc;
}

/* What planning needs to know to skip a SOP with nothing due, without a write. */
struct plan_item {
	int64_t id, next_at, cursor;
	bool event;
};
struct plan_list {
	struct plan_item *v;
	size_t n, cap;
};

static void collect(void *arg, const struct sop *s)
{
	struct plan_list *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	json_t *trig = json_loads(s->trigger, 0, NULL);
	const char *type = json_string_value(json_object_get(trig, "type"));
	l->v[l->n++] =
	    (struct plan_item){s->id, s->next_at, s->cursor, type && strcmp(type, "event") == 0};
	json_decref(trig);
}

static void plan_all(int64_t now)
{
	struct plan_list l = {0};
	struct store_db *rd = store_reader();
	int64_t last = store_event_last_id(rd);
	if (last < 0 || store_sop_list(rd, 0, 1000000, true, collect, &l) != ST_OK) {
		free(l.v);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct plan_item *it = &l.v[i];
		/* nothing new: a time not yet come (or none to come), no new entries */
		if (it->event ? it->cursor >= last : it->next_at < 0 || it->next_at > now)
			continue;
		struct plan_ctx p = {.id = it->id, .now = now};
		if (store_write(plan_fn, &p) != 0) {
			/* while the database refuses writes, the store has said why, once */
			if (!store_unavailable())
				log_warn("sop %lld: planning failed; trying again next tick",
				         (long long)it->id);
		} else if (p.skipped)
			log_warn(
			    "sop %lld: %lld occurrences were more than %u hours late and skipped",
			    (long long)it->id, (long long)p.skipped, config->sop_catchup_hours);
	}
	free(l.v);
}

/* Firing ------------------------------------------------------------------------------- */

struct due {
	struct sop_run *v;
	size_t n, cap;
};

static void keep_run(void *arg, const struct sop_run *r)
{
	struct due *d = arg;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	struct sop_run *c = &d->v[d->n++];
	*c = *r;
	c->occurrence = r->occurrence ? xstrdup(r->occurrence) : NULL;
	c->status = r->status ? xstrdup(r->status) : NULL;
	c->result = r->result ? xstrdup(r->result) : NULL;
	c->ref_type = r->ref_type ? xstrdup(r->ref_type) : NULL;
}

struct fire_ctx {
	int64_t now;
	int fired;
	bool queued, more;
};

static int finish(struct store_db *db, const struct sop_run *r, const char *status, json_t *res,
                  int64_t now)
{
	char *text = json_dumps(res, JSON_COMPACT);
	int st = store_sop_run_finish(db, r->id, status, text, now);
	free(text);
	json_decref(res);
	return st == ST_OK || st == ST_NOT_FOUND ? 0 : -st;
}

/* Fire a batch of due runs in one transaction. */
static int fire_fn(struct store_db *db, void *arg)
{
	struct fire_ctx *x = arg;
	struct due due = {0};
	int rc = -store_sop_runs_due(db, x->now, (int)config->sop_batch, keep_run, &due);
	struct points_rules pr;
	struct core_err e = {0};
	if (rc == 0 && core_points_rules_load(db, &pr, &e) < 0)
		rc = -ST_ERR;
	struct live_sop l = {0};
	int64_t loaded = 0;
	for (size_t i = 0; i < due.n && rc == 0; i++) {
		struct sop_run *r = &due.v[i];
		if (r->sop_id != loaded) {
			live_clear(&l);
			live_load(db, r->sop_id, x->now, &l);
			loaded = r->sop_id;
		}
		char why[160] = "";
		if (!l.ok)
			snprintf(why, sizeof why,
			         "the SOP cannot run (its trigger or audience is invalid)");
		else if (!l.s.enabled && strncmp(r->occurrence, "manual:", 7) != 0)
			snprintf(why, sizeof why, "the SOP is switched off");
		else if (r->due_at < x->now - window_s())
			snprintf(why, sizeof why,
			         "too late: due %lld s ago, more than [sop] catchup_hours",
			         (long long)(x->now - r->due_at));
		else if (l.trig.type == TRIG_EVENT && l.has_rule && r->customer_id) {
			int m = store_segment_matches(db, &l.rule, r->customer_id);
			if (m < 0)
				rc = -ST_ERR;
			else if (m == 0)
				snprintf(why, sizeof why, "not in the SOP's audience");
		}
		if (rc)
			break;
		if (why[0]) {
			rc = finish(db, r, "skipped", json_pack("[{s:s}]", "skipped", why), x->now);
			continue;
		}
		struct sop_fired f;
		if (core_sop_fire(db, &l.s, l.actions, r, x->now, &pr, &f, &e) < 0) {
			json_decref(f.result);
			rc = -(e.st ? e.st : ST_ERR);
			break;
		}
		x->queued |= f.queued;
		x->fired++;
		rc = finish(db, r,
		            f.skipped  ? "skipped"
		            : f.failed ? "failed"
		                       : "done",
		            f.result, x->now);
	}
	live_clear(&l);
	x->more = due.n == config->sop_batch;
	for (size_t i = 0; i < due.n; i++)
		sop_run_clear(&due.v[i]);
	free(due.v);
	return rc;
}

static void fire_due(int64_t now)
{
	for (;;) {
		struct fire_ctx x = {.now = now};
		if (store_write(fire_fn, &x) != 0) {
			if (!store_unavailable())
				log_warn("sop: firing due runs failed; trying again next tick");
			return;
		}
		if (x.queued)
			notify_kick();
		if (!x.more)
			return;
	}
}

void sched_sops_tick(void)
{
	int64_t now = time_now();
	plan_all(now);
	fire_due(now);
}

static void *loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stop) {
		uint64_t seen = kicks;
		pthread_mutex_unlock(&mu);
		sched_sops_tick();
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)config->sop_tick_ms * 1000000u;
		ts.tv_sec += (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		/* a busy stream of events wakes a pass at most every MIN_GAP_MS */
		struct timespec gap = {0, MIN_GAP_MS * 1000000L};
		nanosleep(&gap, NULL);
		pthread_mutex_lock(&mu);
		while (!stop && kicks == seen)
			if (pthread_cond_timedwait(&cond, &mu, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int sched_sops_start(const struct scrm_config *cfg)
{
	config = cfg;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	stop = false;
	if (pthread_create(&thread, NULL, loop, NULL) != 0) {
		log_error("sop: cannot start the scheduler thread");
		return -1;
	}
	running = true;
	core_on_event(sched_sops_kick);
	return 0;
}

void sched_sops_stop(void)
{
	if (!running)
		return;
	core_on_event(NULL);
	pthread_mutex_lock(&mu);
	stop = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	running = false;
}
