/*
 * `migscope series`: the command line of series/series.h. Exit status 0
 * done, 2 usage or input error (a run that cannot be read stops the table:
 * a silently shorter series would skew its statistics).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migscope.h"
#include "series/render_series.h"
#include "series/series.h"

static void series_usage(FILE *out)
{
	fprintf(out,
		"usage: migscope series [options] [--setting LABEL] RUN...\n"
		"\n"
		"One table across repeated runs of a migration experiment: a row per migration\n"
		"of each run (migration time, downtime (probe gap), guest silence, out/in bytes,\n"
		"retransmitted segments, lost probes, verdict), then per setting the mean,\n"
		"median and p95 over its runs (median and p95 by nearest rank: always the value\n"
		"of one run; runs without a value are left out).\n"
		"\n"
		"RUN is one of:\n"
		"  a lab run directory   scenario.json beside its captures (tests/lab/run.sh):\n"
		"                        analyzed here; setting = the scenario with its arguments\n"
		"                        and options (\"loss 2\", \"port-not-ready 2 --no-announce-self\")\n"
		"  a directory holding a migscope report JSON (analyze --format json), or\n"
		"  REPORT.json           taken as it is; setting = the name of its directory\n"
		"                        less a run suffix -rN or -N (loss-2-r3 -> loss-2)\n"
		"The run is named after its directory (or the JSON file when not report.json).\n"
		"\n"
		"  -s, --setting LABEL   the setting of the RUNs after it (\"\" derives it again)\n"
		"  -f, --format FMT      text (default) or csv\n"
		"  -o, --output FILE     write the table to FILE instead of stdout\n"
		"  -h, --help            this help\n"
		"\n"
		"exit status: 0 done, 2 usage or input error\n");
}

int series_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "setting", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	const char **settings = calloc((size_t)argc + 1, sizeof(*settings));
	const char *format = "text", *output = NULL, *setting = NULL;
	struct series_table *t = NULL;
	int opt, n = 0, rc = EXIT_USAGE;
	char err[1024];
	FILE *out = stdout;

	if (!paths || !settings || !(t = series_table__new())) {
		fprintf(stderr, "migscope: out of memory\n");
		goto cleanup;
	}
	/* "-": RUNs come back in order, so --setting applies to those after it */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "-s:f:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 1:
			paths[n] = optarg;
			settings[n++] = setting;
			break;
		case 's':
			setting = *optarg ? optarg : NULL;
			break;
		case 'f':
			format = optarg;
			if (strcmp(format, "text") && strcmp(format, "csv")) {
				fprintf(stderr, "migscope: unknown format '%s' (text, csv)\n", format);
				goto cleanup;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			series_usage(stdout);
			rc = EXIT_DONE;
			goto cleanup;
		default:
			fprintf(stderr, "migscope series: try 'migscope series --help'\n");
			goto cleanup;
		}
	}
	if (!n) {
		fprintf(stderr, "migscope series: no run given (try 'migscope series --help')\n");
		goto cleanup;
	}
	for (int i = 0; i < n; i++) {
		if (series_table__add(t, paths[i], settings[i], stderr, err, sizeof(err))) {
			fprintf(stderr, "migscope: %s\n", err);
			goto cleanup;
		}
	}
	if (series_table__summarize(t)) {
		fprintf(stderr, "migscope: out of memory\n");
		goto cleanup;
	}
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "migscope: %s: %s\n", output, strerror(errno));
		out = stdout;
		goto cleanup;
	}
	rc = !strcmp(format, "csv") ? render_series_csv(t, out) : render_series_text(t, out);
	if ((out != stdout && fclose(out)) || (out == stdout && fflush(out)) || rc) {
		fprintf(stderr, "migscope: writing the table failed\n");
		rc = EXIT_USAGE;
	}
	out = stdout;
cleanup:
	if (out != stdout)
		fclose(out);
	series_table__free(t);
	free(paths);
	free(settings);
	return rc;
}
