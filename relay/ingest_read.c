/*
 * Reading a recorder's connection (ingest.c has its life): TLS decrypted
 * by hand, each frame admitted by the memory budget from its header
 * before its body is read, upload chunks decrypted straight into the
 * buffer the disk worker writes, and a turn of the loop shared fairly
 * between connections.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "ingest.h"
#include "log.h"
#include "tls.h"

#define INGEST_IDLE_SECONDS	120	/* peers ping every 15 s */
/*
 * The rest after the loop's next poll: a zero timeout on the read event.
 * Not event_active(), which would run it again before any poll or timer:
 * peers that always have bytes would keep the loop to themselves.
 */
static void
ingest_read_yield(struct ingest_conn *c)
{
	struct timeval	 now = { 0, 0 };

	c->is_yielding = 1;
	event_add(c->reader, &now);
}

void
ingest_read_update(struct ingest_conn *c)
{
	struct timeval	 idle = { INGEST_IDLE_SECONDS, 0 };

	if (c->bev == NULL || c->state == INGEST_CLOSED ||
	    c->state == INGEST_CLOSING)
		return;
	if (c->reader == NULL) {
		/* The handshake: libevent reads. */
		if (c->paused != 0)
			bufferevent_disable(c->bev, EV_READ);
		else
			bufferevent_enable(c->bev, EV_READ);
		return;
	}
	if (c->paused != 0) {
		event_del(c->reader);
		c->is_yielding = 0;
		return;
	}
	if (!c->is_yielding)
		event_add(c->reader, &idle);
	/*
	 * What was read before the pause is not announced again, be it in
	 * the input, in a chunk's buffer or in TLS's read-ahead: look.
	 */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ||
	    c->chunk_data != NULL ||
	    SSL_has_pending(bufferevent_openssl_get_ssl(c->bev)))
		ingest_read_yield(c);
}

/*
 * The next frame's room in the budget, from its header alone: 1 when the
 * budget holds it (*type and *length are the header's), 0 when it needs
 * more bytes or room (the read stops), -1 when its header is wrong (the
 * connection is closing).
 */
static int
ingest_frame_admit(struct ingest_conn *c, struct evbuffer *in,
    uint8_t *type, size_t *length)
{
	struct timeval	 frame = { INGEST_FRAME_SECONDS, 0 };
	struct frame	 f;
	uint8_t		 header[FRAME_HEADER_SIZE];
	char		 err[256];
	size_t		 need;

	if (evbuffer_get_length(in) < FRAME_HEADER_SIZE)
		return 0;
	evbuffer_copyout(in, header, sizeof(header));
	if (frame_parse(header, sizeof(header), &f, err, sizeof(err)) == -1) {
		ingest_protocol_error(c, err);
		return -1;
	}
	/* Before HELLO nothing else is read, not even the rest of it. */
	if (c->state == INGEST_HELLO && header[4] != FRAME_HELLO) {
		ingest_protocol_error(c, "the first frame must be hello");
		return -1;
	}
	*type = header[4];
	*length = (size_t)header[0] << 24 | (size_t)header[1] << 16 |
	    (size_t)header[2] << 8 | header[3];
	need = FRAME_HEADER_SIZE + *length + INGEST_JOB_COST;
	if (c->reserved < need) {
		if (ingest_budget_take(c, need - c->reserved) == -1)
			return 0;
		if (c->deadline != NULL && c->state == INGEST_READY)
			evtimer_add(c->deadline, &frame);
	}
	return 1;
}

/*
 * A read from TLS returned n: 0 when it only has to wait (for the
 * socket, which libevent watches), -1 when the connection is gone.
 */
static int
ingest_tls_failed(struct ingest_conn *c, SSL *ssl, int n)
{
	char	 err[256], why[320];
	int	 saved = errno;

	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(err, sizeof(err), "connection closed");
		break;
	case SSL_ERROR_SYSCALL:
		snprintf(err, sizeof(err), "%s", saved != 0 && n < 0 ?
		    strerror(saved) : "connection closed");
		break;
	default:
		snprintf(err, sizeof(err), "%s", tls_error());
		break;
	}
	ERR_clear_error();
	/* As ingest_on_event says it: the unfinished frame is the cause. */
	if (c->chunk_data != NULL ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		snprintf(why, sizeof(why), "connection closed in the middle "
		    "of a frame (%s)", err);
	else
		snprintf(why, sizeof(why), "%s", err);
	ingest_drop(c, why);
	return -1;
}

