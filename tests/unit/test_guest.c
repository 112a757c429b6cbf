/*
 * Unit tests of analysis/guest.c: echo probes and their matching across
 * captures, the guest's announcements, the choice of the guest among the
 * candidates, the silence around a migration's last data, and the caps.
 * Frames are given as the classifier describes them (struct pkt_meta filled
 * by hand): each test states exactly the fields the set looks at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/guest.h"

#define T0 INT64_C(1700000000000000000)
#define US INT64_C(1000)
#define MS INT64_C(1000000)

static const uint8_t mac_x[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_y[6] = { 0x52, 0x54, 0x00, 0x65, 0x43, 0x21 };
static const uint8_t mac_z[6] = { 0x52, 0x54, 0x00, 0x0a, 0x0b, 0x0c };
static const uint8_t mac_prober[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- fixture: one set per test, replaceable (say by one with --guest) -- */

static int setup(void **state)
{
	struct guest_set **sp = calloc(1, sizeof(*sp));

	if (!sp)
		return -1;
	*sp = guest_set__new(NULL);
	*state = sp;
	return *sp ? 0 : -1;
}

static int teardown(void **state)
{
	struct guest_set **sp = *state;

	guest_set__free(*sp);
	free(sp);
	return 0;
}

static struct guest_set *set_of(void **state)
{
	return *(struct guest_set **)*state;
}

/* Replaces the test's set by a new one; fixed_mac as for guest_set__new. */
static struct guest_set *renew(void **state, const uint8_t *fixed_mac)
{
	struct guest_set **sp = *state;

	guest_set__free(*sp);
	*sp = guest_set__new(fixed_mac);
	assert_non_null(*sp);
	return *sp;
}

/* ---- frames ---------------------------------------------------------- */

static struct ip_addr ip(const char *text)
{
	struct ip_addr a;

	if (ip_parse(text, &a))
		fail_msg("bad test address %s", text);
	return a;
}

static struct pkt_meta frame_from(const uint8_t src[6], uint8_t kind)
{
	struct pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	memcpy(m.eth_src, src, 6);
	memcpy(m.eth_dst, bcast, 6);
	return m;
}

static struct pkt_meta echo(uint8_t kind, const uint8_t src_mac[6], const char *src,
			    const char *dst, uint16_t id, uint16_t seq)
{
	struct pkt_meta m = frame_from(src_mac, kind);
	struct ip_addr s = ip(src), d = ip(dst);

	if (s.family != d.family)
		fail_msg("echo from %s to %s mixes families", src, dst);
	m.flags = s.family == 4 ? PKT_F_IPV4 : PKT_F_IPV6;
	m.eth_proto = s.family == 4 ? PARSE_ETH_P_IPV4 : PARSE_ETH_P_IPV6;
	m.l4_proto = s.family == 4 ? 1 : 58;
	memcpy(m.ip_src, s.bytes, 16);
	memcpy(m.ip_dst, d.bytes, 16);
	m.echo_id = id;
	m.echo_seq = seq;
	return m;
}

static struct pkt_meta arp(uint8_t kind, uint16_t op, const uint8_t sha[6], const char *spa,
			   const char *tpa)
{
	struct pkt_meta m = frame_from(sha, kind);
	struct ip_addr s = ip(spa), t = ip(tpa);

	m.eth_proto = kind == PKT_KIND_RARP ? PARSE_ETH_P_RARP : PARSE_ETH_P_ARP;
	m.arp_op = op;
	memcpy(m.arp_sha, sha, 6);
	memcpy(m.arp_spa, s.bytes, 4);
	memcpy(m.arp_tpa, t.bytes, 4);
	return m;
}

/* QEMU's RARP: sender and target hardware address are the guest's. */
static struct pkt_meta rarp(const uint8_t mac[6])
{
	struct pkt_meta m = arp(PKT_KIND_RARP, 3, mac, "0.0.0.0", "0.0.0.0");

	memcpy(m.arp_tha, mac, 6);
	return m;
}

static struct pkt_meta na(const uint8_t mac[6], const char *target, uint8_t nd_flags)
{
	struct pkt_meta m = frame_from(mac, PKT_KIND_NEIGH_ADVERT);
	struct ip_addr t = ip(target);

