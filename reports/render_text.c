#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "reports/render.h"
#include "reports/units.h"

/* For people: one block per migration, figures with their units and the
 * vantage they come from; "n/a" where the captures cannot tell. */

static const char *ms(struct opt_i64 ns, char *buf, size_t len)
{
	if (!ns.set)
		return "n/a";
	format_ms(ns.v, buf, len);
	strncat(buf, " ms", len - strlen(buf) - 1);
	return buf;
}

static const char *bytes(const struct report_stream_view *v, char *buf, size_t len)
{
	if (!v->present)
		return "n/a";
	snprintf(buf, len, "%" PRIu64 " B", v->payload_bytes);
	return buf;
}

/* "postcopy, multifd 4, tls" and why; postcopy's own figures; every
 * channel when there are several. */
static void print_mode(FILE *out, const struct report_migration *m)
{
	const struct report_stream *s = &m->stream;
	char a[48];
	int multifd = 0;

	if (!s->mode)
		return;
	for (int k = 0; k < s->nchannels; k++)
		multifd += !strcmp(s->channels[k].kind, "multifd");
	fprintf(out, "  mode         %s", s->mode);
	for (int k = 0; k < REPORT_FEATURES; k++) {
		if (!(s->features >> k & 1))
			continue;
		fprintf(out, ", %s", report_feature_name(k));
		if (1u << k == REPORT_MULTIFD)
			fprintf(out, " %d", multifd);
	}
	fprintf(out, "\n");
	for (int e = 0; e < s->nmode_evidence; e++)
		fprintf(out, "               - %s\n", s->mode_evidence[e]);
	if (s->postcopy_set)
		fprintf(out, "  postcopy     %s after the resume, %" PRId64 " B sent, %" PRId64
			" page requests seen\n", ms(s->postcopy.duration_ns, a, sizeof(a)),
			s->postcopy.bytes_after_resume.v, s->postcopy.page_requests.v);
	for (int k = 0; s->nchannels > 1 && k < s->nchannels; k++) {
		const struct report_channel *c = &s->channels[k];

		fprintf(out, "  channel %-4d %-8s port %u -> %u", k + 1, c->kind, c->src_port,
			c->dst_port);
		if (c->out_bytes.set)
			fprintf(out, ", out %" PRId64 " B", c->out_bytes.v);
		if (c->in_bytes.set)
			fprintf(out, ", in %" PRId64 " B", c->in_bytes.v);
		fprintf(out, "\n");
	}
}

static void print_stream(FILE *out, const struct report_migration *m, const struct report *r)
{
	char a[48], b[48], t[48];

	fprintf(out, "  captures     src=%s dst=%s\n",
		m->src_input >= 0 ? r->inputs[m->src_input].path : "(none)",
		m->dst_input >= 0 ? r->inputs[m->dst_input].path : "(none)");
	if (m->stream.start_ns.set)
		format_time(m->stream.start_ns.v, t, sizeof(t));
	fprintf(out, "  stream       %d flow(s) by %s, start %s UTC, migration time %s\n",
		m->stream.nflows, m->stream.detected_by,
		m->stream.start_ns.set ? t : "n/a", ms(m->stream.migration_time_ns, a, sizeof(a)));
	print_mode(out, m);
	fprintf(out, "  bytes        out %s at the source NIC, in %s at the destination NIC\n",
		bytes(&m->stream.at_src, a, sizeof(a)), bytes(&m->stream.at_dst, b, sizeof(b)));
	if (m->stream.retx_segments.set)
		fprintf(out, "  retransmits  %" PRId64 " segments, %" PRId64 " B (%s%s)\n",
			m->stream.retx_segments.v, m->stream.retx_bytes.v,
			strcmp(m->stream.retx_vantage, "tracer") ? m->stream.retx_vantage : "the source's TCP stack",
			strcmp(m->stream.retx_vantage, "tracer") ? " view" : ", exact");
	if (m->stream.avg_bps.set)
		fprintf(out, "  throughput   avg %.1f Mbit/s, peak %.1f Mbit/s (100 ms bins)\n",
			(double)m->stream.avg_bps.v / 1e6, (double)m->stream.peak_bps.v / 1e6);
}

