/*
 * The recorder's own trigger sources (triggers/: the cpu, memory and psi
 * watchers, the LTTng event rules), wired in one place. Each source gets
 * what it needs when it is made: the recorder's sink (a fired trigger
 * goes through the policy like any other), its configuration sections,
 * the event loop and, for the event rules, the LTTng worker. This file
 * also runs the rules' syncs with the session daemon and says what they
 * found: at start-up (a rule LTTng refuses stops the recorder), after the
 * session daemon came back, and at shutdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "event_rule.h"
#include "log.h"
#include "recorder.h"
#include "watcher.h"
#include "worker.h"

static void	sources_sync(struct recorder *, const struct config *,
		    enum event_rule_sync_mode, int, const char *,
		    void (*)(struct event_rule_sync_job *, void *));
static void	sources_on_synced_again(struct event_rule_sync_job *, void *);
static void	sources_on_synced_startup(struct event_rule_sync_job *, void *);

/* A trigger source fired: its trigger goes through the policy like any. */
static void
sources_fire(void *arg, const struct trigger *t)
{
	struct recorder	*rec = arg;
	struct snapshot	*joined;

	/* Draining for shutdown: no new snapshot may start. */
	if (rec->is_shutting_down)
		return;
	snapshot_trigger(rec, t, &joined);
}

/*
 * The sink, and the watchers of the configuration: what only the running
 * system can tell (that process, that cgroup) is checked here, so it is
 * part of -n. -1 with every problem in err.
 */
int
sources_init(struct recorder *rec, const char *name, char *err, size_t errlen)
{
	rec->sink.fire = sources_fire;
	rec->sink.arg = rec;
	rec->watchers = sources_watchers_new(rec, &rec->conf.triggers, name,
	    err, errlen);
	return rec->watchers != NULL ? 0 : -1;
}

struct watchers *
sources_watchers_new(struct recorder *rec, const struct trigger_confs *confs,
    const char *name, char *err, size_t errlen)
{
	return watchers_new(confs, &rec->sink, name, err, errlen);
}

/*
 * The rule set on the session's LTTng worker. Its notification thread
 * subscribes while the worker registers: a subscription may come before
 * its trigger. The first sync also removes triggers of ours an earlier
 * recorder left behind.
 */
void
sources_start_rules(struct recorder *rec)
{
	rec->rules = event_rule_set_new(rec->base,
	    session_worker(rec->session), &rec->sink);
	sources_configure_rules(rec);
	sources_sync(rec, &rec->conf, EVENT_RULE_SYNC_ATOMIC, 1, NULL,
	    sources_on_synced_startup);
}

/* The watchers' timers and the PSI thread. */
void
sources_start_watchers(struct recorder *rec)
{
	watchers_start(rec->watchers, rec->base, NULL);
}

/* The rule set runs the rules of rec->conf from now on. */
void
sources_configure_rules(struct recorder *rec)
{
	event_rule_set_configure(rec->rules, rec->conf.session_name,
	    &rec->conf.triggers);
}

void
sources_counts(const struct recorder *rec, size_t *nwatchers, size_t *nrules)
{
	*nwatchers = watchers_count(rec->watchers);
	*nrules = event_rule_set_count(rec->rules);
}

/*
 * One sync of conf's rules on the LTTng worker, behind the session's
 * jobs; rules_pending counts it until done has run.
 */
static void
sources_sync(struct recorder *rec, const struct config *conf,
    enum event_rule_sync_mode mode, int is_pruning,
    const char *previous_session,
    void (*done)(struct event_rule_sync_job *, void *))
{
	struct event_rule_sync_job *job;

	job = event_rule_sync_job_new(mode, conf->session_name,
	    &conf->triggers, done, rec);
	job->sync.is_pruning = is_pruning;
	snprintf(job->sync.file, sizeof(job->sync.file), "%s",
	    rec->config_path);
	if (previous_session != NULL &&
	    strcmp(previous_session, conf->session_name) != 0)
		snprintf(job->sync.previous_session,
		    sizeof(job->sync.previous_session), "%s",
		    previous_session);
	rec->rules_pending++;
	event_rule_set_sync(rec->rules, job);
}

