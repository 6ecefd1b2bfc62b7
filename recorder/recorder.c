/*
 * tracetrap-recorder: keeps an LTTng snapshot session recording on this
 * node and turns triggers into snapshots in the spool.
 *
 * usage: tracetrap-recorder [-dnv] [-f file] [--ready-fd N]
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "event_rule.h"
#include "log.h"
#include "recorder.h"
#include "worker.h"
#include "watcher.h"

/* A reload checked here and waiting for LTTng to take its event rules. */
struct recorder_reload {
	struct config	*next;
	struct watchers	*watchers;
	int		 has_control_group;
	gid_t		 control_gid;
	char		 previous_session[CONFIG_NAME_MAX];	/* running */
};

struct recorder	*recorder;

static void	recorder_check(struct recorder *);
static void	recorder_reload(struct recorder *);
static void	recorder_begin_shutdown(struct recorder *);
static void	recorder_submit_rules(struct recorder *, const struct config *,
		    enum event_rule_sync_mode, int, const char *,
		    void (*)(struct event_rule_sync_job *, void *));
static void	recorder_on_rules_again(struct event_rule_sync_job *, void *);

void
recorder_snapshot_uploaded(struct recorder *rec, const char *id)
{
	struct snapshot *snap;

	TAILQ_FOREACH(snap, &rec->recent, entry)
		if (strcmp(snap->id, id) == 0)
			snap->is_uploaded = 1;
}

/*
 * Ready once the session and the event rules have had their first
 * answer: a rule LTTng refuses stops the recorder before it says so.
 */
static void
recorder_maybe_ready(struct recorder *rec)
{
	if (rec->is_setup_answered && rec->is_rules_answered &&
	    !rec->is_shutting_down)
		daemon_ready(&rec->ready_fd);
}

/*
 * The session daemon lost our triggers (it restarted: our session was
 * created anew) or could not be asked: register them again once the
 * session records, as the session itself is set up again.
 */
static void
recorder_sync_rules_again(struct recorder *rec, int is_up)
{
	if (!rec->needs_rules_sync || !is_up || rec->rules_pending > 0 ||
	    rec->reload != NULL || rec->is_shutting_down ||
	    !rec->is_rules_answered)
		return;
	rec->needs_rules_sync = 0;
	recorder_submit_rules(rec, &rec->conf, EVENT_RULE_SYNC_BEST_EFFORT, 1,
	    NULL, recorder_on_rules_again);
}

static void
recorder_on_session(struct session_job *job, void *arg)
{
	struct recorder	*rec = arg;
	int		 was_up = rec->session_state.is_up;

	rec->is_check_pending = 0;
	rec->session_state = job->state;
	if (job->is_reverted) {
		log_warnx("reload: LTTng refused the new [session] settings "
		    "(%s); recording with the previous ones", job->revert_reason);
		config_session_copy(&rec->conf, &job->conf);
	}
	if (job->state.was_created)
		rec->stats.session_setups++;
	if (job->is_ok)
		rec->session_error[0] = '\0';
	else {
		/* Log a failure once per transition, not every check. */
		if (was_up || strcmp(rec->session_error, job->error) != 0)
			log_warnx("session %s: %s", rec->conf.session_name,
			    job->error);
		snprintf(rec->session_error, sizeof(rec->session_error), "%s",
		    job->error);
	}
	if (!was_up && job->state.is_up)
		log_info("session %s: recording (kernel: %s)",
		    rec->conf.session_name, job->state.is_kernel_available ?
		    "yes" : job->state.kernel_reason);
	rec->is_setup_answered = 1;
	if (rec->conf.triggers.nrules > 0 && rec->is_rules_answered) {
		if (!job->state.is_sessiond_alive) {
			event_rule_set_lost(rec->rules,
			    "no lttng-sessiond is running");
			rec->needs_rules_sync = 1;
		} else if (job->state.was_created)
			rec->needs_rules_sync = 1;
	}
	recorder_sync_rules_again(rec, job->state.is_up);
	session_job_free(job);
	recorder_maybe_ready(rec);
}

