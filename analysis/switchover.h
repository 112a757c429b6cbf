/*
 * switchover - the evidence of one migration's switchover that the timeline
 * (timeline.h), the announce check (announce_sched.h) and the diagnosis
 * (diagnose.h) read, and the questions they ask of it: which captures saw
 * which echo probes and announcements, and when.
 *
 * report_build fills one per migration. Every time is on the reference clock:
 * the analyzer subtracted each capture's clock offset before recording
 * anything, so times from different captures compare directly.
 *
 * Ownership: the probe and announcement arrays are borrowed from the guest
 * set, which must outlive the struct. Nothing here allocates.
 */
#ifndef MIGSCOPE_SWITCHOVER_H
#define MIGSCOPE_SWITCHOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/guest.h"
#include "analysis/limits.h"
#include "reports/report.h"

struct switchover {
	int ninputs;
	int src, dst;                 /* the compute NICs' captures, -1: not captured */
	uint32_t prober;              /* mask of the captures at the prober (ctl), 0: none */
	const char *vantage[MAX_INPUTS]; /* each capture's role: src, dst, ctl, other */
	int64_t start_ns, end_ns;     /* the stream's first packet and last data; 0: none */
	int64_t resume_ns;            /* the anchor of every switchover figure (switchover_resume) */
	const char *resume_basis;     /* how it was found: see switchover_resume */
	int64_t window_lo, window_hi; /* this migration's share of the captures */
	int64_t probe_interval_ns;    /* median request spacing, 0: unknown */
	int64_t guest_last_src_ns;    /* the guest's last frame at src before the resume, 0: none */
	int64_t postcopy_end_ns;      /* the stream's last data when it ran on after the resume
				       * (postcopy), 0: precopy */
	int64_t page_requests;        /* the return path's, in postcopy where readable */
	int64_t blocktime_ns;         /* QEMU's postcopy-blocktime when given, 0: not */
	const struct probe *probes;   /* every probe, in request order */
	uint32_t nprobes;
	int target;                   /* the guest's echo target, -1: none */
	const struct announce *announces; /* the guest's, every capture */
	uint32_t nannounces;
};

static inline uint32_t input_bit(int input)
{
	return input >= 0 ? 1u << input : 0;
}

/* What captures in `mask` saw of the probes to the guest after `from`
 * (exclusive), within the migration's window: the requests they saw then,
 * and the replies they saw then, whenever and wherever the request was seen
 * (a request queued in the guest across the switchover is answered from the
 * destination). */
struct probe_tally {
	uint32_t requests;           /* requests seen */
	uint32_t replies;            /* replies seen */
	uint32_t answered;           /* requests seen whose reply was seen too */
	int64_t first_req_ns, last_req_ns; /* 0 when no request */
	int64_t first_rep_ns;        /* 0: no reply */
	int64_t first_answer_ns;     /* the first reply to a request seen, 0: none */
	uint16_t first_seq, last_seq; /* of the first and last request */
};
void switchover_tally(const struct switchover *sw, uint32_t mask, int64_t from,
		      struct probe_tally *out);

/* The longest run of requests that captures in `mask` saw after `from`, in
 * request order, none answered anywhere, after the guest had answered one
 * of them: a guest that answered after the resume and then fell silent. */
struct silent_run {
	uint32_t requests;            /* 0: none */
	int64_t first_req_ns, last_req_ns;
	uint16_t first_seq, last_seq;
	int64_t answered_again_ns;    /* the next request that was answered, 0: none after */
	int64_t first_answered_ns;    /* the first answered request before the run */
};
void switchover_silent_run(const struct switchover *sw, uint32_t mask, int64_t from,
			   struct silent_run *out);

/* Requests delivered to the destination NIC (capture dst) from the stream's
 * start to the resume and never to the source NIC (capture src, when there
 * is one; a flood reaches both): the network moved before the guest. */
struct early_tally {
	uint32_t requests;
	int64_t first_ns, last_ns;
	uint16_t first_seq, last_seq;
};
void switchover_early(const struct switchover *sw, struct early_tally *out);

/* The guest's turnaround at capture `input` (report_turnaround): requests
 * that arrived there in [from, to) and whose replies left there. Answers
 * slower than slow_above_ns (0: none judged) are counted, with the span from
 * the first one's request to the last one's reply. 0, or -ENOMEM. */
int switchover_turnaround(const struct switchover *sw, int input, int64_t from, int64_t to,
			  int64_t slow_above_ns, struct report_turnaround *out);

/* Replies that a capture in `seen` saw after `from` and none in `missed`. */
uint32_t switchover_replies_missed(const struct switchover *sw, uint32_t seen, uint32_t missed,
				   int64_t from);

/* The guest's announcements seen by captures in `mask` in [from, window end),
 * by kind (enum announce_kind), and the first one. */
struct announce_tally {
	uint32_t n[3];
	int64_t first_ns; /* 0: none */
};
void switchover_announces(const struct switchover *sw, uint32_t mask, int64_t from,
			  struct announce_tally *out);

/* The resume, the anchor of every switchover figure (design §9): QEMU's
 * first RARP leaving the destination NIC (it announces the guest the moment
 * it runs there: round 0 of its announce), else the first RARP any capture
 * saw (a link delay later), else the guest's own first GARP or NA leaving
 * the destination NIC (QEMU's announce switched off, the guest announcing
 * itself: later than the resume by its network stack's reaction), else the
 * stream's last data (in precopy the guest resumes a few ms after it; in
 * postcopy the stream runs on for seconds after the resume, so the last
 * data never stands in when an announcement is there). Fills *first with
 * that announcement (NULL: none) and *basis with "rarp_at_dst",
 * "rarp_elsewhere", "announce_at_dst" or "stream_end". Needs the stream's
 * start, end and window, and the announcements. */
int64_t switchover_resume(const struct switchover *sw, const struct announce **first,
			  const char **basis);


#endif
