/*
 * render_openmetrics - the report where fleets already look: one sample per
 * migration of each metric family, in the OpenMetrics text format (which
 * Prometheus scrapes, and node_exporter's textfile collector reads as its
 * own text format: `# UNIT` and `# EOF` are comments there). Names and units
 * by Prometheus' conventions: base units, the unit last in the name; a
 * figure the captures cannot give has no sample rather than a 0.
 *
 * Labels: migration (its number in the report), guest (MAC, else address),
 * guest_ip, source, destination, mode, verdict, and domain (the libvirt domain)
 * when the hook's marks name it.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "reports/render.h"

struct family {
	const char *name, *unit, *help;
	/* the migration's value, set == false: no sample */
	struct opt_i64 (*value)(const struct report_migration *m);
	bool seconds; /* the value is in ns, written as seconds */
};

static struct opt_i64 downtime(const struct report_migration *m)
{
	return m->downtime.probe_gap_ns;
}

static struct opt_i64 silence(const struct report_migration *m)
{
	return m->downtime.guest_silence_ns;
}

static struct opt_i64 duration(const struct report_migration *m)
{
	return m->stream.migration_time_ns;
}

static struct opt_i64 started(const struct report_migration *m)
{
	return m->stream.start_ns;
}

static const struct report_stream_view *nic_view(const struct report_migration *m)
{
	return m->stream.at_src.present ? &m->stream.at_src
	       : m->stream.at_dst.present ? &m->stream.at_dst : NULL;
}

static struct opt_i64 bytes_out(const struct report_migration *m)
{
	const struct report_stream_view *v = nic_view(m);

	return v ? opt_some((int64_t)v->payload_bytes) : opt_none();
}

static struct opt_i64 bytes_back(const struct report_migration *m)
{
	const struct report_stream_view *v = nic_view(m);

	return v ? opt_some((int64_t)v->rev_payload_bytes) : opt_none();
}

static struct opt_i64 retransmits(const struct report_migration *m)
{
	return m->stream.retx_segments;
}

static struct opt_i64 lost(const struct report_migration *m)
{
	return m->loss.lost_probes;
}

static struct opt_i64 sent(const struct report_migration *m)
{
	return m->loss.probes_sent;
}

static struct opt_i64 findings(const struct report_migration *m)
{
	const char *v = m->verdict.code;

	return opt_some(v && strcmp(v, "ok") && strcmp(v, "insufficient_data"));
}

static const struct family FAMILIES[] = {
	{ "migscope_migration_downtime_seconds", "seconds",
	  "The guest's outage as its prober saw it: the probe gap around the resume.", downtime,
	  true },
	{ "migscope_migration_guest_silence_seconds", "seconds",
	  "The guest's last frame at the source NIC to its first at the destination NIC.", silence,
	  true },
	{ "migscope_migration_duration_seconds", "seconds",
	  "The migration stream's first packet to its last data.", duration, true },
	{ "migscope_migration_start_timestamp_seconds", "seconds",
	  "When the migration stream began (Unix time).", started, true },
	{ "migscope_migration_sent_bytes", "bytes",
	  "Stream payload the source sent to the destination, retransmissions included.", bytes_out,
	  false },
	{ "migscope_migration_returned_bytes", "bytes",
	  "Payload the destination sent back (QEMU's return path).", bytes_back, false },
	{ "migscope_migration_retransmitted_segments", NULL,
	  "Stream segments the source sent again.", retransmits, false },
	{ "migscope_migration_probes", NULL, "Echo probes sent to the guest.", sent, false },
	{ "migscope_migration_lost_probes", NULL, "Echo probes to the guest never answered.", lost,
	  false },
	{ "migscope_migration_findings", NULL,
	  "1 when the diagnosis found a fault (a verdict other than ok).", findings, false },
};

/* A label value as the format wants it: backslash, quote and newline escaped. */
static void label(FILE *out, const char *name, const char *value, bool first)
{
	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (const char *c = value ? value : ""; *c; c++) {
		if (*c == '\\' || *c == '"')
			fprintf(out, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

static void labels(FILE *out, const struct report_migration *m, int index)
{
	const struct report_guest *g = &m->guest;
	char num[16];

	snprintf(num, sizeof(num), "%d", index + 1);
	fputc('{', out);
	label(out, "migration", num, true);
	label(out, "guest", g->known ? g->mac : g->ipv4[0] ? g->ipv4 : g->ipv6, false);
	label(out, "guest_ip", g->ipv4[0] ? g->ipv4 : g->ipv6, false);
	if (g->domain[0]) /* named by the libvirt hook's marks */
		label(out, "domain", g->domain, false);
	label(out, "source", m->source, false);
	label(out, "destination", m->destination, false);
	label(out, "mode", m->stream.mode ? m->stream.mode : "unknown", false);
	label(out, "verdict", m->verdict.code ? m->verdict.code : "unknown", false);
	fputc('}', out);
}

static void value(FILE *out, int64_t v, bool seconds)
{
	uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	if (seconds)
		fprintf(out, " %s%" PRIu64 ".%09" PRIu64 "\n", v < 0 ? "-" : "", a / 1000000000u,
			a % 1000000000u);
	else
		fprintf(out, " %" PRId64 "\n", v);
}

int render_openmetrics(const struct report *r, FILE *out)
{
	for (size_t f = 0; f < sizeof(FAMILIES) / sizeof(FAMILIES[0]); f++) {
		const struct family *fam = &FAMILIES[f];

		fprintf(out, "# TYPE %s gauge\n", fam->name);
		if (fam->unit)
			fprintf(out, "# UNIT %s %s\n", fam->name, fam->unit);
		fprintf(out, "# HELP %s %s\n", fam->name, fam->help);
		for (int i = 0; i < r->nmigrations; i++) {
			struct opt_i64 v = fam->value(&r->migrations[i]);

			if (!v.set)
				continue;
			fputs(fam->name, out);
			labels(out, &r->migrations[i], i);
			value(out, v.v, fam->seconds);
		}
	}
	fputs("# EOF\n", out);
	return ferror(out) ? -EIO : 0;
}
