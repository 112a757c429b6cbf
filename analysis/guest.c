#include "analysis/guest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	MAC_INDEX_SLOTS = 1024,       /* > 2x MAX_MACS, power of two */
	TARGET_INDEX_SLOTS = 1024,    /* > 2x MAX_TARGETS, power of two */
	PROBE_INDEX_SLOTS = 2 * PROBE_MATCH_WINDOW, /* power of two */
	PROBE_INDEX_PROBE = 8,        /* slots tried per lookup */
};

struct guest_set {
	bool fixed;                 /* --guest given: macs[0], the others still followed */
	struct guest_mac macs[MAX_MACS];
	int nmacs;
	int16_t mac_index[MAC_INDEX_SLOTS]; /* MAC hash -> macs[] index + 1 */
	struct echo_target targets[MAX_TARGETS];
	int ntargets;
	int16_t target_index[TARGET_INDEX_SLOTS]; /* address hash -> targets[] index + 1 */
	struct probe *probes;       /* MAX_PROBES, request order */
	uint32_t nprobes;
	uint32_t probe_index[PROBE_INDEX_SLOTS]; /* (target, id, seq) -> probes[] + 1 */
	char warning[256]; /* caps reached, "; " between */
};

/* Every cap reached is named, once, in one line (analysis/limits.h). */
static void set_warning(struct guest_set *s, const char *msg)
{
	size_t n = strlen(s->warning);

	if (!strstr(s->warning, msg))
		snprintf(s->warning + n, sizeof(s->warning) - n, "%s%s", n ? "; " : "", msg);
}

static uint32_t mac_slot(const uint8_t mac[6])
{
	/* the NIC-specific low bytes vary most */
	return ((uint32_t)mac[3] * 131 + (uint32_t)mac[4] * 31 + mac[5]) & (MAC_INDEX_SLOTS - 1);
}

static int mac_find(const struct guest_set *s, const uint8_t mac[6], uint32_t *free_slot)
{
	uint32_t i = mac_slot(mac);

	for (int n = 0; n < MAC_INDEX_SLOTS; n++, i = (i + 1) & (MAC_INDEX_SLOTS - 1)) {
		int idx = s->mac_index[i] - 1;

		if (idx < 0) {
			if (free_slot)
				*free_slot = i;
			return -1;
		}
		if (memcmp(s->macs[idx].mac, mac, 6) == 0)
			return idx;
	}
	return -1;
}

static int mac_add(struct guest_set *s, const uint8_t mac[6])
{
	uint32_t slot = 0;
	int idx = mac_find(s, mac, &slot);

	if (idx >= 0)
		return idx;
	if (s->nmacs == MAX_MACS) {
		/* which migration is whose is told by their RARPs: the others
		 * are only needed for that */
		if (!s->fixed)
			set_warning(s, "too many guest MAC candidates (pass --guest)");
		return -1;
	}
	idx = s->nmacs++;
	memcpy(s->macs[idx].mac, mac, 6);
	s->mac_index[slot] = (int16_t)(idx + 1);
	return idx;
}

struct guest_set *guest_set__new(const uint8_t *fixed_mac)
{
	struct guest_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->probes = calloc(MAX_PROBES, sizeof(*s->probes));
	if (!s->probes) {
		free(s);
		return NULL;
	}
	if (fixed_mac) {
		mac_add(s, fixed_mac);
		s->fixed = true;
	}
	return s;
}

void guest_set__free(struct guest_set *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nmacs; i++)
		free(s->macs[i].announces);
	free(s->probes);
	free(s);
}

static void meta_ip(const struct pkt_meta *m, const uint8_t *bytes, struct ip_addr *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = (m->flags & PKT_F_IPV6) ? 6 : 4;
	memcpy(ip->bytes, bytes, ip->family == 4 ? 4 : 16);
}

