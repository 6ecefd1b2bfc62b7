/*
 * The recorder's link to tracetrap-relay (DESIGN.md "Relay link"): one
 * persistent TLS 1.3 connection, both sides authenticated against the
 * fleet CA; reconnects with jittered exponential backoff; PING keepalive.
 * [relay] address may name several relays: relay_peers.c resolves them
 * and picks one; on a failure the link moves straight to another, and
 * backs off only once all of them have failed.
 *
 * Store and forward: every snapshot in the spool is uploaded, oldest
 * first, one sent at a time (the next one starts while the last one sent
 * waits for its ACK). A snapshot is marked uploaded (an ".uploaded"
 * marker in its directory, so a restart remembers) only after the relay's
 * ACK "stored", which the relay sends once the snapshot is durable. A cut
 * connection restarts the upload from the beginning, on whichever relay
 * the link reaches next; the relay drops the partial copy. The uploader
 * is relay_upload.c; this file keeps the connection, its frames and its
 * figures.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>

#include "tracetrap.h"
#include "log.h"
#include "metrics.h"
#include "protocol.h"
#include "recorder.h"
#include "tls.h"
#include "worker.h"
#include "relay_link_int.h"
#include "xmalloc.h"

static void	relay_link_connect(struct relay_link *);

static const struct link_peer *
relay_link_peer(const struct relay_link *link)
{
	if (link->current < 0 || (size_t)link->current >= link->npeers)
		return NULL;
	return &link->peers[link->current];
}

/*
 * Which relay the messages are about: the entry of [relay] address,
 * with the address it resolved to when that says more.
 */
static void
relay_link_where(const struct relay_link *link, char *buf, size_t len)
{
	const struct link_peer	*p = relay_link_peer(link);
	const char		*entry;

	if (p == NULL) {
		snprintf(buf, len, "%s", link->rec->conf.relay_address);
		return;
	}
	entry = link->entries[p->entry].address;
	if (strcmp(entry, p->text) == 0)
		snprintf(buf, len, "%s", entry);
	else
		snprintf(buf, len, "%s (%s)", entry, p->text);
}

static void
relay_link_schedule(struct relay_link *link)
{
	struct timeval	 tv;
	uint64_t	 delay, max = link->rec->conf.relay_reconnect_max_ms;

	/* Full jitter: the fleet does not reconnect in one wave. */
	delay = link->backoff_ms / 2 + (uint64_t)random() %
	    (link->backoff_ms / 2 + 1);
	link->backoff_ms = link->backoff_ms * 2 > max ? max :
	    link->backoff_ms * 2;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(link->retry_ev, &tv);
}

/*
 * After a failure: straight on to another relay while one has not failed
 * lately (the spool waits meanwhile, nothing is lost), so losing one
 * relay costs a connect, not a backoff. Once every one has failed the
 * round is over: the link backs off, then gives them all another chance.
 * A name whose records change at every lookup could feed the link fresh
 * addresses forever; LINK_PEERS_MAX attempts end a round too.
 */
static void
relay_link_retry(struct relay_link *link)
{
	struct timeval	 now = { 0, 0 };

	if (relay_peers_has_eligible(link) &&
	    ++link->round_attempts < LINK_PEERS_MAX) {
		evtimer_add(link->retry_ev, &now);
		return;
	}
	link->is_new_round = 1;
	relay_link_schedule(link);
}

/*
 * Frees the link's TLS and its socket. What TLS wrote last (the alert
 * saying why this end refused the relay's certificate, a close_notify)
 * may still sit in the socket bufferevent's output under the filter: one
 * non-blocking write hands it to the kernel, so that the relay's log can
 * say why. Best effort: a socket that takes nothing keeps it.
 */
static void
relay_link_free_bev(struct relay_link *link)
{
	struct bufferevent	*under;
	struct evbuffer		*out;
	evutil_socket_t		 fd;

	if (link->bev == NULL)
		return;
	/* Its output's start is frozen to all but itself: thawed, it goes. */
	if ((under = bufferevent_get_underlying(link->bev)) != NULL &&
	    (fd = bufferevent_getfd(under)) != -1 &&
	    evbuffer_get_length(out = bufferevent_get_output(under)) > 0) {
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, fd);
	}
	bufferevent_free(link->bev);
	link->bev = NULL;
}

