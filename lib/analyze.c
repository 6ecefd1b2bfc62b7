#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "analyze_http.h"
#include "ctf_dir.h"
#include "errbuf.h"
#include "text.h"
#include "trace_reader.h"

#define AN_PROCESSES_MAX	1024
#define AN_PROCESS_SLOTS	2048
#define AN_THREADS_MAX		4096
#define AN_THREAD_SLOTS		8192
#define AN_CPUS_MAX		1024
#define AN_BUCKETS		120
#define AN_SERIES_MAX		24	/* processes drawn in the timeline */
#define AN_LIST_MAX		200	/* processes, threads in the summary */
#define AN_TRIGGERS_MAX		256
#define AN_RULES_MAX		64	/* lttng triggers located in the trace */
#define AN_CAPTURES_MAX		16
#define AN_GAPS_MAX		50
#define AN_MATCH_BEFORE_NS	(10 * 1000000000LL)
#define AN_MATCH_SLACK_NS	(100 * 1000000LL)
#define AN_NAME_MAX		64

enum an_kind {
	AN_OTHER,
	AN_REQUEST_BEGIN,
	AN_REQUEST_END,
	AN_SCHED_SWITCH,
};

/* What the analysis learned about one event class. */
struct an_class {
	uint64_t	 events;
	enum an_kind	 kind;
	int		 f[7];		/* payload member indexes of its kind */
	uint64_t	 rules;		/* bit r: rule r's event pattern matches */
	int		 is_known;
};

struct an_process {
	int64_t		 vpid;
	char		 procname[AN_NAME_MAX];
	uint64_t	 events;
	uint32_t	 series[AN_BUCKETS];
};

struct an_thread {
	int64_t		 tid;
	char		 comm[AN_NAME_MAX];
	uint64_t	 oncpu_ns;
	uint64_t	 switches;
};

struct an_cpu {
	uint64_t	 events;
	int64_t		 tid;		/* on the CPU since since_ns */
	int64_t		 since_ns;
	uint64_t	 idle_ns;
	int		 is_known;
};

struct an_capture {
	char		 field[AN_NAME_MAX];
	char		 value[256];
};

/* An LTTng event-rule trigger of the manifest, and its event found. */
struct an_rule {
	size_t			 trigger;	/* index in the manifest */
	char			 pattern[256];
	int64_t			 received_ns;
	struct an_capture	 captures[AN_CAPTURES_MAX];
	size_t			 ncaptures;
	const bt_message	*best;		/* a reference we hold */
	int64_t			 best_ns;
	struct trace_event	 best_ev;
	char			 best_procname[AN_NAME_MAX];
	json_t			*found;		/* built at the end */
};

struct an_gap {
	char		 stream[PATH_MAX];
	int		 is_packets;
	uint64_t	 count;
	int64_t		 begin_ns, end_ns;
};

struct analysis {
	struct trace_run	 run;
	struct an_class		*classes;
	size_t			 nclasses;
	struct an_process	*processes[AN_PROCESS_SLOTS];
	size_t			 nprocesses;
	uint64_t		 processes_dropped;	/* events not placed */
	struct an_thread	*threads[AN_THREAD_SLOTS];
	size_t			 nthreads;
	uint64_t		 threads_dropped;
	struct an_cpu		 cpus[AN_CPUS_MAX];
	int64_t			 first_ns, last_ns;
	int64_t			 bucket_ns;
	uint64_t		 kernel_events;
	uint64_t		 sched_switches;
	int			 has_kernel;
	struct analyze_http	*http;
	struct an_rule		 rules[AN_RULES_MAX];
	size_t			 nrules;
	struct an_gap		 gaps[AN_GAPS_MAX];
	size_t			 ngaps;
	uint64_t		 gaps_dropped;
};

static size_t
an_hash(int64_t v)
{
	uint64_t x = (uint64_t)v * 0x9e3779b97f4a7c15ULL;

	return (size_t)(x >> 40);
}

static void
an_copy(char *dst, size_t len, const char *src)
{
	text_utf8_copy(dst, len, src ? src : "", src ? strlen(src) : 0);
}

