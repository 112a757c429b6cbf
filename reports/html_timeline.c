/*
 * The HTML report's timeline: one inline SVG per view of a migration, panels
 * stacked on one time axis (relative to the stream's start) so a moment lines
 * up across them:
 *   lost probes (x) over the probe round trips (log scale),
 *   the stream's throughput per rate bin,
 *   its retransmitted segments per bin,
 *   one lane per vantage and announcement kind (RARP, GARP, NA),
 * behind them the blackout: the probe gap band and, inside it, the guest's
 * silence; across them a vertical marker per switchover event (the stream's
 * start and the timeline of html_switchover.c), labelled in rows above the
 * plots (html_marks.c). Each plotted item carries a class (probe, lost, retx,
 * announce, blackout, silence, mark) so tests can count them, and a <title>
 * for a tooltip.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "reports/html.h"
#include "reports/render.h"
#include "reports/units.h"

/* Geometry in SVG units; the page shows the 1200-wide view box at up to
 * 1200 px, readable on a 1280 px screen. */
enum {
	SVG_W = 1200,
	MARGIN_L = 132, /* lane and axis labels */
	MARGIN_R = 24,
	BAND_Y = 16,    /* baseline of the blackout label, the top row */
	MARK_TOP = 24,  /* the rows of event labels start here */
	MARK_ROW_H = 14,
	TOP_GAP = 30,   /* below the event labels: the first panel's title */
	LOST_H = 18,
	RTT_H = 180,
	TITLE_GAP = 34, /* between panels: the next one's title */
	RATE_H = 120,
	RETX_H = 46,
	LANE_H = 18,
	AXIS_H = 46,
	MAX_LANES = 16,
	LABEL_EDGE = 4, /* labels above the plots may use the margins up to this */
};

/* A zoom is drawn when the switchover spans less than this share of the
 * whole window: below it the blackout is a sliver in the overview. */
#define ZOOM_SHARE 0.4
#define MS_NS 1000000.0

struct view {
	const char *id;
	int64_t t0;     /* absolute time of 0 on the axis: the stream's start */
	int64_t x0, x1; /* visible window, ns relative to t0 */
};

enum { STALL_BARS = 8 }; /* the guest flows' stalls drawn, the worst first */

static double px(const struct view *v, int64_t abs_ns)
{
	double rel = (double)(abs_ns - v->t0), span = (double)(v->x1 - v->x0);

	return MARGIN_L + (rel - (double)v->x0) * (SVG_W - MARGIN_L - MARGIN_R) / span;
}

static double clamp_px(double x)
{
	return x < MARGIN_L ? MARGIN_L : x > SVG_W - MARGIN_R ? SVG_W - MARGIN_R : x;
}

static bool visible(const struct view *v, int64_t abs_ns)
{
	int64_t rel = abs_ns - v->t0;

	return rel >= v->x0 && rel <= v->x1;
}

/* ms since the stream's start, for tooltips: "+812.345 ms" */
static const char *rel_ms(const struct view *v, int64_t abs_ns, char *buf, size_t len)
{
	char num[40];

	format_ms(abs_ns - v->t0, num, sizeof(num));
	snprintf(buf, len, "%s%s ms", abs_ns >= v->t0 ? "+" : "", num);
	return buf;
}

/* ---- time axis ------------------------------------------------------- */

struct time_ticks {
	double unit;  /* ns per label unit */
	const char *unit_name;
	double step, first; /* in label units */
	int decimals;
};

static struct time_ticks time_ticks(const struct view *v)
{
	struct time_ticks t;
	double lo, hi;

	t.unit = (v->x1 - v->x0) <= 4 * 1000000000LL ? MS_NS : 1e9;
	t.unit_name = t.unit == MS_NS ? "ms" : "s";
	lo = (double)v->x0 / t.unit;
	hi = (double)v->x1 / t.unit;
	t.step = html_tick_step(lo, hi, 10);
	t.first = html_tick_first(lo, t.step);
	t.decimals = t.step >= 1 ? 0 : (int)ceil(-log10(t.step) - 1e-9);
	return t;
}

static void x_grid(FILE *out, const struct view *v, double y0, double y1)
{
	struct time_ticks t = time_ticks(v);

	for (double k = t.first; k <= (double)v->x1 / t.unit + 1e-9; k += t.step) {
		double x = px(v, v->t0 + (int64_t)llround(k * t.unit));

		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			x, y0, x, y1);
	}
}

