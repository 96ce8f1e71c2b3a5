/* store_auth.h - persistence of users, sessions, API tokens, the audit log and
 * idempotency records. Functions return enum st_rc: ST_OK, ST_NOT_FOUND and
 * ST_CONFLICT are ordinary outcomes; ST_BUSY, ST_UNAVAILABLE and ST_ERR are
 * failures (already logged). Structs with heap fields pair *_clear(). */
#ifndef SCRM_STORE_AUTH_H
#define SCRM_STORE_AUTH_H

#include "scrm/store.h"

#include <stdbool.h>
#include <stdint.h>

struct user {
	int64_t id;
	char *username, *display_name, *role, *password_hash;
	bool disabled;
	int64_t created_at, updated_at;
};
void user_clear(struct user *u);

int store_user_get(struct store_db *db, int64_t id, struct user *out);
int store_user_by_name(struct store_db *db, const char *username, struct user *out);
/* Inserts u (id, created_at, updated_at are set). ST_CONFLICT: name taken. */
int store_user_insert(struct store_db *db, struct user *u);
/* Writes display_name, role, password_hash, disabled and updated_at of u->id. */
int store_user_update(struct store_db *db, const struct user *u);
int64_t store_user_count(struct store_db *db);
/* Enabled admins other than except_id (0 for all). */
int64_t store_admins_active(struct store_db *db, int64_t except_id);
typedef void (*store_user_cb)(void *arg, const struct user *u);
/* Users with id > after_id in id order, at most limit; returns ST_OK. */
int store_user_list(struct store_db *db, int64_t after_id, int limit, store_user_cb cb, void *arg);

struct session {
	int64_t id, user_id, created_at, last_seen_at, expires_at;
	char *csrf_token;
};
void session_clear(struct session *s);
int store_session_insert(struct store_db *db, const unsigned char hash[32], struct session *s,
                         const char *ip, const char *user_agent);
/* The session with this token hash and its user. */
int store_session_get(struct store_db *db, const unsigned char hash[32], struct session *s,
                      struct user *u);
int store_session_delete(struct store_db *db, int64_t id);
/* Delete every session of a user except keep_id (0: all). */
int store_session_delete_user(struct store_db *db, int64_t user_id, int64_t keep_id);
int store_session_touch(struct store_db *db, int64_t id, int64_t now);
/* Delete sessions past expires_at or idle since before idle_before. */
int store_session_purge(struct store_db *db, int64_t now, int64_t idle_before);

struct api_token {
	int64_t id;
	char *name, *role, *prefix;
	int64_t created_by, created_at, last_used_at, expires_at, revoked_at; /* 0 = none */
};
void api_token_clear(struct api_token *t);
int store_token_insert(struct store_db *db, const unsigned char hash[32], struct api_token *t);
int store_token_by_hash(struct store_db *db, const unsigned char hash[32], struct api_token *t);
int store_token_get(struct store_db *db, int64_t id, struct api_token *t);
typedef void (*store_token_cb)(void *arg, const struct api_token *t);
int store_token_list(struct store_db *db, int64_t after_id, int limit, store_token_cb cb,
                     void *arg);
int64_t store_token_count(struct store_db *db);
int store_token_revoke(struct store_db *db, int64_t id, int64_t now);
int store_token_touch(struct store_db *db, int64_t id, int64_t now);

struct audit_entry {
	int64_t id, at;
	const char *actor, *actor_name, *action, *target_type;
	int64_t target_id;                       /* 0 = none */
	const char *method, *path, *ip, *detail; /* detail: JSON text or NULL */
	int status;
};
int store_audit_insert(struct store_db *db, const struct audit_entry *e);
struct audit_filter {
	const char *actor, *action, *target_type;
	int64_t target_id, from, to; /* 0 = any */
};
typedef void (*store_audit_cb)(void *arg, const struct audit_entry *e);
/* Newest first: entries with id < before_id (0: from the newest). */
int store_audit_list(struct store_db *db, const struct audit_filter *f, int64_t before_id,
                     int limit, store_audit_cb cb, void *arg);
int64_t store_audit_count(struct store_db *db, const struct audit_filter *f);
int store_audit_purge(struct store_db *db, int64_t before);

struct idem_record {
	unsigned char request_hash[32];
	int status;
	char *body, *location;
};
void idem_record_clear(struct idem_record *r);
int store_idem_get(struct store_db *db, const char *principal, const char *key,
                   struct idem_record *out);
int store_idem_put(struct store_db *db, const char *principal, const char *key,
                   const struct idem_record *r, int64_t now);
int store_idem_purge(struct store_db *db, int64_t before);

#endif
