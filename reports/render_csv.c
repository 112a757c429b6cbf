#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "reports/render.h"
#include "reports/units.h"

/* One row per migration, the columns an operator tabulates; empty = unknown. */
static const char *const COLUMNS =
	"migration,source,destination,start_ns,migration_time_us,downtime_us,"
	"probe_interval_us,guest_silence_us,out_bytes,in_bytes,retransmitted_segments,"
	"retransmitted_bytes,probes_sent,lost_probes,first_announce_us,rarp_count,"
	"reachable_after,verdict,mode,guest_mac,guest_ipv4,guest_ipv6,guest_domain,guest_uuid,"
	"guest_flows,guest_flows_stalled,guest_flows_reset,stall_max_us,requests_pause,"
	"response_p99_pause_us,requests_after,response_p99_after_us,over_sla";

/* A text cell, quoted as RFC 4180 wants when it holds a comma, a quote or a
 * line end (a libvirt domain name may). */
static void cell_text(FILE *out, const char *v)
{
	fputc(',', out);
	if (!v[strcspn(v, ",\"\r\n")]) {
		fputs(v, out);
		return;
	}
	fputc('"', out);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', out);
		fputc(*v, out);
	}
	fputc('"', out);
}

static void cell_int(FILE *out, struct opt_i64 v)
{
	if (v.set)
		fprintf(out, ",%" PRId64, v.v);
	else
		fputs(",", out);
}

static void cell_us(FILE *out, struct opt_i64 ns)
{
	char buf[40];

	if (!ns.set) {
		fputs(",", out);
		return;
	}
	format_us(ns.v, buf, sizeof(buf));
	fprintf(out, ",%s", buf);
}

static struct opt_i64 bytes_of(const struct report_stream_view *v)
{
	return v->present ? opt_some((int64_t)v->payload_bytes) : (struct opt_i64){ 0 };
}

/* The guest's own flows and requests (empty where no request began in a
 * phase); over_sla sums every phase and is empty without --sla. */
static void traffic_cells(FILE *out, const struct report_guest_traffic *t)
{
	static const enum phase shown[] = { PHASE_PAUSE, PHASE_AFTER };
	uint32_t over = 0;

	fprintf(out, ",%d,%d,%d", t->flows, t->stalled, t->reset);
	cell_us(out, t->stall_max_ns);
	for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
		const struct report_responses *r = &t->responses[shown[k]];

		cell_int(out, r->set ? opt_some(r->requests) : (struct opt_i64){ 0 });
		cell_us(out, r->p99_ns);
	}
	for (int ph = 0; ph < PHASE_COUNT; ph++)
		over += t->responses[ph].over_sla;
	cell_int(out, t->sla_ns.set ? opt_some(over) : (struct opt_i64){ 0 });
}

int render_csv(const struct report *r, FILE *out)
{
	fprintf(out, "%s\n", COLUMNS);
	for (int i = 0; i < r->nmigrations; i++) {
		const struct report_migration *m = &r->migrations[i];
		fprintf(out, "%d,%s,%s", i + 1, m->source, m->destination);
		cell_int(out, m->stream.start_ns);
		cell_us(out, m->stream.migration_time_ns);
		cell_us(out, m->downtime.probe_gap_ns);
		cell_us(out, m->downtime.probe_interval_ns);
		cell_us(out, m->downtime.guest_silence_ns);
		cell_int(out, bytes_of(&m->stream.at_src));
		cell_int(out, bytes_of(&m->stream.at_dst));
		cell_int(out, m->stream.retx_segments);
		cell_int(out, m->stream.retx_bytes);
		cell_int(out, m->loss.probes_sent);
		cell_int(out, m->loss.lost_probes);
		cell_us(out, m->announce.first_after_end_ns);
		fprintf(out, ",%d", m->announce.count[REPORT_RARP]);
		fprintf(out, ",%s", !m->reachable_after.set ? "" : m->reachable_after.v ? "true" : "false");
		fprintf(out, ",%s,%s", m->verdict.code, m->stream.mode ? m->stream.mode : "");
		fprintf(out, ",%s,%s,%s", m->guest.known ? m->guest.mac : "", m->guest.ipv4,
			m->guest.ipv6);
		cell_text(out, m->guest.domain);
		cell_text(out, m->guest.uuid);
		traffic_cells(out, &m->traffic);
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}
