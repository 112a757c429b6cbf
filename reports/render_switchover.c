/*
 * The switchover block of a migration (timeline, announce schedule, verdict
 * details) in text and JSON, called by render_text.c and render_json.c.
 * Timeline times are relative to t = 0, the resume (the stream's last data
 * where no RARP marks it): the anchor of every switchover figure.
 */
#include <inttypes.h>
#include <string.h>

#include "reports/json_writer.h"
#include "reports/render.h"
#include "reports/units.h"

/* text: the report's line; label: a plot marker's, short enough to stack */
static const struct {
	const char *event, *text, *label;
} EVENT_TEXT[] = {
	{ "guest_last_at_src", "guest's last frame at the source NIC", "guest's last frame at src" },
	{ "stream_end", "last migration stream data", "stream end" },
	{ "resume", "resume: first RARP leaving the destination NIC", "resume" },
	{ "first_announce_at_prober", "first announcement at the prober", "first announce at prober" },
	{ "last_request_at_src", "last request delivered to the source NIC", "last request at src" },
	{ "first_request_at_dst", "first request delivered to the destination NIC",
	  "first request at dst" },
	{ "first_reply_at_dst", "first reply leaving the destination NIC", "first reply from dst" },
	{ "first_reply_at_prober", "first reply at the prober", "first reply at prober" },
};

static int event_index(const char *event)
{
	for (size_t i = 0; i < sizeof(EVENT_TEXT) / sizeof(EVENT_TEXT[0]); i++)
		if (!strcmp(EVENT_TEXT[i].event, event))
			return (int)i;
	return -1;
}

const char *switchover_event_text(const char *event)
{
	int i = event_index(event);

	return i < 0 ? event : EVENT_TEXT[i].text;
}

const char *switchover_event_label(const char *event)
{
	int i = event_index(event);

	return i < 0 ? event : EVENT_TEXT[i].label;
}

static const char *missing_name(uint8_t state)
{
	return state == TL_NO_CAPTURE ? "no_capture" : state == TL_NOT_SEEN ? "not_seen" : NULL;
}

/* "+3.121 ms" / "-12.345 ms" */
static const char *rel_ms(int64_t ns, char *buf, size_t len)
{
	char v[40];

	format_ms(ns, v, sizeof(v));
	snprintf(buf, len, "%s%s ms", ns >= 0 ? "+" : "", v);
	return buf;
}

static void text_timeline(FILE *out, const struct report_migration *m)
{
	const struct report_switchover *s = &m->sw;
	char a[48], b[48];

	if (!s->ntimeline)
		return;
	fprintf(out, "  timeline     (t = 0 at the %s; in brackets: since the line above)\n",
		!strcmp(s->t0_event, TL_RESUME) ? "resume" : "last stream data");
	for (int i = 0; i < s->ntimeline; i++) {
		const struct report_timeline_event *e = &s->timeline[i];

		if (e->state != TL_SEEN) {
			fprintf(out, "               %14s  %-48s %-4s %s\n", "n/a",
				switchover_event_text(e->event), e->vantage,
				e->state == TL_NO_CAPTURE ? "(no capture there)" : "(not seen)");
			continue;
		}
		fprintf(out, "               %14s  %-48s ", rel_ms(e->t_ns.v, a, sizeof(a)),
			switchover_event_text(e->event));
		if (e->since_prev_ns.set)
			fprintf(out, "%-4s (%s)\n", e->vantage, rel_ms(e->since_prev_ns.v, b, sizeof(b)));
		else
			fprintf(out, "%s\n", e->vantage);
	}
}

/* The rounds in a mask: "0,2,3" */
static void text_rounds(FILE *out, uint32_t rounds)
{
	bool first = true;

	for (int k = 0; k < REPORT_MAX_ROUNDS; k++) {
		if (!(rounds >> k & 1))
			continue;
		fprintf(out, "%s%d", first ? "" : ",", k);
		first = false;
	}
}

