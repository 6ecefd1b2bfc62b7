/*
 * Where the cluster's connection goes, found off the event loop. libpq
 * resolves a conninfo's host= names with getaddrinfo() inside
 * PQconnectPoll(): with slow DNS every reconnection would freeze the
 * relay's loop, and every recorder with it. So the names are resolved
 * here, on a thread of their own (the system's resolver, /etc/hosts and
 * nsswitch included, as libpq would), and libpq is given each address as
 * hostaddr= with the name kept as host= (TLS verify-full, Kerberos and
 * .pgpass match on the name): one host entry per address, so that libpq
 * still tries them in turn, as it tries a name's addresses.
 *
 * The thread may outlive its use (a lookup slower than the connection's
 * deadline, the relay stopping): it then finds its lookup abandoned, says
 * nothing, and frees what is left.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cluster_target.h"
#include "log.h"
#include "xmalloc.h"

struct cluster_target_lookup {
	pthread_mutex_t		 lock;
	int			 refs;		/* the loop's and the thread's */
	int			 is_abandoned;
	int			 fds[2];	/* thread -> loop: done */
	struct event		*done_ev;
	struct cluster_target	*target;
};

static char *
cluster_target_strdup(const char *s)
{
	size_t	 len = strlen(s) + 1;

	return memcpy(xmalloc(len), s, len);
}

static void
cluster_target_split(char *list, char **items, size_t *n)
{
	char	*p = list, *comma;

	*n = 0;
	for (;;) {
		if (*n == CLUSTER_TARGET_HOSTS_MAX) {
			*n = CLUSTER_TARGET_HOSTS_MAX + 1;	/* too many */
			return;
		}
		items[(*n)++] = p;
		if ((comma = strchr(p, ',')) == NULL)
			return;
		*comma = '\0';
		p = comma + 1;
	}
}

/* A name for DNS: not a socket directory, not an address already. */
static int
cluster_target_is_name(const char *host)
{
	unsigned char	 addr[sizeof(struct in6_addr)];

	return host[0] != '\0' && host[0] != '/' && host[0] != '@' &&
	    inet_pton(AF_INET, host, addr) != 1 &&
	    inet_pton(AF_INET6, host, addr) != 1;
}

static const char *
cluster_target_option(PQconninfoOption *opts, const char *key,
    const char *env)
{
	PQconninfoOption	*o;

	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0 && o->val != NULL)
			return o->val;
	return getenv(env);
}

/*
 * Reads conninfo's hosts and ports (or PGHOST, PGHOSTADDR and PGPORT, as
 * libpq would): 1 when some host is a name to resolve, 0 when libpq may
 * connect as told (hostaddr given, sockets or addresses only, or lists
 * libpq will refuse itself), -1 when conninfo cannot be read (err says).
 */
int
cluster_target_parse(struct cluster_target *t, const char *conninfo,
    char *err, size_t errlen)
{
	PQconninfoOption	*opts;
	const char		*host, *hostaddr, *port;
	char			*pq_err = NULL, *ports[CLUSTER_TARGET_HOSTS_MAX + 1];
	size_t			 i, nports = 0;
	int			 needs_lookup = 0;

	memset(t, 0, sizeof(*t));
	if ((opts = PQconninfoParse(conninfo, &pq_err)) == NULL) {
		snprintf(err, errlen, "%s", pq_err != NULL ? pq_err :
		    "out of memory");
		PQfreemem(pq_err);
		return -1;
	}
	host = cluster_target_option(opts, "host", "PGHOST");
	hostaddr = cluster_target_option(opts, "hostaddr", "PGHOSTADDR");
	port = cluster_target_option(opts, "port", "PGPORT");
	if (host == NULL || host[0] == '\0' ||
	    (hostaddr != NULL && hostaddr[0] != '\0'))
		goto end;
	t->hosts = cluster_target_strdup(host);
	cluster_target_split(t->hosts, t->names, &t->n);
	if (port != NULL && port[0] != '\0') {
		t->ports = cluster_target_strdup(port);
		cluster_target_split(t->ports, ports, &nports);
	}
	/* libpq: one port for all hosts, or one each. */
	if (t->n > CLUSTER_TARGET_HOSTS_MAX || (nports > 1 && nports != t->n))
		goto end;
	for (i = 0; i < t->n; i++) {
		t->port_of[i] = nports == 0 ? NULL : ports[nports == 1 ? 0 : i];
		t->is_name[i] = cluster_target_is_name(t->names[i]);
		needs_lookup |= t->is_name[i];
	}
end:
	PQconninfoFree(opts);
	if (!needs_lookup)
		cluster_target_free(t);
	return needs_lookup;
}

void
cluster_target_free(struct cluster_target *t)
{
	size_t	 i, j;

	for (i = 0; i < CLUSTER_TARGET_HOSTS_MAX; i++)
		for (j = 0; j < t->naddrs[i]; j++)
			free(t->addrs[i][j]);
	free(t->hosts);
	free(t->ports);
	memset(t, 0, sizeof(*t));
}

