/*
 * The catalog's unit tests again, on PostgreSQL: starts a PostgreSQL of
 * its own (conf/tier.sh's postgresql part: initdb and pg_ctl as the
 * postgres user, in a temporary directory, on a loopback port), runs
 * test_catalog, test_catalog_stored and test_catalog_summary with
 * TT_CATALOG_PG set to its conninfo (catalog_fixture.h), and stops it.
 * Then what only a server shows: two connections migrating at once, a
 * schema migrated once, a connection the server broke reset and the
 * call retried, and a transaction cut by it failing instead.
 *
 * Skips, saying why, where PostgreSQL cannot run: not installed, or not
 * root (the server runs as the postgres user).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "catalog.h"
#include "db.h"

static char	tier_dir[PATH_MAX];
static char	conninfo[256];
static char	address[300];
static char	root[PATH_MAX];
static char	passfile[PATH_MAX + 16];

static int
run(const char *fmt, ...)
{
	char	cmd[PATH_MAX * 3];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A base port of its own: tests of other worktrees run at once. */
static int
pg_start(void)
{
	int	base = 20000 + (int)(getpid() % 10000) * 3;

	snprintf(tier_dir, sizeof(tier_dir), "/tmp/test_catalog_pg.XXXXXX");
	if (mkdtemp(tier_dir) == NULL)
		return -1;
	/* The postgres user must reach the directory. */
	chmod(tier_dir, 0755);
	if (run("TIER_PORT=%d %s/conf/tier.sh start %s postgresql "
	    ">%s/tier.log 2>&1", base, root, tier_dir, tier_dir) != 0) {
		run("tail -5 %s/tier.log >&2", tier_dir);
		return -1;
	}
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d "
	    "dbname=tracetrap user=tracetrap", base + 2);
	snprintf(address, sizeof(address), "postgresql:%s", conninfo);
	snprintf(passfile, sizeof(passfile), "%s/pgpass", tier_dir);
	setenv("TT_CATALOG_PG", conninfo, 1);
	setenv("PGPASSFILE", passfile, 1);
	return 0;
}

static void
pg_stop(void)
{
	run("%s/conf/tier.sh stop %s >/dev/null 2>&1", root, tier_dir);
	run("rm -rf %s", tier_dir);
}

static int
pg_query_int(const char *sql)
{
	PGconn		*conn = PQconnectdb(conninfo);
	PGresult	*result = PQexec(conn, sql);
	int		 value = -1;

	if (PQresultStatus(result) == PGRES_TUPLES_OK &&
	    PQntuples(result) == 1)
		value = atoi(PQgetvalue(result, 0, 0));
	PQclear(result);
	PQfinish(conn);
	return value;
}

static void
pg_exec(const char *sql)
{
	PGconn		*conn = PQconnectdb(conninfo);
	PGresult	*result = PQexec(conn, sql);

	if (PQresultStatus(result) != PGRES_COMMAND_OK &&
	    PQresultStatus(result) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(conn));
	PQclear(result);
	PQfinish(conn);
}

/* The tests of the three catalog test programs, on this server. */
static void
test_catalog_programs(void **state)
{
	static const char *const programs[] = {
		"test_catalog", "test_catalog_stored", "test_catalog_summary"
	};
	const char	*build = getenv("TT_BUILD");
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		if (run("%s/tests/%s", build != NULL ? build : "build",
		    programs[i]) != 0)
			fail_msg("%s failed on PostgreSQL", programs[i]);
}

static void *
open_thread(void *arg)
{
	char	err[512];

	(void)arg;
	return catalog_open(address, NULL, NULL, err, sizeof(err));
}

/* The catalog part's version this relay's migrations reach. */
#define CATALOG_PG_TEST_VERSION	2
#define CATALOG_PG_TEST_STRING	"2"

/* Relays starting at once: one migrates, none fails, none twice. */
static void
test_concurrent_migrations(void **state)
{
	pthread_t	 threads[4];
	struct catalog	*c;
	size_t		 i;

	(void)state;
	pg_exec("SET client_min_messages = warning;"
	    "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, open_thread,
		    NULL), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(threads[i], (void **)&c), 0);
		assert_non_null(c);
		catalog_close(c);
	}
	assert_int_equal(pg_query_int("SELECT version FROM tracetrap_schema "
	    "WHERE part = 'catalog'"), CATALOG_PG_TEST_VERSION);
	assert_int_equal(pg_query_int("SELECT count(*) FROM "
	    "tracetrap_schema"), 1);
}

