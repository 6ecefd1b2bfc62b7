/*
 * tracetrap show ID|INCIDENT|DIR [--json] [--all] [relay options]
 *
 * What a snapshot (or every snapshot of an incident) says, in the
 * terminal: how far back the trace goes and whether the ring overflowed,
 * the triggers, the slowest requests, per-URI figures, statuses,
 * processes, events and on-CPU time. From the relay's summaries, or from
 * a local snapshot directory (a spool entry, a fetched one) analyzed on
 * the spot, with no relay at all.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "render.h"

#define SHOW_ROWS	10

struct show_opts {
	size_t	 rows;
	int	 is_json;
};

static void
show_usage(void)
{
	fprintf(stderr,
	    "usage: tracetrap show ID|INCIDENT|DIR [--json] [--all] "
	    "[--relay URL] [--token TOKEN]\n"
	    "                      [--ca FILE --cert FILE --key FILE]\n"
	    "DIR is a snapshot directory (a spool entry, or one `tracetrap "
	    "fetch` wrote):\nit is analyzed here, no relay needed.\n");
}

static const char *
show_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static uint64_t
show_u64(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

static int64_t
show_i64(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

/* The warnings an investigator must see before believing the rest. */
static void
show_warnings(const json_t *s, const char *indent)
{
	const json_t	*history = json_object_get(s, "history");
	char		 when[64], n[32];

	if (json_object_get(s, "error") != NULL) {
		printf("%s! the trace could not be read: ", indent);
		render_text(stdout, show_str(s, "error"), 400);
		putchar('\n');
	}
	if (json_is_true(json_object_get(history, "overflowed"))) {
		render_time(show_i64(history, "complete_since_ns"), 1, when,
		    sizeof(when));
		render_count(show_u64(history, "lost_packets"), n, sizeof(n));
		printf("%s! the ring overflowed: history before %s is gone "
		    "(%s packets overwritten or discarded)\n", indent, when, n);
	} else if (json_is_null(json_object_get(history, "overflowed")) &&
	    history != NULL) {
		printf("%s! whether the ring overflowed is unknown (packets "
		    "could not be indexed)\n", indent);
	}
	if (show_u64(s, "discarded_events") > 0) {
		render_count(show_u64(s, "discarded_events"), n, sizeof(n));
		printf("%s! %s events were discarded by the tracer\n", indent,
		    n);
	}
	if (json_is_true(json_object_get(s, "partial"))) {
		printf("%s! partial summary: ", indent);
		render_text(stdout, show_str(s, "partial_reason"), 300);
		putchar('\n');
	}
}

static void
show_header(const json_t *s)
{
	const json_t	*span = json_object_get(s, "span");
	char		 a[64], b[64], events[32], bytes[32], dur[32];
	int64_t		 first = show_i64(span, "first_ns");
	int64_t		 last = show_i64(span, "last_ns");

	printf("snapshot ");
	render_text(stdout, show_str(s, "id")[0] ? show_str(s, "id") :
	    "(no manifest)", 200);
	printf("\n  node ");
	render_text(stdout, show_str(s, "node")[0] ? show_str(s, "node") :
	    "-", 100);
	printf(", taken ");
	render_text(stdout, show_str(s, "taken_at")[0] ?
	    show_str(s, "taken_at") : "-", 64);
	if (show_str(s, "incident")[0] != '\0') {
		printf(", incident ");
		render_text(stdout, show_str(s, "incident"), 200);
	}
	putchar('\n');
	render_count(show_u64(s, "events"), events, sizeof(events));
	render_bytes(show_u64(s, "trace_bytes"), bytes, sizeof(bytes));
	render_time(first, 1, a, sizeof(a));
	render_time(last, 0, b, sizeof(b));
	render_duration_us(last > first ? (uint64_t)(last - first) / 1000 : 0,
	    dur, sizeof(dur));
	printf("  trace: %s events over %s (%s .. %s UTC), %s\n", events, dur,
	    a, b, bytes);
	show_warnings(s, "  ");
}

