/*
 * bpf/pkt.bpf.c through BPF_PROG_TEST_RUN: on a synthetic migration stream
 * with a retransmit, a keep-alive and an ACK stream, the per-flow counters
 * are exact (an oracle written here, independent of the analyzer); RARP and
 * echo frames become ring-buffer events carrying the frame head; stream
 * events are cut after the TCP header; every frame leaves unmodified with
 * TC_ACT_UNSPEC (== TCX_NEXT); wire bytes follow skb->wire_len (snapped
 * frames in replay, GSO segments). Also prints the per-frame cost of the stream
 * and probe paths next to an empty tc program's (a diagnostic, not a test).
 *
 * Needs root, and fails without it: a capture test that skips would hide a
 * runner that cannot load programs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "bpf/parse.h"
#include "bpf/pkt.h"
#include "capture/pkt.h"
#include "pkt.skel.h"
#include "tests/unit/frames.h"

enum { SPORT = 49152, DPORT = 40000, MSS = 1000, MAX_EVENTS = 64 };

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x0a, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x0a, 0x00, 0x02 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero4[4];
static const uint8_t ip_a[4] = { 198, 18, 0, 1 };
static const uint8_t ip_b[4] = { 198, 18, 0, 2 };

struct ctx {
	struct pkt_bpf *skel;
	struct ring_buffer *rb;
	struct pkt_event events[MAX_EVENTS];
	int nevents;
};

static int on_event(void *arg, void *data, size_t size)
{
	struct ctx *c = arg;

	assert_int_equal(size, sizeof(struct pkt_event));
	if (c->nevents < MAX_EVENTS)
		memcpy(&c->events[c->nevents++], data, sizeof(struct pkt_event));
	return 0;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	uint64_t bits = ~0ull; /* 49152-49215 is exactly word 768 */
	uint32_t word = 49152 / 64;

	if (!c)
		return -1;
	c->skel = pkt_bpf__open_and_load();
	if (!c->skel) {
		fprintf(stderr, "pkt.bpf.o failed to load (%s): run the tests as root\n",
			strerror(errno));
		free(c);
		return -1;
	}
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.ports), &word, &bits, BPF_ANY))
		return -1;
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_event, c, NULL);
	if (!c->rb)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	ring_buffer__free(c->rb);
	pkt_bpf__destroy(c->skel);
	free(c);
	return 0;
}

/* Runs one frame through ingress; the frame must come out untouched. */
static void run(struct ctx *c, const struct fb *f, int egress)
{
	uint8_t out[FB_CAP];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->buf, .data_size_in = (uint32_t)f->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int fd = bpf_program__fd(egress ? c->skel->progs.msc_egress : c->skel->progs.msc_ingress);

	assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
	assert_int_equal((int32_t)opts.retval, TC_ACT_UNSPEC);
	assert_int_equal(opts.data_size_out, f->len);
	assert_memory_equal(out, f->buf, f->len);
}