/* Another part's row (the cluster's) is left alone, and ours kept. */
static void
test_migrate_once(void **state)
{
	struct catalog	*c;
	char		 err[512];

	(void)state;
	pg_exec("INSERT INTO tracetrap_schema VALUES ('cluster', 7) "
	    "ON CONFLICT DO NOTHING");
	assert_non_null(c = catalog_open(address, NULL, NULL, err,
	    sizeof(err)));
	/* Nothing to migrate: nothing said. */
	assert_string_equal(err, "");
	catalog_close(c);
	assert_int_equal(pg_query_int("SELECT version FROM tracetrap_schema "
	    "WHERE part = 'cluster'"), 7);
	/* A schema newer than this relay's is refused, not touched. */
	pg_exec("UPDATE tracetrap_schema SET version = 99 WHERE part = "
	    "'catalog'");
	assert_null(catalog_open(address, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	pg_exec("UPDATE tracetrap_schema SET version = "
	    CATALOG_PG_TEST_STRING " WHERE part = 'catalog'");
}

static json_t *
manifest(const char *id)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:[{s:s, s:s}]}", "id", id,
	    "node", "web1", "taken_at_us", (json_int_t)1795000000000000LL,
	    "bytes", (json_int_t)10, "triggers", "source", "app", "reason",
	    "x");
}

/* Every backend of ours, as pg_ctl restart or a failover would. */
static void
kill_connections(void)
{
	pg_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE application_name = 'tracetrap-relay'");
}

/*
 * A call outside a transaction on a connection the server closed: reset,
 * prepared again, tried once more. The same snapshot from two
 * connections (two relays) is one row.
 */
static void
test_reconnect(void **state)
{
	struct catalog	*c, *other;
	json_t		*m;
	char		 err[512];

	(void)state;
	assert_non_null(c = catalog_open(address, NULL, NULL, err,
	    sizeof(err)));
	assert_non_null(other = catalog_open(address, NULL, NULL, err,
	    sizeof(err)));
	assert_int_equal(catalog_has_snapshot(c, "r-1"), 0);
	kill_connections();
	/* A cached statement, prepared before: prepared again. */
	assert_int_equal(catalog_has_snapshot(c, "r-1"), 0);
	m = manifest("r-1");
	kill_connections();
	/* BEGIN is outside a transaction: it reconnects. */
	if (catalog_add(c, m, "incidents/i1/web1/r-1", err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	if (catalog_add(other, m, "incidents/i1/web1/r-1", err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	json_decref(m);
	assert_int_equal(pg_query_int("SELECT count(*) FROM snapshots "
	    "WHERE id = 'r-1'"), 1);
	assert_int_equal(pg_query_int("SELECT count(*) FROM triggers "
	    "WHERE snapshot_id = 'r-1'"), 1);
	/* Retention on both at once: the second removes nothing, fine. */
	assert_int_equal(catalog_remove_incident(c, "i1", err, sizeof(err)),
	    0);
	assert_int_equal(catalog_remove_incident(other, "i1", err,
	    sizeof(err)), 0);
	assert_int_equal(catalog_has_snapshot(other, "r-1"), 0);
	catalog_close(other);
	catalog_close(c);
}

/* Broken inside a transaction: the call fails; the next one works. */
static void
test_broken_transaction(void **state)
{
	struct catalog	*c;
	struct db	*db;
	char		 err[512];

	(void)state;
	assert_non_null(db = db_pg_open(conninfo, err, sizeof(err)));
	assert_int_equal(db_begin(db), DB_OK);
	assert_int_equal(db_exec(db, "SELECT 1"), DB_OK);
	kill_connections();
	assert_int_equal(db_exec(db, "SELECT 1"), DB_ERROR);
	db_rollback(db);
	assert_int_equal(db_exec(db, "SELECT 1"), DB_OK);
	db_close(db);
	/* A server that does not answer: an error within connect_timeout. */
	assert_null(c = catalog_open("postgresql:host=127.0.0.1 port=1 "
	    "dbname=x", NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "PostgreSQL"));
}

/* "?N" outside quotes becomes "$N", whatever its number's length. */
static void
test_placeholders(void **state)
{
	char	*sql;
	int	 n;

	(void)state;
	sql = db_pg_placeholders("SELECT ?1, '?2', ?12 ESCAPE '\\'", &n);
	assert_string_equal(sql, "SELECT $1, '?2', $12 ESCAPE '\\'");
	assert_int_equal(n, 12);
	free(sql);
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_placeholders),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog_programs),
		cmocka_unit_test(test_concurrent_migrations),
		cmocka_unit_test(test_migrate_once),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_broken_transaction),
	};
	glob_t	 g;
	int	 failed, has_pg;

	failed = cmocka_run_group_tests(pure, NULL, NULL);
	has_pg = glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0;
	globfree(&g);
	if (!has_pg) {
		printf("# SKIP PostgreSQL is not installed (make deps "
		    "installs it)\n");
		return failed;
	}
	if (geteuid() != 0) {
		printf("# SKIP PostgreSQL runs as the postgres user: not "
		    "root\n");
		return failed;
	}
	if (getcwd(root, sizeof(root)) == NULL ||
	    access("conf/tier.sh", X_OK) != 0) {
		printf("# SKIP run from the source tree (conf/tier.sh)\n");
		return failed;
	}
	if (pg_start() == -1) {
		fprintf(stderr, "PostgreSQL did not start\n");
		pg_stop();
		return 1;
	}
	failed += cmocka_run_group_tests(tests, NULL, NULL);
	pg_stop();
	return failed;
}
