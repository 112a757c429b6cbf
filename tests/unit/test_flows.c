/*
 * Unit tests of analysis/flows.c: which TCP flows are migration streams, the
 * exact per-direction and per-capture counts, the sequence analysis
 * (retransmissions, ACK timing), the grouping into migrations and the caps;
 * the exact counters and retransmit counts of migscope capture files.
 *
 * Segments are given as the classifier would describe them (a struct
 * pkt_meta filled by hand), so each test states exactly the header fields
 * the table sees, with no frame building in between.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/flows.h"

#define T0 INT64_C(1700000000000000000) /* a multiple of the 100 ms rate bin */
#define US INT64_C(1000)
#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

enum {
	HDR = 66,          /* Ethernet + IPv4 + TCP with timestamps: wire overhead */
	MIG_PORT = 49152,  /* in PORTSET_DEFAULT */
	MIG_PORT2 = 49153,
	EPHEMERAL_IN_SET = 49160,
	CLIENT_PORT = 40000,
	OTHER_PORT = 4444, /* a migration on a port outside the set */
	SSH_PORT = 22,
	ISS_C = 1000,      /* initial sequence numbers */
	ISS_S = 500000,
};

struct ep {
	const uint8_t *ip;
	uint16_t port;
};

static const uint8_t ip_a[4] = { 10, 0, 0, 1 };
static const uint8_t ip_b[4] = { 10, 0, 0, 2 };
static const uint8_t ip_c[4] = { 10, 0, 0, 3 };
static const uint8_t ip_d[4] = { 10, 0, 0, 4 };

/* First payload bytes of the three kinds of migration stream. */
static const uint8_t qevm[] = { 'Q', 'E', 'V', 'M', 0, 0, 0, 3 };
static const uint8_t multifd[] = { 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1 };
static const uint8_t nbd[] = { 'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C', 0, 0 };

/* the usual pair: A opens the migration to B's listening port */
static const struct ep A = { ip_a, CLIENT_PORT };
static const struct ep B = { ip_b, MIG_PORT };

struct fixture {
	struct portset ports;
	struct flow_table *t;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || portset_parse(&fx->ports, PORTSET_DEFAULT))
		return -1;
	fx->t = flow_table__new(&fx->ports, NULL, false);
	*state = fx;
	return fx->t ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	flow_table__free(fx->t);
	free(fx);
	return 0;
}

static struct flow_table *table(void **state)
{
	return ((struct fixture *)*state)->t;
}

/* ---- segments -------------------------------------------------------- */

static struct pkt_meta tcp(const struct ep *from, const struct ep *to, uint8_t flags,
			   uint32_t seq, uint32_t ack, uint32_t len)
{
	struct pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.flags = PKT_F_IPV4;
	m.kind = PKT_KIND_TCP;
	m.l4_proto = 6;
	m.eth_proto = PARSE_ETH_P_IPV4;
	memcpy(m.ip_src, from->ip, 4);
	memcpy(m.ip_dst, to->ip, 4);
	m.sport = from->port;
	m.dport = to->port;
	m.tcp_seq = seq;
	m.tcp_ack = ack;
	m.tcp_flags = flags;
	m.payload_off = HDR;
	m.l4_payload_len = len;
	return m;
}

/* A segment with a neutral payload (no stream magic), captured up to 64
 * bytes like a small snaplen would: lengths must come from the meta. */
static bool feed(struct flow_table *t, int input, int64_t ts, const struct pkt_meta *m)
{
	static const uint8_t zeros[64];
	uint32_t cap = m->l4_payload_len < sizeof(zeros) ? m->l4_payload_len : sizeof(zeros);

	return flow_table__packet(t, input, ts, HDR + m->l4_payload_len, m, zeros, cap);
}

static bool seg(struct flow_table *t, int input, int64_t ts, const struct ep *from,
		const struct ep *to, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct pkt_meta m = tcp(from, to, flags, seq, ack, len);

	return feed(t, input, ts, &m);
}

/* SYN at ts, SYN-ACK 100 us later, the client's ACK 200 us after ts. */
static void handshake(struct flow_table *t, int input, int64_t ts, const struct ep *c,
		      const struct ep *s)
{
	seg(t, input, ts, c, s, PKT_TCP_SYN, ISS_C, 0, 0);
	seg(t, input, ts + 100 * US, s, c, PKT_TCP_SYN | PKT_TCP_ACK, ISS_S, ISS_C + 1, 0);
	seg(t, input, ts + 200 * US, c, s, PKT_TCP_ACK, ISS_C + 1, ISS_S + 1, 0);
}

/* Data from A to B at input 0; seq is relative to the first data byte. */
static void data_ab(struct flow_table *t, int64_t ts, uint32_t rel_seq, uint32_t len)
{
	seg(t, 0, ts, &A, &B, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1 + rel_seq, ISS_S + 1, len);
}

static void assert_ip4(const struct ip_addr *ip, const uint8_t v4[4])
{
	assert_int_equal(ip->family, 4);
	assert_memory_equal(ip->bytes, v4, 4);
}

/* flows.h leaves the order of a flow's endpoints open: look them up. */
static int ep_index(const struct mig_flow *f, const uint8_t *ip, size_t iplen, uint16_t port)
{
	for (int e = 0; e < 2; e++)
		if (f->ep[e].port == port && !memcmp(f->ep[e].ip.bytes, ip, iplen))
			return e;
	fail_msg("no endpoint with port %u", port);
	return -1;
}

static int idx(struct flow_table *t, int flow, const struct ep *e)
{
	return ep_index(flow_table__flow(t, flow), e->ip, 4, e->port);
}

/* What capture `input` saw `sender` send in flow `flow`. */
static const struct dir_stats *dir_of(struct flow_table *t, int flow, int input,
				      const struct ep *sender)
{
	return &flow_table__flow(t, flow)->view[input].dir[idx(t, flow, sender)];
}

/* ---- detection ------------------------------------------------------- */

static void test_syn_to_listed_port(void **state)
{
	struct flow_table *t = table(state);
	const struct mig_flow *f;
	const struct mig_group *g;

	handshake(t, 0, T0, &A, &B);
	assert_int_equal(flow_table__nflows(t), 1);
	f = flow_table__flow(t, 0);
	assert_int_equal(f->detect, DETECT_PORT);
	assert_int_equal(idx(t, 0, &A), !idx(t, 0, &B));
	assert_int_equal(f->ep[idx(t, 0, &A)].ip.family, 4);
	assert_int_equal(f->ep[idx(t, 0, &B)].ip.family, 4);
	assert_int_equal(f->client, idx(t, 0, &A));
	assert_int_equal(f->group, 0);
	assert_int_equal(f->ep_host[idx(t, 0, &A)], 0);
	assert_int_equal(f->ep_host[idx(t, 0, &B)], 1);
	assert_int_equal(flow_table__ngroups(t), 1);
	g = flow_table__group(t, 0);
	assert_ip4(&g->host[0], ip_a);
	assert_ip4(&g->host[1], ip_b);
	assert_true(g->client_known);
	assert_int_equal(g->detect, DETECT_PORT);
	assert_int_equal(g->nflows, 1);
	assert_null(flow_table__warning(t));
}

