/*
 * The one worker-thread queue (worker.h): the recorder's LTTng worker,
 * its upload reader and the relay's disk thread each run one. Items go
 * in under a mutex; a pipe wakes the event loop, which runs their done
 * callbacks.
 *
 * Items wait in flows, and the flows that have work wait their turn in
 * one list: a thread takes the first flow's first item and puts the flow
 * back at the end of the list, so flows are served round robin. A flow
 * with an item running is out of the list until it is done: its items
 * never run at once, nor out of order. The flowless items share a flow
 * that is back in the list at once, so several threads may run them
 * together, as they did before flows.
 */
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"
#include "xmalloc.h"

struct worker_item {
	void				(*run)(void *);
	void				(*done)(void *);
	void				*arg;
	struct worker_flow		*flow;
	TAILQ_ENTRY(worker_item)	 entry;
};
TAILQ_HEAD(worker_items, worker_item);

struct worker_flow {
	struct worker			*worker;
	struct worker_items		 items;
	int				 is_queued;	/* in worker.turns */
	int				 is_running;	/* an item of it runs */
	int				 is_shared;	/* the flowless items */
	TAILQ_ENTRY(worker_flow)	 entry;
};
TAILQ_HEAD(worker_flows, worker_flow);

struct worker {
	struct event		*ev;
	int			 fds[2];	/* wake-up pipe: worker -> loop */
	pthread_t		 threads[WORKER_THREADS_MAX];
	unsigned		 nthreads;	/* 0: a manual worker */
	unsigned		 pending;	/* the loop's count */

	pthread_mutex_t		 lock;	/* guards flows, turns, done, stop */
	pthread_cond_t		 wakeup;
	struct worker_flow	 shared;
	struct worker_flows	 turns;		/* flows with an item to run */
	struct worker_items	 done;
	int			 is_stopping;
};

/* With the lock: the next item in turn, its flow updated; NULL if none. */
static struct worker_item *
worker_take(struct worker *w)
{
	struct worker_flow	*flow;
	struct worker_item	*item;

	if ((flow = TAILQ_FIRST(&w->turns)) == NULL)
		return NULL;
	TAILQ_REMOVE(&w->turns, flow, entry);
	flow->is_queued = 0;
	item = TAILQ_FIRST(&flow->items);
	TAILQ_REMOVE(&flow->items, item, entry);
	if (!flow->is_shared)
		flow->is_running = 1;
	else if (!TAILQ_EMPTY(&flow->items)) {
		TAILQ_INSERT_TAIL(&w->turns, flow, entry);
		flow->is_queued = 1;
	}
	return item;
}

/* With the lock: item ran; its flow takes its turn again if it has work. */
static void
worker_finish(struct worker *w, struct worker_item *item)
{
	struct worker_flow	*flow = item->flow;
	char			 byte = 0;

	if (!flow->is_shared) {
		flow->is_running = 0;
		if (!TAILQ_EMPTY(&flow->items) && !flow->is_queued) {
			TAILQ_INSERT_TAIL(&w->turns, flow, entry);
			flow->is_queued = 1;
			pthread_cond_signal(&w->wakeup);
		}
	}
	TAILQ_INSERT_TAIL(&w->done, item, entry);
	/* A full pipe already holds a wake-up: nothing is lost. */
	if (write(w->fds[1], &byte, 1) == -1 && errno != EAGAIN)
		log_warn("worker: wake-up");
}

static void *
worker_thread(void *arg)
{
	struct worker		*w = arg;
	struct worker_item	*item;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (TAILQ_EMPTY(&w->turns) && !w->is_stopping)
			pthread_cond_wait(&w->wakeup, &w->lock);
		if ((item = worker_take(w)) == NULL)
			break;
		pthread_mutex_unlock(&w->lock);
		item->run(item->arg);
		pthread_mutex_lock(&w->lock);
		worker_finish(w, item);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int
worker_complete_next(struct worker *w)
{
	struct worker_item	*item;

	pthread_mutex_lock(&w->lock);
	if ((item = TAILQ_FIRST(&w->done)) != NULL)
		TAILQ_REMOVE(&w->done, item, entry);
	pthread_mutex_unlock(&w->lock);
	if (item == NULL)
		return 0;
	w->pending--;
	item->done(item->arg);
	free(item);
	return 1;
}

static void
worker_complete(struct worker *w)
{
	struct worker_items	 done;
	struct worker_item	*item;
	char			 buf[256];

	while (read(w->fds[0], buf, sizeof(buf)) > 0)
		;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&w->lock);
	TAILQ_CONCAT(&done, &w->done, entry);
	pthread_mutex_unlock(&w->lock);
	while ((item = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, item, entry);
		w->pending--;
		item->done(item->arg);
		free(item);
	}
}

