/*
 * Recorder connections: TLS 1.3 with client certificates, then frames
 * (protocol.h). The node name comes from the certificate, fixed at the
 * handshake; nothing a peer sends can change it.
 *
 * Upload data goes to the disk worker as jobs, in frame order. The
 * current store_upload of a connection lives on the worker side: only
 * jobs touch it, and jobs run one at a time, in order. When more than
 * INGEST_QUEUED_HIGH bytes wait for the disk, the connection stops
 * reading until the worker catches up, so a fast sender cannot exhaust
 * the relay's memory and the loop keeps serving everyone else.
 *
 * A malformed frame or a frame out of order is a protocol error: the peer
 * gets FRAME_ERROR and the connection is dropped. A bad upload (path
 * tricks, checksum mismatch, store full) is only refused: ACK "refused".
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "log.h"
#include "protocol.h"
#include "analysis.h"
#include "relay.h"
#include "store.h"
#include "tls.h"
#include "xmalloc.h"

#define INGEST_QUEUED_HIGH	(8 * 1024 * 1024)
#define INGEST_QUEUED_LOW	(2 * 1024 * 1024)
#define INGEST_HANDSHAKE_SECONDS 10
#define INGEST_IDLE_SECONDS	120	/* peers ping every 15 s */

enum ingest_state {
	INGEST_HANDSHAKE,
	INGEST_HELLO,		/* waiting for the peer's HELLO */
	INGEST_READY,
	INGEST_CLOSING,		/* ERROR queued; close once it is out */
	INGEST_CLOSED,		/* bufferevent gone; jobs still pending */
};

struct ingest_conn {
	struct relay		*relay;
	struct bufferevent	*bev;
	enum ingest_state	 state;
	char			 node[64];
	char			 address[64];

	/* Main thread's view of the upload in progress. */
	unsigned		 generation;	/* of the upload, at BEGIN */
	int			 is_uploading;
	int			 is_discarding;	/* refused: skip until END */
	char			 upload_id[STORE_NAME_MAX];
	uint64_t		 queued_bytes;	/* waiting for the disk */
	unsigned		 jobs;		/* submitted, not done */
	int			 is_read_paused;

	/* Worker side: touched by disk jobs only. */
	struct store_upload	*upload;
	int			 has_failed;

	TAILQ_ENTRY(ingest_conn) entry;
};

enum ingest_job_type {
	INGEST_JOB_BEGIN,
	INGEST_JOB_CHUNK,
	INGEST_JOB_END,
	INGEST_JOB_ABORT,
};

struct ingest_job {
	enum ingest_job_type	 type;
	struct ingest_conn	*conn;
	unsigned		 generation;	/* the upload it belongs to */
	char			*data;		/* manifest or chunk bytes */
	size_t			 len;
	uint32_t		 file_index;
	uint64_t		 offset;

	int			 is_ok;
	int			 is_duplicate;
	int			 is_first_failure; /* answer the peer once */
	char			 id[STORE_NAME_MAX];
	char			 path[PATH_MAX];	/* stored, relative */
	char			 error[512];
};

static void	ingest_run(void *);
static void	ingest_done(void *);

static void
ingest_send(struct ingest_conn *c, enum frame_type type, json_t *payload)
{
	if (c->state != INGEST_CLOSED &&
	    frame_push_json(bufferevent_get_output(c->bev), type, payload) == -1)
		log_warnx("%s: cannot queue a %s frame", c->node,
		    frame_type_name(type));
	json_decref(payload);
}

static void
ingest_submit(struct ingest_conn *c, enum ingest_job_type type, char *data,
    size_t len, uint32_t file_index, uint64_t offset)
{
	struct ingest_job *job;

	job = xcalloc(1, sizeof(*job));
	job->type = type;
	job->conn = c;
	job->generation = c->generation;
	job->data = data;
	job->len = len;
	job->file_index = file_index;
	job->offset = offset;
	c->jobs++;
	if (type == INGEST_JOB_CHUNK)
		c->queued_bytes += len;
	worker_submit(c->relay->disk, ingest_run, ingest_done, job);
}

