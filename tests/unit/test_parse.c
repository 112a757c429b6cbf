/*
 * Unit tests of bpf/parse.h, the classifier shared by the BPF programs and
 * the analyzer. Every expectation is a complete struct pkt_meta, so a field
 * the parser forgets to fill, or fills from the wrong layer, fails a test.
 * Frames are parsed from a heap copy of exactly the captured length, so
 * ASan turns any read past the capture into a failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bpf/parse.h"
#include "tests/unit/frames.h"

/* Host link (underlay) and guest (tenant) addresses. */
static const uint8_t host_a[6] = { 0x52, 0x54, 0x00, 0x0a, 0x00, 0x01 };
static const uint8_t host_b[6] = { 0x52, 0x54, 0x00, 0x0a, 0x00, 0x02 };
static const uint8_t guest_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x07, 0x0a };
static const uint8_t guest_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x07, 0x0b };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero_mac[6];
static const uint8_t zero_ip4[4];
static const uint8_t ip4_a[4] = { 10, 0, 0, 1 };
static const uint8_t ip4_b[4] = { 10, 0, 0, 2 };
static const uint8_t gip4_a[4] = { 192, 168, 7, 1 };
static const uint8_t gip4_b[4] = { 192, 168, 7, 2 };
static const uint8_t ip6_a[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44,
				   0x55, 0x66, 0x77, 0x01 };
static const uint8_t ip6_b[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44,
				   0x55, 0x66, 0x77, 0x02 };
static const uint8_t gip6_a[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xff,
				    0xfe, 0x00, 0x07, 0x0a };
static const uint8_t gip6_b[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xff,
				    0xfe, 0x00, 0x07, 0x0b };
static const uint16_t host_vids[] = { 100, 200, 300 };
static const uint16_t guest_vids[] = { 3000, 4000 };

enum {
	SPORT = 40000,
	DPORT = 49152, /* QEMU's default migration port */
	SEQ = 0x11223344,
	ACK = 0x55667788,
	TCP_FLAGS = PKT_TCP_ACK | PKT_TCP_PSH,
	TUN_SPORT = 51000,
	VNI = 42,
};

/* ---- comparing descriptions ---------------------------------------- */

struct meta_field {
	const char *name;
	size_t off, size;
	int is_int; /* host-order integer, printed as a number */
};

#define META_INT(x) { #x, offsetof(struct pkt_meta, x), sizeof(((struct pkt_meta *)0)->x), 1 }
#define META_BYTES(x) { #x, offsetof(struct pkt_meta, x), sizeof(((struct pkt_meta *)0)->x), 0 }

/* In declaration order; test_meta_fields_cover_struct keeps it complete. */
static const struct meta_field meta_fields[] = {
	META_INT(flags),      META_INT(kind),       META_INT(l4_proto),
	META_INT(eth_proto),  META_INT(vlan_outer), META_INT(vlan_inner),
	META_BYTES(eth_src),  META_BYTES(eth_dst),  META_BYTES(ip_src),
	META_BYTES(ip_dst),   META_INT(sport),      META_INT(dport),
	META_INT(tcp_seq),    META_INT(tcp_ack),    META_INT(tcp_flags),
	META_INT(nd_flags),   META_INT(payload_off), META_INT(l4_payload_len),
	META_INT(echo_id),    META_INT(echo_seq),   META_INT(arp_op),
	META_BYTES(arp_sha),  META_BYTES(arp_tha),  META_BYTES(arp_spa),
	META_BYTES(arp_tpa),  META_BYTES(nd_target),  META_INT(tcp_window),
};

static void format_field(const struct meta_field *fd, const struct pkt_meta *m, char *out,
			 size_t len)
{
	const uint8_t *p = (const uint8_t *)m + fd->off;
	uint32_t v = 0;
	uint16_t v16;

	if (fd->is_int) {
		if (fd->size == 1) {
			v = *p;
		} else if (fd->size == 2) {
			memcpy(&v16, p, 2);
			v = v16;
		} else {
			memcpy(&v, p, 4);
		}
		snprintf(out, len, "0x%x", (unsigned int)v);
		return;
	}
	for (size_t i = 0; i < fd->size && 2 * i + 3 <= len; i++)
		snprintf(out + 2 * i, len - 2 * i, "%02x", p[i]);
}

/* Field-by-field so a failure names the field; ctx and len say which frame. */
static void check_meta(const char *ctx, size_t len, const struct pkt_meta *got,
		       const struct pkt_meta *want)
{
	for (size_t i = 0; i < sizeof(meta_fields) / sizeof(meta_fields[0]); i++) {
		const struct meta_field *fd = &meta_fields[i];
		char g[40], w[40];

		if (!memcmp((const uint8_t *)got + fd->off, (const uint8_t *)want + fd->off,
			    fd->size))
			continue;
		format_field(fd, got, g, sizeof(g));
		format_field(fd, want, w, sizeof(w));
		fail_msg("%s (len %zu): %s is %s, want %s", ctx, len, fd->name, g, w);
	}
}

/* ---- parsing exactly the captured bytes ------------------------------ */

static uint8_t *heap_copy(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, src, len);
	return p;
}

/* The meta starts as garbage to prove the parser clears what it leaves. */
static int parse_prefix(const struct fb *f, size_t len, struct pkt_meta *m)
{
	uint8_t *p = heap_copy(f->buf, len);
	int rc;

	memset(m, 0xa5, sizeof(*m));
	rc = parse_ethernet(p, p + len, m);
	free(p);
	return rc;
}

static void parse_ok(const struct fb *f, size_t len, struct pkt_meta *m)
{
	assert_int_equal(parse_prefix(f, len, m), 0);
}

/* Linux cooked capture: the L3 header starts at off, proto from the SLL header. */
static int parse_cooked(const struct fb *f, size_t off, size_t len, uint16_t proto,
			struct pkt_meta *m)
{
	uint8_t *p = heap_copy(f->buf + off, len);
	int rc;

	memset(m, 0xa5, sizeof(*m));
	rc = parse_from_ethertype(p, p + len, proto, m);
	free(p);
	return rc;
}

/* ---- frames ------------------------------------------------------------ */

static void host_eth(struct fb *f, uint16_t type, int ntags)
{
	fb_eth(f, host_b, host_a, type, host_vids, ntags);
}

