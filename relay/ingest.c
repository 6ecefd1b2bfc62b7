/*
 * Recorder connections (ingest.h): TLS 1.3 with client certificates,
 * then frames (protocol.h). The node name comes from the certificate,
 * fixed at the handshake; nothing a peer sends can change it. Here is a
 * connection's life (open, HELLO, budget, send, drop); ingest_listen.c
 * accepts, ingest_read.c reads frames, ingest_upload.c handles them.
 *
 * Nothing a peer does holds the relay's memory or a descriptor for
 * long:
 *   - every connection has until [listen] handshake_timeout after its
 *     accept to finish TLS and say HELLO, and one node keeps one
 *     connection (a new one replaces the old);
 *   - a frame is read only once the memory budget ([listen] max_memory)
 *     has room for all of it and its job: the frame's header says how
 *     big it is, and a connection waits, unread, until the budget has
 *     that room, first come, first served. Frames in progress and jobs
 *     waiting for the disk are what the budget counts, and both come
 *     back: a frame must be whole within INGEST_FRAME_SECONDS, and jobs
 *     run. So the relay holds at most max_memory of peers' data, and no
 *     set of peers can hold it forever;
 *   - a connection whose jobs wait for the disk past INGEST_QUEUED_HIGH
 *     is not read until they drain (ingest_upload.c);
 *   - a peer that does not read what it is sent stops being read past
 *     INGEST_OUTPUT_HIGH, and is dropped when nothing of its output goes
 *     out for INGEST_WRITE_SECONDS: PINGs cannot pile up PONGs. The
 *     kernel's send buffer is bounded too (INGEST_SNDBUF);
 *   - after a protocol error the peer gets an ERROR frame and
 *     INGEST_CLOSING_SECONDS to read it.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "bufpool.h"
#include "clock.h"
#include "ingest.h"
#include "log.h"
#include "text.h"
#include "tls.h"
#include "worker.h"
#include "xmalloc.h"

#define INGEST_WRITE_SECONDS	30	/* output that does not move */
#define INGEST_CLOSING_SECONDS	10	/* for the peer to read an ERROR */
#define INGEST_STRINGIFY(x)	INGEST_STRINGIFY_VALUE(x)
#define INGEST_STRINGIFY_VALUE(x) #x


const char *
ingest_printable(const char *s, size_t slen, char *buf, size_t len)
{
	if (s == NULL)
		s = "(none)";
	text_utf8_copy(buf, len, s, slen);
	return text_terminal_safe(buf);
}

const char *
ingest_who(const struct ingest_conn *c)
{
	static char	 who[sizeof(c->node) + sizeof(c->address) + 16];

	/* Before the handshake names it, the peer is only an address. */
	snprintf(who, sizeof(who), "%s (%s)", c->node[0] != '\0' ? c->node :
	    "unknown peer", c->address);
	return who;
}

struct ingest *
ingest_new(struct relay *relay)
{
	struct ingest *in;

	in = xcalloc(1, sizeof(*in));
	in->memory_max = relay->conf.listen_max_memory;
	in->max_connections = relay->conf.listen_max_connections;
	TAILQ_INIT(&in->waiters);
	/*
	 * Idle buffers kept: one connection's worth of queued jobs, within
	 * the budget. More in use come and go with the budget's room.
	 */
	in->chunks = bufpool_new(FRAME_CHUNK_DATA_MAX, (in->memory_max <
	    INGEST_QUEUED_HIGH ? in->memory_max : INGEST_QUEUED_HIGH) /
	    FRAME_CHUNK_DATA_MAX);
	return in;
}

void
ingest_free(struct relay *relay)
{
	if (relay->ingest != NULL)
		bufpool_free(relay->ingest->chunks);
	free(relay->ingest);
	relay->ingest = NULL;
}

