/*
 * The analyzer's value domain (analysis/domain.h) and where it is enforced:
 * the checked conversions themselves; capture_reader on pcapng files of every
 * kind of if_tsresol (10^-n including 0, i.e. whole seconds, 2^-n, with
 * if_tsoffset) and on classic pcap, stamps out of the domain being -ERANGE
 * with a line naming the packet, wherever they are in the file; and the
 * bounds capture_counters puts on a migscope capture's counters. Files are
 * built byte by byte in a private directory under /tmp.
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

#include <cmocka.h>

#include "analysis/capture_counters.h"
#include "analysis/capture_reader.h"
#include "analysis/domain.h"
#include "capture/pcapng_writer.h"

static char dir[] = "/tmp/migscope-test-domain-XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
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
	return nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- the conversions ---------------------------------------------------- */

static void test_stamp_from_parts(void **state)
{
	int64_t t = -7;

	(void)state;
	assert_int_equal(stamp_from_parts(0, 0, &t), -ERANGE); /* 0 is "no time" */
	assert_int_equal(t, -7);                                 /* untouched on failure */
	assert_int_equal(stamp_from_parts(0, 1, &t), 0);
	assert_int_equal(t, STAMP_MIN_NS);
	assert_int_equal(stamp_from_parts(1700000000, 123456789, &t), 0);
	assert_int_equal(t, INT64_C(1700000000123456789));
	/* the last nanosecond of the domain, and the one after */
	assert_int_equal(stamp_from_parts(4611686018, 427387903, &t), 0);
	assert_int_equal(t, STAMP_MAX_NS);
	assert_int_equal(stamp_from_parts(4611686018, 427387904, &t), -ERANGE);
	/* a fraction outside 0..1e9-1 counts as it is */
	assert_int_equal(stamp_from_parts(5, NS_PER_S, &t), 0);
	assert_int_equal(t, 6 * NS_PER_S);
	assert_int_equal(stamp_from_parts(5, -1, &t), 0);
	assert_int_equal(t, 5 * NS_PER_S - 1);
	assert_int_equal(stamp_from_parts(0, -1, &t), -ERANGE);
	assert_int_equal(stamp_from_parts(-1, 0, &t), -ERANGE);
	/* what overflowed int64_t before (F1 of the fuzz findings) */
	assert_int_equal(stamp_from_parts(INT64_C(1699999999091277888), 0, &t), -ERANGE);
	assert_int_equal(stamp_from_parts(INT64_C(18446744073709), 551615000, &t), -ERANGE);
	assert_int_equal(stamp_from_parts(INT64_MIN, 0, &t), -ERANGE);
	assert_int_equal(stamp_from_parts(INT64_MAX, INT64_MAX, &t), -ERANGE);
	assert_int_equal(stamp_from_parts(1, INT64_MAX, &t), -ERANGE);
}

static void test_stamp_shift(void **state)
{
	int64_t t = -7;

	(void)state;
	assert_int_equal(stamp_shift(1700000000 * NS_PER_S, -37500000, &t), 0);
	assert_int_equal(t, 1700000000 * NS_PER_S + 37500000);
	assert_int_equal(stamp_shift(1, 0, &t), 0);
	assert_int_equal(stamp_shift(1, 1, &t), -ERANGE); /* would be 0 */
	assert_int_equal(stamp_shift(STAMP_MAX_NS, -1, &t), -ERANGE);
	assert_int_equal(stamp_shift(STAMP_MAX_NS, STAMP_MAX_NS - 1, &t), 0);
	assert_int_equal(t, 1);
	/* F2: INT64_MAX less a negative offset overflowed */
	assert_int_equal(stamp_shift(INT64_MAX, -NS_PER_S, &t), -ERANGE);
	assert_int_equal(stamp_shift(5, INT64_MIN, &t), -ERANGE);
	assert_int_equal(stamp_shift(-5, INT64_MAX, &t), -ERANGE);
}

