/*
 * The event rules' notification thread (event_rule.h): the only user of
 * an LTTng notification channel, a socket to the session daemon of its
 * own. It subscribes to the conditions the loop wants, blocks for
 * notifications, and hands each to the loop as one event_rule_message on
 * a SOCK_SEQPACKET socketpair. It sends the session daemon no commands:
 * registering triggers is the LTTng worker's (event_rule_sync.c).
 *
 * Between the loop and the thread: a list of wanted conditions under a
 * mutex with a generation number, the generation the thread has taken
 * (atomic), a pipe that wakes the thread's own pauses, and SIGUSR1, that
 * interrupts its wait inside liblttng-ctl (see event_rule_channel.c).
 */
#ifndef TT_EVENT_RULE_CHANNEL_H
#define TT_EVENT_RULE_CHANNEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "event_rule.h"

#define EVENT_RULE_VALUE_MAX	256	/* a captured value, as text */
/* A reload subscribes the new rules beside the running ones. */
#define EVENT_RULE_WANTED_MAX	(2 * EVENT_RULES_MAX)
#define EVENT_RULE_RETRY_MS	1000	/* reconnecting to a sessiond */

enum event_rule_message_type {
	EVENT_RULE_NOTIFICATION,
	EVENT_RULE_DROPPED,	/* LTTng dropped notifications */
	EVENT_RULE_STATE,	/* connected, subscribed */
};

/* Thread -> loop, one per SOCK_SEQPACKET record. */
struct event_rule_message {
	uint32_t	 type;
	uint32_t	 generation;	/* STATE: of the conditions wanted */
	uint32_t	 is_connected;	/* STATE */
	uint32_t	 listening;	/* STATE: bit i, wanted condition i */
	uint32_t	 nvalues;	/* NOTIFICATION */
	uint32_t	 unavailable;	/* NOTIFICATION: bit i, value i */
	char		 trigger[EVENT_RULE_TRIGGER_MAX];
	char		 values[TRIGGER_CAPTURES_MAX][EVENT_RULE_VALUE_MAX];
	char		 error[EVENT_RULE_ERROR_MAX];	/* STATE */
};

struct event_rule_channel {
	pthread_t		 thread;
	int			 is_running;
	int			 messages[2];	/* [0]: the loop's */
	int			 wake[2];	/* loop -> thread */
	pthread_mutex_t		 lock;		/* guards what follows */
	struct event_rule_conf	 wanted[EVENT_RULE_WANTED_MAX];
	size_t			 nwanted;
	unsigned		 generation;
	int			 is_stopping;
	atomic_uint		 taken;		/* generation the thread has */
	atomic_ulong		 unsent;	/* full socket: message lost */
};

/* Installs the SIGUSR1 handler; nothing runs yet. */
void	event_rule_channel_init(struct event_rule_channel *);
/* The socketpair, the wake pipe, and the thread. */
void	event_rule_channel_start(struct event_rule_channel *);
/*
 * The conditions (of these rules) to subscribe from now on; equal ones
 * are subscribed once. The thread takes them when woken.
 */
void	event_rule_channel_want(struct event_rule_channel *,
	    const struct event_rule_conf *, size_t n);
/* 1 while the thread has not taken the last want: wake it again. */
int	event_rule_channel_is_behind(struct event_rule_channel *);
/* Wakes the thread, from its pauses and from LTTng's wait. */
void	event_rule_channel_wake(struct event_rule_channel *);
/*
 * Stops and joins the thread, waking it until it goes. -1 when it does
 * not (stuck in liblttng-ctl): then the channel's memory must stay.
 */
int	event_rule_channel_stop(struct event_rule_channel *);
/* Closes what start opened (after stop). */
void	event_rule_channel_close(struct event_rule_channel *);

#endif
