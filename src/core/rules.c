/* rules.c - the rule compiler. Each leaf becomes a condition on the customer
 * row (or an indexed lookup), wrapped in coalesce(..., 0) so that NOT is the
 * complement of a set even where a column is NULL. */
#include "scrm/core_rules.h"

#include "scrm/core_records.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ftype {
	F_NUM,
	F_ID,
	F_DAYS_TS,
	F_DAYS_DAY,
	F_BMONTH,
	F_BDAYS,
	F_STAGE,
	F_TIER,
	F_TAG,
	F_PLATFORM,
	F_CATEGORY,
	F_GENDER,
	F_GROUP,
	F_COUPON_EXP,
	F_ATTR,
};

struct fdef {
	const char *name;
	enum ftype type;
	const char *col; /* a fixed column of customers c, where one applies */
};

static const struct fdef fields[] = {
    {"order_count", F_NUM, "c.order_count"},
    {"total_spent_cents", F_NUM, "c.total_spent_cents"},
    {"points_balance", F_NUM, "c.points_balance"},
    {"wallet_balance_cents", F_NUM, "c.wallet_balance_cents"},
    {"days_since_last_order", F_DAYS_TS, "c.last_order_at"},
    {"days_since_first_order", F_DAYS_TS, "c.first_order_at"},
    {"days_since_created", F_DAYS_TS, "c.created_at"},
    {"days_since_last_checkin", F_DAYS_DAY, "c.last_checkin_day"},
    {"birthday_month", F_BMONTH, NULL},
    {"birthday_in_days", F_BDAYS, NULL},
    {"stage", F_STAGE, NULL},
    {"tier", F_TIER, NULL},
    {"tag", F_TAG, NULL},
    {"source_channel_id", F_ID, "c.source_channel_id"},
    {"owner_user_id", F_ID, "c.owner_user_id"},
    {"platform", F_PLATFORM, NULL},
    {"category", F_CATEGORY, NULL},
    {"gender", F_GENDER, NULL},
    {"group_id", F_GROUP, NULL},
    {"coupon_expiring_in_days", F_COUPON_EXP, NULL},
};

const char *const rules_fields[] = {
    "order_count",
    "total_spent_cents",
    "points_balance",
    "wallet_balance_cents",
    "days_since_last_order",
    "days_since_first_order",
    "days_since_created",
    "days_since_last_checkin",
    "birthday_month",
    "birthday_in_days",
    "stage",
    "tier",
    "tag",
    "source_channel_id",
    "owner_user_id",
    "platform",
    "category",
    "gender",
    "group_id",
    "coupon_expiring_in_days",
    "attrs.<key>",
    NULL,
};

/* The operators each kind of field takes. */
static const char *ops_of(enum ftype t)
{
	switch (t) {
	case F_NUM:
		return "= != > >= < <= in not_in between";
	case F_ID:
		return "= != in not_in exists";
	case F_DAYS_TS:
	case F_DAYS_DAY:
		return "= != > >= < <= between exists";
	case F_BMONTH:
		return "= != in not_in exists";
	case F_BDAYS:
		return "= < <= between";
	case F_STAGE:
		return "= != in not_in > >= < <=";
	case F_TIER:
		return "= != in not_in exists";
	case F_TAG:
	case F_PLATFORM:
	case F_CATEGORY:
	case F_GROUP:
		return "has has_not in not_in";
	case F_GENDER:
		return "= != in not_in";
	case F_COUPON_EXP:
		return "< <= between exists";
	case F_ATTR:
		return "= != > >= < <= in not_in between exists";
	}
	return "";
}

struct ctx {
	struct buf sql, one; /* over all customers; for one customer */
	struct rule_sql *out;
	struct core_err *e;
	int64_t now, today;
	int nodes;
};

#define PATH_LEN 256

/* out = a + b, cut at PATH_LEN (rules nest 10 deep, far below that). */
static void path_join(char out[PATH_LEN], const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > PATH_LEN - 1)
		la = PATH_LEN - 1;
	if (la + lb > PATH_LEN - 1)
		lb = PATH_LEN - 1 - la;
	memcpy(out, a, la);
	memcpy(out + la, b, lb);
	out[la + lb] = '\0';
}

