/* db_tx.h - for unit tests that work on a real database through the store's
 * internals (include after src/store/internal.h): each test gets a fresh
 * migrated database in one transaction, rolled back when it ends. */
#ifndef SCRM_TEST_DB_TX_H
#define SCRM_TEST_DB_TX_H

#include "harness.h"

static struct store_db *db;

static inline int tx_setup(void **state)
{
	*state = test_db_open(false);
	db = db_open(false);
	db_exec(db, "BEGIN");
	return 0;
}

static inline int tx_teardown(void **state)
{
	db_exec(db, "ROLLBACK");
	db_close(db);
	test_db_close(*state);
	return 0;
}

#endif
