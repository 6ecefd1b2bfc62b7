/*
 * The lttng-ust tracepoint provider of mod_tracetrap: tracetrap_httpd.
 *
 * request_begin when a request's headers have been read, request_end when
 * it is logged; both carry the request id that the module also puts in
 * its triggers, so the request that caused a snapshot can be found in it
 * (README.md, "mod_tracetrap for Apache httpd").
 *
 * The probes are built into their own shared object,
 * mod_tracetrap_tp.so, which the module loads in each child after the
 * fork (mod_tracetrap.c explains why); the module itself only holds the
 * tracepoint call sites, which cost a predicted branch while no session
 * enables them.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER tracetrap_httpd

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./tracetrap_httpd_tp.h"

#if !defined(TRACETRAP_HTTPD_TP_H) || \
    defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define TRACETRAP_HTTPD_TP_H

#include <stdint.h>

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(tracetrap_httpd, request_begin,
	LTTNG_UST_TP_ARGS(
		const char *, request_id,
		const char *, method,
		const char *, uri,
		const char *, vhost
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(request_id, request_id)
		lttng_ust_field_string(method, method)
		lttng_ust_field_string(uri, uri)
		lttng_ust_field_string(vhost, vhost)
	)
)

/* triggered: 1 when this request met a trigger rule of its location. */
LTTNG_UST_TRACEPOINT_EVENT(tracetrap_httpd, request_end,
	LTTNG_UST_TP_ARGS(
		const char *, request_id,
		const char *, method,
		const char *, uri,
		const char *, vhost,
		int, status,
		uint64_t, duration_us,
		int, triggered
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(request_id, request_id)
		lttng_ust_field_string(method, method)
		lttng_ust_field_string(uri, uri)
		lttng_ust_field_string(vhost, vhost)
		lttng_ust_field_integer(int, status, status)
		lttng_ust_field_integer(uint64_t, duration_us, duration_us)
		lttng_ust_field_integer(uint8_t, triggered, triggered)
	)
)

#endif /* TRACETRAP_HTTPD_TP_H */

#include <lttng/tracepoint-event.h>
