#include "analysis/rate_series.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/limits.h"

/* Halves the resolution: bins 2i and 2i+1 become bin i. */
static void fold(struct rate_series *s)
{
	uint32_t n = (s->nbins + 1) / 2;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t a = 2 * i, b = 2 * i + 1;

		s->bin[i].bytes = s->bin[a].bytes + (b < s->nbins ? s->bin[b].bytes : 0);
		s->bin[i].retx = s->bin[a].retx + (b < s->nbins ? s->bin[b].retx : 0);
	}
	memset(s->bin + n, 0, (s->cap - n) * sizeof(s->bin[0]));
	s->nbins = n;
	s->bin_ns *= 2;
}

/* Room for bin idx (< RATE_SERIES_BINS): 0 or -ENOMEM. */
static int grow(struct rate_series *s, uint64_t idx)
{
	uint32_t cap = s->cap ? s->cap : 16;
	struct rate_bin *b;

	while (cap <= idx)
		cap *= 2;
	if (cap > RATE_SERIES_BINS)
		cap = RATE_SERIES_BINS;
	b = realloc(s->bin, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b + s->cap, 0, (cap - s->cap) * sizeof(*b));
	s->bin = b;
	s->cap = cap;
	return 0;
}

int rate_series_add(struct rate_series *s, int64_t ts_ns, uint64_t bytes, bool retx)
{
	uint64_t offset, idx;

	if (!s->bin_ns) {
		s->t0_ns = ts_ns;
		s->bin_ns = RATE_BIN_NS;
	}
	offset = ts_ns > s->t0_ns ? (uint64_t)ts_ns - (uint64_t)s->t0_ns : 0;
	idx = offset / (uint64_t)s->bin_ns;
	/* a hostile stamp hours away folds a few dozen times, then stops
	 * before the width could overflow */
	while (idx >= RATE_SERIES_BINS && s->bin_ns <= INT64_MAX / 4) {
		fold(s);
		idx = offset / (uint64_t)s->bin_ns;
	}
	if (idx >= RATE_SERIES_BINS)
		idx = RATE_SERIES_BINS - 1;
	if (idx >= s->cap && grow(s, idx))
		return -ENOMEM;
	s->bin[idx].bytes += bytes;
	s->bin[idx].retx += retx;
	if (idx + 1 > s->nbins)
		s->nbins = (uint32_t)idx + 1;
	return 0;
}

void rate_series_free(struct rate_series *s)
{
	free(s->bin);
	s->bin = NULL;
	s->cap = s->nbins = 0;
}
