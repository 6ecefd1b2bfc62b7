/*
 * The catalog on PostgreSQL (catalog_sql.h): one database shared by the
 * relays of a tier, and the source of truth for what they stored. So,
 * unlike SQLite's file, it is never moved aside nor rebuilt from a
 * store: it is migrated, version by version, and nothing else.
 *
 * Versions are kept in tracetrap_schema, one row per part of the relay
 * that has tables here ('catalog' is ours; the cluster's code keeps
 * 'cluster'). A relay starting runs, in one transaction under an
 * advisory lock, the migrations past the version it finds: two relays
 * starting at once run them once, the second finding the work done.
 *
 * Text columns are COLLATE "C": compared and sorted byte by byte, as
 * SQLite does, so that listings come in the same order on both, and
 * lower() folds ASCII alone, as SQLite's LIKE does. Times in microseconds
 * and byte counts are BIGINT.
 */
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "catalog_sql.h"
#include "db.h"
#include "errbuf.h"

#define CATALOG_PG_PART		"catalog"

/*
 * Each version's SQL, in order: migrations[i] brings version i to i + 1.
 * Never edit one that has shipped: add the next.
 */
static const char *const catalog_pg_migrations[] = {
	/* 1: the schema of SQLite's version 4. */
	"CREATE TABLE snapshots ("
	"  id TEXT COLLATE \"C\" PRIMARY KEY,"
	"  node TEXT COLLATE \"C\" NOT NULL,"
	"  incident TEXT COLLATE \"C\" NOT NULL,"
	"  taken_at_us BIGINT NOT NULL,"
	"  taken_at TEXT COLLATE \"C\" NOT NULL,"
	"  bytes BIGINT NOT NULL,"
	"  path TEXT COLLATE \"C\" NOT NULL,"
	"  labels_json TEXT NOT NULL,"
	"  analyzer_version INTEGER,"
	"  analysis TEXT COLLATE \"C\","
	"  events BIGINT,"
	"  discarded BIGINT,"
	"  requests BIGINT,"
	"  slowest_us BIGINT,"
	"  errors BIGINT,"
	"  history_lost INTEGER,"
	"  stored_bytes BIGINT,"
	"  received_at_us BIGINT"
	");"
	"CREATE TABLE triggers ("
	"  snapshot_id TEXT COLLATE \"C\" NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  source TEXT COLLATE \"C\","
	"  reason TEXT COLLATE \"C\","
	"  PRIMARY KEY (snapshot_id, seq)"
	");"
	"CREATE TABLE snapshot_uris ("
	"  snapshot_id TEXT COLLATE \"C\" NOT NULL,"
	"  uri TEXT COLLATE \"C\" NOT NULL,"
	"  count BIGINT NOT NULL,"
	"  errors BIGINT NOT NULL,"
	"  max_us BIGINT NOT NULL,"
	"  PRIMARY KEY (snapshot_id, uri)"
	");"
	"CREATE TABLE snapshot_statuses ("
	"  snapshot_id TEXT COLLATE \"C\" NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  count BIGINT NOT NULL,"
	"  PRIMARY KEY (snapshot_id, status)"
	");"
	"CREATE TABLE snapshot_briefs ("
	"  snapshot_id TEXT COLLATE \"C\" PRIMARY KEY,"
	"  brief TEXT NOT NULL"
	");"
	"CREATE TABLE incident_requests ("
	"  incident TEXT COLLATE \"C\" NOT NULL,"
	"  node TEXT COLLATE \"C\" NOT NULL,"
	"  requested_at_us BIGINT NOT NULL,"
	"  PRIMARY KEY (incident, node)"
	");"
	/*
	 * The listings: snapshots newest first (and by node, by
	 * incident), incidents by their newest snapshot, the filters'
	 * subqueries, retention's oldest incident and old requests.
	 */
	"CREATE INDEX snapshots_taken_at ON snapshots (taken_at_us, id);"
	"CREATE INDEX snapshots_node ON snapshots (node, taken_at_us);"
	"CREATE INDEX snapshots_incident ON snapshots (incident, taken_at_us);"
	"CREATE INDEX snapshots_analyzer_version"
	"  ON snapshots (analyzer_version);"
	"CREATE INDEX triggers_source ON triggers (source, snapshot_id);"
	"CREATE INDEX snapshot_uris_uri ON snapshot_uris (uri, snapshot_id);"
	"CREATE INDEX snapshot_statuses_status"
	"  ON snapshot_statuses (status, snapshot_id);"
	"CREATE INDEX incident_requests_at"
	"  ON incident_requests (requested_at_us);",
	/* 2: the relay that stored each snapshot (catalog_set_relay). */
	"ALTER TABLE snapshots"
	"  ADD COLUMN relay TEXT COLLATE \"C\" NOT NULL DEFAULT '';"
	"CREATE INDEX snapshots_relay ON snapshots (relay, incident);",
};

#define CATALOG_PG_VERSION						\
	((int)(sizeof(catalog_pg_migrations) /				\
	    sizeof(catalog_pg_migrations[0])))