/* Memory from the budget for c's frame: 0, or -1 and c waits its turn. */
int
ingest_budget_take(struct ingest_conn *c, size_t n)
{
	struct ingest	*in = c->relay->ingest;

	/* Waiters first: a stream of small frames must not starve a big one. */
	if ((!TAILQ_EMPTY(&in->waiters) && !c->is_waiting) ||
	    in->memory_used + n > in->memory_max) {
		if (!c->is_waiting) {
			TAILQ_INSERT_TAIL(&in->waiters, c, wait_entry);
			c->is_waiting = 1;
			in->memory_waits++;
		}
		c->wanted = n;
		c->paused |= INGEST_PAUSE_MEMORY;
		ingest_read_update(c);
		return -1;
	}
	in->memory_used += n;
	if (in->memory_used > in->memory_peak)
		in->memory_peak = in->memory_used;
	c->reserved += n;
	return 0;
}

static void
ingest_budget_leave(struct ingest_conn *c)
{
	if (c->is_waiting) {
		TAILQ_REMOVE(&c->relay->ingest->waiters, c, wait_entry);
		c->is_waiting = 0;
	}
}

/* Budget came back: the first waiters whose frame now fits read again. */
static void
ingest_budget_wake(struct relay *relay)
{
	struct ingest		*in = relay->ingest;
	struct ingest_conn	*c;

	struct timeval		 frame = { INGEST_FRAME_SECONDS, 0 };

	while ((c = TAILQ_FIRST(&in->waiters)) != NULL &&
	    in->memory_used + c->wanted <= in->memory_max) {
		ingest_budget_leave(c);
		/* Its turn: the room is its own before it reads. */
		in->memory_used += c->wanted;
		if (in->memory_used > in->memory_peak)
			in->memory_peak = in->memory_used;
		c->reserved += c->wanted;
		c->wanted = 0;
		if (c->deadline != NULL && c->state == INGEST_READY)
			evtimer_add(c->deadline, &frame);
		c->paused &= ~INGEST_PAUSE_MEMORY;
		ingest_read_update(c);
	}
}

void
ingest_charge(struct ingest_conn *c, size_t cost)
{
	struct ingest	*in = c->relay->ingest;

	if (in == NULL)
		return;
	if (c->reserved >= cost) {
		c->reserved -= cost;
		return;
	}
	in->memory_used += cost - c->reserved;
	c->reserved = 0;
	if (in->memory_used > in->memory_peak)
		in->memory_peak = in->memory_used;
}

void
ingest_uncharge(struct relay *relay, size_t cost)
{
	struct ingest	*in = relay->ingest;

	if (in == NULL)
		return;
	in->memory_used -= cost;
	ingest_budget_wake(relay);
}

char *
ingest_chunk_buffer(struct relay *relay)
{
	if (relay->ingest == NULL)
		return xmalloc(FRAME_CHUNK_DATA_MAX);
	return bufpool_get(relay->ingest->chunks);
}

void
ingest_chunk_buffer_free(struct relay *relay, char *data)
{
	if (relay->ingest == NULL)
		free(data);
	else
		bufpool_put(relay->ingest->chunks, data);
}

/* What c reserved for a frame and did not hand to a job goes back. */
void
ingest_release_reserved(struct ingest_conn *c)
{
	size_t	 n = c->reserved;

	c->reserved = 0;
	if (n > 0)
		ingest_uncharge(c->relay, n);
	if (c->deadline != NULL && c->state == INGEST_READY)
		evtimer_del(c->deadline);
}

/*
 * Nothing goes out after an ERROR: it is the peer's last frame, and the
 * ACKs of jobs still on the disk stay unsaid (the recorder sends those
 * snapshots again; a stored one is then a duplicate).
 */
void
ingest_send(struct ingest_conn *c, enum frame_type type, json_t *payload)
{
	int	 is_open = c->state != INGEST_CLOSED &&
		    c->state != INGEST_CLOSING;

	if (is_open && frame_push_json(c->out, type, payload) == -1)
		log_warnx("%s: cannot queue a %s frame", ingest_who(c),
		    frame_type_name(type));
	json_decref(payload);
	if (is_open &&
	    evbuffer_get_length(c->out) > INGEST_OUTPUT_HIGH &&
	    !(c->paused & INGEST_PAUSE_OUTPUT)) {
		c->paused |= INGEST_PAUSE_OUTPUT;
		ingest_read_update(c);
	}
}

