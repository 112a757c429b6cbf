// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * msl-cut - makes a lab capture fit to commit as a fixture:
 *
 *   msl-cut [--ports SPEC] IN.pcap OUT.pcap
 *
 * Every migration-stream segment (TCP, a port of SPEC at either end, default
 * the analyzer's) is cut at the end of its TCP header: guest memory never
 * reaches the repository, and a fixture shrinks to a few hundred KB. The first
 * data segment of each flow keeps MAGIC_KEEP payload bytes, the QEMU stream
 * header ("QEVM" and its version) that the analyzer recognises a migration by.
 * Every other frame is copied untouched. Stamps keep nanosecond precision; the
 * original length of each frame is kept, so payload byte counts are unchanged.
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

enum { MAGIC_KEEP = 8, MAX_FLOWS = 256 };

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

static int cut_file(const char *in_path, const char *out_path, const struct portset *ports)
{
	char err[PCAP_ERRBUF_SIZE];
	struct seen_flows *seen = NULL;
	pcap_dumper_t *out = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *in = NULL;
	int rc = 0, linktype, next;

	seen = calloc(1, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
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
		    (portset_has(ports, m.sport) || portset_has(ports, m.dport)) &&
		    m.l4_payload_len > 0) {
			uint32_t keep = m.payload_off + (first_data(seen, &m) ? MAGIC_KEEP : 0);

			if (keep < cut.caplen)
				cut.caplen = keep;
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
