/* stats - order statistics over small arrays the caller owns (sorted in place). */
#ifndef MIGSCOPE_STATS_H
#define MIGSCOPE_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Nearest-rank percentile (p in 0..100) of v[0..n); sorts v. n must be > 0. */
int64_t stats_percentile(int64_t *v, size_t n, double p);

#endif
