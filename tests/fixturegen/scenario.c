#include "scenario.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* QEMU's announce defaults: initial 50 ms, step 100 ms, max 550 ms, 5 rounds */
static const int64_t RARP_AT_NS[RARP_ROUNDS] = { 0, 50 * MS, 200 * MS, 450 * MS, 800 * MS };

const uint8_t HOST_MAC[NHOSTS][6] = {
	{ 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, { 2, 0, 0, 0, 0, 0x0a } };
const uint8_t HOST_IP[NHOSTS][4] = {
	{ 198, 18, 0, 1 }, { 198, 18, 0, 2 }, { 198, 18, 0, 10 } };
static const uint8_t CTL_IP6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
const uint8_t GUEST_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
const uint8_t GUEST_IP[4] = { 198, 18, 0, 100 };
static const uint8_t GUEST_IP6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x01, [15] = 0x00 };

void sim_see(struct sim *s, enum host at, int64_t ts, const struct frame *f)
{
	if (!s->rc)
		s->rc = cs_add(s->cs, at, ts, f);
}

/* A guest frame crossing a compute NIC is carried as the scenario says; the
 * controller sits in the tenant network and sees it plain. */
void sim_see_guest(struct sim *s, enum host at, enum host peer, int64_t ts,
		      const struct frame *inner)
{
	struct frame outer;

	if (at == CTL) {
		sim_see(s, at, ts, inner);
		return;
	}
	frame_encap(&outer, inner, s->sc->encap, HOST_MAC[at], HOST_MAC[peer], HOST_IP[at],
		    HOST_IP[peer]);
	sim_see(s, at, ts, &outer);
}

bool sim_guest_runs_on(const struct sim *s, enum host h, int64_t t)
{
	for (int k = 0; k < s->nruns; k++)
		if (s->run_host[k] == h && t >= s->run_from[k] && t < s->run_to[k])
			return true;
	return false;
}

enum host sim_fdb_lookup(const struct sim *s, int64_t t)
{
	enum host h = s->fdb_host[0];

	for (int k = 1; k < s->nfdb; k++)
		if (t >= s->fdb_from[k])
			h = s->fdb_host[k];
	return h;
}

/* ---- the migration stream ---- */

struct seg {
	int64_t t;
	uint32_t idx;
	bool lost, retx;
};

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

void sim_tcp_frame(struct frame *f, enum host from, enum host to, uint16_t sport,
		      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len,
		      const uint8_t *head, uint32_t head_len)
{
	frame_tcp(f, HOST_MAC[from], HOST_MAC[to], HOST_IP[from], HOST_IP[to], sport, dport, seq,
		  ack, flags, len, head, head_len);
}

/* Sends one flow's handshake, data (with losses and retransmits), the
 * receiver's ACKs and dup ACKs, and the close. Returns the last data time. */
