/*
 * Unit tests of lib/analyze.c on real traces, written during the test by
 * real lttng-ust applications (tests/apps/mktrace.sh: a private
 * lttng-sessiond, the recorder's channel setup) and checked against
 * babeltrace2's own reading of the same trace:
 * - requests: ttreq writes HTTP requests as mod_tracetrap does, one
 *   begun and ended on two threads, one in flight, one named by the
 *   manifest, and an LTTng trigger whose event must be found;
 * - overflow: a tiny ring that wraps, and a big one that does not;
 * - budget: a trace too big for a 1 ms CPU budget;
 * - kernel: a trace that reads as LTTng's kernel domain, with
 *   sched_switch events (no kernel tracer runs here), made with
 *   babeltrace2's own CTF writer (tests/apps/mkkernel.py);
 * - damage: garbage metadata, a stream cut in a packet.
 * Skipped, saying why, when not root (a private sessiond needs it).
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyze.h"
#include "trace_events.h"

static char	 top[64];
static char	 build[512];
static int	 is_ready;

static int
test_rm(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int
test_sh(const char *fmt, ...)
{
	char	 cmd[4096];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
test_setup(void **state)
{
	FILE	*f;
	char	 path[256];

	(void)state;
	if (getuid() != 0)
		return 0;
	snprintf(build, sizeof(build), "%s", getenv("TT_BUILD") ?
	    getenv("TT_BUILD") : "build");
	snprintf(top, sizeof(top), "/tmp/tt-analyze.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	/* Requests: r2 begins on thread 0, ends on thread 1, 300 ms later. */
	snprintf(path, sizeof(path), "%s/req.script", top);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("begin 0 r1 GET /fast h1\n"
	    "work 0 r1 1 parse\n"
	    "end 0 r1 GET /fast h1 200 150 0\n"
	    "begin 0 r2 GET /checkout h1\n"
	    "work 0 r2 1 db\n"
	    "sleep 300\n"
	    "work 1 r2 2 render\n"
	    "end 1 r2 GET /checkout h1 200 300000 1\n"
	    "begin 1 r3 POST /pay h1\n"
	    "end 1 r3 POST /pay h1 503 1000 0\n"
	    "begin 0 r4 GET /stuck h1\n", f);
	fclose(f);
	if (test_sh("tests/apps/mktrace.sh %s/req 64k 4 %s/tests/ttreq "
	    "%s/req.script %s/req.state >%s/mktrace.log 2>&1", top, build, top,
	    top, top) != 0)
		return -1;
	/* The manifest names r3, and an LTTng trigger on ttreq:work. */
	snprintf(path, sizeof(path), "%s/req/manifest.json", top);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\"id\":\"n1-20261206T000000Z-1\",\"node\":\"n1\","
	    "\"triggers\":[{\"source\":\"apache\",\"reason\":\"status 503\","
	    "\"received_at_us\":%lld,\"labels\":{\"request_id\":\"r3\"}},"
	    "{\"source\":\"lttng\",\"reason\":\"rendered\",\"received_at_us\":"
	    "%lld,\"labels\":{\"rule\":\"render\",\"event\":\"ttreq:work\","
	    "\"capture.what\":\"render\"}}],\"session\":{\"channels\":"
	    "[{\"domain\":\"ust\"}]}}\n", (long long)time(NULL) * 1000000,
	    (long long)time(NULL) * 1000000 + 5000000);
	fclose(f);
	/* A 2 x 4 KiB ring that wraps; a 4 x 64 KiB one that does not. */
	if (test_sh("tests/apps/mktrace.sh %s/wrap 4k 2 %s/tests/ttapp 50000 "
	    ">>%s/mktrace.log 2>&1", top, build, top) != 0 ||
	    test_sh("tests/apps/mktrace.sh %s/calm 64k 4 %s/tests/ttapp 100 "
	    ">>%s/mktrace.log 2>&1", top, build, top) != 0 ||
	    test_sh("tests/apps/mktrace.sh %s/big 1M 4 %s/tests/ttapp 300000 "
	    ">>%s/mktrace.log 2>&1", top, build, top) != 0)
		return -1;
	/* Two CPUs' sched_switch, times in ns after the clock's offset. */
	snprintf(path, sizeof(path), "%s/kernel.script", top);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("0 1000000 0 swapper/0 101 web\n"
	    "0 3000000 101 web 102 db\n"
	    "0 4000000 102 db 0 swapper/0\n"
	    "1 1500000 0 swapper/1 102 db\n"
	    "1 2500000 102 db 101 web\n"
	    "1 5000000 101 web 0 swapper/1\n", f);
	fclose(f);
	if (test_sh("/usr/bin/python3 tests/apps/mkkernel.py %s/kernel/trace "
	    "%s/kernel.script >>%s/mktrace.log 2>&1", top, top, top) != 0)
		return -1;
	is_ready = 1;
	return 0;
}