static void text_schedule(FILE *out, const struct report_migration *m, int ninputs)
{
	const struct report_announce_sched *s = &m->sw.sched;
	char a[48], b[48];

	/* no resume on the destination: nothing was to be announced */
	if (!s->checked || (m->sw.completed.set && !m->sw.completed.v))
		return;
	format_ms(s->tolerance_ns, a, sizeof(a));
	fprintf(out, "  schedule     QEMU announce initial %d ms, max %d ms, %d rounds, step %d ms "
		"(tolerance %s ms)\n", s->params.initial_ms, s->params.max_ms, s->params.rounds,
		s->params.step_ms, a);
	if (!s->nbursts && s->params.rounds)
		fprintf(out, "               no RARP in any capture: all %d rounds missing\n",
			s->params.rounds);
	for (int bi = 0; bi < s->nbursts; bi++) {
		const struct report_announce_burst *bu = &s->burst[bi];

		fprintf(out, "               burst %d at %s, rounds seen:", bi + 1,
			rel_ms(bu->t_ns, a, sizeof(a)));
		for (int i = 0; i < ninputs; i++)
			fprintf(out, "%s %s %d/%d", i ? "," : "", m->sw.vantage[i], bu->seen[i],
				bu->nrounds);
		fprintf(out, "\n");
		for (int i = 0; i < ninputs; i++) {
			if (!bu->missing[i] || !bu->seen[i])
				continue;
			fprintf(out, "               missing at %s: round ", m->sw.vantage[i]);
			text_rounds(out, bu->missing[i]);
			fprintf(out, "\n");
		}
		for (int k = 1; k < bu->nrounds; k++) {
			const struct report_announce_round *rd = &bu->round[k];

			if (rd->late_ns.set && rd->late_ns.v > s->tolerance_ns)
				fprintf(out, "               round %d left the %s %s late\n", k,
					m->sw.vantage[s->anchor], rel_ms(rd->late_ns.v, a, sizeof(a)));
		}
		if (bu->not_at_prober) {
			fprintf(out, "               left the %s, not at the prober: round ",
				m->sw.vantage[s->anchor]);
			text_rounds(out, bu->not_at_prober);
			fprintf(out, "\n");
		}
	}
	if (s->more_bursts)
		fprintf(out, "               ... and %u more bursts (not detailed)\n", s->more_bursts);
	for (int i = 0; i < ninputs; i++)
		if (s->unmatched[i])
			fprintf(out, "               %u RARP at %s fit no round\n", s->unmatched[i],
				m->sw.vantage[i]);
	if (s->guest_input >= 0 && !s->guest_garps && !s->guest_nas)
		fprintf(out, "  guest        no GARP or NA of the guest's own at %s\n",
			m->sw.vantage[s->guest_input]);
	else if (s->guest_input >= 0)
		fprintf(out, "  guest        %u GARP, %u NA at %s; first GARP %s, first NA %s after resume\n",
			s->guest_garps, s->guest_nas, m->sw.vantage[s->guest_input],
			s->guest_garp_after_resume_ns.set ? rel_ms(s->guest_garp_after_resume_ns.v, a, sizeof(a)) : "n/a",
			s->guest_na_after_resume_ns.set ? rel_ms(s->guest_na_after_resume_ns.v, b, sizeof(b)) : "n/a");
}

void render_switchover_text(FILE *out, const struct report_migration *m, const struct report *r)
{
	text_timeline(out, m);
	text_schedule(out, m, r->ninputs);
}

static void json_timeline(struct json_writer *w, const struct report_migration *m)
{
	const struct report_switchover *s = &m->sw;

	json_begin(w, "timeline_t0", '{');
	json_str(w, "event", s->ntimeline ? s->t0_event : NULL);
	json_opt_int(w, "ns", s->ntimeline ? opt_some(s->t0_ns) : opt_none());
	json_end(w, '}');
	json_begin(w, "timeline", '[');
	for (int i = 0; i < s->ntimeline; i++) {
		const struct report_timeline_event *e = &s->timeline[i];

		json_begin(w, NULL, '{');
		json_str(w, "event", e->event);
		json_str(w, "vantage", e->vantage);
		json_opt_int(w, "ns", e->state == TL_SEEN ? opt_some(e->ts_ns) : opt_none());
		json_opt_int(w, "t_ns", e->t_ns);
		json_opt_int(w, "since_prev_ns", e->since_prev_ns);
		json_str(w, "missing", missing_name(e->state));
		json_end(w, '}');
	}
	json_end(w, ']');
}

