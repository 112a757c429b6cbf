/*
 * The report as one self-contained HTML page: inline CSS and SVG, no script,
 * no font, image or link to fetch, so it opens the same offline, attached to
 * a ticket or in a mail. Top: the guest, the migrations at a glance and the
 * captures with their clock offsets; then per migration its verdict with the
 * evidence, the fault's duration and the reconvergence, the key figures, the
 * switchover's timeline table and announce grid (html_switchover.c), the
 * timelines (html_timeline.c) and the loss and round trips by phase. Status
 * is said in words and a glyph besides its colour. Every string from the
 * captures or the command line goes through html_esc().
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <string.h>

#include "reports/html.h"
#include "reports/render.h"
#include "reports/units.h"

static const char STYLE[] =
	":root{--ink:#1f2933;--muted:#616e7c;--line:#d9dee4;--soft:#f4f6f8;--ok:#0f766e;"
	"--bad:#b42318;--warn:#b54708;--na:#52606d}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;background:#eef1f4;color:var(--ink);font:14px/1.45 system-ui,-apple-system,"
	"'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
	"main{max-width:1240px;margin:0 auto;padding:24px 20px 40px}\n"
	"header.page{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap;margin-bottom:18px}\n"
	"h1{font-size:22px;margin:0;font-weight:650;letter-spacing:-.01em}\n"
	"h2{font-size:17px;margin:0 0 12px;font-weight:650}\n"
	"h3{font-size:13px;margin:18px 0 8px;text-transform:uppercase;letter-spacing:.06em;"
	"color:var(--muted);font-weight:600}\n"
	".sub{color:var(--muted)}\n"
	"section.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 20px;"
	"margin-bottom:18px;box-shadow:0 1px 2px rgba(16,24,40,.04)}\n"
	"table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
	"th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}\n"
	"th{font-size:12px;color:var(--muted);font-weight:600;background:var(--soft)}\n"
	"td.num,th.num{text-align:right;white-space:nowrap}.nowrap{white-space:nowrap}\n"
	"table.compact{font-size:13px}table.compact th,table.compact td{padding:6px 8px}\n"
	"td.file{word-break:break-all;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
	"font-size:12px}\n"
	".badge{display:inline-block;padding:2px 9px;border-radius:999px;font-size:12px;font-weight:650;"
	"color:#fff;white-space:nowrap}\n"
	".badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.na{background:var(--na)}\n"
	".verdict{border-left:4px solid var(--bad);background:#fef3f2;padding:10px 14px;border-radius:4px;"
	"margin-bottom:14px}\n"
	".verdict.ok{border-color:var(--ok);background:#f0fdf9}"
	".verdict.na{border-color:var(--na);background:var(--soft)}\n"
	".verdict p{margin:4px 0 0;font-size:15px}.verdict ul{margin:6px 0 0;padding-left:20px;"
	"color:#323f4b}\n"
	".vhead{display:flex;align-items:center;gap:10px}"
	".status{font-size:13px;font-weight:700;letter-spacing:.02em;color:var(--bad)}"
	".verdict.ok .status{color:var(--ok)}.verdict.na .status{color:var(--na)}\n"
	".vfacts{display:flex;flex-wrap:wrap;gap:4px 28px;margin:8px 0 2px;font-size:13px}"
	".vfacts div{display:flex;gap:6px}.vfacts dt{color:var(--muted)}"
	".vfacts dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums}\n"
	/* the switchover block: the timeline table, then the announce schedule */
	".swpart{margin-bottom:14px}h4{font-size:14px;margin:0 0 2px;font-weight:650}"
	".note{color:var(--muted);font-size:12px;margin:0 0 8px}\n"
	"table.tl tr.missing td{color:var(--muted)}table.tl td.why{font-style:italic}"
	"table.tl tr.key td{font-weight:650}\n"
	".scroll{overflow-x:auto}.burst{margin-bottom:12px}.bhead{font-size:13px;font-weight:600;margin:6px 0 4px}\n"
	"table.sched{width:auto;min-width:620px}"
	"table.sched th,table.sched td{text-align:center;padding:5px 10px;white-space:nowrap}"
	"table.sched th:first-child{text-align:left}table.sched th[scope=row]{background:none;color:var(--ink);font-size:13px;"
	"font-weight:500}table.sched .sub{font-weight:400;font-size:11px}\n"
	"td.rd{font-size:12px}td.rd.seen{background:#ecfdf3;color:#05603a}"
	"td.rd.seen .late{color:#3e4c59}td.rd.missing{background:var(--soft);color:var(--muted)}"
	"td.rd.lost{background:#fee4e2;color:#912018;font-weight:650;"
	"box-shadow:inset 0 0 0 1px #f97066}\n"
	"td.count{font-weight:650}table.sched td.count{text-align:right}\n"
	".alert{color:#912018;font-size:12px;font-weight:600;margin:4px 0 0}.bhead.alert{font-size:13px}"
	".bhead .sub{color:var(--muted);font-weight:400}"
	".guestann{font-size:13px;margin:6px 0 0}\n"
	".evac{font-size:13px;margin:0 0 8px}\n"
	".metrics{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px;"
	"margin-bottom:6px}\n"
	".metric{background:var(--soft);border-radius:6px;padding:8px 12px}\n"
	".metric .k{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}\n"
	".metric .v{font-size:17px;font-weight:650;font-variant-numeric:tabular-nums}\n"
	".metric .d{font-size:12px;color:var(--muted)}\n"
	"figure{margin:14px 0 4px}figcaption{font-weight:600;margin-bottom:4px}\n"
	"svg.timeline{width:100%;max-width:1200px;height:auto;display:block;"
	"font:12px system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}\n"
	".legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:12px;color:var(--muted);"
	"margin:6px 0 0 11%}\n"
	".legend span{white-space:nowrap}.sw{display:inline-block;width:14px;height:10px;"
	"vertical-align:middle;margin-right:5px;border-radius:2px}\n"
	".warn{color:var(--warn)}footer{color:var(--muted);font-size:12px;text-align:center}\n"
	/* SVG parts */
	".frame{fill:none;stroke:#c3cad2}.grid{stroke:#e6e9ed}.gridminor{stroke:#f1f3f5}"
	".axis{stroke:#9aa5b1}\n"
	".tick{fill:#616e7c;font-size:11px}.axislabel{fill:#52606d;font-size:12px}"
	/* a halo, so the event markers' lines break around the text they pass */
	".ptitle,.bandlabel,.marklabel{paint-order:stroke;stroke:#fff;stroke-width:3px;"
	"stroke-linejoin:round;stroke-opacity:.85}\n"
	".ptitle{fill:#1f2933;font-size:13px;font-weight:600}.pnote{fill:#7b8794;font-weight:400}\n"
		/* translucent backgrounds: the blackout bands behind them show through */
	".lanelabel{fill:#3e4c59;font-size:11px}.laneband{fill:#1f2933;fill-opacity:.035}"
	".loststrip{fill:#d92d20;fill-opacity:.05}\n"
	".empty{fill:#9aa5b1;font-style:italic}\n"
	".blackout{fill:#fde2e1}.stall{fill:#8e44ad;fill-opacity:.8}.silence{fill:#f9b4ae;fill-opacity:.75}"
	".bandlabel{fill:#b42318;font-size:12px;font-weight:600}\n"
	".event{stroke:#52606d;stroke-dasharray:4 3}\n"
	".tlmark{stroke:#3e4c59;stroke-dasharray:1 2}.tlmark.key{stroke:#1f2933;stroke-dasharray:none;"
	"stroke-width:1.2}\n.marklabel{fill:#3e4c59;font-size:11px}.marklabel.key{fill:#1f2933;"
	"font-weight:600}\n"
	".probe{fill:#2563eb;fill-opacity:.75}.lost{stroke:#d92d20;stroke-width:1.8;fill:none}\n"
	".rate{fill:#ccfbef;stroke:#0e9384;stroke-width:1.4}.retx{fill:#dc6803}\n"
	".rarp,.k0{fill:#6938ef}.garp,.k1{fill:#1570ef}.na,.k2{fill:#039855}\n";

