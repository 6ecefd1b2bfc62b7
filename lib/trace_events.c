#include <sys/stat.h>

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "ctf_dir.h"
#include "errbuf.h"
#include "file.h"
#include "trace_events.h"
#include "text.h"
#include "trace_reader.h"

struct te_result {
	const struct trace_query	*q;
	json_t				*events;
	size_t				 n;
	int				 is_truncated;
};

/* Per stream file of the ctf_dir, the clock that dates its packets. */
struct te_clocks {
	const struct ctf_dir		 *dir;
	const struct trace_stream	**of;	/* flat: trace by trace */
	size_t				 *base;	/* first index of each trace */
	const struct trace_query	 *q;
};

void
trace_query_init(struct trace_query *q)
{
	memset(q, 0, sizeof(*q));
	q->vpid = q->vtid = -1;
	q->limit = TRACE_EVENTS_LIMIT_DEFAULT;
	q->tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	q->max_range_bytes = 256u << 20;
}

/* A kernel event about the thread names it in its payload. */
static int
te_mentions_thread(const struct trace_event *ev, int64_t tid)
{
	static const char *const fields[] = { "tid", "prev_tid", "next_tid" };
	int64_t	 v;
	size_t	 i;

	if (strcmp(ev->stream->domain, "kernel") != 0)
		return 0;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (trace_field_int(trace_event_member(ev,
		    trace_class_member(ev->cls, fields[i])), &v) == 0 &&
		    v == tid)
			return 1;
	return 0;
}

static int
te_on_event(void *arg, struct trace_event *ev)
{
	struct te_result		*r = arg;
	const struct trace_query	*q = r->q;
	char				 procname[64];
	int				 is_thread;

	if (q->from_ns != 0 && ev->ts_ns < q->from_ns)
		return 0;
	if (q->name[0] != '\0' && fnmatch(q->name, ev->cls->name, 0) != 0)
		return 0;
	if (q->vtid >= 0) {
		is_thread = ev->vtid == q->vtid &&
		    (q->vpid < 0 || ev->vpid == q->vpid);
		if (!is_thread && !te_mentions_thread(ev, q->vtid))
			return 0;
	} else if (q->vpid >= 0 && ev->vpid != q->vpid) {
		return 0;
	}
	if (r->n >= q->limit) {
		r->is_truncated = 1;
		return 1;
	}
	text_utf8_copy(procname, sizeof(procname), ev->procname ?
	    ev->procname : "", ev->procname ? strlen(ev->procname) : 0);
	json_array_append_new(r->events, json_pack("{s:I, s:s, s:s, s:I, "
	    "s:I, s:I, s:s, s:o}", "ts_ns", (json_int_t)ev->ts_ns,
	    "name", ev->cls->name, "domain", ev->stream->domain,
	    "cpu", (json_int_t)ev->cpu, "vpid", (json_int_t)ev->vpid,
	    "vtid", (json_int_t)ev->vtid, "procname", procname,
	    "fields", trace_field_payload(ev)));
	r->n++;
	return 0;
}

static int
te_keep(const struct ctf_trace_dir *t, const struct ctf_stream_file *f,
    const struct ctf_packet *p, void *arg)
{
	const struct te_clocks		*c = arg;
	const struct trace_stream	*st;
	size_t				 i = (size_t)(t - c->dir->traces);
	int64_t				 begin, end;

	st = c->of[c->base[i] + (size_t)(f - t->streams)];
	if (st == NULL || trace_stream_ns(st, p->ts_begin, &begin) == -1 ||
	    trace_stream_ns(st, p->ts_end, &end) == -1)
		return 1;	/* undated: decoded, and filtered by time */
	return (c->q->to_ns == 0 || begin <= c->q->to_ns) &&
	    (c->q->from_ns == 0 || end >= c->q->from_ns);
}

/*
 * Writes the packets of the range under a new temporary directory and
 * points dirs[] at the traces written there. Returns the number of
 * traces, or -1 with err set.
 */
