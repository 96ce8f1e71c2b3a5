/* audit.c - GET /audit-log (admin): every write, newest first. */
#include "internal.h"

#include "scrm/util.h"

#include <string.h>

static void add_entry(void *arg, const struct audit_entry *e)
{
	json_t *data = arg;
	json_t *detail = NULL;
	if (e->detail)
		detail = json_loads(e->detail, 0, NULL);
	json_t *o = json_pack(
	    "{s:I, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)e->id,
	    "created_at", api_time(e->at), "actor", e->actor, "actor_name",
	    e->actor_name ? json_string(e->actor_name) : json_null(), "action", e->action,
	    "target_type", e->target_type ? json_string(e->target_type) : json_null(), "target_id",
	    e->target_id ? json_integer(e->target_id) : json_null(), "method",
	    e->method ? json_string(e->method) : json_null(), "path",
	    e->path ? json_string(e->path) : json_null(), "status",
	    e->status ? json_integer(e->status) : json_null(), "ip",
	    e->ip ? json_string(e->ip) : json_null(), "detail", detail ? detail : json_object());
	json_array_append_new(data, o);
}

int api_audit_list(const struct req *rq, struct resp *rs)
{
	struct page pg;
	int status = api_page_parse(rq, rs, &pg);
	if (status)
		return status;
	struct audit_filter f = {
	    .actor = http_req_query(rq, "actor"),
	    .action = http_req_query(rq, "action"),
	    .target_type = http_req_query(rq, "target_type"),
	};
	if ((status = api_query_i64(rq, "target_id", &f.target_id, rs)) ||
	    (status = api_query_range(rq, &f.from, &f.to, rs)))
		return status;
	struct store_db *db = store_reader();
	json_t *data = json_array();
	store_read_begin(db);
	int st = store_audit_list(db, &f, pg.after, pg.limit + 1, add_entry, data);
	int64_t total = pg.count ? store_audit_count(db, &f) : -1;
	store_read_end(db);
	if (st != ST_OK) {
		json_decref(data);
		return api_store_error(rs, st);
	}
	rs->body = api_page_result(data, api_page_trim(data, pg.limit, "id"), total);
	return 200;
}
