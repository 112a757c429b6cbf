/*
 * probes - the guest's echo probes in one migration: the probe gap (the
 * downtime as the prober saw it: the last reply at or before the resume to
 * the first after it), whether the guest answered again, the probe interval
 * (median spacing of requests), loss and round trips by phase (enum phase in
 * reports/report.h) with where each phase begins, and every probe for the
 * plot.
 *
 * Vantage: the prober's captures (ctl) when they hold probes to the guest,
 * else whichever compute NIC saw each probe first.
 *
 * Ownership: the probes are borrowed from the guest set. probes_fill stores
 * the plot's points in rm (report_free releases them).
 * Errors: 0 or -ENOMEM.
 */
#ifndef MIGSCOPE_PROBES_H
#define MIGSCOPE_PROBES_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/guest.h"
#include "reports/report.h"

struct probe_scope {
	const struct probe *probes;  /* every probe, in request order */
	uint32_t nprobes;
	int target;                  /* the guest's echo target, -1: none */
	const char *name;            /* what its probes are: "icmp" or "arp" */
	int ninputs;
	const bool *is_ctl;          /* per capture: the prober's, or no stream seen */
	int64_t window_lo, window_hi; /* this migration's share of the captures */
	int64_t resume_ns;           /* the anchor (switchover_resume) */
	int64_t postcopy_end_ns;     /* the stream's last data in postcopy, 0: precopy */
};

/* The prober's captures: ctl captures that hold probes to the guest. */
uint32_t probes_prober_mask(const struct probe_scope *ps);

/* The downtime's probe figures and the loss block of rm, which must hold the
 * stream's start and end; ps the resume. Without a target or a stream end,
 * nothing. */
int probes_fill(const struct probe_scope *ps, struct report_migration *rm);

#endif