static struct an_class *
an_class_of(struct analysis *a, const struct trace_event *ev)
{
	struct an_class	*grown, *c;
	const char	*name = ev->cls->name;
	size_t		 i, r;

	if (ev->cls->index >= a->nclasses) {
		grown = realloc(a->classes, (ev->cls->index + 1) *
		    sizeof(*grown));
		if (grown == NULL)
			return NULL;
		memset(grown + a->nclasses, 0, (ev->cls->index + 1 -
		    a->nclasses) * sizeof(*grown));
		a->classes = grown;
		a->nclasses = ev->cls->index + 1;
	}
	c = &a->classes[ev->cls->index];
	if (c->is_known)
		return c;
	c->is_known = 1;
	c->kind = AN_OTHER;
	for (i = 0; i < sizeof(c->f) / sizeof(c->f[0]); i++)
		c->f[i] = -1;
	if (strcmp(name, "tracetrap_httpd:request_begin") == 0) {
		c->kind = AN_REQUEST_BEGIN;
		c->f[0] = trace_class_member(ev->cls, "request_id");
		c->f[1] = trace_class_member(ev->cls, "method");
		c->f[2] = trace_class_member(ev->cls, "uri");
		c->f[3] = trace_class_member(ev->cls, "vhost");
	} else if (strcmp(name, "tracetrap_httpd:request_end") == 0) {
		c->kind = AN_REQUEST_END;
		c->f[0] = trace_class_member(ev->cls, "request_id");
		c->f[1] = trace_class_member(ev->cls, "method");
		c->f[2] = trace_class_member(ev->cls, "uri");
		c->f[3] = trace_class_member(ev->cls, "vhost");
		c->f[4] = trace_class_member(ev->cls, "status");
		c->f[5] = trace_class_member(ev->cls, "duration_us");
		c->f[6] = trace_class_member(ev->cls, "triggered");
	} else if (strcmp(name, "sched_switch") == 0 &&
	    strcmp(ev->stream->domain, "kernel") == 0) {
		c->kind = AN_SCHED_SWITCH;
		c->f[0] = trace_class_member(ev->cls, "prev_tid");
		c->f[1] = trace_class_member(ev->cls, "next_tid");
		c->f[2] = trace_class_member(ev->cls, "prev_comm");
		c->f[3] = trace_class_member(ev->cls, "next_comm");
	}
	for (r = 0; r < a->nrules; r++)
		if (fnmatch(a->rules[r].pattern, name, 0) == 0)
			c->rules |= UINT64_C(1) << r;
	return c;
}

