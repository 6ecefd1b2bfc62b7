/*
 * A reply that comes later (from a worker thread, a child process), to
 * an evhttp request whose client may be gone by then. evhttp frees a
 * request with its connection, except an unfinished one on a failed
 * connection, which it leaves to us: the connection's close callback
 * tells which, so a late reply is sent, dropped or freed, never written
 * to freed memory.
 */
#ifndef TT_HTTP_DEFERRED_H
#define TT_HTTP_DEFERRED_H

#include <event2/http.h>
#include <jansson.h>

struct http_deferred;

/* Takes over the reply of req; NULL when out of memory. */
struct http_deferred	*http_deferred_new(struct evhttp_request *);
/*
 * gone(arg) runs when the client goes away before the reply: to stop
 * waiting for what the reply needed. It may free d (with
 * http_deferred_cancel); nothing is sent then.
 */
void			 http_deferred_on_gone(struct http_deferred *,
			    void (*gone)(void *), void *arg);
/* The request, or NULL once its client went away. */
struct evhttp_request	*http_deferred_request(struct http_deferred *);
/* Replies with body (its reference taken) if the client is still there;
 * frees d either way. */
void			 http_deferred_reply(struct http_deferred *, int code,
			    json_t *body);
/* Replies with JSON text made by http_json_encode() (taken); frees d. */
void			 http_deferred_send(struct http_deferred *, int code,
			    char *text, size_t len);
void			 http_deferred_error(struct http_deferred *, int code,
			    const char *error, const char *message);
/*
 * Takes the request back, to answer it some other way (a download), or
 * NULL when its client went away; frees d.
 */
struct evhttp_request	*http_deferred_finish(struct http_deferred *);
/* Gives the request back (it was answered directly); frees d. */
void			 http_deferred_cancel(struct http_deferred *);

#endif
