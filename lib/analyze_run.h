/*
 * The analyzer's insides (analyze.h is its interface): the state of one
 * analysis and what its files share.
 *   analyze.c         the pass over the trace, the summary's assembly,
 *                     summary.json
 *   analyze_json.c    streams, channels and history; processes and the
 *                     timeline; counts by name and by CPU
 *   analyze_kernel.c  on-CPU time from sched_switch
 *   analyze_rules.c   the manifest's triggers, LTTng ones located in the
 *                     trace
 *   analyze_http.c    HTTP requests (its own header)
 */
#ifndef TT_ANALYZE_RUN_H
#define TT_ANALYZE_RUN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "analyze_http.h"
#include "ctf_dir.h"
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

struct analyze_run {
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

/* analyze.c */
size_t		 analyze_hash(int64_t);
void		 analyze_copy(char *dst, size_t len, const char *src);
/* A payload member of ev as a string ("" if absent) or an integer. */
const char	*analyze_string(const struct trace_event *, int index);
int64_t		 analyze_int(const struct trace_event *, int index,
		    int64_t absent);

/* analyze_json.c: parts of the summary. */
void		 analyze_json_streams(struct analyze_run *,
		    const struct ctf_dir *, json_t *summary);
int64_t		 analyze_json_trace_end(const struct analyze_run *);
void		 analyze_json_processes(struct analyze_run *, json_t *summary);
json_t		*analyze_json_by_name(const struct analyze_run *);
json_t		*analyze_json_by_cpu(const struct analyze_run *);

/* analyze_kernel.c */
void		 analyze_kernel_switch(struct analyze_run *,
		    const struct an_class *, const struct trace_event *);
void		 analyze_kernel_json(struct analyze_run *,
		    const json_t *manifest, json_t *summary);

/* analyze_rules.c */
void		 analyze_rules_from(struct analyze_run *, const json_t *triggers);
void		 analyze_rules_candidate(struct an_rule *,
		    const struct trace_event *);
void		 analyze_rules_end(void *arg);
json_t		*analyze_rules_json(const struct analyze_run *,
		    const json_t *triggers, const json_t *requests);

#endif
