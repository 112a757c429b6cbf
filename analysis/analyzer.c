#include "analysis/analyzer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/capture_counters.h"
#include "analysis/capture_dir.h"
#include "analysis/domain_marks.h"
#include "analysis/capture_reader.h"
#include "analysis/clock_align.h"
#include "analysis/domain.h"
#include "analysis/flows.h"
#include "analysis/guest.h"
#include "analysis/hypervisor.h"
#include "analysis/linklayer.h"
#include "analysis/report_build.h"

/* One capture with its next packet held back for the time merge. */
struct input_cursor {
	struct capture_reader *reader;
	struct capture_packet next;
	int64_t clock_offset_ns; /* subtracted from every stamp: the reference's clock */
	bool has_next;
};

static int cursor_advance(struct input_cursor *c, const char *path, char *err, size_t errlen)
{
	int rc = capture_reader__next(c->reader, &c->next);

	if (rc == -ERANGE) {
		snprintf(err, errlen, "%s: %s", path, capture_reader__stopped_early(c->reader));
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: unreadable capture (%s)", path,
			 capture_reader__stopped_early(c->reader));
		return rc;
	}
	c->has_next = rc == 1;
	if (c->has_next && stamp_shift(c->next.ts_ns, c->clock_offset_ns, &c->next.ts_ns)) {
		snprintf(err, errlen, "%s: packet %llu: time stamp %lld ns less the capture's clock "
			 "offset %lld ns is not a time migscope reads (%s)", path,
			 (unsigned long long)capture_reader__packets(c->reader),
			 (long long)c->next.ts_ns, (long long)c->clock_offset_ns, STAMP_RANGE_TEXT);
		return -ERANGE;
	}
	return 0;
}

static int pick_earliest(const struct input_cursor *cur, int n)
{
	int best = -1;

	for (int i = 0; i < n; i++)
		if (cur[i].has_next && (best < 0 || cur[i].next.ts_ns < cur[best].next.ts_ns))
			best = i;
	return best;
}

static void dispatch(struct flow_table *ft, struct guest_set *gs, struct guest_conns *gc,
		     uint32_t conns_mask, int input, int linktype, const struct capture_packet *pkt)
{
	struct switch_refs sw;
	struct pkt_meta m;
	uint32_t cap_payload = 0;

	if (linklayer_classify(linktype, pkt->data, pkt->caplen, &m))
		return;
	if (m.kind == PKT_KIND_TCP) {
		if (m.payload_off && m.payload_off < pkt->caplen) {
			cap_payload = pkt->caplen - m.payload_off;
			if (cap_payload > m.l4_payload_len)
				cap_payload = m.l4_payload_len;
		}
		/* the stream is between hosts: none of it is the guest's */
		if (flow_table__packet(ft, input, pkt->ts_ns, pkt->wirelen, &m,
				       pkt->data + m.payload_off, cap_payload))
			return;
		if (conns_mask >> input & 1)
			guest_conns__packet(gc, input, pkt->ts_ns, &m);
	} else if (m.kind == PKT_KIND_UDP && (conns_mask >> input & 1)) {
		guest_conns__packet(gc, input, pkt->ts_ns, &m);
	}
	sw = (struct switch_refs){ .ns = flow_table__switch_ns(ft),
				   .latest_first = flow_table__latest_first(ft),
				   .n = flow_table__ngroups(ft) };
	guest_set__frame(gs, input, pkt->ts_ns, &m, &sw);
	/* QEMU's first round of RARPs for a guest: maybe its resume; what the
	 * streams had sent by then tells how much they sent after it (postcopy) */
	if (m.kind == PKT_KIND_RARP && guest_set__rarp_first_round(gs, m.arp_sha, pkt->ts_ns)) {
		flow_table__mark(ft, pkt->ts_ns);
		guest_conns__switch(gc, pkt->ts_ns);
	}
}

