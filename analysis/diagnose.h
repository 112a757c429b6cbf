/*
 * diagnose - the verdict on one migration's switchover (design §5), with
 * evidence lines that cite times and counts. Runs after timeline_build() and
 * announce_sched_check() on the same migration.
 *
 * The reference is the resume (switchover_resume: QEMU's first RARP at the
 * destination NIC, else the first RARP any capture saw, else the stream's
 * last data), found before anything is measured from it. P is the probe
 * interval. The tree, first match wins:
 *
 *   not completed   the source NIC shows the guest answering requests that
 *                   arrived after the stream's end and no RARP came from the
 *                   destination: the migration was cancelled or failed, the
 *                   guest stayed on the source. Verdict ok, `completed` false.
 *   (requests)      the guest's own TCP requests stood in for echo probes
 *                   (analyze --probe: a guest that ignores ping): stale
 *                   forwarding as below (echo requests still show where the
 *                   network sends the guest's traffic), else ok when one of
 *                   its requests was answered after the resume, else
 *                   insufficient_data.
 *   insufficient_data  no probe requests after the resume in any capture.
 *   no_announce     requests went astray after the resume (still delivered to
 *                   the source NIC later than resume + P, or, without a source
 *                   capture, not at the destination NIC by then) and no
 *                   RARP/GARP/NA left the destination NIC.
 *   early_cutover   EARLY_MIN_REQUESTS or more requests reached the destination
 *                   NIC between the stream's start and the resume and never
 *                   the source NIC (a flood reaches both): the network moved
 *                   before the guest (an early GARP/NA, a port claimed early,
 *                   a static forwarding entry) and they were lost there;
 *                   duration from the first of them to the resume. Needs both
 *                   compute NICs' captures and QEMU's RARP at the destination
 *                   NIC (the resume itself: a guest's own later GARP would
 *                   make the requests of the first ms after it look early).
 *   announce_without_ip  requests still went to the source NIC later than
 *                   resume + P, only RARPs left the destination NIC (no GARP
 *                   or NA: nothing carried the guest's IP), and they reached
 *                   the prober or the source NIC: the network carried them
 *                   and did not move the guest on them (a fabric that learns
 *                   locations from IP-carrying announcements: EVPN ARP
 *                   suppression, OVN); duration as stale_forwarding. RARPs
 *                   that reached no other vantage were lost, whatever their
 *                   type: stale_forwarding. A guest reachable after RARPs
 *                   alone stays ok, with that caveat in its evidence.
 *   stale_forwarding  the same with announcements that left the destination
 *                   (or, without a destination capture, unknown): the network
 *                   kept the old location; duration until requests reached the
 *                   destination NIC, or null ("never" in the captures).
 *   slow_guest      postcopy: requests reach the destination NIC and are
 *                   answered there, but later than GUEST_ANSWER_GRACE_NS after
 *                   the first: the guest stalls faulting its memory in while
 *                   the stream still brings it (a brownout, not a broken
 *                   datapath); duration until the first answer.
 *   destination_silent  requests reach the destination NIC but none of them is
 *                   answered there within GUEST_ANSWER_GRACE_NS of the first;
 *                   duration until one was. Or the guest answered after the
 *                   resume and then SILENT_MIN_REQUESTS or more requests in a
 *                   row, over GUEST_ANSWER_GRACE_NS or longer, reached the
 *                   destination NIC unanswered (judged over the whole time
 *                   after the resume: a guest that crashed after answering
 *                   once); duration until it answered again, else null.
 *   return_path     replies leave the destination NIC but the prober has none
 *                   within P of the first; duration until one arrived.
 *   slow_guest      (answers) the guest answered at the destination NIC, in
 *                   time, but the 90th percentile of its turnaround there
 *                   from the resume is above its own pace before the stream
 *                   (diagnose_slow_above): a starved vCPU, postcopy page
 *                   faults; duration from the first slow answer's request
 *                   to the last one's reply.
 *   ok              requests reached the destination within P of the resume
 *                   (and, where captured, were answered and the answers came
 *                   back); the reconvergence time is reported.
 *
 * A branch that needs a capture that was not given is not taken on a guess:
 * the verdict is insufficient_data, and the evidence says what is known and
 * which capture would decide (stale_forwarding is still given without a
 * destination capture when the source NIC shows the stale requests: that is
 * what happened whichever the cause).
 */
#ifndef MIGSCOPE_DIAGNOSE_H
#define MIGSCOPE_DIAGNOSE_H

#include "analysis/switchover.h"
#include "reports/report.h"

/* How long a guest just resumed may take to answer before it counts as
 * silent. In the lab (QEMU TCG) the first answer left the destination NIC
 * 18-20 ms after the first request reached it (fixtures/lab baseline,
 * lost-announce); real guests catching up after a pause are slower than
 * steady ones too. 500 ms is 25 times that and still well below an outage an
 * operator is after. */
#define GUEST_ANSWER_GRACE_NS (500LL * 1000000)

/* A silence after the first answer: fewer unanswered requests in a row are
 * ordinary loss (and the captures' last requests may end unanswered as
 * they stop). */
#define SILENT_MIN_REQUESTS 3
/* Requests at the destination before the resume: one may be a prober's
 * retry racing the switchover; a cut-over network sends every one there. */
#define EARLY_MIN_REQUESTS 2

/* A guest that answers at its NIC much slower after the resume than it did
 * before the stream (a starved vCPU, postcopy page faults): judged on the
 * 90th percentile of its turnaround (report_turnaround), with at least
 * TURNAROUND_MIN_ANSWERS answers on each side. In 12 lab runs (QEMU TCG)
 * that p90 was 0.75-5.2 ms before the stream and 0.76-7.0 ms after the
 * resume (the first answers of a guest catching up included); an answer is
 * slow above SLOW_FACTOR times the guest's own p90 and SLOW_MIN_EXTRA_NS
 * more than it. */
#define TURNAROUND_MIN_ANSWERS 10
#define SLOW_FACTOR 4
#define SLOW_MIN_EXTRA_NS (20LL * 1000000)

/* The slow threshold for answers after the resume, from those before; 0
 * when too few were measured to judge. */
int64_t diagnose_slow_above(const struct report_turnaround *before);

void diagnose(const struct switchover *sw, struct report_migration *rm);

#endif