	m.flags = PKT_F_IPV6;
	m.eth_proto = PARSE_ETH_P_IPV6;
	m.l4_proto = 58;
	memcpy(m.ip_src, t.bytes, 16);
	memcpy(m.nd_target, t.bytes, 16);
	m.nd_flags = nd_flags;
	return m;
}

static void feed(struct guest_set *s, int input, int64_t ts, const struct pkt_meta m)
{
	static const struct switch_refs no_switch = { 0 };

	guest_set__frame(s, input, ts, &m, &no_switch);
}

/* A prober at 10.0.0.9 (fd00::9) pings `target`; `mac`, if any, answers. */
static void ping(struct guest_set *s, int64_t ts, const char *target, const uint8_t *mac,
		 uint16_t seq)
{
	const char *prober = strchr(target, ':') ? "fd00::9" : "10.0.0.9";

	feed(s, 0, ts, echo(PKT_KIND_ECHO_REQUEST, mac_prober, prober, target, 1, seq));
	if (mac)
		feed(s, 0, ts + 200 * US, echo(PKT_KIND_ECHO_REPLY, mac, target, prober, 1, seq));
}

/* guest.h has no count of the MACs or targets; the set fills its tables in
 * order and leaves the rest zeroed, so an entry is found by scanning. */
static int find_mac(const struct guest_set *s, const uint8_t mac[6])
{
	for (int i = 0; i < MAX_MACS; i++)
		if (!memcmp(guest_set__mac(s, i)->mac, mac, 6))
			return i;
	return -1;
}

static const struct guest_mac *mac_of(const struct guest_set *s, const uint8_t mac[6])
{
	int i = find_mac(s, mac);

	if (i < 0)
		fail_msg("MAC %02x:..:%02x not a candidate", mac[0], mac[5]);
	return guest_set__mac(s, i);
}

static int find_target(const struct guest_set *s, const char *text)
{
	struct ip_addr want = ip(text);

	for (int i = 0; i < MAX_TARGETS; i++)
		if (ip_equal(&guest_set__target(s, i)->ip, &want))
			return i;
	return -1;
}

static void assert_ip(const struct ip_addr *got, const char *want)
{
	struct ip_addr w = ip(want);

	assert_int_equal(got->family, w.family);
	assert_memory_equal(got->bytes, w.bytes, 16);
}

static void assert_announce(const struct guest_mac *g, uint32_t i, int64_t ts, uint8_t kind,
			    uint8_t input)
{
	assert_true(i < g->nannounces);
	assert_int_equal(g->announces[i].ts_ns, ts);
	assert_int_equal(g->announces[i].kind, kind);
	assert_int_equal(g->announces[i].input, input);
}

/* ---- echo probes ----------------------------------------------------- */

static void test_probe_matched_across_captures(void **state)
{
	struct guest_set *s = set_of(state);
	const struct probe *p;
	uint32_t n;

	feed(s, 0, T0, echo(PKT_KIND_ECHO_REQUEST, mac_prober, "10.0.0.9", "192.168.7.1", 77, 5));
	feed(s, 1, T0 + 300 * US,
	     echo(PKT_KIND_ECHO_REPLY, mac_x, "192.168.7.1", "10.0.0.9", 77, 5));
	p = guest_set__probes(s, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].id, 77);
	assert_int_equal(p[0].seq, 5);
	assert_int_equal(p[0].target, find_target(s, "192.168.7.1"));
	assert_int_equal(p[0].req_ns[0], T0);
	assert_int_equal(p[0].rep_ns[1], T0 + 300 * US);
	assert_int_equal(p[0].req_ns[1], 0);
	assert_int_equal(p[0].rep_ns[0], 0);
	assert_int_equal(guest_set__target(s, p[0].target)->requests, 1);
	/* the replier is a candidate, with the address it answered from */
	assert_ip(&mac_of(s, mac_x)->ip4, "192.168.7.1");
	assert_int_equal(find_mac(s, mac_prober), -1);

	/* the other capture sees the request later: its own time */
	feed(s, 1, T0 + 100 * US,
	     echo(PKT_KIND_ECHO_REQUEST, mac_prober, "10.0.0.9", "192.168.7.1", 77, 5));
	p = guest_set__probes(s, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].req_ns[1], T0 + 100 * US);
	assert_int_equal(p[0].req_ns[0], T0);
}

