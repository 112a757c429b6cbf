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

#include "analysis/domain.h"

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

/* Where a counters line sits, for messages: the file, the ISB's offset in
 * the (uncompressed) file, the line within its comment. */
struct where {
	const char *path;
	long long block_off;
	int line;
	char *err;
	size_t errlen;
};

/* A value the file holds but the analyzer's domain cannot (analysis/domain.h). */
static int out_of_domain(const struct where *w, const char *key, uint64_t v, const char *what)
{
	snprintf(w->err, w->errlen, "%s: counters block at byte %lld, line %d: %s=%llu is %s",
		 w->path, w->block_off, w->line, key, (unsigned long long)v, what);
	return -ERANGE;
}

/* A count field: absent or unreadable is false (the line is not used), a
 * count over COUNT_MAX an error. */
static int count_field(const char *line, const char *key, uint64_t *v, const struct where *w)
{
	if (!field_u64(line, key, v))
		return 1;
	return count_valid(*v) ? 0 : out_of_domain(w, key, *v, "more than any stream carries (2^53)");
}

/* An optional time: absent or unreadable stays 0, a value not a stamp is an
 * error. */
static int time_field(const char *line, const char *key, uint64_t *v, const struct where *w)
{
	if (!field_u64(line, key, v)) {
		*v = 0;
		return 0;
	}
	if (*v && (*v > (uint64_t)STAMP_MAX_NS || !stamp_valid((int64_t)*v)))
		return out_of_domain(w, key, *v, "not a time migscope reads (" STAMP_RANGE_TEXT ")");
	return 0;
}

/* 1 when the line lacks a field (not used), 0 when parsed, -ERANGE. */
static int parse_flow(const char *line, struct counter_flow *f, const struct where *w)
{
	static const char *const counts[] = { "packets", "payload_bytes", "wire_bytes",
					      "ooo_segments", "ooo_bytes" };
	uint64_t *dst[] = { &f->packets, &f->payload_bytes, &f->wire_bytes, &f->ooo_segments,
			    &f->ooo_bytes };
	int rc;

	memset(f, 0, sizeof(*f));
	if (!parse_ends(line, &f->src, &f->sport, &f->dst, &f->dport))
		return 1;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if ((rc = count_field(line, counts[i], dst[i], w)))
			return rc;
	if ((rc = time_field(line, "first_ns", &f->first_ns, w)) ||
	    (rc = time_field(line, "last_ns", &f->last_ns, w)) ||
	    (rc = time_field(line, "last_data_ns", &f->last_data_ns, w)))
		return rc;
	return 0;
}

static int parse_retrans(const char *line, struct counter_retrans *r, const struct where *w)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (!parse_ends(line, &r->src, &r->sport, &r->dst, &r->dport))
		return 1;
	if ((rc = count_field(line, "segments", &r->segments, w)))
		return rc;
	return count_field(line, "bytes", &r->bytes, w);
}

/* An iface line's count, added to *sum; absent adds nothing. */
static int add_iface_count(const char *line, const char *key, uint64_t *sum, const struct where *w)
{
	uint64_t v;
	int rc = count_field(line, key, &v, w);

	if (rc < 0)
		return rc;
	if (rc)
		return 0;
	if (v > COUNT_MAX - *sum)
		return out_of_domain(w, key, v, "more than 2^53 summed over the interfaces");
	*sum += v;
	return 0;
}

/* Returns 0 or -ERANGE with a line in w->err. */
static int parse_counters(char *text, struct capture_counters *out, struct where *w)
{
	char *line, *next, yes[8];
	int rc = 0;

	if (strncmp(text, COUNTERS_MAGIC "\n", strlen(COUNTERS_MAGIC) + 1))
		return 0;
	out->present = true;
	out->nifaces++;
	w->line = 0;
	/* line by line, empty ones counted too: messages give the line number */
	for (line = text; line && rc >= 0; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		w->line++;
		if (!strncmp(line, "iface ", 6)) {
			if ((rc = add_iface_count(line, "ring_drops", &out->ring_drops, w)) ||
			    (rc = add_iface_count(line, "flows_full", &out->flows_full, w)) ||
			    (rc = add_iface_count(line, "events", &out->events, w)))
				break;
			if (field(line, "retrans_tracer", yes, sizeof(yes)) && !strcmp(yes, "yes"))
				out->retrans_tracer = true;
		} else if (!strncmp(line, "flow ", 5)) {
			if (out->nflows == COUNTERS_MAX_FLOWS) {
				out->flows_truncated = true;
				continue;
			}
			rc = parse_flow(line, &out->flows[out->nflows], w);
			if (!rc)
				out->nflows++;
		} else if (!strncmp(line, "retransmits ", 12)) {
			if (out->nretrans == COUNTERS_MAX_RETRANS) {
				out->retrans_truncated = true;
				continue;
			}
			rc = parse_retrans(line, &out->retrans[out->nretrans], w);
			if (!rc)
				out->nretrans++;
		}
	}
	return rc < 0 ? rc : 0;
}

int capture_counters__read(const char *path, struct capture_counters *out, char *err,
			   size_t errlen)
{
	struct where w = { .path = path, .err = err, .errlen = errlen };
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
		w.block_off = (long long)gztell(gz);
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
		if (comment.len && (rc = parse_counters(comment.buf, out, &w)))
			break;
	}
	free(body);
	free(comment.buf);
	gzclose(gz);
	return rc;
}
