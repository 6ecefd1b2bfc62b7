/*
 * The event rules' notification thread (event_rule_channel.h).
 *
 * Waking it. lttng_notification_channel_get_next_notification() (2.13)
 * blocks in an interruptible poll and returns
 * LTTNG_NOTIFICATION_CHANNEL_STATUS_INTERRUPTED when a signal handler ran
 * meanwhile; nothing else makes it return, and its socket is not ours to
 * poll. So the loop wakes the thread with SIGUSR1, whose handler does
 * nothing and is installed without SA_RESTART. A signal that lands after
 * the thread looked at its requests but before it blocked would be lost;
 * rather than a subtle handshake, the loop sends it again every
 * EVENT_RULE_RESEND_MS (event_rule.c) until the thread has taken the
 * request, which it says through an atomic generation number. The thread
 * blocks SIGUSR1 except around that one call, so the signal never breaks
 * its other system calls, and the recorder blocks it in every other
 * thread. The thread's own pauses (before reconnecting) poll a pipe the
 * loop writes to as well.
 *
 * When the session daemon dies, the channel's socket closes and the wait
 * fails: the thread drops the channel and tries a new one every
 * EVENT_RULE_RETRY_MS (or at once when the loop wakes it, having
 * registered the triggers again), subscribing anew.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "clock.h"
#include "log.h"
#include "event_rule_channel.h"
#include "xmalloc.h"

#define EVENT_RULE_CHANNEL_STOP_MS	50	/* between two wake-ups */
#define EVENT_RULE_CHANNEL_STOP_TRIES	100

struct event_rule_channel_subscription {
	struct event_rule_conf	 conf;		/* event, filter, capture */
	struct lttng_condition	*condition;
};

/* The thread's own state. */
struct event_rule_channel_thread {
	struct event_rule_channel		*ch;
	struct lttng_notification_channel	*channel;
	struct event_rule_conf			 wanted[EVENT_RULE_WANTED_MAX];
	size_t					 nwanted;
	unsigned				 generation;
	int					 needs_subscribe;
	int					 needs_state;
	struct event_rule_channel_subscription	 subs[EVENT_RULE_WANTED_MAX];
	size_t					 nsubs;
	uint32_t				 listening;
	char					 error[EVENT_RULE_ERROR_MAX];
	struct event_rule_message		 message;
};

/*
 * Set by the handler: a signal pending while SIGUSR1 was blocked is
 * delivered as the thread unblocks it, before it waits, and would not
 * interrupt the wait; seeing this, the thread does not wait. (One that
 * lands between this check and the wait is what the resend is for.)
 */
static __thread volatile sig_atomic_t event_rule_channel_is_woken;

static void
event_rule_channel_on_sigusr1(int sig)
{
	(void)sig;	/* Its only work: interrupt a blocking call. */
	event_rule_channel_is_woken = 1;
}

