#include "analysis/stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t stats_percentile(int64_t *v, size_t n, double p)
{
	size_t rank;

	qsort(v, n, sizeof(*v), cmp_i64);
	/* p * n first: 7 / 100.0 * 100 is 7.000000000000001 */
	rank = (size_t)ceil(p * (double)n / 100.0);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

struct stats_summary stats_summarize(int64_t *v, size_t n)
{
	struct stats_summary s;
	long double sum = 0; /* x86 64-bit mantissa: exact below 2^64 ns or bytes */

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s.mean = (int64_t)llroundl(sum / (long double)n);
	s.median = stats_percentile(v, n, 50);
	s.p95 = stats_percentile(v, n, 95);
	return s;
}
