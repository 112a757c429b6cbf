/*
 * evacuate - a compute node drained for maintenance: N guests on cn1 moved to
 * cn2, `concurrency` at a time (1: one after another), each by its own QEMU
 * listening on its own port (libvirt's 49152 + slot, reused by the next
 * wave), every guest pinged by the controller. Precopy, no loss: what this
 * scenario tests is that each migration is told apart and matched to its
 * guest. The truth of each guest is the simulation's own arithmetic.
 */
#ifndef FIXTUREGEN_EVACUATE_H
#define FIXTUREGEN_EVACUATE_H

#include <stdint.h>

#include "capture_set.h"

struct evac_params {
	const char *name;
	int guests, concurrency;
	int64_t probe_ns;   /* each guest's ping interval */
	int64_t wave_gap_ns; /* from a wave's last resume to the next wave's start */
	int segments;       /* the first guest's stream; later guests' a little longer */
};

struct evac_truth {
	uint8_t mac[6], ip[4];
	uint16_t port;
	int64_t start_ns, end_ns, pause_ns, resume_ns;
	uint64_t out_bytes, in_bytes;
	int64_t last_reply_ctl_ns, first_reply_ctl_ns; /* around the switchover */
	int64_t last_frame_src_ns;                     /* the guest's last at cn1's NIC */
	uint32_t probes_sent, probes_answered;
};

/* truth[guests]: filled in guest order, which is the migrations' order.
 * Returns 0, -ENOMEM or -EINVAL. */
int evacuate_run(const struct evac_params *p, struct capture_set *cs, struct evac_truth *truth);

#endif
