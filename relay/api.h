/*
 * The relay's HTTP API on [api] address (DESIGN.md "Relay store"): GET
 * only, JSON from the catalog, stored manifests byte for byte, snapshot
 * archives as ustar, /metrics and /v1/status. With [api] token, every
 * request needs "Authorization: Bearer TOKEN"; with [api] tls, HTTPS and
 * a client certificate signed by [listen] ca.
 */
#ifndef TT_API_H
#define TT_API_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

/* evhttp's read and write timeouts on the API's connections. */
#define API_TIMEOUT_SECONDS	60

struct relay;

/* Binds [api] address and starts the API's file-reading worker. */
int	api_listen(struct relay *, char *err, size_t errlen);
/* Drops every request in progress and frees the API (after the loop). */
void	api_close(struct relay *);

/*
 * A since/until query value: RFC 3339 ("2026-11-22T07:01:09Z", optional
 * fraction, Z or a +hh:mm offset) or integer microseconds since the
 * epoch. Returns 0, or -1 when text is neither.
 */
int	api_parse_time(const char *text, int64_t *us);

struct evkeyvalq;
/*
 * The request's query as a list of keys allowed[] (NULL-terminated);
 * anything else, or a garbled query, is answered 400 and gives -1.
 */
int	api_query(struct evhttp_request *, struct evkeyvalq *,
	    const char *const *allowed);
/* api_status.c: GET /v1/status and GET /metrics. */
/* store_bytes: the catalog's sum of the stored snapshots' bytes. */
void	api_status_reply(struct relay *, struct evhttp_request *,
	    uint64_t requests, uint64_t unauthorized, int64_t store_bytes);
void	api_metrics_reply(struct relay *, struct evhttp_request *,
	    uint64_t requests, uint64_t unauthorized, int64_t store_bytes);

/* A value of the query, NULL when absent or empty. */
const char *api_query_value(struct evkeyvalq *, const char *key);

#endif
