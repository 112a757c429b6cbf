#include "analysis/flows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/tcp_seq.h"

/* Stream magics (big-endian on the wire): QEMU's "QEVM" and multifd's. */
enum {
	QEMU_VM_FILE_MAGIC = 0x5145564d,
	MULTIFD_MAGIC = 0x11223344,
	TLS_HANDSHAKE = 0x16,      /* a TLS record's content type (RFC 8446 5.1) */
	LIBVIRTD_TCP = 16509,      /* libvirtd's ports: a tunnelled migration rides them */
	LIBVIRTD_TLS = 16514,
	/* QEMU's return path (migration/migration.c): be16 type, be16 length */
	RP_REQ_PAGES_ID = 3,       /* be64 start, be32 length, u8 idlen, RAMBlock id */
	RP_REQ_PAGES = 4,          /* be64 start, be32 length */
	RP_REQ_PAGES_LEN = 12,
};
static const uint8_t NBD_MAGIC[8] = { 'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C' };

struct flow_slot {
	struct flow_endpoint ep[2]; /* as first seen: ep[0] sent the first packet */
	int flow;                   /* index into flows, -1: a known non-migration flow */
	bool used;
};

/* The last flows looked up, by raw IPv4 tuple: a stream is long runs of the
 * same flow's data and ACKs, so most packets skip the hash table. */
struct flow_cache_entry {
	uint64_t addrs;  /* source and destination IPv4 address */
	uint32_t ports;  /* source and destination port */
	int32_t slot;    /* -1: empty */
	int src_ep;
};

struct flow_table {
	const struct portset *ports;
	const struct portset *shaped; /* NULL: none */
	bool follow_bulk;
	struct bulk_flow bulk[MAX_BULK_FLOWS];
	int16_t bulk_index[2 * MAX_BULK_FLOWS]; /* hash -> bulk[] + 1 */
	int nbulk;
	struct flow_cache_entry cache[2];
	struct flow_slot slots[FLOW_TABLE_SLOTS];
	struct mig_flow flows[MAX_MIG_FLOWS];
	struct mig_group groups[MAX_GROUPS];
	int64_t switch_ns[MAX_GROUPS]; /* flow_table__switch_ns: kept as data comes */
	int16_t latest_first[MAX_GROUPS]; /* groups by switch_ns, latest first */
	int16_t switch_rank[MAX_GROUPS];  /* g's place in latest_first */
	int nflows, ngroups, nslots_used;
	bool sampled[MAX_INPUTS]; /* the capture holds samples of the stream */
	char warning[256]; /* caps reached, "; " between */
};

/* The one place a group's source and its last data are read together: its
 * switch time so far changes only when its data does. */
static void group_data_moved(struct flow_table *t, int gi)
{
	const struct mig_group *g = &t->groups[gi];
	int64_t v = g->last_data_ns[mig_group_source_host(g)];
	int k = t->switch_rank[gi];

	t->switch_ns[gi] = v;
	/* data comes in time order: nearly always to the front, past the few
	 * groups streaming now; a source that changed sides may move it back */
	while (k > 0 && t->switch_ns[t->latest_first[k - 1]] < v) {
		t->latest_first[k] = t->latest_first[k - 1];
		t->switch_rank[t->latest_first[k]] = (int16_t)k;
		k--;
	}
	while (k + 1 < t->ngroups && t->switch_ns[t->latest_first[k + 1]] > v) {
		t->latest_first[k] = t->latest_first[k + 1];
		t->switch_rank[t->latest_first[k]] = (int16_t)k;
		k++;
	}
	t->latest_first[k] = (int16_t)gi;
	t->switch_rank[gi] = (int16_t)k;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline bool endpoint_eq(const struct flow_endpoint *a, const struct flow_endpoint *b)
{
	return a->port == b->port && load64(a->ip.bytes) == load64(b->ip.bytes) &&
	       load64(a->ip.bytes + 8) == load64(b->ip.bytes + 8);
}

static inline uint32_t endpoint_hash(const struct flow_endpoint *e)
{
	uint64_t h = load64(e->ip.bytes) ^ (load64(e->ip.bytes + 8) * 0x9e3779b97f4a7c15ull);

	h = (h ^ e->port) * 0xff51afd7ed558ccdull;
	return (uint32_t)(h ^ (h >> 32));
}

/* A packet's two endpoints: ep[0] its sender, ep[1] its receiver. */
static void packet_endpoints(const struct pkt_meta *m, struct flow_endpoint ep[2])
{
	memset(ep, 0, 2 * sizeof(*ep));
	ep[0].ip.family = ep[1].ip.family = (m->flags & PKT_F_IPV6) ? 6 : 4;
	memcpy(ep[0].ip.bytes, m->ip_src, ep[0].ip.family == 4 ? 4 : 16);
	memcpy(ep[1].ip.bytes, m->ip_dst, ep[1].ip.family == 4 ? 4 : 16);
	ep[0].port = m->sport;
	ep[1].port = m->dport;
}

/* The same for both directions of a flow, so a lookup needs no ordering. */
static inline uint32_t flow_hash(const struct flow_endpoint *a, const struct flow_endpoint *b)
{
	uint32_t h = endpoint_hash(a) + endpoint_hash(b);

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	return h ^ (h >> 13);
}

struct flow_table *flow_table__new(const struct portset *ports, const struct portset *shaped,
				   bool follow_bulk)
{
	struct flow_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ports = ports;
	t->shaped = shaped;
	t->follow_bulk = follow_bulk;
	t->cache[0].slot = t->cache[1].slot = -1;
	return t;
}

void flow_table__free(struct flow_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->ngroups; i++) {
		free(t->groups[i].marks);
		for (int in = 0; in < MAX_INPUTS; in++)
			for (int h = 0; h < 2; h++)
				rate_series_free(&t->groups[i].series[in][h]);
	}
	free(t);
}

