/*
 * The migration modes the lab cannot run, simulated (scenario.h): postcopy,
 * TLS with multifd, libvirt's tunnel, a KubeVirt-like proxy, NBD block copy. One migration
 * from cn1 to cn2; its truth is computed here from the schedule the
 * simulation itself laid out (tcp_sim counts what each NIC saw), with the
 * report's definitions (docs/report.schema.json, design §9) applied to what
 * the simulation knows, never to what the analyzer reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "tcp_sim.h"

/* QEMU's waits before each announce round with its defaults (initial 50 ms,
 * step 100 ms, max 550 ms): it re-arms its timer when a round fires, so a
 * late round delays the ones after it by as much */
static const int64_t ROUND_WAIT_NS[RARP_ROUNDS] = { 0, 50 * MS, 150 * MS, 250 * MS, 350 * MS };

/* The guest answers a probe in this long while it still faults pages in
 * over the network (postcopy), else in GUEST_TURN_NS. */
#define POSTCOPY_TURN_NS (1 * MS)
/* diagnose's grace for a just resumed guest (analysis/diagnose.h): a first
 * answer later than this after the first request is a slow guest */
#define ANSWER_GRACE_NS (500 * MS)

enum {
	MSS_JUMBO = 8948, /* a 9000-byte MTU, as the lab's NICs */
	PROXY_CLIENT_PORT = 45000,
	TENANT_CLIENT_PORT = 43000,
	TENANT_PORT = 5201,
	PAGE_SIZE = 4096,
	PAGE_MSG = 8 + PAGE_SIZE, /* QEMU's page header (be64 address | flags), the page */
	MAX_PROBES = 1024,
};

struct probe_rec {
	int64_t t;        /* the request leaves the controller */
	int64_t a;        /* it reaches the NIC of host h */
	int64_t out, back; /* the reply leaves that NIC, reaches the controller; 0: none */
	enum host h;
};

struct msim {
	struct sim s;
	struct mig_truth *mt;
	struct mode_truth *md;
	struct tcp_conn conn[MAX_SIM_CHANNELS];
	int nconn;
	struct tcp_conn tenant;
	bool has_tenant;
	int64_t stall_to;  /* the destination's guest answers nothing reaching it before */
	int64_t slow_to;   /* it answers in POSTCOPY_TURN_NS before (postcopy) */
	struct probe_rec probe[MAX_PROBES];
	uint32_t nprobes;
};

static long xmit(struct msim *m, struct tcp_conn *c, int dir, int64_t t, uint32_t len,
		 const void *head, uint32_t head_len)
{
	long i = tcp_send(c, dir, t, len, head, head_len);

	if (i < 0 && !m->s.rc)
		m->s.rc = (int)i;
	return i;
}

static void lose(struct tcp_conn *c, long i, int64_t retx_ns)
{
	if (i >= 0)
		c->sends[i].retx_ns = retx_ns;
}

static struct tcp_conn *new_conn(struct msim *m, enum host client, enum host server,
				 uint16_t cport, uint16_t sport, uint32_t isn_c, uint32_t isn_s)
{
	struct tcp_conn *c = &m->conn[m->nconn++];

	c->host[0] = client;
	c->host[1] = server;
	c->port[0] = cport;
	c->port[1] = sport;
	c->isn[0] = isn_c;
	c->isn[1] = isn_s;
	return c;
}

/* ---- TLS as it shows on the wire: only the records' first bytes ---- */

static const uint8_t TLS_CLIENT_HELLO[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
					    0xfc, 0x03, 0x03 };
static const uint8_t TLS_SERVER_HELLO[] = { 0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00,
					    0x76, 0x03, 0x03 };
static const uint8_t TLS_CLIENT_FINISHED[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03,
					       0x03, 0x00, 0x45 };
static const uint8_t TLS_APP_DATA[] = { 0x17, 0x03, 0x03, 0x40, 0x11 };
enum { TLS_RECORD_OVERHEAD = 22 }; /* TLS 1.3: header 5, content type 1, AEAD tag 16 */

