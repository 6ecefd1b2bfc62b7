/*
 * Unit tests of lib/worker.c: flows take turns (one connection's long
 * queue does not keep another's first item waiting), a flow's items run
 * in order and never two at once whatever the threads, the flowless
 * items still run side by side, and a manual worker runs exactly what it
 * is told to.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "worker.h"

#define LOG_MAX		256

struct trace {
	pthread_mutex_t	 lock;
	char		 log[LOG_MAX];	/* one letter per item run */
	size_t		 n;
	int		 running[4];	/* per flow, items running now */
	int		 overlapped;	/* a flow ran two items at once */
	int		 out_of_order;
	int		 last[4];	/* per flow, the last sequence run */
	int		 done;
	int		 shared_now, shared_max;
};

struct item {
	struct trace	*t;
	int		 flow;		/* 0..3, or -1: flowless */
	int		 seq;
	useconds_t	 sleep_us;
};

static void
item_run(void *arg)
{
	struct item	*it = arg;
	struct trace	*t = it->t;

	pthread_mutex_lock(&t->lock);
	if (it->flow >= 0) {
		if (t->running[it->flow]++ > 0)
			t->overlapped = 1;
		if (it->seq != t->last[it->flow] + 1)
			t->out_of_order = 1;
		t->last[it->flow] = it->seq;
	} else if (++t->shared_now > t->shared_max)
		t->shared_max = t->shared_now;
	if (t->n < LOG_MAX - 1)
		t->log[t->n++] = it->flow >= 0 ? (char)('A' + it->flow) : '*';
	pthread_mutex_unlock(&t->lock);
	if (it->sleep_us > 0)
		usleep(it->sleep_us);
	pthread_mutex_lock(&t->lock);
	if (it->flow >= 0)
		t->running[it->flow]--;
	else
		t->shared_now--;
	pthread_mutex_unlock(&t->lock);
}

static void
item_done(void *arg)
{
	struct item *it = arg;

	it->t->done++;
	free(it);
}

static void
submit(struct worker *w, struct worker_flow *flow, struct trace *t,
    int flow_index, int seq, useconds_t sleep_us)
{
	struct item *it = calloc(1, sizeof(*it));

	assert_non_null(it);
	it->t = t;
	it->flow = flow_index;
	it->seq = seq;
	it->sleep_us = sleep_us;
	worker_submit_flow(w, flow, item_run, item_done, it);
}

static void
trace_init(struct trace *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

/* Ten items of A queued first; B's two come in turn, not after A's ten. */
static void
test_flows_take_turns(void **state)
{
	struct event_base	*base = event_base_new();
	struct worker		*w = worker_start_manual(base);
	struct worker_flow	*a = worker_flow_new(w), *b = worker_flow_new(w);
	struct trace		 t;
	int			 i;

	(void)state;
	trace_init(&t);
	for (i = 1; i <= 10; i++)
		submit(w, a, &t, 0, i, 0);
	submit(w, b, &t, 1, 1, 0);
	submit(w, b, &t, 1, 2, 0);
	assert_int_equal(worker_pending(w), 12);
	while (worker_run_next(w))
		;
	assert_string_equal(t.log, "ABABAAAAAAAA");
	assert_int_equal(t.done, 0);
	/* Done callbacks run only when asked, one at a time. */
	assert_int_equal(worker_complete_next(w), 1);
	assert_int_equal(t.done, 1);
	worker_stop(w);
	assert_int_equal(t.done, 12);
	worker_flow_free(a);
	worker_flow_free(b);
	event_base_free(base);
}

/* A flow submitted to while its item runs waits for it: never two. */
static void
test_flow_order_with_threads(void **state)
{
	struct event_base	*base = event_base_new();
	struct worker		*w = worker_start_threads(base, 4, "test");
	struct worker_flow	*flows[4];
	struct trace		 t;
	int			 i, f;

	(void)state;
	trace_init(&t);
	for (f = 0; f < 4; f++)
		flows[f] = worker_flow_new(w);
	for (i = 1; i <= 30; i++)
		for (f = 0; f < 4; f++)
			submit(w, flows[f], &t, f, i, (useconds_t)(i % 3) * 200);
	worker_stop(w);
	assert_int_equal(t.done, 120);
	assert_int_equal(t.overlapped, 0);
	assert_int_equal(t.out_of_order, 0);
	for (f = 0; f < 4; f++) {
		assert_int_equal(t.last[f], 30);
		worker_flow_free(flows[f]);
	}
	event_base_free(base);
}

/* Flowless items on several threads still run side by side. */
static void
test_shared_items_run_together(void **state)
{
	struct event_base	*base = event_base_new();
	struct worker		*w = worker_start_threads(base, 3, "test");
	struct trace		 t;
	int			 i;

	(void)state;
	trace_init(&t);
	for (i = 0; i < 6; i++)
		submit(w, NULL, &t, -1, 0, 50000);
	worker_stop(w);
	assert_int_equal(t.done, 6);
	assert_true(t.shared_max >= 2);
	event_base_free(base);
}

/* The loop delivers done callbacks of a manual worker too. */
static void
test_manual_through_the_loop(void **state)
{
	struct event_base	*base = event_base_new();
	struct worker		*w = worker_start_manual(base);
	struct trace		 t;

	(void)state;
	trace_init(&t);
	submit(w, NULL, &t, -1, 0, 0);
	assert_int_equal(worker_complete_next(w), 0);
	assert_int_equal(worker_run_next(w), 1);
	assert_int_equal(worker_run_next(w), 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(t.done, 1);
	assert_int_equal(worker_pending(w), 0);
	worker_stop(w);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flows_take_turns),
		cmocka_unit_test(test_flow_order_with_threads),
		cmocka_unit_test(test_shared_items_run_together),
		cmocka_unit_test(test_manual_through_the_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
