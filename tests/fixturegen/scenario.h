/*
 * scenario - a deterministic simulation of live migrations between two
 * compute nodes (cn1, cn2) behind a learning switch, with a controller (ctl)
 * pinging the guest every 10 ms. It plants what a real migration puts on the
 * wire (QEMU stream with multifd, losses and fast retransmits, the pause and
 * resume, QEMU's RARP announce schedule) into one capture per NIC, and keeps
 * the truth of what it planted, computed from the simulation itself.
 *
 * Besides the classic precopy migration (scenario.c), the modes the lab
 * cannot run (modes.c): postcopy with the destination's page requests and a
 * guest slow to answer while it faults its memory in, TLS with multifd
 * channels, libvirt's tunnel, a KubeVirt-like proxy on a random port.
 */
#ifndef FIXTUREGEN_SCENARIO_H
#define FIXTUREGEN_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "capture_set.h"
#include "frame.h"

enum host { CN1, CN2, CTL, NHOSTS };

enum { MAX_SIM_MIGRATIONS = 2, MAX_LOST = 8, RARP_ROUNDS = 5, MAX_SIM_CHANNELS = 5 };

enum scenario_kind {
	SC_CLASSIC,     /* precopy on port 49152, QEMU's magic in view (scenario.c) */
	SC_POSTCOPY,    /* precopy rounds, then postcopy: the stream runs on after the resume */
	SC_MULTIFD_TLS, /* TLS on 49152: a main channel and four multifd channels */
	SC_TUNNEL,      /* inside libvirtd's connection on `port` (16509 plain, 16514 TLS) */
	SC_PROXY,       /* relayed on a random high `port`, TLS, beside a tenant's bulk flow */
	SC_NBD,         /* libvirt's --copy-storage-all: the disk over NBD, then the memory */
};

struct scenario {
	enum scenario_kind kind;
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
	/* the modes (kind != SC_CLASSIC) */
	uint16_t port;           /* the listening port of a tunnel or proxy */
	bool tls;
	int64_t stall_ns;        /* postcopy: the guest answers nothing that reaches it in
				  * this long from the first request after the resume */
	int64_t late_ns[RARP_ROUNDS]; /* QEMU's busy main loop sends round k this late */
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

/* One connection of the migration as the report lists it (the source's end
 * first): payload each way at each NIC. */
struct channel_truth {
	const char *kind;
	uint16_t src_port, dst_port;
	uint64_t out_bytes, in_bytes, reverse_bytes;
};

enum { PH_BEFORE, PH_PRECOPY, PH_PAUSE, PH_POSTCOPY, PH_AFTER, PHASES };

/* The probes of one phase at one vantage: every answered one took the same
 * round trip in the simulation when rtt_min == rtt_max. */
struct phase_truth {
	uint32_t sent, lost;
	int64_t rtt_min, rtt_max; /* 0: none answered */
};

/* What the prober saw, at the controller or at the compute NICs. */
struct probe_view_truth {
	int64_t phase_start[PHASES]; /* 0: the phase is empty (null) */
	struct phase_truth phase[PHASES];
	int64_t gap_start, gap_end;  /* the last reply at or before the resume, the first after */
};

/* The modes' scenarios (kind != SC_CLASSIC): one migration, cn1 -> cn2. */
struct mode_truth {
	bool postcopy;
	const char *detected_by, *features; /* as the report writes them */
	struct channel_truth ch[MAX_SIM_CHANNELS];
	int nch;
	uint64_t bytes_after_resume;
	uint32_t page_requests;
	int64_t first_request_ns, last_request_ns; /* leaving the destination NIC */
	struct probe_view_truth at_ctl, at_nic;
	const char *verdict;
	int64_t verdict_duration_ns;  /* 0: none */
	int64_t first_req_dst_ns, first_rep_dst_ns; /* after the resume */
	int64_t last_req_src_ns;      /* a request reaching the source after the resume, 0: none */
	int64_t late_ns[RARP_ROUNDS];
	bool shaped;                  /* found only by its shape (no --ports) */
};

struct sim_truth {
	struct mig_truth mig[MAX_SIM_MIGRATIONS];
	struct mode_truth mode;
	uint32_t probes_sent, probes_answered;
	uint32_t probes_answered_nic; /* answered as the compute NICs see it */
};

int scenario_run(const struct scenario *sc, struct capture_set *cs, struct sim_truth *truth);

#endif
