#include "analysis/report_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/announce_sched.h"
#include "analysis/diagnose.h"
#include "analysis/domain.h"
#include "analysis/linklayer.h"
#include "analysis/report_plot.h"
#include "analysis/stats.h"
#include "analysis/switchover.h"
#include "analysis/timeline.h"

/* A port-matched flow group smaller than this is a libvirt RPC or a guest
 * flow on an ephemeral port, not a migration: the smallest VM sends more. */
#define MIN_PORT_ONLY_BYTES (64 * 1024)

enum role { ROLE_NONE, ROLE_SRC, ROLE_DST, ROLE_CTL };

static const char *role_name(enum role r)
{
	static const char *const names[] = { "other", "src", "dst", "ctl" };

	return names[r];
}

/* Per migration, what each capture saw of it, before it becomes report text. */
struct mig_work {
	int group;
	int64_t first_ns; /* the group's first packet: migrations are reported in time order */
	int src_host;
	struct report_stream_view view[MAX_INPUTS]; /* source -> destination */
	int64_t start_ns[MAX_INPUTS], end_ns[MAX_INPUTS];
	int64_t ack_delay_ns[MAX_INPUTS];
	enum role handshake_role[MAX_INPUTS];
	enum role role[MAX_INPUTS];
	int64_t window_lo, window_hi;
};

struct build_ctx {
	const struct flow_table *ft;
	const struct guest_set *gs;
	const struct build_input *in;
	const struct analyze_config *cfg;
	struct report *r;
	struct mig_work *work;
	int nwork;
	struct guest_choice guest;
	bool is_ctl[MAX_INPUTS];
};

static void summarize_views(const struct flow_table *ft, struct mig_work *w, int ninputs)
{
	const struct mig_group *g = flow_table__group(ft, w->group);

	w->src_host = mig_group_source_host(g);
	for (int f = 0; f < flow_table__nflows(ft); f++) {
		const struct mig_flow *fl = flow_table__flow(ft, f);
		int src_ep = fl->ep_host[0] == w->src_host ? 0 : 1;

		if (fl->group != w->group)
			continue;
		for (int i = 0; i < ninputs; i++) {
			const struct flow_view *v = &fl->view[i];
			const struct dir_stats *d = &v->dir[src_ep];
			struct report_stream_view *rv = &w->view[i];
			int64_t first = 0, delay = v->min_ack_delay_ns[src_ep];

			if (!v->seen)
				continue;
			rv->present = true;
			rv->packets += d->packets;
			rv->payload_bytes += d->payload_bytes;
			rv->wire_bytes += d->wire_bytes;
			rv->retx_segments += d->retx_segments;
			rv->retx_bytes += d->retx_bytes;
			rv->rev_packets += v->dir[!src_ep].packets;
			rv->rev_payload_bytes += v->dir[!src_ep].payload_bytes;
			rv->rev_wire_bytes += v->dir[!src_ep].wire_bytes;
			for (int e = 0; e < 2; e++)
				if (v->dir[e].packets && (!first || v->dir[e].first_ns < first))
					first = v->dir[e].first_ns;
			if (first && (!w->start_ns[i] || first < w->start_ns[i]))
				w->start_ns[i] = first;
			if (d->last_data_ns > w->end_ns[i])
				w->end_ns[i] = d->last_data_ns;
			if (delay && (!w->ack_delay_ns[i] || delay < w->ack_delay_ns[i]))
				w->ack_delay_ns[i] = delay;
			/* the server answers a SYN at once but waits a round trip
			 * for the final ACK; the client sees the reverse */
			if (v->syn_ns && v->synack_ns && v->hs_ack_ns && fl->client >= 0)
				w->handshake_role[i] =
					(v->synack_ns - v->syn_ns) < (v->hs_ack_ns - v->synack_ns)
						? (fl->ep_host[fl->client] == w->src_host ? ROLE_DST : ROLE_SRC)
						: (fl->ep_host[fl->client] == w->src_host ? ROLE_SRC : ROLE_DST);
		}
	}
}

