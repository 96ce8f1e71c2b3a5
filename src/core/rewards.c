/* rewards.c - the points mall: what a reward must be, and redeeming one,
 * which takes the points, the stock and, for coupons and lottery prizes, issues
 * the coupon in one transaction. The writer runs closures one at a time, so
 * the checks below see every redemption committed or queued before them: a
 * stock is never oversold and a limit never passed, whatever the concurrency. */
#include "scrm/core_loyalty.h"

#include "scrm/core_auth.h"
#include "scrm/crypto.h"
#include "scrm/store_rewards.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POINTS_MAX 1000000000LL
#define STOCK_MAX 1000000000LL
#define LIMIT_MAX 1000000LL
#define PRIZES_MAX 50
#define WEIGHT_MAX 1000000LL
#define PRIZE_NAME_MAX 100

static bool kind_valid(const char *k)
{
	return k && (strcmp(k, "gift") == 0 || strcmp(k, "coupon") == 0 ||
	             strcmp(k, "lottery") == 0 || strcmp(k, "flash_sale") == 0);
}

static int template_exists(struct store_db *db, int64_t id, const char *field, struct core_err *e)
{
	struct coupon_template t = {0};
	int st = store_coupon_template_get(db, id, &t);
	coupon_template_clear(&t);
	if (st == ST_NOT_FOUND)
		return core_fail(e, CORE_INVALID, field, "%s: no coupon template %lld", field,
		                 (long long)id);
	return st == ST_OK ? 0 : core_store_fail(e, st);
}

static int prize_fail(struct core_err *e, size_t i, const char *key, const char *fmt,
                      const char *what)
{
	snprintf(e->path, sizeof e->path, "prizes[%zu]%s%s", i, key ? "." : "", key ? key : "");
	return core_fail(e, CORE_INVALID, e->path, fmt, e->path, what);
}

/* Check the prizes array and put its normalised compact text in *out. */
static int check_prizes(struct store_db *db, const json_t *prizes, char **out, struct core_err *e)
{
	if (!json_is_array(prizes))
		return core_fail(e, CORE_INVALID, "prizes", "prizes must be an array");
	if (json_array_size(prizes) > PRIZES_MAX)
		return core_fail(e, CORE_INVALID, "prizes", "a lottery has %d prizes at most",
		                 PRIZES_MAX);
	json_t *norm = json_array();
	size_t i;
	json_t *p;
	int rc = 0;
	json_array_foreach(prizes, i, p)
	{
		if (!json_is_object(p)) {
			rc = prize_fail(e, i, NULL, "%s must be an object%s", "");
			break;
		}
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)p, key, v)
		{
			if (strcmp(key, "name") != 0 && strcmp(key, "weight") != 0 &&
			    strcmp(key, "coupon_template_id") != 0) {
				rc = prize_fail(e, i, key,
				                "unknown field %s; allowed: name, weight, "
				                "coupon_template_id%s",
				                "");
				break;
			}
		}
		if (rc < 0)
			break;
		json_t *name = json_object_get(p, "name"), *weight = json_object_get(p, "weight"),
		       *tpl = json_object_get(p, "coupon_template_id");
		const char *why;
		if (!json_is_string(name)) {
			rc = prize_fail(e, i, "name", "%s must be a string%s", "");
			break;
		}
		if ((why = core_label_problem(json_string_value(name), PRIZE_NAME_MAX, false))) {
			rc = prize_fail(e, i, "name", "%s %s", why);
			break;
		}
		if (!json_is_integer(weight) || json_integer_value(weight) < 1 ||
		    json_integer_value(weight) > WEIGHT_MAX) {
			rc = prize_fail(e, i, "weight", "%s must be a whole number from 1 to %s",
			                "1000000");
			break;
		}
		int64_t tid = 0;
		if (tpl && !json_is_null(tpl)) {
			if (!json_is_integer(tpl) || json_integer_value(tpl) <= 0) {
				rc = prize_fail(e, i, "coupon_template_id",
				                "%s must be a coupon template id or null%s", "");
				break;
			}
			tid = json_integer_value(tpl);
			snprintf(e->path, sizeof e->path, "prizes[%zu].coupon_template_id", i);
			if ((rc = template_exists(db, tid, e->path, e)) < 0)
				break;
		}
		json_array_append_new(norm, json_pack("{s:O, s:O, s:o}", "name", name, "weight",
		                                      weight, "coupon_template_id",
		                                      tid ? json_integer(tid) : json_null()));
	}
	if (rc == 0)
		*out = json_dumps(norm, JSON_COMPACT);
	json_decref(norm);
	return rc;
}

