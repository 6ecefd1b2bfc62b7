/*
 * Unit tests of the fleet budget (relay/fanout.c): the cooldown, the
 * hourly cap, and each node's share of it. (The fan-out itself runs
 * between real daemons in tests/integration/cluster.t.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "relay.h"

#define S	INT64_C(1000000)
#define HOUR	(3600 * S)

static struct relay_fleet	fleet;
static struct relay_config	conf;

static int
setup(void **state)
{
	(void)state;
	memset(&fleet, 0, sizeof(fleet));
	memset(&conf, 0, sizeof(conf));
	conf.fleet_cooldown_ms = 30 * 1000;
	conf.fleet_max_per_hour = 12;
	conf.fleet_node_max_per_hour = 4;
	return 0;
}

/* Spends as fanout_trigger does when the budget allows; returns the limit. */
static const char *
try(const char *node, int64_t now)
{
	const char *limit = fanout_budget(&fleet, &conf, node, now);

	if (limit == NULL)
		fanout_spend(&fleet, node, now);
	return limit;
}

static void
test_cooldown(void **state)
{
	int64_t t = 1000 * HOUR;

	(void)state;
	assert_null(try("web1", t));
	assert_string_equal(try("web2", t + 29 * S), "cooldown");
	assert_null(try("web2", t + 30 * S));
}

/* One node cannot spend the hour; the others still can. */
static void
test_node_share(void **state)
{
	int64_t	t = 1000 * HOUR;
	int	i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_null(try("noisy", t + i * 60 * S));
	assert_string_equal(try("noisy", t + 4 * 60 * S),
	    "node_max_per_hour");
	/* The refusal spent nothing: the cooldown does not hold others. */
	assert_null(try("web1", t + 4 * 60 * S));
	/* An hour after its first incident, the noisy node has one again. */
	assert_string_equal(try("noisy", t + HOUR - S), "node_max_per_hour");
	assert_null(try("noisy", t + HOUR));
}

static void
test_fleet_cap_first(void **state)
{
	int64_t	t = 1000 * HOUR;
	char	node[16];
	int	i;

	(void)state;
	conf.fleet_cooldown_ms = 0;
	for (i = 0; i < 12; i++) {
		snprintf(node, sizeof(node), "web%d", i % 6);
		assert_null(try(node, t + i * S));
	}
	/* The fleet's cap speaks first: it is the one the operator tunes. */
	assert_string_equal(try("fresh", t + 20 * S), "max_per_hour");
	conf.fleet_max_per_hour = 0;
	assert_null(try("fresh", t + 20 * S));
	/* No share at all: one node may take every incident. */
	conf.fleet_node_max_per_hour = 0;
	for (i = 0; i < 50; i++)
		assert_null(try("web0", t + (30 + i) * S));
}

/* Names that share a prefix are different nodes. */
static void
test_names(void **state)
{
	int64_t t = 1000 * HOUR;

	(void)state;
	conf.fleet_cooldown_ms = 0;
	conf.fleet_node_max_per_hour = 1;
	assert_null(try("web1", t));
	assert_null(try("web10", t + S));
	assert_null(try("web", t + 2 * S));
	assert_string_equal(try("web1", t + 3 * S), "node_max_per_hour");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cooldown, setup),
		cmocka_unit_test_setup(test_node_share, setup),
		cmocka_unit_test_setup(test_fleet_cap_first, setup),
		cmocka_unit_test_setup(test_names, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
