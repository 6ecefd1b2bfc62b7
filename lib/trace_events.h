/*
 * The drill-down: the events of a snapshot in a time range, for a
 * process, a thread or an event name, bounded. It seeks rather than
 * reading from the start: the packets whose time span overlaps the range
 * (found from the packet headers, ctf_dir.c) are copied into a private
 * temporary trace, and only they are decoded. A stream whose packets
 * could not be indexed is read whole. Shared by the relay's
 * /v1/snapshots/<id>/events and `tracetrap events`.
 */
#ifndef TT_TRACE_EVENTS_H
#define TT_TRACE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define TRACE_EVENTS_LIMIT_DEFAULT	1000
#define TRACE_EVENTS_LIMIT_MAX		10000

struct trace_query {
	int64_t		 from_ns;	/* 0: from the start */
	int64_t		 to_ns;		/* 0: to the end */
	int64_t		 vpid;		/* -1: any */
	int64_t		 vtid;		/* -1: any */
	char		 name[256];	/* fnmatch pattern; empty: any */
	size_t		 limit;		/* at most TRACE_EVENTS_LIMIT_MAX */
	uint64_t	 cpu_budget_ms;	/* 0: none */
	const char	*tmpdir;	/* for the packets of the range */
	uint64_t	 max_range_bytes;	/* of packets copied */
};

void	trace_query_init(struct trace_query *);

/*
 * Runs the query on the snapshot (or bare trace) in dir. Returns
 * {"events":[...], "truncated":bool, "seek":"packets"|"whole",
 * "packets_bytes":N}, or NULL with err set.
 */
json_t	*trace_events_query(const char *dir, const struct trace_query *,
	    char *err, size_t errlen);

#endif
