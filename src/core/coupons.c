/* coupons.c - the rules of coupons: templates and their terms, issuing with
 * unguessable codes and expiry from the template, redemption (against an
 * order of the coupon's customer), and the new-member gift pack. */
#include "scrm/core_loyalty.h"

#include "scrm/crypto.h"
#include "scrm/log.h"
#include "scrm/store_rewards.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 32 symbols without 0/O or 1/I, so codes read aloud or typed survive; 12 of
 * them carry 60 bits from OpenSSL. */
static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
#define CODE_LEN 12

static void new_code(char out[CODE_LEN + 1])
{
	for (int i = 0; i < CODE_LEN; i++)
		out[i] = alphabet[crypto_random_below(sizeof alphabet - 1)];
	out[CODE_LEN] = '\0';
}

int64_t core_coupon_expiry(const struct coupon_template *t, int64_t now)
{
	int64_t end = 0;
	if (t->valid_days > 0)
		end = time_local_day_end(time_local_day(now) + t->valid_days);
	if (t->valid_until > 0 && (!end || t->valid_until < end))
		end = t->valid_until;
	return end;
}

int core_coupon_issue(struct store_db *db, int64_t customer_id, int64_t template_id,
                      const char *source, int64_t now, struct coupon *out, struct core_err *e)
{
	struct coupon_template t = {0};
	int st = store_coupon_template_get(db, template_id, &t);
	int rc = 0;
	if (st == ST_NOT_FOUND)
		rc = core_fail(e, CORE_INVALID, "template_id", "no such coupon template");
	else if (st != ST_OK)
		rc = core_store_fail(e, st);
	else if (!t.active)
		rc = core_fail_code(e, CORE_CODE_NOT_AVAILABLE, "template_id",
		                    "coupon template %s is switched off", t.name);
	int64_t expires = rc == 0 ? core_coupon_expiry(&t, now) : 0;
	if (rc == 0 && expires <= now)
		rc = core_fail_code(e, CORE_CODE_NOT_AVAILABLE, "template_id",
		                    "coupon template %s is past its valid_until", t.name);
	memset(out, 0, sizeof *out);
	char code[CODE_LEN + 1];
	for (int attempt = 0; rc == 0 && attempt < 8; attempt++) {
		new_code(code);
		coupon_clear(out);
		*out = (struct coupon){.customer_id = customer_id,
		                       .template_id = template_id,
		                       .issued_at = now,
		                       .expires_at = expires,
		                       .code = xstrdup(code),
		                       .status = xstrdup("active"),
		                       .source = xstrdup(source),
		                       .name = xstrdup(t.name),
		                       .kind = xstrdup(t.kind),
		                       .value = t.value,
		                       .min_spend_cents = t.min_spend_cents};
		st = store_coupon_insert(db, out);
		if (st == ST_OK)
			break;
		if (st != ST_CONFLICT || attempt == 7)
			rc = core_store_fail(e, st);
	}
	if (rc == 0) {
		char exp[TIME_RFC3339_LEN];
		rc = core_event(db, customer_id, now, "coupon.issued", "coupon", out->id,
		                json_pack("{s:I, s:s, s:s, s:s}", "template_id",
		                          (json_int_t)template_id, "name", t.name, "source", source,
		                          "expires_at", time_fmt_rfc3339(expires, exp)),
		                e);
	}
	coupon_template_clear(&t);
	return rc;
}

int core_coupons_gift_pack(struct store_db *db, int64_t customer_id, int64_t now,
                           struct core_err *e)
{
	char *text = NULL;
	int st = store_setting_get(db, "coupons", &text);
	if (st == ST_NOT_FOUND)
		return 0;
	if (st != ST_OK)
		return core_store_fail(e, st);
	json_t *cfg = json_loads(text, 0, NULL);
	free(text);
	json_t *pack = json_object_get(cfg, "new_member_gift_pack");
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(pack, i, v)
	{
		struct coupon c = {0};
		struct core_err skip = {0};
		/* a template switched off or expired since the pack was set is left
		 * out: a welcome gift must never stop a customer from joining */
		if (core_coupon_issue(db, customer_id, json_integer_value(v), "gift_pack", now, &c,
		                      &skip) < 0) {
			if (skip.rc == CORE_STORE) {
				*e = skip;
				rc = -1;
			} else {
				log_warn("gift pack: template %lld skipped: %s",
				         (long long)json_integer_value(v), skip.msg);
			}
		}
		coupon_clear(&c);
		if (rc < 0)
			break;
	}
	json_decref(cfg);
	return rc;
}

