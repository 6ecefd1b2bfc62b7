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
 * each new connection runs the schema's migrations, LISTENs again,
 * registers the relay and its recorders, and catches up with the triggers
 * it missed (cluster_sql.c). While it is down, cluster triggers fan out
 * to this relay's recorders only (fanout.c): an incident is never lost
 * for want of the database, only its reach is smaller.
 */
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

static void
cluster_timer(struct event *ev, unsigned seconds)
{
	struct timeval	 tv = { (time_t)seconds, 0 };

	event_add(ev, &tv);
}

/*
 * Everything of the connection goes; what was waiting for it too, but a
 * cluster trigger that never reached the database still fans out here.
 * One that did reach it may have been committed: the catch-up after the
 * reconnection tells, and asks for it if it was.
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
			log_warnx("cluster: the trigger from %s may or may not "
			    "have been recorded; the catch-up will tell",
			    op->node);
		cluster_op_free(op);
	}
	while ((op = TAILQ_FIRST(&c->ops)) != NULL) {
		TAILQ_REMOVE(&c->ops, op, entry);
		if (op->trigger != NULL) {
			c->local_only++;
			fanout_local(relay, op->node, op->trigger);
		}
		cluster_op_free(op);
	}
	c->is_fetch_queued = c->is_registry_queued = 0;
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
	c->running = op;
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
	while ((n = PQnotifies(c->conn)) != NULL) {
		c->notifications++;
		PQfreemem(n);
		/* Whoever sent it, the table says what is new. */
		cluster_sql_fetch(c);
	}
	if (PQstatus(c->conn) == CONNECTION_BAD)
		cluster_lost(c, cluster_pq_error(c, err, sizeof(err)));
}

static void
cluster_on_deadline(evutil_socket_t fd, short events, void *arg)
{
	struct cluster	*c = arg;

	(void)fd;
	(void)events;
	cluster_lost(c, c->state == CLUSTER_CONNECTING ? "no connection "
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

static void
cluster_connect(struct cluster *c)
{
	const char	*keys[] = { "application_name", "dbname", NULL };
	const char	*values[3];
	char		 app[RELAY_CONFIG_NAME_MAX + 32], err[512];

	/* The operator's conninfo comes last: its application_name wins. */
	snprintf(app, sizeof(app), "tracetrap-relay %s", c->relay->conf.name);
	values[0] = app;
	values[1] = c->relay->conf.catalog_conninfo;
	values[2] = NULL;
	c->state = CLUSTER_CONNECTING;
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
	if (c->state != CLUSTER_READY)
		return;
	cluster_sql_heartbeat(c);
	cluster_sql_registry(c);
}

int
cluster_start(struct relay *relay, char *err, size_t errlen)
{
	struct cluster	*c;
	struct timeval	 tv;
	char		*pq_err = NULL;
	PQconninfoOption *opts;

	/* A conninfo libpq cannot read is a configuration error, not a wait. */
	if ((opts = PQconninfoParse(relay->conf.catalog_conninfo, &pq_err))
	    == NULL) {
		snprintf(err, errlen, "[catalog] conninfo: %s", pq_err != NULL ?
		    pq_err : "out of memory");
		PQfreemem(pq_err);
		return -1;
	}
	PQconninfoFree(opts);
	c = xcalloc(1, sizeof(*c));
	c->relay = relay;
	TAILQ_INIT(&c->ops);
	c->backoff_ms = CLUSTER_BACKOFF_MIN_MS;
	c->started_at_us = clock_realtime_us();
	c->relays = json_array();
	c->retry_ev = evtimer_new(relay->base, cluster_on_retry, c);
	c->deadline_ev = evtimer_new(relay->base, cluster_on_deadline, c);
	c->heartbeat_ev = event_new(relay->base, -1, EV_PERSIST,
	    cluster_on_heartbeat, c);
	tv.tv_sec = (time_t)(relay->conf.fleet_heartbeat_ms / 1000);
	tv.tv_usec = (suseconds_t)(relay->conf.fleet_heartbeat_ms % 1000) *
	    1000;
	event_add(c->heartbeat_ev, &tv);
	relay->cluster = c;
	cluster_connect(c);
	return 0;
}

/* After the loop: the registry forgets this relay's recorders. */
void
cluster_stop(struct relay *relay)
{
	struct cluster	*c = relay->cluster;
	const char	*params[1];
	PGresult	*res;

	if (c == NULL)
		return;
	if (c->state == CLUSTER_READY && c->running == NULL &&
	    PQsetnonblocking(c->conn, 0) == 0) {
		params[0] = relay->conf.name;
		res = PQexecParams(c->conn, "DELETE FROM relay_nodes WHERE "
		    "relay = $1", 1, NULL, params, NULL, NULL, 0);
		PQclear(res);
	}
	c->state = CLUSTER_DOWN;	/* no "lost" line: we leave */
	c->backoff_ms = 0;
	cluster_lost(c, "relay stopping");
	event_free(c->retry_ev);
	event_free(c->deadline_ev);
	event_free(c->heartbeat_ev);
	json_decref(c->relays);
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

/* Unless another connection of the node is still there (a replacement). */
void
cluster_node_down(struct relay *relay, const char *node)
{
	if (relay->cluster == NULL || !cluster_is_up(relay->cluster) ||
	    ingest_is_connected(relay, node))
		return;
	cluster_sql_node(relay->cluster, node, 0);
}

/* /v1/status's "cluster": the link, its counters, the relay registry. */
json_t *
cluster_status(struct relay *relay)
{
	struct cluster	*c = relay->cluster;
	int64_t		 now = clock_realtime_us();

	if (c == NULL)
		return json_null();
	if (c->state == CLUSTER_READY && !c->is_registry_queued &&
	    now - c->relays_read_at_us > CLUSTER_REGISTRY_FRESH_US)
		cluster_sql_registry(c);
	return json_pack("{s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:O, s:I}",
	    "backend", "postgresql",
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
	    "catch_up_ms", (json_int_t)relay->conf.fleet_catch_up_ms,
	    "relays", c->relays,
	    "relays_age_ms", (json_int_t)(c->relays_read_at_us == 0 ? -1 :
	    (now - c->relays_read_at_us) / 1000));
}
