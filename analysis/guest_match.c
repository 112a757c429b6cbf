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

	for (int m = 0; m < n; m++)
		mac[m] = -1;
	if (!n || !nmacs)
		return 0;
	pairs = calloc((size_t)n * (size_t)nmacs, sizeof(*pairs));
	used = calloc((size_t)n, sizeof(*used));
	if (!pairs || !used) {
		free(pairs);
		free(used);
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
		used[nused++] = pairs[k];
	}
	free(pairs);
	free(used);
	return 0;
}
