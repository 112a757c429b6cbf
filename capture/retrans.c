#include "capture/retrans.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "retrans.skel.h"

struct retrans_tracer {
	struct retrans_bpf *skel;
};

/* The arguments of tcp:tcp_retransmit_skb in the running kernel's BTF (2
 * before 6.12, then 3 with the result), or -1. */
static int retransmit_tp_args(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t = NULL;
	int id, n = -1;

	if (!btf)
		return -1;
	/* typedef void (*btf_trace_X)(void *, args...) */
	id = btf__find_by_name_kind(btf, "btf_trace_tcp_retransmit_skb", BTF_KIND_TYPEDEF);
	if (id > 0)
		t = btf__type_by_id(btf, id);
	if (t)
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_func_proto(t))
		n = btf_vlen(t) - 1;
	btf__free(btf);
	return n;
}

static int set_ports(struct retrans_bpf *skel, const struct portset *ports)
{
	int fd = bpf_map__fd(skel->maps.rt_ports);

	for (uint32_t w = 0; w < PKT_PORT_WORDS; w++) {
		uint64_t bits = ports->bits[w];

		if (bits && bpf_map_update_elem(fd, &w, &bits, BPF_ANY))
			return -errno;
	}
	return 0;
}

struct retrans_tracer *retrans_tracer__open(const struct portset *ports)
{
	struct retrans_tracer *t;
	struct stat ns;
	int args = retransmit_tp_args();

	if (args < 2) {
		errno = ENOTSUP; /* no BTF, or a tracepoint we do not know */
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->skel = retrans_bpf__open();
	if (!t->skel)
		goto fail;
	/* the tracepoint sees the whole machine; the agent watches one node */
	if (!stat("/proc/self/ns/net", &ns))
		t->skel->rodata->netns_ino = (uint32_t)ns.st_ino;
	bpf_program__set_autoload(t->skel->progs.msc_retransmit, args == 2);
	bpf_program__set_autoload(t->skel->progs.msc_retransmit_err, args >= 3);
	if (retrans_bpf__load(t->skel) || set_ports(t->skel, ports) || retrans_bpf__attach(t->skel))
		goto fail;
	return t;
fail:
	retrans_tracer__close(t);
	return NULL;
}

int retrans_tracer__each(const struct retrans_tracer *t, retrans_fn fn, void *ctx)
{
	struct pkt_retrans_key key, next;
	struct pkt_retrans_stats st;
	void *prev = NULL;
	int fd, rc;

	fd = bpf_map__fd(t->skel->maps.retrans);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &st))
			continue;
		rc = fn(ctx, &key, &st);
		if (rc)
			return rc;
	}
	return errno == ENOENT ? 0 : -errno;
}

void retrans_tracer__detach(struct retrans_tracer *t)
{
	if (t)
		retrans_bpf__detach(t->skel);
}

void retrans_tracer__close(struct retrans_tracer *t)
{
	if (!t)
		return;
	retrans_bpf__destroy(t->skel);
	free(t);
}
