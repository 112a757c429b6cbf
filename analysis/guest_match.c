#include "analysis/guest_match.h"

#include <errno.h>
#include <stdlib.h>

#include "analysis/assign.h"
#include "analysis/limits.h"

struct match_pair {
	int64_t cost;
	int64_t burst_ns; /* the announcement taken, which one migration may have */
	int mig, mac;
};

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

/* The least-cost assignment (guest_match below) can leave two pairs crossed
 * where the cost cannot tell them apart: both streams ended before both
 * announcements and, where both are known, were closed after both (a busy
 * destination QEMU closes up to ~15 ms after it announced, long enough to
 * land beside the next guest's resume). Either pairing is then as near in
 * sum, and order is what is left: the first closed was the first resumed,
 * else (no close in view) the first ended. The close follows the resume by
 * 0.3-15 ms, the last data precedes it by the device-state load, which
 * guests loading at once stretch to tens of ms and more: where ends and
 * closes disagree, the closes are the nearer measure. Returns whether a and
 * b, given bursts burst_a and burst_b, are such a crossed pair. */
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
		return false; /* one resumed before the other's last data: the cost told */
	if (a->close_ns && last > (a->close_ns < b->close_ns ? a->close_ns : b->close_ns))
		return false; /* QEMU announces before it closes: the closes tell */
	return key_a != key_b && burst_a != burst_b && (key_a < key_b) != (burst_a < burst_b);
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
 * removes an inversion of order and leaves the cost as it was, so at most
 * n * n of them. */
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

/* The order of the columns: bursts by time, then MAC, so that the outcome
 * never depends on qsort's order. */
static int cmp_burst(const void *a, const void *b)
{
	const struct match_pair *x = a, *y = b;

	if (x->burst_ns != y->burst_ns)
		return (x->burst_ns > y->burst_ns) - (x->burst_ns < y->burst_ns);
	return x->mac - y->mac;
}

/* What a pairing costs, most telling first (each weight above every sum of
 * the terms below it over MAX_GROUPS migrations):
 * - the burst came after the destination closed the stream: QEMU announces
 *   before it closes (measured 0.3 to 10.4 ms before), give or take the
 *   captures' clocks;
 * - the guest resumed before its stream's last data, as only postcopy does;
 * - the distance of candidate(), capped. */
enum { CLOSE_SLACK_NS = 2000000 };
#define DISTANCE_CAP (INT64_C(1) << 36) /* 69 s: nearer is all that counts */
#define EARLY_WEIGHT (INT64_C(1) << 44)
#define AFTER_CLOSE_WEIGHT (INT64_C(1) << 52)
#define UNMATCHED_COST (INT64_C(1) << 53)

_Static_assert(MAX_GROUPS * (DISTANCE_CAP + ANNOUNCE_ONLY_PENALTY_NS) < EARLY_WEIGHT,
	       "distances never outweigh a resume before the stream's end");
_Static_assert(MAX_GROUPS * (EARLY_WEIGHT + DISTANCE_CAP + ANNOUNCE_ONLY_PENALTY_NS) <
		       AFTER_CLOSE_WEIGHT, "nor an announcement after the close");
_Static_assert(AFTER_CLOSE_WEIGHT + EARLY_WEIGHT + DISTANCE_CAP + ANNOUNCE_ONLY_PENALTY_NS <
		       UNMATCHED_COST, "any candidate is better than none");
/* the method's potentials stay within rows x the largest cost */
_Static_assert(MAX_GROUPS <= (INT64_MAX / UNMATCHED_COST) / 4, "the sums fit");

static int64_t pairing_cost(const struct mig_stream *ms, const struct match_pair *p)
{
	int64_t end = ms->last_data_ns ? ms->last_data_ns : ms->last_ns;
	int64_t cost = p->cost < DISTANCE_CAP ? p->cost : DISTANCE_CAP;

	if (p->burst_ns < end)
		cost += EARLY_WEIGHT;
	if (ms->close_ns && p->burst_ns > ms->close_ns + CLOSE_SLACK_NS)
		cost += AFTER_CLOSE_WEIGHT;
	return cost;
}

/* Every candidate pairing (n x nmacs at most) into pairs, sorted by burst:
 * each run of one (burst, MAC) is a column of the assignment. */
static int list_candidates(const struct guest_set *gs, const struct mig_stream *ms, int n,
			   struct match_pair *pairs)
{
	int nmacs = guest_set__nmacs(gs), npairs = 0;

	for (int m = 0; m < n; m++)
		for (int g = 0; g < nmacs; g++) {
			struct match_pair p = { .mig = m, .mac = g };

			if (candidate(guest_set__mac(gs, g), &ms[m], &p))
				pairs[npairs++] = p;
		}
	qsort(pairs, (size_t)npairs, sizeof(*pairs), cmp_burst);
	return npairs;
}

int guest_match(const struct guest_set *gs, const struct mig_stream *ms, int n, int *mac)
{
	int nmacs = guest_set__nmacs(gs), npairs, ncols = 0, rc = -ENOMEM;
	struct match_pair *pairs;
	struct assign_edge *edges = NULL;
	int64_t *burst = NULL;
	int *col_of = NULL, *col_pair = NULL;

	for (int m = 0; m < n; m++)
		mac[m] = -1;
	if (!n || !nmacs)
		return 0;
	if (n > MAX_GROUPS)
		return -EINVAL; /* the cost's weights hold for that many */
	pairs = calloc((size_t)n * (size_t)nmacs, sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	npairs = list_candidates(gs, ms, n, pairs);
	edges = calloc((size_t)npairs + 1, sizeof(*edges));
	col_pair = calloc((size_t)npairs + 1, sizeof(*col_pair)); /* a column's first pair */
	burst = calloc((size_t)n, sizeof(*burst));
	col_of = calloc((size_t)n, sizeof(*col_of));
	if (edges && col_pair && burst && col_of) {
		for (int k = 0; k < npairs; k++) {
			if (!k || cmp_burst(&pairs[k - 1], &pairs[k]))
				col_pair[ncols++] = k;
			edges[k] = (struct assign_edge){ .row = pairs[k].mig, .col = ncols - 1,
							 .cost = pairing_cost(&ms[pairs[k].mig],
									      &pairs[k]) };
		}
		rc = assign_min_cost(edges, npairs, n, ncols, UNMATCHED_COST, col_of);
	}
	if (!rc) {
		for (int m = 0; m < n; m++)
			if (col_of[m] >= 0) {
				mac[m] = pairs[col_pair[col_of[m]]].mac;
				burst[m] = pairs[col_pair[col_of[m]]].burst_ns;
			}
		uncross(ms, n, pairs, npairs, mac, burst);
	}
	free(pairs);
	free(edges);
	free(col_pair);
	free(burst);
	free(col_of);
	return rc;
}
