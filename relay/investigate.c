/*
 * The API's investigation answers (DESIGN.md "Investigation"), on top of
 * the catalog and the analysis (analysis.c):
 *
 *   GET /v1/incidents/<id>?requests=N   the incident, its snapshots and
 *                                       each one's summary (N requests
 *                                       each, and those that triggered
 *                                       or were in flight)
 *   GET /v1/snapshots/<id>/summary      summary.json, with the snapshot's
 *                                       bytes and analysis state
 *   GET /v1/snapshots/<id>/events?from=NS&to=NS&vpid=&vtid=&name=&limit=
 *
 * Everything runs on the API's read threads (api_read.c): the catalog
 * lookups, reading summaries and briefs, encoding the answer (megabytes
 * for a big incident); the drill-down then reads the trace in a child
 * process, on the analysis's query threads (analysis.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "analysis.h"
#include "analyze.h"
#include "analyze_http.h"
#include "api.h"
#include "api_read.h"
#include "catalog.h"
#include "http_deferred.h"
#include "http_json.h"
#include "investigate.h"
#include "log.h"
#include "relay.h"
#include "store.h"
#include "store_backend.h"
#include "trace_events.h"
#include "xmalloc.h"

/* Up to this many snapshots, an incident lists all of their requests. */
#define INVESTIGATE_SMALL_INCIDENT	10

/* A request's parameters, and what the read thread found. */
struct investigate {
	struct relay		*relay;		/* the drill-down's, on the loop */
	char			 id[STORE_NAME_MAX];
	char			 store_dir[PATH_MAX];
	long			 requests;	/* ?requests=, or -1 */
	struct trace_query	 q;		/* the drill-down's */
	char			 rel[PATH_MAX];	/* the snapshot, under store_dir */
};

static struct investigate *
investigate_new(struct relay *relay, const char *id)
{
	struct investigate *inv = xcalloc(1, sizeof(*inv));

	inv->relay = relay;
	snprintf(inv->id, sizeof(inv->id), "%s", id);
	/* A copy: a reload may replace the configuration meanwhile. */
	snprintf(inv->store_dir, sizeof(inv->store_dir), "%s",
	    relay->conf.store_dir);
	inv->requests = -1;
	return inv;
}

/*
 * A stored snapshot's summary.json (from the cache or the bucket), or
 * NULL (logged when unreadable).
 */
static json_t *
investigate_load_summary(const struct investigate *inv, const json_t *rel)
{
	json_error_t		 jerr;
	enum store_result	 r;
	char			 err[512], *data;
	size_t			 len;
	json_t			*summary;

	if (!store_is_valid_path(json_string_value(rel)))
		return NULL;
	r = store_read_file(inv->store_dir, json_string_value(rel),
	    ANALYZE_SUMMARY, ANALYZE_SUMMARY_MAX, &data, &len, err,
	    sizeof(err));
	if (r != STORE_OK) {
		if (r != STORE_NOT_FOUND)
			log_warnx("api: %s", err);
		return NULL;
	}
	if ((summary = json_loadb(data, len, 0, &jerr)) == NULL)
		log_warnx("api: %s/%s: %s", json_string_value(rel),
		    ANALYZE_SUMMARY, jerr.text);
	free(data);
	return summary;
}

/* What a cluster incident's snapshots say about the request behind it. */
static json_t *
investigate_cluster(const json_t *snapshots)
{
	const json_t	*s, *labels, *at;
	size_t		 i;

	json_array_foreach(snapshots, i, s) {
		labels = json_object_get(s, "labels");
		at = json_object_get(labels, "requested_at_us");
		if (at == NULL)
			continue;
		return json_pack("{s:I, s:O?, s:O?, s:O?}", "requested_at_us",
		    (json_int_t)(json_is_string(at) ?
		    strtoll(json_string_value(at), NULL, 10) :
		    json_integer_value(at)),
		    "requested_by", json_object_get(labels, "requested_by"),
		    "origin_source", json_object_get(labels, "origin_source"),
		    "reason", json_array_get(json_object_get(s, "reasons"), 0));
	}
	return json_null();
}

/*
 * A snapshot's summary for an incident, its requests cut to max: from
 * its brief in the catalog when that holds enough of them (no
 * summary.json to read and parse), else from its summary.json.
 */