static struct an_process *
an_process_of(struct analysis *a, int64_t vpid, const char *procname)
{
	struct an_process	*p;
	size_t			 i = an_hash(vpid) & (AN_PROCESS_SLOTS - 1);

	while ((p = a->processes[i]) != NULL) {
		if (p->vpid == vpid)
			goto found;
		i = (i + 1) & (AN_PROCESS_SLOTS - 1);
	}
	if (a->nprocesses >= AN_PROCESSES_MAX ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	a->processes[i] = p;
	a->nprocesses++;
	p->vpid = vpid;
found:
	/* The latest name: a process that exec()s takes its new one. */
	if (procname != NULL && strncmp(p->procname, procname,
	    sizeof(p->procname)) != 0)
		an_copy(p->procname, sizeof(p->procname), procname);
	return p;
}

static struct an_thread *
an_thread_of(struct analysis *a, int64_t tid)
{
	struct an_thread	*t;
	size_t			 i = an_hash(tid) & (AN_THREAD_SLOTS - 1);

	while ((t = a->threads[i]) != NULL) {
		if (t->tid == tid)
			return t;
		i = (i + 1) & (AN_THREAD_SLOTS - 1);
	}
	if (a->nthreads >= AN_THREADS_MAX ||
	    (t = calloc(1, sizeof(*t))) == NULL) {
		a->threads_dropped++;
		return NULL;
	}
	a->threads[i] = t;
	a->nthreads++;
	t->tid = tid;
	return t;
}

/* Doubles the timeline's bucket width until ts fits. */
static size_t
an_bucket(struct analysis *a, int64_t ts)
{
	struct an_process	*p;
	size_t			 i, b;

	if (ts < a->first_ns)
		return 0;
	while ((uint64_t)(ts - a->first_ns) / (uint64_t)a->bucket_ns >=
	    AN_BUCKETS) {
		a->bucket_ns *= 2;
		for (i = 0; i < AN_PROCESS_SLOTS; i++) {
			if ((p = a->processes[i]) == NULL)
				continue;
			for (b = 0; b < AN_BUCKETS; b++)
				p->series[b] = b < AN_BUCKETS / 2 ?
				    p->series[2 * b] + p->series[2 * b + 1] : 0;
		}
	}
	return (size_t)((uint64_t)(ts - a->first_ns) / (uint64_t)a->bucket_ns);
}

static const char *
an_string(const struct trace_event *ev, int index)
{
	const char *s = trace_field_string(trace_event_member(ev, index));

	return s != NULL ? s : "";
}

static int64_t
an_int(const struct trace_event *ev, int index, int64_t absent)
{
	int64_t v;

	return trace_field_int(trace_event_member(ev, index), &v) == 0 ? v :
	    absent;
}

static void
an_sched_switch(struct analysis *a, const struct an_class *c,
    const struct trace_event *ev)
{
	struct an_cpu		*cpu;
	struct an_thread	*t;
	int64_t			 prev, next;

	a->sched_switches++;
	if (ev->cpu < 0 || ev->cpu >= AN_CPUS_MAX)
		return;
	cpu = &a->cpus[ev->cpu];
	prev = an_int(ev, c->f[0], -1);
	next = an_int(ev, c->f[1], -1);
	if (prev >= 0 && (t = an_thread_of(a, prev)) != NULL) {
		if (cpu->is_known && cpu->tid == prev && ev->ts_ns >= cpu->since_ns)
			t->oncpu_ns += (uint64_t)(ev->ts_ns - cpu->since_ns);
		else if (!cpu->is_known && ev->ts_ns >= a->first_ns)
			/* On the CPU since before the trace's history. */
			t->oncpu_ns += (uint64_t)(ev->ts_ns - a->first_ns);
		if (t->comm[0] == '\0')
			an_copy(t->comm, sizeof(t->comm), an_string(ev, c->f[2]));
	}
	if (next >= 0 && (t = an_thread_of(a, next)) != NULL) {
		t->switches++;
		an_copy(t->comm, sizeof(t->comm), an_string(ev, c->f[3]));
	}
	cpu->is_known = 1;
	cpu->tid = next;
	cpu->since_ns = ev->ts_ns;
}

static int
an_captures_match(const struct an_rule *r, const struct trace_event *ev)
{
	const bt_field	*f;
	char		 value[256];
	size_t		 i;
	int		 index;

	for (i = 0; i < r->ncaptures; i++) {
		if ((index = trace_class_member(ev->cls,
		    r->captures[i].field)) == -1)
			return 0;
		f = trace_event_member(ev, index);
		trace_field_format(f, value, sizeof(value));
		if (strcmp(value, r->captures[i].value) != 0)
			return 0;
	}
	return 1;
}

/*
 * The event a notification was about happened before the recorder
 * received it: the latest candidate up to then (plus slack for clock
 * skew between the trace's clock and the recorder's), else the first
 * one after.
 */
static void
an_rule_candidate(struct an_rule *r, const struct trace_event *ev)
{
	int is_before = ev->ts_ns <= r->received_ns + AN_MATCH_SLACK_NS;

	if (ev->ts_ns < r->received_ns - AN_MATCH_BEFORE_NS)
		return;
	/* Events come in time order: a later one before is better. */
	if ((!is_before && r->best != NULL) || !an_captures_match(r, ev))
		return;
	if (r->best != NULL)
		bt_message_put_ref(r->best);
	bt_message_get_ref(ev->msg);
	r->best = ev->msg;
	r->best_ns = ev->ts_ns;
	r->best_ev = *ev;
	an_copy(r->best_procname, sizeof(r->best_procname), ev->procname);
}

static int
an_on_event(void *arg, struct trace_event *ev)
{
	struct analysis		*a = arg;
	struct an_class		*c;
	struct an_process	*p;
	uint64_t		 rules;
	size_t			 r;

	if ((c = an_class_of(a, ev)) == NULL)
		return 0;
	c->events++;
	if (a->first_ns == 0)
		a->first_ns = ev->ts_ns;
	if (ev->ts_ns > a->last_ns)
		a->last_ns = ev->ts_ns;
	if (ev->cpu >= 0 && ev->cpu < AN_CPUS_MAX)
		a->cpus[ev->cpu].events++;
	if ((p = an_process_of(a, ev->vpid, ev->procname)) != NULL) {
		p->events++;
		p->series[an_bucket(a, ev->ts_ns)]++;
	} else {
		a->processes_dropped++;
	}
	if (strcmp(ev->stream->domain, "kernel") == 0) {
		a->has_kernel = 1;
		a->kernel_events++;
	}
	switch (c->kind) {
	case AN_REQUEST_BEGIN:
		analyze_http_begin(a->http, an_string(ev, c->f[0]),
		    an_string(ev, c->f[1]), an_string(ev, c->f[2]),
		    an_string(ev, c->f[3]), ev->vpid, ev->vtid, ev->ts_ns);
		break;
	case AN_REQUEST_END:
		analyze_http_end(a->http, an_string(ev, c->f[0]),
		    an_string(ev, c->f[1]), an_string(ev, c->f[2]),
		    an_string(ev, c->f[3]), (int)an_int(ev, c->f[4], 0),
		    (uint64_t)an_int(ev, c->f[5], 0), an_int(ev, c->f[6], 0) != 0,
		    ev->vpid, ev->vtid, ev->ts_ns);
		break;
	case AN_SCHED_SWITCH:
		an_sched_switch(a, c, ev);
		break;
	default:
		break;
	}
	for (rules = c->rules, r = 0; rules != 0; rules >>= 1, r++)
		if (rules & 1)
			an_rule_candidate(&a->rules[r], ev);
	return 0;
}

static void
an_on_discarded(void *arg, struct trace_stream *st, int is_packets,
    uint64_t count, int64_t begin_ns, int64_t end_ns)
{
	struct analysis	*a = arg;
	struct an_gap	*g;

	if (a->ngaps >= AN_GAPS_MAX) {
		a->gaps_dropped++;
		return;
	}
	g = &a->gaps[a->ngaps++];
	snprintf(g->stream, sizeof(g->stream), "%s", st->path);
	g->is_packets = is_packets;
	g->count = count;
	g->begin_ns = begin_ns;
	g->end_ns = end_ns;
}

/* Turns the candidates held into JSON while their graph is alive. */
static void
an_on_end(void *arg)
{
	struct analysis *a = arg;
	struct an_rule	*r;
	size_t		 i;

	for (i = 0; i < a->nrules; i++) {
		r = &a->rules[i];
		if (r->best == NULL)
			continue;
		/* Only the event itself is read: its class entry may have moved. */
		r->best_ev.bt = bt_message_event_borrow_event_const(r->best);
		r->best_ev.cls = NULL;
		r->found = json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:o}",
		    "ts_ns", (json_int_t)r->best_ns,
		    "name", bt_event_class_get_name(
		    bt_event_borrow_class_const(r->best_ev.bt)) ?: "",
		    "cpu", (json_int_t)r->best_ev.cpu,
		    "vpid", (json_int_t)r->best_ev.vpid,
		    "vtid", (json_int_t)r->best_ev.vtid,
		    "procname", r->best_procname,
		    "fields", trace_event_payload_json(&r->best_ev));
		bt_message_put_ref(r->best);
		r->best = NULL;
	}
}

