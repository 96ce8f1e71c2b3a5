/* api.h - what every resource handler uses: the error shape, body checking,
 * pagination, times, and api_write() (a write with its audit row and its
 * Idempotency-Key answer committed in the same transaction). Plus the handlers. */
#ifndef SCRM_API_H
#define SCRM_API_H

#include "scrm/http.h"
#include "scrm/store.h"

#include <jansson.h>
#include <stdint.h>

struct scrm_config;

/* Settings the handlers read; set once at start. */
void api_init(const struct scrm_config *cfg);
const struct scrm_config *api_config(void);

/* Fill rs with {"error":{code,message,field?}} and return status. field may be NULL. */
int api_error(struct resp *rs, int status, const char *code, const char *field, const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));
/* Map a failing store result (ST_*, sign ignored) to 404 / 409 / 503 / 500. */
int api_store_error(struct resp *rs, int st);

/* Body checking. A spec is an array ended by {NULL}. */
enum jtype { J_STRING, J_INT, J_BOOL, J_OBJECT, J_ARRAY, J_ANY };
enum jflags { JF_REQUIRED = 1, JF_NULLABLE = 2 };
struct jfield {
	const char *name;
	enum jtype type;
	unsigned flags;
	unsigned max_len; /* strings: maximum bytes (0: 10,000) */
};
/* Checks that body is an object whose keys are all in spec, with the right types,
 * required ones present and strings valid UTF-8 without NUL. Returns 0, or the
 * status after filling rs (422 naming the field). prefix names nested objects
 * ("" at the top). */
int api_check_object(const json_t *obj, const struct jfield *spec, const char *prefix,
                     struct resp *rs);
/* The string at key, or NULL when absent or null. */
const char *api_get_str(const json_t *obj, const char *key);

/* Paths. Parse {placeholder} i as a positive id; 0 and a 404 in rs if not. */
int64_t api_path_id(const struct req *rq, int i, struct resp *rs, int *status);

/* Pagination: ?limit=1..500 (default 50), ?cursor=opaque, ?count=true. */
struct page {
	int limit;
	int64_t after;  /* decoded cursor; 0 = from the start */
	int64_t after2; /* second key of a two-part cursor (time-ordered lists) */
	bool count;
};
int api_page_parse(const struct req *rq, struct resp *rs, struct page *pg);
/* Lists are fetched with limit + 1 rows: if data holds more than limit items,
 * drop the extra and return the key field of the last kept one (the next
 * cursor); else 0. */
int64_t api_page_trim(json_t *data, int limit, const char *key_field);
/* {"data": data, "next_cursor": ..., "total"?}; steals data. next_key 0 = no more. */
json_t *api_page_result(json_t *data, int64_t next_key, int64_t total);
/* The same with a two-part cursor (key, key2), e.g. (time, id). */
json_t *api_page_result2(json_t *data, int64_t next_key, int64_t next_key2, int64_t total);
/* Query-string helpers: 0 if absent or ok, else status after filling rs. */
int api_query_i64(const struct req *rq, const char *key, int64_t *out, struct resp *rs);
int api_query_time(const struct req *rq, const char *key, int64_t *out, struct resp *rs);
/* from and to, both optional, the same way; 422 on to before from. */
int api_query_range(const struct req *rq, int64_t *from, int64_t *to, struct resp *rs);
int api_query_bool(const struct req *rq, const char *key, bool *out, struct resp *rs);

/* An optional body that, when sent, must be an empty object: 0 or a 422. */
int api_check_empty_body(const struct req *rq, struct resp *rs);
/* An http:// or https:// URL with a host, no spaces or control characters,
 * 2,000 bytes at most: 0 or a 422 naming field. */
int api_check_url(struct resp *rs, const char *field, const char *url);
/* A code that goes in a URL or on a card: min to max of [A-Za-z0-9_-]. */
bool api_code_ok(const char *s, size_t min, size_t max);
/* body[key], an array of 1 to 1000 positive ids: 0, or a 422 naming key or
 * key[i]. A missing key is 0 unless required. */
int api_check_ids(const json_t *body, const char *key, bool required, struct resp *rs);

/* The common shapes of resource handlers. Each takes the store's own
 * functions through a small adapter:
 *  - a page of records in id order: fetch appends up to limit records after
 *    `after` to data (as JSON); count (optional) gives the total for
 *    ?count=true;
 *  - one record by the id in the path: get puts its JSON in *out (ST_OK,
 *    ST_NOT_FOUND or a failure), "no such <what>" on 404;
 *  - deleting one by the id in the path through api_write: del is the
 *    store's delete (ST_NOT_FOUND: 404; ST_CONFLICT: 409 with conflict_msg). */
