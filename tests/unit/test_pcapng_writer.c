/*
 * capture/pcapng_writer: what it writes, libpcap (capture_reader) and tshark
 * read back exactly: stamps in ns, captured and wire lengths, bytes; the
 * counters comment of an ISB (split over several options when long) comes
 * back through analysis/capture_counters; .gz works; a gzip file cut in the
 * middle is read up to its last whole packet; files are mode 0600.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "analysis/capture_counters.h"
#include "analysis/capture_reader.h"
#include "capture/pcapng_writer.h"

enum { NPKT = 2000, BASE_NS = 1700000000 };

static char dir[] = "/tmp/msc-pcapng-XXXXXX";

static void frame_of(uint32_t i, uint8_t *buf, uint32_t *caplen, uint32_t *wirelen)
{
	uint32_t x = i * 2654435761u;

	*caplen = 60 + i % 69;
	*wirelen = *caplen + (i % 3 ? 0 : 1400);
	for (uint32_t b = 0; b < *caplen; b++) {
		x = x * 1103515245u + 12345u;
		buf[b] = (uint8_t)(x >> 16); /* incompressible: gzip cuts fall mid-packet */
	}
}

static uint64_t ts_of(uint32_t i)
{
	return (uint64_t)BASE_NS * 1000000000ull + i * 1000003ull;
}

/* Writes NPKT frames on two interfaces and an ISB per interface whose comment
 * holds `nflows` counter lines. */
static void write_file(const char *path, int nflows)
{
	char err[256] = "", *comment;
	struct pcapng_writer *w = pcapng_writer__open(path, COUNTERS_USERAPPL, "node=test", err,
						      sizeof(err));
	uint8_t buf[256];
	uint32_t caplen, wirelen;
	size_t cap = 400 + (size_t)nflows * 200, off;

	assert_non_null(w);
	assert_int_equal(pcapng_writer__add_interface(w, "eth0", "cn1", 1, 128), 0);
	assert_int_equal(pcapng_writer__add_interface(w, "eth1", NULL, 1, 128), 1);
	for (uint32_t i = 0; i < NPKT; i++) {
		frame_of(i, buf, &caplen, &wirelen);
		assert_int_equal(pcapng_writer__packet(w, i & 1, ts_of(i), buf, caplen, wirelen,
						       i & 1 ? PCAPNG_EPB_OUTBOUND : PCAPNG_EPB_INBOUND), 0);
	}
	assert_int_equal(pcapng_writer__packet(w, 2, 0, buf, 1, 1, 0), -EINVAL);
	comment = malloc(cap);
	assert_non_null(comment);
	/* the tracer's lines: one as written today, one of the first version
	 * (no bytes), which the reader must not use */
	off = (size_t)snprintf(comment, cap, COUNTERS_MAGIC "\niface name=eth0 ring_drops=7 "
			       "flows_full=0 events=%d retrans_tracer=yes\n"
			       "retransmits src=198.18.0.1 sport=40000 dst=198.18.0.2 dport=49152 "
			       "segments=5 bytes=7240 calls=4\n"
			       "retransmits src=198.18.0.1 sport=40001 dst=198.18.0.2 dport=49152 "
			       "segments=9\n", NPKT);
	for (int f = 0; f < nflows; f++)
		off += (size_t)snprintf(comment + off, cap - off,
					"flow src=198.18.0.1 sport=%d dst=198.18.0.2 dport=40000 "
					"packets=%d payload_bytes=%llu wire_bytes=%llu "
					"ooo_segments=3 ooo_bytes=4344\n", 49152 + f % 64, f,
					1000000000000ull + (unsigned)f, 2000000000000ull);
	for (uint32_t i = 0; i < 2; i++) {
		struct pcapng_if_stats s = { .start_ns = ts_of(0), .end_ns = ts_of(NPKT),
					     .ifrecv = 5000, .ifdrop = 7, .filteraccept = NPKT / 2,
					     .comment = i == 0 ? comment : NULL };

		assert_int_equal(pcapng_writer__stats(w, i, ts_of(NPKT), &s), 0);
	}
	free(comment);
	assert_int_equal(pcapng_writer__close(w), 0);
}