static void
relay_link_lost(struct relay_link *link, const char *why)
{
	char	 where[CONFIG_ADDRESS_MAX + sizeof(link->peers[0].text) + 4];

	relay_link_where(link, where, sizeof(where));
	/* With several relays, each one that fails is worth a line. */
	if (link->state == LINK_READY || link->state == LINK_HELLO)
		log_warnx("relay %s: link lost: %s", where, why);
	else if (strcmp(link->last_error, why) != 0 || link->npeers > 1)
		log_warnx("relay %s: cannot connect: %s", where, why);
	snprintf(link->last_error, sizeof(link->last_error), "%s", why);
	relay_link_free_bev(link);
	relay_peers_fail(link, link->current);
	link->state = LINK_DISCONNECTED;
	evtimer_del(link->ping_ev);
	relay_link_cancel_upload(link);
	relay_link_retry(link);
}

void
relay_link_send(struct relay_link *link, enum frame_type type, json_t *o)
{
	if (link->bev != NULL &&
	    frame_push_json(bufferevent_get_output(link->bev), type, o) == -1)
		log_warnx("relay: cannot queue a %s frame",
		    frame_type_name(type));
	json_decref(o);
}

/*
 * HELLO answered. The link came up on another address than last time:
 * a failover, which the status and the metrics count.
 */
static void
relay_link_ready(struct relay_link *link)
{
	const struct link_peer	*p = relay_link_peer(link);
	char			 where[CONFIG_ADDRESS_MAX +
				    sizeof(link->peers[0].text) + 4];

	link->state = LINK_READY;
	link->backoff_ms = link->rec->conf.relay_reconnect_min_ms;
	link->round_attempts = 0;
	link->connected_at_us = clock_realtime_us();
	link->connects++;
	link->last_error[0] = '\0';
	relay_link_where(link, where, sizeof(where));
	if (p != NULL && link->last_peer[0] != '\0' &&
	    strcmp(link->last_peer, p->text) != 0) {
		link->failovers++;
		log_info("relay %s: connected as %s, failing over from %s",
		    where, link->name, link->last_peer);
	} else
		log_info("relay %s: connected as %s", where, link->name);
	if (p != NULL)
		snprintf(link->last_peer, sizeof(link->last_peer), "%s",
		    p->text);
}

/*
 * 1 when the relay already asked for this incident: relays that share
 * cluster triggers may ask twice (a catch-up after a reconnection, a
 * failover to another relay), and one incident wants one snapshot of a
 * node. The last RELAY_LINK_SEEN ids are remembered.
 */
#define RELAY_LINK_SEEN	32
static int
relay_link_seen(const char *incident)
{
	static char	 seen[RELAY_LINK_SEEN][SPOOL_ID_MAX];
	static unsigned	 next;
	unsigned	 i;

	for (i = 0; i < RELAY_LINK_SEEN; i++)
		if (strcmp(seen[i], incident) == 0)
			return 1;
	snprintf(seen[next++ % RELAY_LINK_SEEN], SPOOL_ID_MAX, "%s", incident);
	return 0;
}

