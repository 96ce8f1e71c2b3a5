/* import.c - POST /orders/import and /customers/import: NDJSON or CSV files,
 * streamed from the spooled upload, written in batched transactions with a
 * savepoint per line. Good lines land, bad lines are reported with their line
 * number; a second run of the same file changes nothing, because every line is
 * an upsert (orders on platform + external_id, customers on phone or unionid). */
#include "internal.h"

#include "scrm/core_csv.h"
#include "scrm/log.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1024 * 1024)
#define BATCH_LINES 256
#define BATCH_BYTES (4 * 1024 * 1024)
#define ERRORS_SHOWN 1000

enum kind { IMPORT_ORDERS, IMPORT_CUSTOMERS };

struct line {
	size_t no;
	json_t *obj;
	/* orders */
	struct order_in in;
	char phone[CORE_PHONE_MAX];
	char *items;
	/* customers */
	struct customer_patch patch;
	json_t *tags;
};

struct import {
	enum kind kind;
	int64_t lines, created, updated, unchanged, error_count;
	json_t *errors;
	struct line batch[BATCH_LINES];
	size_t n, bytes;
	/* results of the batch being written, kept only if it commits */
	int64_t b_created, b_updated, b_unchanged, b_errors;
	json_t *b_errlist;
};

static void add_error(struct import *im, json_t *list, size_t line, const char *code,
                      const char *field, const char *msg, int64_t id)
{
	if (list == im->b_errlist)
		im->b_errors++;
	else
		im->error_count++;
	/* a batch's own list holds one batch at most; flush() keeps the total */
	if (list == im->errors && json_array_size(im->errors) >= ERRORS_SHOWN)
		return;
	/* a parser's message may quote the line's bytes: JSON strings are UTF-8 */
	char *m = xstrdup(msg);
	str_utf8_scrub(m);
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", m);
	free(m);
	if (field)
		json_object_set_new(err, "field", json_string(field));
	if (id)
		json_object_set_new(err, "id", json_integer(id));
	json_array_append_new(list,
	                      json_pack("{s:I, s:o}", "line", (json_int_t)line, "error", err));
}

/* An error answer built in rs (by the shared checks) becomes a line error. */
static void add_resp_error(struct import *im, json_t *list, size_t line, struct resp *rs)
{
	json_t *e = json_object_get(rs->body, "error");
	add_error(im, list, line, json_string_value(json_object_get(e, "code")),
	          json_string_value(json_object_get(e, "field")),
	          json_string_value(json_object_get(e, "message")),
	          json_integer_value(json_object_get(e, "id")));
	http_resp_clear(rs);
}

static void add_core_error(struct import *im, json_t *list, size_t line, const struct core_err *e)
{
	struct resp rs = {0};
	api_core_error(&rs, e);
	add_resp_error(im, list, line, &rs);
}

static void line_clear(struct line *l)
{
	json_decref(l->obj);
	json_decref(l->tags);
	free(l->items);
	memset(l, 0, sizeof *l);
}

/* Check a line's object; on success it joins the batch. */
static void stage_line(struct import *im, size_t no, json_t *obj, size_t bytes)
{
	struct line *l = &im->batch[im->n];
	memset(l, 0, sizeof *l);
	l->no = no;
	l->obj = obj;
	struct resp rs = {0};
	struct core_err e = {0};
	int status = 0;
	if (im->kind == IMPORT_ORDERS) {
		status = api_check_object(obj, api_order_spec, "", &rs);
		if (!status && api_order_read(obj, &l->in, l->phone, &l->items, &e) < 0)
			status = api_core_error(&rs, &e);
	} else {
		/* tags ride along with the profile's own fields */
		l->tags = json_object_get(obj, "tags");
		json_incref(l->tags);
		json_object_del(obj, "tags");
		if (l->tags && !json_is_array(l->tags))
			status = api_error(&rs, 422, "validation_failed", "tags",
			                   "tags must be an array of tag names");
		if (!status)
			status = api_check_object(obj, api_customer_spec, "", &rs);
		if (!status)
			status = api_customer_patch(obj, &l->patch, &rs);
		if (!status && !l->patch.phone && !l->patch.unionid)
			status = api_error(&rs, 422, "validation_failed", "phone",
			                   "an imported customer needs a phone or a unionid: they "
			                   "are how a second run finds it again");
	}
	if (status) {
		add_resp_error(im, im->errors, no, &rs);
		line_clear(l);
		return;
	}
	im->n++;
	im->bytes += bytes;
}

