#include "analysis/diagnose.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analysis/timeline.h"
#include "reports/units.h"

/* What the captures say after the resume, gathered once. */
struct facts {
	int64_t end, resume, interval;
	bool has_src, has_dst, has_ctl;
	struct probe_tally src, dst, ctl, any; /* requests after the resume */
	struct probe_tally src_after_end, dst_after_end;
	struct announce_tally ann_dst, ann_src, ann_ctl, ann_any; /* from the resume */
	uint32_t ann_dst_total, ann_any_total;
};

static void evidence(struct report_migration *rm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void evidence(struct report_migration *rm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_list_add(rm->verdict.evidence, &rm->verdict.nevidence, REPORT_MAX_EVIDENCE, fmt, ap);
	va_end(ap);
}

static void summary(struct report_migration *rm, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void summary(struct report_migration *rm, const char *code, const char *fmt, ...)
{
	va_list ap;

	rm->verdict.code = code;
	va_start(ap, fmt);
	vsnprintf(rm->verdict.summary, sizeof(rm->verdict.summary), fmt, ap);
	va_end(ap);
}

/* "18.412 s", "4.210 ms": the evidence's one wording (reports/units.h) */
static const char *dur(int64_t ns, char *buf, size_t len)
{
	return format_duration(ns, buf, len);
}

static uint32_t total(const struct announce_tally *a)
{
	return a->n[ANNOUNCE_RARP] + a->n[ANNOUNCE_GARP] + a->n[ANNOUNCE_NA];
}

/* Only QEMU's RARPs: no announcement carried the guest's IP. */
static bool without_ip(const struct announce_tally *a)
{
	return a->n[ANNOUNCE_RARP] && !a->n[ANNOUNCE_GARP] && !a->n[ANNOUNCE_NA];
}

static void gather(const struct switchover *sw, const struct report_migration *rm,
		   struct facts *f)
{
	uint32_t all = 0;

	for (int i = 0; i < sw->ninputs; i++)
		all |= input_bit(i);
	memset(f, 0, sizeof(*f));
	f->end = sw->end_ns;
	f->resume = sw->resume_ns;
	f->interval = rm->downtime.probe_interval_ns.set ? rm->downtime.probe_interval_ns.v
							 : sw->probe_interval_ns;
	f->has_src = sw->src >= 0;
	f->has_dst = sw->dst >= 0;
	f->has_ctl = sw->prober != 0;
	switchover_tally(sw, input_bit(sw->src), f->resume, &f->src);
	switchover_tally(sw, input_bit(sw->dst), f->resume, &f->dst);
	switchover_tally(sw, sw->prober, f->resume, &f->ctl);
	switchover_tally(sw, all, f->resume, &f->any);
	switchover_tally(sw, input_bit(sw->src), f->end, &f->src_after_end);
	switchover_tally(sw, input_bit(sw->dst), f->end, &f->dst_after_end);
	/* from the resume: in postcopy the stream's end comes long after it */
	switchover_announces(sw, input_bit(sw->dst), f->resume, &f->ann_dst);
	switchover_announces(sw, input_bit(sw->src), f->resume, &f->ann_src);
	switchover_announces(sw, sw->prober, f->resume, &f->ann_ctl);
	switchover_announces(sw, all, f->resume, &f->ann_any);
	f->ann_dst_total = total(&f->ann_dst);
	f->ann_any_total = total(&f->ann_any);
}

/* Did the guest resume on the destination? A RARP (sent by the destination's
 * QEMU) or a reply from the destination says yes; requests reaching the
 * source after the stream and left unanswered there say it stopped there; an
 * answer from the source to such a request says it still runs there. */
static void completion(const struct facts *f, struct report_migration *rm)
{
	if (f->ann_any.n[ANNOUNCE_RARP] || f->dst_after_end.replies)
		rm->sw.completed = opt_some(1);
	else if (f->src_after_end.answered)
		rm->sw.completed = opt_some(0);
	else if (f->src_after_end.requests)
		rm->sw.completed = opt_some(1);
}

static void not_completed(const struct facts *f, struct report_migration *rm)
{
	summary(rm, "ok", "migration did not complete: the stream ended without a resume on the "
		"destination; the guest stayed on the source");
	evidence(rm, "%u of %u requests that reached the source NIC after the stream's last data "
		 "were answered there: the guest still ran on the source",
		 f->src_after_end.answered, f->src_after_end.requests);
	if (f->has_dst)
		evidence(rm, "no RARP and %u replies at the destination NIC after the stream",
			 f->dst_after_end.replies);
	else
		evidence(rm, "no RARP from the destination in any capture");
}

static void announce_line(const struct facts *f, struct report_migration *rm)
{
	const struct announce_tally *d = &f->ann_dst;

	if (!f->has_dst) {
		evidence(rm, "%u announcements of the guest after the stream (%u at the source NIC, "
			 "%u at the prober); no capture at the destination NIC",
			 f->ann_any_total, total(&f->ann_src), total(&f->ann_ctl));
		return;
	}
	evidence(rm, "%u announcements left the destination NIC (%u RARP, %u GARP, %u NA); %s%u "
		 "reached the prober, %u the source NIC", f->ann_dst_total, d->n[ANNOUNCE_RARP],
		 d->n[ANNOUNCE_GARP], d->n[ANNOUNCE_NA], f->has_ctl ? "" : "(no prober capture) ",
		 total(&f->ann_ctl), total(&f->ann_src));
}

/* How it ended for the prober. */
static void recovery_line(const struct facts *f, struct report_migration *rm)
{
	char a[32];

	if (rm->verdict.reconvergence_ns.set)
		evidence(rm, "the guest answered at the prober again %s after resume",
			 dur(rm->verdict.reconvergence_ns.v, a, sizeof(a)));
	else if (f->any.requests)
		evidence(rm, "no reply after resume: %u requests unanswered over %s", f->any.requests,
			 dur(f->any.last_req_ns - f->resume, a, sizeof(a)));
}

/* When requests still went to the old location: until they reached the
 * destination NIC; without that capture, the last one at the source NIC;
 * null when they never stopped going there. */
static void astray_duration(const struct facts *f, bool never, struct report_migration *rm)
{
	if (f->has_dst && f->dst.requests)
		rm->verdict.duration_ns = opt_some(f->dst.first_req_ns - f->resume);
	else if (f->has_src && f->src.requests && !never)
		rm->verdict.duration_ns = opt_some(f->src.last_req_ns - f->resume);
}

/* Requests went on to the source until the end of the probes. */
static bool never_moved(const struct facts *f)
{
	if (f->has_dst)
		return !f->dst.requests;
	return f->src.requests && f->any.last_req_ns - f->src.last_req_ns <= f->interval;
}

/* "requests 312..1900 (1589) still delivered to the source NIC for 18.4 s
 * after resume" */
static void stale_line(const struct facts *f, bool never, struct report_migration *rm)
{
	char a[32];

	evidence(rm, "requests %u..%u (%u) still delivered to the source NIC %s %s after resume",
		 f->src.first_seq, f->src.last_seq, f->src.requests,
		 never ? "until the capture ends," : "for",
		 dur(f->src.last_req_ns - f->resume, a, sizeof(a)));
}

static void moved_line(const struct facts *f, struct report_migration *rm)
{
	char a[32];

	if (f->has_dst && f->dst.requests)
		evidence(rm, "requests reached the destination NIC %s after resume (request %u)",
			 dur(f->dst.first_req_ns - f->resume, a, sizeof(a)), f->dst.first_seq);
}

/* Design §5.1: nothing announced the guest at its new location. Given even
 * when the network learned it anyway from the guest's own frames: that was
 * luck (a reply to a request queued across the switchover, in the lab), and
 * the next migration may not have it. */
static void no_announce(const struct facts *f, struct report_migration *rm)
{
	bool never = never_moved(f);
	char a[32];

	astray_duration(f, never, rm);
	if (!f->any.requests)
		summary(rm, "no_announce", "no announcement left the destination (no RARP, GARP or NA "
			"after the stream); no probes to tell what it cost");
	else if (never)
		summary(rm, "no_announce", "no announcement left the destination; requests %s until "
			"the captures end", f->has_src ? "kept going to the old location"
						       : "did not reach it");
	else
		summary(rm, "no_announce", "no announcement left the destination; requests reached "
			"it %s after resume, once the network learned the guest from its own traffic",
			rm->verdict.duration_ns.set ? dur(rm->verdict.duration_ns.v, a, sizeof(a)) : "n/a");
	evidence(rm, "0 RARP, 0 GARP, 0 NA left the destination NIC after the stream's last data "
		 "(announce-rounds 0, a filter on the destination, a port not bound)");
	if (f->has_src && f->src.requests)
		stale_line(f, never, rm);
	moved_line(f, rm);
	if (f->dst.first_rep_ns)
		evidence(rm, "the guest's first reply left the destination NIC %s after resume",
			 dur(f->dst.first_rep_ns - f->resume, a, sizeof(a)));
	if (!strcmp(rm->verdict.resume_basis, "stream_end"))
		evidence(rm, "no RARP marks the resume: times are from the stream's last data");
	recovery_line(f, rm);
}

/* Requests still went to the old location after the resume: the verdict's
 * duration and summary ("WHAT: requests still went ... until the captures
 * end" or "WHAT: the network kept the old location for ..."), and the line
 * of the stale requests. */
static void astray_summary(const struct facts *f, const char *code, const char *what,
			   struct report_migration *rm)
{
	bool never = never_moved(f);
	char a[32];

	astray_duration(f, never, rm);
	if (never)
		summary(rm, code, "%s: requests still went to the old location until the captures "
			"end, %s after resume", what, dur(f->src.last_req_ns - f->resume, a, sizeof(a)));
	else
		summary(rm, code, "%s: the network kept the old location for %s after resume", what,
			dur(rm->verdict.duration_ns.v, a, sizeof(a)));
	stale_line(f, never, rm);
}

/* Design §5.2: announcements left (or, uncaptured, may have left) the
 * destination, and requests still reached the source after resume + P. */
static void stale_forwarding(const struct switchover *sw, const struct facts *f,
			     struct report_migration *rm)
{
	const struct report_announce_sched *s = &rm->sw.sched;
	char a[32], b[32];

	astray_summary(f, "stale_forwarding", "stale forwarding", rm);
	announce_line(f, rm);
	if (f->has_dst && without_ip(&f->ann_dst))
		evidence(rm, "only RARPs left the destination NIC and none reached the prober or the "
			 "source NIC: lost on the way (a guest's GARP or NA would have been lost with "
			 "them)");
	if (!f->has_dst && !f->ann_any_total)
		evidence(rm, "could not decide whether any announcement left the destination: a "
			 "capture at the destination NIC would (none left: no_announce)");
	moved_line(f, rm);
	if (s->nbursts > 1 && s->anchor >= 0) {
		int64_t burst = s->burst[1].round[0].seen_ns[s->anchor];

		if (f->has_dst && f->dst.requests && f->dst.first_req_ns >= burst)
			evidence(rm, "another announce burst left the %s %s after resume; requests "
				 "moved %s after it", sw->vantage[s->anchor],
				 dur(burst - f->resume, a, sizeof(a)),
				 dur(f->dst.first_req_ns - burst, b, sizeof(b)));
		else
			evidence(rm, "another announce burst left the %s %s after resume",
				 sw->vantage[s->anchor], dur(burst - f->resume, a, sizeof(a)));
	}
	recovery_line(f, rm);
}

/* "destination NIC 5 RARP, 0 GARP, 0 NA; ...": which announcement types
 * each vantage saw from the resume. */
static void types_line(const struct facts *f, struct report_migration *rm)
{
	const struct { bool has; const char *name; const struct announce_tally *a; } v[] = {
		{ f->has_dst, "destination NIC", &f->ann_dst },
		{ f->has_src, "source NIC", &f->ann_src },
		{ f->has_ctl, "prober", &f->ann_ctl },
	};
	char line[256];
	size_t len = 0;

	line[0] = 0;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]) && len < sizeof(line); i++) {
		int n = v[i].has ? snprintf(line + len, sizeof(line) - len, "%s%s %u RARP, %u GARP, %u NA",
					    len ? "; " : "", v[i].name, v[i].a->n[ANNOUNCE_RARP],
					    v[i].a->n[ANNOUNCE_GARP], v[i].a->n[ANNOUNCE_NA])
				 : snprintf(line + len, sizeof(line) - len, "%s%s not captured",
					    len ? "; " : "", v[i].name);
		if (n > 0)
			len += (size_t)n;
	}
	evidence(rm, "announcements of the guest from the resume: %s", line);
}