static int64_t run_flow(struct sim *s, struct mig_truth *mt, int mig, int flow, int64_t t_syn)
{
	const struct scenario *sc = s->sc;
	enum host c = mt->src, d = mt->dst;
	uint16_t cport = (uint16_t)(50000 + mig * 16 + flow), sport = MIG_PORT;
	/* multifd channels start near 2^32 so sequence numbers wrap mid-stream */
	uint32_t isn_c = flow ? 0xfffff000u - (uint32_t)flow * 4096 : 100000u * (uint32_t)(mig + 1);
	uint32_t isn_s = 7000000u + (uint32_t)flow, next = 0, pending = 0;
	static const uint8_t qevm[8] = { 'Q', 'E', 'V', 'M', 0, 0, 0, 3 };
	static const uint8_t multifd[4] = { 0x11, 0x22, 0x33, 0x44 };
	int64_t t_data = t_syn + 1 * MS + flow * (sc->seg_gap_ns / sc->flows), last = 0, t;
	uint32_t nseg = (uint32_t)sc->segments, n = 0;
	struct seg *segs = calloc(nseg + MAX_LOST, sizeof(*segs));
	bool *got = calloc(nseg, sizeof(*got));
	struct frame f;

	if (!segs || !got) {
		s->rc = -ENOMEM;
		goto cleanup;
	}
	/* handshake: SYN, SYN-ACK after the server's turn, ACK */
	sim_tcp_frame(&f, c, d, cport, sport, isn_c, 0, TCP_SYN, 0, NULL, 0);
	sim_see(s, c, t_syn, &f);
	sim_see(s, d, t_syn + LINK_NS, &f);
	t = t_syn + LINK_NS + ACK_TURN_NS;
	sim_tcp_frame(&f, d, c, sport, cport, isn_s, isn_c + 1, TCP_SYN | TCP_ACK, 0, NULL, 0);
	sim_see(s, d, t, &f);
	sim_see(s, c, t + LINK_NS, &f);
	t += LINK_NS + 10 * US;
	sim_tcp_frame(&f, c, d, cport, sport, isn_c + 1, isn_s + 1, TCP_ACK, 0, NULL, 0);
	sim_see(s, c, t, &f);
	sim_see(s, d, t + LINK_NS, &f);

	for (uint32_t i = 0; i < nseg; i++) {
		segs[n++] = (struct seg){ .t = t_data + (int64_t)i * sc->seg_gap_ns, .idx = i };
		for (int k = 0; flow == 0 && k < sc->nlost; k++) {
			if (sc->lost[k] != (int)i)
				continue;
			segs[n - 1].lost = true;
			/* fast retransmit once three dup ACKs are back */
			t = segs[n - 1].t + 5 * sc->seg_gap_ns + 100 * US;
			segs[n++] = (struct seg){ .t = t, .idx = i, .retx = true };
		}
	}
	qsort(segs, n, sizeof(*segs), cmp_seg);
	for (uint32_t k = 0; k < n; k++) {
		const struct seg *sg = &segs[k];
		uint32_t seq = isn_c + 1 + sg->idx * MSS;
		const uint8_t *head = sg->idx ? NULL : flow ? multifd : qevm;

		sim_tcp_frame(&f, c, d, cport, sport, seq, isn_s + 1, TCP_ACK | TCP_PSH, MSS, head,
			  head ? (flow ? 4 : 8) : 0);
		sim_see(s, c, sg->t, &f);
		mt->out_bytes += MSS;
		if (sg->retx) {
			mt->retx_segments++;
			mt->retx_bytes += MSS;
		}
		if (sg->t > last)
			last = sg->t;
		if (sg->lost)
			continue;
		sim_see(s, d, sg->t + LINK_NS, &f);
		mt->in_bytes += MSS;
		/* receiver: cumulative ACK every second segment, at once for an
		 * out-of-order segment (dup ACK) or one that fills a hole */
		got[sg->idx] = true;
		{
			uint32_t before = next;
			bool ack_now;

			while (next < nseg && got[next])
				next++;
			pending += next > before;
			ack_now = sg->idx != before || next - before > 1 || pending >= 2;
			if (ack_now || k + 1 == n) {
				t = sg->t + LINK_NS + ACK_TURN_NS;
				sim_tcp_frame(&f, d, c, sport, cport, isn_s + 1, isn_c + 1 + next * MSS,
					  TCP_ACK, 0, NULL, 0);
				sim_see(s, d, t, &f);
				sim_see(s, c, t + LINK_NS, &f);
				pending = 0;
			}
		}
	}
	/* close after the migration completed */
	t = last + 1 * MS;
	sim_tcp_frame(&f, c, d, cport, sport, isn_c + 1 + nseg * MSS, isn_s + 1, TCP_FIN | TCP_ACK, 0,
		  NULL, 0);
	sim_see(s, c, t, &f);
	sim_see(s, d, t + LINK_NS, &f);
	t += LINK_NS + ACK_TURN_NS;
	sim_tcp_frame(&f, d, c, sport, cport, isn_s + 1, isn_c + 2 + nseg * MSS, TCP_FIN | TCP_ACK, 0,
		  NULL, 0);
	sim_see(s, d, t, &f);
	sim_see(s, c, t + LINK_NS, &f);
	t += LINK_NS + 10 * US;
	sim_tcp_frame(&f, c, d, cport, sport, isn_c + 2 + nseg * MSS, isn_s + 2, TCP_ACK, 0, NULL, 0);
	sim_see(s, c, t, &f);
	sim_see(s, d, t + LINK_NS, &f);
cleanup:
	free(got);
	free(segs);
	return last;
}

void sim_announce(struct sim *s, struct mig_truth *mt, const int64_t at[RARP_ROUNDS])
{
	struct frame f;

	for (int r = 0; r < RARP_ROUNDS; r++) {
		int64_t t = mt->resume_ns + at[r];

		mt->rarp_ns[r] = t;
		frame_rarp(&f, GUEST_MAC);
		sim_see_guest(s, mt->dst, mt->src, t, &f);
		if (s->sc->drop_announce)
			continue; /* dropped at the switch port */
		sim_see_guest(s, mt->src, mt->dst, t + LINK_NS, &f);
		sim_see_guest(s, CTL, mt->dst, t + LINK_NS, &f);
	}
	if (s->sc->ipv6) {
		/* the guest's own announcement after resume */
		int64_t t = mt->resume_ns + 20 * MS;

		frame_unsolicited_na(&f, GUEST_MAC, GUEST_IP6);
		sim_see_guest(s, mt->dst, mt->src, t, &f);
		sim_see_guest(s, mt->src, mt->dst, t + LINK_NS, &f);
		sim_see_guest(s, CTL, mt->dst, t + LINK_NS, &f);
	}
}