static int import_customer(struct store_db *db, struct import *im, struct line *l, int64_t now,
                           struct core_err *e)
{
	int64_t by_phone = l->patch.phone ? store_customer_by_phone(db, l->patch.phone) : 0;
	int64_t by_union = l->patch.unionid ? store_customer_by_unionid(db, l->patch.unionid) : 0;
	if (by_phone && by_union && by_phone != by_union) {
		e->id = by_phone;
		return core_fail(
		    e, CORE_CONFLICT, "unionid",
		    "the phone belongs to customer %lld and the unionid to customer %lld",
		    (long long)by_phone, (long long)by_union);
	}
	int64_t id = by_phone ? by_phone : by_union;
	struct customer c = {0};
	bool changed = false;
	int rc = id ? core_customer_update(db, id, &l->patch, now, &c, &changed, e)
	            : core_customer_create(db, &l->patch, now, &c, e);
	if (rc == 0 && l->tags && json_array_size(l->tags) > 0) {
		size_t n = json_array_size(l->tags), added = 0;
		const char **names = xcalloc(n, sizeof *names);
		for (size_t i = 0; i < n; i++)
			names[i] = json_string_value(json_array_get(l->tags, i));
		for (size_t i = 0; i < n && rc == 0; i++)
			if (!names[i])
				rc = core_fail(e, CORE_INVALID, "tags",
				               "tags must be an array of tag names");
		if (rc == 0 &&
		    (rc = core_customer_tag_names(db, c.id, names, n, now, &added, e)) < 0 &&
		    e->field && strncmp(e->field, "names", 5) == 0) {
			/* in a file the column is called tags */
			char path[64];
			snprintf(path, sizeof path, "tags%s", e->field + 5);
			snprintf(e->path, sizeof e->path, "%s", path);
			e->field = e->path;
		}
		free(names);
		changed = changed || added > 0;
	}
	customer_clear(&c);
	if (rc == 0) {
		if (!id)
			im->b_created++;
		else if (changed)
			im->b_updated++;
		else
			im->b_unchanged++;
	}
	return rc;
}

static int batch_fn(struct store_db *db, void *ctx)
{
	struct import *im = ctx;
	int64_t now = time_now();
	im->b_created = im->b_updated = im->b_unchanged = im->b_errors = 0;
	json_array_clear(im->b_errlist);
	for (size_t i = 0; i < im->n; i++) {
		struct line *l = &im->batch[i];
		struct core_err e = {0};
		if (store_savepoint(db, "line") < 0)
			return -ST_ERR;
		int rc;
		if (im->kind == IMPORT_ORDERS) {
			struct order o = {0};
			enum upsert_result res;
			rc = core_order_upsert(db, &l->in, now, &o, &res, &e);
			order_clear(&o);
			if (rc == 0)
				*(res == UPSERT_CREATED   ? &im->b_created
				  : res == UPSERT_UPDATED ? &im->b_updated
				                          : &im->b_unchanged) += 1;
		} else {
			rc = import_customer(db, im, l, now, &e);
		}
		if (rc < 0) {
			store_rollback_to(db, "line");
			if (e.rc == CORE_STORE && e.st != ST_CONFLICT) {
				store_release(db, "line");
				return -e.st; /* the database itself failed: the batch goes */
			}
			add_core_error(im, im->b_errlist, l->no, &e);
		}
		store_release(db, "line");
	}
	return 0;
}

static json_int_t error_line(const json_t *e)
{
	return json_integer_value(json_object_get(e, "line"));
}

/* Write the staged lines; 0, or the store failure. */
static int flush(struct import *im)
{
	if (im->n == 0)
		return 0;
	int rc = store_write(batch_fn, im);
	if (rc == 0) {
		im->created += im->b_created;
		im->updated += im->b_updated;
		im->unchanged += im->b_unchanged;
		im->error_count += im->b_errors;
		/* the batch's errors join the list in line order: errors of later
		 * lines, found while the batch was read, may be there already. The
		 * list keeps the first ERRORS_SHOWN. */
		size_t i;
		json_t *v;
		json_array_foreach(im->b_errlist, i, v)
		{
			size_t at = json_array_size(im->errors);
			while (at > 0 &&
			       error_line(json_array_get(im->errors, at - 1)) > error_line(v))
				at--;
			json_array_insert(im->errors, at, v);
		}
		while (json_array_size(im->errors) > ERRORS_SHOWN)
			json_array_remove(im->errors, json_array_size(im->errors) - 1);
	}
	for (size_t i = 0; i < im->n; i++)
		line_clear(&im->batch[i]);
	im->n = 0;
	im->bytes = 0;
	return rc;
}

/* One line of at most max bytes into b (without its newline). 1, 0 at the
 * end, -1 if longer (the rest of it is skipped). */