/* Only QEMU's RARPs announced the guest; the network carried them (they
 * reached the prober or the source NIC) and still kept the old location: it
 * does not move a guest on a frame without its IP (EVPN with ARP
 * suppression, OVN's port bindings), and the guest said nothing else. */
static void announce_without_ip(const struct facts *f, struct report_migration *rm)
{
	astray_summary(f, "announce_without_ip", "only RARPs announced the guest, none with its IP",
		       rm);
	types_line(f, rm);
	evidence(rm, "the RARPs reached %s and the network did not move the guest on them: it "
		 "learns locations from IP-carrying announcements (EVPN ARP suppression, OVN)",
		 total(&f->ann_ctl) && total(&f->ann_src) ? "the prober and the source NIC"
		 : total(&f->ann_ctl) ? "the prober" : "the source NIC");
	evidence(rm, "QEMU's RARP carries no IP, and the guest sent no GARP or NA of its own "
		 "(virtio-net guest_announce off, or a NIC model or guest driver without it)");
	moved_line(f, rm);
	recovery_line(f, rm);
}

/* No source capture: requests did not reach the destination in time, and
 * where they went instead is not known. */
static void not_at_destination(const struct facts *f, struct report_migration *rm)
{
	char a[32];

	astray_duration(f, never_moved(f), rm);
	summary(rm, "insufficient_data", "requests did not reach the destination NIC %s after "
		"resume; where they went needs the source NIC's capture",
		rm->verdict.duration_ns.set ? dur(rm->verdict.duration_ns.v, a, sizeof(a))
					    : "until the captures end");
	announce_line(f, rm);
	moved_line(f, rm);
	evidence(rm, "a capture at the source NIC would show whether requests still went to the "
		 "old location (stale_forwarding)");
	recovery_line(f, rm);
}

