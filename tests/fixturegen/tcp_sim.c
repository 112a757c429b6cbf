#include "tcp_sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

long tcp_send(struct tcp_conn *c, int dir, int64_t t, uint32_t len, const void *head,
	      uint32_t head_len)
{
	struct tcp_send *sd;

	if (c->nsends == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 256;
		void *p = realloc(c->sends, ncap * sizeof(*c->sends));

		if (!p)
			return -ENOMEM;
		c->sends = p;
		c->cap = ncap;
	}
	sd = &c->sends[c->nsends];
	memset(sd, 0, sizeof(*sd));
	sd->t = t;
	sd->dir = (uint8_t)(dir != 0);
	sd->len = len;
	if (head_len > TCP_HEAD_MAX)
		head_len = TCP_HEAD_MAX;
	sd->head_len = head ? head_len : 0;
	if (head)
		memcpy(sd->head, head, sd->head_len);
	return (long)c->nsends++;
}

uint64_t tcp_sent_after(const struct tcp_conn *c, int dir, int64_t t)
{
	uint64_t n = 0;

	for (size_t i = 0; i < c->nsends; i++) {
		const struct tcp_send *sd = &c->sends[i];

		if (sd->dir != dir)
			continue;
		n += sd->t > t ? sd->len : 0;
		n += sd->retx_ns > t ? sd->len : 0;
	}
	return n;
}

void tcp_conn_free(struct tcp_conn *c)
{
	free(c->sends);
	c->sends = NULL;
	c->nsends = c->cap = 0;
}

/* ---- playing the schedule ---- */

enum { EV_ARRIVE, EV_SEND }; /* on a tie a segment arrives before one leaves */

struct event {
	int64_t t;
	uint32_t send;  /* index into the schedule */
	uint8_t kind;
	uint8_t retx;   /* the second transmission of a lost segment */
};

/* A send's time beside its index: the schedule sorted without moving it. */
struct by_time {
	int64_t t;
	uint32_t i;
};

static int cmp_by_time(const void *a, const void *b)
{
	const struct by_time *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

struct play {
	struct sim *s;
	struct tcp_conn *c;
	const struct tcp_send *sends;
	struct by_time *order; /* the schedule by time, then as scheduled */
	uint64_t *seq_off;   /* per send: its first byte, from the ISN + 1 */
	uint32_t *seg;       /* per send: its place in its direction's sequence */
	/* per direction d (data sent by host[d], received by host[!d]) */
	uint32_t *seg_len[2];
	uint8_t *got[2];
	uint32_t nseg[2], next[2], pending[2];
	uint64_t cum[2];     /* bytes host[!d] holds in order */
	uint64_t snd_nxt[2]; /* bytes host[d] has sent once */
	int64_t ack_due[2];  /* host[!d] owes an ACK of d's data by then, 0: none */
};

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->send != y->send)
		return x->send < y->send ? -1 : 1;
	return x->retx - y->retx;
}

static void frame_at_both(struct play *p, int from, int64_t t, bool delivered, uint32_t seq,
			  uint32_t ack, uint8_t flags, const struct tcp_send *sd)
{
	struct tcp_conn *c = p->c;
	struct frame f;

	sim_tcp_frame(&f, c->host[from], c->host[!from], c->port[from], c->port[!from], seq, ack,
		      flags, sd ? sd->len : 0, sd ? sd->head : NULL, sd ? sd->head_len : 0);
	sim_see(p->s, c->host[from], t, &f);
	if (delivered)
		sim_see(p->s, c->host[!from], t + LINK_NS, &f);
}

/* host[!d] acknowledges d's data at t, on a pure ACK */
static void send_ack(struct play *p, int d, int64_t t)
{
	const struct tcp_conn *c = p->c;

	frame_at_both(p, !d, t, true, c->isn[!d] + 1 + (uint32_t)p->snd_nxt[!d],
		      c->isn[d] + 1 + (uint32_t)p->cum[d], TCP_ACK, NULL);
	p->pending[d] = 0;
	p->ack_due[d] = 0;
}

/* The ACKs due by `until`, in the order they fall due. */
static void acks_due(struct play *p, int64_t until)
{
	for (;;) {
		int d = -1;

		for (int k = 0; k < 2; k++)
			if (p->ack_due[k] && p->ack_due[k] <= until &&
			    (d < 0 || p->ack_due[k] < p->ack_due[d]))
				d = k;
		if (d < 0)
			return;
		send_ack(p, d, p->ack_due[d]);
	}
}

static void on_send(struct play *p, const struct event *e)
{
	const struct tcp_send *sd = &p->sends[e->send];
	struct tcp_count *cnt = &p->c->count[sd->dir];
	int d = sd->dir;
	bool delivered = e->retx || !sd->retx_ns;

	frame_at_both(p, d, e->t, delivered, p->c->isn[d] + 1 + (uint32_t)p->seq_off[e->send],
		      p->c->isn[!d] + 1 + (uint32_t)p->cum[!d], TCP_ACK | TCP_PSH, sd);
	cnt->out_bytes += sd->len;
	if (delivered)
		cnt->in_bytes += sd->len;
	if (e->retx) {
		cnt->retx_segments++;
		cnt->retx_bytes += sd->len;
	} else if (p->seq_off[e->send] + sd->len > p->snd_nxt[d]) {
		p->snd_nxt[d] = p->seq_off[e->send] + sd->len;
	}
	if (!cnt->first_data_ns)
		cnt->first_data_ns = e->t;
	if (e->t > cnt->last_data_ns)
		cnt->last_data_ns = e->t;
	/* the data carries host[d]'s ACK of what it holds from the other side */
	p->pending[!d] = 0;
	p->ack_due[!d] = 0;
}

