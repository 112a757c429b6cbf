/*
 * capture_counters - the exact counters `migscope capture` stores in its
 * pcapng files: their text format, written by the agent (capture/capture.c)
 * and parsed by the analyzer, both in counters_text.c from one table of each
 * line's fields, and the reader of the files that carry them
 * (capture_counters.c; libpcap does not expose them).
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
#include <stdio.h>

#include "analysis/addr.h"

#define COUNTERS_MAGIC "migscope-counters v1"
#define COUNTERS_USERAPPL "migscope capture"

enum { COUNTERS_MAX_FLOWS = 1024, COUNTERS_MAX_RETRANS = 1024 };

/* An iface line: the interface's own counts (capture/pkt.h's statistics). */
struct counter_iface {
	const char *name, *attach;   /* "eth0"; "tcx" or "tc" */
	uint32_t ifindex;
	uint64_t frames_in, frames_out, bytes_in, bytes_out, events, ring_drops, flows_full,
		heads_pulled;
	int64_t tai_offset_ns;
	bool retrans_tracer;
};

/* Which directions of the interface a flow was seen in. */
enum { COUNTER_DIR_IN = 1, COUNTER_DIR_OUT = 2 };

struct counter_flow {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint64_t packets, payload_bytes, wire_bytes, ooo_segments, ooo_bytes;
	uint64_t first_ns, last_ns, last_data_ns; /* UTC, the file's clock; 0: absent */
	uint8_t tcp_flags;                        /* every flag seen; a diagnostic */
	uint8_t dirs;                             /* COUNTER_DIR_*; a diagnostic */
};

struct counter_retrans {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint64_t segments, bytes, calls;
};

struct capture_counters {
	bool ours;       /* written by migscope capture */
	bool present;    /* at least one counters block was found */
	uint64_t end_ns; /* ours: the latest statistics block's stamp, the file's end; 0: none */
	int nifaces;     /* counters blocks read */
	uint64_t ring_drops, flows_full, events;
	int nflows;
	bool flows_truncated;
	bool retrans_tracer;  /* the node's retransmit tracer ran */
	bool retrans_truncated; /* more retransmits lines than kept */
	int nretrans;
	/* last, read only up to their counts: a capture's clearing stops here */
	struct counter_flow flows[COUNTERS_MAX_FLOWS];
	struct counter_retrans retrans[COUNTERS_MAX_RETRANS];
};

/* path may be a directory (analysis/capture_dir.h): its files' counters
 * merged, a later file's line of a flow replacing an earlier one (the agent
 * writes each file with the counts since it started), the interface sums the
 * largest of any file. */
int capture_counters__read(const char *path, struct capture_counters *out, char *err,
			   size_t errlen);

/* The writer's half: one interface's block, the magic line and its iface
 * line first, then a line per flow direction and retransmits record. Each
 * returns 0 or -EIO when the stream reports an error. */
int counters_write_iface(FILE *out, const struct counter_iface *f);
int counters_write_flow(FILE *out, const struct counter_flow *f);
int counters_write_retrans(FILE *out, const struct counter_retrans *r);

/* Where a block's text sits, for messages: the file, the block's offset in
 * the (uncompressed) file, and (set by the parser) the line within it. */
struct counters_where {
	const char *path;
	long long block_off;
	int line;
	char *err;
	size_t errlen;
};

/* The reader's half: one block's text (modified in place) added to *out.
 * Text without the magic line is not ours and is skipped. Returns 0 or
 * -ERANGE with a line in w->err. */
int counters_text__parse(char *text, struct capture_counters *out, struct counters_where *w);

#endif
