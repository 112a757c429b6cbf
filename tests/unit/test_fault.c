/*
 * The fault injector's tc program (tests/lab/fault.bpf.c) on hand-built frames,
 * through BPF_PROG_TEST_RUN: which frames each --match takes (VLAN-tagged and
 * VXLAN/Geneve-encapsulated ones by their inner frame), what each --kind does
 * to them, and that nothing else is touched. Verdicts are TC_ACT_SHOT for a
 * dropped frame and TC_ACT_UNSPEC for every other one.
 *
 * Needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN). This test never skips:
 * when the program does not load, every test fails and says why, so a runner
 * without privileges cannot pass it by accident. The program comes embedded
 * in the skeleton (build/skel/fault.skel.h).
 *
 * Duplicates: BPF_PROG_TEST_RUN runs the program on a throwaway skb of the
 * loopback device, so bpf_clone_redirect() really sends a clone into lo (a
 * frame for another host's MAC, which the stack drops). Only the helper's
 * success and the counters can be seen here; tests/e2e/fault.sh sees the
 * duplicates on a real bridge.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "bpf/parse.h"
#include "fault.skel.h"
#include "tests/lab/fault.h"
#include "tests/unit/frames.h"

static const uint8_t guest[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t host[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }; /* a VTEP */
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero6[6];
static const uint8_t ip_g[4] = { 198, 18, 0, 10 };
static const uint8_t ip_o[4] = { 198, 18, 0, 20 };
static const uint8_t ip6_g[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
static const uint8_t ip6_o[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20 };
static const uint16_t vids[] = { 100, 200 };

enum {
	SHOT = TC_ACT_SHOT,
	PASS = TC_ACT_UNSPEC,
	MS = 1000000, /* ns */
	ETH = 14, IP4 = 20, IP6 = 40, TCP = 20, UDP = 8, VXLAN = 8,
};

/* ---- the loaded program ------------------------------------------------------ */

static struct fault_bpf *skel;
static int load_err;
static struct fault_config cfg;

__attribute__((format(printf, 2, 0)))
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("# ", stderr); /* TAP comments */
	return vfprintf(stderr, fmt, ap);
}

static int group_setup(void **state)
{
	(void)state;
	libbpf_set_print(libbpf_log);
	skel = fault_bpf__open_and_load();
	load_err = skel ? 0 : errno;
	return 0; /* each test reports a failed load itself */
}

static int group_teardown(void **state)
{
	(void)state;
	fault_bpf__destroy(skel);
	skel = NULL;
	return 0;
}

static void need_program(void)
{
	if (!skel)
		fail_msg("fault.bpf.o did not load: %s%s", strerror(load_err),
			 load_err == EPERM || load_err == EACCES ? " (run the unit tests as root)" : "");
}

/* Writes cfg, and zeroes the counters and the hold state. */
static void apply(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fault_stats *zero = calloc((size_t)ncpu, sizeof(*zero));
	struct fault_state st = { 0 };
	__u32 key = 0;

	assert_non_null(zero);
	assert_int_equal(bpf_map__update_elem(skel->maps.fault_cfg, &key, sizeof(key), &cfg,
					      sizeof(cfg), BPF_ANY), 0);
	assert_int_equal(bpf_map__update_elem(skel->maps.fault_stats, &key, sizeof(key), zero,
					      (size_t)ncpu * sizeof(*zero), BPF_ANY), 0);
	assert_int_equal(bpf_map__update_elem(skel->maps.fault_state, &key, sizeof(key), &st,
					      sizeof(st), BPF_ANY), 0);
	free(zero);
}

/* A fresh configuration: the defaults msl-fault starts from. */
static void configure(__u32 kind, __u32 match, __u32 rate_ppm)
{
	need_program();
	memset(&cfg, 0, sizeof(cfg));
	cfg.kind = kind;
	cfg.match = match;
	cfg.rate_ppm = rate_ppm;
	cfg.port_lo = FAULT_PORT_LO;
	cfg.port_hi = FAULT_PORT_HI;
	memcpy(cfg.guest_mac, guest, 6);
	cfg.enabled = 1;
	apply();
}

static struct fault_stats stats(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fault_stats *v = calloc((size_t)ncpu, sizeof(*v)), sum = { 0 };
	__u32 key = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map__lookup_elem(skel->maps.fault_stats, &key, sizeof(key), v,
					      (size_t)ncpu * sizeof(*v), 0), 0);
	for (int i = 0; i < ncpu; i++) {
		sum.seen += v[i].seen;
		sum.matched += v[i].matched;
		sum.applied += v[i].applied;
		sum.dropped += v[i].dropped;
		sum.corrupted += v[i].corrupted;
		sum.duplicated += v[i].duplicated;
		sum.errors += v[i].errors;
		if (v[i].first_applied_tai_ns && (!sum.first_applied_tai_ns ||
						  v[i].first_applied_tai_ns < sum.first_applied_tai_ns))
			sum.first_applied_tai_ns = v[i].first_applied_tai_ns;
		if (v[i].last_applied_tai_ns > sum.last_applied_tai_ns)
			sum.last_applied_tai_ns = v[i].last_applied_tai_ns;
	}
	free(v);
	return sum;
}

