/*
 * hypervisor - what the hypervisor recorded of a migration, read beside the
 * captures (analyze --hypervisor FILE), so that its account ("downtime 4
 * ms") and the network's ("2.7 s without an answer") stand in one report
 * (design §9). A file is one of, told from its content:
 *   - QEMU's query-migrate reply, bare or as QMP's {"return": {...}}: status,
 *     total-time, downtime, setup-time (ms), ram.postcopy-requests, and on
 *     the destination postcopy-blocktime (ms);
 *   - a QMP event log, one JSON object a line (as QEMU's QMP socket, or
 *     libvirt's qemu log, writes them; replies to commands are skipped, a
 *     query-migrate reply among them is read as above): STOP, RESUME and
 *     MIGRATION status changes with QEMU's own stamps (the host's wall
 *     clock);
 *   - `virsh domjobinfo --completed` text ("Time elapsed: 3627 ms", "Total
 *     downtime: 4 ms", "Setup time", "Postcopy requests");
 *   - libvirt's job-completed event as `virsh event --event job-completed`
 *     prints it (time_elapsed, downtime, setup_time in ms,
 *     memory_postcopy_requests).
 * Several files add up: a field one of them gives is kept, the first given.
 *
 * Bounds (domain.h): stamps in the stamp domain, counts and durations (in
 * ns, as the report holds them: at most 104 days) non-negative and at most
 * COUNT_MAX; else -ERANGE naming the file and line.
 * Ownership: the caller owns *out. Errors: 0, or -errno with one line in err
 * (a file that is none of these: -EINVAL).
 */
#ifndef MIGSCOPE_HYPERVISOR_H
#define MIGSCOPE_HYPERVISOR_H

#include <stddef.h>

#include "reports/report.h"

/* Reads one file into *out, adding what it gives to what it already holds. */
int hypervisor_read(const char *path, struct report_hypervisor *out, char *err, size_t errlen);

#endif
