/*
 * migscope - the command dispatcher (migscope.h): `migscope COMMAND ...`.
 */
#include <stdio.h>
#include <string.h>

#include "migscope.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} COMMANDS[] = {
	{ "analyze", analyze_main, "report the live migrations in captures (migscope analyze --help)" },
	{ "series", series_main, "one table across repeated runs, with mean, median, p95 (--help)" },
	{ "capture", capture_main, "watch a compute node's NICs with eBPF (migscope capture --help)" },
	{ "replay", replay_main,
	  "run the capture agent's eBPF programs over a capture (migscope replay --help)" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: migscope COMMAND [options]\n\n");
	for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		fprintf(out, "  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "migscope: no command given (try 'migscope --help')\n");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_DONE;
	}
	for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		if (!strcmp(argv[1], COMMANDS[i].name))
			return COMMANDS[i].main(argc - 1, argv + 1);
	fprintf(stderr, "migscope: unknown command '%s' (try 'migscope --help')\n", argv[1]);
	return EXIT_USAGE;
}
