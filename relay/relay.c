/*
 * tracetrap-relay: receives snapshots from recorders over mutually
 * authenticated TLS, stores them whole, indexes them as incidents.
 *
 * usage: tracetrap-relay [-dnv] [-f file] [--ready-fd N]
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "analysis.h"
#include "api.h"
#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "relay.h"
#include "store.h"
#include "store_backend.h"
#include "tls.h"
#include "xmalloc.h"

#define RELAY_DEFAULT_CONFIG	"/etc/tracetrap/relay.conf"
#define RELAY_RETENTION_SECONDS	60
#define RELAY_BUCKET_THREADS	2	/* concurrent commits to S3 */

static void	relay_analysis_config(const struct relay_config *,
		    struct analysis_config *);

struct relay_retention {
	struct relay	*relay;
	unsigned	 removed;
	char		 error[512];
	/* s3: incidents whose rows are gone, their objects next. */
	char		(*doomed)[STORE_NAME_MAX];
	size_t		 ndoomed;
};

/*
 * Disk worker: oldest incidents go first, while the store is over its
 * byte bound or they are older than max_age. Local store: the files go
 * before the catalog row: a crash in between leaves a row the next
 * rebuild drops, never a snapshot the catalog forgot. S3: the row goes
 * first, so that the catalog never lists a snapshot whose objects are
 * gone, and the objects after, on the bucket worker (a bucket out of
 * reach must not hold up the disk); what a crash or an unreachable
 * bucket leaves behind is an orphan, for the sweeper.
 */
static void
relay_retention_run(void *arg)
{
	struct relay_retention	*r = arg;
	struct relay		*relay = r->relay;
	struct relay_config	*c = &relay->conf;
	char			 id[STORE_NAME_MAX];
	char			(*doomed)[STORE_NAME_MAX];
	int64_t			 last_us, now_us = clock_realtime_us();
	uint64_t		 bytes;
	int			 is_too_big, is_too_old;

	for (;;) {
		if (catalog_oldest_incident(relay->catalog_writer, id,
		    sizeof(id), &last_us, &bytes) != 1)
			break;
		is_too_big = catalog_total_bytes(relay->catalog_writer) >
		    c->store_max_bytes;
		is_too_old = c->store_max_age_ms > 0 && now_us - last_us >
		    (int64_t)c->store_max_age_ms * 1000;
		if (!is_too_big && !is_too_old)
			break;
		if (store_backend_is_s3()) {
			if (catalog_remove_incident(relay->catalog_writer, id,
			    r->error, sizeof(r->error)) == -1)
				break;
			if ((doomed = realloc(r->doomed, (r->ndoomed + 1) *
			    sizeof(*r->doomed))) == NULL)
				fatalx("retention: out of memory");
			r->doomed = doomed;
			memcpy(r->doomed[r->ndoomed++], id, sizeof(id));
		} else if (store_remove(c->store_dir, id, r->error,
		    sizeof(r->error)) != STORE_OK ||
		    catalog_remove_incident(relay->catalog_writer, id, r->error,
		    sizeof(r->error)) == -1)
			break;
		log_info("retention: removed incident %s (%s)", id,
		    is_too_big ? "store over max_bytes" : "older than max_age");
		r->removed++;
	}
	/* Incidents asked of nodes that never answered, as old as max_age. */
	if (c->store_max_age_ms > 0 && r->error[0] == '\0')
		catalog_remove_requests_before(relay->catalog_writer, now_us -
		    (int64_t)c->store_max_age_ms * 1000, r->error,
		    sizeof(r->error));
	store_cache_trim(c->store_dir);
}

/* Bucket worker: the objects and cache copies of the doomed incidents. */
static void
relay_retention_objects(void *arg)
{
	struct relay_retention	*r = arg;
	size_t			 i;

	for (i = 0; i < r->ndoomed; i++)
		if (store_remove(r->relay->conf.store_dir, r->doomed[i],
		    r->error, sizeof(r->error)) != STORE_OK)
			log_warnx("retention: incident %s: %s; the sweeper "
			    "deletes what is left", r->doomed[i], r->error);
}

static void
relay_retention_free(void *arg)
{
	struct relay_retention *r = arg;

	free(r->doomed);
	free(r);
}

