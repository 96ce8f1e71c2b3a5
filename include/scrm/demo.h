/* demo.h - synthetic demo data for a sock brand's private domain (scrmd demo-data).
 *
 * core/demo.c generates the data: channels, three operators, community groups,
 * customers with their orders, tags, timeline, group memberships and activity,
 * KOC ambassadors with their referred orders and commission ledger, all from a
 * seeded PRNG and the end date, so the same
 * seed and end date give the same rows. store/demo.c bulk-loads them into an
 * empty customer base in one transaction. Nothing here reads the wall clock or a
 * cryptographic random source, except the operators' passwords (random, hashed,
 * never shown) and the audit rows, which say when the load really happened. */
#ifndef SCRM_DEMO_H
#define SCRM_DEMO_H

#include <stdbool.h>
#include <stdint.h>

#define DEMO_MAX_CUSTOMERS 10000000

struct demo_opts {
	int64_t customers; /* 1 .. DEMO_MAX_CUSTOMERS */
	uint64_t seed;
	int64_t end;                /* Unix seconds of a day's 00:00 UTC; every time is before it */
	unsigned pbkdf2_iterations; /* for the operators' password hashes */
	bool progress;              /* a line on stderr about every 10% */
};

struct demo_summary {
	int64_t customers, orders, bound_orders, tags, tag_links, events;
	int64_t channels, users_created;
	int64_t groups, group_members, group_activity;
	int64_t ambassadors, referred_orders; /* referred: orders with a commission row */
	double seconds;
};

/* Generate and load the demo data. Returns 0 (sum filled), 1 if the database
 * already has customers (nothing written), or -1 on a store error (logged; the
 * load is rolled back as a whole). */
int demo_generate(const struct demo_opts *o, struct demo_summary *sum);

/* ---- The bulk loader (store/demo.c). Strings are borrowed for the call. ---- */

struct store_demo;
struct audit_entry;

struct demo_user {
	const char *username, *display_name, *role, *password_hash;
	int64_t created_at;
};

struct demo_channel {
	const char *name, *kind, *code, *contact_url;
	int64_t units, cost_cents, created_at;
};

struct demo_tag {
	const char *name, *group, *color;
	int64_t created_at;
};

/* Zero means NULL for birth_month, birth_day, source_channel_id, owner_user_id,
 * first_order_at and last_order_at; NULL strings are stored as NULL. */
struct demo_customer {
	const char *name, *phone, *email, *unionid, *gender, *birthday, *stage, *attrs;
	int birth_month, birth_day;
	int64_t source_channel_id, owner_user_id;
	int64_t order_count, total_spent_cents, first_order_at, last_order_at;
	int64_t created_at, updated_at;
	int64_t platform_mask, category_mask; /* what the paid orders were bought on and in */
};

/* customer_id 0 is an unbound order (bound_at and bound_by are then stored NULL). */
struct demo_order {
	const char *platform, *external_id, *buyer_phone, *status, *items, *bound_by;
	const char *referral_code; /* NULL: none */
	int64_t customer_id, amount_cents, paid_at, bound_at, created_at, updated_at;
};

struct demo_event {
	int64_t customer_id, at, ref_id; /* ref_id 0 = NULL */
	const char *kind, *ref_type, *data;
};

/* owner_user_id 0 is NULL; updated_at is created_at. */
struct demo_group {
	const char *name, *kind;
	int64_t owner_user_id, created_at;
};

/* referred_orders and referred_gmv_cents start at 0: the commit works them out. */
struct demo_ambassador {
	const char *referral_code;
	int64_t customer_id, level, commission_pct, created_at, updated_at;
};

struct demo_commission {
	const char *kind, *status;
	int64_t ambassador_id, order_id, amount_cents, order_cents, settle_at, created_at,
	    updated_at;
};

/* Customers in the database, on a short-lived connection of its own; -1 on error. */
int64_t store_demo_customer_count(void);

/* Start a load on a connection of its own: rollback journal instead of WAL when
 * no other connection is open (the new pages are then written once), BEGIN
 * IMMEDIATE, refuse with ST_CONFLICT if customers exist, drop the secondary
 * indexes of the tables about to be filled (they are rebuilt by the commit).
 * Returns enum st_rc; *out is set (caller owns it) only on ST_OK. */
int store_demo_begin(int64_t cache_mb, struct store_demo **out);
/* The id of a user by name, 0 if there is none, -1 on error. */
int64_t store_demo_user_find(struct store_demo *ld, const char *username);
/* Insert and return the new id in *id (every insert below does the same). */
int store_demo_user_insert(struct store_demo *ld, const struct demo_user *u, int64_t *id);
/* Channels by code and tags by name are reused when they exist already. */
int store_demo_channel_put(struct store_demo *ld, const struct demo_channel *c, int64_t *id);
int store_demo_tag_put(struct store_demo *ld, const struct demo_tag *t, int64_t *id);
int store_demo_customer_insert(struct store_demo *ld, const struct demo_customer *c, int64_t *id);
/* The bit of a platform or category name for the purchase bitmasks. */
int store_demo_purchase_key(struct store_demo *ld, const char *kind, const char *name, int bit);
int store_demo_order_insert(struct store_demo *ld, const struct demo_order *o, int64_t *id);
/* Through the table's triggers, so tags.customer_count stays exact. */
int store_demo_customer_tag_insert(struct store_demo *ld, int64_t customer_id, int64_t tag_id,
                                   int64_t at);
int store_demo_event_insert(struct store_demo *ld, const struct demo_event *e);
int store_demo_group_insert(struct store_demo *ld, const struct demo_group *g, int64_t *id);
int store_demo_group_member_insert(struct store_demo *ld, int64_t group_id, int64_t customer_id,
                                   int64_t joined_at);
int store_demo_group_activity_insert(struct store_demo *ld, int64_t group_id, int64_t customer_id,
                                     int64_t at, const char *kind);
int store_demo_ambassador_insert(struct store_demo *ld, const struct demo_ambassador *a,
                                 int64_t *id);
int store_demo_commission_insert(struct store_demo *ld, const struct demo_commission *c);
int store_demo_audit(struct store_demo *ld, const struct audit_entry *e);
/* Work out every ambassador's referred orders, GMV, level and updated_at from
 * the commission ledger, rebuild the dropped indexes and the analytics figures,
 * commit, go back to WAL, ANALYZE and checkpoint (note(phase) is called before
 * the slow steps when given). Closes the loader whatever the outcome: ld is
 * freed. Returns enum st_rc. */
int store_demo_commit(struct store_demo *ld, void (*note)(const char *phase));
/* Roll back and close an unfinished load; NULL is fine. */
void store_demo_abort(struct store_demo *ld);

#endif