struct result {
	int verdict;
	__u32 mark;
	uint8_t data[FB_CAP];
	__u32 len;
};

/* One frame through the program `repeat` times; the frame as it left the
 * program, its mark and the last verdict in *r. */
static void run_n(const struct fb *f, __u32 mark, __u32 repeat, struct result *r)
{
	struct __sk_buff ctx = { .mark = mark };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->buf, .data_size_in = (__u32)f->len,
		    .data_out = r->data, .data_size_out = sizeof(r->data), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .ctx_out = &ctx, .ctx_size_out = sizeof(ctx),
		    .repeat = repeat);
	int err;

	memset(r, 0, sizeof(*r));
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fault_inject), &opts);
	if (err)
		fail_msg("BPF_PROG_TEST_RUN: %s", strerror(-err));
	r->verdict = (int)opts.retval;
	r->mark = ctx.mark;
	r->len = opts.data_size_out;
}

static int verdict(const struct fb *f)
{
	struct result r;

	run_n(f, 0, 1, &r);
	return r.verdict;
}

static void expect(const char *name, const struct fb *f, int want)
{
	int got = verdict(f);

	if (got != want)
		fail_msg("%s: verdict %d, want %d (%s)", name, got, want,
			 want == SHOT ? "TC_ACT_SHOT" : "TC_ACT_UNSPEC");
}

/* ---- frames --------------------------------------------------------------------
 * Appenders: each writes one frame (or the outer part of a tunnelled one) at
 * the end of f; fb_done() closes the open length fields afterwards. */

static void tcp4(struct fb *f, const uint8_t *src, int ntags, uint16_t sport, uint16_t dport,
		 size_t payload)
{
	fb_eth(f, other == src ? guest : other, src, FB_ETH_IPV4, vids, ntags);
	fb_ipv4(f, FB_IP_TCP, ip_o, ip_g, 0);
	fb_tcp(f, sport, dport, 1000, 2000, payload ? 0x18 : 0x10, 0);
	fb_payload(f, payload);
}

static void tcp6(struct fb *f, uint16_t sport, uint16_t dport, size_t payload)
{
	fb_eth(f, guest, other, FB_ETH_IPV6, NULL, 0);
	fb_ipv6(f, FB_IP_TCP, ip6_o, ip6_g);
	fb_tcp(f, sport, dport, 1000, 2000, 0x18, 0);
	fb_payload(f, payload);
}