static void x_axis(FILE *out, const struct view *v, double y)
{
	struct time_ticks t = time_ticks(v);

	fprintf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", MARGIN_L,
		y, SVG_W - MARGIN_R, y);
	for (double k = t.first; k <= (double)v->x1 / t.unit + 1e-9; k += t.step) {
		double x = px(v, v->t0 + (int64_t)llround(k * t.unit));
		double shown = fabs(k) < t.step / 2 ? 0 : k;

		fprintf(out, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>\n",
			x, y, x, y + 5, x, y + 18, t.decimals, shown);
	}
	fprintf(out, "<text class=\"axislabel\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">"
		"time since the migration stream started (%s)</text>\n",
		(MARGIN_L + SVG_W - MARGIN_R) / 2, y + 38, t.unit_name);
}

static void panel_title(FILE *out, double y, const char *title, const char *note)
{
	fprintf(out, "<text class=\"ptitle\" x=\"%d\" y=\"%.1f\">", MARGIN_L, y - 10);
	html_esc(out, title);
	if (note) {
		fputs("<tspan class=\"pnote\"> \xc2\xb7 ", out);
		html_esc(out, note);
		fputs("</tspan>", out);
	}
	fputs("</text>\n", out);
}

static void panel_frame(FILE *out, double y, double h)
{
	fprintf(out, "<rect class=\"frame\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\"/>\n",
		MARGIN_L, y, SVG_W - MARGIN_L - MARGIN_R, h);
}

/* ---- blackout and stream events -------------------------------------- */

static void band(FILE *out, const struct view *v, const char *cls, int64_t from, int64_t to,
		 double y0, double y1, const char *what)
{
	double a = clamp_px(px(v, from)), b = clamp_px(px(v, to));
	char len[40];

	if (b <= a && !(visible(v, from) || visible(v, to)))
		return;
	format_ms(to - from, len, sizeof(len));
	fprintf(out, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
		"<title>%s %s ms</title></rect>\n", cls, a, y0, b - a > 1 ? b - a : 1, y1 - y0, what,
		len);
}

/* The blackout label in the top row: right of the bands, else left of them,
 * else inside them, from their left edge. */
static double band_label_x(double left, double right, double w, const char **anchor)
{
	*anchor = "start";
	if (right + 6 + w <= SVG_W - LABEL_EDGE)
		return right + 6;
	if (left - 6 - w >= LABEL_EDGE) {
		*anchor = "end";
		return left - 6;
	}
	return clamp_px(left) + 6;
}

/* The guest's flows' stalls, the worst first: a thin bar each along the top
 * of the blackout, its flow and length in the tooltip. */
static void stalls(FILE *out, const struct view *v, const struct report_migration *m, double y0)
{
	const struct report_guest_traffic *t = &m->traffic;

	for (int k = 0; k < t->nlist && k < STALL_BARS; k++) {
		const struct report_guest_flow *f = &t->list[k];
		int64_t a = f->stall_to_guest_ns.set ? f->stall_to_guest_ns.v : 0;
		int64_t b = f->stall_from_guest_ns.set ? f->stall_from_guest_ns.v : 0;
		char what[2 * REPORT_ADDR_LEN + 64];

		if (!f->stall_start_ns.set)
			continue;
		snprintf(what, sizeof(what), "%s %s:%u \xe2\x86\x92 %s:%u stalled", f->proto, f->client,
			 f->client_port, f->server, f->server_port);
		band(out, v, "stall", f->stall_start_ns.v, f->stall_start_ns.v + (a > b ? a : b),
		     y0 + 2 + k * 5, y0 + 5 + k * 5, what);
	}
}

