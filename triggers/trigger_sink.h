/*
 * How a trigger source (this folder) talks to the recorder: it is handed
 * a sink when it is made, with whatever else it needs (an event base,
 * its configuration sections, the LTTng worker for the event rules), and
 * fires into it. A source never sees the recorder's structures, so it
 * can be read, tested and reused on its own; the recorder wires its
 * sources in one place (recorder/sources.c).
 *
 * The sources:
 *   watcher.c         cpu and memory watchers (watch.c: their threshold
 *                     logic; watcher_process.c: the pids they follow;
 *                     procstat.c: the /proc and cgroup parsers)
 *   psi.c             kernel pressure-stall (PSI) triggers
 *   event_rule.c      LTTng event rules: the loop's side; the sync with
 *                     the session daemon is event_rule_sync.c (on the
 *                     LTTng worker), notifications event_rule_channel.c
 *   trigger_config.c  their [trigger.*] sections of recorder.conf
 */
#ifndef TT_TRIGGER_SINK_H
#define TT_TRIGGER_SINK_H

#include <stddef.h>

struct trigger;
struct tracetrap_label;

struct trigger_sink {
	/* Called once per trigger; t is only valid during the call. */
	void	(*fire)(void *arg, const struct trigger *t);
	void	 *arg;
};

/*
 * Makes a trigger of source (this process as its sender, trigger_new())
 * and fires it into sink; one that cannot be made (a label that does not
 * fit) is logged and dropped.
 */
void	trigger_sink_fire(const struct trigger_sink *, const char *source,
	    const char *reason, int is_cluster,
	    const struct tracetrap_label *labels, size_t nlabels);

#endif
