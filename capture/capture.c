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
#include "analysis/domain_marks.h"
#include "capture/metrics.h"
#include "capture/notify.h"
#include "capture/pcapng_writer.h"
#include "capture/pkt.h"
#include "capture/ring.h"
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

struct cli;

struct capture_run {
	struct pkt_capture *cap;
	struct pcapng_writer *w;
	const struct pkt_capture_opts *opts;
	const struct cli *cli;
	struct ring *ring;       /* the flight recorder's files; NULL: one file */
	struct agent_state agent; /* what --metrics and the status report */
	int64_t tai_offset_ns;   /* CLOCK_TAI - CLOCK_REALTIME: the file is in UTC */
	uint64_t start_ns, end_ns; /* the file being written */
	uint64_t written[PKT_CAPTURE_MAX_IFACES]; /* in the file being written */
	uint64_t total_written, total_drops;
	FILE *text;              /* counters being formatted, per interface */
	int cur_iface;
	int metrics_rc;          /* the last --metrics write's */
	int err;
};

/* Flows that ended this long ago leave the kernel's table at a rotation
 * (their counters are in the file that just closed); any flow quiet for
 * FLOW_IDLE_NS too. */
#define FLOW_CLOSED_NS (60LL * 1000000000)
#define FLOW_IDLE_NS (3600LL * 1000000000)
/* How often the service manager hears the agent's status. */
#define NOTIFY_EVERY_NS (5LL * 1000000000)
/* How often --metrics is rewritten (a scrape interval's order). */
#define METRICS_EVERY_NS (15LL * 1000000000)

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
		"\n"
		"Flight recorder (runs for days as a service; migscope-capture(8)):\n"
		"  -C, --file-size SIZE   a new file once this one holds SIZE (millions of bytes,\n"
		"                         or with k, M, G: KiB, MiB, GiB)\n"
		"  -G, --rotate-seconds S a new file every S seconds\n"
		"  -W, --files N          keep at most N files in the ring (with -C or -G; the\n"
		"                         files are FILE's name numbered: cn1.000042.pcapng)\n"
		"      --keep DIR         where a migration's files go, out of the ring, one\n"
		"                         directory per migration (default: FILE's directory's\n"
		"                         migrations/); `migscope analyze` reads a directory\n"
		"      --keep-margin S    also keep S seconds before and after the streams\n"
		"                         (default 30)\n"
		"      --keep-max SIZE    bound of every kept directory together (default 2G);\n"
		"                         the oldest go first\n"
		"      --metrics FILE     the agent's counters for node_exporter's textfile\n"
		"                         collector, rewritten every 15 s and at each new file\n"
		"      --marks FILE       the libvirt hook's domain marks, copied into each kept\n"
		"                         migration (default: domains.log beside FILE)\n"
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

static int rotate(struct capture_run *r, uint64_t now_ns);

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
	if (!rc) {
		r->written[i]++;
		r->agent.written[i]++;
	}
	return rc;
}

static bool is_stream_event(uint8_t type)
{
	return type == PKT_EV_FLOW_OPEN || type == PKT_EV_FLOW_CLOSE || type == PKT_EV_SAMPLE;
}

static int on_event(void *ctx, const struct pkt_event *e)
{
	struct capture_run *r = ctx;
	uint64_t utc_ns = e->ts_tai_ns - (uint64_t)r->tai_offset_ns;
	char err[512];
	int rc = write_frame(r, e->ifindex, e->ts_tai_ns, e->frame, e->cap_len, e->wire_len,
			     e->dir);

	if (!rc && r->ring && is_stream_event(e->type)) {
		int began = ring__stream(r->ring, (int64_t)utc_ns, err, sizeof(err));

		/* a directory that cannot be made loses the keeping, not the capture */
		if (began < 0)
			fprintf(stderr, "migscope capture: %s\n", err);
		else if (began)
			fprintf(stderr, "migscope capture: migration stream seen: keeping its files "
				"in %s\n", ring__keep_path(r->ring));
	}
	if (!rc && r->ring &&
	    ring__due(r->ring, (int64_t)r->start_ns, (int64_t)utc_ns, pcapng_writer__bytes(r->w)))
		rc = rotate(r, utc_ns);
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
	/* a ring file names the flows active while it was written: the last
	 * file of a flow has its final counts, and a migration's directory
	 * names no flow of an earlier one */
	if (r->ring && f.last_ns && f.last_ns < r->start_ns)
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
	const char *path, *node, *ports_spec, *guest, *metrics;
	char *marks;             /* the libvirt hook's marks; owned */
	double duration;
	struct ring_opts ring;   /* path NULL: one file */
};

