/* sops.c - SOP triggers and actions: their checks, and firing one run. */
#include "scrm/core_sops.h"

#include "scrm/core_loyalty.h"
#include "scrm/core_template.h"
#include "scrm/store_auth.h"
#include "scrm/store_loyalty.h"
#include "scrm/store_notify.h"
#include "scrm/store_records.h"
#include "scrm/store_sops.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The timeline kinds an event trigger may wait for. */
static const char *const trigger_events[] = {"customer.created",
                                             "customer.updated",
                                             "order.bound",
                                             "checkin",
                                             "coupon.issued",
                                             "coupon.redeemed",
                                             "points.changed",
                                             "wallet.changed",
                                             "tag.added",
                                             "tag.removed",
                                             "audience.entered",
                                             "audience.left",
                                             "stage.changed",
                                             "tier.changed",
                                             "content.added",
                                             "reward.redeemed",
                                             "group.joined",
                                             "group.left",
                                             NULL};

static bool one_of(const char *v, const char *const *list)
{
	for (size_t i = 0; v && list[i]; i++)
		if (strcmp(v, list[i]) == 0)
			return true;
	return false;
}

/* Fail naming a path built from a format. */
static int fail_at(struct core_err *e, const char *msg, const char *path_fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(struct core_err *e, const char *msg, const char *path_fmt, ...)
{
	va_list ap;
	va_start(ap, path_fmt);
	vsnprintf(e->path, sizeof e->path, path_fmt, ap);
	va_end(ap);
	return core_fail(e, CORE_INVALID, e->path, "%s: %s", e->path, msg);
}

/* Keys of o must all be in keys (NULL-terminated). */
static int only_keys(const json_t *o, const char *const *keys, const char *path, struct core_err *e)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		(void)v;
		if (!one_of(k, keys))
			return fail_at(e, "unknown key", "%s.%.60s", path, k);
	}
	return 0;
}

int core_sop_trigger_parse(const json_t *j, struct sop_trigger *out, struct core_err *e)
{
	memset(out, 0, sizeof *out);
	if (!json_is_object(j))
		return fail_at(e, "a trigger is an object with a type: schedule, event or date",
		               "trigger");
	const char *type = json_string_value(json_object_get(j, "type"));
	if (type && strcmp(type, "schedule") == 0) {
		static const char *const keys[] = {"type", "cron", NULL};
		if (only_keys(j, keys, "trigger", e) < 0)
			return -1;
		out->type = TRIG_SCHEDULE;
		const char *cron = json_string_value(json_object_get(j, "cron"));
		char err[256];
		if (!cron)
			return fail_at(e,
			               "a schedule needs cron: \"minute hour day month weekday\"",
			               "trigger.cron");
		if (cron_parse(cron, &out->cron, err, sizeof err) < 0)
			return fail_at(e, err, "trigger.cron");
		return 0;
	}
	if (type && strcmp(type, "event") == 0) {
		static const char *const keys[] = {"type", "event", "delay_minutes", "name", NULL};
		if (only_keys(j, keys, "trigger", e) < 0)
			return -1;
		out->type = TRIG_EVENT;
		const char *ev = json_string_value(json_object_get(j, "event"));
		if (!one_of(ev, trigger_events))
			return fail_at(
			    e,
			    "must be one of customer.created, customer.updated, order.bound, "
			    "checkin, coupon.issued, coupon.redeemed, points.changed, "
			    "wallet.changed, tag.added, tag.removed, audience.entered, "
			    "audience.left, stage.changed, tier.changed, content.added, "
			    "reward.redeemed, group.joined, group.left",
			    "trigger.event");
		snprintf(out->event, sizeof out->event, "%s", ev);
		const json_t *d = json_object_get(j, "delay_minutes");
		if (d && (!json_is_integer(d) || json_integer_value(d) < 0 ||
		          json_integer_value(d) > 525600))
			return fail_at(
			    e, "must be a whole number of minutes from 0 to 525600 (a year)",
			    "trigger.delay_minutes");
		out->delay_s = json_integer_value(d) * 60;
		const json_t *name = json_object_get(j, "name");
		if (name) {
			bool named = strncmp(ev, "tag.", 4) == 0 ||
			             strncmp(ev, "audience.", 9) == 0 ||
			             strncmp(ev, "group.", 6) == 0;
			if (!named)
				return fail_at(e, "only tag, audience and group events take a name",
				               "trigger.name");
			if (!json_is_string(name) || json_string_length(name) == 0 ||
			    json_string_length(name) > 200)
				return fail_at(e, "must be the name of the tag, audience or group",
				               "trigger.name");
			snprintf(out->name, sizeof out->name, "%s", json_string_value(name));
		}
		return 0;
	}
	if (type && strcmp(type, "date") == 0) {
		static const char *const keys[] = {"type", "field", "offset_days", "at", NULL};
		static const char *const fields[] = {"coupon_expires_at", "birthday",
		                                     "last_order_at", NULL};
		if (only_keys(j, keys, "trigger", e) < 0)
			return -1;
		out->type = TRIG_DATE;
		const char *field = json_string_value(json_object_get(j, "field"));
		if (!one_of(field, fields))
			return fail_at(e, "must be coupon_expires_at, birthday or last_order_at",
			               "trigger.field");
		snprintf(out->field, sizeof out->field, "%s", field);
		const json_t *off = json_object_get(j, "offset_days");
		if (off && (!json_is_integer(off) || json_integer_value(off) < -366 ||
		            json_integer_value(off) > 366))
			return fail_at(
			    e,
			    "must be a whole number of days from -366 to 366 (-7: a week "
			    "before the date)",
			    "trigger.offset_days");
		out->offset_days = (int)json_integer_value(off);
		const char *at = json_string_value(json_object_get(j, "at"));
		int hh = -1, mm = -1, n = 0;
		if (at && (sscanf(at, "%2d:%2d%n", &hh, &mm, &n) != 2 || at[n] || strlen(at) != 5 ||
		           hh < 0 || hh > 23 || mm < 0 || mm > 59))
			return fail_at(e, "must be a time of day \"HH:MM\" (24 hours)",
			               "trigger.at");
		out->at_minute = at ? hh * 60 + mm : 9 * 60; /* 09:00 unless said */
		return 0;
	}
	return fail_at(e, "must be schedule, event or date", "trigger.type");
}