/* Every cap reached is named, once, in one line (analysis/limits.h). */
static void set_warning(struct flow_table *t, const char *msg)
{
	size_t n = strlen(t->warning);

	if (!strstr(t->warning, msg))
		snprintf(t->warning + n, sizeof(t->warning) - n, "%s%s", n ? "; " : "", msg);
}

static uint32_t magic_detect(const uint8_t *payload, uint32_t cap_payload)
{
	if (cap_payload >= 4 && rd32(payload) == QEMU_VM_FILE_MAGIC)
		return DETECT_QEVM;
	if (cap_payload >= 4 && rd32(payload) == MULTIFD_MAGIC)
		return DETECT_MULTIFD;
	if (cap_payload >= 8 && memcmp(payload, NBD_MAGIC, 8) == 0)
		return DETECT_NBD;
	return 0;
}

/* What a migration flow's first payload shows: a magic, or TLS records
 * (handshake, TLS 1.0-1.3 record version), which hide them. TLS alone never
 * makes a flow a migration: HTTPS looks the same. */
static uint32_t stream_kind(const uint8_t *payload, uint32_t cap_payload)
{
	uint32_t magic = magic_detect(payload, cap_payload);

	if (magic)
		return magic;
	if (cap_payload >= 3 && payload[0] == TLS_HANDSHAKE && payload[1] == 3 && payload[2] <= 4)
		return DETECT_TLS;
	return 0;
}

/* QEMU's return-path page requests at the start of a segment's payload,
 * each message's length checked (QEMU sends them one or a few per segment). */
static uint32_t page_requests(const uint8_t *p, uint32_t cap)
{
	uint32_t n = 0, off = 0;

	while (off + 4 <= cap) {
		uint16_t type = (uint16_t)(p[off] << 8 | p[off + 1]);
		uint16_t len = (uint16_t)(p[off + 2] << 8 | p[off + 3]);

		if (type == RP_REQ_PAGES && len == RP_REQ_PAGES_LEN)
			n++;
		else if (type == RP_REQ_PAGES_ID && len > RP_REQ_PAGES_LEN &&
			 (off + 4 + RP_REQ_PAGES_LEN >= cap ||
			  p[off + 4 + RP_REQ_PAGES_LEN] == len - RP_REQ_PAGES_LEN - 1))
			n++;
		else
			break;
		off += 4 + (uint32_t)len;
	}
	return n;
}

