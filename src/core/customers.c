/* customers.c - the rules of customer profiles: uniqueness of phone and
 * unionid, attrs as a merge patch, stages that only move forward, binding of
 * waiting orders when a customer gets a phone, merges and erasure. */
#include "scrm/core.h"
#include "scrm/core_ambassadors.h"
#include "scrm/store_ambassadors.h"
#include "scrm/core_loyalty.h"
#include "scrm/core_segments.h"

#include "scrm/core_auth.h"
#include "scrm/store_auth.h"
#include "scrm/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTRS_MAX_BYTES 16384

int core_fail(struct core_err *e, enum core_rc rc, const char *field, const char *fmt, ...)
{
	e->rc = rc;
	e->field = field;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int core_store_fail(struct core_err *e, int st)
{
	e->rc = CORE_STORE;
	e->st = st < 0 ? -st : st;
	e->field = NULL;
	snprintf(e->msg, sizeof e->msg, "store failure");
	return -1;
}

static _Thread_local struct {
	int64_t sop_id, depth;
} cause;

static void (*_Atomic on_event)(void); /* set while other threads write */

void core_on_event(void (*fn)(void))
{
	on_event = fn;
}

void core_event_cause(int64_t sop_id, int64_t depth)
{
	cause.sop_id = sop_id;
	cause.depth = depth;
}

int core_event(struct store_db *db, int64_t customer_id, int64_t at, const char *kind,
               const char *ref_type, int64_t ref_id, json_t *data, struct core_err *e)
{
	if (cause.sop_id) {
		if (!data)
			data = json_object();
		json_object_set_new(data, "sop_id", json_integer(cause.sop_id));
		json_object_set_new(data, "sop_depth", json_integer(cause.depth + 1));
	}
	/* whatever is worth a timeline entry may change the customer's auto tags */
	core_customer_dirty(customer_id);
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	struct customer_event ev = {.customer_id = customer_id,
	                            .at = at,
	                            .kind = kind,
	                            .ref_type = ref_type,
	                            .ref_id = ref_id,
	                            .data = text};
	int st = store_event_add(db, &ev);
	free(text);
	json_decref(data);
	void (*wake)(void) = on_event;
	if (st == ST_OK && wake)
		wake();
	return st == ST_OK ? 0 : core_store_fail(e, st);
}

const char *core_stage_for_orders(const char *current, int64_t paid_orders)
{
	int want = paid_orders >= 2 ? 5 : paid_orders == 1 ? 3 : -1; /* repurchasing, converted */
	return want > core_stage_rank(current) ? core_stages[want] : NULL;
}

static bool attr_key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n < 1 || n > 64)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

int core_customer_check(struct customer_patch *p, struct core_err *e)
{
	const char *why;
	if ((p->set & CF_NAME) && p->name && (why = core_label_problem(p->name, 100, false)))
		return core_fail(e, CORE_INVALID, "name", "name %s (100 characters at most)", why);
	if ((p->set & CF_PHONE) && p->phone) {
		if ((why = core_phone_normalize(p->phone, p->phone_buf)))
			return core_fail(e, CORE_INVALID, "phone", "phone %s", why);
		p->phone = p->phone_buf;
	}
	if ((p->set & CF_EMAIL) && p->email && (why = core_email_problem(p->email)))
		return core_fail(e, CORE_INVALID, "email", "email %s", why);
	if ((p->set & CF_UNIONID) && p->unionid && (why = core_external_id_problem(p->unionid)))
		return core_fail(e, CORE_INVALID, "unionid", "unionid %s", why);
	if ((p->set & CF_GENDER) && !core_gender_valid(p->gender))
		return core_fail(e, CORE_INVALID, "gender", "gender must be m, f or u");
	if ((p->set & CF_BIRTHDAY) && p->birthday &&
	    (why = core_birthday_parse(p->birthday, &p->birth_month, &p->birth_day)))
		return core_fail(e, CORE_INVALID, "birthday", "birthday %s", why);
	if ((p->set & CF_STAGE) && core_stage_rank(p->stage) < 0)
		return core_fail(e, CORE_INVALID, "stage",
		                 "stage must be one of added, observing, interested, converted, "
		                 "sharing, repurchasing");
	if ((p->set & CF_CHANNEL) && p->source_channel_id < 0)
		return core_fail(e, CORE_INVALID, "source_channel_id", "no such channel");
	if ((p->set & CF_OWNER) && p->owner_user_id < 0)
		return core_fail(e, CORE_INVALID, "owner_user_id", "no such user");
	if ((p->set & CF_ATTRS) && p->attrs) {
		if (!json_is_object(p->attrs))
			return core_fail(e, CORE_INVALID, "attrs", "attrs must be an object");
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)p->attrs, k, v)
		{
			if (!attr_key_ok(k))
				return core_fail(
				    e, CORE_INVALID, "attrs",
				    "attrs keys must be 1 to 64 characters of A-Z, a-z, "
				    "0-9 and _");
		}
	}
	return 0;
}