/* The channel of a stream file: LTTng names them <channel>_<cpu>. */
static void
an_channel_name(const char *file, char *out, size_t len)
{
	const char *us = strrchr(file, '_');

	if (us != NULL && us[1] != '\0' && strspn(us + 1, "0123456789") ==
	    strlen(us + 1))
		snprintf(out, len, "%.*s", (int)(us - file), file);
	else
		snprintf(out, len, "%s", file);
}

/*
 * Streams and channels, and whether history was lost: a stream whose
 * first packet is numbered N > 0 lost N older packets to the ring's
 * overwriting, so its history starts at that packet; discarded events or
 * packets (gaps inside a stream) are lost history too.
 */
static void
an_streams_json(struct analysis *a, const struct ctf_dir *dir, json_t *summary)
{
	const struct ctf_trace_dir	*t = NULL;
	const struct ctf_stream_file	*f;
	const struct trace_stream	*st;
	json_t				*streams = json_array();
	json_t				*channels = json_object(), *ch, *gaps;
	char				 chname[PATH_MAX + NAME_MAX + 2];
	char				 cname[NAME_MAX + 1];
	uint64_t			 overwritten, lost_packets = 0;
	uint64_t			 discarded = 0, discarded_packets = 0;
	int64_t				 complete_since = 0;
	int				 has_index = 1, is_lossy;
	size_t				 i;

	for (i = 0; i < a->run.nstreams; i++) {
		st = &a->run.streams[i];
		f = ctf_dir_find_stream(dir, st->path, &t);
		overwritten = f != NULL && f->is_indexed && f->npackets > 0 ?
		    f->packets[0].seq : 0;
		if (f == NULL || !f->is_indexed)
			has_index = 0;
		is_lossy = overwritten > 0 || st->discarded_packets > 0 ||
		    st->discarded_events > 0;
		lost_packets += overwritten + st->discarded_packets;
		discarded += st->discarded_events;
		discarded_packets += st->discarded_packets;
		if (overwritten > 0 && st->first_packet_ns > complete_since)
			complete_since = st->first_packet_ns;
		an_channel_name(f ? f->name : st->path, cname, sizeof(cname));
		snprintf(chname, sizeof(chname), "%s/%s", t && f ? t->rel : "",
		    cname);
		json_array_append_new(streams, json_pack("{s:s, s:s, s:s, s:I, "
		    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
		    "file", f ? f->name : st->path, "trace", t && f ? t->rel : "",
		    "domain", st->domain, "cpu", (json_int_t)st->cpu,
		    "events", (json_int_t)st->events,
		    "first_ns", (json_int_t)st->first_ns,
		    "last_ns", (json_int_t)st->last_ns,
		    "first_packet_ns", (json_int_t)st->first_packet_ns,
		    "packets", (json_int_t)st->packets,
		    "overwritten_packets", (json_int_t)overwritten,
		    "discarded_events", (json_int_t)st->discarded_events,
		    "discarded_packets", (json_int_t)st->discarded_packets,
		    "overflowed", is_lossy));
		if ((ch = json_object_get(channels, chname)) == NULL) {
			ch = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, "
			    "s:b}", "name", cname, "trace", t && f ? t->rel : "",
			    "domain", st->domain, "streams", (json_int_t)0,
			    "events", (json_int_t)0, "first_ns", (json_int_t)0,
			    "last_ns", (json_int_t)0,
			    "complete_since_ns", (json_int_t)0,
			    "overflowed", 0);
			json_object_set_new(channels, chname, ch);
		}
#define AN_ADD(key, v) json_object_set_new(ch, key, json_integer( \
	    json_integer_value(json_object_get(ch, key)) + (json_int_t)(v)))
		AN_ADD("streams", 1);
		AN_ADD("events", st->events);
