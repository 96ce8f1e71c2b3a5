/* core_ratelimit.h - failure counting for logins: after max failures within a
 * window, a key (an IP address or a user name) is refused until the window ends.
 * Fixed memory: when the table is full the stalest entry is forgotten. */
#ifndef SCRM_CORE_RATELIMIT_H
#define SCRM_CORE_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

struct ratelimit *ratelimit_new(unsigned slots, unsigned max_failures, unsigned window_s);
void ratelimit_free(struct ratelimit *rl);
/* 0 if key may try now, else the seconds until it may. */
int64_t ratelimit_wait(struct ratelimit *rl, const char *key, int64_t now);
void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now);
void ratelimit_reset(struct ratelimit *rl, const char *key);

#endif
