/*
 * The relay's HTTP API: libevent evhttp on [api] address, read-only.
 *
 *   GET /v1/status                      name, version, connections, stats
 *   GET /v1/incidents?limit=N           newest first
 *   GET /v1/incidents/<id>              one incident with its snapshots
 *   GET /v1/snapshots?node=&source=&since=&until=&limit=
 *   GET /v1/snapshots/<id>/manifest     manifest.json as stored
 *   GET /v1/snapshots/<id>/archive      ustar of <id>/manifest.json, trace/
 *   GET /metrics                        Prometheus text format
 *
 * Every error is JSON {"error":CODE,"message":TEXT}. Ids are checked with
 * the store's rule before any path is built from them, and paths come
 * from the catalog, never from the request.
 *
 * Nothing here reads the catalog or a file on the event loop, which
 * also reads every recorder's uploads: catalog queries (a page: 100
 * incidents, 1000 snapshots by default) run on the API's read threads
 * (api_read.c), each with its own connection (WAL: never blocked by the
 * disk thread's writes), file contents on download.c's worker.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api.h"
#include "api_read.h"
#include "catalog.h"
#include "http_json.h"
#include "download.h"
#include "log.h"
#include "relay.h"
#include "store.h"
#include "tls.h"
#include "units.h"
#include "web.h"
#include "investigate.h"
#include "xmalloc.h"

#define API_HEADERS_MAX		(16 * 1024)
#define API_BODY_MAX		4096	/* GET only: no body expected */
#define API_REALM		"tracetrap-relay"
#define API_INCIDENTS_DEFAULT	100	/* ?limit= of GET /v1/incidents */

struct api {
	struct relay		*relay;
	struct evhttp		*http;
	uint64_t		 requests;
	uint64_t		 unauthorized;
};

/* One relay per process: its API lives here, not in struct relay. */
static struct api	*api_current;

/*
 * The token, as a bearer or as the pages' session cookie (web.c), is
 * compared through its SHA-256, in constant time: neither its bytes nor
 * its length can be guessed from how long a refusal takes. It is read
 * from the configuration at each request: SIGHUP may have changed it
 * (relay.c), which also ends every session.
 */
static int
api_is_authorized(struct api *api, struct evhttp_request *req,
    int *has_credentials)
{
	const char	*token = api->relay->conf.api_token;
	const char	*value;
	size_t		 len;

	*has_credentials = 0;
	if (token[0] == '\0' || web_session_is_valid(req, token))
		return 1;
	value = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (value == NULL)
		return 0;
	*has_credentials = 1;
	if (strncasecmp(value, "Bearer", 6) != 0 ||
	    (value[6] != ' ' && value[6] != '\t'))
		return 0;
	value += 6;
	value += strspn(value, " \t");
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	return web_token_equal(token, value, len);
}

/*
 * "0" or more digits, at most max. Returns 0, or -1 for anything else
 * (signs, spaces, overflow).
 */
static int
api_parse_uint(const char *text, long long max, long long *value)
{
	uint64_t	 v;

	if (units_parse_decimal(text, &v) != 0 || v > (uint64_t)max)
		return -1;
	*value = (long long)v;
	return 0;
}

