/*
 * pkt - the kernel half of `migscope capture`: loads bpf/pkt.bpf.c from its
 * embedded skeleton (and, when it can, the retransmit tracer:
 * capture/retrans.h), configures it, attaches the tc programs to ingress and
 * egress of every interface and hands over ring-buffer events and the exact
 * counters.
 *
 * Attaching: tcx links where the kernel has them (the link dies with the
 * process, so a crash leaves nothing), else clsact filters through libbpf's
 * bpf_tc_* API at a fixed handle/priority: a stale filter of ours left by a
 * crashed agent is removed at start, and at the end only our filters go (the
 * clsact qdisc stays: others' filters may hang on it). One agent per NIC: a
 * lock file per (network namespace, ifindex) under /run/migscope.
 *
 * PKT_ATTACH_NONE (replay): the same objects are loaded and configured but
 * attached nowhere and without the retransmit tracer; frames are pushed
 * through them with pkt_capture__test_run() (BPF_PROG_TEST_RUN), and the
 * handle has one interface, the test run's loopback device (ifindex 1).
 *
 * Ownership: __open returns a handle released by __close (NULL-safe), which
 * also detaches. Event pointers passed to the callback are valid only during
 * the call. Errors: __open returns NULL, errno set, one line in err; the
 * others return 0 or -errno.
 */
#ifndef MIGSCOPE_CAPTURE_PKT_H
#define MIGSCOPE_CAPTURE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/addr.h"
#include "analysis/portset.h"
#include "bpf/pkt.h"
#include "capture/retrans.h"

enum pkt_attach_mode { PKT_ATTACH_AUTO, PKT_ATTACH_TCX, PKT_ATTACH_TC, PKT_ATTACH_NONE };

/* BPF_PROG_TEST_RUN gives every frame the network namespace's loopback. */
enum { PKT_TEST_RUN_IFINDEX = 1 };

enum { PKT_CAPTURE_MAX_IFACES = PKT_MAX_IFACES - 1 };

struct pkt_capture_opts {
	const char *ifaces[PKT_CAPTURE_MAX_IFACES];
	int nifaces;
	const struct portset *ports;
	bool guest_mac_set;
	uint8_t guest_mac[6];
	struct ip_addr guest_ip;    /* family 0: none */
	uint32_t ring_bytes;        /* power of two, >= page size; 0: the object's */
	uint32_t sample_shift;      /* 0: the object's default */
	enum pkt_attach_mode attach;
};

/* --guest MAC[,IP] into the options: 0, or -EINVAL for a bad spec. */
int pkt_capture_opts__set_guest(struct pkt_capture_opts *o, const char *spec);
/* The command line's --guest (NULL: none) and --ports into the options, the
 * ports parsed into *ports (the caller's, outliving o). On a bad value prints
 * one line naming `cmd` ("migscope capture") and returns -EINVAL. */
int pkt_capture_opts__set_filters(struct pkt_capture_opts *o, struct portset *ports,
				  const char *guest, const char *port_spec, const char *cmd);

struct pkt_capture;

/* Returns 0 to go on, or -errno to stop draining. */
typedef int (*pkt_event_fn)(void *ctx, const struct pkt_event *e);
/* One flow direction's counters; also called for held-back samples. */
typedef int (*pkt_flow_fn)(void *ctx, const struct pkt_flow_key *k,
			   const struct pkt_flow_stats *s);

struct pkt_capture *pkt_capture__open(const struct pkt_capture_opts *o, pkt_event_fn fn,
				      void *ctx, char *err, size_t errlen);
/* "tcx" or "tc": how the programs are attached */
const char *pkt_capture__attach_mode(const struct pkt_capture *c);
bool pkt_capture__has_retrans(const struct pkt_capture *c);
/* Interface slot i (0-based, as in opts) ifindex. */
uint32_t pkt_capture__ifindex(const struct pkt_capture *c, int i);
/* Waits at most timeout_ms for the ring to fill (the programs wake the
 * agent only then), then drains it; returns events handled or -errno. */
int pkt_capture__poll(struct pkt_capture *c, int timeout_ms);
/* Drains what the ring buffer holds now, without waiting. */
int pkt_capture__consume(struct pkt_capture *c);
/*
 * PKT_ATTACH_NONE only: runs the ingress or egress program (dir PKT_DIR_*)
 * once over frame[0..len) as a frame of wire_len bytes (>= len; the bytes
 * beyond len are not given to the program). len must be >= 14 and within
 * the kernel's test-run limit (about a page less the skb overheads):
 * -EINVAL otherwise. -EPROTO when the program did not return TC_ACT_UNSPEC.
 */
int pkt_capture__test_run(struct pkt_capture *c, const uint8_t *frame, uint32_t len,
			  uint32_t wire_len, int dir);
/* Detaches every program of ours and drains what the ring buffer still holds. */
int pkt_capture__detach(struct pkt_capture *c);
/* Sums interface i's per-CPU statistics. */
int pkt_capture__if_stats(const struct pkt_capture *c, int i, struct pkt_if_stats *out);
/* Every flow direction in the table, in key order, a flow's slots merged. */
int pkt_capture__flows(const struct pkt_capture *c, pkt_flow_fn fn, void *ctx);
/* The same over a flow table's map fd (bpf/pkt.h: struct pkt_flow_slot);
 * -ENOMEM, -errno of the map read, or fn's first non-zero return. */
int pkt_flows__read(int fd, pkt_flow_fn fn, void *ctx);
/*
 * Frees the flow-table slots of flows that ended (FIN or RST seen) with
 * their last segment before closed_before_tai_ns, or went quiet before
 * idle_before_tai_ns, so an agent running for days does not fill the table.
 * Call it only after their counters were written (a ring file's statistics):
 * a late segment of a freed flow starts it again from zero in a new slot.
 * *evicted: how many slots were freed.
 */
int pkt_capture__evict(struct pkt_capture *c, uint64_t closed_before_tai_ns,
		       uint64_t idle_before_tai_ns, int *evicted);
/* The same over a flow table's map fd. */
int pkt_flows__evict(int fd, uint64_t closed_before_tai_ns, uint64_t idle_before_tai_ns,
		     int *evicted);
/* The retransmit tracer's counts (capture/retrans.h); none when it is not loaded. */
int pkt_capture__retrans(const struct pkt_capture *c, retrans_fn fn, void *ctx);
void pkt_capture__close(struct pkt_capture *c);

#endif
