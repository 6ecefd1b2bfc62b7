/*
 * The frames of a recorder's connection once it said HELLO, and the
 * uploads they carry (ingest.h). Upload data goes to the disk worker as
 * jobs, in the connection's own worker flow: a connection's jobs run one
 * at a time and in order, and the connections with work take turns.
 *
 * Two clocks run here, and the state machine keeps them apart:
 *   - the wire: what the peer sent. c->upload is the upload between its
 *     BEGIN and its END; frames are checked against that alone, so an
 *     END always closes the upload on the wire at once, whatever the disk
 *     has done, and the next BEGIN is welcome right after it;
 *   - the disk: each upload's jobs, and their results, which come back
 *     later, in order, while the peer may already be several uploads on.
 * Each upload is its own struct, shared by its jobs, and gets one answer:
 * the first failure (ACK refused), a duplicate found at BEGIN (ACK
 * stored at once), or its END stored (ACK stored); an upload the peer
 * abandoned, or whose connection closed, gets none. So an early ACK (a
 * refusal or a duplicate) and the END job that follows it cannot race:
 * the END only ever closed the wire.
 *
 * ACK "stored" means durable and catalogued: the catalog row is written
 * before the ACK, and a snapshot whose row could not be written is
 * refused (the recorder keeps it and sends it again, and that upload,
 * finding it stored, writes the row). Retention goes by what the relay
 * measured, the bytes on disk and its own clock (catalog_add_stored).
 *
 * With [store] backend = s3, "durable" means in the bucket: the END
 * renames the verified snapshot into <dir> (the cache) as always, then a
 * COMMIT job writes it to the bucket on the relay's bucket worker (a PUT
 * may take seconds; the disk worker, which carries every connection's
 * chunks, must not wait for it), then a CATALOG job writes its row on
 * the disk worker, and only then the ACK. A bucket out of reach refuses
 * the ACK ("store unavailable: ...") and the recorder keeps its copy.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analysis.h"
#include "catalog.h"
#include "clock.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "store_backend.h"
#include "worker.h"
#include "xmalloc.h"

enum ingest_job_type {
	INGEST_JOB_BEGIN,
	INGEST_JOB_CHUNK,
	INGEST_JOB_END,
	INGEST_JOB_ABORT,
	INGEST_JOB_REQUEST,	/* the relay asked this node for an incident */
	/* [store] backend = s3, after an END: the bucket, then the row. */
	INGEST_JOB_COMMIT,	/* bucket worker: the snapshot's objects */
	INGEST_JOB_CATALOG,	/* disk worker: its row, then the ACK */
};

/* One upload: the loop's side and the disk's side, never the same fields. */
struct ingest_upload {
	struct ingest_conn	*conn;
	unsigned		 refs;		/* its jobs, + 1 on the wire */

	/* Event loop. */
	char			 id[STORE_NAME_MAX];	/* for logs, ACKs */
	int			 is_answered;	/* ACK sent, or none due */

	/* Disk worker. */
	struct store_upload	*store;
	int			 is_settled;	/* failed, duplicate, or ended */
	int			 is_index;	/* row from the stored manifest */
};

struct ingest_job {
	enum ingest_job_type	 type;
	struct ingest_conn	*conn;
	struct ingest_upload	*upload;	/* NULL for a request */
	char			*data;		/* manifest, chunk, incident */
	size_t			 len;
	uint32_t		 file_index;
	uint64_t		 offset;
	size_t			 cost;		/* charged to the budget */
	/*
	 * An ABORT's reason, logged once the BEGIN before it is done and
	 * the upload's id known: NULL when the upload had its answer.
	 */
	const char		*abort_why;

	/* Results, for the loop. */
	int			 is_failed;
	int			 is_duplicate;
	int			 is_repaired;	/* a missing row written */
	int			 needs_commit;	/* s3: to the bucket next */
	char			 id[STORE_NAME_MAX];
	char			 path[PATH_MAX];	/* stored, relative */
	char			 note[256];	/* logged as is */
	char			 error[512];
};

static void	ingest_run(void *);
static void	ingest_done(void *);

