// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fault.bpf.c - the lab's fault injector: a tc program on one direction of a
 * bridge port (the lab's "switch"), because the host has no netem. Loaded and
 * attached by msl-fault (tests/lab/fault.c); the ABI is tests/lab/fault.h.
 *
 * Frames are classified by the project's one classifier (parse.h): behind
 * 802.1Q/QinQ tags, and by their inner frame inside VXLAN/Geneve, so "the
 * guest's frames" and "the migration stream" mean the same thing here as in
 * the analyzer. A matched frame gets the configured fault:
 *
 *   drop       TC_ACT_SHOT, with probability rate_ppm
 *   corrupt    one bit of one byte flipped with bpf_skb_store_bytes(), and no
 *              checksum fixed: the receiver's TCP/UDP/ICMP checksum check
 *              drops the frame, as a real bit error would be dropped (a raw
 *              socket, such as root's ping, gets its copy before that check
 *              and sees the flipped bit). Any single-byte change breaks the
 *              Internet checksum. The byte is
 *              the first L4 payload byte (TCP/UDP), the last TCP/UDP header
 *              byte when there is no payload, else the frame's last byte.
 *              This is only real when checksums are computed in software:
 *              with TX checksum offload the skb is CHECKSUM_PARTIAL, the sum
 *              is completed after us over the altered bytes and the receiver
 *              gets corrupt data that verifies (the lab turns offloads off).
 *              CHECKSUM_COMPLETE skbs get their skb->csum updated
 *              (BPF_F_RECOMPUTE_CSUM) and CHECKSUM_UNNECESSARY is reset, so
 *              neither lets the receiver skip the check.
 *   duplicate  bpf_clone_redirect() to the same device and direction: the
 *              clone goes first, the original follows
 *   hold       every matched frame dropped for hold_ns after the first one
 *              (a port not yet bound, as in Neutron/OVN field reports);
 *              afterwards everything passes
 *
 * The unit is the skb: a GSO/GRO aggregate is one "frame" to tc, so the lab
 * turns those offloads off for faults to hit wire frames.
 *
 * Verdicts. A frame that is not dropped gets TC_ACT_UNSPEC, never TC_ACT_OK.
 * Both let the frame go on (to the bridge at ingress, to the wire at egress:
 * sch_handle_ingress/egress treat them alike), but TC_ACT_OK also ends the
 * classification, so filters of lower priority on the same hook (another
 * injector, or tagging programs like the lab's VLAN ones) would never see
 * the frame; TC_ACT_UNSPEC (== TCX_NEXT) hands it on. The injector only ever
 * takes frames away. tests/e2e/fault.sh shows both halves on a bridge port.
 *
 * Configuration is a map, not const volatile rodata as elsewhere in bpf/:
 * the unit tests drive one loaded program through every kind and match by
 * rewriting it, and msl-fault can arm (enabled) or change it without
 * reloading. The cost is one map lookup per frame. Every msl-fault loads its
 * own copy of the program, so injectors never share maps.
 *
 * Loading needs CAP_PERFMON besides CAP_BPF and CAP_NET_ADMIN: without it
 * the verifier refuses the parser's packet pointer comparisons and the
 * offset parse_skb_outer() gets by subtracting two of them.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "fault.h"
#include "parse_skb.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fault_config);
} fault_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fault_state);
} fault_state SEC(".maps");

/* Per CPU: no atomics on the per-frame path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fault_stats);
} fault_stats SEC(".maps");

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] &&
	       a[4] == b[4] && a[5] == b[5];
}

static __always_inline int port_in(const struct fault_config *cfg, __u16 port)
{
	return port >= cfg->port_lo && port <= cfg->port_hi;
}

/* RARP, gratuitous ARP (sender IP == target IP, request or reply) or an
 * unsolicited neighbour advertisement: how a host says "I am here now". */
static __always_inline int is_announce(const struct pkt_meta *m)
{
	if (m->kind == PKT_KIND_RARP)
		return 1;
	if (m->kind == PKT_KIND_ARP)
		return m->arp_spa[0] == m->arp_tpa[0] && m->arp_spa[1] == m->arp_tpa[1] &&
		       m->arp_spa[2] == m->arp_tpa[2] && m->arp_spa[3] == m->arp_tpa[3];
	if (m->kind == PKT_KIND_NEIGH_ADVERT)
		return !(m->nd_flags & PKT_ND_SOLICITED);
	return 0;
}

static __always_inline int matches(const struct fault_config *cfg, const struct pkt_meta *m)
{
	switch (cfg->match) {
	case FAULT_MATCH_ALL:
		return 1;
	case FAULT_MATCH_STREAM:
		return m->kind == PKT_KIND_TCP && (port_in(cfg, m->sport) || port_in(cfg, m->dport));
	case FAULT_MATCH_GUEST:
		return mac_eq(m->eth_src, cfg->guest_mac);
	case FAULT_MATCH_ANNOUNCE:
		return is_announce(m) && mac_eq(m->eth_src, cfg->guest_mac);
	case FAULT_MATCH_ECHO_REPLY:
		return m->kind == PKT_KIND_ECHO_REPLY && mac_eq(m->eth_src, cfg->guest_mac);
	}
	return 0;
}