/* A fault that began at `from` and was over at `until` (0: never, in the
 * captures): the verdict's duration and summary, "WHAT for 2.000 s" or
 * "WHAT: NEVER". */
static void fault_summary(struct report_migration *rm, const char *code, const char *what,
			  int64_t from, int64_t until, const char *never)
{
	char a[32];

	if (!until) {
		summary(rm, code, "%s: %s", what, never);
		return;
	}
	rm->verdict.duration_ns = opt_some(until - from);
	summary(rm, code, "%s for %s", what, dur(until - from, a, sizeof(a)));
}

static void destination_silent(const struct facts *f, struct report_migration *rm)
{
	char a[32];

	char never[96];

	snprintf(never, sizeof(never), "%u requests reached its NIC in %s, none answered",
		 f->dst.requests, dur(f->dst.last_req_ns - f->dst.first_req_ns, a, sizeof(a)));
	fault_summary(rm, "destination_silent", "the guest or the host datapath on the destination "
		      "did not answer", f->dst.first_req_ns, f->dst.first_answer_ns, never);
	evidence(rm, "requests %u..%u (%u) reached the destination NIC from %s after resume; %u "
		 "of them were answered there", f->dst.first_seq, f->dst.last_seq, f->dst.requests,
		 dur(f->dst.first_req_ns - f->resume, a, sizeof(a)), f->dst.answered);
	if (f->dst.first_answer_ns)
		evidence(rm, "the first answer left the destination NIC %s after the first request",
			 dur(f->dst.first_answer_ns - f->dst.first_req_ns, a, sizeof(a)));
	announce_line(f, rm);
	recovery_line(f, rm);
}

