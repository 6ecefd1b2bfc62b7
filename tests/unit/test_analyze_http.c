/*
 * Unit tests of lib/analyze_http.c, fed begins and ends directly: pairing
 * by request id whatever the thread, in-flight requests, the bounded
 * tables (open requests, slowest kept, URIs) and what they count when
 * full, triggered requests always kept.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze_http.h"

static json_t *
test_summary(struct analyze_http *h, int64_t end_ns)
{
	json_t *s = json_object();

	analyze_http_json(h, end_ns, s);
	return s;
}

static json_t *
test_find(json_t *s, const char *id)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(json_object_get(s, "requests"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "request_id")),
		    id) == 0)
			return r;
	return NULL;
}

static void
test_pairs_across_threads(void **state)
{
	const char		*ids[] = { "r3" };
	struct analyze_http	*h = analyze_http_new(ids, 1);
	json_t			*s, *r;

	(void)state;
	analyze_http_begin(h, "r1", "GET", "/a", "v", 10, 11, 1000);
	analyze_http_begin(h, "r2", "GET", "/b", "v", 10, 12, 2000);
	/* r1 ends on another thread of the same child. */
	analyze_http_end(h, "r1", "GET", "/a", "v", 200, 50, 0, 10, 13, 51000);
	analyze_http_end(h, "r2", "GET", "/b", "v", 503, 7, 0, 10, 12, 9000);
	analyze_http_begin(h, "r3", "POST", "/c", "v", 10, 12, 10000);
	analyze_http_end(h, "r3", "POST", "/c", "v", 200, 5, 0, 10, 12, 15000);
	analyze_http_begin(h, "r4", "GET", "/slow", "v", 20, 21, 20000);
	s = test_summary(h, 5020000);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_total")), 3);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_in_flight")), 1);
	r = test_find(s, "r1");
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "begin_ns")),
	    1000);
	assert_int_equal(json_integer_value(json_object_get(r, "vtid")), 13);
	assert_int_equal(json_integer_value(json_object_get(r, "begin_vtid")),
	    11);
	assert_true(json_is_true(json_object_get(r, "begin_seen")));
	/* Named by the manifest: triggered even without the field. */
	assert_true(json_is_true(json_object_get(test_find(s, "r3"),
	    "triggered")));
	assert_false(json_is_true(json_object_get(r, "triggered")));
	/* In flight for 5 ms at the end: the slowest, first. */
	r = json_array_get(json_object_get(s, "requests"), 0);
	assert_string_equal(json_string_value(json_object_get(r,
	    "request_id")), "r4");
	assert_true(json_is_true(json_object_get(r, "in_flight")));
	assert_int_equal(json_integer_value(json_object_get(r, "duration_us")),
	    5000);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s,
	    "status_counts"), "503")), 1);
	json_decref(s);
	analyze_http_free(h);
}

static void
test_end_without_begin(void **state)
{
	struct analyze_http	*h = analyze_http_new(NULL, 0);
	json_t			*s, *r;

	(void)state;
	/* Its begin was overwritten in the ring. */
	analyze_http_end(h, "old", "GET", "/x", "v", 200, 300, 1, 1, 1,
	    1000000);
	s = test_summary(h, 2000000);
	r = test_find(s, "old");
	assert_false(json_is_true(json_object_get(r, "begin_seen")));
	assert_int_equal(json_integer_value(json_object_get(r, "begin_ns")),
	    700000);
	assert_true(json_is_true(json_object_get(r, "triggered")));
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_without_begin")), 1);
	json_decref(s);
	analyze_http_free(h);
}