/* A TLS 1.3 handshake opened by the client at t: ClientHello, the server's
 * flight (ServerHello ... Finished), the client's Finished, a session
 * ticket. Returns when the client may send application data. */
static int64_t tls_open(struct msim *m, struct tcp_conn *c, int64_t t)
{
	int64_t srv = t + LINK_NS + 150 * US, cli = srv + LINK_NS + 100 * US;

	xmit(m, c, 0, t, 517, TLS_CLIENT_HELLO, sizeof(TLS_CLIENT_HELLO));
	xmit(m, c, 1, srv, 1448, TLS_SERVER_HELLO, sizeof(TLS_SERVER_HELLO));
	xmit(m, c, 1, srv + 10 * US, 1102, NULL, 0);
	xmit(m, c, 0, cli, 80, TLS_CLIENT_FINISHED, sizeof(TLS_CLIENT_FINISHED));
	xmit(m, c, 1, cli + LINK_NS + 50 * US, 255, TLS_APP_DATA, sizeof(TLS_APP_DATA));
	return cli + 100 * US;
}

/* ---- the guest, the switch, the probes ---- */

/* The guest runs on cn1 until the pause and on cn2 from the resume; the
 * switch learns it on cn2 from QEMU's first RARP, as it floods by. */
static void place_guest(struct msim *m)
{
	struct sim *s = &m->s;
	struct mig_truth *mt = m->mt;
	int64_t at[RARP_ROUNDS];

	s->run_host[0] = CN1;
	s->run_from[0] = INT64_MIN;
	s->run_to[0] = mt->pause_ns;
	s->run_host[1] = CN2;
	s->run_from[1] = mt->resume_ns;
	s->run_to[1] = INT64_MAX;
	s->nruns = 2;
	s->fdb_host[0] = CN1;
	s->fdb_from[0] = INT64_MIN;
	s->fdb_host[1] = CN2;
	s->fdb_from[1] = mt->resume_ns + LINK_NS / 2;
	s->nfdb = 2;
	at[0] = 0;
	for (int k = 1; k < RARP_ROUNDS; k++)
		at[k] = at[k - 1] + ROUND_WAIT_NS[k] + s->sc->late_ns[k];
	for (int k = 0; k < RARP_ROUNDS; k++)
		m->md->late_ns[k] = s->sc->late_ns[k];
	sim_announce(s, mt, at);
}

/* Pings from the controller every PROBE_NS: the switch delivers each request
 * where it last learned the guest; a running guest answers, unless it stalls
 * on its page faults, and slower while postcopy still brings its pages. */
static void run_probes(struct msim *m, int64_t until)
{
	struct sim *s = &m->s;
	const struct mig_truth *mt = m->mt;
	struct frame f;

	for (uint32_t k = 0; T0 + (int64_t)k * PROBE_NS < until; k++) {
		struct probe_rec *p = &m->probe[m->nprobes];
		uint16_t seq = (uint16_t)(k + 1);
		int64_t turn;

		if (m->nprobes++ == MAX_PROBES) {
			s->rc = -E2BIG; /* a truth over fewer probes than the captures hold */
			return;
		}
		p->t = T0 + (int64_t)k * PROBE_NS;
		p->h = sim_fdb_lookup(s, p->t + LINK_NS / 2);
		p->a = p->t + LINK_NS;
		sim_echo(&f, s->sc, 0, seq);
		sim_see_guest(s, CTL, p->h, p->t, &f);
		sim_see_guest(s, p->h, CTL, p->a, &f);
		if (p->h == mt->dst && p->a > mt->resume_ns && !m->md->first_req_dst_ns) {
			m->md->first_req_dst_ns = p->a;
			m->stall_to = s->sc->stall_ns ? p->a + s->sc->stall_ns : 0;
		}
		turn = p->h == mt->dst && p->a < m->slow_to ? POSTCOPY_TURN_NS : GUEST_TURN_NS;
		if (!sim_guest_runs_on(s, p->h, p->a) || !sim_guest_runs_on(s, p->h, p->a + turn) ||
		    (p->h == mt->dst && p->a < m->stall_to))
			continue;
		p->out = p->a + turn;
		p->back = p->out + LINK_NS;
		sim_echo(&f, s->sc, 1, seq);
		sim_see_guest(s, p->h, CTL, p->out, &f);
		sim_see_guest(s, CTL, p->h, p->back, &f);
	}
}