int core_reward_check(struct store_db *db, struct reward *r, const json_t *prizes,
                      struct core_err *e)
{
	if (!kind_valid(r->kind))
		return core_fail(e, CORE_INVALID, "kind",
		                 "kind must be gift, coupon, lottery or flash_sale");
	if (r->points_cost < 0 || r->points_cost > POINTS_MAX)
		return core_fail(e, CORE_INVALID, "points_cost",
		                 "points_cost must be a whole number of points, 0 or more");
	if (r->has_stock && (r->stock < 0 || r->stock > STOCK_MAX))
		return core_fail(e, CORE_INVALID, "stock",
		                 "stock must be 0 or more, or null for unlimited");
	if (r->per_customer_limit < 0 || r->per_customer_limit > LIMIT_MAX)
		return core_fail(e, CORE_INVALID, "per_customer_limit",
		                 "per_customer_limit must be 0 (no limit) or more");
	if (r->starts_at && r->ends_at && r->ends_at <= r->starts_at)
		return core_fail(e, CORE_INVALID, "ends_at", "ends_at must come after starts_at");
	if (prizes) {
		char *text = NULL;
		if (check_prizes(db, prizes, &text, e) < 0)
			return -1;
		free(r->prizes);
		r->prizes = text;
	}
	bool has_prizes = r->prizes && strcmp(r->prizes, "[]") != 0;
	const char *k = r->kind;
	if (strcmp(k, "lottery") == 0) {
		if (!has_prizes)
			return core_fail(e, CORE_INVALID, "prizes",
			                 "a lottery needs prizes: [{\"name\", \"weight\", "
			                 "\"coupon_template_id\"}]");
		if (r->coupon_template_id)
			return core_fail(e, CORE_INVALID, "coupon_template_id",
			                 "a lottery gives its prizes' coupons: put "
			                 "coupon_template_id on the prizes");
	} else if (has_prizes) {
		return core_fail(e, CORE_INVALID, "prizes", "only a lottery has prizes");
	}
	if (strcmp(k, "coupon") == 0 && !r->coupon_template_id)
		return core_fail(e, CORE_INVALID, "coupon_template_id",
		                 "a coupon reward needs coupon_template_id");
	if (strcmp(k, "gift") == 0 && r->coupon_template_id)
		return core_fail(e, CORE_INVALID, "coupon_template_id",
		                 "a gift reward gives no coupon: use kind coupon, or a flash_sale");
	if (strcmp(k, "flash_sale") == 0 && !r->starts_at)
		return core_fail(e, CORE_INVALID, "starts_at", "a flash_sale needs starts_at");
	if (strcmp(k, "flash_sale") == 0 && !r->ends_at)
		return core_fail(e, CORE_INVALID, "ends_at", "a flash_sale needs ends_at");
	if (r->coupon_template_id &&
	    template_exists(db, r->coupon_template_id, "coupon_template_id", e) < 0)
		return -1;
	return 0;
}

int core_reward_delete(struct store_db *db, int64_t id, struct core_err *e)
{
	struct reward r = {0};
	int st = store_reward_get(db, id, &r);
	int rc = 0;
	if (st == ST_NOT_FOUND) {
		rc = core_fail(e, CORE_NOT_FOUND, NULL, "no such reward");
	} else if (st != ST_OK) {
		rc = core_store_fail(e, st);
	} else {
		int64_t n = store_redemption_count_by(db, id, 0);
		if (n < 0)
			rc = core_store_fail(e, ST_ERR);
		else if (n > 0)
			rc =
			    core_fail(e, CORE_CONFLICT, NULL,
			              "reward %s was redeemed %lld time(s) and its redemptions are "
			              "kept; switch it off with PATCH {\"active\": false} instead",
			              r.name, (long long)n);
		else if ((st = store_reward_delete(db, id)) != ST_OK)
			rc = core_store_fail(e, st);
	}
	reward_clear(&r);
	return rc;
}

/* The lottery ------------------------------------------------------------------ */

int core_lottery_pick(const int64_t *weights, size_t n, uint64_t r)
{
	for (size_t i = 0; i < n; i++) {
		if (weights[i] <= 0)
			continue;
		if (r < (uint64_t)weights[i])
			return (int)i;
		r -= (uint64_t)weights[i];
	}
	return -1;
}

