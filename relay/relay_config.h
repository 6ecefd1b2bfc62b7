/*
 * tracetrap-relay configuration: an INI file (conf/relay.conf is the
 * annotated reference). Every key has a default; unknown sections or keys
 * and bad values are errors naming file:line, all reported in one pass.
 */
#ifndef TT_RELAY_CONFIG_H
#define TT_RELAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "tls_conf.h"

#define RELAY_CONFIG_DEFAULT_PATH	"/etc/tracetrap/relay.conf"
#define RELAY_CONFIG_PATH_MAX		4096
#define RELAY_CONFIG_NAME_MAX		64
#define RELAY_CONFIG_HOST_MAX		256	/* a DNS name with its NUL */
#define RELAY_CONFIG_ADDRESS_MAX	(RELAY_CONFIG_HOST_MAX + 8)
#define RELAY_CONFIG_TOKEN_MAX		256
#define RELAY_CONFIG_LIST_MAX		4096	/* a line of the file */
#define RELAY_CONFIG_URL_MAX		512	/* [store] s3_endpoint */
#define RELAY_CONFIG_CONNINFO_MAX	1024	/* [catalog] conninfo */

/* [store] backend and [catalog] backend: where snapshots and rows live. */
enum relay_store_backend {
	RELAY_STORE_LOCAL,	/* [store] dir is the store */
	RELAY_STORE_S3		/* dir is staging; the bucket is the store */
};
enum relay_catalog_backend {
	RELAY_CATALOG_SQLITE,	/* one file, this relay's own */
	RELAY_CATALOG_POSTGRESQL	/* shared by every relay of the tier */
};

/*
 * relay_config_load*() flags. NO_FILE_CHECKS leaves out the checks of the
 * [listen] TLS files (they exist, the key is private): for the fuzzer and
 * the unit tests, which parse files that name paths of another machine.
 */
#define RELAY_CONFIG_NO_FILE_CHECKS	0x1

struct relay_config {
	/* [node] name (or [relay] name): in the API, logs, the registry */
	char		 name[RELAY_CONFIG_NAME_MAX];	/* default: hostname */

	/*
	 * [listen]: TLS 1.3 for recorders, client certificates required.
	 * listen_host and listen_port are the address split, the host
	 * without the brackets of an IPv6 address.
	 */
	char		 listen_address[RELAY_CONFIG_ADDRESS_MAX];
	char		 listen_host[RELAY_CONFIG_HOST_MAX];
	uint16_t	 listen_port;
	/* Recorders' certificates the CRL revokes are refused. */
	struct tls_conf	 listen_tls;
	/* What peers may hold of the relay: relay/ingest.c. */
	unsigned	 listen_max_connections;
	unsigned	 listen_max_per_address;	/* 0 = no cap */
	uint64_t	 listen_max_memory;
	uint64_t	 listen_handshake_timeout_ms;

	/* [api]: HTTP, or HTTPS with [listen]'s files when is_api_tls. */
	char		 api_address[RELAY_CONFIG_ADDRESS_MAX];
	char		 api_host[RELAY_CONFIG_HOST_MAX];
	uint16_t	 api_port;
	char		 api_token[RELAY_CONFIG_TOKEN_MAX];	/* "" = none */
	int		 is_api_tls;

	/* [store] */
	char		 store_dir[RELAY_CONFIG_PATH_MAX];
	/* The catalog as set ("" = <dir>/catalog.db) and the one to open. */
	char		 store_catalog[RELAY_CONFIG_PATH_MAX];
	char		 store_catalog_path[RELAY_CONFIG_PATH_MAX];
	uint64_t	 store_max_bytes;
	uint64_t	 store_max_age_ms;		/* 0 = no age limit */
	uint64_t	 store_min_free;		/* bytes left free */
	int		 store_backend;		/* enum relay_store_backend */
	char		 store_s3_endpoint[RELAY_CONFIG_URL_MAX];
	char		 store_s3_region[RELAY_CONFIG_NAME_MAX];
	char		 store_s3_bucket[RELAY_CONFIG_NAME_MAX];
	char		 store_s3_prefix[RELAY_CONFIG_PATH_MAX];	/* "" none */
	char		 store_s3_credentials[RELAY_CONFIG_PATH_MAX];
	char		 store_s3_ca[RELAY_CONFIG_PATH_MAX];	/* "" system */
	uint64_t	 store_s3_part_size;
	uint64_t	 store_s3_cache;	/* bytes of snapshots kept in dir */
	uint64_t	 store_s3_sweep_grace_ms;	/* an orphan's age */

	/* [catalog] */
	int		 catalog_backend;	/* enum relay_catalog_backend */
	char		 catalog_conninfo[RELAY_CONFIG_CONNINFO_MAX];

	/* [fleet] */
	uint64_t	 fleet_cooldown_ms;
	unsigned	 fleet_max_per_hour;		/* 0 = no hourly cap */
	unsigned	 fleet_node_max_per_hour;	/* 0 = no share */
	char		 fleet_nodes[RELAY_CONFIG_LIST_MAX];	/* "a,b", "" */
	/* Cluster triggers through PostgreSQL (cluster.c). */
	uint64_t	 fleet_catch_up_ms;	/* older ones are not replayed */
	uint64_t	 fleet_heartbeat_ms;	/* the relay registry's */

	/* [analysis]: analysis.h */
	unsigned	 analysis_workers;
	uint64_t	 analysis_cpu_budget_ms;
	uint64_t	 analysis_memory;
	uint64_t	 analysis_timeout_ms;
	unsigned	 analysis_queue;
	unsigned	 analysis_backfill;		/* per minute, 0 = none */
	unsigned	 analysis_query_threads;
	unsigned	 analysis_queries_max;
	uint64_t	 analysis_wait_for_uploads_ms;	/* 0 = never waits */
};

/* Fills every default (name from gethostname()). */
void	relay_config_defaults(struct relay_config *);

/*
 * Loads path over the defaults. Returns 0, or -1 with every error found,
 * one "path:line: message" per line, in err: first those of the lines in
 * their order, then those only the whole file can tell (a TLS file that
 * is missing, a key readable by others, [api] on [listen]'s port). The
 * caller's config is only replaced when the whole file is valid.
 */
int	relay_config_load(struct relay_config *, const char *path, int flags,
	    char *err, size_t errlen);

/* Same, from a buffer (used by the fuzzer and the unit tests). */
int	relay_config_load_buffer(struct relay_config *, const char *name,
	    const char *text, size_t len, int flags, char *err,
	    size_t errlen);

/*
 * 1 when a cluster incident fans out to node: [fleet] nodes is empty (every
 * connected recorder) or lists it.
 */
int	relay_config_fleet_includes(const struct relay_config *,
	    const char *node);

#endif
