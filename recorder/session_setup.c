/*
 * The LTTng session itself, on the LTTng worker (session_int.h): found
 * or created, its channels, events and contexts as the config says,
 * adopted after a restart when it already matches, set up again when
 * sessiond lost it.
 *
 * The session is snapshot-mode with no output of its own: every snapshot
 * names its output (a spool partial dir, or the configured net:// URL).
 * Channels overwrite (flight recorder), use per-UID buffers by default
 * because per-PID buffers die with their process (Apache recycles its
 * children), and carry vpid/vtid/procname so a trace says who did what.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "log.h"
#include "session_int.h"
#include "xmalloc.h"

const char *
session_strerror(int ret)
{
	return lttng_strerror(ret < 0 ? ret : -ret);
}

/* Finds our session; returns 1 found, 0 not found, -1 sessiond error. */
static int
session_find(const char *name, struct lttng_session *found)
{
	struct lttng_session	*sessions = NULL;
	int			 n, i, is_found = 0;

	if ((n = lttng_list_sessions(&sessions)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(sessions[i].name, name) == 0) {
			*found = sessions[i];
			is_found = 1;
			break;
		}
	}
	free(sessions);
	return is_found;
}

/* 1 when every pattern of the comma list is among the events, and no more. */
static int
session_events_match(const struct lttng_event *events, int n,
    const char *list)
{
	char	 copy[CONFIG_LIST_MAX], *item, *save = NULL;
	int	 i, nitems = 0, is_found;

	snprintf(copy, sizeof(copy), "%s", list);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		nitems++;
		is_found = 0;
		for (i = 0; i < n; i++)
			if (strcmp(events[i].name, item) == 0)
				is_found = 1;
		if (!is_found)
			return 0;
	}
	return nitems == n;
}

/*
 * Says whether an existing session is the one this configuration would
 * create (UST channel ring, buffer type, events), so a restarted recorder
 * adopts its own session, keeping the ring's contents, instead of wiping
 * it. Returns 1 match, 0 differs, -1 when liblttng-ctl could not tell:
 * then nothing may be destroyed.
 */
static int
session_matches(const struct config *c)
{
	struct lttng_domain	*domains = NULL, domain;
	struct lttng_handle	*handle = NULL;
	struct lttng_channel	*channels = NULL;
	struct lttng_event	*events = NULL;
	int			 n, i, nevents, ret = -1, is_match = 0;
	enum lttng_buffer_type	 want;

	want = c->is_per_pid_buffers ? LTTNG_BUFFER_PER_PID :
	    LTTNG_BUFFER_PER_UID;
	if ((n = lttng_list_domains(c->session_name, &domains)) < 0)
		goto end;
	memset(&domain, 0, sizeof(domain));
	for (i = 0; i < n; i++)
		if (domains[i].type == LTTNG_DOMAIN_UST)
			domain = domains[i];
	if (domain.type != LTTNG_DOMAIN_UST || domain.buf_type != want) {
		ret = 0;
		goto end;
	}
	if ((handle = lttng_create_handle(c->session_name, &domain)) == NULL)
		goto end;
	if ((n = lttng_list_channels(handle, &channels)) < 0)
		goto end;
	for (i = 0; i < n; i++) {
		if (strcmp(channels[i].name, SESSION_UST_CHANNEL) != 0)
			continue;
		is_match = channels[i].attr.overwrite == 1 &&
		    channels[i].attr.subbuf_size == c->subbuf_size &&
		    channels[i].attr.num_subbuf == c->subbuf_count;
	}
	if (is_match) {
		nevents = lttng_list_events(handle, SESSION_UST_CHANNEL,
		    &events);
		if (nevents < 0)
			goto end;
		is_match = session_events_match(events, nevents,
		    c->ust_events);
	}
	ret = is_match;
end:
	free(events);
	free(channels);
	free(domains);
	if (handle != NULL)
		lttng_destroy_handle(handle);
	return ret;
}

