/*
 * control.sock: HTTP/1.1 + JSON over a Unix socket (libevent evhttp).
 *
 * Every request's peer is read with SO_PEERCRED. Reading calls are open to
 * whoever may connect (the socket's mode and group decide that); mutating
 * calls need uid 0 or membership of [control] group. Every error is JSON
 * {"error":CODE,"message":TEXT}.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tracetrap.h"
#include "http_deferred.h"
#include "http_json.h"
#include "log.h"
#include "metrics.h"
#include "recorder.h"
#include "xmalloc.h"

#define CONTROL_BODY_MAX	(64 * 1024)
/* evhttp's own cap: above ours, so we answer oversized bodies in JSON. */
#define CONTROL_HTTP_BODY_MAX	(1024 * 1024)

struct control {
	struct recorder		*rec;
	struct evhttp		*http;
	int			 fd;
};

/* The recorder's counters: "counters" in /v1/status, and /metrics. */
static const struct metric control_counters[] = {
	METRIC_COUNTER(struct recorder_stats, datagrams,
	    "tracetrap_datagrams_total", NULL,
	    "Datagrams read on trigger.sock."),
	METRIC_COUNTER(struct recorder_stats, datagrams_malformed,
	    "tracetrap_datagrams_malformed_total", NULL,
	    "Datagrams dropped as malformed (oversized included)."),
	METRIC_COUNTER(struct recorder_stats, datagrams_oversized,
	    "tracetrap_datagrams_oversized_total", NULL,
	    "Datagrams dropped for their size."),
	METRIC_COUNTER(struct recorder_stats, snapshots_recorded,
	    "tracetrap_snapshots_total", "result=\"recorded\"",
	    "Snapshots by result."),
	METRIC_COUNTER(struct recorder_stats, snapshots_failed,
	    "tracetrap_snapshots_total", "result=\"failed\"",
	    "Snapshots by result."),
	METRIC_COUNTER(struct recorder_stats, session_setups,
	    "tracetrap_session_setups_total", NULL,
	    "LTTng sessions set up (at start, after the session daemon "
	    "came back)."),
	METRIC_COUNTER(struct recorder_stats, control_denied,
	    "tracetrap_control_denied_total", NULL,
	    "Control socket clients refused by their credentials."),
};

/* What /metrics shows of the session and the spool. */
struct control_gauges {
	uint64_t	 session_up;
	uint64_t	 kernel_tracing;
	uint64_t	 spool_bytes;
	uint64_t	 spool_max_bytes;
	uint64_t	 spool_snapshots;
	uint64_t	 evicted_uploaded;
	uint64_t	 evicted_not_uploaded;
};

static const struct metric control_gauge_rows[] = {
	METRIC_GAUGE(struct control_gauges, session_up,
	    "tracetrap_session_up", NULL,
	    "1 when the LTTng session records."),
	METRIC_GAUGE(struct control_gauges, kernel_tracing,
	    "tracetrap_kernel_tracing", NULL,
	    "1 when the session records kernel events too."),
	METRIC_GAUGE(struct control_gauges, spool_bytes,
	    "tracetrap_spool_bytes", NULL,
	    "Bytes of snapshots in the spool."),
	METRIC_GAUGE(struct control_gauges, spool_max_bytes,
	    "tracetrap_spool_max_bytes", NULL,
	    "The spool's bound ([spool] max_bytes)."),
	METRIC_GAUGE(struct control_gauges, spool_snapshots,
	    "tracetrap_spool_snapshots", NULL,
	    "Snapshots in the spool."),
	METRIC_COUNTER(struct control_gauges, evicted_uploaded,
	    "tracetrap_spool_evicted_total", "uploaded=\"yes\"",
	    "Snapshots evicted to keep the spool bound."),
	METRIC_COUNTER(struct control_gauges, evicted_not_uploaded,
	    "tracetrap_spool_evicted_total", "uploaded=\"no\"",
	    "Snapshots evicted to keep the spool bound."),
};

