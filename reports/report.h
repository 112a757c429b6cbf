/*
 * report - the one model every output format renders (reports/render.h) and
 * that the JSON contract publishes (docs/report.schema.json, REPORT_SCHEMA).
 *
 * It is self-contained: analysis/ fills it (analysis/report_build.h), and a
 * renderer only formats what it holds, so every figure any output shows is
 * computed once, in analysis, and text, JSON, CSV and HTML cannot disagree.
 * Its shape follows the JSON document: a report holds inputs, the guest,
 * migrations and warnings; a migration holds its stream, downtime,
 * announcements, loss, switchover and verdict.
 *
 * Values the captures cannot give are `set == false` (JSON null, text
 * "n/a"), never 0. Times and durations are nanoseconds; absolute times are on
 * the reference clock (report_input.clock_offset_ns). Strings point into the
 * report or at static storage.
 *
 * Ownership: report_free() releases what analysis filled in (the migrations
 * and what each owns); the struct itself is the caller's.
 */
#ifndef MIGSCOPE_REPORT_H
#define MIGSCOPE_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define REPORT_SCHEMA "migscope.report.v2"

enum {
	REPORT_MAX_INPUTS = 4,   /* captures in one report (analysis/limits.h MAX_INPUTS) */
	REPORT_ADDR_LEN = 48,    /* a MAC or IP address as text, with its NUL */
	REPORT_NAME_LEN = 128,   /* a libvirt domain name (analysis/domain_marks.h) */
	REPORT_UUID_LEN = 37,
	REPORT_MAX_EVIDENCE = 8,
	REPORT_TEXT_LEN = 256,
	REPORT_MAX_WARNINGS = 16,
	REPORT_MAX_LIMIT_WARNINGS = 8,
};

struct opt_i64 {
	int64_t v;
	bool set;
};

static inline struct opt_i64 opt_some(int64_t v)
{
	return (struct opt_i64){ .v = v, .set = true };
}

static inline struct opt_i64 opt_none(void)
{
	return (struct opt_i64){ 0 };
}

/* A probe's phase, by its request time (design §9): before the stream,
 * pre-copy (the stream under way, the guest running on the source), pause
 * (the guest stopped: from its last frame at the source NIC to the resume),
 * post-copy (running on the destination while the stream still brings its
 * pages: resume to the stream's last data; empty in precopy), after. */
enum phase { PHASE_BEFORE, PHASE_PRECOPY, PHASE_PAUSE, PHASE_POSTCOPY, PHASE_AFTER, PHASE_COUNT };

enum report_announce_kind { REPORT_RARP, REPORT_GARP, REPORT_NA, REPORT_ANNOUNCE_KINDS };

/* ---- inputs and guest ------------------------------------------------- */

struct report_input {
	const char *path;
	const char *vantage;  /* src, dst, ctl, or the label given */
	char host[REPORT_ADDR_LEN]; /* the compute node's address, "" when none */
	uint64_t packets;
	struct opt_i64 first_ns, last_ns;
	/* how far this capture's clock runs ahead of the first migration's source
	 * capture, and +- how much (null: no packet shared with another capture) */
	struct opt_i64 clock_offset_ns, clock_uncertainty_ns;
	const char *link;     /* the link type's name */
};

struct report_guest {
	bool known;           /* a MAC was found or given */
	char mac[REPORT_ADDR_LEN], ipv4[REPORT_ADDR_LEN], ipv6[REPORT_ADDR_LEN]; /* "": unknown */
	/* the libvirt domain, from the hook's marks in a captures directory; "": unknown */
	char domain[REPORT_NAME_LEN], uuid[REPORT_UUID_LEN];
};

/* ---- one migration ---------------------------------------------------- */

/* The stream as one compute NIC's capture saw it, source -> destination. */
struct report_stream_view {
	bool present;
	bool exact;   /* bytes from a migscope capture's in-kernel counters */
	uint64_t packets, payload_bytes, wire_bytes, retx_segments, retx_bytes;
	/* the other direction (destination -> source: ACKs, the return channel) */
	uint64_t rev_packets, rev_payload_bytes, rev_wire_bytes;
};

