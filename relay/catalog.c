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
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog.h"
#include "clock.h"
#include "errbuf.h"

/* Bump on any schema change: an older catalog is then rebuilt. */
#define CATALOG_SCHEMA_VERSION		1
/* 0x54546361, "TTca": tells our files from any other SQLite database. */
#define CATALOG_APPLICATION_ID		1414816609
#define CATALOG_BUSY_TIMEOUT_MS		5000
#define CATALOG_LIMIT_DEFAULT		1000
#define CATALOG_LIMIT_MAX		10000

#define CATALOG_STRINGIFY(x)		CATALOG_STRINGIFY_VALUE(x)
#define CATALOG_STRINGIFY_VALUE(x)	#x

/*
 * IF NOT EXISTS: two connections may find the same new file empty (the
 * relay's writer and reader starting together); the second one through
 * the lock then has nothing left to do.
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
	"  labels_json TEXT NOT NULL"
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
	"PRAGMA user_version = " CATALOG_STRINGIFY(CATALOG_SCHEMA_VERSION) ";"
	"PRAGMA application_id = " CATALOG_STRINGIFY(CATALOG_APPLICATION_ID) ";"
	"COMMIT;";

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
	CATALOG_INCIDENTS,
	CATALOG_TOTAL_BYTES,
	CATALOG_OLDEST_INCIDENT,
	CATALOG_DELETE_INCIDENT_TRIGGERS,
	CATALOG_DELETE_INCIDENT_SNAPSHOTS,
	CATALOG_STATEMENT_COUNT
};

/* The columns catalog_snapshot_object reads, in this order. */
#define CATALOG_SNAPSHOT_COLUMNS					\
	"s.id, s.node, s.incident, s.taken_at, s.taken_at_us, "		\
	"s.bytes, s.labels_json, s.path"

static const char *const catalog_sql[CATALOG_STATEMENT_COUNT] = {
	[CATALOG_DELETE_TRIGGERS] =
	    "DELETE FROM triggers WHERE snapshot_id = ?1",
	[CATALOG_INSERT_SNAPSHOT] =
	    "INSERT OR REPLACE INTO snapshots (id, node, incident, "
	    "taken_at_us, taken_at, bytes, path, labels_json) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
	    "SELECT s.id, s.node, s.taken_at, s.bytes, t.source, t.reason "
	    "FROM snapshots s LEFT JOIN triggers t ON t.snapshot_id = s.id "
	    "WHERE s.incident = ?1 ORDER BY s.taken_at_us, s.id, t.seq",
	[CATALOG_INCIDENT_SNAPSHOTS] =
	    "SELECT " CATALOG_SNAPSHOT_COLUMNS " FROM snapshots s "
	    "WHERE s.incident = ?1 ORDER BY s.taken_at_us DESC, s.id DESC",
	/*
	 * The newest incidents and all their rows in one statement, rather
	 * than one query per incident: the loop runs it.
	 */
	[CATALOG_INCIDENTS] =
	    "WITH top AS (SELECT incident, max(taken_at_us) AS last_us "
	    "FROM snapshots GROUP BY incident ORDER BY last_us DESC, "
	    "incident DESC LIMIT ?1) "
	    "SELECT top.incident, s.id, s.node, s.taken_at, s.bytes, "
	    "t.source, t.reason FROM top "
	    "JOIN snapshots s ON s.incident = top.incident "
	    "LEFT JOIN triggers t ON t.snapshot_id = s.id "
	    "ORDER BY top.last_us DESC, top.incident DESC, s.taken_at_us, "
	    "s.id, t.seq",
	[CATALOG_TOTAL_BYTES] =
	    "SELECT coalesce(sum(bytes), 0) FROM snapshots",
	[CATALOG_OLDEST_INCIDENT] =
	    "SELECT incident, max(taken_at_us) AS last_us, sum(bytes) "
	    "FROM snapshots GROUP BY incident ORDER BY last_us, incident "
	    "LIMIT 1",
	[CATALOG_DELETE_INCIDENT_TRIGGERS] =
	    "DELETE FROM triggers WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1)",
	[CATALOG_DELETE_INCIDENT_SNAPSHOTS] =
	    "DELETE FROM snapshots WHERE incident = ?1",
};

struct catalog {
	sqlite3		*db;
	sqlite3_stmt	*statements[CATALOG_STATEMENT_COUNT];
};

/* What catalog_check found in an existing file. */
enum catalog_state {
	CATALOG_STATE_ERROR,	/* could not tell: leave the file alone */
	CATALOG_STATE_EMPTY,	/* new or zero-length: create the schema */
	CATALOG_STATE_VALID,
	CATALOG_STATE_INVALID	/* move aside and rebuild */
};

