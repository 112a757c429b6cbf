/*
 * replay - `migscope replay FILE`: the capture agent's own tc programs
 * (bpf/pkt.bpf.c, loaded through capture/pkt.h with PKT_ATTACH_NONE) run
 * over a stored capture with BPF_PROG_TEST_RUN, frame by frame, and the
 * counters the live agent would have kept on that NIC: per flow direction
 * packets, payload and wire bytes, out-of-order/duplicate segments; events
 * by type; the guest control frames by kind. Comparing them with
 * `migscope analyze` of the same file checks the kernel half against the
 * userspace half on real traffic (tests/e2e/replay.sh).
 *
 * What the kernel is given: the frame as captured, as ingress (the direction
 * only changes the events' dir; a Linux cooked capture's "outgoing" frames
 * go through the egress program, with an Ethernet header rebuilt from the
 * cooked one), and the frame's original length as its wire length
 * (skb->wire_len), so a snapped frame still counts its whole length. Frames
 * beyond the test run's size limit (about a page) are cut to it: the
 * classifier reads headers only. Where replay cannot match the live agent:
 * frames shorter than an Ethernet header (never run), frames whose headers
 * the capture cut (counted as the classifier sees them, as analyze does),
 * GSO/GRO super-frames (one packet here; gso_segs at the NIC), original
 * lengths over 64 KiB (clamped), and the time-driven sampling rules (TICK,
 * GAP_EDGE: they follow the replay's pace, not the capture's).
 *
 * Ownership: replay_main() (migscope.h) owns the result and its flows; the
 * renderers only read it. Errors: replay_main() returns the exit status (0
 * done, 2 usage, input or setup error, one line on stderr).
 */
#ifndef MIGSCOPE_CAPTURE_REPLAY_H
#define MIGSCOPE_CAPTURE_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "bpf/pkt.h"

struct replay_flow {
	struct pkt_flow_key key;
	struct pkt_flow_stats stats;
};

struct replay_result {
	const char *path;
	int linktype;
	/* frames */
	uint64_t frames_read;     /* records in the capture */
	uint64_t frames_run;      /* given to the programs */
	uint64_t frames_short;    /* shorter than an Ethernet header: not run */
	uint64_t frames_cut;      /* more bytes captured than a test run takes */
	uint64_t frames_clamped;  /* original length over 64 KiB: wire length clamped */
	uint32_t cut_to;          /* the test run's size limit, when frames_cut */
	/* what the kernel counted */
	struct pkt_if_stats iface;
	struct replay_flow *flows; /* owned, sorted by key */
	int nflows;
	/* ring-buffer events, by type */
	uint64_t ev_guest, ev_flow_open, ev_flow_close, ev_samples, ev_gap_edge;
	uint64_t held_at_end;     /* segments held back, written at the end */
	/* guest control frames among the events */
	uint64_t echo_request, echo_reply, arp, garp, rarp, na, unsolicited_na;
};

/* capture/replay_render.c */
int replay_render_text(const struct replay_result *r, FILE *out);
int replay_render_json(const struct replay_result *r, FILE *out);

#endif
