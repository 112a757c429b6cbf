/*
 * Unit tests of analysis/modes.c: a migration's mode and its postcopy
 * figures from the streams the flow table hands over. The destination's page
 * requests on the return path (QEMU's REQ_PAGES: be16 type 4, be16 length
 * 12, be64 address, be32 length) are timed where they leave, at the
 * destination NIC, whatever the order of the captures; the source NIC sees
 * them a link later.
 *
 * Segments are given as the classifier would describe them (a struct
 * pkt_meta filled by hand), as in test_flows.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/flows.h"
#include "analysis/modes.h"

#define T0 INT64_C(1700000000000000000)
#define US INT64_C(1000)
#define MS INT64_C(1000000)
#define LINK (40 * US) /* NIC to NIC */

enum {
	HDR = 66,
	MSS = 1448,
	SRC_PORT = 50000,
	MIG_PORT = 49152,
	ISS_C = 1000,
	ISS_S = 500000,
	PAGES_BEFORE = 100, /* segments before the resume */
	PAGES_AFTER = 60,   /* and after it: 86880 bytes, past POSTCOPY_MIN_BYTES */
	REQUESTS = 3,
};

static const uint8_t ip_src[4] = { 10, 0, 0, 1 };
static const uint8_t ip_dst[4] = { 10, 0, 0, 2 };

struct capture_pair {
	int src, dst; /* which input each NIC's capture is, -1: not captured */
};

static struct pkt_meta tcp(bool from_src, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.flags = PKT_F_IPV4;
	m.kind = PKT_KIND_TCP;
	m.l4_proto = 6;
	m.eth_proto = PARSE_ETH_P_IPV4;
	memcpy(m.ip_src, from_src ? ip_src : ip_dst, 4);
	memcpy(m.ip_dst, from_src ? ip_dst : ip_src, 4);
	m.sport = from_src ? SRC_PORT : MIG_PORT;
	m.dport = from_src ? MIG_PORT : SRC_PORT;
	m.tcp_seq = seq;
	m.tcp_ack = ack;
	m.tcp_flags = flags;
	m.payload_off = HDR;
	m.l4_payload_len = len;
	return m;
}

/* One segment as both NICs saw it: where it left at ts, where it arrived a
 * link later. */
static void both(struct flow_table *t, const struct capture_pair *cp, bool from_src, int64_t ts,
		 const struct pkt_meta *m, const uint8_t *payload, uint32_t cap)
{
	int out = from_src ? cp->src : cp->dst, in = from_src ? cp->dst : cp->src;

	if (out >= 0)
		flow_table__packet(t, out, ts, HDR + m->l4_payload_len, m, payload, cap);
	if (in >= 0)
		flow_table__packet(t, in, ts + LINK, HDR + m->l4_payload_len, m, payload, cap);
}

static void data(struct flow_table *t, const struct capture_pair *cp, int64_t ts, uint32_t k)
{
	static const uint8_t qevm[8] = { 'Q', 'E', 'V', 'M', 0, 0, 0, 3 };
	static const uint8_t zeros[64];
	struct pkt_meta m = tcp(true, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1 + k * MSS, ISS_S + 1, MSS);

	both(t, cp, true, ts, &m, k ? zeros : qevm, k ? sizeof(zeros) : sizeof(qevm));
}

/* A REQ_PAGES message from the destination, leaving its NIC at ts. */
static void request(struct flow_table *t, const struct capture_pair *cp, int64_t ts, uint32_t k)
{
	uint8_t msg[16] = { 0, 4, 0, 12 };
	struct pkt_meta m = tcp(false, PKT_TCP_ACK | PKT_TCP_PSH, ISS_S + 1 + k * sizeof(msg),
				ISS_C + 1, sizeof(msg));

	msg[9] = (uint8_t)(k + 1); /* the page's address */
	msg[13] = 0x10;            /* 4096 bytes */
	both(t, cp, false, ts, &m, msg, sizeof(msg));
}

/* A postcopy migration seen at both NICs, the captures as cp says; the
 * resume at `resume`. Returns the report's postcopy figures. */