static bool group_is_migration(const struct mig_group *g)
{
	int src = mig_group_source_host(g);

	if (g->detect & (DETECT_QEVM | DETECT_MULTIFD | DETECT_NBD))
		return true;
	return g->payload_seen[src] >= MIN_PORT_ONLY_BYTES;
}

static const struct ip_addr *host_ip(const struct build_ctx *c, const struct mig_work *w,
				     enum role role)
{
	const struct mig_group *g = flow_table__group(c->ft, w->group);

	return &g->host[role == ROLE_SRC ? w->src_host : !w->src_host];
}

/*
 * Source and destination by timing. A capture's delay is the shortest from
 * stream data to the ACK covering it, both stamps on that capture's clock (the
 * clock offset between captures cancels). At the receiver's NIC it is the
 * receiver's turnaround; at the sender's the same plus the round trip between
 * the two NICs. Their difference is that round trip, which only counts
 * beyond the noise:
 *  - each delay is two stamps truncated to the capture's resolution, so the
 *    difference is off by less than the two resolutions (1 us each in a
 *    microsecond pcap, 1 ns in nanosecond pcap or migscope's pcapng);
 *  - plus a floor, ROLE_TIMING_FLOOR_NS, under every round trip a real path
 *    adds. Measured on the lab (tcpdump, nanosecond stamps): between the two
 *    compute NICs 6.8-29.0 us over the 14 migrations of fixtures/lab (6.8
 *    back-and-forth and 7.0 dirty the smallest, none smaller in any quarter
 *    of a stream); along one path in a live run, the two ends of one veth
 *    3.4-6.6 us and two ports of the switch's bridge 2.9 us apart. 2 us stays
 *    under the smallest real step, so a real round trip decides; what it
 *    guards against is captures with none between them (one capture given
 *    twice: 0; two on one host or on mirrored ports), whose order is chance.
 */
#define ROLE_TIMING_FLOOR_NS 2000

static int64_t role_timing_noise_ns(const struct build_input *a, const struct build_input *b)
{
	return a->tick_ns + b->tick_ns + ROLE_TIMING_FLOOR_NS;
}

/* The captures with the shortest and the longest delay (distinct ones, when
 * at least two have a delay), and how many have one. */
static int delay_extremes(const struct mig_work *w, int n, int *imin, int *imax)
{
	int ndelay = 0;

	*imin = *imax = -1;
	for (int i = 0; i < n; i++) {
		if (w->role[i] == ROLE_CTL || !w->ack_delay_ns[i])
			continue;
		if (*imin < 0 || w->ack_delay_ns[i] < w->ack_delay_ns[*imin])
			*imin = i;
		if (*imax < 0 || w->ack_delay_ns[i] >= w->ack_delay_ns[*imax])
			*imax = i;
		ndelay++;
	}
	return ndelay;
}

/* With two NICs, a role one capture holds is not the other's: the handshake
 * of a capture given twice, or of two on one host, would make both sources. */
static bool role_held(const struct mig_work *w, int n, enum role role)
{
	for (int i = 0; role != ROLE_NONE && i < n; i++)
		if (w->role[i] == role)
			return true;
	return false;
}

static void warn_close_timing(struct build_ctx *c, const struct mig_work *w, int m, int a, int b,
			      int64_t noise_ns)
{
	report_warn(c->r, "migration %d: timing cannot tell %s from %s (data-to-ACK delay %.3f vs "
		    "%.3f us, within %.3f us of noise); guessed %s and %s: label them src=/dst=",
		    m + 1, c->in[a].path, c->in[b].path, (double)w->ack_delay_ns[a] / 1e3,
		    (double)w->ack_delay_ns[b] / 1e3, (double)noise_ns / 1e3, role_name(w->role[a]),
		    role_name(w->role[b]));
}

/* Roles of the captures in each migration. A capture sits on one host: a
 * label or the evidence of one migration tells which, and that host decides
 * its role in the others (cn1 is src of the way out and dst of the way back). */
