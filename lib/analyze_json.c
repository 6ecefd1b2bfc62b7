/*
 * Parts of the summary (analyze_run.h): streams, channels and whether
 * history was lost; processes and their timeline; counts by event name
 * and by CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "analyze_run.h"
#include "text.h"

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
void
analyze_json_streams(struct analyze_run *a, const struct ctf_dir *dir, json_t *summary)
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
int64_t
analyze_json_trace_end(const struct analyze_run *a)
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

void
analyze_json_processes(struct analyze_run *a, json_t *summary)
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

json_t *
analyze_json_by_name(const struct analyze_run *a)
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

json_t *
analyze_json_by_cpu(const struct analyze_run *a)
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

void
analyze_trim_requests(json_t *summary, size_t max)
{
	json_t	*requests = json_object_get(summary, "requests");
	json_t	*kept, *r;
	size_t	 i, omitted;

	/* Trimming a trimmed summary again adds to what it lacks already. */
	omitted = (size_t)json_integer_value(json_object_get(summary,
	    "requests_omitted"));
	if (!json_is_array(requests) || json_array_size(requests) <= max) {
		json_object_set_new(summary, "requests_omitted",
		    json_integer((json_int_t)omitted));
		return;
	}
	kept = json_array();
	json_array_foreach(requests, i, r) {
		if (i < max ||
		    json_is_true(json_object_get(r, "triggered")) ||
		    json_is_true(json_object_get(r, "in_flight")))
			json_array_append(kept, r);
		else
			omitted++;
	}
	json_object_set_new(summary, "requests", kept);
	json_object_set_new(summary, "requests_omitted",
	    json_integer((json_int_t)omitted));
}
