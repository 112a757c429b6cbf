// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pkt.bpf.c - the capture agent's tc programs (ingress and egress of a NIC).
 *
 * Classifies every frame with the shared classifier (parse.h), then:
 *  - migration-stream segments (TCP, a port in the `ports` set): exact
 *    per-flow-direction counters in `flows` (packets, payload and wire bytes,
 *    out-of-order/duplicate segments with the analyzer's definition), plus
 *    ring-buffer events for SYN (open), FIN/RST (close) and sampled segments;
 *  - guest control frames (ICMP/ICMPv6 echo, ARP, RARP, neighbour
 *    advertisement), filtered by the guest set when one is given: one event
 *    each, carrying the frame head.
 *
 * Events carry at most PKT_HEAD_MAX bytes and stream frames are cut after
 * the TCP header, so guest memory never leaves the kernel.
 *
 * Sampling, per flow direction at one NIC, every rule bounding its own rate:
 *  - SEQ: a data segment whose [seq, seq+len) crosses a multiple of
 *    2^sample_shift, or an ACK whose number crossed one since the last
 *    sampled ACK. Chosen by sequence space, not by count, so both NICs pick
 *    the same segments (clock alignment, design §4): <= bytes / 2^shift.
 *  - TICK: the first data segment of every ~1 ms tick (ts >> 20): <= 954/s,
 *    so a slow stream still has a throughput timeline.
 *  - GAP_EDGE: the last data segment not sampled is held in the flow's map
 *    entry and emitted when the next data comes in a later tick, or at
 *    FIN/RST, or read from the map at the end: the stream's last data before
 *    the switchover pause is always in the file. <= one per tick.
 *  - FIRST: the first segment seen of a direction.
 * At 10 Gbit/s with the default shift 18 that is about 10k events/s (1.6 MB/s):
 * with TSO a 64 KiB skb crosses every 64 KiB boundary, so shift 16 sampled
 * nearly every skb, and the agent spent twice the CPU tcpdump does.
 *
 * A good neighbour: never modifies or drops a frame and returns TC_ACT_UNSPEC
 * (equal to TCX_NEXT), so programs after ours still run.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "parse_skb.h"
#include "pkt.h"
#include "tcp_seq.h"

/* Configuration (rodata, set by the loader before load). */
const volatile __u32 sample_shift = 18;  /* SEQ rule granularity: 256 KiB */
const volatile __u8 guest_filter = 0;    /* 1: control frames must involve the guest */
/* interface slot -> ifindex (slots 1..PKT_MAX_IFACES-1); unknown ifindexes
 * are counted in slot 0 */
const volatile __u32 if_index[PKT_MAX_IFACES] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Open addressing over an array (pkt.h): an array lookup is inlined, a hash
 * map lookup cost a third of the stream path. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKT_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct pkt_flow_slot);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKT_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} ports SEC(".maps");


struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PKT_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct pkt_if_stats);
} if_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PKT_MAX_GUEST_MACS);
	__type(key, struct pkt_mac_key);
	__type(value, __u8);
} guest_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PKT_MAX_GUEST_IPS);
	__type(key, struct pkt_ip_key);
	__type(value, __u8);
} guest_ips SEC(".maps");

static __always_inline int port_in_set(__u16 port)
{
	__u32 word = port >> 6;
	__u64 *bits = bpf_map_lookup_elem(&ports, &word);

	return bits && (*bits >> (port & 63) & 1);
}

static __always_inline int mac_is_guest(const __u8 *mac)
{
	struct pkt_mac_key k = {};

	copy6(k.mac, mac);
	return bpf_map_lookup_elem(&guest_macs, &k) != 0;
}

static __always_inline int ip_is_guest(const __u8 *addr, int len4)
{
	struct pkt_ip_key k = {};

	if (len4)
		copy4(k.addr, addr);
	else
		copy16(k.addr, addr);
	return bpf_map_lookup_elem(&guest_ips, &k) != 0;
}

/* A control frame is the guest's when any address in it is the guest's. */
static __always_inline int involves_guest(const struct pkt_meta *m)
{
	int v4 = !(m->flags & PKT_F_IPV6);

	if (!guest_filter)
		return 1;
	if (mac_is_guest(m->eth_src) || mac_is_guest(m->eth_dst))
		return 1;
	if (m->kind == PKT_KIND_ARP || m->kind == PKT_KIND_RARP) {
		/* QEMU's RARP names the guest only in the sender MAC */
		return mac_is_guest(m->arp_sha) || mac_is_guest(m->arp_tha) ||
		       ip_is_guest(m->arp_spa, 1) || ip_is_guest(m->arp_tpa, 1);
	}
	if (m->kind == PKT_KIND_NEIGH_ADVERT && ip_is_guest(m->nd_target, 0))
		return 1;
	return ip_is_guest(m->ip_src, v4) || ip_is_guest(m->ip_dst, v4);
}

