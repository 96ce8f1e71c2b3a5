/* sched.h - background work on its own thread. For now: housekeeping (expired
 * sessions, old idempotency records, audit retention), every few minutes. */
#ifndef SCRM_SCHED_H
#define SCRM_SCHED_H

struct scrm_config;

int sched_start(const struct scrm_config *cfg);
void sched_stop(void);
/* One housekeeping pass now, on the calling thread; 0 or -1. */
int sched_housekeeping_once(const struct scrm_config *cfg);

#endif
