/*
 * Cluster triggers and the relay registry through PostgreSQL: what
 * cluster.c (the connection, on the event loop) and cluster_sql.c (the
 * statements and what their answers mean) share. The rest of the relay
 * sees relay.h's cluster_* functions only.
 */
#ifndef TT_CLUSTER_INT_H
#define TT_CLUSTER_INT_H

#include <sys/queue.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "cluster_target.h"
#include "relay.h"

#define CLUSTER_PARAMS_MAX	10
#define CLUSTER_SCHEMA_VERSION	2
/* A relay's instance id: 128 random bits in hex. */
#define CLUSTER_INSTANCE_LEN	32
/* Triggers resolved after a reconnection but fanned out here before. */
#define CLUSTER_SKIP_MAX	16
/* PostgreSQL's clock in microseconds: one clock for every relay. */
#define CLUSTER_NOW_US \
	"(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"

struct cluster;
struct cluster_op;

/*
 * res is the statement's last result, or NULL when it failed (why in
 * error) or the connection went before its answer (error says so).
 */
typedef void	(*cluster_done_fn)(struct cluster *, struct cluster_op *,
		    PGresult *res, const char *error);

/* One statement (or, is_simple, a script of several without parameters). */
struct cluster_op {
	TAILQ_ENTRY(cluster_op)	 entry;
	const char		*sql;
	int			 is_simple;
	int			 nparams;
	char			*params[CLUSTER_PARAMS_MAX];
	cluster_done_fn		 done;
	/* Just before it is sent: parameters known only then. */
	void			(*prepare)(struct cluster *, struct cluster_op *);
	/* cluster_trigger's: handed to the local fan-out if never sent. */
	json_t			*trigger;
	char			 node[RELAY_CONFIG_NAME_MAX];
	char			 trigger_id[CLUSTER_INSTANCE_LEN + 24];
	int			 was_sent;	/* its fate may be unknown */
	int			 is_fanned_local; /* after the bounded wait */
	int64_t			 lost_at_us;	/* first sent into a loss */
	/* The heartbeat's: a trigger goes ahead of it. */
	int			 is_housekeeping;
};
TAILQ_HEAD(cluster_ops, cluster_op);

enum cluster_state {
	CLUSTER_DOWN,		/* waiting to reconnect */
	CLUSTER_CONNECTING,	/* PQconnectPoll */
	CLUSTER_SETUP,		/* schema, LISTEN, registry, catch-up */
	CLUSTER_READY,
};

struct cluster {
	struct relay		*relay;
	PGconn			*conn;
	enum cluster_state	 state;
	struct event		*io_ev;		/* the socket, persistent read */
	struct event		*write_ev;	/* while libpq has output */
	struct event		*retry_ev;
	struct event		*deadline_ev;	/* connect or statement */
	struct event		*heartbeat_ev;
	struct cluster_target_lookup *lookup;	/* resolving conninfo's hosts */
	struct cluster_ops	 ops;
	struct cluster_op	*running;
	/* Triggers sent when the connection went: committed or not? */
	struct cluster_ops	 unresolved;
	struct event		*unresolved_ev;
	int64_t			 skip_seqs[CLUSTER_SKIP_MAX];
	size_t			 nskip;
	char			 instance[CLUSTER_INSTANCE_LEN + 1];
	uint64_t		 trigger_ids;
	PGresult		*result;	/* running's last so far */
	char			 error[512];	/* running's failure */
	uint64_t		 backoff_ms;
	int64_t			 started_at_us;
	int64_t			 last_seq;	/* last trigger seen */
	int			 has_resumed;	/* last_seq read at start */
	int			 is_fetch_queued;
	int			 is_fetch_again;	/* told while fetching */
	int			 is_registry_queued;
	int			 is_heartbeat_queued;
	json_t			*conflicts;	/* live relays with our name */
	json_t			*relays;	/* the registry, as last read */
	int64_t			 relays_read_at_us;
	char			 last_error[512];
	uint64_t		 connects;
	uint64_t		 losses;
	uint64_t		 triggers;	/* accepted by the fleet budget */
	uint64_t		 refused;	/* refused by it */
	uint64_t		 local_only;	/* fanned out without PostgreSQL */
	uint64_t		 notifications;
	uint64_t		 replayed;	/* fanned out here, from the table */
	uint64_t		 stale;		/* older than catch_up: skipped */
};

/* cluster.c */
struct cluster_op *cluster_op_new(const char *sql, cluster_done_fn);
void	 cluster_op_param(struct cluster_op *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 cluster_op_free(struct cluster_op *);
void	 cluster_queue(struct cluster *, struct cluster_op *);
void	 cluster_queue_first(struct cluster *, struct cluster_op *);
void	 cluster_queue_trigger(struct cluster *, struct cluster_op *);
int	 cluster_is_up(const struct cluster *);
void	 cluster_lost(struct cluster *, const char *why);

/* cluster_sql.c */
void	 cluster_sql_setup(struct cluster *);
void	 cluster_sql_fetch(struct cluster *);
void	 cluster_sql_heartbeat(struct cluster *);
void	 cluster_sql_registry(struct cluster *);
void	 cluster_sql_trigger(struct cluster *, const char *node, json_t *);
void	 cluster_sql_trigger_lookup(struct cluster_op *);
extern const char cluster_sql_unregister[];
void	 cluster_sql_node(struct cluster *, const char *node, int is_up);

#endif