static void udp4(struct fb *f, uint16_t dport)
{
	fb_eth(f, guest, other, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(f, FB_IP_UDP, ip_o, ip_g, 0);
	fb_udp(f, 40000, dport);
	fb_payload(f, 32);
}

static void echo4(struct fb *f, const uint8_t *src, uint8_t type)
{
	fb_eth(f, bcast, src, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(f, FB_IP_ICMP, ip_g, ip_o, 0);
	fb_icmp_echo(f, type, 7, 1);
	fb_payload(f, 56);
}

static void echo6(struct fb *f, const uint8_t *src, uint8_t type)
{
	fb_eth(f, other, src, FB_ETH_IPV6, NULL, 0);
	fb_ipv6(f, FB_IP_ICMPV6, ip6_g, ip6_o);
	fb_icmp_echo(f, type, 7, 1);
	fb_payload(f, 56);
}

/* ARP op 1/2 (gratuitous when spa == tpa) or RARP op 3, padded to 60 bytes
 * when not tunnelled, as on the wire. */
static void arp(struct fb *f, const uint8_t *src, int ntags, uint16_t type, uint16_t op,
		const uint8_t *spa, const uint8_t *tpa)
{
	int tunnelled = f->len > 0;

	fb_eth(f, bcast, src, type, vids, ntags);
	fb_arp(f, op, src, spa, op == 3 ? src : zero6, tpa);
	if (!tunnelled)
		fb_pad(f, 60);
}

/* Neighbour advertisement; flags 0x20 (override) is unsolicited, 0x60 not. */
static void na(struct fb *f, const uint8_t *src, uint8_t flags)
{
	fb_eth(f, other, src, FB_ETH_IPV6, NULL, 0);
	fb_ipv6(f, FB_IP_ICMPV6, ip6_g, ip6_o);
	fb_icmp6_na(f, flags, ip6_g);
}

/* Outer Ethernet/IP/UDP/tunnel header from a VTEP; the inner frame follows. */
static void tunnel(struct fb *f, int v6, uint16_t dport)
{
	fb_eth(f, bcast, host, v6 ? FB_ETH_IPV6 : FB_ETH_IPV4, NULL, 0);
	if (v6)
		fb_ipv6(f, FB_IP_UDP, ip6_o, ip6_g);
	else
		fb_ipv4(f, FB_IP_UDP, ip_o, ip_g, 0);
	fb_udp(f, 51000, dport);
	if (dport == FB_UDP_VXLAN)
		fb_vxlan(f, FB_VXLAN_I, 42);
	else
		fb_geneve(f, FB_ETH_TEB, 42, 8);
}

/* ---- matches -------------------------------------------------------------------- */

static void test_drop_stream_at_100_percent(void **state)
{
	struct fb f;
	struct fault_stats s;

	(void)state;
	configure(FAULT_KIND_DROP, FAULT_MATCH_STREAM, FAULT_RATE_ONE);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 100), fb_done(&f, 0);
	expect("to 49152", &f, SHOT);
	fb_init(&f), tcp4(&f, other, 0, 49215, 40000, 100), fb_done(&f, 0);
	expect("from 49215", &f, SHOT);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 0), fb_done(&f, 0);
	expect("pure ACK to 49152", &f, SHOT);
	fb_init(&f), tcp6(&f, 40000, 49200, 100), fb_done(&f, 0);
	expect("IPv6 to 49200", &f, SHOT);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49216, 100), fb_done(&f, 0);
	expect("to 49216", &f, PASS);
	fb_init(&f), tcp4(&f, other, 0, 49151, 40000, 100), fb_done(&f, 0);
	expect("from 49151", &f, PASS);
	fb_init(&f), udp4(&f, 49152), fb_done(&f, 0);
	expect("UDP to 49152", &f, PASS);
	fb_init(&f), arp(&f, guest, 0, FB_ETH_ARP, 1, ip_g, ip_o), fb_done(&f, 0);
	expect("ARP", &f, PASS);
	fb_init(&f), echo4(&f, guest, 0), fb_done(&f, 0);
	expect("echo reply", &f, PASS);

	s = stats();
	assert_int_equal(s.seen, 9);
	assert_int_equal(s.matched, 4);
	assert_int_equal(s.applied, 4);
	assert_int_equal(s.dropped, 4);
	assert_int_equal(s.corrupted + s.duplicated + s.errors, 0);
	assert_true(s.first_applied_tai_ns > 0);
	assert_true(s.first_applied_tai_ns <= s.last_applied_tai_ns);

	/* --ports 5000-5000 */
	cfg.port_lo = cfg.port_hi = 5000;
	apply();
	fb_init(&f), tcp4(&f, other, 0, 40000, 5000, 10), fb_done(&f, 0);
	expect("to 5000 with --ports 5000", &f, SHOT);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 10), fb_done(&f, 0);
	expect("to 49152 with --ports 5000", &f, PASS);
}

static void test_encapsulated_stream(void **state)
{
	struct fb f;

	(void)state;
	configure(FAULT_KIND_DROP, FAULT_MATCH_STREAM, FAULT_RATE_ONE);
	fb_init(&f), tcp4(&f, other, 1, 40000, 49152, 64), fb_done(&f, 0);
	expect("802.1Q", &f, SHOT);
	fb_init(&f), tcp4(&f, other, 2, 40000, 49152, 64), fb_done(&f, 0);
	expect("QinQ", &f, SHOT);
	fb_init(&f), tunnel(&f, 0, FB_UDP_VXLAN), tcp4(&f, other, 0, 40000, 49152, 64), fb_done(&f, 0);
	expect("VXLAN", &f, SHOT);
	fb_init(&f), tunnel(&f, 1, FB_UDP_VXLAN), tcp4(&f, other, 1, 49160, 40000, 64), fb_done(&f, 0);
	expect("VXLAN over IPv6, tagged inside", &f, SHOT);
	fb_init(&f), tunnel(&f, 0, FB_UDP_GENEVE), tcp4(&f, other, 0, 40000, 49215, 64), fb_done(&f, 0);
	expect("Geneve with options", &f, SHOT);
	fb_init(&f), tunnel(&f, 0, FB_UDP_VXLAN), tcp4(&f, other, 0, 40000, 22, 64), fb_done(&f, 0);
	expect("VXLAN, inner ssh", &f, PASS);
	fb_init(&f), tunnel(&f, 0, FB_UDP_VXLAN), arp(&f, guest, 0, FB_ETH_RARP, 3, ip_g, ip_g),
		fb_done(&f, 0);
	expect("VXLAN, inner RARP", &f, PASS);
	assert_int_equal(stats().dropped, 5);
}

