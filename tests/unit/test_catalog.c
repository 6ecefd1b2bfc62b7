/*
 * Unit tests of the relay's catalog, through catalog.h: its three files
 * (relay/catalog.c: opening and the schema; catalog_write.c: indexing,
 * rebuilding, removing; catalog_query.c: the listings). Each test owns a
 * temporary directory holding the database and, when it needs one, a
 * store tree of manifests written the way the store writes them.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <sqlite3.h>

#include "catalog.h"
#include "store.h"

#include "catalog_fixture.h"

/* One "minute" below is 60 s of microseconds. */
#define MINUTE		60000000LL

static void
open_catalog(struct fixture *f)
{
	char	err[512];
	int	was_rebuilt = -1;

	f->catalog = catalog_open(f->db, NULL, &was_rebuilt, err,
	    sizeof(err));
	if (f->catalog == NULL)
		fail_msg("catalog_open: %s", err);
	assert_int_equal(was_rebuilt, 0);
}

static void
format_time(int64_t us, char *buf, size_t len)
{
	time_t		seconds = (time_t)(us / 1000000);
	struct tm	tm;
	char		date[32];

	gmtime_r(&seconds, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06dZ", date, (int)(us % 1000000));
}

/* A trigger as the recorder records it; labels is JSON text or NULL. */
static json_t *
trigger(const char *source, const char *reason, const char *labels)
{
	json_t	*t;

	t = json_pack("{s:s, s:s, s:s, s:I, s:{s:i, s:i, s:i}}",
	    "source", source, "reason", reason, "scope", "node",
	    "received_at_us", (json_int_t)T0,
	    "sender", "pid", 1, "uid", 0, "gid", 0);
	assert_non_null(t);
	if (labels != NULL)
		assert_int_equal(json_object_set_new(t, "labels",
		    json_loads(labels, 0, NULL)), 0);
	return t;
}

/* A stored manifest; incident NULL leaves it out. Steals triggers. */
static json_t *
manifest(const char *id, const char *node, const char *incident,
    int64_t taken_at_us, int64_t bytes, json_t *triggers)
{
	json_t	*m;
	char	 taken_at[64];

	format_time(taken_at_us, taken_at, sizeof(taken_at));
	m = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:[{s:s, s:I, "
	    "s:s}], s:{s:s}}",
	    "id", id, "node", node, "taken_at", taken_at,
	    "taken_at_us", (json_int_t)taken_at_us, "bytes", (json_int_t)bytes,
	    "received_at_us", (json_int_t)(taken_at_us + 1000),
	    "triggers", triggers != NULL ? triggers : json_array(),
	    "files", "path", "trace/metadata", "bytes", (json_int_t)bytes,
	    "sha256", "00", "session", "name", "tracetrap");
	assert_non_null(m);
	if (incident != NULL)
		assert_int_equal(json_object_set_new(m, "incident",
		    json_string(incident)), 0);
	return m;
}

static void
rel_path(char *buf, size_t len, const char *incident, const char *node,
    const char *id)
{
	snprintf(buf, len, "incidents/%s/%s/%s", incident, node, id);
}

static void
add(struct fixture *f, const char *id, const char *node,
    const char *incident, int64_t taken_at_us, int64_t bytes,
    json_t *triggers)
{
	json_t	*m;
	char	 path[PATH_MAX], err[512];

	m = manifest(id, node, incident, taken_at_us, bytes, triggers);
	rel_path(path, sizeof(path), incident, node, id);
	if (catalog_add(f->catalog, m, path, err, sizeof(err)) != 0)
		fail_msg("catalog_add %s: %s", id, err);
	json_decref(m);
}

static void
mkdirs(const char *path)
{
	char	 buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			fail_msg("mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		fail_msg("mkdir %s: %s", buf, strerror(errno));
}

static void
write_text(const char *path, const char *text)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
read_text(const char *path, char *buf, size_t len)
{
	FILE	*fp;
	size_t	 n;

	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* Writes <store>/<dirs>/manifest.json from m (stolen). */
static void
store_manifest_at(struct fixture *f, const char *dirs, json_t *m)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", f->store, dirs);
	mkdirs(path);
	snprintf(path, sizeof(path), "%s/%s/manifest.json", f->store, dirs);
	assert_int_equal(json_dump_file(m, path, JSON_INDENT(2)), 0);
	json_decref(m);
}

static void
store_manifest(struct fixture *f, const char *id, const char *node,
    const char *incident, int64_t taken_at_us, int64_t bytes,
    json_t *triggers)
{
	char	dirs[PATH_MAX];

	rel_path(dirs, sizeof(dirs), incident, node, id);
	store_manifest_at(f, dirs, manifest(id, node, incident, taken_at_us,
	    bytes, triggers));
}

/* Three incidents, five snapshots. */
static void
store_tree(struct fixture *f)
{
	store_manifest(f, "web1-1", "web1", "inc-1", T0, 100,
	    json_pack("[o]", trigger("apache", "slow request", NULL)));
	store_manifest(f, "web2-1", "web2", "inc-1", T0 + MINUTE, 200,
	    json_pack("[o]", trigger("apache", "5xx", NULL)));
	store_manifest(f, "web1-2", "web1", "inc-2", T0 + 2 * MINUTE, 300,
	    NULL);
	store_manifest(f, "db1-1", "db1", "inc-3", T0 + 3 * MINUTE, 400,
	    json_pack("[o]", trigger("manual", "operator", NULL)));
	store_manifest(f, "db1-2", "db1", "inc-3", T0 + 4 * MINUTE, 500,
	    NULL);
}

static size_t
count_snapshots(struct catalog *c, const struct catalog_filter *filter)
{
	json_t	*array;
	size_t	 n;

	assert_non_null(array = catalog_snapshots(c, filter));
	n = json_array_size(array);
	json_decref(array);
	return n;
}

/* Asserts the ids of a listing, in order; ids is NULL-terminated. */
static void
assert_ids(json_t *array, const char *const *ids)
{
	size_t	i;

	assert_non_null(array);
	for (i = 0; ids[i] != NULL; i++) {
		if (i >= json_array_size(array))
			fail_msg("listing has %zu entries, expected %s next",
			    json_array_size(array), ids[i]);
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(array, i), "id")), ids[i]);
	}
	assert_int_equal(json_array_size(array), i);
	json_decref(array);
}

