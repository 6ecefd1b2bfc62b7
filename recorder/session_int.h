/*
 * What session.c (the jobs, the workers, snapshots and publishing) and
 * session_setup.c (creating, adopting and checking the LTTng session)
 * share; nothing else of the recorder includes it (its interface is
 * session.h).
 */
#ifndef TT_SESSION_INT_H
#define TT_SESSION_INT_H

#include <stddef.h>

#include "config.h"
#include "session.h"
#include "worker.h"

#define SESSION_UST_CHANNEL	"tracetrap"
#define SESSION_KERNEL_CHANNEL	"tracetrap-kernel"
#define SESSION_OUTPUT_NAME	"snapshot"

struct session {
	struct worker		*worker;	/* liblttng-ctl calls only */
	struct worker		*disk;		/* publish, manifests, removal */

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
