/*
 * The HTML report's switchover block of a migration (html.h): the timeline
 * as a table (the same events, in the same order, as JSON `timeline`), and
 * QEMU's announce schedule as a grid per burst, rounds across, captures down,
 * with the rounds that left the destination NIC and never reached the prober
 * highlighted; then the guest's own GARP/NA. Times are relative to the last
 * stream data, as in the text and JSON reports. Rows and cells carry classes
 * and data- attributes (event, vantage, seen) that tests read.
 */
#include <inttypes.h>
#include <string.h>

#include "reports/html.h"
#include "reports/render.h"
#include "reports/units.h"

/* "+3.836 ms", "-95.276 ms" (U+2212 for minus, aligned with the plus) */
static const char *signed_ms(int64_t ns, char *buf, size_t len)
{
	char v[40];

	format_ms(ns < 0 ? -ns : ns, v, sizeof(v));
	snprintf(buf, len, "%s%s ms", ns < 0 ? "\xe2\x88\x92" : "+", v);
	return buf;
}

/* "-0.757": a round's lateness, the unit in the column's note */
static const char *late_ms(int64_t ns, char *buf, size_t len)
{
	signed_ms(ns, buf, len);
	buf[strlen(buf) - 3] = '\0'; /* " ms" */
	return buf;
}

/* The events the verdict turns on, set in bold in the table and the plots. */
bool html_key_event(const char *event)
{
	return !strcmp(event, TL_RESUME) || !strcmp(event, TL_FIRST_REQUEST_DST) ||
	       !strcmp(event, TL_FIRST_REPLY_PROBER);
}

/* ---- timeline -------------------------------------------------------- */

static void missing_why(FILE *out, const struct report_timeline_event *e)
{
	const char *where = html_vantage_name(e->vantage);

	if (e->state == TL_NO_CAPTURE)
		html_escf(out, "no capture at the %s", where);
	else
		html_escf(out, "not seen in the %s capture", where);
}

static void timeline_table(FILE *out, const struct report_migration *m)
{
	const struct report_switchover *s = &m->sw;
	char a[48], b[48];

	fputs("<div class=\"swpart\"><h4>Timeline</h4>"
	      "<p class=\"note\">t = 0 at the resume (the last migration stream data where no RARP "
	      "marks it); bold: the events the "
	      "verdict turns on</p>\n<table class=\"compact tl\">\n<tr><th class=\"num\">#</th>"
	      "<th>event</th><th>vantage</th><th class=\"num\">t</th>"
	      "<th class=\"num\">since previous</th></tr>\n", out);
	for (int i = 0; i < s->ntimeline; i++) {
		const struct report_timeline_event *e = &s->timeline[i];
		bool seen = e->state == TL_SEEN;

		fprintf(out, "<tr class=\"tl-row %s%s\" data-event=\"", seen ? "seen" : "missing",
			html_key_event(e->event) ? " key" : "");
		html_esc(out, e->event);
		fprintf(out, "\"><td class=\"num\">%d</td>", i + 1);
		fputs("<td>", out);
		html_esc(out, switchover_event_text(e->event));
		fputs("</td>", out);
		fputs("<td class=\"nowrap\">", out);
		html_esc(out, html_vantage_name(e->vantage));
		fputs("</td>", out);
		if (!seen) {
			fputs("<td class=\"why\" colspan=\"2\">", out);
			missing_why(out, e);
			fputs("</td></tr>\n", out);
			continue;
		}
		fprintf(out, "<td class=\"num t\">%s</td><td class=\"num\">%s</td></tr>\n",
			signed_ms(e->t_ns.v, a, sizeof(a)),
			e->since_prev_ns.set ? signed_ms(e->since_prev_ns.v, b, sizeof(b))
					     : "\xe2\x80\x94");
	}
	if (!s->ntimeline)
		fputs("<tr><td colspan=\"5\">no stream end, so no switchover to put in order</td>"
		      "</tr>\n", out);
	fputs("</table></div>\n", out);
}

