/*
 * pcapng blocks (draft-ietf-opsawg-pcapng), all little-endian as written by
 * this host (the SHB's byte-order magic tells readers):
 *
 *   block:  type(4) total_len(4) body... options... total_len(4)
 *   option: code(2) len(2) value padded to 4 bytes; opt_endofopt = 0,0
 *   SHB 0x0A0D0D0A: magic 0x1A2B3C4D, major 1, minor 0, section_len -1
 *   IDB 1:          linktype(2) reserved(2) snaplen(4)
 *   EPB 6:          if_id(4) ts_high(4) ts_low(4) caplen(4) origlen(4) data
 *   ISB 5:          if_id(4) ts_high(4) ts_low(4)
 */
#include "capture/pcapng_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

enum {
	BT_SHB = 0x0A0D0D0A,
	BT_IDB = 1,
	BT_ISB = 5,
	BT_EPB = 6,
	OPT_END = 0,
	OPT_COMMENT = 1,
	SHB_HARDWARE = 2,
	SHB_OS = 3,
	SHB_USERAPPL = 4,
	IF_NAME = 2,
	IF_DESCRIPTION = 3,
	IF_TSRESOL = 9,
	EPB_FLAGS = 2,
	ISB_STARTTIME = 2,
	ISB_ENDTIME = 3,
	ISB_IFRECV = 4,
	ISB_IFDROP = 5,
	ISB_FILTERACCEPT = 6,
	OPT_MAX = 65532,       /* an option's value, kept a multiple of 4 */
	MAX_CAPLEN = 262144,
	WRITE_BUFFER = 1 << 20,
};

struct pcapng_writer {
	FILE *fp;      /* plain file, or NULL */
	gzFile gz;     /* gzip stream, or NULL */
	char *buffer;  /* stdio buffer of fp */
	uint32_t nifaces;
	uint64_t bytes; /* written so far, before compression */
	int err;       /* first error, sticky (-errno) */
};

static void put(struct pcapng_writer *w, const void *p, size_t n)
{
	if (w->err || !n)
		return;
	if (w->gz) {
		if (gzwrite(w->gz, p, (unsigned)n) != (int)n)
			w->err = -EIO;
	} else if (fwrite(p, 1, n, w->fp) != n) {
		w->err = errno ? -errno : -EIO;
	}
	w->bytes += n;
}

uint64_t pcapng_writer__bytes(const struct pcapng_writer *w)
{
	return w->bytes;
}

static void put32(struct pcapng_writer *w, uint32_t v)
{
	put(w, &v, 4);
}

static void put_pad(struct pcapng_writer *w, size_t n)
{
	static const uint8_t zero[4];

	put(w, zero, (4 - (n & 3)) & 3);
}

static size_t opt_size(size_t len)
{
	return 4 + ((len + 3) & ~(size_t)3);
}

static void put_opt(struct pcapng_writer *w, uint16_t code, const void *v, size_t len)
{
	uint16_t h[2] = { code, (uint16_t)len };

	put(w, h, 4);
	put(w, v, len);
	put_pad(w, len);
}

/* A comment cut at line ends into options of at most OPT_MAX bytes. */
static size_t comment_chunk(const char *s, size_t left)
{
	size_t n = left;
	const char *nl;

	if (n <= OPT_MAX)
		return n;
	n = OPT_MAX;
	nl = memrchr(s, '\n', n);
	return nl ? (size_t)(nl - s) + 1 : n;
}

static size_t comment_size(const char *s)
{
	size_t left = s ? strlen(s) : 0, total = 0, n;

	while (left) {
		n = comment_chunk(s, left);
		total += opt_size(n);
		s += n;
		left -= n;
	}
	return total;
}

static void put_comment(struct pcapng_writer *w, const char *s)
{
	size_t left = s ? strlen(s) : 0, n;

	while (left) {
		n = comment_chunk(s, left);
		put_opt(w, OPT_COMMENT, s, n);
		s += n;
		left -= n;
	}
}

static void put_ts(struct pcapng_writer *w, uint64_t ts_ns)
{
	put32(w, (uint32_t)(ts_ns >> 32));
	put32(w, (uint32_t)ts_ns);
}

static size_t str_opt_size(const char *s)
{
	return s && *s ? opt_size(strlen(s) > OPT_MAX ? OPT_MAX : strlen(s)) : 0;
}

static void put_str_opt(struct pcapng_writer *w, uint16_t code, const char *s)
{
	if (s && *s)
		put_opt(w, code, s, strlen(s) > OPT_MAX ? OPT_MAX : strlen(s));
}

static int write_shb(struct pcapng_writer *w, const char *userappl, const char *comment)
{
	struct utsname u;
	char os[sizeof(u.sysname) + sizeof(u.release) + 2] = "";
	const char *hw = NULL;
	uint32_t len;
	uint16_t ver[2] = { 1, 0 };
	int64_t section_len = -1;

	if (!uname(&u)) {
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
		hw = u.machine;
	}
	len = 28 + (uint32_t)(comment_size(comment) + str_opt_size(hw) + str_opt_size(os) +
			      str_opt_size(userappl)) + 4;
	put32(w, BT_SHB);
	put32(w, len);
	put32(w, 0x1A2B3C4D);
	put(w, ver, 4);
	put(w, &section_len, 8);
	put_comment(w, comment);
	put_str_opt(w, SHB_HARDWARE, hw);
	put_str_opt(w, SHB_OS, os);
	put_str_opt(w, SHB_USERAPPL, userappl);
	put_opt(w, OPT_END, NULL, 0);
	put32(w, len);
	return w->err;
}