/* TCP/IPv4 on the host link; uncaptured models a snaplen cut. */
static void tcp4_frame(struct fb *f, int ntags, size_t ipopt, size_t tcpopt, size_t payload,
		       size_t uncaptured)
{
	fb_init(f);
	host_eth(f, FB_ETH_IPV4, ntags);
	fb_ipv4(f, FB_IP_TCP, ip4_a, ip4_b, ipopt);
	fb_tcp(f, SPORT, DPORT, SEQ, ACK, TCP_FLAGS, tcpopt);
	fb_payload(f, payload);
	fb_done(f, uncaptured);
}

static void udp4_frame(struct fb *f, int ntags, size_t payload)
{
	fb_init(f);
	host_eth(f, FB_ETH_IPV4, ntags);
	fb_ipv4(f, FB_IP_UDP, ip4_a, ip4_b, 0);
	fb_udp(f, SPORT, DPORT);
	fb_payload(f, payload);
	fb_done(f, 0);
}

static void icmp4_frame(struct fb *f, uint8_t type)
{
	fb_init(f);
	host_eth(f, FB_ETH_IPV4, 0);
	fb_ipv4(f, FB_IP_ICMP, ip4_a, ip4_b, 0);
	fb_icmp_echo(f, type, 0x1234, 7);
	fb_payload(f, 56);
	fb_done(f, 0);
}

/* IPv6 on the host link up to (excluding) the upper-layer header. */
static void ip6_frame(struct fb *f, int ntags, uint8_t next)
{
	fb_init(f);
	host_eth(f, FB_ETH_IPV6, ntags);
	fb_ipv6(f, next, ip6_a, ip6_b);
}

/* hop-by-hop(8) routing(16) fragment(8, first) dest-opts(8): the longest
 * chain the parser walks, then TCP with 12 bytes of options. */
static void tcp6_ext_chain_frame(struct fb *f)
{
	ip6_frame(f, 0, FB_IP_HOPOPT);
	fb_ipv6_ext(f, FB_IP_ROUTING, 0);
	fb_ipv6_ext(f, FB_IP_FRAGMENT, 1);
	fb_ipv6_frag(f, FB_IP_DSTOPTS, 0, 1);
	fb_ipv6_ext(f, FB_IP_TCP, 0);
	fb_tcp(f, SPORT, DPORT, SEQ, ACK, TCP_FLAGS, 12);
	fb_payload(f, 100);
	fb_done(f, 0);
}

static void arp_frame(struct fb *f, uint16_t type, uint16_t op, const uint8_t *dst,
		      const uint8_t *sha, const uint8_t *spa, const uint8_t *tha,
		      const uint8_t *tpa)
{
	fb_init(f);
	fb_eth(f, dst, sha, type, NULL, 0);
	fb_arp(f, op, sha, spa, tha, tpa);
	fb_pad(f, 60);
}

/* Underlay up to its UDP header; the tunnel header and guest frame follow. */
static void underlay(struct fb *f, int v6, int ntags, uint16_t dport)
{
	fb_init(f);
	host_eth(f, v6 ? FB_ETH_IPV6 : FB_ETH_IPV4, ntags);
	if (v6)
		fb_ipv6(f, FB_IP_UDP, ip6_a, ip6_b);
	else
		fb_ipv4(f, FB_IP_UDP, ip4_a, ip4_b, 0);
	fb_udp(f, TUN_SPORT, dport);
}

/* Guest frames carried in a tunnel: no fb_init/fb_done of their own. */
static void guest_tcp4(struct fb *f, int ntags)
{
	fb_eth(f, guest_b, guest_a, FB_ETH_IPV4, guest_vids, ntags);
	fb_ipv4(f, FB_IP_TCP, gip4_a, gip4_b, 0);
	fb_tcp(f, SPORT, DPORT, SEQ, ACK, TCP_FLAGS, 0);
	fb_payload(f, 64);
}

static void guest_tcp4_plain(struct fb *f)
{
	guest_tcp4(f, 0);
}

static void guest_tcp4_vlan(struct fb *f)
{
	guest_tcp4(f, 1);
}

static void guest_na6(struct fb *f)
{
	fb_eth(f, guest_b, guest_a, FB_ETH_IPV6, NULL, 0);
	fb_ipv6(f, FB_IP_ICMPV6, gip6_a, gip6_b);
	fb_icmp6_na(f, PKT_ND_SOLICITED | PKT_ND_OVERRIDE, gip6_a);
}

/* The self-announcement QEMU sends after migration. */
static void guest_rarp(struct fb *f)
{
	fb_eth(f, bcast, guest_a, FB_ETH_RARP, NULL, 0);
	fb_arp(f, 3, guest_a, zero_ip4, guest_a, zero_ip4);
}

/* ---- expected descriptions --------------------------------------------- */

static struct pkt_meta want_eth(const uint8_t dst[6], const uint8_t src[6], uint16_t proto)
{
	struct pkt_meta w;

	memset(&w, 0, sizeof(w));
	w.eth_proto = proto;
	memcpy(w.eth_dst, dst, 6);
	memcpy(w.eth_src, src, 6);
	return w;
}

static struct pkt_meta want_host(uint16_t proto, int ntags)
{
	struct pkt_meta w = want_eth(host_b, host_a, proto);

	if (ntags >= 1) {
		w.flags |= PKT_F_VLAN;
		w.vlan_outer = host_vids[0];
	}
	if (ntags >= 2) {
		w.flags |= PKT_F_QINQ;
		w.vlan_inner = host_vids[1];
	}
	return w;
}

static void want_ipv4(struct pkt_meta *w, const uint8_t src[4], const uint8_t dst[4])
{
	w->flags |= PKT_F_IPV4;
	memcpy(w->ip_src, src, 4);
	memcpy(w->ip_dst, dst, 4);
}

static void want_ipv6(struct pkt_meta *w, const uint8_t src[16], const uint8_t dst[16])
{
	w->flags |= PKT_F_IPV6;
	memcpy(w->ip_src, src, 16);
	memcpy(w->ip_dst, dst, 16);
}

