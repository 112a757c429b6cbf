#include "analysis/clock_align.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/capture_reader.h"
#include "analysis/linklayer.h"

/* Both captures must name a flow and its sender the same way: the endpoint
 * with the smaller (address, port) is side 0, whoever sent the SYN. */
static int sender_side(const struct pkt_meta *m)
{
	int c = memcmp(m->ip_src, m->ip_dst, sizeof(m->ip_src));

	if (!c)
		c = m->sport < m->dport ? -1 : m->sport > m->dport;
	return c > 0;
}

static uint64_t flow_key(const struct pkt_meta *m, int side)
{
	const uint8_t *lo = side ? m->ip_dst : m->ip_src, *hi = side ? m->ip_src : m->ip_dst;
	uint16_t plo = side ? m->dport : m->sport, phi = side ? m->sport : m->dport;
	uint64_t k = 0;

	for (size_t i = 0; i < sizeof(m->ip_src); i++)
		k = clock_key_mix(k ^ lo[i] ^ (uint64_t)hi[i] << 8);
	return clock_key_mix(k ^ (uint64_t)plo << 16 ^ (uint64_t)phi << 32);
}

/* A flow's key is hashed once, not per segment: two places per direction of
 * a flow, room for an evacuation's streams and their ACKs interleaved. */
enum { FLOW_KEY_CACHE = 512 };

struct flow_key_entry {
	uint8_t ip_src[16], ip_dst[16];
	uint16_t sport, dport;
	int side;
	uint64_t key;
	bool valid;
};

struct flow_key_cache {
	struct flow_key_entry e[FLOW_KEY_CACHE];
	unsigned evict; /* which of the two places a miss overwrites next */
};

static bool entry_is(const struct flow_key_entry *c, const struct pkt_meta *m)
{
	return c->valid && c->sport == m->sport && c->dport == m->dport &&
	       !memcmp(c->ip_src, m->ip_src, sizeof(c->ip_src)) &&
	       !memcmp(c->ip_dst, m->ip_dst, sizeof(c->ip_dst));
}

static uint64_t cached_flow_key(struct flow_key_cache *fc, const struct pkt_meta *m, int *side)
{
	uint64_t h = ((uint64_t)m->sport | (uint64_t)m->dport << 16 |
		      (uint64_t)m->ip_src[3] << 32 | (uint64_t)m->ip_dst[3] << 40 |
		      (uint64_t)m->ip_src[15] << 48 | (uint64_t)m->ip_dst[15] << 56) *
		     0x9e3779b97f4a7c15ULL;
	unsigned i = (unsigned)(h >> 32) % FLOW_KEY_CACHE & ~1u;
	struct flow_key_entry *c = &fc->e[i];

	if (!entry_is(c, m)) {
		c = &fc->e[i + 1];
		if (!entry_is(c, m)) {
			c = &fc->e[fc->e[i].valid ? i + (fc->evict++ & 1) : i];
			memcpy(c->ip_src, m->ip_src, sizeof(c->ip_src));
			memcpy(c->ip_dst, m->ip_dst, sizeof(c->ip_dst));
			c->sport = m->sport;
			c->dport = m->dport;
			c->side = sender_side(m);
			c->key = flow_key(m, c->side);
			c->valid = true;
		}
	}
	*side = c->side;
	return c->key;
}

/* One packet into the samples: a migration-stream segment (its data by seq,
 * a bare ACK by ack) or an echo request/reply. Returns clock_samples__add_queued's. */
static int sample_packet(struct clock_samples *s, const struct portset *ports,
			 struct flow_key_cache *fc, const struct pkt_meta *m, int64_t ts_ns)
{
	uint64_t key, flow;
	int side;

