#include "reports/json_writer.h"

#include <inttypes.h>

#include "reports/units.h"

static void key_prefix(struct json_writer *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputc(',', w->out);
	w->need_comma[w->depth] = true;
	if (key)
		fprintf(w->out, "\"%s\":", key);
}

static void write_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void json_begin(struct json_writer *w, const char *key, char open)
{
	if (w->depth > 0 || w->need_comma[0])
		key_prefix(w, key);
	fputc(open, w->out);
	if (w->depth < 31)
		w->depth++;
	w->need_comma[w->depth] = false;
}

void json_end(struct json_writer *w, char close)
{
	fputc(close, w->out);
	if (w->depth > 0)
		w->depth--;
	if (w->depth == 0)
		fputc('\n', w->out);
}

void json_str(struct json_writer *w, const char *key, const char *val)
{
	key_prefix(w, key);
	if (val)
		write_escaped(w->out, val);
	else
		fputs("null", w->out);
}

void json_int(struct json_writer *w, const char *key, int64_t v)
{
	key_prefix(w, key);
	fprintf(w->out, "%" PRId64, v);
}

void json_opt_int(struct json_writer *w, const char *key, struct opt_i64 v)
{
	if (v.set)
		return json_int(w, key, v.v);
	key_prefix(w, key);
	fputs("null", w->out);
}

void json_opt_us(struct json_writer *w, const char *key, struct opt_i64 ns)
{
	char buf[40];

	key_prefix(w, key);
	if (!ns.set) {
		fputs("null", w->out);
		return;
	}
	format_us(ns.v, buf, sizeof(buf));
	fputs(buf, w->out);
}

void json_opt_bool(struct json_writer *w, const char *key, struct opt_i64 v)
{
	key_prefix(w, key);
	fputs(!v.set ? "null" : v.v ? "true" : "false", w->out);
}