static void blackout(FILE *out, const struct view *v, const struct report_migration *m,
		     double y0, double y1)
{
	char a[40], b[40], label[160];
	double left, right = 0, x;
	const char *anchor;

	if (m->downtime.gap_start_ns.set && m->downtime.gap_end_ns.set) {
		band(out, v, "blackout", m->downtime.gap_start_ns.v, m->downtime.gap_end_ns.v, y0, y1,
		     "probe gap");
		right = px(v, m->downtime.gap_end_ns.v);
	} else if (m->downtime.gap_start_ns.set) {
		/* never answered again: the gap runs to the end of the view */
		band(out, v, "blackout", m->downtime.gap_start_ns.v, v->t0 + v->x1, y0, y1,
		     "no reply since, at least");
		right = SVG_W - MARGIN_R;
	}
	if (m->downtime.silence_start_ns.set)
		band(out, v, "silence", m->downtime.silence_start_ns.v, m->downtime.silence_end_ns.v, y0, y1,
		     "guest silence");
	stalls(out, v, m, y0);
	if (!m->downtime.gap_start_ns.set)
		return;
	left = px(v, m->downtime.gap_start_ns.v);
	if (m->downtime.silence_start_ns.set && px(v, m->downtime.silence_start_ns.v) < left)
		left = px(v, m->downtime.silence_start_ns.v);
	if (m->downtime.silence_end_ns.set && px(v, m->downtime.silence_end_ns.v) > right)
		right = px(v, m->downtime.silence_end_ns.v);
	snprintf(label, sizeof(label), "blackout: probe gap %s",
		 m->downtime.probe_gap_ns.set ? html_ms(m->downtime.probe_gap_ns, a, sizeof(a))
					       : "open (no reply after)");
	if (m->downtime.guest_silence_ns.set)
		snprintf(label + strlen(label), sizeof(label) - strlen(label), ", guest silence %s",
			 html_ms(m->downtime.guest_silence_ns, b, sizeof(b)));
	/* 12 px, semi-bold: 15 % wider than the regular weight */
	x = band_label_x(clamp_px(left), clamp_px(right), html_text_w(label, 12) * 1.15, &anchor);
	fprintf(out, "<text class=\"bandlabel\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">", x,
		BAND_Y, anchor);
	html_esc(out, label);
	fputs("</text>\n", out);
}

/* What t = 0 is: "resume", or "last stream data" where no RARP marks one. */
static const char *t0_words(const struct report_migration *m)
{
	return !strcmp(m->sw.t0_event, TL_RESUME) ? "resume" : "last stream data";
}

/* ---- event markers --------------------------------------------------- */

/* The events marked on a view, with their labels placed (html_marks.c). */
struct marks {
	struct html_mark mark[HTML_MAX_MARKS];
	const char *event[HTML_MAX_MARKS];
	int64_t ts[HTML_MAX_MARKS];
	int n, rows;
};

static void add_mark(struct marks *mk, const struct view *v, const char *event, const char *label,
		     int64_t ts)
{
	if (mk->n >= HTML_MAX_MARKS || !visible(v, ts))
		return;
	mk->mark[mk->n] = (struct html_mark){ .x = px(v, ts), .label = label,
					      .bold = html_key_event(event) };
	mk->event[mk->n] = event;
	mk->ts[mk->n++] = ts;
}

/* The stream's start, and the switchover's events: all of them when `all`,
 * else the stream end and the events the verdict turns on (an overview that
 * a zoom follows: there the rest would crowd a few pixels). */
static void collect_marks(const struct report_migration *m, const struct view *v, bool all,
			  struct marks *mk)
{
	mk->n = 0;
	if (m->stream.start_ns.set)
		add_mark(mk, v, "stream_start", "stream start", m->stream.start_ns.v);
	for (int i = 0; i < m->sw.ntimeline; i++) {
		const struct report_timeline_event *e = &m->sw.timeline[i];

		if (e->state == TL_SEEN &&
		    (all || html_key_event(e->event) || !strcmp(e->event, TL_STREAM_END)))
			add_mark(mk, v, e->event, switchover_event_label(e->event), e->ts_ns);
	}
	mk->rows = html_marks_place(mk->mark, mk->n, LABEL_EDGE, SVG_W - LABEL_EDGE);
}