/* The version of our part, 0 when it has none yet; -1 on error. */
static int
catalog_pg_version(struct catalog *c, int64_t *version)
{
	struct db_stmt	*stmt;
	int		 rc;

	*version = 0;
	if ((stmt = db_prepare(c->db, "SELECT version FROM tracetrap_schema "
	    "WHERE part = ?1", 0)) == NULL)
		return -1;
	if ((rc = db_bind_string(stmt, 1, CATALOG_PG_PART)) == DB_OK &&
	    (rc = db_step(stmt)) == DB_ROW)
		*version = db_column_int64(stmt, 0);
	db_finalize(stmt);
	return rc == DB_ROW || rc == DB_DONE ? 0 : -1;
}

/* 1 when tracetrap_schema exists and says our part is current. */
static int
catalog_pg_is_current(struct catalog *c)
{
	struct db_stmt	*stmt;
	int64_t		 exists = 0, version = 0;

	if ((stmt = db_prepare(c->db, "SELECT CASE WHEN "
	    "to_regclass('tracetrap_schema') IS NULL THEN 0 ELSE 1 END",
	    0)) == NULL)
		return 0;
	if (db_step(stmt) == DB_ROW)
		exists = db_column_int64(stmt, 0);
	db_finalize(stmt);
	return exists == 1 && catalog_pg_version(c, &version) == 0 &&
	    version == CATALOG_PG_VERSION;
}

static int
catalog_pg_set_version(struct catalog *c, int version)
{
	struct db_stmt	*stmt;
	int		 rc = DB_ERROR;

	if ((stmt = db_prepare(c->db, "INSERT INTO tracetrap_schema "
	    "(part, version) VALUES (?1, ?2) ON CONFLICT (part) "
	    "DO UPDATE SET version = excluded.version", 0)) == NULL)
		return -1;
	if (db_bind_string(stmt, 1, CATALOG_PG_PART) == DB_OK &&
	    db_bind_int64(stmt, 2, version) == DB_OK)
		rc = db_step(stmt);
	db_finalize(stmt);
	return rc == DB_DONE ? 0 : -1;
}

/*
 * Runs the migrations past the version found, all in one transaction:
 * a relay that fails halfway leaves the schema as it was. On success err
 * says which versions ran, or is "" when none did.
 */
static int
catalog_pg_migrate(struct catalog *c, char *err, size_t errlen)
{
	int64_t	version;
	int	i;

	/*
	 * Up to date: no DDL at all. PostgreSQL checks the CREATE privilege
	 * before IF NOT EXISTS, and a role may lose it after the first start.
	 */
	if (catalog_pg_is_current(c)) {
		errbuf_set(err, errlen, "%s", "");
		return 0;
	}
	if (catalog_begin(c, err, errlen) == -1)
		return -1;
	/* The lock first: CREATE TABLE IF NOT EXISTS alone can race. */
	if (catalog_exec(c, "SELECT pg_advisory_xact_lock("
	    "hashtext('tracetrap_schema'))", err, errlen) == -1 ||
	    catalog_exec(c, "CREATE TABLE IF NOT EXISTS tracetrap_schema "
	    "(part text primary key, version integer not null)", err,
	    errlen) == -1)
		goto error;
	if (catalog_pg_version(c, &version) == -1) {
		catalog_sql_error(c, err, errlen, "schema version");
		goto error;
	}
	if (version > CATALOG_PG_VERSION) {
		errbuf_set(err, errlen, "catalog: the PostgreSQL schema is at "
		    "version %lld, newer than this relay's %d: upgrade the "
		    "relay", (long long)version, CATALOG_PG_VERSION);
		goto error;
	}
	for (i = (int)version; i < CATALOG_PG_VERSION; i++) {
		if (db_exec(c->db, catalog_pg_migrations[i]) != DB_OK) {
			errbuf_set(err, errlen, "catalog: PostgreSQL "
			    "migration to version %d: %s", i + 1,
			    db_errmsg(c->db));
			goto error;
		}
	}
	if (version < CATALOG_PG_VERSION &&
	    catalog_pg_set_version(c, CATALOG_PG_VERSION) == -1) {
		catalog_sql_error(c, err, errlen, "schema version");
		goto error;
	}
	if (catalog_commit(c, err, errlen) == -1)
		goto error;
	if (version < CATALOG_PG_VERSION)
		errbuf_set(err, errlen, "catalog: PostgreSQL schema migrated "
		    "from version %lld to %d", (long long)version,
		    CATALOG_PG_VERSION);
	else
		errbuf_set(err, errlen, "%s", "");
	return 0;
error:
	catalog_rollback(c);
	return -1;
}

int
catalog_pg_open(struct catalog *c, const char *conninfo, char *err,
    size_t errlen)
{
	c->is_shared = 1;
	if ((c->db = db_pg_open(conninfo, err, errlen)) == NULL)
		return -1;
	return catalog_pg_migrate(c, err, errlen);
}
