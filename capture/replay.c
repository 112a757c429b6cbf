#include "capture/replay.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "analysis/addr.h"
#include "analysis/capture_counters.h"
#include "analysis/capture_reader.h"
#include "analysis/linklayer.h"
#include "analysis/portset.h"
#include "bpf/parse.h"
#include "capture/pkt.h"
#include "migscope.h"

enum {
	ETH_HLEN = 14,
	SLL_HDR_LEN = 16,    /* pkttype(2) arphrd(2) addrlen(2) addr(8) proto(2) */
	SLL2_HDR_LEN = 20,   /* proto(2) rsvd(2) ifindex(4) arphrd(2) pkttype(1) addrlen(1) addr(8) */
	SLL_OUTGOING = 4,    /* PACKET_OUTGOING */
	ARPHRD_ETHER = 1,
	/* The kernel refuses a test run larger than a page less its skb
	 * overheads (3712 bytes on x86-64 with 4 KiB pages); start from this
	 * guess and learn the real limit from the first refusal. */
	TEST_RUN_OVERHEAD = 384,
	TEST_RUN_MIN = 1024,        /* below this a refusal is not about size */
	WIRE_MAX = 65535,           /* the test run's limit for wire_len */
	DRAIN_EVERY = 512,          /* frames between ring-buffer drains: <= 3 events each */
};

struct replay_run {
	struct pkt_capture *cap;
	struct replay_result res;
	int linktype;
	uint32_t limit;         /* bytes a test run takes */
	uint8_t *frame;         /* limit bytes: a cooked frame rebuilt as Ethernet */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: migscope replay [options] CAPTURE\n"
		"\n"
		"Runs the capture agent's eBPF programs (migscope capture) over a stored\n"
		"capture (pcap/pcapng, also .gz) with BPF_PROG_TEST_RUN, frame by frame, and\n"
		"prints the counters the live agent would have kept on that NIC: per flow\n"
		"direction packets, payload and wire bytes, out-of-order segments; ring-buffer\n"
		"events; the guest's echo, ARP, RARP and NA frames. Needs root.\n"
		"\n"
		"  -f, --format FMT      text (default) or json\n"
		"  -g, --guest MAC[,IP]  keep only control frames of this guest (as capture)\n"
		"  -p, --ports LIST      migration ports (default " PORTSET_DEFAULT ")\n"
		"  -h, --help            this help\n"
		"\n"
		"exit status: 0 done, 2 usage, input or setup error\n");
}

static int on_event(void *ctx, const struct pkt_event *e)
{
	struct replay_result *r = ctx;
	struct pkt_meta m;

	switch (e->type) {
	case PKT_EV_FLOW_OPEN:
		r->ev_flow_open++;
		return 0;
	case PKT_EV_FLOW_CLOSE:
		r->ev_flow_close++;
		return 0;
	case PKT_EV_SAMPLE:
		if (e->reason & PKT_SAMPLE_GAP_EDGE)
			r->ev_gap_edge++;
		else
			r->ev_samples++;
		return 0;
	case PKT_EV_GUEST:
		break;
	default:
		return 0;
	}
	r->ev_guest++;
	/* the kind, with the analyzer's definitions (analysis/guest.c) */
	if (parse_ethernet(e->frame, e->frame + e->cap_len, &m))
		return 0;
	switch (m.kind) {
	case PKT_KIND_ECHO_REQUEST:
		r->echo_request++;
		break;
	case PKT_KIND_ECHO_REPLY:
		r->echo_reply++;
		break;
	case PKT_KIND_RARP:
		r->rarp++;
		break;
	case PKT_KIND_ARP:
		r->arp++;
		r->garp += !memcmp(m.arp_spa, m.arp_tpa, 4) && memcmp(m.arp_spa, "\0\0\0\0", 4);
		break;
	case PKT_KIND_NEIGH_ADVERT:
		r->na++;
		r->unsolicited_na += !(m.nd_flags & PKT_ND_SOLICITED);
		break;
	default:
		break;
	}
	return 0;
}

/*
 * A Linux cooked frame as the Ethernet frame a tc program would see: the
 * cooked header's protocol and (Ethernet) source address, a zero
 * destination, in r->frame (at most r->limit bytes). Returns the Ethernet
 * frame's captured length (which may exceed what r->frame holds), 0 when the
 * record is too short; *dir is egress for the kernel's "outgoing" frames.
 */
