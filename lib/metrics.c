/*
 * Status figures as JSON and as Prometheus text from one table
 * (metrics.h).
 */
#include <string.h>

#include <event2/buffer.h>

#include "metrics.h"

static uint64_t
metrics_value(const struct metric *m, const void *base)
{
	uint64_t v;

	memcpy(&v, (const char *)base + m->offset, sizeof(v));
	return v;
}

void
metrics_json(json_t *status, const struct metric *m, size_t n,
    const void *base)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].key != NULL)
			json_object_set_new(status, m[i].key, json_integer(
			    (json_int_t)metrics_value(&m[i], base)));
}

void
metrics_head(struct evbuffer *b, const char *name, int is_gauge,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, is_gauge ? "gauge" : "counter");
}

void
metrics_text(struct evbuffer *b, const struct metric *m, size_t n,
    const void *base)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (m[i].name == NULL)
			continue;
		if (i == 0 || m[i - 1].name == NULL ||
		    strcmp(m[i - 1].name, m[i].name) != 0)
			metrics_head(b, m[i].name, m[i].is_gauge, m[i].help);
		evbuffer_add_printf(b, "%s%s%s%s %llu\n", m[i].name,
		    m[i].labels != NULL ? "{" : "",
		    m[i].labels != NULL ? m[i].labels : "",
		    m[i].labels != NULL ? "}" : "",
		    (unsigned long long)metrics_value(&m[i], base));
	}
}