static void test_counts_and_rates(void **state)
{
	int64_t bps = -7;

	(void)state;
	assert_true(count_valid(0));
	assert_true(count_valid(COUNT_MAX));
	assert_false(count_valid(COUNT_MAX + 1));
	assert_false(count_valid(UINT64_C(9000000000000000000))); /* F3 */
	assert_true(rate_bps(125000000, NS_PER_S, &bps));
	assert_int_equal(bps, 1000000000);
	assert_false(rate_bps(1, 0, &bps));
	assert_false(rate_bps(1, -1, &bps));
	/* F3: 9e18 bytes over 13 ms was "-9223372036854.8 Mbit/s" */
	assert_false(rate_bps(UINT64_C(9000000000000000000), 13050000, &bps));
	assert_false(rate_bps(COUNT_MAX, 1, &bps));
	assert_int_equal(bps, 1000000000);
	/* the largest that fits: 2^63 - 1 is not a double, 2^62 is */
	assert_true(rate_bps(UINT64_C(1) << 59, NS_PER_S, &bps));
	assert_int_equal(bps, INT64_C(1) << 62);
}

/* ---- pcapng stamps through capture_reader -------------------------------- */

struct bytes {
	uint8_t b[2048];
	size_t n;
};

static void put8(struct bytes *o, uint8_t v)
{
	if (o->n == sizeof(o->b))
		abort();
	o->b[o->n++] = v;
}

static void put16(struct bytes *o, uint16_t v)
{
	put8(o, (uint8_t)v);
	put8(o, (uint8_t)(v >> 8));
}

static void put32(struct bytes *o, uint32_t v)
{
	put16(o, (uint16_t)v);
	put16(o, (uint16_t)(v >> 16));
}

static void put64(struct bytes *o, uint64_t v)
{
	put32(o, (uint32_t)v);
	put32(o, (uint32_t)(v >> 32));
}

static size_t block_begin(struct bytes *o, uint32_t type)
{
	size_t start = o->n;

	put32(o, type);
	put32(o, 0);
	return start;
}

static void block_end(struct bytes *o, size_t start)
{
	uint32_t len;

	while (o->n % 4)
		put8(o, 0);
	len = (uint32_t)(o->n - start + 4);
	put32(o, len);
	memcpy(o->b + start + 4, &len, 4); /* little-endian host, as the file */
}

static void write_bytes(const char *path, const struct bytes *o)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(o->b, 1, o->n, fp), o->n);
	assert_int_equal(fclose(fp), 0);
}

/* A pcapng file: SHB, one Ethernet IDB with if_tsresol `resol` (-1: none,
 * so microseconds) and if_tsoffset `offset` seconds (0: none), then an EPB
 * of 60 zero bytes per raw stamp. */
static void write_pcapng(const char *path, int resol, int64_t offset, const uint64_t *raw,
			 size_t n)
{
	struct bytes o = { .n = 0 };
	size_t blk;

	blk = block_begin(&o, 0x0A0D0D0A);
	put32(&o, 0x1A2B3C4D);
	put16(&o, 1);
	put16(&o, 0);
	put64(&o, UINT64_MAX);
	block_end(&o, blk);

	blk = block_begin(&o, 1);
	put16(&o, 1);
	put16(&o, 0);
	put32(&o, 65535);
	if (resol >= 0) {
		put16(&o, 9);
		put16(&o, 1);
		put32(&o, (uint32_t)resol); /* the value byte, then padding */
	}
	if (offset) {
		put16(&o, 14);
		put16(&o, 8);
		put64(&o, (uint64_t)offset);
	}
	if (resol >= 0 || offset)
		put32(&o, 0);
	block_end(&o, blk);

	for (size_t i = 0; i < n; i++) {
		blk = block_begin(&o, 6);
		put32(&o, 0);
		put32(&o, (uint32_t)(raw[i] >> 32));
		put32(&o, (uint32_t)raw[i]);
		put32(&o, 60);
		put32(&o, 60);
		for (int b = 0; b < 60; b++)
			put8(&o, 0);
		block_end(&o, blk);
	}
	write_bytes(path, &o);
}

/* Reads path expecting `ok` stamps equal to want[], then `last` from __next. */
static struct capture_reader *read_stamps(const char *path, const int64_t *want, size_t ok,
					  int last)
{
	char err[256] = "";
	struct capture_reader *r = capture_reader__open(path, err, sizeof(err));
	struct capture_packet p;

	if (!r)
		fail_msg("open %s: %s", path, err);
	for (size_t i = 0; i < ok; i++) {
		assert_int_equal(capture_reader__next(r, &p), 1);
		assert_int_equal(p.ts_ns, want[i]);
	}
	assert_int_equal(capture_reader__next(r, &p), last);
	return r;
}

