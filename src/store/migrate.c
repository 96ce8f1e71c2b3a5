/* migrate.c - migrations/NNNN_name.sql applied in order, each in one transaction
 * together with its row in schema_migrations. A migration that was applied and
 * has since been edited, or a database newer than this binary, stops the start:
 * running on a schema we do not know is how data gets damaged. */
#include "internal.h"

#include "scrm/crypto.h"
#include "scrm/log.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mig {
	int version;
	char *name, *file;
};

static int cmp_mig(const void *a, const void *b)
{
	return ((const struct mig *)a)->version - ((const struct mig *)b)->version;
}

static bool parse_name(const char *fn, int *version)
{
	size_t n = strlen(fn);
	if (n < 10 || !str_endswith(fn, ".sql") || fn[4] != '_')
		return false;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		if (fn[i] < '0' || fn[i] > '9')
			return false;
		v = v * 10 + (fn[i] - '0');
	}
	for (size_t i = 5; i < n - 4; i++)
		if (!((fn[i] >= 'a' && fn[i] <= 'z') || (fn[i] >= '0' && fn[i] <= '9') ||
		      fn[i] == '_'))
			return false;
	*version = v;
	return v > 0;
}

static void free_migs(struct mig *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].file);
	}
	free(m);
}

static const char sql_create[] = "CREATE TABLE IF NOT EXISTS schema_migrations("
                                 " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                                 " checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)";
static const char sql_get[] = "SELECT checksum FROM schema_migrations WHERE version = :v";
static const char sql_max[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char sql_put[] = "INSERT INTO schema_migrations(version, name, checksum, applied_at)"
                              " VALUES (:v, :n, :c, :t)";

int store_migrate(struct store_db *db, const char *dir, bool verbose)
{
	DIR *d = opendir(dir);
	if (!d) {
		log_error("store: cannot read migrations directory %s", dir);
		return -1;
	}
	struct mig *migs = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		int v;
		if (e->d_name[0] == '.' || !str_endswith(e->d_name, ".sql"))
			continue;
		if (!parse_name(e->d_name, &v)) {
			log_error("store: migration file name %s is not NNNN_name.sql", e->d_name);
			closedir(d);
			free_migs(migs, n);
			return -1;
		}
		migs = xrealloc(migs, (n + 1) * sizeof *migs);
		migs[n].version = v;
		migs[n].name = xstrndup(e->d_name, strlen(e->d_name) - 4);
		migs[n].file = xasprintf("%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(migs, n, sizeof *migs, cmp_mig);
	int applied = 0, rc = -1;
	for (size_t i = 1; i < n; i++) {
		if (migs[i].version == migs[i - 1].version) {
			log_error("store: two migrations numbered %04d", migs[i].version);
			goto out;
		}
	}
	if (db_exec(db, sql_create) < 0)
		goto out;

	int64_t have = db_scalar(db, db_stmt(db, sql_max));
	if (have < 0)
		goto out;
	sqlite3_stmt *st;
	if (have > (n ? migs[n - 1].version : 0)) {
		log_error(
		    "store: the database is at schema version %lld, newer than this scrmd knows "
		    "(%d); run the matching scrmd version",
		    (long long)have, n ? migs[n - 1].version : 0);
		goto out;
	}

	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *sql = file_read_all(migs[i].file, &len);
		if (!sql) {
			log_error("store: cannot read %s", migs[i].file);
			goto out;
		}
		unsigned char sum[CRYPTO_SHA256_LEN];
		char hex[2 * CRYPTO_SHA256_LEN + 1];
		crypto_sha256(sql, len, sum);
		crypto_hex(sum, sizeof sum, hex);

		st = db_stmt(db, sql_get);
		if (!st) {
			free(sql);
			goto out;
		}
		db_bind_i64(st, ":v", migs[i].version);
		int r = db_step(db, st);
		if (r == SQLITE_ROW) {
			bool same = strcmp((const char *)sqlite3_column_text(st, 0), hex) == 0;
			sqlite3_reset(st);
			free(sql);
			if (!same) {
				log_error("store: migration %s was changed after it was applied; "
				          "migrations must never be edited, add a new one",
				          migs[i].name);
				goto out;
			}
			continue;
		}
		sqlite3_reset(st);
		if (r != SQLITE_DONE) {
			free(sql);
			goto out;
		}
		/* One transaction per migration, with its bookkeeping row. */
		int er = db_exec(db, "BEGIN IMMEDIATE");
		if (er == 0)
			er = db_exec(db, sql);
		free(sql);
		if (er == 0) {
			st = db_stmt(db, sql_put);
			db_bind_i64(st, ":v", migs[i].version);
			db_bind_text(st, ":n", migs[i].name);
			db_bind_text(st, ":c", hex);
			db_bind_i64(st, ":t", time_now());
			er = db_run(db, st);
		}
		if (er == 0)
			er = db_exec(db, "COMMIT");
		if (er != 0) {
			if (!sqlite3_get_autocommit(db->h))
				db_exec(db, "ROLLBACK");
			log_error("store: migration %s failed; nothing of it was applied",
			          migs[i].name);
			goto out;
		}
		applied++;
		if (verbose)
			printf("applied %s\n", migs[i].name);
		log_info("store: applied migration %s", migs[i].name);
	}
	rc = applied;
out:
	free_migs(migs, n);
	return rc;
}
