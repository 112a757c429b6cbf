#include "capture/pkt.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "bpf/parse.h"
#include "pkt.skel.h"

/* Debian 12's uapi headers predate tcx (kernel 6.6). */
enum { ATTACH_TCX_INGRESS = 46, ATTACH_TCX_EGRESS = 47 };
/* Our clsact filters: a fixed place, so a stale one is found and removed. */
enum { TC_HANDLE = 0x6d73, TC_PRIORITY = 0x6d73 };
#define LOCK_DIR "/run/migscope"

struct pkt_iface {
	char name[IF_NAMESIZE];
	uint32_t ifindex;
	int lock_fd;
	int link_fd[2];    /* tcx links, -1 if none */
	bool tc_attached[2];
};

struct pkt_capture {
	struct pkt_bpf *skel;
	struct retrans_tracer *rt; /* NULL: not loaded (optional) */
	struct ring_buffer *rb;
	pkt_event_fn fn;
	void *ctx;
	bool tcx;
	bool test_run;     /* PKT_ATTACH_NONE: frames come from pkt_capture__test_run */
	int nifaces;
	struct pkt_iface ifaces[PKT_CAPTURE_MAX_IFACES];
};

/* libbpf's own messages only when asked: our errors say what failed. */
__attribute__((format(printf, 2, 0)))
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("MIGSCOPE_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* One agent per NIC: a lock file named by network namespace and ifindex
 * (interface names are per namespace). The lock dies with the process. */
static int lock_iface(struct pkt_iface *f, char *err, size_t errlen)
{
	char path[128], pid[32] = "";
	struct stat ns;
	ssize_t n;
	int fd;

	if (stat("/proc/self/ns/net", &ns))
		ns.st_ino = 0;
	if (mkdir(LOCK_DIR, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", LOCK_DIR, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), LOCK_DIR "/net%llu-if%u.lock",
		 (unsigned long long)ns.st_ino, f->ifindex);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "another migscope capture (pid %s) already holds %s",
			 pid[0] ? pid : "?", f->name);
		close(fd);
		return -EBUSY;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, strlen(pid), 0) < 0) {
		/* the lock holds without the pid; it only improves the message */
	}
	f->lock_fd = fd;
	return 0;
}

static int fill_maps(struct pkt_capture *c, const struct pkt_capture_opts *o)
{
	int ports_fd = bpf_map__fd(c->skel->maps.ports);
	uint8_t one = 1;
	int rc;

	for (uint32_t w = 0; w < PKT_PORT_WORDS; w++) {
		uint64_t bits = o->ports->bits[w];

		if (!bits)
			continue;
		rc = bpf_map_update_elem(ports_fd, &w, &bits, BPF_ANY);
		if (rc)
			return rc;
	}
	if (o->guest_mac_set) {
		struct pkt_mac_key k = { 0 };

		memcpy(k.mac, o->guest_mac, 6);
		rc = bpf_map_update_elem(bpf_map__fd(c->skel->maps.guest_macs), &k, &one, BPF_ANY);
		if (rc)
			return rc;
	}
	if (o->guest_ip.family) {
		struct pkt_ip_key k = { 0 };

		memcpy(k.addr, o->guest_ip.bytes, o->guest_ip.family == 4 ? 4 : 16);
		rc = bpf_map_update_elem(bpf_map__fd(c->skel->maps.guest_ips), &k, &one, BPF_ANY);
		if (rc)
			return rc;
	}
	return 0;
}

static int load(struct pkt_capture *c, const struct pkt_capture_opts *o, bool tcx)
{
	int rc;

	c->skel = pkt_bpf__open();
	if (!c->skel)
		return -errno;
	if (o->ring_bytes && (rc = bpf_map__set_max_entries(c->skel->maps.events, o->ring_bytes)))
		return rc;
	if (o->sample_shift)
		c->skel->rodata->sample_shift = o->sample_shift;
	c->skel->rodata->guest_filter = o->guest_mac_set || o->guest_ip.family;
	for (int i = 0; i < c->nifaces; i++) /* interface slot i + 1 */
		c->skel->rodata->if_index[i + 1] = c->ifaces[i].ifindex;
	if (tcx) {
		bpf_program__set_expected_attach_type(c->skel->progs.msc_ingress,
						      (enum bpf_attach_type)ATTACH_TCX_INGRESS);
		bpf_program__set_expected_attach_type(c->skel->progs.msc_egress,
						      (enum bpf_attach_type)ATTACH_TCX_EGRESS);
	}
	return pkt_bpf__load(c->skel);
}

