/*
 * limits - every cap that bounds the analyzer's memory, in one place. Each is
 * reached only by pathological input; reaching one is reported as a warning,
 * never silently.
 */
#ifndef MIGSCOPE_LIMITS_H
#define MIGSCOPE_LIMITS_H

enum {
	MAX_INPUTS = 4,          /* src, dst, ctl, and one more vantage */
	MAX_MIG_FLOWS = 256,     /* migration TCP flows (main, multifd, NBD) */
	FLOW_TABLE_SLOTS = 1024, /* open addressing, power of two, > 2x flows */
	MAX_GROUPS = 128,        /* migrations in one set of captures (an evacuation) */
	FLOW_DATA_MARKS = 64,    /* recent data segments kept to time their ACKs */
	MAX_TIME_MARKS = 4096,   /* per migration: stream bytes at the guests' first RARPs */
	MAX_BULK_FLOWS = 512,
	/* other TCP flows with payload, for migrations found by shape */
	MAX_HYPERVISOR_FILES = 8, /* --hypervisor files beside the captures */
	MAX_MACS = 256,          /* guest MAC candidates: an evacuated host's guests */
	MAX_TARGETS = 256,       /* echo targets (guest IP candidates) */
	MAX_PROBES = 262144,     /* echo requests kept: 43 min at 10 ms */
	MAX_ANNOUNCES = 4096,    /* RARP/GARP/NA events kept per MAC (grown as they come) */
	PROBE_MATCH_WINDOW = 4096, /* how far back a reply looks for its request */
	MAX_GUEST_CONNS = 16384, /* other TCP/UDP flows (the guest's own): 160 s of a
				  * new connection every 10 ms */
	MAX_CONN_REQUESTS = 1 << 20, /* their requests and responses */
	MAX_SWITCH_MARKS = 4096, /* guests' resumes the flows' gaps are kept around */
};

/* A flow joins a migration of the same host pair active this recently. */
#define GROUP_JOIN_NS (2LL * 1000000000)
/* Throughput is averaged over bins of this width for the peak figure. */
#define RATE_BIN_NS (100LL * 1000000)

#endif
