#include "tests/fuzz/fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analysis/json_reader.h"
#include "reports/render.h"

/* A memfd rather than a file under /tmp: nothing is left behind by a crash
 * or a killed campaign, and nothing is shared between two campaigns. The
 * analyzer opens the path, so it reads the bytes through its own FILE (and
 * zlib's gzopen for .gz) exactly as from a capture on disk. */
int fuzz_file__open(const char *name, const uint8_t *data, size_t size,
		    char path[FUZZ_PATH_LEN])
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	snprintf(path, FUZZ_PATH_LEN, "/proc/self/fd/%d", fd);
	return fd;
}

void fuzz_file__close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Returns the rendering (malloc'd, NUL-terminated), its length in *len. */
static char *render_one(int (*render)(const struct report *, FILE *), const struct report *r,
			size_t *len)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);

	if (!out)
		abort(); /* the harness's memory, not the analyzer's: stop loudly */
	if (render(r, out))
		abort(); /* a memory stream does not fail: a renderer did */
	fclose(out);
	return buf;
}

void fuzz_render_all(const struct report *r)
{
	struct json_doc *d = NULL;
	char err[256];
	size_t len;

	free(render_one(render_text, r, &len));
	free(render_one(render_csv, r, &len));
	free(render_one(render_html, r, &len));
	/* the JSON must be JSON, whatever the capture held (an oracle beyond the
	 * sanitizers: a NaN, an unescaped byte or a cut document fails here) */
	{
		char *json = render_one(render_json, r, &len);

		if (json_doc__parse(json, len, &d, err, sizeof(err))) {
			fprintf(stderr, "render_json wrote invalid JSON: %s\n", err);
			abort();
		}
		json_doc__free(d);
		free(json);
	}
}