/* RFC 7386: null removes a key, objects merge, anything else replaces. */
static json_t *merge_patch(json_t *target, const json_t *patch)
{
	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)patch, k, v)
	{
		if (json_is_null(v)) {
			json_object_del(target, k);
		} else {
			json_t *cur = json_object_get(target, k);
			json_incref(cur);
			json_object_set_new(target, k, merge_patch(cur, v));
		}
	}
	return target;
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/* Users and channels named by a patch must exist. */
static int check_refs(struct store_db *db, const struct customer_patch *p, struct core_err *e);

/* Phone and unionid belong to one live customer at most. */
static int check_unique(struct store_db *db, const struct customer *c, int64_t self,
                        struct core_err *e)
{
	int64_t other;
	if (c->phone && (other = store_customer_by_phone(db, c->phone)) && other != self) {
		e->id = other;
		return core_fail(e, CORE_CONFLICT, "phone", "customer %lld already has this phone",
		                 (long long)other);
	}
	if (c->unionid && (other = store_customer_by_unionid(db, c->unionid)) && other != self) {
		e->id = other;
		return core_fail(e, CORE_CONFLICT, "unionid",
		                 "customer %lld already has this unionid", (long long)other);
	}
	return 0;
}

/* Apply a checked patch to c; the names of changed fields go to changed. */
static int apply_patch(struct customer *c, const struct customer_patch *p, json_t *changed,
                       struct core_err *e)
{
	struct {
		unsigned flag;
		char **slot;
		const char *value, *name;
	} strs[] = {
	    {CF_NAME, &c->name, p->name, "name"},
	    {CF_PHONE, &c->phone, p->phone, "phone"},
	    {CF_EMAIL, &c->email, p->email, "email"},
	    {CF_UNIONID, &c->unionid, p->unionid, "unionid"},
	    {CF_GENDER, &c->gender, p->gender, "gender"},
	    {CF_BIRTHDAY, &c->birthday, p->birthday, "birthday"},
	};
	for (size_t i = 0; i < SCRM_ARRAY_LEN(strs); i++) {
		if (!(p->set & strs[i].flag) || str_eq(*strs[i].slot, strs[i].value))
			continue;
		set_str(strs[i].slot, strs[i].value);
		json_array_append_new(changed, json_string(strs[i].name));
	}
	if (p->set & CF_BIRTHDAY) {
		c->birth_month = p->birthday ? p->birth_month : 0;
		c->birth_day = p->birthday ? p->birth_day : 0;
	}
	if ((p->set & CF_CHANNEL) && c->source_channel_id != p->source_channel_id) {
		c->source_channel_id = p->source_channel_id;
		json_array_append_new(changed, json_string("source_channel_id"));
	}
	if ((p->set & CF_OWNER) && c->owner_user_id != p->owner_user_id) {
		c->owner_user_id = p->owner_user_id;
		json_array_append_new(changed, json_string("owner_user_id"));
	}
	if (p->set & CF_STAGE) {
		/* set by hand: kept until the customer's own events go past it */
		/* the same stage newly marked as set by hand is a change too, or
		 * the mark would be answered but never stored */
		if (!str_eq(c->stage, p->stage) || !c->stage_manual)
			json_array_append_new(changed, json_string("stage"));
		set_str(&c->stage, p->stage);
		c->stage_manual = true;
	}
	if (p->set & CF_ATTRS) {
		json_t *cur = json_loads(c->attrs ? c->attrs : "{}", 0, NULL);
		json_t *next = p->attrs ? merge_patch(cur, p->attrs) : json_object();
		if (!p->attrs)
			json_decref(cur);
		char *text = json_dumps(next, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(next);
		if (strlen(text) > ATTRS_MAX_BYTES) {
			free(text);
			return core_fail(e, CORE_INVALID, "attrs",
			                 "attrs may hold %d bytes at most", ATTRS_MAX_BYTES);
		}
		if (!str_eq(c->attrs, text))
			json_array_append_new(changed, json_string("attrs"));
		free(c->attrs);
		c->attrs = text;
	}
	return 0;
}

int core_customer_load(struct store_db *db, int64_t id, struct customer *out, struct core_err *e)
{
	int st = store_customer_get(db, id, out);
	if (st == ST_OK && !out->erased_at)
		return 0;
	if (st != ST_OK && st != ST_NOT_FOUND)
		return core_store_fail(e, st);
	customer_clear(out);
	int64_t into = store_customer_merged_into(db, id);
	if (into)
		return core_fail(e, CORE_NOT_FOUND, NULL,
		                 "customer %lld was merged into customer %lld", (long long)id,
		                 (long long)into);
	return core_fail(e, CORE_NOT_FOUND, NULL, "no such customer");
}

int core_customer_create(struct store_db *db, const struct customer_patch *p, int64_t now,
                         struct customer *out, struct core_err *e)
{
	memset(out, 0, sizeof *out);
	out->gender = xstrdup("u");
	out->stage = xstrdup("added");
	out->attrs = xstrdup("{}");
	json_t *changed = json_array();
	int rc = apply_patch(out, p, changed, e);
	json_decref(changed);
	if (rc == 0)
		rc = check_refs(db, p, e);
	if (rc == 0)
		rc = check_unique(db, out, 0, e);
	if (rc < 0)
		return rc;
	out->created_at = out->updated_at = now;
	int st = store_customer_insert(db, out);
	if (st != ST_OK)
		return core_store_fail(e, st);
	json_t *data =
	    json_pack("{s:o}", "source_channel_id",
	              out->source_channel_id ? json_integer(out->source_channel_id) : json_null());
	if (core_event(db, out->id, now, "customer.created", NULL, 0, data, e) < 0 ||
	    core_coupons_gift_pack(db, out->id, now, e) < 0)
		return -1;
	return out->phone ? core_customer_bind_waiting(db, out, now, e) : 0;
}

int core_customer_update(struct store_db *db, int64_t id, const struct customer_patch *p,
                         int64_t now, struct customer *out, bool *changed_out, struct core_err *e)
{
	if (changed_out)
		*changed_out = false;
	if (core_customer_load(db, id, out, e) < 0)
		return -1;
	bool phone_changed = (p->set & CF_PHONE) && p->phone && !str_eq(out->phone, p->phone);
	json_t *changed = json_array();
	int rc = apply_patch(out, p, changed, e);
	if (rc == 0)
		rc = check_refs(db, p, e);
	if (rc == 0)
		rc = check_unique(db, out, id, e);
	if (rc == 0 && json_array_size(changed) > 0) {
		if (changed_out)
			*changed_out = true;
		out->updated_at = now;
		int st = store_customer_update(db, out);
		if (st != ST_OK)
			rc = core_store_fail(e, st);
		else
			rc = core_event(db, id, now, "customer.updated", NULL, 0,
			                json_pack("{s:O}", "changed", changed), e);
	}
	json_decref(changed);
	if (rc == 0 && phone_changed)
		rc = core_customer_bind_waiting(db, out, now, e);
	return rc;
}

static int check_refs(struct store_db *db, const struct customer_patch *p, struct core_err *e)
{
	if ((p->set & CF_CHANNEL) && p->source_channel_id &&
	    !store_channel_exists(db, p->source_channel_id))
		return core_fail(e, CORE_INVALID, "source_channel_id", "no such channel");
	if ((p->set & CF_OWNER) && p->owner_user_id) {
		struct user u = {0};
		int st = store_user_get(db, p->owner_user_id, &u);
		user_clear(&u);
		if (st == ST_NOT_FOUND)
			return core_fail(e, CORE_INVALID, "owner_user_id", "no such user");
		if (st != ST_OK)
			return core_store_fail(e, st);
	}
	return 0;
}

int core_customer_orders_changed(struct store_db *db, struct customer *c, int64_t now,
                                 struct core_err *e)
{
	/* new figures or purchase masks (an order's amount, items or paid_at
	 * corrected) may change the customer's auto tags without any event */
	core_customer_dirty(c->id);
	int st = store_customer_refresh_figures(db, c->id);
	struct customer fresh = {0};
	if (st == ST_OK)
		st = store_customer_get(db, c->id, &fresh);
	if (st != ST_OK) {
		customer_clear(&fresh);
		return core_store_fail(e, st);
	}
	customer_clear(c);
	*c = fresh;
	if (core_tier_refresh(db, c->id, now, e) < 0)
		return -1;
	const char *stage = core_stage_for_orders(c->stage, c->order_count);
	if (!stage)
		return 0;
	json_t *data = json_pack("{s:s, s:s}", "from", c->stage, "to", stage);
	set_str(&c->stage, stage);
	c->stage_manual = false;
	c->updated_at = now;
	st = store_customer_update(db, c);
	if (st != ST_OK) {
		json_decref(data);
		return core_store_fail(e, st);
	}
	return core_event(db, c->id, now, "stage.changed", NULL, 0, data, e);
}

int core_customer_bind_waiting(struct store_db *db, struct customer *c, int64_t now,
                               struct core_err *e)
{
	int64_t *ids = NULL;
	size_t n = 0;
	int st = store_orders_unbound_by_phone(db, c->phone, &ids, &n);
	if (st != ST_OK)
		return core_store_fail(e, st);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct order o = {0};
		st = store_order_get(db, ids[i], &o);
		rc = st != ST_OK ? core_store_fail(e, st)
		                 : core_order_bind_to(db, &o, c->id, "phone", now, e);
		order_clear(&o);
	}
	free(ids);
	if (rc == 0 && n > 0)
		rc = core_customer_orders_changed(db, c, now, e);
	return rc;
}

