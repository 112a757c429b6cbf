#include "analysis/capture_reader.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "analysis/capture_dir.h"
#include "analysis/domain.h"

/* stdio's default 4 KiB buffer makes reading a capture syscall-bound; one
 * much larger than the CPU's L2 cache makes the kernel's copy slow */
enum { READ_BUFFER = 1 << 16 };

/* Classic pcap's magic numbers in the reader's byte order, and its record
 * header (sf-pcap.c's struct pcap_sf_pkthdr: 32-bit signed stamps). */
enum {
	PCAP_MAGIC_USEC = 0xa1b2c3d4,
	PCAP_MAGIC_NSEC = 0xa1b23c4d,
	PCAP_RECORD_HEADER = 16,
};

/*
 * A classic pcap file read straight from its descriptor (docs/decisions.md:
 * libpcap's savefile reader copies every record twice through stdio and
 * costs several times the read itself). Only the records libpcap reads as they are: the
 * file's own byte order, version 2.4, caplen within the snapshot length.
 * The first record that is anything else (cut, oversized, unreadable) hands
 * the file back to libpcap at that record's offset, so every error and
 * every odd case keeps libpcap's meaning and wording.
 */
struct direct_read {
	bool on;
	bool nsec;          /* stamps' fraction in ns, else us */
	bool at_end;        /* pread returned 0 */
	int fd;             /* the FILE's descriptor, read with pread */
	uint32_t snapshot;  /* libpcap's, after its own checks */
	off_t offset;       /* file offset of buf[0] */
	uint8_t *buf;
	size_t cap, len, pos;
};

/* A gzip stream read through stdio: zlib says "unexpected end of file" and
 * then reads as a plain end, so the cut is remembered here. */
struct gz_cookie {
	gzFile gz;
	bool cut;
};

struct capture_reader {
	struct capture_dir dir; /* a directory's captures, read one after another; n 0: a file */
	int file;               /* the one being read, in dir */
	pcap_t *pcap;
	struct gz_cookie *gz;  /* NULL for a plain file; owned by the FILE (fclose frees it) */
	char *buffer; /* stdio's buffer for the file, freed after pcap_close */
	struct direct_read direct;
	struct pcap_pkthdr direct_hdr; /* the last record read directly */
	int linktype;
	uint64_t packets;
	int64_t tick_ns;
	bool bad_stamp; /* stopped at a stamp outside the domain: stays an error */
	char stopped[PCAP_ERRBUF_SIZE + 64];
};

/* fopencookie glue so libpcap reads a gzip stream as if it were a FILE. */
static ssize_t gz_cookie_read(void *cookie, char *buf, size_t size)
{
	struct gz_cookie *c = cookie;
	int n = gzread(c->gz, buf, size > (1u << 30) ? (1u << 30) : (unsigned)size), zerr;

	if (n == 0) {
		gzerror(c->gz, &zerr);
		c->cut = zerr == Z_BUF_ERROR;
	}
	return n < 0 ? -1 : n;
}

static int gz_cookie_close(void *cookie)
{
	struct gz_cookie *c = cookie;
	int rc = gzclose(c->gz);

	free(c);
	return rc == Z_OK || rc == Z_BUF_ERROR ? 0 : EOF;
}

static FILE *open_maybe_gzip(const char *path, char *buffer, struct gz_cookie **cookie, char *err,
			     size_t errlen)
{
	static const cookie_io_functions_t gz_io = {
		.read = gz_cookie_read, .close = gz_cookie_close,
	};
	unsigned char magic[2] = { 0, 0 };
	FILE *fp = fopen(path, "rb");
	struct gz_cookie *c;
	gzFile gz;
	size_t got;

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(fp, buffer, _IOFBF, READ_BUFFER); /* before any I/O (C11 7.21.5.6) */
	got = fread(magic, 1, sizeof(magic), fp);
	if (got == 0) {
		snprintf(err, errlen, "%s: empty file", path);
		fclose(fp);
		errno = EINVAL;
		return NULL;
	}
	if (got < 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
		rewind(fp);
		return fp;
	}
	fclose(fp);
	c = calloc(1, sizeof(*c));
	gz = c ? gzopen(path, "rb") : NULL;
	if (!gz) {
		snprintf(err, errlen, "%s: cannot open gzip stream", path);
		free(c);
		errno = EIO;
		return NULL;
	}
	gzbuffer(gz, 1 << 16);
	c->gz = gz;
	fp = fopencookie(c, "rb", gz_io);
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		gzclose(gz);
		free(c);
		return NULL;
	}
	setvbuf(fp, buffer, _IOFBF, READ_BUFFER);
	*cookie = c;
	return fp;
}

