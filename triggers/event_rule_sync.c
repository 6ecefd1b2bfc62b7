/*
 * Registering the event rules' triggers (event_rule.h): runs on the LTTng
 * worker (lib/worker.h, the recorder's), the only thread that sends the
 * session daemon commands.
 *
 * A trigger is an event-rule-matches condition (event_rule_condition_new)
 * and a notify action. LTTng compiles the filter when the trigger is
 * registered: that is where a bad filter is refused, and why refusals
 * name the line of the rule's filter key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "log.h"
#include "event_rule.h"
#include "worker.h"
#include "xmalloc.h"

static void
event_rule_sync_refused(struct event_rule_sync *sync,
    struct event_rule_result *res, const struct event_rule_conf *c,
    const char *key, const char *why)
{
	unsigned long line = strcmp(key, "filter") == 0 && c->filter_line != 0 ?
	    c->filter_line : c->line;

	snprintf(res->error, sizeof(res->error), "%s:%lu: [trigger.lttng-event."
	    "%s] %s: %s", sync->file, line, c->name, key, why);
	res->is_registered = 0;
	sync->nrefused++;
}

/*
 * Registers the trigger of c as name. Returns LTTNG_OK with the trigger
 * (to unregister it again) in *out, or the error with key and why set.
 */
static enum lttng_error_code
event_rule_sync_register(const struct event_rule_conf *c, const char *name,
    struct lttng_trigger **out, const char **key, char *why, size_t len)
{
	struct lttng_condition	*condition;
	struct lttng_action	*notify = NULL, *list = NULL;
	struct lttng_trigger	*trigger = NULL;
	enum lttng_error_code	 code = LTTNG_ERR_NOMEM;

	*out = NULL;
	if ((condition = event_rule_condition_new(c, key, why, len)) == NULL)
		return LTTNG_ERR_INVALID;
	/*
	 * A notify action alone would do, but `lttng list-triggers` (2.13)
	 * asserts on a trigger whose action is not a list, as it makes
	 * them: operators must be able to list ours.
	 */
	if ((notify = lttng_action_notify_create()) == NULL ||
	    (list = lttng_action_list_create()) == NULL ||
	    lttng_action_list_add_action(list, notify) !=
	    LTTNG_ACTION_STATUS_OK ||
	    (trigger = lttng_trigger_create(condition, list)) == NULL) {
		snprintf(why, len, "out of memory");
		goto end;
	}
	code = lttng_register_trigger_with_name(trigger, name);
	if (code == LTTNG_OK) {
		*out = trigger;
		trigger = NULL;
	} else {
		*key = code == LTTNG_ERR_FILTER_INVAL ||
		    code == LTTNG_ERR_FILTER_NOMEM ? "filter" :
		    code == LTTNG_ERR_INVALID_CAPTURE_EXPRESSION ? "capture" :
		    "event";
		snprintf(why, len, "LTTng refused it: %s",
		    lttng_strerror(-(int)code));
	}
end:
	lttng_trigger_destroy(trigger);
	lttng_action_destroy(list);
	lttng_action_destroy(notify);
	lttng_condition_destroy(condition);
	return code;
}

static int
event_rule_sync_listed(const struct lttng_triggers *list, unsigned count,
    const char *name)
{
	const char	*listed;
	unsigned	 i;

	for (i = 0; i < count; i++)
		if (lttng_trigger_get_name(lttng_triggers_get_at_index(list, i),
		    &listed) == LTTNG_TRIGGER_STATUS_OK &&
		    strcmp(listed, name) == 0)
			return 1;
	return 0;
}

/* A trigger of ours the new set does not hold goes. */
static void
event_rule_sync_remove_stale(const char *session,
    const struct trigger_confs *confs, const struct lttng_triggers *list,
    unsigned count, struct event_rule_sync *sync)
{
	const struct lttng_trigger	*t;
	const char			*name;
	unsigned			 i;
	size_t				 r;
	int				 is_wanted, ret;

	for (i = 0; i < count; i++) {
		t = lttng_triggers_get_at_index(list, i);
		if (t == NULL || lttng_trigger_get_name(t, &name) !=
		    LTTNG_TRIGGER_STATUS_OK)
			continue;
		if (!event_rule_is_ours(name, session) &&
		    (sync->previous_session[0] == '\0' ||
		    !event_rule_is_ours(name, sync->previous_session)))
			continue;
		is_wanted = 0;
		for (r = 0; sync->mode != EVENT_RULE_SYNC_REMOVE &&
		    r < confs->nrules; r++)
			if (sync->results[r].is_registered &&
			    strcmp(sync->results[r].trigger, name) == 0)
				is_wanted = 1;
		if (is_wanted)
			continue;
		if ((ret = lttng_unregister_trigger(t)) < 0)
			log_warnx("event rules: cannot unregister trigger %s: "
			    "%s", name, lttng_strerror(ret));
		else
			sync->nremoved++;
	}
}