static struct ingest_job *
ingest_submit(struct ingest_conn *c, enum ingest_job_type type,
    struct ingest_upload *u, char *data, size_t len, uint32_t file_index,
    uint64_t offset)
{
	struct ingest_job *job;

	job = xcalloc(1, sizeof(*job));
	job->type = type;
	job->conn = c;
	job->upload = u;
	job->data = data;
	job->len = len;
	job->file_index = file_index;
	job->offset = offset;
	job->cost = len + INGEST_JOB_COST;
	if (u != NULL)
		u->refs++;
	c->jobs++;
	c->queued_bytes += job->cost;
	ingest_charge(c, job->cost);
	/* A commit waits on the bucket, never in the disk's flows. */
	if (type == INGEST_JOB_COMMIT)
		worker_submit(c->relay->bucket, ingest_run, ingest_done, job);
	else
		worker_submit_flow(c->relay->disk, c->flow, ingest_run,
		    ingest_done, job);
	if (c->queued_bytes > INGEST_QUEUED_HIGH ||
	    c->jobs > INGEST_QUEUED_JOBS) {
		c->paused |= INGEST_PAUSE_QUEUE;
		ingest_read_update(c);
	}
	return job;
}

/* The upload's id for a log line; its manifest may not be read yet. */
static const char *
ingest_upload_name(const struct ingest_upload *u, char *buf, size_t len)
{
	if (u->id[0] == '\0')
		return "(manifest not read yet)";
	return ingest_printable(u->id, strlen(u->id), buf, len);
}

/* The analysis waits for the uploads in progress (analysis.h). */
static void
ingest_upload_count(struct relay *relay, int delta)
{
	relay->ingest->uploads += (unsigned)delta;
	analysis_uploads(relay->analysis, relay->ingest->uploads);
}

static void
ingest_upload_unref(struct ingest_upload *u)
{
	if (--u->refs > 0)
		return;
	ingest_upload_count(u->conn->relay, -1);
	free(u);
}

/* The id a refused manifest gives itself, so its ACK finds its upload. */
static void
ingest_claimed_id(const char *manifest, size_t len, char *id, size_t idlen)
{
	json_t		*o = json_loadb(manifest, len, 0, NULL);
	const char	*value = json_string_value(json_object_get(o, "id"));

	snprintf(id, idlen, "%s", value != NULL ? value : "");
	json_decref(o);
}

/*
 * Disk worker, BEGIN: the manifest checked and the staging dir made; the
 * incident it names kept only if this relay asked the node for it; and
 * a snapshot already stored is answered at once (its row written again
 * if it was lost).
 */
static void
ingest_run_begin(struct ingest_job *job, struct ingest_upload *u)
{
	struct relay	*relay = job->conn->relay;
	const char	*node = job->conn->node, *claimed;
	int		 ret;

	u->store = store_upload_begin(relay->conf.store_dir, node, job->data,
	    job->len, relay->conf.store_min_free, job->error,
	    sizeof(job->error));
	if (u->store == NULL) {
		ingest_claimed_id(job->data, job->len, job->id,
		    sizeof(job->id));
		job->is_failed = 1;
		return;
	}
	snprintf(job->id, sizeof(job->id), "%s", store_upload_id(u->store));
	if ((claimed = store_upload_claimed_incident(u->store)) != NULL) {
		if ((ret = catalog_has_request(relay->catalog_writer, claimed,
		    node)) == -1) {
			snprintf(job->error, sizeof(job->error), "catalog: "
			    "cannot look up incident %s; try again", claimed);
			job->is_failed = 1;
			return;
		}
		if (ret == 0) {
			snprintf(job->note, sizeof(job->note), "names incident "
			    "%s, which this relay did not ask %s for: filed as "
			    "its own incident", claimed, node);
			store_upload_keep_own_incident(u->store);
		}
	}
	if (catalog_check_manifest(store_upload_manifest(u->store),
	    store_upload_path(u->store), job->error,
	    sizeof(job->error)) == -1) {
		job->is_failed = 1;
		return;
	}
	/* Stored before: the recorder lost our ACK, or a row was lost. */
	if ((ret = catalog_has_snapshot(relay->catalog_writer,
	    job->id)) == -1) {
		snprintf(job->error, sizeof(job->error), "catalog: cannot look "
		    "up %s; try again", job->id);
		job->is_failed = 1;
		return;
	}
	/* s3: a local copy is not the bucket's; END commits it again. */
	if (ret == 0 && !store_backend_is_s3() &&
	    store_upload_is_stored(u->store)) {
		if (catalog_index_stored(relay->catalog_writer,
		    relay->conf.store_dir, store_upload_path(u->store),
		    job->error, sizeof(job->error)) == -1) {
			job->is_failed = 1;
			return;
		}
		job->is_repaired = 1;
		ret = 1;
	}
	if (ret == 1) {
		job->is_duplicate = 1;
		u->is_settled = 1;
	}
}