/* True with probability rate_ppm / 10^6: the random word scaled to
 * [0, 10^6) by multiply-shift, which has no modulo bias worth the name. */
static __always_inline int roll(__u32 rate_ppm)
{
	if (rate_ppm >= FAULT_RATE_ONE)
		return 1;
	if (!rate_ppm)
		return 0;
	return ((__u64)bpf_get_prandom_u32() * FAULT_RATE_ONE >> 32) < rate_ppm;
}

static __always_inline __u64 mono_now(const struct fault_config *cfg)
{
	return cfg->clock_ns ? cfg->clock_ns : bpf_ktime_get_ns();
}

static __always_inline __u64 tai_now(const struct fault_config *cfg)
{
	return cfg->clock_ns ? cfg->clock_ns : bpf_ktime_get_tai_ns();
}

/* Is the hold still on? The first matched frame starts it. Two CPUs seeing
 * their first frames at once may both store a start: they differ by
 * nanoseconds, so a plain store does. */
static __always_inline int holding(const struct fault_config *cfg)
{
	__u32 key = 0;
	struct fault_state *st = bpf_map_lookup_elem(&fault_state, &key);
	__u64 now = mono_now(cfg);

	if (!st)
		return 0;
	if (!st->hold_start_mono_ns) {
		st->hold_start_mono_ns = now;
		return cfg->hold_ns > 0;
	}
	return now - st->hold_start_mono_ns < cfg->hold_ns;
}

/* Returns 0 or the helper's negative error. */
static __always_inline long corrupt(struct __sk_buff *skb, const struct pkt_meta *m)
{
	__u32 off = skb->len - 1;
	__u8 byte;
	long err;

	if ((m->kind == PKT_KIND_TCP || m->kind == PKT_KIND_UDP) && m->payload_off) {
		off = m->payload_off;
		if (!m->l4_payload_len)
			off--; /* header-only segment: still inside the checksum */
	}
	if (off >= skb->len)
		off = skb->len - 1;
	err = bpf_skb_load_bytes(skb, off, &byte, 1);
	if (err)
		return err;
	byte ^= (__u8)(1u << (bpf_get_prandom_u32() & 7));
	err = bpf_skb_store_bytes(skb, off, &byte, 1, BPF_F_RECOMPUTE_CSUM);
	if (err)
		return err;
	bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	return 0;
}

/* The clone passes this hook again, marked so that it is let through (see
 * FAULT_DUP_MARK); the original keeps its own mark. */
static __always_inline long duplicate(struct __sk_buff *skb, const struct fault_config *cfg)
{
	__u32 mark = skb->mark;
	long err;

	skb->mark = FAULT_DUP_MARK;
	err = bpf_clone_redirect(skb, skb->ifindex, cfg->ingress ? BPF_F_INGRESS : 0);
	skb->mark = mark;
	return err;
}

static __always_inline void applied(struct fault_stats *st, const struct fault_config *cfg)
{
	__u64 now = tai_now(cfg);

	st->applied++;
	if (!st->first_applied_tai_ns)
		st->first_applied_tai_ns = now;
	st->last_applied_tai_ns = now;
}

SEC("tc")
int fault_inject(struct __sk_buff *skb)
{
	struct fault_config *cfg;
	struct fault_stats *st;
	struct pkt_meta m = {}; /* a global function's argument: initialised */
	__u32 key = 0;
	int pulled;

	if (skb->mark == FAULT_DUP_MARK) {
		/* our own duplicate, back in the hook: its original mark was 0
		 * for all we can tell; a non-zero one is lost on the copy */
		skb->mark = 0;
		return TC_ACT_UNSPEC;
	}
	cfg = bpf_map_lookup_elem(&fault_cfg, &key);
	st = bpf_map_lookup_elem(&fault_stats, &key);
	if (!cfg || !st)
		return TC_ACT_UNSPEC;
	st->seen++;
	if (!cfg->enabled || cfg->kind == FAULT_KIND_NONE)
		return TC_ACT_UNSPEC;
	/* on -1, m is zeroed: it matches nothing but FAULT_MATCH_ALL */
	parse_skb_linear(skb, &m, &pulled);
	if (!matches(cfg, &m))
		return TC_ACT_UNSPEC;
	st->matched++;

	switch (cfg->kind) {
	case FAULT_KIND_HOLD:
		if (!holding(cfg))
			return TC_ACT_UNSPEC;
		break;
	case FAULT_KIND_DROP:
	case FAULT_KIND_CORRUPT:
	case FAULT_KIND_DUPLICATE:
		if (!roll(cfg->rate_ppm))
			return TC_ACT_UNSPEC;
		break;
	default:
		return TC_ACT_UNSPEC;
	}

	if (cfg->kind == FAULT_KIND_CORRUPT) {
		if (corrupt(skb, &m)) {
			st->errors++;
			return TC_ACT_UNSPEC;
		}
		st->corrupted++;
		applied(st, cfg);
		return TC_ACT_UNSPEC;
	}
	if (cfg->kind == FAULT_KIND_DUPLICATE) {
		if (duplicate(skb, cfg)) {
			st->errors++;
			return TC_ACT_UNSPEC;
		}
		st->duplicated++;
		applied(st, cfg);
		return TC_ACT_UNSPEC;
	}
	st->dropped++;
	applied(st, cfg);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
