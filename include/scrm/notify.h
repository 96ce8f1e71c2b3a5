/* notify.h - outbound delivery: sender threads that drain the outbox of
 * deliveries (store_notify.h) through libcurl to WeCom group robots, WeCom
 * customer messages, signed webhooks and the log, with retries, backoff, the
 * robots' rate limit and a dead state. Delivery is at least once: a message
 * whose outcome was not recorded before a crash is sent again after the
 * restart, under the same X-SCRM-Delivery id. */
#ifndef SCRM_NOTIFY_H
#define SCRM_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct scrm_config;
struct delivery;

/* Put deliveries interrupted by a crash back in line and start the senders.
 * cfg must outlive notify_stop(). 0 or -1 (logged). */
int notify_start(const struct scrm_config *cfg);
/* Stop the senders after the message each is sending. */
void notify_stop(void);
/* Wake the senders: a delivery was enqueued (they also look every poll_ms). */
void notify_kick(void);

/* The signature header value for a body sent at unix time t:
 * "t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with secret>" into out. */
#define NOTIFY_SIG_LEN (2 + 20 + 4 + 64 + 1)
void notify_sign(const char *secret, int64_t t, const char *body, size_t len,
                 char out[NOTIFY_SIG_LEN]);

/* How an attempt ended (notify_send). */
enum send_outcome {
	SEND_OK,       /* delivered */
	SEND_RETRY,    /* a passing fault: try again later */
	SEND_DEAD,     /* a permanent fault: never again by itself */
	SEND_POSTPONE, /* not tried (rate limit, disabled channel): later, no attempt counted */
};
struct send_result {
	enum send_outcome outcome;
	int64_t http_status; /* 0: no answer */
	int64_t not_before;  /* RETRY / POSTPONE: not before this time (0: backoff decides) */
	char error[300];
};

/* The delay before try number `attempts` + 1 after a failure: retry_base_s
 * doubled per attempt, at most retry_max_s, the upper half jittered. */
int64_t notify_backoff(const struct scrm_config *cfg, int64_t attempts);

#endif
