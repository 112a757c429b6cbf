/*
 * Where the labels of the timelines' event markers go (html.h). A
 * switchover puts several events within a few pixels of each other, so their
 * labels stack in rows above the plot, each joined to its marker by the
 * marker's own vertical line. The rules:
 *   - a label runs right of its line, or left of it where it would leave the
 *     plot on the right;
 *   - labels in one row do not overlap;
 *   - no line runs through a label: a line goes down from its label's row to
 *     the plot, so a label may only lie across lines whose labels sit below it.
 * Greedy, lowest row first: the labels that run right are placed right to
 * left (each then lies across lines already placed, and sits above them), the
 * ones that run left, left to right; a cluster becomes a staircase. Both
 * groups first are tried, and the layout with fewer crossings kept. Where no
 * row keeps every rule (two labels pointing at each other), the lowest row
 * without an overlap is taken and a line may cross a label.
 */
#include "reports/html.h"

/* Advance widths of DejaVu Sans (fc-match's system-ui on Debian, wider than
 * the usual UI fonts: an estimate from it leaves room with any of them), in
 * thousandths of an em, for ASCII 32..126; measured in Chromium. */
static const unsigned short ADVANCE[95] = {
	318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, /* ' '../ */
	636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, /* 0..? */
	1000, 705, 686, 699, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, /* @..O */
	603, 787, 695, 635, 598, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, /* P.._ */
	500, 613, 635, 550, 635, 615, 345, 635, 634, 278, 278, 579, 278, 974, 634, 612, /* `..o */
	635, 635, 398, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,      /* p..~ */
};

double html_text_w(const char *text, double font_px)
{
	double em = 0;

	for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
		if (*p >= 32 && *p < 127)
			em += ADVANCE[*p - 32] / 1000.0;
		else if ((*p & 0xc0) != 0x80) /* a UTF-8 character: count it an em */
			em += 1.0;
	}
	return em * font_px;
}

static double label_w(const struct html_mark *m)
{
	return html_text_w(m->label, HTML_MARK_FONT_PX) * (m->bold ? 1.15 : 1.0);
}

void html_mark_span(const struct html_mark *m, double *a, double *b)
{
	double w = label_w(m);

	*a = m->left ? m->x - HTML_MARK_PAD - w : m->x + HTML_MARK_PAD;
	*b = m->left ? m->x - HTML_MARK_PAD : m->x + HTML_MARK_PAD + w;
}

/* x lies under the span [a, b], with a pixel of air */
static bool covers(double a, double b, double x)
{
	return x >= a - 1 && x <= b + 1;
}

/* What putting mark i in `row` breaks among the placed marks: -1 for an
 * overlap with a label of that row, else the lines through labels. */
static int conflicts(const struct html_mark *marks, const bool *placed, int n, int i, int row)
{
	double a, b, pa, pb;
	int crossed = 0;

	html_mark_span(&marks[i], &a, &b);
	for (int j = 0; j < n; j++) {
		const struct html_mark *p = &marks[j];

		if (!placed[j] || j == i)
			continue;
		html_mark_span(p, &pa, &pb);
		if (p->row == row && a < pb + HTML_MARK_GAP && pa < b + HTML_MARK_GAP)
			return -1;
		crossed += p->row < row && covers(pa, pb, marks[i].x); /* our line, its label */
		crossed += p->row > row && covers(a, b, p->x);         /* its line, our label */
	}
	return crossed;
}

/* One placing order: each group of labels from the end its labels run
 * towards (those running right, right to left: each then lies only across
 * lines placed before it, and sits above them); `right_first` says which
 * group goes first. */
static bool goes_before(const struct html_mark *a, const struct html_mark *b, bool right_first)
{
	if (a->left != b->left)
		return a->left != right_first;
	return a->left ? a->x < b->x : a->x > b->x;
}

/* Greedy, in that order: each label in the lowest row without an overlap
 * (n rows always leave one) that crosses the fewest lines. Returns the rows
 * used. */
static int place(struct html_mark *marks, int n, bool right_first)
{
	int order[HTML_MAX_MARKS], rows = 0;
	bool placed[HTML_MAX_MARKS] = { false };

	for (int i = 0; i < n; i++) { /* insertion sort: a handful of marks */
		int k = i;

		for (; k > 0 && goes_before(&marks[i], &marks[order[k - 1]], right_first); k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	for (int k = 0; k < n; k++) {
		int i = order[k], best = n - 1, fewest = -1;

		for (int row = 0; row < n && fewest != 0; row++) {
			int c = conflicts(marks, placed, n, i, row);

			if (c >= 0 && (fewest < 0 || c < fewest)) {
				best = row;
				fewest = c;
			}
		}
		marks[i].row = best;
		placed[i] = true;
		if (marks[i].row + 1 > rows)
			rows = marks[i].row + 1;
	}
	return rows;
}

/* Lines that run through a label in the layout as placed. */
static int crossings(const struct html_mark *marks, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double a, b;

			html_mark_span(&marks[j], &a, &b);
			bad += j != i && marks[j].row < marks[i].row && covers(a, b, marks[i].x);
		}
	return bad;
}

int html_marks_place(struct html_mark *marks, int n, double lo, double hi)
{
	int rows_a, cross_a, rows_b, cross_b, row_a[HTML_MAX_MARKS];

	if (n > HTML_MAX_MARKS)
		n = HTML_MAX_MARKS;
	for (int i = 0; i < n; i++) {
		double w = label_w(&marks[i]) + HTML_MARK_PAD;
		double short_right = marks[i].x + w - hi, short_left = lo - (marks[i].x - w);

		marks[i].left = short_right > 0 && short_left < short_right;
	}
	/* both orders (they differ only where labels run both ways), the one
	 * with fewer crossings, then fewer rows */
	rows_a = place(marks, n, true);
	cross_a = crossings(marks, n);
	for (int i = 0; i < n; i++)
		row_a[i] = marks[i].row;
	rows_b = place(marks, n, false);
	cross_b = crossings(marks, n);
	if (cross_a < cross_b || (cross_a == cross_b && rows_a <= rows_b)) {
		for (int i = 0; i < n; i++)
			marks[i].row = row_a[i];
		return rows_a;
	}
	return rows_b;
}
