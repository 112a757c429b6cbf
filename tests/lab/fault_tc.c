// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fault_tc.c - msl-fault's clsact attachment through libbpf's bpf_tc_* API,
 * plus the one question that API cannot answer: which filters are still on a
 * hook. That takes an RTM_GETTFILTER dump (rtnetlink, as `tc filter show`).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "tests/lab/fault_tc.h"

enum { NL_BUF = 16384 };

static __u32 tc_parent(enum bpf_tc_attach_point dir)
{
	return TC_H_MAKE(TC_H_CLSACT, dir == BPF_TC_INGRESS ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

/* Does one message of the dump count? handle 0 asks for any filter. */
static int filter_counts(const struct tcmsg *tc, __u32 handle, __u32 priority)
{
	if (!handle)
		return 1;
	return tc->tcm_handle == handle && TC_H_MAJ(tc->tcm_info) >> 16 == priority;
}

/*
 * 1 when the hook `parent` of ifindex holds a filter (handle 0), or our
 * filter (handle, priority); 0 when not, also when the qdisc is gone;
 * -errno when netlink fails.
 */
static int tc_filter_present(int ifindex, __u32 parent, __u32 handle, __u32 priority)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req;
	union {
		struct nlmsghdr nh; /* for the alignment */
		char bytes[NL_BUF];
	} buf;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int fd, err = 0, found = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.tc));
	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.tc.tcm_family = AF_UNSPEC;
	req.tc.tcm_ifindex = ifindex;
	req.tc.tcm_parent = parent;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		goto cleanup;
	}
	while (!done) {
		ssize_t n = recv(fd, buf.bytes, sizeof(buf.bytes), 0);
		size_t left, len;
		const char *p;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		/* walk the messages by hand: NLMSG_OK mixes signed and
		 * unsigned, which -Wextra rejects */
		for (p = buf.bytes, left = (size_t)n; left >= sizeof(struct nlmsghdr);
		     p += len, left -= len) {
			const struct nlmsghdr *nh = (const struct nlmsghdr *)(const void *)p;

			if (nh->nlmsg_len < sizeof(*nh) || nh->nlmsg_len > left) {
				err = -EBADMSG;
				goto cleanup;
			}
			len = NLMSG_ALIGN(nh->nlmsg_len);
			if (len > left)
				len = left;
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				err = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? e->error : -EBADMSG;
				goto cleanup;
			}
			if (nh->nlmsg_type == RTM_NEWTFILTER &&
			    nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct tcmsg)) &&
			    filter_counts(NLMSG_DATA(nh), handle, priority))
				found = 1;
		}
	}
	err = found;
cleanup:
	close(fd);
	return err;
}

/* The clsact qdisc goes when we created it and neither direction holds a
 * filter any more (another injector may use the other direction). */
static int release_hook(struct fault_tc *t)
{
	LIBBPF_OPTS(bpf_tc_hook, both, .ifindex = t->hook.ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int err, in_use;

	if (!t->created_hook)
		return 0;
	in_use = tc_filter_present(t->hook.ifindex, tc_parent(BPF_TC_INGRESS), 0, 0);
	if (!in_use)
		in_use = tc_filter_present(t->hook.ifindex, tc_parent(BPF_TC_EGRESS), 0, 0);
	if (in_use < 0)
		return in_use;
	if (in_use) {
		t->created_hook = 0; /* not ours to remove any more */
		return 0;
	}
	err = bpf_tc_hook_destroy(&both);
	if (err == -ENOENT || err == -ENODEV || err == -EINVAL)
		err = 0; /* already gone, with its interface or by another hand */
	if (!err)
		t->created_hook = 0;
	return err;
}

int fault_tc__attach(struct fault_tc *t, int ifindex, int ingress, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int err;

	memset(t, 0, sizeof(*t));
	t->hook.sz = sizeof(t->hook);
	t->hook.ifindex = ifindex;
	t->hook.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
	err = bpf_tc_hook_create(&t->hook);
	if (err && err != -EEXIST)
		return err;
	t->created_hook = !err;
	/* handle and priority 0: the kernel picks free ones and libbpf
	 * reports them back, so we never replace somebody's filter */
	err = bpf_tc_attach(&t->hook, &opts);
	if (err)
		goto cleanup;
	t->handle = opts.handle;
	t->priority = opts.priority;
	t->attached = 1;
	return 0;
cleanup:
	release_hook(t);
	return err;
}

int fault_tc__detach(struct fault_tc *t)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = t->handle, .priority = t->priority);
	int err = 0, present;

	if (t->attached) {
		err = bpf_tc_detach(&t->hook, &opts);
		if (err) {
			/* ENOENT, or EINVAL when the qdisc itself went: ask
			 * whether our filter is really still there */
			present = tc_filter_present(t->hook.ifindex, tc_parent(t->hook.attach_point),
						    t->handle, t->priority);
			if (present == 0 || err == -ENODEV) {
				t->gone = 1;
				err = 0;
			}
		}
		if (err)
			return err;
		t->attached = 0;
	}
	return release_hook(t);
}
