#include "analysis/report_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/announce_sched.h"
#include "analysis/diagnose.h"
#include "analysis/domain.h"
#include "analysis/evacuation.h"
#include "analysis/guest_match.h"
#include "analysis/guest_traffic.h"
#include "analysis/linklayer.h"
#include "analysis/modes.h"
#include "analysis/probes.h"
#include "analysis/report_plot.h"
#include "analysis/roles.h"
#include "analysis/switchover.h"
#include "analysis/timeline.h"

_Static_assert((int)MAX_INPUTS == (int)REPORT_MAX_INPUTS, "the report holds every capture");
_Static_assert((int)ADDR_STR_LEN <= (int)REPORT_ADDR_LEN, "the report holds every address as text");

/* One migration while its report is built: the stream the flow table handed
 * over, each capture's role in it, and its share of the captures in time. */
struct mig_work {
	const struct mig_stream *ms;
	enum role *role;              /* per capture */
	int64_t window_lo, window_hi;
	struct guest_choice guest;    /* the guest it moved (guest_match.h) */
	/* its guest's probes, in request order (an evacuation's prober pings
	 * every guest: each switchover walks only its own); owned while built */
	struct probe *probes;
	uint32_t nprobes;
};

struct build_ctx {
	const struct guest_set *gs;
	const struct guest_conns *gc;
	const struct report_hypervisor *hv; /* per --hypervisor file */
	int nhv;
	const struct build_input *in;
	const struct analyze_config *cfg;
	struct report *r;
	struct mig_work *work;
	int nwork;
	struct guest_choice guest;   /* the report's guest: --guest, else the likeliest */
	bool is_ctl[MAX_INPUTS];
	/* the prober's probes grouped by target, once (each migration reads its
	 * guest's, not all of an evacuation's): target t's indices are
	 * by_target[target_start[t] .. target_start[t + 1]), in probe order */
	uint32_t *by_target;
	uint32_t target_start[MAX_TARGETS + 1];
};

static int index_probes(struct build_ctx *c)
{
	uint32_t n, fill[MAX_TARGETS] = { 0 };
	const struct probe *p = guest_set__probes(c->gs, &n);

	memset(c->target_start, 0, sizeof(c->target_start));
	for (uint32_t k = 0; k < n; k++)
		c->target_start[p[k].target + 1]++;
	for (int t = 0; t < MAX_TARGETS; t++)
		c->target_start[t + 1] += c->target_start[t];
	c->by_target = malloc((n ? n : 1) * sizeof(*c->by_target));
	if (!c->by_target)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++)
		c->by_target[c->target_start[p[k].target] + fill[p[k].target]++] = k;
	return 0;
}

/* Target t's probe indices (none for t < 0), in probe order. */
static const uint32_t *target_probes(const struct build_ctx *c, int t, uint32_t *n)
{
	*n = t >= 0 && t < MAX_TARGETS ? c->target_start[t + 1] - c->target_start[t] : 0;
	return *n ? c->by_target + c->target_start[t] : c->by_target;
}

static int find_role(const struct mig_work *w, int n, enum role role)
{
	for (int i = 0; i < n; i++)
		if (w->role[i] == role)
			return i;
	return -1;
}

/* Offsets are estimated against the reference capture; the report states them
 * against the first migration's source capture, as an operator reads them. */
static void fill_clock(const struct build_ctx *c, int i, struct report_input *ri)
{
	const struct clock_estimate *e = &c->in[i].clock, *s;
	int src = c->nwork ? find_role(&c->work[0], c->cfg->ninputs, ROLE_SRC) : -1;

	if (src < 0)
		for (int k = 0; k < c->cfg->ninputs; k++)
			if (c->in[k].clock_ref)
				src = k;
	s = &c->in[src].clock;
	if (!e->valid || !s->valid)
		return;
	ri->clock_offset_ns = opt_some(e->offset_ns - s->offset_ns);
	ri->clock_uncertainty_ns = opt_some(i == src ? 0 : e->uncertainty_ns + s->uncertainty_ns);
}

/* Each capture, its vantage (the role of its first migration unless
 * labelled) and its compute node's address. */
static void fill_inputs(struct build_ctx *c)
{
	struct report *r = c->r;

	r->ninputs = c->cfg->ninputs;
	for (int i = 0; i < r->ninputs; i++) {
		struct report_input *ri = &r->inputs[i];

		ri->path = c->in[i].path;
		ri->packets = c->in[i].packets;
		ri->link = linklayer_name(c->in[i].linktype);
		if (c->in[i].packets) {
			ri->first_ns = opt_some(c->in[i].first_ns);
			ri->last_ns = opt_some(c->in[i].last_ns);
		}
		fill_clock(c, i, ri);
		ri->vantage = c->in[i].label ? c->in[i].label : "ctl";
		for (int m = 0; m < c->nwork; m++) {
			enum role role = c->work[m].role[i];
			const struct mig_stream *ms = c->work[m].ms;

			if (role != ROLE_SRC && role != ROLE_DST)
				continue;
			if (!c->in[i].label)
				ri->vantage = role_name(role);
			ip_format(role == ROLE_SRC ? &ms->source : &ms->destination, ri->host,
				  sizeof(ri->host));
			break;
		}
	}
}

