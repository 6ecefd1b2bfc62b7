/*
 * Reading CTF traces with libbabeltrace2's C API: a graph of one
 * source.ctf.fs component per trace directory, utils.muxer (events of all
 * streams in time order) and a simple sink of ours that hands each event
 * to a callback, borrowed, never copied.
 *
 * The reader knows what every event has in LTTng traces — its time (UTC
 * ns: LTTng's clock classes have the Unix epoch as origin), its CPU (the
 * packet context's cpu_id), the process and thread (the vpid/vtid or
 * pid/tid contexts) and the procname context — and caches what it learns
 * per event class, so a caller's per-class work (which kind of event this
 * is, where its fields are) is done once, not per event.
 *
 * The run stops early, marked partial, past a CPU budget (the thread's
 * CPU time, so a busy machine does not cut an analysis short) or past a
 * time (events come in time order, so nothing later is wanted).
 */
#ifndef TT_TRACE_READER_H
#define TT_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include <babeltrace2/babeltrace.h>
#include <jansson.h>

struct trace_stream {
	const bt_stream	*bt;
	char		 path[4096];	/* the stream file, as babeltrace names it */
	char		 domain[16];	/* the trace's env.domain: ust, kernel */
	int64_t		 cpu;		/* -1 until a packet says */
	uint64_t	 events;
	uint64_t	 packets;
	uint64_t	 discarded_events;
	uint64_t	 discarded_packets;
	int64_t		 first_ns;	/* first event, 0 if none */
	int64_t		 last_ns;
	int64_t		 first_packet_ns;	/* first packet's beginning */
	int64_t		 last_packet_ns;	/* last packet's end */
	/* The default clock class: raw cycles to ns from origin. */
	int		 has_clock;
	uint64_t	 clock_frequency;
	int64_t		 clock_offset_s;
	uint64_t	 clock_offset_cycles;
};

/*
 * An event class, in the order the run met them: index stays valid for
 * the whole run (the pointer does not: the table grows), so a caller keeps
 * what it learns about a class in an array of its own, by index.
 */
struct trace_class {
	const bt_event_class	*bt;		/* only while the graph runs */
	char			 name[256];	/* valid UTF-8 */
	size_t			 index;
};

struct trace_event {
	const bt_message	*msg;		/* for a caller that keeps it */
	const bt_event		*bt;
	struct trace_class	*cls;
	struct trace_stream	*stream;
	int64_t			 ts_ns;
	int64_t			 cpu;		/* -1: unknown */
	int64_t			 vpid;		/* -1: unknown */
	int64_t			 vtid;
	const char		*procname;	/* NULL: unknown */
};

struct trace_reader_ops {
	/* Returns nonzero to stop the run (not an error). */
	int	(*event)(void *arg, struct trace_event *);
	void	(*discarded)(void *arg, struct trace_stream *, int is_packets,
		    uint64_t count, int64_t begin_ns, int64_t end_ns);
	/* After the last message, while the graph (and any message the
	 * caller holds a reference to) is still alive. */
	void	(*end)(void *arg);
};

struct trace_run {
	/* in */
	const char		**dirs;		/* CTF trace directories */
	size_t			 ndirs;
	uint64_t		 cpu_budget_ns;	/* 0: none */
	int64_t			 stop_after_ns;	/* 0: none */
	int			 is_clock_probe;	/* stop at the first packet */
	/* out */
	int			 is_partial;
	char			 partial_reason[256];
	char			 error[512];	/* when the run returns -1 */
	char			 warnings[512];	/* traces skipped, and why */
	struct trace_stream	*streams;
	size_t			 nstreams;
	uint64_t		 cpu_ns;
	uint64_t		 events;
	/* internal */
	struct trace_class	*classes;
	size_t			 nclasses;
};

/*
 * Runs the graph to the end (or to a stop), calling ops for each message.
 * Returns 0 (the run's streams[] and counters filled, is_partial when it
 * stopped early), or -1 with error set when nothing could be read: no
 * trace's metadata could be parsed, or a stream could not be decoded.
 * A stream that breaks after some events ends the run partial, with what
 * was read kept.
 */
int	trace_reader_run(struct trace_run *, const struct trace_reader_ops *,
	    void *arg);
void	trace_run_free(struct trace_run *);
/* A stream's raw clock value in ns from origin, or -1 without a clock. */
int	trace_stream_ns(const struct trace_stream *, uint64_t cycles,
	    int64_t *ns);

/* The index of payload member name in the event's class, or -1. */
int	trace_class_member(const struct trace_class *, const char *name);
/* The payload member at index (from trace_class_member), or NULL. */
const bt_field *trace_event_member(const struct trace_event *, int index);
/* Integers (signed, unsigned, enumerations, booleans) as int64_t. */
int	trace_field_int(const bt_field *, int64_t *);
const char *trace_field_string(const bt_field *);
/* A value the way LTTng's captures print it, for comparisons. */
void	trace_field_format(const bt_field *, char *buf, size_t len);
/* Any field as JSON; nesting and sizes are bounded. */
json_t	*trace_field_json(const bt_field *);
/* The payload as a JSON object of its members. */
json_t	*trace_field_payload(const struct trace_event *);

#endif