static uint32_t cooked_to_ethernet(const struct replay_run *r, const uint8_t *data,
				   uint32_t caplen, int *dir)
{
	uint32_t hdr = r->linktype == DLT_LINUX_SLL ? SLL_HDR_LEN : SLL2_HDR_LEN, n;
	const uint8_t *addr;
	uint16_t proto, arphrd, addrlen, pkttype;

	if (caplen < hdr)
		return 0;
	if (r->linktype == DLT_LINUX_SLL) {
		pkttype = rd16(data);
		arphrd = rd16(data + 2);
		addrlen = rd16(data + 4);
		addr = data + 6;
		proto = rd16(data + 14);
	} else {
		proto = rd16(data);
		arphrd = rd16(data + 8);
		pkttype = data[10];
		addrlen = data[11];
		addr = data + 12;
	}
	*dir = pkttype == SLL_OUTGOING ? PKT_DIR_EGRESS : PKT_DIR_INGRESS;
	memset(r->frame, 0, ETH_HLEN);
	if (arphrd == ARPHRD_ETHER && addrlen == 6)
		memcpy(r->frame + 6, addr, 6);
	r->frame[12] = (uint8_t)(proto >> 8);
	r->frame[13] = (uint8_t)proto;
	n = caplen - hdr;
	memcpy(r->frame + ETH_HLEN, data + hdr, n < r->limit - ETH_HLEN ? n : r->limit - ETH_HLEN);
	return ETH_HLEN + n;
}

static int run_frame(struct replay_run *r, const struct capture_packet *p)
{
	struct replay_result *res = &r->res;
	const uint8_t *frame = p->data;
	uint32_t caplen = p->caplen, wire = p->wirelen, len;
	int dir = PKT_DIR_INGRESS, rc;

	res->frames_read++;
	if (r->linktype != DLT_EN10MB) {
		uint32_t hdr = r->linktype == DLT_LINUX_SLL ? SLL_HDR_LEN : SLL2_HDR_LEN;

		caplen = cooked_to_ethernet(r, p->data, p->caplen, &dir);
		wire = wire >= hdr ? wire - hdr + ETH_HLEN : 0;
		frame = r->frame;
	}
	if (caplen < ETH_HLEN) {
		res->frames_short++;
		return 0;
	}
	if (wire < caplen)
		wire = caplen; /* a hostile record: orig_len below caplen */
	if (wire > WIRE_MAX) {
		wire = WIRE_MAX;
		res->frames_clamped++;
	}
	len = caplen < r->limit ? caplen : r->limit;
	for (;;) {
		rc = pkt_capture__test_run(r->cap, frame, len, wire, dir);
		if (rc != -EINVAL || len <= TEST_RUN_MIN)
			break;
		/* more than this kernel takes: learn its limit */
		len -= 64;
		r->limit = len;
	}
	if (rc)
		return rc;
	res->frames_run++;
	if (len < caplen) {
		res->frames_cut++;
		res->cut_to = r->limit;
	}
	if (res->frames_run % DRAIN_EVERY == 0)
		return pkt_capture__consume(r->cap);
	return 0;
}

