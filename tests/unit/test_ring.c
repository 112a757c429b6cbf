/*
 * Unit tests of capture/ring.c, the flight recorder's files, on a scratch
 * directory with stand-in files: the ring holds at most -W files; the files
 * of a migration (and of the margin before and after it) move to a directory
 * of their own and stay there; streams closer than the margin share one
 * directory, later ones get another; --keep-max removes the oldest kept
 * directory first and stops keeping a migration that alone outgrows it; a
 * restarted ring numbers on and counts what it finds; and capture_dir lists
 * the kept files in order for the analyzer.
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

#include "analysis/capture_dir.h"
#include "capture/ring.h"

#define T0 INT64_C(1790000000000000000)
#define SEC INT64_C(1000000000)

struct fixture {
	char dir[64];
	char path[128];
	struct ring_opts o;
	struct ring *r;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/msc-test-ring-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/cn1.pcapng", f->dir);
	f->o = (struct ring_opts){ .path = f->path, .file_ns = 10 * SEC, .files = 3,
				   .margin_ns = 15 * SEC, .keep_bytes = 1 << 20 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	ring__close(f->r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Writes `bytes` into the ring's current file and closes it as [start, start+10 s). */
static int write_file(struct fixture *f, int64_t start, size_t bytes)
{
	FILE *fp = fopen(ring__path(f->r), "w");
	char *buf = calloc(1, bytes + 1);

	assert_non_null(fp);
	assert_non_null(buf);
	assert_int_equal(fwrite(buf, 1, bytes, fp), bytes);
	fclose(fp);
	free(buf);
	return ring__closed(f->r, start, start + 10 * SEC, bytes, f->err, sizeof(f->err));
}

static int count(const char *dir, const char *pattern_prefix)
{
	char cmd[256];
	int n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "find %s -maxdepth 1 -type f -name '%s*' | wc -l", dir,
		 pattern_prefix);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void ring_stays_within_w(void **state)
{
	struct fixture *f = *state;
	struct ring_stats rs;

	f->r = ring__open(&f->o, f->err, sizeof(f->err));
	assert_non_null(f->r);
	assert_true(strstr(ring__path(f->r), "/cn1.000000.pcapng") != NULL);
	assert_false(ring__due(f->r, T0, T0 + 9 * SEC, 100));
	assert_true(ring__due(f->r, T0, T0 + 10 * SEC, 100));
	for (int i = 0; i < 10; i++) {
		assert_int_equal(write_file(f, T0 + i * 10 * SEC, 100), 0);
		/* with the one being written, never more than -W */
		assert_true(count(f->dir, "cn1.") <= 2);
	}
	assert_true(strstr(ring__path(f->r), "/cn1.000010.pcapng") != NULL);
	ring__stats(f->r, &rs);
	assert_int_equal(rs.ring_files, 2);
	assert_int_equal(rs.deleted_files, 8);
	assert_int_equal(rs.kept_dirs, 0);
	/* the two newest are left */
	assert_int_equal(count(f->dir, "cn1.000008"), 1);
	assert_int_equal(count(f->dir, "cn1.000009"), 1);
}

static void migration_files_are_kept(void **state)
{
	struct fixture *f = *state;
	struct capture_dir d;
	struct ring_stats rs;
	const char *keep;

	f->r = ring__open(&f->o, f->err, sizeof(f->err));
	assert_non_null(f->r);
	/* files 0..3 idle: [0,10) [10,20) [20,30) [30,40) */
	for (int i = 0; i < 4; i++)
		assert_int_equal(write_file(f, T0 + i * 10 * SEC, 100), 0);
	/* a stream at 42 s: the margin (15 s) reaches back to 27 s: file 2
	 * (ends 30) is kept, file 1 (ends 20) is not (already rotated out) */
	assert_int_equal(ring__stream(f->r, T0 + 42 * SEC, f->err, sizeof(f->err)), 1);
	keep = ring__keep_path(f->r);
	assert_non_null(keep);
	assert_true(strstr(keep, "/migrations/cn1-2026") != NULL);
	assert_int_equal(ring__stream(f->r, T0 + 55 * SEC, f->err, sizeof(f->err)), 0);
	/* files 4..12: [40,50) .. [120,130); the stream's last event at 55 s,
	 * the margin after to 70 s: files 4 to 7 kept (7 begins at 70 s), 8..
	 * rotate */
	for (int i = 4; i < 13; i++)
		assert_int_equal(write_file(f, T0 + i * 10 * SEC, 100), 0);
	ring__stats(f->r, &rs);
	assert_int_equal(rs.kept_dirs, 1);
	assert_int_equal(rs.kept_files, 6); /* 2 to 7 */
	assert_int_equal(rs.kept_bytes, 600);
	assert_int_equal(rs.ring_files, 2);
	assert_int_equal(capture_dir__list(keep, &d, f->err, sizeof(f->err)), -ENOENT);
	/* stand-ins are not captures: capture_dir passes them over */
	assert_int_equal(count(keep, "cn1.00000"), 6);
	assert_true(ring__keeping(f->r, T0 + 70 * SEC));
	assert_false(ring__keeping(f->r, T0 + 71 * SEC));
	/* a stream 200 s later: a second directory */
	assert_int_equal(ring__stream(f->r, T0 + 200 * SEC, f->err, sizeof(f->err)), 1);
	assert_string_not_equal(ring__keep_path(f->r), keep);
	ring__stats(f->r, &rs);
	assert_int_equal(rs.kept_dirs, 2);
}

