/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * parse.h - the one packet classifier of migscope.
 *
 * Compiled twice: into the eBPF tc programs (clang -target bpf) and into the
 * userspace analyzer, so live counters and offline analysis agree by
 * construction. Everything is static inline, loop bounds are compile-time
 * constants and every read goes through cursor_take(), which is also the
 * bounds check the BPF verifier needs to see.
 *
 * Contract: parse_ethernet()/parse_from_ethertype() fill a caller-owned
 * struct pkt_meta and never read outside [data, data_end). They return 0 when
 * the frame was classified (possibly only partly: see PKT_F_TRUNC), or -1 when
 * not even the outer header fitted. Frames are described by their innermost
 * Ethernet frame: for VXLAN/Geneve the tenant (guest) frame, with the
 * encapsulation recorded in meta->flags. Lengths that size the wire
 * (l4_payload_len) come from the IP headers, not from the captured bytes, so a
 * capture cut by a small snaplen still yields exact byte counts.
 *
 * Protocols: Ethernet II and IEEE 802.1Q/802.1ad (QinQ, two tags at most),
 * IPv4 (RFC 791), IPv6 (RFC 8200; extension headers skipped, four at most),
 * TCP (RFC 9293), UDP (RFC 768), ICMP echo (RFC 792), ICMPv6 echo and neighbour
 * advertisement (RFC 4443, RFC 4861), ARP and RARP (RFC 826, RFC 903),
 * VXLAN (RFC 7348, UDP 4789) and Geneve (RFC 8926, UDP 6081).
 */
#ifndef MIGSCOPE_BPF_PARSE_H
#define MIGSCOPE_BPF_PARSE_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* The verifier needs the loops unrolled; userspace gets the same code. */
#if defined(__clang__)
#define PARSE_UNROLL _Pragma("unroll")
#else
#define PARSE_UNROLL _Pragma("GCC unroll 16")
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define parse_ntohs(x) ((__u16)__builtin_bswap16((__u16)(x)))
#define parse_ntohl(x) ((__u32)__builtin_bswap32((__u32)(x)))
#else
#define parse_ntohs(x) ((__u16)(x))
#define parse_ntohl(x) ((__u32)(x))
#endif

enum {
	PARSE_ETH_P_IPV4 = 0x0800,
	PARSE_ETH_P_ARP = 0x0806,
	PARSE_ETH_P_RARP = 0x8035,
	PARSE_ETH_P_8021Q = 0x8100,
	PARSE_ETH_P_8021AD = 0x88a8,
	PARSE_ETH_P_QINQ_OLD = 0x9100,
	PARSE_ETH_P_IPV6 = 0x86dd,
	PARSE_ETH_P_TEB = 0x6558, /* transparent Ethernet bridging (Geneve) */
	PARSE_UDP_VXLAN = 4789,
	PARSE_UDP_GENEVE = 6081,
	PARSE_MAX_VLAN_TAGS = 2,
	/* hop-by-hop, routing, fragment, destination options: the chains seen
	 * in practice. Six made the verifier's state count explode once the
	 * parser runs twice (outer + tunnelled frame). */
	PARSE_MAX_IPV6_EXT = 4,
};

/* meta->flags */
enum {
	PKT_F_VLAN = 1u << 0,   /* at least one 802.1Q tag */
	PKT_F_QINQ = 1u << 1,   /* two tags */
	PKT_F_VXLAN = 1u << 2,  /* described frame was inside VXLAN */
	PKT_F_GENEVE = 1u << 3, /* described frame was inside Geneve */
	PKT_F_IPV4 = 1u << 4,
	PKT_F_IPV6 = 1u << 5,
	PKT_F_FRAGMENT = 1u << 6, /* non-first IP fragment: no L4 header */
	PKT_F_TRUNC = 1u << 7,    /* captured bytes ended inside a header */
	PKT_F_NO_ETH = 1u << 8,   /* link layer had no Ethernet addresses */
};

