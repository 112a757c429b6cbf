#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "analysis/guest.h"
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

static void print_stream(FILE *out, const struct report_migration *m, const struct report *r)
{
	char a[48], b[48], t[48], kinds[64];

	fprintf(out, "  captures     src=%s dst=%s\n",
		m->src_input >= 0 ? r->inputs[m->src_input].path : "(none)",
		m->dst_input >= 0 ? r->inputs[m->dst_input].path : "(none)");
	if (m->start_ns.set)
		format_time(m->start_ns.v, t, sizeof(t));
	fprintf(out, "  stream       %d flow(s) by %s, start %s UTC, migration time %s\n",
		m->nflows, detect_names(m->detect, kinds, sizeof(kinds)),
		m->start_ns.set ? t : "n/a", ms(m->migration_time_ns, a, sizeof(a)));
	fprintf(out, "  bytes        out %s at the source NIC, in %s at the destination NIC\n",
		bytes(&m->at_src, a, sizeof(a)), bytes(&m->at_dst, b, sizeof(b)));
	if (m->retx_segments.set)
		fprintf(out, "  retransmits  %" PRId64 " segments, %" PRId64 " B (%s%s)\n",
			m->retx_segments.v, m->retx_bytes.v,
			strcmp(m->retx_vantage, "tracer") ? m->retx_vantage : "the source's TCP stack",
			strcmp(m->retx_vantage, "tracer") ? " view" : ", exact");
	if (m->avg_bps.set)
		fprintf(out, "  throughput   avg %.1f Mbit/s, peak %.1f Mbit/s (100 ms bins)\n",
			(double)m->avg_bps.v / 1e6, (double)m->peak_bps.v / 1e6);
}

static void print_downtime(FILE *out, const struct report_migration *m)
{
	char a[48], b[48], c[48];

	fprintf(out, "  downtime     probe gap %s (probe interval %s, at %s), guest silence %s\n",
		ms(m->probe_gap_ns, a, sizeof(a)), ms(m->probe_interval_ns, b, sizeof(b)),
		m->probe_vantage ? m->probe_vantage : "n/a", ms(m->guest_silence_ns, c, sizeof(c)));
}

/* Sightings of one announcement at several captures are one line: the
 * capture that saw it first, then how much later the others did. */
enum { SAME_ANNOUNCE_NS = 5000000, ANNOUNCE_LINES = 8 };

static void print_announce(FILE *out, const struct report_migration *m)
{
	char a[48], t[48];
	int k = 0, lines = 0;

	fprintf(out, "  announce     %d RARP, %d GARP, %d NA; first %s after the stream end\n",
		announce_count(m, ANNOUNCE_RARP), announce_count(m, ANNOUNCE_GARP),
		announce_count(m, ANNOUNCE_NA), ms(m->first_announce_after_end_ns, a, sizeof(a)));
	while (k < m->nannounces) {
		const struct report_announce *first = &m->announces[k];

		if (lines++ == ANNOUNCE_LINES) {
			fprintf(out, "               ... (all of them in --format json)\n");
			return;
		}
		format_time(first->ts_ns, t, sizeof(t));
		fprintf(out, "               %.15s %-4s at %s", t + 11,
			announce_kind_name(first->kind), first->vantage);
		for (k++; k < m->nannounces && m->announces[k].kind == first->kind &&
			  m->announces[k].ts_ns - first->ts_ns < SAME_ANNOUNCE_NS; k++)
			fprintf(out, ", %s +%.3f ms", m->announces[k].vantage,
				(double)(m->announces[k].ts_ns - first->ts_ns) / 1e6);
		fprintf(out, "\n");
	}
}

static void print_loss(FILE *out, const struct report_migration *m)
{
	char a[48], b[48];

	if (!m->probes_sent.set) {
		fprintf(out, "  loss         n/a (no echo probes to the guest)\n");
		return;
	}
	fprintf(out, "  loss         %" PRId64 " probes sent, %" PRId64 " answered, %" PRId64
		" lost (", m->probes_sent.v, m->probes_answered.v, m->lost_probes.v);
	for (int ph = 0; ph < PHASE_COUNT; ph++)
		fprintf(out, "%s%s %" PRId64, ph ? ", " : "", phase_name(ph), m->phase_lost[ph].v);
	fprintf(out, ")\n");
	fprintf(out, "  rtt p50/p99 ");
	for (int ph = 0; ph < PHASE_COUNT; ph++)
		if (m->rtt_p50_ns[ph].set)
			fprintf(out, " %s %s/%s", phase_name(ph), ms(m->rtt_p50_ns[ph], a, sizeof(a)),
				ms(m->rtt_p99_ns[ph], b, sizeof(b)));
	fprintf(out, "\n");
}

int render_text(const struct report *r, FILE *out)
{
	fprintf(out, "migscope analyze: %d capture(s), guest %s %s%s%s\n", r->ninputs,
		r->guest_mac, r->guest_ip4, strcmp(r->guest_ip6, "-") ? " " : "",
		strcmp(r->guest_ip6, "-") ? r->guest_ip6 : "");
	for (int i = 0; i < r->ninputs; i++) {
		const struct report_input *in = &r->inputs[i];
		char off[48], unc[48];

		fprintf(out, "  %-4s %s (%s, host %s, %" PRIu64 " packets", in->vantage, in->path,
			in->link, in->host, in->packets);
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
	for (int i = 0; i < r->nmigrations; i++) {
		const struct report_migration *m = &r->migrations[i];

		fprintf(out, "\nmigration %d: %s -> %s\n", i + 1, m->source, m->destination);
		print_stream(out, m, r);
		print_downtime(out, m);
		print_announce(out, m);
		print_loss(out, m);
		render_switchover_text(out, m, r);
		fprintf(out, "  verdict      %s: %s\n", m->verdict, m->summary);
		for (int e = 0; e < m->nevidence; e++)
			fprintf(out, "               - %s\n", m->evidence[e]);
	}
	return ferror(out) ? -EIO : 0;
}