static void keep_max_drops_oldest(void **state)
{
	struct fixture *f = *state;
	struct ring_stats rs;

	f->o.keep_bytes = 2500;
	f->r = ring__open(&f->o, f->err, sizeof(f->err));
	assert_non_null(f->r);
	/* migration A: files of 1000 bytes at [0,10) [10,20) */
	assert_int_equal(ring__stream(f->r, T0 + 1 * SEC, f->err, sizeof(f->err)), 1);
	assert_int_equal(write_file(f, T0, 1000), 0);
	assert_int_equal(write_file(f, T0 + 10 * SEC, 1000), 0);
	ring__stats(f->r, &rs);
	assert_int_equal(rs.kept_dirs, 1);
	assert_int_equal(rs.kept_bytes, 2000);
	/* migration B, 100 s later, keeps an idle file of its margin, then its
	 * first own file pushes A out */
	assert_int_equal(write_file(f, T0 + 90 * SEC, 10), 0);
	assert_int_equal(ring__stream(f->r, T0 + 101 * SEC, f->err, sizeof(f->err)), 1);
	ring__stats(f->r, &rs);
	assert_int_equal(rs.kept_dirs, 2);
	assert_int_equal(rs.kept_bytes, 2010);
	assert_int_equal(write_file(f, T0 + 100 * SEC, 1000), 0);
	ring__stats(f->r, &rs);
	assert_int_equal(rs.deleted_kept_dirs, 1);
	assert_int_equal(rs.kept_dirs, 1);
	assert_int_equal(rs.kept_bytes, 1010);
	assert_int_equal(write_file(f, T0 + 110 * SEC, 1000), 0);
	ring__stats(f->r, &rs);
	assert_int_equal(rs.kept_bytes, 2010);
	/* B alone outgrows the bound: said once, its later files rotate */
	assert_int_equal(ring__stream(f->r, T0 + 112 * SEC, f->err, sizeof(f->err)), 0);
	assert_int_equal(write_file(f, T0 + 120 * SEC, 1000), -ENOSPC);
	assert_non_null(strstr(f->err, "--keep-max"));
	assert_null(ring__keep_path(f->r));
	assert_int_equal(write_file(f, T0 + 130 * SEC, 1000), 0);
	ring__stats(f->r, &rs);
	assert_true(rs.kept_bytes <= 2500);
}

static void restart_numbers_on(void **state)
{
	struct fixture *f = *state;
	struct ring_stats rs;

	f->r = ring__open(&f->o, f->err, sizeof(f->err));
	assert_non_null(f->r);
	for (int i = 0; i < 5; i++)
		assert_int_equal(write_file(f, T0 + i * 10 * SEC, 100), 0);
	ring__close(f->r);
	f->r = ring__open(&f->o, f->err, sizeof(f->err));
	assert_non_null(f->r);
	assert_true(strstr(ring__path(f->r), "/cn1.000005.pcapng") != NULL);
	ring__stats(f->r, &rs);
	assert_int_equal(rs.ring_files, 2);
	assert_int_equal(write_file(f, T0 + 60 * SEC, 100), 0);
	assert_int_equal(count(f->dir, "cn1."), 2);
}

static void bad_paths(void **state)
{
	struct fixture *f = *state;
	struct capture_dir d;

	f->o.path = "/nonexistent-dir-of-migscope/cn1.pcapng";
	assert_null(ring__open(&f->o, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "/nonexistent-dir-of-migscope"));
	assert_int_equal(capture_dir__list("/nonexistent-dir-of-migscope", &d, f->err,
					   sizeof(f->err)), -ENOENT);
	assert_int_equal(capture_dir__list(f->dir, &d, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, "no pcap or pcapng capture"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ring_stays_within_w, setup, teardown),
		cmocka_unit_test_setup_teardown(migration_files_are_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_max_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_numbers_on, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_paths, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
