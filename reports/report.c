#include "reports/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_list_add(char (*lines)[REPORT_TEXT_LEN], int *n, int max, const char *fmt, va_list ap)
{
	if (*n == max)
		return;
	vsnprintf(lines[(*n)++], REPORT_TEXT_LEN, fmt, ap);
}

/*
 * The warnings list: [caps reached][other warnings][one line "N more
 * warnings not shown" once any was left out]. Caps first, as they say the
 * figures are incomplete; a cap reached late (the tables report at the end
 * of the analysis) pushes the last other warning out instead of being lost.
 */
static void write_more_line(struct report *r)
{
	snprintf(r->warnings[r->nwarnings - 1], REPORT_TEXT_LEN,
		 "%u more warning%s not shown", r->more_warnings, r->more_warnings == 1 ? "" : "s");
}

void report_warn(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->more_warnings && r->nwarnings < REPORT_MAX_WARNINGS) {
		va_start(ap, fmt);
		vsnprintf(r->warnings[r->nwarnings++], REPORT_TEXT_LEN, fmt, ap);
		va_end(ap);
		return;
	}
	/* the first time, the count takes the last line: its warning goes too */
	r->more_warnings += r->more_warnings ? 1 : 2;
	write_more_line(r);
}

void report_warn_limit(struct report *r, const char *fmt, ...)
{
	int at = r->nlimit_warnings;
	va_list ap;

	if (r->nlimit_warnings == REPORT_MAX_LIMIT_WARNINGS) {
		report_warn(r, "another cap of the analyzer was reached");
		return;
	}
	/* Full: other warnings make room (caps never fill more than half the
	 * list): the last one, and when nothing was left out yet the one before
	 * it too, for the count line, which is then rewritten at the end. */
	if (r->nwarnings == REPORT_MAX_WARNINGS) {
		r->more_warnings += r->more_warnings ? 1 : 2;
		r->nwarnings = REPORT_MAX_WARNINGS - 1;
	}
	memmove(r->warnings[at + 1], r->warnings[at], (size_t)(r->nwarnings - at) * REPORT_TEXT_LEN);
	r->nwarnings++;
	r->nlimit_warnings++;
	va_start(ap, fmt);
	vsnprintf(r->warnings[at], REPORT_TEXT_LEN, fmt, ap);
	va_end(ap);
	if (r->more_warnings)
		write_more_line(r);
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (int m = 0; m < r->nmigrations; m++) {
		free(r->migrations[m].announce.seen);
		free(r->migrations[m].stream.channels);
		free(r->migrations[m].plot.probes);
		free(r->migrations[m].plot.rate);
		free(r->migrations[m].traffic.list);
	}
	free(r->migrations);
	r->migrations = NULL;
	r->nmigrations = 0;
	free(r->evacuation.worst_first);
	r->evacuation.worst_first = NULL;
}

const char *phase_name(enum phase p)
{
	static const char *const names[PHASE_COUNT] = { "before", "precopy", "pause", "postcopy",
							 "after" };

	return names[p];
}

const char *report_feature_name(int k)
{
	static const char *const names[REPORT_FEATURES] = { "multifd", "tls", "tunnelled", "nbd",
							     "proxied" };

	return k >= 0 && k < REPORT_FEATURES ? names[k] : "?";
}

bool report_has_findings(const struct report *r)
{
	for (int m = 0; m < r->nmigrations; m++) {
		const struct report_migration *rm = &r->migrations[m];

		if (rm->reachable_after.set && !rm->reachable_after.v)
			return true;
		if (rm->verdict.code && strcmp(rm->verdict.code, "ok") &&
		    strcmp(rm->verdict.code, "insufficient_data"))
			return true;
	}
	return false;
}

struct opt_i64 report_downtime(const struct report_migration *m)
{
	return m->downtime.probe_gap_ns.set ? m->downtime.probe_gap_ns : m->downtime.guest_silence_ns;
}
