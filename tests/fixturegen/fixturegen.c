/*
 * migscope-fixturegen - writes the deterministic fixtures (one pcap per NIC)
 * and, beside each scenario, a truth file: the analyze arguments and the
 * exact values the report must show, taken from the simulation.
 *
 *   migscope-fixturegen --all DIR            every scenario into DIR
 *   migscope-fixturegen --bench FILE SEGS    one source-NIC capture of a long
 *                                            stream, for `make bench`
 *   migscope-fixturegen --evacuate DIR NAME GUESTS CONCURRENCY PROBE_MS
 *                      [STAGGER_MS [CLOSE_LAG_US,...]]
 *                                            a drained host (evacuate.h); with
 *                                            STAGGER_MS, streams of one length
 *                                            starting that far apart, and the
 *                                            destinations closing that long
 *                                            after each guest resumed, in turn
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evacuate.h"
#include "scenario.h"
#include "sim.h"

static const char *const HOST_NAME[NHOSTS] = { "cn1", "cn2", "ctl" };
static const char *const HOST_IP_TEXT[NHOSTS] = { "198.18.0.1", "198.18.0.2", "198.18.0.10" };

struct fixture {
	struct scenario sc;
	const char *ext;     /* ".pcap" or ".pcap.gz" */
	bool labelled;       /* src=/dst=/ctl= on the command line, else detected */
	bool nic_only_truth; /* also a truth for the two compute NICs without ctl */
	bool ports_truth;    /* also a truth with --ports naming the scenario's port */
};

#define BASE_SCENARIO(nm, enc) \
	{ .name = nm, .encap = enc, .migrations = 1, .flows = 2, .segments = 800, \
	  .final_segments = 60, .seg_gap_ns = 500000, .lost = { 200, 450, 451 }, .nlost = 3 }

static const struct fixture FIXTURES[] = {
	{ BASE_SCENARIO("baseline", ENCAP_NONE), ".pcap", true, true, false },
	{ BASE_SCENARIO("vlan", ENCAP_VLAN), ".pcap.gz", true, false, false },
	{ BASE_SCENARIO("qinq", ENCAP_QINQ), ".pcap.gz", true, false, false },
	{ BASE_SCENARIO("vxlan", ENCAP_VXLAN), ".pcap.gz", true, false, false },
	{ BASE_SCENARIO("geneve", ENCAP_GENEVE), ".pcap.gz", false, false, false },
	{ { .name = "back-and-forth", .migrations = 2, .flows = 1, .segments = 600,
	    .final_segments = 40, .seg_gap_ns = 500000, .lost = { 100 }, .nlost = 1 },
	  ".pcap.gz", false, false, false },
	{ { .name = "lost-announce", .migrations = 1, .drop_announce = true, .flows = 1,
	    .segments = 600, .final_segments = 40, .seg_gap_ns = 500000 },
	  ".pcap.gz", true, false, false },
	{ { .name = "ipv6", .migrations = 1, .ipv6 = true, .flows = 1, .segments = 600,
	    .final_segments = 40, .seg_gap_ns = 500000, .lost = { 300 }, .nlost = 1 },
	  ".pcap.gz", true, false, false },
	/* the modes (modes.c): a guest that answers 800 ms after the first request
	 * reaching it (slow_guest), one within 300 ms (ok, and its captures left
	 * unlabelled), one whose destination sent announce round 1 450 ms late */
	{ { .kind = SC_POSTCOPY, .name = "postcopy", .migrations = 1, .flows = 1,
	    .stall_ns = 800 * MS },
	  ".pcap.gz", true, true, false },
	{ { .kind = SC_POSTCOPY, .name = "postcopy-fast", .migrations = 1, .flows = 1,
	    .stall_ns = 300 * MS },
	  ".pcap.gz", false, false, false },
	{ { .kind = SC_POSTCOPY, .name = "postcopy-late-announce", .migrations = 1, .flows = 1,
	    .stall_ns = 650 * MS, .late_ns = { 0, 450 * MS } },
	  ".pcap.gz", true, false, false },
	{ { .kind = SC_MULTIFD_TLS, .name = "multifd-tls", .migrations = 1, .flows = 5 },
	  ".pcap.gz", false, false, false },
	{ { .kind = SC_TUNNEL, .name = "tunnelled", .migrations = 1, .flows = 1, .port = 16509 },
	  ".pcap.gz", true, false, false },
	{ { .kind = SC_TUNNEL, .name = "tunnelled-tls", .migrations = 1, .flows = 1, .port = 16514,
	    .tls = true },
	  ".pcap.gz", true, false, false },
	{ { .kind = SC_PROXY, .name = "proxy", .migrations = 1, .flows = 1, .port = 40123,
	    .tls = true },
	  ".pcap.gz", true, false, true },
	{ { .kind = SC_NBD, .name = "nbd", .migrations = 1, .flows = 2 },
	  ".pcap.gz", true, false, false },
};

