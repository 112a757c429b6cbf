/*
 * Unit tests of `migscope series`' arithmetic and inputs: the statistics
 * (mean rounded half away from zero; median and p95 by nearest rank, so
 * always a run's own value), the setting a run name stands for, and tables
 * built from report JSONs written here (exact values, nulls left out of the
 * statistics, verdict counts, one-line errors for bad inputs).
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

#include "analysis/stats.h"
#include "series/series.h"

static void test_nearest_rank(void **state)
{
	int64_t twenty[20], four[] = { 3, 1, 2, 4 }, one[] = { 5 }, neg[] = { -1, -2 };
	int64_t big[] = { INT64_C(9000000000000000000), INT64_C(9000000000000000000) };
	struct stats_summary s;

	(void)state;
	for (int i = 0; i < 20; i++)
		twenty[i] = (i * 7) % 20 + 1; /* 1..20, shuffled */
	s = stats_summarize(twenty, 20);
	assert_int_equal(s.mean, 11);   /* 10.5, half away from zero */
	assert_int_equal(s.median, 10); /* rank ceil(0.5 * 20) = 10 */
	assert_int_equal(s.p95, 19);    /* rank ceil(0.95 * 20) = 19 */
	s = stats_summarize(four, 4);
	assert_int_equal(s.mean, 3);    /* 2.5 */
	assert_int_equal(s.median, 2);  /* the lower middle: a run's own value */
	assert_int_equal(s.p95, 4);     /* under 20 runs: the largest */
	s = stats_summarize(one, 1);
	assert_int_equal(s.mean, 5);
	assert_int_equal(s.median, 5);
	assert_int_equal(s.p95, 5);
	s = stats_summarize(neg, 2);
	assert_int_equal(s.mean, -2);   /* -1.5, away from zero */
	assert_int_equal(s.median, -2);
	assert_int_equal(s.p95, -1);
	s = stats_summarize(big, 2);    /* the sum passes INT64_MAX */
	assert_int_equal(s.mean, INT64_C(9000000000000000000));
}

static void test_setting_of_name(void **state)
{
	static const char *const cases[][2] = {
		{ "loss-2-r3", "loss-2" }, { "dirty-7", "dirty" }, { "baseline", "baseline" },
		{ "loss-2", "loss" },     { "run-r12", "run" },   { "loss2", "loss2" },
		{ "-3", "-3" },           { "r3", "r3" },         { "x-r", "x-r" },
		{ "a-r3", "a" },          { "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[SERIES_NAME_LEN];

		series_setting_of(cases[i][0], out, sizeof(out));
		if (strcmp(out, cases[i][1]))
			fail_msg("'%s': expected '%s', got '%s'", cases[i][0], cases[i][1], out);
	}
}

/* ---- tables from report JSONs ---------------------------------------- */

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test-series-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd))
		return -1;
	free(fx);
	return 0;
}

/* Writes DIR/SUB/NAME with a report of one migration. */
static void write_report(const struct fixture *fx, const char *sub, const char *name,
			 const char *downtime_us, int lost, const char *verdict)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, sub);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s/%s", fx->dir, sub, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"schema\":\"migscope.report.v1\",\"migrations\":[{\"stream\":{"
		"\"migration_time_us\":780835.522,\"out_bytes\":74831504,\"in_bytes\":null,"
		"\"retransmitted_segments\":32},\"downtime\":{\"probe_gap_us\":%s,"
		"\"guest_silence_us\":62565.515},\"loss\":{\"lost_probes\":%d},"
		"\"verdict\":{\"code\":\"%s\"}}]}\n", downtime_us, lost, verdict);
	fclose(f);
}

static int add(struct series_table *t, const struct fixture *fx, const char *rel,
	       const char *setting, char *err)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", fx->dir, rel);
	return series_table__add(t, path, setting, NULL, err, 256);
}