static struct report_postcopy postcopy_seen(const struct capture_pair *cp, int64_t resume,
					    int64_t *req_at_dst)
{
	struct portset ports;
	struct flow_table *t;
	struct mig_stream *ms = NULL;
	struct report_migration rm;
	struct report_postcopy pc;
	struct pkt_meta syn = tcp(true, PKT_TCP_SYN, ISS_C, 0, 0);
	struct pkt_meta synack = tcp(false, PKT_TCP_SYN | PKT_TCP_ACK, ISS_S, ISS_C + 1, 0);
	struct pkt_meta ack = tcp(true, PKT_TCP_ACK, ISS_C + 1, ISS_S + 1, 0);
	int64_t ts = T0, last = 0;
	int n;

	assert_int_equal(portset_parse(&ports, PORTSET_DEFAULT), 0);
	t = flow_table__new(&ports, NULL, false);
	assert_non_null(t);
	both(t, cp, true, ts, &syn, NULL, 0);
	both(t, cp, false, ts + 100 * US, &synack, NULL, 0);
	both(t, cp, true, ts + 200 * US, &ack, NULL, 0);
	for (uint32_t k = 0; k < PAGES_BEFORE; k++)
		data(t, cp, ts + 1 * MS + k * 500 * US, k);
	/* the analyzer marks what the streams had sent at each RARP */
	flow_table__mark(t, resume);
	for (uint32_t k = 0; k < PAGES_AFTER; k++) {
		last = resume + 1 * MS + k * 10 * MS;
		data(t, cp, last, PAGES_BEFORE + k);
	}
	for (uint32_t k = 0; k < REQUESTS; k++) {
		req_at_dst[k] = resume + 2 * MS + k * 100 * MS;
		request(t, cp, req_at_dst[k], k);
	}
	n = flow_table__migrations(t, 2, &ms);
	assert_int_equal(n, 1);
	memset(&rm, 0, sizeof(rm));
	rm.stream.end_ns = opt_some(last); /* the source's last data, at its NIC */
	assert_int_equal(modes_fill(&(struct mode_scope){ .ms = &ms[0], .src = cp->src,
							  .dst = cp->dst, .resume_ns = resume,
							  .resume_basis = "rarp_at_dst" },
				    &rm),
			 0);
	assert_string_equal(rm.stream.mode, "postcopy");
	assert_true(rm.stream.postcopy_set);
	pc = rm.stream.postcopy;
	free(rm.stream.channels);
	flow_table__migrations_free(ms, n);
	flow_table__free(t);
	return pc;
}

/* The figures for these captures; the requests expected `delay` after they
 * left the destination NIC. */
static void check(const struct capture_pair *cp, int64_t delay)
{
	int64_t resume = T0 + 1000 * MS, req[REQUESTS];
	struct report_postcopy pc = postcopy_seen(cp, resume, req);

	assert_int_equal(pc.page_requests.v, REQUESTS);
	assert_true(pc.first_request_ns.set && pc.last_request_ns.set);
	assert_int_equal(pc.first_request_ns.v, req[0] + delay);
	assert_int_equal(pc.last_request_ns.v, req[REQUESTS - 1] + delay);
	assert_int_equal(pc.bytes_after_resume.v, PAGES_AFTER * MSS);
	assert_int_equal(pc.duration_ns.v, 1 * MS + (PAGES_AFTER - 1) * 10 * MS);
}

/* src=... dst=...: the destination's capture is the second one */
static void test_requests_timed_at_destination(void **state)
{
	(void)state;
	check(&(struct capture_pair){ .src = 0, .dst = 1 }, 0);
}

/* dst=... src=...: the same captures the other way round, the same figures
 * (the first capture's times were taken: right in this order by chance, a
 * link late in the order above) */
static void test_requests_whatever_the_order(void **state)
{
	(void)state;
	check(&(struct capture_pair){ .src = 1, .dst = 0 }, 0);
}

/* Without the destination's capture, the source NIC's times: a link late,
 * the only ones there are. */
static void test_requests_without_destination(void **state)
{
	(void)state;
	check(&(struct capture_pair){ .src = 0, .dst = -1 }, LINK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_timed_at_destination),
		cmocka_unit_test(test_requests_whatever_the_order),
		cmocka_unit_test(test_requests_without_destination),
	};

	return cmocka_run_group_tests_name("modes", tests, NULL, NULL);
}