static void
assert_json(json_t *value, const char *expected)
{
	char	*text;

	assert_non_null(value);
	assert_non_null(text = json_dumps(value, JSON_COMPACT));
	assert_string_equal(text, expected);
	free(text);
}

static void
assert_file_exists(const char *path, int expected)
{
	struct stat	st;

	assert_int_equal(stat(path, &st) == 0, expected);
}

/* The catalog of the filter tests: two nodes and a database host. */
static void
add_four(struct fixture *f)
{
	add(f, "s1", "web1", "inc-a", T0, 100, json_pack("[o, o]",
	    trigger("apache", "slow request", "{\"url\":\"/x\",\"status\":"
	    "\"500\"}"),
	    trigger("apache", "slow request", "{\"url\":\"/y\",\"method\":"
	    "\"GET\"}")));
	add(f, "s2", "web2", "inc-a", T0 + 10 * MINUTE, 200,
	    json_pack("[o]", trigger("app", "error burst", NULL)));
	add(f, "s3", "web1", "inc-b", T0 + 20 * MINUTE, 300,
	    json_pack("[o, o, o]", trigger("manual", "operator", NULL),
	    trigger("apache", "5xx", NULL), trigger("manual", "5xx", NULL)));
	add(f, "s4", "db1", "inc-b", T0 + 30 * MINUTE, 400, NULL);
}

static void
test_query_filters(void **state)
{
	struct fixture		*f = *state;
	struct catalog_filter	 filter;
	json_t			*array;

	open_catalog(f);
	add_four(f);

	/* Newest first, with no filter at all. */
	assert_ids(catalog_snapshots(f->catalog, NULL),
	    (const char *[]){ "s4", "s3", "s2", "s1", NULL });
	memset(&filter, 0, sizeof(filter));
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s4", "s3", "s2", "s1", NULL });

	filter.node = "web1";
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s3", "s1", NULL });
	filter.node = "web";
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ NULL });

	memset(&filter, 0, sizeof(filter));
	filter.source = "apache";
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s3", "s1", NULL });
	filter.source = "manual";
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s3", NULL });
	filter.source = "nope";
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ NULL });

	/* since is inclusive, until exclusive. */
	memset(&filter, 0, sizeof(filter));
	filter.since_us = T0 + 10 * MINUTE;
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s4", "s3", "s2", NULL });
	filter.since_us = T0 + 10 * MINUTE + 1;
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s4", "s3", NULL });
	filter.since_us = 0;
	filter.until_us = T0 + 20 * MINUTE;
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s2", "s1", NULL });
	filter.until_us = T0 + 20 * MINUTE + 1;
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s3", "s2", "s1", NULL });
	filter.since_us = T0 + 10 * MINUTE;
	filter.until_us = T0 + 30 * MINUTE;
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s3", "s2", NULL });

	/* Filters combine. */
	filter.node = "web1";
	filter.source = "apache";
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s3", NULL });
	filter.node = "web2";
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ NULL });

	memset(&filter, 0, sizeof(filter));
	filter.limit = 2;
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s4", "s3", NULL });
	filter.limit = 1;
	filter.node = "web1";
	assert_ids(catalog_snapshots(f->catalog, &filter),
	    (const char *[]){ "s3", NULL });

	/*
	 * The whole object, key order included: labels merged over the
	 * triggers (the first value wins), sources and reasons distinct in
	 * first-seen order, taken_at as the manifest wrote it.
	 */
	memset(&filter, 0, sizeof(filter));
	filter.until_us = T0 + 1;
	array = catalog_snapshots(f->catalog, &filter);
	assert_int_equal(json_array_size(array), 1);
	assert_json(json_array_get(array, 0), "{\"id\":\"s1\",\"node\":"
	    "\"web1\",\"incident\":\"inc-a\",\"taken_at\":"
	    "\"2026-11-18T11:06:40.000000Z\",\"taken_at_us\":1795000000000000,"
	    "\"bytes\":100,\"sources\":[\"apache\"],\"reasons\":"
	    "[\"slow request\"],\"labels\":{\"url\":\"/x\",\"status\":\"500\","
	    "\"method\":\"GET\"},\"path\":\"incidents/inc-a/web1/s1\","
	    "\"analysis\":\"pending\",\"events\":null,\"requests\":null,"
	    "\"slowest_us\":null,\"errors\":null,\"history_lost\":false}");
	json_decref(array);

	filter.until_us = 0;
	filter.node = "web1";
	filter.limit = 1;
	array = catalog_snapshots(f->catalog, &filter);
	assert_json(json_object_get(json_array_get(array, 0), "sources"),
	    "[\"manual\",\"apache\"]");
	assert_json(json_object_get(json_array_get(array, 0), "reasons"),
	    "[\"operator\",\"5xx\"]");
	assert_json(json_object_get(json_array_get(array, 0), "labels"), "{}");
	json_decref(array);

	/* No triggers at all: empty lists, not missing keys. */
	filter.node = "db1";
	array = catalog_snapshots(f->catalog, &filter);
	assert_json(json_object_get(json_array_get(array, 0), "sources"),
	    "[]");
	assert_json(json_object_get(json_array_get(array, 0), "reasons"),
	    "[]");
	json_decref(array);
}