static json_t *
investigate_incident_summary(const struct investigate *inv,
    const json_t *briefs, size_t max, const json_t *s)
{
	const char	*brief;
	json_t		*summary = NULL;

	brief = json_string_value(json_object_get(briefs,
	    json_string_value(json_object_get(s, "id"))));
	if (brief != NULL && max <= ANALYZE_BRIEF_REQUESTS &&
	    (summary = json_loads(brief, 0, NULL)) == NULL)
		log_warnx("api: the catalog's brief of %s is not JSON",
		    json_string_value(json_object_get(s, "id")));
	if (summary == NULL)
		summary = investigate_load_summary(inv,
		    json_object_get(s, "path"));
	if (summary != NULL)
		analyze_trim_requests(summary, max);
	return summary;
}

/* Read thread: the incident, every snapshot's summary in it. */
static void
investigate_read_incident(struct catalog *c, void *arg,
    struct api_answer *ans)
{
	struct investigate	*inv = arg;
	json_t			*incident, *snapshots, *s, *briefs = NULL;
	size_t			 i, max;

	if ((incident = catalog_incident(c, inv->id)) == NULL) {
		api_answer_error(ans, 404, "not_found", "no incident %.128s on "
		    "this relay", inv->id);
		return;
	}
	snapshots = json_object_get(incident, "snapshots");
	/* A small incident lists all of its requests, a big one a page. */
	max = inv->requests >= 0 ? (size_t)inv->requests :
	    json_array_size(snapshots) <= INVESTIGATE_SMALL_INCIDENT ?
	    HTTP_TOP_MAX : ANALYZE_BRIEF_REQUESTS;
	/* Without them (an error, logged), the summaries are read. */
	if (max <= ANALYZE_BRIEF_REQUESTS &&
	    (briefs = catalog_incident_briefs(c, inv->id)) == NULL)
		log_warnx("api: the briefs of incident %s: catalog error",
		    inv->id);
	json_array_foreach(snapshots, i, s)
		json_object_set_new(s, "summary", investigate_incident_summary(
		    inv, briefs, max, s) ?: json_null());
	json_object_set_new(incident, "cluster",
	    investigate_cluster(snapshots));
	json_decref(briefs);
	api_answer_json(ans, 200, incident);
}

/* ?requests=N: -1 when absent; -2 (answered 400) when bad. */
static long
investigate_requests(struct evhttp_request *req)
{
	static const char *const allowed[] = { "requests", NULL };
	struct evkeyvalq	 query;
	const char		*text;
	char			*end, message[80];
	long			 v = -1;

	if (api_query(req, &query, allowed) == -1)
		return -2;
	if ((text = api_query_value(&query, "requests")) != NULL) {
		v = strtol(text, &end, 10);
		if (end == text || *end != '\0' || v < 0 || v > HTTP_TOP_MAX) {
			snprintf(message, sizeof(message), "requests: expected "
			    "an integer from 0 to %d", HTTP_TOP_MAX);
			http_json_error(req, 400, "bad_request", message);
			v = -2;
		}
	}
	evhttp_clear_headers(&query);
	return v;
}

void
investigate_incident(struct relay *relay, struct evhttp_request *req,
    const char *id)
{
	struct investigate	*inv;
	long			 requests;

	if ((requests = investigate_requests(req)) == -2)
		return;
	inv = investigate_new(relay, id);
	inv->requests = requests;
	api_read(relay, req, investigate_read_incident, NULL, inv, free);
}

/* Read thread: the snapshot's summary, with its size and state. */
static void
investigate_read_summary(struct catalog *c, void *arg, struct api_answer *ans)
{
	struct investigate	*inv = arg;
	json_t			*snapshot, *summary;
	const char		*analysis;

	if ((snapshot = catalog_snapshot(c, inv->id)) == NULL) {
		api_answer_error(ans, 404, "not_found", "no snapshot %.128s on "
		    "this relay", inv->id);
		return;
	}
	summary = investigate_load_summary(inv,
	    json_object_get(snapshot, "path"));
	analysis = json_string_value(json_object_get(snapshot, "analysis"));
	if (summary == NULL && analysis != NULL &&
	    strcmp(analysis, "pending") == 0)
		api_answer_error(ans, 503, "pending", "this snapshot's "
		    "analysis has not finished yet");
	else if (summary == NULL)
		api_answer_error(ans, 404, "no_summary", "this snapshot has no "
		    "summary (its analysis failed or its summary.json is "
		    "missing; the relay's log says why)");
	else {
		json_object_set(summary, "bytes", json_object_get(snapshot,
		    "bytes"));
		json_object_set(summary, "analysis", json_object_get(snapshot,
		    "analysis"));
		json_object_set(summary, "path", json_object_get(snapshot,
		    "path"));
		api_answer_json(ans, 200, summary);
	}
	json_decref(snapshot);
}