/* The TCP header every recipe above writes. */
static void want_tcp(struct pkt_meta *w, uint16_t payload_off, uint32_t payload_len)
{
	w->kind = PKT_KIND_TCP;
	w->l4_proto = FB_IP_TCP;
	w->sport = SPORT;
	w->dport = DPORT;
	w->tcp_seq = SEQ;
	w->tcp_ack = ACK;
	w->tcp_flags = TCP_FLAGS;
	w->tcp_window = 65535; /* fb_tcp's */
	w->payload_off = payload_off;
	w->l4_payload_len = payload_len;
}

static void want_udp(struct pkt_meta *w, uint16_t sport, uint16_t dport, uint16_t payload_off,
		     uint32_t payload_len)
{
	w->kind = PKT_KIND_UDP;
	w->l4_proto = FB_IP_UDP;
	w->sport = sport;
	w->dport = dport;
	w->payload_off = payload_off;
	w->l4_payload_len = payload_len;
}

static void want_icmp(struct pkt_meta *w, uint8_t kind, uint8_t proto, uint16_t id,
		      uint16_t seq)
{
	w->kind = kind;
	w->l4_proto = proto;
	w->echo_id = id;
	w->echo_seq = seq;
}

static void want_arp(struct pkt_meta *w, uint8_t kind, uint16_t op, const uint8_t *sha,
		     const uint8_t *spa, const uint8_t *tha, const uint8_t *tpa)
{
	w->kind = kind;
	w->arp_op = op;
	memcpy(w->arp_sha, sha, 6);
	memcpy(w->arp_spa, spa, 4);
	memcpy(w->arp_tha, tha, 6);
	memcpy(w->arp_tpa, tpa, 4);
}

/* Parse the whole frame and compare it with want. */
static void expect(const char *ctx, const struct fb *f, const struct pkt_meta *want)
{
	struct pkt_meta m;

	parse_ok(f, f->len, &m);
	check_meta(ctx, f->len, &m, want);
}

/* ---- the comparison itself ------------------------------------------- */

/* A pkt_meta field missing from meta_fields[] would never be compared. */
static void test_meta_fields_cover_struct(void **state)
{
	size_t end = 0, n = sizeof(meta_fields) / sizeof(meta_fields[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		if (meta_fields[i].off != end)
			fail_msg("meta_fields[] misses a pkt_meta field at offset %zu", end);
		end = meta_fields[i].off + meta_fields[i].size;
	}
	assert_int_equal((end + 3) / 4 * 4, sizeof(struct pkt_meta));
}

/* ---- Ethernet, VLAN, IPv4, TCP, UDP, ICMP ---------------------------- */

static void test_tcp4_plain(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 0, 0, 100, 0);
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 14 + 20 + 20, 100);
	expect("tcp4", &f, &w);
}

/* A 1448-byte segment captured with a snaplen that keeps only the headers:
 * the payload length must still come from the IP total length. */
static void test_tcp4_options_cut_after_header(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 8, 12, 0, 1448);
	assert_int_equal(f.len, 14 + 28 + 32);
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 14 + 28 + 32, 1448);
	expect("tcp4 options, cut", &f, &w);
}

/* A pure ACK padded to the 60-byte minimum: the padding is not payload. */
static void test_tcp4_padding_not_payload(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 0, 0, 0, 0);
	fb_pad(&f, 60);
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 54, 0);
	expect("tcp4 padded", &f, &w);
}

static void test_tcp4_vlan(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 1);

	(void)state;
	tcp4_frame(&f, 1, 0, 0, 10, 0);
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 14 + 4 + 40, 10);
	expect("tcp4 802.1Q", &f, &w);
}

static void test_tcp4_qinq(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 2);

	(void)state;
	tcp4_frame(&f, 2, 0, 0, 10, 0);
	assert_int_equal(f.buf[12] << 8 | f.buf[13], 0x88a8);
	/* priority and DEI bits around the VLAN ids are not part of them */
	fb_set16(&f, 14, 0xb000 | host_vids[0]);
	fb_set16(&f, 18, 0x7000 | host_vids[1]);
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 14 + 8 + 40, 10);
	expect("tcp4 QinQ", &f, &w);
}

/* The pre-802.1ad service tag some switches still send. */
static void test_qinq_old_tpid(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 2);

	(void)state;
	tcp4_frame(&f, 2, 0, 0, 10, 0);
	fb_set16(&f, 12, 0x9100);
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 14 + 8 + 40, 10);
	expect("tcp4 QinQ 0x9100", &f, &w);
}

/* Only two tags are walked: the third one's TPID becomes the ethertype. */
static void test_third_tag_not_walked(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_8021Q, 2);

	(void)state;
	tcp4_frame(&f, 3, 0, 0, 10, 0);
	expect("three tags", &f, &w);
}

static void test_udp4(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	udp4_frame(&f, 0, 300);
	want_ipv4(&w, ip4_a, ip4_b);
	want_udp(&w, SPORT, DPORT, 42, 300);
	expect("udp4", &f, &w);
}

/* An IP length too short for the UDP header claims no payload. */
static void test_udp4_ip_length_below_header(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	udp4_frame(&f, 0, 0);
	fb_set16(&f, 14 + 2, 20 + 4);
	want_ipv4(&w, ip4_a, ip4_b);
	want_udp(&w, SPORT, DPORT, 42, 0);
	expect("udp4 short", &f, &w);
}

static void test_icmp_echo(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	want_ipv4(&w, ip4_a, ip4_b);
	icmp4_frame(&f, 8);
	want_icmp(&w, PKT_KIND_ECHO_REQUEST, FB_IP_ICMP, 0x1234, 7);
	expect("icmp echo request", &f, &w);
	icmp4_frame(&f, 0);
	want_icmp(&w, PKT_KIND_ECHO_REPLY, FB_IP_ICMP, 0x1234, 7);
	expect("icmp echo reply", &f, &w);
}

/* Destination unreachable: no echo fields. */
static void test_icmp_other(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	icmp4_frame(&f, 3);
	want_ipv4(&w, ip4_a, ip4_b);
	want_icmp(&w, PKT_KIND_ICMP_OTHER, FB_IP_ICMP, 0, 0);
	expect("icmp unreachable", &f, &w);
}

/* A first fragment (MF set, offset 0) still carries the L4 header. */
static void test_ipv4_first_fragment(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 0, 0, 200, 0);
	fb_set16(&f, 14 + 6, 0x2000);
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 54, 200);
	expect("ipv4 first fragment", &f, &w);
}

