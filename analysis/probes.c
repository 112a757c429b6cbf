#include "analysis/probes.h"

#include <errno.h>
#include <stdlib.h>

#include "analysis/phases.h"
#include "analysis/report_plot.h"
#include "analysis/stats.h"
#include "analysis/switchover.h"

uint32_t probes_prober_mask(const struct probe_scope *ps)
{
	uint32_t ctl = 0;

	for (int i = 0; i < ps->ninputs; i++) {
		for (uint32_t k = 0; ps->is_ctl[i] && k < ps->nprobes; k++)
			if (ps->probes[k].target == ps->target && ps->probes[k].req_ns[i]) {
				ctl |= 1u << i;
				break;
			}
	}
	return ctl;
}

/* The probe times at the prober's vantage: the controller's capture when it
 * holds the probes, else whichever compute NIC saw them first. */
static uint32_t probe_vantages(const struct probe_scope *ps)
{
	uint32_t ctl = probes_prober_mask(ps), nics = 0;

	for (int i = 0; i < ps->ninputs; i++)
		if (!ps->is_ctl[i])
			nics |= 1u << i;
	return ctl ? ctl : nics;
}

/* Where each phase begins (loss.phase_start_ns). The pause at the guest's
 * last frame at the source NIC, else at the last reply before the resume,
 * else it is empty; postcopy from the resume to the stream's last data,
 * empty in precopy. */
static struct phase_bounds phase_starts(const struct probe_scope *ps, struct report_migration *rm)
{
	struct opt_i64 *at = rm->loss.phase_start_ns;
	struct phase_bounds b = phase_bounds_make(rm->stream.start_ns.v,
						  phase_pause_ns(&rm->downtime, ps->resume_ns),
						  ps->resume_ns, ps->postcopy_end_ns);

	at[PHASE_PRECOPY] = opt_some(b.start);
	if (b.pause < b.resume)
		at[PHASE_PAUSE] = opt_some(b.pause);
	if (b.after > b.resume)
		at[PHASE_POSTCOPY] = opt_some(b.resume);
	at[PHASE_AFTER] = opt_some(b.after);
	return b;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* One probe as the prober saw it: request and reply times (0 = none), and
 * a round trip measured at one capture. */
struct probe_view {
	int64_t req_ns, rep_ns, rtt_ns;
};

static int cmp_view_req(const void *a, const void *b)
{
	return cmp_i64(&((const struct probe_view *)a)->req_ns, &((const struct probe_view *)b)->req_ns);
}

/* The guest's probes sent in this migration's window, at the probe
 * vantages. Returns how many, or -ENOMEM; *out is the caller's to free. */
static int64_t collect_probes(const struct probe_scope *ps, uint32_t mask,
			      struct probe_view **out)
{
	uint32_t n = ps->nprobes, count = 0;
	const struct probe *p = ps->probes;
	struct probe_view *v = calloc(n + 1, sizeof(*v));

	*out = v;
	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		int64_t q = first_stamp_in(p[k].req_ns, mask);

		if (p[k].target != ps->target || !q || q < ps->window_lo || q >= ps->window_hi)
			continue;
		v[count].req_ns = q;
		v[count].rep_ns = first_stamp_in(p[k].rep_ns, mask);
		for (int i = 0; i < MAX_INPUTS; i++)
			if ((mask >> i & 1) && p[k].req_ns[i] && p[k].rep_ns[i]) {
				v[count].rtt_ns = p[k].rep_ns[i] - p[k].req_ns[i];
				break;
			}
		count++;
	}
	/* probes are stored by first sighting anywhere, not at the prober */
	qsort(v, count, sizeof(*v), cmp_view_req);
	return count;
}

/* The blackout: the last reply at or before the resume to the first after
 * it; and whether the guest answered again at all. */
static int find_gap(const struct probe_view *v, uint32_t n, int64_t resume_ns,
		    struct report_migration *rm)
{
	int64_t sw = resume_ns, before = 0, after = 0;
	int64_t *rep = malloc((n + 1) * sizeof(*rep));
	uint32_t nrep = 0;
	bool requests_after = false;