/* ---- announce schedule ----------------------------------------------- */

/* Each round's time in the schedule: QEMU's parameters are whole ms. */
static void round_headers(FILE *out, const struct report_announce_sched *s, int nrounds)
{
	fputs("<tr><th>capture</th>", out);
	for (int k = 0; k < nrounds; k++)
		fprintf(out, "<th class=\"rd\">round %d<br><span class=\"sub\">+%" PRId64
			" ms</span></th>", k, s->round_offset_ns[k] / 1000000);
	fputs("<th class=\"num\">seen</th></tr>\n", out);
}

static void vantage_head(FILE *out, const struct report_migration *m, int input)
{
	const char *v = m->sw.vantage[input] ? m->sw.vantage[input] : "?";

	fputs("<tr class=\"sched-row\" data-vantage=\"", out);
	html_esc(out, v);
	fputs("\"><th scope=\"row\" class=\"nowrap\">", out);
	html_esc(out, html_vantage_name(v));
	if (input == m->sw.sched.anchor)
		fputs(" <span class=\"sub\">(anchor)</span>", out);
	fputs("</th>", out);
}

static void burst_grid(FILE *out, const struct report *r, const struct report_migration *m,
		       int bi)
{
	const struct report_announce_sched *s = &m->sw.sched;
	const struct report_announce_burst *bu = &s->burst[bi];
	int nlost = __builtin_popcount(bu->not_at_prober);
	char a[48];

	fprintf(out, "<div class=\"burst\"><div class=\"bhead\">Burst %d at %s%s</div>"
		"<div class=\"scroll\"><table class=\"compact sched\" data-burst=\"%d\">\n", bi + 1,
		signed_ms(bu->t_ns, a, sizeof(a)),
		bi ? " <span class=\"sub\">\xc2\xb7 a later announce, e.g. QMP announce-self</span>"
		   : "", bi + 1);
	round_headers(out, s, bu->nrounds);
	for (int i = 0; i < r->ninputs; i++) {
		bool prober = m->sw.vantage[i] && !strcmp(m->sw.vantage[i], "ctl");

		vantage_head(out, m, i);
		for (int k = 0; k < bu->nrounds; k++) {
			const struct report_announce_round *rd = &bu->round[k];

			if (rd->seen_ns[i]) {
				late_ms(rd->seen_ns[i] - rd->expected_ns, a, sizeof(a));
				fprintf(out, "<td class=\"rd seen\" title=\"round %d seen, %s ms "
					"against the schedule\">\xe2\x9c\x93 <span class=\"late\">%s"
					"</span></td>", k, a, a);
			} else if (prober && (bu->not_at_prober >> k & 1)) {
				fputs("<td class=\"rd lost\" title=\"left the destination NIC, not at "
				      "the prober\">\xe2\x9c\x95 lost</td>", out);
			} else {
				fputs("<td class=\"rd missing\">missing</td>", out);
			}
		}
		fprintf(out, "<td class=\"num count\" data-seen=\"%d\">%d/%d</td></tr>\n",
			bu->seen[i], bu->seen[i], bu->nrounds);
	}
	fputs("</table></div>", out);
	if (nlost) {
		fprintf(out, "<p class=\"alert\">%d of the %d rounds left the ", nlost, bu->nrounds);
		html_esc(out, html_vantage_name(m->sw.vantage[s->anchor]));
		fputs(" and never reached the prober</p>", out);
	}
	fputs("</div>\n", out);
}

/* No RARP anywhere although rounds were due: the grid of what should have been. */
static void empty_grid(FILE *out, const struct report *r, const struct report_migration *m)
{
	const struct report_announce_sched *s = &m->sw.sched;

	fprintf(out, "<div class=\"burst\"><div class=\"bhead alert\">No RARP in any capture: all %d "
		"rounds missing</div><div class=\"scroll\"><table class=\"compact sched none\">\n",
		s->params.rounds);
	round_headers(out, s, s->params.rounds);
	for (int i = 0; i < r->ninputs; i++) {
		vantage_head(out, m, i);
		for (int k = 0; k < s->params.rounds; k++)
			fputs("<td class=\"rd missing\">missing</td>", out);
		fprintf(out, "<td class=\"num count\" data-seen=\"0\">0/%d</td></tr>\n",
			s->params.rounds);
	}
	fputs("</table></div></div>\n", out);
}

