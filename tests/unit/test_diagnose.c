/*
 * Unit tests of the switchover analysis (analysis/timeline.c, diagnose.c and
 * their use of announce_sched.c) through the whole analyzer: a small
 * simulation of one migration writes a pcap per vantage, built frame by
 * frame with frames.h, and analyze() reads them as it reads real captures.
 * One test per branch of the decision tree (design §5), with all three
 * vantages and with fewer.
 *
 * The simulation: the stream's last data at END; the guest pauses 20 ms
 * before it and resumes 5 ms after it (QEMU's RARP round 0 at the
 * destination NIC); ctl pings every 10 ms; frames take 40 us between a NIC
 * and ctl, the guest 200 us to answer. What goes where after the resume is
 * the test's choice (struct sim_spec).
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
#include "analysis/announce_sched.h"
#include "analysis/diagnose.h"
#include "analysis/timeline.h"
#include "tests/unit/frames.h"

#define MS INT64_C(1000000)
#define US INT64_C(1000)
#define T0 INT64_C(1700000000000000000)
#define END (T0 + 1000 * MS)       /* the stream's last data */
#define PAUSE (END - 20 * MS)      /* the guest stops on the source */
#define RESUME (END + 5 * MS)      /* and runs on the destination */
#define LINK (40 * US)
#define TURN (200 * US)
#define PROBE (10 * MS)
#define NEVER (-1)

enum vantage { SRC, DST, CTL, NV };

