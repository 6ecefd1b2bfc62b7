/*
 * The calls of db.h, through each driver's ops, and the nested
 * transactions both drivers share: BEGIN at the outermost level, a
 * savepoint below it.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"

void
db_close(struct db *db)
{
	if (db != NULL)
		db->ops->close(db);
}

struct db_stmt *
db_prepare(struct db *db, const char *sql, int is_cached)
{
	return db->ops->prepare(db, sql, is_cached);
}

void
db_finalize(struct db_stmt *stmt)
{
	if (stmt != NULL)
		stmt->db->ops->finalize(stmt);
}

int
db_bind_text(struct db_stmt *stmt, int index, const char *text, size_t len)
{
	if (text == NULL)
		return stmt->db->ops->bind_null(stmt, index);
	return stmt->db->ops->bind_text(stmt, index, text, len);
}

int
db_bind_string(struct db_stmt *stmt, int index, const char *text)
{
	return db_bind_text(stmt, index, text, text != NULL ? strlen(text) :
	    0);
}

int
db_bind_int64(struct db_stmt *stmt, int index, int64_t value)
{
	return stmt->db->ops->bind_int64(stmt, index, value);
}

int
db_bind_null(struct db_stmt *stmt, int index)
{
	return stmt->db->ops->bind_null(stmt, index);
}

int
db_step(struct db_stmt *stmt)
{
	return stmt->db->ops->step(stmt);
}

void
db_reset(struct db_stmt *stmt)
{
	if (stmt != NULL)
		stmt->db->ops->reset(stmt);
}

int
db_column_is_null(struct db_stmt *stmt, int column)
{
	return stmt->db->ops->column_is_null(stmt, column);
}

int64_t
db_column_int64(struct db_stmt *stmt, int column)
{
	return stmt->db->ops->column_int64(stmt, column);
}

const char *
db_column_text(struct db_stmt *stmt, int column)
{
	return stmt->db->ops->column_text(stmt, column);
}

size_t
db_column_bytes(struct db_stmt *stmt, int column)
{
	return stmt->db->ops->column_bytes(stmt, column);
}

int
db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

int64_t
db_changes(struct db *db)
{
	return db->ops->changes(db);
}

const char *
db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}

static int
db_begin_with(struct db *db, const char *begin)
{
	char	sql[64];

	if (db->depth == 0) {
		if (db_exec(db, begin) != DB_OK)
			return DB_ERROR;
	} else {
		snprintf(sql, sizeof(sql), "SAVEPOINT db_%d", db->depth);
		if (db_exec(db, sql) != DB_OK)
			return DB_ERROR;
	}
	db->depth++;
	return DB_OK;
}

int
db_begin(struct db *db)
{
	return db_begin_with(db, db->ops->write_begin);
}

int
db_read_begin(struct db *db)
{
	return db_begin_with(db, db->ops->read_begin);
}

int
db_commit(struct db *db)
{
	char	sql[64];
	int	rc;

	if (db->depth == 0)
		return DB_ERROR;
	if (db->depth > 1) {
		snprintf(sql, sizeof(sql), "RELEASE db_%d", db->depth - 1);
		if ((rc = db_exec(db, sql)) == DB_OK)
			db->depth--;
		return rc;
	}
	if (!db->ops->in_transaction(db)) {
		/* The engine ended it on an error: nothing was committed. */
		db->depth = 0;
		return DB_ERROR;
	}
	if ((rc = db_exec(db, "COMMIT")) == DB_OK)
		db->depth = 0;
	return rc;
}

/* Errors are ignored: the engine may have rolled back already. */
void
db_rollback(struct db *db)
{
	char	sql[64];

	if (db->depth == 0)
		return;
	if (db->depth > 1) {
		if (db->ops->in_transaction(db)) {
			snprintf(sql, sizeof(sql), "ROLLBACK TO db_%d",
			    db->depth - 1);
			db_exec(db, sql);
			snprintf(sql, sizeof(sql), "RELEASE db_%d",
			    db->depth - 1);
			db_exec(db, sql);
		}
		db->depth--;
		return;
	}
	if (db->ops->in_transaction(db))
		db_exec(db, "ROLLBACK");
	db->depth = 0;
}
