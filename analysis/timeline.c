#include "analysis/timeline.h"

#include <string.h>

static int first_input(uint32_t mask)
{
	for (int i = 0; i < MAX_INPUTS; i++)
		if (mask >> i & 1)
			return i;
	return -1;
}

static void add(struct report_switchover *out, const char *event, const char *vantage, int input,
		int64_t ts_ns)
{
	struct report_timeline_event *e = &out->timeline[out->ntimeline++];

	e->event = event;
	e->vantage = vantage;
	e->input = input;
	e->ts_ns = ts_ns;
	e->state = input < 0 ? TL_NO_CAPTURE : ts_ns ? TL_SEEN : TL_NOT_SEEN;
	e->t_ns = e->since_prev_ns = opt_none();
}

/* Seen events first in time order, the order of adding on ties (insertion
 * sort: eight events). */
static void sort_events(struct report_switchover *out)
{
	for (int i = 1; i < out->ntimeline; i++) {
		struct report_timeline_event e = out->timeline[i];
		int j = i;

		for (; j > 0; j--) {
			const struct report_timeline_event *p = &out->timeline[j - 1];

			if (e.state != TL_SEEN || (p->state == TL_SEEN && p->ts_ns <= e.ts_ns))
				break;
			out->timeline[j] = out->timeline[j - 1];
		}
		out->timeline[j] = e;
	}
}

/* Each seen event from t = 0, and from the seen one before it. */
static void relative_times(struct report_switchover *out, int64_t t0_ns)
{
	const struct report_timeline_event *prev = NULL;

	for (int i = 0; i < out->ntimeline; i++) {
		struct report_timeline_event *e = &out->timeline[i];

		if (e->state != TL_SEEN)
			continue;
		e->t_ns = opt_some(e->ts_ns - t0_ns);
		if (prev)
			e->since_prev_ns = opt_some(e->ts_ns - prev->ts_ns);
		prev = e;
	}
}

void timeline_build(const struct switchover *sw, struct report_switchover *out)
{
	int ctl = first_input(sw->prober), end_at = sw->src >= 0 ? sw->src : sw->dst;
	struct probe_tally at_src, at_dst, at_ctl;
	struct announce_tally ann;

	out->ntimeline = 0;
	if (!sw->end_ns)
		return;
	/* what happened from the resume on: in postcopy the stream runs on */
	switchover_tally(sw, input_bit(sw->src), sw->resume_ns, &at_src);
	switchover_tally(sw, input_bit(sw->dst), sw->resume_ns, &at_dst);
	switchover_tally(sw, sw->prober, sw->resume_ns, &at_ctl);
	switchover_announces(sw, sw->prober, sw->resume_ns, &ann);
	out->t0_ns = sw->resume_ns;
	out->t0_event = strcmp(sw->resume_basis, "stream_end") ? TL_RESUME : TL_STREAM_END;

	add(out, TL_GUEST_LAST_SRC, "src", sw->src, sw->guest_last_src_ns);
	add(out, TL_STREAM_END, end_at == sw->src ? "src" : "dst", end_at, sw->end_ns);
	/* QEMU's first RARP leaving the destination NIC: the guest runs there
	 * (the resume's own line where an announcement of the guest's stood in) */
	add(out, TL_RESUME, "dst", sw->dst,
	    !strcmp(sw->resume_basis, "rarp_at_dst") ? sw->resume_ns : 0);
	add(out, TL_FIRST_ANNOUNCE_PROBER, "ctl", ctl, ann.first_ns);
	add(out, TL_LAST_REQUEST_SRC, "src", sw->src, at_src.last_req_ns);
	add(out, TL_FIRST_REQUEST_DST, "dst", sw->dst, at_dst.first_req_ns);
	add(out, TL_FIRST_REPLY_DST, "dst", sw->dst, at_dst.first_rep_ns);
	if (at_dst.first_answer_ns)
		out->first_answer_dst_ns = opt_some(at_dst.first_answer_ns);
	add(out, TL_FIRST_REPLY_PROBER, "ctl", ctl, at_ctl.first_rep_ns);
	sort_events(out);
	relative_times(out, out->t0_ns);
}

int64_t timeline_time(const struct report_switchover *out, const char *event)
{
	for (int i = 0; i < out->ntimeline; i++)
		if (!strcmp(out->timeline[i].event, event))
			return out->timeline[i].state == TL_SEEN ? out->timeline[i].ts_ns : 0;
	return 0;
}
