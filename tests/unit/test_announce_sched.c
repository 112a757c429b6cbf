/*
 * Unit tests of analysis/announce_sched.c: QEMU's announce schedule, the
 * --announce parameters, and the matching of RARP sightings per capture to
 * rounds and bursts. Sightings are given as the guest set records them
 * (struct announce, in time order); captures 0, 1, 2 are src, dst, ctl.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/announce_sched.h"

#define MS INT64_C(1000000)
#define US INT64_C(1000)
#define END INT64_C(1700000001000000000)
#define RESUME (END + 5 * MS)

enum { SRC, DST, CTL };

static const int64_t DEFAULT_AT[5] = { 0, 50 * MS, 200 * MS, 450 * MS, 800 * MS };

struct sightings {
	struct announce a[256];
	uint32_t n;
};

static void see(struct sightings *s, int input, int64_t ts, uint8_t kind)
{
	assert_true(s->n < 256);
	s->a[s->n++] = (struct announce){ .ts_ns = ts, .kind = kind, .input = (uint8_t)input };
}

static int cmp_announce(const void *a, const void *b)
{
	int64_t x = ((const struct announce *)a)->ts_ns, y = ((const struct announce *)b)->ts_ns;

	return (x > y) - (x < y);
}

/* One RARP burst from `from` at the given offsets, at dst and (unless
 * lost_at_ctl has the round's bit) 40 us later at ctl. */
static void burst(struct sightings *s, int64_t from, const int64_t *at, int n, uint32_t lost_at_ctl)
{
	for (int k = 0; k < n; k++) {
		see(s, DST, from + at[k], ANNOUNCE_RARP);
		if (!(lost_at_ctl >> k & 1))
			see(s, CTL, from + at[k] + 40 * US, ANNOUNCE_RARP);
	}
}

static void check(struct sightings *s, const struct announce_params *p, int dst,
		  struct report_switchover *out)
{
	struct switchover sw = {
		.ninputs = 3, .src = SRC, .dst = dst, .prober = 1u << CTL,
		.start_ns = END - 1000 * MS, .end_ns = END,
		.window_lo = INT64_MIN, .window_hi = INT64_MAX, .target = -1,
		.vantage = { "src", "dst", "ctl" }, .resume_ns = RESUME, .resume_basis = "rarp_at_dst",
	};

	qsort(s->a, s->n, sizeof(s->a[0]), cmp_announce);
	sw.announces = s->a;
	sw.nannounces = s->n;
	memset(out, 0, sizeof(*out));
	announce_sched_check(&sw, p, RESUME, out);
}

static struct announce_params defaults(void)
{
	struct announce_params p;

	announce_params_default(&p);
	return p;
}

/* ---- parameters --------------------------------------------------------- */

static void test_default_offsets(void **state)
{
	struct announce_params p = defaults();

	(void)state;
	for (int k = 0; k < 5; k++)
		assert_int_equal(announce_round_offset_ns(&p, k), DEFAULT_AT[k]);
}

/* initial 10, max 100, 6 rounds, step 40: gaps 10, 50, 90, then 130 capped
 * to 100 twice, as QEMU's qemu_announce_timer_step() computes them. */
static void test_custom_offsets(void **state)
{
	static const int64_t want[6] = { 0, 10, 60, 150, 250, 350 };
	struct announce_params p;

	(void)state;
	assert_int_equal(announce_params_parse("10,100,6,40", &p), 0);
	assert_int_equal(p.initial_ms, 10);
	assert_int_equal(p.max_ms, 100);
	assert_int_equal(p.rounds, 6);
	assert_int_equal(p.step_ms, 40);
	for (int k = 0; k < 6; k++)
		assert_int_equal(announce_round_offset_ns(&p, k), want[k] * MS);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "50", "50,550,5", "50,550,5,100,1", "a,550,5,100", "50,550,5,100x", " 50,550,5,100",
		"-1,550,5,100", "0,550,5,100", "50,0,5,100", "50,550,17,100", "50,550,5,0",
		"100001,550,5,100", "99999999999999999999,550,5,100", "50,,5,100", "50,550,5,",
	};
	struct announce_params p = defaults(), before = p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (announce_params_parse(bad[i], &p) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_memory_equal(&p, &before, sizeof(p));
	}
	assert_int_equal(announce_params_parse("1,1,0,1", &p), 0);
	assert_int_equal(p.rounds, 0);
}

