/*
 * Pressure-stall watchers: kernel PSI triggers on /proc/pressure/{cpu,
 * memory,io} or a cgroup's *.pressure. The kernel says when a resource
 * stalled tasks for `stall` within `window`; nothing is polled. One
 * thread blocks in poll(POLLPRI) on every trigger (libevent cannot wait
 * for POLLPRI) and hands each event to the loop through a pipe, where it
 * becomes a trigger of source psi.
 */
#ifndef TT_PSI_H
#define TT_PSI_H

#include <stddef.h>

#include <jansson.h>

#include "trigger_config.h"

struct evbuffer;
struct event_base;
struct psi_set;
struct trigger_sink;

/*
 * Opens every [trigger.psi.NAME] of confs (nothing runs yet). Problems go
 * to err as "name:line: message\n", counted in *nerrors; the set holds
 * what could be opened.
 */
struct psi_set	*psi_set_new(const struct trigger_confs *,
		    const struct trigger_sink *, const char *name, char *err,
		    size_t errlen, int *nerrors);
void		 psi_set_start(struct psi_set *, struct event_base *);
void		 psi_set_free(struct psi_set *);
size_t		 psi_set_count(const struct psi_set *);
/* Appends one object per PSI watcher to array. */
void		 psi_set_status(const struct psi_set *, json_t *array);
void		 psi_set_metrics(const struct psi_set *, struct evbuffer *);

#endif
