/*
 * Unit tests of lib/isolate.c: a child's answer comes back; a child that
 * aborts, loops, sleeps past its deadline or writes no JSON yields an
 * error saying so, and the caller lives on. Then the real thing: two
 * data streams fuzz_analyze found that make libbabeltrace2 2.0.4 abort
 * (a failed assertion) and loop allocating, analyzed as the relay and
 * the CLI analyze them.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyze.h"
#include "isolate.h"

static json_t *
test_answer(void *arg)
{
	return json_pack("{s:s}", "said", (const char *)arg);
}

static json_t *
test_abort(void *arg)
{
	(void)arg;
	fprintf(stderr, "about to fail: Assertion `x' failed.\n");
	abort();
}

static json_t *
test_spin(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	for (;;)
		n++;
	return NULL;
}

static json_t *
test_sleep(void *arg)
{
	(void)arg;
	sleep(30);
	return json_object();
}

static void
test_call(void **state)
{
	struct isolate_limits	 l = { 5, 0, 10000, 5, 0 };
	char			 err[512];
	json_t			*j;

	(void)state;
	j = isolate_call(test_answer, "hello", &l, err, sizeof(err));
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "said")),
	    "hello");
	json_decref(j);
	assert_null(isolate_call(test_abort, NULL, &l, err, sizeof(err)));
	assert_non_null(strstr(err, "signal 6"));
	assert_non_null(strstr(err, "Assertion `x' failed."));
	l.cpu_seconds = 1;
	assert_null(isolate_call(test_spin, NULL, &l, err, sizeof(err)));
	assert_non_null(strstr(err, "1 s of CPU"));
	l.cpu_seconds = 0;
	l.timeout_ms = 200;
	assert_null(isolate_call(test_sleep, NULL, &l, err, sizeof(err)));
	assert_non_null(strstr(err, "200 ms"));
	/* The caller going away (its cancel descriptor readable): killed. */
	{
		int fds[2];

		assert_int_equal(pipe(fds), 0);
		close(fds[1]);
		l.timeout_ms = 0;
		l.cancel_fd = fds[0];
		assert_null(isolate_call(test_sleep, NULL, &l, err,
		    sizeof(err)));
		assert_non_null(strstr(err, "going away"));
		close(fds[0]);
	}
}

static void
test_exec(void **state)
{
	struct isolate_limits	 l = { 5, 1ULL << 30, 10000, 0, 0 };
	char			*ok[] = { "/bin/echo", "{\"n\": 3}", NULL };
	char			*bad[] = { "/bin/sh", "-c", "echo oops >&2; "
				    "exit 4", NULL };
	char			*none[] = { "/bin/echo", "not json", NULL };
	char			 err[512];
	json_t			*j;

	(void)state;
	j = isolate_exec(ok, &l, err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 3);
	json_decref(j);
	assert_null(isolate_exec(bad, &l, err, sizeof(err)));
	assert_string_equal(err, "exited with status 4: oops");
	assert_null(isolate_exec(none, &l, err, sizeof(err)));
	assert_non_null(strstr(err, "no JSON"));
}

/* A snapshot dir: the real metadata, a hostile stream (first byte off). */
static void
test_hostile_dir(const char *top, const char *input)
{
	char	 path[256], cmd[1024];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/trace && cp "
	    "tests/fuzz/analyze/metadata %s/trace/metadata && tail -c +2 %s "
	    "> %s/trace/tt_0", top, top, input, top);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/trace/tt_0", top);
	assert_int_equal(access(path, R_OK), 0);
}

static json_t *
test_analyze_child(void *arg)
{
	return analyze_snapshot(arg, NULL);
}

static int
test_rm(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
test_babeltrace_contained(void **state)
{
	struct isolate_limits	 l = { 2, 1ULL << 30, 60000, 0, 0 };
	char			 top[64], err[512];
	json_t			*s;

	(void)state;
	snprintf(top, sizeof(top), "/tmp/tt-isolate.XXXXXX");
	assert_non_null(mkdtemp(top));
	test_hostile_dir(top, "tests/fuzz/analyze/babeltrace-abort");
	assert_null(isolate_call(test_analyze_child, top, &l, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "signal 6"));
	assert_non_null(strstr(err, "Assertion"));
	/* What the relay keeps: a summary saying why, not a crash. */
	s = analyze_failed(top, err);
	assert_non_null(strstr(json_string_value(json_object_get(s, "error")),
	    "Assertion"));
	assert_int_equal(json_array_size(json_object_get(s, "requests")), 0);
	json_decref(s);
	nftw(top, test_rm, 16, FTW_DEPTH | FTW_PHYS);
	/* A stream that makes the source loop, allocating: the CPU bound. */
	assert_non_null(mkdtemp(strcpy(top, "/tmp/tt-isolate.XXXXXX")));
	test_hostile_dir(top, "tests/fuzz/analyze/babeltrace-loop");
	assert_null(isolate_call(test_analyze_child, top, &l, err,
	    sizeof(err)));
	assert_true(strstr(err, "s of CPU") != NULL ||
	    strstr(err, "signal 6") != NULL);
	nftw(top, test_rm, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_babeltrace_contained),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