static void segment(struct fb *f, const uint8_t *smac, const uint8_t *dmac, const uint8_t *sip,
		    const uint8_t *dip, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		    uint8_t flags, size_t len)
{
	fb_init(f);
	fb_eth(f, dmac, smac, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(f, FB_IP_TCP, sip, dip, 0);
	fb_tcp(f, sport, dport, seq, ack, flags, 0);
	fb_payload(f, len);
	fb_done(f, 0);
	fb_pad(f, 60);
}

struct find {
	struct pkt_flow_key key;
	struct pkt_flow_stats st;
	int found;
};

static int find_flow(void *arg, const struct pkt_flow_key *k, const struct pkt_flow_stats *st)
{
	struct find *f = arg;

	if (!memcmp(k, &f->key, sizeof(*k))) {
		f->st = *st;
		f->found++;
	}
	return 0;
}

static struct pkt_flow_key flow_key(const uint8_t *sip, const uint8_t *dip, uint16_t sport,
				    uint16_t dport)
{
	/* BPF_PROG_TEST_RUN gives the skb the loopback device */
	struct pkt_flow_key k = { .ifindex = 1, .family = 4, .sport = sport, .dport = dport };

	memcpy(k.saddr, sip, 4);
	memcpy(k.daddr, dip, 4);
	return k;
}

/* The flow's counters as the agent reads them (pkt_flows__read): exactly
 * one entry per key, or -ENOENT. */
static int lookup(struct ctx *c, const uint8_t *sip, const uint8_t *dip, uint16_t sport,
		  uint16_t dport, struct pkt_flow_stats *st)
{
	struct find f = { .key = flow_key(sip, dip, sport, dport) };

	assert_int_equal(pkt_flows__read(bpf_map__fd(c->skel->maps.flows), find_flow, &f), 0);
	assert_true(f.found <= 1);
	if (!f.found)
		return -ENOENT;
	*st = f.st;
	return 0;
}

static void test_stream_counters_exact(void **state)
{
	struct ctx *c = *state;
	uint64_t packets = 0, payload = 0, wire = 0, ack_packets = 0, ack_wire = 0;
	uint32_t seq = 1000, order[] = { 0, 1, 2, 3, 4, 2, 5, 6, 7, 8, 9 };
	struct pkt_flow_stats st;
	struct fb f;

	/* handshake: SYN from the sender (client) is an open event */
	segment(&f, mac_b, mac_a, ip_b, ip_a, DPORT, SPORT, 0, 0, PKT_TCP_SYN, 0);
	run(c, &f, 0);
	ack_packets++;
	ack_wire += f.len;
	/* 10 segments of MSS, segment 2 sent twice (a retransmit) */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		segment(&f, mac_a, mac_b, ip_a, ip_b, SPORT, DPORT, seq + order[i] * MSS, 1,
			PKT_TCP_ACK, MSS);
		run(c, &f, 1);
		packets++;
		payload += MSS;
		wire += f.len;
		/* the receiver's ACK */
		segment(&f, mac_b, mac_a, ip_b, ip_a, DPORT, SPORT, 1, seq + (order[i] + 1) * MSS,
			PKT_TCP_ACK, 0);
		run(c, &f, 0);
		ack_packets++;
		ack_wire += f.len;
	}
	/* a keep-alive: one byte below the highest end, not a retransmit */
	segment(&f, mac_a, mac_b, ip_a, ip_b, SPORT, DPORT, seq + 10 * MSS - 1, 1, PKT_TCP_ACK, 1);
	run(c, &f, 1);
	packets++;
	payload += 1;
	wire += f.len;
	/* FIN */
	segment(&f, mac_a, mac_b, ip_a, ip_b, SPORT, DPORT, seq + 10 * MSS, 1,
		PKT_TCP_FIN | PKT_TCP_ACK, 0);
	run(c, &f, 1);
	packets++;
	wire += f.len;

	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT, &st), 0);
	assert_int_equal(st.packets, packets);
	assert_int_equal(st.payload_bytes, payload);
	assert_int_equal(st.wire_bytes, wire);
	assert_int_equal(st.ooo_segments, 1);
	assert_int_equal(st.ooo_bytes, MSS);
	assert_int_equal(st.dir_seen, 1 << PKT_DIR_EGRESS);
	assert_int_equal(lookup(c, ip_b, ip_a, DPORT, SPORT, &st), 0);
	assert_int_equal(st.packets, ack_packets);
	assert_int_equal(st.payload_bytes, 0);
	assert_int_equal(st.wire_bytes, ack_wire);
	assert_int_equal(st.ooo_segments, 0);

	/* events: open (SYN), samples, close (FIN); every stream event is
	 * cut after the TCP header: guest memory never leaves the kernel */
	c->nevents = 0;
	ring_buffer__consume(c->rb);
	assert_true(c->nevents >= 3);
	assert_int_equal(c->events[0].type, PKT_EV_FLOW_OPEN);
	assert_int_equal(c->events[c->nevents - 1].type, PKT_EV_FLOW_CLOSE);
	for (int i = 0; i < c->nevents; i++) {
		assert_int_equal(c->events[i].cap_len, 14 + 20 + 20);
		assert_true(c->events[i].wire_len >= c->events[i].cap_len);
		assert_true(c->events[i].ts_tai_ns > 0);
	}
	/* the first data segment is sampled (FIRST) */
	assert_int_equal(c->events[1].type, PKT_EV_SAMPLE);
	assert_true(c->events[1].reason & PKT_SAMPLE_FIRST);
}

