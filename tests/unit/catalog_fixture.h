/*
 * The fixture of the catalog's unit tests (test_catalog.c,
 * test_catalog_summary.c, test_catalog_stored.c): a temporary directory
 * with the catalog's file and a store path, removed whole at teardown,
 * and the catalog the test opened in it (closed there too).
 *
 * With TT_CATALOG_PG set to a libpq conninfo (test_catalog_pg.c runs the
 * three that way against a PostgreSQL of its own), the catalog's address
 * is that database instead, emptied before each test; the tests of what
 * SQLite alone does (a file moved aside, a rebuild from the store, its
 * schema versions) skip.
 */
#ifndef TT_CATALOG_FIXTURE_H
#define TT_CATALOG_FIXTURE_H

#include <sys/stat.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "catalog.h"
#include "db.h"

#define T0	1795000000000000LL	/* 2026-11-18T11:06:40Z */

struct fixture {
	char		 dir[PATH_MAX];
	char		 db[PATH_MAX];
	char		 store[PATH_MAX];
	struct catalog	*catalog;
	int		 is_pg;
};

/* An empty database: what the last test left is dropped. */
static int
fixture_pg_reset(const char *conninfo)
{
	PGconn		*conn = PQconnectdb(conninfo);
	PGresult	*result;
	int		 rv = -1;

	if (PQstatus(conn) == CONNECTION_OK) {
		result = PQexec(conn, "SET client_min_messages = warning;"
		    "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
		if (PQresultStatus(result) == PGRES_COMMAND_OK)
			rv = 0;
		else
			fprintf(stderr, "reset: %s", PQerrorMessage(conn));
		PQclear(result);
	} else
		fprintf(stderr, "reset: %s", PQerrorMessage(conn));
	PQfinish(conn);
	return rv;
}

/* For a test of what SQLite alone does. */
#define FIXTURE_SQLITE_ONLY(f) do {					\
	if ((f)->is_pg)							\
		skip();							\
} while (0)

/* One integer a query returns, -1 for none or NULL. */
static inline int64_t
fixture_query_int(struct fixture *f, const char *sql)
{
	struct db	*db;
	struct db_stmt	*stmt;
	char		 err[512];
	int64_t		 value = -1;

	db = f->is_pg ? db_pg_open(f->db + strlen("postgresql:"), err,
	    sizeof(err)) : db_sqlite_open(f->db, err, sizeof(err));
	if (db == NULL)
		fail_msg("%s", err);
	if ((stmt = db_prepare(db, sql, 0)) == NULL)
		fail_msg("%s: %s", sql, db_errmsg(db));
	if (db_step(stmt) == DB_ROW && !db_column_is_null(stmt, 0))
		value = db_column_int64(stmt, 0);
	db_finalize(stmt);
	db_close(db);
	return value;
}

static int
fixture_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_catalog.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
	if (getenv("TT_CATALOG_PG") != NULL) {
		f->is_pg = 1;
		snprintf(f->db, sizeof(f->db), "postgresql:%s",
		    getenv("TT_CATALOG_PG"));
		if (fixture_pg_reset(getenv("TT_CATALOG_PG")) == -1)
			return -1;
	}
	snprintf(f->store, sizeof(f->store), "%s/store", f->dir);
	if (mkdir(f->store, 0755) == -1)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	catalog_close(f->catalog);
	nftw(f->dir, fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

#endif
