/* growth.c - community groups: membership and activity. */
#include "scrm/core_growth.h"

#include "scrm/core_loyalty.h"
#include "scrm/store_growth.h"
#include "scrm/store_records.h"

#include <jansson.h>

int core_group_join(struct store_db *db, const struct group *g, int64_t customer_id, int64_t now,
                    bool *added, struct core_err *e)
{
	*added = false;
	struct customer c = {0};
	int rc = core_customer_load(db, customer_id, &c, e);
	customer_clear(&c);
	if (rc < 0)
		return -1;
	int n = store_group_member_add(db, g->id, customer_id, now);
	if (n < 0)
		return core_store_fail(e, -n);
	*added = n > 0;
	return n > 0 ? core_event(db, customer_id, now, "group.joined", "group", g->id,
	                          json_pack("{s:s, s:s}", "name", g->name, "kind", g->kind), e)
	             : 0;
}

int core_group_leave(struct store_db *db, const struct group *g, int64_t customer_id, int64_t now,
                     struct core_err *e)
{
	int st = store_group_member_remove(db, g->id, customer_id);
	if (st == ST_NOT_FOUND)
		return core_fail(e, CORE_NOT_FOUND, NULL, "customer %lld is not in the group",
		                 (long long)customer_id);
	if (st != ST_OK)
		return core_store_fail(e, st);
	return core_event(db, customer_id, now, "group.left", "group", g->id,
	                  json_pack("{s:s}", "name", g->name), e);
}

int core_group_activity(struct store_db *db, const struct group *g, int64_t customer_id, int64_t at,
                        const char *kind, int64_t now, bool *recorded, struct core_err *e)
{
	*recorded = false;
	int member = store_group_is_member(db, g->id, customer_id);
	if (member < 0)
		return core_store_fail(e, ST_ERR);
	if (!member)
		return core_fail(e, CORE_INVALID, "customer_id",
		                 "customer %lld is not in the group", (long long)customer_id);
	int n = store_group_activity_add(db, g->id, customer_id, at, kind);
	if (n < 0)
		return core_store_fail(e, -n);
	*recorded = n > 0;
	/* a first interaction: the customer is watching, at least */
	return n > 0 ? core_stage_at_least(db, customer_id, "observing", now, e) : 0;
}