	if (!rep)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		if (v[k].rep_ns)
			rep[nrep++] = v[k].rep_ns;
		requests_after |= v[k].req_ns > sw;
	}
	qsort(rep, nrep, sizeof(*rep), cmp_i64);
	for (uint32_t k = 0; k < nrep; k++) {
		if (rep[k] <= sw)
			before = rep[k];
		else if (!after)
			after = rep[k];
	}
	free(rep);
	if (before)
		rm->downtime.gap_start_ns = opt_some(before);
	if (after)
		rm->downtime.gap_end_ns = opt_some(after);
	if (before && after)
		rm->downtime.probe_gap_ns = opt_some(after - before);
	if (after)
		rm->reachable_after = opt_some(1);
	else if (requests_after)
		rm->reachable_after = opt_some(0);
	rm->loss.probes_sent = opt_some(n);
	rm->loss.probes_answered = opt_some(nrep);
	rm->loss.lost_probes = opt_some((int64_t)n - nrep);
	return 0;
}

/* The probe interval (median spacing of requests), and loss and round trips
 * by phase. */
static int tally_phases(const struct probe_view *v, uint32_t n, const struct phase_bounds *b,
			struct report_migration *rm)
{
	int64_t *scratch = malloc((n + 1) * sizeof(*scratch));
	uint32_t m;

	if (!scratch)
		return -ENOMEM;
	for (m = 0; m + 1 < n; m++)
		scratch[m] = v[m + 1].req_ns - v[m].req_ns;
	if (m)
		rm->downtime.probe_interval_ns = opt_some(stats_percentile(scratch, m, 50));
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		int64_t sent = 0, lost = 0;

		m = 0;
		for (uint32_t k = 0; k < n; k++) {
			if (phase_of(v[k].req_ns, b) != (enum phase)ph)
				continue;
			sent++;
			lost += !v[k].rep_ns;
			if (v[k].rtt_ns)
				scratch[m++] = v[k].rtt_ns;
		}
		rm->loss.phase[ph].sent = opt_some(sent);
		rm->loss.phase[ph].lost = opt_some(lost);
		if (!m)
			continue;
		rm->loss.phase[ph].rtt_p50_ns = opt_some(stats_percentile(scratch, m, 50));
		rm->loss.phase[ph].rtt_p99_ns = opt_some(stats_percentile(scratch, m, 99));
	}
	free(scratch);
	return 0;
}

/* Every probe for the plot: its round trip, or lost. */
static int plot_probes(const struct probe_view *v, uint32_t n, struct report_migration *rm)
{
	struct report_probe_point *pts = n ? malloc(n * sizeof(*pts)) : NULL;

	if (n && !pts)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		int64_t rtt = v[k].rtt_ns ? v[k].rtt_ns : v[k].rep_ns - v[k].req_ns;

		pts[k].req_ns = v[k].req_ns;
		pts[k].rtt_ns = !v[k].rep_ns ? REPORT_RTT_LOST : rtt > 0 ? rtt : 0;
	}
	report_plot_probes(rm, pts, (int)n);
	return 0;
}

int probes_fill(const struct probe_scope *ps, struct report_migration *rm)
{
	uint32_t mask = probe_vantages(ps);
	struct probe_view *v;
	int64_t n;
	int rc;

	if (ps->target < 0 || !rm->stream.end_ns.set)
		return 0;
	for (int i = 0; i < MAX_INPUTS; i++)
		if (mask >> i & 1) {
			rm->downtime.probe_vantage = ps->is_ctl[i] ? "ctl" : "nic";
			break;
		}
	n = collect_probes(ps, mask, &v);
	if (n > 0)
		rm->downtime.probe = ps->name;
	rc = n < 0 ? (int)n : find_gap(v, (uint32_t)n, ps->resume_ns, rm);
	if (!rc) {
		struct phase_bounds b = phase_starts(ps, rm);

		rc = tally_phases(v, (uint32_t)n, &b, rm);
	}
	if (!rc)
		rc = plot_probes(v, (uint32_t)n, rm);
	free(v);
	return rc;
}

