#include "analysis/capture_dir.h"

#include "analysis/capture_counters.h"
#include "analysis/capture_reader.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A ring keeps at most a few thousand files; this bounds a wrong directory. */
enum { MAX_DIR_CAPTURES = 65536 };

bool capture_dir__is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* pcap (either byte order, µs or ns), pcapng's SHB, or gzip */
static bool has_capture_magic(const char *path)
{
	static const uint8_t magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		{ 0x0a, 0x0d, 0x0d, 0x0a },
	};
	uint8_t m[4] = { 0 };
	FILE *fp = fopen(path, "rb");
	size_t got;

	if (!fp)
		return false;
	got = fread(m, 1, sizeof(m), fp);
	fclose(fp);
	if (got >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return true;
	for (size_t i = 0; got == sizeof(m) && i < sizeof(magics) / sizeof(magics[0]); i++)
		if (!memcmp(m, magics[i], sizeof(m)))
			return true;
	return false;
}

static int by_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int capture_dir__list(const char *dir, struct capture_dir *out, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	int cap = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d))) {
		char *path, **grown;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (stat(path, &st) || !S_ISREG(st.st_mode) || !has_capture_magic(path)) {
			free(path);
			continue;
		}
		if (out->n == MAX_DIR_CAPTURES) {
			free(path);
			rc = -E2BIG;
			snprintf(err, errlen, "%s: more than %d captures", dir, MAX_DIR_CAPTURES);
			break;
		}
		if (out->n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(out->paths, (size_t)cap * sizeof(*grown));
			if (!grown) {
				free(path);
				rc = -ENOMEM;
				break;
			}
			out->paths = grown;
		}
		out->paths[out->n++] = path;
	}
	closedir(d);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", dir);
	if (!rc && !out->n) {
		rc = -ENOENT;
		snprintf(err, errlen, "%s: no pcap or pcapng capture in this directory", dir);
	}
	if (rc) {
		capture_dir__free(out);
		return rc;
	}
	qsort(out->paths, (size_t)out->n, sizeof(*out->paths), by_version);
	return 0;
}

void capture_dir__free(struct capture_dir *d)
{
	for (int i = 0; i < d->n; i++)
		free(d->paths[i]);
	free(d->paths);
	d->paths = NULL;
	d->n = 0;
}

/* The first packet's stamp of a file, INT64_MIN when it has none readable. */
static int64_t first_stamp(const char *path)
{
	char err[256];
	struct capture_reader *r = capture_reader__open(path, err, sizeof(err));
	struct capture_packet pkt;
	int64_t t = INT64_MIN;

	if (r && capture_reader__next(r, &pkt) == 1)
		t = pkt.ts_ns;
	capture_reader__close(r);
	return t;
}

static bool meets(const struct time_window *w, int nw, int64_t from, int64_t to)
{
	for (int i = 0; i < nw; i++)
		if (from <= w[i].to_ns && to >= w[i].from_ns)
			return true;
	return false;
}

int capture_dir__select(struct capture_dir *d, const struct time_window *w, int nw, char *err,
			size_t errlen)
{
	struct capture_counters *cc;
	int64_t *first, *last;
	int kept = 0;

	if (nw <= 0 || !d->n)
		return 0;
	first = malloc((size_t)d->n * sizeof(*first));
	last = malloc((size_t)d->n * sizeof(*last));
	cc = malloc(sizeof(*cc));
	if (!first || !last || !cc) {
		free(first);
		free(last);
		free(cc);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < d->n; i++) {
		char ignored[256];

		first[i] = first_stamp(d->paths[i]);
		/* the agent's files say when they ended; others end where the
		 * next one begins */
		last[i] = !capture_counters__read(d->paths[i], cc, ignored, sizeof(ignored)) &&
				  cc->ours && cc->end_ns ? (int64_t)cc->end_ns : INT64_MIN;
	}
	free(cc);
	for (int i = 0; i < d->n; i++) {
		int64_t end = last[i] != INT64_MIN ? last[i] : INT64_MAX;

		for (int k = i + 1; last[i] == INT64_MIN && k < d->n; k++)
			if (first[k] != INT64_MIN) {
				end = first[k];
				break;
			}
		if (first[i] != INT64_MIN && meets(w, nw, first[i], end))
			d->paths[kept++] = d->paths[i];
		else
			free(d->paths[i]);
	}
	free(first);
	free(last);
	d->n = kept;
	if (!kept) {
		snprintf(err, errlen, "no capture in this directory covers the migrations' times");
		return -ENOENT;
	}
	return 0;
}