/* Reads records from the descriptor from here on when the file is one
 * libpcap would read record by record unchanged (struct direct_read). */
static void direct_start(struct capture_reader *r)
{
	struct direct_read *d = &r->direct;
	FILE *fp = pcap_file(r->pcap);
	uint32_t magic;
	long at;

	d->on = false;
	if (r->gz || !fp || pcap_is_swapped(r->pcap) || pcap_major_version(r->pcap) != 2 ||
	    pcap_minor_version(r->pcap) != 4 || pcap_snapshot(r->pcap) <= 0)
		return;
	d->fd = fileno(fp);
	at = ftell(fp);
	if (d->fd < 0 || at != 24 || pread(d->fd, &magic, sizeof(magic), 0) != sizeof(magic) ||
	    (magic != PCAP_MAGIC_USEC && magic != PCAP_MAGIC_NSEC))
		return;
	if (!d->buf) {
		d->buf = malloc(READ_BUFFER);
		if (!d->buf)
			return; /* libpcap reads it */
		d->cap = READ_BUFFER;
	}
	d->nsec = magic == PCAP_MAGIC_NSEC;
	d->snapshot = (uint32_t)pcap_snapshot(r->pcap);
	d->offset = at;
	d->len = d->pos = 0;
	d->at_end = false;
	d->on = true;
}

/* libpcap reads the rest of the file from the record at d->pos. */
static void direct_stop(struct capture_reader *r)
{
	struct direct_read *d = &r->direct;

	d->on = false;
	if (fseeko(pcap_file(r->pcap), d->offset + (off_t)d->pos, SEEK_SET))
		clearerr(pcap_file(r->pcap)); /* libpcap's next read says what is wrong */
}

/* The next record into hdr/data: 1; 0 at the file's end exactly after a
 * record; -1 when libpcap must take over (direct_stop done). */
static int direct_next(struct capture_reader *r, struct pcap_pkthdr *hdr, const u_char **data)
{
	struct direct_read *d = &r->direct;
	uint32_t rec[4];

	for (;;) {
		size_t avail = d->len - d->pos, need = PCAP_RECORD_HEADER;
		ssize_t got;

		if (avail >= PCAP_RECORD_HEADER) {
			memcpy(rec, d->buf + d->pos, sizeof(rec));
			if (rec[2] > d->snapshot)
				break;
			need += rec[2];
			if (avail >= need) {
				/* as sf-pcap.c: signed 32-bit fields, microseconds scaled */
				hdr->ts.tv_sec = (int32_t)rec[0];
				hdr->ts.tv_usec = (int32_t)rec[1];
				if (!d->nsec)
					hdr->ts.tv_usec *= 1000;
				hdr->caplen = rec[2];
				hdr->len = rec[3];
				*data = d->buf + d->pos + PCAP_RECORD_HEADER;
				d->pos += need;
				return 1;
			}
		}
		if (d->at_end) {
			if (!avail)
				return 0;
			break;
		}
		if (need > d->cap) {
			uint8_t *bigger = realloc(d->buf, need);

			if (!bigger)
				break;
			d->buf = bigger;
			d->cap = need;
		}
		memmove(d->buf, d->buf + d->pos, avail);
		d->offset += (off_t)d->pos;
		d->pos = 0;
		d->len = avail;
		got = pread(d->fd, d->buf + d->len, d->cap - d->len, d->offset + (off_t)d->len);
		if (got < 0)
			break;
		d->at_end = got == 0;
		d->len += (size_t)got;
	}
	direct_stop(r);
	return -1;
}

