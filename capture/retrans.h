/*
 * retrans - the userspace half of bpf/retrans.bpf.c: loads the retransmit
 * tracer from its embedded skeleton, for the sockets of the agent's network
 * namespace and the migration ports, attaches it to tcp:tcp_retransmit_skb
 * and reads back its per-flow counts (bpf/pkt.h: struct pkt_retrans_key and
 * _stats).
 *
 * Optional by design (design §8): where the tracer cannot load or attach (no
 * BTF, a tracepoint of an arity it does not know, no privilege),
 * retrans_tracer__open returns NULL and packet capture goes on without it.
 * Since 6.12 the tracepoint also fires for attempts that sent nothing, with
 * their error: the loader reads its arity from the kernel's BTF and loads
 * the program that skips those.
 *
 * Ownership: __open returns a handle released by __close (NULL-safe), which
 * detaches. Errors: __each returns 0, -errno of the map read, or fn's first
 * non-zero return.
 */
#ifndef MIGSCOPE_CAPTURE_RETRANS_H
#define MIGSCOPE_CAPTURE_RETRANS_H

#include "analysis/portset.h"
#include "bpf/pkt.h"

struct retrans_tracer;

/* One flow direction's retransmits; returns 0 to go on. */
typedef int (*retrans_fn)(void *ctx, const struct pkt_retrans_key *k,
			  const struct pkt_retrans_stats *s);

struct retrans_tracer *retrans_tracer__open(const struct portset *ports);
/* Every flow the tracer counted, in the map's order. */
int retrans_tracer__each(const struct retrans_tracer *t, retrans_fn fn, void *ctx);
/* Stops counting; the counts stay readable until __close. */
void retrans_tracer__detach(struct retrans_tracer *t);
void retrans_tracer__close(struct retrans_tracer *t);

#endif
