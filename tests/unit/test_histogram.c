/*
 * Unit tests of lib/histogram.c: exact below 16, within 1/16 above, the
 * maximum exact, quantiles of known distributions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "histogram.h"

static void
test_small_values_exact(void **state)
{
	struct histogram h;
	uint64_t v;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (v = 0; v < 16; v++)
		histogram_add(&h, v);
	assert_int_equal(histogram_quantile(&h, 0.5), 7);
	assert_int_equal(histogram_quantile(&h, 1.0), 15);
	assert_int_equal(h.max, 15);
	assert_int_equal(h.count, 16);
}

static void
test_within_a_sixteenth(void **state)
{
	struct histogram h;
	uint64_t v, q;

	(void)state;
	/* One value at a time: its quantile is within 1/16 above it. */
	for (v = 16; v < 100000000; v = v * 3 + 7) {
		memset(&h, 0, sizeof(h));
		histogram_add(&h, v);
		histogram_add(&h, v);
		q = histogram_quantile(&h, 0.5);
		assert_true(q >= v);
		assert_true(q - v <= v / 16 + 1);
	}
}

static void
test_uniform_percentiles(void **state)
{
	struct histogram h;
	uint64_t v, p50, p99;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (v = 1; v <= 10000; v++)
		histogram_add(&h, v);
	p50 = histogram_quantile(&h, 0.50);
	p99 = histogram_quantile(&h, 0.99);
	assert_true(p50 >= 5000 && p50 <= 5000 + 5000 / 16 + 1);
	assert_true(p99 >= 9900 && p99 <= 10000);
	/* Never above the largest value seen. */
	assert_int_equal(histogram_quantile(&h, 1.0), 10000);
}

static void
test_outlier_is_max(void **state)
{
	struct histogram h;
	int i;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 999; i++)
		histogram_add(&h, 100);
	histogram_add(&h, 2000000);
	assert_true(histogram_quantile(&h, 0.99) <= 100 + 100 / 16 + 1);
	assert_int_equal(h.max, 2000000);
	assert_int_equal(histogram_quantile(&h, 1.0), 2000000);
	histogram_add(&h, UINT64_MAX);
	assert_int_equal(h.max, UINT64_MAX);
}

static void
test_empty(void **state)
{
	struct histogram h;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(histogram_quantile(&h, 0.5), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_within_a_sixteenth),
		cmocka_unit_test(test_uniform_percentiles),
		cmocka_unit_test(test_outlier_is_max),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