/*
 * SSL_read, but once per turn from the socket: when OpenSSL holds no byte
 * of its own, a second read would most often find the socket empty, a
 * system call for nothing; a socket with more stays readable, and the
 * loop comes back. Returns SSL_read's value, or 0 with *is_later set.
 */
static int
ingest_tls_read(struct ingest_conn *c, SSL *ssl, void *buf, size_t len,
    int *is_later)
{
	*is_later = 0;
	if (c->is_socket_read && !SSL_has_pending(ssl)) {
		*is_later = 1;
		return 0;
	}
	c->is_socket_read = 1;
	ERR_clear_error();
	errno = 0;
	return SSL_read(ssl, buf, (int)len);
}

/*
 * Decrypts into in until it holds want bytes: 1 once it does, 0 when
 * TLS has nothing more for now, -1 when the connection is gone.
 * libevent's own reads stop at the end of a TLS record, and with
 * read-ahead the next records may already sit in OpenSSL's buffer,
 * taken from the socket: no socket event would announce them.
 */
static int
ingest_tls_pull(struct ingest_conn *c, struct evbuffer *in, size_t want)
{
	SSL			*ssl = bufferevent_openssl_get_ssl(c->bev);
	struct evbuffer_iovec	 v;
	size_t			 len;
	int			 n, is_later;

	while ((len = evbuffer_get_length(in)) < want) {
		if (evbuffer_reserve_space(in, (ev_ssize_t)(want - len), &v,
		    1) != 1)
			fatalx("evbuffer_reserve_space");
		if (v.iov_len > want - len)
			v.iov_len = want - len;
		n = ingest_tls_read(c, ssl, v.iov_base, v.iov_len, &is_later);
		if (is_later)
			return 0;
		if (n <= 0)
			return ingest_tls_failed(c, ssl, n);
		v.iov_len = (size_t)n;
		evbuffer_commit_space(in, &v, 1);
	}
	return 1;
}

/*
 * The chunk's data: what is already in the input buffer, then the rest
 * decrypted by TLS straight into the chunk's buffer, with no copy
 * through an evbuffer, *turn bytes at most (less what it read). 1 once
 * it is all in, 0 to wait for the socket or for the next turn, -1 when
 * the connection is gone.
 */
static int
ingest_chunk_fill(struct ingest_conn *c, struct evbuffer *in, size_t *turn)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);
	size_t	 len = c->chunk.length, n;
	int	 ret, is_later;

	if ((n = evbuffer_get_length(in)) > len - c->chunk_have)
		n = len - c->chunk_have;
	if (n > 0 && evbuffer_remove(in, c->chunk_data + c->chunk_have, n) !=
	    (int)n)
		fatalx("evbuffer_remove");
	c->chunk_have += n;
	while (c->chunk_have < len) {
		if ((n = len - c->chunk_have) > *turn)
			n = *turn;
		if (n == 0)
			return 0;
		ret = ingest_tls_read(c, ssl, c->chunk_data + c->chunk_have, n,
		    &is_later);
		if (is_later)
			return 0;
		if (ret <= 0)
			return ingest_tls_failed(c, ssl, ret);
		c->chunk_have += (size_t)ret;
		*turn -= (size_t)ret;
	}
	return 1;
}

/* An admitted UPLOAD_CHUNK: its header off the input, its buffer taken. */
static int
ingest_chunk_start(struct ingest_conn *c, struct evbuffer *in,
    size_t length)
{
	uint8_t		 header[FRAME_HEADER_SIZE + FRAME_CHUNK_HEADER_SIZE];
	struct frame	 f;
	char		 err[256];
	int		 ret;

	if (length < FRAME_CHUNK_HEADER_SIZE) {
		snprintf(err, sizeof(err), "upload_chunk of %zu bytes is "
		    "shorter than its header", length);
		ingest_protocol_error(c, err);
		return -1;
	}
	if ((ret = ingest_tls_pull(c, in, sizeof(header))) != 1)
		return ret;
	evbuffer_remove(in, header, sizeof(header));
	f.type = FRAME_UPLOAD_CHUNK;
	f.length = (uint32_t)length;
	f.payload = header + FRAME_HEADER_SIZE;
	if (frame_chunk_decode(&f, &c->chunk, err, sizeof(err)) == -1) {
		ingest_protocol_error(c, err);
		return -1;
	}
	c->chunk_data = ingest_chunk_buffer(c->relay);
	c->chunk.data = (const uint8_t *)c->chunk_data;
	c->chunk_have = 0;
	return 1;
}