/* The network moved before the guest: requests went to the destination NIC
 * while the guest still ran on the source (or was paused), and were lost
 * there. */
static void early_cutover(const struct switchover *sw, const struct facts *f,
			  const struct early_tally *e, struct report_migration *rm)
{
	struct announce_tally before;
	char a[32], b[32];

	rm->verdict.duration_ns = opt_some(f->resume - e->first_ns);
	summary(rm, "early_cutover", "the network moved to the destination %s before the guest "
		"resumed there: %u requests were delivered to it and lost",
		dur(f->resume - e->first_ns, a, sizeof(a)), e->requests);
	evidence(rm, "requests %u..%u (%u) reached the destination NIC from %s to %s before "
		 "resume, none of them the source NIC", e->first_seq, e->last_seq, e->requests,
		 dur(f->resume - e->first_ns, a, sizeof(a)), dur(f->resume - e->last_ns, b, sizeof(b)));
	switchover_announces(sw, input_bit(sw->dst), sw->start_ns, &before);
	if (before.first_ns && before.first_ns < f->resume)
		evidence(rm, "the guest's MAC was announced from the destination NIC %s before "
			 "resume: an early GARP or NA", dur(f->resume - before.first_ns, a, sizeof(a)));
	else
		evidence(rm, "no announcement of the guest left the destination NIC before the "
			 "resume: the network was told elsewhere (a port claimed early, a static "
			 "forwarding entry)");
	recovery_line(f, rm);
}