/* One manifest, as catalog_insert needs it; strings borrowed. */
struct catalog_entry {
	const char	*id;
	const char	*node;
	size_t		 node_len;
	const char	*incident;
	size_t		 incident_len;
	const char	*taken_at;	/* NULL: formatted from taken_at_us */
	int64_t		 taken_at_us;
	int64_t		 bytes;
	json_t		*triggers;	/* an array, or NULL */
	const char	*rel_path;
};

struct catalog_rebuild_stats {
	size_t		 indexed;
	size_t		 skipped;
	char		 first_skipped[512];
};

static void
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
static sqlite3_stmt *
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

static void
catalog_statement_done(sqlite3_stmt *stmt)
{
	if (stmt == NULL)
		return;
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

/* For constant SQL only (transactions, schema): never carries a value. */
static int
catalog_exec(struct catalog *c, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		catalog_sql_error(c, err, errlen, sql);
		return -1;
	}
	return 0;
}

/* After a failure: a failed statement may already have rolled back. */
static void
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
static int
catalog_read_begin(struct catalog *c)
{
	return sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
}

static void
catalog_read_end(struct catalog *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
}

static int
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

static int catalog_rebuild_stats(struct catalog *, const char *,
	    struct catalog_rebuild_stats *, char *, size_t);

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
	case CATALOG_STATE_VALID:
		if (catalog_configure(c, err, errlen) == -1)
			goto error;
		errbuf_set(err, errlen, "%s", "");
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

/*
 * Splits "incidents/<incident>/<node>/<id>" into its parts; 0 when
 * rel_path has another shape.
 */
static int
catalog_split_path(const char *rel_path, const char *parts[4],
    size_t lengths[4])
{
	const char	*p = rel_path, *slash;
	int		 i;

	for (i = 0; i < 4; i++) {
		slash = strchr(p, '/');
		if ((slash == NULL) != (i == 3))
			return 0;
		parts[i] = p;
		lengths[i] = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (lengths[i] == 0)
			return 0;
		if (slash != NULL)
			p = slash + 1;
	}
	return lengths[0] == strlen("incidents") &&
	    strncmp(parts[0], "incidents", lengths[0]) == 0;
}

static const char *
catalog_string(json_t *object, const char *key)
{
	const char	*value;

	value = json_string_value(json_object_get(object, key));
	return value != NULL && *value != '\0' ? value : NULL;
}

/*
 * Reads what the catalog indexes from a stored manifest. The incident is
 * the one in rel_path when rel_path has the store's shape: retention
 * removes incidents/<incident>/ by the catalog's incident id, so the two
 * must agree even when the manifest's own "incident" was refused by the
 * store (then absent, null or not a valid name). Otherwise the manifest's,
 * and failing that, the snapshot is its own incident.
 */
static int
catalog_entry_parse(struct catalog_entry *e, json_t *manifest,
    const char *rel_path, char *err, size_t errlen)
{
	const char	*parts[4];
	size_t		 lengths[4], i;
	int		 has_path_parts;
	json_t		*value, *files, *file;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(manifest)) {
		errbuf_set(err, errlen, "manifest is not a JSON object");
		return -1;
	}
	if (rel_path == NULL || *rel_path == '\0') {
		errbuf_set(err, errlen, "no path for the snapshot");
		return -1;
	}
	e->rel_path = rel_path;
	if ((e->id = catalog_string(manifest, "id")) == NULL) {
		errbuf_set(err, errlen, "manifest has no \"id\"");
		return -1;
	}
	has_path_parts = catalog_split_path(rel_path, parts, lengths);

	if ((e->node = catalog_string(manifest, "node")) != NULL)
		e->node_len = strlen(e->node);
	else if (has_path_parts) {
		e->node = parts[2];
		e->node_len = lengths[2];
	} else {
		errbuf_set(err, errlen, "manifest %s has no \"node\"",
		    e->id);
		return -1;
	}

	if (has_path_parts) {
		e->incident = parts[1];
		e->incident_len = lengths[1];
	} else if ((e->incident = catalog_string(manifest,
	    "incident")) != NULL)
		e->incident_len = strlen(e->incident);
	else {
		e->incident = e->id;
		e->incident_len = strlen(e->id);
	}

	value = json_object_get(manifest, "taken_at_us");
	if (!json_is_integer(value) || json_integer_value(value) < 0) {
		errbuf_set(err, errlen, "manifest %s has no valid "
		    "\"taken_at_us\"", e->id);
		return -1;
	}
	e->taken_at_us = json_integer_value(value);
	e->taken_at = catalog_string(manifest, "taken_at");

	/* "bytes" is the declared total; without it, what files[] add up to. */
	value = json_object_get(manifest, "bytes");
	if (json_is_integer(value) && json_integer_value(value) >= 0)
		e->bytes = json_integer_value(value);
	else {
		files = json_object_get(manifest, "files");
		json_array_foreach(files, i, file) {
			value = json_object_get(file, "bytes");
			if (json_is_integer(value) &&
			    json_integer_value(value) >= 0 &&
			    json_integer_value(value) <= INT64_MAX - e->bytes)
				e->bytes += json_integer_value(value);
		}
	}

	value = json_object_get(manifest, "triggers");
	e->triggers = json_is_array(value) ? value : NULL;
	return 0;
}

