/*
 * The kernel and userspace runtimes of the one classifier (bpf/parse.h)
 * agree: every frame below goes through the tc program classify.bpf.o with
 * BPF_PROG_TEST_RUN and through parse_ethernet() here, and after each frame
 * the kernel's per-kind counters must equal the userspace tally.
 *
 * Needs root (CAP_BPF + CAP_NET_ADMIN), and fails without it: a skip would
 * hide a runner that cannot load programs.
 * The object comes from $MIGSCOPE_BPF_DIR (default build/bpf, relative to
 * the repository root the tests run from).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "bpf/parse.h"
#include "tests/unit/frames.h"

enum {
	KIND_SLOTS = 16,                 /* as in classify.bpf.c */
	SLOT_REJECTED = KIND_SLOTS - 1,  /* parse_ethernet() returned -1 */
	ETH_HLEN_MIN = 14,               /* BPF_PROG_TEST_RUN refuses less for tc */
	MAX_SAMPLES = 32,
};

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x0a, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x0a, 0x00, 0x02 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero6[6];
static const uint8_t zero4[4];
static const uint8_t ip4_a[4] = { 10, 0, 0, 1 };
static const uint8_t ip4_b[4] = { 10, 0, 0, 2 };
static const uint8_t ip6_a[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t ip6_b[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint16_t vids[] = { 100, 200 };

/*
 * A frame, how much of it was captured, and the slot it should count in.
 * BPF_PROG_TEST_RUN refuses tc input under 14 bytes, and recent kernels
 * (6.18 here) also refuse an untagged IPv4/IPv6 frame whose 20/40-byte L3
 * header is incomplete. Those refusals happen before the program runs, so
 * the truncated frames below are cut where every kernel accepts them:
 * behind a VLAN tag, inside a tunnel, or in a non-IP frame.
 */
struct sample {
	const char *name;
	struct fb f;
	size_t len;
	uint32_t slot;
};

static struct sample samples[MAX_SAMPLES];
static size_t nsamples;

static struct fb *add(const char *name, uint32_t slot)
{
	struct sample *s;

	if (nsamples == MAX_SAMPLES)
		abort();
	s = &samples[nsamples++];
	s->name = name;
	s->slot = slot;
	fb_init(&s->f);
	return &s->f;
}

/* Closes the frame just built; captured < f.len models a snaplen cut. */
static void finish(size_t captured)
{
	struct sample *s = &samples[nsamples - 1];

	s->len = captured < s->f.len ? captured : s->f.len;
}

static void l2(struct fb *f, uint16_t type, int ntags)
{
	fb_eth(f, mac_b, mac_a, type, vids, ntags);
}

static void tcp4(struct fb *f, int ntags, size_t tcpopt, size_t payload, size_t uncaptured)
{
	l2(f, FB_ETH_IPV4, ntags);
	fb_ipv4(f, FB_IP_TCP, ip4_a, ip4_b, 0);
	fb_tcp(f, 40000, 49152, 1, 2, 0x18, tcpopt);
	fb_payload(f, payload);
	fb_done(f, uncaptured);
}

static void icmp4(struct fb *f, int ntags, uint8_t type)
{
	l2(f, FB_ETH_IPV4, ntags);
	fb_ipv4(f, FB_IP_ICMP, ip4_a, ip4_b, 0);
	fb_icmp_echo(f, type, 7, 1);
	fb_payload(f, 56);
	fb_done(f, 0);
}

static void arp(struct fb *f, uint16_t type, uint16_t op, const uint8_t *spa, const uint8_t *tpa)
{
	fb_eth(f, bcast, mac_a, type, NULL, 0);
	fb_arp(f, op, mac_a, spa, op == 3 ? mac_a : zero6, tpa);
	fb_pad(f, 60);
}

/* IPv6 with `count` extension headers (hop-by-hop first), then TCP. */
static void tcp6_ext(struct fb *f, int count)
{
	l2(f, FB_ETH_IPV6, 0);
	fb_ipv6(f, FB_IP_HOPOPT, ip6_a, ip6_b);
	for (int i = 1; i < count; i++)
		fb_ipv6_ext(f, FB_IP_DSTOPTS, 0);
	fb_ipv6_ext(f, FB_IP_TCP, 1);
	fb_tcp(f, 40000, 49152, 1, 2, 0x10, 0);
	fb_payload(f, 40);
	fb_done(f, 0);
}

static void icmp6_na(struct fb *f)
{
	fb_eth(f, mac_b, mac_a, FB_ETH_IPV6, NULL, 0);
	fb_ipv6(f, FB_IP_ICMPV6, ip6_a, ip6_b);
	fb_icmp6_na(f, 0x60, ip6_a);
}

static void tunnel(struct fb *f, int v6, uint16_t dport)
{
	l2(f, v6 ? FB_ETH_IPV6 : FB_ETH_IPV4, 0);
	if (v6)
		fb_ipv6(f, FB_IP_UDP, ip6_b, ip6_a);
	else
		fb_ipv4(f, FB_IP_UDP, ip4_b, ip4_a, 0);
	fb_udp(f, 51000, dport);
	if (dport == FB_UDP_VXLAN)
		fb_vxlan(f, FB_VXLAN_I, 42);
	else
		fb_geneve(f, FB_ETH_TEB, 42, 8);
}

static void build_samples(void)
{
	struct fb *f;

	nsamples = 0;
	tcp4(add("tcp4", PKT_KIND_TCP), 0, 0, 100, 0);
	finish(SIZE_MAX);
	tcp4(add("tcp4 options, cut after header", PKT_KIND_TCP), 0, 12, 0, 1448);
	finish(SIZE_MAX);
	tcp4(add("tcp4 cut inside tcp header", PKT_KIND_OTHER), 1, 0, 100, 0);
	finish(14 + 4 + 20 + 10);
	tcp4(add("ipv4 cut inside ip header", PKT_KIND_OTHER), 1, 0, 100, 0);
	finish(14 + 4 + 12);
	tcp4(add("802.1Q tag cut", PKT_KIND_OTHER), 1, 0, 100, 0);
	finish(14 + 2);
	f = add("udp4 802.1Q", PKT_KIND_UDP);
	l2(f, FB_ETH_IPV4, 1);
	fb_ipv4(f, FB_IP_UDP, ip4_a, ip4_b, 0);
	fb_udp(f, 5000, 53);
	fb_payload(f, 30);
	fb_done(f, 0);
	finish(SIZE_MAX);
	icmp4(add("icmp echo request QinQ", PKT_KIND_ECHO_REQUEST), 2, 8);
	finish(SIZE_MAX);
	icmp4(add("icmp echo reply", PKT_KIND_ECHO_REPLY), 0, 0);
	finish(SIZE_MAX);
	icmp4(add("icmp unreachable", PKT_KIND_ICMP_OTHER), 0, 3);
	finish(SIZE_MAX);
	arp(add("arp request", PKT_KIND_ARP), FB_ETH_ARP, 1, ip4_a, ip4_b);
	finish(SIZE_MAX);
	arp(add("gratuitous arp", PKT_KIND_ARP), FB_ETH_ARP, 1, ip4_a, ip4_a);
	finish(SIZE_MAX);
	arp(add("rarp", PKT_KIND_RARP), FB_ETH_RARP, 3, zero4, zero4);
	finish(SIZE_MAX);
	arp(add("arp cut", PKT_KIND_OTHER), FB_ETH_ARP, 2, ip4_b, ip4_a);
	finish(14 + 27);
	tcp6_ext(add("tcp6, 4 extension headers", PKT_KIND_TCP), 4);
	finish(SIZE_MAX);
	tcp6_ext(add("tcp6, 5 extension headers", PKT_KIND_OTHER), 5);
	finish(SIZE_MAX);
	f = add("ipv6 later fragment", PKT_KIND_OTHER);
	l2(f, FB_ETH_IPV6, 0);
	fb_ipv6(f, FB_IP_FRAGMENT, ip6_a, ip6_b);
	fb_ipv6_frag(f, FB_IP_TCP, 185, 1);
	fb_payload(f, 64);
	fb_done(f, 0);
	finish(SIZE_MAX);
	f = add("icmpv6 neighbour advertisement", PKT_KIND_NEIGH_ADVERT);
	icmp6_na(f);
	fb_done(f, 0);
	finish(SIZE_MAX);
	f = add("icmpv6 echo reply 802.1Q", PKT_KIND_ECHO_REPLY);
	l2(f, FB_ETH_IPV6, 1);
	fb_ipv6(f, FB_IP_ICMPV6, ip6_a, ip6_b);
	fb_icmp_echo(f, 129, 9, 9);
	fb_done(f, 0);
	finish(SIZE_MAX);
	f = add("vxlan, guest 802.1Q tcp4", PKT_KIND_TCP);
	tunnel(f, 0, FB_UDP_VXLAN);
	tcp4(f, 1, 0, 64, 0);
	finish(SIZE_MAX);
	f = add("geneve with options, guest NA", PKT_KIND_NEIGH_ADVERT);
	tunnel(f, 0, FB_UDP_GENEVE);
	icmp6_na(f);
	fb_done(f, 0);
	finish(SIZE_MAX);
	f = add("vxlan, guest ethernet cut", PKT_KIND_UDP);
	tunnel(f, 0, FB_UDP_VXLAN);
	tcp4(f, 0, 0, 64, 0);
	finish(14 + 20 + 8 + 8 + 10);
	f = add("vxlan over ipv6, guest ip cut", PKT_KIND_OTHER);
	tunnel(f, 1, FB_UDP_VXLAN);
	tcp4(f, 0, 0, 64, 0);
	finish(14 + 40 + 8 + 8 + 14 + 12);
	f = add("ipv4 ihl < 5", PKT_KIND_OTHER);
	tcp4(f, 0, 0, 10, 0);
	fb_set8(f, 14, 0x44);
	finish(SIZE_MAX);
	arp(add("ethernet header only", PKT_KIND_OTHER), FB_ETH_ARP, 1, ip4_a, ip4_b);
	finish(ETH_HLEN_MIN);
	tcp4(add("13 bytes", SLOT_REJECTED), 0, 0, 10, 0);
	finish(ETH_HLEN_MIN - 1);
	tcp4(add("empty", SLOT_REJECTED), 0, 0, 10, 0);
	finish(0);
}

static int group_setup(void **state)
{
	(void)state;
	build_samples();
	return 0;
}

/* Userspace verdict on exactly the captured bytes (heap copy, for ASan). */
static uint32_t user_slot(const struct sample *s)
{
	uint8_t *p = malloc(s->len ? s->len : 1);
	struct pkt_meta m;
	uint32_t slot;

	assert_non_null(p);
	memcpy(p, s->f.buf, s->len);
	slot = parse_ethernet(p, p + s->len, &m) ? SLOT_REJECTED : m.kind;
	free(p);
	return slot;
}

/* ---- the kernel side ---------------------------------------------------- */

struct kernel {
	struct bpf_object *obj;
	int prog_fd;
	int map_fd;
	int ncpus;
};

/* TAP reads stdout; libbpf's diagnostics go to stderr as TAP comments. */
__attribute__((format(printf, 2, 0)))
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("# ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int kernel_setup(void **state)
{
	struct kernel *k = calloc(1, sizeof(*k));

	if (!k)
		return -1;
	k->prog_fd = -1;
	k->map_fd = -1;
	*state = k;
	return 0;
}

static int kernel_teardown(void **state)
{
	struct kernel *k = *state;

	bpf_object__close(k->obj);
	free(k);
	return 0;
}

/* A skip would be counted as a pass by the runner (TAP "ok ... # SKIP"),
 * hiding a runner that cannot load programs: fail, as test_pkt_bpf does. */
static void unprivileged(const char *what)
{
	fail_msg("%s: EPERM: loading the classifier needs root (CAP_BPF and CAP_PERFMON)", what);
}

static void kernel_load(struct kernel *k)
{
	const char *dir = getenv("MIGSCOPE_BPF_DIR");
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[4096];
	int err;

	if (!dir || !*dir)
		dir = "build/bpf";
	snprintf(path, sizeof(path), "%s/classify.bpf.o", dir);
	libbpf_set_print(libbpf_log);
	k->obj = bpf_object__open_file(path, NULL);
	if (!k->obj)
		fail_msg("open %s: %s (make build/bpf/classify.bpf.o)", path, strerror(errno));
	err = bpf_object__load(k->obj);
	if (err == -EPERM)
		unprivileged("bpf_object__load");
	if (err)
		fail_msg("load %s: %s", path, strerror(-err));
	prog = bpf_object__find_program_by_name(k->obj, "classify");
	map = bpf_object__find_map_by_name(k->obj, "kind_count");
	assert_non_null(prog);
	assert_non_null(map);
	k->prog_fd = bpf_program__fd(prog);
	k->map_fd = bpf_map__fd(map);
	k->ncpus = libbpf_num_possible_cpus();
	assert_true(k->ncpus > 0);
}

/* Returns 0 or -errno from BPF_PROG_TEST_RUN. */
static int kernel_run(const struct kernel *k, const struct sample *s)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = s->f.buf,
		    .data_size_in = (__u32)s->len, .repeat = 1);
	int err = bpf_prog_test_run_opts(k->prog_fd, &opts);

	if (err == -EPERM)
		unprivileged("BPF_PROG_TEST_RUN");
	/* the program only observes: anything but "no verdict" is a bug */
	if (!err && opts.retval != (__u32)TC_ACT_UNSPEC)
		fail_msg("%s: tc verdict %d, want TC_ACT_UNSPEC", s->name, (int)opts.retval);
	return err;
}

/* Per-CPU counters summed over every possible CPU. */
static void kernel_counts(const struct kernel *k, uint64_t out[KIND_SLOTS])
{
	uint64_t *vals = calloc((size_t)k->ncpus, sizeof(*vals));

	assert_non_null(vals);
	for (uint32_t slot = 0; slot < KIND_SLOTS; slot++) {
		assert_int_equal(bpf_map_lookup_elem(k->map_fd, &slot, vals), 0);
		out[slot] = 0;
		for (int cpu = 0; cpu < k->ncpus; cpu++)
			out[slot] += vals[cpu];
	}
	free(vals);
}

static void assert_counts(const char *after, const uint64_t got[KIND_SLOTS],
			  const uint64_t want[KIND_SLOTS])
{
	for (int slot = 0; slot < KIND_SLOTS; slot++)
		if (got[slot] != want[slot])
			fail_msg("after %s: kernel counted %llu in slot %d, userspace %llu", after,
				 (unsigned long long)got[slot], slot,
				 (unsigned long long)want[slot]);
}

/* ---- tests ------------------------------------------------------------------ */

/* Guards the meaning of the comparison: the frames must be what their names
 * say and reach every kind, through every encapsulation. */
static void test_samples_cover_every_kind(void **state)
{
	uint32_t kinds = 0, flags = 0;
	const uint32_t all_flags = PKT_F_VLAN | PKT_F_QINQ | PKT_F_VXLAN | PKT_F_GENEVE |
				   PKT_F_IPV4 | PKT_F_IPV6 | PKT_F_FRAGMENT | PKT_F_TRUNC;

	(void)state;
	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		uint8_t *p = malloc(s->len ? s->len : 1);
		struct pkt_meta m;

		assert_non_null(p);
		memcpy(p, s->f.buf, s->len);
		if (!parse_ethernet(p, p + s->len, &m))
			flags |= m.flags;
		free(p);
		if (user_slot(s) != s->slot)
			fail_msg("%s: userspace slot %u, want %u", s->name, user_slot(s), s->slot);
		kinds |= 1u << s->slot;
	}
	assert_int_equal(kinds & 0x1ff, 0x1ff); /* PKT_KIND_OTHER .. PKT_KIND_ICMP_OTHER */
	assert_int_equal(flags & all_flags, all_flags);
}