static void test_reply_without_request_ignored(void **state)
{
	struct guest_set *s = set_of(state);
	const struct probe *p;
	uint32_t n;

	feed(s, 0, T0, echo(PKT_KIND_ECHO_REPLY, mac_x, "192.168.7.1", "10.0.0.9", 9, 9));
	guest_set__probes(s, &n);
	assert_int_equal(n, 0);
	/* same id and seq, but from another address than the one probed */
	feed(s, 0, T0 + 1 * MS,
	     echo(PKT_KIND_ECHO_REQUEST, mac_prober, "10.0.0.9", "192.168.7.2", 9, 9));
	feed(s, 0, T0 + 2 * MS, echo(PKT_KIND_ECHO_REPLY, mac_x, "192.168.7.1", "10.0.0.9", 9, 9));
	p = guest_set__probes(s, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].req_ns[0], T0 + 1 * MS);
	for (int i = 0; i < MAX_INPUTS; i++)
		assert_int_equal(p[0].rep_ns[i], 0);
}

static void test_duplicate_sighting_keeps_first(void **state)
{
	struct guest_set *s = set_of(state);
	const struct probe *p;
	uint32_t n;

	for (int k = 0; k < 2; k++) {
		feed(s, 0, T0 + k * MS,
		     echo(PKT_KIND_ECHO_REQUEST, mac_prober, "10.0.0.9", "192.168.7.1", 3, 4));
		feed(s, 0, T0 + k * MS + 500 * US,
		     echo(PKT_KIND_ECHO_REPLY, mac_x, "192.168.7.1", "10.0.0.9", 3, 4));
	}
	p = guest_set__probes(s, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].req_ns[0], T0);
	assert_int_equal(p[0].rep_ns[0], T0 + 500 * US);
	assert_int_equal(guest_set__target(s, 0)->requests, 1);
}

/* ---- announcements --------------------------------------------------- */

static void test_rarp_announces(void **state)
{
	struct guest_set *s = set_of(state);
	struct pkt_meta m = rarp(mac_x);
	const struct guest_mac *g;

	/* the Ethernet source does not matter, the sender hardware address does */
	memcpy(m.eth_src, mac_y, 6);
	feed(s, 1, T0, m);
	feed(s, 0, T0 + 50 * MS, m);
	g = mac_of(s, mac_x);
	assert_int_equal(g->rarps, 2);
	assert_int_equal(g->garps, 0);
	assert_int_equal(g->nas, 0);
	assert_int_equal(g->nannounces, 2);
	assert_announce(g, 0, T0, ANNOUNCE_RARP, 1);
	assert_announce(g, 1, T0 + 50 * MS, ANNOUNCE_RARP, 0);
	assert_int_equal(find_mac(s, mac_y), -1);
}

static void test_arp_announces(void **state)
{
	struct guest_set *s = set_of(state);
	const struct guest_mac *g;

	/* not gratuitous: a request for another address, an RFC 5227 probe
	 * (sender 0.0.0.0) and an all-zero one */
	feed(s, 0, T0, arp(PKT_KIND_ARP, 1, mac_x, "192.168.7.1", "192.168.7.254"));
	feed(s, 0, T0 + 1 * MS, arp(PKT_KIND_ARP, 1, mac_x, "0.0.0.0", "192.168.7.1"));
	feed(s, 0, T0 + 2 * MS, arp(PKT_KIND_ARP, 1, mac_x, "0.0.0.0", "0.0.0.0"));
	assert_int_equal(find_mac(s, mac_x), -1);
	/* gratuitous, as request and as reply */
	feed(s, 1, T0 + 3 * MS, arp(PKT_KIND_ARP, 1, mac_x, "192.168.7.1", "192.168.7.1"));
	feed(s, 0, T0 + 4 * MS, arp(PKT_KIND_ARP, 2, mac_x, "192.168.7.1", "192.168.7.1"));
	g = mac_of(s, mac_x);
	assert_int_equal(g->garps, 2);
	assert_int_equal(g->rarps, 0);
	assert_int_equal(g->nannounces, 2);
	assert_announce(g, 0, T0 + 3 * MS, ANNOUNCE_GARP, 1);
	assert_announce(g, 1, T0 + 4 * MS, ANNOUNCE_GARP, 0);
	assert_ip(&g->ip4, "192.168.7.1");
	/* a known MAC's ordinary ARP adds no announcement */
	feed(s, 0, T0 + 5 * MS, arp(PKT_KIND_ARP, 1, mac_x, "192.168.7.1", "192.168.7.254"));
	assert_int_equal(mac_of(s, mac_x)->nannounces, 2);
}

