/*
 * libFuzzer target: up to four captures and the options of `migscope
 * analyze`, from one input, so that clock alignment, roles across captures,
 * labels, --guest, --ports, --no-align and --announce are reached too.
 *
 * Input: a header of FUZZ_HDR bytes (zeros when shorter), then the
 * captures' bytes separated by FUZZ_SEP (at most MAX_INPUTS parts; further
 * separators stay inside the last one):
 *   0      flags: 1 --no-align, 2 --guest, 4 --announce, 8 --ports
 *   1      labels, two bits per capture (capture i: bits 2i..2i+1):
 *          0 none (detected), 1 src, 2 dst, 3 ctl
 *   2..7   --guest MAC;  8: odd: with the IPv4 address in 9..12
 *   13..16 --announce: initial 1+4b, max 1+40b, rounds b%17, step 1+4b (ms)
 *   17..20 --ports LO-HI, two 16-bit little-endian ports
 * tests/fuzz/mkmulti.sh builds such an input from capture files.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analyzer.h"
#include "tests/fuzz/fuzz_common.h"

#define FUZZ_SEP "MSCAPSEP"
enum { FUZZ_HDR = 24 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void options(const uint8_t *h, struct analyze_config *cfg)
{
	static const char *const label[4] = { NULL, "src", "dst", "ctl" };
	char ports[32];

	cfg->no_align = h[0] & 1;
	if (h[0] & 2) {
		cfg->guest_mac_set = true;
		memcpy(cfg->guest_mac, h + 2, 6);
		if (h[8] & 1) {
			cfg->guest_ip.family = 4;
			memcpy(cfg->guest_ip.bytes, h + 9, 4);
		}
	}
	if (h[0] & 4) {
		cfg->announce_set = true;
		cfg->announce = (struct announce_params){
			.initial_ms = 1 + 4 * h[13], .max_ms = 1 + 40 * h[14],
			.rounds = h[15] % (REPORT_MAX_ROUNDS + 1), .step_ms = 1 + 4 * h[16],
		};
	}
	snprintf(ports, sizeof(ports), "%s", PORTSET_DEFAULT);
	if (h[0] & 8) {
		unsigned lo = h[17] | h[18] << 8, hi = h[19] | h[20] << 8;

		snprintf(ports, sizeof(ports), "%u-%u", lo < hi ? lo : hi, lo < hi ? hi : lo);
	}
	if (portset_parse(&cfg->ports, ports))
		portset_parse(&cfg->ports, PORTSET_DEFAULT); /* port 0: the CLI refuses it too */
	for (int i = 0; i < MAX_INPUTS; i++)
		cfg->labels[i] = label[h[1] >> (2 * i) & 3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[FUZZ_HDR] = { 0 };
	int fd[MAX_INPUTS] = { -1, -1, -1, -1 };
	char path[MAX_INPUTS][FUZZ_PATH_LEN], err[512] = "";
	struct analyze_config cfg;
	struct report rep;
	const uint8_t *p, *end = data + size;

	memset(&cfg, 0, sizeof(cfg));
	memcpy(hdr, data, size < FUZZ_HDR ? size : FUZZ_HDR);
	options(hdr, &cfg);
	p = size < FUZZ_HDR ? end : data + FUZZ_HDR;
	while (cfg.ninputs < MAX_INPUTS) {
		const uint8_t *sep = cfg.ninputs == MAX_INPUTS - 1 ? NULL
				     : memmem(p, (size_t)(end - p), FUZZ_SEP, strlen(FUZZ_SEP));
		const uint8_t *stop = sep ? sep : end;
		int i = cfg.ninputs;

		fd[i] = fuzz_file__open("capture", p, (size_t)(stop - p), path[i]);
		if (fd[i] < 0)
			goto cleanup;
		cfg.paths[i] = path[i];
		cfg.ninputs++;
		if (!sep)
			break;
		p = sep + strlen(FUZZ_SEP);
	}
	/* labels past the captures given are not the CLI's to have */
	for (int i = cfg.ninputs; i < MAX_INPUTS; i++)
		cfg.labels[i] = NULL;
	if (!analyze(&cfg, &rep, err, sizeof(err)))
		fuzz_render_all(&rep);
	else if (!err[0] || strchr(err, '\n'))
		__builtin_trap(); /* an error is one line, never none */
	report_free(&rep);
cleanup:
	for (int i = 0; i < MAX_INPUTS; i++)
		fuzz_file__close(fd[i]);
	return 0;
}
