/*
 * The recorder's clocks: CLOCK_MONOTONIC for every interval and limit,
 * CLOCK_REALTIME for what a person reads (manifests, status). In a file
 * of their own so that the unit tests of what uses them link without the
 * daemon's main().
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "recorder.h"

uint64_t
recorder_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t
recorder_realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
recorder_format_time(int64_t us, char *buf, size_t len)
{
	time_t		 sec = (time_t)(us / 1000000);
	struct tm	 tm;
	char		 stamp[32];

	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06lldZ", stamp, (long long)(us % 1000000));
}