static void learn_ip(struct guest_mac *g, const struct ip_addr *ip)
{
	struct ip_addr *slot = ip->family == 4 ? &g->ip4 : &g->ip6;

	/* IPv6 link-local addresses say nothing about where to probe */
	if (ip->family == 6 && ip->bytes[0] == 0xfe && (ip->bytes[1] & 0xc0) == 0x80)
		return;
	if (!slot->family)
		*slot = *ip;
}

static uint32_t target_slot(const struct ip_addr *ip, uint8_t proto)
{
	uint32_t h = 2166136261u ^ proto;

	for (int i = 0; i < (ip->family == 4 ? 4 : 16); i++)
		h = (h ^ ip->bytes[i]) * 16777619u;
	return (h ^ h >> 15) & (TARGET_INDEX_SLOTS - 1);
}

/* An evacuation's prober pings every guest: the targets are hashed. The
 * index of (ip, proto), or -(free slot + 1) when absent. */
static int target_lookup(const struct guest_set *s, const struct ip_addr *ip, uint8_t proto)
{
	uint32_t i = target_slot(ip, proto);

	for (int n = 0; n < TARGET_INDEX_SLOTS; n++, i = (i + 1) & (TARGET_INDEX_SLOTS - 1)) {
		int idx = s->target_index[i] - 1;

		if (idx < 0)
			break;
		if (s->targets[idx].proto == proto && ip_equal(&s->targets[idx].ip, ip))
			return idx;
	}
	return -(int)i - 1;
}

int guest_set__target_of(const struct guest_set *s, const struct ip_addr *ip,
			 enum probe_proto proto)
{
	int t = target_lookup(s, ip, (uint8_t)proto);

	return t >= 0 ? t : -1;
}

static int target_find(struct guest_set *s, const struct ip_addr *ip, uint8_t proto, bool create)
{
	int found = target_lookup(s, ip, proto);
	uint32_t i;

	if (found >= 0)
		return found;
	if (!create)
		return -1;
	i = (uint32_t)(-found - 1);
	if (s->ntargets == MAX_TARGETS) {
		set_warning(s, "too many echo targets (pass --guest MAC,IP)");
		return -1;
	}
	s->targets[s->ntargets].ip = *ip;
	s->targets[s->ntargets].proto = proto;
	s->target_index[i] = (int16_t)(s->ntargets + 1);
	return s->ntargets++;
}

static uint32_t probe_hash(int target, uint16_t id, uint16_t seq)
{
	uint32_t h = ((uint32_t)id << 16 | seq) * 0x9e3779b1u ^ (uint32_t)target * 0x85ebca6bu;

	return (h ^ h >> 15) & (PROBE_INDEX_SLOTS - 1);
}

/* The recent probe with this identity, through a small hash index: probes
 * older than PROBE_MATCH_WINDOW no longer match (ping's 16-bit sequence
 * wraps), and their slots are reused. */
static struct probe *probe_find(struct guest_set *s, int target, uint16_t id, uint16_t seq)
{
	uint32_t i = probe_hash(target, id, seq), oldest = s->nprobes > PROBE_MATCH_WINDOW
								   ? s->nprobes - PROBE_MATCH_WINDOW : 0;

	for (int n = 0; n < PROBE_INDEX_PROBE; n++, i = (i + 1) & (PROBE_INDEX_SLOTS - 1)) {
		uint32_t k = s->probe_index[i];
		struct probe *p;

		if (!k)
			return NULL;
		p = &s->probes[k - 1];
		if (k - 1 >= oldest && p->target == target && p->id == id && p->seq == seq)
			return p;
	}
	return NULL;
}

static void probe_index_add(struct guest_set *s, uint32_t idx)
{
	const struct probe *p = &s->probes[idx];
	uint32_t i = probe_hash(p->target, p->id, p->seq), victim = i;

	for (int n = 0; n < PROBE_INDEX_PROBE; n++, i = (i + 1) & (PROBE_INDEX_SLOTS - 1)) {
		if (!s->probe_index[i]) {
			victim = i;
			break;
		}
		if (s->probe_index[i] < s->probe_index[victim])
			victim = i;
	}
	s->probe_index[victim] = idx + 1;
}