static int attach_tcx(struct pkt_capture *c)
{
	int progs[2] = { bpf_program__fd(c->skel->progs.msc_ingress),
			 bpf_program__fd(c->skel->progs.msc_egress) };
	int types[2] = { ATTACH_TCX_INGRESS, ATTACH_TCX_EGRESS };

	for (int i = 0; i < c->nifaces; i++) {
		for (int d = 0; d < 2; d++) {
			int fd = bpf_link_create(progs[d], (int)c->ifaces[i].ifindex,
						 (enum bpf_attach_type)types[d], NULL);

			if (fd < 0)
				return fd;
			c->ifaces[i].link_fd[d] = fd;
		}
	}
	return 0;
}

static void tc_place(const struct pkt_iface *f, int d, struct bpf_tc_hook *hook,
		     struct bpf_tc_opts *opts)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = (int)f->ifindex;
	hook->attach_point = d ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->handle = TC_HANDLE;
	opts->priority = TC_PRIORITY;
}

static int attach_tc(struct pkt_capture *c)
{
	int progs[2] = { bpf_program__fd(c->skel->progs.msc_ingress),
			 bpf_program__fd(c->skel->progs.msc_egress) };
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	int rc;

	for (int i = 0; i < c->nifaces; i++) {
		for (int d = 0; d < 2; d++) {
			tc_place(&c->ifaces[i], d, &hook, &opts);
			rc = bpf_tc_hook_create(&hook);
			if (rc && rc != -EEXIST)
				return rc;
			/* we hold the NIC's lock: a filter at our place is a
			 * crashed agent's */
			if (!bpf_tc_query(&hook, &opts)) {
				tc_place(&c->ifaces[i], d, &hook, &opts);
				bpf_tc_detach(&hook, &opts);
			}
			tc_place(&c->ifaces[i], d, &hook, &opts);
			opts.prog_fd = progs[d];
			rc = bpf_tc_attach(&hook, &opts);
			if (rc)
				return rc;
			c->ifaces[i].tc_attached[d] = true;
		}
	}
	return 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct pkt_capture *c = ctx;

	/* the ABI's size, checked on every sample */
	if (size < sizeof(struct pkt_event))
		return 0;
	if (((const struct pkt_event *)data)->cap_len > PKT_HEAD_MAX)
		return 0;
	return c->fn(c->ctx, data);
}

static const char *attach_error(int rc)
{
	if (rc == -EPERM || rc == -EACCES)
		return "permission denied: needs root (CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)";
	return strerror(-rc);
}

/* The loaded programs' maps filled from the options, and the ring buffer's
 * reader; 0 or -errno with a line in err. */
static int configure(struct pkt_capture *c, const struct pkt_capture_opts *o, char *err,
		     size_t errlen)
{
	int rc = fill_maps(c, o);

	if (rc) {
		snprintf(err, errlen, "configuring the eBPF maps failed: %s", strerror(-rc));
		return rc;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_sample, c, NULL);
	if (!c->rb) {
		rc = -errno;
		snprintf(err, errlen, "ring buffer: %s", strerror(errno));
		return rc;
	}
	return 0;
}

/* Replay: load and configure, attach nothing, no tracer (it would count the
 * live machine's retransmits), no lock (no NIC is watched). */
static struct pkt_capture *open_unattached(struct pkt_capture *c,
					   const struct pkt_capture_opts *o, char *err,
					   size_t errlen)
{
	struct pkt_iface *f = &c->ifaces[0];
	int rc;

	f->lock_fd = f->link_fd[0] = f->link_fd[1] = -1;
	snprintf(f->name, sizeof(f->name), "test-run");
	f->ifindex = PKT_TEST_RUN_IFINDEX;
	c->nifaces = 1;
	c->test_run = true;
	rc = load(c, o, false);
	if (rc) {
		snprintf(err, errlen, "loading the eBPF programs failed: %s", attach_error(rc));
		goto cleanup;
	}
	rc = configure(c, o, err, errlen);
	if (rc)
		goto cleanup;
	return c;
cleanup:
	pkt_capture__close(c);
	errno = -rc;
	return NULL;
}