/* The server is on SSH; only the client's ephemeral port is in the set. */
static void test_syn_from_ephemeral_port_in_set(void **state)
{
	static const struct ep client = { ip_c, EPHEMERAL_IN_SET };
	static const struct ep server = { ip_d, SSH_PORT };
	struct flow_table *t = table(state);

	handshake(t, 0, T0, &client, &server);
	seg(t, 0, T0 + 1 * MS, &client, &server, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1, ISS_S + 1,
	    500);
	seg(t, 0, T0 + 2 * MS, &server, &client, PKT_TCP_ACK | PKT_TCP_PSH, ISS_S + 1, ISS_C + 501,
	    700);
	seg(t, 1, T0 + 3 * MS, &server, &client, PKT_TCP_ACK, ISS_S + 701, ISS_C + 501, 0);
	assert_int_equal(flow_table__nflows(t), 0);
	assert_int_equal(flow_table__ngroups(t), 0);
	assert_null(flow_table__warning(t));
}

/* Without the handshake either port may be the listening one. */
static void test_midstream_by_port(void **state)
{
	static const struct ep a2 = { ip_a, CLIENT_PORT + 1 };
	static const struct ep b2 = { ip_b, MIG_PORT2 };
	static const struct ep x = { ip_c, 5000 };
	static const struct ep y = { ip_d, 6000 };
	struct flow_table *t = table(state);
	const struct mig_flow *f;

	/* first sight: the listed port is the source */
	seg(t, 0, T0, &B, &A, PKT_TCP_ACK, ISS_S, ISS_C, 1448);
	/* first sight: the listed port is the destination */
	seg(t, 0, T0 + 1 * MS, &a2, &b2, PKT_TCP_ACK, 7, 9, 100);
	/* neither port listed */
	seg(t, 0, T0 + 2 * MS, &x, &y, PKT_TCP_ACK, 7, 9, 100);
	assert_int_equal(flow_table__nflows(t), 2);
	f = flow_table__flow(t, 0);
	assert_int_equal(f->detect, DETECT_PORT);
	assert_int_equal(f->client, -1);
	assert_int_equal(dir_of(t, 0, 0, &B)->payload_bytes, 1448);
	assert_int_equal(dir_of(t, 0, 0, &A)->packets, 0);
	f = flow_table__flow(t, 1);
	assert_int_equal(f->detect, DETECT_PORT);
	assert_int_equal(f->client, -1);
	assert_int_equal(dir_of(t, 1, 0, &a2)->payload_bytes, 100);
	assert_int_equal(idx(t, 1, &b2), !idx(t, 1, &a2));
	/* two listening ports: two destination QEMUs, two migrations */
	assert_int_equal(flow_table__ngroups(t), 2);
	assert_false(flow_table__group(t, 0)->client_known);
	assert_int_equal(flow_table__group(t, 0)->server_port, MIG_PORT);
	assert_int_equal(flow_table__group(t, 1)->server_port, MIG_PORT2);
}

/* The SYN was missed: the SYN-ACK still names the server, and the client. */
static void test_synack_without_syn(void **state)
{
	struct flow_table *t = table(state);
	const struct mig_flow *f;

	seg(t, 0, T0, &B, &A, PKT_TCP_SYN | PKT_TCP_ACK, ISS_S, ISS_C + 1, 0);
	seg(t, 0, T0 + 100 * US, &A, &B, PKT_TCP_ACK, ISS_C + 1, ISS_S + 1, 0);
	assert_int_equal(flow_table__nflows(t), 1);
	f = flow_table__flow(t, 0);
	assert_int_equal(f->client, idx(t, 0, &A));
	assert_int_equal(f->view[0].syn_ns, 0);
	assert_int_equal(f->view[0].synack_ns, T0);
	assert_int_equal(f->view[0].hs_ack_ns, T0 + 100 * US);
	assert_true(flow_table__group(t, 0)->client_known);
}

struct magic_case {
	const uint8_t *bytes;
	uint32_t cap;
	uint32_t detect;
};

static void test_magic_midstream(void **state)
{
	static const struct magic_case cases[] = {
		{ qevm, sizeof(qevm), DETECT_QEVM },
		{ multifd, sizeof(multifd), DETECT_MULTIFD },
		{ nbd, sizeof(nbd), DETECT_NBD },
		{ qevm, 3, 0 },    /* the capture kept too little to tell */
		{ nbd, 7, 0 },
		{ qevm + 1, 4, 0 }, /* the magic must start the payload */
	};
	struct flow_table *t = table(state);
	int nflows = 0;

	for (int i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		struct ep from = { ip_a, (uint16_t)(CLIENT_PORT + i) };
		struct ep to = { ip_b, (uint16_t)(OTHER_PORT + i) };
		struct pkt_meta m = tcp(&from, &to, PKT_TCP_ACK | PKT_TCP_PSH, 1, 1, 1000);

		flow_table__packet(t, 0, T0 + i * MS, HDR + 1000, &m, cases[i].bytes, cases[i].cap);
		if (!cases[i].detect) {
			assert_int_equal(flow_table__nflows(t), nflows);
			continue;
		}
		assert_int_equal(flow_table__nflows(t), ++nflows);
		assert_int_equal(flow_table__flow(t, nflows - 1)->detect, cases[i].detect);
		assert_int_equal(dir_of(t, nflows - 1, 0, &from)->payload_bytes, 1000);
		assert_int_equal(idx(t, nflows - 1, &to), !idx(t, nflows - 1, &from));
	}
	assert_int_equal(flow_table__ngroups(t), 1);
	assert_int_equal(flow_table__group(t, 0)->detect,
			 DETECT_QEVM | DETECT_MULTIFD | DETECT_NBD);
}

/* flows.h: a flow whose first payload bytes are "QEVM" is a migration stream,
 * whatever its port, also when its handshake was captured. */
static void test_magic_after_handshake_on_unlisted_port(void **state)
{
	static const struct ep server = { ip_b, OTHER_PORT };
	struct flow_table *t = table(state);
	struct pkt_meta m = tcp(&A, &server, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1, ISS_S + 1, 800);

	handshake(t, 0, T0, &A, &server);
	flow_table__packet(t, 0, T0 + 1 * MS, HDR + 800, &m, qevm, sizeof(qevm));
	assert_int_equal(flow_table__nflows(t), 1);
	assert_true(flow_table__flow(t, 0)->detect & DETECT_QEVM);
	assert_int_equal(dir_of(t, 0, 0, &A)->payload_bytes, 800);
}

/* The handshake ruled the flow out for its ports (only the client's port is
 * in the set), yet the stream magic still proves it a migration stream. */
static void test_magic_after_ruled_out_handshake(void **state)
{
	static const struct ep client = { ip_c, EPHEMERAL_IN_SET };
	static const struct ep server = { ip_d, OTHER_PORT };
	struct flow_table *t = table(state);
	struct pkt_meta m = tcp(&client, &server, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1, ISS_S + 1,
				 600);

	handshake(t, 0, T0, &client, &server);
	assert_int_equal(flow_table__nflows(t), 0);
	flow_table__packet(t, 0, T0 + 1 * MS, HDR + 600, &m, multifd, sizeof(multifd));
	assert_int_equal(flow_table__nflows(t), 1);
	assert_int_equal(flow_table__flow(t, 0)->detect, DETECT_MULTIFD);
	assert_int_equal(dir_of(t, 0, 0, &client)->payload_bytes, 600);
	assert_int_equal(dir_of(t, 0, 0, &server)->packets, 0);
}