/* Fill what `into` lacks from `from`. */
static void absorb(struct customer *into, struct customer *from)
{
	char **pairs[][2] = {{&into->name, &from->name},
	                     {&into->email, &from->email},
	                     {&into->birthday, &from->birthday},
	                     {&into->phone, &from->phone},
	                     {&into->unionid, &from->unionid}};
	for (size_t i = 0; i < SCRM_ARRAY_LEN(pairs); i++) {
		if (!*pairs[i][0] && *pairs[i][1]) {
			*pairs[i][0] = *pairs[i][1];
			*pairs[i][1] = NULL;
		}
	}
	if (!into->birth_month) {
		into->birth_month = from->birth_month;
		into->birth_day = from->birth_day;
	}
	if (str_eq(into->gender, "u") && !str_eq(from->gender, "u"))
		set_str(&into->gender, from->gender);
	if (!into->source_channel_id)
		into->source_channel_id = from->source_channel_id;
	if (!into->owner_user_id)
		into->owner_user_id = from->owner_user_id;
	if (core_stage_rank(from->stage) > core_stage_rank(into->stage)) {
		set_str(&into->stage, from->stage);
		into->stage_manual = from->stage_manual;
	}
	/* attrs: keys only the other profile has */
	json_t *a = json_loads(into->attrs, 0, NULL), *b = json_loads(from->attrs, 0, NULL);
	if (json_is_object(a) && json_is_object(b)) {
		json_object_update_missing(a, b);
		free(into->attrs);
		into->attrs = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	}
	json_decref(a);
	json_decref(b);
}