static void
test_incidents(void **state)
{
	struct fixture	*f = *state;
	json_t		*array, *incident, *all, *snapshot, *listed;
	size_t		 i, j;

	open_catalog(f);
	/* inc-old ends before inc-new, though it began later. */
	add(f, "o1", "web1", "inc-old", T0 + MINUTE, 50,
	    json_pack("[o]", trigger("app", "crash", NULL)));
	add(f, "n2", "web2", "inc-new", T0 + 3 * MINUTE, 20,
	    json_pack("[o]", trigger("apache", "5xx", "{\"status\":\"503\"}")));
	add(f, "n1", "web1", "inc-new", T0, 10,
	    json_pack("[o, o]", trigger("apache", "slow request", NULL),
	    trigger("app", "slow request", NULL)));
	add(f, "n3", "web3", "inc-new", T0 + 5 * MINUTE, 30,
	    json_pack("[o]", trigger("manual", "operator", NULL)));
	add(f, "n4", "web1", "inc-new", T0 + 4 * MINUTE, 40, NULL);

	array = catalog_incidents(f->catalog, NULL);
	assert_non_null(array);
	assert_int_equal(json_array_size(array), 2);
	assert_json(json_array_get(array, 0), "{\"id\":\"inc-new\","
	    "\"first_taken_at\":\"2026-11-18T11:06:40.000000Z\","
	    "\"last_taken_at\":\"2026-11-18T11:11:40.000000Z\","
	    "\"nodes\":[\"web1\",\"web2\",\"web3\"],\"snapshots\":4,"
	    "\"bytes\":100,\"sources\":[\"apache\",\"app\",\"manual\"],"
	    "\"reasons\":[\"slow request\",\"5xx\",\"operator\"]"
	    ",\"first_taken_at_us\":1795000000000000,\"last_taken_at_us\":1795000300000000,"
	    "\"slowest_us\":null,\"history_lost\":false,\"analyzed\":0,"
	    "\"failed\":0,\"pending\":4,\"requests\":0,\"errors\":0}");
	assert_json(json_array_get(array, 1), "{\"id\":\"inc-old\","
	    "\"first_taken_at\":\"2026-11-18T11:07:40.000000Z\","
	    "\"last_taken_at\":\"2026-11-18T11:07:40.000000Z\","
	    "\"nodes\":[\"web1\"],\"snapshots\":1,\"bytes\":50,"
	    "\"sources\":[\"app\"],\"reasons\":[\"crash\"]"
	    ",\"first_taken_at_us\":1795000060000000,\"last_taken_at_us\":1795000060000000,"
	    "\"slowest_us\":null,\"history_lost\":false,\"analyzed\":0,"
	    "\"failed\":0,\"pending\":1,\"requests\":0,\"errors\":0}");
	json_decref(array);

	assert_ids(catalog_incidents(f->catalog, &(struct catalog_incident_filter){ .limit = 1 }),
	    (const char *[]){ "inc-new", NULL });

	/* One incident: the same summary, its snapshots listed in full. */
	incident = catalog_incident(f->catalog, "inc-new");
	assert_non_null(incident);
	assert_string_equal(json_string_value(json_object_get(incident,
	    "first_taken_at")), "2026-11-18T11:06:40.000000Z");
	assert_json(json_object_get(incident, "nodes"),
	    "[\"web1\",\"web2\",\"web3\"]");
	assert_int_equal(json_integer_value(json_object_get(incident,
	    "bytes")), 100);
	assert_json(json_object_get(incident, "sources"),
	    "[\"apache\",\"app\",\"manual\"]");
	assert_ids(json_incref(json_object_get(incident, "snapshots")),
	    (const char *[]){ "n3", "n4", "n2", "n1", NULL });
	/* Each is exactly what catalog_snapshots says of it. */
	all = catalog_snapshots(f->catalog, NULL);
	json_array_foreach(json_object_get(incident, "snapshots"), i,
	    snapshot) {
		listed = NULL;
		for (j = 0; j < json_array_size(all) && listed == NULL; j++) {
			if (json_equal(json_object_get(json_array_get(all, j),
			    "id"), json_object_get(snapshot, "id")))
				listed = json_array_get(all, j);
		}
		assert_non_null(listed);
		assert_true(json_equal(snapshot, listed));
	}
	json_decref(all);
	{
		const char	*key;
		const char	*expected[] = { "id", "first_taken_at",
				    "last_taken_at", "nodes", "snapshots",
				    "bytes", "sources", "reasons",
				    "first_taken_at_us", "last_taken_at_us",
				    "slowest_us", "history_lost", "analyzed",
				    "failed", "pending", "requests", "errors" };
		json_t		*value;

		i = 0;
		json_object_foreach(incident, key, value) {
			assert_true(i < 17);
			assert_string_equal(key, expected[i]);
			i++;
		}
		assert_int_equal(i, 17);
	}
	json_decref(incident);

	assert_null(catalog_incident(f->catalog, "inc-none"));
	assert_null(catalog_incident(f->catalog, ""));
}

