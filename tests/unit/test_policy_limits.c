/*
 * Unit tests of recorder/policy_limits.c: one set of limits and its state,
 * driven with exact times. (The policy around them, global and per
 * source, is tested in test_policy.c.)
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_limits.h"

/* Monotonic clocks do not start at 0; neither do these tests. */
#define T0		1000000ULL

static const char *const names[] = { "cooldown", "burst", "max_per_day" };

/* The decision of one check at now_ms: its limit, or NULL. */
static const char *
check(const struct policy_limits *limits, const struct policy_state *state,
    uint64_t now_ms, uint64_t *retry_after_ms)
{
	struct policy_decision	 decision;

	memset(&decision, 0, sizeof(decision));
	policy_limits_check(limits, state, now_ms, names, &decision);
	if (retry_after_ms != NULL)
		*retry_after_ms = decision.retry_after_ms;
	return decision.limit;
}

static void
test_elapsed(void **state)
{
	(void)state;
	assert_int_equal(policy_limits_elapsed(T0 + 5, T0), 5);
	/* A clock that seems to go backwards is no time at all. */
	assert_int_equal(policy_limits_elapsed(T0, T0 + 5), 0);
}

static void
test_cooldown(void **state)
{
	struct policy_limits	 limits = { .cooldown_ms = 1000 };
	struct policy_state	 s;
	uint64_t		 retry;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_null(check(&limits, &s, T0, NULL));
	policy_limits_consume(&limits, &s, T0);
	assert_string_equal(check(&limits, &s, T0 + 400, &retry), "cooldown");
	assert_int_equal(retry, 600);
	assert_null(check(&limits, &s, T0 + 1000, NULL));
}

static void
test_bucket(void **state)
{
	struct policy_limits	 none = { 0 };
	struct policy_limits	 limits = { .burst = 2, .refill_ms = 1000 };
	struct policy_state	 s;
	uint64_t		 retry;

	(void)state;
	memset(&s, 0, sizeof(s));
	/* A bucket that did not exist starts full. */
	policy_limits_rescale(&none, &limits, &s);
	s.credit_at_ms = T0;
	assert_int_equal(policy_limits_credit(&limits, &s, T0), 2000);
	policy_limits_consume(&limits, &s, T0);
	policy_limits_consume(&limits, &s, T0);
	assert_string_equal(check(&limits, &s, T0 + 250, &retry), "burst");
	assert_int_equal(retry, 750);
	assert_null(check(&limits, &s, T0 + 1000, NULL));
	/* Refill stops at the burst. */
	assert_int_equal(policy_limits_credit(&limits, &s, T0 + 60000), 2000);
}

static void
test_rescale(void **state)
{
	struct policy_limits	 old = { .burst = 4, .refill_ms = 1000 };
	struct policy_limits	 new = { .burst = 1, .refill_ms = 2000 };
	struct policy_state	 s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.credit_ms = 1500;	/* one and a half tokens */
	policy_limits_rescale(&old, &new, &s);
	/* Tokens are kept (3000 ms of the new refill), then clamped. */
	assert_int_equal(s.credit_ms, 2000);
}

static void
test_day(void **state)
{
	struct policy_limits	 limits = { .max_per_day = 2 };
	struct policy_day	 empty, grown;
	struct policy_state	 s;
	uint64_t		 retry;

	(void)state;
	memset(&empty, 0, sizeof(empty));
	memset(&s, 0, sizeof(s));
	assert_int_equal(policy_limits_resize_day(&empty, 2, &s.day), 0);
	policy_limits_consume(&limits, &s, T0);
	policy_limits_consume(&limits, &s, T0 + 10);
	assert_int_equal(policy_limits_day_count(&s.day, T0 + 10), 2);
	assert_string_equal(check(&limits, &s, T0 + 20, &retry),
	    "max_per_day");
	assert_int_equal(retry, POLICY_DAY_MS - 20);
	assert_null(check(&limits, &s, T0 + POLICY_DAY_MS, NULL));
	assert_int_equal(policy_limits_day_count(&s.day, T0 + POLICY_DAY_MS),
	    1);

	/* A larger ring keeps the times; the old one is left alone. */
	assert_int_equal(policy_limits_resize_day(&s.day, 3, &grown), 0);
	assert_int_equal(policy_limits_day_count(&grown, T0 + 10), 2);
	assert_int_equal(policy_limits_day_count(&s.day, T0 + 10), 2);
	free(grown.times);
	free(s.day.times);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elapsed),
		cmocka_unit_test(test_cooldown),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_rescale),
		cmocka_unit_test(test_day),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