/* A port-detected flow also records the magic of its first payload. */
static void test_magic_adds_to_port_detection(void **state)
{
	struct flow_table *t = table(state);
	struct pkt_meta m = tcp(&A, &B, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1, ISS_S + 1, 800);

	handshake(t, 0, T0, &A, &B);
	flow_table__packet(t, 0, T0 + 1 * MS, HDR + 800, &m, qevm, sizeof(qevm));
	assert_int_equal(flow_table__flow(t, 0)->detect, DETECT_PORT | DETECT_QEVM);
	assert_int_equal(flow_table__group(t, 0)->detect, DETECT_PORT | DETECT_QEVM);
}

/* A TLS ClientHello record (RFC 8446 5.1: handshake, legacy version 3.1). */
static const uint8_t client_hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc };

/* TLS on a migration port hides the magic: the flow says so. */
static void test_tls_on_migration_port(void **state)
{
	struct flow_table *t = table(state);
	struct pkt_meta m = tcp(&A, &B, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1, ISS_S + 1, 517);

	handshake(t, 0, T0, &A, &B);
	flow_table__packet(t, 0, T0 + 1 * MS, HDR + 517, &m, client_hello, sizeof(client_hello));
	assert_int_equal(flow_table__flow(t, 0)->detect, DETECT_PORT | DETECT_TLS);
	assert_int_equal(flow_table__group(t, 0)->detect, DETECT_PORT | DETECT_TLS);
}

/* A flow on a port found by the stream's shape (a proxy's, relaying the
 * migration over TLS) says it is TLS too: the shape's evidence named it
 * "TLS" in its warning while the stream's detection and features did not. */
static void test_tls_on_shaped_port(void **state)
{
	struct fixture *fx = *state;
	struct portset shaped = { 0 };
	const struct ep proxy = { ip_b, OTHER_PORT };
	struct pkt_meta m = tcp(&A, &proxy, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1, ISS_S + 1, 517);
	struct flow_table *t;

	portset_add(&shaped, OTHER_PORT);
	t = flow_table__new(&fx->ports, &shaped, false);
	assert_non_null(t);
	handshake(t, 0, T0, &A, &proxy);
	flow_table__packet(t, 0, T0 + 1 * MS, HDR + 517, &m, client_hello, sizeof(client_hello));
	assert_int_equal(flow_table__nflows(t), 1);
	assert_int_equal(flow_table__flow(t, 0)->detect, DETECT_PORT | DETECT_SHAPE | DETECT_TLS);
	assert_int_equal(flow_table__group(t, 0)->detect, DETECT_PORT | DETECT_SHAPE | DETECT_TLS);
	flow_table__free(t);
}

