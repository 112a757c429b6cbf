/*
 * The report's warnings list (analysis/report.c): caps reached
 * (report_warn_limit) are never left out, they come first, and other
 * warnings past the room are counted in a last line "N more warnings not
 * shown" (F7 of the fuzz findings: 70 streams in, 64 reported, and the cap's
 * warning lost behind 16 others).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reports/report.h"

static void check_line(const struct report *r, int i, const char *want)
{
	assert_true(i < r->nwarnings);
	if (strcmp(r->warnings[i], want))
		fail_msg("warning %d: '%s', expected '%s'", i, r->warnings[i], want);
}

static void test_room_enough(void **state)
{
	struct report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	report_warn(&r, "first %d", 1);
	report_warn_limit(&r, "cap %s", "A");
	report_warn(&r, "second");
	assert_int_equal(r.nwarnings, 3);
	assert_int_equal(r.nlimit_warnings, 1);
	assert_int_equal(r.more_warnings, 0);
	check_line(&r, 0, "cap A");
	check_line(&r, 1, "first 1");
	check_line(&r, 2, "second");
}

static void test_others_past_the_room_are_counted(void **state)
{
	struct report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < REPORT_MAX_WARNINGS; i++)
		report_warn(&r, "w%d", i);
	assert_int_equal(r.nwarnings, REPORT_MAX_WARNINGS);
	assert_int_equal(r.more_warnings, 0);
	report_warn(&r, "w%d", REPORT_MAX_WARNINGS);
	/* the count takes the last line: that warning and the new one */
	assert_int_equal(r.nwarnings, REPORT_MAX_WARNINGS);
	assert_int_equal(r.more_warnings, 2);
	check_line(&r, REPORT_MAX_WARNINGS - 2, "w14");
	check_line(&r, REPORT_MAX_WARNINGS - 1, "2 more warnings not shown");
	report_warn(&r, "w17");
	check_line(&r, REPORT_MAX_WARNINGS - 1, "3 more warnings not shown");
}

/* F7's order of events: many warnings first, the caps at the end. */
static void test_caps_after_a_full_list(void **state)
{
	struct report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 40; i++)
		report_warn(&r, "w%d", i);
	report_warn_limit(&r, "flows cap");
	report_warn_limit(&r, "guest cap");
	assert_int_equal(r.nwarnings, REPORT_MAX_WARNINGS);
	assert_int_equal(r.nlimit_warnings, 2);
	check_line(&r, 0, "flows cap");
	check_line(&r, 1, "guest cap");
	check_line(&r, 2, "w0");
	/* 16 lines: 2 caps, w0..w12, the count of the other 27 */
	check_line(&r, REPORT_MAX_WARNINGS - 2, "w12");
	check_line(&r, REPORT_MAX_WARNINGS - 1, "27 more warnings not shown");
	assert_int_equal(r.more_warnings, 27);
}

/* A full list without a count line yet: a cap takes one line, the count
 * another. */
static void test_cap_into_a_list_just_full(void **state)
{
	struct report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < REPORT_MAX_WARNINGS; i++)
		report_warn(&r, "w%d", i);
	report_warn_limit(&r, "cap");
	assert_int_equal(r.nwarnings, REPORT_MAX_WARNINGS);
	check_line(&r, 0, "cap");
	check_line(&r, 1, "w0");
	check_line(&r, REPORT_MAX_WARNINGS - 2, "w13");
	check_line(&r, REPORT_MAX_WARNINGS - 1, "2 more warnings not shown");
	/* and later warnings only move the count */
	report_warn(&r, "late");
	check_line(&r, REPORT_MAX_WARNINGS - 1, "3 more warnings not shown");
	check_line(&r, 0, "cap");
}

/* More caps than the analyzer raises still leave room, and a count. */
static void test_cap_of_caps(void **state)
{
	struct report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 30; i++)
		report_warn(&r, "w%d", i);
	for (int i = 0; i < REPORT_MAX_LIMIT_WARNINGS + 2; i++)
		report_warn_limit(&r, "cap %d", i);
	assert_int_equal(r.nwarnings, REPORT_MAX_WARNINGS);
	assert_int_equal(r.nlimit_warnings, REPORT_MAX_LIMIT_WARNINGS);
	for (int i = 0; i < REPORT_MAX_LIMIT_WARNINGS; i++) {
		char want[16];

		snprintf(want, sizeof(want), "cap %d", i);
		check_line(&r, i, want);
	}
	check_line(&r, REPORT_MAX_LIMIT_WARNINGS, "w0");
	/* 30 + 2 (the caps past 8, as other warnings) - 7 shown */
	check_line(&r, REPORT_MAX_WARNINGS - 1, "25 more warnings not shown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_enough),
		cmocka_unit_test(test_others_past_the_room_are_counted),
		cmocka_unit_test(test_caps_after_a_full_list),
		cmocka_unit_test(test_cap_into_a_list_just_full),
		cmocka_unit_test(test_cap_of_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
