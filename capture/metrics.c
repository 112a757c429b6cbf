#include "capture/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/addr.h"

#define U(x) ((unsigned long long)(x))

/* A label value: backslash, quote and newline escaped (text format 0.0.4). */
static void put_label(FILE *f, const char *name, const char *v)
{
	fprintf(f, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const struct agent_state *s, const char *name, int iface,
		   const char *extra_name, const char *extra, unsigned long long v)
{
	bool first = true;

	fprintf(f, "%s{", name);
	if (s->node) {
		put_label(f, "node", s->node);
		first = false;
	}
	if (iface >= 0) {
		fputs(first ? "" : ",", f);
		put_label(f, "interface", s->opts->ifaces[iface]);
		first = false;
	}
	if (extra_name) {
		fputs(first ? "" : ",", f);
		put_label(f, extra_name, extra);
	}
	fprintf(f, "} %llu\n", v);
}

static void interfaces(FILE *f, const struct agent_state *s)
{
	static const struct {
		const char *name, *help;
	} fams[] = {
		{ "migscope_capture_frames_total", "Frames the agent's programs saw." },
		{ "migscope_capture_bytes_total", "Bytes of the frames the agent's programs saw." },
		{ "migscope_capture_events_total", "Frame heads written to the capture files." },
		{ "migscope_capture_lost_events_total",
		  "Frame heads lost because the ring buffer was full (exact counters unaffected)." },
		{ "migscope_capture_uncounted_segments_total",
		  "Migration stream segments not counted because the flow table was full." },
	};

	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		family(f, fams[k].name, "counter", fams[k].help);
		for (int i = 0; i < s->opts->nifaces; i++) {
			struct pkt_if_stats st;

			if (pkt_capture__if_stats(s->cap, i, &st))
				continue;
			switch (k) {
			case 0:
			case 1: {
				const __u64 *v = k == 0 ? st.frames : st.bytes;

				sample(f, s, fams[k].name, i, "direction", "in", U(v[PKT_DIR_INGRESS]));
				sample(f, s, fams[k].name, i, "direction", "out", U(v[PKT_DIR_EGRESS]));
				break;
			}
			case 2:
				sample(f, s, fams[k].name, i, NULL, NULL, U(s->written[i]));
				break;
			case 3:
				sample(f, s, fams[k].name, i, NULL, NULL, U(st.ring_drops));
				break;
			default:
				sample(f, s, fams[k].name, i, NULL, NULL, U(st.flows_full));
			}
		}
	}
}

static void ring_metrics(FILE *f, const struct agent_state *s)
{
	struct ring_stats rs;

	if (!s->ring)
		return;
	ring__stats(s->ring, &rs);
	family(f, "migscope_capture_ring_files", "gauge", "Capture files in the ring.");
	sample(f, s, "migscope_capture_ring_files", -1, NULL, NULL, U(rs.ring_files));
	family(f, "migscope_capture_ring_bytes", "gauge", "Bytes of the ring's closed files.");
	sample(f, s, "migscope_capture_ring_bytes", -1, NULL, NULL, U(rs.ring_bytes));
	family(f, "migscope_capture_rotated_files_total", "counter",
	       "Ring files deleted to keep the ring within -W.");
	sample(f, s, "migscope_capture_rotated_files_total", -1, NULL, NULL, U(rs.deleted_files));
	family(f, "migscope_capture_kept_migrations", "gauge",
	       "Directories of files kept around migrations.");
	sample(f, s, "migscope_capture_kept_migrations", -1, NULL, NULL, U(rs.kept_dirs));
	family(f, "migscope_capture_kept_bytes", "gauge", "Bytes in the kept directories.");
	sample(f, s, "migscope_capture_kept_bytes", -1, NULL, NULL, U(rs.kept_bytes));
	family(f, "migscope_capture_dropped_migrations_total", "counter",
	       "Kept directories removed to stay within --keep-max.");
	sample(f, s, "migscope_capture_dropped_migrations_total", -1, NULL, NULL,
	       U(rs.deleted_kept_dirs));
	family(f, "migscope_capture_keeping", "gauge", "1 while a migration's files are being kept.");
	sample(f, s, "migscope_capture_keeping", -1, NULL, NULL, ring__keeping(s->ring, s->now_ns));
}

struct flow_ctx {
	FILE *f;
	const struct agent_state *s;
};

static int flow_sample(void *arg, const struct pkt_flow_key *k, const struct pkt_flow_stats *st)
{
	struct flow_ctx *c = arg;
	struct ip_addr src = { .family = k->family == 6 ? 6 : 4 }, dst = src;
	char a[ADDR_STR_LEN], b[ADDR_STR_LEN];
	int iface = -1;

	for (int i = 0; i < c->s->opts->nifaces; i++)
		if (pkt_capture__ifindex(c->s->cap, i) == k->ifindex)
			iface = i;
	if (iface < 0)
		return 0;
	memcpy(src.bytes, k->saddr, src.family == 6 ? 16 : 4);
	memcpy(dst.bytes, k->daddr, dst.family == 6 ? 16 : 4);
	ip_format(&src, a, sizeof(a));
	ip_format(&dst, b, sizeof(b));
	fprintf(c->f, "migscope_capture_stream_bytes_total{");
	if (c->s->node) {
		put_label(c->f, "node", c->s->node);
		fputc(',', c->f);
	}
	put_label(c->f, "interface", c->s->opts->ifaces[iface]);
	fprintf(c->f, ",src=\"%s\",sport=\"%u\",dst=\"%s\",dport=\"%u\"} %llu\n", a, k->sport, b,
		k->dport, U(st->payload_bytes));
	return 0;
}

int metrics_write(const char *path, const struct agent_state *s)
{
	struct flow_ctx c;
	char *tmp = NULL;
	FILE *f;
	int rc = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	f = fopen(tmp, "w");
	if (!f) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	fchmod(fileno(f), 0644);
	family(f, "migscope_capture_start_time_seconds", "gauge", "When the agent started.");
	fprintf(f, "migscope_capture_start_time_seconds %lld.%09lld\n",
		(long long)(s->start_ns / 1000000000), (long long)(s->start_ns % 1000000000));
	interfaces(f, s);
	ring_metrics(f, s);
	family(f, "migscope_capture_evicted_flows_total", "counter",
	       "Flow-table slots freed after their flows ended.");
	sample(f, s, "migscope_capture_evicted_flows_total", -1, NULL, NULL, U(s->evicted));
	family(f, "migscope_capture_stream_bytes_total", "counter",
	       "Exact TCP payload bytes of each migration flow direction in the flow table.");
	c = (struct flow_ctx){ .f = f, .s = s };
	rc = pkt_capture__flows(s->cap, flow_sample, &c);
	if (ferror(f) && !rc)
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
