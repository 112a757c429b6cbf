/*
 * render - the report in each output format. All write to a caller-owned FILE
 * and return 0, or -EIO when the stream reports an error.
 * JSON follows REPORT_SCHEMA ("migscope.report.v1"): names are a contract.
 */
#ifndef MIGSCOPE_RENDER_H
#define MIGSCOPE_RENDER_H

#include <stdio.h>

#include "reports/report.h"

int render_json(const struct report *r, FILE *out);
int render_text(const struct report *r, FILE *out);
int render_csv(const struct report *r, FILE *out);
/* One self-contained page: inline CSS and SVG timelines, nothing to fetch. */
int render_html(const struct report *r, FILE *out);
/* Prometheus' exposition (OpenMetrics text): a sample per migration. */
int render_openmetrics(const struct report *r, FILE *out);
/* "RARP", "GARP", "NA" (enum report_announce_kind) */
const char *announce_kind_name(int kind);
/* s, or "-" where the model holds no value ("" or NULL): hosts, guest addresses */
const char *or_dash(const char *s);

/* The switchover block (render_switchover.c): timeline and announce schedule
 * for the text report; `completed`, `timeline` and `announce_schedule` keys
 * for JSON. */
struct json_writer;
void render_switchover_text(FILE *out, const struct report_migration *m, const struct report *r);
void render_switchover_json(struct json_writer *w, const struct report_migration *m,
			    const struct report *r);
/* What the reports call a timeline event (`timeline[].event`): the text
 * report's words, and a plot marker's short label. Unknown: the name itself. */
const char *switchover_event_text(const char *event);
const char *switchover_event_label(const char *event);

#endif