static const uint8_t GUEST_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t CN1_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t CN2_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t CTL_MAC[6] = { 0x02, 0, 0, 0, 0, 0x10 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO_MAC[6];
static const uint8_t GUEST_IP[4] = { 198, 18, 0, 100 };
static const uint8_t CTL_IP[4] = { 198, 18, 0, 10 };
static const uint8_t CN1_IP[4] = { 198, 18, 0, 1 };
static const uint8_t CN2_IP[4] = { 198, 18, 0, 2 };
static const uint8_t ZERO_IP[4];

struct sim_spec {
	bool capture[NV];     /* which captures exist */
	bool cancelled;       /* the guest never leaves the source */
	int rarp_rounds;      /* QEMU's rounds from the resume (0: announce-rounds 0) */
	bool garp_only;       /* the rounds' GARPs without QEMU's RARPs (announce off,
			       * the guest announcing itself) */
	bool rarp_only;       /* QEMU's RARPs without the guest kernel's GARPs
			       * (virtio-net guest_announce off) */
	bool announce_lost;   /* the switch drops RARPs and GARPs: only dst sees them */
	int64_t burst2_ms;    /* a second burst (announce-self) at resume + this, 0: none */
	int64_t move_ms;      /* requests go to the destination from resume + this, or NEVER */
	int64_t answer_ms;    /* the destination answers requests from resume + this, or NEVER */
	int64_t back_ms;      /* its replies reach the prober from resume + this, or NEVER */
	int64_t silent_ms;    /* the guest stops answering from resume + this (0: never) */
	int64_t silent_until_ms; /* ... until resume + this (0: to the end) */
	int64_t slow_ms;      /* the guest takes this long to answer (0: TURN) ... */
	int64_t slow_until_ms; /* ... requests from the resume to resume + this */
	bool stop_probes;     /* the prober stops at the stream's end */
	bool arp;             /* the prober runs arping, not ping (unicast requests) */
	int64_t observe_ms;   /* probes after the stream's end (3000 when 0) */
};

/* A healthy migration seen at all three vantages. */
static struct sim_spec healthy(void)
{
	return (struct sim_spec){ .capture = { true, true, true }, .rarp_rounds = 5,
				  .move_ms = 0, .answer_ms = 0, .back_ms = 0 };
}

/* ---- the simulation: frames per vantage, then pcaps ------------------- */

enum { MAX_RECS = 4096 };

struct rec {
	int64_t ts;
	uint16_t len;
	uint8_t data[160];
};

struct sim {
	struct rec *recs[NV];
	int n[NV];
};

static void put(struct sim *s, int v, int64_t ts, const struct fb *f)
{
	struct rec *r;

	if (s->n[v] == MAX_RECS || f->len > sizeof(r->data))
		fail_msg("simulation too large");
	r = &s->recs[v][s->n[v]++];
	r->ts = ts;
	r->len = (uint16_t)f->len;
	memcpy(r->data, f->buf, f->len);
}

static void echo_frame(struct fb *f, bool reply, uint16_t seq)
{
	fb_init(f);
	fb_eth(f, reply ? CTL_MAC : GUEST_MAC, reply ? GUEST_MAC : CTL_MAC, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(f, FB_IP_ICMP, reply ? GUEST_IP : CTL_IP, reply ? CTL_IP : GUEST_IP, 0);
	fb_icmp_echo(f, reply ? 0 : 8, 0x77, seq);
	fb_payload(f, 16);
	fb_done(f, 0);
}

/* arping's unicast request for the guest's address, and the guest's reply */
static void arp_frame(struct fb *f, bool reply)
{
	fb_init(f);
	fb_eth(f, reply ? CTL_MAC : GUEST_MAC, reply ? GUEST_MAC : CTL_MAC, FB_ETH_ARP, NULL, 0);
	if (reply)
		fb_arp(f, 2, GUEST_MAC, GUEST_IP, CTL_MAC, CTL_IP);
	else
		fb_arp(f, 1, CTL_MAC, CTL_IP, ZERO_MAC, GUEST_IP);
	fb_done(f, 0);
	fb_pad(f, 60);
}

static bool rarp_lost_at(const struct sim_spec *sp, int64_t t)
{
	/* the second burst comes once the way is clear */
	return sp->announce_lost && !(sp->burst2_ms && t >= RESUME + sp->burst2_ms * MS);
}

/* An announcement leaving the destination at t, seen where it gets to. */
static void announce(struct sim *s, const struct sim_spec *sp, int64_t t, bool garp)
{
	struct fb f;

	fb_init(&f);
	fb_eth(&f, BCAST, GUEST_MAC, garp ? FB_ETH_ARP : FB_ETH_RARP, NULL, 0);
	if (garp)
		fb_arp(&f, 1, GUEST_MAC, GUEST_IP, ZERO_MAC, GUEST_IP);
	else
		fb_arp(&f, 3, GUEST_MAC, ZERO_IP, GUEST_MAC, ZERO_IP);
	fb_done(&f, 0);
	fb_pad(&f, 60);
	put(s, DST, t, &f);
	if (!rarp_lost_at(sp, t)) {
		put(s, SRC, t + LINK, &f);
		put(s, CTL, t + LINK, &f);
	}
}

static void announce_burst(struct sim *s, const struct sim_spec *sp, int64_t from)
{
	struct announce_params p;

	announce_params_default(&p);
	for (int k = 0; k < sp->rarp_rounds; k++) {
		if (!sp->garp_only)
			announce(s, sp, from + announce_round_offset_ns(&p, k), false);
		/* the guest kernel's GARP, asked for by the same round */
		if (!sp->rarp_only)
			announce(s, sp, from + announce_round_offset_ns(&p, k) + 30 * MS, true);
	}
}

static bool after(int64_t t, int64_t ms)
{
	return ms != NEVER && t >= RESUME + ms * MS;
}

/* One probe sent by ctl at t: where the request goes, who answers. */
static void probe(struct sim *s, const struct sim_spec *sp, int64_t t, uint16_t seq)
{
	bool to_dst = !sp->cancelled && after(t, sp->move_ms);
	struct fb req, rep;
	int64_t turn;

	if (sp->arp) {
		arp_frame(&req, false);
		arp_frame(&rep, true);
	} else {
		echo_frame(&req, false, seq);
		echo_frame(&rep, true, seq);
	}
	put(s, CTL, t, &req);
	if (!to_dst) {
		put(s, SRC, t + LINK, &req);
		if (sp->cancelled || t + LINK < PAUSE) {
			put(s, SRC, t + LINK + TURN, &rep);
			put(s, CTL, t + 2 * LINK + TURN, &rep);
		}
		return;
	}
	put(s, DST, t + LINK, &req);
	if (t + LINK < RESUME || !after(t, sp->answer_ms))
		return;
	if (sp->silent_ms && after(t, sp->silent_ms) &&
	    !(sp->silent_until_ms && after(t, sp->silent_until_ms)))
		return;
	turn = sp->slow_ms && !after(t, sp->slow_until_ms) ? sp->slow_ms * MS : TURN;
	put(s, DST, t + LINK + turn, &rep);
	if (after(t, sp->back_ms))
		put(s, CTL, t + 2 * LINK + turn, &rep);
}

/* The migration stream cn1 -> cn2, QEMU's magic in its first segment. */
static void stream(struct sim *s)
{
	for (int i = 0; i <= 20; i++) {
		int64_t t = END - (20 - i) * 10 * MS;
		uint32_t seq = 1000 + (uint32_t)i * 100;
		struct fb d, a;
		size_t pl;

		fb_init(&d);
		fb_eth(&d, CN2_MAC, CN1_MAC, FB_ETH_IPV4, NULL, 0);
		fb_ipv4(&d, FB_IP_TCP, CN1_IP, CN2_IP, 0);
		fb_tcp(&d, 40000, 49152, seq, 1, 0x18, 0);
		pl = fb_payload(&d, 100);
		if (i == 0)
			memcpy(d.buf + pl, "QEVM\0\0\0\3", 8);
		fb_done(&d, 0);
		put(s, SRC, t, &d);
		put(s, DST, t + LINK, &d);
		fb_init(&a);
		fb_eth(&a, CN1_MAC, CN2_MAC, FB_ETH_IPV4, NULL, 0);
		fb_ipv4(&a, FB_IP_TCP, CN2_IP, CN1_IP, 0);
		fb_tcp(&a, 49152, 40000, 1, seq + 100, 0x10, 0);
		fb_done(&a, 0);
		put(s, DST, t + LINK + 20 * US, &a);
		put(s, SRC, t + 2 * LINK + 20 * US, &a);
	}
}

static int cmp_rec(const void *a, const void *b)
{
	int64_t x = ((const struct rec *)a)->ts, y = ((const struct rec *)b)->ts;

	return (x > y) - (x < y);
}

static void write_pcap(const char *path, struct rec *recs, int n)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
							 PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d;

	assert_non_null(p);
	d = pcap_dump_open(p, path);
	assert_non_null(d);
	qsort(recs, (size_t)n, sizeof(*recs), cmp_rec);
	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .caplen = recs[i].len, .len = recs[i].len };

		h.ts.tv_sec = recs[i].ts / 1000000000;
		h.ts.tv_usec = recs[i].ts % 1000000000;
		pcap_dump((u_char *)d, &h, recs[i].data);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

/* Simulates, writes the captures the spec has, analyzes them; the report is
 * the caller's to report_free(). */
static void run(const struct sim_spec *sp, struct report *r)
{
	static const char *const labels[NV] = { "src", "dst", "ctl" };
	char dir[] = "/tmp/test-diagnose-XXXXXX", paths[NV][64], err[256] = "";
	struct analyze_config cfg;
	struct sim s = { 0 };
	int64_t last = END + (sp->stop_probes ? 0 : sp->observe_ms ? sp->observe_ms : 3000) * MS;
	uint16_t seq = 1;

	assert_non_null(mkdtemp(dir));
	for (int v = 0; v < NV; v++) {
		s.recs[v] = calloc(MAX_RECS, sizeof(struct rec));
		assert_non_null(s.recs[v]);
	}
	stream(&s);
	for (int64_t t = T0; t <= last; t += PROBE)
		probe(&s, sp, t, seq++);
	if (!sp->cancelled) {
		announce_burst(&s, sp, RESUME);
		if (sp->burst2_ms)
			announce_burst(&s, sp, RESUME + sp->burst2_ms * MS);
	}
	memset(&cfg, 0, sizeof(cfg));
	portset_parse(&cfg.ports, PORTSET_DEFAULT);
	cfg.guest_mac_set = true;
	memcpy(cfg.guest_mac, GUEST_MAC, 6);
	for (int v = 0; v < NV; v++) {
		snprintf(paths[v], sizeof(paths[v]), "%s/%s.pcap", dir, labels[v]);
		if (!sp->capture[v])
			continue;
		write_pcap(paths[v], s.recs[v], s.n[v]);
		cfg.paths[cfg.ninputs] = paths[v];
		cfg.labels[cfg.ninputs++] = labels[v];
	}
	assert_int_equal(analyze(&cfg, r, err, sizeof(err)), 0);
	for (int v = 0; v < NV; v++) {
		unlink(paths[v]);
		free(s.recs[v]);
	}
	rmdir(dir);
	assert_int_equal(r->nmigrations, 1);
}

/* ---- assertions ------------------------------------------------------- */

static const struct report_migration *mig(const struct report *r)
{
	return &r->migrations[0];
}

static void assert_verdict(const struct report *r, const char *code)
{
	if (strcmp(mig(r)->verdict.code, code))
		fail_msg("verdict %s (%s), want %s", mig(r)->verdict.code, mig(r)->verdict.summary, code);
}

/* Some evidence line holds `text`. */
static void assert_evidence(const struct report *r, const char *text)
{
	const struct report_migration *m = mig(r);

	for (int i = 0; i < m->verdict.nevidence; i++)
		if (strstr(m->verdict.evidence[i], text))
			return;
	for (int i = 0; i < m->verdict.nevidence; i++)
		print_message("evidence: %s\n", m->verdict.evidence[i]);
	fail_msg("no evidence line with \"%s\"", text);
}

static void assert_summary(const struct report *r, const char *text)
{
	if (!strstr(mig(r)->verdict.summary, text))
		fail_msg("summary \"%s\" lacks \"%s\"", mig(r)->verdict.summary, text);
}

static const struct report_timeline_event *event(const struct report *r, const char *name)
{
	const struct report_switchover *s = &mig(r)->sw;

	for (int i = 0; i < s->ntimeline; i++)
		if (!strcmp(s->timeline[i].event, name))
			return &s->timeline[i];
	fail_msg("no timeline event %s", name);
	return NULL;
}

static void assert_duration(const struct report *r, int64_t want_ns)
{
	assert_true(mig(r)->verdict.duration_ns.set);
	assert_int_equal(mig(r)->verdict.duration_ns.v, want_ns);
}

/* ---- ok ---------------------------------------------------------------- */

static void test_ok_timeline(void **state)
{
	struct sim_spec sp = healthy();
	const struct report_switchover *s;
	struct report r;

	(void)state;
	run(&sp, &r);
	s = &mig(&r)->sw;
	assert_verdict(&r, "ok");
	assert_true(s->completed.set && s->completed.v);
	assert_string_equal(mig(&r)->verdict.resume_basis, "rarp_at_dst");
	assert_int_equal(mig(&r)->verdict.resume_ns.v, RESUME);
	/* every event but a request at the source after the resume seen, in time
	 * order, at the instants the simulation put them */
	assert_int_equal(s->ntimeline, REPORT_TIMELINE_EVENTS);
	assert_string_equal(s->timeline[s->ntimeline - 1].event, TL_LAST_REQUEST_SRC);
	assert_int_equal(s->timeline[s->ntimeline - 1].state, TL_NOT_SEEN);
	for (int i = 0; i < s->ntimeline - 1; i++) {
		assert_int_equal(s->timeline[i].state, TL_SEEN);
		/* the report's t (from the resume) and "since previous" */
		assert_true(s->timeline[i].t_ns.set);
		assert_int_equal(s->timeline[i].t_ns.v, s->timeline[i].ts_ns - RESUME);
		assert_int_equal(s->timeline[i].since_prev_ns.set, i > 0);
		if (i) {
			assert_true(s->timeline[i - 1].ts_ns <= s->timeline[i].ts_ns);
			assert_int_equal(s->timeline[i].since_prev_ns.v,
					 s->timeline[i].ts_ns - s->timeline[i - 1].ts_ns);
		}
	}
	/* the last reply left the source for the request at PAUSE - 10 ms */
	assert_int_equal(event(&r, TL_GUEST_LAST_SRC)->ts_ns, PAUSE - 10 * MS + LINK + TURN);
	assert_string_equal(event(&r, TL_GUEST_LAST_SRC)->vantage, "src");
	assert_int_equal(event(&r, TL_STREAM_END)->ts_ns, END);
	assert_int_equal(event(&r, TL_RESUME)->ts_ns, RESUME);
	assert_string_equal(event(&r, TL_RESUME)->vantage, "dst");
	assert_int_equal(event(&r, TL_FIRST_ANNOUNCE_PROBER)->ts_ns, RESUME + LINK);
	/* the request at END + LINK reached the source before the resume */
	assert_int_equal(event(&r, TL_FIRST_REQUEST_DST)->ts_ns, END + PROBE + LINK);
	assert_int_equal(event(&r, TL_FIRST_REPLY_DST)->ts_ns, END + PROBE + LINK + TURN);
	assert_int_equal(event(&r, TL_FIRST_REPLY_PROBER)->ts_ns, END + PROBE + 2 * LINK + TURN);
	assert_int_equal(mig(&r)->verdict.reconvergence_ns.v, END + PROBE + 2 * LINK + TURN - RESUME);
	assert_false(mig(&r)->verdict.duration_ns.set);
	assert_summary(&r, "requests reached the destination");
	report_free(&r);
}

static void test_ok_schedule(void **state)
{
	struct sim_spec sp = healthy();
	const struct report_announce_sched *s;
	struct report r;

	(void)state;
	run(&sp, &r);
	s = &mig(&r)->sw.sched;
	assert_true(s->checked);
	assert_int_equal(s->anchor, DST);
	assert_int_equal(s->nbursts, 1);
	for (int k = 0; k < 5; k++)
		for (int v = 0; v < NV; v++)
			assert_int_not_equal(s->burst[0].round[k].seen_ns[v], 0);
	assert_int_equal(s->burst[0].round[4].expected_ns, RESUME + 800 * MS);
	assert_int_equal(s->guest_input, DST);
	assert_int_equal(s->guest_garps, 5);
	assert_int_equal(s->guest_garp_after_resume_ns.v, 30 * MS);
	assert_false(s->guest_na_after_resume_ns.set);
	report_free(&r);
}

/* Requests moved in time though no announcement got past the switch (the
 * network learned from other frames): ok, and the evidence says so. */
static void test_ok_announcements_lost(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.announce_lost = true;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	assert_evidence(&r, "10 announcements left the destination NIC and none reached the prober or the source NIC");
	assert_false(report_has_findings(&r));
	report_free(&r);
}

/* ---- not completed ------------------------------------------------------ */

static void test_cancelled_is_ok_not_completed(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.cancelled = true;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	assert_true(mig(&r)->sw.completed.set);
	assert_false(mig(&r)->sw.completed.v);
	assert_summary(&r, "migration did not complete");
	assert_evidence(&r, "301 of 301 requests that reached the source NIC after the stream");
	assert_false(report_has_findings(&r));
	report_free(&r);
}

/* ---- no_announce -------------------------------------------------------- */

static void test_no_announce_never(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.rarp_rounds = 0;
	sp.move_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "no_announce");
	assert_string_equal(mig(&r)->verdict.resume_basis, "stream_end");
	assert_false(mig(&r)->verdict.duration_ns.set);
	assert_summary(&r, "until the captures end");
	assert_evidence(&r, "0 RARP, 0 GARP, 0 NA left the destination NIC");
	/* no RARP: from the stream's end, so from the request sent at END
	 * (seq 101, at the source NIC 40 us later) to END + 3 s (seq 401) */
	assert_evidence(&r, "requests 101..401 (301) still delivered to the source NIC until the capture ends");
	assert_int_equal(event(&r, TL_RESUME)->state, TL_NOT_SEEN);
	assert_true(report_has_findings(&r));
	report_free(&r);
}