/* Labels of all triggers in one object; the first trigger's value wins. */
static char *
catalog_merge_labels(json_t *triggers)
{
	json_t		*merged, *trigger, *labels, *value;
	const char	*key;
	char		*text = NULL;
	size_t		 i;

	if ((merged = json_object()) == NULL)
		return NULL;
	json_array_foreach(triggers, i, trigger) {
		labels = json_object_get(trigger, "labels");
		if (!json_is_object(labels))
			continue;
		json_object_foreach(labels, key, value) {
			if (json_object_get(merged, key) != NULL)
				continue;
			if (json_object_set(merged, key, value) == -1)
				goto end;
		}
	}
	text = json_dumps(merged, JSON_COMPACT);
end:
	json_decref(merged);
	return text;
}

/* Replaces the snapshot's rows; a savepoint, so it nests in a rebuild. */
static int
catalog_insert(struct catalog *c, const struct catalog_entry *e,
    char *err, size_t errlen)
{
	sqlite3_stmt	*stmt = NULL;
	json_t		*trigger;
	const char	*source, *reason, *taken_at = e->taken_at;
	char		*labels = NULL, formatted[64];
	size_t		 i;
	int		 rv = -1;

	if ((labels = catalog_merge_labels(e->triggers)) == NULL) {
		errbuf_set(err, errlen, "catalog: out of memory");
		return -1;
	}
	if (taken_at == NULL) {
		clock_format_utc(e->taken_at_us, formatted,
		    sizeof(formatted));
		taken_at = formatted;
	}
	if (catalog_exec(c, "SAVEPOINT catalog_add", err, errlen) == -1) {
		free(labels);
		return -1;
	}

	if ((stmt = catalog_statement(c, CATALOG_DELETE_TRIGGERS)) == NULL ||
	    catalog_bind_text(stmt, 1, e->id, strlen(e->id)) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_DONE)
		goto sqlite_failed;
	catalog_statement_done(stmt);

	if ((stmt = catalog_statement(c, CATALOG_INSERT_SNAPSHOT)) == NULL ||
	    catalog_bind_text(stmt, 1, e->id, strlen(e->id)) != SQLITE_OK ||
	    catalog_bind_text(stmt, 2, e->node, e->node_len) != SQLITE_OK ||
	    catalog_bind_text(stmt, 3, e->incident,
	    e->incident_len) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 4, e->taken_at_us) != SQLITE_OK ||
	    catalog_bind_text(stmt, 5, taken_at, strlen(taken_at)) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 6, e->bytes) != SQLITE_OK ||
	    catalog_bind_text(stmt, 7, e->rel_path, strlen(e->rel_path)) !=
	    SQLITE_OK ||
	    catalog_bind_text(stmt, 8, labels, strlen(labels)) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_DONE)
		goto sqlite_failed;
	catalog_statement_done(stmt);

	json_array_foreach(e->triggers, i, trigger) {
		if (!json_is_object(trigger))
			continue;
		source = catalog_string(trigger, "source");
		reason = catalog_string(trigger, "reason");
		if ((stmt = catalog_statement(c,
		    CATALOG_INSERT_TRIGGER)) == NULL ||
		    catalog_bind_text(stmt, 1, e->id, strlen(e->id)) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)i) !=
		    SQLITE_OK ||
		    catalog_bind_text(stmt, 3, source,
		    source != NULL ? strlen(source) : 0) != SQLITE_OK ||
		    catalog_bind_text(stmt, 4, reason,
		    reason != NULL ? strlen(reason) : 0) != SQLITE_OK ||
		    sqlite3_step(stmt) != SQLITE_DONE)
			goto sqlite_failed;
		catalog_statement_done(stmt);
	}
	stmt = NULL;

	if (catalog_exec(c, "RELEASE catalog_add", err, errlen) == -1)
		goto rollback;
	rv = 0;
	goto end;

sqlite_failed:
	errbuf_set(err, errlen, "catalog: add %s: %s", e->id,
	    sqlite3_errmsg(c->db));
	catalog_statement_done(stmt);
