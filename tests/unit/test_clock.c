/*
 * Unit tests of the clock-offset estimator (analysis/clock.c): two captures
 * of the same packets with a known offset and known one-way delays must give
 * that offset within the stated uncertainty, and the uncertainty must be half
 * the smallest round trip; chaining through a third capture; the cases that
 * must give no estimate at all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "analysis/clock.h"

#define US INT64_C(1000)
#define T0 INT64_C(1700000000000000000)

struct two {
	struct clock_samples *a, *b;
};

static int setup(void **state)
{
	struct two *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->a = clock_samples__new();
	t->b = clock_samples__new();
	*state = t;
	return t->a && t->b ? 0 : -1;
}

static int teardown(void **state)
{
	struct two *t = *state;

	clock_samples__free(t->a);
	clock_samples__free(t->b);
	free(t);
	return 0;
}

/* n packets each way of one kind: A->B takes fwd_ns (+ jitter every 3rd),
 * B->A back_ns; B's clock runs theta_ns ahead of A's. */
static void exchange(struct two *t, enum clock_kind kind, int n, int64_t theta_ns, int64_t fwd_ns,
		     int64_t back_ns)
{
	for (int i = 0; i < n; i++) {
		int64_t sent = T0 + i * 100 * US, jitter = (i % 3) * 7 * US;

		assert_int_equal(clock_samples__add(t->a, kind, 0, (uint64_t)i, sent), 0);
		assert_int_equal(clock_samples__add(t->b, kind, 0, (uint64_t)i,
						    sent + fwd_ns + jitter + theta_ns), 0);
		assert_int_equal(clock_samples__add(t->b, kind, 1, (uint64_t)i, sent + 50 * US + theta_ns), 0);
		assert_int_equal(clock_samples__add(t->a, kind, 1, (uint64_t)i,
						    sent + 50 * US + back_ns + jitter), 0);
	}
}

static void assert_estimate(const struct clock_estimate *e, int64_t theta_ns, int64_t unc_ns)
{
	assert_true(e->valid);
	assert_int_equal(e->uncertainty_ns, unc_ns);
	assert_true(e->offset_ns - theta_ns <= e->uncertainty_ns);
	assert_true(theta_ns - e->offset_ns <= e->uncertainty_ns);
}

static void test_symmetric_delays_exact(void **state)
{
	struct two *t = *state;
	struct clock_estimate e;

	exchange(t, CLOCK_STREAM, 200, 37500 * US, 30 * US, 30 * US);
	clock_estimate_pair(t->a, t->b, &e);
	/* symmetric paths: the midpoint is the offset, the width the delay */
	assert_int_equal(e.offset_ns, 37500 * US);
	assert_estimate(&e, 37500 * US, 30 * US);
	assert_int_equal(e.matched, 400);
	/* seen from B, A runs behind by the same amount */
	clock_estimate_pair(t->b, t->a, &e);
	assert_int_equal(e.offset_ns, -37500 * US);
}

static void test_asymmetric_within_uncertainty(void **state)
{
	struct two *t = *state;
	struct clock_estimate e;

	exchange(t, CLOCK_STREAM, 200, -2000000 * US, 10 * US, 90 * US);
	clock_estimate_pair(t->a, t->b, &e);
	/* half the smallest round trip */
	assert_estimate(&e, -2000000 * US, 50 * US);
	assert_int_equal(e.offset_ns, -2000000 * US - 40 * US);
}

static void test_one_direction_gives_nothing(void **state)
{
	struct two *t = *state;
	struct clock_estimate e;

	for (int i = 0; i < 50; i++) {
		clock_samples__add(t->a, CLOCK_ECHO, 0, (uint64_t)i, T0 + i * US);
		clock_samples__add(t->b, CLOCK_ECHO, 0, (uint64_t)i, T0 + i * US + 20 * US);
	}
	clock_estimate_pair(t->a, t->b, &e);
	assert_false(e.valid);
	assert_int_equal(e.matched, 50);
}

static void test_no_common_packet(void **state)
{
	struct two *t = *state;
	struct clock_estimate e;

	clock_samples__add(t->a, CLOCK_STREAM, 0, 1, T0);
	clock_samples__add(t->b, CLOCK_STREAM, 0, 2, T0);
	clock_samples__add(t->b, CLOCK_STREAM, 1, 3, T0);
	clock_estimate_pair(t->a, t->b, &e);
	assert_false(e.valid);
	assert_int_equal(e.matched, 0);
}

