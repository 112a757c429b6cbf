#include "analysis/announce_sched.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS_NS 1000000LL

void announce_params_default(struct announce_params *p)
{
	*p = (struct announce_params){ .initial_ms = 50, .max_ms = 550, .rounds = 5, .step_ms = 100 };
}

int announce_params_parse(const char *s, struct announce_params *p)
{
	static const long lo[4] = { 1, 1, 0, 1 }, hi[4] = { 100000, 100000, REPORT_MAX_ROUNDS, 100000 };
	long v[4];
	const char *cur = s;
	char *end;

	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)*cur))
			return -EINVAL;
		errno = 0;
		v[i] = strtol(cur, &end, 10);
		if (errno || v[i] < lo[i] || v[i] > hi[i] || *end != (i < 3 ? ',' : '\0'))
			return -EINVAL;
		cur = end + 1;
	}
	*p = (struct announce_params){ .initial_ms = (int)v[0], .max_ms = (int)v[1],
				       .rounds = (int)v[2], .step_ms = (int)v[3] };
	return 0;
}

/* QEMU's qemu_announce_timer_step(): the wait before round k (k >= 1). */
static int64_t gap_ns(const struct announce_params *p, int k)
{
	int64_t g = (int64_t)p->initial_ms + (int64_t)(k - 1) * p->step_ms;

	if (g < 0 || g > p->max_ms)
		g = p->max_ms;
	return g * MS_NS;
}

int64_t announce_round_offset_ns(const struct announce_params *p, int k)
{
	int64_t t = 0;

	for (int i = 1; i <= k; i++)
		t += gap_ns(p, i);
	return t;
}

static int64_t tolerance_ns(const struct announce_params *p)
{
	int64_t tol = ANNOUNCE_TOLERANCE_NS;

	for (int k = 1; k < p->rounds; k++)
		if (gap_ns(p, k) * 2 / 5 < tol)
			tol = gap_ns(p, k) * 2 / 5;
	return tol;
}

static bool is_rarp_of(const struct switchover *sw, const struct announce *a, int input)
{
	return a->kind == ANNOUNCE_RARP && a->input == input && a->ts_ns >= sw->start_ns &&
	       a->ts_ns < sw->window_hi;
}

/* The capture whose RARPs give the bursts: the destination NIC when it saw
 * one, else the capture that saw the most. */
static int pick_anchor(const struct switchover *sw)
{
	uint32_t count[MAX_INPUTS] = { 0 };
	int best = -1;

	for (uint32_t k = 0; k < sw->nannounces; k++)
		for (int i = 0; i < sw->ninputs; i++)
			count[i] += is_rarp_of(sw, &sw->announces[k], i);
	if (sw->dst >= 0 && count[sw->dst])
		return sw->dst;
	for (int i = 0; i < sw->ninputs; i++)
		if (count[i] && (best < 0 || count[i] > count[best]))
			best = i;
	return best;
}

/* The burst being followed at the anchor; `stored` is its slot, -1 once the
 * report has no room left (it is still followed, so its rounds are not
 * counted as unmatched). */
struct burst_cursor {
	bool open;
	bool in_order;     /* the anchor is the destination NIC: every round shows there */
	int stored, last_round;
	int64_t last_ns;
};

static void open_burst(struct report_announce_sched *s, struct burst_cursor *c, int64_t t)
{
	c->open = true;
	c->last_round = 0;
	c->last_ns = t;
	c->stored = -1;
	if (s->nbursts == REPORT_MAX_BURSTS) {
		s->more_bursts++;
		return;
	}
	c->stored = s->nbursts++;
	s->burst[c->stored].nrounds = s->params.rounds;
}

static void seen_at(struct report_announce_sched *s, int burst, int round, int input, int64_t t)
{
	int64_t *slot;

	if (burst < 0)
		return;
	slot = &s->burst[burst].round[round].seen_ns[input];
	if (!*slot)
		*slot = t;
}