/* A ?wait=1 request parked on a snapshot until it finishes. */
struct control_wait {
	struct http_deferred		*reply;
	struct snapshot			*snap;
	int				 is_joined;
};

/* Returns the connection's fd with its peer's credentials, or -1. */
static int
control_peer(struct evhttp_request *req, struct ucred *cred)
{
	struct evhttp_connection	*conn;
	struct bufferevent		*bev;
	socklen_t			 len = sizeof(*cred);
	int				 fd;

	conn = evhttp_request_get_connection(req);
	if (conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(conn)) == NULL)
		return -1;
	fd = bufferevent_getfd(bev);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) == -1)
		return -1;
	return fd;
}

static json_t *
control_snapshot_result(const struct snapshot *snap, int is_joined)
{
	json_t *o = snapshot_json(snap);

	json_object_set_new(o, "joined", json_boolean(is_joined));
	return o;
}

static void
control_wait_done(struct snapshot *snap, void *arg)
{
	struct control_wait	*w = arg;
	json_t			*o = control_snapshot_result(snap, w->is_joined);

	if (snap->state == SNAPSHOT_DONE)
		http_deferred_reply(w->reply, 200, o);
	else {
		json_object_set_new(o, "error", json_string("snapshot_failed"));
		json_object_set_new(o, "message", json_string(snap->error));
		http_deferred_reply(w->reply, 500, o);
	}
	free(w);
}

/*
 * The client went away while waiting: forget it (its request is freed
 * with the deferred reply), keep the snapshot.
 */
static void
control_wait_gone(void *arg)
{
	struct control_wait *w = arg;

	snapshot_unwait(w->snap, control_wait_done, w);
	http_deferred_cancel(w->reply);
	free(w);
}

static int
control_query_flag(struct evhttp_request *req, const char *name)
{
	struct evkeyvalq	 query;
	const char		*uri, *value;
	int			 is_set = 0;

	uri = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (uri == NULL)
		return 0;
	TAILQ_INIT(&query);
	if (evhttp_parse_query_str(uri, &query) == 0 &&
	    (value = evhttp_find_header(&query, name)) != NULL)
		is_set = strcmp(value, "1") == 0 || strcmp(value, "true") == 0;
	evhttp_clear_headers(&query);
	return is_set;
}

/*
 * Turns the JSON body into a trigger datagram and parses that: the
 * control API and trigger.sock share one validation path.
 */
