/* fuzz_import.c - libFuzzer harness of CSV and NDJSON import
 * (src/api/import.c, src/core/csv.c): the upload handlers of
 * POST /orders/import and /customers/import called as the server calls them,
 * with the file in a memfd as the server spools it, against a real migrated
 * store (fuzz_store.h), line by line and batch by batch as the import goes.
 *
 * Input: byte 0 picks the format (bit 0: CSV, else NDJSON) and the kind (bit
 * 1: customers, else orders); the rest is the file. Checks:
 *  - the CSV reader alone: every record has 1 to CSV_MAX_FIELDS fields, their
 *    text is within the record, line numbers never go back, and it ends;
 *  - the import answers 200 with a report, or (CSV only) 422 naming the
 *    header and then changed nothing; never 5xx;
 *  - the report adds up: created + updated + unchanged + error_count = lines;
 *    the errors listed are in line order, each with a code and a message,
 *    no more of them than error_count, all of them unless truncated.
 *
 *   build/fuzz/fuzz_import -dict=tests/fuzz/import.dict CORPUS_DIR tests/fuzz/corpus/import
 */
#include "fuzz_store.h"

#include "scrm/core_csv.h"
#include "scrm/http.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_store_open();
	memfd = memfd_create("fuzz-import", 0);
	if (memfd < 0)
		FUZZ_STORE_DIE("memfd_create failed");
	return 0;
}

static void check_csv(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		FUZZ_STORE_DIE("fmemopen failed");
	struct csv_reader r;
	csv_init(&r, f);
	size_t last = 0, records = 0;
	const char *why = NULL;
	int got;
	while ((got = csv_next(&r, &why)) != 0) {
		if (++records > size + 1)
			FUZZ_STORE_DIE("more records than bytes: the reader does not end");
		if (r.line < last || r.line == 0)
			FUZZ_STORE_DIE("record at line %zu after line %zu", r.line, last);
		last = r.line;
		if (got < 0) {
			if (!why || !*why)
				FUZZ_STORE_DIE("a malformed record without a reason");
			continue;
		}
		if (got != 1 || r.nfields < 1 || r.nfields > CSV_MAX_FIELDS)
			FUZZ_STORE_DIE("csv_next returned %d with %zu fields", got, r.nfields);
		for (size_t i = 0; i < r.nfields; i++)
			if (r.fields[i] < r.buf ||
			    r.fields[i] + strlen(r.fields[i]) >= r.buf + r.cap)
				FUZZ_STORE_DIE("field %zu lies outside the record's buffer", i);
	}
	csv_clear(&r);
	fclose(f);
}

static json_int_t num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		FUZZ_STORE_DIE("the report's %s is not a count", k);
	return json_integer_value(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 64 * 1024)
		return 0;
	bool csv = data[0] & 1, customers = data[0] & 2;
	if (csv)
		check_csv(data + 1, size - 1);

	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
		FUZZ_STORE_DIE("cannot write the memfd");
	struct req rq = {
	    .method = "POST",
	    .path = customers ? "/api/v1/customers/import" : "/api/v1/orders/import",
	    .body_fd = memfd,
	    .body_len = size - 1,
	    .content_type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
	    .who = &fuzz_admin,
	    .ip = "127.0.0.1",
	};
	/* a refused file is refused before any write: no commit at all */
	int64_t before = fuzz_store_version();
	struct resp rs = {0};
	int status = customers ? api_customers_import(&rq, &rs) : api_orders_import(&rq, &rs);
	const json_t *b = rs.body;
	if (status == 422) {
		const json_t *e = json_object_get(b, "error");
		const char *field = json_string_value(json_object_get(e, "field"));
		if (!csv || !field || strcmp(field, "header") != 0 ||
		    !json_string_value(json_object_get(e, "message")))
			FUZZ_STORE_DIE("a 422 for the file that is not about a CSV header");
		if (fuzz_store_version() != before)
			FUZZ_STORE_DIE("a refused file changed the database");
	} else if (status != 200) {
		FUZZ_STORE_DIE(
		    "the import answered %d: %s", status,
		    json_string_value(json_object_get(json_object_get(b, "error"), "message")));
	} else {
		json_int_t lines = num(b, "lines"), created = num(b, "created"),
		           updated = num(b, "updated"), unchanged = num(b, "unchanged"),
		           nerr = num(b, "error_count");
		if (created + updated + unchanged + nerr != lines)
			FUZZ_STORE_DIE("%lld lines but %lld created, %lld updated, %lld unchanged, "
			               "%lld errors",
			               (long long)lines, (long long)created, (long long)updated,
			               (long long)unchanged, (long long)nerr);
		const json_t *errs = json_object_get(b, "errors");
		bool truncated = json_is_true(json_object_get(b, "errors_truncated"));
		if (!json_is_array(errs) || (json_int_t)json_array_size(errs) > nerr ||
		    (!truncated && (json_int_t)json_array_size(errs) != nerr))
			FUZZ_STORE_DIE("%zu errors listed of %lld (truncated: %d)",
			               json_array_size(errs), (long long)nerr, truncated);
		json_int_t prev = 0;
		size_t i;
		const json_t *v;
		json_array_foreach(errs, i, v)
		{
			json_int_t line = json_integer_value(json_object_get(v, "line"));
			const json_t *e = json_object_get(v, "error");
			if (line < 1 || line < prev)
				FUZZ_STORE_DIE("error %zu at line %lld after line %lld", i,
				               (long long)line, (long long)prev);
			prev = line;
			if (!json_string_value(json_object_get(e, "code")) ||
			    !json_string_value(json_object_get(e, "message")))
				FUZZ_STORE_DIE("error %zu (line %lld) without a code or message", i,
				               (long long)line);
		}
	}
	http_resp_clear(&rs);
	return 0;
}
