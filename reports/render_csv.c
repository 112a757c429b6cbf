#include <errno.h>
#include <inttypes.h>

#include "analysis/guest.h"
#include "reports/render.h"
#include "reports/units.h"

/* One row per migration, the columns an operator tabulates; empty = unknown. */
static const char *const COLUMNS =
	"migration,source,destination,start_ns,migration_time_us,downtime_us,"
	"probe_interval_us,guest_silence_us,out_bytes,in_bytes,retransmitted_segments,"
	"retransmitted_bytes,probes_sent,lost_probes,first_announce_us,rarp_count,"
	"reachable_after,verdict";

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

int render_csv(const struct report *r, FILE *out)
{
	fprintf(out, "%s\n", COLUMNS);
	for (int i = 0; i < r->nmigrations; i++) {
		const struct report_migration *m = &r->migrations[i];
		fprintf(out, "%d,%s,%s", i + 1, m->source, m->destination);
		cell_int(out, m->start_ns);
		cell_us(out, m->migration_time_ns);
		cell_us(out, m->probe_gap_ns);
		cell_us(out, m->probe_interval_ns);
		cell_us(out, m->guest_silence_ns);
		cell_int(out, bytes_of(&m->at_src));
		cell_int(out, bytes_of(&m->at_dst));
		cell_int(out, m->retx_segments);
		cell_int(out, m->retx_bytes);
		cell_int(out, m->probes_sent);
		cell_int(out, m->lost_probes);
		cell_us(out, m->first_announce_after_end_ns);
		fprintf(out, ",%d", announce_count(m, ANNOUNCE_RARP));
		fprintf(out, ",%s", !m->reachable_after.set ? "" : m->reachable_after.v ? "true" : "false");
		fprintf(out, ",%s\n", m->verdict);
	}
	return ferror(out) ? -EIO : 0;
}
