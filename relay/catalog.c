/*
 * The relay's catalog (catalog.h): an index of the stored snapshots, so
 * the HTTP API and retention can answer "which incidents", "which
 * snapshots from node N with a trigger from source S since T" and "what
 * is oldest" without walking the store. On SQLite (catalog_sqlite.c) it
 * is one relay's file, rebuilt from the store whenever it cannot be
 * trusted; on PostgreSQL (catalog_pg.c) it is shared by the relays of a
 * tier and is itself the source of truth for what they stored.
 *
 * The catalog's logic is written once, over db.h's drivers, in SQL both
 * engines accept: upserts are INSERT ... ON CONFLICT DO UPDATE, which is
 * also what makes two relays indexing one snapshot at once harmless.
 *
 * Not thread-safe by itself: a struct catalog is one connection and its
 * cached statements, used by one thread at a time. Each thread opens its
 * own: the disk worker writes, the API's read threads and the analysis
 * threads read (and the analysis writes its figures).
 *
 * Every value reaching SQL is a bound parameter. The only SQL text we
 * assemble (the listings' filters) is made of constant fragments.
 *
 * This file holds the statements, opening and the per-thread readers;
 * writes are in catalog_write.c, reads in catalog_query.c, and
 * catalog_sql.h is what they share.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_sql.h"
#include "db.h"
#include "errbuf.h"

/*
 * A snapshot indexed again is replaced whole, as SQLite's INSERT OR
 * REPLACE did: the analysis's figures go back to NULL until it runs
 * again (catalog_insert also clears its rows).
 */
#define CATALOG_REPLACE_SNAPSHOT					\
	"ON CONFLICT (id) DO UPDATE SET node = excluded.node, "		\
	"incident = excluded.incident, "				\
	"taken_at_us = excluded.taken_at_us, "				\
	"taken_at = excluded.taken_at, bytes = excluded.bytes, "	\
	"path = excluded.path, labels_json = excluded.labels_json, "	\
	"stored_bytes = excluded.stored_bytes, "			\
	"received_at_us = excluded.received_at_us, "			\
	"analyzer_version = NULL, analysis = NULL, events = NULL, "	\
	"discarded = NULL, requests = NULL, slowest_us = NULL, "	\
	"errors = NULL, history_lost = NULL"

/* catalog_set_relay(): set once at start-up, before any thread opens one. */
char		 catalog_relay_name[CATALOG_RELAY_MAX];
static int	 catalog_is_scoped;

void
catalog_set_relay(const char *name, int is_scoped)
{
	snprintf(catalog_relay_name, sizeof(catalog_relay_name), "%s", name);
	catalog_is_scoped = is_scoped;
}

const char *
catalog_scope(void)
{
	return catalog_is_scoped ? catalog_relay_name : "";
}

