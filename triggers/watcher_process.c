/*
 * Which processes a watcher follows (watcher_set.h): a process watcher
 * matches by command name, a pid-file watcher reads its file. The
 * process list is read only every [trigger] process_rescan, with a cache
 * of the command names it saw; between rescans a tick reads only the
 * stat files of the pids it follows, kept open within a budget, so its
 * cost does not grow with the number of processes on the node.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "procstat.h"
#include "watcher_set.h"

/*
 * Reads path through *fd, opening it on first use while the budget
 * lasts. A file that fails (a process gone: ESRCH) is closed, so that
 * the next read opens it again, or not at all.
 */
ssize_t
watcher_read(struct watchers *set, int *fd, const char *path, char *buf,
    size_t size)
{
	ssize_t	 n;
	int	 saved;

	if (*fd == -1 && set->open_fds < WATCHER_FDS_MAX &&
	    (*fd = open(path, O_RDONLY | O_CLOEXEC)) != -1)
		set->open_fds++;
	if (*fd == -1)
		return procstat_read(path, buf, size);
	if ((n = procstat_pread(*fd, buf, size)) <= 0) {
		saved = errno;
		close(*fd);
		*fd = -1;
		set->open_fds--;
		errno = n == 0 ? ESRCH : saved;
		return -1;
	}
	return n;
}

void
watcher_close(struct watchers *set, int *fd)
{
	if (*fd == -1)
		return;
	close(*fd);
	*fd = -1;
	set->open_fds--;
}

static struct watcher_pid *
watcher_find_pid(struct watcher *w, pid_t pid)
{
	size_t i;

	for (i = 0; i < w->npids; i++)
		if (w->pids[i].pid == pid)
			return &w->pids[i];
	return NULL;
}

static void
watcher_add_pid(struct watcher *w, pid_t pid)
{
	if (watcher_find_pid(w, pid) != NULL || w->npids == WATCHER_PIDS_MAX)
		return;
	w->pids[w->npids].pid = pid;
	w->pids[w->npids].fd = -1;
	w->pids[w->npids].start_ticks = 0;
	w->pids[w->npids].has_prev = 0;
	w->npids++;
}

void
watcher_drop_pid(struct watcher *w, size_t i)
{
	watcher_close(w->set, &w->pids[i].fd);
	w->pids[i] = w->pids[--w->npids];
}

/* The pid a pid file names, or -1. */
static pid_t
watcher_read_pidfile(const char *path)
{
	char		 buf[64];
	uint64_t	 pid;

	if (procstat_read(path, buf, sizeof(buf)) == -1 ||
	    procstat_parse_uint(buf, &pid) == -1 || pid == 0 ||
	    pid > INT_MAX)
		return -1;
	return (pid_t)pid;
}

static int
watcher_comm_compare(const void *a, const void *b)
{
	const struct watcher_comm *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* A tick saw pid under another name than the cache holds. */
void
watcher_comm_learn(struct watchers *set, pid_t pid, const char *comm)
{
	struct watcher_comm	 key, *known;

	key.pid = pid;
	if (set->comms != NULL && (known = bsearch(&key, set->comms,
	    set->ncomms, sizeof(key), watcher_comm_compare)) != NULL)
		snprintf(known->comm, sizeof(known->comm), "%s", comm);
}

/*
 * The command name of pid into out: from the last rescan when it was
 * there and this is not a refresh, else from its comm file. -1 when the
 * process is gone.
 */
static int
watcher_comm(struct watchers *set, pid_t pid, int is_refresh,
    struct watcher_comm *out)
{
	struct watcher_comm	 key, *known;
	char			 path[PATH_MAX], rel[32], text[64];

	out->pid = pid;
	key.pid = pid;
	if (!is_refresh && set->comms != NULL && (known = bsearch(&key,
	    set->comms, set->ncomms, sizeof(key), watcher_comm_compare))
	    != NULL) {
		memcpy(out->comm, known->comm, sizeof(out->comm));
		return 0;
	}
	snprintf(rel, sizeof(rel), "%d/comm", (int)pid);
	watcher_proc_path(set, path, sizeof(path), rel);
	if (procstat_read(path, text, sizeof(text)) <= 0)
		return -1;	/* gone since readdir */
	text[strcspn(text, "\n")] = '\0';
	snprintf(out->comm, sizeof(out->comm), "%s", text);
	return 0;
}

/*
 * One pass over /proc: every process watcher gets the pids whose comm is
 * its target, and loses those that are gone; a pid file is read again.
 */
void
watchers_rescan(struct watchers *set)
{
	struct watcher	*w;
	struct dirent	*de;
	DIR		*dir;
	char		 path[PATH_MAX], *end;
	unsigned char	 seen[WATCHERS_MAX][WATCHER_PIDS_MAX];
	struct watcher_pid *p;
	struct watcher_comm *comms = NULL, *grown;
	long		 pid;
	size_t		 i, j, ncomms = 0, size = 0;
	pid_t		 file_pid;
	int		 is_refresh;

	is_refresh = set->rescans % WATCHER_COMM_REFRESH == 0;
	set->rescans++;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < set->n; i++) {
		w = set->list[i];
		if (w->conf.target != WATCHER_PIDFILE)
			continue;
		file_pid = watcher_read_pidfile(w->path);
		for (j = 0; j < w->npids; j++)
			if (w->pids[j].pid != file_pid)
				watcher_drop_pid(w, j--);
		if (file_pid > 0)
			watcher_add_pid(w, file_pid);
	}
	if (set->nprocess == 0)
		return;
	watcher_join(path, sizeof(path), set->procfs_root, "proc");
	if ((dir = opendir(path)) == NULL) {
		log_warn("watchers: %s", path);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid > INT_MAX)
			continue;
		if (ncomms == size) {
			size = size == 0 ? 1024 : size * 2;
			if ((grown = reallocarray(comms, size,
			    sizeof(*comms))) == NULL)
				fatal("reallocarray");
			comms = grown;
		}
		if (watcher_comm(set, (pid_t)pid, is_refresh,
		    &comms[ncomms]) == -1)
			continue;
		for (i = 0; i < set->n; i++) {
			w = set->list[i];
			if (w->conf.target != WATCHER_PROCESS ||
			    strcmp(w->conf.target_arg, comms[ncomms].comm) != 0)
				continue;
			watcher_add_pid(w, (pid_t)pid);
			p = watcher_find_pid(w, (pid_t)pid);
			if (p != NULL)
				seen[i][p - w->pids] = 1;
		}
		ncomms++;
	}
	closedir(dir);
	qsort(comms, ncomms, sizeof(*comms), watcher_comm_compare);
	free(set->comms);
	set->comms = comms;
	set->ncomms = ncomms;
	for (i = 0; i < set->n; i++) {
		w = set->list[i];
		if (w->conf.target != WATCHER_PROCESS)
			continue;
		/* Backwards: a drop moves the last entry into the hole. */
		for (j = w->npids; j-- > 0;) {
			if (!seen[i][j]) {
				seen[i][j] = seen[i][w->npids - 1];
				watcher_drop_pid(w, j);
			}
		}
	}
}

void
watchers_on_rescan(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	watchers_rescan(arg);
}