static void test_guest_is_the_inner_source(void **state)
{
	struct fb f;

	(void)state;
	configure(FAULT_KIND_DROP, FAULT_MATCH_GUEST, FAULT_RATE_ONE);
	fb_init(&f), tcp4(&f, guest, 0, 22, 40000, 10), fb_done(&f, 0);
	expect("from the guest", &f, SHOT);
	fb_init(&f), arp(&f, guest, 1, FB_ETH_ARP, 1, ip_g, ip_o), fb_done(&f, 0);
	expect("tagged ARP from the guest", &f, SHOT);
	fb_init(&f), tcp4(&f, other, 0, 40000, 22, 10), fb_done(&f, 0);
	expect("to the guest", &f, PASS);
	fb_init(&f), tunnel(&f, 0, FB_UDP_VXLAN), tcp4(&f, guest, 0, 22, 40000, 10), fb_done(&f, 0);
	expect("VXLAN from the guest (outer from the VTEP)", &f, SHOT);
	fb_init(&f), tunnel(&f, 0, FB_UDP_GENEVE), echo4(&f, guest, 0), fb_done(&f, 0);
	expect("Geneve from the guest", &f, SHOT);
	fb_init(&f), tunnel(&f, 0, FB_UDP_VXLAN), tcp4(&f, other, 0, 40000, 22, 10), fb_done(&f, 0);
	expect("VXLAN to the guest", &f, PASS);
}

static void test_announce_from_the_guest_only(void **state)
{
	struct fb f;
	const uint8_t zero4[4] = { 0 };

	(void)state;
	configure(FAULT_KIND_DROP, FAULT_MATCH_ANNOUNCE, FAULT_RATE_ONE);
	fb_init(&f), arp(&f, guest, 0, FB_ETH_RARP, 3, zero4, zero4), fb_done(&f, 0);
	expect("RARP (QEMU's announce)", &f, SHOT);
	fb_init(&f), arp(&f, guest, 0, FB_ETH_ARP, 1, ip_g, ip_g), fb_done(&f, 0);
	expect("gratuitous ARP request", &f, SHOT);
	fb_init(&f), arp(&f, guest, 0, FB_ETH_ARP, 2, ip_g, ip_g), fb_done(&f, 0);
	expect("gratuitous ARP reply", &f, SHOT);
	fb_init(&f), na(&f, guest, 0x20), fb_done(&f, 0);
	expect("unsolicited NA", &f, SHOT);
	fb_init(&f), arp(&f, guest, 1, FB_ETH_ARP, 1, ip_g, ip_g), fb_done(&f, 0);
	expect("802.1Q gratuitous ARP", &f, SHOT);
	fb_init(&f), tunnel(&f, 0, FB_UDP_VXLAN), arp(&f, guest, 0, FB_ETH_RARP, 3, zero4, zero4),
		fb_done(&f, 0);
	expect("VXLAN RARP", &f, SHOT);

	fb_init(&f), arp(&f, guest, 0, FB_ETH_ARP, 1, ip_g, ip_o), fb_done(&f, 0);
	expect("ordinary ARP request", &f, PASS);
	fb_init(&f), na(&f, guest, 0x60), fb_done(&f, 0);
	expect("solicited NA", &f, PASS);
	fb_init(&f), echo4(&f, guest, 0), fb_done(&f, 0);
	expect("echo reply", &f, PASS);
	fb_init(&f), echo6(&f, guest, 129), fb_done(&f, 0);
	expect("ICMPv6 echo reply", &f, PASS);
	fb_init(&f), arp(&f, other, 0, FB_ETH_RARP, 3, zero4, zero4), fb_done(&f, 0);
	expect("another MAC's RARP", &f, PASS);
	fb_init(&f), arp(&f, other, 0, FB_ETH_ARP, 1, ip_o, ip_o), fb_done(&f, 0);
	expect("another MAC's gratuitous ARP", &f, PASS);
	fb_init(&f), na(&f, other, 0x20), fb_done(&f, 0);
	expect("another MAC's NA", &f, PASS);
	fb_init(&f), tunnel(&f, 0, FB_UDP_VXLAN), arp(&f, other, 0, FB_ETH_RARP, 3, zero4, zero4),
		fb_done(&f, 0);
	expect("VXLAN, another MAC's RARP", &f, PASS);
	assert_int_equal(stats().dropped, 6);
}

