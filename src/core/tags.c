/* tags.c - putting tags on customers and taking them off. Auto tags follow
 * their rule and cannot be set by hand. */
#include "scrm/core.h"

#include "scrm/core_auth.h"
#include "scrm/util.h"

#include <stdio.h>
#include <string.h>

#define TAG_NAME_MAX 50

/* Tag t on the customer, with a timeline event when it is new. */
static int put(struct store_db *db, int64_t customer_id, const struct tag *t, int64_t now,
               size_t *added, struct core_err *e)
{
	int st = store_customer_tag_add(db, customer_id, t->id, now);
	if (st == ST_CONFLICT)
		return 0;
	if (st != ST_OK)
		return core_store_fail(e, st);
	(*added)++;
	return core_event(db, customer_id, now, "tag.added", "tag", t->id,
	                  json_pack("{s:s}", "name", t->name), e);
}

static int live(struct store_db *db, int64_t customer_id, struct core_err *e)
{
	struct customer c = {0};
	int rc = core_customer_load(db, customer_id, &c, e);
	customer_clear(&c);
	return rc;
}

int core_customer_tag_ids(struct store_db *db, int64_t customer_id, const int64_t *ids, size_t n,
                          int64_t now, size_t *added, struct core_err *e)
{
	*added = 0;
	if (live(db, customer_id, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct tag t = {0};
		int st = store_tag_get(db, ids[i], &t);
		int rc = 0;
		snprintf(e->path, sizeof e->path, "tag_ids[%zu]", i);
		if (st == ST_NOT_FOUND)
			rc = core_fail(e, CORE_INVALID, e->path, "no tag with id %lld",
			               (long long)ids[i]);
		else if (st != ST_OK)
			rc = core_store_fail(e, st);
		else if (strcmp(t.kind, "manual") != 0)
			rc = core_fail(e, CORE_INVALID, e->path,
			               "%s is an auto tag: its rule decides who has it", t.name);
		else
			rc = put(db, customer_id, &t, now, added, e);
		tag_clear(&t);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int core_customer_tag_names(struct store_db *db, int64_t customer_id, const char *const *names,
                            size_t n, int64_t now, size_t *added, struct core_err *e)
{
	*added = 0;
	for (size_t i = 0; i < n; i++) {
		const char *why = core_label_problem(names[i], TAG_NAME_MAX, false);
		if (why) {
			snprintf(e->path, sizeof e->path, "names[%zu]", i);
			return core_fail(e, CORE_INVALID, e->path,
			                 "a tag name %s (%d characters at most)", why,
			                 TAG_NAME_MAX);
		}
	}
	if (live(db, customer_id, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct tag t = {0};
		int st = store_tag_by_name(db, names[i], &t);
		int rc = 0;
		if (st == ST_NOT_FOUND) {
			t.name = xstrdup(names[i]);
			t.kind = xstrdup("manual");
			t.created_at = now;
			st = store_tag_insert(db, &t);
		}
		snprintf(e->path, sizeof e->path, "names[%zu]", i);
		if (st != ST_OK)
			rc = core_store_fail(e, st);
		else if (strcmp(t.kind, "manual") != 0)
			rc = core_fail(e, CORE_INVALID, e->path,
			               "%s is an auto tag: its rule decides who has it", t.name);
		else
			rc = put(db, customer_id, &t, now, added, e);
		tag_clear(&t);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int core_customer_untag(struct store_db *db, int64_t customer_id, int64_t tag_id, int64_t now,
                        struct core_err *e)
{
	if (live(db, customer_id, e) < 0)
		return -1;
	struct tag t = {0};
	int st = store_tag_get(db, tag_id, &t);
	int rc = 0;
	if (st == ST_NOT_FOUND)
		rc = core_fail(e, CORE_NOT_FOUND, NULL, "no such tag");
	else if (st != ST_OK)
		rc = core_store_fail(e, st);
	else if (strcmp(t.kind, "manual") != 0)
		rc = core_fail(e, CORE_INVALID, NULL,
		               "%s is an auto tag: its rule decides who has it", t.name);
	else if ((st = store_customer_tag_remove(db, customer_id, tag_id)) == ST_OK)
		rc = core_event(db, customer_id, now, "tag.removed", "tag", tag_id,
		                json_pack("{s:s}", "name", t.name), e);
	else if (st != ST_NOT_FOUND)
		rc = core_store_fail(e, st);
	tag_clear(&t);
	return rc;
}
