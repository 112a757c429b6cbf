/*
 * announce_sched - the guest's RARPs checked against QEMU's announce schedule
 * (issue 5). QEMU (net/announce.c) sends round 0 when the guest resumes, then
 * round k (k = 1 .. rounds-1) min(initial + (k-1)*step, max) ms after round
 * k-1: with the defaults (announce-initial 50, -max 550, -rounds 5, -step
 * 100) at 0, 50, 200, 450 and 800 ms. Every round also asks a virtio-net
 * guest to announce itself (its GARP / unsolicited NA), reported apart.
 *
 * Bursts are found at one capture, the anchor: the destination NIC when it saw
 * a RARP (every round leaves there), else the capture that saw the most. Its
 * first RARP is round 0 of the first burst. At the destination NIC each later
 * one is the next round, late (by how much is reported) or on time, as QEMU
 * re-arms its timer when a round fires; elsewhere it is the next round whose
 * time, counted from the last round matched, it is within the tolerance of.
 * One past the burst's last round starts a new burst (announce-self after
 * the migration, as Nova's workaround asks); one that fits no round is
 * unmatched. Every capture's RARPs are then matched to the nearest round of a
 * burst within the tolerance: a round the anchor saw and another capture did
 * not was lost on the way there.
 *
 * Tolerance: ANNOUNCE_TOLERANCE_NS, at most 2/5 of the shortest gap so that
 * neighbouring rounds never overlap. Measured on the lab's QEMU 7.2 under TCG
 * (fixtures/lab: baseline, back-and-forth, loss-2, lost-announce): a round
 * lands at most 5.0 ms after its nominal time (0.7 ms before it at worst);
 * 20 ms leaves four times that.
 */
#ifndef MIGSCOPE_ANNOUNCE_SCHED_H
#define MIGSCOPE_ANNOUNCE_SCHED_H

#include "analysis/switchover.h"
#include "reports/report.h"

#define ANNOUNCE_TOLERANCE_NS (20LL * 1000000)
/* How late a round may be at the destination NIC and still be that round:
 * QEMU's main loop, busy faulting pages in during postcopy, sent rounds up to
 * 450 ms late in a real run; later than this, a RARP past the open burst
 * starts a new one. */
#define ANNOUNCE_LATE_MAX_NS (2000LL * 1000000)

/* QEMU's defaults. */
void announce_params_default(struct announce_params *p);

/* "initial,max,rounds,step" in ms, as QEMU's announce-* parameters: each a
 * whole number, initial/max/step 1..100000, rounds 0..REPORT_MAX_ROUNDS.
 * Returns 0 or -EINVAL (p unchanged). */
int announce_params_parse(const char *s, struct announce_params *p);

/* Offset of round k from round 0, ns. */
int64_t announce_round_offset_ns(const struct announce_params *p, int k);

/* Fills out->sched; `resume_ns` (0: unknown) times the guest's own announce. */
void announce_sched_check(const struct switchover *sw, const struct announce_params *p,
			  int64_t resume_ns, struct report_switchover *out);

#endif
