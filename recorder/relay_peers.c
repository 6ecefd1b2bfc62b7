/*
 * Which relay the link connects to (relay_link_int.h). [relay] address
 * lists one or more HOST:PORT; a DNS name may stand for several relays,
 * one A or AAAA record each. Before every connect the entries are
 * resolved anew, through evdns (never a blocking lookup on the loop), so
 * a record that changed is followed; every address they give is a peer.
 *
 * The link picks a peer at random, so that a fleet spreads over its
 * relays without any coordination. A peer that failed (refused the
 * connection or the handshake, lost the link, stopped answering pings)
 * is left alone for LINK_FAILED_HOLD_US while another remains: the link
 * moves on at once instead of backing off. When every peer has failed,
 * the round is over: the link backs off, and the next round gives every
 * peer another chance.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "clock.h"
#include "log.h"
#include "relay_link_int.h"
#include "xmalloc.h"

/* One entry's lookup; outlives a link closed before evdns answered. */
struct link_lookup {
	struct relay_link	*link;		/* NULL: the link is gone */
	size_t			 entry;
};

static void
relay_peers_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char		 ip[INET6_ADDRSTRLEN] = "?";
	uint16_t	 port = 0;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
		snprintf(buf, len, "[%s]:%u", ip, port);
		return;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		evutil_inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	}
	snprintf(buf, len, "%s:%u", ip, port);
}

/* Adds what one entry resolved to, once each address. */
static void
relay_peers_add(struct relay_link *link, size_t entry,
    const struct evutil_addrinfo *ai)
{
	struct link_peer	*p;
	size_t			 i;

	for (; ai != NULL; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(p->addr))
			continue;
		for (i = 0; i < link->nfound; i++) {
			p = &link->found[i];
			if (p->entry == entry && p->addrlen == ai->ai_addrlen &&
			    memcmp(&p->addr, ai->ai_addr, p->addrlen) == 0)
				break;
		}
		if (i < link->nfound)
			continue;
		if (link->nfound == LINK_PEERS_MAX) {
			log_warnx("relay: more than %d addresses; the rest are "
			    "not used", LINK_PEERS_MAX);
			return;
		}
		p = &link->found[link->nfound++];
		memset(p, 0, sizeof(*p));
		p->entry = entry;
		memcpy(&p->addr, ai->ai_addr, ai->ai_addrlen);
		p->addrlen = (socklen_t)ai->ai_addrlen;
		relay_peers_format(ai->ai_addr, p->text, sizeof(p->text));
	}
}

/*
 * The round's peers replace the last ones, keeping the failures of the
 * addresses that are still there: a new lookup does not make a relay
 * that just failed worth trying again.
 */
static void
relay_peers_replace(struct relay_link *link)
{
	struct link_peer	*p, *old;
	size_t			 i, j;

	for (i = 0; i < link->nfound; i++) {
		p = &link->found[i];
		for (j = 0; j < link->npeers; j++) {
			old = &link->peers[j];
			if (old->entry == p->entry &&
			    old->addrlen == p->addrlen &&
			    memcmp(&old->addr, &p->addr, p->addrlen) == 0) {
				p->failed_at_us = old->failed_at_us;
				break;
			}
		}
	}
	memcpy(link->peers, link->found, link->nfound * sizeof(link->peers[0]));
	link->npeers = link->nfound;
	link->current = -1;
}