/* Exactly n digits at *p, advancing it. */
static int
api_digits(const char **p, int n, int *value)
{
	int i;

	*value = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*value = *value * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

int
api_parse_time(const char *text, int64_t *us)
{
	const char	*p = text;
	struct tm	 tm, check;
	long long	 v;
	time_t		 seconds;
	int		 year, month, day, hour, minute, second;
	int		 offset_hours, offset_minutes, offset = 0, frac = 0;
	int		 digits = 0;

	if (api_parse_uint(text, INT64_MAX, &v) == 0) {
		*us = (int64_t)v;
		return 0;
	}
	if (api_digits(&p, 4, &year) == -1 || *p++ != '-' ||
	    api_digits(&p, 2, &month) == -1 || *p++ != '-' ||
	    api_digits(&p, 2, &day) == -1 || (*p != 'T' && *p != 't') ||
	    (p++, api_digits(&p, 2, &hour)) == -1 || *p++ != ':' ||
	    api_digits(&p, 2, &minute) == -1 || *p++ != ':' ||
	    api_digits(&p, 2, &second) == -1)
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		/* Microseconds: further digits are read and dropped. */
		for (; *p >= '0' && *p <= '9'; p++) {
			if (digits++ < 6)
				frac = frac * 10 + (*p - '0');
		}
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		offset = *p++ == '-' ? -1 : 1;
		if (api_digits(&p, 2, &offset_hours) == -1 || *p++ != ':' ||
		    api_digits(&p, 2, &offset_minutes) == -1 ||
		    offset_hours > 23 || offset_minutes > 59)
			return -1;
		offset *= offset_hours * 3600 + offset_minutes * 60;
	} else
		return -1;
	if (*p != '\0' || year < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	/*
	 * timegm() turns Feb 30 into March 2 (in tm too): comparing the
	 * result with the fields as parsed catches it, and hour 24 or
	 * second 60.
	 */
	seconds = timegm(&tm);
	if (seconds == (time_t)-1 || gmtime_r(&seconds, &check) == NULL ||
	    check.tm_year != year - 1900 || check.tm_mon != month - 1 ||
	    check.tm_mday != day || check.tm_hour != hour ||
	    check.tm_min != minute || check.tm_sec != second)
		return -1;
	*us = ((int64_t)seconds - offset) * 1000000 + frac;
	return 0;
}

/* The query string as a list; -1 (and a reply sent) when it is garbled. */
int
api_query(struct evhttp_request *req, struct evkeyvalq *query,
    const char *const *allowed)
{
	const struct evkeyval	*kv;
	const char		*text;
	char			 message[256];
	size_t			 i;

	TAILQ_INIT(query);
	text = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (text == NULL)
		return 0;
	if (evhttp_parse_query_str(text, query) == -1) {
		http_json_error(req, 400, "bad_request", "malformed query string");
		return -1;
	}
	/* A misspelled filter would silently match everything: refuse it. */
	TAILQ_FOREACH(kv, query, next) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(kv->key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			snprintf(message, sizeof(message), "unknown query "
			    "parameter '%.64s'", kv->key);
			http_json_error(req, 400, "bad_request", message);
			evhttp_clear_headers(query);
			return -1;
		}
	}
	return 0;
}

/* An empty value counts as absent, like a shell variable left unset. */
const char *
api_query_value(struct evkeyvalq *query, const char *key)
{
	const char *value = evhttp_find_header(query, key);

	return value != NULL && value[0] != '\0' ? value : NULL;
}

static int
api_query_limit(struct evhttp_request *req, struct evkeyvalq *query,
    int *limit)
{
	const char	*value = api_query_value(query, "limit");
	long long	 v;

	*limit = 0;
	if (value == NULL)
		return 0;
	if (api_parse_uint(value, 1000000, &v) == -1 || v == 0) {
		http_json_error(req, 400, "bad_request", "limit must be a positive "
		    "integer");
		return -1;
	}
	*limit = (int)v;
	return 0;
}

/*
 * A duration (500ms, 2s, 1m) or integer microseconds: "slowest request
 * at least".
 */
static int
api_query_duration(struct evhttp_request *req, struct evkeyvalq *query,
    const char *key, int64_t *us)
{
	const char	*value = api_query_value(query, key);
	char		 message[256], err[128];
	long long	 v;
	uint64_t	 ms;

	*us = 0;
	if (value == NULL)
		return 0;
	if (api_parse_uint(value, INT64_MAX, &v) == 0) {
		*us = (int64_t)v;
		return 0;
	}
	if (units_parse_duration_ms(value, &ms, err, sizeof(err)) == -1 ||
	    ms > INT64_MAX / 1000) {
		snprintf(message, sizeof(message), "%s: expected a duration "
		    "(500ms, 2s) or integer microseconds, got '%.64s'", key,
		    value);
		http_json_error(req, 400, "bad_request", message);
		return -1;
	}
	*us = (int64_t)ms * 1000;
	return 0;
}