/* meta->kind: what the analyzer and the BPF programs dispatch on */
enum pkt_kind {
	PKT_KIND_OTHER = 0,
	PKT_KIND_TCP,
	PKT_KIND_UDP,
	PKT_KIND_ECHO_REQUEST,  /* ICMP or ICMPv6 */
	PKT_KIND_ECHO_REPLY,    /* ICMP or ICMPv6 */
	PKT_KIND_ARP,
	PKT_KIND_RARP,
	PKT_KIND_NEIGH_ADVERT,  /* ICMPv6 type 136 */
	PKT_KIND_ICMP_OTHER,
};

enum {
	PKT_TCP_FIN = 0x01,
	PKT_TCP_SYN = 0x02,
	PKT_TCP_RST = 0x04,
	PKT_TCP_PSH = 0x08,
	PKT_TCP_ACK = 0x10,
	PKT_ND_OVERRIDE = 0x20,  /* nd_flags, as in the NA header byte */
	PKT_ND_SOLICITED = 0x40,
	PKT_ND_ROUTER = 0x80,
};

/* Addresses are in network order; IPv4 addresses occupy the first 4 bytes. */
struct pkt_meta {
	__u32 flags;
	__u8 kind;          /* enum pkt_kind */
	__u8 l4_proto;      /* IPPROTO_* of the described frame, 0 if none */
	__u16 eth_proto;    /* innermost ethertype, host order */
	__u16 vlan_outer;   /* VLAN ids, host order, 0 if absent */
	__u16 vlan_inner;
	__u8 eth_src[6];
	__u8 eth_dst[6];
	__u8 ip_src[16];
	__u8 ip_dst[16];
	__u16 sport;        /* TCP/UDP ports, host order */
	__u16 dport;
	__u32 tcp_seq;      /* host order */
	__u32 tcp_ack;
	__u8 tcp_flags;
	__u8 nd_flags;
	__u16 payload_off;  /* offset of the L4 payload from the frame start */
	__u32 l4_payload_len; /* from the IP length fields, not the capture */
	__u16 echo_id;      /* host order */
	__u16 echo_seq;
	__u16 arp_op;       /* host order */
	__u8 arp_sha[6];
	__u8 arp_tha[6];
	__u8 arp_spa[4];
	__u8 arp_tpa[4];
	__u8 nd_target[16];
	__u16 tcp_window;   /* host order, unscaled: only a zero is read */
} __attribute__((aligned(8))); /* zeroed per frame: 8-byte stores */

struct parse_cursor {
	const __u8 *start;
	const __u8 *pos;
	const __u8 *end;
};

static __always_inline void cursor_init(struct parse_cursor *c, const void *data,
					const void *data_end)
{
	c->start = (const __u8 *)data;
	c->pos = (const __u8 *)data;
	c->end = (const __u8 *)data_end;
}

/* The one bounds check: NULL when fewer than n bytes remain. */
static __always_inline const __u8 *cursor_take(struct parse_cursor *c, __u32 n)
{
	const __u8 *p = c->pos;

	if (p + n > c->end)
		return 0;
	c->pos = p + n;
	return p;
}

/*
 * Big-endian fields at any alignment. In BPF one load each: byte-wise reads
 * cost a third of the classifier, and the verifier allows unaligned packet
 * loads on CPUs that do them efficiently (x86-64, arm64: the compute nodes
 * we run on). In C a memcpy, which compilers make one load, without the
 * undefined behaviour of a misaligned pointer.
 */
#if defined(__bpf__)
static __always_inline __u16 ld16(const __u8 *p)
{
	return *(const __u16 *)(const void *)p;
}

static __always_inline __u32 ld32(const __u8 *p)
{
	return *(const __u32 *)(const void *)p;
}
#else
static __always_inline __u16 ld16(const __u8 *p)
{
	__u16 v;

	__builtin_memcpy(&v, p, 2);
	return v;
}

static __always_inline __u32 ld32(const __u8 *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, 4);
	return v;
}
#endif

static __always_inline __u16 rd16(const __u8 *p)
{
	return parse_ntohs(ld16(p));
}

static __always_inline __u32 rd32(const __u8 *p)
{
	return parse_ntohl(ld32(p));
}

/* Constant-size builtins: a few moves in userspace, and the verifier
 * accepts them in BPF. */
static __always_inline void copy6(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 6);
}

static __always_inline void copy4(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 4);
}

static __always_inline void copy16(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 16);
}