static void
relay_retention_done(void *arg)
{
	struct relay_retention *r = arg;

	if (r->error[0] != '\0')
		log_warnx("retention: %s", r->error);
	log_debug("retention: done, %u incident(s) removed", r->removed);
	if (r->ndoomed > 0 && r->relay->bucket != NULL) {
		worker_submit(r->relay->bucket, relay_retention_objects,
		    relay_retention_free, r);
		return;
	}
	relay_retention_free(r);
}

/* The bucket worker, every sixth of s3_sweep_grace: the bucket's orphans. */
static void
relay_sweep_run(void *arg)
{
	struct relay_retention	*r = arg;

	if (store_sweep(r->relay->catalog_path, (unsigned)
	    (r->relay->conf.store_s3_sweep_grace_ms / 1000), r->error,
	    sizeof(r->error)) == STORE_OK)
		r->error[0] = '\0';
}

static void
relay_sweep_done(void *arg)
{
	struct relay_retention *r = arg;

	if (r->error[0] != '\0')
		log_warnx("store: sweep: %s", r->error);
	free(r);
}

static void
relay_on_sweep(evutil_socket_t fd, short events, void *arg)
{
	struct relay		*relay = arg;
	struct relay_retention	*r;

	(void)fd;
	(void)events;
	if (relay->bucket == NULL)
		return;
	r = xcalloc(1, sizeof(*r));
	r->relay = relay;
	worker_submit(relay->bucket, relay_sweep_run, relay_sweep_done, r);
}

static void
relay_on_retention(evutil_socket_t fd, short events, void *arg)
{
	struct relay		*relay = arg;
	struct relay_retention	*r;

	(void)fd;
	(void)events;
	r = xcalloc(1, sizeof(*r));
	r->relay = relay;
	worker_submit(relay->disk, relay_retention_run, relay_retention_done,
	    r);
}

#define RELAY_LAG_PERIOD_US	100000
#define RELAY_HEAP_KEEP		(16 * 1024 * 1024)	/* free, not trimmed */

static void
relay_on_lag_check(evutil_socket_t fd, short events, void *arg)
{
	struct relay		*relay = arg;
	static uint64_t		 expected;
	uint64_t		 now = clock_monotonic_us(), lag;

	(void)fd;
	(void)events;
	if (expected != 0) {
		lag = now > expected ? now - expected : 0;
		relay->stats.loop_checks++;
		if (lag > relay->stats.loop_lag_max_us)
			relay->stats.loop_lag_max_us = lag;
		if (lag > 10000) {
			relay->stats.loop_lag_over_10ms++;
			log_debug("event loop ran a timer %llu us late",
			    (unsigned long long)lag);
		}
	}
	expected = now + RELAY_LAG_PERIOD_US;
}

/* Shutdown waits for the disk worker: an upload it holds is durable. */
static int
relay_is_drained(void *arg)
{
	struct relay *relay = arg;

	return worker_pending(relay->disk) == 0 && (relay->bucket == NULL ||
	    worker_pending(relay->bucket) == 0);
}

/*
 * SIGHUP: the fleet budget, retention and the API token apply at once.
 * The listening address, the certificates and the store stay as they are
 * until a restart (recorders reconnect by themselves); a file with errors
 * keeps the running configuration.
 */