/* ---- the streams ---- */

/* The source's pages: `n` segments of `len` every `gap` from t, the first
 * carrying `head`; segment `lost` (-1: none) lost and fast-retransmitted
 * once three duplicate ACKs are back. Returns the last one's time. */
static int64_t pages(struct msim *m, struct tcp_conn *c, int64_t t, int n, int64_t gap,
		     uint32_t len, const void *head, uint32_t head_len, int lost)
{
	for (int i = 0; i < n; i++) {
		long k = xmit(m, c, 0, t + i * gap, len, i ? NULL : head, i ? 0 : head_len);

		if (i == lost)
			lose(c, k, t + i * gap + 5 * gap + 100 * US);
	}
	return t + (n - 1) * gap;
}

/*
 * Postcopy: precopy rounds on the main channel; the source stops the guest
 * and sends its device state; the destination loads it and resumes the guest
 * (QEMU's first RARP), answering the source's ping first. For 1.5 s the
 * source goes on pushing pages in the background while the destination's
 * faults ask for pages on the return path (REQ_PAGES: be16 4, be16 12, be64
 * address, be32 length; the first names its RAMBlock: REQ_PAGES_ID, type 3),
 * each answered at once; then the destination shuts the return path.
 */
static void postcopy_stream(struct msim *m, int64_t t0)
{
	static const uint8_t qevm[8] = { 'Q', 'E', 'V', 'M', 0, 0, 0, 3 };
	static const uint8_t pong[8] = { 0, 2, 0, 4, 0, 0, 0, 1 };
	static const uint8_t shut[8] = { 0, 1, 0, 4, 0, 0, 0, 0 };
	struct mig_truth *mt = m->mt;
	struct mode_truth *md = m->md;
	struct tcp_conn *c = new_conn(m, CN1, CN2, 50000, MIG_PORT, 100000, 7000000);
	int64_t data = t0 + 1 * MS, gap = 500 * US, last_dev, end = 0, t;
	uint32_t requests = 0;

	pages(m, c, data, 600, gap, MSS, qevm, sizeof(qevm), 250);
	mt->pause_ns = data + 600 * gap;
	last_dev = pages(m, c, mt->pause_ns + 200 * US, 80, 250 * US, MSS, NULL, 0, -1);
	/* the destination loads the device state (~2 ms) and resumes the guest
	 * 10 us after a probe left the controller: the switch still sends that
	 * one to the source, where it arrives after the resume */
	mt->resume_ns = last_dev + LINK_NS + 2 * MS;
	mt->resume_ns = T0 + ((mt->resume_ns - T0) / PROBE_NS + 1) * PROBE_NS + 10 * US;
	xmit(m, c, 1, mt->resume_ns - 200 * US, sizeof(pong), pong, sizeof(pong));
	/* the background push, at the postcopy bandwidth cap */
	for (t = mt->resume_ns + 700 * US; t < mt->resume_ns + 1500 * MS; t += 2 * MS) {
		xmit(m, c, 0, t, MSS, NULL, 0);
		end = t;
	}
	for (int j = 0; j < 40; j++) {
		int64_t q = mt->resume_ns + 1 * MS + j * 37 * MS, ans = q + LINK_NS + 30 * US;
		int npages = j % 10 == 5 ? 2 : 1;
		uint8_t msg[TCP_HEAD_MAX] = { 0 };
		uint32_t len = 0;

		for (int p = 0; p < npages; p++) {
			uint64_t addr = 0x7f000 + (uint64_t)(j * 2 + p) * 0x21000;

			if (j == 0) { /* the first request names the RAMBlock */
				wr16(msg + len, 3);
				wr16(msg + len + 2, 12 + 1 + 6);
				wr64(msg + len + 4, addr);
				wr32(msg + len + 12, PAGE_SIZE);
				msg[len + 16] = 6;
				memcpy(msg + len + 17, "pc.ram", 6);
				len += 4 + 19;
			} else {
				wr16(msg + len, 4);
				wr16(msg + len + 2, 12);
				wr64(msg + len + 4, addr);
				wr32(msg + len + 12, PAGE_SIZE);
				len += 16;
			}
			requests++;
			/* the page, in three segments */
			xmit(m, c, 0, ans, MSS, NULL, 0);
			xmit(m, c, 0, ans + 10 * US, MSS, NULL, 0);
			xmit(m, c, 0, ans + 20 * US, PAGE_MSG - 2 * MSS, NULL, 0);
			if (ans + 20 * US > end)
				end = ans + 20 * US;
			ans += 30 * US;
		}
		xmit(m, c, 1, q, len, msg, len);
		if (!md->first_request_ns)
			md->first_request_ns = q;
		md->last_request_ns = q;
	}
	xmit(m, c, 1, end + LINK_NS + 1 * MS, sizeof(shut), shut, sizeof(shut));
	tcp_run(&m->s, c, t0, end + 5 * MS);
	mt->end_ns = c->count[0].last_data_ns;
	md->postcopy = true;
	md->page_requests = requests;
	md->bytes_after_resume = tcp_sent_after(c, 0, mt->resume_ns);
	md->detected_by = "port,qevm";
	md->features = "[]";
	m->slow_to = mt->end_ns + LINK_NS; /* requests sent before the last page */
}

