/*
 * Unit tests of the timelines' marker labels (reports/html_marks.c): the
 * clusters the lab's switchovers produce (events 0.02 ms apart on a 3 s zoom,
 * at the plot's right edge), marks far apart, labels pointing at each other,
 * and random sets: labels of one row never overlap, and, wherever a layout
 * without a crossing exists by construction, no line runs through a label.
 * The same rules are checked on the rendered pages by tests/e2e/html.sh with
 * Chromium's own text metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reports/html.h"

enum { LO = 4, HI = 1196 };

/* Same-row overlaps, with the gap the placer keeps. */
static int overlaps(const struct html_mark *m, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			double a, b, c, d;

			html_mark_span(&m[i], &a, &b);
			html_mark_span(&m[j], &c, &d);
			bad += m[i].row == m[j].row && a < d + HTML_MARK_GAP && c < b + HTML_MARK_GAP;
		}
	return bad;
}

/* Lines through labels: mark i's line runs from its row down to the plot. */
static int crossings(const struct html_mark *m, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double a, b;

			if (i == j)
				continue;
			html_mark_span(&m[j], &a, &b);
			bad += m[j].row < m[i].row && m[i].x > a && m[i].x < b;
		}
	return bad;
}

static int outside(const struct html_mark *m, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		double a, b;

		html_mark_span(&m[i], &a, &b);
		bad += a < LO || b > HI;
	}
	return bad;
}

static int max_row(const struct html_mark *m, int n)
{
	int r = -1;

	for (int i = 0; i < n; i++)
		r = m[i].row > r ? m[i].row : r;
	return r;
}

static void test_text_width(void **state)
{
	(void)state;
	/* Chromium's DejaVu Sans at 11 px: "first request at dst" is 101.9 px */
	assert_true(html_text_w("first request at dst", 11) > 101.5);
	assert_true(html_text_w("first request at dst", 11) < 102.5);
	assert_true(html_text_w("", 11) == 0);
	assert_true(html_text_w(NULL, 11) == 0);
	/* a multi-byte character counts one em, never its bytes */
	assert_true(html_text_w("\xe2\x88\x92", 10) == 10);
}

/* port-not-ready's zoom: five events within 13 px at the plot's right, then
 * two at the same pixel (first reply from dst, at the prober: 23 us apart). */
static void test_cluster_at_right_edge(void **state)
{
	struct html_mark m[] = {
		{ .x = 1102, .label = "last request at src" },
		{ .x = 1103.4, .label = "first announce at prober" },
		{ .x = 1108.5, .label = "first request at dst", .bold = true },
		{ .x = 1115.2, .label = "first reply from dst" },
		{ .x = 1115.2, .label = "first reply at prober", .bold = true },
		{ .x = 1170, .label = "resume", .bold = true },
	};
	int n = (int)(sizeof(m) / sizeof(m[0])), rows;

	(void)state;
	rows = html_marks_place(m, n, LO, HI);
	assert_int_equal(overlaps(m, n), 0);
	assert_int_equal(crossings(m, n), 0);
	assert_int_equal(outside(m, n), 0);
	assert_int_equal(rows, max_row(m, n) + 1);
	assert_true(rows <= n);
	/* no room on the right: the labels run left */
	for (int i = 0; i < n; i++)
		assert_true(m[i].left);
}

/* baseline's overview: stream end, resume, first request at dst and first
 * reply at the prober within 2 px; stream start far to the left. */
static void test_staircase(void **state)
{
	struct html_mark m[] = {
		{ .x = 530.0, .label = "stream end" },
		{ .x = 530.4, .label = "resume", .bold = true },
		{ .x = 531.0, .label = "first request at dst", .bold = true },
		{ .x = 532.3, .label = "first reply at prober", .bold = true },
		{ .x = 300.0, .label = "stream start" },
	};
	int n = (int)(sizeof(m) / sizeof(m[0]));

	(void)state;
	assert_int_equal(html_marks_place(m, n, LO, HI), 4);
	assert_int_equal(overlaps(m, n), 0);
	assert_int_equal(crossings(m, n), 0);
	/* right-running labels: the later event sits lower, nearest the plot */
	assert_int_equal(m[3].row, 0);
	assert_int_equal(m[0].row, 3);
	assert_int_equal(m[4].row, 0);
	for (int i = 0; i < n; i++)
		assert_false(m[i].left);
}