static void assign_roles(struct build_ctx *c)
{
	struct ip_addr host[MAX_INPUTS];
	int n = c->cfg->ninputs;

	memset(host, 0, sizeof(host));
	for (int i = 0; i < n; i++) {
		const char *label = c->in[i].label;

		if (label && !strcmp(label, "ctl"))
			c->is_ctl[i] = true;
		for (int m = 0; label && m < c->nwork && !host[i].family; m++)
			if (c->work[m].view[i].present && strcmp(label, "ctl"))
				host[i] = *host_ip(c, &c->work[m],
						   !strcmp(label, "src") ? ROLE_SRC : ROLE_DST);
	}
	for (int m = 0; m < c->nwork; m++) {
		struct mig_work *w = &c->work[m];
		int64_t dmin = 0, dmax = 0, noise = 0;
		int nseen = 0, nsrc = 0, imin, imax;
		bool timed = false, guessed = false;

		for (int i = 0; i < n; i++) {
			if (!w->view[i].present || c->is_ctl[i]) {
				w->role[i] = ROLE_CTL;
				continue;
			}
			nseen++;
			w->role[i] = ROLE_NONE;
			if (host[i].family)
				w->role[i] = ip_equal(&host[i], host_ip(c, w, ROLE_SRC)) ? ROLE_SRC
					     : ip_equal(&host[i], host_ip(c, w, ROLE_DST)) ? ROLE_DST
					     : ROLE_NONE;
		}
		if (delay_extremes(w, n, &imin, &imax) >= 2) {
			dmin = w->ack_delay_ns[imin];
			dmax = w->ack_delay_ns[imax];
			noise = role_timing_noise_ns(&c->in[imin], &c->in[imax]);
			timed = dmax - dmin > noise;
			/* only a capture that timing had to place makes it a guess */
			guessed = !timed && (w->role[imin] == ROLE_NONE || w->role[imax] == ROLE_NONE);
		}
		for (int i = 0; i < n; i++) {
			if (w->role[i] != ROLE_NONE)
				continue;
			if (timed && w->ack_delay_ns[i] == dmin)
				w->role[i] = ROLE_DST;
			else if (timed && w->ack_delay_ns[i] == dmax)
				w->role[i] = ROLE_SRC;
			else if (!(nseen == 2 && role_held(w, n, w->handshake_role[i])))
				w->role[i] = w->handshake_role[i];
		}
		for (int i = 0; i < n; i++)
			nsrc += w->role[i] == ROLE_SRC;
		for (int i = 0; i < n; i++) {
			if (w->role[i] != ROLE_NONE)
				continue;
			/* two NICs see a stream: whatever the other is not */
			w->role[i] = nseen == 2 && nsrc ? ROLE_DST : ROLE_SRC;
			nsrc += w->role[i] == ROLE_SRC;
			if (!guessed || (i != imin && i != imax))
				report_warn(c->r, "%s: no timing evidence of its host in migration %d; "
					    "taken as %s (label it src=/dst= to be sure)", c->in[i].path,
					    m + 1, role_name(w->role[i]));
		}
		if (guessed)
			warn_close_timing(c, w, m, imin, imax, noise);
		for (int i = 0; i < n; i++)
			if (!host[i].family && (w->role[i] == ROLE_SRC || w->role[i] == ROLE_DST))
				host[i] = *host_ip(c, w, w->role[i]);
	}
	for (int i = 0; i < n; i++) {
		bool seen_any = false;

		for (int m = 0; m < c->nwork; m++)
			seen_any |= c->work[m].view[i].present;
		if (!seen_any)
			c->is_ctl[i] = true;
	}
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
		snprintf(ri->host, sizeof(ri->host), "-");
		for (int m = 0; m < c->nwork; m++) {
			enum role role = c->work[m].role[i];

			if (role != ROLE_SRC && role != ROLE_DST)
				continue;
			if (!c->in[i].label)
				ri->vantage = role_name(role);
			ip_format(host_ip(c, &c->work[m], role), ri->host, sizeof(ri->host));
			break;
		}
	}
}

/* The source node's own count (its capture's tracer ran): exact, and it
 * sees what the NIC view cannot tell from reordering. A flow it did not
 * name had no retransmits; but when it named none of the migration's flows
 * while the source NIC saw data sent twice, the sending socket was not in
 * the agent's view (another network namespace): the NIC view stays. */