static const char *const catalog_sql[CATALOG_STATEMENT_COUNT] = {
	[CATALOG_DELETE_TRIGGERS] =
	    "DELETE FROM triggers WHERE snapshot_id = ?1",
	[CATALOG_INSERT_SNAPSHOT] =
	    "INSERT INTO snapshots (id, node, incident, taken_at_us, "
	    "taken_at, bytes, path, labels_json, stored_bytes, "
	    "received_at_us, relay) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	    "?9, ?10, ?11) "
	    CATALOG_REPLACE_SNAPSHOT,
	[CATALOG_INSERT_TRIGGER] =
	    "INSERT INTO triggers (snapshot_id, seq, source, reason) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (snapshot_id, seq) "
	    "DO UPDATE SET source = excluded.source, "
	    "reason = excluded.reason",
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
	    "FROM snapshots WHERE ?1 = '' OR relay = ?1",
	[CATALOG_OLDEST_INCIDENT] =
	    "SELECT incident, max(coalesce(received_at_us, taken_at_us)) "
	    "AS last_us, sum(coalesce(stored_bytes, bytes)) "
	    "FROM snapshots WHERE ?1 = '' OR relay = ?1 "
	    "GROUP BY incident ORDER BY last_us, incident LIMIT 1",
	[CATALOG_UNMEASURED] =
	    "SELECT path FROM snapshots WHERE stored_bytes IS NULL LIMIT ?1",
	[CATALOG_INSERT_REQUEST] =
	    "INSERT INTO incident_requests (incident, node, "
	    "requested_at_us) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (incident, node) DO UPDATE SET "
	    "requested_at_us = excluded.requested_at_us",
	[CATALOG_HAS_REQUEST] =
	    "SELECT 1 FROM incident_requests WHERE incident = ?1 AND "
	    "node = ?2",
	[CATALOG_DELETE_INCIDENT_REQUESTS] =
	    "DELETE FROM incident_requests WHERE incident = ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM snapshots WHERE incident = ?1)",
	[CATALOG_DELETE_OLD_REQUESTS] =
	    "DELETE FROM incident_requests WHERE requested_at_us < ?1",
	[CATALOG_DELETE_INCIDENT_TRIGGERS] =
	    "DELETE FROM triggers WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1 "
	    "AND (?2 = '' OR relay = ?2))",
	[CATALOG_DELETE_INCIDENT_SNAPSHOTS] =
	    "DELETE FROM snapshots WHERE incident = ?1 "
	    "AND (?2 = '' OR relay = ?2)",
	[CATALOG_DELETE_INCIDENT_URIS] =
	    "DELETE FROM snapshot_uris WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1 "
	    "AND (?2 = '' OR relay = ?2))",
	[CATALOG_DELETE_INCIDENT_STATUSES] =
	    "DELETE FROM snapshot_statuses WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1 "
	    "AND (?2 = '' OR relay = ?2))",
	[CATALOG_DELETE_INCIDENT_BRIEFS] =
	    "DELETE FROM snapshot_briefs WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE incident = ?1 "
	    "AND (?2 = '' OR relay = ?2))",
	[CATALOG_SET_SUMMARY] =
	    "UPDATE snapshots SET analyzer_version = ?2, analysis = ?3, "
	    "events = ?4, discarded = ?5, requests = ?6, slowest_us = ?7, "
	    "errors = ?8, history_lost = ?9 WHERE id = ?1",
	[CATALOG_DELETE_URIS] =
	    "DELETE FROM snapshot_uris WHERE snapshot_id = ?1",
	[CATALOG_INSERT_URI] =
	    "INSERT INTO snapshot_uris (snapshot_id, uri, count, errors, "
	    "max_us) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (snapshot_id, uri) DO UPDATE SET "
	    "count = excluded.count, errors = excluded.errors, "
	    "max_us = excluded.max_us",
	[CATALOG_DELETE_STATUSES] =
	    "DELETE FROM snapshot_statuses WHERE snapshot_id = ?1",
	[CATALOG_INSERT_STATUS] =
	    "INSERT INTO snapshot_statuses (snapshot_id, status, count) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (snapshot_id, status) "
	    "DO UPDATE SET count = excluded.count",
	[CATALOG_DELETE_BRIEF] =
	    "DELETE FROM snapshot_briefs WHERE snapshot_id = ?1",
	[CATALOG_INSERT_BRIEF] =
	    "INSERT INTO snapshot_briefs (snapshot_id, brief) "
	    "VALUES (?1, ?2) ON CONFLICT (snapshot_id) "
	    "DO UPDATE SET brief = excluded.brief",
	[CATALOG_INCIDENT_BRIEFS] =
	    "SELECT b.snapshot_id, b.brief FROM snapshots s "
	    "JOIN snapshot_briefs b ON b.snapshot_id = s.id "
	    "WHERE s.incident = ?1",
	/* Newest first: what an investigator looks at now comes first. */
	[CATALOG_SNAPSHOT] =
	    "SELECT " CATALOG_SNAPSHOT_COLUMNS " FROM snapshots s "
	    "WHERE s.id = ?1",
	[CATALOG_UNANALYZED] =
	    "SELECT id, path, relay FROM snapshots WHERE (analyzer_version "
	    "IS NULL OR analyzer_version < ?1) AND (?3 = '' OR relay = ?3) "
	    "AND (relay = '' OR relay = ?4 OR (analyzer_version IS NULL AND "
	    "coalesce(received_at_us, taken_at_us) < ?5)) "
	    "ORDER BY taken_at_us DESC LIMIT ?2",
	[CATALOG_ADOPT] =
	    "UPDATE snapshots SET relay = ?1, analyzer_version = 0 "
	    "WHERE id = ?2 AND relay = ?3 AND analyzer_version IS NULL",
};

void
catalog_sql_error(struct catalog *c, char *err, size_t errlen,
    const char *what)
{
	errbuf_set(err, errlen, "catalog: %s: %s", what, db_errmsg(c->db));
}

