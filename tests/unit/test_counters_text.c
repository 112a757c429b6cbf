/*
 * Unit tests of the counters' text format (analysis/counters_text.c): what
 * the agent writes is what the analyzer reads back, field for field, for
 * IPv4 and IPv6 flows, retransmits and iface lines; and the written text is
 * the documented grammar (analysis/capture_counters.h), so files of earlier
 * agents still read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/capture_counters.h"

static char *block(const struct counter_iface *ifc, const struct counter_flow *f, int nf,
		   const struct counter_retrans *r, int nr)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(counters_write_iface(out, ifc), 0);
	for (int i = 0; i < nf; i++)
		assert_int_equal(counters_write_flow(out, &f[i]), 0);
	for (int i = 0; i < nr; i++)
		assert_int_equal(counters_write_retrans(out, &r[i]), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void same_ends(const struct ip_addr *a, const struct ip_addr *b)
{
	assert_int_equal(a->family, b->family);
	assert_memory_equal(a->bytes, b->bytes, a->family == 6 ? 16 : 4);
}

static void same_flow(const struct counter_flow *a, const struct counter_flow *b)
{
	same_ends(&a->src, &b->src);
	same_ends(&a->dst, &b->dst);
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dport, b->dport);
	assert_int_equal(a->packets, b->packets);
	assert_int_equal(a->payload_bytes, b->payload_bytes);
	assert_int_equal(a->wire_bytes, b->wire_bytes);
	assert_int_equal(a->ooo_segments, b->ooo_segments);
	assert_int_equal(a->ooo_bytes, b->ooo_bytes);
	assert_int_equal(a->first_ns, b->first_ns);
	assert_int_equal(a->last_ns, b->last_ns);
	assert_int_equal(a->last_data_ns, b->last_data_ns);
	assert_int_equal(a->tcp_flags, b->tcp_flags);
	assert_int_equal(a->dirs, b->dirs);
}

static void parse(char *text, struct capture_counters *cc)
{
	char err[256] = "";
	struct counters_where w = { .path = "t", .err = err, .errlen = sizeof(err) };

	memset(cc, 0, sizeof(*cc));
	if (counters_text__parse(text, cc, &w))
		fail_msg("parse: %s", err);
}

static void test_round_trip(void **state)
{
	struct counter_iface ifc = {
		.name = "eth1", .attach = "tcx", .ifindex = 7, .frames_in = 11, .frames_out = 12,
		.bytes_in = 13, .bytes_out = 14, .events = 15, .ring_drops = 16, .flows_full = 17,
		.heads_pulled = 18, .tai_offset_ns = 37000000000LL, .retrans_tracer = true,
	};
	struct counter_flow f[2] = {
		{ .sport = 40000, .dport = 49152, .packets = 1, .payload_bytes = 2, .wire_bytes = 3,
		  .ooo_segments = 4, .ooo_bytes = 5, .first_ns = 1700000000123456789ULL,
		  .last_ns = 1700000001000000000ULL, .last_data_ns = 1700000000999999999ULL,
		  .tcp_flags = 0x1b, .dirs = COUNTER_DIR_IN | COUNTER_DIR_OUT },
		{ .sport = 49152, .dport = 40000, .packets = 9007199254740992ULL, /* 2^53 */
		  .payload_bytes = 0, .dirs = COUNTER_DIR_OUT },
	};
	struct counter_retrans r = { .sport = 40000, .dport = 49152, .segments = 222,
				     .bytes = 319368, .calls = 230 };
	struct capture_counters *cc = malloc(sizeof(*cc));
	char *text;

	(void)state;
	assert_non_null(cc);
	assert_int_equal(ip_parse("198.18.0.1", &f[0].src), 0);
	assert_int_equal(ip_parse("198.18.0.2", &f[0].dst), 0);
	assert_int_equal(ip_parse("2001:db8::2", &f[1].src), 0);
	assert_int_equal(ip_parse("2001:db8::1", &f[1].dst), 0);
	r.src = f[0].src;
	r.dst = f[0].dst;
	text = block(&ifc, f, 2, &r, 1);
	parse(text, cc);
	assert_true(cc->present);
	assert_int_equal(cc->nifaces, 1);
	assert_int_equal(cc->events, 15);
	assert_int_equal(cc->ring_drops, 16);
	assert_int_equal(cc->flows_full, 17);
	assert_true(cc->retrans_tracer);
	assert_int_equal(cc->nflows, 2);
	for (int i = 0; i < 2; i++)
		same_flow(&cc->flows[i], &f[i]);
	assert_int_equal(cc->nretrans, 1);
	same_ends(&cc->retrans[0].src, &r.src);
	same_ends(&cc->retrans[0].dst, &r.dst);
	assert_int_equal(cc->retrans[0].sport, r.sport);
	assert_int_equal(cc->retrans[0].dport, r.dport);
	assert_int_equal(cc->retrans[0].segments, r.segments);
	assert_int_equal(cc->retrans[0].bytes, r.bytes);
	assert_int_equal(cc->retrans[0].calls, r.calls);
	free(text);
	free(cc);
}

/* The grammar of capture_counters.h, to the byte: earlier agents' files and
 * other readers (Wireshark shows the comment) rely on it. */
static void test_grammar(void **state)
{
	struct counter_iface ifc = { .name = "eth0", .attach = "tc", .ifindex = 2 };
	struct counter_flow f = { .sport = 1, .dport = 2, .packets = 3, .dirs = COUNTER_DIR_IN };
	struct counter_retrans r = { .sport = 1, .dport = 2, .segments = 4, .bytes = 5, .calls = 6 };
	char *text;

	(void)state;
	assert_int_equal(ip_parse("10.0.0.1", &f.src), 0);
	assert_int_equal(ip_parse("10.0.0.2", &f.dst), 0);
	r.src = f.src;
	r.dst = f.dst;
	text = block(&ifc, &f, 1, &r, 1);
	assert_string_equal(text,
		"migscope-counters v1\n"
		"iface name=eth0 ifindex=2 attach=tc frames_in=0 frames_out=0 bytes_in=0 "
		"bytes_out=0 events=0 ring_drops=0 flows_full=0 heads_pulled=0 tai_offset_ns=0 "
		"retrans_tracer=no\n"
		"flow src=10.0.0.1 sport=1 dst=10.0.0.2 dport=2 packets=3 payload_bytes=0 "
		"wire_bytes=0 ooo_segments=0 ooo_bytes=0 first_ns=0 last_ns=0 last_data_ns=0 "
		"tcp_flags=0x00 dirs=in\n"
		"retransmits src=10.0.0.1 sport=1 dst=10.0.0.2 dport=2 segments=4 bytes=5 calls=6\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_grammar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
