/*
 * libFuzzer target: one capture file's bytes (pcap, pcapng, either gzipped:
 * the reader tells them by magic) through analyze() with the CLI's
 * defaults, then every renderer (fuzz_common.h). Exercises the capture
 * reader, the counters of a migscope pcapng, the classifier, flows, guest,
 * report building, the switchover analysis and text, JSON, CSV and HTML.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "analysis/analyzer.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct analyze_config cfg;
	char path[FUZZ_PATH_LEN], err[512] = "";
	struct report rep;
	int fd = fuzz_file__open("capture", data, size, path);

	if (fd < 0)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	if (portset_parse(&cfg.ports, PORTSET_DEFAULT))
		__builtin_trap();
	cfg.paths[0] = path;
	cfg.ninputs = 1;
	if (!analyze(&cfg, &rep, err, sizeof(err)))
		fuzz_render_all(&rep);
	else if (!err[0] || strchr(err, '\n'))
		__builtin_trap(); /* an error is one line, never none */
	report_free(&rep);
	fuzz_file__close(fd);
	return 0;
}