/* The source node's own count (its capture's tracer ran): exact, and it
 * sees what the NIC view cannot tell from reordering. A flow it did not
 * name had no retransmits; but when it named none of the migration's flows
 * while the source NIC saw data sent twice, the sending socket was not in
 * the agent's view (another network namespace): the NIC view stays. */
static void use_stack_retx(struct build_ctx *c, const struct mig_stream *ms,
			   struct report_migration *rm)
{
	const struct stream_view *nic = &ms->view[rm->src_input];

	if (!ms->stack_retx_flows && nic->retx_segments) {
		report_warn(c->r, "%s: the retransmit tracer saw none of the migration's flows, "
			    "yet the NIC saw %llu segments sent again: the sender is outside the "
			    "agent's network namespace; the NIC's count is reported",
			    c->in[rm->src_input].path, (unsigned long long)nic->retx_segments);
		return;
	}
	rm->stream.retx_segments = opt_some((int64_t)ms->stack_retx_segments);
	rm->stream.retx_bytes = opt_some((int64_t)ms->stack_retx_bytes);
	rm->stream.retx_vantage = "tracer";
}

/* A throughput that does not fit in bit/s: none is given, and why. */
static void no_rate(struct build_ctx *c, const struct report_migration *rm, uint64_t bytes,
		    int64_t ns)
{
	report_warn(c->r, "migration %d: %llu bytes in %lld ns is faster than any link (the "
		    "capture's stamps or counters are wrong); throughput not given",
		    (int)(rm - c->r->migrations) + 1, (unsigned long long)bytes, (long long)ns);
}

/* "counters" when every captured view has exact in-kernel counters */
static const char *bytes_source(const struct report_stream *s)
{
	int views = s->at_src.present + s->at_dst.present;
	int exact = (s->at_src.present && s->at_src.exact) + (s->at_dst.present && s->at_dst.exact);

	if (!views)
		return NULL;
	return exact == views ? "counters" : exact ? "mixed" : "packets";
}

static struct report_stream_view report_view(const struct stream_view *v, bool exact)
{
	return (struct report_stream_view){
		.present = v->seen, .exact = exact, .packets = v->packets,
		.payload_bytes = v->payload_bytes, .wire_bytes = v->wire_bytes,
		.retx_segments = v->retx_segments, .retx_bytes = v->retx_bytes,
		.rev_packets = v->rev_packets, .rev_payload_bytes = v->rev_payload_bytes,
		.rev_wire_bytes = v->rev_wire_bytes,
	};
}

/* The stream's figures, from the source NIC's capture when there is one,
 * else the destination NIC's. */
static void fill_stream(struct build_ctx *c, const struct mig_work *w, struct report_migration *rm)
{
	const struct mig_stream *ms = w->ms;
	const struct stream_view *v;
	int ref;
	uint64_t bin_bytes, bits;
	int64_t peak;

	ip_format(&ms->source, rm->source, sizeof(rm->source));
	ip_format(&ms->destination, rm->destination, sizeof(rm->destination));
	rm->src_input = find_role(w, c->cfg->ninputs, ROLE_SRC);
	rm->dst_input = find_role(w, c->cfg->ninputs, ROLE_DST);
	rm->stream.nflows = ms->nflows;
	flow_detect_names(ms->detect, rm->stream.detected_by, sizeof(rm->stream.detected_by));
	if (rm->src_input >= 0)
		rm->stream.at_src = report_view(&ms->view[rm->src_input], c->in[rm->src_input].exact);
	if (rm->dst_input >= 0)
		rm->stream.at_dst = report_view(&ms->view[rm->dst_input], c->in[rm->dst_input].exact);
	rm->stream.bytes_source = bytes_source(&rm->stream);
	ref = rm->src_input >= 0 ? rm->src_input : rm->dst_input;
	if (ref < 0)
		return;
	v = &ms->view[ref];
	rm->stream.start_ns = opt_some(v->first_ns);
	if (v->last_data_ns) {
		rm->stream.end_ns = opt_some(v->last_data_ns);
		rm->stream.migration_time_ns = opt_some(v->last_data_ns - v->first_ns);
	}
	rm->stream.retx_segments = opt_some((int64_t)v->retx_segments);
	rm->stream.retx_bytes = opt_some((int64_t)v->retx_bytes);
	rm->stream.retx_vantage = rm->src_input >= 0 ? "src" : "dst";
	if (rm->src_input >= 0 && c->in[rm->src_input].retrans_tracer)
		use_stack_retx(c, ms, rm);
	/* Stamps and counts are in their domain (analysis/domain.h); a rate, their
	 * quotient, need not be: many bytes in a nanosecond, which no link carries. */
	if (rm->stream.migration_time_ns.set && rm->stream.migration_time_ns.v > 0) {
		if (!rate_bps(v->payload_bytes, rm->stream.migration_time_ns.v, &peak)) {
			/* the peak would rest on the same bytes and times */
			no_rate(c, rm, v->payload_bytes, rm->stream.migration_time_ns.v);
			return;
		}
		rm->stream.avg_bps = opt_some(peak);
	}
	bin_bytes = ms->peak_bin_bytes[ref];
	if (__builtin_mul_overflow(bin_bytes, (uint64_t)(8 * (1000000000LL / RATE_BIN_NS)), &bits) ||
	    bits > INT64_MAX) {
		no_rate(c, rm, bin_bytes, RATE_BIN_NS);
		return;
	}
	/* A stream shorter than one full bin has no better peak than its average. */
	peak = (int64_t)bits;
	if (rm->stream.avg_bps.set && rm->stream.avg_bps.v > peak)
		peak = rm->stream.avg_bps.v;
	rm->stream.peak_bps = opt_some(peak);
}

