/*
 * The relay's catalog (catalog.h): an SQLite index of the stored
 * snapshots, so the HTTP API and retention can answer "which incidents",
 * "which snapshots from node N with a trigger from source S since T" and
 * "what is oldest" without walking the store.
 *
 * The store stays the source of truth: nothing in here is ever the only
 * copy of anything. That is why a catalog we cannot trust is moved aside
 * and rebuilt from the manifests instead of repaired.
 *
 * Not thread-safe by itself: a struct catalog is one connection and its
 * cached statements, used by one thread at a time. Each thread opens its
 * own; WAL lets the disk thread write while the event loop reads.
 *
 * Every value reaching SQLite is a bound parameter. The only SQL text we
 * assemble (the snapshot filter) is made of constant fragments.
 *
 * This file holds the schema, the connection and its statements, and
 * opening (with the checks that send an invalid file aside); writes are
 * in catalog_write.c, reads in catalog_query.c, and catalog_sql.h is what
 * the three share.
 */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog.h"
#include "catalog_sql.h"
#include "errbuf.h"

/*
 * Bump on any schema change. An older catalog is migrated when
 * catalog_migrate() knows how (version 1: the analysis's columns and
 * tables; version 2: the briefs; version 3: what the relay measured
 * itself, and the incidents it asked nodes for), else moved aside and
 * rebuilt from the store.
 */
#define CATALOG_SCHEMA_VERSION		4
/* 0x54546361, "TTca": tells our files from any other SQLite database. */
#define CATALOG_APPLICATION_ID		1414816609
#define CATALOG_BUSY_TIMEOUT_MS		5000

#define CATALOG_STRINGIFY(x)		CATALOG_STRINGIFY_VALUE(x)
#define CATALOG_STRINGIFY_VALUE(x)	#x

/*
 * IF NOT EXISTS: two connections may find the same new file empty (the
 * relay's writer and reader starting together); the second one through
 * the lock then has nothing left to do.
 */
/*
 * What the analysis adds (version 2): a snapshot's key figures, NULL
 * until its summary.json is written, and per-URI and per-status counts
 * for the API's filters.
 */
#define CATALOG_ANALYSIS_COLUMNS					\
	"ALTER TABLE snapshots ADD COLUMN analyzer_version INTEGER;"	\
	"ALTER TABLE snapshots ADD COLUMN analysis TEXT;"		\
	"ALTER TABLE snapshots ADD COLUMN events INTEGER;"		\
	"ALTER TABLE snapshots ADD COLUMN discarded INTEGER;"		\
	"ALTER TABLE snapshots ADD COLUMN requests INTEGER;"		\
	"ALTER TABLE snapshots ADD COLUMN slowest_us INTEGER;"		\
	"ALTER TABLE snapshots ADD COLUMN errors INTEGER;"		\
	"ALTER TABLE snapshots ADD COLUMN history_lost INTEGER;"
#define CATALOG_ANALYSIS_TABLES						\
	"CREATE TABLE IF NOT EXISTS snapshot_uris ("			\
	"  snapshot_id TEXT NOT NULL,"					\
	"  uri TEXT NOT NULL,"						\
	"  count INTEGER NOT NULL,"					\
	"  errors INTEGER NOT NULL,"					\
	"  max_us INTEGER NOT NULL,"					\
	"  PRIMARY KEY (snapshot_id, uri)"				\
	") WITHOUT ROWID;"						\
	"CREATE INDEX IF NOT EXISTS snapshot_uris_uri"			\
	"  ON snapshot_uris (uri, snapshot_id);"			\
	"CREATE TABLE IF NOT EXISTS snapshot_statuses ("		\
	"  snapshot_id TEXT NOT NULL,"					\
	"  status INTEGER NOT NULL,"					\
	"  count INTEGER NOT NULL,"					\
	"  PRIMARY KEY (snapshot_id, status)"				\
	") WITHOUT ROWID;"						\
	"CREATE INDEX IF NOT EXISTS snapshot_statuses_status"		\
	"  ON snapshot_statuses (status, snapshot_id);"			\
	"CREATE INDEX IF NOT EXISTS snapshots_analyzer_version"		\
	"  ON snapshots (analyzer_version);"
