/* internal.h - shared by the files of src/api/ only. */
#ifndef SCRM_API_INTERNAL_H
#define SCRM_API_INTERNAL_H

#include "scrm/api.h"
#include "scrm/core.h"
#include "scrm/store_auth.h"

/* The public view of a user (never the password hash). */
json_t *api_user_json(const struct user *u);
/* Check a label field (display name, token name); 0 or a 422 in rs. */
int api_check_label(struct resp *rs, const char *field, const char *value, unsigned max,
		    bool allow_empty);

/* Turn a core refusal into the error answer: 422, 404, 409 (with the existing
 * record's "id" in the error object) or the store's 503/500. */
int api_core_error(struct resp *rs, const struct core_err *e);
/* A positive integer id in a body field; 0 when absent or null. -1 and a 422
 * in rs when it is not a positive integer. */
int64_t api_body_id(const json_t *body, const char *key, struct resp *rs, int *status);

/* The body of POST /orders (also an import line): its field spec, and the
 * reading of a checked body into an order_in (phone and items are buffers the
 * caller provides / frees). 0 or -1 with e filled. */
extern const struct jfield api_order_spec[];
int api_order_read(const json_t *body, struct order_in *in, char phone[CORE_PHONE_MAX],
		   char **items, struct core_err *e);

/* The writable fields of a customer, and the reading of a body checked against
 * them into a checked patch (0, or the error status in rs). */
extern const struct jfield api_customer_spec[];
int api_customer_patch(const json_t *body, struct customer_patch *p, struct resp *rs);

/* Public views. The customer's tags are read with db. */
json_t *api_customer_json(struct store_db *db, const struct customer *c);
json_t *api_order_json(const struct order *o);
json_t *api_tag_json(const struct tag *t);

#endif
