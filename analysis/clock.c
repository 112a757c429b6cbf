#include "analysis/clock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "analysis/limits.h"

/* 16 bytes a sighting, so that a capture's table (512 KiB) stays in the CPU's
 * cache: the tag is the sighting's identity, (kind, dir, key) mixed, with
 * kind and dir in its low bits and bit 2 set (0: an empty slot). Two
 * identities share a tag with odds of 2^-61, as keys are hashes already. */
struct sighting {
	uint64_t tag;
	int64_t ts_ns;
};

_Static_assert(CLOCK_KINDS <= 2, "a sighting's tag holds the kind in one bit");

/* Sightings of clock_samples__add_queued waiting for their slots to reach the
 * cache (a ring, oldest at head). */
enum { CLOCK_QUEUE = 8 };

struct clock_samples {
	struct sighting slot[CLOCK_TABLE_SLOTS];
	uint32_t count;
	struct sighting queue[CLOCK_QUEUE];
	unsigned queue_head, queued;
};

/* Kept below 3/4 full so that probing stays short. */
#define CLOCK_CAP (CLOCK_TABLE_SLOTS / 4 * 3)

struct clock_samples *clock_samples__new(void)
{
	/* Mapped with its pages already written, not calloc's untouched ones:
	 * the table is filled on a sampling thread, where a lookup's read maps
	 * the shared zero page and the insert's write then replaces it, a second
	 * fault and a TLB flush sent to the other cores (a tenth of analyze's
	 * time at 100 guests). Compilers turn malloc + memset into calloc. */
	void *p = mmap(NULL, sizeof(struct clock_samples), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void clock_samples__free(struct clock_samples *s)
{
	if (s)
		munmap(s, sizeof(*s));
}

bool clock_samples__wanted(enum clock_kind kind, uint64_t key)
{
	if (kind == CLOCK_ECHO)
		return true;
	return clock_key_mix(key) % CLOCK_STREAM_SAMPLE == 0;
}

static uint64_t tag_of(enum clock_kind kind, int dir, uint64_t key)
{
	uint64_t mixed = clock_key_mix(key ^ ((uint64_t)kind << 62) ^ ((uint64_t)dir << 61));

	return (mixed & ~(uint64_t)7) | 4 | (uint64_t)kind << 1 | (uint64_t)dir;
}

static int tag_kind(uint64_t tag)
{
	return (int)(tag >> 1 & 1);
}

static int tag_dir(uint64_t tag)
{
	return (int)(tag & 1);
}

static uint32_t slot_of(uint64_t tag)
{
	return (uint32_t)(tag >> 3) & (CLOCK_TABLE_SLOTS - 1);
}

static const struct sighting *find(const struct clock_samples *s, uint64_t tag)
{
	for (uint32_t i = slot_of(tag);; i = (i + 1) & (CLOCK_TABLE_SLOTS - 1)) {
		const struct sighting *e = &s->slot[i];

		if (!e->tag)
			return NULL;
		if (e->tag == tag)
			return e;
	}
}

static int insert(struct clock_samples *s, uint64_t tag, int64_t ts_ns)
{
	uint32_t i;

	for (i = slot_of(tag); s->slot[i].tag; i = (i + 1) & (CLOCK_TABLE_SLOTS - 1))
		if (s->slot[i].tag == tag)
			return 0; /* a later copy (retransmit, dup ACK): the first counts */
	if (s->count >= CLOCK_CAP)
		return -ENOSPC;
	s->slot[i] = (struct sighting){ .tag = tag, .ts_ns = ts_ns };
	s->count++;
	return 0;
}

int clock_samples__add(struct clock_samples *s, enum clock_kind kind, int dir, uint64_t key,
		       int64_t ts_ns)
{
	return insert(s, tag_of(kind, dir != 0, key), ts_ns);
}

int clock_samples__add_queued(struct clock_samples *s, enum clock_kind kind, int dir,
			      uint64_t key, int64_t ts_ns)
{
	uint64_t tag = tag_of(kind, dir != 0, key);
	struct sighting *oldest;
	int rc = 0;

	__builtin_prefetch(&s->slot[slot_of(tag)], 1);
	if (s->queued == CLOCK_QUEUE) {
		oldest = &s->queue[s->queue_head];
		rc = insert(s, oldest->tag, oldest->ts_ns);
		*oldest = (struct sighting){ .tag = tag, .ts_ns = ts_ns };
		s->queue_head = (s->queue_head + 1) % CLOCK_QUEUE;
		return rc;
	}
	s->queue[(s->queue_head + s->queued++) % CLOCK_QUEUE] =
		(struct sighting){ .tag = tag, .ts_ns = ts_ns };
	return 0;
}

int clock_samples__flush(struct clock_samples *s)
{
	int rc = 0;

	for (; s->queued; s->queued--, s->queue_head = (s->queue_head + 1) % CLOCK_QUEUE)
		if (!rc)
			rc = insert(s, s->queue[s->queue_head].tag, s->queue[s->queue_head].ts_ns);
	s->queue_head = 0;
	return rc;
}

bool clock_samples__full(const struct clock_samples *s)
{
	return s->count >= CLOCK_CAP;
}

struct delta_range {
	int64_t lo, hi;
	uint32_t n;
};

static void range_add(struct delta_range *r, int64_t d)
{
	if (!r->n || d < r->lo)
		r->lo = d;
	if (!r->n || d > r->hi)
		r->hi = d;
	r->n++;
}

/* The interval theta lies in, for B's clock against A's; false when no kind
 * bounds it from both sides. */
static bool pair_interval(const struct clock_samples *a, const struct clock_samples *b,
			  int64_t *lo_out, int64_t *hi_out, uint32_t *matched)
{
	struct delta_range r[CLOCK_KINDS][2] = { 0 };
	int64_t lo = 0, hi = 0;
	bool have = false;

	*matched = 0;
	for (uint32_t i = 0; i < CLOCK_TABLE_SLOTS; i++) {
		const struct sighting *e = &a->slot[i], *f;

		if (!e->tag)
			continue;
		f = find(b, e->tag);
		if (!f)
			continue;
		range_add(&r[tag_kind(e->tag)][tag_dir(e->tag)], f->ts_ns - e->ts_ns);
		(*matched)++;
	}
	for (int k = 0; k < CLOCK_KINDS; k++) {
		const struct delta_range *up, *down;
		int64_t klo, khi;

		if (!r[k][0].n || !r[k][1].n)
			continue; /* one direction only: a bound on one side */
		/* the direction with the larger deltas travelled A -> B */
		up = r[k][0].lo >= r[k][1].hi ? &r[k][0] : &r[k][1];
		down = up == &r[k][0] ? &r[k][1] : &r[k][0];
		if (up->lo < down->hi)
			continue; /* overlapping: not the same packets after all */
		klo = down->hi;
		khi = up->lo;
		if (!have) {
			lo = klo;
			hi = khi;
			have = true;
		} else if (klo <= hi && khi >= lo) {
			lo = klo > lo ? klo : lo; /* both hold: intersect */
			hi = khi < hi ? khi : hi;
		} else if (khi - klo < hi - lo) {
			lo = klo; /* disjoint (a queue on one path): keep the tighter */
			hi = khi;
		}
	}
	*lo_out = lo;
	*hi_out = hi;
	return have;
}

static void estimate_of(bool have, int64_t lo, int64_t hi, uint32_t matched,
			struct clock_estimate *out)
{
	*out = (struct clock_estimate){ .matched = matched };
	if (!have)
		return;
	out->valid = true;
	out->offset_ns = lo + (hi - lo) / 2;
	out->uncertainty_ns = (hi - lo + 1) / 2;
}

void clock_estimate_pair(const struct clock_samples *a, const struct clock_samples *b,
			 struct clock_estimate *out)
{
	uint32_t matched;
	int64_t lo, hi;
	bool have = pair_interval(a, b, &lo, &hi, &matched);

	estimate_of(have, lo, hi, matched, out);
}

void clock_solve(const struct clock_samples *const *in, int n, int ref,
		 struct clock_estimate *out)
{
	struct clock_estimate pair[MAX_INPUTS][MAX_INPUTS];

	if (n > MAX_INPUTS)
		n = MAX_INPUTS;
	/* A against B is B against A mirrored (the same packets, every delta
	 * negated, each choice above symmetric): each pair is matched once */
	for (int i = 0; i < n; i++) {
		for (int j = i + 1; j < n; j++) {
			uint32_t matched;
			int64_t lo, hi;
			bool have = pair_interval(in[i], in[j], &lo, &hi, &matched);

			estimate_of(have, lo, hi, matched, &pair[i][j]);
			estimate_of(have, -hi, -lo, matched, &pair[j][i]);
		}
	}
	for (int j = 0; j < n; j++)
		out[j] = j == ref ? (struct clock_estimate){ .valid = true } : pair[ref][j];
	/* one hop through a third capture, when it is more certain (n <= 4:
	 * longer chains through the same few inputs add nothing) */
	for (int j = 0; j < n; j++) {
		for (int k = 0; k < n; k++) {
			struct clock_estimate via;

			if (j == ref || k == ref || k == j || !out[k].valid || !pair[k][j].valid)
				continue;
			via.valid = true;
			via.offset_ns = out[k].offset_ns + pair[k][j].offset_ns;
			via.uncertainty_ns = out[k].uncertainty_ns + pair[k][j].uncertainty_ns;
			via.matched = pair[k][j].matched;
			if (!out[j].valid || via.uncertainty_ns < out[j].uncertainty_ns)
				out[j] = via;
		}
	}
}