static void us(char *buf, size_t len, int64_t ns)
{
	snprintf(buf, len, "%" PRId64 ".%03" PRId64, ns / 1000, ns % 1000);
}

static void file_name(char *buf, size_t len, const struct fixture *fx, enum host h)
{
	snprintf(buf, len, "%s-%s%s", fx->sc.name, HOST_NAME[h], fx->ext);
}

/* How one truth file reads the fixture: with the prober's capture or not,
 * with --ports naming the scenario's port or not. */
struct truth_view {
	bool with_ctl;
	bool ports;
};

static void write_args(FILE *t, const struct fixture *fx, struct truth_view v)
{
	static const char *const label[NHOSTS] = { "src=", "dst=", "ctl=" };
	char name[128];

	fprintf(t, "args");
	if (v.ports)
		fprintf(t, " --ports %u", fx->sc.port);
	fprintf(t, " --format json");
	for (int h = 0; h < (v.with_ctl ? NHOSTS : CTL); h++) {
		file_name(name, sizeof(name), fx, (enum host)h);
		fprintf(t, " %s%s", fx->labelled ? label[h] : "", name);
	}
	fprintf(t, "\n");
}

/* The switchover as the simulation planted it: the timeline's events, QEMU's
 * announce rounds (the schedule itself, so matched at every vantage they
 * reached; a round the destination sent late was due its wait after the one
 * before), and the verdict: the switch that never sees an announcement keeps
 * sending the guest's requests to the source (stale forwarding, never over). */
static void write_switchover_truth(FILE *t, const struct fixture *fx, const struct sim_truth *tr,
				   int m, bool with_ctl)
{
	const struct mig_truth *mt = &tr->mig[m];
	const char *ev = ".timeline|map(select(.event==";
	const char *verdict = fx->sc.kind != SC_CLASSIC ? tr->mode.verdict
			    : fx->sc.drop_announce ? "stale_forwarding" : "ok";

	fprintf(t, ".migrations[%d].completed true\n", m);
	fprintf(t, ".migrations[%d]%s\"guest_last_at_src\"))[0].ns %" PRId64 "\n", m, ev,
		mt->last_guest_src_ns);
	/* t = 0 at the resume: QEMU's first RARP leaving the destination NIC */
	fprintf(t, ".migrations[%d].timeline_t0.event \"resume\"\n", m);
	fprintf(t, ".migrations[%d]%s\"stream_end\"))[0].t_ns %" PRId64 "\n", m, ev,
		mt->end_ns - mt->rarp_ns[0]);
	fprintf(t, ".migrations[%d]%s\"resume\"))[0].ns %" PRId64 "\n", m, ev, mt->rarp_ns[0]);
	fprintf(t, ".migrations[%d]%s\"first_announce_at_prober\"))[0].missing %s\n", m, ev,
		!with_ctl ? "\"no_capture\"" : fx->sc.drop_announce ? "\"not_seen\"" : "null");
	if (with_ctl && mt->reachable_after)
		fprintf(t, ".migrations[%d]%s\"first_reply_at_prober\"))[0].ns %" PRId64 "\n", m, ev,
			mt->first_reply_ctl_ns);
	fprintf(t, ".migrations[%d].announce_schedule.bursts|length 1\n", m);
	for (int k = 0; k < RARP_ROUNDS; k++)
		fprintf(t, ".migrations[%d].announce_schedule.bursts[0].rounds[%d].expected_ns %" PRId64
			"\n", m, k, mt->rarp_ns[k] - tr->mode.late_ns[k]);
	fprintf(t, ".migrations[%d].announce_schedule.bursts[0].not_at_prober %s\n", m,
		with_ctl && fx->sc.drop_announce ? "[0,1,2,3,4]" : "[]");
	fprintf(t, ".migrations[%d].verdict.code \"%s\"\n", m, verdict);
	fprintf(t, ".migrations[%d].verdict.resume_ns %" PRId64 "\n", m, mt->rarp_ns[0]);
	if (fx->sc.drop_announce)
		fprintf(t, ".migrations[%d].verdict.duration_us null\n", m);
}

