/*
 * The PostgreSQL driver of db.h, through libpq: one PGconn per struct
 * db, every value a parameter sent as text, every row read as text.
 * Statements kept for the connection's life are prepared on the server
 * once (per connection: again after a reconnect).
 *
 * A connection the server or the network broke is reset and the call
 * tried once more, but only outside a transaction: inside one, what it
 * did before is gone with the connection, so the call fails and the
 * caller (an upload refused "try again", an API answer) starts over.
 * Blocking by design: only the disk worker, the API's read threads and
 * the analysis threads use it, never the event loop.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "errbuf.h"

struct db_pg {
	struct db	 base;
	PGconn		*conn;
	/* Bumped by each reconnect: what was prepared before is gone. */
	unsigned	 generation;
	unsigned	 statements;	/* names given so far */
	int64_t		 changes;
	char		 error[512];
};

struct db_pg_stmt {
	struct db_stmt	 base;
	char		*sql;		/* with $N */
	int		 nparams;
	char		 name[32];	/* "" for a one-off statement */
	unsigned	 prepared;	/* the generation it was prepared in */
	char		*values[DB_PARAMS_MAX];
	PGresult	*result;
	int		 row, rows;
};

static struct db_pg *
db_pg(struct db *db)
{
	return (struct db_pg *)db;
}

static struct db_pg_stmt *
db_pg_stmt(struct db_stmt *stmt)
{
	return (struct db_pg_stmt *)stmt;
}

/* libpq's messages end with a newline; ours are one line. */
static void
db_pg_set_error(struct db_pg *db, const char *message)
{
	size_t	len;

	snprintf(db->error, sizeof(db->error), "%s", message != NULL &&
	    *message != '\0' ? message : "unknown PostgreSQL error");
	len = strlen(db->error);
	while (len > 0 && isspace((unsigned char)db->error[len - 1]))
		db->error[--len] = '\0';
}

char *
db_pg_placeholders(const char *sql, int *nparams)
{
	char		*out, *p;
	const char	*s;
	long		 n;
	int		 in_quote = 0;

	*nparams = 0;
	if ((out = strdup(sql)) == NULL)
		return NULL;
	for (s = sql, p = out; *s != '\0'; s++, p++) {
		*p = *s;
		if (*s == '\'')
			in_quote = !in_quote;
		if (in_quote || *s != '?' || !isdigit((unsigned char)s[1]))
			continue;
		*p = '$';
		n = strtol(s + 1, NULL, 10);
		if (n > *nparams)
			*nparams = n > DB_PARAMS_MAX ? DB_PARAMS_MAX + 1 :
			    (int)n;
	}
	*p = '\0';
	return out;
}

static void
db_pg_ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* After a failure: whether the connection is what failed. */
static int
db_pg_is_broken(struct db_pg *db)
{
	return PQstatus(db->conn) == CONNECTION_BAD;
}

/*
 * Reconnects with the same parameters. Only outside a transaction: the
 * caller may not go on as if its transaction were still there.
 */
static int
db_pg_reconnect(struct db_pg *db)
{
	if (db->base.depth > 0)
		return DB_ERROR;
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		db_pg_set_error(db, PQerrorMessage(db->conn));
		return DB_ERROR;
	}
	db->generation++;
	return DB_OK;
}

static void
db_pg_close(struct db *db)
{
	PQfinish(db_pg(db)->conn);
	free(db);
}

static struct db_stmt *
db_pg_prepare(struct db *db, const char *sql, int is_cached)
{
	struct db_pg_stmt	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base.db = db;
	if ((s->sql = db_pg_placeholders(sql, &s->nparams)) == NULL ||
	    s->nparams > DB_PARAMS_MAX) {
		db_pg_set_error(db_pg(db), "too many parameters");
		free(s->sql);
		free(s);
		return NULL;
	}
	if (is_cached)
		snprintf(s->name, sizeof(s->name), "tt_%u",
		    ++db_pg(db)->statements);
	return &s->base;
}

