/*
 * Unit tests of the plot series: analysis/rate_series.c (throughput and
 * retransmits in bins of fixed memory) and analysis/report_plot.c (probe
 * decimation that keeps every lost probe and each bucket's extremes; copies
 * owned by the report and released by report_free, checked by ASan's leak
 * detector in the sanitizer build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/limits.h"
#include "analysis/rate_series.h"
#include "analysis/report_plot.h"
#include "reports/report.h"

#define T0 INT64_C(1700000000000000000)
#define MS INT64_C(1000000)

/* ---- rate_series ------------------------------------------------------ */

static void test_bins_start_at_first_byte(void **state)
{
	struct rate_series *s = calloc(1, sizeof(*s));

	(void)state;
	assert_non_null(s);
	rate_series_add(s, T0 + 50 * MS, 1000, false);   /* bin 0 is [50, 150) ms */
	rate_series_add(s, T0 + 149 * MS, 500, true);
	rate_series_add(s, T0 + 150 * MS, 2000, false);  /* bin 1 */
	rate_series_add(s, T0 + 420 * MS, 100, true);    /* bin 3 */
	rate_series_add(s, T0 + 40 * MS, 7, false);      /* before t0: bin 0 */
	assert_int_equal(s->t0_ns, T0 + 50 * MS);
	assert_int_equal(s->bin_ns, RATE_BIN_NS);
	assert_int_equal(s->nbins, 4);
	assert_int_equal(s->bin[0].bytes, 1507);
	assert_int_equal(s->bin[1].bytes, 2000);
	assert_int_equal(s->bin[2].bytes, 0);
	assert_int_equal(s->bin[3].bytes, 100);
	assert_int_equal(s->bin[0].retx, 1);
	assert_int_equal(s->bin[1].retx, 0);
	assert_int_equal(s->bin[3].retx, 1);
	rate_series_free(s);
	free(s);
}

/* Past the last bin, pairs merge and the width doubles: nothing is lost. */
static void test_fold_keeps_totals(void **state)
{
	struct rate_series *s = calloc(1, sizeof(*s));
	uint64_t total = 0, retx = 0, sum = 0, rsum = 0;

	(void)state;
	assert_non_null(s);
	for (int i = 0; i < 3 * RATE_SERIES_BINS; i++) {
		rate_series_add(s, T0 + i * RATE_BIN_NS, (uint64_t)i + 1, i % 7 == 0);
		total += (uint64_t)i + 1;
		retx += i % 7 == 0;
	}
	/* 3072 bins of 100 ms fit in 1024 of 400 ms */
	assert_int_equal(s->bin_ns, 4 * RATE_BIN_NS);
	assert_int_equal(s->nbins, 3 * RATE_SERIES_BINS / 4);
	assert_int_equal(s->t0_ns, T0);
	assert_true(s->cap <= RATE_SERIES_BINS);
	for (uint32_t b = 0; b < s->cap; b++) {
		sum += s->bin[b].bytes;
		rsum += s->bin[b].retx;
	}
	assert_int_equal(sum, total);
	assert_int_equal(rsum, retx);
	/* bin 1 of 400 ms holds the 100 ms bins 4..7: bytes 5 + 6 + 7 + 8 */
	assert_int_equal(s->bin[1].bytes, 26);
	rate_series_free(s);
	free(s);
}

/* A hostile stamp centuries later: a bounded number of folds, no overflow. */
static void test_far_stamp(void **state)
{
	struct rate_series *s = calloc(1, sizeof(*s));

	(void)state;
	assert_non_null(s);
	rate_series_add(s, 0, 10, false);
	rate_series_add(s, INT64_MAX, 20, true);
	assert_true(s->nbins <= RATE_SERIES_BINS);
	assert_true(s->bin_ns > 0);
	assert_int_equal(s->bin[0].bytes, 10);
	assert_int_equal(s->bin[s->nbins - 1].bytes, 20);
	assert_int_equal(s->bin[s->nbins - 1].retx, 1);
	rate_series_free(s);
	free(s);
}

/* ---- probe decimation -------------------------------------------------- */

static struct report_probe_point *probes(int n, int lost_every, int64_t spike_at)
{
	struct report_probe_point *p = calloc((size_t)n, sizeof(*p));

	assert_non_null(p);
	for (int i = 0; i < n; i++) {
		p[i].req_ns = T0 + (int64_t)i * 10 * MS;
		p[i].rtt_ns = 500000 + (i * 7919 % 1000) * 100; /* 0.5 .. 0.6 ms */
		if (lost_every && i % lost_every == 3)
			p[i].rtt_ns = REPORT_RTT_LOST;
	}
	if (spike_at >= 0)
		p[spike_at].rtt_ns = 900 * MS;
	return p;
}

