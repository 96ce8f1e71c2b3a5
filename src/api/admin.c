/* admin.c - POST /admin/backup: a consistent online snapshot of the database,
 * written to the backup directory under a time-stamped name. */
#include "internal.h"

#include "scrm/config.h"
#include "scrm/log.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The backup directory: [store] backup_dir, else backups/ beside the database. */
static char *backup_dir(void)
{
	const struct scrm_config *c = api_config();
	if (c->backup_dir)
		return xstrdup(c->backup_dir);
	char *copy = xstrdup(store_path());
	char *d = xasprintf("%s/backups", dirname(copy));
	free(copy);
	return d;
}

struct done {
	char *file, *path;
	int64_t bytes, at;
};

static int record_fn(struct store_db *db, struct api_write *w)
{
	(void)db;
	struct done *d = w->arg;
	w->detail = json_pack("{s:s, s:I}", "file", d->file, "bytes", (json_int_t)d->bytes);
	w->rs->body = json_pack("{s:s, s:s, s:I, s:o}", "file", d->file, "path", d->path, "bytes",
	                        (json_int_t)d->bytes, "created_at", api_time(d->at));
	return 201;
}

int api_admin_backup(const struct req *rq, struct resp *rs)
{
	int status = api_check_empty_body(rq, rs);
	if (status || (status = api_idem_replay(rq, rs)))
		return status;
	char *dir = backup_dir();
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		log_error("backup: cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return api_error(rs, 503, "unavailable", NULL,
		                 "cannot create the backup directory");
	}
	struct done d = {.at = time_now()};
	time_t t = (time_t)d.at;
	struct tm tm;
	gmtime_r(&t, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	int st = ST_CONFLICT;
	/* two backups in one second get -2, -3 ... */
	for (int n = 1; n <= 20 && st == ST_CONFLICT; n++) {
		free(d.file);
		free(d.path);
		d.file =
		    n == 1 ? xasprintf("scrm-%s.db", stamp) : xasprintf("scrm-%s-%d.db", stamp, n);
		d.path = xasprintf("%s/%s", dir, d.file);
		st = -store_backup(store_reader(), d.path, &d.bytes);
	}
	free(dir);
	if (st != ST_OK) {
		status = api_store_error(rs, st);
	} else {
		log_info("backup: wrote %s (%lld bytes)", d.path, (long long)d.bytes);
		status = api_write(rq, rs, "admin.backup", "backup", record_fn, &d);
	}
	free(d.file);
	free(d.path);
	return status;
}
