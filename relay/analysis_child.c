/*
 * The relay's analysis children (analysis.c runs them through
 * lib/isolate.c): the relay's own binary, started with --analyze or
 * --events, reads one snapshot and prints one JSON document on stdout.
 * They read the store and write nothing there but the drill-down's
 * temporary packets under --tmpdir.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "analyze.h"
#include "trace_events.h"

static int
analysis_child_i64(const char *text, int64_t *v)
{
	char *end;

	*v = strtoll(text, &end, 10);
	return end == text || *end != '\0' ? -1 : 0;
}

static int
analysis_child_print(json_t *answer)
{
	if (answer == NULL || json_dumpf(answer, stdout, JSON_COMPACT) == -1 ||
	    fflush(stdout) == EOF) {
		json_decref(answer);
		return 1;
	}
	json_decref(answer);
	return 0;
}

int
analysis_child_main(int argc, char **argv)
{
	struct analyze_options	 opt = { 0 };
	struct trace_query	 q;
	const char		*dir;
	char			 err[512];
	int64_t			 v;
	int			 i, is_events;

	if (argc < 3)
		goto usage;
	is_events = strcmp(argv[1], "--events") == 0;
	dir = argv[2];
	trace_query_init(&q);
	for (i = 3; i + 1 < argc; i += 2) {
		if (analysis_child_i64(argv[i + 1], &v) == -1 &&
		    strcmp(argv[i], "--name") != 0 &&
		    strcmp(argv[i], "--tmpdir") != 0)
			goto usage;
		if (strcmp(argv[i], "--budget") == 0)
			opt.cpu_budget_ms = q.cpu_budget_ms = (uint64_t)v;
		else if (strcmp(argv[i], "--from") == 0)
			q.from_ns = v;
		else if (strcmp(argv[i], "--to") == 0)
			q.to_ns = v;
		else if (strcmp(argv[i], "--vpid") == 0)
			q.vpid = v;
		else if (strcmp(argv[i], "--vtid") == 0)
			q.vtid = v;
		else if (strcmp(argv[i], "--limit") == 0 && v > 0 &&
		    v <= TRACE_EVENTS_LIMIT_MAX)
			q.limit = (size_t)v;
		else if (strcmp(argv[i], "--name") == 0 &&
		    strlen(argv[i + 1]) < sizeof(q.name))
			snprintf(q.name, sizeof(q.name), "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--tmpdir") == 0)
			q.tmpdir = argv[i + 1];
		else
			goto usage;
	}
	if (i != argc)
		goto usage;
	if (!is_events)
		return analysis_child_print(analyze_snapshot(dir, &opt));
	q.max_range_bytes = 256u << 20;
	{
		json_t *answer = trace_events_query(dir, &q, err, sizeof(err));

		if (answer == NULL)
			answer = json_pack("{s:s}", "error", err);
		return analysis_child_print(answer);
	}
usage:
	fprintf(stderr, "usage: tracetrap-relay --analyze DIR [--budget MS]\n"
	    "       tracetrap-relay --events DIR [--from NS] [--to NS] "
	    "[--vpid N] [--vtid N] [--name PATTERN] [--limit N] [--budget MS] "
	    "[--tmpdir DIR]\n");
	return 2;
}