rollback:
	/* Either may fail when SQLite already rolled the transaction back. */
	sqlite3_exec(c->db, "ROLLBACK TO catalog_add", NULL, NULL, NULL);
	sqlite3_exec(c->db, "RELEASE catalog_add", NULL, NULL, NULL);
end:
	free(labels);
	return rv;
}

int
catalog_add(struct catalog *c, json_t *manifest, const char *rel_path,
    char *err, size_t errlen)
{
	struct catalog_entry	e;

	if (catalog_entry_parse(&e, manifest, rel_path, err, errlen) == -1)
		return -1;
	return catalog_insert(c, &e, err, errlen);
}

static void
catalog_skip(struct catalog_rebuild_stats *stats, const char *rel_path,
    const char *why)
{
	if (stats->skipped++ == 0)
		snprintf(stats->first_skipped, sizeof(stats->first_skipped),
		    "%s: %s", rel_path, why);
}

/* Indexes <store_dir>/<rel_path>/manifest.json, or counts it skipped. */
static int
catalog_index_manifest(struct catalog *c, const char *store_dir,
    const char *rel_path, struct catalog_rebuild_stats *stats, char *err,
    size_t errlen)
{
	struct catalog_entry	 e;
	struct stat		 st;
	json_error_t		 json_error;
	json_t			*manifest;
	char			 path[PATH_MAX], why[256];
	int			 fd, rv = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/manifest.json",
	    store_dir, rel_path) >= sizeof(path)) {
		catalog_skip(stats, rel_path, "path too long");
		return 0;
	}
	/* O_NONBLOCK: a FIFO in the store must not hang the rebuild. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		/* A plain file where a snapshot directory belongs. */
		if (errno != ENOTDIR)
			catalog_skip(stats, rel_path, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		catalog_skip(stats, rel_path, "manifest.json is not a file");
		close(fd);
		return 0;
	}
	manifest = json_loadfd(fd, 0, &json_error);
	close(fd);
	if (manifest == NULL) {
		catalog_skip(stats, rel_path, json_error.text);
		return 0;
	}
	if (catalog_entry_parse(&e, manifest, rel_path, why,
	    sizeof(why)) == -1)
		catalog_skip(stats, rel_path, why);
	else if ((rv = catalog_insert(c, &e, err, errlen)) == 0)
		stats->indexed++;
	json_decref(manifest);
	return rv;
}

/*
 * Walks incidents/<incident>/<node>/<id> under store_dir: depth is how
 * many components rel_path has below "incidents". Names starting with a
 * dot are skipped at every level (editor files, .staging-like leftovers).
 */
static int
catalog_walk(struct catalog *c, const char *store_dir, const char *rel_path,
    int depth, struct catalog_rebuild_stats *stats, char *err, size_t errlen)
{
	DIR		*dir;
	struct dirent	*entry;
	char		 path[PATH_MAX], child[PATH_MAX];
	int		 rv = 0;

	if (depth == 3)
		return catalog_index_manifest(c, store_dir, rel_path, stats,
		    err, errlen);

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", store_dir,
	    rel_path) >= sizeof(path)) {
		catalog_skip(stats, rel_path, "path too long");
		return 0;
	}
	if ((dir = opendir(path)) == NULL) {
		/* A store without incidents yet is an empty store. */
		if (depth == 0 && errno == ENOENT)
			return 0;
		if (depth == 0) {
			errbuf_set(err, errlen, "catalog: %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (errno != ENOTDIR)
			catalog_skip(stats, rel_path, strerror(errno));
		return 0;
	}
	for (;;) {
		errno = 0;
		if ((entry = readdir(dir)) == NULL) {
			if (errno != 0) {
				errbuf_set(err, errlen, "catalog: %s: %s",
				    path, strerror(errno));
				rv = -1;
			}
			break;
		}
		if (entry->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", rel_path,
		    entry->d_name) >= sizeof(child)) {
			catalog_skip(stats, rel_path, "path too long");
			continue;
		}
		if ((rv = catalog_walk(c, store_dir, child, depth + 1, stats,
		    err, errlen)) == -1)
			break;
	}
	closedir(dir);
	return rv;
}

