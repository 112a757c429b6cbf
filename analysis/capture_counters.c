/*
 * pcapng (draft-ietf-opsawg-pcapng) walked block by block:
 *   block:  type(4) total_len(4) body total_len(4)
 *   SHB:    byte-order magic 0x1A2B3C4D, version(4), section length(8), options
 *   ISB(5): if_id(4) ts(8) options; option: code(2) len(2) value, padded to 4
 * Only the SHB's shb_userappl (4) and the ISBs' opt_comment (1) are read.
 */
#include "analysis/capture_counters.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum {
	BT_SHB = 0x0A0D0D0A,
	BT_ISB = 5,
	MAX_BLOCK = 16 << 20,   /* an ISB with 1024 flows is ~250 KB */
	OPT_COMMENT = 1,
	SHB_USERAPPL = 4,
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Calls fn for each option of an options area. */
static void walk_options(const uint8_t *p, size_t len, void (*fn)(void *, uint16_t, const uint8_t *,
								   size_t), void *arg)
{
	size_t off = 0;

	while (off + 4 <= len) {
		uint16_t code = le16(p + off), olen = le16(p + off + 2);

		if (code == 0 || off + 4 + olen > len)
			return;
		fn(arg, code, p + off + 4, olen);
		off += 4 + (((size_t)olen + 3) & ~(size_t)3);
	}
}

static void find_userappl(void *arg, uint16_t code, const uint8_t *v, size_t len)
{
	bool *ours = arg;

	if (code == SHB_USERAPPL && len == strlen(COUNTERS_USERAPPL) &&
	    !memcmp(v, COUNTERS_USERAPPL, len))
		*ours = true;
}

struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void gather_comment(void *arg, uint16_t code, const uint8_t *v, size_t len)
{
	struct text *t = arg;
	char *nb;

	if (code != OPT_COMMENT || t->oom)
		return;
	if (t->len + len + 1 > t->cap) {
		nb = realloc(t->buf, t->len + len + 1);
		if (!nb) {
			t->oom = true;
			return;
		}
		t->buf = nb;
		t->cap = t->len + len + 1;
	}
	memcpy(t->buf + t->len, v, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

/* The value of " key=" in a line, copied into out; false when absent. */
static bool field(const char *line, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key), n;
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			p += klen + 1;
			n = strcspn(p, " \n");
			if (n >= outlen)
				return false;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p += klen;
	}
	return false;
}

static bool field_u64(const char *line, const char *key, uint64_t *v)
{
	char buf[32], *end;

	if (!field(line, key, buf, sizeof(buf)))
		return false;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return !errno && !*end && buf[0] != '-';
}

/* A line's src=IP sport=N dst=IP dport=N, which flow and retransmit lines share. */
static bool parse_ends(const char *line, struct ip_addr *src, uint16_t *sport, struct ip_addr *dst,
		       uint16_t *dport)
{
	char s[64], d[64];
	uint64_t sp, dp;

	if (!field(line, "src", s, sizeof(s)) || !field(line, "dst", d, sizeof(d)) ||
	    ip_parse(s, src) || ip_parse(d, dst) || !field_u64(line, "sport", &sp) ||
	    !field_u64(line, "dport", &dp) || sp > 65535 || dp > 65535)
		return false;
	*sport = (uint16_t)sp;
	*dport = (uint16_t)dp;
	return true;
}

static bool parse_flow(const char *line, struct counter_flow *f)
{
	memset(f, 0, sizeof(*f));
	if (!parse_ends(line, &f->src, &f->sport, &f->dst, &f->dport) ||
	    !field_u64(line, "packets", &f->packets) ||
	    !field_u64(line, "payload_bytes", &f->payload_bytes) ||
	    !field_u64(line, "wire_bytes", &f->wire_bytes) ||
	    !field_u64(line, "ooo_segments", &f->ooo_segments) ||
	    !field_u64(line, "ooo_bytes", &f->ooo_bytes))
		return false;
	/* optional: times stay 0 when absent or unreadable */
	if (!field_u64(line, "first_ns", &f->first_ns) || f->first_ns > INT64_MAX)
		f->first_ns = 0;
	if (!field_u64(line, "last_ns", &f->last_ns) || f->last_ns > INT64_MAX)
		f->last_ns = 0;
	if (!field_u64(line, "last_data_ns", &f->last_data_ns) || f->last_data_ns > INT64_MAX)
		f->last_data_ns = 0;
	return true;
}