static void draw_marks(FILE *out, const struct report_migration *m, const struct marks *mk,
		       double y1)
{
	char t[48];

	for (int i = 0; i < mk->n; i++) {
		const struct html_mark *k = &mk->mark[i];
		bool stream = !strcmp(mk->event[i], "stream_start") ||
			      !strcmp(mk->event[i], TL_STREAM_END);
		double base = MARK_TOP + (mk->rows - k->row) * MARK_ROW_H - 3;

		fprintf(out, "<g class=\"mark\" data-event=\"%s\"><title>", mk->event[i]);
		html_esc(out, !strcmp(mk->event[i], "stream_start") ? "migration stream start"
				   : switchover_event_text(mk->event[i]));
		if (m->sw.ntimeline) {
			format_ms(mk->ts[i] - m->sw.t0_ns, t, sizeof(t));
			fprintf(out, ", %s%s ms after the %s", mk->ts[i] >= m->sw.t0_ns ? "+" : "", t,
				t0_words(m));
		}
		fprintf(out, "</title><line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\"/><text class=\"marklabel%s\" x=\"%.1f\" y=\"%.1f\" "
			"text-anchor=\"%s\">", stream ? "event" : k->bold ? "tlmark key" : "tlmark",
			k->x, base - 9, k->x, y1, k->bold ? " key" : "",
			k->left ? k->x - HTML_MARK_PAD : k->x + HTML_MARK_PAD, base,
			k->left ? "end" : "start");
		html_esc(out, k->label);
		fputs("</text></g>\n", out);
	}
}

/* ---- probes ---------------------------------------------------------- */

struct log_axis {
	int lo, hi; /* decades: 10^lo .. 10^hi ms */
	double y0, h;
};

static double log_y(const struct log_axis *a, int64_t rtt_ns)
{
	double ms = (double)rtt_ns / MS_NS, l;

	l = ms > 0 ? log10(ms) : a->lo;
	if (l < a->lo)
		l = a->lo;
	if (l > a->hi)
		l = a->hi;
	return a->y0 + a->h - (l - a->lo) * a->h / (a->hi - a->lo);
}

static struct log_axis rtt_axis(const struct view *v, const struct report_plot *p, double y0)
{
	struct log_axis a = { .lo = -1, .hi = 2, .y0 = y0, .h = RTT_H };
	double lo = 0, hi = 0;

	for (int k = 0; k < p->nprobes; k++) {
		double ms = (double)p->probes[k].rtt_ns / MS_NS;

		if (p->probes[k].rtt_ns <= 0 || !visible(v, p->probes[k].req_ns))
			continue;
		if (!lo || ms < lo)
			lo = ms;
		if (ms > hi)
			hi = ms;
	}
	if (hi > 0) {
		a.lo = (int)floor(log10(lo));
		a.hi = (int)ceil(log10(hi));
	}
	a.lo = a.lo < -3 ? -3 : a.lo > 4 ? 4 : a.lo;
	a.hi = a.hi > 5 ? 5 : a.hi;
	if (a.hi <= a.lo)
		a.hi = a.lo + 1;
	return a;
}

static void rtt_panel(FILE *out, const struct view *v, const struct report_migration *m, double y)
{
	const struct report_plot *p = &m->plot;
	struct log_axis a = rtt_axis(v, p, y + LOST_H);
	double lost_y = y + LOST_H / 2.0;
	char note[160], t[48], r[48];

	snprintf(note, sizeof(note), "at the %s \xc2\xb7 %" PRId64 " sent, %" PRId64 " lost%s",
		 m->downtime.probe_vantage && !strcmp(m->downtime.probe_vantage, "ctl") ? "prober"
									  : "compute NIC",
		 m->loss.probes_sent.v, m->loss.lost_probes.v,
		 p->probes_decimated ? " \xc2\xb7 thinned: every lost probe, each bucket's extremes" : "");
	panel_title(out, y, "Probe round trip (ms, log scale)", m->loss.probes_sent.set ? note : NULL);
	fprintf(out, "<rect class=\"loststrip\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>"
		"<text class=\"lanelabel\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">lost</text>\n",
		MARGIN_L, y, SVG_W - MARGIN_L - MARGIN_R, LOST_H, MARGIN_L - 8, lost_y + 4);
	panel_frame(out, a.y0, a.h);
	for (int d = a.lo; d <= a.hi; d++) {
		for (int f = 1; f <= 5; f += (f == 1 ? 1 : 3)) { /* 1, 2, 5 per decade */
			double yy = log_y(&a, (int64_t)(f * pow(10, d) * MS_NS));

			if (d == a.hi && f > 1)
				break;
			fprintf(out, "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
				f == 1 ? "grid" : "gridminor", MARGIN_L, yy, SVG_W - MARGIN_R, yy);
			/* with two decades or fewer, 2 and 5 are labelled too */
			if (f == 1 || a.hi - a.lo <= 2)
				fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" "
					"text-anchor=\"end\">%g</text>\n", MARGIN_L - 6, yy + 4,
					f * pow(10, d));
		}
	}
	fprintf(out, "<text class=\"axislabel\" transform=\"translate(%d %.1f) rotate(-90)\" "
		"text-anchor=\"middle\">RTT (ms)</text>\n", MARGIN_L - 48, a.y0 + a.h / 2);
	if (!p->nprobes) {
		fprintf(out, "<text class=\"empty\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">"
			"no echo probes to the guest in these captures</text>\n",
			(MARGIN_L + SVG_W - MARGIN_R) / 2, a.y0 + a.h / 2);
		return;
	}
	for (int k = 0; k < p->nprobes; k++) {
		const struct report_probe_point *pt = &p->probes[k];
		double x;

		if (!visible(v, pt->req_ns))
			continue;
		x = px(v, pt->req_ns);
		if (pt->rtt_ns == REPORT_RTT_LOST)
			fprintf(out, "<path class=\"lost\" d=\"M%.1f %.1fl6 6m0 -6l-6 6\">"
				"<title>lost probe sent at %s</title></path>\n", x - 3, lost_y - 3,
				rel_ms(v, pt->req_ns, t, sizeof(t)));
		else
			fprintf(out, "<circle class=\"probe\" cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\">"
				"<title>%s: RTT %s</title></circle>\n", x, log_y(&a, pt->rtt_ns),
				rel_ms(v, pt->req_ns, t, sizeof(t)),
				html_ms(opt_some(pt->rtt_ns), r, sizeof(r)));
	}
}

