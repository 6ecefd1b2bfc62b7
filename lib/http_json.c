/*
 * JSON over libevent's evhttp (http_json.h), for both daemons' HTTP
 * servers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "http_json.h"
#include "log.h"

/* Every method evhttp knows: ours decide, in JSON, which they take. */
#define HTTP_JSON_ALL_METHODS	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | \
	EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | \
	EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | \
	EVHTTP_REQ_PATCH)

static void
http_json_free_text(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

void
http_json_send(struct evhttp_request *req, int code, char *text, size_t len)
{
	struct evbuffer	*buf = evbuffer_new();

	if (buf == NULL)
		fatalx("evbuffer_new");
	/* The text itself, not a copy: answers run to megabytes. */
	if (evbuffer_add_reference(buf, text, len, http_json_free_text,
	    NULL) == -1) {
		free(text);
		fatalx("evbuffer_add_reference");
	}
	evbuffer_add(buf, "\n", 1);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, code, NULL, buf);
	evbuffer_free(buf);
}

char *
http_json_encode(const json_t *body, size_t *len)
{
	char *text;

	/* Objects keep their keys in the order they were set (jansson). */
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		return NULL;
	*len = strlen(text);
	return text;
}

void
http_json_reply(struct evhttp_request *req, int code, json_t *body)
{
	static const char	 failed[] = "{\"error\":\"internal\","
				    "\"message\":\"cannot encode the answer\"}";
	char			*text;
	size_t			 len;

	text = http_json_encode(body, &len);
	json_decref(body);
	if (text == NULL) {
		if ((text = strdup(failed)) == NULL)
			fatalx("strdup");
		len = strlen(text);
		code = 500;
	}
	http_json_send(req, code, text, len);
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