/* The stream's throughput over time, where the peak figure was counted. */
static int plot_rate(const struct mig_work *w, struct report_migration *rm)
{
	int ref = rm->src_input >= 0 ? rm->src_input : rm->dst_input;

	rm->plot.rate_bin_ns = RATE_BIN_NS; /* the peak's bins, also with no series to plot */
	if (ref < 0)
		return 0;
	return report_plot_rate(rm, w->ms->rate[ref], rm->src_input >= 0 ? "src" : "dst");
}

static struct probe_scope probe_scope(const struct build_ctx *c, const struct mig_work *w)
{
	struct probe_scope ps = {
		.target = w->guest.target, .ninputs = c->cfg->ninputs, .is_ctl = c->is_ctl,
		.window_lo = w->window_lo, .window_hi = w->window_hi, .name = "icmp",
	};

	if (w->guest.target >= 0 &&
	    guest_set__target(c->gs, w->guest.target)->proto == PROBE_PROTO_ARP)
		ps.name = "arp";

	ps.probes = w->probes;
	ps.nprobes = w->nprobes;
	return ps;
}

/* The probes of the migration's guest, copied out of all the prober's. */
static int own_probes(const struct build_ctx *c, struct mig_work *w)
{
	uint32_t n, mine;
	const struct probe *p = guest_set__probes(c->gs, &n);
	const uint32_t *idx = target_probes(c, w->guest.target, &mine);

	w->nprobes = 0;
	w->probes = malloc((mine ? mine : 1) * sizeof(*w->probes));
	if (!w->probes)
		return -ENOMEM;
	for (uint32_t k = 0; k < mine; k++)
		w->probes[w->nprobes++] = p[idx[k]];
	return 0;
}

/* ARP probes measured a guest that may ignore ping: the echo requests to
 * it in the migration's window when none was answered, else null. */
static struct opt_i64 echo_unanswered(const struct build_ctx *c, const struct mig_work *w)
{
	int echo = guest_set__target_of(c->gs, &w->guest.ip4, PROBE_PROTO_ECHO);
	uint32_t n, mine;
	const struct probe *all = guest_set__probes(c->gs, &n);
	const uint32_t *idx = target_probes(c, echo, &mine);
	int64_t asked = 0;

	for (uint32_t k = 0; k < mine; k++) {
		const struct probe *p = &all[idx[k]];
		int64_t q = first_stamp_in(p->req_ns, ~0u);

		if (q < w->window_lo || q >= w->window_hi)
			continue;
		if (first_stamp_in(p->rep_ns, ~0u))
			return (struct opt_i64){ 0 };
		asked++;
	}
	return asked ? opt_some(asked) : (struct opt_i64){ 0 };
}

/* The probes, around the resume and where the postcopy phase ended (the
 * pause's start: phases.h). */
static int fill_probes(const struct build_ctx *c, const struct mig_work *w,
		       const struct switchover *sw, struct report_migration *rm)
{
	struct probe_scope ps = probe_scope(c, w);

	ps.resume_ns = sw->resume_ns;
	if (rm->stream.postcopy_set)
		ps.postcopy_end_ns = sw->end_ns;
	if (!strcmp(ps.name, "arp"))
		rm->downtime.icmp_unanswered = echo_unanswered(c, w);
	return probes_fill(&ps, rm);
}

/* The guest's own flows and requests, in the phases the probes are filed
 * in. */
static struct traffic_scope traffic_scope(const struct build_ctx *c, const struct mig_work *w,
					  const struct switchover *sw,
					  const struct report_migration *rm)
{
	int64_t pause = phase_pause_ns(&rm->downtime, sw->resume_ns);
	struct traffic_scope ts = {
		.conns = c->gc, .ip4 = w->guest.ip4, .ip6 = w->guest.ip6,
		.window_lo = w->window_lo, .window_hi = w->window_hi,
		.phases = phase_bounds_make(rm->stream.start_ns.v, pause, sw->resume_ns,
					    rm->stream.postcopy_set ? sw->end_ns : 0),
		.sla_ns = c->cfg->sla_ns, .probe_port = c->cfg->probe_port,
	};

	return ts;
}

