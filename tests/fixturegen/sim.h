/*
 * sim - what every scenario of the simulation shares: the hosts' addresses,
 * the link and stack delays, where the guest runs and where the switch sends
 * its frames, and the helpers that put a frame into the capture of each NIC
 * it crosses. Internal to the fixture generator: scenario.c runs the classic
 * precopy migrations, modes.c the postcopy, TLS, tunnelled and proxied ones.
 */
#ifndef FIXTUREGEN_SIM_H
#define FIXTUREGEN_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "capture_set.h"
#include "frame.h"
#include "scenario.h"

#define US 1000LL
#define MS 1000000LL
#define SEC 1000000000LL

enum {
	MSS = 1448,
	MIG_PORT = 49152,
	PING_ID = 0x4d53,
};

#define T0 (1700000000LL * SEC)  /* fixed epoch: reproducible files */
#define LINK_NS (40 * US)        /* NIC to NIC through the switch */
#define ACK_TURN_NS (20 * US)    /* receiver's stack to its ACK */
#define GUEST_TURN_NS (200 * US) /* guest's echo reply time */
#define PROBE_NS (10 * MS)
#define RESUME_NS (3 * MS)       /* end of stream to guest running (precopy) */

extern const uint8_t HOST_MAC[NHOSTS][6];
extern const uint8_t HOST_IP[NHOSTS][4];
extern const uint8_t GUEST_MAC[6];
extern const uint8_t GUEST_IP[4];

struct sim {
	const struct scenario *sc;
	struct capture_set *cs;
	struct sim_truth *truth;
	int rc;
	/* where the guest runs: interval k on host run_host[k] in [from, to) */
	enum host run_host[MAX_SIM_MIGRATIONS + 1];
	int64_t run_from[MAX_SIM_MIGRATIONS + 1], run_to[MAX_SIM_MIGRATIONS + 1];
	int nruns;
	/* where the switch sends frames for the guest MAC: learned at these times */
	enum host fdb_host[MAX_SIM_MIGRATIONS + 1];
	int64_t fdb_from[MAX_SIM_MIGRATIONS + 1];
	int nfdb;
};

/* The frame f crossed NIC `at` at ts (the first error sticks in s->rc). */
void sim_see(struct sim *s, enum host at, int64_t ts, const struct frame *f);
/* A guest frame at `at`, carried as the scenario's encapsulation says
 * between `at` and `peer`; the controller sees it plain. */
void sim_see_guest(struct sim *s, enum host at, enum host peer, int64_t ts,
		   const struct frame *inner);
bool sim_guest_runs_on(const struct sim *s, enum host h, int64_t t);
enum host sim_fdb_lookup(const struct sim *s, int64_t t);
void sim_tcp_frame(struct frame *f, enum host from, enum host to, uint16_t sport, uint16_t dport,
		   uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len, const uint8_t *head,
		   uint32_t head_len);
/* An echo request (reply 0) from the controller to the guest, or its reply. */
void sim_echo(struct frame *f, const struct scenario *sc, int reply, uint16_t seq);
/* QEMU's RARP rounds from the destination at mt->resume_ns + at[k] (into
 * mt->rarp_ns), reaching the source NIC and the controller a link later
 * unless the scenario drops them; an IPv6 guest's own NA. */
void sim_announce(struct sim *s, struct mig_truth *mt, const int64_t at[RARP_ROUNDS]);

/* The scenarios of kind != SC_CLASSIC (modes.c), as scenario_run. */
int modes_run(const struct scenario *sc, struct capture_set *cs, struct sim_truth *truth);

#endif