/*
 * The frame's length on the wire: qdisc_skb_cb's pkt_len (skb->wire_len).
 * At egress the stack has already added every GSO segment's headers
 * (qdisc_pkt_len_init); at ingress it is skb->len, so a GRO skb gets its
 * other segments' headers here. Under BPF_PROG_TEST_RUN it is the caller's
 * ctx wire_len: replay passes the captured frame's original length, so a
 * frame cut by the capture's snaplen (or by the test run's size limit) still
 * counts its whole length.
 */
static __always_inline __u32 wire_len(const struct __sk_buff *skb, __u32 segs, __u32 hdr)
{
	__u32 wire = skb->wire_len, len = skb->len;

	if (wire < len)
		wire = len;
	if (segs > 1 && wire == len)
		wire += (segs - 1) * hdr;
	return wire;
}

static __always_inline __u32 head_len(const struct __sk_buff *skb, __u32 want)
{
	__u32 n = want;

	if (n > skb->len)
		n = skb->len;
	if (n > PKT_HEAD_MAX)
		n = PKT_HEAD_MAX;
	return n;
}

/* Identity on 1..PKT_HEAD_MAX, written so the verifier sees the bounds on
 * the very register passed to the helper (clang otherwise tests a copy). */
static __always_inline __u32 head_bound(__u32 n)
{
	return ((n - 1) & (PKT_HEAD_MAX - 1)) + 1;
}

/*
 * Waking the agent for every event cost a wakeup (and its context switch) per
 * sample: the agent polls the ring at its own pace instead, and is woken
 * only when the ring is an eighth full, long before it could overflow.
 */
static __always_inline __u64 wakeup_flag(void)
{
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > size / 8 ? BPF_RB_FORCE_WAKEUP
									  : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_if(__u32 slot, int field_events, int drop)
{
	struct pkt_if_stats *s = bpf_map_lookup_elem(&if_stats, &slot);

	if (!s)
		return;
	if (drop)
		s->ring_drops++;
	else if (field_events)
		s->events++;
}

/* Submits one event with the first `len` bytes of the frame. */
static __always_inline void emit(struct __sk_buff *skb, __u32 slot, __u8 type, __u8 dir,
				 __u32 reason, __u32 len, __u32 wire, __u64 now)
{
	struct pkt_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_if(slot, 0, 1);
		return;
	}
	e->ts_tai_ns = now;
	e->ifindex = skb->ifindex;
	e->wire_len = wire;
	e->type = type;
	e->dir = dir;
	e->reason = reason;
	e->cap_len = 0;
	if (len > PKT_HEAD_MAX)
		len = PKT_HEAD_MAX;
	if (len > 0 && bpf_skb_load_bytes(skb, 0, e->frame, head_bound(len)) == 0)
		e->cap_len = (__u16)len;
	bpf_ringbuf_submit(e, wakeup_flag());
	count_if(slot, 1, 0);
}

/* The held-back segment of a flow direction, as a GAP_EDGE sample. */
static __always_inline void emit_held(struct pkt_flow_stats *st, __u32 ifindex, __u32 slot)
{
	struct pkt_event *e;

	if (!st->held_len)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_if(slot, 0, 1);
		return;
	}
	e->ts_tai_ns = st->held_tai_ns;
	e->ifindex = ifindex;
	e->wire_len = st->held_wire_len;
	e->type = PKT_EV_SAMPLE;
	e->dir = st->held_dir;
	e->reason = PKT_SAMPLE_GAP_EDGE;
	e->cap_len = st->held_len > PKT_HEAD_MAX ? PKT_HEAD_MAX : st->held_len;
	__builtin_memcpy(e->frame, st->held, PKT_HEAD_MAX);
	st->held_len = 0;
	bpf_ringbuf_submit(e, wakeup_flag());
	count_if(slot, 1, 0);
}

static __always_inline int key_equal(const struct pkt_flow_key *a, const struct pkt_flow_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*a) / 4); i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

/*
 * The counters of key k: its slot among the PKT_FLOW_PROBES from its home
 * slot on, or the first empty one there, claimed (*fresh set). NULL when
 * every one holds another key. A slot another CPU is filling (BUSY) is
 * passed over: should it be filling this very key, the flow gets two slots,
 * which readers merge, and no packet is counted twice.
 */
