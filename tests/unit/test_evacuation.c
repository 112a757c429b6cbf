/*
 * Unit tests of analysis/evacuation.c: the summary of many migrations (a
 * drained host): distinct guests, the most streams at once, downtime worst /
 * median / p95 by nearest rank (the probe gap, else the guest silence), bytes,
 * span, verdict counts, and the migrations ordered worst first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/evacuation.h"

#define MS INT64_C(1000000)

/* Migration i: guest `mac`, stream [start, end] in ms, downtime from the
 * probe gap (gap > 0) or the guest silence (gap < 0), 0 = none. */
static void mig(struct report_migration *m, const char *mac, int64_t start, int64_t end,
		int64_t gap, const char *verdict, uint64_t bytes)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->guest.mac, sizeof(m->guest.mac), "%s", mac);
	m->guest.known = true;
	m->stream.start_ns = opt_some(start * MS);
	m->stream.end_ns = opt_some(end * MS);
	if (gap > 0)
		m->downtime.probe_gap_ns = opt_some(gap * MS);
	else if (gap < 0)
		m->downtime.guest_silence_ns = opt_some(-gap * MS);
	m->verdict.code = verdict;
	m->stream.at_src.present = true;
	m->stream.at_src.payload_bytes = bytes;
}

static void test_summary(void **state)
{
	struct report r = { 0 };

	(void)state;
	r.migrations = calloc(5, sizeof(*r.migrations));
	assert_non_null(r.migrations);
	r.nmigrations = 5;
	/* three at once, then two one after another; guest a twice */
	mig(&r.migrations[0], "a", 0, 1000, 120, "ok", 10);
	mig(&r.migrations[1], "b", 100, 1200, 900, "stale_forwarding", 20);
	mig(&r.migrations[2], "c", 200, 900, -80, "ok", 30);   /* no probes: its silence */
	mig(&r.migrations[3], "d", 5000, 6000, 0, "insufficient_data", 40); /* no figure */
	mig(&r.migrations[4], "a", 7000, 8000, 300, "ok", 50);
	assert_int_equal(evacuation_fill(&r), 0);
	assert_true(r.evacuation.set);
	assert_int_equal(r.evacuation.guests, 4);
	assert_int_equal(r.evacuation.max_concurrent, 3);
	assert_int_equal(r.evacuation.measured, 4);
	assert_int_equal(r.evacuation.worst_ns.v, 900 * MS);
	/* 80, 120, 300, 900: the lower middle, and p95 of 4 is the largest */
	assert_int_equal(r.evacuation.median_ns.v, 120 * MS);
	assert_int_equal(r.evacuation.p95_ns.v, 900 * MS);
	assert_int_equal(r.evacuation.total_bytes, 150);
	assert_int_equal(r.evacuation.duration_ns.v, 8000 * MS);
	assert_int_equal(r.evacuation.nverdicts, 3);
	assert_string_equal(r.evacuation.verdicts[0].code, "ok");
	assert_int_equal(r.evacuation.verdicts[0].count, 3);
	assert_string_equal(r.evacuation.verdicts[1].code, "stale_forwarding");
	assert_int_equal(r.evacuation.verdicts[2].count, 1);
	/* worst first; the one without a downtime last */
	assert_int_equal(r.evacuation.worst_first[0], 1);
	assert_int_equal(r.evacuation.worst_first[1], 4);
	assert_int_equal(r.evacuation.worst_first[2], 0);
	assert_int_equal(r.evacuation.worst_first[3], 2);
	assert_int_equal(r.evacuation.worst_first[4], 3);
	report_free(&r);
	assert_null(r.evacuation.worst_first);
}

/* One migration is no evacuation: nothing summarized. */
static void test_one_migration(void **state)
{
	struct report r = { 0 };

	(void)state;
	r.migrations = calloc(1, sizeof(*r.migrations));
	assert_non_null(r.migrations);
	r.nmigrations = 1;
	mig(&r.migrations[0], "a", 0, 1000, 120, "ok", 10);
	assert_int_equal(evacuation_fill(&r), 0);
	assert_false(r.evacuation.set);
	assert_null(r.evacuation.worst_first);
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_one_migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