/* Templates ------------------------------------------------------------------- */

#define MONEY_MAX 100000000000LL /* cents: a billion yuan */
#define VALID_DAYS_MAX 3650

const char *core_coupon_status(const struct coupon *c, int64_t now)
{
	if (strcmp(c->status, "active") == 0)
		return c->expires_at < now ? "expired" : "active";
	return strcmp(c->status, "used") == 0 ? "used" : "expired";
}

int core_coupon_template_check(const struct coupon_template *t, bool until_set, int64_t now,
                               struct core_err *e)
{
	const char *k = t->kind ? t->kind : "";
	if (strcmp(k, "amount_off") == 0) {
		if (t->value <= 0 || t->value > MONEY_MAX)
			return core_fail(
			    e, CORE_INVALID, "value",
			    "value of an amount_off coupon is the cents taken off: more "
			    "than 0");
	} else if (strcmp(k, "percent_off") == 0) {
		if (t->value < 1 || t->value > 99)
			return core_fail(
			    e, CORE_INVALID, "value",
			    "value of a percent_off coupon is the percent taken off: 1 "
			    "to 99");
	} else if (strcmp(k, "gift") == 0) {
		if (t->value != 0)
			return core_fail(e, CORE_INVALID, "value",
			                 "a gift coupon has no value: leave value out or send 0");
	} else {
		return core_fail(e, CORE_INVALID, "kind",
		                 "kind must be amount_off, percent_off or gift");
	}
	if (t->min_spend_cents < 0 || t->min_spend_cents > MONEY_MAX)
		return core_fail(e, CORE_INVALID, "min_spend_cents",
		                 "min_spend_cents must be a whole number of cents, 0 or more");
	if (t->valid_days < 0 || t->valid_days > VALID_DAYS_MAX)
		return core_fail(e, CORE_INVALID, "valid_days",
		                 "valid_days must be from 1 to %d, or null", VALID_DAYS_MAX);
	if (!t->valid_days && !t->valid_until)
		return core_fail(e, CORE_INVALID, "valid_days",
		                 "a coupon must expire: give valid_days, valid_until or both");
	if (until_set && t->valid_until && t->valid_until <= now)
		return core_fail(e, CORE_INVALID, "valid_until", "valid_until must lie ahead");
	return 0;
}

int core_coupon_template_save(struct store_db *db, struct coupon_template *t,
                              const struct coupon_template *old, int64_t now, struct core_err *e)
{
	int st;
	if (!old) {
		t->created_at = now;
		st = store_coupon_template_insert(db, t);
		return st == ST_OK ? 0 : core_store_fail(e, st);
	}
	const char *changed = strcmp(t->kind, old->kind) != 0              ? "kind"
	                      : t->value != old->value                     ? "value"
	                      : t->min_spend_cents != old->min_spend_cents ? "min_spend_cents"
	                                                                   : NULL;
	if (changed) {
		/* issued coupons show their template's terms: changing them would
		 * change what customers already hold */
		int64_t n = store_coupon_template_issued(db, old->id);
		if (n < 0)
			return core_store_fail(e, ST_ERR);
		if (n > 0)
			return core_fail(e, CORE_CONFLICT, changed,
			                 "%lld coupon(s) were issued from this template, so its "
			                 "terms (kind, value, min_spend_cents) are fixed; create a "
			                 "new template instead",
			                 (long long)n);
	}
	t->id = old->id;
	t->created_at = old->created_at;
	t->updated_at = now;
	st = store_coupon_template_update(db, t);
	return st == ST_OK ? 0 : core_store_fail(e, st);
}

