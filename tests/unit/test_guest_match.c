/*
 * Unit tests of analysis/guest_match.c: each migration gets the guest whose
 * RARP burst follows its switchover, concurrent migrations each their own,
 * a guest moved there and back both of its migrations, a migration no
 * announcement names none, the destination's close of each stream
 * telling apart streams that ended together, closes so late that they lie
 * beside the next guest's announcement, and ties put in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/guest_match.h"

#define T0 INT64_C(1700000000000000000)
#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

static struct pkt_meta rarp(const uint8_t mac[6])
{
	struct pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.kind = PKT_KIND_RARP;
	memcpy(m.eth_src, mac, 6);
	memcpy(m.arp_sha, mac, 6);
	return m;
}

static void mac_of(int k, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x52, 0x54, 0x00, 0xee, 0, (uint8_t)k };

	memcpy(mac, m, 6);
}

/* QEMU's five rounds for guest k from `at`, at the destination NIC (1). */
static void announce(struct guest_set *s, int k, int64_t at)
{
	static const int64_t round[5] = { 0, 50 * MS, 200 * MS, 450 * MS, 800 * MS };
	const struct switch_refs none = { 0 };
	uint8_t mac[6];

	mac_of(k, mac);
	for (int r = 0; r < 5; r++) {
		struct pkt_meta m = rarp(mac);

		guest_set__frame(s, 1, at + round[r], &m, &none);
	}
}

static int mac_index(const struct guest_set *s, int k)
{
	uint8_t mac[6];

	mac_of(k, mac);
	for (int i = 0; i < guest_set__nmacs(s); i++)
		if (!memcmp(guest_set__mac(s, i)->mac, mac, 6))
			return i;
	return -2;
}

static struct mig_stream stream(int64_t first, int64_t last_data)
{
	return (struct mig_stream){ .first_ns = first, .last_ns = last_data + 2 * MS,
				    .last_data_ns = last_data };
}

/* Three guests at once, their streams overlapping, announced in an order
 * that is not the streams' (guest 2 first fed): each gets its own. */
static void test_concurrent(void **state)
{
	struct guest_set *s = guest_set__new(NULL);
	struct mig_stream ms[3] = { stream(T0, T0 + 600 * MS), stream(T0 + 37 * MS, T0 + 670 * MS),
				    stream(T0 + 74 * MS, T0 + 640 * MS) };
	int mac[3];

	(void)state;
	assert_non_null(s);
	announce(s, 0, T0 + 603 * MS);
	announce(s, 2, T0 + 643 * MS);
	announce(s, 1, T0 + 673 * MS);
	assert_int_equal(guest_match(s, ms, 3, mac), 0);
	assert_int_equal(mac[0], mac_index(s, 0));
	assert_int_equal(mac[1], mac_index(s, 1));
	assert_int_equal(mac[2], mac_index(s, 2));
	guest_set__free(s);
}

/* One guest there and back: its two bursts, one per migration; a third
 * migration (another guest's, whose RARPs no capture saw) gets none. */
static void test_back_and_forth_and_silent(void **state)
{
	struct guest_set *s = guest_set__new(NULL);
	struct mig_stream ms[3] = { stream(T0, T0 + 1 * SEC), stream(T0 + 5 * SEC, T0 + 6 * SEC),
				    stream(T0 + 20 * SEC, T0 + 21 * SEC) };
	int mac[3];

	(void)state;
	assert_non_null(s);
	announce(s, 0, T0 + 1 * SEC + 3 * MS);
	announce(s, 0, T0 + 6 * SEC + 3 * MS);
	assert_int_equal(guest_match(s, ms, 3, mac), 0);
	assert_int_equal(mac[0], mac_index(s, 0));
	assert_int_equal(mac[1], mac_index(s, 0));
	assert_int_equal(mac[2], -1);
	guest_set__free(s);
}

/* Postcopy: the guest resumes (and QEMU announces it) long before its
 * stream ends; a precopy guest's burst nearer that end is still its own. */
