/*
 * tcp_sim - one TCP connection between two simulated hosts, driven by what
 * each side sends and when (the scenario's schedule): the handshake, every
 * data segment at the sender's NIC and, unless the network lost it, a link
 * later at the receiver's; the receiver's ACKs (every second segment; at
 * once for a segment out of order or one that fills a hole; else after the
 * delayed-ACK time, unless its own data carried the ACK first); a lost
 * segment sent again when the scenario says; and the close. Sequence numbers
 * follow the order in which the data first left.
 *
 * It counts what each NIC saw per direction, so that a scenario's truth is
 * its own arithmetic over its own schedule, never the analyzer's reading.
 *
 * Ownership: tcp_conn_free releases the schedule. Errors: 0 or -ENOMEM (the
 * first error also sticks in the sim's rc, as sim_see does).
 */
#ifndef FIXTUREGEN_TCP_SIM_H
#define FIXTUREGEN_TCP_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

enum { TCP_HEAD_MAX = 64 }; /* payload bytes a frame carries (frame_tcp) */

/* Linux's TCP_DELACK_MIN: a lone segment's ACK waits this long */
#define DELACK_NS (40 * MS)

struct tcp_send {
	int64_t t;          /* leaves the sender's NIC */
	int64_t retx_ns;    /* 0: delivered; else lost on the way, sent again then */
	uint32_t len;       /* TCP payload */
	uint32_t head_len;  /* of it, the first bytes the frame carries */
	uint8_t dir;        /* 0: client -> server, 1: server -> client */
	uint8_t head[TCP_HEAD_MAX];
};

/* What the NICs saw of one direction's data (sent by host[d]). */
struct tcp_count {
	uint64_t out_bytes;      /* payload at the sender's NIC, retransmissions included */
	uint64_t in_bytes;       /* at the receiver's NIC */
	uint64_t retx_segments, retx_bytes;
	int64_t first_data_ns, last_data_ns; /* at the sender's NIC, 0: none */
};

struct tcp_conn {
	enum host host[2];  /* client, server */
	uint16_t port[2];
	uint32_t isn[2];
	struct tcp_send *sends;
	size_t nsends, cap;
	struct tcp_count count[2];
	int64_t syn_ns;     /* the SYN at the client's NIC */
};

/* Schedules `len` bytes from side `dir` at t, the frame carrying the first
 * head_len of them (head may be NULL: zeros). Returns its index, or -ENOMEM. */
long tcp_send(struct tcp_conn *c, int dir, int64_t t, uint32_t len, const void *head,
	      uint32_t head_len);

/* Plays the connection: handshake at syn_ns, the schedule, close at fin_ns
 * (after the last data; the client closes). */
int tcp_run(struct sim *s, struct tcp_conn *c, int64_t syn_ns, int64_t fin_ns);

/* Payload side `dir` sent after t (exclusive), at its NIC, retransmissions
 * included. */
uint64_t tcp_sent_after(const struct tcp_conn *c, int dir, int64_t t);

void tcp_conn_free(struct tcp_conn *c);

#endif
