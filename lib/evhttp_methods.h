/*
 * Every method libevent's evhttp knows. Both HTTP servers (the recorder's
 * control socket, the relay's API) let all of them through to their own
 * dispatch, so that a wrong method gets our JSON 405, not evhttp's HTML.
 */
#ifndef TT_EVHTTP_METHODS_H
#define TT_EVHTTP_METHODS_H

#include <event2/http.h>

#define EVHTTP_ALL_METHODS	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | \
	EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | \
	EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | \
	EVHTTP_REQ_PATCH)

#endif
