/* raw_insert.c - the baseline for import speed: a plain SQLite loop that
 * inserts N order-shaped rows into a table with the same indexes as orders,
 * 1,000 rows a transaction, synchronous=FULL, WAL. Prints rows per second. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: raw_insert DB ROWS\n");
		return 2;
	}
	long rows = atol(argv[2]);
	sqlite3 *db;
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		return 1;
	sqlite3_exec(db,
		     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		     "CREATE TABLE t(id INTEGER PRIMARY KEY, platform TEXT NOT NULL, external_id TEXT"
		     " NOT NULL, customer_id INTEGER, buyer_phone TEXT, amount_cents INTEGER, status"
		     " TEXT, paid_at INTEGER, items TEXT, created_at INTEGER, updated_at INTEGER,"
		     " UNIQUE(platform, external_id));"
		     "CREATE INDEX t_c ON t(customer_id, paid_at) WHERE customer_id IS NOT NULL;"
		     "CREATE INDEX t_p ON t(buyer_phone) WHERE customer_id IS NULL;"
		     "CREATE INDEX t_paid ON t(paid_at);",
		     NULL, NULL, NULL);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db,
			   "INSERT INTO t(platform, external_id, customer_id, buyer_phone, amount_cents,"
			   " status, paid_at, items, created_at, updated_at) VALUES"
			   " ('tmall', ?1, ?2, ?3, 5990, 'paid', ?4, ?5, ?4, ?4)",
			   -1, &st, NULL);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	srand(7);
	char ext[32], phone[16];
	for (long i = 0; i < rows; i++) {
		if (i % 1000 == 0)
			sqlite3_exec(db, i ? "COMMIT; BEGIN" : "BEGIN", NULL, NULL, NULL);
		snprintf(ext, sizeof ext, "RAW%012ld", (long)rand() * 7919 + i);
		snprintf(phone, sizeof phone, "139%08d", rand() % 100000000);
		sqlite3_bind_text(st, 1, ext, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, rand() % 1000000 + 1);
		sqlite3_bind_text(st, 3, phone, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, 1790000000 + i);
		sqlite3_bind_text(st, 5,
				  "[{\"sku\":\"B-101\",\"name\":\"纯棉短袜\",\"category\":\"basics\","
				  "\"quantity\":3,\"price_cents\":1990}]",
				  -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%.0f\n", (double)rows / s);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}
