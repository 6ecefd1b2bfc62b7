/*
 * A worker thread for blocking work (liblttng-ctl, disk, fsync), so the
 * event loop never blocks. Work items run one at a time, in submission
 * order, on the worker; their done callbacks run on the event loop.
 * Submitting never blocks and never fails: the queue is a list under a
 * mutex, and a pipe only wakes the loop up.
 */
#ifndef TT_WORKER_H
#define TT_WORKER_H

#include <event2/event.h>

struct worker;

#define WORKER_THREADS_MAX	16

struct worker	*worker_start(struct event_base *);
/*
 * nthreads threads taking items from one queue: items then run in
 * submission order, but several at a time (the relay's query threads).
 */
struct worker	*worker_start_threads(struct event_base *, unsigned nthreads);
/* run(arg) on the worker, then done(arg) on the event loop. */
void		 worker_submit(struct worker *, void (*run)(void *),
		    void (*done)(void *), void *arg);
/* Items submitted whose done callback has not run yet. */
unsigned	 worker_pending(const struct worker *);
/* Runs what is queued (done callbacks included), then joins the thread. */
void		 worker_stop(struct worker *);

#endif