	if (m->kind == PKT_KIND_ECHO_REQUEST || m->kind == PKT_KIND_ECHO_REPLY) {
		/* the target of a request is the source of its reply */
		const uint8_t *guest = m->kind == PKT_KIND_ECHO_REQUEST ? m->ip_dst : m->ip_src;
		uint64_t lo, hi;

		/* by words, not bytes: every echo is keyed, and a mix per byte
		 * was most of this pass's time at the prober */
		memcpy(&lo, guest, sizeof(lo));
		memcpy(&hi, guest + sizeof(lo), sizeof(hi));
		key = clock_key_mix(clock_key_mix(lo) ^ hi);
		key = clock_key_mix(key ^ (uint64_t)m->echo_id << 16 ^ m->echo_seq);
		return clock_samples__add_queued(s, CLOCK_ECHO, m->kind == PKT_KIND_ECHO_REPLY, key,
						 ts_ns);
	}
	if (m->kind != PKT_KIND_TCP || (m->flags & PKT_F_TRUNC) ||
	    (!portset_has(ports, m->sport) && !portset_has(ports, m->dport)))
		return 0;
	if (m->l4_payload_len) {
		flow = cached_flow_key(fc, m, &side);
		key = clock_key_mix(flow ^ 0xd000000000ULL ^ m->tcp_seq);
	} else if ((m->tcp_flags & (PKT_TCP_ACK | PKT_TCP_SYN | PKT_TCP_FIN | PKT_TCP_RST)) ==
		   PKT_TCP_ACK) {
		flow = cached_flow_key(fc, m, &side);
		key = clock_key_mix(flow ^ 0xa000000000ULL ^ m->tcp_ack);
	} else {
		return 0;
	}
	if (!clock_samples__wanted(CLOCK_STREAM, key))
		return 0;
	return clock_samples__add_queued(s, CLOCK_STREAM, side, key, ts_ns);
}

static int sample_input(const struct analyze_config *cfg, int i, struct clock_samples *s,
			char *err, size_t errlen)
{
	const struct portset *ports = &cfg->ports;
	struct flow_key_cache *fc;
	struct capture_reader *r;
	struct capture_packet pkt;
	struct pkt_meta m;
	int rc, link;

	fc = calloc(1, sizeof(*fc));
	if (!fc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = capture_reader__open_windows(cfg->paths[i], cfg->windows, cfg->nwindows, err, errlen);
	if (!r) {
		rc = errno ? -errno : -EINVAL;
		free(fc);
		return rc;
	}
	link = capture_reader__linktype(r);
	while ((rc = capture_reader__next(r, &pkt)) == 1) {
		if (linklayer_classify(link, pkt.data, pkt.caplen, &m))
			continue;
		if (sample_packet(s, ports, fc, &m, pkt.ts_ns) == -ENOSPC)
			break; /* enough: the rest of the file adds no precision */
	}
	clock_samples__flush(s); /* after a -ENOSPC it inserts nothing: the table is full */
	capture_reader__close(r);
	free(fc);
	/* read errors are the main pass's to report, with its wording */
	return 0;
}

/* One capture's sampling, on a thread of its own: the captures share nothing
 * until clock_solve, and this pass reads them all before analysis can start. */
struct sample_job {
	const struct analyze_config *cfg;
	int input;
	struct clock_samples *samples;
	int rc;
	bool threaded;
	pthread_t thread;
	char err[256];
};

static void *sample_job_run(void *arg)
{
	struct sample_job *j = arg;

	j->rc = sample_input(j->cfg, j->input, j->samples, j->err, sizeof(j->err));
	return NULL;
}

int clock_align(const struct analyze_config *cfg, int ref, struct clock_estimate *out,
		char *err, size_t errlen)
{
	struct sample_job job[MAX_INPUTS] = { 0 };
	struct clock_samples *s[MAX_INPUTS] = { 0 };
	int rc = 0, n = cfg->ninputs;

	for (int i = 0; i < n; i++) {
		s[i] = clock_samples__new();
		if (!s[i]) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto cleanup;
		}
		job[i] = (struct sample_job){ .cfg = cfg, .input = i, .samples = s[i] };
	}
	for (int i = 0; i < n; i++)
		job[i].threaded = !pthread_create(&job[i].thread, NULL, sample_job_run, &job[i]);
	for (int i = 0; i < n; i++) {
		if (job[i].threaded)
			pthread_join(job[i].thread, NULL);
		else
			sample_job_run(&job[i]); /* no thread to be had: here, in turn */
	}
	for (int i = 0; i < n && !rc; i++) {
		rc = job[i].rc;
		if (rc)
			snprintf(err, errlen, "%s", job[i].err);
	}
	if (!rc)
		clock_solve((const struct clock_samples *const *)s, n, ref, out);
cleanup:
	for (int i = 0; i < n; i++)
		clock_samples__free(s[i]);
	return rc;
}
