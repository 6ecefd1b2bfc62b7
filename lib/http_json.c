/*
 * JSON over libevent's evhttp (http_json.h), for both daemons' HTTP
 * servers.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "http_json.h"
#include "log.h"

/* Every method evhttp knows: ours decide, in JSON, which they take. */
#define HTTP_JSON_ALL_METHODS	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | \
	EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | \
	EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | \
	EVHTTP_REQ_PATCH)

void
http_json_reply(struct evhttp_request *req, int code, json_t *body)
{
	struct evbuffer	*buf = evbuffer_new();
	char		*text;

	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	if (buf == NULL)
		fatalx("evbuffer_new");
	if (text == NULL) {
		code = 500;
		evbuffer_add_printf(buf, "{\"error\":\"internal\",\"message\":"
		    "\"cannot encode the answer\"}\n");
	} else
		evbuffer_add_printf(buf, "%s\n", text);
	free(text);
	json_decref(body);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, code, NULL, buf);
	evbuffer_free(buf);
}

void
http_json_error(struct evhttp_request *req, int code, const char *error,
    const char *message)
{
	http_json_reply(req, code, json_pack("{s:s, s:s}", "error", error,
	    "message", message));
}

void
http_json_bad_method(struct evhttp_request *req, const char *allow,
    const char *message)
{
	if (allow != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", allow);
	http_json_error(req, 405, "method_not_allowed", message);
}

void
http_json_metrics(struct evhttp_request *req, struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, NULL, body);
	evbuffer_free(body);
}

void
http_json_serve(struct evhttp *http, size_t headers_max, size_t body_max,
    int timeout_seconds, void (*dispatch)(struct evhttp_request *, void *),
    void *arg)
{
	evhttp_set_max_headers_size(http, headers_max);
	evhttp_set_max_body_size(http, body_max);
	evhttp_set_timeout(http, timeout_seconds);
	evhttp_set_allowed_methods(http, HTTP_JSON_ALL_METHODS);
	evhttp_set_gencb(http, dispatch, arg);
}