static void test_control_frames_are_events(void **state)
{
	struct ctx *c = *state;
	struct fb rarp, echo, other;

	fb_init(&rarp);
	fb_eth(&rarp, bcast, mac_a, FB_ETH_RARP, NULL, 0);
	fb_arp(&rarp, 3, mac_a, zero4, mac_a, zero4);
	fb_pad(&rarp, 60);
	fb_init(&echo);
	fb_eth(&echo, mac_a, mac_b, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(&echo, FB_IP_ICMP, ip_b, ip_a, 0);
	fb_icmp_echo(&echo, 8, 7, 1);
	fb_payload(&echo, 200); /* longer than an event's head */
	fb_done(&echo, 0);
	/* TCP outside the port set: counted nowhere, no event */
	segment(&other, mac_a, mac_b, ip_a, ip_b, 22, 40000, 1, 1, PKT_TCP_ACK, 100);

	c->nevents = 0;
	ring_buffer__consume(c->rb);
	c->nevents = 0;
	run(c, &rarp, 0);
	run(c, &echo, 1);
	run(c, &other, 0);
	ring_buffer__consume(c->rb);
	assert_int_equal(c->nevents, 2);
	assert_int_equal(c->events[0].type, PKT_EV_GUEST);
	assert_int_equal(c->events[0].dir, PKT_DIR_INGRESS);
	assert_int_equal(c->events[0].cap_len, rarp.len);
	assert_memory_equal(c->events[0].frame, rarp.buf, rarp.len);
	assert_int_equal(c->events[1].type, PKT_EV_GUEST);
	assert_int_equal(c->events[1].dir, PKT_DIR_EGRESS);
	assert_int_equal(c->events[1].cap_len, PKT_HEAD_MAX);
	assert_int_equal(c->events[1].wire_len, echo.len);
	assert_memory_equal(c->events[1].frame, echo.buf, PKT_HEAD_MAX);
}

/* Runs one frame with a context: its wire length and GSO segment count. */
static void run_ctx(struct ctx *c, const struct fb *f, uint32_t wire_len, uint32_t gso_segs)
{
	struct __sk_buff skb = { .wire_len = wire_len, .gso_segs = gso_segs };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->buf, .data_size_in = (uint32_t)f->len,
		    .ctx_in = &skb, .ctx_size_in = sizeof(skb), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.msc_ingress),
						&opts), 0);
	assert_int_equal((int32_t)opts.retval, TC_ACT_UNSPEC);
}

/*
 * Wire bytes come from skb->wire_len (qdisc_skb_cb's pkt_len), not from the
 * bytes the program can read: replay gives a snapped frame its original
 * length there, and the live egress path has counted a GSO skb's segment
 * headers in it already. At ingress (wire_len == len) a GRO skb gets its
 * other segments' headers added. Payload always comes from the IP length.
 */
static void test_wire_length_from_context(void **state)
{
	struct ctx *c = *state;
	enum { HDRS = 14 + 20 + 20, CUT = 1400, SEGS = 3 };
	struct pkt_flow_stats st;
	struct fb f;

	/* a 1448-byte segment of which only the headers were captured */
	fb_init(&f);
	fb_eth(&f, mac_b, mac_a, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(&f, FB_IP_TCP, ip_a, ip_b, 0);
	fb_tcp(&f, SPORT, DPORT + 7, 1, 1, PKT_TCP_ACK, 0);
	fb_payload(&f, 48);
	fb_done(&f, CUT);
	run_ctx(c, &f, (uint32_t)f.len + CUT, 0);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 7, &st), 0);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.payload_bytes, 48 + CUT);
	assert_int_equal(st.wire_bytes, f.len + CUT);

	/* a GRO skb of 3 segments at ingress: wire_len is skb->len */
	fb_init(&f);
	fb_eth(&f, mac_b, mac_a, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(&f, FB_IP_TCP, ip_a, ip_b, 0);
	fb_tcp(&f, SPORT, DPORT + 8, 1, 1, PKT_TCP_ACK, 0);
	fb_payload(&f, SEGS * 100);
	fb_done(&f, 0);
	run_ctx(c, &f, (uint32_t)f.len, SEGS);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 8, &st), 0);
	assert_int_equal(st.packets, SEGS);
	assert_int_equal(st.payload_bytes, SEGS * 100);
	assert_int_equal(st.wire_bytes, f.len + (SEGS - 1) * HDRS);

	/* the same at egress: the stack already counted the headers */
	run_ctx(c, &f, (uint32_t)f.len + (SEGS - 1) * HDRS, SEGS);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 8, &st), 0);
	assert_int_equal(st.packets, 2 * SEGS);
	assert_int_equal(st.wire_bytes, 2 * (f.len + (SEGS - 1) * HDRS));
}

