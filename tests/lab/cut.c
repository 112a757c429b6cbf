// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * msl-cut - makes a lab capture fit to commit as a fixture:
 *
 *   msl-cut [--ports SPEC] IN.pcap OUT.pcap
 *
 * Every migration-stream segment (TCP, a port of SPEC at either end, default
 * the analyzer's; a run on another port names it, e.g.
 * "49152-49215,16509,16514,7000") is cut at the end of its TCP header: guest
 * memory never reaches the repository, and a fixture shrinks to a few hundred
 * KB. The first data segment of each flow keeps MAGIC_KEEP payload bytes, the
 * QEMU stream header ("QEVM" and its version; a multifd channel's magic; a
 * TLS record header) that the analyzer recognises a migration by. Every other
 * frame is copied untouched. Stamps keep nanosecond precision; the original
 * length of each frame is kept, so payload byte counts are unchanged.
 *
 * One exception, the return path: on a connection whose client opened it
 * (SYN seen) and whose first data from the client began with QEMU's "QEVM"
 * (the main channel of a plaintext migration), what the server sends back
 * is QEMU's return path (migration/migration.c, enum mig_rp_message_type:
 * SHUT, PONG, REQ_PAGES_ID, REQ_PAGES, RECV_BITMAP, RESUME_ACK; postcopy's
 * page requests name a RAM block, an offset and a length, never its
 * contents). Those segments keep up to RP_KEEP payload bytes, so a fixture
 * still shows which page was requested when. A connection whose opening was
 * not captured, or that does not start with QEVM (multifd, TLS, NBD,
 * libvirtd's tunnel), is cut both ways.
 *
 * The frame is classified by the shared classifier (bpf/parse.h), so "where
 * the payload starts" is the analyzer's own answer, encapsulations included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "analysis/linklayer.h"
#include "analysis/portset.h"

enum { MAGIC_KEEP = 8, RP_KEEP = 256, MAX_FLOWS = 256, MAX_CONNS = 256 };

struct flow_key {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

/* The flows whose first data segment was already kept (a handful per run). */
struct seen_flows {
	struct flow_key key[MAX_FLOWS];
	int n;
};

/* true the first time a flow is seen carrying data */
static bool first_data(struct seen_flows *seen, const struct pkt_meta *m)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, m->ip_src, sizeof(k.src));
	memcpy(k.dst, m->ip_dst, sizeof(k.dst));
	k.sport = m->sport;
	k.dport = m->dport;
	for (int i = 0; i < seen->n; i++)
		if (!memcmp(&seen->key[i], &k, sizeof(k)))
			return false;
	if (seen->n < MAX_FLOWS)
		seen->key[seen->n++] = k;
	return true;
}

/* TCP connections on a migration port, as opened: key is client -> server. */
struct conns {
	struct conn {
		struct flow_key key; /* src, sport: the client (sent the SYN) */
		bool data_seen;      /* the client's first data segment went by */
		bool qevm;           /* ... and began with QEMU's "QEVM" */
	} c[MAX_CONNS];
	int n;
};

static void flow_key_of(struct flow_key *k, const struct pkt_meta *m, bool reverse)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, reverse ? m->ip_dst : m->ip_src, sizeof(k->src));
	memcpy(k->dst, reverse ? m->ip_src : m->ip_dst, sizeof(k->dst));
	k->sport = reverse ? m->dport : m->sport;
	k->dport = reverse ? m->sport : m->dport;
}

/* The connection this segment belongs to, and whether it goes server ->
 * client; NULL when its opening was not seen. */
static struct conn *conn_of(struct conns *cs, const struct pkt_meta *m, bool *from_server)
{
	struct flow_key k;

	for (int dir = 0; dir < 2; dir++) {
		flow_key_of(&k, m, dir);
		for (int i = 0; i < cs->n; i++)
			if (!memcmp(&cs->c[i].key, &k, sizeof(k))) {
				*from_server = dir;
				return &cs->c[i];
			}
	}
	return NULL;
}