void
investigate_summary(struct relay *relay, struct evhttp_request *req,
    const char *id)
{
	api_read(relay, req, investigate_read_summary, NULL,
	    investigate_new(relay, id), free);
}

/* Loop: the trace read, in a child. */
static void
investigate_events_done(void *arg, json_t *answer, int status,
    const char *error)
{
	struct http_deferred *reply = arg;

	if (answer == NULL)
		http_deferred_error(reply, status, status == 422 ?
		    "unreadable" : status == 503 ? "store_unavailable" :
		    status == 404 ? "not_found" :
		    "internal", error);
	else
		http_deferred_reply(reply, 200, answer);
}

/* Read thread: where the snapshot is. */
static void
investigate_read_path(struct catalog *c, void *arg, struct api_answer *ans)
{
	struct investigate	*inv = arg;
	json_t			*snapshot;

	if ((snapshot = catalog_snapshot(c, inv->id)) == NULL) {
		api_answer_error(ans, 404, "not_found", "no snapshot %.128s on "
		    "this relay", inv->id);
		return;
	}
	snprintf(inv->rel, sizeof(inv->rel), "%s", json_string_value(
	    json_object_get(snapshot, "path")) ?: "");
	json_decref(snapshot);
	ans->status = 200;
}

/* Loop: then the drill-down, on the analysis's query threads. */
static void
investigate_path_found(struct evhttp_request *req, void *arg,
    struct api_answer *ans)
{
	struct investigate	*inv = arg;
	struct http_deferred	*reply;

	if (ans->status != 200) {
		http_json_error(req, ans->status, ans->error, ans->message);
		return;
	}
	if ((reply = http_deferred_new(req)) == NULL) {
		http_json_error(req, 500, "internal", "out of memory");
		return;
	}
	if (analysis_events(inv->relay->analysis, inv->rel, &inv->q,
	    investigate_events_done, reply) == -1) {
		http_deferred_cancel(reply);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		http_json_error(req, 503, "busy", "too many trace queries at "
		    "once; retry in a moment");
	}
}

/* An integer query value within [min, max]; -1 (reply sent) if bad. */
static int
investigate_int(struct evhttp_request *req, struct evkeyvalq *query,
    const char *key, int64_t min, int64_t max, int64_t *v)
{
	const char	*text = evhttp_find_header(query, key);
	char		*end, message[160];

	if (text == NULL || text[0] == '\0')
		return 0;
	*v = strtoll(text, &end, 10);
	if (end == text || *end != '\0' || *v < min || *v > max) {
		snprintf(message, sizeof(message), "%s: expected an integer "
		    "from %" PRId64 " to %" PRId64, key, min, max);
		http_json_error(req, 400, "bad_request", message);
		return -1;
	}
	return 0;
}

void
investigate_events(struct relay *relay, struct evhttp_request *req,
    const char *id)
{
	static const char *const allowed[] = { "from", "to", "vpid", "vtid",
	    "name", "limit", NULL };
	struct investigate	*inv;
	struct trace_query	 q;
	struct evkeyvalq	 query;
	const char		*name;
	int64_t			 limit = TRACE_EVENTS_LIMIT_DEFAULT;

	if (api_query(req, &query, allowed) == -1)
		return;
	trace_query_init(&q);
	if (investigate_int(req, &query, "from", 0, INT64_MAX,
	    &q.from_ns) == -1 ||
	    investigate_int(req, &query, "to", 0, INT64_MAX, &q.to_ns) == -1 ||
	    investigate_int(req, &query, "vpid", 0, INT32_MAX, &q.vpid) == -1 ||
	    investigate_int(req, &query, "vtid", 0, INT32_MAX, &q.vtid) == -1 ||
	    investigate_int(req, &query, "limit", 1, TRACE_EVENTS_LIMIT_MAX,
	    &limit) == -1)
		goto end;
	q.limit = (size_t)limit;
	if ((name = evhttp_find_header(&query, "name")) != NULL) {
		if (strlen(name) >= sizeof(q.name)) {
			http_json_error(req, 400, "bad_request", "name: at most "
			    "255 bytes");
			goto end;
		}
		snprintf(q.name, sizeof(q.name), "%s", name);
	}
	inv = investigate_new(relay, id);
	inv->q = q;
	api_read(relay, req, investigate_read_path, investigate_path_found,
	    inv, free);
end:
	evhttp_clear_headers(&query);
}
