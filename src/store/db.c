/* db.c - connections, pragmas, the statement cache and per-thread readers. */
#include "internal.h"

#include "scrm/store_analytics.h"

#include "scrm/log.h"
#include "scrm/util.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct store_opts opts;
static char *opt_path, *opt_migrations;
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static atomic_bool unavailable;

#define SCAN_MAX 8
static pthread_mutex_t scan_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t scan_cv = PTHREAD_COND_INITIALIZER;
static struct store_db *scan_idle[SCAN_MAX];
static int scan_nidle, scan_nopen;

const struct store_opts *store_opts_get(void)
{
	return &opts;
}

const char *store_path(void)
{
	return opt_path;
}

bool store_unavailable(void)
{
	return atomic_load(&unavailable);
}

/* Why the database refuses writes: one clear line in the log when it starts,
 * a reminder at most once a minute while it lasts (however many writes are
 * refused meanwhile), and one line when writes work again. */
#define UNAVAIL_LOG_EVERY_NS (60ull * 1000000000ull)
static pthread_mutex_t unavail_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *unavail_reason = "";
static uint64_t unavail_since_ns, unavail_logged_ns, unavail_refused, unavail_events;
static bool unavail_unanswered; /* a "refuses" line not yet followed by "again" */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *reason_of(int sqlite_rc)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_FULL:
		return "the disk or the database is full";
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return "the database is read-only";
	case SQLITE_CANTOPEN:
		return "the database file cannot be opened";
	case SQLITE_NOMEM:
		return "out of memory";
	default:
		return "a disk I/O error";
	}
}

uint64_t store_unavailable_events(void)
{
	pthread_mutex_lock(&unavail_mu);
	uint64_t n = unavail_events;
	pthread_mutex_unlock(&unavail_mu);
	return n;
}

const char *store_unavailable_reason(void)
{
	pthread_mutex_lock(&unavail_mu);
	const char *r = atomic_load(&unavailable) ? unavail_reason : NULL;
	pthread_mutex_unlock(&unavail_mu);
	return r;
}

void store_note_unavailable(struct store_db *db, int sqlite_rc)
{
	const char *reason = reason_of(sqlite_rc);
	char detail[160];
	snprintf(detail, sizeof detail, "%s",
	         db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(sqlite_rc));
	uint64_t now = mono_ns();
	pthread_mutex_lock(&unavail_mu);
	bool was = atomic_load(&unavailable);
	/* a disk that is nearly full flaps (a small write fits, the next does
	 * not): a new reason, or a minute since the last line, is worth a line */
	bool changed = strcmp(reason, unavail_reason) != 0;
	unavail_refused++;
	unavail_events++;
	if (!was && !unavail_unanswered)
		unavail_since_ns = now;
	unavail_reason = reason;
	atomic_store(&unavailable, true);
	if (changed || unavail_logged_ns == 0 || now - unavail_logged_ns >= UNAVAIL_LOG_EVERY_NS) {
		unavail_unanswered = true;
		if (changed || !was)
			log_error(
			    "store: the database refuses writes: %s (%s; SQLite code %d on %s); "
			    "write requests get 503 until this is fixed, reads go on",
			    reason, detail, sqlite_rc, opt_path ? opt_path : "?");
		else
			log_error("store: the database still refuses writes: %s (%s); %llu refused "
			          "in %.0f s",
			          reason, detail, (unsigned long long)unavail_refused,
			          (double)(now - unavail_since_ns) / 1e9);
		unavail_logged_ns = now;
	}
	pthread_mutex_unlock(&unavail_mu);
}

