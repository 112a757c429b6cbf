/*
 * replay_render - `migscope replay` output: text for people, JSON
 * (migscope.replay.v1) for tests and scripts. Both show the same figures.
 */
#include "capture/replay.h"

#include <arpa/inet.h>

#include "analysis/linklayer.h"
#include "reports/json_writer.h"

#define REPLAY_SCHEMA "migscope.replay.v1"

/* __u64 and uint64_t differ in type on 64-bit Linux: print both as this */
#define U(x) ((unsigned long long)(x))

static void addr_text(const struct pkt_flow_key *k, const uint8_t *a, char *out, size_t len)
{
	if (!inet_ntop(k->family == 6 ? AF_INET6 : AF_INET, a, out, (socklen_t)len))
		snprintf(out, len, "?");
}

static const char *dirs_text(uint8_t dir_seen)
{
	static const char *const names[] = { "", "in", "out", "in,out" };

	return names[dir_seen & 3];
}

int replay_render_text(const struct replay_result *r, FILE *out)
{
	const struct pkt_if_stats *s = &r->iface;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	fprintf(out, "migscope replay: %s (%s), %llu frames through the capture agent's programs"
		" (BPF_PROG_TEST_RUN)\n", r->path, linklayer_name(r->linktype), U(r->frames_run));
	if (r->frames_short || r->frames_cut || r->frames_clamped)
		fprintf(out, "  not as captured  %llu too short to run, %llu cut to %u bytes, %llu"
			" with wire lengths over 64 KiB\n", U(r->frames_short), U(r->frames_cut),
			r->cut_to, U(r->frames_clamped));
	fprintf(out, "  interface   %llu frames in, %llu out, %llu B; %llu events, %llu lost"
		" (ring buffer full); %llu segments not counted (flow table full)\n",
		U(s->frames[PKT_DIR_INGRESS]), U(s->frames[PKT_DIR_EGRESS]),
		U(s->bytes[PKT_DIR_INGRESS] + s->bytes[PKT_DIR_EGRESS]), U(s->events),
		U(s->ring_drops), U(s->flows_full));
	for (int i = 0; i < r->nflows; i++) {
		const struct pkt_flow_key *k = &r->flows[i].key;
		const struct pkt_flow_stats *f = &r->flows[i].stats;

		addr_text(k, k->saddr, src, sizeof(src));
		addr_text(k, k->daddr, dst, sizeof(dst));
		fprintf(out, "  flow        %s:%u > %s:%u (%s): %llu packets, payload %llu B, wire"
			" %llu B, out-of-order %llu segments %llu B\n", src, k->sport, dst, k->dport,
			dirs_text(f->dir_seen), U(f->packets), U(f->payload_bytes), U(f->wire_bytes),
			U(f->ooo_segments), U(f->ooo_bytes));
	}
	if (!r->nflows)
		fprintf(out, "  flow        none on the migration ports\n");
	fprintf(out, "  events      %llu guest, %llu flow open, %llu flow close, %llu samples,"
		" %llu at a pause's edge, %llu held back to the end\n", U(r->ev_guest),
		U(r->ev_flow_open), U(r->ev_flow_close), U(r->ev_samples), U(r->ev_gap_edge),
		U(r->held_at_end));
	fprintf(out, "  guest       %llu echo requests, %llu echo replies, %llu RARP, %llu ARP"
		" (%llu gratuitous), %llu NA (%llu unsolicited)\n", U(r->echo_request),
		U(r->echo_reply), U(r->rarp), U(r->arp), U(r->garp), U(r->na), U(r->unsolicited_na));
	return ferror(out) ? -1 : 0;
}

static void json_u64(struct json_writer *w, const char *key, uint64_t v)
{
	json_int(w, key, (int64_t)v);
}

int replay_render_json(const struct replay_result *r, FILE *out)
{
	struct json_writer w = { .out = out };
	const struct pkt_if_stats *s = &r->iface;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	json_begin(&w, NULL, '{');
	json_str(&w, "schema", REPLAY_SCHEMA);
	json_str(&w, "file", r->path);
	json_str(&w, "link", linklayer_name(r->linktype));
	json_begin(&w, "frames", '{');
	json_u64(&w, "read", r->frames_read);
	json_u64(&w, "run", r->frames_run);
	json_u64(&w, "too_short", r->frames_short);
	json_u64(&w, "cut", r->frames_cut);
	json_u64(&w, "cut_to", r->cut_to);
	json_u64(&w, "wire_clamped", r->frames_clamped);
	json_end(&w, '}');
	json_begin(&w, "interface", '{');
	json_u64(&w, "frames_in", s->frames[PKT_DIR_INGRESS]);
	json_u64(&w, "frames_out", s->frames[PKT_DIR_EGRESS]);
	json_u64(&w, "bytes_in", s->bytes[PKT_DIR_INGRESS]);
	json_u64(&w, "bytes_out", s->bytes[PKT_DIR_EGRESS]);
	json_u64(&w, "events", s->events);
	json_u64(&w, "ring_drops", s->ring_drops);
	json_u64(&w, "flows_full", s->flows_full);
	json_end(&w, '}');
	json_begin(&w, "flows", '[');
	for (int i = 0; i < r->nflows; i++) {
		const struct pkt_flow_key *k = &r->flows[i].key;
		const struct pkt_flow_stats *f = &r->flows[i].stats;

		addr_text(k, k->saddr, src, sizeof(src));
		addr_text(k, k->daddr, dst, sizeof(dst));
		json_begin(&w, NULL, '{');
		json_str(&w, "src", src);
		json_int(&w, "sport", k->sport);
		json_str(&w, "dst", dst);
		json_int(&w, "dport", k->dport);
		json_u64(&w, "packets", f->packets);
		json_u64(&w, "payload_bytes", f->payload_bytes);
		json_u64(&w, "wire_bytes", f->wire_bytes);
		json_u64(&w, "ooo_segments", f->ooo_segments);
		json_u64(&w, "ooo_bytes", f->ooo_bytes);
		json_int(&w, "tcp_flags", f->tcp_flags_seen);
		json_str(&w, "directions", dirs_text(f->dir_seen));
		json_end(&w, '}');
	}
	json_end(&w, ']');
	json_begin(&w, "events", '{');
	json_u64(&w, "guest", r->ev_guest);
	json_u64(&w, "flow_open", r->ev_flow_open);
	json_u64(&w, "flow_close", r->ev_flow_close);
	json_u64(&w, "samples", r->ev_samples);
	json_u64(&w, "gap_edge", r->ev_gap_edge);
	json_u64(&w, "held_at_end", r->held_at_end);
	json_end(&w, '}');
	json_begin(&w, "guest_frames", '{');
	json_u64(&w, "echo_request", r->echo_request);
	json_u64(&w, "echo_reply", r->echo_reply);
	json_u64(&w, "rarp", r->rarp);
	json_u64(&w, "arp", r->arp);
	json_u64(&w, "garp", r->garp);
	json_u64(&w, "na", r->na);
	json_u64(&w, "unsolicited_na", r->unsolicited_na);
	json_end(&w, '}');
	json_end(&w, '}');
	fputc('\n', out);
	return ferror(out) ? -1 : 0;
}