static void
show_triggers(const json_t *s)
{
	static const char *const head[] = { "RECEIVED", "SOURCE", "REASON",
	    "FOUND IN THE TRACE" };
	const json_t	*t, *ev;
	struct table	*tab;
	char		 when[64], found[256];
	const char	*cells[4];
	size_t		 i;

	if (json_array_size(json_object_get(s, "triggers")) == 0)
		return;
	printf("\ntriggers\n");
	tab = table_new(head, 4);
	json_array_foreach(json_object_get(s, "triggers"), i, t) {
		render_time(show_i64(t, "received_at_ns"), 0, when, sizeof(when));
		found[0] = '\0';
		if (json_object_get(t, "request_id") != NULL)
			snprintf(found, sizeof(found), "request %s%s",
			    show_str(t, "request_id"), json_is_true(
			    json_object_get(t, "request_found")) ? "" :
			    " (not in the trace)");
		else if ((ev = json_object_get(t, "event")) != NULL &&
		    json_is_object(ev)) {
			render_time(show_i64(ev, "ts_ns"), 0, when, sizeof(when));
			snprintf(found, sizeof(found), "%s at %s, vtid %lld",
			    show_str(ev, "name"), when,
			    (long long)show_i64(ev, "vtid"));
			render_time(show_i64(t, "received_at_ns"), 0, when,
			    sizeof(when));
		} else if (json_object_get(t, "event") != NULL)
			snprintf(found, sizeof(found), "event not found");
		if (json_is_true(json_object_get(t, "after_freeze")))
			strncat(found, " (after the freeze)",
			    sizeof(found) - strlen(found) - 1);
		cells[0] = when;
		cells[1] = show_str(t, "source");
		cells[2] = show_str(t, "reason");
		cells[3] = found;
		table_add(tab, cells);
	}
	table_print(tab, stdout, 60);
	table_free(tab);
}

/* The requests of one or several snapshots (node column when several). */
static void
show_requests(const json_t *requests, size_t rows, int has_node,
    uint64_t total, uint64_t in_flight)
{
	static const char *const head[] = { "NODE", ">DURATION", ">STATUS",
	    "METHOD", "URI", "VHOST", ">VPID", ">VTID", "BEGIN", "NOTE" };
	const json_t	*r;
	struct table	*tab;
	const char	*cells[10];
	char		 dur[32], status[16], vpid[24], vtid[24], begin[64];
	char		 a[32], b[32];
	size_t		 i, skip = has_node ? 0 : 1;

	if (json_array_size(requests) == 0)
		return;
	render_count(total, a, sizeof(a));
	render_count(in_flight, b, sizeof(b));
	printf("\nslowest requests (%s completed, %s in flight)\n", a, b);
	tab = table_new(head + skip, 10 - skip);
	json_array_foreach(requests, i, r) {
		if (i >= rows)
			break;
		render_duration_us(show_u64(r, "duration_us"), dur, sizeof(dur));
		snprintf(status, sizeof(status), "%lld",
		    (long long)show_i64(r, "status"));
		snprintf(vpid, sizeof(vpid), "%lld", (long long)show_i64(r,
		    "vpid"));
		snprintf(vtid, sizeof(vtid), "%lld", (long long)show_i64(r,
		    "vtid"));
		render_time(show_i64(r, "begin_ns"), 0, begin, sizeof(begin));
		cells[0] = show_str(r, "node");
		cells[1] = dur;
		cells[2] = json_is_true(json_object_get(r, "in_flight")) ? "" :
		    status;
		cells[3] = show_str(r, "method");
		cells[4] = show_str(r, "uri");
		cells[5] = show_str(r, "vhost");
		cells[6] = vpid;
		cells[7] = vtid;
		cells[8] = begin;
		cells[9] = json_is_true(json_object_get(r, "in_flight")) ?
		    "in flight" : json_is_true(json_object_get(r,
		    "triggered")) ? "triggered" : "";
		table_add(tab, cells + skip);
	}
	table_print(tab, stdout, 48);
	table_free(tab);
}

static void
show_uris(const json_t *s, size_t rows)
{
	static const char *const head[] = { "URI", ">COUNT", ">ERRORS",
	    ">P50", ">P99", ">MAX" };
	const json_t	*u;
	struct table	*tab;
	const char	*cells[6];
	char		 count[32], errors[32], p50[32], p99[32], max[32];
	size_t		 i;

	if (json_array_size(json_object_get(s, "uris")) == 0)
		return;
	printf("\nper URI\n");
	tab = table_new(head, 6);
	json_array_foreach(json_object_get(s, "uris"), i, u) {
		if (i >= rows)
			break;
		render_count(show_u64(u, "count"), count, sizeof(count));
		render_count(show_u64(u, "errors"), errors, sizeof(errors));
		render_duration_us(show_u64(u, "p50_us"), p50, sizeof(p50));
		render_duration_us(show_u64(u, "p99_us"), p99, sizeof(p99));
		render_duration_us(show_u64(u, "max_us"), max, sizeof(max));
		cells[0] = show_str(u, "uri");
		cells[1] = count;
		cells[2] = errors;
		cells[3] = p50;
		cells[4] = p99;
		cells[5] = max;
		table_add(tab, cells);
	}
	table_print(tab, stdout, 48);
	table_free(tab);
	if (json_object_size(json_object_get(s, "status_counts")) > 0) {
		const char	*code;
		const json_t	*n;

		printf("  statuses:");
		json_object_foreach((json_t *)json_object_get(s,
		    "status_counts"), code, n) {
			render_count((uint64_t)json_integer_value(n), count,
			    sizeof(count));
			printf(" ");
			render_text(stdout, code, 8);
			printf(" x%s", count);
		}
		putchar('\n');
	}
}

