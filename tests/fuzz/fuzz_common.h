/*
 * fuzz_common - what the libFuzzer targets of tests/fuzz share: the input's
 * bytes as a file the analyzer can open (analyze() and series take paths),
 * and the report through every renderer into memory.
 *
 * Each target is deterministic and keeps no state between inputs: the files
 * are memfds closed before the input returns, the report and every stream
 * are freed, and the analyzer itself has no global mutable state.
 *
 * Ownership: fuzz_file__open returns an fd (>= 0) the caller closes with
 * fuzz_file__close; path is written into the caller's buffer. Errors: -1.
 */
#ifndef MIGSCOPE_FUZZ_COMMON_H
#define MIGSCOPE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "reports/report.h"

enum { FUZZ_PATH_LEN = 64 };

int fuzz_file__open(const char *name, const uint8_t *data, size_t size,
		    char path[FUZZ_PATH_LEN]);
void fuzz_file__close(int fd);

/* Renders r as text, JSON, CSV and HTML into memory streams, and checks
 * what every renderer promises: return 0 (-EIO only for a failed stream). */
void fuzz_render_all(const struct report *r);

#endif