/* The guest's requests stand in for echo probes (--probe tcp; auto: when no
 * echo to the guest was answered, a guest that ignores ping, and its
 * requests were): the gap from the last answer at or before the resume to
 * the first after it, the loss from the failed ones, by phase. */
static int requests_as_probes(const struct build_ctx *c, const struct traffic_scope *ts,
			      struct report_migration *rm)
{
	const struct report_guest_traffic *t = &rm->traffic;
	struct report_downtime *d = &rm->downtime;
	struct report_loss *l = &rm->loss;
	int64_t sent = 0, failed = 0;

	if (c->cfg->probe == PROBE_ICMP || c->cfg->probe == PROBE_ARP ||
	    (c->cfg->probe == PROBE_AUTO && l->probes_answered.set && l->probes_answered.v) ||
	    (!t->last_answer_before_ns.set && !t->first_answer_after_ns.set))
		return 0;
	d->icmp_unanswered = l->probes_sent.set && !l->probes_answered.v ? l->probes_sent
									: (struct opt_i64){ 0 };
	d->probe = "tcp";
	d->probe_port = t->answer_port;
	d->probe_vantage = analyze_prober_inputs(c->cfg) ? "ctl" : "nic";
	d->gap_start_ns = t->last_answer_before_ns;
	d->gap_end_ns = t->first_answer_after_ns;
	d->probe_gap_ns = d->gap_start_ns.set && d->gap_end_ns.set
			? opt_some(d->gap_end_ns.v - d->gap_start_ns.v) : (struct opt_i64){ 0 };
	rm->reachable_after = t->first_answer_after_ns.set ? opt_some(1)
			    : t->requests_after ? opt_some(0) : (struct opt_i64){ 0 };
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		const struct report_responses *r = &t->responses[ph];

		l->phase[ph] = (struct report_phase_loss){ 0 };
		if (!r->set)
			continue;
		l->phase[ph].sent = opt_some(r->requests);
		l->phase[ph].lost = opt_some(r->failed);
		l->phase[ph].rtt_p50_ns = r->p50_ns;
		l->phase[ph].rtt_p99_ns = r->p99_ns;
		sent += r->requests;
		failed += r->failed;
	}
	l->probes_sent = opt_some(sent);
	l->probes_answered = opt_some(sent - failed);
	l->lost_probes = opt_some(failed);
	return guest_traffic_plot(ts, rm);
}

/* The guest's silence: its last frame leaving the source NIC to its first
 * leaving the destination NIC. With QEMU's RARP at the destination NIC, that
 * RARP (the resume) and the source NIC's last guest frame before it: after
 * the resume the guest's frames also reach the source NIC, flooded back from
 * the destination. Else around the stream's last data; without those
 * captures, the latest "before" and earliest "after" any capture saw. */
static void fill_silence(const struct build_ctx *c, const struct mig_work *w,
			 const struct guest_mac *g, const struct switchover *sw,
			 const struct announce *rarp, struct report_migration *rm)
{
	int64_t before = 0, after = 0;

	if (rarp && strstr(sw->resume_basis, "_at_dst") && rm->src_input >= 0) {
		before = rarp->prev_frame_ns[rm->src_input];
		after = rarp->ts_ns;
	} else {
		for (int i = 0; i < c->cfg->ninputs; i++) {
			struct silence s = guest_silence_at(g, i, w->ms->group, w->ms->last_data_ns);

			if (s.before_ns &&
			    (i == rm->src_input || (rm->src_input < 0 && s.before_ns > before)))
				before = s.before_ns;
			if (s.after_ns && (i == rm->dst_input ||
					   (rm->dst_input < 0 && (!after || s.after_ns < after))))
				after = s.after_ns;
		}
	}
	if (!before || !after || after < before)
		return;
	rm->downtime.silence_start_ns = opt_some(before);
	rm->downtime.silence_end_ns = opt_some(after);
	rm->downtime.guest_silence_ns = opt_some(after - before);
}

static uint8_t report_kind(uint8_t kind)
{
	return kind == ANNOUNCE_RARP ? REPORT_RARP : kind == ANNOUNCE_GARP ? REPORT_GARP : REPORT_NA;
}

/* The guest's silence and every sighting of its announcements in this
 * migration's window; how many of each kind were sent is the count at the
 * capture that saw the most (each is seen once per capture on its way). The
 * first after the stream's end only where the resume followed it: in
 * postcopy the stream ends long after. */
static int fill_guest_side(struct build_ctx *c, const struct mig_work *w,
			   const struct switchover *sw, const struct announce *rarp,
			   struct report_migration *rm)
{
	const struct guest_mac *g;
	int64_t end = rm->stream.end_ns.set && rm->stream.end_ns.v <= sw->resume_ns
			      ? rm->stream.end_ns.v : 0;
	int sent[REPORT_ANNOUNCE_KINDS][MAX_INPUTS] = { { 0 } };

