/*
 * A worker thread for blocking work (liblttng-ctl, disk, fsync), so the
 * event loop never blocks. Work items run on the worker; their done
 * callbacks run on the event loop. Submitting never blocks and never
 * fails: the queue is a list under a mutex, and a pipe only wakes the
 * loop up.
 *
 * Items may belong to a flow (one per relay connection, say): a flow's
 * items run one at a time, in submission order, and the flows with work
 * take turns, one item each, so one busy flow cannot starve the others.
 * Items without a flow form one more flow of their own, whose items may
 * run several at a time on a worker with several threads.
 */
#ifndef TT_WORKER_H
#define TT_WORKER_H

#include <event2/event.h>

struct worker;
struct worker_flow;

#define WORKER_THREADS_MAX	16

/*
 * name (15 bytes at most: "tt-disk") names the thread, as top -H, perf
 * and /proc/PID/task/TID/comm show it.
 */
struct worker	*worker_start(struct event_base *, const char *name);
/*
 * nthreads threads taking items from one queue: items then run in
 * submission order, but several at a time (the relay's query threads).
 */
struct worker	*worker_start_threads(struct event_base *, unsigned nthreads,
		    const char *name);
/*
 * No thread at all: items run only when worker_run_next() is called, and
 * their done callbacks when worker_complete_next() is (or the event loop
 * sees them). For tests that choose the order of every step.
 */
struct worker	*worker_start_manual(struct event_base *);
/* run(arg) on the worker, then done(arg) on the event loop. */
void		 worker_submit(struct worker *, void (*run)(void *),
		    void (*done)(void *), void *arg);
/* A flow of w's, and its items; free a flow once its items are done. */
struct worker_flow *worker_flow_new(struct worker *);
void		 worker_flow_free(struct worker_flow *);
void		 worker_submit_flow(struct worker *, struct worker_flow *,
		    void (*run)(void *), void (*done)(void *), void *arg);
/* Items submitted whose done callback has not run yet. */
unsigned	 worker_pending(const struct worker *);
/* Manual workers: runs the next item in turn; 0 when none waits. */
int		 worker_run_next(struct worker *);
/* Runs the oldest done callback not run yet; 0 when there is none. */
int		 worker_complete_next(struct worker *);
/* Runs what is queued (done callbacks included), then joins the thread. */
void		 worker_stop(struct worker *);

#endif
