/*
 * Unit tests of analysis/capture_reader.c and analysis/linklayer.c.
 *
 * Captures are written here with libpcap itself (nanosecond pcap), copied
 * through zlib, cut with truncate(2), or built byte by byte (pcapng, which
 * libpcap cannot write), all in a private directory under /tmp that the
 * group teardown removes. Reading them back must give every record's exact
 * nanosecond time, lengths and bytes.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>
#include <zlib.h>

#include "analysis/capture_dir.h"
#include "analysis/capture_reader.h"
#include "analysis/linklayer.h"
#include "tests/unit/frames.h"

#define NS_PER_SEC INT64_C(1000000000)

enum {
	SNAPLEN = 262144,
	PAYLOAD = 10,
	ETH_TCP_PAYLOAD_OFF = 14 + 20 + 20,
	SLL_HDR = 16,
	SLL2_HDR = 20,
	HW_ETHER = 1,     /* ARPHRD_ETHER, in the cooked header */
	HW_LOOPBACK = 772, /* ARPHRD_LOOPBACK */
	SENT_BY_US = 4,   /* PACKET_OUTGOING */
};

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x0a, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x0a, 0x00, 0x02 };
static const uint8_t ip4_a[4] = { 10, 0, 0, 1 };
static const uint8_t ip4_b[4] = { 10, 0, 0, 2 };
static const uint8_t zero6[6];

static char tmpdir[] = "/tmp/migscope-test-capture-XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Builds tmpdir/name into out (PATH_LEN bytes). */
enum { PATH_LEN = 128 };
static const char *tmp_path(char out[PATH_LEN], const char *name)
{
	snprintf(out, PATH_LEN, "%s/%s", tmpdir, name);
	return out;
}

/* Ethernet, IPv4 10.0.0.1:40000 -> 10.0.0.2:49152, TCP ACK|PSH, 10 bytes. */
static void tcp_frame(struct fb *f)
{
	fb_init(f);
	fb_eth(f, mac_b, mac_a, FB_ETH_IPV4, NULL, 0);
	fb_ipv4(f, FB_IP_TCP, ip4_a, ip4_b, 0);
	fb_tcp(f, 40000, 49152, 0x11223344, 0x55667788, 0x18, 0);
	fb_payload(f, PAYLOAD);
	fb_done(f, 0);
}

/* ---- writing captures ------------------------------------------------ */

struct rec {
	int64_t ts_ns;
	uint32_t caplen, wirelen;
	const uint8_t *data;
};

/* A pcap file through libpcap's writer: snaplen in its header, stamps in
 * nanoseconds or microseconds (the records' ts_ns then whole microseconds). */