static void path_index(char out[PATH_LEN], const char *a, size_t i)
{
	char idx[32];
	snprintf(idx, sizeof idx, "[%zu]", i);
	path_join(out, a, idx);
}

static int fail(struct ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *x, const char *path, const char *fmt, ...)
{
	snprintf(x->e->path, sizeof x->e->path, "%s", path);
	x->e->rc = CORE_INVALID;
	x->e->code = NULL;
	x->e->field = x->e->path;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->e->msg, sizeof x->e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* A new parameter; its number is x->out->nparams afterwards. */
static struct rule_param *param_slot(struct ctx *x)
{
	struct rule_sql *o = x->out;
	if (o->nparams == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->params = xrealloc(o->params, o->cap * sizeof *o->params);
	}
	struct rule_param *p = &o->params[o->nparams++];
	memset(p, 0, sizeof *p);
	return p;
}

/* A new parameter, written into the SQL where it is used. */
static struct rule_param *new_param(struct ctx *x)
{
	struct rule_param *p = param_slot(x);
	buf_printf(&x->sql, "?%zu", x->out->nparams);
	buf_printf(&x->one, "?%zu", x->out->nparams);
	return p;
}

static void p_int(struct ctx *x, int64_t v)
{
	struct rule_param *p = new_param(x);
	p->type = RP_INT;
	p->i = v;
}

static void p_text(struct ctx *x, const char *s)
{
	struct rule_param *p = new_param(x);
	p->type = RP_TEXT;
	p->s = xstrdup(s);
}

/* A JSON scalar as a parameter (attrs: strings, numbers, true/false as 1/0). */
static void p_json(struct ctx *x, const json_t *v)
{
	struct rule_param *p = new_param(x);
	if (json_is_string(v)) {
		p->type = RP_TEXT;
		p->s = xstrdup(json_string_value(v));
	} else if (json_is_integer(v)) {
		p->type = RP_INT;
		p->i = json_integer_value(v);
	} else if (json_is_boolean(v)) {
		p->type = RP_INT;
		p->i = json_is_true(v);
	} else {
		p->type = RP_REAL;
		p->d = json_real_value(v);
	}
}

static void sql(struct ctx *x, const char *s)
{
	buf_puts(&x->sql, s);
	buf_puts(&x->one, s);
}

/* A condition on the customer's rows in another table: over all customers, the
 * set of matching customer ids, built once (a rare tag then drives the query);
 * for one customer, a lookup of that customer's rows only. The set query
 * selects the customer_id of table t and must be followed by conditions on t's
 * own columns; `link` is how the lookup joins t to c. */
static void sql_set(struct ctx *x, const char *select_from, const char *link)
{
	buf_printf(&x->sql, "c.id IN (SELECT %s WHERE ", select_from);
	const char *from = strstr(select_from, " FROM ");
	buf_printf(&x->one, "EXISTS (SELECT 1%s WHERE %s AND ", from ? from : "", link);
}

/* Values --------------------------------------------------------------------------- */

enum vkind {
	V_INT,
	V_ID,
	V_DAYS,
	V_MONTH,
	V_BDAYS,
	V_STAGE,
	V_NAME_OR_ID,
	V_PLATFORM,
	V_CATEGORY,
	V_GENDER,
	V_SCALAR
};

/* Check one value; 0 or -1 naming path. */
static int check_value(struct ctx *x, const json_t *v, enum vkind k, const char *path)
{
	/* a string with a NUL in it would be read cut short: no kind takes one */
	if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
		v = NULL;
	int64_t i = json_integer_value(v);
	switch (k) {
	case V_INT:
		if (!json_is_integer(v))
			return fail(x, path, "%s must be a whole number", path);
		return 0;
	case V_ID:
		if (!json_is_integer(v) || i <= 0)
			return fail(x, path, "%s must be a positive id", path);
		return 0;
	case V_DAYS:
		if (!json_is_integer(v) || i < 0 || i > 36500)
			return fail(x, path, "%s must be a number of days from 0 to 36500", path);
		return 0;
	case V_MONTH:
		if ((json_is_integer(v) && i >= 1 && i <= 12) ||
		    (json_is_string(v) && strcmp(json_string_value(v), "current") == 0))
			return 0;
		return fail(x, path, "%s must be a month 1 to 12 or \"current\"", path);
	case V_BDAYS:
		if (!json_is_integer(v) || i < 0 || i > 366)
			return fail(x, path, "%s must be a number of days from 0 to 366", path);
		return 0;
	case V_STAGE:
		if (json_is_string(v) && core_stage_rank(json_string_value(v)) >= 0)
			return 0;
		return fail(x, path,
		            "%s must be one of added, observing, interested, converted, "
		            "sharing, repurchasing",
		            path);
	case V_NAME_OR_ID:
		if ((json_is_integer(v) && i > 0) ||
		    (json_is_string(v) && json_string_length(v) >= 1 &&
		     json_string_length(v) <= 200 &&
		     strlen(json_string_value(v)) == json_string_length(v)))
			return 0;
		return fail(x, path, "%s must be a name or a positive id", path);
	case V_PLATFORM:
		if (json_is_string(v) && !core_platform_problem(json_string_value(v)))
			return 0;
		return fail(x, path, "%s must be a platform name such as tmall", path);
	case V_CATEGORY:
		if (json_is_string(v) && json_string_length(v) >= 1 &&
		    json_string_length(v) <= 64 &&
		    strlen(json_string_value(v)) == json_string_length(v))
			return 0;
		return fail(x, path, "%s must be a category name", path);
	case V_GENDER:
		if (json_is_string(v) && core_gender_valid(json_string_value(v)))
			return 0;
		return fail(x, path, "%s must be m, f or u", path);
	case V_SCALAR:
		if ((json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
		     json_string_length(v) <= 1000) ||
		    json_is_number(v) || json_is_boolean(v))
			return 0;
		return fail(x, path, "%s must be a string, a number or true/false", path);
	}
	return 0;
}

/* The value of `in`/`not_in`: a non-empty list of checked values. */
static int check_list(struct ctx *x, const json_t *v, enum vkind k, const char *path)
{
	if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > RULES_MAX_LIST)
		return fail(x, path, "%s must be a list of 1 to %d values", path, RULES_MAX_LIST);
	char p[PATH_LEN];
	for (size_t i = 0; i < json_array_size(v); i++) {
		path_index(p, path, i);
		if (check_value(x, json_array_get(v, i), k, p) < 0)
			return -1;
	}
	return 0;
}

