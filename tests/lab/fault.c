// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * msl-fault - the lab's fault injector (no netem on the lab's hosts):
 *
 *   msl-fault -i IFACE [--ingress|--egress] --kind drop|corrupt|duplicate|hold
 *             --match all|stream|guest|announce|echo-reply [--rate PERCENT]
 *             [--guest MAC] [--ports LO-HI] [--hold SECONDS] [-v]
 *
 * Loads tests/lab/fault.bpf.c (embedded as a skeleton), configures it, attaches it
 * to one direction of IFACE as a clsact filter, says "msl-fault: attached
 * ..." on stderr, and waits for SIGINT, SIGTERM or SIGHUP. Then it detaches,
 * removes the clsact qdisc if it created it and nothing else uses it, and
 * prints its counters as one JSON line on stdout.
 *
 * Exit status: 0; 1 when detaching failed (the message says what may still
 * be attached); 2 for bad arguments, a missing interface, no permission or a
 * failed load/attach, with one line on stderr. Nothing stays attached after
 * an exit of any kind but SIGKILL or a crash: the clsact filter is not tied
 * to the process (a tcx link would be; see design.md §2), so after kill -9,
 * `tc filter del dev IFACE ingress|egress` or deleting the namespace does.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "analysis/addr.h"
#include "fault.skel.h"
#include "tests/lab/fault.h"
#include "tests/lab/fault_tc.h"

#define PROG "msl-fault"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, MAX_HOLD_S = 86400 };

static const char *const kind_names[] = {
	[FAULT_KIND_NONE] = "none",
	[FAULT_KIND_DROP] = "drop",
	[FAULT_KIND_CORRUPT] = "corrupt",
	[FAULT_KIND_DUPLICATE] = "duplicate",
	[FAULT_KIND_HOLD] = "hold",
};

static const char *const match_names[] = {
	[FAULT_MATCH_ALL] = "all",
	[FAULT_MATCH_STREAM] = "stream",
	[FAULT_MATCH_GUEST] = "guest",
	[FAULT_MATCH_ANNOUNCE] = "announce",
	[FAULT_MATCH_ECHO_REPLY] = "echo-reply",
};

struct options {
	const char *iface;
	int ingress;
	int verbose;
	int have_kind, have_match, have_rate, have_guest, have_ports, have_hold;
	struct fault_config cfg;
};

static volatile sig_atomic_t stop_signal;
static int verbose_libbpf;

static void on_signal(int sig)
{
	stop_signal = sig;
}

__attribute__((format(printf, 1, 2))) static void err_line(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* libbpf speaks only with -v: our own line says what failed. */
__attribute__((format(printf, 2, 0)))
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose_libbpf || level == LIBBPF_DEBUG)
		return 0;
	fputs(PROG ": libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fputs("usage: " PROG " -i IFACE [--ingress|--egress] --kind KIND --match MATCH [options]\n"
	      "  -i, --iface IFACE   interface (a bridge port), in this network namespace\n"
	      "  --ingress           frames arriving on IFACE (default)\n"
	      "  --egress            frames leaving through IFACE\n"
	      "  --kind KIND         drop | corrupt | duplicate | hold\n"
	      "  --match MATCH       all | stream | guest | announce | echo-reply\n"
	      "  --rate PERCENT      share of matched frames hit, e.g. 0.5 (default 100;\n"
	      "                      not with hold, which drops every matched frame)\n"
	      "  --guest MAC         the guest's MAC (guest, announce, echo-reply)\n"
	      "  --ports LO-HI       migration ports for stream (default 49152-49215)\n"
	      "  --hold SECONDS      hold: drop for this long after the first match\n"
	      "  -v, --verbose       libbpf's messages too\n"
	      "Runs until SIGINT/SIGTERM/SIGHUP, then detaches and prints one JSON line\n"
	      "of counters. corrupt relies on checksums computed in software (offloads\n"
	      "off): the receiver's check must see the flipped bit.\n",
	      f);
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* PERCENT in [0, 100], optionally with a '%'; into parts per million. */
static int parse_rate(const char *s, __u32 *ppm)
{
	char *end;
	double r;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL; /* no sign, space, "inf" or "nan" */
	errno = 0;
	r = strtod(s, &end);
	if (end == s || errno || !isfinite(r))
		return -EINVAL;
	if (*end == '%')
		end++;
	if (*end || r < 0 || r > 100)
		return -EINVAL;
	*ppm = (__u32)llround(r * (FAULT_RATE_ONE / 100));
	if (r > 0 && !*ppm)
		return -ERANGE; /* below the 1 ppm resolution */
	return 0;
}