/* How many payload bytes of a data segment on a migration port to keep. */
static uint32_t keep_bytes(struct seen_flows *seen, struct conns *cs, const struct pkt_meta *m,
			   const u_char *data, uint32_t caplen)
{
	bool from_server = false, first = first_data(seen, m);
	struct conn *c = conn_of(cs, m, &from_server);

	if (c && !from_server && !c->data_seen) {
		c->data_seen = true;
		c->qevm = caplen >= m->payload_off + 4u && !memcmp(data + m->payload_off, "QEVM", 4);
	}
	if (c && from_server && c->qevm)
		return RP_KEEP;
	return first ? MAGIC_KEEP : 0;
}

static int cut_file(const char *in_path, const char *out_path, const struct portset *ports)
{
	char err[PCAP_ERRBUF_SIZE];
	struct seen_flows *seen = NULL;
	struct conns *conns = NULL;
	pcap_dumper_t *out = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *in = NULL;
	int rc = 0, linktype, next;

	seen = calloc(1, sizeof(*seen));
	conns = calloc(1, sizeof(*conns));
	if (!seen || !conns) {
		rc = -ENOMEM;
		goto cleanup;
	}
	in = pcap_open_offline_with_tstamp_precision(in_path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!in) {
		fprintf(stderr, "msl-cut: %s\n", err);
		rc = -EINVAL;
		goto cleanup;
	}
	linktype = pcap_datalink(in);
	out = pcap_dump_open(in, out_path);
	if (!out) {
		fprintf(stderr, "msl-cut: %s: %s\n", out_path, pcap_geterr(in));
		rc = -EIO;
		goto cleanup;
	}
	while ((next = pcap_next_ex(in, &h, &data)) == 1) {
		struct pcap_pkthdr cut = *h;
		struct pkt_meta m;

		if (linklayer_classify(linktype, data, h->caplen, &m) == 0 &&
		    m.kind == PKT_KIND_TCP && !(m.flags & PKT_F_TRUNC) &&
		    (portset_has(ports, m.sport) || portset_has(ports, m.dport))) {
			bool from_server;

			/* a connection opens: SYN without ACK, client -> server */
			if ((m.tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN &&
			    !conn_of(conns, &m, &from_server) && conns->n < MAX_CONNS)
				flow_key_of(&conns->c[conns->n++].key, &m, false);
			if (m.l4_payload_len > 0) {
				uint32_t keep = m.payload_off + keep_bytes(seen, conns, &m, data, h->caplen);

				if (keep < cut.caplen)
					cut.caplen = keep;
			}
		}
		pcap_dump((u_char *)out, &cut, data);
	}
	if (next == PCAP_ERROR) {
		/* a capture cut mid-record by a killed tcpdump: keep what is whole */
		fprintf(stderr, "msl-cut: %s: %s (kept the complete records)\n", in_path, pcap_geterr(in));
	}
	if (pcap_dump_flush(out)) {
		fprintf(stderr, "msl-cut: %s: write failed\n", out_path);
		rc = -EIO;
	}
cleanup:
	if (out)
		pcap_dump_close(out);
	if (in)
		pcap_close(in);
	free(conns);
	free(seen);
	return rc;
}

int main(int argc, char **argv)
{
	struct portset *ports;
	const char *spec = PORTSET_DEFAULT;
	int arg = 1, rc;

	if (argc > 2 && !strcmp(argv[1], "--ports")) {
		spec = argv[2];
		arg = 3;
	}
	if (argc - arg != 2) {
		fprintf(stderr, "usage: msl-cut [--ports SPEC] IN.pcap OUT.pcap\n");
		return 2;
	}
	ports = calloc(1, sizeof(*ports));
	if (!ports)
		return 1;
	if (portset_parse(ports, spec)) {
		fprintf(stderr, "msl-cut: bad --ports '%s'\n", spec);
		free(ports);
		return 2;
	}
	rc = cut_file(argv[arg], argv[arg + 1], ports);
	free(ports);
	return rc ? 1 : 0;
}
