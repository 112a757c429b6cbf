/*
 * migscope-fixturegen - writes the deterministic fixtures (one pcap per NIC)
 * and, beside each scenario, a truth file: the analyze arguments and the
 * exact values the report must show, taken from the simulation.
 *
 *   migscope-fixturegen --all DIR            every scenario into DIR
 *   migscope-fixturegen --bench FILE SEGS    one source-NIC capture of a long
 *                                            stream, for `make bench`
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

static const char *const HOST_NAME[NHOSTS] = { "cn1", "cn2", "ctl" };
static const char *const HOST_IP_TEXT[NHOSTS] = { "198.18.0.1", "198.18.0.2", "198.18.0.10" };

struct fixture {
	struct scenario sc;
	const char *ext;     /* ".pcap" or ".pcap.gz" */
	bool labelled;       /* src=/dst=/ctl= on the command line, else detected */
	bool nic_only_truth; /* also a truth for the two compute NICs without ctl */
};

#define BASE_SCENARIO(nm, enc) \
	{ .name = nm, .encap = enc, .migrations = 1, .flows = 2, .segments = 800, \
	  .final_segments = 60, .seg_gap_ns = 500000, .lost = { 200, 450, 451 }, .nlost = 3 }

static const struct fixture FIXTURES[] = {
	{ BASE_SCENARIO("baseline", ENCAP_NONE), ".pcap", true, true },
	{ BASE_SCENARIO("vlan", ENCAP_VLAN), ".pcap.gz", true, false },
	{ BASE_SCENARIO("qinq", ENCAP_QINQ), ".pcap.gz", true, false },
	{ BASE_SCENARIO("vxlan", ENCAP_VXLAN), ".pcap.gz", true, false },
	{ BASE_SCENARIO("geneve", ENCAP_GENEVE), ".pcap.gz", false, false },
	{ { .name = "back-and-forth", .migrations = 2, .flows = 1, .segments = 600,
	    .final_segments = 40, .seg_gap_ns = 500000, .lost = { 100 }, .nlost = 1 },
	  ".pcap.gz", false, false },
	{ { .name = "lost-announce", .migrations = 1, .drop_announce = true, .flows = 1,
	    .segments = 600, .final_segments = 40, .seg_gap_ns = 500000 },
	  ".pcap.gz", true, false },
	{ { .name = "ipv6", .migrations = 1, .ipv6 = true, .flows = 1, .segments = 600,
	    .final_segments = 40, .seg_gap_ns = 500000, .lost = { 300 }, .nlost = 1 },
	  ".pcap.gz", true, false },
};

static void us(char *buf, size_t len, int64_t ns)
{
	snprintf(buf, len, "%" PRId64 ".%03" PRId64, ns / 1000, ns % 1000);
}

static void file_name(char *buf, size_t len, const struct fixture *fx, enum host h)
{
	snprintf(buf, len, "%s-%s%s", fx->sc.name, HOST_NAME[h], fx->ext);
}

static void write_args(FILE *t, const struct fixture *fx, bool with_ctl)
{
	static const char *const label[NHOSTS] = { "src=", "dst=", "ctl=" };
	char name[128];

	fprintf(t, "args --format json");
	for (int h = 0; h < (with_ctl ? NHOSTS : CTL); h++) {
		file_name(name, sizeof(name), fx, (enum host)h);
		fprintf(t, " %s%s", fx->labelled ? label[h] : "", name);
	}
	fprintf(t, "\n");
}

/* The switchover as the simulation planted it: the timeline's events, QEMU's
 * announce rounds (the schedule itself, so matched at every vantage they
 * reached), and the verdict: the switch that never sees an announcement keeps
 * sending the guest's requests to the source (stale forwarding, never over). */
static void write_switchover_truth(FILE *t, const struct fixture *fx, const struct mig_truth *mt,
				   int m, bool with_ctl)
{
	const char *ev = ".timeline|map(select(.event==";

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
			"\n", m, k, mt->rarp_ns[k]);
	fprintf(t, ".migrations[%d].announce_schedule.bursts[0].not_at_prober %s\n", m,
		with_ctl && fx->sc.drop_announce ? "[0,1,2,3,4]" : "[]");
	fprintf(t, ".migrations[%d].verdict.code \"%s\"\n", m,
		fx->sc.drop_announce ? "stale_forwarding" : "ok");
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
	/* the simulated stream ends before the resume, as precopy does */
	fprintf(t, ".migrations[%d].stream.mode \"precopy\"\n", m);
	fprintf(t, ".migrations[%d].stream.postcopy null\n", m);
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
	us(a, sizeof(a), mt->rarp_ns[0] - mt->end_ns);
	fprintf(t, ".migrations[%d].announce.first_after_stream_end_us %s\n", m, a);
	fprintf(t, ".migrations[%d].announce.na|length %d\n", m, fx->sc.ipv6 ? (with_ctl ? 3 : 2) : 0);
	fprintf(t, ".migrations[%d].reachable_after %s\n", m, mt->reachable_after ? "true" : "false");
	write_switchover_truth(t, fx, mt, m, with_ctl);
}

static int write_truth(const char *dir, const struct fixture *fx, const struct sim_truth *tr,
		       bool with_ctl)
{
	char path[512];
	FILE *t;

	snprintf(path, sizeof(path), "%s/%s%s.truth", dir, fx->sc.name, with_ctl ? "" : "-nic");
	t = fopen(path, "w");
	if (!t)
		return -errno;
	fprintf(t, "# written by migscope-fixturegen from the simulation: do not edit\n");
	write_args(t, fx, with_ctl);
	fprintf(t, ".schema \"migscope.report.v2\"\n");
	fprintf(t, ".migrations|length %d\n", fx->sc.migrations);
	fprintf(t, ".guest.mac \"52:54:00:12:34:56\"\n");
	if (!fx->sc.ipv6)
		fprintf(t, ".guest.ipv4 \"198.18.0.100\"\n");
	else
		fprintf(t, ".guest.ipv6 \"2001:db8::100\"\n");
	for (int m = 0; m < fx->sc.migrations; m++)
		write_migration_truth(t, fx, tr, m, with_ctl);
	if (fx->sc.migrations == 1) {
		uint32_t answered = with_ctl ? tr->probes_answered : tr->probes_answered_nic;

		fprintf(t, ".migrations[0].loss.probes_sent %u\n", tr->probes_sent);
		fprintf(t, ".migrations[0].loss.probes_answered %u\n", answered);
		fprintf(t, ".migrations[0].loss.lost_probes %u\n", tr->probes_sent - answered);
	}
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
		rc = write_truth(dir, fx, &truth, true);
	if (!rc && fx->nic_only_truth)
		rc = write_truth(dir, fx, &truth, false);
	cs_free(&cs);
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

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc == 3 && !strcmp(argv[1], "--all")) {
		for (size_t i = 0; !rc && i < sizeof(FIXTURES) / sizeof(FIXTURES[0]); i++)
			rc = generate(argv[2], &FIXTURES[i]);
	} else if (argc == 4 && !strcmp(argv[1], "--bench")) {
		rc = bench(argv[2], strtol(argv[3], NULL, 10));
	} else {
		fprintf(stderr, "usage: migscope-fixturegen --all DIR | --bench FILE SEGMENTS\n");
		return 2;
	}
	if (rc)
		fprintf(stderr, "migscope-fixturegen: failed (%s)\n", strerror(-rc));
	return rc ? 1 : 0;
}
