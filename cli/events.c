/*
 * tracetrap events ID|DIR [--request ID] [--vpid N] [--vtid N]
 *                  [--from T] [--to T] [--name PATTERN] [--limit N]
 *                  [--json] [relay options]
 *
 * The drill-down: the events of a time range, a process or a thread,
 * with times relative to the start of the range. --request takes the
 * range, process and thread of one HTTP request from the summary, so
 * `tracetrap events ID --request R` lists what that request did. From
 * the relay, or from a local snapshot directory with no relay.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "render.h"
#include "trace_events.h"

enum {
	EVENTS_OPT_REQUEST = 0x200,
	EVENTS_OPT_VPID,
	EVENTS_OPT_VTID,
	EVENTS_OPT_FROM,
	EVENTS_OPT_TO,
	EVENTS_OPT_NAME,
	EVENTS_OPT_LIMIT,
	EVENTS_OPT_JSON,
};

static void
events_usage(void)
{
	fprintf(stderr,
	    "usage: tracetrap events ID|DIR [--request ID] [--vpid N] "
	    "[--vtid N] [--from T] [--to T]\n"
	    "                        [--name PATTERN] [--limit N] [--json] "
	    "[--relay URL] [--token TOKEN]\n"
	    "T is nanoseconds since the epoch or RFC 3339 UTC "
	    "(2026-12-06T14:02:12.488123Z);\nPATTERN a glob on the event "
	    "name (tracetrap_httpd:*); at most %d events; " REMOTE_USAGE,
	    TRACE_EVENTS_LIMIT_MAX);
}

/* A request of the summary: its range, process and thread. */
static int
events_from_request(const json_t *summary, const char *id,
    struct trace_query *q)
{
	const json_t	*r;
	size_t		 i;

	json_array_foreach(json_object_get(summary, "requests"), i, r) {
		if (strcmp(json_string_value(json_object_get(r, "request_id")) ?:
		    "", id) != 0)
			continue;
		q->from_ns = json_integer_value(json_object_get(r, "begin_ns"));
		q->to_ns = json_integer_value(json_object_get(r, "end_ns"));
		if (q->to_ns == 0)	/* in flight: to the end */
			q->to_ns = json_integer_value(json_object_get(
			    json_object_get(summary, "span"), "end_ns"));
		q->vpid = json_integer_value(json_object_get(r, "vpid"));
		/* Begun and ended on one thread: that thread; else the process. */
		q->vtid = json_integer_value(json_object_get(r, "vtid")) ==
		    json_integer_value(json_object_get(r, "begin_vtid")) ?
		    json_integer_value(json_object_get(r, "vtid")) : -1;
		return 0;
	}
	fprintf(stderr, "tracetrap: events: request ");
	render_text(stderr, id, 200);
	fprintf(stderr, " is not among the requests of the summary "
	    "(`tracetrap show` lists them)\n");
	return -1;
}

static void
events_fields(const json_t *fields, char *buf, size_t len)
{
	const char	*key;
	const json_t	*v;
	size_t		 at = 0;
	char		*text;
	int		 n;

	buf[0] = '\0';
	json_object_foreach((json_t *)fields, key, v) {
		if (json_is_string(v))
			n = snprintf(buf + at, len - at, "%s%s=\"%s\"",
			    at ? " " : "", key, json_string_value(v));
		else {
			text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			n = snprintf(buf + at, len - at, "%s%s=%s", at ? " " : "",
			    key, text ? text : "?");
			free(text);
		}
		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
	}
}

static void
events_table(const json_t *answer, int64_t origin)
{
	static const char *const head[] = { ">TIME", "EVENT", ">CPU",
	    ">VPID", ">VTID", "FIELDS" };
	const json_t	*e;
	struct table	*tab;
	const char	*cells[6];
	char		 rel[32], cpu[16], vpid[24], vtid[24], fields[1024];
	size_t		 i;
	int64_t		 ts;

	tab = table_new(head, 6);
	json_array_foreach(json_object_get(answer, "events"), i, e) {
		ts = json_integer_value(json_object_get(e, "ts_ns"));
		if (origin == 0)
			origin = ts;
		snprintf(rel, sizeof(rel), "%+.6f ms", (double)(ts - origin) /
		    1e6);
		snprintf(cpu, sizeof(cpu), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(e, "cpu")));
		snprintf(vpid, sizeof(vpid), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(e, "vpid")));
		snprintf(vtid, sizeof(vtid), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(e, "vtid")));
		events_fields(json_object_get(e, "fields"), fields,
		    sizeof(fields));
		cells[0] = rel;
		cells[1] = json_string_value(json_object_get(e, "name"));
		cells[2] = cpu;
		cells[3] = vpid;
		cells[4] = vtid;
		cells[5] = fields;
		table_add(tab, cells);
	}
	table_print(tab, stdout, 200);
	table_free(tab);
	if (json_is_true(json_object_get(answer, "truncated")))
		printf("(truncated: narrow the range, or raise --limit)\n");
}

static int
events_print(const json_t *answer, int64_t origin, int is_json)
{
	char	*text;
	char	 when[64];

	if (is_json) {
		text = json_dumps(answer, JSON_INDENT(2));
		printf("%s\n", text ? text : "{}");
		free(text);
		return EXIT_OK;
	}
	if (json_array_size(json_object_get(answer, "events")) == 0) {
		fprintf(stderr, "no event matches\n");
		return EXIT_OK;
	}
	if (origin == 0)
		origin = json_integer_value(json_object_get(json_array_get(
		    json_object_get(answer, "events"), 0), "ts_ns"));
	render_time(origin, 1, when, sizeof(when));
	printf("times relative to %s UTC\n", when);
	events_table(answer, origin);
	return EXIT_OK;
}

