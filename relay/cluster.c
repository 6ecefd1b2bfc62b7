/*
 * The relay's link to PostgreSQL for cluster triggers and the relay
 * registry ([catalog] backend = postgresql): one connection driven by
 * libpq's asynchronous API on the event loop (PQconnectPoll, PQsendQuery*,
 * PQconsumeInput, PQnotifies on a libevent event for PQsocket), so that no
 * statement, however slow the database, stalls the recorders' connections.
 * Statements wait in a queue and run one at a time, in order: a node's
 * disconnection is never written before its connection.
 *
 * A connection that fails, or a statement without an answer within
 * CLUSTER_STATEMENT_SECONDS, is closed and opened again with a backoff;
 * each new connection runs the schema's migrations if due, LISTENs again,
 * registers the relay and its recorders, and catches up with the triggers
 * it missed (cluster_sql.c). While it is down, cluster triggers fan out
 * to this relay's recorders only (fanout.c): an incident is never lost
 * for want of the database, only its reach is smaller. A trigger sent as
 * the connection went may have been committed or not: it is sent again
 * after the reconnection under the same trigger id (a committed one is
 * answered, not counted twice), or, after CLUSTER_UNRESOLVED_SECONDS
 * without a connection, fanned out here and only looked up later.
 *
 * The host names of [catalog] conninfo are resolved on a thread
 * (cluster_target.c): libpq would resolve them on the loop.
 */
#include <sys/random.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cluster_int.h"
#include "log.h"
#include "xmalloc.h"

#define CLUSTER_CONNECT_SECONDS		10
#define CLUSTER_STATEMENT_SECONDS	10
#define CLUSTER_BACKOFF_MIN_MS		100
#define CLUSTER_BACKOFF_MAX_MS		5000
/* A trigger of unknown fate waits this long for PostgreSQL to come back. */
#define CLUSTER_UNRESOLVED_SECONDS	5
/* The unregistration at stop: never a frozen server's hostage for long. */
#define CLUSTER_STOP_MS			2000
/* /v1/status reads the registry again when its copy is older. */
#define CLUSTER_REGISTRY_FRESH_US	1000000

static void	cluster_connect(struct cluster *);
static void	cluster_kick(struct cluster *);
static void	cluster_on_connect_io(evutil_socket_t, short, void *);

struct cluster_op *
cluster_op_new(const char *sql, cluster_done_fn done)
{
	struct cluster_op *op;

	op = xcalloc(1, sizeof(*op));
	op->sql = sql;
	op->done = done;
	return op;
}

