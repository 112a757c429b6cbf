#include "analysis/guest_traffic.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report_plot.h"
#include "analysis/stats.h"

/* The guest's end of c, -1 when c is not the guest's. */
static int guest_end(const struct traffic_scope *s, const struct guest_conn *c)
{
	int e = guest_conn_end_at(c, &s->ip4);

	return e >= 0 ? e : guest_conn_end_at(c, &s->ip6);
}

static int64_t conn_first(const struct guest_conn *c)
{
	int64_t a = c->dir[0].first_ns, b = c->dir[1].first_ns;

	return !a ? b : !b ? a : a < b ? a : b;
}

static int64_t conn_last(const struct guest_conn *c)
{
	return c->dir[0].last_ns > c->dir[1].last_ns ? c->dir[0].last_ns : c->dir[1].last_ns;
}

static bool in_window(const struct traffic_scope *s, const struct guest_conn *c)
{
	return conn_first(c) <= s->window_hi && conn_last(c) >= s->window_lo;
}

/* Closed before the pause: it never saw the switchover. */
static bool closed_before(const struct guest_conn *c, int64_t t)
{
	const struct conn_dir *a = &c->dir[0], *b = &c->dir[1];

	if ((a->rst_ns && a->rst_ns < t) || (b->rst_ns && b->rst_ns < t))
		return true;
	return a->fin_ns && b->fin_ns && a->fin_ns < t && b->fin_ns < t;
}

static struct opt_i64 stall_of(const struct conn_dir *d, int64_t resume_ns, int64_t *from)
{
	const struct conn_gap *g = conn_dir_gap_at(d, resume_ns);

	if (!g)
		return (struct opt_i64){ 0 };
	if (!*from || g->from_ns < *from)
		*from = g->from_ns;
	return opt_some(g->to_ns - g->from_ns);
}

static int64_t longest(const struct report_guest_flow *f)
{
	int64_t a = f->stall_to_guest_ns.set ? f->stall_to_guest_ns.v : -1;
	int64_t b = f->stall_from_guest_ns.set ? f->stall_from_guest_ns.v : -1;

	return a > b ? a : b;
}

static void backoff_of(const struct guest_conn *c, struct report_guest_flow *f)
{
	const struct conn_dir *d = c->dir[0].best_run_n >= c->dir[1].best_run_n ? &c->dir[0]
										 : &c->dir[1];

	for (int k = 1; k < d->best_run_n && f->nbackoff < REPORT_BACKOFF; k++)
		f->backoff_ns[f->nbackoff++] = d->best_run_ns[k] - d->best_run_ns[k - 1];
}

static void describe(const struct traffic_scope *s, const struct guest_conn *c, int g,
		     struct report_guest_flow *f)
{
	int64_t resume = s->phases.resume, from = 0;

	memset(f, 0, sizeof(*f));
	f->proto = c->proto == IPPROTO_TCP ? "tcp" : "udp";
	ip_format(&c->ip[0], f->client, sizeof(f->client));
	ip_format(&c->ip[1], f->server, sizeof(f->server));
	f->client_port = c->port[0];
	f->server_port = c->port[1];
	f->guest_is_server = g == 1;
	f->stall_to_guest_ns = stall_of(&c->dir[!g], resume, &from);
	f->stall_from_guest_ns = stall_of(&c->dir[g], resume, &from);
	if (from)
		f->stall_start_ns = opt_some(from);
	f->retransmitted_segments = conn_dir_retx(&c->dir[0]) + conn_dir_retx(&c->dir[1]);
	f->zero_windows_from_guest = conn_dir_zero_windows(&c->dir[g]);
	f->zero_windows_to_guest = conn_dir_zero_windows(&c->dir[!g]);
	backoff_of(c, f);
	f->reset = c->dir[0].rst_ns || c->dir[1].rst_ns;
	f->survived = !f->reset && c->dir[g].last_ns > resume;
}

static int cmp_stall(const void *a, const void *b)
{
	int64_t x = longest(a), y = longest(b);

	return (x < y) - (x > y);
}