struct show_name {
	const char	*name;
	json_int_t	 count;
};

static int
show_by_count(const void *a, const void *b)
{
	const struct show_name *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 :
	    strcmp(x->name, y->name);
}

static void
show_counts(const json_t *s, size_t rows)
{
	static const char *const phead[] = { ">VPID", "PROCNAME", ">EVENTS" };
	static const char *const nhead[] = { "EVENT", ">COUNT" };
	const json_t		*p, *names = json_object_get(s, "by_name");
	struct show_name	*sorted;
	const char		*cells[3], *name;
	struct table		*tab;
	char			 vpid[24], events[32];
	size_t			 i, n = 0;
	json_t			*v;

	if (json_array_size(json_object_get(s, "by_process")) > 0) {
		printf("\nprocesses\n");
		tab = table_new(phead, 3);
		json_array_foreach(json_object_get(s, "by_process"), i, p) {
			if (i >= rows)
				break;
			snprintf(vpid, sizeof(vpid), "%lld",
			    (long long)show_i64(p, "vpid"));
			render_count(show_u64(p, "events"), events,
			    sizeof(events));
			cells[0] = vpid;
			cells[1] = show_str(p, "procname");
			cells[2] = events;
			table_add(tab, cells);
		}
		table_print(tab, stdout, 40);
		table_free(tab);
	}
	if (json_object_size(names) == 0 ||
	    (sorted = calloc(json_object_size(names), sizeof(*sorted))) ==
	    NULL)
		return;
	json_object_foreach((json_t *)names, name, v) {
		sorted[n].name = name;
		sorted[n++].count = json_integer_value(v);
	}
	qsort(sorted, n, sizeof(*sorted), show_by_count);
	printf("\nevents\n");
	tab = table_new(nhead, 2);
	for (i = 0; i < n && i < rows; i++) {
		render_count((uint64_t)sorted[i].count, events, sizeof(events));
		cells[0] = sorted[i].name;
		cells[1] = events;
		table_add(tab, cells);
	}
	table_print(tab, stdout, 60);
	table_free(tab);
	free(sorted);
}

static void
show_kernel(const json_t *s, size_t rows)
{
	static const char *const head[] = { ">TID", "COMM", ">ON CPU",
	    ">SWITCHED IN" };
	const json_t	*k = json_object_get(s, "kernel"), *t;
	struct table	*tab;
	const char	*cells[4];
	char		 tid[24], oncpu[32], sw[32];
	size_t		 i;

	if (k == NULL)
		return;
	if (!json_is_true(json_object_get(k, "present"))) {
		printf("\nkernel: not in this snapshot: ");
		render_text(stdout, show_str(k, "reason"), 300);
		putchar('\n');
		return;
	}
	printf("\non-CPU time (kernel sched_switch)\n");
	tab = table_new(head, 4);
	json_array_foreach(json_object_get(k, "threads"), i, t) {
		if (i >= rows)
			break;
		snprintf(tid, sizeof(tid), "%lld", (long long)show_i64(t, "tid"));
		render_duration_us(show_u64(t, "oncpu_ns") / 1000, oncpu,
		    sizeof(oncpu));
		render_count(show_u64(t, "switches_in"), sw, sizeof(sw));
		cells[0] = tid;
		cells[1] = show_str(t, "comm");
		cells[2] = oncpu;
		cells[3] = sw;
		table_add(tab, cells);
	}
	table_print(tab, stdout, 40);
	table_free(tab);
}

void
show_snapshot(const json_t *s, size_t rows)
{
	show_header(s);
	show_triggers(s);
	show_requests(json_object_get(s, "requests"), rows, 0,
	    show_u64(s, "requests_total"), show_u64(s, "requests_in_flight"));
	show_uris(s, rows);
	show_counts(s, rows);
	show_kernel(s, rows);
}

static int
show_slowest_first(const void *a, const void *b)
{
	uint64_t x = show_u64(*(const json_t *const *)a, "duration_us");
	uint64_t y = show_u64(*(const json_t *const *)b, "duration_us");

	return x < y ? 1 : x > y ? -1 : 0;
}

