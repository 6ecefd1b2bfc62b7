/*
 * The probes of the tracetrap_httpd provider, built alone into
 * mod_tracetrap_tp.so and linked with liblttng-ust. Loading this object
 * starts lttng-ust in the process (its listener threads, its registration
 * with the session daemon), which is why mod_tracetrap loads it in each
 * child rather than in Apache's parent.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "tracetrap_httpd_tp.h"
