/* writer.c - the single writer thread and its group commit.
 *
 * With synchronous=FULL every COMMIT costs an fsync, so committing once per
 * request caps writes at the disk's flush rate. Instead every write is a closure
 * queued here; the writer takes all that are waiting (up to batch_max), runs each
 * in its own SAVEPOINT inside one BEGIN IMMEDIATE, commits once and only then wakes
 * the waiters. A failing closure rolls back only itself; a failing COMMIT fails
 * every closure of the batch, and none of them is acknowledged. */
#include "internal.h"

#include "scrm/log.h"
#include "scrm/store_analytics.h"
#include "scrm/timeutil.h"
#include "scrm/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct job {
	store_write_fn fn;
	void *ctx;
	void (*free_ctx)(void *);
	int result;
	bool done, async;
	pthread_cond_t cond;
	struct job *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t have_work = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static bool running, stopping;
static pthread_t thread;
static struct store_db *wdb;

static _Atomic uint64_t n_commits, n_closures, n_failed;
static int (*hook_ok)(struct store_db *db);
static void (*hook_fail)(void);

void store_set_job_hooks(int (*after_ok)(struct store_db *db), void (*after_fail)(void))
{
	hook_ok = after_ok;
	hook_fail = after_fail;
}
static _Atomic uint64_t batch_hist[8];

static void note_batch(size_t n)
{
	int b = 0;
	while (b < 7 && (1u << (b + 1)) <= n)
		b++;
	atomic_fetch_add(&batch_hist[b], 1);
}

/* BEGIN IMMEDIATE and COMMIT can meet another process's lock (a `scrmd user add`
 * run beside the daemon) even after busy_timeout; retry a few times with
 * back-off before giving up on the batch. */
static int exec_retry(struct store_db *db, const char *sql)
{
	int rc = 0;
	for (int attempt = 0; attempt < 8; attempt++) {
		rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if (db_rc(rc) != ST_BUSY)
			break;
		usleep(1000u << attempt);
	}
	if (db_rc(rc) == ST_UNAVAILABLE)
		store_note_unavailable(db, rc); /* rate limited */
	else
		log_error("store: %s failed: %s", sql, sqlite3_errmsg(db->h));
	return -db_rc(rc);
}

static int commit_tx(struct store_db *db)
{
	int rc = exec_retry(db, "COMMIT");
	if (rc != 0 && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Run a batch of closures in one transaction; every job gets its result. */
static void run_batch(struct store_db *db, struct job **jobs, size_t n)
{
	uint64_t events = store_unavailable_events();
	int64_t changes = sqlite3_total_changes64(db->h);
	int rc = exec_retry(db, "BEGIN IMMEDIATE");
	if (rc == 0) {
		for (size_t i = 0; i < n; i++) {
			struct job *j = jobs[i];
			if (sqlite3_exec(db->h, "SAVEPOINT job", NULL, NULL, NULL) != SQLITE_OK) {
				rc = -db_rc(sqlite3_errcode(db->h));
				break;
			}
			j->result = j->fn(db, j->ctx);
			/* the analytics figures follow every change, in the same savepoint */
			if (j->result == 0 && !sqlite3_get_autocommit(db->h)) {
				int a = store_analytics_flush(db);
				if (a != ST_OK)
					j->result = -a;
			}
			if (j->result == 0 && hook_ok && !sqlite3_get_autocommit(db->h)) {
				int h = hook_ok(db);
				if (h != 0)
					j->result = h < 0 ? h : -ST_ERR;
			} else if (j->result != 0 && hook_fail) {
				hook_fail();
			}
			if (sqlite3_get_autocommit(db->h)) {
				/* SQLite rolled the whole transaction back (disk full, I/O
				 * error): every closure so far is lost with it. */
				int e = sqlite3_extended_errcode(db->h);
				if (db_rc(e) == ST_UNAVAILABLE)
					store_note_unavailable(db, e);
				else
					log_error("store: transaction aborted by SQLite: %s",
					          sqlite3_errmsg(db->h));
				rc = -ST_UNAVAILABLE;
				break;
			}
			if (j->result != 0)
				sqlite3_exec(db->h, "ROLLBACK TO job", NULL, NULL, NULL);
			sqlite3_exec(db->h, "RELEASE job", NULL, NULL, NULL);
		}
		if (rc == 0)
			rc = commit_tx(db);
		else if (!sqlite3_get_autocommit(db->h))
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	}
	/* Writes work again once a batch has committed a change and no closure
	 * met a full disk or a read-only file (that one was rolled back alone and
	 * the rest committed). A batch that changed nothing proves nothing: on a
	 * read-only file an empty transaction commits fine. */
	if (rc != 0)
		store_note_result(rc);
	else if (store_unavailable_events() == events && sqlite3_total_changes64(db->h) > changes)
		store_note_result(0);
	if (rc == 0) {
		atomic_fetch_add(&n_commits, 1);
		atomic_fetch_add(&n_closures, n);
		note_batch(n);
	} else {
		atomic_fetch_add(&n_failed, 1);
		for (size_t i = 0; i < n; i++)
			jobs[i]->result = rc < 0 ? rc : -ST_ERR;
	}
}

static void finish(struct job *j)
{
	if (j->async) {
		if (j->free_ctx)
			j->free_ctx(j->ctx);
		free(j);
		return;
	}
	pthread_mutex_lock(&mu);
	j->done = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&mu);
}

static void *writer_main(void *arg)
{
	(void)arg;
	unsigned max = store_opts_get()->batch_max;
	struct job **batch = xcalloc(max, sizeof *batch);
	for (;;) {
		pthread_mutex_lock(&mu);
		while (!head && !stopping)
			pthread_cond_wait(&have_work, &mu);
		if (!head && stopping) {
			pthread_mutex_unlock(&mu);
			break;
		}
		size_t n = 0;
		while (head && n < max) {
			batch[n++] = head;
			head = head->next;
		}
		if (!head)
			tail = NULL;
		pthread_mutex_unlock(&mu);
		run_batch(wdb, batch, n);
		for (size_t i = 0; i < n; i++)
			finish(batch[i]);
	}
	free(batch);
	return NULL;
}

int store_writer_start(void)
{
	wdb = db_open(false);
	if (!wdb)
		return -1;
	if (sqlite3_db_readonly(wdb->h, "main") == 1) {
		/* SQLite opens a file it may not write read-only, and every connection
		 * of the process then shares its read-only -shm: nothing short of a
		 * restart would make writes work again. Say so now, not with a 503 on
		 * every write. (Modes changed while scrmd runs do not matter: its
		 * files are open.) */
		log_error("store: %s is read-only for this user (uid %d): scrmd must be able to "
		          "write the database, its -wal and -shm files and their directory; fix "
		          "their owner or mode and start again",
		          store_path(), (int)getuid());
		db_close(wdb);
		wdb = NULL;
		return -1;
	}
	stopping = false;
	if (pthread_create(&thread, NULL, writer_main, NULL) != 0) {
		db_close(wdb);
		wdb = NULL;
		return -1;
	}
	running = true;
	return 0;
}

void store_writer_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_broadcast(&have_work);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	running = false;
	db_close(wdb);
	wdb = NULL;
}