void
sources_sync_next(struct recorder *rec, const struct config *next,
    void (*done)(struct event_rule_sync_job *, void *))
{
	sources_sync(rec, next, EVENT_RULE_SYNC_ATOMIC, 0,
	    rec->conf.session_name, done);
}

/*
 * The running rules, registered again where LTTng lost them, and ours of
 * previous_session (a name the session had, or NULL) unregistered.
 */
void
sources_resync(struct recorder *rec, const char *previous_session)
{
	sources_sync(rec, &rec->conf, EVENT_RULE_SYNC_BEST_EFFORT, 1,
	    previous_session, sources_on_synced_again);
}

/* Logs each rule LTTng refused ("file:line: .."); returns how many. */
unsigned
sources_log_refused(const struct event_rule_sync_job *job,
    const char *context)
{
	const struct event_rule_sync	*sync = &job->sync;
	unsigned			 n = 0;
	size_t				 i;

	for (i = 0; i < job->confs.nrules; i++) {
		if (sync->results[i].error[0] == '\0')
			continue;
		log_warnx("%s%s", context, sync->results[i].error);
		n++;
	}
	return n;
}

/* With context NULL, only what changed in the session daemon. */
void
sources_log_synced(const struct event_rule_sync_job *job,
    const char *context)
{
	const struct event_rule_sync *sync = &job->sync;

	if (job->confs.nrules > 0 && (context != NULL ||
	    sync->nregistered > 0))
		log_info("event rules: %s%zu registered with LTTng (%u new)",
		    context != NULL ? context : "registered again: ",
		    job->confs.nrules - sync->nrefused,
		    sync->nregistered);
	if (sync->nremoved > 0)
		log_info("event rules: %u stale triggers of ours unregistered",
		    sync->nremoved);
}

/* The first sync: a rule LTTng refuses is a startup error. */
static void
sources_on_synced_startup(struct event_rule_sync_job *job, void *arg)
{
	struct recorder	*rec = arg;

	rec->rules_pending--;
	rec->is_rules_answered = 1;
	if (job->sync.nrefused > 0) {
		sources_log_refused(job, "");
		log_warnx("LTTng refused %u event rule(s) of %s; stopping",
		    job->sync.nrefused, rec->config_path);
		rec->exit_status = 1;
		event_rule_sync_job_free(job);
		if (!rec->is_shutting_down)
			recorder_begin_shutdown(rec);
		return;
	}
	event_rule_set_synced(rec->rules, &job->sync);
	if (job->sync.is_done)
		sources_log_synced(job, "");
	else if (rec->conf.triggers.nrules > 0) {
		rec->needs_rules_sync = 1;
		log_warnx("event rules: not registered yet (%s); they are "
		    "when the session daemon is up", job->sync.error);
	}
	event_rule_sync_job_free(job);
	recorder_maybe_ready(rec);
}

/* A sync after the session daemon came back: what LTTng takes runs. */
static void
sources_on_synced_again(struct event_rule_sync_job *job, void *arg)
{
	struct recorder	*rec = arg;

	rec->rules_pending--;
	if (!rec->is_shutting_down) {
		event_rule_set_synced(rec->rules, &job->sync);
		if (!job->sync.is_done)
			rec->needs_rules_sync = 1;
		else {
			sources_log_refused(job, "");
			sources_log_synced(job, NULL);
		}
	}
	event_rule_sync_job_free(job);
}

/*
 * The session daemon lost our triggers (it restarted: our session was
 * created anew) or could not be asked: register them again once the
 * session records, as the session itself is set up again.
 */
static void
sources_sync_again(struct recorder *rec, int is_up)
{
	if (!rec->needs_rules_sync || !is_up || rec->rules_pending > 0 ||
	    rec->reload != NULL || rec->is_shutting_down ||
	    !rec->is_rules_answered)
		return;
	rec->needs_rules_sync = 0;
	sources_resync(rec, NULL);
}

/*
 * What a session job found about the session daemon: when it restarted
 * (our session was created anew) or is gone, our triggers went with it.
 */