/* ---- stream ---------------------------------------------------------- */

static double bin_mbps(const struct report_plot *p, int k)
{
	return (double)p->rate[k].bytes * 8.0 * 1e3 / (double)p->rate_bin_ns;
}

static void rate_panel(FILE *out, const struct view *v, const struct report_migration *m, double y)
{
	const struct report_plot *p = &m->plot;
	double max = 0, step, top, base = y + RATE_H;
	char note[96];

	snprintf(note, sizeof(note), "%.0f ms bins at the %s, retransmissions included",
		 (double)p->rate_bin_ns / MS_NS, html_vantage_name(p->rate_vantage));
	panel_title(out, y, "Migration stream throughput (Mbit/s)", p->nrate ? note : NULL);
	panel_frame(out, y, RATE_H);
	for (int k = 0; k < p->nrate; k++)
		if (bin_mbps(p, k) > max)
			max = bin_mbps(p, k);
	step = html_tick_step(0, max > 0 ? max : 1, 4);
	top = ceil((max > 0 ? max : 1) / step - 1e-9) * step;
	for (double t = 0; t <= top + step / 2; t += step) {
		double yy = base - t * RATE_H / top;

		fprintf(out, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			MARGIN_L, yy, SVG_W - MARGIN_R, yy, MARGIN_L - 6, yy + 4, t);
	}
	fprintf(out, "<text class=\"axislabel\" transform=\"translate(%d %.1f) rotate(-90)\" "
		"text-anchor=\"middle\">Mbit/s</text>\n", MARGIN_L - 48, y + RATE_H / 2.0);
	if (!p->nrate) {
		fprintf(out, "<text class=\"empty\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">"
			"no stream payload captured</text>\n", (MARGIN_L + SVG_W - MARGIN_R) / 2,
			y + RATE_H / 2.0);
		return;
	}
	/* a step line: each bin flat over its width, clipped to the view */
	fprintf(out, "<path class=\"rate\" d=\"M%.1f %.1f", clamp_px(px(v, p->rate[0].start_ns)), base);
	for (int k = 0; k < p->nrate; k++) {
		double yy = base - bin_mbps(p, k) * RATE_H / top;

		fprintf(out, "L%.1f %.1fL%.1f %.1f", clamp_px(px(v, p->rate[k].start_ns)), yy,
			clamp_px(px(v, p->rate[k].start_ns + p->rate_bin_ns)), yy);
	}
	fprintf(out, "L%.1f %.1fZ\"/>\n",
		clamp_px(px(v, p->rate[p->nrate - 1].start_ns + p->rate_bin_ns)), base);
}