static void
ingest_drop(struct ingest_conn *c, const char *why)
{
	struct relay *relay = c->relay;

	if (c->state == INGEST_CLOSED)
		return;
	log_info("%s (%s): disconnected: %s", c->node[0] != '\0' ? c->node :
	    "unknown peer", c->address, why);
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->state = INGEST_CLOSED;
	TAILQ_REMOVE(&relay->conns, c, entry);
	relay->nconns--;
	if (c->is_uploading && !c->is_discarding) {
		relay->stats.uploads_aborted++;
		log_warnx("%s: upload %s cut off; nothing of it is kept, the "
		    "recorder sends it again", c->node, c->upload_id);
	}
	/* The worker owns the upload: it frees it, after the queued jobs. */
	ingest_submit(c, INGEST_JOB_ABORT, NULL, 0, 0, 0);
}

static void
ingest_protocol_error(struct ingest_conn *c, const char *message)
{
	c->relay->stats.protocol_errors++;
	log_warnx("%s (%s): protocol error: %s", c->node[0] != '\0' ?
	    c->node : "unknown peer", c->address, message);
	ingest_send(c, FRAME_ERROR, json_pack("{s:s, s:s}", "error",
	    "protocol", "message", message));
	/* Let the ERROR frame out, then close: see ingest_on_write. */
	bufferevent_disable(c->bev, EV_READ);
	c->state = INGEST_CLOSING;
}

/* Disk worker: everything that touches the store and the writer catalog. */
static void
ingest_run(void *arg)
{
	struct ingest_job	*job = arg;
	struct ingest_conn	*c = job->conn;
	struct relay		*relay = c->relay;
	int			 was_failed = c->has_failed;

	switch (job->type) {
	case INGEST_JOB_BEGIN:
		store_upload_free(c->upload);
		c->has_failed = 0;
		was_failed = 0;
		c->upload = store_upload_begin(relay->conf.store_dir, c->node,
		    job->data, job->len, relay->conf.store_min_free,
		    job->error, sizeof(job->error));
		if (c->upload == NULL)
			c->has_failed = 1;
		else {
			snprintf(job->id, sizeof(job->id), "%s",
			    store_upload_id(c->upload));
			/* Already stored: the recorder lost our ACK. */
			if (catalog_has_snapshot(relay->catalog_writer,
			    job->id) == 1)
				job->is_duplicate = 1;
		}
		break;
	case INGEST_JOB_CHUNK:
		if (c->has_failed || c->upload == NULL)
			break;
		if (store_upload_chunk(c->upload, job->file_index, job->offset,
		    job->data, job->len, job->error, sizeof(job->error)) == -1)
			c->has_failed = 1;
		break;
	case INGEST_JOB_END:
		if (c->has_failed || c->upload == NULL)
			break;
		snprintf(job->id, sizeof(job->id), "%s",
		    store_upload_id(c->upload));
		snprintf(job->path, sizeof(job->path), "%s",
		    store_upload_path(c->upload));
		if (store_upload_end(c->upload, &job->is_duplicate, job->error,
		    sizeof(job->error)) == -1)
			c->has_failed = 1;
		else if (!job->is_duplicate &&
		    catalog_add(relay->catalog_writer,
		    store_upload_manifest(c->upload),
		    store_upload_path(c->upload), job->error,
		    sizeof(job->error)) == -1)
			/* Stored and durable: the catalog can be rebuilt. */
			log_warnx("catalog: %s", job->error);
		store_upload_free(c->upload);
		c->upload = NULL;
		break;
	case INGEST_JOB_ABORT:
		store_upload_free(c->upload);
		c->upload = NULL;
		break;
	}
	job->is_ok = !c->has_failed;
	job->is_first_failure = c->has_failed && !was_failed;
}

static void
ingest_resume_reading(struct ingest_conn *c)
{
	if (c->is_read_paused && c->queued_bytes < INGEST_QUEUED_LOW &&
	    c->state != INGEST_CLOSED) {
		c->is_read_paused = 0;
		bufferevent_enable(c->bev, EV_READ);
	}
}