uint32_t analyze_prober_inputs(const struct analyze_config *cfg)
{
	uint32_t ctl = 0;

	for (int i = 0; i < cfg->ninputs; i++)
		if (cfg->labels[i] && !strcmp(cfg->labels[i], "ctl"))
			ctl |= 1u << i;
	return ctl;
}

/* The guest's own flows are timed where its users are: at the prober's
 * captures when given (ctl=), else wherever a capture saw them first. */
static uint32_t guest_conns_inputs(const struct analyze_config *cfg)
{
	uint32_t ctl = analyze_prober_inputs(cfg);

	return ctl ? ctl : (1u << cfg->ninputs) - 1;
}

static int open_inputs(const struct analyze_config *cfg, struct input_cursor *cur,
		       struct build_input *in, char *err, size_t errlen)
{
	int rc, link;

	for (int i = 0; i < cfg->ninputs; i++) {
		in[i].path = cfg->paths[i];
		in[i].label = cfg->labels[i];
		cur[i].reader = capture_reader__open_windows(cfg->paths[i], cfg->windows,
							     cfg->nwindows, err, errlen);
		if (!cur[i].reader)
			return errno ? -errno : -EINVAL;
		link = capture_reader__linktype(cur[i].reader);
		in[i].linktype = link;
		if (!linklayer_supported(link)) {
			snprintf(err, errlen, "%s: unsupported link type %d (%s)", cfg->paths[i], link,
				 linklayer_name(link));
			return -ENOTSUP;
		}
		cur[i].clock_offset_ns = in[i].clock.valid ? in[i].clock.offset_ns : 0;
		rc = cursor_advance(&cur[i], cfg->paths[i], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* The labelled source capture, else the first: whose clock the report uses. */
static int reference_input(const struct analyze_config *cfg)
{
	for (int i = 0; i < cfg->ninputs; i++)
		if (cfg->labels[i] && !strcmp(cfg->labels[i], "src"))
			return i;
	return 0;
}

static int align_inputs(const struct analyze_config *cfg, struct build_input *in, char *err,
			size_t errlen)
{
	struct clock_estimate est[MAX_INPUTS];
	int rc, ref = reference_input(cfg);

	in[ref].clock = (struct clock_estimate){ .valid = true };
	in[ref].clock_ref = true;
	if (cfg->ninputs < 2 || cfg->no_align)
		return 0;
	rc = clock_align(cfg, ref, est, err, errlen);
	if (rc)
		return rc;
	for (int i = 0; i < cfg->ninputs; i++)
		in[i].clock = est[i];
	return 0;
}

/* A counter's time on the reference clock, as the packets' stamps are; 0
 * stays 0 (absent). capture_counters has checked it is a stamp; moved by the
 * clock offset it must still be one. */
static int counter_time(uint64_t ns, int64_t clock_offset_ns, int64_t *out, const char *path,
			const struct counter_flow *cf, char *err, size_t errlen)
{
	char src[ADDR_STR_LEN], dst[ADDR_STR_LEN];

	*out = 0;
	if (!ns || !stamp_shift((int64_t)ns, clock_offset_ns, out))
		return 0;
	ip_format(&cf->src, src, sizeof(src));
	ip_format(&cf->dst, dst, sizeof(dst));
	snprintf(err, errlen, "%s: counters of flow %s:%u -> %s:%u: time %llu ns less the capture's "
		 "clock offset %lld ns is not a time migscope reads (%s)", path, src, cf->sport, dst,
		 cf->dport, (unsigned long long)ns, (long long)clock_offset_ns, STAMP_RANGE_TEXT);
	return -ERANGE;
}

/*
 * migscope capture files: their packets are samples, but they carry exact
 * per-flow counters (analysis/capture_counters.h), which replace the
 * packet-derived counts of the flows they name. Sets *any when some applied.
 * Returns 0 or -ERANGE with a line in err.
 */
static int apply_counters(struct flow_table *ft, int input, const struct capture_counters *cc,
			  int64_t clock_offset_ns, const char *path, bool *any, char *err,
			  size_t errlen)
{
	*any = false;
	for (int f = 0; f < cc->nflows; f++) {
		const struct counter_flow *cf = &cc->flows[f];
		struct flow_endpoint src = { .ip = cf->src, .port = cf->sport };
		struct flow_endpoint dst = { .ip = cf->dst, .port = cf->dport };
		struct exact_counts c = {
			.packets = cf->packets, .payload_bytes = cf->payload_bytes,
			.wire_bytes = cf->wire_bytes, .ooo_segments = cf->ooo_segments,
			.ooo_bytes = cf->ooo_bytes,
		};

		if (counter_time(cf->first_ns, clock_offset_ns, &c.first_ns, path, cf, err, errlen) ||
		    counter_time(cf->last_ns, clock_offset_ns, &c.last_ns, path, cf, err, errlen) ||
		    counter_time(cf->last_data_ns, clock_offset_ns, &c.last_data_ns, path, cf, err,
				 errlen))
			return -ERANGE;
		*any |= flow_table__set_exact(ft, input, &src, &dst, &c);
	}
	for (int r = 0; r < cc->nretrans; r++) {
		const struct counter_retrans *cr = &cc->retrans[r];
		struct flow_endpoint src = { .ip = cr->src, .port = cr->sport };
		struct flow_endpoint dst = { .ip = cr->dst, .port = cr->dport };

		flow_table__set_stack_retx(ft, &src, &dst, cr->segments, cr->bytes);
	}
	return 0;
}

static void counters_notes(const struct analyze_config *cfg, struct capture_counters **cc,
			   struct report *out)
{
	for (int i = 0; i < cfg->ninputs; i++) {
		if (!cc[i] || !cc[i]->ours)
			continue;
		if (!cc[i]->present)
			report_warn(out, "%s: a migscope capture without its counters (cut short?); "
				    "stream bytes come from the sampled packets", cfg->paths[i]);
		if (cc[i]->ring_drops)
			report_warn(out, "%s: %llu events were lost in the capture's ring buffer; "
				    "the exact counters are unaffected", cfg->paths[i],
				    (unsigned long long)cc[i]->ring_drops);
		if (cc[i]->flows_truncated || cc[i]->retrans_truncated)
			report_warn_limit(out, "%s: more than %d %s lines in the capture's counters; "
					  "later ones not used", cfg->paths[i],
					  cc[i]->flows_truncated ? COUNTERS_MAX_FLOWS
								 : COUNTERS_MAX_RETRANS,
					  cc[i]->flows_truncated ? "flow" : "retransmits");
		if (cc[i]->flows_full)
			report_warn(out, "%s: the capture's flow table was full; %llu segments "
				    "were not counted", cfg->paths[i],
				    (unsigned long long)cc[i]->flows_full);
	}
}

/* The guest's first RARP in any capture, 0: none. */
static int64_t first_rarp(const struct guest_set *gs, const struct analyze_config *cfg)
{
	struct guest_choice g;
	const struct guest_mac *mac;

	guest_set__choose(gs, cfg->guest_ip.family ? &cfg->guest_ip : NULL, &g);
	if (g.mac < 0)
		return 0;
	mac = guest_set__mac(gs, g.mac);
	for (uint32_t k = 0; k < mac->nannounces; k++)
		if (mac->announces[k].kind == ANNOUNCE_RARP)
			return mac->announces[k].ts_ns;
	return 0;
}

/* The receiving ports of the flows shaped like a migration (analyzer.h),
 * into *ports; how many, and the first one described in why. */
static int shape_ports(const struct flow_table *ft, const struct guest_set *gs,
		       const struct analyze_config *cfg, struct portset *ports, char *why,
		       size_t whylen)
{
	int64_t rarp = first_rarp(gs, cfg);
	const struct bulk_flow *b;
	int n, found = 0;

	if (!rarp)
		return 0;
	b = flow_table__bulk(ft, &n);
	for (int i = 0; i < n; i++) {
		int s = b[i].payload[1] > b[i].payload[0]; /* the sender */
		char src[ADDR_STR_LEN], dst[ADDR_STR_LEN];

		if (b[i].payload[s] < SHAPE_MIN_BYTES || b[i].payload[!s] > b[i].payload[s] / 8 ||
		    b[i].first_data_ns > rarp || b[i].last_data_ns < rarp - SHAPE_END_NS)
			continue;
		portset_add(ports, b[i].ep[!s].port);
		if (found++)
			continue;
		ip_format(&b[i].ep[s].ip, src, sizeof(src));
		ip_format(&b[i].ep[!s].ip, dst, sizeof(dst));
		snprintf(why, whylen, "%s:%u -> %s:%u, %llu bytes one way, %llu back%s, up to the "
			 "guest's first RARP", src, b[i].ep[s].port, dst, b[i].ep[!s].port,
			 (unsigned long long)b[i].payload[s], (unsigned long long)b[i].payload[!s],
			 b[i].tls ? ", TLS" : "");
	}
	return found;
}

static void name_guest(const struct domain_marks *dm, struct report_guest *g, int64_t near_ns)
{
	const struct domain_mark *m;
	uint8_t mac[6];

	if (!g->known || mac_parse(g->mac, mac))
		return;
	m = domain_marks__find(dm, mac, near_ns);
	if (!m)
		return;
	snprintf(g->domain, sizeof(g->domain), "%s", m->domain);
	snprintf(g->uuid, sizeof(g->uuid), "%s", m->uuid);
}

/* The libvirt hook's marks (analysis/domain_marks.h) in the directories
 * given as captures name the guests with their domains. */
static int name_domains(const struct analyze_config *cfg, struct report *out, char *err,
			size_t errlen)
{
	struct domain_marks dm = { 0 };
	char *path;
	int rc = 0;

	for (int i = 0; !rc && i < cfg->ninputs; i++) {
		if (!capture_dir__is_dir(cfg->paths[i]))
			continue;
		if (asprintf(&path, "%s/%s", cfg->paths[i], MARKS_FILE) < 0) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			break;
		}
		rc = domain_marks__read(path, &dm, err, errlen);
		free(path);
	}
	if (!rc && dm.n) {
		for (int m = 0; m < out->nmigrations; m++)
			name_guest(&dm, &out->migrations[m].guest,
				   out->migrations[m].stream.start_ns.v);
		name_guest(&dm, &out->guest,
			   out->nmigrations ? out->migrations[0].stream.start_ns.v : 0);
	}
	domain_marks__free(&dm);
	return rc;
}

static int analyze_pass(const struct analyze_config *cfg, const struct portset *shaped,
			const struct report_hypervisor *hv, struct report *out,
			struct portset *shape, char *why, size_t whylen, char *err, size_t errlen)
{
	struct capture_counters *counters[MAX_INPUTS] = { 0 };
	struct input_cursor cur[MAX_INPUTS];
	struct build_input in[MAX_INPUTS];
	struct flow_table *ft = NULL;
	struct guest_set *gs = NULL;
	struct guest_conns *gc = NULL;
	int64_t last_ns = 0;
	uint32_t conns_mask;
	const char *stopped;
	uint64_t total = 0;
	int rc, i;

	memset(out, 0, sizeof(*out));
	memset(cur, 0, sizeof(cur));
	memset(in, 0, sizeof(in));
	conns_mask = guest_conns_inputs(cfg);
	if (cfg->ninputs < 1 || cfg->ninputs > MAX_INPUTS) {
		snprintf(err, errlen, "give 1 to %d captures", MAX_INPUTS);
		return -EINVAL;
	}
	ft = flow_table__new(&cfg->ports, shaped, !shaped && !cfg->ports_given);
	gs = guest_set__new(cfg->guest_mac_set ? cfg->guest_mac : NULL);
	gc = guest_conns__new();
	if (!ft || !gs || !gc) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto cleanup;
	}
	rc = align_inputs(cfg, in, err, errlen);
	if (rc)
		goto cleanup;
	for (i = 0; i < cfg->ninputs; i++) {
		counters[i] = malloc(sizeof(*counters[i]));
		if (!counters[i]) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto cleanup;
		}
		rc = capture_counters__read(cfg->paths[i], counters[i], err, errlen);
		if (rc)
			goto cleanup;
		if (counters[i]->ours)
			flow_table__set_sampled(ft, i);
	}
	rc = open_inputs(cfg, cur, in, err, errlen);
	if (rc)
		goto cleanup;

