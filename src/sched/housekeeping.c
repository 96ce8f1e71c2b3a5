/* housekeeping.c - the periodic clean-up thread. Each pass is one write through
 * the writer, so it never races a request. */
#include "scrm/sched.h"

#include "scrm/config.h"
#include "scrm/log.h"
#include "scrm/store.h"
#include "scrm/store_auth.h"
#include "scrm/store_notify.h"
#include "scrm/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#define PERIOD_S 600

static pthread_t thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static bool stop, running;
static const struct scrm_config *config;

static int purge_fn(struct store_db *db, void *ctx)
{
	const struct scrm_config *c = ctx;
	int64_t now = time_now();
	int st = store_session_purge(db, now, now - (int64_t)c->session_idle_minutes * 60);
	if (st == ST_OK)
		st = store_idem_purge(db, now - (int64_t)c->idempotency_hours * 3600);
	if (st == ST_OK && c->audit_retention_days)
		st = store_audit_purge(db, now - (int64_t)c->audit_retention_days * 86400);
	if (st == ST_OK && c->notify_keep_days)
		st = store_delivery_purge(db, now - (int64_t)c->notify_keep_days * 86400);
	return st == ST_OK ? 0 : -st;
}

int sched_housekeeping_once(const struct scrm_config *c)
{
	int rc = store_write(purge_fn, (void *)c);
	if (rc != 0)
		log_warn("housekeeping: pass failed (%d); will retry", rc);
	return rc == 0 ? 0 : -1;
}

static void *loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stop) {
		pthread_mutex_unlock(&mu);
		sched_housekeeping_once(config);
		sched_daily_if_due();
		pthread_mutex_lock(&mu);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += PERIOD_S;
		while (!stop && pthread_cond_timedwait(&cond, &mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int sched_start(const struct scrm_config *c)
{
	config = c;
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &a);
	pthread_condattr_destroy(&a);
	stop = false;
	if (pthread_create(&thread, NULL, loop, NULL) != 0)
		return -1;
	running = true;
	return 0;
}

void sched_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stop = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	pthread_cond_destroy(&cond);
	running = false;
}