/* The open table: full, then emptied in an order that shifts entries. */
static void
test_open_table_bounded(void **state)
{
	struct analyze_http	*h = analyze_http_new(NULL, 0);
	json_t			*s;
	char			 id[32];
	int			 i;

	(void)state;
	for (i = 0; i < HTTP_OPEN_MAX + 100; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		analyze_http_begin(h, id, "GET", "/", "v", 1, 1, i);
	}
	/* Every other one ends, then the rest: each must still be found. */
	for (i = 0; i < HTTP_OPEN_MAX; i += 2) {
		snprintf(id, sizeof(id), "id-%d", i);
		analyze_http_end(h, id, "GET", "/", "v", 200, 1, 0, 1, 1, i + 1);
	}
	for (i = 1; i < HTTP_OPEN_MAX; i += 2) {
		snprintf(id, sizeof(id), "id-%d", i);
		analyze_http_end(h, id, "GET", "/", "v", 200, 1, 0, 1, 1, i + 1);
	}
	s = test_summary(h, 1000000);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_open_dropped")), 100);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_without_begin")), 0);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_in_flight")), 0);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "requests_total")), HTTP_OPEN_MAX);
	json_decref(s);
	analyze_http_free(h);
}

static void
test_keeps_the_slowest(void **state)
{
	struct analyze_http	*h = analyze_http_new(NULL, 0);
	json_t			*s, *list;
	char			 id[32];
	int			 i;

	(void)state;
	/* 10,000 requests, durations shuffled: the top 200 are 9800..9999. */
	for (i = 0; i < 10000; i++) {
		int d = (i * 7919) % 10000;
		snprintf(id, sizeof(id), "q%d", i);
		analyze_http_end(h, id, "GET", i % 2 ? "/odd" : "/even", "v",
		    200, (uint64_t)d, 0, 1, 1, i);
	}
	s = test_summary(h, 20000);
	list = json_object_get(s, "requests");
	assert_int_equal(json_array_size(list), HTTP_TOP_MAX);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    list, 0), "duration_us")), 9999);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    list, HTTP_TOP_MAX - 1), "duration_us")), 10000 - HTTP_TOP_MAX);
	assert_int_equal(json_array_size(json_object_get(s, "uris")), 2);
	json_decref(s);
	analyze_http_free(h);
}

static void
test_uris_bounded(void **state)
{
	struct analyze_http	*h = analyze_http_new(NULL, 0);
	json_t			*s, *u, *other = NULL;
	char			 uri[32];
	size_t			 i;

	(void)state;
	for (i = 0; i < HTTP_URIS_MAX + 50; i++) {
		snprintf(uri, sizeof(uri), "/u%zu", i);
		analyze_http_end(h, "x", "GET", uri, "v", 500, 10, 0, 1, 1, 1);
	}
	s = test_summary(h, 10);
	assert_int_equal(json_array_size(json_object_get(s, "uris")),
	    HTTP_URIS_MAX + 1);
	json_array_foreach(json_object_get(s, "uris"), i, u)
		if (strcmp(json_string_value(json_object_get(u, "uri")),
		    "(other)") == 0)
			other = u;
	assert_non_null(other);
	assert_int_equal(json_integer_value(json_object_get(other, "count")),
	    50);
	assert_int_equal(json_integer_value(json_object_get(other, "errors")),
	    50);
	json_decref(s);
	analyze_http_free(h);
}

static void
test_invalid_utf8_cleaned(void **state)
{
	struct analyze_http	*h = analyze_http_new(NULL, 0);
	json_t			*s;
	char			*text;

	(void)state;
	analyze_http_end(h, "bad\xff", "GET", "/\xc3(", "v\x80", 200, 1, 0, 1,
	    1, 1);
	s = test_summary(h, 10);
	text = json_dumps(s, 0);
	assert_non_null(text);
	assert_non_null(test_find(s, "bad?"));
	assert_non_null(strstr(text, "\"/?(\""));
	free(text);
	json_decref(s);
	analyze_http_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs_across_threads),
		cmocka_unit_test(test_end_without_begin),
		cmocka_unit_test(test_open_table_bounded),
		cmocka_unit_test(test_keeps_the_slowest),
		cmocka_unit_test(test_uris_bounded),
		cmocka_unit_test(test_invalid_utf8_cleaned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