/* QEMU announced nothing, the guest did (its GARP 30 ms after it ran on the
 * destination): the resume is that GARP leaving the destination NIC, not
 * the stream's end, and an announcement left: not no_announce. */
static void test_resume_on_guest_announce(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.garp_only = true;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	assert_string_equal(mig(&r)->verdict.resume_basis, "announce_at_dst");
	assert_int_equal(mig(&r)->verdict.resume_ns.v, RESUME + 30 * MS);
	assert_int_equal(mig(&r)->sw.t0_ns, RESUME + 30 * MS);
	/* the guest's silence ends at that GARP, from its last frame at src */
	assert_int_equal(mig(&r)->downtime.silence_end_ns.v, RESUME + 30 * MS);
	assert_int_equal(mig(&r)->downtime.silence_start_ns.v, PAUSE - 10 * MS + LINK + TURN);
	assert_int_equal(event(&r, TL_RESUME)->state, TL_NOT_SEEN);
	report_free(&r);
}

/* The network learned the guest from its own frames 500 ms after resume:
 * still no_announce, with the time it took. */
static void test_no_announce_relearned(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.rarp_rounds = 0;
	sp.move_ms = 500;
	run(&sp, &r);
	assert_verdict(&r, "no_announce");
	/* no RARP: the times are from the stream end; the first request at or
	 * after END + 5 ms + 500 ms is sent at END + 510 ms */
	assert_duration(&r, 510 * MS + LINK);
	assert_summary(&r, "once the network learned the guest from its own traffic");
	assert_evidence(&r, "requests reached the destination NIC 510.040 ms after resume");
	report_free(&r);
}

