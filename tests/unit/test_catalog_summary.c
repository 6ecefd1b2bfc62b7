/*
 * Unit tests of relay/catalog_summary.c and what the listings make of
 * it: a summary's key figures on its snapshot, the filters they serve
 * (slowest, URI, status), an incident's figures together, the incident
 * filters, the snapshots still to analyze, summaries read back by a
 * rebuild, the briefs an incident's answer reads, and version 1 and 2
 * catalogs migrated in place.
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

#include "analyze.h"
#include "catalog.h"
#include "catalog_fixture.h"

#define MINUTE	60000000LL

static void
open_catalog(struct fixture *f, const char *store)
{
	char err[512];

	if ((f->catalog = catalog_open(f->db, store, NULL, err,
	    sizeof(err))) == NULL)
		fail_msg("catalog_open: %s", err);
}

static json_t *
manifest(const char *id, const char *node, int64_t taken_at_us,
    const char *source, const char *reason)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:[{s:s, s:s, s:{}}]}", "id", id,
	    "node", node, "taken_at_us", (json_int_t)taken_at_us, "bytes",
	    (json_int_t)100, "triggers", "source", source, "reason", reason,
	    "labels");
}

static void
add(struct fixture *f, const char *id, const char *node,
    const char *incident, int64_t taken_at_us, const char *source,
    const char *reason)
{
	json_t	*m = manifest(id, node, taken_at_us, source, reason);
	char	 path[PATH_MAX], err[512];

	snprintf(path, sizeof(path), "incidents/%s/%s/%s", incident, node, id);
	if (catalog_add(f->catalog, m, path, err, sizeof(err)) == -1)
		fail_msg("catalog_add: %s", err);
	json_decref(m);
}

/* A summary as lib/analyze.c writes them, with what the catalog reads. */
static json_t *
summary(int version, uint64_t slowest_us, const char *uri, int status,
    int is_overflowed, int is_failed)
{
	json_t *s;

	s = json_pack("{s:i, s:i, s:i, s:i, s:[{s:s, s:I, s:i}], "
	    "s:[{s:s, s:i, s:i, s:I}], s:{s:i}, s:{s:b}}",
	    "analyzer_version", version, "events", 1000,
	    "discarded_events", 3, "requests_total", 7,
	    "requests", "uri", uri, "duration_us", (json_int_t)slowest_us,
	    "status", status,
	    "uris", "uri", uri, "count", 7, "errors", status >= 500 ? 1 : 0,
	    "max_us", (json_int_t)slowest_us,
	    "status_counts", status == 503 ? "503" : "200", 1,
	    "history", "overflowed", is_overflowed);
	if (is_failed)
		json_object_set_new(s, "error", json_string("unreadable"));
	return s;
}

static void
set_summary(struct fixture *f, const char *id, json_t *s)
{
	char err[512];

	if (catalog_set_summary(f->catalog, id, s, err, sizeof(err)) == -1)
		fail_msg("catalog_set_summary: %s", err);
	json_decref(s);
}

/* The ids of an array of objects, in order, comma-joined. */
static void
assert_ids(json_t *array, const char *expected)
{
	char	 ids[512] = "";
	json_t	*o;
	size_t	 i;

	assert_non_null(array);
	json_array_foreach(array, i, o)
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
		    i ? "," : "", json_string_value(json_object_get(o, "id")));
	assert_string_equal(ids, expected);
	json_decref(array);
}