static void
worker_on_wakeup(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	worker_complete(arg);
}

static struct worker *
worker_new(struct event_base *base)
{
	struct worker	*w;

	w = xcalloc(1, sizeof(*w));
	TAILQ_INIT(&w->turns);
	TAILQ_INIT(&w->done);
	TAILQ_INIT(&w->shared.items);
	w->shared.worker = w;
	w->shared.is_shared = 1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wakeup, NULL);
	if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe2");
	w->ev = event_new(base, w->fds[0], EV_READ | EV_PERSIST,
	    worker_on_wakeup, w);
	event_add(w->ev, NULL);
	return w;
}

struct worker *
worker_start(struct event_base *base, const char *name)
{
	return worker_start_threads(base, 1, name);
}

struct worker *
worker_start_threads(struct event_base *base, unsigned nthreads,
    const char *name)
{
	struct worker	*w = worker_new(base);
	unsigned	 i;
	int		 error;

	w->nthreads = nthreads < 1 ? 1 : nthreads > WORKER_THREADS_MAX ?
	    WORKER_THREADS_MAX : nthreads;
	for (i = 0; i < w->nthreads; i++)
		if ((error = pthread_create(&w->threads[i], NULL, worker_thread,
		    w)) != 0) {
			errno = error;
			fatal("pthread_create");
		} else
			pthread_setname_np(w->threads[i], name);
	return w;
}

struct worker *
worker_start_manual(struct event_base *base)
{
	return worker_new(base);
}

struct worker_flow *
worker_flow_new(struct worker *w)
{
	struct worker_flow *flow;

	flow = xcalloc(1, sizeof(*flow));
	flow->worker = w;
	TAILQ_INIT(&flow->items);
	return flow;
}

/* The caller's items are all done (their done callbacks ran or run now). */
void
worker_flow_free(struct worker_flow *flow)
{
	free(flow);
}

void
worker_submit_flow(struct worker *w, struct worker_flow *flow,
    void (*run)(void *), void (*done)(void *), void *arg)
{
	struct worker_item *item;

	if (flow == NULL)
		flow = &w->shared;
	item = xcalloc(1, sizeof(*item));
	item->run = run;
	item->done = done;
	item->arg = arg;
	item->flow = flow;
	pthread_mutex_lock(&w->lock);
	TAILQ_INSERT_TAIL(&flow->items, item, entry);
	if (!flow->is_queued && !flow->is_running) {
		TAILQ_INSERT_TAIL(&w->turns, flow, entry);
		flow->is_queued = 1;
	}
	pthread_cond_signal(&w->wakeup);
	pthread_mutex_unlock(&w->lock);
	w->pending++;
}

void
worker_submit(struct worker *w, void (*run)(void *), void (*done)(void *),
    void *arg)
{
	worker_submit_flow(w, NULL, run, done, arg);
}

unsigned
worker_pending(const struct worker *w)
{
	return w->pending;
}

int
worker_run_next(struct worker *w)
{
	struct worker_item	*item;

	pthread_mutex_lock(&w->lock);
	item = w->nthreads == 0 ? worker_take(w) : NULL;
	pthread_mutex_unlock(&w->lock);
	if (item == NULL)
		return 0;
	item->run(item->arg);
	pthread_mutex_lock(&w->lock);
	worker_finish(w, item);
	pthread_mutex_unlock(&w->lock);
	return 1;
}

void
worker_stop(struct worker *w)
{
	struct pollfd	pfd;
	unsigned	i;

	while (w->pending > 0) {
		if (w->nthreads == 0) {
			while (worker_run_next(w) || worker_complete_next(w))
				;
			continue;
		}
		pfd.fd = w->fds[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			break;
		worker_complete(w);
	}
	pthread_mutex_lock(&w->lock);
	w->is_stopping = 1;
	pthread_cond_broadcast(&w->wakeup);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	event_free(w->ev);
	close(w->fds[0]);
	close(w->fds[1]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wakeup);
	free(w);
}
