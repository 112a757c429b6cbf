/*
 * clock - how far one capture's clock runs ahead of another's, from packets
 * both captured (design §4; NTP's minimum-delay method).
 *
 * A sighting is (kind, dir, key, time): the same kind and key in two captures
 * is the same packet. For captures A and B and one kind, the packets of one
 * direction travel A -> B, so t_B - t_A = delay + theta >= theta; those of the
 * other direction travel B -> A: t_B - t_A = theta - delay <= theta. theta (B's
 * clock minus A's) therefore lies between the largest delta of the one class
 * and the smallest of the other; the midpoint is the estimate and half the
 * width its uncertainty. Which direction goes which way need not be known: it
 * is the class whose deltas are larger. The intervals of several kinds (the
 * migration stream, the echo probes) are intersected.
 *
 * Samples: every echo sighting, and stream segments whose key hashes into one
 * of CLOCK_STREAM_SAMPLE slots, the same rule in every capture so that both
 * sides keep the same packets. Each capture keeps at most CLOCK_TABLE_SLOTS*3/4
 * sightings (the first of each key): memory is bounded whatever the capture.
 *
 * Ownership: clock_samples__new returns a table freed by clock_samples__free
 * (NULL-safe). Functions returning int give 0 or a negative errno.
 */
#ifndef MIGSCOPE_CLOCK_H
#define MIGSCOPE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

enum clock_kind {
	CLOCK_STREAM, /* dir: the sending endpoint; key: flow, seq or ack */
	CLOCK_ECHO,   /* dir: 0 request, 1 reply; key: target, id, sequence */
	CLOCK_KINDS,
};

enum {
	CLOCK_TABLE_SLOTS = 1 << 15, /* power of two */
	CLOCK_STREAM_SAMPLE = 16,    /* one stream segment in 16, by key hash */
};

struct clock_samples;

struct clock_estimate {
	bool valid;
	int64_t offset_ns;      /* B's clock minus A's (A: the reference) */
	int64_t uncertainty_ns; /* the true offset is within +- this */
	uint32_t matched;       /* packets seen in both captures */
};

struct clock_samples *clock_samples__new(void);
void clock_samples__free(struct clock_samples *s);

/* Whether a sighting of this kind and key is kept (the shared sampling rule). */
bool clock_samples__wanted(enum clock_kind kind, uint64_t key);

/* Keeps the first sighting of (kind, dir, key); -ENOSPC once the table is at
 * its cap (later sightings are not needed: the offset does not drift much
 * within one capture). */
int clock_samples__add(struct clock_samples *s, enum clock_kind kind, int dir, uint64_t key,
		       int64_t ts_ns);
bool clock_samples__full(const struct clock_samples *s);

/* The same insert, a few sightings later, in the same order: the slot is
 * fetched into the CPU's cache now (a capture's table is larger than what
 * stays cached while packets stream through, so an insert at once waits on
 * memory almost every time). Returns the result of the insert it made, of an
 * earlier sighting: -ENOSPC once the table is at its cap. Call
 * clock_samples__flush before reading the table. */
int clock_samples__add_queued(struct clock_samples *s, enum clock_kind kind, int dir,
			      uint64_t key, int64_t ts_ns);
/* Inserts what is queued; the first -ENOSPC, else 0. */
int clock_samples__flush(struct clock_samples *s);

/* B's offset from A over the packets both saw; !valid when no kind had
 * packets in both directions or the directions overlap (no common packet). */
void clock_estimate_pair(const struct clock_samples *a, const struct clock_samples *b,
			 struct clock_estimate *out);

/* Every input's offset from input ref: directly, or through a third capture
 * when that is more certain (ctl aligns to the source through the probes).
 * out[ref] is {valid, 0, 0}. */
void clock_solve(const struct clock_samples *const *in, int n, int ref,
		 struct clock_estimate *out);

/* A stable 64-bit mix for building keys (splitmix64 finaliser). */
static inline uint64_t clock_key_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

#endif