/* Whether the gift pack setting names template id. */
static int in_gift_pack(struct store_db *db, int64_t id, bool *yes, struct core_err *e)
{
	*yes = false;
	json_t *cfg = core_coupons_settings(db, e);
	if (!cfg)
		return -1;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(cfg, "new_member_gift_pack"), i, v)
	{
		if (json_integer_value(v) == id)
			*yes = true;
	}
	json_decref(cfg);
	return 0;
}

int core_coupon_template_delete(struct store_db *db, int64_t id, struct core_err *e)
{
	struct coupon_template t = {0};
	int st = store_coupon_template_get(db, id, &t);
	if (st == ST_NOT_FOUND)
		return core_fail(e, CORE_NOT_FOUND, NULL, "no such coupon template");
	if (st != ST_OK)
		return core_store_fail(e, st);
	int rc = 0;
	bool pack = false;
	int64_t issued = store_coupon_template_issued(db, id);
	int64_t rewards = issued == 0 ? store_rewards_using_template(db, id) : 0;
	if (issued < 0 || rewards < 0)
		rc = core_store_fail(e, ST_ERR);
	else if (issued > 0)
		rc = core_fail(e, CORE_CONFLICT, NULL,
		               "%lld coupon(s) were issued from template %s; switch it off with "
		               "PATCH {\"active\": false} instead",
		               (long long)issued, t.name);
	else if (rewards > 0)
		rc = core_fail(e, CORE_CONFLICT, NULL,
		               "%lld reward(s) of the points mall give template %s; change or "
		               "delete them first, or switch the template off",
		               (long long)rewards, t.name);
	else if (in_gift_pack(db, id, &pack, e) < 0)
		rc = -1;
	else if (pack)
		rc = core_fail(e, CORE_CONFLICT, NULL,
		               "the new-member gift pack includes template %s; take it out of "
		               "the pack (PUT /api/v1/settings/coupons) first",
		               t.name);
	else if ((st = store_coupon_template_delete(db, id)) != ST_OK)
		rc = core_store_fail(e, st);
	coupon_template_clear(&t);
	return rc;
}

/* Redemption ------------------------------------------------------------------ */

/* The order a coupon is redeemed against: the coupon's customer's, paid, and
 * reaching the minimum spend. */
static int check_order(struct store_db *db, const struct coupon *c, int64_t order_id,
                       struct core_err *e)
{
	struct order o = {0};
	int st = store_order_get(db, order_id, &o);
	int rc = 0;
	if (st == ST_NOT_FOUND)
		rc = core_fail(e, CORE_INVALID, "order_id", "no such order");
	else if (st != ST_OK)
		rc = core_store_fail(e, st);
	else if (o.customer_id != c->customer_id)
		rc = core_fail(e, CORE_INVALID, "order_id",
		               "order %lld is not an order of this coupon's customer",
		               (long long)order_id);
	else if (strcmp(o.status, "paid") != 0)
		rc = core_fail(e, CORE_INVALID, "order_id",
		               "order %lld is %s; a coupon is redeemed against a paid order",
		               (long long)order_id, o.status);
	else if (o.amount_cents < c->min_spend_cents)
		rc =
		    core_fail(e, CORE_INVALID, "order_id",
		              "this coupon needs a minimum spend of %lld cents (%lld.%02lld yuan); "
		              "order %lld is %lld cents",
		              (long long)c->min_spend_cents, (long long)(c->min_spend_cents / 100),
		              (long long)(c->min_spend_cents % 100), (long long)order_id,
		              (long long)o.amount_cents);
	order_clear(&o);
	return rc;
}