/*
 * The incident is the store's directory when the path has the store's
 * shape, else the manifest's, else the snapshot is its own incident.
 */
static void
test_incident_fallback(void **state)
{
	struct fixture	*f = *state;
	json_t		*m, *incident;
	char		 err[512];

	open_catalog(f);
	m = manifest("solo-1", "web1", NULL, T0, 1, NULL);
	assert_int_equal(catalog_add(f->catalog, m,
	    "incidents/solo-1/web1/solo-1", err, sizeof(err)), 0);
	json_decref(m);
	m = manifest("solo-2", "web1", NULL, T0, 1, NULL);
	assert_int_equal(json_object_set_new(m, "incident", json_null()), 0);
	assert_int_equal(catalog_add(f->catalog, m, "elsewhere/solo-2", err,
	    sizeof(err)), 0);
	json_decref(m);
	m = manifest("moved-1", "web1", "../bad", T0, 1, NULL);
	assert_int_equal(catalog_add(f->catalog, m,
	    "incidents/moved-1/web1/moved-1", err, sizeof(err)), 0);
	json_decref(m);
	m = manifest("named-1", "web1", "inc-9", T0, 1, NULL);
	assert_int_equal(catalog_add(f->catalog, m, "elsewhere/named-1", err,
	    sizeof(err)), 0);
	json_decref(m);

	assert_non_null(incident = catalog_incident(f->catalog, "solo-1"));
	json_decref(incident);
	assert_non_null(incident = catalog_incident(f->catalog, "solo-2"));
	json_decref(incident);
	assert_non_null(incident = catalog_incident(f->catalog, "moved-1"));
	json_decref(incident);
	assert_null(catalog_incident(f->catalog, "../bad"));
	assert_non_null(incident = catalog_incident(f->catalog, "inc-9"));
	json_decref(incident);
}

static void
test_add_invalid(void **state)
{
	struct fixture	*f = *state;
	json_t		*m, *array;
	char		 err[512];

	open_catalog(f);
	m = json_string("not an object");
	assert_int_equal(catalog_add(f->catalog, m, "incidents/a/b/c", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not a JSON object"));
	json_decref(m);

	m = manifest("x", "web1", "inc", T0, 1, NULL);
	assert_int_equal(catalog_add(f->catalog, m, NULL, err, sizeof(err)),
	    -1);
	assert_int_equal(json_object_del(m, "id"), 0);
	assert_int_equal(catalog_add(f->catalog, m, "incidents/inc/web1/x",
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"id\""));
	json_decref(m);

	m = manifest("x", "web1", "inc", T0, 1, NULL);
	assert_int_equal(json_object_set_new(m, "taken_at_us",
	    json_integer(-1)), 0);
	assert_int_equal(catalog_add(f->catalog, m, "incidents/inc/web1/x",
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "taken_at_us"));
	assert_int_equal(json_object_set_new(m, "taken_at_us",
	    json_string("soon")), 0);
	assert_int_equal(catalog_add(f->catalog, m, "incidents/inc/web1/x",
	    err, sizeof(err)), -1);
	json_decref(m);
	assert_int_equal(count_snapshots(f->catalog, NULL), 0);

	/*
	 * Defensive reading: bytes from files[] when the total is missing,
	 * taken_at from taken_at_us, odd triggers skipped, the node from the
	 * path.
	 */
	m = json_pack("{s:s, s:I, s:[{s:I}, {s:I}, {s:s}], "
	    "s:[i, {s:i}, {s:s, s:[]}]}",
	    "id", "y", "taken_at_us", (json_int_t)(T0 + 1),
	    "files", "bytes", (json_int_t)10, "bytes", (json_int_t)5,
	    "bytes", "many",
	    "triggers", 7, "source", 3, "source", "app", "labels");
	assert_non_null(m);
	assert_int_equal(catalog_add(f->catalog, m, "incidents/inc/web7/y",
	    err, sizeof(err)), 0);
	json_decref(m);
	array = catalog_snapshots(f->catalog, NULL);
	assert_json(json_array_get(array, 0), "{\"id\":\"y\",\"node\":"
	    "\"web7\",\"incident\":\"inc\",\"taken_at\":"
	    "\"2026-11-18T11:06:40.000001Z\",\"taken_at_us\":1795000000000001,"
	    "\"bytes\":15,\"sources\":[\"app\"],\"reasons\":[],\"labels\":{},"
	    "\"path\":\"incidents/inc/web7/y\",\"analysis\":\"pending\","
	    "\"events\":null,\"requests\":null,\"slowest_us\":null,"
	    "\"errors\":null,\"history_lost\":false}");
	json_decref(array);
}

static void
test_has_snapshot_and_path(void **state)
{
	struct fixture	*f = *state;
	char		 path[PATH_MAX], small[8];

	open_catalog(f);
	add_four(f);
	assert_int_equal(catalog_has_snapshot(f->catalog, "s2"), 1);
	assert_int_equal(catalog_has_snapshot(f->catalog, "s9"), 0);
	assert_int_equal(catalog_has_snapshot(f->catalog, "S2"), 0);
	assert_int_equal(catalog_has_snapshot(f->catalog, NULL), -1);

	assert_int_equal(catalog_snapshot_path(f->catalog, "s3", path,
	    sizeof(path)), 0);
	assert_string_equal(path, "incidents/inc-b/web1/s3");
	assert_int_equal(catalog_snapshot_path(f->catalog, "s9", path,
	    sizeof(path)), -1);
	/* Too small for the path: refused rather than cut. */
	assert_int_equal(catalog_snapshot_path(f->catalog, "s3", small,
	    sizeof(small)), -1);
}

static void
test_readd_replaces(void **state)
{
	struct fixture		*f = *state;
	struct catalog_filter	 filter;
	json_t			*array;

	open_catalog(f);
	add(f, "s1", "web1", "inc-a", T0, 100,
	    json_pack("[o]", trigger("apache", "slow request",
	    "{\"url\":\"/x\"}")));
	add(f, "s2", "web2", "inc-a", T0 + MINUTE, 50, NULL);
	add(f, "s1", "web1", "inc-a", T0 + 2 * MINUTE, 70,
	    json_pack("[o]", trigger("app", "crash", "{\"pid\":\"9\"}")));

	assert_int_equal(count_snapshots(f->catalog, NULL), 2);
	assert_int_equal(catalog_total_bytes(f->catalog), 120);
	memset(&filter, 0, sizeof(filter));
	filter.source = "apache";
	assert_int_equal(count_snapshots(f->catalog, &filter), 0);
	filter.source = "app";
	array = catalog_snapshots(f->catalog, &filter);
	assert_int_equal(json_array_size(array), 1);
	assert_json(json_object_get(json_array_get(array, 0), "reasons"),
	    "[\"crash\"]");
	assert_json(json_object_get(json_array_get(array, 0), "labels"),
	    "{\"pid\":\"9\"}");
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(array, 0), "taken_at_us")), T0 + 2 * MINUTE);
	json_decref(array);

	/* Re-adding under another incident moves it there. */
	add(f, "s1", "web1", "inc-b", T0 + 2 * MINUTE, 70, NULL);
	assert_ids(catalog_incidents(f->catalog, NULL),
	    (const char *[]){ "inc-b", "inc-a", NULL });
	assert_int_equal(count_snapshots(f->catalog, NULL), 2);
}