static void write_pcap_as(const char *path, int linktype, int snaplen, bool micro,
			  const struct rec *recs, size_t n)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(
		linktype, snaplen, micro ? PCAP_TSTAMP_PRECISION_MICRO : PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d;
	int64_t per_frac = micro ? 1000 : 1;

	assert_non_null(p);
	d = pcap_dump_open(p, path);
	if (!d)
		fail_msg("pcap_dump_open %s: %s", path, pcap_geterr(p));
	for (size_t i = 0; i < n; i++) {
		struct pcap_pkthdr h;

		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(recs[i].ts_ns / NS_PER_SEC);
		h.ts.tv_usec = (suseconds_t)(recs[i].ts_ns % NS_PER_SEC / per_frac);
		h.caplen = recs[i].caplen;
		h.len = recs[i].wirelen;
		pcap_dump((u_char *)d, &h, recs[i].data);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

static void write_pcap(const char *path, int linktype, const struct rec *recs, size_t n)
{
	write_pcap_as(path, linktype, SNAPLEN, false, recs, n);
}

static size_t read_whole(const char *path, uint8_t *buf, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, cap, fp);
	assert_true(n < cap); /* the buffer held the whole file */
	fclose(fp);
	return n;
}

static void write_file(const char *path, const void *bytes, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(bytes, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void gzip_file(const char *from, const char *to)
{
	static uint8_t buf[4 << 20];
	size_t n = read_whole(from, buf, sizeof(buf));
	gzFile gz = gzopen(to, "wb");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, buf, (unsigned)n), (int)n);
	assert_int_equal(gzclose(gz), Z_OK);
}

/* ---- reading them back ----------------------------------------------- */

static struct capture_reader *open_ok(const char *path)
{
	char err[256] = "";
	struct capture_reader *r = capture_reader__open(path, err, sizeof(err));

	if (!r)
		fail_msg("open %s: %s", path, err);
	return r;
}

/* Reads the n records of `want` exactly; returns what __next says after
 * them (0 at the end, -EIO for a broken first record). */
static int read_expect(struct capture_reader *r, const struct rec *want, size_t n)
{
	struct capture_packet pkt;

	for (size_t i = 0; i < n; i++) {
		memset(&pkt, 0, sizeof(pkt));
		assert_int_equal(capture_reader__next(r, &pkt), 1);
		assert_int_equal(pkt.ts_ns, want[i].ts_ns);
		assert_int_equal(pkt.caplen, want[i].caplen);
		assert_int_equal(pkt.wirelen,
				 want[i].wirelen > want[i].caplen ? want[i].wirelen : want[i].caplen);
		assert_memory_equal(pkt.data, want[i].data, want[i].caplen);
	}
	assert_int_equal(capture_reader__packets(r), n);
	return capture_reader__next(r, &pkt);
}

static void check_reads_all(const char *path, int linktype, const struct rec *want, size_t n)
{
	struct capture_reader *r = open_ok(path);

	assert_int_equal(capture_reader__linktype(r), linktype);
	assert_int_equal(read_expect(r, want, n), 0);
	assert_null(capture_reader__stopped_early(r));
	{
		struct capture_packet pkt;

		/* the end stays the end */
		assert_int_equal(capture_reader__next(r, &pkt), 0);
	}
	assert_int_equal(capture_reader__packets(r), n);
	capture_reader__close(r);
}

/* Three records: a full frame, one cut by the snaplen, and one whose header
 * claims fewer bytes on the wire than were captured (taken as captured). */
static struct fb frame;
static struct rec three[3];

static void make_three(void)
{
	tcp_frame(&frame);
	three[0] = (struct rec){ INT64_C(1700000000123456789), (uint32_t)frame.len,
				 (uint32_t)frame.len, frame.buf };
	three[1] = (struct rec){ INT64_C(1700000001000000001), 60, 1514, frame.buf };
	three[2] = (struct rec){ INT64_C(1700000002999999999), (uint32_t)frame.len, 20, frame.buf };
}

static void test_pcap_nanoseconds(void **state)
{
	char path[PATH_LEN];

	(void)state;
	make_three();
	write_pcap(tmp_path(path, "three.pcap"), DLT_EN10MB, three, 3);
	check_reads_all(path, DLT_EN10MB, three, 3);
}

static void test_gzip_reads_the_same(void **state)
{
	char plain[PATH_LEN], gz[PATH_LEN];

	(void)state;
	make_three();
	write_pcap(tmp_path(plain, "gz-src.pcap"), DLT_EN10MB, three, 3);
	/* detected by magic: the name says nothing */
	gzip_file(plain, tmp_path(gz, "compressed.pcap"));
	check_reads_all(gz, DLT_EN10MB, three, 3);
}

/* A directory is one vantage: its captures in name order (cn1.9 before
 * cn1.10), a note that is no capture passed over, gzip among them. */
static void test_directory_in_order(void **state)
{
	char dir[PATH_LEN], path[PATH_LEN + 32], plain[PATH_LEN];

	(void)state;
	make_three();
	tmp_path(dir, "ring");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/cn1.9.pcap", dir);
	write_pcap(path, DLT_EN10MB, three, 1);
	write_pcap(tmp_path(plain, "ring-part.pcap"), DLT_EN10MB, three + 1, 1);
	snprintf(path, sizeof(path), "%s/cn1.10.pcap", dir);
	gzip_file(plain, path);
	snprintf(path, sizeof(path), "%s/cn1.11.pcap", dir);
	write_pcap(path, DLT_EN10MB, three + 2, 1);
	snprintf(path, sizeof(path), "%s/domains.log", dir);
	write_file(path, "not a capture\n", 14);
	check_reads_all(dir, DLT_EN10MB, three, 3);
}

/* A file of another link type ends the directory there, said. */
static void test_directory_other_linktype(void **state)
{
	char dir[PATH_LEN], path[PATH_LEN + 32];
	struct capture_reader *r;
	struct capture_packet pkt;

	(void)state;
	make_three();
	tmp_path(dir, "mixed");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	write_pcap(path, DLT_EN10MB, three, 2);
	snprintf(path, sizeof(path), "%s/b.pcap", dir);
	write_pcap(path, DLT_RAW, three + 2, 1);
	r = open_ok(dir);
	assert_int_equal(read_expect(r, three, 2), 0);
	assert_non_null(capture_reader__stopped_early(r));
	assert_non_null(strstr(capture_reader__stopped_early(r), "b.pcap: link type"));
	assert_int_equal(capture_reader__next(r, &pkt), 0);
	capture_reader__close(r);
}

/* A day of files read only around the migrations: a file spans from its
 * first packet to the next file's first; those that meet a window stay. */
static void test_directory_windows(void **state)
{
	char dir[PATH_LEN], path[PATH_LEN + 32], err[256];
	const int64_t t0 = INT64_C(1700000000000000000), s = NS_PER_SEC;
	struct capture_dir d;
	struct rec r[3];
	struct time_window w;

	(void)state;
	make_three();
	tmp_path(dir, "day");
	assert_int_equal(mkdir(dir, 0700), 0);
	for (int i = 0; i < 3; i++) {
		r[i] = three[0];
		r[i].ts_ns = t0 + i * 100 * s; /* files begin at 0, 100 and 200 s */
		snprintf(path, sizeof(path), "%s/cap.%d.pcap", dir, i);
		write_pcap(path, DLT_EN10MB, &r[i], 1);
	}
	/* within the second file's span only */
	assert_int_equal(capture_dir__list(dir, &d, err, sizeof(err)), 0);
	w = (struct time_window){ t0 + 150 * s, t0 + 160 * s };
	assert_int_equal(capture_dir__select(&d, &w, 1, err, sizeof(err)), 0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.paths[0], "cap.1.pcap"));
	capture_dir__free(&d);
	/* the last file spans on for ever; a window across two files keeps both */
	assert_int_equal(capture_dir__list(dir, &d, err, sizeof(err)), 0);
	w = (struct time_window){ t0 + 190 * s, t0 + 900 * s };
	assert_int_equal(capture_dir__select(&d, &w, 1, err, sizeof(err)), 0);
	assert_int_equal(d.n, 2);
	capture_dir__free(&d);
	/* before everything: none, said */
	assert_int_equal(capture_dir__list(dir, &d, err, sizeof(err)), 0);
	w = (struct time_window){ t0 - 900 * s, t0 - 800 * s };
	assert_int_equal(capture_dir__select(&d, &w, 1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "covers the migrations' times"));
	capture_dir__free(&d);
	/* the reader takes the windows: the second file's packet alone */
	{
		struct capture_reader *rd;
		struct capture_packet pkt;

		w = (struct time_window){ t0 + 150 * s, t0 + 160 * s };
		rd = capture_reader__open_windows(dir, &w, 1, err, sizeof(err));
		assert_non_null(rd);
		assert_int_equal(capture_reader__next(rd, &pkt), 1);
		assert_int_equal(pkt.ts_ns, t0 + 100 * s);
		assert_int_equal(capture_reader__next(rd, &pkt), 0);
		capture_reader__close(rd);
	}
}

