/*
 * guest - what the captures show of the guest: its echo probes, its
 * announcements (RARP, gratuitous ARP, unsolicited NA) and its silences.
 *
 * The guest is not known while reading (unless --guest), so every candidate
 * is followed at once, within caps: MACs that announce or answer echoes, and
 * the targets of echo requests. guest_set__choose() picks the guest at the end.
 * Probes are kept in one array in request order, each with its time at every
 * capture (0 = not seen there), so any vantage can be chosen afterwards.
 * A silence is kept per migration and capture: the guest frames that capture
 * saw on either side of the migration's last data segment, updated as both
 * go by, so the report can take the source NIC's last frame and the
 * destination NIC's first (no link delay in between).
 *
 * Ownership: guest_set__new returns a set freed by guest_set__free
 * (NULL-safe); pointers from the accessors live as long as the set.
 */
#ifndef MIGSCOPE_GUEST_H
#define MIGSCOPE_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/addr.h"
#include "analysis/limits.h"
#include "bpf/parse.h"

enum announce_kind { ANNOUNCE_RARP, ANNOUNCE_GARP, ANNOUNCE_NA };

struct announce {
	int64_t ts_ns;
	uint8_t kind;  /* enum announce_kind */
	uint8_t input; /* capture it was seen in */
	/* the guest's last frame at each capture before this one (0: none):
	 * when this is the resume, the source NIC's is where its silence began,
	 * a frame of the guest still running there and not one flooded back from
	 * the destination after it */
	int64_t prev_frame_ns[MAX_INPUTS];
};

struct silence {
	int64_t before_ns; /* last guest frame before the migration's last data */
	int64_t after_ns;  /* first guest frame after it */
};

struct guest_mac {
	uint8_t mac[6];
	struct ip_addr ip4, ip6; /* learned from its echo replies, GARPs, NAs */
	uint32_t rarps, garps, nas, frames;
	int64_t last_frame_ns[MAX_INPUTS];
	struct announce *announces; /* grown as they come, MAX_ANNOUNCES at most */
	uint32_t nannounces, cap_announces;
	int64_t rarp_burst_ns, last_rarp_ns; /* its current RARP burst began, went on */
	struct silence silence[MAX_INPUTS][MAX_GROUPS];
};

/* What probed an address: ICMP/ICMPv6 echo, or ARP (arping: a unicast
 * request for the address, answered by its owner; a guest that ignores ping
 * still answers ARP). */
enum probe_proto { PROBE_PROTO_ECHO, PROBE_PROTO_ARP };

struct echo_target {
	struct ip_addr ip;
	uint8_t proto;       /* enum probe_proto: an address probed both ways is two targets */
	uint32_t requests;
	uint32_t answered;   /* probes with a reply at any capture */
};

/* ARP has no sequence number: a request seen at two captures within this
 * of each other (on the reference clock) is one request. Far below any
 * probe interval (arping's is 1 s, 10 ms at the least), far above a link's
 * delay. */
#define ARP_PROBE_JOIN_NS (2LL * 1000000)

struct probe {
	uint16_t id, seq;
	uint16_t target;
	int64_t req_ns[MAX_INPUTS];
	int64_t rep_ns[MAX_INPUTS];
};

struct guest_set;

/* The earliest of a probe's per-capture stamps (req_ns, rep_ns) among the
 * captures in `mask`; 0 when none holds one. */
int64_t first_stamp_in(const int64_t *ts, uint32_t mask);

/* fixed_mac: the operator's --guest MAC, or NULL to follow every candidate */
struct guest_set *guest_set__new(const uint8_t *fixed_mac);
void guest_set__free(struct guest_set *s);

/* The migrations' switchover references so far, for the silence tracking:
 * ns[g] the last data time of migration g (0: none yet), and the n
 * migrations in order of it, latest first (ties and zeros in any order), so
 * that a frame visits only those whose data moved since its previous one. */
struct switch_refs {
	const int64_t *ns;
	const int16_t *latest_first;
	int n;
};

/* Feeds one classified frame. */
void guest_set__frame(struct guest_set *s, int input, int64_t ts_ns, const struct pkt_meta *m,
		      const struct switch_refs *sw);

struct guest_choice {
	int mac;      /* index of the guest MAC, -1 if none */
	int target;   /* index of the echo target probed, -1 if none */
	struct ip_addr ip4, ip6;
};

/* fixed_ip: the operator's --guest IP, or NULL. */
void guest_set__choose(const struct guest_set *s, const struct ip_addr *fixed_ip,
		       struct guest_choice *out);
/* The choice of MAC `mac` (an index) with its addresses and echo target;
 * fixed_ip as above. */
void guest_set__choose_mac(const struct guest_set *s, int mac, const struct ip_addr *fixed_ip,
			   struct guest_choice *out);
int guest_set__nmacs(const struct guest_set *s);
/* The target of `ip` probed by `proto`, -1: none. */
int guest_set__target_of(const struct guest_set *s, const struct ip_addr *ip,
			 enum probe_proto proto);

/* Whether a RARP of `mac` just fed (guest_set__frame) belongs to the first
 * round of its burst (within RARP_ROUND0_NS of the burst's first): QEMU's
 * resume, at each capture that saw it. A burst begins after RARP_BURST_GAP_NS
 * without one. */
bool guest_set__rarp_first_round(const struct guest_set *s, const uint8_t mac[6], int64_t ts_ns);
#define RARP_ROUND0_NS (20LL * 1000000)
#define RARP_BURST_GAP_NS (2000LL * 1000000)

/* The silence of migration `group` at capture `input`, given the
 * migration's final last-data time. */
struct silence guest_silence_at(const struct guest_mac *g, int input, int group,
				int64_t last_data_ns);
const struct guest_mac *guest_set__mac(const struct guest_set *s, int i);
const struct echo_target *guest_set__target(const struct guest_set *s, int i);
const struct probe *guest_set__probes(const struct guest_set *s, uint32_t *n);
const char *guest_set__warning(const struct guest_set *s);

#endif