/*
 * Version 3: each analyzed snapshot's brief, its summary with the
 * ANALYZE_BRIEF_REQUESTS slowest requests (and those that triggered or
 * were in flight): an incident's page reads these, not the summaries.
 */
#define CATALOG_BRIEF_TABLE						\
	"CREATE TABLE IF NOT EXISTS snapshot_briefs ("			\
	"  snapshot_id TEXT PRIMARY KEY NOT NULL,"			\
	"  brief TEXT NOT NULL"						\
	");"
/*
 * Version 4: what retention goes by, measured by the relay rather than
 * declared by the node (a node could declare "bytes": 0 or a taken_at_us
 * far in the future and pin the store full): the bytes the snapshot
 * takes on disk and the relay's clock when it arrived. NULL in a row
 * only catalog_add() made (the tests'), or one migrated from version 3
 * until the writer measures it from the store (catalog_measure_store).
 * And the incidents the relay asked each node to snapshot: a node's
 * manifest may name only those (store_upload_claimed_incident()).
 */
#define CATALOG_STORED_COLUMNS						\
	"ALTER TABLE snapshots ADD COLUMN stored_bytes INTEGER;"	\
	"ALTER TABLE snapshots ADD COLUMN received_at_us INTEGER;"
#define CATALOG_REQUESTS_TABLE						\
	"CREATE TABLE IF NOT EXISTS incident_requests ("		\
	"  incident TEXT NOT NULL,"					\
	"  node TEXT NOT NULL,"						\
	"  requested_at_us INTEGER NOT NULL,"				\
	"  PRIMARY KEY (incident, node)"				\
	") WITHOUT ROWID;"						\
	"CREATE INDEX IF NOT EXISTS incident_requests_at"		\
	"  ON incident_requests (requested_at_us);"

/*
 * IF NOT EXISTS: two connections may find the same new file empty (the
 * relay's writer and reader starting together); the second one through
 * the lock then has nothing left to do. The version 2 columns are added
 * as a migration would add them, so both paths give one schema.
 */
static const char catalog_schema[] =
	"BEGIN IMMEDIATE;"
	"CREATE TABLE IF NOT EXISTS snapshots ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  node TEXT NOT NULL,"
	"  incident TEXT NOT NULL,"
	"  taken_at_us INTEGER NOT NULL,"
	"  taken_at TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  labels_json TEXT NOT NULL,"
	"  analyzer_version INTEGER,"
	"  analysis TEXT,"
	"  events INTEGER,"
	"  discarded INTEGER,"
	"  requests INTEGER,"
	"  slowest_us INTEGER,"
	"  errors INTEGER,"
	"  history_lost INTEGER,"
	"  stored_bytes INTEGER,"
	"  received_at_us INTEGER"
	");"
	/* One row per trigger, in manifest order (seq). */
	"CREATE TABLE IF NOT EXISTS triggers ("
	"  snapshot_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  source TEXT,"
	"  reason TEXT,"
	"  PRIMARY KEY (snapshot_id, seq)"
	") WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS snapshots_node"
	"  ON snapshots (node, taken_at_us);"
	"CREATE INDEX IF NOT EXISTS snapshots_incident"
	"  ON snapshots (incident, taken_at_us);"
	"CREATE INDEX IF NOT EXISTS snapshots_taken_at"
	"  ON snapshots (taken_at_us);"
	"CREATE INDEX IF NOT EXISTS triggers_source"
	"  ON triggers (source, snapshot_id);"
	CATALOG_ANALYSIS_TABLES
	CATALOG_BRIEF_TABLE
	CATALOG_REQUESTS_TABLE
	"PRAGMA user_version = " CATALOG_STRINGIFY(CATALOG_SCHEMA_VERSION) ";"
	"PRAGMA application_id = " CATALOG_STRINGIFY(CATALOG_APPLICATION_ID) ";"
	"COMMIT;";

