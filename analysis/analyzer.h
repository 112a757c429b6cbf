/*
 * analyzer - `migscope analyze`: estimates the captures' clock offsets
 * (clock_align.h), then reads every capture once, merged in time order on the
 * reference capture's clock, and builds the report.
 *
 * Ownership: the caller owns cfg and out; out must be released with
 * report_free() whatever analyze() returns.
 * Errors: 0 on success, or -errno with one line in err naming the input (a
 * missing, empty, non-capture or unsupported file). A capture cut mid-record is
 * analyzed up to its last complete packet and reported as a warning.
 *
 * A migration on no migration port and without QEMU's magic (relayed by a
 * proxy, under TLS) is found by its shape (design §9), unless the ports were
 * given: when the captures hold no migration, a bulk one-way TCP flow
 * between two hosts that carried at least SHAPE_MIN_BYTES and ran up to the
 * guest's first RARP (within SHAPE_END_NS before it, or on past it as in
 * postcopy) is taken for one, its receiving port a migration port: the
 * captures are read again so, and a warning says so.
 */
#ifndef MIGSCOPE_ANALYZER_H
#define MIGSCOPE_ANALYZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/addr.h"
#include "analysis/limits.h"
#include "analysis/portset.h"
#include "reports/report.h"

struct time_window; /* analysis/capture_dir.h */

/* What measures the downtime and the loss: echo probes, the guest's own TCP
 * requests (a guest that ignores ping), or auto: echo unless no echo to the
 * guest was ever answered and its requests were. */
enum probe_kind { PROBE_AUTO, PROBE_ICMP, PROBE_TCP, PROBE_ARP };

struct analyze_config {
	const char *paths[MAX_INPUTS];
	const char *labels[MAX_INPUTS]; /* "src", "dst", "ctl" or NULL: detect */
	int ninputs;
	struct portset ports;
	bool ports_given;               /* --ports: no stream is found by its shape */
	bool guest_mac_set;
	uint8_t guest_mac[6];
	struct ip_addr guest_ip;        /* family 0: detect */
	bool no_align;                  /* trust the captures' clocks as they are */
	bool announce_set;              /* else QEMU's default announce schedule */
	/* what the hypervisor recorded (analysis/hypervisor.h); a file with
	 * QEMU's event stamps goes to the migration they fall in, the others to
	 * the migrations in order */
	const char *hypervisor_paths[MAX_HYPERVISOR_FILES];
	int nhypervisor;
	struct announce_params announce;
	int64_t sla_ns;                 /* --sla: a response slower fails it; 0: none */
	enum probe_kind probe;          /* --probe */
	uint16_t probe_port;            /* --probe tcp:PORT; 0: any */
	/* set by analyze(): the times around the migrations the agent's counters
	 * name, where a directory's files are read (capture_dir__select) */
	const struct time_window *windows;
	int nwindows;
	/* called every ANALYZE_PROGRESS_EVERY packets when set */
	void (*progress)(uint64_t packets, void *arg);
	void *progress_arg;
};

#define ANALYZE_PROGRESS_EVERY (1u << 20)
/* A directory of captures (a day of the flight recorder's ring, tcpdump -G
 * output) is read from this long before each migration the agent's counters
 * name to this long after it: the steady probes before, the announcements
 * and the guest's answers after. More windows than ANALYZE_MAX_WINDOWS: all. */
#define ANALYZE_WINDOW_MARGIN_NS (60LL * 1000000000)
enum { ANALYZE_MAX_WINDOWS = 256 };
/* The smallest guest's memory is tens of MB; a tenant's bulk transfer that
 * happens to end at the resume is the false positive this guards against. */
#define SHAPE_MIN_BYTES (4ULL << 20)
#define SHAPE_END_NS (2000LL * 1000000)

int analyze(const struct analyze_config *cfg, struct report *out, char *err, size_t errlen);

/* The captures labelled ctl= (the prober's), as a mask of inputs; 0: none. */
uint32_t analyze_prober_inputs(const struct analyze_config *cfg);

#endif