/*
 * ARP/RARP (RFC 826 / RFC 903), Ethernet + IPv4 only:
 *   htype(2) ptype(2) hlen(1) plen(1) op(2) sha(6) spa(4) tha(6) tpa(4)
 */
static __always_inline int parse_arp(struct parse_cursor *c, struct pkt_meta *m, int rarp)
{
	const __u8 *a = cursor_take(c, 28);

	if (!a) {
		m->flags |= PKT_F_TRUNC;
		return 0;
	}
	if (rd16(a) != 1 || rd16(a + 2) != PARSE_ETH_P_IPV4 || a[4] != 6 || a[5] != 4)
		return 0;
	m->kind = rarp ? PKT_KIND_RARP : PKT_KIND_ARP;
	m->arp_op = rd16(a + 6);
	copy6(m->arp_sha, a + 8);
	copy4(m->arp_spa, a + 14);
	copy6(m->arp_tha, a + 18);
	copy4(m->arp_tpa, a + 24);
	return 0;
}

/* TCP (RFC 9293): ports, seq, ack, data offset, flags. ip_payload is the L4
 * length from the IP header; the TCP payload length follows from it. */
static __always_inline int parse_tcp(struct parse_cursor *c, struct pkt_meta *m,
				     __u32 ip_payload)
{
	const __u8 *t = cursor_take(c, 20);
	__u32 doff;

	if (!t) {
		m->flags |= PKT_F_TRUNC;
		return 0;
	}
	m->kind = PKT_KIND_TCP;
	m->sport = rd16(t);
	m->dport = rd16(t + 2);
	m->tcp_seq = rd32(t + 4);
	m->tcp_ack = rd32(t + 8);
	m->tcp_flags = t[13];
	m->tcp_window = rd16(t + 14);
	doff = (__u32)(t[12] >> 4) * 4;
	if (doff < 20 || doff > ip_payload)
		return 0; /* hostile or broken header: no payload claimed */
	m->l4_payload_len = ip_payload - doff;
	m->payload_off = (__u16)((t - c->start) + doff);
	if (doff > 20 && !cursor_take(c, doff - 20))
		m->flags |= PKT_F_TRUNC; /* options cut by the snaplen */
	return 0;
}

/* ICMP (RFC 792) and ICMPv6 (RFC 4443, RFC 4861):
 *   type(1) code(1) csum(2) then id(2) seq(2) for echo, or
 *   flags(1) reserved(3) target(16) for a neighbour advertisement. */
static __always_inline int parse_icmp(struct parse_cursor *c, struct pkt_meta *m, int v6)
{
	const __u8 *h = cursor_take(c, 8);
	const __u8 *target;
	__u8 req = v6 ? 128 : 8, rep = v6 ? 129 : 0;

	if (!h) {
		m->flags |= PKT_F_TRUNC;
		return 0;
	}
	m->kind = PKT_KIND_ICMP_OTHER;
	if (h[0] == req || h[0] == rep) {
		m->kind = h[0] == req ? PKT_KIND_ECHO_REQUEST : PKT_KIND_ECHO_REPLY;
		m->echo_id = rd16(h + 4);
		m->echo_seq = rd16(h + 6);
		return 0;
	}
	if (v6 && h[0] == 136) {
		target = cursor_take(c, 16);
		if (!target) {
			m->flags |= PKT_F_TRUNC;
			return 0;
		}
		m->kind = PKT_KIND_NEIGH_ADVERT;
		m->nd_flags = h[4] & (PKT_ND_ROUTER | PKT_ND_SOLICITED | PKT_ND_OVERRIDE);
		copy16(m->nd_target, target);
	}
	return 0;
}

static __always_inline int parse_l4(struct parse_cursor *c, struct pkt_meta *m,
				    __u8 proto, __u32 ip_payload, int v6)
{
	const __u8 *u;

	m->l4_proto = proto;
	if (proto == 6)
		return parse_tcp(c, m, ip_payload);
	if ((proto == 1 && !v6) || (proto == 58 && v6))
		return parse_icmp(c, m, v6);
	if (proto == 17) {
		u = cursor_take(c, 8);
		if (!u) {
			m->flags |= PKT_F_TRUNC;
			return 0;
		}
		m->kind = PKT_KIND_UDP;
		m->sport = rd16(u);
		m->dport = rd16(u + 2);
		m->l4_payload_len = ip_payload >= 8 ? ip_payload - 8 : 0;
		m->payload_off = (__u16)(c->pos - c->start);
	}
	return 0;
}

