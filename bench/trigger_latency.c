/*
 * trigger_latency: times datagram-to-published-snapshot, for
 * bench/trigger-latency.sh (compiled by it, never by the Makefile).
 *
 * usage: trigger_latency TRIGGER_SOCKET SPOOL_DIR DONE_DIR COUNT [GAP_MS]
 *
 * COUNT times, one after the other: take t0 (CLOCK_MONOTONIC), send one
 * trigger through libtracetrap, block on inotify until a snapshot directory
 * is renamed into SPOOL_DIR (the recorder publishes with rename(2), so
 * IN_MOVED_TO is the moment a reader could first see it), take t1.
 * Prints "ID MICROSECONDS" per snapshot on stdout.
 *
 * Each snapshot is then moved out of the spool into DONE_DIR and its trace
 * deleted, keeping manifest.json for record_us: a 64 MiB-per-CPU ring would
 * otherwise fill the disk within the run. That happens after t1 and before
 * the next t0, then GAP_MS (default 50) passes so the recorder's own
 * post-snapshot work does not queue in front of the next trigger.
 */
#define _GNU_SOURCE
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracetrap.h"

#define WAIT_MS		30000	/* per snapshot; a stuck recorder ends the run */

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Keeps DONE/ID/manifest.json, drops the trace. */
static void
retire(const char *spool, const char *done, const char *id)
{
	char from[PATH_MAX], to[PATH_MAX];

	snprintf(from, sizeof(from), "%s/%s", spool, id);
	snprintf(to, sizeof(to), "%s/%s", done, id);
	if (rename(from, to) == -1) {
		fprintf(stderr, "rename %s: %s\n", from, strerror(errno));
		return;
	}
	snprintf(to, sizeof(to), "%s/%s/trace", done, id);
	nftw(to, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Waits for a directory to be renamed into the watched one; 0 or -1. */
static int
wait_published(int ifd, char *id, size_t idlen)
{
	char			 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct pollfd		 pfd = { .fd = ifd, .events = POLLIN };
	long long		 deadline = now_us() + WAIT_MS * 1000LL;
	ssize_t			 n;
	char			*p;

	for (;;) {
		long long left = (deadline - now_us()) / 1000;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		if ((n = read(ifd, buf, sizeof(buf))) <= 0)
			return -1;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_MOVED_TO) && (ev->mask & IN_ISDIR) &&
			    ev->len > 0 && ev->name[0] != '.') {
				snprintf(id, idlen, "%s", ev->name);
				return 0;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	struct timespec	 gap;
	char		 id[NAME_MAX + 1];
	long long	 t0, t1;
	long		 count, i, gap_ms;
	int		 ifd;

	if (argc < 5) {
		fprintf(stderr, "usage: trigger_latency TRIGGER_SOCKET SPOOL "
		    "DONE_DIR COUNT [GAP_MS]\n");
		return 2;
	}
	count = strtol(argv[4], NULL, 10);
	gap_ms = argc > 5 ? strtol(argv[5], NULL, 10) : 50;
	gap.tv_sec = gap_ms / 1000;
	gap.tv_nsec = (gap_ms % 1000) * 1000000L;
	if ((ifd = inotify_init1(IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(ifd, argv[2], IN_MOVED_TO) == -1) {
		perror("inotify");
		return 1;
	}
	for (i = 0; i < count; i++) {
		t0 = now_us();
		if (tracetrap_trigger_to(argv[1], "bench", "trigger-latency",
		    TRACETRAP_SCOPE_NODE, NULL, 0) == -1) {
			perror("tracetrap_trigger_to");
			return 1;
		}
		if (wait_published(ifd, id, sizeof(id)) == -1) {
			fprintf(stderr, "no snapshot within %d ms\n", WAIT_MS);
			return 1;
		}
		t1 = now_us();
		printf("%s %lld\n", id, t1 - t0);
		fflush(stdout);
		retire(argv[2], argv[3], id);
		nanosleep(&gap, NULL);
	}
	return 0;
}
