#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"
#include "trace_reader.h"

#define TRACE_HASH_SLOTS	8192	/* > 2 x CTF_DIR_MAX_STREAMS */
#define TRACE_CLASSES_MAX	4096
#define TRACE_CLASS_CACHE	256	/* a power of two */
#define TRACE_CPU_CHECK_EVERY	16	/* consume calls between CPU reads */

/* Where the common context members are, per stream class. */
struct trace_context {
	const bt_stream_class	*bt;
	int			 vpid, vtid, procname;
};

struct trace_sink {
	struct trace_run		*run;
	const struct trace_reader_ops	*ops;
	void				*arg;
	bt_message_iterator		*it;
	const bt_stream			**keys;	/* stream hash: bt pointer */
	size_t				*slots;	/* -> index + 1 in run->streams */
	size_t				 streams_cap;
	struct trace_context		 contexts[16];
	size_t				 ncontexts;
	unsigned			 consumed;
	int				 is_stopped;
	const bt_event_class		*class_keys[TRACE_CLASS_CACHE];
	size_t				 class_slots[TRACE_CLASS_CACHE];
};

static uint64_t
trace_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t
trace_hash(const void *p)
{
	uintptr_t v = (uintptr_t)p;

	v ^= v >> 17;
	v *= 0xed5ad4bbU;
	v ^= v >> 11;
	return (size_t)v & (TRACE_HASH_SLOTS - 1);
}

