/*
 * The relay API's replies that come from the disk: a snapshot's
 * manifest.json, byte for byte, and its archive (ustar, tar.c). Files are
 * read on this file's own worker thread, so neither a large archive nor a
 * slow disk stalls the event loop, and uploads (on the disk worker) never
 * wait behind a download. An archive goes out a chunk at a time: the next
 * chunk is read only once the previous one has been flushed to the
 * socket, so a slow client costs one chunk of memory, not the trace.
 *
 * A download outlives neither its client nor the relay: a client that
 * goes away is noticed through the connection's close callback, and
 * download_close() ends what is left when the relay stops.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <jansson.h>

#include "api.h"
#include "download.h"
#include "http_json.h"
#include "log.h"
#include "store.h"
#include "store_backend.h"
#include "tar.h"
#include "worker.h"
#include "xmalloc.h"

#define DOWNLOAD_CHUNK_SIZE	(256 * 1024)
#define DOWNLOAD_MANIFEST_MAX	(16 * 1024 * 1024)
/* A snapshot dir holds trace/ paths up to the store's depth. */
#define DOWNLOAD_DEPTH_MAX	(STORE_PATH_DEPTH_MAX + 1)

/*
 * One reply in progress. The loop owns it; while is_busy, a job on the
 * worker owns the fields below "worker side", and the loop only looks at
 * them in the job's done callback.
 */
struct download {
	/* NULL once evhttp has freed it (its connection went first). */
	struct evhttp_request	*req;
	enum download_kind	 kind;
	char			 id[STORE_NAME_MAX];
	char			 dir[DOWNLOAD_PATH_MAX];
	char			 store_dir[RELAY_CONFIG_PATH_MAX];
	char			 path[DOWNLOAD_PATH_MAX];	/* in it */
	char			 peer[80];
	int			 is_busy;	/* a job is on the worker */
	int			 is_closed;	/* the client went away */
	int			 has_started;	/* status line sent */
	uint64_t		 size;		/* the archive's, promised */
	uint64_t		 sent;

	/* Worker side. */
	struct tar_stream	*tar;
	unsigned char		*data;
	size_t			 len;
	int			 status;	/* != 0: failed with it */
	char			 error[512];

	TAILQ_ENTRY(download)	 entry;
};
TAILQ_HEAD(downloads, download);

/* One relay per process, one set of downloads. */
static struct worker		*download_worker;
static struct downloads		 download_list =
				    TAILQ_HEAD_INITIALIZER(download_list);
static struct download_stats	 download_totals;
static int			 download_is_closing;

static void	download_run(void *);
static void	download_done(void *);

/*
 * Forgets the request: evhttp owns it again, or, when its connection is
 * already gone (evhttp then leaves an unfinished request to us), it is
 * freed here.
 */
