/*
 * Tracepoint provider of the integration-test application: one event per
 * tick, numbered, so a test can tell which events a snapshot kept; and a
 * request with a duration and a URL, the shape of event an LTTng
 * event-rule trigger filters on (duration_us > 1000000).
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ttapp

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./ttapp_tp.h"

#if !defined(TTAPP_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define TTAPP_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(ttapp, tick,
	LTTNG_UST_TP_ARGS(unsigned long, n),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(unsigned long, n, n)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(ttapp, request,
	LTTNG_UST_TP_ARGS(unsigned long, duration_us, const char *, url,
	    long, status, double, ratio),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(unsigned long, duration_us, duration_us)
		lttng_ust_field_string(url, url)
		lttng_ust_field_integer(long, status, status)
		lttng_ust_field_float(double, ratio, ratio)
	)
)

#endif /* TTAPP_TP_H */

#include <lttng/tracepoint-event.h>
