/*
 * phases - where each phase of a migration begins (enum phase in
 * reports/report.h), so that the probes and the guest's own requests are
 * filed the same way: before the stream, precopy, the pause (from the
 * guest's last frame at the source NIC), postcopy (from the resume to the
 * stream's last data), after.
 */
#ifndef MIGSCOPE_PHASES_H
#define MIGSCOPE_PHASES_H

#include <stdint.h>

#include "reports/report.h"

struct phase_bounds {
	int64_t start, pause, resume, after;
};

/* Where the pause began: the guest's last frame at the source NIC before
 * the resume, else the probe gap's start (the last answer before it), else
 * 0 (unknown). One rule for the probes and the guest's own requests. */
static inline int64_t phase_pause_ns(const struct report_downtime *d, int64_t resume_ns)
{
	if (d->silence_start_ns.set && d->silence_start_ns.v < resume_ns)
		return d->silence_start_ns.v;
	return d->gap_start_ns.set ? d->gap_start_ns.v : 0;
}

/* pause_ns 0: unknown (the pause is empty); postcopy_end_ns 0: precopy */
static inline struct phase_bounds phase_bounds_make(int64_t start_ns, int64_t pause_ns,
						    int64_t resume_ns, int64_t postcopy_end_ns)
{
	struct phase_bounds b = { .start = start_ns, .resume = resume_ns,
				  .pause = pause_ns ? pause_ns : resume_ns,
				  .after = postcopy_end_ns > resume_ns ? postcopy_end_ns : resume_ns };

	if (b.pause > b.resume)
		b.pause = b.resume;
	return b;
}

static inline enum phase phase_of(int64_t t, const struct phase_bounds *b)
{
	if (t < b->start)
		return PHASE_BEFORE;
	if (t <= b->pause)
		return PHASE_PRECOPY;
	if (t < b->resume)
		return PHASE_PAUSE;
	if (t < b->after)
		return PHASE_POSTCOPY;
	return PHASE_AFTER;
}

#endif