static int
api_query_time(struct evhttp_request *req, struct evkeyvalq *query,
    const char *key, int64_t *us)
{
	const char	*value = api_query_value(query, key);
	char		 message[256];

	*us = 0;
	if (value == NULL)
		return 0;
	if (api_parse_time(value, us) == -1) {
		snprintf(message, sizeof(message), "%s: expected RFC 3339 UTC "
		    "time (2026-11-22T07:01:09Z) or integer microseconds since "
		    "the epoch, got '%.64s'", key, value);
		http_json_error(req, 400, "bad_request", message);
		return -1;
	}
	return 0;
}

/* A listing's parameters: the filter points into the query it owns. */
struct api_listing {
	struct evkeyvalq		 query;
	struct catalog_incident_filter	 incidents;
	struct catalog_filter		 snapshots;
	enum download_kind		 kind;		/* a file's */
	char				 id[STORE_NAME_MAX];
	char				 dir[DOWNLOAD_PATH_MAX];
};

static struct api_listing *
api_listing_new(void)
{
	struct api_listing *l = xcalloc(1, sizeof(*l));

	TAILQ_INIT(&l->query);
	return l;
}

static void
api_listing_free(void *arg)
{
	struct api_listing *l = arg;

	evhttp_clear_headers(&l->query);
	free(l);
}

/* Read thread: a page of incidents. */
static void
api_read_incidents(struct catalog *c, void *arg, struct api_answer *ans)
{
	struct api_listing	*l = arg;
	json_t			*incidents;

	if ((incidents = catalog_incidents(c, &l->incidents)) == NULL)
		api_answer_error(ans, 500, "internal", "the catalog cannot be "
		    "read; see the relay's log");
	else
		api_answer_json(ans, 200, json_pack("{s:o}", "incidents",
		    incidents));
}

static void
api_get_incidents(struct api *api, struct evhttp_request *req)
{
	static const char *const allowed[] = { "limit", "node", "source", "q",
	    "since", "until", NULL };
	struct api_listing		*l = api_listing_new();
	struct catalog_incident_filter	*filter = &l->incidents;
	struct evkeyvalq		*query = &l->query;

	if (api_query(req, query, allowed) == -1) {
		free(l);
		return;
	}
	filter->node = api_query_value(query, "node");
	filter->source = api_query_value(query, "source");
	filter->text = api_query_value(query, "q");
	if (api_query_limit(req, query, &filter->limit) == -1 ||
	    api_query_time(req, query, "since", &filter->since_us) == -1 ||
	    api_query_time(req, query, "until", &filter->until_us) == -1) {
		api_listing_free(l);
		return;
	}
	if (filter->limit == 0)
		filter->limit = API_INCIDENTS_DEFAULT;
	if (api_query_value(query, "until") != NULL && filter->until_us <= 0)
		filter->until_us = INT64_MIN;
	if (filter->since_us < 0)
		filter->since_us = 0;
	api_read(api->relay, req, api_read_incidents, NULL, l,
	    api_listing_free);
}

/* Read thread: a page of snapshots. */
static void
api_read_snapshots(struct catalog *c, void *arg, struct api_answer *ans)
{
	struct api_listing	*l = arg;
	json_t			*snapshots;

	if ((snapshots = catalog_snapshots(c, &l->snapshots)) == NULL)
		api_answer_error(ans, 500, "internal", "the catalog cannot be "
		    "read; see the relay's log");
	else
		api_answer_json(ans, 200, json_pack("{s:o}", "snapshots",
		    snapshots));
}

