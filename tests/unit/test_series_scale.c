/*
 * `migscope series` grows linearly with its input (F6 of the fuzz findings:
 * 32,000 migrations took 7.5 s and 64,000 took 55 s, quadratic in
 * series_table__summarize and json_doc__at).
 *
 * How this can hold on a loaded 2-core machine: the work is timed in the
 * process's own CPU time (CLOCK_PROCESS_CPUTIME_ID), which does not count
 * the time other processes hold the CPU, and the bound is wide on both
 * sides: 64,000 groups summarize in ~0.1 s here (~0.5 s under ASan), the
 * quadratic code needed 55 s for them; the bound, 5 s, is 10x above the one
 * and 10x below the other. The same for the JSON reader: 1,000,000 array
 * elements visited one by one take milliseconds; walking i siblings for
 * element i took ~5e11 steps. Besides the bound, the results are checked,
 * so a fast wrong answer fails too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "analysis/json_reader.h"
#include "analysis/limits.h"
#include "series/series.h"

#define BOUND_S 5.0

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1000 settings x one report of 64 migrations (an evacuation's worth; the
 * analyzer keeps up to MAX_GROUPS): 64,000 rows, each its own group, the case
 * the group lookup was quadratic in. */
enum { REPORT_MIGRATIONS = 64 };
_Static_assert((int)REPORT_MIGRATIONS <= (int)MAX_GROUPS, "a report the analyzer can write");
static void test_summarize_64000_groups(void **state)
{
	char dir[] = "/tmp/test-series-scale-XXXXXX", path[128], setting[32], err[256] = "";
	struct series_table *t = series_table__new();
	double t0, spent;
	FILE *f;

	(void)state;
	assert_non_null(t);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"schema\":\"migscope.report.v1\",\"migrations\":[", f);
	for (int m = 0; m < REPORT_MIGRATIONS; m++)
		fprintf(f, "%s{\"stream\":{\"out_bytes\":%d},\"verdict\":{\"code\":\"%s\"}}",
			m ? "," : "", m, m % 3 ? "ok" : "no_announce");
	fputs("]}\n", f);
	fclose(f);
	for (int s = 0; s < 1000; s++) {
		snprintf(setting, sizeof(setting), "setting-%d", s);
		assert_int_equal(series_table__add(t, path, setting, NULL, err, sizeof(err)), 0);
	}
	assert_int_equal(series_table__nrows(t), 64000);
	t0 = cpu_seconds();
	assert_int_equal(series_table__summarize(t), 0);
	spent = cpu_seconds() - t0;
	print_message("summarize: 64000 rows in %.3f s of CPU\n", spent);
	assert_int_equal(series_table__ngroups(t), 64000);
	for (int g = 0; g < 64000; g += 997) {
		const struct series_group *grp = series_table__group(t, g);
		char want[SERIES_NAME_LEN];

		snprintf(want, sizeof(want), "setting-%d", g / REPORT_MIGRATIONS);
		assert_string_equal(grp->setting, want);
		assert_int_equal(grp->migration, g % REPORT_MIGRATIONS + 1);
		assert_int_equal(grp->runs, 1);
		assert_int_equal(grp->col[SERIES_OUT_BYTES].median.v, g % REPORT_MIGRATIONS);
		assert_string_equal(grp->verdicts, g % REPORT_MIGRATIONS % 3 ? "ok 1" : "no_announce 1");
	}
	series_table__free(t);
	unlink(path);
	rmdir(dir);
	if (spent > BOUND_S)
		fail_msg("summarize took %.1f s of CPU for 64000 groups (bound %.0f s)", spent,
			 BOUND_S);
}

/* One group of 64,000 runs: the verdict count was quadratic in its runs. */
static void test_summarize_64000_runs(void **state)
{
	char dir[] = "/tmp/test-series-scale-XXXXXX", path[128], err[256] = "";
	struct series_table *t = series_table__new();
	const struct series_group *g;
	double t0, spent;
	FILE *f;

	(void)state;
	assert_non_null(t);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"schema\":\"migscope.report.v1\",\"migrations\":[{\"verdict\":{\"code\":\"ok\"}}]}",
	      f);
	fclose(f);
	for (int r = 0; r < 64000; r++)
		assert_int_equal(series_table__add(t, path, "one", NULL, err, sizeof(err)), 0);
	t0 = cpu_seconds();
	assert_int_equal(series_table__summarize(t), 0);
	spent = cpu_seconds() - t0;
	print_message("summarize: 64000 runs of one group in %.3f s of CPU\n", spent);
	assert_int_equal(series_table__ngroups(t), 1);
	g = series_table__group(t, 0);
	assert_int_equal(g->runs, 64000);
	assert_string_equal(g->verdicts, "ok 64000");
	series_table__free(t);
	unlink(path);
	rmdir(dir);
	if (spent > BOUND_S)
		fail_msg("summarize took %.1f s of CPU for 64000 runs (bound %.0f s)", spent,
			 BOUND_S);
}

static void test_json_array_walk(void **state)
{
	enum { N = 1000000 };
	char *text = malloc(2 * N + 2), err[256] = "";
	struct json_doc *d = NULL;
	double t0, spent;
	long sum = 0;

	(void)state;
	assert_non_null(text);
	text[0] = '[';
	for (int i = 0; i < N; i++) {
		text[1 + 2 * i] = (char)('0' + i % 10);
		text[2 + 2 * i] = ',';
	}
	text[2 * N] = ']';
	assert_int_equal(json_doc__parse(text, 2 * N + 1, &d, err, sizeof(err)), 0);
	t0 = cpu_seconds();
	for (int i = 0; i < N; i++) {
		int64_t v;

		assert_true(json_doc__fixed(d, json_doc__at(d, 0, i), 0, &v));
		sum += v;
		/* the quadratic walk would take hours: stop it at the bound */
		if (!(i & 4095) && cpu_seconds() - t0 > BOUND_S)
			fail_msg("visiting %d of %d elements took over %.0f s of CPU", i, N, BOUND_S);
	}
	spent = cpu_seconds() - t0;
	print_message("json_doc__at: %d elements in %.3f s of CPU\n", N, spent);
	assert_int_equal(sum, (long)N / 10 * 45);
	assert_int_equal(json_doc__at(d, 0, N), -1);
	json_doc__free(d);
	free(text);
	if (spent > BOUND_S)
		fail_msg("visiting %d elements took %.1f s of CPU (bound %.0f s)", N, spent, BOUND_S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summarize_64000_groups),
		cmocka_unit_test(test_summarize_64000_runs),
		cmocka_unit_test(test_json_array_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