/* Which evidence makes a not yet tracked flow a migration stream, 0 if none. */
static uint32_t detect_new_flow(const struct flow_table *t, const struct pkt_meta *m,
				const uint8_t *payload, uint32_t cap_payload)
{
	bool syn_only = (m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN;
	bool synack = (m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == (PKT_TCP_SYN | PKT_TCP_ACK);
	uint32_t magic = magic_detect(payload, cap_payload);

	if (magic)
		return magic;
	if (t->shaped && (portset_has(t->shaped, m->sport) || portset_has(t->shaped, m->dport)))
		return DETECT_PORT | DETECT_SHAPE;
	/* With the handshake in view only the listening port may match: an
	 * ephemeral client port inside the range is a coincidence. */
	if (syn_only)
		return portset_has(t->ports, m->dport) ? DETECT_PORT : 0;
	if (synack)
		return portset_has(t->ports, m->sport) ? DETECT_PORT : 0;
	if (portset_has(t->ports, m->sport) || portset_has(t->ports, m->dport))
		return DETECT_PORT;
	return 0;
}

/* The destination's listening port of a flow: the SYN's target when the
 * handshake was seen, else the one end on a migration port, else 0. */
static uint16_t flow_server_port(const struct flow_table *t, const struct mig_flow *f)
{
	bool in0, in1;

	if (f->client >= 0)
		return f->ep[!f->client].port;
	in0 = portset_has(t->ports, f->ep[0].port) ||
	      (t->shaped && portset_has(t->shaped, f->ep[0].port));
	in1 = portset_has(t->ports, f->ep[1].port) ||
	      (t->shaped && portset_has(t->shaped, f->ep[1].port));
	return in0 == in1 ? 0 : in0 ? f->ep[0].port : f->ep[1].port;
}

static int group_new(struct flow_table *t, const struct mig_flow *f, int64_t ts_ns,
		     uint16_t server_port)
{
	struct mig_group *g;

	if (t->ngroups == MAX_GROUPS) {
		set_warning(t, "more migrations than the analyzer keeps, later ones ignored");
		return -1;
	}
	/* still all zeros (the table is calloc'd, a group never reused): a
	 * memset would make all of its ~100 KiB of rate bins resident */
	g = &t->groups[t->ngroups];
	/* host[0] is the client when the SYN is in view, else the first sender */
	g->host[0] = f->ep[f->client == 1 ? 1 : 0].ip;
	g->host[1] = f->ep[f->client == 1 ? 0 : 1].ip;
	g->client_known = f->client >= 0;
	g->first_ns = ts_ns;
	g->last_ns = ts_ns;
	g->server_port = server_port;
	t->latest_first[t->ngroups] = (int16_t)t->ngroups; /* no data yet: last */
	t->switch_rank[t->ngroups] = (int16_t)t->ngroups;
	return t->ngroups++;
}

/* A migration between the same hosts, the same way, active within
 * GROUP_JOIN_NS: the one on the flow's listening port (its main channel,
 * multifd channels), else one that so far copied a disk alone (libvirt opens
 * NBD before the memory stream, on another port), else one whose port is not
 * known. Concurrent migrations between two hosts listen on ports of their
 * own, so each keeps its streams. */
static int group_for_flow(struct flow_table *t, const struct mig_flow *f, int64_t ts_ns)
{
	uint16_t sp = flow_server_port(t, f);
	int disk = -1, open = -1;

	for (int i = t->ngroups - 1; i >= 0; i--) {
		struct mig_group *g = &t->groups[i];
		int h;

		if (ts_ns - g->last_ns > GROUP_JOIN_NS)
			continue;
		for (h = 0; h < 2; h++)
			if (ip_equal(&g->host[h], &f->ep[0].ip) && ip_equal(&g->host[!h], &f->ep[1].ip))
				break;
		if (h == 2)
			continue;
		/* a flow opened the other way is the migration back */
		if (f->client >= 0 && g->client_known && (f->client == 0) != (h == 0))
			continue;
		if (!sp || !g->server_port || g->server_port == sp) {
			if (sp && g->server_port == sp)
				return i;
			if (open < 0)
				open = i;
		} else if (g->nbd_flows == g->nflows && !g->main_flow && disk < 0) {
			disk = i;
		}
	}
	if (disk >= 0) {
		t->groups[disk].server_port = sp;
		return disk;
	}
	if (open >= 0) {
		if (!t->groups[open].server_port)
			t->groups[open].server_port = sp;
		return open;
	}
	return group_new(t, f, ts_ns, sp);
}

static void group_add_flow(struct flow_table *t, struct mig_flow *f, int g)
{
	f->group = g;
	for (int e = 0; e < 2; e++)
		f->ep_host[e] = ip_equal(&t->groups[g].host[0], &f->ep[e].ip) ? 0 : 1;
	t->groups[g].nflows++;
	t->groups[g].detect |= f->detect;
	if (f->detect & DETECT_NBD)
		t->groups[g].nbd_flows++;
}

/* A flow whose first payload shows QEMU's magic is a migration's main
 * channel; a second one in a group is the next migration on the same port
 * (an evacuation reusing it within GROUP_JOIN_NS): it moves to a new group,
 * having brought nothing but its handshake to the old one. */
static void claim_main(struct flow_table *t, struct mig_flow *f, int64_t ts_ns)
{
	struct mig_group *g = &t->groups[f->group];
	int idx = (int)(f - t->flows), ng;

	f->main = true;
	if (!g->main_flow) {
		g->main_flow = idx + 1;
		return;
	}
	for (int i = 0; i < MAX_INPUTS; i++)
		for (int e = 0; e < 2; e++)
			if (f->view[i].dir[e].packets && f->view[i].dir[e].first_ns < ts_ns)
				ts_ns = f->view[i].dir[e].first_ns;
	ng = group_new(t, f, ts_ns, g->server_port);
	if (ng < 0)
		return;
	g->nflows--;
	t->groups[ng].client_known = g->client_known;
	t->groups[ng].host[0] = g->host[0];
	t->groups[ng].host[1] = g->host[1];
	group_add_flow(t, f, ng);
	t->groups[ng].main_flow = idx + 1;
}

/* Finds the flow of a packet from `src` to `dst` in either orientation;
 * *src_ep tells which stored endpoint sent it. On a miss, returns the free
 * slot to fill (NULL when the table is full). */
static struct flow_slot *slot_lookup(struct flow_table *t, const struct flow_endpoint *src,
				     const struct flow_endpoint *dst, bool *found, int *src_ep)
{
	uint32_t i = flow_hash(src, dst) & (FLOW_TABLE_SLOTS - 1);

	for (uint32_t n = 0; n < FLOW_TABLE_SLOTS; n++, i = (i + 1) & (FLOW_TABLE_SLOTS - 1)) {
		struct flow_slot *s = &t->slots[i];

		*found = s->used;
		*src_ep = 0;
		if (!s->used)
			return s;
		if (endpoint_eq(&s->ep[0], src) && endpoint_eq(&s->ep[1], dst))
			return s;
		if (endpoint_eq(&s->ep[1], src) && endpoint_eq(&s->ep[0], dst)) {
			*src_ep = 1;
			return s;
		}
	}
	*found = false;
	return NULL;
}

static struct mig_flow *flow_create(struct flow_table *t, struct flow_slot *slot,
				    const struct flow_endpoint ep[2], int src_ep,
				    const struct pkt_meta *m, uint32_t detect, int64_t ts_ns)
{
	struct mig_flow *f;
	int g;

	if (t->nflows == MAX_MIG_FLOWS) {
		set_warning(t, "more migration flows than the analyzer keeps, later ones ignored");
		return NULL;
	}
	f = &t->flows[t->nflows];
	memset(f, 0, sizeof(*f));
	f->ep[0] = ep[0];
	f->ep[1] = ep[1];
	f->detect = detect;
	for (int e = 0; e < 2; e++)
		if (ep[e].port == LIBVIRTD_TCP || ep[e].port == LIBVIRTD_TLS)
			f->detect |= DETECT_TUNNEL;
	f->client = -1;
	if ((m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN)
		f->client = src_ep;
	else if (m->tcp_flags & PKT_TCP_SYN)
		f->client = !src_ep;
	g = group_for_flow(t, f, ts_ns);
	if (g < 0)
		return NULL;
	group_add_flow(t, f, g);
	slot->flow = t->nflows;
	return &t->flows[t->nflows++];
}

/* Sequence analysis of one data segment in one direction at one vantage
 * (bpf/tcp_seq.h, the rule the capture agent counts by). Returns whether it
 * was a retransmission. */
static bool account_data(struct dir_stats *d, const struct pkt_meta *m)
{
	uint32_t len = m->l4_payload_len;

	if (!tcp_seq_account(&d->max_end_seq, &d->seq_valid, m->tcp_seq, len, 0))
		return false;
	d->retx_segments++;
	d->retx_bytes += len;
	return true;
}

static void remember_data(struct flow_view *v, int dir, uint32_t end_seq, int64_t ts_ns)
{
	struct data_mark *mk = &v->marks[dir][v->mark_next[dir] % FLOW_DATA_MARKS];

	mk->end_seq = end_seq;
	mk->ts_ns = ts_ns;
	v->mark_next[dir]++;
}

/* The delay from a data segment to the ACK that covers exactly it: short at
 * the receiver's NIC, a full round trip at the sender's. ACKs move forward,
 * so the search resumes where the last one stopped: O(1) per ACK. */
static void time_ack(struct flow_view *v, int data_dir, uint32_t ack, int64_t ts_ns)
{
	uint32_t n = v->mark_next[data_dir], k = v->mark_acked[data_dir];
	int64_t delay, *best = &v->min_ack_delay_ns[data_dir];

	if (n - k > FLOW_DATA_MARKS)
		k = n - FLOW_DATA_MARKS;
	for (; k < n; k++) {
		const struct data_mark *mk = &v->marks[data_dir][k % FLOW_DATA_MARKS];

		if (!tcp_seq_before(mk->end_seq, ack)) {
			if (mk->end_seq != ack)
				break;
			delay = ts_ns - mk->ts_ns;
			if (delay >= 0 && (*best == 0 || delay < *best))
				*best = delay == 0 ? 1 : delay;
			k++;
			break;
		}
	}
	v->mark_acked[data_dir] = k;
}

/* Bins start at the meter's first byte, so a stream shorter than a few bins is
 * not split across clock-aligned edges (which made the peak read below the
 * average). Only closed bins, a full RATE_BIN_NS long, can be the peak: the
 * open last one covers an unknown share of its width. */
static void rate_add(struct rate_meter *r, int64_t ts_ns, uint64_t bytes)
{
	if (bytes == 0)
		return; /* a bare ACK or SYN must not anchor or close a bin */
	if (r->bin_end_ns == 0) {
		r->bin_end_ns = ts_ns + RATE_BIN_NS;
	} else if (ts_ns >= r->bin_end_ns) {
		if (r->bin_bytes > r->peak_bin_bytes)
			r->peak_bin_bytes = r->bin_bytes;
		r->bin_end_ns += ((ts_ns - r->bin_end_ns) / RATE_BIN_NS + 1) * RATE_BIN_NS;
		r->bin_bytes = 0;
	}
	r->bin_bytes += bytes;
}

static void record_handshake(struct flow_view *v, const struct mig_flow *f, int src_ep,
			     const struct pkt_meta *m, int64_t ts_ns)
{
	uint8_t sa = m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK);

	if (sa == PKT_TCP_SYN && !v->syn_ns)
		v->syn_ns = ts_ns;
	else if (sa == (PKT_TCP_SYN | PKT_TCP_ACK) && !v->synack_ns)
		v->synack_ns = ts_ns;
	else if (sa == PKT_TCP_ACK && v->synack_ns && !v->hs_ack_ns && src_ep == f->client)
		v->hs_ack_ns = ts_ns;
}

/* A handshake to a port outside the set whose client port falls inside it:
 * remember the flow so its later segments are not taken by port. */
static void remember_non_migration(struct flow_table *t, struct flow_slot *slot,
				   const struct flow_endpoint ep[2], const struct pkt_meta *m)
{
	if ((m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) != PKT_TCP_SYN ||
	    !portset_has(t->ports, m->sport) || t->nslots_used >= FLOW_TABLE_SLOTS / 2)
		return;
	slot->used = true;
	slot->flow = -1;
	slot->ep[0] = ep[0];
	slot->ep[1] = ep[1];
	t->nslots_used++;
}

/* Follows a flow that is no migration by port or magic (flow_table__bulk). */
static void bulk_packet(struct flow_table *t, int input, int64_t ts_ns, const struct pkt_meta *m,
			const uint8_t *payload, uint32_t cap_payload)
{
	struct flow_endpoint ep[2];
	uint32_t i;
	int e;

	packet_endpoints(m, ep);
	i = flow_hash(&ep[0], &ep[1]) & (2 * MAX_BULK_FLOWS - 1);
	for (int n = 0; n < 2 * MAX_BULK_FLOWS; n++, i = (i + 1) & (2 * MAX_BULK_FLOWS - 1)) {
		struct bulk_flow *b;

		if (!t->bulk_index[i]) {
			if (t->nbulk == MAX_BULK_FLOWS) {
				set_warning(t, "too many other TCP flows to find a migration by its "
					    "shape in; give --ports");
				return;
			}
			b = &t->bulk[t->nbulk];
			b->ep[0] = ep[0];
			b->ep[1] = ep[1];
			b->input = (uint8_t)input;
			b->first_data_ns = ts_ns;
			b->tls = stream_kind(payload, cap_payload) == DETECT_TLS;
			t->bulk_index[i] = (int16_t)++t->nbulk;
		}
		b = &t->bulk[t->bulk_index[i] - 1];
		e = endpoint_eq(&b->ep[0], &ep[0]) && endpoint_eq(&b->ep[1], &ep[1]) ? 0
		    : endpoint_eq(&b->ep[1], &ep[0]) && endpoint_eq(&b->ep[0], &ep[1]) ? 1 : -1;
		if (e < 0)
			continue;
		if (b->input != input)
			return; /* counted at the first capture that saw it */
		b->payload[e] += m->l4_payload_len;
		b->last_data_ns = ts_ns;
		return;
	}
}

const struct bulk_flow *flow_table__bulk(const struct flow_table *t, int *n)
{
	*n = t->nbulk;
	return t->bulk;
}

bool flow_table__packet(struct flow_table *t, int input, int64_t ts_ns, uint32_t wirelen,
			const struct pkt_meta *m, const uint8_t *payload, uint32_t cap_payload)
{
	struct flow_endpoint ep[2];
	struct flow_slot *slot;
	struct mig_flow *f;
	struct mig_group *g;
	struct flow_view *v;
	struct dir_stats *d;
	uint32_t detect, prev_end;
	int src_ep, host;
	bool found, had_seq, retx;
	uint32_t bytes;

	struct flow_cache_entry *ce = NULL;
	uint64_t addrs = 0;
	uint32_t ports = (uint32_t)m->sport << 16 | m->dport;

	if (!(m->flags & PKT_F_IPV6)) {
		memcpy(&addrs, m->ip_src, 4);
		memcpy((uint8_t *)&addrs + 4, m->ip_dst, 4);
		for (int i = 0; i < 2; i++)
			if (t->cache[i].slot >= 0 && t->cache[i].addrs == addrs &&
			    t->cache[i].ports == ports)
				ce = &t->cache[i];
	}
	if (ce) {
		slot = &t->slots[ce->slot];
		found = true;
		src_ep = ce->src_ep;
	} else {
		/* ep[0]: the sender. A new flow keeps this order: ep[0] is
		 * whoever was seen first. */
		packet_endpoints(m, ep);
		slot = slot_lookup(t, &ep[0], &ep[1], &found, &src_ep);
		if (!slot) {
			set_warning(t, "TCP flow table full, later flows ignored");
			return false;
		}
		if (found && slot->flow >= 0 && !(m->flags & PKT_F_IPV6)) {
			ce = &t->cache[src_ep];
			*ce = (struct flow_cache_entry){ .addrs = addrs, .ports = ports,
							 .slot = (int32_t)(slot - t->slots),
							 .src_ep = src_ep };
		}
	}
	if (found && slot->flow >= 0) {
		f = &t->flows[slot->flow];
	} else {
		/* a flow ruled out by its handshake can still prove itself by magic */
		detect = found ? magic_detect(payload, cap_payload)
			       : detect_new_flow(t, m, payload, cap_payload);
		if (!detect) {
			if (!found)
				remember_non_migration(t, slot, ep, m);
			if (t->follow_bulk && m->l4_payload_len)
				bulk_packet(t, input, ts_ns, m, payload, cap_payload);
			return false;
		}
		if (!found && t->nslots_used >= FLOW_TABLE_SLOTS / 2) {
			set_warning(t, "TCP flow table full, later flows ignored");
			return false;
		}
		/* directions are indexes into the slot's endpoint order */
		f = flow_create(t, slot, found ? slot->ep : ep, src_ep, m, detect, ts_ns);
		if (!f)
			return false;
		if (!found) {
			slot->used = true;
			slot->ep[0] = ep[0];
			slot->ep[1] = ep[1];
			t->nslots_used++;
		}
	}

	g = &t->groups[f->group];
	/* a flow taken by its port, libvirtd's or one found by the stream's
	 * shape, says what it carries in its first payload: TLS records or a
	 * magic */
	if (cap_payload >= 3 && !(f->detect & ~(DETECT_PORT | DETECT_TUNNEL | DETECT_SHAPE))) {
		f->detect |= stream_kind(payload, cap_payload);
		g->detect |= f->detect;
		if (f->detect & DETECT_NBD)
			g->nbd_flows++;
	}
	if ((f->detect & DETECT_QEVM) && !f->main) {
		claim_main(t, f, ts_ns);
		g = &t->groups[f->group];
	}
	v = &f->view[input];
	v->seen = true;
	d = &v->dir[src_ep];
	if (!d->packets)
		d->first_ns = ts_ns;
	d->packets++;
	d->last_ns = ts_ns;
	d->wire_bytes += wirelen;
	if (ts_ns > g->last_ns)
		g->last_ns = ts_ns;
	if (ts_ns < g->first_ns)
		g->first_ns = ts_ns;

	if (!v->hs_ack_ns && (m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)))
		record_handshake(v, f, src_ep, m, ts_ns);
	if ((m->tcp_flags & PKT_TCP_FIN) && !d->fin_ns)
		d->fin_ns = ts_ns;
	if (m->tcp_flags & PKT_TCP_ACK)
		time_ack(v, !src_ep, m->tcp_ack, ts_ns);

	if (m->l4_payload_len == 0)
		return true;
	if (!d->first_data_ns)
		d->first_data_ns = ts_ns;
	d->last_data_ns = ts_ns;
	d->payload_bytes += m->l4_payload_len;
	prev_end = d->max_end_seq;
	had_seq = d->seq_valid;
	retx = account_data(d, m);
	remember_data(v, src_ep, m->tcp_seq + m->l4_payload_len, ts_ns);
	if (cap_payload >= 4 && !retx) {
		uint32_t rq = page_requests(payload, cap_payload);

		if (rq) {
			if (!v->page_requests[src_ep])
				v->first_request_ns[src_ep] = ts_ns;
			v->last_request_ns[src_ep] = ts_ns;
			v->page_requests[src_ep] += rq;
		}
	}
	host = f->ep_host[src_ep];
	g->payload_seen[host] += m->l4_payload_len;
	if (ts_ns > g->last_data_ns[host])
		g->last_data_ns[host] = ts_ns;
	group_data_moved(t, f->group);
	/* samples of a stream: the bytes since the last one are how far the
	 * sequence moved, not the sample's own payload */
	bytes = !t->sampled[input] || !had_seq ? m->l4_payload_len
		: tcp_seq_before(prev_end, d->max_end_seq) ? d->max_end_seq - prev_end : 0;
	rate_add(&g->rate[input][host], ts_ns, bytes);
	g->sent[input][host] += bytes;
	if (rate_series_add(&g->series[input][host], ts_ns, bytes, retx))
		set_warning(t, "out of memory: a throughput plot misses some bins");
	return true;
}

static bool endpoint_equal(const struct flow_endpoint *a, const struct flow_endpoint *b)
{
	return a->port == b->port && ip_equal(&a->ip, &b->ip);
}

/* The migration flow with these endpoints; *e: which endpoint src is. */
static struct mig_flow *flow_by_endpoints(struct flow_table *t, const struct flow_endpoint *src,
					  const struct flow_endpoint *dst, int *e)
{
	for (int i = 0; i < t->nflows; i++) {
		struct mig_flow *f = &t->flows[i];

		if (endpoint_equal(&f->ep[0], src) && endpoint_equal(&f->ep[1], dst)) {
			*e = 0;
			return f;
		}
		if (endpoint_equal(&f->ep[1], src) && endpoint_equal(&f->ep[0], dst)) {
			*e = 1;
			return f;
		}
	}
	return NULL;
}

void flow_table__mark(struct flow_table *t, int64_t ts_ns)
{
	for (int i = 0; i < t->ngroups; i++) {
		struct mig_group *g = &t->groups[i];

		if (ts_ns < g->first_ns || ts_ns - g->last_ns > GROUP_JOIN_NS)
			continue;
		if (g->nmarks == g->cap_marks) {
			/* by half again: an evacuation's groups each mark hundreds */
			int cap = g->cap_marks ? g->cap_marks + g->cap_marks / 2 : 16;
			struct sent_mark *m;

			if (cap > MAX_TIME_MARKS)
				cap = MAX_TIME_MARKS;
			if (g->cap_marks >= MAX_TIME_MARKS) {
				set_warning(t, "too many RARPs during one migration, later ones not "
					    "weighed as its resume");
				continue;
			}
			m = realloc(g->marks, (size_t)cap * sizeof(*m));
			if (!m) {
				set_warning(t, "out of memory for the stream's marks");
				continue;
			}
			g->marks = m;
			g->cap_marks = cap;
		}
		g->marks[g->nmarks].ts_ns = ts_ns;
		memcpy(g->marks[g->nmarks++].sent, g->sent, sizeof(g->sent));
	}
}

void flow_table__set_sampled(struct flow_table *t, int input)
{
	if (input >= 0 && input < MAX_INPUTS)
		t->sampled[input] = true;
}

/* A flow only the counters know of: detected by its port, as the agent counts
 * only those; no handshake in view, so no client. */
static struct mig_flow *flow_from_counts(struct flow_table *t, const struct flow_endpoint *src,
					 const struct flow_endpoint *dst, int64_t ts_ns)
{
	const struct flow_endpoint ep[2] = { *src, *dst };
	struct pkt_meta m = { .tcp_flags = 0 };
	struct flow_slot *slot;
	struct mig_flow *f;
	bool found;
	int src_ep;

	if (!portset_has(t->ports, src->port) && !portset_has(t->ports, dst->port))
		return NULL;
	slot = slot_lookup(t, src, dst, &found, &src_ep);
	if (!slot || found || t->nslots_used >= FLOW_TABLE_SLOTS / 2)
		return NULL; /* full, or a flow ruled out by its handshake */
	f = flow_create(t, slot, ep, 0, &m, DETECT_PORT, ts_ns);
	if (!f)
		return NULL;
	slot->used = true;
	slot->ep[0] = ep[0];
	slot->ep[1] = ep[1];
	t->nslots_used++;
	return f;
}

bool flow_table__set_exact(struct flow_table *t, int input, const struct flow_endpoint *src,
			   const struct flow_endpoint *dst, const struct exact_counts *c)
{
	int e = 0;
	struct mig_flow *f = flow_by_endpoints(t, src, dst, &e);
	struct mig_group *g;
	struct dir_stats *d;
	int host;

	if (!f && !(f = flow_from_counts(t, src, dst, c->first_ns)))
		return false;
	g = &t->groups[f->group];
	host = f->ep_host[e];
	d = &f->view[input].dir[e];
	/* the group's size test (64 KiB for port-only flows) saw samples */
	if (c->payload_bytes > d->payload_bytes)
		g->payload_seen[host] += c->payload_bytes - d->payload_bytes;
	f->view[input].seen = true;
	d->packets = c->packets;
	d->payload_bytes = c->payload_bytes;
	d->wire_bytes = c->wire_bytes;
	d->retx_segments = c->ooo_segments;
	d->retx_bytes = c->ooo_bytes;
	/* the samples' times, unless the ring buffer lost the first or last */
	if (c->first_ns && (!d->first_ns || c->first_ns < d->first_ns))
		d->first_ns = c->first_ns;
	if (c->last_ns > d->last_ns)
		d->last_ns = c->last_ns;
	if (c->last_data_ns > d->last_data_ns)
		d->last_data_ns = c->last_data_ns;
	if (c->first_ns && c->first_ns < g->first_ns)
		g->first_ns = c->first_ns;
	if (c->last_ns > g->last_ns)
		g->last_ns = c->last_ns;
	if (c->last_data_ns > g->last_data_ns[host])
		g->last_data_ns[host] = c->last_data_ns;
	group_data_moved(t, f->group);
	return true;
}

bool flow_table__set_stack_retx(struct flow_table *t, const struct flow_endpoint *src,
				const struct flow_endpoint *dst, uint64_t segments, uint64_t bytes)
{
	int e;
	struct mig_flow *f = flow_by_endpoints(t, src, dst, &e);

	if (!f)
		return false;
	/* a node's count, whichever of its captures carried it: set, not added */
	f->stack_retx[e] = (struct stack_retx){ .set = true, .segments = segments, .bytes = bytes };
	return true;
}

int flow_table__nflows(const struct flow_table *t)
{
	return t->nflows;
}

const struct mig_flow *flow_table__flow(const struct flow_table *t, int i)
{
	return &t->flows[i];
}

int flow_table__ngroups(const struct flow_table *t)
{
	return t->ngroups;
}

const struct mig_group *flow_table__group(const struct flow_table *t, int i)
{
	return &t->groups[i];
}

const int64_t *flow_table__switch_ns(const struct flow_table *t)
{
	return t->switch_ns;
}

const int16_t *flow_table__latest_first(const struct flow_table *t)
{
	return t->latest_first;
}

const char *flow_table__warning(const struct flow_table *t)
{
	return t->warning[0] ? t->warning : NULL;
}

int mig_group_source_host(const struct mig_group *g)
{
	if (g->client_known)
		return 0;
	return g->payload_seen[1] > g->payload_seen[0] ? 1 : 0;
}

const char *flow_detect_names(uint32_t detect, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } kinds[] = {
		{ DETECT_PORT, "port" }, { DETECT_QEVM, "qevm" },
		{ DETECT_MULTIFD, "multifd" }, { DETECT_NBD, "nbd" },
		{ DETECT_TLS, "tls" }, { DETECT_TUNNEL, "tunnel" }, { DETECT_SHAPE, "shape" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (detect & kinds[k].bit)
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 used ? "," : "", kinds[k].name);
	return buf;
}

/* One flow's share of a migration at one capture, in the source's direction
 * src_ep (the flow endpoint on the source host). */
static void add_view(struct stream_view *sv, const struct mig_flow *fl, const struct flow_view *v,
		     int src_ep)
{
	const struct dir_stats *d = &v->dir[src_ep], *r = &v->dir[!src_ep];
	int64_t delay = v->min_ack_delay_ns[src_ep];

	sv->seen = true;
	sv->packets += d->packets;
	sv->payload_bytes += d->payload_bytes;
	sv->wire_bytes += d->wire_bytes;
	sv->retx_segments += d->retx_segments;
	sv->retx_bytes += d->retx_bytes;
	sv->rev_packets += r->packets;
	sv->rev_payload_bytes += r->payload_bytes;
	sv->rev_wire_bytes += r->wire_bytes;
	for (int e = 0; e < 2; e++)
		if (v->dir[e].packets && (!sv->first_ns || v->dir[e].first_ns < sv->first_ns))
			sv->first_ns = v->dir[e].first_ns;
	if (d->last_data_ns > sv->last_data_ns)
		sv->last_data_ns = d->last_data_ns;
	if (delay && (!sv->ack_delay_ns || delay < sv->ack_delay_ns))
		sv->ack_delay_ns = delay;
	if (v->syn_ns && v->synack_ns && v->hs_ack_ns && fl->client >= 0) {
		sv->handshake = true;
		sv->client_is_source = fl->client == src_ep;
		sv->syn_to_synack_ns = v->synack_ns - v->syn_ns;
		sv->synack_to_ack_ns = v->hs_ack_ns - v->synack_ns;
	}
}

static bool group_is_migration(const struct mig_group *g)
{
	if (g->detect & (DETECT_QEVM | DETECT_MULTIFD | DETECT_NBD))
		return true;
	return g->payload_seen[mig_group_source_host(g)] >= MIN_PORT_ONLY_BYTES;
}

/* One flow as a channel of its migration, its source's end first. */
static void add_channel(struct mig_stream *ms, const struct mig_flow *fl, int src_ep, int ninputs)
{
	struct mig_channel *c = &ms->channels[ms->nchannels++];

	c->src = fl->ep[src_ep];
	c->dst = fl->ep[!src_ep];
	c->detect = fl->detect;
	for (int i = 0; i < ninputs; i++) {
		const struct flow_view *v = &fl->view[i];

		if (!v->seen)
			continue;
		for (int e = 0; e < 2; e++)
			if (v->dir[e].packets && (!c->first_ns || v->dir[e].first_ns < c->first_ns))
				c->first_ns = v->dir[e].first_ns;
		c->view[i].seen = true;
		c->view[i].out_bytes = v->dir[src_ep].payload_bytes;
		c->view[i].rev_bytes = v->dir[!src_ep].payload_bytes;
		c->view[i].page_requests = v->page_requests[!src_ep];
		c->view[i].first_request_ns = v->first_request_ns[!src_ep];
		c->view[i].last_request_ns = v->last_request_ns[!src_ep];
		/* the destination asks; each capture on the way sees the same ones */
		if (v->page_requests[!src_ep] > c->page_requests) {
			c->page_requests = v->page_requests[!src_ep];
			c->first_request_ns = v->first_request_ns[!src_ep];
			c->last_request_ns = v->last_request_ns[!src_ep];
		}
	}
}

static int cmp_channel(const void *a, const void *b)
{
	const struct mig_channel *x = a, *y = b;

	return (x->first_ns > y->first_ns) - (x->first_ns < y->first_ns);
}

static int summarize(const struct flow_table *t, int group, int ninputs, struct mig_stream *ms)
{
	const struct mig_group *g = &t->groups[group];
	int src = mig_group_source_host(g);

	ms->group = group;
	ms->first_ns = g->first_ns;
	ms->last_ns = g->last_ns;
	ms->source = g->host[src];
	ms->destination = g->host[!src];
	ms->nflows = g->nflows;
	ms->detect = g->detect;
	ms->last_data_ns = g->last_data_ns[src];
	for (int i = 0; i < ninputs; i++) {
		ms->rate[i] = &g->series[i][src];
		ms->peak_bin_bytes[i] = g->rate[i][src].peak_bin_bytes;
		ms->sent[i] = g->sent[i][src];
	}
	/* borrowed, not copied: an evacuation's groups each mark every
	 * concurrent guest's RARPs */
	ms->marks = g->marks;
	ms->nmarks = g->nmarks;
	ms->marks_src = src;
	ms->channels = calloc((size_t)(g->nflows ? g->nflows : 1), sizeof(*ms->channels));
	if (!ms->channels)
		return -ENOMEM;
	for (int f = 0; f < t->nflows; f++) {
		const struct mig_flow *fl = &t->flows[f];
		int src_ep = fl->ep_host[0] == src ? 0 : 1;

		if (fl->group != group)
			continue;
		if (ms->nchannels < g->nflows)
			add_channel(ms, fl, src_ep, ninputs);
		for (int i = 0; i < ninputs; i++) {
			int64_t fin = fl->view[i].dir[!src_ep].fin_ns;

			if (!fl->view[i].seen)
				continue;
			add_view(&ms->view[i], fl, &fl->view[i], src_ep);
			/* libvirt stops the NBD server on its own schedule */
			if (fin && !(fl->detect & DETECT_NBD) && (!ms->close_ns || fin < ms->close_ns))
				ms->close_ns = fin;
		}
		if (fl->stack_retx[src_ep].set) {
			ms->stack_retx_flows++;
			ms->stack_retx_segments += fl->stack_retx[src_ep].segments;
			ms->stack_retx_bytes += fl->stack_retx[src_ep].bytes;
		}
	}
	qsort(ms->channels, (size_t)ms->nchannels, sizeof(*ms->channels), cmp_channel);
	return 0;
}

static int cmp_first(const void *a, const void *b)
{
	const struct mig_stream *x = a, *y = b;

	return (x->first_ns > y->first_ns) - (x->first_ns < y->first_ns);
}

int flow_table__migrations(const struct flow_table *t, int ninputs, struct mig_stream **out)
{
	struct mig_stream *ms = NULL;
	int n = 0;

	*out = NULL;
	if (!t->ngroups)
		return 0;
	ms = calloc((size_t)t->ngroups, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	for (int g = 0; g < t->ngroups; g++) {
		if (!group_is_migration(&t->groups[g]))
			continue;
		if (summarize(t, g, ninputs, &ms[n++])) {
			flow_table__migrations_free(ms, n);
			return -ENOMEM;
		}
	}
	/* groups are numbered as their streams were recognised, which is not
	 * always when they began */
	qsort(ms, (size_t)n, sizeof(*ms), cmp_first);
	*out = ms;
	return n;
}

void flow_table__migrations_free(struct mig_stream *ms, int n)
{
	for (int i = 0; ms && i < n; i++) {
		free(ms[i].channels);
	}
	free(ms);
}

int64_t mig_stream_sent_after(const struct mig_stream *ms, int input, int64_t ts_ns)
{
	for (int k = 0; k < ms->nmarks; k++)
		if (ms->marks[k].ts_ns == ts_ns)
			return (int64_t)(ms->sent[input] - ms->marks[k].sent[input][ms->marks_src]);
	return -1;
}