void store_note_result(int rc)
{
	if (rc == -ST_UNAVAILABLE || rc == ST_UNAVAILABLE) {
		if (!atomic_load(&unavailable))
			store_note_unavailable(NULL, SQLITE_IOERR);
		return;
	}
	if (rc != 0 || !atomic_load(&unavailable))
		return;
	pthread_mutex_lock(&unavail_mu);
	if (atomic_load(&unavailable)) {
		atomic_store(&unavailable, false);
		if (unavail_unanswered) {
			log_warn("store: the database takes writes again, after %.1f s (%llu "
			         "failed statements or commits while it refused)",
			         (double)(mono_ns() - unavail_since_ns) / 1e9,
			         (unsigned long long)unavail_refused);
			unavail_unanswered = false;
			unavail_refused = 0;
		}
	}
	pthread_mutex_unlock(&unavail_mu);
}

int db_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return ST_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ST_BUSY;
	case SQLITE_CONSTRAINT:
		return ST_CONFLICT;
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_NOMEM:
		return ST_UNAVAILABLE;
	default:
		return ST_ERR;
	}
}

int db_exec(struct store_db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK && db_rc(rc) == ST_UNAVAILABLE && !db->reader) {
		sqlite3_free(msg);
		store_note_unavailable(db, rc);
		return -ST_UNAVAILABLE;
	}
	if (rc != SQLITE_OK) {
		/* name the statement by its first line: migrations are whole files */
		log_error("store: %s (in: %.*s)", msg ? msg : sqlite3_errstr(rc),
		          (int)strcspn(sql, "\n"), sql);
		sqlite3_free(msg);
		return -db_rc(rc);
	}
	return 0;
}

static void reader_destroy(void *p)
{
	db_close(p);
}

static void reader_key_init(void)
{
	pthread_key_create(&reader_key, reader_destroy);
}

