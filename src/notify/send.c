/* send.c - one attempt at one delivery: the request each kind of channel
 * takes, and what its answer means (delivered, try again, or never). */
#include "internal.h"

#include "scrm/config.h"
#include "scrm/crypto.h"
#include "scrm/log.h"
#include "scrm/store.h"
#include "scrm/store_notify.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ANSWER_MAX (64 * 1024) /* more of an answer than this is not read */

static int64_t fail(struct send_result *r, enum send_outcome o, int64_t http, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int64_t fail(struct send_result *r, enum send_outcome o, int64_t http, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	r->outcome = o;
	r->http_status = http;
	return 0;
}

void notify_sign(const char *secret, int64_t t, const char *body, size_t len,
                 char out[NOTIFY_SIG_LEN])
{
	/* the signed text is "<t>.<body>", hashed in one pass without a copy */
	char head[24];
	int hn = snprintf(head, sizeof head, "%lld.", (long long)t);
	size_t n = (size_t)hn + len;
	char *msg = xmalloc(n + 1);
	memcpy(msg, head, (size_t)hn);
	memcpy(msg + hn, body, len);
	unsigned char mac[CRYPTO_SHA256_LEN];
	crypto_hmac_sha256(secret, strlen(secret), msg, n, mac);
	free(msg);
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	crypto_hex(mac, sizeof mac, hex);
	snprintf(out, NOTIFY_SIG_LEN, "t=%lld,v1=%s", (long long)t, hex);
}

int64_t notify_backoff(const struct scrm_config *cfg, int64_t attempts)
{
	int64_t d = cfg->notify_retry_base_s;
	for (int64_t i = 1; i < attempts && d < (int64_t)cfg->notify_retry_max_s; i++)
		d *= 2;
	if (d > (int64_t)cfg->notify_retry_max_s)
		d = cfg->notify_retry_max_s;
	/* the upper half at random, so that a receiver coming back is not hit by
	 * every sender at the same second */
	return d - d / 2 + (int64_t)crypto_random_below((uint64_t)(d / 2) + 1);
}

/* HTTP ------------------------------------------------------------------------------ */

struct answer {
	char *data;
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t add = size * n;
	size_t keep = a->len >= ANSWER_MAX        ? 0
	              : add < ANSWER_MAX - a->len ? add
	                                          : ANSWER_MAX - a->len;
	if (keep) {
		a->data = xrealloc(a->data, a->len + keep + 1);
		memcpy(a->data + a->len, p, keep);
		a->len += keep;
		a->data[a->len] = '\0';
	}
	return add;
}

/* One request (a POST when body is not NULL); 0 with *status and the answer, or
 * -1 with a transport fault in r (always worth another try). */
static int http(struct sender *s, const char *url, const char *body, struct curl_slist *headers,
                long *status, struct answer *a, struct send_result *r)
{
	CURL *c = s->curl;
	curl_easy_reset(c);
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)s->cfg->notify_connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->cfg->notify_timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "scrmd/" SCRM_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	if (headers)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		fail(r, SEND_RETRY, 0, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

/* What an HTTP status means for a webhook or a WeCom call: 2xx 0 (go on
 * reading), else the outcome is set and -1. Retry-After is honoured. */
static int http_verdict(struct sender *s, long status, const struct answer *a,
                        struct send_result *r)
{
	if (status >= 200 && status < 300)
		return 0;
	const char *text = a->data ? a->data : "";
	if (status == 408 || status == 425 || status == 429 || status >= 500) {
		fail(r, SEND_RETRY, status, "HTTP %ld: %.200s", status, text);
		curl_off_t after = 0;
		if (curl_easy_getinfo(s->curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
		    after > 0)
			r->not_before = time_now() + (after > 86400 ? 86400 : (int64_t)after);
	} else if (status >= 300 && status < 400) {
		fail(r, SEND_DEAD, status,
		     "HTTP %ld: redirects are not followed; use the final URL", status);
	} else {
		fail(r, SEND_DEAD, status, "HTTP %ld: %.200s", status, text);
	}
	return -1;
}

/* Signed JSON webhooks ---------------------------------------------------------------- */

static void send_webhook(struct sender *s, const struct delivery *d, const char *url,
                         const char *secret, struct send_result *r)
{
	json_t *body = json_loads(d->payload, 0, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		fail(r, SEND_DEAD, 0, "the stored payload is not a JSON object");
		return;
	}
	json_object_set_new(body, "delivery_id", json_integer(d->id));
	if (!json_object_get(body, "event"))
		json_object_set_new(body, "event", json_string("message"));
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	/* the signature's time is the real clock: receivers check it against theirs */
	char sig[NOTIFY_SIG_LEN];
	notify_sign(secret ? secret : "", (int64_t)time(NULL), text, strlen(text), sig);
	char h_sig[128], h_id[64], h_event[160];
	snprintf(h_sig, sizeof h_sig, "X-SCRM-Signature: %s", sig);
	snprintf(h_id, sizeof h_id, "X-SCRM-Delivery: %lld", (long long)d->id);
	snprintf(h_event, sizeof h_event, "X-SCRM-Event: %s", d->event ? d->event : "message");
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, h_sig);
	h = curl_slist_append(h, h_id);
	h = curl_slist_append(h, h_event);
	long status = 0;
	struct answer a = {0};
	if (http(s, url, text, h, &status, &a, r) == 0 && http_verdict(s, status, &a, r) == 0) {
		r->outcome = SEND_OK;
		r->http_status = status;
	}
	curl_slist_free_all(h);
	free(a.data);
	crypto_wipe(sig, sizeof sig);
	free(text);
}

/* WeCom -------------------------------------------------------------------------------- */

/* A WeCom answer: HTTP 200 with {"errcode": 0, ...} when it worked. Returns the
 * errcode (0 ok), or -1000 with r set when the answer is not that. */
static long wecom_answer(struct sender *s, long status, const struct answer *a, json_t **out,
                         struct send_result *r)
{
	if (http_verdict(s, status, a, r) < 0)
		return -1000;
	json_t *j = a->data ? json_loads(a->data, 0, NULL) : NULL;
	if (!json_is_object(j) || !json_is_integer(json_object_get(j, "errcode"))) {
		json_decref(j);
		fail(r, SEND_RETRY, status, "WeCom answered something that is not its JSON: %.200s",
		     a->data ? a->data : "");
		return -1000;
	}
	long code = (long)json_integer_value(json_object_get(j, "errcode"));
	if (code != 0) {
		const char *msg = json_string_value(json_object_get(j, "errmsg"));
		/* -1: busy; 45009 and friends: over a frequency limit; the rest are
		 * faults in the channel or the message that another try will not mend */
		bool passing = code == -1 || code == 45009 || code == 45011 || code == 45033;
		fail(r, passing ? SEND_RETRY : SEND_DEAD, status, "WeCom errcode %ld: %.200s", code,
		     msg ? msg : "");
		if (code == 45009 || code == 45011)
			r->not_before = time_now() + 60;
	}
	if (out)
		*out = j;
	else
		json_decref(j);
	return code;
}

static void send_bot(struct sender *s, const struct delivery *d, const struct channel *ch,
                     struct send_result *r)
{
	json_t *p = json_loads(d->payload, 0, NULL);
	const char *text = json_string_value(json_object_get(p, "text"));
	bool md = json_is_true(json_object_get(p, "markdown"));
	if (!text) {
		json_decref(p);
		fail(r, SEND_DEAD, 0, "the stored payload has no text");
		return;
	}
	json_t *msg =
	    md ? json_pack("{s:s, s:{s:s}}", "msgtype", "markdown", "markdown", "content", text)
	       : json_pack("{s:s, s:{s:s}}", "msgtype", "text", "text", "content", text);
	json_decref(p);
	char *body = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long status = 0;
	struct answer a = {0};
	if (http(s, ch->url, body, h, &status, &a, r) == 0 &&
	    wecom_answer(s, status, &a, NULL, r) == 0) {
		r->outcome = SEND_OK;
		r->http_status = status;
	}
	curl_slist_free_all(h);
	free(a.data);
	free(body);
}

/* Access tokens per channel, shared by the senders; WeCom asks that they be
 * cached (about two hours) rather than fetched per message. */
#define TOKENS_MAX 64
static struct token {
	int64_t channel_id, updated_at, expires_at;
	char value[600];
} tokens[TOKENS_MAX];
static pthread_mutex_t tokens_mu = PTHREAD_MUTEX_INITIALIZER;

static struct token *token_slot(int64_t channel_id)
{
	struct token *free_slot = NULL, *oldest = &tokens[0];
	for (int i = 0; i < TOKENS_MAX; i++) {
		if (tokens[i].channel_id == channel_id)
			return &tokens[i];
		if (!tokens[i].channel_id && !free_slot)
			free_slot = &tokens[i];
		if (tokens[i].expires_at < oldest->expires_at)
			oldest = &tokens[i];
	}
	struct token *t = free_slot ? free_slot : oldest;
	memset(t, 0, sizeof *t);
	t->channel_id = channel_id;
	return t;
}

static const char *api_base(struct sender *s, const struct channel *ch)
{
	return ch->url && ch->url[0] ? ch->url : s->cfg->wecom_api_base;
}

/* The channel's access token into out: 0, or -1 with r set. A token older
 * than the channel's last change is not used (its secret may have changed). */
static int wecom_token(struct sender *s, const struct channel *ch, bool fresh, char *out,
                       size_t cap, struct send_result *r)
{
	pthread_mutex_lock(&tokens_mu);
	struct token *t = token_slot(ch->id);
	bool ok =
	    !fresh && t->value[0] && t->expires_at > time_now() && t->updated_at >= ch->updated_at;
	if (ok)
		snprintf(out, cap, "%s", t->value);
	pthread_mutex_unlock(&tokens_mu);
	if (ok)
		return 0;
	char *id = curl_easy_escape(s->curl, ch->corp_id ? ch->corp_id : "", 0);
	char *secret = curl_easy_escape(s->curl, ch->corp_secret ? ch->corp_secret : "", 0);
	char *url =
	    xasprintf("%s/cgi-bin/gettoken?corpid=%s&corpsecret=%s", api_base(s, ch), id, secret);
	curl_free(id);
	curl_free(secret);
	long status = 0;
	struct answer a = {0};
	json_t *j = NULL;
	int rc = -1;
	if (http(s, url, NULL, NULL, &status, &a, r) == 0 &&
	    wecom_answer(s, status, &a, &j, r) == 0) {
		const char *tok = json_string_value(json_object_get(j, "access_token"));
		int64_t ttl = json_integer_value(json_object_get(j, "expires_in"));
		if (!tok || strlen(tok) >= sizeof tokens[0].value || ttl <= 0) {
			fail(r, SEND_RETRY, status,
			     "WeCom gettoken answered without a usable token");
		} else {
			pthread_mutex_lock(&tokens_mu);
			t = token_slot(ch->id);
			snprintf(t->value, sizeof t->value, "%s", tok);
			t->updated_at = time_now();
			/* renewed five minutes early, so that none expires on the way */
			t->expires_at = time_now() + (ttl > 600 ? ttl - 300 : ttl / 2);
			pthread_mutex_unlock(&tokens_mu);
			snprintf(out, cap, "%s", tok);
			rc = 0;
		}
	} else if (r->outcome == SEND_DEAD) {
		/* 40001 / 40013 / 40091 ...: the corp id or secret is wrong */
		char why[sizeof r->error];
		snprintf(why, sizeof why, "%s", r->error);
		fail(r, SEND_DEAD, r->http_status, "getting an access token: %s", why);
	}
	json_decref(j);
	free(a.data);
	crypto_wipe(url, strlen(url));
	free(url);
	return rc;
}

static void send_customer(struct sender *s, const struct delivery *d, const struct channel *ch,
                          struct send_result *r)
{
	json_t *p = json_loads(d->payload, 0, NULL);
	const char *text = json_string_value(json_object_get(p, "text"));
	const char *to = json_string_value(json_object_get(p, "external_userid"));
	if (!text || !to) {
		json_decref(p);
		fail(r, SEND_DEAD, 0, "the stored payload has no text or external_userid");
		return;
	}
	json_t *msg = json_pack("{s:s, s:[s], s:{s:s}}", "chat_type", "single", "external_userid",
	                        to, "text", "content", text);
	if (ch->sender && ch->sender[0])
		json_object_set_new(msg, "sender", json_string(ch->sender));
	json_decref(p);
	char *body = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char token[sizeof tokens[0].value];
	/* a token WeCom calls expired or invalid is fetched anew once, at once */
	for (int round = 0; round < 2; round++) {
		if (wecom_token(s, ch, round > 0, token, sizeof token, r) < 0)
			break;
		char *url = xasprintf("%s/cgi-bin/externalcontact/add_msg_template?access_token=%s",
		                      api_base(s, ch), token);
		long status = 0;
		struct answer a = {0};
		long code = -1000;
		if (http(s, url, body, h, &status, &a, r) == 0)
			code = wecom_answer(s, status, &a, NULL, r);
		free(a.data);
		crypto_wipe(url, strlen(url));
		free(url);
		if (code == 0) {
			r->outcome = SEND_OK;
			r->http_status = status;
			break;
		}
		if (code != 42001 && code != 40014 && code != 41001)
			break;
		r->outcome = SEND_RETRY; /* if the second round cannot fix it */
	}
	crypto_wipe(token, sizeof token);
	curl_slist_free_all(h);
	free(body);
}

/* Group robots' rate limit ----------------------------------------------------------------- */

/* The send times of each robot in the last minute, shared by the senders and
 * seeded from the outbox (so that a restart does not reset the count). */
#define ROBOTS_MAX 256
#define WINDOW_MAX 1000
static struct robot {
	int64_t channel_id;
	int n;
	int64_t times[WINDOW_MAX]; /* oldest first */
} * robots;
static int nrobots;
static pthread_mutex_t robots_mu = PTHREAD_MUTEX_INITIALIZER;

/* Reserve a send for the robot now: 0, or the time when one is free. */
static int64_t robot_reserve(struct sender *s, int64_t channel_id)
{
	int limit = (int)s->cfg->wecom_bot_per_minute;
	if (limit > WINDOW_MAX)
		limit = WINDOW_MAX;
	int64_t now = time_now();
	pthread_mutex_lock(&robots_mu);
	struct robot *rb = NULL;
	for (int i = 0; i < nrobots && !rb; i++)
		if (robots[i].channel_id == channel_id)
			rb = &robots[i];
	if (!rb) {
		if (nrobots == ROBOTS_MAX)
			nrobots = 0; /* forget them all: each is seeded again below */
		rb = &robots[nrobots++];
		memset(rb, 0, sizeof *rb);
		rb->channel_id = channel_id;
		int64_t seen[WINDOW_MAX];
		int n = store_channel_recent_sends(s->db, channel_id, now - 59, seen, limit);
		for (int i = n - 1; i >= 0; i--) /* newest first there */
			rb->times[rb->n++] = seen[i];
	}
	int drop = 0; /* sends older than the minute */
	while (drop < rb->n && rb->times[drop] <= now - 60)
		drop++;
	memmove(rb->times, rb->times + drop, (size_t)(rb->n - drop) * sizeof rb->times[0]);
	rb->n -= drop;
	int64_t wait = 0;
	if (rb->n >= limit)
		wait = rb->times[rb->n - limit] + 60;
	else
		rb->times[rb->n++] = now;
	pthread_mutex_unlock(&robots_mu);
	return wait;
}

void notify_send_init(void)
{
	robots = xcalloc(ROBOTS_MAX, sizeof *robots);
	nrobots = 0;
}

void notify_send_cleanup(void)
{
	free(robots);
	robots = NULL;
	nrobots = 0;
	pthread_mutex_lock(&tokens_mu);
	crypto_wipe(tokens, sizeof tokens);
	pthread_mutex_unlock(&tokens_mu);
}

/* One delivery ------------------------------------------------------------------------------ */

static void send_message(struct sender *s, const struct delivery *d, struct send_result *r)
{
	struct channel ch = {0};
	int st = d->channel_id ? store_channel_get(s->db, d->channel_id, &ch) : ST_NOT_FOUND;
	if (st == ST_NOT_FOUND) {
		fail(r, SEND_DEAD, 0, "the message channel was deleted");
	} else if (st != ST_OK) {
		fail(r, SEND_RETRY, 0, "the message channel could not be read");
	} else if (!ch.enabled) {
		fail(r, SEND_POSTPONE, 0, "the message channel %s is switched off", ch.name);
		r->not_before = time_now() + 60;
	} else if (strcmp(ch.kind, "log") == 0) {
		json_t *p = json_loads(d->payload, 0, NULL);
		const char *text = json_string_value(json_object_get(p, "text"));
		log_info("notify: channel %s, customer %lld: %s", ch.name,
		         (long long)d->customer_id, text ? text : "");
		json_decref(p);
		r->outcome = SEND_OK;
	} else if (strcmp(ch.kind, "webhook") == 0) {
		send_webhook(s, d, ch.url, ch.secret, r);
	} else if (strcmp(ch.kind, "wecom_bot") == 0) {
		int64_t wait = robot_reserve(s, ch.id);
		if (wait) {
			fail(r, SEND_POSTPONE, 0, "held back: the robot takes %u messages a minute",
			     s->cfg->wecom_bot_per_minute);
			r->not_before = wait;
		} else {
			send_bot(s, d, &ch, r);
		}
	} else if (strcmp(ch.kind, "wecom_customer") == 0) {
		send_customer(s, d, &ch, r);
	} else {
		fail(r, SEND_DEAD, 0, "unknown channel kind %s", ch.kind);
	}
	channel_clear(&ch);
}

static void send_event(struct sender *s, const struct delivery *d, struct send_result *r)
{
	struct webhook w = {0};
	int st = d->webhook_id ? store_webhook_get(s->db, d->webhook_id, &w) : ST_NOT_FOUND;
	if (st == ST_NOT_FOUND) {
		fail(r, SEND_DEAD, 0, "the webhook was deleted");
	} else if (st != ST_OK) {
		fail(r, SEND_RETRY, 0, "the webhook could not be read");
	} else if (!w.enabled) {
		fail(r, SEND_POSTPONE, 0, "the webhook is switched off");
		r->not_before = time_now() + 60;
	} else {
		send_webhook(s, d, w.url, w.secret, r);
	}
	webhook_clear(&w);
}

void notify_send(struct sender *s, const struct delivery *d, struct send_result *r)
{
	memset(r, 0, sizeof *r);
	if (strcmp(d->kind, "event") == 0)
		send_event(s, d, r);
	else
		send_message(s, d, r);
}