void
sources_on_session(struct recorder *rec, const struct session_state *state)
{
	if (rec->conf.triggers.nrules > 0 && rec->is_rules_answered) {
		if (!state->is_sessiond_alive) {
			event_rule_set_lost(rec->rules,
			    "no lttng-sessiond is running");
			rec->needs_rules_sync = 1;
		} else if (state->was_created)
			rec->needs_rules_sync = 1;
	}
	sources_sync_again(rec, state->is_up);
}

static void
sources_on_removed(struct event_rule_sync_job *job, void *arg)
{
	struct recorder	*rec = arg;

	rec->rules_pending--;
	if (job->sync.nremoved > 0)
		log_info("event rules: %u triggers unregistered",
		    job->sync.nremoved);
	else if (!job->is_ok && job->sync.is_sessiond_alive)
		log_warnx("event rules: cannot unregister our triggers: %s",
		    job->sync.error);
	event_rule_sync_job_free(job);
}

static void
sources_on_checked(struct event_rule_sync_job *job, void *arg)
{
	struct event_rule_sync_job **answer = arg;

	*answer = job;
	event_base_loopexit(recorder->base, NULL);
}

/*
 * -n: LTTng alone can tell whether it takes a filter, so the check asks
 * it, on an LTTng worker like the daemon's, when a session daemon runs.
 * Returns -1 with every refusal on stderr ("file:line: ..").
 */
int
sources_check_rules(struct recorder *rec, const char *path)
{
	struct worker			*lttng;
	struct event_rule_sync_job	*job, *answer = NULL;
	size_t				 i;
	int				 ret = 0;

	if (rec->conf.triggers.nrules == 0)
		return 0;
	if ((rec->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	lttng = worker_start(rec->base, "tt-lttng-check");
	job = event_rule_sync_job_new(EVENT_RULE_SYNC_CHECK,
	    rec->conf.session_name, &rec->conf.triggers,
	    sources_on_checked, &answer);
	snprintf(job->sync.file, sizeof(job->sync.file), "%s", path);
	event_rule_sync_submit(lttng, job);
	event_base_dispatch(rec->base);
	worker_stop(lttng);
	if (answer == NULL)
		fatalx("the LTTng worker did not answer");
	for (i = 0; i < answer->confs.nrules; i++) {
		if (answer->sync.results[i].error[0] == '\0')
			continue;
		fprintf(stderr, "%s\n", answer->sync.results[i].error);
		ret = -1;
	}
	if (!answer->sync.is_done && ret == 0)
		fprintf(stderr, "[trigger.lttng-event] filters not checked: "
		    "%s (the recorder checks them when it starts)\n",
		    answer->sync.error);
	event_rule_sync_job_free(answer);
	event_base_free(rec->base);
	rec->base = NULL;
	return ret;
}

/*
 * Shutdown: our triggers go even with [session] keep = yes: without the
 * recorder nobody listens, and each would still make the traced apps
 * evaluate its filter and send notifications the session daemon throws
 * away. The next start registers them again (and finds those a crashed
 * recorder left).
 */
void
sources_remove(struct recorder *rec)
{
	sources_sync(rec, &rec->conf, EVENT_RULE_SYNC_REMOVE, 1,
	    reload_next_session(rec->reload), sources_on_removed);
}

/* The watchers stop (before the relay link: nothing fires into it). */
void
sources_stop(struct recorder *rec)
{
	watchers_free(rec->watchers);
	rec->watchers = NULL;
}

/* The rule set, once the LTTng worker is stopped (its last answers use it). */
void
sources_free(struct recorder *rec)
{
	event_rule_set_free(rec->rules);
	rec->rules = NULL;
}

/* Every watcher and rule, for /v1/status "watchers". */
json_t *
sources_status(const struct recorder *rec)
{
	json_t	*watchers = watchers_status(rec->watchers);

	event_rule_set_status(rec->rules, watchers);
	return watchers;
}

void
sources_metrics(const struct recorder *rec, struct evbuffer *b)
{
	watchers_metrics(rec->watchers, rec->rules, b);
	event_rule_set_metrics(rec->rules, b);
}
