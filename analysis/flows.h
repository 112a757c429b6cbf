/*
 * flows - the migration TCP streams: detection, exact byte counts and
 * sequence analysis per capture (vantage), and grouping of the flows of one
 * migration (QEMU main channel, multifd channels, NBD disk copy).
 *
 * Detection: a flow whose server port is in the configured port set (or
 * either port when the SYN was not captured), or whose first payload bytes are
 * QEMU's stream magic "QEVM", the multifd magic 0x11223344 or "NBDMAGIC".
 * Retransmission: bpf/tcp_seq.h, the rule the capture agent counts by.
 *
 * Ownership: flow_table__new returns a table freed by flow_table__free
 * (NULL-safe). Pointers into the table stay valid until it is freed. The
 * per-packet path (flow_table__packet) does no allocation.
 */
#ifndef MIGSCOPE_FLOWS_H
#define MIGSCOPE_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/addr.h"
#include "analysis/limits.h"
#include "analysis/portset.h"
#include "analysis/rate_series.h"
#include "bpf/parse.h"

enum flow_detect {
	DETECT_PORT = 1u << 0,
	DETECT_QEVM = 1u << 1,
	DETECT_MULTIFD = 1u << 2,
	DETECT_NBD = 1u << 3,
	DETECT_TLS = 1u << 4,    /* TLS records on a migration port: the magics are hidden */
	DETECT_TUNNEL = 1u << 5, /* on libvirtd's port (16509, 16514): a tunnelled migration */
	DETECT_SHAPE = 1u << 6,  /* on a port found by the stream's shape (flow_table__bulk) */
};

struct dir_stats {
	uint64_t packets;
	uint64_t payload_bytes; /* TCP payload, from IP lengths, retransmits included */
	uint64_t wire_bytes;    /* frame lengths as on the wire */
	uint64_t retx_segments;
	uint64_t retx_bytes;
	int64_t first_ns, last_ns;
	int64_t first_data_ns, last_data_ns;
	int64_t fin_ns;
	uint32_t max_end_seq;
	uint8_t seq_valid;    /* bpf/tcp_seq.h's state, as the capture agent keeps it */
};

struct data_mark {
	uint32_t end_seq;
	int64_t ts_ns;
};

/* One flow as one capture saw it. dir[d]: segments sent by endpoint d. */
struct flow_view {
	struct dir_stats dir[2];
	int64_t syn_ns, synack_ns, hs_ack_ns; /* handshake as seen here */
	int64_t min_ack_delay_ns[2]; /* data from d to the ACK covering it, 0 = none */
	struct data_mark marks[2][FLOW_DATA_MARKS];
	uint32_t mark_next[2];
	uint32_t mark_acked[2]; /* marks before this one are covered by ACKs */
	/* QEMU's return path: page requests (REQ_PAGES, REQ_PAGES_ID) sent by
	 * endpoint d, readable where the stream is plaintext and captured */
	uint32_t page_requests[2];
	int64_t first_request_ns[2], last_request_ns[2];
	bool seen;
};

struct flow_endpoint {
	struct ip_addr ip;
	uint16_t port;
};

/* Retransmits as an endpoint's own TCP stack counted them (the capture
 * agent's tracer), not inferred from packets. */
struct stack_retx {
	bool set;
	uint64_t segments, bytes;
};

struct mig_flow {
	struct flow_endpoint ep[2];
	struct stack_retx stack_retx[2]; /* by the sending endpoint */
	int client;      /* endpoint that sent the SYN, -1 if not captured */
	int group;       /* index into the table's groups */
	int ep_host[2];  /* group host index of each endpoint */
	uint32_t detect; /* enum flow_detect */
	bool main;       /* QEMU's main channel (its first payload was QEVM) */
	struct flow_view view[MAX_INPUTS];
};

struct rate_meter {
	int64_t bin_end_ns;
	uint64_t bin_bytes;
	uint64_t peak_bin_bytes;
};

/* How much each host had sent, at each capture, at a moment (flow_table__mark). */
struct sent_mark {
	int64_t ts_ns;
	uint64_t sent[MAX_INPUTS][2];
};

