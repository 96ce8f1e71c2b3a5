/* http_auth.h - turning request credentials into a principal. */
#ifndef SCRM_HTTP_AUTH_H
#define SCRM_HTTP_AUTH_H

#include "scrm/http.h"

#define HTTP_SESSION_COOKIE "scrm_session"

enum auth_result { AUTH_NONE, AUTH_OK, AUTH_BAD };

/* Resolve an Authorization header (Bearer token) or, failing that, the session
 * cookie from a Cookie header. AUTH_BAD: credentials were sent but are unknown,
 * revoked, expired or belong to a disabled user. Bumps last-use times lazily. */
enum auth_result http_auth_resolve(const char *authorization, const char *cookie,
                                   struct principal *who);
/* Fill a principal for a user reached through a session. */
void http_principal_user(struct principal *who, int64_t user_id, const char *username,
                         const char *role, int64_t session_id, const char *csrf);
/* Extract the value of cookie name from a Cookie header into out; false if absent. */
bool http_cookie_get(const char *header, const char *name, char *out, size_t cap);

#endif
