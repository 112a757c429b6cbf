// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * retrans.bpf.c - the sender's own retransmits of migration flows, counted
 * exactly at tcp:tcp_retransmit_skb (the NIC view in pkt.bpf.c can only
 * infer them): per flow, the retransmit calls, the data segments they sent
 * on the wire (tcp_skb_pcount) and their payload bytes. A separate object on purpose
 * (design §8): on a kernel without BTF it fails to load, and packet capture
 * still works.
 *
 * A BTF tracepoint (tp_btf): attached through the kernel's BTF by name, it
 * needs no tracefs mount (the classic tracepoint's perf event ID lives
 * there, and containers often have none). Its arguments are the socket and
 * the skb, and since 6.12 the attempt's result (two programs below, one
 * loaded: capture/retrans.c reads the tracepoint's arity from BTF); the kernel structures
 * below name only the fields read, and CO-RE relocates each against the
 * running kernel. Only sockets of the agent's network namespace count: the
 * tracepoint sees the whole machine, the agent one node.
 */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pkt.h"

/* Configuration (rodata, set by the loader before load). */
const volatile __u32 netns_ino = 0; /* 0: every namespace */

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct in6_addr {
	__u8 s6_addr[16];
} __attribute__((preserve_access_index));

struct sock_common {
	union {
		struct {
			__be32 skc_daddr;
			__be32 skc_rcv_saddr;
		};
	};
	union {
		struct {
			__be16 skc_dport;
			__u16 skc_num;
		};
	};
	unsigned short skc_family;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned int len;
	char cb[48];
} __attribute__((preserve_access_index));

/* TCP's control block in skb->cb */
struct tcp_skb_cb {
	__u32 seq;
	__u32 end_seq;
	union {
		struct {
			__u16 tcp_gso_segs;
			__u16 tcp_gso_size;
		};
	};
} __attribute__((preserve_access_index));

enum { FAMILY_INET = 2, FAMILY_INET6 = 10 };

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
	__type(value, struct pkt_retrans_stats);
} retrans SEC(".maps");

static __always_inline int in_set(__u16 port)
{
	__u32 word = port >> 6;
	__u64 *bits = bpf_map_lookup_elem(&rt_ports, &word);

	return bits && (*bits >> (port & 63) & 1);
}

/* ::ffff:a.b.c.d, a dual-stack socket's IPv4 peer */
static __always_inline int v4_mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

static __always_inline int count_retransmit(const struct sock *sk, const struct sk_buff *skb)
{
	struct pkt_retrans_key k = {};
	struct pkt_retrans_stats *st, fresh = {};
	const struct tcp_skb_cb *tcb;
	__u16 family, segs = 0;
	__u32 len = 0;

	if (netns_ino && BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != netns_ino)
		return 0;
	k.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	k.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (!in_set(k.sport) && !in_set(k.dport))
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == FAMILY_INET) {
		k.family = 4;
		bpf_core_read(k.saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(k.daddr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == FAMILY_INET6) {
		k.family = 6;
		bpf_core_read(k.saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(k.daddr, 16, &sk->__sk_common.skc_v6_daddr);
		if (v4_mapped(k.saddr) && v4_mapped(k.daddr)) {
			k.family = 4;
			__builtin_memmove(k.saddr, k.saddr + 12, 4);
			__builtin_memmove(k.daddr, k.daddr + 12, 4);
			__builtin_memset(k.saddr + 4, 0, 12);
			__builtin_memset(k.daddr + 4, 0, 12);
		}
	} else {
		return 0;
	}
	tcb = (const struct tcp_skb_cb *)skb->cb;
	bpf_core_read(&segs, sizeof(segs), &tcb->tcp_gso_segs);
	len = BPF_CORE_READ(skb, len);
	if (!segs)
		segs = 1;

	st = bpf_map_lookup_elem(&retrans, &k);
	if (!st) {
		/* NOEXIST: another CPU may have created it meanwhile */
		bpf_map_update_elem(&retrans, &k, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&retrans, &k);
		if (!st)
			return 0;
	}
	__sync_fetch_and_add(&st->calls, 1);
	/* data only, the analyzer's definition: a SYN or FIN sent again
	 * carries no payload and is no retransmitted segment there */
	if (len) {
		__sync_fetch_and_add(&st->segments, segs);
		__sync_fetch_and_add(&st->bytes, len);
	}
	return 0;
}

/* Kernels before 6.12: the tracepoint fires for retransmits that were sent. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(msc_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	return count_retransmit(sk, skb);
}

/* Since 6.12 it fires for every attempt with its result: one refused
 * (-EBUSY while the first copy is still in the host's queue, -ENOMEM, ...)
 * sent nothing. The loader keeps the program the kernel's BTF fits. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(msc_retransmit_err, const struct sock *sk, const struct sk_buff *skb, int err)
{
	return err ? 0 : count_retransmit(sk, skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