/* A guest that answered after the resume and then fell silent for longer
 * than a resumed guest may take: judged over the whole time after the
 * resume, not by its first answer (a guest kernel that crashed right after
 * the migration answers one probe, then nothing). */
static bool went_silent(const struct silent_run *run)
{
	int64_t until = run->answered_again_ns ? run->answered_again_ns : run->last_req_ns;

	return run->requests >= SILENT_MIN_REQUESTS && until - run->first_req_ns >= GUEST_ANSWER_GRACE_NS;
}

static void silent_after_answer(const struct facts *f, const struct silent_run *run,
				struct report_migration *rm)
{
	char a[32], b[32], never[96];

	snprintf(never, sizeof(never), "%u requests reached its NIC in the %s until the captures "
		 "end, none answered", run->requests,
		 dur(run->last_req_ns - run->first_req_ns, a, sizeof(a)));
	fault_summary(rm, "destination_silent", "the guest answered after the resume, then did "
		      "not", run->first_req_ns, run->answered_again_ns, never);
	evidence(rm, "the guest answered a request that reached the destination NIC %s after "
		 "resume; then requests %u..%u (%u) reached it from %s after resume and none was "
		 "answered", dur(run->first_answered_ns - f->resume, a, sizeof(a)), run->first_seq,
		 run->last_seq, run->requests, dur(run->first_req_ns - f->resume, b, sizeof(b)));
	if (run->answered_again_ns)
		evidence(rm, "it answered again %s after the first unanswered request",
			 dur(run->answered_again_ns - run->first_req_ns, a, sizeof(a)));
	else
		evidence(rm, "no answer after them until the captures end: the guest hung or crashed "
			 "after the migration (its console would tell)");
	announce_line(f, rm);
}

/* Requests reached the guest and it answered, late, while the stream still
 * brought its memory (postcopy): the guest stalled on its page faults. A
 * brownout, not a broken datapath. */
static void slow_guest(const struct switchover *sw, const struct facts *f,
		       struct report_migration *rm)
{
	char a[32], b[32];

	fault_summary(rm, "slow_guest", "the guest answered late, faulting its memory in after a "
		      "postcopy switchover", f->dst.first_req_ns, f->dst.first_answer_ns, "");
	evidence(rm, "requests %u..%u (%u) reached the destination NIC from %s after resume; the "
		 "first answer left it %s after the first request", f->dst.first_seq,
		 f->dst.last_seq, f->dst.requests, dur(f->dst.first_req_ns - f->resume, a, sizeof(a)),
		 dur(f->dst.first_answer_ns - f->dst.first_req_ns, b, sizeof(b)));
	if (sw->page_requests)
		evidence(rm, "postcopy: the stream ran %s after resume; the destination asked for "
			 "%lld pages on the return path", dur(sw->postcopy_end_ns - f->resume, a,
							      sizeof(a)),
			 (long long)sw->page_requests);
	else
		evidence(rm, "postcopy: the stream ran %s after resume, bringing the guest's pages",
			 dur(sw->postcopy_end_ns - f->resume, a, sizeof(a)));
	if (sw->blocktime_ns)
		evidence(rm, "QEMU counted %s of vCPU time blocked on page faults (postcopy-blocktime)",
			 dur(sw->blocktime_ns, a, sizeof(a)));
	recovery_line(f, rm);
}

int64_t diagnose_slow_above(const struct report_turnaround *before)
{
	int64_t by_factor = before->p90_ns * SLOW_FACTOR;
	int64_t by_extra = before->p90_ns + SLOW_MIN_EXTRA_NS;

	if (before->answers < TURNAROUND_MIN_ANSWERS)
		return 0;
	return by_factor > by_extra ? by_factor : by_extra;
}

static bool answers_slow(const struct report_outage *o)
{
	const struct report_turnaround *a = &o->turnaround_after;

	return a->slow_above_ns && a->answers >= TURNAROUND_MIN_ANSWERS &&
	       a->p90_ns > a->slow_above_ns;
}

/* Requests reached the guest and it answered them all, but far slower than
 * its own pace before the migration: a starved vCPU (a CPU quota, an
 * overcommitted destination) or postcopy page faults. What users feel as a
 * slow service, not an outage. */