/* The relay asks for a snapshot of a cluster incident. */
static void
relay_link_on_request(struct relay_link *link, json_t *o)
{
	struct tracetrap_label	 labels[5];
	struct trigger		*t;
	char			 when[32], origin[32], err[256];
	const char		*incident, *by, *source, *reason;

	incident = json_string_value(json_object_get(o, "incident"));
	by = json_string_value(json_object_get(o, "requested_by"));
	source = json_string_value(json_object_get(o, "source"));
	reason = json_string_value(json_object_get(o, "reason"));
	if (incident == NULL || !spool_is_valid_id(incident)) {
		log_warnx("relay: snapshot request without a valid incident "
		    "id ignored");
		return;
	}
	if (relay_link_seen(incident)) {
		log_info("relay: snapshot request for incident %s dropped: "
		    "already asked for it", incident);
		return;
	}
	snprintf(when, sizeof(when), "%lld", (long long)json_integer_value(
	    json_object_get(o, "requested_at_us")));
	labels[0].key = "incident";
	labels[0].value = incident;
	labels[1].key = "requested_by";
	labels[1].value = by != NULL ? by : "";
	labels[2].key = "origin_source";
	labels[2].value = source != NULL ? source : "";
	labels[3].key = "requested_at_us";
	labels[3].value = when;
	snprintf(origin, sizeof(origin), "%lld", (long long)json_integer_value(
	    json_object_get(o, "trigger_received_at_us")));
	labels[4].key = "trigger_received_at_us";
	labels[4].value = origin;
	if ((t = trigger_new("cluster", reason != NULL ? reason : "",
	    TRACETRAP_SCOPE_NODE, labels, 5, err, sizeof(err))) == NULL) {
		log_warnx("relay: bad snapshot request ignored: %s", err);
		return;
	}
	snapshot_request(link->rec, t, incident);
	free(t);
}

static void
relay_link_on_frame(struct relay_link *link, const struct frame *f)
{
	char	 err[256];
	json_t	*o;

	if ((o = frame_json(f, err, sizeof(err))) == NULL) {
		relay_link_lost(link, err);
		return;
	}
	if (link->state == LINK_HELLO) {
		if (f->type != FRAME_HELLO || json_integer_value(
		    json_object_get(o, "version")) != PROTOCOL_VERSION) {
			json_decref(o);
			relay_link_lost(link, "the relay did not answer hello "
			    "with protocol version 1");
			return;
		}
		snprintf(link->name, sizeof(link->name), "%s",
		    json_string_value(json_object_get(o, "node")) != NULL ?
		    json_string_value(json_object_get(o, "node")) : "?");
		relay_link_ready(link);
		/* The relay takes only ids that start with the cert's name. */
		if (strcmp(link->name, link->rec->conf.node_name) != 0)
			log_warnx("relay: this node's certificate names it %s "
			    "but [node] name is %s: the relay will refuse its "
			    "snapshots; set [node] name = %s", link->name,
			    link->rec->conf.node_name, link->name);
		json_decref(o);
		relay_link_next(link);
		return;
	}
	switch (f->type) {
	case FRAME_PING:
		relay_link_send(link, FRAME_PONG, json_object());
		break;
	case FRAME_PONG:
		break;
	case FRAME_ACK:
		relay_link_on_ack(link, o);
		break;
	case FRAME_SNAPSHOT_REQUEST:
		relay_link_on_request(link, o);
		break;
	case FRAME_ERROR:
		log_warnx("relay: error: %s",
		    json_string_value(json_object_get(o, "message")));
		break;
	default:
		log_warnx("relay: unexpected %s frame ignored",
		    frame_type_name(f->type));
		break;
	}
	json_decref(o);
}

static void
relay_link_on_input(struct bufferevent *bev, void *arg)
{
	struct relay_link	*link = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct frame		 f;
	char			 err[256];
	int			 ret;

	while (link->bev == bev) {
		if ((ret = frame_pull(in, &f, err, sizeof(err))) == 0)
			return;
		if (ret == -1) {
			relay_link_lost(link, err);
			return;
		}
		relay_link_on_frame(link, &f);
		if (link->bev != bev)
			return;
		evbuffer_drain(in, FRAME_HEADER_SIZE + f.length);
	}
}

static void
relay_link_on_output(struct bufferevent *bev, void *arg)
{
	(void)bev;
	relay_link_read_chunk(arg);
}

/*
 * Small frames (a cluster trigger, a PONG) go out at once: without
 * TCP_NODELAY one written while another is unacknowledged waits for the
 * relay's delayed ACK. Uploads write whole 512 KiB batches either way.
 */