static void
download_detach(struct download *d)
{
	struct evhttp_connection *conn;

	if (d->req == NULL)
		return;
	if ((conn = evhttp_request_get_connection(d->req)) != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	else
		evhttp_request_free(d->req);
	d->req = NULL;
}

static void
download_free(struct download *d)
{
	download_detach(d);
	TAILQ_REMOVE(&download_list, d, entry);
	download_totals.active--;
	tar_stream_free(d->tar);
	free(d->data);
	free(d);
}

/*
 * The client went away (or evhttp is freeing the connection). Evhttp
 * detaches an unfinished request from a failed connection and leaves it
 * to us; in every other case it frees the request with the connection.
 */
static void
download_on_close(struct evhttp_connection *conn, void *arg)
{
	struct download *d = arg;

	(void)conn;
	d->is_closed = 1;
	if (d->req != NULL && evhttp_request_get_connection(d->req) != NULL)
		d->req = NULL;
	if (d->has_started)
		log_info("api: %s: client went away after %" PRIu64 " of %"
		    PRIu64 " bytes of %s", d->peer, d->sent, d->size, d->id);
	if (!d->is_busy)
		download_free(d);
}

static void
download_submit(struct download *d)
{
	d->is_busy = 1;
	worker_submit(download_worker, download_run, download_done, d);
}

/* The HTTP status of a store's answer. */
static int
download_status(enum store_result r)
{
	switch (r) {
	case STORE_OK:
		return 0;
	case STORE_NOT_FOUND:
		return 404;
	case STORE_UNAVAILABLE:
		return 503;
	case STORE_FAILED:
		break;
	}
	return 500;
}

/* Worker: the manifest, whole, from the cache or the bucket. */
static void
download_read_manifest(struct download *d)
{
	char	*data;

	d->status = download_status(store_read_file(d->store_dir, d->path,
	    "manifest.json", DOWNLOAD_MANIFEST_MAX, &data, &d->len, d->error,
	    sizeof(d->error)));
	d->data = (unsigned char *)data;
}

/*
 * The snapshot's time, in seconds, from its manifest: every member of its
 * archive carries it, so that any relay of a tier serves the same bytes
 * (their copies of the files were written at different times); -1 when
 * the manifest does not say.
 */
static int64_t
download_taken_at(const char *dir)
{
	json_t	*m;
	char	 path[PATH_MAX];
	int64_t	 us = -1;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if ((m = json_load_file(path, 0, NULL)) == NULL)
		return -1;
	if (json_is_integer(json_object_get(m, "taken_at_us")))
		us = json_integer_value(json_object_get(m, "taken_at_us"));
	json_decref(m);
	return us >= 0 ? us / 1000000 : -1;
}

/* Worker: the archive's plan on the first call, then its next chunk. */
static void
download_read_archive(struct download *d)
{
	ssize_t n;

	d->len = 0;
	if (d->tar == NULL) {
		/*
		 * Retention may have removed it since the catalog lookup;
		 * s3: fetched into the cache first when it is not there.
		 */
		if ((d->status = download_status(store_localize(d->store_dir,
		    d->path, d->error, sizeof(d->error)))) != 0)
			return;
		d->tar = tar_stream_open(d->dir, d->id, DOWNLOAD_DEPTH_MAX,
		    download_taken_at(d->dir), d->error, sizeof(d->error));
		if (d->tar == NULL) {
			d->status = 500;
			return;
		}
		d->size = tar_stream_size(d->tar);
		d->data = xmalloc(DOWNLOAD_CHUNK_SIZE);
	}
	n = tar_stream_read(d->tar, d->data, DOWNLOAD_CHUNK_SIZE, d->error,
	    sizeof(d->error));
	if (n == -1) {
		d->status = 500;
		return;
	}
	d->len = (size_t)n;
}

static void
download_run(void *arg)
{
	struct download *d = arg;

	if (d->kind == DOWNLOAD_MANIFEST)
		download_read_manifest(d);
	else
		download_read_archive(d);
}

static void
download_on_flushed(struct evhttp_connection *conn, void *arg)
{
	struct download *d = arg;

	(void)conn;
	/* Evhttp may call again on an empty buffer: one job at a time. */
	if (d->is_busy || download_is_closing)
		return;
	download_submit(d);
}

/*
 * Hands the request back to evhttp with its last reply: the close
 * callback goes first, so nothing calls back into a freed transfer.
 */
static void
download_end(struct download *d, int code, struct evbuffer *body,
    const char *message)
{
	struct evhttp_request		*req = d->req;
	struct evhttp_connection	*conn;

	if ((conn = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	d->req = NULL;
	download_free(d);
	if (body != NULL)
		evhttp_send_reply(req, code, NULL, body);
	else if (message != NULL)
		http_json_error(req, code, code == 404 ? "not_found" :
		    code == 503 ? "store_unavailable" : "internal", message);
	else
		evhttp_send_reply_end(req);
}

/* Restores the timeouts a streamed archive lifted (see below). */
static void
download_timeouts(struct download *d, int is_streaming)
{
	struct evhttp_connection	*conn;
	struct bufferevent		*bev;
	struct timeval			 tv = { API_TIMEOUT_SECONDS, 0 };

	if ((conn = evhttp_request_get_connection(d->req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(conn)) == NULL)
		return;
	bufferevent_set_timeouts(bev, is_streaming ? NULL : &tv, &tv);
}

static void
download_send(struct download *d)
{
	struct evkeyvalq	*headers;
	struct evbuffer		*buf;
	char			 value[STORE_NAME_MAX + 64];

	if (!d->has_started) {
		headers = evhttp_request_get_output_headers(d->req);
		evhttp_add_header(headers, "Content-Type", "application/x-tar");
		snprintf(value, sizeof(value),
		    "attachment; filename=\"%s.tar\"", d->id);
		evhttp_add_header(headers, "Content-Disposition", value);
		/* Known up front: no chunked encoding, clients see progress. */
		snprintf(value, sizeof(value), "%" PRIu64, d->size);
		evhttp_add_header(headers, "Content-Length", value);
		/*
		 * The client sends nothing while it downloads: evhttp's read
		 * timeout would cut any archive that takes longer than it.
		 * The write timeout still drops a client that stops reading.
		 */
		download_timeouts(d, 1);
		evhttp_send_reply_start(d->req, 200, "OK");
		d->has_started = 1;
		log_info("api: %s: archive of %s, %" PRIu64 " bytes", d->peer,
		    d->id, d->size);
	}
	if ((buf = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	evbuffer_add(buf, d->data, d->len);
	d->sent += d->len;
	if (d->len < DOWNLOAD_CHUNK_SIZE) {
		/* tar_stream_read() only falls short at the end. */
		evhttp_send_reply_chunk(d->req, buf);
		evbuffer_free(buf);
		download_totals.archives++;
		download_totals.archive_bytes += d->sent;
		download_timeouts(d, 0);
		download_end(d, 200, NULL, NULL);
		return;
	}
	evhttp_send_reply_chunk_with_cb(d->req, buf, download_on_flushed, d);
	evbuffer_free(buf);
}

/*
 * An archive that fails once its status line is out can only be cut
 * short: closing the connection is how the client learns it is
 * incomplete (it got fewer bytes than Content-Length).
 */
static void
download_abort(struct download *d)
{
	struct evhttp_connection *conn;

	log_warnx("api: %s: archive of %s cut after %" PRIu64 " bytes: %s",
	    d->peer, d->id, d->sent, d->error);
	if ((conn = evhttp_request_get_connection(d->req)) != NULL) {
		evhttp_connection_set_closecb(conn, NULL, NULL);
		/* Frees the request with it. */
		evhttp_connection_free(conn);
		d->req = NULL;
	}
	download_free(d);
}

static void
download_done(void *arg)
{
	struct download	*d = arg;
	struct evbuffer		*buf;
	char			 message[STORE_NAME_MAX + 128];

	d->is_busy = 0;
	if (d->is_closed || download_is_closing || d->req == NULL) {
		download_free(d);
		return;
	}
	if (d->status != 0 && d->has_started) {
		download_abort(d);
		return;
	}
	if (d->status != 0) {
		if (d->status == 404) {
			snprintf(message, sizeof(message), "snapshot %s is no "
			    "longer in the store (retention?)", d->id);
			log_debug("api: %s", d->error);
		} else if (d->status == 503) {
			snprintf(message, sizeof(message), "the store cannot "
			    "be reached; try again later (snapshot %s)", d->id);
			log_warnx("api: %s", d->error);
		} else {
			snprintf(message, sizeof(message), "cannot read "
			    "snapshot %s; see the relay's log", d->id);
			log_warnx("api: %s", d->error);
		}
		download_end(d, d->status, NULL, message);
		return;
	}
	if (d->kind == DOWNLOAD_ARCHIVE) {
		download_send(d);
		return;
	}
	if ((buf = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	evbuffer_add(buf, d->data, d->len);
	evhttp_add_header(evhttp_request_get_output_headers(d->req),
	    "Content-Type", "application/json");
	download_end(d, 200, buf, NULL);
	evbuffer_free(buf);
}

void
download_init(struct event_base *base)
{
	download_worker = worker_start(base, "tt-download");
	download_is_closing = 0;
}

void
download_start(struct evhttp_request *req, enum download_kind kind,
    const char *id, const char *store_dir, const char *path)
{
	struct evhttp_connection	*conn;
	struct download			*d;
	char				*address = NULL;
	ev_uint16_t			 port = 0;

	d = xcalloc(1, sizeof(*d));
	d->req = req;
	d->kind = kind;
	snprintf(d->id, sizeof(d->id), "%s", id);
	snprintf(d->store_dir, sizeof(d->store_dir), "%s", store_dir);
	snprintf(d->path, sizeof(d->path), "%s", path);
	snprintf(d->dir, sizeof(d->dir), "%s/%s", store_dir, path);
	conn = evhttp_request_get_connection(req);
	evhttp_connection_get_peer(conn, &address, &port);
	snprintf(d->peer, sizeof(d->peer), "%s:%u",
	    address != NULL ? address : "?", port);
	TAILQ_INSERT_TAIL(&download_list, d, entry);
	download_totals.active++;
	evhttp_connection_set_closecb(conn, download_on_close, d);
	download_submit(d);
}

const struct download_stats *
download_stats(void)
{
	return &download_totals;
}

void
download_close(void)
{
	struct download *d;

	if (download_worker == NULL)
		return;
	/* Jobs still queued end in download_done, which frees on closing. */
	download_is_closing = 1;
	worker_stop(download_worker);
	download_worker = NULL;
	/* The rest wait for a flush; evhttp frees their requests. */
	while ((d = TAILQ_FIRST(&download_list)) != NULL)
		download_free(d);
}