/*
 * Disk worker, the catalog row of a snapshot now stored: from its
 * manifest, or (is_index) from the copy an earlier upload stored.
 */
static void
ingest_catalog(struct ingest_job *job, struct ingest_upload *u)
{
	struct relay	*relay = job->conn->relay;
	const char	*path = store_upload_path(u->store);
	char		 why[400];

	if (u->is_index) {
		if (catalog_index_stored(relay->catalog_writer,
		    relay->conf.store_dir, path, job->error,
		    sizeof(job->error)) == 0) {
			/* s3: it just went to the bucket, from the copy a
			 * refused upload left here: stored now, not before. */
			job->is_duplicate = job->type != INGEST_JOB_CATALOG;
			job->is_repaired = 1;
			return;
		}
	} else if (catalog_add_stored(relay->catalog_writer,
	    store_upload_manifest(u->store), path,
	    store_upload_stored_bytes(u->store),
	    store_upload_received_at(u->store), job->error,
	    sizeof(job->error)) == 0)
		return;
	/* Stored, not catalogued: not acknowledged. Its next upload fixes it. */
	snprintf(why, sizeof(why), "%s", job->error[0] != '\0' ? job->error :
	    "catalog: cannot look it up");
	snprintf(job->error, sizeof(job->error), "%s; the snapshot is kept "
	    "and indexed when it is sent again", why);
	job->is_failed = 1;
}

/*
 * Disk worker, END: the snapshot made durable and renamed in, then (s3)
 * handed to the bucket, or its catalog row; an ACK follows only if both
 * held.
 */
static void
ingest_run_end(struct ingest_job *job, struct ingest_upload *u)
{
	struct relay	*relay = job->conn->relay;
	int		 ret;

	u->is_settled = 1;
	if (store_upload_end(u->store, &job->is_duplicate, job->error,
	    sizeof(job->error)) == -1) {
		job->is_failed = 1;
		return;
	}
	if (job->is_duplicate) {
		/* Two uploads of one snapshot at once: the other one won. */
		if ((ret = catalog_has_snapshot(relay->catalog_writer,
		    job->id)) == 1)
			return;
		if (ret == -1) {
			snprintf(job->error, sizeof(job->error), "catalog: "
			    "cannot look up %s; the snapshot is kept and "
			    "indexed when it is sent again", job->id);
			job->is_failed = 1;
			return;
		}
		job->is_duplicate = 0;
		u->is_index = 1;
	}
	/* Stored here; in the bucket (and then catalogued) on its worker. */
	if (store_backend_is_s3()) {
		job->needs_commit = 1;
		return;
	}
	ingest_catalog(job, u);
}

/* Bucket worker: the snapshot's objects, its manifest last. */
static void
ingest_run_commit(struct ingest_job *job, struct ingest_upload *u)
{
	struct relay	*relay = job->conn->relay;

	if (store_commit(relay->conf.store_dir, store_upload_path(u->store),
	    job->error, sizeof(job->error)) != STORE_OK)
		job->is_failed = 1;
}

/* Disk and bucket workers: everything that touches the store and the
 * writer catalog. */
