/*
 * tracetrap-recorder: keeps an LTTng snapshot session recording on this
 * node and turns triggers into snapshots in the spool.
 *
 * usage: tracetrap-recorder [-dnv] [-f file] [--ready-fd N]
 *
 * This file is main() and the lifecycle: start-up, readiness, the
 * session's health check, signals and shutdown. The trigger sources are
 * wired in sources.c, SIGHUP's reload is reload.c, and what a trigger
 * becomes is snapshot.c (see recorder.h for the rest).
 */
#include <errno.h>
#include <malloc.h>
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
#include "log.h"
#include "recorder.h"
#include "xmalloc.h"

#define RECORDER_HEAP_KEEP	(16 * 1024 * 1024)	/* free, not trimmed */

struct recorder	*recorder;

static void	recorder_check(struct recorder *);

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
void
recorder_maybe_ready(struct recorder *rec)
{
	if (rec->is_setup_answered && rec->is_rules_answered &&
	    !rec->is_shutting_down)
		daemon_ready(&rec->ready_fd);
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
	sources_on_session(rec, &job->state);
	session_job_free(job);
	recorder_maybe_ready(rec);
}

void
recorder_submit_session(struct recorder *rec, enum session_job_type type)
{
	rec->is_check_pending = 1;
	session_submit(rec->session, session_job_new(type, &rec->conf, NULL,
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

void
recorder_begin_shutdown(struct recorder *rec)
{
	rec->is_shutting_down = 1;
	rec->shutdown_deadline_us = clock_monotonic_us() + 30 * 1000000ULL;
	trigger_socket_close(rec->trigger_socket);
	rec->trigger_socket = NULL;
	snapshot_shutdown(rec);
	sources_remove(rec);
	if (!rec->conf.is_keep_session)
		session_submit(rec->session, session_job_new(
		    SESSION_JOB_DESTROY, &rec->conf, NULL,
		    recorder_on_destroyed, rec));
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
		reload_start(rec);
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
	sources_stop(rec);
	/* session_stop()'s last done callbacks kick the link: none left. */
	relay_link_close(rec->relay_link);
	rec->relay_link = NULL;
	/* Its last done callbacks may still use the rule set. */
	session_stop(rec->session);
	sources_free(rec);
	reload_free(rec->reload);
	control_close(rec->control);
	snapshot_free_all(rec);
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
	size_t			 nwatchers, nrules;
	char			 err[1024], watch_err[8192] = "";
	sigset_t		 usr1;

	daemon_options(&o, argc, argv, "tracetrap-recorder",
	    CONFIG_DEFAULT_PATH);
	/*
	 * An upload's TLS records go through the heap a megabyte at a time.
	 * glibc gave the top of the heap back after each (a brk(2) per MB),
	 * and mapped buffers of 128 KiB and more apart, and unmapped them:
	 * every page came back as a fault, a host fault on a VM. Keep up to
	 * RECORDER_HEAP_KEEP free instead, and the buffers in the heap.
	 */
	mallopt(M_TRIM_THRESHOLD, RECORDER_HEAP_KEEP);
	mallopt(M_MMAP_THRESHOLD, RECORDER_HEAP_KEEP / 4);
	rec = xcalloc(1, sizeof(*rec));
	recorder = rec;
	rec->ready_fd = o.ready_fd;
	if (recorder_load(&rec->conf, o.path, o.is_path_given) == -1)
		exit(1);
	snprintf(rec->config_path, sizeof(rec->config_path), "%s",
	    o.config_path);
	rec->is_config_default = !o.is_path_given &&
	    access(o.path, F_OK) == -1;
	/* What only the running system can tell is part of the check. */
	if (sources_init(rec, o.path, watch_err, sizeof(watch_err)) == -1) {
		fprintf(stderr, "%s", watch_err);
		exit(1);
	}
	if (o.is_check_only) {
		if (sources_check_rules(rec, o.path) == -1)
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
	sources_start_rules(rec);
	if (rec->conf.relay_address[0] != '\0' &&
	    (rec->relay_link = relay_link_open(rec, err, sizeof(err))) == NULL)
		fatalx("relay link: %s", err);
	signals = daemon_signals_new(rec->base, recorder_on_signal, rec);
	recorder_check(rec);
	sources_start_watchers(rec);
	sources_counts(rec, &nwatchers, &nrules);
	log_info("tracetrap-recorder %s: node %s, control %s, triggers %s, "
	    "spool %s (%u snapshots, %llu bytes), %zu watchers, %zu event "
	    "rules", TRACETRAP_VERSION, rec->conf.node_name,
	    rec->conf.control_socket, rec->conf.trigger_socket,
	    rec->conf.spool_dir, rec->spool.count,
	    (unsigned long long)rec->spool.bytes, nwatchers, nrules);

	event_base_dispatch(rec->base);

	recorder_shutdown(rec);
	daemon_signals_free(signals);
	event_base_free(rec->base);
	log_info("stopped");
	status = rec->exit_status;
	free(rec);
	return status;
}
