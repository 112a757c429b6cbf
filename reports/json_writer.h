/*
 * json_writer - streaming JSON (RFC 8259) with commas and string escaping
 * handled, so renderers only say what goes where. Nesting up to 32 levels.
 * A NULL key writes an array element. Writes to a caller-owned FILE, which
 * no other thread may use meanwhile (stdio's _unlocked calls).
 */
#ifndef MIGSCOPE_JSON_WRITER_H
#define MIGSCOPE_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "reports/report.h"

struct json_writer {
	FILE *out;
	int depth;
	bool need_comma[32];
};

void json_begin(struct json_writer *w, const char *key, char open);
void json_end(struct json_writer *w, char close);
void json_str(struct json_writer *w, const char *key, const char *val); /* NULL -> null */
void json_int(struct json_writer *w, const char *key, int64_t v);
void json_opt_int(struct json_writer *w, const char *key, struct opt_i64 v);
/* nanoseconds as microseconds with three exact decimals, or null */
void json_opt_us(struct json_writer *w, const char *key, struct opt_i64 ns);
void json_opt_bool(struct json_writer *w, const char *key, struct opt_i64 v);

#endif