static bool parse_retrans(const char *line, struct counter_retrans *r)
{
	memset(r, 0, sizeof(*r));
	return parse_ends(line, &r->src, &r->sport, &r->dst, &r->dport) &&
	       field_u64(line, "segments", &r->segments) && field_u64(line, "bytes", &r->bytes);
}

static void parse_counters(char *text, struct capture_counters *out)
{
	char *line, *save = NULL, yes[8];
	uint64_t v;

	if (strncmp(text, COUNTERS_MAGIC "\n", strlen(COUNTERS_MAGIC) + 1))
		return;
	out->present = true;
	out->nifaces++;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "iface ", 6)) {
			if (field_u64(line, "ring_drops", &v))
				out->ring_drops += v;
			if (field_u64(line, "flows_full", &v))
				out->flows_full += v;
			if (field_u64(line, "events", &v))
				out->events += v;
			if (field(line, "retrans_tracer", yes, sizeof(yes)) && !strcmp(yes, "yes"))
				out->retrans_tracer = true;
		} else if (!strncmp(line, "flow ", 5)) {
			if (out->nflows == COUNTERS_MAX_FLOWS) {
				out->flows_truncated = true;
				continue;
			}
			if (parse_flow(line, &out->flows[out->nflows]))
				out->nflows++;
		} else if (!strncmp(line, "retransmits ", 12)) {
			if (out->nretrans == COUNTERS_MAX_RETRANS)
				out->retrans_truncated = true;
			else if (parse_retrans(line, &out->retrans[out->nretrans]))
				out->nretrans++;
		}
	}
}

int capture_counters__read(const char *path, struct capture_counters *out, char *err,
			   size_t errlen)
{
	struct text comment = { 0 };
	uint8_t hdr[8], *body = NULL;
	uint32_t type, len;
	gzFile gz;
	int rc = 0, n;

	memset(out, 0, sizeof(*out));
	gz = gzopen(path, "rb"); /* reads plain files transparently */
	if (!gz)
		return 0; /* the capture reader names the problem with the file */
	for (bool first = true;; first = false) {
		n = gzread(gz, hdr, sizeof(hdr));
		if (n != (int)sizeof(hdr))
			break; /* the end, or a file cut mid-block: what was read stands */
		type = le32(hdr);
		len = le32(hdr + 4);
		if (first && type != BT_SHB)
			break; /* pcap, not pcapng */
		if (len < 12 || len % 4 || len > MAX_BLOCK)
			break;
		if (type != BT_SHB && type != BT_ISB) {
			if (gzseek(gz, (z_off_t)(len - 8), SEEK_CUR) < 0)
				break;
			continue;
		}
		free(body);
		body = malloc(len - 8);
		if (!body) {
			rc = -ENOMEM;
			snprintf(err, errlen, "%s: out of memory", path);
			break;
		}
		if (gzread(gz, body, len - 8) != (int)(len - 8))
			break;
		if (type == BT_SHB) {
			/* our own files are little-endian: another byte order is not ours */
			if (len < 28 || le32(body) != 0x1A2B3C4D)
				break;
			if (first)
				walk_options(body + 16, len - 28, find_userappl, &out->ours);
			if (!out->ours)
				break;
			continue;
		}
		if (len < 24)
			continue;
		comment.len = 0;
		walk_options(body + 12, len - 24, gather_comment, &comment);
		if (comment.oom) {
			rc = -ENOMEM;
			snprintf(err, errlen, "%s: out of memory", path);
			break;
		}
		if (comment.len)
			parse_counters(comment.buf, out);
	}
	free(body);
	free(comment.buf);
	gzclose(gz);
	return rc;
}