static void test_echo_replies_of_the_guest(void **state)
{
	struct fb f;

	(void)state;
	configure(FAULT_KIND_DROP, FAULT_MATCH_ECHO_REPLY, FAULT_RATE_ONE);
	fb_init(&f), echo4(&f, guest, 0), fb_done(&f, 0);
	expect("ICMP echo reply", &f, SHOT);
	fb_init(&f), echo6(&f, guest, 129), fb_done(&f, 0);
	expect("ICMPv6 echo reply", &f, SHOT);
	fb_init(&f), tunnel(&f, 1, FB_UDP_VXLAN), echo4(&f, guest, 0), fb_done(&f, 0);
	expect("VXLAN echo reply", &f, SHOT);
	fb_init(&f), echo4(&f, guest, 8), fb_done(&f, 0);
	expect("echo request", &f, PASS);
	fb_init(&f), echo6(&f, guest, 128), fb_done(&f, 0);
	expect("ICMPv6 echo request", &f, PASS);
	fb_init(&f), echo4(&f, other, 0), fb_done(&f, 0);
	expect("another MAC's reply", &f, PASS);
	fb_init(&f), arp(&f, guest, 0, FB_ETH_RARP, 3, ip_g, ip_g), fb_done(&f, 0);
	expect("RARP", &f, PASS);
}

/* ---- rates ---------------------------------------------------------------------- */

static void test_rate_zero_passes_everything(void **state)
{
	struct fb f;
	struct fault_stats s;

	(void)state;
	configure(FAULT_KIND_DROP, FAULT_MATCH_ALL, 0);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 100), fb_done(&f, 0);
	expect("stream", &f, PASS);
	fb_init(&f), arp(&f, guest, 0, FB_ETH_RARP, 3, ip_g, ip_g), fb_done(&f, 0);
	expect("RARP", &f, PASS);
	fb_init(&f), echo6(&f, guest, 129), fb_done(&f, 0);
	expect("echo reply", &f, PASS);
	s = stats();
	assert_int_equal(s.seen, 3);
	assert_int_equal(s.matched, 3);
	assert_int_equal(s.applied, 0);
	assert_int_equal(s.first_applied_tai_ns, 0);
}

/* N frames at rate p: the count must lie within 5 standard deviations of
 * N p (a false alarm once in ~1.7 million runs). */
static void binomial(__u32 kind, __u32 rate_ppm)
{
	const __u32 n = 20000;
	const double p = (double)rate_ppm / FAULT_RATE_ONE;
	const double mean = n * p, sd = sqrt(n * p * (1 - p));
	struct fault_stats s;
	struct result r;
	struct fb f;
	__u64 hit;

	configure(kind, FAULT_MATCH_STREAM, rate_ppm);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 100), fb_done(&f, 0);
	run_n(&f, 0, n, &r);
	s = stats();
	hit = kind == FAULT_KIND_DROP ? s.dropped : s.corrupted;
	assert_int_equal(s.matched, n);
	assert_int_equal(s.applied, hit);
	print_message("# rate %u ppm: %llu of %u (expected %.0f +- %.1f)\n", rate_ppm,
		      (unsigned long long)hit, n, mean, sd);
	if ((double)hit < mean - 5 * sd || (double)hit > mean + 5 * sd)
		fail_msg("rate %u ppm: %llu of %u frames, expected %.0f +- %.0f", rate_ppm,
			 (unsigned long long)hit, n, mean, 5 * sd);
}

static void test_rate_is_binomial(void **state)
{
	(void)state;
	binomial(FAULT_KIND_DROP, 20000);  /* 2 %, the lab's loss scenario */
	binomial(FAULT_KIND_DROP, 500000);
	binomial(FAULT_KIND_CORRUPT, 5000);
}

/* ---- corrupt -------------------------------------------------------------------- */

/* The frame came out with exactly one bit flipped, at byte `at`. */
static void expect_flip(const char *name, const struct fb *f, size_t at)
{
	struct result r;
	size_t diffs = 0;

	run_n(f, 0, 1, &r);
	if (r.verdict != PASS)
		fail_msg("%s: verdict %d, want TC_ACT_UNSPEC", name, r.verdict);
	assert_int_equal(r.len, f->len);
	for (size_t i = 0; i < f->len; i++) {
		uint8_t x = (uint8_t)(r.data[i] ^ f->buf[i]);

		if (!x)
			continue;
		diffs++;
		if (i != at || (x & (x - 1)))
			fail_msg("%s: byte %zu changed %02x -> %02x, want one bit of byte %zu",
				 name, i, f->buf[i], r.data[i], at);
	}
	if (diffs != 1)
		fail_msg("%s: %zu bytes changed, want 1", name, diffs);
}

