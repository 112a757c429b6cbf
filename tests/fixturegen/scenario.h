/*
 * scenario - a deterministic simulation of live migrations between two
 * compute nodes (cn1, cn2) behind a learning switch, with a controller (ctl)
 * pinging the guest every 10 ms. It plants what a real migration puts on the
 * wire (QEMU stream with multifd, losses and fast retransmits, the pause and
 * resume, QEMU's RARP announce schedule) into one capture per NIC, and keeps
 * the truth of what it planted, computed from the simulation itself.
 */
#ifndef FIXTUREGEN_SCENARIO_H
#define FIXTUREGEN_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "capture_set.h"
#include "frame.h"

enum host { CN1, CN2, CTL, NHOSTS };

enum { MAX_SIM_MIGRATIONS = 2, MAX_LOST = 8, RARP_ROUNDS = 5 };

struct scenario {
	const char *name;
	enum encap encap;        /* how compute NICs carry guest frames */
	int migrations;          /* 1, or 2 for there and back */
	bool drop_announce;      /* the switch never sees the RARPs */
	bool ipv6;               /* probe over ICMPv6, guest sends an NA */
	int flows;               /* main channel + multifd channels */
	int segments;            /* data segments per flow */
	int final_segments;      /* of them, sent after the guest paused */
	int64_t seg_gap_ns;
	int lost[MAX_LOST];      /* segment indexes of flow 0 lost in the network */
	int nlost;
};

struct mig_truth {
	enum host src, dst;
	int64_t start_ns, end_ns, pause_ns, resume_ns;
	uint64_t out_bytes, in_bytes;
	uint64_t retx_segments, retx_bytes;
	int64_t rarp_ns[RARP_ROUNDS]; /* at the destination NIC */
	int64_t last_reply_ctl_ns, first_reply_ctl_ns;  /* around the switchover */
	int64_t last_reply_nic_ns, first_reply_nic_ns;  /* at the compute NICs */
	int64_t last_guest_src_ns, first_guest_dst_ns;  /* guest frames at the NICs */
	bool reachable_after;
};

struct sim_truth {
	struct mig_truth mig[MAX_SIM_MIGRATIONS];
	uint32_t probes_sent, probes_answered;
	uint32_t probes_answered_nic; /* answered as the compute NICs see it */
};

int scenario_run(const struct scenario *sc, struct capture_set *cs, struct sim_truth *truth);

#endif
