/*
 * ttapp: a real lttng-ust application for the integration tests.
 *
 * usage: ttapp COUNT [STATEFILE] [LINGER_SECONDS]
 *
 * Emits ttapp:tick with n = 0 .. COUNT-1, then writes the last n to
 * STATEFILE (so the test knows which event must end the snapshot) and stays
 * alive LINGER_SECONDS, keeping its registration with the session daemon.
 * COUNT 0 means: tick forever, once a millisecond, writing the last n to
 * STATEFILE every 100 ticks.
 *
 * usage: ttapp request FIFO STATEFILE
 *
 * Emits one ttapp:request per line "DURATION_US URL [STATUS [RATIO]]"
 * written to FIFO, then writes the number of requests emitted so far to
 * STATEFILE, so a test knows the event was emitted. The FIFO is opened
 * read-write: writers never block, and the app never sees an end of file
 * between two writers.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ttapp_tp.h"

static void
write_state(const char *path, unsigned long n)
{
	FILE *f;
	char tmp[4096];

	if (path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "%lu\n", n);
	fclose(f);
	rename(tmp, path);
}

static int
requests(const char *fifo, const char *state)
{
	FILE *f;
	char line[4096], url[2048];
	unsigned long duration_us, emitted = 0;
	long status;
	double ratio;
	int fd, n;

	if ((fd = open(fifo, O_RDWR)) == -1 || (f = fdopen(fd, "r")) == NULL) {
		perror(fifo);
		return 1;
	}
	write_state(state, 0);
	while (fgets(line, sizeof(line), f) != NULL) {
		status = 200;
		ratio = 0.5;
		n = sscanf(line, "%lu %2047s %ld %lf", &duration_us, url,
		    &status, &ratio);
		if (n < 2) {
			fprintf(stderr, "ttapp: bad request line: %s", line);
			continue;
		}
		lttng_ust_tracepoint(ttapp, request, duration_us, url, status,
		    ratio);
		write_state(state, ++emitted);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long count, n;
	const char *state = argc > 2 ? argv[2] : NULL;
	unsigned linger = argc > 3 ? (unsigned)atoi(argv[3]) : 0;
	struct timespec ms = { 0, 1000000 };

	if (argc < 2) {
		fprintf(stderr, "usage: ttapp COUNT [STATEFILE] [LINGER]\n");
		return 2;
	}
	if (strcmp(argv[1], "request") == 0) {
		if (argc != 4) {
			fprintf(stderr,
			    "usage: ttapp request FIFO STATEFILE\n");
			return 2;
		}
		return requests(argv[2], argv[3]);
	}
	count = strtoul(argv[1], NULL, 10);
	if (count == 0) {
		for (n = 0;; n++) {
			lttng_ust_tracepoint(ttapp, tick, n);
			if (n % 100 == 0)
				write_state(state, n);
			nanosleep(&ms, NULL);
		}
	}
	for (n = 0; n < count; n++)
		lttng_ust_tracepoint(ttapp, tick, n);
	write_state(state, count - 1);
	sleep(linger);
	return 0;
}