static void test_ipv4_later_fragment(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 0, 0, 200, 0);
	fb_set16(&f, 14 + 6, 185); /* offset 1480, last fragment */
	want_ipv4(&w, ip4_a, ip4_b);
	w.flags |= PKT_F_FRAGMENT;
	expect("ipv4 later fragment", &f, &w);
}

/* ---- IPv6 ------------------------------------------------------------ */

static void test_tcp6(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV6, 0);

	(void)state;
	ip6_frame(&f, 0, FB_IP_TCP);
	fb_tcp(&f, SPORT, DPORT, SEQ, ACK, TCP_FLAGS, 0);
	fb_done(&f, 9000 - 20);
	want_ipv6(&w, ip6_a, ip6_b);
	want_tcp(&w, 14 + 40 + 20, 9000 - 20);
	expect("tcp6 jumbo-frame segment, cut", &f, &w);
}

static void test_ipv6_ext_chain(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV6, 0);

	(void)state;
	tcp6_ext_chain_frame(&f);
	want_ipv6(&w, ip6_a, ip6_b);
	want_tcp(&w, 14 + 40 + 40 + 32, 100);
	expect("ipv6 ext chain", &f, &w);
}

static void test_ipv6_later_fragment(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV6, 0);

	(void)state;
	ip6_frame(&f, 0, FB_IP_FRAGMENT);
	fb_ipv6_frag(&f, FB_IP_TCP, 185, 1);
	fb_payload(&f, 64);
	fb_done(&f, 0);
	want_ipv6(&w, ip6_a, ip6_b);
	w.flags |= PKT_F_FRAGMENT;
	expect("ipv6 later fragment", &f, &w);
}

static void test_icmpv6_echo(void **state)
{
	static const uint8_t types[] = { 128, 129, 135 };
	static const uint8_t kinds[] = { PKT_KIND_ECHO_REQUEST, PKT_KIND_ECHO_REPLY,
					 PKT_KIND_ICMP_OTHER };
	struct fb f;

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct pkt_meta w = want_host(FB_ETH_IPV6, 1);
		int echo = kinds[i] != PKT_KIND_ICMP_OTHER;

		ip6_frame(&f, 1, FB_IP_ICMPV6);
		fb_icmp_echo(&f, types[i], 0xbeef, 0x0102);
		fb_payload(&f, 16);
		fb_done(&f, 0);
		want_ipv6(&w, ip6_a, ip6_b);
		want_icmp(&w, kinds[i], FB_IP_ICMPV6, echo ? 0xbeef : 0, echo ? 0x0102 : 0);
		expect("icmpv6", &f, &w);
	}
}

/* Reserved bits next to R|S|O must not leak into nd_flags. */
static void test_icmpv6_neigh_advert(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV6, 0);

	(void)state;
	ip6_frame(&f, 0, FB_IP_ICMPV6);
	fb_icmp6_na(&f, 0xff, gip6_a);
	fb_done(&f, 0);
	want_ipv6(&w, ip6_a, ip6_b);
	want_icmp(&w, PKT_KIND_NEIGH_ADVERT, FB_IP_ICMPV6, 0, 0);
	w.nd_flags = PKT_ND_ROUTER | PKT_ND_SOLICITED | PKT_ND_OVERRIDE;
	memcpy(w.nd_target, gip6_a, 16);
	expect("neighbour advertisement", &f, &w);
}

static void test_icmpv6_neigh_advert_cut_in_target(void **state)
{
	struct fb f;
	struct pkt_meta m, w = want_host(FB_ETH_IPV6, 0);

	(void)state;
	ip6_frame(&f, 0, FB_IP_ICMPV6);
	fb_icmp6_na(&f, PKT_ND_OVERRIDE, gip6_a);
	fb_done(&f, 0);
	want_ipv6(&w, ip6_a, ip6_b);
	want_icmp(&w, PKT_KIND_ICMP_OTHER, FB_IP_ICMPV6, 0, 0);
	w.flags |= PKT_F_TRUNC;
	parse_ok(&f, f.len - 6, &m);
	check_meta("NA cut in target", f.len - 6, &m, &w);
}

/* ICMP is only ICMP under its own IP version. */
static void test_icmp_version_mismatch(void **state)
{
	struct fb f;
	struct pkt_meta w6 = want_host(FB_ETH_IPV6, 0), w4 = want_host(FB_ETH_IPV4, 0);

	(void)state;
	ip6_frame(&f, 0, FB_IP_ICMP);
	fb_icmp_echo(&f, 8, 1, 1);
	fb_done(&f, 0);
	want_ipv6(&w6, ip6_a, ip6_b);
	w6.l4_proto = FB_IP_ICMP;
	expect("icmp in ipv6", &f, &w6);

	icmp4_frame(&f, 128);
	fb_set8(&f, 14 + 9, FB_IP_ICMPV6);
	want_ipv4(&w4, ip4_a, ip4_b);
	w4.l4_proto = FB_IP_ICMPV6;
	expect("icmpv6 in ipv4", &f, &w4);
}

/* ---- ARP, gratuitous ARP, RARP ------------------------------------------ */

static void test_arp_request_reply(void **state)
{
	struct fb f;
	struct pkt_meta w = want_eth(bcast, host_a, FB_ETH_ARP);

	(void)state;
	arp_frame(&f, FB_ETH_ARP, 1, bcast, host_a, ip4_a, zero_mac, ip4_b);
	want_arp(&w, PKT_KIND_ARP, 1, host_a, ip4_a, zero_mac, ip4_b);
	expect("arp request", &f, &w);

	arp_frame(&f, FB_ETH_ARP, 2, host_a, host_b, ip4_b, host_a, ip4_a);
	w = want_eth(host_a, host_b, FB_ETH_ARP);
	want_arp(&w, PKT_KIND_ARP, 2, host_b, ip4_b, host_a, ip4_a);
	expect("arp reply", &f, &w);
}

/* Gratuitous ARP (sender == target address), request and reply forms: the
 * classifier reports plain ARP fields, the analyzer spots spa == tpa. */
