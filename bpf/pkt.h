/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pkt.h - the ABI between bpf/pkt.bpf.c (and bpf/retrans.bpf.c) and the
 * capture agent (capture/pkt.c) or replay.
 *
 * Contract: every struct here is shared byte for byte between the kernel
 * programs and userspace, so fields are fixed width, padding is explicit and
 * _Static_assert pins each size; a change of layout is a change of
 * PKT_ABI_VERSION. Userspace re-checks the size of every ring-buffer sample
 * before it trusts one. Times carry their clock in the name: *_tai_ns is
 * bpf_ktime_get_tai_ns() (CLOCK_TAI, comparable between hosts on NTP/PTP).
 * Addresses are in network order (IPv4 in the first 4 bytes), ports and
 * sequence numbers in host order, as bpf/parse.h gives them.
 */
#ifndef MIGSCOPE_BPF_PKT_H
#define MIGSCOPE_BPF_PKT_H

#include <linux/types.h>

#define PKT_ABI_VERSION 3

enum {
	PKT_HEAD_MAX = 128,      /* bytes of a frame an event carries */
	PKT_MAX_IFACES = 16,     /* interface slots; slot 0 counts unknown ifindexes */
	PKT_MAX_FLOWS = 4096,    /* flow table slots (a power of two) */
	PKT_FLOW_PROBES = 8,     /* slots a key may occupy from its home slot on */
	PKT_MAX_GUEST_MACS = 16,
	PKT_MAX_GUEST_IPS = 16,
	PKT_PORT_WORDS = 65536 / 64, /* the port set as a bitmap of u64 words */
	PKT_MAX_RETRANS_FLOWS = 1024,
};

/* pkt_event.type */
enum pkt_event_type {
	PKT_EV_GUEST = 1,      /* echo, ARP, RARP, neighbour advertisement */
	PKT_EV_FLOW_OPEN = 2,  /* SYN of a migration flow */
	PKT_EV_FLOW_CLOSE = 3, /* FIN or RST of a migration flow */
	PKT_EV_SAMPLE = 4,     /* a sampled segment of a migration flow */
};

/* pkt_event.reason for samples: why this segment was chosen (bits) */
enum {
	PKT_SAMPLE_FIRST = 1u << 0,    /* first segment of the direction */
	PKT_SAMPLE_SEQ = 1u << 1,      /* crossed a 2^sample_shift boundary of seq or ack */
	PKT_SAMPLE_TICK = 1u << 2,     /* first segment of a new millisecond tick */
	PKT_SAMPLE_GAP_EDGE = 1u << 3, /* the held-back segment before a pause */
};

/* pkt_event.dir */
enum { PKT_DIR_INGRESS = 0, PKT_DIR_EGRESS = 1 };

/* One ring-buffer sample: a frame head and where/when it was seen. */
struct pkt_event {
	__u64 ts_tai_ns;
	__u32 ifindex;
	__u32 wire_len;    /* the frame as on the wire (skb->wire_len, pkt.bpf.c) */
	__u16 cap_len;     /* valid bytes in frame[] */
	__u8 type;         /* enum pkt_event_type */
	__u8 dir;          /* PKT_DIR_* */
	__u32 reason;      /* PKT_SAMPLE_* for samples, 0 otherwise */
	__u8 frame[PKT_HEAD_MAX];
};
_Static_assert(sizeof(struct pkt_event) == 152, "pkt_event is an ABI");

/* One direction of a TCP flow at one interface: the counter map's key. */
struct pkt_flow_key {
	__u32 ifindex;
	__u8 family;       /* 4 or 6 */
	__u8 pad[3];
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
};
_Static_assert(sizeof(struct pkt_flow_key) == 44, "pkt_flow_key is an ABI");

/*
 * Exact counters of one flow direction at one interface. Counters are
 * updated with atomic adds (ingress and egress may run on different CPUs);
 * the sampling state below them is best effort by design.
 */