/* "10 GARP, the first 18.231 ms after resume" */
static void guest_count(FILE *out, uint32_t n, const char *kind, struct opt_i64 first)
{
	char a[48];

	fprintf(out, "<span class=\"nowrap\">%" PRIu32 " %s", n, kind);
	if (first.set)
		fprintf(out, ", the first %s after resume", html_ms(first, a, sizeof(a)));
	fputs("</span>", out);
}

static void guest_announce(FILE *out, const struct report_migration *m)
{
	const struct report_announce_sched *s = &m->sw.sched;

	if (s->guest_input < 0)
		return;
	fputs("<p class=\"guestann\"><b>The guest's own announcements</b> (virtio-net guest "
	      "announce) at the ", out);
	html_esc(out, html_vantage_name(m->sw.vantage[s->guest_input]));
	if (!s->guest_garps && !s->guest_nas) {
		fputs(": none, no GARP and no unsolicited NA</p>\n", out);
		return;
	}
	fputs(": ", out);
	guest_count(out, s->guest_garps, "GARP", s->guest_garp_after_resume_ns);
	fputs(" \xc2\xb7 ", out);
	guest_count(out, s->guest_nas, "NA", s->guest_na_after_resume_ns);
	fputs("</p>\n", out);
}

static void schedule(FILE *out, const struct report *r, const struct report_migration *m)
{
	const struct report_announce_sched *s = &m->sw.sched;
	char a[48];

	fputs("<div class=\"swpart\"><h4>Announce schedule</h4>\n", out);
	if (m->sw.completed.set && !m->sw.completed.v) {
		fputs("<p class=\"note\">The migration did not complete: the guest stayed on the "
		      "source, nothing was due to announce.</p></div>\n", out);
		return;
	}
	if (!s->checked) {
		fputs("<p class=\"note\">No RARP in the captures and no rounds expected: nothing to "
		      "check.</p></div>\n", out);
		return;
	}
	format_ms(s->tolerance_ns, a, sizeof(a));
	fprintf(out, "<p class=\"note\">QEMU announce-initial %d ms, -max %d ms, -rounds %d, "
		"-step %d ms (--announce); a RARP counts for a round within \xc2\xb1%s ms of it. "
		"In the cells: ms early (\xe2\x88\x92) or late (+) against the schedule",
		s->params.initial_ms, s->params.max_ms, s->params.rounds, s->params.step_ms, a);
	if (s->anchor >= 0) {
		fputs(", set by the rounds seen at the ", out);
		html_esc(out, html_vantage_name(m->sw.vantage[s->anchor]));
	}
	fputs("</p>\n", out);
	if (!s->nbursts && s->params.rounds)
		empty_grid(out, r, m);
	for (int b = 0; b < s->nbursts; b++)
		burst_grid(out, r, m, b);
	if (s->more_bursts)
		fprintf(out, "<p class=\"note\">\xe2\x80\xa6 and %" PRIu32 " more bursts, not "
			"detailed</p>\n", s->more_bursts);
	for (int i = 0; i < r->ninputs; i++) {
		if (!s->unmatched[i])
			continue;
		fprintf(out, "<p class=\"note\">%" PRIu32 " RARP at the ", s->unmatched[i]);
		html_esc(out, html_vantage_name(m->sw.vantage[i]));
		fputs(" fit no round</p>\n", out);
	}
	guest_announce(out, m);
	fputs("</div>\n", out);
}

void html_switchover(FILE *out, const struct report *r, const struct report_migration *m)
{
	fputs("<h3>Switchover</h3>\n<div class=\"switchover\">\n", out);
	timeline_table(out, m);
	schedule(out, r, m);
	fputs("</div>\n", out);
}