struct pkt_capture *pkt_capture__open(const struct pkt_capture_opts *o, pkt_event_fn fn,
				      void *ctx, char *err, size_t errlen)
{
	struct pkt_capture *c = calloc(1, sizeof(*c));
	int rc = -ENOMEM;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	c->fn = fn;
	c->ctx = ctx;
	libbpf_set_print(quiet_libbpf);
	if (o->attach == PKT_ATTACH_NONE)
		return open_unattached(c, o, err, errlen);
	for (int i = 0; i < o->nifaces; i++) {
		struct pkt_iface *f = &c->ifaces[i];

		f->lock_fd = f->link_fd[0] = f->link_fd[1] = -1;
		snprintf(f->name, sizeof(f->name), "%s", o->ifaces[i]);
		f->ifindex = if_nametoindex(o->ifaces[i]);
		if (!f->ifindex || strlen(o->ifaces[i]) >= IF_NAMESIZE) {
			snprintf(err, errlen, "no such interface: %s", o->ifaces[i]);
			rc = -ENODEV;
			goto cleanup;
		}
		for (int j = 0; j < i; j++) {
			if (c->ifaces[j].ifindex == f->ifindex) {
				snprintf(err, errlen, "interface %s given twice", f->name);
				rc = -EINVAL;
				goto cleanup;
			}
		}
		c->nifaces = i + 1;
		rc = lock_iface(f, err, errlen);
		if (rc == -EACCES || rc == -EPERM) {
			snprintf(err, errlen, "%s", attach_error(rc));
			goto cleanup;
		}
		if (rc)
			goto cleanup;
	}

	c->tcx = o->attach != PKT_ATTACH_TC;
	rc = load(c, o, c->tcx);
	if (rc && o->attach == PKT_ATTACH_AUTO) {
		/* a kernel without tcx may refuse the attach type at load */
		pkt_bpf__destroy(c->skel);
		c->skel = NULL;
		c->tcx = false;
		rc = load(c, o, false);
	}
	if (rc) {
		snprintf(err, errlen, "loading the eBPF programs failed: %s", attach_error(rc));
		goto cleanup;
	}
	c->rt = retrans_tracer__open(o->ports);
	rc = configure(c, o, err, errlen);
	if (rc)
		goto cleanup;
	if (c->tcx) {
		rc = attach_tcx(c);
		if (rc && o->attach == PKT_ATTACH_AUTO && (rc == -EINVAL || rc == -EOPNOTSUPP)) {
			pkt_capture__detach(c);
			c->tcx = false;
			rc = attach_tc(c);
		}
	} else {
		rc = attach_tc(c);
	}
	if (rc) {
		snprintf(err, errlen, "attaching to the interfaces failed (%s): %s",
			 c->tcx ? "tcx" : "tc clsact", attach_error(rc));
		goto cleanup;
	}
	return c;
cleanup:
	pkt_capture__close(c);
	errno = -rc;
	return NULL;
}

int pkt_capture_opts__set_guest(struct pkt_capture_opts *o, const char *spec)
{
	if (guest_spec_parse(spec, o->guest_mac, &o->guest_ip))
		return -EINVAL;
	o->guest_mac_set = true;
	return 0;
}

int pkt_capture_opts__set_filters(struct pkt_capture_opts *o, struct portset *ports,
				  const char *guest, const char *port_spec, const char *cmd)
{
	if (guest && pkt_capture_opts__set_guest(o, guest)) {
		fprintf(stderr, "%s: --guest wants MAC[,IP], got '%s'\n", cmd, guest);
		return -EINVAL;
	}
	if (portset_parse(ports, port_spec)) {
		fprintf(stderr, "%s: --ports wants ports and ranges like 49152-49215\n", cmd);
		return -EINVAL;
	}
	o->ports = ports;
	return 0;
}

const char *pkt_capture__attach_mode(const struct pkt_capture *c)
{
	return c->tcx ? "tcx" : "tc";
}

bool pkt_capture__has_retrans(const struct pkt_capture *c)
{
	return c->rt != NULL;
}

uint32_t pkt_capture__ifindex(const struct pkt_capture *c, int i)
{
	return c->ifaces[i].ifindex;
}

int pkt_capture__poll(struct pkt_capture *c, int timeout_ms)
{
	int rc = ring_buffer__poll(c->rb, timeout_ms), more;

	if (rc < 0 && rc != -EINTR)
		return rc;
	/* the programs wake us only when the ring fills up (pkt.bpf.c): what
	 * came since, without a wakeup, is read here */
	more = ring_buffer__consume(c->rb);
	if (more < 0)
		return more;
	return (rc > 0 ? rc : 0) + more;
}