/* Blocking: the lookup's thread only (or a test). */
void
cluster_target_resolve(struct cluster_target *t)
{
	struct addrinfo	 hints, *res, *ai;
	char		 addr[INET6_ADDRSTRLEN];
	size_t		 i, j;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	for (i = 0; i < t->n; i++) {
		if (!t->is_name[i])
			continue;
		if ((rc = getaddrinfo(t->names[i], NULL, &hints, &res)) != 0) {
			if (t->error[0] == '\0')
				snprintf(t->error, sizeof(t->error),
				    "resolving %s: %s", t->names[i],
				    rc == EAI_SYSTEM ? strerror(errno) :
				    gai_strerror(rc));
			continue;
		}
		for (ai = res; ai != NULL && t->naddrs[i] <
		    CLUSTER_TARGET_ADDRS_MAX; ai = ai->ai_next) {
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
			    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
				continue;
			for (j = 0; j < t->naddrs[i]; j++)
				if (strcmp(t->addrs[i][j], addr) == 0)
					break;
			if (j == t->naddrs[i])
				t->addrs[i][t->naddrs[i]++] = cluster_target_strdup(addr);
		}
		freeaddrinfo(res);
	}
}

static void
cluster_target_append(char **list, size_t *len, size_t *cap, int is_first,
    const char *item)
{
	size_t	 need = strlen(item) + 2;

	if (*len + need > *cap) {
		*cap = (*len + need) * 2;
		if ((*list = realloc(*list, *cap)) == NULL)
			fatal("realloc");
	}
	*len += (size_t)snprintf(*list + *len, *cap - *len, "%s%s",
	    is_first ? "" : ",", item);
}

/*
 * libpq's host, hostaddr and port lists for the resolved target: each
 * resolved name once per address; a socket or an address as given, with
 * an empty hostaddr (libpq then uses the host as it is). port is NULL
 * when conninfo gave none. Returns how many entries; 0 (nothing to
 * connect to: every name failed) leaves the lists NULL.
 */
size_t
cluster_target_params(const struct cluster_target *t, char **host,
    char **hostaddr, char **port)
{
	size_t	 i, j, n = 0, hlen = 0, alen = 0, plen = 0;
	size_t	 hcap = 0, acap = 0, pcap = 0;

	*host = *hostaddr = *port = NULL;
	for (i = 0; i < t->n; i++) {
		for (j = 0; j < (t->is_name[i] ? t->naddrs[i] : 1); j++) {
			cluster_target_append(host, &hlen, &hcap, n == 0,
			    t->names[i]);
			cluster_target_append(hostaddr, &alen, &acap, n == 0,
			    t->is_name[i] ? t->addrs[i][j] : "");
			if (t->port_of[i] != NULL)
				cluster_target_append(port, &plen, &pcap,
				    n == 0, t->port_of[i]);
			n++;
		}
	}
	if (n == 0) {
		free(*host);
		free(*hostaddr);
		free(*port);
		*host = *hostaddr = *port = NULL;
	}
	return n;
}

static void
cluster_target_lookup_unref(struct cluster_target_lookup *l)
{
	int	 is_last;

	pthread_mutex_lock(&l->lock);
	is_last = --l->refs == 0;
	pthread_mutex_unlock(&l->lock);
	if (!is_last)
		return;
	close(l->fds[1]);
	pthread_mutex_destroy(&l->lock);
	cluster_target_free(l->target);
	free(l->target);
	free(l);
}

static void *
cluster_target_lookup_run(void *arg)
{
	struct cluster_target_lookup	*l = arg;
	char				 done = 1;

	cluster_target_resolve(l->target);
	pthread_mutex_lock(&l->lock);
	/* Abandoned: the loop has closed its end, and forgotten us. */
	if (!l->is_abandoned && write(l->fds[1], &done, 1) == -1)
		log_warn("cluster: waking the event loop");
	pthread_mutex_unlock(&l->lock);
	cluster_target_lookup_unref(l);
	return NULL;
}

/*
 * Resolves t (taken) on a thread; done runs on base's loop, once, unless
 * the lookup is abandoned first. NULL if no thread could start (err).
 */
struct cluster_target_lookup *
cluster_target_lookup_start(struct event_base *base,
    struct cluster_target *t, event_callback_fn done, void *arg,
    char *err, size_t errlen)
{
	struct cluster_target_lookup	*l;
	pthread_attr_t			 attr;
	pthread_t			 thread;
	int				 rc;

	l = xcalloc(1, sizeof(*l));
	l->target = xmalloc(sizeof(*t));
	memcpy(l->target, t, sizeof(*t));
	memset(t, 0, sizeof(*t));
	if (pipe2(l->fds, O_CLOEXEC) == -1)
		fatal("pipe2");
	pthread_mutex_init(&l->lock, NULL);
	l->refs = 2;
	l->done_ev = event_new(base, l->fds[0], EV_READ, done, arg);
	event_add(l->done_ev, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, cluster_target_lookup_run, l);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errlen, "starting a thread to resolve %s: %s",
		    l->target->names[0], strerror(rc));
		l->refs = 1;
		cluster_target_lookup_abandon(l);
		return NULL;
	}
	return l;
}

/* The lookup's answer, for its done callback to read. */
const struct cluster_target *
cluster_target_lookup_target(const struct cluster_target_lookup *l)
{
	return l->target;
}

/* The loop is done with it, answered or not. */
void
cluster_target_lookup_abandon(struct cluster_target_lookup *l)
{
	pthread_mutex_lock(&l->lock);
	l->is_abandoned = 1;
	pthread_mutex_unlock(&l->lock);
	event_free(l->done_ev);
	close(l->fds[0]);
	cluster_target_lookup_unref(l);
}
