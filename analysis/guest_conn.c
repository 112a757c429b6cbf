#include "analysis/guest_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/tcp_seq.h"

struct guest_conns {
	struct guest_conn *conns;
	int nconns, cap_conns;
	int *index;                  /* open addressing: conn + 1, 0 empty */
	uint32_t index_slots;        /* power of two, > 2x conns */
	struct conn_request *requests;
	int nrequests, cap_requests;
	int64_t *switches;           /* in time order */
	int nswitches;
	char warning[160];
};

struct guest_conns *guest_conns__new(void)
{
	return calloc(1, sizeof(struct guest_conns));
}

void guest_conns__free(struct guest_conns *t)
{
	if (!t)
		return;
	free(t->conns);
	free(t->index);
	free(t->requests);
	free(t->switches);
	free(t);
}

static void warn_once(struct guest_conns *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn_once(struct guest_conns *t, const char *fmt, ...)
{
	va_list ap;

	if (t->warning[0])
		return;
	va_start(ap, fmt);
	vsnprintf(t->warning, sizeof(t->warning), fmt, ap);
	va_end(ap);
}

static bool same_end(const struct guest_conn *c, int e, const struct ip_addr *ip, uint16_t port)
{
	return c->port[e] == port && ip_equal(&c->ip[e], ip);
}

/* FNV-1a over the protocol and both ends, in an order that does not depend
 * on which end sent the packet. */
static uint32_t conn_hash(uint8_t proto, const struct ip_addr *a, uint16_t pa,
			  const struct ip_addr *b, uint16_t pb)
{
	const struct ip_addr *lo = a, *hi = b;
	uint16_t plo = pa, phi = pb;
	uint32_t h = 2166136261u;
	int cmp = memcmp(a->bytes, b->bytes, sizeof(a->bytes));

	if (cmp > 0 || (!cmp && pa > pb)) {
		lo = b, hi = a;
		plo = pb, phi = pa;
	}
	h = (h ^ proto) * 16777619u;
	for (int k = 0; k < 16; k++)
		h = (h ^ lo->bytes[k]) * 16777619u;
	for (int k = 0; k < 16; k++)
		h = (h ^ hi->bytes[k]) * 16777619u;
	h = (h ^ plo) * 16777619u;
	h = (h ^ phi) * 16777619u;
	return h;
}

static uint32_t hash_of(const struct guest_conn *c)
{
	return conn_hash(c->proto, &c->ip[0], c->port[0], &c->ip[1], c->port[1]);
}

static int grow_index(struct guest_conns *t)
{
	uint32_t slots = t->index_slots ? t->index_slots * 2 : 256;
	int *index = calloc(slots, sizeof(*index));

	if (!index)
		return -ENOMEM;
	for (int i = 0; i < t->nconns; i++) {
		uint32_t s = hash_of(&t->conns[i]) & (slots - 1);

		while (index[s])
			s = (s + 1) & (slots - 1);
		index[s] = i + 1;
	}
	free(t->index);
	t->index = index;
	t->index_slots = slots;
	return 0;
}

/* The connection of the packet, its sender's end in *e; created when new.
 * NULL past the cap or out of memory (a warning says so). */
static struct guest_conn *conn_of(struct guest_conns *t, const struct pkt_meta *m,
				  const struct ip_addr *src, const struct ip_addr *dst, int *e)
{
	uint32_t s, h = conn_hash(m->l4_proto, src, m->sport, dst, m->dport);
	struct guest_conn *c;
	bool client_sends;

	for (s = t->index_slots ? h & (t->index_slots - 1) : 0; t->index_slots && t->index[s];
	     s = (s + 1) & (t->index_slots - 1)) {
		c = &t->conns[t->index[s] - 1];
		if (c->proto != m->l4_proto)
			continue;
		if (same_end(c, 0, src, m->sport) && same_end(c, 1, dst, m->dport)) {
			*e = 0;
			return c;
		}
		if (same_end(c, 1, src, m->sport) && same_end(c, 0, dst, m->dport)) {
			*e = 1;
			return c;
		}
	}
	if (t->nconns >= MAX_GUEST_CONNS) {
		warn_once(t, "more than %d other TCP/UDP flows: the guest flows of later ones are "
			  "left out", MAX_GUEST_CONNS);
		return NULL;
	}
	if ((uint32_t)(t->nconns + 1) * 2 > t->index_slots && grow_index(t))
		goto oom;
	if (t->nconns == t->cap_conns) {
		int cap = t->cap_conns ? t->cap_conns * 2 : 64;
		struct guest_conn *n = realloc(t->conns, (size_t)cap * sizeof(*n));

		if (!n)
			goto oom;
		t->conns = n;
		t->cap_conns = cap;
	}
	c = &t->conns[t->nconns];
	memset(c, 0, sizeof(*c));
	c->proto = m->l4_proto;
	c->open_request = -1;
	/* the client: the SYN's sender, else the end on the higher port */
	if (m->l4_proto == IPPROTO_TCP && (m->tcp_flags & PKT_TCP_SYN))
		client_sends = !(m->tcp_flags & PKT_TCP_ACK);
	else
		client_sends = m->sport >= m->dport;
	*e = client_sends ? 0 : 1;
	c->ip[*e] = *src;
	c->port[*e] = m->sport;
	c->ip[!*e] = *dst;
	c->port[!*e] = m->dport;
	for (s = h & (t->index_slots - 1); t->index[s]; s = (s + 1) & (t->index_slots - 1))
		;
	t->index[s] = ++t->nconns;
	return c;
oom:
	warn_once(t, "out of memory: the guest flows of later flows are left out");
	return NULL;
}

void guest_conns__switch(struct guest_conns *t, int64_t ts_ns)
{
	if (t->nswitches >= MAX_SWITCH_MARKS)
		return;
	if (!t->switches) {
		t->switches = malloc(MAX_SWITCH_MARKS * sizeof(*t->switches));
		if (!t->switches) {
			warn_once(t, "out of memory: guest flows' stalls are not measured");
			return;
		}
	}
	t->switches[t->nswitches++] = ts_ns;
}

/* A switchover instant in (from, to]. */
static bool switch_within(const struct guest_conns *t, int64_t from, int64_t to)
{
	int lo = 0, hi = t->nswitches;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (t->switches[mid] <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nswitches && t->switches[lo] <= to;
}

/* A gap that holds a switchover: kept, the smallest giving way when full. */
static void keep_gap(struct conn_dir *d, int64_t from, int64_t to)
{
	int slot = d->ngaps;

	if (d->ngaps == CONN_GAPS) {
		slot = 0;
		for (int k = 1; k < CONN_GAPS; k++)
			if (d->gaps[k].to_ns - d->gaps[k].from_ns <
			    d->gaps[slot].to_ns - d->gaps[slot].from_ns)
				slot = k;
		if (d->gaps[slot].to_ns - d->gaps[slot].from_ns >= to - from)
			return;
	} else {
		d->ngaps++;
	}
	d->gaps[slot] = (struct conn_gap){ .from_ns = from, .to_ns = to };
}

static void close_run(struct conn_dir *d)
{
	if (d->run_n > d->best_run_n) {
		memcpy(d->best_run_ns, d->run_ns, sizeof(d->run_ns));
		d->best_run_n = d->run_n;
	}
	d->run_n = 0;
}

/* A retransmission of the segment at seq, at capture `input`. The run of
 * one segment starts at its first sending when that was the direction's
 * latest new segment (the one a pause leaves unacknowledged). */
static void note_retx(struct conn_dir *d, int input, uint32_t seq, int64_t ts_ns,
		      uint32_t last_new_seq, int64_t last_new_ns)
{
	if (d->run_n && d->run_seq == seq && d->run_input == input) {
		if (d->run_n <= CONN_BACKOFF)
			d->run_ns[d->run_n++] = ts_ns;
		return;
	}
	close_run(d);
	d->run_seq = seq;
	d->run_input = input;
	if (seq == last_new_seq && last_new_ns)
		d->run_ns[d->run_n++] = last_new_ns;
	d->run_ns[d->run_n++] = ts_ns;
}

static int add_request(struct guest_conns *t, struct guest_conn *c, int64_t start_ns)
{
	if (t->nrequests >= MAX_CONN_REQUESTS) {
		warn_once(t, "more than %d requests in the guest flows: later ones are left out "
			  "of the response times", MAX_CONN_REQUESTS);
		return -ENOSPC;
	}
	if (t->nrequests == t->cap_requests) {
		int cap = t->cap_requests ? t->cap_requests * 2 : 256;
		struct conn_request *n = realloc(t->requests, (size_t)cap * sizeof(*n));

		if (!n) {
			warn_once(t, "out of memory: later requests are left out of the response "
				     "times");
			return -ENOMEM;
		}
		t->requests = n;
		t->cap_requests = cap;
	}
	t->requests[t->nrequests++] = (struct conn_request){ .conn = (int)(c - t->conns),
							     .start_ns = start_ns };
	return 0;
}

/* Progress of endpoint e: a request from the client, the answer from the
 * server. */
static void pair_request(struct guest_conns *t, struct guest_conn *c, int e, int64_t ts_ns,
			 uint32_t payload)
{
	if (!payload || c->proto != IPPROTO_TCP)
		return;
	if (e == 0 && c->open_request < 0) {
		/* sent as soon as the connection opened: the user waited from the SYN */
		bool at_open = !c->any_request && c->dir[0].syn_ns && c->dir[1].syn_ns &&
			       ts_ns - c->dir[1].syn_ns <= CONN_OPEN_REQUEST_NS;
		int64_t start = at_open ? c->dir[0].syn_ns : ts_ns;

		if (add_request(t, c, start))
			return;
		c->open_request = t->nrequests - 1;
		c->any_request = true;
	} else if (e == 1 && c->open_request >= 0) {
		t->requests[c->open_request].answer_ns = ts_ns;
		c->open_request = -1;
	}
}

void guest_conns__packet(struct guest_conns *t, int input, int64_t ts_ns,
			 const struct pkt_meta *m)
{
	struct ip_addr src = { 0 }, dst = { 0 };
	size_t alen = (m->flags & PKT_F_IPV6) ? 16 : 4;
	uint32_t len, end, old_end;
	struct guest_conn *c;
	struct conn_dir *d;
	bool progress;
	int e;

	if ((m->kind != PKT_KIND_TCP && m->kind != PKT_KIND_UDP) ||
	    !(m->flags & (PKT_F_IPV4 | PKT_F_IPV6)) || (m->flags & PKT_F_FRAGMENT))
		return;
	src.family = dst.family = alen == 16 ? 6 : 4;
	memcpy(src.bytes, m->ip_src, alen);
	memcpy(dst.bytes, m->ip_dst, alen);
	c = conn_of(t, m, &src, &dst, &e);
	if (!c)
		return;
	d = &c->dir[e];
	if (!d->first_ns)
		d->first_ns = ts_ns;
	d->last_ns = ts_ns;
	if (m->kind == PKT_KIND_UDP) {
		progress = true;
		len = 0;
	} else {
		if ((m->tcp_flags & PKT_TCP_RST) && !d->rst_ns)
			d->rst_ns = ts_ns;
		if ((m->tcp_flags & PKT_TCP_SYN) && !d->syn_ns)
			d->syn_ns = ts_ns;
		if ((m->tcp_flags & PKT_TCP_FIN) && !d->fin_ns)
			d->fin_ns = ts_ns;
		/* a SYN's window is unscaled and a reset's meaningless */
		if (!m->tcp_window && !(m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_RST)))
			d->zero_window_at[input]++;
		len = m->l4_payload_len + !!(m->tcp_flags & PKT_TCP_SYN) +
		      !!(m->tcp_flags & PKT_TCP_FIN);
		if (!len || (m->tcp_flags & PKT_TCP_RST))
			return; /* an ACK or a reset carries no sequence space */
		end = m->tcp_seq + len;
		old_end = d->max_end;
		if (tcp_seq_account(&d->max_end_at[input], &d->seq_valid_at[input], m->tcp_seq, len,
				    !!(m->tcp_flags & PKT_TCP_SYN))) {
			d->retx_at[input]++;
			note_retx(d, input, m->tcp_seq, ts_ns, d->last_new_seq, d->last_progress_ns);
		}
		progress = !d->seq_valid || tcp_seq_before(old_end, end);
		if (progress) {
			d->seq_valid = true;
			d->max_end = end;
			d->last_new_seq = m->tcp_seq;
		}
	}
	if (!progress)
		return;
	if (d->last_progress_ns && ts_ns - d->last_progress_ns >= CONN_MIN_GAP_NS &&
	    switch_within(t, d->last_progress_ns, ts_ns))
		keep_gap(d, d->last_progress_ns, ts_ns);
	d->last_progress_ns = ts_ns;
	d->segments++;
	d->bytes += m->l4_payload_len;
	pair_request(t, c, e, ts_ns, m->l4_payload_len);
}

/* A request still unanswered when the captures end at end_ns: failed when
 * its connection ended, or when the captures ran on long enough after it;
 * else not judged. */
static bool gave_up(bool ended, int64_t start_ns, int64_t end_ns)
{
	return ended || end_ns - start_ns >= CONN_FAIL_AFTER_NS;
}

void guest_conns__finish(struct guest_conns *t, int64_t end_ns)
{
	for (int i = 0; i < t->nconns; i++) {
		struct guest_conn *c = &t->conns[i];
		bool ended = c->dir[0].fin_ns || c->dir[1].fin_ns || c->dir[0].rst_ns ||
			     c->dir[1].rst_ns;
		int64_t answer;

		for (int e = 0; e < 2; e++)
			close_run(&c->dir[e]);
		if (c->open_request >= 0) {
			struct conn_request *r = &t->requests[c->open_request];

			r->failed = gave_up(ended, r->start_ns, end_ns);
			c->open_request = -1;
		}
		if (c->proto != IPPROTO_TCP || !c->dir[0].syn_ns || c->any_request)
			continue;
		/* a connection that carried no request: a probe (hping3 -S, a
		 * port check) answered by the SYN/ACK or a reset; or one that
		 * never opened, its SYNs the request that failed */
		answer = c->dir[1].syn_ns ? c->dir[1].syn_ns : c->dir[1].rst_ns;
		if ((!answer && !gave_up(ended, c->dir[0].syn_ns, end_ns)) ||
		    add_request(t, c, c->dir[0].syn_ns))
			continue;
		t->requests[t->nrequests - 1].answer_ns = answer;
		t->requests[t->nrequests - 1].failed = !answer;
	}
}

int guest_conns__count(const struct guest_conns *t)
{
	return t->nconns;
}

const struct guest_conn *guest_conns__conn(const struct guest_conns *t, int i)
{
	return &t->conns[i];
}

const struct conn_request *guest_conns__requests(const struct guest_conns *t, int *n)
{
	*n = t->nrequests;
	return t->requests;
}

const char *guest_conns__warning(const struct guest_conns *t)
{
	return t->warning[0] ? t->warning : NULL;
}

int guest_conn_end_at(const struct guest_conn *c, const struct ip_addr *ip)
{
	if (!ip->family)
		return -1;
	if (ip_equal(&c->ip[0], ip))
		return 0;
	if (ip_equal(&c->ip[1], ip))
		return 1;
	return -1;
}

const struct conn_gap *conn_dir_gap_at(const struct conn_dir *d, int64_t t)
{
	for (int k = 0; k < d->ngaps; k++)
		if (d->gaps[k].from_ns < t && t <= d->gaps[k].to_ns)
			return &d->gaps[k];
	return NULL;
}

static uint32_t most_at(const uint32_t *at)
{
	uint32_t most = 0;

	for (int i = 0; i < MAX_INPUTS; i++)
		if (at[i] > most)
			most = at[i];
	return most;
}

uint32_t conn_dir_retx(const struct conn_dir *d)
{
	return most_at(d->retx_at);
}

uint32_t conn_dir_zero_windows(const struct conn_dir *d)
{
	return most_at(d->zero_window_at);
}
