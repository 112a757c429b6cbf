/*
 * guest_match - which guest each migration moved, when the captures hold
 * several (an evacuation): QEMU announces the guest it resumed, so a
 * migration's guest is the one whose RARP burst follows its switchover.
 *
 * For every migration and every MAC that announced, the candidate is the
 * MAC's first RARP from the stream's first packet on (else its first GARP or
 * unsolicited NA, weighed ANNOUNCE_ONLY_PENALTY_NS further), no later than
 * MATCH_AFTER_NS past the stream's last data; its distance is how far that
 * lies from where the destination closed the stream (QEMU announces, resumes
 * and closes in one step, so within a few ms), else from the last data
 * (precopy resumes after it by the device-state load, which concurrent
 * guests stretch to tens of ms apiece; postcopy before it).
 * Each migration gets one burst and each burst one migration, in the
 * assignment of least total cost over all of them (not nearest first, which
 * a late close sends down a wave of concurrent guests), the cost ordered by
 * what is most certain: an announcement after the destination closed the
 * stream, then a guest resumed while its own stream still ran (postcopy),
 * then the distance. So concurrent migrations between the same hosts each
 * get their own guest, and a guest moved there and back gets both of its
 * migrations. Two pairs the cost cannot tell apart (both streams ended
 * before both announcements and were closed after both) are put in order:
 * the stream closed first (else ended first) had the first announcement.
 */
#ifndef MIGSCOPE_GUEST_MATCH_H
#define MIGSCOPE_GUEST_MATCH_H

#include "analysis/flows.h"
#include "analysis/guest.h"

#define MATCH_AFTER_NS (10LL * 1000000000)
#define ANNOUNCE_ONLY_PENALTY_NS (1LL * 1000000000)

/* mac[m]: the MAC index (guest_set__mac) of migration m's guest, -1 when
 * no announcement tells it. Returns 0 or -ENOMEM. */
int guest_match(const struct guest_set *gs, const struct mig_stream *ms, int n, int *mac);

#endif