static void
ingest_run(void *arg)
{
	struct ingest_job	*job = arg;
	struct ingest_upload	*u = job->upload;
	struct relay		*relay = job->conn->relay;

	if (u != NULL && u->store != NULL) {
		snprintf(job->id, sizeof(job->id), "%s",
		    store_upload_id(u->store));
		snprintf(job->path, sizeof(job->path), "%s",
		    store_upload_path(u->store));
	}
	switch (job->type) {
	case INGEST_JOB_BEGIN:
		ingest_run_begin(job, u);
		break;
	case INGEST_JOB_CHUNK:
		if (u->is_settled)
			break;
		if (store_upload_chunk(u->store, job->file_index, job->offset,
		    job->data, job->len, job->error,
		    sizeof(job->error)) == -1)
			job->is_failed = 1;
		break;
	case INGEST_JOB_END:
		if (!u->is_settled)
			ingest_run_end(job, u);
		break;
	case INGEST_JOB_COMMIT:
		ingest_run_commit(job, u);
		/* The row comes next, on the disk: the upload stays. */
		if (!job->is_failed)
			return;
		break;
	case INGEST_JOB_CATALOG:
		ingest_catalog(job, u);
		break;
	case INGEST_JOB_ABORT:
		u->is_settled = 1;
		break;
	case INGEST_JOB_REQUEST:
		if (catalog_add_request(relay->catalog_writer, job->data,
		    job->conn->node, clock_realtime_us(), job->error,
		    sizeof(job->error)) == -1)
			job->is_failed = 1;
		return;
	}
	/* Whatever settled it, nothing of it waits in .staging any more. */
	if (job->is_failed)
		u->is_settled = 1;
	if (u->is_settled && u->store != NULL && !job->needs_commit) {
		store_upload_free(u->store);
		u->store = NULL;
	}
}

/* The loop: the one answer an upload gets, at its first occasion. */
static void
ingest_answer(struct ingest_conn *c, struct ingest_upload *u,
    const struct ingest_job *job)
{
	struct relay_stats	*stats = &c->relay->stats;
	char			 id[STORE_NAME_MAX], error[512];

	ingest_printable(u->id, strlen(u->id), id, sizeof(id));
	if (job->is_failed) {
		stats->uploads_refused++;
		ingest_printable(job->error, strlen(job->error), error,
		    sizeof(error));
		log_warnx("%s: upload %s refused: %s", c->node, id, error);
		ingest_send(c, FRAME_ACK, json_pack("{s:s, s:s, s:s}", "id",
		    u->id, "status", "refused", "message", job->error));
	} else if (job->is_duplicate) {
		stats->uploads_duplicate++;
		log_info("%s: snapshot %s is already stored%s", c->node, id,
		    job->is_repaired ? "; its catalog row was missing and is "
		    "written again" : "");
		ingest_send(c, FRAME_ACK, json_pack("{s:s, s:s}", "id", u->id,
		    "status", "stored"));
	} else if (job->type == INGEST_JOB_END ||
	    job->type == INGEST_JOB_CATALOG) {
		stats->uploads_stored++;
		log_info("%s: snapshot %s stored", c->node, id);
		ingest_send(c, FRAME_ACK, json_pack("{s:s, s:s}", "id", u->id,
		    "status", "stored"));
		/* After the ACK: the recorder never waits for the analysis. */
		analysis_submit(c->relay->analysis, job->id, job->path);
	} else
		return;
	u->is_answered = 1;
}

/*
 * Event loop: an s3 upload's next step. A relay stopping has no bucket
 * worker any more: the upload is then refused, the recorder keeps it.
 */
static void
ingest_commit_next(struct ingest_conn *c, struct ingest_upload *u,
    struct ingest_job *job, enum ingest_job_type next)
{
	if (next == INGEST_JOB_COMMIT && c->relay->bucket == NULL) {
		job->is_failed = 1;
		snprintf(job->error, sizeof(job->error), "store unavailable: "
		    "the relay is stopping");
		store_upload_free(u->store);
		u->store = NULL;
		if (!u->is_answered)
			ingest_answer(c, u, job);
		return;
	}
	ingest_submit(c, next, u, NULL, 0, 0, 0);
}