static int
control_body_trigger(struct recorder *rec, struct evhttp_request *req,
    const struct ucred *cred, struct trigger *t, char *err, size_t errlen)
{
	struct evbuffer		*input = evhttp_request_get_input_buffer(req);
	struct tracetrap_label	 labels[TRIGGER_LABELS_MAX];
	size_t			 len = evbuffer_get_length(input), nlabels = 0;
	const char		*source = "manual", *reason = "", *key;
	enum tracetrap_scope	 scope = TRACETRAP_SCOPE_NODE;
	char			 text[DATAGRAM_MAX + 1];
	json_t			*body = NULL, *value, *scope_json, *labels_json;
	json_error_t		 jerr;
	size_t			 n;
	int			 ret = -1;

	(void)rec;
	if (len > 0) {
		body = json_loadb((const char *)evbuffer_pullup(input, -1), len,
		    0, &jerr);
		if (body == NULL || !json_is_object(body)) {
			snprintf(err, errlen, "body is not a JSON object%s%s",
			    body == NULL ? ": " : "", body == NULL ?
			    jerr.text : "");
			goto end;
		}
		if ((value = json_object_get(body, "reason")) != NULL) {
			if (!json_is_string(value)) {
				snprintf(err, errlen, "reason must be a string");
				goto end;
			}
			reason = json_string_value(value);
		}
		if ((value = json_object_get(body, "source")) != NULL) {
			if (!json_is_string(value)) {
				snprintf(err, errlen, "source must be a string");
				goto end;
			}
			source = json_string_value(value);
		}
		if ((scope_json = json_object_get(body, "scope")) != NULL) {
			const char *s = json_string_value(scope_json);

			if (s != NULL && strcmp(s, "cluster") == 0)
				scope = TRACETRAP_SCOPE_CLUSTER;
			else if (s == NULL || strcmp(s, "node") != 0) {
				snprintf(err, errlen,
				    "scope must be \"node\" or \"cluster\"");
				goto end;
			}
		}
		labels_json = json_object_get(body, "labels");
		if (labels_json != NULL && !json_is_object(labels_json)) {
			snprintf(err, errlen, "labels must be an object");
			goto end;
		}
		json_object_foreach(labels_json, key, value) {
			if (!json_is_string(value) ||
			    nlabels == TRIGGER_LABELS_MAX) {
				snprintf(err, errlen, "labels: at most %d, "
				    "string values only", TRIGGER_LABELS_MAX);
				goto end;
			}
			labels[nlabels].key = key;
			labels[nlabels++].value = json_string_value(value);
		}
	}
	n = datagram_encode(text, sizeof(text), source, reason, scope, labels,
	    nlabels);
	if (n == 0) {
		snprintf(err, errlen, "invalid source or label key (allowed: "
		    "[a-z0-9_-] for source, [a-z0-9_.-] for keys, 1-32 bytes)");
		goto end;
	}
	if (datagram_parse(text, n, t, err, errlen) == -1)
		goto end;
	t->sender_pid = cred->pid;
	t->sender_uid = cred->uid;
	t->sender_gid = cred->gid;
	t->received_at_us = clock_realtime_us();
	ret = 0;
end:
	json_decref(body);
	return ret;
}

static void
control_post_snapshot(struct control *c, struct evhttp_request *req, int fd,
    const struct ucred *cred)
{
	struct recorder		*rec = c->rec;
	struct policy_decision	 decision;
	struct snapshot		*snap;
	struct control_wait	*w;
	struct trigger		*t;
	char			 err[512];
	json_t			*o;

	if (!unix_socket_peer_is_member(fd, cred, rec->has_control_group,
	    rec->control_gid)) {
		rec->stats.control_denied++;
		snprintf(err, sizeof(err), "uid %u may not take snapshots: "
		    "run as root or as a member of group '%s'",
		    (unsigned)cred->uid, rec->conf.control_group[0] != '\0' ?
		    rec->conf.control_group : "(none configured)");
		http_json_error(req, 403, "forbidden", err);
		return;
	}
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    CONTROL_BODY_MAX) {
		snprintf(err, sizeof(err), "body larger than %d bytes",
		    CONTROL_BODY_MAX);
		http_json_error(req, 413, "body_too_large", err);
		return;
	}
	t = xmalloc(sizeof(*t));
	if (control_body_trigger(rec, req, cred, t, err, sizeof(err)) == -1) {
		policy_count(rec->policy, "manual", POLICY_MALFORMED);
		http_json_error(req, 400, "bad_request", err);
		free(t);
		return;
	}
	decision = snapshot_trigger(rec, t, &snap);
	free(t);
	switch (decision.outcome) {
	case POLICY_ACCEPTED:
	case POLICY_COALESCED:
		if (snap == NULL)
			break;
		if (!control_query_flag(req, "wait")) {
			o = control_snapshot_result(snap,
			    decision.outcome == POLICY_COALESCED);
			json_object_set_new(o, "state", json_string(
			    decision.outcome == POLICY_COALESCED ? "joined" :
			    "queued"));
			http_json_reply(req, 202, o);
			return;
		}
		w = xcalloc(1, sizeof(*w));
		if ((w->reply = http_deferred_new(req)) == NULL) {
			free(w);
			http_json_error(req, 500, "internal", "out of memory");
			return;
		}
		w->snap = snap;
		w->is_joined = decision.outcome == POLICY_COALESCED;
		http_deferred_on_gone(w->reply, control_wait_gone, w);
		snapshot_wait(snap, control_wait_done, w);
		return;
	case POLICY_RATE_LIMITED:
		http_json_reply(req, 429, json_pack("{s:s, s:s, s:s, s:I}",
		    "error", "rate_limited", "message", "snapshot refused by "
		    "the rate limits; retry later", "limit", decision.limit,
		    "retry_after_ms", (json_int_t)decision.retry_after_ms));
		return;
	case POLICY_FILTERED:
		http_json_error(req, 409, "source_disabled", "this trigger "
		    "source is disabled in the recorder's configuration");
		return;
	case POLICY_SAMPLED_OUT:
		http_json_reply(req, 202, json_pack("{s:s}", "state",
		    "sampled_out"));
		return;
	case POLICY_FORWARDED:
		/* The relay decides and asks every node: nothing to wait for. */
		http_json_reply(req, 202, json_pack("{s:s, s:s}", "state",
		    "forwarded", "scope", "cluster"));
		return;
	default:
		break;
	}
	http_json_error(req, 500, "internal", "unexpected policy outcome");
}

