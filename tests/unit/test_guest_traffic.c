/*
 * Unit tests of analysis/guest_conn.c and analysis/guest_traffic.c: the
 * guest's own flows across a switchover, with every figure planted.
 *
 * The story (ms from T0): the stream runs from 500, the guest pauses at 995
 * and resumes at 1200 (its first RARP). The client 198.18.0.10 keeps an echo
 * connection to the guest's port 7, opens HTTP connections to port 80, and
 * exchanges UDP with port 5353; a flow to another host is not the guest's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "analysis/guest_traffic.h"

#define T0 INT64_C(1700000000000000000)
#define MS INT64_C(1000000)

static const uint8_t CLIENT[4] = { 198, 18, 0, 10 }, GUEST[4] = { 198, 18, 0, 100 },
		     OTHER[4] = { 198, 18, 0, 55 };

struct seg {
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, len;
	uint8_t flags;
	bool zero_window;   /* advertises a zero window (every other: 64 KiB) */
};

static void feed(struct guest_conns *t, int input, int64_t ms, struct seg s, bool udp)
{
	struct pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.kind = udp ? PKT_KIND_UDP : PKT_KIND_TCP;
	m.l4_proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	m.flags = PKT_F_IPV4;
	memcpy(m.ip_src, s.src, 4);
	memcpy(m.ip_dst, s.dst, 4);
	m.sport = s.sport;
	m.dport = s.dport;
	m.tcp_seq = s.seq;
	m.tcp_flags = s.flags | (s.flags & PKT_TCP_SYN && s.src == GUEST ? PKT_TCP_ACK : 0);
	m.l4_payload_len = s.len;
	m.tcp_window = s.zero_window ? 0 : 65535;
	guest_conns__packet(t, input, T0 + ms * MS, &m);
}

#define C2G(port, seq, len, fl) ((struct seg){ CLIENT, GUEST, port, 0, seq, len, fl, false })
#define G2C(port, seq, len, fl) ((struct seg){ GUEST, CLIENT, 0, port, seq, len, fl, false })

static struct seg zero_window(struct seg s)
{
	s.zero_window = true;
	return s;
}

static struct seg to_port(struct seg s, uint16_t server)
{
	if (s.src == CLIENT)
		s.dport = server;
	else
		s.sport = server;
	return s;
}

/* Every flow of the story, in time order, at the prober (input 2); the
 * echo connection's segments also at the source NIC (input 0) until the
 * pause, so a sighting at two captures is neither progress nor a
 * retransmission twice. */
static struct guest_conns *story(void)
{
	struct guest_conns *t = guest_conns__new();
	const uint16_t echo = 50000, http2 = 50002, http3 = 50003, http4 = 50004;