static void
db_pg_reset(struct db_stmt *stmt)
{
	struct db_pg_stmt	*s = db_pg_stmt(stmt);
	int			 i;

	PQclear(s->result);
	s->result = NULL;
	s->row = s->rows = 0;
	for (i = 0; i < DB_PARAMS_MAX; i++) {
		free(s->values[i]);
		s->values[i] = NULL;
	}
}

static void
db_pg_finalize(struct db_stmt *stmt)
{
	struct db_pg_stmt *s = db_pg_stmt(stmt);

	db_pg_reset(stmt);
	free(s->sql);
	free(s);
}

static int
db_pg_bind_text(struct db_stmt *stmt, int index, const char *text,
    size_t len)
{
	struct db_pg_stmt	*s = db_pg_stmt(stmt);
	char			*value;

	/* As SQLite: a parameter the SQL does not name is an error. */
	if (index < 1 || index > s->nparams || memchr(text, '\0', len) !=
	    NULL || (value = strndup(text, len)) == NULL)
		return DB_ERROR;
	free(s->values[index - 1]);
	s->values[index - 1] = value;
	return DB_OK;
}

static int
db_pg_bind_int64(struct db_stmt *stmt, int index, int64_t value)
{
	char	text[32];

	snprintf(text, sizeof(text), "%" PRId64, value);
	return db_pg_bind_text(stmt, index, text, strlen(text));
}

static int
db_pg_bind_null(struct db_stmt *stmt, int index)
{
	struct db_pg_stmt *s = db_pg_stmt(stmt);

	if (index < 1 || index > s->nparams)
		return DB_ERROR;
	free(s->values[index - 1]);
	s->values[index - 1] = NULL;
	return DB_OK;
}

/* One try at running s: its result, or NULL with the error set. */
static PGresult *
db_pg_run(struct db_pg *db, struct db_pg_stmt *s)
{
	PGresult	*result;

	if (s->name[0] == '\0')
		return PQexecParams(db->conn, s->sql, s->nparams, NULL,
		    (const char *const *)s->values, NULL, NULL, 0);
	if (s->prepared != db->generation) {
		result = PQprepare(db->conn, s->name, s->sql, s->nparams,
		    NULL);
		if (PQresultStatus(result) != PGRES_COMMAND_OK)
			return result;
		PQclear(result);
		s->prepared = db->generation;
	}
	return PQexecPrepared(db->conn, s->name, s->nparams,
	    (const char *const *)s->values, NULL, NULL, 0);
}

/* A result that failed: the error kept, and the result freed. */
static int
db_pg_failed(struct db_pg *db, PGresult *result)
{
	const char	*message = PQresultErrorMessage(result);

	/* No result, or one without a message: the connection's. */
	db_pg_set_error(db, *message != '\0' ? message :
	    PQerrorMessage(db->conn));
	PQclear(result);
	return DB_ERROR;
}

static int
db_pg_execute(struct db_pg *db, struct db_pg_stmt *s)
{
	ExecStatusType	 status;
	PGresult	*result;
	int		 attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (db_pg_is_broken(db) && db_pg_reconnect(db) == DB_ERROR)
			return DB_ERROR;
		result = db_pg_run(db, s);
		status = PQresultStatus(result);
		if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
			break;
		db_pg_failed(db, result);
		if (!db_pg_is_broken(db) || db->base.depth > 0)
			return DB_ERROR;
	}
	if (attempt == 2)
		return DB_ERROR;
	if (status == PGRES_COMMAND_OK)
		db->changes = strtoll(PQcmdTuples(result), NULL, 10);
	s->result = result;
	s->rows = PQntuples(result);
	s->row = -1;
	return DB_OK;
}

static int
db_pg_step(struct db_stmt *stmt)
{
	struct db_pg_stmt	*s = db_pg_stmt(stmt);

	if (s->result == NULL && db_pg_execute(db_pg(stmt->db), s) ==
	    DB_ERROR)
		return DB_ERROR;
	if (s->row < s->rows)
		s->row++;
	return s->row < s->rows ? DB_ROW : DB_DONE;
}

static int
db_pg_column_is_null(struct db_stmt *stmt, int column)
{
	struct db_pg_stmt *s = db_pg_stmt(stmt);

	return s->result == NULL || s->row < 0 || s->row >= s->rows ||
	    column >= PQnfields(s->result) ||
	    PQgetisnull(s->result, s->row, column);
}