/* An incident: one line per node, then the requests of all nodes. */
static void
show_incident(const json_t *incident, size_t rows)
{
	const json_t	*snap, *sum, *r;
	json_t		*all = json_array(), *copy;
	const json_t	**sorted;
	char		 events[32], slowest[32], a[64];
	uint64_t	 total = 0, in_flight = 0;
	size_t		 i, j, n;

	printf("incident ");
	render_text(stdout, show_str(incident, "id"), 200);
	printf("\n");
	json_array_foreach(json_object_get(incident, "snapshots"), i, snap) {
		sum = json_object_get(snap, "summary");
		printf("  ");
		render_text(stdout, show_str(snap, "node"), 64);
		printf("  ");
		render_text(stdout, show_str(snap, "id"), 200);
		if (sum == NULL || json_is_null(sum)) {
			printf("  (not analyzed yet)\n");
			continue;
		}
		render_count(show_u64(sum, "events"), events, sizeof(events));
		r = json_array_get(json_object_get(sum, "requests"), 0);
		render_duration_us(show_u64(r, "duration_us"), slowest,
		    sizeof(slowest));
		render_time(show_i64(json_object_get(sum, "span"), "first_ns"), 0,
		    a, sizeof(a));
		printf("  %s events since %s, slowest request %s\n", events, a,
		    r ? slowest : "-");
		show_warnings(sum, "    ");
		total += show_u64(sum, "requests_total");
		in_flight += show_u64(sum, "requests_in_flight");
		json_array_foreach(json_object_get(sum, "requests"), j, r) {
			copy = json_deep_copy(r);
			json_object_set_new(copy, "node",
			    json_string(show_str(snap, "node")));
			json_array_append_new(all, copy);
		}
	}
	n = json_array_size(all);
	if ((sorted = calloc(n + 1, sizeof(*sorted))) != NULL) {
		for (i = 0; i < n; i++)
			sorted[i] = json_array_get(all, i);
		qsort(sorted, n, sizeof(*sorted), show_slowest_first);
		copy = json_array();
		for (i = 0; i < n; i++)
			json_array_append(copy, (json_t *)sorted[i]);
		show_requests(copy, rows, 1, total, in_flight);
		json_decref(copy);
		free(sorted);
	}
	json_decref(all);
}

static int
show_local(const char *dir, const struct show_opts *o)
{
	json_t	*summary;
	int	 code;

	summary = cli_analyze(dir);
	if (o->is_json)
		code = render_json(summary);
	else {
		show_snapshot(summary, o->rows);
		code = EXIT_OK;
	}
	if (json_object_get(summary, "error") != NULL && !o->is_json) {
		fprintf(stderr, "tracetrap: show: %s: no readable trace\n", dir);
		code = EXIT_REFUSED;
	}
	json_decref(summary);
	return code;
}

static int
show_remote(const struct http_endpoint *ep, const char *id,
    const struct show_opts *o)
{
	json_t	*answer = NULL;
	char	 target[512];
	int	 code;

	if (!remote_id_is_valid(id))
		return EXIT_USAGE;
	snprintf(target, sizeof(target), "/v1/snapshots/%s/summary", id);
	code = remote_get_json_quiet(ep, target, "show", &answer);
	if (code == EXIT_OK) {
		code = o->is_json ? render_json(answer) : EXIT_OK;
		if (!o->is_json)
			show_snapshot(answer, o->rows);
	} else if (code == REMOTE_NOT_FOUND) {
		snprintf(target, sizeof(target), "/v1/incidents/%s", id);
		code = remote_get_json(ep, target, "show", &answer);
		if (code == EXIT_OK && o->is_json)
			render_json(answer);
		else if (code == EXIT_OK)
			show_incident(answer, o->rows);
	}
	json_decref(answer);
	return code;
}

int
show_main(int argc, char **argv)
{
	static const struct option options[] = {
		REMOTE_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_opts	 o = { SHOW_ROWS, 0 };
	struct remote_opts	 ro;
	struct http_endpoint	 ep;
	struct stat		 st;
	int			 ch;

	remote_opts_init(&ro);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "ja", options, NULL)) != -1) {
		if (remote_opts_take(&ro, ch, optarg))
			continue;
		switch (ch) {
		case 'j':
			o.is_json = 1;
			break;
		case 'a':
			o.rows = SIZE_MAX;
			break;
		default:
			show_usage();
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		show_usage();
		return EXIT_USAGE;
	}
	if (stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode))
		return show_local(argv[optind], &o);
	if (remote_open(&ep, &ro) == -1)
		return EXIT_USAGE;
	return show_remote(&ep, argv[optind], &o);
}