/* ---- matching ----------------------------------------------------------- */

static void test_exact_schedule(void **state)
{
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };
	const struct report_announce_sched *r = &out.sched;

	(void)state;
	burst(&s, RESUME, DEFAULT_AT, 5, 0);
	check(&s, &p, DST, &out);
	assert_true(r->checked);
	assert_int_equal(r->anchor, DST);
	assert_int_equal(r->tolerance_ns, ANNOUNCE_TOLERANCE_NS);
	assert_int_equal(r->nbursts, 1);
	for (int k = 0; k < 5; k++) {
		assert_int_equal(r->burst[0].round[k].expected_ns, RESUME + DEFAULT_AT[k]);
		assert_int_equal(r->burst[0].round[k].seen_ns[DST], RESUME + DEFAULT_AT[k]);
		assert_int_equal(r->burst[0].round[k].seen_ns[CTL], RESUME + DEFAULT_AT[k] + 40 * US);
		assert_int_equal(r->burst[0].round[k].seen_ns[SRC], 0);
	}
	assert_int_equal(r->unmatched[DST] + r->unmatched[CTL], 0);
}

/* Each round 15 ms later than the schedule counts from the round before
 * (QEMU re-arms its timer when it fires): all matched. A RARP 30 ms away
 * from any round is not. */
static void test_late_rounds_and_a_stray(void **state)
{
	static const int64_t late[5] = { 0, 65 * MS, 230 * MS, 495 * MS, 860 * MS };
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	burst(&s, RESUME, late, 5, 0);
	see(&s, DST, RESUME + 130 * MS, ANNOUNCE_RARP);
	check(&s, &p, DST, &out);
	assert_int_equal(out.sched.nbursts, 1);
	for (int k = 0; k < 5; k++)
		assert_int_equal(out.sched.burst[0].round[k].seen_ns[DST], RESUME + late[k]);
	assert_int_equal(out.sched.unmatched[DST], 1);
	assert_int_equal(out.sched.unmatched[CTL], 0);
}

/* Round 2 never left dst; ctl saw it anyway (mirrored from a port the
 * capture did not see): matched by the schedule from round 1. */
static void test_missing_round_at_anchor(void **state)
{
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	for (int k = 0; k < 5; k++) {
		if (k != 2)
			see(&s, DST, RESUME + DEFAULT_AT[k], ANNOUNCE_RARP);
		see(&s, CTL, RESUME + DEFAULT_AT[k] + 40 * US, ANNOUNCE_RARP);
	}
	check(&s, &p, DST, &out);
	assert_int_equal(out.sched.nbursts, 1);
	assert_int_equal(out.sched.burst[0].round[2].seen_ns[DST], 0);
	assert_int_equal(out.sched.burst[0].round[2].seen_ns[CTL], RESUME + DEFAULT_AT[2] + 40 * US);
	assert_int_equal(out.sched.burst[0].round[3].seen_ns[DST], RESUME + DEFAULT_AT[3]);
	assert_int_equal(out.sched.unmatched[CTL], 0);
	/* a round the anchor missed is no round lost on the way to the prober */
	assert_int_equal(out.sched.burst[0].missing[DST], 1u << 2);
	assert_int_equal(out.sched.burst[0].missing[CTL], 0);
	assert_int_equal(out.sched.burst[0].not_at_prober, 0);
}