/* One RARP at the anchor: the next round of the open burst, a new burst, or
 * unmatched.
 *
 * A RARP is the first later round it is on time for (counted from the last
 * round matched: rounds can be lost on the way to a capture, or dropped by
 * it). At the destination NIC, where every round QEMU sends shows, one on
 * time for none is the next round, late, up to ANNOUNCE_LATE_MAX_NS: QEMU
 * re-arms its timer when a round fires, so a round its main loop delayed
 * (postcopy faulting pages in, a starved host) is late, not missing, and
 * the rounds after it count from it. Past the burst's last round, a RARP
 * starts a new burst (announce-self after the migration). */
static void anchor_rarp(struct report_announce_sched *s, struct burst_cursor *c, int input,
			int64_t t)
{
	const struct announce_params *p = &s->params;
	int64_t done, due;
	int next = c->last_round + 1;

	if (!c->open) {
		open_burst(s, c, t);
		seen_at(s, c->stored, 0, input, t);
		return;
	}
	due = c->last_ns + announce_round_offset_ns(p, next) -
	      announce_round_offset_ns(p, c->last_round);
	for (int j = next; j < p->rounds; j++) {
		int64_t want = c->last_ns + announce_round_offset_ns(p, j) -
			       announce_round_offset_ns(p, c->last_round);

		if (t < want - s->tolerance_ns)
			break;
		if (t <= want + s->tolerance_ns) {
			seen_at(s, c->stored, j, input, t);
			c->last_round = j;
			c->last_ns = t;
			return;
		}
	}
	if (c->in_order && next < p->rounds && t >= due - s->tolerance_ns &&
	    t <= due + ANNOUNCE_LATE_MAX_NS) {
		seen_at(s, c->stored, next, input, t);
		c->last_round = next;
		c->last_ns = t;
		return;
	}
	done = c->last_ns + announce_round_offset_ns(p, p->rounds - 1) -
	       announce_round_offset_ns(p, c->last_round) + s->tolerance_ns;
	if (t > done || (c->in_order && next < p->rounds && t > due + ANNOUNCE_LATE_MAX_NS)) {
		open_burst(s, c, t);
		seen_at(s, c->stored, 0, input, t);
		return;
	}
	s->unmatched[input]++;
}

/* Where each round of a burst should show: the anchor's sighting, else the
 * schedule from the round before. Round 0 is always seen at the anchor (the
 * RARP that opened the burst): its stamp is never 0, the "not seen" mark, as
 * the readers refuse a stamp of 0 (analysis/domain.h). */
static void burst_times(const struct report_announce_sched *s, int b, int anchor, int64_t *ref)
{
	const struct report_announce_burst *burst = &s->burst[b];

	for (int k = 0; k < burst->nrounds; k++) {
		int64_t seen = burst->round[k].seen_ns[anchor];

		ref[k] = seen ? seen
			      : ref[k - 1] + announce_round_offset_ns(&s->params, k) -
					announce_round_offset_ns(&s->params, k - 1);
	}
}

static void other_rarp(struct report_announce_sched *s, int64_t ref[][REPORT_MAX_ROUNDS],
		       int input, int64_t t)
{
	int64_t best = -1;
	int bb = -1, bk = -1;

	for (int b = 0; b < s->nbursts; b++)
		for (int k = 0; k < s->burst[b].nrounds; k++) {
			int64_t d = t > ref[b][k] ? t - ref[b][k] : ref[b][k] - t;

			if (d <= s->tolerance_ns && (best < 0 || d < best)) {
				best = d;
				bb = b;
				bk = k;
			}
		}
	if (bb < 0 || s->burst[bb].round[bk].seen_ns[input])
		s->unmatched[input]++;
	else
		s->burst[bb].round[bk].seen_ns[input] = t;
}

static void guest_announce(const struct switchover *sw, int64_t resume_ns,
			   struct report_announce_sched *s)
{
	s->guest_input = sw->dst >= 0 ? sw->dst : s->anchor;
	for (uint32_t k = 0; k < sw->nannounces && s->guest_input >= 0; k++) {
		const struct announce *a = &sw->announces[k];
		struct opt_i64 *first;

		if (a->input != s->guest_input || a->kind == ANNOUNCE_RARP || a->ts_ns < sw->start_ns ||
		    a->ts_ns >= sw->window_hi)
			continue;
		if (a->kind == ANNOUNCE_GARP) {
			s->guest_garps++;
			first = &s->guest_garp_after_resume_ns;
		} else {
			s->guest_nas++;
			first = &s->guest_na_after_resume_ns;
		}
		if (resume_ns && a->ts_ns >= resume_ns && !first->set)
			*first = opt_some(a->ts_ns - resume_ns);
	}
}