static void write_migration_truth(FILE *t, const struct fixture *fx, const struct sim_truth *tr,
				  int m, bool with_ctl)
{
	const struct mig_truth *mt = &tr->mig[m];
	char a[48], b[48];
	int seen_rarp = fx->sc.drop_announce ? 1 : (with_ctl ? 3 : 2);

	fprintf(t, ".migrations[%d].source \"%s\"\n", m, HOST_IP_TEXT[mt->src]);
	fprintf(t, ".migrations[%d].destination \"%s\"\n", m, HOST_IP_TEXT[mt->dst]);
	file_name(a, sizeof(a), fx, mt->src);
	file_name(b, sizeof(b), fx, mt->dst);
	fprintf(t, ".migrations[%d].vantage.src \"%s\"\n", m, a);
	fprintf(t, ".migrations[%d].vantage.dst \"%s\"\n", m, b);
	fprintf(t, ".migrations[%d].stream.flows %d\n", m, fx->sc.flows);
	fprintf(t, ".migrations[%d].stream.channels|length %d\n", m, fx->sc.flows);
	if (tr->mode.postcopy) {
		/* the stream ran on after the resume: write_mode_truth has the rest */
		fprintf(t, ".migrations[%d].stream.mode \"postcopy\"\n", m);
	} else {
		/* the simulated stream ends before the resume, as precopy does */
		fprintf(t, ".migrations[%d].stream.mode \"precopy\"\n", m);
		fprintf(t, ".migrations[%d].stream.postcopy null\n", m);
	}
	fprintf(t, ".migrations[%d].stream.start_ns %" PRId64 "\n", m, mt->start_ns);
	fprintf(t, ".migrations[%d].stream.end_ns %" PRId64 "\n", m, mt->end_ns);
	us(a, sizeof(a), mt->end_ns - mt->start_ns);
	fprintf(t, ".migrations[%d].stream.migration_time_us %s\n", m, a);
	fprintf(t, ".migrations[%d].stream.out_bytes %" PRIu64 "\n", m, mt->out_bytes);
	fprintf(t, ".migrations[%d].stream.in_bytes %" PRIu64 "\n", m, mt->in_bytes);
	fprintf(t, ".migrations[%d].stream.retransmitted_segments %" PRIu64 "\n", m,
		mt->retx_segments);
	fprintf(t, ".migrations[%d].stream.retransmitted_bytes %" PRIu64 "\n", m, mt->retx_bytes);
	fprintf(t, ".migrations[%d].downtime.probe_interval_us 10000.000\n", m);
	if (mt->reachable_after) {
		us(a, sizeof(a), with_ctl ? mt->first_reply_ctl_ns - mt->last_reply_ctl_ns
					  : mt->first_reply_nic_ns - mt->last_reply_nic_ns);
		fprintf(t, ".migrations[%d].downtime.probe_gap_us %s\n", m, a);
	} else {
		fprintf(t, ".migrations[%d].downtime.probe_gap_us null\n", m);
	}
	us(a, sizeof(a), mt->first_guest_dst_ns - mt->last_guest_src_ns);
	fprintf(t, ".migrations[%d].downtime.guest_silence_us %s\n", m, a);
	fprintf(t, ".migrations[%d].announce.rarp|length %d\n", m, RARP_ROUNDS * seen_rarp);
	fprintf(t, ".migrations[%d].announce.rarp[0].ns %" PRId64 "\n", m, mt->rarp_ns[0]);
	fprintf(t, ".migrations[%d].announce.rarp[0].vantage \"dst\"\n", m);
	/* the first announcement at or after the stream's end: a round leaves
	 * the destination NIC before any other capture sees it */
	snprintf(a, sizeof(a), "null");
	for (int k = RARP_ROUNDS - 1; k >= 0; k--)
		if (mt->rarp_ns[k] >= mt->end_ns)
			us(a, sizeof(a), mt->rarp_ns[k] - mt->end_ns);
	fprintf(t, ".migrations[%d].announce.first_after_stream_end_us %s\n", m, a);
	fprintf(t, ".migrations[%d].announce.na|length %d\n", m, fx->sc.ipv6 ? (with_ctl ? 3 : 2) : 0);
	fprintf(t, ".migrations[%d].reachable_after %s\n", m, mt->reachable_after ? "true" : "false");
	write_switchover_truth(t, fx, tr, m, with_ctl);
}

