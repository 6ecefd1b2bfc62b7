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
 * The catalog lookups run on the loop (bounded, as api.c's); reading
 * summaries and encoding the answer (megabytes for a big incident) run
 * on the analysis's query threads, reading traces in child processes,
 * and the reply follows (lib/http_deferred.c).
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
#include "http_deferred.h"
#include "http_json.h"
#include "investigate.h"
#include "log.h"
#include "relay.h"
#include "store.h"
#include "trace_events.h"

/* Up to this many snapshots, an incident lists all of their requests. */
#define INVESTIGATE_SMALL_INCIDENT	10

struct investigate {
	struct http_deferred	*reply;
	json_t			*object;	/* the incident or the snapshot */
	json_t			*briefs;	/* an incident's, by snapshot id */
	char			 store_dir[PATH_MAX];
	size_t			 requests_max;	/* per snapshot, incidents */
	/* Made on the thread: */
	int			 status;
	char			*text;
	size_t			 len;
	char			 error[64];
	char			 message[256];
};

static void
investigate_busy(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Retry-After", "1");
	http_json_error(req, 503, "busy", "too many trace queries at once; "
	    "retry in a moment");
}

static struct investigate *
investigate_new(struct relay *relay, struct evhttp_request *req,
    json_t *object)
{
	struct investigate *inv;

	if ((inv = calloc(1, sizeof(*inv))) == NULL ||
	    (inv->reply = http_deferred_new(req)) == NULL) {
		free(inv);
		json_decref(object);
		http_json_error(req, 500, "internal", "out of memory");
		return NULL;
	}
	inv->object = object;
	/* A copy: a reload may replace the configuration meanwhile. */
	snprintf(inv->store_dir, sizeof(inv->store_dir), "%s",
	    relay->conf.store_dir);
	return inv;
}

static void
investigate_free(struct investigate *inv)
{
	json_decref(inv->object);
	json_decref(inv->briefs);
	free(inv->text);
	free(inv);
}

/* Hands inv to a query thread: run there, then the reply on the loop. */
static void
investigate_done(void *arg)
{
	struct investigate	*inv = arg;
	struct evhttp_request	*req;

	if (inv->text != NULL) {
		http_deferred_send(inv->reply, inv->status, inv->text,
		    inv->len);
		inv->text = NULL;
	} else {
		if (inv->status == 503 &&
		    (req = http_deferred_request(inv->reply)) != NULL)
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Retry-After", "2");
		http_deferred_error(inv->reply, inv->status, inv->error,
		    inv->message);
	}
	investigate_free(inv);
}

static void
investigate_submit(struct relay *relay, struct evhttp_request *req,
    struct investigate *inv, void (*run)(void *))
{
	if (analysis_query(relay->analysis, run, investigate_done, inv) ==
	    -1) {
		http_deferred_cancel(inv->reply);
		investigate_free(inv);
		investigate_busy(req);
	}
}

/* On the thread: the answer as text, or a 500. */
static void
investigate_encode(struct investigate *inv, const json_t *answer)
{
	inv->status = 200;
	if ((inv->text = http_json_encode(answer, &inv->len)) == NULL) {
		inv->status = 500;
		snprintf(inv->error, sizeof(inv->error), "internal");
		snprintf(inv->message, sizeof(inv->message), "cannot encode "
		    "the answer");
	}
}

/* A stored snapshot's summary.json, or NULL (logged when unreadable). */
static json_t *
investigate_load_summary(const struct investigate *inv, const json_t *rel)
{
	char	 path[PATH_MAX * 2 + 32], err[512];
	json_t	*summary;

	if (!store_is_valid_path(json_string_value(rel)))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s/%s", inv->store_dir,
	    json_string_value(rel), ANALYZE_SUMMARY);
	if ((summary = analyze_load_json(path, ANALYZE_SUMMARY_MAX, err,
	    sizeof(err))) == NULL && errno != ENOENT)
		log_warnx("api: %s", err);
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
investigate_incident_summary(const struct investigate *inv, const json_t *s)
{
	const char	*brief;
	json_t		*summary = NULL;

	brief = json_string_value(json_object_get(inv->briefs,
	    json_string_value(json_object_get(s, "id"))));
	if (brief != NULL && inv->requests_max <= ANALYZE_BRIEF_REQUESTS &&
	    (summary = json_loads(brief, 0, NULL)) == NULL)
		log_warnx("api: the catalog's brief of %s is not JSON",
		    json_string_value(json_object_get(s, "id")));
	if (summary == NULL)
		summary = investigate_load_summary(inv,
		    json_object_get(s, "path"));
	if (summary != NULL)
		analyze_trim_requests(summary, inv->requests_max);
	return summary;
}

/* Query thread: every snapshot's summary into the incident, encoded. */
static void
investigate_incident_run(void *arg)
{
	struct investigate	*inv = arg;
	json_t			*snapshots, *s, *summary;
	size_t			 i;

	snapshots = json_object_get(inv->object, "snapshots");
	json_array_foreach(snapshots, i, s) {
		summary = investigate_incident_summary(inv, s);
		json_object_set_new(s, "summary", summary ?: json_null());
	}
	json_object_set_new(inv->object, "cluster",
	    investigate_cluster(snapshots));
	investigate_encode(inv, inv->object);
}

/*
 * The requests listed per snapshot: ?requests=N, else all of them
 * (HTTP_TOP_MAX) in a small incident and ANALYZE_BRIEF_REQUESTS in a
 * bigger one, so that a 50-node incident stays a page's worth.
 */
static int
investigate_requests_max(struct evhttp_request *req, size_t nsnapshots,
    size_t *max)
{
	static const char *const allowed[] = { "requests", NULL };
	struct evkeyvalq	 query;
	const char		*text;
	char			*end, message[80];
	long			 v;
	int			 rc = 0;

	if (api_query(req, &query, allowed) == -1)
		return -1;
	*max = nsnapshots <= INVESTIGATE_SMALL_INCIDENT ? HTTP_TOP_MAX :
	    ANALYZE_BRIEF_REQUESTS;
	if ((text = api_query_value(&query, "requests")) != NULL) {
		v = strtol(text, &end, 10);
		if (end == text || *end != '\0' || v < 0 || v > HTTP_TOP_MAX) {
			snprintf(message, sizeof(message), "requests: expected "
			    "an integer from 0 to %d", HTTP_TOP_MAX);
			http_json_error(req, 400, "bad_request", message);
			rc = -1;
		} else
			*max = (size_t)v;
	}
	evhttp_clear_headers(&query);
	return rc;
}

void
investigate_incident(struct relay *relay, struct evhttp_request *req,
    const char *id)
{
	struct investigate	*inv;
	json_t			*incident;
	char			 message[256];
	size_t			 max;

	if ((incident = catalog_incident(relay->catalog, id)) == NULL) {
		snprintf(message, sizeof(message), "no incident %.128s on "
		    "this relay", id);
		http_json_error(req, 404, "not_found", message);
		return;
	}
	if (investigate_requests_max(req, json_array_size(json_object_get(
	    incident, "snapshots")), &max) == -1) {
		json_decref(incident);
		return;
	}
	if ((inv = investigate_new(relay, req, incident)) == NULL)
		return;
	inv->requests_max = max;
	/* Without them (an error, logged), the summaries are read. */
	if (max <= ANALYZE_BRIEF_REQUESTS &&
	    (inv->briefs = catalog_incident_briefs(relay->catalog, id)) == NULL)
		log_warnx("api: the briefs of incident %s: catalog error", id);
	investigate_submit(relay, req, inv, investigate_incident_run);
}

/* Query thread: the snapshot's summary, with its size and state. */
static void
investigate_summary_run(void *arg)
{
	struct investigate	*inv = arg;
	json_t			*summary;
	const char		*analysis;

	summary = investigate_load_summary(inv,
	    json_object_get(inv->object, "path"));
	analysis = json_string_value(json_object_get(inv->object, "analysis"));
	if (summary == NULL && analysis != NULL &&
	    strcmp(analysis, "pending") == 0) {
		inv->status = 503;
		snprintf(inv->error, sizeof(inv->error), "pending");
		snprintf(inv->message, sizeof(inv->message), "this snapshot's "
		    "analysis has not finished yet");
	} else if (summary == NULL) {
		inv->status = 404;
		snprintf(inv->error, sizeof(inv->error), "no_summary");
		snprintf(inv->message, sizeof(inv->message), "this snapshot "
		    "has no summary (its analysis failed or its summary.json "
		    "is missing; the relay's log says why)");
	} else {
		json_object_set(summary, "bytes", json_object_get(inv->object,
		    "bytes"));
		json_object_set(summary, "analysis", json_object_get(
		    inv->object, "analysis"));
		json_object_set(summary, "path", json_object_get(inv->object,
		    "path"));
		investigate_encode(inv, summary);
		json_decref(summary);
	}
}

void
investigate_summary(struct relay *relay, struct evhttp_request *req,
    const char *id)
{
	struct investigate	*inv;
	json_t			*snapshot;
	char			 message[256];

	if ((snapshot = catalog_snapshot(relay->catalog, id)) == NULL) {
		snprintf(message, sizeof(message), "no snapshot %.128s on "
		    "this relay", id);
		http_json_error(req, 404, "not_found", message);
		return;
	}
	if ((inv = investigate_new(relay, req, snapshot)) != NULL)
		investigate_submit(relay, req, inv, investigate_summary_run);
}

static void
investigate_events_done(void *arg, json_t *answer, int status,
    const char *error)
{
	struct investigate *inv = arg;

	if (answer == NULL)
		http_deferred_error(inv->reply, status, status == 422 ?
		    "unreadable" : "internal", error);
	else
		http_deferred_reply(inv->reply, 200, answer);
	investigate_free(inv);
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
	json_t			*snapshot;
	const char		*name;
	char			 message[256];
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
	if ((snapshot = catalog_snapshot(relay->catalog, id)) == NULL) {
		snprintf(message, sizeof(message), "no snapshot %.128s on "
		    "this relay", id);
		http_json_error(req, 404, "not_found", message);
		goto end;
	}
	if ((inv = investigate_new(relay, req, snapshot)) == NULL)
		goto end;
	if (analysis_events(relay->analysis, json_string_value(
	    json_object_get(snapshot, "path")), &q, investigate_events_done,
	    inv) == -1) {
		http_deferred_cancel(inv->reply);
		investigate_free(inv);
		investigate_busy(req);
	}
end:
	evhttp_clear_headers(&query);
}