/* The flows between two hosts that belong to one migration. */
struct mig_group {
	struct ip_addr host[2]; /* host[0]: the client of the first flow when known */
	bool client_known;
	uint32_t detect;
	int64_t first_ns, last_ns;
	int64_t last_data_ns[2];     /* payload sent by host h, any vantage */
	uint64_t payload_seen[2];    /* for the dominant direction while streaming */
	struct rate_meter rate[MAX_INPUTS][2];
	struct rate_series series[MAX_INPUTS][2]; /* payload sent by host h, over time */
	uint64_t sent[MAX_INPUTS][2];  /* payload sent by host h so far, as the rate counts it */
	struct sent_mark *marks; /* owned by the table, MAX_TIME_MARKS at most */
	int nmarks, cap_marks;
	int nflows;
	/* Which migration this is among those between the same hosts: each
	 * destination QEMU listens on its own port (libvirt, nova: one per
	 * migration), and one stream holds one main channel (QEVM). */
	uint16_t server_port; /* the destination's listening port, 0: unknown */
	int main_flow;        /* flows[] index + 1 of its main channel, 0: none yet */
	int nbd_flows;        /* of its flows, NBD disk copies (libvirt starts them first) */
};

/* A TCP flow on no migration port and without a stream magic, followed
 * lightly (payload each way, at the first capture that saw it), so that a
 * migration relayed on other ports (a proxy, TLS) can be told by its shape
 * once reading is done. */
struct bulk_flow {
	struct flow_endpoint ep[2]; /* ep[0] sent the first payload seen */
	uint64_t payload[2];        /* sent by ep[e] */
	int64_t first_data_ns, last_data_ns;
	uint8_t input;              /* the capture it is counted at */
	bool tls;                   /* its first payload was a TLS record */
};

struct flow_table;

/* ports: the migration ports; shaped: ports taken as migration ports on the
 * evidence of a stream's shape (DETECT_SHAPE), or NULL; follow_bulk: keep
 * the other TCP flows with payload (flow_table__bulk). Both borrowed. */
struct flow_table *flow_table__new(const struct portset *ports, const struct portset *shaped,
				   bool follow_bulk);
void flow_table__free(struct flow_table *t);

/* Accounts one classified TCP frame seen by capture `input`. payload points at
 * the captured payload bytes (cap_payload of them, maybe 0). Returns true
 * when the frame belongs to a migration stream. */
bool flow_table__packet(struct flow_table *t, int input, int64_t ts_ns, uint32_t wirelen,
			const struct pkt_meta *m, const uint8_t *payload, uint32_t cap_payload);

/* Notes, for every migration under way (begun, and active within
 * GROUP_JOIN_NS), how much each host had sent at ts_ns: the analyzer calls
 * it at the first round of each guest's RARPs, so that what the source sent
 * after the resume can be told once the resume is known. MAX_TIME_MARKS
 * per migration are kept. */
void flow_table__mark(struct flow_table *t, int64_t ts_ns);

/* Capture `input` holds samples of the stream, not every segment (a migscope
 * capture): its throughput comes from how far the sequence moved between
 * samples. Call before its first packet. */
void flow_table__set_sampled(struct flow_table *t, int input);

/* Exact counts of one flow direction (src -> dst) at capture `input`, from a
 * migscope capture file's counters: they replace what the packets (only
 * samples there) gave, and their times widen the direction's first/last
 * (0: unknown). A flow on a migration port of which no packet was in the
 * file (the agent's ring buffer dropped them all) is created from them.
 * Returns true when the flow is (now) a migration flow. */
struct exact_counts {
	uint64_t packets, payload_bytes, wire_bytes, ooo_segments, ooo_bytes;
	int64_t first_ns, last_ns, last_data_ns; /* on the reference clock */
};
bool flow_table__set_exact(struct flow_table *t, int input, const struct flow_endpoint *src,
			   const struct flow_endpoint *dst, const struct exact_counts *c);

/* The sender's own retransmit count for flow direction src -> dst (a
 * migscope capture's tracer on the sender's node). Returns true when that
 * flow is a known migration flow. */
bool flow_table__set_stack_retx(struct flow_table *t, const struct flow_endpoint *src,
				const struct flow_endpoint *dst, uint64_t segments, uint64_t bytes);

/*
 * One migration as the table hands it over when reading is done: the flows of
 * a group that is a migration (by a stream magic, or at least
 * MIN_PORT_ONLY_BYTES when matched by port only), summed per capture in the
 * direction source -> destination (the source is the host that sends the
 * data: the SYN's sender when in view, else the one that sent more).
 */
struct stream_view {
	bool seen;
	uint64_t packets, payload_bytes, wire_bytes, retx_segments, retx_bytes;
	/* the other direction (destination -> source: ACKs, the return channel) */
	uint64_t rev_packets, rev_payload_bytes, rev_wire_bytes;
	int64_t first_ns;     /* first packet either way, 0: none */
	int64_t last_data_ns; /* last data source -> destination, 0: none */
	int64_t ack_delay_ns; /* shortest data-to-ACK delay of the source's data, 0: none */
	/* The handshake of the last flow whose SYN, SYN/ACK and final ACK this
	 * capture saw (handshake false: none): how long the server took to answer
	 * the SYN and the client the SYN/ACK, and whether the client is the source. */
	bool handshake, client_is_source;
	int64_t syn_to_synack_ns, synack_to_ack_ns;
};

