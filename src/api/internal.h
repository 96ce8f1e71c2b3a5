/* internal.h - shared by the files of src/api/ only. */
#ifndef SCRM_API_INTERNAL_H
#define SCRM_API_INTERNAL_H

#include "scrm/api.h"
#include "scrm/store_auth.h"

/* The public view of a user (never the password hash). */
json_t *api_user_json(const struct user *u);
/* Check a label field (display name, token name); 0 or a 422 in rs. */
int api_check_label(struct resp *rs, const char *field, const char *value, unsigned max,
		    bool allow_empty);

#endif