/* What each capture saw of each burst, and the rounds that left the anchor
 * but reached no prober capture (lost on the way to the prober). */
static void burst_summary(const struct switchover *sw, struct report_announce_sched *s)
{
	for (int b = 0; b < s->nbursts; b++) {
		struct report_announce_burst *bu = &s->burst[b];

		bu->start_ns = bu->round[0].seen_ns[s->anchor];
		bu->t_ns = bu->start_ns - sw->resume_ns;
		for (int k = 0; k < bu->nrounds; k++) {
			bool at_prober = false, any_prober = false;

			for (int i = 0; i < sw->ninputs; i++) {
				bool seen = bu->round[k].seen_ns[i] != 0;

				bu->seen[i] += seen;
				if (!seen)
					bu->missing[i] |= 1u << k;
				if (!sw->vantage[i] || strcmp(sw->vantage[i], "ctl"))
					continue;
				any_prober = true;
				at_prober |= seen;
			}
			if (bu->round[k].seen_ns[s->anchor] && any_prober && !at_prober)
				bu->not_at_prober |= 1u << k;
		}
	}
}

void announce_sched_check(const struct switchover *sw, const struct announce_params *p,
			  int64_t resume_ns, struct report_switchover *out)
{
	struct report_announce_sched *s = &out->sched;
	struct burst_cursor cur = { 0 };
	int64_t ref[REPORT_MAX_BURSTS][REPORT_MAX_ROUNDS], last_stored = 0;

	memset(s, 0, sizeof(*s));
	s->anchor = -1;
	s->guest_input = -1;
	if (!sw->end_ns)
		return;
	s->checked = true;
	s->params = *p;
	if (s->params.rounds > REPORT_MAX_ROUNDS)
		s->params.rounds = REPORT_MAX_ROUNDS;
	s->tolerance_ns = tolerance_ns(&s->params);
	for (int k = 0; k < s->params.rounds; k++)
		s->round_offset_ns[k] = announce_round_offset_ns(&s->params, k);
	s->anchor = pick_anchor(sw);
	cur.in_order = s->anchor >= 0 && s->anchor == sw->dst;
	for (uint32_t k = 0; k < sw->nannounces && s->anchor >= 0; k++) {
		if (!is_rarp_of(sw, &sw->announces[k], s->anchor))
			continue;
		if (s->params.rounds)
			anchor_rarp(s, &cur, s->anchor, sw->announces[k].ts_ns);
		else
			s->unmatched[s->anchor]++; /* announce-rounds 0: none expected */
	}
	for (int b = 0; b < s->nbursts; b++) {
		struct report_announce_burst *bu = &s->burst[b];

		burst_times(s, b, s->anchor, ref[b]);
		/* due when the round before it was seen, plus its gap: QEMU's timer */
		for (int k = 0; k < bu->nrounds; k++) {
			struct report_announce_round *rd = &bu->round[k];

			rd->expected_ns = k ? ref[b][k - 1] + gap_ns(&s->params, k) : ref[b][0];
			if (rd->seen_ns[s->anchor])
				rd->late_ns = opt_some(rd->seen_ns[s->anchor] - rd->expected_ns);
		}
		last_stored = ref[b][bu->nrounds - 1];
	}
	for (uint32_t k = 0; k < sw->nannounces && s->anchor >= 0; k++) {
		const struct announce *a = &sw->announces[k];

		if (a->input == s->anchor || !is_rarp_of(sw, a, a->input))
			continue;
		/* bursts past the report's room are not matched anywhere */
		if (s->more_bursts && a->ts_ns > last_stored + s->tolerance_ns)
			continue;
		other_rarp(s, ref, a->input, a->ts_ns);
	}
	burst_summary(sw, s);
	guest_announce(sw, resume_ns, s);
}