static void use_stack_retx(struct build_ctx *c, const struct mig_work *w,
			   struct report_migration *rm)
{
	uint64_t segments = 0, bytes = 0;
	int named = 0;

	for (int f = 0; f < flow_table__nflows(c->ft); f++) {
		const struct mig_flow *fl = flow_table__flow(c->ft, f);
		int src_ep = fl->ep_host[0] == w->src_host ? 0 : 1;

		if (fl->group != w->group || !fl->stack_retx[src_ep].set)
			continue;
		named++;
		segments += fl->stack_retx[src_ep].segments;
		bytes += fl->stack_retx[src_ep].bytes;
	}
	if (!named && w->view[rm->src_input].retx_segments) {
		report_warn(c->r, "%s: the retransmit tracer saw none of the migration's flows, "
			    "yet the NIC saw %llu segments sent again: the sender is outside the "
			    "agent's network namespace; the NIC's count is reported",
			    c->in[rm->src_input].path,
			    (unsigned long long)w->view[rm->src_input].retx_segments);
		return;
	}
	rm->retx_segments = opt_some((int64_t)segments);
	rm->retx_bytes = opt_some((int64_t)bytes);
	rm->retx_vantage = "tracer";
}

/* A throughput that does not fit in bit/s: none is given, and why. */
static void no_rate(struct build_ctx *c, const struct report_migration *rm, uint64_t bytes,
		    int64_t ns)
{
	report_warn(c->r, "migration %d: %llu bytes in %lld ns is faster than any link (the "
		    "capture's stamps or counters are wrong); throughput not given",
		    (int)(rm - c->r->migrations) + 1, (unsigned long long)bytes, (long long)ns);
}

static void fill_stream(struct build_ctx *c, const struct mig_work *w, struct report_migration *rm)
{
	const struct mig_group *g = flow_table__group(c->ft, w->group);
	uint64_t bin_bytes, bits;
	int ref, sender;
	int64_t peak;

	ip_format(&g->host[w->src_host], rm->source, sizeof(rm->source));
	ip_format(&g->host[!w->src_host], rm->destination, sizeof(rm->destination));
	rm->src_input = find_role(w, c->cfg->ninputs, ROLE_SRC);
	rm->dst_input = find_role(w, c->cfg->ninputs, ROLE_DST);
	rm->nflows = g->nflows;
	rm->detect = g->detect;
	if (rm->src_input >= 0)
		rm->at_src = w->view[rm->src_input];
	if (rm->dst_input >= 0)
		rm->at_dst = w->view[rm->dst_input];
	ref = rm->src_input >= 0 ? rm->src_input : rm->dst_input;
	if (ref < 0)
		return;
	rm->start_ns = opt_some(w->start_ns[ref]);
	if (w->end_ns[ref]) {
		rm->end_ns = opt_some(w->end_ns[ref]);
		rm->migration_time_ns = opt_some(w->end_ns[ref] - w->start_ns[ref]);
	}
	sender = rm->src_input >= 0 ? rm->src_input : rm->dst_input;
	rm->retx_segments = opt_some((int64_t)w->view[sender].retx_segments);
	rm->retx_bytes = opt_some((int64_t)w->view[sender].retx_bytes);
	rm->retx_vantage = rm->src_input >= 0 ? "src" : "dst";
	if (rm->src_input >= 0 && c->in[rm->src_input].retrans_tracer)
		use_stack_retx(c, w, rm);
	/* Stamps and counts are in their domain (analysis/domain.h); a rate, their
	 * quotient, need not be: many bytes in a nanosecond, which no link carries. */
	if (rm->migration_time_ns.set && rm->migration_time_ns.v > 0) {
		if (!rate_bps(w->view[ref].payload_bytes, rm->migration_time_ns.v, &peak)) {
			/* the peak would rest on the same bytes and times */
			no_rate(c, rm, w->view[ref].payload_bytes, rm->migration_time_ns.v);
			return;
		}
		rm->avg_bps = opt_some(peak);
	}
	bin_bytes = g->rate[ref][w->src_host].peak_bin_bytes;
	if (__builtin_mul_overflow(bin_bytes, (uint64_t)(8 * (1000000000LL / RATE_BIN_NS)), &bits) ||
	    bits > INT64_MAX) {
		no_rate(c, rm, bin_bytes, RATE_BIN_NS);
		return;
	}
	/* A stream shorter than one full bin has no better peak than its average. */
	peak = (int64_t)bits;
	if (rm->avg_bps.set && rm->avg_bps.v > peak)
		peak = rm->avg_bps.v;
	rm->peak_bps = opt_some(peak);
}