void
cluster_op_param(struct cluster_op *op, const char *fmt, ...)
{
	va_list	 ap;

	if (op->nparams >= CLUSTER_PARAMS_MAX)
		fatalx("cluster: too many parameters for %.40s", op->sql);
	va_start(ap, fmt);
	if (vasprintf(&op->params[op->nparams], fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	op->nparams++;
}

void
cluster_op_free(struct cluster_op *op)
{
	int	 i;

	for (i = 0; i < op->nparams; i++)
		free(op->params[i]);
	json_decref(op->trigger);
	free(op);
}

int
cluster_is_up(const struct cluster *c)
{
	return c->state == CLUSTER_SETUP || c->state == CLUSTER_READY;
}

void
cluster_queue(struct cluster *c, struct cluster_op *op)
{
	TAILQ_INSERT_TAIL(&c->ops, op, entry);
	cluster_kick(c);
}

/* Next to run: a setup step that another one found due. */
void
cluster_queue_first(struct cluster *c, struct cluster_op *op)
{
	TAILQ_INSERT_HEAD(&c->ops, op, entry);
	cluster_kick(c);
}

/* Ahead of the heartbeat's statements: a trigger is what waits for us. */
void
cluster_queue_trigger(struct cluster *c, struct cluster_op *op)
{
	struct cluster_op	*before;

	TAILQ_FOREACH(before, &c->ops, entry)
		if (before->is_housekeeping)
			break;
	if (before != NULL)
		TAILQ_INSERT_BEFORE(before, op, entry);
	else
		TAILQ_INSERT_TAIL(&c->ops, op, entry);
	cluster_kick(c);
}

static void
cluster_timer(struct event *ev, unsigned seconds)
{
	struct timeval	 tv = { (time_t)seconds, 0 };

	event_add(ev, &tv);
}

/*
 * A trigger sent into the loss: committed or not, only PostgreSQL knows.
 * It waits for the reconnection, which sends it again (or looks it up).
 */
static void
cluster_unresolved(struct cluster *c, struct cluster_op *op)
{
	if (op->lost_at_us == 0) {
		op->lost_at_us = clock_realtime_us();
		if (!op->is_fanned_local)
			log_warnx("cluster: the trigger from %s (id %s) was sent "
			    "as the connection went: sending it again once "
			    "PostgreSQL is back (asking this relay's recorders "
			    "only if it is not within %d s)", op->node,
			    op->trigger_id, CLUSTER_UNRESOLVED_SECONDS);
	}
	TAILQ_INSERT_TAIL(&c->unresolved, op, entry);
	if (!evtimer_pending(c->unresolved_ev, NULL))
		cluster_timer(c->unresolved_ev, 1);
}

/*
 * Everything of the connection goes; what was waiting for it too, but a
 * cluster trigger that never reached the database still fans out here.
 * One that did reach it may have been committed: cluster_unresolved().
 */
void
cluster_lost(struct cluster *c, const char *why)
{
	struct relay		*relay = c->relay;
	struct cluster_op	*op;
	struct timeval		 tv;

	if (c->state != CLUSTER_DOWN) {
		log_warnx("cluster: PostgreSQL %s: %s; reconnecting in %llu ms",
		    c->state == CLUSTER_CONNECTING ? "unreachable" :
		    "connection lost", why, (unsigned long long)c->backoff_ms);
		c->losses++;
	}
	snprintf(c->last_error, sizeof(c->last_error), "%s", why);
	if (c->lookup != NULL)
		cluster_target_lookup_abandon(c->lookup);
	c->lookup = NULL;
	if (c->io_ev != NULL)
		event_free(c->io_ev);
	if (c->write_ev != NULL)
		event_free(c->write_ev);
	c->io_ev = c->write_ev = NULL;
	event_del(c->deadline_ev);
	if (c->conn != NULL)
		PQfinish(c->conn);
	c->conn = NULL;
	PQclear(c->result);
	c->result = NULL;
	c->state = CLUSTER_DOWN;
	if ((op = c->running) != NULL) {
		c->running = NULL;
		if (op->trigger != NULL)
			cluster_unresolved(c, op);
		else
			cluster_op_free(op);
	}
	while ((op = TAILQ_FIRST(&c->ops)) != NULL) {
		TAILQ_REMOVE(&c->ops, op, entry);
		if (op->trigger != NULL && (op->was_sent ||
		    op->is_fanned_local)) {
			cluster_unresolved(c, op);
			continue;
		}
		if (op->trigger != NULL) {
			c->local_only++;
			fanout_local(relay, op->node, op->trigger);
		}
		cluster_op_free(op);
	}
	c->is_fetch_queued = c->is_fetch_again = 0;
	c->is_registry_queued = c->is_heartbeat_queued = 0;
	tv.tv_sec = (time_t)(c->backoff_ms / 1000);
	tv.tv_usec = (suseconds_t)(c->backoff_ms % 1000) * 1000;
	event_add(c->retry_ev, &tv);
	c->backoff_ms *= 2;
	if (c->backoff_ms > CLUSTER_BACKOFF_MAX_MS)
		c->backoff_ms = CLUSTER_BACKOFF_MAX_MS;
}

/* libpq's error text is several lines; the log wants one. */
static const char *
cluster_pq_error(struct cluster *c, char *buf, size_t len)
{
	char	*nl;

	snprintf(buf, len, "%s", c->conn != NULL ? PQerrorMessage(c->conn) :
	    "no connection");
	while ((nl = strchr(buf, '\n')) != NULL)
		*nl = nl[1] == '\0' ? '\0' : ' ';
	return buf;
}

/* Output libpq could not write at once: wait until the socket takes it. */
static void
cluster_flush(struct cluster *c)
{
	char	 err[512];
	int	 ret;

	if ((ret = PQflush(c->conn)) == -1) {
		cluster_lost(c, cluster_pq_error(c, err, sizeof(err)));
		return;
	}
	if (ret == 1)
		event_add(c->write_ev, NULL);
}

static void
cluster_kick(struct cluster *c)
{
	struct cluster_op	*op;
	char			 err[512];
	int			 ret;

	if (!cluster_is_up(c) || c->running != NULL ||
	    (op = TAILQ_FIRST(&c->ops)) == NULL)
		return;
	TAILQ_REMOVE(&c->ops, op, entry);
	if (op->sql == NULL) {
		/* A marker: the statements before it are done. */
		op->done(c, op, NULL, NULL);
		cluster_op_free(op);
		cluster_kick(c);
		return;
	}
	if (op->prepare != NULL)
		op->prepare(c, op);
	c->running = op;
	op->was_sent = 1;
	c->error[0] = '\0';
	if (op->is_simple)
		ret = PQsendQuery(c->conn, op->sql);
	else
		ret = PQsendQueryParams(c->conn, op->sql, op->nparams, NULL,
		    (const char *const *)op->params, NULL, NULL, 0);
	if (ret == 0) {
		cluster_lost(c, cluster_pq_error(c, err, sizeof(err)));
		return;
	}
	cluster_timer(c->deadline_ev, CLUSTER_STATEMENT_SECONDS);
	cluster_flush(c);
}

/* The running statement's results, as many as have come. */
static void
cluster_collect(struct cluster *c)
{
	struct cluster_op	*op;
	PGresult		*res;
	ExecStatusType		 st;
	char			*nl;

	while ((op = c->running) != NULL && !PQisBusy(c->conn)) {
		if ((res = PQgetResult(c->conn)) != NULL) {
			st = PQresultStatus(res);
			if ((st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE)
			    && c->error[0] == '\0') {
				snprintf(c->error, sizeof(c->error), "%s",
				    PQresultErrorMessage(res));
				while ((nl = strchr(c->error, '\n')) != NULL)
					*nl = nl[1] == '\0' ? '\0' : ' ';
			}
			PQclear(c->result);
			c->result = res;
			continue;
		}
		c->running = NULL;
		event_del(c->deadline_ev);
		res = c->result;
		c->result = NULL;
		op->done(c, op, c->error[0] == '\0' ? res : NULL,
		    c->error[0] == '\0' ? NULL : c->error);
		PQclear(res);
		cluster_op_free(op);
		if (c->state == CLUSTER_DOWN)
			return;
		cluster_kick(c);
	}
}

static void
cluster_on_io(evutil_socket_t fd, short events, void *arg)
{
	struct cluster	*c = arg;
	PGnotify	*n;
	char		 err[512];

	(void)fd;
	if (events & EV_WRITE) {
		cluster_flush(c);
		if (c->state == CLUSTER_DOWN)
			return;
	}
	if (!(events & EV_READ))
		return;
	if (PQconsumeInput(c->conn) == 0) {
		cluster_lost(c, cluster_pq_error(c, err, sizeof(err)));
		return;
	}
	cluster_collect(c);
	if (c->state == CLUSTER_DOWN)
		return;
	/* A fetch that cannot be sent loses the connection: no more then. */
	while (c->state != CLUSTER_DOWN && (n = PQnotifies(c->conn)) != NULL) {
		c->notifications++;
		PQfreemem(n);
		/* Whoever sent it, the table says what is new. */
		cluster_sql_fetch(c);
	}
	if (c->state != CLUSTER_DOWN && PQstatus(c->conn) == CONNECTION_BAD)
		cluster_lost(c, cluster_pq_error(c, err, sizeof(err)));
}

static void
cluster_on_deadline(evutil_socket_t fd, short events, void *arg)
{
	struct cluster	*c = arg;

	(void)fd;
	(void)events;
	cluster_lost(c, c->lookup != NULL ? "no address for conninfo's host "
	    "within 10 s" : c->state == CLUSTER_CONNECTING ? "no connection "
	    "within 10 s" : "no answer to a statement within 10 s");
}

static void
cluster_on_connected(struct cluster *c)
{
	char	 err[512];

	event_del(c->deadline_ev);
	if (PQsetnonblocking(c->conn, 1) == -1) {
		cluster_lost(c, cluster_pq_error(c, err, sizeof(err)));
		return;
	}
	c->io_ev = event_new(c->relay->base, PQsocket(c->conn),
	    EV_READ | EV_PERSIST, cluster_on_io, c);
	c->write_ev = event_new(c->relay->base, PQsocket(c->conn), EV_WRITE,
	    cluster_on_io, c);
	event_add(c->io_ev, NULL);
	c->state = CLUSTER_SETUP;
	c->connects++;
	log_info("cluster: connected to PostgreSQL (server %d)",
	    PQserverVersion(c->conn));
	cluster_sql_setup(c);
}

/* PQconnectPoll's next step, when the socket is ready for it. */
static void
cluster_connect_wait(struct cluster *c, PostgresPollingStatusType poll)
{
	char	 err[512];

	switch (poll) {
	case PGRES_POLLING_OK:
		if (c->io_ev != NULL)
			event_free(c->io_ev);
		c->io_ev = NULL;
		cluster_on_connected(c);
		return;
	case PGRES_POLLING_READING:
	case PGRES_POLLING_WRITING:
		break;
	default:
		cluster_lost(c, cluster_pq_error(c, err, sizeof(err)));
		return;
	}
	/* The socket may change between attempts (several hosts). */
	if (c->io_ev != NULL)
		event_free(c->io_ev);
	c->io_ev = event_new(c->relay->base, PQsocket(c->conn),
	    poll == PGRES_POLLING_READING ? EV_READ : EV_WRITE,
	    cluster_on_connect_io, c);
	event_add(c->io_ev, NULL);
}

static void
cluster_on_connect_io(evutil_socket_t fd, short events, void *arg)
{
	struct cluster *c = arg;

	(void)fd;
	(void)events;
	cluster_connect_wait(c, PQconnectPoll(c->conn));
}

/* host, hostaddr, port: resolved by cluster_target.c, or NULL. */
static void
cluster_connect_to(struct cluster *c, const char *host, const char *hostaddr,
    const char *port)
{
	const char	*keys[6], *values[6];
	char		 app[RELAY_CONFIG_NAME_MAX + 32], err[512];
	int		 n = 0;

	/* The operator's conninfo comes after: its application_name wins. */
	snprintf(app, sizeof(app), "tracetrap-relay %s", c->relay->conf.name);
	keys[n] = "application_name";
	values[n++] = app;
	keys[n] = "dbname";
	values[n++] = c->relay->conf.catalog_conninfo;
	/* And the addresses after it: they replace its host names. */
	if (host != NULL) {
		keys[n] = "host";
		values[n++] = host;
		keys[n] = "hostaddr";
		values[n++] = hostaddr;
		if (port != NULL) {
			keys[n] = "port";
			values[n++] = port;
		}
	}
	keys[n] = values[n] = NULL;
	c->conn = PQconnectStartParams(keys, values, 1);
	if (c->conn == NULL || PQstatus(c->conn) == CONNECTION_BAD) {
		cluster_lost(c, c->conn == NULL ? "out of memory" :
		    cluster_pq_error(c, err, sizeof(err)));
		return;
	}
	cluster_timer(c->deadline_ev, CLUSTER_CONNECT_SECONDS);
	cluster_connect_wait(c, PGRES_POLLING_WRITING);
}

static void
cluster_on_resolved(evutil_socket_t fd, short events, void *arg)
{
	struct cluster			*c = arg;
	const struct cluster_target	*t;
	char				*host, *hostaddr, *port;

	(void)fd;
	(void)events;
	t = cluster_target_lookup_target(c->lookup);
	if (cluster_target_params(t, &host, &hostaddr, &port) == 0) {
		/* As libpq would say it, but without the wait on the loop. */
		cluster_lost(c, t->error[0] != '\0' ? t->error :
		    "no address for conninfo's host");
		return;
	}
	if (t->error[0] != '\0')
		log_warnx("cluster: %s; trying the other hosts", t->error);
	cluster_target_lookup_abandon(c->lookup);
	c->lookup = NULL;
	cluster_connect_to(c, host, hostaddr, port);
	free(host);
	free(hostaddr);
	free(port);
}

static void
cluster_connect(struct cluster *c)
{
	struct cluster_target	 t;
	char			 err[512];

	c->state = CLUSTER_CONNECTING;
	/* Checked at start: -1 cannot happen. */
	if (cluster_target_parse(&t, c->relay->conf.catalog_conninfo, err,
	    sizeof(err)) != 1) {
		cluster_connect_to(c, NULL, NULL, NULL);
		return;
	}
	if ((c->lookup = cluster_target_lookup_start(c->relay->base, &t,
	    cluster_on_resolved, c, err, sizeof(err))) == NULL) {
		cluster_target_free(&t);
		cluster_lost(c, err);
		return;
	}
	cluster_timer(c->deadline_ev, CLUSTER_CONNECT_SECONDS);
}

static void
cluster_on_retry(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	cluster_connect(arg);
}

static void
cluster_on_heartbeat(evutil_socket_t fd, short events, void *arg)
{
	struct cluster	*c = arg;

	(void)fd;
	(void)events;
	/* The last beat not written yet: a frozen server, no pile of them. */
	if (c->state != CLUSTER_READY || c->is_heartbeat_queued ||
	    c->is_registry_queued)
		return;
	cluster_sql_heartbeat(c);
	cluster_sql_registry(c);
}

/*
 * Triggers of unknown fate that waited long enough for PostgreSQL: asked
 * of this relay's recorders now, looked up once it is back, so that the
 * fleet's incident, if it was recorded, is not asked of them again.
 */
static void
cluster_on_unresolved(evutil_socket_t fd, short events, void *arg)
{
	struct cluster		*c = arg;
	struct cluster_op	*op;
	int64_t			 now = clock_realtime_us();

	(void)fd;
	(void)events;
	TAILQ_FOREACH(op, &c->unresolved, entry) {
		if (op->is_fanned_local || now - op->lost_at_us <
		    CLUSTER_UNRESOLVED_SECONDS * 1000000LL)
			continue;
		log_warnx("cluster: the trigger from %s (id %s) is unresolved "
		    "after %d s without PostgreSQL: asking this relay's "
		    "recorders only", op->node, op->trigger_id,
		    CLUSTER_UNRESOLVED_SECONDS);
		c->local_only++;
		fanout_local(c->relay, op->node, op->trigger);
		cluster_sql_trigger_lookup(op);
	}
	TAILQ_FOREACH(op, &c->unresolved, entry)
		if (!op->is_fanned_local) {
			cluster_timer(c->unresolved_ev, 1);
			break;
		}
}

/* 128 random bits: tells relays apart that were given one name. */
static void
cluster_instance(char *hex, size_t len)
{
	unsigned char	 id[CLUSTER_INSTANCE_LEN / 2];
	size_t		 i;

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		fatal("getrandom");
	for (i = 0; i < sizeof(id) && 2 * i + 2 < len; i++)
		snprintf(hex + 2 * i, len - 2 * i, "%02x", id[i]);
}

int
cluster_start(struct relay *relay, char *err, size_t errlen)
{
	struct cluster		*c;
	struct cluster_target	 t;
	struct timeval		 tv;
	char			 why[512];

	/* A conninfo libpq cannot read is a configuration error, not a wait. */
	if (cluster_target_parse(&t, relay->conf.catalog_conninfo, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "[catalog] conninfo: %s", why);
		return -1;
	}
	cluster_target_free(&t);
	c = xcalloc(1, sizeof(*c));
	c->relay = relay;
	TAILQ_INIT(&c->ops);
	TAILQ_INIT(&c->unresolved);
	cluster_instance(c->instance, sizeof(c->instance));
	c->conflicts = json_array();
	c->backoff_ms = CLUSTER_BACKOFF_MIN_MS;
	c->started_at_us = clock_realtime_us();
	c->relays = json_array();
	c->retry_ev = evtimer_new(relay->base, cluster_on_retry, c);
	c->deadline_ev = evtimer_new(relay->base, cluster_on_deadline, c);
	c->unresolved_ev = evtimer_new(relay->base, cluster_on_unresolved, c);
	c->heartbeat_ev = event_new(relay->base, -1, EV_PERSIST,
	    cluster_on_heartbeat, c);
	tv.tv_sec = (time_t)(relay->conf.fleet_heartbeat_ms / 1000);
	tv.tv_usec = (suseconds_t)(relay->conf.fleet_heartbeat_ms % 1000) *
	    1000;
	event_add(c->heartbeat_ev, &tv);
	relay->cluster = c;
	log_info("cluster: relay %s, instance %s", relay->conf.name,
	    c->instance);
	cluster_connect(c);
	return 0;
}

/*
 * Blocking, for cluster_stop() only: the answers to what was sent, until
 * deadline_us. 0 when they all came, -1 otherwise.
 */
static int
cluster_wait_answers(struct cluster *c, int64_t deadline_us)
{
	struct pollfd	 pfd;
	PGresult	*res;
	int64_t		 left_us;
	int		 flushed;

	for (;;) {
		if ((flushed = PQflush(c->conn)) == -1)
			return -1;
		while (flushed == 0 && !PQisBusy(c->conn)) {
			if ((res = PQgetResult(c->conn)) == NULL)
				return 0;
			if (PQresultStatus(res) == PGRES_FATAL_ERROR)
				cluster_pq_error(c, c->last_error,
				    sizeof(c->last_error));
			PQclear(res);
		}
		if ((left_us = deadline_us - clock_realtime_us()) <= 0)
			return -1;
		pfd.fd = PQsocket(c->conn);
		pfd.events = POLLIN | (flushed == 1 ? POLLOUT : 0);
		if (poll(&pfd, 1, (int)(left_us / 1000) + 1) == -1 &&
		    errno != EINTR)
			return -1;
		if (PQconsumeInput(c->conn) == 0)
			return -1;
	}
}

/*
 * After the loop, before the recorders' connections close (their
 * disconnections would queue statements of their own): the registry
 * forgets this relay's recorders, keeps where it got to in the triggers
 * (last_seq, for its next start) and marks it gone. Within CLUSTER_STOP_MS
 * (the statement running first, then ours), or the relay leaves without.
 */
void
cluster_stop(struct relay *relay)
{
	struct cluster		*c = relay->cluster;
	struct cluster_op	*op;
	const char		*params[3];
	char			 seq[32];
	int64_t			 deadline = clock_realtime_us() +
				    CLUSTER_STOP_MS * 1000LL;

	if (c == NULL)
		return;
	if (c->conn != NULL && cluster_is_up(c)) {
		snprintf(seq, sizeof(seq), "%lld", (long long)c->last_seq);
		params[0] = relay->conf.name;
		params[1] = c->instance;
		params[2] = seq;
		if (cluster_wait_answers(c, deadline) == -1 ||
		    PQsendQueryParams(c->conn, cluster_sql_unregister, 3, NULL,
		    params, NULL, NULL, 0) == 0 ||
		    cluster_wait_answers(c, deadline) == -1)
			log_warnx("cluster: leaving without unregistering "
			    "from PostgreSQL (no answer within %d ms)",
			    CLUSTER_STOP_MS);
		else
			log_info("cluster: relay %s unregistered",
			    relay->conf.name);
	}
	c->state = CLUSTER_DOWN;	/* no "lost" line: we leave */
	c->backoff_ms = 0;
	cluster_lost(c, "relay stopping");
	while ((op = TAILQ_FIRST(&c->unresolved)) != NULL) {
		TAILQ_REMOVE(&c->unresolved, op, entry);
		cluster_op_free(op);
	}
	event_free(c->retry_ev);
	event_free(c->deadline_ev);
	event_free(c->unresolved_ev);
	event_free(c->heartbeat_ev);
	json_decref(c->relays);
	json_decref(c->conflicts);
	free(c);
	relay->cluster = NULL;
}

/*
 * 0: the trigger is on its way to the fleet budget in PostgreSQL; -1:
 * the database is out of reach, the caller fans out locally.
 */
int
cluster_trigger(struct relay *relay, const char *node, json_t *trigger)
{
	struct cluster	*c = relay->cluster;

	if (c == NULL)
		return -1;
	if (!cluster_is_up(c)) {
		c->local_only++;
		return -1;
	}
	cluster_sql_trigger(c, node, trigger);
	return 0;
}

void
cluster_node_up(struct relay *relay, const char *node)
{
	if (relay->cluster != NULL && cluster_is_up(relay->cluster))
		cluster_sql_node(relay->cluster, node, 1);
}

/*
 * Unless another connection of the node is still there (a replacement),
 * or the relay is stopping: cluster_stop() forgets all its nodes at once.
 */
void
cluster_node_down(struct relay *relay, const char *node)
{
	if (relay->cluster == NULL || !cluster_is_up(relay->cluster) ||
	    relay->is_shutting_down || ingest_is_connected(relay, node))
		return;
	cluster_sql_node(relay->cluster, node, 0);
}

/* /v1/status's "cluster": the link, its counters, the relay registry. */
json_t *
cluster_status(struct relay *relay)
{
	struct cluster		*c = relay->cluster;
	struct cluster_op	*op;
	int64_t			 now = clock_realtime_us();
	json_int_t		 queued = 0, unresolved = 0;

	if (c == NULL)
		return json_null();
	TAILQ_FOREACH(op, &c->ops, entry)
		queued++;
	TAILQ_FOREACH(op, &c->unresolved, entry)
		unresolved++;
	if (c->state == CLUSTER_READY && !c->is_registry_queued &&
	    now - c->relays_read_at_us > CLUSTER_REGISTRY_FRESH_US)
		cluster_sql_registry(c);
	return json_pack("{s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:O, s:O, s:I}",
	    "backend", "postgresql",
	    "instance", c->instance,
	    "connected", c->state == CLUSTER_READY,
	    "last_error", c->last_error,
	    "connects", (json_int_t)c->connects,
	    "losses", (json_int_t)c->losses,
	    "triggers", (json_int_t)c->triggers,
	    "refused", (json_int_t)c->refused,
	    "local_only", (json_int_t)c->local_only,
	    "notifications", (json_int_t)c->notifications,
	    "replayed", (json_int_t)c->replayed,
	    "stale", (json_int_t)c->stale,
	    "queued", queued,
	    "unresolved", unresolved,
	    "catch_up_ms", (json_int_t)relay->conf.fleet_catch_up_ms,
	    "relays", c->relays,
	    "name_conflicts", c->conflicts,
	    "relays_age_ms", (json_int_t)(c->relays_read_at_us == 0 ? -1 :
	    (now - c->relays_read_at_us) / 1000));
}
