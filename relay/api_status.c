/*
 * The relay's own state on its API: GET /v1/status (JSON) and GET
 * /metrics (Prometheus text): connections, uploads, the event loop's
 * lag, the store, the API, and the analysis (analysis.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "analysis.h"
#include "api.h"
#include "download.h"
#include "http_json.h"
#include "log.h"
#include "relay.h"
#include "store_backend.h"

static json_t *
api_status_analysis(struct relay *relay)
{
	struct analysis_stats st;

	analysis_get_stats(relay->analysis, &st);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i, s:I, s:I, "
	    "s:{s:I, s:I, s:I, s:I}}",
	    "submitted", (json_int_t)st.submitted,
	    "dropped", (json_int_t)st.dropped, "done", (json_int_t)st.done,
	    "failed", (json_int_t)st.failed,
	    "backfilled", (json_int_t)st.backfilled,
	    "queued", (int)st.queued, "running", (int)st.running,
	    "waiting_for_uploads", (int)st.waiting,
	    "queries", (json_int_t)st.queries,
	    "queries_refused", (json_int_t)st.queries_refused,
	    "ready_after_ack_ms", "p50", (json_int_t)st.ready_p50_ms,
	    "p99", (json_int_t)st.ready_p99_ms,
	    "max", (json_int_t)st.ready_max_ms,
	    "count", (json_int_t)st.ready_count);
}

void
api_status_reply(struct relay *relay, struct evhttp_request *req,
    uint64_t requests, uint64_t unauthorized, int64_t store_bytes)
{
	struct relay_stats	*st = &relay->stats;
	const struct download_stats *dl = download_stats();
	json_t			*stats, *store, *http;

	stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I}",
	    "connections", (json_int_t)st->connections,
	    "handshakes_failed", (json_int_t)st->handshakes_failed,
	    "protocol_errors", (json_int_t)st->protocol_errors,
	    "uploads_stored", (json_int_t)st->uploads_stored,
	    "uploads_duplicate", (json_int_t)st->uploads_duplicate,
	    "uploads_refused", (json_int_t)st->uploads_refused,
	    "uploads_aborted", (json_int_t)st->uploads_aborted,
	    "bytes_received", (json_int_t)st->bytes_received,
	    "incidents", (json_int_t)st->incidents,
	    "incidents_rate_limited", (json_int_t)st->incidents_rate_limited,
	    "loop_lag_max_us", (json_int_t)st->loop_lag_max_us,
	    "loop_lag_over_10ms", (json_int_t)st->loop_lag_over_10ms,
	    "loop_checks", (json_int_t)st->loop_checks);
	store = json_pack("{s:s, s:I, s:I}", "dir", relay->conf.store_dir,
	    "bytes", (json_int_t)store_bytes,
	    "max_bytes", (json_int_t)relay->conf.store_max_bytes);
	store_backend_status(store);
	http = json_pack("{s:I, s:I, s:I, s:I, s:i}",
	    "requests", (json_int_t)requests,
	    "unauthorized", (json_int_t)unauthorized,
	    "archives", (json_int_t)dl->archives,
	    "archive_bytes", (json_int_t)dl->archive_bytes,
	    "transfers", (int)dl->active);
	http_json_reply(req, 200, json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, "
	    "s:o, s:o, s:o}", "name", relay->conf.name, "version",
	    TRACETRAP_VERSION,
	    "connections", (int)relay->nconns, "stats", stats,
	    "store", store, "api", http,
	    "analysis", api_status_analysis(relay),
	    "ingest", ingest_status(relay),
	    /* null with SQLite: the relay is the whole fleet. */
	    "cluster", cluster_status(relay)));
}

