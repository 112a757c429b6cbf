/*
 * png-check - tells whether a PNG screenshot of the HTML report shows a drawn
 * report rather than a blank or error page (tests/e2e/html.sh). Decodes the
 * PNG with zlib (8-bit RGB or RGBA, not interlaced: what Chromium writes),
 * then counts the pixels of the colours the report draws its timeline with.
 *
 * usage: png-check FILE.png
 * Prints "key=value" lines; exit 0 when every colour family is present,
 * 1 when the picture is not a drawn report, 2 when the file is not a PNG
 * this tool reads. The file is hostile input: every length is checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { MAX_FILE = 64 << 20, MAX_PIXELS = 16 << 20, MIN_HITS = 20, MIN_COLOURS = 40 };

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Colour families of reports/render_html.c's STYLE. */
enum family { F_PAGE, F_PROBE, F_BLACKOUT, F_RATE, F_RARP, F_COUNT };
static const char *const family_name[F_COUNT] = { "page", "probe", "blackout", "throughput",
						  "rarp" };

static int family(const uint8_t *px)
{
	int r = px[0], g = px[1], b = px[2];

	if (abs(r - 0xee) <= 2 && abs(g - 0xf1) <= 2 && abs(b - 0xf4) <= 2)
		return F_PAGE;
	if (r > 80 && r < 130 && g < 90 && b > 200)
		return F_RARP;
	if (b > 180 && r < 140 && g < 170 && b - r > 80)
		return F_PROBE;
	if (r > 230 && g < 226 && b < 226 && r - g > 25 && abs(g - b) < 20)
		return F_BLACKOUT;
	if (abs(r - 0xcc) <= 6 && abs(g - 0xfb) <= 6 && abs(b - 0xef) <= 6)
		return F_RATE;
	return -1;
}

static int fail(int code, const char *path, const char *why)
{
	fprintf(stderr, "png-check: %s: %s\n", path, why);
	return code;
}

int main(int argc, char **argv)
{
	static const uint8_t magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t *file = NULL, *idat = NULL, *raw = NULL, *prev, *line;
	uint32_t width = 0, height = 0, bpp = 0;
	size_t size, pos = 8, nidat = 0, stride;
	uLongf rawlen;
	uint64_t hits[F_COUNT] = { 0 };
	static uint8_t seen[4096];
	int colours = 0, rc = 2;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: png-check FILE.png\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f)
		return fail(2, argv[1], "cannot open");
	file = malloc(MAX_FILE);
	size = file ? fread(file, 1, MAX_FILE, f) : 0;
	fclose(f);
	idat = malloc(MAX_FILE);
	if (!file || !idat || size < 8 || memcmp(file, magic, 8)) {
		rc = fail(2, argv[1], "not a PNG");
		goto cleanup;
	}
	while (pos + 12 <= size) {
		uint32_t len = be32(file + pos);
		const uint8_t *type = file + pos + 4, *body = file + pos + 8;

		if (len > size - pos - 12) {
			rc = fail(2, argv[1], "chunk runs past the end");
			goto cleanup;
		}
		if (!memcmp(type, "IHDR", 4) && len >= 13) {
			width = be32(body);
			height = be32(body + 4);
			/* 8-bit truecolour (2) or with alpha (6), no interlace */
			if (body[8] != 8 || (body[9] != 2 && body[9] != 6) || body[12]) {
				rc = fail(2, argv[1], "not 8-bit RGB/RGBA without interlace");
				goto cleanup;
			}
			bpp = body[9] == 2 ? 3 : 4;
		} else if (!memcmp(type, "IDAT", 4)) {
			memcpy(idat + nidat, body, len);
			nidat += len;
		} else if (!memcmp(type, "IEND", 4)) {
			break;
		}
		pos += 12 + (size_t)len;
	}
	if (!bpp || !width || !height || (uint64_t)width * height > MAX_PIXELS || !nidat) {
		rc = fail(2, argv[1], "no image header or data, or too large");
		goto cleanup;
	}
	stride = (size_t)width * bpp;
	rawlen = (uLongf)((stride + 1) * height);
	raw = malloc(rawlen + stride);
	if (!raw || uncompress(raw + stride, &rawlen, idat, nidat) != Z_OK ||
	    rawlen != (stride + 1) * height) {
		rc = fail(2, argv[1], "image data does not inflate to its size");
		goto cleanup;
	}
	/* unfilter in place; a zero row before the first stands for "above" */
	memset(raw, 0, stride);
	prev = raw;
	for (uint32_t y = 0; y < height; y++) {
		uint8_t filter = raw[stride + y * (stride + 1)];

		line = raw + stride + y * (stride + 1) + 1;
		for (size_t i = 0; i < stride; i++) {
			int a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;

			line[i] += filter == 1 ? a : filter == 2 ? b : filter == 3 ? (a + b) / 2
				   : filter == 4 ? paeth(a, b, c) : 0;
		}
		for (size_t x = 0; x < stride; x += bpp) {
			int fam = family(line + x);
			unsigned q = (line[x] >> 4) << 8 | (line[x + 1] >> 4) << 4 | line[x + 2] >> 4;

			if (fam >= 0)
				hits[fam]++;
			if (!seen[q]) {
				seen[q] = 1;
				colours++;
			}
		}
		prev = line;
	}
	printf("size=%ux%u\ncolours=%d\n", width, height, colours);
	rc = 0;
	for (int k = 0; k < F_COUNT; k++) {
		printf("%s=%llu\n", family_name[k], (unsigned long long)hits[k]);
		if (hits[k] < MIN_HITS) {
			fprintf(stderr, "png-check: %s: no %s pixels: the timeline was not drawn\n",
				argv[1], family_name[k]);
			rc = 1;
		}
	}
	if (colours < MIN_COLOURS)
		rc = fail(1, argv[1], "too few colours: a blank or error page");
cleanup:
	free(raw);
	free(idat);
	free(file);
	return rc;
}