struct pkt_flow_stats {
	__u64 packets;
	__u64 payload_bytes;  /* TCP payload from the IP lengths, retransmits included */
	__u64 wire_bytes;     /* frames as on the wire, GSO segments' headers included */
	__u64 ooo_segments;   /* data starting below the highest end seen (not keep-alives) */
	__u64 ooo_bytes;
	__u64 first_tai_ns;
	__u64 last_tai_ns;    /* last data or sampled segment (bare ACKs: unclocked) */
	__u64 last_data_tai_ns;
	__u32 max_end_seq;    /* highest seq + len seen */
	__u8 seq_valid;
	__u8 tcp_flags_seen;  /* OR of every segment's flags */
	__u8 dir_seen;        /* 1 << PKT_DIR_* */
	__u8 pad0;
	/* sampling state */
	__u64 last_sample_tick; /* ts_tai_ns >> 20 (~1 ms) of the last sample */
	__u64 pad3;             /* ABI 1: last_seen_tai_ns, never read */
	__u32 last_sample_ack;
	__u16 held_len;         /* bytes in held[]: data segment not sampled yet, 0 none */
	__u8 held_dir;
	__u8 pad1;
	__u64 held_tai_ns;
	__u32 held_wire_len;
	__u32 pad2;
	__u8 held[PKT_HEAD_MAX];
};
_Static_assert(sizeof(struct pkt_flow_stats) == 240, "pkt_flow_stats is an ABI");

/*
 * The flow table: an array of PKT_MAX_FLOWS slots, open addressing. A key
 * lives in one of the PKT_FLOW_PROBES slots from pkt_flow_home(key) on. An
 * array lookup is a few inlined instructions; the hash map it replaced cost
 * ~55 ns per packet here (jhash of 44 bytes and the bucket walk), a third of
 * the stream path. Two CPUs creating the same flow at the same instant may
 * each claim a slot: readers merge slots with equal keys (pkt_flows__read).
 */
enum { PKT_SLOT_EMPTY = 0, PKT_SLOT_BUSY = 1, PKT_SLOT_READY = 2 };

struct pkt_flow_slot {
	__u32 state;                 /* PKT_SLOT_*; key and stats valid when READY */
	struct pkt_flow_key key;
	struct pkt_flow_stats stats;
};
_Static_assert(sizeof(struct pkt_flow_slot) == 288, "pkt_flow_slot is an ABI");

/* Home slot of a key: a multiplicative hash of its 11 words (both the BPF
 * program and userspace tests call it). */
static inline __u32 pkt_flow_home(const struct pkt_flow_key *k)
{
	const __u8 *b = (const __u8 *)k;
	__u32 h = 0, w;

	for (int i = 0; i < (int)(sizeof(*k) / 4); i++) {
		__builtin_memcpy(&w, b + 4 * i, 4);
		h = (h ^ w) * 0x9e3779b1u;
	}
	return h >> 20; /* 12 bits: PKT_MAX_FLOWS */
}
_Static_assert(PKT_MAX_FLOWS == 1 << 12, "pkt_flow_home() takes 12 bits");

/* Per interface slot, a per-CPU array: summed by userspace. */
struct pkt_if_stats {
	__u64 frames[2];      /* by PKT_DIR_* */
	__u64 bytes[2];
	__u64 events;         /* ring-buffer samples submitted */
	__u64 ring_drops;     /* events lost: the ring buffer was full */
	__u64 flows_full;     /* migration segments not counted: the flow map was full */
	__u64 heads_pulled;   /* frames whose headers ran past the linear data (ABI 3: was padding, 0) */
};
_Static_assert(sizeof(struct pkt_if_stats) == 64, "pkt_if_stats is an ABI");

/* Guest filter keys: a MAC in the first 6 bytes, or an address (family 4: first 4). */
struct pkt_mac_key {
	__u8 mac[6];
	__u8 pad[2];
};
_Static_assert(sizeof(struct pkt_mac_key) == 8, "pkt_mac_key is an ABI");

struct pkt_ip_key {
	__u8 addr[16];
};
_Static_assert(sizeof(struct pkt_ip_key) == 16, "pkt_ip_key is an ABI");

/* bpf/retrans.bpf.c: the sender's own retransmits, from tcp:tcp_retransmit_skb. */
struct pkt_retrans_key {
	__u8 family;
	__u8 pad[3];
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
};
_Static_assert(sizeof(struct pkt_retrans_key) == 40, "pkt_retrans_key is an ABI");

/* One flow's retransmits as its sender's TCP stack made them. */
struct pkt_retrans_stats {
	__u64 calls;     /* tcp_retransmit_skb events */
	__u64 segments;  /* data segments they sent (tcp_skb_pcount; no SYN/FIN alone) */
	__u64 bytes;     /* their payload */
};
_Static_assert(sizeof(struct pkt_retrans_stats) == 24, "pkt_retrans_stats is an ABI");

#endif /* MIGSCOPE_BPF_PKT_H */
