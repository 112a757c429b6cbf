/*
 * guest_conn - the TCP and UDP flows the captures show besides the migration
 * streams and the probes: what the guest's own users felt (design §9).
 *
 * Every such flow is followed while reading, since the guest's addresses are
 * known only at the end; the report keeps those with an end at a guest's
 * address. The analyzer feeds the prober's captures when given (ctl=), where
 * the guest's users are, else every capture: then each sighting feeds one
 * timeline per direction, so a flow seen at both compute NICs, before and
 * after the switchover, is one flow.
 *
 * Progress, not packets: a direction's stall is the gap between two
 * segments that carried sequence space not seen before (data, SYN, FIN; any
 * datagram for UDP), so retransmissions during a pause extend the stall
 * instead of ending it. Gaps of at least CONN_MIN_GAP_NS that hold a
 * switchover instant fed by guest_conns__switch (QEMU's first RARP of a
 * guest: its resume) are kept, CONN_GAPS per direction; at the report, the
 * one holding the migration's resume is its stall.
 *
 * Retransmissions are counted per capture (a segment whose sequence space
 * that capture already saw) and the most any capture saw is reported: a
 * segment seen at two captures is not retransmitted twice. The longest run
 * of retransmissions of one segment gives the RTO backoff. Zero windows
 * (a receiver that could take no more: a guest too slow to read) are
 * counted the same way, on any segment but a SYN or a reset.
 *
 * Request and response: the client (the SYN's sender, else the end on the
 * higher port) sends a request, the first progress from the server after it
 * is the response. A connection's first request sent within
 * CONN_OPEN_REQUEST_NS of the SYN/ACK begins at its SYN, so a SYN
 * retransmitted during the pause counts in the response time, as the user
 * waited it. Pipelined requests count as one. A request never answered is
 * failed when its connection ended (FIN, RST) or the captures ran on for
 * CONN_FAIL_AFTER_NS after it. A connection that carried no request is a
 * TCP probe (hping3 -S, a port check): its SYN the request, the SYN/ACK or
 * reset the answer; one never answered failed as above.
 *
 * Bounds: MAX_GUEST_CONNS flows and MAX_CONN_REQUESTS requests, a warning
 * past either (guest_conns__warning).
 * Ownership: guest_conns__new returns a table freed by guest_conns__free
 * (NULL-safe); pointers from the accessors live as long as the table.
 */
#ifndef MIGSCOPE_GUEST_CONN_H
#define MIGSCOPE_GUEST_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/addr.h"
#include "analysis/limits.h"
#include "bpf/parse.h"

enum {
	CONN_GAPS = 4,
	CONN_BACKOFF = 8,           /* retransmissions of one segment kept */
};
#define CONN_MIN_GAP_NS (1LL * 1000000)
#define CONN_FAIL_AFTER_NS (1LL * 1000000000)
#define CONN_OPEN_REQUEST_NS (100LL * 1000000)

struct conn_gap {
	int64_t from_ns, to_ns;
};

struct conn_dir {
	uint64_t segments, bytes;            /* any capture's first sighting */
	int64_t first_ns, last_ns;           /* any segment, any capture */
	int64_t last_progress_ns;            /* new sequence space, any capture */
	uint32_t max_end;                    /* of all captures: progress */
	uint32_t last_new_seq;               /* the latest segment that made progress */
	bool seq_valid;
	uint32_t max_end_at[MAX_INPUTS];     /* per capture: retransmissions */
	uint8_t seq_valid_at[MAX_INPUTS];
	uint32_t retx_at[MAX_INPUTS];
	uint32_t zero_window_at[MAX_INPUTS]; /* per capture: segments advertising one */
	int64_t syn_ns, fin_ns, rst_ns;      /* first of each, any capture */
	struct conn_gap gaps[CONN_GAPS];     /* around switchovers, the largest kept */
	int ngaps;
	/* the retransmissions of one segment (at the capture that saw its
	 * first): the run under way and the longest so far */
	uint32_t run_seq;
	int run_input;
	int64_t run_ns[CONN_BACKOFF + 1];
	int run_n;
	int64_t best_run_ns[CONN_BACKOFF + 1];
	int best_run_n;
};

struct guest_conn {
	uint8_t proto;               /* IPPROTO_TCP or IPPROTO_UDP */
	struct ip_addr ip[2];        /* ep[0]: the client (SYN sender, else higher port) */
	uint16_t port[2];
	struct conn_dir dir[2];      /* dir[e]: what endpoint e sent */
	/* the request under way (an index in the table's requests), and
	 * whether the connection had one */
	int open_request;             /* -1: none */
	bool any_request;
};

struct conn_request {
	int conn;
	int64_t start_ns;    /* the SYN for a connection's first, else its first byte */
	int64_t answer_ns;   /* the response's first segment, 0: none */
	bool failed;         /* never answered, and the connection ended or time ran on */
};

struct guest_conns;

struct guest_conns *guest_conns__new(void);
void guest_conns__free(struct guest_conns *t);

/* Feeds one classified frame (TCP or UDP, not a migration stream's). */
void guest_conns__packet(struct guest_conns *t, int input, int64_t ts_ns,
			 const struct pkt_meta *m);
/* A switchover instant (a guest's resume); times must not go backwards. */
void guest_conns__switch(struct guest_conns *t, int64_t ts_ns);
/* Reading is done at `end_ns` (the captures' last packet): requests still
 * unanswered are judged. */
void guest_conns__finish(struct guest_conns *t, int64_t end_ns);

int guest_conns__count(const struct guest_conns *t);
const struct guest_conn *guest_conns__conn(const struct guest_conns *t, int i);
const struct conn_request *guest_conns__requests(const struct guest_conns *t, int *n);
const char *guest_conns__warning(const struct guest_conns *t);

/* Endpoint of c at ip (0 or 1), -1: neither. */
int guest_conn_end_at(const struct guest_conn *c, const struct ip_addr *ip);
/* The gap of direction d holding t (from < t <= to), NULL: none kept. */
const struct conn_gap *conn_dir_gap_at(const struct conn_dir *d, int64_t t);
/* Retransmitted segments of direction d: the most any capture saw. */
uint32_t conn_dir_retx(const struct conn_dir *d);
/* Segments of direction d that advertised a zero window (its sender could
 * take no more data): the most any capture saw. */
uint32_t conn_dir_zero_windows(const struct conn_dir *d);

#endif
