/*
 * frames.h - header-only builder of Ethernet test frames.
 *
 * Contract: a struct fb holds one frame; fb_init() empties it. Each fb_*
 * appender writes one header at the end of the frame, in network order, and
 * returns that header's offset so a test can then corrupt any field with
 * fb_set8/16/32. The length fields (IPv4 total length, IPv6 payload length,
 * UDP length) stay open until fb_done(), which makes every one of them cover
 * the rest of the frame plus `uncaptured` bytes: a frame cut by a snaplen,
 * whose headers claim more than the buffer holds. Call fb_done() once, after
 * the last header or payload; fb_pad() after it adds Ethernet padding that no
 * length covers. Checksums stay zero: nothing under test verifies them.
 * Overflowing the buffer aborts, as that is a bug in the test, not an input.
 *
 * Protocol numbers are written out here rather than taken from bpf/parse.h,
 * so the builder stays an independent oracle of the wire formats.
 */
#ifndef MIGSCOPE_TESTS_FRAMES_H
#define MIGSCOPE_TESTS_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	FB_CAP = 2048,
	FB_MAX_OPEN = 8, /* nested length fields: outer IP+UDP, inner IP+UDP */
	FB_ETH_IPV4 = 0x0800,
	FB_ETH_ARP = 0x0806,
	FB_ETH_RARP = 0x8035,
	FB_ETH_8021Q = 0x8100,
	FB_ETH_8021AD = 0x88a8,
	FB_ETH_IPV6 = 0x86dd,
	FB_ETH_TEB = 0x6558,
	FB_IP_HOPOPT = 0,
	FB_IP_ICMP = 1,
	FB_IP_TCP = 6,
	FB_IP_UDP = 17,
	FB_IP_ROUTING = 43,
	FB_IP_FRAGMENT = 44,
	FB_IP_ICMPV6 = 58,
	FB_IP_DSTOPTS = 60,
	FB_UDP_VXLAN = 4789,
	FB_UDP_GENEVE = 6081,
	FB_VXLAN_I = 0x08,
};

struct fb {
	uint8_t buf[FB_CAP];
	size_t len;
	size_t nopen;
	struct {
		size_t field; /* where the 16-bit length goes */
		size_t from;  /* first byte the length counts */
	} open[FB_MAX_OPEN];
};

static inline void fb_init(struct fb *f)
{
	memset(f, 0, sizeof(*f));
}

/* Appends n zero bytes; returns their offset. */
static inline size_t fb_hdr(struct fb *f, size_t n)
{
	size_t off = f->len;

	if (n > FB_CAP - f->len)
		abort();
	memset(f->buf + off, 0, n);
	f->len += n;
	return off;
}

static inline void fb_set8(struct fb *f, size_t off, uint8_t v)
{
	if (off >= f->len)
		abort();
	f->buf[off] = v;
}

static inline void fb_set16(struct fb *f, size_t off, uint16_t v)
{
	fb_set8(f, off, (uint8_t)(v >> 8));
	fb_set8(f, off + 1, (uint8_t)v);
}

static inline void fb_set32(struct fb *f, size_t off, uint32_t v)
{
	fb_set16(f, off, (uint16_t)(v >> 16));
	fb_set16(f, off + 2, (uint16_t)v);
}

static inline size_t fb_put(struct fb *f, const void *src, size_t n)
{
	size_t off = fb_hdr(f, n);

	memcpy(f->buf + off, src, n);
	return off;
}

static inline void fb_open_len(struct fb *f, size_t field, size_t from)
{
	if (f->nopen == FB_MAX_OPEN)
		abort();
	f->open[f->nopen].field = field;
	f->open[f->nopen].from = from;
	f->nopen++;
}

/*
 * Ethernet II: dst, src, then one tag per vids[] entry and the type. With two
 * or more tags the outermost is an 802.1ad service tag (QinQ), the others
 * 802.1Q customer tags. Returns the offset of the frame start.
 */