/* IPv4 (RFC 791): version/IHL, total length, fragment offset, protocol. */
static __always_inline int parse_ipv4(struct parse_cursor *c, struct pkt_meta *m)
{
	const __u8 *ip = cursor_take(c, 20);
	__u32 ihl, total;

	if (!ip) {
		m->flags |= PKT_F_TRUNC;
		return 0;
	}
	if ((ip[0] >> 4) != 4)
		return 0;
	ihl = (__u32)(ip[0] & 0x0f) * 4;
	total = rd16(ip + 2);
	if (ihl < 20 || total < ihl)
		return 0;
	m->flags |= PKT_F_IPV4;
	copy4(m->ip_src, ip + 12);
	copy4(m->ip_dst, ip + 16);
	if (ihl > 20 && !cursor_take(c, ihl - 20)) {
		m->flags |= PKT_F_TRUNC;
		return 0;
	}
	if (rd16(ip + 6) & 0x1fff) {
		m->flags |= PKT_F_FRAGMENT;
		return 0;
	}
	return parse_l4(c, m, ip[9], total - ihl, 0);
}

/*
 * IPv6 (RFC 8200). Extension headers are skipped: hop-by-hop (0), routing
 * (43), destination options (60) and AH (51) by their length field, fragment
 * (44) by its fixed 8 bytes; a non-first fragment ends the parse.
 */
static __always_inline int parse_ipv6(struct parse_cursor *c, struct pkt_meta *m)
{
	const __u8 *ip = cursor_take(c, 40);
	const __u8 *ext;
	__u32 remaining, len;
	__u8 next;

	if (!ip) {
		m->flags |= PKT_F_TRUNC;
		return 0;
	}
	if ((ip[0] >> 4) != 6)
		return 0;
	m->flags |= PKT_F_IPV6;
	copy16(m->ip_src, ip + 8);
	copy16(m->ip_dst, ip + 24);
	remaining = rd16(ip + 4);
	next = ip[6];
PARSE_UNROLL
	for (int i = 0; i < PARSE_MAX_IPV6_EXT; i++) {
		if (next != 0 && next != 43 && next != 60 && next != 51 && next != 44)
			break;
		ext = cursor_take(c, 8);
		if (!ext) {
			m->flags |= PKT_F_TRUNC;
			return 0;
		}
		if (next == 44) {
			len = 8;
			if (rd16(ext + 2) & 0xfff8) {
				m->flags |= PKT_F_FRAGMENT;
				return 0;
			}
		} else if (next == 51) {
			len = ((__u32)ext[1] + 2) * 4;
		} else {
			len = ((__u32)ext[1] + 1) * 8;
		}
		if (len < 8 || len > remaining)
			return 0;
		if (len > 8 && !cursor_take(c, len - 8)) {
			m->flags |= PKT_F_TRUNC;
			return 0;
		}
		remaining -= len;
		next = ext[0];
	}
	if (next == 0 || next == 43 || next == 60 || next == 51 || next == 44)
		return 0; /* more extension headers than we walk: give up cleanly */
	return parse_l4(c, m, next, remaining, 1);
}

/* Walks up to two VLAN tags; returns the ethertype after them. */
static __always_inline int parse_vlans(struct parse_cursor *c, struct pkt_meta *m,
				       __u16 *proto)
{
	const __u8 *tag;

PARSE_UNROLL
	for (int i = 0; i < PARSE_MAX_VLAN_TAGS; i++) {
		if (*proto != PARSE_ETH_P_8021Q && *proto != PARSE_ETH_P_8021AD &&
		    *proto != PARSE_ETH_P_QINQ_OLD)
			break;
		tag = cursor_take(c, 4);
		if (!tag) {
			m->flags |= PKT_F_TRUNC;
			return -1;
		}
		if (m->flags & PKT_F_VLAN) {
			m->flags |= PKT_F_QINQ;
			m->vlan_inner = rd16(tag) & 0x0fff;
		} else {
			m->flags |= PKT_F_VLAN;
			m->vlan_outer = rd16(tag) & 0x0fff;
		}
		*proto = rd16(tag + 2);
	}
	return 0;
}

