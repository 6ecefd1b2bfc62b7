/*
 * The clocks every program reads: CLOCK_MONOTONIC for intervals, limits
 * and timers, CLOCK_REALTIME for what a person reads (manifests, status,
 * the catalog). In a file of their own so that the unit tests of what
 * uses them link without a daemon's main().
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"

uint64_t
clock_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
clock_deadline(clockid_t clock, uint64_t ms, struct timespec *deadline)
{
	clock_gettime(clock, deadline);
	deadline->tv_sec += (time_t)(ms / 1000);
	deadline->tv_nsec += (long)(ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

int64_t
clock_realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
clock_format_utc(int64_t us, char *buf, size_t len)
{
	time_t		seconds = (time_t)(us / 1000000);
	struct tm	tm;
	char		date[32];

	if (gmtime_r(&seconds, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "%s.%06dZ", date, (int)(us % 1000000));
}
