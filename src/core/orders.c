/* orders.c - order upserts from platform syncs and imports, and binding orders
 * to customers: by phone on arrival, by customer_id, or through the binding
 * flow an operator runs when a customer sends a phone and an order number. */
#include "scrm/core.h"
#include "scrm/core_loyalty.h"
#include "scrm/core_ambassadors.h"

#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEMS_MAX 200

/* A fault in item i: the message starts with the field's path. */
static int item_fail(struct core_err *e, const char *prefix, size_t i, const char *key,
                     const char *rest)
{
	snprintf(e->path, sizeof e->path, "%s[%zu]%s%s", prefix, i, key ? "." : "", key ? key : "");
	return core_fail(e, CORE_INVALID, e->path, "%s %s", e->path, rest);
}

int core_order_items(const json_t *items, const char *prefix, char **out, struct core_err *e)
{
	if (!json_is_array(items))
		return core_fail(e, CORE_INVALID, prefix, "%s must be an array", prefix);
	if (json_array_size(items) > ITEMS_MAX)
		return core_fail(e, CORE_INVALID, prefix, "%s may hold %d items at most", prefix,
		                 ITEMS_MAX);
	json_t *clean = json_array();
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		int rc = 0;
		if (!json_is_object(it)) {
			rc = item_fail(e, prefix, i, NULL, "must be an object");
			goto bad;
		}
		static const char *const strs[] = {"sku", "name", "category"};
		static const size_t maxlen[] = {64, 200, 64};
		const char *k;
		json_t *v;
		json_object_foreach(it, k, v)
		{
			bool known = strcmp(k, "quantity") == 0 || strcmp(k, "price_cents") == 0;
			for (size_t s = 0; s < 3; s++)
				known = known || strcmp(k, strs[s]) == 0;
			if (!known) {
				rc = item_fail(e, prefix, i, k,
				               "is not a field of an item; allowed: sku, name, "
				               "category, quantity, price_cents");
				goto bad;
			}
		}
		json_t *o = json_object();
		for (size_t s = 0; s < 3; s++) {
			v = json_object_get(it, strs[s]);
			if (!v || json_is_null(v))
				continue;
			if (!json_is_string(v) || json_string_length(v) > maxlen[s] ||
			    strlen(json_string_value(v)) != json_string_length(v)) {
				json_decref(o);
				rc = item_fail(e, prefix, i, strs[s], "must be a short string");
				goto bad;
			}
			json_object_set(o, strs[s], v);
		}
		if (!json_object_get(o, "sku") && !json_object_get(o, "name")) {
			json_decref(o);
			rc = item_fail(e, prefix, i, "sku", "or name is needed for every item");
			goto bad;
		}
		json_t *q = json_object_get(it, "quantity"),
		       *pc = json_object_get(it, "price_cents");
		if (q && (!json_is_integer(q) || json_integer_value(q) < 1 ||
		          json_integer_value(q) > 1000000)) {
			json_decref(o);
			rc = item_fail(e, prefix, i, "quantity",
			               "must be a whole number from 1 to 1000000");
			goto bad;
		}
		if (!pc || !json_is_integer(pc) || json_integer_value(pc) < 0 ||
		    json_integer_value(pc) > 100000000000LL) {
			json_decref(o);
			rc = item_fail(e, prefix, i, "price_cents",
			               "must be a whole number of cents, 0 or more");
			goto bad;
		}
		json_object_set_new(o, "quantity", json_integer(q ? json_integer_value(q) : 1));
		json_object_set(o, "price_cents", pc);
		json_array_append_new(clean, o);
		continue;
	bad:
		json_decref(clean);
		return rc;
	}
	/* keys in a fixed order, so that a resent order compares equal */
	*out = json_dumps(clean, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(clean);
	return 0;
}

/* The target of a binding named by customer_id in an order. */
static int live_customer(struct store_db *db, int64_t id, struct core_err *e)
{
	struct customer c = {0};
	int st = store_customer_get(db, id, &c);
	bool live = st == ST_OK && !c.erased_at;
	customer_clear(&c);
	if (st != ST_OK && st != ST_NOT_FOUND)
		return core_store_fail(e, st);
	return live ? 0 : core_fail(e, CORE_INVALID, "customer_id", "no such customer");
}

static int bound_event(struct store_db *db, const struct order *o, int64_t now, struct core_err *e)
{
	return core_event(db, o->customer_id, now, "order.bound", "order", o->id,
	                  json_pack("{s:s, s:s, s:I, s:s}", "platform", o->platform, "external_id",
	                            o->external_id, "amount_cents", (json_int_t)o->amount_cents,
	                            "by", o->bound_by),
	                  e);
}