/* Event loop: accounts for a job done and answers the peer if due. */
static void
ingest_done(void *arg)
{
	struct ingest_job	*job = arg;
	struct ingest_conn	*c = job->conn;
	struct ingest_upload	*u = job->upload;
	char			 error[512];

	c->jobs--;
	c->queued_bytes -= job->cost;
	ingest_uncharge(c->relay, job->cost);
	if (job->type == INGEST_JOB_REQUEST) {
		if (job->is_failed)
			log_warnx("%s: %s", c->node, ingest_printable(
			    job->error, strlen(job->error), error,
			    sizeof(error)));
		goto end;
	}
	if (job->type == INGEST_JOB_BEGIN)
		snprintf(u->id, sizeof(u->id), "%s", job->id);
	if (job->note[0] != '\0')
		log_warnx("%s: upload %s %s", c->node, ingest_printable(u->id,
		    strlen(u->id), error, sizeof(error)), job->note);
	if (job->abort_why != NULL) {
		c->relay->stats.uploads_aborted++;
		log_info("%s: upload %s %s", c->node, ingest_upload_name(u,
		    error, sizeof(error)), job->abort_why);
	}
	/* s3: the bucket, then the row, then the answer. */
	if (job->needs_commit && !job->is_failed)
		ingest_commit_next(c, u, job, INGEST_JOB_COMMIT);
	else if (job->type == INGEST_JOB_COMMIT && !job->is_failed)
		ingest_commit_next(c, u, job, INGEST_JOB_CATALOG);
	/* Closed: no ACK goes out, but a stored snapshot is still analyzed. */
	else if (!u->is_answered)
		ingest_answer(c, u, job);
	ingest_upload_unref(u);
end:
	if ((c->paused & INGEST_PAUSE_QUEUE) &&
	    c->queued_bytes < INGEST_QUEUED_LOW &&
	    c->jobs < INGEST_QUEUED_JOBS / 2) {
		c->paused &= ~INGEST_PAUSE_QUEUE;
		ingest_read_update(c);
	}
	if (job->type == INGEST_JOB_CHUNK)
		ingest_chunk_buffer_free(c->relay, job->data);
	else
		free(job->data);
	free(job);
	ingest_conn_release(c);
}

static void
ingest_on_begin(struct ingest_conn *c, const struct frame *f)
{
	struct ingest_upload	*u;
	char			*manifest;

	if (c->upload != NULL) {
		ingest_protocol_error(c, "upload_begin while an upload is in "
		    "progress");
		return;
	}
	u = xcalloc(1, sizeof(*u));
	u->conn = c;
	u->refs = 1;		/* the wire's, until END */
	c->upload = u;
	c->uploads++;
	ingest_upload_count(c->relay, 1);
	manifest = xmalloc(f->length + 1);
	memcpy(manifest, f->payload, f->length);
	manifest[f->length] = '\0';
	ingest_submit(c, INGEST_JOB_BEGIN, u, manifest, f->length, 0, 0);
}

void
ingest_upload_chunk(struct ingest_conn *c, const struct frame_chunk *chunk,
    char *data)
{
	if (c->upload == NULL) {
		ingest_chunk_buffer_free(c->relay, data);
		ingest_protocol_error(c, "upload_chunk without upload_begin");
		return;
	}
	/* Answered already (refused, or stored before): nothing to write. */
	if (c->upload->is_answered) {
		ingest_chunk_buffer_free(c->relay, data);
		return;
	}
	c->relay->stats.bytes_received += chunk->length;
	ingest_submit(c, INGEST_JOB_CHUNK, c->upload, data, chunk->length,
	    chunk->file_index, chunk->offset);
}

/* A chunk from a contiguous frame (ingest.c reads most of them itself). */
static void
ingest_on_chunk(struct ingest_conn *c, const struct frame *f)
{
	struct frame_chunk	 chunk;
	char			 err[256], *data;

	if (frame_chunk_decode(f, &chunk, err, sizeof(err)) == -1) {
		ingest_protocol_error(c, c->upload == NULL ? "upload_chunk "
		    "without upload_begin" : err);
		return;
	}
	data = ingest_chunk_buffer(c->relay);
	memcpy(data, chunk.data, chunk.length);
	ingest_upload_chunk(c, &chunk, data);
}

/* UPLOAD_END {"abandoned":true}: the sender gives the upload up. */
static int
ingest_is_abandoned(struct ingest_conn *c, const struct frame *f)
{
	char	 err[256], printable[256];
	json_t	*o;
	int	 is_abandoned;

	if ((o = frame_json(f, err, sizeof(err))) == NULL) {
		log_debug("%s: upload_end: %s", c->node, ingest_printable(err,
		    strlen(err), printable, sizeof(printable)));
		return 0;
	}
	is_abandoned = json_is_true(json_object_get(o, "abandoned"));
	json_decref(o);
	return is_abandoned;
}