int pkt_capture__consume(struct pkt_capture *c)
{
	int rc = ring_buffer__consume(c->rb);

	return rc < 0 ? rc : 0;
}

int pkt_capture__test_run(struct pkt_capture *c, const uint8_t *frame, uint32_t len,
			  uint32_t wire_len, int dir)
{
	struct bpf_program *prog = dir == PKT_DIR_EGRESS ? c->skel->progs.msc_egress
							 : c->skel->progs.msc_ingress;
	/* wire_len is the one field of the context the program is given:
	 * the kernel keeps it as the frame's length on the wire */
	struct __sk_buff ctx = { .wire_len = wire_len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (!c->test_run)
		return -EPERM; /* a live capture's programs see only the NIC's frames */
	if (len < 14 || wire_len < len)
		return -EINVAL;
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -errno;
	return (int32_t)opts.retval == TC_ACT_UNSPEC ? 0 : -EPROTO;
}

int pkt_capture__detach(struct pkt_capture *c)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	int rc = 0;

	for (int i = 0; i < c->nifaces; i++) {
		struct pkt_iface *f = &c->ifaces[i];

		for (int d = 0; d < 2; d++) {
			if (f->link_fd[d] >= 0) {
				close(f->link_fd[d]); /* closing the link detaches it */
				f->link_fd[d] = -1;
			}
			if (f->tc_attached[d]) {
				tc_place(f, d, &hook, &opts);
				if (bpf_tc_detach(&hook, &opts) && !rc)
					rc = -errno;
				f->tc_attached[d] = false;
			}
		}
	}
	retrans_tracer__detach(c->rt);
	if (c->rb && ring_buffer__consume(c->rb) < 0 && !rc)
		rc = -EIO;
	return rc;
}

int pkt_capture__if_stats(const struct pkt_capture *c, int i, struct pkt_if_stats *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct pkt_if_stats *per;
	uint32_t slot = (uint32_t)i + 1;
	int rc;

	memset(out, 0, sizeof(*out));
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	per = calloc((size_t)ncpus, sizeof(*per));
	if (!per)
		return -ENOMEM;
	rc = bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.if_stats), &slot, per);
	for (int cpu = 0; !rc && cpu < ncpus; cpu++) {
		for (int d = 0; d < 2; d++) {
			out->frames[d] += per[cpu].frames[d];
			out->bytes[d] += per[cpu].bytes[d];
		}
		out->events += per[cpu].events;
		out->ring_drops += per[cpu].ring_drops;
		out->flows_full += per[cpu].flows_full;
		out->heads_pulled += per[cpu].heads_pulled;
	}
	free(per);
	return rc;
}

static int slot_order(const void *a, const void *b)
{
	return memcmp(&((const struct pkt_flow_slot *)a)->key,
		      &((const struct pkt_flow_slot *)b)->key, sizeof(struct pkt_flow_key));
}

/* Two slots of one flow (claimed by two CPUs at once): every packet was
 * counted in exactly one of them, so the counters add up. */
static void stats_merge(struct pkt_flow_stats *d, const struct pkt_flow_stats *s)
{
	d->packets += s->packets;
	d->payload_bytes += s->payload_bytes;
	d->wire_bytes += s->wire_bytes;
	d->ooo_segments += s->ooo_segments;
	d->ooo_bytes += s->ooo_bytes;
	if (s->first_tai_ns && (!d->first_tai_ns || s->first_tai_ns < d->first_tai_ns))
		d->first_tai_ns = s->first_tai_ns;
	if (s->last_tai_ns > d->last_tai_ns)
		d->last_tai_ns = s->last_tai_ns;
	if (s->last_data_tai_ns > d->last_data_tai_ns) {
		d->last_data_tai_ns = s->last_data_tai_ns;
		d->max_end_seq = s->max_end_seq;
	}
	d->seq_valid |= s->seq_valid;
	d->tcp_flags_seen |= s->tcp_flags_seen;
	d->dir_seen |= s->dir_seen;
	if (s->held_len && s->held_tai_ns > d->held_tai_ns) {
		d->held_len = s->held_len;
		d->held_dir = s->held_dir;
		d->held_tai_ns = s->held_tai_ns;
		d->held_wire_len = s->held_wire_len;
		memcpy(d->held, s->held, sizeof(d->held));
	}
}

/*
 * The whole flow table into slots[PKT_MAX_FLOWS]: one BPF_MAP_LOOKUP_BATCH
 * (5.6+) where the kernel has it, else slot by slot. An agent that runs for
 * days reads it at every new file and every metrics write: 4096 system calls
 * each time were most of an idle node's CPU.
 */
