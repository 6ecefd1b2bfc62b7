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

#endif
