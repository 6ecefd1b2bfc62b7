/* The probes of ttreq: its own provider and mod_tracetrap's. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "ttreq_tp.h"
#include "tracetrap_httpd_tp.h"