/* The controller captures that hold probes to the guest. */
static uint32_t ctl_probe_mask(const struct build_ctx *c)
{
	const struct probe *p;
	uint32_t n, ctl = 0;

	p = guest_set__probes(c->gs, &n);
	for (int i = 0; i < c->cfg->ninputs; i++) {
		for (uint32_t k = 0; c->is_ctl[i] && k < n; k++)
			if (p[k].target == c->guest.target && p[k].req_ns[i]) {
				ctl |= 1u << i;
				break;
			}
	}
	return ctl;
}

/* The probe times at the prober's vantage: the controller's capture when it
 * holds the probes, else whichever compute NIC saw them first. */
static uint32_t probe_vantages(const struct build_ctx *c)
{
	uint32_t ctl = ctl_probe_mask(c), nics = 0;

	for (int i = 0; i < c->cfg->ninputs; i++)
		if (!c->is_ctl[i])
			nics |= 1u << i;
	return ctl ? ctl : nics;
}

static enum phase phase_of(int64_t t, const struct report_migration *rm)
{
	/* without a reply before the switchover, the blackout starts at it */
	int64_t blackout_from = rm->gap_start_ns.set ? rm->gap_start_ns.v : rm->end_ns.v;

	if (t < rm->start_ns.v)
		return PHASE_BEFORE;
	if (t <= blackout_from)
		return PHASE_PRECOPY;
	if (!rm->gap_end_ns.set || t < rm->gap_end_ns.v)
		return PHASE_BLACKOUT;
	return PHASE_AFTER;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* One probe as the prober saw it: request and reply times (0 = none), and
 * a round trip measured at one capture. */
struct probe_view {
	int64_t req_ns, rep_ns, rtt_ns;
};

static int cmp_view_req(const void *a, const void *b)
{
	return cmp_i64(&((const struct probe_view *)a)->req_ns, &((const struct probe_view *)b)->req_ns);
}

/* The guest's probes sent in this migration's window, at the probe
 * vantages. Returns how many, or -ENOMEM; *out is the caller's to free. */
static int64_t collect_probes(const struct build_ctx *c, const struct mig_work *w,
			      uint32_t mask, struct probe_view **out)
{
	uint32_t n, count = 0;
	const struct probe *p = guest_set__probes(c->gs, &n);
	struct probe_view *v = calloc(n + 1, sizeof(*v));

	*out = v;
	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		int64_t q = switchover_first_in(p[k].req_ns, mask);

		if (p[k].target != c->guest.target || !q || q < w->window_lo || q >= w->window_hi)
			continue;
		v[count].req_ns = q;
		v[count].rep_ns = switchover_first_in(p[k].rep_ns, mask);
		for (int i = 0; i < MAX_INPUTS; i++)
			if ((mask >> i & 1) && p[k].req_ns[i] && p[k].rep_ns[i]) {
				v[count].rtt_ns = p[k].rep_ns[i] - p[k].req_ns[i];
				break;
			}
		count++;
	}
	/* probes are stored by first sighting anywhere, not at the prober */
	qsort(v, count, sizeof(*v), cmp_view_req);
	return count;
}

/* The blackout: the last reply at or before the stream's end to the first
 * after it; and whether the guest answered again at all. */