int core_customer_merge(struct store_db *db, int64_t into, int64_t from, int64_t now,
                        struct customer *out, struct core_err *e)
{
	if (into == from)
		return core_fail(e, CORE_INVALID, "from",
		                 "a customer cannot be merged into itself");
	struct customer other = {0};
	if (core_customer_load(db, into, out, e) < 0) {
		e->field = "into";
		return -1;
	}
	if (core_customer_load(db, from, &other, e) < 0) {
		e->field = "from";
		return -1;
	}
	/* one person has one referral code: two ledgers do not become one */
	int64_t amb_into = store_ambassador_id_of(db, into),
	        amb_from = store_ambassador_id_of(db, from);
	if (amb_into < 0 || amb_from < 0) {
		customer_clear(&other);
		return core_store_fail(e, ST_ERR);
	}
	if (amb_into && amb_from) {
		customer_clear(&other);
		return core_fail(
		    e, CORE_CONFLICT, "from",
		    "both customers are ambassadors (%lld and %lld), each with its own "
		    "code and commissions; they cannot be merged",
		    (long long)amb_into, (long long)amb_from);
	}
	absorb(out, &other);
	/* the old profile lets go of phone and unionid before the kept one takes
	 * them, or the unique indexes would object */
	free(other.phone);
	free(other.unionid);
	other.phone = other.unionid = NULL;
	other.updated_at = out->updated_at = now;
	int st = store_customer_update(db, &other);
	if (st == ST_OK)
		st = store_customer_update(db, out);
	if (st == ST_OK)
		st = store_customer_merge(db, into, from, now);
	customer_clear(&other);
	if (st != ST_OK)
		return core_store_fail(e, st);
	if (core_event(db, into, now, "customer.merged", NULL, 0,
	               json_pack("{s:I}", "from", (json_int_t)from), e) < 0)
		return -1;
	/* an ambassador merged with a customer they referred: those orders were
	 * their own all along */
	if ((amb_into || amb_from) && core_commission_own_sync(db, into, now, e) < 0)
		return -1;
	return core_customer_orders_changed(db, out, now, e);
}

int core_customer_erase(struct store_db *db, int64_t id, int64_t now, struct core_err *e)
{
	struct customer c = {0};
	if (core_customer_load(db, id, &c, e) < 0)
		return -1;
	customer_clear(&c);
	int st = store_customer_erase(db, id, now);
	return st == ST_OK ? 0 : core_store_fail(e, st);
}
