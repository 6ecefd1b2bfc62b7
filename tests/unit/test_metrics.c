/*
 * Unit tests of lib/metrics.c: one table, the status JSON and the
 * Prometheus text, HELP and TYPE once per name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "metrics.h"

struct figures {
	uint64_t	 stored;
	uint64_t	 refused;
	uint64_t	 queued;
	uint64_t	 hidden;
};

static const struct metric rows[] = {
	METRIC_COUNTER(struct figures, stored, "t_uploads_total",
	    "result=\"stored\"", "Uploads by result."),
	METRIC_COUNTER(struct figures, refused, "t_uploads_total",
	    "result=\"refused\"", "Uploads by result."),
	METRIC_GAUGE(struct figures, queued, "t_queued", NULL, "Queued."),
	{ "hidden", NULL, NULL, 0, NULL, offsetof(struct figures, hidden) },
};

static void
test_text(void **state)
{
	struct figures	 f = { 3, UINT64_MAX, 0, 7 };
	struct evbuffer	*b = evbuffer_new();
	char		*text;
	size_t		 len;

	(void)state;
	metrics_text(b, METRICS(rows), &f);
	len = evbuffer_get_length(b);
	text = calloc(1, len + 1);
	evbuffer_remove(b, text, len);
	assert_string_equal(text,
	    "# HELP t_uploads_total Uploads by result.\n"
	    "# TYPE t_uploads_total counter\n"
	    "t_uploads_total{result=\"stored\"} 3\n"
	    "t_uploads_total{result=\"refused\"} 18446744073709551615\n"
	    "# HELP t_queued Queued.\n"
	    "# TYPE t_queued gauge\n"
	    "t_queued 0\n");
	free(text);
	evbuffer_free(b);
}

static void
test_json(void **state)
{
	struct figures	 f = { 3, 4, 5, 7 };
	json_t		*o = json_object();
	char		*text;

	(void)state;
	metrics_json(o, METRICS(rows), &f);
	text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text,
	    "{\"hidden\":7,\"queued\":5,\"refused\":4,\"stored\":3}");
	free(text);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
