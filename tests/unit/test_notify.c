/* test_notify.c - the webhook signature against a known HMAC, the retry
 * backoff's bounds, and the outbox's states on a real database: claiming
 * (never twice), finishing, holding back without counting an attempt, the
 * crash recovery of rows left being sent, retry by hand, and the event
 * webhook triggers (subscribed, switched off, '*', order.created). */
#include "harness.h"

#include "../../src/store/internal.h" /* white box: raw SQL for the fixtures */
#include "scrm/config.h"
#include "scrm/notify.h"
#include "scrm/store_notify.h"

#include <jansson.h>
#include <sqlite3.h>

static void test_signature_known_vector(void **state)
{
	(void)state;
	char sig[NOTIFY_SIG_LEN];
	const char *body = "{\"a\":1}";
	notify_sign("whsec_test", 1700000000, body, strlen(body), sig);
	/* python3: hmac.new(b'whsec_test', b'1700000000.{"a":1}', sha256) */
	assert_string_equal(
	    sig,
	    "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
	notify_sign("k", 0, "", 0, sig);
	assert_string_equal(
	    sig, "t=0,v1=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7");
	/* the body's bytes count, not its C string: an embedded NUL is signed */
	char a[NOTIFY_SIG_LEN], b[NOTIFY_SIG_LEN];
	notify_sign("k", 1, "x\0y", 3, a);
	notify_sign("k", 1, "x\0z", 3, b);
	assert_string_not_equal(a, b);
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	struct scrm_config c = {.notify_retry_base_s = 30, .notify_retry_max_s = 3600};
	for (int round = 0; round < 200; round++) {
		for (int64_t attempts = 1; attempts <= 20; attempts++) {
			int64_t full = 30;
			for (int64_t i = 1; i < attempts && full < 3600; i++)
				full *= 2;
			if (full > 3600)
				full = 3600;
			int64_t d = notify_backoff(&c, attempts);
			/* the upper half of the doubled delay, capped */
			assert_true(d >= full - full / 2);
			assert_true(d <= full);
		}
	}
	struct scrm_config one = {.notify_retry_base_s = 1, .notify_retry_max_s = 1};
	for (int i = 0; i < 50; i++)
		assert_true(notify_backoff(&one, 7) == 1);
}

static char *dir;
static struct store_db *db;

static int setup(void **state)
{
	(void)state;
	dir = test_db_open(false);
	db = db_open(false);
	return db ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	db_close(db);
	test_db_close(dir);
	return 0;
}

static int64_t enqueue_kind(int64_t channel_id, char *kind, int64_t due)
{
	struct delivery d = {.channel_id = channel_id,
	                     .kind = kind,
	                     .payload = "{\"text\":\"x\"}",
	                     .created_at = 1000,
	                     .next_attempt_at = due};
	assert_int_equal(store_delivery_add(db, &d), ST_OK);
	return d.id;
}

static int64_t enqueue(int64_t channel_id, int64_t due)
{
	return enqueue_kind(channel_id, "log", due);
}

struct seen {
	int64_t ids[64];
	int n;
};

static void collect(void *arg, const struct delivery *d)
{
	struct seen *s = arg;
	assert_string_equal(d->status, "sending");
	s->ids[s->n++] = d->id;
}

static bool has(const struct seen *s, int64_t id)
{
	for (int i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return true;
	return false;
}

static void status_is(int64_t id, const char *status, int64_t attempts)
{
	struct delivery d = {0};
	assert_int_equal(store_delivery_get(db, id, &d), ST_OK);
	assert_string_equal(d.status, status);
	assert_int_equal(d.attempts, attempts);
	delivery_clear(&d);
}

static void test_outbox_states(void **state)
{
	(void)state;
	struct channel ch = {.name = "log", .kind = "log", .enabled = true, .created_at = 1000};
	assert_int_equal(store_channel_insert(db, &ch), ST_OK);
	int64_t a = enqueue(ch.id, 1000), b = enqueue(ch.id, 1005), later = enqueue(ch.id, 5000);
	/* due ones only, oldest first; a claimed one is not claimed again */
	struct seen s = {0};
	assert_int_equal(store_delivery_claim(db, 1010, 10, collect, &s), 2);
	assert_int_equal(s.n, 2);
	assert_true((s.ids[0] == a && s.ids[1] == b) || (s.ids[0] == b && s.ids[1] == a));
	struct seen again = {0};
	assert_int_equal(store_delivery_claim(db, 1010, 10, collect, &again), 0);
	status_is(a, "sending", 1);
	/* delivered; failed with a time; held back without an attempt */
	assert_int_equal(store_delivery_finish(db, a, "delivered", 1011, NULL, 200, 1011), ST_OK);
	assert_int_equal(store_delivery_finish(db, a, "delivered", 1011, NULL, 200, 1011),
	                 ST_NOT_FOUND); /* no longer being sent */
	status_is(a, "delivered", 1);
	assert_int_equal(store_delivery_postpone(db, b, 1100, "held back", 1011), ST_OK);
	status_is(b, "pending", 0);
	struct seen none = {0};
	assert_int_equal(store_delivery_claim(db, 1099, 10, collect, &none), 0);
	struct seen bs = {0};
	assert_int_equal(store_delivery_claim(db, 1100, 10, collect, &bs), 1);
	assert_int_equal(store_delivery_finish(db, b, "failed", 1200, "HTTP 503", 503, 1101),
	                 ST_OK);
	status_is(b, "failed", 1);
	/* retry by hand: failed or dead only */
	assert_int_equal(store_delivery_retry(db, a, 1102), ST_CONFLICT);
	assert_int_equal(store_delivery_retry(db, b, 1102), ST_OK);
	status_is(b, "pending", 1);
	assert_int_equal(store_delivery_retry(db, 99999, 1102), ST_NOT_FOUND);
	/* a crash while sending: put back, due now */
	struct seen cs = {0};
	assert_int_equal(store_delivery_claim(db, 6000, 10, collect, &cs), 2); /* b and later */
	assert_int_equal(store_delivery_unclaim(db, 6001), 2);
	status_is(later, "failed", 1);
	/* the robot window reads delivered_at */
	int64_t times[4];
	assert_int_equal(store_channel_recent_sends(db, ch.id, 1000, times, 4), 1);
	assert_int_equal(times[0], 1011);
	/* a deleted channel leaves its deliveries, channel_id null */
	assert_int_equal(store_channel_delete(db, ch.id), ST_OK);
	struct delivery d = {0};
	assert_int_equal(store_delivery_get(db, a, &d), ST_OK);
	assert_int_equal(d.channel_id, 0);
	delivery_clear(&d);
}

/* A robot's messages go out in order: none is claimed while another of the
 * same robot is being sent; other channels are not held up. */
static void test_robot_order(void **state)
{
	(void)state;
	struct channel r1 = {
	    .name = "r1", .kind = "wecom_bot", .enabled = true, .created_at = 1000};
	struct channel r2 = {
	    .name = "r2", .kind = "wecom_bot", .enabled = true, .created_at = 1000};
	struct channel lg = {.name = "lg", .kind = "log", .enabled = true, .created_at = 1000};
	assert_int_equal(store_channel_insert(db, &r1), ST_OK);
	assert_int_equal(store_channel_insert(db, &r2), ST_OK);
	assert_int_equal(store_channel_insert(db, &lg), ST_OK);
	int64_t a1 = enqueue_kind(r1.id, "wecom_bot", 1000),
	        a2 = enqueue_kind(r1.id, "wecom_bot", 1000);
	int64_t a3 = enqueue_kind(r1.id, "wecom_bot", 1001);
	int64_t b1 = enqueue_kind(r2.id, "wecom_bot", 1002),
	        b2 = enqueue_kind(r2.id, "wecom_bot", 1002);
	int64_t l1 = enqueue(lg.id, 1000), l2 = enqueue(lg.id, 1000);
	/* one sender takes r1's first; the next sender none of r1's, but r2's and the log's */
	struct seen s1 = {0};
	assert_int_equal(store_delivery_claim(db, 1010, 1, collect, &s1), 1);
	assert_true(s1.ids[0] == a1);
	struct seen s2 = {0};
	assert_int_equal(store_delivery_claim(db, 1010, 1, collect, &s2), 1);
	assert_true(s2.ids[0] == l1); /* a log line is never held up */
	struct seen s3 = {0};
	assert_int_equal(store_delivery_claim(db, 1010, 10, collect, &s3), 3);
	assert_true(has(&s3, l2) && has(&s3, b1) && has(&s3, b2));
	struct seen none = {0};
	assert_int_equal(store_delivery_claim(db, 1010, 10, collect, &none), 0);
	/* r1's first settles (even by failing): its next two go to one sender */
	assert_int_equal(store_delivery_finish(db, a1, "failed", 1500, "busy", 0, 1011), ST_OK);
	struct seen s4 = {0};
	assert_int_equal(store_delivery_claim(db, 1012, 10, collect, &s4), 2);
	assert_true(has(&s4, a2) && has(&s4, a3)); /* the sender sorts its batch by due time */
	status_is(a1, "failed", 1);
}

static int64_t count_deliveries(const char *event)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db->h,
	                                    "SELECT count(*) FROM deliveries WHERE event = ?", -1,
	                                    &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(st, 1, event, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_event_triggers(void **state)
{
	(void)state;
	assert_int_equal(db_exec(db, "INSERT INTO customers(id, name, created_at, updated_at)"
	                             " VALUES (7, 'a', 1, 1)"),
	                 0);
	struct webhook w = {.url = "http://127.0.0.1:1/h",
	                    .events = "[\"tag.added\",\"order.created\",\"tag.added\"]",
	                    .secret = "0123456789abcdef",
	                    .enabled = true,
	                    .created_at = 1};
	assert_int_equal(store_webhook_insert(db, &w), ST_OK);
	struct webhook all = {.url = "http://127.0.0.1:1/all",
	                      .events = "[\"*\"]",
	                      .secret = "0123456789abcdef",
	                      .enabled = false,
	                      .created_at = 1};
	assert_int_equal(store_webhook_insert(db, &all), ST_OK);
	/* subscribed (listed twice: one delivery), not subscribed, switched off */
	assert_int_equal(db_exec(db, "INSERT INTO customer_events(customer_id, at, kind, data)"
	                             " VALUES (7, 100, 'tag.added', '{\"name\":\"vip\"}'),"
	                             " (7, 101, 'points.changed', '{}')"),
	                 0);
	assert_int_equal(count_deliveries("tag.added"), 1);
	assert_int_equal(count_deliveries("points.changed"), 0);
	assert_int_equal(db_exec(db,
	                         "INSERT INTO orders(platform, external_id, amount_cents, status,"
	                         " paid_at, created_at, updated_at)"
	                         " VALUES ('tmall', 'T1', 990, 'paid', 50, 60, 60)"),
	                 0);
	assert_int_equal(count_deliveries("order.created"), 1);
	/* the payload is the event as sent */
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db->h,
	                                    "SELECT payload, next_attempt_at FROM deliveries"
	                                    " WHERE event = 'order.created'",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	json_t *p = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	assert_int_equal(sqlite3_column_int64(st, 1), 60);
	sqlite3_finalize(st);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "at")), "1970-01-01T00:01:00Z");
	json_t *data = json_object_get(p, "data");
	assert_string_equal(json_string_value(json_object_get(data, "external_id")), "T1");
	assert_int_equal(json_integer_value(json_object_get(data, "amount_cents")), 990);
	assert_true(json_is_array(json_object_get(data, "items")));
	assert_true(json_is_null(json_object_get(p, "customer_id")));
	json_decref(p);
	/* switched on, '*' gets everything from then on */
	all.enabled = true;
	all.updated_at = 2;
	assert_int_equal(store_webhook_update(db, &all), ST_OK);
	assert_int_equal(db_exec(db, "INSERT INTO customer_events(customer_id, at, kind, data)"
	                             " VALUES (7, 102, 'points.changed', '{}')"),
	                 0);
	assert_int_equal(count_deliveries("points.changed"), 1);
	/* unsubscribing rewrites the list */
	struct webhook w2 = {.id = w.id,
	                     .url = "http://127.0.0.1:1/h",
	                     .events = "[\"checkin\"]",
	                     .secret = "0123456789abcdef",
	                     .enabled = true,
	                     .updated_at = 3};
	assert_int_equal(store_webhook_update(db, &w2), ST_OK);
	assert_int_equal(db_exec(db, "INSERT INTO customer_events(customer_id, at, kind, data)"
	                             " VALUES (7, 103, 'tag.added', '{}')"),
	                 0);
	assert_int_equal(count_deliveries("tag.added"), 2); /* only '*' got the second */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signature_known_vector),
	    cmocka_unit_test(test_backoff_bounds),
	    cmocka_unit_test_setup_teardown(test_outbox_states, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_robot_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_triggers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
