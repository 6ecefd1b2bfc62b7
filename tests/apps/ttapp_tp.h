/*
 * Tracepoint provider of the integration-test application: one event per
 * tick, numbered, so a test can tell which events a snapshot kept.
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

#endif /* TTAPP_TP_H */

#include <lttng/tracepoint-event.h>