json_t *
control_status_json(struct recorder *rec)
{
	const struct session_state	*ss = &rec->session_state;
	struct spool			*sp = &rec->spool;
	const struct recorder_stats	*st = &rec->stats;
	json_t				*session, *spool, *stats, *policy;
	json_t				*watchers;

	session = json_pack("{s:s, s:s, s:b, s:I, s:I, s:i, s:s, s:b, s:s}",
	    "name", rec->conf.session_name,
	    "state", ss->is_up ? "recording" :
	    ss->is_sessiond_alive ? "error" : "sessiond_down",
	    "sessiond_alive", ss->is_sessiond_alive,
	    "ring_bytes_per_cpu",
	    (json_int_t)(rec->conf.subbuf_size * rec->conf.subbuf_count),
	    "subbuf_size", (json_int_t)rec->conf.subbuf_size,
	    "subbuf_count", (int)rec->conf.subbuf_count,
	    "buffers", rec->conf.is_per_pid_buffers ? "per-pid" : "per-uid",
	    "kernel", ss->is_kernel_available,
	    "output", rec->conf.output[0] != '\0' ? rec->conf.output :
	    "spool");
	if (!ss->is_kernel_available)
		json_object_set_new(session, "kernel_reason",
		    json_string(ss->kernel_reason));
	if (!ss->is_up)
		json_object_set_new(session, "error",
		    json_string(rec->session_error));
	spool = json_pack("{s:s, s:I, s:I, s:i, s:I, s:I}",
	    "dir", sp->dir, "bytes", (json_int_t)sp->bytes,
	    "max_bytes", (json_int_t)sp->max_bytes, "count", (int)sp->count,
	    "evicted", (json_int_t)sp->evicted,
	    "evicted_not_uploaded", (json_int_t)sp->evicted_not_uploaded);
	stats = json_object();
	metrics_json(stats, METRICS(control_counters), st);
	policy = policy_status(rec->policy, clock_monotonic_us() / 1000);
	watchers = sources_status(rec);
	json_object_set_new(policy, "delay_ms",
	    json_integer((json_int_t)rec->conf.delay_ms));
	return json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "node", rec->conf.node_name, "version", TRACETRAP_VERSION,
	    "uptime_s", (json_int_t)((clock_realtime_us() -
	    rec->started_at_us) / 1000000),
	    "session", session, "limiter", policy, "counters", stats,
	    "spool", spool, "relay", relay_link_status(rec->relay_link),
	    "watchers", watchers);
}

static void
control_metric_counter(const char *source, const char *outcome,
    uint64_t count, void *arg)
{
	evbuffer_add_printf(arg, "tracetrap_triggers_total{source=\"%s\","
	    "outcome=\"%s\"} %llu\n", source, outcome,
	    (unsigned long long)count);
}