static uint64_t flows_full(struct ctx *c)
{
	int ncpus = libbpf_num_possible_cpus();
	struct pkt_if_stats per[ncpus > 0 ? ncpus : 1];
	uint32_t slot = 0;
	uint64_t n = 0;

	assert_true(ncpus > 0);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.if_stats), &slot, per), 0);
	for (int i = 0; i < ncpus; i++)
		n += per[i].flows_full;
	return n;
}

/* Puts another flow's READY slot (or a BUSY one) at index i of the table. */
static void occupy(struct ctx *c, uint32_t i, uint32_t state, uint16_t sport)
{
	struct pkt_flow_slot s = { .state = state, .key = flow_key(ip_b, ip_b, sport, 1) };

	s.stats.packets = 1000;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(c->skel->maps.flows), &i, &s, BPF_ANY),
			 0);
}

/*
 * The flow table is open addressing over an array (bpf/pkt.h): a key whose
 * home slot holds another flow, or one a CPU is still filling, lives in the
 * next free slot of its probe window and keeps its own exact counters; with
 * the whole window taken the segment is counted in flows_full, never in
 * another flow's slot.
 */
static void test_flow_table_collisions(void **state)
{
	struct ctx *c = *state;
	struct pkt_flow_key k = flow_key(ip_a, ip_b, SPORT, DPORT + 20);
	uint32_t home = pkt_flow_home(&k);
	struct pkt_flow_stats st;
	uint64_t full;
	struct fb f;

	occupy(c, home, PKT_SLOT_READY, 1);
	occupy(c, (home + 1) & (PKT_MAX_FLOWS - 1), PKT_SLOT_BUSY, 2);
	segment(&f, mac_a, mac_b, ip_a, ip_b, SPORT, DPORT + 20, 1, 1, PKT_TCP_ACK, 100);
	run(c, &f, 0);
	run(c, &f, 0);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 20, &st), 0);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.payload_bytes, 200);
	assert_int_equal(lookup(c, ip_b, ip_b, 1, 1, &st), 0);
	assert_int_equal(st.packets, 1000); /* the other flow untouched */

	/* a key whose whole probe window is taken */
	k = flow_key(ip_a, ip_b, SPORT, DPORT + 21);
	home = pkt_flow_home(&k);
	for (uint32_t i = 0; i < PKT_FLOW_PROBES; i++)
		occupy(c, (home + i) & (PKT_MAX_FLOWS - 1), PKT_SLOT_READY, (uint16_t)(100 + i));
	full = flows_full(c);
	segment(&f, mac_a, mac_b, ip_a, ip_b, SPORT, DPORT + 21, 1, 1, PKT_TCP_ACK, 100);
	run(c, &f, 0);
	assert_int_equal(flows_full(c), full + 1);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 21, &st), -ENOENT);
	for (uint32_t i = 0; i < PKT_FLOW_PROBES; i++) {
		assert_int_equal(lookup(c, ip_b, ip_b, (uint16_t)(100 + i), 1, &st), 0);
		assert_int_equal(st.packets, 1000);
	}
}

/* Two CPUs creating one flow at once may each claim a slot: the reader
 * reports the flow once, its counters summed. */