static void summarize_stalls(const struct traffic_scope *s, struct report_guest_flow *all, int n,
			     struct report_guest_traffic *t)
{
	int64_t *v = malloc((size_t)(n ? n : 1) * sizeof(*v)), bar = s->sla_ns ? s->sla_ns
										 : TRAFFIC_STALL_NS;
	size_t nv = 0;

	for (int k = 0; k < n; k++) {
		int64_t l = longest(&all[k]);

		t->reset += all[k].reset;
		t->survived += all[k].survived;
		t->zero_window += all[k].zero_windows_from_guest || all[k].zero_windows_to_guest;
		if (l < 0)
			continue;
		t->stalled += l >= bar;
		if (v)
			v[nv++] = l;
	}
	if (nv) {
		t->stall_max_ns = opt_some(stats_percentile(v, nv, 100));
		t->stall_p50_ns = opt_some(stats_percentile(v, nv, 50));
		t->stall_p99_ns = opt_some(stats_percentile(v, nv, 99));
	}
	free(v);
}

/* Which of the table's flows are the guest's in this migration's window;
 * NULL when out of memory (n > 0). */
static bool *guests_conns(const struct traffic_scope *s, int n)
{
	bool *mine = calloc((size_t)(n ? n : 1), sizeof(*mine));

	for (int i = 0; mine && i < n; i++) {
		const struct guest_conn *c = guest_conns__conn(s->conns, i);

		mine[i] = guest_end(s, c) >= 0 && in_window(s, c);
	}
	return mine;
}

/* A request of the guest's in the window, judged (answered or failed). */
static bool counted(const struct traffic_scope *s, const bool *mine, const struct conn_request *rq)
{
	return mine[rq->conn] && rq->start_ns >= s->window_lo && rq->start_ns <= s->window_hi &&
	       (rq->answer_ns || rq->failed);
}

/* The guest's port of c when it may stand for a probe: any, or the
 * --probe tcp:PORT one; 0 when not. */
static uint16_t probe_port_of(const struct traffic_scope *s, const struct guest_conn *c)
{
	uint16_t port = c->port[guest_end(s, c)];

	return !s->probe_port || port == s->probe_port ? port : 0;
}

/* A request as a probe: its answer on either side of the resume. */
static void as_probe(const struct traffic_scope *s, const struct conn_request *rq, uint16_t port,
		     struct report_guest_traffic *t)
{
	int64_t resume = s->phases.resume;

	t->requests_after += rq->start_ns > resume;
	if (!rq->answer_ns)
		return;
	if (rq->answer_ns <= resume) {
		if (!t->last_answer_before_ns.set || rq->answer_ns > t->last_answer_before_ns.v)
			t->last_answer_before_ns = opt_some(rq->answer_ns);
	} else if (!t->first_answer_after_ns.set || rq->answer_ns < t->first_answer_after_ns.v) {
		t->first_answer_after_ns = opt_some(rq->answer_ns);
		t->answer_port = port;
	}
}

/* The requests of the guest's flows in this migration's window, by the
 * phase each began in. */