static void expect_untouched(const char *name, const struct fb *f)
{
	struct result r;

	run_n(f, 0, 1, &r);
	if (r.verdict != PASS)
		fail_msg("%s: verdict %d, want TC_ACT_UNSPEC", name, r.verdict);
	assert_int_equal(r.len, f->len);
	if (memcmp(r.data, f->buf, f->len))
		fail_msg("%s: an unmatched frame was modified", name);
}

static void test_corrupt_flips_one_bit_of_matched_frames(void **state)
{
	struct fb f;
	struct fault_stats s;

	(void)state;
	configure(FAULT_KIND_CORRUPT, FAULT_MATCH_STREAM, FAULT_RATE_ONE);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 100), fb_done(&f, 0);
	expect_flip("first payload byte", &f, ETH + IP4 + TCP);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 0), fb_done(&f, 0);
	expect_flip("pure ACK: last TCP header byte", &f, ETH + IP4 + TCP - 1);
	fb_init(&f), tcp4(&f, other, 1, 40000, 49152, 100), fb_done(&f, 0);
	expect_flip("802.1Q", &f, ETH + 4 + IP4 + TCP);
	fb_init(&f), tunnel(&f, 0, FB_UDP_VXLAN), tcp4(&f, other, 0, 40000, 49152, 100), fb_done(&f, 0);
	expect_flip("VXLAN: inner payload", &f, ETH + IP4 + UDP + VXLAN + ETH + IP4 + TCP);
	fb_init(&f), tcp4(&f, other, 0, 40000, 22, 100), fb_done(&f, 0);
	expect_untouched("other port", &f);
	fb_init(&f), udp4(&f, 49152), fb_done(&f, 0);
	expect_untouched("UDP", &f);
	s = stats();
	assert_int_equal(s.corrupted, 4);
	assert_int_equal(s.applied, 4);
	assert_int_equal(s.dropped + s.errors, 0);

	configure(FAULT_KIND_CORRUPT, FAULT_MATCH_ALL, FAULT_RATE_ONE);
	fb_init(&f), udp4(&f, 53), fb_done(&f, 0);
	expect_flip("UDP payload", &f, ETH + IP4 + UDP);
	fb_init(&f), echo4(&f, guest, 0), fb_done(&f, 0);
	expect_flip("ICMP: last byte", &f, f.len - 1);
	fb_init(&f), arp(&f, guest, 0, FB_ETH_ARP, 1, ip_g, ip_o), fb_done(&f, 0);
	expect_flip("ARP: last byte", &f, f.len - 1);
}

/* ---- duplicate ------------------------------------------------------------------ */

static void test_duplicate(void **state)
{
	struct fb f, u;
	struct result r;
	struct fault_stats s;

	(void)state;
	configure(FAULT_KIND_DUPLICATE, FAULT_MATCH_STREAM, FAULT_RATE_ONE);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 100), fb_done(&f, 0);
	fb_init(&u), tcp4(&u, other, 0, 40000, 22, 100), fb_done(&u, 0);
	run_n(&f, 0x42, 1, &r); /* egress: a clone to lo's egress */
	assert_int_equal(r.verdict, PASS);
	assert_int_equal(r.mark, 0x42); /* the original keeps its mark */
	assert_memory_equal(r.data, f.buf, f.len);
	cfg.ingress = 1;
	apply();
	run_n(&f, 0, 1, &r); /* ingress: a clone into lo's receive path */
	assert_int_equal(r.verdict, PASS);
	assert_int_equal(r.mark, 0);
	run_n(&u, 0, 1, &r);
	assert_int_equal(r.verdict, PASS);
	s = stats();
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.duplicated, 1);
	assert_int_equal(s.applied, 1);
	assert_int_equal(s.matched, 1);

	/* our own clone, back in the hook: passed, unmarked, not counted and
	 * not duplicated again */
	run_n(&f, FAULT_DUP_MARK, 1, &r);
	assert_int_equal(r.verdict, PASS);
	assert_int_equal(r.mark, 0);
	s = stats();
	assert_int_equal(s.seen, 2);
	assert_int_equal(s.duplicated, 1);
}

/* ---- hold ----------------------------------------------------------------------- */

static __u64 hold_start(void)
{
	struct fault_state st;
	__u32 key = 0;

	assert_int_equal(bpf_map__lookup_elem(skel->maps.fault_state, &key, sizeof(key), &st,
					      sizeof(st), 0), 0);
	return st.hold_start_mono_ns;
}

/* Moves the injected clock: rewrites the configuration only, so the hold
 * state and the counters stay. */
static void at(__u64 ns)
{
	__u32 key = 0;

	cfg.clock_ns = ns;
	assert_int_equal(bpf_map__update_elem(skel->maps.fault_cfg, &key, sizeof(key), &cfg,
					      sizeof(cfg), BPF_ANY), 0);
}

