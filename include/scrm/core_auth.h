/* core_auth.h - the rules of who may do what: roles and their order, and what a
 * user name or password must look like. No I/O. */
#ifndef SCRM_CORE_AUTH_H
#define SCRM_CORE_AUTH_H

#include <stdbool.h>

/* Ordered: a role may do everything the roles below it may. */
enum role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_OPERATOR = 2, ROLE_ADMIN = 3 };

/* "admin" | "operator" | "viewer" -> role; ROLE_NONE for anything else. */
enum role core_role_parse(const char *s);
const char *core_role_name(enum role r); /* static string; "none" for ROLE_NONE */

/* NULL if acceptable, else a static message saying what is allowed. */
const char *core_username_problem(const char *username);
const char *core_password_problem(const char *password);
/* Display names and token names: 1..max code points, no control characters. */
const char *core_label_problem(const char *s, unsigned max_chars, bool allow_empty);

#endif
