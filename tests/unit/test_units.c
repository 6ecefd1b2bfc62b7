/*
 * Unit tests of lib/units.c: the duration, size and boolean parsers every
 * configuration value goes through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "units.h"

static void
test_duration_suffixes(void **state)
{
	uint64_t	 ms;
	char		 err[256];

	(void)state;
	assert_int_equal(units_parse_duration_ms("5ms", &ms, err, sizeof err),
	    0);
	assert_int_equal(ms, 5);
	assert_int_equal(units_parse_duration_ms("2s", &ms, err, sizeof err),
	    0);
	assert_int_equal(ms, 2000);
	assert_int_equal(units_parse_duration_ms("5m", &ms, err, sizeof err),
	    0);
	assert_int_equal(ms, 5 * 60 * 1000);
	assert_int_equal(units_parse_duration_ms("1h", &ms, err, sizeof err),
	    0);
	assert_int_equal(ms, 3600 * 1000);
	/* A bare number is seconds. */
	assert_int_equal(units_parse_duration_ms("10", &ms, err, sizeof err),
	    0);
	assert_int_equal(ms, 10000);
	assert_int_equal(units_parse_duration_ms("0", &ms, err, sizeof err),
	    0);
	assert_int_equal(ms, 0);
	assert_int_equal(units_parse_duration_ms("0ms", &ms, err, sizeof err),
	    0);
	assert_int_equal(ms, 0);
}

static void
test_duration_bad(void **state)
{
	static const char	*bad[] = { "", "10x", "abc", "-1", "+1", " 5s",
				    "5 s", "5s ", "1.5s", "5S", "5sec", "ms",
				    "0x10", "5mss", "1d" };
	uint64_t		 ms;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ms = 42;
		err[0] = '\0';
		assert_int_equal(units_parse_duration_ms(bad[i], &ms, err,
		    sizeof err), -1);
		assert_int_equal(ms, 42);
		assert_non_null(strstr(err, "invalid duration"));
		assert_non_null(strstr(err, "expected e.g. 500ms"));
	}
	units_parse_duration_ms("10x", &ms, err, sizeof err);
	assert_string_equal(err, "invalid duration '10x' (expected e.g. "
	    "500ms, 2s, 5m, 1h)");
}

static void
test_duration_overflow(void **state)
{
	uint64_t	 ms;
	char		 err[256];

	(void)state;
	assert_int_equal(units_parse_duration_ms("18446744073709551615ms",
	    &ms, err, sizeof err), 0);
	assert_true(ms == UINT64_MAX);
	/* Past UINT64_MAX in the digits themselves (ERANGE). */
	assert_int_equal(units_parse_duration_ms("18446744073709551616ms",
	    &ms, err, sizeof err), -1);
	assert_int_equal(units_parse_duration_ms("99999999999999999999999",
	    &ms, err, sizeof err), -1);
	/* In range as a number, but not once multiplied. */
	assert_int_equal(units_parse_duration_ms("18446744073709551s", &ms,
	    err, sizeof err), 0);
	assert_int_equal(units_parse_duration_ms("18446744073709552s", &ms,
	    err, sizeof err), -1);
	assert_int_equal(units_parse_duration_ms("5124095576031h", &ms,
	    err, sizeof err), -1);
	assert_int_equal(units_parse_duration_ms("5124095576030h", &ms,
	    err, sizeof err), 0);
	assert_true(ms == 5124095576030ULL * 3600 * 1000);
}

static void
test_size_suffixes(void **state)
{
	uint64_t	 bytes;
	char		 err[256];

	(void)state;
	assert_int_equal(units_parse_size("4096", &bytes, err, sizeof err), 0);
	assert_int_equal(bytes, 4096);
	assert_int_equal(units_parse_size("64k", &bytes, err, sizeof err), 0);
	assert_int_equal(bytes, 64 * 1024);
	assert_int_equal(units_parse_size("64K", &bytes, err, sizeof err), 0);
	assert_int_equal(bytes, 64 * 1024);
	assert_int_equal(units_parse_size("8M", &bytes, err, sizeof err), 0);
	assert_int_equal(bytes, 8 * 1024 * 1024);
	assert_int_equal(units_parse_size("1G", &bytes, err, sizeof err), 0);
	assert_int_equal(bytes, 1024 * 1024 * 1024);
	assert_int_equal(units_parse_size("1g", &bytes, err, sizeof err), 0);
	assert_int_equal(bytes, 1024 * 1024 * 1024);
	assert_int_equal(units_parse_size("0", &bytes, err, sizeof err), 0);
	assert_int_equal(bytes, 0);
}

static void
test_size_bad(void **state)
{
	static const char	*bad[] = { "", "10x", "1T", "1kb", "1KiB",
				    "-1", " 1k", "1k ", "1.5M", "k", "0x10" };
	uint64_t		 bytes;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(units_parse_size(bad[i], &bytes, err,
		    sizeof err), -1);
		assert_non_null(strstr(err, "invalid size"));
	}
	units_parse_size("10x", &bytes, err, sizeof err);
	assert_string_equal(err, "invalid size '10x' (expected e.g. 4096, "
	    "64k, 8M, 1G)");
}

static void
test_size_overflow(void **state)
{
	uint64_t	 bytes;
	char		 err[256];

	(void)state;
	/* 2^34 G is 2^64: one too many. */
	assert_int_equal(units_parse_size("17179869184G", &bytes, err,
	    sizeof err), -1);
	assert_int_equal(units_parse_size("17179869183G", &bytes, err,
	    sizeof err), 0);
	assert_true(bytes == 17179869183ULL << 30);
	assert_int_equal(units_parse_size("18014398509481984k", &bytes, err,
	    sizeof err), -1);
	assert_int_equal(units_parse_size("18446744073709551615", &bytes, err,
	    sizeof err), 0);
	assert_true(bytes == UINT64_MAX);
	assert_int_equal(units_parse_size("18446744073709551616", &bytes, err,
	    sizeof err), -1);
}

static void
test_bool(void **state)
{
	static const char	*yes[] = { "yes", "YES", "true", "on", "1" };
	static const char	*no[] = { "no", "No", "false", "off", "0" };
	static const char	*bad[] = { "", "maybe", "y", "2", "yes ",
				    "enabled" };
	int			 v;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		v = -1;
		assert_int_equal(units_parse_bool(yes[i], &v, err, sizeof err),
		    0);
		assert_int_equal(v, 1);
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		v = -1;
		assert_int_equal(units_parse_bool(no[i], &v, err, sizeof err),
		    0);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = -1;
		assert_int_equal(units_parse_bool(bad[i], &v, err, sizeof err),
		    -1);
		assert_int_equal(v, -1);
		assert_non_null(strstr(err, "expected yes or no"));
	}
}

/* A short error buffer is cut, never overrun. */
static void
test_error_truncated(void **state)
{
	char		 err[8];
	uint64_t	 v;

	(void)state;
	memset(err, 'x', sizeof err);
	assert_int_equal(units_parse_size("bogus", &v, err, sizeof err), -1);
	assert_int_equal(strlen(err), sizeof err - 1);
	assert_int_equal(units_parse_duration_ms("bogus", &v, NULL, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_suffixes),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_size_suffixes),
		cmocka_unit_test(test_size_bad),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_error_truncated),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
