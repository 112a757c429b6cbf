#include "analysis/guest_match.h"

#include <errno.h>
#include <stdlib.h>

struct match_pair {
	int64_t cost;
	int64_t burst_ns; /* the announcement taken, which one migration may have */
	int mig, mac;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct match_pair *x = a, *y = b;

	if (x->cost != y->cost)
		return (x->cost > y->cost) - (x->cost < y->cost);
	/* equal distances: the earlier migration, then the earlier MAC, so the
	 * outcome never depends on qsort's order */
	if (x->mig != y->mig)
		return x->mig - y->mig;
	return x->mac - y->mac;
}

static int64_t distance(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

/* The candidate of MAC g for migration ms: false when it has none. */
static bool candidate(const struct guest_mac *g, const struct mig_stream *ms,
		      struct match_pair *p)
{
	int64_t end = ms->last_data_ns ? ms->last_data_ns : ms->last_ns;
	int64_t anchor = ms->close_ns ? ms->close_ns : end, other = 0;

	for (uint32_t k = 0; k < g->nannounces; k++) {
		const struct announce *a = &g->announces[k];

		if (a->ts_ns < ms->first_ns || a->ts_ns - end > MATCH_AFTER_NS)
			continue;
		if (a->kind == ANNOUNCE_RARP) {
			p->burst_ns = a->ts_ns;
			p->cost = distance(a->ts_ns, anchor);
			return true;
		}
		if (!other)
			other = a->ts_ns;
	}
	if (!other)
		return false;
	p->burst_ns = other;
	p->cost = distance(other, anchor) + ANNOUNCE_ONLY_PENALTY_NS;
	return true;
}

/* Nearest first can cross two pairs that the distances cannot tell apart:
 * streams that ended before either announcement and, where both are known,
 * were closed after both (a busy destination QEMU closes up to ~10 ms after
 * it announced, long enough to land beside the next guest's resume). Each
 * pairing is then as near in sum, and order is what is left: when the two
 * streams ended and were closed in the same order, the first was the first
 * resumed. Returns whether a and b, given bursts burst_a and burst_b, are
 * such a crossed pair. */
static bool crossed(const struct mig_stream *a, const struct mig_stream *b, int64_t burst_a,
		    int64_t burst_b)
{
	int64_t end_a = a->last_data_ns ? a->last_data_ns : a->last_ns;
	int64_t end_b = b->last_data_ns ? b->last_data_ns : b->last_ns;
	int64_t key_a = a->close_ns ? a->close_ns : end_a, key_b = b->close_ns ? b->close_ns : end_b;
	int64_t first = burst_a < burst_b ? burst_a : burst_b;
	int64_t last = burst_a < burst_b ? burst_b : burst_a;

	if (!a->close_ns != !b->close_ns)
		return false; /* a close against an end: not the same measure */
	if (first < (end_a > end_b ? end_a : end_b))
		return false; /* one resumed before the other's last data: postcopy */
	if (a->close_ns && last > (a->close_ns < b->close_ns ? a->close_ns : b->close_ns))
		return false; /* QEMU announces before it closes: the closes tell */
	if ((key_a < key_b) != (end_a < end_b))
		return false; /* closed and ended in different orders: no order */
	return key_a != key_b && end_a != end_b && burst_a != burst_b &&
	       (key_a < key_b) != (burst_a < burst_b);
}

/* The candidate of migration m for MAC g, or NULL (looked up only for a
 * crossed pair: rare). */
static const struct match_pair *pair_of(const struct match_pair *pairs, int npairs, int m, int g)
{
	for (int k = 0; k < npairs; k++)
		if (pairs[k].mig == m && pairs[k].mac == g)
			return &pairs[k];
	return NULL;
}

/* Swaps crossed pairs (crossed() above) until none is left: each swap
 * removes an inversion of order, so at most n * n of them. */
static void uncross(const struct mig_stream *ms, int n, const struct match_pair *pairs, int npairs,
		    int *mac, int64_t *burst)
{
	for (bool moved = true; moved;) {
		moved = false;
		for (int a = 0; a < n; a++) {
			for (int b = a + 1; b < n; b++) {
				const struct match_pair *ab, *ba;

				if (mac[a] < 0 || mac[b] < 0 ||
				    !crossed(&ms[a], &ms[b], burst[a], burst[b]))
					continue;
				/* each must have the other's very burst for a candidate */
				ab = pair_of(pairs, npairs, a, mac[b]);
				ba = pair_of(pairs, npairs, b, mac[a]);
				if (!ab || !ba || ab->burst_ns != burst[b] || ba->burst_ns != burst[a])
					continue;
				mac[a] = ab->mac;
				mac[b] = ba->mac;
				burst[a] = ab->burst_ns;
				burst[b] = ba->burst_ns;
				moved = true;
			}
		}
	}
}

static bool taken(const struct match_pair *used, int nused, const struct match_pair *p)
{
	for (int k = 0; k < nused; k++)
		if (used[k].mac == p->mac && used[k].burst_ns == p->burst_ns)
			return true;
	return false;
}

int guest_match(const struct guest_set *gs, const struct mig_stream *ms, int n, int *mac)
{
	int nmacs = guest_set__nmacs(gs), npairs = 0, nused = 0;
	struct match_pair *pairs, *used;
	int64_t *burst;

	for (int m = 0; m < n; m++)
		mac[m] = -1;
	if (!n || !nmacs)
		return 0;
	pairs = calloc((size_t)n * (size_t)nmacs, sizeof(*pairs));
	used = calloc((size_t)n, sizeof(*used));
	burst = calloc((size_t)n, sizeof(*burst));
	if (!pairs || !used || !burst) {
		free(pairs);
		free(used);
		free(burst);
		return -ENOMEM;
	}
	for (int m = 0; m < n; m++)
		for (int g = 0; g < nmacs; g++) {
			struct match_pair p = { .mig = m, .mac = g };

			if (candidate(guest_set__mac(gs, g), &ms[m], &p))
				pairs[npairs++] = p;
		}
	qsort(pairs, (size_t)npairs, sizeof(*pairs), cmp_pair);
	for (int k = 0; k < npairs && nused < n; k++) {
		if (mac[pairs[k].mig] >= 0 || taken(used, nused, &pairs[k]))
			continue;
		mac[pairs[k].mig] = pairs[k].mac;
		burst[pairs[k].mig] = pairs[k].burst_ns;
		used[nused++] = pairs[k];
	}
	uncross(ms, n, pairs, npairs, mac, burst);
	free(pairs);
	free(used);
	free(burst);
	return 0;
}
