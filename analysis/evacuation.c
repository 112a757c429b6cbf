#include "analysis/evacuation.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats.h"

struct ranked {
	const struct report_migration *m;
	int index;
};

/* Longest downtime first; a migration without one after those with, in
 * their order. */
static int cmp_worst(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	struct opt_i64 dx = report_downtime(x->m), dy = report_downtime(y->m);

	if (dx.set != dy.set)
		return dx.set ? -1 : 1;
	if (dx.set && dx.v != dy.v)
		return dx.v > dy.v ? -1 : 1;
	return x->index - y->index;
}

static int distinct_guests(const struct report *r)
{
	int n = 0;

	for (int i = 0; i < r->nmigrations; i++) {
		const struct report_guest *g = &r->migrations[i].guest;
		bool seen = false;

		for (int k = 0; k < i && !seen; k++) {
			const struct report_guest *h = &r->migrations[k].guest;

			seen = !strcmp(g->mac, h->mac) && !strcmp(g->ipv4, h->ipv4) &&
			       !strcmp(g->ipv6, h->ipv6);
		}
		n += !seen;
	}
	return n;
}

/* The most streams under way at once: a sweep over starts and ends. */
static int max_concurrent(const struct report *r)
{
	int best = 0;

	for (int i = 0; i < r->nmigrations; i++) {
		const struct report_stream *a = &r->migrations[i].stream;
		int n = 0;

		if (!a->start_ns.set)
			continue;
		/* at a stream's start, those begun and not yet ended */
		for (int k = 0; k < r->nmigrations; k++) {
			const struct report_stream *b = &r->migrations[k].stream;

			n += b->start_ns.set && b->start_ns.v <= a->start_ns.v &&
			     (!b->end_ns.set || b->end_ns.v >= a->start_ns.v);
		}
		if (n > best)
			best = n;
	}
	return best;
}

static void count_verdict(struct report_evacuation *e, const char *code)
{
	if (!code)
		return;
	for (int k = 0; k < e->nverdicts; k++)
		if (!strcmp(e->verdicts[k].code, code)) {
			e->verdicts[k].count++;
			return;
		}
	if (e->nverdicts < REPORT_MAX_VERDICT_KINDS) {
		e->verdicts[e->nverdicts].code = code;
		e->verdicts[e->nverdicts++].count = 1;
	}
}

int evacuation_fill(struct report *r)
{
	struct report_evacuation *e = &r->evacuation;
	struct ranked *rank;
	int64_t *down;

	if (r->nmigrations < 2)
		return 0;
	rank = calloc((size_t)r->nmigrations, sizeof(*rank));
	down = calloc((size_t)r->nmigrations, sizeof(*down));
	e->worst_first = calloc((size_t)r->nmigrations, sizeof(*e->worst_first));
	if (!rank || !down || !e->worst_first) {
		free(rank);
		free(down);
		return -ENOMEM;
	}
	e->set = true;
	e->guests = distinct_guests(r);
	e->max_concurrent = max_concurrent(r);
	for (int i = 0; i < r->nmigrations; i++) {
		const struct report_migration *m = &r->migrations[i];
		const struct report_stream *s = &m->stream;
		struct opt_i64 d = report_downtime(m);

		rank[i] = (struct ranked){ .m = m, .index = i };
		if (d.set)
			down[e->measured++] = d.v;
		if (s->at_src.present)
			e->total_bytes += s->at_src.payload_bytes;
		else if (s->at_dst.present)
			e->total_bytes += s->at_dst.payload_bytes;
		if (s->start_ns.set && (!e->start_ns.set || s->start_ns.v < e->start_ns.v))
			e->start_ns = s->start_ns;
		if (s->end_ns.set && (!e->end_ns.set || s->end_ns.v > e->end_ns.v))
			e->end_ns = s->end_ns;
		count_verdict(e, m->verdict.code);
	}
	if (e->start_ns.set && e->end_ns.set)
		e->duration_ns = opt_some(e->end_ns.v - e->start_ns.v);
	if (e->measured) {
		/* nearest rank, always one guest's figure (stats.h) */
		struct stats_summary st = stats_summarize(down, (size_t)e->measured);

		e->worst_ns = opt_some(down[e->measured - 1]);
		e->median_ns = opt_some(st.median);
		e->p95_ns = opt_some(st.p95);
	}
	qsort(rank, (size_t)r->nmigrations, sizeof(*rank), cmp_worst);
	for (int i = 0; i < r->nmigrations; i++)
		e->worst_first[i] = rank[i].index;
	free(rank);
	free(down);
	return 0;
}