/* SIZE: millions of bytes (as tcpdump's -C), or a number with k, M or G
 * (KiB, MiB, GiB). 0 for a bad or zero size. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t unit = 1000000;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return 0;
	if (*end) {
		const char *units = "kMG";
		const char *u = strchr(units, *end);

		if (!u || end[1])
			return 0;
		unit = 1ull << (10 * (u - units + 1));
	}
	return v > UINT64_MAX / unit ? 0 : v * unit;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return !*end && end != s && *out > 0 && *out < 1e9;
}

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
		{ "file-size", required_argument, NULL, 'C' },
		{ "rotate-seconds", required_argument, NULL, 'G' },
		{ "files", required_argument, NULL, 'W' },
		{ "keep", required_argument, NULL, 'K' },
		{ "keep-margin", required_argument, NULL, 'M' },
		{ "keep-max", required_argument, NULL, 'X' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "marks", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *ports = PORTSET_DEFAULT;
	double secs;
	char *end;
	unsigned long v;
	int opt;

	cli->ring.margin_ns = 30LL * 1000000000;
	cli->ring.keep_bytes = 2ull << 30;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:w:g:p:n:d:C:G:W:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			cli->ring.file_bytes = parse_size(optarg);
			if (!cli->ring.file_bytes) {
				fprintf(stderr, "migscope capture: -C wants a size > 0 (100, 64M)\n");
				return EXIT_USAGE;
			}
			break;
		case 'G':
			if (!parse_seconds(optarg, &secs) || secs < 1) {
				fprintf(stderr, "migscope capture: -G wants seconds >= 1\n");
				return EXIT_USAGE;
			}
			cli->ring.file_ns = (int64_t)(secs * 1e9);
			break;
		case 'W':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 2 || v > 100000) {
				fprintf(stderr, "migscope capture: -W wants a file count from 2 to 100000\n");
				return EXIT_USAGE;
			}
			cli->ring.files = (int)v;
			break;
		case 'K':
			cli->ring.keep_dir = optarg;
			break;
		case 'M':
			if (!parse_seconds(optarg, &secs) && strcmp(optarg, "0")) {
				fprintf(stderr, "migscope capture: --keep-margin wants seconds\n");
				return EXIT_USAGE;
			}
			cli->ring.margin_ns = strcmp(optarg, "0") ? (int64_t)(secs * 1e9) : 0;
			break;
		case 'X':
			cli->ring.keep_bytes = parse_size(optarg);
			if (!cli->ring.keep_bytes) {
				fprintf(stderr, "migscope capture: --keep-max wants a size > 0 (2G)\n");
				return EXIT_USAGE;
			}
			break;
		case 'm':
			cli->metrics = optarg;
			break;
		case 'k':
			free(cli->marks);
			cli->marks = strdup(optarg);
			if (!cli->marks)
				return EXIT_USAGE;
			break;
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
	if ((cli->ring.file_bytes || cli->ring.file_ns) != (cli->ring.files > 0)) {
		fprintf(stderr, "migscope capture: a ring wants -W N with -C SIZE and/or -G S "
				"(the bound of its disk use)\n");
		return EXIT_USAGE;
	}
	if (cli->ring.files) {
		const char *slash = strrchr(cli->path, '/');

		cli->ring.path = cli->path;
		/* the hook's default: beside the ring (dist/libvirt-hook-qemu) */
		if (!cli->marks &&
		    asprintf(&cli->marks, "%.*s/%s", slash ? (int)(slash - cli->path) : 1,
			     slash ? cli->path : ".", MARKS_FILE) < 0)
			cli->marks = NULL;
	}
	if (pkt_capture_opts__set_filters(&cli->opts, &cli->ports, cli->guest, ports,
					  "migscope capture"))
		return EXIT_USAGE;
	cli->ports_spec = ports;
	return 0;
}

