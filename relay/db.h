/*
 * A small SQL driver layer under the catalog (catalog*.c), so that its
 * logic is written once for both engines it runs on: SQLite (db_sqlite.c,
 * one file per relay, the default) and PostgreSQL (db_pg.c, through
 * libpq, shared by every relay of a tier).
 *
 * SQL is written once, in what both engines accept, with numbered
 * parameters ?1, ?2, ...: SQLite reads them as they are, the PostgreSQL
 * driver turns them into $1, $2, .... A statement binds int64, text or
 * NULL, steps through rows and reads int64 or text columns.
 *
 * One struct db is one connection, used by one thread at a time. None of
 * these calls may run on an event loop: libpq's wait for the server and
 * SQLite's for a lock are both blocking.
 */
#ifndef TT_DB_H
#define TT_DB_H

#include <stddef.h>
#include <stdint.h>

/* What step, bind and exec return. */
#define DB_OK		0
#define DB_ROW		1
#define DB_DONE		2
#define DB_ERROR	(-1)

/* The most parameters a statement may bind (the catalog uses 10). */
#define DB_PARAMS_MAX	16

struct db_ops;

/* What every driver's connection and statement start with. */
struct db {
	const struct db_ops	*ops;
	/* Nested transactions: 1 is BEGIN, deeper ones are savepoints. */
	int			 depth;
};
struct db_stmt {
	struct db		*db;
};

struct db_ops {
	void		 (*close)(struct db *);
	struct db_stmt	*(*prepare)(struct db *, const char *sql,
			    int is_cached);
	void		 (*finalize)(struct db_stmt *);
	int		 (*bind_int64)(struct db_stmt *, int, int64_t);
	int		 (*bind_text)(struct db_stmt *, int, const char *,
			    size_t);
	int		 (*bind_null)(struct db_stmt *, int);
	int		 (*step)(struct db_stmt *);
	void		 (*reset)(struct db_stmt *);
	int		 (*column_is_null)(struct db_stmt *, int);
	int64_t		 (*column_int64)(struct db_stmt *, int);
	const char	*(*column_text)(struct db_stmt *, int);
	size_t		 (*column_bytes)(struct db_stmt *, int);
	int		 (*exec)(struct db *, const char *sql);
	int64_t		 (*changes)(struct db *);
	const char	*(*errmsg)(struct db *);
	/* Whether the engine is in a transaction (one may have ended). */
	int		 (*in_transaction)(struct db *);
	const char	*write_begin;	/* a transaction that will write */
	const char	*read_begin;	/* one state for several reads */
};

/* db_sqlite.c: path opened (created if missing). NULL with err. */
struct db	*db_sqlite_open(const char *path, char *err, size_t errlen);
/* Whether the last failure was SQLite saying the file is not valid. */
int		 db_sqlite_is_corrupt(struct db *);

/*
 * db_pg.c: a connection to conninfo (libpq's key=value or URI). Unless
 * conninfo sets them, connect_timeout is DB_PG_CONNECT_TIMEOUT, TCP
 * keepalives are on and statement_timeout is DB_PG_STATEMENT_TIMEOUT,
 * so that a server gone silent fails a call instead of hanging it.
 */
#define DB_PG_CONNECT_TIMEOUT		"5"
#define DB_PG_STATEMENT_TIMEOUT		"30s"
struct db	*db_pg_open(const char *conninfo, char *err, size_t errlen);

/* db.c: what the drivers share, and the calls through their ops. */
void		 db_close(struct db *);
/*
 * A statement of sql; is_cached tells one kept for the connection's life
 * (prepared once, on the server too for PostgreSQL).
 */
struct db_stmt	*db_prepare(struct db *, const char *sql, int is_cached);
void		 db_finalize(struct db_stmt *);
/* text NULL binds NULL. */
int		 db_bind_text(struct db_stmt *, int index, const char *text,
		    size_t len);
int		 db_bind_string(struct db_stmt *, int index, const char *text);
int		 db_bind_int64(struct db_stmt *, int index, int64_t value);
int		 db_bind_null(struct db_stmt *, int index);
int		 db_step(struct db_stmt *);
/* Back to before its first step, its parameters unbound. */
void		 db_reset(struct db_stmt *);
int		 db_column_is_null(struct db_stmt *, int column);
int64_t		 db_column_int64(struct db_stmt *, int column);
/* NULL for SQL NULL; valid until the next step or reset. */
const char	*db_column_text(struct db_stmt *, int column);
size_t		 db_column_bytes(struct db_stmt *, int column);
/* Constant SQL only (schema, transactions): never carries a value. */
int		 db_exec(struct db *, const char *sql);
/* Rows the last INSERT, UPDATE or DELETE changed. */
int64_t		 db_changes(struct db *);
const char	*db_errmsg(struct db *);

/*
 * Transactions, nested: the outermost is a transaction, the inner ones
 * savepoints, so that one snapshot's rows go in alone or inside a
 * rebuild alike. db_rollback also copes with a transaction the engine
 * already ended on an error.
 */
int		 db_begin(struct db *);
int		 db_read_begin(struct db *);
int		 db_commit(struct db *);
void		 db_rollback(struct db *);

/* db_pg.c: "?N" as "$N" (outside quotes); NULL when out of memory. */
char		*db_pg_placeholders(const char *sql, int *nparams);

#endif