static void
relay_link_nodelay(struct relay_link *link)
{
	struct bufferevent	*socket_bev = bufferevent_get_underlying(
				    link->bev);
	int			 one = 1;

	if (socket_bev != NULL && setsockopt(bufferevent_getfd(socket_bev),
	    IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_debug("relay: TCP_NODELAY: %s", strerror(errno));
}

static void
relay_link_on_event(struct bufferevent *bev, short events, void *arg)
{
	struct relay_link	*link = arg;
	struct timeval		 ping;
	char			 err[256];
	unsigned long		 code;

	if (events & BEV_EVENT_CONNECTED) {
		relay_link_nodelay(link);
		link->state = LINK_HELLO;
		relay_link_send(link, FRAME_HELLO, json_pack("{s:i, s:s}",
		    "version", PROTOCOL_VERSION, "software",
		    "tracetrap-recorder " TRACETRAP_VERSION));
		ping.tv_sec = (time_t)(link->rec->conf.relay_ping_interval_ms /
		    1000);
		ping.tv_usec = 0;
		evtimer_add(link->ping_ev, &ping);
		return;
	}
	if (events & BEV_EVENT_ERROR) {
		if ((code = bufferevent_get_openssl_error(bev)) != 0)
			tls_handshake_error(bufferevent_openssl_get_ssl(bev),
			    code, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "%s",
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		relay_link_lost(link, err);
		return;
	}
	if (events & BEV_EVENT_EOF)
		relay_link_lost(link, "closed by the relay");
	else if (events & BEV_EVENT_TIMEOUT)
		relay_link_lost(link, "timed out");
}

static void
relay_link_on_ping(evutil_socket_t fd, short events, void *arg)
{
	struct relay_link	*link = arg;
	struct timeval		 ping;

	(void)fd;
	(void)events;
	if (link->state != LINK_READY && link->state != LINK_HELLO)
		return;
	relay_link_send(link, FRAME_PING, json_object());
	ping.tv_sec = (time_t)(link->rec->conf.relay_ping_interval_ms / 1000);
	ping.tv_usec = 0;
	evtimer_add(link->ping_ev, &ping);
	/* Also a chance to retry snapshots the relay refused a while ago. */
	relay_link_next(link);
}

/*
 * Connects to the peer picked. The certificate must name the entry's
 * host, as the operator wrote it, not the address it resolved to.
 */
static void
relay_link_connect_peer(struct relay_link *link)
{
	const struct link_peer	*p = relay_link_peer(link);
	struct bufferevent	*socket_bev;
	struct timeval		 timeout;
	SSL			*ssl;

	if ((ssl = SSL_new(link->ssl)) == NULL ||
	    tls_client_expect(ssl, link->entries[p->entry].host) == -1) {
		SSL_free(ssl);
		relay_link_lost(link, tls_error());
		return;
	}
	/*
	 * TLS over a socket bufferevent, not on the socket itself: OpenSSL
	 * writes each 16 KiB record with a write(2) of its own, and at
	 * snapshot rates those calls cost more than the encryption. Here
	 * the records pile up in the socket bufferevent's output, which
	 * goes out LINK_SOCKET_WRITE at a time; its high mark bounds what
	 * TLS encrypts ahead, so the output buffer's marks still pace the
	 * reads from the spool.
	 */
	if ((socket_bev = bufferevent_socket_new(link->rec->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		SSL_free(ssl);
		relay_link_lost(link, "cannot create a bufferevent");
		return;
	}
	bufferevent_set_max_single_write(socket_bev, LINK_SOCKET_WRITE);
	bufferevent_setwatermark(socket_bev, EV_WRITE, 0, LINK_SOCKET_WRITE);
	link->bev = bufferevent_openssl_filter_new(link->rec->base, socket_bev,
	    ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (link->bev == NULL) {
		SSL_free(ssl);
		bufferevent_free(socket_bev);
		relay_link_lost(link, "cannot create a TLS bufferevent");
		return;
	}
	bufferevent_setcb(link->bev, relay_link_on_input, relay_link_on_output,
	    relay_link_on_event, link);
	bufferevent_setwatermark(link->bev, EV_WRITE, LINK_OUTPUT_LOW, 0);
	/* Silence beyond three pings means the relay is gone. */
	timeout.tv_sec = (time_t)(link->rec->conf.relay_ping_interval_ms *
	    3 / 1000);
	timeout.tv_usec = 0;
	bufferevent_set_timeouts(link->bev, &timeout, &timeout);
	bufferevent_enable(link->bev, EV_READ | EV_WRITE);
	link->state = LINK_CONNECTING;
	if (bufferevent_socket_connect(socket_bev,
	    (const struct sockaddr *)&p->addr, (int)p->addrlen) == -1)
		relay_link_lost(link, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/* relay_peers.c looked the entries up: on to one of the relays. */
void
relay_link_resolved(struct relay_link *link)
{
	if (link->is_new_round) {
		relay_peers_clear(link);
		link->is_new_round = 0;
		link->round_attempts = 0;
	}
	if ((link->current = relay_peers_pick(link)) == -1) {
		if (link->npeers > 0)
			relay_link_lost(link, "every relay address failed in "
			    "the last 30 s");
		else
			relay_link_lost(link, link->resolve_error[0] != '\0' ?
			    link->resolve_error : "no relay address");
		return;
	}
	relay_link_connect_peer(link);
}

/* Every attempt looks the entries up again: records change. */
static void
relay_link_connect(struct relay_link *link)
{
	link->state = LINK_RESOLVING;
	relay_peers_resolve(link);
}

static void
relay_link_on_retry(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	relay_link_connect(arg);
}

struct relay_link *
relay_link_open(struct recorder *rec, char *err, size_t errlen)
{
	struct relay_link	*link;
	const struct tls_conf	*tls;
	char			 why[256];

	if (rec->conf.nrelays == 0)
		return NULL;
	link = xcalloc(1, sizeof(*link));
	link->rec = rec;
	/* The config may be reloaded under the link: it keeps its own. */
	memcpy(link->entries, rec->conf.relays,
	    rec->conf.nrelays * sizeof(link->entries[0]));
	link->nentries = rec->conf.nrelays;
	link->current = -1;
	tls = &rec->conf.relay_tls;
	link->ssl = tls_client_context(tls->ca, tls->cert, tls->key, tls->crl,
	    err, errlen);
	if (link->ssl == NULL) {
		free(link);
		return NULL;
	}
	if (tls_set_ciphersuites(link->ssl, rec->conf.relay_tls.ciphersuites,
	    why, sizeof(why)) == -1) {
		snprintf(err, errlen, "[relay] ciphersuites: %s", why);
		SSL_CTX_free(link->ssl);
		free(link);
		return NULL;
	}
	if (tls_context_check(link->ssl, why, sizeof(why)) == -1)
		log_warnx("relay link: %s: %s", rec->conf.relay_tls.cert, why);
	link->dns = evdns_base_new(rec->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	link->reader = worker_start(rec->base, "tt-spool-read");
	link->retry_ev = evtimer_new(rec->base, relay_link_on_retry, link);
	link->ping_ev = evtimer_new(rec->base, relay_link_on_ping, link);
	link->backoff_ms = rec->conf.relay_reconnect_min_ms;
	srandom((unsigned)(getpid() ^ clock_realtime_us()));
	relay_link_connect(link);
	return link;
}

/* A new snapshot landed in the spool: upload it if the link is idle. */
void
relay_link_kick(struct relay_link *link)
{
	if (link != NULL)
		relay_link_next(link);
}

int
relay_link_is_ready(const struct relay_link *link)
{
	return link != NULL && link->state == LINK_READY;
}

int
relay_link_cluster_trigger(struct relay_link *link, json_t *trigger)
{
	/*
	 * A link that cannot keep up (its output past the mark uploads
	 * stop at) takes no more: the trigger stays on this node.
	 */
	if (!relay_link_is_ready(link) || evbuffer_get_length(
	    bufferevent_get_output(link->bev)) > LINK_OUTPUT_HIGH) {
		json_decref(trigger);
		return -1;
	}
	relay_link_send(link, FRAME_CLUSTER_TRIGGER, trigger);
	return 0;
}

json_t *
relay_link_status(const struct relay_link *link)
{
	static const char *names[] = { "disconnected", "resolving",
	    "connecting", "hello", "connected" };
	const struct link_peer	*p;
	char			 when[64] = "";

	if (link == NULL)
		return json_pack("{s:s, s:b}", "state", "not_configured",
		    "connected", 0);
	if (link->connected_at_us != 0)
		clock_format_utc(link->connected_at_us, when, sizeof(when));
	/* Which relay: only while the link is on one. */
	p = link->state >= LINK_CONNECTING ? relay_link_peer(link) : NULL;
	return json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, "
	    "s:s?, s:s?, s:s?, s:I, s:I}", "address",
	    link->rec->conf.relay_address, "state", names[link->state],
	    "connected", link->state == LINK_READY, "node_name", link->name,
	    "connected_since", when, "last_error", link->last_error,
	    "connects", (json_int_t)link->connects,
	    "uploads", (json_int_t)link->uploads,
	    "refused", (json_int_t)link->refused,
	    "bytes_sent", (json_int_t)link->bytes_sent,
	    "uploading", link->upload != NULL ? link->upload->id : NULL,
	    "entry", p != NULL ? link->entries[p->entry].address : NULL,
	    "peer", p != NULL ? p->text : NULL,
	    "addresses", (json_int_t)link->npeers,
	    "failovers", (json_int_t)link->failovers);
}

/* What /metrics shows of the link. */
struct relay_link_figures {
	uint64_t	 connected;
	uint64_t	 connects;
	uint64_t	 uploads;
	uint64_t	 refused;
	uint64_t	 bytes_sent;
	uint64_t	 pending;
	uint64_t	 addresses;
	uint64_t	 failovers;
};

static const struct metric relay_link_rows[] = {
	METRIC_GAUGE(struct relay_link_figures, connected,
	    "tracetrap_relay_connected", NULL,
	    "1 while the relay link is up."),
	METRIC_COUNTER(struct relay_link_figures, connects,
	    "tracetrap_relay_connects_total", NULL,
	    "Connections to the relay that completed HELLO."),
	METRIC_COUNTER(struct relay_link_figures, uploads,
	    "tracetrap_relay_uploads_total", "result=\"stored\"",
	    "Snapshots by the relay's answer."),
	METRIC_COUNTER(struct relay_link_figures, refused,
	    "tracetrap_relay_uploads_total", "result=\"refused\"",
	    "Snapshots by the relay's answer."),
	METRIC_COUNTER(struct relay_link_figures, bytes_sent,
	    "tracetrap_relay_sent_bytes_total", NULL,
	    "Snapshot bytes sent to the relay."),
	METRIC_GAUGE(struct relay_link_figures, pending,
	    "tracetrap_relay_pending_snapshots", NULL,
	    "Spooled snapshots not yet on the relay."),
	METRIC_GAUGE(struct relay_link_figures, addresses,
	    "tracetrap_relay_addresses", NULL,
	    "Relay addresses [relay] address resolved to at the last "
	    "connect."),
	METRIC_COUNTER(struct relay_link_figures, failovers,
	    "tracetrap_relay_failovers_total", NULL,
	    "Times the link came up on another relay address than the one "
	    "it was on before."),
};

void
relay_link_metrics(const struct relay_link *link, struct evbuffer *b)
{
	struct spool_entry		*e;
	struct relay_link_figures	 f;

	if (link == NULL)
		return;
	memset(&f, 0, sizeof(f));
	TAILQ_FOREACH(e, &link->rec->spool.entries, entry)
		if (!e->is_uploaded)
			f.pending++;
	f.connected = link->state == LINK_READY;
	f.connects = link->connects;
	f.uploads = link->uploads;
	f.refused = link->refused;
	f.bytes_sent = link->bytes_sent;
	f.addresses = link->npeers;
	f.failovers = link->failovers;
	metrics_text(b, METRICS(relay_link_rows), &f);
}

void
relay_link_close(struct relay_link *link)
{
	if (link == NULL)
		return;
	relay_link_free_bev(link);
	link->state = LINK_DISCONNECTED;
	relay_link_cancel_upload(link);
	worker_stop(link->reader);
	event_free(link->retry_ev);
	event_free(link->ping_ev);
	/*
	 * Lookups in flight are answered with an error as the base goes;
	 * forgotten, they free themselves without touching the link.
	 */
	relay_peers_forget(link);
	evdns_base_free(link->dns, 1);
	SSL_CTX_free(link->ssl);
	free(link);
}