	if (w->guest.mac < 0)
		return 0;
	g = guest_set__mac(c->gs, w->guest.mac);
	fill_silence(c, w, g, sw, rarp, rm);
	if (!g->nannounces)
		return 0;
	rm->announce.seen = calloc(g->nannounces, sizeof(*rm->announce.seen));
	if (!rm->announce.seen)
		return -ENOMEM;
	for (uint32_t k = 0; k < g->nannounces; k++) {
		const struct announce *a = &g->announces[k];
		struct report_announce *ra;

		if (!rm->stream.start_ns.set || a->ts_ns < rm->stream.start_ns.v ||
		    a->ts_ns >= w->window_hi)
			continue;
		ra = &rm->announce.seen[rm->announce.nseen++];
		ra->ts_ns = a->ts_ns;
		ra->kind = report_kind(a->kind);
		ra->vantage = role_name(w->role[a->input]);
		ra->input = c->in[a->input].path;
		if (end && a->ts_ns >= end &&
		    (!rm->announce.first_after_end_ns.set ||
		     a->ts_ns - end < rm->announce.first_after_end_ns.v))
			rm->announce.first_after_end_ns = opt_some(a->ts_ns - end);
		if (++sent[ra->kind][a->input] > rm->announce.count[ra->kind])
			rm->announce.count[ra->kind] = sent[ra->kind][a->input];
	}
	return 0;
}

/* The switchover's evidence (switchover.h), the resume first: every figure
 * of the switchover is measured from it. */
static void switchover_evidence(const struct build_ctx *c, const struct mig_work *w,
				struct report_migration *rm, struct switchover *sw,
				const struct announce **rarp)
{
	const struct guest_mac *g = w->guest.mac >= 0 ? guest_set__mac(c->gs, w->guest.mac) : NULL;
	struct probe_scope ps = probe_scope(c, w);

	*sw = (struct switchover){
		.ninputs = c->cfg->ninputs, .src = rm->src_input, .dst = rm->dst_input,
		.prober = probes_prober_mask(&ps), .window_lo = w->window_lo,
		.window_hi = w->window_hi, .target = w->guest.target,
		.probes = ps.probes, .nprobes = ps.nprobes,
	};
	for (int i = 0; i < sw->ninputs; i++)
		sw->vantage[i] = rm->sw.vantage[i] = c->is_ctl[i] ? "ctl" : role_name(w->role[i]);
	if (rm->stream.start_ns.set)
		sw->start_ns = rm->stream.start_ns.v;
	if (rm->stream.end_ns.set)
		sw->end_ns = rm->stream.end_ns.v;
	if (g) {
		sw->announces = g->announces;
		sw->nannounces = g->nannounces;
	}
	sw->resume_ns = switchover_resume(sw, rarp, &sw->resume_basis);
	if (sw->end_ns) {
		rm->verdict.resume_ns = opt_some(sw->resume_ns);
		rm->verdict.resume_basis = sw->resume_basis;
	}
}

/* A field the migration's record lacks, from another file's. */
static void hv_fill(struct opt_i64 *into, struct opt_i64 from)
{
	if (!into->set)
		*into = from;
}

static void hv_merge(struct report_hypervisor *h, const struct report_hypervisor *f)
{
	size_t n = strlen(h->sources);

	if (!strstr(h->sources, f->sources))
		snprintf(h->sources + n, sizeof(h->sources) - n, "%s%s", n ? "," : "", f->sources);
	if (!h->status[0])
		snprintf(h->status, sizeof(h->status), "%s", f->status);
	hv_fill(&h->total_time_ns, f->total_time_ns);
	hv_fill(&h->downtime_ns, f->downtime_ns);
	hv_fill(&h->setup_time_ns, f->setup_time_ns);
	hv_fill(&h->postcopy_requests, f->postcopy_requests);
	hv_fill(&h->postcopy_blocktime_ns, f->postcopy_blocktime_ns);
	hv_fill(&h->stop_ns, f->stop_ns);
	hv_fill(&h->resume_ns, f->resume_ns);
	hv_fill(&h->postcopy_start_ns, f->postcopy_start_ns);
	hv_fill(&h->completed_ns, f->completed_ns);
}

/* The hypervisor's records of migration m: those whose QEMU events fall in
 * its window, and of the others (no stamps: query-migrate, virsh) the m-th. */
/* The migration (in order) a file without event stamps describes, -1 for
 * one with stamps. A file of the destination's side alone (QEMU's incoming
 * query-migrate: no total-time, no downtime; postcopy's blocktime lives only
 * there) describes the same migration as the stampless file before it, so
 * each migration's source and destination files can be given in pairs. */
static int hv_slot(const struct report_hypervisor *hv, int i)
{
	int slot = -1;

	for (int k = 0; k <= i; k++) {
		const struct report_hypervisor *f = &hv[k];
		bool dst_only = !f->total_time_ns.set && !f->downtime_ns.set && !f->setup_time_ns.set;

		if (f->stop_ns.set || f->resume_ns.set) {
			if (k == i)
				return -1;
			continue;
		}
		if (!dst_only || slot < 0)
			slot++;
	}
	return slot;
}

