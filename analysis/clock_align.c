#include "analysis/clock_align.h"

#include <errno.h>
#include <stdio.h>
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

/* One packet into the samples: a migration-stream segment (its data by seq,
 * a bare ACK by ack) or an echo request/reply. Returns clock_samples__add's. */
static int sample_packet(struct clock_samples *s, const struct portset *ports,
			 const struct pkt_meta *m, int64_t ts_ns)
{
	uint64_t key;
	int side;

	if (m->kind == PKT_KIND_ECHO_REQUEST || m->kind == PKT_KIND_ECHO_REPLY) {
		/* the target of a request is the source of its reply */
		const uint8_t *guest = m->kind == PKT_KIND_ECHO_REQUEST ? m->ip_dst : m->ip_src;

		key = 0;
		for (size_t i = 0; i < sizeof(m->ip_dst); i++)
			key = clock_key_mix(key ^ guest[i]);
		key = clock_key_mix(key ^ (uint64_t)m->echo_id << 16 ^ m->echo_seq);
		return clock_samples__add(s, CLOCK_ECHO, m->kind == PKT_KIND_ECHO_REPLY, key, ts_ns);
	}
	if (m->kind != PKT_KIND_TCP || (m->flags & PKT_F_TRUNC) ||
	    (!portset_has(ports, m->sport) && !portset_has(ports, m->dport)))
		return 0;
	side = sender_side(m);
	if (m->l4_payload_len)
		key = clock_key_mix(flow_key(m, side) ^ 0xd000000000ULL ^ m->tcp_seq);
	else if ((m->tcp_flags & (PKT_TCP_ACK | PKT_TCP_SYN | PKT_TCP_FIN | PKT_TCP_RST)) == PKT_TCP_ACK)
		key = clock_key_mix(flow_key(m, side) ^ 0xa000000000ULL ^ m->tcp_ack);
	else
		return 0;
	if (!clock_samples__wanted(CLOCK_STREAM, key))
		return 0;
	return clock_samples__add(s, CLOCK_STREAM, side, key, ts_ns);
}

static int sample_input(const struct analyze_config *cfg, int i, struct clock_samples *s,
			char *err, size_t errlen)
{
	const struct portset *ports = &cfg->ports;
	struct capture_reader *r = capture_reader__open_windows(cfg->paths[i], cfg->windows,
								cfg->nwindows, err, errlen);
	struct capture_packet pkt;
	struct pkt_meta m;
	int rc, link;

	if (!r)
		return errno ? -errno : -EINVAL;
	link = capture_reader__linktype(r);
	while ((rc = capture_reader__next(r, &pkt)) == 1) {
		if (linklayer_classify(link, pkt.data, pkt.caplen, &m))
			continue;
		if (sample_packet(s, ports, &m, pkt.ts_ns) == -ENOSPC)
			break; /* enough: the rest of the file adds no precision */
	}
	capture_reader__close(r);
	/* read errors are the main pass's to report, with its wording */
	return 0;
}

int clock_align(const struct analyze_config *cfg, int ref, struct clock_estimate *out,
		char *err, size_t errlen)
{
	struct clock_samples *s[MAX_INPUTS] = { 0 };
	int rc = 0, n = cfg->ninputs;

	for (int i = 0; i < n; i++) {
		s[i] = clock_samples__new();
		if (!s[i]) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto cleanup;
		}
		rc = sample_input(cfg, i, s[i], err, errlen);
		if (rc)
			goto cleanup;
	}
	clock_solve((const struct clock_samples *const *)s, n, ref, out);
cleanup:
	for (int i = 0; i < n; i++)
		clock_samples__free(s[i]);
	return rc;
}