int core_coupon_redeem(struct store_db *db, const char *code, int64_t order_id, int64_t now,
                       struct coupon *out, struct core_err *e)
{
	memset(out, 0, sizeof *out);
	int st = store_coupon_by_code(db, code, out);
	if (st == ST_NOT_FOUND)
		return core_fail(e, CORE_NOT_FOUND, NULL, "no coupon with this code");
	if (st != ST_OK)
		return core_store_fail(e, st);
	char when[TIME_RFC3339_LEN];
	const char *status = core_coupon_status(out, now);
	if (strcmp(status, "used") == 0)
		return core_fail(e, CORE_CONFLICT, NULL, "this coupon was used at %s",
		                 time_fmt_rfc3339(out->used_at, when));
	if (strcmp(status, "expired") == 0)
		return core_fail(e, CORE_CONFLICT, NULL, "this coupon expired at %s",
		                 time_fmt_rfc3339(out->expires_at, when));
	struct customer cust = {0};
	int rc = core_customer_load(db, out->customer_id, &cust, e);
	customer_clear(&cust);
	if (rc < 0) {
		if (e->rc != CORE_NOT_FOUND)
			return -1;
		return core_fail(e, CORE_CONFLICT, NULL,
		                 "the customer this coupon was issued to was erased");
	}
	if (order_id && check_order(db, out, order_id, e) < 0)
		return -1;
	if ((st = store_coupon_use(db, out->id, order_id, now)) != ST_OK)
		return core_store_fail(e, st);
	free(out->status);
	out->status = xstrdup("used");
	out->used_at = out->updated_at = now;
	out->order_id = order_id;
	json_t *data = json_pack("{s:I, s:s, s:s}", "template_id", (json_int_t)out->template_id,
	                         "name", out->name, "kind", out->kind);
	json_object_set_new(data, "order_id", order_id ? json_integer(order_id) : json_null());
	if (core_event(db, out->customer_id, now, "coupon.redeemed", "coupon", out->id, data, e) <
	    0)
		return -1;
	return core_stage_at_least(db, out->customer_id, "interested", now, e);
}

/* Settings -------------------------------------------------------------------- */

#define GIFT_PACK_MAX 20

json_t *core_coupons_settings(struct store_db *db, struct core_err *e)
{
	char *text = NULL;
	int st = store_setting_get(db, "coupons", &text);
	if (st != ST_OK && st != ST_NOT_FOUND) {
		core_store_fail(e, st);
		return NULL;
	}
	json_t *cfg = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		cfg = json_object();
	}
	if (!json_is_array(json_object_get(cfg, "new_member_gift_pack")))
		json_object_set_new(cfg, "new_member_gift_pack", json_array());
	return cfg;
}

int core_coupons_settings_put(struct store_db *db, const json_t *gift_pack, int64_t now,
                              struct core_err *e)
{
	if (!json_is_array(gift_pack))
		return core_fail(e, CORE_INVALID, "new_member_gift_pack",
		                 "new_member_gift_pack must be an array of coupon template ids");
	if (json_array_size(gift_pack) > GIFT_PACK_MAX)
		return core_fail(e, CORE_INVALID, "new_member_gift_pack",
		                 "new_member_gift_pack holds %d templates at most", GIFT_PACK_MAX);
	size_t i;
	json_t *v;
	json_array_foreach(gift_pack, i, v)
	{
		snprintf(e->path, sizeof e->path, "new_member_gift_pack[%zu]", i);
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return core_fail(e, CORE_INVALID, e->path,
			                 "%s must be a coupon template id", e->path);
		struct coupon_template t = {0};
		int st = store_coupon_template_get(db, json_integer_value(v), &t);
		bool active = t.active;
		coupon_template_clear(&t);
		if (st == ST_NOT_FOUND)
			return core_fail(e, CORE_INVALID, e->path, "%s: no coupon template %lld",
			                 e->path, (long long)json_integer_value(v));
		if (st != ST_OK)
			return core_store_fail(e, st);
		if (!active)
			return core_fail(e, CORE_INVALID, e->path,
			                 "%s: coupon template %lld is switched off", e->path,
			                 (long long)json_integer_value(v));
	}
	json_t *cfg = core_coupons_settings(db, e);
	if (!cfg)
		return -1;
	json_object_set_new(cfg, "new_member_gift_pack", json_deep_copy(gift_pack));
	char *text = json_dumps(cfg, JSON_COMPACT);
	json_decref(cfg);
	int st = store_setting_put(db, "coupons", text, now);
	free(text);
	return st == ST_OK ? 0 : core_store_fail(e, st);
}