/* A retransmitted segment is seen twice at A; the first sighting is the one
 * that bounds the offset (the copy B saw left A no earlier than that). */
static void test_first_sighting_kept(void **state)
{
	struct two *t = *state;
	struct clock_estimate e;

	exchange(t, CLOCK_STREAM, 20, 0, 20 * US, 20 * US);
	assert_int_equal(clock_samples__add(t->a, CLOCK_STREAM, 0, 5, T0 + 999 * US), 0);
	clock_estimate_pair(t->a, t->b, &e);
	assert_estimate(&e, 0, 20 * US);
	assert_int_equal(e.offset_ns, 0);
}

static void test_kinds_intersect(void **state)
{
	struct two *t = *state;
	struct clock_estimate e;

	/* the stream bounds theta to [-60, +60] us around 1 ms, the echoes to
	 * [-20, +20]: together the tighter one holds */
	exchange(t, CLOCK_STREAM, 30, 1000 * US, 60 * US, 60 * US);
	exchange(t, CLOCK_ECHO, 30, 1000 * US, 20 * US, 20 * US);
	clock_estimate_pair(t->a, t->b, &e);
	assert_estimate(&e, 1000 * US, 20 * US);
}

/* ctl shares only probes with the source, the destination only the stream:
 * the destination-to-ctl offset comes through the source. */
