/*
 * tracetrap-relay: state shared by the files of the daemon. Everything
 * here belongs to the event loop, except what the disk worker's jobs
 * carry (see ingest.c).
 *
 * Where things are:
 *   relay.c           main(), retention, the loop's lag check, SIGHUP
 *   ingest.c          recorders' TLS connections, their limits and their
 *                     frames: ingest_listen.c accepts them, ingest_upload.c
 *                     takes their uploads to the disk (ingest.h; the wire
 *                     itself: lib/protocol.h, lib/frame.c)
 *   fanout.c          cluster triggers: the fleet budget, incidents
 *   cluster.c         the same across relays through PostgreSQL, and
 *                     the relay registry; cluster_sql.c: its statements
 *   store.c           the store's layout, names, removal; store_upload.c:
 *                     one upload, verified, made durable, renamed in;
 *                     store_manifest.c: what a manifest may say
 *   store_backend.h   [store] backend: local (the files above) or s3
 *                     (store_s3.c: the bucket, s3*.c, and a local cache)
 *   catalog.c         the SQLite index: opening and schema; writes in
 *                     catalog_write.c and catalog_request.c, queries in
 *                     catalog_query.c
 *   api.c             the HTTP API; download.c and tar.c: manifests and
 *                     archives read off the loop
 *   relay_config.c    relay.conf
 */
#ifndef TT_RELAY_H
#define TT_RELAY_H

#include <sys/queue.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "catalog.h"
#include "relay_config.h"
#include "worker.h"

struct cluster;
struct ingest;
struct ingest_conn;
TAILQ_HEAD(ingest_conns, ingest_conn);
struct evbuffer;

struct relay_stats {
	uint64_t	 connections;		/* accepted TCP connections */
	uint64_t	 handshakes_failed;	/* TLS or certificate refused */
	uint64_t	 protocol_errors;
	uint64_t	 uploads_stored;
	uint64_t	 uploads_duplicate;
	uint64_t	 uploads_refused;
	uint64_t	 uploads_aborted;	/* connection lost mid-upload */
	uint64_t	 bytes_received;	/* snapshot file bytes */
	uint64_t	 incidents;		/* cluster incidents fanned out */
	/*
	 * How late a 100 ms timer fires: the loop's stall, measured. Disk
	 * work on the loop would show here as lag under uploads.
	 */
	uint64_t	 loop_lag_max_us;
	uint64_t	 loop_lag_over_10ms;	/* timer runs later than 10 ms */
	uint64_t	 loop_checks;
	uint64_t	 incidents_rate_limited;
};

#define RELAY_FLEET_HISTORY	1024	/* >= the largest max_per_hour used */

/* An incident the fleet budget let through: when, and whose. */
struct relay_fleet_spent {
	int64_t		 at_us;				/* 0: unused */
	char		 node[RELAY_CONFIG_NAME_MAX];	/* a certificate's CN */
};

/*
 * The fleet budget's state ([fleet] cooldown, max_per_hour,
 * node_max_per_hour): the incidents of the last hour, whose they were.
 */
struct relay_fleet {
	int		 has_last;
	int64_t		 last_us;
	struct relay_fleet_spent history[RELAY_FLEET_HISTORY];	/* a ring */
	size_t		 next;
	uint64_t	 sequence;
};

struct relay {
	struct event_base	*base;
	struct relay_config	 conf;
	char			 config_path[4096];
	char			 catalog_path[4096];
	SSL_CTX			*ssl;
	struct evconnlistener	*listener;
	struct worker		*disk;		/* store + catalog writes */
	struct worker		*bucket;	/* S3 commits, sweeps; or NULL */
	struct catalog		*catalog_writer; /* disk thread only */
	struct analysis		*analysis;	/* its own threads */
	struct ingest		*ingest;	/* limits, budget: ingest.h */
	struct ingest_conns	 conns;
	unsigned		 nconns;
	struct relay_stats	 stats;
	struct relay_fleet	 fleet;
	int			 ready_fd;
	int			 is_shutting_down;
	struct event		*drain_event;	/* shutdown: wait for the disk */
	struct cluster		*cluster;	/* PostgreSQL's link, or NULL */
};

/* A cluster incident's SNAPSHOT_REQUEST, as fanout_send() sends it. */
struct fanout_request {
	const char	*incident;
	const char	*source;
	const char	*reason;
	json_t		*labels;		/* or NULL */
	const char	*requested_by;		/* the origin node */
	const char	*via;			/* its relay; NULL: this one */
	int64_t		 requested_at_us;	/* the budget let it through */
	int64_t		 trigger_received_at_us; /* the origin read it */
};

/* ingest.c */
int	 ingest_listen(struct relay *, char *err, size_t errlen);
void	 ingest_close_all(struct relay *);
void	 ingest_free(struct relay *);
/* /v1/status's "ingest" object, and its lines of /metrics. */
json_t	*ingest_status(struct relay *);
void	 ingest_metrics(struct relay *, struct evbuffer *);
/* Sends a frame to every connected recorder whose node include() accepts. */
unsigned ingest_broadcast(struct relay *, int type, json_t *,
	    int (*include)(struct relay *, const char *));
/* 1 when node has a connection past its HELLO. */
int	 ingest_is_connected(struct relay *, const char *node);
/* The names of the connected nodes, a JSON array. */
json_t	*ingest_nodes(struct relay *);

/* fanout.c */
void	 fanout_trigger(struct relay *, const char *node, json_t *trigger);
const char *fanout_budget(const struct relay_fleet *,
	    const struct relay_config *, const char *node, int64_t now_us);
void	 fanout_spend(struct relay_fleet *, const char *node, int64_t now_us);
void	 fanout_local(struct relay *, const char *node, json_t *trigger);
unsigned fanout_send(struct relay *, const struct fanout_request *);

/* cluster.c: cluster triggers and the registry through PostgreSQL */
int	 cluster_start(struct relay *, char *err, size_t errlen);
void	 cluster_stop(struct relay *);
int	 cluster_trigger(struct relay *, const char *node, json_t *trigger);
void	 cluster_node_up(struct relay *, const char *node);
void	 cluster_node_down(struct relay *, const char *node);
json_t	*cluster_status(struct relay *);

#endif
