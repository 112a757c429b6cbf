#include "frame.h"

#include <string.h>

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t put_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t proto)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	wr16(p + 12, proto);
	return 14;
}

size_t put_ipv4(uint8_t *p, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		uint32_t l4_len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	wr16(p + 2, (uint16_t)(20 + l4_len));
	p[6] = 0x40; /* don't fragment */
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	wr16(p + 10, csum(p, 20, 0));
	return 20;
}

size_t put_ipv6(uint8_t *p, const uint8_t src[16], const uint8_t dst[16], uint8_t next,
		uint32_t l4_len)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	wr16(p + 4, (uint16_t)l4_len);
	p[6] = next;
	p[7] = 255;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

size_t put_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
	       uint8_t flags)
{
	memset(p, 0, 32);
	wr16(p, sport);
	wr16(p + 2, dport);
	wr32(p + 4, seq);
	wr32(p + 8, ack);
	p[12] = 8 << 4;
	p[13] = flags;
	wr16(p + 14, 64240);
	p[20] = 1; /* NOP NOP TS(10) */
	p[21] = 1;
	p[22] = 8;
	p[23] = 10;
	return 32;
}

size_t put_udp(uint8_t *p, uint16_t sport, uint16_t dport, uint32_t payload_len)
{
	wr16(p, sport);
	wr16(p + 2, dport);
	wr16(p + 4, (uint16_t)(8 + payload_len));
	wr16(p + 6, 0); /* optional over IPv4 (RFC 768) */
	return 8;
}

void frame_tcp(struct frame *f, const uint8_t smac[6], const uint8_t dmac[6],
	       const uint8_t sip[4], const uint8_t dip[4], uint16_t sport, uint16_t dport,
	       uint32_t seq, uint32_t ack, uint8_t flags, uint32_t payload_len,
	       const uint8_t *payload_head, uint32_t head_len)
{
	uint8_t *p = f->b;

	p += put_eth(p, dmac, smac, 0x0800);
	p += put_ipv4(p, sip, dip, 6, 32 + payload_len);
	p += put_tcp(p, sport, dport, seq, ack, flags);
	if (head_len > payload_len)
		head_len = payload_len;
	memset(p, 0, payload_len < 64 ? payload_len : 64);
	if (head_len)
		memcpy(p, payload_head, head_len);
	p += payload_len < 64 ? payload_len : 64;
	f->len = (uint32_t)(p - f->b);
	f->wirelen = 14 + 20 + 32 + payload_len;
}

enum { ECHO_DATA = 56 };

void frame_echo(struct frame *f, const uint8_t smac[6], const uint8_t dmac[6],
		const uint8_t sip[4], const uint8_t dip[4], int reply, uint16_t id, uint16_t seq)
{
	uint8_t *p = f->b, *icmp;

	p += put_eth(p, dmac, smac, 0x0800);
	p += put_ipv4(p, sip, dip, 1, 8 + ECHO_DATA);
	icmp = p;
	memset(icmp, 0, 8 + ECHO_DATA);
	icmp[0] = reply ? 0 : 8;
	wr16(icmp + 4, id);
	wr16(icmp + 6, seq);
	wr16(icmp + 2, csum(icmp, 8 + ECHO_DATA, 0));
	p += 8 + ECHO_DATA;
	f->len = f->wirelen = (uint32_t)(p - f->b);
}

void frame_echo6(struct frame *f, const uint8_t smac[6], const uint8_t dmac[6],
		 const uint8_t sip[16], const uint8_t dip[16], int reply, uint16_t id, uint16_t seq)
{
	uint8_t *p = f->b;

	p += put_eth(p, dmac, smac, 0x86dd);
	p += put_ipv6(p, sip, dip, 58, 8 + ECHO_DATA);
	memset(p, 0, 8 + ECHO_DATA);
	p[0] = reply ? 129 : 128;
	wr16(p + 4, id);
	wr16(p + 6, seq);
	p += 8 + ECHO_DATA;
	f->len = f->wirelen = (uint32_t)(p - f->b);
}

