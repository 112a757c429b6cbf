/*
 * report_build - turns what the flow table and the guest set gathered into the
 * report model (reports/report.h): the migrations the flow table hands over
 * (flow_table__migrations), the role of each capture in each (roles.h), the
 * stream's figures, the probes' (probes.h), the guest's silence and
 * announcements, and the switchover (timeline, announce schedule, verdict:
 * timeline.h, announce_sched.h, diagnose.h). It walks the flow table once.
 *
 * Returns 0 or -ENOMEM; fills r, which the caller releases with report_free().
 */
#ifndef MIGSCOPE_REPORT_BUILD_H
#define MIGSCOPE_REPORT_BUILD_H

#include <stdint.h>

#include "analysis/analyzer.h"
#include "analysis/clock.h"
#include "analysis/flows.h"
#include "analysis/guest.h"
#include "analysis/guest_conn.h"
#include "reports/report.h"

struct build_input {
	const char *path;
	const char *label;
	int linktype;
	uint64_t packets;
	int64_t first_ns, last_ns;   /* on the reference clock */
	int64_t tick_ns;             /* the stamps' resolution (capture_reader__tick_ns) */
	struct clock_estimate clock; /* this capture's clock minus the reference's */
	bool clock_ref;              /* the reference itself */
	bool retrans_tracer;         /* a migscope capture whose node counted its own retransmits */
	bool exact;                  /* its stream counts are a migscope capture's counters */
};

/* hv[0..nhv): what the hypervisor recorded, one per --hypervisor file;
 * gc: the other TCP/UDP flows (the guest's own among them). */
int report_build(const struct flow_table *ft, const struct guest_set *gs,
		 const struct guest_conns *gc, const struct build_input *in, const struct analyze_config *cfg,
		 const struct report_hypervisor *hv, int nhv, struct report *r);

#endif