/* ---- stale_forwarding --------------------------------------------------- */

static void test_stale_forwarding_never(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.announce_lost = true;
	sp.move_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "stale_forwarding");
	assert_false(mig(&r)->verdict.duration_ns.set);
	assert_evidence(&r, "10 announcements left the destination NIC (5 RARP, 5 GARP, 0 NA); 0 reached the prober, 0 the source NIC");
	assert_evidence(&r, "requests 102..401 (300) still delivered to the source NIC until the capture ends");
	assert_int_equal(event(&r, TL_FIRST_ANNOUNCE_PROBER)->state, TL_NOT_SEEN);
	assert_int_equal(event(&r, TL_FIRST_REQUEST_DST)->state, TL_NOT_SEEN);
	assert_false(mig(&r)->reachable_after.v);
	report_free(&r);
}

/* Port not ready: announcements lost until announce-self 4.7 s later. */
static void test_stale_forwarding_recovered(void **state)
{
	struct sim_spec sp = healthy();
	const struct report_announce_sched *s;
	struct report r;

	(void)state;
	sp.announce_lost = true;
	sp.burst2_ms = 4700;
	sp.move_ms = 4700;
	sp.observe_ms = 6000;
	run(&sp, &r);
	assert_verdict(&r, "stale_forwarding");
	/* the first request after RESUME + 4.7 s: sent at END + 4.71 s */
	assert_duration(&r, 4705 * MS + LINK);
	assert_summary(&r, "the network kept the old location for 4.705 s after resume");
	assert_evidence(&r, "another announce burst left the dst 4.700 s after resume; requests moved 5.040 ms after it");
	assert_evidence(&r, "requests reached the destination NIC 4.705 s after resume (request 572)");
	assert_true(mig(&r)->reachable_after.v);
	assert_true(report_has_findings(&r));
	s = &mig(&r)->sw.sched;
	assert_int_equal(s->nbursts, 2);
	/* burst 1 left dst and reached neither the prober nor the source */
	for (int k = 0; k < 5; k++) {
		assert_int_not_equal(s->burst[0].round[k].seen_ns[DST], 0);
		assert_int_equal(s->burst[0].round[k].seen_ns[CTL], 0);
		assert_int_not_equal(s->burst[1].round[k].seen_ns[CTL], 0);
	}
	report_free(&r);
}

