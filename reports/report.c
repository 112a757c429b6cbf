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

void report_warn(struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_list_add(r->warnings, &r->nwarnings, REPORT_MAX_WARNINGS, fmt, ap);
	va_end(ap);
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (int m = 0; m < r->nmigrations; m++) {
		free(r->migrations[m].announce.seen);
		free(r->migrations[m].plot.probes);
		free(r->migrations[m].plot.rate);
	}
	free(r->migrations);
	r->migrations = NULL;
	r->nmigrations = 0;
}

const char *phase_name(enum phase p)
{
	static const char *const names[PHASE_COUNT] = { "before", "precopy", "blackout", "after" };

	return names[p];
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