/* Without the writer thread (command-line tools), run the closure right here in
 * a transaction of its own on this thread's write connection. */
static int run_inline(store_write_fn fn, void *ctx)
{
	struct store_db *db = db_open(false);
	if (!db)
		return -ST_UNAVAILABLE;
	struct job j = {.fn = fn, .ctx = ctx};
	struct job *one = &j;
	run_batch(db, &one, 1);
	db_close(db);
	return j.result;
}

static void enqueue(struct job *j)
{
	j->next = NULL;
	if (tail)
		tail->next = j;
	else
		head = j;
	tail = j;
	pthread_cond_signal(&have_work);
}

int store_write(store_write_fn fn, void *ctx)
{
	if (!running)
		return run_inline(fn, ctx);
	struct job j = {.fn = fn, .ctx = ctx};
	pthread_cond_init(&j.cond, NULL);
	pthread_mutex_lock(&mu);
	if (stopping) { /* late arrival during shutdown: the writer may be gone */
		pthread_mutex_unlock(&mu);
		pthread_cond_destroy(&j.cond);
		return run_inline(fn, ctx);
	}
	enqueue(&j);
	while (!j.done)
		pthread_cond_wait(&j.cond, &mu);
	pthread_mutex_unlock(&mu);
	pthread_cond_destroy(&j.cond);
	return j.result;
}

void store_write_async(store_write_fn fn, void *ctx, void (*free_ctx)(void *))
{
	if (!running) {
		run_inline(fn, ctx);
		if (free_ctx)
			free_ctx(ctx);
		return;
	}
	struct job *j = xcalloc(1, sizeof *j);
	j->fn = fn;
	j->ctx = ctx;
	j->free_ctx = free_ctx;
	j->async = true;
	pthread_mutex_lock(&mu);
	if (stopping) {
		pthread_mutex_unlock(&mu);
		free(j);
		run_inline(fn, ctx);
		if (free_ctx)
			free_ctx(ctx);
		return;
	}
	enqueue(j);
	pthread_mutex_unlock(&mu);
}

static int64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

void store_stats_get(struct store_stats *out)
{
	out->commits = atomic_load(&n_commits);
	out->closures = atomic_load(&n_closures);
	out->failed_commits = atomic_load(&n_failed);
	for (int i = 0; i < 8; i++)
		out->batch_hist[i] = atomic_load(&batch_hist[i]);
	const char *p = store_path();
	out->db_bytes = p ? file_size(p) : 0;
	char wal[4096];
	snprintf(wal, sizeof wal, "%s-wal", p ? p : "");
	out->wal_bytes = p ? file_size(wal) : 0;
}
