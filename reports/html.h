/*
 * html - what the HTML report's files share (render_html.c writes the page,
 * html_timeline.c its SVG timelines): escaping, number formats and axis
 * ticks. Everything writes to a caller-owned FILE; nothing allocates.
 */
#ifndef MIGSCOPE_HTML_H
#define MIGSCOPE_HTML_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "reports/report.h"

/* s with & < > " ' as entities and control bytes as U+FFFD, so any file
 * name or label is inert in text and in attribute values. NULL: nothing. */
void html_esc(FILE *out, const char *s);
/* printf into a bounded buffer, then html_esc */
void html_escf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "87.874 ms", or "n/a" */
const char *html_ms(struct opt_i64 ns, char *buf, size_t len);
/* 74831504 -> "74 831 504" */
const char *html_digits(uint64_t v, char *buf, size_t len);

/* Ticks for an axis over [lo, hi]: a step of 1, 2 or 5 x 10^k giving about
 * `want` intervals; *first is the first multiple of the step >= lo. */
double html_tick_step(double lo, double hi, int want);
double html_tick_first(double lo, double step);

/* The name people read for a vantage: "source NIC", "destination NIC",
 * "prober"; other labels as they are. */
const char *html_vantage_name(const char *vantage);

/* Width of text in px at font_px in the page's sans-serif, estimated from
 * DejaVu Sans (wide: other UI fonts come out narrower). */
double html_text_w(const char *text, double font_px);

/* Event markers on a timeline (html_marks.c): each a vertical line at x with
 * a label in one of the rows above the plot, placed so that labels do not
 * overlap and no line runs through a label. */
enum { HTML_MAX_MARKS = 16, HTML_MARK_PAD = 4, HTML_MARK_GAP = 8 };
#define HTML_MARK_FONT_PX 11.0
struct html_mark {
	double x;          /* the marker, SVG units */
	const char *label; /* borrowed */
	bool bold;         /* set in semi-bold (600), about 15 % wider */
	int row;           /* out: 0 is the row nearest the plot */
	bool left;         /* out: the label ends HTML_MARK_PAD left of the line */
};
/* Places the labels of marks[0..n) (at most HTML_MAX_MARKS, any order) for a
 * plot spanning [lo, hi]; returns the number of rows used. */
int html_marks_place(struct html_mark *marks, int n, double lo, double hi);
/* The horizontal extent [*a, *b] of a placed mark's label. */
void html_mark_span(const struct html_mark *m, double *a, double *b);

/* The events the verdict turns on (resume, first request at dst, first reply
 * at the prober): bold in the table, drawn in both views of the plots. */
bool html_key_event(const char *event);
/* The switchover block of migration m (html_switchover.c): the timeline
 * table and the announce schedule grid per burst, with the guest's own
 * announcements. */
void html_switchover(FILE *out, const struct report *r, const struct report_migration *m);

/* Draws the timelines of migration m (index from 1): the whole window, then,
 * when the switchover is a small part of it, a zoom on the switchover. */
void html_timelines(FILE *out, const struct report *r, const struct report_migration *m,
		    int index);

#endif