void
ingest_conn_release(struct ingest_conn *c)
{
	if (c->state != INGEST_CLOSED || c->jobs > 0 || c->is_free_pending)
		return;
	if (c->flow != NULL)
		worker_flow_free(c->flow);
	free(c);
}

/*
 * After a drop, on the next turn of the loop: whoever dropped c may
 * still look at it (c->state) on the way out.
 */
static void
ingest_on_closed(evutil_socket_t fd, short events, void *arg)
{
	struct ingest_conn *c = arg;

	(void)fd;
	(void)events;
	c->is_free_pending = 0;
	ingest_conn_release(c);
}

void
ingest_drop(struct ingest_conn *c, const char *why)
{
	struct relay	*relay = c->relay;
	int		 was_ready = c->state == INGEST_READY;

	if (c->state == INGEST_CLOSED)
		return;
	if (c->state == INGEST_HANDSHAKE)
		log_debug("%s: disconnected: %s", ingest_who(c), why);
	else
		log_info("%s: disconnected: %s", ingest_who(c), why);
	if (c->reader != NULL)
		event_free(c->reader);
	c->reader = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->deadline != NULL)
		event_free(c->deadline);
	c->deadline = NULL;
	c->state = INGEST_CLOSED;
	TAILQ_REMOVE(&relay->conns, c, entry);
	relay->nconns--;
	if (was_ready)
		cluster_node_down(relay, c->node);
	ingest_budget_leave(c);
	ingest_release_reserved(c);
	if (c->chunk_data != NULL)
		ingest_chunk_buffer_free(relay, c->chunk_data);
	c->chunk_data = NULL;
	ingest_upload_close(c);
	c->is_free_pending = 1;
	if (event_base_once(relay->base, -1, EV_TIMEOUT, ingest_on_closed, c,
	    NULL) == -1)
		fatalx("event_base_once");
}

void
ingest_protocol_error(struct ingest_conn *c, const char *message)
{
	struct timeval	 closing = { INGEST_CLOSING_SECONDS, 0 };
	char		 printable[512];

	c->relay->stats.protocol_errors++;
	log_warnx("%s: protocol error: %s", ingest_who(c), ingest_printable(
	    message, strlen(message), printable, sizeof(printable)));
	ingest_send(c, FRAME_ERROR, json_pack("{s:s, s:s}", "error",
	    "protocol", "message", message));
	c->state = INGEST_CLOSING;
	if (c->bev == NULL)
		return;
	/* Let the ERROR frame out, then close: see ingest_on_write. */
	if (c->reader != NULL)
		event_del(c->reader);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(c->bev, NULL, &closing);
	if (evbuffer_get_length(c->out) == 0)
		ingest_drop(c, "protocol error");
}

/* A node says HELLO: its older connection, if any, is a dead one. */
void
ingest_on_hello(struct ingest_conn *c, const struct frame *f)
{
	struct ingest_conn	*other, *next;
	char			 err[256];
	json_t			*o;

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
	for (other = TAILQ_FIRST(&c->relay->conns); other != NULL;
	    other = next) {
		next = TAILQ_NEXT(other, entry);
		if (other == c || other->state != INGEST_READY ||
		    strcmp(other->node, c->node) != 0)
			continue;
		c->relay->ingest->replaced++;
		ingest_drop(other, "replaced by a new connection of the same "
		    "node");
	}
	c->state = INGEST_READY;
	if (c->deadline != NULL)
		evtimer_del(c->deadline);
	ingest_send(c, FRAME_HELLO, json_pack("{s:i, s:s, s:s}", "version",
	    PROTOCOL_VERSION, "node", c->node, "software",
	    "tracetrap-relay " TRACETRAP_VERSION));
	log_info("%s: connected", ingest_who(c));
	cluster_node_up(c->relay, c->node);
}