/* Rounds 2-4 left dst and never reached the prober. */
static void test_lost_on_the_way(void **state)
{
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	burst(&s, RESUME, DEFAULT_AT, 5, 0x1c);
	check(&s, &p, DST, &out);
	for (int k = 0; k < 5; k++)
		assert_true((out.sched.burst[0].round[k].seen_ns[CTL] != 0) == (k < 2));
	/* the figures every report shows of it */
	assert_int_equal(out.sched.burst[0].seen[DST], 5);
	assert_int_equal(out.sched.burst[0].seen[CTL], 2);
	assert_int_equal(out.sched.burst[0].seen[SRC], 0);
	assert_int_equal(out.sched.burst[0].missing[CTL], 0x1c);
	assert_int_equal(out.sched.burst[0].missing[SRC], 0x1f);
	assert_int_equal(out.sched.burst[0].missing[DST], 0);
	assert_int_equal(out.sched.burst[0].not_at_prober, 0x1c);
	assert_int_equal(out.sched.burst[0].start_ns, RESUME);
	assert_int_equal(out.sched.burst[0].t_ns, 0); /* t = 0 at the resume */
	for (int k = 0; k < 5; k++)
		assert_int_equal(out.sched.round_offset_ns[k], DEFAULT_AT[k]);
}

/* announce-self 5 s later: a second burst. */
static void test_second_burst(void **state)
{
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	burst(&s, RESUME, DEFAULT_AT, 5, 0x1f);
	burst(&s, RESUME + 5000 * MS, DEFAULT_AT, 5, 0);
	check(&s, &p, DST, &out);
	assert_int_equal(out.sched.nbursts, 2);
	assert_int_equal(out.sched.burst[1].round[0].seen_ns[DST], RESUME + 5000 * MS);
	assert_int_equal(out.sched.burst[0].round[0].seen_ns[CTL], 0);
	assert_int_equal(out.sched.burst[1].round[4].seen_ns[CTL], RESUME + 5800 * MS + 40 * US);
	assert_int_equal(out.sched.unmatched[DST] + out.sched.unmatched[CTL], 0);
}

/* Six bursts: four detailed, two counted; none of theirs unmatched. */
static void test_burst_cap(void **state)
{
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	for (int b = 0; b < REPORT_MAX_BURSTS + 2; b++)
		burst(&s, RESUME + b * 2000 * MS, DEFAULT_AT, 5, 0);
	check(&s, &p, DST, &out);
	assert_int_equal(out.sched.nbursts, REPORT_MAX_BURSTS);
	assert_int_equal(out.sched.more_bursts, 2);
	assert_int_equal(out.sched.unmatched[DST] + out.sched.unmatched[CTL], 0);
}

/* No destination capture: the bursts are found at the prober. */
static void test_anchor_without_dst(void **state)
{
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	for (int k = 0; k < 5; k++)
		see(&s, CTL, RESUME + DEFAULT_AT[k], ANNOUNCE_RARP);
	check(&s, &p, -1, &out);
	assert_int_equal(out.sched.anchor, CTL);
	assert_int_equal(out.sched.nbursts, 1);
	assert_int_equal(out.sched.burst[0].round[4].seen_ns[CTL], RESUME + 800 * MS);
}

/* announce-rounds 0: nothing expected, every RARP unmatched. */
static void test_zero_rounds(void **state)
{
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	p.rounds = 0;
	burst(&s, RESUME, DEFAULT_AT, 2, 0);
	check(&s, &p, DST, &out);
	assert_int_equal(out.sched.nbursts, 0);
	assert_int_equal(out.sched.unmatched[DST], 2);
	assert_int_equal(out.sched.unmatched[CTL], 2);
}

/* A 10 ms initial gap: the tolerance shrinks to 4 ms so rounds 0 and 1
 * cannot be confused. Away from the destination NIC (where rounds can be
 * lost on the way) a RARP 5 ms off round 1 is no round; round 2 is timed
 * from round 0's schedule. */