/* One TCP connection of a migration: QEMU's main channel, a multifd channel,
 * NBD, libvirtd's tunnel; bytes in the migration direction (source ->
 * destination) and back, at each capture. */
struct mig_channel {
	struct flow_endpoint src, dst; /* the source's end, the destination's */
	uint32_t detect;               /* enum flow_detect */
	int64_t first_ns;              /* its first packet, any capture */
	struct {
		bool seen;
		uint64_t out_bytes, rev_bytes;
		/* the return path's page requests this capture saw, and when */
		uint32_t page_requests;
		int64_t first_request_ns, last_request_ns;
	} view[MAX_INPUTS];
	uint32_t page_requests;        /* return-path page requests, most any capture saw */
	int64_t first_request_ns, last_request_ns; /* at that capture (the first on a tie) */
};

struct mig_stream {
	int group;                   /* the guest set's silences are kept per group */
	int64_t first_ns, last_ns;   /* the group's first and last packet, any capture */
	struct ip_addr source, destination;
	int nflows;
	uint32_t detect;             /* enum flow_detect, of every flow */
	int64_t last_data_ns;        /* the source's last data, any capture */
	/* the destination's first FIN on a channel other than NBD, any capture
	 * (0: none seen): QEMU closes its end just after it resumed the guest and
	 * sent the first announcement, so this marks the resume more tightly
	 * than the last data, which precedes it by the device-state load */
	int64_t close_ns;
	struct stream_view view[MAX_INPUTS];
	/* the source's payload over time at each capture, and its busiest
	 * RATE_BIN_NS bin there */
	const struct rate_series *rate[MAX_INPUTS];
	uint64_t peak_bin_bytes[MAX_INPUTS];
	/* the source node's own retransmits (a migscope capture's tracer), summed
	 * over the flows it named: how many it named, segments, bytes */
	int stack_retx_flows;
	uint64_t stack_retx_segments, stack_retx_bytes;
	/* its connections in order of their first packet; owned (flow_table__migrations_free) */
	struct mig_channel *channels;
	int nchannels;
	/* what the source had sent at each capture: in all, and at the marks
	 * (the table's, borrowed: what host `marks_src` had sent there) */
	uint64_t sent[MAX_INPUTS];
	const struct sent_mark *marks;
	int nmarks, marks_src;
};

/* A port-matched group smaller than this is a libvirt RPC or a guest flow on
 * an ephemeral port, not a migration: the smallest VM sends more. */
#define MIN_PORT_ONLY_BYTES (64 * 1024)

/* The migrations in time order (by first packet), into *out (released with
 * flow_table__migrations_free; NULL when none). Returns how many, or -ENOMEM.
 * The rate series and the marks point into the table, which must outlive them. */
int flow_table__migrations(const struct flow_table *t, int ninputs, struct mig_stream **out);
void flow_table__migrations_free(struct mig_stream *ms, int n);

/* What the source sent at capture `input` after ts_ns, when ts_ns is one of
 * the marks (flow_table__mark); -1 when it is not. */
int64_t mig_stream_sent_after(const struct mig_stream *ms, int input, int64_t ts_ns);

/* The other TCP flows with payload, when followed; *n of them. */
const struct bulk_flow *flow_table__bulk(const struct flow_table *t, int *n);

int flow_table__nflows(const struct flow_table *t);
const struct mig_flow *flow_table__flow(const struct flow_table *t, int i);
int flow_table__ngroups(const struct flow_table *t);
/* Per group, its source host's last data so far (0: none yet), and the
 * groups in order of it, latest first: the guest set's struct switch_refs at
 * every frame; valid for flow_table__ngroups(). */
const int64_t *flow_table__switch_ns(const struct flow_table *t);
const int16_t *flow_table__latest_first(const struct flow_table *t);
const struct mig_group *flow_table__group(const struct flow_table *t, int i);
/* Warnings the table raised (a cap reached), NULL if none. */
const char *flow_table__warning(const struct flow_table *t);

/* The evidence bits as the report names them: "port,qevm". */
const char *flow_detect_names(uint32_t detect, char *buf, size_t len);

/* The host of group g that sends the migration data: the SYN sender if
 * known, else the host that sent more payload. */
int mig_group_source_host(const struct mig_group *g);

#endif