typedef int (*api_fetch_fn)(struct store_db *db, int64_t after, int limit, json_t *data);
typedef int64_t (*api_count_fn)(struct store_db *db);
int api_list_page(const struct req *rq, struct resp *rs, api_fetch_fn fetch, api_count_fn count);
typedef int (*api_get_fn)(struct store_db *db, int64_t id, json_t **out);
int api_get_by_id(const struct req *rq, struct resp *rs, api_get_fn get, const char *what);
/* Those adapters for a store that reads one `struct type` by id with
 * store_get (freed by clear) and lists them with store_list(db, after, limit,
 * callback, arg); each record is answered as to_json(const struct type *).
 * Used at file scope with a semicolon: API_GETTER(get_tags, tag, ...); */
#define API_GETTER(name, type, store_get, to_json, clear)                                          \
	static int name(struct store_db *db, int64_t id, json_t **out)                             \
	{                                                                                          \
		struct type x = {0};                                                               \
		int st = store_get(db, id, &x);                                                    \
		if (st == ST_OK)                                                                   \
			*out = to_json(&x);                                                        \
		clear(&x);                                                                         \
		return st;                                                                         \
	}                                                                                          \
	static int name(struct store_db *db, int64_t id, json_t **out)
#define API_FETCHER(name, type, store_list, to_json)                                               \
	static void name##_one(void *arg, const struct type *x)                                    \
	{                                                                                          \
		json_array_append_new(arg, to_json(x));                                            \
	}                                                                                          \
	static int name(struct store_db *db, int64_t after, int limit, json_t *data)               \
	{                                                                                          \
		return store_list(db, after, limit, name##_one, data);                             \
	}                                                                                          \
	static int name(struct store_db *db, int64_t after, int limit, json_t *data)
int api_delete_by_id(const struct req *rq, struct resp *rs, const char *action,
                     const char *target_type, int (*del)(struct store_db *db, int64_t id),
                     const char *what, const char *conflict_msg);

/* RFC 3339 string, or JSON null for 0. */
json_t *api_time(int64_t t);

/* A write. fn runs in the writer thread inside a savepoint: it returns the HTTP
 * status and fills w->rs (and the audit fields of w). A status >= 400 rolls its
 * changes back. On success the audit row is written; with an Idempotency-Key the
 * answer is stored too (business rejections included), and a repeat of the same
 * key answers from the store, or 409 idempotency_mismatch for another body. */
struct api_write {
	const struct req *rq;
	struct resp *rs;
	void *arg;
	const char *action;      /* audit action, e.g. "user.create" */
	const char *target_type; /* audit target, e.g. "user" */
	int64_t target_id;
	json_t *detail;           /* owned; audit detail object, no secrets */
	const char *redact_field; /* top-level answer field not kept for replays */
};
typedef int (*api_write_fn)(struct store_db *db, struct api_write *w);
int api_write(const struct req *rq, struct resp *rs, const char *action, const char *target_type,
              api_write_fn fn, void *arg);
/* api_write with &id, the id of the path's first {placeholder} (404 when it
 * is not one): the shape of every PATCH and POST on one record. */
int api_write_id(const struct req *rq, struct resp *rs, const char *action, const char *target_type,
                 api_write_fn fn);
/* Answer from a stored Idempotency-Key record before doing non-database work:
 * returns the replayed status, or 0 if the key is new (or absent). */
int api_idem_replay(const struct req *rq, struct resp *rs);
/* Record an audit entry for an action taken outside api_write (login, logout). */
void api_audit_async(const struct req *rq, const struct principal *who, const char *action,
                     const char *target_type, int64_t target_id, int status, json_t *detail);

/* Handlers ------------------------------------------------------------------ */
int api_healthz(const struct req *rq, struct resp *rs);
int api_metrics(const struct req *rq, struct resp *rs);
int api_openapi(const struct req *rq, struct resp *rs);
int api_auth_login(const struct req *rq, struct resp *rs);
int api_auth_logout(const struct req *rq, struct resp *rs);
int api_me_get(const struct req *rq, struct resp *rs);
int api_auth_session(const struct req *rq, struct resp *rs);
int api_me_patch(const struct req *rq, struct resp *rs);
int api_users_list(const struct req *rq, struct resp *rs);
int api_users_create(const struct req *rq, struct resp *rs);
int api_users_get(const struct req *rq, struct resp *rs);
int api_users_patch(const struct req *rq, struct resp *rs);
int api_users_delete(const struct req *rq, struct resp *rs);
int api_tokens_create(const struct req *rq, struct resp *rs);
int api_tokens_list(const struct req *rq, struct resp *rs);
int api_tokens_get(const struct req *rq, struct resp *rs);
int api_tokens_delete(const struct req *rq, struct resp *rs);
int api_audit_list(const struct req *rq, struct resp *rs);
int api_customers_list(const struct req *rq, struct resp *rs);
int api_customers_create(const struct req *rq, struct resp *rs);
int api_customers_get(const struct req *rq, struct resp *rs);
int api_customers_patch(const struct req *rq, struct resp *rs);
int api_customers_delete(const struct req *rq, struct resp *rs);
int api_customers_timeline(const struct req *rq, struct resp *rs);
int api_customers_tag(const struct req *rq, struct resp *rs);
int api_customers_untag(const struct req *rq, struct resp *rs);
int api_customers_merge(const struct req *rq, struct resp *rs);
int api_orders_upsert(const struct req *rq, struct resp *rs);
int api_orders_list(const struct req *rq, struct resp *rs);
int api_orders_get(const struct req *rq, struct resp *rs);
int api_orders_bind(const struct req *rq, struct resp *rs);
int api_orders_import(const struct req *rq, struct resp *rs);
int api_customers_import(const struct req *rq, struct resp *rs);
int api_acq_channels_list(const struct req *rq, struct resp *rs);
int api_acq_channels_create(const struct req *rq, struct resp *rs);
int api_acq_channels_get(const struct req *rq, struct resp *rs);
int api_acq_channels_patch(const struct req *rq, struct resp *rs);
int api_acq_channels_delete(const struct req *rq, struct resp *rs);
int api_live_code(const struct req *rq, struct resp *rs);
int api_groups_list(const struct req *rq, struct resp *rs);
int api_groups_create(const struct req *rq, struct resp *rs);
int api_groups_get(const struct req *rq, struct resp *rs);
int api_groups_patch(const struct req *rq, struct resp *rs);
int api_groups_delete(const struct req *rq, struct resp *rs);
int api_groups_members(const struct req *rq, struct resp *rs);
int api_groups_members_add(const struct req *rq, struct resp *rs);
int api_groups_members_remove(const struct req *rq, struct resp *rs);
int api_groups_activity(const struct req *rq, struct resp *rs);
int api_ambassadors_list(const struct req *rq, struct resp *rs);
int api_ambassadors_create(const struct req *rq, struct resp *rs);
int api_ambassadors_get(const struct req *rq, struct resp *rs);
int api_ambassadors_patch(const struct req *rq, struct resp *rs);
int api_ambassadors_commissions(const struct req *rq, struct resp *rs);
int api_ambassadors_customers(const struct req *rq, struct resp *rs);
int api_sops_list(const struct req *rq, struct resp *rs);
int api_sops_create(const struct req *rq, struct resp *rs);
int api_sops_get(const struct req *rq, struct resp *rs);
int api_sops_patch(const struct req *rq, struct resp *rs);
int api_sops_delete(const struct req *rq, struct resp *rs);
int api_sops_runs(const struct req *rq, struct resp *rs);
int api_sops_run_now(const struct req *rq, struct resp *rs);
int api_sops_dry_run(const struct req *rq, struct resp *rs);
int api_sops_dry_run_new(const struct req *rq, struct resp *rs);
int api_tasks_list(const struct req *rq, struct resp *rs);
int api_tasks_get(const struct req *rq, struct resp *rs);
int api_tasks_patch(const struct req *rq, struct resp *rs);
int api_channels_list(const struct req *rq, struct resp *rs);
int api_channels_create(const struct req *rq, struct resp *rs);
int api_channels_get(const struct req *rq, struct resp *rs);
int api_channels_patch(const struct req *rq, struct resp *rs);
int api_channels_delete(const struct req *rq, struct resp *rs);
int api_channels_test(const struct req *rq, struct resp *rs);
int api_webhooks_list(const struct req *rq, struct resp *rs);
int api_webhooks_create(const struct req *rq, struct resp *rs);
int api_webhooks_get(const struct req *rq, struct resp *rs);
int api_webhooks_patch(const struct req *rq, struct resp *rs);
int api_webhooks_delete(const struct req *rq, struct resp *rs);
int api_webhooks_deliveries(const struct req *rq, struct resp *rs);
int api_deliveries_list(const struct req *rq, struct resp *rs);
int api_deliveries_get(const struct req *rq, struct resp *rs);
int api_deliveries_retry(const struct req *rq, struct resp *rs);
int api_tags_list(const struct req *rq, struct resp *rs);
int api_tags_create(const struct req *rq, struct resp *rs);
int api_tags_get(const struct req *rq, struct resp *rs);
int api_tags_patch(const struct req *rq, struct resp *rs);
int api_tags_delete(const struct req *rq, struct resp *rs);
int api_tags_evaluate(const struct req *rq, struct resp *rs);
int api_audiences_list(const struct req *rq, struct resp *rs);
int api_audiences_create(const struct req *rq, struct resp *rs);
int api_audiences_preview(const struct req *rq, struct resp *rs);
int api_audiences_get(const struct req *rq, struct resp *rs);
int api_audiences_patch(const struct req *rq, struct resp *rs);
int api_audiences_delete(const struct req *rq, struct resp *rs);
int api_audiences_customers(const struct req *rq, struct resp *rs);
int api_audiences_export(const struct req *rq, struct resp *rs);
int api_audiences_evaluate(const struct req *rq, struct resp *rs);
int api_analytics_funnel(const struct req *rq, struct resp *rs);
int api_analytics_overview(const struct req *rq, struct resp *rs);
int api_analytics_repurchase(const struct req *rq, struct resp *rs);
int api_analytics_channels(const struct req *rq, struct resp *rs);
int api_analytics_operators(const struct req *rq, struct resp *rs);
int api_analytics_groups(const struct req *rq, struct resp *rs);
int api_analytics_ambassadors(const struct req *rq, struct resp *rs);
int api_analytics_cohorts(const struct req *rq, struct resp *rs);
/* Coupons and the points mall (src/api/coupons.c, src/api/rewards.c). */
int api_coupon_templates_list(const struct req *rq, struct resp *rs);
int api_coupon_templates_create(const struct req *rq, struct resp *rs);
int api_coupon_templates_get(const struct req *rq, struct resp *rs);
int api_coupon_templates_patch(const struct req *rq, struct resp *rs);
int api_coupon_templates_delete(const struct req *rq, struct resp *rs);
int api_customers_coupon_issue(const struct req *rq, struct resp *rs);
int api_customers_coupons(const struct req *rq, struct resp *rs);
int api_coupons_get(const struct req *rq, struct resp *rs);
int api_coupons_redeem(const struct req *rq, struct resp *rs);
int api_settings_coupons_get(const struct req *rq, struct resp *rs);
int api_settings_coupons_put(const struct req *rq, struct resp *rs);
int api_rewards_list(const struct req *rq, struct resp *rs);
int api_rewards_create(const struct req *rq, struct resp *rs);
int api_rewards_get(const struct req *rq, struct resp *rs);
int api_rewards_patch(const struct req *rq, struct resp *rs);
int api_rewards_delete(const struct req *rq, struct resp *rs);
int api_rewards_redeem(const struct req *rq, struct resp *rs);
int api_rewards_redemptions(const struct req *rq, struct resp *rs);
int api_customers_redemptions(const struct req *rq, struct resp *rs);
/* The public view of a coupon, its status as seen at now (caller owns). */
struct coupon;
json_t *api_coupon_json(const struct coupon *c, int64_t now);
int api_settings_points_get(const struct req *rq, struct resp *rs);
int api_settings_points_put(const struct req *rq, struct resp *rs);
int api_points_get(const struct req *rq, struct resp *rs);
int api_points_post(const struct req *rq, struct resp *rs);
int api_wallet_get(const struct req *rq, struct resp *rs);
int api_wallet_post(const struct req *rq, struct resp *rs);
int api_checkin(const struct req *rq, struct resp *rs);
int api_content_post(const struct req *rq, struct resp *rs);
int api_tiers_list(const struct req *rq, struct resp *rs);
int api_tiers_create(const struct req *rq, struct resp *rs);
int api_tiers_get(const struct req *rq, struct resp *rs);
int api_tiers_patch(const struct req *rq, struct resp *rs);
int api_tiers_delete(const struct req *rq, struct resp *rs);
int api_customer_tier_put(const struct req *rq, struct resp *rs);
int api_jobs_daily(const struct req *rq, struct resp *rs);
int api_clock_put(const struct req *rq, struct resp *rs);
int api_admin_backup(const struct req *rq, struct resp *rs);

/* The embedded OpenAPI document (NUL-terminated JSON). */
const char *api_openapi_text(void);

#endif
