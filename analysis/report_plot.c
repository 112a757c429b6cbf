#include "analysis/report_plot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static bool lost(const struct report_probe_point *p)
{
	return p->rtt_ns == REPORT_RTT_LOST;
}

/* Lost probe number j of nlost survives when keeping `keep` evenly spaced
 * ones: exactly `keep` of them pass. */
static bool keep_lost(int64_t j, int64_t nlost, int64_t keep)
{
	return keep >= nlost || (j * keep) / nlost != ((j + 1) * keep) / nlost;
}

int probe_points_decimate(struct report_probe_point *p, int n, int cap)
{
	int64_t nlost = 0, answered, lost_keep, buckets, a = 0, j = 0;
	int w = 0, start = 0, lo = -1, hi = -1;

	if (n <= cap)
		return n;
	for (int i = 0; i < n; i++)
		nlost += lost(&p[i]);
	answered = n - nlost;
	lost_keep = nlost < cap * 3 / 4 ? nlost : cap * 3 / 4;
	buckets = (cap - lost_keep) / 2; /* >= 1: cap >= 4 */
	/* Walk the points once; a bucket closes when the next answered point
	 * belongs to the following one. Writes go to w <= i, behind the reads. */
	for (int i = 0; i <= n; i++) {
		bool close = i == n;

		if (!close && !lost(&p[i]))
			close = lo >= 0 && (a * buckets) / answered != ((a - 1) * buckets) / answered;
		if (close) {
			for (int k = start; k < i; k++) {
				bool keep = lost(&p[k]) ? keep_lost(j++, nlost, lost_keep)
							: (k == lo || k == hi);

				if (keep)
					p[w++] = p[k];
			}
			start = i;
			lo = hi = -1;
		}
		if (i == n || lost(&p[i]))
			continue;
		if (lo < 0 || p[i].rtt_ns < p[lo].rtt_ns)
			lo = i;
		if (hi < 0 || p[i].rtt_ns > p[hi].rtt_ns)
			hi = i;
		a++;
	}
	return w;
}

void report_plot_probes(struct report_migration *rm, struct report_probe_point *points, int n)
{
	struct report_probe_point *shrunk;
	int kept = probe_points_decimate(points, n, REPORT_MAX_PROBE_POINTS);

	if (!kept) {
		free(points);
		points = NULL;
	} else if ((shrunk = realloc(points, (size_t)kept * sizeof(*points)))) {
		points = shrunk; /* a failed shrink keeps the larger block */
	}
	rm->plot.probes = points;
	rm->plot.nprobes = kept;
	rm->plot.probes_decimated = kept < n;
}

int report_plot_rate(struct report_migration *rm, const struct rate_series *s,
		     const char *vantage)
{
	struct report_rate_bin *bins;

	if (!s->nbins)
		return 0;
	bins = calloc(s->nbins, sizeof(*bins));
	if (!bins)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nbins; i++) {
		bins[i].start_ns = s->t0_ns + (int64_t)i * s->bin_ns;
		bins[i].bytes = s->bin[i].bytes;
		bins[i].retx_segments = s->bin[i].retx;
	}
	rm->plot.rate = bins;
	rm->plot.nrate = (int)s->nbins;
	rm->plot.rate_bin_ns = s->bin_ns;
	rm->plot.rate_vantage = vantage;
	return 0;
}
