#include "series/render_series.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "reports/units.h"

enum { CELL_LEN = SERIES_VERDICTS_LEN + SERIES_NAME_LEN };

/* A value as a cell: ms with three decimals for times, exact counts. */
static void value_text(enum series_col c, struct opt_i64 v, char *buf, size_t len)
{
	if (!v.set)
		snprintf(buf, len, "-");
	else if (series_col_is_time(c))
		format_ms(v.v, buf, len);
	else
		snprintf(buf, len, "%" PRId64, v.v);
}

/* ---- text ------------------------------------------------------------ */

enum {
	/* the runs table: setting, run, mig, the values, verdict */
	RUN_FIXED = 3, RUN_COLS = RUN_FIXED + SERIES_NCOLS + 1,
	/* the statistics table: setting, mig, runs, stat, the values, verdicts */
	STAT_FIXED = 4, STAT_COLS = STAT_FIXED + SERIES_NCOLS + 1,
	MAX_COLS = STAT_COLS,
};
static const char *const STAT_NAMES[] = { "mean", "median", "p95" };

static void header_text(int col, int fixed, const char *const *names, char *buf, size_t len)
{
	if (col < fixed)
		snprintf(buf, len, "%s", names[col]);
	else if (col < fixed + SERIES_NCOLS)
		snprintf(buf, len, "%s%s", series_col_title(col - fixed),
			 series_col_is_time(col - fixed) ? " (ms)" : "");
	else
		snprintf(buf, len, "%s", fixed == RUN_FIXED ? "verdict" : "verdicts");
}

static void run_cell(const struct series_row *r, int col, char *buf, size_t len)
{
	if (col == 0)
		snprintf(buf, len, "%s", r->setting);
	else if (col == 1)
		snprintf(buf, len, "%s", r->run);
	else if (col == 2)
		snprintf(buf, len, "%d", r->migration);
	else if (col < RUN_FIXED + SERIES_NCOLS)
		value_text(col - RUN_FIXED, r->v[col - RUN_FIXED], buf, len);
	else
		snprintf(buf, len, "%s", r->verdict);
}

static struct opt_i64 stat_value(const struct series_stat *s, int which)
{
	return which == 0 ? s->mean : which == 1 ? s->median : s->p95;
}

/* Line `which` (mean, median, p95) of group g: names only on the first. */
static void stat_cell(const struct series_group *g, int which, int col, char *buf, size_t len)
{
	buf[0] = '\0';
	if (col == 0 && !which)
		snprintf(buf, len, "%s", g->setting);
	else if (col == 1 && !which)
		snprintf(buf, len, "%d", g->migration);
	else if (col == 2 && !which)
		snprintf(buf, len, "%d", g->runs);
	else if (col == 3)
		snprintf(buf, len, "%s", STAT_NAMES[which]);
	else if (col >= STAT_FIXED && col < STAT_FIXED + SERIES_NCOLS)
		value_text(col - STAT_FIXED, stat_value(&g->col[col - STAT_FIXED], which), buf, len);
	else if (col == STAT_FIXED + SERIES_NCOLS && !which)
		snprintf(buf, len, "%s", g->verdicts);
}

static bool left_aligned(int col, int fixed, int ncols)
{
	return col == 0 || (fixed == RUN_FIXED && col == 1) || (fixed == STAT_FIXED && col == 3) ||
	       col == ncols - 1;
}

/* Cells go into a line, written out without trailing blanks at its end. */
struct line {
	char buf[2048];
	size_t used;
};

static void print_cell(FILE *out, struct line *l, const char *text, int width, bool left, bool last)
{
	int n = snprintf(l->buf + l->used, sizeof(l->buf) - l->used, left ? "%-*s  " : "%*s  ",
			 last ? 0 : width, text);

	if (n > 0)
		l->used += (size_t)n;
	if (l->used >= sizeof(l->buf))
		l->used = sizeof(l->buf) - 1;
	if (!last)
		return;
	while (l->used && l->buf[l->used - 1] == ' ')
		l->used--;
	fprintf(out, "%.*s\n", (int)l->used, l->buf);
	l->used = 0;
}

/* One table for people: `lines` rows of `ncols` cells after a header,
 * each column as wide as its widest cell. */
struct text_table {
	int ncols, fixed, lines;
	const char *const *names; /* of the first `fixed` columns */
	void (*cell)(const struct series_table *t, int line, int col, char *buf, size_t len);
};

static void text_table(const struct series_table *t, const struct text_table *tt, FILE *out)
{
	int width[MAX_COLS];
	char buf[CELL_LEN];
	struct line l = { .used = 0 };

	/* line -1 is the header */
	for (int pass = 0; pass < 2; pass++)
		for (int line = -1; line < tt->lines; line++)
			for (int c = 0; c < tt->ncols; c++) {
				if (line < 0)
					header_text(c, tt->fixed, tt->names, buf, sizeof(buf));
				else
					tt->cell(t, line, c, buf, sizeof(buf));
				if (pass == 0 && (line < 0 || (int)strlen(buf) > width[c]))
					width[c] = (int)strlen(buf);
				else if (pass == 1)
					print_cell(out, &l, buf, width[c],
						   left_aligned(c, tt->fixed, tt->ncols),
						   c == tt->ncols - 1);
			}
}

