#include "evacuate.h"

#include <errno.h>
#include <string.h>

#include "sim.h"
#include "tcp_sim.h"

#define STAGGER_NS (37 * MS)   /* between the starts of one wave's migrations, by default */
#define SEG_GAP_NS (2 * MS)
#define FINAL_SEGMENTS 40      /* at least, sent while the guest is paused */

static const int64_t RARP_AT[RARP_ROUNDS] = { 0, 50 * MS, 200 * MS, 450 * MS, 800 * MS };

static void guest_identity(int k, struct evac_truth *g)
{
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xee, (uint8_t)(k >> 8), (uint8_t)k };
	const uint8_t ip[4] = { 198, 18, (uint8_t)(1 + k / 250), (uint8_t)(1 + k % 250) };

	memcpy(g->mac, mac, 6);
	memcpy(g->ip, ip, 4);
}

/* Guest k's stream, cn1 -> cn2 on its own port, from start_ns. */
static int run_stream(struct sim *s, const struct evac_params *p, int k, struct evac_truth *g)
{
	static const uint8_t qevm[8] = { 'Q', 'E', 'V', 'M', 0, 0, 0, 3 };
	struct tcp_conn c = { .host = { CN1, CN2 },
			      .port = { (uint16_t)(40000 + k), g->port },
			      .isn = { 1000000u * (uint32_t)(k + 1), 7000000u + (uint32_t)k } };
	/* guests differ in size and in how long they pause (their downtimes
	 * rank them) */
	int n = p->segments + (p->even_sizes ? 0 : (k * 17) % 50);
	int final = FINAL_SEGMENTS + (k * 13) % 40, rc = 0;
	int64_t t = g->start_ns + 1 * MS, fin_ns;

	for (int i = 0; i < n && rc >= 0; i++) {
		int64_t at = t + (int64_t)i * SEG_GAP_NS;

		if (i == n - final)
			g->pause_ns = at - 1 * US;
		rc = (int)tcp_send(&c, 0, at, MSS, i ? NULL : qevm, i ? 0 : sizeof(qevm));
	}
	g->end_ns = t + (int64_t)(n - 1) * SEG_GAP_NS;
	g->resume_ns = g->end_ns + RESUME_NS;
	fin_ns = p->nclose_lags ? g->resume_ns + p->close_lag_ns[k % p->nclose_lags]
				: g->end_ns + 1 * MS;
	if (rc >= 0)
		rc = tcp_run(s, &c, g->start_ns, fin_ns);
	g->out_bytes = c.count[0].out_bytes;
	g->in_bytes = c.count[0].in_bytes;
	tcp_conn_free(&c);
	return rc < 0 ? rc : 0;
}

static void announce(struct sim *s, const struct evac_truth *g)
{
	struct frame f;

	frame_rarp(&f, g->mac);
	for (int r = 0; r < RARP_ROUNDS; r++) {
		int64_t t = g->resume_ns + RARP_AT[r];

		sim_see(s, CN2, t, &f);
		sim_see(s, CN1, t + LINK_NS, &f);
		sim_see(s, CTL, t + LINK_NS, &f);
	}
}

static bool runs_on(const struct evac_truth *g, enum host h, int64_t t)
{
	return h == CN1 ? t < g->pause_ns : t >= g->resume_ns;
}

/* The controller pings guest k; the switch sends each request where the
 * guest's RARP last taught it. */
static void probe_guest(struct sim *s, const struct evac_params *p, int k, struct evac_truth *g,
			int64_t until)
{
	uint16_t id = (uint16_t)(0x100 + k);
	struct frame f;

	for (uint32_t n = 0;; n++) {
		int64_t t = T0 + (int64_t)k * 97 * US + (int64_t)n * p->probe_ns;
		int64_t arrive = t + LINK_NS, out, back;
		enum host h = arrive < g->resume_ns + LINK_NS ? CN1 : CN2;
		uint16_t seq = (uint16_t)(n + 1);

		if (t >= until)
			break;
		frame_echo(&f, HOST_MAC[CTL], g->mac, HOST_IP[CTL], g->ip, 0, id, seq);
		sim_see(s, CTL, t, &f);
		sim_see(s, h, arrive, &f);
		g->probes_sent++;
		out = arrive + GUEST_TURN_NS;
		if (!runs_on(g, h, arrive) || !runs_on(g, h, out))
			continue;
		back = out + LINK_NS;
		frame_echo(&f, g->mac, HOST_MAC[CTL], g->ip, HOST_IP[CTL], 1, id, seq);
		sim_see(s, h, out, &f);
		sim_see(s, CTL, back, &f);
		g->probes_answered++;
		if (h == CN1 && out > g->last_frame_src_ns)
			g->last_frame_src_ns = out;
		if (back <= g->end_ns && back > g->last_reply_ctl_ns)
			g->last_reply_ctl_ns = back;
		if (back > g->end_ns && !g->first_reply_ctl_ns)
			g->first_reply_ctl_ns = back;
	}
}

int evacuate_run(const struct evac_params *p, struct capture_set *cs, struct evac_truth *truth)
{
	static const struct scenario sc = { .name = "evacuate", .encap = ENCAP_NONE };
	struct sim s = { .sc = &sc, .cs = cs };
	int64_t wave_start = T0 + 1 * SEC, wave_end = 0, until = 0;

	if (p->guests < 1 || p->concurrency < 1 || p->segments <= FINAL_SEGMENTS + 40)
		return -EINVAL;
	memset(truth, 0, (size_t)p->guests * sizeof(*truth));
	for (int k = 0; k < p->guests && !s.rc; k++) {
		struct evac_truth *g = &truth[k];
		int slot = k % p->concurrency;

		if (k && !slot) {
			wave_start = wave_end + p->wave_gap_ns;
			wave_end = 0;
		}
		guest_identity(k, g);
		g->port = (uint16_t)(49152 + slot % 64);
		g->start_ns = wave_start + slot * (p->stagger_ns ? p->stagger_ns : STAGGER_NS);
		s.rc = run_stream(&s, p, k, g);
		if (g->resume_ns > wave_end)
			wave_end = g->resume_ns;
		if (g->resume_ns > until)
			until = g->resume_ns;
		announce(&s, g);
	}
	for (int k = 0; k < p->guests && !s.rc; k++)
		probe_guest(&s, p, k, &truth[k], until + 2 * SEC);
	return s.rc;
}
