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

void diagnose(const struct switchover *sw, struct report_migration *rm);

#endif