static void test_postcopy_beside_precopy(void **state)
{
	struct guest_set *s = guest_set__new(NULL);
	struct mig_stream ms[2] = { stream(T0, T0 + 10 * SEC), stream(T0 + 100 * MS, T0 + 8 * SEC) };
	int mac[2];

	(void)state;
	assert_non_null(s);
	announce(s, 0, T0 + 5 * SEC);            /* postcopy: resumed mid-stream */
	announce(s, 1, T0 + 8 * SEC + 3 * MS);   /* precopy: just after its end */
	assert_int_equal(guest_match(s, ms, 2, mac), 0);
	assert_int_equal(mac[0], mac_index(s, 0));
	assert_int_equal(mac[1], mac_index(s, 1));
	guest_set__free(s);
}

/* A live evacuation's case: two streams whose last data came within 0.1 ms
 * of each other, the destination loading guest 2 in 20 ms and guest 0 in
 * 51 ms. From the last data alone either pairing is as near; where the
 * destination closed each stream (just after it announced) tells them. */
static void test_close_tells_equal_ends(void **state)
{
	struct guest_set *s = guest_set__new(NULL);
	struct mig_stream ms[2] = { stream(T0, T0 + 759600 * 1000), stream(T0 + 1 * MS, T0 + 759500 * 1000) };
	int mac[2];

	(void)state;
	assert_non_null(s);
	ms[0].close_ns = T0 + 812 * MS;
	ms[1].close_ns = T0 + 781 * MS;
	announce(s, 2, T0 + 780 * MS);
	announce(s, 0, T0 + 810 * MS);
	assert_int_equal(guest_match(s, ms, 2, mac), 0);
	assert_int_equal(mac[0], mac_index(s, 0));
	assert_int_equal(mac[1], mac_index(s, 2));
	guest_set__free(s);
}

/* Three streams, guest k's as given in us from T0 (start, last data, the
 * destination's close, guest k's announcement): each must get its own. */