static void test_kernel_agrees_with_userspace(void **state)
{
	struct kernel *k = *state;
	uint64_t want[KIND_SLOTS] = { 0 }, got[KIND_SLOTS];
	uint64_t runs = 0, total = 0;

	kernel_load(k);
	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		int err;

		if (s->len < ETH_HLEN_MIN)
			continue;
		err = kernel_run(k, s);
		if (err)
			fail_msg("%s: BPF_PROG_TEST_RUN: %s", s->name, strerror(-err));
		want[user_slot(s)]++;
		runs++;
		kernel_counts(k, got);
		assert_counts(s->name, got, want);
	}
	for (int slot = 0; slot < KIND_SLOTS; slot++)
		total += got[slot];
	assert_int_equal(total, runs);
	assert_true(runs >= 20);
}

/* The kernel refuses frames without a whole Ethernet header before the
 * program runs; userspace rejects them too, and nothing is counted. */
static void test_short_frames_rejected(void **state)
{
	struct kernel *k = *state;
	uint64_t zero[KIND_SLOTS] = { 0 }, got[KIND_SLOTS];
	int tried = 0;

	kernel_load(k);
	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];

		if (s->len >= ETH_HLEN_MIN)
			continue;
		assert_int_equal(user_slot(s), SLOT_REJECTED);
		assert_int_equal(kernel_run(k, s), -EINVAL);
		tried++;
	}
	kernel_counts(k, got);
	assert_counts("frames shorter than 14 bytes", got, zero);
	assert_true(tried >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_cover_every_kind),
		cmocka_unit_test_setup_teardown(test_kernel_agrees_with_userspace, kernel_setup,
						kernel_teardown),
		cmocka_unit_test_setup_teardown(test_short_frames_rejected, kernel_setup,
						kernel_teardown),
	};

	return cmocka_run_group_tests_name("bpf_agree", tests, group_setup, NULL);
}
