/*
 * Unit tests of what the catalog keeps of the store itself (catalog.c
 * version 4, catalog_write.c, catalog_request.c): retention goes by the
 * bytes a snapshot takes on disk and the relay's clock at its arrival,
 * so a node declaring "bytes": 0 or a taken_at_us in the far future
 * cannot pin the store full; a version 3 catalog is migrated in place
 * and measured from the store; a stored snapshot whose row is missing is
 * indexed again from its stored manifest; what the catalog would refuse
 * is told before anything is stored; the incidents asked of each node.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "catalog.h"
#include "catalog_fixture.h"
#include "clock.h"
#include "store.h"

#define HOUR	3600000000LL

static void
open_catalog(struct fixture *f, const char *store, char *warning,
    size_t len)
{
	char err[512];

	if ((f->catalog = catalog_open(f->db, store, NULL, err,
	    sizeof(err))) == NULL)
		fail_msg("catalog_open: %s", err);
	if (warning != NULL)
		snprintf(warning, len, "%s", err);
}

static json_t *
manifest(const char *id, const char *node, int64_t taken_at_us,
    int64_t declared_bytes, int64_t received_at_us)
{
	json_t *m;

	m = json_pack("{s:s, s:s, s:I, s:I, s:[{s:s, s:s}]}", "id", id,
	    "node", node, "taken_at_us", (json_int_t)taken_at_us, "bytes",
	    (json_int_t)declared_bytes, "triggers", "source", "app",
	    "reason", "x");
	if (received_at_us > 0)
		json_object_set_new(m, "received_at_us",
		    json_integer((json_int_t)received_at_us));
	return m;
}

/* A snapshot on disk: its manifest and one file of data_bytes. */
static void
store_snapshot(struct fixture *f, const char *rel, json_t *m,
    size_t data_bytes)
{
	char	 path[PATH_MAX * 2], cmd[PATH_MAX * 3];
	FILE	*fp;
	char	*buf;

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/%s/trace", f->store, rel);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%s/manifest.json", f->store, rel);
	assert_int_equal(json_dump_file(m, path, 0), 0);
	snprintf(path, sizeof(path), "%s/%s/trace/data", f->store, rel);
	assert_non_null(fp = fopen(path, "w"));
	assert_non_null(buf = calloc(1, data_bytes + 1));
	memset(buf, 'x', data_bytes);
	assert_int_equal(fwrite(buf, 1, data_bytes, fp), data_bytes);
	fclose(fp);
	free(buf);
	json_decref(m);
}

static uint64_t
disk(struct fixture *f, const char *rel)
{
	char		 path[PATH_MAX * 2];
	uint64_t	 bytes;

	snprintf(path, sizeof(path), "%s/%s", f->store, rel);
	assert_int_equal(store_disk_bytes(path, &bytes), 0);
	return bytes;
}

static int64_t
column(struct fixture *f, const char *sql)
{
	return fixture_query_int(f, sql);
}

/*
 * A node that declares "bytes": 0 and a taken_at_us a century ahead: its
 * snapshot counts what it takes, and is as old as its arrival.
 */
static void
test_retention_goes_by_measures(void **state)
{
	struct fixture	*f = *state;
	json_t		*m;
	char		 id[64], err[512];
	int64_t		 last;
	uint64_t	 bytes;

	open_catalog(f, NULL, NULL, 0);
	m = manifest("liar", "web1", T0 + 100 * 8760 * HOUR, 0, 0);
	assert_int_equal(catalog_add_stored(f->catalog, m,
	    "incidents/liar/web1/liar", 5000000, T0, err, sizeof(err)), 0);
	json_decref(m);
	m = manifest("honest", "web2", T0 + HOUR, 1000, 0);
	assert_int_equal(catalog_add_stored(f->catalog, m,
	    "incidents/honest/web2/honest", 4096, T0 + HOUR, err,
	    sizeof(err)), 0);
	json_decref(m);
	assert_int_equal(catalog_total_bytes(f->catalog), 5000000 + 4096);
	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    &last, &bytes), 1);
	assert_string_equal(id, "liar");
	assert_int_equal(last, T0);
	assert_int_equal(bytes, 5000000);
	/* The API still shows what the node said it took. */
	m = catalog_snapshot(f->catalog, "liar");
	assert_int_equal(json_integer_value(json_object_get(m, "bytes")), 0);
	json_decref(m);
}