static void test_na_announces(void **state)
{
	struct guest_set *s = set_of(state);
	struct pkt_meta cooked = na(mac_y, "fd00::8", PKT_ND_OVERRIDE);
	const struct guest_mac *g;

	feed(s, 0, T0, na(mac_x, "fd00::7", PKT_ND_SOLICITED | PKT_ND_OVERRIDE));
	assert_int_equal(find_mac(s, mac_x), -1);
	/* a cooked capture has no Ethernet source to credit it to */
	cooked.flags |= PKT_F_NO_ETH;
	feed(s, 0, T0, cooked);
	assert_int_equal(find_mac(s, mac_y), -1);
	feed(s, 1, T0 + 2 * MS, na(mac_x, "fd00::7", PKT_ND_OVERRIDE));
	g = mac_of(s, mac_x);
	assert_int_equal(g->nas, 1);
	assert_int_equal(g->nannounces, 1);
	assert_announce(g, 0, T0 + 2 * MS, ANNOUNCE_NA, 1);
	assert_ip(&g->ip6, "fd00::7");
	assert_int_equal(g->ip4.family, 0);
}

static void test_link_local_not_learned(void **state)
{
	struct guest_set *s = set_of(state);
	const struct guest_mac *g;

	feed(s, 0, T0, na(mac_x, "fe80::5054:ff:fe12:3456", 0));
	feed(s, 0, T0 + 1 * MS,
	     echo(PKT_KIND_ECHO_REQUEST, mac_prober, "fd00::9", "fe80::5054:ff:fe12:3456", 1, 1));
	feed(s, 0, T0 + 2 * MS,
	     echo(PKT_KIND_ECHO_REPLY, mac_x, "fe80::5054:ff:fe12:3456", "fd00::9", 1, 1));
	g = mac_of(s, mac_x);
	assert_int_equal(g->nas, 1);
	assert_int_equal(g->ip6.family, 0);
	feed(s, 0, T0 + 3 * MS, na(mac_x, "fd00::7", 0));
	assert_ip(&mac_of(s, mac_x)->ip6, "fd00::7");
	/* the first routable address stays */
	feed(s, 0, T0 + 4 * MS, na(mac_x, "fd00::8", 0));
	assert_ip(&mac_of(s, mac_x)->ip6, "fd00::7");
}

/* ---- choosing the guest ---------------------------------------------- */

/* 192.168.7.1 is probed three times and answered by X, 192.168.7.2 once and
 * answered by Y; Y also sends a gratuitous ARP, which is no RARP. */
static void probe_two_targets(struct guest_set *s)
{
	for (uint16_t k = 1; k <= 3; k++)
		ping(s, T0 + k * 10 * MS, "192.168.7.1", mac_x, k);
	ping(s, T0 + 40 * MS, "192.168.7.2", mac_y, 1);
	feed(s, 0, T0 + 50 * MS, arp(PKT_KIND_ARP, 1, mac_y, "192.168.7.2", "192.168.7.2"));
}

static void test_choose_most_probed(void **state)
{
	struct guest_set *s = set_of(state);
	struct guest_choice c;

	probe_two_targets(s);
	/* more probes to an IPv6 address: IPv4 is preferred all the same */
	for (uint16_t k = 1; k <= 5; k++)
		ping(s, T0 + (60 + k) * MS, "fd00::7", mac_z, k);
	guest_set__choose(s, NULL, &c);
	assert_int_equal(c.mac, find_mac(s, mac_x));
	assert_int_equal(c.target, find_target(s, "192.168.7.1"));
	assert_ip(&c.ip4, "192.168.7.1");
	assert_int_equal(c.ip6.family, 0);
	assert_int_equal(guest_set__target(s, c.target)->requests, 3);
}