/* How the migration travelled besides its mode (report_feature_name). */
enum report_feature {
	REPORT_MULTIFD = 1u << 0,   /* several channels (QEMU's multifd) */
	REPORT_TLS = 1u << 1,       /* TLS records on the migration's connections */
	REPORT_TUNNELLED = 1u << 2, /* inside libvirtd's connection (16509, 16514) */
	REPORT_NBD = 1u << 3,       /* a disk copied beside the memory (NBD) */
	REPORT_PROXIED = 1u << 4,   /* found by its shape off every known port (a proxy) */
	REPORT_FEATURES = 5,
};

/* One TCP connection of the migration. */
struct report_channel {
	const char *kind;           /* "main", "multifd", "nbd", "tunnel", "proxy" */
	uint16_t src_port, dst_port; /* the source's end, the destination's */
	struct opt_i64 out_bytes;   /* payload source -> destination at the source NIC */
	struct opt_i64 in_bytes;    /* the same at the destination NIC */
	struct opt_i64 reverse_bytes; /* destination -> source at the source NIC (else dst) */
};

/* After the resume, while the guest runs on the destination and faults in
 * the pages the stream has not brought yet: the guest's brownout. */
struct report_postcopy {
	struct opt_i64 duration_ns;        /* resume to the stream's last data */
	struct opt_i64 bytes_after_resume; /* payload the source sent after it */
	struct opt_i64 page_requests;      /* the return path's, where readable */
	struct opt_i64 first_request_ns, last_request_ns;
};

enum { REPORT_MAX_MODE_EVIDENCE = 4 };

struct report_stream {
	int nflows;
	char detected_by[48];    /* how the flows were recognised: "port,qevm" */
	const char *mode;        /* "precopy" or "postcopy"; NULL: no stream end to tell */
	uint32_t features;       /* enum report_feature */
	char mode_evidence[REPORT_MAX_MODE_EVIDENCE][REPORT_TEXT_LEN];
	int nmode_evidence;
	struct report_channel *channels; /* owned, in order of their first packet */
	int nchannels;
	bool postcopy_set;       /* mode is postcopy: the block below holds */
	struct report_postcopy postcopy;
	struct opt_i64 start_ns, end_ns, migration_time_ns; /* first packet, last data */
	struct report_stream_view at_src, at_dst;
	const char *bytes_source; /* "counters", "packets" or "mixed"; NULL: no view */
	struct opt_i64 retx_segments, retx_bytes; /* the sender's view when captured */
	const char *retx_vantage; /* "src", "dst" or "tracer" (the source's TCP stack) */
	struct opt_i64 avg_bps, peak_bps;
};

struct report_downtime {
	const char *probe;         /* what measured the gap and the loss: "icmp" (echo
				    * probes), "tcp" (the guest's own requests), NULL: none */
	const char *probe_vantage; /* "ctl" (the prober's capture) or "nic" */
	uint16_t probe_port;       /* tcp: the guest's port of the first answer after the resume */
	struct opt_i64 icmp_unanswered; /* tcp: the echo requests to the guest, none answered */
	struct opt_i64 probe_gap_ns, gap_start_ns, gap_end_ns, probe_interval_ns;
	struct opt_i64 guest_silence_ns, silence_start_ns, silence_end_ns;
};

struct report_announce {
	int64_t ts_ns;
	uint8_t kind;          /* enum report_announce_kind */
	const char *vantage;
	const char *input;
};

struct report_announces {
	struct report_announce *seen; /* owned: every sighting at every capture, in time order */
	int nseen;
	/* how many of each kind were sent: the count at the capture that saw
	 * the most (each is seen once per capture on its way) */
	int count[REPORT_ANNOUNCE_KINDS];
	struct opt_i64 first_after_end_ns;
};

struct report_phase_loss {
	struct opt_i64 sent, lost, rtt_p50_ns, rtt_p99_ns;
};

struct report_loss {
	struct opt_i64 probes_sent, probes_answered, lost_probes;
	/* where each phase begins (null: not known, or the phase is empty) */
	struct opt_i64 phase_start_ns[PHASE_COUNT];
	struct report_phase_loss phase[PHASE_COUNT];
};

