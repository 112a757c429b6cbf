#include "analysis/assign.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

/* Working state: rows and columns numbered from 1 (0 is the augmenting
 * path's root), row r's own "unassigned" column at ncols + r. */
struct hungarian {
	int ncols, total;  /* total: ncols and a column of its own per row */
	const struct assign_edge *edges;
	int *row_start;    /* row r's edges: by_row[row_start[r] .. row_start[r + 1]) */
	int *by_row;
	int64_t unassigned;
	int64_t *u, *v;    /* potentials of rows and columns */
	int64_t *minv;     /* least reduced cost into each column from the tree */
	int *match;        /* match[c]: the row in column c, 0: none */
	int *way;          /* the column before c on the path */
	bool *used;
};

static void scan_row(struct hungarian *h, int i0, int j0)
{
	int c = h->ncols + i0;
	int64_t cur;

	for (int k = h->row_start[i0]; k < h->row_start[i0 + 1]; k++) {
		const struct assign_edge *e = &h->edges[h->by_row[k]];
		int j = e->col + 1;

		if (h->used[j])
			continue;
		cur = e->cost - h->u[i0] - h->v[j];
		if (cur < h->minv[j]) {
			h->minv[j] = cur;
			h->way[j] = j0;
		}
	}
	if (!h->used[c]) {
		cur = h->unassigned - h->u[i0] - h->v[c];
		if (cur < h->minv[c]) {
			h->minv[c] = cur;
			h->way[c] = j0;
		}
	}
}

/* Row i into the assignment by a shortest augmenting path. */
static void augment(struct hungarian *h, int i)
{
	int j0 = 0, j1;

	h->match[0] = i;
	for (int j = 0; j <= h->total; j++) {
		h->minv[j] = INT64_MAX;
		h->used[j] = false;
	}
	do {
		int64_t delta = INT64_MAX;

		h->used[j0] = true;
		scan_row(h, h->match[j0], j0);
		j1 = 0;
		for (int j = 1; j <= h->total; j++)
			if (!h->used[j] && h->minv[j] < delta) {
				delta = h->minv[j];
				j1 = j;
			}
		/* row i's own column is always within reach: delta is finite */
		for (int j = 0; j <= h->total; j++) {
			if (h->used[j]) {
				h->u[h->match[j]] += delta;
				h->v[j] -= delta;
			} else if (h->minv[j] != INT64_MAX) {
				h->minv[j] -= delta;
			}
		}
		j0 = j1;
	} while (h->match[j0]);
	do {
		j1 = h->way[j0];
		h->match[j0] = h->match[j1];
		j0 = j1;
	} while (j0);
}

int assign_min_cost(const struct assign_edge *edges, int nedges, int nrows, int ncols,
		    int64_t unassigned, int *col_of)
{
	struct hungarian h = { .ncols = ncols, .total = ncols + nrows,
			       .edges = edges, .unassigned = unassigned };
	size_t cols = (size_t)h.total + 1, rows = (size_t)nrows + 2;
	int rc = 0;

	for (int k = 0; k < nedges; k++)
		if (edges[k].row < 0 || edges[k].row >= nrows || edges[k].col < 0 ||
		    edges[k].col >= ncols || edges[k].cost < 0 || edges[k].cost >= unassigned)
			return -EINVAL;
	h.row_start = calloc(rows, sizeof(*h.row_start));
	h.by_row = calloc((size_t)nedges + 1, sizeof(*h.by_row));
	h.u = calloc(rows, sizeof(*h.u));
	h.v = calloc(cols, sizeof(*h.v));
	h.minv = calloc(cols, sizeof(*h.minv));
	h.match = calloc(cols, sizeof(*h.match));
	h.way = calloc(cols, sizeof(*h.way));
	h.used = calloc(cols, sizeof(*h.used));
	if (!h.row_start || !h.by_row || !h.u || !h.v || !h.minv || !h.match || !h.way ||
	    !h.used) {
		rc = -ENOMEM;
		goto out;
	}
	/* the edges by row (1-based), in their given order within a row */
	for (int k = 0; k < nedges; k++)
		h.row_start[edges[k].row + 2]++;
	for (int r = 1; r <= nrows; r++)
		h.row_start[r + 1] += h.row_start[r];
	for (int k = 0; k < nedges; k++)
		h.by_row[h.row_start[edges[k].row + 1]++] = k;
	/* row_start[r + 1] now ends row r; row r starts where row r - 1 ended */
	for (int r = nrows; r >= 1; r--)
		h.row_start[r] = h.row_start[r - 1];
	h.row_start[0] = 0;
	for (int i = 1; i <= nrows; i++)
		augment(&h, i);
	for (int r = 0; r < nrows; r++)
		col_of[r] = -1;
	for (int j = 1; j <= ncols; j++)
		if (h.match[j])
			col_of[h.match[j] - 1] = j - 1;
out:
	free(h.row_start);
	free(h.by_row);
	free(h.u);
	free(h.v);
	free(h.minv);
	free(h.match);
	free(h.way);
	free(h.used);
	return rc;
}
