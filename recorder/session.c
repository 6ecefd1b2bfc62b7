/*
 * The LTTng worker thread and the disk worker. See session.h for why they
 * exist. Here: the jobs, snapshots and publishing; the session's setup is
 * session_setup.c.
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
#include "session_int.h"
#include "spool.h"
#include "xmalloc.h"

#define SESSION_DISK_NICE	10	/* the disk worker's, over the loop's */

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
 * LTTng worker: a spare partial dir into job->partial, 1; or 0 when none
 * is ready (the caller makes one, the id's). The spool dir is the same
 * for the recorder's life (reload.c keeps it), and so are the spares'.
 */
static int
session_take_spare(struct session *s, struct session_job *job)
{
	int	 is_taken = 0;

	pthread_mutex_lock(&s->spare_lock);
	if (s->nspares > 0) {
		s->nspares--;
		snprintf(job->partial, sizeof(job->partial), "%s",
		    s->spares[s->nspares]);
		is_taken = 1;
	}
	pthread_mutex_unlock(&s->spare_lock);
	return is_taken;
}

/*
 * Disk worker, before a publish's hashing and fsync: the spares that
 * the next records will take, made while no fsync of this worker holds
 * the journal. Only this thread adds spares, so the ones missing now
 * stay missing while it makes them.
 */
static void
session_fill_spares(struct session *s, const char *spool)
{
	char		 name[SPOOL_ID_MAX], err[256];
	unsigned	 missing;

	pthread_mutex_lock(&s->spare_lock);
	missing = SESSION_SPARES - s->nspares;
	pthread_mutex_unlock(&s->spare_lock);
	for (; missing > 0; missing--) {
		if (spool_make_spare(spool, s->spare_seq++, name, err,
		    sizeof(err)) == -1) {
			/* The record makes its own dir, and says why not. */
			log_debug("spare partial dir: %s", err);
			return;
		}
		pthread_mutex_lock(&s->spare_lock);
		snprintf(s->spares[s->nspares++], sizeof(s->spares[0]), "%s",
		    name);
		pthread_mutex_unlock(&s->spare_lock);
	}
}

/*
 * RECORD, on the LTTng worker: the snapshot into a fresh partial dir of
 * the spool, a spare when one is ready, and nothing else, so that the
 * next record may start the moment this one returns. HASH and PUBLISH
 * do the rest on the disk worker.
 */
static void
session_run_record(struct session *s, struct session_job *job)
{
	char		 trace_dir[CONFIG_PATH_MAX], url[CONFIG_PATH_MAX + 8];
	const char	*spool = job->conf.spool_dir;
	int		 is_network = job->conf.output[0] != '\0';
	int		 ret, attempt, is_fresh;

	is_fresh = session_take_spare(s, job);
	if (!is_fresh)
		snprintf(job->partial, sizeof(job->partial), "%s", job->id);
	for (attempt = 0; attempt < 2; attempt++, is_fresh = 0) {
		if (is_fresh) {
			snprintf(trace_dir, sizeof(trace_dir), "%s/%s/%s/%s",
			    spool, SPOOL_PARTIAL, job->partial, SPOOL_TRACE);
		} else {
			/* A retry starts from an empty dir: nothing half
			 * recorded is hashed. */
			spool_remove_tree(spool, job->partial, 1, NULL, 0);
			if (spool_prepare(spool, job->partial, trace_dir,
			    sizeof(trace_dir), job->error,
			    sizeof(job->error)) == -1)
				goto fail;
		}
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
	spool_remove_tree(spool, job->partial, 1, NULL, 0);
	if (!is_network)
		session_explain_space(&job->conf, job->error,
		    sizeof(job->error));
	return;
fail:
	spool_remove_tree(spool, job->partial, 1, NULL, 0);
}

/*
 * HASH, on the disk worker: every file's sha256 (the files' writeback
 * started beside it, spool_writeback_start) and the manifest that says
 * so, in the job. Nothing is synced yet: the uploader may send the
 * snapshot while PUBLISH syncs it. A failure removes the partial dir:
 * nothing half-written stays behind.
 */
static void
session_run_hash(struct session *s, struct session_job *job)
{
	const char	*spool = job->conf.spool_dir;
	json_t		*manifest = NULL, *files = NULL;
	json_error_t	 jerr;
	char		*text = NULL;
	uint64_t	 start = clock_monotonic_us(), bytes = 0;
	int		 is_network = job->conf.output[0] != '\0';

	session_fill_spares(s, spool);
	if ((manifest = json_loads(job->manifest, 0, &jerr)) == NULL) {
		snprintf(job->error, sizeof(job->error), "manifest: %s",
		    jerr.text);
		goto fail;
	}
	if (is_network)
		files = json_array();
	else {
		job->writeback = spool_writeback_start(spool, job->partial);
		if ((files = spool_hash_files(spool, job->partial, &bytes,
		    job->error, sizeof(job->error))) == NULL)
			goto fail;
	}
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
	free(job->manifest);
	job->manifest = text;
	/* A network snapshot leaves only its manifest in the spool. */
	job->bytes = is_network ? strlen(text) : bytes;
	job->hash_us = clock_monotonic_us() - start;
	job->is_ok = 1;
	json_decref(manifest);
	return;
fail:
	free(text);
	json_decref(manifest);
	spool_writeback_wait(job->writeback);
	job->writeback = NULL;
	spool_remove_tree(spool, job->partial, 1, NULL, 0);
}

/*
 * PUBLISH, on the disk worker: every file and directory synced, then the
 * manifest written and the rename that makes the snapshot whole in the
 * spool. A failure removes the partial dir (an upload under way finds
 * its next file gone, and is abandoned).
 */
static void
session_run_publish(struct session_job *job)
{
	const char	*spool = job->conf.spool_dir;
	uint64_t	 start = clock_monotonic_us();

	spool_writeback_wait(job->writeback);
	job->writeback = NULL;
	if (job->conf.output[0] == '\0' && spool_sync_files(spool,
	    job->partial, job->error, sizeof(job->error)) == -1)
		goto fail;
	if (spool_publish(spool, job->partial, job->id, job->manifest,
	    job->error, sizeof(job->error)) == -1)
		goto fail;
	snprintf(job->path, sizeof(job->path), "%s/%s", spool, job->id);
	job->publish_us = clock_monotonic_us() - start;
	job->published_at_us = clock_realtime_us();
	job->is_ok = 1;
	return;
fail:
	spool_remove_tree(spool, job->partial, 1, NULL, 0);
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
	case SESSION_JOB_HASH:
		session_run_hash(s, job);
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
	pthread_mutex_init(&s->spare_lock, NULL);
	s->worker = worker_start(base, "tt-lttng");
	s->disk = worker_start(base, "tt-disk");
	return s;
}

void
session_submit(struct session *s, struct session_job *job)
{
	job->session = s;
	switch (job->type) {
	case SESSION_JOB_HASH:
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
	pthread_mutex_destroy(&s->spare_lock);
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
	spool_writeback_wait(job->writeback);
	free(job->manifest);
	free(job);
}