#undef AN_ADD
		if (st->events > 0 && (json_integer_value(json_object_get(ch,
		    "first_ns")) == 0 || st->first_ns <
		    json_integer_value(json_object_get(ch, "first_ns"))))
			json_object_set_new(ch, "first_ns",
			    json_integer(st->first_ns));
		if (st->last_ns > json_integer_value(json_object_get(ch,
		    "last_ns")))
			json_object_set_new(ch, "last_ns",
			    json_integer(st->last_ns));
		if (is_lossy) {
			json_object_set_new(ch, "overflowed", json_true());
			if (overwritten > 0 && st->first_packet_ns >
			    json_integer_value(json_object_get(ch,
			    "complete_since_ns")))
				json_object_set_new(ch, "complete_since_ns",
				    json_integer(st->first_packet_ns));
		}
	}
	json_object_set_new(summary, "streams", streams);
	{
		const char	*key;
		json_t		*list = json_array(), *v;

		json_object_foreach(channels, key, v)
			json_array_append(list, v);
		json_object_set_new(summary, "channels", list);
		json_decref(channels);
	}
	gaps = json_array();
	for (i = 0; i < a->ngaps; i++)
		json_array_append_new(gaps, json_pack("{s:s, s:s, s:I, s:I, "
		    "s:I}", "stream", a->gaps[i].stream,
		    "what", a->gaps[i].is_packets ? "packets" : "events",
		    "count", (json_int_t)a->gaps[i].count,
		    "begin_ns", (json_int_t)a->gaps[i].begin_ns,
		    "end_ns", (json_int_t)a->gaps[i].end_ns));
	json_object_set_new(summary, "discarded_events",
	    json_integer((json_int_t)discarded));
	json_object_set_new(summary, "discarded_packets",
	    json_integer((json_int_t)discarded_packets));
	json_object_set_new(summary, "history", json_pack("{s:o, s:I, s:I, "
	    "s:o, s:o, s:I}",
	    "overflowed", has_index || lost_packets > 0 || discarded > 0 ?
	    json_boolean(lost_packets > 0 || discarded > 0) : json_null(),
	    "complete_since_ns", (json_int_t)complete_since,
	    "lost_packets", (json_int_t)lost_packets,
	    "packet_index", json_boolean(has_index),
	    "gaps", gaps, "gaps_dropped", (json_int_t)a->gaps_dropped));
}

/* When the ring was frozen: the end of the last packet of any stream. */
static int64_t
an_trace_end(const struct analysis *a)
{
	int64_t	 end = a->last_ns;
	size_t	 i;

	for (i = 0; i < a->run.nstreams; i++)
		if (a->run.streams[i].last_packet_ns > end)
			end = a->run.streams[i].last_packet_ns;
	return end;
}

static int
an_process_cmp(const void *x, const void *y)
{
	const struct an_process *a = *(const struct an_process *const *)x;
	const struct an_process *b = *(const struct an_process *const *)y;

	if (a->events != b->events)
		return a->events < b->events ? 1 : -1;
	return a->vpid < b->vpid ? -1 : a->vpid > b->vpid;
}

static void
an_processes_json(struct analysis *a, json_t *summary)
{
	struct an_process	*sorted[AN_PROCESSES_MAX];
	json_t			*list = json_array(), *series = json_array();
	json_t			*counts;
	uint64_t		 other[AN_BUCKETS] = { 0 };
	size_t			 i, b, n = 0, nbuckets;
	int			 has_other = 0;

	for (i = 0; i < AN_PROCESS_SLOTS; i++)
		if (a->processes[i] != NULL)
			sorted[n++] = a->processes[i];
	qsort(sorted, n, sizeof(*sorted), an_process_cmp);
	nbuckets = a->last_ns >= a->first_ns && a->bucket_ns > 0 ?
	    (size_t)((uint64_t)(a->last_ns - a->first_ns) /
	    (uint64_t)a->bucket_ns) + 1 : 0;
	if (nbuckets > AN_BUCKETS)
		nbuckets = AN_BUCKETS;
	for (i = 0; i < n; i++) {
		if (i < AN_LIST_MAX)
			json_array_append_new(list, json_pack("{s:I, s:s, s:I}",
			    "vpid", (json_int_t)sorted[i]->vpid,
			    "procname", sorted[i]->procname,
			    "events", (json_int_t)sorted[i]->events));
		if (i >= AN_SERIES_MAX) {
			has_other = 1;
			for (b = 0; b < nbuckets; b++)
				other[b] += sorted[i]->series[b];
			continue;
		}
		counts = json_array();
		for (b = 0; b < nbuckets; b++)
			json_array_append_new(counts,
			    json_integer(sorted[i]->series[b]));
		json_array_append_new(series, json_pack("{s:I, s:s, s:o}",
		    "vpid", (json_int_t)sorted[i]->vpid,
		    "procname", sorted[i]->procname, "counts", counts));
	}
	if (has_other) {
		counts = json_array();
		for (b = 0; b < nbuckets; b++)
			json_array_append_new(counts,
			    json_integer((json_int_t)other[b]));
		json_array_append_new(series, json_pack("{s:I, s:s, s:o}",
		    "vpid", (json_int_t)-2, "procname", "(other processes)",
		    "counts", counts));
	}
	json_object_set_new(summary, "by_process", list);
	json_object_set_new(summary, "processes_total",
	    json_integer((json_int_t)n));
	json_object_set_new(summary, "processes_dropped_events",
	    json_integer((json_int_t)a->processes_dropped));
	json_object_set_new(summary, "timeline", json_pack("{s:I, s:I, s:I, "
	    "s:o}", "first_ns", (json_int_t)a->first_ns,
	    "bucket_ns", (json_int_t)a->bucket_ns,
	    "buckets", (json_int_t)nbuckets, "series", series));
}

