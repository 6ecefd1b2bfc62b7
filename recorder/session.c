/*
 * The LTTng worker thread. See session.h for why it exists.
 *
 * The session is snapshot-mode with no output of its own: every snapshot
 * names its output (a spool partial dir, or the configured net:// URL).
 * Channels overwrite (flight recorder), use per-UID buffers by default
 * because per-PID buffers die with their process (Apache recycles its
 * children), and carry vpid/vtid/procname so a trace says who did what.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "clock.h"
#include "log.h"
#include "worker.h"
#include "session.h"
#include "spool.h"
#include "xmalloc.h"

#define SESSION_UST_CHANNEL	"tracetrap"
#define SESSION_KERNEL_CHANNEL	"tracetrap-kernel"
#define SESSION_OUTPUT_NAME	"snapshot"
#define SESSION_DISK_NICE	10	/* the disk worker's, over the loop's */

struct session {
	struct worker		*worker;	/* liblttng-ctl calls only */
	struct worker		*disk;		/* publish, manifests, removal */

	/* Worker-thread state only. */
	struct session_state	 state;
	struct config		 applied;	/* what the session runs */
	int			 has_applied;
	int			 is_reverted;	/* a change LTTng refused */
	char			 revert_reason[512];
};

static const char *
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
static int
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
static int
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

/*
 * One lttng_snapshot_record(). Returns 0, -1 on failure, or 1 when the
 * session vanished with its sessiond: the caller may set it up and retry.
 */