static void test_hold_with_an_injected_clock(void **state)
{
	const __u64 t0 = 1000 * (__u64)MS, hold = 50 * (__u64)MS;
	struct fb g, o, v;
	struct fault_stats s;

	(void)state;
	configure(FAULT_KIND_HOLD, FAULT_MATCH_GUEST, 0); /* the rate does not apply */
	cfg.hold_ns = hold;
	cfg.clock_ns = t0;
	apply();
	fb_init(&g), echo4(&g, guest, 0), fb_done(&g, 0);
	fb_init(&o), echo4(&o, other, 0), fb_done(&o, 0);
	fb_init(&v), tunnel(&v, 0, FB_UDP_VXLAN), tcp4(&v, guest, 0, 22, 40000, 10), fb_done(&v, 0);

	expect("another MAC before the guest", &o, PASS);
	assert_int_equal(hold_start(), 0);
	expect("the guest's first frame", &g, SHOT);
	assert_int_equal(hold_start(), t0);
	at(t0 + hold / 2);
	expect("VXLAN from the guest, mid-hold", &v, SHOT);
	expect("another MAC mid-hold", &o, PASS);
	at(t0 + hold - 1);
	expect("the guest, 1 ns before the end", &g, SHOT);
	at(t0 + hold);
	expect("the guest at the end", &g, PASS);
	at(t0 + 10 * hold);
	expect("the guest long after", &g, PASS);
	assert_int_equal(hold_start(), t0);
	s = stats();
	assert_int_equal(s.dropped, 3);
	assert_int_equal(s.matched, 5);
	assert_int_equal(s.first_applied_tai_ns, t0);
	assert_int_equal(s.last_applied_tai_ns, t0 + hold - 1);
}

static void test_hold_with_the_real_clock(void **state)
{
	const struct timespec wait = { 0, 80 * MS };
	struct fb g;

	(void)state;
	configure(FAULT_KIND_HOLD, FAULT_MATCH_GUEST, FAULT_RATE_ONE);
	cfg.hold_ns = 50 * (__u64)MS;
	apply();
	fb_init(&g), arp(&g, guest, 0, FB_ETH_RARP, 3, ip_g, ip_g), fb_done(&g, 0);
	expect("first", &g, SHOT);
	expect("second, at once", &g, SHOT);
	assert_int_equal(nanosleep(&wait, NULL), 0);
	expect("after 80 ms", &g, PASS);
	assert_int_equal(stats().dropped, 2);
}

/* enabled = 0 is the start trigger: nothing counts as matched, and the hold
 * starts with the first match after enabling. */
static void test_hold_waits_for_enable(void **state)
{
	struct fb g;

	(void)state;
	configure(FAULT_KIND_HOLD, FAULT_MATCH_GUEST, FAULT_RATE_ONE);
	cfg.hold_ns = 50 * (__u64)MS;
	cfg.clock_ns = 5000 * (__u64)MS;
	cfg.enabled = 0;
	apply();
	fb_init(&g), echo4(&g, guest, 0), fb_done(&g, 0);
	expect("disabled", &g, PASS);
	assert_int_equal(hold_start(), 0);
	assert_int_equal(stats().matched, 0);
	cfg.enabled = 1;
	at(6000 * (__u64)MS);
	expect("enabled", &g, SHOT);
	assert_int_equal(hold_start(), 6000 * (__u64)MS);
	assert_int_equal(stats().seen, 2);
}

static void test_kind_none_only_counts(void **state)
{
	struct fb f;
	struct fault_stats s;

	(void)state;
	configure(FAULT_KIND_NONE, FAULT_MATCH_ALL, FAULT_RATE_ONE);
	fb_init(&f), tcp4(&f, other, 0, 40000, 49152, 100), fb_done(&f, 0);
	expect_untouched("stream", &f);
	s = stats();
	assert_int_equal(s.seen, 1);
	assert_int_equal(s.applied, 0);
}

/* ---- the split classifier agrees with parse_ethernet() --------------------------- */

/* The match rules of fault.bpf.c, over userspace's parse_ethernet(). */
static int oracle(__u32 match, const uint8_t *p, size_t len)
{
	struct pkt_meta m;
	int from_guest, announce;

	if (parse_ethernet(p, p + len, &m))
		memset(&m, 0, sizeof(m));
	from_guest = !memcmp(m.eth_src, guest, 6);
	announce = m.kind == PKT_KIND_RARP ||
		   (m.kind == PKT_KIND_ARP && !memcmp(m.arp_spa, m.arp_tpa, 4)) ||
		   (m.kind == PKT_KIND_NEIGH_ADVERT && !(m.nd_flags & PKT_ND_SOLICITED));
	switch (match) {
	case FAULT_MATCH_STREAM:
		return m.kind == PKT_KIND_TCP &&
		       ((m.sport >= FAULT_PORT_LO && m.sport <= FAULT_PORT_HI) ||
			(m.dport >= FAULT_PORT_LO && m.dport <= FAULT_PORT_HI));
	case FAULT_MATCH_GUEST:
		return from_guest;
	case FAULT_MATCH_ANNOUNCE:
		return from_guest && announce;
	case FAULT_MATCH_ECHO_REPLY:
		return from_guest && m.kind == PKT_KIND_ECHO_REPLY;
	}
	return 1;
}

