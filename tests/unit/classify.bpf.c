// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * classify.bpf.c - the shared classifier (parse.h) as a tc program that counts
 * frames per kind. It proves in CI that the very header the analyzer uses
 * passes the verifier, and lets tests compare in-kernel classification with
 * userspace on the same frames through BPF_PROG_TEST_RUN.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"

#define KIND_SLOTS 16

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KIND_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} kind_count SEC(".maps");

SEC("tc")
int classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pkt_meta m;
	__u32 slot;
	__u64 *count;

	if (parse_ethernet(data, data_end, &m))
		slot = KIND_SLOTS - 1;
	else
		slot = m.kind;
	count = bpf_map_lookup_elem(&kind_count, &slot);
	if (count)
		*count += 1;
	return TC_ACT_UNSPEC; /* observe only: never alter the NIC's verdict */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