static int find_gap(const struct probe_view *v, uint32_t n, struct report_migration *rm)
{
	int64_t sw = rm->end_ns.v, before = 0, after = 0, *rep = malloc((n + 1) * sizeof(*rep));
	uint32_t nrep = 0;
	bool requests_after = false;

	if (!rep)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		if (v[k].rep_ns)
			rep[nrep++] = v[k].rep_ns;
		requests_after |= v[k].req_ns > sw;
	}
	qsort(rep, nrep, sizeof(*rep), cmp_i64);
	for (uint32_t k = 0; k < nrep; k++) {
		if (rep[k] <= sw)
			before = rep[k];
		else if (!after)
			after = rep[k];
	}
	free(rep);
	if (before)
		rm->gap_start_ns = opt_some(before);
	if (after)
		rm->gap_end_ns = opt_some(after);
	if (before && after)
		rm->probe_gap_ns = opt_some(after - before);
	if (after)
		rm->reachable_after = opt_some(1);
	else if (requests_after)
		rm->reachable_after = opt_some(0);
	rm->probes_sent = opt_some(n);
	rm->probes_answered = opt_some(nrep);
	rm->lost_probes = opt_some((int64_t)n - nrep);
	return 0;
}

/* The probe interval (median spacing of requests), and loss and round trips
 * by phase. */
static int tally_phases(const struct probe_view *v, uint32_t n, struct report_migration *rm)
{
	int64_t *scratch = malloc((n + 1) * sizeof(*scratch));
	uint32_t m;

	if (!scratch)
		return -ENOMEM;
	for (m = 0; m + 1 < n; m++)
		scratch[m] = v[m + 1].req_ns - v[m].req_ns;
	if (m)
		rm->probe_interval_ns = opt_some(stats_percentile(scratch, m, 50));
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		int64_t sent = 0, lost = 0;

		m = 0;
		for (uint32_t k = 0; k < n; k++) {
			if (phase_of(v[k].req_ns, rm) != (enum phase)ph)
				continue;
			sent++;
			lost += !v[k].rep_ns;
			if (v[k].rtt_ns)
				scratch[m++] = v[k].rtt_ns;
		}
		rm->phase_sent[ph] = opt_some(sent);
		rm->phase_lost[ph] = opt_some(lost);
		if (!m)
			continue;
		rm->rtt_p50_ns[ph] = opt_some(stats_percentile(scratch, m, 50));
		rm->rtt_p99_ns[ph] = opt_some(stats_percentile(scratch, m, 99));
	}
	free(scratch);
	return 0;
}

/* Every probe for the plot: its round trip, or lost. */
static int plot_probes(const struct probe_view *v, uint32_t n, struct report_migration *rm)
{
	struct report_probe_point *pts = n ? malloc(n * sizeof(*pts)) : NULL;

	if (n && !pts)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		int64_t rtt = v[k].rtt_ns ? v[k].rtt_ns : v[k].rep_ns - v[k].req_ns;

		pts[k].req_ns = v[k].req_ns;
		pts[k].rtt_ns = !v[k].rep_ns ? REPORT_RTT_LOST : rtt > 0 ? rtt : 0;
	}
	report_plot_probes(rm, pts, (int)n);
	return 0;
}

/* The stream's throughput over time, where the peak figure was counted. */
static int plot_rate(const struct build_ctx *c, const struct mig_work *w,
		     struct report_migration *rm)
{
	const struct mig_group *g = flow_table__group(c->ft, w->group);
	int ref = rm->src_input >= 0 ? rm->src_input : rm->dst_input;

	if (ref < 0)
		return 0;
	return report_plot_rate(rm, &g->series[ref][w->src_host], rm->src_input >= 0 ? "src" : "dst");
}

static int fill_probes(struct build_ctx *c, const struct mig_work *w, struct report_migration *rm)
{
	uint32_t mask = probe_vantages(c);
	struct probe_view *v;
	int64_t n;
	int rc;

	if (c->guest.target < 0 || !rm->end_ns.set)
		return 0;
	for (int i = 0; i < MAX_INPUTS; i++)
		if (mask >> i & 1) {
			rm->probe_vantage = c->is_ctl[i] ? "ctl" : "nic";
			break;
		}
	n = collect_probes(c, w, mask, &v);
	rc = n < 0 ? (int)n : find_gap(v, (uint32_t)n, rm);
	if (!rc)
		rc = tally_phases(v, (uint32_t)n, rm);
	if (!rc)
		rc = plot_probes(v, (uint32_t)n, rm);
	free(v);
	return rc;
}

