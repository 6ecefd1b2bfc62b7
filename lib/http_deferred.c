/*
 * Replies that come later (http_deferred.h), to clients that may have
 * gone: evhttp's close callback tells.
 */
#include <stdlib.h>

#include "http_deferred.h"
#include "http_json.h"

struct http_deferred {
	struct evhttp_request	*req;	/* NULL: the client went away */
	void			(*gone)(void *);
	void			*gone_arg;
};

static void
http_deferred_on_close(struct evhttp_connection *conn, void *arg)
{
	struct http_deferred *d = arg;

	(void)conn;
	/*
	 * Still attached: evhttp frees it with the connection. Detached (a
	 * failed connection with our request unfinished): ours to free.
	 */
	if (d->req != NULL && evhttp_request_get_connection(d->req) == NULL)
		evhttp_request_free(d->req);
	d->req = NULL;
	/* Last: it may free d. */
	if (d->gone != NULL)
		d->gone(d->gone_arg);
}

struct http_deferred *
http_deferred_new(struct evhttp_request *req)
{
	struct http_deferred	*d;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->req = req;
	if (conn != NULL)
		evhttp_connection_set_closecb(conn, http_deferred_on_close, d);
	return d;
}

void
http_deferred_on_gone(struct http_deferred *d, void (*gone)(void *),
    void *arg)
{
	d->gone = gone;
	d->gone_arg = arg;
}

struct evhttp_request *
http_deferred_request(struct http_deferred *d)
{
	return d->req;
}

/* Detaches d from its connection; returns the request still to answer. */
static struct evhttp_request *
http_deferred_take(struct http_deferred *d)
{
	struct evhttp_request		*req = d->req;
	struct evhttp_connection	*conn;

	if (req == NULL)
		return NULL;
	if ((conn = evhttp_request_get_connection(req)) == NULL) {
		evhttp_request_free(req);
		return NULL;
	}
	evhttp_connection_set_closecb(conn, NULL, NULL);
	return req;
}

void
http_deferred_reply(struct http_deferred *d, int code, json_t *body)
{
	struct evhttp_request *req = http_deferred_take(d);

	if (req != NULL)
		http_json_reply(req, code, body);
	else
		json_decref(body);
	free(d);
}

void
http_deferred_send(struct http_deferred *d, int code, char *text, size_t len)
{
	struct evhttp_request *req = http_deferred_take(d);

	if (req != NULL)
		http_json_send(req, code, text, len);
	else
		free(text);
	free(d);
}

void
http_deferred_error(struct http_deferred *d, int code, const char *error,
    const char *message)
{
	struct evhttp_request *req = http_deferred_take(d);

	if (req != NULL)
		http_json_error(req, code, error, message);
	free(d);
}

struct evhttp_request *
http_deferred_finish(struct http_deferred *d)
{
	struct evhttp_request *req = http_deferred_take(d);

	free(d);
	return req;
}

void
http_deferred_cancel(struct http_deferred *d)
{
	struct evhttp_connection *conn;

	if (d->req != NULL &&
	    (conn = evhttp_request_get_connection(d->req)) != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	free(d);
}