static int fill_responses(const struct traffic_scope *s, const bool *mine,
			  struct report_guest_traffic *t)
{
	int n;
	const struct conn_request *rq = guest_conns__requests(s->conns, &n);
	int64_t *lat[PHASE_COUNT] = { 0 };
	size_t nlat[PHASE_COUNT] = { 0 };
	int rc = 0;

	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		lat[ph] = malloc((size_t)(n ? n : 1) * sizeof(**lat));
		if (!lat[ph])
			rc = -ENOMEM;
	}
	for (int k = 0; !rc && k < n; k++) {
		const struct guest_conn *c = guest_conns__conn(s->conns, rq[k].conn);
		struct report_responses *r;
		uint16_t port;
		enum phase ph;

		if (!counted(s, mine, &rq[k]))
			continue;
		port = probe_port_of(s, c);
		if (port)
			as_probe(s, &rq[k], port, t);
		ph = phase_of(rq[k].start_ns, &s->phases);
		r = &t->responses[ph];
		r->set = true;
		r->requests++;
		if (rq[k].failed) {
			r->failed++;
			r->over_sla += s->sla_ns > 0;
			continue;
		}
		lat[ph][nlat[ph]++] = rq[k].answer_ns - rq[k].start_ns;
		r->over_sla += s->sla_ns && rq[k].answer_ns - rq[k].start_ns > s->sla_ns;
	}
	for (int ph = 0; !rc && ph < PHASE_COUNT; ph++) {
		if (!nlat[ph])
			continue;
		t->responses[ph].p50_ns = opt_some(stats_percentile(lat[ph], nlat[ph], 50));
		t->responses[ph].p90_ns = opt_some(stats_percentile(lat[ph], nlat[ph], 90));
		t->responses[ph].p99_ns = opt_some(stats_percentile(lat[ph], nlat[ph], 99));
	}
	for (int ph = 0; ph < PHASE_COUNT; ph++)
		free(lat[ph]);
	return rc;
}

int guest_traffic_fill(const struct traffic_scope *s, struct report_migration *rm)
{
	struct report_guest_traffic *t = &rm->traffic;
	int n = s->conns ? guest_conns__count(s->conns) : 0, nall = 0, rc;
	struct report_guest_flow *all;
	bool *mine;

	if (s->sla_ns)
		t->sla_ns = opt_some(s->sla_ns);
	if (!n || (!s->ip4.family && !s->ip6.family))
		return 0;
	mine = guests_conns(s, n);
	all = calloc((size_t)n, sizeof(*all));
	if (!mine || !all) {
		free(mine);
		free(all);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		const struct guest_conn *c = guest_conns__conn(s->conns, i);

		if (mine[i] && conn_first(c) < s->phases.resume && conn_last(c) >= s->phases.pause &&
		    !closed_before(c, s->phases.pause))
			describe(s, c, guest_end(s, c), &all[nall++]);
	}
	rc = fill_responses(s, mine, t);
	if (!rc && nall) {
		qsort(all, (size_t)nall, sizeof(*all), cmp_stall);
		t->flows = nall;
		summarize_stalls(s, all, nall, t);
		t->nlist = nall < REPORT_MAX_GUEST_FLOWS ? nall : REPORT_MAX_GUEST_FLOWS;
		t->list = realloc(all, (size_t)t->nlist * sizeof(*all));
		if (!t->list)
			t->list = all;
		all = NULL;
	}
	free(all);
	free(mine);
	return rc;
}

static int cmp_point(const void *a, const void *b)
{
	const struct report_probe_point *x = a, *y = b;

	return (x->req_ns > y->req_ns) - (x->req_ns < y->req_ns);
}

int guest_traffic_plot(const struct traffic_scope *s, struct report_migration *rm)
{
	int n = s->conns ? guest_conns__count(s->conns) : 0, nrq, npts = 0;
	const struct conn_request *rq = s->conns ? guest_conns__requests(s->conns, &nrq) : NULL;
	struct report_probe_point *pts;
	bool *mine;

	if (!rq)
		nrq = 0;
	mine = guests_conns(s, n);
	pts = malloc((size_t)(nrq ? nrq : 1) * sizeof(*pts));
	if (!mine || !pts) {
		free(mine);
		free(pts);
		return -ENOMEM;
	}
	for (int k = 0; k < nrq; k++)
		if (counted(s, mine, &rq[k]) &&
		    probe_port_of(s, guest_conns__conn(s->conns, rq[k].conn)))
			pts[npts++] = (struct report_probe_point){
				.req_ns = rq[k].start_ns,
				.rtt_ns = rq[k].answer_ns ? rq[k].answer_ns - rq[k].start_ns
							  : REPORT_RTT_LOST };
	free(mine);
	qsort(pts, (size_t)npts, sizeof(*pts), cmp_point);
	free(rm->plot.probes);
	report_plot_probes(rm, pts, npts);
	return 0;
}