static void test_flow_slots_merged(void **state)
{
	struct ctx *c = *state;
	struct pkt_flow_key k = flow_key(ip_a, ip_b, SPORT, DPORT + 30);
	struct pkt_flow_slot a = { .state = PKT_SLOT_READY, .key = k }, b = a;
	uint32_t i = pkt_flow_home(&k), j = (i + 3) & (PKT_MAX_FLOWS - 1);
	int fd = bpf_map__fd(c->skel->maps.flows);
	struct pkt_flow_stats st;

	a.stats = (struct pkt_flow_stats){ .packets = 3, .payload_bytes = 30, .wire_bytes = 300,
					   .ooo_segments = 1, .first_tai_ns = 50,
					   .last_tai_ns = 90, .dir_seen = 1 };
	b.stats = (struct pkt_flow_stats){ .packets = 4, .payload_bytes = 40, .wire_bytes = 400,
					   .first_tai_ns = 40, .last_tai_ns = 70, .dir_seen = 2 };
	assert_int_equal(bpf_map_update_elem(fd, &i, &a, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(fd, &j, &b, BPF_ANY), 0);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 30, &st), 0);
	assert_int_equal(st.packets, 7);
	assert_int_equal(st.payload_bytes, 70);
	assert_int_equal(st.wire_bytes, 700);
	assert_int_equal(st.ooo_segments, 1);
	assert_int_equal(st.first_tai_ns, 40);
	assert_int_equal(st.last_tai_ns, 90);
	assert_int_equal(st.dir_seen, 3);
}

/*
 * An agent running for days frees the slots of ended flows (FIN or RST,
 * quiet since) and of flows quiet for long, and only those; a freed slot
 * reused by a new flow starts from zero even if a late add landed in it.
 */
static void test_ended_flows_evicted(void **state)
{
	struct ctx *c = *state;
	int fd = bpf_map__fd(c->skel->maps.flows), evicted;
	struct pkt_flow_key k = flow_key(ip_a, ip_b, SPORT, DPORT + 40);
	uint32_t home = pkt_flow_home(&k);
	struct pkt_flow_slot s = { .state = PKT_SLOT_READY };
	struct pkt_flow_stats st;
	struct fb f;

	/* an empty table: the earlier tests' flows out */
	for (uint32_t i = 0; i < PKT_MAX_FLOWS; i++)
		assert_int_equal(bpf_map_update_elem(fd, &i, &(struct pkt_flow_slot){ 0 }, BPF_ANY), 0);
	/* ended at t=100 (FIN), running (last 150), ended late (FIN at 300), quiet (last 10) */
	s.key = flow_key(ip_a, ip_b, SPORT, DPORT + 41);
	s.stats = (struct pkt_flow_stats){ .packets = 5, .last_tai_ns = 100,
					   .tcp_flags_seen = PKT_TCP_FIN | PKT_TCP_ACK };
	assert_int_equal(bpf_map_update_elem(fd, &(uint32_t){ 10 }, &s, BPF_ANY), 0);
	s.key = flow_key(ip_a, ip_b, SPORT, DPORT + 42);
	s.stats = (struct pkt_flow_stats){ .packets = 6, .last_tai_ns = 150,
					   .tcp_flags_seen = PKT_TCP_ACK };
	assert_int_equal(bpf_map_update_elem(fd, &(uint32_t){ 11 }, &s, BPF_ANY), 0);
	s.key = flow_key(ip_a, ip_b, SPORT, DPORT + 43);
	s.stats = (struct pkt_flow_stats){ .packets = 7, .last_tai_ns = 300,
					   .tcp_flags_seen = PKT_TCP_RST };
	assert_int_equal(bpf_map_update_elem(fd, &(uint32_t){ 12 }, &s, BPF_ANY), 0);
	s.key = flow_key(ip_a, ip_b, SPORT, DPORT + 44);
	s.stats = (struct pkt_flow_stats){ .packets = 8, .last_tai_ns = 10,
					   .tcp_flags_seen = PKT_TCP_ACK };
	assert_int_equal(bpf_map_update_elem(fd, &(uint32_t){ 13 }, &s, BPF_ANY), 0);
	assert_int_equal(pkt_flows__evict(fd, 200, 50, &evicted), 0);
	assert_int_equal(evicted, 2);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 41, &st), -ENOENT);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 42, &st), 0);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 43, &st), 0);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 44, &st), -ENOENT);

	/* a freed slot that took a late add (a CPU still held its pointer) */
	s = (struct pkt_flow_slot){ .state = PKT_SLOT_EMPTY };
	s.stats.packets = 99;
	s.stats.payload_bytes = 9900;
	assert_int_equal(bpf_map_update_elem(fd, &home, &s, BPF_ANY), 0);
	segment(&f, mac_a, mac_b, ip_a, ip_b, SPORT, DPORT + 40, 1, 1, PKT_TCP_ACK, 100);
	run(c, &f, 0);
	assert_int_equal(lookup(c, ip_a, ip_b, SPORT, DPORT + 40, &st), 0);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.payload_bytes, 100);
}