static void print_downtime(FILE *out, const struct report_migration *m)
{
	char a[48], b[48], c[48];

	if (m->downtime.probe && !strcmp(m->downtime.probe, "tcp")) {
		fprintf(out, "  downtime     probe gap %s (the guest's TCP requests, port %u, at %s), guest "
			"silence %s\n", ms(m->downtime.probe_gap_ns, a, sizeof(a)), m->downtime.probe_port,
			m->downtime.probe_vantage, ms(m->downtime.guest_silence_ns, c, sizeof(c)));
		return;
	}
	fprintf(out, "  downtime     probe gap %s (%sprobe interval %s, at %s), guest silence %s\n",
		ms(m->downtime.probe_gap_ns, a, sizeof(a)),
		m->downtime.probe && !strcmp(m->downtime.probe, "arp") ? "ARP, " : "",
		ms(m->downtime.probe_interval_ns, b, sizeof(b)),
		m->downtime.probe_vantage ? m->downtime.probe_vantage : "n/a",
		ms(m->downtime.guest_silence_ns, c, sizeof(c)));
}

/* Sightings of one announcement at several captures are one line: the
 * capture that saw it first, then how much later the others did. */
enum { SAME_ANNOUNCE_NS = 5000000, ANNOUNCE_LINES = 8 };

static void print_announce(FILE *out, const struct report_migration *m)
{
	char a[48], t[48];
	int k = 0, lines = 0;

	fprintf(out, "  announce     %d RARP, %d GARP, %d NA", m->announce.count[REPORT_RARP],
		m->announce.count[REPORT_GARP], m->announce.count[REPORT_NA]);
	if (m->stream.postcopy_set)
		fprintf(out, "; the first at the resume, the stream running on\n");
	else
		fprintf(out, "; first %s after the stream end\n",
			ms(m->announce.first_after_end_ns, a, sizeof(a)));
	while (k < m->announce.nseen) {
		const struct report_announce *first = &m->announce.seen[k];

		if (lines++ == ANNOUNCE_LINES) {
			fprintf(out, "               ... (all of them in --format json)\n");
			return;
		}
		format_time(first->ts_ns, t, sizeof(t));
		fprintf(out, "               %.15s %-4s at %s", t + 11,
			announce_kind_name(first->kind), first->vantage);
		for (k++; k < m->announce.nseen && m->announce.seen[k].kind == first->kind &&
			  m->announce.seen[k].ts_ns - first->ts_ns < SAME_ANNOUNCE_NS; k++)
			fprintf(out, ", %s +%.3f ms", m->announce.seen[k].vantage,
				(double)(m->announce.seen[k].ts_ns - first->ts_ns) / 1e6);
		fprintf(out, "\n");
	}
}

/* QEMU's account beside the network's, and the outage in its parts. */
static void print_accounts(FILE *out, const struct report_migration *m)
{
	const struct report_hypervisor *h = &m->hypervisor;
	const struct report_outage *o = &m->outage;
	char a[48], b[48], c[48], d[48], e[48], f[48];

	if (m->hypervisor_set) {
		fprintf(out, "  hypervisor   %s (%s): total-time %s, downtime %s, setup %s",
			h->status[0] ? h->status : "status n/a", h->sources,
			ms(h->total_time_ns, a, sizeof(a)), ms(h->downtime_ns, b, sizeof(b)),
			ms(h->setup_time_ns, c, sizeof(c)));
		if (h->postcopy_requests.set && (h->postcopy_requests.v || m->stream.postcopy_set))
			fprintf(out, ", %" PRId64 " postcopy requests", h->postcopy_requests.v);
		if (h->postcopy_blocktime_ns.set)
			fprintf(out, ", blocktime %s", ms(h->postcopy_blocktime_ns, d, sizeof(d)));
		fprintf(out, "\n");
	}
	if (!o->pause_ns.set && !o->pause_hypervisor_ns.set && !o->reconvergence_ns.set)
		return;
	fprintf(out, "  outage       pause %s", ms(o->pause_ns, a, sizeof(a)));
	if (o->pause_hypervisor_ns.set)
		fprintf(out, " (QEMU: %s)", ms(o->pause_hypervisor_ns, b, sizeof(b)));
	if (o->announce_delay_ns.set)
		fprintf(out, ", QEMU's RESUME to its first RARP %s",
			ms(o->announce_delay_ns, c, sizeof(c)));
	fprintf(out, ", then requests at dst %s, the guest's answer %s, at the prober %s; the "
		"prober's gap %s\n", ms(o->reconvergence_ns, d, sizeof(d)),
		ms(o->guest_answer_ns, e, sizeof(e)), ms(o->return_ns, f, sizeof(f)),
		ms(o->total_ns, a, sizeof(a)));
}