	while ((i = pick_earliest(cur, cfg->ninputs)) >= 0) {
		const struct capture_packet *pkt = &cur[i].next;

		if (cfg->progress && !(++total % ANALYZE_PROGRESS_EVERY))
			cfg->progress(total, cfg->progress_arg);
		if (!in[i].packets)
			in[i].first_ns = pkt->ts_ns;
		in[i].last_ns = pkt->ts_ns;
		in[i].packets++;
		dispatch(ft, gs, gc, conns_mask, i, in[i].linktype, pkt);
		rc = cursor_advance(&cur[i], cfg->paths[i], err, errlen);
		if (rc)
			goto cleanup;
	}

	for (i = 0; i < cfg->ninputs; i++) {
		if (counters[i]->present) {
			rc = apply_counters(ft, i, counters[i], cur[i].clock_offset_ns, cfg->paths[i],
					    &in[i].exact, err, errlen);
			if (rc)
				goto cleanup;
		}
		in[i].retrans_tracer = counters[i]->retrans_tracer && !counters[i]->retrans_truncated;
		in[i].tick_ns = capture_reader__tick_ns(cur[i].reader);
		if (in[i].packets && in[i].last_ns > last_ns)
			last_ns = in[i].last_ns; /* the captures' last packet */
	}
	guest_conns__finish(gc, last_ns);
	rc = report_build(ft, gs, gc, in, cfg, hv, cfg->nhypervisor, out);
	if (rc) {
		snprintf(err, errlen, "out of memory building the report");
		goto cleanup;
	}
	rc = name_domains(cfg, out, err, errlen);
	if (rc)
		goto cleanup;
	counters_notes(cfg, counters, out);
	for (i = 0; i < cfg->ninputs; i++) {
		stopped = capture_reader__stopped_early(cur[i].reader);
		if (stopped)
			report_warn(out, "%s: read stopped after packet %llu (%s); analyzed up to the "
				    "last complete packet", cfg->paths[i],
				    (unsigned long long)in[i].packets, stopped);
	}
	if (flow_table__warning(ft))
		report_warn_limit(out, "%s", flow_table__warning(ft));
	if (guest_set__warning(gs))
		report_warn_limit(out, "%s", guest_set__warning(gs));
	if (guest_conns__warning(gc))
		report_warn_limit(out, "%s", guest_conns__warning(gc));
	if (!out->nmigrations && !shaped && !cfg->ports_given)
		shape_ports(ft, gs, cfg, shape, why, whylen);
cleanup:
	for (i = 0; i < cfg->ninputs; i++) {
		capture_reader__close(cur[i].reader);
		free(counters[i]);
	}
	guest_conns__free(gc);
	guest_set__free(gs);
	flow_table__free(ft);
	return rc;
}

