/* template.c - {{placeholder}} templates for SOP messages and tasks. */
#include "scrm/core_template.h"

#include "scrm/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *const tmpl_fields[] = {
    "name",        "phone_tail",  "points_balance",    "wallet_balance",   "tier",
    "stage",       "order_count", "total_spent",       "birthday",         "last_order_date",
    "coupon.name", "coupon.code", "coupon.expires_at", "coupon.days_left", "sop.name",
    NULL};

/* The placeholder starting at p (just after "{{"): its name without the
 * spaces around it in [*from, *to), and the text after its "}}" in *next.
 * False when there is no "}}" on the way. */
static bool placeholder(const char *p, const char **from, const char **to, const char **next)
{
	const char *end = strstr(p, "}}");
	if (!end)
		return false;
	const char *a = p, *b = end;
	while (a < b && *a == ' ')
		a++;
	while (b > a && b[-1] == ' ')
		b--;
	*from = a;
	*to = b;
	*next = end + 2;
	return true;
}

static const char *known(const char *from, const char *to)
{
	size_t n = (size_t)(to - from);
	for (size_t i = 0; tmpl_fields[i]; i++)
		if (strlen(tmpl_fields[i]) == n && memcmp(tmpl_fields[i], from, n) == 0)
			return tmpl_fields[i];
	return NULL;
}

int tmpl_check(const char *t, char *err, size_t errlen)
{
	for (const char *p = strstr(t, "{{"); p; p = strstr(p, "{{")) {
		const char *from, *to, *next;
		if (!placeholder(p + 2, &from, &to, &next)) {
			snprintf(err, errlen, "a \"{{\" is not closed by \"}}\"");
			return -1;
		}
		if (!known(from, to)) {
			int n = (int)(to - from);
			snprintf(err, errlen,
			         "{{%.*s}} is not a placeholder; known: name, phone_tail, "
			         "points_balance, wallet_balance, tier, stage, order_count, "
			         "total_spent, "
			         "birthday, last_order_date, coupon.name, coupon.code, "
			         "coupon.expires_at, "
			         "coupon.days_left, sop.name",
			         n > 40 ? 40 : n, from);
			return -1;
		}
		p = next;
	}
	return 0;
}

char *tmpl_render(const char *t, tmpl_value_fn value, void *arg)
{
	struct buf out = {0};
	const char *p = t;
	for (const char *q = strstr(p, "{{"); q; q = strstr(p, "{{")) {
		const char *from, *to, *next;
		const char *field = placeholder(q + 2, &from, &to, &next) ? known(from, to) : NULL;
		if (!field) { /* not one of ours: written as it is */
			buf_append(&out, p, (size_t)(q + 2 - p));
			p = q + 2;
			continue;
		}
		buf_append(&out, p, (size_t)(q - p));
		const char *v = value(arg, field);
		if (v)
			buf_puts(&out, v);
		p = next;
	}
	buf_puts(&out, p);
	return out.data ? buf_steal(&out) : xstrdup("");
}