/* From versions 1 and 2, inside catalog_migrate()'s transaction. */
static const char catalog_migrate_1[] =
	CATALOG_ANALYSIS_COLUMNS
	CATALOG_ANALYSIS_TABLES
	"PRAGMA user_version = 2;";
static const char catalog_migrate_2[] =
	CATALOG_BRIEF_TABLE
	"PRAGMA user_version = 3;";
static const char catalog_migrate_3[] =
	CATALOG_STORED_COLUMNS
	CATALOG_REQUESTS_TABLE
	"PRAGMA user_version = 4;";

static const char *const catalog_sql[CATALOG_STATEMENT_COUNT] = {
	[CATALOG_DELETE_TRIGGERS] =
	    "DELETE FROM triggers WHERE snapshot_id = ?1",
	[CATALOG_INSERT_SNAPSHOT] =
	    "INSERT OR REPLACE INTO snapshots (id, node, incident, "
	    "taken_at_us, taken_at, bytes, path, labels_json, stored_bytes, "
	    "received_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[CATALOG_INSERT_TRIGGER] =
	    "INSERT INTO triggers (snapshot_id, seq, source, reason) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[CATALOG_HAS_SNAPSHOT] =
	    "SELECT 1 FROM snapshots WHERE id = ?1",
	[CATALOG_SNAPSHOT_PATH] =
	    "SELECT path FROM snapshots WHERE id = ?1",
	[CATALOG_SNAPSHOT_TRIGGERS] =
	    "SELECT source, reason FROM triggers WHERE snapshot_id = ?1 "
	    "ORDER BY seq",
	/* Oldest first, so that "first seen" means first in time. */
	[CATALOG_INCIDENT_ROWS] =
	    "SELECT " CATALOG_INCIDENT_ROW_COLUMNS " "
	    "FROM snapshots s LEFT JOIN triggers t ON t.snapshot_id = s.id "
	    "WHERE s.incident = ?1 ORDER BY s.taken_at_us, s.id, t.seq",
	[CATALOG_INCIDENT_SNAPSHOTS] =
	    "SELECT " CATALOG_SNAPSHOT_COLUMNS " FROM snapshots s "
	    "WHERE s.incident = ?1 ORDER BY s.taken_at_us DESC, s.id DESC",
	/*
	 * Retention's figures: the relay's own measures (version 4), the
	 * node's only in a row that has none (CATALOG_STORED_COLUMNS).
	 */
	[CATALOG_TOTAL_BYTES] =
	    "SELECT coalesce(sum(coalesce(stored_bytes, bytes)), 0) "
	    "FROM snapshots",
	[CATALOG_OLDEST_INCIDENT] =
	    "SELECT incident, max(coalesce(received_at_us, taken_at_us)) "
	    "AS last_us, sum(coalesce(stored_bytes, bytes)) "
	    "FROM snapshots GROUP BY incident ORDER BY last_us, incident "
	    "LIMIT 1",
	[CATALOG_UNMEASURED] =
	    "SELECT path FROM snapshots WHERE stored_bytes IS NULL LIMIT ?1",
	[CATALOG_INSERT_REQUEST] =
	    "INSERT OR REPLACE INTO incident_requests (incident, node, "
	    "requested_at_us) VALUES (?1, ?2, ?3)",
	[CATALOG_HAS_REQUEST] =
	    "SELECT 1 FROM incident_requests WHERE incident = ?1 AND "
	    "node = ?2",
	[CATALOG_DELETE_INCIDENT_REQUESTS] =
	    "DELETE FROM incident_requests WHERE incident = ?1",
	[CATALOG_DELETE_OLD_REQUESTS] =
	    "DELETE FROM incident_requests WHERE requested_at_us < ?1",
	[CATALOG_DELETE_INCIDENT_TRIGGERS] =
	    "DELETE FROM triggers WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1)",
	[CATALOG_DELETE_INCIDENT_SNAPSHOTS] =
	    "DELETE FROM snapshots WHERE incident = ?1",
	[CATALOG_DELETE_INCIDENT_URIS] =
	    "DELETE FROM snapshot_uris WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1)",
	[CATALOG_DELETE_INCIDENT_STATUSES] =
	    "DELETE FROM snapshot_statuses WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1)",
	[CATALOG_DELETE_INCIDENT_BRIEFS] =
	    "DELETE FROM snapshot_briefs WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1)",
	[CATALOG_SET_SUMMARY] =
	    "UPDATE snapshots SET analyzer_version = ?2, analysis = ?3, "
	    "events = ?4, discarded = ?5, requests = ?6, slowest_us = ?7, "
	    "errors = ?8, history_lost = ?9 WHERE id = ?1",
	[CATALOG_DELETE_URIS] =
	    "DELETE FROM snapshot_uris WHERE snapshot_id = ?1",
	[CATALOG_INSERT_URI] =
	    "INSERT OR REPLACE INTO snapshot_uris (snapshot_id, uri, count, "
	    "errors, max_us) VALUES (?1, ?2, ?3, ?4, ?5)",
	[CATALOG_DELETE_STATUSES] =
	    "DELETE FROM snapshot_statuses WHERE snapshot_id = ?1",
	[CATALOG_INSERT_STATUS] =
	    "INSERT OR REPLACE INTO snapshot_statuses (snapshot_id, status, "
	    "count) VALUES (?1, ?2, ?3)",
	[CATALOG_DELETE_BRIEF] =
	    "DELETE FROM snapshot_briefs WHERE snapshot_id = ?1",
	[CATALOG_INSERT_BRIEF] =
	    "INSERT OR REPLACE INTO snapshot_briefs (snapshot_id, brief) "
	    "VALUES (?1, ?2)",
	[CATALOG_INCIDENT_BRIEFS] =
	    "SELECT b.snapshot_id, b.brief FROM snapshots s "
	    "JOIN snapshot_briefs b ON b.snapshot_id = s.id "
	    "WHERE s.incident = ?1",
	/* Newest first: what an investigator looks at now comes first. */
	[CATALOG_SNAPSHOT] =
	    "SELECT " CATALOG_SNAPSHOT_COLUMNS " FROM snapshots s "
	    "WHERE s.id = ?1",
	[CATALOG_UNANALYZED] =
	    "SELECT id, path FROM snapshots WHERE analyzer_version IS NULL "
	    "OR analyzer_version < ?1 ORDER BY taken_at_us DESC LIMIT ?2",
};