static int
session_snapshot(struct session *s, struct session_job *job, const char *url,
    char *err, size_t errlen)
{
	struct lttng_snapshot_output	*output;
	struct timespec			 now;
	uint64_t			 start;
	int				 ret;

	if (!s->state.is_up && session_setup(s, &job->conf, err, errlen) == -1)
		return -1;
	if ((output = lttng_snapshot_output_create()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	lttng_snapshot_output_set_name(SESSION_OUTPUT_NAME, output);
	if (strncmp(url, "file://", 7) == 0)
		ret = lttng_snapshot_output_set_local_path(url + 7, output);
	else
		ret = lttng_snapshot_output_set_network_url(url, output);
	if (ret < 0) {
		lttng_snapshot_output_destroy(output);
		snprintf(err, errlen, "snapshot output %s: %s", url,
		    session_strerror(ret));
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	job->record_started_at_us = (int64_t)now.tv_sec * 1000000 +
	    now.tv_nsec / 1000;
	start = clock_monotonic_us();
	ret = lttng_snapshot_record(job->conf.session_name, output, 0);
	job->record_us = clock_monotonic_us() - start;
	lttng_snapshot_output_destroy(output);
	if (ret >= 0)
		return 0;
	snprintf(err, errlen, "lttng_snapshot_record: %s",
	    session_strerror(ret));
	if (ret != -LTTNG_ERR_SESS_NOT_FOUND && ret != -LTTNG_ERR_NO_SESSIOND &&
	    ret != -LTTNG_ERR_FATAL && ret != -LTTNG_ERR_NOT_SNAPSHOT_SESSION)
		return -1;
	s->state.is_up = 0;
	return 1;
}

/*
 * The consumer daemon writes the trace and liblttng-ctl only says "record
 * failed". When the spool's filesystem lacks room for a ring's worth per
 * CPU, say so: it is the usual cause. Called after the partial dir is gone.
 */
static void
session_explain_space(const struct config *c, char *err, size_t errlen)
{
	struct statvfs	 sv;
	size_t		 len = strlen(err);
	uint64_t	 free_bytes, need;
	long		 ncpus = sysconf(_SC_NPROCESSORS_CONF);

	if (statvfs(c->spool_dir, &sv) == -1)
		return;
	free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	need = c->subbuf_size * c->subbuf_count * (uint64_t)(ncpus > 0 ?
	    ncpus : 1);
	if (free_bytes >= need)
		return;
	snprintf(err + len, errlen - len, " (spool filesystem %s has %llu "
	    "bytes free; a snapshot may need %llu)", c->spool_dir,
	    (unsigned long long)free_bytes, (unsigned long long)need);
}

/*
 * RECORD, on the LTTng worker: the snapshot into a fresh partial dir of
 * the spool, and nothing else, so that the next record may start the
 * moment this one returns. PUBLISH does the rest on the disk worker.
 */
static void
session_run_record(struct session *s, struct session_job *job)
{
	char		 trace_dir[CONFIG_PATH_MAX], url[CONFIG_PATH_MAX + 8];
	const char	*spool = job->conf.spool_dir;
	int		 is_network = job->conf.output[0] != '\0';
	int		 ret, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		/* A retry starts from an empty dir: no half trace is hashed. */
		spool_remove_tree(spool, job->id, 1, NULL, 0);
		if (spool_prepare(spool, job->id, trace_dir, sizeof(trace_dir),
		    job->error, sizeof(job->error)) == -1)
			goto fail;
		if (is_network)
			snprintf(url, sizeof(url), "%s", job->conf.output);
		else
			snprintf(url, sizeof(url), "file://%s", trace_dir);
		ret = session_snapshot(s, job, url, job->error,
		    sizeof(job->error));
		if (ret == 0) {
			job->is_ok = 1;
			return;
		}
		if (ret == -1 || attempt == 1)
			break;
		log_warnx("%s; setting the session up again", job->error);
	}
	spool_remove_tree(spool, job->id, 1, NULL, 0);
	if (!is_network)
		session_explain_space(&job->conf, job->error,
		    sizeof(job->error));
	return;
fail:
	spool_remove_tree(spool, job->id, 1, NULL, 0);
}

/*
 * PUBLISH, on the disk worker: every file's sha256, the manifest, fsync
 * and the rename that makes the snapshot whole in the spool. A failure
 * removes the partial dir: nothing half-written stays behind.
 */
static void
session_run_publish(struct session_job *job)
{
	const char	*spool = job->conf.spool_dir;
	json_t		*manifest = NULL, *files = NULL;
	json_error_t	 jerr;
	char		*text = NULL;
	uint64_t	 start = clock_monotonic_us(), bytes = 0;
	int		 is_network = job->conf.output[0] != '\0';

	if ((manifest = json_loads(job->manifest, 0, &jerr)) == NULL) {
		snprintf(job->error, sizeof(job->error), "manifest: %s",
		    jerr.text);
		goto fail;
	}
	if (is_network)
		files = json_array();
	else if ((files = spool_hash_files(spool, job->id, &bytes, job->error,
	    sizeof(job->error))) == NULL)
		goto fail;
	json_object_set_new(manifest, "files", files);
	json_object_set_new(manifest, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(manifest, "record_us",
	    json_integer((json_int_t)job->record_us));
	/* With triggers[0].received_at_us: what policy and dispatch cost. */
	json_object_set_new(manifest, "record_started_at_us",
	    json_integer((json_int_t)job->record_started_at_us));
	if ((text = json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS))
	    == NULL) {
		snprintf(job->error, sizeof(job->error), "out of memory");
		goto fail;
	}
	if (spool_publish(spool, job->id, text, job->error,
	    sizeof(job->error)) == -1)
		goto fail;
	free(job->manifest);
	job->manifest = text;
	/* A network snapshot leaves only its manifest in the spool. */
	job->bytes = is_network ? strlen(text) : bytes;
	snprintf(job->path, sizeof(job->path), "%s/%s", spool, job->id);
	job->publish_us = clock_monotonic_us() - start;
	job->published_at_us = clock_realtime_us();
	job->is_ok = 1;
	json_decref(manifest);
	return;
fail:
	free(text);
	json_decref(manifest);
	/* Nothing half-written stays behind: the partial dir goes. */
	spool_remove_tree(spool, job->id, 1, NULL, 0);
}

static void
session_run(struct session *s, struct session_job *job)
{
	int ret = 0;

	job->is_ok = 0;
	job->error[0] = '\0';
	switch (job->type) {
	case SESSION_JOB_SETUP:
		ret = session_setup(s, &job->conf, job->error,
		    sizeof(job->error));
		job->is_ok = ret == 0;
		break;
	case SESSION_JOB_CHECK:
		ret = session_check(s, &job->conf, job->error,
		    sizeof(job->error));
		job->is_ok = ret == 0;
		break;
	case SESSION_JOB_RECORD:
		session_run_record(s, job);
		break;
	case SESSION_JOB_PUBLISH:
		session_run_publish(job);
		break;
	case SESSION_JOB_MANIFEST:
		job->is_ok = spool_write_manifest(job->conf.spool_dir, job->id,
		    job->manifest, job->error, sizeof(job->error)) == 0;
		break;
	case SESSION_JOB_REMOVE:
		job->is_ok = spool_remove_tree(job->conf.spool_dir, job->id, 0,
		    job->error, sizeof(job->error)) == 0;
		break;
	case SESSION_JOB_DESTROY:
		ret = lttng_destroy_session(job->conf.session_name);
		if (ret < 0)
			snprintf(job->error, sizeof(job->error), "%s",
			    session_strerror(ret));
		job->is_ok = ret >= 0;
		s->state.is_up = 0;
		break;
	}
	if (s->is_reverted) {
		/* The loop takes the running settings back from the job. */
		s->is_reverted = 0;
		job->is_reverted = 1;
		snprintf(job->revert_reason, sizeof(job->revert_reason), "%s",
		    s->revert_reason);
		config_session_copy(&job->conf, &s->applied);
	}
	job->state = s->state;
}

static void
session_run_item(void *arg)
{
	struct session_job *job = arg;

	session_run(job->session, job);
}

/*
 * The disk worker yields to the loop and the LTTng worker: hashing a
 * large snapshot takes a core for a while, and the next trigger's
 * dispatch and record must not wait for a CPU behind it. (Linux: a
 * thread's nice value is its own; refused, it runs at the default.)
 */
static void
session_run_disk_item(void *arg)
{
	static __thread int	 is_niced;

	if (!is_niced) {
		is_niced = 1;
		if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
		    SESSION_DISK_NICE) == -1)
			log_debug("disk worker: setpriority: %s",
			    strerror(errno));
	}
	session_run_item(arg);
}

