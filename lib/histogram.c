#include "histogram.h"

static unsigned
histogram_bucket(uint64_t v)
{
	unsigned e;

	if (v < HISTOGRAM_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);		/* 4 .. 63 */
	return HISTOGRAM_SUB + (e - 4) * HISTOGRAM_SUB +
	    (unsigned)((v >> (e - 4)) & (HISTOGRAM_SUB - 1));
}

/* The largest value that falls in bucket b. */
static uint64_t
histogram_upper(unsigned b)
{
	unsigned e, sub;

	if (b < HISTOGRAM_SUB)
		return b;
	e = (b - HISTOGRAM_SUB) / HISTOGRAM_SUB + 4;
	sub = (b - HISTOGRAM_SUB) % HISTOGRAM_SUB;
	return ((uint64_t)(HISTOGRAM_SUB + sub + 1) << (e - 4)) - 1;
}

void
histogram_add(struct histogram *h, uint64_t value)
{
	unsigned b = histogram_bucket(value);

	if (h->buckets[b] != UINT32_MAX)
		h->buckets[b]++;
	h->count++;
	if (value > h->max)
		h->max = value;
}

uint64_t
histogram_quantile(const struct histogram *h, double q)
{
	uint64_t	 rank, seen = 0, upper;
	unsigned	 b;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		q = 0;
	rank = (uint64_t)(q * (double)h->count + 0.5);
	if (rank < 1)
		rank = 1;
	for (b = 0; b < HISTOGRAM_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen >= rank) {
			upper = histogram_upper(b);
			return upper < h->max ? upper : h->max;
		}
	}
	return h->max;
}
