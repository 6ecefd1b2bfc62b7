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
 */
#include <stdio.h>
#include <stdlib.h>
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