static int
catalog_rebuild_stats(struct catalog *c, const char *store_dir,
    struct catalog_rebuild_stats *stats, char *err, size_t errlen)
{
	memset(stats, 0, sizeof(*stats));
	errbuf_set(err, errlen, "%s", "");
	if (store_dir == NULL) {
		errbuf_set(err, errlen, "catalog: no store to rebuild from");
		return -1;
	}
	if (catalog_exec(c, "BEGIN IMMEDIATE", err, errlen) == -1)
		return -1;
	if (catalog_exec(c, "DELETE FROM triggers", err, errlen) == -1 ||
	    catalog_exec(c, "DELETE FROM snapshots", err, errlen) == -1 ||
	    catalog_walk(c, store_dir, "incidents", 0, stats, err,
	    errlen) == -1 ||
	    catalog_exec(c, "COMMIT", err, errlen) == -1) {
		catalog_rollback(c);
		return -1;
	}
	if (stats->skipped > 0)
		errbuf_set(err, errlen, "catalog: indexed %zu snapshots, "
		    "skipped %zu unreadable or invalid manifests (first: %s)",
		    stats->indexed, stats->skipped, stats->first_skipped);
	return 0;
}

/*
 * Returns 0 or -1. A manifest that cannot be read or indexed does not
 * fail the rebuild (the rest of the store is still worth indexing): it
 * is counted, and on success err holds "" or a warning with that count
 * and the first such path, for the caller to log.
 */
int
catalog_rebuild(struct catalog *c, const char *store_dir, char *err,
    size_t errlen)
{
	struct catalog_rebuild_stats	stats;

	return catalog_rebuild_stats(c, store_dir, &stats, err, errlen);
}

