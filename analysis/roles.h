/*
 * roles - which capture was taken where, per migration: at the source NIC
 * (src), the destination NIC (dst), or elsewhere (ctl: the prober, or a
 * capture that saw no stream).
 *
 * A capture sits on one host: a label (src=, dst=, ctl=) or the evidence of
 * one migration tells which, and that host decides its role in the others
 * (cn1 is src of the way out and dst of the way back). The evidence, in
 * order:
 *  - where the guest answered its probes before the stream: its replies
 *    leave the source NIC, and the switch sends them to the prober only, so
 *    a capture that saw ROLES_SURE_REPLIES of them where the other compute
 *    capture saw none is at the source (a sign that cannot be wrong, where
 *    a microsecond of timing can);
 *  - timing: a capture's shortest delay from stream data to the ACK covering
 *    it, both stamps on that capture's clock (so the offset between captures
 *    cancels). At the receiver's NIC it is the receiver's turnaround; at the
 *    sender's the same plus the round trip between the two NICs. Their
 *    difference decides only beyond the noise (roles_timing_noise_ns);
 *  - the TCP handshake: the server answers a SYN at once but waits a round
 *    trip for the final ACK; the client sees the reverse;
 *  - with two NICs, whatever the other is not.
 * A role taken without evidence, or by timing within the noise, is reported
 * as a warning that says to label the captures.
 */
#ifndef MIGSCOPE_ROLES_H
#define MIGSCOPE_ROLES_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/flows.h"
#include "analysis/limits.h"
#include "reports/report.h"

enum role { ROLE_NONE, ROLE_SRC, ROLE_DST, ROLE_CTL };

/* "src", "dst", "ctl"; "other" for ROLE_NONE */
const char *role_name(enum role r);

/* What roles_assign() needs of each capture. */
struct role_capture {
	const char *path;
	const char *label;  /* "src", "dst", "ctl" or NULL */
	int64_t tick_ns;    /* its stamps' resolution */
};

/* Under every round trip a real path adds between two NICs: measured on
 * the lab (tcpdump, nanosecond stamps), between the two compute NICs
 * 6.8-29.0 us over the 14 migrations of fixtures/lab (6.8 back-and-forth
 * and 7.0 dirty the smallest, none smaller in any quarter of a stream);
 * along one path in a live run, the two ends of one veth 3.4-6.6 us and two
 * ports of the switch's bridge 2.9 us apart. 2 us stays under the smallest
 * real step, so a real round trip decides; what it guards against is
 * captures with none between them (one capture given twice: 0; two on one
 * host or on mirrored ports), whose order is chance. */
#define ROLE_TIMING_FLOOR_NS 2000

/* How far two captures' data-to-ACK delays must differ for timing to decide:
 * each delay is two stamps truncated to its capture's resolution (1 us each
 * in a microsecond pcap, 1 ns in nanosecond pcap or migscope's pcapng), plus
 * the floor. */
int64_t roles_timing_noise_ns(const struct role_capture *a, const struct role_capture *b);

enum { ROLES_SURE_REPLIES = 3 };

/* Fills role[m][i] for the nmig migrations (in time order) and each of the
 * ncap captures, and is_ctl[i] for the captures that are the prober's or saw
 * no stream at all. replies_before[m][i]: the guest's echo replies capture i
 * saw in migration m's window before its stream (NULL: none known).
 * Warnings go to r. */
void roles_assign(const struct mig_stream *mig, int nmig, const struct role_capture *cap,
		  int ncap, const uint32_t (*replies_before)[MAX_INPUTS],
		  enum role (*role)[MAX_INPUTS], bool *is_ctl, struct report *r);

#endif
