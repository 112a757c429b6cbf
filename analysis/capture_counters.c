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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "analysis/capture_dir.h"
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

/* Empty counters: the head only, the arrays are read up to their counts
 * (clearing them would touch ~180 KiB for every capture). */
static void counters_clear(struct capture_counters *c)
{
	memset(c, 0, offsetof(struct capture_counters, flows));
}

static int read_file(const char *path, struct capture_counters *out, char *err, size_t errlen)
{
	struct counters_where w = { .path = path, .err = err, .errlen = errlen };
	struct text comment = { 0 };
	uint8_t hdr[8], *body = NULL;
	uint32_t type, len;
	gzFile gz;
	int rc = 0, n;

	counters_clear(out);
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
		{
			/* the block's own stamp: when the agent closed the file (our
			 * interfaces are in nanoseconds) */
			uint64_t ts = (uint64_t)le32(body + 4) << 32 | le32(body + 8);

			if (ts > out->end_ns && ts < (uint64_t)STAMP_MAX_NS)
				out->end_ns = ts;
		}
		comment.len = 0;
		walk_options(body + 12, len - 24, gather_comment, &comment);
		if (comment.oom) {
			rc = -ENOMEM;
			snprintf(err, errlen, "%s: out of memory", path);
			break;
		}
		if (comment.len && (rc = counters_text__parse(comment.buf, out, &w)))
			break;
	}
	free(body);
	free(comment.buf);
	gzclose(gz);
	return rc;
}

static bool same_flow(const struct counter_flow *a, const struct counter_flow *b)
{
	return a->sport == b->sport && a->dport == b->dport && ip_equal(&a->src, &b->src) &&
	       ip_equal(&a->dst, &b->dst);
}

static bool same_retrans(const struct counter_retrans *a, const struct counter_retrans *b)
{
	return a->sport == b->sport && a->dport == b->dport && ip_equal(&a->src, &b->src) &&
	       ip_equal(&a->dst, &b->dst);
}

/*
 * One file of a directory into the directory's counters. The agent's files
 * each carry the counters since it started (a flow's whole count, whichever
 * file its first packets went to), so a later file's line replaces an earlier
 * one of the same flow, and the interface sums are the largest seen.
 */
static void merge(struct capture_counters *into, const struct capture_counters *f)
{
	into->ours |= f->ours;
	into->present |= f->present;
	into->nifaces = f->nifaces > into->nifaces ? f->nifaces : into->nifaces;
	into->ring_drops = f->ring_drops > into->ring_drops ? f->ring_drops : into->ring_drops;
	into->flows_full = f->flows_full > into->flows_full ? f->flows_full : into->flows_full;
	into->events = f->events > into->events ? f->events : into->events;
	into->retrans_tracer |= f->retrans_tracer;
	into->flows_truncated |= f->flows_truncated;
	into->retrans_truncated |= f->retrans_truncated;
	for (int i = 0; i < f->nflows; i++) {
		int k = 0;

		while (k < into->nflows && !same_flow(&into->flows[k], &f->flows[i]))
			k++;
		if (k == COUNTERS_MAX_FLOWS) {
			into->flows_truncated = true;
			continue;
		}
		into->flows[k] = f->flows[i];
		into->nflows += k == into->nflows;
	}
	for (int i = 0; i < f->nretrans; i++) {
		int k = 0;

		while (k < into->nretrans && !same_retrans(&into->retrans[k], &f->retrans[i]))
			k++;
		if (k == COUNTERS_MAX_RETRANS) {
			into->retrans_truncated = true;
			continue;
		}
		into->retrans[k] = f->retrans[i];
		into->nretrans += k == into->nretrans;
	}
}

int capture_counters__read(const char *path, struct capture_counters *out, char *err,
			   size_t errlen)
{
	struct capture_counters *one;
	struct capture_dir dir;
	int rc;

	if (!capture_dir__is_dir(path))
		return read_file(path, out, err, errlen);
	counters_clear(out);
	rc = capture_dir__list(path, &dir, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc; /* the capture reader names the problem */
	one = malloc(sizeof(*one));
	if (!one) {
		capture_dir__free(&dir);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	for (int i = 0; i < dir.n; i++) {
		rc = read_file(dir.paths[i], one, err, errlen);
		if (rc)
			break;
		merge(out, one);
	}
	free(one);
	capture_dir__free(&dir);
	return rc;
}