/* The value of `between`: [low, high] with low <= high. */
static int check_range(struct ctx *x, const json_t *v, enum vkind k, const char *path)
{
	char p[PATH_LEN];
	if (!json_is_array(v) || json_array_size(v) != 2)
		return fail(x, path, "%s must be [low, high]", path);
	for (size_t i = 0; i < 2; i++) {
		path_index(p, path, i);
		if (check_value(x, json_array_get(v, i), k, p) < 0)
			return -1;
	}
	json_t *lo = json_array_get(v, 0), *hi = json_array_get(v, 1);
	if (json_is_number(lo) && json_is_number(hi) &&
	    json_number_value(lo) > json_number_value(hi))
		return fail(x, path, "%s: low must not be above high", path);
	return 0;
}

/* A list of ids and names as two parameter lists: "(id IN (...) OR name IN (...))"
 * (not one OR per value: SQLite refuses expressions over 1000 deep). */
static void ids_or_names(struct ctx *x, const json_t *values, const char *table_cond)
{
	sql(x, table_cond);
	sql(x, " (0");
	for (int pass = 0; pass < 2; pass++) {
		bool any = false;
		size_t i;
		json_t *v;
		json_array_foreach(values, i, v)
		{
			if (json_is_integer(v) != (pass == 0))
				continue;
			sql(x, any ? ", " : pass == 0 ? " OR id IN (" : " OR name IN (");
			any = true;
			if (pass == 0)
				p_int(x, json_integer_value(v));
			else
				p_text(x, json_string_value(v));
		}
		if (any)
			sql(x, ")");
	}
	sql(x, "))");
}

/* One value as a one-element list, so that `=`/`has` and `in` share code. A
 * list is copied: the caller may change its copy ("current" becomes a month)
 * and must never change the rule, which is stored as sent. */