/*
 * TLS with multifd: QEMU opens its main channel, then four multifd channels,
 * each with a TLS handshake, so neither QEVM nor the multifd magic shows.
 * The channels carry the pages, the main one the device state at the end
 * (after the guest paused); one multifd segment is lost on the way.
 */
static void multifd_tls_stream(struct msim *m, int64_t t0)
{
	struct mig_truth *mt = m->mt;
	int64_t open[MAX_SIM_CHANNELS], data, gap = 500 * US, last = 0;

	for (int k = 0; k < MAX_SIM_CHANNELS; k++) {
		/* multifd channels start near 2^32 so sequence numbers wrap */
		struct tcp_conn *c = new_conn(m, CN1, CN2, (uint16_t)(50000 + k), MIG_PORT,
					      k ? 0xfffff000u - (uint32_t)k * 4096 : 100000u,
					      7000000u + (uint32_t)k);

		open[k] = t0 + (k ? 4 * MS + k * 300 * US : 0);
		tls_open(m, c, open[k] + 1 * MS);
	}
	data = t0 + 8 * MS;
	mt->pause_ns = data + 360 * gap - 1 * US;
	pages(m, &m->conn[0], data + 60 * US, 80, 2500 * US, MSS, TLS_APP_DATA,
	      sizeof(TLS_APP_DATA), -1);
	for (int k = 1; k < MAX_SIM_CHANNELS; k++) {
		int64_t l = pages(m, &m->conn[k], data + (k - 1) * 125 * US, 400, gap, MSS,
				  TLS_APP_DATA, sizeof(TLS_APP_DATA), k == 2 ? 150 : -1);

		if (l > last)
			last = l;
	}
	/* the device state, on the main channel once the pages are over */
	last = pages(m, &m->conn[0], last + 100 * US, 20, 100 * US, MSS, NULL, 0, -1);
	for (int k = 0; k < MAX_SIM_CHANNELS; k++)
		tcp_run(&m->s, &m->conn[k], open[k], last + 1 * MS + k * 100 * US);
	mt->resume_ns = last + RESUME_NS;
	m->md->detected_by = "port,tls";
	m->md->features = "[\"multifd\",\"tls\"]";
}

/* libvirt's RPC header (remote protocol): length, program, version,
 * procedure, type (0 call, 1 reply, 3 stream), serial, status */