static int
test_teardown(void **state)
{
	(void)state;
	if (top[0] != '\0')
		nftw(top, test_rm, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static json_t *
test_analyze(const char *name, uint64_t budget_ms)
{
	struct analyze_options	 opt = { budget_ms };
	char			 dir[256];
	json_t			*s;

	if (!is_ready)
		skip();
	snprintf(dir, sizeof(dir), "%s/%s", top, name);
	s = analyze_snapshot(dir, &opt);
	assert_non_null(s);
	return s;
}

/* babeltrace2's count of each event name, and its first and last time. */
static json_t *
test_babeltrace(const char *name, int64_t *first, int64_t *last)
{
	json_t	*counts = json_object();
	char	 cmd[512], line[8192], ev[512];
	long long sec, nsec;
	FILE	*p;

	snprintf(cmd, sizeof(cmd), "babeltrace2 --clock-seconds %s/%s/trace",
	    top, name);
	assert_non_null(p = popen(cmd, "r"));
	*first = *last = 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		/* [1796597272.893361942] (+0.000052951) host NAME: { ... */
		if (sscanf(line, "[%lld.%lld] %*s %*s %511s", &sec, &nsec,
		    ev) < 3)
			continue;
		if (ev[strlen(ev) - 1] == ':')
			ev[strlen(ev) - 1] = '\0';
		json_object_set_new(counts, ev, json_integer(json_integer_value(
		    json_object_get(counts, ev)) + 1));
		if (*first == 0)
			*first = sec * 1000000000 + nsec;
		*last = sec * 1000000000 + nsec;
	}
	pclose(p);
	return counts;
}

static void
test_counts_match_babeltrace(const char *name)
{
	json_t		*s = test_analyze(name, 0), *bt, *v;
	const char	*key;
	json_int_t	 total = 0;
	int64_t		 first, last;

	bt = test_babeltrace(name, &first, &last);
	json_object_foreach(bt, key, v) {
		assert_int_equal(json_integer_value(json_object_get(
		    json_object_get(s, "by_name"), key)), json_integer_value(v));
		total += json_integer_value(v);
	}
	assert_true(total > 0);
	assert_int_equal(json_integer_value(json_object_get(s, "events")),
	    total);
	assert_int_equal(json_object_size(json_object_get(s, "by_name")),
	    json_object_size(bt));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s,
	    "span"), "first_ns")), first);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s,
	    "span"), "last_ns")), last);
	assert_false(json_is_true(json_object_get(s, "partial")));
	json_decref(bt);
	json_decref(s);
}

static void
test_counts(void **state)
{
	(void)state;
	test_counts_match_babeltrace("req");
	test_counts_match_babeltrace("wrap");
	test_counts_match_babeltrace("calm");
	test_counts_match_babeltrace("big");
	test_counts_match_babeltrace("kernel");
}

static json_t *
test_request(json_t *s, const char *id)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(json_object_get(s, "requests"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "request_id")),
		    id) == 0)
			return r;
	fail_msg("request %s not in the summary", id);
	return NULL;
}