static void test_gratuitous_arp(void **state)
{
	struct fb f;
	struct pkt_meta w = want_eth(bcast, guest_a, FB_ETH_ARP);

	(void)state;
	arp_frame(&f, FB_ETH_ARP, 1, bcast, guest_a, gip4_a, zero_mac, gip4_a);
	want_arp(&w, PKT_KIND_ARP, 1, guest_a, gip4_a, zero_mac, gip4_a);
	expect("garp request", &f, &w);

	arp_frame(&f, FB_ETH_ARP, 2, bcast, guest_a, gip4_a, guest_a, gip4_a);
	want_arp(&w, PKT_KIND_ARP, 2, guest_a, gip4_a, guest_a, gip4_a);
	expect("garp reply", &f, &w);
}

static void test_rarp(void **state)
{
	struct fb f;
	struct pkt_meta w = want_eth(bcast, guest_a, FB_ETH_RARP);

	(void)state;
	fb_init(&f);
	guest_rarp(&f);
	fb_pad(&f, 60);
	want_arp(&w, PKT_KIND_RARP, 3, guest_a, zero_ip4, guest_a, zero_ip4);
	expect("rarp", &f, &w);
}

/* Only Ethernet/IPv4 ARP has the layout the fields describe. */
static void test_arp_not_ethernet_ipv4(void **state)
{
	/* low byte of htype (IEEE 802), of ptype (0x0886), hlen, plen */
	static const size_t off[] = { 1, 3, 4, 5 };
	static const uint8_t bad[] = { 6, 0x86, 8, 16 };
	struct fb f;
	struct pkt_meta w = want_eth(bcast, host_a, FB_ETH_ARP);

	(void)state;
	for (int i = 0; i < 4; i++) {
		arp_frame(&f, FB_ETH_ARP, 1, bcast, host_a, ip4_a, zero_mac, ip4_b);
		fb_set8(&f, 14 + off[i], bad[i]);
		expect("arp with foreign hardware/protocol", &f, &w);
	}
}

/* ---- tunnels ------------------------------------------------------------- */

/* Guest TCP/IPv4 in VXLAN over IPv4: 42 bytes of underlay, 8 of VXLAN. */
static void vxlan_tcp4_frame(struct fb *f, int host_tags, int guest_tags)
{
	underlay(f, 0, host_tags, FB_UDP_VXLAN);
	fb_vxlan(f, FB_VXLAN_I, VNI);
	guest_tcp4(f, guest_tags);
	fb_done(f, 0);
}

static struct pkt_meta want_guest_tcp4(uint32_t tunnel, size_t guest_off, int guest_tags)
{
	struct pkt_meta w = want_eth(guest_b, guest_a, FB_ETH_IPV4);

	w.flags = tunnel;
	if (guest_tags) {
		w.flags |= PKT_F_VLAN;
		w.vlan_outer = guest_vids[0];
	}
	want_ipv4(&w, gip4_a, gip4_b);
	want_tcp(&w, (uint16_t)(guest_off + 14 + 4 * guest_tags + 40), 64);
	return w;
}

static void test_vxlan_tcp4(void **state)
{
	struct fb f;
	struct pkt_meta w = want_guest_tcp4(PKT_F_VXLAN, 50, 0);

	(void)state;
	vxlan_tcp4_frame(&f, 0, 0);
	expect("vxlan", &f, &w);
}

/* The guest's VLAN is described; the underlay's is not. */
static void test_vlan_inside_vxlan(void **state)
{
	struct fb f;
	struct pkt_meta w = want_guest_tcp4(PKT_F_VXLAN, 54, 1);

	(void)state;
	vxlan_tcp4_frame(&f, 1, 1);
	expect("vlan in vxlan", &f, &w);
}

static void test_vxlan_ipv6_underlay(void **state)
{
	struct fb f;
	struct pkt_meta w = want_eth(guest_b, guest_a, FB_ETH_IPV6);

	(void)state;
	underlay(&f, 1, 0, FB_UDP_VXLAN);
	fb_vxlan(&f, FB_VXLAN_I, VNI);
	guest_na6(&f);
	fb_done(&f, 0);
	want_ipv6(&w, gip6_a, gip6_b);
	want_icmp(&w, PKT_KIND_NEIGH_ADVERT, FB_IP_ICMPV6, 0, 0);
	w.flags |= PKT_F_VXLAN;
	w.nd_flags = PKT_ND_SOLICITED | PKT_ND_OVERRIDE;
	memcpy(w.nd_target, gip6_a, 16);
	expect("vxlan over ipv6", &f, &w);
}

static void test_geneve_with_options(void **state)
{
	struct fb f;
	struct pkt_meta w = want_guest_tcp4(PKT_F_GENEVE, 42 + 8 + 12, 0);

	(void)state;
	underlay(&f, 0, 0, FB_UDP_GENEVE);
	fb_geneve(&f, FB_ETH_TEB, VNI, 12);
	guest_tcp4(&f, 0);
	fb_done(&f, 0);
	expect("geneve", &f, &w);
}

/* The underlay as a plain UDP datagram of the whole rest of the frame. */
static struct pkt_meta want_underlay_udp(uint16_t dport, size_t frame_len)
{
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	want_ipv4(&w, ip4_a, ip4_b);
	want_udp(&w, TUN_SPORT, dport, 42, (uint32_t)(frame_len - 42));
	return w;
}

/* Geneve carrying IPv4 directly (protocol 0x0800) is not an Ethernet
 * tunnel: the underlay datagram is the description. */
static void test_geneve_not_ethernet(void **state)
{
	struct fb f;
	struct pkt_meta w;

	(void)state;
	underlay(&f, 0, 0, FB_UDP_GENEVE);
	fb_geneve(&f, FB_ETH_IPV4, VNI, 4);
	fb_ipv4(&f, FB_IP_UDP, gip4_a, gip4_b, 0);
	fb_udp(&f, 1, 2);
	fb_done(&f, 0);
	w = want_underlay_udp(FB_UDP_GENEVE, f.len);
	expect("geneve ipv4 payload", &f, &w);
}

static void test_geneve_unknown_version(void **state)
{
	struct fb f;
	struct pkt_meta w;

	(void)state;
	underlay(&f, 0, 0, FB_UDP_GENEVE);
	fb_set8(&f, fb_geneve(&f, FB_ETH_TEB, VNI, 0), 0x40);
	guest_tcp4(&f, 0);
	fb_done(&f, 0);
	w = want_underlay_udp(FB_UDP_GENEVE, f.len);
	expect("geneve version 1", &f, &w);
}