static uint32_t rpc(uint8_t *b, uint32_t len, uint32_t proc, uint32_t type, uint32_t serial,
		    uint32_t status)
{
	wr32(b, len);
	wr32(b + 4, 0x20008086);
	wr32(b + 8, 1);
	wr32(b + 12, proc);
	wr32(b + 16, type);
	wr32(b + 20, serial);
	wr32(b + 24, status);
	return 28;
}

/* One RPC message of `len` bytes from side dir at t: plain, its header in
 * view; under TLS, a record. */
static void rpc_msg(struct msim *m, struct tcp_conn *c, int dir, int64_t t, uint32_t len,
		    uint32_t proc, uint32_t type, uint32_t serial, uint32_t status)
{
	uint8_t h[28];

	if (m->s.sc->tls) {
		xmit(m, c, dir, t, len + TLS_RECORD_OVERHEAD, TLS_APP_DATA, sizeof(TLS_APP_DATA));
		return;
	}
	xmit(m, c, dir, t, len, h, rpc(h, len, proc, type, serial, status));
}

/*
 * libvirt's tunnelled migration: the source's libvirtd opens a connection to
 * the destination's (TLS on 16514), makes its calls (auth, open, prepare with
 * the domain's XML), streams QEMU's migration inside VIR_NET_STREAM messages,
 * then calls Finish; the destination resumes the guest on that call and
 * replies. The source's last payload is that call.
 */
static void tunnel_stream(struct msim *m, int64_t t0)
{
	struct mig_truth *mt = m->mt;
	struct mode_truth *md = m->md;
	bool tls = m->s.sc->tls;
	struct tcp_conn *c = new_conn(m, CN1, CN2, 50000, m->s.sc->port, 300000, 9000000);
	uint8_t head[32];
	int64_t t = t0 + 1 * MS, data, gap = 500 * US, fin;
	uint32_t o = tls ? TLS_RECORD_OVERHEAD : 0;

	if (tls)
		t = tls_open(m, c, t) + 100 * US;
	rpc_msg(m, c, 0, t, 28, 66, 0, 1, 0); /* auth list */
	rpc_msg(m, c, 1, t + LINK_NS + 100 * US, 36, 66, 1, 1, 0);
	t += 1 * MS;
	rpc_msg(m, c, 0, t, 48, 1, 0, 2, 0); /* connect open */
	rpc_msg(m, c, 1, t + LINK_NS + 100 * US, 28, 1, 1, 2, 0);
	t += 1 * MS;
	/* prepare, with the domain's XML: three segments */
	xmit(m, c, 0, t, 1448, tls ? TLS_APP_DATA : head,
	     tls ? sizeof(TLS_APP_DATA) : rpc(head, 3200, 320, 0, 3, 0));
	xmit(m, c, 0, t + 10 * US, 1448, NULL, 0);
	xmit(m, c, 0, t + 20 * US, 3200 - 2 * 1448 + o, NULL, 0);
	rpc_msg(m, c, 1, t + LINK_NS + 5 * MS, 60, 320, 1, 3, 0);
	data = t + 8 * MS;
	if (!tls) { /* QEMU's stream begins inside the first stream message */
		rpc(head, 262172, 320, 3, 3, 2);
		memcpy(head + 28, "QEVM", 4);
	}
	t = pages(m, c, data, 600, gap, MSS, tls ? TLS_APP_DATA : head,
		  tls ? sizeof(TLS_APP_DATA) : 32, 200);
	mt->pause_ns = data + 560 * gap - 1 * US;
	rpc_msg(m, c, 0, t + 300 * US, 28, 320, 3, 3, 0); /* the stream's end */
	t += 2300 * US;
	rpc_msg(m, c, 0, t, 700, 321, 0, 4, 0); /* finish */
	mt->resume_ns = t + LINK_NS + 1500 * US;
	rpc_msg(m, c, 1, mt->resume_ns + 4 * MS, 1100, 321, 1, 4, 0);
	fin = mt->resume_ns + 20 * MS;
	tcp_run(&m->s, c, t0, fin);
	md->detected_by = tls ? "port,tls,tunnel" : "port,tunnel";
	md->features = tls ? "[\"tls\",\"tunnelled\"]" : "[\"tunnelled\"]";
}