static void retx_panel(FILE *out, const struct view *v, const struct report_migration *m, double y)
{
	const struct report_plot *p = &m->plot;
	uint32_t max = 0;
	char note[96], title[64], t[48];

	snprintf(note, sizeof(note), "%" PRId64 " in all, %s view", m->stream.retx_segments.v,
		 m->stream.retx_vantage ? m->stream.retx_vantage : "?");
	snprintf(title, sizeof(title), "Retransmitted segments per %.0f ms",
		 (double)p->rate_bin_ns / MS_NS);
	panel_title(out, y, title, m->stream.retx_segments.set ? note : NULL);
	panel_frame(out, y, RETX_H);
	for (int k = 0; k < p->nrate; k++)
		if (p->rate[k].retx_segments > max)
			max = p->rate[k].retx_segments;
	fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%" PRIu32 "</text>"
		"<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">0</text>\n",
		MARGIN_L - 6, y + 10, max ? max : 1, MARGIN_L - 6, y + RETX_H);
	for (int k = 0; k < p->nrate; k++) {
		const struct report_rate_bin *b = &p->rate[k];
		double a = clamp_px(px(v, b->start_ns)), e = clamp_px(px(v, b->start_ns + p->rate_bin_ns));
		double h = (double)b->retx_segments * (RETX_H - 4) / (max ? max : 1);

		if (!b->retx_segments || e <= a)
			continue;
		fprintf(out, "<rect class=\"retx\" data-retx=\"%" PRIu32 "\" x=\"%.1f\" y=\"%.1f\" "
			"width=\"%.1f\" height=\"%.1f\"><title>%s: %" PRIu32 " retransmitted</title>"
			"</rect>\n", b->retx_segments, a + 0.5, y + RETX_H - h, e - a - 1 > 1 ? e - a - 1 : 1,
			h, rel_ms(v, b->start_ns, t, sizeof(t)), b->retx_segments);
	}
}

/* ---- announcements --------------------------------------------------- */

struct lane {
	const char *vantage;
	int kind;
};

static void add_vantage(const char **list, int *n, const char *v)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(list[i], v))
			return;
	if (*n < REPORT_MAX_INPUTS + 1)
		list[(*n)++] = v;
}

/* One lane per vantage that watched this migration and per kind seen
 * anywhere, so an empty lane says "this capture saw none of them". */
static int announce_lanes(const struct report *r, const struct report_migration *m,
			  struct lane *lanes)
{
	const char *vantages[REPORT_MAX_INPUTS + 1];
	bool kind_seen[3] = { false, false, false }, any = false;
	int nv = 0, n = 0;

	if (m->src_input >= 0)
		add_vantage(vantages, &nv, "src");
	if (m->dst_input >= 0)
		add_vantage(vantages, &nv, "dst");
	for (int i = 0; i < r->ninputs; i++)
		if (i != m->src_input && i != m->dst_input)
			add_vantage(vantages, &nv, "ctl");
	for (int k = 0; k < m->announce.nseen; k++) {
		add_vantage(vantages, &nv, m->announce.seen[k].vantage);
		if (m->announce.seen[k].kind <= REPORT_NA)
			kind_seen[m->announce.seen[k].kind] = any = true;
	}
	if (!any)
		kind_seen[REPORT_RARP] = true;
	for (int kind = REPORT_RARP; kind <= REPORT_NA; kind++)
		for (int i = 0; i < nv && n < MAX_LANES; i++)
			if (kind_seen[kind])
				lanes[n++] = (struct lane){ vantages[i], kind };
	return n;
}

static void marker(FILE *out, int kind, double x, double y)
{
	static const char *const cls[] = { "rarp", "garp", "na" };

	if (kind == REPORT_RARP)
		fprintf(out, "<path class=\"announce %s\" d=\"M%.1f %.1fl5 8h-10z\">", cls[kind], x,
			y - 5);
	else if (kind == REPORT_GARP)
		fprintf(out, "<circle class=\"announce %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.2\">",
			cls[kind], x, y);
	else
		fprintf(out, "<path class=\"announce %s\" d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\">", cls[kind],
			x, y - 5);
}