/* Output drained: below the low mark, or all out after a protocol error. */
static void
ingest_on_write(struct bufferevent *bev, void *arg)
{
	struct ingest_conn *c = arg;

	(void)bev;
	/*
	 * libevent defers this callback and checks the low mark when it
	 * schedules it: one scheduled before the ERROR was queued, under
	 * INGEST_OUTPUT_LOW, runs with the ERROR still to go. Only an empty
	 * buffer means the peer has it; otherwise the next drain, or the
	 * closing timeout, ends the connection.
	 */
	if (c->state == INGEST_CLOSING) {
		if (evbuffer_get_length(c->out) == 0)
			ingest_drop(c, "protocol error");
		return;
	}
	if ((c->paused & INGEST_PAUSE_OUTPUT) &&
	    evbuffer_get_length(c->out) <= INGEST_OUTPUT_LOW) {
		c->paused &= ~INGEST_PAUSE_OUTPUT;
		ingest_read_update(c);
	}
}

/*
 * The handshake is over: the name is ours to check, HELLO is next. From
 * here on the relay reads TLS itself (ingest_on_read), on an event of its
 * own: libevent's reads stop at each TLS record and would race ours for
 * the bytes read ahead.
 */
static void
ingest_on_connected(struct ingest_conn *c)
{
	struct timeval	 write = { INGEST_WRITE_SECONDS, 0 };
	char		 err[256];

	if (tls_peer_name(bufferevent_openssl_get_ssl(c->bev), c->node,
	    sizeof(c->node), err, sizeof(err)) == -1) {
		c->relay->stats.handshakes_failed++;
		c->node[0] = '\0';
		ingest_drop(c, err);
		return;
	}
	c->state = INGEST_HELLO;
	c->flow = worker_flow_new(c->relay->disk);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_set_timeouts(c->bev, NULL, &write);
	bufferevent_setwatermark(c->bev, EV_WRITE, INGEST_OUTPUT_LOW, 0);
	c->reader = event_new(c->relay->base, bufferevent_getfd(c->bev),
	    EV_READ | EV_PERSIST, ingest_on_readable, c);
	if (c->reader == NULL)
		fatalx("event_new");
	ingest_read_update(c);
	/*
	 * The peer's HELLO may have come with the end of the handshake and
	 * been read before this event: no read event will follow for it,
	 * so look at what is already buffered.
	 */
	ingest_on_read(c->bev, c);
}