static int add_flow(void *ctx, const struct pkt_flow_key *k, const struct pkt_flow_stats *s)
{
	struct replay_result *r = ctx;
	struct replay_flow *f;

	if (s->held_len)
		r->held_at_end++;
	f = realloc(r->flows, ((size_t)r->nflows + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	r->flows = f;
	f[r->nflows].key = *k;
	f[r->nflows].stats = *s;
	r->nflows++;
	return 0;
}

static int flow_order(const void *a, const void *b)
{
	const struct pkt_flow_key *x = &((const struct replay_flow *)a)->key;
	const struct pkt_flow_key *y = &((const struct replay_flow *)b)->key;

	return memcmp(x, y, sizeof(*x));
}

/* The kernel's view at the end: counters, held-back segments, last events. */
static int collect(struct replay_run *r)
{
	int rc = pkt_capture__consume(r->cap);

	if (!rc)
		rc = pkt_capture__if_stats(r->cap, 0, &r->res.iface);
	if (!rc)
		rc = pkt_capture__flows(r->cap, add_flow, &r->res);
	if (!rc && r->res.nflows)
		qsort(r->res.flows, (size_t)r->res.nflows, sizeof(*r->res.flows), flow_order);
	return rc;
}

/* Reads every frame of path through the programs; a warning on stderr for a
 * capture cut mid-record. Returns 0 or -errno with a line in err. */
static int replay_file(struct replay_run *r, const char *path, char *err, size_t errlen)
{
	struct capture_reader *reader = capture_reader__open(path, err, errlen);
	struct capture_packet p;
	const char *stopped;
	int rc;

	if (!reader)
		return errno ? -errno : -EINVAL;
	r->linktype = capture_reader__linktype(reader);
	r->res.linktype = r->linktype;
	if (!linklayer_supported(r->linktype)) {
		snprintf(err, errlen, "%s: unsupported link type %d (%s)", path, r->linktype,
			 linklayer_name(r->linktype));
		rc = -ENOTSUP;
		goto cleanup;
	}
	while ((rc = capture_reader__next(reader, &p)) == 1) {
		rc = run_frame(r, &p);
		if (rc) {
			snprintf(err, errlen, "%s: frame %llu: the test run failed: %s", path,
				 (unsigned long long)r->res.frames_read, strerror(-rc));
			goto cleanup;
		}
	}
	if (rc == -ERANGE) {
		snprintf(err, errlen, "%s: %s", path, capture_reader__stopped_early(reader));
		goto cleanup;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: unreadable capture (%s)", path,
			 capture_reader__stopped_early(reader));
		goto cleanup;
	}
	stopped = capture_reader__stopped_early(reader);
	if (stopped)
		fprintf(stderr, "migscope replay: warning: %s: read stopped after packet %llu (%s); "
			"replayed up to the last complete packet\n", path,
			(unsigned long long)r->res.frames_read, stopped);
	rc = collect(r);
	if (rc)
		snprintf(err, errlen, "reading the eBPF maps failed: %s", strerror(-rc));
cleanup:
	capture_reader__close(reader);
	return rc;
}

/* A migscope capture holds the agent's samples, not every frame: replaying
 * it counts the samples. Says so; the file's exact counters are analyze's. */
static void warn_if_agent_file(const char *path)
{
	struct capture_counters *cc = malloc(sizeof(*cc));
	char err[256];

	if (cc && !capture_counters__read(path, cc, err, sizeof(err)) && cc->ours)
		fprintf(stderr, "migscope replay: warning: %s was written by migscope capture: its "
			"frames are the agent's samples, so these counts are of the samples (the "
			"exact counters it holds are what migscope analyze reports)\n", path);
	free(cc);
}

struct cli {
	struct pkt_capture_opts opts;
	struct portset ports;
	const char *format, *path;
};

static int parse_args(int argc, char **argv, struct cli *cli)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "guest", required_argument, NULL, 'g' },
		{ "ports", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *ports = PORTSET_DEFAULT, *guest = NULL;
	int opt;

	optind = 1;
	cli->format = "text";
	while ((opt = getopt_long(argc, argv, "f:g:p:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			cli->format = optarg;
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				fprintf(stderr, "migscope replay: unknown format '%s' (text, json)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'g':
			guest = optarg;
			break;
		case 'p':
			ports = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			fprintf(stderr, "migscope replay: try 'migscope replay --help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "migscope replay: give one capture (try 'migscope replay --help')\n");
		return EXIT_USAGE;
	}
	cli->path = argv[optind];
	if (pkt_capture_opts__set_filters(&cli->opts, &cli->ports, guest, ports, "migscope replay"))
		return EXIT_USAGE;
	cli->opts.attach = PKT_ATTACH_NONE;
	return 0;
}

int replay_main(int argc, char **argv)
{
	struct replay_run run = { 0 };
	struct cli cli = { 0 };
	char err[512] = "";
	long page = sysconf(_SC_PAGESIZE);
	int rc, exit_code = EXIT_USAGE;

	rc = parse_args(argc, argv, &cli);
	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	run.res.path = cli.path;
	run.limit = (uint32_t)(page > 2 * TEST_RUN_OVERHEAD ? page : 4096) - TEST_RUN_OVERHEAD;
	run.frame = malloc(run.limit);
	if (!run.frame) {
		fprintf(stderr, "migscope replay: out of memory\n");
		return EXIT_USAGE;
	}
	/* the file first: a bad input is named before any privilege question */
	if (access(cli.path, R_OK)) {
		fprintf(stderr, "migscope replay: %s: %s\n", cli.path, strerror(errno));
		goto cleanup;
	}
	run.cap = pkt_capture__open(&cli.opts, on_event, &run.res, err, sizeof(err));
	if (!run.cap) {
		fprintf(stderr, "migscope replay: %s\n", err);
		goto cleanup;
	}
	if (replay_file(&run, cli.path, err, sizeof(err))) {
		fprintf(stderr, "migscope replay: %s\n", err);
		goto cleanup;
	}
	warn_if_agent_file(cli.path);
	rc = !strcmp(cli.format, "json") ? replay_render_json(&run.res, stdout)
					  : replay_render_text(&run.res, stdout);
	if (rc || fflush(stdout)) {
		fprintf(stderr, "migscope replay: writing the report failed\n");
		goto cleanup;
	}
	exit_code = EXIT_DONE;
cleanup:
	pkt_capture__close(run.cap);
	free(run.res.flows);
	free(run.frame);
	return exit_code;
}