static void test_vxlan_without_i_flag(void **state)
{
	struct fb f;
	struct pkt_meta w;

	(void)state;
	underlay(&f, 0, 0, FB_UDP_VXLAN);
	fb_vxlan(&f, 0, VNI);
	guest_tcp4(&f, 0);
	fb_done(&f, 0);
	w = want_underlay_udp(FB_UDP_VXLAN, f.len);
	expect("vxlan without I", &f, &w);
}

/* parse_ethernet: when the inner Ethernet header does not fit, the outer
 * description stays, without the tunnel flag (and without PKT_F_TRUNC). */
static void test_vxlan_inner_ethernet_cut(void **state)
{
	struct fb f;
	struct pkt_meta m, w;

	(void)state;
	vxlan_tcp4_frame(&f, 0, 0);
	w = want_underlay_udp(FB_UDP_VXLAN, f.len);
	parse_ok(&f, 50 + 13, &m);
	check_meta("vxlan, inner ethernet cut", 50 + 13, &m, &w);
}

/* Once the inner Ethernet header fits the guest frame is described, cut. */
static void test_vxlan_inner_ip_cut(void **state)
{
	struct fb f;
	struct pkt_meta m;

	(void)state;
	vxlan_tcp4_frame(&f, 0, 0);
	parse_ok(&f, 50 + 14 + 10, &m);
	assert_int_equal(m.flags, PKT_F_VXLAN | PKT_F_TRUNC);
	assert_int_equal(m.kind, PKT_KIND_OTHER);
	assert_int_equal(m.l4_proto, 0);
	assert_int_equal(m.eth_proto, FB_ETH_IPV4);
	assert_memory_equal(m.eth_src, guest_a, 6);
	assert_memory_equal(m.eth_dst, guest_b, 6);
	assert_int_equal(m.sport, 0);
	assert_int_equal(m.payload_off, 0);
	assert_int_equal(m.l4_payload_len, 0);
	/* ip_src/ip_dst: see test_tunnel_inner_described_as_standalone */
}

/*
 * The contract says a tunnelled frame is described by its inner frame; so,
 * apart from the tunnel flag and payload_off counting from the outer frame
 * start, it must read exactly like that inner frame captured alone, at every
 * inner length. Nothing of the underlay may leak into it.
 */
static void check_inner_standalone(const char *ctx, int v6, void (*guest)(struct fb *))
{
	struct fb f, inner;
	struct pkt_meta got, want;
	size_t off;

	underlay(&f, v6, 0, FB_UDP_VXLAN);
	fb_vxlan(&f, FB_VXLAN_I, VNI);
	off = f.len;
	guest(&f);
	fb_done(&f, 0);
	fb_init(&inner);
	fb_put(&inner, f.buf + off, f.len - off);
	for (size_t len = 14; len <= inner.len; len++) {
		parse_ok(&f, off + len, &got);
		parse_ok(&inner, len, &want);
		want.flags |= PKT_F_VXLAN;
		if (want.payload_off)
			want.payload_off = (uint16_t)(want.payload_off + off);
		check_meta(ctx, off + len, &got, &want);
	}
}

static void test_tunnel_inner_described_as_standalone(void **state)
{
	(void)state;
	check_inner_standalone("vxlan/ipv4 + guest tcp4", 0, guest_tcp4_plain);
	check_inner_standalone("vxlan/ipv4 + guest vlan tcp4", 0, guest_tcp4_vlan);
	check_inner_standalone("vxlan/ipv4 + guest rarp", 0, guest_rarp);
	check_inner_standalone("vxlan/ipv6 + guest NA", 1, guest_na6);
	check_inner_standalone("vxlan/ipv6 + guest tcp4", 1, guest_tcp4_plain);
}

/* ---- hostile headers ------------------------------------------------------ */

static void test_ipv4_bad_ihl(void **state)
{
	static const uint8_t vihl[] = { 0x40, 0x44 };
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	for (int i = 0; i < 2; i++) {
		tcp4_frame(&f, 0, 0, 0, 10, 0);
		fb_set8(&f, 14, vihl[i]);
		expect("ihl < 5", &f, &w);
	}
}

static void test_ipv4_wrong_version(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 0, 0, 10, 0);
	fb_set8(&f, 14, 0x65);
	expect("version 6 under 0x0800", &f, &w);
}

static void test_ipv4_total_below_ihl(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 4, 0, 10, 0);
	fb_set16(&f, 14 + 2, 20);
	expect("total length < ihl", &f, &w);
}

/* Total length == IHL: a valid header with no room for TCP; the TCP bytes
 * in the buffer are described but no payload is claimed. */
static void test_ipv4_total_equals_ihl(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 0, 0, 10, 0);
	fb_set16(&f, 14 + 2, 20);
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 0, 0);
	expect("total length == ihl", &f, &w);
}

static void test_ipv4_options_cut(void **state)
{
	struct fb f;
	struct pkt_meta m, w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 40, 0, 0, 0);
	want_ipv4(&w, ip4_a, ip4_b);
	w.flags |= PKT_F_TRUNC;
	parse_ok(&f, 14 + 30, &m);
	check_meta("ipv4 options cut", 14 + 30, &m, &w);
}

/* Data offsets below 5 words are impossible: header fields, no payload. */
static void test_tcp_doff_below_5(void **state)
{
	static const uint8_t doff[] = { 0x00, 0x40 };
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 0, 0);
	for (int i = 0; i < 2; i++) {
		tcp4_frame(&f, 0, 0, 0, 100, 0);
		fb_set8(&f, 14 + 20 + 12, doff[i]);
		expect("doff < 5", &f, &w);
	}
}

static void test_tcp_doff_beyond_ip_payload(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV4, 0);

	(void)state;
	tcp4_frame(&f, 0, 0, 0, 20, 0);
	fb_set8(&f, 14 + 20 + 12, 0xf0); /* 60 bytes of header, 40 in the datagram */
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 0, 0);
	expect("doff > ip payload", &f, &w);
}

static void test_ipv6_wrong_version(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV6, 0);

	(void)state;
	ip6_frame(&f, 0, FB_IP_TCP);
	fb_tcp(&f, SPORT, DPORT, SEQ, ACK, TCP_FLAGS, 0);
	fb_done(&f, 0);
	fb_set8(&f, 14, 0x45);
	expect("version 4 under 0x86dd", &f, &w);
}

