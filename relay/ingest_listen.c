/*
 * The recorders' listening socket (ingest.h): who gets in, and what
 * happens when descriptors run out.
 *
 *   - At most [listen] max_connections connections, and max_per_address
 *     from one source address. When a cap is reached, the oldest
 *     connection still before its HELLO (in the TLS handshake, or
 *     authenticated but silent) and older than a second makes room,
 *     since an idle flood holds only such connections and a recorder
 *     says HELLO within milliseconds; a connection that said HELLO is
 *     never evicted, and when there is none to evict the newcomer is
 *     closed at once.
 *   - max_connections is kept below the descriptor limit, which the relay
 *     raises up to its hard limit, by INGEST_FD_RESERVE descriptors: the
 *     API, the store, the catalog and the analysis never go without,
 *     however many recorders connect.
 *   - If accept() still fails for lack of descriptors (EMFILE, ENFILE:
 *     the API's own clients, another process), the listener is disabled
 *     and tried again after a backoff. libevent would otherwise report
 *     the same pending connection again at once, forever: a loop at
 *     100 % CPU that serves no one. The peers wait in the kernel's
 *     backlog meanwhile.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>

#include "clock.h"
#include "ingest.h"
#include "log.h"

#define INGEST_FD_RESERVE		128
#define INGEST_ACCEPT_BACKOFF_MIN_MS	10
#define INGEST_ACCEPT_BACKOFF_MAX_MS	1000
#define INGEST_REFUSED_LOG_US		1000000	/* a line a second at most */
#define INGEST_EVICT_GRACE_US		1000000

/* IPv4-mapped IPv6 addresses count as the IPv4 address they carry. */
static void
ingest_addr_of(const struct sockaddr *sa, struct ingest_addr *a)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	const uint8_t		*v6;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->bytes, &((const struct sockaddr_in *)sa)->sin_addr,
		    4);
	} else if (sa->sa_family == AF_INET6) {
		v6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(v6, mapped, sizeof(mapped)) == 0) {
			a->family = AF_INET;
			memcpy(a->bytes, v6 + 12, 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->bytes, v6, 16);
		}
	}
}

static int
ingest_addr_equal(const struct ingest_addr *a, const struct ingest_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes,
	    sizeof(a->bytes)) == 0;
}

/*
 * A connection that may make room: before its HELLO, and accepted at
 * least INGEST_EVICT_GRACE_US ago. The grace keeps a flood that
 * reconnects as fast as it is closed from evicting a recorder in the
 * middle of its handshake (which takes milliseconds): the newcomers of
 * such a flood are refused instead, and its older, silent connections
 * make room for the next ones.
 */
static int
ingest_is_evictable(const struct ingest_conn *c, uint64_t now_us)
{
	return (c->state == INGEST_HANDSHAKE || c->state == INGEST_HELLO) &&
	    now_us - (uint64_t)c->accepted_us >= INGEST_EVICT_GRACE_US;
}

int
ingest_listen_admit(struct relay *relay, const struct ingest_addr *addr)
{
	struct ingest		*in = relay->ingest;
	struct ingest_conn	*c, *oldest = NULL, *oldest_here = NULL;
	unsigned		 here = 0, max_here;
	uint64_t		 now_us = clock_monotonic_us();

	max_here = relay->conf.listen_max_per_address;
	/* In accept order: the first found is the oldest. */
	TAILQ_FOREACH(c, &relay->conns, entry) {
		if (!ingest_addr_equal(&c->addr, addr))
			continue;
		here++;
		if (oldest_here == NULL && ingest_is_evictable(c, now_us))
			oldest_here = c;
	}
	if (max_here > 0 && here >= max_here) {
		if (oldest_here == NULL)
			return -1;
		in->evicted++;
		ingest_drop(oldest_here, "evicted before its HELLO: "
		    "[listen] max_per_address reached");
	}
	if (relay->nconns < in->max_connections)
		return 0;
	TAILQ_FOREACH(c, &relay->conns, entry)
		if (ingest_is_evictable(c, now_us)) {
			oldest = c;
			break;
		}
	if (oldest == NULL)
		return -1;
	in->evicted++;
	ingest_drop(oldest, "evicted before its HELLO: [listen] "
	    "max_connections reached");
	return 0;
}

