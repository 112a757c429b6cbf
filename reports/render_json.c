#include <errno.h>
#include <string.h>

#include "reports/json_writer.h"
#include "reports/render.h"

static void write_inputs(struct json_writer *w, const struct report *r)
{
	json_begin(w, "inputs", '[');
	for (int i = 0; i < r->ninputs; i++) {
		const struct report_input *in = &r->inputs[i];

		json_begin(w, NULL, '{');
		json_str(w, "file", in->path);
		json_str(w, "vantage", in->vantage);
		json_str(w, "host", in->host[0] ? in->host : NULL);
		json_str(w, "link", in->link);
		json_int(w, "packets", (int64_t)in->packets);
		json_opt_int(w, "first_ns", in->first_ns);
		json_opt_int(w, "last_ns", in->last_ns);
		json_opt_int(w, "clock_offset_ns", in->clock_offset_ns);
		json_opt_int(w, "clock_uncertainty_ns", in->clock_uncertainty_ns);
		json_end(w, '}');
	}
	json_end(w, ']');
}

static void write_view(struct json_writer *w, const char *key, const struct report_stream_view *v)
{
	if (!v->present) {
		json_str(w, key, NULL);
		return;
	}
	json_begin(w, key, '{');
	json_int(w, "packets", (int64_t)v->packets);
	json_int(w, "payload_bytes", (int64_t)v->payload_bytes);
	json_int(w, "wire_bytes", (int64_t)v->wire_bytes);
	json_int(w, "retransmitted_segments", (int64_t)v->retx_segments);
	json_int(w, "retransmitted_bytes", (int64_t)v->retx_bytes);
	json_int(w, "reverse_packets", (int64_t)v->rev_packets);
	json_int(w, "reverse_payload_bytes", (int64_t)v->rev_payload_bytes);
	json_int(w, "reverse_wire_bytes", (int64_t)v->rev_wire_bytes);
	json_str(w, "bytes_source", v->exact ? "counters" : "packets");
	json_end(w, '}');
}

static struct opt_i64 view_bytes(const struct report_stream_view *v, bool wire)
{
	if (!v->present)
		return (struct opt_i64){ 0 };
	return opt_some((int64_t)(wire ? v->wire_bytes : v->payload_bytes));
}

static void write_channels(struct json_writer *w, const struct report_migration *m)
{
	json_begin(w, "channels", '[');
	for (int k = 0; k < m->stream.nchannels; k++) {
		const struct report_channel *c = &m->stream.channels[k];

		json_begin(w, NULL, '{');
		json_str(w, "kind", c->kind);
		json_int(w, "src_port", c->src_port);
		json_int(w, "dst_port", c->dst_port);
		json_opt_int(w, "out_bytes", c->out_bytes);
		json_opt_int(w, "in_bytes", c->in_bytes);
		json_opt_int(w, "reverse_bytes", c->reverse_bytes);
		json_end(w, '}');
	}
	json_end(w, ']');
}

static void write_postcopy(struct json_writer *w, const struct report_migration *m)
{
	const struct report_postcopy *pc = &m->stream.postcopy;

	if (!m->stream.postcopy_set) {
		json_str(w, "postcopy", NULL);
		return;
	}
	json_begin(w, "postcopy", '{');
	json_opt_us(w, "duration_us", pc->duration_ns);
	json_opt_int(w, "bytes_after_resume", pc->bytes_after_resume);
	json_opt_int(w, "page_requests", pc->page_requests);
	json_opt_int(w, "first_request_ns", pc->first_request_ns);
	json_opt_int(w, "last_request_ns", pc->last_request_ns);
	json_end(w, '}');
}

static void write_stream(struct json_writer *w, const struct report_migration *m)
{
	json_begin(w, "stream", '{');
	json_opt_int(w, "start_ns", m->stream.start_ns);
	json_opt_int(w, "end_ns", m->stream.end_ns);
	json_opt_us(w, "migration_time_us", m->stream.migration_time_ns);
	json_opt_int(w, "out_bytes", view_bytes(&m->stream.at_src, false));
	json_opt_int(w, "in_bytes", view_bytes(&m->stream.at_dst, false));
	json_opt_int(w, "out_wire_bytes", view_bytes(&m->stream.at_src, true));
	json_opt_int(w, "in_wire_bytes", view_bytes(&m->stream.at_dst, true));
	json_str(w, "bytes_source", m->stream.bytes_source);
	json_opt_int(w, "retransmitted_segments", m->stream.retx_segments);
	json_opt_int(w, "retransmitted_bytes", m->stream.retx_bytes);
	json_str(w, "retransmit_vantage", m->stream.retx_vantage);
	json_opt_int(w, "avg_throughput_bps", m->stream.avg_bps);
	json_opt_int(w, "peak_throughput_bps", m->stream.peak_bps);
	json_int(w, "flows", m->stream.nflows);
	json_str(w, "detected_by", m->stream.detected_by);
	json_str(w, "mode", m->stream.mode);
	json_begin(w, "features", '[');
	for (int k = 0; k < REPORT_FEATURES; k++)
		if (m->stream.features >> k & 1)
			json_str(w, NULL, report_feature_name(k));
	json_end(w, ']');
	json_begin(w, "mode_evidence", '[');
	for (int e = 0; e < m->stream.nmode_evidence; e++)
		json_str(w, NULL, m->stream.mode_evidence[e]);
	json_end(w, ']');
	write_channels(w, m);
	write_postcopy(w, m);
	json_begin(w, "by_vantage", '{');
	write_view(w, "src", &m->stream.at_src);
	write_view(w, "dst", &m->stream.at_dst);
	json_end(w, '}');
	json_end(w, '}');
}