/* What the catalog refuses is known before anything is stored. */
static void
test_check_manifest(void **state)
{
	json_t	*m;
	char	 err[512];

	(void)state;
	m = manifest("a", "web1", T0, 1, 0);
	assert_int_equal(catalog_check_manifest(m, "incidents/a/web1/a", err,
	    sizeof(err)), 0);
	json_object_del(m, "taken_at_us");
	assert_int_equal(catalog_check_manifest(m, "incidents/a/web1/a", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "taken_at_us"));
	json_object_set_new(m, "taken_at_us", json_string("yesterday"));
	assert_int_equal(catalog_check_manifest(m, "incidents/a/web1/a", err,
	    sizeof(err)), -1);
	json_object_set_new(m, "taken_at_us", json_integer(-5));
	assert_int_equal(catalog_check_manifest(m, "incidents/a/web1/a", err,
	    sizeof(err)), -1);
	/* Past the year 9999 no date can be written for it. */
	json_object_set_new(m, "taken_at_us",
	    json_integer(253402300800000000LL));
	assert_int_equal(catalog_check_manifest(m, "incidents/a/web1/a", err,
	    sizeof(err)), -1);
	json_decref(m);
}

/*
 * A version 3 catalog (declared figures only) with the store beside it:
 * the writer migrates it and measures every row from the store; a row
 * whose snapshot is gone keeps the declared figures, and a warning says
 * so.
 */
static void
test_migrate_from_version_3(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	json_t		*m;
	char		 warning[512], err[512];

	FIXTURE_SQLITE_ONLY(f);
	store_snapshot(f, "incidents/i1/web1/s1", manifest("s1", "web1",
	    T0 + 50 * 8760 * HOUR, 0, T0 + 5), 100000);
	store_snapshot(f, "incidents/i2/web1/s2", manifest("s2", "web1",
	    T0, 7, 0), 20000);
	open_catalog(f, NULL, NULL, 0);
	m = manifest("s1", "web1", T0 + 50 * 8760 * HOUR, 0, T0 + 5);
	assert_int_equal(catalog_add(f->catalog, m, "incidents/i1/web1/s1",
	    err, sizeof(err)), 0);
	json_decref(m);
	m = manifest("s2", "web1", T0, 7, 0);
	assert_int_equal(catalog_add(f->catalog, m, "incidents/i2/web1/s2",
	    err, sizeof(err)), 0);
	json_decref(m);
	m = manifest("gone", "web3", T0, 9, 0);
	assert_int_equal(catalog_add(f->catalog, m,
	    "incidents/i3/web3/gone", err, sizeof(err)), 0);
	json_decref(m);
	catalog_close(f->catalog);
	f->catalog = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE incident_requests;"
	    "ALTER TABLE snapshots DROP COLUMN relay;"
	    "ALTER TABLE snapshots DROP COLUMN stored_bytes;"
	    "ALTER TABLE snapshots DROP COLUMN received_at_us;"
	    "PRAGMA user_version = 3;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	/* A reader migrates the schema, and measures nothing. */
	open_catalog(f, NULL, warning, sizeof(warning));
	assert_string_equal(warning, "");
	assert_int_equal(column(f, "PRAGMA user_version"), 5);
	assert_int_equal(column(f, "SELECT count(*) FROM snapshots WHERE "
	    "stored_bytes IS NULL"), 3);
	catalog_close(f->catalog);

	open_catalog(f, f->store, warning, sizeof(warning));
	assert_non_null(strstr(warning, "measured 2 snapshots"));
	assert_non_null(strstr(warning, "incidents/i3/web3/gone"));
	assert_int_equal(column(f, "SELECT stored_bytes FROM snapshots WHERE "
	    "id = 's1'"), (int64_t)disk(f, "incidents/i1/web1/s1"));
	assert_true(disk(f, "incidents/i1/web1/s1") >= 100000);
	assert_int_equal(column(f, "SELECT received_at_us FROM snapshots "
	    "WHERE id = 's1'"), T0 + 5);
	/* Without the relay's receive time: the manifest file's. */
	assert_true(column(f, "SELECT received_at_us FROM snapshots WHERE "
	    "id = 's2'") > T0);
	assert_int_equal(column(f, "SELECT stored_bytes FROM snapshots WHERE "
	    "id = 'gone'"), -1);
	assert_int_equal(catalog_total_bytes(f->catalog),
	    disk(f, "incidents/i1/web1/s1") +
	    disk(f, "incidents/i2/web1/s2") + 9);
	/* The requests table is there: version 4 whole. */
	assert_int_equal(catalog_add_request(f->catalog, "incident-x", "web1",
	    T0, err, sizeof(err)), 0);
	catalog_close(f->catalog);
	/* Measured once: the next open has nothing left to do. */
	open_catalog(f, f->store, warning, sizeof(warning));
	assert_non_null(strstr(warning, "measured 0 snapshots"));
}

