/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * parse_skb - parse.h's parse_ethernet() for tc programs, composed from its
 * own pieces in two global functions that the verifier checks once each: the
 * outer frame, then a tunnel's inner frame. One inlined parse_ethernet() makes
 * the verifier walk every inner path once per outer path (classify.bpf.c
 * spends ~700k of its 1M steps on that), and nothing after it fits.
 * tests/unit/test_pkt_bpf.c and test_fault.c check the composition against
 * parse_ethernet() on the same frames.
 *
 * Include once per BPF object (the two functions are global there). Loading
 * needs CAP_PERFMON besides CAP_BPF: without it the verifier refuses the
 * packet pointer comparisons and the inner offset parse_skb_outer() computes.
 */
#ifndef MIGSCOPE_PARSE_SKB_H
#define MIGSCOPE_PARSE_SKB_H

#include "parse.h"

/* A tunnel's inner frame further in than this is described by its outer
 * frame: far beyond any real encapsulation's headers. A power of two. */
#define PARSE_SKB_INNER_MAX 1024

/* -1 when not even an Ethernet header fitted (*m zeroed), 0 when *m
 * describes the frame, else the offset of the inner Ethernet frame of the
 * VXLAN/Geneve packet *m describes. */
__attribute__((noinline)) int parse_skb_outer(struct __sk_buff *skb, struct pkt_meta *m)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct parse_cursor c;

	if (!m)
		return -1;
	__builtin_memset(m, 0, sizeof(*m));
	cursor_init(&c, data, data_end);
	if (parse_eth_one(&c, m))
		return -1;
	if (!parse_tunnel(&c, m))
		return 0;
	return (int)(c.pos - c.start);
}

/* The inner frame at `off` replaces *m, flagged with the tunnel; on failure
 * *m is left alone. Offsets stay relative to the outer frame, as in
 * parse_ethernet(). */
__attribute__((noinline)) int parse_skb_inner(struct __sk_buff *skb, __u32 off, __u32 tunnel,
					      struct pkt_meta *m)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct parse_cursor c;
	struct pkt_meta inner;

	if (!m || off > PARSE_SKB_INNER_MAX)
		return -1;
	/* The verifier needs the bound on the very register that is added to
	 * data; clang would drop a mask it can prove redundant and use another
	 * copy, so hide what it knows first. */
	asm volatile("" : "+r"(off));
	off &= 2 * PARSE_SKB_INNER_MAX - 1;
	c.start = data;
	c.pos = (const __u8 *)data + off;
	c.end = data_end;
	if (c.pos > c.end)
		return -1;
	__builtin_memset(&inner, 0, sizeof(inner));
	if (parse_eth_one(&c, &inner))
		return -1;
	inner.flags |= tunnel;
	*m = inner;
	return 0;
}

/* parse_ethernet() through the two functions above: -1 when no Ethernet
 * header fitted (*m zeroed), else 0. */
static __always_inline int parse_skb(struct __sk_buff *skb, struct pkt_meta *m)
{
	int off = parse_skb_outer(skb, m);
	__u32 tunnel;

	if (off <= 0)
		return off;
	tunnel = m->flags & (PKT_F_VXLAN | PKT_F_GENEVE);
	if (parse_skb_inner(skb, (__u32)off, tunnel, m))
		m->flags &= ~tunnel;
	return 0;
}

/* Bytes pulled into a paged skb's linear data when its headers ran past it:
 * the deepest stack the parser walks (VXLAN over IPv6 carrying IPv6 and TCP
 * with options: 14+40+8+8+14+40+60 = 184) with room for extension headers. */
#define PARSE_SKB_PULL_MAX 256

/*
 * parse_skb(), and when the headers ran past the skb's linear data (a paged
 * skb), once more after pulling up to PARSE_SKB_PULL_MAX bytes in. Only then: a
 * TSO skb's linear part is exactly its headers, and TCP transmits clones, so
 * pulling every one copies its head (pskb_expand_head, ~400 ns live). The
 * bytes stay as they were. *pulled says whether it pulled.
 */
static __always_inline int parse_skb_linear(struct __sk_buff *skb, struct pkt_meta *m, int *pulled)
{
	int rc = parse_skb(skb, m);
	__u32 linear = skb->data_end - skb->data;

	*pulled = 0;
	if ((!rc && !(m->flags & PKT_F_TRUNC)) || skb->len <= linear)
		return rc;
	*pulled = 1;
	bpf_skb_pull_data(skb, skb->len < PARSE_SKB_PULL_MAX ? skb->len : PARSE_SKB_PULL_MAX);
	return parse_skb(skb, m);
}

#endif