static void slow_answers(const struct switchover *sw, const struct facts *f,
			 struct report_migration *rm)
{
	const struct report_turnaround *b = &rm->outage.turnaround_before;
	const struct report_turnaround *a = &rm->outage.turnaround_after;
	char x[32], y[32], z[32], w[32], v[32];

	rm->verdict.duration_ns = opt_some(a->last_slow_ns - a->first_slow_ns);
	summary(rm, "slow_guest", "the guest answered slowly after the resume: p90 %s at the "
		"destination NIC against %s before the migration, for %s",
		dur(a->p90_ns, x, sizeof(x)), dur(b->p90_ns, y, sizeof(y)),
		dur(a->last_slow_ns - a->first_slow_ns, z, sizeof(z)));
	evidence(rm, "%u of %u requests answered at the destination NIC after resume waited over "
		 "%s, from %s to %s after resume (p50 %s, max %s)", a->slow, a->answers,
		 dur(a->slow_above_ns, x, sizeof(x)), dur(a->first_slow_ns - f->resume, y, sizeof(y)),
		 dur(a->last_slow_ns - f->resume, z, sizeof(z)), dur(a->p50_ns, w, sizeof(w)),
		 dur(a->max_ns, v, sizeof(v)));
	evidence(rm, "before the stream the guest answered at the source NIC in p50 %s, p90 %s "
		 "(%u answers)", dur(b->p50_ns, x, sizeof(x)), dur(b->p90_ns, y, sizeof(y)),
		 b->answers);
	if (sw->postcopy_end_ns)
		evidence(rm, "postcopy: the stream ran %s after resume, bringing the guest's pages",
			 dur(sw->postcopy_end_ns - f->resume, x, sizeof(x)));
	else
		evidence(rm, "precopy: all its memory was there at the resume; a starved vCPU (a CPU "
			 "quota, an overcommitted destination host) answers late");
	recovery_line(f, rm);
}

static void return_path(const struct switchover *sw, const struct facts *f,
			struct report_migration *rm)
{
	uint32_t missed = switchover_replies_missed(sw, input_bit(sw->dst), sw->prober, f->resume);
	char a[32], never[64];

	snprintf(never, sizeof(never), "none of %u reached it", missed);
	fault_summary(rm, "return_path", "replies left the destination but did not reach the "
		      "prober", f->dst.first_rep_ns, f->ctl.first_rep_ns, never);
	evidence(rm, "%u replies left the destination NIC from %s after resume; %u of them never "
		 "reached the prober", f->dst.replies,
		 dur(f->dst.first_rep_ns - f->resume, a, sizeof(a)), missed);
	evidence(rm, "requests %u..%u (%u) reached the destination NIC from %s after resume",
		 f->dst.first_seq, f->dst.last_seq, f->dst.requests,
		 dur(f->dst.first_req_ns - f->resume, a, sizeof(a)));
	recovery_line(f, rm);
}

static void reachable(const struct facts *f, struct report_migration *rm)
{
	char a[32], b[32];

	if (f->has_dst && f->dst.requests)
		summary(rm, "ok", "requests reached the destination %s after resume; the guest "
			"answered at the prober %s after resume",
			dur(f->dst.first_req_ns - f->resume, a, sizeof(a)),
			rm->verdict.reconvergence_ns.set ? dur(rm->verdict.reconvergence_ns.v, b, sizeof(b)) : "n/a");
	else
		summary(rm, "ok", "the guest answered at the prober %s after resume",
			rm->verdict.reconvergence_ns.set ? dur(rm->verdict.reconvergence_ns.v, b, sizeof(b)) : "n/a");
	/* in time, but not thanks to the announcements: they got nowhere */
	if (f->has_dst && f->ann_dst_total && (f->has_ctl || f->has_src) &&
	    !total(&f->ann_ctl) && !total(&f->ann_src))
		evidence(rm, "%u announcements left the destination NIC and none reached the prober "
			 "or the source NIC: the network learned the new location from other frames "
			 "of the guest", f->ann_dst_total);
	if (f->has_dst ? without_ip(&f->ann_dst) : without_ip(&f->ann_any))
		evidence(rm, "only RARPs announced the guest (no GARP or NA with its IP): this network "
			 "moved it on them; one that learns locations from IP-carrying announcements "
			 "only (EVPN ARP suppression, OVN) would not (announce_without_ip)");
	if (!f->has_dst)
		evidence(rm, "no capture at the destination NIC: where requests went after resume "
			 "is not checked");
	if (!f->has_ctl)
		evidence(rm, "no capture at the prober: whether replies got back is not checked "
			 "(a ctl capture would)");
}