static int read_line(FILE *f, struct buf *b, size_t max)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	int c;
	bool any = false, too_long = false;
	while ((c = getc(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (b->len >= max)
			too_long = true;
		else
			buf_putc(b, (char)c);
	}
	if (!any)
		return 0;
	if (b->len && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
	return too_long ? -1 : 1;
}

static void import_ndjson(struct import *im, FILE *f, int *fail)
{
	struct buf b = {0};
	size_t no = 0;
	int r;
	while (!*fail && (r = read_line(f, &b, LINE_MAX_BYTES)) != 0) {
		no++;
		const char *text = b.data ? b.data : "";
		if (no == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
			text += 3;
		if (r < 0) {
			im->lines++;
			add_error(im, im->errors, no, "invalid_json", NULL,
			          "the line is longer than 1 MiB", 0);
			continue;
		}
		if (strspn(text, " \t") == strlen(text))
			continue; /* blank lines are not records */
		im->lines++;
		json_error_t err;
		/* any value, so that valid JSON that is not an object is told so */
		json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
		if (!json_is_object(obj)) {
			char msg[300];
			snprintf(msg, sizeof msg,
			         obj ? "the line is not a JSON object"
			             : "the line is not valid JSON (column %d): %s",
			         err.column, err.text);
			add_error(im, im->errors, no, obj ? "validation_failed" : "invalid_json",
			          NULL, msg, 0);
			json_decref(obj);
			continue;
		}
		stage_line(im, no, obj, b.len);
		if (im->n == BATCH_LINES || im->bytes >= BATCH_BYTES)
			*fail = flush(im);
	}
	buf_clear(&b);
}

/* CSV columns and how their text becomes JSON. */
enum ctype { C_STR, C_INT, C_JSON, C_LIST };
struct column {
	const char *name;
	enum ctype type;
};
static const struct column order_cols[] = {
    {"platform", C_STR},      {"external_id", C_STR},
    {"customer_id", C_INT},   {"buyer_phone", C_STR},
    {"amount_cents", C_INT},  {"status", C_STR},
    {"paid_at", C_STR},       {"items", C_JSON},
    {"referral_code", C_STR}, {NULL, 0},
};
static const struct column customer_cols[] = {
    {"name", C_STR},
    {"phone", C_STR},
    {"email", C_STR},
    {"unionid", C_STR},
    {"gender", C_STR},
    {"birthday", C_STR},
    {"source_channel_id", C_INT},
    {"owner_user_id", C_INT},
    {"stage", C_STR},
    {"attrs", C_JSON},
    {"tags", C_LIST},
    {NULL, 0},
};

/* A CSV cell as JSON; NULL and *why on a bad value. */
static json_t *cell(const char *text, enum ctype t, const char **why)
{
	int64_t v;
	switch (t) {
	case C_INT:
		if (!str_to_i64(text, &v)) {
			*why = "must be a whole number";
			return NULL;
		}
		return json_integer(v);
	case C_JSON: {
		json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
		if (!j)
			*why = "must be JSON";
		return j;
	}
	case C_LIST: {
		json_t *a = json_array();
		char *copy = xstrdup(text), *save = NULL;
		for (char *p = strtok_r(copy, "|", &save); p; p = strtok_r(NULL, "|", &save))
			json_array_append_new(a, json_string(p));
		free(copy);
		return a;
	}
	default:
		return json_string(text);
	}
}

static void import_csv(struct import *im, FILE *f, int *fail, struct resp *rs, int *status)
{
	const struct column *cols = im->kind == IMPORT_ORDERS ? order_cols : customer_cols;
	struct csv_reader r;
	csv_init(&r, f);
	const char *why = NULL;
	int got = csv_next(&r, &why);
	const struct column *map[CSV_MAX_FIELDS];
	size_t ncols = got == 1 ? r.nfields : 0;
	if (got == 0)
		goto out; /* an empty file: nothing to do */
	if (got != 1) {
		*status = api_error(rs, 422, "validation_failed", "header",
		                    "the file needs a header row naming its columns%s%s",
		                    why ? ": " : "", why ? why : "");
		goto out;
	}
	for (size_t i = 0; i < ncols; i++) {
		map[i] = NULL;
		for (const struct column *c = cols; c->name; c++)
			if (strcasecmp(r.fields[i], c->name) == 0)
				map[i] = c;
		for (size_t k = 0; k < i && map[i]; k++)
			if (map[k] == map[i])
				map[i] = NULL;
		if (!map[i]) {
			struct buf allowed = {0};
			for (const struct column *c = cols; c->name; c++)
				buf_printf(&allowed, "%s%s", allowed.len ? ", " : "", c->name);
			*status = api_error(rs, 422, "validation_failed", "header",
			                    "column %zu ('%s') is unknown or repeated; columns: %s",
			                    i + 1, r.fields[i], allowed.data);
			buf_clear(&allowed);
			goto out;
		}
	}
	while (!*fail && (got = csv_next(&r, &why)) != 0) {
		im->lines++;
		if (got < 0) {
			add_error(im, im->errors, r.line, "invalid_csv", NULL, why, 0);
			continue;
		}
		if (r.nfields != ncols) {
			char msg[96];
			snprintf(msg, sizeof msg, "the record has %zu fields, the header %zu",
			         r.nfields, ncols);
			add_error(im, im->errors, r.line, "validation_failed", NULL, msg, 0);
			continue;
		}
		json_t *obj = json_object();
		size_t bytes = 0;
		bool ok = true;
		for (size_t i = 0; i < ncols && ok; i++) {
			if (!*r.fields[i])
				continue; /* an empty cell leaves the field out */
			bytes += strlen(r.fields[i]);
			const char *bad = NULL;
			json_t *v = cell(r.fields[i], map[i]->type, &bad);
			if (!v) {
				char msg[128];
				snprintf(msg, sizeof msg, "%s %s", map[i]->name, bad);
				add_error(im, im->errors, r.line, "validation_failed", map[i]->name,
				          msg, 0);
				ok = false;
			} else {
				json_object_set_new(obj, map[i]->name, v);
			}
		}
		if (!ok) {
			json_decref(obj);
			continue;
		}
		stage_line(im, r.line, obj, bytes);
		if (im->n == BATCH_LINES || im->bytes >= BATCH_BYTES)
			*fail = flush(im);
	}
out:
	csv_clear(&r);
}

struct result {
	struct import *im;
};

static int record_fn(struct store_db *db, struct api_write *w)
{
	(void)db;
	struct import *im = ((struct result *)w->arg)->im;
	w->detail =
	    json_pack("{s:I, s:I, s:I, s:I, s:I}", "lines", (json_int_t)im->lines, "created",
	              (json_int_t)im->created, "updated", (json_int_t)im->updated, "unchanged",
	              (json_int_t)im->unchanged, "errors", (json_int_t)im->error_count);
	w->rs->body = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:O, s:b}", "lines", (json_int_t)im->lines, "created",
	    (json_int_t)im->created, "updated", (json_int_t)im->updated, "unchanged",
	    (json_int_t)im->unchanged, "error_count", (json_int_t)im->error_count, "errors",
	    im->errors, "errors_truncated", im->error_count > (int64_t)json_array_size(im->errors));
	return 200;
}

static int run(const struct req *rq, struct resp *rs, enum kind kind)
{
	int status = api_idem_replay(rq, rs);
	if (status)
		return status;
	bool csv = rq->content_type && strncasecmp(rq->content_type, "text/csv", 8) == 0;
	struct import *im = xcalloc(1, sizeof *im);
	im->kind = kind;
	im->errors = json_array();
	im->b_errlist = json_array();
	int fail = 0;
	FILE *f = NULL;
	if (rq->body_fd >= 0) {
		int fd = dup(rq->body_fd);
		f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (!f) {
			if (fd >= 0)
				close(fd);
			status = api_error(rs, 503, "unavailable", NULL, "cannot read the upload");
			goto out;
		}
		rewind(f);
		if (csv)
			import_csv(im, f, &fail, rs, &status);
		else
			import_ndjson(im, f, &fail);
		fclose(f);
	}
	if (!status && !fail)
		fail = flush(im);
	if (status)
		goto out;
	if (fail) {
		log_error("import: stopped by a database failure after %lld lines",
		          (long long)(im->created + im->updated + im->unchanged));
		status = api_store_error(rs, fail);
		json_t *err = json_object_get(rs->body, "error");
		char msg[256];
		snprintf(msg, sizeof msg,
		         "the database failed during the import; %lld lines had landed. Send the "
		         "file again: lines already in place are left as they are",
		         (long long)(im->created + im->updated + im->unchanged));
		json_object_set_new(err, "message", json_string(msg));
		goto out;
	}
	struct result res = {im};
	status = api_write(rq, rs, kind == IMPORT_ORDERS ? "order.import" : "customer.import",
	                   kind == IMPORT_ORDERS ? "order" : "customer", record_fn, &res);
out:
	for (size_t i = 0; i < im->n; i++)
		line_clear(&im->batch[i]);
	json_decref(im->errors);
	json_decref(im->b_errlist);
	free(im);
	return status;
}

int api_orders_import(const struct req *rq, struct resp *rs)
{
	return run(rq, rs, IMPORT_ORDERS);
}

int api_customers_import(const struct req *rq, struct resp *rs)
{
	return run(rq, rs, IMPORT_CUSTOMERS);
}