/* before, text escaped, after: an element around a string from the report */
static void wrap(FILE *out, const char *before, const char *text, const char *after)
{
	fputs(before, out);
	html_esc(out, text);
	fputs(after, out);
}

static const char *badge_class(const char *verdict)
{
	if (!verdict || !strcmp(verdict, "insufficient_data"))
		return "na";
	return strcmp(verdict, "ok") ? "bad" : "ok";
}

static void badge(FILE *out, const char *verdict)
{
	fprintf(out, "<span class=\"badge %s\">", badge_class(verdict));
	wrap(out, "", verdict ? verdict : "none", "</span>");
}

static void cell(FILE *out, const char *cls, const char *text)
{
	fprintf(out, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	wrap(out, "", text, "</td>");
}

/* "74 831 504": exact, grouped for reading */
static const char *digits_or_na(const struct report_stream_view *v, char *buf, size_t len)
{
	return v->present ? html_digits(v->payload_bytes, buf, len) : "n/a";
}

/* "71.4 MiB" */
static const char *mib_or_na(const struct report_stream_view *v, char *buf, size_t len)
{
	if (!v->present)
		return "n/a";
	snprintf(buf, len, "%.1f MiB", (double)v->payload_bytes / (1024.0 * 1024.0));
	return buf;
}

static const char *count_or_na(struct opt_i64 v, char *buf, size_t len)
{
	if (!v.set)
		return "n/a";
	snprintf(buf, len, "%" PRId64, v.v);
	return buf;
}

/* UTC with `decimals` of the second: to the millisecond, "2026-11-23
 * 11:56:05.068", fits the tables; the resume is given to the microsecond. */
static const char *time_utc(struct opt_i64 ns, int decimals, char *buf, size_t len)
{
	char full[64];
	char *frac;

	if (!ns.set)
		return "n/a";
	format_time(ns.v, full, sizeof(full));
	frac = strchr(full, '.');
	if (frac && strlen(frac) > (size_t)decimals + 1)
		frac[decimals + 1] = '\0';
	snprintf(buf, len, "%s", full);
	return buf;
}

static const char *time_ms(struct opt_i64 ns, char *buf, size_t len)
{
	return time_utc(ns, 3, buf, len);
}

/* ---- top of the page ------------------------------------------------- */

/* Many migrations (a drained host): the whole in one line above the table. */
static void evacuation_summary(FILE *out, const struct report *r)
{
	const struct report_evacuation *e = &r->evacuation;
	char a[64], b[64], c[64], d[64];

	fputs("<p class=\"evac\">", out);
	html_escf(out, "%d migrations of %d guest(s), up to %d at once, %" PRIu64 " bytes in %s. "
		  "Downtime worst %s, median %s, p95 %s (%d measured). Verdicts:",
		  r->nmigrations, e->guests, e->max_concurrent, e->total_bytes,
		  html_ms(e->duration_ns, a, sizeof(a)), html_ms(e->worst_ns, b, sizeof(b)),
		  html_ms(e->median_ns, c, sizeof(c)), html_ms(e->p95_ns, d, sizeof(d)), e->measured);
	for (int k = 0; k < e->nverdicts; k++) {
		fputs(" ", out);
		badge(out, e->verdicts[k].code);
		fprintf(out, " %d", e->verdicts[k].count);
	}
	fputs(". The worst first; each row links to its switchover.</p>\n", out);
}

static void overview(FILE *out, const struct report *r)
{
	char a[64], b[64], c[64], d[64], e[64], f[64];
	bool guests = r->evacuation.guests > 1;

	fputs("<section class=\"card\"><h2>Migrations</h2>", out);
	if (r->evacuation.set)
		evacuation_summary(out, r);
	fputs("<table class=\"compact\">\n<tr><th>#</th>", out);
	if (guests)
		fputs("<th>guest</th>", out);
	fputs("<th>route</th><th>stream start (UTC)</th><th class=\"num\">migration time</th>"
	      "<th class=\"num\">downtime<br>(probe gap)</th><th class=\"num\">guest silence</th>"
	      "<th class=\"num\">out bytes<br>(src NIC)</th><th class=\"num\">in bytes<br>(dst NIC)</th>"
	      "<th class=\"num\">retrans&shy;mits</th><th class=\"num\">lost probes</th>"
	      "<th>verdict</th></tr>\n", out);
	for (int k = 0; k < r->nmigrations; k++) {
		int i = r->evacuation.set ? r->evacuation.worst_first[k] : k;
		const struct report_migration *m = &r->migrations[i];

		fprintf(out, "<tr><td><a href=\"#migration-%d\">%d</a></td>", i + 1, i + 1);
		if (guests) {
			fputs("<td class=\"nowrap\">", out);
			html_escf(out, "%s %s", or_dash(m->guest.mac), or_dash(m->guest.ipv4));
			if (m->guest.domain[0])
				html_escf(out, " (%s)", m->guest.domain);
			fputs("</td>", out);
		}
		fputs("<td class=\"nowrap\">", out);
		html_escf(out, "%s \xe2\x86\x92 %s", m->source, m->destination);
		fputs("</td>", out);
		cell(out, NULL, time_ms(m->stream.start_ns, a, sizeof(a)));
		cell(out, "num", html_ms(m->stream.migration_time_ns, b, sizeof(b)));
		cell(out, "num", html_ms(m->downtime.probe_gap_ns, c, sizeof(c)));
		cell(out, "num", html_ms(m->downtime.guest_silence_ns, d, sizeof(d)));
		cell(out, "num", digits_or_na(&m->stream.at_src, e, sizeof(e)));
		cell(out, "num", digits_or_na(&m->stream.at_dst, f, sizeof(f)));
		cell(out, "num", count_or_na(m->stream.retx_segments, a, sizeof(a)));
		cell(out, "num", count_or_na(m->loss.lost_probes, b, sizeof(b)));
		fputs("<td>", out);
		badge(out, m->verdict.code);
		fputs("</td></tr>\n", out);
	}
	if (!r->nmigrations)
		fputs("<tr><td colspan=\"11\">no migration found in these captures</td></tr>\n", out);
	fputs("</table></section>\n", out);
}

static void inputs(FILE *out, const struct report *r)
{
	char a[64], b[64], c[64];

	fputs("<section class=\"card\"><h2>Captures</h2><table>\n<tr><th>vantage</th><th>file</th>"
	      "<th>host</th><th>link</th><th class=\"num\">packets</th><th>first packet (UTC)</th>"
	      "<th class=\"num\">clock offset</th></tr>\n", out);
	for (int i = 0; i < r->ninputs; i++) {
		const struct report_input *in = &r->inputs[i];

		fputs("<tr>", out);
		cell(out, "nowrap", html_vantage_name(in->vantage));
		cell(out, "file", in->path);
		cell(out, NULL, or_dash(in->host));
		cell(out, NULL, in->link);
		snprintf(a, sizeof(a), "%" PRIu64, in->packets);
		cell(out, "num", a);
		cell(out, "nowrap", time_ms(in->first_ns, b, sizeof(b)));
		/* how far this clock runs ahead of the source capture's */
		if (!in->clock_offset_ns.set) {
			cell(out, "num", "n/a");
		} else if (!in->clock_uncertainty_ns.v) {
			cell(out, "num", "reference");
		} else {
			html_ms(in->clock_offset_ns, a, sizeof(a));
			html_ms(in->clock_uncertainty_ns, c, sizeof(c));
			fputs("<td class=\"num\">", out);
			html_escf(out, "%s%s \xc2\xb1 %s", in->clock_offset_ns.v >= 0 ? "+" : "", a, c);
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
	for (int i = 0; i < r->nwarnings; i++)
		wrap(out, "<p class=\"warn\">warning: ", r->warnings[i], "</p>\n");
	fputs("</section>\n", out);
}

/* ---- one migration --------------------------------------------------- */

/* The status in words and a glyph as well as colour: green, red, grey. */
static const char *status_text(const char *verdict)
{
	const char *cls = badge_class(verdict);

	return !strcmp(cls, "ok") ? "\xe2\x9c\x93 OK" : !strcmp(cls, "na") ? "? Not enough data"
									 : "\xe2\x9c\x95 Finding";
}

static const char *resume_basis_text(const char *basis)
{
	if (!basis)
		return "n/a";
	if (!strcmp(basis, "rarp_at_dst"))
		return "first RARP leaving the destination NIC";
	if (!strcmp(basis, "announce_at_dst"))
		return "the guest's first GARP/NA leaving the destination NIC (no RARP seen)";
	if (!strcmp(basis, "rarp_elsewhere"))
		return "first RARP in any capture (none at the destination NIC)";
	if (!strcmp(basis, "stream_end"))
		return "last stream data (no RARP seen)";
	return basis;
}

static void fact(FILE *out, const char *cls, const char *key, const char *value)
{
	fprintf(out, "<div><dt>%s</dt><dd class=\"%s\">", key, cls);
	html_esc(out, value);
	fputs("</dd></div>", out);
}

/* The fault's duration and the reconvergence time (JSON verdict.duration_us,
 * .reconvergence_us), and what the resume, their reference, was. */
static void verdict_facts(FILE *out, const struct report_migration *m)
{
	const struct report_verdict *s = &m->verdict;
	bool fault = !strcmp(badge_class(m->verdict.code), "bad");
	char a[64], b[64], t[160];

	fputs("<dl class=\"vfacts\">", out);
	if (m->sw.completed.set && !m->sw.completed.v)
		fact(out, "completed", "migration", "did not complete: the guest stayed on the source");
	fact(out, "duration", "fault lasted",
	     !fault ? "no fault" : s->duration_ns.set ? html_ms(s->duration_ns, a, sizeof(a))
						       : "not over within the captures");
	fact(out, "reconvergence", "reconvergence",
	     s->reconvergence_ns.set ? html_ms(s->reconvergence_ns, a, sizeof(a)) : "n/a");
	snprintf(t, sizeof(t), "%s UTC, %s", time_utc(s->resume_ns, 6, b, sizeof(b)),
		 resume_basis_text(s->resume_basis));
	fact(out, "resume", "resume", s->resume_ns.set ? t : "n/a");
	fputs("</dl>", out);
}

static void verdict(FILE *out, const struct report_migration *m)
{
	fprintf(out, "<div class=\"verdict %s\"><div class=\"vhead\"><span class=\"status\">%s"
		"</span>", badge_class(m->verdict.code), status_text(m->verdict.code));
	badge(out, m->verdict.code);
	fputs("</div>", out);
	wrap(out, "<p>", m->verdict.summary, "</p>");
	verdict_facts(out, m);
	if (m->verdict.nevidence) {
		fputs("<ul>", out);
		for (int e = 0; e < m->verdict.nevidence; e++)
			wrap(out, "<li>", m->verdict.evidence[e], "</li>");
		fputs("</ul>", out);
	}
	fputs("</div>\n", out);
}

static void metric(FILE *out, const char *key, const char *value, const char *detail)
{
	wrap(out, "<div class=\"metric\"><div class=\"k\">", key, "</div>");
	wrap(out, "<div class=\"v\">", value, "</div>");
	wrap(out, "<div class=\"d\">", detail ? detail : "\xc2\xa0", "</div></div>\n");
}

static void metrics(FILE *out, const struct report_migration *m)
{
	char v[96], d[128], x[64];

	fputs("<div class=\"metrics\">\n", out);
	metric(out, "migration time", html_ms(m->stream.migration_time_ns, v, sizeof(v)),
	       "first to last stream byte");
	x[0] = '\0';
	for (int k = 0, n = 0; k < REPORT_FEATURES; k++)
		if (m->stream.features >> k & 1)
			n += snprintf(x + n, sizeof(x) - (size_t)n, "%s%s", n ? ", " : "",
				      report_feature_name(k));
	metric(out, "mode", m->stream.mode ? m->stream.mode : "n/a", x[0] ? x : NULL);
	if (m->stream.postcopy_set) {
		snprintf(d, sizeof(d), "%" PRId64 " B sent after the resume, %" PRId64
			 " page requests", m->stream.postcopy.bytes_after_resume.v,
			 m->stream.postcopy.page_requests.v);
		metric(out, "postcopy phase", html_ms(m->stream.postcopy.duration_ns, v, sizeof(v)),
		       d);
	}
	snprintf(d, sizeof(d), "probe interval %s", html_ms(m->downtime.probe_interval_ns, x, sizeof(x)));
	metric(out, "downtime (probe gap)", html_ms(m->downtime.probe_gap_ns, v, sizeof(v)), d);
	metric(out, "guest silence", html_ms(m->downtime.guest_silence_ns, v, sizeof(v)),
	       "last frame at src NIC to first at dst NIC");
	snprintf(d, sizeof(d), "%s B payload at the source NIC",
		 digits_or_na(&m->stream.at_src, x, sizeof(x)));
	metric(out, "out bytes", mib_or_na(&m->stream.at_src, v, sizeof(v)), d);
	snprintf(d, sizeof(d), "%s B payload at the destination NIC",
		 digits_or_na(&m->stream.at_dst, x, sizeof(x)));
	metric(out, "in bytes", mib_or_na(&m->stream.at_dst, v, sizeof(v)), d);
	snprintf(d, sizeof(d), "%" PRId64 " B, %s view", m->stream.retx_bytes.v,
		 m->stream.retx_vantage ? m->stream.retx_vantage : "?");
	metric(out, "retransmitted segments", count_or_na(m->stream.retx_segments, v, sizeof(v)),
	       m->stream.retx_segments.set ? d : NULL);
	if (m->stream.avg_bps.set) {
		snprintf(v, sizeof(v), "%.1f Mbit/s", (double)m->stream.avg_bps.v / 1e6);
		snprintf(d, sizeof(d), "peak %.1f Mbit/s (100 ms bins)", (double)m->stream.peak_bps.v / 1e6);
	}
	metric(out, "average throughput", m->stream.avg_bps.set ? v : "n/a",
	       m->stream.avg_bps.set ? d : NULL);
	snprintf(d, sizeof(d), "of %" PRId64 " sent", m->loss.probes_sent.v);
	metric(out, "lost probes", count_or_na(m->loss.lost_probes, v, sizeof(v)),
	       m->loss.probes_sent.set ? d : NULL);
	snprintf(d, sizeof(d), "%d RARP, %d GARP, %d NA", m->announce.count[REPORT_RARP],
		 m->announce.count[REPORT_GARP], m->announce.count[REPORT_NA]);
	metric(out, "first announce", html_ms(m->announce.first_after_end_ns, v, sizeof(v)), d);
	fputs("</div>\n", out);
}

static void legend(FILE *out)
{
	fputs("<div class=\"legend\">"
	      "<span><span class=\"sw\" style=\"background:#2563eb\"></span>answered probe</span>"
	      "<span><span class=\"sw\" style=\"background:#d92d20;height:3px\"></span>"
	      "lost probe (\xc3\x97)</span>"
	      "<span><span class=\"sw\" style=\"background:#fde2e1\"></span>probe gap</span>"
	      "<span><span class=\"sw\" style=\"background:#f9b4ae\"></span>guest silence</span>"
	      "<span><span class=\"sw\" style=\"background:#ccfbef;border:1px solid #0e9384\"></span>"
	      "throughput</span>"
	      "<span><span class=\"sw\" style=\"background:#dc6803\"></span>retransmits</span>"
	      "<span style=\"color:#6938ef\">\xe2\x96\xb2 RARP (QEMU)</span>"
	      "<span style=\"color:#1570ef\">\xe2\x97\x8f GARP (guest)</span>"
	      "<span style=\"color:#039855\">\xe2\x97\x86 NA (guest)</span>"
	      "</div>\n", out);
}

static void phases(FILE *out, const struct report_migration *m)
{
	char a[48], b[48], c[48], d[48];

	if (!m->loss.probes_sent.set)
		return;
	fputs("<h3>Probes by phase</h3><table>\n<tr><th>phase</th><th class=\"num\">sent</th>"
	      "<th class=\"num\">lost</th><th class=\"num\">RTT p50</th><th class=\"num\">RTT p99</th>"
	      "</tr>\n", out);
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		fputs("<tr>", out);
		cell(out, NULL, phase_name(ph));
		cell(out, "num", count_or_na(m->loss.phase[ph].sent, a, sizeof(a)));
		cell(out, "num", count_or_na(m->loss.phase[ph].lost, b, sizeof(b)));
		cell(out, "num", html_ms(m->loss.phase[ph].rtt_p50_ns, c, sizeof(c)));
		cell(out, "num", html_ms(m->loss.phase[ph].rtt_p99_ns, d, sizeof(d)));
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

/* How fast the guest answered at its own NIC, before the stream and after
 * the resume. */
static void turnarounds(FILE *out, const struct report_outage *o)
{
	const struct report_turnaround *t[2] = { &o->turnaround_before, &o->turnaround_after };
	static const char *const when[2] = { "before the stream", "after the resume" };
	char a[48], b[48], c[48], d[48];

	if (!t[0]->answers && !t[1]->answers)
		return;
	fputs("<table class=\"compact turnaround\">\n<tr><th>the guest's answers</th><th>at</th>"
	      "<th class=\"num\">answers</th><th class=\"num\">p50</th><th class=\"num\">p90</th>"
	      "<th class=\"num\">max</th><th class=\"num\">slow</th></tr>\n", out);
	for (int k = 0; k < 2; k++) {
		fputs("<tr>", out);
		cell(out, NULL, when[k]);
		if (!t[k]->answers) {
			fputs("<td colspan=\"6\">n/a</td></tr>\n", out);
			continue;
		}
		cell(out, NULL, t[k]->vantage);
		snprintf(a, sizeof(a), "%u", t[k]->answers);
		cell(out, "num", a);
		cell(out, "num", html_ms(opt_some(t[k]->p50_ns), b, sizeof(b)));
		cell(out, "num", html_ms(opt_some(t[k]->p90_ns), c, sizeof(c)));
		cell(out, "num", html_ms(opt_some(t[k]->max_ns), d, sizeof(d)));
		if (t[k]->slow_above_ns) {
			char over[48];

			snprintf(a, sizeof(a), "%u over %s", t[k]->slow,
				 html_ms(opt_some(t[k]->slow_above_ns), over, sizeof(over)));
			cell(out, "num", a);
		} else {
			cell(out, "num", "");
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

/* The outage in its parts, the hypervisor's figures beside the network's. */
static void outage(FILE *out, const struct report_migration *m)
{
	const struct report_outage *o = &m->outage;
	const struct report_hypervisor *h = &m->hypervisor;
	static const struct {
		const char *part, *from;
		size_t off;
	} PARTS[] = {
		{ "pause", "guest's last frame at the source NIC to the resume",
		  offsetof(struct report_outage, pause_ns) },
		{ "pause, QEMU's account", "STOP to RESUME, else its downtime figure",
		  offsetof(struct report_outage, pause_hypervisor_ns) },
		{ "announce", "QEMU's RESUME to its first RARP at the destination NIC",
		  offsetof(struct report_outage, announce_delay_ns) },
		{ "reconvergence", "the resume to the first request at the destination NIC",
		  offsetof(struct report_outage, reconvergence_ns) },
		{ "the guest's answer", "that request to the first reply leaving the destination",
		  offsetof(struct report_outage, guest_answer_ns) },
		{ "the way back", "that reply to the first at the prober",
		  offsetof(struct report_outage, return_ns) },
		{ "the prober saw", "the probe gap", offsetof(struct report_outage, total_ns) },
	};
	char a[48];

	fputs("<h3>The outage in its parts</h3>", out);
	if (m->hypervisor_set) {
		fputs("<p class=\"note\">QEMU's account (", out);
		html_esc(out, h->sources);
		html_escf(out, "): %s, total-time %s", h->status[0] ? h->status : "status n/a",
			  html_ms(h->total_time_ns, a, sizeof(a)));
		html_escf(out, ", downtime %s", html_ms(h->downtime_ns, a, sizeof(a)));
		if (h->postcopy_blocktime_ns.set)
			html_escf(out, ", postcopy blocktime %s",
				  html_ms(h->postcopy_blocktime_ns, a, sizeof(a)));
		fputs("</p>", out);
	}
	fputs("<table class=\"compact outage\">\n<tr><th>part</th><th>from, to</th>"
	      "<th class=\"num\">duration</th></tr>\n", out);
	for (size_t k = 0; k < sizeof(PARTS) / sizeof(PARTS[0]); k++) {
		const struct opt_i64 *v = (const struct opt_i64 *)((const char *)o + PARTS[k].off);

		fputs("<tr>", out);
		cell(out, NULL, PARTS[k].part);
		cell(out, NULL, PARTS[k].from);
		cell(out, "num", html_ms(*v, a, sizeof(a)));
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
	turnarounds(out, o);
}

/* What the guest's users felt: its flows across the switchover and the
 * response times of its requests by phase, when the captures hold any. */
static void traffic(FILE *out, const struct report_migration *m)
{
	const struct report_guest_traffic *t = &m->traffic;
	char a[48], b[48], c[48], d[48];
	bool any = false;

	for (int ph = 0; ph < PHASE_COUNT; ph++)
		any |= t->responses[ph].set;
	if (t->nlist) {
		fputs("<h3>The guest's flows across the switchover</h3>", out);
		fputs("<p class=\"note\">", out);
		html_escf(out, "%d flows, %d stalled, %d reset, %d survived; stall p50 %s, p99 %s "
			  "(the worst %d below)", t->flows, t->stalled, t->reset, t->survived,
			  html_ms(t->stall_p50_ns, a, sizeof(a)), html_ms(t->stall_p99_ns, b, sizeof(b)),
			  t->nlist);
		fputs("</p>", out);
		fputs("<table class=\"compact\">\n<tr><th>flow</th><th class=\"num\">stall to the guest"
		      "</th><th class=\"num\">stall from it</th><th class=\"num\">retransmitted</th>"
		      "<th class=\"num\">zero windows from, to it</th><th>fate</th></tr>\n", out);
		for (int k = 0; k < t->nlist; k++) {
			const struct report_guest_flow *f = &t->list[k];
			char flow[2 * REPORT_ADDR_LEN + 32];

			snprintf(flow, sizeof(flow), "%s %s:%u \xe2\x86\x92 %s:%u", f->proto, f->client,
				 f->client_port, f->server, f->server_port);
			snprintf(d, sizeof(d), "%u", f->retransmitted_segments);
			fputs("<tr>", out);
			cell(out, NULL, flow);
			cell(out, "num", html_ms(f->stall_to_guest_ns, a, sizeof(a)));
			cell(out, "num", html_ms(f->stall_from_guest_ns, b, sizeof(b)));
			cell(out, "num", d);
			snprintf(d, sizeof(d), "%u, %u", f->zero_windows_from_guest,
				 f->zero_windows_to_guest);
			cell(out, "num", d);
			cell(out, NULL, f->reset ? "reset" : f->survived ? "survived" : "not seen again");
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
	}
	if (!any)
		return;
	fputs("<h3>The guest's requests by phase</h3><table>\n<tr><th>phase</th>"
	      "<th class=\"num\">requests</th><th class=\"num\">failed</th>"
	      "<th class=\"num\">p50</th><th class=\"num\">p90</th><th class=\"num\">p99</th>"
	      "<th class=\"num\">over the SLA</th></tr>\n", out);
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		const struct report_responses *r = &t->responses[ph];

		if (!r->set)
			continue;
		fputs("<tr>", out);
		cell(out, NULL, phase_name(ph));
		snprintf(a, sizeof(a), "%u", r->requests);
		cell(out, "num", a);
		snprintf(a, sizeof(a), "%u", r->failed);
		cell(out, "num", a);
		cell(out, "num", html_ms(r->p50_ns, a, sizeof(a)));
		cell(out, "num", html_ms(r->p90_ns, b, sizeof(b)));
		cell(out, "num", html_ms(r->p99_ns, c, sizeof(c)));
		snprintf(d, sizeof(d), "%u", r->over_sla);
		cell(out, "num", t->sla_ns.set ? d : "n/a");
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void migration(FILE *out, const struct report *r, const struct report_migration *m, int i)
{
	fprintf(out, "<section class=\"card\" id=\"migration-%d\"><h2>", i);
	html_escf(out, "Migration %d: %s \xe2\x86\x92 %s", i, m->source, m->destination);
	fputs("</h2>\n", out);
	verdict(out, m);
	metrics(out, m);
	html_switchover(out, r, m);
	html_timelines(out, r, m, i);
	legend(out);
	phases(out, m);
	traffic(out, m);
	outage(out, m);
	fputs("</section>\n", out);
}

int render_html(const struct report *r, FILE *out)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", out);
	if (r->evacuation.guests > 1)
		html_escf(out, "migscope report: %d guests", r->evacuation.guests);
	else
		html_escf(out, "migscope report: guest %s",
			  r->guest.known ? r->guest.mac : or_dash(r->guest.ipv4));
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body><main>\n", STYLE);
	fputs("<header class=\"page\"><h1>migscope \xc2\xb7 live migration report</h1>"
	      "<span class=\"sub\">", out);
	if (r->evacuation.guests > 1)
		html_escf(out, "%d guests \xc2\xb7 %d capture(s) \xc2\xb7 %d migration(s)",
			  r->evacuation.guests, r->ninputs, r->nmigrations);
	else
		html_escf(out, "guest %s %s%s%s%s%s%s \xc2\xb7 %d capture(s) \xc2\xb7 %d migration(s)",
			  or_dash(r->guest.mac), or_dash(r->guest.ipv4), r->guest.ipv6[0] ? " " : "",
			  r->guest.ipv6, r->guest.domain[0] ? " (domain " : "", r->guest.domain,
			  r->guest.domain[0] ? ")" : "", r->ninputs, r->nmigrations);
	fputs("</span></header>\n", out);
	overview(out, r);
	inputs(out, r);
	for (int i = 0; i < r->nmigrations; i++)
		migration(out, r, &r->migrations[i], i + 1);
	fprintf(out, "<footer>migscope analyze \xc2\xb7 %s \xc2\xb7 times on the axes are relative "
		"to each migration's stream start; all clocks aligned to the source capture's</footer>\n"
		"</main></body>\n</html>\n", REPORT_SCHEMA);
	return ferror(out) ? -EIO : 0;
}