int64_t first_stamp_in(const int64_t *ts, uint32_t mask)
{
	int64_t best = 0;

	for (int i = 0; i < MAX_INPUTS; i++)
		if ((mask >> i & 1) && ts[i] && (!best || ts[i] < best))
			best = ts[i];
	return best;
}

/* A probe's reply at one capture, counted once per probe as answered. */
static void record_reply(struct guest_set *s, struct probe *p, int input, int64_t ts_ns)
{
	bool before = false;

	if (p->rep_ns[input])
		return;
	for (int i = 0; i < MAX_INPUTS; i++)
		before |= p->rep_ns[i] != 0;
	p->rep_ns[input] = ts_ns;
	s->targets[p->target].answered += !before;
}

static void on_echo(struct guest_set *s, int input, int64_t ts_ns, const struct pkt_meta *m)
{
	bool request = m->kind == PKT_KIND_ECHO_REQUEST;
	struct ip_addr ip;
	struct probe *p;
	int t, mac;

	meta_ip(m, request ? m->ip_dst : m->ip_src, &ip);
	t = target_find(s, &ip, PROBE_PROTO_ECHO, true);
	if (t < 0)
		return;
	if (!request && !(m->flags & PKT_F_NO_ETH) && (mac = mac_add(s, m->eth_src)) >= 0)
		learn_ip(&s->macs[mac], &ip);
	p = probe_find(s, t, m->echo_id, m->echo_seq);
	if (!p) {
		if (!request)
			return; /* a reply to a request no capture saw */
		if (s->nprobes == MAX_PROBES) {
			set_warning(s, "probe table full, later probes ignored");
			return;
		}
		p = &s->probes[s->nprobes];
		p->target = (uint16_t)t;
		p->id = m->echo_id;
		p->seq = m->echo_seq;
		probe_index_add(s, s->nprobes++);
	}
	if (request) {
		if (!p->req_ns[input]) {
			p->req_ns[input] = ts_ns;
			s->targets[t].requests++;
		}
	} else {
		record_reply(s, p, input, ts_ns);
	}
}

/* The latest ARP probe of target t that capture `input` did not see (a
 * request another capture saw within ARP_PROBE_JOIN_NS), else NULL. */
static struct probe *arp_request_seen_elsewhere(struct guest_set *s, int t, int input,
						int64_t ts_ns)
{
	uint32_t oldest = s->nprobes > PROBE_MATCH_WINDOW ? s->nprobes - PROBE_MATCH_WINDOW : 0;

	for (uint32_t k = s->nprobes; k-- > oldest;) {
		struct probe *p = &s->probes[k];
		int64_t first;

		if (p->target != t)
			continue;
		first = first_stamp_in(p->req_ns, ~0u);
		if (ts_ns - first > ARP_PROBE_JOIN_NS)
			return NULL; /* request order: the rest are older */
		if (!p->req_ns[input] && first - ts_ns <= ARP_PROBE_JOIN_NS)
			return p;
	}
	return NULL;
}

/* What an ARP reply answers: the latest request of target t that its
 * capture saw (else that any capture saw: a capture on the way back only),
 * NULL when that one has its reply there already. ARP carries no sequence
 * number: a reply answers the latest request, as arping counts it, and a
 * second reply must not settle an older request lost in the pause. */
static struct probe *arp_request_answered(struct guest_set *s, int t, int input, int64_t ts_ns)
{
	uint32_t oldest = s->nprobes > PROBE_MATCH_WINDOW ? s->nprobes - PROBE_MATCH_WINDOW : 0;
	struct probe *any = NULL;

	for (uint32_t k = s->nprobes; k-- > oldest;) {
		struct probe *p = &s->probes[k];

		if (p->target != t || first_stamp_in(p->req_ns, ~0u) > ts_ns)
			continue;
		if (p->req_ns[input])
			return p->rep_ns[input] ? NULL : p;
		if (!any)
			any = p;
	}
	return any && !any->rep_ns[input] ? any : NULL;
}