static void announce_panel(FILE *out, const struct view *v, const struct report_migration *m, const struct lane *lanes, int nlanes,
			   double y)
{
	char a[40], t[48];

	snprintf(a, sizeof(a), "%d sightings", m->announce.nseen);
	panel_title(out, y, "Announcements per vantage", m->announce.nseen ? a : "none seen");
	panel_frame(out, y, (double)nlanes * LANE_H);
	for (int l = 0; l < nlanes; l++) {
		double yy = y + l * LANE_H + LANE_H / 2.0;

		if (l % 2)
			fprintf(out, "<rect class=\"laneband\" x=\"%d\" y=\"%.1f\" width=\"%d\" "
				"height=\"%d\"/>\n", MARGIN_L, y + l * LANE_H,
				SVG_W - MARGIN_L - MARGIN_R, LANE_H);
		fprintf(out, "<text class=\"lanelabel\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
			"<tspan class=\"k%d\">%s</tspan> ", MARGIN_L - 8, yy + 4, lanes[l].kind,
			announce_kind_name(lanes[l].kind));
		html_esc(out, html_vantage_name(lanes[l].vantage));
		fputs("</text>\n", out);
		for (int k = 0; k < m->announce.nseen; k++) {
			const struct report_announce *an = &m->announce.seen[k];

			if (an->kind != lanes[l].kind || strcmp(an->vantage, lanes[l].vantage) ||
			    !visible(v, an->ts_ns))
				continue;
			marker(out, an->kind, px(v, an->ts_ns), yy);
			fprintf(out, "<title>%s at the ", announce_kind_name(an->kind));
			html_esc(out, html_vantage_name(an->vantage));
			fprintf(out, ", %s", rel_ms(v, an->ts_ns, t, sizeof(t)));
			if (m->sw.ntimeline) {
				format_ms(an->ts_ns - m->sw.t0_ns, a, sizeof(a));
				fprintf(out, " (%s%s ms after the %s)",
					an->ts_ns >= m->sw.t0_ns ? "+" : "", a, t0_words(m));
			}
			fprintf(out, "</title></%s>\n", an->kind == REPORT_GARP ? "circle" : "path");
		}
	}
}

/* ---- one view -------------------------------------------------------- */

static void timeline(FILE *out, const struct report *r, const struct report_migration *m,
		     const struct view *v, bool all_events, const char *caption)
{
	struct lane lanes[MAX_LANES];
	struct marks mk;
	int nlanes = announce_lanes(r, m, lanes);
	double y_lost, y_rate, y_retx, y_ann, y_axis, height;

	collect_marks(m, v, all_events, &mk);
	y_lost = MARK_TOP + mk.rows * MARK_ROW_H + TOP_GAP;
	y_rate = y_lost + LOST_H + RTT_H + TITLE_GAP;
	y_retx = y_rate + RATE_H + TITLE_GAP;
	y_ann = y_retx + RETX_H + TITLE_GAP;
	y_axis = y_ann + nlanes * LANE_H;
	height = y_axis + AXIS_H;

	fprintf(out, "<figure class=\"timeline\">\n<figcaption>");
	html_esc(out, caption);
	fprintf(out, "</figcaption>\n<svg id=\"%s\" class=\"timeline\" viewBox=\"0 0 %d %.0f\" "
		"role=\"img\" aria-label=\"", v->id, SVG_W, height);
	html_esc(out, caption);
	fputs("\">\n", out);
	blackout(out, v, m, y_lost, y_axis);
	x_grid(out, v, y_lost, y_axis);
	draw_marks(out, m, &mk, y_axis);
	rtt_panel(out, v, m, y_lost);
	rate_panel(out, v, m, y_rate);
	retx_panel(out, v, m, y_retx);
	announce_panel(out, v, m, lanes, nlanes, y_ann);
	x_axis(out, v, y_axis);
	fputs("</svg>\n</figure>\n", out);
}

static void widen(int64_t *lo, int64_t *hi, int64_t rel)
{
	if (rel < *lo)
		*lo = rel;
	if (rel > *hi)
		*hi = rel;
}

/* The window the migration's data covers, relative to its stream start. */
static void data_extent(const struct report_migration *m, int64_t t0, int64_t *lo, int64_t *hi)
{
	const struct report_plot *p = &m->plot;

	*lo = 0;
	*hi = m->stream.end_ns.set ? m->stream.end_ns.v - t0 : 0;
	for (int k = 0; k < p->nprobes; k++)
		widen(lo, hi, p->probes[k].req_ns - t0);
	for (int k = 0; k < m->announce.nseen; k++)
		widen(lo, hi, m->announce.seen[k].ts_ns - t0);
	if (p->nrate)
		widen(lo, hi, p->rate[p->nrate - 1].start_ns + p->rate_bin_ns - t0);
	if (m->downtime.gap_end_ns.set)
		widen(lo, hi, m->downtime.gap_end_ns.v - t0);
	for (int k = 0; k < m->sw.ntimeline; k++)
		if (m->sw.timeline[k].state == TL_SEEN)
			widen(lo, hi, m->sw.timeline[k].ts_ns - t0);
	if (*hi - *lo < 1000000)
		*hi = *lo + 1000000;
}