static void
test_requests(void **state)
{
	json_t	*s = test_analyze("req", 0), *r = NULL, *t, *ev;
	size_t	 i;

	(void)state;
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_total")), 3);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_in_flight")), 1);
	/* The slowest completed one first among the completed. */
	json_array_foreach(json_object_get(s, "requests"), i, r)
		if (!json_is_true(json_object_get(r, "in_flight")))
			break;
	assert_string_equal(json_string_value(json_object_get(r, "request_id")),
	    "r2");
	assert_int_equal(json_integer_value(json_object_get(r, "duration_us")),
	    300000);
	assert_true(json_is_true(json_object_get(r, "triggered")));
	/* Begun on one thread, ended on another, of one process. */
	assert_int_not_equal(json_integer_value(json_object_get(r, "vtid")),
	    json_integer_value(json_object_get(r, "begin_vtid")));
	assert_true(json_integer_value(json_object_get(r, "end_ns")) -
	    json_integer_value(json_object_get(r, "begin_ns")) >= 300000000);
	assert_true(json_is_true(json_object_get(test_request(s, "r3"),
	    "triggered")));
	assert_true(json_is_true(json_object_get(test_request(s, "r4"),
	    "in_flight")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s,
	    "status_counts"), "503")), 1);
	/* The manifest's triggers: r3 found, the LTTng event located. */
	t = json_array_get(json_object_get(s, "triggers"), 0);
	assert_true(json_is_true(json_object_get(t, "request_found")));
	t = json_array_get(json_object_get(s, "triggers"), 1);
	ev = json_object_get(t, "event");
	assert_true(json_is_object(ev));
	assert_string_equal(json_string_value(json_object_get(ev, "name")),
	    "ttreq:work");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ev, "fields"), "what")), "render");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    ev, "fields"), "step")), 2);
	/* No kernel trace: said, not guessed. */
	assert_false(json_is_true(json_object_get(json_object_get(s, "kernel"),
	    "present")));
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(s, "kernel"), "reason")), "user space only"));
	json_decref(s);
}

static void
test_drill_down(void **state)
{
	struct trace_query	 q;
	json_t			*s = test_analyze("req", 0), *r, *ans, *e;
	const char		*want[] = { "tracetrap_httpd:request_begin",
				    "ttreq:work", "ttreq:work",
				    "tracetrap_httpd:request_end" };
	char			 dir[256], err[256];
	size_t			 i;

	(void)state;
	r = test_request(s, "r2");
	trace_query_init(&q);
	q.from_ns = json_integer_value(json_object_get(r, "begin_ns"));
	q.to_ns = json_integer_value(json_object_get(r, "end_ns"));
	q.vpid = json_integer_value(json_object_get(r, "vpid"));
	snprintf(dir, sizeof(dir), "%s/req", top);
	ans = trace_events_query(dir, &q, err, sizeof(err));
	assert_non_null(ans);
	assert_string_equal(json_string_value(json_object_get(ans, "seek")),
	    "packets");
	assert_int_equal(json_array_size(json_object_get(ans, "events")), 4);
	json_array_foreach(json_object_get(ans, "events"), i, e)
		assert_string_equal(json_string_value(json_object_get(e, "name")),
		    want[i]);
	json_decref(ans);
	/* The end's thread alone: its two events. */
	q.vtid = json_integer_value(json_object_get(r, "vtid"));
	ans = trace_events_query(dir, &q, err, sizeof(err));
	assert_int_equal(json_array_size(json_object_get(ans, "events")), 2);
	json_decref(ans);
	/* Bounded: limit 1 of 4, said so. */
	q.vtid = -1;
	q.limit = 1;
	ans = trace_events_query(dir, &q, err, sizeof(err));
	assert_int_equal(json_array_size(json_object_get(ans, "events")), 1);
	assert_true(json_is_true(json_object_get(ans, "truncated")));
	json_decref(ans);
	json_decref(s);
}

