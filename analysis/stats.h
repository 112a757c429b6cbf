/* stats - order statistics over small arrays the caller owns (sorted in place). */
#ifndef MIGSCOPE_STATS_H
#define MIGSCOPE_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Nearest-rank percentile (p in 0..100) of v[0..n); sorts v. n must be > 0. */
int64_t stats_percentile(int64_t *v, size_t n, double p);

/* Over repeated runs: the mean (rounded half away from zero), the median and
 * the 95th percentile, both by nearest rank: the smallest value with at
 * least p % of the values at or below it, always one of the values (the
 * median of an even count is the lower middle one; p95 of fewer than 20
 * values is the largest). Sorts v. n must be > 0. */
struct stats_summary {
	int64_t mean, median, p95;
};
struct stats_summary stats_summarize(int64_t *v, size_t n);

#endif
