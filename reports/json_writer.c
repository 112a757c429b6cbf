#include "reports/json_writer.h"

#include <string.h>

#include "reports/units.h"

/* The stream is this writer's alone while it writes: stdio's _unlocked
 * calls, not a lock taken for every character of a large report. */
static void put(FILE *out, const char *s, size_t n)
{
	fwrite_unlocked(s, 1, n, out);
}

static void put_str(FILE *out, const char *s)
{
	put(out, s, strlen(s));
}

static void key_prefix(struct json_writer *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputc_unlocked(',', w->out);
	w->need_comma[w->depth] = true;
	if (key) {
		fputc_unlocked('"', w->out);
		put_str(w->out, key);
		put(w->out, "\":", 2);
	}
}

static void write_escaped(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	char esc[8];

	fputc_unlocked('"', out);
	for (; *p; p++) {
		if (*p != '"' && *p != '\\' && *p >= 0x20)
			continue;
		put(out, (const char *)run, (size_t)(p - run));
		run = p + 1;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(out, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(out, esc, 6);
		}
	}
	put(out, (const char *)run, (size_t)(p - run));
	fputc_unlocked('"', out);
}

void json_begin(struct json_writer *w, const char *key, char open)
{
	if (w->depth > 0 || w->need_comma[0])
		key_prefix(w, key);
	fputc_unlocked(open, w->out);
	if (w->depth < 31)
		w->depth++;
	w->need_comma[w->depth] = false;
}

void json_end(struct json_writer *w, char close)
{
	fputc_unlocked(close, w->out);
	if (w->depth > 0)
		w->depth--;
	if (w->depth == 0)
		fputc_unlocked('\n', w->out);
}

void json_str(struct json_writer *w, const char *key, const char *val)
{
	key_prefix(w, key);
	if (val)
		write_escaped(w->out, val);
	else
		put(w->out, "null", 4);
}

void json_int(struct json_writer *w, const char *key, int64_t v)
{
	char buf[24];

	key_prefix(w, key);
	put(w->out, buf, format_int(v, buf, sizeof(buf)));
}

void json_opt_int(struct json_writer *w, const char *key, struct opt_i64 v)
{
	if (v.set)
		return json_int(w, key, v.v);
	key_prefix(w, key);
	put(w->out, "null", 4);
}

void json_opt_us(struct json_writer *w, const char *key, struct opt_i64 ns)
{
	char buf[40];

	key_prefix(w, key);
	if (!ns.set) {
		put(w->out, "null", 4);
		return;
	}
	format_us(ns.v, buf, sizeof(buf));
	put_str(w->out, buf);
}

void json_opt_bool(struct json_writer *w, const char *key, struct opt_i64 v)
{
	key_prefix(w, key);
	put_str(w->out, !v.set ? "null" : v.v ? "true" : "false");
}
