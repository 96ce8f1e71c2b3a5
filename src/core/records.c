/* records.c - field rules of the core records. */
#include "scrm/core_records.h"

#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <string.h>

const char *const core_stages[6] = {"added",     "observing", "interested",
                                    "converted", "sharing",   "repurchasing"};

const char *core_phone_normalize(const char *in, char out[CORE_PHONE_MAX])
{
	char d[64];
	size_t n = 0;
	bool plus = false;
	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c >= '0' && c <= '9') {
			if (n + 1 >= sizeof d)
				return "is too long";
			d[n++] = c;
		} else if (c == '+' && n == 0 && !plus) {
			plus = true;
		} else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
			continue;
		} else {
			return "may contain only digits, spaces, dashes, brackets and a leading +";
		}
	}
	d[n] = '\0';
	/* +86 / 0086 / 86 in front of an 11-digit mainland mobile number, and +86
	 * in front of a landline, give the national form */
	size_t skip = 0;
	if (n == 13 && strncmp(d, "86", 2) == 0 && d[2] == '1')
		skip = 2;
	else if (n == 15 && strncmp(d, "0086", 4) == 0 && d[4] == '1')
		skip = 4;
	else if (plus && n >= 2 && strncmp(d, "86", 2) == 0)
		skip = 2;
	if (skip)
		plus = false;
	const char *digits = d + skip;
	size_t len = strlen(digits);
	if (len < 5)
		return "is too short";
	if (len > 20)
		return "is too long";
	if (!plus && len == 11 && digits[0] == '1' && (digits[1] < '3' || digits[1] > '9'))
		return "is not a valid mainland mobile number";
	snprintf(out, CORE_PHONE_MAX, "%s%s", plus ? "+" : "", digits);
	return NULL;
}

/* A phone number or its start as typed ("+86 136-5", "0086 1365"), as phones
 * are stored: its digits without +86, 0086 (or 86 before a whole mobile
 * number) in front; a + stays for other countries. false when no digit is
 * left. */
bool core_phone_prefix(const char *q, char out[CORE_PHONE_MAX])
{
	char d[CORE_PHONE_MAX - 1]; /* room for a + in out */
	size_t n = 0;
	for (const char *p = q; *p && n + 1 < sizeof d; p++)
		if (*p >= '0' && *p <= '9')
			d[n++] = *p;
	d[n] = '\0';
	bool plus = q[strspn(q, " (")] == '+';
	const char *digits = d;
	if (plus && strncmp(d, "86", 2) == 0) {
		digits += 2;
		plus = false;
	} else if (!plus && strncmp(d, "0086", 4) == 0) {
		digits += 4;
	} else if (!plus && n == 13 && strncmp(d, "861", 3) == 0) {
		digits += 2; /* a whole mobile number with 86 in front */
	}
	if (!*digits)
		return false;
	snprintf(out, CORE_PHONE_MAX, "%s%s", plus ? "+" : "", digits);
	return true;
}

const char *core_birthday_parse(const char *s, int *month, int *day)
{
	int y, m, d;
	if (strlen(s) == 7 && s[0] == '-' && s[1] == '-') {
		/* no year: check against a leap year so that 02-29 is allowed */
		char full[16];
		snprintf(full, sizeof full, "2000%s", s + 1);
		if (!time_parse_date(full, &y, &m, &d))
			return "must be YYYY-MM-DD or --MM-DD";
	} else if (!time_parse_date(s, &y, &m, &d) || y < 1900 || y > 2100) {
		return "must be YYYY-MM-DD (1900 to 2100) or --MM-DD";
	}
	*month = m;
	*day = d;
	return NULL;
}

const char *core_email_problem(const char *s)
{
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	if (n < 3 || n > 254 || !at || at == s || !at[1] || strchr(at + 1, '@') || !strchr(at, '.'))
		return "must be an e-mail address such as name@example.com";
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return "must not contain spaces or control characters";
	return NULL;
}

const char *core_platform_problem(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 32)
		return "must be 1 to 32 characters of a-z, 0-9 and _ (tmall, douyin, jd, wechat "
		       "...)";
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return "must be 1 to 32 characters of a-z, 0-9 and _ (tmall, douyin, jd, "
			       "wechat ...)";
	return NULL;
}

const char *core_external_id_problem(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 128)
		return "must be 1 to 128 characters";
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return "must not contain spaces or control characters";
	return NULL;
}

const char *core_color_problem(const char *s)
{
	if (strlen(s) != 7 || s[0] != '#')
		return "must be a colour such as #3370ff";
	for (int i = 1; i < 7; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return "must be a colour such as #3370ff";
	}
	return NULL;
}

bool core_gender_valid(const char *s)
{
	return s && (strcmp(s, "m") == 0 || strcmp(s, "f") == 0 || strcmp(s, "u") == 0);
}

bool core_order_status_valid(const char *s)
{
	return s && (strcmp(s, "paid") == 0 || strcmp(s, "refunded") == 0 ||
	             strcmp(s, "cancelled") == 0);
}

int core_stage_rank(const char *s)
{
	for (int i = 0; s && i < 6; i++)
		if (strcmp(s, core_stages[i]) == 0)
			return i;
	return -1;
}
