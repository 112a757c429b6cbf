/*
 * timeline - the switchover of one migration as events across the vantages
 * (issue 5): the guest's last frame at the source NIC, the last stream data,
 * the resume (QEMU's first RARP leaving the destination NIC), the first
 * announcement at the prober, the last request still delivered to the source
 * NIC, the first request and reply at the destination NIC, and the first
 * reply back at the prober.
 *
 * Events seen come first, in time order (ties in the order above); then the
 * ones not seen, each saying why: no capture at its vantage (TL_NO_CAPTURE,
 * that capture would give it) or a capture that holds no such frame
 * (TL_NOT_SEEN, itself evidence: no RARP left the destination). "After" means
 * after the resume (switchover_resume: QEMU's first RARP, else the stream's
 * last data), which is also t = 0. Each seen event gets its time since t = 0
 * and since the seen event before it (the report's t and "since previous").
 */
#ifndef MIGSCOPE_TIMELINE_H
#define MIGSCOPE_TIMELINE_H

#include "analysis/switchover.h"
#include "reports/report.h"

void timeline_build(const struct switchover *sw, struct report_switchover *out);

/* The event's time when it was seen, else 0. */
int64_t timeline_time(const struct report_switchover *out, const char *event);

#endif
