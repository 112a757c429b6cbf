#include "capture_set.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int grow(void **buf, uint64_t *cap, uint64_t need, size_t elem)
{
	uint64_t ncap = *cap ? *cap : 1024;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*buf, ncap * elem);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = ncap;
	return 0;
}

int cs_add(struct capture_set *cs, int vantage, int64_t ts_ns, const struct frame *f)
{
	struct cs_vantage *v = &cs->v[vantage];
	uint32_t caplen = f->len < SNAPLEN ? f->len : SNAPLEN;
	struct cs_record *r;

	if (grow((void **)&v->recs, &v->cap_recs, v->nrecs + 1, sizeof(*v->recs)) ||
	    grow((void **)&v->bytes, &v->cap_bytes, v->nbytes + caplen, 1))
		return -ENOMEM;
	r = &v->recs[v->nrecs++];
	r->ts_ns = ts_ns;
	r->order = cs->order++;
	r->wirelen = f->wirelen;
	r->caplen = caplen;
	r->off = v->nbytes;
	memcpy(v->bytes + v->nbytes, f->b, caplen);
	v->nbytes += caplen;
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct cs_record *x = a, *y = b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static ssize_t gz_write(void *cookie, const char *buf, size_t size)
{
	int n = gzwrite((gzFile)cookie, buf, (unsigned)size);

	return n <= 0 ? -1 : n;
}

static int gz_close(void *cookie)
{
	return gzclose((gzFile)cookie) == Z_OK ? 0 : EOF;
}

static FILE *open_out(const char *path)
{
	static const cookie_io_functions_t io = { .write = gz_write, .close = gz_close };
	size_t n = strlen(path);
	gzFile gz;

	if (n < 3 || strcmp(path + n - 3, ".gz"))
		return fopen(path, "wb");
	gz = gzopen(path, "wb9");
	return gz ? fopencookie(gz, "wb", io) : NULL;
}

int cs_write(struct capture_set *cs, int vantage, const char *path)
{
	struct cs_vantage *v = &cs->v[vantage];
	pcap_t *dead;
	pcap_dumper_t *dump;
	FILE *fp;
	int rc = 0;

	qsort(v->recs, v->nrecs, sizeof(*v->recs), cmp_rec);
	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	fp = open_out(path);
	if (!dead || !fp) {
		fprintf(stderr, "fixturegen: %s: cannot create\n", path);
		if (fp)
			fclose(fp);
		if (dead)
			pcap_close(dead);
		return -EIO;
	}
	dump = pcap_dump_fopen(dead, fp);
	if (!dump) {
		fclose(fp);
		pcap_close(dead);
		return -EIO;
	}
	for (uint64_t i = 0; i < v->nrecs; i++) {
		const struct cs_record *r = &v->recs[i];
		struct pcap_pkthdr h = { .caplen = r->caplen, .len = r->wirelen };

		h.ts.tv_sec = r->ts_ns / 1000000000;
		h.ts.tv_usec = r->ts_ns % 1000000000; /* nanoseconds in a nano dump */
		pcap_dump((u_char *)dump, &h, v->bytes + r->off);
	}
	if (pcap_dump_flush(dump))
		rc = -EIO;
	pcap_dump_close(dump);
	pcap_close(dead);
	return rc;
}

void cs_free(struct capture_set *cs)
{
	for (int i = 0; i < CS_VANTAGES; i++) {
		free(cs->v[i].recs);
		free(cs->v[i].bytes);
	}
	memset(cs, 0, sizeof(*cs));
}
