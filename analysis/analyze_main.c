/*
 * `migscope analyze`: the command line of analysis/analyzer.h, rendering the
 * report with reports/render.h. Exit status (migscope.h): 0 done, 1 findings
 * (a switchover diagnosed with a fault, or a guest left unreachable), 2 usage
 * or input error.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analyzer.h"
#include "analysis/announce_sched.h"
#include "migscope.h"
#include "reports/render.h"

static void analyze_usage(FILE *out)
{
	fprintf(out,
		"usage: migscope analyze [options] [src=|dst=|ctl=]CAPTURE|DIR...\n"
		"\n"
		"Reports every live migration in pcap/pcapng captures (also .gz): stream bytes\n"
		"and retransmits per NIC, downtime at microsecond resolution, RARP/GARP/NA\n"
		"announcements, probe loss by phase, and whether the guest answered again.\n"
		"Give one capture per vantage: the source and destination compute NICs and the\n"
		"prober (ctl). Unlabelled captures are recognised from the traffic. A directory\n"
		"is one vantage recorded as several files, read in name order: a migration\n"
		"kept by the flight recorder (migscope capture -W), tcpdump -C/-G output; the\n"
		"libvirt hook's domains.log in it names the guests' domains. Where the agent's\n"
		"counters say when migrations ran, only the files within a minute of them are read.\n"
		"\n"
		"  -f, --format FMT      text (default), json, csv, html (one self-contained\n"
		"                        page with SVG timelines; use with -o FILE.html) or\n"
		"                        openmetrics (Prometheus: a sample per migration)\n"
		"  -g, --guest MAC[,IP]  only this guest's migrations (default: every guest,\n"
		"                        each migration's named by its RARPs)\n"
		"  -p, --ports LIST      migration ports (default " PORTSET_DEFAULT ")\n"
		"  -o, --output FILE     write the report to FILE instead of stdout\n"
		"      --no-align        take the captures' clocks as they are (default: estimate\n"
		"                        each capture's offset from the packets they share)\n"
		"  -H, --hypervisor FILE what the hypervisor recorded, beside the network's account:\n"
		"                        QEMU's query-migrate JSON or QMP event log, virsh\n"
		"                        domjobinfo --completed, or its job-completed event\n"
		"                        (repeatable; event stamps pick the migration, else\n"
		"                        the files go to the migrations in order, the\n"
		"                        destination's query-migrate with the one before)\n"
		"      --announce I,M,R,S  QEMU's announce-initial, -max (ms), -rounds, -step (ms)\n"
		"                        on the destination, to check the RARPs against\n"
		"                        (default 50,550,5,100: QEMU's defaults)\n"
		"      --probe KIND      what measures the downtime and the loss: icmp (echo\n"
		"                        probes), arp (ARP requests for the guest's address,\n"
		"                        arping), tcp[:PORT] (the guest's own TCP requests:\n"
		"                        HTTP, a port check, any request/response), auto (the\n"
		"                        default: echo; if the guest answered none, ARP probes\n"
		"                        it answered; else its requests if answered)\n"
		"      --sla MS          the guest's own requests (HTTP and any request/response\n"
		"                        its TCP flows show): count those slower than MS, and\n"
		"                        call a flow stalled at MS (default 1000)\n"
		"  -h, --help            this help\n"
		"\n"
		"Each migration gets a verdict: ok, no_announce, early_cutover,\n"
		"announce_without_ip, stale_forwarding, destination_silent, slow_guest,\n"
		"return_path or insufficient_data, with its evidence.\n"
		"\n"
		"exit status: 0 done, 1 findings (a verdict other than ok and insufficient_data,\n"
		"even one that recovered, or a guest that never answered again), 2 usage or\n"
		"input error\n");
}

static int add_input(const char *arg, struct analyze_config *cfg)
{
	static const char *const labels[] = { "src", "dst", "ctl" };
	const char *eq = strchr(arg, '=');

	if (cfg->ninputs == MAX_INPUTS)
		return -E2BIG;
	cfg->paths[cfg->ninputs] = arg;
	cfg->labels[cfg->ninputs] = NULL;
	for (size_t i = 0; eq && i < sizeof(labels) / sizeof(labels[0]); i++) {
		if ((size_t)(eq - arg) == strlen(labels[i]) && !strncmp(arg, labels[i], 3)) {
			cfg->labels[cfg->ninputs] = labels[i];
			cfg->paths[cfg->ninputs] = eq + 1;
		}
	}
	cfg->ninputs++;
	return 0;
}

/* icmp, arp, tcp, tcp:PORT, auto */
static int probe_parse(const char *s, struct analyze_config *cfg)
{
	char *end = NULL;
	long port;

	if (!strcmp(s, "auto") || !strcmp(s, "icmp") || !strcmp(s, "tcp") || !strcmp(s, "arp")) {
		cfg->probe = !strcmp(s, "auto") ? PROBE_AUTO : !strcmp(s, "icmp") ? PROBE_ICMP
			   : !strcmp(s, "arp") ? PROBE_ARP : PROBE_TCP;
		return 0;
	}
	if (strncmp(s, "tcp:", 4) || !s[4])
		return -EINVAL;
	port = strtol(s + 4, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	cfg->probe = PROBE_TCP;
	cfg->probe_port = (uint16_t)port;
	return 0;
}

static void show_progress(uint64_t packets, void *arg)
{
	(void)arg;
	fprintf(stderr, "\rmigscope: %llu Mpackets read", (unsigned long long)(packets >> 20));
}

static int render(const struct report *r, const char *format, FILE *out)
{
	if (!strcmp(format, "json"))
		return render_json(r, out);
	if (!strcmp(format, "csv"))
		return render_csv(r, out);
	if (!strcmp(format, "html"))
		return render_html(r, out);
	if (!strcmp(format, "openmetrics"))
		return render_openmetrics(r, out);
	return render_text(r, out);
}

int analyze_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "guest", required_argument, NULL, 'g' },
		{ "ports", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-align", no_argument, NULL, 'A' },
		{ "announce", required_argument, NULL, 'N' },
		{ "hypervisor", required_argument, NULL, 'H' },
		{ "sla", required_argument, NULL, 'S' },
		{ "probe", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct analyze_config cfg;
	const char *format = "text", *ports = PORTSET_DEFAULT, *output = NULL;
	struct report report;
	char err[512] = "";
	FILE *out = stdout;
	int opt, rc;

	optind = 1;

	memset(&cfg, 0, sizeof(cfg));
	while ((opt = getopt_long(argc, argv, "f:g:p:o:H:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			format = optarg;
			if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "csv") &&
			    strcmp(format, "html") && strcmp(format, "openmetrics")) {
				fprintf(stderr, "migscope: unknown format '%s' (text, json, csv, html, "
					"openmetrics)\n", format);
				return EXIT_USAGE;
			}
			break;
		case 'g':
			if (guest_spec_parse(optarg, cfg.guest_mac, &cfg.guest_ip)) {
				fprintf(stderr, "migscope: --guest wants MAC[,IP], got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			cfg.guest_mac_set = true;
			break;
		case 'p':
			ports = optarg;
			cfg.ports_given = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'A':
			cfg.no_align = true;
			break;
		case 'N':
			if (announce_params_parse(optarg, &cfg.announce)) {
				fprintf(stderr, "migscope: --announce wants INITIAL,MAX,ROUNDS,STEP in ms "
					"(1-100000, rounds 0-%d), got '%s'\n", REPORT_MAX_ROUNDS, optarg);
				return EXIT_USAGE;
			}
			cfg.announce_set = true;
			break;
		case 'H':
			if (cfg.nhypervisor == MAX_HYPERVISOR_FILES) {
				fprintf(stderr, "migscope: at most %d --hypervisor files\n",
					MAX_HYPERVISOR_FILES);
				return EXIT_USAGE;
			}
			cfg.hypervisor_paths[cfg.nhypervisor++] = optarg;
			break;
		case 'S': {
			char *end = NULL;
			long ms = strtol(optarg, &end, 10);

			if (!*optarg || *end || ms < 1 || ms > 3600000) {
				fprintf(stderr, "migscope: --sla wants milliseconds (1-3600000), got "
					"'%s'\n", optarg);
				return EXIT_USAGE;
			}
			cfg.sla_ns = (int64_t)ms * 1000000;
			break;
		}
		case 'P':
			if (probe_parse(optarg, &cfg)) {
				fprintf(stderr, "migscope: --probe wants icmp, arp, tcp, tcp:PORT or auto, got "
					"'%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			analyze_usage(stdout);
			return EXIT_DONE;
		default:
			fprintf(stderr, "migscope analyze: try 'migscope analyze --help'\n");
			return EXIT_USAGE;
		}
	}
	if (portset_parse(&cfg.ports, ports)) {
		fprintf(stderr, "migscope: --ports wants ports and ranges like 49152-49215,16509\n");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		if (add_input(argv[i], &cfg)) {
			fprintf(stderr, "migscope: at most %d captures\n", MAX_INPUTS);
			return EXIT_USAGE;
		}
	}
	if (!cfg.ninputs) {
		fprintf(stderr, "migscope analyze: no capture given (try 'migscope analyze --help')\n");
		return EXIT_USAGE;
	}
	if (isatty(STDERR_FILENO))
		cfg.progress = show_progress;
	/* Memory freed between the passes is kept for the next, not handed back
	 * to the kernel: new pages cost microseconds each (far more in a VM),
	 * and this process is short-lived. Advice only: on failure, glibc's
	 * defaults stand. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	rc = analyze(&cfg, &report, err, sizeof(err));
	if (cfg.progress)
		fprintf(stderr, "\r\033[K");
	if (rc) {
		fprintf(stderr, "migscope: %s\n", err);
		report_free(&report);
		return EXIT_USAGE;
	}
	for (int i = 0; i < report.nwarnings; i++)
		fprintf(stderr, "migscope: warning: %s\n", report.warnings[i]);
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "migscope: %s: %s\n", output, strerror(errno));
		report_free(&report);
		return EXIT_USAGE;
	}
	rc = render(&report, format, out);
	if ((out != stdout && fclose(out)) || (out == stdout && fflush(out)) || rc) {
		fprintf(stderr, "migscope: writing the report failed\n");
		report_free(&report);
		return EXIT_USAGE;
	}
	rc = report_has_findings(&report) ? EXIT_FINDINGS : EXIT_DONE;
	report_free(&report);
	return rc;
}