/* Copies s, cut at a UTF-8 boundary when it does not fit. */
static void
event_rule_channel_copy_text(char *out, size_t len, const char *s)
{
	size_t	 n = strlen(s);

	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static void
event_rule_channel_format_value(const struct lttng_event_field_value *v,
    char *out, size_t len, int depth)
{
	const struct lttng_event_field_value	*element;
	const char				*s;
	uint64_t				 u;
	int64_t					 i;
	double					 d;
	unsigned				 n, k;
	size_t					 at;

	snprintf(out, len, "?");
	switch (lttng_event_field_value_get_type(v)) {
	case LTTNG_EVENT_FIELD_VALUE_TYPE_UNSIGNED_INT:
	case LTTNG_EVENT_FIELD_VALUE_TYPE_UNSIGNED_ENUM:
		/* An enum's value: 2.13 does not tell its label. */
		if (lttng_event_field_value_unsigned_int_get_value(v, &u) ==
		    LTTNG_EVENT_FIELD_VALUE_STATUS_OK)
			snprintf(out, len, "%llu", (unsigned long long)u);
		break;
	case LTTNG_EVENT_FIELD_VALUE_TYPE_SIGNED_INT:
	case LTTNG_EVENT_FIELD_VALUE_TYPE_SIGNED_ENUM:
		if (lttng_event_field_value_signed_int_get_value(v, &i) ==
		    LTTNG_EVENT_FIELD_VALUE_STATUS_OK)
			snprintf(out, len, "%lld", (long long)i);
		break;
	case LTTNG_EVENT_FIELD_VALUE_TYPE_REAL:
		if (lttng_event_field_value_real_get_value(v, &d) ==
		    LTTNG_EVENT_FIELD_VALUE_STATUS_OK)
			snprintf(out, len, "%.15g", d);
		break;
	case LTTNG_EVENT_FIELD_VALUE_TYPE_STRING:
		if (lttng_event_field_value_string_get_value(v, &s) ==
		    LTTNG_EVENT_FIELD_VALUE_STATUS_OK && s != NULL)
			event_rule_channel_copy_text(out, len, s);
		break;
	case LTTNG_EVENT_FIELD_VALUE_TYPE_ARRAY:
		if (depth > 1 || lttng_event_field_value_array_get_length(v, &n)
		    != LTTNG_EVENT_FIELD_VALUE_STATUS_OK)
			break;
		snprintf(out, len, "[");
		for (k = 0; k < n && (at = strlen(out)) + 2 < len; k++) {
			if (k > 0)
				out[at++] = ',';
			if (lttng_event_field_value_array_get_element_at_index(
			    v, k, &element) ==
			    LTTNG_EVENT_FIELD_VALUE_STATUS_OK)
				event_rule_channel_format_value(element,
				    out + at, len - at - 1, depth + 1);
			else
				snprintf(out + at, len - at - 1, "?");
		}
		at = strlen(out);
		snprintf(out + at, len - at, "]");
		break;
	default:
		break;
	}
}

static void
event_rule_channel_send(struct event_rule_channel_thread *th,
    struct event_rule_message *m)
{
	ssize_t	 n;

	do {
		n = send(th->ch->messages[1], m, sizeof(*m), MSG_DONTWAIT |
		    MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	/* The loop is far behind: the policy would drop it anyway. */
	if (n == -1)
		atomic_fetch_add(&th->ch->unsent, 1);
}

static void
event_rule_channel_send_state(struct event_rule_channel_thread *th)
{
	struct event_rule_message *m = &th->message;

	memset(m, 0, sizeof(*m));
	m->type = EVENT_RULE_STATE;
	m->generation = th->generation;
	m->is_connected = th->channel != NULL;
	m->listening = th->channel != NULL ? th->listening : 0;
	snprintf(m->error, sizeof(m->error), "%s", th->error);
	event_rule_channel_send(th, m);
	th->needs_state = 0;
}

static void
event_rule_channel_forward(struct event_rule_channel_thread *th,
    struct lttng_notification *n)
{
	struct event_rule_message		*m = &th->message;
	const struct lttng_trigger		*trigger;
	const struct lttng_evaluation		*evaluation;
	const struct lttng_event_field_value	*values, *v;
	const char				*name = "";
	unsigned				 len = 0, i;

	memset(m, 0, sizeof(*m));
	m->type = EVENT_RULE_NOTIFICATION;
	if ((trigger = lttng_notification_get_trigger(n)) == NULL ||
	    lttng_trigger_get_name(trigger, &name) != LTTNG_TRIGGER_STATUS_OK)
		name = "";
	event_rule_channel_copy_text(m->trigger, sizeof(m->trigger), name);
	evaluation = lttng_notification_get_evaluation(n);
	if (lttng_evaluation_event_rule_matches_get_captured_values(evaluation,
	    &values) == LTTNG_EVALUATION_EVENT_RULE_MATCHES_STATUS_OK &&
	    lttng_event_field_value_array_get_length(values, &len) ==
	    LTTNG_EVENT_FIELD_VALUE_STATUS_OK) {
		for (i = 0; i < len && i < TRIGGER_CAPTURES_MAX; i++) {
			/* A field the event does not have: unavailable. */
			if (lttng_event_field_value_array_get_element_at_index(
			    values, i, &v) !=
			    LTTNG_EVENT_FIELD_VALUE_STATUS_OK || v == NULL)
				m->unavailable |= 1U << i;
			else
				event_rule_channel_format_value(v, m->values[i],
				    sizeof(m->values[i]), 0);
		}
		m->nvalues = i;
	}
	event_rule_channel_send(th, m);
}

static int
event_rule_channel_same_condition(const struct event_rule_conf *a,
    const struct event_rule_conf *b)
{
	return strcmp(a->event, b->event) == 0 &&
	    strcmp(a->filter, b->filter) == 0 &&
	    strcmp(a->capture, b->capture) == 0;
}

static void
event_rule_channel_disconnect(struct event_rule_channel_thread *th)
{
	size_t	 i;

	for (i = 0; i < th->nsubs; i++)
		lttng_condition_destroy(th->subs[i].condition);
	th->nsubs = 0;
	th->listening = 0;
	lttng_notification_channel_destroy(th->channel);
	th->channel = NULL;
	th->needs_state = 1;
}

/*
 * Subscribes to the conditions of the wanted rules (equal ones once) and
 * leaves the others. -1 when the channel broke.
 */
static int
event_rule_channel_subscribe(struct event_rule_channel_thread *th)
{
	enum lttng_notification_channel_status	 status;
	struct event_rule_channel_subscription		*sub;
	const char				*key;
	char					 why[256];
	size_t					 i, j;
	int					 is_wanted;

	for (i = 0; i < th->nsubs; i++) {
		sub = &th->subs[i];
		is_wanted = 0;
		for (j = 0; j < th->nwanted; j++)
			if (event_rule_channel_same_condition(&sub->conf,
			    &th->wanted[j]))
				is_wanted = 1;
		if (is_wanted)
			continue;
		status = lttng_notification_channel_unsubscribe(th->channel,
		    sub->condition);
		lttng_condition_destroy(sub->condition);
		th->subs[i--] = th->subs[--th->nsubs];
		if (status == LTTNG_NOTIFICATION_CHANNEL_STATUS_ERROR)
			return -1;
	}
	th->error[0] = '\0';
	th->listening = 0;
	for (j = 0; j < th->nwanted; j++) {
		for (i = 0; i < th->nsubs; i++)
			if (event_rule_channel_same_condition(&th->subs[i].conf,
			    &th->wanted[j]))
				break;
		if (i < th->nsubs) {
			th->listening |= 1U << j;
			continue;
		}
		sub = &th->subs[th->nsubs];
		sub->conf = th->wanted[j];
		if ((sub->condition = event_rule_condition_new(&sub->conf,
		    &key, why, sizeof(why))) == NULL) {
			snprintf(th->error, sizeof(th->error), "rule %s: %s: "
			    "%s", sub->conf.name, key, why);
			continue;
		}
		status = lttng_notification_channel_subscribe(th->channel,
		    sub->condition);
		if (status == LTTNG_NOTIFICATION_CHANNEL_STATUS_OK || status ==
		    LTTNG_NOTIFICATION_CHANNEL_STATUS_ALREADY_SUBSCRIBED) {
			th->nsubs++;
			th->listening |= 1U << j;
			continue;
		}
		lttng_condition_destroy(sub->condition);
		if (status == LTTNG_NOTIFICATION_CHANNEL_STATUS_ERROR)
			return -1;
		snprintf(th->error, sizeof(th->error), "rule %s: the session "
		    "daemon refused the subscription (status %d)",
		    sub->conf.name, (int)status);
	}
	th->needs_subscribe = 0;
	th->needs_state = 1;
	return 0;
}

/* Takes the loop's requests; -1 when asked to stop. */
static int
event_rule_channel_take(struct event_rule_channel_thread *th)
{
	struct event_rule_channel	*ch = th->ch;
	char				 buf[64];
	int				 is_stopping;

	while (read(ch->wake[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&ch->lock);
	is_stopping = ch->is_stopping;
	if (!is_stopping && ch->generation != th->generation) {
		memcpy(th->wanted, ch->wanted, sizeof(th->wanted));
		th->nwanted = ch->nwanted;
		th->generation = ch->generation;
		th->needs_subscribe = 1;
		th->needs_state = 1;
	}
	pthread_mutex_unlock(&ch->lock);
	atomic_store(&ch->taken, th->generation);
	return is_stopping ? -1 : 0;
}

/* Sleeps ms (-1: until woken), or less when the loop writes the pipe. */
static void
event_rule_channel_pause(struct event_rule_channel_thread *th, int ms)
{
	struct pollfd	 pfd;

	pfd.fd = th->ch->wake[0];
	pfd.events = POLLIN;
	(void)poll(&pfd, 1, ms);
}

static void *
event_rule_channel_thread_main(void *arg)
{
	struct event_rule_channel_thread	*th;
	enum lttng_notification_channel_status	 status;
	struct lttng_notification		*n;
	sigset_t				 all, usr1;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	th = xcalloc(1, sizeof(*th));
	th->ch = arg;
	/* The loop's first generation is 1: take it. */
	while (event_rule_channel_take(th) == 0) {
		if (th->nwanted == 0 && th->channel != NULL)
			event_rule_channel_disconnect(th);
		if (th->nwanted > 0 && th->channel == NULL &&
		    (th->channel = lttng_notification_channel_create(
		    lttng_session_daemon_notification_endpoint)) != NULL) {
			th->needs_subscribe = 1;
			th->needs_state = 1;
		}
		if (th->channel != NULL && th->needs_subscribe &&
		    event_rule_channel_subscribe(th) == -1)
			event_rule_channel_disconnect(th);
		if (th->needs_state)
			event_rule_channel_send_state(th);
		if (th->channel == NULL) {
			/* No sessiond (or no rules): try again in a while. */
			event_rule_channel_pause(th, th->nwanted > 0 ?
			    EVENT_RULE_RETRY_MS : -1);
			continue;
		}
		n = NULL;
		event_rule_channel_is_woken = 0;
		pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
		if (event_rule_channel_is_woken)
			status = LTTNG_NOTIFICATION_CHANNEL_STATUS_INTERRUPTED;
		else
			status =
			    lttng_notification_channel_get_next_notification(
			    th->channel, &n);
		pthread_sigmask(SIG_BLOCK, &usr1, NULL);
		switch (status) {
		case LTTNG_NOTIFICATION_CHANNEL_STATUS_OK:
			if (n != NULL)
				event_rule_channel_forward(th, n);
			break;
		case LTTNG_NOTIFICATION_CHANNEL_STATUS_NOTIFICATIONS_DROPPED:
			memset(&th->message, 0, sizeof(th->message));
			th->message.type = EVENT_RULE_DROPPED;
			event_rule_channel_send(th, &th->message);
			break;
		case LTTNG_NOTIFICATION_CHANNEL_STATUS_INTERRUPTED:
			break;
		default:
			/* The session daemon died: its socket closed. */
			event_rule_channel_disconnect(th);
			event_rule_channel_send_state(th);
			event_rule_channel_pause(th, EVENT_RULE_RETRY_MS);
			break;
		}
		lttng_notification_destroy(n);
	}
	if (th->channel != NULL)
		event_rule_channel_disconnect(th);
	free(th);
	return NULL;
}

void
event_rule_channel_init(struct event_rule_channel *ch)
{
	struct sigaction	 sa;

	memset(ch, 0, sizeof(*ch));
	ch->messages[0] = ch->messages[1] = -1;
	ch->wake[0] = ch->wake[1] = -1;
	pthread_mutex_init(&ch->lock, NULL);
	atomic_init(&ch->taken, 0);
	atomic_init(&ch->unsent, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = event_rule_channel_on_sigusr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: the point is EINTR */
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		fatal("event rules: sigaction");
}

void
event_rule_channel_start(struct event_rule_channel *ch)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, ch->messages) == -1 ||
	    pipe2(ch->wake, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("event rules: socketpair");
	if (pthread_create(&ch->thread, NULL, event_rule_channel_thread_main,
	    ch) != 0)
		fatalx("event rules: cannot start the notification thread");
	pthread_setname_np(ch->thread, "tt-rule-notify");
	ch->is_running = 1;
}

void
event_rule_channel_want(struct event_rule_channel *ch,
    const struct event_rule_conf *confs, size_t n)
{
	pthread_mutex_lock(&ch->lock);
	if (n > EVENT_RULE_WANTED_MAX)
		n = EVENT_RULE_WANTED_MAX;
	memcpy(ch->wanted, confs, n * sizeof(*confs));
	ch->nwanted = n;
	ch->generation++;
	pthread_mutex_unlock(&ch->lock);
}

int
event_rule_channel_is_behind(struct event_rule_channel *ch)
{
	unsigned generation;

	pthread_mutex_lock(&ch->lock);
	generation = ch->generation;
	pthread_mutex_unlock(&ch->lock);
	return ch->is_running && atomic_load(&ch->taken) != generation;
}

void
event_rule_channel_wake(struct event_rule_channel *ch)
{
	if (!ch->is_running)
		return;
	/* A full pipe already holds a wake-up. */
	if (write(ch->wake[1], "x", 1) == -1 && errno != EAGAIN)
		log_warn("event rules: wake-up");
	pthread_kill(ch->thread, SIGUSR1);
}

int
event_rule_channel_stop(struct event_rule_channel *ch)
{
	struct timespec	 deadline;
	int		 i;

	if (!ch->is_running)
		return 0;
	pthread_mutex_lock(&ch->lock);
	ch->is_stopping = 1;
	pthread_mutex_unlock(&ch->lock);
	for (i = 0; i < EVENT_RULE_CHANNEL_STOP_TRIES; i++) {
		event_rule_channel_wake(ch);
		/* pthread_timedjoin_np() reads CLOCK_REALTIME. */
		clock_deadline(CLOCK_REALTIME, EVENT_RULE_CHANNEL_STOP_MS,
		    &deadline);
		if (pthread_timedjoin_np(ch->thread, NULL, &deadline) == 0) {
			ch->is_running = 0;
			return 0;
		}
	}
	log_warnx("event rules: the notification thread does not stop; "
	    "leaving it");
	return -1;
}

void
event_rule_channel_close(struct event_rule_channel *ch)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (ch->messages[i] != -1)
			close(ch->messages[i]);
		if (ch->wake[i] != -1)
			close(ch->wake[i]);
		ch->messages[i] = ch->wake[i] = -1;
	}
	pthread_mutex_destroy(&ch->lock);
}