static inline size_t fb_eth(struct fb *f, const uint8_t dst[6], const uint8_t src[6],
			    uint16_t type, const uint16_t *vids, int ntags)
{
	size_t off = fb_put(f, dst, 6);

	fb_put(f, src, 6);
	for (int i = 0; i < ntags; i++) {
		size_t tag = fb_hdr(f, 4);

		fb_set16(f, tag, ntags >= 2 && i == 0 ? FB_ETH_8021AD : FB_ETH_8021Q);
		fb_set16(f, tag + 2, vids[i]);
	}
	fb_set16(f, fb_hdr(f, 2), type);
	return off;
}

/* IPv4 with optlen (a multiple of 4, at most 40) bytes of NOP options; TTL 64,
 * not fragmented. Patch offset 6 for fragments. */
static inline size_t fb_ipv4(struct fb *f, uint8_t proto, const uint8_t src[4],
			     const uint8_t dst[4], size_t optlen)
{
	size_t ip = fb_hdr(f, 20 + optlen);

	fb_set8(f, ip, (uint8_t)(0x40 | (20 + optlen) / 4));
	fb_set8(f, ip + 8, 64);
	fb_set8(f, ip + 9, proto);
	memcpy(f->buf + ip + 12, src, 4);
	memcpy(f->buf + ip + 16, dst, 4);
	memset(f->buf + ip + 20, 1, optlen);
	fb_open_len(f, ip + 2, ip);
	return ip;
}

static inline size_t fb_ipv6(struct fb *f, uint8_t next, const uint8_t src[16],
			     const uint8_t dst[16])
{
	size_t ip = fb_hdr(f, 40);

	fb_set8(f, ip, 0x60);
	fb_set8(f, ip + 6, next);
	fb_set8(f, ip + 7, 64);
	memcpy(f->buf + ip + 8, src, 16);
	memcpy(f->buf + ip + 24, dst, 16);
	fb_open_len(f, ip + 4, ip + 40);
	return ip;
}

/* Hop-by-hop, routing or destination options header of (units + 1) * 8
 * bytes; its type is the previous header's next-header value. The zero fill
 * reads as Pad1 options (or an empty type-0 routing header). */
static inline size_t fb_ipv6_ext(struct fb *f, uint8_t next, uint8_t units)
{
	size_t ext = fb_hdr(f, ((size_t)units + 1) * 8);

	fb_set8(f, ext, next);
	fb_set8(f, ext + 1, units);
	return ext;
}

/* Fragment header; offset8 counts 8-byte units as on the wire. */
static inline size_t fb_ipv6_frag(struct fb *f, uint8_t next, uint16_t offset8, int more)
{
	size_t ext = fb_hdr(f, 8);

	fb_set8(f, ext, next);
	fb_set16(f, ext + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	fb_set32(f, ext + 4, 0x1234);
	return ext;
}

/* TCP with optlen (a multiple of 4, at most 40) bytes of NOP options. */
static inline size_t fb_tcp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t seq,
			    uint32_t ack, uint8_t flags, size_t optlen)
{
	size_t t = fb_hdr(f, 20 + optlen);

	fb_set16(f, t, sport);
	fb_set16(f, t + 2, dport);
	fb_set32(f, t + 4, seq);
	fb_set32(f, t + 8, ack);
	fb_set8(f, t + 12, (uint8_t)((20 + optlen) / 4 << 4));
	fb_set8(f, t + 13, flags);
	fb_set16(f, t + 14, 65535);
	memset(f->buf + t + 20, 1, optlen);
	return t;
}

static inline size_t fb_udp(struct fb *f, uint16_t sport, uint16_t dport)
{
	size_t u = fb_hdr(f, 8);

	fb_set16(f, u, sport);
	fb_set16(f, u + 2, dport);
	fb_open_len(f, u + 4, u);
	return u;
}

