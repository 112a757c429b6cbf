/*
 * msc-inject - sends every frame of a pcap/pcapng file onto an interface with
 * libpcap's pcap_inject, for tests/e2e/capture.sh.
 *
 * usage: msc-inject IFACE FILE
 *
 * Frames cut by the capture's snaplen are padded with zeros to their original
 * length, so the receiving side sees the wire sizes the file records (the
 * analyzer's wire_bytes). Every 32 frames it pauses 1 ms: a veth peer
 * queues received frames in a backlog of netdev_max_backlog (1000) and drops
 * beyond it, which would make the exact counters disagree for a reason that
 * is not ours. Prints the number of frames sent. Exit 0, or 2 on an error.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { MAX_FRAME = 65535, PACE_EVERY = 32 };

int main(int argc, char **argv)
{
	static unsigned char frame[MAX_FRAME];
	char errbuf[PCAP_ERRBUF_SIZE];
	struct timespec pause = { 0, 1000000 };
	struct pcap_pkthdr *h;
	const unsigned char *data;
	pcap_t *in = NULL, *out = NULL;
	unsigned long sent = 0;
	int rc, status = 2;
	size_t len;

	if (argc != 3) {
		fprintf(stderr, "usage: msc-inject IFACE FILE\n");
		return 2;
	}
	in = pcap_open_offline(argv[2], errbuf);
	if (!in) {
		fprintf(stderr, "msc-inject: %s\n", errbuf);
		goto cleanup;
	}
	out = pcap_open_live(argv[1], 65535, 0, 100, errbuf);
	if (!out) {
		fprintf(stderr, "msc-inject: %s\n", errbuf);
		goto cleanup;
	}
	while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
		len = h->len > h->caplen ? h->len : h->caplen;
		if (len > MAX_FRAME)
			len = MAX_FRAME;
		memcpy(frame, data, h->caplen < len ? h->caplen : len);
		memset(frame + h->caplen, 0, len > h->caplen ? len - h->caplen : 0);
		if (pcap_inject(out, frame, len) != (int)len) {
			fprintf(stderr, "msc-inject: frame %lu: %s\n", sent + 1, pcap_geterr(out));
			goto cleanup;
		}
		if (++sent % PACE_EVERY == 0)
			nanosleep(&pause, NULL);
	}
	if (rc != PCAP_ERROR_BREAK) {
		fprintf(stderr, "msc-inject: %s\n", pcap_geterr(in));
		goto cleanup;
	}
	printf("%lu\n", sent);
	status = 0;
cleanup:
	if (out)
		pcap_close(out);
	if (in)
		pcap_close(in);
	return status;
}