static void write_downtime(struct json_writer *w, const struct report_migration *m)
{
	json_begin(w, "downtime", '{');
	json_str(w, "probe", m->downtime.probe);
	json_opt_us(w, "probe_gap_us", m->downtime.probe_gap_ns);
	json_opt_int(w, "gap_start_ns", m->downtime.gap_start_ns);
	json_opt_int(w, "gap_end_ns", m->downtime.gap_end_ns);
	json_opt_us(w, "probe_interval_us", m->downtime.probe_interval_ns);
	json_str(w, "probe_vantage", m->downtime.probe_vantage);
	json_opt_int(w, "icmp_unanswered", m->downtime.icmp_unanswered);
	json_opt_us(w, "guest_silence_us", m->downtime.guest_silence_ns);
	json_opt_int(w, "silence_start_ns", m->downtime.silence_start_ns);
	json_opt_int(w, "silence_end_ns", m->downtime.silence_end_ns);
	json_end(w, '}');
}

static void write_announce(struct json_writer *w, const struct report_migration *m)
{
	static const char *const keys[] = { "rarp", "garp", "na" };

	json_begin(w, "announce", '{');
	for (int kind = 0; kind < REPORT_ANNOUNCE_KINDS; kind++) {
		json_begin(w, keys[kind], '[');
		for (int k = 0; k < m->announce.nseen; k++) {
			if (m->announce.seen[k].kind != kind)
				continue;
			json_begin(w, NULL, '{');
			json_int(w, "ns", m->announce.seen[k].ts_ns);
			json_str(w, "vantage", m->announce.seen[k].vantage);
			json_end(w, '}');
		}
		json_end(w, ']');
	}
	json_opt_us(w, "first_after_stream_end_us", m->announce.first_after_end_ns);
	json_end(w, '}');
}

static void write_loss(struct json_writer *w, const struct report_migration *m)
{
	json_begin(w, "loss", '{');
	json_opt_int(w, "probes_sent", m->loss.probes_sent);
	json_opt_int(w, "probes_answered", m->loss.probes_answered);
	json_opt_int(w, "lost_probes", m->loss.lost_probes);
	json_begin(w, "phase_start_ns", '{');
	for (int ph = 0; ph < PHASE_COUNT; ph++)
		json_opt_int(w, phase_name(ph), m->loss.phase_start_ns[ph]);
	json_end(w, '}');
	json_begin(w, "by_phase", '{');
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		json_begin(w, phase_name(ph), '{');
		json_opt_int(w, "sent", m->loss.phase[ph].sent);
		json_opt_int(w, "lost", m->loss.phase[ph].lost);
		json_opt_us(w, "rtt_p50_us", m->loss.phase[ph].rtt_p50_ns);
		json_opt_us(w, "rtt_p99_us", m->loss.phase[ph].rtt_p99_ns);
		json_end(w, '}');
	}
	json_end(w, '}');
	json_end(w, '}');
}

static void write_hypervisor(struct json_writer *w, const struct report_migration *m)
{
	const struct report_hypervisor *h = &m->hypervisor;
	char kinds[sizeof(h->sources)], *k, *save = NULL;

	if (!m->hypervisor_set) {
		json_str(w, "hypervisor", NULL);
		return;
	}
	json_begin(w, "hypervisor", '{');
	json_begin(w, "sources", '[');
	snprintf(kinds, sizeof(kinds), "%s", h->sources);
	for (k = strtok_r(kinds, ",", &save); k; k = strtok_r(NULL, ",", &save))
		json_str(w, NULL, k);
	json_end(w, ']');
	json_str(w, "status", h->status[0] ? h->status : NULL);
	json_opt_us(w, "total_time_us", h->total_time_ns);
	json_opt_us(w, "downtime_us", h->downtime_ns);
	json_opt_us(w, "setup_time_us", h->setup_time_ns);
	json_opt_int(w, "postcopy_requests", h->postcopy_requests);
	json_opt_us(w, "postcopy_blocktime_us", h->postcopy_blocktime_ns);
	json_opt_int(w, "stop_ns", h->stop_ns);
	json_opt_int(w, "resume_ns", h->resume_ns);
	json_opt_int(w, "postcopy_start_ns", h->postcopy_start_ns);
	json_opt_int(w, "completed_ns", h->completed_ns);
	json_end(w, '}');
}

