/*
 * Unit tests of analysis/assign.c: the least total cost against every
 * assignment tried in turn (small random sparse matrices, rows left
 * unassigned at a price), a greedy trap nearest-first falls into, and the
 * errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/assign.h"

enum { MAXR = 6, MAXC = 6, NONE = -1 };

/* cost[r][c], NONE: no edge */
struct matrix {
	int rows, cols;
	int64_t cost[MAXR][MAXC];
	int64_t unassigned;
};

static int64_t total_of(const struct matrix *m, const int *col_of)
{
	int64_t sum = 0;

	for (int r = 0; r < m->rows; r++)
		sum += col_of[r] < 0 ? m->unassigned : m->cost[r][col_of[r]];
	return sum;
}

/* The least total over every assignment, by trying them all. */
static int64_t best_by_search(const struct matrix *m, int r, bool *col_used)
{
	int64_t best, sub;

	if (r == m->rows)
		return 0;
	best = m->unassigned + best_by_search(m, r + 1, col_used);
	for (int c = 0; c < m->cols; c++) {
		if (col_used[c] || m->cost[r][c] == NONE)
			continue;
		col_used[c] = true;
		sub = m->cost[r][c] + best_by_search(m, r + 1, col_used);
		col_used[c] = false;
		if (sub < best)
			best = sub;
	}
	return best;
}

static int solve(const struct matrix *m, int *col_of)
{
	struct assign_edge e[MAXR * MAXC];
	int n = 0;

	for (int r = 0; r < m->rows; r++)
		for (int c = 0; c < m->cols; c++)
			if (m->cost[r][c] != NONE)
				e[n++] = (struct assign_edge){ .row = r, .col = c, .cost = m->cost[r][c] };
	return assign_min_cost(e, n, m->rows, m->cols, m->unassigned, col_of);
}

/* xorshift: the same matrices on every run */
static uint32_t next_random(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_matches_exhaustive_search(void **state)
{
	uint32_t seed = 12345;

	(void)state;
	for (int trial = 0; trial < 3000; trial++) {
		struct matrix m = { .rows = 1 + (int)(next_random(&seed) % MAXR),
				    .cols = 1 + (int)(next_random(&seed) % MAXC) };
		bool used[MAXC] = { 0 }, seen[MAXC] = { 0 };
		int col_of[MAXR];

		/* small costs make ties, large ones make the price of a row left out
		 * matter; about a third of the edges missing */
		int64_t span = trial % 2 ? 5 : 1000000;

		m.unassigned = span * 3;
		for (int r = 0; r < m.rows; r++)
			for (int c = 0; c < m.cols; c++)
				m.cost[r][c] = next_random(&seed) % 3 == 0
						       ? NONE
						       : (int64_t)(next_random(&seed) % (uint32_t)span);
		assert_int_equal(solve(&m, col_of), 0);
		for (int r = 0; r < m.rows; r++) {
			if (col_of[r] < 0)
				continue;
			assert_true(col_of[r] < m.cols);
			assert_int_not_equal(m.cost[r][col_of[r]], NONE);
			assert_false(seen[col_of[r]]);
			seen[col_of[r]] = true;
		}
		assert_int_equal(total_of(&m, col_of), best_by_search(&m, 0, used));
	}
}

/* Three rows in a chain, each nearest to its neighbour's column: taken
 * nearest first, the last row gets the far one (3 + 3 + 38 = 44); the least
 * total is each its own (30). */
static void test_chain_nearest_first_misses(void **state)
{
	struct matrix m = { .rows = 3, .cols = 3, .unassigned = 1000,
			    .cost = { { 10, 3, NONE }, { NONE, 10, 3 }, { 38, NONE, 10 } } };
	int col_of[3];

	(void)state;
	assert_int_equal(solve(&m, col_of), 0);
	assert_int_equal(col_of[0], 0);
	assert_int_equal(col_of[1], 1);
	assert_int_equal(col_of[2], 2);
}

/* A row with no edge, and more rows than columns: the rest stay out. */
static void test_rows_left_out(void **state)
{
	struct matrix m = { .rows = 3, .cols = 1, .unassigned = 100,
			    .cost = { { 7 }, { NONE }, { 5 } } };
	int col_of[3];

	(void)state;
	assert_int_equal(solve(&m, col_of), 0);
	assert_int_equal(col_of[0], -1);
	assert_int_equal(col_of[1], -1);
	assert_int_equal(col_of[2], 0);
}

static void test_bad_edges(void **state)
{
	struct assign_edge e = { .row = 0, .col = 0, .cost = 100 };
	int col_of[1];

	(void)state;
	assert_int_equal(assign_min_cost(&e, 1, 1, 1, 100, col_of), -EINVAL); /* not < unassigned */
	e.cost = -1;
	assert_int_equal(assign_min_cost(&e, 1, 1, 1, 100, col_of), -EINVAL);
	e = (struct assign_edge){ .row = 1, .col = 0, .cost = 1 };
	assert_int_equal(assign_min_cost(&e, 1, 1, 1, 100, col_of), -EINVAL);
	e = (struct assign_edge){ .row = 0, .col = 1, .cost = 1 };
	assert_int_equal(assign_min_cost(&e, 1, 1, 1, 100, col_of), -EINVAL);
	assert_int_equal(assign_min_cost(NULL, 0, 1, 0, 100, col_of), 0);
	assert_int_equal(col_of[0], -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_exhaustive_search),
		cmocka_unit_test(test_chain_nearest_first_misses),
		cmocka_unit_test(test_rows_left_out),
		cmocka_unit_test(test_bad_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