static void json_rounds(struct json_writer *w, const char *key, uint32_t rounds)
{
	json_begin(w, key, '[');
	for (int k = 0; k < REPORT_MAX_ROUNDS; k++)
		if (rounds >> k & 1)
			json_int(w, NULL, k);
	json_end(w, ']');
}

static void json_burst(struct json_writer *w, const struct report_migration *m,
		       const struct report_announce_burst *b, int ninputs)
{
	json_begin(w, NULL, '{');
	json_int(w, "start_ns", b->start_ns);
	json_int(w, "t_ns", b->t_ns);
	json_begin(w, "rounds", '[');
	for (int k = 0; k < b->nrounds; k++) {
		json_begin(w, NULL, '{');
		json_int(w, "round", k);
		json_int(w, "expected_ns", b->round[k].expected_ns);
		json_opt_int(w, "late_ns", b->round[k].late_ns);
		json_begin(w, "seen_ns", '[');
		for (int i = 0; i < ninputs; i++)
			json_opt_int(w, NULL, b->round[k].seen_ns[i] ? opt_some(b->round[k].seen_ns[i])
								     : opt_none());
		json_end(w, ']');
		json_end(w, '}');
	}
	json_end(w, ']');
	json_begin(w, "by_vantage", '[');
	for (int i = 0; i < ninputs; i++) {
		json_begin(w, NULL, '{');
		json_str(w, "vantage", m->sw.vantage[i]);
		json_int(w, "seen", b->seen[i]);
		json_rounds(w, "missing", b->missing[i]);
		json_end(w, '}');
	}
	json_end(w, ']');
	json_rounds(w, "not_at_prober", b->not_at_prober);
	json_end(w, '}');
}

static void json_schedule(struct json_writer *w, const struct report_migration *m,
			  const struct report *r)
{
	const struct report_announce_sched *s = &m->sw.sched;

	if (!s->checked) {
		json_str(w, "announce_schedule", NULL);
		return;
	}
	json_begin(w, "announce_schedule", '{');
	json_begin(w, "parameters", '{');
	json_int(w, "initial_ms", s->params.initial_ms);
	json_int(w, "max_ms", s->params.max_ms);
	json_int(w, "rounds", s->params.rounds);
	json_int(w, "step_ms", s->params.step_ms);
	json_end(w, '}');
	json_opt_us(w, "tolerance_us", opt_some(s->tolerance_ns));
	json_str(w, "anchor", s->anchor >= 0 ? m->sw.vantage[s->anchor] : NULL);
	json_begin(w, "bursts", '[');
	for (int b = 0; b < s->nbursts; b++)
		json_burst(w, m, &s->burst[b], r->ninputs);
	json_end(w, ']');
	json_int(w, "more_bursts", s->more_bursts);
	json_begin(w, "unmatched", '[');
	for (int i = 0; i < r->ninputs; i++)
		json_int(w, NULL, s->unmatched[i]);
	json_end(w, ']');
	json_begin(w, "guest", '{');
	json_str(w, "vantage", s->guest_input >= 0 ? m->sw.vantage[s->guest_input] : NULL);
	json_int(w, "garp", s->guest_garps);
	json_int(w, "na", s->guest_nas);
	json_opt_us(w, "first_garp_after_resume_us", s->guest_garp_after_resume_ns);
	json_opt_us(w, "first_na_after_resume_us", s->guest_na_after_resume_ns);
	json_end(w, '}');
	json_end(w, '}');
}

void render_switchover_json(struct json_writer *w, const struct report_migration *m,
			    const struct report *r)
{
	json_opt_bool(w, "completed", m->sw.completed);
	json_timeline(w, m);
	json_schedule(w, m, r);
}