/* null when nothing was measured */
static void write_turnaround(struct json_writer *w, const char *key,
			     const struct report_turnaround *t)
{
	if (!t->answers) {
		json_str(w, key, NULL);
		return;
	}
	json_begin(w, key, '{');
	json_str(w, "vantage", t->vantage);
	json_int(w, "answers", t->answers);
	json_opt_us(w, "p50_us", opt_some(t->p50_ns));
	json_opt_us(w, "p90_us", opt_some(t->p90_ns));
	json_opt_us(w, "max_us", opt_some(t->max_ns));
	json_opt_us(w, "slow_above_us", t->slow_above_ns ? opt_some(t->slow_above_ns) : opt_none());
	json_int(w, "slow", t->slow);
	json_end(w, '}');
}

static void write_outage(struct json_writer *w, const struct report_migration *m)
{
	const struct report_outage *o = &m->outage;

	json_begin(w, "outage", '{');
	json_opt_us(w, "pause_us", o->pause_ns);
	json_opt_us(w, "pause_hypervisor_us", o->pause_hypervisor_ns);
	json_opt_us(w, "announce_delay_us", o->announce_delay_ns);
	json_opt_us(w, "reconvergence_us", o->reconvergence_ns);
	json_opt_us(w, "guest_answer_us", o->guest_answer_ns);
	json_opt_us(w, "return_us", o->return_ns);
	json_opt_us(w, "total_us", o->total_ns);
	write_turnaround(w, "turnaround_before", &o->turnaround_before);
	write_turnaround(w, "turnaround_after", &o->turnaround_after);
	json_end(w, '}');
}

static void write_guest_flows(struct json_writer *w, const struct report_guest_traffic *t)
{
	json_begin(w, "guest_flows", '[');
	for (int k = 0; k < t->nlist; k++) {
		const struct report_guest_flow *f = &t->list[k];

		json_begin(w, NULL, '{');
		json_str(w, "proto", f->proto);
		json_str(w, "client", f->client);
		json_int(w, "client_port", f->client_port);
		json_str(w, "server", f->server);
		json_int(w, "server_port", f->server_port);
		json_str(w, "guest_end", f->guest_is_server ? "server" : "client");
		json_opt_us(w, "stall_to_guest_us", f->stall_to_guest_ns);
		json_opt_us(w, "stall_from_guest_us", f->stall_from_guest_ns);
		json_opt_int(w, "stall_start_ns", f->stall_start_ns);
		json_int(w, "retransmitted_segments", f->retransmitted_segments);
		json_int(w, "zero_windows_from_guest", f->zero_windows_from_guest);
		json_int(w, "zero_windows_to_guest", f->zero_windows_to_guest);
		json_begin(w, "rto_backoff", '[');
		for (int b = 0; b < f->nbackoff; b++)
			json_opt_us(w, NULL, opt_some(f->backoff_ns[b]));
		json_end(w, ']');
		json_opt_bool(w, "reset", opt_some(f->reset));
		json_opt_bool(w, "survived", opt_some(f->survived));
		json_end(w, '}');
	}
	json_end(w, ']');
	json_begin(w, "guest_flows_summary", '{');
	json_int(w, "flows", t->flows);
	json_int(w, "listed", t->nlist);
	json_int(w, "stalled", t->stalled);
	json_int(w, "reset", t->reset);
	json_int(w, "survived", t->survived);
	json_int(w, "zero_window", t->zero_window);
	json_opt_us(w, "stall_p50_us", t->stall_p50_ns);
	json_opt_us(w, "stall_p99_us", t->stall_p99_ns);
	json_opt_us(w, "stall_max_us", t->stall_max_ns);
	json_end(w, '}');
}

static void write_responses(struct json_writer *w, const struct report_guest_traffic *t)
{
	json_begin(w, "responses", '{');
	json_opt_us(w, "sla_us", t->sla_ns);
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		const struct report_responses *r = &t->responses[ph];

		if (!r->set) {
			json_str(w, phase_name(ph), NULL);
			continue;
		}
		json_begin(w, phase_name(ph), '{');
		json_int(w, "requests", r->requests);
		json_int(w, "failed", r->failed);
		json_opt_us(w, "p50_us", r->p50_ns);
		json_opt_us(w, "p90_us", r->p90_ns);
		json_opt_us(w, "p99_us", r->p99_ns);
		json_opt_int(w, "over_sla", t->sla_ns.set ? opt_some(r->over_sla) : (struct opt_i64){ 0 });
		json_end(w, '}');
	}
	json_end(w, '}');
}