int
event_rule_sync(const char *session, const struct trigger_confs *confs,
    struct event_rule_sync *sync)
{
	struct lttng_triggers		*list = NULL;
	struct lttng_trigger		*created[EVENT_RULES_MAX] = { NULL };
	struct event_rule_result	*res;
	const struct event_rule_conf	*c;
	const char			*key;
	char				 why[EVENT_RULE_ERROR_MAX];
	enum lttng_error_code		 code;
	unsigned			 count = 0;
	size_t				 r;
	int				 ret = -1;

	sync->is_done = 0;
	sync->nrefused = sync->nregistered = sync->nremoved = 0;
	sync->error[0] = '\0';
	memset(sync->results, 0, sizeof(sync->results));
	sync->is_sessiond_alive = lttng_session_daemon_alive() == 1;
	if (!sync->is_sessiond_alive) {
		snprintf(sync->error, sizeof(sync->error),
		    "no lttng-sessiond is running");
		return -1;
	}
	if ((code = lttng_list_triggers(&list)) != LTTNG_OK ||
	    lttng_triggers_get_count(list, &count) != LTTNG_TRIGGER_STATUS_OK) {
		snprintf(sync->error, sizeof(sync->error), "cannot list the "
		    "session daemon's triggers: %s",
		    lttng_strerror(-(int)code));
		goto end;
	}
	for (r = 0; sync->mode != EVENT_RULE_SYNC_REMOVE && r < confs->nrules;
	    r++) {
		c = &confs->rules[r];
		res = &sync->results[r];
		if (sync->mode == EVENT_RULE_SYNC_CHECK)
			snprintf(res->trigger, sizeof(res->trigger),
			    "tracetrap-check.%ld.%s", (long)getpid(), c->name);
		else
			event_rule_trigger_name(session, c, res->trigger,
			    sizeof(res->trigger));
		/* The same name is the same definition: a restart's. */
		if (event_rule_sync_listed(list, count, res->trigger)) {
			res->is_registered = 1;
			continue;
		}
		code = event_rule_sync_register(c, res->trigger, &created[r],
		    &key, why, sizeof(why));
		if (code == LTTNG_OK || code == LTTNG_ERR_TRIGGER_EXISTS) {
			res->is_registered = 1;
			sync->nregistered += code == LTTNG_OK;
		} else if (code == LTTNG_ERR_NO_SESSIOND ||
		    lttng_session_daemon_alive() != 1) {
			snprintf(sync->error, sizeof(sync->error), "the "
			    "session daemon went away: %s",
			    lttng_strerror(-(int)code));
			sync->is_sessiond_alive = 0;
			goto end;
		} else
			event_rule_sync_refused(sync, res, c, key, why);
	}
	if (sync->nrefused > 0 && sync->mode == EVENT_RULE_SYNC_ATOMIC) {
		ret = 1;
		goto end;
	}
	if (sync->is_pruning || sync->mode == EVENT_RULE_SYNC_REMOVE)
		event_rule_sync_remove_stale(session, confs, list, count, sync);
	sync->is_done = 1;
	ret = sync->nrefused > 0;
end:
	/* An atomic sync that did not finish leaves what was there. */
	for (r = 0; r < EVENT_RULES_MAX; r++) {
		if (created[r] == NULL)
			continue;
		if ((!sync->is_done && sync->mode == EVENT_RULE_SYNC_ATOMIC) ||
		    sync->mode == EVENT_RULE_SYNC_CHECK) {
			lttng_unregister_trigger(created[r]);
			sync->results[r].is_registered = 0;
		}
		lttng_trigger_destroy(created[r]);
	}
	lttng_triggers_destroy(list);
	return ret;
}


static void
event_rule_sync_run(void *arg)
{
	struct event_rule_sync_job *job = arg;

	job->is_ok = event_rule_sync(job->session, &job->confs,
	    &job->sync) == 0;
}

static void
event_rule_sync_done(void *arg)
{
	struct event_rule_sync_job *job = arg;

	job->done(job, job->arg);
}

struct event_rule_sync_job *
event_rule_sync_job_new(enum event_rule_sync_mode mode, const char *session,
    const struct trigger_confs *confs,
    void (*done)(struct event_rule_sync_job *, void *), void *arg)
{
	struct event_rule_sync_job *job;

	job = xcalloc(1, sizeof(*job));
	job->sync.mode = mode;
	snprintf(job->session, sizeof(job->session), "%s", session);
	job->confs = *confs;
	job->done = done;
	job->arg = arg;
	return job;
}

void
event_rule_sync_job_free(struct event_rule_sync_job *job)
{
	free(job);
}

void
event_rule_sync_submit(struct worker *worker, struct event_rule_sync_job *job)
{
	worker_submit(worker, event_rule_sync_run, event_rule_sync_done, job);
}