static void
recorder_submit_rules(struct recorder *rec, const struct config *conf,
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

/* Logs each rule LTTng refused ("file:line: .."); returns how many. */
static unsigned
recorder_log_refused(const struct event_rule_sync_job *job,
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
static void
recorder_log_synced(const struct event_rule_sync_job *job,
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
recorder_on_rules_startup(struct event_rule_sync_job *job, void *arg)
{
	struct recorder	*rec = arg;

	rec->rules_pending--;
	rec->is_rules_answered = 1;
	if (job->sync.nrefused > 0) {
		recorder_log_refused(job, "");
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
		recorder_log_synced(job, "");
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
recorder_on_rules_again(struct event_rule_sync_job *job, void *arg)
{
	struct recorder	*rec = arg;

	rec->rules_pending--;
	if (!rec->is_shutting_down) {
		event_rule_set_synced(rec->rules, &job->sync);
		if (!job->sync.is_done)
			rec->needs_rules_sync = 1;
		else {
			recorder_log_refused(job, "");
			recorder_log_synced(job, NULL);
		}
	}
	event_rule_sync_job_free(job);
}

static void
recorder_on_rules_removed(struct event_rule_sync_job *job, void *arg)
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
recorder_submit_session(struct recorder *rec, enum session_job_type type)
{
	rec->is_check_pending = 1;
	session_submit(rec->session, session_job_new(type, &rec->conf,
	    recorder_on_session, rec));
}

static void
recorder_on_check(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	recorder_check(arg);
}

/*
 * Health check: a restarted sessiond has forgotten our session; the next
 * check sets it up again, so the recorder never needs a restart itself.
 */
static void
recorder_check(struct recorder *rec)
{
	static struct event	*ev;
	struct timeval		 tv;

	if (ev == NULL)
		ev = evtimer_new(rec->base, recorder_on_check, rec);
	if (!rec->is_check_pending && !rec->is_shutting_down)
		recorder_submit_session(rec, SESSION_JOB_CHECK);
	tv.tv_sec = (time_t)(rec->conf.check_interval_ms / 1000);
	tv.tv_usec = (suseconds_t)(rec->conf.check_interval_ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* A trigger source fired: its trigger goes through the policy like any. */
static void
recorder_source_fire(void *arg, const struct trigger *t)
{
	struct recorder	*rec = arg;
	struct snapshot	*joined;

	/* Draining for shutdown: no new snapshot may start. */
	if (rec->is_shutting_down)
		return;
	snapshot_trigger(rec, t, &joined);
}

static void
recorder_on_rules_checked(struct event_rule_sync_job *job, void *arg)
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
static int
recorder_check_rules(struct recorder *rec, const char *path)
{
	struct worker			*lttng;
	struct event_rule_sync_job	*job, *answer = NULL;
	size_t				 i;
	int				 ret = 0;

	if (rec->conf.triggers.nrules == 0)
		return 0;
	if ((rec->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	lttng = worker_start(rec->base);
	job = event_rule_sync_job_new(EVENT_RULE_SYNC_CHECK,
	    rec->conf.session_name, &rec->conf.triggers,
	    recorder_on_rules_checked, &answer);
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

static int
recorder_load(struct config *conf, const char *path, int is_explicit)
{
	char		 err[8192];
	struct stat	 st;

	config_defaults(conf);
	if (!is_explicit && stat(path, &st) == -1 && errno == ENOENT)
		return 0;
	if (config_load(conf, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s", err);
		if (err[0] != '\0' && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		return -1;
	}
	return 0;
}

/*
 * A changed [relay]: a new link with the new settings replaces the old
 * one (an upload in progress is cut and sent again). The new link is
 * made first, so a certificate that does not load keeps everything as it
 * was. Returns -1 then, with the error logged.
 */
static int
recorder_reload_relay(struct recorder *rec, const struct config *next)
{
	struct relay_link	*link = NULL;
	struct config		*running;
	char			 err[512];

	if (next->relay_address[0] != '\0') {
		if ((running = malloc(sizeof(*running))) == NULL)
			fatal("malloc");
		/* relay_link_open() reads the settings from rec->conf. */
		*running = rec->conf;
		rec->conf = *next;
		link = relay_link_open(rec, err, sizeof(err));
		rec->conf = *running;
		free(running);
		if (link == NULL) {
			log_warnx("reload: [relay]: %s; keeping the running "
			    "configuration", err);
			return -1;
		}
	}
	relay_link_close(rec->relay_link);
	rec->relay_link = link;
	log_info("reload: relay link %s%s", link != NULL ? "now to " :
	    "removed: snapshots stay in the spool", next->relay_address);
	return 0;
}

static void
recorder_reload_free(struct recorder_reload *r)
{
	if (r == NULL)
		return;
	watchers_free(r->watchers);
	free(r->next);
	free(r);
}

/*
 * Applies a reload that passed every check. Returns -1 (logged) when the
 * relay link refuses it: the running configuration stays.
 */
static int
recorder_reload_apply(struct recorder *rec, struct recorder_reload *r)
{
	struct config	*next = r->next;

	if (config_relay_differs(&rec->conf, next) &&
	    recorder_reload_relay(rec, next) == -1)
		return -1;
	rec->has_control_group = r->has_control_group;
	rec->control_gid = r->control_gid;
	watchers_start(r->watchers, rec->base, rec->watchers);
	watchers_free(rec->watchers);
	rec->watchers = r->watchers;
	r->watchers = NULL;
	if (config_session_differs(&rec->conf, next))
		log_info("reload: session settings changed; the session is "
		    "re-created (its ring buffer contents are lost)");
	rec->conf = *next;
	policy_reconfigure(rec->policy, &rec->conf.policy);
	rec->spool.max_bytes = rec->conf.spool_max_bytes;
	event_rule_set_configure(rec->rules, rec->conf.session_name,
	    &rec->conf.triggers);
	recorder_submit_session(rec, SESSION_JOB_SETUP);
	log_info("reload: configuration from %s applied",
	    rec->is_config_default ? "defaults" : rec->config_path);
	return 0;
}

/*
 * The second half of a reload whose event rules changed: LTTng has
 * answered for them. A rule it refused keeps the whole running
 * configuration, whose triggers were left registered.
 */
static void
recorder_on_rules_reload(struct event_rule_sync_job *job, void *arg)
{
	struct recorder		*rec = arg;
	struct recorder_reload	*r = rec->reload;

	rec->rules_pending--;
	rec->reload = NULL;
	if (rec->is_shutting_down)
		goto end;
	if (job->sync.nrefused > 0) {
		recorder_log_refused(job, "reload: ");
		log_warnx("reload: LTTng refused %u event rule(s) of %s; "
		    "keeping the running configuration and its rules",
		    job->sync.nrefused, rec->config_path);
		/* Leave the new rules' conditions the thread took up. */
		event_rule_set_configure(rec->rules, rec->conf.session_name,
		    &rec->conf.triggers);
		goto end;
	}
	if (!job->sync.is_done) {
		log_warnx("reload: the event rules cannot be checked with "
		    "LTTng now (%s); they are registered when the session "
		    "daemon is up", job->sync.error);
		rec->needs_rules_sync = r->next->triggers.nrules > 0;
	}
	if (recorder_reload_apply(rec, r) == -1) {
		/* LTTng holds the new rules too: only the running ones stay. */
		event_rule_set_configure(rec->rules, rec->conf.session_name,
		    &rec->conf.triggers);
		if (job->sync.is_done)
			recorder_submit_rules(rec, &rec->conf,
			    EVENT_RULE_SYNC_BEST_EFFORT, 1,
			    r->next->session_name, recorder_on_rules_again);
		goto end;
	}
	event_rule_set_synced(rec->rules, &job->sync);
	if (job->sync.is_done) {
		recorder_log_synced(job, "after the reload: ");
		/*
		 * Only now that the loop knows the new triggers may the old
		 * ones go: an event meanwhile fired one or the other.
		 */
		recorder_submit_rules(rec, &rec->conf,
		    EVENT_RULE_SYNC_BEST_EFFORT, 1, r->previous_session,
		    recorder_on_rules_again);
	}
end:
	recorder_reload_free(r);
	event_rule_sync_job_free(job);
	if (rec->is_reload_again && !rec->is_shutting_down) {
		rec->is_reload_again = 0;
		recorder_reload(rec);
	}
}

static void
recorder_reload(struct recorder *rec)
{
	struct recorder_reload	*r;
	struct watchers		*watchers;
	struct config		*next;
	char			 err[8192];
	int			 has_group;
	gid_t			 gid = 0;

	if (rec->reload != NULL) {
		log_info("reload: the previous one waits for LTTng; this one "
		    "follows it");
		rec->is_reload_again = 1;
		return;
	}
	if ((next = malloc(sizeof(*next))) == NULL)
		fatal("malloc");
	config_defaults(next);
	if (!rec->is_config_default &&
	    config_load(next, rec->config_path, err, sizeof(err)) == -1) {
		log_warnx("reload: %s has errors, keeping the running "
		    "configuration:\n%s", rec->config_path, err);
		free(next);
		return;
	}
	if (unix_socket_group(next->control_group, &has_group, &gid, err,
	    sizeof(err)) == -1) {
		log_warnx("reload: [control] group: %s; keeping the running "
		    "configuration", err);
		free(next);
		return;
	}
	/* Sockets and the spool are bound once; moving them needs a restart. */
	if (strcmp(next->control_socket, rec->conf.control_socket) != 0 ||
	    strcmp(next->trigger_socket, rec->conf.trigger_socket) != 0 ||
	    strcmp(next->spool_dir, rec->conf.spool_dir) != 0 ||
	    strcmp(next->node_name, rec->conf.node_name) != 0)
		log_warnx("reload: socket paths, spool dir and node name "
		    "change only at restart; keeping the current ones");
	snprintf(next->control_socket, sizeof(next->control_socket), "%s",
	    rec->conf.control_socket);
	snprintf(next->trigger_socket, sizeof(next->trigger_socket), "%s",
	    rec->conf.trigger_socket);
	snprintf(next->spool_dir, sizeof(next->spool_dir), "%s",
	    rec->conf.spool_dir);
	snprintf(next->node_name, sizeof(next->node_name), "%s",
	    rec->conf.node_name);
	/* Watchers first: they may refuse the file, and nothing is done. */
	if ((watchers = watchers_new(&next->triggers, &rec->sink,
	    rec->config_path, err, sizeof(err))) == NULL) {
		log_warnx("reload: %s: the watchers cannot start, keeping the "
		    "running configuration:\n%s", rec->config_path, err);
		free(next);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->next = next;
	r->watchers = watchers;
	r->has_control_group = has_group;
	r->control_gid = gid;
	/*
	 * Changed event rules: LTTng checks them (a filter it cannot
	 * compile) by registering them, beside the running ones, on the
	 * worker; the rest of the reload waits for its answer.
	 */
	if (event_rule_confs_differ(rec->conf.session_name, &rec->conf.triggers,
	    next->session_name, &next->triggers)) {
		rec->reload = r;
		snprintf(r->previous_session, sizeof(r->previous_session),
		    "%s", rec->conf.session_name);
		event_rule_set_prepare(rec->rules, &next->triggers);
		recorder_submit_rules(rec, next, EVENT_RULE_SYNC_ATOMIC, 0,
		    rec->conf.session_name, recorder_on_rules_reload);
		return;
	}
	(void)recorder_reload_apply(rec, r);
	recorder_reload_free(r);
}

static void
recorder_on_destroyed(struct session_job *job, void *arg)
{
	(void)arg;
	if (!job->is_ok)
		log_warnx("destroy session: %s", job->error);
	session_job_free(job);
}

/*
 * Shutdown keeps the loop running until the worker has finished what was
 * queued (delayed snapshots, the session's destruction), so that clients
 * waiting with ?wait=1 get their answer flushed, not a closed socket.
 */
static int
recorder_is_drained(void *arg)
{
	struct recorder *rec = arg;

	return session_pending(rec->session) == 0 ||
	    clock_monotonic_us() > rec->shutdown_deadline_us;
}

static void
recorder_begin_shutdown(struct recorder *rec)
{
	rec->is_shutting_down = 1;
	rec->shutdown_deadline_us = clock_monotonic_us() + 30 * 1000000ULL;
	trigger_socket_close(rec->trigger_socket);
	rec->trigger_socket = NULL;
	snapshot_shutdown(rec);
	/*
	 * Our triggers go even with [session] keep = yes: without the
	 * recorder nobody listens, and each would still make the traced
	 * apps evaluate its filter and send notifications the session
	 * daemon throws away. The next start registers them again (and
	 * finds those a crashed recorder left).
	 */
	recorder_submit_rules(rec, &rec->conf, EVENT_RULE_SYNC_REMOVE, 1,
	    rec->reload != NULL ? rec->reload->next->session_name : NULL,
	    recorder_on_rules_removed);
	if (!rec->conf.is_keep_session)
		session_submit(rec->session, session_job_new(
		    SESSION_JOB_DESTROY, &rec->conf, recorder_on_destroyed,
		    rec));
	else
		log_info("session %s: kept running ([session] keep = yes)",
		    rec->conf.session_name);
	rec->drain_event = daemon_drain(rec->base, recorder_is_drained, rec);
}

static void
recorder_on_signal(evutil_socket_t sig, short events, void *arg)
{
	struct recorder *rec = arg;

	(void)events;
	switch (sig) {
	case SIGHUP:
		/* A reload now would set up what the drain takes down. */
		if (rec->is_shutting_down) {
			log_info("SIGHUP while shutting down: ignored");
			break;
		}
		log_info("SIGHUP: reloading %s", rec->config_path);
		recorder_reload(rec);
		break;
	case SIGTERM:
	case SIGINT:
		if (rec->is_shutting_down) {
			log_warnx("%s again: stopping now", strsignal((int)sig));
			event_base_loopbreak(rec->base);
			break;
		}
		log_info("%s: shutting down", strsignal((int)sig));
		recorder_begin_shutdown(rec);
		break;
	}
}

static void
recorder_shutdown(struct recorder *rec)
{
	if (rec->drain_event != NULL)
		event_free(rec->drain_event);
	trigger_socket_close(rec->trigger_socket);
	watchers_free(rec->watchers);
	rec->watchers = NULL;
	/* session_stop()'s last done callbacks kick the link: none left. */
	relay_link_close(rec->relay_link);
	rec->relay_link = NULL;
	/* Its last done callbacks may still use the rule set. */
	session_stop(rec->session);
	event_rule_set_free(rec->rules);
	recorder_reload_free(rec->reload);
	control_close(rec->control);
	spool_close(&rec->spool);
	policy_free(rec->policy);
}

int
main(int argc, char **argv)
{
	struct daemon_options	 o;
	struct daemon_signals	*signals;
	struct recorder		*rec;
	int			 status;
	char			 err[1024], watch_err[8192] = "";
	sigset_t		 usr1;

	daemon_options(&o, argc, argv, "tracetrap-recorder",
	    CONFIG_DEFAULT_PATH);
	if ((rec = calloc(1, sizeof(*rec))) == NULL)
		fatal("calloc");
	recorder = rec;
	rec->ready_fd = o.ready_fd;
	if (recorder_load(&rec->conf, o.path, o.is_path_given) == -1)
		exit(1);
	snprintf(rec->config_path, sizeof(rec->config_path), "%s",
	    o.config_path);
	rec->is_config_default = !o.is_path_given &&
	    access(o.path, F_OK) == -1;
	/* What only the running system can tell is part of the check. */
	rec->sink.fire = recorder_source_fire;
	rec->sink.arg = rec;
	if ((rec->watchers = watchers_new(&rec->conf.triggers, &rec->sink,
	    o.path, watch_err, sizeof(watch_err))) == NULL) {
		fprintf(stderr, "%s", watch_err);
		exit(1);
	}
	if (o.is_check_only) {
		if (recorder_check_rules(rec, o.path) == -1)
			exit(1);
		daemon_check_ok();
	}

	daemon_start(&o);
	/*
	 * SIGUSR1 wakes the event-rule notification thread, which unblocks
	 * it while it waits (event_rule.c); every other thread, all made
	 * from this one hereafter, keeps it blocked.
	 */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	rec->started_at_us = clock_realtime_us();
	TAILQ_INIT(&rec->recent);

	if (unix_socket_group(rec->conf.control_group, &rec->has_control_group,
	    &rec->control_gid, err, sizeof(err)) == -1)
		fatalx("[control] group: %s", err);
	if ((rec->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	/*
	 * Sockets and the spool lock come first: a second instance must be
	 * refused before it cleans the spool or touches the LTTng session.
	 */
	if ((rec->control = control_open(rec, err, sizeof(err))) == NULL)
		fatalx("control socket: %s", err);
	if ((rec->trigger_socket = trigger_socket_open(rec, err, sizeof(err)))
	    == NULL)
		fatalx("trigger socket: %s", err);
	if (spool_open(&rec->spool, rec->conf.spool_dir,
	    rec->conf.spool_max_bytes, err, sizeof(err)) == -1)
		fatalx("spool: %s", err);
	rec->sequence = spool_max_sequence(&rec->spool, rec->conf.node_name);
	if ((rec->policy = policy_new(&rec->conf.policy, NULL, NULL)) == NULL)
		fatalx("policy_new");
	rec->session = session_start(rec->base);
	recorder_submit_session(rec, SESSION_JOB_SETUP);
	/*
	 * The notification thread subscribes while the worker registers:
	 * a subscription may come before its trigger. The first sync also
	 * removes triggers of ours an earlier recorder left behind.
	 */
	rec->rules = event_rule_set_new(rec->base,
	    session_worker(rec->session), &rec->sink);
	event_rule_set_configure(rec->rules, rec->conf.session_name,
	    &rec->conf.triggers);
	recorder_submit_rules(rec, &rec->conf, EVENT_RULE_SYNC_ATOMIC, 1, NULL,
	    recorder_on_rules_startup);
	if (rec->conf.relay_address[0] != '\0' &&
	    (rec->relay_link = relay_link_open(rec, err, sizeof(err))) == NULL)
		fatalx("relay link: %s", err);
	signals = daemon_signals_new(rec->base, recorder_on_signal, rec);
	recorder_check(rec);
	watchers_start(rec->watchers, rec->base, NULL);
	log_info("tracetrap-recorder %s: node %s, control %s, triggers %s, "
	    "spool %s (%u snapshots, %llu bytes), %zu watchers, %zu event "
	    "rules", TRACETRAP_VERSION, rec->conf.node_name,
	    rec->conf.control_socket, rec->conf.trigger_socket,
	    rec->conf.spool_dir, rec->spool.count,
	    (unsigned long long)rec->spool.bytes,
	    watchers_count(rec->watchers), event_rule_set_count(rec->rules));

	event_base_dispatch(rec->base);

	recorder_shutdown(rec);
	daemon_signals_free(signals);
	event_base_free(rec->base);
	log_info("stopped");
	status = rec->exit_status;
	free(rec);
	return status;
}
