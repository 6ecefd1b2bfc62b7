/*
 * LTTng event-rule triggers: every [trigger.lttng-event.NAME] becomes an
 * LTTng trigger (an event-rule-matches condition on a user-space
 * tracepoint, with its filter and payload captures, and a notify action)
 * registered with the session daemon. Each notification becomes a
 * tracetrap trigger of source lttng, carrying the captured fields, and
 * goes through the recorder's policy: coalesced, rate-limited, and
 * cluster-wide when asked, which LTTng's own snapshot action is not.
 *
 * Two threads besides the loop take part, each with its own socket to the
 * session daemon:
 * - the LTTng worker (the recorder's, handed to the set when it is made)
 *   registers and unregisters the triggers: event_rule_sync()
 *   (event_rule_sync.c) runs there only, as liblttng-ctl's command socket
 *   must never be used by two threads;
 * - the notification thread (event_rule_channel.c), started by the loop's
 *   event_rule_set, is the only user of the notification channel; it
 *   blocks for notifications and forwards each to the loop through a
 *   socketpair.
 *
 * Our triggers are named "tracetrap.SESSION.RULE.HASH": the session name
 * tells two recorders sharing a session daemon apart, and HASH (of the
 * event, filter and captures) changes with the rule's definition, so a
 * changed rule is registered beside the old one before the old one goes,
 * and a restarted recorder finds the identical triggers it left behind.
 */
#ifndef TT_EVENT_RULE_H
#define TT_EVENT_RULE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "trigger_config.h"

/* "tracetrap." SESSION(63) "." RULE(32) "." HASH(16) */
#define EVENT_RULE_TRIGGER_MAX	128
#define EVENT_RULE_SESSION_MAX	64
#define EVENT_RULE_ERROR_MAX	512
#define EVENT_RULE_FILE_MAX	4096

struct evbuffer;
struct event_base;
struct event_rule_set;
struct trigger_sink;
struct worker;

/* ---- the worker's side ---- */

enum event_rule_sync_mode {
	/*
	 * Startup and reload: every rule or none. When LTTng refuses one,
	 * what this sync registered is unregistered again and the triggers
	 * that were there stay, all of them.
	 */
	EVENT_RULE_SYNC_ATOMIC,
	/*
	 * After a session daemon restart: register what LTTng takes; a rule
	 * it refuses is reported and does not keep the others out.
	 */
	EVENT_RULE_SYNC_BEST_EFFORT,
	/* Shutdown: unregister every trigger of ours. */
	EVENT_RULE_SYNC_REMOVE,
	/*
	 * -n: does LTTng take every rule? Each is registered under a
	 * probe name ("tracetrap-check.PID.RULE", never taken for ours)
	 * and unregistered at once; nothing else is touched.
	 */
	EVENT_RULE_SYNC_CHECK,
};

struct event_rule_result {
	char		 trigger[EVENT_RULE_TRIGGER_MAX];
	int		 is_registered;
	char		 error[EVENT_RULE_ERROR_MAX];	/* "file:line: .." */
};

/* In and out of one sync. */
struct event_rule_sync {
	enum event_rule_sync_mode mode;
	char		 file[EVENT_RULE_FILE_MAX];	/* for the errors */
	/* A reload renamed the session: the old name's triggers are ours. */
	char		 previous_session[EVENT_RULE_SESSION_MAX];
	/*
	 * Also unregister the triggers of ours the set does not hold
	 * (always so in REMOVE). A reload prunes only once it applied the
	 * new rules, so every event meanwhile fires one trigger or the
	 * other.
	 */
	int		 is_pruning;

	int		 is_sessiond_alive;
	int		 is_done;	/* LTTng answered; the results hold */
	unsigned	 nrefused;
	unsigned	 nregistered;	/* new triggers */
	unsigned	 nremoved;	/* stale triggers unregistered */
	char		 error[EVENT_RULE_ERROR_MAX];	/* when !is_done */
	struct event_rule_result results[EVENT_RULES_MAX];
};

/*
 * Makes the session daemon hold the triggers of confs for session (see
 * the modes), and with is_pruning no other of ours: rules removed or
 * changed, or left by an earlier recorder. Worker thread only. Returns
 * 0, 1 when LTTng refused a rule (results say which, naming file:line),
 * -1 when it could not be asked (no session daemon: sync->error).
 */
int		 event_rule_sync(const char *session,
		    const struct trigger_confs *, struct event_rule_sync *);

/*
 * One sync as a job: event_rule_sync() of confs for session on the LTTng
 * worker, then done(job, arg) on the loop, which frees the job.
 */
