/*
 * What both HTTP servers (the recorder's control socket, the relay's API)
 * do alike on libevent's evhttp: JSON replies, errors as JSON
 * {"error":CODE,"message":TEXT}, Prometheus text for /metrics, and a
 * server that lets every method through to its own dispatch, so that a
 * wrong method gets our JSON 405, not evhttp's HTML.
 */
#ifndef TT_HTTP_JSON_H
#define TT_HTTP_JSON_H

#include <stddef.h>

#include <event2/http.h>
#include <jansson.h>

struct evbuffer;

/*
 * Answers req with body (its reference is taken) as one line of compact
 * JSON; a body that cannot be encoded becomes a 500 "internal" error.
 */
void	http_json_reply(struct evhttp_request *, int code, json_t *body);

/*
 * JSON text for a reply, made where it is cheap to make (a worker
 * thread, for a big one): malloc'ed, *len bytes; NULL when body cannot
 * be encoded.
 */
char	*http_json_encode(const json_t *body, size_t *len);

/* Answers req with that text (taken: freed once sent). */
void	http_json_send(struct evhttp_request *, int code, char *text,
	    size_t len);

/* Answers req with {"error":error,"message":message}. */
void	http_json_error(struct evhttp_request *, int code, const char *error,
	    const char *message);

/*
 * 405 "method_not_allowed" with message, and an Allow header when allow
 * is not NULL.
 */
void	http_json_bad_method(struct evhttp_request *, const char *allow,
	    const char *message);

/* Answers req 200 with body, Prometheus text; body is freed. */
void	http_json_metrics(struct evhttp_request *, struct evbuffer *body);

/*
 * Sets http's limits (bytes of headers and body, seconds of read and
 * write timeout), lets every method through, and sends every request to
 * dispatch.
 */
void	http_json_serve(struct evhttp *, size_t headers_max, size_t body_max,
	    int timeout_seconds, void (*dispatch)(struct evhttp_request *,
	    void *), void *arg);

#endif