static int
te_subset(const struct ctf_dir *dir, const struct trace_query *q,
    char *tmp, size_t tmplen, char (*paths)[PATH_MAX], uint64_t *bytes,
    char *err, size_t errlen)
{
	static const struct trace_reader_ops probe_ops = { NULL, NULL, NULL };
	struct trace_run		 probe;
	struct te_clocks		 c;
	const struct ctf_stream_file	*f;
	const char			**dirs;
	struct stat			 st;
	size_t				 i, n = 0, total = 0;
	int64_t				 written;
	int				 ret = -1;

	memset(&probe, 0, sizeof(probe));
	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.q = q;
	dirs = calloc(dir->ntraces, sizeof(*dirs));
	c.base = calloc(dir->ntraces, sizeof(*c.base));
	for (i = 0; i < dir->ntraces; i++) {
		if (c.base != NULL)
			c.base[i] = total;
		total += dir->traces[i].nstreams;
	}
	c.of = calloc(total + 1, sizeof(*c.of));
	if (dirs == NULL || c.base == NULL || c.of == NULL) {
		errbuf_set(err, errlen, "out of memory");
		goto end;
	}
	/* Each stream's clock, from its first packet only. */
	for (i = 0; i < dir->ntraces; i++)
		dirs[i] = dir->traces[i].path;
	probe.dirs = dirs;
	probe.ndirs = dir->ntraces;
	probe.is_clock_probe = 1;
	if (trace_reader_run(&probe, &probe_ops, NULL) == -1) {
		errbuf_set(err, errlen, "%s", probe.error);
		goto end;
	}
	for (i = 0; i < probe.nstreams; i++) {
		const struct ctf_trace_dir *t;

		if ((f = ctf_dir_find_stream(dir, probe.streams[i].path, &t)) !=
		    NULL)
			c.of[c.base[t - dir->traces] + (size_t)(f - t->streams)] =
			    &probe.streams[i];
	}
	if ((size_t)snprintf(tmp, tmplen, "%s/tracetrap-events.XXXXXX",
	    q->tmpdir) >= tmplen || mkdtemp(tmp) == NULL) {
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		tmp[0] = '\0';
		goto end;
	}
	if ((written = ctf_dir_write_subset(dir, tmp, te_keep, &c,
	    q->max_range_bytes, err, errlen)) == -1)
		goto end;
	*bytes = (uint64_t)written;
	for (i = 0; i < dir->ntraces; i++) {
		snprintf(paths[n], PATH_MAX, "%s/%s", tmp, dir->traces[i].rel);
		if (stat(paths[n], &st) == 0)
			n++;
	}
	ret = (int)n;
end:
	trace_run_free(&probe);
	free(dirs);
	free(c.base);
	free(c.of);
	return ret;
}

json_t *
trace_events_query(const char *dir, const struct trace_query *q, char *err,
    size_t errlen)
{
	static const struct trace_reader_ops ops = { te_on_event, NULL, NULL };
	struct trace_run	 run;
	struct te_result	 r = { q, NULL, 0, 0 };
	struct ctf_dir		 ctf;
	char			 root[PATH_MAX], tmp[PATH_MAX] = "";
	char			(*paths)[PATH_MAX] = NULL;
	const char		**dirs = NULL;
	uint64_t		 bytes = 0;
	size_t			 i;
	int			 n, is_seek = 0, is_partial;
	json_t			*out = NULL;

	memset(&run, 0, sizeof(run));
	analyze_trace_root(dir, root, sizeof(root));
	if (ctf_dir_scan(root, &ctf, err, errlen) == -1)
		return NULL;
	paths = calloc(ctf.ntraces, sizeof(*paths));
	dirs = calloc(ctf.ntraces, sizeof(*dirs));
	if (paths == NULL || dirs == NULL) {
		errbuf_set(err, errlen, "out of memory");
		goto end;
	}
	if (q->from_ns != 0 || q->to_ns != 0) {
		if ((n = te_subset(&ctf, q, tmp, sizeof(tmp), paths, &bytes, err,
		    errlen)) == -1)
			goto end;
		for (i = 0; i < (size_t)n; i++)
			dirs[i] = paths[i];
		run.ndirs = (size_t)n;
		is_seek = 1;
	} else {
		for (i = 0; i < ctf.ntraces; i++)
			dirs[i] = ctf.traces[i].path;
		run.ndirs = ctf.ntraces;
		bytes = ctf.bytes;
	}
	r.events = json_array();
	if (run.ndirs > 0) {
		run.dirs = dirs;
		run.stop_after_ns = q->to_ns;
		run.cpu_budget_ns = q->cpu_budget_ms * 1000000;
		if (trace_reader_run(&run, &ops, &r) == -1) {
			errbuf_set(err, errlen, "%s", run.error);
			json_decref(r.events);
			goto end;
		}
	}
	/* The CPU budget or a packet that cannot be decoded: said so. */
	is_partial = run.is_partial && !r.is_truncated;
	out = json_pack("{s:o, s:b, s:s, s:I}", "events", r.events,
	    "truncated", r.is_truncated || is_partial,
	    "seek", is_seek ? "packets" : "whole",
	    "packets_bytes", (json_int_t)bytes);
	if (is_partial && run.partial_reason[0] != '\0')
		json_object_set_new(out, "note", json_string(run.partial_reason));
end:
	trace_run_free(&run);
	if (tmp[0] != '\0')
		file_remove_tree(tmp, 0, NULL, 0);
	free(paths);
	free(dirs);
	ctf_dir_free(&ctf);
	return out;
}
