/*
 * assign - the assignment of least total cost: each row to at most one
 * column, each column to at most one row, over the edges given (a sparse
 * cost matrix; a missing edge is never taken). A row may stay unassigned at
 * the cost `unassigned`, which must exceed every edge's so that as many rows
 * as can be are assigned. The Hungarian method with potentials (Kuhn,
 * Munkres; Jonker and Volgenant's shortest augmenting paths), O(rows^2 x
 * columns) at worst: the rows here are migrations (MAX_GROUPS), the columns
 * announcement bursts.
 *
 * Ties are broken by the order of rows and edges, the same on every run.
 */
#ifndef MIGSCOPE_ASSIGN_H
#define MIGSCOPE_ASSIGN_H

#include <stdint.h>

struct assign_edge {
	int row, col;
	int64_t cost; /* >= 0 */
};

/* col_of[nrows]: each row's column, -1 for none. nrows * unassigned must fit
 * in an int64_t. Returns 0, -EINVAL (an edge out of range or costing
 * unassigned or more) or -ENOMEM. */
int assign_min_cost(const struct assign_edge *edges, int nedges, int nrows, int ncols,
		    int64_t unassigned, int *col_of);

#endif
