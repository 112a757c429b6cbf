/*
 * clock_align - the pass before the analysis: reads each capture on its own
 * (up to the clock table's cap, usually the first part of the stream), samples
 * the packets every capture can share (migration-stream segments and ACKs,
 * echo requests and replies) and estimates every capture's clock offset from
 * capture ref (clock.h). The analysis then reads every stamp on ref's clock,
 * so cross-host figures (guest silence, announce delays, probe phases) hold
 * even when the hosts' clocks differ by seconds.
 *
 * out[MAX_INPUTS]: an input with no shared packet with any other is !valid
 * (left on its own clock). Returns 0, or -errno with one line in err.
 */
#ifndef MIGSCOPE_CLOCK_ALIGN_H
#define MIGSCOPE_CLOCK_ALIGN_H

#include "analysis/analyzer.h"
#include "analysis/clock.h"

int clock_align(const struct analyze_config *cfg, int ref, struct clock_estimate *out,
		char *err, size_t errlen);

#endif