static void
api_metrics_analysis(struct relay *relay, struct evbuffer *b)
{
	struct analysis_stats st;

	analysis_get_stats(relay->analysis, &st);
	evbuffer_add_printf(b,
	    "# HELP tracetrap_relay_analyses_total Snapshots analyzed, by "
	    "result (failed: the trace could not be read).\n"
	    "# TYPE tracetrap_relay_analyses_total counter\n"
	    "tracetrap_relay_analyses_total{result=\"done\"} %" PRIu64 "\n"
	    "tracetrap_relay_analyses_total{result=\"failed\"} %" PRIu64 "\n"
	    "# HELP tracetrap_relay_analyses_dropped_total New snapshots not "
	    "queued (queue full); the backfill analyzes them later.\n"
	    "# TYPE tracetrap_relay_analyses_dropped_total counter\n"
	    "tracetrap_relay_analyses_dropped_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_analyses_backfilled_total Snapshots "
	    "analyzed by the backfill.\n"
	    "# TYPE tracetrap_relay_analyses_backfilled_total counter\n"
	    "tracetrap_relay_analyses_backfilled_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_analyses_queued New snapshots waiting "
	    "for analysis.\n# TYPE tracetrap_relay_analyses_queued gauge\n"
	    "tracetrap_relay_analyses_queued %u\n"
	    "# HELP tracetrap_relay_analyses_running Analyses running.\n"
	    "# TYPE tracetrap_relay_analyses_running gauge\n"
	    "tracetrap_relay_analyses_running %u\n"
	    "# HELP tracetrap_relay_analyses_waiting_for_uploads New "
	    "snapshots whose analysis waits for uploads to end "
	    "([analysis] wait_for_uploads).\n"
	    "# TYPE tracetrap_relay_analyses_waiting_for_uploads gauge\n"
	    "tracetrap_relay_analyses_waiting_for_uploads %u\n"
	    "# HELP tracetrap_relay_analysis_ready_p50_seconds From a "
	    "snapshot's ACK to its summary in the catalog, median since "
	    "start.\n"
	    "# TYPE tracetrap_relay_analysis_ready_p50_seconds gauge\n"
	    "tracetrap_relay_analysis_ready_p50_seconds %.3f\n"
	    "# HELP tracetrap_relay_analysis_ready_p99_seconds The same, 99th "
	    "percentile.\n"
	    "# TYPE tracetrap_relay_analysis_ready_p99_seconds gauge\n"
	    "tracetrap_relay_analysis_ready_p99_seconds %.3f\n"
	    "# HELP tracetrap_relay_analysis_ready_measured_total New "
	    "snapshots those figures cover.\n"
	    "# TYPE tracetrap_relay_analysis_ready_measured_total counter\n"
	    "tracetrap_relay_analysis_ready_measured_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_trace_queries_total Drill-downs and "
	    "summary reads, by result.\n"
	    "# TYPE tracetrap_relay_trace_queries_total counter\n"
	    "tracetrap_relay_trace_queries_total{result=\"run\"} %" PRIu64
	    "\n"
	    "tracetrap_relay_trace_queries_total{result=\"refused\"} %"
	    PRIu64 "\n",
	    st.done, st.failed, st.dropped, st.backfilled, st.queued,
	    st.running, st.waiting, (double)st.ready_p50_ms / 1e3,
	    (double)st.ready_p99_ms / 1e3, st.ready_count, st.queries,
	    st.queries_refused);
}

