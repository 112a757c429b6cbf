/*
 * metrics - the agent's own counters for node_exporter's textfile collector
 * (`migscope capture --metrics FILE`): per interface the frames and bytes
 * its programs saw, events written, events lost (ring buffer full) and
 * stream segments not counted (flow table full); the flight recorder's ring
 * and kept migrations; the exact payload bytes of each migration flow
 * direction in the flow table. Prometheus text format, counters named
 * *_total, base units.
 *
 * The file is written whole to FILE.tmp and renamed over FILE, so the
 * collector never reads half of it; mode 0644 (node_exporter runs as its own
 * user and the file holds no guest address, only the hosts' stream ends).
 *
 * metrics_write() returns 0 or -errno.
 */
#ifndef MIGSCOPE_CAPTURE_METRICS_H
#define MIGSCOPE_CAPTURE_METRICS_H

#include <stdint.h>

#include "capture/pkt.h"
#include "capture/ring.h"

struct agent_state {
	struct pkt_capture *cap;
	const struct pkt_capture_opts *opts;
	const char *node;               /* NULL: none */
	const struct ring *ring;        /* NULL: a single file */
	uint64_t written[PKT_CAPTURE_MAX_IFACES]; /* events written to files, per interface */
	int64_t tai_offset_ns;
	int64_t start_ns;               /* the agent's start, UTC */
	uint64_t evicted;               /* flow-table slots freed so far */
	int64_t now_ns;                 /* UTC, set before each write */
};

int metrics_write(const char *path, const struct agent_state *s);

#endif
