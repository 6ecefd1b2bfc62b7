/*
 * PSI watchers (psi.h). The kernel interface (Documentation/accounting/
 * psi.rst): write "some|full STALL_US WINDOW_US" to an open pressure
 * file, then poll() it for POLLPRI, which comes at most once per window
 * while the stall goes on; POLLERR means the trigger is gone (its cgroup
 * was removed). Without CAP_SYS_RESOURCE the window must be a multiple of
 * 2 s; the configuration checks that first, and the kernel's EINVAL is
 * explained the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "clock.h"
#include "ini.h"
#include "log.h"
#include "procstat.h"
#include "psi.h"
#include "tracetrap.h"
#include "trigger_sink.h"
#include "xmalloc.h"

/* What the thread tells the loop: a watcher's index, and this bit. */
#define PSI_GONE	0x80

struct psi_watch {
	struct psi_conf	 conf;
	char		 path[PATH_MAX];
	int		 fd;
	uint64_t	 fires;
	int64_t		 last_fire_realtime_us;
	int		 is_gone;
};

struct psi_set {
	struct event_base	*base;
	struct trigger_sink	 sink;
	struct psi_watch	 watches[PSI_WATCHERS_MAX];
	size_t			 n;
	pthread_t		 thread;
	int			 is_running;
	int			 stop[2];	/* loop -> thread: stop */
	int			 notify[2];	/* thread -> loop: events */
	struct event		*ev;
};

static void
psi_path(const struct trigger_confs *confs, const struct psi_conf *c,
    char *out, size_t len)
{
	const char	*root = c->cgroup[0] != '\0' ? confs->sysfs_root :
			    confs->procfs_root;
	const char	*slash = root[strlen(root) - 1] == '/' ? "" : "/";
	const char	*resource = trigger_config_psi_resource(c->resource);

	if (c->cgroup[0] != '\0')
		snprintf(out, len, "%s%ssys/fs/cgroup/%s/%s.pressure", root,
		    slash, c->cgroup, resource);
	else
		snprintf(out, len, "%s%sproc/pressure/%s", root, slash,
		    resource);
}

/* Opens and arms one trigger; -1 with the reason in problem. */
static int
psi_open(struct psi_watch *w, char *problem, size_t len)
{
	char	 text[64];
	int	 saved;

	w->fd = open(w->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (w->fd == -1) {
		snprintf(problem, len, "cannot open %s: %s%s", w->path,
		    strerror(errno), errno != ENOENT ? "" :
		    w->conf.cgroup[0] != '\0' ? " (no such cgroup?)" :
		    " (a kernel without PSI, or booted with psi=0?)");
		return -1;
	}
	snprintf(text, sizeof(text), "%s %llu %llu", w->conf.is_full ? "full" :
	    "some", (unsigned long long)w->conf.stall_ms * 1000,
	    (unsigned long long)w->conf.window_ms * 1000);
	if (write(w->fd, text, strlen(text) + 1) == -1) {
		saved = errno;
		snprintf(problem, len, "the kernel refused the trigger '%s' "
		    "on %s: %s%s", text, w->path, strerror(saved),
		    saved == EINVAL ? " (without CAP_SYS_RESOURCE the "
		    "window must be a multiple of 2s; full is not defined "
		    "for cpu at the system level on older kernels)" : "");
		close(w->fd);
		w->fd = -1;
		return -1;
	}
	return 0;
}

struct psi_set *
psi_set_new(const struct trigger_confs *confs, const struct trigger_sink *sink,
    const char *name, char *err, size_t errlen, int *nerrors)
{
	struct psi_set		*set;
	struct psi_watch	*w;
	char			 problem[PATH_MAX + 256];
	size_t			 i;

	set = xcalloc(1, sizeof(*set));
	set->sink = *sink;
	set->stop[0] = set->stop[1] = set->notify[0] = set->notify[1] = -1;
	for (i = 0; i < confs->npsi; i++) {
		w = &set->watches[set->n];
		w->conf = confs->psi[i];
		psi_path(confs, &confs->psi[i], w->path, sizeof(w->path));
		if (psi_open(w, problem, sizeof(problem)) == -1) {
			ini_append_error(err, errlen, name, w->conf.line,
			    "[trigger.psi.%s] %s", w->conf.name, problem);
			(*nerrors)++;
			continue;
		}
		set->n++;
	}
	return set;
}

/*
 * The thread: poll() every trigger for POLLPRI, and the stop pipe. Each
 * event is one byte to the loop; a trigger that reports POLLERR is
 * reported once and no longer polled.
 */
static void *
psi_thread(void *arg)
{
	struct psi_set	*set = arg;
	struct pollfd	 fds[PSI_WATCHERS_MAX + 1];
	unsigned char	 byte;
	size_t		 i;
	sigset_t	 all;

	/* Signals are the loop's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (i = 0; i < set->n; i++) {
		fds[i].fd = set->watches[i].fd;
		fds[i].events = POLLPRI;
	}
	fds[set->n].fd = set->stop[0];
	fds[set->n].events = POLLIN;
	for (;;) {
		if (poll(fds, set->n + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("psi: poll");
			break;
		}
		if (fds[set->n].revents != 0)
			break;
		for (i = 0; i < set->n; i++) {
			if (fds[i].revents == 0)
				continue;
			byte = (unsigned char)i;
			if (fds[i].revents & (POLLERR | POLLNVAL)) {
				byte |= PSI_GONE;
				fds[i].fd = -1;
			}
			/* A full pipe holds enough to fire: drop the rest. */
			if (write(set->notify[1], &byte, 1) == -1 &&
			    errno != EAGAIN)
				log_warn("psi: notify");
		}
	}
	return NULL;
}