static void expect_stamps(const char *name, int resol, int64_t offset, uint64_t raw,
			  int64_t want)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s.pcapng", dir, name);
	write_pcapng(path, resol, offset, &raw, 1);
	capture_reader__close(read_stamps(path, &want, 1, 0));
}

/* Refused, with one line naming packet `at` (1-based) and its stamp. */
static void expect_refused(const char *path, const int64_t *good, size_t ngood, const char *stamp)
{
	struct capture_reader *r = read_stamps(path, good, ngood, -ERANGE);
	const char *why = capture_reader__stopped_early(r);
	char want[64];
	struct capture_packet p;

	assert_non_null(why);
	assert_null(strchr(why, '\n'));
	snprintf(want, sizeof(want), "packet %zu: time stamp %s", ngood + 1, stamp);
	if (strncmp(why, want, strlen(want)))
		fail_msg("'%s' does not start '%s'", why, want);
	assert_non_null(strstr(why, "not a time migscope reads"));
	/* and stays refused: the rest of the file is not read as if it were fine */
	assert_int_equal(capture_reader__next(r, &p), -ERANGE);
	capture_reader__close(r);
}

static void test_pcapng_resolutions(void **state)
{
	const int64_t T = INT64_C(1700000000) * NS_PER_S;

	(void)state;
	/* 10^-n: whole seconds (if_tsresol 0), ms, us (the default), ns */
	expect_stamps("res0", 0, 0, 1700000000, T);
	expect_stamps("res3", 3, 0, UINT64_C(1700000000123), T + 123000000);
	expect_stamps("resdefault", -1, 0, UINT64_C(1700000000123456), T + 123456000);
	expect_stamps("res9", 9, 0, UINT64_C(1700000000123456789), T + 123456789);
	/* picoseconds since 1970 do not fit 64 bits: if_tsoffset carries the
	 * seconds; libpcap truncates to the nanosecond */
	expect_stamps("res12", 12, 1700000000, UINT64_C(123456789012), T + 123456789);
	/* 2^-n: half a second in 1/1024 s and in 2^-30 s ticks */
	expect_stamps("bin10", 0x80 | 10, 0, (UINT64_C(1700000000) << 10) | 512, T + 500000000);
	expect_stamps("bin30", 0x80 | 30, 0, (UINT64_C(1700000000) << 30) | (1u << 29),
		      T + 500000000);
	/* the first nanosecond after the epoch is a time */
	expect_stamps("first-ns", 9, 0, 1, 1);
}

static void test_pcapng_out_of_domain(void **state)
{
	const int64_t T = INT64_C(1700000000) * NS_PER_S;
	uint64_t raw[3];
	char path[128];

	(void)state;
	/* F1: a nanosecond count read as seconds (if_tsresol 0) */
	raw[0] = UINT64_C(1699999999091277888);
	snprintf(path, sizeof(path), "%s/res0-ns.pcapng", dir);
	write_pcapng(path, 0, 0, raw, 1);
	expect_refused(path, NULL, 0, "1699999999091277888.000000000 s");

	/* F1: microseconds near 2^64, after two good packets: not a cut file,
	 * an error wherever it is */
	raw[0] = UINT64_C(1700000000000001);
	raw[1] = UINT64_C(1700000000000002);
	raw[2] = UINT64_MAX - 255;
	snprintf(path, sizeof(path), "%s/us-2^64.pcapng", dir);
	write_pcapng(path, -1, 0, raw, 3);
	expect_refused(path, (const int64_t[]){ T + 1000, T + 2000 }, 2, "18446744073709.551360000 s");

	/* F1b: if_tsoffset drives seconds negative */
	raw[0] = 1000000;
	snprintf(path, sizeof(path), "%s/negative.pcapng", dir);
	write_pcapng(path, -1, INT64_MIN, raw, 1);
	expect_refused(path, NULL, 0, "-9223372036854775807.000000000 s");

	/* a stamp of 0: "no time" everywhere in the analyzer (F5) */
	raw[0] = 0;
	snprintf(path, sizeof(path), "%s/zero.pcapng", dir);
	write_pcapng(path, 9, 0, raw, 1);
	expect_refused(path, NULL, 0, "0.000000000 s");

	/* the first second past the domain's end */
	raw[0] = UINT64_C(4611686019);
	snprintf(path, sizeof(path), "%s/2116.pcapng", dir);
	write_pcapng(path, 0, 0, raw, 1);
	expect_refused(path, NULL, 0, "4611686019.000000000 s");
}