static int parse_port(const char *s, char **end, __u16 *port)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v < 1 || v > 65535)
		return -EINVAL;
	*port = (__u16)v;
	return 0;
}

/* "LO-HI" or one port "P". */
static int parse_ports(const char *s, __u16 *lo, __u16 *hi)
{
	char *end;

	if (parse_port(s, &end, lo))
		return -EINVAL;
	if (!*end) {
		*hi = *lo;
		return 0;
	}
	if (*end != '-' || parse_port(end + 1, &end, hi) || *end || *hi < *lo)
		return -EINVAL;
	return 0;
}

static int parse_seconds(const char *s, __u64 *ns)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v <= 0 || v > MAX_HOLD_S)
		return -EINVAL;
	*ns = (__u64)llround(v * 1e9);
	return 0;
}

/* The combinations that make sense; anything else is a mistake to report. */
static int check_options(struct options *o)
{
	const struct fault_config *c = &o->cfg;
	int needs_guest = c->match == FAULT_MATCH_GUEST || c->match == FAULT_MATCH_ANNOUNCE ||
			  c->match == FAULT_MATCH_ECHO_REPLY;

	if (!o->iface)
		err_line("-i IFACE is required (see --help)");
	else if (!o->have_kind)
		err_line("--kind drop|corrupt|duplicate|hold is required");
	else if (!o->have_match)
		err_line("--match all|stream|guest|announce|echo-reply is required");
	else if (needs_guest && !o->have_guest)
		err_line("--match %s needs --guest MAC", match_names[c->match]);
	else if (!needs_guest && o->have_guest)
		err_line("--guest applies to --match guest|announce|echo-reply only");
	else if (o->have_ports && c->match != FAULT_MATCH_STREAM)
		err_line("--ports applies to --match stream only");
	else if (c->kind == FAULT_KIND_HOLD && !o->have_hold)
		err_line("--kind hold needs --hold SECONDS");
	else if (c->kind != FAULT_KIND_HOLD && o->have_hold)
		err_line("--hold applies to --kind hold only");
	else if (c->kind == FAULT_KIND_HOLD && o->have_rate)
		err_line("--kind hold drops every matched frame: no --rate");
	else
		return 0;
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { O_INGRESS = 256, O_EGRESS, O_KIND, O_MATCH, O_RATE, O_GUEST, O_PORTS, O_HOLD };
	static const struct option longopts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "ingress", no_argument, NULL, O_INGRESS },
		{ "egress", no_argument, NULL, O_EGRESS },
		{ "kind", required_argument, NULL, O_KIND },
		{ "match", required_argument, NULL, O_MATCH },
		{ "rate", required_argument, NULL, O_RATE },
		{ "guest", required_argument, NULL, O_GUEST },
		{ "ports", required_argument, NULL, O_PORTS },
		{ "hold", required_argument, NULL, O_HOLD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fault_config *c = &o->cfg;
	int opt, v;

	memset(o, 0, sizeof(*o));
	o->ingress = 1;
	c->rate_ppm = FAULT_RATE_ONE;
	c->port_lo = FAULT_PORT_LO;
	c->port_hi = FAULT_PORT_HI;
	opterr = 0; /* our own one-line messages */
	while ((opt = getopt_long(argc, argv, ":i:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (!*optarg || strlen(optarg) >= IFNAMSIZ) {
				err_line("-i: '%s' is not an interface name", optarg);
				return -EINVAL;
			}
			o->iface = optarg;
			break;
		case O_INGRESS:
		case O_EGRESS:
			o->ingress = opt == O_INGRESS;
			break;
		case O_KIND:
			v = name_index(kind_names, sizeof(kind_names) / sizeof(kind_names[0]), optarg);
			if (v <= FAULT_KIND_NONE) {
				err_line("--kind: drop, corrupt, duplicate or hold, not '%s'", optarg);
				return -EINVAL;
			}
			c->kind = (__u32)v;
			o->have_kind = 1;
			break;
		case O_MATCH:
			v = name_index(match_names, sizeof(match_names) / sizeof(match_names[0]), optarg);
			if (v < 0) {
				err_line("--match: all, stream, guest, announce or echo-reply, not '%s'",
					 optarg);
				return -EINVAL;
			}
			c->match = (__u32)v;
			o->have_match = 1;
			break;
		case O_RATE:
			if (parse_rate(optarg, &c->rate_ppm)) {
				err_line("--rate: a percentage in [0, 100] with at most 4 decimals, not '%s'",
					 optarg);
				return -EINVAL;
			}
			o->have_rate = 1;
			break;
		case O_GUEST:
			if (mac_parse(optarg, c->guest_mac)) {
				err_line("--guest: a MAC like 52:54:00:12:34:56, not '%s'", optarg);
				return -EINVAL;
			}
			o->have_guest = 1;
			break;
		case O_PORTS:
			if (parse_ports(optarg, &c->port_lo, &c->port_hi)) {
				err_line("--ports: LO-HI or PORT within 1-65535, not '%s'", optarg);
				return -EINVAL;
			}
			o->have_ports = 1;
			break;
		case O_HOLD:
			if (parse_seconds(optarg, &c->hold_ns)) {
				err_line("--hold: seconds in (0, %d], not '%s'", MAX_HOLD_S, optarg);
				return -EINVAL;
			}
			o->have_hold = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			err_line("%s needs an argument", argv[optind - 1]);
			return -EINVAL;
		default:
			err_line("unknown option '%s' (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		err_line("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (c->kind == FAULT_KIND_HOLD)
		c->rate_ppm = FAULT_RATE_ONE;
	c->ingress = (__u8)o->ingress;
	c->enabled = 1;
	return check_options(o);
}

/* Sums the per-CPU counters; first_* is the earliest non-zero stamp. */
static int read_stats(const struct fault_bpf *skel, struct fault_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fault_stats *percpu = NULL;
	__u32 key = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	err = bpf_map__lookup_elem(skel->maps.fault_stats, &key, sizeof(key), percpu,
				   (size_t)ncpu * sizeof(*percpu), 0);
	if (err)
		goto cleanup;
	for (int i = 0; i < ncpu; i++) {
		const struct fault_stats *s = &percpu[i];

		out->seen += s->seen;
		out->matched += s->matched;
		out->applied += s->applied;
		out->dropped += s->dropped;
		out->corrupted += s->corrupted;
		out->duplicated += s->duplicated;
		out->errors += s->errors;
		if (s->first_applied_tai_ns &&
		    (!out->first_applied_tai_ns || s->first_applied_tai_ns < out->first_applied_tai_ns))
			out->first_applied_tai_ns = s->first_applied_tai_ns;
		if (s->last_applied_tai_ns > out->last_applied_tai_ns)
			out->last_applied_tai_ns = s->last_applied_tai_ns;
	}
cleanup:
	free(percpu);
	return err;
}

/* A JSON string; interface names may hold almost any byte. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_stamp(FILE *f, const char *key, __u64 ns)
{
	if (ns)
		fprintf(f, ",\"%s\":%llu", key, (unsigned long long)ns);
	else
		fprintf(f, ",\"%s\":null", key);
}

static int print_stats(const struct options *o, const struct fault_stats *s)
{
	const struct fault_config *c = &o->cfg;
	const __u8 *m = c->guest_mac;

	fputs("{\"iface\":", stdout);
	json_string(stdout, o->iface);
	printf(",\"dir\":\"%s\",\"kind\":\"%s\",\"match\":\"%s\",\"rate_ppm\":%u",
	       o->ingress ? "ingress" : "egress", kind_names[c->kind], match_names[c->match],
	       c->rate_ppm);
	if (c->match == FAULT_MATCH_STREAM)
		printf(",\"ports\":\"%u-%u\"", c->port_lo, c->port_hi);
	if (o->have_guest)
		printf(",\"guest\":\"%02x:%02x:%02x:%02x:%02x:%02x\"", m[0], m[1], m[2], m[3], m[4],
		       m[5]);
	if (c->kind == FAULT_KIND_HOLD)
		printf(",\"hold_ns\":%llu", (unsigned long long)c->hold_ns);
	printf(",\"seen\":%llu,\"matched\":%llu,\"applied\":%llu,\"dropped\":%llu,"
	       "\"corrupted\":%llu,\"duplicated\":%llu,\"errors\":%llu",
	       (unsigned long long)s->seen, (unsigned long long)s->matched,
	       (unsigned long long)s->applied, (unsigned long long)s->dropped,
	       (unsigned long long)s->corrupted, (unsigned long long)s->duplicated,
	       (unsigned long long)s->errors);
	json_stamp(stdout, "first_applied_ns", s->first_applied_tai_ns);
	json_stamp(stdout, "last_applied_ns", s->last_applied_tai_ns);
	fputs(",\"clock\":\"CLOCK_TAI\"}\n", stdout);
	if (fflush(stdout) || ferror(stdout))
		return -EIO;
	return 0;
}

/* SIGINT/SIGTERM/SIGHUP are blocked from the start and only delivered in
 * sigsuspend(): a signal during setup is kept until the filter is attached,
 * then runs the same detach path. A background job of a shell starts with
 * SIGINT ignored; the handler installed here takes it anyway. */
static int catch_signals(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &block, wait_mask))
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_mask = block;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL))
			return -errno;
		sigdelset(wait_mask, sigs[i]);
	}
	/* stats go to a pipe the lab may have closed: an error, not a kill */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static const char *perm_hint(int err)
{
	return err == -EPERM || err == -EACCES ? " (needs root: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)"
					       : "";
}