static void test_choose_rarp_wins(void **state)
{
	struct guest_set *s = set_of(state);
	struct guest_choice c;

	probe_two_targets(s);
	feed(s, 1, T0 + 60 * MS, rarp(mac_y));
	guest_set__choose(s, NULL, &c);
	assert_int_equal(c.mac, find_mac(s, mac_y));
	assert_int_equal(c.target, find_target(s, "192.168.7.2"));
	assert_ip(&c.ip4, "192.168.7.2");
	/* the MAC with the most RARPs */
	feed(s, 1, T0 + 70 * MS, rarp(mac_x));
	feed(s, 1, T0 + 80 * MS, rarp(mac_x));
	guest_set__choose(s, NULL, &c);
	assert_int_equal(c.mac, find_mac(s, mac_x));
	assert_int_equal(c.target, find_target(s, "192.168.7.1"));
}

static void test_choose_fixed_mac(void **state)
{
	struct guest_set *s = renew(state, mac_z);
	struct guest_choice c;

	probe_two_targets(s);
	feed(s, 1, T0 + 60 * MS, rarp(mac_y));
	ping(s, T0 + 70 * MS, "192.168.7.3", mac_z, 1);
	/* the others are still followed: their RARPs tell whose migration is whose */
	assert_true(find_mac(s, mac_y) > 0);
	guest_set__choose(s, NULL, &c);
	assert_int_equal(c.mac, 0);
	assert_memory_equal(guest_set__mac(s, 0)->mac, mac_z, 6);
	assert_int_equal(guest_set__mac(s, 0)->rarps, 0);
	assert_ip(&c.ip4, "192.168.7.3");
	assert_int_equal(c.target, find_target(s, "192.168.7.3"));
}

static void test_choose_fixed_ip(void **state)
{
	struct guest_set *s = set_of(state);
	struct ip_addr fixed = ip("192.168.7.2");
	struct ip_addr unprobed = ip("192.168.7.3");
	struct guest_choice c;

	probe_two_targets(s);
	guest_set__choose(s, &fixed, &c);
	assert_int_equal(c.mac, find_mac(s, mac_y));
	assert_int_equal(c.target, find_target(s, "192.168.7.2"));
	assert_ip(&c.ip4, "192.168.7.2");
	/* an address nobody probed: no target, and no MAC answers it */
	guest_set__choose(s, &unprobed, &c);
	assert_int_equal(c.mac, -1);
	assert_int_equal(c.target, -1);
	assert_ip(&c.ip4, "192.168.7.3");
}

static void test_choose_ipv6_only(void **state)
{
	struct guest_set *s = set_of(state);
	struct guest_choice c;

	for (uint16_t k = 1; k <= 2; k++)
		ping(s, T0 + k * MS, "fd00::7", mac_x, k);
	ping(s, T0 + 5 * MS, "fd00::8", mac_y, 1);
	guest_set__choose(s, NULL, &c);
	assert_int_equal(c.mac, find_mac(s, mac_x));
	assert_int_equal(c.target, find_target(s, "fd00::7"));
	assert_ip(&c.ip6, "fd00::7");
	assert_int_equal(c.ip4.family, 0);
}

/* No MAC answers at all: the most-probed IPv4 address is still the target. */
static void test_choose_without_answers(void **state)
{
	struct guest_set *s = set_of(state);
	struct guest_choice c;

	ping(s, T0, "192.168.7.1", NULL, 1);
	ping(s, T0 + 10 * MS, "192.168.7.2", NULL, 1);
	ping(s, T0 + 20 * MS, "192.168.7.2", NULL, 2);
	guest_set__choose(s, NULL, &c);
	assert_int_equal(c.mac, -1);
	assert_int_equal(c.target, find_target(s, "192.168.7.2"));
	assert_ip(&c.ip4, "192.168.7.2");

	/* nothing seen at all */
	guest_set__choose(renew(state, NULL), NULL, &c);
	assert_int_equal(c.mac, -1);
	assert_int_equal(c.target, -1);
	assert_int_equal(c.ip4.family, 0);
	assert_int_equal(c.ip6.family, 0);
}