/* ICMP or ICMPv6 echo: type 8/0 (v4) or 128/129 (v6). */
static inline size_t fb_icmp_echo(struct fb *f, uint8_t type, uint16_t id, uint16_t seq)
{
	size_t h = fb_hdr(f, 8);

	fb_set8(f, h, type);
	fb_set16(f, h + 4, id);
	fb_set16(f, h + 6, seq);
	return h;
}

/* ICMPv6 neighbour advertisement (type 136); flags is the R|S|O byte. */
static inline size_t fb_icmp6_na(struct fb *f, uint8_t flags, const uint8_t target[16])
{
	size_t h = fb_hdr(f, 24);

	fb_set8(f, h, 136);
	fb_set8(f, h + 4, flags);
	memcpy(f->buf + h + 8, target, 16);
	return h;
}

/*
 * Ethernet/IPv4 ARP body, after an fb_eth() of type 0x0806 (or 0x8035 for
 * RARP). Request op 1, reply 2, RARP request 3; a gratuitous ARP has
 * spa == tpa.
 */
static inline size_t fb_arp(struct fb *f, uint16_t op, const uint8_t sha[6],
			    const uint8_t spa[4], const uint8_t tha[6], const uint8_t tpa[4])
{
	size_t a = fb_hdr(f, 28);

	fb_set16(f, a, 1);
	fb_set16(f, a + 2, FB_ETH_IPV4);
	fb_set8(f, a + 4, 6);
	fb_set8(f, a + 5, 4);
	fb_set16(f, a + 6, op);
	memcpy(f->buf + a + 8, sha, 6);
	memcpy(f->buf + a + 14, spa, 4);
	memcpy(f->buf + a + 18, tha, 6);
	memcpy(f->buf + a + 24, tpa, 4);
	return a;
}

/* VXLAN header (flags FB_VXLAN_I for a valid one); the inner frame follows. */
static inline size_t fb_vxlan(struct fb *f, uint8_t flags, uint32_t vni)
{
	size_t h = fb_hdr(f, 8);

	fb_set8(f, h, flags);
	fb_set32(f, h + 4, vni << 8);
	return h;
}

/* Geneve header with optlen (a multiple of 4, at most 252) bytes of options,
 * written as one option TLV so dissectors accept it. */
static inline size_t fb_geneve(struct fb *f, uint16_t proto, uint32_t vni, size_t optlen)
{
	size_t h = fb_hdr(f, 8 + optlen);

	fb_set8(f, h, (uint8_t)(optlen / 4));
	fb_set16(f, h + 2, proto);
	fb_set32(f, h + 4, vni << 8);
	if (optlen) {
		fb_set16(f, h + 8, 0x0101); /* option class */
		fb_set8(f, h + 11, (uint8_t)(optlen / 4 - 1)); /* data length */
	}
	return h;
}

/* n payload bytes of a recognisable pattern. */
static inline size_t fb_payload(struct fb *f, size_t n)
{
	size_t off = fb_hdr(f, n);

	for (size_t i = 0; i < n; i++)
		f->buf[off + i] = (uint8_t)(0xa0 + i);
	return off;
}

/* Closes every open length field: each covers up to the frame end plus
 * `uncaptured` bytes the capture did not keep. */
static inline void fb_done(struct fb *f, size_t uncaptured)
{
	for (size_t i = 0; i < f->nopen; i++) {
		size_t n = f->len - f->open[i].from + uncaptured;

		if (n > 0xffff)
			abort();
		fb_set16(f, f->open[i].field, (uint16_t)n);
	}
	f->nopen = 0;
}

/* Ethernet padding up to min_len (60 for the minimum frame), outside any
 * IP or UDP length. */
static inline void fb_pad(struct fb *f, size_t min_len)
{
	if (f->len < min_len)
		fb_hdr(f, min_len - f->len);
}

#endif /* MIGSCOPE_TESTS_FRAMES_H */
