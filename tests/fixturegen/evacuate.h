/*
 * evacuate - a compute node drained for maintenance: N guests on cn1 moved to
 * cn2, `concurrency` at a time (1: one after another), each by its own QEMU
 * listening on its own port (libvirt's 49152 + slot, reused by the next
 * wave), every guest pinged by the controller. Precopy, no loss: what this
 * scenario tests is that each migration is told apart and matched to its
 * guest, also when the destinations close their streams late, after the
 * next guest resumed. The truth of each guest is the simulation's own arithmetic.
 */
#ifndef FIXTUREGEN_EVACUATE_H
#define FIXTUREGEN_EVACUATE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture_set.h"

struct evac_params {
	const char *name;
	int guests, concurrency;
	int64_t probe_ns;   /* each guest's ping interval */
	int64_t wave_gap_ns; /* from a wave's last resume to the next wave's start */
	int segments;       /* the first guest's stream; later guests' a little longer */
	bool even_sizes;    /* every guest's stream as long as the first's */
	int64_t stagger_ns; /* between the starts of one wave's migrations, 0: 37 ms */
	/* How long after its guest resumed each destination closes its stream,
	 * guest k by close_lag_ns[k % nclose_lags] (a busy QEMU closes up to
	 * ~10 ms after it announced); none: 1 ms after the last data. */
	const int64_t *close_lag_ns;
	int nclose_lags;
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
