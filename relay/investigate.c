/*
 * The API's investigation answers (DESIGN.md "Investigation"), on top of
 * the catalog and the analysis (analysis.c):
 *
 *   GET /v1/incidents/<id>              the incident, its snapshots and
 *                                       each one's summary
 *   GET /v1/snapshots/<id>/summary      summary.json, with the snapshot's
 *                                       bytes and analysis state
 *   GET /v1/snapshots/<id>/events?from=NS&to=NS&vpid=&vtid=&name=&limit=
 *
 * The catalog lookups run on the loop (bounded, as api.c's); reading
 * summaries and traces runs on the analysis's query threads, the traces
 * in child processes, and the reply follows (lib/http_deferred.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "analysis.h"
#include "api.h"
#include "http_deferred.h"
#include "http_json.h"
#include "investigate.h"
#include "log.h"
#include "relay.h"
#include "trace_events.h"

struct investigate {
	struct http_deferred	*reply;
	json_t			*object;	/* the incident or the snapshot */
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
investigate_new(struct evhttp_request *req, json_t *object)
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
	return inv;
}

static void
investigate_free(struct investigate *inv)
{
	json_decref(inv->object);
	free(inv);
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

static void
investigate_incident_done(void *arg, json_t *summaries, int status,
    const char *error)
{
	struct investigate	*inv = arg;
	json_t			*snapshots, *s;
	size_t			 i;

	if (summaries == NULL) {
		http_deferred_error(inv->reply, status, "internal", error);
		investigate_free(inv);
		return;
	}
	snapshots = json_object_get(inv->object, "snapshots");
	json_array_foreach(snapshots, i, s)
		json_object_set(s, "summary", json_array_get(summaries, i) ?:
		    json_null());
	json_object_set_new(inv->object, "cluster",
	    investigate_cluster(snapshots));
	json_decref(summaries);
	http_deferred_reply(inv->reply, 200, json_incref(inv->object));
	investigate_free(inv);
}

void
investigate_incident(struct relay *relay, struct evhttp_request *req,
    const char *id)
{
	struct investigate	*inv;
	json_t			*incident, *paths, *s;
	char			 message[256];
	size_t			 i;

	if ((incident = catalog_incident(relay->catalog, id)) == NULL) {
		snprintf(message, sizeof(message), "no incident %.128s on "
		    "this relay", id);
		http_json_error(req, 404, "not_found", message);
		return;
	}
	paths = json_array();
	json_array_foreach(json_object_get(incident, "snapshots"), i, s)
		json_array_append(paths, json_object_get(s, "path"));
	if ((inv = investigate_new(req, incident)) == NULL) {
		json_decref(paths);
		return;
	}
	if (analysis_read_summaries(relay->analysis, paths,
	    investigate_incident_done, inv) == -1) {
		http_deferred_cancel(inv->reply);
		investigate_free(inv);
		investigate_busy(req);
	}
	json_decref(paths);
}

static void
investigate_summary_done(void *arg, json_t *summaries, int status,
    const char *error)
{
	struct investigate	*inv = arg;
	json_t			*summary = json_array_get(summaries, 0);
	const char		*analysis;
	struct evhttp_request	*req;

	analysis = json_string_value(json_object_get(inv->object, "analysis"));
	if (summaries == NULL)
		http_deferred_error(inv->reply, status, "internal", error);
	else if (!json_is_object(summary) && analysis != NULL &&
	    strcmp(analysis, "pending") == 0) {
		if ((req = http_deferred_request(inv->reply)) != NULL)
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Retry-After", "2");
		http_deferred_error(inv->reply, 503, "pending", "this "
		    "snapshot's analysis has not finished yet");
	} else if (!json_is_object(summary))
		http_deferred_error(inv->reply, 404, "no_summary", "this "
		    "snapshot has no summary (its analysis failed or its "
		    "summary.json is missing; the relay's log says why)");
	else {
		json_object_set(summary, "bytes", json_object_get(inv->object,
		    "bytes"));
		json_object_set(summary, "analysis", json_object_get(
		    inv->object, "analysis"));
		json_object_set(summary, "path", json_object_get(inv->object,
		    "path"));
		http_deferred_reply(inv->reply, 200, json_incref(summary));
	}
	json_decref(summaries);
	investigate_free(inv);
}

void
investigate_summary(struct relay *relay, struct evhttp_request *req,
    const char *id)
{
	struct investigate	*inv;
	json_t			*snapshot, *paths;
	char			 message[256];

	if ((snapshot = catalog_snapshot(relay->catalog, id)) == NULL) {
		snprintf(message, sizeof(message), "no snapshot %.128s on "
		    "this relay", id);
		http_json_error(req, 404, "not_found", message);
		return;
	}
	paths = json_pack("[O]", json_object_get(snapshot, "path"));
	if ((inv = investigate_new(req, snapshot)) == NULL) {
		json_decref(paths);
		return;
	}
	if (analysis_read_summaries(relay->analysis, paths,
	    investigate_summary_done, inv) == -1) {
		http_deferred_cancel(inv->reply);
		investigate_free(inv);
		investigate_busy(req);
	}
	json_decref(paths);
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
	if ((inv = investigate_new(req, snapshot)) == NULL)
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
