/*
 * The catalog on SQLite (catalog_sql.h): one file per relay, the
 * default. The store stays the source of truth: nothing in here is ever
 * the only copy of anything. That is why a catalog we cannot trust is
 * moved aside and rebuilt from the manifests instead of repaired, and an
 * older one migrated in place when we know how.
 *
 * WAL lets the disk thread write while the API's threads read, each
 * through a connection of its own.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "catalog_sql.h"
#include "db.h"
#include "errbuf.h"

/*
 * Bump on any schema change. An older catalog is migrated when
 * catalog_migrate() knows how (version 1: the analysis's columns and
 * tables; version 2: the briefs; version 3: what the relay measured
 * itself, and the incidents it asked nodes for; version 4: the relay
 * that stored each snapshot), else moved aside and rebuilt from the
 * store.
 */
#define CATALOG_SCHEMA_VERSION		5
/* 0x54546361, "TTca": tells our files from any other SQLite database. */
#define CATALOG_APPLICATION_ID		1414816609

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
	"  received_at_us INTEGER,"
	"  relay TEXT NOT NULL DEFAULT ''"
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
	"PRAGMA application_id = " CATALOG_STRINGIFY(CATALOG_APPLICATION_ID) ";";

/* From versions 1 to 4, inside catalog_migrate()'s transaction. */
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
/* Rows from before are this relay's: its own file has no other. */
static const char catalog_migrate_4[] =
	"ALTER TABLE snapshots ADD COLUMN relay TEXT NOT NULL DEFAULT '';"
	"PRAGMA user_version = 5;";

/* What catalog_check found in an existing file. */
enum catalog_state {
	CATALOG_STATE_ERROR,	/* could not tell: leave the file alone */
	CATALOG_STATE_EMPTY,	/* new or zero-length: create the schema */
	CATALOG_STATE_VALID,
	CATALOG_STATE_OLD,	/* an older schema catalog_migrate() knows */
	CATALOG_STATE_INVALID	/* move aside and rebuild */
};

static int
catalog_connect(struct catalog *c, const char *db_path, char *err,
    size_t errlen)
{
	db_close(c->db);
	return (c->db = db_sqlite_open(db_path, err, errlen)) != NULL ? 0 : -1;
}

/* Runs a one-integer query (a pragma, a count). Returns a DB_ code. */
static int
catalog_query_int(struct catalog *c, const char *sql, int64_t *value)
{
	struct db_stmt	*stmt;
	int		 rc;

	if ((stmt = db_prepare(c->db, sql, 0)) == NULL)
		return DB_ERROR;
	rc = db_step(stmt);
	if (rc == DB_ROW) {
		*value = db_column_int64(stmt, 0);
		rc = DB_OK;
	} else
		rc = DB_ERROR;
	db_finalize(stmt);
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
	struct db_stmt	*stmt;
	const char	*text;
	enum catalog_state state = CATALOG_STATE_ERROR;
	int64_t		 version, application_id, objects;
	int		 rc = DB_ERROR, is_ok = 0, rows = 0;

	if ((stmt = db_prepare(c->db, "PRAGMA quick_check", 0)) != NULL) {
		while ((rc = db_step(stmt)) == DB_ROW) {
			text = db_column_text(stmt, 0);
			is_ok = rows++ == 0 && text != NULL &&
			    strcmp(text, "ok") == 0;
		}
		db_finalize(stmt);
	}
	if (rc != DB_DONE)
		goto failed;
	if (!is_ok || rows != 1) {
		errbuf_set(err, errlen, "catalog: quick_check failed");
		return CATALOG_STATE_INVALID;
	}

	if (catalog_query_int(c, "PRAGMA user_version", &version) != DB_OK ||
	    catalog_query_int(c, "PRAGMA application_id",
	    &application_id) != DB_OK ||
	    catalog_query_int(c, "SELECT count(*) FROM sqlite_master",
	    &objects) != DB_OK)
		goto failed;

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
	return state;

failed:
	catalog_sql_error(c, err, errlen, "check");
	return db_sqlite_is_corrupt(c->db) ? CATALOG_STATE_INVALID :
	    CATALOG_STATE_ERROR;
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
	struct db_stmt	*stmt;
	const char	*mode;
	int		 rv = -1;

	if ((stmt = db_prepare(c->db, "PRAGMA journal_mode = WAL", 0)) ==
	    NULL || db_step(stmt) != DB_ROW) {
		catalog_sql_error(c, err, errlen, "journal_mode");
		goto end;
	}
	mode = db_column_text(stmt, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		errbuf_set(err, errlen, "catalog: journal_mode is %s, not "
		    "wal", mode != NULL ? mode : "unknown");
		goto end;
	}
	if (catalog_exec(c, "PRAGMA synchronous = NORMAL", err, errlen) == -1)
		goto end;
	rv = 0;
end:
	db_finalize(stmt);
	return rv;
}