static const char *const PHASE_NAME[PHASES] = { "before", "precopy", "pause", "postcopy",
						"after" };

static void opt_ns(char *buf, size_t len, int64_t ns)
{
	if (ns)
		snprintf(buf, len, "%" PRId64, ns);
	else
		snprintf(buf, len, "null");
}

static void opt_us(char *buf, size_t len, int64_t ns)
{
	if (ns)
		us(buf, len, ns);
	else
		snprintf(buf, len, "null");
}

/* What the modes' scenarios add: how the migration travelled (its detection,
 * features, channels with their bytes; the postcopy phase's figures), the
 * probes per phase around the resume, the verdict's figures, the late
 * announce rounds, and whether the report says it found the stream by its
 * shape. With --ports naming the proxy's port, the stream is on a migration
 * port: no shape, no "proxied", its one channel the main one. */
static void write_mode_truth(FILE *t, const struct sim_truth *tr, struct truth_view v)
{
	const struct mode_truth *md = &tr->mode;
	const struct mig_truth *mt = &tr->mig[0];
	const struct probe_view_truth *pv = v.with_ctl ? &md->at_ctl : &md->at_nic;
	const char *ev = ".timeline|map(select(.event==";
	const char *p = ".migrations[0]";
	bool shaped = md->shaped && !v.ports;
	char a[48];

	fprintf(t, "%s.stream.detected_by \"%s\"\n", p, shaped || !md->shaped ? md->detected_by
								 : "port,tls");
	fprintf(t, "%s.stream.features %s\n", p, shaped || !md->shaped ? md->features : "[\"tls\"]");
	fprintf(t, "%s.stream.channels|map(.kind) [", p);
	for (int k = 0; k < md->nch; k++)
		fprintf(t, "%s\"%s\"", k ? "," : "", md->shaped && !shaped ? "main" : md->ch[k].kind);
	fprintf(t, "]\n");
	for (int k = 0; k < md->nch; k++) {
		const struct channel_truth *ch = &md->ch[k];

		fprintf(t, "%s.stream.channels[%d].src_port %u\n", p, k, ch->src_port);
		fprintf(t, "%s.stream.channels[%d].dst_port %u\n", p, k, ch->dst_port);
		fprintf(t, "%s.stream.channels[%d].out_bytes %" PRIu64 "\n", p, k, ch->out_bytes);
		fprintf(t, "%s.stream.channels[%d].in_bytes %" PRIu64 "\n", p, k, ch->in_bytes);
		fprintf(t, "%s.stream.channels[%d].reverse_bytes %" PRIu64 "\n", p, k,
			ch->reverse_bytes);
	}
	if (md->postcopy) {
		us(a, sizeof(a), mt->end_ns - mt->resume_ns);
		fprintf(t, "%s.stream.postcopy.duration_us %s\n", p, a);
		fprintf(t, "%s.stream.postcopy.bytes_after_resume %" PRIu64 "\n", p,
			md->bytes_after_resume);
		fprintf(t, "%s.stream.postcopy.page_requests %u\n", p, md->page_requests);
		fprintf(t, "%s.stream.postcopy.first_request_ns %" PRId64 "\n", p,
			md->first_request_ns);
		fprintf(t, "%s.stream.postcopy.last_request_ns %" PRId64 "\n", p, md->last_request_ns);
	}
	for (int ph = 0; ph < PHASES; ph++) {
		const struct phase_truth *pt = &pv->phase[ph];

		opt_ns(a, sizeof(a), pv->phase_start[ph]);
		fprintf(t, "%s.loss.phase_start_ns.%s %s\n", p, PHASE_NAME[ph], a);
		fprintf(t, "%s.loss.by_phase.%s.sent %u\n", p, PHASE_NAME[ph], pt->sent);
		fprintf(t, "%s.loss.by_phase.%s.lost %u\n", p, PHASE_NAME[ph], pt->lost);
		/* every answered probe of the phase took one round trip: its
		 * median and 99th percentile */
		if (pt->rtt_min != pt->rtt_max)
			continue;
		opt_us(a, sizeof(a), pt->rtt_min);
		fprintf(t, "%s.loss.by_phase.%s.rtt_p50_us %s\n", p, PHASE_NAME[ph], a);
		fprintf(t, "%s.loss.by_phase.%s.rtt_p99_us %s\n", p, PHASE_NAME[ph], a);
	}
	opt_us(a, sizeof(a), md->verdict_duration_ns);
	fprintf(t, "%s.verdict.duration_us %s\n", p, a);
	opt_us(a, sizeof(a), pv->gap_end ? pv->gap_end - mt->resume_ns : 0);
	fprintf(t, "%s.verdict.reconvergence_us %s\n", p, a);
	fprintf(t, "%s%s\"first_request_at_dst\"))[0].ns %" PRId64 "\n", p, ev,
		md->first_req_dst_ns);
	/* the outage's parts from the resume (QEMU's first RARP at the
	 * destination NIC): the network's move, then the guest's answer */
	opt_us(a, sizeof(a), md->first_req_dst_ns ? md->first_req_dst_ns - mt->rarp_ns[0] : 0);
	fprintf(t, "%s.outage.reconvergence_us %s\n", p, a);
	opt_us(a, sizeof(a), md->first_rep_dst_ns && md->first_req_dst_ns
				     ? md->first_rep_dst_ns - md->first_req_dst_ns : 0);
	fprintf(t, "%s.outage.guest_answer_us %s\n", p, a);
	fprintf(t, "%s%s\"first_reply_at_dst\"))[0].ns %" PRId64 "\n", p, ev, md->first_rep_dst_ns);
	opt_ns(a, sizeof(a), md->last_req_src_ns);
	fprintf(t, "%s%s\"last_request_at_src\"))[0].ns %s\n", p, ev, a);
	for (int k = 0; k < RARP_ROUNDS; k++)
		fprintf(t, "%s.announce_schedule.bursts[0].rounds[%d].late_ns %" PRId64 "\n", p, k,
			md->late_ns[k]);
	fprintf(t, "%s.announce_schedule.bursts[0].by_vantage|map(.seen) %s\n", p,
		v.with_ctl ? "[5,5,5]" : "[5,5]");
	fprintf(t, ".warnings|any(test(\"found\\\\sby\\\\sits\\\\sshape\")) %s\n",
		shaped ? "true" : "false");
}

