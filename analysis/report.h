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

enum { REPORT_MAX_EVIDENCE = 8, REPORT_TEXT_LEN = 256, REPORT_MAX_WARNINGS = 16 };

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
	/* outcome */
	struct opt_i64 reachable_after; /* 0/1 */
	const char *verdict;
	char summary[REPORT_TEXT_LEN];
	char evidence[REPORT_MAX_EVIDENCE][REPORT_TEXT_LEN];
	int nevidence;
};

struct report {
	struct report_input inputs[MAX_INPUTS];
	int ninputs;
	bool guest_known;
	char guest_mac[ADDR_STR_LEN], guest_ip4[ADDR_STR_LEN], guest_ip6[ADDR_STR_LEN];
	struct report_migration *migrations; /* owned */
	int nmigrations;
	char warnings[REPORT_MAX_WARNINGS][REPORT_TEXT_LEN];
	int nwarnings;
};

void report_warn(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a formatted line to a fixed list of REPORT_TEXT_LEN lines; a full
 * list keeps its first lines. */
void text_list_add(char (*lines)[REPORT_TEXT_LEN], int *n, int max, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
void report_free(struct report *r);
const char *phase_name(enum phase p);
/* 1 when any migration ends unreachable: the CLI's "findings" exit code */
bool report_has_findings(const struct report *r);

#endif