int core_order_bind_to(struct store_db *db, struct order *o, int64_t customer_id, const char *by,
                       int64_t now, struct core_err *e)
{
	o->customer_id = customer_id;
	o->bound_at = now;
	free(o->bound_by);
	o->bound_by = xstrdup(by);
	o->updated_at = now;
	int st = store_order_update(db, o);
	if (st != ST_OK)
		return core_store_fail(e, st);
	if (bound_event(db, o, now, e) < 0 || core_points_order_sync(db, o, now, e) < 0)
		return -1;
	/* bound to the ambassador whose code it carries: their own, it earns nothing */
	return core_commission_sync(db, o, now, e);
}

/* Figures and stage of the customer an order belongs to. An erased customer's
 * figures stay right for the books, and nothing else is written about them. */
static int refresh_customer(struct store_db *db, int64_t customer_id, int64_t now,
                            struct core_err *e)
{
	struct customer c = {0};
	int st = store_customer_get(db, customer_id, &c);
	int rc;
	if (st != ST_OK)
		rc = core_store_fail(e, st);
	else if (c.erased_at)
		rc = (st = store_customer_refresh_figures(db, customer_id)) == ST_OK
		         ? 0
		         : core_store_fail(e, st);
	else
		rc = core_customer_orders_changed(db, &c, now, e);
	customer_clear(&c);
	return rc;
}