static void
api_get_snapshots(struct api *api, struct evhttp_request *req)
{
	static const char *const allowed[] = { "node", "source", "since",
		"until", "limit", "slowest", "uri", "status", NULL };
	struct api_listing	*l = api_listing_new();
	struct catalog_filter	*filter = &l->snapshots;
	struct evkeyvalq	*query = &l->query;
	const char		*status;
	long long		 code;

	if (api_query(req, query, allowed) == -1) {
		free(l);
		return;
	}
	filter->node = api_query_value(query, "node");
	filter->source = api_query_value(query, "source");
	filter->uri = api_query_value(query, "uri");
	if (api_query_time(req, query, "since", &filter->since_us) == -1 ||
	    api_query_time(req, query, "until", &filter->until_us) == -1 ||
	    api_query_limit(req, query, &filter->limit) == -1 ||
	    api_query_duration(req, query, "slowest",
	    &filter->min_slowest_us) == -1)
		goto refused;
	if ((status = api_query_value(query, "status")) != NULL) {
		if (api_parse_uint(status, 999, &code) == -1 || code < 100) {
			http_json_error(req, 400, "bad_request", "status: "
			    "expected an HTTP status, 100 to 999");
			goto refused;
		}
		filter->status = (int)code;
	}
	/*
	 * 0 means "no bound" to the catalog: until the epoch (or before)
	 * must still match nothing, and since it matches everything.
	 */
	if (api_query_value(query, "until") != NULL && filter->until_us <= 0)
		filter->until_us = INT64_MIN;
	if (filter->since_us < 0)
		filter->since_us = 0;
	api_read(api->relay, req, api_read_snapshots, NULL, l,
	    api_listing_free);
	return;
refused:
	api_listing_free(l);
}

/* Read thread: where the catalog says the snapshot is. */
static void
api_read_file(struct catalog *c, void *arg, struct api_answer *ans)
{
	struct api_listing	*l = arg;

	if (catalog_snapshot_path(c, l->id, l->dir, sizeof(l->dir)) == -1) {
		api_answer_error(ans, 404, "not_found", "no snapshot %s on this "
		    "relay; GET /v1/snapshots lists them", l->id);
		return;
	}
	if (!store_is_valid_path(l->dir)) {
		log_warnx("api: catalog path of %s is not a store path: %s",
		    l->id, l->dir);
		api_answer_error(ans, 500, "internal", "the catalog holds a bad "
		    "path for this snapshot; see the relay's log");
		return;
	}
	ans->status = 200;
}

/* Loop: download.c reads the files on its own worker. */
static void
api_file_found(struct evhttp_request *req, void *arg, struct api_answer *ans)
{
	struct api_listing	*l = arg;

	if (ans->status != 200 || api_current == NULL) {
		http_json_error(req, ans->status, ans->error, ans->message);
		return;
	}
	download_start(req, l->kind, l->id, api_current->relay->conf.store_dir,
	    l->dir);
}

static void
api_get_file(struct api *api, struct evhttp_request *req, const char *id,
    enum download_kind kind)
{
	struct api_listing *l = api_listing_new();

	l->kind = kind;
	snprintf(l->id, sizeof(l->id), "%s", id);
	api_read(api->relay, req, api_read_file, api_file_found, l,
	    api_listing_free);
}

/* Read thread: the store's size, for /v1/status and /metrics. */
static void
api_read_store_bytes(struct catalog *c, void *arg, struct api_answer *ans)
{
	(void)arg;
	ans->value = catalog_total_bytes(c);
	ans->status = 200;
}

static void
api_status_found(struct evhttp_request *req, void *arg,
    struct api_answer *ans)
{
	struct api *api = api_current;

	if (api == NULL) {
		http_json_error(req, 503, "shutting_down", "the relay is "
		    "stopping");
		return;
	}
	if (arg == NULL)
		api_status_reply(api->relay, req, api->requests,
		    api->unauthorized, ans->value);
	else
		api_metrics_reply(api->relay, req, api->requests,
		    api->unauthorized, ans->value);
}