static __always_inline int parse_l3(struct parse_cursor *c, struct pkt_meta *m, __u16 proto)
{
	m->eth_proto = proto;
	if (proto == PARSE_ETH_P_IPV4)
		return parse_ipv4(c, m);
	if (proto == PARSE_ETH_P_IPV6)
		return parse_ipv6(c, m);
	if (proto == PARSE_ETH_P_ARP)
		return parse_arp(c, m, 0);
	if (proto == PARSE_ETH_P_RARP)
		return parse_arp(c, m, 1);
	return 0;
}

/* Ethernet header + VLAN tags + L3; no tunnel descent. */
static __always_inline int parse_eth_one(struct parse_cursor *c, struct pkt_meta *m)
{
	const __u8 *eth = cursor_take(c, 14);
	__u16 proto;

	if (!eth)
		return -1;
	copy6(m->eth_dst, eth);
	copy6(m->eth_src, eth + 6);
	proto = rd16(eth + 12);
	if (parse_vlans(c, m, &proto))
		return 0;
	return parse_l3(c, m, proto);
}

/*
 * VXLAN: flags(1, I=0x08) reserved(3) VNI(3) reserved(1), then Ethernet.
 * Geneve: ver/optlen(1) flags(1) protocol(2) VNI(3) reserved(1) options,
 * then Ethernet when protocol is 0x6558.
 * Returns 1 when the cursor now sits on an inner Ethernet frame.
 */
static __always_inline int parse_tunnel(struct parse_cursor *c, struct pkt_meta *m)
{
	const __u8 *h;
	__u32 opt;

	/* parse_l4() left the cursor on the UDP payload */
	if (m->kind != PKT_KIND_UDP || (m->flags & PKT_F_TRUNC))
		return 0;
	if (m->dport == PARSE_UDP_VXLAN) {
		h = cursor_take(c, 8);
		if (!h || !(h[0] & 0x08))
			return 0;
		m->flags |= PKT_F_VXLAN;
		return 1;
	}
	if (m->dport == PARSE_UDP_GENEVE) {
		h = cursor_take(c, 8);
		if (!h || (h[0] >> 6) != 0 || rd16(h + 2) != PARSE_ETH_P_TEB)
			return 0;
		opt = (__u32)(h[0] & 0x3f) * 4;
		if (opt && !cursor_take(c, opt))
			return 0;
		m->flags |= PKT_F_GENEVE;
		return 1;
	}
	return 0;
}

/*
 * Classify an Ethernet frame. A VXLAN/Geneve frame is described by its inner
 * frame; when the inner frame does not fit, the outer description stays.
 */
static __always_inline int parse_ethernet(const void *data, const void *data_end,
					  struct pkt_meta *m)
{
	struct parse_cursor c;
	struct pkt_meta outer;
	__u32 tunnel;

	__builtin_memset(m, 0, sizeof(*m));
	cursor_init(&c, data, data_end);
	if (parse_eth_one(&c, m))
		return -1;
	if (!parse_tunnel(&c, m))
		return 0;
	tunnel = m->flags & (PKT_F_VXLAN | PKT_F_GENEVE);
	outer = *m;
	/* the inner frame is described as if captured alone */
	__builtin_memset(m, 0, sizeof(*m));
	if (parse_eth_one(&c, m)) {
		*m = outer;
		m->flags &= ~tunnel;
		return 0;
	}
	m->flags |= tunnel;
	return 0;
}

/* For link layers without an Ethernet header (Linux cooked capture): the
 * caller found the ethertype; data points at the L3 header. */
static __always_inline int parse_from_ethertype(const void *data, const void *data_end,
						__u16 proto, struct pkt_meta *m)
{
	struct parse_cursor c;

	__builtin_memset(m, 0, sizeof(*m));
	m->flags = PKT_F_NO_ETH;
	cursor_init(&c, data, data_end);
	if (parse_vlans(&c, m, &proto))
		return 0;
	return parse_l3(&c, m, proto);
}

#endif /* MIGSCOPE_BPF_PARSE_H */
