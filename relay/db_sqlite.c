/*
 * The SQLite driver of db.h: one file, opened read-write (created if
 * missing), a busy timeout so that the relay's writer and readers wait
 * for each other's locks instead of failing. Statements kept for the
 * connection's life are prepared SQLITE_PREPARE_PERSISTENT.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "errbuf.h"

#define DB_SQLITE_BUSY_TIMEOUT_MS	5000

struct db_sqlite {
	struct db	 base;
	sqlite3		*handle;
	int		 last_rc;	/* of the last failure */
};

struct db_sqlite_stmt {
	struct db_stmt	 base;
	sqlite3_stmt	*stmt;
};

static struct db_sqlite *
db_sqlite(struct db *db)
{
	return (struct db_sqlite *)db;
}

static sqlite3_stmt *
db_sqlite_stmt(struct db_stmt *stmt)
{
	return ((struct db_sqlite_stmt *)stmt)->stmt;
}

/* Keeps the code of a failure for db_sqlite_is_corrupt. */
static int
db_sqlite_rc(struct db_stmt *stmt, int rc)
{
	if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_sqlite(stmt->db)->last_rc = rc;
	switch (rc) {
	case SQLITE_OK:
		return DB_OK;
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	default:
		return DB_ERROR;
	}
}

static void
db_sqlite_close(struct db *db)
{
	sqlite3_close(db_sqlite(db)->handle);
	free(db);
}

static struct db_stmt *
db_sqlite_prepare(struct db *db, const char *sql, int is_cached)
{
	struct db_sqlite_stmt	*s;
	int			 rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base.db = db;
	rc = sqlite3_prepare_v3(db_sqlite(db)->handle, sql, -1,
	    is_cached ? SQLITE_PREPARE_PERSISTENT : 0, &s->stmt, NULL);
	if (rc != SQLITE_OK) {
		db_sqlite(db)->last_rc = rc;
		sqlite3_finalize(s->stmt);
		free(s);
		return NULL;
	}
	return &s->base;
}

static void
db_sqlite_finalize(struct db_stmt *stmt)
{
	sqlite3_finalize(db_sqlite_stmt(stmt));
	free(stmt);
}

static int
db_sqlite_bind_int64(struct db_stmt *stmt, int index, int64_t value)
{
	return db_sqlite_rc(stmt, sqlite3_bind_int64(db_sqlite_stmt(stmt),
	    index, value));
}

static int
db_sqlite_bind_text(struct db_stmt *stmt, int index, const char *text,
    size_t len)
{
	if (len > INT_MAX)
		return db_sqlite_rc(stmt, SQLITE_TOOBIG);
	return db_sqlite_rc(stmt, sqlite3_bind_text(db_sqlite_stmt(stmt),
	    index, text, (int)len, SQLITE_TRANSIENT));
}

static int
db_sqlite_bind_null(struct db_stmt *stmt, int index)
{
	return db_sqlite_rc(stmt, sqlite3_bind_null(db_sqlite_stmt(stmt),
	    index));
}

static int
db_sqlite_step(struct db_stmt *stmt)
{
	return db_sqlite_rc(stmt, sqlite3_step(db_sqlite_stmt(stmt)));
}

/*
 * Reset when done too, not only before use: a statement left mid-rows
 * keeps a read transaction open, and a lingering reader stops WAL
 * checkpoints.
 */
static void
db_sqlite_reset(struct db_stmt *stmt)
{
	sqlite3_reset(db_sqlite_stmt(stmt));
	sqlite3_clear_bindings(db_sqlite_stmt(stmt));
}

static int
db_sqlite_column_is_null(struct db_stmt *stmt, int column)
{
	return sqlite3_column_type(db_sqlite_stmt(stmt), column) ==
	    SQLITE_NULL;
}

static int64_t
db_sqlite_column_int64(struct db_stmt *stmt, int column)
{
	return sqlite3_column_int64(db_sqlite_stmt(stmt), column);
}

static const char *
db_sqlite_column_text(struct db_stmt *stmt, int column)
{
	return (const char *)sqlite3_column_text(db_sqlite_stmt(stmt),
	    column);
}

static size_t
db_sqlite_column_bytes(struct db_stmt *stmt, int column)
{
	return (size_t)sqlite3_column_bytes(db_sqlite_stmt(stmt), column);
}

static int
db_sqlite_exec(struct db *db, const char *sql)
{
	int	rc;

	if ((rc = sqlite3_exec(db_sqlite(db)->handle, sql, NULL, NULL,
	    NULL)) != SQLITE_OK) {
		db_sqlite(db)->last_rc = rc;
		return DB_ERROR;
	}
	return DB_OK;
}

static int64_t
db_sqlite_changes(struct db *db)
{
	return sqlite3_changes64(db_sqlite(db)->handle);
}

static const char *
db_sqlite_errmsg(struct db *db)
{
	return sqlite3_errmsg(db_sqlite(db)->handle);
}

static int
db_sqlite_in_transaction(struct db *db)
{
	return !sqlite3_get_autocommit(db_sqlite(db)->handle);
}

static const struct db_ops db_sqlite_ops = {
	.close = db_sqlite_close,
	.prepare = db_sqlite_prepare,
	.finalize = db_sqlite_finalize,
	.bind_int64 = db_sqlite_bind_int64,
	.bind_text = db_sqlite_bind_text,
	.bind_null = db_sqlite_bind_null,
	.step = db_sqlite_step,
	.reset = db_sqlite_reset,
	.column_is_null = db_sqlite_column_is_null,
	.column_int64 = db_sqlite_column_int64,
	.column_text = db_sqlite_column_text,
	.column_bytes = db_sqlite_column_bytes,
	.exec = db_sqlite_exec,
	.changes = db_sqlite_changes,
	.errmsg = db_sqlite_errmsg,
	.in_transaction = db_sqlite_in_transaction,
	/* IMMEDIATE: take the write lock now, not halfway through. */
	.write_begin = "BEGIN IMMEDIATE",
	.read_begin = "BEGIN",
};

struct db *
db_sqlite_open(const char *path, char *err, size_t errlen)
{
	struct db_sqlite	*db;
	int			 rc;

	if ((db = calloc(1, sizeof(*db))) == NULL) {
		errbuf_set(err, errlen, "catalog: out of memory");
		return NULL;
	}
	db->base.ops = &db_sqlite_ops;
	rc = sqlite3_open_v2(path, &db->handle,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		errbuf_set(err, errlen, "catalog: %s: %s", path,
		    db->handle != NULL ? sqlite3_errmsg(db->handle) :
		    sqlite3_errstr(rc));
		db_sqlite_close(&db->base);
		return NULL;
	}
	sqlite3_busy_timeout(db->handle, DB_SQLITE_BUSY_TIMEOUT_MS);
	return &db->base;
}

/* Only SQLite's verdict on the content makes a file worth moving aside. */
int
db_sqlite_is_corrupt(struct db *db)
{
	int	rc = db_sqlite(db)->last_rc & 0xff;

	return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT;
}
