/* core.h - the business operations on customers, orders and tags. Each runs
 * inside a write transaction (a store_write closure): it checks the rules,
 * changes the records, keeps the customer's figures and stage current and
 * writes the timeline, all in that transaction. On a refusal it fills a
 * core_err and returns -1; the caller rolls the transaction part back. */
#ifndef SCRM_CORE_H
#define SCRM_CORE_H

#include "scrm/core_records.h"
#include "scrm/store_records.h"

#include <jansson.h>
#include <stdint.h>

enum core_rc { CORE_OK = 0, CORE_INVALID, CORE_NOT_FOUND, CORE_CONFLICT, CORE_STORE };

struct core_err {
	enum core_rc rc;
	int st;            /* CORE_STORE: the enum st_rc */
	const char *field; /* static or owned by the input */
	char msg[512];
	int64_t id;       /* CORE_CONFLICT: the existing record, if one is meant */
	char path[256];   /* room for a built field path such as rule.all[2].value */
	const char *code; /* CORE_INVALID with its own error code (insufficient_points ...) */
};

/* Fill e and return -1. */
int core_fail(struct core_err *e, enum core_rc rc, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* While a SOP fires on this thread (sop_id 0: none), the timeline entries its
 * actions write carry data.sop_id and data.sop_depth (depth + 1), so that a
 * SOP is not woken by what it did itself and chains of SOPs stop. */
void core_event_cause(int64_t sop_id, int64_t depth);
/* A function called after each timeline entry is written (the SOP scheduler's
 * wake-up); set once at start. It must be quick and must not write. */
void core_on_event(void (*fn)(void));
/* Fill e from a failing store result and return -1. */
int core_store_fail(struct core_err *e, int st);

/* Customers ------------------------------------------------------------------ */

enum customer_field {
	CF_NAME = 1 << 0,
	CF_PHONE = 1 << 1,
	CF_EMAIL = 1 << 2,
	CF_UNIONID = 1 << 3,
	CF_GENDER = 1 << 4,
	CF_BIRTHDAY = 1 << 5,
	CF_CHANNEL = 1 << 6,
	CF_OWNER = 1 << 7,
	CF_STAGE = 1 << 8,
	CF_ATTRS = 1 << 9,
};

/* A create or a merge patch: only fields in `set` are touched; NULL / 0 clears.
 * Strings are borrowed; core_customer_check() normalises into phone_buf. */
struct customer_patch {
	unsigned set;
	const char *name, *phone, *email, *unionid, *gender, *birthday, *stage;
	int64_t source_channel_id, owner_user_id;
	const json_t *attrs; /* an object: merged (RFC 7386) into the stored attrs */
	char phone_buf[CORE_PHONE_MAX];
	int birth_month, birth_day;
};

/* Check and normalise a patch without touching the database. */
int core_customer_check(struct customer_patch *p, struct core_err *e);
/* Create: 0 with *out filled (caller clears), or -1. Orders already waiting
 * with this phone are bound to the new customer. */
int core_customer_create(struct store_db *db, const struct customer_patch *p, int64_t now,
                         struct customer *out, struct core_err *e);
/* Update: *changed (may be NULL) says whether anything was written. */
int core_customer_update(struct store_db *db, int64_t id, const struct customer_patch *p,
                         int64_t now, struct customer *out, bool *changed, struct core_err *e);
/* Load a live customer: NOT_FOUND (saying "merged into N" where so) if absent
 * or erased. */
int core_customer_load(struct store_db *db, int64_t id, struct customer *out, struct core_err *e);
/* One person, two profiles: `from` goes into `into`. */
int core_customer_merge(struct store_db *db, int64_t into, int64_t from, int64_t now,
                        struct customer *out, struct core_err *e);
int core_customer_erase(struct store_db *db, int64_t id, int64_t now, struct core_err *e);

/* Add tags by id or by name (a new name creates a manual tag); counts of the
 * ones newly added in *added. Remove one tag. */
int core_customer_tag_ids(struct store_db *db, int64_t customer_id, const int64_t *ids, size_t n,
                          int64_t now, size_t *added, struct core_err *e);
int core_customer_tag_names(struct store_db *db, int64_t customer_id, const char *const *names,
                            size_t n, int64_t now, size_t *added, struct core_err *e);
int core_customer_untag(struct store_db *db, int64_t customer_id, int64_t tag_id, int64_t now,
                        struct core_err *e);

/* After a customer's orders changed: recount the figures, reload *c and move
 * the stage forward if the orders prove more. */
int core_customer_orders_changed(struct store_db *db, struct customer *c, int64_t now,
                                 struct core_err *e);
/* Bind the unbound orders bought with c's phone to c (then as above). */
int core_customer_bind_waiting(struct store_db *db, struct customer *c, int64_t now,
                               struct core_err *e);

/* The furthest stage the customer's orders prove (never moving back, and past
 * a manual stage only when the orders prove more). Returns the new stage name
 * (static) or NULL when it does not change. */
const char *core_stage_for_orders(const char *current, int64_t paid_orders);

/* Append a timeline event; data may be NULL. Steals data. */
int core_event(struct store_db *db, int64_t customer_id, int64_t at, const char *kind,
               const char *ref_type, int64_t ref_id, json_t *data, struct core_err *e);

/* Orders --------------------------------------------------------------------- */

enum order_field {
	OF_AMOUNT = 1 << 0,
	OF_STATUS = 1 << 1,
	OF_PAID_AT = 1 << 2,
	OF_ITEMS = 1 << 3,
	OF_PHONE = 1 << 4,
	OF_REFERRAL = 1 << 5,
	OF_CUSTOMER = 1 << 6,
};

/* An order as sent by a platform sync or an import line; fields outside `set`
 * keep their stored value on an update. items is compact JSON text. */
struct order_in {
	unsigned set;
	const char *platform, *external_id, *buyer_phone, *status, *items, *referral_code;
	int64_t amount_cents, paid_at, customer_id;
};

enum upsert_result { UPSERT_CREATED, UPSERT_UPDATED, UPSERT_UNCHANGED };

/* Check the items array of an order (sku, name, category, quantity,
 * price_cents) and write its compact text into *out (caller frees); field
 * paths like "items[2].quantity" name the fault. */
int core_order_items(const json_t *items, const char *prefix, char **out, struct core_err *e);
int core_order_upsert(struct store_db *db, const struct order_in *in, int64_t now,
                      struct order *out, enum upsert_result *res, struct core_err *e);
/* The binding flow: the customer says "this order is mine" with the phone it
 * was bought with. *changed is false for a repeat. */
/* Bind an order to a customer (by: phone, bind, customer_id) and write the
 * order.bound event; the caller refreshes the customer. */
int core_order_bind_to(struct store_db *db, struct order *o, int64_t customer_id, const char *by,
                       int64_t now, struct core_err *e);
int core_order_bind(struct store_db *db, int64_t customer_id, const char *platform,
                    const char *external_id, const char *phone, int64_t now, struct order *out,
                    bool *changed, struct core_err *e);

#endif