struct event_rule_sync_job {
	struct event_rule_sync	 sync;		/* in: mode, file, ..; out */
	char			 session[EVENT_RULE_SESSION_MAX];
	struct trigger_confs	 confs;
	int			 is_ok;		/* event_rule_sync() said 0 */
	void			(*done)(struct event_rule_sync_job *, void *);
	void			*arg;
};

struct event_rule_sync_job *event_rule_sync_job_new(enum event_rule_sync_mode,
		    const char *session, const struct trigger_confs *,
		    void (*done)(struct event_rule_sync_job *, void *),
		    void *arg);
void		 event_rule_sync_job_free(struct event_rule_sync_job *);
/* Queues job on worker (lib/worker.h), behind what it already holds. */
void		 event_rule_sync_submit(struct worker *,
		    struct event_rule_sync_job *);

/* ---- the loop's side ---- */

/*
 * The rules the recorder runs, their notification thread and counters.
 * One per recorder, kept across reloads. lttng is the LTTng worker, where
 * the set's syncs run (event_rule_set_sync). fire makes a trigger of source
 * "lttng" of each notification (watcher.h). SIGUSR1 becomes ours (a
 * handler that does nothing): the recorder blocks it in every other
 * thread.
 */
struct event_rule_set *event_rule_set_new(struct event_base *,
		    struct worker *lttng, const struct trigger_sink *);
/* Stops the notification thread; nothing fires afterwards. */
void		 event_rule_set_free(struct event_rule_set *);

/*
 * The rules to run from now on (those of a sync that succeeded). A rule
 * whose trigger did not change keeps its counters; the notification
 * thread (started with the first rule) subscribes to the new conditions
 * and leaves the old ones.
 */
void		 event_rule_set_configure(struct event_rule_set *,
		    const char *session, const struct trigger_confs *);
/*
 * A reload is about to register next: the thread subscribes to its
 * conditions too, so that no notification of a new trigger finds nobody
 * listening. Undone by the next configure (with either set).
 */
void		 event_rule_set_prepare(struct event_rule_set *,
		    const struct trigger_confs *next);
/* Submits job to the set's LTTng worker. */
void		 event_rule_set_sync(struct event_rule_set *,
		    struct event_rule_sync_job *);
/* What a sync of the configured rules found: registered, errors. */
void		 event_rule_set_synced(struct event_rule_set *,
		    const struct event_rule_sync *);
/* The session daemon is gone, and our triggers with it. */
void		 event_rule_set_lost(struct event_rule_set *,
		    const char *why);
size_t		 event_rule_set_count(const struct event_rule_set *);

/*
 * 1 when the session daemon must hear of b before it replaces a: a rule
 * added, removed, or changed in its event, filter or captures, or the
 * session renamed. The reason and the scope are ours alone.
 */
int		 event_rule_confs_differ(const char *session_a,
		    const struct trigger_confs *a, const char *session_b,
		    const struct trigger_confs *b);

/* Appends one object per rule to array (the status "watchers"). */
void		 event_rule_set_status(const struct event_rule_set *,
		    json_t *array);
/* The rules' samples of tracetrap_watcher_fires_total (watcher.c). */
void		 event_rule_set_metrics_fires(const struct event_rule_set *,
		    struct evbuffer *);
/* The families of their own (registered, dropped, channel). */
void		 event_rule_set_metrics(const struct event_rule_set *,
		    struct evbuffer *);

/* ---- shared by the three files, exposed for the unit tests ---- */

struct lttng_condition;

/*
 * The condition of a rule: a user-space tracepoint event rule with its
 * filter, and a capture descriptor per field. NULL with the key at fault
 * ("event", "filter", "capture") in *key and why in err.
 */
struct lttng_condition *event_rule_condition_new(const struct event_rule_conf *,
		    const char **key, char *err, size_t errlen);

/* "tracetrap.SESSION.RULE.HASH" into out (EVENT_RULE_TRIGGER_MAX). */
void		 event_rule_trigger_name(const char *session,
		    const struct event_rule_conf *, char *out, size_t len);
/* 1 when name is one of the triggers event_rule_trigger_name() makes. */
int		 event_rule_is_ours(const char *name, const char *session);
/*
 * The label keys of a rule's captures: "capture." and the field name in
 * lower case, cut to fit 32 bytes, made unique with a "-N" suffix.
 */
size_t		 event_rule_label_keys(const struct event_rule_conf *,
		    char keys[][TRIGGER_NAME_MAX], size_t max);

#endif