struct pcapng_writer *pcapng_writer__open(const char *path, const char *userappl,
					  const char *comment, char *err, size_t errlen)
{
	struct pcapng_writer *w = calloc(1, sizeof(*w));
	size_t plen = strlen(path);
	int fd = -1, rc;

	if (!w) {
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	/* an existing file keeps its mode through O_CREAT: tighten it */
	if (fd < 0 || fchmod(fd, 0600)) {
		rc = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(rc));
		goto cleanup;
	}
	if (plen > 3 && !strcmp(path + plen - 3, ".gz")) {
		w->gz = gzdopen(fd, "wb6");
		if (!w->gz) {
			rc = ENOMEM;
			snprintf(err, errlen, "%s: cannot start a gzip stream", path);
			goto cleanup;
		}
		fd = -1;
		gzbuffer(w->gz, 1 << 17);
	} else {
		w->buffer = malloc(WRITE_BUFFER);
		w->fp = w->buffer ? fdopen(fd, "wb") : NULL;
		if (!w->fp) {
			rc = errno ? errno : ENOMEM;
			snprintf(err, errlen, "%s: %s", path, strerror(rc));
			goto cleanup;
		}
		fd = -1;
		setvbuf(w->fp, w->buffer, _IOFBF, WRITE_BUFFER);
	}
	if (write_shb(w, userappl, comment)) {
		rc = -w->err;
		snprintf(err, errlen, "%s: writing the header failed: %s", path, strerror(rc));
		goto cleanup;
	}
	return w;
cleanup:
	if (fd >= 0)
		close(fd);
	pcapng_writer__close(w);
	errno = rc;
	return NULL;
}

int pcapng_writer__add_interface(struct pcapng_writer *w, const char *name,
				 const char *description, uint16_t linktype, uint32_t snaplen)
{
	uint8_t tsresol = 9; /* 10^-9 s: nanoseconds */
	uint16_t h[2] = { linktype, 0 };
	uint32_t len = 20 + (uint32_t)(str_opt_size(name) + str_opt_size(description) +
				       opt_size(1) + 4);

	if (w->err)
		return w->err;
	put32(w, BT_IDB);
	put32(w, len);
	put(w, h, 4);
	put32(w, snaplen);
	put_str_opt(w, IF_NAME, name);
	put_str_opt(w, IF_DESCRIPTION, description);
	put_opt(w, IF_TSRESOL, &tsresol, 1);
	put_opt(w, OPT_END, NULL, 0);
	put32(w, len);
	return w->err ? w->err : (int)w->nifaces++;
}

int pcapng_writer__packet(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
			  const void *data, uint32_t caplen, uint32_t wirelen, uint32_t epb_flags)
{
	uint32_t len;

	if (if_id >= w->nifaces || caplen > MAX_CAPLEN)
		return -EINVAL;
	if (wirelen < caplen)
		wirelen = caplen;
	len = 32 + ((caplen + 3) & ~3u) + (epb_flags ? (uint32_t)opt_size(4) + 4 : 0);
	put32(w, BT_EPB);
	put32(w, len);
	put32(w, if_id);
	put_ts(w, ts_ns);
	put32(w, caplen);
	put32(w, wirelen);
	put(w, data, caplen);
	put_pad(w, caplen);
	if (epb_flags) {
		put_opt(w, EPB_FLAGS, &epb_flags, 4);
		put_opt(w, OPT_END, NULL, 0);
	}
	put32(w, len);
	return w->err;
}

int pcapng_writer__stats(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
			 const struct pcapng_if_stats *s)
{
	uint32_t len;

	if (if_id >= w->nifaces)
		return -EINVAL;
	len = 24 + 2 * (uint32_t)opt_size(8) + 3 * (uint32_t)opt_size(8) +
	      (uint32_t)comment_size(s->comment) + 4;
	put32(w, BT_ISB);
	put32(w, len);
	put32(w, if_id);
	put_ts(w, ts_ns);
	put_comment(w, s->comment);
	/* isb_starttime/endtime hold the two 32-bit halves, high first */
	put32(w, ISB_STARTTIME | 8u << 16);
	put_ts(w, s->start_ns);
	put32(w, ISB_ENDTIME | 8u << 16);
	put_ts(w, s->end_ns);
	put_opt(w, ISB_IFRECV, &s->ifrecv, 8);
	put_opt(w, ISB_IFDROP, &s->ifdrop, 8);
	put_opt(w, ISB_FILTERACCEPT, &s->filteraccept, 8);
	put_opt(w, OPT_END, NULL, 0);
	put32(w, len);
	return w->err;
}

int pcapng_writer__flush(struct pcapng_writer *w)
{
	if (w->err)
		return w->err;
	if (w->gz && gzflush(w->gz, Z_SYNC_FLUSH) != Z_OK)
		w->err = -EIO;
	if (w->fp && fflush(w->fp))
		w->err = -errno;
	return w->err;
}

int pcapng_writer__close(struct pcapng_writer *w)
{
	int rc;

	if (!w)
		return 0;
	rc = w->err;
	if (w->gz && gzclose(w->gz) != Z_OK && !rc)
		rc = -EIO;
	if (w->fp && fclose(w->fp) && !rc)
		rc = -errno;
	free(w->buffer);
	free(w);
	return rc;
}
