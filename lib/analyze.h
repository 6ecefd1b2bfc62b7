/*
 * The snapshot analyzer, shared by the relay (every snapshot, on arrival)
 * and the CLI (`tracetrap show DIR`, no relay needed): reads a snapshot's
 * manifest and CTF trace and answers, in summary.json, what an
 * investigator asks first — what was recorded and how far back, which
 * processes and events, which HTTP requests were slow or in flight, who
 * held the CPUs, and where in the trace each trigger's cause is.
 *
 * One streaming pass in memory that does not grow with the trace (every
 * table is bounded and counts what it could not keep), under a CPU
 * budget past which the summary is marked partial. The fields are those
 * shared/DESIGN.md fixes ("Investigation") and README.md documents.
 */
#ifndef TT_ANALYZE_H
#define TT_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Bump when a summary's content changes: older ones are redone. */
#define ANALYZER_VERSION	1
#define ANALYZE_SUMMARY		"summary.json"
#define ANALYZE_MANIFEST_MAX	(1 << 20)
#define ANALYZE_SUMMARY_MAX	(16u << 20)	/* a summary.json read back */
/* The requests of a snapshot's brief (the catalog keeps it). */
#define ANALYZE_BRIEF_REQUESTS	20

struct analyze_options {
	uint64_t	 cpu_budget_ms;		/* 0: none */
};

/*
 * Analyzes the snapshot in dir: dir/manifest.json when there is one, and
 * the CTF traces under dir/trace (or under dir itself, for a bare trace).
 * A trace that cannot be read still gives a summary, with "error" saying
 * why. Returns NULL only when out of memory.
 */
json_t	*analyze_snapshot(const char *dir, const struct analyze_options *);

/*
 * A summary saying why there is none: the manifest's fields and
 * triggers, the fixed fields empty, and "error".
 */
json_t	*analyze_failed(const char *dir, const char *why);

/*
 * Cuts a summary's requests (slowest first) to its max slowest, keeping
 * every one that triggered or was in flight, and sets requests_omitted
 * to how many went: what a view of many snapshots lists of each.
 */
void	analyze_trim_requests(json_t *summary, size_t max);

/* The trace root of a snapshot directory: dir/trace, or dir. */
void	analyze_trace_root(const char *dir, char *root, size_t len);

/* Writes dir/summary.json atomically (temporary file, fsync, rename). */
int	analyze_write(const char *dir, const json_t *summary, char *err,
	    size_t errlen);

/* Loads a JSON file (a manifest, a summary) of at most max bytes, or
 * NULL with err set. */
json_t	*analyze_load_json(const char *path, size_t max, char *err,
	    size_t errlen);

#endif