/* The guest's silence: its last frame leaving the source NIC to its first
 * leaving the destination NIC. Without those captures, the latest "before"
 * and earliest "after" any capture saw. */
static void fill_silence(const struct build_ctx *c, const struct mig_work *w,
			 const struct guest_mac *g, struct report_migration *rm)
{
	const struct mig_group *grp = flow_table__group(c->ft, w->group);
	int64_t before = 0, after = 0, last_data = grp->last_data_ns[w->src_host];

	for (int i = 0; i < c->cfg->ninputs; i++) {
		struct silence s = guest_silence_at(g, i, w->group, last_data);

		if (s.before_ns && (i == rm->src_input || (rm->src_input < 0 && s.before_ns > before)))
			before = s.before_ns;
		if (s.after_ns &&
		    (i == rm->dst_input || (rm->dst_input < 0 && (!after || s.after_ns < after))))
			after = s.after_ns;
	}
	if (!before || !after || after < before)
		return;
	rm->silence_start_ns = opt_some(before);
	rm->silence_end_ns = opt_some(after);
	rm->guest_silence_ns = opt_some(after - before);
}

static int fill_guest_side(struct build_ctx *c, const struct mig_work *w,
			   struct report_migration *rm)
{
	const struct guest_mac *g;
	int64_t end = rm->end_ns.set ? rm->end_ns.v : 0;

	if (c->guest.mac < 0)
		return 0;
	g = guest_set__mac(c->gs, c->guest.mac);
	fill_silence(c, w, g, rm);
	if (!g->nannounces)
		return 0;
	rm->announces = calloc(g->nannounces, sizeof(*rm->announces));
	if (!rm->announces)
		return -ENOMEM;
	for (uint32_t k = 0; k < g->nannounces; k++) {
		const struct announce *a = &g->announces[k];
		struct report_announce *ra;

		if (!rm->start_ns.set || a->ts_ns < rm->start_ns.v || a->ts_ns >= w->window_hi)
			continue;
		ra = &rm->announces[rm->nannounces++];
		ra->ts_ns = a->ts_ns;
		ra->kind = a->kind;
		ra->vantage = role_name(w->role[a->input]);
		ra->input = c->in[a->input].path;
		if (end && a->ts_ns >= end &&
		    (!rm->first_announce_after_end_ns.set ||
		     a->ts_ns - end < rm->first_announce_after_end_ns.v))
			rm->first_announce_after_end_ns = opt_some(a->ts_ns - end);
	}
	return 0;
}

/* The switchover's evidence for the timeline, the announce check and the
 * diagnosis, then those three. */
static void fill_switchover(const struct build_ctx *c, const struct mig_work *w,
			    struct report_migration *rm)
{
	const struct mig_group *grp = flow_table__group(c->ft, w->group);
	const struct guest_mac *g = c->guest.mac >= 0 ? guest_set__mac(c->gs, c->guest.mac) : NULL;
	struct announce_params params;
	struct switchover sw = {
		.ninputs = c->cfg->ninputs, .src = rm->src_input, .dst = rm->dst_input,
		.prober = ctl_probe_mask(c), .window_lo = w->window_lo, .window_hi = w->window_hi,
		.target = c->guest.target,
	};

	for (int i = 0; i < sw.ninputs; i++)
		sw.vantage[i] = rm->sw.vantage[i] = c->is_ctl[i] ? "ctl" : role_name(w->role[i]);
	sw.probes = guest_set__probes(c->gs, &sw.nprobes);
	if (rm->start_ns.set)
		sw.start_ns = rm->start_ns.v;
	if (rm->end_ns.set)
		sw.end_ns = rm->end_ns.v;
	if (rm->probe_interval_ns.set)
		sw.probe_interval_ns = rm->probe_interval_ns.v;
	if (g) {
		sw.announces = g->announces;
		sw.nannounces = g->nannounces;
		if (sw.src >= 0)
			sw.guest_last_src_ns = guest_silence_at(g, sw.src, w->group,
								grp->last_data_ns[w->src_host]).before_ns;
	}
	if (c->cfg->announce_set)
		params = c->cfg->announce;
	else
		announce_params_default(&params);
	timeline_build(&sw, &rm->sw);
	announce_sched_check(&sw, &params, timeline_time(&rm->sw, TL_RESUME), &rm->sw);
	diagnose(&sw, rm);
}

