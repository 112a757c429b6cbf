/*
 * report - the one model every output format renders (reports/). Values that
 * the captures cannot give are `set == false` and render as null, never 0.
 * Durations and times are in nanoseconds here; renderers choose units.
 *
 * Ownership: report_free() releases what report_build()/analyze() filled in;
 * strings point into the report or at static storage.
 */
#ifndef MIGSCOPE_REPORT_H
#define MIGSCOPE_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "analysis/addr.h"
#include "analysis/limits.h"

#define REPORT_SCHEMA "migscope.report.v1"

enum { REPORT_MAX_EVIDENCE = 8, REPORT_TEXT_LEN = 256, REPORT_MAX_WARNINGS = 16,
       REPORT_MAX_LIMIT_WARNINGS = 8 };

struct opt_i64 {
	int64_t v;
	bool set;
};

static inline struct opt_i64 opt_some(int64_t v)
{
	return (struct opt_i64){ .v = v, .set = true };
}

enum phase { PHASE_BEFORE, PHASE_PRECOPY, PHASE_BLACKOUT, PHASE_AFTER, PHASE_COUNT };

struct report_input {
	const char *path;
	const char *vantage;  /* src, dst, ctl, or the label given */
	char host[ADDR_STR_LEN];
	uint64_t packets;
	struct opt_i64 first_ns, last_ns;
	/* how far this capture's clock runs ahead of the first migration's source
	 * capture, and +- how much (null: no packet shared with another capture) */
	struct opt_i64 clock_offset_ns, clock_uncertainty_ns;
	const char *link;
};

struct report_announce {
	int64_t ts_ns;
	uint8_t kind;          /* enum announce_kind */
	const char *vantage;
	const char *input;
};

struct report_stream_view {
	bool present;
	bool exact;   /* bytes from a migscope capture's in-kernel counters */
	uint64_t packets, payload_bytes, wire_bytes, retx_segments, retx_bytes;
	/* the other direction (destination -> source: ACKs, the return channel) */
	uint64_t rev_packets, rev_payload_bytes, rev_wire_bytes;
};

/* --- switchover: timeline, announce schedule, diagnosis -------------------
 * Filled by analysis/timeline.c, announce_sched.c and diagnose.c; kept in one
 * block of its own. Times are on the reference clock (see report_input). */
enum {
	REPORT_TIMELINE_EVENTS = 8,
	REPORT_MAX_BURSTS = 4,  /* announce bursts detailed: the migration's, announce-self... */
	REPORT_MAX_ROUNDS = 16, /* QEMU's announce-rounds taken (--announce) */
};

/* QEMU's announce parameters (migrate-set-parameters announce-*), in ms. */
struct announce_params {
	int initial_ms, max_ms, rounds, step_ms;
};

enum timeline_state { TL_SEEN, TL_NO_CAPTURE, TL_NOT_SEEN };

struct report_timeline_event {
	const char *event;   /* static: "stream_end", "resume", ... */
	const char *vantage; /* the capture that gives it: src, dst, ctl */
	int input;           /* that capture, -1 when there is none */
	uint8_t state;       /* enum timeline_state */
	int64_t ts_ns;       /* when TL_SEEN */
};

struct report_announce_round {
	int64_t expected_ns;           /* by the schedule, from the rounds seen at the anchor */
	int64_t seen_ns[MAX_INPUTS];   /* per capture, 0: not seen there */
};

struct report_announce_burst {
	int nrounds;
	struct report_announce_round round[REPORT_MAX_ROUNDS];
};

struct report_announce_sched {
	bool checked;                  /* some RARP to check, or rounds expected */
	struct announce_params params;
	int64_t tolerance_ns;
	int anchor;                    /* capture the bursts were found at, -1: none */
	struct report_announce_burst burst[REPORT_MAX_BURSTS];
	int nbursts;
	uint32_t more_bursts;          /* beyond REPORT_MAX_BURSTS, counted only */
	uint32_t unmatched[MAX_INPUTS];/* RARPs that fit no round */
	/* the guest kernel's own GARP/NA (virtio-net guest announce), at `guest_input` */
	int guest_input;
	uint32_t guest_garps, guest_nas;
	struct opt_i64 guest_garp_after_resume_ns, guest_na_after_resume_ns;
};

struct report_switchover {
	const char *vantage[MAX_INPUTS];   /* each capture's role in this migration */
	struct report_timeline_event timeline[REPORT_TIMELINE_EVENTS];
	int ntimeline;                     /* seen events first, in time order */
	struct report_announce_sched sched;
	struct opt_i64 completed;          /* 0/1: the guest resumed on the destination */
	struct opt_i64 resume_ns;          /* the verdict's reference time */
	const char *resume_basis;          /* "rarp_at_dst", "rarp_elsewhere", "stream_end" */
	struct opt_i64 duration_ns;        /* how long the diagnosed fault lasted; null: to the end */
	struct opt_i64 reconvergence_ns;   /* resume to the first reply at the prober */
};
/* --- end of the switchover block ------------------------------------------ */

