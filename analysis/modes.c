#include "analysis/modes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/units.h"

static void mode_evidence(struct report_migration *rm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void mode_evidence(struct report_migration *rm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_list_add(rm->stream.mode_evidence, &rm->stream.nmode_evidence,
		      REPORT_MAX_MODE_EVIDENCE, fmt, ap);
	va_end(ap);
}

/* "57.9 MB", "812 kB", "3 B" */
static const char *size_text(uint64_t b, char *buf, size_t len)
{
	if (b >= 1000000)
		snprintf(buf, len, "%.1f MB", (double)b / 1e6);
	else if (b >= 1000)
		snprintf(buf, len, "%.0f kB", (double)b / 1e3);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	return buf;
}


/* A connection's kind: by its magic where the capture shows one; under TLS
 * (or with the first bytes cut) by its order, QEMU opening the main channel
 * first and the multifd channels after it. */
static const char *channel_kind(const struct mig_channel *ch, int index, uint32_t detect_all)
{
	if (ch->detect & DETECT_NBD)
		return "nbd";
	if (ch->detect & DETECT_MULTIFD)
		return "multifd";
	if (ch->detect & DETECT_QEVM)
		return "main";
	if (ch->detect & DETECT_TUNNEL)
		return "tunnel";
	if (ch->detect & DETECT_SHAPE)
		return "proxy";
	if (detect_all & DETECT_QEVM)
		return "multifd"; /* the main channel showed its magic; this one did not */
	return index == 0 ? "main" : "multifd";
}

static int fill_channels(const struct mode_scope *s, struct report_migration *rm)
{
	const struct mig_stream *ms = s->ms;
	int ref = s->src >= 0 ? s->src : s->dst;

	rm->stream.channels = calloc((size_t)(ms->nchannels ? ms->nchannels : 1),
				     sizeof(*rm->stream.channels));
	if (!rm->stream.channels)
		return -ENOMEM;
	for (int k = 0; k < ms->nchannels; k++) {
		const struct mig_channel *ch = &ms->channels[k];
		struct report_channel *rc = &rm->stream.channels[rm->stream.nchannels++];

		rc->kind = channel_kind(ch, k, ms->detect);
		rc->src_port = ch->src.port;
		rc->dst_port = ch->dst.port;
		if (s->src >= 0 && ch->view[s->src].seen)
			rc->out_bytes = opt_some((int64_t)ch->view[s->src].out_bytes);
		if (s->dst >= 0 && ch->view[s->dst].seen)
			rc->in_bytes = opt_some((int64_t)ch->view[s->dst].out_bytes);
		if (ref >= 0 && ch->view[ref].seen)
			rc->reverse_bytes = opt_some((int64_t)ch->view[ref].rev_bytes);
	}
	return 0;
}

static void fill_features(const struct mode_scope *s, struct report_migration *rm)
{
	const struct mig_stream *ms = s->ms;
	int multifd = 0;

	for (int k = 0; k < rm->stream.nchannels; k++)
		multifd += !strcmp(rm->stream.channels[k].kind, "multifd");
	if (multifd) {
		rm->stream.features |= REPORT_MULTIFD;
		if (!(ms->detect & DETECT_MULTIFD))
			mode_evidence(rm, "multifd: %d connections of one migration besides the main "
				      "channel, their magic hidden by TLS or cut by the capture",
				      multifd);
	}
	if (ms->detect & DETECT_TLS) {
		rm->stream.features |= REPORT_TLS;
		mode_evidence(rm, "TLS: the migration's connections open with TLS records, not "
			      "QEMU's magic");
	}
	if (ms->detect & DETECT_TUNNEL) {
		rm->stream.features |= REPORT_TUNNELLED;
		mode_evidence(rm, "tunnelled: the stream rides libvirtd's connection (port 16509 "
			      "or 16514)");
	}
	if (ms->detect & DETECT_NBD)
		rm->stream.features |= REPORT_NBD;
	if (ms->detect & DETECT_SHAPE) {
		rm->stream.features |= REPORT_PROXIED;
		mode_evidence(rm, "proxied: found by its shape (bulk one-way TCP between the two "
			      "hosts up to the guest's announcements) on no migration port and "
			      "without QEMU's magic");
	}
}

/* The return path's page requests, over the migration's connections: as
 * many as the capture that saw the most (another may have lost some), timed
 * where they leave, at the destination NIC, as every figure is timed at the
 * NIC its frame leaves; without that capture, at the one that saw the most.
 * Never by the captures' order on the command line: the source NIC sees the
 * same requests a link later. */
static void page_requests(const struct mode_scope *s, struct report_postcopy *pc)
{
	const struct mig_stream *ms = s->ms;
	int64_t n = 0, first = 0, last = 0;

	for (int k = 0; k < ms->nchannels; k++) {
		const struct mig_channel *ch = &ms->channels[k];
		int64_t f = ch->first_request_ns, l = ch->last_request_ns;

		if (!ch->page_requests)
			continue;
		n += ch->page_requests;
		if (s->dst >= 0 && ch->view[s->dst].page_requests) {
			f = ch->view[s->dst].first_request_ns;
			l = ch->view[s->dst].last_request_ns;
		}
		if (!first || f < first)
			first = f;
		if (l > last)
			last = l;
	}
	pc->page_requests = opt_some(n);
	if (n) {
		pc->first_request_ns = opt_some(first);
		pc->last_request_ns = opt_some(last);
	}
}

static void fill_mode(const struct mode_scope *s, struct report_migration *rm)
{
	const struct mig_stream *ms = s->ms;
	int ref = s->src >= 0 ? s->src : s->dst;
	int64_t end = rm->stream.end_ns.v, after = -1;
	struct report_postcopy pc = { 0 };
	char a[32], b[32];

	if (!rm->stream.end_ns.set || ref < 0)
		return;
	if (strcmp(s->resume_basis, "stream_end"))
		after = mig_stream_sent_after(ms, ref, s->resume_ns);
	page_requests(s, &pc);
	if (after >= POSTCOPY_MIN_BYTES || (pc.page_requests.v && end > s->resume_ns)) {
		rm->stream.mode = "postcopy";
		pc.duration_ns = opt_some(end - s->resume_ns);
		pc.bytes_after_resume = opt_some(after >= 0 ? after : 0);
		rm->stream.postcopy = pc;
		rm->stream.postcopy_set = true;
		mode_evidence(rm, "the source sent %s in the %s after the resume (%s)",
			      size_text((uint64_t)(after >= 0 ? after : 0), a, sizeof(a)),
			      format_duration(end - s->resume_ns, b, sizeof(b)),
			      !strcmp(s->resume_basis, "rarp_at_dst")
				      ? "QEMU's first RARP leaving the destination NIC"
			      : !strcmp(s->resume_basis, "announce_at_dst")
				      ? "the guest's first announcement leaving the destination NIC"
				      : "QEMU's first RARP in the captures");
		if (pc.page_requests.v)
			mode_evidence(rm, "%lld page requests on the return path (the "
				      "destination faulting pages in)", (long long)pc.page_requests.v);
		return;
	}
	rm->stream.mode = "precopy";
	if (!strcmp(s->resume_basis, "stream_end"))
		mode_evidence(rm, "no RARP marks a resume; the stream's last data stands "
			      "for it");
	else if (end <= s->resume_ns)
		mode_evidence(rm, "the stream's last data left %s before the resume",
			      format_duration(s->resume_ns - end, a, sizeof(a)));
	else
		mode_evidence(rm, "%s of the stream after the resume, too little for "
			      "postcopy pages", size_text((uint64_t)(after >= 0 ? after : 0), a,
							  sizeof(a)));
}

int modes_fill(const struct mode_scope *s, struct report_migration *rm)
{
	int rc = fill_channels(s, rm);

	if (rc)
		return rc;
	fill_mode(s, rm);
	fill_features(s, rm);
	return 0;
}