static int
an_thread_cmp(const void *x, const void *y)
{
	const struct an_thread *a = *(const struct an_thread *const *)x;
	const struct an_thread *b = *(const struct an_thread *const *)y;

	if (a->oncpu_ns != b->oncpu_ns)
		return a->oncpu_ns < b->oncpu_ns ? 1 : -1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static void
an_kernel_json(struct analysis *a, const json_t *manifest, json_t *summary)
{
	struct an_thread	*sorted[AN_THREADS_MAX], *t;
	json_t			*threads, *channels, *ch;
	const char		*reason = NULL;
	uint64_t		 idle = 0;
	size_t			 i, n = 0;
	int			 has_kernel_channel = 0;

	if (!a->has_kernel) {
		channels = json_object_get(json_object_get(manifest, "session"),
		    "channels");
		json_array_foreach(channels, i, ch)
			if (json_is_string(json_object_get(ch, "domain")) &&
			    strcmp(json_string_value(json_object_get(ch,
			    "domain")), "kernel") == 0)
				has_kernel_channel = 1;
		reason = has_kernel_channel ? "the kernel channel recorded no "
		    "event in this snapshot" : "no kernel trace: the node "
		    "records user space only (no kernel tracer there), so "
		    "on-CPU time is unknown";
		json_object_set_new(summary, "kernel", json_pack("{s:b, s:s}",
		    "present", 0, "reason", reason));
		return;
	}
	/* Whoever is on a CPU at the end ran until the end. */
	for (i = 0; i < AN_CPUS_MAX; i++)
		if (a->cpus[i].is_known && a->last_ns >= a->cpus[i].since_ns &&
		    (t = an_thread_of(a, a->cpus[i].tid)) != NULL)
			t->oncpu_ns += (uint64_t)(a->last_ns - a->cpus[i].since_ns);
	for (i = 0; i < AN_THREAD_SLOTS; i++) {
		if ((t = a->threads[i]) == NULL)
			continue;
		if (t->tid == 0)	/* the idle task, one per CPU */
			idle += t->oncpu_ns;
		else
			sorted[n++] = t;
	}
	qsort(sorted, n, sizeof(*sorted), an_thread_cmp);
	threads = json_array();
	for (i = 0; i < n && i < AN_LIST_MAX / 4; i++)
		json_array_append_new(threads, json_pack("{s:I, s:s, s:I, s:I}",
		    "tid", (json_int_t)sorted[i]->tid, "comm", sorted[i]->comm,
		    "oncpu_ns", (json_int_t)sorted[i]->oncpu_ns,
		    "switches_in", (json_int_t)sorted[i]->switches));
	json_object_set_new(summary, "kernel", json_pack("{s:b, s:I, s:I, "
	    "s:I, s:I, s:o, s:I}", "present", 1,
	    "events", (json_int_t)a->kernel_events,
	    "sched_switches", (json_int_t)a->sched_switches,
	    "idle_ns", (json_int_t)idle, "threads_total", (json_int_t)n,
	    "threads", threads, "threads_dropped",
	    (json_int_t)a->threads_dropped));
}

static int64_t
an_received_ns(const json_t *trigger)
{
	return (int64_t)json_integer_value(json_object_get(trigger,
	    "received_at_us")) * 1000;
}

/* The manifest's LTTng triggers become rules to locate in the trace. */
static void
an_rules_from(struct analysis *a, const json_t *triggers)
{
	struct an_rule	*r;
	const json_t	*t, *labels, *v;
	const char	*key, *source, *event;
	size_t		 i;

	json_array_foreach(triggers, i, t) {
		if (i >= AN_TRIGGERS_MAX || a->nrules >= AN_RULES_MAX)
			break;
		source = json_string_value(json_object_get(t, "source"));
		labels = json_object_get(t, "labels");
		event = json_string_value(json_object_get(labels, "event"));
		if (source == NULL || strcmp(source, "lttng") != 0 ||
		    event == NULL)
			continue;
		r = &a->rules[a->nrules++];
		r->trigger = i;
		snprintf(r->pattern, sizeof(r->pattern), "%s", event);
		r->received_ns = an_received_ns(t);
		json_object_foreach((json_t *)labels, key, v) {
			if (strncmp(key, "capture.", 8) != 0 ||
			    !json_is_string(v) ||
			    r->ncaptures >= AN_CAPTURES_MAX ||
			    strcmp(json_string_value(v), "(unavailable)") == 0)
				continue;
			snprintf(r->captures[r->ncaptures].field,
			    sizeof(r->captures[0].field), "%s", key + 8);
			snprintf(r->captures[r->ncaptures].value,
			    sizeof(r->captures[0].value), "%s",
			    json_string_value(v));
			r->ncaptures++;
		}
	}
}

static json_t *
an_triggers_json(const struct analysis *a, const json_t *triggers,
    const json_t *requests)
{
	const json_t	*t, *labels, *req;
	const char	*id, *source;
	json_t		*list = json_array(), *o;
	size_t		 i, j;

	json_array_foreach(triggers, i, t) {
		if (i >= AN_TRIGGERS_MAX)
			break;
		labels = json_object_get(t, "labels");
		source = json_string_value(json_object_get(t, "source"));
		o = json_pack("{s:O?, s:O?, s:O?, s:I, s:O?, s:O?}",
		    "source", json_object_get(t, "source"),
		    "reason", json_object_get(t, "reason"),
		    "scope", json_object_get(t, "scope"),
		    "received_at_ns", (json_int_t)an_received_ns(t),
		    "labels", labels, "after_freeze",
		    json_object_get(t, "after_freeze"));
		if (o == NULL)
			continue;
		if ((id = json_string_value(json_object_get(labels,
		    "request_id"))) != NULL) {
			json_object_set_new(o, "request_id", json_string(id));
			json_object_set_new(o, "request_found", json_false());
			json_array_foreach(requests, j, req)
				if (strcmp(json_string_value(json_object_get(
				    req, "request_id")) ?: "", id) == 0) {
					json_object_set_new(o, "request_found",
					    json_true());
					break;
				}
		}
		if (source != NULL && strcmp(source, "lttng") == 0) {
			json_object_set_new(o, "event", json_null());
			for (j = 0; a != NULL && j < a->nrules; j++)
				if (a->rules[j].trigger == i &&
				    a->rules[j].found != NULL)
					json_object_set(o, "event",
					    a->rules[j].found);
			if (json_object_get(labels, "event") == NULL)
				json_object_set_new(o, "event_note", json_string(
				    "the trigger does not name its event"));
		}
		json_array_append_new(list, o);
	}
	return list;
}

void
analyze_trace_root(const char *dir, char *root, size_t len)
{
	struct stat st;

	snprintf(root, len, "%s/trace", dir);
	if (lstat(root, &st) == -1 || !S_ISDIR(st.st_mode))
		snprintf(root, len, "%s", dir);
}

json_t *
analyze_load_json(const char *path, size_t max, char *err, size_t errlen)
{
	json_error_t	 jerr;
	struct stat	 st;
	json_t		*j;
	FILE		*f;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max) {
		errbuf_set(err, errlen, "%s: not a regular file of at most %zu "
		    "bytes", path, max);
		close(fd);
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	j = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (j == NULL)
		errbuf_set(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
	return j;
}

static void
an_free(struct analysis *a)
{
	size_t i;

	for (i = 0; i < AN_PROCESS_SLOTS; i++)
		free(a->processes[i]);
	for (i = 0; i < AN_THREAD_SLOTS; i++)
		free(a->threads[i]);
	for (i = 0; i < a->nrules; i++) {
		if (a->rules[i].best != NULL)
			bt_message_put_ref(a->rules[i].best);
		json_decref(a->rules[i].found);
	}
	analyze_http_free(a->http);
	trace_run_free(&a->run);
	free(a->classes);
	free(a);
}

static json_t *
an_by_name(const struct analysis *a)
{
	json_t		*o = json_object();
	const char	*name;
	size_t		 i;

	for (i = 0; i < a->nclasses && i < a->run.nclasses; i++) {
		if (a->classes[i].events == 0)
			continue;
		name = a->run.classes[i].name;
		/* One name in two traces (32- and 64-bit apps) counts once. */
		json_object_set_new(o, name, json_integer(json_integer_value(
		    json_object_get(o, name)) + (json_int_t)a->classes[i].events));
	}
	return o;
}

static json_t *
an_by_cpu(const struct analysis *a)
{
	json_t	*list = json_array();
	size_t	 i;

	for (i = 0; i < AN_CPUS_MAX; i++)
		if (a->cpus[i].events > 0)
			json_array_append_new(list, json_pack("{s:I, s:I}",
			    "cpu", (json_int_t)i,
			    "events", (json_int_t)a->cpus[i].events));
	return list;
}

static void
an_manifest_ids(const json_t *triggers, const char ***ids, size_t *n)
{
	const json_t	*t;
	const char	*id;
	size_t		 i;

	*n = 0;
	*ids = calloc(json_array_size(triggers) + 1, sizeof(char *));
	json_array_foreach(triggers, i, t)
		if (*ids != NULL && i < AN_TRIGGERS_MAX && (id =
		    json_string_value(json_object_get(json_object_get(t,
		    "labels"), "request_id"))) != NULL)
			(*ids)[(*n)++] = id;
}

/* The summary's head, from the manifest alone; *manifest is kept. */
static json_t *
an_skeleton(const char *dir, json_t **manifest)
{
	static const char *const keys[] = { "id", "node", "incident",
	    "taken_at", "taken_at_us" };
	json_t		*summary, *v;
	char		 path[PATH_MAX], err[512], when[32];
	time_t		 now = time(NULL);
	struct tm	 tm;
	size_t		 i;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	summary = json_pack("{s:i, s:s}", "analyzer_version", ANALYZER_VERSION,
	    "analyzed_at", when);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if ((*manifest = analyze_load_json(path, ANALYZE_MANIFEST_MAX, err,
	    sizeof(err))) == NULL) {
		if (access(path, F_OK) == 0)
			json_object_set_new(summary, "manifest_error",
			    json_string(err));
		*manifest = json_object();
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = json_object_get(*manifest, keys[i])) != NULL)
			json_object_set(summary, keys[i], v);
	return summary;
}

/* The fixed fields, there even when nothing could be read. */
static void
an_fill_empty(json_t *summary)
{
	if (json_object_get(summary, "requests") != NULL)
		return;
	json_object_set_new(summary, "events", json_integer(0));
	json_object_set_new(summary, "discarded_events", json_integer(0));
	json_object_set_new(summary, "requests_total", json_integer(0));
	json_object_set_new(summary, "requests", json_array());
	json_object_set_new(summary, "by_name", json_object());
	json_object_set_new(summary, "by_process", json_array());
	json_object_set_new(summary, "span", json_pack("{s:i, s:i}",
	    "first_ns", 0, "last_ns", 0));
}

static const json_t *
an_manifest_triggers(const json_t *manifest)
{
	const json_t *t = json_object_get(manifest, "triggers");

	return json_is_array(t) ? t : NULL;
}

json_t *
analyze_failed(const char *dir, const char *why)
{
	json_t	*manifest, *summary = an_skeleton(dir, &manifest);

	json_object_set_new(summary, "error", json_string(why));
	an_fill_empty(summary);
	json_object_set_new(summary, "triggers", an_triggers_json(NULL,
	    an_manifest_triggers(manifest), NULL));
	json_object_set_new(summary, "partial", json_false());
	json_decref(manifest);
	return summary;
}

json_t *
analyze_snapshot(const char *dir, const struct analyze_options *opt)
{
	static const struct trace_reader_ops ops = {
		an_on_event, an_on_discarded, an_on_end,
	};
	struct analysis	*a;
	struct ctf_dir	 ctf;
	json_t		*summary, *manifest;
	const json_t	*triggers;
	const char	**dirs = NULL, **ids = NULL;
	char		 root[PATH_MAX], err[512];
	size_t		 i, nids;

	memset(&ctf, 0, sizeof(ctf));
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->bucket_ns = 1000000;		/* 1 ms, doubled as the span needs */
	summary = an_skeleton(dir, &manifest);
	triggers = an_manifest_triggers(manifest);
	an_manifest_ids(triggers, &ids, &nids);
	a->http = analyze_http_new(ids, nids);
	free(ids);
	an_rules_from(a, triggers);
	analyze_trace_root(dir, root, sizeof(root));
	if (a->http == NULL)
		goto fail;
	if (ctf_dir_scan(root, &ctf, err, sizeof(err)) == -1) {
		json_object_set_new(summary, "error", json_string(err));
		goto finish;
	}
	if ((dirs = calloc(ctf.ntraces, sizeof(*dirs))) == NULL)
		goto fail;
	for (i = 0; i < ctf.ntraces; i++)
		dirs[i] = ctf.traces[i].path;
	a->run.dirs = dirs;
	a->run.ndirs = ctf.ntraces;
	a->run.cpu_budget_ns = opt != NULL ? opt->cpu_budget_ms * 1000000 : 0;
	json_object_set_new(summary, "trace_bytes",
	    json_integer((json_int_t)ctf.bytes));
	if (trace_reader_run(&a->run, &ops, a) == -1) {
		json_object_set_new(summary, "error", json_string(a->run.error));
		goto finish;
	}
	json_object_set_new(summary, "span", json_pack("{s:I, s:I, s:I}",
	    "first_ns", (json_int_t)a->first_ns,
	    "last_ns", (json_int_t)a->last_ns,
	    "end_ns", (json_int_t)an_trace_end(a)));
	json_object_set_new(summary, "events",
	    json_integer((json_int_t)a->run.events));
	an_streams_json(a, &ctf, summary);
	json_object_set_new(summary, "by_name", an_by_name(a));
	an_processes_json(a, summary);
	json_object_set_new(summary, "by_cpu", an_by_cpu(a));
	analyze_http_json(a->http, an_trace_end(a), summary);
	an_kernel_json(a, manifest, summary);
finish:
	an_fill_empty(summary);
	json_object_set_new(summary, "triggers", an_triggers_json(a, triggers,
	    json_object_get(summary, "requests")));
	json_object_set_new(summary, "partial", json_boolean(
	    a->run.is_partial));
	if (a->run.is_partial)
		json_object_set_new(summary, "partial_reason",
		    json_string(a->run.partial_reason));
	if (a->run.warnings[0] != '\0')
		json_object_set_new(summary, "warnings",
		    json_string(a->run.warnings));
	json_object_set_new(summary, "cpu_ms",
	    json_integer((json_int_t)(a->run.cpu_ns / 1000000)));
	json_decref(manifest);
	free(dirs);
	ctf_dir_free(&ctf);
	an_free(a);
	return summary;
fail:
	json_decref(manifest);
	json_decref(summary);
	free(dirs);
	ctf_dir_free(&ctf);
	an_free(a);
	return NULL;
}

int
analyze_write(const char *dir, const json_t *summary, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX], path[PATH_MAX];
	char	*text;
	size_t	 len, off = 0;
	ssize_t	 n;
	int	 fd, dfd;

	snprintf(path, sizeof(path), "%s/%s", dir, ANALYZE_SUMMARY);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, ANALYZE_SUMMARY);
	if ((text = json_dumps(summary, JSON_COMPACT)) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	len = strlen(text);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		goto fail;
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail_unlink;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1)
		goto fail_unlink;
	if (rename(tmp, path) == -1)
		goto fail_unlink;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	free(text);
	return 0;
fail_unlink:
	errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
	unlink(tmp);
	free(text);
	return -1;
fail:
	errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
	free(text);
	return -1;
}