/* --- switchover: timeline, announce schedule --------------------------------
 * Filled by analysis/timeline.c and announce_sched.c. Times are on the
 * reference clock; the relative ones count from t = 0: the resume, else the
 * stream's last data (report_switchover.t0_event). */
enum {
	REPORT_TIMELINE_EVENTS = 8,
	REPORT_MAX_BURSTS = 4,  /* announce bursts detailed: the migration's, announce-self... */
	REPORT_MAX_ROUNDS = 16, /* QEMU's announce-rounds taken (--announce) */
};

/* Timeline event names (JSON `timeline[].event`), in their canonical order. */
#define TL_GUEST_LAST_SRC "guest_last_at_src"
#define TL_STREAM_END "stream_end"
#define TL_RESUME "resume"
#define TL_FIRST_ANNOUNCE_PROBER "first_announce_at_prober"
#define TL_LAST_REQUEST_SRC "last_request_at_src"
#define TL_FIRST_REQUEST_DST "first_request_at_dst"
#define TL_FIRST_REPLY_DST "first_reply_at_dst"
#define TL_FIRST_REPLY_PROBER "first_reply_at_prober"

/* QEMU's announce parameters (migrate-set-parameters announce-*), in ms. */
struct announce_params {
	int initial_ms, max_ms, rounds, step_ms;
};

enum timeline_state { TL_SEEN, TL_NO_CAPTURE, TL_NOT_SEEN };

struct report_timeline_event {
	const char *event;   /* static: TL_STREAM_END, TL_RESUME, ... */
	const char *vantage; /* the capture that gives it: src, dst, ctl */
	int input;           /* that capture, -1 when there is none */
	uint8_t state;       /* enum timeline_state */
	int64_t ts_ns;       /* when TL_SEEN */
	struct opt_i64 t_ns;          /* when TL_SEEN: since t = 0 */
	struct opt_i64 since_prev_ns; /* since the seen event before it */
};

struct report_announce_round {
	int64_t expected_ns;                 /* due by the schedule, from the round before it */
	struct opt_i64 late_ns;              /* seen at the anchor this much after it was due */
	int64_t seen_ns[REPORT_MAX_INPUTS];  /* per capture, 0: not seen there */
};

struct report_announce_burst {
	int nrounds;
	int64_t start_ns, t_ns;              /* round 0 at the anchor; since the timeline's t = 0 */
	struct report_announce_round round[REPORT_MAX_ROUNDS];
	int seen[REPORT_MAX_INPUTS];         /* rounds each capture saw */
	uint32_t missing[REPORT_MAX_INPUTS]; /* bit k: round k not seen at that capture */
	uint32_t not_at_prober;  /* bit k: round k left the anchor and reached no prober capture */
};

struct report_announce_sched {
	bool checked;                  /* some RARP to check, or rounds expected */
	struct announce_params params;
	int64_t round_offset_ns[REPORT_MAX_ROUNDS]; /* round k's time after round 0 */
	int64_t tolerance_ns;
	int anchor;                    /* capture the bursts were found at, -1: none */
	struct report_announce_burst burst[REPORT_MAX_BURSTS];
	int nbursts;
	uint32_t more_bursts;          /* beyond REPORT_MAX_BURSTS, counted only */
	uint32_t unmatched[REPORT_MAX_INPUTS]; /* RARPs that fit no round */
	/* the guest kernel's own GARP/NA (virtio-net guest announce), at `guest_input` */
	int guest_input;
	uint32_t guest_garps, guest_nas;
	struct opt_i64 guest_garp_after_resume_ns, guest_na_after_resume_ns;
};

struct report_switchover {
	const char *vantage[REPORT_MAX_INPUTS]; /* each capture's role in this migration */
	int64_t t0_ns;                     /* the timeline's t = 0 */
	const char *t0_event;              /* TL_RESUME, else TL_STREAM_END */
	struct report_timeline_event timeline[REPORT_TIMELINE_EVENTS];
	int ntimeline;                     /* seen events first, in time order */
	struct report_announce_sched sched;
	struct opt_i64 completed;          /* 0/1: the guest resumed on the destination */
	/* the first reply leaving the destination NIC to a request that reached
	 * it after the resume (a reply to one queued in the guest across the
	 * switchover comes first, and says nothing of a guest still faulting) */
	struct opt_i64 first_answer_dst_ns;
};
/* --- end of the switchover block ------------------------------------------ */

