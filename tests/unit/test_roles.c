/*
 * Unit tests of telling the source capture from the destination's
 * (analysis/roles.h): first roles_assign() alone on the evidence the flow
 * table hands over, at the edges of its thresholds; then through the whole
 * analyzer: a migration stream cn1 -> cn2 written as two unlabelled pcaps,
 * one per NIC, with a chosen round trip between the NICs and a chosen stamp
 * resolution.
 *
 * Each data segment leaves cn1's NIC at t, reaches cn2's NIC link_ns later,
 * and cn2 answers with an ACK TURN later, which reaches cn1's NIC after
 * link_ns: the shortest data-to-ACK delay is TURN at cn2's NIC and TURN +
 * 2 link_ns at cn1's. Captures are given destination first and (but for the
 * last test) carry no handshake, so the fallback ("the other one") would
 * call the destination the source: only timing gets them right.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "analysis/analyzer.h"
#include "analysis/roles.h"
#include "tests/unit/frames.h"

#define US INT64_C(1000)
#define T0 INT64_C(1700000000000000000)
#define TURN (20 * US)
/* not a round number: stamps at every resolution keep their last digit */
#define STEP (INT64_C(1013007))
#define SEGMENTS 200

static const uint8_t CN1_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t CN2_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t CN1_IP[4] = { 198, 18, 0, 1 };
static const uint8_t CN2_IP[4] = { 198, 18, 0, 2 };

enum nic { CN1, CN2, NNIC };

struct nic_file {
	pcap_t *dead;
	pcap_dumper_t *out;
	int precision;
};

static void dump(struct nic_file *nf, int64_t ts, const struct fb *f)
{
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)f->len, .len = (bpf_u_int32)f->len };
	int64_t frac = ts % 1000000000;

	h.ts.tv_sec = ts / 1000000000;
	/* a microsecond pcap truncates, as the kernel's stamp is truncated */
	h.ts.tv_usec = nf->precision == PCAP_TSTAMP_PRECISION_MICRO ? frac / 1000 : frac;
	pcap_dump((u_char *)nf->out, &h, f->buf);
}

static void segment(struct fb *f, bool ack, uint32_t seq)
{
	size_t pl;

	fb_init(f);
	fb_eth(f, ack ? CN1_MAC : CN2_MAC, ack ? CN2_MAC : CN1_MAC, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(f, FB_IP_TCP, ack ? CN2_IP : CN1_IP, ack ? CN1_IP : CN2_IP, 0);
	if (ack) {
		fb_tcp(f, 49152, 40000, 1, seq + 100, 0x10, 0);
	} else {
		fb_tcp(f, 40000, 49152, seq, 1, 0x18, 0);
		pl = fb_payload(f, 100);
		if (seq == 1000)
			memcpy(f->buf + pl, "QEVM\0\0\0\3", 8);
	}
	fb_done(f, 0);
}

struct sim_spec {
	int64_t link_ns; /* between the NICs, each way */
	int precision;   /* PCAP_TSTAMP_PRECISION_MICRO or _NANO */
	bool handshake;  /* a SYN, SYN-ACK, ACK before the stream (cn1 the client) */
};

/* The handshake 1 ms before the stream: cn2 answers the SYN in 10 us, cn1
 * the SYN-ACK in 5 us, so at cn1's NIC it looks like the client's side. */
static void handshake(struct nic_file *nf, int64_t link_ns)
{
	static const uint8_t flags[3] = { 0x02, 0x12, 0x10 };
	int64_t at_cn1[3], t = T0 - 1000 * US;
	struct fb f;

	at_cn1[0] = t;
	at_cn1[1] = t + 2 * link_ns + 10 * US;
	at_cn1[2] = at_cn1[1] + 5 * US;
	for (int k = 0; k < 3; k++) {
		bool from_cn2 = k == 1;

		fb_init(&f);
		fb_eth(&f, from_cn2 ? CN1_MAC : CN2_MAC, from_cn2 ? CN2_MAC : CN1_MAC, FB_ETH_IPV4,
		       NULL, 0);
		fb_ipv4(&f, FB_IP_TCP, from_cn2 ? CN2_IP : CN1_IP, from_cn2 ? CN1_IP : CN2_IP, 0);
		fb_tcp(&f, from_cn2 ? 49152 : 40000, from_cn2 ? 40000 : 49152,
		       from_cn2 ? 0 : (k ? 1000 : 999), k ? (from_cn2 ? 1000 : 1) : 0, flags[k], 0);
		fb_done(&f, 0);
		dump(&nf[CN1], at_cn1[k], &f);
		dump(&nf[CN2], at_cn1[k] + (from_cn2 ? -link_ns : link_ns), &f);
	}
}

/* Writes cn1.pcap and cn2.pcap in dir. */
static void write_stream(const char *dir, const struct sim_spec *sp)
{
	struct nic_file nf[NNIC];
	char path[96];

	for (int n = 0; n < NNIC; n++) {
		nf[n].precision = sp->precision;
		nf[n].dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, sp->precision);
		assert_non_null(nf[n].dead);
		snprintf(path, sizeof(path), "%s/cn%d.pcap", dir, n + 1);
		nf[n].out = pcap_dump_open(nf[n].dead, path);
		assert_non_null(nf[n].out);
	}
	if (sp->handshake)
		handshake(nf, sp->link_ns);
	for (int i = 0; i < SEGMENTS; i++) {
		int64_t t = T0 + i * STEP;
		uint32_t seq = 1000 + (uint32_t)i * 100;
		struct fb data, ack;

		segment(&data, false, seq);
		segment(&ack, true, seq);
		dump(&nf[CN1], t, &data);
		dump(&nf[CN1], t + 2 * sp->link_ns + TURN, &ack);
		dump(&nf[CN2], t + sp->link_ns, &data);
		dump(&nf[CN2], t + sp->link_ns + TURN, &ack);
	}
	for (int n = 0; n < NNIC; n++) {
		pcap_dump_close(nf[n].out);
		pcap_close(nf[n].dead);
	}
}