/* Event loop: answers the recorder once a job says how things went. */
static void
ingest_done(void *arg)
{
	struct ingest_job	*job = arg;
	struct ingest_conn	*c = job->conn;
	struct relay		*relay = c->relay;

	c->jobs--;
	if (job->type == INGEST_JOB_CHUNK)
		c->queued_bytes -= job->len;
	/*
	 * A job of an upload the recorder abandoned, done after the next
	 * BEGIN: what it found is about the old upload, not this one.
	 */
	if (job->generation != c->generation)
		goto end;
	if (job->is_first_failure && c->is_uploading) {
		relay->stats.uploads_refused++;
		log_warnx("%s: upload %s refused: %s", c->node, c->upload_id,
		    job->error);
		ingest_send(c, FRAME_ACK, json_pack("{s:s, s:s, s:s}", "id",
		    c->upload_id, "status", "refused", "message", job->error));
		c->is_discarding = 1;
	} else if (job->type == INGEST_JOB_BEGIN && job->is_duplicate) {
		relay->stats.uploads_duplicate++;
		log_info("%s: snapshot %s is already stored", c->node, job->id);
		ingest_send(c, FRAME_ACK, json_pack("{s:s, s:s}", "id", job->id,
		    "status", "stored"));
		c->is_discarding = 1;
	} else if (job->type == INGEST_JOB_END && job->is_ok &&
	    c->is_uploading && !c->is_discarding) {
		if (job->is_duplicate)
			relay->stats.uploads_duplicate++;
		else
			relay->stats.uploads_stored++;
		log_info("%s: snapshot %s stored%s", c->node, job->id,
		    job->is_duplicate ? " (already there)" : "");
		ingest_send(c, FRAME_ACK, json_pack("{s:s, s:s}", "id", job->id,
		    "status", "stored"));
		/* After the ACK: the recorder never waits for the analysis. */
		if (!job->is_duplicate)
			analysis_submit(relay->analysis, job->id, job->path);
	}
	if (job->type == INGEST_JOB_END) {
		c->is_uploading = 0;
		c->is_discarding = 0;
	}
end:
	ingest_resume_reading(c);
	free(job->data);
	free(job);
	if (c->state == INGEST_CLOSED && c->jobs == 0)
		free(c);
}

/* The snapshot id of a manifest, for logs; the store checks it again. */
static void
ingest_manifest_id(const char *manifest, size_t len, char *id, size_t idlen)
{
	json_t		*o = json_loadb(manifest, len, 0, NULL);
	const char	*value = json_string_value(json_object_get(o, "id"));

	snprintf(id, idlen, "%s", value != NULL && store_is_valid_name(value) ?
	    value : "(invalid id)");
	json_decref(o);
}

static void
ingest_on_begin(struct ingest_conn *c, const struct frame *f)
{
	char *manifest;

	if (c->is_uploading) {
		ingest_protocol_error(c, "upload_begin while an upload is in "
		    "progress");
		return;
	}
	manifest = xmalloc(f->length + 1);
	memcpy(manifest, f->payload, f->length);
	manifest[f->length] = '\0';
	c->generation++;
	c->is_uploading = 1;
	c->is_discarding = 0;
	ingest_manifest_id(manifest, f->length, c->upload_id,
	    sizeof(c->upload_id));
	ingest_submit(c, INGEST_JOB_BEGIN, manifest, f->length, 0, 0);
}