/* What the hypervisor recorded of the migration (analysis/hypervisor.h),
 * read from files given beside the captures; its stamps are the hypervisor
 * host's wall clock. */
struct report_hypervisor {
	char sources[64];        /* the kinds of file read: "query-migrate,qmp-events" */
	char status[24];         /* QEMU's: "completed", "failed", ...; "" when not given */
	struct opt_i64 total_time_ns, downtime_ns, setup_time_ns;
	struct opt_i64 postcopy_requests, postcopy_blocktime_ns;
	struct opt_i64 stop_ns;          /* the source's STOP event */
	struct opt_i64 resume_ns;        /* the destination's RESUME after it */
	struct opt_i64 postcopy_start_ns; /* MIGRATION status postcopy-active */
	struct opt_i64 completed_ns;     /* MIGRATION status completed */
};

/* The outage split into its parts, each from the vantage that shows it
 * (design §9), the hypervisor's figures beside the network's. */
/* How long the guest took to answer at the NIC of the host it ran on: each
 * echo request's arrival to its reply's departure at that one capture (the
 * guest and its host's datapath, without the network or clock offsets). */
struct report_turnaround {
	uint32_t answers;                 /* 0: nothing measured (null) */
	const char *vantage;              /* "src" or "dst" */
	int64_t p50_ns, p90_ns, max_ns;   /* nearest rank */
	int64_t slow_above_ns;            /* 0: not judged */
	uint32_t slow;                    /* answers slower than that */
	int64_t first_slow_ns;            /* the first slow request's arrival */
	int64_t last_slow_ns;             /* the last slow answer's departure */
};

struct report_outage {
	struct opt_i64 pause_ns;          /* network: the guest's last frame at src to the resume */
	struct opt_i64 pause_hypervisor_ns; /* QEMU: STOP to RESUME, else its downtime figure */
	struct opt_i64 announce_delay_ns; /* QEMU's RESUME to its first RARP at the dst NIC */
	struct opt_i64 reconvergence_ns;  /* the resume to the first request at the dst NIC */
	struct opt_i64 guest_answer_ns;   /* that request to the first reply leaving the dst NIC */
	struct opt_i64 return_ns;         /* that reply to the first at the prober */
	struct opt_i64 total_ns;          /* what the prober saw: the probe gap */
	struct report_turnaround turnaround_before; /* at src, before the stream */
	struct report_turnaround turnaround_after;  /* at dst, from the resume */
};

/* The diagnosis (analysis/diagnose.h): a code with its evidence. */
struct report_verdict {
	const char *code;                  /* "ok", "stale_forwarding", "slow_guest", ... */
	char summary[REPORT_TEXT_LEN];
	char evidence[REPORT_MAX_EVIDENCE][REPORT_TEXT_LEN];
	int nevidence;
	struct opt_i64 resume_ns;          /* the verdict's reference time */
	const char *resume_basis;          /* "rarp_at_dst", "rarp_elsewhere", "announce_at_dst", "stream_end" */
	struct opt_i64 duration_ns;        /* how long the diagnosed fault lasted; null: to the end */
	struct opt_i64 reconvergence_ns;   /* resume to the first reply at the prober */
};

/* ---- what the guest's own users felt (analysis/guest_traffic.h) -------- */
enum { REPORT_MAX_GUEST_FLOWS = 64, REPORT_BACKOFF = 8 };

/* One TCP or UDP flow of the guest open across the switchover. A stall is
 * the direction's longest gap in new sequence space (any datagram for UDP)
 * holding the resume: its last segment before to its first after. */
