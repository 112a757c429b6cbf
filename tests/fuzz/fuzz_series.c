/*
 * libFuzzer target: the JSON `migscope series` reads. The bytes go through
 * json_reader (every node visited through every accessor), then through
 * series_table__add, __summarize and both renderers of the table twice: as
 * a report file, and as the scenario.json of a lab run directory, whose
 * captures (cn1.pcap, cn2.pcap, ctl.pcap: one RARP each) are analyzed in
 * process with the roles, guest and port it names.
 *
 * The lab directory is made once per process (LLVMFuzzerInitialize) and
 * removed at exit; only its scenario.json changes between inputs, so every
 * input sees the same files: the target stays deterministic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/json_reader.h"
#include "series/series.h"
#include "series/render_series.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Written once by LLVMFuzzerInitialize, read-only afterwards. */
static char lab_dir[] = "/tmp/migscope-fuzz-series-XXXXXX";

static void lab_file(const char *name, const void *bytes, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", lab_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(bytes, 1, len, f) != len || fclose(f))
		abort();
}

static void remove_lab(void)
{
	static const char *const names[] = { "cn1.pcap", "cn2.pcap", "ctl.pcap", "scenario.json" };
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", lab_dir, names[i]);
		unlink(path);
	}
	rmdir(lab_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* a nanosecond pcap with one RARP of 52:54:00:12:34:56 */
	static const uint8_t cap[] = {
		0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
		0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0, 42, 0, 0, 0, 42, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x80, 0x35,
		0, 1, 8, 0, 6, 4, 0, 3, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0, 0, 0,
		0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0, 0, 0,
	};

	(void)argc;
	(void)argv;
	if (!mkdtemp(lab_dir))
		abort();
	atexit(remove_lab);
	lab_file("cn1.pcap", cap, sizeof(cap));
	lab_file("cn2.pcap", cap, sizeof(cap));
	lab_file("ctl.pcap", cap, sizeof(cap));
	return 0;
}

/* Every accessor on every node, to the depth the reader allows. */
static void walk(const struct json_doc *d, int node, int depth)
{
	int n = json_doc__len(d, node), value;
	int64_t v;

	if (depth > JSON_MAX_DEPTH + 1)
		__builtin_trap(); /* deeper than the reader accepts */
	for (int dec = 0; dec <= 9; dec += 3)
		(void)json_doc__fixed(d, node, dec, &v);
	(void)json_doc__str(d, node);
	(void)json_doc__path(d, node, "stream.migration_time_us");
	(void)json_doc__path(d, node, "verdict.code");
	switch (json_doc__type(d, node)) {
	case JSON_ARRAY:
		for (int i = 0; i < n; i++)
			walk(d, json_doc__at(d, node, i), depth + 1);
		if (json_doc__at(d, node, n) != -1 || json_doc__at(d, node, -1) != -1)
			__builtin_trap();
		break;
	case JSON_OBJECT:
		for (int i = 0; i < n; i++) {
			const char *key = json_doc__key_at(d, node, i, &value);

			if (!key || value < 0)
				__builtin_trap();
			/* the first member of that name, which may be an earlier one */
			if (json_doc__get(d, node, key) < 0)
				__builtin_trap();
			walk(d, value, depth + 1);
		}
		break;
	default:
		if (n)
			__builtin_trap();
		break;
	}
}

static void table(const char *path)
{
	struct series_table *t = series_table__new();
	char err[1024] = "";
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	if (!t)
		return;
	if (series_table__add(t, path, NULL, NULL, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap(); /* an error is one line, never none */
		goto cleanup;
	}
	if (series_table__summarize(t))
		goto cleanup;
	for (int csv = 0; csv < 2; csv++) {
		out = open_memstream(&buf, &len);
		if (!out)
			abort();
		if (csv ? render_series_csv(t, out) : render_series_text(t, out))
			abort();
		fclose(out);
		free(buf);
		buf = NULL;
	}
cleanup:
	series_table__free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc *d = NULL;
	char path[FUZZ_PATH_LEN], err[256] = "";
	int fd;

	if (!json_doc__parse((const char *)data, size, &d, err, sizeof(err)))
		walk(d, 0, 0);
	else if (!err[0] || strchr(err, '\n'))
		__builtin_trap();
	json_doc__free(d);
	fd = fuzz_file__open("report.json", data, size, path);
	if (fd < 0)
		return 0;
	table(path);
	fuzz_file__close(fd);
	lab_file("scenario.json", data, size);
	table(lab_dir);
	return 0;
}