static int write_truth(const char *dir, const struct fixture *fx, const struct sim_truth *tr,
		       struct truth_view v)
{
	char path[512];
	FILE *t;

	snprintf(path, sizeof(path), "%s/%s%s.truth", dir, fx->sc.name,
		 v.ports ? "-ports" : v.with_ctl ? "" : "-nic");
	t = fopen(path, "w");
	if (!t)
		return -errno;
	fprintf(t, "# written by migscope-fixturegen from the simulation: do not edit\n");
	write_args(t, fx, v);
	fprintf(t, ".schema \"migscope.report.v2\"\n");
	fprintf(t, ".migrations|length %d\n", fx->sc.migrations);
	fprintf(t, ".guest.mac \"52:54:00:12:34:56\"\n");
	if (!fx->sc.ipv6)
		fprintf(t, ".guest.ipv4 \"198.18.0.100\"\n");
	else
		fprintf(t, ".guest.ipv6 \"2001:db8::100\"\n");
	for (int m = 0; m < fx->sc.migrations; m++)
		write_migration_truth(t, fx, tr, m, v.with_ctl);
	if (fx->sc.migrations == 1) {
		uint32_t answered = v.with_ctl ? tr->probes_answered : tr->probes_answered_nic;

		fprintf(t, ".migrations[0].loss.probes_sent %u\n", tr->probes_sent);
		fprintf(t, ".migrations[0].loss.probes_answered %u\n", answered);
		fprintf(t, ".migrations[0].loss.lost_probes %u\n", tr->probes_sent - answered);
	}
	if (fx->sc.kind != SC_CLASSIC)
		write_mode_truth(t, tr, v);
	return fclose(t) ? -EIO : 0;
}