/* ---- silences -------------------------------------------------------- */

enum { NGROUPS = 2 }; /* group 1 never gets data: it must stay empty */

/* Times in ns after T0. */
struct silence_step {
	int input;
	int64_t switch_ns; /* group 0's last data so far, 0 = none yet */
	int64_t frame_ns;
	int64_t before_ns, after_ns; /* silence[input][0] afterwards */
};

static void run_silence(void **state, const struct silence_step *steps, size_t n)
{
	struct guest_set *s = renew(state, mac_x);
	struct pkt_meta m = frame_from(mac_x, PKT_KIND_UDP);

	for (size_t i = 0; i < n; i++) {
		const struct silence_step *st = &steps[i];
		int64_t sw[NGROUPS] = { st->switch_ns ? T0 + st->switch_ns : 0, 0 };
		const int16_t latest_first[NGROUPS] = { 0, 1 }; /* group 1 has no data */
		const struct switch_refs refs = { sw, latest_first, NGROUPS };
		const struct silence *got;

		guest_set__frame(s, st->input, T0 + st->frame_ns, &m, &refs);
		got = &guest_set__mac(s, 0)->silence[st->input][0];
		if (got->before_ns != (st->before_ns ? T0 + st->before_ns : 0) ||
		    got->after_ns != (st->after_ns ? T0 + st->after_ns : 0))
			fail_msg("step %zu: silence %lld..%lld, want %lld..%lld", i,
				 (long long)(got->before_ns ? got->before_ns - T0 : 0),
				 (long long)(got->after_ns ? got->after_ns - T0 : 0),
				 (long long)st->before_ns, (long long)st->after_ns);
		assert_int_equal(guest_set__mac(s, 0)->silence[st->input][1].before_ns, 0);
		assert_int_equal(guest_set__mac(s, 0)->silence[st->input][1].after_ns, 0);
	}
	assert_int_equal(guest_set__mac(s, 0)->frames, n);
}

/* Data keeps coming between the guest's frames, as in a pre-copy phase. */
static void test_silence_follows_data(void **state)
{
	static const struct silence_step steps[] = {
		{ 0, 0, 100, 0, 0 },         /* no data yet: nothing to be silent around */
		{ 0, 250, 300, 100, 300 },   /* the frame before the data, and after */
		{ 0, 320, 350, 300, 350 },   /* more data overtook the "after" */
		{ 0, 400, 500, 350, 500 },   /* the last data */
		{ 0, 400, 600, 350, 500 },   /* later frames change nothing */
		{ 1, 400, 450, 0, 450 },     /* the other capture had no frame before */
		{ 1, 400, 700, 0, 450 },
		{ 0, 700, 700, 700, 0 },     /* a frame at the data's time is before it */
	};

	run_silence(state, steps, sizeof(steps) / sizeof(steps[0]));
}

/* guest.h: before_ns is the "last guest frame before the migration's last
 * data", also when several frames came between two data segments. */
static void test_silence_before_is_last_frame(void **state)
{
	static const struct silence_step steps[] = {
		{ 0, 0, 100, 0, 0 },
		{ 0, 250, 300, 100, 300 },
		{ 0, 250, 350, 100, 300 },
		{ 0, 250, 380, 100, 300 },
		{ 0, 400, 500, 380, 500 },   /* 380 is the last frame up to 400 */
		{ 0, 400, 600, 380, 500 },
	};

	run_silence(state, steps, sizeof(steps) / sizeof(steps[0]));
}

/* ---- caps ------------------------------------------------------------ */