static void fill_hypervisor(const struct build_ctx *c, int m, struct report_migration *rm)
{
	const struct mig_work *w = &c->work[m];

	for (int i = 0; i < c->nhv; i++) {
		const struct report_hypervisor *f = &c->hv[i];
		struct opt_i64 t = f->stop_ns.set ? f->stop_ns : f->resume_ns;

		if (t.set ? t.v < w->window_lo || t.v >= w->window_hi : hv_slot(c->hv, i) != m)
			continue;
		hv_merge(&rm->hypervisor, f);
		rm->hypervisor_set = true;
	}
}

/* The outage in its parts (report_outage): the hypervisor's pause beside the
 * network's, then from the resume each step the captures show. */
static void fill_outage(struct report_migration *rm)
{
	const struct report_hypervisor *h = &rm->hypervisor;
	struct report_outage *o = &rm->outage;
	int64_t req = timeline_time(&rm->sw, TL_FIRST_REQUEST_DST);
	int64_t rep = timeline_time(&rm->sw, TL_FIRST_REPLY_DST);
	int64_t back = timeline_time(&rm->sw, TL_FIRST_REPLY_PROBER);
	int64_t resume = timeline_time(&rm->sw, TL_RESUME);

	if (rm->downtime.silence_start_ns.set && resume)
		o->pause_ns = opt_some(resume - rm->downtime.silence_start_ns.v);
	if (h->stop_ns.set && h->resume_ns.set)
		o->pause_hypervisor_ns = opt_some(h->resume_ns.v - h->stop_ns.v);
	else
		o->pause_hypervisor_ns = h->downtime_ns;
	if (h->resume_ns.set && resume)
		o->announce_delay_ns = opt_some(resume - h->resume_ns.v);
	if (resume && req)
		o->reconvergence_ns = opt_some(req - resume);
	/* the guest's answer to what reached it after the resume: a reply to a
	 * request queued across the switchover may leave first (postcopy: a
	 * guest answers that one, then stalls seconds faulting its pages in) */
	if (req && rm->sw.first_answer_dst_ns.set && rm->sw.first_answer_dst_ns.v >= req)
		o->guest_answer_ns = opt_some(rm->sw.first_answer_dst_ns.v - req);
	if (rep && back && back >= rep)
		o->return_ns = opt_some(back - rep);
	o->total_ns = rm->downtime.probe_gap_ns;
}

/* The guest's answers at its NIC before the stream (the guest's own pace)
 * and from the resume, judged against that pace. */
static int fill_turnaround(const struct switchover *sw, struct report_outage *o)
{
	int rc;

	rc = switchover_turnaround(sw, sw->src, INT64_MIN, sw->start_ns, 0, &o->turnaround_before);
	if (rc)
		return rc;
	o->turnaround_before.vantage = "src";
	rc = switchover_turnaround(sw, sw->dst, sw->resume_ns, INT64_MAX,
				   diagnose_slow_above(&o->turnaround_before), &o->turnaround_after);
	o->turnaround_after.vantage = "dst";
	return rc;
}

/* The timeline, the announce check and the diagnosis, on the evidence
 * gathered since the resume was found. 0, or -ENOMEM. */
static int judge_switchover(const struct build_ctx *c, const struct mig_work *w,
			    struct report_migration *rm, struct switchover *sw)
{
	const struct guest_mac *g = w->guest.mac >= 0 ? guest_set__mac(c->gs, w->guest.mac) : NULL;
	struct announce_params params;
	int rc;

	if (rm->downtime.probe_interval_ns.set)
		sw->probe_interval_ns = rm->downtime.probe_interval_ns.v;
	if (rm->downtime.silence_start_ns.set)
		sw->guest_last_src_ns = rm->downtime.silence_start_ns.v;
	else if (g && sw->src >= 0)
		sw->guest_last_src_ns =
			guest_silence_at(g, sw->src, w->ms->group, w->ms->last_data_ns).before_ns;
	if (rm->stream.postcopy_set) {
		sw->postcopy_end_ns = sw->end_ns;
		sw->page_requests = rm->stream.postcopy.page_requests.v;
	}
	if (rm->hypervisor.postcopy_blocktime_ns.set)
		sw->blocktime_ns = rm->hypervisor.postcopy_blocktime_ns.v;
	if (c->cfg->announce_set)
		params = c->cfg->announce;
	else
		announce_params_default(&params);
	timeline_build(sw, &rm->sw);
	announce_sched_check(sw, &params, timeline_time(&rm->sw, TL_RESUME), &rm->sw);
	rc = sw->end_ns ? fill_turnaround(sw, &rm->outage) : 0;
	if (!rc)
		diagnose(sw, rm);
	return rc;
}

/* A migration owns the captures' time up to midway between its stream's end
 * and the start of the next migration of the same guest: another guest's,
 * concurrent or not, has its own probes and announcements. */
