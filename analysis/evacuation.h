/*
 * evacuation - the summary of many migrations in one set of captures (a
 * drained host: report_evacuation): how many guests, how many moved at once,
 * the worst, median and 95th-percentile downtime, bytes, time, verdicts, and
 * the migrations ordered worst first, for the reports' per-guest tables.
 *
 * Fills r->evacuation from r's migrations when there are two or more.
 * Returns 0 or -ENOMEM (the order is owned by r: report_free()).
 */
#ifndef MIGSCOPE_EVACUATION_H
#define MIGSCOPE_EVACUATION_H

#include "reports/report.h"

int evacuation_fill(struct report *r);

#endif
