/*
 * The one worker-thread queue (worker.h): the recorder's LTTng worker,
 * its upload reader and the relay's disk thread each run one. Items go
 * in under a mutex; a pipe wakes the event loop, which runs their done
 * callbacks.
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
	TAILQ_ENTRY(worker_item)	 entry;
};
TAILQ_HEAD(worker_items, worker_item);

struct worker {
	struct event		*ev;
	int			 fds[2];	/* wake-up pipe: worker -> loop */
	pthread_t		 threads[WORKER_THREADS_MAX];
	unsigned		 nthreads;
	unsigned		 pending;	/* the loop's count */

	pthread_mutex_t		 lock;		/* guards todo, done, stop */
	pthread_cond_t		 wakeup;
	struct worker_items	 todo;
	struct worker_items	 done;
	int			 is_stopping;
};

static void *
worker_thread(void *arg)
{
	struct worker		*w = arg;
	struct worker_item	*item;
	char			 byte = 0;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (TAILQ_EMPTY(&w->todo) && !w->is_stopping)
			pthread_cond_wait(&w->wakeup, &w->lock);
		if ((item = TAILQ_FIRST(&w->todo)) == NULL)
			break;
		TAILQ_REMOVE(&w->todo, item, entry);
		pthread_mutex_unlock(&w->lock);
		item->run(item->arg);
		pthread_mutex_lock(&w->lock);
		TAILQ_INSERT_TAIL(&w->done, item, entry);
		/* A full pipe already holds a wake-up: nothing is lost. */
		if (write(w->fds[1], &byte, 1) == -1 && errno != EAGAIN)
			log_warn("worker: wake-up");
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
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

struct worker *
worker_start(struct event_base *base)
{
	return worker_start_threads(base, 1);
}

struct worker *
worker_start_threads(struct event_base *base, unsigned nthreads)
{
	struct worker	*w;
	unsigned	 i;
	int		 error;

	w = xcalloc(1, sizeof(*w));
	TAILQ_INIT(&w->todo);
	TAILQ_INIT(&w->done);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wakeup, NULL);
	if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe2");
	w->ev = event_new(base, w->fds[0], EV_READ | EV_PERSIST,
	    worker_on_wakeup, w);
	event_add(w->ev, NULL);
	w->nthreads = nthreads < 1 ? 1 : nthreads > WORKER_THREADS_MAX ?
	    WORKER_THREADS_MAX : nthreads;
	for (i = 0; i < w->nthreads; i++)
		if ((error = pthread_create(&w->threads[i], NULL, worker_thread,
		    w)) != 0) {
			errno = error;
			fatal("pthread_create");
		}
	return w;
}

void
worker_submit(struct worker *w, void (*run)(void *), void (*done)(void *),
    void *arg)
{
	struct worker_item *item;

	item = xcalloc(1, sizeof(*item));
	item->run = run;
	item->done = done;
	item->arg = arg;
	pthread_mutex_lock(&w->lock);
	TAILQ_INSERT_TAIL(&w->todo, item, entry);
	pthread_cond_signal(&w->wakeup);
	pthread_mutex_unlock(&w->lock);
	w->pending++;
}

unsigned
worker_pending(const struct worker *w)
{
	return w->pending;
}

void
worker_stop(struct worker *w)
{
	struct pollfd	pfd;
	unsigned	i;

	while (w->pending > 0) {
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