static __always_inline struct pkt_flow_stats *flow_find(const struct pkt_flow_key *k, int *fresh)
{
	__u32 home = pkt_flow_home(k);

#pragma unroll
	for (__u32 i = 0; i < PKT_FLOW_PROBES; i++) {
		__u32 idx = (home + i) & (PKT_MAX_FLOWS - 1);
		struct pkt_flow_slot *s = bpf_map_lookup_elem(&flows, &idx);

		if (!s)
			return 0;
		if (s->state == PKT_SLOT_READY) {
			if (key_equal(&s->key, k))
				return &s->stats;
			continue;
		}
		if (s->state != PKT_SLOT_EMPTY ||
		    __sync_val_compare_and_swap(&s->state, PKT_SLOT_EMPTY, PKT_SLOT_BUSY) !=
			    PKT_SLOT_EMPTY)
			continue;
		s->key = *k;
		/* a slot the agent freed (capture/pkt.h: __evict) may have taken a
		 * late add from a CPU still holding the old flow's pointer */
		__builtin_memset(&s->stats, 0, sizeof(s->stats));
		/* a full barrier: the key is visible before the slot is READY */
		__sync_lock_test_and_set(&s->state, PKT_SLOT_READY);
		*fresh = 1;
		return &s->stats;
	}
	return 0;
}

/*
 * The first n bytes of the frame (its headers, n <= PKT_HEAD_MAX) into dst,
 * and no byte after them: the payload behind is guest memory. Word by word
 * from the linear data when it holds PKT_HEAD_MAX bytes (every full-size
 * stream segment), the last word masked to the headers' end; else through
 * the helper, which costs three times as much.
 */
static __always_inline int copy_head(struct __sk_buff *skb, __u8 *dst, __u32 n)
{
	const __u8 *data = (const void *)(long)skb->data;
	const __u8 *end = (const void *)(long)skb->data_end;
	__u64 *d = (__u64 *)dst;

	if (data + PKT_HEAD_MAX > end)
		return bpf_skb_load_bytes(skb, 0, dst, head_bound(n));
#pragma unroll
	for (__u32 i = 0; i < PKT_HEAD_MAX / 8; i++) {
		__u64 w = ((const __u64 *)data)[i];
		__u32 left = n - i * 8;

		if (i * 8 >= n)
			break;
		if (left < 8) /* the first `left` bytes in memory order */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			w &= ~0ull >> (64 - 8 * left);
#else
			w &= ~0ull << (64 - 8 * left);
#endif
		d[i] = w;
	}
	return 0;
}

/*
 * Global (not inlined) functions are verified once, on their own, instead of
 * once per path through the parser: without the split the verifier's state
 * count explodes (the parser has hundreds of paths).
 *
 * The clock is read only when a segment needs it (data, a sample, a new
 * flow): about 40 ns of the path's cost here, so a bare ACK that is not
 * sampled goes without. Such a direction's last_tai_ns is then that of its
 * last sampled segment.
 */