static const char *
db_pg_column_text(struct db_stmt *stmt, int column)
{
	struct db_pg_stmt *s = db_pg_stmt(stmt);

	if (db_pg_column_is_null(stmt, column))
		return NULL;
	return PQgetvalue(s->result, s->row, column);
}

static int64_t
db_pg_column_int64(struct db_stmt *stmt, int column)
{
	const char	*text = db_pg_column_text(stmt, column);

	/* A sum() is numeric, with no fraction for integers. */
	return text != NULL ? strtoll(text, NULL, 10) : 0;
}

static size_t
db_pg_column_bytes(struct db_stmt *stmt, int column)
{
	struct db_pg_stmt *s = db_pg_stmt(stmt);

	if (db_pg_column_is_null(stmt, column))
		return 0;
	return (size_t)PQgetlength(s->result, s->row, column);
}

static int
db_pg_exec(struct db *base, const char *sql)
{
	struct db_pg	*db = db_pg(base);
	PGresult	*result;
	int		 attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (db_pg_is_broken(db) && db_pg_reconnect(db) == DB_ERROR)
			return DB_ERROR;
		result = PQexec(db->conn, sql);
		if (PQresultStatus(result) == PGRES_COMMAND_OK ||
		    PQresultStatus(result) == PGRES_TUPLES_OK) {
			PQclear(result);
			return DB_OK;
		}
		db_pg_failed(db, result);
		if (!db_pg_is_broken(db) || base->depth > 0)
			break;
	}
	return DB_ERROR;
}

static int64_t
db_pg_changes(struct db *db)
{
	return db_pg(db)->changes;
}

static const char *
db_pg_errmsg(struct db *db)
{
	return db_pg(db)->error;
}

static int
db_pg_in_transaction(struct db *db)
{
	switch (PQtransactionStatus(db_pg(db)->conn)) {
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
	case PQTRANS_ACTIVE:
		return 1;
	default:
		return 0;
	}
}

static const struct db_ops db_pg_ops = {
	.close = db_pg_close,
	.prepare = db_pg_prepare,
	.finalize = db_pg_finalize,
	.bind_int64 = db_pg_bind_int64,
	.bind_text = db_pg_bind_text,
	.bind_null = db_pg_bind_null,
	.step = db_pg_step,
	.reset = db_pg_reset,
	.column_is_null = db_pg_column_is_null,
	.column_int64 = db_pg_column_int64,
	.column_text = db_pg_column_text,
	.column_bytes = db_pg_column_bytes,
	.exec = db_pg_exec,
	.changes = db_pg_changes,
	.errmsg = db_pg_errmsg,
	.in_transaction = db_pg_in_transaction,
	.write_begin = "BEGIN",
	/* One snapshot for a listing's several queries, as SQLite's BEGIN. */
	.read_begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
};

struct db *
db_pg_open(const char *conninfo, char *err, size_t errlen)
{
	/*
	 * Our defaults come before dbname, which expands conninfo: what
	 * conninfo sets itself overrides them.
	 */
	static const char *const keywords[] = {
		"connect_timeout", "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "options",
		"application_name", "dbname", NULL
	};
	const char	*values[] = {
		DB_PG_CONNECT_TIMEOUT, "1", "10", "5", "3",
		"-c statement_timeout=" DB_PG_STATEMENT_TIMEOUT,
		"tracetrap-relay", conninfo, NULL
	};
	struct db_pg	*db;

	if ((db = calloc(1, sizeof(*db))) == NULL) {
		errbuf_set(err, errlen, "catalog: out of memory");
		return NULL;
	}
	db->base.ops = &db_pg_ops;
	db->generation = 1;
	db->conn = PQconnectdbParams(keywords, values, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		db_pg_set_error(db, db->conn != NULL ?
		    PQerrorMessage(db->conn) : "out of memory");
		errbuf_set(err, errlen, "catalog: PostgreSQL: %s", db->error);
		db_pg_close(&db->base);
		return NULL;
	}
	PQsetNoticeProcessor(db->conn, db_pg_ignore_notice, NULL);
	return &db->base;
}