/* A stored snapshot without its row (a failed catalog write) gets it. */
static void
test_index_stored(void **state)
{
	struct fixture	*f = *state;
	json_t		*s;
	char		 err[512];

	store_snapshot(f, "incidents/i1/web1/r1", manifest("r1", "web1", T0,
	    0, T0 + 9), 30000);
	open_catalog(f, f->store, NULL, 0);
	/* PostgreSQL's is not rebuilt from a store: indexed as uploaded. */
	if (f->is_pg)
		assert_int_equal(catalog_index_stored(f->catalog, f->store,
		    "incidents/i1/web1/r1", err, sizeof(err)), 0);
	assert_int_equal(catalog_has_snapshot(f->catalog, "r1"), 1);
	assert_int_equal(catalog_remove_incident(f->catalog, "i1", err,
	    sizeof(err)), 0);
	assert_int_equal(catalog_has_snapshot(f->catalog, "r1"), 0);
	assert_int_equal(catalog_index_stored(f->catalog, f->store,
	    "incidents/i1/web1/r1", err, sizeof(err)), 0);
	s = catalog_snapshot(f->catalog, "r1");
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "node")),
	    "web1");
	json_decref(s);
	assert_int_equal(catalog_total_bytes(f->catalog),
	    disk(f, "incidents/i1/web1/r1"));
	/* Nothing there: an error that says which. */
	assert_int_equal(catalog_index_stored(f->catalog, f->store,
	    "incidents/i9/web1/none", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "incidents/i9/web1/none"));
}

static void
test_requests(void **state)
{
	struct fixture	*f = *state;
	json_t		*m;
	char		 err[512];

	open_catalog(f, NULL, NULL, 0);
	assert_int_equal(catalog_has_request(f->catalog, "incident-1", "web1"),
	    0);
	assert_int_equal(catalog_add_request(f->catalog, "incident-1", "web1",
	    T0, err, sizeof(err)), 0);
	assert_int_equal(catalog_add_request(f->catalog, "incident-1", "web2",
	    T0, err, sizeof(err)), 0);
	assert_int_equal(catalog_add_request(f->catalog, "incident-2", "web1",
	    T0 + HOUR, err, sizeof(err)), 0);
	/* Asked again: one row. */
	assert_int_equal(catalog_add_request(f->catalog, "incident-2", "web1",
	    T0 + HOUR, err, sizeof(err)), 0);
	assert_int_equal(catalog_has_request(f->catalog, "incident-1", "web1"),
	    1);
	assert_int_equal(catalog_has_request(f->catalog, "incident-1", "web3"),
	    0);
	assert_int_equal(catalog_has_request(f->catalog, "incident-3", "web1"),
	    0);
	/* Retention removes an incident's requests with its rows. */
	m = manifest("a", "web1", T0, 1, 0);
	assert_int_equal(catalog_add(f->catalog, m, "incidents/incident-1/"
	    "web1/a", err, sizeof(err)), 0);
	json_decref(m);
	assert_int_equal(catalog_remove_incident(f->catalog, "incident-1",
	    err, sizeof(err)), 0);
	assert_int_equal(catalog_has_request(f->catalog, "incident-1", "web2"),
	    0);
	assert_int_equal(catalog_has_request(f->catalog, "incident-2", "web1"),
	    1);
	/* And those older than max_age. */
	assert_int_equal(catalog_remove_requests_before(f->catalog,
	    T0 + 2 * HOUR, err, sizeof(err)), 0);
	assert_int_equal(catalog_has_request(f->catalog, "incident-2", "web1"),
	    0);
}

/*
 * Relays sharing a catalog but not a store: each one's retention sees and
 * removes only the rows it wrote, even of an incident they share; and
 * with no scope, the whole catalog counts.
 */