static void test_far_apart_one_row(void **state)
{
	struct html_mark m[6];

	(void)state;
	for (int i = 0; i < 6; i++)
		m[i] = (struct html_mark){ .x = 40 + i * 190.0, .label = "first reply at prober" };
	assert_int_equal(html_marks_place(m, 6, LO, HI), 1);
	assert_int_equal(overlaps(m, 6), 0);
	assert_int_equal(outside(m, 6), 0);
}

/* A label running right and one running left, each over the other's line:
 * no layout keeps both lines clear, but labels still never overlap. */
static void test_pointing_at_each_other(void **state)
{
	struct html_mark m[] = {
		{ .x = 1050, .label = "first announce at prober" },
		{ .x = 1140, .label = "last request delivered to the source NIC" },
	};

	(void)state;
	html_marks_place(m, 2, LO, HI);
	assert_false(m[0].left);
	assert_true(m[1].left);
	assert_int_equal(overlaps(m, 2), 0);
	assert_int_equal(outside(m, 2), 0);
}

/* A label running right over the line of one running left whose own label
 * clears the first line: only placing the left-running one first keeps both
 * lines clear (it takes the lower row). */
static void test_both_ways(void **state)
{
	struct html_mark m[] = {
		{ .x = 1040, .label = "first announce at prober" },
		{ .x = 1150, .label = "resume", .bold = true },
	};

	(void)state;
	assert_int_equal(html_marks_place(m, 2, LO, HI), 2);
	assert_false(m[0].left);
	assert_true(m[1].left);
	assert_int_equal(m[1].row, 0);
	assert_int_equal(m[0].row, 1);
	assert_int_equal(crossings(m, 2), 0);
	assert_int_equal(overlaps(m, 2), 0);
}

static void test_none_and_too_many(void **state)
{
	struct html_mark m[HTML_MAX_MARKS + 4];

	(void)state;
	assert_int_equal(html_marks_place(m, 0, LO, HI), 0);
	for (int i = 0; i < HTML_MAX_MARKS + 4; i++)
		m[i] = (struct html_mark){ .x = 600, .label = "resume", .row = -7 };
	/* only the first HTML_MAX_MARKS are placed; the rest are left as given */
	assert_int_equal(html_marks_place(m, HTML_MAX_MARKS + 4, LO, HI), HTML_MAX_MARKS);
	assert_int_equal(overlaps(m, HTML_MAX_MARKS), 0);
	assert_int_equal(crossings(m, HTML_MAX_MARKS), 0);
	assert_int_equal(m[HTML_MAX_MARKS].row, -7);
}

/* Random sets (fixed seed): never an overlap; and with every label running
 * right (marks on the left half) no crossing either. */
static void test_random(void **state)
{
	static const char *const labels[] = { "resume", "stream end", "first reply at prober",
					      "guest's last frame at src", "first request at dst" };
	struct html_mark m[HTML_MAX_MARKS];

	(void)state;
	srand(5);
	for (int trial = 0; trial < 2000; trial++) {
		int n = 1 + rand() % HTML_MAX_MARKS, rows;
		bool left_half = trial % 2;

		for (int i = 0; i < n; i++) {
			double x = left_half ? 150 + rand() % 400 : 132 + rand() % 1044;

			m[i] = (struct html_mark){ .x = x, .label = labels[rand() % 5],
						   .bold = rand() % 2 };
		}
		rows = html_marks_place(m, n, LO, HI);
		assert_int_equal(overlaps(m, n), 0);
		assert_true(rows >= 1 && rows <= n);
		if (left_half)
			assert_int_equal(crossings(m, n), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_width),
		cmocka_unit_test(test_cluster_at_right_edge),
		cmocka_unit_test(test_staircase),
		cmocka_unit_test(test_far_apart_one_row),
		cmocka_unit_test(test_pointing_at_each_other),
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_none_and_too_many),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
