/*
 * Microsecond clocks (clock.c): the monotonic one for every interval and
 * limit, the real-time one for timestamps a person or a manifest reads.
 */
#ifndef TT_CLOCK_H
#define TT_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

uint64_t	 clock_monotonic_us(void);	/* CLOCK_MONOTONIC */
int64_t		 clock_realtime_us(void);	/* CLOCK_REALTIME */
/* "2026-11-22T07:01:09.123456Z"; "" when us cannot be a date. */
void		 clock_format_utc(int64_t us, char *buf, size_t len);
/* ms from now on clock, as the timespec a timed wait or join takes. */
void		 clock_deadline(clockid_t clock, uint64_t ms,
		    struct timespec *deadline);

#endif
