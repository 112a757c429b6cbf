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
 * after the last stream data, the one event every migration has.
 */
#ifndef MIGSCOPE_TIMELINE_H
#define MIGSCOPE_TIMELINE_H

#include "analysis/report.h"
#include "analysis/switchover.h"

/* Event names (JSON `timeline[].event`), in their canonical order. */
#define TL_GUEST_LAST_SRC "guest_last_at_src"
#define TL_STREAM_END "stream_end"
#define TL_RESUME "resume"
#define TL_FIRST_ANNOUNCE_PROBER "first_announce_at_prober"
#define TL_LAST_REQUEST_SRC "last_request_at_src"
#define TL_FIRST_REQUEST_DST "first_request_at_dst"
#define TL_FIRST_REPLY_DST "first_reply_at_dst"
#define TL_FIRST_REPLY_PROBER "first_reply_at_prober"

void timeline_build(const struct switchover *sw, struct report_switchover *out);

/* The event's time when it was seen, else 0. */
int64_t timeline_time(const struct report_switchover *out, const char *event);

#endif