/* A whole chunk read: to the upload, which owns its buffer now. */
static void
ingest_chunk_end(struct ingest_conn *c)
{
	char	*data = c->chunk_data;

	c->chunk_data = NULL;
	ingest_upload_chunk(c, &c->chunk, data);
}

/*
 * This turn's bytes (ingest.h, INGEST_READ_WIDE), and the read-ahead
 * OpenSSL allocates the next time its buffer is empty (it frees it
 * then: SSL_MODE_RELEASE_BUFFERS).
 */
static size_t
ingest_read_width(struct ingest_conn *c)
{
	size_t	 width = c->relay->ingest->uploads <= INGEST_WIDE_UPLOADS ?
		    INGEST_READ_WIDE : INGEST_READ_NARROW;

	SSL_set_default_read_buffer_len(bufferevent_openssl_get_ssl(c->bev),
	    width);
	return width;
}

/*
 * Frames, as long as there are bytes and nothing pauses the connection;
 * past a turn's bytes the rest waits for the next turn of the loop, so
 * that one fast peer does not keep the others (and the API) waiting.
 */
void
ingest_on_read(struct bufferevent *bev, void *arg)
{
	struct ingest_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct frame		 f;
	char			 err[256];
	size_t			 length, turn = ingest_read_width(c);
	uint8_t			 type;
	int			 ret;

	c->is_socket_read = 0;
	while ((c->state == INGEST_HELLO || c->state == INGEST_READY) &&
	    c->paused == 0) {
		if (turn == 0) {
			ingest_read_yield(c);
			return;
		}
		if (c->chunk_data == NULL) {
			if (ingest_tls_pull(c, in, FRAME_HEADER_SIZE) != 1 ||
			    ingest_frame_admit(c, in, &type, &length) != 1)
				return;
			if (c->state == INGEST_READY &&
			    type == FRAME_UPLOAD_CHUNK) {
				if (ingest_chunk_start(c, in, length) != 1)
					return;
			} else {
				if (ingest_tls_pull(c, in, FRAME_HEADER_SIZE +
				    length) != 1)
					return;
				if (frame_pull(in, &f, err, sizeof(err)) != 1) {
					ingest_protocol_error(c, err);
					return;
				}
				if (c->state == INGEST_HELLO)
					ingest_on_hello(c, &f);
				else
					ingest_upload_frame(c, &f);
				if (c->state == INGEST_CLOSED)
					return;
				evbuffer_drain(in, FRAME_HEADER_SIZE +
				    f.length);
				ingest_release_reserved(c);
				turn = turn > length ? turn - length : 0;
				continue;
			}
		}
		if ((ret = ingest_chunk_fill(c, in, &turn)) != 1) {
			/* The turn is over with TLS bytes still to read. */
			if (ret == 0 && turn == 0)
				ingest_read_yield(c);
			return;
		}
		ingest_chunk_end(c);
		if (c->state != INGEST_READY)
			return;
		ingest_release_reserved(c);
	}
}

/*
 * The socket is readable (or the rest of a turn is due), or nothing came
 * for INGEST_IDLE_SECONDS (peers ping every 15 s).
 */
void
ingest_on_readable(evutil_socket_t fd, short events, void *arg)
{
	struct ingest_conn *c = arg;
	struct timeval	 idle = { INGEST_IDLE_SECONDS, 0 };

	(void)fd;
	if (c->is_yielding) {
		/* Its turn again; the idle timeout back in place. */
		c->is_yielding = 0;
		event_add(c->reader, &idle);
	} else if (events & EV_TIMEOUT) {
		c->relay->ingest->timeouts++;
		ingest_drop(c, "idle timeout");
		return;
	}
	ingest_on_read(c->bev, c);
}