static void
relay_peers_on_lookup(int result, struct evutil_addrinfo *res, void *arg)
{
	struct link_lookup	*lookup = arg;
	struct relay_link	*link = lookup->link;
	const char		*address;

	if (link == NULL)
		goto end;
	link->lookups[lookup->entry] = NULL;
	address = link->entries[lookup->entry].address;
	if (result != 0) {
		/* Said once per change, not at every round. */
		snprintf(link->resolve_error, sizeof(link->resolve_error),
		    "cannot resolve %s: %s", address, evutil_gai_strerror(
		    result));
		if (strcmp(link->entry_errors[lookup->entry],
		    evutil_gai_strerror(result)) != 0)
			log_warnx("relay: %s", link->resolve_error);
		snprintf(link->entry_errors[lookup->entry],
		    sizeof(link->entry_errors[0]), "%s",
		    evutil_gai_strerror(result));
	} else {
		link->entry_errors[lookup->entry][0] = '\0';
		relay_peers_add(link, lookup->entry, res);
	}
	if (--link->nlookups == 0) {
		relay_peers_replace(link);
		relay_link_resolved(link);
	}
end:
	if (res != NULL)
		evutil_freeaddrinfo(res);
	free(lookup);
}

void
relay_peers_resolve(struct relay_link *link)
{
	const struct evutil_addrinfo hints = {
		.ai_family = AF_UNSPEC,		/* A and AAAA: every relay */
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
	};
	struct link_lookup	*lookup;
	char			 port[8];
	size_t			 i;

	link->nfound = 0;
	link->resolve_error[0] = '\0';
	/*
	 * One count more than the lookups while they start: numeric
	 * addresses and names of /etc/hosts are answered before
	 * evdns_getaddrinfo() returns, and the round must not end early.
	 */
	link->nlookups = link->nentries + 1;
	for (i = 0; i < link->nentries; i++) {
		lookup = xcalloc(1, sizeof(*lookup));
		lookup->link = link;
		lookup->entry = i;
		link->lookups[i] = lookup;
		snprintf(port, sizeof(port), "%u", link->entries[i].port);
		evdns_getaddrinfo(link->dns, link->entries[i].host, port,
		    &hints, relay_peers_on_lookup, lookup);
	}
	if (--link->nlookups == 0) {
		relay_peers_replace(link);
		relay_link_resolved(link);
	}
}

/*
 * The link goes away with lookups in flight: evdns still answers them
 * (with an error once its base is freed), and they must not touch it.
 */
void
relay_peers_forget(struct relay_link *link)
{
	size_t	 i;

	for (i = 0; i < link->nentries; i++) {
		if (link->lookups[i] != NULL)
			link->lookups[i]->link = NULL;
		link->lookups[i] = NULL;
	}
	link->nlookups = 0;
}

static int
relay_peers_is_eligible(const struct link_peer *p, uint64_t now)
{
	return p->failed_at_us == 0 || now - p->failed_at_us >=
	    LINK_FAILED_HOLD_US;
}

/* 1 while a peer that has not failed lately remains. */
int
relay_peers_has_eligible(const struct relay_link *link)
{
	uint64_t	 now = clock_monotonic_us();
	size_t		 i;

	for (i = 0; i < link->npeers; i++)
		if (relay_peers_is_eligible(&link->peers[i], now))
			return 1;
	return 0;
}

/* A peer at random among those that have not failed lately; -1: none. */
int
relay_peers_pick(struct relay_link *link)
{
	uint64_t	 now = clock_monotonic_us();
	size_t		 i, n = 0, choice;

	for (i = 0; i < link->npeers; i++)
		if (relay_peers_is_eligible(&link->peers[i], now))
			n++;
	if (n == 0)
		return -1;
	choice = (size_t)random() % n;
	for (i = 0; i < link->npeers; i++) {
		if (!relay_peers_is_eligible(&link->peers[i], now))
			continue;
		if (choice-- == 0)
			return (int)i;
	}
	return -1;
}

void
relay_peers_fail(struct relay_link *link, int i)
{
	if (i < 0 || (size_t)i >= link->npeers)
		return;
	/* Never 0, which means "not failed". */
	link->peers[i].failed_at_us = clock_monotonic_us() | 1;
}

/* A new round: every peer gets another chance. */
void
relay_peers_clear(struct relay_link *link)
{
	size_t	 i;

	for (i = 0; i < link->npeers; i++)
		link->peers[i].failed_at_us = 0;
}