static void test_probe_cap(void **state)
{
	struct guest_set *s = set_of(state);
	const struct probe *p;
	uint32_t n;

	for (uint32_t i = 0; i <= MAX_PROBES; i++)
		feed(s, 0, T0 + (int64_t)i * 10 * MS,
		     echo(PKT_KIND_ECHO_REQUEST, mac_prober, "10.0.0.9", "192.168.7.1",
			  (uint16_t)(i >> 16), (uint16_t)i));
	p = guest_set__probes(s, &n);
	assert_int_equal(n, MAX_PROBES);
	assert_string_equal(guest_set__warning(s), "probe table full, later probes ignored");
	assert_int_equal(guest_set__target(s, 0)->requests, MAX_PROBES);
	assert_int_equal(p[MAX_PROBES - 1].id, (MAX_PROBES - 1) >> 16);
	assert_int_equal(p[MAX_PROBES - 1].seq, (uint16_t)(MAX_PROBES - 1));
	/* the last probe kept still gets its reply */
	feed(s, 1, T0, echo(PKT_KIND_ECHO_REPLY, mac_x, "192.168.7.1", "10.0.0.9",
			    (MAX_PROBES - 1) >> 16, (uint16_t)(MAX_PROBES - 1)));
	assert_int_equal(p[MAX_PROBES - 1].rep_ns[1], T0);
}

static void test_mac_cap(void **state)
{
	struct guest_set *s = set_of(state);
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0, 0, 0 };

	for (int i = 0; i <= MAX_MACS; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		feed(s, 0, T0 + i * MS, rarp(mac));
	}
	assert_string_equal(guest_set__warning(s), "too many guest MAC candidates (pass --guest)");
	mac[4] = (uint8_t)((MAX_MACS - 1) >> 8);
	mac[5] = (uint8_t)(MAX_MACS - 1);
	assert_int_equal(find_mac(s, mac), MAX_MACS - 1);
	mac[4] = (uint8_t)(MAX_MACS >> 8);
	mac[5] = (uint8_t)MAX_MACS;
	assert_int_equal(find_mac(s, mac), -1);
}

static void test_target_cap(void **state)
{
	struct guest_set *s = set_of(state);
	char addr[32];
	uint32_t n;

	for (int i = 0; i <= MAX_TARGETS; i++) {
		snprintf(addr, sizeof(addr), "192.168.%d.%d", 8 + i / 200, i % 200 + 1);
		ping(s, T0 + i * MS, addr, NULL, 1);
	}
	assert_string_equal(guest_set__warning(s), "too many echo targets (pass --guest MAC,IP)");
	snprintf(addr, sizeof(addr), "192.168.%d.%d", 8 + (MAX_TARGETS - 1) / 200,
		 (MAX_TARGETS - 1) % 200 + 1);
	assert_int_equal(find_target(s, addr), MAX_TARGETS - 1);
	snprintf(addr, sizeof(addr), "192.168.%d.%d", 8 + MAX_TARGETS / 200, MAX_TARGETS % 200 + 1);
	assert_int_equal(find_target(s, addr), -1);
	guest_set__probes(s, &n);
	assert_int_equal(n, MAX_TARGETS);
}

static void test_announce_cap(void **state)
{
	struct guest_set *s = set_of(state);
	const struct guest_mac *g;

	for (int i = 0; i <= MAX_ANNOUNCES; i++)
		feed(s, 0, T0 + i * MS, rarp(mac_x));
	g = mac_of(s, mac_x);
	assert_int_equal(g->nannounces, MAX_ANNOUNCES);
	assert_int_equal(g->rarps, MAX_ANNOUNCES);
	assert_announce(g, MAX_ANNOUNCES - 1, T0 + (MAX_ANNOUNCES - 1) * MS, ANNOUNCE_RARP, 0);
	assert_string_equal(guest_set__warning(s), "announcement table full, later ones ignored");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_probe_matched_across_captures),
		T(test_reply_without_request_ignored),
		T(test_duplicate_sighting_keeps_first),
		T(test_rarp_announces),
		T(test_arp_announces),
		T(test_na_announces),
		T(test_link_local_not_learned),
		T(test_choose_most_probed),
		T(test_choose_rarp_wins),
		T(test_choose_fixed_mac),
		T(test_choose_fixed_ip),
		T(test_choose_ipv6_only),
		T(test_choose_without_answers),
		T(test_silence_follows_data),
		T(test_silence_before_is_last_frame),
		T(test_probe_cap),
		T(test_mac_cap),
		T(test_target_cap),
		T(test_announce_cap),
	};
#undef T

	return cmocka_run_group_tests_name("guest", tests, NULL, NULL);
}