int
catalog_has_snapshot(struct catalog *c, const char *id)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (id == NULL ||
	    (stmt = catalog_statement(c, CATALOG_HAS_SNAPSHOT)) == NULL)
		return -1;
	if (catalog_bind_text(stmt, 1, id, strlen(id)) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else
		rc = sqlite3_step(stmt);
	catalog_statement_done(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A path that does not fit len is -1 too: a cut path would be wrong. */
int
catalog_snapshot_path(struct catalog *c, const char *id, char *path,
    size_t len)
{
	sqlite3_stmt	*stmt;
	const char	*value;
	int		 rv = -1;

	if (id == NULL || path == NULL || len == 0 ||
	    (stmt = catalog_statement(c, CATALOG_SNAPSHOT_PATH)) == NULL)
		return -1;
	if (catalog_bind_text(stmt, 1, id, strlen(id)) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW &&
	    (value = (const char *)sqlite3_column_text(stmt, 0)) != NULL &&
	    strlen(value) < len) {
		memcpy(path, value, strlen(value) + 1);
		rv = 0;
	}
	catalog_statement_done(stmt);
	return rv;
}

static json_t *
catalog_column_string(sqlite3_stmt *stmt, int column)
{
	const char	*text = (const char *)sqlite3_column_text(stmt, column);

	return json_stringn(text != NULL ? text : "",
	    text != NULL ? (size_t)sqlite3_column_bytes(stmt, column) : 0);
}

/* Appends value unless NULL or already there, keeping first-seen order. */
static int
catalog_append_unique(json_t *array, sqlite3_stmt *stmt, int column)
{
	const char	*value;
	json_t		*element;
	size_t		 i;

	value = (const char *)sqlite3_column_text(stmt, column);
	if (value == NULL || *value == '\0')
		return 0;
	json_array_foreach(array, i, element) {
		if (strcmp(json_string_value(element), value) == 0)
			return 0;
	}
	return json_array_append_new(array, json_string(value));
}

static int
catalog_snapshot_triggers(struct catalog *c, const char *id, json_t *sources,
    json_t *reasons)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if ((stmt = catalog_statement(c, CATALOG_SNAPSHOT_TRIGGERS)) == NULL)
		return -1;
	if ((rc = catalog_bind_text(stmt, 1, id, strlen(id))) == SQLITE_OK) {
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			if (catalog_append_unique(sources, stmt, 0) == -1 ||
			    catalog_append_unique(reasons, stmt, 1) == -1) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
	}
	catalog_statement_done(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* One snapshot object from a row of CATALOG_SNAPSHOT_COLUMNS. */
static json_t *
catalog_snapshot_object(struct catalog *c, sqlite3_stmt *row)
{
	json_t		*object, *sources, *reasons, *labels;
	const char	*id = (const char *)sqlite3_column_text(row, 0);
	const char	*labels_json;

	if (id == NULL)
		return NULL;
	sources = json_array();
	reasons = json_array();
	if (sources == NULL || reasons == NULL ||
	    catalog_snapshot_triggers(c, id, sources, reasons) == -1) {
		json_decref(sources);
		json_decref(reasons);
		return NULL;
	}
	labels_json = (const char *)sqlite3_column_text(row, 6);
	labels = labels_json != NULL ? json_loads(labels_json, 0, NULL) : NULL;
	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = json_object();
	}

	object = json_object();
	if (object == NULL ||
	    json_object_set_new(object, "id", json_string(id)) == -1 ||
	    json_object_set_new(object, "node",
	    catalog_column_string(row, 1)) == -1 ||
	    json_object_set_new(object, "incident",
	    catalog_column_string(row, 2)) == -1 ||
	    json_object_set_new(object, "taken_at",
	    catalog_column_string(row, 3)) == -1 ||
	    json_object_set_new(object, "taken_at_us",
	    json_integer(sqlite3_column_int64(row, 4))) == -1 ||
	    json_object_set_new(object, "bytes",
	    json_integer(sqlite3_column_int64(row, 5))) == -1 ||
	    json_object_set(object, "sources", sources) == -1 ||
	    json_object_set(object, "reasons", reasons) == -1 ||
	    json_object_set(object, "labels", labels) == -1 ||
	    json_object_set_new(object, "path",
	    catalog_column_string(row, 7)) == -1) {
		json_decref(object);
		object = NULL;
	}
	json_decref(sources);
	json_decref(reasons);
	json_decref(labels);
	return object;
}

/* Steps through rows of CATALOG_SNAPSHOT_COLUMNS into an array. */
static json_t *
catalog_snapshot_array(struct catalog *c, sqlite3_stmt *stmt)
{
	json_t	*array, *object;
	int	 rc;

	if ((array = json_array()) == NULL)
		return NULL;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((object = catalog_snapshot_object(c, stmt)) == NULL ||
		    json_array_append_new(array, object) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		json_decref(array);
		return NULL;
	}
	return array;
}

static int
catalog_limit(int limit)
{
	if (limit <= 0)
		return CATALOG_LIMIT_DEFAULT;
	return limit < CATALOG_LIMIT_MAX ? limit : CATALOG_LIMIT_MAX;
}

/*
 * A limit of 0 (or less) is CATALOG_LIMIT_DEFAULT; any limit is capped
 * at CATALOG_LIMIT_MAX, since it may come straight from an HTTP query.
 *
 * The WHERE clause only ever gains constant fragments; the values go to
 * numbered parameters, which SQLite lets us bind whether or not the
 * fragment using them is present.
 */
json_t *
catalog_snapshots(struct catalog *c, const struct catalog_filter *filter)
{
	static const struct catalog_filter no_filter;
	sqlite3_stmt	*stmt = NULL;
	json_t		*array = NULL;
	char		 sql[1024];
	const struct catalog_filter *f = filter != NULL ? filter : &no_filter;

	snprintf(sql, sizeof(sql), "SELECT " CATALOG_SNAPSHOT_COLUMNS
	    " FROM snapshots s WHERE 1%s%s%s%s"
	    " ORDER BY s.taken_at_us DESC, s.id DESC LIMIT ?5",
	    f->node != NULL ? " AND s.node = ?1" : "",
	    f->source != NULL ? " AND s.id IN (SELECT t.snapshot_id"
	    " FROM triggers t WHERE t.source = ?2)" : "",
	    f->since_us != 0 ? " AND s.taken_at_us >= ?3" : "",
	    f->until_us != 0 ? " AND s.taken_at_us < ?4" : "");
	if (sqlite3_prepare_v2(c->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    catalog_read_begin(c) == -1)
		goto end;
	if (catalog_bind_text(stmt, 1, f->node,
	    f->node != NULL ? strlen(f->node) : 0) != SQLITE_OK ||
	    catalog_bind_text(stmt, 2, f->source,
	    f->source != NULL ? strlen(f->source) : 0) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, f->since_us) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 4, f->until_us) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 5, catalog_limit(f->limit)) != SQLITE_OK)
		goto end;
	array = catalog_snapshot_array(c, stmt);
end:
	sqlite3_finalize(stmt);
	catalog_read_end(c);
	return array;
}

/*
 * One incident's summary, built from its rows (a snapshot once per
 * trigger, oldest snapshot first): id, first and last taken_at, nodes,
 * snapshot count, bytes, sources and reasons, in first-seen order.
 */
struct catalog_summary {
	json_t		*nodes;
	json_t		*sources;
	json_t		*reasons;
	json_t		*first;
	json_t		*last;
	char		*previous_id;
	json_int_t	 count;
	json_int_t	 bytes;
};

static int
catalog_summary_begin(struct catalog_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->nodes = json_array();
	sum->sources = json_array();
	sum->reasons = json_array();
	return sum->nodes != NULL && sum->sources != NULL &&
	    sum->reasons != NULL ? 0 : -1;
}

/*
 * A row whose columns from col are: snapshot id, node, taken_at, bytes,
 * trigger source, trigger reason. Returns an SQLite code.
 */
