/*
 * Unit tests of modules/apache/directive.c: the values of mod_tracetrap's
 * directives, each rule broken once, and the message checked to say what
 * was wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "directive.h"

static char	test_err[256];

static int
test_duration(const char *text, uint64_t *us)
{
	test_err[0] = '\0';
	return directive_parse_duration(text, us, test_err, sizeof test_err);
}

static void
test_duration_units(void **state)
{
	uint64_t	us = 0;

	(void)state;
	assert_int_equal(test_duration("500ms", &us), 0);
	assert_int_equal(us, 500000);
	assert_int_equal(test_duration("2s", &us), 0);
	assert_int_equal(us, 2000000);
	assert_int_equal(test_duration("1500us", &us), 0);
	assert_int_equal(us, 1500);
	assert_int_equal(test_duration("1.5s", &us), 0);
	assert_int_equal(us, 1500000);
	assert_int_equal(test_duration("0.25ms", &us), 0);
	assert_int_equal(us, 250);
	assert_int_equal(test_duration("86400s", &us), 0);
	assert_int_equal(us, DIRECTIVE_DURATION_MAX_US);
}

static void
test_duration_refused(void **state)
{
	uint64_t	us = 7;

	(void)state;
	assert_int_equal(test_duration("500", &us), -1);
	assert_non_null(strstr(test_err, "needs a unit"));
	assert_int_equal(test_duration("0ms", &us), -1);
	assert_non_null(strstr(test_err, "zero"));
	assert_int_equal(test_duration("86401s", &us), -1);
	assert_non_null(strstr(test_err, "longer than a day"));
	assert_int_equal(test_duration("9999999999999s", &us), -1);
	assert_non_null(strstr(test_err, "longer than a day"));
	assert_int_equal(test_duration("0.5us", &us), -1);
	assert_non_null(strstr(test_err, "finer than a microsecond"));
	assert_int_equal(test_duration("1.1234567s", &us), -1);
	assert_non_null(strstr(test_err, "six decimals"));
	assert_int_equal(test_duration("fast", &us), -1);
	assert_non_null(strstr(test_err, "'fast' is not a duration"));
	assert_int_equal(test_duration("2m", &us), -1);
	assert_int_equal(test_duration("-2s", &us), -1);
	assert_int_equal(test_duration("1.s", &us), -1);
	assert_int_equal(test_duration(".5s", &us), -1);
	assert_int_equal(test_duration("2 s", &us), -1);
	assert_int_equal(test_duration("", &us), -1);
	/* A refused value leaves the output alone. */
	assert_int_equal(us, 7);
}

static int
test_status(const char *token, struct directive_statuses *set)
{
	test_err[0] = '\0';
	return directive_parse_status(token, set, test_err, sizeof test_err);
}

static void
test_status_forms(void **state)
{
	struct directive_statuses	set;

	(void)state;
	memset(&set, 0, sizeof set);
	assert_int_equal(test_status("404", &set), 0);
	assert_int_equal(test_status("500-503", &set), 0);
	assert_int_equal(test_status("1xx", &set), 0);
	assert_true(directive_has_status(&set, 404));
	assert_false(directive_has_status(&set, 403));
	assert_false(directive_has_status(&set, 405));
	assert_true(directive_has_status(&set, 500));
	assert_true(directive_has_status(&set, 503));
	assert_false(directive_has_status(&set, 504));
	assert_true(directive_has_status(&set, 100));
	assert_true(directive_has_status(&set, 199));
	assert_false(directive_has_status(&set, 200));
	assert_int_equal(test_status("599-599", &set), 0);
	assert_true(directive_has_status(&set, 599));
	/* Out of range lookups are never members. */
	assert_false(directive_has_status(&set, -1));
	assert_false(directive_has_status(&set, 600));
	assert_false(directive_has_status(&set, 100000));
}

static void
test_status_refused(void **state)
{
	struct directive_statuses	set, empty;

	(void)state;
	memset(&set, 0, sizeof set);
	memset(&empty, 0, sizeof empty);
	assert_int_equal(test_status("600", &set), -1);
	assert_non_null(strstr(test_err, "statuses are 100-599"));
	assert_int_equal(test_status("099", &set), -1);
	assert_int_equal(test_status("500-600", &set), -1);
	assert_int_equal(test_status("599-500", &set), -1);
	assert_non_null(strstr(test_err, "runs backwards"));
	assert_int_equal(test_status("5x", &set), -1);
	assert_non_null(strstr(test_err, "'5x' is not a status"));
	assert_int_equal(test_status("6xx", &set), -1);
	assert_int_equal(test_status("50", &set), -1);
	assert_int_equal(test_status("5000", &set), -1);
	assert_int_equal(test_status("500-", &set), -1);
	assert_int_equal(test_status("-500", &set), -1);
	assert_int_equal(test_status("500-5-9", &set), -1);
	assert_int_equal(test_status("", &set), -1);
	/* Nothing was added by the refused tokens. */
	assert_memory_equal(&set, &empty, sizeof set);
}

static void
test_format(void **state)
{
	char	buf[32];

	(void)state;
	directive_format_duration(850, buf, sizeof buf);
	assert_string_equal(buf, "850 us");
	directive_format_duration(500000, buf, sizeof buf);
	assert_string_equal(buf, "500 ms");
	directive_format_duration(1234, buf, sizeof buf);
	assert_string_equal(buf, "1.2 ms");
	directive_format_duration(2399999, buf, sizeof buf);
	assert_string_equal(buf, "2.3 s");
	directive_format_duration(2000000, buf, sizeof buf);
	assert_string_equal(buf, "2 s");
	directive_format_duration(999999, buf, sizeof buf);
	assert_string_equal(buf, "999.9 ms");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_refused),
		cmocka_unit_test(test_status_forms),
		cmocka_unit_test(test_status_refused),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
