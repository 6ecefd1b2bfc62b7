/*
 * What the catalog's files share and nothing else of the relay uses (the
 * relay's interface is catalog.h; the SQL drivers' is db.h):
 *   catalog.c        the statements (SQL both engines accept), opening
 *                    by address, the per-thread readers
 *   catalog_sqlite.c SQLite's schema and its versions, and moving aside
 *                    and rebuilding a file that is not a valid catalog
 *   catalog_pg.c     PostgreSQL's schema, migrated in versions
 *   catalog_write.c  indexing a stored manifest, rebuilding from the
 *                    store, removing an incident's rows
 *   catalog_query.c  the listings and lookups the API and retention ask
 *   catalog_summary.c the analysis's figures: written, and asked for
 */
#ifndef TT_CATALOG_SQL_H
#define TT_CATALOG_SQL_H

#include <stddef.h>

#include "db.h"

/* An address (catalog_open) that is a PostgreSQL conninfo after this. */
#define CATALOG_POSTGRESQL	"postgresql:"

/* The columns catalog_snapshot_object reads, in this order. */
#define CATALOG_SNAPSHOT_COLUMNS					\
	"s.id, s.node, s.incident, s.taken_at, s.taken_at_us, "		\
	"s.bytes, s.labels_json, s.path, s.analyzer_version, "		\
	"s.analysis, s.events, s.requests, s.slowest_us, s.errors, "	\
	"s.history_lost"

/* The columns catalog_summary_add reads, in this order. */
#define CATALOG_INCIDENT_ROW_COLUMNS					\
	"s.id, s.node, s.taken_at, s.bytes, t.source, t.reason, "	\
	"s.taken_at_us, s.analysis, s.slowest_us, s.history_lost, "	\
	"s.requests, s.errors"

/* Statements prepared once per connection, on first use. */
enum catalog_statement {
	CATALOG_DELETE_TRIGGERS,
	CATALOG_INSERT_SNAPSHOT,
	CATALOG_INSERT_TRIGGER,
	CATALOG_HAS_SNAPSHOT,
	CATALOG_SNAPSHOT_PATH,
	CATALOG_SNAPSHOT_TRIGGERS,
	CATALOG_INCIDENT_ROWS,
	CATALOG_INCIDENT_SNAPSHOTS,
	CATALOG_TOTAL_BYTES,
	CATALOG_OLDEST_INCIDENT,
	CATALOG_DELETE_INCIDENT_TRIGGERS,
	CATALOG_DELETE_INCIDENT_SNAPSHOTS,
	CATALOG_DELETE_INCIDENT_URIS,
	CATALOG_DELETE_INCIDENT_STATUSES,
	CATALOG_DELETE_INCIDENT_BRIEFS,
	CATALOG_SET_SUMMARY,
	CATALOG_DELETE_URIS,
	CATALOG_INSERT_URI,
	CATALOG_DELETE_STATUSES,
	CATALOG_INSERT_STATUS,
	CATALOG_DELETE_BRIEF,
	CATALOG_INSERT_BRIEF,
	CATALOG_INCIDENT_BRIEFS,
	CATALOG_UNANALYZED,
	CATALOG_ADOPT,
	CATALOG_SNAPSHOT,
	CATALOG_UNMEASURED,
	CATALOG_INSERT_REQUEST,
	CATALOG_HAS_REQUEST,
	CATALOG_DELETE_INCIDENT_REQUESTS,
	CATALOG_DELETE_OLD_REQUESTS,
	CATALOG_STATEMENT_COUNT
};

struct catalog {
	struct db	*db;
	struct db_stmt	*statements[CATALOG_STATEMENT_COUNT];
	int		 is_shared;	/* PostgreSQL: no rebuild, no measure */
};

struct catalog_rebuild_stats {
	size_t		 indexed;
	size_t		 skipped;
	char		 first_skipped[512];
};

/* catalog.c: catalog_set_relay()'s name, and the scope ("" = all). */
extern char	 catalog_relay_name[];
const char	*catalog_scope(void);

/* catalog.c */
void		 catalog_sql_error(struct catalog *, char *err, size_t errlen,
		    const char *what);
/*
 * A cached statement, reset and unbound. Reset it again when done
 * (catalog_statement_done), so that no read transaction stays open
 * between calls: a lingering SQLite reader would stop WAL checkpoints.
 */
struct db_stmt	*catalog_statement(struct catalog *, enum catalog_statement);
void		 catalog_statement_done(struct db_stmt *);
/*
 * For a statement that asks whether a row exists, bound: steps it (rc
 * DB_OK; anything else is an earlier failure), releases it, and returns
 * 1 found, 0 not, -1 on error.
 */
int		 catalog_statement_exists(struct db_stmt *, int rc);
/* For constant SQL only (schema): never carries a value. */
int		 catalog_exec(struct catalog *, const char *sql, char *err,
		    size_t errlen);
/* A write transaction, or a savepoint inside one (db_begin). */
int		 catalog_begin(struct catalog *, char *err, size_t errlen);
int		 catalog_commit(struct catalog *, char *err, size_t errlen);
/* After a failure: a failed statement may already have rolled back. */
void		 catalog_rollback(struct catalog *);
/* One read transaction, so that a listing's queries see one state. */
int		 catalog_read_begin(struct catalog *);
void		 catalog_read_end(struct catalog *);

/*
 * catalog_sqlite.c, catalog_pg.c: c->db connected and its schema
 * current; 0, or -1 with err. On success err holds "" or a note worth
 * logging (a rebuild's skipped manifests, a migration).
 */
int		 catalog_sqlite_open(struct catalog *c, const char *path,
		    const char *store_dir, int *was_rebuilt, char *err,
		    size_t errlen);
int		 catalog_pg_open(struct catalog *c, const char *conninfo,
		    char *err, size_t errlen);

/* catalog_summary.c: a stored summary.json, indexed if current. */
int		 catalog_summary_from_store(struct catalog *,
		    const char *store_dir, const char *rel_path,
		    const char *id);

/* catalog_write.c: catalog_rebuild(), with its counts. */
int		 catalog_rebuild_stats(struct catalog *, const char *store_dir,
		    struct catalog_rebuild_stats *, char *err, size_t errlen);
/*
 * catalog_write.c: indexes again, from the store, the rows that lack the
 * relay's own measures (a catalog migrated from version 3); nothing
 * without store_dir (a reader). 0, or -1 with err; on success err is ""
 * or a warning about rows whose snapshot could not be read.
 */
int		 catalog_measure_store(struct catalog *, const char *store_dir,
		    char *err, size_t errlen);

#endif
