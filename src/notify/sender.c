/* sender.c - the sender threads. Each claims a batch of due deliveries in one
 * write (so that two senders never take the same one), sends them one by one
 * and records each outcome as soon as it is known: after a crash, only the
 * message being sent at that moment can go out twice. */
#include "internal.h"

#include "scrm/config.h"
#include "scrm/log.h"
#include "scrm/store.h"
#include "scrm/store_notify.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SENDERS_MAX 64

static const struct scrm_config *config;
static pthread_t threads[SENDERS_MAX];
static unsigned nthreads;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static bool stop, started;
static uint64_t kicks; /* counts notify_kick() calls, so that none is missed */

void notify_kick(void)
{
	pthread_mutex_lock(&mu);
	kicks++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mu);
}

/* Claimed deliveries, copied out of the claiming transaction. */
struct batch {
	struct delivery *items;
	int n, cap, limit;
};

static void keep(void *arg, const struct delivery *d)
{
	struct batch *b = arg;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->items = xrealloc(b->items, (size_t)b->cap * sizeof *b->items);
	}
	struct delivery *c = &b->items[b->n++];
	*c = *d;
	c->kind = d->kind ? xstrdup(d->kind) : NULL;
	c->event = d->event ? xstrdup(d->event) : NULL;
	c->payload = d->payload ? xstrdup(d->payload) : NULL;
	c->status = d->status ? xstrdup(d->status) : NULL;
	c->last_error = d->last_error ? xstrdup(d->last_error) : NULL;
}

static int claim_fn(struct store_db *db, void *arg)
{
	struct batch *b = arg;
	int n = store_delivery_claim(db, time_now(), b->limit, keep, b);
	return n < 0 ? n : 0;
}

/* A claimed batch comes back in no set order; it is sent in the order its
 * messages fell due, which keeps a group robot's messages in order. */
static int by_due(const void *x, const void *y)
{
	const struct delivery *a = x, *b = y;
	if (a->next_attempt_at != b->next_attempt_at)
		return a->next_attempt_at < b->next_attempt_at ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

struct outcome {
	const struct delivery *d;
	const struct send_result *r;
};

/* Failing (or held back) for longer than dead_after_minutes, counted from its
 * creation or from the last retry by hand. */
static bool too_long(const struct delivery *d, int64_t now)
{
	int64_t since = d->retried_at > d->created_at ? d->retried_at : d->created_at;
	return now - since >= (int64_t)config->notify_dead_after_minutes * 60;
}

static int finish_fn(struct store_db *db, void *arg)
{
	const struct outcome *o = arg;
	const struct delivery *d = o->d;
	const struct send_result *r = o->r;
	int64_t now = time_now();
	int st;
	if (r->outcome == SEND_OK) {
		st = store_delivery_finish(db, d->id, "delivered", now, NULL, r->http_status, now);
	} else if (r->outcome == SEND_POSTPONE) {
		/* never tried: it still dies of old age */
		bool too_old = too_long(d, now);
		st = too_old ? store_delivery_finish(db, d->id, "dead", now, r->error, 0, now)
		             : store_delivery_postpone(
		                   db, d->id, r->not_before ? r->not_before : now, r->error, now);
	} else {
		bool too_old = too_long(d, now);
		bool dead = r->outcome == SEND_DEAD || too_old;
		int64_t next = now + notify_backoff(config, d->attempts);
		if (r->not_before > next)
			next = r->not_before;
		st = store_delivery_finish(db, d->id, dead ? "dead" : "failed", dead ? now : next,
		                           r->error, r->http_status, now);
	}
	/* ST_NOT_FOUND: it is no longer ours (an operator's retry came first) */
	return st == ST_OK || st == ST_NOT_FOUND ? 0 : -st;
}

static bool stopping(void)
{
	pthread_mutex_lock(&mu);
	bool s = stop;
	pthread_mutex_unlock(&mu);
	return s;
}

/* Sleep until kicked, stopped or poll_ms passed. */
static void idle(uint64_t seen)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)config->notify_poll_ms * 1000000u;
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	pthread_mutex_lock(&mu);
	while (!stop && kicks == seen)
		if (pthread_cond_timedwait(&cond, &mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&mu);
}

static void *loop(void *arg)
{
	(void)arg;
	struct sender s = {.curl = curl_easy_init(), .db = store_reader(), .cfg = config};
	if (!s.curl) {
		log_error("notify: a sender could not start (curl_easy_init failed)");
		return NULL;
	}
	while (!stopping()) {
		pthread_mutex_lock(&mu);
		uint64_t seen = kicks;
		pthread_mutex_unlock(&mu);
		struct batch b = {.limit = (int)config->notify_batch};
		/* while the database refuses writes, the store has said why, once */
		if (store_write(claim_fn, &b) != 0 && !store_unavailable())
			log_warn("notify: could not claim due deliveries; trying again");
		if (b.n > 1)
			qsort(b.items, (size_t)b.n, sizeof *b.items, by_due);
		for (int i = 0; i < b.n; i++) {
			struct delivery *d = &b.items[i];
			struct send_result r;
			if (stopping()) { /* the rest go back in line, untried */
				r = (struct send_result){.outcome = SEND_POSTPONE};
			} else {
				notify_send(&s, d, &r);
				if (r.outcome != SEND_OK && r.outcome != SEND_POSTPONE)
					log_warn("notify: delivery %lld (%s), attempt %lld: %s",
					         (long long)d->id, d->kind, (long long)d->attempts,
					         r.error);
			}
			struct outcome o = {d, &r};
			if (store_write(finish_fn, &o) != 0)
				log_error("notify: the outcome of delivery %lld was not recorded",
				          (long long)d->id);
			delivery_clear(d);
		}
		free(b.items);
		if (b.n < b.limit)
			idle(seen);
	}
	curl_easy_cleanup(s.curl);
	return NULL;
}

static int unclaim_fn(struct store_db *db, void *arg)
{
	int *n = arg;
	*n = store_delivery_unclaim(db, time_now());
	return *n < 0 ? *n : 0;
}

int notify_start(const struct scrm_config *cfg)
{
	config = cfg;
	int n = 0;
	if (store_write(unclaim_fn, &n) != 0) {
		/* before any sender claims, or a delivery could be sent twice */
		log_error("notify: cannot put back the deliveries interrupted by the last stop "
		          "(the database refuses writes); not starting");
		return -1;
	}
	if (n > 0)
		log_warn("notify: %d deliveries were being sent when scrmd stopped; they are sent "
		         "again (receivers can tell by X-SCRM-Delivery)",
		         n);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("notify: curl_global_init failed");
		return -1;
	}
	notify_send_init();
	started = true;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	stop = false;
	unsigned want = cfg->notify_senders > SENDERS_MAX ? SENDERS_MAX : cfg->notify_senders;
	for (nthreads = 0; nthreads < want; nthreads++) {
		if (pthread_create(&threads[nthreads], NULL, loop, NULL) != 0) {
			log_error("notify: cannot start sender thread %u", nthreads + 1);
			notify_stop();
			return -1;
		}
	}
	log_info("notify: %u senders", nthreads);
	return 0;
}

void notify_stop(void)
{
	if (!started)
		return;
	started = false;
	pthread_mutex_lock(&mu);
	stop = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mu);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
	notify_send_cleanup();
	curl_global_cleanup();
}
