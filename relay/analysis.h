/*
 * Every stored snapshot analyzed, off the event loop and off the disk
 * thread: analysis threads at a lower priority take jobs from a bounded
 * queue, run the analyzer (lib/analyze.c) in a child process of the
 * relay's own binary (tracetrap-relay --analyze DIR: a hostile trace
 * that crashes libbabeltrace2 costs that child only, lib/isolate.h),
 * write summary.json beside manifest.json atomically, and index its key
 * figures in the catalog through a connection of their own.
 *
 * New snapshots (after their ACK) come first. When the queue is empty,
 * the catalog is asked for snapshots without a current summary (stored
 * before the analyzer existed, a rebuilt catalog, an older
 * ANALYZER_VERSION): those are analyzed at [analysis] backfill per
 * minute at most.
 *
 * The drill-down (GET /v1/snapshots/<id>/events) goes to query threads,
 * apart, so an investigator is not queued behind the backfill.
 */
#ifndef TT_ANALYSIS_H
#define TT_ANALYSIS_H

#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

struct analysis;
struct trace_query;

struct analysis_config {
	unsigned	 workers;		/* analysis threads */
	uint64_t	 cpu_budget_ms;		/* per snapshot: then partial */
	uint64_t	 memory_bytes;		/* the child's address space */
	unsigned	 timeout_ms;		/* the child's wall clock */
	unsigned	 queue_max;		/* new snapshots waiting */
	unsigned	 backfill_per_minute;	/* 0: no backfill */
	unsigned	 query_threads;
	unsigned	 queries_max;		/* waiting or running */
	uint64_t	 wait_for_uploads_ms;	/* a job's wait at most */
};

struct analysis_stats {
	uint64_t	 submitted;
	uint64_t	 dropped;		/* the queue was full */
	uint64_t	 done;
	uint64_t	 failed;		/* summary says the trace was unreadable */
	uint64_t	 backfilled;
	uint64_t	 queries;
	uint64_t	 queries_refused;	/* too many at once */
	unsigned	 queued;
	unsigned	 running;
	unsigned	 waiting;		/* queued, for uploads to end */
	/* From the ACK to the summary in the catalog, new snapshots only. */
	uint64_t	 ready_p50_ms;
	uint64_t	 ready_p99_ms;
	uint64_t	 ready_max_ms;
	uint64_t	 ready_count;
};

/*
 * Starts the threads: store_dir is the store, catalog_path the SQLite
 * file. The children are the relay's own binary (/proc/self/exe).
 */
struct analysis	*analysis_start(struct event_base *,
		    const char *store_dir, const char *catalog_path,
		    const struct analysis_config *, char *err, size_t errlen);
/* Applies a reloaded [analysis] section (the thread counts stay). */
void		 analysis_configure(struct analysis *,
		    const struct analysis_config *);
/* Kills the running children, joins the threads; frees. */
void		 analysis_stop(struct analysis *);

/* A snapshot just made durable (rel_path under the store). Never blocks. */
void		 analysis_submit(struct analysis *, const char *id,
		    const char *rel_path);

/*
 * How many uploads the relay is receiving (BEGIN until the snapshot is
 * stored or dropped). While there are some, a job waits to start, up to
 * wait_for_uploads after it was queued: the uploads of an incident's
 * other nodes come first, its analysis when the wire is quiet.
 */
void		 analysis_uploads(struct analysis *, unsigned);

/* Copies the counters (they are updated by the threads). */
void		 analysis_get_stats(struct analysis *, struct analysis_stats *);

/*
 * The drill-down: the trace read in a child process, on one of
 * [analysis] query_threads; done(arg, answer, http_status, error) runs
 * on the event loop. Returns -1 (and calls nothing) when queries_max
 * are already waiting or running: the caller answers 503.
 */
typedef void (*analysis_done)(void *arg, json_t *answer, int status,
	    const char *error);
int		 analysis_events(struct analysis *, const char *rel_path,
		    const struct trace_query *, analysis_done, void *arg);

/*
 * tracetrap-relay --analyze DIR [--budget MS]
 * tracetrap-relay --events DIR [--from NS] [--to NS] [--vpid N] [--vtid N]
 *                 [--name PATTERN] [--limit N] [--budget MS] [--tmpdir DIR]
 * The children's side (analysis_child.c): prints one JSON document.
 */
int		 analysis_child_main(int argc, char **argv);

#endif
