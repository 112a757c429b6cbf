/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcp_seq.h - the retransmission rule of migscope, compiled into the tc
 * programs (bpf/pkt.bpf.c: the live agent's out-of-order counters) and the
 * analyzer (analysis/flows.c), so both count the same segments, as parse.h
 * makes them classify the same frames.
 *
 * Per direction of a flow at one vantage: a segment carrying data that starts
 * below the highest sequence number already seen there was sent before. At a
 * NIC, where the sender never reorders its own segments, that is a
 * retransmission or what tshark calls out-of-order. Sequence numbers compare
 * modulo 2^32 (RFC 9293 §3.4). A keep-alive repeats the one byte below the
 * highest on purpose and is not one; a SYN sent again, which looks the same
 * (one sequence number below the highest), is.
 */
#ifndef MIGSCOPE_BPF_TCP_SEQ_H
#define MIGSCOPE_BPF_TCP_SEQ_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* a is before b in sequence space */
static __always_inline int tcp_seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/* One segment [seq, seq + len), len > 0 (its data, and one for a SYN or a
 * FIN when the caller counts them), in a direction whose highest end so far
 * is *max_end (*valid: a segment was seen); syn: it carries a SYN. Returns 1
 * when the segment was sent before; advances *max_end. */
static __always_inline int tcp_seq_account(__u32 *max_end, __u8 *valid, __u32 seq, __u32 len,
					   int syn)
{
	__u32 end = seq + len;
	int again;

	if (!*valid) {
		*valid = 1;
		*max_end = end;
		return 0;
	}
	if (!tcp_seq_before(seq, *max_end)) {
		*max_end = end;
		return 0;
	}
	again = syn || !(len <= 1 && seq + 1 == *max_end);
	if (tcp_seq_before(*max_end, end))
		*max_end = end;
	return again;
}

#endif