static void test_ipv6_ext_beyond_payload(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV6, 0);

	(void)state;
	ip6_frame(&f, 0, FB_IP_HOPOPT);
	fb_ipv6_ext(&f, FB_IP_TCP, 1); /* 16 bytes */
	fb_tcp(&f, SPORT, DPORT, SEQ, ACK, TCP_FLAGS, 0);
	fb_done(&f, 0);
	fb_set16(&f, 14 + 4, 8);
	want_ipv6(&w, ip6_a, ip6_b);
	expect("ext header beyond payload length", &f, &w);
}

/* Five extension headers: one more than the walk allows. */
static void test_ipv6_too_many_ext(void **state)
{
	struct fb f;
	struct pkt_meta w = want_host(FB_ETH_IPV6, 0);

	(void)state;
	ip6_frame(&f, 0, FB_IP_HOPOPT);
	fb_ipv6_ext(&f, FB_IP_DSTOPTS, 0);
	fb_ipv6_ext(&f, FB_IP_ROUTING, 0);
	fb_ipv6_ext(&f, FB_IP_FRAGMENT, 0);
	fb_ipv6_frag(&f, FB_IP_DSTOPTS, 0, 0);
	fb_ipv6_ext(&f, FB_IP_TCP, 0);
	fb_tcp(&f, SPORT, DPORT, SEQ, ACK, TCP_FLAGS, 0);
	fb_done(&f, 0);
	want_ipv6(&w, ip6_a, ip6_b);
	expect("five extension headers", &f, &w);
}

/* ---- every prefix of a frame ------------------------------------------ */

struct prefix_case {
	const char *name;
	void (*build)(struct fb *f);
	size_t need;           /* bytes the parser reads (TCP options too); shorter: PKT_F_TRUNC */
	size_t gap_lo, gap_hi; /* tunnel header + inner Ethernet: underlay kept */
	uint32_t tunnel;
};

static void pc_tcp4_options(struct fb *f)
{
	tcp4_frame(f, 0, 8, 12, 200, 0);
}

static void pc_udp4_qinq(struct fb *f)
{
	udp4_frame(f, 2, 32);
}

static void pc_icmp_echo(struct fb *f)
{
	icmp4_frame(f, 8);
}

static void pc_icmpv6_echo_vlan(struct fb *f)
{
	ip6_frame(f, 1, FB_IP_ICMPV6);
	fb_icmp_echo(f, 128, 1, 2);
	fb_payload(f, 32);
	fb_done(f, 0);
}

static void pc_ipv6_later_fragment(struct fb *f)
{
	ip6_frame(f, 0, FB_IP_FRAGMENT);
	fb_ipv6_frag(f, FB_IP_UDP, 100, 0);
	fb_payload(f, 40);
	fb_done(f, 0);
}

static void pc_garp(struct fb *f)
{
	arp_frame(f, FB_ETH_ARP, 1, bcast, guest_a, gip4_a, zero_mac, gip4_a);
}

static void pc_rarp(struct fb *f)
{
	fb_init(f);
	guest_rarp(f);
	fb_pad(f, 60);
}

static void pc_vxlan_vlan_tcp4(struct fb *f)
{
	vxlan_tcp4_frame(f, 0, 1);
}

static void pc_geneve_na6(struct fb *f)
{
	underlay(f, 0, 0, FB_UDP_GENEVE);
	fb_geneve(f, FB_ETH_TEB, VNI, 8);
	guest_na6(f);
	fb_done(f, 0);
}

static void pc_vxlan6_tcp4(struct fb *f)
{
	underlay(f, 1, 0, FB_UDP_VXLAN);
	fb_vxlan(f, FB_VXLAN_I, VNI);
	guest_tcp4(f, 0);
	fb_done(f, 0);
}

static const struct prefix_case prefix_cases[] = {
	{ "tcp4 options", pc_tcp4_options, 14 + 28 + 20 + 12, 0, 0, 0 },
	{ "udp4 qinq", pc_udp4_qinq, 14 + 8 + 20 + 8, 0, 0, 0 },
	{ "icmp echo", pc_icmp_echo, 14 + 20 + 8, 0, 0, 0 },
	{ "icmpv6 echo vlan", pc_icmpv6_echo_vlan, 14 + 4 + 40 + 8, 0, 0, 0 },
	{ "tcp6 ext chain", tcp6_ext_chain_frame, 14 + 40 + 40 + 20 + 12, 0, 0, 0 },
	{ "ipv6 later fragment", pc_ipv6_later_fragment, 14 + 40 + 8, 0, 0, 0 },
	{ "garp", pc_garp, 14 + 28, 0, 0, 0 },
	{ "rarp", pc_rarp, 14 + 28, 0, 0, 0 },
	{ "vxlan vlan tcp4", pc_vxlan_vlan_tcp4, 50 + 18 + 40, 42, 64, PKT_F_VXLAN },
	{ "geneve opts na6", pc_geneve_na6, 58 + 14 + 40 + 24, 42, 72, PKT_F_GENEVE },
	{ "vxlan ipv6 underlay", pc_vxlan6_tcp4, 70 + 14 + 40, 62, 84, PKT_F_VXLAN },
};

/*
 * Under 14 bytes: -1. From there until every header the parser reads has
 * been captured: PKT_F_TRUNC, except between a tunnel's UDP header and the
 * end of the inner Ethernet header, where the underlay description stays.
 * From there on: exactly the description of the whole frame, whatever the
 * amount of payload captured.
 */