static void run_migration(struct sim *s, int m, int64_t t_start)
{
	const struct scenario *sc = s->sc;
	struct mig_truth *mt = &s->truth->mig[m];
	int64_t end = 0, last;

	mt->src = m % 2 ? CN2 : CN1;
	mt->dst = m % 2 ? CN1 : CN2;
	mt->start_ns = t_start;
	/* the guest pauses when the final pass starts on the main channel */
	mt->pause_ns = t_start + 1 * MS +
		       (int64_t)(sc->segments - sc->final_segments) * sc->seg_gap_ns - 1 * US;
	for (int fl = 0; fl < sc->flows; fl++) {
		last = run_flow(s, mt, m, fl, t_start + fl * 300 * US);
		if (last > end)
			end = last;
	}
	mt->end_ns = end;
	mt->resume_ns = end + RESUME_NS;
	s->run_to[s->nruns - 1] = mt->pause_ns;
	s->run_host[s->nruns] = mt->dst;
	s->run_from[s->nruns] = mt->resume_ns;
	s->run_to[s->nruns] = INT64_MAX;
	s->nruns++;
	if (!sc->drop_announce) {
		s->fdb_host[s->nfdb] = mt->dst;
		s->fdb_from[s->nfdb] = mt->resume_ns + LINK_NS / 2;
		s->nfdb++;
	}
	sim_announce(s, mt, RARP_AT_NS);
}

void sim_echo(struct frame *f, const struct scenario *sc, int reply, uint16_t seq)
{
	const uint8_t *smac = reply ? GUEST_MAC : HOST_MAC[CTL];
	const uint8_t *dmac = reply ? HOST_MAC[CTL] : GUEST_MAC;

	if (sc->ipv6)
		frame_echo6(f, smac, dmac, reply ? GUEST_IP6 : CTL_IP6, reply ? CTL_IP6 : GUEST_IP6,
			    reply, PING_ID, seq);
	else
		frame_echo(f, smac, dmac, reply ? GUEST_IP : HOST_IP[CTL],
			   reply ? HOST_IP[CTL] : GUEST_IP, reply, PING_ID, seq);
}

/* Ping from the controller: the switch delivers each request where it last
 * saw the guest; only a running guest answers. */
static void run_probes(struct sim *s, int64_t until)
{
	struct sim_truth *tr = s->truth;
	struct frame f;

	for (uint32_t k = 0; T0 + (int64_t)k * PROBE_NS < until; k++) {
		int64_t t = T0 + (int64_t)k * PROBE_NS, arrive = t + LINK_NS, out, back;
		enum host h = sim_fdb_lookup(s, t + LINK_NS / 2);
		uint16_t seq = (uint16_t)(k + 1);

		sim_echo(&f, s->sc, 0, seq);
		sim_see_guest(s, CTL, h, t, &f);
		sim_see_guest(s, h, CTL, arrive, &f);
		tr->probes_sent++;
		out = arrive + GUEST_TURN_NS;
		if (!sim_guest_runs_on(s, h, arrive) || !sim_guest_runs_on(s, h, out))
			continue;
		back = out + LINK_NS;
		sim_echo(&f, s->sc, 1, seq);
		sim_see_guest(s, h, CTL, out, &f);
		sim_see_guest(s, CTL, h, back, &f);
		tr->probes_answered++;
		tr->probes_answered_nic++;
		for (int m = 0; m < s->sc->migrations; m++) {
			struct mig_truth *mt = &tr->mig[m];
			int64_t sw = mt->end_ns + LINK_NS; /* the stream's last sighting */

			if (back <= mt->end_ns && back > mt->last_reply_ctl_ns)
				mt->last_reply_ctl_ns = back;
			if (back > mt->end_ns && !mt->first_reply_ctl_ns)
				mt->first_reply_ctl_ns = back;
			if (out <= mt->end_ns && out > mt->last_reply_nic_ns)
				mt->last_reply_nic_ns = out;
			if (out > mt->end_ns && !mt->first_reply_nic_ns)
				mt->first_reply_nic_ns = out;
			if (h == mt->src && out <= sw && out > mt->last_guest_src_ns)
				mt->last_guest_src_ns = out;
		}
	}
}

int scenario_run(const struct scenario *sc, struct capture_set *cs, struct sim_truth *truth)
{
	struct sim s = { .sc = sc, .cs = cs, .truth = truth };
	int64_t t = T0 + 1 * SEC, until;

	if (sc->kind != SC_CLASSIC)
		return modes_run(sc, cs, truth);
	memset(truth, 0, sizeof(*truth));
	s.run_host[0] = CN1;
	s.run_from[0] = INT64_MIN;
	s.run_to[0] = INT64_MAX;
	s.nruns = 1;
	s.fdb_host[0] = CN1;
	s.fdb_from[0] = INT64_MIN;
	s.nfdb = 1;
	for (int m = 0; m < sc->migrations; m++) {
		run_migration(&s, m, t);
		t = truth->mig[m].resume_ns + 4 * SEC;
	}
	until = truth->mig[sc->migrations - 1].resume_ns + 2 * SEC;
	run_probes(&s, until);
	for (int m = 0; m < sc->migrations; m++) {
		struct mig_truth *mt = &truth->mig[m];

		mt->reachable_after = mt->first_reply_ctl_ns != 0 &&
				      (m + 1 == sc->migrations ||
				       mt->first_reply_ctl_ns < truth->mig[m + 1].start_ns);
		/* the first guest frame at the destination NIC is QEMU's RARP,
		 * or an echo reply if that came first */
		mt->first_guest_dst_ns = mt->rarp_ns[0];
	}
	return s.rc;
}
