#include "analysis/switchover.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats.h"

/* A probe to the guest, requested within the window; its request time at
 * `mask` after `from`, else 0. */
static int64_t request_after(const struct switchover *sw, const struct probe *p, uint32_t mask,
			     int64_t from)
{
	int64_t q;

	if (p->target != sw->target)
		return 0;
	q = first_stamp_in(p->req_ns, mask);
	if (!q || q <= from || q < sw->window_lo || q >= sw->window_hi)
		return 0;
	return q;
}

void switchover_tally(const struct switchover *sw, uint32_t mask, int64_t from,
		      struct probe_tally *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t k = 0; k < sw->nprobes && mask; k++) {
		const struct probe *p = &sw->probes[k];
		int64_t q = request_after(sw, p, mask, from), r;

		if (q) {
			if (!out->requests || q < out->first_req_ns) {
				out->first_req_ns = q;
				out->first_seq = p->seq;
			}
			if (q > out->last_req_ns) {
				out->last_req_ns = q;
				out->last_seq = p->seq;
			}
			out->requests++;
		}
		r = first_stamp_in(p->rep_ns, mask);
		if (q && r) {
			out->answered++;
			if (!out->first_answer_ns || r < out->first_answer_ns)
				out->first_answer_ns = r;
		}
		if (!r || r <= from || r >= sw->window_hi || !request_after(sw, p, ~0u, sw->window_lo))
			continue;
		out->replies++;
		if (!out->first_rep_ns || r < out->first_rep_ns)
			out->first_rep_ns = r;
	}
}

/* A run longer than the best so far (to its end, or to the window's). */
static void keep_longer(const struct switchover *sw, struct silent_run *best,
			const struct silent_run *run)
{
	int64_t a = (run->answered_again_ns ? run->answered_again_ns : sw->window_hi) -
		    run->first_req_ns;
	int64_t b = (best->answered_again_ns ? best->answered_again_ns : sw->window_hi) -
		    best->first_req_ns;

	if (run->requests && (!best->requests || a > b))
		*best = *run;
}

void switchover_silent_run(const struct switchover *sw, uint32_t mask, int64_t from,
			   struct silent_run *out)
{
	struct silent_run run = { 0 };
	int64_t answered = 0;

	memset(out, 0, sizeof(*out));
	for (uint32_t k = 0; k < sw->nprobes && mask; k++) {
		const struct probe *p = &sw->probes[k];
		int64_t q = request_after(sw, p, mask, from);

		if (!q)
			continue;
		if (first_stamp_in(p->rep_ns, ~0u)) {
			if (!answered)
				answered = q;
			run.answered_again_ns = q;
			keep_longer(sw, out, &run);
			memset(&run, 0, sizeof(run));
			continue;
		}
		if (!answered)
			continue;
		if (!run.requests) {
			run.first_req_ns = q;
			run.first_seq = p->seq;
			run.first_answered_ns = answered;
		}
		run.last_req_ns = q;
		run.last_seq = p->seq;
		run.requests++;
	}
	keep_longer(sw, out, &run);
}

void switchover_early(const struct switchover *sw, struct early_tally *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t k = 0; k < sw->nprobes && sw->dst >= 0; k++) {
		const struct probe *p = &sw->probes[k];
		int64_t q = request_after(sw, p, input_bit(sw->dst), sw->start_ns);

		if (!q || q >= sw->resume_ns || (sw->src >= 0 && p->req_ns[sw->src]))
			continue;
		if (!out->requests) {
			out->first_ns = q;
			out->first_seq = p->seq;
		}
		out->last_ns = q;
		out->last_seq = p->seq;
		out->requests++;
	}
}

uint32_t switchover_replies_missed(const struct switchover *sw, uint32_t seen, uint32_t missed,
				   int64_t from)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < sw->nprobes && seen; k++) {
		const struct probe *p = &sw->probes[k];
		int64_t r;

		r = first_stamp_in(p->rep_ns, seen);
		if (!r || r <= from || r >= sw->window_hi || first_stamp_in(p->rep_ns, missed) ||
		    !request_after(sw, p, ~0u, sw->window_lo))
			continue;
		n++;
	}
	return n;
}

void switchover_announces(const struct switchover *sw, uint32_t mask, int64_t from,
			  struct announce_tally *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t k = 0; k < sw->nannounces; k++) {
		const struct announce *a = &sw->announces[k];

		if (!(mask & input_bit(a->input)) || a->ts_ns < from || a->ts_ns >= sw->window_hi ||
		    a->kind > ANNOUNCE_NA)
			continue;
		out->n[a->kind]++;
		if (!out->first_ns || a->ts_ns < out->first_ns)
			out->first_ns = a->ts_ns;
	}
}

/* The first announcement of one of `kinds` (bits 1 << ANNOUNCE_*) that a
 * capture in `mask` saw within the migration, NULL: none. */
static const struct announce *first_announce(const struct switchover *sw, uint32_t mask,
					     uint32_t kinds)
{
	for (uint32_t k = 0; k < sw->nannounces; k++) {
		const struct announce *a = &sw->announces[k];

		if ((kinds & (1u << a->kind)) && (mask & input_bit(a->input)) &&
		    a->ts_ns >= sw->start_ns && a->ts_ns < sw->window_hi)
			return a;
	}
	return NULL;
}

int64_t switchover_resume(const struct switchover *sw, const struct announce **first,
			  const char **basis)
{
	static const struct {
		const char *basis;
		bool at_dst;
		uint32_t kinds;
	} order[] = {
		{ "rarp_at_dst", true, 1u << ANNOUNCE_RARP },
		{ "rarp_elsewhere", false, 1u << ANNOUNCE_RARP },
		{ "announce_at_dst", true, (1u << ANNOUNCE_GARP) | (1u << ANNOUNCE_NA) },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct announce *a = first_announce(sw, order[i].at_dst ? input_bit(sw->dst) : ~0u,
							  order[i].kinds);

		if (a) {
			*first = a;
			*basis = order[i].basis;
			return a->ts_ns;
		}
	}
	*first = NULL;
	*basis = "stream_end";
	return sw->end_ns;
}

int switchover_turnaround(const struct switchover *sw, int input, int64_t from, int64_t to,
			  int64_t slow_above_ns, struct report_turnaround *out)
{
	int64_t *took;
	uint32_t n = 0;

	memset(out, 0, sizeof(*out));
	out->slow_above_ns = slow_above_ns;
	if (input < 0 || !sw->nprobes)
		return 0;
	took = malloc(sw->nprobes * sizeof(*took));
	if (!took)
		return -ENOMEM;
	for (uint32_t k = 0; k < sw->nprobes; k++) {
		const struct probe *p = &sw->probes[k];
		int64_t q = p->req_ns[input], r = p->rep_ns[input];

		/* a reply to a request queued across the switchover leaves the
		 * destination without its request there: not a turnaround */
		if (p->target != sw->target || !q || !r || r < q || q < from || q >= to ||
		    q < sw->window_lo || q >= sw->window_hi)
			continue;
		took[n++] = r - q;
		if (slow_above_ns && r - q > slow_above_ns) {
			if (!out->slow || q < out->first_slow_ns)
				out->first_slow_ns = q;
			if (r > out->last_slow_ns)
				out->last_slow_ns = r;
			out->slow++;
		}
	}
	out->answers = n;
	if (n) {
		out->p50_ns = stats_percentile(took, n, 50);
		out->p90_ns = stats_percentile(took, n, 90);
		out->max_ns = took[n - 1]; /* sorted by stats_percentile */
	}
	free(took);
	return 0;
}
