/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fault.h - the ABI between tests/lab/fault.bpf.c (the lab's fault injector, a tc
 * program on a bridge port) and its userspace: tests/lab/fault.c (msl-fault)
 * and tests/unit/test_fault.c.
 *
 * Contract: the structs are shared byte for byte with the kernel program, so
 * fields are fixed width, padding is explicit and _Static_assert pins each
 * size. Three single-entry maps (key 0) carry them:
 *   fault_cfg    struct fault_config, written by userspace, read per frame;
 *                a rewrite takes effect on the next frame, no reload
 *   fault_state  struct fault_state, written by the program (hold start);
 *                userspace may zero it to restart a hold
 *   fault_stats  struct fault_stats, per CPU: userspace sums the counters,
 *                takes the smallest non-zero first_* and the largest last_*
 * Times carry their clock in the name: *_tai_ns is bpf_ktime_get_tai_ns()
 * (CLOCK_TAI, comparable with other hosts' captures), *_mono_ns is
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC, for durations that must not jump).
 * Ports are in host order, the MAC in wire order, as bpf/parse.h gives them.
 */
#ifndef MIGSCOPE_BPF_FAULT_H
#define MIGSCOPE_BPF_FAULT_H

#include <linux/types.h>

/* fault_config.kind: what happens to a matched frame */
enum fault_kind {
	FAULT_KIND_NONE = 0,      /* count matches, touch nothing */
	FAULT_KIND_DROP = 1,      /* TC_ACT_SHOT with probability rate_ppm */
	FAULT_KIND_CORRUPT = 2,   /* flip one bit of one byte, checksums left stale */
	FAULT_KIND_DUPLICATE = 3, /* a clone goes the same way first */
	FAULT_KIND_HOLD = 4,      /* drop all for hold_ns after the first match */
};

/* fault_config.match: which frames a fault applies to (after VLAN tags; the
 * inner frame of VXLAN/Geneve, as parse.h describes it) */
enum fault_match {
	FAULT_MATCH_ALL = 0,
	FAULT_MATCH_STREAM = 1,     /* TCP, port_lo <= sport or dport <= port_hi */
	FAULT_MATCH_GUEST = 2,      /* Ethernet source == guest_mac */
	FAULT_MATCH_ANNOUNCE = 3,   /* from guest_mac: RARP, gratuitous ARP,
				     * unsolicited neighbour advertisement */
	FAULT_MATCH_ECHO_REPLY = 4, /* from guest_mac: ICMP/ICMPv6 echo reply */
};

enum {
	FAULT_RATE_ONE = 1000000, /* rate_ppm of a certainty */
	FAULT_PORT_LO = 49152,    /* libvirt's migration port range */
	FAULT_PORT_HI = 49215,
};

/*
 * skb->mark of the program's own duplicates while they pass the hook again
 * (a clone re-enters the same tc hook): the program clears it and lets the
 * frame go, so a duplicate is never duplicated again. "mslf" in ASCII.
 */
#define FAULT_DUP_MARK 0x6d736c66u

struct fault_config {
	__u32 kind;         /* enum fault_kind */
	__u32 match;        /* enum fault_match */
	__u32 rate_ppm;     /* 0 .. FAULT_RATE_ONE; ignored by FAULT_KIND_HOLD */
	__u16 port_lo;      /* FAULT_MATCH_STREAM range, inclusive */
	__u16 port_hi;
	__u8 guest_mac[6];
	__u8 ingress;       /* 1: attached at ingress (duplicates re-enter with
			     * BPF_F_INGRESS), 0: egress */
	__u8 enabled;       /* 0: count frames only; the start trigger */
	__u64 hold_ns;      /* FAULT_KIND_HOLD: how long after the first match */
	__u64 clock_ns;     /* tests: when non-zero, replaces both clocks */
};
_Static_assert(sizeof(struct fault_config) == 40, "fault_config is an ABI");

struct fault_state {
	__u64 hold_start_mono_ns; /* first matched frame while enabled; 0: none yet */
};
_Static_assert(sizeof(struct fault_state) == 8, "fault_state is an ABI");

struct fault_stats {
	__u64 seen;       /* frames through the hook, our duplicates excluded */
	__u64 matched;    /* of those, matched while enabled */
	__u64 applied;    /* dropped + corrupted + duplicated */
	__u64 dropped;
	__u64 corrupted;
	__u64 duplicated;
	__u64 errors;     /* a helper failed: the frame went on untouched */
	__u64 first_applied_tai_ns;
	__u64 last_applied_tai_ns;
};
_Static_assert(sizeof(struct fault_stats) == 72, "fault_stats is an ABI");

#endif /* MIGSCOPE_BPF_FAULT_H */