/* Classic pcap, microseconds: records of (sec, usec) as the file holds them. */
static void write_pcap_us(const char *path, const uint32_t (*rec)[2], size_t n)
{
	struct bytes o = { .n = 0 };

	put32(&o, 0xa1b2c3d4);
	put16(&o, 2);
	put16(&o, 4);
	put32(&o, 0);
	put32(&o, 0);
	put32(&o, 65535);
	put32(&o, 1);
	for (size_t i = 0; i < n; i++) {
		put32(&o, rec[i][0]);
		put32(&o, rec[i][1]);
		put32(&o, 60);
		put32(&o, 60);
		for (int b = 0; b < 60; b++)
			put8(&o, 0);
	}
	write_bytes(path, &o);
}

static void test_pcap_stamps(void **state)
{
	const int64_t T = INT64_C(1700000000) * NS_PER_S;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/us.pcap", dir);
	/* a microsecond field of 1,000,000 is the next second */
	write_pcap_us(path, (const uint32_t[][2]){ { 1700000000, 5 }, { 1700000000, 1000000 } }, 2);
	capture_reader__close(read_stamps(path, (const int64_t[]){ T + 5000, T + NS_PER_S }, 2, 0));

	/* F5: a valid pcap stamped from the epoch */
	snprintf(path, sizeof(path), "%s/epoch.pcap", dir);
	write_pcap_us(path, (const uint32_t[][2]){ { 0, 110 }, { 0, 0 } }, 2);
	expect_refused(path, (const int64_t[]){ 110000 }, 1, "0.000000000 s");

	/* libpcap reads the seconds as signed 32 bits: 2^31 and above is 1901 */
	snprintf(path, sizeof(path), "%s/1901.pcap", dir);
	write_pcap_us(path, (const uint32_t[][2]){ { 0x80000000u, 0 } }, 1);
	expect_refused(path, NULL, 0, "-2147483648.000000000 s");
}

/* ---- capture_counters' bounds -------------------------------------------- */

/* A migscope capture with one packet and an ISB whose counters comment
 * holds `lines` after the magic. */
static void write_counters(const char *path, const char *lines)
{
	char err[256] = "", comment[2048];
	struct pcapng_writer *w = pcapng_writer__open(path, COUNTERS_USERAPPL, "node=test", err,
						      sizeof(err));
	uint8_t frame[60] = { 0 };
	struct pcapng_if_stats s = { .comment = comment };

	assert_non_null(w);
	snprintf(comment, sizeof(comment), COUNTERS_MAGIC "\n%s", lines);
	assert_int_equal(pcapng_writer__add_interface(w, "eth0", NULL, 1, 128), 0);
	assert_int_equal(pcapng_writer__packet(w, 0, UINT64_C(1700000000000000000), frame, 60, 60,
					       PCAPNG_EPB_OUTBOUND), 0);
	assert_int_equal(pcapng_writer__stats(w, 0, UINT64_C(1700000001000000000), &s), 0);
	assert_int_equal(pcapng_writer__close(w), 0);
}

#define FLOW "flow src=198.18.0.1 sport=50000 dst=198.18.0.2 dport=49152 "

/* Reads lines back: rc, and err when it fails. */
static int counters_of(const char *lines, struct capture_counters *cc, char *err, size_t errlen)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/counters.pcapng", dir);
	write_counters(path, lines);
	err[0] = '\0';
	return capture_counters__read(path, cc, err, errlen);
}