/* ---- announce_without_ip ----------------------------------------------- */

/* Only RARPs, carried to every vantage, and requests never move: a network
 * that learns locations from IP-carrying announcements. */
static void test_announce_without_ip_never(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.rarp_only = true;
	sp.move_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "announce_without_ip");
	assert_false(mig(&r)->verdict.duration_ns.set);
	assert_summary(&r, "only RARPs announced the guest, none with its IP: requests still went to the old location until the captures end");
	assert_evidence(&r, "announcements of the guest from the resume: destination NIC 5 RARP, 0 GARP, 0 NA; source NIC 5 RARP, 0 GARP, 0 NA; prober 5 RARP, 0 GARP, 0 NA");
	assert_evidence(&r, "the RARPs reached the prober and the source NIC and the network did not move the guest on them");
	assert_evidence(&r, "requests 102..401 (300) still delivered to the source NIC until the capture ends");
	assert_true(report_has_findings(&r));
	report_free(&r);
}

static void test_announce_without_ip_recovered(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.rarp_only = true;
	sp.move_ms = 2000;
	run(&sp, &r);
	assert_verdict(&r, "announce_without_ip");
	/* the first request sent at or after RESUME + 2 s: END + 2.01 s */
	assert_duration(&r, 2005 * MS + LINK);
	assert_summary(&r, "the network kept the old location for 2.005 s after resume");
	report_free(&r);
}