static void test_linktype_kept(void **state)
{
	char path[PATH_LEN];

	(void)state;
	make_three();
	write_pcap(tmp_path(path, "sll2.pcap"), DLT_LINUX_SLL2, three, 1);
	check_reads_all(path, DLT_LINUX_SLL2, three, 1);
}

static void cut_last_record_in_half(const char *path, const struct rec *last)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - (16 + last->caplen) / 2), 0);
}

static void assert_one_line(const char *why)
{
	assert_non_null(why);
	assert_true(why[0] != '\0');
	assert_null(strchr(why, '\n'));
}

/* ---- classic pcap read straight from the file ------------------------ */

enum { MANY = 3000, BIG = 100000 };
static uint8_t pattern[BIG];
static struct rec many[MANY];

/* Records of every size up to 1600 bytes crossing the reader's 64 KiB
 * buffer at every offset, and two larger than the buffer (one last). */
static void make_many(bool micro)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + i / 251);
	for (size_t i = 0; i < MANY; i++) {
		uint32_t len = (uint32_t)(i * 37 % 1600) + 1;

		if (i == MANY / 2 || i == MANY - 1)
			len = BIG;
		/* whole microseconds when the file holds them */
		many[i] = (struct rec){ INT64_C(1700000000000000000) + (int64_t)i * 1234567 /
						(micro ? 1000 : 1) * (micro ? 1000 : 1),
					len, len + (uint32_t)(i % 3), pattern + i % 97 };
		if (many[i].data + len > pattern + sizeof(pattern))
			many[i].data = pattern;
	}
}