__noinline int stream_segment(struct __sk_buff *skb, const struct pkt_meta *m, __u32 slot,
			      __u32 dir)
{
	struct pkt_flow_key k = {};
	struct pkt_flow_stats *st;
	__u32 len, end, segs, hdr, wire, reason = 0;
	int fresh = 0;
	__u64 now = 0, tick;

	if (!m)
		return 0;
	len = m->l4_payload_len;
	k.ifindex = skb->ifindex;
	k.family = (m->flags & PKT_F_IPV6) ? 6 : 4;
	if (k.family == 6) {
		copy16(k.saddr, m->ip_src);
		copy16(k.daddr, m->ip_dst);
	} else {
		copy4(k.saddr, m->ip_src);
		copy4(k.daddr, m->ip_dst);
	}
	k.sport = m->sport;
	k.dport = m->dport;
	st = flow_find(&k, &fresh);
	if (!st) {
		struct pkt_if_stats *s = bpf_map_lookup_elem(&if_stats, &slot);

		if (s)
			s->flows_full++;
		return 0;
	}
	if (fresh) {
		now = bpf_ktime_get_tai_ns();
		st->first_tai_ns = now;
		reason |= PKT_SAMPLE_FIRST;
	}

	/* A GSO/GRO skb is several segments on the wire, each with its own
	 * headers; the IP length field already covers all the payload. */
	segs = skb->gso_segs ? skb->gso_segs : 1;
	hdr = m->payload_off;
	wire = wire_len(skb, segs, hdr);
	__sync_fetch_and_add(&st->packets, segs);
	__sync_fetch_and_add(&st->payload_bytes, len);
	__sync_fetch_and_add(&st->wire_bytes, wire);
	st->tcp_flags_seen |= m->tcp_flags;
	st->dir_seen |= 1 << dir;

	if (len) {
		/* the analyzer's rule, from the same header (tcp_seq.h) */
		end = m->tcp_seq + len;
		if (!now)
			now = bpf_ktime_get_tai_ns();
		st->last_data_tai_ns = now;
		if (tcp_seq_account(&st->max_end_seq, &st->seq_valid, m->tcp_seq, len, 0)) {
			/* a GSO skb sent again is segs segments on the wire
			 * (TCP re-splits to the current MSS) */
			__sync_fetch_and_add(&st->ooo_segments, segs);
			__sync_fetch_and_add(&st->ooo_bytes, len);
		}
		if ((m->tcp_seq >> sample_shift) != (end >> sample_shift))
			reason |= PKT_SAMPLE_SEQ;
		/* a new tick: sampled, and after a pause the held segment,
		 * the last before it, goes first */
		tick = now >> 20;
		if (tick != st->last_sample_tick) {
			reason |= PKT_SAMPLE_TICK;
			emit_held(st, skb->ifindex, slot);
		}
	} else if ((m->tcp_flags & PKT_TCP_ACK) &&
		   (m->tcp_ack >> sample_shift) != (st->last_sample_ack >> sample_shift)) {
		reason |= PKT_SAMPLE_SEQ;
	}

	if (!reason && !(m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_FIN | PKT_TCP_RST))) {
		/* not sampled: a data segment is held back in case it is the last
		 * before a pause; a bare ACK is only counted */
		if (len) {
			__u32 n = head_len(skb, hdr ? hdr : PKT_HEAD_MAX);

			st->last_tai_ns = now;
			if (n > 0 && copy_head(skb, st->held, n) == 0) {
				st->held_len = (__u16)n;
				st->held_tai_ns = now;
				st->held_wire_len = wire;
				st->held_dir = dir;
			}
		}
		return 0;
	}
	if (!now)
		now = bpf_ktime_get_tai_ns();
	st->last_tai_ns = now;
	if (m->tcp_flags & (PKT_TCP_FIN | PKT_TCP_RST)) {
		emit_held(st, skb->ifindex, slot);
		emit(skb, slot, PKT_EV_FLOW_CLOSE, dir, reason, hdr ? hdr : PKT_HEAD_MAX, wire, now);
	} else if (m->tcp_flags & PKT_TCP_SYN) {
		emit(skb, slot, PKT_EV_FLOW_OPEN, dir, reason, hdr ? hdr : PKT_HEAD_MAX, wire, now);
	} else {
		emit(skb, slot, PKT_EV_SAMPLE, dir, reason, hdr ? hdr : PKT_HEAD_MAX, wire, now);
	}
	if (len)
		st->held_len = 0; /* the sample is this segment: nothing before it to hold */
	st->last_sample_tick = now >> 20;
	if (m->tcp_flags & PKT_TCP_ACK)
		st->last_sample_ack = m->tcp_ack;
	return 0;
}

__noinline int guest_frame(struct __sk_buff *skb, const struct pkt_meta *m, __u32 slot, __u32 dir)
{
	if (!m || !involves_guest(m))
		return 0;
	emit(skb, slot, PKT_EV_GUEST, dir, 0, head_len(skb, PKT_HEAD_MAX), wire_len(skb, 1, 0),
	     bpf_ktime_get_tai_ns());
	return 0;
}

static __always_inline int handle(struct __sk_buff *skb, __u8 dir)
{
	struct pkt_if_stats *s;
	struct pkt_meta m;
	__u32 slot = 0, ifindex = skb->ifindex;
	int rc, pulled;

	/* the interface's slot: a scan of 15 constants beats a hash lookup */
#pragma unroll
	for (__u32 i = 1; i < PKT_MAX_IFACES; i++) {
		if (if_index[i] == ifindex) {
			slot = i;
			break;
		}
	}
	s = bpf_map_lookup_elem(&if_stats, &slot);
	if (s) {
		s->frames[dir & 1]++;
		s->bytes[dir & 1] += wire_len(skb, 1, 0);
	}
	rc = parse_skb_linear(skb, &m, &pulled); /* which zeroes m first */
	if (pulled && s)
		s->heads_pulled++;
	if (rc)
		return TC_ACT_UNSPEC;

	switch (m.kind) {
	case PKT_KIND_TCP:
		if (port_in_set(m.sport) || port_in_set(m.dport))
			stream_segment(skb, &m, slot, dir);
		break;
	case PKT_KIND_ECHO_REQUEST:
	case PKT_KIND_ECHO_REPLY:
	case PKT_KIND_ARP:
	case PKT_KIND_RARP:
	case PKT_KIND_NEIGH_ADVERT:
		guest_frame(skb, &m, slot, dir);
		break;
	default:
		break;
	}
	return TC_ACT_UNSPEC; /* == TCX_NEXT: observe only */
}

SEC("tc")
int msc_ingress(struct __sk_buff *skb)
{
	return handle(skb, PKT_DIR_INGRESS);
}

SEC("tc")
int msc_egress(struct __sk_buff *skb)
{
	return handle(skb, PKT_DIR_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