	assert_non_null(t);
	/* a request answered before the stream: from its SYN (3 ms) */
	feed(t, 2, 100, to_port(C2G(http3, 1000, 0, PKT_TCP_SYN), 80), false);
	feed(t, 2, 101, to_port(G2C(http3, 5000, 0, PKT_TCP_SYN), 80), false);
	feed(t, 2, 102, to_port(C2G(http3, 1001, 100, PKT_TCP_ACK), 80), false);
	feed(t, 2, 103, to_port(G2C(http3, 5001, 500, PKT_TCP_ACK | PKT_TCP_FIN), 80), false);
	feed(t, 2, 104, to_port(C2G(http3, 1101, 0, PKT_TCP_ACK | PKT_TCP_FIN), 80), false);
	/* the echo connection, opened long before its first line */
	feed(t, 2, 200, to_port(C2G(echo, 100, 0, PKT_TCP_SYN), 7), false);
	feed(t, 2, 201, to_port(G2C(echo, 900, 0, PKT_TCP_SYN), 7), false);
	/* a flow between the client and another host */
	feed(t, 2, 600, (struct seg){ CLIENT, OTHER, 40000, 22, 1, 100, PKT_TCP_ACK, false }, false);
	feed(t, 2, 900, ((struct seg){ CLIENT, GUEST, 6000, 5353, 0, 40, 0, false }), true);
	/* line 1 answered in 1 ms (precopy), seen at the source NIC too */
	feed(t, 2, 990, to_port(C2G(echo, 101, 16, PKT_TCP_ACK), 7), false);
	feed(t, 0, 990, to_port(C2G(echo, 101, 16, PKT_TCP_ACK), 7), false);
	feed(t, 0, 991, to_port(G2C(echo, 901, 16, PKT_TCP_ACK), 7), false);
	feed(t, 2, 991, to_port(G2C(echo, 901, 16, PKT_TCP_ACK), 7), false);
	feed(t, 2, 1000, ((struct seg){ CLIENT, GUEST, 6000, 5353, 0, 40, 0, false }), true);
	/* line 2 sent as the guest paused: sent again at 1210 and 1410 */
	feed(t, 2, 1000, to_port(C2G(echo, 117, 16, PKT_TCP_ACK), 7), false);
	feed(t, 0, 1000, to_port(C2G(echo, 117, 16, PKT_TCP_ACK), 7), false);
	/* an HTTP connection opened in the pause: its SYN again after 1 s */
	feed(t, 2, 1100, to_port(C2G(http2, 7000, 0, PKT_TCP_SYN), 80), false);
	/* one never answered; its SYN's zero window is no zero window */
	feed(t, 2, 1150, zero_window(to_port(C2G(http4, 8000, 0, PKT_TCP_SYN), 80)), false);
	guest_conns__switch(t, T0 + 1200 * MS);
	feed(t, 2, 1210, to_port(C2G(echo, 117, 16, PKT_TCP_ACK), 7), false);
	feed(t, 2, 1300, ((struct seg){ CLIENT, GUEST, 6000, 5353, 0, 40, 0, false }), true);
	feed(t, 2, 1400, ((struct seg){ GUEST, CLIENT, 5353, 6000, 0, 40, 0, false }), true);
	feed(t, 2, 1410, to_port(C2G(echo, 117, 16, PKT_TCP_ACK), 7), false);
	feed(t, 2, 1411, to_port(G2C(echo, 917, 16, PKT_TCP_ACK), 7), false);
	/* the resumed guest, slow to read, closes its window: seen at the
	 * destination NIC and the prober, one advertisement */
	feed(t, 1, 1415, zero_window(to_port(G2C(echo, 933, 0, PKT_TCP_ACK), 7)), false);
	feed(t, 2, 1415, zero_window(to_port(G2C(echo, 933, 0, PKT_TCP_ACK), 7)), false);
	feed(t, 2, 1420, to_port(C2G(echo, 133, 16, PKT_TCP_ACK), 7), false);
	feed(t, 2, 1421, to_port(G2C(echo, 933, 16, PKT_TCP_ACK), 7), false);
	feed(t, 2, 2100, to_port(C2G(http2, 7000, 0, PKT_TCP_SYN), 80), false);
	feed(t, 2, 2101, to_port(G2C(http2, 9000, 0, PKT_TCP_SYN), 80), false);
	feed(t, 2, 2102, to_port(C2G(http2, 7001, 120, PKT_TCP_ACK), 80), false);
	feed(t, 2, 2103, to_port(G2C(http2, 9001, 700, PKT_TCP_ACK | PKT_TCP_FIN), 80), false);
	feed(t, 2, 2104, to_port(C2G(http2, 7121, 0, PKT_TCP_ACK | PKT_TCP_FIN), 80), false);
	guest_conns__finish(t, T0 + 3000 * MS);
	return t;
}

static struct traffic_scope scope(const struct guest_conns *t, int64_t sla_ms)
{
	struct traffic_scope s = {
		.conns = t, .window_lo = T0, .window_hi = T0 + 3000 * MS,
		.phases = phase_bounds_make(T0 + 500 * MS, T0 + 995 * MS, T0 + 1200 * MS, 0),
		.sla_ns = sla_ms * MS,
	};

	s.ip4.family = 4;
	memcpy(s.ip4.bytes, GUEST, 4);
	return s;
}