static int generate(const char *dir, const struct fixture *fx)
{
	struct capture_set cs = { 0 };
	struct sim_truth truth;
	char path[512], name[128];
	int rc = scenario_run(&fx->sc, &cs, &truth);

	for (int h = 0; !rc && h < NHOSTS; h++) {
		file_name(name, sizeof(name), fx, (enum host)h);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		rc = cs_write(&cs, h, path);
	}
	if (!rc)
		rc = write_truth(dir, fx, &truth, (struct truth_view){ .with_ctl = true });
	if (!rc && fx->nic_only_truth)
		rc = write_truth(dir, fx, &truth, (struct truth_view){ .with_ctl = false });
	if (!rc && fx->ports_truth)
		rc = write_truth(dir, fx, &truth, (struct truth_view){ .with_ctl = true, .ports = true });
	cs_free(&cs);
	return rc;
}

/* Destinations closing late, as a loaded host's QEMU does (measured 0.3 to
 * 10.4 ms after the first RARP): guest 0's close lands beside guest 1's
 * resume, 13 ms after its own. */
static const int64_t LATE_CLOSES[] = { 14 * MS, 2 * MS, 300 * US };

/* The evacuations: three guests at once, three one after another on the
 * same port 500 ms apart (each stream still a migration of its own), and
 * three at once resuming 13 ms apart with late closes. */
static const struct evac_params EVACUATIONS[] = {
	{ .name = "evacuate-3", .guests = 3, .concurrency = 3, .probe_ns = 10 * MS,
	  .wave_gap_ns = 500 * MS, .segments = 300 },
	{ .name = "evacuate-3-serial", .guests = 3, .concurrency = 1, .probe_ns = 10 * MS,
	  .wave_gap_ns = 500 * MS, .segments = 300 },
	{ .name = "evacuate-3-late-close", .guests = 3, .concurrency = 3, .probe_ns = 10 * MS,
	  .wave_gap_ns = 500 * MS, .segments = 300, .even_sizes = true, .stagger_ns = 13 * MS,
	  .close_lag_ns = LATE_CLOSES, .nclose_lags = 3 },
};

