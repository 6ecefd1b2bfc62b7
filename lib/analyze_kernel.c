/*
 * On-CPU time from the kernel's sched_switch events (analyze_run.h): per
 * CPU, who is on it since when; per thread, the time it held a CPU. With
 * no kernel trace, the summary says why rather than guessing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_run.h"
#include "text.h"

static struct an_thread *
an_thread_of(struct analyze_run *a, int64_t tid)
{
	struct an_thread	*t;
	size_t			 i = analyze_hash(tid) & (AN_THREAD_SLOTS - 1);

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

/* Where this CPU's kernel history starts: its stream's first packet. */
static int64_t
an_cpu_start(const struct analyze_run *a, const struct trace_event *ev)
{
	return ev->stream->first_packet_ns > 0 ? ev->stream->first_packet_ns :
	    a->first_ns;
}

void
analyze_kernel_switch(struct analyze_run *a, const struct an_class *c,
    const struct trace_event *ev)
{
	struct an_cpu		*cpu;
	struct an_thread	*t;
	int64_t			 prev, next;

	a->sched_switches++;
	if (ev->cpu < 0 || ev->cpu >= AN_CPUS_MAX)
		return;
	cpu = &a->cpus[ev->cpu];
	prev = analyze_int(ev, c->f[0], -1);
	next = analyze_int(ev, c->f[1], -1);
	if (prev >= 0 && (t = an_thread_of(a, prev)) != NULL) {
		if (cpu->is_known && cpu->tid == prev && ev->ts_ns >= cpu->since_ns)
			t->oncpu_ns += (uint64_t)(ev->ts_ns - cpu->since_ns);
		else if (!cpu->is_known && ev->ts_ns >= an_cpu_start(a, ev))
			/* On the CPU since before this CPU's history began. */
			t->oncpu_ns += (uint64_t)(ev->ts_ns -
			    an_cpu_start(a, ev));
		if (t->comm[0] == '\0')
			analyze_copy(t->comm, sizeof(t->comm), analyze_string(ev, c->f[2]));
	}
	if (next >= 0 && (t = an_thread_of(a, next)) != NULL) {
		t->switches++;
		analyze_copy(t->comm, sizeof(t->comm), analyze_string(ev, c->f[3]));
	}
	cpu->is_known = 1;
	cpu->tid = next;
	cpu->since_ns = ev->ts_ns;
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

void
analyze_kernel_json(struct analyze_run *a, const json_t *manifest, json_t *summary)
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