static const struct report_guest_flow *flow_on(const struct report_guest_traffic *t,
					       uint16_t server_port, uint16_t client_port)
{
	for (int k = 0; k < t->nlist; k++)
		if (t->list[k].server_port == server_port && t->list[k].client_port == client_port)
			return &t->list[k];
	fail_msg("no flow to port %u from %u", server_port, client_port);
	return NULL;
}

/* The flows open across the switchover, their stalls, retransmissions,
 * backoff and fate; the worst first. */
static void test_flows_across_the_switchover(void **state)
{
	struct guest_conns *t = story();
	struct traffic_scope s = scope(t, 0);
	struct report_migration rm;
	const struct report_guest_flow *f;

	(void)state;
	memset(&rm, 0, sizeof(rm));
	assert_int_equal(guest_traffic_fill(&s, &rm), 0);
	/* echo, HTTP 2 and 4, UDP: not HTTP 3 (closed before), not the other host */
	assert_int_equal(rm.traffic.flows, 4);
	assert_int_equal(rm.traffic.nlist, 4);
	assert_int_equal(rm.traffic.list[0].client_port, 50002);

	f = flow_on(&rm.traffic, 80, 50002);
	assert_string_equal(f->proto, "tcp");
	assert_string_equal(f->server, "198.18.0.100");
	assert_true(f->guest_is_server);
	assert_true(f->stall_to_guest_ns.set);
	assert_int_equal(f->stall_to_guest_ns.v, 1002 * MS); /* SYN 1100 to data 2102 */
	assert_false(f->stall_from_guest_ns.set);           /* nothing before the resume */
	assert_int_equal(f->retransmitted_segments, 1);
	assert_int_equal(f->nbackoff, 1);
	assert_int_equal(f->backoff_ns[0], 1000 * MS);
	assert_true(f->survived);

	f = flow_on(&rm.traffic, 7, 50000);
	assert_int_equal(f->stall_to_guest_ns.v, 420 * MS);   /* new data 1000 to 1420 */
	assert_int_equal(f->stall_from_guest_ns.v, 420 * MS); /* 991 to 1411 */
	assert_int_equal(f->stall_start_ns.v, T0 + 991 * MS);
	assert_int_equal(f->retransmitted_segments, 2); /* not 4: two captures saw line 1 */
	assert_int_equal(f->nbackoff, 2);
	assert_int_equal(f->backoff_ns[0], 210 * MS);
	assert_int_equal(f->backoff_ns[1], 200 * MS);
	assert_int_equal(f->zero_windows_from_guest, 1); /* not 2: two captures saw it */
	assert_int_equal(f->zero_windows_to_guest, 0);
	assert_false(f->reset);
	assert_true(f->survived);

	f = flow_on(&rm.traffic, 5353, 6000);
	assert_string_equal(f->proto, "udp");
	assert_int_equal(f->stall_to_guest_ns.v, 300 * MS);
	assert_true(f->survived);

	f = flow_on(&rm.traffic, 80, 50004);
	assert_int_equal(f->zero_windows_to_guest, 0); /* a SYN's window is not one */
	assert_false(f->stall_to_guest_ns.set);
	assert_false(f->survived);

	/* stalls of the three that had one: 300, 420, 1002 ms */
	assert_int_equal(rm.traffic.stall_p50_ns.v, 420 * MS);
	assert_int_equal(rm.traffic.stall_max_ns.v, 1002 * MS);
	assert_int_equal(rm.traffic.stalled, 1);   /* at least 1 s */
	assert_int_equal(rm.traffic.survived, 3);
	assert_int_equal(rm.traffic.zero_window, 1);
	free(rm.traffic.list);
	guest_conns__free(t);
}