void
api_metrics_reply(struct relay *relay, struct evhttp_request *req,
    uint64_t requests, uint64_t unauthorized, int64_t store_bytes)
{
	struct relay_stats	*st = &relay->stats;
	const struct download_stats *dl = download_stats();
	struct evbuffer		*b = evbuffer_new();

	if (b == NULL)
		fatalx("evbuffer_new");
	evbuffer_add_printf(b,
	    "# HELP tracetrap_relay_connections Recorder connections open.\n"
	    "# TYPE tracetrap_relay_connections gauge\n"
	    "tracetrap_relay_connections %u\n"
	    "# HELP tracetrap_relay_connections_total Recorder connections "
	    "accepted.\n# TYPE tracetrap_relay_connections_total counter\n"
	    "tracetrap_relay_connections_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_handshakes_failed_total TLS handshakes "
	    "or certificates refused.\n"
	    "# TYPE tracetrap_relay_handshakes_failed_total counter\n"
	    "tracetrap_relay_handshakes_failed_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_protocol_errors_total Connections dropped "
	    "for a malformed or out-of-order frame.\n"
	    "# TYPE tracetrap_relay_protocol_errors_total counter\n"
	    "tracetrap_relay_protocol_errors_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_uploads_total Snapshot uploads by "
	    "result.\n# TYPE tracetrap_relay_uploads_total counter\n"
	    "tracetrap_relay_uploads_total{result=\"stored\"} %" PRIu64 "\n"
	    "tracetrap_relay_uploads_total{result=\"duplicate\"} %" PRIu64 "\n"
	    "tracetrap_relay_uploads_total{result=\"refused\"} %" PRIu64 "\n"
	    "tracetrap_relay_uploads_total{result=\"aborted\"} %" PRIu64 "\n"
	    "# HELP tracetrap_relay_received_bytes_total Snapshot file bytes "
	    "received.\n# TYPE tracetrap_relay_received_bytes_total counter\n"
	    "tracetrap_relay_received_bytes_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_incidents_total Cluster incidents fanned "
	    "out.\n# TYPE tracetrap_relay_incidents_total counter\n"
	    "tracetrap_relay_incidents_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_incidents_rate_limited_total Cluster "
	    "triggers refused by the fleet budget.\n"
	    "# TYPE tracetrap_relay_incidents_rate_limited_total counter\n"
	    "tracetrap_relay_incidents_rate_limited_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_loop_lag_max_seconds The longest the event "
	    "loop ran a 100 ms timer late.\n"
	    "# TYPE tracetrap_relay_loop_lag_max_seconds gauge\n"
	    "tracetrap_relay_loop_lag_max_seconds %.6f\n"
	    "# HELP tracetrap_relay_loop_lag_over_10ms_total Timer runs more "
	    "than 10 ms late.\n"
	    "# TYPE tracetrap_relay_loop_lag_over_10ms_total counter\n"
	    "tracetrap_relay_loop_lag_over_10ms_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_store_bytes Bytes of the stored "
	    "snapshots.\n# TYPE tracetrap_relay_store_bytes gauge\n"
	    "tracetrap_relay_store_bytes %" PRIu64 "\n"
	    "# HELP tracetrap_relay_store_max_bytes The store's size cap.\n"
	    "# TYPE tracetrap_relay_store_max_bytes gauge\n"
	    "tracetrap_relay_store_max_bytes %" PRIu64 "\n"
	    "# HELP tracetrap_relay_api_requests_total HTTP API requests.\n"
	    "# TYPE tracetrap_relay_api_requests_total counter\n"
	    "tracetrap_relay_api_requests_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_api_unauthorized_total HTTP API requests "
	    "refused for a missing or wrong token.\n"
	    "# TYPE tracetrap_relay_api_unauthorized_total counter\n"
	    "tracetrap_relay_api_unauthorized_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_api_archives_total Snapshot archives sent "
	    "whole.\n# TYPE tracetrap_relay_api_archives_total counter\n"
	    "tracetrap_relay_api_archives_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_api_archive_bytes_total Archive bytes "
	    "sent.\n# TYPE tracetrap_relay_api_archive_bytes_total counter\n"
	    "tracetrap_relay_api_archive_bytes_total %" PRIu64 "\n"
	    "# HELP tracetrap_relay_api_transfers Manifests and archives "
	    "being sent.\n# TYPE tracetrap_relay_api_transfers gauge\n"
	    "tracetrap_relay_api_transfers %u\n",
	    relay->nconns, st->connections, st->handshakes_failed,
	    st->protocol_errors, st->uploads_stored, st->uploads_duplicate,
	    st->uploads_refused, st->uploads_aborted, st->bytes_received,
	    st->incidents, st->incidents_rate_limited,
	    (double)st->loop_lag_max_us / 1e6, st->loop_lag_over_10ms,
	    (uint64_t)store_bytes, relay->conf.store_max_bytes,
	    requests, unauthorized, dl->archives,
	    dl->archive_bytes, dl->active);
	api_metrics_analysis(relay, b);
	store_backend_metrics(b);
	ingest_metrics(relay, b);
	http_json_metrics(req, b);
}

