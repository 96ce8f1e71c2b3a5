/* store.h - the database: opening, migrations, per-thread read connections, the
 * single writer thread with group commit, and backups. Only src/store/ includes
 * sqlite3.h; everything above sees struct store_db as an opaque handle.
 *
 * Write path: a write is a closure run by the writer thread inside a shared
 * BEGIN IMMEDIATE ... COMMIT, each closure in its own SAVEPOINT. The caller of
 * store_write() is woken only after the COMMIT holding its closure returned, so
 * nothing is acknowledged before it is durable (synchronous=FULL by default). */
#ifndef SCRM_STORE_H
#define SCRM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_db;

/* Results of store functions. Write closures return 0 to keep their changes, a
 * positive value of their own to have them rolled back, or -ST_* on a store error. */
enum st_rc {
	ST_OK = 0,
	ST_NOT_FOUND = 1,
	ST_CONFLICT = 2,
	ST_BUSY = 3,
	ST_UNAVAILABLE = 4, /* disk full, read-only or I/O error: try again later */
	ST_ERR = 5,
};

struct store_opts {
	const char *path;
	const char *migrations_dir;
	bool sync_full; /* synchronous=FULL (else NORMAL) */
	unsigned busy_timeout_ms;
	unsigned cache_mb;
	unsigned mmap_mb;   /* PRAGMA mmap_size, in MiB */
	unsigned max_db_mb; /* PRAGMA max_page_count on writers, in MiB (0: none) */
	unsigned batch_max;
	bool skip_migrations; /* open only (backup of a database as it is) */
};

/* Remember the options, create the database's directory if needed, open a first
 * connection, set the pragmas and apply pending migrations. 0 or -1 (logged). */
int store_init(const struct store_opts *o);
/* Stop the writer (if started) and close this thread's connections. */
void store_shutdown(void);

/* Apply pending migrations from the configured directory (printing each when
 * verbose). Returns the number applied, or -1 (logged). */
int store_apply_migrations(bool verbose);

/* This thread's read connection, opened on first use and closed when the thread
 * exits. Never NULL after store_init() (aborts if the database cannot be opened). */
struct store_db *store_reader(void);
/* A read connection for a scan of every customer (audience previews), from a
 * small pool shared by all threads, one per CPU: the few connections that run
 * scans keep the pages of the customers_segment index in their caches, where
 * one per worker thread would each read them afresh (a database over 2 GiB is
 * not all memory-mapped). Waits while every one is in use; NULL if the
 * database cannot be opened. Give it back with store_scan_release(). */
struct store_db *store_scan_acquire(void);
void store_scan_release(struct store_db *db);
/* Begin / end a read transaction on a reader, for several consistent queries. */
void store_read_begin(struct store_db *db);
void store_read_end(struct store_db *db);

typedef int (*store_write_fn)(struct store_db *db, void *ctx);

/* Start the writer thread; without it, store_write() runs the closure in its own
 * transaction on the calling thread (used by the command-line subcommands). */
int store_writer_start(void);
/* Finish every queued closure, then stop the writer thread. */
void store_writer_stop(void);
/* Run fn(db, ctx) in a write transaction and wait for its commit. Returns fn's
 * value if its transaction committed, else -ST_BUSY / -ST_UNAVAILABLE / -ST_ERR
 * (then nothing of fn's is stored, whatever fn returned). Never call from inside
 * a closure. */
int store_write(store_write_fn fn, void *ctx);
/* Queue fn without waiting; free_ctx(ctx) is called after the commit (or failure).
 * For bookkeeping writes whose loss is harmless (token last-use times). */
void store_write_async(store_write_fn fn, void *ctx, void (*free_ctx)(void *));

/* Hooks run by the writer around every job: after_ok inside the job's
 * savepoint when the job kept its changes (its failure rolls the job back),
 * after_fail when it did not. Set once, before the writer starts. */
void store_set_job_hooks(int (*after_ok)(struct store_db *db), void (*after_fail)(void));

/* Nested savepoint helpers for closures that must keep part of their work. */
int store_savepoint(struct store_db *db, const char *name);
int store_rollback_to(struct store_db *db, const char *name);
int store_release(struct store_db *db, const char *name);

/* True while the last write failed because the disk is full, the file read-only
 * or an I/O error occurred; cleared by the next good commit. */
bool store_unavailable(void);
/* Why, in a few words ("the disk or the database is full"), or NULL. */
const char *store_unavailable_reason(void);

/* Statistics for /metrics. */
struct store_stats {
	uint64_t commits, closures, failed_commits;
	uint64_t batch_hist[8]; /* closures per commit: 1, 2-3, 4-7, ... 128+ */
	int64_t db_bytes, wal_bytes;
};
void store_stats_get(struct store_stats *out);

/* Write a consistent snapshot of the live database to dest (VACUUM INTO a temporary
 * name, fsync, rename). Fails if dest exists. Returns 0 or -ST_*; *bytes_out gets
 * the snapshot's size. */
int store_backup(struct store_db *db, const char *dest, int64_t *bytes_out);

const char *store_path(void);

#endif