static void
test_figures_and_filters(void **state)
{
	struct fixture		*f = *state;
	struct catalog_filter	 filter;
	json_t			*s;

	open_catalog(f, NULL);
	add(f, "s1", "web1", "i1", T0, "apache", "slow");
	add(f, "s2", "web2", "i2", T0 + MINUTE, "apache", "slow");
	add(f, "s3", "web3", "i3", T0 + 2 * MINUTE, "app", "crash");
	set_summary(f, "s1", summary(ANALYZER_VERSION, 300000, "/checkout",
	    503, 1, 0));
	set_summary(f, "s2", summary(ANALYZER_VERSION, 5000, "/home", 200, 0,
	    0));

	s = catalog_snapshot(f->catalog, "s1");
	assert_string_equal(json_string_value(json_object_get(s, "analysis")),
	    "done");
	assert_int_equal(json_integer_value(json_object_get(s, "slowest_us")),
	    300000);
	assert_int_equal(json_integer_value(json_object_get(s, "errors")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "events")),
	    1000);
	assert_true(json_is_true(json_object_get(s, "history_lost")));
	json_decref(s);
	s = catalog_snapshot(f->catalog, "s3");
	assert_string_equal(json_string_value(json_object_get(s, "analysis")),
	    "pending");
	assert_true(json_is_null(json_object_get(s, "slowest_us")));
	json_decref(s);
	assert_null(catalog_snapshot(f->catalog, "nope"));

	memset(&filter, 0, sizeof(filter));
	filter.min_slowest_us = 100000;
	assert_ids(catalog_snapshots(f->catalog, &filter), "s1");
	filter.min_slowest_us = 5000;
	assert_ids(catalog_snapshots(f->catalog, &filter), "s2,s1");
	memset(&filter, 0, sizeof(filter));
	filter.uri = "/home";
	assert_ids(catalog_snapshots(f->catalog, &filter), "s2");
	filter.uri = "/nowhere";
	assert_ids(catalog_snapshots(f->catalog, &filter), "");
	memset(&filter, 0, sizeof(filter));
	filter.status = 503;
	assert_ids(catalog_snapshots(f->catalog, &filter), "s1");

	/* Still to analyze: s3; then an older analyzer's summary on s2. */
	assert_ids(catalog_unanalyzed(f->catalog, ANALYZER_VERSION, 10),
	    "s3");
	set_summary(f, "s2", summary(ANALYZER_VERSION - 1, 5000, "/home", 200,
	    0, 0));
	assert_ids(catalog_unanalyzed(f->catalog, ANALYZER_VERSION, 10),
	    "s3,s2");
	assert_ids(catalog_unanalyzed(f->catalog, ANALYZER_VERSION, 1), "s3");
	/* A new summary replaces the old rows, not adds to them. */
	set_summary(f, "s1", summary(ANALYZER_VERSION, 10, "/other", 200, 0,
	    0));
	memset(&filter, 0, sizeof(filter));
	filter.uri = "/checkout";
	assert_ids(catalog_snapshots(f->catalog, &filter), "");
	filter.uri = NULL;
	filter.status = 503;
	assert_ids(catalog_snapshots(f->catalog, &filter), "");
}

static void
test_incidents(void **state)
{
	struct fixture			*f = *state;
	struct catalog_incident_filter	 filter;
	json_t				*list, *i;

	open_catalog(f, NULL);
	add(f, "a1", "web1", "inc-a", T0, "cpu", "CPU 95% for 10 s");
	add(f, "a2", "web2", "inc-a", T0 + 1000, "cpu", "CPU 95% for 10 s");
	add(f, "a3", "web3", "inc-a", T0 + 2000, "cpu", "CPU 95% for 10 s");
	add(f, "b1", "web1", "inc-b", T0 + MINUTE, "apache", "status 503");
	set_summary(f, "a1", summary(ANALYZER_VERSION, 900000, "/x", 503, 0,
	    0));
	set_summary(f, "a2", summary(ANALYZER_VERSION, 20, "/y", 200, 1, 0));
	set_summary(f, "a3", summary(ANALYZER_VERSION, 0, "/z", 200, 0, 1));

	list = catalog_incidents(f->catalog, NULL);
	i = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(i, "id")),
	    "inc-a");
	assert_int_equal(json_integer_value(json_object_get(i, "slowest_us")),
	    900000);
	assert_true(json_is_true(json_object_get(i, "history_lost")));
	assert_int_equal(json_integer_value(json_object_get(i, "analyzed")), 3);
	assert_int_equal(json_integer_value(json_object_get(i, "failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(i, "pending")), 0);
	assert_int_equal(json_integer_value(json_object_get(i, "requests")),
	    21);
	assert_int_equal(json_integer_value(json_object_get(i, "errors")), 1);
	assert_int_equal(json_integer_value(json_object_get(i,
	    "first_taken_at_us")), T0);
	assert_int_equal(json_integer_value(json_object_get(i,
	    "last_taken_at_us")), T0 + 2000);
	i = json_array_get(list, 0);
	assert_true(json_is_null(json_object_get(i, "slowest_us")));
	assert_int_equal(json_integer_value(json_object_get(i, "pending")), 1);
	json_decref(list);

	memset(&filter, 0, sizeof(filter));
	filter.node = "web3";
	assert_ids(catalog_incidents(f->catalog, &filter), "inc-a");
	filter.node = NULL;
	filter.source = "apache";
	assert_ids(catalog_incidents(f->catalog, &filter), "inc-b");
	filter.source = NULL;
	/* Reason text: a substring, and % is a character, not a wildcard. */
	filter.text = "95%";
	assert_ids(catalog_incidents(f->catalog, &filter), "inc-a");
	filter.text = "9_%";
	assert_ids(catalog_incidents(f->catalog, &filter), "");
	filter.text = "503";
	assert_ids(catalog_incidents(f->catalog, &filter), "inc-b");
	filter.text = NULL;
	filter.since_us = T0 + 5000;
	assert_ids(catalog_incidents(f->catalog, &filter), "inc-b");
	filter.since_us = 0;
	filter.until_us = T0 + 10;
	assert_ids(catalog_incidents(f->catalog, &filter), "inc-a");
	filter.until_us = 0;
	filter.limit = 1;
	assert_ids(catalog_incidents(f->catalog, &filter), "inc-b");
}

/*
 * A summary with n requests, slowest first (duration n - i ms), request
 * triggered_at having triggered and in_flight_at still running.
 */
static json_t *
summary_with_requests(size_t n, size_t triggered_at, size_t in_flight_at)
{
	json_t	*s = summary(ANALYZER_VERSION, 1000 * n, "/r", 200, 0, 0);
	json_t	*requests = json_array();
	char	 id[32];
	size_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "r%zu", i);
		json_array_append_new(requests, json_pack("{s:s, s:I, s:b, s:b}",
		    "request_id", id, "duration_us", (json_int_t)(1000 * (n - i)),
		    "triggered", i == triggered_at, "in_flight",
		    i == in_flight_at));
	}
	json_object_set_new(s, "requests", requests);
	return s;
}

