/*
 * modes - how a migration travelled, told from the wire (design §9), with the
 * evidence that decided it (report_stream.mode_evidence):
 *  - its mode: postcopy when the source still sent pages after the resume
 *    (at least POSTCOPY_MIN_BYTES: QEMU's first RARP at the destination NIC
 *    means the guest runs there; in precopy nothing of the stream follows it)
 *    or the destination asked for pages on the return path; else precopy.
 *    Undecided (NULL) without a stream end.
 *  - its features: multifd (channel magic, or several TLS connections of one
 *    migration: TLS hides the magic), TLS (records on the migration's
 *    connections), tunnelled (libvirtd's port), NBD (its magic).
 *  - each connection, its kind and bytes each way, in order of its first
 *    packet.
 *  - the postcopy phase: its length (resume to the last data), the bytes
 *    sent in it, the return path's page requests where the stream is
 *    plaintext and the capture kept their headers (the first and last timed
 *    at the destination NIC, where they leave, when it was captured).
 *
 * Ownership: modes_fill stores the channels in rm (report_free releases
 * them). Errors: 0 or -ENOMEM.
 */
#ifndef MIGSCOPE_MODES_H
#define MIGSCOPE_MODES_H

#include <stdint.h>

#include "analysis/flows.h"
#include "reports/report.h"

/* A migration whose source sent this much after the resume ran in postcopy:
 * a few pages' retransmission or a closing message is far less; the
 * smallest postcopy phase sends the pages the guest touches first. */
#define POSTCOPY_MIN_BYTES (64 * 1024)

struct mode_scope {
	const struct mig_stream *ms;
	int src, dst;             /* the compute NICs' captures, -1: none */
	int64_t resume_ns;        /* switchover_resume */
	const char *resume_basis;
};

int modes_fill(const struct mode_scope *s, struct report_migration *rm);

#endif