/* A template field of an action: a string of 1 to max bytes naming known
 * placeholders only. */
static int check_template(const json_t *a, const char *key, size_t i, size_t max, bool required,
                          struct core_err *e)
{
	const json_t *t = json_object_get(a, key);
	if (!t && !required)
		return 0;
	if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > max ||
	    strlen(json_string_value(t)) != json_string_length(t))
		return fail_at(e, "must be a text (placeholders such as {{name}} allowed)",
		               "actions[%zu].%s", i, key);
	char err[400];
	if (tmpl_check(json_string_value(t), err, sizeof err) < 0)
		return fail_at(e, err, "actions[%zu].%s", i, key);
	return 0;
}

/* A positive id field. */
static int64_t id_field(const json_t *a, const char *key)
{
	const json_t *v = json_object_get(a, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

static int check_action(struct store_db *db, const json_t *a, size_t i, struct core_err *e)
{
	if (!json_is_object(a))
		return fail_at(e, "an action is an object with a type", "actions[%zu]", i);
	const char *type = json_string_value(json_object_get(a, "type"));
	char path[32];
	snprintf(path, sizeof path, "actions[%zu]", i);
	int st;
	if (type && strcmp(type, "message") == 0) {
		static const char *const keys[] = {"type", "channel_id", "template", "markdown",
		                                   NULL};
		if (only_keys(a, keys, path, e) < 0)
			return -1;
		int64_t ch = id_field(a, "channel_id");
		struct channel c = {0};
		st = ch ? store_channel_get(db, ch, &c) : ST_NOT_FOUND;
		channel_clear(&c);
		if (st == ST_NOT_FOUND)
			return fail_at(e, "no such message channel", "actions[%zu].channel_id", i);
		if (st != ST_OK)
			return core_store_fail(e, st);
		const json_t *md = json_object_get(a, "markdown");
		if (md && !json_is_boolean(md))
			return fail_at(e, "must be true or false", "actions[%zu].markdown", i);
		return check_template(a, "template", i, 4000, true, e);
	}
	if (type && (strcmp(type, "add_tag") == 0 || strcmp(type, "remove_tag") == 0)) {
		static const char *const keys[] = {"type", "tag", NULL};
		if (only_keys(a, keys, path, e) < 0)
			return -1;
		const json_t *tv = json_object_get(a, "tag");
		struct tag t = {0};
		st = json_is_integer(tv)  ? store_tag_get(db, json_integer_value(tv), &t)
		     : json_is_string(tv) ? store_tag_by_name(db, json_string_value(tv), &t)
		                          : ST_NOT_FOUND;
		bool is_auto = st == ST_OK && t.kind && strcmp(t.kind, "auto") == 0;
		tag_clear(&t);
		if (st == ST_NOT_FOUND)
			return fail_at(e, "no such tag (a tag id or exact name)",
			               "actions[%zu].tag", i);
		if (st != ST_OK)
			return core_store_fail(e, st);
		if (is_auto)
			return fail_at(e, "an auto tag follows its rule and cannot be set by a SOP",
			               "actions[%zu].tag", i);
		return 0;
	}
	if (type && strcmp(type, "grant_points") == 0) {
		static const char *const keys[] = {"type", "points", "reason", NULL};
		if (only_keys(a, keys, path, e) < 0)
			return -1;
		const json_t *p = json_object_get(a, "points");
		if (!json_is_integer(p) || json_integer_value(p) < 1 ||
		    json_integer_value(p) > 1000000)
			return fail_at(e, "must be a whole number of points from 1 to 1000000",
			               "actions[%zu].points", i);
		const json_t *r = json_object_get(a, "reason");
		if (r && (!json_is_string(r) || json_string_length(r) == 0 ||
		          json_string_length(r) > 200))
			return fail_at(e, "must be a short text", "actions[%zu].reason", i);
		return 0;
	}
	if (type && strcmp(type, "grant_coupon") == 0) {
		static const char *const keys[] = {"type", "template_id", NULL};
		if (only_keys(a, keys, path, e) < 0)
			return -1;
		int64_t tid = id_field(a, "template_id");
		struct coupon_template t = {0};
		st = tid ? store_coupon_template_get(db, tid, &t) : ST_NOT_FOUND;
		coupon_template_clear(&t);
		if (st == ST_NOT_FOUND)
			return fail_at(e, "no such coupon template", "actions[%zu].template_id", i);
		return st == ST_OK ? 0 : core_store_fail(e, st);
	}
	if (type && strcmp(type, "task") == 0) {
		static const char *const keys[] = {"type",     "assignee",     "text",
		                                   "template", "due_in_hours", NULL};
		if (only_keys(a, keys, path, e) < 0)
			return -1;
		const json_t *who = json_object_get(a, "assignee");
		if (json_is_string(who) && strcmp(json_string_value(who), "owner") == 0) {
			/* the customer's owner when the SOP fires */
		} else if (json_is_integer(who) && json_integer_value(who) > 0) {
			struct user u = {0};
			st = store_user_get(db, json_integer_value(who), &u);
			bool off = st == ST_OK && u.disabled;
			user_clear(&u);
			if (st == ST_NOT_FOUND || off)
				return fail_at(e, "no such active user", "actions[%zu].assignee",
				               i);
			if (st != ST_OK)
				return core_store_fail(e, st);
		} else {
			return fail_at(e, "must be \"owner\" (the customer's owner) or a user id",
			               "actions[%zu].assignee", i);
		}
		const json_t *due = json_object_get(a, "due_in_hours");
		if (due && !json_is_null(due) &&
		    (!json_is_integer(due) || json_integer_value(due) < 1 ||
		     json_integer_value(due) > TASK_DUE_MAX_HOURS))
			return fail_at(e, "must be a whole number of hours from 1 to 8760 (a year)",
			               "actions[%zu].due_in_hours", i);
		if (check_template(a, "text", i, 2000, true, e) < 0)
			return -1;
		return check_template(a, "template", i, 4000, false, e);
	}
	return fail_at(e,
	               "must be message, add_tag, remove_tag, grant_points, grant_coupon or task",
	               "actions[%zu].type", i);
}

int core_sop_actions_check(struct store_db *db, const json_t *actions, struct core_err *e)
{
	if (!json_is_array(actions) || json_array_size(actions) < 1 ||
	    json_array_size(actions) > 10)
		return fail_at(e, "must be a list of 1 to 10 actions", "actions");
	for (size_t i = 0; i < json_array_size(actions); i++)
		if (check_action(db, json_array_get(actions, i), i, e) < 0)
			return -1;
	return 0;
}

void core_sop_date_match(const char *field, int64_t target, const char **only, int64_t *a,
                         int64_t *b, int64_t *c)
{
	*c = 0;
	if (strcmp(field, "birthday") == 0) {
		int y, m, d;
		time_civil_from_days(target, &y, &m, &d);
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		*only = "birthday";
		*a = m;
		*b = d;
		*c = m == 2 && d == 28 && !leap; /* 29 February birthdays on the 28th */
		return;
	}
	*only = strcmp(field, "last_order_at") == 0 ? "last_order" : "coupon";
	*a = time_local_day_start(target);
	*b = time_local_day_end(target);
}

/* Rendering ----------------------------------------------------------------------------- */

struct render {
	struct store_db *db;
	const char *sop_name;
	const struct customer *c; /* NULL: a run for no one */
	int64_t coupon_id, now;
	struct coupon cp;
	int coupon_state; /* 0 not looked up, 1 found, -1 none */
	char buf[64];
};

static const char *money(struct render *x, int64_t cents)
{
	snprintf(x->buf, sizeof x->buf, "%s%lld.%02lld", cents < 0 ? "-" : "",
	         (long long)(cents < 0 ? -cents : cents) / 100,
	         (long long)(cents < 0 ? -cents : cents) % 100);
	return x->buf;
}

static const char *local_date(struct render *x, int64_t t)
{
	if (!t)
		return "";
	int y, m, d;
	time_local_ymd(t, &y, &m, &d);
	snprintf(x->buf, sizeof x->buf, "%04d-%02d-%02d", y, m, d);
	return x->buf;
}

static const struct coupon *coupon(struct render *x)
{
	if (x->coupon_state == 0) {
		int64_t id = x->coupon_id;
		x->coupon_state = -1;
		if ((id || (x->c &&
		            store_coupon_first_expiring(x->db, x->c->id, x->now, &id) == ST_OK)) &&
		    store_coupon_get(x->db, id, &x->cp) == ST_OK)
			x->coupon_state = 1;
	}
	return x->coupon_state == 1 ? &x->cp : NULL;
}

static const char *value(void *arg, const char *f)
{
	struct render *x = arg;
	const struct customer *c = x->c;
	if (strcmp(f, "sop.name") == 0)
		return x->sop_name;
	if (strncmp(f, "coupon.", 7) == 0) {
		const struct coupon *cp = coupon(x);
		if (!cp)
			return "";
		if (strcmp(f, "coupon.name") == 0)
			return cp->name;
		if (strcmp(f, "coupon.code") == 0)
			return cp->code;
		if (strcmp(f, "coupon.expires_at") == 0)
			return local_date(x, cp->expires_at);
		int64_t days = time_local_day(cp->expires_at) - time_local_day(x->now);
		snprintf(x->buf, sizeof x->buf, "%lld", (long long)(days < 0 ? 0 : days));
		return x->buf;
	}
	if (!c)
		return "";
	if (strcmp(f, "name") == 0)
		return c->name;
	if (strcmp(f, "phone_tail") == 0) {
		size_t n = c->phone ? strlen(c->phone) : 0;
		return n >= 4 ? c->phone + n - 4 : "";
	}
	if (strcmp(f, "tier") == 0)
		return c->tier_name;
	if (strcmp(f, "stage") == 0)
		return c->stage;
	if (strcmp(f, "birthday") == 0)
		return c->birthday;
	if (strcmp(f, "last_order_date") == 0)
		return local_date(x, c->last_order_at);
	if (strcmp(f, "wallet_balance") == 0)
		return money(x, c->wallet_balance_cents);
	if (strcmp(f, "total_spent") == 0)
		return money(x, c->total_spent_cents);
	int64_t n = strcmp(f, "points_balance") == 0 ? c->points_balance : c->order_count;
	snprintf(x->buf, sizeof x->buf, "%lld", (long long)n);
	return x->buf;
}

char *core_sop_render(struct store_db *db, const char *sop_name, const char *tmpl,
                      int64_t customer_id, int64_t coupon_id, int64_t now)
{
	struct customer c = {0};
	bool have = customer_id && store_customer_get(db, customer_id, &c) == ST_OK;
	struct render x = {.db = db,
	                   .sop_name = sop_name,
	                   .c = have ? &c : NULL,
	                   .coupon_id = coupon_id,
	                   .now = now};
	char *out = tmpl_render(tmpl, value, &x);
	coupon_clear(&x.cp);
	customer_clear(&c);
	return out;
}

/* Firing ------------------------------------------------------------------------------ */

struct fire {
	struct store_db *db;
	const struct sop *s;
	const struct sop_run *r;
	const struct customer *c;
	struct render *x;
	int64_t now;
	const struct points_rules *pr;
	struct sop_fired *out;
};

/* One action; 0 done, 1 not done (the reason in item), -1 store failure. */
static int act(struct fire *f, const json_t *a, json_t *item, struct core_err *e)
{
	const char *type = json_string_value(json_object_get(a, "type"));
	const struct customer *c = f->c;
	if (!type) { /* stored actions were checked when saved; a damaged one is skipped */
		json_object_set_new(item, "error", json_string("the action has no type"));
		return 1;
	}
	bool needs_customer = strcmp(type, "message") != 0 && strcmp(type, "task") != 0;
	if (needs_customer && !c) {
		json_object_set_new(item, "error", json_string("no customer in this run"));
		return 1;
	}
	struct core_err ae = {0};
	int rc = 0;
	if (strcmp(type, "message") == 0) {
		struct channel ch = {0};
		int st = store_channel_get(f->db, id_field(a, "channel_id"), &ch);
		if (st != ST_OK && st != ST_NOT_FOUND) {
			channel_clear(&ch);
			return core_store_fail(e, st);
		}
		json_t *attrs = c && c->attrs ? json_loads(c->attrs, 0, NULL) : NULL;
		const char *ext =
		    json_string_value(json_object_get(attrs, "wecom_external_userid"));
		if (st == ST_NOT_FOUND) {
			json_object_set_new(item, "error",
			                    json_string("the message channel was deleted"));
			rc = 1;
		} else if (strcmp(ch.kind, "wecom_customer") == 0 && !ext) {
			json_object_set_new(
			    item, "error",
			    json_string("the customer has no attrs.wecom_external_userid"));
			rc = 1;
		} else {
			char *text = tmpl_render(json_string_value(json_object_get(a, "template")),
			                         value, f->x);
			json_t *p =
			    json_pack("{s:s, s:b, s:I, s:I}", "text", text, "markdown",
			              json_is_true(json_object_get(a, "markdown")), "sop_id",
			              (json_int_t)f->s->id, "sop_run_id", (json_int_t)f->r->id);
			if (c)
				json_object_set_new(p, "customer_id", json_integer(c->id));
			if (ext)
				json_object_set_new(p, "external_userid", json_string(ext));
			char *payload = json_dumps(p, JSON_COMPACT);
			json_decref(p);
			struct delivery d = {.channel_id = ch.id,
			                     .customer_id = c ? c->id : 0,
			                     .kind = ch.kind,
			                     .payload = payload,
			                     .created_at = f->now};
			st = store_delivery_add(f->db, &d);
			free(payload);
			if (st != ST_OK) {
				free(text);
				json_decref(attrs);
				channel_clear(&ch);
				return core_store_fail(e, st);
			}
			json_object_set_new(item, "delivery_id", json_integer(d.id));
			json_object_set_new(item, "text", json_string(text));
			free(text);
			f->out->queued = true;
		}
		json_decref(attrs);
		channel_clear(&ch);
		return rc;
	}
	if (strcmp(type, "add_tag") == 0 || strcmp(type, "remove_tag") == 0) {
		const json_t *tv = json_object_get(a, "tag");
		struct tag t = {0};
		int st = json_is_integer(tv) ? store_tag_get(f->db, json_integer_value(tv), &t)
		                             : store_tag_by_name(f->db, json_string_value(tv), &t);
		if (st == ST_NOT_FOUND) {
			json_object_set_new(item, "error", json_string("the tag was deleted"));
			rc = 1;
		} else if (st != ST_OK) {
			rc = core_store_fail(e, st);
		} else if (strcmp(type, "add_tag") == 0) {
			size_t added = 0;
			if (core_customer_tag_ids(f->db, c->id, &t.id, 1, f->now, &added, &ae) < 0)
				rc = 1;
			json_object_set_new(item, "changed", json_boolean(added > 0));
		} else if (core_customer_untag(f->db, c->id, t.id, f->now, &ae) < 0) {
			rc = 1; /* a customer without the tag is no fault: nothing to take off */
		}
		tag_clear(&t);
	} else if (strcmp(type, "grant_points") == 0) {
		int64_t pts = json_integer_value(json_object_get(a, "points"));
		const char *note = json_string_value(json_object_get(a, "reason"));
		if (core_points_grant(f->db, c->id, pts, "sop", "sop", f->s->id,
		                      note ? note : f->s->name, f->now, f->pr, &ae) < 0)
			rc = 1;
		else
			json_object_set_new(item, "points", json_integer(pts));
	} else if (strcmp(type, "grant_coupon") == 0) {
		struct coupon cp = {0};
		if (core_coupon_issue(f->db, c->id, id_field(a, "template_id"), "sop", f->now, &cp,
		                      &ae) < 0)
			rc = 1;
		else
			json_object_set_new(item, "coupon_id", json_integer(cp.id));
		coupon_clear(&cp);
	} else if (strcmp(type, "task") == 0) {
		const json_t *who = json_object_get(a, "assignee");
		struct task t = {.sop_id = f->s->id,
		                 .sop_run_id = f->r->id,
		                 .customer_id = c ? c->id : 0,
		                 .assignee_user_id = json_is_integer(who) ? json_integer_value(who)
		                                     : c                  ? c->owner_user_id
		                                                          : 0,
		                 .created_at = f->now};
		const json_t *due = json_object_get(a, "due_in_hours");
		if (json_is_integer(due))
			t.due_at = f->now + json_integer_value(due) * 3600;
		t.text = tmpl_render(json_string_value(json_object_get(a, "text")), value, f->x);
		const char *m = json_string_value(json_object_get(a, "template"));
		t.message = m ? tmpl_render(m, value, f->x) : NULL;
		int st = store_task_insert(f->db, &t);
		if (st == ST_OK) {
			json_object_set_new(item, "task_id", json_integer(t.id));
			json_object_set_new(item, "assignee_user_id",
			                    t.assignee_user_id ? json_integer(t.assignee_user_id)
			                                       : json_null());
		}
		task_clear(&t);
		if (st != ST_OK)
			return core_store_fail(e, st);
	}
	if (rc == 1 && ae.msg[0])
		json_object_set_new(item, "error", json_string(ae.msg));
	if (ae.rc == CORE_STORE)
		return core_store_fail(e, ae.st);
	return rc;
}

int core_sop_fire(struct store_db *db, const struct sop *s, const json_t *actions,
                  const struct sop_run *r, int64_t now, const struct points_rules *pr,
                  struct sop_fired *out, struct core_err *e)
{
	memset(out, 0, sizeof *out);
	out->result = json_array();
	struct customer c = {0};
	if (r->customer_id) {
		int st = store_customer_get(db, r->customer_id, &c);
		if (st != ST_OK && st != ST_NOT_FOUND)
			return core_store_fail(e, st);
		if (st == ST_NOT_FOUND || c.erased_at) {
			customer_clear(&c);
			out->skipped = true;
			json_array_append_new(
			    out->result,
			    json_pack("{s:s}", "skipped", "the customer no longer exists"));
			return 0;
		}
	}
	struct render x = {.db = db,
	                   .sop_name = s->name,
	                   .c = r->customer_id ? &c : NULL,
	                   .coupon_id =
	                       r->ref_type && strcmp(r->ref_type, "coupon") == 0 ? r->ref_id : 0,
	                   .now = now};
	struct fire f = {db, s, r, r->customer_id ? &c : NULL, &x, now, pr, out};
	int rc = 0;
	core_event_cause(s->id, r->depth);
	for (size_t i = 0; i < json_array_size(actions) && rc == 0; i++) {
		const json_t *a = json_array_get(actions, i);
		json_t *item = json_pack("{s:O}", "type",
		                         json_object_get(a, "type") ? json_object_get(a, "type")
		                                                    : json_null());
		/* each action alone: one that fails takes back only its own changes */
		if (store_savepoint(db, "sop_action") < 0) {
			json_decref(item);
			rc = core_store_fail(e, ST_ERR);
			break;
		}
		int a_rc = act(&f, a, item, e);
		if (a_rc == 1) {
			out->failed = true;
			if (store_rollback_to(db, "sop_action") < 0)
				a_rc = core_store_fail(e, ST_ERR);
		}
		if (store_release(db, "sop_action") < 0 && a_rc >= 0)
			a_rc = core_store_fail(e, ST_ERR);
		if (a_rc < 0) {
			json_decref(item);
			rc = -1;
			break;
		}
		json_object_set_new(item, "ok", json_boolean(a_rc == 0));
		json_array_append_new(out->result, item);
	}
	core_event_cause(0, 0);
	coupon_clear(&x.cp);
	customer_clear(&c);
	return rc;
}