/* RARPs that reached no other vantage were lost: the type is not why. */
static void test_lost_rarps_are_stale_forwarding(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.rarp_only = true;
	sp.announce_lost = true;
	sp.move_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "stale_forwarding");
	assert_evidence(&r, "only RARPs left the destination NIC and none reached the prober or the source NIC: lost on the way");
	report_free(&r);
}

/* A network that moved the guest on RARPs alone: ok, with the caveat. */
static void test_rarp_only_reachable_is_ok(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.rarp_only = true;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	assert_evidence(&r, "only RARPs announced the guest (no GARP or NA with its IP): this network moved it on them");
	assert_false(report_has_findings(&r));
	report_free(&r);
}

/* ---- slow_guest: answers slower than the guest's own pace --------------- */

/* A starved vCPU: for 1 s after the resume the guest takes 50 ms to answer
 * (200 us before): a third of the answers after the resume are slow. */
static void test_slow_answers(void **state)
{
	struct sim_spec sp = healthy();
	const struct report_turnaround *b, *a;
	struct report r;

	(void)state;
	sp.slow_ms = 50;
	sp.slow_until_ms = 1000;
	run(&sp, &r);
	assert_verdict(&r, "slow_guest");
	b = &mig(&r)->outage.turnaround_before;
	a = &mig(&r)->outage.turnaround_after;
	assert_int_equal(b->answers, 80); /* T0 .. the stream's start, END - 200 ms */
	assert_int_equal(b->p90_ns, TURN);
	assert_int_equal(a->slow_above_ns, TURN + SLOW_MIN_EXTRA_NS);
	assert_int_equal(a->answers, 300);
	assert_int_equal(a->slow, 100);
	assert_int_equal(a->p90_ns, 50 * MS);
	/* request 1010 ms after T0 to the answer to the one of 2000 ms */
	assert_duration(&r, 990 * MS + 50 * MS);
	assert_summary(&r, "p90 50.000 ms at the destination NIC against 0.200 ms before the migration, for 1.040 s");
	assert_evidence(&r, "100 of 300 requests answered at the destination NIC after resume waited over 20.200 ms, from 5.040 ms to 1.045 s after resume (p50 0.200 ms, max 50.000 ms)");
	assert_evidence(&r, "precopy: all its memory was there at the resume");
	assert_true(report_has_findings(&r));
	report_free(&r);
}

/* 20 slow answers of 300: under a tenth, the p90 is the guest's pace. */
static void test_few_slow_answers_are_ok(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.slow_ms = 50;
	sp.slow_until_ms = 200;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	assert_int_equal(mig(&r)->outage.turnaround_after.slow, 20);
	assert_int_equal(mig(&r)->outage.turnaround_after.p90_ns, TURN);
	report_free(&r);
}

/* ---- ARP probes --------------------------------------------------------- */

/* arping instead of ping: the same switchover, measured by ARP requests and
 * the guest's replies (auto: no echo was answered). */