/* "before (src) p50 0.689 ms, p90 0.844 ms (159)" */
static void print_turnaround(FILE *out, const char *when, const struct report_turnaround *t)
{
	char a[48], b[48], c[48], d[48];

	if (!t->answers) {
		fprintf(out, "%s n/a", when);
		return;
	}
	fprintf(out, "%s (%s) p50 %s, p90 %s, max %s (%u)", when, t->vantage,
		ms(opt_some(t->p50_ns), a, sizeof(a)), ms(opt_some(t->p90_ns), b, sizeof(b)),
		ms(opt_some(t->max_ns), c, sizeof(c)), t->answers);
	if (t->slow_above_ns)
		fprintf(out, ", %u over %s", t->slow, ms(opt_some(t->slow_above_ns), d, sizeof(d)));
}

/* How fast the guest answered at its own NIC, before and after. */
static void print_turnarounds(FILE *out, const struct report_outage *o)
{
	if (!o->turnaround_before.answers && !o->turnaround_after.answers)
		return;
	fprintf(out, "  turnaround   ");
	print_turnaround(out, "before", &o->turnaround_before);
	print_turnaround(out, "; after", &o->turnaround_after);
	fprintf(out, "\n");
}

static void print_loss(FILE *out, const struct report_migration *m)
{
	char a[48], b[48];

	if (!m->loss.probes_sent.set) {
		fprintf(out, "  loss         n/a (no echo probes to the guest)\n");
		return;
	}
	fprintf(out, "  loss         %" PRId64 " probes sent, %" PRId64 " answered, %" PRId64
		" lost (", m->loss.probes_sent.v, m->loss.probes_answered.v, m->loss.lost_probes.v);
	for (int ph = 0; ph < PHASE_COUNT; ph++)
		fprintf(out, "%s%s %" PRId64, ph ? ", " : "", phase_name(ph), m->loss.phase[ph].lost.v);
	fprintf(out, ")\n");
	fprintf(out, "  rtt p50/p99 ");
	for (int ph = 0; ph < PHASE_COUNT; ph++)
		if (m->loss.phase[ph].rtt_p50_ns.set)
			fprintf(out, " %s %s/%s", phase_name(ph), ms(m->loss.phase[ph].rtt_p50_ns, a, sizeof(a)),
				ms(m->loss.phase[ph].rtt_p99_ns, b, sizeof(b)));
	fprintf(out, "\n");
}

/* The guest's own flows and requests, when the captures hold any: the
 * summary, the worst flows, and the response times by phase. */
static void print_traffic(FILE *out, const struct report_guest_traffic *t)
{
	char a[48], b[48], c[48];
	bool any = false;

	for (int ph = 0; ph < PHASE_COUNT; ph++)
		any |= t->responses[ph].set;
	if (t->flows) {
		fprintf(out, "  guest flows  %d across the switchover: %d stalled, %d reset, %d survived;"
			" stall p50 %s, p99 %s, max %s\n", t->flows, t->stalled, t->reset, t->survived,
			ms(t->stall_p50_ns, a, sizeof(a)), ms(t->stall_p99_ns, b, sizeof(b)),
			ms(t->stall_max_ns, c, sizeof(c)));
		if (t->zero_window)
			fprintf(out, "               %d with a zero window advertised\n", t->zero_window);
		for (int k = 0; k < t->nlist && k < 5; k++) {
			const struct report_guest_flow *f = &t->list[k];

			fprintf(out, "               %s %s:%u -> %s:%u: stall to guest %s, from guest %s,"
				" %u retransmitted", f->proto, f->client, f->client_port, f->server,
				f->server_port, ms(f->stall_to_guest_ns, a, sizeof(a)),
				ms(f->stall_from_guest_ns, b, sizeof(b)), f->retransmitted_segments);
			if (f->zero_windows_from_guest || f->zero_windows_to_guest)
				fprintf(out, ", zero windows %u from guest, %u to it",
					f->zero_windows_from_guest, f->zero_windows_to_guest);
			fprintf(out, "%s\n", f->reset ? ", reset" : f->survived ? "" : ", not seen again");
		}
	}
	if (!any)
		return;
	fprintf(out, "  responses   ");
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		const struct report_responses *r = &t->responses[ph];

		if (!r->set)
			continue;
		fprintf(out, " %s %u (%u failed) p50/p99 %s/%s", phase_name(ph), r->requests, r->failed,
			ms(r->p50_ns, a, sizeof(a)), ms(r->p99_ns, b, sizeof(b)));
		if (t->sla_ns.set)
			fprintf(out, ", %u over the SLA", r->over_sla);
		fprintf(out, ";");
	}
	fprintf(out, "\n");
}

/* MAC, addresses, and the libvirt domain when the hook's marks name it */
static const char *guest_text(const struct report_guest *g, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s%s%s%s%s%s", or_dash(g->mac), or_dash(g->ipv4),
		 g->ipv6[0] ? " " : "", g->ipv6, g->domain[0] ? " (domain " : "", g->domain,
		 g->domain[0] ? ")" : "");
	return buf;
}