static int
events_local(const char *dir, struct trace_query *q, const char *request,
    int is_json)
{
	json_t	*summary, *answer;
	int	 code;

	if (request != NULL) {
		summary = cli_analyze(dir);
		code = events_from_request(summary, request, q);
		json_decref(summary);
		if (code == -1)
			return EXIT_REFUSED;
	}
	answer = cli_events(dir, q);
	if (json_object_get(answer, "error") != NULL) {
		fprintf(stderr, "tracetrap: events: ");
		render_text(stderr, json_string_value(json_object_get(answer,
		    "error")), 500);
		fprintf(stderr, "\n");
		json_decref(answer);
		return EXIT_REFUSED;
	}
	code = events_print(answer, q->from_ns, is_json);
	json_decref(answer);
	return code;
}

static int
events_remote(const struct http_endpoint *ep, const char *id,
    struct trace_query *q, const char *request, int is_json)
{
	json_t	*summary, *answer;
	char	 query[1024] = "", target[1400], num[32];
	int	 code;

	if (!remote_id_is_valid(id))
		return EXIT_USAGE;
	if (request != NULL) {
		snprintf(target, sizeof(target), "/v1/snapshots/%s/summary", id);
		if ((code = remote_get_json(ep, target, "events", &summary)) !=
		    EXIT_OK)
			return code;
		code = events_from_request(summary, request, q);
		json_decref(summary);
		if (code == -1)
			return EXIT_REFUSED;
	}
#define EVENTS_ADD(key, cond, fmt, v) do { \
	if (cond) { \
		snprintf(num, sizeof(num), fmt, v); \
		remote_query_add(query, sizeof(query), key, num); \
	} \
} while (0)
	EVENTS_ADD("from", q->from_ns != 0, "%" PRId64, q->from_ns);
	EVENTS_ADD("to", q->to_ns != 0, "%" PRId64, q->to_ns);
	EVENTS_ADD("vpid", q->vpid >= 0, "%" PRId64, q->vpid);
	EVENTS_ADD("vtid", q->vtid >= 0, "%" PRId64, q->vtid);
	EVENTS_ADD("limit", 1, "%zu", q->limit);
#undef EVENTS_ADD
	if (q->name[0] != '\0' &&
	    remote_query_add(query, sizeof(query), "name", q->name) == -1) {
		fprintf(stderr, "tracetrap: events: --name too long\n");
		return EXIT_USAGE;
	}
	snprintf(target, sizeof(target), "/v1/snapshots/%s/events%s", id,
	    query);
	if ((code = remote_get_json(ep, target, "events", &answer)) != EXIT_OK)
		return code;
	code = events_print(answer, q->from_ns, is_json);
	json_decref(answer);
	return code;
}

static int
events_number(const char *text, int64_t *v)
{
	char *end;

	*v = strtoll(text, &end, 10);
	return end == text || *end != '\0' || *v < 0 ? -1 : 0;
}

int
events_main(int argc, char **argv)
{
	static const struct option options[] = {
		REMOTE_OPTIONS,
		{ "request", required_argument, NULL, EVENTS_OPT_REQUEST },
		{ "vpid", required_argument, NULL, EVENTS_OPT_VPID },
		{ "vtid", required_argument, NULL, EVENTS_OPT_VTID },
		{ "from", required_argument, NULL, EVENTS_OPT_FROM },
		{ "to", required_argument, NULL, EVENTS_OPT_TO },
		{ "name", required_argument, NULL, EVENTS_OPT_NAME },
		{ "limit", required_argument, NULL, EVENTS_OPT_LIMIT },
		{ "json", no_argument, NULL, EVENTS_OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct trace_query	 q;
	struct remote_opts	 ro;
	struct http_endpoint	 ep;
	struct stat		 st;
	const char		*request = NULL;
	int64_t			 v;
	int			 ch, is_json = 0, is_bad = 0;

	trace_query_init(&q);
	remote_opts_init(&ro);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:t:", options, NULL)) != -1) {
		if (remote_opts_take(&ro, ch, optarg))
			continue;
		switch (ch) {
		case EVENTS_OPT_REQUEST:
			request = optarg;
			break;
		case EVENTS_OPT_VPID:
			is_bad |= events_number(optarg, &q.vpid);
			break;
		case EVENTS_OPT_VTID:
			is_bad |= events_number(optarg, &q.vtid);
			break;
		case EVENTS_OPT_FROM:
			is_bad |= render_parse_time(optarg, &q.from_ns);
			break;
		case EVENTS_OPT_TO:
			is_bad |= render_parse_time(optarg, &q.to_ns);
			break;
		case EVENTS_OPT_NAME:
			if (strlen(optarg) >= sizeof(q.name))
				is_bad = 1;
			else
				snprintf(q.name, sizeof(q.name), "%s", optarg);
			break;
		case EVENTS_OPT_LIMIT:
			is_bad |= events_number(optarg, &v) == -1 || v < 1 ||
			    v > TRACE_EVENTS_LIMIT_MAX;
			q.limit = (size_t)v;
			break;
		case EVENTS_OPT_JSON:
			is_json = 1;
			break;
		default:
			is_bad = 1;
			break;
		}
	}
	if (is_bad || optind + 1 != argc) {
		events_usage();
		return EXIT_USAGE;
	}
	if (stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode))
		return events_local(argv[optind], &q, request, is_json);
	if (remote_open(&ep, &ro) == -1)
		return EXIT_USAGE;
	return events_remote(&ep, argv[optind], &q, request, is_json);
}