static int cmp_work_start(const void *a, const void *b)
{
	const struct mig_work *x = a, *y = b;

	return (x->first_ns > y->first_ns) - (x->first_ns < y->first_ns);
}

static void set_windows(struct build_ctx *c)
{
	for (int m = 0; m < c->nwork; m++) {
		struct mig_work *w = &c->work[m];
		const struct mig_group *g = flow_table__group(c->ft, w->group);

		w->window_lo = INT64_MIN;
		w->window_hi = INT64_MAX;
		if (m > 0)
			w->window_lo = c->work[m - 1].window_hi;
		if (m + 1 < c->nwork) {
			const struct mig_group *next = flow_table__group(c->ft, c->work[m + 1].group);

			/* midway between this stream's end and the next one's start */
			w->window_hi = g->last_ns + (next->first_ns - g->last_ns) / 2;
		}
	}
}

static void fill_guest(struct build_ctx *c)
{
	const struct guest_mac *g;

	guest_set__choose(c->gs, c->cfg->guest_ip.family ? &c->cfg->guest_ip : NULL, &c->guest);
	snprintf(c->r->guest_ip4, sizeof(c->r->guest_ip4), "-");
	snprintf(c->r->guest_ip6, sizeof(c->r->guest_ip6), "-");
	snprintf(c->r->guest_mac, sizeof(c->r->guest_mac), "-");
	if (c->guest.mac >= 0) {
		g = guest_set__mac(c->gs, c->guest.mac);
		mac_format(g->mac, c->r->guest_mac, sizeof(c->r->guest_mac));
		c->r->guest_known = true;
	}
	if (c->guest.ip4.family)
		ip_format(&c->guest.ip4, c->r->guest_ip4, sizeof(c->r->guest_ip4));
	if (c->guest.ip6.family)
		ip_format(&c->guest.ip6, c->r->guest_ip6, sizeof(c->r->guest_ip6));
}

int report_build(const struct flow_table *ft, const struct guest_set *gs,
		 const struct build_input *in, const struct analyze_config *cfg, struct report *r)
{
	struct build_ctx c = { .ft = ft, .gs = gs, .in = in, .cfg = cfg, .r = r };
	int ngroups = flow_table__ngroups(ft), rc = 0;

	c.work = calloc(ngroups ? ngroups : 1, sizeof(*c.work));
	r->migrations = calloc(ngroups ? ngroups : 1, sizeof(*r->migrations));
	if (!c.work || !r->migrations) {
		rc = -ENOMEM;
		goto cleanup;
	}
	for (int g = 0; g < ngroups; g++) {
		if (!group_is_migration(flow_table__group(ft, g)))
			continue;
		c.work[c.nwork].group = g;
		c.work[c.nwork].first_ns = flow_table__group(ft, g)->first_ns;
		summarize_views(ft, &c.work[c.nwork], cfg->ninputs);
		c.nwork++;
	}
	/* groups are numbered as their streams were recognised, which is not
	 * always when they began; the windows between migrations need time order */
	qsort(c.work, c.nwork, sizeof(*c.work), cmp_work_start);
	assign_roles(&c);
	set_windows(&c);
	fill_guest(&c);
	fill_inputs(&c);
	for (int m = 0; m < c.nwork; m++) {
		struct report_migration *rm = &r->migrations[m];

		r->nmigrations++; /* from here on report_free() releases it */
		fill_stream(&c, &c.work[m], rm);
		rc = plot_rate(&c, &c.work[m], rm);
		if (!rc)
			rc = fill_probes(&c, &c.work[m], rm);
		if (!rc)
			rc = fill_guest_side(&c, &c.work[m], rm);
		if (rc)
			goto cleanup;
		fill_switchover(&c, &c.work[m], rm);
	}
cleanup:
	free(c.work);
	return rc;
}