/* Many migrations at once (a drained host): the whole first, then a line
 * per guest, the longest downtime first. */
static void print_evacuation(FILE *out, const struct report *r)
{
	const struct report_evacuation *e = &r->evacuation;
	char a[48], b[48], c[48];

	fprintf(out, "\nevacuation: %d migrations of %d guest(s), up to %d at once, %" PRIu64
		" B in %s\n", r->nmigrations, e->guests, e->max_concurrent, e->total_bytes,
		ms(e->duration_ns, a, sizeof(a)));
	fprintf(out, "  downtime     worst %s, median %s, p95 %s (%d of %d measured)\n",
		ms(e->worst_ns, a, sizeof(a)), ms(e->median_ns, b, sizeof(b)),
		ms(e->p95_ns, c, sizeof(c)), e->measured, r->nmigrations);
	fprintf(out, "  verdicts    ");
	for (int k = 0; k < e->nverdicts; k++)
		fprintf(out, "%s %s %d", k ? "," : "", e->verdicts[k].code, e->verdicts[k].count);
	fprintf(out, "\n  worst first  #   guest                                 downtime      "
		"silence       bytes        verdict\n");
	for (int i = 0; i < r->nmigrations; i++) {
		const struct report_migration *m = &r->migrations[e->worst_first[i]];
		char g[3 * REPORT_ADDR_LEN + REPORT_NAME_LEN + 16];

		fprintf(out, "               %-3d %-37s %-13s %-13s %-12s %s\n", e->worst_first[i] + 1,
			guest_text(&m->guest, g, sizeof(g)), ms(report_downtime(m), a, sizeof(a)),
			ms(m->downtime.guest_silence_ns, b, sizeof(b)),
			bytes(m->stream.at_src.present ? &m->stream.at_src : &m->stream.at_dst, c,
			      sizeof(c)), m->verdict.code ? m->verdict.code : "-");
	}
}

int render_text(const struct report *r, FILE *out)
{
	char head[3 * REPORT_ADDR_LEN + REPORT_NAME_LEN + 16];

	if (r->evacuation.guests > 1)
		fprintf(out, "migscope analyze: %d capture(s), %d guests\n", r->ninputs,
			r->evacuation.guests);
	else
		fprintf(out, "migscope analyze: %d capture(s), guest %s%s%s\n", r->ninputs,
			guest_text(&r->guest, head, sizeof(head)), r->guest.uuid[0] ? " uuid " : "",
			r->guest.uuid);
	for (int i = 0; i < r->ninputs; i++) {
		const struct report_input *in = &r->inputs[i];
		char off[48], unc[48];

		fprintf(out, "  %-4s %s (%s, host %s, %" PRIu64 " packets", in->vantage, in->path,
			in->link, or_dash(in->host), in->packets);
		/* the offset only where there is one to state: not on the reference */
		if (in->clock_offset_ns.set && in->clock_uncertainty_ns.v) {
			fprintf(out, ", clock %s%s +- %s", in->clock_offset_ns.v >= 0 ? "+" : "",
				ms(in->clock_offset_ns, off, sizeof(off)),
				ms(in->clock_uncertainty_ns, unc, sizeof(unc)));
		}
		fprintf(out, ")\n");
	}
	if (!r->nmigrations)
		fprintf(out, "\nno migration found\n");
	if (r->evacuation.set)
		print_evacuation(out, r);
	for (int i = 0; i < r->nmigrations; i++) {
		const struct report_migration *m = &r->migrations[i];
		char g[3 * REPORT_ADDR_LEN + REPORT_NAME_LEN + 16];

		fprintf(out, "\nmigration %d: %s -> %s", i + 1, m->source, m->destination);
		/* one guest's migrations need not name it again */
		if (r->evacuation.guests > 1)
			fprintf(out, ", guest %s", guest_text(&m->guest, g, sizeof(g)));
		fprintf(out, "\n");
		print_stream(out, m, r);
		print_downtime(out, m);
		print_announce(out, m);
		print_loss(out, m);
		print_traffic(out, &m->traffic);
		print_accounts(out, m);
		print_turnarounds(out, &m->outage);
		render_switchover_text(out, m, r);
		fprintf(out, "  verdict      %s: %s\n", m->verdict.code, m->verdict.summary);
		for (int e = 0; e < m->verdict.nevidence; e++)
			fprintf(out, "               - %s\n", m->verdict.evidence[e]);
	}
	return ferror(out) ? -EIO : 0;
}
