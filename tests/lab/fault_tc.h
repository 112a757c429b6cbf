/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fault_tc.h - one tc (clsact) attachment of msl-fault, and its removal.
 *
 * Contract: a caller-owned struct fault_tc, zeroed by fault_tc__attach() and
 * filled in as the attachment progresses, so that fault_tc__detach() undoes
 * exactly what was done, also after a failed attach. Several injectors may
 * share an interface (one per direction, or more): each removes only its own
 * filter, and the clsact qdisc only when it created it and no filter is left
 * on it (the netlink dump says so). Functions return 0 or -errno; every
 * netlink or BPF error is passed up. Needs CAP_NET_ADMIN in the interface's
 * network namespace.
 */
#ifndef MIGSCOPE_LAB_FAULT_TC_H
#define MIGSCOPE_LAB_FAULT_TC_H

#include <bpf/libbpf.h>

struct fault_tc {
	struct bpf_tc_hook hook; /* ifindex and our direction */
	__u32 handle;            /* of our filter, chosen by the kernel */
	__u32 priority;
	int created_hook;        /* we created the clsact qdisc */
	int attached;
	int gone;                /* detach found the filter already removed */
};

/* Attaches prog_fd at ifindex's ingress (ingress != 0) or egress, creating
 * the clsact qdisc when there is none. On failure nothing is left behind. */
int fault_tc__attach(struct fault_tc *t, int ifindex, int ingress, int prog_fd);

/* Removes our filter, then the clsact qdisc if we created it and it is empty.
 * A filter that somebody else removed already (or whose interface is gone)
 * counts as removed and sets t->gone. Safe to call twice. */
int fault_tc__detach(struct fault_tc *t);

#endif /* MIGSCOPE_LAB_FAULT_TC_H */