/* The request ids of a brief, comma-joined. */
static void
assert_brief(json_t *briefs, const char *id, const char *expected_ids,
    int expected_omitted)
{
	const char	*text = json_string_value(json_object_get(briefs, id));
	json_t		*brief, *r;
	char		 ids[512] = "";
	size_t		 i;

	assert_non_null(text);
	assert_non_null(brief = json_loads(text, 0, NULL));
	json_array_foreach(json_object_get(brief, "requests"), i, r)
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
		    i ? "," : "", json_string_value(json_object_get(r,
		    "request_id")));
	assert_string_equal(ids, expected_ids);
	assert_int_equal(json_integer_value(json_object_get(brief,
	    "requests_omitted")), expected_omitted);
	/* The rest of the summary is there. */
	assert_int_equal(json_integer_value(json_object_get(brief, "events")),
	    1000);
	json_decref(brief);
}

static void
test_briefs(void **state)
{
	struct fixture	*f = *state;
	json_t		*briefs, *s;
	char		 err[512], expected[512] = "";
	size_t		 i;

	open_catalog(f, NULL);
	add(f, "b1", "web1", "inc", T0, "apache", "slow");
	add(f, "b2", "web2", "inc", T0 + 1, "apache", "slow");
	add(f, "c1", "web1", "other", T0 + 2, "apache", "slow");
	/* 30 requests: the 20 slowest, the triggered and the in flight. */
	set_summary(f, "b1", summary_with_requests(30, 25, 28));
	set_summary(f, "c1", summary_with_requests(3, 99, 99));
	briefs = catalog_incident_briefs(f->catalog, "inc");
	assert_int_equal(json_object_size(briefs), 1);	/* b2: pending */
	for (i = 0; i < ANALYZE_BRIEF_REQUESTS; i++)
		snprintf(expected + strlen(expected), sizeof(expected) -
		    strlen(expected), "r%zu,", i);
	strcat(expected, "r25,r28");
	assert_brief(briefs, "b1", expected, 8);
	json_decref(briefs);
	briefs = catalog_incident_briefs(f->catalog, "other");
	assert_brief(briefs, "c1", "r0,r1,r2", 0);
	json_decref(briefs);

	/* Trimming a brief again counts what both cuts left out. */
	briefs = catalog_incident_briefs(f->catalog, "inc");
	s = json_loads(json_string_value(json_object_get(briefs, "b1")), 0,
	    NULL);
	analyze_trim_requests(s, 2);
	assert_int_equal(json_array_size(json_object_get(s, "requests")), 4);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_omitted")), 26);
	json_decref(s);
	json_decref(briefs);

	/* A new summary replaces the brief; removal takes it away. */
	set_summary(f, "b1", summary_with_requests(2, 99, 99));
	briefs = catalog_incident_briefs(f->catalog, "inc");
	assert_brief(briefs, "b1", "r0,r1", 0);
	json_decref(briefs);
	if (catalog_remove_incident(f->catalog, "inc", err, sizeof(err)) == -1)
		fail_msg("catalog_remove_incident: %s", err);
	briefs = catalog_incident_briefs(f->catalog, "inc");
	assert_int_equal(json_object_size(briefs), 0);
	json_decref(briefs);
	briefs = catalog_incident_briefs(f->catalog, "other");
	assert_int_equal(json_object_size(briefs), 1);
	json_decref(briefs);
}

static void
write_json(const char *dir, const char *name, json_t *j)
{
	char path[PATH_MAX], cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(json_dump_file(j, path, 0), 0);
	json_decref(j);
}

