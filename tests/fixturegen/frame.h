/*
 * frame - builds the wire bytes of the frames the fixture generator plants.
 * Each put_* writes one header at p and returns its length; checksums are
 * computed where a dissector would check them (IPv4 header).
 */
#ifndef FIXTUREGEN_FRAME_H
#define FIXTUREGEN_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum { FRAME_MAX = 2048 };

/* big-endian (network order) stores */
static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static inline void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)(v >> 32));
	wr32(p + 4, (uint32_t)v);
}

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;     /* bytes built (headers and the payload we keep) */
	uint32_t wirelen; /* length on the wire: len plus the payload not built */
};

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_PSH = 0x08, TCP_ACK = 0x10 };

enum encap { ENCAP_NONE, ENCAP_VLAN, ENCAP_QINQ, ENCAP_VXLAN, ENCAP_GENEVE };

size_t put_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t proto);
size_t put_ipv4(uint8_t *p, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		uint32_t l4_len);
size_t put_ipv6(uint8_t *p, const uint8_t src[16], const uint8_t dst[16], uint8_t next,
		uint32_t l4_len);
/* TCP with the timestamps option (doff 8), as Linux sends it */
size_t put_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
	       uint8_t flags);
size_t put_udp(uint8_t *p, uint16_t sport, uint16_t dport, uint32_t payload_len);

/* Whole frames */
void frame_tcp(struct frame *f, const uint8_t smac[6], const uint8_t dmac[6],
	       const uint8_t sip[4], const uint8_t dip[4], uint16_t sport, uint16_t dport,
	       uint32_t seq, uint32_t ack, uint8_t flags, uint32_t payload_len,
	       const uint8_t *payload_head, uint32_t head_len);
void frame_echo(struct frame *f, const uint8_t smac[6], const uint8_t dmac[6],
		const uint8_t sip[4], const uint8_t dip[4], int reply, uint16_t id, uint16_t seq);
void frame_echo6(struct frame *f, const uint8_t smac[6], const uint8_t dmac[6],
		 const uint8_t sip[16], const uint8_t dip[16], int reply, uint16_t id, uint16_t seq);
void frame_rarp(struct frame *f, const uint8_t mac[6]);
void frame_garp(struct frame *f, const uint8_t mac[6], const uint8_t ip[4]);
void frame_unsolicited_na(struct frame *f, const uint8_t mac[6], const uint8_t ip[16]);

/* Wraps `inner` as a compute NIC would carry it: 802.1Q tag(s) or a VXLAN/
 * Geneve tunnel between the outer addresses given. */
void frame_encap(struct frame *out, const struct frame *inner, enum encap encap,
		 const uint8_t outer_smac[6], const uint8_t outer_dmac[6],
		 const uint8_t outer_sip[4], const uint8_t outer_dip[4]);

#endif