static void test_arp_probes(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.arp = true;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	assert_string_equal(mig(&r)->downtime.probe, "arp");
	assert_false(mig(&r)->downtime.icmp_unanswered.set);
	/* the last answer before the pause (the request sent 970 ms after T0)
	 * to the first after the resume (1010 ms): their replies at ctl */
	assert_int_equal(mig(&r)->downtime.probe_gap_ns.v, 40 * MS);
	assert_int_equal(mig(&r)->downtime.probe_interval_ns.v, PROBE);
	assert_int_equal(mig(&r)->loss.probes_sent.v, 401);
	assert_evidence(&r, "ARP probes (arping) measured the guest");
	report_free(&r);
}

/* Unicast ARP requests still reach the source NIC: stale forwarding. */
static void test_arp_probes_stale(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.arp = true;
	sp.announce_lost = true;
	sp.move_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "stale_forwarding");
	assert_evidence(&r, "requests 102..401 (300) still delivered to the source NIC until the capture ends");
	report_free(&r);
}

/* ---- destination_silent ------------------------------------------------- */

static void test_destination_silent_never(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.answer_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "destination_silent");
	assert_false(mig(&r)->verdict.duration_ns.set);
	assert_evidence(&r, "requests 102..401 (300) reached the destination NIC from 5.040 ms after resume; 0 of them were answered there");
	assert_int_equal(event(&r, TL_FIRST_REPLY_DST)->state, TL_NOT_SEEN);
	report_free(&r);
}

static void test_destination_silent_recovered(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.answer_ms = 2000;
	run(&sp, &r);
	assert_verdict(&r, "destination_silent");
	/* first request at END + 10 ms, first answered one sent at END + 2.01 s */
	assert_duration(&r, 2000 * MS + TURN);
	report_free(&r);
}

/* The guest answers after the resume, then falls silent to the end (a guest
 * kernel that crashed after the migration): judged over the whole time. */
static void test_silent_after_answering(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.silent_ms = 100;
	run(&sp, &r);
	assert_verdict(&r, "destination_silent");
	assert_true(mig(&r)->reachable_after.v);
	assert_false(mig(&r)->verdict.duration_ns.set);
	assert_summary(&r, "the guest answered after the resume, then did not");
	assert_evidence(&r, "no answer after them until the captures end: the guest hung or crashed "
			    "after the migration (its console would tell)");
	report_free(&r);
}

/* ... and answers again 1 s later: the duration is the silence. */
static void test_silent_after_answering_recovered(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.silent_ms = 100;
	sp.silent_until_ms = 1100;
	run(&sp, &r);
	assert_verdict(&r, "destination_silent");
	assert_duration(&r, 1000 * MS);
	assert_evidence(&r, "it answered again 1.000 s after the first unanswered request");
	report_free(&r);
}

/* The network moves 150 ms before the guest resumes (a port claimed
 * early): the requests of those 150 ms reach the destination NIC only, and
 * are lost there. */
static void test_early_cutover(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.move_ms = -150;
	run(&sp, &r);
	assert_verdict(&r, "early_cutover");
	/* the first request sent at or after RESUME - 150 ms (T0 + 860 ms)
	 * reaches dst a link later */
	assert_duration(&r, RESUME - (T0 + 860 * MS) - LINK);
	assert_evidence(&r, "no announcement of the guest left the destination NIC before the "
			    "resume: the network was told elsewhere (a port claimed early, a static "
			    "forwarding entry)");
	report_free(&r);
}

/* One request at the destination just before the resume is not a cutover. */
static void test_one_early_request_is_ok(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.move_ms = -8;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	report_free(&r);
}

/* Two probes lost after the resume are loss, not a silent guest. */
static void test_short_loss_after_answering_is_ok(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.silent_ms = 100;
	sp.silent_until_ms = 120;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	report_free(&r);
}

/* A reply 300 ms late is a slow guest, not a silent one (the grace). */
static void test_slow_answer_is_ok(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.answer_ms = 300;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	report_free(&r);
}

/* ---- return_path -------------------------------------------------------- */

static void test_return_path_never(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.back_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "return_path");
	assert_false(mig(&r)->verdict.duration_ns.set);
	assert_evidence(&r, "300 replies left the destination NIC from 5.240 ms after resume; 300 of them never reached the prober");
	assert_int_equal(event(&r, TL_FIRST_REPLY_PROBER)->state, TL_NOT_SEEN);
	assert_true(report_has_findings(&r));
	report_free(&r);
}

static void test_return_path_recovered(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.back_ms = 1000;
	run(&sp, &r);
	assert_verdict(&r, "return_path");
	/* first reply at dst: request at END + 10 ms; first back: request at END + 1.01 s */
	assert_duration(&r, 1000 * MS + LINK);
	report_free(&r);
}

/* ---- insufficient_data and fewer vantages ------------------------------- */

static void test_no_probes_after(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.stop_probes = true;
	run(&sp, &r);
	assert_verdict(&r, "insufficient_data");
	assert_evidence(&r, "capture at the prober to decide");
	report_free(&r);
}