static int open_file(struct capture_run *r, const struct cli *cli, const char *path, char *err,
		     size_t errlen)
{
	char comment[512];
	int rc;

	memset(r->written, 0, sizeof(r->written));
	r->start_ns = (uint64_t)clock_ns(CLOCK_REALTIME);
	snprintf(comment, sizeof(comment), "migscope capture: node=%s attach=%s "
		 "tai_offset_ns=%lld ports=%s guest=%s",
		 cli->node ? cli->node : "-", pkt_capture__attach_mode(r->cap),
		 (long long)r->tai_offset_ns,
		 cli->ports_spec, cli->guest ? cli->guest : "any");
	r->w = pcapng_writer__open(path, "migscope capture", comment, err, errlen);
	if (!r->w)
		return -errno;
	for (int i = 0; i < cli->opts.nifaces; i++) {
		rc = pcapng_writer__add_interface(r->w, cli->opts.ifaces[i], cli->node,
						  PCAPNG_LINKTYPE_ETHERNET, PKT_HEAD_MAX);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/*
 * The libvirt hook's marks (analysis/domain_marks.h) within the kept
 * migration's window, copied into its directory, so `migscope analyze DIR`
 * names its guests' domains. Rewritten whole at each file the ring files.
 */
static void copy_marks(const struct capture_run *r)
{
	int64_t from, to;
	char *line = NULL, *dst = NULL, *tmp = NULL;
	size_t cap = 0;
	FILE *in, *out = NULL;
	int kept = 0;

	if (!r->ring || !r->cli->marks || !ring__window(r->ring, &from, &to))
		return;
	in = fopen(r->cli->marks, "r");
	if (!in)
		return; /* no hook installed, or nothing marked yet */
	if (asprintf(&dst, "%s/%s", ring__keep_path(r->ring), MARKS_FILE) < 0 ||
	    asprintf(&tmp, "%s.tmp", dst) < 0)
		goto out;
	out = fopen(tmp, "w");
	if (!out)
		goto out;
	while (getline(&line, &cap, in) > 0) {
		struct domain_mark m;

		if (!domain_mark__parse(line, &m) && m.ts_ns >= from && m.ts_ns <= to) {
			fputs(line, out);
			kept++;
		}
	}
	if (fclose(out) || !kept || rename(tmp, dst))
		unlink(tmp);
	out = NULL;
out:
	if (out)
		fclose(out);
	fclose(in);
	free(line);
	free(dst);
	free(tmp);
}

/* --metrics, its failure said once (a directory node_exporter's package has
 * not made yet would otherwise fill the journal every 15 s). */
static void write_metrics(struct capture_run *r, int64_t now_ns)
{
	int rc;

	if (!r->cli->metrics)
		return;
	r->agent.now_ns = now_ns;
	rc = metrics_write(r->cli->metrics, &r->agent);
	if (rc && rc != r->metrics_rc)
		fprintf(stderr, "migscope capture: %s: %s (said once)\n", r->cli->metrics,
			strerror(-rc));
	r->metrics_rc = rc;
}

/* The current file's end: its counters, then the next file of the ring
 * (capture/ring.h), and ended flows out of the kernel's table. */
static int rotate(struct capture_run *r, uint64_t now_ns)
{
	char err[512] = "";
	uint64_t bytes;
	int rc, evicted = 0;

	r->end_ns = now_ns;
	rc = write_stats(r);
	bytes = pcapng_writer__bytes(r->w);
	if (!rc)
		rc = pcapng_writer__close(r->w);
	else
		pcapng_writer__close(r->w);
	r->w = NULL;
	if (rc) {
		fprintf(stderr, "migscope capture: %s: %s\n", ring__path(r->ring), strerror(-rc));
		return rc;
	}
	if (ring__closed(r->ring, (int64_t)r->start_ns, (int64_t)now_ns, bytes, err, sizeof(err)))
		fprintf(stderr, "migscope capture: %s\n", err);
	copy_marks(r);
	if (!pkt_capture__evict(r->cap, now_ns + (uint64_t)r->tai_offset_ns - FLOW_CLOSED_NS,
				now_ns + (uint64_t)r->tai_offset_ns - FLOW_IDLE_NS, &evicted))
		r->agent.evicted += (uint64_t)evicted;
	if (!ring__path(r->ring))
		return -ENOMEM; /* no name for the next file: said by ring__closed */
	rc = open_file(r, r->cli, ring__path(r->ring), err, sizeof(err));
	if (rc) {
		fprintf(stderr, "migscope capture: %s\n", err);
		return rc;
	}
	write_metrics(r, (int64_t)now_ns);
	return 0;
}

/* `systemctl status`: what the agent keeps, drops and has lost. */
static void notify_status(const struct capture_run *r)
{
	struct ring_stats rs = { 0 };
	uint64_t drops = 0, events = 0;
	bool keeping;
	struct pkt_if_stats st;
	char msg[512];

	for (int i = 0; i < r->opts->nifaces; i++)
		if (!pkt_capture__if_stats(r->cap, i, &st)) {
			drops += st.ring_drops;
			events += st.events;
		}
	if (r->ring)
		ring__stats(r->ring, &rs);
	keeping = r->ring && ring__keeping(r->ring, clock_ns(CLOCK_REALTIME));
	snprintf(msg, sizeof(msg), "STATUS=%llu events kept, %llu lost; ring %d files %.1f MB; "
		 "kept %d migrations %.1f MB%s; %llu files rotated out", U(events - drops), U(drops),
		 rs.ring_files, (double)rs.ring_bytes / 1e6, rs.kept_dirs,
		 (double)rs.kept_bytes / 1e6, keeping ? " (keeping now)" : "",
		 U(rs.deleted_files));
	notify_send(msg);
}

/* The file being written: the ring's current one, or -w's. */
static const char *file_path(const struct capture_run *r)
{
	return r->ring ? ring__path(r->ring) : r->cli->path;
}

/* The end: held samples and counters into the last file, which the ring
 * then files like any other. 0 or -errno, said on stderr. */
static int finish(struct capture_run *r)
{
	char err[512] = "";
	uint64_t bytes;
	int rc;

	/* detach first: the counters are final, the ring buffer drained */
	rc = pkt_capture__detach(r->cap);
	r->end_ns = (uint64_t)clock_ns(CLOCK_REALTIME);
	if (!rc && !r->err && r->w)
		rc = pkt_capture__flows(r->cap, write_held, r);
	if (!rc && !r->err && r->w)
		rc = write_stats(r);
	if (!rc)
		rc = r->err;
	if (rc) {
		fprintf(stderr, "migscope capture: %s: %s\n", file_path(r), strerror(-rc));
		return rc;
	}
	bytes = pcapng_writer__bytes(r->w);
	rc = pcapng_writer__close(r->w);
	r->w = NULL;
	if (rc) {
		fprintf(stderr, "migscope capture: %s: %s\n", file_path(r), strerror(-rc));
		return rc;
	}
	if (r->ring && ring__closed(r->ring, (int64_t)r->start_ns, (int64_t)r->end_ns, bytes, err,
				    sizeof(err)))
		fprintf(stderr, "migscope capture: %s\n", err);
	copy_marks(r);
	return 0;
}

int capture_main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct capture_run run = { 0 };
	struct cli cli = { 0 };
	struct pkt_if_stats st;
	char err[512] = "";
	int64_t deadline = 0, next_status, next_notify, next_metrics;
	bool tty = isatty(STDERR_FILENO);
	int rc, exit_code = EXIT_USAGE;

	rc = parse_args(argc, argv, &cli);
	if (rc) {
		free(cli.marks);
		return rc < 0 ? EXIT_DONE : rc;
	}
	run.opts = &cli.opts;
	run.cli = &cli;
	/* handlers first: a signal during setup still ends in a clean detach */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	run.tai_offset_ns = tai_offset();
	if (cli.ring.path) {
		run.ring = ring__open(&cli.ring, err, sizeof(err));
		if (!run.ring) {
			fprintf(stderr, "migscope capture: %s\n", err);
			goto cleanup;
		}
	}
	run.cap = pkt_capture__open(&cli.opts, on_event, &run, err, sizeof(err));
	if (!run.cap) {
		fprintf(stderr, "migscope capture: %s\n", err);
		goto cleanup;
	}
	run.agent = (struct agent_state){
		.cap = run.cap, .opts = &cli.opts, .node = cli.node, .ring = run.ring,
		.tai_offset_ns = run.tai_offset_ns, .start_ns = clock_ns(CLOCK_REALTIME),
	};
	if (open_file(&run, &cli, file_path(&run), err, sizeof(err))) {
		fprintf(stderr, "migscope capture: %s\n", err);
		goto cleanup;
	}
	if (cli.duration > 0)
		deadline = clock_ns(CLOCK_MONOTONIC) + (int64_t)(cli.duration * 1e9);
	next_status = next_notify = next_metrics = clock_ns(CLOCK_MONOTONIC);
	next_status += 1000000000;
	fprintf(stderr, "migscope capture: %d interface(s) attached (%s%s), writing %s%s\n",
		cli.opts.nifaces, pkt_capture__attach_mode(run.cap),
		pkt_capture__has_retrans(run.cap) ? ", retransmit tracer" : "", file_path(&run),
		run.ring ? " (a ring of files)" : "");
	notify_send("READY=1");
	while (!stop_requested && !run.err) {
		int64_t now, utc;

		rc = pkt_capture__poll(run.cap, 100);
		if (rc < 0) {
			run.err = rc;
			break;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (deadline && now >= deadline)
			break;
		utc = clock_ns(CLOCK_REALTIME);
		/* -G on an idle node: no event calls for the new file */
		if (run.ring && ring__due(run.ring, (int64_t)run.start_ns, utc,
					  pcapng_writer__bytes(run.w))) {
			rc = rotate(&run, (uint64_t)utc);
			if (rc) {
				run.err = rc;
				break;
			}
		}
		if (tty && now >= next_status) {
			status_line(&run);
			next_status = now + 1000000000;
		}
		if (now >= next_notify) {
			notify_status(&run);
			next_notify = now + NOTIFY_EVERY_NS;
		}
		if (now >= next_metrics) {
			write_metrics(&run, utc);
			next_metrics = now + METRICS_EVERY_NS;
		}
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	notify_send("STOPPING=1");
	if (finish(&run))
		goto cleanup;
	exit_code = EXIT_DONE;
	for (int i = 0; i < cli.opts.nifaces; i++)
		if (!pkt_capture__if_stats(run.cap, i, &st))
			run.total_drops += st.ring_drops;
	write_metrics(&run, clock_ns(CLOCK_REALTIME));
cleanup:
	rc = pcapng_writer__close(run.w);
	if (rc && !exit_code) {
		fprintf(stderr, "migscope capture: %s: %s\n", cli.path, strerror(-rc));
		exit_code = EXIT_USAGE;
	}
	pkt_capture__close(run.cap);
	ring__close(run.ring);
	free(cli.marks);
	if (!exit_code)
		fprintf(stderr, "migscope capture: %s: %llu frames written, %llu"
			" events lost (ring buffer full)%s\n", cli.path, U(run.total_written),
			U(run.total_drops), run.total_drops ? "; exact counters unaffected" : "");
	return exit_code;
}
