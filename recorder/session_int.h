/*
 * What session.c (the jobs, the workers, snapshots and publishing) and
 * session_setup.c (creating, adopting and checking the LTTng session)
 * share; nothing else of the recorder includes it (its interface is
 * session.h).
 */
#ifndef TT_SESSION_INT_H
#define TT_SESSION_INT_H

#include <pthread.h>
#include <stddef.h>

#include "config.h"
#include "session.h"
#include "worker.h"

#define SESSION_UST_CHANNEL	"tracetrap"
#define SESSION_KERNEL_CHANNEL	"tracetrap-kernel"
#define SESSION_OUTPUT_NAME	"snapshot"
/*
 * Spare partial dirs kept ready: one for the record that follows a
 * snapshot while that one is published, one more for a burst.
 */
#define SESSION_SPARES		2

struct session {
	struct worker		*worker;	/* liblttng-ctl calls only */
	struct worker		*disk;		/* publish, manifests, removal */

	/*
	 * Spare partial dirs in the spool's .partial (spool.h), made by the
	 * disk worker, taken by the LTTng worker: under spare_lock. The
	 * sequence of their names is the disk worker's alone.
	 */
	pthread_mutex_t		 spare_lock;
	char			 spares[SESSION_SPARES][128];
	unsigned		 nspares;
	unsigned		 spare_seq;

	/* Worker-thread state only. */
	struct session_state	 state;
	struct config		 applied;	/* what the session runs */
	int			 has_applied;
	int			 is_reverted;	/* a change LTTng refused */
	char			 revert_reason[512];
};

/* liblttng-ctl's message for a return code of either sign. */
const char	*session_strerror(int ret);

/*
 * LTTng worker. Creates or adopts the session and makes sure it records
 * (session_setup), or checks it cheaply first and sets it up again only
 * when it is gone or differs (session_check). 0, or -1 with err.
 */
int		 session_setup(struct session *, const struct config *,
		    char *err, size_t errlen);
int		 session_check(struct session *, const struct config *,
		    char *err, size_t errlen);

#endif