struct store_db *db_open(bool reader)
{
	sqlite3 *h = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(opt_path, &h, flags, NULL);
	if (rc != SQLITE_OK) {
		log_error("store: cannot open %s: %s", opt_path,
		          h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return NULL;
	}
	struct store_db *db = xcalloc(1, sizeof *db);
	db->h = h;
	db->reader = reader;
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, (int)opts.busy_timeout_ms);
	char pragmas[512];
	snprintf(pragmas, sizeof pragmas,
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
	         "PRAGMA cache_size=-%u; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=%llu; %s",
	         opts.sync_full ? "FULL" : "NORMAL", opts.cache_mb * 1024,
	         (unsigned long long)opts.mmap_mb << 20, reader ? "PRAGMA query_only=ON;" : "");
	if (db_exec(db, pragmas) < 0) {
		db_close(db);
		return NULL;
	}
	if (!reader && opts.max_db_mb) {
		/* a quota below the disk's size: past it SQLite answers SQLITE_FULL as
		 * on a full disk (it never shrinks a database already bigger) */
		sqlite3_stmt *st = NULL;
		int64_t page = 4096;
		if (sqlite3_prepare_v2(h, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			page = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		snprintf(pragmas, sizeof pragmas, "PRAGMA max_page_count=%lld;",
		         (long long)(((int64_t)opts.max_db_mb << 20) / (page > 0 ? page : 4096)));
		if (db_exec(db, pragmas) < 0) {
			db_close(db);
			return NULL;
		}
	}
	return db;
}

void db_close(struct store_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->nslots; i++)
		if (db->slots[i].st)
			sqlite3_finalize(db->slots[i].st);
	free(db->slots);
	sqlite3_close(db->h);
	free(db);
}

static size_t slot_hash(const char *sql, size_t n)
{
	uintptr_t x = (uintptr_t)sql;
	x ^= x >> 17;
	x *= 0x9E3779B97F4A7C15ull;
	return (size_t)(x >> 7) & (n - 1);
}

static void slots_grow(struct store_db *db)
{
	size_t n = db->nslots ? db->nslots * 2 : 64;
	struct stmt_slot *old = db->slots;
	size_t on = db->nslots;
	db->slots = xcalloc(n, sizeof *db->slots);
	db->nslots = n;
	for (size_t i = 0; i < on; i++) {
		if (!old[i].sql)
			continue;
		size_t j = slot_hash(old[i].sql, n);
		while (db->slots[j].sql)
			j = (j + 1) & (n - 1);
		db->slots[j] = old[i];
	}
	free(old);
}

sqlite3_stmt *db_stmt(struct store_db *db, const char *sql)
{
	if (db->used * 2 >= db->nslots)
		slots_grow(db);
	size_t j = slot_hash(sql, db->nslots);
	while (db->slots[j].sql && db->slots[j].sql != sql)
		j = (j + 1) & (db->nslots - 1);
	if (db->slots[j].sql) {
		sqlite3_stmt *st = db->slots[j].st;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("store: prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
		return NULL;
	}
	db->slots[j].sql = sql;
	db->slots[j].st = st;
	db->used++;
	return st;
}

char *db_prefix_end(const char *prefix)
{
	return xasprintf("%s\xf4\x8f\xbf\xbf", prefix);
}

sqlite3_stmt *db_prepare_dynamic(struct store_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
		return NULL;
	}
	return st;
}

int db_step(struct store_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	int st_rc = db_rc(rc);
	if (st_rc == ST_UNAVAILABLE && !db->reader)
		store_note_unavailable(db, rc); /* one line, not one per statement */
	else if (st_rc != ST_CONFLICT)
		log_error("store: %s (%s)", sqlite3_errmsg(db->h), sqlite3_sql(st));
	sqlite3_reset(st);
	return -st_rc;
}

int db_run(struct store_db *db, sqlite3_stmt *st)
{
	if (!st)
		return -ST_ERR;
	int rc = db_step(db, st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return rc;
}

int db_insert(struct store_db *db, sqlite3_stmt *st, int64_t *id)
{
	int rc = db_run(db, st);
	if (rc < 0)
		return -rc;
	*id = sqlite3_last_insert_rowid(db->h);
	return ST_OK;
}

int db_change_one(struct store_db *db, sqlite3_stmt *st)
{
	int rc = db_run(db, st);
	if (rc < 0)
		return -rc;
	return sqlite3_changes(db->h) ? ST_OK : ST_NOT_FOUND;
}

int db_change_id(struct store_db *db, const char *sql, int64_t id)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	if (!st)
		return ST_ERR;
	db_bind_i64(st, ":id", id);
	return db_change_one(db, st);
}

int db_one(struct store_db *db, sqlite3_stmt *st, void (*read)(sqlite3_stmt *st, void *out),
           void *out)
{
	int rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		read(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOT_FOUND : -rc;
}

int64_t db_scalar(struct store_db *db, sqlite3_stmt *st)
{
	if (!st)
		return -1;
	int64_t n = db_step(db, st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

static int idx(sqlite3_stmt *st, const char *name)
{
	int i = sqlite3_bind_parameter_index(st, name);
	if (i == 0)
		log_error("store: no parameter %s in %s", name, sqlite3_sql(st));
	return i;
}

void db_bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	if (v)
		sqlite3_bind_text(st, idx(st, name), v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx(st, name));
}

void db_bind_i64(sqlite3_stmt *st, const char *name, int64_t v)
{
	sqlite3_bind_int64(st, idx(st, name), v);
}

void db_bind_blob(sqlite3_stmt *st, const char *name, const void *p, size_t n)
{
	sqlite3_bind_blob(st, idx(st, name), p, (int)n, SQLITE_TRANSIENT);
}

void db_bind_null(sqlite3_stmt *st, const char *name)
{
	sqlite3_bind_null(st, idx(st, name));
}

char *db_col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, col)) : NULL;
}