static int by_from(const void *a, const void *b)
{
	const struct time_window *x = a, *y = b;

	return (x->from_ns > y->from_ns) - (x->from_ns < y->from_ns);
}

/*
 * Where directories are worth reading: around every migration flow the
 * agent's counters name, in any capture (a prober's tcpdump directory has
 * none of its own), merged where they overlap. 0 windows: read everything
 * (no directory given, no counters, or too many to keep).
 */
static int migration_windows(const struct analyze_config *cfg, struct time_window *w, int *nw,
			     char *err, size_t errlen)
{
	struct capture_counters *cc;
	bool any_dir = false;
	int n = 0, rc = 0;

	*nw = 0;
	for (int i = 0; i < cfg->ninputs; i++)
		any_dir |= capture_dir__is_dir(cfg->paths[i]);
	if (!any_dir)
		return 0;
	cc = malloc(sizeof(*cc));
	if (!cc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < cfg->ninputs && !rc; i++) {
		rc = capture_counters__read(cfg->paths[i], cc, err, errlen);
		for (int f = 0; !rc && f < cc->nflows && n <= ANALYZE_MAX_WINDOWS; f++) {
			const struct counter_flow *cf = &cc->flows[f];

			if (!cf->first_ns || n == ANALYZE_MAX_WINDOWS) {
				n += !!cf->first_ns;
				continue;
			}
			w[n++] = (struct time_window){
				.from_ns = (int64_t)cf->first_ns - ANALYZE_WINDOW_MARGIN_NS,
				.to_ns = (int64_t)(cf->last_ns > cf->first_ns ? cf->last_ns : cf->first_ns) +
					 ANALYZE_WINDOW_MARGIN_NS,
			};
		}
	}
	free(cc);
	if (rc || n > ANALYZE_MAX_WINDOWS)
		return rc;
	qsort(w, (size_t)n, sizeof(*w), by_from);
	for (int i = 0; i < n; i++) {
		if (*nw && w[i].from_ns <= w[*nw - 1].to_ns) {
			if (w[i].to_ns > w[*nw - 1].to_ns)
				w[*nw - 1].to_ns = w[i].to_ns;
			continue;
		}
		w[(*nw)++] = w[i];
	}
	return 0;
}