static void
test_rebuild_reads_summaries(void **state)
{
	struct fixture		*f = *state;
	struct catalog_filter	 filter;
	char			 dir[PATH_MAX];
	json_t			*s;

	FIXTURE_SQLITE_ONLY(f);
	snprintf(dir, sizeof(dir), "%s/incidents/i1/web1/r1", f->store);
	write_json(dir, "manifest.json", manifest("r1", "web1", T0, "app",
	    "x"));
	write_json(dir, ANALYZE_SUMMARY, summary(ANALYZER_VERSION, 777,
	    "/rebuilt", 200, 0, 0));
	snprintf(dir, sizeof(dir), "%s/incidents/i2/web1/r2", f->store);
	write_json(dir, "manifest.json", manifest("r2", "web1", T0 + 1, "app",
	    "x"));
	write_json(dir, ANALYZE_SUMMARY, summary(ANALYZER_VERSION - 1, 5,
	    "/old", 200, 0, 0));
	open_catalog(f, f->store);
	s = catalog_snapshot(f->catalog, "r1");
	assert_int_equal(json_integer_value(json_object_get(s, "slowest_us")),
	    777);
	json_decref(s);
	memset(&filter, 0, sizeof(filter));
	filter.uri = "/rebuilt";
	assert_ids(catalog_snapshots(f->catalog, &filter), "r1");
	/* An older analyzer's summary is not taken: the backfill redoes it. */
	assert_ids(catalog_unanalyzed(f->catalog, ANALYZER_VERSION, 10),
	    "r2");
	/* The rebuilt row has its brief. */
	s = catalog_incident_briefs(f->catalog, "i1");
	assert_true(json_is_string(json_object_get(s, "r1")));
	json_decref(s);
}

/* The schema as version 1 made it, one row in it. */
static void
test_migrate_from_version_1(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	json_t		*s;

	FIXTURE_SQLITE_ONLY(f);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "PRAGMA journal_mode = WAL;"
	    "CREATE TABLE snapshots (id TEXT PRIMARY KEY NOT NULL, node TEXT "
	    "NOT NULL, incident TEXT NOT NULL, taken_at_us INTEGER NOT NULL, "
	    "taken_at TEXT NOT NULL, bytes INTEGER NOT NULL, path TEXT NOT "
	    "NULL, labels_json TEXT NOT NULL);"
	    "CREATE TABLE triggers (snapshot_id TEXT NOT NULL, seq INTEGER "
	    "NOT NULL, source TEXT, reason TEXT, PRIMARY KEY (snapshot_id, "
	    "seq)) WITHOUT ROWID;"
	    "INSERT INTO snapshots VALUES ('old', 'web1', 'inc', "
	    "1795000000000000, '2026-11-18T11:06:40.000000Z', 5, "
	    "'incidents/inc/web1/old', '{}');"
	    "PRAGMA user_version = 1; PRAGMA application_id = 1414816609;",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	open_catalog(f, NULL);
	s = catalog_snapshot(f->catalog, "old");
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "analysis")),
	    "pending");
	json_decref(s);
	set_summary(f, "old", summary(ANALYZER_VERSION, 42, "/m", 200, 0, 0));
	assert_ids(catalog_unanalyzed(f->catalog, ANALYZER_VERSION, 10), "");
	/* A second connection finds it migrated already. */
	catalog_close(f->catalog);
	open_catalog(f, NULL);
	s = catalog_snapshot(f->catalog, "old");
	assert_int_equal(json_integer_value(json_object_get(s, "slowest_us")),
	    42);
	json_decref(s);
}

/* A version 2 catalog: the schema before the briefs. */
static void
test_migrate_from_version_2(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	json_t		*briefs;

	FIXTURE_SQLITE_ONLY(f);
	open_catalog(f, NULL);
	add(f, "v2", "web1", "inc", T0, "app", "x");
	catalog_close(f->catalog);
	f->catalog = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	/* What versions 3 and 4 added goes, as a version 2 never had it. */
	assert_int_equal(sqlite3_exec(db, "DROP TABLE snapshot_briefs;"
	    "DROP TABLE incident_requests;"
	    "ALTER TABLE snapshots DROP COLUMN relay;"
	    "ALTER TABLE snapshots DROP COLUMN stored_bytes;"
	    "ALTER TABLE snapshots DROP COLUMN received_at_us;"
	    "PRAGMA user_version = 2;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	open_catalog(f, NULL);
	briefs = catalog_incident_briefs(f->catalog, "inc");
	assert_int_equal(json_object_size(briefs), 0);
	json_decref(briefs);
	set_summary(f, "v2", summary(ANALYZER_VERSION, 42, "/m", 200, 0, 0));
	briefs = catalog_incident_briefs(f->catalog, "inc");
	assert_true(json_is_string(json_object_get(briefs, "v2")));
	json_decref(briefs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_figures_and_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_incidents, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_reads_summaries,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_briefs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_version_1,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_version_2,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