struct run {
	char dir[32];
	char paths[MAX_INPUTS][96];
	char labels[MAX_INPUTS][8];
	struct report r;
};

/*
 * Writes the captures of sp and analyzes those named (each "cn1.pcap" or
 * "label=cn1.pcap") into x->r; run_done() cleans up.
 */
static void run(struct run *x, const struct sim_spec *sp, const char *const *names, int n)
{
	char dir[sizeof(x->dir)] = "/tmp/test-roles-XXXXXX", err[256] = "";
	struct analyze_config cfg;

	assert_non_null(mkdtemp(dir));
	memcpy(x->dir, dir, sizeof(dir));
	write_stream(dir, sp);
	memset(&cfg, 0, sizeof(cfg));
	portset_parse(&cfg.ports, PORTSET_DEFAULT);
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(names[i], '=');

		if (eq) {
			snprintf(x->labels[i], sizeof(x->labels[i]), "%.*s", (int)(eq - names[i]),
				 names[i]);
			cfg.labels[i] = x->labels[i];
		}
		snprintf(x->paths[i], sizeof(x->paths[i]), "%s/%s", dir, eq ? eq + 1 : names[i]);
		cfg.paths[i] = x->paths[i];
	}
	cfg.ninputs = n;
	if (analyze(&cfg, &x->r, err, sizeof(err)))
		fail_msg("analyze: %s", err);
	assert_int_equal(x->r.nmigrations, 1);
}

static void run_done(struct run *x)
{
	char path[96];

	report_free(&x->r);
	for (int n = 1; n <= NNIC; n++) {
		snprintf(path, sizeof(path), "%s/cn%d.pcap", x->dir, n);
		unlink(path);
	}
	rmdir(x->dir);
}