/* /v1/snapshots/<id>/<what> and /v1/incidents/<id>: rest is after the /. */
static void
api_get_by_id(struct api *api, struct evhttp_request *req, const char *rest,
    int is_incident)
{
	char		 id[STORE_NAME_MAX], message[256];
	const char	*what;
	size_t		 len;

	what = strchr(rest, '/');
	len = what != NULL ? (size_t)(what - rest) : strlen(rest);
	if (len >= sizeof(id)) {
		http_json_error(req, 400, "bad_request", "invalid id (at most 127 "
		    "of [A-Za-z0-9._-], not starting with '.')");
		return;
	}
	memcpy(id, rest, len);
	id[len] = '\0';
	/* Before anything else: an id becomes a path further down. */
	if (!store_is_valid_name(id)) {
		http_json_error(req, 400, "bad_request", "invalid id (at most 127 "
		    "of [A-Za-z0-9._-], not starting with '.')");
		return;
	}
	if (is_incident && what == NULL)
		investigate_incident(api->relay, req, id);
	else if (!is_incident && what != NULL &&
	    strcmp(what, "/summary") == 0)
		investigate_summary(api->relay, req, id);
	else if (!is_incident && what != NULL &&
	    strcmp(what, "/events") == 0)
		investigate_events(api->relay, req, id);
	else if (!is_incident && what != NULL &&
	    strcmp(what, "/manifest") == 0)
		api_get_file(api, req, id, DOWNLOAD_MANIFEST);
	else if (!is_incident && what != NULL &&
	    strcmp(what, "/archive") == 0)
		api_get_file(api, req, id, DOWNLOAD_ARCHIVE);
	else {
		snprintf(message, sizeof(message), "no such endpoint; try "
		    "%s", is_incident ? "/v1/incidents/<id>" :
		    "/v1/snapshots/<id>/summary, /events, /manifest or "
		    "/archive");
		http_json_error(req, 404, "not_found", message);
	}
}

static void
api_dispatch(struct evhttp_request *req, void *arg)
{
	static const char	 incidents[] = "/v1/incidents/";
	static const char	 snapshots[] = "/v1/snapshots/";
	struct api		*api = arg;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct evkeyvalq	*headers;
	struct bufferevent	*bev;
	const char		*path;
	int			 has_credentials;

	api->requests++;
	headers = evhttp_request_get_output_headers(req);
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		path = "";
	web_security_headers(req);
	log_debug("api: %s %s", evhttp_request_get_command(req) ==
	    EVHTTP_REQ_GET ? "GET" : "(not GET)", path);
	/*
	 * evhttp falls back to a plain socket when the TLS bufferevent
	 * could not be made: never answer such a connection.
	 */
	if (api->relay->conf.is_api_tls && (conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(conn)) == NULL ||
	    bufferevent_openssl_get_ssl(bev) == NULL)) {
		log_warnx("api: a connection without TLS on the TLS API");
		if (conn != NULL)
			evhttp_connection_free(conn);
		return;
	}
	/* Pages, assets and the login form hold no data (web.c). */
	if (web_route(req, path, api->relay->conf.api_token,
	    api->relay->conf.is_api_tls, &api->unauthorized))
		return;
	evhttp_add_header(headers, "Cache-Control", "no-store");
	if (!api_is_authorized(api, req, &has_credentials)) {
		api->unauthorized++;
		evhttp_add_header(headers, "WWW-Authenticate", has_credentials ?
		    "Bearer realm=\"" API_REALM "\", error=\"invalid_token\"" :
		    "Bearer realm=\"" API_REALM "\"");
		http_json_error(req, 401, "unauthorized", has_credentials ?
		    "wrong token: check $TRACETRAP_RELAY_TOKEN against the "
		    "relay's [api] token" : "this relay requires a token: send "
		    "\"Authorization: Bearer TOKEN\" (the CLI reads "
		    "$TRACETRAP_RELAY_TOKEN)");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		http_json_bad_method(req, "GET", "this API is read-only: GET "
		    "only");
		return;
	}
	if (api->relay->is_shutting_down) {
		http_json_error(req, 503, "shutting_down", "the relay is stopping");
		return;
	}
	/* The arg says which: NULL for the status, else the metrics. */
	if (strcmp(path, "/v1/status") == 0)
		api_read(api->relay, req, api_read_store_bytes,
		    api_status_found, NULL, NULL);
	else if (strcmp(path, "/metrics") == 0)
		api_read(api->relay, req, api_read_store_bytes,
		    api_status_found, api, NULL);
	else if (strcmp(path, "/v1/incidents") == 0)
		api_get_incidents(api, req);
	else if (strcmp(path, "/v1/snapshots") == 0)
		api_get_snapshots(api, req);
	else if (strncmp(path, incidents, sizeof(incidents) - 1) == 0)
		api_get_by_id(api, req, path + sizeof(incidents) - 1, 1);
	else if (strncmp(path, snapshots, sizeof(snapshots) - 1) == 0)
		api_get_by_id(api, req, path + sizeof(snapshots) - 1, 0);
	else
		http_json_error(req, 404, "not_found", "no such endpoint; try "
		    "/v1/status, /v1/incidents, /v1/snapshots, /metrics");
}