/*
 * KubeVirt-like: the source's migration proxy relays QEMU's stream over TLS
 * to the destination's proxy, listening on a random high port; no magic is
 * in view. Seconds before, a tenant's bulk transfer of a few MB ran between
 * the same two hosts (an iperf3-like flow to 5201): as big and as one-way,
 * but over long before the switchover.
 */
static void proxy_stream(struct msim *m, int64_t t0)
{
	static const uint8_t cookie[4] = { 'i', 'p', 'f', '3' };
	struct mig_truth *mt = m->mt;
	struct mode_truth *md = m->md;
	struct tcp_conn *tn = &m->tenant;
	struct tcp_conn *c = new_conn(m, CN1, CN2, PROXY_CLIENT_PORT, m->s.sc->port, 800000,
				      900000);
	int64_t t = T0 + 200 * MS, gap = 500 * US, data;

	m->has_tenant = true;
	*tn = (struct tcp_conn){ .host = { CN1, CN2 }, .port = { TENANT_CLIENT_PORT, TENANT_PORT },
				 .isn = { 500000, 600000 } };
	xmit(m, tn, 0, t + 1 * MS, 37, cookie, sizeof(cookie));
	xmit(m, tn, 1, t + 1 * MS + LINK_NS + 50 * US, 1, NULL, 0);
	xmit(m, tn, 0, t + 2 * MS, 100, NULL, 0);
	data = pages(m, tn, t + 3 * MS, 600, 200 * US, MSS_JUMBO, NULL, 0, -1);
	tcp_run(&m->s, tn, t, data + 1 * MS);

	data = tls_open(m, c, t0 + 1 * MS) + 200 * US;
	t = pages(m, c, data, 640, gap, MSS_JUMBO, TLS_APP_DATA, sizeof(TLS_APP_DATA), 300);
	mt->pause_ns = data + 600 * gap - 1 * US;
	tcp_run(&m->s, c, t0, t + 1 * MS);
	mt->resume_ns = t + RESUME_NS;
	md->detected_by = "port,tls,shape";
	md->features = "[\"tls\",\"proxied\"]";
	md->shaped = true;
}

/*
 * libvirt's migration without shared storage (--copy-storage-all): the
 * destination QEMU serves the guest's new disk over NBD on the next port of
 * the range; the source QEMU connects (the server's greeting, "NBDMAGIC"
 * "IHAVEOPT", comes first), negotiates, and mirrors the disk with NBD writes
 * (request magic 0x25609513, type 1); QEMU's own stream (QEVM) follows on
 * the main port, while the mirror goes on writing what the guest writes
 * (here a segment every 5 ms) until the guest pauses.
 */
static void nbd_stream(struct msim *m, int64_t t0)
{
	static const uint8_t greeting[16] = { 'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C',
					      'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T' };
	static const uint8_t write_req[8] = { 0x25, 0x60, 0x95, 0x13, 0, 0, 0, 1 };
	static const uint8_t qevm[8] = { 'Q', 'E', 'V', 'M', 0, 0, 0, 3 };
	struct mig_truth *mt = m->mt;
	struct tcp_conn *disk = new_conn(m, CN1, CN2, 50010, MIG_PORT + 1, 200000, 8000000);
	struct tcp_conn *mem;
	int64_t t = t0 + 1 * MS, data, gap = 500 * US, last;

	xmit(m, disk, 1, t + 200 * US, 18, greeting, sizeof(greeting));
	xmit(m, disk, 0, t + 300 * US, 4, NULL, 0);   /* the client's flags */
	xmit(m, disk, 0, t + 400 * US, 40, NULL, 0);  /* NBD_OPT_GO, the export's name */
	xmit(m, disk, 1, t + 600 * US, 60, NULL, 0);  /* its replies */
	last = pages(m, disk, t + 1 * MS, 300, 250 * US, MSS, write_req, sizeof(write_req), 120);
	mem = new_conn(m, CN1, CN2, 50000, MIG_PORT, 100000, 7000000);
	data = last + 2 * MS;
	last = pages(m, mem, data, 400, gap, MSS, qevm, sizeof(qevm), -1);
	mt->pause_ns = data + 360 * gap - 1 * US;
	/* the mirror's synchronous writes while the memory goes */
	for (int64_t w = data + 2 * MS; w < mt->pause_ns; w += 5 * MS)
		xmit(m, disk, 0, w, MSS, write_req, sizeof(write_req));
	tcp_run(&m->s, disk, t0, last + 2 * MS);
	tcp_run(&m->s, mem, data - 1 * MS, last + 1 * MS);
	mt->resume_ns = last + RESUME_NS;
	m->md->detected_by = "port,qevm,nbd";
	m->md->features = "[\"nbd\"]";
}