static bool erased_customer(struct store_db *db, int64_t id)
{
	struct customer c = {0};
	bool erased = id && store_customer_get(db, id, &c) == ST_OK && c.erased_at;
	customer_clear(&c);
	return erased;
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

static int create(struct store_db *db, const struct order_in *in, int64_t now, struct order *o,
                  struct core_err *e)
{
	if (!(in->set & OF_AMOUNT))
		return core_fail(e, CORE_INVALID, "amount_cents",
		                 "amount_cents is required for a new order");
	if (!(in->set & OF_PAID_AT))
		return core_fail(e, CORE_INVALID, "paid_at", "paid_at is required for a new order");
	memset(o, 0, sizeof *o);
	o->platform = xstrdup(in->platform);
	o->external_id = xstrdup(in->external_id);
	o->buyer_phone = xstrdup(in->buyer_phone);
	o->status = xstrdup((in->set & OF_STATUS) ? in->status : "paid");
	o->items = xstrdup((in->set & OF_ITEMS) && in->items ? in->items : "[]");
	o->referral_code = xstrdup(in->referral_code);
	o->amount_cents = in->amount_cents;
	o->paid_at = in->paid_at;
	o->created_at = now;
	if ((in->set & OF_CUSTOMER) && in->customer_id) {
		if (live_customer(db, in->customer_id, e) < 0)
			return -1;
		o->customer_id = in->customer_id;
		o->bound_by = xstrdup("customer_id");
	} else if (o->buyer_phone) {
		o->customer_id = store_customer_by_phone(db, o->buyer_phone);
		if (o->customer_id)
			o->bound_by = xstrdup("phone");
	}
	if (o->customer_id)
		o->bound_at = now;
	int st = store_order_insert(db, o);
	if (st != ST_OK)
		return core_store_fail(e, st);
	if (!o->customer_id)
		return 0;
	if (bound_event(db, o, now, e) < 0 || core_points_order_sync(db, o, now, e) < 0)
		return -1;
	return refresh_customer(db, o->customer_id, now, e);
}

static bool same(const char *a, const char *b)
{
	return str_eq(a, b);
}

static int update(struct store_db *db, const struct order_in *in, int64_t now, struct order *o,
                  enum upsert_result *res, struct core_err *e)
{
	int64_t was_bound = o->customer_id;
	char *old_status = xstrdup(o->status);
	bool changed = false;
	/* a re-sent order of an erased customer never brings their phone back */
	bool erased = erased_customer(db, o->customer_id);
	unsigned set = in->set & ~(erased ? (unsigned)OF_PHONE : 0u);
#define TAKE_STR(flag, slot, value)                                                                \
	if ((set & (flag)) && !same(o->slot, (value))) {                                           \
		set_str(&o->slot, (value));                                                        \
		changed = true;                                                                    \
	}
#define TAKE_I64(flag, slot, value)                                                                \
	if ((set & (flag)) && o->slot != (value)) {                                                \
		o->slot = (value);                                                                 \
		changed = true;                                                                    \
	}
	TAKE_STR(OF_STATUS, status, in->status)
	TAKE_STR(OF_ITEMS, items, in->items ? in->items : "[]")
	TAKE_STR(OF_PHONE, buyer_phone, in->buyer_phone)
	TAKE_STR(OF_REFERRAL, referral_code, in->referral_code)
	TAKE_I64(OF_AMOUNT, amount_cents, in->amount_cents)
	TAKE_I64(OF_PAID_AT, paid_at, in->paid_at)
#undef TAKE_STR
#undef TAKE_I64
	int rc = 0;
	const char *bind_by = NULL;
	int64_t bind_to = 0;
	if ((in->set & OF_CUSTOMER) && in->customer_id) {
		if (o->customer_id && o->customer_id != in->customer_id) {
			e->id = o->customer_id;
			rc = core_fail(e, CORE_CONFLICT, "customer_id",
			               "the order is bound to customer %lld",
			               (long long)o->customer_id);
		} else if (!o->customer_id && (rc = live_customer(db, in->customer_id, e)) == 0) {
			bind_to = in->customer_id;
			bind_by = "customer_id";
		}
	} else if (!o->customer_id && o->buyer_phone) {
		bind_to = store_customer_by_phone(db, o->buyer_phone);
		bind_by = "phone";
	}
	if (rc == 0 && (changed || bind_to)) {
		o->updated_at = now;
		int st = ST_OK;
		if (bind_to)
			rc = core_order_bind_to(db, o, bind_to, bind_by, now, e);
		else
			st = store_order_update(db, o);
		if (st != ST_OK)
			rc = core_store_fail(e, st);
		/* a refund takes its points back; paid again, it earns them again */
		if (rc == 0 && was_bound && !erased && !same(old_status, o->status))
			rc = core_points_order_sync(db, o, now, e);
		if (rc == 0 && was_bound && !erased && !same(old_status, o->status)) {
			char kind[32];
			snprintf(kind, sizeof kind, "order.%s", o->status);
			rc = core_event(db, o->customer_id, now, kind, "order", o->id,
			                json_pack("{s:s, s:s, s:I}", "platform", o->platform,
			                          "external_id", o->external_id, "amount_cents",
			                          (json_int_t)o->amount_cents),
			                e);
		}
		if (rc == 0 && o->customer_id)
			rc = refresh_customer(db, o->customer_id, now, e);
	}
	free(old_status);
	*res = changed || bind_to ? UPSERT_UPDATED : UPSERT_UNCHANGED;
	return rc;
}

int core_order_upsert(struct store_db *db, const struct order_in *in, int64_t now,
                      struct order *out, enum upsert_result *res, struct core_err *e)
{
	memset(out, 0, sizeof *out);
	int st = store_order_by_key(db, in->platform, in->external_id, out);
	int rc;
	if (st == ST_NOT_FOUND) {
		*res = UPSERT_CREATED;
		rc = create(db, in, now, out, e);
	} else if (st != ST_OK) {
		return core_store_fail(e, st);
	} else {
		rc = update(db, in, now, out, res, e);
	}
	/* an ambassador's commission follows the order's state, bound or not */
	return rc == 0 && *res != UPSERT_UNCHANGED ? core_commission_sync(db, out, now, e) : rc;
}

int core_order_bind(struct store_db *db, int64_t customer_id, const char *platform,
                    const char *external_id, const char *phone, int64_t now, struct order *out,
                    bool *changed, struct core_err *e)
{
	*changed = false;
	memset(out, 0, sizeof *out);
	int st = store_order_by_key(db, platform, external_id, out);
	if (st == ST_NOT_FOUND)
		return core_fail(e, CORE_NOT_FOUND, "external_id", "no %s order %s", platform,
		                 external_id);
	if (st != ST_OK)
		return core_store_fail(e, st);
	struct customer c = {0};
	if (core_customer_load(db, customer_id, &c, e) < 0) {
		e->field = "customer_id";
		return -1;
	}
	int rc = 0;
	if (!out->buyer_phone)
		rc = core_fail(e, CORE_INVALID, "phone",
		               "the order carries no buyer phone to check; bind it by sending "
		               "customer_id with the order instead");
	else if (!same(out->buyer_phone, phone))
		rc = core_fail(e, CORE_INVALID, "phone",
		               "phone does not match the phone the order was bought with");
	else if (out->customer_id && out->customer_id != customer_id) {
		e->id = out->customer_id;
		rc = core_fail(e, CORE_CONFLICT, NULL,
		               "the order is bound to another customer (%lld)",
		               (long long)out->customer_id);
	}
	if (rc == 0 && out->customer_id != customer_id) {
		*changed = true;
		rc = core_order_bind_to(db, out, customer_id, "bind", now, e);
		/* a customer without a phone takes the one they proved, with the
		 * other orders bought with it, unless someone else has it */
		if (rc == 0 && !c.phone && !store_customer_by_phone(db, phone)) {
			c.phone = xstrdup(phone);
			c.updated_at = now;
			st = store_customer_update(db, &c);
			rc = st != ST_OK ? core_store_fail(e, st)
			                 : core_event(db, c.id, now, "customer.updated", NULL, 0,
			                              json_pack("{s:[s]}", "changed", "phone"), e);
			if (rc == 0)
				rc = core_customer_bind_waiting(db, &c, now, e);
		}
		if (rc == 0)
			rc = core_customer_orders_changed(db, &c, now, e);
	}
	customer_clear(&c);
	return rc;
}