static int read_slots(int fd, struct pkt_flow_slot *slots)
{
	__u32 keys[64], out_batch = 0, count;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t got = 0;
	bool first = true;
	int rc;

	while (got < PKT_MAX_FLOWS) {
		count = PKT_MAX_FLOWS - got < 64 ? (__u32)(PKT_MAX_FLOWS - got) : 64;
		rc = bpf_map_lookup_batch(fd, first ? NULL : &out_batch, &out_batch, keys,
					  slots + got, &count, &opts);
		first = false;
		if (rc && errno != ENOENT)
			goto one_by_one;
		for (__u32 k = 0; k < count; k++)
			if (keys[k] != got + k)
				goto one_by_one; /* an array's keys come in order */
		got += count;
		if (rc) /* ENOENT: the end */
			break;
	}
	if (got == PKT_MAX_FLOWS)
		return 0;
one_by_one:
	for (__u32 i = 0; i < PKT_MAX_FLOWS; i++)
		if (bpf_map_lookup_elem(fd, &i, &slots[i]))
			return -errno;
	return 0;
}

int pkt_flows__read(int fd, pkt_flow_fn fn, void *ctx)
{
	struct pkt_flow_slot *slots = calloc(PKT_MAX_FLOWS, sizeof(*slots));
	int n = 0, rc;

	if (!slots)
		return -ENOMEM;
	rc = read_slots(fd, slots);
	if (rc)
		goto cleanup;
	for (int i = 0; i < PKT_MAX_FLOWS; i++)
		if (slots[i].state == PKT_SLOT_READY)
			slots[n++] = slots[i];
	qsort(slots, (size_t)n, sizeof(*slots), slot_order);
	for (int i = 0; i < n && !rc; i++) {
		struct pkt_flow_stats st = slots[i].stats;

		while (i + 1 < n && !slot_order(&slots[i], &slots[i + 1]))
			stats_merge(&st, &slots[++i].stats);
		rc = fn(ctx, &slots[i].key, &st);
	}
cleanup:
	free(slots);
	return rc;
}

int pkt_capture__evict(struct pkt_capture *c, uint64_t closed_before_tai_ns,
		       uint64_t idle_before_tai_ns, int *evicted)
{
	return pkt_flows__evict(bpf_map__fd(c->skel->maps.flows), closed_before_tai_ns,
				idle_before_tai_ns, evicted);
}

int pkt_flows__evict(int fd, uint64_t closed_before_tai_ns, uint64_t idle_before_tai_ns,
		     int *evicted)
{
	struct pkt_flow_slot *slots = calloc(PKT_MAX_FLOWS, sizeof(*slots)), empty = { 0 };
	int rc;

	*evicted = 0;
	if (!slots)
		return -ENOMEM;
	rc = read_slots(fd, slots);
	for (__u32 i = 0; !rc && i < PKT_MAX_FLOWS; i++) {
		const struct pkt_flow_slot *s = &slots[i];

		if (s->state != PKT_SLOT_READY)
			continue;
		if (!(s->stats.last_tai_ns < idle_before_tai_ns ||
		      (s->stats.last_tai_ns < closed_before_tai_ns &&
		       (s->stats.tcp_flags_seen & (PKT_TCP_FIN | PKT_TCP_RST)))))
			continue;
		if (bpf_map_update_elem(fd, &i, &empty, BPF_ANY)) {
			rc = -errno;
			break;
		}
		(*evicted)++;
	}
	free(slots);
	return rc;
}

int pkt_capture__flows(const struct pkt_capture *c, pkt_flow_fn fn, void *ctx)
{
	return pkt_flows__read(bpf_map__fd(c->skel->maps.flows), fn, ctx);
}

int pkt_capture__retrans(const struct pkt_capture *c, retrans_fn fn, void *ctx)
{
	return c->rt ? retrans_tracer__each(c->rt, fn, ctx) : 0;
}

void pkt_capture__close(struct pkt_capture *c)
{
	if (!c)
		return;
	pkt_capture__detach(c);
	ring_buffer__free(c->rb);
	retrans_tracer__close(c->rt);
	pkt_bpf__destroy(c->skel);
	for (int i = 0; i < c->nifaces; i++)
		if (c->ifaces[i].lock_fd >= 0)
			close(c->ifaces[i].lock_fd);
	free(c);
}
