/* auth.c - roles and credential rules. */
#include "scrm/core_auth.h"

#include "scrm/util.h"

#include <string.h>

enum role core_role_parse(const char *s)
{
	if (!s)
		return ROLE_NONE;
	if (strcmp(s, "admin") == 0)
		return ROLE_ADMIN;
	if (strcmp(s, "operator") == 0)
		return ROLE_OPERATOR;
	if (strcmp(s, "viewer") == 0)
		return ROLE_VIEWER;
	return ROLE_NONE;
}

const char *core_role_name(enum role r)
{
	switch (r) {
	case ROLE_ADMIN:
		return "admin";
	case ROLE_OPERATOR:
		return "operator";
	case ROLE_VIEWER:
		return "viewer";
	default:
		return "none";
	}
}

const char *core_username_problem(const char *u)
{
	size_t n = strlen(u);
	if (n < 1 || n > 64)
		return "must be 1 to 64 characters";
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '@';
		if (!ok)
			return "may contain only letters, digits and . _ - @";
	}
	return NULL;
}

const char *core_password_problem(const char *p)
{
	size_t n = strlen(p);
	if (!str_utf8_valid(p, n))
		return "must be valid UTF-8";
	if (str_utf8_len(p) < 10)
		return "must be at least 10 characters";
	if (n > 1024)
		return "must be at most 1024 bytes";
	return NULL;
}

const char *core_label_problem(const char *s, unsigned max_chars, bool allow_empty)
{
	size_t n = strlen(s);
	if (!allow_empty && n == 0)
		return "must not be empty";
	if (!str_utf8_valid(s, n))
		return "must be valid UTF-8";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "must not contain control characters";
	if (str_utf8_len(s) > max_chars)
		return "is too long";
	return NULL;
}