/* arping: a unicast request for an address (not gratuitous, not a
 * duplicate address probe from 0.0.0.0) and its owner's reply to the asker.
 * Unicast only: arping's requests once it was answered, which go where the
 * network sends the guest, as ping's do; broadcast requests reach every
 * port (they would look like stale forwarding) and a capture in a large L2
 * domain sees thousands of addresses asked for (they would fill the
 * targets). A capture without Ethernet headers cannot tell: no ARP probes.
 * The captures are read merged on one clock, so a request's other
 * sightings come within ARP_PROBE_JOIN_NS of its first. */
static void on_arp_probe(struct guest_set *s, int input, int64_t ts_ns, const struct pkt_meta *m)
{
	static const uint8_t none[4];
	bool request = m->arp_op == 1;
	struct ip_addr ip = { .family = 4 };
	struct probe *p;
	int t, mac;

	if ((m->arp_op != 1 && m->arp_op != 2) || !memcmp(m->arp_spa, m->arp_tpa, 4) ||
	    !memcmp(m->arp_spa, none, 4) || (m->flags & PKT_F_NO_ETH) || (m->eth_dst[0] & 1))
		return;
	memcpy(ip.bytes, request ? m->arp_tpa : m->arp_spa, 4);
	t = target_find(s, &ip, PROBE_PROTO_ARP, request);
	if (t < 0)
		return;
	if (!request) {
		p = arp_request_answered(s, t, input, ts_ns);
		if (!p)
			return;
		record_reply(s, p, input, ts_ns);
		/* the MAC answering a prober is a guest candidate from now on, as
		 * an echo reply's is: its frames are followed (its silence) */
		mac = mac_add(s, m->eth_src);
		if (mac >= 0)
			learn_ip(&s->macs[mac], &ip);
		return;
	}
	p = arp_request_seen_elsewhere(s, t, input, ts_ns);
	if (!p) {
		if (s->nprobes == MAX_PROBES) {
			set_warning(s, "probe table full, later probes ignored");
			return;
		}
		p = &s->probes[s->nprobes++];
		p->target = (uint16_t)t;
		p->seq = (uint16_t)++s->targets[t].requests; /* 1, 2, ... as ping numbers */
	}
	p->req_ns[input] = ts_ns;
}

static void add_announce(struct guest_set *s, struct guest_mac *g, int input, int64_t ts_ns,
			 enum announce_kind kind)
{
	if (g->nannounces == g->cap_announces) {
		uint32_t cap = g->cap_announces ? 2 * g->cap_announces : 64;
		struct announce *a;

		if (g->cap_announces >= MAX_ANNOUNCES) {
			set_warning(s, "announcement table full, later ones ignored");
			return;
		}
		a = realloc(g->announces, cap * sizeof(*a));
		if (!a) {
			set_warning(s, "out of memory for announcements");
			return;
		}
		g->announces = a;
		g->cap_announces = cap;
	}
	g->announces[g->nannounces] =
		(struct announce){ .ts_ns = ts_ns, .kind = (uint8_t)kind, .input = (uint8_t)input };
	memcpy(g->announces[g->nannounces++].prev_frame_ns, g->last_frame_ns,
	       sizeof(g->last_frame_ns));
	if (kind == ANNOUNCE_RARP) {
		if (!g->rarps || ts_ns - g->last_rarp_ns > RARP_BURST_GAP_NS)
			g->rarp_burst_ns = ts_ns;
		if (ts_ns > g->last_rarp_ns)
			g->last_rarp_ns = ts_ns;
		g->rarps++;
	}
	else if (kind == ANNOUNCE_GARP)
		g->garps++;
	else
		g->nas++;
}