/* ---- the truth ---- */

static int phase_of(int64_t t, const int64_t *start, int64_t resume, int64_t after)
{
	int64_t pause = start[PH_PAUSE] ? start[PH_PAUSE] : resume;

	if (t < start[PH_PRECOPY])
		return PH_BEFORE;
	if (t <= pause)
		return PH_PRECOPY;
	if (t < resume)
		return PH_PAUSE;
	if (t < after)
		return PH_POSTCOPY;
	return PH_AFTER;
}

/* The probes as one vantage saw them: the controller (request and reply
 * there) or the compute NICs (where the request arrived, the reply left). */
static void probe_view(const struct msim *m, bool at_ctl, struct probe_view_truth *v)
{
	const struct mig_truth *mt = m->mt;
	int64_t after = m->md->postcopy ? mt->end_ns : mt->resume_ns;

	memset(v, 0, sizeof(*v));
	v->phase_start[PH_PRECOPY] = mt->start_ns;
	if (mt->last_guest_src_ns && mt->last_guest_src_ns < mt->resume_ns)
		v->phase_start[PH_PAUSE] = mt->last_guest_src_ns;
	if (after > mt->resume_ns)
		v->phase_start[PH_POSTCOPY] = mt->resume_ns;
	v->phase_start[PH_AFTER] = after;
	for (uint32_t k = 0; k < m->nprobes; k++) {
		const struct probe_rec *p = &m->probe[k];
		int64_t req = at_ctl ? p->t : p->a, rep = at_ctl ? p->back : p->out;
		struct phase_truth *ph = &v->phase[phase_of(req, v->phase_start, mt->resume_ns, after)];

		ph->sent++;
		if (!rep) {
			ph->lost++;
			continue;
		}
		if (!ph->rtt_min || rep - req < ph->rtt_min)
			ph->rtt_min = rep - req;
		if (rep - req > ph->rtt_max)
			ph->rtt_max = rep - req;
		if (rep <= mt->resume_ns && rep > v->gap_start)
			v->gap_start = rep;
		if (rep > mt->resume_ns && (!v->gap_end || rep < v->gap_end))
			v->gap_end = rep;
	}
}

static void channel_truth(struct msim *m)
{
	struct mode_truth *md = m->md;
	struct mig_truth *mt = m->mt;

	md->nch = m->nconn;
	for (int k = 0; k < m->nconn; k++) {
		const struct tcp_conn *c = &m->conn[k];
		struct channel_truth *ch = &md->ch[k];

		ch->kind = m->s.sc->kind == SC_TUNNEL ? "tunnel"
			 : m->s.sc->kind == SC_PROXY ? "proxy"
			 : m->s.sc->kind == SC_NBD ? (k ? "main" : "nbd") : k ? "multifd" : "main";
		ch->src_port = c->port[0];
		ch->dst_port = c->port[1];
		ch->out_bytes = c->count[0].out_bytes;
		ch->in_bytes = c->count[0].in_bytes;
		ch->reverse_bytes = c->count[1].in_bytes; /* what reached the source NIC */
		mt->out_bytes += c->count[0].out_bytes;
		mt->in_bytes += c->count[0].in_bytes;
		mt->retx_segments += c->count[0].retx_segments;
		mt->retx_bytes += c->count[0].retx_bytes;
		if (!mt->start_ns || c->syn_ns < mt->start_ns)
			mt->start_ns = c->syn_ns;
		if (c->count[0].last_data_ns > mt->end_ns)
			mt->end_ns = c->count[0].last_data_ns;
	}
}

