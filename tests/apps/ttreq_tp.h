/*
 * ttreq's own tracepoint: a step of work inside a request, so a
 * request's drill-down has events between its begin and its end.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ttreq

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./ttreq_tp.h"

#if !defined(TTREQ_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define TTREQ_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(ttreq, work,
	LTTNG_UST_TP_ARGS(const char *, request_id, int, step,
	    const char *, what),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(request_id, request_id)
		lttng_ust_field_integer(int, step, step)
		lttng_ust_field_string(what, what)
	)
)

#endif /* TTREQ_TP_H */

#include <lttng/tracepoint-event.h>