static void test_small_sets_untouched(void **state)
{
	struct report_probe_point *p = probes(100, 10, -1), *copy = probes(100, 10, -1);

	(void)state;
	assert_int_equal(probe_points_decimate(p, 100, REPORT_MAX_PROBE_POINTS), 100);
	assert_memory_equal(p, copy, 100 * sizeof(*p));
	free(p);
	free(copy);
}

static void test_keeps_lost_and_extremes(void **state)
{
	enum { N = 40000, CAP = 4096 };
	struct report_probe_point *p = probes(N, 200, 12345);
	int64_t min_rtt = INT64_MAX, lost = 0, kept_lost = 0;
	int n;

	(void)state;
	for (int i = 0; i < N; i++) {
		lost += p[i].rtt_ns == REPORT_RTT_LOST;
		if (p[i].rtt_ns != REPORT_RTT_LOST && p[i].rtt_ns < min_rtt)
			min_rtt = p[i].rtt_ns;
	}
	n = probe_points_decimate(p, N, CAP);
	assert_true(n <= CAP);
	assert_true(n > CAP / 2); /* the budget is used, not wasted */
	for (int i = 0; i < n; i++) {
		kept_lost += p[i].rtt_ns == REPORT_RTT_LOST;
		if (i)
			assert_true(p[i].req_ns > p[i - 1].req_ns);
	}
	assert_int_equal(kept_lost, lost); /* 200 lost: every one */
	{
		bool spike = false, floor = false;

		for (int i = 0; i < n; i++) {
			spike |= p[i].rtt_ns == 900 * MS && p[i].req_ns == T0 + 12345 * 10 * MS;
			floor |= p[i].rtt_ns == min_rtt;
		}
		assert_true(spike);
		assert_true(floor);
	}
	free(p);
}

/* An unreachable guest for hours: lost probes beyond the cap are thinned
 * evenly, over the whole span. */
static void test_mostly_lost(void **state)
{
	enum { N = 100000, CAP = 4096 };
	struct report_probe_point *p = probes(N, 0, -1);
	int n, lost = 0;

	(void)state;
	for (int i = 1000; i < N; i++)
		p[i].rtt_ns = REPORT_RTT_LOST;
	n = probe_points_decimate(p, N, CAP);
	assert_true(n <= CAP);
	for (int i = 0; i < n; i++)
		lost += p[i].rtt_ns == REPORT_RTT_LOST;
	assert_int_equal(lost, CAP * 3 / 4);
	assert_int_equal(p[n - 1].req_ns, T0 + (int64_t)(N - 1) * 10 * MS); /* to the end */
	free(p);
}

static void test_tiny_cap(void **state)
{
	struct report_probe_point *p = probes(50, 2, -1);

	(void)state;
	assert_true(probe_points_decimate(p, 50, 4) <= 4);
	free(p);
}

/* ---- into the report --------------------------------------------------- */

static void test_report_owns_series(void **state)
{
	struct report r;
	struct rate_series *s = calloc(1, sizeof(*s));

	(void)state;
	assert_non_null(s);
	memset(&r, 0, sizeof(r));
	r.migrations = calloc(1, sizeof(*r.migrations));
	assert_non_null(r.migrations);
	r.nmigrations = 1;
	rate_series_add(s, T0, 100, false);
	rate_series_add(s, T0 + 250 * MS, 300, true);
	assert_int_equal(report_plot_rate(&r.migrations[0], s, "src"), 0);
	assert_int_equal(r.migrations[0].plot.nrate, 3);
	assert_int_equal(r.migrations[0].plot.rate[2].start_ns, T0 + 200 * MS);
	assert_int_equal(r.migrations[0].plot.rate[2].bytes, 300);
	assert_int_equal(r.migrations[0].plot.rate[2].retx_segments, 1);
	assert_int_equal(r.migrations[0].plot.rate_bin_ns, RATE_BIN_NS);
	assert_string_equal(r.migrations[0].plot.rate_vantage, "src");
	report_plot_probes(&r.migrations[0], probes(9000, 50, -1), 9000);
	assert_true(r.migrations[0].plot.probes_decimated);
	assert_true(r.migrations[0].plot.nprobes <= REPORT_MAX_PROBE_POINTS);
	report_free(&r); /* the leak check of the ASan build sees the rest */
	rate_series_free(s);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bins_start_at_first_byte),
		cmocka_unit_test(test_fold_keeps_totals),
		cmocka_unit_test(test_far_stamp),
		cmocka_unit_test(test_small_sets_untouched),
		cmocka_unit_test(test_keeps_lost_and_extremes),
		cmocka_unit_test(test_mostly_lost),
		cmocka_unit_test(test_tiny_cap),
		cmocka_unit_test(test_report_owns_series),
	};

	return cmocka_run_group_tests_name("report_plot", tests, NULL, NULL);
}