static int load(const struct options *o, struct fault_bpf **out)
{
	struct fault_bpf *skel;
	__u32 key = 0;
	int err;

	*out = NULL;
	skel = fault_bpf__open();
	if (!skel) {
		err = -errno;
		err_line("opening the BPF object: %s", strerror(-err));
		return err;
	}
	err = fault_bpf__load(skel);
	if (err) {
		err_line("loading the BPF program: %s%s%s", strerror(-err), perm_hint(err),
			 err == -EPERM || o->verbose ? "" : " (-v shows the verifier's log)");
		goto cleanup;
	}
	err = bpf_map__update_elem(skel->maps.fault_cfg, &key, sizeof(key), &o->cfg,
				   sizeof(o->cfg), BPF_ANY);
	if (err) {
		err_line("writing the configuration: %s", strerror(-err));
		goto cleanup;
	}
	*out = skel;
	return 0;
cleanup:
	fault_bpf__destroy(skel);
	return err;
}

static void say_attached(const struct options *o, const struct fault_tc *t)
{
	const struct fault_config *c = &o->cfg;

	fprintf(stderr, PROG ": attached to %s %s (tc pref %u handle 0x%x%s): %s %s",
		o->iface, o->ingress ? "ingress" : "egress", t->priority, t->handle,
		t->created_hook ? ", clsact created" : "", kind_names[c->kind],
		match_names[c->match]);
	if (c->match == FAULT_MATCH_STREAM)
		fprintf(stderr, " %u-%u", c->port_lo, c->port_hi);
	if (c->kind == FAULT_KIND_HOLD)
		fprintf(stderr, ", hold %.3f s\n", (double)c->hold_ns / 1e9);
	else
		fprintf(stderr, ", rate %.4g%%\n", (double)c->rate_ppm / (FAULT_RATE_ONE / 100));
}