int core_lottery_draw(const int64_t *weights, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (weights[i] > 0)
			total += (uint64_t)weights[i];
	return total ? core_lottery_pick(weights, n, crypto_random_below(total)) : -1;
}

/* Draw one of the stored prizes: *prize gets {"name", "coupon_template_id"}. */
static int draw_prize(const char *prizes_text, json_t **prize, int64_t *template_id,
                      struct core_err *e)
{
	json_t *prizes = json_loads(prizes_text ? prizes_text : "[]", 0, NULL);
	int64_t weights[PRIZES_MAX];
	size_t n = 0, i;
	json_t *p;
	json_array_foreach(prizes, i, p)
	{
		if (n < PRIZES_MAX)
			weights[n++] = json_integer_value(json_object_get(p, "weight"));
	}
	int pick = core_lottery_draw(weights, n);
	int rc = 0;
	if (pick < 0) {
		rc = core_fail_code(e, CORE_CODE_NOT_AVAILABLE, NULL, "this lottery has no prizes");
	} else {
		p = json_array_get(prizes, (size_t)pick);
		json_t *tpl = json_object_get(p, "coupon_template_id");
		*template_id = json_integer_value(tpl);
		*prize = json_pack("{s:O, s:o}", "name", json_object_get(p, "name"),
		                   "coupon_template_id",
		                   *template_id ? json_integer(*template_id) : json_null());
	}
	json_decref(prizes);
	return rc;
}

/* Redemption ------------------------------------------------------------------ */

void core_reward_result_clear(struct reward_result *r)
{
	if (!r)
		return;
	json_decref(r->prize);
	coupon_clear(&r->coupon);
	memset(r, 0, sizeof *r);
}

/* A template the reward gives must be able to issue a coupon now. */
static int template_usable(struct store_db *db, const struct reward *r, int64_t id, int64_t now,
                           struct core_err *e)
{
	struct coupon_template t = {0};
	int st = store_coupon_template_get(db, id, &t);
	int rc = 0;
	if (st == ST_NOT_FOUND)
		rc = core_fail_code(e, CORE_CODE_NOT_AVAILABLE, NULL,
		                    "reward %s gives coupon template %lld, which is gone", r->name,
		                    (long long)id);
	else if (st != ST_OK)
		rc = core_store_fail(e, st);
	else if (!t.active)
		rc = core_fail_code(e, CORE_CODE_NOT_AVAILABLE, NULL,
		                    "reward %s gives coupon template %s, which is switched off",
		                    r->name, t.name);
	else if (core_coupon_expiry(&t, now) <= now)
		rc = core_fail_code(e, CORE_CODE_NOT_AVAILABLE, NULL,
		                    "reward %s gives coupon template %s, which is past its "
		                    "valid_until",
		                    r->name, t.name);
	coupon_template_clear(&t);
	return rc;
}

/* Active, inside its window, and every coupon it may give can be issued. */
static int check_available(struct store_db *db, const struct reward *r, int64_t now,
                           struct core_err *e)
{
	char when[TIME_RFC3339_LEN];
	if (!r->active)
		return core_fail_code(e, CORE_CODE_NOT_AVAILABLE, NULL, "reward %s is switched off",
		                      r->name);
	if (r->starts_at && now < r->starts_at)
		return core_fail_code(e, CORE_CODE_NOT_AVAILABLE, NULL, "reward %s opens at %s",
		                      r->name, time_fmt_rfc3339(r->starts_at, when));
	if (r->ends_at && now >= r->ends_at)
		return core_fail_code(e, CORE_CODE_NOT_AVAILABLE, NULL, "reward %s ended at %s",
		                      r->name, time_fmt_rfc3339(r->ends_at, when));
	if (r->coupon_template_id && template_usable(db, r, r->coupon_template_id, now, e) < 0)
		return -1;
	json_t *prizes = json_loads(r->prizes ? r->prizes : "[]", 0, NULL);
	size_t i;
	json_t *p;
	int rc = 0;
	json_array_foreach(prizes, i, p)
	{
		int64_t id = json_integer_value(json_object_get(p, "coupon_template_id"));
		if (id && (rc = template_usable(db, r, id, now, e)) < 0)
			break;
	}
	json_decref(prizes);
	return rc;
}