struct report_guest_flow {
	const char *proto;                    /* "tcp", "udp" */
	char client[REPORT_ADDR_LEN], server[REPORT_ADDR_LEN];
	uint16_t client_port, server_port;
	bool guest_is_server;
	struct opt_i64 stall_to_guest_ns, stall_from_guest_ns; /* null: none across it */
	struct opt_i64 stall_start_ns;        /* where the longer of the two began */
	uint32_t retransmitted_segments;      /* both ways, the most any capture saw */
	uint32_t zero_windows_from_guest;     /* segments advertising a zero window */
	uint32_t zero_windows_to_guest;
	/* the longest run of one segment's sendings: the gaps between them
	 * (the RTO backoff: 200, 400, 800 ms ...) */
	int64_t backoff_ns[REPORT_BACKOFF];
	int nbackoff;
	bool reset;                           /* an RST either way */
	bool survived;                        /* progress after the resume, no RST */
};

struct report_responses {
	bool set;                     /* a request began in this phase */
	uint32_t requests, failed, over_sla;
	struct opt_i64 p50_ns, p90_ns, p99_ns; /* of the answered ones */
};

struct report_guest_traffic {
	int flows;                    /* open across the switchover (listed: the worst) */
	int stalled, reset, survived; /* stalled: its stall at least the --sla, else 1 s */
	int zero_window;              /* flows that advertised a zero window either way */
	struct opt_i64 stall_p50_ns, stall_p99_ns, stall_max_ns;
	struct report_guest_flow *list; /* owned; the longest stall first */
	int nlist;
	struct report_responses responses[PHASE_COUNT];
	struct opt_i64 sla_ns;        /* --sla */
	/* the requests as probes: the last answer at or before the resume and
	 * the first after it (at the prober), requests after the resume, and
	 * the guest's port of the first answer after it */
	struct opt_i64 last_answer_before_ns, first_answer_after_ns;
	uint32_t requests_after;
	uint16_t answer_port;
};

/* ---- time series for the plots (reports/render_html.c) ----------------
 * Bounded copies made by analysis (analysis/report_plot.h), owned by their
 * migration and freed by report_free(). */
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
	struct report_guest guest; /* the guest it moved (an evacuation moves many) */
	char source[REPORT_ADDR_LEN], destination[REPORT_ADDR_LEN];
	int src_input, dst_input; /* -1: no capture at that NIC */
	struct report_stream stream;
	struct report_downtime downtime;
	struct report_announces announce;
	struct report_loss loss;
	struct opt_i64 reachable_after; /* 0/1 */
	struct report_switchover sw;
	struct report_verdict verdict;
	bool hypervisor_set;      /* a --hypervisor file described this migration */
	struct report_hypervisor hypervisor;
	struct report_outage outage;
	struct report_guest_traffic traffic;
	struct report_plot plot;
};

/* Many migrations in one set of captures (a drained host, several guests):
 * the whole at a glance (analysis/evacuation.h). A guest's downtime is its
 * probe gap, else its guest silence. */
enum { REPORT_MAX_VERDICT_KINDS = 16 };

struct report_evacuation {
	bool set;                 /* two or more migrations */
	int guests;               /* distinct guests among them */
	int max_concurrent;       /* streams under way at one moment, at most */
	int measured;             /* migrations with a downtime */
	struct opt_i64 worst_ns, median_ns, p95_ns;
	uint64_t total_bytes;     /* stream payload sent by the sources */
	struct opt_i64 start_ns, end_ns, duration_ns; /* first stream's start to last one's end */
	struct {
		const char *code;
		int count;
	} verdicts[REPORT_MAX_VERDICT_KINDS];
	int nverdicts;
	int *worst_first;         /* owned: migration indexes, the longest downtime first */
};

struct report {
	struct report_input inputs[REPORT_MAX_INPUTS];
	int ninputs;
	struct report_guest guest;
	struct report_migration *migrations; /* owned */
	int nmigrations;
	struct report_evacuation evacuation;
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
/* "multifd", "tls", "tunnelled", "nbd", "proxied": feature bit k's name */
const char *report_feature_name(int k);
/* The CLI's "findings" exit code: any migration diagnosed with a fault
 * (no_announce, stale_forwarding, destination_silent, return_path), even one
 * that recovered, or whose guest never answered again. */
bool report_has_findings(const struct report *r);
/* A migration's downtime as the evacuation summary weighs it: the probe
 * gap, else the guest's silence. */
struct opt_i64 report_downtime(const struct report_migration *m);

#endif