int main(int argc, char **argv)
{
	struct fault_bpf *skel = NULL;
	struct fault_tc tc = { 0 };
	struct fault_stats stats;
	struct options o;
	sigset_t wait_mask;
	int ifindex, err, rc = EXIT_USAGE;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	verbose_libbpf = o.verbose;
	libbpf_set_print(libbpf_log);
	ifindex = (int)if_nametoindex(o.iface);
	if (!ifindex) {
		err_line("no interface '%s' in this network namespace", o.iface);
		return EXIT_USAGE;
	}
	err = catch_signals(&wait_mask);
	if (err) {
		err_line("signals: %s", strerror(-err));
		return EXIT_USAGE;
	}
	if (load(&o, &skel))
		goto cleanup;
	err = fault_tc__attach(&tc, ifindex, o.ingress, bpf_program__fd(skel->progs.fault_inject));
	if (err) {
		err_line("attaching to %s %s: %s%s", o.iface, o.ingress ? "ingress" : "egress",
			 strerror(-err), perm_hint(err));
		goto cleanup;
	}
	say_attached(&o, &tc);
	while (!stop_signal)
		sigsuspend(&wait_mask);

	rc = 0;
	err = fault_tc__detach(&tc);
	if (err) {
		err_line("detaching from %s: %s; check `tc filter show dev %s %s` (pref %u handle 0x%x)",
			 o.iface, strerror(-err), o.iface, o.ingress ? "ingress" : "egress",
			 tc.priority, tc.handle);
		rc = EXIT_RUNTIME;
	} else if (tc.gone) {
		err_line("warning: the filter on %s was removed by somebody else", o.iface);
	}
	err = read_stats(skel, &stats);
	if (err) {
		err_line("reading the counters: %s", strerror(-err));
		rc = EXIT_RUNTIME;
	} else if (print_stats(&o, &stats)) {
		err_line("writing the counters: %s", strerror(errno ? errno : EIO));
		rc = EXIT_RUNTIME;
	}
cleanup:
	if (fault_tc__detach(&tc))
		rc = EXIT_RUNTIME; /* only after a failed attach or detach */
	fault_bpf__destroy(skel);
	return rc;
}