static int
trace_member_index(const bt_field_class *fc, const char *name)
{
	const bt_field_class_structure_member	*m;
	uint64_t				 i, n;

	if (fc == NULL ||
	    bt_field_class_get_type(fc) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return -1;
	n = bt_field_class_structure_get_member_count(fc);
	for (i = 0; i < n && i < INT32_MAX; i++) {
		m = bt_field_class_structure_borrow_member_by_index_const(fc, i);
		if (strcmp(bt_field_class_structure_member_get_name(m),
		    name) == 0)
			return (int)i;
	}
	return -1;
}

int
trace_class_member(const struct trace_class *cls, const char *name)
{
	return trace_member_index(
	    bt_event_class_borrow_payload_field_class_const(cls->bt), name);
}

const bt_field *
trace_event_member(const struct trace_event *ev, int index)
{
	const bt_field *payload;

	if (index < 0 ||
	    (payload = bt_event_borrow_payload_field_const(ev->bt)) == NULL)
		return NULL;
	return bt_field_structure_borrow_member_field_by_index_const(payload,
	    (uint64_t)index);
}







static struct trace_stream *
trace_stream_of(struct trace_sink *s, const bt_stream *bt)
{
	struct trace_run	*run = s->run;
	struct trace_stream	*st, *grown;
	const bt_value		*domain;
	const bt_clock_class	*clock;
	const char		*name;
	size_t			 h = trace_hash(bt);

	while (s->slots[h] != 0) {
		if (s->keys[h] == bt)
			return &run->streams[s->slots[h] - 1];
		h = (h + 1) & (TRACE_HASH_SLOTS - 1);
	}
	if (run->nstreams >= TRACE_HASH_SLOTS / 2)
		return NULL;
	if (run->nstreams == s->streams_cap) {
		s->streams_cap = s->streams_cap ? 2 * s->streams_cap : 16;
		grown = realloc(run->streams, s->streams_cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		run->streams = grown;
	}
	st = &run->streams[run->nstreams++];
	memset(st, 0, sizeof(*st));
	st->bt = bt;
	st->cpu = -1;
	name = bt_stream_get_name(bt);
	snprintf(st->path, sizeof(st->path), "%s", name ? name : "");
	domain = bt_trace_borrow_environment_entry_value_by_name_const(
	    bt_stream_borrow_trace_const(bt), "domain");
	if (domain != NULL && bt_value_is_string(domain))
		snprintf(st->domain, sizeof(st->domain), "%s",
		    bt_value_string_get(domain));
	clock = bt_stream_class_borrow_default_clock_class_const(
	    bt_stream_borrow_class_const(bt));
	if (clock != NULL) {
		st->has_clock = 1;
		st->clock_frequency = bt_clock_class_get_frequency(clock);
		bt_clock_class_get_offset(clock, &st->clock_offset_s,
		    &st->clock_offset_cycles);
	}
	s->keys[h] = bt;
	s->slots[h] = run->nstreams;
	return st;
}

static struct trace_context *
trace_context_of(struct trace_sink *s, const bt_stream_class *sc)
{
	const bt_field_class	*fc;
	struct trace_context	*c;
	size_t			 i;

	for (i = 0; i < s->ncontexts; i++)
		if (s->contexts[i].bt == sc)
			return &s->contexts[i];
	c = &s->contexts[s->ncontexts < 16 ? s->ncontexts++ : 15];
	c->bt = sc;
	fc = bt_stream_class_borrow_event_common_context_field_class_const(sc);
	if ((c->vpid = trace_member_index(fc, "vpid")) == -1)
		c->vpid = trace_member_index(fc, "pid");
	if ((c->vtid = trace_member_index(fc, "vtid")) == -1)
		c->vtid = trace_member_index(fc, "tid");
	c->procname = trace_member_index(fc, "procname");
	return c;
}

static struct trace_class *
trace_class_of(struct trace_sink *s, const bt_event_class *ec)
{
	struct trace_run	*run = s->run;
	struct trace_class	*c, *grown;
	size_t			 i, h = trace_hash(ec) & (TRACE_CLASS_CACHE - 1);
	const char		*name;

	/* Most events hit a direct-mapped cache; a miss scans the table. */
	if (s->class_keys[h] == ec)
		return &run->classes[s->class_slots[h]];
	for (i = run->nclasses; i > 0; i--)
		if (run->classes[i - 1].bt == ec) {
			c = &run->classes[i - 1];
			goto cache;
		}
	if (run->nclasses >= TRACE_CLASSES_MAX)
		return NULL;
	grown = realloc(run->classes, (run->nclasses + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	run->classes = grown;
	c = &grown[run->nclasses++];
	c->bt = ec;
	name = bt_event_class_get_name(ec);
	if (name == NULL)
		name = "(unnamed)";
	text_utf8_copy(c->name, sizeof(c->name), name, strlen(name));
	c->index = run->nclasses - 1;
cache:
	s->class_keys[h] = ec;
	s->class_slots[h] = c->index;
	return c;
}

static int64_t
trace_ns(const bt_clock_snapshot *cs)
{
	int64_t ns;

	if (cs == NULL || bt_clock_snapshot_get_ns_from_origin(cs, &ns) !=
	    BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
		return 0;
	return ns;
}

static int
trace_on_event(struct trace_sink *s, const bt_message *msg)
{
	const bt_event		*event = bt_message_event_borrow_event_const(msg);
	const bt_stream		*bt_stream = bt_event_borrow_stream_const(event);
	struct trace_context	*ctx;
	struct trace_event	 ev;
	const bt_field		*common, *f;
	int64_t			 v;

	ev.msg = msg;
	ev.bt = event;
	if ((ev.stream = trace_stream_of(s, bt_stream)) == NULL ||
	    (ev.cls = trace_class_of(s,
	    bt_event_borrow_class_const(event))) == NULL)
		return 0;	/* past the bounds: not counted, not a crash */
	ev.ts_ns = bt_stream_class_borrow_default_clock_class_const(
	    bt_stream_borrow_class_const(bt_stream)) != NULL ?
	    trace_ns(bt_message_event_borrow_default_clock_snapshot_const(msg)) :
	    0;
	ev.cpu = ev.stream->cpu;
	ev.vpid = ev.vtid = -1;
	ev.procname = NULL;
	if ((common = bt_event_borrow_common_context_field_const(event)) !=
	    NULL) {
		ctx = trace_context_of(s, bt_stream_borrow_class_const(bt_stream));
		if (ctx->vpid >= 0 && (f =
		    bt_field_structure_borrow_member_field_by_index_const(
		    common, (uint64_t)ctx->vpid)) != NULL &&
		    trace_field_int(f, &v) == 0)
			ev.vpid = v;
		if (ctx->vtid >= 0 && (f =
		    bt_field_structure_borrow_member_field_by_index_const(
		    common, (uint64_t)ctx->vtid)) != NULL &&
		    trace_field_int(f, &v) == 0)
			ev.vtid = v;
		if (ctx->procname >= 0)
			ev.procname = trace_field_string(
			    bt_field_structure_borrow_member_field_by_index_const(
			    common, (uint64_t)ctx->procname));
	}
	if (ev.stream->events++ == 0)
		ev.stream->first_ns = ev.ts_ns;
	ev.stream->last_ns = ev.ts_ns;
	s->run->events++;
	if (s->run->stop_after_ns != 0 && ev.ts_ns > s->run->stop_after_ns)
		return 1;
	return s->ops->event != NULL ? s->ops->event(s->arg, &ev) : 0;
}

static void
trace_on_packet(struct trace_sink *s, const bt_message *msg, int is_begin)
{
	const bt_packet		*packet;
	const bt_field		*ctx, *cpu;
	const bt_stream_class	*sc;
	struct trace_stream	*st;
	int64_t			 v;

	packet = is_begin ? bt_message_packet_beginning_borrow_packet_const(msg) :
	    bt_message_packet_end_borrow_packet_const(msg);
	if ((st = trace_stream_of(s, bt_packet_borrow_stream_const(packet))) ==
	    NULL)
		return;
	sc = bt_stream_borrow_class_const(st->bt);
	if (!is_begin) {
		if (bt_stream_class_packets_have_end_default_clock_snapshot(sc))
			st->last_packet_ns = trace_ns(
			    bt_message_packet_end_borrow_default_clock_snapshot_const(
			    msg));
		return;
	}
	if (st->packets++ == 0 &&
	    bt_stream_class_packets_have_beginning_default_clock_snapshot(sc))
		st->first_packet_ns = trace_ns(
		    bt_message_packet_beginning_borrow_default_clock_snapshot_const(
		    msg));
	if ((ctx = bt_packet_borrow_context_field_const(packet)) != NULL &&
	    (cpu = bt_field_structure_borrow_member_field_by_name_const(ctx,
	    "cpu_id")) != NULL && trace_field_int(cpu, &v) == 0)
		st->cpu = v;
}

static void
trace_on_discarded(struct trace_sink *s, const bt_message *msg,
    int is_packets)
{
	const bt_stream_class	*sc;
	struct trace_stream	*st;
	uint64_t		 count = 1;
	int64_t			 begin = 0, end = 0;
	int			 has_count, has_clock;

	st = trace_stream_of(s, is_packets ?
	    bt_message_discarded_packets_borrow_stream_const(msg) :
	    bt_message_discarded_events_borrow_stream_const(msg));
	if (st == NULL)
		return;
	sc = bt_stream_borrow_class_const(st->bt);
	if (is_packets) {
		has_count = bt_message_discarded_packets_get_count(msg,
		    &count) == BT_PROPERTY_AVAILABILITY_AVAILABLE;
		has_clock =
		    bt_stream_class_discarded_packets_have_default_clock_snapshots(sc);
		if (has_clock) {
			begin = trace_ns(
			    bt_message_discarded_packets_borrow_beginning_default_clock_snapshot_const(msg));
			end = trace_ns(
			    bt_message_discarded_packets_borrow_end_default_clock_snapshot_const(msg));
		}
		st->discarded_packets += has_count ? count : 1;
	} else {
		has_count = bt_message_discarded_events_get_count(msg,
		    &count) == BT_PROPERTY_AVAILABILITY_AVAILABLE;
		has_clock =
		    bt_stream_class_discarded_events_have_default_clock_snapshots(sc);
		if (has_clock) {
			begin = trace_ns(
			    bt_message_discarded_events_borrow_beginning_default_clock_snapshot_const(msg));
			end = trace_ns(
			    bt_message_discarded_events_borrow_end_default_clock_snapshot_const(msg));
		}
		st->discarded_events += has_count ? count : 1;
	}
	if (s->ops->discarded != NULL)
		s->ops->discarded(s->arg, st, is_packets, has_count ? count : 1,
		    begin, end);
}

static bt_graph_simple_sink_component_initialize_func_status
trace_sink_init(bt_message_iterator *it, void *arg)
{
	struct trace_sink *s = arg;

	s->it = it;
	return BT_GRAPH_SIMPLE_SINK_COMPONENT_INITIALIZE_FUNC_STATUS_OK;
}

static bt_graph_simple_sink_component_consume_func_status
trace_sink_consume(bt_message_iterator *it, void *arg)
{
	struct trace_sink			*s = arg;
	bt_message_array_const			 msgs;
	uint64_t				 count, i;
	int					 stop = 0;

	switch (bt_message_iterator_next(it, &msgs, &count)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
	default:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
	}
	for (i = 0; i < count; i++) {
		if (!stop) {
			switch (bt_message_get_type(msgs[i])) {
			case BT_MESSAGE_TYPE_EVENT:
				stop = s->run->is_clock_probe ||
				    trace_on_event(s, msgs[i]);
				break;
			case BT_MESSAGE_TYPE_PACKET_BEGINNING:
				/* The muxer gives every stream's beginning first. */
				stop = s->run->is_clock_probe;
				trace_on_packet(s, msgs[i], 1);
				break;
			case BT_MESSAGE_TYPE_PACKET_END:
				trace_on_packet(s, msgs[i], 0);
				break;
			case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
				trace_on_discarded(s, msgs[i], 0);
				break;
			case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
				trace_on_discarded(s, msgs[i], 1);
				break;
			case BT_MESSAGE_TYPE_STREAM_BEGINNING:
				trace_stream_of(s,
				    bt_message_stream_beginning_borrow_stream_const(
				    msgs[i]));
				break;
			default:
				break;
			}
		}
		bt_message_put_ref(msgs[i]);
	}
	if (stop) {
		s->is_stopped = 1;
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	}
	if (s->run->cpu_budget_ns != 0 &&
	    ++s->consumed % TRACE_CPU_CHECK_EVERY == 0 &&
	    trace_thread_cpu_ns() > s->run->cpu_budget_ns) {
		s->run->is_partial = 1;
		snprintf(s->run->partial_reason,
		    sizeof(s->run->partial_reason),
		    "stopped after %llu ms of CPU time (the budget)",
		    (unsigned long long)(s->run->cpu_budget_ns / 1000000));
		s->is_stopped = 1;
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	}
	return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
}

/* The library's error, root cause first, into buf; clears it. */
static void
trace_take_error(char *buf, size_t len, const char *what)
{
	const bt_error	*error = bt_current_thread_take_error();
	const char	*msg = NULL;
	uint64_t	 n;

	const bt_error_cause *cause;
	const char	*module;
	uint64_t	 i;

	/*
	 * Causes go from the outermost (0) to the root. The library's own
	 * ("component initialization method failed") say little; the
	 * plugin's say what is wrong with the trace: the deepest of those.
	 */
	if (error != NULL && (n = bt_error_get_cause_count(error)) > 0) {
		msg = bt_error_cause_get_message(
		    bt_error_borrow_cause_by_index(error, n - 1));
		for (i = n; i > 0; i--) {
			cause = bt_error_borrow_cause_by_index(error, i - 1);
			module = bt_error_cause_get_module_name(cause);
			if (module != NULL && strcmp(module, "libbabeltrace2")
			    != 0) {
				msg = bt_error_cause_get_message(cause);
				break;
			}
		}
	}
	snprintf(buf, len, "%s%s%s", what, msg ? ": " : "", msg ? msg : "");
	/* One line, whatever the library wrote. */
	for (; *buf != '\0'; buf++)
		if (*buf == '\n' || *buf == '\t')
			*buf = ' ';
	if (error != NULL)
		bt_error_release(error);
}

/* Adds "dir: why" to the run's warnings, as long as they fit. */
static void
trace_warn(struct trace_run *run, const char *dir, const char *why)
{
	size_t at = strlen(run->warnings);

	snprintf(run->warnings + at, sizeof(run->warnings) - at, "%s%s: %s",
	    at > 0 ? "; " : "", dir, why);
}

static int
trace_add_sources(struct trace_run *run, bt_graph *graph,
    const bt_component_class_source *fs, const bt_component_filter *muxer)
{
	const bt_component_source	*src;
	const bt_port_output		*out;
	const bt_port_input		*in;
	bt_value			*params, *inputs;
	char				 name[32], why[400];
	uint64_t			 p, nports;
	size_t				 i, added = 0;

	for (i = 0; i < run->ndirs; i++) {
		params = bt_value_map_create();
		inputs = bt_value_array_create();
		if (params == NULL || inputs == NULL ||
		    bt_value_array_append_string_element(inputs,
		    run->dirs[i]) != BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK ||
		    bt_value_map_insert_entry(params, "inputs", inputs) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) {
			bt_value_put_ref(params);
			bt_value_put_ref(inputs);
			snprintf(run->error, sizeof(run->error), "out of memory");
			return -1;
		}
		bt_value_put_ref(inputs);
		snprintf(name, sizeof(name), "src%zu", i);
		if (bt_graph_add_source_component(graph, fs, name, params,
		    BT_LOGGING_LEVEL_NONE, &src) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
			bt_value_put_ref(params);
			trace_take_error(why, sizeof(why), "unreadable");
			trace_warn(run, run->dirs[i], why);
			continue;
		}
		bt_value_put_ref(params);
		nports = bt_component_source_get_output_port_count(src);
		for (p = 0; p < nports; p++) {
			out = bt_component_source_borrow_output_port_by_index_const(
			    src, p);
			/* The muxer always has one free input port. */
			in = bt_component_filter_borrow_input_port_by_index_const(
			    muxer, bt_component_filter_get_input_port_count(
			    muxer) - 1);
			if (bt_graph_connect_ports(graph, out, in, NULL) !=
			    BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
				trace_take_error(run->error, sizeof(run->error),
				    "connecting a stream to the muxer");
				return -1;
			}
		}
		added += nports > 0;
	}
	if (added == 0) {
		snprintf(run->error, sizeof(run->error), "no readable trace: %s",
		    run->warnings[0] ? run->warnings : "no stream");
		return -1;
	}
	return 0;
}

int
trace_reader_run(struct trace_run *run, const struct trace_reader_ops *ops,
    void *arg)
{
	const bt_plugin				*ctf = NULL, *utils = NULL;
	const bt_component_class_source		*fs;
	const bt_component_class_filter		*muxer_class;
	const bt_component_filter		*muxer;
	const bt_component_sink			*sink;
	bt_graph				*graph = NULL;
	bt_graph_run_once_status		 status;
	struct trace_sink			 s;
	uint64_t				 cpu0 = trace_thread_cpu_ns();
	int					 ret = -1;

	memset(&s, 0, sizeof(s));
	s.run = run;
	s.ops = ops;
	s.arg = arg;
	s.keys = calloc(TRACE_HASH_SLOTS, sizeof(*s.keys));
	s.slots = calloc(TRACE_HASH_SLOTS, sizeof(*s.slots));
	run->error[0] = run->warnings[0] = run->partial_reason[0] = '\0';
	run->is_partial = 0;
	if (run->cpu_budget_ns != 0)
		run->cpu_budget_ns += cpu0;	/* a deadline from here on */
	if (s.keys == NULL || s.slots == NULL) {
		snprintf(run->error, sizeof(run->error), "out of memory");
		goto end;
	}
	if (bt_plugin_find("ctf", BT_FALSE, BT_FALSE, BT_TRUE, BT_TRUE, BT_FALSE,
	    &ctf) != BT_PLUGIN_FIND_STATUS_OK ||
	    bt_plugin_find("utils", BT_FALSE, BT_FALSE, BT_TRUE, BT_TRUE,
	    BT_FALSE, &utils) != BT_PLUGIN_FIND_STATUS_OK) {
		trace_take_error(run->error, sizeof(run->error),
		    "babeltrace2's ctf and utils plugins are not installed");
		goto end;
	}
	fs = bt_plugin_borrow_source_component_class_by_name_const(ctf, "fs");
	muxer_class = bt_plugin_borrow_filter_component_class_by_name_const(
	    utils, "muxer");
	if (fs == NULL || muxer_class == NULL ||
	    (graph = bt_graph_create(0)) == NULL) {
		snprintf(run->error, sizeof(run->error),
		    "babeltrace2's source.ctf.fs or filter.utils.muxer missing");
		goto end;
	}
	if (bt_graph_add_filter_component(graph, muxer_class, "muxer", NULL,
	    BT_LOGGING_LEVEL_NONE, &muxer) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		trace_take_error(run->error, sizeof(run->error), "muxer");
		goto end;
	}
	if (trace_add_sources(run, graph, fs, muxer) == -1)
		goto end;
	if (bt_graph_add_simple_sink_component(graph, "tracetrap",
	    trace_sink_init, trace_sink_consume, NULL, &s, &sink) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_connect_ports(graph,
	    bt_component_filter_borrow_output_port_by_index_const(muxer, 0),
	    bt_component_sink_borrow_input_port_by_index_const(sink, 0),
	    NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		trace_take_error(run->error, sizeof(run->error), "sink");
		goto end;
	}
	for (;;) {
		status = bt_graph_run_once(graph);
		if (status == BT_GRAPH_RUN_ONCE_STATUS_OK ||
		    status == BT_GRAPH_RUN_ONCE_STATUS_AGAIN)
			continue;
		if (status == BT_GRAPH_RUN_ONCE_STATUS_END)
			break;
		/* A decoding error: keep what was read, say where it stopped. */
		if (run->events == 0) {
			trace_take_error(run->error, sizeof(run->error),
			    "the trace cannot be decoded");
			goto end;
		}
		run->is_partial = 1;
		trace_take_error(run->partial_reason,
		    sizeof(run->partial_reason), "decoding stopped");
		break;
	}
	if (s.is_stopped && !run->is_partial && run->stop_after_ns == 0 &&
	    !run->is_clock_probe)
		run->is_partial = 1;	/* the caller stopped it */
	if (ops->end != NULL)
		ops->end(arg);
	ret = 0;
end:
	run->cpu_ns = trace_thread_cpu_ns() - cpu0;
	bt_graph_put_ref(graph);
	bt_plugin_put_ref(ctf);
	bt_plugin_put_ref(utils);
	free(s.keys);
	free(s.slots);
	return ret;
}

int
trace_stream_ns(const struct trace_stream *st, uint64_t cycles, int64_t *ns)
{
	if (!st->has_clock || st->clock_frequency == 0 ||
	    st->clock_frequency == UINT64_MAX)
		return -1;
	return bt_util_clock_cycles_to_ns_from_origin(cycles,
	    st->clock_frequency, st->clock_offset_s, st->clock_offset_cycles,
	    ns) == BT_UTIL_CLOCK_CYCLES_TO_NS_FROM_ORIGIN_STATUS_OK ? 0 : -1;
}

void
trace_run_free(struct trace_run *run)
{
	free(run->streams);
	free(run->classes);
	run->streams = NULL;
	run->classes = NULL;
	run->nstreams = run->nclasses = 0;
}