static int check_limit_and_stock(struct store_db *db, const struct reward *r, int64_t customer_id,
                                 struct core_err *e)
{
	if (r->per_customer_limit > 0) {
		int64_t n = store_redemption_count_by(db, r->id, customer_id);
		if (n < 0)
			return core_store_fail(e, ST_ERR);
		if (n >= r->per_customer_limit)
			return core_fail_code(
			    e, CORE_CODE_LIMIT_REACHED, NULL,
			    "reward %s may be redeemed %lld time(s) per customer; "
			    "this customer has redeemed it %lld time(s)",
			    r->name, (long long)r->per_customer_limit, (long long)n);
	}
	if (r->has_stock && r->stock <= 0)
		return core_fail_code(e, CORE_CODE_OUT_OF_STOCK, NULL, "reward %s is out of stock",
		                      r->name);
	return 0;
}

/* Take the points and the stock, issue what the reward gives, record it. */
static int redeem(struct store_db *db, const struct reward *r, int64_t customer_id, int64_t now,
                  struct reward_result *out, struct core_err *e)
{
	if (core_points_take(db, customer_id, r->points_cost, "redeem", "reward", r->id, r->name,
	                     now, false, NULL, e) < 0)
		return -1;
	int st;
	if (r->has_stock && (st = store_reward_take_stock(db, r->id, now)) != ST_OK)
		return st == ST_CONFLICT ? core_fail_code(e, CORE_CODE_OUT_OF_STOCK, NULL,
		                                          "reward %s is out of stock", r->name)
		                         : core_store_fail(e, st);
	int64_t template_id = r->coupon_template_id;
	bool lottery = strcmp(r->kind, "lottery") == 0;
	if (lottery && draw_prize(r->prizes, &out->prize, &template_id, e) < 0)
		return -1;
	if (template_id) {
		if (core_coupon_issue(db, customer_id, template_id, lottery ? "lottery" : "reward",
		                      now, &out->coupon, e) < 0)
			return -1;
		out->has_coupon = true;
	}
	struct redemption d = {.reward_id = r->id,
	                       .customer_id = customer_id,
	                       .points = r->points_cost,
	                       .coupon_id = out->has_coupon ? out->coupon.id : 0,
	                       .created_at = now};
	d.prize = out->prize ? json_dumps(out->prize, JSON_COMPACT) : NULL;
	st = store_redemption_insert(db, &d);
	out->redemption_id = d.id;
	redemption_clear(&d);
	if (st != ST_OK)
		return core_store_fail(e, st);
	out->points_spent = r->points_cost;
	json_t *data =
	    json_pack("{s:I, s:I, s:s, s:s, s:I}", "redemption_id", (json_int_t)out->redemption_id,
	              "reward_id", (json_int_t)r->id, "name", r->name, "kind", r->kind, "points",
	              (json_int_t)r->points_cost);
	if (out->prize)
		json_object_set(data, "prize", out->prize);
	if (out->has_coupon)
		json_object_set_new(data, "coupon_id", json_integer(out->coupon.id));
	if (core_event(db, customer_id, now, "reward.redeemed", "reward", r->id, data, e) < 0)
		return -1;
	if (core_stage_at_least(db, customer_id, "interested", now, e) < 0)
		return -1;
	out->points_balance = store_points_balance(db, customer_id);
	return out->points_balance < 0 ? core_store_fail(e, ST_ERR) : 0;
}

int core_reward_redeem(struct store_db *db, int64_t reward_id, int64_t customer_id, int64_t now,
                       struct reward_result *out, struct core_err *e)
{
	memset(out, 0, sizeof *out);
	struct reward r = {0};
	struct customer c = {0};
	int st = store_reward_get(db, reward_id, &r);
	int rc;
	if (st == ST_NOT_FOUND) {
		rc = core_fail(e, CORE_NOT_FOUND, NULL, "no such reward");
	} else if (st != ST_OK) {
		rc = core_store_fail(e, st);
	} else if ((rc = core_customer_load(db, customer_id, &c, e)) < 0) {
		if (e->rc == CORE_NOT_FOUND)
			e->field = "customer_id";
	} else if ((rc = check_available(db, &r, now, e)) == 0 &&
	           (rc = check_limit_and_stock(db, &r, customer_id, e)) == 0) {
		rc = redeem(db, &r, customer_id, now, out, e);
	}
	customer_clear(&c);
	reward_clear(&r);
	return rc;
}
