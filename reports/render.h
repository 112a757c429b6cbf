/*
 * render - the report in each output format. All write to a caller-owned FILE
 * and return 0, or -EIO when the stream reports an error.
 * JSON follows REPORT_SCHEMA ("migscope.report.v1"): names are a contract.
 */
#ifndef MIGSCOPE_RENDER_H
#define MIGSCOPE_RENDER_H

#include <stdio.h>

#include "analysis/report.h"

int render_json(const struct report *r, FILE *out);
int render_text(const struct report *r, FILE *out);
int render_csv(const struct report *r, FILE *out);
/* One self-contained page: inline CSS and SVG timelines, nothing to fetch. */
int render_html(const struct report *r, FILE *out);
const char *announce_kind_name(int kind);
/* How many announcements of a kind were sent: the count at the capture that saw
 * the most of them (each is seen once per capture on its way). */
int announce_count(const struct report_migration *m, int kind);
const char *detect_names(unsigned int detect, char *buf, size_t len);

/* The switchover block (render_switchover.c): timeline and announce schedule
 * for the text report; `completed`, `timeline` and `announce_schedule` keys,
 * and the verdict's timing keys, for JSON. */
struct json_writer;
void render_switchover_text(FILE *out, const struct report_migration *m, const struct report *r);
void render_switchover_json(struct json_writer *w, const struct report_migration *m,
			    const struct report *r);
void render_verdict_json(struct json_writer *w, const struct report_migration *m);
/* What the reports call a timeline event (`timeline[].event`): the text
 * report's words, and a plot marker's short label. Unknown: the name itself. */
const char *switchover_event_text(const char *event);
const char *switchover_event_label(const char *event);
/* Rounds of burst b that capture `input` saw. */
int switchover_seen_count(const struct report_announce_burst *b, int input);
/* The rounds of b the anchor saw and no prober capture did, into rounds[]
 * (REPORT_MAX_ROUNDS); returns their number (0 without a prober capture). */
int switchover_not_at_prober(const struct report_switchover *s,
			     const struct report_announce_burst *b, int *rounds);

#endif
