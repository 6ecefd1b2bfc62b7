/*
 * Unit tests of relay/api.c's query parsing: the since/until times.
 * (The endpoints themselves are driven over HTTP by
 * tests/integration/relay-api.t.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "api.h"

static void
test_rfc3339(void **state)
{
	int64_t us;

	(void)state;
	assert_int_equal(api_parse_time("1970-01-01T00:00:00Z", &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(api_parse_time("2026-11-22T07:01:09Z", &us), 0);
	assert_int_equal(us, INT64_C(1795330869000000));
	/* Lowercase separators are RFC 3339 too. */
	assert_int_equal(api_parse_time("2026-11-22t07:01:09z", &us), 0);
	assert_int_equal(us, INT64_C(1795330869000000));
	/* Fractions: up to microseconds kept, the rest dropped. */
	assert_int_equal(api_parse_time("2026-11-22T07:01:09.5Z", &us), 0);
	assert_int_equal(us, INT64_C(1795330869500000));
	assert_int_equal(api_parse_time("2026-11-22T07:01:09.123456789Z",
	    &us), 0);
	assert_int_equal(us, INT64_C(1795330869123456));
	/* Offsets: the same instant. */
	assert_int_equal(api_parse_time("2026-11-22T08:31:09+01:30", &us), 0);
	assert_int_equal(us, INT64_C(1795330869000000));
	assert_int_equal(api_parse_time("2026-11-22T02:01:09-05:00", &us), 0);
	assert_int_equal(us, INT64_C(1795330869000000));
	/* A leap day that exists. */
	assert_int_equal(api_parse_time("2028-02-29T00:00:00Z", &us), 0);
}

static void
test_microseconds(void **state)
{
	int64_t us;

	(void)state;
	assert_int_equal(api_parse_time("0", &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(api_parse_time("1795330869000000", &us), 0);
	assert_int_equal(us, INT64_C(1795330869000000));
	assert_int_equal(api_parse_time("9223372036854775807", &us), 0);
	assert_int_equal(us, INT64_MAX);
	assert_int_equal(api_parse_time("9223372036854775808", &us), -1);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"", "yesterday", "-5", "+5", " 5", "5 ", "0x10", "1e6",
		"2026-11-22", "2026-11-22T07:01:09", "2026-11-22 07:01:09Z",
		"2026-11-22T07:01Z", "2026-11-22T07:01:09.Z",
		"2026-11-22T07:01:09ZZ", "2026-11-22T07:01:09+0100",
		"2026-11-22T07:01:09+24:00", "2026-02-30T00:00:00Z",
		"2027-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
		"2026-00-10T00:00:00Z", "2026-11-22T24:00:00Z",
		"2026-11-22T07:60:00Z", "2026-11-22T07:01:60Z",
		"1969-12-31T23:59:59Z", "26-11-22T07:01:09Z",
		"2026-11-22T07:01:09Z\n",
	};
	int64_t	 us;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (api_parse_time(bad[i], &us) != -1)
			fail_msg("'%s' was accepted", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_microseconds),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