static void
test_retention(void **state)
{
	struct fixture	*f = *state;
	char		 id[64], small[4], err[512];
	int64_t		 last;
	uint64_t	 bytes;

	open_catalog(f);
	assert_int_equal(catalog_total_bytes(f->catalog), 0);
	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    &last, &bytes), 0);

	/* inc-x began first but its newest snapshot is the newest of all. */
	add(f, "x1", "web1", "inc-x", T0, 1000, NULL);
	add(f, "x2", "web2", "inc-x", T0 + 100 * MINUTE, 2000, NULL);
	add(f, "y1", "web1", "inc-y", T0 + 50 * MINUTE, 300, NULL);
	add(f, "z1", "web3", "inc-z", T0 + 60 * MINUTE, 40, NULL);
	assert_int_equal(catalog_total_bytes(f->catalog), 3340);

	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    &last, &bytes), 1);
	assert_string_equal(id, "inc-y");
	assert_int_equal(last, T0 + 50 * MINUTE);
	assert_int_equal(bytes, 300);
	assert_int_equal(catalog_oldest_incident(f->catalog, small,
	    sizeof(small), NULL, NULL), -1);

	assert_int_equal(catalog_remove_incident(f->catalog, "inc-y", err,
	    sizeof(err)), 0);
	assert_int_equal(catalog_has_snapshot(f->catalog, "y1"), 0);
	assert_int_equal(catalog_total_bytes(f->catalog), 3040);
	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    NULL, NULL), 1);
	assert_string_equal(id, "inc-z");

	assert_int_equal(catalog_remove_incident(f->catalog, "inc-z", err,
	    sizeof(err)), 0);
	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    &last, &bytes), 1);
	assert_string_equal(id, "inc-x");
	assert_int_equal(last, T0 + 100 * MINUTE);
	assert_int_equal(bytes, 3000);

	/* Removing an unknown incident is not an error. */
	assert_int_equal(catalog_remove_incident(f->catalog, "inc-none", err,
	    sizeof(err)), 0);
	assert_int_equal(catalog_remove_incident(f->catalog, "inc-x", err,
	    sizeof(err)), 0);
	assert_int_equal(catalog_total_bytes(f->catalog), 0);
	assert_int_equal(catalog_oldest_incident(f->catalog, id, sizeof(id),
	    NULL, NULL), 0);
	assert_int_equal(count_snapshots(f->catalog, NULL), 0);
	assert_ids(catalog_incidents(f->catalog, NULL), (const char *[]){ NULL });
}

/* What store_disk_bytes() says the stored snapshots ids take. */
static uint64_t
disk_bytes(struct fixture *f, const char **ids)
{
	char		 rel[PATH_MAX], path[PATH_MAX * 2];
	uint64_t	 bytes, total = 0;

	for (; *ids != NULL; ids++) {
		assert_int_equal(catalog_snapshot_path(f->catalog, *ids, rel,
		    sizeof(rel)), 0);
		snprintf(path, sizeof(path), "%s/%s", f->store, rel);
		assert_int_equal(store_disk_bytes(path, &bytes), 0);
		assert_true(bytes > 0);
		total += bytes;
	}
	return total;
}