static void test_table_from_reports(void **state)
{
	struct fixture *fx = *state;
	struct series_table *t = series_table__new();
	const struct series_row *r;
	const struct series_group *g;
	char err[256];

	write_report(fx, "loss-2-r1", "report.json", "87873.963", 3, "ok");
	write_report(fx, "loss-2-r2", "report.json", "null", 5, "stale_forwarding");
	write_report(fx, "loss-2-r3", "report.json", "100000.001", 4, "ok");
	write_report(fx, "other", "x.json", "1", 0, "ok");
	assert_non_null(t);
	assert_int_equal(add(t, fx, "loss-2-r1", NULL, err), 0);           /* a directory */
	assert_int_equal(add(t, fx, "loss-2-r2/report.json", NULL, err), 0); /* the file */
	assert_int_equal(add(t, fx, "loss-2-r3", NULL, err), 0);
	assert_int_equal(add(t, fx, "other/x.json", "label", err), 0);
	assert_int_equal(series_table__nrows(t), 4);
	r = series_table__row(t, 0);
	assert_string_equal(r->setting, "loss-2");
	assert_string_equal(r->run, "loss-2-r1");
	assert_int_equal(r->migration, 1);
	assert_int_equal(r->v[SERIES_MIGRATION_TIME].v, 780835522); /* exact ns */
	assert_int_equal(r->v[SERIES_DOWNTIME].v, 87873963);
	assert_int_equal(r->v[SERIES_SILENCE].v, 62565515);
	assert_int_equal(r->v[SERIES_OUT_BYTES].v, 74831504);
	assert_false(r->v[SERIES_IN_BYTES].set); /* null stays null */
	assert_int_equal(r->v[SERIES_RETX].v, 32);
	assert_int_equal(r->v[SERIES_LOST].v, 3);
	assert_string_equal(r->verdict, "ok");
	assert_string_equal(series_table__row(t, 1)->run, "loss-2-r2");
	assert_string_equal(series_table__row(t, 3)->setting, "label");
	assert_string_equal(series_table__row(t, 3)->run, "x");

	assert_int_equal(series_table__summarize(t), 0);
	assert_int_equal(series_table__ngroups(t), 2);
	g = series_table__group(t, 0);
	assert_string_equal(g->setting, "loss-2");
	assert_int_equal(g->runs, 3);
	assert_int_equal(g->col[SERIES_DOWNTIME].n, 2); /* the null run is left out */
	assert_int_equal(g->col[SERIES_DOWNTIME].mean.v, 93936982);
	assert_int_equal(g->col[SERIES_DOWNTIME].median.v, 87873963);
	assert_int_equal(g->col[SERIES_DOWNTIME].p95.v, 100000001);
	assert_int_equal(g->col[SERIES_LOST].mean.v, 4);
	assert_int_equal(g->col[SERIES_LOST].median.v, 4);
	assert_int_equal(g->col[SERIES_LOST].p95.v, 5);
	assert_int_equal(g->col[SERIES_IN_BYTES].n, 0);
	assert_false(g->col[SERIES_IN_BYTES].mean.set);
	assert_string_equal(g->verdicts, "ok 2, stale_forwarding 1");
	assert_string_equal(series_table__group(t, 1)->setting, "label");
	series_table__free(t);
}

static void write_file(const struct fixture *fx, const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_bad_inputs(void **state)
{
	struct fixture *fx = *state;
	struct series_table *t = series_table__new();
	char err[256], path[256];

	assert_non_null(t);
	assert_int_equal(add(t, fx, "missing", NULL, err), -ENOENT);
	assert_non_null(strstr(err, "missing"));
	/* JSON that is not a report */
	write_file(fx, "other.json", "{\"schema\":\"migscope.lab-scenario.v1\"}");
	assert_int_equal(add(t, fx, "other.json", NULL, err), -EINVAL);
	assert_non_null(strstr(err, "not a migscope report"));
	/* a directory with no report in it */
	assert_int_equal(add(t, fx, "", NULL, err), -EINVAL);
	assert_non_null(strstr(err, "neither a lab run"));
	/* two reports: which one is meant? */
	write_report(fx, "two", "a.json", "1", 0, "ok");
	write_report(fx, "two", "b.json", "1", 0, "ok");
	assert_int_equal(add(t, fx, "two", NULL, err), -EINVAL);
	assert_non_null(strstr(err, "2 migscope report JSONs"));
	/* broken JSON names the file and the offset */
	write_file(fx, "broken.json", "{\"schema\":\"migscope.report.v1\",");
	assert_int_equal(add(t, fx, "broken.json", NULL, err), -EINVAL);
	assert_non_null(strstr(err, "broken.json: invalid JSON at byte"));
	/* a lab run directory whose captures are missing */
	snprintf(path, sizeof(path), "%s/lab", fx->dir);
	mkdir(path, 0700);
	write_file(fx, "lab/scenario.json",
		   "{\"scenario\":\"loss\",\"args\":[\"2\"],\"vantages\":{\"cn1\":\"cn1.pcap\","
		   "\"cn2\":\"cn2.pcap\"},\"migrations\":[{\"from\":\"cn1\",\"to\":\"cn2\"}]}");
	assert_true(add(t, fx, "lab", NULL, err) < 0);
	assert_non_null(strstr(err, "cn1.pcap"));
	assert_int_equal(series_table__nrows(t), 0);
	series_table__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nearest_rank),
		cmocka_unit_test(test_setting_of_name),
		cmocka_unit_test_setup_teardown(test_table_from_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
	};

	return cmocka_run_group_tests_name("series", tests, NULL, NULL);
}