static int
catalog_summary_add(struct catalog_summary *sum, sqlite3_stmt *stmt, int col)
{
	const char *snapshot_id = (const char *)sqlite3_column_text(stmt, col);

	if (snapshot_id == NULL)
		return SQLITE_ERROR;
	/* The join repeats a snapshot once per trigger. */
	if (sum->previous_id == NULL ||
	    strcmp(sum->previous_id, snapshot_id) != 0) {
		free(sum->previous_id);
		if ((sum->previous_id = strdup(snapshot_id)) == NULL)
			return SQLITE_NOMEM;
		sum->count++;
		sum->bytes += sqlite3_column_int64(stmt, col + 3);
		json_decref(sum->last);
		sum->last = catalog_column_string(stmt, col + 2);
		if (sum->first == NULL)
			sum->first = json_incref(sum->last);
		if (catalog_append_unique(sum->nodes, stmt, col + 1) == -1)
			return SQLITE_NOMEM;
	}
	if (catalog_append_unique(sum->sources, stmt, col + 4) == -1 ||
	    catalog_append_unique(sum->reasons, stmt, col + 5) == -1)
		return SQLITE_NOMEM;
	return SQLITE_OK;
}

/*
 * The summary object, with snapshots (an array) or their count when
 * NULL; NULL when there were no rows or on error. Frees the summary's
 * parts and consumes snapshots either way.
 */
static json_t *
catalog_summary_end(struct catalog_summary *sum, const char *id,
    json_t *snapshots)
{
	json_t *object = NULL;

	if (sum->count == 0 || sum->first == NULL || sum->last == NULL)
		goto end;
	if (snapshots == NULL &&
	    (snapshots = json_integer(sum->count)) == NULL)
		goto end;
	object = json_object();
	if (object == NULL ||
	    json_object_set_new(object, "id", json_string(id)) == -1 ||
	    json_object_set(object, "first_taken_at", sum->first) == -1 ||
	    json_object_set(object, "last_taken_at", sum->last) == -1 ||
	    json_object_set(object, "nodes", sum->nodes) == -1 ||
	    json_object_set(object, "snapshots", snapshots) == -1 ||
	    json_object_set_new(object, "bytes",
	    json_integer(sum->bytes)) == -1 ||
	    json_object_set(object, "sources", sum->sources) == -1 ||
	    json_object_set(object, "reasons", sum->reasons) == -1) {
		json_decref(object);
		object = NULL;
	}
end:
	free(sum->previous_id);
	json_decref(sum->first);
	json_decref(sum->last);
	json_decref(sum->nodes);
	json_decref(sum->sources);
	json_decref(sum->reasons);
	json_decref(snapshots);
	memset(sum, 0, sizeof(*sum));
	return object;
}

/* One incident's summary (catalog_incident); snapshots is consumed. */
static json_t *
catalog_incident_summary(struct catalog *c, const char *id,
    json_t *snapshots)
{
	struct catalog_summary	 sum;
	sqlite3_stmt		*stmt = NULL;
	int			 rc = SQLITE_ERROR;

	if (catalog_summary_begin(&sum) == 0 &&
	    (stmt = catalog_statement(c, CATALOG_INCIDENT_ROWS)) != NULL &&
	    catalog_bind_text(stmt, 1, id, strlen(id)) == SQLITE_OK) {
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			if ((rc = catalog_summary_add(&sum, stmt, 0)) !=
			    SQLITE_OK)
				break;
	}
	catalog_statement_done(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(catalog_summary_end(&sum, id, snapshots));
		return NULL;
	}
	return catalog_summary_end(&sum, id, snapshots);
}

/* limit <= 0 means CATALOG_LIMIT_DEFAULT, as in catalog_filter. */
json_t *
catalog_incidents(struct catalog *c, int limit)
{
	struct catalog_summary	 sum;
	sqlite3_stmt		*stmt = NULL;
	json_t			*array, *object;
	const char		*incident;
	char			*current = NULL;
	int			 rc = SQLITE_ERROR, is_open = 0;

	if ((array = json_array()) == NULL ||
	    (stmt = catalog_statement(c, CATALOG_INCIDENTS)) == NULL ||
	    sqlite3_bind_int(stmt, 1, catalog_limit(limit)) != SQLITE_OK ||
	    catalog_read_begin(c) == -1)
		goto error;
	is_open = 1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((incident = (const char *)sqlite3_column_text(stmt,
		    0)) == NULL) {
			rc = SQLITE_ERROR;
			break;
		}
		/* Rows come incident by incident: a new one ends the last. */
		if (current == NULL || strcmp(current, incident) != 0) {
			if (current != NULL) {
				object = catalog_summary_end(&sum, current,
				    NULL);
				if (object == NULL || json_array_append_new(
				    array, object) == -1) {
					rc = SQLITE_ERROR;
					break;
				}
			}
			free(current);
			if ((current = strdup(incident)) == NULL ||
			    catalog_summary_begin(&sum) == -1) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		if ((rc = catalog_summary_add(&sum, stmt, 1)) != SQLITE_OK)
			break;
	}
	if (rc == SQLITE_DONE && current != NULL) {
		object = catalog_summary_end(&sum, current, NULL);
		if (object == NULL || json_array_append_new(array, object) == -1)
			rc = SQLITE_ERROR;
	} else if (current != NULL)
		json_decref(catalog_summary_end(&sum, current, NULL));
	free(current);
	if (rc == SQLITE_DONE)
		goto end;
error:
	json_decref(array);
	array = NULL;
end:
	catalog_statement_done(stmt);
	if (is_open)
		catalog_read_end(c);
	return array;
}