static void
relay_reload(struct relay *relay)
{
	struct relay_config	*next;
	struct analysis_config	 analysis_conf;
	char			 err[8192];

	next = xmalloc(sizeof(*next));
	relay_config_defaults(next);
	if (relay_config_load(next, relay->config_path, 0, err, sizeof(err))
	    == -1) {
		log_warnx("reload: %s has errors, keeping the running "
		    "configuration:\n%s", relay->config_path, err);
		free(next);
		return;
	}
	if (strcmp(next->listen_address, relay->conf.listen_address) != 0 ||
	    tls_conf_differs(&next->listen_tls, &relay->conf.listen_tls) ||
	    strcmp(next->store_dir, relay->conf.store_dir) != 0 ||
	    strcmp(next->api_address, relay->conf.api_address) != 0)
		log_warnx("reload: [listen], [api] address and [store] dir "
		    "change only at restart; keeping the current ones");
	/* Where snapshots and rows live, and who this relay is to the tier. */
	if (strcmp(next->name, relay->conf.name) != 0 ||
	    next->store_backend != relay->conf.store_backend ||
	    strcmp(next->store_s3_endpoint, relay->conf.store_s3_endpoint) != 0 ||
	    strcmp(next->store_s3_bucket, relay->conf.store_s3_bucket) != 0 ||
	    strcmp(next->store_s3_prefix, relay->conf.store_s3_prefix) != 0 ||
	    strcmp(next->store_s3_region, relay->conf.store_s3_region) != 0 ||
	    strcmp(next->store_s3_credentials,
	    relay->conf.store_s3_credentials) != 0 ||
	    strcmp(next->store_s3_ca, relay->conf.store_s3_ca) != 0 ||
	    next->store_s3_part_size != relay->conf.store_s3_part_size ||
	    next->catalog_backend != relay->conf.catalog_backend ||
	    strcmp(next->catalog_conninfo, relay->conf.catalog_conninfo) != 0 ||
	    next->fleet_heartbeat_ms != relay->conf.fleet_heartbeat_ms)
		log_warnx("reload: [node] name, [store] backend and s3_*, "
		    "[catalog] and [fleet] heartbeat change only at restart; "
		    "keeping the current ones");
	relay->conf.fleet_cooldown_ms = next->fleet_cooldown_ms;
	relay->conf.fleet_max_per_hour = next->fleet_max_per_hour;
	relay->conf.fleet_node_max_per_hour = next->fleet_node_max_per_hour;
	memcpy(relay->conf.fleet_nodes, next->fleet_nodes,
	    sizeof(relay->conf.fleet_nodes));
	relay->conf.fleet_catch_up_ms = next->fleet_catch_up_ms;
	relay->conf.store_max_bytes = next->store_max_bytes;
	relay->conf.store_max_age_ms = next->store_max_age_ms;
	relay->conf.store_min_free = next->store_min_free;
	memcpy(relay->conf.api_token, next->api_token,
	    sizeof(relay->conf.api_token));
	relay->conf.analysis_cpu_budget_ms = next->analysis_cpu_budget_ms;
	relay->conf.analysis_memory = next->analysis_memory;
	relay->conf.analysis_timeout_ms = next->analysis_timeout_ms;
	relay->conf.analysis_queue = next->analysis_queue;
	relay->conf.analysis_backfill = next->analysis_backfill;
	relay->conf.analysis_queries_max = next->analysis_queries_max;
	relay->conf.analysis_wait_for_uploads_ms =
	    next->analysis_wait_for_uploads_ms;
	relay_analysis_config(&relay->conf, &analysis_conf);
	analysis_configure(relay->analysis, &analysis_conf);
	free(next);
	log_info("reload: fleet, retention, API token and analysis limits "
	    "from %s applied",
	    relay->config_path);
}

static void
relay_analysis_config(const struct relay_config *c, struct analysis_config *a)
{
	a->workers = c->analysis_workers;
	a->cpu_budget_ms = c->analysis_cpu_budget_ms;
	a->memory_bytes = c->analysis_memory;
	a->timeout_ms = (unsigned)c->analysis_timeout_ms;
	a->queue_max = c->analysis_queue;
	a->backfill_per_minute = c->analysis_backfill;
	a->query_threads = c->analysis_query_threads;
	a->queries_max = c->analysis_queries_max;
	a->wait_for_uploads_ms = c->analysis_wait_for_uploads_ms;
}

static void
relay_on_signal(evutil_socket_t sig, short events, void *arg)
{
	struct relay	*relay = arg;

	(void)events;
	if (sig == SIGHUP) {
		relay_reload(relay);
		return;
	}
	if (relay->is_shutting_down) {
		event_base_loopbreak(relay->base);
		return;
	}
	log_info("%s: shutting down", strsignal((int)sig));
	relay->is_shutting_down = 1;
	/* In-flight uploads are dropped; recorders send them again. */
	ingest_close_all(relay);
	relay->drain_event = daemon_drain(relay->base, relay_is_drained, relay);
}