int analyze(const struct analyze_config *cfg_in, struct report *out, char *err, size_t errlen)
{
	struct time_window windows[ANALYZE_MAX_WINDOWS];
	struct analyze_config windowed = *cfg_in, *cfg = &windowed;
	struct report_hypervisor hv[MAX_HYPERVISOR_FILES];
	struct portset shape = { 0 };
	char why[256] = "";
	int rc;

	memset(out, 0, sizeof(*out));
	memset(hv, 0, sizeof(hv));
	if (cfg->nhypervisor < 0 || cfg->nhypervisor > MAX_HYPERVISOR_FILES) {
		snprintf(err, errlen, "give at most %d hypervisor files", MAX_HYPERVISOR_FILES);
		return -EINVAL;
	}
	for (int i = 0; i < cfg->nhypervisor; i++) {
		rc = hypervisor_read(cfg->hypervisor_paths[i], &hv[i], err, errlen);
		if (rc)
			return rc;
	}
	rc = migration_windows(cfg, windows, &windowed.nwindows, err, errlen);
	if (rc)
		return rc;
	windowed.windows = windows;
	rc = analyze_pass(cfg, NULL, hv, out, &shape, why, sizeof(why), err, errlen);
	if (rc || !why[0])
		return rc;
	/* no migration by port or magic, but one by its shape: read again, with
	 * its port a migration port everywhere (the clocks are aligned on it too) */
	report_free(out);
	{
		struct analyze_config again = *cfg;

		for (size_t w = 0; w < sizeof(shape.bits) / sizeof(shape.bits[0]); w++)
			again.ports.bits[w] |= shape.bits[w];
		rc = analyze_pass(&again, &shape, hv, out, NULL, NULL, 0, err, errlen);
	}
	if (!rc)
		report_warn(out, "a migration found by its shape, on no migration port and without "
			    "QEMU's magic (a proxy relaying it? TLS?): %s; name its ports with "
			    "--ports to be sure", why);
	return rc;
}
