/*
 * Unit tests of how the cluster connection's hosts are rewritten once
 * resolved off the loop (relay/cluster_target.c): which conninfos need a
 * lookup, and the host/hostaddr/port lists libpq is given. The lookup
 * itself: "localhost", from /etc/hosts; the connection, in
 * tests/integration/cluster-relays.t.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cluster_target.h"

static char	 err[256];

static int
parse(struct cluster_target *t, const char *conninfo)
{
	return cluster_target_parse(t, conninfo, err, sizeof(err));
}

/* The thread's part, done here: addresses as the resolver would give. */
static void
resolved(struct cluster_target *t, size_t host, const char *addr)
{
	t->addrs[host][t->naddrs[host]++] = strdup(addr);
}

/* The lists libpq is given: n entries, or none (NULL lists). */
static void
check_params(struct cluster_target *t, size_t n, const char *host,
    const char *hostaddr, const char *port)
{
	char	*h, *a, *p;

	assert_int_equal(cluster_target_params(t, &h, &a, &p), n);
	if (host == NULL)
		assert_null(h);
	else
		assert_string_equal(h, host);
	if (hostaddr == NULL)
		assert_null(a);
	else
		assert_string_equal(a, hostaddr);
	if (port == NULL)
		assert_null(p);
	else
		assert_string_equal(p, port);
	free(h);
	free(a);
	free(p);
	cluster_target_free(t);
}

static void
test_no_lookup(void **state)
{
	struct cluster_target	 t;

	(void)state;
	unsetenv("PGHOST");
	unsetenv("PGHOSTADDR");
	assert_int_equal(parse(&t, "host=127.0.0.1 port=5432 dbname=x"), 0);
	assert_int_equal(parse(&t, "host=::1"), 0);
	assert_int_equal(parse(&t, "host=/run/postgresql"), 0);
	assert_int_equal(parse(&t, "dbname=x"), 0);
	/* hostaddr given: libpq does not resolve, nor do we. */
	assert_int_equal(parse(&t, "host=db.example hostaddr=10.0.0.1"), 0);
	assert_int_equal(parse(&t, "postgresql://10.1.2.3:5433/tt"), 0);
	assert_int_equal(parse(&t, "host='unterminated"), -1);
	assert_non_null(strstr(err, "unterminated"));
}

static void
test_one_name(void **state)
{
	struct cluster_target	 t;

	(void)state;
	assert_int_equal(parse(&t, "host=db.example port=5433 dbname=tt "
	    "sslmode=verify-full"), 1);
	assert_int_equal(t.n, 1);
	resolved(&t, 0, "10.0.0.1");
	resolved(&t, 0, "fd00::1");
	/* The name kept for TLS and .pgpass, one entry per address. */
	check_params(&t, 2, "db.example,db.example", "10.0.0.1,fd00::1",
	    "5433,5433");
}

static void
test_mixed_hosts(void **state)
{
	struct cluster_target	 t;

	(void)state;
	assert_int_equal(parse(&t, "host=a.example,/run/pg,10.9.9.9,b.example "
	    "port=1,2,3,4 dbname=tt"), 1);
	assert_int_equal(t.n, 4);
	resolved(&t, 0, "10.0.0.1");
	/*
	 * b.example did not resolve: the others are still tried. An empty
	 * hostaddr: libpq uses the host itself, a socket or an address.
	 */
	check_params(&t, 3, "a.example,/run/pg,10.9.9.9", "10.0.0.1,,",
	    "1,2,3");
}

static void
test_nothing_resolved(void **state)
{
	struct cluster_target	 t;

	(void)state;
	assert_int_equal(parse(&t, "host=db.example"), 1);
	check_params(&t, 0, NULL, NULL, NULL);
}

static void
test_environment(void **state)
{
	struct cluster_target	 t;

	(void)state;
	setenv("PGHOST", "db.example", 1);
	setenv("PGPORT", "6000", 1);
	assert_int_equal(parse(&t, "dbname=tt"), 1);
	resolved(&t, 0, "10.0.0.7");
	check_params(&t, 1, "db.example", "10.0.0.7", "6000");
	setenv("PGHOSTADDR", "10.0.0.8", 1);
	assert_int_equal(parse(&t, "dbname=tt"), 0);
	unsetenv("PGHOST");
	unsetenv("PGPORT");
	unsetenv("PGHOSTADDR");
}

static void
test_resolve_localhost(void **state)
{
	struct cluster_target	 t;

	(void)state;
	assert_int_equal(parse(&t, "host=localhost port=5432"), 1);
	cluster_target_resolve(&t);
	assert_string_equal(t.error, "");
	assert_true(t.naddrs[0] >= 1);
	cluster_target_free(&t);
	assert_int_equal(parse(&t, "host=no-such-host.invalid"), 1);
	cluster_target_resolve(&t);
	assert_int_equal(t.naddrs[0], 0);
	assert_non_null(strstr(t.error, "resolving no-such-host.invalid: "));
	cluster_target_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_lookup),
		cmocka_unit_test(test_one_name),
		cmocka_unit_test(test_mixed_hosts),
		cmocka_unit_test(test_nothing_resolved),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_resolve_localhost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