int
main(int argc, char **argv)
{
	struct daemon_options	 o;
	struct daemon_signals	*signals;
	struct relay		*relay;
	struct event		*retention, *lag_check, *sweep = NULL;
	struct timeval		 sweep_period = { 0, 0 };
	struct timeval		 lag_period = { 0, RELAY_LAG_PERIOD_US };
	struct timeval		 tv = { RELAY_RETENTION_SECONDS, 0 };
	struct analysis_config	 analysis_conf;
	char			 err[8192];
	int			 was_rebuilt = 0;

	/*
	 * Upload data goes through the heap: TLS read-ahead buffers that
	 * OpenSSL frees whenever they empty, evbuffer chains. glibc gave the
	 * top of the heap back after such frees, and mapped buffers of 128
	 * KiB and more apart, and every page came back as a fault, a host
	 * fault on a VM. Keep up to RELAY_HEAP_KEEP free instead.
	 */
	mallopt(M_TRIM_THRESHOLD, RELAY_HEAP_KEEP);
	mallopt(M_MMAP_THRESHOLD, RELAY_HEAP_KEEP / 4);
	/* Children must be ours to wait for, whatever the parent set. */
	signal(SIGCHLD, SIG_DFL);
	/* The analysis's children: the same binary, another job. */
	if (argc > 1 && (strcmp(argv[1], "--analyze") == 0 ||
	    strcmp(argv[1], "--events") == 0))
		return analysis_child_main(argc, argv);
	daemon_options(&o, argc, argv, "tracetrap-relay",
	    RELAY_DEFAULT_CONFIG);
	relay = xcalloc(1, sizeof(*relay));
	relay->ready_fd = o.ready_fd;
	TAILQ_INIT(&relay->conns);
	relay_config_defaults(&relay->conf);
	snprintf(relay->config_path, sizeof(relay->config_path), "%s",
	    o.config_path);
	if (relay_config_load(&relay->conf, o.path, 0, err, sizeof(err))
	    == -1) {
		fprintf(stderr, "%s", err);
		exit(1);
	}
	/*
	 * Relays that share a catalog but not a store each retain (and
	 * analyze) what they stored; on one bucket, retention is the tier's.
	 */
	catalog_set_relay(relay->conf.name,
	    relay->conf.catalog_backend == RELAY_CATALOG_POSTGRESQL &&
	    relay->conf.store_backend == RELAY_STORE_LOCAL);
	if (catalog_address(relay->catalog_path, sizeof(relay->catalog_path),
	    relay->conf.catalog_backend == RELAY_CATALOG_POSTGRESQL,
	    relay->conf.store_catalog_path, relay->conf.catalog_conninfo) ==
	    -1) {
		fprintf(stderr, "%s: [catalog] conninfo is too long\n",
		    o.path);
		exit(1);
	}
	if (o.is_check_only)
		daemon_check_ok();
	daemon_start(&o);

	if ((relay->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (store_open(relay->conf.store_dir, err, sizeof(err)) == -1)
		fatalx("store: %s", err);
	if (store_backend_open(&relay->conf, err, sizeof(err)) == -1)
		fatalx("store: %s", err);
	/* PostgreSQL unreachable: no uploads could be indexed; say so. */
	relay->catalog_writer = catalog_open(relay->catalog_path,
	    relay->conf.store_dir, &was_rebuilt, err, sizeof(err));
	if (relay->catalog_writer == NULL)
		fatalx("%s", err);
	if (err[0] != '\0')
		log_info("%s", err);
	if (was_rebuilt)
		log_warnx("catalog %s was missing or corrupt: rebuilt from the "
		    "store's manifests", relay->conf.store_catalog_path);
	relay->ssl = tls_server_context(relay->conf.listen_tls.ca,
	    relay->conf.listen_tls.cert, relay->conf.listen_tls.key,
	    relay->conf.listen_tls.crl, err, sizeof(err));
	if (relay->ssl == NULL)
		fatalx("TLS: %s", err);
	if (tls_set_ciphersuites(relay->ssl, relay->conf.listen_tls.ciphersuites,
	    err, sizeof(err)) == -1)
		fatalx("TLS: [listen] ciphersuites: %s", err);
	if (tls_context_check(relay->ssl, err, sizeof(err)) == -1)
		log_warnx("TLS: %s: %s", relay->conf.listen_tls.cert, err);
	relay->disk = worker_start(relay->base, "tt-disk");
	/*
	 * S3: bucket writes (a PUT can take seconds) on threads of their
	 * own, so that the disk worker, which every connection's chunks go
	 * through, never waits on the network; and the sweeper.
	 */
	if (store_backend_is_s3())
		relay->bucket = worker_start_threads(relay->base,
		    RELAY_BUCKET_THREADS, "tt-bucket");
	relay_analysis_config(&relay->conf, &analysis_conf);
	if ((relay->analysis = analysis_start(relay->base,
	    relay->conf.store_dir, relay->catalog_path,
	    &analysis_conf, err, sizeof(err))) == NULL)
		fatalx("analysis: %s", err);
	if (ingest_listen(relay, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (api_listen(relay, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (relay->conf.catalog_backend == RELAY_CATALOG_POSTGRESQL &&
	    cluster_start(relay, err, sizeof(err)) == -1)
		fatalx("cluster: %s", err);
	signals = daemon_signals_new(relay->base, relay_on_signal, relay);
	retention = event_new(relay->base, -1, EV_PERSIST, relay_on_retention,
	    relay);
	event_add(retention, &tv);
	lag_check = event_new(relay->base, -1, EV_PERSIST, relay_on_lag_check,
	    relay);
	event_add(lag_check, &lag_period);
	relay_on_retention(-1, 0, relay);
	if (relay->bucket != NULL && was_rebuilt)
		/* A catalog rebuilt from the cache misses what only the
		 * bucket holds: sweeping by it would delete snapshots. */
		log_warnx("store: the catalog was rebuilt from the local "
		    "cache; the bucket's orphan sweeper stays off until a "
		    "restart with a catalog that holds every snapshot");
	else if (relay->bucket != NULL) {
		sweep_period.tv_sec = (time_t)(relay->conf.store_s3_sweep_grace_ms
		    / 6000);
		if (sweep_period.tv_sec < 5)
			sweep_period.tv_sec = 5;
		if (sweep_period.tv_sec > 600)
			sweep_period.tv_sec = 600;
		sweep = event_new(relay->base, -1, EV_PERSIST, relay_on_sweep,
		    relay);
		event_add(sweep, &sweep_period);
	}
	log_info("tracetrap-relay %s: recorders on %s (TLS 1.3, client "
	    "certificates from %s), store %s (%s)", TRACETRAP_VERSION,
	    relay->conf.listen_address, relay->conf.listen_tls.ca,
	    relay->conf.store_dir, store_backend_name());
	daemon_ready(&relay->ready_fd);

	event_base_dispatch(relay->base);

	/* First: the recorders' disconnections are the registry's to drop. */
	cluster_stop(relay);
	ingest_close_all(relay);
	api_close(relay);
	/* Commits first: their last step is a catalog write on the disk. */
	if (relay->bucket != NULL) {
		worker_stop(relay->bucket);
		relay->bucket = NULL;
	}
	/* The disk's last jobs may still hand a snapshot to the analysis. */
	worker_stop(relay->disk);
	analysis_stop(relay->analysis);
	relay->analysis = NULL;
	catalog_close(relay->catalog_writer);
	store_backend_close();
	event_free(retention);
	event_free(lag_check);
	if (sweep != NULL)
		event_free(sweep);
	if (relay->drain_event != NULL)
		event_free(relay->drain_event);
	log_info("event loop: %llu checks, max lag %llu us, %llu over 10 ms; "
	    "uploads: %llu stored, %llu duplicate, %llu refused, %llu cut",
	    (unsigned long long)relay->stats.loop_checks,
	    (unsigned long long)relay->stats.loop_lag_max_us,
	    (unsigned long long)relay->stats.loop_lag_over_10ms,
	    (unsigned long long)relay->stats.uploads_stored,
	    (unsigned long long)relay->stats.uploads_duplicate,
	    (unsigned long long)relay->stats.uploads_refused,
	    (unsigned long long)relay->stats.uploads_aborted);
	daemon_signals_free(signals);
	ingest_free(relay);
	SSL_CTX_free(relay->ssl);
	event_base_free(relay->base);
	log_info("stopped");
	free(relay);
	return 0;
}