/* Each HTTPS connection: TLS 1.3 with the fleet CA's client certificate. */
static struct bufferevent *
api_tls_bufferevent(struct event_base *base, void *arg)
{
	struct api		*api = arg;
	struct bufferevent	*bev;
	SSL			*ssl;

	if ((ssl = SSL_new(api->relay->ssl)) == NULL) {
		log_warnx("api: SSL_new: %s", tls_error());
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warnx("api: bufferevent_openssl_socket_new failed");
		SSL_free(ssl);
		return NULL;
	}
	/* Clients that close without close_notify still got their reply. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static int
api_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

int
api_listen(struct relay *relay, char *err, size_t errlen)
{
	struct relay_config	*c = &relay->conf;
	struct evutil_addrinfo	 hints, *ai = NULL;
	struct evconnlistener	*listener;
	struct api		*api;
	char			 port[8];
	int			 error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* As for [listen]: no DNS; a name is an error, not a lookup. */
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICHOST;
	snprintf(port, sizeof(port), "%u", c->api_port);
	if ((error = evutil_getaddrinfo(c->api_host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "[api] address %s: %s (a numeric "
		    "address is expected)", c->api_address,
		    evutil_gai_strerror(error));
		return -1;
	}
	if (!api_is_loopback(ai->ai_addr) && c->api_token[0] == '\0' &&
	    !c->is_api_tls)
		log_warnx("[api] %s is not a loopback address and the API has "
		    "neither a token nor TLS: anyone who reaches it can read "
		    "every trace", c->api_address);
	listener = evconnlistener_new_bind(relay->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (listener == NULL) {
		snprintf(err, errlen, "[api] listen on %s: %s",
		    c->api_address, strerror(errno));
		return -1;
	}
	api = xcalloc(1, sizeof(*api));
	api->relay = relay;
	if ((api->http = evhttp_new(relay->base)) == NULL)
		fatalx("evhttp_new");
	if (evhttp_bind_listener(api->http, listener) == NULL) {
		snprintf(err, errlen, "[api] %s: evhttp_bind_listener failed",
		    c->api_address);
		evconnlistener_free(listener);
		evhttp_free(api->http);
		free(api);
		return -1;
	}
	http_json_serve(api->http, API_HEADERS_MAX, API_BODY_MAX,
	    API_TIMEOUT_SECONDS, api_dispatch, api);
	if (c->is_api_tls)
		evhttp_set_bevcb(api->http, api_tls_bufferevent, api);
	download_init(relay->base);
	api_read_start(relay->base);
	api_current = api;
	log_info("api: %s://%s%s%s", c->is_api_tls ? "https" : "http",
	    c->api_address, c->is_api_tls ? ", client certificates from " :
	    "", c->is_api_tls ? c->listen_tls.ca : "");
	if (c->api_token[0] != '\0')
		log_info("api: every request needs the [api] token");
	return 0;
}

void
api_close(struct relay *relay)
{
	struct api	*api = api_current;

	(void)relay;
	if (api == NULL)
		return;
	download_close();
	/* Frees the listener, the connections and their requests. */
	evhttp_free(api->http);
	free(api);
	api_current = NULL;
	/* The reads still queued find their clients gone. */
	api_read_stop();
}