static json_t *as_list(const char *op, const json_t *v)
{
	if (strcmp(op, "in") == 0 || strcmp(op, "not_in") == 0)
		return json_copy((json_t *)v);
	return json_pack("[O]", v);
}

static bool negated(const char *op)
{
	return strcmp(op, "!=") == 0 || strcmp(op, "not_in") == 0 || strcmp(op, "has_not") == 0;
}

static void in_list(struct ctx *x, const char *expr, const json_t *list, bool text)
{
	sql(x, expr);
	sql(x, " IN (");
	for (size_t i = 0; i < json_array_size(list); i++) {
		if (i)
			sql(x, ", ");
		if (text)
			p_text(x, json_string_value(json_array_get(list, i)));
		else
			p_json(x, json_array_get(list, i));
	}
	sql(x, ")");
}

/* Leaves ------------------------------------------------------------------------------ */

static int cmp_op(const char *op)
{
	static const char *const ops[] = {"=", "!=", ">", ">=", "<", "<="};
	for (int i = 0; i < 6; i++)
		if (strcmp(op, ops[i]) == 0)
			return i;
	return -1;
}

/* column op value for plain columns and attrs. */
static void compare(struct ctx *x, const char *expr, const char *op, const json_t *v)
{
	if (strcmp(op, "between") == 0) {
		sql(x, expr);
		sql(x, " BETWEEN ");
		p_json(x, json_array_get(v, 0));
		sql(x, " AND ");
		p_json(x, json_array_get(v, 1));
	} else if (strcmp(op, "in") == 0 || strcmp(op, "not_in") == 0) {
		if (negated(op)) {
			sql(x, expr);
			sql(x, " IS NOT NULL AND NOT ");
		}
		in_list(x, expr, v, false);
	} else {
		if (strcmp(op, "!=") == 0) {
			sql(x, expr);
			sql(x, " IS NOT NULL AND ");
		}
		sql(x, expr);
		sql(x, " ");
		sql(x, op);
		sql(x, " ");
		p_json(x, v);
	}
}

/* days_since(col) >= k, for a column of epoch seconds or of day numbers. */
static void days_ge(struct ctx *x, const char *col, bool day_numbers, int64_t k)
{
	sql(x, col);
	if (day_numbers) {
		sql(x, " <= ");
		p_int(x, x->today - k);
	} else {
		sql(x, " < ");
		p_int(x, time_local_day_start(x->today - k + 1));
	}
}

static void days_le(struct ctx *x, const char *col, bool day_numbers, int64_t k)
{
	sql(x, col);
	sql(x, " >= ");
	p_int(x, day_numbers ? x->today - k : time_local_day_start(x->today - k));
}

static void days(struct ctx *x, const char *col, bool dn, const char *op, const json_t *v)
{
	int64_t k = json_integer_value(v);
	x->out->time_based = true;
	switch (cmp_op(op)) {
	case 0: /* = */
		days_ge(x, col, dn, k);
		sql(x, " AND ");
		days_le(x, col, dn, k);
		return;
	case 1: /* != */
		sql(x, col);
		sql(x, " IS NOT NULL AND NOT (");
		days_ge(x, col, dn, k);
		sql(x, " AND ");
		days_le(x, col, dn, k);
		sql(x, ")");
		return;
	case 2: /* > */
		days_ge(x, col, dn, k + 1);
		return;
	case 3:
		days_ge(x, col, dn, k);
		return;
	case 4: /* < */
		if (k == 0)
			sql(x, "0");
		else
			days_le(x, col, dn, k - 1);
		return;
	case 5:
		days_le(x, col, dn, k);
		return;
	}
	/* between */
	days_ge(x, col, dn, json_integer_value(json_array_get(v, 0)));
	sql(x, " AND ");
	days_le(x, col, dn, json_integer_value(json_array_get(v, 1)));
}

/* Birthdays within the next days lo..hi (0 is today), as month*100+day: the
 * days of the window run as at most two ranges of that number (two when the
 * window crosses New Year; one covering the year when it is a year long).
 * Numbers between the real dates of a range (1132..1200) are no one's. */