static void test_ipv6_flow(void **state)
{
	static const uint8_t v6a[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t v6b[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
	struct flow_table *t = table(state);
	struct pkt_meta m = tcp(&B, &A, PKT_TCP_SYN, ISS_S, 0, 0);
	const struct mig_flow *f;

	/* the client has the higher address this time */
	m.flags = PKT_F_IPV6;
	m.eth_proto = PARSE_ETH_P_IPV6;
	memcpy(m.ip_src, v6b, 16);
	memcpy(m.ip_dst, v6a, 16);
	m.sport = CLIENT_PORT;
	m.dport = MIG_PORT;
	feed(t, 0, T0, &m);
	assert_int_equal(flow_table__nflows(t), 1);
	f = flow_table__flow(t, 0);
	assert_int_equal(f->ep[0].ip.family, 6);
	assert_int_equal(f->ep[1].ip.family, 6);
	assert_int_equal(ep_index(f, v6a, 16, MIG_PORT), !ep_index(f, v6b, 16, CLIENT_PORT));
	assert_int_equal(f->client, ep_index(f, v6b, 16, CLIENT_PORT));
	assert_int_equal(flow_table__group(t, 0)->host[0].family, 6);
	assert_memory_equal(flow_table__group(t, 0)->host[0].bytes, v6b, 16);
}

/* flows.h: true for every frame of a migration stream, whatever it carries,
 * so the caller can leave all of them out of the guest's traffic. */
static void test_packet_tells_membership(void **state)
{
	static const struct ep client = { ip_c, 33000 };
	static const struct ep server = { ip_d, SSH_PORT };
	struct flow_table *t = table(state);

	assert_false(seg(t, 0, T0, &client, &server, PKT_TCP_SYN, ISS_C, 0, 0));
	assert_true(seg(t, 0, T0 + 1 * US, &A, &B, PKT_TCP_SYN, ISS_C, 0, 0));
	assert_true(seg(t, 0, T0 + 2 * US, &B, &A, PKT_TCP_SYN | PKT_TCP_ACK, ISS_S, ISS_C + 1, 0));
	assert_true(seg(t, 0, T0 + 3 * US, &A, &B, PKT_TCP_ACK, ISS_C + 1, ISS_S + 1, 0));
	assert_true(seg(t, 0, T0 + 4 * US, &A, &B, PKT_TCP_ACK, ISS_C + 1, ISS_S + 1, 1000));
	assert_true(seg(t, 0, T0 + 5 * US, &B, &A, PKT_TCP_ACK, ISS_S + 1, ISS_C + 1001, 0));
	assert_true(seg(t, 0, T0 + 6 * US, &A, &B, PKT_TCP_FIN | PKT_TCP_ACK, ISS_C + 1001,
			ISS_S + 1, 0));
	assert_false(seg(t, 0, T0 + 7 * US, &client, &server, PKT_TCP_ACK, ISS_C + 1, 1, 500));
}

/* ---- counts ---------------------------------------------------------- */

static void assert_dir(const struct dir_stats *d, uint64_t packets, uint64_t payload,
		       uint64_t wire)
{
	assert_int_equal(d->packets, packets);
	assert_int_equal(d->payload_bytes, payload);
	assert_int_equal(d->wire_bytes, wire);
}

/* Capture 1 is a second vantage: it sees the same segments 30 us later with a
 * 4-byte VLAN tag on the wire, and misses one data segment. */
static void test_counts_per_direction_and_input(void **state)
{
	static const uint32_t len[] = { 1448, 2896, 500 };
	struct flow_table *t = table(state);
	const struct mig_flow *f;
	const struct mig_group *g;
	uint32_t rel = 0;

	handshake(t, 0, T0, &A, &B);
	handshake(t, 1, T0 + 30 * US, &A, &B);
	for (int i = 0; i < 3; i++) {
		struct pkt_meta m = tcp(&A, &B, PKT_TCP_ACK, ISS_C + 1 + rel, ISS_S + 1, len[i]);
		int64_t ts = T0 + (i + 1) * MS;

		feed(t, 0, ts, &m);
		if (i != 1)
			flow_table__packet(t, 1, ts + 30 * US, HDR + 4 + len[i], &m, NULL, 0);
		rel += len[i];
	}
	seg(t, 0, T0 + 5 * MS, &B, &A, PKT_TCP_ACK, ISS_S + 1, ISS_C + 1 + rel, 0);
	seg(t, 0, T0 + 6 * MS, &B, &A, PKT_TCP_ACK | PKT_TCP_PSH, ISS_S + 1, ISS_C + 1 + rel, 100);
	seg(t, 0, T0 + 7 * MS, &A, &B, PKT_TCP_FIN | PKT_TCP_ACK, ISS_C + 1 + rel, ISS_S + 101, 0);

	f = flow_table__flow(t, 0);
	/* input 0: SYN + ACK + 3 data + FIN; SYN-ACK + ACK + reply */
	assert_dir(dir_of(t, 0, 0, &A), 6, 1448 + 2896 + 500, 6 * HDR + 1448 + 2896 + 500);
	assert_dir(dir_of(t, 0, 0, &B), 3, 100, 3 * HDR + 100);
	assert_int_equal(dir_of(t, 0, 0, &A)->first_ns, T0);
	assert_int_equal(dir_of(t, 0, 0, &A)->last_ns, T0 + 7 * MS);
	assert_int_equal(dir_of(t, 0, 0, &A)->first_data_ns, T0 + 1 * MS);
	assert_int_equal(dir_of(t, 0, 0, &A)->last_data_ns, T0 + 3 * MS);
	assert_int_equal(dir_of(t, 0, 0, &A)->fin_ns, T0 + 7 * MS);
	assert_int_equal(dir_of(t, 0, 0, &B)->fin_ns, 0);
	assert_int_equal(dir_of(t, 0, 0, &B)->first_data_ns, T0 + 6 * MS);
	assert_int_equal(dir_of(t, 0, 0, &A)->max_end_seq, ISS_C + 1 + rel);
	/* input 1: SYN + ACK + 2 data; SYN-ACK */
	assert_true(f->view[1].seen);
	assert_dir(dir_of(t, 0, 1, &A), 4, 1448 + 500, 2 * HDR + 2 * (HDR + 4) + 1448 + 500);
	assert_dir(dir_of(t, 0, 1, &B), 1, 0, HDR);
	assert_int_equal(dir_of(t, 0, 1, &A)->last_data_ns, T0 + 3 * MS + 30 * US);
	assert_false(f->view[2].seen);
	assert_dir(&f->view[2].dir[0], 0, 0, 0);
	assert_dir(&f->view[2].dir[1], 0, 0, 0);

	g = flow_table__group(t, 0);
	assert_int_equal(g->first_ns, T0);
	assert_int_equal(g->last_ns, T0 + 7 * MS);
	assert_int_equal(g->payload_seen[0], 2 * (1448 + 500) + 2896);
	assert_int_equal(g->payload_seen[1], 100);
	assert_int_equal(g->last_data_ns[0], T0 + 3 * MS + 30 * US);
	assert_int_equal(g->last_data_ns[1], T0 + 6 * MS);
}

/* ---- sequence analysis ----------------------------------------------- */

static const struct dir_stats *ab_stats(struct flow_table *t)
{
	return dir_of(t, 0, 0, &A);
}

static void assert_retx(struct flow_table *t, uint64_t segments, uint64_t bytes,
			uint32_t max_end)
{
	assert_int_equal(ab_stats(t)->retx_segments, segments);
	assert_int_equal(ab_stats(t)->retx_bytes, bytes);
	assert_int_equal(ab_stats(t)->max_end_seq, max_end);
}

static void test_retransmit_full_segment(void **state)
{
	struct flow_table *t = table(state);

	handshake(t, 0, T0, &A, &B);
	data_ab(t, T0 + 1 * MS, 0, 1000);
	data_ab(t, T0 + 2 * MS, 1000, 1000);
	assert_retx(t, 0, 0, ISS_C + 1 + 2000);
	data_ab(t, T0 + 3 * MS, 0, 1000);
	assert_retx(t, 1, 1000, ISS_C + 1 + 2000);
	/* a segment ending exactly at the highest end is still a retransmit */
	data_ab(t, T0 + 4 * MS, 1500, 500);
	assert_retx(t, 2, 1500, ISS_C + 1 + 2000);
	data_ab(t, T0 + 5 * MS, 2000, 1000);
	assert_retx(t, 2, 1500, ISS_C + 1 + 3000);
	assert_int_equal(ab_stats(t)->payload_bytes, 4500);
}

/* Starts below the highest end and reaches past it: counted whole, and the
 * new bytes move the highest end on. */
static void test_retransmit_partial_overlap(void **state)
{
	struct flow_table *t = table(state);

	handshake(t, 0, T0, &A, &B);
	data_ab(t, T0 + 1 * MS, 0, 1000);
	data_ab(t, T0 + 2 * MS, 900, 1000);
	assert_retx(t, 1, 1000, ISS_C + 1 + 1900);
	data_ab(t, T0 + 3 * MS, 1900, 100);
	assert_retx(t, 1, 1000, ISS_C + 1 + 2000);
}

static void test_keepalive_and_acks_not_retransmits(void **state)
{
	struct flow_table *t = table(state);

	handshake(t, 0, T0, &A, &B);
	data_ab(t, T0 + 1 * MS, 0, 1000);
	/* keep-alives: one byte or none, one below the highest end */
	data_ab(t, T0 + 2 * MS, 999, 1);
	data_ab(t, T0 + 3 * MS, 999, 0);
	/* pure ACKs, one with a stale sequence number */
	data_ab(t, T0 + 4 * MS, 1000, 0);
	data_ab(t, T0 + 5 * MS, 0, 0);
	assert_retx(t, 0, 0, ISS_C + 1 + 1000);
	assert_int_equal(ab_stats(t)->payload_bytes, 1001);
	assert_int_equal(ab_stats(t)->packets, 2 + 5);
	/* two bytes from one below the end are no keep-alive */
	data_ab(t, T0 + 6 * MS, 999, 2);
	assert_retx(t, 1, 2, ISS_C + 1 + 1001);
}

static void test_sequence_wraparound(void **state)
{
	struct flow_table *t = table(state);
	uint32_t seq = UINT32_MAX - 2999; /* 3000 bytes below 2^32 */

	for (int i = 0; i < 6; i++, seq += 1000)
		seg(t, 0, T0 + i * MS, &A, &B, PKT_TCP_ACK, seq, 1, 1000);
	assert_retx(t, 0, 0, 3000);
	/* a true retransmit of the last segment before the wrap still counts */
	seg(t, 0, T0 + 7 * MS, &A, &B, PKT_TCP_ACK, UINT32_MAX - 999, 1, 1000);
	assert_retx(t, 1, 1000, 3000);
	assert_int_equal(ab_stats(t)->payload_bytes, 7000);
}

/* ---- ACK timing and handshake ------------------------------------------ */

static void ack_ba(struct flow_table *t, int64_t ts, uint32_t rel_ack)
{
	seg(t, 0, ts, &B, &A, PKT_TCP_ACK, ISS_S + 1, ISS_C + 1 + rel_ack, 0);
}

static void test_min_ack_delay(void **state)
{
	struct flow_table *t = table(state);
	const struct flow_view *v;
	int a;

	handshake(t, 0, T0, &A, &B);
	v = &flow_table__flow(t, 0)->view[0];
	a = idx(t, 0, &A);
	data_ab(t, T0 + 1000 * US, 0, 100);
	ack_ba(t, T0 + 1200 * US, 100);
	assert_int_equal(v->min_ack_delay_ns[a], 200 * US);
	/* a slower ACK later does not raise the minimum */
	data_ab(t, T0 + 1300 * US, 100, 100);
	ack_ba(t, T0 + 1350 * US, 150); /* inside the segment: times nothing */
	assert_int_equal(v->min_ack_delay_ns[a], 200 * US);
	ack_ba(t, T0 + 1600 * US, 200);
	assert_int_equal(v->min_ack_delay_ns[a], 200 * US);
	/* a cumulative ACK times the segment it ends exactly */
	data_ab(t, T0 + 2000 * US, 200, 100);
	data_ab(t, T0 + 2010 * US, 300, 100);
	ack_ba(t, T0 + 2060 * US, 400);
	assert_int_equal(v->min_ack_delay_ns[a], 50 * US);
	/* a duplicate ACK much later changes nothing */
	ack_ba(t, T0 + 9000 * US, 400);
	assert_int_equal(v->min_ack_delay_ns[a], 50 * US);
	assert_int_equal(v->min_ack_delay_ns[!a], 0);
	assert_int_equal(v->mark_next[a], 4);
	assert_int_equal(v->marks[a][3].end_seq, ISS_C + 1 + 400);
	assert_int_equal(v->marks[a][3].ts_ns, T0 + 2010 * US);
	assert_int_equal(flow_table__flow(t, 0)->view[1].min_ack_delay_ns[a], 0);
}

static void test_handshake_times(void **state)
{
	struct flow_table *t = table(state);
	const struct flow_view *v;

	seg(t, 0, T0, &A, &B, PKT_TCP_SYN, ISS_C, 0, 0);
	seg(t, 0, T0 + 1 * SEC, &A, &B, PKT_TCP_SYN, ISS_C, 0, 0); /* SYN retransmitted */
	seg(t, 0, T0 + 1 * SEC + 80 * US, &B, &A, PKT_TCP_SYN | PKT_TCP_ACK, ISS_S, ISS_C + 1, 0);
	/* the server's own ACK does not complete the handshake */
	seg(t, 0, T0 + 1 * SEC + 90 * US, &B, &A, PKT_TCP_ACK, ISS_S + 1, ISS_C + 1, 0);
	seg(t, 0, T0 + 1 * SEC + 160 * US, &A, &B, PKT_TCP_ACK, ISS_C + 1, ISS_S + 1, 0);
	seg(t, 0, T0 + 1 * SEC + 170 * US, &A, &B, PKT_TCP_ACK, ISS_C + 1, ISS_S + 1, 10);
	/* capture 1 saw only the second half */
	seg(t, 1, T0 + 1 * SEC + 40 * US, &B, &A, PKT_TCP_SYN | PKT_TCP_ACK, ISS_S, ISS_C + 1, 0);
	seg(t, 1, T0 + 1 * SEC + 200 * US, &A, &B, PKT_TCP_ACK, ISS_C + 1, ISS_S + 1, 0);

	v = &flow_table__flow(t, 0)->view[0];
	assert_int_equal(v->syn_ns, T0);
	assert_int_equal(v->synack_ns, T0 + 1 * SEC + 80 * US);
	assert_int_equal(v->hs_ack_ns, T0 + 1 * SEC + 160 * US);
	v = &flow_table__flow(t, 0)->view[1];
	assert_int_equal(v->syn_ns, 0);
	assert_int_equal(v->synack_ns, T0 + 1 * SEC + 40 * US);
	assert_int_equal(v->hs_ack_ns, T0 + 1 * SEC + 200 * US);
}

/* ---- grouping -------------------------------------------------------- */

static void test_group_join_window(void **state)
{
	static const struct ep a2 = { ip_a, CLIENT_PORT + 1 };
	static const struct ep a3 = { ip_a, CLIENT_PORT + 2 };
	static const struct ep b2 = { ip_b, MIG_PORT }; /* a multifd channel: the same listener */
	struct flow_table *t = table(state);
	int64_t t1 = T0 + 200 * US + 2 * SEC; /* exactly 2 s after the last packet */
	int64_t t2 = t1 + 200 * US + 2 * SEC + 1;

	handshake(t, 0, T0, &A, &B);
	handshake(t, 0, t1, &a2, &b2);
	handshake(t, 0, t2, &a3, &B);
	assert_int_equal(flow_table__nflows(t), 3);
	assert_int_equal(flow_table__flow(t, 0)->group, 0);
	assert_int_equal(flow_table__flow(t, 1)->group, 0);
	assert_int_equal(flow_table__flow(t, 2)->group, 1);
	assert_int_equal(flow_table__ngroups(t), 2);
	assert_int_equal(flow_table__group(t, 0)->nflows, 2);
	assert_int_equal(flow_table__group(t, 0)->first_ns, T0);
	assert_int_equal(flow_table__group(t, 0)->last_ns, t1 + 200 * US);
	assert_int_equal(flow_table__group(t, 1)->nflows, 1);
	assert_int_equal(flow_table__group(t, 1)->first_ns, t2);
	assert_int_equal(flow_table__group(t, 1)->last_ns, t2 + 200 * US);
}

/* B migrates the guest back to A: same hosts, opposite direction. */
static void test_group_way_back(void **state)
{
	static const struct ep b_client = { ip_b, CLIENT_PORT + 1 };
	static const struct ep a_server = { ip_a, MIG_PORT };
	static const struct ep a3 = { ip_a, CLIENT_PORT + 2 };
	static const struct ep b3 = { ip_b, MIG_PORT };
	struct flow_table *t = table(state);
	const struct mig_group *g;

	handshake(t, 0, T0, &A, &B);
	handshake(t, 0, T0 + 500 * MS, &b_client, &a_server);
	handshake(t, 0, T0 + 600 * MS, &a3, &b3);
	assert_int_equal(flow_table__ngroups(t), 2);
	assert_int_equal(flow_table__flow(t, 0)->group, 0);
	assert_int_equal(flow_table__flow(t, 1)->group, 1);
	assert_int_equal(flow_table__flow(t, 2)->group, 0);
	g = flow_table__group(t, 1);
	assert_ip4(&g->host[0], ip_b);
	assert_ip4(&g->host[1], ip_a);
	assert_true(g->client_known);
	assert_int_equal(flow_table__flow(t, 1)->ep_host[idx(t, 1, &a_server)], 1);
	assert_int_equal(flow_table__flow(t, 1)->ep_host[idx(t, 1, &b_client)], 0);
	assert_int_equal(flow_table__flow(t, 1)->client, idx(t, 1, &b_client));
	assert_int_equal(flow_table__group(t, 0)->nflows, 2);
	assert_int_equal(mig_group_source_host(g), 0);
}

static const uint8_t *source_ip(struct flow_table *t, int group)
{
	const struct mig_group *g = flow_table__group(t, group);

	return g->host[mig_group_source_host(g)].bytes;
}

/* With the SYN in view its sender is the source, however the bytes go. */
static void test_source_host_is_syn_sender(void **state)
{
	struct flow_table *t = table(state);

	handshake(t, 0, T0, &A, &B);
	data_ab(t, T0 + 1 * MS, 0, 10);
	seg(t, 0, T0 + 2 * MS, &B, &A, PKT_TCP_ACK, ISS_S + 1, ISS_C + 11, 50000);
	assert_int_equal(mig_group_source_host(flow_table__group(t, 0)), 0);
	assert_memory_equal(source_ip(t, 0), ip_a, 4);
}

/* Without it, the host that sent more payload, not the first one heard. */
static void test_source_host_by_payload(void **state)
{
	static const struct ep c = { ip_c, CLIENT_PORT };
	static const struct ep d = { ip_d, MIG_PORT };
	struct flow_table *t = table(state);
	const struct mig_group *g;

	/* group 0: A speaks first, B sends more */
	seg(t, 0, T0, &A, &B, PKT_TCP_ACK, 1, 1, 100);
	seg(t, 0, T0 + 1 * MS, &B, &A, PKT_TCP_ACK, 1, 101, 5000);
	seg(t, 0, T0 + 2 * MS, &A, &B, PKT_TCP_ACK, 101, 5001, 100);
	/* group 1: D speaks first, C sends more */
	seg(t, 0, T0, &d, &c, PKT_TCP_ACK, 1, 1, 100);
	seg(t, 0, T0 + 1 * MS, &c, &d, PKT_TCP_ACK, 1, 101, 5000);
	assert_int_equal(flow_table__ngroups(t), 2);
	g = flow_table__group(t, 0);
	assert_false(g->client_known);
	assert_int_equal(g->payload_seen[mig_group_source_host(g)], 5000);
	assert_int_equal(g->payload_seen[!mig_group_source_host(g)], 200);
	assert_memory_equal(source_ip(t, 0), ip_b, 4);
	assert_memory_equal(source_ip(t, 1), ip_c, 4);
}

/* ---- throughput ------------------------------------------------------ */

static void test_rate_peak(void **state)
{
	struct flow_table *t = table(state);
	const struct rate_meter *r;
	uint32_t rel = 0;
	static const struct {
		int64_t at;
		uint32_t len;
	} sends[] = {
		/* bins start at the first byte: [50, 150) ms is bin 0 */
		{ 50 * MS, 1000 }, { 90 * MS, 500 },   /* bin 0: 1500 */
		{ 150 * MS, 2000 },                     /* bin 1: 2000 */
		{ 350 * MS, 100 },                      /* bin 3: 100 */
		{ 420 * MS, 1200 }, { 449 * MS, 900 },  /* bin 3: 2200 */
		{ 450 * MS, 5000 },                     /* bin 4, open: 5000 */
	};

	handshake(t, 0, T0, &A, &B);
	r = &flow_table__group(t, 0)->rate[0][0];
	for (size_t i = 0; i < sizeof(sends) / sizeof(sends[0]); i++) {
		data_ab(t, T0 + sends[i].at, rel, sends[i].len);
		rel += sends[i].len;
		if (i == 3)
			assert_int_equal(r->peak_bin_bytes, 2000);
	}
	/* the open bin is not a full bin: it cannot be the peak yet */
	assert_int_equal(r->peak_bin_bytes, 2200);
	assert_int_equal(r->bin_bytes, 5000);
	assert_int_equal(r->bin_end_ns, T0 + 550 * MS);
	assert_int_equal(flow_table__group(t, 0)->rate[0][1].peak_bin_bytes, 0);
	assert_int_equal(flow_table__group(t, 0)->rate[1][0].peak_bin_bytes, 0);
	/* the plot's series has the same bin edges: its highest closed bin is the peak */
	{
		const struct rate_series *s = &flow_table__group(t, 0)->series[0][0];
		static const uint64_t want[] = { 1500, 2000, 0, 2200, 5000 };

		assert_int_equal(s->t0_ns, T0 + 50 * MS);
		assert_int_equal(s->nbins, 5);
		for (int b = 0; b < 5; b++)
			assert_int_equal(s->bin[b].bytes, want[b]);
		assert_int_equal(flow_table__group(t, 0)->series[0][1].nbins, 0);
	}
}

/* Retransmitted segments land in the bin of their time. */
static void test_rate_series_retransmits(void **state)
{
	struct flow_table *t = table(state);
	const struct rate_series *s;

	handshake(t, 0, T0, &A, &B);
	data_ab(t, T0 + 1 * MS, 0, 1000);
	data_ab(t, T0 + 2 * MS, 1000, 1000);
	data_ab(t, T0 + 150 * MS, 0, 1000);   /* retransmission, bin 1 */
	data_ab(t, T0 + 160 * MS, 2000, 500);
	data_ab(t, T0 + 170 * MS, 2499, 1);   /* keep-alive: not one */
	s = &flow_table__group(t, 0)->series[0][0];
	assert_int_equal(s->nbins, 2);
	assert_int_equal(s->bin[0].retx, 0);
	assert_int_equal(s->bin[1].retx, 1);
	assert_int_equal(s->bin[1].bytes, 1501);
}

/* ---- caps ------------------------------------------------------------ */
/* What the table hands over when reading is done: migrations only (a group
 * matched by port that carried under 64 KiB is not one), in time order,
 * summed in the source's direction at each capture: A's small port-only
 * flow, A's QEVM stream off the port range, then B's way back to A. */
static void test_migrations_handed_over(void **state)
{
	static const struct ep b_client = { ip_b, CLIENT_PORT + 1 };
	static const struct ep a_server = { ip_a, MIG_PORT };
	static const struct ep a4 = { ip_a, CLIENT_PORT + 9 }, b4 = { ip_b, 7000 };
	struct flow_table *t = table(state);
	struct mig_stream *ms = NULL;
	struct pkt_meta m;
	int n;

	handshake(t, 0, T0, &A, &B);
	data_ab(t, T0 + 1 * MS, 0, 1024);
	m = tcp(&a4, &b4, PKT_TCP_ACK, 1, 1, 8);
	flow_table__packet(t, 0, T0 + 5 * SEC, HDR + 8, &m, qevm, 8);
	handshake(t, 0, T0 + 10 * SEC, &b_client, &a_server);
	for (int k = 0; k < 10; k++)
		for (int in = 0; in < 2; in++)
			seg(t, in, T0 + 11 * SEC + k * MS + in * 10 * US, &b_client, &a_server,
			    PKT_TCP_ACK, ISS_C + 1 + (uint32_t)k * 10240, ISS_S + 1, 10240);
	assert_int_equal(flow_table__ngroups(t), 3);
	n = flow_table__migrations(t, 2, &ms);
	assert_int_equal(n, 2);
	assert_int_equal(ms[0].group, 1);
	assert_int_equal(ms[0].first_ns, T0 + 5 * SEC);
	assert_true(ms[0].detect & DETECT_QEVM);
	assert_ip4(&ms[0].source, ip_a);
	assert_int_equal(ms[1].group, 2);
	assert_ip4(&ms[1].source, ip_b);
	assert_ip4(&ms[1].destination, ip_a);
	for (int in = 0; in < 2; in++) {
		const struct stream_view *v = &ms[1].view[in];

		assert_true(v->seen);
		assert_int_equal(v->payload_bytes, 10 * 10240);
		assert_int_equal(v->last_data_ns, T0 + 11 * SEC + 9 * MS + in * 10 * US);
	}
	assert_int_equal(ms[1].view[0].first_ns, T0 + 10 * SEC);
	assert_int_equal(ms[1].view[1].first_ns, T0 + 11 * SEC + 10 * US);
	/* capture 0 saw the handshake: B is the client, and the source */
	assert_true(ms[1].view[0].handshake && ms[1].view[0].client_is_source);
	assert_int_equal(ms[1].view[0].syn_to_synack_ns, 100 * US);
	assert_int_equal(ms[1].view[0].synack_to_ack_ns, 100 * US);
	assert_false(ms[1].view[1].handshake);
	assert_int_equal(ms[1].last_data_ns, T0 + 11 * SEC + 9 * MS + 10 * US);
	flow_table__migrations_free(ms, n);
}

static void test_flow_cap(void **state)
{
	struct flow_table *t = table(state);

	for (int i = 0; i <= MAX_MIG_FLOWS; i++) {
		struct ep c = { ip_a, (uint16_t)(10000 + i) };

		seg(t, 0, T0 + i * MS, &c, &B, PKT_TCP_SYN, ISS_C, 0, 0);
	}
	assert_int_equal(flow_table__nflows(t), MAX_MIG_FLOWS);
	assert_int_equal(flow_table__group(t, 0)->nflows, MAX_MIG_FLOWS);
	assert_string_equal(flow_table__warning(t),
			    "more migration flows than the analyzer keeps, later ones ignored");
	/* the flow left out stays out; the kept ones still count */
	{
		struct ep late = { ip_a, (uint16_t)(10000 + MAX_MIG_FLOWS) };
		struct ep first = { ip_a, 10000 };

		seg(t, 0, T0 + 1 * SEC, &late, &B, PKT_TCP_ACK, ISS_C + 1, 1, 100);
		seg(t, 0, T0 + 1 * SEC, &first, &B, PKT_TCP_ACK, ISS_C + 1, 1, 100);
		assert_int_equal(flow_table__nflows(t), MAX_MIG_FLOWS);
		assert_int_equal(dir_of(t, 0, 0, &first)->payload_bytes, 100);
	}
	assert_int_equal(flow_table__group(t, 0)->payload_seen[0], 100);
	assert_int_equal(flow_table__group(t, 0)->payload_seen[1], 0);
}

/* A segment carrying `head` as its first payload bytes. */
static void first_payload(struct flow_table *t, int64_t ts, const struct ep *from,
			  const struct ep *to, uint32_t seq, const uint8_t *head, uint32_t len)
{
	struct pkt_meta m = tcp(from, to, PKT_TCP_ACK | PKT_TCP_PSH, seq, 1, len);

	flow_table__packet(t, 0, ts, HDR + len, &m, head, len);
}

/* An evacuation: two guests leave A for B at once, each destination QEMU on
 * its own port; one of them with a multifd channel. */
static void test_concurrent_migrations_by_port(void **state)
{
	static const struct ep a2 = { ip_a, CLIENT_PORT + 1 }, a3 = { ip_a, CLIENT_PORT + 2 };
	static const struct ep b2 = { ip_b, MIG_PORT2 };
	struct flow_table *t = table(state);

	handshake(t, 0, T0, &A, &B);
	handshake(t, 0, T0 + 1 * MS, &a2, &b2);
	first_payload(t, T0 + 2 * MS, &A, &B, ISS_C + 1, qevm, sizeof(qevm));
	first_payload(t, T0 + 3 * MS, &a2, &b2, ISS_C + 1, qevm, sizeof(qevm));
	handshake(t, 0, T0 + 4 * MS, &a3, &b2);
	first_payload(t, T0 + 5 * MS, &a3, &b2, ISS_C + 1, multifd, sizeof(multifd));
	assert_int_equal(flow_table__ngroups(t), 2);
	assert_int_equal(flow_table__flow(t, 0)->group, 0);
	assert_int_equal(flow_table__flow(t, 1)->group, 1);
	assert_int_equal(flow_table__flow(t, 2)->group, 1);
	assert_int_equal(flow_table__group(t, 0)->nflows, 1);
	assert_int_equal(flow_table__group(t, 1)->nflows, 2);
	assert_int_equal(flow_table__group(t, 1)->main_flow, 2);
}

/* flow_table__switch_ns and __latest_first as the guest set reads them: each
 * group's source's last data, the groups in order of it, latest first. */
static void assert_switch_refs(struct flow_table *t)
{
	const int64_t *sw = flow_table__switch_ns(t);
	const int16_t *order = flow_table__latest_first(t);
	bool seen[MAX_GROUPS] = { false };

	for (int k = 0; k < flow_table__ngroups(t); k++) {
		int g = order[k];
		const struct mig_group *grp;

		assert_in_range(g, 0, flow_table__ngroups(t) - 1);
		assert_false(seen[g]);
		seen[g] = true;
		grp = flow_table__group(t, g);
		assert_int_equal(sw[g], grp->last_data_ns[mig_group_source_host(grp)]);
		if (k)
			assert_true(sw[order[k - 1]] >= sw[g]);
	}
}

/* Three migrations streaming at once, one of them found midstream (its
 * source known from which side sent more): after every segment the groups
 * stand in order of their last data. */
static void test_switch_refs_in_order(void **state)
{
	static const struct ep a2 = { ip_a, CLIENT_PORT + 1 }, b2 = { ip_b, MIG_PORT2 };
	static const struct ep c = { ip_c, CLIENT_PORT }, d = { ip_d, MIG_PORT };
	struct flow_table *t = table(state);
	uint32_t seq[3] = { 0 };

	handshake(t, 0, T0, &A, &B);
	assert_switch_refs(t);
	handshake(t, 0, T0 + 1 * MS, &a2, &b2);
	assert_switch_refs(t);
	for (int i = 0; i < 30; i++) {
		int64_t ts = T0 + 10 * MS + i * MS;
		int k = i * 7 % 3;

		if (k == 0)
			data_ab(t, ts, seq[0], 1448);
		else if (k == 1)
			seg(t, 0, ts, &a2, &b2, PKT_TCP_ACK | PKT_TCP_PSH, ISS_C + 1 + seq[1], ISS_S + 1,
			    1448);
		else /* midstream: c sends, then d sends more and becomes the source */
			seg(t, 0, ts, i < 15 ? &c : &d, i < 15 ? &d : &c, PKT_TCP_ACK | PKT_TCP_PSH,
			    ISS_C + 1 + seq[2], ISS_S + 1, i < 15 ? 1448 : 4000);
		seq[k] += k == 2 && i >= 15 ? 4000 : 1448;
		assert_switch_refs(t);
	}
	assert_int_equal(flow_table__ngroups(t), 3);
}

/* One guest after another on the same port, 500 ms apart: each stream
 * opens with QEMU's magic, so the second is a migration of its own. */
static void test_second_main_channel_splits(void **state)
{
	static const struct ep a2 = { ip_a, CLIENT_PORT + 1 };
	struct flow_table *t = table(state);
	int64_t t2 = T0 + 500 * MS;

	handshake(t, 0, T0, &A, &B);
	first_payload(t, T0 + 1 * MS, &A, &B, ISS_C + 1, qevm, sizeof(qevm));
	data_ab(t, T0 + 2 * MS, 1448, 1448);
	handshake(t, 0, t2, &a2, &B);
	first_payload(t, t2 + 1 * MS, &a2, &B, ISS_C + 1, qevm, sizeof(qevm));
	assert_int_equal(flow_table__ngroups(t), 2);
	assert_int_equal(flow_table__flow(t, 1)->group, 1);
	assert_int_equal(flow_table__group(t, 0)->nflows, 1);
	assert_int_equal(flow_table__group(t, 1)->nflows, 1);
	/* the new migration began with its handshake */
	assert_int_equal(flow_table__group(t, 1)->first_ns, t2);
	assert_true(flow_table__flow(t, 1)->main);
}

/* libvirt copies the disk over NBD on a port of its own first, then opens
 * the memory stream: one migration. */
static void test_nbd_then_memory(void **state)
{
	static const struct ep a2 = { ip_a, CLIENT_PORT + 1 };
	static const struct ep b2 = { ip_b, MIG_PORT2 };
	struct flow_table *t = table(state);

	handshake(t, 0, T0, &a2, &b2);
	first_payload(t, T0 + 1 * MS, &b2, &a2, ISS_S + 1, nbd, sizeof(nbd));
	handshake(t, 0, T0 + 800 * MS, &A, &B);
	first_payload(t, T0 + 801 * MS, &A, &B, ISS_C + 1, qevm, sizeof(qevm));
	assert_int_equal(flow_table__ngroups(t), 1);
	assert_int_equal(flow_table__group(t, 0)->nflows, 2);
	assert_int_equal(flow_table__group(t, 0)->nbd_flows, 1);
	assert_int_equal(flow_table__group(t, 0)->server_port, MIG_PORT);
}

static void test_group_cap(void **state)
{
	struct flow_table *t = table(state);

	for (int i = 0; i <= MAX_GROUPS; i++) {
		uint8_t ip[4] = { 10, 1, (uint8_t)(i >> 8), (uint8_t)i };
		struct ep c = { ip, CLIENT_PORT };

		seg(t, 0, T0 + i * MS, &c, &B, PKT_TCP_SYN, ISS_C, 0, 0);
	}
	assert_int_equal(flow_table__ngroups(t), MAX_GROUPS);
	assert_int_equal(flow_table__nflows(t), MAX_GROUPS);
	assert_string_equal(flow_table__warning(t),
			    "more migrations than the analyzer keeps, later ones ignored");
}

/* Handshakes of unrelated services (both ports outside the set) come and go
 * on any busy host; they must not use up the room of the migration flows. */
static void test_unrelated_handshakes_leave_room(void **state)
{
	struct flow_table *t = table(state);

	for (int i = 0; i < FLOW_TABLE_SLOTS; i++) {
		struct ep c = { ip_c, (uint16_t)(20000 + i) };
		struct ep s = { ip_d, SSH_PORT };

		seg(t, 0, T0 + i * US, &c, &s, PKT_TCP_SYN, ISS_C, 0, 0);
	}
	handshake(t, 0, T0 + 1 * SEC, &A, &B);
	assert_int_equal(flow_table__nflows(t), 1);
	assert_null(flow_table__warning(t));
}

/* ---- exact counters (migscope capture files) ------------------------ */

static struct flow_endpoint endpoint(const struct ep *e)
{
	struct flow_endpoint fe = { .ip = { .family = 4 }, .port = e->port };

	memcpy(fe.ip.bytes, e->ip, 4);
	return fe;
}

/* The counters replace the samples' counts and widen their times. */
static void test_exact_counts_replace_samples(void **state)
{
	struct flow_table *t = table(state);
	struct flow_endpoint a = endpoint(&A), b = endpoint(&B);
	struct exact_counts c = { .packets = 1000, .payload_bytes = 1448000, .wire_bytes = 1514000,
				  .ooo_segments = 3, .ooo_bytes = 4344, .first_ns = T0 - MS,
				  .last_ns = T0 + 2 * SEC, .last_data_ns = T0 + 2 * SEC - MS };
	const struct dir_stats *d;

	handshake(t, 0, T0, &A, &B);
	data_ab(t, T0 + 1 * MS, 0, 1448); /* one sample */
	assert_true(flow_table__set_exact(t, 0, &a, &b, &c));
	d = dir_of(t, 0, 0, &A);
	assert_int_equal(d->packets, 1000);
	assert_int_equal(d->payload_bytes, 1448000);
	assert_int_equal(d->wire_bytes, 1514000);
	assert_int_equal(d->retx_segments, 3);
	assert_int_equal(d->retx_bytes, 4344);
	assert_int_equal(d->first_ns, T0 - MS);
	assert_int_equal(d->last_data_ns, T0 + 2 * SEC - MS);
	assert_int_equal(flow_table__group(t, 0)->last_data_ns[0], T0 + 2 * SEC - MS);
	/* a flow on no migration port is not one */
	b.port = SSH_PORT;
	assert_false(flow_table__set_exact(t, 0, &a, &b, &c));
	assert_int_equal(flow_table__nflows(t), 1);
}

/* A flow none of whose packets reached the file (the agent's ring buffer was
 * full) still has its counters: they create it, on its port. */
static void test_exact_counts_create_flow(void **state)
{
	struct flow_table *t = table(state);
	struct ep a2 = { ip_a, CLIENT_PORT + 1 }, b2 = { ip_b, MIG_PORT };
	struct flow_endpoint a = endpoint(&a2), b = endpoint(&b2);
	struct exact_counts c = { .packets = 70, .payload_bytes = 100000, .wire_bytes = 104620,
				  .first_ns = T0 + 5 * MS, .last_ns = T0 + SEC,
				  .last_data_ns = T0 + SEC };

	handshake(t, 0, T0, &A, &B);
	data_ab(t, T0 + 1 * MS, 0, 1448);
	assert_true(flow_table__set_exact(t, 0, &a, &b, &c));
	assert_int_equal(flow_table__nflows(t), 2);
	assert_int_equal(flow_table__flow(t, 1)->group, 0); /* the same migration */
	assert_int_equal(flow_table__flow(t, 1)->detect, DETECT_PORT);
	assert_int_equal(dir_of(t, 1, 0, &a2)->payload_bytes, 100000);
	assert_int_equal(dir_of(t, 1, 0, &a2)->first_ns, T0 + 5 * MS);
	/* the other direction's line finds it */
	c.payload_bytes = 0;
	assert_true(flow_table__set_exact(t, 0, &b, &a, &c));
	assert_int_equal(flow_table__nflows(t), 2);
}

/* The sender's own retransmit count is kept per sending endpoint. */
static void test_stack_retx(void **state)
{
	struct flow_table *t = table(state);
	struct flow_endpoint a = endpoint(&A), b = endpoint(&B);
	const struct mig_flow *f;

	handshake(t, 0, T0, &A, &B);
	assert_true(flow_table__set_stack_retx(t, &a, &b, 5, 7240));
	f = flow_table__flow(t, 0);
	assert_true(f->stack_retx[idx(t, 0, &A)].set);
	assert_int_equal(f->stack_retx[idx(t, 0, &A)].segments, 5);
	assert_int_equal(f->stack_retx[idx(t, 0, &A)].bytes, 7240);
	assert_false(f->stack_retx[idx(t, 0, &B)].set);
	/* a node's count is set, not added, whichever capture carries it */
	assert_true(flow_table__set_stack_retx(t, &a, &b, 5, 7240));
	assert_int_equal(f->stack_retx[idx(t, 0, &A)].segments, 5);
	b.port = SSH_PORT;
	assert_false(flow_table__set_stack_retx(t, &a, &b, 1, 1));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_syn_to_listed_port),
		T(test_syn_from_ephemeral_port_in_set),
		T(test_midstream_by_port),
		T(test_synack_without_syn),
		T(test_magic_midstream),
		T(test_magic_after_handshake_on_unlisted_port),
		T(test_magic_after_ruled_out_handshake),
		T(test_magic_adds_to_port_detection),
		T(test_tls_on_migration_port),
		T(test_tls_on_shaped_port),
		T(test_ipv6_flow),
		T(test_packet_tells_membership),
		T(test_counts_per_direction_and_input),
		T(test_retransmit_full_segment),
		T(test_retransmit_partial_overlap),
		T(test_keepalive_and_acks_not_retransmits),
		T(test_sequence_wraparound),
		T(test_min_ack_delay),
		T(test_handshake_times),
		T(test_group_join_window),
		T(test_group_way_back),
		T(test_source_host_is_syn_sender),
		T(test_source_host_by_payload),
		T(test_rate_peak),
		T(test_rate_series_retransmits),
		T(test_migrations_handed_over),
		T(test_flow_cap),
		T(test_group_cap),
		T(test_concurrent_migrations_by_port),
		T(test_switch_refs_in_order),
		T(test_second_main_channel_splits),
		T(test_nbd_then_memory),
		T(test_unrelated_handshakes_leave_room),
		T(test_exact_counts_replace_samples),
		T(test_exact_counts_create_flow),
		T(test_stack_retx),
	};
#undef T

	return cmocka_run_group_tests_name("flows", tests, NULL, NULL);
}
