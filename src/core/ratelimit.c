/* ratelimit.c - a fixed-size table of failure counters, one window per key. */
#include "scrm/core_ratelimit.h"

#include "scrm/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 96
#define PROBES 8

struct slot {
	char key[KEY_MAX];
	int64_t start;
	unsigned count;
};

struct ratelimit {
	pthread_mutex_t mu;
	struct slot *slots;
	unsigned n, max, window;
};

struct ratelimit *ratelimit_new(unsigned slots, unsigned max_failures, unsigned window_s)
{
	struct ratelimit *rl = xcalloc(1, sizeof *rl);
	unsigned n = 16;
	while (n < slots)
		n *= 2;
	rl->slots = xcalloc(n, sizeof *rl->slots);
	rl->n = n;
	rl->max = max_failures;
	rl->window = window_s;
	pthread_mutex_init(&rl->mu, NULL);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->slots);
	free(rl);
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The slot holding key, or (create) the best slot to take over for it. */
static struct slot *find(struct ratelimit *rl, const char *key, int64_t now, int create)
{
	uint64_t h = fnv(key);
	struct slot *victim = NULL;
	int vscore = 3;
	for (unsigned i = 0; i < PROBES; i++) {
		struct slot *s = &rl->slots[(h + i) & (rl->n - 1)];
		if (s->key[0] && strncmp(s->key, key, KEY_MAX - 1) == 0)
			return s;
		/* take an empty slot first, then an expired one, then the oldest */
		int score = !s->key[0] ? 0 : now - s->start >= rl->window ? 1 : 2;
		if (score < vscore || (score == vscore && s->start < victim->start)) {
			victim = s;
			vscore = score;
		}
	}
	if (!create)
		return NULL;
	snprintf(victim->key, KEY_MAX, "%s", key);
	victim->start = now;
	victim->count = 0;
	return victim;
}

int64_t ratelimit_wait(struct ratelimit *rl, const char *key, int64_t now)
{
	int64_t wait = 0;
	pthread_mutex_lock(&rl->mu);
	struct slot *s = find(rl, key, now, 0);
	if (s && now - s->start < rl->window && s->count >= rl->max)
		wait = s->start + rl->window - now;
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now)
{
	pthread_mutex_lock(&rl->mu);
	struct slot *s = find(rl, key, now, 1);
	if (now - s->start >= rl->window) {
		s->start = now;
		s->count = 0;
	}
	s->count++;
	pthread_mutex_unlock(&rl->mu);
}

void ratelimit_reset(struct ratelimit *rl, const char *key)
{
	pthread_mutex_lock(&rl->mu);
	struct slot *s = find(rl, key, 0, 0);
	if (s)
		memset(s, 0, sizeof *s);
	pthread_mutex_unlock(&rl->mu);
}
