/* store_growth.h - acquisition channels with their live-code scans, and
 * community groups with their members and activity. Strings in the structs
 * are owned by the struct (free with the _clear function). */
#ifndef SCRM_STORE_GROWTH_H
#define SCRM_STORE_GROWTH_H

#include "scrm/store.h"

#include <stdint.h>

struct customer;

/* An acquisition channel (a package card run, an SMS campaign, a QR code, a
 * live code): units sent, what they cost, and the customers it brought. */
struct acq_channel {
	int64_t id;
	char *name, *kind, *code, *contact_url; /* code and contact_url may be NULL */
	int64_t units, cost_cents, created_at, updated_at;
	int64_t customers, scans, scanners; /* read only: counted when read */
};
void acq_channel_clear(struct acq_channel *c);

/* ST_CONFLICT: the code is taken. */
int store_acq_channel_insert(struct store_db *db, struct acq_channel *c);
int store_acq_channel_update(struct store_db *db, const struct acq_channel *c);
int store_acq_channel_get(struct store_db *db, int64_t id, struct acq_channel *out);
int store_acq_channel_by_code(struct store_db *db, const char *code, struct acq_channel *out);
/* ST_CONFLICT while customers name it as their source. */
int store_acq_channel_delete(struct store_db *db, int64_t id);
typedef void (*store_acq_channel_cb)(void *arg, const struct acq_channel *c);
int store_acq_channel_list(struct store_db *db, int64_t after, int limit, store_acq_channel_cb cb,
                           void *arg);
int64_t store_acq_channel_total(struct store_db *db);
int store_channel_scan_add(struct store_db *db, int64_t channel_id, int64_t at,
                           const char *ip_hash);

struct group {
	int64_t id, owner_user_id, created_at, updated_at;
	char *name, *kind;
	int64_t members; /* read only */
};
void group_clear(struct group *g);
int store_group_insert(struct store_db *db, struct group *g);
int store_group_update(struct store_db *db, const struct group *g);
int store_group_get(struct store_db *db, int64_t id, struct group *out);
int store_group_delete(struct store_db *db, int64_t id);
typedef void (*store_group_cb)(void *arg, const struct group *g);
int store_group_list(struct store_db *db, int64_t after, int limit, store_group_cb cb, void *arg);
int64_t store_group_total(struct store_db *db);
/* 1 added, 0 a member already, or -ST_*. */
int store_group_member_add(struct store_db *db, int64_t group_id, int64_t customer_id, int64_t at);
/* ST_OK, or ST_NOT_FOUND when not a member. */
int store_group_member_remove(struct store_db *db, int64_t group_id, int64_t customer_id);
int store_group_is_member(struct store_db *db, int64_t group_id, int64_t customer_id);
/* The members, by customer id after `after`, with when they joined. */
int store_group_members(struct store_db *db, int64_t group_id, int64_t after, int limit,
                        void (*cb)(void *arg, const struct customer *c, int64_t joined_at),
                        void *arg);
/* 1 recorded, 0 the same (member, time, kind) was already, or -ST_*. */
int store_group_activity_add(struct store_db *db, int64_t group_id, int64_t customer_id, int64_t at,
                             const char *kind);

#endif