/* An announcement that also tells the guest's address (GARP, NA). */
static void announce_for(struct guest_set *s, const uint8_t mac_bytes[6], int family,
			 const uint8_t *addr, int input, int64_t ts_ns, enum announce_kind kind)
{
	struct ip_addr ip;
	int mac = mac_add(s, mac_bytes);

	if (mac < 0)
		return;
	memset(&ip, 0, sizeof(ip));
	ip.family = (uint8_t)family;
	memcpy(ip.bytes, addr, family == 4 ? 4 : 16);
	learn_ip(&s->macs[mac], &ip);
	add_announce(s, &s->macs[mac], input, ts_ns, kind);
}

/* A RARP from QEMU names the guest in its sender hardware address (RFC 903);
 * a gratuitous ARP announces sender == target protocol address (RFC 5227);
 * an unsolicited NA has the S flag clear (RFC 4861 7.2.6). */
static void on_announce(struct guest_set *s, int input, int64_t ts_ns, const struct pkt_meta *m)
{
	int mac;

	if (m->kind == PKT_KIND_RARP) {
		mac = mac_add(s, m->arp_sha);
		if (mac >= 0)
			add_announce(s, &s->macs[mac], input, ts_ns, ANNOUNCE_RARP);
		return;
	}
	if (m->kind == PKT_KIND_ARP) {
		if (memcmp(m->arp_spa, m->arp_tpa, 4) != 0 || !memcmp(m->arp_spa, "\0\0\0\0", 4))
			return;
		announce_for(s, m->arp_sha, 4, m->arp_spa, input, ts_ns, ANNOUNCE_GARP);
		return;
	}
	if (m->kind == PKT_KIND_NEIGH_ADVERT && !(m->nd_flags & PKT_ND_SOLICITED) &&
	    !(m->flags & PKT_F_NO_ETH))
		announce_for(s, m->eth_src, 6, m->nd_target, input, ts_ns, ANNOUNCE_NA);
}

/* Per capture and migration: the last guest frame up to the migration's last
 * data so far (S), and the first after it. Frames and data come in time
 * order, so each frame is at or after the S of its moment; only when the
 * previous frame is at or before S can this frame be the first after it, and
 * those migrations come first in sw->latest_first. Data after the last frame
 * is settled in guest_silence_at(). */
static void on_guest_frame(struct guest_mac *g, int input, int64_t ts_ns,
			   const struct switch_refs *sw)
{
	int64_t prev = g->last_frame_ns[input];

	g->frames++;
	if (ts_ns > prev)
		g->last_frame_ns[input] = ts_ns;
	for (int k = 0; k < sw->n; k++) {
		int i = sw->latest_first[k];
		int64_t s_ns = sw->ns[i];
		struct silence *s = &g->silence[input][i];

		if (!s_ns || (prev && prev > s_ns))
			break; /* and every migration after it */
		if (prev)
			s->before_ns = prev;
		if (ts_ns <= s_ns) {
			s->before_ns = ts_ns;
			s->after_ns = 0;
		} else {
			s->after_ns = ts_ns;
		}
	}
}

struct silence guest_silence_at(const struct guest_mac *g, int input, int group,
				int64_t last_data_ns)
{
	struct silence s = g->silence[input][group];

	if (g->last_frame_ns[input] && g->last_frame_ns[input] <= last_data_ns) {
		s.before_ns = g->last_frame_ns[input];
		s.after_ns = 0;
	}
	return s;
}

void guest_set__frame(struct guest_set *s, int input, int64_t ts_ns, const struct pkt_meta *m,
		      const struct switch_refs *sw)
{
	const uint8_t *src = m->kind == PKT_KIND_RARP ? m->arp_sha : m->eth_src;
	int mac;

	if (m->kind == PKT_KIND_ARP)
		on_arp_probe(s, input, ts_ns, m); /* and a GARP is an announcement */
	if (m->kind == PKT_KIND_ECHO_REQUEST || m->kind == PKT_KIND_ECHO_REPLY)
		on_echo(s, input, ts_ns, m);
	else if (m->kind == PKT_KIND_RARP || m->kind == PKT_KIND_ARP ||
		 m->kind == PKT_KIND_NEIGH_ADVERT)
		on_announce(s, input, ts_ns, m);
	if ((m->flags & PKT_F_NO_ETH) && m->kind != PKT_KIND_RARP && mac_is_zero(m->eth_src))
		return;
	mac = mac_find(s, src, NULL);
	if (mac >= 0)
		on_guest_frame(&s->macs[mac], input, ts_ns, sw);
}