static int
session_enable_channel(struct lttng_handle *handle, struct lttng_domain *domain,
    const char *name, const struct config *c, char *err, size_t errlen)
{
	struct lttng_channel	*channel;
	int			 ret;

	if ((channel = lttng_channel_create(domain)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(channel->name, sizeof(channel->name), "%s", name);
	channel->enabled = 1;
	channel->attr.overwrite = 1;
	channel->attr.subbuf_size = c->subbuf_size;
	channel->attr.num_subbuf = c->subbuf_count;
	channel->attr.output = LTTNG_EVENT_MMAP;
	ret = lttng_enable_channel(handle, channel);
	lttng_channel_destroy(channel);
	if (ret < 0) {
		snprintf(err, errlen, "enable channel %s: %s", name,
		    session_strerror(ret));
		return -1;
	}
	return 0;
}

/* Enables every pattern of a comma list in the channel. */
static int
session_enable_events(struct lttng_handle *handle, const char *channel,
    const char *list, char *err, size_t errlen)
{
	char			 copy[CONFIG_LIST_MAX], *item, *save = NULL;
	struct lttng_event	*event;
	int			 ret = 0;

	snprintf(copy, sizeof(copy), "%s", list);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		if (*item == '\0')
			continue;
		if ((event = lttng_event_create()) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		event->type = LTTNG_EVENT_TRACEPOINT;
		event->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
		snprintf(event->name, sizeof(event->name), "%s", item);
		ret = lttng_enable_event_with_exclusions(handle, event,
		    channel, NULL, 0, NULL);
		lttng_event_destroy(event);
		if (ret < 0) {
			snprintf(err, errlen, "enable event '%s': %s", item,
			    session_strerror(ret));
			return -1;
		}
	}
	return 0;
}

static int
session_add_contexts(struct lttng_handle *handle, const char *channel,
    const enum lttng_event_context_type *types, size_t ntypes, char *err,
    size_t errlen)
{
	struct lttng_event_context	 context;
	size_t				 i;
	int				 ret;

	for (i = 0; i < ntypes; i++) {
		memset(&context, 0, sizeof(context));
		context.ctx = types[i];
		ret = lttng_add_context(handle, &context, NULL, channel);
		if (ret < 0 && ret != -LTTNG_ERR_UST_CONTEXT_EXIST &&
		    ret != -LTTNG_ERR_KERN_CONTEXT_FAIL) {
			snprintf(err, errlen, "add context: %s",
			    session_strerror(ret));
			return -1;
		}
	}
	return 0;
}

/*
 * The kernel domain is optional: a node without lttng-modules (or a
 * sessiond started with --no-kernel, or not as root) still records user
 * space. Failure here is reported in status, never fatal.
 */
static void
session_setup_kernel(struct session *s, const struct config *c)
{
	static const enum lttng_event_context_type contexts[] = {
		LTTNG_EVENT_CONTEXT_PID, LTTNG_EVENT_CONTEXT_TID,
		LTTNG_EVENT_CONTEXT_PROCNAME,
	};
	struct lttng_domain	 domain;
	struct lttng_handle	*handle;
	char			 err[256];

	s->state.is_kernel_available = 0;
	if (c->kernel_events[0] == '\0') {
		snprintf(s->state.kernel_reason,
		    sizeof(s->state.kernel_reason),
		    "no kernel_events configured");
		return;
	}
	memset(&domain, 0, sizeof(domain));
	domain.type = LTTNG_DOMAIN_KERNEL;
	domain.buf_type = LTTNG_BUFFER_GLOBAL;
	if ((handle = lttng_create_handle(c->session_name, &domain)) == NULL) {
		snprintf(s->state.kernel_reason,
		    sizeof(s->state.kernel_reason), "out of memory");
		return;
	}
	if (session_enable_channel(handle, &domain, SESSION_KERNEL_CHANNEL, c,
	    err, sizeof(err)) == -1 ||
	    session_enable_events(handle, SESSION_KERNEL_CHANNEL,
	    c->kernel_events, err, sizeof(err)) == -1 ||
	    session_add_contexts(handle, SESSION_KERNEL_CHANNEL, contexts,
	    sizeof(contexts) / sizeof(contexts[0]), err, sizeof(err)) == -1) {
		snprintf(s->state.kernel_reason,
		    sizeof(s->state.kernel_reason),
		    "kernel tracer unavailable (%s)", err);
		log_info("kernel tracing skipped: %s", s->state.kernel_reason);
	} else {
		s->state.is_kernel_available = 1;
		s->state.kernel_reason[0] = '\0';
	}
	lttng_destroy_handle(handle);
}

/* An adopted session traces the kernel if it has our kernel channel. */
static void
session_adopt_kernel(struct session *s, const struct config *c)
{
	struct lttng_domain	 domain;
	struct lttng_handle	*handle;
	struct lttng_channel	*channels = NULL;
	struct lttng_event	*events = NULL;
	int			 n, i;

	s->state.is_kernel_available = 0;
	snprintf(s->state.kernel_reason, sizeof(s->state.kernel_reason),
	    "the adopted session has no kernel channel");
	memset(&domain, 0, sizeof(domain));
	domain.type = LTTNG_DOMAIN_KERNEL;
	if ((handle = lttng_create_handle(c->session_name, &domain)) == NULL)
		return;
	n = lttng_list_channels(handle, &channels);
	for (i = 0; i < n; i++) {
		if (strcmp(channels[i].name, SESSION_KERNEL_CHANNEL) != 0)
			continue;
		/* A setup that failed half-way left a channel without events. */
		if (lttng_list_events(handle, SESSION_KERNEL_CHANNEL,
		    &events) > 0) {
			s->state.is_kernel_available = 1;
			s->state.kernel_reason[0] = '\0';
		}
		free(events);
		events = NULL;
	}
	free(channels);
	lttng_destroy_handle(handle);
}

static int
session_create(struct session *s, const struct config *c, char *err,
    size_t errlen)
{
	static const enum lttng_event_context_type contexts[] = {
		LTTNG_EVENT_CONTEXT_VPID, LTTNG_EVENT_CONTEXT_VTID,
		LTTNG_EVENT_CONTEXT_PROCNAME,
	};
	struct lttng_session_descriptor	*descriptor;
	struct lttng_domain		 domain;
	struct lttng_handle		*handle = NULL;
	enum lttng_error_code		 code;
	int				 ret = -1;

	descriptor = lttng_session_descriptor_snapshot_create(c->session_name);
	if (descriptor == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	code = lttng_create_session_ext(descriptor);
	lttng_session_descriptor_destroy(descriptor);
	if (code != LTTNG_OK) {
		snprintf(err, errlen, "create session %s: %s", c->session_name,
		    lttng_strerror(-code));
		return -1;
	}

	memset(&domain, 0, sizeof(domain));
	domain.type = LTTNG_DOMAIN_UST;
	domain.buf_type = c->is_per_pid_buffers ? LTTNG_BUFFER_PER_PID :
	    LTTNG_BUFFER_PER_UID;
	if ((handle = lttng_create_handle(c->session_name, &domain)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto end;
	}
	if (session_enable_channel(handle, &domain, SESSION_UST_CHANNEL, c,
	    err, errlen) == -1)
		goto end;
	if (session_enable_events(handle, SESSION_UST_CHANNEL, c->ust_events,
	    err, errlen) == -1)
		goto end;
	if (session_add_contexts(handle, SESSION_UST_CHANNEL, contexts,
	    sizeof(contexts) / sizeof(contexts[0]), err, errlen) == -1)
		goto end;
	session_setup_kernel(s, c);
	ret = 0;
end:
	if (handle != NULL)
		lttng_destroy_handle(handle);
	if (ret == -1)
		lttng_destroy_session(c->session_name);
	return ret;
}

/* Creates or adopts the session and makes sure it records. */
int
session_setup(struct session *s, const struct config *c, char *err,
    size_t errlen)
{
	struct lttng_session	 found;
	char			 refusal[512];
	/* A reload's new settings; s->applied keeps the running ones. */
	int			 is_change = s->has_applied &&
				    config_session_differs(&s->applied, c);
	int			 ret;

	s->state.was_created = 0;
	s->state.is_up = 0;
	s->state.is_sessiond_alive = lttng_session_daemon_alive() == 1;
	if (!s->state.is_sessiond_alive) {
		snprintf(err, errlen, "no lttng-sessiond is running");
		return -1;
	}
	if ((ret = session_find(c->session_name, &found)) == -1) {
		snprintf(err, errlen, "cannot list sessions");
		return -1;
	}
	if (ret == 1 && !found.snapshot_mode) {
		/* Not ours to destroy: an operator made it. */
		snprintf(err, errlen, "a session named '%s' exists and is not "
		    "in snapshot mode; rename [session] name or destroy it",
		    c->session_name);
		return -1;
	}
	/* Renamed by a reload: the old session is ours and must not leak. */
	if (s->has_applied &&
	    strcmp(s->applied.session_name, c->session_name) != 0) {
		log_info("session %s: renamed to %s, destroying the old one",
		    s->applied.session_name, c->session_name);
		lttng_destroy_session(s->applied.session_name);
		s->has_applied = 0;
	}
	if (ret == 1) {
		int is_match = session_matches(c);

		if (is_match == -1) {
			snprintf(err, errlen, "cannot read session %s; left "
			    "as it is", c->session_name);
			return -1;
		}
		if (!is_match || (s->has_applied &&
		    config_session_differs(&s->applied, c))) {
			log_info("session %s: configuration changed, "
			    "re-creating it", c->session_name);
			lttng_destroy_session(c->session_name);
			ret = 0;
		}
	}
	if (ret == 1) {
		session_adopt_kernel(s, c);
		log_info("session %s: adopted", c->session_name);
	}
	else {
		if (session_create(s, c, err, errlen) == -1) {
			if (!is_change)
				return -1;
			/*
			 * LTTng refused what a reload asked for (a ring too
			 * big for the shared memory, an event pattern it
			 * rejects): recording with the settings that worked
			 * beats not recording at all.
			 */
			snprintf(refusal, sizeof(refusal), "%s", err);
			c = &s->applied;
			if (session_create(s, c, err, errlen) == -1)
				return -1;
			s->is_reverted = 1;
			snprintf(s->revert_reason, sizeof(s->revert_reason),
			    "%s", refusal);
		}
		s->state.was_created = 1;
		log_info("session %s: created (%llu x %u bytes per CPU, %s "
		    "buffers)", c->session_name,
		    (unsigned long long)c->subbuf_size, c->subbuf_count,
		    c->is_per_pid_buffers ? "per-PID" : "per-UID");
	}
	ret = lttng_start_tracing(c->session_name);
	if (ret < 0 && ret != -LTTNG_ERR_TRACE_ALREADY_STARTED) {
		snprintf(err, errlen, "start session: %s", session_strerror(ret));
		return -1;
	}
	if (c != &s->applied)
		s->applied = *c;
	s->has_applied = 1;
	s->state.is_up = 1;
	s->state.ring_bytes = c->subbuf_size * c->subbuf_count;
	return 0;
}

/* Cheap health check: one round trip unless something is wrong. */
int
session_check(struct session *s, const struct config *c, char *err,
    size_t errlen)
{
	struct lttng_session	found;

	s->state.was_created = 0;
	if (s->state.is_up && lttng_session_daemon_alive() == 1 &&
	    session_find(c->session_name, &found) == 1 && found.enabled &&
	    !config_session_differs(&s->applied, c))
		return 0;
	if (s->state.is_up)
		log_warnx("session %s: lost (sessiond died or restarted, or "
		    "the session was stopped); setting it up again",
		    c->session_name);
	return session_setup(s, c, err, errlen);
}