static void
control_get_metrics(struct control *c, struct evhttp_request *req)
{
	struct recorder		*rec = c->rec;
	struct evbuffer		*b = evbuffer_new();
	struct control_gauges	 g;

	g.session_up = (uint64_t)rec->session_state.is_up;
	g.kernel_tracing = (uint64_t)rec->session_state.is_kernel_available;
	g.spool_bytes = rec->spool.bytes;
	g.spool_max_bytes = rec->spool.max_bytes;
	g.spool_snapshots = rec->spool.count;
	g.evicted_uploaded = rec->spool.evicted -
	    rec->spool.evicted_not_uploaded;
	g.evicted_not_uploaded = rec->spool.evicted_not_uploaded;
	metrics_head(b, "tracetrap_triggers_total", 0,
	    "Trigger decisions by source and outcome.");
	policy_foreach_count(rec->policy, control_metric_counter, b);
	metrics_text(b, METRICS(control_counters),
	    &rec->stats);
	metrics_text(b, METRICS(control_gauge_rows), &g);
	relay_link_metrics(rec->relay_link, b);
	sources_metrics(rec, b);
	http_json_metrics(req, b);
}

static void
control_dispatch(struct evhttp_request *req, void *arg)
{
	struct control			*c = arg;
	enum evhttp_cmd_type		 method = evhttp_request_get_command(req);
	const char			*path;
	struct ucred			 cred;
	int				 fd;

	c->rec->stats.control_requests++;
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		path = "";
	if ((fd = control_peer(req, &cred)) == -1) {
		http_json_error(req, 403, "forbidden", "cannot identify the peer "
		    "(SO_PEERCRED)");
		return;
	}
	if (c->rec->is_shutting_down) {
		http_json_error(req, 503, "shutting_down",
		    "the recorder is stopping");
		return;
	}
	if (strcmp(path, "/v1/snapshot") == 0) {
		if (method != EVHTTP_REQ_POST)
			goto bad_method;
		control_post_snapshot(c, req, fd, &cred);
	} else if (strcmp(path, "/v1/status") == 0) {
		if (method != EVHTTP_REQ_GET)
			goto bad_method;
		http_json_reply(req, 200, control_status_json(c->rec));
	} else if (strcmp(path, "/v1/snapshots") == 0) {
		if (method != EVHTTP_REQ_GET)
			goto bad_method;
		http_json_reply(req, 200, snapshot_list_json(c->rec));
	} else if (strcmp(path, "/metrics") == 0) {
		if (method != EVHTTP_REQ_GET)
			goto bad_method;
		control_get_metrics(c, req);
	} else
		http_json_error(req, 404, "not_found", "no such endpoint; try "
		    "/v1/status, /v1/snapshots, /v1/snapshot, /metrics");
	return;
bad_method:
	http_json_bad_method(req, NULL, "wrong method for this endpoint");
}

struct control *
control_open(struct recorder *rec, char *err, size_t errlen)
{
	struct control	*c;
	int		 fd;

	fd = unix_socket_listen(rec->conf.control_socket, SOCK_STREAM,
	    rec->conf.control_mode, rec->conf.control_group, 0, err, errlen);
	if (fd == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->rec = rec;
	c->fd = fd;
	if ((c->http = evhttp_new(rec->base)) == NULL)
		fatalx("evhttp_new");
	http_json_serve(c->http, 16 * 1024, CONTROL_HTTP_BODY_MAX, 120,
	    control_dispatch, c);
	if (evhttp_accept_socket(c->http, fd) == -1) {
		snprintf(err, errlen, "evhttp_accept_socket failed");
		evhttp_free(c->http);
		close(fd);
		free(c);
		return NULL;
	}
	return c;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	evhttp_free(c->http);
	unlink(c->rec->conf.control_socket);
	free(c);
}
