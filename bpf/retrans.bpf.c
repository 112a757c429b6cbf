// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * retrans.bpf.c - the sender's own retransmits of migration flows, counted
 * exactly at tcp:tcp_retransmit_skb (the NIC view in pkt.bpf.c can only
 * infer them). A separate object on purpose (design §8): on a kernel whose
 * tracepoint differs it may fail to load, and packet capture still works.
 *
 * The context layout is the tracepoint's format file
 * (/sys/kernel/tracing/events/tcp/tcp_retransmit_skb/format) on 6.x.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "pkt.h"

struct tcp_retransmit_skb_ctx {
	__u64 common;          /* common_type, flags, preempt_count, pid */
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;           /* host order */
	__u16 dport;
	__u16 family;          /* AF_INET 2, AF_INET6 10 */
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKT_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} rt_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PKT_MAX_RETRANS_FLOWS);
	__type(key, struct pkt_retrans_key);
	__type(value, __u64);
} retrans SEC(".maps");

static __always_inline int in_set(__u16 port)
{
	__u32 word = port >> 6;
	__u64 *bits = bpf_map_lookup_elem(&rt_ports, &word);

	return bits && (*bits >> (port & 63) & 1);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int msc_retransmit(struct tcp_retransmit_skb_ctx *ctx)
{
	struct pkt_retrans_key k = {};
	__u64 one = 1, *n;

	if (!in_set(ctx->sport) && !in_set(ctx->dport))
		return 0;
	k.sport = ctx->sport;
	k.dport = ctx->dport;
	if (ctx->family == 2) {
		k.family = 4;
		__builtin_memcpy(k.saddr, ctx->saddr, 4);
		__builtin_memcpy(k.daddr, ctx->daddr, 4);
	} else {
		k.family = 6;
		__builtin_memcpy(k.saddr, ctx->saddr_v6, 16);
		__builtin_memcpy(k.daddr, ctx->daddr_v6, 16);
	}
	n = bpf_map_lookup_elem(&retrans, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&retrans, &k, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