static void
ingest_on_accept(struct evconnlistener *listener, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static uint64_t		 logged_us, unlogged;
	struct relay		*relay = arg;
	struct ingest		*in = relay->ingest;
	struct ingest_addr	 addr;
	uint64_t		 now;

	(void)listener;
	(void)salen;
	in->accept_backoff_ms = INGEST_ACCEPT_BACKOFF_MIN_MS;
	relay->stats.connections++;
	ingest_addr_of(sa, &addr);
	if (ingest_listen_admit(relay, &addr) == 0) {
		ingest_conn_open(relay, fd, sa, &addr);
		return;
	}
	in->refused++;
	evutil_closesocket(fd);
	now = clock_monotonic_us();
	if (now - logged_us < INGEST_REFUSED_LOG_US) {
		unlogged++;
		return;
	}
	log_warnx("connection refused: %s (and %llu more since the last "
	    "such line)", relay->nconns >= in->max_connections ?
	    "[listen] max_connections reached, every connection past its "
	    "HELLO" : "[listen] max_per_address reached for its address",
	    (unsigned long long)unlogged);
	logged_us = now;
	unlogged = 0;
}

static void
ingest_on_accept_retry(evutil_socket_t fd, short events, void *arg)
{
	struct relay	*relay = arg;

	(void)fd;
	(void)events;
	relay->ingest->is_accept_paused = 0;
	if (relay->listener != NULL)
		evconnlistener_enable(relay->listener);
}

static void
ingest_on_listen_error(struct evconnlistener *listener, void *arg)
{
	struct relay	*relay = arg;
	struct ingest	*in = relay->ingest;
	struct timeval	 tv;
	int		 error = EVUTIL_SOCKET_ERROR();

	if (error != EMFILE && error != ENFILE && error != ENOBUFS &&
	    error != ENOMEM) {
		/* A peer gone before its accept: nothing to do. */
		log_debug("accept: %s", strerror(error));
		return;
	}
	in->accept_pauses++;
	if (in->accept_backoff_ms == INGEST_ACCEPT_BACKOFF_MIN_MS)
		log_warnx("accept: %s: not accepting recorders for a while "
		    "(open descriptors: see [listen] max_connections and the "
		    "API's clients)", strerror(error));
	evconnlistener_disable(listener);
	in->is_accept_paused = 1;
	tv.tv_sec = in->accept_backoff_ms / 1000;
	tv.tv_usec = (suseconds_t)(in->accept_backoff_ms % 1000) * 1000;
	evtimer_add(in->accept_retry, &tv);
	in->accept_backoff_ms *= 2;
	if (in->accept_backoff_ms > INGEST_ACCEPT_BACKOFF_MAX_MS)
		in->accept_backoff_ms = INGEST_ACCEPT_BACKOFF_MAX_MS;
}

/*
 * Raises the descriptor limit to what max_connections and the reserve
 * need (up to the hard limit), or lowers max_connections to what fits.
 */
static void
ingest_fd_limit(struct relay *relay)
{
	struct ingest	*in = relay->ingest;
	struct rlimit	 rl;
	rlim_t		 need = (rlim_t)in->max_connections + INGEST_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > need ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
		    getrlimit(RLIMIT_NOFILE, &rl) == -1)
			return;
	}
	if (rl.rlim_cur >= need)
		return;
	in->max_connections = rl.rlim_cur > 2 * INGEST_FD_RESERVE ?
	    (unsigned)(rl.rlim_cur - INGEST_FD_RESERVE) :
	    (unsigned)(rl.rlim_cur / 2);
	log_warnx("[listen] max_connections %u lowered to %u: the descriptor "
	    "limit is %llu (LimitNOFILE=, ulimit -n), and %d of them are "
	    "kept for the API, the store and the analysis",
	    relay->conf.listen_max_connections, in->max_connections,
	    (unsigned long long)rl.rlim_cur, rl.rlim_cur > 2 *
	    INGEST_FD_RESERVE ? INGEST_FD_RESERVE :
	    (int)(rl.rlim_cur - in->max_connections));
}

int
ingest_listen_start(struct relay *relay, char *err, size_t errlen)
{
	struct evutil_addrinfo	 hints, *ai = NULL;
	struct ingest		*in = relay->ingest;
	char			 port[8];
	int			 error;

	ingest_fd_limit(relay);
	in->accept_backoff_ms = INGEST_ACCEPT_BACKOFF_MIN_MS;
	in->accept_retry = evtimer_new(relay->base, ingest_on_accept_retry,
	    relay);
	snprintf(port, sizeof(port), "%u", relay->conf.listen_port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICHOST;
	if ((error = evutil_getaddrinfo(relay->conf.listen_host, port, &hints,
	    &ai)) != 0) {
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

void
ingest_listen_stop(struct relay *relay)
{
	struct ingest	*in = relay->ingest;

	if (relay->listener != NULL)
		evconnlistener_free(relay->listener);
	relay->listener = NULL;
	if (in != NULL && in->accept_retry != NULL) {
		event_free(in->accept_retry);
		in->accept_retry = NULL;
	}
}
