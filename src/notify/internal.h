/* internal.h - shared by the files of src/notify/ only. */
#ifndef SCRM_NOTIFY_INTERNAL_H
#define SCRM_NOTIFY_INTERNAL_H

#include "scrm/notify.h"

#include <curl/curl.h>

struct store_db;

/* One sender thread's tools: its curl handle (connections kept alive between
 * messages) and its read connection. */
struct sender {
	CURL *curl;
	struct store_db *db;
	const struct scrm_config *cfg;
};

/* Try to deliver d once (d is claimed: status sending). */
void notify_send(struct sender *s, const struct delivery *d, struct send_result *r);

/* Process-wide state of the senders: the robots' sliding windows and the WeCom
 * access tokens. */
void notify_send_init(void);
void notify_send_cleanup(void);

#endif