static void birthdays(struct ctx *x, int64_t lo, int64_t hi)
{
	x->out->time_based = true;
	int64_t from[2], to[2];
	int n = 0;
	if (hi - lo > 366)
		hi = lo + 366;
	for (int64_t d = lo; d <= hi; d++) {
		int y, m, dd;
		time_civil_from_days(x->today + d, &y, &m, &dd);
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		int64_t md = m * 100 + dd;
		/* 29 February birthdays are kept on the 28th in other years */
		int64_t md_hi = m == 2 && dd == 28 && !leap ? 229 : md;
		if (n > 0 && md >= to[n - 1]) {
			to[n - 1] = md_hi;
		} else if (n < 2) {
			from[n] = md;
			to[n++] = md_hi;
		} else { /* a window longer than a year: every day */
			from[0] = 101;
			to[0] = 1231;
			n = 1;
			break;
		}
	}
	sql(x, "(");
	for (int i = 0; i < n; i++) {
		sql(x, i ? " OR " : "");
		sql(x, "(c.birth_month * 100 + c.birth_day) BETWEEN ");
		p_int(x, from[i]);
		sql(x, " AND ");
		p_int(x, to[i]);
	}
	sql(x, ")");
}

static void coupon_window(struct ctx *x, int64_t from_day, int64_t to_day)
{
	x->out->time_based = true;
	sql_set(x, "cp.customer_id FROM coupons cp", "cp.customer_id = c.id");
	sql(x, "cp.status = 'active' AND cp.customer_id IS NOT NULL AND cp.expires_at >= ");
	p_int(x, x->now);
	if (from_day > 0) {
		sql(x, " AND cp.expires_at >= ");
		p_int(x, time_local_day_start(x->today + from_day));
	}
	if (to_day >= 0) {
		sql(x, " AND cp.expires_at <= ");
		p_int(x, time_local_day_end(x->today + to_day));
	}
	sql(x, ")");
}

/* The stages reached by comparing with a stage of the journey. */
static void stages(struct ctx *x, const char *op, const json_t *v)
{
	json_t *list = as_list(op, v);
	json_t *set = json_array();
	int c = cmp_op(op);
	for (int s = 0; s < 6; s++) {
		bool in = false;
		if (c >= 2) {
			int r = core_stage_rank(json_string_value(v));
			in = (c == 2 && s > r) || (c == 3 && s >= r) || (c == 4 && s < r) ||
			     (c == 5 && s <= r);
		} else {
			for (size_t i = 0; i < json_array_size(list); i++)
				in = in || core_stage_rank(
				               json_string_value(json_array_get(list, i))) == s;
			in = negated(op) ? !in : in;
		}
		if (in)
			json_array_append_new(set, json_string(core_stages[s]));
	}
	if (json_array_size(set) == 0)
		sql(x, "0");
	else
		in_list(x, "c.stage", set, true);
	json_decref(set);
	json_decref(list);
}