/* Opens path into r->pcap (r->buffer allocated); 0 or -errno, a line in err. */
static int open_file(struct capture_reader *r, const char *path, char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	FILE *fp;

	r->gz = NULL;
	fp = open_maybe_gzip(path, r->buffer, &r->gz, err, errlen);
	if (!fp)
		return -errno;
	r->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO,
							   pcap_err);
	if (!r->pcap) {
		/* libpcap's reasons name the format problem; keep them on one line */
		pcap_err[strcspn(pcap_err, "\n")] = '\0';
		snprintf(err, errlen, "%s: not a pcap or pcapng capture (%s)", path, pcap_err);
		fclose(fp);
		r->gz = NULL;
		return -EINVAL;
	}
	direct_start(r);
	return 0;
}

struct capture_reader *capture_reader__open(const char *path, char *err, size_t errlen)
{
	return capture_reader__open_windows(path, NULL, 0, err, errlen);
}

struct capture_reader *capture_reader__open_windows(const char *path, const struct time_window *w,
						   int nw, char *err, size_t errlen)
{
	struct capture_reader *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->buffer = malloc(READ_BUFFER);
	if (!r->buffer) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -ENOMEM;
		goto cleanup;
	}
	if (capture_dir__is_dir(path)) {
		rc = capture_dir__list(path, &r->dir, err, errlen);
		if (!rc && nw > 0) {
			char why[256];

			rc = capture_dir__select(&r->dir, w, nw, why, sizeof(why));
			if (rc)
				snprintf(err, errlen, "%s: %s", path, why);
		}
		if (rc)
			goto cleanup;
		path = r->dir.paths[0];
	}
	rc = open_file(r, path, err, errlen);
	if (rc)
		goto cleanup;
	r->linktype = pcap_datalink(r->pcap);
	r->tick_ns = 1000000000;
	return r;
cleanup:
	capture_dir__free(&r->dir);
	free(r->buffer);
	free(r);
	errno = -rc;
	return NULL;
}

/*
 * The end of one file of a directory: the next one, which must have the
 * same link type. 1 when it is open, 0 at the last; a file that cannot be
 * read ends the directory there (__stopped_early says which), as a cut
 * capture ends at its last complete record.
 */
static int next_file(struct capture_reader *r)
{
	char err[PCAP_ERRBUF_SIZE + 64];
	const char *path;

	if (r->file + 1 >= r->dir.n)
		return 0;
	pcap_close(r->pcap);
	r->pcap = NULL;
	path = r->dir.paths[++r->file];
	if (open_file(r, path, err, sizeof(err))) {
		snprintf(r->stopped, sizeof(r->stopped), "%s", err);
		return 0;
	}
	if (pcap_datalink(r->pcap) != r->linktype) {
		snprintf(r->stopped, sizeof(r->stopped), "%s: link type %d, not the directory's %d",
			 path, pcap_datalink(r->pcap), r->linktype);
		pcap_close(r->pcap);
		r->pcap = NULL; /* the end stays the end */
		r->gz = NULL;   /* freed with it */
		return 0;
	}
	return 1;
}

static void bad_stamp(struct capture_reader *r, int64_t sec, int64_t frac_ns)
{
	int n = snprintf(r->stopped, sizeof(r->stopped), "packet %llu: time stamp ",
			 (unsigned long long)r->packets);

	if (frac_ns >= 0 && frac_ns < NS_PER_S)
		n += snprintf(r->stopped + n, sizeof(r->stopped) - (size_t)n, "%lld.%09lld s",
			      (long long)sec, (long long)frac_ns);
	else
		n += snprintf(r->stopped + n, sizeof(r->stopped) - (size_t)n, "%lld s %+lld ns",
			      (long long)sec, (long long)frac_ns);
	snprintf(r->stopped + n, sizeof(r->stopped) - (size_t)n,
		 " is not a time migscope reads (%s)%s", STAMP_RANGE_TEXT,
		 sec == 0 ? "; shift the capture's times (editcap -t)" : "");
	r->bad_stamp = true;
}