/*
 * Returns a cached statement, reset and unbound. Callers reset it again
 * when done (catalog_statement_done), so that no read transaction stays
 * open between calls.
 */
struct db_stmt *
catalog_statement(struct catalog *c, enum catalog_statement which)
{
	struct db_stmt	*stmt = c->statements[which];

	if (stmt == NULL) {
		if ((stmt = db_prepare(c->db, catalog_sql[which], 1)) == NULL)
			return NULL;
		c->statements[which] = stmt;
	}
	db_reset(stmt);
	return stmt;
}

void
catalog_statement_done(struct db_stmt *stmt)
{
	db_reset(stmt);
}

int
catalog_statement_exists(struct db_stmt *stmt, int rc)
{
	if (stmt != NULL && rc == DB_OK)
		rc = db_step(stmt);
	else if (rc == DB_OK)
		rc = DB_ERROR;
	catalog_statement_done(stmt);
	if (rc == DB_ROW)
		return 1;
	return rc == DB_DONE ? 0 : -1;
}

int
catalog_exec(struct catalog *c, const char *sql, char *err, size_t errlen)
{
	if (db_exec(c->db, sql) != DB_OK) {
		catalog_sql_error(c, err, errlen, sql);
		return -1;
	}
	return 0;
}

int
catalog_begin(struct catalog *c, char *err, size_t errlen)
{
	if (db_begin(c->db) != DB_OK) {
		catalog_sql_error(c, err, errlen, "begin");
		return -1;
	}
	return 0;
}

int
catalog_commit(struct catalog *c, char *err, size_t errlen)
{
	if (db_commit(c->db) != DB_OK) {
		catalog_sql_error(c, err, errlen, "commit");
		return -1;
	}
	return 0;
}

void
catalog_rollback(struct catalog *c)
{
	db_rollback(c->db);
}

/*
 * The listings run several queries (one per snapshot for its triggers);
 * one read transaction makes them all see the same state while the disk
 * thread writes.
 */
int
catalog_read_begin(struct catalog *c)
{
	return db_read_begin(c->db) == DB_OK ? 0 : -1;
}

void
catalog_read_end(struct catalog *c)
{
	/* Read only: a failed COMMIT has nothing to lose. */
	if (db_commit(c->db) != DB_OK)
		db_rollback(c->db);
}

void
catalog_close(struct catalog *c)
{
	int	i;

	if (c == NULL)
		return;
	for (i = 0; i < CATALOG_STATEMENT_COUNT; i++)
		db_finalize(c->statements[i]);
	db_close(c->db);
	free(c);
}

int
catalog_address(char *address, size_t len, int is_postgresql,
    const char *path, const char *conninfo)
{
	int	n;

	if (is_postgresql)
		n = snprintf(address, len, "%s%s", CATALOG_POSTGRESQL,
		    conninfo);
	else
		n = snprintf(address, len, "%s", path);
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

struct catalog *
catalog_open(const char *address, const char *store_dir, int *was_rebuilt,
    char *err, size_t errlen)
{
	struct catalog	*c;
	size_t		 prefix = strlen(CATALOG_POSTGRESQL);
	int		 rv;

	if (was_rebuilt != NULL)
		*was_rebuilt = 0;
	errbuf_set(err, errlen, "%s", "");
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errbuf_set(err, errlen, "catalog: out of memory");
		return NULL;
	}
	if (strncmp(address, CATALOG_POSTGRESQL, prefix) == 0)
		rv = catalog_pg_open(c, address + prefix, err, errlen);
	else
		rv = catalog_sqlite_open(c, address, store_dir, was_rebuilt,
		    err, errlen);
	if (rv == -1) {
		catalog_close(c);
		return NULL;
	}
	return c;
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
catalog_reader(const char *address, char *err, size_t errlen)
{
	struct catalog *c;

	pthread_once(&catalog_reader_once, catalog_reader_key_create);
	if ((c = pthread_getspecific(catalog_reader_key)) != NULL)
		return c;
	/* The relay opened (and if need be rebuilt) it first: no store. */
	if ((c = catalog_open(address, NULL, NULL, err, errlen)) != NULL &&
	    pthread_setspecific(catalog_reader_key, c) != 0) {
		catalog_close(c);
		errbuf_set(err, errlen, "catalog: out of memory");
		return NULL;
	}
	return c;
}