static void test_kernel_agrees_with_parse_ethernet(void **state)
{
	enum { NF = 14 };
	static const __u32 matches[] = { FAULT_MATCH_STREAM, FAULT_MATCH_GUEST,
					 FAULT_MATCH_ANNOUNCE, FAULT_MATCH_ECHO_REPLY };
	struct fb *f = calloc(NF, sizeof(*f));
	size_t n = 0, cut[NF] = { 0 };
	int seen[2] = { 0, 0 };

	(void)state;
	need_program();
	assert_non_null(f);
	tcp4(&f[n++], other, 0, 40000, 49152, 64);
	tcp4(&f[n++], guest, 2, 49152, 40000, 0);
	tcp6(&f[n++], 40000, 49215, 10);
	echo4(&f[n++], guest, 0);
	echo6(&f[n++], guest, 129);
	na(&f[n++], guest, 0x20);
	arp(&f[n++], guest, 0, FB_ETH_ARP, 2, ip_g, ip_g);
	tunnel(&f[n], 0, FB_UDP_VXLAN), tcp4(&f[n++], guest, 1, 40000, 49152, 64);
	tunnel(&f[n], 1, FB_UDP_GENEVE), na(&f[n++], guest, 0x20);
	tunnel(&f[n], 0, FB_UDP_VXLAN), arp(&f[n++], guest, 0, FB_ETH_RARP, 3, ip_g, ip_g);
	/* inner frames cut short: described by the outer frame */
	tunnel(&f[n], 0, FB_UDP_VXLAN), tcp4(&f[n], guest, 0, 40000, 49152, 64);
	cut[n++] = ETH + IP4 + UDP + VXLAN + 10;
	tunnel(&f[n], 0, FB_UDP_VXLAN), tcp4(&f[n], guest, 0, 40000, 49152, 64);
	cut[n++] = ETH + IP4 + UDP + VXLAN + ETH + 12;
	tunnel(&f[n], 0, FB_UDP_VXLAN), tcp4(&f[n], guest, 1, 40000, 49152, 64);
	cut[n++] = ETH + IP4 + UDP + VXLAN + ETH + 4 + IP4 + 10;
	tunnel(&f[n], 1, FB_UDP_VXLAN), echo4(&f[n], guest, 0);
	cut[n++] = ETH + IP6 + UDP + VXLAN + ETH + IP4 + 4;
	assert_int_equal(n, NF);
	for (size_t i = 0; i < n; i++) {
		fb_done(&f[i], 0);
		if (cut[i])
			f[i].len = cut[i];
	}
	for (size_t k = 0; k < sizeof(matches) / sizeof(matches[0]); k++) {
		configure(FAULT_KIND_DROP, matches[k], FAULT_RATE_ONE);
		for (size_t i = 0; i < n; i++) {
			int want = oracle(matches[k], f[i].buf, f[i].len);
			int got = verdict(&f[i]) == SHOT;

			if (got != want)
				fail_msg("frame %zu, match %u: kernel %s, parse_ethernet() says %s", i,
					 matches[k], got ? "matched" : "passed",
					 want ? "match" : "pass");
			seen[want]++;
		}
	}
	free(f);
	assert_true(seen[0] >= 10 && seen[1] >= 10); /* both answers exercised */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_stream_at_100_percent),
		cmocka_unit_test(test_encapsulated_stream),
		cmocka_unit_test(test_guest_is_the_inner_source),
		cmocka_unit_test(test_announce_from_the_guest_only),
		cmocka_unit_test(test_echo_replies_of_the_guest),
		cmocka_unit_test(test_rate_zero_passes_everything),
		cmocka_unit_test(test_rate_is_binomial),
		cmocka_unit_test(test_corrupt_flips_one_bit_of_matched_frames),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_hold_with_an_injected_clock),
		cmocka_unit_test(test_hold_with_the_real_clock),
		cmocka_unit_test(test_hold_waits_for_enable),
		cmocka_unit_test(test_kind_none_only_counts),
		cmocka_unit_test(test_kernel_agrees_with_parse_ethernet),
	};

	return cmocka_run_group_tests_name("fault", tests, group_setup, group_teardown);
}