static void probe_truth(struct msim *m)
{
	struct sim_truth *tr = m->s.truth;
	struct mig_truth *mt = m->mt;
	struct mode_truth *md = m->md;

	for (uint32_t k = 0; k < m->nprobes; k++) {
		const struct probe_rec *p = &m->probe[k];

		tr->probes_sent++;
		if (p->h == mt->src && p->a > mt->resume_ns && p->a > md->last_req_src_ns)
			md->last_req_src_ns = p->a;
		if (!p->out)
			continue;
		tr->probes_answered++;
		tr->probes_answered_nic++;
		/* the guest's own frames at the source NIC: its replies there */
		if (p->h == mt->src && p->out < mt->resume_ns && p->out > mt->last_guest_src_ns)
			mt->last_guest_src_ns = p->out;
		if (p->h == mt->dst && p->a > mt->resume_ns &&
		    (!md->first_rep_dst_ns || p->out < md->first_rep_dst_ns))
			md->first_rep_dst_ns = p->out;
	}
	probe_view(m, true, &md->at_ctl);
	probe_view(m, false, &md->at_nic);
	mt->last_reply_ctl_ns = md->at_ctl.gap_start;
	mt->first_reply_ctl_ns = md->at_ctl.gap_end;
	mt->last_reply_nic_ns = md->at_nic.gap_start;
	mt->first_reply_nic_ns = md->at_nic.gap_end;
	mt->first_guest_dst_ns = mt->rarp_ns[0]; /* QEMU's RARP, before any reply */
	mt->reachable_after = mt->first_reply_ctl_ns != 0;
	/* a guest that answered its first request after the resume later than
	 * the grace, while postcopy brought its pages: slow, not silent */
	md->verdict = "ok";
	if (md->postcopy && md->first_rep_dst_ns > md->first_req_dst_ns + ANSWER_GRACE_NS) {
		md->verdict = "slow_guest";
		md->verdict_duration_ns = md->first_rep_dst_ns - md->first_req_dst_ns;
	}
}

int modes_run(const struct scenario *sc, struct capture_set *cs, struct sim_truth *truth)
{
	struct msim *m = calloc(1, sizeof(*m));
	int64_t t0 = T0 + (sc->kind == SC_PROXY ? 3 : 1) * SEC, until;
	int rc;

	if (!m)
		return -ENOMEM;
	memset(truth, 0, sizeof(*truth));
	m->s = (struct sim){ .sc = sc, .cs = cs, .truth = truth };
	m->mt = &truth->mig[0];
	m->md = &truth->mode;
	m->mt->src = CN1;
	m->mt->dst = CN2;
	switch (sc->kind) {
	case SC_POSTCOPY:
		postcopy_stream(m, t0);
		break;
	case SC_MULTIFD_TLS:
		multifd_tls_stream(m, t0);
		break;
	case SC_TUNNEL:
		tunnel_stream(m, t0);
		break;
	case SC_PROXY:
		proxy_stream(m, t0);
		break;
	case SC_NBD:
		nbd_stream(m, t0);
		break;
	default:
		m->s.rc = -EINVAL;
	}
	channel_truth(m);
	place_guest(m);
	until = (m->md->postcopy ? m->mt->end_ns + 1 * SEC : m->mt->resume_ns + 2 * SEC);
	run_probes(m, until);
	probe_truth(m);
	rc = m->s.rc;
	for (int k = 0; k < m->nconn; k++)
		tcp_conn_free(&m->conn[k]);
	tcp_conn_free(&m->tenant);
	free(m);
	return rc;
}
