/*
 * HTTP requests in a trace, from mod_tracetrap's tracepoints
 * (tracetrap_httpd:request_begin and request_end): begins and ends paired
 * by request_id — not by thread, since under the event MPM a request may
 * end on another thread of its child — in bounded memory, whatever the
 * trace's size:
 * - the table of requests begun and not yet ended holds HTTP_OPEN_MAX;
 *   a begin past that is counted (open_dropped), not kept;
 * - of the completed requests, the HTTP_TOP_MAX slowest are kept, and
 *   those that triggered a snapshot (the event's triggered field, or a
 *   request_id named by a trigger of the manifest) always;
 * - per URI (HTTP_URIS_MAX of them, the rest under "(other)") a count,
 *   the server errors and a histogram for p50/p99;
 * - counts per status.
 */
#ifndef TT_ANALYZE_HTTP_H
#define TT_ANALYZE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define HTTP_OPEN_MAX		4096
#define HTTP_TOP_MAX		200
#define HTTP_TRIGGERED_MAX	64
#define HTTP_IN_FLIGHT_MAX	100
#define HTTP_URIS_MAX		256
#define HTTP_ID_MAX		128
#define HTTP_URI_MAX		512
#define HTTP_VHOST_MAX		128
#define HTTP_METHOD_MAX		24

struct analyze_http;

/* The request ids the manifest's triggers name (labels.request_id). */
struct analyze_http	*analyze_http_new(const char *const *trigger_ids,
			    size_t n);
void	analyze_http_free(struct analyze_http *);

void	analyze_http_begin(struct analyze_http *, const char *id,
	    const char *method, const char *uri, const char *vhost,
	    int64_t vpid, int64_t vtid, int64_t ts_ns);
void	analyze_http_end(struct analyze_http *, const char *id,
	    const char *method, const char *uri, const char *vhost, int status,
	    uint64_t duration_us, int is_triggered, int64_t vpid, int64_t vtid,
	    int64_t ts_ns);

/*
 * Adds to summary: requests_total, requests_in_flight, requests (slowest
 * first; one in flight counts its time until end_ns), requests_open_dropped,
 * requests_without_begin, uris (busiest first), status_counts.
 */
void	analyze_http_json(const struct analyze_http *, int64_t end_ns,
	    json_t *summary);

#endif