/* ---- time series for the plots (reports/render_html.c) ----------------
 * Bounded copies made by report_build (analysis/report_plot.h), owned by
 * their migration and freed by report_free(). */
enum { REPORT_MAX_PROBE_POINTS = 4096 };
#define REPORT_RTT_LOST INT64_C(-1)

struct report_probe_point {
	int64_t req_ns; /* the request, at the probe vantage */
	int64_t rtt_ns; /* REPORT_RTT_LOST: never answered */
};

struct report_rate_bin {
	int64_t start_ns;
	uint64_t bytes;         /* stream payload sent, retransmissions included */
	uint32_t retx_segments;
};

struct report_plot {
	struct report_probe_point *probes; /* request order; owned */
	int nprobes;
	bool probes_decimated;  /* fewer points than probes: every lost one, extremes */
	struct report_rate_bin *rate;      /* owned */
	int nrate;
	int64_t rate_bin_ns;    /* 100 ms, more for streams over 102 s */
	const char *rate_vantage; /* "src" or "dst": the NIC the bins were counted at */
};
/* ---- end of the time series ------------------------------------------ */

struct report_migration {
	char source[ADDR_STR_LEN], destination[ADDR_STR_LEN];
	int src_input, dst_input; /* -1: no capture at that NIC */
	int nflows;
	uint32_t detect;          /* enum flow_detect */
	/* stream */
	struct opt_i64 start_ns, end_ns, migration_time_ns;
	struct report_stream_view at_src, at_dst;
	struct opt_i64 retx_segments, retx_bytes; /* sender's view when captured */
	const char *retx_vantage;
	struct opt_i64 avg_bps, peak_bps;
	/* downtime */
	const char *probe_vantage;
	struct opt_i64 probe_gap_ns, gap_start_ns, gap_end_ns, probe_interval_ns;
	struct opt_i64 guest_silence_ns, silence_start_ns, silence_end_ns;
	/* announce */
	struct report_announce *announces; /* owned */
	int nannounces;
	struct opt_i64 first_announce_after_end_ns;
	/* loss */
	struct opt_i64 probes_sent, probes_answered, lost_probes;
	struct opt_i64 phase_sent[PHASE_COUNT], phase_lost[PHASE_COUNT];
	struct opt_i64 rtt_p50_ns[PHASE_COUNT], rtt_p99_ns[PHASE_COUNT];
	/* switchover (analysis/timeline.h, announce_sched.h, diagnose.h) */
	struct report_switchover sw;
	/* outcome */
	struct opt_i64 reachable_after; /* 0/1 */
	const char *verdict;
	char summary[REPORT_TEXT_LEN];
	char evidence[REPORT_MAX_EVIDENCE][REPORT_TEXT_LEN];
	int nevidence;
	struct report_plot plot; /* time series for the plots; owned */
};

struct report {
	struct report_input inputs[MAX_INPUTS];
	int ninputs;
	bool guest_known;
	char guest_mac[ADDR_STR_LEN], guest_ip4[ADDR_STR_LEN], guest_ip6[ADDR_STR_LEN];
	struct report_migration *migrations; /* owned */
	int nmigrations;
	/* The caps reached (report_warn_limit) first, then the other warnings;
	 * when those do not all fit, the last line says how many were left out. */
	char warnings[REPORT_MAX_WARNINGS][REPORT_TEXT_LEN];
	int nwarnings;
	int nlimit_warnings;    /* warnings[0..nlimit_warnings): caps reached */
	uint32_t more_warnings; /* other warnings left out (0: none) */
};

/* A warning, kept while there is room; past it, counted in more_warnings. */
void report_warn(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A cap of analysis/limits.h was reached: the report is incomplete. Never
 * left out: it takes the place of another warning when the list is full
 * (REPORT_MAX_LIMIT_WARNINGS of them; the analyzer raises at most one per
 * table and one per capture). */
void report_warn_limit(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends a formatted line to a fixed list of REPORT_TEXT_LEN lines; a full
 * list keeps its first lines. */
void text_list_add(char (*lines)[REPORT_TEXT_LEN], int *n, int max, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
void report_free(struct report *r);
const char *phase_name(enum phase p);
/* The CLI's "findings" exit code: any migration diagnosed with a fault
 * (no_announce, stale_forwarding, destination_silent, return_path), even one
 * that recovered, or whose guest never answered again. */
bool report_has_findings(const struct report *r);

#endif
