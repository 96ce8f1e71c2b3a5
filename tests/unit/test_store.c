/* test_store.c - migrations, the group-commit writer (batching, per-closure
 * rollback, a failed transaction acknowledging nothing), the records of
 * users, sessions, tokens, audit and idempotency, and online backups. */
#include "harness.h"

#include "../../src/store/internal.h" /* white box: raw SQL for checks */
#include "scrm/store_auth.h"
#include "scrm/timeutil.h"

#include <pthread.h>
#include <sqlite3.h>

static int64_t count_rows(const char *sql)
{
	struct store_db *db = store_reader();
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db->h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int insert_audit(struct store_db *db, const char *action)
{
	struct audit_entry e = {.at = time_now(), .actor = "test", .action = action};
	return store_audit_insert(db, &e);
}

/* Migrations ----------------------------------------------------------------- */

static void test_migrations_applied(void **state)
{
	(void)state;
	char *dir = test_db_open(false);
	assert_int_equal(count_rows("SELECT count(*) FROM schema_migrations WHERE version = 1"), 1);
	assert_int_equal(count_rows("SELECT count(*) FROM sqlite_master WHERE name = 'users'"), 1);
	assert_int_equal(store_apply_migrations(false), 0); /* nothing pending */
	assert_int_equal(count_rows("PRAGMA foreign_keys"), 1);
	assert_int_equal(
	    count_rows("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	test_db_close(dir);
}

static void copy_migrations(const char *to)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp migrations/*.sql '%s'/", to, to);
	assert_int_equal(system(cmd), 0);
}

static int open_with(const char *dbpath, const char *migdir)
{
	struct store_opts o = {.path = dbpath,
	                       .migrations_dir = migdir,
	                       .busy_timeout_ms = 1000,
	                       .cache_mb = 2,
	                       .batch_max = 8};
	int rc = store_init(&o);
	store_shutdown();
	return rc;
}

static void test_migration_guards(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/scrmd-mig-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char mig[128], db[128], cmd[1200];
	snprintf(mig, sizeof mig, "%s/migrations", dir);
	snprintf(db, sizeof db, "%s/scrm.db", dir);
	copy_migrations(mig);
	assert_int_equal(open_with(db, mig), 0);

	/* a new migration is applied, in its own transaction */
	snprintf(cmd, sizeof cmd, "printf 'CREATE TABLE extra(x);\\n' > '%s/9000_extra.sql'", mig);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(open_with(db, mig), 0);

	/* a failing migration leaves nothing of itself behind */
	snprintf(
	    cmd, sizeof cmd,
	    "printf 'CREATE TABLE half(x);\\nINSERT INTO nosuch VALUES(1);\\n' > '%s/9001_bad.sql'",
	    mig);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(open_with(db, mig), -1);
	snprintf(cmd, sizeof cmd, "rm '%s/9001_bad.sql'", mig);
	assert_int_equal(system(cmd), 0);
	struct store_opts o = {
	    .path = db, .migrations_dir = mig, .busy_timeout_ms = 1000, .cache_mb = 2};
	assert_int_equal(store_init(&o), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM sqlite_master WHERE name = 'half'"), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM sqlite_master WHERE name = 'extra'"), 1);
	store_shutdown();

	/* an applied migration that was edited stops the start */
	snprintf(cmd, sizeof cmd, "printf 'CREATE TABLE extra(x, y);\\n' > '%s/9000_extra.sql'",
	         mig);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(open_with(db, mig), -1);

	/* so does a database newer than the migrations we know */
	snprintf(cmd, sizeof cmd, "rm '%s/9000_extra.sql'", mig);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(open_with(db, mig), -1);

	/* badly named files are refused, not skipped */
	snprintf(cmd, sizeof cmd, "rm -rf '%s'; mkdir -p '%s'; touch '%s/1_x.sql'", mig, mig, mig);
	assert_int_equal(system(cmd), 0);
	snprintf(db, sizeof db, "%s/other.db", dir);
	assert_int_equal(open_with(db, mig), -1);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The writer ----------------------------------------------------------------- */

struct slow {
	int ms;
	const char *action;
};

static int slow_insert(struct store_db *db, void *ctx)
{
	struct slow *s = ctx;
	if (s->ms)
		usleep((useconds_t)s->ms * 1000);
	return insert_audit(db, s->action) == ST_OK ? 0 : -ST_ERR;
}

static int insert_then_reject(struct store_db *db, void *ctx)
{
	(void)ctx;
	insert_audit(db, "rejected");
	return 7; /* a closure's own "no": its changes go, the value comes back */
}

static int insert_then_abort(struct store_db *db, void *ctx)
{
	(void)ctx;
	insert_audit(db, "aborted");
	/* what SQLite does on a disk-full or I/O error mid-transaction */
	db_exec(db, "ROLLBACK");
	return 0;
}

struct job_arg {
	store_write_fn fn;
	void *ctx;
	int result;
};

static void *run_job(void *p)
{
	struct job_arg *j = p;
	j->result = store_write(j->fn, j->ctx);
	return NULL;
}

/* Start a blocker, then n jobs while it runs: they share the next batch. */
static void run_batched(struct job_arg *jobs, int n)
{
	struct slow block = {.ms = 150, .action = "blocker"};
	struct job_arg b = {.fn = slow_insert, .ctx = &block};
	pthread_t tb, t[16];
	pthread_create(&tb, NULL, run_job, &b);
	usleep(30000);
	for (int i = 0; i < n; i++) {
		pthread_create(&t[i], NULL, run_job, &jobs[i]);
		usleep(2000); /* keep their order in the queue */
	}
	pthread_join(tb, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(b.result, 0);
}

static void test_writer_batches(void **state)
{
	(void)state;
	char *dir = test_db_open(true);
	struct store_stats before, after;
	store_stats_get(&before);
	struct slow fast = {.action = "batched"};
	struct job_arg jobs[10];
	for (int i = 0; i < 10; i++)
		jobs[i] = (struct job_arg){.fn = slow_insert, .ctx = &fast};
	run_batched(jobs, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(jobs[i].result, 0);
	store_stats_get(&after);
	assert_int_equal(after.closures - before.closures, 11);
	assert_true(after.commits - before.commits <=
	            3); /* one for the blocker, few for the rest */
	assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE action = 'batched'"), 10);
	test_db_close(dir);
}

static void test_writer_isolation(void **state)
{
	(void)state;
	char *dir = test_db_open(true);
	struct slow ok = {.action = "kept"};
	struct job_arg jobs[3] = {{.fn = slow_insert, .ctx = &ok},
	                          {.fn = insert_then_reject},
	                          {.fn = slow_insert, .ctx = &ok}};
	run_batched(jobs, 3);
	assert_int_equal(jobs[0].result, 0);
	assert_int_equal(jobs[1].result, 7);
	assert_int_equal(jobs[2].result, 0);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE action = 'kept'"), 2);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE action = 'rejected'"), 0);
	test_db_close(dir);
}

/* When the transaction dies mid-batch, no closure of the batch may be told it
 * succeeded, including those that ran before the failure. */
static void test_writer_failed_batch(void **state)
{
	(void)state;
	char *dir = test_db_open(true);
	struct slow ok = {.action = "lost"};
	struct job_arg jobs[3] = {{.fn = slow_insert, .ctx = &ok},
	                          {.fn = insert_then_abort},
	                          {.fn = slow_insert, .ctx = &ok}};
	run_batched(jobs, 3);
	assert_true(jobs[0].result < 0);
	assert_true(jobs[1].result < 0);
	assert_int_equal(
	    count_rows("SELECT count(*) FROM audit_log WHERE action IN ('lost', 'aborted')"), 0);
	/* the writer goes on afterwards */
	struct slow after = {.action = "after"};
	assert_int_equal(store_write(slow_insert, &after), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE action = 'after'"), 1);
	assert_false(store_unavailable());
	test_db_close(dir);
}

static void *hammer(void *p)
{
	struct slow s = {.action = "hammer"};
	for (int i = 0; i < 100; i++)
		if (store_write(slow_insert, &s) != 0)
			*(int *)p += 1;
	return NULL;
}

static void test_writer_concurrent(void **state)
{
	(void)state;
	char *dir = test_db_open(true);
	pthread_t t[8];
	int errors[8] = {0};
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, hammer, &errors[i]);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(errors[i], 0);
	}
	assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE action = 'hammer'"), 800);
	test_db_close(dir);
}

static int async_ctx_freed;
static void free_ctx(void *p)
{
	(void)p;
	async_ctx_freed++;
}

static void test_writer_inline_and_async(void **state)
{
	(void)state;
	char *dir = test_db_open(false); /* no writer thread: closures run here */
	struct slow s = {.action = "inline"};
	assert_int_equal(store_write(slow_insert, &s), 0);
	assert_int_equal(store_write(insert_then_reject, NULL), 7);
	async_ctx_freed = 0;
	store_write_async(slow_insert, &s, free_ctx);
	assert_int_equal(async_ctx_freed, 1);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE action = 'inline'"), 2);
	test_db_close(dir);

	dir = test_db_open(true);
	async_ctx_freed = 0;
	for (int i = 0; i < 20; i++)
		store_write_async(slow_insert, &s, free_ctx);
	store_writer_stop(); /* drains the queue */
	assert_int_equal(async_ctx_freed, 20);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE action = 'inline'"), 20);
	test_db_close(dir);
}

/* Records -------------------------------------------------------------------- */

static void test_users_sessions(void **state)
{
	(void)state;
	char *dir = test_db_open(false);
	struct store_db *w = db_open(false);
	struct user u = {.username = strdup("Li.Wei"),
	                 .display_name = strdup("李伟"),
	                 .role = strdup("operator"),
	                 .password_hash = strdup("h")};
	assert_int_equal(store_user_insert(w, &u), ST_OK);
	assert_true(u.id > 0);
	struct user dup = {.username = "li.wei", .role = "viewer", .password_hash = "h"};
	assert_int_equal(store_user_insert(w, &dup), ST_CONFLICT); /* names ignore case */
	struct user got = {0};
	assert_int_equal(store_user_by_name(w, "LI.WEI", &got), ST_OK);
	assert_string_equal(got.display_name, "李伟");
	user_clear(&got);
	assert_int_equal(store_user_get(w, 999, &got), ST_NOT_FOUND);
	assert_int_equal(store_admins_active(w, 0), 0);

	unsigned char h[32] = {1, 2, 3};
	struct session s = {
	    .user_id = u.id, .csrf_token = "csrf", .created_at = 1000, .expires_at = 5000};
	assert_int_equal(store_session_insert(w, h, &s, "127.0.0.1", "ua"), ST_OK);
	struct session s2 = {0};
	assert_int_equal(store_session_get(w, h, &s2, &got), ST_OK);
	assert_string_equal(s2.csrf_token, "csrf");
	assert_string_equal(got.username, "Li.Wei");
	session_clear(&s2);
	user_clear(&got);
	assert_int_equal(store_session_purge(w, 4000, 900), ST_OK); /* still valid */
	assert_int_equal(store_session_get(w, h, &s2, &got), ST_OK);
	session_clear(&s2);
	user_clear(&got);
	assert_int_equal(store_session_purge(w, 6000, 0), ST_OK); /* expired */
	assert_int_equal(store_session_get(w, h, &s2, &got), ST_NOT_FOUND);
	user_clear(&u);
	db_close(w);
	test_db_close(dir);
}

static void test_tokens_audit_idem(void **state)
{
	(void)state;
	char *dir = test_db_open(false);
	struct store_db *w = db_open(false);
	unsigned char h[32] = {9};
	struct api_token t = {
	    .name = "ci", .role = "viewer", .prefix = "scrm_abc", .created_at = 10};
	assert_int_equal(store_token_insert(w, h, &t), ST_OK);
	struct api_token g = {0};
	assert_int_equal(store_token_by_hash(w, h, &g), ST_OK);
	assert_int_equal(g.id, t.id);
	assert_int_equal(g.revoked_at, 0);
	api_token_clear(&g);
	assert_int_equal(store_token_revoke(w, t.id, 50), ST_OK);
	assert_int_equal(store_token_revoke(w, t.id, 60), ST_OK); /* keeps the first time */
	assert_int_equal(store_token_get(w, t.id, &g), ST_OK);
	assert_int_equal(g.revoked_at, 50);
	api_token_clear(&g);
	assert_int_equal(store_token_revoke(w, 12345, 60), ST_NOT_FOUND);
	assert_int_equal(store_token_count(w), 1);

	for (int i = 0; i < 30; i++) {
		struct audit_entry e = {.at = 1000 + i,
		                        .actor = i % 2 ? "user:1" : "token:2",
		                        .action = i % 3 ? "x.update" : "x.create",
		                        .target_type = "x",
		                        .target_id = i};
		assert_int_equal(store_audit_insert(w, &e), ST_OK);
	}
	struct audit_filter all = {0}, f = {.actor = "user:1", .action = "x.update", .from = 1010};
	assert_int_equal(store_audit_count(w, &all), 30);
	int64_t want = 0;
	for (int i = 10; i < 30; i++)
		want += (i % 2) && (i % 3);
	assert_int_equal(store_audit_count(w, &f), want);

	struct idem_record r = {.status = 201, .body = "{\"id\":1}", .location = "/x/1"};
	memset(r.request_hash, 7, 32);
	assert_int_equal(store_idem_put(w, "user:1", "k", &r, 100), ST_OK);
	assert_int_equal(store_idem_put(w, "user:1", "k", &r, 100), ST_CONFLICT);
	assert_int_equal(store_idem_put(w, "user:2", "k", &r, 100),
	                 ST_OK); /* keys are per principal */
	struct idem_record back = {0};
	assert_int_equal(store_idem_get(w, "user:1", "k", &back), ST_OK);
	assert_int_equal(back.status, 201);
	assert_string_equal(back.body, "{\"id\":1}");
	assert_string_equal(back.location, "/x/1");
	assert_memory_equal(back.request_hash, r.request_hash, 32);
	idem_record_clear(&back);
	assert_int_equal(store_idem_purge(w, 101), ST_OK);
	assert_int_equal(store_idem_get(w, "user:1", "k", &back), ST_NOT_FOUND);
	db_close(w);
	test_db_close(dir);
}

static void test_backup(void **state)
{
	(void)state;
	char *dir = test_db_open(true);
	struct slow s = {.action = "before-backup"};
	for (int i = 0; i < 50; i++)
		assert_int_equal(store_write(slow_insert, &s), 0);
	char out[512];
	snprintf(out, sizeof out, "%s/backup.db", dir);
	int64_t bytes = 0;
	assert_int_equal(store_backup(store_reader(), out, &bytes), 0);
	assert_true(bytes > 0);
	assert_int_equal(store_backup(store_reader(), out, &bytes), -ST_CONFLICT);
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open_v2(out, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(h,
	                                    "SELECT (SELECT count(*) FROM audit_log WHERE action ="
	                                    " 'before-backup'), (SELECT integrity_check FROM"
	                                    " pragma_integrity_check)",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 50);
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "ok");
	sqlite3_finalize(st);
	sqlite3_close(h);
	test_db_close(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_migrations_applied),
	    cmocka_unit_test(test_migration_guards),
	    cmocka_unit_test(test_writer_batches),
	    cmocka_unit_test(test_writer_isolation),
	    cmocka_unit_test(test_writer_failed_batch),
	    cmocka_unit_test(test_writer_concurrent),
	    cmocka_unit_test(test_writer_inline_and_async),
	    cmocka_unit_test(test_users_sessions),
	    cmocka_unit_test(test_tokens_audit_idem),
	    cmocka_unit_test(test_backup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