static void test_solve_chains(void **state)
{
	struct clock_samples *in[3];
	struct clock_estimate out[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		in[i] = clock_samples__new();
	for (int i = 0; i < 40; i++) {
		int64_t t = T0 + i * 1000 * US;

		clock_samples__add(in[0], CLOCK_STREAM, 0, (uint64_t)i, t);
		clock_samples__add(in[1], CLOCK_STREAM, 0, (uint64_t)i, t + 10 * US + 3 * US);
		clock_samples__add(in[1], CLOCK_STREAM, 1, (uint64_t)i, t + 500 * US + 3 * US);
		clock_samples__add(in[0], CLOCK_STREAM, 1, (uint64_t)i, t + 510 * US);
		/* probes: ctl (clock -7 ms) -> source NIC -> ctl */
		clock_samples__add(in[2], CLOCK_ECHO, 0, (uint64_t)i, t - 7000 * US);
		clock_samples__add(in[0], CLOCK_ECHO, 0, (uint64_t)i, t + 40 * US);
		clock_samples__add(in[0], CLOCK_ECHO, 1, (uint64_t)i, t + 100 * US);
		clock_samples__add(in[2], CLOCK_ECHO, 1, (uint64_t)i, t + 140 * US - 7000 * US);
	}
	clock_solve((const struct clock_samples *const *)in, 3, 1, out);
	assert_true(out[1].valid);
	assert_int_equal(out[1].offset_ns, 0);
	assert_estimate(&out[0], -3 * US, 10 * US);
	assert_estimate(&out[2], -7003 * US, 50 * US);
	for (int i = 0; i < 3; i++)
		clock_samples__free(in[i]);
}

static void test_table_cap(void **state)
{
	struct two *t = *state;
	uint64_t k = 0;
	int rc;

	while ((rc = clock_samples__add(t->a, CLOCK_STREAM, 0, k, T0)) == 0)
		k++;
	assert_int_equal(rc, -ENOSPC);
	assert_true(clock_samples__full(t->a));
	assert_int_equal(k, CLOCK_TABLE_SLOTS / 4 * 3);
	/* a key already held is still accepted */
	assert_int_equal(clock_samples__add(t->a, CLOCK_STREAM, 0, 7, T0), 0);
}

static void test_sampling_rule(void **state)
{
	unsigned kept = 0;

	(void)state;
	for (uint64_t k = 0; k < 160000; k++)
		kept += clock_samples__wanted(CLOCK_STREAM, k);
	/* one in CLOCK_STREAM_SAMPLE, by a hash both captures compute alike */
	assert_true(kept > 160000 / CLOCK_STREAM_SAMPLE * 9 / 10);
	assert_true(kept < 160000 / CLOCK_STREAM_SAMPLE * 11 / 10);
	assert_true(clock_samples__wanted(CLOCK_ECHO, 12345));
}

static void assert_same_estimate(const struct clock_estimate *x, const struct clock_estimate *y)
{
	assert_int_equal(x->valid, y->valid);
	assert_int_equal(x->offset_ns, y->offset_ns);
	assert_int_equal(x->uncertainty_ns, y->uncertainty_ns);
	assert_int_equal(x->matched, y->matched);
}

/* A sighting of the pseudo-random sequence i: keys repeat (a retransmit's
 * copies), both kinds and directions, more distinct keys than the cap. */
static void nth_sighting(uint64_t i, enum clock_kind *kind, int *dir, uint64_t *key, int64_t *ts)
{
	uint64_t x = clock_key_mix(i + 1);

	*kind = (enum clock_kind)(x & 1);
	*dir = (int)(x >> 1 & 1);
	*key = x >> 2 & 0x7fff;
	*ts = T0 + (int64_t)i * US + (int64_t)(x >> 20 & 0xff);
}

/* Queued inserts leave the table as inserts at once do, whether it fills or
 * not: the same sightings, the first of each key, the same cap. */
static void test_queued_same_as_at_once(void **state)
{
	struct two *t = *state;
	struct clock_samples *c = clock_samples__new();
	struct clock_estimate at_once, queued;
	enum clock_kind kind;
	int64_t ts;
	uint64_t key;
	int dir;

	assert_non_null(c);
	for (uint64_t n = 1000; n <= 60000; n += 59000) {
		struct clock_samples *a = clock_samples__new(), *b = clock_samples__new();
		bool a_full = false, b_full = false;

		assert_non_null(a);
		assert_non_null(b);
		for (uint64_t i = 0; i < n; i++) {
			nth_sighting(i, &kind, &dir, &key, &ts);
			if (!a_full)
				a_full = clock_samples__add(a, kind, dir, key, ts) == -ENOSPC;
			if (!b_full)
				b_full = clock_samples__add_queued(b, kind, dir, key, ts) == -ENOSPC;
			/* c: every key, later, both ways (deltas tell sightings apart) */
			clock_samples__add(c, kind, dir, key, ts + 40 * US + (int64_t)(i % 5));
		}
		assert_int_equal(clock_samples__flush(b), b_full ? -ENOSPC : a_full ? -ENOSPC : 0);
		assert_int_equal(clock_samples__full(a), clock_samples__full(b));
		assert_int_equal(clock_samples__full(a), n > CLOCK_TABLE_SLOTS);
		clock_estimate_pair(a, c, &at_once);
		clock_estimate_pair(b, c, &queued);
		assert_same_estimate(&at_once, &queued);
		assert_true(at_once.matched > 0);
		clock_estimate_pair(c, a, &at_once);
		clock_estimate_pair(c, b, &queued);
		assert_same_estimate(&at_once, &queued);
		clock_samples__free(a);
		clock_samples__free(b);
	}
	clock_samples__free(c);
	(void)t;
}

/* clock_solve matches each pair of captures once and mirrors it: the
 * estimate either way is what clock_estimate_pair gives that way, also when
 * the interval's width is odd (the midpoints round apart). */
static void test_solve_mirrors_pairs(void **state)
{
	struct two *t = *state;
	const struct clock_samples *in[2] = { t->a, t->b };
	struct clock_estimate solved[2], direct, way[2];

	for (int i = 0; i < 30; i++) {
		int64_t sent = T0 + i * 100 * US;

		clock_samples__add(t->a, CLOCK_STREAM, 0, (uint64_t)i, sent);
		clock_samples__add(t->b, CLOCK_STREAM, 0, (uint64_t)i, sent + 1234567 + 20 * US + i);
		clock_samples__add(t->b, CLOCK_STREAM, 1, (uint64_t)i, sent + 50 * US);
		clock_samples__add(t->a, CLOCK_STREAM, 1, (uint64_t)i,
				   sent + 50 * US - 1234567 + 17 * US + 1);
	}
	for (int ref = 0; ref < 2; ref++) {
		clock_solve(in, 2, ref, solved);
		clock_estimate_pair(in[ref], in[!ref], &direct);
		assert_true(direct.valid);
		assert_int_equal(direct.uncertainty_ns, (37 * US + 1 + 1) / 2);
		assert_same_estimate(&solved[!ref], &direct);
		way[ref] = direct;
	}
	/* a width of 37001 ns: B's midpoint from A and A's from B one apart */
	assert_int_equal(way[0].offset_ns + way[1].offset_ns, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_symmetric_delays_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_asymmetric_within_uncertainty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_direction_gives_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_common_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_sighting_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kinds_intersect, setup, teardown),
		cmocka_unit_test(test_solve_chains),
		cmocka_unit_test_setup_teardown(test_table_cap, setup, teardown),
		cmocka_unit_test(test_sampling_rule),
		cmocka_unit_test_setup_teardown(test_queued_same_as_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_solve_mirrors_pairs, setup, teardown),
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
