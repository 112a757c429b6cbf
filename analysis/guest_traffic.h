/*
 * guest_traffic - what the guest's own users felt in one migration, from the
 * flows guest_conn followed: each TCP/UDP flow of the guest open across the
 * switchover with its stalls (to and from the guest), retransmissions and
 * RTO backoff, reset and survival; a summary of the stalls; and the response
 * times of its requests by phase (analysis/phases.h) with the share above
 * an SLA (design §9).
 *
 * A flow is the guest's when one end is at the guest's IPv4 or IPv6 address;
 * it is in this migration when it had a packet in the migration's window. It
 * is listed when it was open across the switchover: a packet before the
 * resume and none of its ends closed (FIN both ways, RST) before the pause.
 *
 * Ownership: guest_traffic_fill stores the list in rm->traffic (report_free
 * releases it). Errors: 0 or -ENOMEM.
 */
#ifndef MIGSCOPE_GUEST_TRAFFIC_H
#define MIGSCOPE_GUEST_TRAFFIC_H

#include "analysis/guest_conn.h"
#include "analysis/phases.h"
#include "reports/report.h"

/* A flow stalled when its stall reached the --sla, else this. */
#define TRAFFIC_STALL_NS (1LL * 1000000000)

struct traffic_scope {
	const struct guest_conns *conns;
	struct ip_addr ip4, ip6;          /* the guest's; family 0: unknown */
	int64_t window_lo, window_hi;
	struct phase_bounds phases;       /* phases.resume: the switchover */
	int64_t sla_ns;                   /* 0: none given */
	uint16_t probe_port;              /* --probe tcp:PORT: only its requests; 0: any */
};

int guest_traffic_fill(const struct traffic_scope *s, struct report_migration *rm);

/* The guest's requests as the plot's probes (their start, and the response
 * time or lost), in place of the echo probes'. 0 or -ENOMEM. */
int guest_traffic_plot(const struct traffic_scope *s, struct report_migration *rm);

#endif
