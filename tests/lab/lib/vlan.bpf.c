// SPDX-License-Identifier: GPL-2.0
/*
 * 802.1Q for the lab's "vlan" layout (tests/lab/lib/vlan.sh). The host kernel
 * has no 8021q module (no eth0.100 devices, no VLAN-filtering bridge), so
 * these tc programs do what a compute node's VLAN sub-interfaces and a
 * switch's access port do:
 *
 *   trunk_egress   compute NIC eth0, egress: the guest's frames (source MAC
 *                  GUEST_MAC) leave tagged GUEST_VID, the host's (migration
 *                  stream, ARP) tagged HOST_VID
 *   trunk_ingress  compute NIC eth0, ingress: GUEST_VID and HOST_VID frames
 *                  untagged for the node's bridge; anything else dropped
 *   access_ingress switch port to ctl, ingress: ctl's frames into GUEST_VID
 *   access_egress  switch port to ctl, egress: GUEST_VID frames untagged,
 *                  anything else (other VLANs) dropped
 *
 * tcpdump on the compute NIC sees the tagged frames both ways (the capture
 * taps run before tc ingress and after tc egress).
 * Built with clang -target bpf at run time, -DGUEST_MAC_BYTES=0x52,0x54,...
 * -DGUEST_VID=100 -DHOST_VID=200.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef GUEST_VID
#define GUEST_VID 100
#endif
#ifndef HOST_VID
#define HOST_VID 200
#endif
#ifndef GUEST_MAC_BYTES
#define GUEST_MAC_BYTES 0x52, 0x54, 0x00, 0x12, 0x34, 0x56
#endif

static const __u8 guest_mac[ETH_ALEN] = {GUEST_MAC_BYTES};

/* Is the frame tagged (in the skb's metadata or inline), and with which VID? */
static __always_inline int vlan_of(struct __sk_buff *skb, __u16 *vid)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if (skb->vlan_present) {
		*vid = skb->vlan_tci & 0x0fff;
		return 1;
	}
	if ((void *)(eth + 1) + 4 > end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_8021Q) && eth->h_proto != bpf_htons(ETH_P_8021AD))
		return 0;
	*vid = bpf_ntohs(*(__u16 *)(eth + 1)) & 0x0fff;
	return 1;
}

static __always_inline int from_guest(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return 0;
	for (int i = 0; i < ETH_ALEN; i++)
		if (eth->h_source[i] != guest_mac[i])
			return 0;
	return 1;
}

SEC("tc/trunk_egress")
int trunk_egress(struct __sk_buff *skb)
{
	__u16 vid;

	if (vlan_of(skb, &vid))
		return TC_ACT_OK;
	vid = from_guest(skb) ? GUEST_VID : HOST_VID;
	return bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vid) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc/trunk_ingress")
int trunk_ingress(struct __sk_buff *skb)
{
	__u16 vid;

	if (!vlan_of(skb, &vid) || (vid != GUEST_VID && vid != HOST_VID))
		return TC_ACT_SHOT;
	return bpf_skb_vlan_pop(skb) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc/access_ingress")
int access_ingress(struct __sk_buff *skb)
{
	__u16 vid;

	if (vlan_of(skb, &vid))
		return TC_ACT_SHOT;
	return bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), GUEST_VID) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc/access_egress")
int access_egress(struct __sk_buff *skb)
{
	__u16 vid;

	if (!vlan_of(skb, &vid) || vid != GUEST_VID)
		return TC_ACT_SHOT;
	return bpf_skb_vlan_pop(skb) ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
