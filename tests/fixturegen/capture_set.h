/*
 * capture_set - the frames each simulated NIC sees, collected out of order
 * (a frame reaches different NICs at different times) and written as one
 * time-ordered pcap per NIC, nanosecond stamps, cut at SNAPLEN like
 * `tcpdump -s 128 --time-stamp-precision=nano`. A name ending in .gz is
 * written gzip-compressed.
 */
#ifndef FIXTUREGEN_CAPTURE_SET_H
#define FIXTUREGEN_CAPTURE_SET_H

#include <stdint.h>

#include "frame.h"

enum { CS_VANTAGES = 3, SNAPLEN = 128 };

struct cs_record {
	int64_t ts_ns;
	uint64_t order; /* insertion order: ties keep causality */
	uint32_t wirelen, caplen;
	uint64_t off;
};

struct cs_vantage {
	struct cs_record *recs;
	uint64_t nrecs, cap_recs;
	uint8_t *bytes;
	uint64_t nbytes, cap_bytes;
};

struct capture_set {
	struct cs_vantage v[CS_VANTAGES];
	uint64_t order;
};

int cs_add(struct capture_set *cs, int vantage, int64_t ts_ns, const struct frame *f);
int cs_write(struct capture_set *cs, int vantage, const char *path);
void cs_free(struct capture_set *cs);

#endif