static void expect_counters_refused(const char *lines, const char *want)
{
	struct capture_counters *cc = malloc(sizeof(*cc));
	char err[512];

	assert_non_null(cc);
	assert_int_equal(counters_of(lines, cc, err, sizeof(err)), -ERANGE);
	assert_null(strchr(err, '\n'));
	if (!strstr(err, want))
		fail_msg("'%s' does not say '%s'", err, want);
	assert_non_null(strstr(err, "counters.pcapng: counters block at byte "));
	free(cc);
}

static void test_counter_bounds(void **state)
{
	struct capture_counters *cc = malloc(sizeof(*cc));
	char err[512], lines[1024];

	(void)state;
	assert_non_null(cc);
	/* the bounds themselves are counts and times */
	snprintf(lines, sizeof(lines), "iface name=eth0 ring_drops=%llu\n" FLOW
		 "packets=%llu payload_bytes=%llu wire_bytes=1 ooo_segments=0 ooo_bytes=0 "
		 "first_ns=1 last_ns=%lld last_data_ns=0\n"
		 "retransmits src=198.18.0.1 sport=50000 dst=198.18.0.2 dport=49152 segments=%llu "
		 "bytes=1\n",
		 (unsigned long long)COUNT_MAX, (unsigned long long)COUNT_MAX,
		 (unsigned long long)COUNT_MAX, (long long)STAMP_MAX_NS,
		 (unsigned long long)COUNT_MAX);
	assert_int_equal(counters_of(lines, cc, err, sizeof(err)), 0);
	assert_int_equal(cc->nflows, 1);
	assert_int_equal(cc->flows[0].payload_bytes, COUNT_MAX);
	assert_int_equal(cc->flows[0].first_ns, 1);
	assert_int_equal(cc->flows[0].last_ns, STAMP_MAX_NS);
	assert_int_equal(cc->flows[0].last_data_ns, 0); /* absent */
	assert_int_equal(cc->ring_drops, COUNT_MAX);
	assert_int_equal(cc->retrans[0].segments, COUNT_MAX);
	/* a line without its counts is not used, as before */
	assert_int_equal(counters_of(FLOW "packets=1\n", cc, err, sizeof(err)), 0);
	assert_int_equal(cc->nflows, 0);
	free(cc);

	/* F3: 9e18 payload bytes */
	expect_counters_refused(FLOW "packets=31 payload_bytes=9000000000000000000 wire_bytes=1 "
				"ooo_segments=0 ooo_bytes=0\n",
				"line 2: payload_bytes=9000000000000000000 is more than");
	expect_counters_refused(FLOW "packets=9007199254740993 payload_bytes=1 wire_bytes=1 "
				"ooo_segments=0 ooo_bytes=0\n", "packets=9007199254740993");
	/* F2, F4: last_ns at INT64_MAX; and one past the domain */
	expect_counters_refused(FLOW "packets=1 payload_bytes=1 wire_bytes=1 ooo_segments=0 "
				"ooo_bytes=0 first_ns=1 last_ns=9223372036854775807\n",
				"line 2: last_ns=9223372036854775807 is not a time migscope reads");
	expect_counters_refused(FLOW "packets=1 payload_bytes=1 wire_bytes=1 ooo_segments=0 "
				"ooo_bytes=0 last_data_ns=4611686018427387904\n",
				"last_data_ns=4611686018427387904");
	expect_counters_refused("retransmits src=198.18.0.1 sport=50000 dst=198.18.0.2 "
				"dport=49152 segments=1 bytes=18446744073709551615\n",
				"bytes=18446744073709551615");
	/* an empty line counts: the number is the line's in the comment */
	expect_counters_refused("\n" FLOW "packets=1 payload_bytes=9007199254740993 wire_bytes=1 "
				"ooo_segments=0 ooo_bytes=0\n", "line 3: payload_bytes=9007199254740993");
	/* each iface line in bounds, their sum not */
	expect_counters_refused("iface name=eth0 events=9007199254740992\n"
				"iface name=eth1 events=1\n",
				"line 3: events=1 is more than 2^53 summed over the interfaces");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamp_from_parts),
		cmocka_unit_test(test_stamp_shift),
		cmocka_unit_test(test_counts_and_rates),
		cmocka_unit_test(test_pcapng_resolutions),
		cmocka_unit_test(test_pcapng_out_of_domain),
		cmocka_unit_test(test_pcap_stamps),
		cmocka_unit_test(test_counter_bounds),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