static int mkdir_parents(const char *path)
{
	char *copy = xstrdup(path);
	char *dir = dirname(copy);
	int rc = 0;
	if (strcmp(dir, ".") != 0 && strcmp(dir, "/") != 0 && access(dir, F_OK) != 0) {
		rc = mkdir_parents(dir);
		if (rc == 0 && mkdir(dir, 0750) != 0 && errno != EEXIST) {
			log_error("store: cannot create directory %s: %s", dir, strerror(errno));
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

int store_init(const struct store_opts *o)
{
	pthread_once(&reader_once, reader_key_init);
	opts = *o;
	free(opt_path);
	free(opt_migrations);
	opt_path = xstrdup(o->path);
	opt_migrations = xstrdup(o->migrations_dir);
	opts.path = opt_path;
	opts.migrations_dir = opt_migrations;
	if (!opts.batch_max)
		opts.batch_max = 256;
	if (strcmp(opt_path, ":memory:") != 0 && mkdir_parents(opt_path) < 0)
		return -1;
	/* a first connection creates the file and switches it to WAL */
	struct store_db *db = db_open(false);
	if (!db)
		return -1;
	db_close(db);
	if (o->skip_migrations)
		return 0;
	if (store_apply_migrations(false) < 0)
		return -1;
	/* figures made in another time zone (or by an older layout) are made again */
	return store_analytics_prepare() == ST_OK ? 0 : -1;
}

int store_apply_migrations(bool verbose)
{
	struct store_db *db = db_open(false);
	if (!db)
		return -1;
	int rc = store_migrate(db, opt_migrations, verbose);
	db_close(db);
	return rc;
}

struct store_db *store_reader(void)
{
	struct store_db *db = pthread_getspecific(reader_key);
	if (db)
		return db;
	db = db_open(true);
	if (!db) {
		log_error("store: no read connection; stopping");
		abort();
	}
	pthread_setspecific(reader_key, db);
	return db;
}

static int scan_size(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > SCAN_MAX ? SCAN_MAX : (int)n;
}

struct store_db *store_scan_acquire(void)
{
	pthread_mutex_lock(&scan_mu);
	while (scan_nidle == 0 && scan_nopen >= scan_size())
		pthread_cond_wait(&scan_cv, &scan_mu);
	if (scan_nidle > 0) {
		struct store_db *db = scan_idle[--scan_nidle];
		pthread_mutex_unlock(&scan_mu);
		return db;
	}
	scan_nopen++;
	pthread_mutex_unlock(&scan_mu);
	struct store_db *db = db_open(true);
	if (!db) {
		pthread_mutex_lock(&scan_mu);
		scan_nopen--;
		pthread_cond_signal(&scan_cv);
		pthread_mutex_unlock(&scan_mu);
	}
	return db;
}

void store_scan_release(struct store_db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&scan_mu);
	scan_idle[scan_nidle++] = db;
	pthread_cond_signal(&scan_cv);
	pthread_mutex_unlock(&scan_mu);
}

void store_read_begin(struct store_db *db)
{
	db_exec(db, "BEGIN");
}

void store_read_end(struct store_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		db_exec(db, "COMMIT");
}

int store_savepoint(struct store_db *db, const char *name)
{
	char sql[96];
	snprintf(sql, sizeof sql, "SAVEPOINT %s", name);
	return db_exec(db, sql);
}

int store_rollback_to(struct store_db *db, const char *name)
{
	char sql[96];
	snprintf(sql, sizeof sql, "ROLLBACK TO %s", name);
	return db_exec(db, sql);
}

int store_release(struct store_db *db, const char *name)
{
	char sql[96];
	snprintf(sql, sizeof sql, "RELEASE %s", name);
	return db_exec(db, sql);
}

void store_shutdown(void)
{
	store_writer_stop();
	struct store_db *db = pthread_getspecific(reader_key);
	if (db) {
		pthread_setspecific(reader_key, NULL);
		db_close(db);
	}
	pthread_mutex_lock(&scan_mu);
	while (scan_nidle > 0) {
		db_close(scan_idle[--scan_nidle]);
		scan_nopen--;
	}
	pthread_mutex_unlock(&scan_mu);
	free(opt_path);
	free(opt_migrations);
	opt_path = opt_migrations = NULL;
}