static int best_target_of(const struct guest_set *s, const struct ip_addr *ip, int family)
{
	int best = -1;

	for (int i = 0; i < s->ntargets; i++) {
		const struct echo_target *t = &s->targets[i];

		if (t->proto != PROBE_PROTO_ECHO)
			continue; /* the guest's ARP probes only when asked (report_build) */
		if (ip && ip->family && !ip_equal(&t->ip, ip))
			continue;
		if (!ip && t->ip.family != family)
			continue;
		if (best < 0 || t->requests > s->targets[best].requests)
			best = i;
	}
	return best;
}

static void choose_targets(const struct guest_set *s, int best, const struct ip_addr *fixed_ip,
			   struct guest_choice *out)
{
	out->mac = best;
	out->target = -1;
	if (best >= 0) {
		out->ip4 = s->macs[best].ip4;
		out->ip6 = s->macs[best].ip6;
	}
	if (fixed_ip && fixed_ip->family == 4)
		out->ip4 = *fixed_ip;
	if (fixed_ip && fixed_ip->family == 6)
		out->ip6 = *fixed_ip;
	if (out->ip4.family)
		out->target = best_target_of(s, &out->ip4, 4);
	if (out->target < 0 && out->ip6.family)
		out->target = best_target_of(s, &out->ip6, 6);
}

void guest_set__choose(const struct guest_set *s, const struct ip_addr *fixed_ip,
		       struct guest_choice *out)
{
	int best = -1;

	memset(out, 0, sizeof(*out));
	/* QEMU announces the guest it resumed: the strongest evidence */
	for (int i = 0; i < s->nmacs; i++)
		if (s->macs[i].rarps && (best < 0 || s->macs[i].rarps > s->macs[best].rarps))
			best = i;
	if (s->fixed)
		best = 0;
	if (best < 0) {
		/* else the MAC answering the most-probed address */
		int t = best_target_of(s, fixed_ip, 4);

		if (t < 0)
			t = best_target_of(s, fixed_ip, 6);
		for (int i = 0; t >= 0 && i < s->nmacs; i++)
			if (ip_equal(&s->macs[i].ip4, &s->targets[t].ip) ||
			    ip_equal(&s->macs[i].ip6, &s->targets[t].ip))
				best = i;
	}
	choose_targets(s, best, fixed_ip, out);
	if (out->target < 0 && best < 0 && !fixed_ip) {
		out->target = best_target_of(s, NULL, 4);
		if (out->target >= 0)
			out->ip4 = s->targets[out->target].ip;
	}
}

void guest_set__choose_mac(const struct guest_set *s, int mac, const struct ip_addr *fixed_ip,
			   struct guest_choice *out)
{
	memset(out, 0, sizeof(*out));
	choose_targets(s, mac, fixed_ip, out);
}

int guest_set__nmacs(const struct guest_set *s)
{
	return s->nmacs;
}

bool guest_set__rarp_first_round(const struct guest_set *s, const uint8_t mac[6], int64_t ts_ns)
{
	int i = mac_find(s, mac, NULL);

	return i >= 0 && s->macs[i].rarps && ts_ns - s->macs[i].rarp_burst_ns <= RARP_ROUND0_NS;
}

const struct guest_mac *guest_set__mac(const struct guest_set *s, int i)
{
	return &s->macs[i];
}

const struct echo_target *guest_set__target(const struct guest_set *s, int i)
{
	return &s->targets[i];
}

const struct probe *guest_set__probes(const struct guest_set *s, uint32_t *n)
{
	*n = s->nprobes;
	return s->probes;
}

const char *guest_set__warning(const struct guest_set *s)
{
	return s->warning[0] ? s->warning : NULL;
}
