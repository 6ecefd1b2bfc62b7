/*
 * The sampling watchers (cpu, memory) and, through psi.c, the pressure
 * watchers: the recorder's own trigger sources that need no application.
 * They run on the recorder's event loop, one timer each, and feed the
 * same policy as every trigger (source cpu, memory or psi).
 *
 * A process target is matched by command name. The process list is read
 * only every [trigger] process_rescan (comm files of every pid); between
 * rescans a tick reads only the stat files of the pids it matched, so the
 * cost of a tick does not grow with the number of processes on the node.
 */
#ifndef TT_WATCHER_H
#define TT_WATCHER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "trigger_config.h"

struct evbuffer;
struct event_base;
struct event_rule_set;
struct trigger_sink;
struct watchers;

/*
 * Builds the watchers of confs, checking what only the running system can
 * tell: the process is running, the pid file names one, the cgroup and
 * the /proc files can be read, the kernel takes the PSI trigger. Nothing
 * runs yet. Each fires a trigger of source "cpu", "memory" or "psi" into
 * sink (copied). NULL with every problem, "name:line: message\n" each, in
 * err.
 */
struct watchers	*watchers_new(const struct trigger_confs *,
		    const struct trigger_sink *, const char *name, char *err,
		    size_t errlen);
/*
 * Starts the timers (and the PSI thread: after a daemon()'s fork). A
 * watcher of previous with the same settings hands
 * over its state (a watcher that fired stays fired across a reload).
 * previous may be NULL; it is not freed.
 */
void		 watchers_start(struct watchers *, struct event_base *,
		    struct watchers *previous);
void		 watchers_free(struct watchers *);

size_t		 watchers_count(const struct watchers *);
/* [{name, kind, target, value, unit, threshold, rearm, state, ..}] */
json_t		*watchers_status(const struct watchers *);
/*
 * Their families; the event rules' fires (event_rule.h, may be NULL) go
 * into tracetrap_watcher_fires_total with the others'.
 */
void		 watchers_metrics(const struct watchers *,
		    const struct event_rule_set *, struct evbuffer *);

/*
 * For the unit tests: one sample of every watcher, at a monotonic time
 * of their choosing, and a process rescan.
 */
void		 watchers_tick_all(struct watchers *, uint64_t now_us);
void		 watchers_rescan_now(struct watchers *);

#endif
