/*
 * What the watchers' two files share (watcher.c: building, sampling,
 * firing and status; watcher_process.c: which pids a process or pid-file
 * watcher follows), and nothing outside them uses: the recorder's
 * interface is watcher.h.
 */
#ifndef TT_WATCHER_SET_H
#define TT_WATCHER_SET_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "procstat.h"
#include "trigger_config.h"
#include "trigger_sink.h"
#include "watch.h"
#include "watcher.h"

#define WATCHER_PIDS_MAX	256	/* processes one watcher follows */
#define WATCHER_FILE_MAX	8192	/* /proc/stat of a big machine: more */
/*
 * Files kept open between ticks, all watchers together: a tick then costs
 * a pread() per file instead of a path walk, an open and a close. Past
 * the budget, files are opened at each tick.
 */
#define WATCHER_FDS_MAX		512
/*
 * A rescan reads the command name of the pids it did not see last time;
 * every WATCHER_COMM_REFRESH-th reads them all again, for a process that
 * exec()'d into another program under the same pid.
 */
#define WATCHER_COMM_REFRESH	6

struct watcher_comm {
	pid_t		 pid;
	char		 comm[PROCSTAT_COMM_MAX];
};

struct watcher_pid {
	pid_t		 pid;
	int		 fd;		/* its stat file, or -1 */
	uint64_t	 start_ticks;
	uint64_t	 cpu_ticks;
	int		 has_prev;	/* cpu_ticks is a previous sample */
};

struct watcher {
	struct watchers		*set;
	struct watcher_conf	 conf;
	struct watch_limits	 limits;
	struct watch_state	 state;
	struct event		*tick;
	char			 path[PATH_MAX];	/* system, cgroup, pid file */
	int			 fd;			/* path, kept open, or -1 */

	/* The previous cpu sample, for a rate. */
	struct procstat_cpu	 prev_cpu;
	uint64_t		 prev_usage_usec;
	uint64_t		 prev_us;
	int			 has_prev;

	struct watcher_pid	*pids;
	size_t			 npids;

	double			 value;
	int			 has_value;
	uint64_t		 samples;
	int64_t			 last_fire_realtime_us;
	char			 error[192];	/* the last sample's, or "" */
};

struct watchers {
	struct event_base	*base;
	struct trigger_sink	 sink;
	char			 procfs_root[TRIGGER_PATH_MAX];
	char			 sysfs_root[TRIGGER_PATH_MAX];
	uint64_t		 rescan_ms;
	long			 hz;
	long			 page_size;

	struct watcher		*list[WATCHERS_MAX];
	size_t			 n;
	size_t			 nprocess;	/* watchers that match by name */
	size_t			 npidfile;
	struct event		*rescan;
	uint64_t		 rescans;
	unsigned		 open_fds;
	struct watcher_comm	*comms;		/* the last rescan's, by pid */
	size_t			 ncomms;

	struct psi_set		*psi;
};

/* watcher.c */
/* root + "/" + rest, without doubling the slash of root "/". */
void		 watcher_join(char *out, size_t len, const char *root,
		    const char *rest);
/* <procfs_root>/proc/rest */
void		 watcher_proc_path(const struct watchers *, char *out,
		    size_t len, const char *rest);

/* watcher_process.c */
/*
 * Reads path through *fd, kept open between ticks while the set's budget
 * of descriptors lasts; -1 with errno (ESRCH: the process is gone).
 */
ssize_t		 watcher_read(struct watchers *, int *fd, const char *path,
		    char *buf, size_t size);
void		 watcher_close(struct watchers *, int *fd);
/* Stops following pids[i] (the last entry moves into its place). */
void		 watcher_drop_pid(struct watcher *, size_t i);
/* A tick saw pid under another name than the last rescan. */
void		 watcher_comm_learn(struct watchers *, pid_t pid,
		    const char *comm);
/* One pass over /proc (and the pid files): who each watcher follows. */
void		 watchers_rescan(struct watchers *);
void		 watchers_on_rescan(evutil_socket_t, short, void *);

#endif