/* The warning that timing could not decide, or NULL. */
static const char *close_warning(const struct report *r)
{
	for (int i = 0; i < r->nwarnings; i++)
		if (strstr(r->warnings[i], "timing cannot tell"))
			return r->warnings[i];
	return NULL;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Analyzed, cn1 is the source capture, cn2 the destination's, and nothing
 * warned. */
static void expect_decided(const struct sim_spec *sp, const char *const *names)
{
	const struct report_migration *m;
	struct run x;

	run(&x, sp, names, 2);
	m = &x.r.migrations[0];
	if (close_warning(&x.r))
		fail_msg("unexpected warning: %s", close_warning(&x.r));
	assert_true(m->src_input >= 0 && m->dst_input >= 0);
	assert_string_equal(base(x.r.inputs[m->src_input].path), "cn1.pcap");
	assert_string_equal(base(x.r.inputs[m->dst_input].path), "cn2.pcap");
	run_done(&x);
}

/* Analyzed, a warning names both captures, the words in `want` (delays,
 * noise) and the way out; the guess still gives the migration one source
 * and one destination capture. */
static void expect_guessed(const struct sim_spec *sp, const char *const *names,
			   const char *const *want, int nwant)
{
	const struct report_migration *m;
	const char *w;
	struct run x;

	run(&x, sp, names, 2);
	m = &x.r.migrations[0];
	w = close_warning(&x.r);
	if (!w)
		fail_msg("no warning that timing could not decide (%d warnings)", x.r.nwarnings);
	for (int i = 0; i < nwant; i++)
		if (!strstr(w, want[i]))
			fail_msg("warning lacks \"%s\": %s", want[i], w);
	if (!strstr(w, base(names[0])) || !strstr(w, base(names[1])) || !strstr(w, "src=/dst="))
		fail_msg("warning lacks a capture or src=/dst=: %s", w);
	assert_true(m->src_input >= 0 && m->dst_input >= 0);
	assert_int_not_equal(m->src_input, m->dst_input);
	run_done(&x);
}

#define NANO PCAP_TSTAMP_PRECISION_NANO
#define MICRO PCAP_TSTAMP_PRECISION_MICRO

static const char *const UNLABELLED[] = { "cn2.pcap", "cn1.pcap" };

/* 2.5 us of round trip, nanosecond stamps: beyond the 2.002 us of noise. */
static void test_ns_round_trip_decides(void **state)
{
	(void)state;
	expect_decided(&(struct sim_spec){ 1250, NANO, false }, UNLABELLED);
}

/* 1.5 us: within the noise; the roles are a guess and the report says so. */
static void test_ns_close_warns(void **state)
{
	static const char *const want[] = { "20.000", "21.500", "within 2.002 us" };

	(void)state;
	expect_guessed(&(struct sim_spec){ 750, NANO, false }, UNLABELLED, want, 3);
}

/* The same 2.5 us in microsecond pcaps: each delay is off by up to 1 us
 * (here 20 and 22 us), so the noise is 4 us and it no longer decides. */
static void test_us_resolution_widens_noise(void **state)
{
	static const char *const want[] = { "20.000", "22.000", "within 4.000 us" };

	(void)state;
	expect_guessed(&(struct sim_spec){ 1250, MICRO, false }, UNLABELLED, want, 3);
}

/* A microsecond pcap with a clear round trip (10 us) still decides. */
static void test_us_round_trip_decides(void **state)
{
	(void)state;
	expect_decided(&(struct sim_spec){ 5000, MICRO, false }, UNLABELLED);
}

/* Labels decide: timing within the noise is not a guess then. */
static void test_labelled_close_is_quiet(void **state)
{
	static const char *const labelled[] = { "dst=cn2.pcap", "src=cn1.pcap" };

	(void)state;
	expect_decided(&(struct sim_spec){ 750, NANO, false }, labelled);
}

/* One capture given twice: equal delays, and the same handshake (the
 * client's side) in both. Before, both became "src" on that handshake and
 * the migration had no destination capture; now the second is the other
 * role, and the warning says it is a guess. */
static void test_same_capture_twice(void **state)
{
	static const char *const twice[] = { "cn1.pcap", "cn1.pcap" };
	static const char *const want[] = { "30.000 vs 30.000 us" };

	(void)state;
	expect_guessed(&(struct sim_spec){ 5000, NANO, true }, twice, want, 1);
}

/* ---- roles_assign() on its own ------------------------------------------ */

/* cn1 -> cn2, then (when back) cn2 -> cn1, as the flow table hands them over. */
static void streams(struct mig_stream *ms, int n)
{
	struct ip_addr cn1 = { .family = 4 }, cn2 = { .family = 4 };

	memcpy(cn1.bytes, CN1_IP, 4);
	memcpy(cn2.bytes, CN2_IP, 4);
	memset(ms, 0, (size_t)n * sizeof(*ms));
	for (int m = 0; m < n; m++) {
		ms[m].source = m ? cn2 : cn1;
		ms[m].destination = m ? cn1 : cn2;
	}
}

static int close_warnings(const struct report *r)
{
	int n = 0;

	for (int i = 0; i < r->nwarnings; i++)
		n += strstr(r->warnings[i], "timing cannot tell") != NULL;
	return n;
}

/* Two nanosecond captures whose delays differ by `diff` ns: over the noise
 * (2 us + 1 ns + 1 ns) timing decides, at it or under it the roles are a
 * guess with a warning. */
static void delays_differ_by(int64_t diff, bool decides)
{
	struct role_capture cap[2] = { { "a.pcap", NULL, 1 }, { "b.pcap", NULL, 1 } };
	enum role role[1][MAX_INPUTS];
	bool is_ctl[MAX_INPUTS];
	struct mig_stream ms[1];
	struct report r = { 0 };

	streams(ms, 1);
	ms[0].view[0] = (struct stream_view){ .seen = true, .ack_delay_ns = 20000 };
	ms[0].view[1] = (struct stream_view){ .seen = true, .ack_delay_ns = 20000 + diff };
	roles_assign(ms, 1, cap, 2, NULL, role, is_ctl, &r);
	assert_int_equal(close_warnings(&r), !decides);
	assert_int_not_equal(role[0][0], role[0][1]);
	if (decides) {
		assert_int_equal(role[0][0], ROLE_DST); /* the receiver's NIC: the shorter delay */
		assert_int_equal(role[0][1], ROLE_SRC);
	}
	assert_false(is_ctl[0] || is_ctl[1]);
}

static void test_noise_edge(void **state)
{
	(void)state;
	assert_int_equal(roles_timing_noise_ns(&(struct role_capture){ .tick_ns = 1 },
					       &(struct role_capture){ .tick_ns = 1000 }),
			 ROLE_TIMING_FLOOR_NS + 1001);
	delays_differ_by(ROLE_TIMING_FLOOR_NS + 3, true);
	delays_differ_by(ROLE_TIMING_FLOOR_NS + 2, false);
	delays_differ_by(0, false);
}

/* A label places its capture's host, which then decides its role in the
 * migration back; a capture that saw no stream is the prober's. */
static void test_label_carries_to_the_way_back(void **state)
{
	struct role_capture cap[3] = { { "cn1", "src", 1 }, { "cn2", NULL, 1 }, { "ctl", NULL, 1 } };
	enum role role[2][MAX_INPUTS];
	bool is_ctl[MAX_INPUTS];
	struct mig_stream ms[2];
	struct report r = { 0 };

	(void)state;
	streams(ms, 2);
	for (int m = 0; m < 2; m++) /* no timing, no handshake: labels and hosts only */
		ms[m].view[0].seen = ms[m].view[1].seen = true;
	roles_assign(ms, 2, cap, 3, NULL, role, is_ctl, &r);
	assert_int_equal(role[0][0], ROLE_SRC);
	assert_int_equal(role[0][1], ROLE_DST);
	assert_int_equal(role[1][0], ROLE_DST); /* cn1 received the way back */
	assert_int_equal(role[1][1], ROLE_SRC);
	assert_int_equal(role[0][2], ROLE_CTL);
	assert_true(is_ctl[2]);
	assert_false(is_ctl[0] || is_ctl[1]);
}

/* The handshake decides where timing cannot: the capture that saw the
 * SYN/ACK answered at once sits by the server, the destination. */
static void test_handshake(void **state)
{
	struct role_capture cap[2] = { { "a.pcap", NULL, 1 }, { "b.pcap", NULL, 1 } };
	enum role role[1][MAX_INPUTS];
	bool is_ctl[MAX_INPUTS];
	struct mig_stream ms[1];
	struct report r = { 0 };

	(void)state;
	streams(ms, 1);
	ms[0].view[0] = (struct stream_view){ .seen = true, .handshake = true,
					      .client_is_source = true,
					      .syn_to_synack_ns = 30000, .synack_to_ack_ns = 5000 };
	ms[0].view[1] = (struct stream_view){ .seen = true, .handshake = true,
					      .client_is_source = true,
					      .syn_to_synack_ns = 5000, .synack_to_ack_ns = 30000 };
	roles_assign(ms, 1, cap, 2, NULL, role, is_ctl, &r);
	assert_int_equal(role[0][0], ROLE_SRC);
	assert_int_equal(role[0][1], ROLE_DST);
	assert_int_equal(r.nwarnings, 0);
}

/* Where the guest answered before the stream decides where timing cannot
 * (a postcopy run's NICs 1.9 us apart, within the 2 us floor): the capture
 * that saw its replies is the source, even given second; a sign seen at both
 * NICs decides nothing. */
static void test_replies_before_decide(void **state)
{
	struct role_capture cap[2] = { { "a.pcap", NULL, 1 }, { "b.pcap", NULL, 1 } };
	const uint32_t sure[1][MAX_INPUTS] = { { 0, 40 } }, both[1][MAX_INPUTS] = { { 40, 40 } };
	enum role role[1][MAX_INPUTS];
	bool is_ctl[MAX_INPUTS];
	struct mig_stream ms[1];
	struct report r = { 0 };

	(void)state;
	streams(ms, 1);
	/* timing within the noise, and the wrong way round */
	ms[0].view[0] = (struct stream_view){ .seen = true, .ack_delay_ns = 21900 };
	ms[0].view[1] = (struct stream_view){ .seen = true, .ack_delay_ns = 20000 };
	roles_assign(ms, 1, cap, 2, sure, role, is_ctl, &r);
	assert_int_equal(role[0][1], ROLE_SRC);
	assert_int_equal(role[0][0], ROLE_DST);
	assert_int_equal(r.nwarnings, 0);
	memset(&r, 0, sizeof(r));
	roles_assign(ms, 1, cap, 2, both, role, is_ctl, &r);
	assert_int_equal(close_warnings(&r), 1); /* back to a guess, and said so */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noise_edge),
		cmocka_unit_test(test_replies_before_decide),
		cmocka_unit_test(test_label_carries_to_the_way_back),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_ns_round_trip_decides),
		cmocka_unit_test(test_ns_close_warns),
		cmocka_unit_test(test_us_resolution_widens_noise),
		cmocka_unit_test(test_us_round_trip_decides),
		cmocka_unit_test(test_labelled_close_is_quiet),
		cmocka_unit_test(test_same_capture_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