/* BPF_PROG_TEST_RUN's average over many runs: ns per frame. */
static uint32_t cost(int fd, const struct fb *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->buf, .data_size_in = (uint32_t)f->len,
		    .repeat = 50000);

	assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
	return opts.duration;
}

static void keep_min(uint32_t *best, uint32_t v)
{
	if (!*best || v < *best)
		*best = v;
}

/*
 * The cost of each path over an empty tc program, the best of 15 interleaved
 * rounds (a shared machine's noise only adds). The data segment is the same
 * frame repeated, so after the first run it takes the out-of-order branch
 * too: the stream path's worst case. Beside them, in the same run, one read
 * of the clock: every data segment is stamped (it may be the last before the
 * switchover pause, whose edge must be exact), a bare ACK is not, so the
 * data path is about the ACK path plus this read.
 */
static void test_cost_per_frame(void **state)
{
	struct ctx *c = *state;
	struct bpf_insn empty[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = TC_ACT_UNSPEC }, /* r0 = -1 */
		{ .code = 0x95 },                                      /* exit */
	};
	struct bpf_insn clock_only[] = {
		{ .code = 0x85, .imm = BPF_FUNC_ktime_get_tai_ns },    /* call */
		{ .code = 0xb7, .dst_reg = 0, .imm = TC_ACT_UNSPEC },
		{ .code = 0x95 },
	};
	int efd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "empty", "GPL", empty, 2, NULL);
	int tfd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "clock", "GPL", clock_only, 3, NULL);
	int fd = bpf_program__fd(c->skel->progs.msc_ingress);
	uint32_t e = 0, s = 0, a = 0, p = 0, t = 0;
	struct fb data, ack, echo;

	assert_true(efd >= 0);
	assert_true(tfd >= 0);
	segment(&data, mac_a, mac_b, ip_a, ip_b, SPORT, DPORT + 1, 5000, 1, PKT_TCP_ACK, 1448);
	segment(&ack, mac_b, mac_a, ip_b, ip_a, DPORT + 1, SPORT, 1, 6448, PKT_TCP_ACK, 0);
	fb_init(&echo);
	fb_eth(&echo, mac_a, mac_b, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(&echo, FB_IP_ICMP, ip_b, ip_a, 0);
	fb_icmp_echo(&echo, 8, 7, 1);
	fb_payload(&echo, 56);
	fb_done(&echo, 0);
	for (int round = 0; round < 15; round++) {
		keep_min(&e, cost(efd, &data));
		keep_min(&s, cost(fd, &data));
		keep_min(&a, cost(fd, &ack));
		keep_min(&p, cost(fd, &echo));
		keep_min(&t, cost(tfd, &data));
	}
	printf("# per frame: empty tc program %u ns; over it: stream data segment +%d ns, stream "
	       "ACK +%d ns, echo probe with its ring-buffer event +%d ns\n", e, (int)s - (int)e,
	       (int)a - (int)e, (int)p - (int)e);
	printf("# of which the clock: one bpf_ktime_get_tai_ns() alone +%d ns\n", (int)t - (int)e);
	close(tfd);
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_counters_exact),
		cmocka_unit_test(test_control_frames_are_events),
		cmocka_unit_test(test_wire_length_from_context),
		cmocka_unit_test(test_flow_table_collisions),
		cmocka_unit_test(test_ended_flows_evicted),
		cmocka_unit_test(test_flow_slots_merged),
		cmocka_unit_test(test_cost_per_frame),
	};

	/* The cost figure is a benchmark, not a test: it asserts no timing, so
	 * it runs only from `make bench` (tests/bench/bench.sh sets MSL_BPF_COST). */
	if (getenv("MSL_BPF_COST"))
		cmocka_set_test_filter("test_cost_per_frame");
	else
		cmocka_set_skip_filter("test_cost_per_frame");
	return cmocka_run_group_tests(tests, setup, teardown);
}