/* The END closes the upload on the wire; the disk finishes it later. */
static void
ingest_on_end(struct ingest_conn *c, const struct frame *f)
{
	struct ingest_upload	*u = c->upload;
	struct ingest_job	*job;
	int			 is_answered;

	if (u == NULL) {
		ingest_protocol_error(c, "upload_end without upload_begin");
		return;
	}
	c->upload = NULL;
	if (ingest_is_abandoned(c, f)) {
		/* The recorder could not send it whole; it retries. */
		is_answered = u->is_answered;
		u->is_answered = 1;
		job = ingest_submit(c, INGEST_JOB_ABORT, u, NULL, 0, 0, 0);
		if (!is_answered)
			job->abort_why = "abandoned by the recorder";
	} else
		ingest_submit(c, INGEST_JOB_END, u, NULL, 0, 0, 0);
	ingest_upload_unref(u);
}

static void
ingest_on_ping(struct ingest_conn *c, const struct frame *f)
{
	(void)f;
	ingest_send(c, FRAME_PONG, json_object());
}

/* A PONG only shows the node alive, as every frame it sends does. */
static void
ingest_on_pong(struct ingest_conn *c, const struct frame *f)
{
	(void)c;
	(void)f;
}

static void
ingest_on_cluster_trigger(struct ingest_conn *c, const struct frame *f)
{
	char	 err[256];
	json_t	*trigger = frame_json(f, err, sizeof(err));

	if (trigger == NULL)
		ingest_protocol_error(c, err);
	else {
		fanout_trigger(c->relay, c->node, trigger);
		json_decref(trigger);
	}
}

/* A node's words in our log: one line, nothing to act on. */
static void
ingest_on_error(struct ingest_conn *c, const struct frame *f)
{
	char	 err[256], printable[512];
	json_t	*o, *message;

	if ((o = frame_json(f, err, sizeof(err))) == NULL)
		return;
	message = json_object_get(o, "message");
	log_warnx("%s: peer error: %s", c->node, ingest_printable(
	    json_string_value(message), json_string_length(message),
	    printable, sizeof(printable)));
	json_decref(o);
}

/* What a node may send once it is in, and what becomes of it. */
static void (*const ingest_handlers[])(struct ingest_conn *,
    const struct frame *) = {
	[FRAME_PING] = ingest_on_ping,
	[FRAME_PONG] = ingest_on_pong,
	[FRAME_ERROR] = ingest_on_error,
	[FRAME_UPLOAD_BEGIN] = ingest_on_begin,
	[FRAME_UPLOAD_CHUNK] = ingest_on_chunk,
	[FRAME_UPLOAD_END] = ingest_on_end,
	[FRAME_CLUSTER_TRIGGER] = ingest_on_cluster_trigger,
};

void
ingest_upload_frame(struct ingest_conn *c, const struct frame *f)
{
	char	 err[256];

	if ((size_t)f->type < sizeof(ingest_handlers) /
	    sizeof(ingest_handlers[0]) && ingest_handlers[f->type] != NULL) {
		ingest_handlers[f->type](c, f);
		return;
	}
	snprintf(err, sizeof(err), "unexpected %s frame",
	    frame_type_name(f->type));
	ingest_protocol_error(c, err);
}

void
ingest_upload_close(struct ingest_conn *c)
{
	struct ingest_upload	*u = c->upload;
	struct ingest_job	*job;
	int			 is_answered;

	if (u == NULL)
		return;
	c->upload = NULL;
	is_answered = u->is_answered;
	u->is_answered = 1;
	/* The worker owns the upload's store side: it frees it, in turn. */
	job = ingest_submit(c, INGEST_JOB_ABORT, u, NULL, 0, 0, 0);
	if (!is_answered)
		job->abort_why = "cut off; nothing of it is kept, the recorder "
		    "sends it again";
	ingest_upload_unref(u);
}

void
ingest_upload_request(struct ingest_conn *c, const char *incident)
{
	size_t	 len = strlen(incident);
	char	*data = xmalloc(len + 1);

	memcpy(data, incident, len + 1);
	ingest_submit(c, INGEST_JOB_REQUEST, NULL, data, len, 0, 0);
}