static void
ingest_on_chunk(struct ingest_conn *c, const struct frame *f)
{
	struct frame_chunk	 chunk;
	char			 err[256], *data;

	if (!c->is_uploading) {
		ingest_protocol_error(c, "upload_chunk without upload_begin");
		return;
	}
	if (frame_chunk_decode(f, &chunk, err, sizeof(err)) == -1) {
		ingest_protocol_error(c, err);
		return;
	}
	if (c->is_discarding)
		return;
	c->relay->stats.bytes_received += chunk.length;
	data = xmalloc(chunk.length + 1);
	memcpy(data, chunk.data, chunk.length);
	ingest_submit(c, INGEST_JOB_CHUNK, data, chunk.length,
	    chunk.file_index, chunk.offset);
	if (c->queued_bytes > INGEST_QUEUED_HIGH && !c->is_read_paused) {
		c->is_read_paused = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
}

/* UPLOAD_END {"abandoned":true}: the sender gives the upload up. */
static int
ingest_is_abandoned(struct ingest_conn *c, const struct frame *f)
{
	char	 err[256];
	json_t	*o;
	int	 is_abandoned;

	if ((o = frame_json(f, err, sizeof(err))) == NULL) {
		log_debug("%s: upload_end: %s", c->node, err);
		return 0;
	}
	is_abandoned = json_is_true(json_object_get(o, "abandoned"));
	json_decref(o);
	return is_abandoned;
}

static void
ingest_on_frame(struct ingest_conn *c, const struct frame *f)
{
	char	 err[256];
	json_t	*o;

	if (c->state == INGEST_HELLO) {
		if (f->type != FRAME_HELLO) {
			ingest_protocol_error(c, "the first frame must be "
			    "hello");
			return;
		}
		if ((o = frame_json(f, err, sizeof(err))) == NULL) {
			ingest_protocol_error(c, err);
			return;
		}
		if (json_integer_value(json_object_get(o, "version")) !=
		    PROTOCOL_VERSION) {
			json_decref(o);
			ingest_protocol_error(c, "unsupported protocol version");
			return;
		}
		json_decref(o);
		c->state = INGEST_READY;
		ingest_send(c, FRAME_HELLO, json_pack("{s:i, s:s, s:s}",
		    "version", PROTOCOL_VERSION, "node", c->node, "software",
		    "tracetrap-relay " TRACETRAP_VERSION));
		log_info("%s (%s): connected", c->node, c->address);
		return;
	}
	switch (f->type) {
	case FRAME_PING:
		ingest_send(c, FRAME_PONG, json_object());
		break;
	case FRAME_PONG:
		break;
	case FRAME_UPLOAD_BEGIN:
		ingest_on_begin(c, f);
		break;
	case FRAME_UPLOAD_CHUNK:
		ingest_on_chunk(c, f);
		break;
	case FRAME_UPLOAD_END:
		if (!c->is_uploading) {
			ingest_protocol_error(c, "upload_end without "
			    "upload_begin");
			return;
		}
		if (c->is_discarding) {
			c->is_uploading = 0;
			c->is_discarding = 0;
			return;
		}
		if (ingest_is_abandoned(c, f)) {
			/* The recorder could not send it whole; it retries. */
			log_info("%s: upload %s abandoned by the recorder",
			    c->node, c->upload_id);
			c->relay->stats.uploads_aborted++;
			c->is_uploading = 0;
			ingest_submit(c, INGEST_JOB_ABORT, NULL, 0, 0, 0);
			return;
		}
		ingest_submit(c, INGEST_JOB_END, NULL, 0, 0, 0);
		break;
	case FRAME_CLUSTER_TRIGGER:
		if ((o = frame_json(f, err, sizeof(err))) == NULL) {
			ingest_protocol_error(c, err);
			return;
		}
		fanout_trigger(c->relay, c->node, o);
		json_decref(o);
		break;
	case FRAME_ERROR:
		if ((o = frame_json(f, err, sizeof(err))) != NULL) {
			log_warnx("%s: peer error: %s", c->node,
			    json_string_value(json_object_get(o, "message")));
			json_decref(o);
		}
		break;
	default:
		snprintf(err, sizeof(err), "unexpected %s frame",
		    frame_type_name(f->type));
		ingest_protocol_error(c, err);
		break;
	}
}

static void
ingest_on_read(struct bufferevent *bev, void *arg)
{
	struct ingest_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct frame		 f;
	char			 err[256];
	int			 ret;

	while (c->state == INGEST_HELLO || c->state == INGEST_READY) {
		if (c->is_read_paused)
			return;
		if ((ret = frame_pull(in, &f, err, sizeof(err))) == 0)
			return;
		if (ret == -1) {
			ingest_protocol_error(c, err);
			return;
		}
		ingest_on_frame(c, &f);
		if (c->state == INGEST_CLOSED)
			return;
		evbuffer_drain(in, FRAME_HEADER_SIZE + f.length);
		if (c->state == INGEST_CLOSING)
			return;
	}
}

/* After a protocol error, the connection closes once ERROR is out. */
static void
ingest_on_write(struct bufferevent *bev, void *arg)
{
	struct ingest_conn *c = arg;

	(void)bev;
	if (c->state == INGEST_CLOSING)
		ingest_drop(c, "protocol error");
}

static void
ingest_on_event(struct bufferevent *bev, short events, void *arg)
{
	struct ingest_conn	*c = arg;
	struct timeval		 idle = { INGEST_IDLE_SECONDS, 0 };
	char			 err[256], why[320];
	unsigned long		 tls_err;

	if (events & BEV_EVENT_CONNECTED) {
		/* The handshake verified the chain; the name is ours to check. */
		if (tls_peer_name(bufferevent_openssl_get_ssl(bev), c->node,
		    sizeof(c->node), err, sizeof(err)) == -1) {
			c->relay->stats.handshakes_failed++;
			c->node[0] = '\0';
			ingest_drop(c, err);
			return;
		}
		c->state = INGEST_HELLO;
		bufferevent_set_timeouts(bev, &idle, NULL);
		/*
		 * The peer's HELLO may have come with the end of the handshake
		 * and been read before this event: no read event will follow
		 * for it, so look at what is already buffered.
		 */
		ingest_on_read(bev, c);
		return;
	}
	if (c->state == INGEST_HANDSHAKE)
		c->relay->stats.handshakes_failed++;
	if (events & BEV_EVENT_TIMEOUT)
		snprintf(err, sizeof(err), "%s", c->state == INGEST_HANDSHAKE ?
		    "TLS handshake timed out" : "idle timeout");
	else if ((events & BEV_EVENT_ERROR) &&
	    (tls_err = bufferevent_get_openssl_error(bev)) != 0)
		tls_handshake_error(bufferevent_openssl_get_ssl(bev), tls_err,
		    err, sizeof(err));
	else if (events & BEV_EVENT_ERROR)
		snprintf(err, sizeof(err), "%s", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
	else
		snprintf(err, sizeof(err), "connection closed");
	/* Bytes of an unfinished frame left behind: say so, it is the cause. */
	if (c->state != INGEST_HANDSHAKE &&
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		snprintf(why, sizeof(why), "connection closed in the middle of "
		    "a frame (%s)", err);
	else
		snprintf(why, sizeof(why), "%s", err);
	ingest_drop(c, why);
}

static void
ingest_on_accept(struct evconnlistener *listener, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct relay		*relay = arg;
	struct ingest_conn	*c;
	struct timeval		 handshake = { INGEST_HANDSHAKE_SECONDS, 0 };
	SSL			*ssl;
	char			 host[INET6_ADDRSTRLEN] = "?";

	(void)listener;
	(void)salen;
	relay->stats.connections++;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, host,
		    sizeof(host));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    host, sizeof(host));
	if ((ssl = SSL_new(relay->ssl)) == NULL) {
		log_warnx("SSL_new: %s", tls_error());
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->relay = relay;
	c->state = INGEST_HANDSHAKE;
	snprintf(c->address, sizeof(c->address), "%s:%u", host,
	    sa->sa_family == AF_INET ?
	    ntohs(((struct sockaddr_in *)sa)->sin_port) :
	    ntohs(((struct sockaddr_in6 *)sa)->sin6_port));
	c->bev = bufferevent_openssl_socket_new(relay->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("bufferevent_openssl_socket_new failed");
		SSL_free(ssl);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&relay->conns, c, entry);
	relay->nconns++;
	bufferevent_setcb(c->bev, ingest_on_read, ingest_on_write,
	    ingest_on_event, c);
	bufferevent_set_timeouts(c->bev, &handshake, &handshake);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
ingest_on_listen_error(struct evconnlistener *listener, void *arg)
{
	(void)listener;
	(void)arg;
	/* EMFILE and friends: log and keep listening. */
	log_warn("accept");
}

int
ingest_listen(struct relay *relay, char *err, size_t errlen)
{
	struct evutil_addrinfo	 hints, *ai = NULL;
	char			 host[256], *port;
	int			 error;

	snprintf(host, sizeof(host), "%s", relay->conf.listen_address);
	if ((port = strrchr(host, ':')) == NULL) {
		snprintf(err, errlen, "[listen] address needs host:port");
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICHOST;
	if ((error = evutil_getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "[listen] address %s: %s",
		    relay->conf.listen_address, evutil_gai_strerror(error));
		return -1;
	}
	relay->listener = evconnlistener_new_bind(relay->base, ingest_on_accept,
	    relay, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	    LEV_OPT_CLOSE_ON_EXEC, 128, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (relay->listener == NULL) {
		snprintf(err, errlen, "listen on %s: %s",
		    relay->conf.listen_address, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(relay->listener, ingest_on_listen_error);
	return 0;
}

unsigned
ingest_broadcast(struct relay *relay, int type, json_t *payload,
    int (*include)(struct relay *, const char *))
{
	struct ingest_conn	*c;
	unsigned		 n = 0;

	TAILQ_FOREACH(c, &relay->conns, entry) {
		if (c->state != INGEST_READY || !include(relay, c->node))
			continue;
		ingest_send(c, type, json_incref(payload));
		n++;
	}
	return n;
}

void
ingest_close_all(struct relay *relay)
{
	struct ingest_conn *c;

	if (relay->listener != NULL)
		evconnlistener_free(relay->listener);
	relay->listener = NULL;
	while ((c = TAILQ_FIRST(&relay->conns)) != NULL)
		ingest_drop(c, "relay shutting down");
}