/* Its snapshots are newest first, as catalog_snapshots lists them. */
json_t *
catalog_incident(struct catalog *c, const char *id)
{
	sqlite3_stmt	*stmt;
	json_t		*snapshots = NULL, *object = NULL;

	if (id == NULL ||
	    (stmt = catalog_statement(c, CATALOG_INCIDENT_SNAPSHOTS)) == NULL ||
	    catalog_read_begin(c) == -1)
		return NULL;
	if (catalog_bind_text(stmt, 1, id, strlen(id)) == SQLITE_OK)
		snapshots = catalog_snapshot_array(c, stmt);
	catalog_statement_done(stmt);
	if (snapshots != NULL && json_array_size(snapshots) > 0)
		object = catalog_incident_summary(c, id, snapshots);
	else
		json_decref(snapshots);
	catalog_read_end(c);
	return object;
}

/* 0 on error too: the header gives this one no other way to say so. */
uint64_t
catalog_total_bytes(struct catalog *c)
{
	sqlite3_stmt	*stmt;
	uint64_t	 total = 0;

	if ((stmt = catalog_statement(c, CATALOG_TOTAL_BYTES)) == NULL)
		return 0;
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_int64(stmt, 0) > 0)
		total = (uint64_t)sqlite3_column_int64(stmt, 0);
	catalog_statement_done(stmt);
	return total;
}

/*
 * The incident whose newest snapshot is the oldest: the next one
 * retention removes. Returns 1 with id (and the optional
 * last_taken_at_us and bytes) set, 0 when the catalog is empty, -1 on
 * error or when the id does not fit len.
 */
int
catalog_oldest_incident(struct catalog *c, char *id, size_t len,
    int64_t *last_taken_at_us, uint64_t *bytes)
{
	sqlite3_stmt	*stmt;
	const char	*value;
	int		 rc, rv = -1;

	if (id == NULL || len == 0 ||
	    (stmt = catalog_statement(c, CATALOG_OLDEST_INCIDENT)) == NULL)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		rv = 0;
	else if (rc == SQLITE_ROW &&
	    (value = (const char *)sqlite3_column_text(stmt, 0)) != NULL &&
	    strlen(value) < len) {
		memcpy(id, value, strlen(value) + 1);
		if (last_taken_at_us != NULL)
			*last_taken_at_us = sqlite3_column_int64(stmt, 1);
		if (bytes != NULL)
			*bytes = (uint64_t)sqlite3_column_int64(stmt, 2);
		rv = 1;
	}
	catalog_statement_done(stmt);
	return rv;
}

/* Removes the incident's rows (not its files: store_remove_incident). */
int
catalog_remove_incident(struct catalog *c, const char *id, char *err,
    size_t errlen)
{
	static const enum catalog_statement deletes[] = {
		CATALOG_DELETE_INCIDENT_TRIGGERS,
		CATALOG_DELETE_INCIDENT_SNAPSHOTS
	};
	sqlite3_stmt	*stmt;
	size_t		 i;

	if (id == NULL) {
		errbuf_set(err, errlen, "catalog: no incident id");
		return -1;
	}
	if (catalog_exec(c, "BEGIN IMMEDIATE", err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(deletes) / sizeof(deletes[0]); i++) {
		if ((stmt = catalog_statement(c, deletes[i])) == NULL ||
		    catalog_bind_text(stmt, 1, id, strlen(id)) != SQLITE_OK ||
		    sqlite3_step(stmt) != SQLITE_DONE) {
			errbuf_set(err, errlen, "catalog: remove incident "
			    "%s: %s", id, sqlite3_errmsg(c->db));
			catalog_statement_done(stmt);
			catalog_rollback(c);
			return -1;
		}
		catalog_statement_done(stmt);
	}
	if (catalog_exec(c, "COMMIT", err, errlen) == -1) {
		catalog_rollback(c);
		return -1;
	}
	return 0;
}