/*
 * Brings a version 1 to 4 catalog to version 5 in one transaction.
 * Two connections may try at once: the second, once through the lock,
 * finds the work done. Version 4's measures are filled in afterwards, by
 * the writer (catalog_measure_store), from the store.
 */
static int
catalog_migrate(struct catalog *c, char *err, size_t errlen)
{
	int64_t version;

	if (catalog_begin(c, err, errlen) == -1)
		return -1;
	if (catalog_query_int(c, "PRAGMA user_version", &version) != DB_OK) {
		catalog_sql_error(c, err, errlen, "migrate");
		goto error;
	}
	if (version == 1 && catalog_exec(c, catalog_migrate_1, err,
	    errlen) == -1)
		goto error;
	/* Summaries indexed before have no brief: their full summary.json
	 * is read instead until they are analyzed again. */
	if ((version == 1 || version == 2) && catalog_exec(c,
	    catalog_migrate_2, err, errlen) == -1)
		goto error;
	if (version >= 1 && version <= 3 && catalog_exec(c, catalog_migrate_3,
	    err, errlen) == -1)
		goto error;
	if (version >= 1 && version <= 4 && catalog_exec(c, catalog_migrate_4,
	    err, errlen) == -1)
		goto error;
	if (catalog_commit(c, err, errlen) == 0)
		return 0;
error:
	catalog_rollback(c);
	return -1;
}

static int
catalog_create_schema(struct catalog *c, char *err, size_t errlen)
{
	if (catalog_begin(c, err, errlen) == -1)
		return -1;
	if (db_exec(c->db, catalog_schema) != DB_OK) {
		catalog_sql_error(c, err, errlen, "create schema");
		catalog_rollback(c);
		return -1;
	}
	return catalog_commit(c, err, errlen);
}

/*
 * *was_rebuilt is 1 when the catalog was moved aside (even if the store
 * turned out empty: the caller should say so), or when a new catalog was
 * filled from a store that had manifests; a new catalog over an empty
 * store is simply created, not "rebuilt". On success err holds "" or,
 * when a rebuild skipped manifests, a warning worth logging.
 */
int
catalog_sqlite_open(struct catalog *c, const char *db_path,
    const char *store_dir, int *was_rebuilt, char *err, size_t errlen)
{
	struct catalog_rebuild_stats	 stats;
	int				 is_rebuilt = 0;

	if (catalog_connect(c, db_path, err, errlen) == -1)
		return -1;

	switch (catalog_check(c, err, errlen)) {
	case CATALOG_STATE_ERROR:
		return -1;
	case CATALOG_STATE_OLD:
		if (catalog_configure(c, err, errlen) == -1 ||
		    catalog_migrate(c, err, errlen) == -1)
			return -1;
		return catalog_measure_store(c, store_dir, err, errlen);
	case CATALOG_STATE_VALID:
		if (catalog_configure(c, err, errlen) == -1)
			return -1;
		return catalog_measure_store(c, store_dir, err, errlen);
	case CATALOG_STATE_INVALID:
		db_close(c->db);
		c->db = NULL;
		if (catalog_move_aside(db_path, err, errlen) == -1)
			return -1;
		is_rebuilt = 1;
		if (catalog_connect(c, db_path, err, errlen) == -1)
			return -1;
		break;
	case CATALOG_STATE_EMPTY:
		break;
	}

	if (catalog_configure(c, err, errlen) == -1 ||
	    catalog_create_schema(c, err, errlen) == -1)
		return -1;
	errbuf_set(err, errlen, "%s", "");
	if (store_dir != NULL) {
		if (catalog_rebuild_stats(c, store_dir, &stats, err,
		    errlen) == -1)
			return -1;
		if (stats.indexed > 0)
			is_rebuilt = 1;
	}
	if (was_rebuilt != NULL)
		*was_rebuilt = is_rebuilt;
	return 0;
}