static void evac_truth_line(FILE *t, int m, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void evac_truth_line(FILE *t, int m, const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(t, ".migrations[%d]%s ", m, path);
	va_start(ap, fmt);
	vfprintf(t, fmt, ap);
	va_end(ap);
	fputc('\n', t);
}

static int cmp_ns(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The evacuation at a glance: every guest's probe gap, ranked (nearest rank,
 * as an operator's percentile: always one guest's figure). */
static int write_evac_summary(FILE *t, const struct evac_params *p, const struct evac_truth *tr)
{
	int64_t *gap = calloc((size_t)p->guests, sizeof(*gap));
	uint64_t bytes = 0;
	int n = p->guests;
	char a[48];

	if (!gap)
		return -ENOMEM;
	for (int k = 0; k < n; k++) {
		gap[k] = tr[k].first_reply_ctl_ns - tr[k].last_reply_ctl_ns;
		bytes += tr[k].out_bytes;
	}
	qsort(gap, (size_t)n, sizeof(*gap), cmp_ns);
	fprintf(t, ".evacuation.migrations %d\n.evacuation.guests %d\n", n, n);
	fprintf(t, ".evacuation.max_concurrent %d\n", p->concurrency < n ? p->concurrency : n);
	fprintf(t, ".evacuation.total_bytes %" PRIu64 "\n", bytes);
	us(a, sizeof(a), gap[n - 1]);
	fprintf(t, ".evacuation.worst_downtime_us %s\n", a);
	us(a, sizeof(a), gap[(n * 50 + 99) / 100 - 1]);
	fprintf(t, ".evacuation.median_downtime_us %s\n", a);
	us(a, sizeof(a), gap[(n * 95 + 99) / 100 - 1]);
	fprintf(t, ".evacuation.p95_downtime_us %s\n", a);
	fprintf(t, ".evacuation.start_ns %" PRId64 "\n", tr[0].start_ns);
	fprintf(t, ".evacuation.verdicts [{\"code\":\"ok\",\"count\":%d}]\n", n);
	free(gap);
	return 0;
}

/* Each guest's own migration, in the order they began. */
static int write_evac_truth(const char *dir, const struct evac_params *p,
			    const struct evac_truth *tr)
{
	char path[512], a[48];
	FILE *t;

	snprintf(path, sizeof(path), "%s/%s.truth", dir, p->name);
	t = fopen(path, "w");
	if (!t)
		return -errno;
	fprintf(t, "# written by migscope-fixturegen from the simulation: do not edit\n");
	fprintf(t, "args --format json src=%s-cn1.pcap.gz dst=%s-cn2.pcap.gz ctl=%s-ctl.pcap.gz\n",
		p->name, p->name, p->name);
	fprintf(t, ".schema \"migscope.report.v2\"\n");
	fprintf(t, ".migrations|length %d\n", p->guests);
	for (int m = 0; m < p->guests; m++) {
		const struct evac_truth *g = &tr[m];

		evac_truth_line(t, m, ".guest.mac", "\"%02x:%02x:%02x:%02x:%02x:%02x\"", g->mac[0],
				g->mac[1], g->mac[2], g->mac[3], g->mac[4], g->mac[5]);
		evac_truth_line(t, m, ".guest.ipv4", "\"%u.%u.%u.%u\"", g->ip[0], g->ip[1], g->ip[2],
				g->ip[3]);
		evac_truth_line(t, m, ".source", "\"%s\"", HOST_IP_TEXT[CN1]);
		evac_truth_line(t, m, ".destination", "\"%s\"", HOST_IP_TEXT[CN2]);
		evac_truth_line(t, m, ".stream.channels|map(.dst_port)", "[%u]", g->port);
		evac_truth_line(t, m, ".stream.start_ns", "%" PRId64, g->start_ns);
		evac_truth_line(t, m, ".stream.end_ns", "%" PRId64, g->end_ns);
		evac_truth_line(t, m, ".stream.out_bytes", "%" PRIu64, g->out_bytes);
		evac_truth_line(t, m, ".stream.in_bytes", "%" PRIu64, g->in_bytes);
		evac_truth_line(t, m, ".stream.mode", "\"precopy\"");
		us(a, sizeof(a), g->first_reply_ctl_ns - g->last_reply_ctl_ns);
		evac_truth_line(t, m, ".downtime.probe_gap_us", "%s", a);
		us(a, sizeof(a), g->resume_ns - g->last_frame_src_ns);
		evac_truth_line(t, m, ".downtime.guest_silence_us", "%s", a);
		evac_truth_line(t, m, ".loss.probes_sent", "%u", g->probes_sent);
		evac_truth_line(t, m, ".loss.lost_probes", "%u", g->probes_sent - g->probes_answered);
		evac_truth_line(t, m, ".announce.rarp|length", "%d", RARP_ROUNDS * 3);
		evac_truth_line(t, m, ".verdict.resume_ns", "%" PRId64, g->resume_ns);
		evac_truth_line(t, m, ".verdict.code", "\"ok\"");
		evac_truth_line(t, m, ".reachable_after", "true");
	}
	if (p->guests > 1 && write_evac_summary(t, p, tr)) {
		fclose(t);
		return -ENOMEM;
	}
	return fclose(t) ? -EIO : 0;
}

static int evacuate(const char *dir, const struct evac_params *p)
{
	static const char *const host[NHOSTS] = { "cn1", "cn2", "ctl" };
	struct capture_set cs = { 0 };
	struct evac_truth *truth = calloc((size_t)p->guests, sizeof(*truth));
	char path[512];
	int rc = truth ? evacuate_run(p, &cs, truth) : -ENOMEM;

	for (int h = 0; !rc && h < NHOSTS; h++) {
		snprintf(path, sizeof(path), "%s/%s-%s.pcap.gz", dir, p->name, host[h]);
		rc = cs_write(&cs, h, path);
	}
	if (!rc)
		rc = write_evac_truth(dir, p, truth);
	cs_free(&cs);
	free(truth);
	return rc;
}

static int bench(const char *path, long segments)
{
	struct scenario sc = { .name = "bench", .migrations = 1, .flows = 1,
			       .segments = (int)segments, .final_segments = 200,
			       .seg_gap_ns = 12000, .lost = { 1000, 50000 }, .nlost = 2 };
	struct capture_set cs = { 0 };
	struct sim_truth truth;
	int rc = scenario_run(&sc, &cs, &truth);

	if (!rc)
		rc = cs_write(&cs, CN1, path);
	if (!rc)
		printf("out_bytes %" PRIu64 " retransmitted_segments %" PRIu64 "\n",
		       truth.mig[0].out_bytes, truth.mig[0].retx_segments);
	cs_free(&cs);
	return rc;
}

enum { MAX_CLOSE_LAGS = 64 };

/* "300,14000,2000": close lags in microseconds, each > 0. Returns how many,
 * or -EINVAL. */
static int parse_lags(const char *text, int64_t *lags)
{
	int n = 0;

	for (const char *c = text; *c;) {
		char *end;
		long us_ = strtol(c, &end, 10);

		if (end == c || us_ <= 0 || n == MAX_CLOSE_LAGS || (*end && *end != ','))
			return -EINVAL;
		lags[n++] = us_ * US;
		c = *end ? end + 1 : end;
	}
	return n ? n : -EINVAL;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc == 3 && !strcmp(argv[1], "--all")) {
		for (size_t i = 0; !rc && i < sizeof(FIXTURES) / sizeof(FIXTURES[0]); i++)
			rc = generate(argv[2], &FIXTURES[i]);
		for (size_t i = 0; !rc && i < sizeof(EVACUATIONS) / sizeof(EVACUATIONS[0]); i++)
			rc = evacuate(argv[2], &EVACUATIONS[i]);
	} else if (argc == 4 && !strcmp(argv[1], "--bench")) {
		rc = bench(argv[2], strtol(argv[3], NULL, 10));
	} else if (argc >= 7 && argc <= 9 && !strcmp(argv[1], "--evacuate")) {
		int64_t lags[MAX_CLOSE_LAGS];
		struct evac_params p = { .name = argv[3], .guests = atoi(argv[4]),
					 .concurrency = atoi(argv[5]),
					 .probe_ns = atoi(argv[6]) * MS, .wave_gap_ns = 500 * MS,
					 .segments = 300, .close_lag_ns = lags };

		if (argc >= 8) {
			p.even_sizes = true;
			p.stagger_ns = atoi(argv[7]) * MS;
		}
		if (argc == 9)
			p.nclose_lags = parse_lags(argv[8], lags);
		rc = p.probe_ns > 0 && (argc < 8 || p.stagger_ns > 0) && p.nclose_lags >= 0
			     ? evacuate(argv[2], &p)
			     : -EINVAL;
	} else {
		fprintf(stderr, "usage: migscope-fixturegen --all DIR | --bench FILE SEGMENTS | "
			"--evacuate DIR NAME GUESTS CONCURRENCY PROBE_MS [STAGGER_MS [CLOSE_LAG_US,...]]\n");
		return 2;
	}
	if (rc)
		fprintf(stderr, "migscope-fixturegen: failed (%s)\n", strerror(-rc));
	return rc ? 1 : 0;
}