static void write_guest(struct json_writer *w, const struct report_guest *g)
{
	json_begin(w, "guest", '{');
	json_str(w, "mac", g->known ? g->mac : NULL);
	json_str(w, "ipv4", g->ipv4[0] ? g->ipv4 : NULL);
	json_str(w, "ipv6", g->ipv6[0] ? g->ipv6 : NULL);
	json_str(w, "domain", g->domain[0] ? g->domain : NULL);
	json_str(w, "uuid", g->uuid[0] ? g->uuid : NULL);
	json_end(w, '}');
}

/* null for a single migration */
static void write_evacuation(struct json_writer *w, const struct report *r)
{
	const struct report_evacuation *e = &r->evacuation;

	if (!e->set) {
		json_str(w, "evacuation", NULL);
		return;
	}
	json_begin(w, "evacuation", '{');
	json_int(w, "migrations", r->nmigrations);
	json_int(w, "guests", e->guests);
	json_int(w, "max_concurrent", e->max_concurrent);
	json_int(w, "measured", e->measured);
	json_opt_us(w, "worst_downtime_us", e->worst_ns);
	json_opt_us(w, "median_downtime_us", e->median_ns);
	json_opt_us(w, "p95_downtime_us", e->p95_ns);
	json_int(w, "total_bytes", (int64_t)e->total_bytes);
	json_opt_int(w, "start_ns", e->start_ns);
	json_opt_int(w, "end_ns", e->end_ns);
	json_opt_us(w, "duration_us", e->duration_ns);
	json_begin(w, "verdicts", '[');
	for (int k = 0; k < e->nverdicts; k++) {
		json_begin(w, NULL, '{');
		json_str(w, "code", e->verdicts[k].code);
		json_int(w, "count", e->verdicts[k].count);
		json_end(w, '}');
	}
	json_end(w, ']');
	json_begin(w, "worst_first", '[');
	for (int i = 0; i < r->nmigrations; i++)
		json_int(w, NULL, e->worst_first[i]);
	json_end(w, ']');
	json_end(w, '}');
}

static void write_migration(struct json_writer *w, const struct report_migration *m,
			    const struct report *r)
{
	json_begin(w, NULL, '{');
	write_guest(w, &m->guest);
	json_str(w, "source", m->source);
	json_str(w, "destination", m->destination);
	json_begin(w, "vantage", '{');
	json_str(w, "src", m->src_input >= 0 ? r->inputs[m->src_input].path : NULL);
	json_str(w, "dst", m->dst_input >= 0 ? r->inputs[m->dst_input].path : NULL);
	json_end(w, '}');
	write_stream(w, m);
	write_downtime(w, m);
	write_announce(w, m);
	write_loss(w, m);
	json_opt_bool(w, "reachable_after", m->reachable_after);
	write_hypervisor(w, m);
	write_outage(w, m);
	write_guest_flows(w, &m->traffic);
	write_responses(w, &m->traffic);
	render_switchover_json(w, m, r);
	json_begin(w, "verdict", '{');
	json_str(w, "code", m->verdict.code);
	json_str(w, "summary", m->verdict.summary);
	json_str(w, "resume_basis", m->verdict.resume_basis);
	json_opt_int(w, "resume_ns", m->verdict.resume_ns);
	json_opt_us(w, "duration_us", m->verdict.duration_ns);
	json_opt_us(w, "reconvergence_us", m->verdict.reconvergence_ns);
	json_begin(w, "evidence", '[');
	for (int e = 0; e < m->verdict.nevidence; e++)
		json_str(w, NULL, m->verdict.evidence[e]);
	json_end(w, ']');
	json_end(w, '}');
	json_end(w, '}');
}

int render_json(const struct report *r, FILE *out)
{
	struct json_writer w = { .out = out };

	json_begin(&w, NULL, '{');
	json_str(&w, "schema", REPORT_SCHEMA);
	write_inputs(&w, r);
	write_guest(&w, &r->guest);
	write_evacuation(&w, r);
	json_begin(&w, "migrations", '[');
	for (int m = 0; m < r->nmigrations; m++)
		write_migration(&w, &r->migrations[m], r);
	json_end(&w, ']');
	json_begin(&w, "warnings", '[');
	for (int i = 0; i < r->nwarnings; i++)
		json_str(&w, NULL, r->warnings[i]);
	json_end(&w, ']');
	json_end(&w, '}');
	return ferror(out) ? -EIO : 0;
}