/* What catalog_check found in an existing file. */
enum catalog_state {
	CATALOG_STATE_ERROR,	/* could not tell: leave the file alone */
	CATALOG_STATE_EMPTY,	/* new or zero-length: create the schema */
	CATALOG_STATE_VALID,
	CATALOG_STATE_OLD,	/* an older schema catalog_migrate() knows */
	CATALOG_STATE_INVALID	/* move aside and rebuild */
};

void
catalog_sql_error(struct catalog *c, char *err, size_t errlen,
    const char *what)
{
	errbuf_set(err, errlen, "catalog: %s: %s", what,
	    sqlite3_errmsg(c->db));
}

/*
 * Returns a cached statement, reset and unbound. Callers reset it again
 * when done (catalog_statement_done), so that no read transaction stays
 * open between calls: a lingering reader would stop WAL checkpoints.
 */
sqlite3_stmt *
catalog_statement(struct catalog *c, enum catalog_statement which)
{
	sqlite3_stmt	*stmt = c->statements[which];

	if (stmt == NULL) {
		if (sqlite3_prepare_v3(c->db, catalog_sql[which], -1,
		    SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
			return NULL;
		c->statements[which] = stmt;
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return stmt;
}

void
catalog_statement_done(sqlite3_stmt *stmt)
{
	if (stmt == NULL)
		return;
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

int
catalog_statement_exists(sqlite3_stmt *stmt, int rc)
{
	if (stmt != NULL && rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	else if (rc == SQLITE_OK)
		rc = SQLITE_ERROR;
	catalog_statement_done(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* For constant SQL only (transactions, schema): never carries a value. */
int
catalog_exec(struct catalog *c, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		catalog_sql_error(c, err, errlen, sql);
		return -1;
	}
	return 0;
}

/* After a failure: a failed statement may already have rolled back. */
void
catalog_rollback(struct catalog *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * The listings run several queries (one per snapshot for its triggers);
 * one read transaction makes them all see the same state while the disk
 * thread writes.
 */
int
catalog_read_begin(struct catalog *c)
{
	return sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
}

void
catalog_read_end(struct catalog *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
}

int
catalog_bind_text(sqlite3_stmt *stmt, int index, const char *text,
    size_t len)
{
	if (text == NULL)
		return sqlite3_bind_null(stmt, index);
	if (len > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_text(stmt, index, text, (int)len,
	    SQLITE_TRANSIENT);
}

static void
catalog_free_statements(struct catalog *c)
{
	int	i;

	for (i = 0; i < CATALOG_STATEMENT_COUNT; i++) {
		sqlite3_finalize(c->statements[i]);
		c->statements[i] = NULL;
	}
}

void
catalog_close(struct catalog *c)
{
	if (c == NULL)
		return;
	catalog_free_statements(c);
	sqlite3_close(c->db);
	free(c);
}

static struct catalog *
catalog_connect(const char *db_path, char *err, size_t errlen)
{
	struct catalog	*c;
	int		 rc;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errbuf_set(err, errlen, "catalog: out of memory");
		return NULL;
	}
	rc = sqlite3_open_v2(db_path, &c->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		errbuf_set(err, errlen, "catalog: %s: %s", db_path,
		    c->db != NULL ? sqlite3_errmsg(c->db) :
		    sqlite3_errstr(rc));
		catalog_close(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, CATALOG_BUSY_TIMEOUT_MS);
	return c;
}

/* Only SQLite's verdict on the content makes a file worth moving aside. */
static int
catalog_is_corruption(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT;
}

/* Runs a one-integer query (a pragma, a count). Returns an SQLite code. */
static int
catalog_query_int(struct catalog *c, const char *sql, int64_t *value)
{
	sqlite3_stmt	*stmt = NULL;
	int		 rc;

	rc = sqlite3_prepare_v2(c->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		goto end;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_ERROR;
end:
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * Tells a catalog we can use from one to move aside. A busy or
 * unreadable file is an error, not a reason to rebuild: moving a good
 * catalog aside over a passing lock would throw away a valid index.
 */
static enum catalog_state
catalog_check(struct catalog *c, char *err, size_t errlen)
{
	sqlite3_stmt	*stmt = NULL;
	const char	*text;
	enum catalog_state state = CATALOG_STATE_ERROR;
	int64_t		 version, application_id, objects;
	int		 rc, is_ok = 0, rows = 0;

	rc = sqlite3_prepare_v2(c->db, "PRAGMA quick_check", -1, &stmt,
	    NULL);
	if (rc != SQLITE_OK)
		goto sqlite_failed;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		text = (const char *)sqlite3_column_text(stmt, 0);
		is_ok = rows++ == 0 && text != NULL && strcmp(text, "ok") == 0;
	}
	if (rc != SQLITE_DONE)
		goto sqlite_failed;
	if (!is_ok || rows != 1) {
		errbuf_set(err, errlen, "catalog: quick_check failed");
		state = CATALOG_STATE_INVALID;
		goto end;
	}

	if ((rc = catalog_query_int(c, "PRAGMA user_version",
	    &version)) != SQLITE_OK ||
	    (rc = catalog_query_int(c, "PRAGMA application_id",
	    &application_id)) != SQLITE_OK ||
	    (rc = catalog_query_int(c, "SELECT count(*) FROM sqlite_master",
	    &objects)) != SQLITE_OK)
		goto sqlite_failed;

	if (version == 0 && application_id == 0 && objects == 0)
		state = CATALOG_STATE_EMPTY;
	else if (version == CATALOG_SCHEMA_VERSION &&
	    application_id == CATALOG_APPLICATION_ID)
		state = CATALOG_STATE_VALID;
	else if (version >= 1 && version < CATALOG_SCHEMA_VERSION &&
	    application_id == CATALOG_APPLICATION_ID)
		state = CATALOG_STATE_OLD;
	else {
		errbuf_set(err, errlen, "catalog: schema version %lld, "
		    "application id %lld: not this catalog's",
		    (long long)version, (long long)application_id);
		state = CATALOG_STATE_INVALID;
	}
	goto end;

sqlite_failed:
	state = catalog_is_corruption(rc) ? CATALOG_STATE_INVALID :
	    CATALOG_STATE_ERROR;
	catalog_sql_error(c, err, errlen, "check");
end:
	sqlite3_finalize(stmt);
	return state;
}

/*
 * Moves db_path (and its WAL, which belongs to it) to db_path.corrupt,
 * replacing an older one. A WAL or shared-memory file left next to
 * db_path would otherwise be replayed into the fresh catalog.
 */
static int
catalog_move_aside(const char *db_path, char *err, size_t errlen)
{
	char	from[PATH_MAX], to[PATH_MAX];

	if ((size_t)snprintf(to, sizeof(to), "%s.corrupt", db_path) >=
	    sizeof(to)) {
		errbuf_set(err, errlen, "catalog: %s: path too long",
		    db_path);
		return -1;
	}
	if (rename(db_path, to) == -1 && errno != ENOENT) {
		errbuf_set(err, errlen, "catalog: rename %s to %s: %s",
		    db_path, to, strerror(errno));
		return -1;
	}

	snprintf(from, sizeof(from), "%s-wal", db_path);
	snprintf(to, sizeof(to), "%s.corrupt-wal", db_path);
	if (rename(from, to) == -1) {
		if (errno != ENOENT) {
			errbuf_set(err, errlen, "catalog: rename %s to %s: "
			    "%s", from, to, strerror(errno));
			return -1;
		}
		/* No WAL now: one from an older .corrupt is not its own. */
		unlink(to);
	}
	snprintf(from, sizeof(from), "%s-shm", db_path);
	snprintf(to, sizeof(to), "%s.corrupt-shm", db_path);
	unlink(from);
	unlink(to);
	return 0;
}

/* Per connection; WAL is a property of the file but asking is harmless. */
static int
catalog_configure(struct catalog *c, char *err, size_t errlen)
{
	sqlite3_stmt	*stmt = NULL;
	const char	*mode;
	int		 rv = -1;

	if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &stmt,
	    NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW) {
		catalog_sql_error(c, err, errlen, "journal_mode");
		goto end;
	}
	mode = (const char *)sqlite3_column_text(stmt, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		errbuf_set(err, errlen, "catalog: journal_mode is %s, not "
		    "wal", mode != NULL ? mode : "unknown");
		goto end;
	}
	if (catalog_exec(c, "PRAGMA synchronous = NORMAL", err, errlen) == -1)
		goto end;
	rv = 0;
end:
	sqlite3_finalize(stmt);
	return rv;
}

/*
 * Brings a version 1, 2 or 3 catalog to version 4 in one transaction.
 * Two connections may try at once: the second, once through the lock,
 * finds the work done. Version 4's measures are filled in afterwards, by
 * the writer (catalog_measure_store), from the store.
 */
static int
catalog_migrate(struct catalog *c, char *err, size_t errlen)
{
	int64_t version;

	if (catalog_exec(c, "BEGIN IMMEDIATE", err, errlen) == -1)
		return -1;
	if (catalog_query_int(c, "PRAGMA user_version", &version) !=
	    SQLITE_OK) {
		catalog_sql_error(c, err, errlen, "migrate");
		catalog_rollback(c);
		return -1;
	}
	if (version == 1 && sqlite3_exec(c->db, catalog_migrate_1, NULL, NULL,
	    NULL) != SQLITE_OK) {
		catalog_sql_error(c, err, errlen, "migrate from version 1");
		catalog_rollback(c);
		return -1;
	}
	/* Summaries indexed before have no brief: their full summary.json
	 * is read instead until they are analyzed again. */
	if ((version == 1 || version == 2) && sqlite3_exec(c->db,
	    catalog_migrate_2, NULL, NULL, NULL) != SQLITE_OK) {
		catalog_sql_error(c, err, errlen, "migrate from version 2");
		catalog_rollback(c);
		return -1;
	}
	if (version >= 1 && version <= 3 && sqlite3_exec(c->db,
	    catalog_migrate_3, NULL, NULL, NULL) != SQLITE_OK) {
		catalog_sql_error(c, err, errlen, "migrate from version 3");
		catalog_rollback(c);
		return -1;
	}
	return catalog_exec(c, "COMMIT", err, errlen);
}

static int
catalog_create_schema(struct catalog *c, char *err, size_t errlen)
{
	if (sqlite3_exec(c->db, catalog_schema, NULL, NULL, NULL) !=
	    SQLITE_OK) {
		catalog_sql_error(c, err, errlen, "create schema");
		catalog_rollback(c);
		return -1;
	}
	return 0;
}

/*
 * *was_rebuilt is 1 when the catalog was moved aside (even if the store
 * turned out empty: the caller should say so), or when a new catalog was
 * filled from a store that had manifests; a new catalog over an empty
 * store is simply created, not "rebuilt". On success err holds "" or,
 * when a rebuild skipped manifests, a warning worth logging.
 */
struct catalog *
catalog_open(const char *db_path, const char *store_dir, int *was_rebuilt,
    char *err, size_t errlen)
{
	struct catalog			*c;
	struct catalog_rebuild_stats	 stats;
	int				 is_rebuilt = 0;

	if (was_rebuilt != NULL)
		*was_rebuilt = 0;
	errbuf_set(err, errlen, "%s", "");
	if ((c = catalog_connect(db_path, err, errlen)) == NULL)
		goto error;

	switch (catalog_check(c, err, errlen)) {
	case CATALOG_STATE_ERROR:
		goto error;
	case CATALOG_STATE_OLD:
		if (catalog_configure(c, err, errlen) == -1 ||
		    catalog_migrate(c, err, errlen) == -1 ||
		    catalog_measure_store(c, store_dir, err, errlen) == -1)
			goto error;
		return c;
	case CATALOG_STATE_VALID:
		if (catalog_configure(c, err, errlen) == -1 ||
		    catalog_measure_store(c, store_dir, err, errlen) == -1)
			goto error;
		return c;
	case CATALOG_STATE_INVALID:
		catalog_close(c);
		c = NULL;
		if (catalog_move_aside(db_path, err, errlen) == -1)
			goto error;
		is_rebuilt = 1;
		if ((c = catalog_connect(db_path, err, errlen)) == NULL)
			goto error;
		break;
	case CATALOG_STATE_EMPTY:
		break;
	}

	if (catalog_configure(c, err, errlen) == -1 ||
	    catalog_create_schema(c, err, errlen) == -1)
		goto error;
	errbuf_set(err, errlen, "%s", "");
	if (store_dir != NULL) {
		if (catalog_rebuild_stats(c, store_dir, &stats, err,
		    errlen) == -1)
			goto error;
		if (stats.indexed > 0)
			is_rebuilt = 1;
	}
	if (was_rebuilt != NULL)
		*was_rebuilt = is_rebuilt;
	return c;

error:
	catalog_close(c);
	return NULL;
}

/* Each thread's reader (catalog_reader), closed as the thread ends. */
static pthread_key_t	catalog_reader_key;
static pthread_once_t	catalog_reader_once = PTHREAD_ONCE_INIT;

static void
catalog_reader_free(void *c)
{
	catalog_close(c);
}

static void
catalog_reader_key_create(void)
{
	if (pthread_key_create(&catalog_reader_key, catalog_reader_free) != 0)
		abort();
}

struct catalog *
catalog_reader(const char *db_path, char *err, size_t errlen)
{
	struct catalog *c;

	pthread_once(&catalog_reader_once, catalog_reader_key_create);
	if ((c = pthread_getspecific(catalog_reader_key)) != NULL)
		return c;
	/* The relay opened (and if need be rebuilt) it first: no store. */
	if ((c = catalog_open(db_path, NULL, NULL, err, errlen)) != NULL &&
	    pthread_setspecific(catalog_reader_key, c) != 0) {
		catalog_close(c);
		errbuf_set(err, errlen, "catalog: out of memory");
		return NULL;
	}
	return c;
}