static int leaf(struct ctx *x, const json_t *n, const char *path)
{
	static const struct jkey {
		const char *name;
	} allowed[] = {{"field"}, {"op"}, {"value"}};
	char p[PATH_LEN], dotted[80];
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)n, k, v)
	{
		bool ok = false;
		for (size_t i = 0; i < 3; i++)
			ok = ok || strcmp(k, allowed[i].name) == 0;
		if (!ok) {
			snprintf(dotted, sizeof dotted, ".%.70s", k);
			path_join(p, path, dotted);
			return fail(
			    x, p, "unknown key '%s'; a condition is {\"field\", \"op\", \"value\"}",
			    k);
		}
	}
	const json_t *jfield = json_object_get(n, "field"), *jop = json_object_get(n, "op");
	const char *field = json_string_value(jfield);
	const char *op = json_string_value(jop);
	const json_t *value = json_object_get(n, "value");
	path_join(p, path, ".field");
	/* names with a NUL in them would be read cut short ("attrs.a\u0000b") */
	if (field && strlen(field) != json_string_length(jfield))
		return fail(x, p, "%s must not contain a NUL character", p);
	if (op && strlen(op) != json_string_length(jop))
		op = NULL;
	if (!field)
		return fail(
		    x, p,
		    "%s is required: one of order_count, total_spent_cents, points_balance, "
		    "wallet_balance_cents, days_since_last_order, days_since_first_order, "
		    "days_since_created, days_since_last_checkin, birthday_month, "
		    "birthday_in_days, stage, tier, tag, source_channel_id, owner_user_id, "
		    "platform, category, gender, group_id, coupon_expiring_in_days, attrs.<key>",
		    p);
	struct fdef attr = {field, F_ATTR, NULL};
	const struct fdef *f = NULL;
	for (size_t i = 0; i < SCRM_ARRAY_LEN(fields); i++)
		if (strcmp(fields[i].name, field) == 0)
			f = &fields[i];
	if (!f && strncmp(field, "attrs.", 6) == 0) {
		const char *key = field + 6;
		size_t kl = strlen(key);
		bool ok = kl >= 1 && kl <= 64;
		for (const char *c = key; *c && ok; c++)
			ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '_';
		if (!ok)
			return fail(x, p,
			            "%s: an attrs key is 1 to 64 characters of A-Z, a-z, 0-9 and _",
			            p);
		f = &attr;
	}
	if (!f)
		return fail(
		    x, p,
		    "unknown field '%s'; fields: order_count, total_spent_cents, "
		    "points_balance, wallet_balance_cents, days_since_last_order, "
		    "days_since_first_order, days_since_created, days_since_last_checkin, "
		    "birthday_month, birthday_in_days, stage, tier, tag, source_channel_id, "
		    "owner_user_id, platform, category, gender, group_id, "
		    "coupon_expiring_in_days, attrs.<key>",
		    field);
	path_join(p, path, ".op");
	const char *ops = ops_of(f->type);
	bool op_ok = false;
	if (op) {
		/* a word of the list, not a part of one */
		size_t ol = strlen(op);
		for (const char *s = ops; *s;) {
			size_t wl = strcspn(s, " ");
			op_ok = op_ok || (wl == ol && strncmp(s, op, ol) == 0);
			s += wl + (s[wl] == ' ');
		}
	}
	if (!op_ok)
		return fail(x, p, "%s must be one of %s for %s", p, ops, field);
	path_join(p, path, ".value");
	bool exists = strcmp(op, "exists") == 0, between = strcmp(op, "between") == 0,
	     list = strcmp(op, "in") == 0 || strcmp(op, "not_in") == 0;
	if (exists) {
		if (value && !json_is_boolean(value))
			return fail(x, p, "%s must be true or false (or left out) for exists", p);
	} else if (!value) {
		return fail(x, p, "%s is required", p);
	}
	static const enum vkind kinds[] = {
	    [F_NUM] = V_INT,           [F_ID] = V_ID,
	    [F_DAYS_TS] = V_DAYS,      [F_DAYS_DAY] = V_DAYS,
	    [F_BMONTH] = V_MONTH,      [F_BDAYS] = V_BDAYS,
	    [F_STAGE] = V_STAGE,       [F_TIER] = V_NAME_OR_ID,
	    [F_TAG] = V_NAME_OR_ID,    [F_PLATFORM] = V_PLATFORM,
	    [F_CATEGORY] = V_CATEGORY, [F_GENDER] = V_GENDER,
	    [F_GROUP] = V_ID,          [F_COUPON_EXP] = V_DAYS,
	    [F_ATTR] = V_SCALAR,
	};
	enum vkind vk = kinds[f->type];
	if (!exists && (between ? check_range(x, value, vk, p)
	                : list  ? check_list(x, value, vk, p)
	                        : check_value(x, value, vk, p)) < 0)
		return -1;
	bool want = !exists || !value || json_is_true(value);

	sql(x, "coalesce((");
	json_t *vl;
	char expr[160];
	switch (f->type) {
	case F_NUM:
		compare(x, f->col, op, value);
		break;
	case F_ID:
		if (exists) {
			sql(x, f->col);
			sql(x, want ? " IS NOT NULL" : " IS NULL");
		} else if (negated(op)) {
			/* no owner is also "not owned by 2" */
			sql(x, f->col);
			sql(x, " IS NULL OR NOT ");
			vl = as_list(op, value);
			in_list(x, f->col, vl, false);
			json_decref(vl);
		} else {
			vl = as_list(op, value);
			in_list(x, f->col, vl, false);
			json_decref(vl);
		}
		break;
	case F_DAYS_TS:
	case F_DAYS_DAY:
		if (exists) {
			sql(x, f->col);
			sql(x, want ? " IS NOT NULL" : " IS NULL");
		} else {
			days(x, f->col, f->type == F_DAYS_DAY, op, value);
		}
		break;
	case F_BMONTH:
		if (exists) {
			sql(x, want ? "c.birth_month IS NOT NULL" : "c.birth_month IS NULL");
			break;
		}
		vl = as_list(op, value);
		for (size_t i = 0; i < json_array_size(vl); i++) {
			if (json_is_string(json_array_get(vl, i))) { /* "current" */
				int y, m, d;
				time_local_ymd(x->now, &y, &m, &d);
				json_array_set_new(vl, i, json_integer(m));
				x->out->time_based = true;
			}
		}
		if (negated(op))
			sql(x, "c.birth_month IS NOT NULL AND NOT ");
		in_list(x, "c.birth_month", vl, false);
		json_decref(vl);
		break;
	case F_BDAYS: {
		int64_t lo = 0, hi = json_integer_value(value);
		if (between) {
			lo = json_integer_value(json_array_get(value, 0));
			hi = json_integer_value(json_array_get(value, 1));
		} else if (strcmp(op, "<") == 0) {
			hi -= 1;
		} else if (strcmp(op, "=") == 0) {
			lo = hi;
		}
		if (hi < lo)
			sql(x, "0");
		else
			birthdays(x, lo, hi);
		break;
	}
	case F_STAGE:
		stages(x, op, value);
		break;
	case F_TIER:
		if (exists) {
			sql(x, want ? "c.tier_id IS NOT NULL" : "c.tier_id IS NULL");
			break;
		}
		if (negated(op))
			sql(x, "c.tier_id IS NULL OR NOT ");
		vl = as_list(op, value);
		ids_or_names(x, vl, "c.tier_id IN (SELECT id FROM tiers WHERE");
		json_decref(vl);
		break;
	case F_TAG:
		x->out->reads_tags = true;
		/* the first 62 tags are bits of c.tag_mask; later ones are looked up */
		if (negated(op))
			sql(x, "NOT ");
		vl = as_list(op, value);
		ids_or_names(x, vl,
		             "((c.tag_mask & (SELECT coalesce(sum(1 << (id - 1)), 0) FROM tags"
		             " WHERE id <= 62 AND");
		sql(x, ") != 0 OR ");
		sql_set(x, "ct.customer_id FROM customer_tags ct", "ct.customer_id = c.id");
		ids_or_names(x, vl, "ct.tag_id IN (SELECT id FROM tags WHERE id > 62 AND");
		sql(x, "))");
		json_decref(vl);
		break;
	case F_PLATFORM:
	case F_CATEGORY:
		vl = as_list(op, value);
		snprintf(expr, sizeof expr,
		         "(%s & (SELECT coalesce(sum(1 << bit), 0) FROM purchase_keys"
		         " WHERE kind = '%s' AND name",
		         f->type == F_PLATFORM ? "c.platform_mask" : "c.category_mask",
		         f->type == F_PLATFORM ? "platform" : "category");
		sql(x, expr);
		in_list(x, "", vl, true);
		sql(x, negated(op) ? ")) = 0" : ")) != 0");
		json_decref(vl);
		break;
	case F_GENDER:
		vl = as_list(op, value);
		if (negated(op))
			sql(x, "NOT ");
		in_list(x, "c.gender", vl, true);
		json_decref(vl);
		break;
	case F_GROUP:
		vl = as_list(op, value);
		if (negated(op))
			sql(x, "NOT ");
		sql_set(x, "gm.customer_id FROM group_members gm", "gm.customer_id = c.id");
		in_list(x, "gm.group_id", vl, false);
		sql(x, ")");
		json_decref(vl);
		break;
	case F_COUPON_EXP: {
		if (exists) {
			if (!want)
				sql(x, "NOT ");
			coupon_window(x, 0, -1);
			break;
		}
		int64_t lo = 0, hi = json_integer_value(value);
		if (between) {
			lo = json_integer_value(json_array_get(value, 0));
			hi = json_integer_value(json_array_get(value, 1));
		} else if (strcmp(op, "<") == 0) {
			hi -= 1;
		}
		if (hi < lo)
			sql(x, "0");
		else
			coupon_window(x, lo, hi);
		break;
	}
	case F_ATTR: {
		x->out->reads_attrs = true;
		/* the JSON path is a parameter too: no key ever becomes SQL text */
		struct buf path_param = {0};
		buf_printf(&path_param, "$.%s", field + 6);
		if (exists) {
			sql(x, "json_type(c.attrs, ");
			p_text(x, path_param.data);
			sql(x, want ? ") IS NOT NULL" : ") IS NULL");
		} else {
			/* one parameter for the path, used wherever the expression is */
			struct rule_param *pp = param_slot(x);
			pp->type = RP_TEXT;
			pp->s = xstrdup(path_param.data);
			struct buf e2 = {0};
			buf_printf(&e2, "json_extract(c.attrs, ?%zu)", x->out->nparams);
			compare(x, e2.data, op, value);
			buf_clear(&e2);
		}
		buf_clear(&path_param);
		break;
	}
	}
	sql(x, "), 0)");
	return 0;
}