static void
add_as(struct fixture *f, const char *relay, const char *id,
    const char *incident, const char *node, uint64_t bytes, int64_t at)
{
	json_t	*m;
	char	 path[256], err[512];

	catalog_set_relay(relay, 1);
	m = manifest(id, node, at, (int64_t)bytes, 0);
	json_object_set_new(m, "incident", json_string(incident));
	snprintf(path, sizeof(path), "incidents/%s/%s/%s", incident, node, id);
	if (catalog_add_stored(f->catalog, m, path, bytes, at, err,
	    sizeof(err)) != 0)
		fail_msg("catalog_add_stored: %s", err);
	json_decref(m);
}

static void
test_retention_scoped_to_relay(void **state)
{
	struct fixture	*f = *state;
	json_t		*m;
	char		 id[64], err[512];

	open_catalog(f, NULL, NULL, 0);
	add_as(f, "r1", "a1", "inc-a", "web1", 4096, T0);
	add_as(f, "r2", "b1", "inc-a", "web2", 8192, T0 - HOUR);
	add_as(f, "r2", "b2", "inc-b", "web2", 100, T0 - 2 * HOUR);

	catalog_set_relay("r1", 1);
	assert_int_equal(catalog_total_bytes(f->catalog), 4096);
	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    NULL, NULL), 1);
	assert_string_equal(id, "inc-a");
	assert_int_equal(catalog_remove_incident(f->catalog, "inc-a", err,
	    sizeof(err)), 0);
	assert_null(m = catalog_snapshot(f->catalog, "a1"));
	/* r2's snapshot of that incident stays, and so do its requests. */
	assert_non_null(m = catalog_snapshot(f->catalog, "b1"));
	json_decref(m);
	assert_int_equal(catalog_total_bytes(f->catalog), 0);
	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    NULL, NULL), 0);

	catalog_set_relay("r2", 1);
	assert_int_equal(catalog_total_bytes(f->catalog), 8192 + 100);
	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    NULL, NULL), 1);
	assert_string_equal(id, "inc-b");

	catalog_set_relay("r2", 0);
	assert_int_equal(catalog_total_bytes(f->catalog), 8192 + 100);
	add_as(f, "", "c1", "inc-c", "web3", 1, T0);
	catalog_set_relay("", 0);
	assert_int_equal(catalog_total_bytes(f->catalog), 8192 + 100 + 1);
	assert_int_equal(catalog_remove_incident(f->catalog, "inc-a", err,
	    sizeof(err)), 0);
	assert_null(catalog_snapshot(f->catalog, "b1"));
}

/*
 * Relays sharing a catalog and a store (unscoped): the backfill of one
 * leaves another's snapshots to it while they are fresh (two analyses
 * would write two summaries over each other), and takes them up once
 * they are older than CATALOG_FOREIGN_ANALYSIS_US without a summary.
 */
static int
unanalyzed_has(struct fixture *f, const char *id)
{
	json_t	*todo = catalog_unanalyzed(f->catalog, 1, 100), *row;
	size_t	 i;
	int	 found = 0;

	json_array_foreach(todo, i, row)
		if (strcmp(json_string_value(json_object_get(row, "id")), id)
		    == 0)
			found = 1;
	json_decref(todo);
	return found;
}

static void
test_backfill_leaves_fresh_foreign(void **state)
{
	struct fixture	*f = *state;
	int64_t		 now = clock_realtime_us();

	open_catalog(f, NULL, NULL, 0);
	add_as(f, "r1", "fresh1", "inc-a", "web1", 4096, now);
	add_as(f, "r1", "old1", "inc-b", "web1", 4096,
	    now - CATALOG_FOREIGN_ANALYSIS_US - HOUR / 60);
	add_as(f, "r2", "fresh2", "inc-c", "web2", 4096, now);

	catalog_set_relay("r2", 0);
	assert_true(unanalyzed_has(f, "fresh2"));
	assert_false(unanalyzed_has(f, "fresh1"));
	/* r2 takes r1's old one over: r1 no longer sees it, r2 still does. */
	assert_true(unanalyzed_has(f, "old1"));
	catalog_set_relay("r1", 0);
	assert_true(unanalyzed_has(f, "fresh1"));
	assert_false(unanalyzed_has(f, "fresh2"));
	assert_false(unanalyzed_has(f, "old1"));
	catalog_set_relay("r2", 0);
	assert_true(unanalyzed_has(f, "old1"));
	catalog_set_relay("", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_retention_goes_by_measures,
		    setup, teardown),
		cmocka_unit_test(test_check_manifest),
		cmocka_unit_test_setup_teardown(test_retention_scoped_to_relay,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_backfill_leaves_fresh_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_version_3,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_stored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_requests, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