static void
test_overflow(void **state)
{
	json_t	*s = test_analyze("wrap", 0), *h, *st;
	size_t	 i;
	int	 has_overwritten = 0;

	(void)state;
	h = json_object_get(s, "history");
	assert_true(json_is_true(json_object_get(h, "overflowed")));
	assert_true(json_integer_value(json_object_get(h, "lost_packets")) > 0);
	json_array_foreach(json_object_get(s, "streams"), i, st)
		if (json_integer_value(json_object_get(st,
		    "overwritten_packets")) > 0) {
			has_overwritten = 1;
			/* History is complete from its first packet on. */
			assert_true(json_integer_value(json_object_get(h,
			    "complete_since_ns")) >= json_integer_value(
			    json_object_get(st, "first_packet_ns")));
			assert_true(json_integer_value(json_object_get(st,
			    "first_ns")) >= json_integer_value(json_object_get(
			    st, "first_packet_ns")));
		}
	assert_true(has_overwritten);
	json_decref(s);
	s = test_analyze("calm", 0);
	h = json_object_get(s, "history");
	assert_true(json_is_false(json_object_get(h, "overflowed")));
	assert_int_equal(json_integer_value(json_object_get(h, "lost_packets")),
	    0);
	json_decref(s);
}

static void
test_budget(void **state)
{
	json_t *s = test_analyze("big", 1), *full;

	(void)state;
	assert_true(json_is_true(json_object_get(s, "partial")));
	assert_non_null(strstr(json_string_value(json_object_get(s,
	    "partial_reason")), "budget"));
	full = test_analyze("big", 0);
	assert_true(json_integer_value(json_object_get(s, "events")) <
	    json_integer_value(json_object_get(full, "events")));
	json_decref(full);
	json_decref(s);
}

static void
test_kernel(void **state)
{
	json_t	*s = test_analyze("kernel", 0), *k, *t;

	(void)state;
	k = json_object_get(s, "kernel");
	assert_true(json_is_true(json_object_get(k, "present")));
	assert_int_equal(json_integer_value(json_object_get(k,
	    "sched_switches")), 6);
	/* web: 1..3 ms on CPU 0, 2.5..5 ms on CPU 1; db: 3..4 and 1.5..2.5. */
	t = json_array_get(json_object_get(k, "threads"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "comm")),
	    "web");
	assert_int_equal(json_integer_value(json_object_get(t, "oncpu_ns")),
	    4500000);
	t = json_array_get(json_object_get(k, "threads"), 1);
	assert_string_equal(json_string_value(json_object_get(t, "comm")),
	    "db");
	assert_int_equal(json_integer_value(json_object_get(t, "oncpu_ns")),
	    2000000);
	json_decref(s);
}

static void
test_damaged(void **state)
{
	json_t	*s;

	(void)state;
	if (!is_ready)
		skip();
	/* Metadata that is not CTF: an error in the summary, no crash. */
	assert_int_equal(test_sh("cp -r %s/req %s/badmeta && for m in $(find "
	    "%s/badmeta -name metadata); do head -c 3000 /dev/urandom > $m; "
	    "done", top, top, top), 0);
	s = test_analyze("badmeta", 0);
	assert_non_null(json_object_get(s, "error"));
	assert_int_equal(json_integer_value(json_object_get(s, "events")), 0);
	json_decref(s);
	/* A stream cut inside a packet: what can be read, or an error. */
	assert_int_equal(test_sh("cp -r %s/big %s/cut && for f in $(find "
	    "%s/cut -name 'tt_*' -size +100k); do truncate -s 600000 $f; done",
	    top, top, top), 0);
	s = test_analyze("cut", 0);
	assert_true(json_object_get(s, "error") != NULL ||
	    json_is_true(json_object_get(s, "partial")));
	json_decref(s);
	/* Not a snapshot at all. */
	s = test_analyze("nonexistent", 0);
	assert_non_null(json_object_get(s, "error"));
	json_decref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_drill_down),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_damaged),
	};

	if (getuid() != 0)
		fprintf(stderr, "test_analyze: skipped: recording real traces "
		    "needs root (a private lttng-sessiond in namespaces)\n");
	return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