static void check_prefixes(const struct prefix_case *pc)
{
	struct fb f;
	struct pkt_meta full, gap, m;

	pc->build(&f);
	assert_true(f.len >= pc->need);
	parse_ok(&f, f.len, &full);
	assert_false(full.flags & PKT_F_TRUNC);
	if (pc->gap_hi) {
		parse_ok(&f, pc->gap_lo, &gap);
		assert_int_equal(gap.kind, PKT_KIND_UDP);
		assert_int_equal(gap.flags & (PKT_F_TRUNC | PKT_F_VXLAN | PKT_F_GENEVE), 0);
	}
	for (size_t len = 0; len <= f.len; len++) {
		int rc = parse_prefix(&f, len, &m);

		if (len < 14) {
			if (rc != -1)
				fail_msg("%s (len %zu): returned %d, want -1", pc->name, len, rc);
			continue;
		}
		if (rc != 0)
			fail_msg("%s (len %zu): returned %d, want 0", pc->name, len, rc);
		if (len >= pc->need)
			check_meta(pc->name, len, &m, &full);
		else if (len >= pc->gap_lo && len < pc->gap_hi)
			check_meta(pc->name, len, &m, &gap);
		else if (!(m.flags & PKT_F_TRUNC))
			fail_msg("%s (len %zu): PKT_F_TRUNC not set", pc->name, len);
		else if (len >= pc->gap_hi && (m.flags & pc->tunnel) != pc->tunnel)
			fail_msg("%s (len %zu): tunnel flag lost", pc->name, len);
	}
}

static void test_every_prefix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++)
		check_prefixes(&prefix_cases[i]);
}

/* ---- Linux cooked capture: parse_from_ethertype ----------------------- */

static void test_cooked_tcp4(void **state)
{
	struct fb f;
	struct pkt_meta m, w;

	(void)state;
	tcp4_frame(&f, 0, 0, 0, 100, 1000);
	memset(&w, 0, sizeof(w));
	w.flags = PKT_F_NO_ETH;
	w.eth_proto = FB_ETH_IPV4;
	want_ipv4(&w, ip4_a, ip4_b);
	want_tcp(&w, 20 + 20, 1100);
	assert_int_equal(parse_cooked(&f, 14, f.len - 14, FB_ETH_IPV4, &m), 0);
	check_meta("cooked tcp4", f.len - 14, &m, &w);
}

/* A cooked capture of a tagged frame starts at the tag's TCI. */
static void test_cooked_vlan_arp(void **state)
{
	struct fb f;
	struct pkt_meta m, w;

	(void)state;
	fb_init(&f);
	host_eth(&f, FB_ETH_ARP, 1);
	fb_arp(&f, 1, host_a, ip4_a, zero_mac, ip4_b);
	memset(&w, 0, sizeof(w));
	w.flags = PKT_F_NO_ETH | PKT_F_VLAN;
	w.vlan_outer = host_vids[0];
	w.eth_proto = FB_ETH_ARP;
	want_arp(&w, PKT_KIND_ARP, 1, host_a, ip4_a, zero_mac, ip4_b);
	assert_int_equal(parse_cooked(&f, 14, f.len - 14, FB_ETH_8021Q, &m), 0);
	check_meta("cooked vlan arp", f.len - 14, &m, &w);
}

/* Without an Ethernet header there is nothing to fail on: short captures
 * are described, truncated, never rejected. */
static void test_cooked_prefixes(void **state)
{
	struct fb f;
	struct pkt_meta full, m;

	(void)state;
	tcp6_ext_chain_frame(&f);
	assert_int_equal(parse_cooked(&f, 14, f.len - 14, FB_ETH_IPV6, &full), 0);
	for (size_t len = 0; len <= f.len - 14; len++) {
		assert_int_equal(parse_cooked(&f, 14, len, FB_ETH_IPV6, &m), 0);
		if (len >= 40 + 40 + 20 + 12)
			check_meta("cooked prefix", len, &m, &full);
		else if (!(m.flags & PKT_F_TRUNC) || !(m.flags & PKT_F_NO_ETH))
			fail_msg("cooked prefix (len %zu): flags 0x%x", len, (unsigned int)m.flags);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_fields_cover_struct),
		cmocka_unit_test(test_tcp4_plain),
		cmocka_unit_test(test_tcp4_options_cut_after_header),
		cmocka_unit_test(test_tcp4_padding_not_payload),
		cmocka_unit_test(test_tcp4_vlan),
		cmocka_unit_test(test_tcp4_qinq),
		cmocka_unit_test(test_qinq_old_tpid),
		cmocka_unit_test(test_third_tag_not_walked),
		cmocka_unit_test(test_udp4),
		cmocka_unit_test(test_udp4_ip_length_below_header),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_icmp_other),
		cmocka_unit_test(test_ipv4_first_fragment),
		cmocka_unit_test(test_ipv4_later_fragment),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_ipv6_ext_chain),
		cmocka_unit_test(test_ipv6_later_fragment),
		cmocka_unit_test(test_icmpv6_echo),
		cmocka_unit_test(test_icmpv6_neigh_advert),
		cmocka_unit_test(test_icmpv6_neigh_advert_cut_in_target),
		cmocka_unit_test(test_icmp_version_mismatch),
		cmocka_unit_test(test_arp_request_reply),
		cmocka_unit_test(test_gratuitous_arp),
		cmocka_unit_test(test_rarp),
		cmocka_unit_test(test_arp_not_ethernet_ipv4),
		cmocka_unit_test(test_vxlan_tcp4),
		cmocka_unit_test(test_vlan_inside_vxlan),
		cmocka_unit_test(test_vxlan_ipv6_underlay),
		cmocka_unit_test(test_geneve_with_options),
		cmocka_unit_test(test_geneve_not_ethernet),
		cmocka_unit_test(test_geneve_unknown_version),
		cmocka_unit_test(test_vxlan_without_i_flag),
		cmocka_unit_test(test_vxlan_inner_ethernet_cut),
		cmocka_unit_test(test_vxlan_inner_ip_cut),
		cmocka_unit_test(test_tunnel_inner_described_as_standalone),
		cmocka_unit_test(test_ipv4_bad_ihl),
		cmocka_unit_test(test_ipv4_wrong_version),
		cmocka_unit_test(test_ipv4_total_below_ihl),
		cmocka_unit_test(test_ipv4_total_equals_ihl),
		cmocka_unit_test(test_ipv4_options_cut),
		cmocka_unit_test(test_tcp_doff_below_5),
		cmocka_unit_test(test_tcp_doff_beyond_ip_payload),
		cmocka_unit_test(test_ipv6_wrong_version),
		cmocka_unit_test(test_ipv6_ext_beyond_payload),
		cmocka_unit_test(test_ipv6_too_many_ext),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_cooked_tcp4),
		cmocka_unit_test(test_cooked_vlan_arp),
		cmocka_unit_test(test_cooked_prefixes),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