/* Requests left the source NIC in time but the destination NIC had none
 * within P of the resume: lost between the two. */
static void vanished(const struct facts *f, struct report_migration *rm)
{
	char a[32];

	summary(rm, "insufficient_data", "requests after resume reached neither compute NIC for %s",
		f->dst.requests ? dur(f->dst.first_req_ns - f->resume, a, sizeof(a)) : "the rest of the captures");
	evidence(rm, "%u requests after resume: %u at the source NIC (none later than one probe "
		 "interval), %u at the destination NIC", f->any.requests, f->src.requests,
		 f->dst.requests);
	evidence(rm, "a capture on the switch between the prober and the compute nodes would show "
		 "where they were lost");
	recovery_line(f, rm);
}

/* No destination capture, and the prober waited for its replies. */
static void no_reply(const struct facts *f, struct report_migration *rm)
{
	char a[32];

	summary(rm, "insufficient_data", "no reply reached the prober %s after resume; the "
		"destination's capture would say why",
		rm->verdict.reconvergence_ns.set ? dur(rm->verdict.reconvergence_ns.v, a, sizeof(a))
					    : "until the captures end");
	if (f->has_src)
		evidence(rm, "requests stopped reaching the source NIC within one probe interval of "
			 "resume (%u after it)", f->src.requests);
	else
		evidence(rm, "no capture at the source NIC: whether requests went to the old location "
			 "is not known");
	evidence(rm, "a capture at the destination NIC would tell destination_silent (no reply "
		 "left it) from return_path (replies lost on the way back)");
	announce_line(f, rm);
}

/* No announcement at the destination NIC, and nothing tells whether the
 * guest resumed there at all. */
static void unknown_completion(const struct facts *f, struct report_migration *rm)
{
	summary(rm, "insufficient_data", "no announcement and no reply left the destination NIC; "
		"whether the migration completed is not known");
	evidence(rm, "%u requests reached the destination NIC after the stream's last data",
		 f->dst_after_end.requests);
	evidence(rm, "a capture at the source NIC would tell: a guest still answering there did "
		 "not move; requests unanswered there mean it did and nothing announced it "
		 "(no_announce)");
}

/* Stale forwarding after RARPs alone that the network did carry: it was
 * told where the MAC went, never where the IP went. RARPs that reached no
 * other vantage were lost on the way, whatever their type. */
static bool ip_never_told(const struct facts *f)
{
	return f->has_dst && without_ip(&f->ann_dst) && (total(&f->ann_src) || total(&f->ann_ctl));
}

/* The guest's own TCP requests measured it (analyze --probe; a guest that
 * ignores ping): where echo requests went still tells stale forwarding, the
 * answers to its requests tell the rest. */
static void by_requests(const struct switchover *sw, const struct facts *f,
			struct report_migration *rm)
{
	const struct report_downtime *d = &rm->downtime;
	char a[32];

	if (f->has_src && f->src.requests && f->src.last_req_ns > f->resume + f->interval) {
		if (ip_never_told(f))
			announce_without_ip(f, rm);
		else
			stale_forwarding(sw, f, rm);
		return;
	}
	if (rm->reachable_after.set && rm->reachable_after.v)
		summary(rm, "ok", "the guest answered its TCP requests at the prober %s after resume",
			rm->verdict.reconvergence_ns.set
				? dur(rm->verdict.reconvergence_ns.v, a, sizeof(a)) : "n/a");
	else
		summary(rm, "insufficient_data", "no answer to the guest's %u TCP requests after the "
			"resume in these captures", rm->traffic.requests_after);
	if (d->icmp_unanswered.set)
		evidence(rm, "the guest ignores ping: %lld echo requests to it, none answered; its "
			 "own TCP requests (port %u first answered after the resume) measured the "
			 "downtime", (long long)d->icmp_unanswered.v, d->probe_port);
	else
		evidence(rm, "the guest's own TCP requests (port %u first answered after the resume) "
			 "measured the downtime (--probe tcp)", d->probe_port);
	announce_line(f, rm);
}

/* Later than the prober can expect its first reply after the resume: the
 * next request (one interval), then the resumed guest's answer. */