static void test_direct_read_every_size(void **state)
{
	char plain[PATH_LEN], gz[PATH_LEN];

	(void)state;
	make_many(false);
	write_pcap(tmp_path(plain, "many.pcap"), DLT_EN10MB, many, MANY);
	check_reads_all(plain, DLT_EN10MB, many, MANY);
	/* and libpcap's own reading (a gzip stream is never read directly)
	 * gives the same records */
	gzip_file(plain, tmp_path(gz, "many.pcap.gz"));
	check_reads_all(gz, DLT_EN10MB, many, MANY);
}

static void test_direct_read_microseconds(void **state)
{
	char path[PATH_LEN];

	(void)state;
	make_many(true);
	write_pcap_as(tmp_path(path, "many-us.pcap"), DLT_EN10MB, SNAPLEN, true, many, 200);
	check_reads_all(path, DLT_EN10MB, many, 200);
}

/* A record longer than the file's snaplen is libpcap's to cut (it keeps the
 * snaplen's bytes): read from there on by libpcap, with its meaning. */
static void test_direct_read_hands_over(void **state)
{
	char path[PATH_LEN];
	struct rec got[4], want[4];

	(void)state;
	make_many(false);
	memcpy(got, many, sizeof(got));
	got[1].caplen = got[1].wirelen = 200;
	write_pcap_as(tmp_path(path, "over-snaplen.pcap"), DLT_EN10MB, 64, false, got, 4);
	memcpy(want, got, sizeof(want));
	for (int i = 0; i < 4; i++)
		if (want[i].caplen > 64)
			want[i].caplen = 64; /* libpcap cuts every record over it */
	check_reads_all(path, DLT_EN10MB, want, 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A file in the other byte order is libpcap's to read. */
static void test_swapped_byte_order(void **state)
{
	static uint8_t file[24 + 2 * (16 + 64)];
	uint8_t *p = file;
	char path[PATH_LEN];
	struct rec want[2];

	(void)state;
	make_many(false);
	put_be32(p, 0xa1b23c4d);
	p[4] = 0, p[5] = 2, p[6] = 0, p[7] = 4;
	put_be32(p + 16, SNAPLEN);
	put_be32(p + 20, DLT_EN10MB);
	p += 24;
	for (int i = 0; i < 2; i++) {
		want[i] = (struct rec){ INT64_C(1700000000000000007) + i, 64, 64 + (uint32_t)i,
					pattern + i };
		put_be32(p, (uint32_t)(want[i].ts_ns / NS_PER_SEC));
		put_be32(p + 4, (uint32_t)(want[i].ts_ns % NS_PER_SEC));
		put_be32(p + 8, want[i].caplen);
		put_be32(p + 12, want[i].wirelen);
		memcpy(p + 16, want[i].data, 64);
		p += 16 + 64;
	}
	write_file(tmp_path(path, "swapped.pcap"), file, sizeof(file));
	check_reads_all(path, DLT_EN10MB, want, 2);
}

static void test_truncated_mid_record(void **state)
{
	char path[PATH_LEN];
	struct capture_reader *r;

	(void)state;
	make_three();
	write_pcap(tmp_path(path, "cut.pcap"), DLT_EN10MB, three, 3);
	cut_last_record_in_half(path, &three[2]);
	r = open_ok(path);
	assert_int_equal(read_expect(r, three, 2), 0);
	assert_one_line(capture_reader__stopped_early(r));
	/* libpcap's wording, whoever read the records before */
	assert_non_null(strstr(capture_reader__stopped_early(r), "truncated dump file; tried to read"));
	assert_int_equal(capture_reader__packets(r), 2);
	capture_reader__close(r);
}

/* Broken before any packet: an error, not an empty capture. */
static void test_truncated_first_record(void **state)
{
	char path[PATH_LEN];
	struct capture_reader *r;

	(void)state;
	make_three();
	write_pcap(tmp_path(path, "cut-first.pcap"), DLT_EN10MB, three, 1);
	cut_last_record_in_half(path, &three[0]);
	r = open_ok(path);
	assert_int_equal(read_expect(r, three, 0), -EIO);
	assert_one_line(capture_reader__stopped_early(r));
	assert_int_equal(capture_reader__packets(r), 0);
	capture_reader__close(r);
}

static void expect_open_error(const char *path, int want_errno, const char *want_prefix,
			      bool whole)
{
	char err[512] = "";
	struct capture_reader *r;

	errno = 0;
	r = capture_reader__open(path, err, sizeof(err));
	assert_null(r);
	assert_int_equal(errno, want_errno);
	if (whole)
		assert_string_equal(err, want_prefix);
	else
		assert_memory_equal(err, want_prefix, strlen(want_prefix));
	assert_null(strchr(err, '\n'));
}

static void test_open_errors(void **state)
{
	static const char text[] = "this is not a capture\nat all\n";
	char path[PATH_LEN], gz[PATH_LEN], want[PATH_LEN + 64];

	(void)state;
	write_file(tmp_path(path, "empty.pcap"), "", 0);
	snprintf(want, sizeof(want), "%s: empty file", path);
	expect_open_error(path, EINVAL, want, true);

	write_file(tmp_path(path, "text.pcap"), text, sizeof(text) - 1);
	snprintf(want, sizeof(want), "%s: not a pcap or pcapng capture (", path);
	expect_open_error(path, EINVAL, want, false);

	gzip_file(path, tmp_path(gz, "text.pcap.gz"));
	snprintf(want, sizeof(want), "%s: not a pcap or pcapng capture (", gz);
	expect_open_error(gz, EINVAL, want, false);

	tmp_path(path, "missing.pcap");
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	expect_open_error(path, ENOENT, want, true);
}

/* ---- pcapng, by hand ------------------------------------------------- */

struct bytes {
	uint8_t b[1024];
	size_t n;
};

static void put8(struct bytes *o, uint8_t v)
{
	if (o->n == sizeof(o->b))
		abort();
	o->b[o->n++] = v;
}

static void put16le(struct bytes *o, uint16_t v)
{
	put8(o, (uint8_t)v);
	put8(o, (uint8_t)(v >> 8));
}

static void put32le(struct bytes *o, uint32_t v)
{
	put16le(o, (uint16_t)v);
	put16le(o, (uint16_t)(v >> 16));
}

/* Opens a block: type and a length patched by block_end(). */
static size_t block_begin(struct bytes *o, uint32_t type)
{
	size_t start = o->n;

	put32le(o, type);
	put32le(o, 0);
	return start;
}

static void block_end(struct bytes *o, size_t start)
{
	uint32_t len;

	while (o->n % 4)
		put8(o, 0);
	len = (uint32_t)(o->n - start + 4);
	put32le(o, len);
	o->b[start + 4] = (uint8_t)len;
	o->b[start + 5] = (uint8_t)(len >> 8);
	o->b[start + 6] = (uint8_t)(len >> 16);
	o->b[start + 7] = (uint8_t)(len >> 24);
}

/* SHB + IDB (Ethernet; if_tsresol 9 when nano, else the default 10^-6) +
 * one EPB of the frame at `ts` in the interface's units. */
static void write_pcapng(const char *path, bool nano, uint64_t ts, const struct fb *f,
			 uint32_t caplen, uint32_t origlen)
{
	struct bytes o = { .n = 0 };
	size_t blk;

	blk = block_begin(&o, 0x0A0D0D0A);
	put32le(&o, 0x1A2B3C4D);
	put16le(&o, 1);
	put16le(&o, 0);
	put32le(&o, 0xffffffff); /* section length unknown: -1 */
	put32le(&o, 0xffffffff);
	block_end(&o, blk);

	blk = block_begin(&o, 1);
	put16le(&o, 1); /* LINKTYPE_ETHERNET */
	put16le(&o, 0);
	put32le(&o, SNAPLEN);
	if (nano) {
		put16le(&o, 9); /* if_tsresol */
		put16le(&o, 1);
		put8(&o, 9);
		while (o.n % 4)
			put8(&o, 0);
		put32le(&o, 0); /* opt_endofopt */
	}
	block_end(&o, blk);

	blk = block_begin(&o, 6);
	put32le(&o, 0);
	put32le(&o, (uint32_t)(ts >> 32));
	put32le(&o, (uint32_t)ts);
	put32le(&o, caplen);
	put32le(&o, origlen);
	for (uint32_t i = 0; i < caplen; i++)
		put8(&o, f->buf[i]);
	block_end(&o, blk);

	write_file(path, o.b, o.n);
}

static void test_pcapng(void **state)
{
	char path[PATH_LEN];
	struct rec want;

	(void)state;
	tcp_frame(&frame);
	want = (struct rec){ INT64_C(1700000000123456789), 50, 1514, frame.buf };
	write_pcapng(tmp_path(path, "nano.pcapng"), true, 1700000000123456789ull, &frame, 50,
		     1514);
	check_reads_all(path, DLT_EN10MB, &want, 1);

	/* without if_tsresol the units are microseconds */
	want = (struct rec){ INT64_C(1700000000123456000), (uint32_t)frame.len,
			     (uint32_t)frame.len, frame.buf };
	write_pcapng(tmp_path(path, "micro.pcapng"), false, 1700000000123456ull, &frame,
		     (uint32_t)frame.len, (uint32_t)frame.len);
	check_reads_all(path, DLT_EN10MB, &want, 1);
}

/* ---- linklayer ------------------------------------------------------- */

/* A cooked (SLL or SLL2) frame carrying the L3 packet of `eth`, with
 * addr_len bytes of `addr` as the link-layer source address. */
static size_t cooked(uint8_t *out, int linktype, uint16_t arphrd, const uint8_t addr[6],
		     uint8_t addr_len, const struct fb *eth)
{
	size_t hdr = linktype == DLT_LINUX_SLL ? SLL_HDR : SLL2_HDR;

	memset(out, 0, hdr);
	if (linktype == DLT_LINUX_SLL) {
		out[1] = SENT_BY_US;
		out[2] = (uint8_t)(arphrd >> 8);
		out[3] = (uint8_t)arphrd;
		out[5] = addr_len;
		memcpy(out + 6, addr, addr_len);
		out[14] = 0x08; /* IPv4 */
	} else {
		out[0] = 0x08;
		out[7] = 3; /* ifindex */
		out[8] = (uint8_t)(arphrd >> 8);
		out[9] = (uint8_t)arphrd;
		out[10] = SENT_BY_US;
		out[11] = addr_len;
		memcpy(out + 12, addr, addr_len);
	}
	memcpy(out + hdr, eth->buf + 14, eth->len - 14);
	return hdr + eth->len - 14;
}

/* The fields of tcp_frame() as any link layer must describe them. */
static void check_tcp_meta(const struct pkt_meta *m, const uint8_t *data, uint16_t payload_off,
			   uint32_t flags, const uint8_t eth_src[6], const uint8_t eth_dst[6])
{
	struct fb eth;

	tcp_frame(&eth);
	assert_int_equal(m->flags, flags);
	assert_int_equal(m->kind, PKT_KIND_TCP);
	assert_int_equal(m->l4_proto, 6);
	assert_int_equal(m->eth_proto, 0x0800);
	assert_memory_equal(m->eth_src, eth_src, 6);
	assert_memory_equal(m->eth_dst, eth_dst, 6);
	assert_memory_equal(m->ip_src, ip4_a, 4);
	assert_memory_equal(m->ip_dst, ip4_b, 4);
	assert_int_equal(m->sport, 40000);
	assert_int_equal(m->dport, 49152);
	assert_int_equal(m->tcp_seq, 0x11223344);
	assert_int_equal(m->tcp_ack, 0x55667788);
	assert_int_equal(m->tcp_flags, 0x18);
	assert_int_equal(m->l4_payload_len, PAYLOAD);
	assert_int_equal(m->payload_off, payload_off);
	assert_memory_equal(data + m->payload_off, eth.buf + ETH_TCP_PAYLOAD_OFF, PAYLOAD);
}

static void test_linklayer_same_description(void **state)
{
	uint8_t buf[FB_CAP + SLL2_HDR];
	struct pkt_meta m;
	struct fb eth;
	size_t n;

	(void)state;
	tcp_frame(&eth);
	assert_int_equal(linklayer_classify(DLT_EN10MB, eth.buf, (uint32_t)eth.len, &m), 0);
	check_tcp_meta(&m, eth.buf, ETH_TCP_PAYLOAD_OFF, PKT_F_IPV4, mac_a, mac_b);

	n = cooked(buf, DLT_LINUX_SLL, HW_ETHER, mac_a, 6, &eth);
	assert_int_equal(linklayer_classify(DLT_LINUX_SLL, buf, (uint32_t)n, &m), 0);
	check_tcp_meta(&m, buf, ETH_TCP_PAYLOAD_OFF - 14 + SLL_HDR, PKT_F_NO_ETH | PKT_F_IPV4,
		       mac_a, zero6);

	n = cooked(buf, DLT_LINUX_SLL2, HW_ETHER, mac_a, 6, &eth);
	assert_int_equal(linklayer_classify(DLT_LINUX_SLL2, buf, (uint32_t)n, &m), 0);
	check_tcp_meta(&m, buf, ETH_TCP_PAYLOAD_OFF - 14 + SLL2_HDR, PKT_F_NO_ETH | PKT_F_IPV4,
		       mac_a, zero6);
}

/* A cooked header of a non-Ethernet device, or one without a 6-byte
 * address, has no MAC to give. */
static void test_linklayer_cooked_without_mac(void **state)
{
	static const struct {
		uint16_t arphrd;
		uint8_t addr_len;
	} cases[] = { { HW_LOOPBACK, 6 }, { HW_ETHER, 0 }, { HW_ETHER, 4 } };
	static const int linktypes[] = { DLT_LINUX_SLL, DLT_LINUX_SLL2 };
	uint8_t buf[FB_CAP + SLL2_HDR];
	struct pkt_meta m;
	struct fb eth;
	size_t n;

	(void)state;
	tcp_frame(&eth);
	for (size_t l = 0; l < 2; l++) {
		uint16_t hdr = linktypes[l] == DLT_LINUX_SLL ? SLL_HDR : SLL2_HDR;

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			n = cooked(buf, linktypes[l], cases[i].arphrd, mac_a, cases[i].addr_len,
				   &eth);
			assert_int_equal(linklayer_classify(linktypes[l], buf, (uint32_t)n, &m), 0);
			check_tcp_meta(&m, buf, ETH_TCP_PAYLOAD_OFF - 14 + hdr,
				       PKT_F_NO_ETH | PKT_F_IPV4, zero6, zero6);
		}
	}
}

static void test_linklayer_support(void **state)
{
	uint8_t buf[FB_CAP + SLL2_HDR];
	struct pkt_meta m;
	struct fb eth;

	(void)state;
	assert_true(linklayer_supported(DLT_EN10MB));
	assert_true(linklayer_supported(DLT_LINUX_SLL));
	assert_true(linklayer_supported(DLT_LINUX_SLL2));
	assert_false(linklayer_supported(DLT_RAW));
	assert_false(linklayer_supported(DLT_NULL));
	assert_false(linklayer_supported(DLT_IEEE802_11));
	assert_string_equal(linklayer_name(DLT_EN10MB), "EN10MB");
	assert_string_equal(linklayer_name(DLT_LINUX_SLL2), "LINUX_SLL2");
	assert_string_equal(linklayer_name(54321), "unknown");

	tcp_frame(&eth);
	assert_int_equal(linklayer_classify(DLT_RAW, eth.buf + 14, (uint32_t)eth.len - 14, &m), -1);
	/* too short for the link header itself */
	assert_int_equal(linklayer_classify(DLT_EN10MB, eth.buf, 13, &m), -1);
	cooked(buf, DLT_LINUX_SLL, HW_ETHER, mac_a, 6, &eth);
	assert_int_equal(linklayer_classify(DLT_LINUX_SLL, buf, SLL_HDR - 1, &m), -1);
	cooked(buf, DLT_LINUX_SLL2, HW_ETHER, mac_a, 6, &eth);
	assert_int_equal(linklayer_classify(DLT_LINUX_SLL2, buf, SLL2_HDR - 1, &m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcap_nanoseconds),
		cmocka_unit_test(test_gzip_reads_the_same),
		cmocka_unit_test(test_linktype_kept),
		cmocka_unit_test(test_directory_in_order),
		cmocka_unit_test(test_directory_other_linktype),
		cmocka_unit_test(test_directory_windows),
		cmocka_unit_test(test_direct_read_every_size),
		cmocka_unit_test(test_direct_read_microseconds),
		cmocka_unit_test(test_direct_read_hands_over),
		cmocka_unit_test(test_swapped_byte_order),
		cmocka_unit_test(test_truncated_mid_record),
		cmocka_unit_test(test_truncated_first_record),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_pcapng),
		cmocka_unit_test(test_linklayer_same_description),
		cmocka_unit_test(test_linklayer_cooked_without_mac),
		cmocka_unit_test(test_linklayer_support),
	};

	return cmocka_run_group_tests_name("capture", tests, group_setup, group_teardown);
}