static void frame_arp_like(struct frame *f, uint16_t ethertype, uint16_t op,
			   const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
			   const uint8_t tpa[4])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *p = f->b;

	p += put_eth(p, bcast, sha, ethertype);
	wr16(p, 1);
	wr16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	wr16(p + 6, op);
	memcpy(p + 8, sha, 6);
	memcpy(p + 14, spa, 4);
	memcpy(p + 18, tha, 6);
	memcpy(p + 24, tpa, 4);
	p += 28;
	memset(p, 0, 18); /* padded to the 60-byte minimum */
	p += 18;
	f->len = f->wirelen = (uint32_t)(p - f->b);
}

/* QEMU's announce: RARP request-reverse (op 3) naming the guest MAC as both
 * sender and target, addresses zero (net/announce.c). */
void frame_rarp(struct frame *f, const uint8_t mac[6])
{
	static const uint8_t zero[4];

	frame_arp_like(f, 0x8035, 3, mac, zero, mac, zero);
}

void frame_garp(struct frame *f, const uint8_t mac[6], const uint8_t ip[4])
{
	static const uint8_t zero[6];

	frame_arp_like(f, 0x0806, 1, mac, ip, zero, ip);
}

void frame_unsolicited_na(struct frame *f, const uint8_t mac[6], const uint8_t ip[16])
{
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	uint8_t *p = f->b;

	p += put_eth(p, all_nodes_mac, mac, 0x86dd);
	p += put_ipv6(p, ip, all_nodes, 58, 32);
	memset(p, 0, 32);
	p[0] = 136;
	p[4] = 0x20; /* override, not solicited */
	memcpy(p + 8, ip, 16);
	p[24] = 2; /* target link-layer address option */
	p[25] = 1;
	memcpy(p + 26, mac, 6);
	p += 32;
	f->len = f->wirelen = (uint32_t)(p - f->b);
}

void frame_encap(struct frame *out, const struct frame *inner, enum encap encap,
		 const uint8_t outer_smac[6], const uint8_t outer_dmac[6],
		 const uint8_t outer_sip[4], const uint8_t outer_dip[4])
{
	uint8_t *p = out->b;
	uint32_t hdr;

	if (encap == ENCAP_NONE) {
		*out = *inner;
		return;
	}
	if (encap == ENCAP_VLAN || encap == ENCAP_QINQ) {
		memcpy(p, inner->b, 12);
		p += 12;
		if (encap == ENCAP_QINQ) {
			wr16(p, 0x88a8);
			wr16(p + 2, 200);
			p += 4;
		}
		wr16(p, 0x8100);
		wr16(p + 2, 100);
		p += 4;
		memcpy(p, inner->b + 12, inner->len - 12);
		hdr = (uint32_t)(p - out->b) - 12;
		out->len = inner->len + hdr;
		out->wirelen = inner->wirelen + hdr;
		return;
	}
	/* tunnel: outer Ethernet/IPv4/UDP, then an 8-byte VXLAN header or a
	 * Geneve header with one 8-byte option */
	hdr = encap == ENCAP_VXLAN ? 8 : 16;
	p += put_eth(p, outer_dmac, outer_smac, 0x0800);
	p += put_ipv4(p, outer_sip, outer_dip, 17, 8 + hdr + inner->wirelen);
	p += put_udp(p, 40000, encap == ENCAP_VXLAN ? 4789 : 6081, hdr + inner->wirelen);
	memset(p, 0, hdr);
	if (encap == ENCAP_VXLAN) {
		p[0] = 0x08;
		p[6] = 42; /* VNI 42 */
	} else {
		p[0] = 2; /* two 4-byte words of options */
		wr16(p + 2, 0x6558);
		p[6] = 42;
		wr16(p + 8, 0x0102); /* option class/type/length: opaque */
		p[11] = 1;
	}
	p += hdr;
	memcpy(p, inner->b, inner->len);
	out->len = (uint32_t)(p - out->b) + inner->len;
	out->wirelen = (uint32_t)(p - out->b) + inner->wirelen;
}
