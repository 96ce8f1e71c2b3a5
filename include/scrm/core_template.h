/* core_template.h - message templates: text with {{placeholders}} filled in
 * per customer. Only the known placeholders exist, and a template naming any
 * other is refused when it is saved; values are put in as they are, never
 * read again as template text. */
#ifndef SCRM_CORE_TEMPLATE_H
#define SCRM_CORE_TEMPLATE_H

#include <stddef.h>

/* The known placeholders, NULL-terminated: name, phone_tail, points_balance,
 * wallet_balance, tier, stage, order_count, total_spent, birthday,
 * last_order_date, coupon.name, coupon.code, coupon.expires_at,
 * coupon.days_left, sop.name. */
extern const char *const tmpl_fields[];

/* 0, or -1 with a message for the user in err that names the first unknown
 * placeholder, or an unclosed "{{". Spaces inside the braces are allowed. */
int tmpl_check(const char *t, char *err, size_t errlen);

/* The value of a known placeholder (NULL or "" when the customer has none, as
 * a customer without a tier). */
typedef const char *(*tmpl_value_fn)(void *arg, const char *field);

/* t with every placeholder replaced by its value; caller frees. t must have
 * passed tmpl_check (an unknown placeholder is left as written). */
char *tmpl_render(const char *t, tmpl_value_fn value, void *arg);

#endif