static void
ingest_on_event(struct bufferevent *bev, short events, void *arg)
{
	struct ingest_conn	*c = arg;
	char			 err[256], why[320];
	unsigned long		 tls_err;

	if (events & BEV_EVENT_CONNECTED) {
		ingest_on_connected(c);
		return;
	}
	if (c->state == INGEST_HANDSHAKE)
		c->relay->stats.handshakes_failed++;
	if (events & BEV_EVENT_TIMEOUT) {
		c->relay->ingest->timeouts++;
		if (events & BEV_EVENT_WRITING)
			snprintf(err, sizeof(err), "it read nothing it was "
			    "sent for %d s", c->state == INGEST_CLOSING ?
			    INGEST_CLOSING_SECONDS : INGEST_WRITE_SECONDS);
		else
			snprintf(err, sizeof(err), "%s", c->state ==
			    INGEST_HANDSHAKE ? "TLS handshake timed out" :
			    "idle timeout");
	} else if ((events & BEV_EVENT_ERROR) &&
	    (tls_err = bufferevent_get_openssl_error(bev)) != 0)
		tls_handshake_error(bufferevent_openssl_get_ssl(bev), tls_err,
		    err, sizeof(err));
	else if (events & BEV_EVENT_ERROR)
		snprintf(err, sizeof(err), "%s", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
	else
		snprintf(err, sizeof(err), "connection closed");
	/*
	 * Bytes of an unfinished frame left behind: say so, it is the cause
	 * (not once closing: what is left then is the frame in error).
	 */
	if ((c->state == INGEST_HELLO || c->state == INGEST_READY) &&
	    (c->chunk_data != NULL ||
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0))
		snprintf(why, sizeof(why), "connection closed in the middle of "
		    "a frame (%s)", err);
	else
		snprintf(why, sizeof(why), "%s", err);
	ingest_drop(c, why);
}

/* HELLO, or the end of a frame, did not come in time. */
static void
ingest_on_deadline(evutil_socket_t fd, short events, void *arg)
{
	struct ingest_conn *c = arg;

	(void)fd;
	(void)events;
	c->relay->ingest->timeouts++;
	if (c->state == INGEST_HANDSHAKE)
		c->relay->stats.handshakes_failed++;
	ingest_drop(c, c->state == INGEST_HANDSHAKE ? "no TLS handshake in "
	    "time ([listen] handshake_timeout)" : c->state == INGEST_HELLO ?
	    "no HELLO in time ([listen] handshake_timeout)" : "a frame not "
	    "sent whole within " INGEST_STRINGIFY(INGEST_FRAME_SECONDS) " s");
}

void
ingest_conn_open(struct relay *relay, evutil_socket_t fd,
    const struct sockaddr *sa, const struct ingest_addr *addr)
{
	struct ingest_conn	*c;
	struct timeval		 deadline;
	SSL			*ssl;
	char			 host[INET6_ADDRSTRLEN] = "?";
	unsigned		 port = 0;
	int			 sndbuf = INGEST_SNDBUF, one = 1;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    host, sizeof(host));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
		    sizeof(host));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	/* Harmless if refused: the output high mark still bounds it. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		log_debug("%s:%u: SO_SNDBUF: %s", host, port, strerror(errno));
	/* SNAPSHOT_REQUESTs and ACKs out at once, not behind a delayed ACK. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_debug("%s:%u: TCP_NODELAY: %s", host, port,
		    strerror(errno));
	if ((ssl = SSL_new(relay->ssl)) == NULL) {
		log_warnx("SSL_new: %s", tls_error());
		evutil_closesocket(fd);
		return;
	}
	/* TLS read-ahead: not a read(2) per record header and per body. */
	SSL_set_read_ahead(ssl, 1);
	SSL_set_default_read_buffer_len(ssl, INGEST_READ_NARROW);
	c = xcalloc(1, sizeof(*c));
	c->relay = relay;
	c->state = INGEST_HANDSHAKE;
	c->addr = *addr;
	c->accepted_us = (int64_t)clock_monotonic_us();
	snprintf(c->address, sizeof(c->address), "%s:%u", host, port);
	c->bev = bufferevent_openssl_socket_new(relay->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("bufferevent_openssl_socket_new failed");
		SSL_free(ssl);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->out = bufferevent_get_output(c->bev);
	c->deadline = evtimer_new(relay->base, ingest_on_deadline, c);
	TAILQ_INSERT_TAIL(&relay->conns, c, entry);
	relay->nconns++;
	bufferevent_setcb(c->bev, ingest_on_read, ingest_on_write,
	    ingest_on_event, c);
	/* Handshake and HELLO, from the accept on: however slowly it trickles. */
	deadline.tv_sec = (time_t)(relay->conf.listen_handshake_timeout_ms /
	    1000);
	deadline.tv_usec = (suseconds_t)(relay->conf.listen_handshake_timeout_ms
	    % 1000) * 1000;
	evtimer_add(c->deadline, &deadline);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int
ingest_listen(struct relay *relay, char *err, size_t errlen)
{
	relay->ingest = ingest_new(relay);
	return ingest_listen_start(relay, err, errlen);
}

unsigned
ingest_broadcast(struct relay *relay, int type, json_t *payload,
    int (*include)(struct relay *, const char *))
{
	struct ingest_conn	*c;
	const char		*incident;
	unsigned		 n = 0;

	incident = json_string_value(json_object_get(payload, "incident"));
	TAILQ_FOREACH(c, &relay->conns, entry) {
		if (c->state != INGEST_READY || !include(relay, c->node))
			continue;
		/* A peer that reads nothing gets nothing more. */
		if (c->paused & INGEST_PAUSE_OUTPUT) {
			relay->ingest->requests_skipped++;
			log_warnx("%s: not asked for %s: it reads nothing it is "
			    "sent", ingest_who(c), frame_type_name(type));
			continue;
		}
		/* Recorded before the node can answer: in its own flow. */
		if (type == FRAME_SNAPSHOT_REQUEST && incident != NULL)
			ingest_upload_request(c, incident);
		ingest_send(c, type, json_incref(payload));
		n++;
	}
	return n;
}

int
ingest_is_connected(struct relay *relay, const char *node)
{
	struct ingest_conn *c;

	TAILQ_FOREACH(c, &relay->conns, entry)
		if (c->state == INGEST_READY && strcmp(c->node, node) == 0)
			return 1;
	return 0;
}

json_t *
ingest_nodes(struct relay *relay)
{
	struct ingest_conn	*c;
	json_t			*nodes = json_array();

	TAILQ_FOREACH(c, &relay->conns, entry)
		if (c->state == INGEST_READY)
			json_array_append_new(nodes, json_string(c->node));
	return nodes;
}

void
ingest_close_all(struct relay *relay)
{
	struct ingest_conn *c;

	ingest_listen_stop(relay);
	while ((c = TAILQ_FIRST(&relay->conns)) != NULL)
		ingest_drop(c, "relay shutting down");
}

json_t *
ingest_status(struct relay *relay)
{
	struct ingest	*in = relay->ingest;

	return json_pack("{s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:b}",
	    "connections", (int)relay->nconns,
	    "uploads", (int)in->uploads,
	    "max_connections", (int)in->max_connections,
	    "max_per_address", (int)relay->conf.listen_max_per_address,
	    "memory_used", (json_int_t)in->memory_used,
	    "memory_peak", (json_int_t)in->memory_peak,
	    "memory_max", (json_int_t)in->memory_max,
	    "memory_waits", (json_int_t)in->memory_waits,
	    "refused", (json_int_t)in->refused,
	    "evicted", (json_int_t)in->evicted,
	    "replaced", (json_int_t)in->replaced,
	    "timeouts", (json_int_t)in->timeouts,
	    "accept_pauses", (json_int_t)in->accept_pauses,
	    "requests_skipped", (json_int_t)in->requests_skipped,
	    "accept_paused", in->is_accept_paused);
}

void
ingest_metrics(struct relay *relay, struct evbuffer *b)
{
	struct ingest	*in = relay->ingest;

	evbuffer_add_printf(b,
	    "# HELP tracetrap_relay_ingest_memory_bytes Peers' data the relay "
	    "holds: frames being read and jobs waiting for the disk.\n"
	    "# TYPE tracetrap_relay_ingest_memory_bytes gauge\n"
	    "tracetrap_relay_ingest_memory_bytes %" PRIu64 "\n"
	    "# HELP tracetrap_relay_ingest_memory_max_bytes [listen] "
	    "max_memory.\n"
	    "# TYPE tracetrap_relay_ingest_memory_max_bytes gauge\n"
	    "tracetrap_relay_ingest_memory_max_bytes %" PRIu64 "\n"
	    "# HELP tracetrap_relay_ingest_memory_waits_total Reads paused "
	    "until the memory budget had room.\n"
	    "# TYPE tracetrap_relay_ingest_memory_waits_total counter\n"
	    "tracetrap_relay_ingest_memory_waits_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_connections_dropped_total Connections "
	    "refused or closed by the relay's limits, by reason.\n"
	    "# TYPE tracetrap_relay_connections_dropped_total counter\n"
	    "tracetrap_relay_connections_dropped_total{reason=\"cap\"} %"
	    PRIu64 "\n"
	    "tracetrap_relay_connections_dropped_total{reason=\"evicted\"} %"
	    PRIu64 "\n"
	    "tracetrap_relay_connections_dropped_total{reason=\"replaced\"} %"
	    PRIu64 "\n"
	    "tracetrap_relay_connections_dropped_total{reason=\"timeout\"} %"
	    PRIu64 "\n"
	    "# HELP tracetrap_relay_accept_pauses_total Times accepting "
	    "stopped for lack of file descriptors.\n"
	    "# TYPE tracetrap_relay_accept_pauses_total counter\n"
	    "tracetrap_relay_accept_pauses_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_uploads_in_progress Uploads from their "
	    "BEGIN until stored or dropped.\n"
	    "# TYPE tracetrap_relay_uploads_in_progress gauge\n"
	    "tracetrap_relay_uploads_in_progress %u\n",
	    in->memory_used, in->memory_max, in->memory_waits, in->refused,
	    in->evicted, in->replaced, in->timeouts, in->accept_pauses,
	    in->uploads);
}