/* Source and prober only: the stale requests are seen, whether anything
 * announced the guest is not. */
static void test_without_dst_stale(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.capture[DST] = false;
	sp.announce_lost = true;
	sp.move_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "stale_forwarding");
	assert_string_equal(mig(&r)->verdict.resume_basis, "stream_end");
	assert_evidence(&r, "could not decide whether any announcement left the destination");
	assert_int_equal(event(&r, TL_RESUME)->state, TL_NO_CAPTURE);
	report_free(&r);
}

/* Destination and prober only, requests never arrive: where they went needs
 * the source. */
static void test_without_src_not_at_destination(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.capture[SRC] = false;
	sp.announce_lost = true;
	sp.move_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "insufficient_data");
	assert_summary(&r, "needs the source NIC's capture");
	assert_evidence(&r, "a capture at the source NIC would show");
	assert_int_equal(event(&r, TL_LAST_REQUEST_SRC)->state, TL_NO_CAPTURE);
	report_free(&r);
}

/* Destination and prober only decide no_announce on their own. */
static void test_without_src_no_announce(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.capture[SRC] = false;
	sp.rarp_rounds = 0;
	sp.move_ms = 500;
	run(&sp, &r);
	assert_verdict(&r, "no_announce");
	report_free(&r);
}

/* Source and prober only, the guest never answers: destination_silent or
 * return_path, the destination's capture would tell. */
static void test_without_dst_no_reply(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.capture[DST] = false;
	sp.answer_ms = NEVER;
	run(&sp, &r);
	assert_verdict(&r, "insufficient_data");
	assert_evidence(&r, "a capture at the destination NIC would tell destination_silent");
	report_free(&r);
}

/* The compute NICs only: healthy, the way back is not checked. */
static void test_without_ctl_ok(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.capture[CTL] = false;
	run(&sp, &r);
	assert_verdict(&r, "ok");
	assert_evidence(&r, "no capture at the prober");
	assert_int_equal(event(&r, TL_FIRST_REPLY_PROBER)->state, TL_NO_CAPTURE);
	assert_int_equal(event(&r, TL_FIRST_ANNOUNCE_PROBER)->state, TL_NO_CAPTURE);
	report_free(&r);
}

/* Destination and prober only, nothing at the destination: not even whether
 * the migration completed is known. */
static void test_without_src_unknown_completion(void **state)
{
	struct sim_spec sp = healthy();
	struct report r;

	(void)state;
	sp.capture[SRC] = false;
	sp.cancelled = true;
	run(&sp, &r);
	assert_verdict(&r, "insufficient_data");
	assert_false(mig(&r)->sw.completed.set);
	assert_evidence(&r, "a capture at the source NIC would tell");
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_timeline),
		cmocka_unit_test(test_ok_schedule),
		cmocka_unit_test(test_ok_announcements_lost),
		cmocka_unit_test(test_cancelled_is_ok_not_completed),
		cmocka_unit_test(test_no_announce_never),
		cmocka_unit_test(test_no_announce_relearned),
		cmocka_unit_test(test_resume_on_guest_announce),
		cmocka_unit_test(test_stale_forwarding_never),
		cmocka_unit_test(test_stale_forwarding_recovered),
		cmocka_unit_test(test_announce_without_ip_never),
		cmocka_unit_test(test_announce_without_ip_recovered),
		cmocka_unit_test(test_lost_rarps_are_stale_forwarding),
		cmocka_unit_test(test_rarp_only_reachable_is_ok),
		cmocka_unit_test(test_arp_probes),
		cmocka_unit_test(test_arp_probes_stale),
		cmocka_unit_test(test_slow_answers),
		cmocka_unit_test(test_few_slow_answers_are_ok),
		cmocka_unit_test(test_destination_silent_never),
		cmocka_unit_test(test_destination_silent_recovered),
		cmocka_unit_test(test_silent_after_answering),
		cmocka_unit_test(test_silent_after_answering_recovered),
		cmocka_unit_test(test_short_loss_after_answering_is_ok),
		cmocka_unit_test(test_early_cutover),
		cmocka_unit_test(test_one_early_request_is_ok),
		cmocka_unit_test(test_slow_answer_is_ok),
		cmocka_unit_test(test_return_path_never),
		cmocka_unit_test(test_return_path_recovered),
		cmocka_unit_test(test_no_probes_after),
		cmocka_unit_test(test_without_dst_stale),
		cmocka_unit_test(test_without_src_not_at_destination),
		cmocka_unit_test(test_without_src_no_announce),
		cmocka_unit_test(test_without_dst_no_reply),
		cmocka_unit_test(test_without_ctl_ok),
		cmocka_unit_test(test_without_src_unknown_completion),
	};

	return cmocka_run_group_tests_name("diagnose", tests, NULL, NULL);
}
