/* backup.c - online snapshots. VACUUM INTO reads the database inside one read
 * transaction, so the copy is consistent while writers go on (WAL), and it comes
 * out compacted. It is written to a temporary name of its own, flushed, then
 * renamed (never over an existing file), so a crash never leaves a half-written
 * file under the final name and two backups never write into one file. The
 * daemon takes one backup at a time. */
#include "internal.h"

#include "scrm/log.h"
#include "scrm/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char sql_vacuum[] = "VACUUM INTO :dest";

static int fsync_path(const char *path, bool dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Backups one at a time: two at once (two admins, a retry) would only compete
 * for the disk. seq makes the temporary names of this process distinct. */
static pthread_mutex_t backup_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long backup_seq;

/* rename() without replacing: EEXIST when to exists. Falls back to a plain
 * rename on file systems without RENAME_NOREPLACE (the stat before it then
 * guards alone). */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return -1;
	return rename(from, to);
}

static int backup_locked(struct store_db *db, const char *dest, int64_t *bytes_out)
{
	struct stat sb;
	if (stat(dest, &sb) == 0)
		return -ST_CONFLICT; /* the caller picks another name or reports it */
	char *tmp = xasprintf("%s.partial-%ld-%lu", dest, (long)getpid(), ++backup_seq);
	unlink(tmp);
	/* VACUUM INTO cannot run on a query_only connection and must not run inside
	 * a transaction; use a private connection. */
	struct store_db *own = NULL;
	if (db->reader) {
		own = db_open(false);
		if (!own) {
			free(tmp);
			return -ST_UNAVAILABLE;
		}
		db = own;
	}
	int rc = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, sql_vacuum, -1, &st, NULL) != SQLITE_OK) {
		log_error("backup: %s", sqlite3_errmsg(db->h));
		rc = -ST_ERR;
		goto out;
	}
	sqlite3_bind_text(st, 1, tmp, -1, SQLITE_TRANSIENT);
	int r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		log_error("backup: VACUUM INTO %s failed: %s", tmp, sqlite3_errmsg(db->h));
		rc = -db_rc(r);
		if (rc == 0)
			rc = -ST_ERR;
		goto out;
	}
	if (fsync_path(tmp, false) < 0 || rename_noreplace(tmp, dest) < 0) {
		if (errno == EEXIST) { /* another process took the name meanwhile */
			rc = -ST_CONFLICT;
			goto out;
		}
		log_error("backup: cannot finish %s: %s", dest, strerror(errno));
		rc = -ST_UNAVAILABLE;
		goto out;
	}
	char *copy = xstrdup(dest);
	fsync_path(dirname(copy), true);
	free(copy);
	if (bytes_out)
		*bytes_out = stat(dest, &sb) == 0 ? (int64_t)sb.st_size : 0;
out:
	sqlite3_finalize(st);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	db_close(own);
	return rc;
}

int store_backup(struct store_db *db, const char *dest, int64_t *bytes_out)
{
	pthread_mutex_lock(&backup_mu);
	int rc = backup_locked(db, dest, bytes_out);
	pthread_mutex_unlock(&backup_mu);
	return rc;
}
