/*
 * A log-linear histogram of durations (or any unsigned value) in constant
 * memory: exact below 16, then 16 buckets per power of two, so a
 * percentile read from it is within 1/16 (6.25 %) of the true value, and
 * the maximum is kept exactly. HdrHistogram's idea, at one precision.
 */
#ifndef TT_HISTOGRAM_H
#define TT_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_SUB		16
#define HISTOGRAM_BUCKETS	(HISTOGRAM_SUB + (64 - 4) * HISTOGRAM_SUB)

struct histogram {
	uint64_t	 count;
	uint64_t	 max;
	uint32_t	 buckets[HISTOGRAM_BUCKETS];
};

void		histogram_add(struct histogram *, uint64_t value);
/* The value at quantile q (0..1): an upper bound of its bucket, or max. */
uint64_t	histogram_quantile(const struct histogram *, double q);

#endif