/* The avg10 of the pressure file's line of our kind, for the manifest. */
static void
psi_avg10(const struct psi_watch *w, char *out, size_t len)
{
	char		 buf[512];
	const char	*line, *p;

	snprintf(out, len, "?");
	if (procstat_read(w->path, buf, sizeof(buf)) <= 0)
		return;
	line = w->conf.is_full ? strstr(buf, "full ") : strstr(buf, "some ");
	if (line == NULL || (p = strstr(line, "avg10=")) == NULL)
		return;
	snprintf(out, len, "%.*s", (int)strcspn(p + 6, " \n"), p + 6);
}

static void
psi_fire(struct psi_set *set, struct psi_watch *w)
{
	struct tracetrap_label	 labels[5];
	char			 avg10[32], stall[32], window[32];

	w->fires++;
	w->last_fire_realtime_us = clock_realtime_us();
	psi_avg10(w, avg10, sizeof(avg10));
	snprintf(stall, sizeof(stall), "%llu",
	    (unsigned long long)w->conf.stall_ms);
	snprintf(window, sizeof(window), "%llu",
	    (unsigned long long)w->conf.window_ms);
	labels[0].key = "watcher";
	labels[0].value = w->conf.name;
	labels[1].key = "resource";
	labels[1].value = trigger_config_psi_resource(w->conf.resource);
	labels[2].key = "stall_ms";
	labels[2].value = stall;
	labels[3].key = "window_ms";
	labels[3].value = window;
	labels[4].key = "avg10";
	labels[4].value = avg10;
	log_warnx("psi watcher %s: %s stall of %s ms within %s ms on %s "
	    "(avg10 %s)", w->conf.name, w->conf.is_full ? "full" : "some",
	    stall, window, w->path, avg10);
	trigger_sink_fire(&set->sink, "psi", w->conf.reason,
	    w->conf.is_cluster, labels, 5);
}

static void
psi_on_notify(evutil_socket_t fd, short events, void *arg)
{
	struct psi_set	*set = arg;
	unsigned char	 bytes[64];
	ssize_t		 n, i;
	size_t		 index;

	(void)events;
	while ((n = read(fd, bytes, sizeof(bytes))) > 0) {
		for (i = 0; i < n; i++) {
			index = bytes[i] & ~PSI_GONE;
			if (index >= set->n)
				continue;
			if (bytes[i] & PSI_GONE) {
				set->watches[index].is_gone = 1;
				log_warnx("psi watcher %s: %s is gone (cgroup "
				    "removed?); it no longer fires",
				    set->watches[index].conf.name,
				    set->watches[index].path);
			} else
				psi_fire(set, &set->watches[index]);
		}
	}
}

void
psi_set_start(struct psi_set *set, struct event_base *base)
{
	if (set == NULL || set->n == 0)
		return;
	set->base = base;
	if (pipe2(set->stop, O_CLOEXEC) == -1 ||
	    pipe2(set->notify, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("psi: pipe");
	set->ev = event_new(set->base, set->notify[0],
	    EV_READ | EV_PERSIST, psi_on_notify, set);
	event_add(set->ev, NULL);
	if (pthread_create(&set->thread, NULL, psi_thread, set) != 0)
		fatalx("psi: cannot start its thread");
	pthread_setname_np(set->thread, "tt-psi");
	set->is_running = 1;
}

void
psi_set_free(struct psi_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	if (set->is_running) {
		if (write(set->stop[1], "x", 1) == -1)
			log_warn("psi: stop");
		pthread_join(set->thread, NULL);
	}
	if (set->ev != NULL)
		event_free(set->ev);
	for (i = 0; i < 2; i++) {
		if (set->stop[i] != -1)
			close(set->stop[i]);
		if (set->notify[i] != -1)
			close(set->notify[i]);
	}
	for (i = 0; i < set->n; i++)
		close(set->watches[i].fd);
	free(set);
}

size_t
psi_set_count(const struct psi_set *set)
{
	return set == NULL ? 0 : set->n;
}

void
psi_set_status(const struct psi_set *set, json_t *array)
{
	const struct psi_watch	*w;
	char			 when[64];
	size_t			 i;

	for (i = 0; set != NULL && i < set->n; i++) {
		w = &set->watches[i];
		when[0] = '\0';
		if (w->last_fire_realtime_us != 0)
			clock_format_utc(w->last_fire_realtime_us, when,
			    sizeof(when));
		json_array_append_new(array, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:I, s:I, s:s, s:I, s:s?}", "name", w->conf.name,
		    "kind", "psi", "target", w->path,
		    "pressure", w->conf.is_full ? "full" : "some",
		    "stall_ms", (json_int_t)w->conf.stall_ms,
		    "window_ms", (json_int_t)w->conf.window_ms,
		    "state", w->is_gone ? "gone" : "armed",
		    "fires", (json_int_t)w->fires,
		    "last_fire", when[0] != '\0' ? when : NULL));
	}
}

void
psi_set_metrics(const struct psi_set *set, struct evbuffer *out)
{
	size_t i;

	for (i = 0; set != NULL && i < set->n; i++)
		evbuffer_add_printf(out, "tracetrap_watcher_fires_total{"
		    "watcher=\"%s\",kind=\"psi\"} %llu\n",
		    set->watches[i].conf.name,
		    (unsigned long long)set->watches[i].fires);
}
