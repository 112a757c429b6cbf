/*
 * report_plot - the bounded time series of a migration for the plots
 * (struct report_plot in report.h): the probes, decimated to
 * REPORT_MAX_PROBE_POINTS, and the stream's rate bins.
 *
 * Decimation (probe_points_decimate) keeps the plot honest at any length:
 * every lost probe is kept (up to three quarters of the cap; beyond that the
 * lost ones are thinned evenly too), and the answered ones are cut into
 * equal-count buckets in time order, each keeping its lowest and highest
 * round trip, so spikes and floors survive. Order is preserved.
 *
 * Ownership: both fill functions store allocations in rm->plot, which
 * report_free() releases.
 */
#ifndef MIGSCOPE_REPORT_PLOT_H
#define MIGSCOPE_REPORT_PLOT_H

#include "analysis/rate_series.h"
#include "reports/report.h"

/* Decimates p[0..n) in place to at most cap points (cap >= 4); returns how
 * many are left. */
int probe_points_decimate(struct report_probe_point *p, int n, int cap);

/* Takes points[0..n), a malloc'd array (or NULL when n is 0) in request
 * order; ownership passes to rm. */
void report_plot_probes(struct report_migration *rm, struct report_probe_point *points, int n);

/* Copies a stream's rate series, counted at capture `vantage` (a static
 * string). Returns 0 or -ENOMEM (rm->plot then unchanged). */
int report_plot_rate(struct report_migration *rm, const struct rate_series *s,
		     const char *vantage);

#endif