static int node(struct ctx *x, const json_t *n, const char *path, int depth)
{
	if (depth > RULES_MAX_DEPTH)
		return fail(x, path, "%s: rules nest %d levels deep at most", path,
		            RULES_MAX_DEPTH);
	if (++x->nodes > RULES_MAX_NODES)
		return fail(x, path, "%s: a rule holds %d conditions at most", path,
		            RULES_MAX_NODES);
	if (x->out->nparams > RULES_MAX_PARAMS)
		return fail(x, path, "%s: the rule is too large", path);
	if (!json_is_object(n))
		return fail(x, path,
		            "%s must be an object: {\"all\": [...]}, {\"any\": [...]}, "
		            "{\"not\": {...}} or {\"field\", \"op\", \"value\"}",
		            path);
	const json_t *all = json_object_get(n, "all"), *any = json_object_get(n, "any"),
	             *not = json_object_get(n, "not");
	char p[PATH_LEN];
	if (all || any) {
		if (json_object_size(n) != 1)
			return fail(x, path, "%s: all/any stand alone in their object", path);
		const json_t *list = all ? all : any;
		path_join(p, path, all ? ".all" : ".any");
		if (!json_is_array(list) || json_array_size(list) < 1)
			return fail(x, p, "%s must be a list of at least one condition", p);
		sql(x, "(");
		for (size_t i = 0; i < json_array_size(list); i++) {
			if (i)
				sql(x, all ? " AND " : " OR ");
			char q[PATH_LEN];
			path_index(q, p, i);
			if (node(x, json_array_get(list, i), q, depth + 1) < 0)
				return -1;
		}
		sql(x, ")");
		return 0;
	}
	if (not ) {
		if (json_object_size(n) != 1)
			return fail(x, path, "%s: not stands alone in its object", path);
		path_join(p, path, ".not");
		sql(x, "NOT (");
		if (node(x, not, p, depth + 1) < 0)
			return -1;
		sql(x, ")");
		return 0;
	}
	return leaf(x, n, path);
}

void rule_sql_clear(struct rule_sql *r)
{
	if (!r)
		return;
	free(r->where);
	free(r->where_one);
	for (size_t i = 0; i < r->nparams; i++)
		free(r->params[i].s);
	free(r->params);
	memset(r, 0, sizeof *r);
}

int rules_compile(const json_t *rule, const char *path, int64_t now, struct rule_sql *out,
                  struct core_err *e)
{
	memset(out, 0, sizeof *out);
	struct ctx x = {.out = out, .e = e, .now = now, .today = time_local_day(now)};
	if (node(&x, rule, path, 1) < 0) {
		buf_clear(&x.sql);
		buf_clear(&x.one);
		rule_sql_clear(out);
		return -1;
	}
	out->where = buf_steal(&x.sql);
	out->where_one = buf_steal(&x.one);
	return 0;
}