enum { AT_START, AT_END, AT_CLOSE, AT_ANNOUNCE };
static void assert_three_matched(const int64_t at_us[3][4])
{
	struct guest_set *s = guest_set__new(NULL);
	struct mig_stream ms[3];
	int mac[3], order[3] = { 0, 1, 2 };

	assert_non_null(s);
	for (int k = 0; k < 3; k++) {
		ms[k] = stream(T0 + at_us[k][AT_START] * 1000, T0 + at_us[k][AT_END] * 1000);
		ms[k].close_ns = T0 + at_us[k][AT_CLOSE] * 1000;
	}
	/* announced in time order, as the captures are read */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (at_us[order[j]][AT_ANNOUNCE] < at_us[order[i]][AT_ANNOUNCE]) {
				int t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
	for (int i = 0; i < 3; i++)
		announce(s, order[i], T0 + at_us[order[i]][AT_ANNOUNCE] * 1000);
	assert_int_equal(guest_match(s, ms, 3, mac), 0);
	for (int k = 0; k < 3; k++)
		assert_int_equal(mac[k], mac_index(s, k));
	guest_set__free(s);
}

/* A live evacuation's case under load (lab_live once failed on it): guest
 * 2's destination closed its stream 14 ms after announcing, just after guest
 * 0 announced; guest 0's closed 5 ms after its own. Nearest first gave guest
 * 0's announcement to guest 2's stream (0.8 ms away) and the other to guest
 * 0's. Both streams ended before both announcements and were closed after
 * both: only their order tells, the first closed the first resumed. */
static void test_late_close_keeps_order(void **state)
{
	static const int64_t at_us[3][4] = { { 0, 624200, 655200, 650200 },
					      { 20000, 560000, 591000, 590000 },
					      { 70000, 614900, 651000, 637100 } };

	(void)state;
	assert_three_matched(at_us);
}

/* Two streams, no close in view, both ended before both announcements
 * (15 ms apart): either pairing is as near in sum, and the first ended is
 * the first resumed, whichever began first. */
static void assert_first_ended_first_resumed(int64_t end0, int64_t end1)
{
	struct guest_set *s = guest_set__new(NULL);
	struct mig_stream ms[2] = { stream(T0, end0), stream(T0 + 30 * MS, end1) };
	int mac[2];

	assert_non_null(s);
	announce(s, 0, T0 + 630 * MS);
	announce(s, 1, T0 + 645 * MS);
	assert_int_equal(guest_match(s, ms, 2, mac), 0);
	assert_int_equal(mac[0], mac_index(s, end0 < end1 ? 0 : 1));
	assert_int_equal(mac[1], mac_index(s, end0 < end1 ? 1 : 0));
	guest_set__free(s);
}

static void test_no_close_first_ended_first_resumed(void **state)
{
	(void)state;
	assert_first_ended_first_resumed(T0 + 600 * MS, T0 + 610 * MS);
	assert_first_ended_first_resumed(T0 + 610 * MS, T0 + 600 * MS);
}

/* The generator's evacuate-3-late-close: three guests at once resuming 13
 * ms apart, each stream ending 3 ms before its guest resumed, so guest 1's
 * still ran when guest 0 resumed; guest 0's destination closed 14 ms after
 * announcing, 1 ms after guest 1's announcement. Nearest first gave guest
 * 1's burst to guest 0's stream, and guest 0's to guest 1's, whose data then
 * ran on 10 ms past its resume (postcopy); each gets its own. */
static void test_late_close_beside_running_stream(void **state)
{
	static const int64_t at_us[3][4] = { { 0, 599000, 616000, 602000 },
					      { 13000, 612000, 617000, 615000 },
					      { 26000, 625000, 628300, 628000 } };

	(void)state;
	assert_three_matched(at_us);
}

/* n guests at once, their streams started `spacing` apart and as long, each
 * resumed 3 ms after its last data and its destination closing `lag` after
 * that: each must get its own. */
static void assert_wave_matched(int n, int64_t spacing, int64_t lag)
{
	struct guest_set *s = guest_set__new(NULL);
	struct mig_stream ms[8];
	int mac[8];

	assert_non_null(s);
	assert_true(n <= 8);
	for (int k = 0; k < n; k++) {
		ms[k] = stream(T0 + k * spacing, T0 + 600 * MS + k * spacing);
		ms[k].close_ns = T0 + 603 * MS + lag + k * spacing;
		announce(s, k, T0 + 603 * MS + k * spacing);
	}
	assert_int_equal(guest_match(s, ms, n, mac), 0);
	for (int k = 0; k < n; k++)
		assert_int_equal(mac[k], mac_index(s, k));
	guest_set__free(s);
}

/* Guests resuming 20 ms apart, each destination closing 11 ms after its
 * announcement: every close is nearer the next guest's announcement (9 ms)
 * than its own. One after a stream's close is not its guest (QEMU announces
 * before it closes): each gets its own, not its neighbour's down the wave. */
static void test_announcement_after_close_not_taken(void **state)
{
	(void)state;
	assert_wave_matched(4, 20 * MS, 11 * MS);
}

/* Five at once resuming 7 ms apart, closing 10 ms after: each close lies 3
 * ms after the next guest's announcement and 10 after its own. Nearest
 * first hands every stream its neighbour's and the last the first guest's,
 * who resumed 28 ms before that stream's last data; the least-cost
 * assignment has no guest resume during its own stream. */
static void test_chain_of_late_closes(void **state)
{
	(void)state;
	assert_wave_matched(5, 7 * MS, 10 * MS);
}

/* Three at once, each destination closing 10 ms after it resumed: streams 1
 * and 2 were closed after both of their announcements, stream 1 ended 6 ms
 * before stream 2 but loaded 11 ms longer, so their ends and closes come in
 * opposite orders and either pairing is as near in sum. The close, nearer
 * the resume than the last data by the device-state load, orders them: the
 * first closed was the first resumed. */
static void test_tie_closes_order_over_ends(void **state)
{
	static const int64_t at_us[3][4] = { { 0, 599000, 619000, 609000 },
					      { 6000, 605000, 634000, 624000 },
					      { 12000, 611000, 629000, 619000 } };

	(void)state;
	assert_three_matched(at_us);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_back_and_forth_and_silent),
		cmocka_unit_test(test_postcopy_beside_precopy),
		cmocka_unit_test(test_close_tells_equal_ends),
		cmocka_unit_test(test_late_close_keeps_order),
		cmocka_unit_test(test_no_close_first_ended_first_resumed),
		cmocka_unit_test(test_late_close_beside_running_stream),
		cmocka_unit_test(test_announcement_after_close_not_taken),
		cmocka_unit_test(test_chain_of_late_closes),
		cmocka_unit_test(test_tie_closes_order_over_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