static void
test_rebuild(void **state)
{
	struct fixture	*f = *state;
	json_t		*m, *array;
	char		 path[PATH_MAX], err[512];

	FIXTURE_SQLITE_ONLY(f);
	store_tree(f);
	/* Not at the manifest depth, or hidden: never looked at. */
	store_manifest_at(f, "incidents/.trash/web1/h-1",
	    manifest("h-1", "web1", ".trash", T0, 1, NULL));
	store_manifest_at(f, "incidents/inc-1/web1/.h-2",
	    manifest("h-2", "web1", "inc-1", T0, 1, NULL));
	store_manifest_at(f, "incidents/inc-1/web1/web1-1/trace",
	    manifest("deep", "web1", "inc-1", T0, 1, NULL));
	store_manifest_at(f, "incidents/inc-1/web1",
	    manifest("shallow", "web1", "inc-1", T0, 1, NULL));
	store_manifest_at(f, ".staging/web1/s-1",
	    manifest("s-1", "web1", "inc-1", T0, 1, NULL));
	snprintf(path, sizeof(path), "%s/incidents/README", f->store);
	write_text(path, "not an incident\n");
	snprintf(path, sizeof(path), "%s/incidents/inc-2/web1/notes.txt",
	    f->store);
	write_text(path, "not a snapshot\n");
	/* At the manifest depth but unusable: skipped and counted. */
	snprintf(path, sizeof(path), "%s/incidents/inc-2/web3/bad-1",
	    f->store);
	mkdirs(path);
	snprintf(path, sizeof(path),
	    "%s/incidents/inc-2/web3/bad-1/manifest.json", f->store);
	write_text(path, "{not json");
	m = manifest("bad-2", "web3", "inc-2", T0, 1, NULL);
	json_object_del(m, "id");
	store_manifest_at(f, "incidents/inc-2/web3/bad-2", m);
	snprintf(path, sizeof(path), "%s/incidents/inc-2/web3/bad-3/trace",
	    f->store);
	mkdirs(path);

	open_catalog(f);
	add(f, "stale", "web9", "inc-9", T0, 1, NULL);
	assert_int_equal(catalog_rebuild(f->catalog, f->store, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(err, "indexed 5"));
	assert_non_null(strstr(err, "skipped 3"));

	assert_ids(catalog_snapshots(f->catalog, NULL), (const char *[]){
	    "db1-2", "db1-1", "web1-2", "web2-1", "web1-1", NULL });
	assert_ids(catalog_incidents(f->catalog, NULL),
	    (const char *[]){ "inc-3", "inc-2", "inc-1", NULL });
	assert_int_equal(catalog_has_snapshot(f->catalog, "stale"), 0);
	assert_int_equal(catalog_snapshot_path(f->catalog, "web2-1", path,
	    sizeof(path)), 0);
	assert_string_equal(path, "incidents/inc-1/web2/web2-1");
	/* A rebuilt row counts what its snapshot takes on disk. */
	assert_int_equal(catalog_total_bytes(f->catalog), disk_bytes(f,
	    (const char *[]){ "db1-2", "db1-1", "web1-2", "web2-1", "web1-1",
	    NULL }));
	array = catalog_incident(f->catalog, "inc-1");
	assert_json(json_object_get(array, "nodes"), "[\"web1\",\"web2\"]");
	assert_json(json_object_get(array, "reasons"),
	    "[\"slow request\",\"5xx\"]");
	json_decref(array);

	/* A clean store: no warning. */
	snprintf(path, sizeof(path), "%s/incidents/inc-2/web3", f->store);
	nftw(path, fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(catalog_rebuild(f->catalog, f->store, err,
	    sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(count_snapshots(f->catalog, NULL), 5);

	/* A store with no incidents yet is empty, not an error. */
	snprintf(path, sizeof(path), "%s/empty", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(catalog_rebuild(f->catalog, path, err, sizeof(err)),
	    0);
	assert_int_equal(count_snapshots(f->catalog, NULL), 0);
}

static void
test_open_missing_db(void **state)
{
	struct fixture	*f = *state;
	char		 err[512], empty[PATH_MAX];
	int		 was_rebuilt = -1;

	FIXTURE_SQLITE_ONLY(f);
	/* A new catalog over an empty store is created, not rebuilt. */
	snprintf(empty, sizeof(empty), "%s/empty", f->dir);
	assert_int_equal(mkdir(empty, 0755), 0);
	f->catalog = catalog_open(f->db, empty, &was_rebuilt, err,
	    sizeof(err));
	assert_non_null(f->catalog);
	assert_int_equal(was_rebuilt, 0);
	catalog_close(f->catalog);
	f->catalog = NULL;
	assert_int_equal(unlink(f->db), 0);

	store_tree(f);
	f->catalog = catalog_open(f->db, f->store, &was_rebuilt, err,
	    sizeof(err));
	if (f->catalog == NULL)
		fail_msg("catalog_open: %s", err);
	assert_int_equal(was_rebuilt, 1);
	assert_string_equal(err, "");
	assert_int_equal(count_snapshots(f->catalog, NULL), 5);
	catalog_close(f->catalog);
	f->catalog = NULL;

	/* A valid catalog is kept as it is, even if the store changed. */
	store_manifest(f, "late-1", "web1", "inc-4", T0 + 9 * MINUTE, 1,
	    NULL);
	f->catalog = catalog_open(f->db, f->store, &was_rebuilt, err,
	    sizeof(err));
	assert_non_null(f->catalog);
	assert_int_equal(was_rebuilt, 0);
	assert_int_equal(count_snapshots(f->catalog, NULL), 5);
	assert_int_equal(catalog_has_snapshot(f->catalog, "late-1"), 0);

	/* NULL was_rebuilt is allowed. */
	catalog_close(f->catalog);
	f->catalog = catalog_open(f->db, f->store, NULL, err, sizeof(err));
	assert_non_null(f->catalog);
}

static void
test_open_error(void **state)
{
	struct fixture	*f = *state;
	char		 path[PATH_MAX], err[512];
	int		 was_rebuilt = -1;

	FIXTURE_SQLITE_ONLY(f);
	snprintf(path, sizeof(path), "%s/no/such/dir/catalog.db", f->dir);
	assert_null(catalog_open(path, NULL, &was_rebuilt, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_int_equal(was_rebuilt, 0);
	assert_file_exists(path, 0);
}

static void
test_open_garbage(void **state)
{
	struct fixture	*f = *state;
	char		 corrupt[PATH_MAX], text[64], err[512];
	char		 garbage[8192];
	int		 was_rebuilt = -1;

	FIXTURE_SQLITE_ONLY(f);
	store_tree(f);
	memset(garbage, 'g', sizeof(garbage) - 1);
	garbage[sizeof(garbage) - 1] = '\0';
	write_text(f->db, garbage);
	/* An older .corrupt is replaced. */
	snprintf(corrupt, sizeof(corrupt), "%s.corrupt", f->db);
	write_text(corrupt, "older");

	f->catalog = catalog_open(f->db, f->store, &was_rebuilt, err,
	    sizeof(err));
	if (f->catalog == NULL)
		fail_msg("catalog_open: %s", err);
	assert_int_equal(was_rebuilt, 1);
	assert_int_equal(count_snapshots(f->catalog, NULL), 5);
	read_text(corrupt, text, sizeof(text));
	assert_int_equal(strncmp(text, "gggg", 4), 0);
	catalog_close(f->catalog);

	/* A reader connection (no store) moves it aside too, and is empty. */
	write_text(f->db, "garbage");
	f->catalog = catalog_open(f->db, NULL, &was_rebuilt, err,
	    sizeof(err));
	assert_non_null(f->catalog);
	assert_int_equal(was_rebuilt, 1);
	assert_int_equal(count_snapshots(f->catalog, NULL), 0);
	read_text(corrupt, text, sizeof(text));
	assert_string_equal(text, "garbage");
}

/* A real SQLite file whose pages were scribbled over. */
static void
test_open_corrupt_pages(void **state)
{
	struct fixture	*f = *state;
	char		 corrupt[PATH_MAX], err[512], junk[4000];
	FILE		*fp;
	int		 was_rebuilt = -1;

	FIXTURE_SQLITE_ONLY(f);
	store_tree(f);
	f->catalog = catalog_open(f->db, f->store, &was_rebuilt, err,
	    sizeof(err));
	assert_non_null(f->catalog);
	catalog_close(f->catalog);
	f->catalog = NULL;

	/* Keep the 100-byte header, ruin the schema page behind it. */
	memset(junk, 0xa5, sizeof(junk));
	assert_non_null(fp = fopen(f->db, "r+"));
	assert_int_equal(fseek(fp, 100, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	assert_int_equal(fclose(fp), 0);

	f->catalog = catalog_open(f->db, f->store, &was_rebuilt, err,
	    sizeof(err));
	if (f->catalog == NULL)
		fail_msg("catalog_open: %s", err);
	assert_int_equal(was_rebuilt, 1);
	assert_int_equal(count_snapshots(f->catalog, NULL), 5);
	snprintf(corrupt, sizeof(corrupt), "%s.corrupt", f->db);
	assert_file_exists(corrupt, 1);
}

static void
set_user_version(const char *db_path, const char *sql)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void
test_open_wrong_version(void **state)
{
	struct fixture	*f = *state;
	char		 corrupt[PATH_MAX], err[512];
	int		 was_rebuilt = -1;

	FIXTURE_SQLITE_ONLY(f);
	open_catalog(f);
	add(f, "stale", "web9", "inc-9", T0, 1, NULL);
	catalog_close(f->catalog);
	f->catalog = NULL;
	set_user_version(f->db, "PRAGMA user_version = 99");

	store_tree(f);
	f->catalog = catalog_open(f->db, f->store, &was_rebuilt, err,
	    sizeof(err));
	if (f->catalog == NULL)
		fail_msg("catalog_open: %s", err);
	assert_int_equal(was_rebuilt, 1);
	assert_int_equal(count_snapshots(f->catalog, NULL), 5);
	assert_int_equal(catalog_has_snapshot(f->catalog, "stale"), 0);
	snprintf(corrupt, sizeof(corrupt), "%s.corrupt", f->db);
	assert_file_exists(corrupt, 1);
	catalog_close(f->catalog);
	f->catalog = NULL;

	/* Some other program's database is not ours either. */
	assert_int_equal(unlink(f->db), 0);
	set_user_version(f->db, "CREATE TABLE t (x)");
	f->catalog = catalog_open(f->db, f->store, &was_rebuilt, err,
	    sizeof(err));
	assert_non_null(f->catalog);
	assert_int_equal(was_rebuilt, 1);
	assert_int_equal(count_snapshots(f->catalog, NULL), 5);
}

/* The relay's two connections: the disk thread's and the event loop's. */
static void
test_two_connections(void **state)
{
	struct fixture	*f = *state;
	struct catalog	*reader;
	char		 err[512];
	int		 was_rebuilt = -1;

	FIXTURE_SQLITE_ONLY(f);
	store_tree(f);
	f->catalog = catalog_open(f->db, f->store, &was_rebuilt, err,
	    sizeof(err));
	assert_non_null(f->catalog);
	reader = catalog_open(f->db, NULL, &was_rebuilt, err, sizeof(err));
	assert_non_null(reader);
	assert_int_equal(was_rebuilt, 0);
	assert_int_equal(count_snapshots(reader, NULL), 5);
	add(f, "new-1", "web1", "inc-1", T0 + 9 * MINUTE, 1, NULL);
	assert_int_equal(catalog_has_snapshot(reader, "new-1"), 1);
	assert_int_equal(catalog_rebuild(f->catalog, f->store, err,
	    sizeof(err)), 0);
	assert_int_equal(catalog_has_snapshot(reader, "new-1"), 0);
	catalog_close(reader);
}

static void
test_injection_is_data(void **state)
{
	struct fixture		*f = *state;
	struct catalog_filter	 filter;
	json_t			*m, *array, *incident;
	char			 path[PATH_MAX], err[512];
	const char		*node = "x' OR '1'='1";
	const char		*id = "id'); DROP TABLE snapshots; --";
	const char		*inc = "inc\" OR \"\"=\"";

	open_catalog(f);
	add(f, "plain", "web1", "inc-1", T0, 10,
	    json_pack("[o]", trigger("apache", "slow request", NULL)));
	m = manifest(id, node, inc, T0 + MINUTE, 20,
	    json_pack("[o]", trigger("s' OR 1=1 --", "r%s%n", NULL)));
	assert_int_equal(catalog_add(f->catalog, m, "elsewhere/x'--", err,
	    sizeof(err)), 0);
	json_decref(m);

	assert_int_equal(count_snapshots(f->catalog, NULL), 2);
	memset(&filter, 0, sizeof(filter));
	filter.node = node;
	array = catalog_snapshots(f->catalog, &filter);
	assert_int_equal(json_array_size(array), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(array, 0), "id")), id);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(array, 0), "incident")), inc);
	assert_json(json_object_get(json_array_get(array, 0), "reasons"),
	    "[\"r%s%n\"]");
	json_decref(array);
	filter.node = "' OR 1=1 --";
	assert_int_equal(count_snapshots(f->catalog, &filter), 0);
	filter.node = NULL;
	filter.source = "' OR '1'='1";
	assert_int_equal(count_snapshots(f->catalog, &filter), 0);
	filter.source = "s' OR 1=1 --";
	assert_int_equal(count_snapshots(f->catalog, &filter), 1);

	assert_int_equal(catalog_has_snapshot(f->catalog, "' OR '1'='1"), 0);
	assert_int_equal(catalog_has_snapshot(f->catalog, id), 1);
	assert_int_equal(catalog_snapshot_path(f->catalog, id, path,
	    sizeof(path)), 0);
	assert_string_equal(path, "elsewhere/x'--");
	assert_null(catalog_incident(f->catalog, "' OR 1=1 --"));
	assert_non_null(incident = catalog_incident(f->catalog, inc));
	assert_json(json_object_get(incident, "nodes"),
	    "[\"x' OR '1'='1\"]");
	json_decref(incident);

	assert_int_equal(catalog_remove_incident(f->catalog, "' OR 1=1 --",
	    err, sizeof(err)), 0);
	assert_int_equal(count_snapshots(f->catalog, NULL), 2);
	assert_int_equal(catalog_remove_incident(f->catalog, inc, err,
	    sizeof(err)), 0);
	assert_int_equal(count_snapshots(f->catalog, NULL), 1);
	assert_int_equal(catalog_has_snapshot(f->catalog, "plain"), 1);
}

/*
 * A snapshot of 24,000 triggers, with repeats: listed once each, in
 * first-seen order, by a lookup per row (the list's scan per row took
 * 5 s of the event loop for this one snapshot).
 */
static void
test_many_triggers(void **state)
{
	struct fixture	*f = *state;
	json_t		*triggers = json_array(), *list, *s, *reasons;
	char		 reason[32];
	size_t		 i;

	for (i = 0; i < 24000; i++) {
		snprintf(reason, sizeof(reason), "r%zu", i % 12000);
		json_array_append_new(triggers, trigger(i % 2 ? "app" : "cpu",
		    reason, NULL));
	}
	open_catalog(f);
	add(f, "many", "n1", "inc", T0, 10, triggers);
	list = catalog_snapshots(f->catalog, NULL);
	s = json_array_get(list, 0);
	assert_int_equal(json_array_size(json_object_get(s, "sources")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    s, "sources"), 0)), "cpu");
	reasons = json_object_get(s, "reasons");
	assert_int_equal(json_array_size(reasons), 12000);
	for (i = 0; i < 12000; i += 997) {
		snprintf(reason, sizeof(reason), "r%zu", i);
		assert_string_equal(json_string_value(json_array_get(reasons,
		    i)), reason);
	}
	json_decref(list);
	list = catalog_incidents(f->catalog, NULL);
	s = json_array_get(list, 0);
	assert_int_equal(json_array_size(json_object_get(s, "reasons")),
	    12000);
	assert_int_equal(json_array_size(json_object_get(s, "nodes")), 1);
	json_decref(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_query_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_incidents, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_incident_fallback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add_invalid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_has_snapshot_and_path,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_readd_replaces, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rebuild, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_db, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_garbage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_corrupt_pages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_wrong_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_connections, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_triggers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_injection_is_data, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
