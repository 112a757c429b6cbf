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

#include "analysis/report.h"

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

/* Draws the timelines of migration m (index from 1): the whole window, then,
 * when the switchover is a small part of it, a zoom on the switchover. */
void html_timelines(FILE *out, const struct report *r, const struct report_migration *m,
		    int index);

#endif