static void set_windows(struct build_ctx *c)
{
	for (int m = 0; m < c->nwork; m++) {
		struct mig_work *w = &c->work[m];

		w->window_lo = INT64_MIN;
		w->window_hi = INT64_MAX;
		for (int p = m - 1; p >= 0; p--)
			if (c->work[p].guest.mac == w->guest.mac) {
				w->window_lo = c->work[p].window_hi;
				break;
			}
		for (int n = m + 1; n < c->nwork; n++)
			if (c->work[n].guest.mac == w->guest.mac) {
				w->window_hi = w->ms->last_ns +
					       (c->work[n].ms->first_ns - w->ms->last_ns) / 2;
				break;
			}
	}
}

static void format_guest(const struct guest_set *gs, const struct guest_choice *g,
			 struct report_guest *out)
{
	if (g->mac >= 0) {
		mac_format(guest_set__mac(gs, g->mac)->mac, out->mac, sizeof(out->mac));
		out->known = true;
	}
	if (g->ip4.family)
		ip_format(&g->ip4, out->ipv4, sizeof(out->ipv4));
	if (g->ip6.family)
		ip_format(&g->ip6, out->ipv6, sizeof(out->ipv6));
}

static void fill_guest(struct build_ctx *c)
{
	guest_set__choose(c->gs, c->cfg->guest_ip.family ? &c->cfg->guest_ip : NULL, &c->guest);
	format_guest(c->gs, &c->guest, &c->r->guest);
}

/* --probe arp, or auto when the guest answered no echo and did answer ARP
 * probes (a guest that ignores ping, probed by arping): its ARP target
 * measures the downtime instead. Auto wants a prober's many: a host's own
 * neighbour refreshes (a unicast request every half minute or so, while
 * it talks to the guest) are not one. */
#define ARP_AUTO_MIN_ANSWERED 10

static void choose_arp(const struct build_ctx *c, struct guest_choice *g)
{
	const struct echo_target *echo = g->target >= 0 ? guest_set__target(c->gs, g->target) : NULL;
	int arp;

	if ((c->cfg->probe != PROBE_ARP && c->cfg->probe != PROBE_AUTO) || !g->ip4.family)
		return;
	arp = guest_set__target_of(c->gs, &g->ip4, PROBE_PROTO_ARP);
	if (arp < 0) {
		if (c->cfg->probe == PROBE_ARP) {
			char ip[REPORT_ADDR_LEN];

			ip_format(&g->ip4, ip, sizeof(ip));
			report_warn(c->r, "--probe arp: no ARP request for %s in these captures, its "
				    "echo probes measured it", ip);
		}
		return;
	}
	if (c->cfg->probe == PROBE_ARP ||
	    ((!echo || !echo->answered) &&
	     guest_set__target(c->gs, arp)->answered >= ARP_AUTO_MIN_ANSWERED))
		g->target = arp;
}

/* Each migration's guest (guest_match.h); one no announcement names has
 * the report's. With --guest, the migrations of other guests are left out.
 * Compacts c->work; returns 0 or -ENOMEM. */
static int match_guests(struct build_ctx *c)
{
	int *mac = calloc((size_t)(c->nwork ? c->nwork : 1), sizeof(*mac));
	/* the array flow_table__migrations made, in order */
	const struct mig_stream *ms = c->nwork ? c->work[0].ms : NULL;
	int kept = 0, rc;

	if (!mac)
		return -ENOMEM;
	/* One migration is the report's guest's, as chosen from the whole
	 * captures: its most announced MAC. A nearest RARP could be another
	 * guest's, broadcast from elsewhere in the L2 domain during a postcopy
	 * stream, whose own resume lies seconds before its end. */
	rc = c->nwork > 1 ? guest_match(c->gs, ms, c->nwork, mac) : 0;
	if (c->nwork == 1)
		mac[0] = -1;
	for (int m = 0; !rc && m < c->nwork; m++) {
		struct mig_work *w = &c->work[m];

		if (mac[m] < 0 || mac[m] == c->guest.mac)
			w->guest = c->guest;
		else
			guest_set__choose_mac(c->gs, mac[m], NULL, &w->guest);
		choose_arp(c, &w->guest);
		/* --guest's MAC is the guest set's first (an IP comes only with it) */
		if (c->cfg->guest_mac_set && mac[m] > 0)
			continue;
		c->work[kept++] = *w;
	}
	if (!rc && kept < c->nwork)
		report_warn(c->r, "%d migration%s of other guests left out (--guest)",
			    c->nwork - kept, c->nwork - kept == 1 ? "" : "s");
	c->nwork = kept;
	free(mac);
	return rc;
}

/* The guest's echo replies each capture saw in each migration's window
 * before its stream: where the guest ran (roles.h). */
