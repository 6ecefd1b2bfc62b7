/*
 * SIGHUP: the recorder reads its configuration again and changes only
 * once the whole of it passed every check, or keeps the running one. The
 * checks are those of a start (the file, the [control] group, what the
 * watchers need of the running system), then LTTng's, for changed event
 * rules: it compiles their filters when it registers them, beside the
 * running rules, on the LTTng worker, and the rest of the reload waits
 * for its answer (reload_on_synced). Socket paths, the spool and the
 * node name change only at restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_rule.h"
#include "log.h"
#include "recorder.h"
#include "watcher.h"
#include "xmalloc.h"

/* A reload checked here and waiting for LTTng to take its event rules. */
struct reload {
	struct config	*next;
	struct watchers	*watchers;
	int		 has_control_group;
	gid_t		 control_gid;
	char		 previous_session[CONFIG_NAME_MAX];	/* running */
};

/*
 * A changed [relay]: a new link with the new settings replaces the old
 * one (an upload in progress is cut and sent again). The new link is
 * made first, so a certificate that does not load keeps everything as it
 * was. Returns -1 then, with the error logged.
 */
static int
reload_relay(struct recorder *rec, const struct config *next)
{
	struct relay_link	*link = NULL;
	struct config		*running;
	char			 err[512];

	if (next->relay_address[0] != '\0') {
		running = xmalloc(sizeof(*running));
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

void
reload_free(struct reload *r)
{
	if (r == NULL)
		return;
	watchers_free(r->watchers);
	free(r->next);
	free(r);
}

const char *
reload_next_session(const struct reload *r)
{
	return r != NULL ? r->next->session_name : NULL;
}

/*
 * Applies a reload that passed every check. Returns -1 (logged) when the
 * relay link refuses it: the running configuration stays.
 */
static int
reload_apply(struct recorder *rec, struct reload *r)
{
	struct config	*next = r->next;

	if (config_relay_differs(&rec->conf, next) &&
	    reload_relay(rec, next) == -1)
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
	sources_configure_rules(rec);
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
reload_on_synced(struct event_rule_sync_job *job, void *arg)
{
	struct recorder		*rec = arg;
	struct reload	*r = rec->reload;

	rec->rules_pending--;
	rec->reload = NULL;
	if (rec->is_shutting_down)
		goto end;
	if (job->sync.nrefused > 0) {
		sources_log_refused(job, "reload: ");
		log_warnx("reload: LTTng refused %u event rule(s) of %s; "
		    "keeping the running configuration and its rules",
		    job->sync.nrefused, rec->config_path);
		/* Leave the new rules' conditions the thread took up. */
		sources_configure_rules(rec);
		goto end;
	}
	if (!job->sync.is_done) {
		log_warnx("reload: the event rules cannot be checked with "
		    "LTTng now (%s); they are registered when the session "
		    "daemon is up", job->sync.error);
		rec->needs_rules_sync = r->next->triggers.nrules > 0;
	}
	if (reload_apply(rec, r) == -1) {
		/* LTTng holds the new rules too: only the running ones stay. */
		sources_configure_rules(rec);
		if (job->sync.is_done)
			sources_resync(rec, r->next->session_name);
		goto end;
	}
	event_rule_set_synced(rec->rules, &job->sync);
	if (job->sync.is_done) {
		sources_log_synced(job, "after the reload: ");
		/*
		 * Only now that the loop knows the new triggers may the old
		 * ones go: an event meanwhile fired one or the other.
		 */
		sources_resync(rec, r->previous_session);
	}
end:
	reload_free(r);
	event_rule_sync_job_free(job);
	if (rec->is_reload_again && !rec->is_shutting_down) {
		rec->is_reload_again = 0;
		reload_start(rec);
	}
}

void
reload_start(struct recorder *rec)
{
	struct reload	*r;
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
	next = xmalloc(sizeof(*next));
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
	if ((watchers = sources_watchers_new(rec, &next->triggers,
	    rec->config_path, err, sizeof(err))) == NULL) {
		log_warnx("reload: %s: the watchers cannot start, keeping the "
		    "running configuration:\n%s", rec->config_path, err);
		free(next);
		return;
	}
	r = xcalloc(1, sizeof(*r));
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
		sources_sync_next(rec, next, reload_on_synced);
		return;
	}
	(void)reload_apply(rec, r);
	reload_free(r);
}
