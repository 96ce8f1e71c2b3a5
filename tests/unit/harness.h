/* harness.h - what every cmocka unit test includes: cmocka itself and helpers
 * for a throw-away database migrated from migrations/. */
#ifndef SCRM_TEST_HARNESS_H
#define SCRM_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include "scrm/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Create a temporary directory holding a fresh database migrated from the
 * repository's migrations/ (tests run from the repository root). Returns the
 * directory (caller frees with test_db_close). */
static inline char *test_db_open(bool start_writer)
{
	char tmpl[] = "/tmp/scrmd-unit-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char *d = strdup(dir);
	char path[512];
	snprintf(path, sizeof path, "%s/scrm.db", d);
	struct store_opts o = {.path = path,
	                       .migrations_dir = "migrations",
	                       .sync_full = false,
	                       .busy_timeout_ms = 5000,
	                       .cache_mb = 8,
	                       .batch_max = 64};
	assert_int_equal(store_init(&o), 0);
	if (start_writer)
		assert_int_equal(store_writer_start(), 0);
	return d;
}

static inline void test_db_close(char *dir)
{
	store_shutdown();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

#endif
