/*
 * rate_series - a stream's payload bytes and retransmitted segments over time,
 * in fixed-width bins, for the throughput plot (reports/render_html.c).
 *
 * Bins start at the series' first byte and are RATE_BIN_NS wide, the same
 * edges as the peak figure's meter (flows.c), so the highest closed bin is the
 * reported peak. Memory is fixed: when a byte falls past the last of
 * RATE_SERIES_BINS bins, neighbouring bins merge pairwise and the width
 * doubles (100 ms bins hold 102 s of stream; a 10-minute stream ends in 800 ms
 * bins). The bins are allocated as the stream goes on (16, then doubling):
 * an evacuation keeps eight series per guest, most of a second or two.
 *
 * Ownership: the series lives inside its owner, zeroed before the first
 * add; rate_series_free() releases its bins. rate_series_add() returns 0,
 * or -ENOMEM when the bins could not grow (that add is not counted).
 */
#ifndef MIGSCOPE_RATE_SERIES_H
#define MIGSCOPE_RATE_SERIES_H

#include <stdbool.h>
#include <stdint.h>

enum { RATE_SERIES_BINS = 1024 };

struct rate_series {
	int64_t t0_ns;   /* start of bin 0: the first byte's time */
	int64_t bin_ns;  /* width of every bin; 0 while empty */
	uint32_t nbins;  /* bins in use: up to the last one that got a byte */
	uint32_t cap;    /* bins allocated */
	struct rate_bin {
		uint64_t bytes;
		uint32_t retx;
	} *bin;
};

/* Adds `bytes` of payload at ts_ns, one retransmitted segment when `retx`.
 * Times before t0 (out-of-order stamps) count in bin 0. */
int rate_series_add(struct rate_series *s, int64_t ts_ns, uint64_t bytes, bool retx);
void rate_series_free(struct rate_series *s);

#endif
