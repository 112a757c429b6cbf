/*
 * capture - `migscope capture`: the live agent's command line and main loop.
 * Attaches bpf/pkt.bpf.c to the NICs (capture/pkt.h), writes every event's
 * frame head to a pcapng file (capture/pcapng_writer.h) until SIGINT/SIGTERM
 * or --duration, then detaches and writes the exact counters and ring-buffer
 * drops into each interface's statistics block (the counters' text format:
 * analysis/capture_counters.h, which writes and reads it).
 *
 * capture_main() returns the process exit status (migscope.h): 0 done, 2
 * usage, input or setup error (one line on stderr).
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "analysis/capture_counters.h"
#include "capture/pcapng_writer.h"
#include "capture/pkt.h"
#include "migscope.h"

/* __u64 and uint64_t differ in type on 64-bit Linux: print both as this */
#define U(x) ((unsigned long long)(x))

/* The only mutable global: set by the signal handler, read by the loop. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct capture_run {
	struct pkt_capture *cap;
	struct pcapng_writer *w;
	const struct pkt_capture_opts *opts;
	int64_t tai_offset_ns;   /* CLOCK_TAI - CLOCK_REALTIME: the file is in UTC */
	uint64_t start_ns, end_ns;
	uint64_t written[PKT_CAPTURE_MAX_IFACES];
	uint64_t total_written, total_drops;
	FILE *text;              /* counters being formatted, per interface */
	int cur_iface;
	int err;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: migscope capture -i IFACE [-i IFACE...] [options] -w FILE\n"
		"\n"
		"Watches the NICs of a compute node with eBPF (tc ingress and egress) and writes\n"
		"a pcapng capture for `migscope analyze`: the guest's echo/ARP/RARP/NA frames,\n"
		"the migration stream's open/close and sampled segment headers (never payload),\n"
		"and, at the end, exact per-flow counters and ring-buffer drops. Runs until\n"
		"Ctrl-C, SIGTERM or --duration, then detaches everything. Needs root.\n"
		"\n"
		"  -i, --interface IFACE  a NIC to watch (up to %d)\n"
		"  -w, --write FILE       the capture file (FILE.gz: gzip-compressed; mode 0600)\n"
		"  -g, --guest MAC[,IP]   keep only control frames of this guest (default: all\n"
		"                         echo, ARP, RARP and neighbour advertisements)\n"
		"  -p, --ports LIST       migration ports (default " PORTSET_DEFAULT ")\n"
		"  -n, --node NAME        this node's name, recorded in the file\n"
		"  -d, --duration S       stop after S seconds\n"
		"      --ring-size BYTES  ring buffer size, a power of two (default 4 MiB)\n"
		"      --attach MODE      auto (default: tcx, else tc clsact), tcx or tc\n"
		"  -h, --help             this help\n"
		"\n"
		"exit status: 0 done, 2 usage, input or setup error\n",
		PKT_CAPTURE_MAX_IFACES);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* TAI runs a whole number of seconds ahead of UTC (0 when no NTP daemon set
 * the kernel's offset): round the difference of two close readings. */
static int64_t tai_offset(void)
{
	int64_t d = clock_ns(CLOCK_TAI) - clock_ns(CLOCK_REALTIME);

	return (d + 500000000) / 1000000000 * 1000000000;
}

static int iface_of(const struct capture_run *r, uint32_t ifindex)
{
	for (int i = 0; i < r->opts->nifaces; i++)
		if (pkt_capture__ifindex(r->cap, i) == ifindex)
			return i;
	return -1;
}

static int write_frame(struct capture_run *r, uint32_t ifindex, uint64_t ts_tai_ns,
		       const uint8_t *frame, uint32_t cap_len, uint32_t wire_len, uint8_t dir)
{
	int i = iface_of(r, ifindex);
	int rc;

	if (i < 0)
		return 0; /* not ours (replayed or a renamed NIC): nothing to file it under */
	rc = pcapng_writer__packet(r->w, (uint32_t)i, ts_tai_ns - (uint64_t)r->tai_offset_ns,
				   frame, cap_len, wire_len,
				   dir == PKT_DIR_EGRESS ? PCAPNG_EPB_OUTBOUND : PCAPNG_EPB_INBOUND);
	if (!rc)
		r->written[i]++;
	return rc;
}

static int on_event(void *ctx, const struct pkt_event *e)
{
	struct capture_run *r = ctx;
	int rc = write_frame(r, e->ifindex, e->ts_tai_ns, e->frame, e->cap_len, e->wire_len,
			     e->dir);

	if (rc && !r->err)
		r->err = rc;
	return rc;
}

/* The segments held back in the flow map: the last before the end. */
static int write_held(void *ctx, const struct pkt_flow_key *k, const struct pkt_flow_stats *s)
{
	struct capture_run *r = ctx;

	if (!s->held_len || s->held_len > PKT_HEAD_MAX)
		return 0;
	return write_frame(r, k->ifindex, s->held_tai_ns, s->held, s->held_len,
			   s->held_wire_len, s->held_dir);
}

static uint64_t utc(const struct capture_run *r, uint64_t tai_ns)
{
	return tai_ns ? tai_ns - (uint64_t)r->tai_offset_ns : 0;
}

static struct ip_addr addr_of(uint8_t family, const uint8_t *a)
{
	struct ip_addr ip = { .family = family == 6 ? 6 : 4 };

	memcpy(ip.bytes, a, ip.family == 6 ? 16 : 4);
	return ip;
}

static int format_flow(void *ctx, const struct pkt_flow_key *k, const struct pkt_flow_stats *s)
{
	struct capture_run *r = ctx;
	struct counter_flow f = {
		.src = addr_of(k->family, k->saddr), .dst = addr_of(k->family, k->daddr),
		.sport = k->sport, .dport = k->dport, .packets = s->packets,
		.payload_bytes = s->payload_bytes, .wire_bytes = s->wire_bytes,
		.ooo_segments = s->ooo_segments, .ooo_bytes = s->ooo_bytes,
		.first_ns = utc(r, s->first_tai_ns), .last_ns = utc(r, s->last_tai_ns),
		.last_data_ns = utc(r, s->last_data_tai_ns), .tcp_flags = s->tcp_flags_seen,
		.dirs = (s->dir_seen & 1 ? COUNTER_DIR_IN : 0) | (s->dir_seen & 2 ? COUNTER_DIR_OUT : 0),
	};

	if (k->ifindex != pkt_capture__ifindex(r->cap, r->cur_iface))
		return 0;
	return counters_write_flow(r->text, &f);
}

static int format_retrans(void *ctx, const struct pkt_retrans_key *k,
			  const struct pkt_retrans_stats *s)
{
	struct capture_run *r = ctx;
	struct counter_retrans rt = {
		.src = addr_of(k->family, k->saddr), .dst = addr_of(k->family, k->daddr),
		.sport = k->sport, .dport = k->dport, .segments = s->segments, .bytes = s->bytes,
		.calls = s->calls,
	};

	return counters_write_retrans(r->text, &rt);
}

/* One ISB per interface: standard counts in the options, everything exact in
 * a versioned text comment (docs/decisions.md). */
static int write_stats(struct capture_run *r)
{
	struct pcapng_if_stats is;
	struct counter_iface iface;
	struct pkt_if_stats st;
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	for (int i = 0; !rc && i < r->opts->nifaces; i++) {
		rc = pkt_capture__if_stats(r->cap, i, &st);
		if (rc)
			break;
		r->text = open_memstream(&text, &len);
		if (!r->text) {
			rc = -ENOMEM;
			break;
		}
		r->cur_iface = i;
		iface = (struct counter_iface){
			.name = r->opts->ifaces[i], .ifindex = pkt_capture__ifindex(r->cap, i),
			.attach = pkt_capture__attach_mode(r->cap), .frames_in = st.frames[0],
			.frames_out = st.frames[1], .bytes_in = st.bytes[0], .bytes_out = st.bytes[1],
			.events = st.events, .ring_drops = st.ring_drops, .flows_full = st.flows_full,
			.heads_pulled = st.heads_pulled, .tai_offset_ns = r->tai_offset_ns,
			.retrans_tracer = pkt_capture__has_retrans(r->cap),
		};
		rc = counters_write_iface(r->text, &iface);
		if (!rc)
			rc = pkt_capture__flows(r->cap, format_flow, r);
		if (!rc && i == 0)
			rc = pkt_capture__retrans(r->cap, format_retrans, r);
		if (fclose(r->text) && !rc)
			rc = -ENOMEM;
		r->text = NULL;
		is = (struct pcapng_if_stats){
			.start_ns = r->start_ns, .end_ns = r->end_ns,
			.ifrecv = st.frames[0] + st.frames[1], .ifdrop = st.ring_drops,
			.filteraccept = r->written[i], .comment = text,
		};
		if (!rc)
			rc = pcapng_writer__stats(r->w, (uint32_t)i, r->end_ns, &is);
		r->total_written += r->written[i];
		r->total_drops += st.ring_drops;
		free(text);
		text = NULL;
	}
	return rc;
}

static void status_line(struct capture_run *r)
{
	uint64_t frames = 0, bytes = 0, events = 0, drops = 0;
	struct pkt_if_stats st;

	for (int i = 0; i < r->opts->nifaces; i++) {
		if (pkt_capture__if_stats(r->cap, i, &st))
			continue;
		frames += st.frames[0] + st.frames[1];
		bytes += st.bytes[0] + st.bytes[1];
		events += st.events;
		drops += st.ring_drops;
	}
	fprintf(stderr, "\rmigscope capture: %llu frames, %.1f MB seen, %llu"
		" events, %llu drops\033[K", U(frames), (double)bytes / 1e6, U(events), U(drops));
}

struct cli {
	struct pkt_capture_opts opts;
	struct portset ports;
	const char *path, *node, *ports_spec, *guest;
	double duration;
};

static int parse_args(int argc, char **argv, struct cli *cli)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "write", required_argument, NULL, 'w' },
		{ "guest", required_argument, NULL, 'g' },
		{ "ports", required_argument, NULL, 'p' },
		{ "node", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ring-size", required_argument, NULL, 'R' },
		{ "attach", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *ports = PORTSET_DEFAULT;
	char *end;
	unsigned long v;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:w:g:p:n:d:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (cli->opts.nifaces == PKT_CAPTURE_MAX_IFACES) {
				fprintf(stderr, "migscope capture: at most %d interfaces\n",
					PKT_CAPTURE_MAX_IFACES);
				return EXIT_USAGE;
			}
			cli->opts.ifaces[cli->opts.nifaces++] = optarg;
			break;
		case 'w':
			cli->path = optarg;
			break;
		case 'g':
			cli->guest = optarg;
			break;
		case 'p':
			ports = optarg;
			break;
		case 'n':
			cli->node = optarg;
			break;
		case 'd':
			cli->duration = strtod(optarg, &end);
			if (*end || !(cli->duration > 0)) {
				fprintf(stderr, "migscope capture: --duration wants seconds > 0\n");
				return EXIT_USAGE;
			}
			break;
		case 'R':
			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v < 4096 || v > (1ul << 30) || (v & (v - 1))) {
				fprintf(stderr, "migscope capture: --ring-size wants a power of two "
						"from 4096 to 1 GiB\n");
				return EXIT_USAGE;
			}
			cli->opts.ring_bytes = (uint32_t)v;
			break;
		case 'A':
			if (!strcmp(optarg, "auto"))
				cli->opts.attach = PKT_ATTACH_AUTO;
			else if (!strcmp(optarg, "tcx"))
				cli->opts.attach = PKT_ATTACH_TCX;
			else if (!strcmp(optarg, "tc"))
				cli->opts.attach = PKT_ATTACH_TC;
			else {
				fprintf(stderr, "migscope capture: --attach wants auto, tcx or tc\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			fprintf(stderr, "migscope capture: try 'migscope capture --help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "migscope capture: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!cli->opts.nifaces || !cli->path) {
		fprintf(stderr, "migscope capture: give -i IFACE and -w FILE "
				"(try 'migscope capture --help')\n");
		return EXIT_USAGE;
	}
	if (pkt_capture_opts__set_filters(&cli->opts, &cli->ports, cli->guest, ports,
					  "migscope capture"))
		return EXIT_USAGE;
	cli->ports_spec = ports;
	return 0;
}

static int open_file(struct capture_run *r, const struct cli *cli, char *err, size_t errlen)
{
	char comment[512];
	int rc;

	snprintf(comment, sizeof(comment), "migscope capture: node=%s attach=%s "
		 "tai_offset_ns=%lld ports=%s guest=%s",
		 cli->node ? cli->node : "-", pkt_capture__attach_mode(r->cap),
		 (long long)r->tai_offset_ns,
		 cli->ports_spec, cli->guest ? cli->guest : "any");
	r->w = pcapng_writer__open(cli->path, "migscope capture", comment, err, errlen);
	if (!r->w)
		return -errno;
	for (int i = 0; i < cli->opts.nifaces; i++) {
		rc = pcapng_writer__add_interface(r->w, cli->opts.ifaces[i], cli->node,
						  PCAPNG_LINKTYPE_ETHERNET, PKT_HEAD_MAX);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", cli->path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int capture_main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct capture_run run = { 0 };
	struct cli cli = { 0 };
	char err[512] = "";
	int64_t deadline = 0, next_status;
	bool tty = isatty(STDERR_FILENO);
	int rc, exit_code = EXIT_USAGE;

	rc = parse_args(argc, argv, &cli);
	if (rc)
		return rc < 0 ? EXIT_DONE : rc;
	run.opts = &cli.opts;
	/* handlers first: a signal during setup still ends in a clean detach */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	run.tai_offset_ns = tai_offset();
	run.cap = pkt_capture__open(&cli.opts, on_event, &run, err, sizeof(err));
	if (!run.cap) {
		fprintf(stderr, "migscope capture: %s\n", err);
		goto cleanup;
	}
	if (open_file(&run, &cli, err, sizeof(err))) {
		fprintf(stderr, "migscope capture: %s\n", err);
		goto cleanup;
	}
	run.start_ns = (uint64_t)clock_ns(CLOCK_REALTIME);
	if (cli.duration > 0)
		deadline = clock_ns(CLOCK_MONOTONIC) + (int64_t)(cli.duration * 1e9);
	next_status = clock_ns(CLOCK_MONOTONIC) + 1000000000;
	fprintf(stderr, "migscope capture: %d interface(s) attached (%s%s), writing %s\n",
		cli.opts.nifaces, pkt_capture__attach_mode(run.cap),
		pkt_capture__has_retrans(run.cap) ? ", retransmit tracer" : "", cli.path);
	while (!stop_requested && !run.err) {
		int64_t now;

		rc = pkt_capture__poll(run.cap, 100);
		if (rc < 0) {
			run.err = rc;
			break;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (deadline && now >= deadline)
			break;
		if (tty && now >= next_status) {
			status_line(&run);
			next_status = now + 1000000000;
		}
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	/* detach first: the counters are final, the ring buffer drained */
	rc = pkt_capture__detach(run.cap);
	run.end_ns = (uint64_t)clock_ns(CLOCK_REALTIME);
	if (!rc && !run.err)
		rc = pkt_capture__flows(run.cap, write_held, &run);
	if (!rc && !run.err)
		rc = write_stats(&run);
	if (!rc)
		rc = run.err;
	if (rc) {
		fprintf(stderr, "migscope capture: %s: %s\n", cli.path, strerror(-rc));
		goto cleanup;
	}
	exit_code = EXIT_DONE;
cleanup:
	rc = pcapng_writer__close(run.w);
	if (rc && !exit_code) {
		fprintf(stderr, "migscope capture: %s: %s\n", cli.path, strerror(-rc));
		exit_code = EXIT_USAGE;
	}
	pkt_capture__close(run.cap);
	if (!exit_code)
		fprintf(stderr, "migscope capture: %s: %llu frames written, %llu"
			" events lost (ring buffer full)%s\n", cli.path, U(run.total_written),
			U(run.total_drops), run.total_drops ? "; exact counters unaffected" : "");
	return exit_code;
}