static bool prober_late(const struct facts *f, const struct report_migration *rm)
{
	return !rm->reachable_after.v || !rm->verdict.reconvergence_ns.set ||
	       rm->verdict.reconvergence_ns.v > f->interval + GUEST_ANSWER_GRACE_NS;
}

static void judge(const struct switchover *sw, struct report_migration *rm)
{
	struct early_tally early;
	struct silent_run run;
	struct facts f;
	bool stale, dst_late;

	rm->verdict.nevidence = 0;
	if (!sw->end_ns) {
		summary(rm, "insufficient_data", "no migration stream data to time the switchover");
		return;
	}
	gather(sw, rm, &f);
	completion(&f, rm);
	if (rm->sw.completed.set && !rm->sw.completed.v) {
		not_completed(&f, rm);
		return;
	}
	if (rm->downtime.gap_end_ns.set && rm->downtime.gap_end_ns.v >= f.resume)
		rm->verdict.reconvergence_ns = opt_some(rm->downtime.gap_end_ns.v - f.resume);
	if (f.has_dst && !f.ann_dst_total) {
		if (rm->sw.completed.set)
			no_announce(&f, rm);
		else
			unknown_completion(&f, rm);
		return;
	}
	if (rm->downtime.probe && !strcmp(rm->downtime.probe, "tcp")) {
		by_requests(sw, &f, rm);
		return;
	}
	if (!f.any.requests || !rm->reachable_after.set) {
		summary(rm, "insufficient_data",
			"no echo probes to the guest after the switchover in these captures");
		evidence(rm, "probe the guest (ping -i 0.01) and capture at the prober to decide");
		return;
	}
	/* "in time": by the request after the first one sent after resume, with
	 * half an interval for the prober's jitter */
	switchover_silent_run(sw, input_bit(sw->dst), f.resume, &run);
	switchover_early(sw, &early);
	stale = f.has_src && f.src.requests && f.src.last_req_ns > f.resume + f.interval;
	dst_late = f.has_dst && (!f.dst.requests ||
				 f.dst.first_req_ns > f.any.first_req_ns + f.interval * 3 / 2);
	if (f.has_src && early.requests >= EARLY_MIN_REQUESTS &&
	    !strcmp(sw->resume_basis, "rarp_at_dst"))
		early_cutover(sw, &f, &early, rm);
	else if (stale && ip_never_told(&f))
		announce_without_ip(&f, rm);
	else if (stale)
		stale_forwarding(sw, &f, rm);
	else if (!f.has_src && dst_late)
		not_at_destination(&f, rm);
	else if (dst_late)
		vanished(&f, rm);
	else if (f.has_dst && f.dst.first_answer_ns && sw->postcopy_end_ns &&
		 f.dst.first_answer_ns > f.dst.first_req_ns + GUEST_ANSWER_GRACE_NS)
		slow_guest(sw, &f, rm);
	else if (f.has_dst && (!f.dst.first_answer_ns ||
				f.dst.first_answer_ns > f.dst.first_req_ns + GUEST_ANSWER_GRACE_NS))
		destination_silent(&f, rm);
	else if (f.has_dst && went_silent(&run))
		silent_after_answer(&f, &run, rm);
	else if (f.has_dst && f.has_ctl &&
		 (!f.ctl.first_rep_ns || f.ctl.first_rep_ns > f.dst.first_rep_ns + f.interval))
		return_path(sw, &f, rm);
	else if (answers_slow(&rm->outage))
		slow_answers(sw, &f, rm);
	else if (!f.has_dst && prober_late(&f, rm))
		no_reply(&f, rm);
	else
		reachable(&f, rm);
}

/* Which probes measured it, when not ping's: said once, whatever the
 * branch. */
static void probe_line(struct report_migration *rm)
{
	const struct report_downtime *d = &rm->downtime;

	if (!d->probe || strcmp(d->probe, "arp"))
		return;
	if (d->icmp_unanswered.set)
		evidence(rm, "ARP probes (arping) measured the guest: it ignores ping, %lld echo "
			 "requests to it and none answered", (long long)d->icmp_unanswered.v);
	else
		evidence(rm, "ARP probes (arping) measured the guest");
}

void diagnose(const struct switchover *sw, struct report_migration *rm)
{
	judge(sw, rm);
	if (sw->end_ns)
		probe_line(rm);
}