/* Around the switchover: from a little before the guest fell silent to the
 * last announcement of the burst that followed (QEMU's rounds end about
 * 800 ms after resume) or the first reply, whichever is later. */
static bool switchover_extent(const struct report_migration *m, int64_t t0, int64_t *lo,
			      int64_t *hi)
{
	int64_t from, to, end;

	if (!m->stream.end_ns.set)
		return false;
	end = m->stream.end_ns.v;
	from = end;
	if (m->downtime.gap_start_ns.set && m->downtime.gap_start_ns.v < from)
		from = m->downtime.gap_start_ns.v;
	if (m->downtime.silence_start_ns.set && m->downtime.silence_start_ns.v < from)
		from = m->downtime.silence_start_ns.v;
	to = m->downtime.gap_end_ns.set ? m->downtime.gap_end_ns.v : end + 1500 * 1000000LL;
	if (m->downtime.silence_end_ns.set && m->downtime.silence_end_ns.v > to)
		to = m->downtime.silence_end_ns.v;
	for (int k = 0; k < m->announce.nseen; k++)
		if (m->announce.seen[k].ts_ns > to && m->announce.seen[k].ts_ns < end + 3000 * 1000000LL)
			to = m->announce.seen[k].ts_ns;
	/* every round of the announce bursts detailed (a later announce-self's
	 * too, when it came within 10 s), and every event of the timeline, so
	 * the zoom marks them all */
	for (int b = 0; b < m->sw.sched.nbursts; b++) {
		const struct report_announce_burst *bu = &m->sw.sched.burst[b];

		for (int k = 0; k < bu->nrounds; k++)
			for (int i = 0; i < REPORT_MAX_INPUTS; i++)
				if (bu->round[k].seen_ns[i] > to &&
				    bu->round[k].seen_ns[i] < end + 10000 * 1000000LL)
					to = bu->round[k].seen_ns[i];
	}
	for (int k = 0; k < m->sw.ntimeline; k++) {
		const struct report_timeline_event *e = &m->sw.timeline[k];

		if (e->state == TL_SEEN && e->ts_ns < from)
			from = e->ts_ns;
		if (e->state == TL_SEEN && e->ts_ns > to)
			to = e->ts_ns;
	}
	from -= (to - from) / 8 + 50 * 1000000LL;
	to += (to - from) / 16 + 50 * 1000000LL;
	*lo = from - t0;
	*hi = to - t0;
	return true;
}

void html_timelines(FILE *out, const struct report *r, const struct report_migration *m,
		    int index)
{
	char id[2][32], caption[160];
	struct view whole, zoom;
	int64_t t0 = m->stream.start_ns.set ? m->stream.start_ns.v
		     : m->plot.nprobes ? m->plot.probes[0].req_ns : 0;
	int64_t lo, hi, pad;
	bool zoomed;

	snprintf(id[0], sizeof(id[0]), "m%d-overview", index);
	snprintf(id[1], sizeof(id[1]), "m%d-switchover", index);
	data_extent(m, t0, &lo, &hi);
	pad = (hi - lo) / 100;
	whole = (struct view){ .id = id[0], .t0 = t0, .x0 = lo - pad, .x1 = hi + pad };
	zoomed = switchover_extent(m, t0, &lo, &hi) &&
		 (double)(hi - lo) <= ZOOM_SHARE * (double)(whole.x1 - whole.x0);
	zoom = (struct view){ .id = id[1], .t0 = t0, .x0 = lo, .x1 = hi };
	snprintf(caption, sizeof(caption), "Migration %d, the whole capture window", index);
	timeline(out, r, m, &whole, !zoomed, caption);
	if (!zoomed)
		return;
	snprintf(caption, sizeof(caption), "Migration %d, zoom on the switchover", index);
	timeline(out, r, m, &zoom, true, caption);
}
