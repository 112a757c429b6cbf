/*
 * capture_counters - the exact counters `migscope capture` stores in its
 * pcapng files, read back for the analyzer (libpcap does not expose them).
 *
 * Where: each interface's Interface Statistics Block carries an opt_comment
 * (possibly split over several, concatenated in order) that starts with the
 * line COUNTERS_MAGIC, then one line per record, fields as key=value:
 *   iface name=.. ifindex=.. attach=.. frames_in=.. frames_out=.. bytes_in=..
 *         bytes_out=.. events=.. ring_drops=.. flows_full=.. heads_pulled=..
 *         tai_offset_ns=.. (heads_pulled: frames whose headers the program
 *         pulled into the linear data; a diagnostic, not read here)
 *   flow src=IP sport=N dst=IP dport=N packets=.. payload_bytes=..
 *         wire_bytes=.. ooo_segments=.. ooo_bytes=.. first_ns=.. last_ns=..
 *         last_data_ns=.. tcp_flags=0x.. dirs=in,out
 *   retransmits src=IP sport=N dst=IP dport=N segments=.. bytes=.. calls=..
 * A flow line is one direction (src -> dst) of a TCP flow at that interface.
 * A retransmits line is the node's own TCP stack retransmitting on flow
 * src -> dst (bpf/retrans.bpf.c); with retrans_tracer=yes on an iface line
 * the tracer ran, so a flow without a line had none. Lines without bytes
 * (the first version) are not used.
 * Unknown lines and keys are skipped, so later versions may add them.
 *
 * Bounds (analysis/domain.h): a count (packets, bytes, segments, and the
 * iface lines' sums) is at most 2^53, a time 0 (absent) or a stamp (after
 * 1970, before 2116). The agent's counters are 64-bit, but one flow direction
 * of 2^53 bytes is 8 PiB, more than a migration ever sends, and its times are
 * the host's clock, so no real capture reaches them; a value past them is a
 * corrupt or forged file: -ERANGE, the line named. They keep every sum (1024
 * flows), difference and product the analyzer forms within int64_t.
 *
 * Only files whose SHB names "migscope capture" as shb_userappl are scanned,
 * so other captures cost one block read. The scan streams block by block
 * (gzip too) with bounded memory.
 *
 * Ownership: the caller owns *out; __read fills it. Errors: 0 (also when
 * the file is not ours: out->ours false), or -errno with a line in err
 * (-ERANGE: a value out of bounds, naming the block's offset and the line).
 */
#ifndef MIGSCOPE_CAPTURE_COUNTERS_H
#define MIGSCOPE_CAPTURE_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/addr.h"

#define COUNTERS_MAGIC "migscope-counters v1"
#define COUNTERS_USERAPPL "migscope capture"

enum { COUNTERS_MAX_FLOWS = 1024, COUNTERS_MAX_RETRANS = 1024 };

struct counter_flow {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint64_t packets, payload_bytes, wire_bytes, ooo_segments, ooo_bytes;
	uint64_t first_ns, last_ns, last_data_ns; /* UTC, the file's clock; 0: absent */
};

struct counter_retrans {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint64_t segments, bytes;
};

struct capture_counters {
	bool ours;       /* written by migscope capture */
	bool present;    /* at least one counters block was found */
	int nifaces;     /* counters blocks read */
	uint64_t ring_drops, flows_full, events;
	int nflows;
	bool flows_truncated;
	struct counter_flow flows[COUNTERS_MAX_FLOWS];
	bool retrans_tracer;  /* the node's retransmit tracer ran */
	bool retrans_truncated; /* more retransmits lines than kept */
	int nretrans;
	struct counter_retrans retrans[COUNTERS_MAX_RETRANS];
};

int capture_counters__read(const char *path, struct capture_counters *out, char *err,
			   size_t errlen);

#endif