static void read_back(const char *path, uint32_t expect, bool cut)
{
	char err[256] = "";
	struct capture_reader *r = capture_reader__open(path, err, sizeof(err));
	struct capture_packet p;
	uint8_t buf[256];
	uint32_t caplen, wirelen, n = 0;

	assert_non_null(r);
	assert_int_equal(capture_reader__linktype(r), 1);
	while (capture_reader__next(r, &p) == 1) {
		frame_of(n, buf, &caplen, &wirelen);
		assert_int_equal(p.ts_ns, (int64_t)ts_of(n));
		assert_int_equal(p.caplen, caplen);
		assert_int_equal(p.wirelen, wirelen);
		assert_memory_equal(p.data, buf, caplen);
		n++;
	}
	if (cut) {
		assert_true(n > 0 && n < expect);
	} else {
		assert_int_equal(n, expect);
		assert_null(capture_reader__stopped_early(r));
	}
	capture_reader__close(r);
}

static void test_plain_roundtrip(void **state)
{
	char path[64], err[128];
	struct capture_counters *cc = malloc(sizeof(*cc));
	struct stat st;

	(void)state;
	assert_non_null(cc);
	snprintf(path, sizeof(path), "%s/a.pcapng", dir);
	write_file(path, 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	read_back(path, NPKT, false);
	assert_int_equal(capture_counters__read(path, cc, err, sizeof(err)), 0);
	assert_true(cc->ours && cc->present);
	assert_int_equal(cc->ring_drops, 7);
	assert_int_equal(cc->nflows, 2);
	assert_int_equal(cc->flows[1].sport, 49153);
	assert_int_equal(cc->flows[1].payload_bytes, 1000000000001ull);
	assert_int_equal(cc->flows[1].wire_bytes, 2000000000000ull);
	assert_int_equal(cc->flows[1].ooo_bytes, 4344);
	assert_true(cc->retrans_tracer);
	assert_int_equal(cc->nretrans, 1);
	assert_int_equal(cc->retrans[0].sport, 40000);
	assert_int_equal(cc->retrans[0].dport, 49152);
	assert_int_equal(cc->retrans[0].segments, 5);
	assert_int_equal(cc->retrans[0].bytes, 7240);
	free(cc);
}

/* A comment over 64 KiB is split over opt_comment options and rejoined. */
static void test_long_counters_split(void **state)
{
	char path[64], err[128];
	struct capture_counters *cc = malloc(sizeof(*cc));

	(void)state;
	assert_non_null(cc);
	snprintf(path, sizeof(path), "%s/long.pcapng", dir);
	write_file(path, 1000); /* ~150 KB of lines */
	assert_int_equal(capture_counters__read(path, cc, err, sizeof(err)), 0);
	assert_int_equal(cc->nflows, 1000);
	assert_int_equal(cc->flows[999].packets, 999);
	assert_int_equal(cc->flows[999].payload_bytes, 1000000000999ull);
	free(cc);
}

static void test_tshark_reads_it(void **state)
{
	char path[64], cmd[256], line[64] = "";
	FILE *p;

	(void)state;
	snprintf(path, sizeof(path), "%s/a.pcapng", dir);
	write_file(path, 2);
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e frame.len 2>/dev/null | wc -l", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_int_equal(atoi(line), NPKT);
	/* and the wire length of the first frame, as written */
	snprintf(cmd, sizeof(cmd), "tshark -r %s -c 1 -T fields -e frame.len -e frame.cap_len "
		 "2>/dev/null", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_string_equal(line, "1460\t60\n");
}

static void test_gzip_and_cut(void **state)
{
	char path[64], err[128];
	struct capture_counters *cc = malloc(sizeof(*cc));
	struct stat st;

	(void)state;
	assert_non_null(cc);
	snprintf(path, sizeof(path), "%s/a.pcapng.gz", dir);
	write_file(path, 2);
	read_back(path, NPKT, false);
	assert_int_equal(capture_counters__read(path, cc, err, sizeof(err)), 0);
	assert_true(cc->present);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* cut in the middle: packets up to the cut, no counters, no crash */
	assert_int_equal(truncate(path, st.st_size / 2), 0);
	read_back(path, NPKT, true);
	assert_int_equal(capture_counters__read(path, cc, err, sizeof(err)), 0);
	assert_true(cc->ours);
	assert_false(cc->present);
	free(cc);
}

static void test_existing_file_gets_0600(void **state)
{
	char path[64], err[128];
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/old.pcapng", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	pcapng_writer__close(pcapng_writer__open(path, "t", NULL, err, sizeof(err)));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_null(pcapng_writer__open("/nonexistent-dir/x.pcapng", "t", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir/x.pcapng"));
	assert_int_equal(pcapng_writer__close(NULL), 0);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_roundtrip),
		cmocka_unit_test(test_long_counters_split),
		cmocka_unit_test(test_tshark_reads_it),
		cmocka_unit_test(test_gzip_and_cut),
		cmocka_unit_test(test_existing_file_gets_0600),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