static void run_line(const struct series_table *t, int line, int col, char *buf, size_t len)
{
	run_cell(series_table__row(t, line), col, buf, len);
}

/* three lines per group: mean, median, p95 */
static void stat_line(const struct series_table *t, int line, int col, char *buf, size_t len)
{
	stat_cell(series_table__group(t, line / 3), line % 3, col, buf, len);
}

static void runs_table(const struct series_table *t, FILE *out)
{
	static const char *const names[RUN_FIXED] = { "setting", "run", "mig" };
	const struct text_table tt = { RUN_COLS, RUN_FIXED, series_table__nrows(t), names, run_line };

	text_table(t, &tt, out);
}

static void stats_table(const struct series_table *t, FILE *out)
{
	static const char *const names[STAT_FIXED] = { "setting", "mig", "runs", "stat" };
	const struct text_table tt = { STAT_COLS, STAT_FIXED, 3 * series_table__ngroups(t), names,
				       stat_line };

	text_table(t, &tt, out);
}

/* Where a statistic stands on fewer runs than its group has (a column no
 * run has a value in, such as the guest's flows of guests without traffic,
 * shows '-' and needs no note). */
static void partial_notes(const struct series_table *t, FILE *out)
{
	for (int g = 0; g < series_table__ngroups(t); g++) {
		const struct series_group *grp = series_table__group(t, g);

		for (int c = 0; c < SERIES_NCOLS; c++)
			if (grp->col[c].n && grp->col[c].n < grp->runs)
				fprintf(out, "  %s, migration %d: %s over %d of %d runs (no value in "
					"the others)\n", grp->setting, grp->migration,
					series_col_title(c), grp->col[c].n, grp->runs);
	}
}

int render_series_text(const struct series_table *t, FILE *out)
{
	fprintf(out, "migscope series: %d row(s), %d setting/migration group(s)\n\n",
		series_table__nrows(t), series_table__ngroups(t));
	runs_table(t, out);
	fprintf(out, "\nper setting and migration, over its runs: mean; median and p95 by nearest "
		"rank (values of the runs); '-' no value\n\n");
	stats_table(t, out);
	partial_notes(t, out);
	return ferror(out) ? -EIO : 0;
}

/* ---- CSV ------------------------------------------------------------- */

/* RFC 4180: quoted when it holds a comma, quote or line break. */
static void csv_text(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_value(FILE *out, enum series_col c, struct opt_i64 v)
{
	char buf[40];

	fputc(',', out);
	if (!v.set)
		return;
	if (series_col_is_time(c)) {
		format_us(v.v, buf, sizeof(buf));
		fputs(buf, out);
	} else {
		fprintf(out, "%" PRId64, v.v);
	}
}

/* "ok=3;stale_forwarding=1" from "ok 3, stale_forwarding 1" */
static void csv_verdicts(FILE *out, const char *verdicts)
{
	char buf[SERIES_VERDICTS_LEN];
	size_t n = 0;

	for (const char *s = verdicts; *s && n + 1 < sizeof(buf); s++) {
		if (*s == ',' && s[1] == ' ') {
			buf[n++] = ';';
			s++;
		} else {
			buf[n++] = *s == ' ' ? '=' : *s;
		}
	}
	buf[n] = '\0';
	csv_text(out, buf);
}

int render_series_csv(const struct series_table *t, FILE *out)
{
	fputs("row,setting,run,migration,runs", out);
	for (int c = 0; c < SERIES_NCOLS; c++)
		fprintf(out, ",%s", series_col_csv(c));
	fputs(",verdict\n", out);
	for (int i = 0; i < series_table__nrows(t); i++) {
		const struct series_row *r = series_table__row(t, i);

		fputs("run,", out);
		csv_text(out, r->setting);
		fputc(',', out);
		csv_text(out, r->run);
		fprintf(out, ",%d,", r->migration);
		for (int c = 0; c < SERIES_NCOLS; c++)
			csv_value(out, c, r->v[c]);
		fputc(',', out);
		csv_text(out, r->verdict);
		fputc('\n', out);
	}
	for (int g = 0; g < series_table__ngroups(t); g++) {
		const struct series_group *grp = series_table__group(t, g);

		for (int w = 0; w < 3; w++) {
			fprintf(out, "%s,", STAT_NAMES[w]);
			csv_text(out, grp->setting);
			fprintf(out, ",,%d,%d", grp->migration, grp->runs);
			for (int c = 0; c < SERIES_NCOLS; c++)
				csv_value(out, c, stat_value(&grp->col[c], w));
			fputc(',', out);
			csv_verdicts(out, grp->verdicts);
			fputc('\n', out);
		}
	}
	return ferror(out) ? -EIO : 0;
}