static void replies_before(const struct build_ctx *c, uint32_t (*out)[MAX_INPUTS])
{
	uint32_t n, mine;
	const struct probe *all = guest_set__probes(c->gs, &n);

	for (int m = 0; m < c->nwork; m++) {
		const struct mig_work *w = &c->work[m];
		const uint32_t *idx = target_probes(c, w->guest.target, &mine);

		for (uint32_t k = 0; k < mine; k++)
			for (int i = 0; i < c->cfg->ninputs; i++) {
				int64_t rep = all[idx[k]].rep_ns[i];

				out[m][i] += rep && rep >= w->window_lo && rep < w->ms->first_ns;
			}
	}
}

static int assign_roles(struct build_ctx *c, enum role (*role)[MAX_INPUTS])
{
	uint32_t (*before)[MAX_INPUTS] = calloc((size_t)(c->nwork ? c->nwork : 1), sizeof(*before));
	struct role_capture cap[MAX_INPUTS];

	if (!before)
		return -ENOMEM;
	replies_before(c, before);
	for (int i = 0; i < c->cfg->ninputs; i++)
		cap[i] = (struct role_capture){ .path = c->in[i].path, .label = c->in[i].label,
						.tick_ns = c->in[i].tick_ns };
	roles_assign(c->nwork ? c->work[0].ms : NULL, c->nwork, cap, c->cfg->ninputs,
		     (const uint32_t(*)[MAX_INPUTS])before, role, c->is_ctl, c->r);
	for (int m = 0; m < c->nwork; m++)
		c->work[m].role = role[m];
	free(before);
	return 0;
}

int report_build(const struct flow_table *ft, const struct guest_set *gs,
		 const struct guest_conns *gc, const struct build_input *in,
		 const struct analyze_config *cfg, const struct report_hypervisor *hv, int nhv,
		 struct report *r)
{
	struct build_ctx c = { .gs = gs, .gc = gc, .hv = hv, .nhv = nhv, .in = in, .cfg = cfg, .r = r };
	enum role (*role)[MAX_INPUTS] = NULL;
	struct mig_stream *ms = NULL;
	int n = flow_table__migrations(ft, cfg->ninputs, &ms), rc = 0;

	if (n < 0)
		return n;
	c.nwork = n;
	c.work = calloc(n ? (size_t)n : 1, sizeof(*c.work));
	role = calloc(n ? (size_t)n : 1, sizeof(*role));
	r->migrations = calloc(n ? (size_t)n : 1, sizeof(*r->migrations));
	if (!c.work || !role || !r->migrations) {
		rc = -ENOMEM;
		goto cleanup;
	}
	for (int m = 0; m < c.nwork; m++)
		c.work[m].ms = &ms[m];
	fill_guest(&c);
	rc = match_guests(&c);
	if (rc)
		goto cleanup;
	set_windows(&c);
	rc = index_probes(&c);
	if (!rc)
		rc = assign_roles(&c, role);
	if (rc)
		goto cleanup;
	fill_inputs(&c);
	for (int m = 0; m < c.nwork; m++) {
		struct report_migration *rm = &r->migrations[m];
		struct mig_work *w = &c.work[m];
		const struct announce *rarp = NULL;
		struct switchover sw;

		r->nmigrations++; /* from here on report_free() releases it */
		format_guest(gs, &w->guest, &rm->guest);
		rc = own_probes(&c, w);
		if (rc)
			goto cleanup;
		fill_stream(&c, w, rm);
		rc = plot_rate(w, rm);
		if (rc)
			goto cleanup;
		switchover_evidence(&c, w, rm, &sw, &rarp);
		rc = modes_fill(&(struct mode_scope){ .ms = w->ms, .src = rm->src_input,
						      .dst = rm->dst_input,
						      .resume_ns = sw.resume_ns,
						      .resume_basis = sw.resume_basis }, rm);
		if (!rc)
			rc = fill_guest_side(&c, w, &sw, rarp, rm);
		if (!rc)
			rc = fill_probes(&c, w, &sw, rm);
		if (!rc && sw.resume_ns) {
			struct traffic_scope ts = traffic_scope(&c, w, &sw, rm);

			rc = guest_traffic_fill(&ts, rm);
			if (!rc)
				rc = requests_as_probes(&c, &ts, rm);
		}
		if (rc)
			goto cleanup;
		fill_hypervisor(&c, m, rm);
		rc = judge_switchover(&c, w, rm, &sw);
		if (rc)
			goto cleanup;
		fill_outage(rm);
		free(w->probes);
		w->probes = NULL;
	}
	rc = evacuation_fill(r);
	if (rc)
		goto cleanup;
	for (int i = 0; i < nhv; i++)
		if (hv_slot(hv, i) >= c.nwork)
			report_warn(r, "%s: no migration left to describe (files without QEMU's event "
				    "stamps go to the migrations in order, a destination's beside the "
				    "source's before it)", cfg->hypervisor_paths[i]);
cleanup:
	for (int m = 0; c.work && m < c.nwork; m++)
		free(c.work[m].probes);
	free(c.by_target);
	free(c.work);
	free(role);
	flow_table__migrations_free(ms, n > 0 ? n : 0);
	return rc;
}