/* Response times by the phase each request began in, the SLA's share. */
static void test_responses_by_phase(void **state)
{
	struct guest_conns *t = story();
	struct traffic_scope s = scope(t, 500);
	struct report_migration rm;
	const struct report_responses *r = rm.traffic.responses;

	(void)state;
	memset(&rm, 0, sizeof(rm));
	assert_int_equal(guest_traffic_fill(&s, &rm), 0);
	/* HTTP 3 from its SYN at 100 */
	assert_true(r[PHASE_BEFORE].set);
	assert_int_equal(r[PHASE_BEFORE].requests, 1);
	assert_int_equal(r[PHASE_BEFORE].p50_ns.v, 3 * MS);
	/* the echo's first line, from its data: the connection opened long before */
	assert_int_equal(r[PHASE_PRECOPY].requests, 1);
	assert_int_equal(r[PHASE_PRECOPY].p99_ns.v, 1 * MS);
	/* line 2 (411 ms), HTTP 2 from its first SYN (1003 ms), HTTP 4 failed */
	assert_int_equal(r[PHASE_PAUSE].requests, 3);
	assert_int_equal(r[PHASE_PAUSE].failed, 1);
	assert_int_equal(r[PHASE_PAUSE].p50_ns.v, 411 * MS);
	assert_int_equal(r[PHASE_PAUSE].p99_ns.v, 1003 * MS);
	assert_int_equal(r[PHASE_PAUSE].over_sla, 2);
	assert_false(r[PHASE_POSTCOPY].set);
	assert_int_equal(r[PHASE_AFTER].requests, 1);
	assert_int_equal(r[PHASE_AFTER].over_sla, 0);
	assert_int_equal(rm.traffic.sla_ns.v, 500 * MS);
	/* with the SLA at 500 ms, the 1 s stall is still the one stalled flow */
	assert_int_equal(rm.traffic.stalled, 1);
	free(rm.traffic.list);
	guest_conns__free(t);
}

/* A guest whose address is unknown, or a window without its flows: none. */
static void test_not_the_guests(void **state)
{
	struct guest_conns *t = story();
	struct traffic_scope s = scope(t, 0);
	struct report_migration rm;

	(void)state;
	memset(&rm, 0, sizeof(rm));
	s.window_lo = T0 + 5000 * MS;
	s.window_hi = T0 + 6000 * MS;
	assert_int_equal(guest_traffic_fill(&s, &rm), 0);
	assert_int_equal(rm.traffic.flows, 0);
	assert_false(rm.traffic.responses[PHASE_PAUSE].set);
	s = scope(t, 0);
	s.ip4.family = 0;
	assert_int_equal(guest_traffic_fill(&s, &rm), 0);
	assert_int_equal(rm.traffic.flows, 0);
	assert_null(rm.traffic.list);
	guest_conns__free(t);
}

/* Two connections whose requests interleave: each answer closes its own
 * connection's request. */
static void test_interleaved_requests(void **state)
{
	struct guest_conns *t = guest_conns__new();
	struct traffic_scope s = scope(t, 0);
	struct report_migration rm;
	const uint16_t a = 51000, b = 51001;

	(void)state;
	assert_non_null(t);
	memset(&rm, 0, sizeof(rm));
	feed(t, 2, 600, to_port(C2G(a, 10, 20, PKT_TCP_ACK), 7), false);
	feed(t, 2, 601, to_port(C2G(b, 50, 20, PKT_TCP_ACK), 7), false);
	feed(t, 2, 605, to_port(G2C(a, 90, 20, PKT_TCP_ACK), 7), false);  /* a: 5 ms */
	feed(t, 2, 606, to_port(C2G(a, 30, 20, PKT_TCP_ACK), 7), false);
	feed(t, 2, 621, to_port(G2C(b, 70, 20, PKT_TCP_ACK), 7), false);  /* b: 20 ms */
	feed(t, 2, 646, to_port(G2C(a, 110, 20, PKT_TCP_ACK), 7), false); /* a: 40 ms */
	guest_conns__finish(t, T0 + 700 * MS);
	assert_int_equal(guest_traffic_fill(&s, &rm), 0);
	assert_int_equal(rm.traffic.responses[PHASE_PRECOPY].requests, 3);
	assert_int_equal(rm.traffic.responses[PHASE_PRECOPY].p50_ns.v, 20 * MS);
	assert_int_equal(rm.traffic.responses[PHASE_PRECOPY].p99_ns.v, 40 * MS);
	free(rm.traffic.list);
	guest_conns__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flows_across_the_switchover),
		cmocka_unit_test(test_responses_by_phase),
		cmocka_unit_test(test_not_the_guests),
		cmocka_unit_test(test_interleaved_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