static void on_arrive(struct play *p, const struct event *e)
{
	const struct tcp_send *sd = &p->sends[e->send];
	int d = sd->dir;
	uint32_t k = p->seg[e->send], before = p->next[d];
	bool now;

	p->got[d][k] = 1;
	while (p->next[d] < p->nseg[d] && p->got[d][p->next[d]])
		p->cum[d] += p->seg_len[d][p->next[d]++];
	p->pending[d] += p->next[d] > before;
	/* a duplicate ACK for a segment past a hole, at once when it fills
	 * one, every second segment, else delayed */
	now = k != before || p->next[d] - before > 1 || p->pending[d] >= 2;
	if (now && (!p->ack_due[d] || p->ack_due[d] > e->t + ACK_TURN_NS))
		p->ack_due[d] = e->t + ACK_TURN_NS;
	else if (!p->ack_due[d])
		p->ack_due[d] = e->t + DELACK_NS;
}

static void handshake(struct play *p, int64_t t)
{
	const struct tcp_conn *c = p->c;

	frame_at_both(p, 0, t, true, c->isn[0], 0, TCP_SYN, NULL);
	t += LINK_NS + ACK_TURN_NS;
	frame_at_both(p, 1, t, true, c->isn[1], c->isn[0] + 1, TCP_SYN | TCP_ACK, NULL);
	t += LINK_NS + 10 * US;
	frame_at_both(p, 0, t, true, c->isn[0] + 1, c->isn[1] + 1, TCP_ACK, NULL);
}

static void close_conn(struct play *p, int64_t t)
{
	const struct tcp_conn *c = p->c;
	uint32_t end0 = c->isn[0] + 1 + (uint32_t)p->snd_nxt[0];
	uint32_t end1 = c->isn[1] + 1 + (uint32_t)p->snd_nxt[1];

	frame_at_both(p, 0, t, true, end0, c->isn[1] + 1 + (uint32_t)p->cum[1], TCP_FIN | TCP_ACK,
		      NULL);
	t += LINK_NS + ACK_TURN_NS;
	frame_at_both(p, 1, t, true, end1, end0 + 1, TCP_FIN | TCP_ACK, NULL);
	t += LINK_NS + 10 * US;
	frame_at_both(p, 0, t, true, end0 + 1, end1 + 1, TCP_ACK, NULL);
}

static int play(struct play *p, struct event *ev, size_t nev, int64_t fin_ns)
{
	const struct tcp_conn *c = p->c;
	uint64_t off[2] = { 0, 0 };

	/* sequence space in the order the data first left */
	for (uint32_t i = 0; i < c->nsends; i++)
		p->order[i] = (struct by_time){ .t = c->sends[i].t, .i = i };
	qsort(p->order, c->nsends, sizeof(*p->order), cmp_by_time);
	for (size_t j = 0; j < c->nsends; j++) {
		uint32_t i = p->order[j].i;
		int d = c->sends[i].dir;

		p->seq_off[i] = off[d];
		off[d] += c->sends[i].len;
		p->seg[i] = p->nseg[d];
		p->seg_len[d][p->nseg[d]++] = c->sends[i].len;
	}
	qsort(ev, nev, sizeof(*ev), cmp_event);
	if (nev && ev[nev - 1].t + LINK_NS >= fin_ns)
		return -EINVAL; /* the close comes after every segment */
	for (size_t j = 0; j < nev; j++) {
		acks_due(p, ev[j].t);
		if (ev[j].kind == EV_SEND)
			on_send(p, &ev[j]);
		else
			on_arrive(p, &ev[j]);
	}
	acks_due(p, fin_ns - 1); /* the FIN carries a later one */
	close_conn(p, fin_ns);
	return 0;
}

int tcp_run(struct sim *s, struct tcp_conn *c, int64_t syn_ns, int64_t fin_ns)
{
	struct play p = { .s = s, .c = c, .sends = c->sends };
	size_t n = c->nsends, nev = 0;
	struct event *ev = calloc(4 * n + 1, sizeof(*ev));
	int rc = -ENOMEM;

	p.order = calloc(n + 1, sizeof(*p.order));
	p.seq_off = calloc(n + 1, sizeof(*p.seq_off));
	p.seg = calloc(n + 1, sizeof(*p.seg));
	for (int d = 0; d < 2; d++) {
		p.seg_len[d] = calloc(n + 1, sizeof(*p.seg_len[d]));
		p.got[d] = calloc(n + 1, 1);
	}
	if (!ev || !p.order || !p.seq_off || !p.seg || !p.seg_len[0] || !p.seg_len[1] || !p.got[0] ||
	    !p.got[1])
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const struct tcp_send *sd = &c->sends[i];
		int64_t arrive = (sd->retx_ns ? sd->retx_ns : sd->t) + LINK_NS;

		rc = -EINVAL;
		if (sd->t <= syn_ns || (sd->retx_ns && sd->retx_ns <= sd->t))
			goto out; /* data before the handshake, or sent again before it left */
		ev[nev++] = (struct event){ .t = sd->t, .send = i, .kind = EV_SEND };
		if (sd->retx_ns)
			ev[nev++] = (struct event){ .t = sd->retx_ns, .send = i, .kind = EV_SEND,
						    .retx = 1 };
		ev[nev++] = (struct event){ .t = arrive, .send = i, .kind = EV_ARRIVE };
	}
	c->syn_ns = syn_ns;
	memset(c->count, 0, sizeof(c->count));
	handshake(&p, syn_ns);
	rc = play(&p, ev, nev, fin_ns);
out:
	for (int d = 0; d < 2; d++) {
		free(p.seg_len[d]);
		free(p.got[d]);
	}
	free(p.seg);
	free(p.seq_off);
	free(p.order);
	free(ev);
	if (rc && !s->rc)
		s->rc = rc;
	return rc;
}
