/*
 * The LTTng worker: the only thread that sends commands to the session
 * daemon (liblttng-ctl's command socket is not thread-safe), and nothing
 * else, so a record never waits for disk work. A snapshot's disk work
 * (hashing, manifest, fsync, rename, eviction) runs on a second thread,
 * the disk worker, so neither the event loop nor the next record waits
 * for it: RECORD, then PUBLISH of the same job. The event rules' syncs
 * (triggers/event_rule_sync.c) run on it too, queued through
 * session_worker(); their notification thread
 * (triggers/event_rule_channel.h) has a socket of its own, the
 * notification channel, and sends no commands.
 *
 * Jobs run on their worker thread (lib/worker.h), one at a time, in
 * submission order per worker; job->done then runs on the event loop.
 */
#ifndef TT_SESSION_H
#define TT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"

enum session_job_type {
	SESSION_JOB_SETUP,	/* create or adopt the session, start it */
	SESSION_JOB_CHECK,	/* sessiond alive and session running? */
	SESSION_JOB_RECORD,	/* snapshot into a partial dir of the spool */
	SESSION_JOB_DESTROY,	/* destroy the session (shutdown) */
	/* On the disk worker: */
	SESSION_JOB_HASH,	/* every file's sha256, the manifest: RECORD's
				   job again, submitted once it is done */
	SESSION_JOB_PUBLISH,	/* fsync, manifest, rename: HASH's job again */
	SESSION_JOB_MANIFEST,	/* rewrite a published manifest */
	SESSION_JOB_REMOVE,	/* delete a spooled snapshot */
};

/* What the main thread knows about the LTTng side, refreshed per job. */
struct session_state {
	int	 is_sessiond_alive;
	int	 is_up;			/* our session exists and records */
	int	 is_kernel_available;
	char	 kernel_reason[256];	/* why not, when unavailable */
	int	 was_created;		/* SETUP/CHECK created it anew */
	uint64_t ring_bytes;		/* per CPU, per buffer owner */
};

struct session;
struct spool_writeback;

struct session_job {
	struct session		*session;	/* set by session_submit */
	enum session_job_type	 type;
	void			(*done)(struct session_job *, void *);
	void			*arg;

	/* In: every job carries the session configuration it applies. */
	struct config		 conf;
	char			 id[128];	/* RECORD, MANIFEST, REMOVE */
	char			 partial[128];	/* RECORD out, HASH, PUBLISH
						   in: its dir in the spool's
						   .partial (the id, or a
						   spare's) */
	struct spool_writeback	*writeback;	/* HASH to PUBLISH */
	char			*manifest;	/* HASH: skeleton in, full
						   text out; PUBLISH,
						   MANIFEST: full text. Owned
						   by job. */

	/* Out. */
	int			 is_ok;
	char			 error[512];
	/*
	 * SETUP, CHECK: LTTng refused the new session settings, and the
	 * session runs the previous ones again; they are in conf.
	 */
	int			 is_reverted;
	char			 revert_reason[512];
	struct session_state	 state;
	char			 path[CONFIG_PATH_MAX];	/* PUBLISH: final dir */
	uint64_t		 bytes;		/* HASH: trace bytes (a
						   network snapshot's: its
						   manifest's) */
	uint64_t		 record_us;	/* lttng_snapshot_record() */
	int64_t			 record_started_at_us;	/* CLOCK_REALTIME */
	uint64_t		 hash_us;	/* HASH */
	uint64_t		 publish_us;	/* PUBLISH: sync, rename */
	int64_t			 published_at_us;	/* CLOCK_REALTIME */
};

struct session	*session_start(struct event_base *);
void		 session_submit(struct session *, struct session_job *);
/* Jobs submitted and not yet completed. */
unsigned	 session_pending(const struct session *);
/*
 * The worker itself, for the other users of liblttng-ctl's command
 * socket (the event rules' syncs): their jobs queue behind the session's.
 */
struct worker	*session_worker(struct session *);
/* Finishes queued jobs, stops and joins the thread. */
void		 session_stop(struct session *);

/* id: the snapshot a RECORD, MANIFEST or REMOVE is for; else NULL. */
struct session_job *session_job_new(enum session_job_type,
		    const struct config *, const char *id,
		    void (*done)(struct session_job *, void *), void *arg);
void		 session_job_free(struct session_job *);

#endif