static void test_tolerance_shrinks(void **state)
{
	struct announce_params p = { .initial_ms = 10, .max_ms = 550, .rounds = 3, .step_ms = 100 };
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	see(&s, CTL, RESUME, ANNOUNCE_RARP);
	see(&s, CTL, RESUME + 15 * MS, ANNOUNCE_RARP);  /* 5 ms off round 1 */
	see(&s, CTL, RESUME + 120 * MS, ANNOUNCE_RARP); /* round 2 at 10 + 110 */
	check(&s, &p, -1, &out);
	assert_int_equal(out.sched.anchor, CTL);
	assert_int_equal(out.sched.tolerance_ns, 4 * MS);
	assert_int_equal(out.sched.burst[0].round[1].seen_ns[CTL], 0);
	assert_int_equal(out.sched.burst[0].round[2].seen_ns[CTL], RESUME + 120 * MS);
	assert_int_equal(out.sched.unmatched[CTL], 1);
}

/* At the destination NIC every round shows, in order: one that comes late is
 * that round, late, and QEMU times the next from it (its timer is re-armed
 * when a round fires). A postcopy run's rounds came 500, 150, 250 and 350 ms
 * apart: round 1 450 ms late, the others on time from it. */
static void test_late_rounds_at_the_destination(void **state)
{
	static const int64_t at[5] = { 0, 500 * MS, 650 * MS, 900 * MS, 1250 * MS };
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	burst(&s, RESUME, at, 5, 0);
	check(&s, &p, DST, &out);
	assert_int_equal(out.sched.nbursts, 1);
	assert_int_equal(out.sched.burst[0].seen[DST], 5);
	assert_int_equal(out.sched.burst[0].seen[CTL], 5);
	assert_int_equal(out.sched.unmatched[DST], 0);
	assert_int_equal(out.sched.burst[0].round[1].late_ns.v, 450 * MS);
	for (int k = 2; k < 5; k++) {
		assert_int_equal(out.sched.burst[0].round[k].seen_ns[DST], RESUME + at[k]);
		assert_true(out.sched.burst[0].round[k].late_ns.set);
		assert_int_equal(out.sched.burst[0].round[k].late_ns.v, 0);
	}
	/* a round seen elsewhere is timed against the anchor's sighting */
	assert_int_equal(out.sched.burst[0].round[3].seen_ns[CTL], RESUME + at[3] + 40 * US);
}

/* The guest's own GARP and NA, timed from the resume at dst. */
static void test_guest_announce(void **state)
{
	struct announce_params p = defaults();
	struct report_switchover out;
	struct sightings s = { 0 };

	(void)state;
	burst(&s, RESUME, DEFAULT_AT, 5, 0);
	see(&s, DST, RESUME + 19 * MS, ANNOUNCE_NA);
	see(&s, DST, RESUME + 41 * MS, ANNOUNCE_GARP);
	see(&s, CTL, RESUME + 41 * MS + 40 * US, ANNOUNCE_GARP);
	see(&s, DST, RESUME + 95 * MS, ANNOUNCE_GARP);
	check(&s, &p, DST, &out);
	assert_int_equal(out.sched.guest_input, DST);
	assert_int_equal(out.sched.guest_garps, 2);
	assert_int_equal(out.sched.guest_nas, 1);
	assert_int_equal(out.sched.guest_garp_after_resume_ns.v, 41 * MS);
	assert_int_equal(out.sched.guest_na_after_resume_ns.v, 19 * MS);
	/* GARPs and NAs are never rounds */
	assert_int_equal(out.sched.unmatched[DST] + out.sched.unmatched[CTL], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_offsets),
		cmocka_unit_test(test_custom_offsets),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_exact_schedule),
		cmocka_unit_test(test_late_rounds_and_a_stray),
		cmocka_unit_test(test_missing_round_at_anchor),
		cmocka_unit_test(test_lost_on_the_way),
		cmocka_unit_test(test_second_burst),
		cmocka_unit_test(test_burst_cap),
		cmocka_unit_test(test_anchor_without_dst),
		cmocka_unit_test(test_zero_rounds),
		cmocka_unit_test(test_tolerance_shrinks),
		cmocka_unit_test(test_late_rounds_at_the_destination),
		cmocka_unit_test(test_guest_announce),
	};

	return cmocka_run_group_tests_name("announce_sched", tests, NULL, NULL);
}
