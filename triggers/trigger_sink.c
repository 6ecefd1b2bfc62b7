/*
 * Firing a source's trigger into the recorder's sink (trigger_sink.h):
 * the trigger is encoded and parsed like any datagram, so a watcher's or
 * an event rule's trigger enters the policy through the same door as an
 * application's.
 */
#include <stdlib.h>

#include "datagram.h"
#include "log.h"
#include "trigger_sink.h"

void
trigger_sink_fire(const struct trigger_sink *sink, const char *source,
    const char *reason, int is_cluster, const struct tracetrap_label *labels,
    size_t nlabels)
{
	struct trigger	*t;
	char		 err[256];

	t = trigger_new(source, reason, is_cluster ? TRACETRAP_SCOPE_CLUSTER :
	    TRACETRAP_SCOPE_NODE, labels, nlabels, err, sizeof(err));
	if (t == NULL) {
		log_warnx("trigger from %s not made: %s", source, err);
		return;
	}
	sink->fire(sink->arg, t);
	free(t);
}