static void
session_done_item(void *arg)
{
	struct session_job *job = arg;

	job->done(job, job->arg);
}

struct session *
session_start(struct event_base *base)
{
	struct session *s;

	s = xcalloc(1, sizeof(*s));
	s->worker = worker_start(base);
	s->disk = worker_start(base);
	return s;
}

void
session_submit(struct session *s, struct session_job *job)
{
	job->session = s;
	switch (job->type) {
	case SESSION_JOB_PUBLISH:
	case SESSION_JOB_MANIFEST:
	case SESSION_JOB_REMOVE:
		worker_submit(s->disk, session_run_disk_item,
		    session_done_item, job);
		break;
	default:
		worker_submit(s->worker, session_run_item, session_done_item,
		    job);
		break;
	}
}

unsigned
session_pending(const struct session *s)
{
	return worker_pending(s->worker) + worker_pending(s->disk);
}

struct worker *
session_worker(struct session *s)
{
	return s->worker;
}

void
session_stop(struct session *s)
{
	/* The LTTng worker's last done callbacks may queue disk work. */
	worker_stop(s->worker);
	worker_stop(s->disk);
	free(s);
}

struct session_job *
session_job_new(enum session_job_type type, const struct config *conf,
    const char *id, void (*done)(struct session_job *, void *), void *arg)
{
	struct session_job *job;

	job = xcalloc(1, sizeof(*job));
	job->type = type;
	job->conf = *conf;
	if (id != NULL)
		snprintf(job->id, sizeof(job->id), "%s", id);
	job->done = done;
	job->arg = arg;
	return job;
}

void
session_job_free(struct session_job *job)
{
	if (job == NULL)
		return;
	free(job->manifest);
	free(job);
}