/* pcap_next_ex's contract, the record read directly when it can be */
static int next_record(struct capture_reader *r, struct pcap_pkthdr **hdr, const u_char **data)
{
	if (r->direct.on) {
		int rc = direct_next(r, &r->direct_hdr, data);

		*hdr = &r->direct_hdr;
		if (rc >= 0)
			return rc ? 1 : PCAP_ERROR_BREAK;
	}
	return pcap_next_ex(r->pcap, hdr, data);
}

int capture_reader__next(struct capture_reader *r, struct capture_packet *pkt)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc;

	if (!r->pcap)
		return 0;
	if (r->bad_stamp)
		return -ERANGE;
	rc = next_record(r, &hdr, &data);
	/* a directory: its next file, once this one ended whole */
	while (rc == PCAP_ERROR_BREAK && !(r->gz && r->gz->cut) && next_file(r))
		rc = next_record(r, &hdr, &data);
	if (rc == 1) {
		r->packets++;
		/* libpcap has scaled the file's stamp (any if_tsresol, if_tsoffset
		 * added) to seconds and nanoseconds: one multiplication and one
		 * addition from here, checked (analysis/domain.h) */
		if (stamp_from_parts((int64_t)hdr->ts.tv_sec, (int64_t)hdr->ts.tv_usec, &pkt->ts_ns)) {
			bad_stamp(r, (int64_t)hdr->ts.tv_sec, (int64_t)hdr->ts.tv_usec);
			return -ERANGE;
		}
		pkt->caplen = hdr->caplen;
		pkt->wirelen = hdr->len < hdr->caplen ? hdr->caplen : hdr->len;
		pkt->data = data;
		/* libpcap scales every format to nanoseconds and does not say what
		 * the file held (pcap's microsecond or nanosecond magic, pcapng's
		 * if_tsresol per interface); the stamps do, also in a file converted
		 * between formats. Once at 1 ns this costs nothing. A binary
		 * if_tsresol (2^-n s) reads as about 1 ns: the error is on the fine side. */
		while (r->tick_ns > 1 && pkt->ts_ns % r->tick_ns)
			r->tick_ns /= 10;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK) {
		/* every record was whole, but the compressed stream stopped short
		 * of its end: later records may be missing */
		if (r->gz && r->gz->cut)
			snprintf(r->stopped, sizeof(r->stopped),
				 "%s%sthe gzip stream is cut short (unexpected end of file)",
				 r->dir.n ? r->dir.paths[r->file] : "", r->dir.n ? ": " : "");
		return 0;
	}
	snprintf(r->stopped, sizeof(r->stopped), "%s%s%s", r->dir.n ? r->dir.paths[r->file] : "",
		 r->dir.n ? ": " : "", pcap_geterr(r->pcap));
	r->stopped[strcspn(r->stopped, "\n")] = '\0';
	if (r->packets == 0)
		return -EIO;
	return 0;
}

int capture_reader__linktype(const struct capture_reader *r)
{
	return r->linktype;
}

const char *capture_reader__stopped_early(const struct capture_reader *r)
{
	return r->stopped[0] ? r->stopped : NULL;
}

uint64_t capture_reader__packets(const struct capture_reader *r)
{
	return r->packets;
}

int64_t capture_reader__tick_ns(const struct capture_reader *r)
{
	return r->tick_ns;
}

void capture_reader__close(struct capture_reader *r)
{
	if (!r)
		return;
	if (r->pcap)
		pcap_close(r->pcap);
	capture_dir__free(&r->dir);
	free(r->direct.buf);
	free(r->buffer);
	free(r);
}
