/*
 * Unit tests of the small pure helpers: port sets, percentiles, address text
 * conversions, the fixed-point unit renderings and the JSON writer. Every
 * expectation is an exact value or an exact string, so a rounding or escaping
 * change shows up here before it reaches a golden report.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/addr.h"
#include "analysis/portset.h"
#include "analysis/stats.h"
#include "reports/json_writer.h"
#include "reports/units.h"

/* ---- portset ---------------------------------------------------------- */

static unsigned int portset_count(const struct portset *set)
{
	unsigned int n = 0;

	for (size_t i = 0; i < sizeof(set->bits) / sizeof(set->bits[0]); i++)
		n += (unsigned int)__builtin_popcountll(set->bits[i]);
	return n;
}

static void test_portset_default(void **state)
{
	struct portset set;

	(void)state;
	assert_int_equal(portset_parse(&set, PORTSET_DEFAULT), 0);
	assert_int_equal(portset_count(&set), 64 + 2);
	assert_true(portset_has(&set, 49152));
	assert_true(portset_has(&set, 49215));
	assert_true(portset_has(&set, 16509));
	assert_true(portset_has(&set, 16514));
	assert_false(portset_has(&set, 49151));
	assert_false(portset_has(&set, 49216));
	assert_false(portset_has(&set, 16510));
	assert_false(portset_has(&set, 0));
}

static void test_portset_bounds(void **state)
{
	struct portset set;

	(void)state;
	assert_int_equal(portset_parse(&set, "1-65535"), 0);
	assert_int_equal(portset_count(&set), 65535);
	assert_false(portset_has(&set, 0));
	assert_true(portset_has(&set, 65535));

	assert_int_equal(portset_parse(&set, "65535"), 0);
	assert_int_equal(portset_count(&set), 1);
	assert_true(portset_has(&set, 65535));

	/* a one-port range, and bits that straddle a 64-bit word */
	assert_int_equal(portset_parse(&set, "7-7,63-64"), 0);
	assert_int_equal(portset_count(&set), 3);
	assert_true(portset_has(&set, 7));
	assert_true(portset_has(&set, 63));
	assert_true(portset_has(&set, 64));
	assert_false(portset_has(&set, 62));
	assert_false(portset_has(&set, 65));
}

/* A new parse starts from an empty set rather than adding to the old one. */
static void test_portset_reparse_clears(void **state)
{
	struct portset set;

	(void)state;
	assert_int_equal(portset_parse(&set, "100-200"), 0);
	assert_int_equal(portset_parse(&set, "300"), 0);
	assert_int_equal(portset_count(&set), 1);
	assert_false(portset_has(&set, 150));
}

static void test_portset_invalid(void **state)
{
	static const char *const bad[] = {
		"", "0", "70000", "65536", "5-3", "1,,2", ",1", "abc", "80x", "80-",
		"-80", "1-2-3", "0-5", "5-70000", "80;81", "80,abc",
		"80,", /* an empty last element, like the middle one of "1,,2" */
	};
	struct portset set;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (portset_parse(&set, bad[i]) != -EINVAL)
			fail_msg("port spec \"%s\" accepted", bad[i]);
}

/* ---- stats_percentile -------------------------------------------------- */

static void fill_range(int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (int64_t)(n - i); /* descending: the function must sort */
}

static void test_percentile_nearest_rank(void **state)
{
	int64_t v[100];

	(void)state;
	fill_range(v, 10);
	assert_int_equal(stats_percentile(v, 10, 50), 5);
	fill_range(v, 10);
	assert_int_equal(stats_percentile(v, 10, 51), 6);
	fill_range(v, 10);
	assert_int_equal(stats_percentile(v, 10, 0), 1);
	fill_range(v, 10);
	assert_int_equal(stats_percentile(v, 10, 100), 10);
	fill_range(v, 100);
	assert_int_equal(stats_percentile(v, 100, 99), 99);
	fill_range(v, 100);
	assert_int_equal(stats_percentile(v, 100, 50), 50);
}

/* p * n / 100 is an exact integer here; floating point must not push the
 * rank past it (0.07 * 100 is 7.000000000000001 in binary floating point). */
static void test_percentile_exact_rank(void **state)
{
	int64_t v[100];

	(void)state;
	fill_range(v, 100);
	assert_int_equal(stats_percentile(v, 100, 7), 7);
	fill_range(v, 50);
	assert_int_equal(stats_percentile(v, 50, 14), 7);
}

static void test_percentile_single_and_unsorted(void **state)
{
	int64_t one[1] = { -42 };
	int64_t v[7] = { 900, -5, 300, 300, 7, 1000000000000, 12 };

	(void)state;
	assert_int_equal(stats_percentile(one, 1, 0), -42);
	assert_int_equal(stats_percentile(one, 1, 50), -42);
	assert_int_equal(stats_percentile(one, 1, 99), -42);
	/* sorted: -5 7 12 300 300 900 1e12; rank ceil(3.5) = 4 */
	assert_int_equal(stats_percentile(v, 7, 50), 300);
	assert_int_equal(v[0], -5);
	assert_int_equal(v[6], 1000000000000);
	assert_int_equal(stats_percentile(v, 7, 99), 1000000000000);
	assert_int_equal(stats_percentile(v, 7, 1), -5);
}

/* ---- addresses --------------------------------------------------------- */

static void test_mac_round_trip(void **state)
{
	static const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	uint8_t mac[6];
	char text[32];

	(void)state;
	assert_int_equal(mac_parse("52:54:00:AB:cd:Ef", mac), 0);
	assert_memory_equal(mac, want, 6);
	mac_format(mac, text, sizeof(text));
	assert_string_equal(text, "52:54:00:ab:cd:ef");
	assert_int_equal(mac_parse(text, mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_false(mac_is_zero(mac));
	assert_int_equal(mac_parse("00:00:00:00:00:00", mac), 0);
	assert_true(mac_is_zero(mac));
	mac_format(mac, text, sizeof(text));
	assert_string_equal(text, "00:00:00:00:00:00");
}

/* --guest MAC[,IP], shared by analyze and capture */
static void test_guest_spec(void **state)
{
	uint8_t mac[6] = { 0 };
	struct ip_addr ip = { 0 }, want;

	(void)state;
	assert_int_equal(guest_spec_parse("52:54:00:12:34:56", mac, &ip), 0);
	assert_int_equal(mac[5], 0x56);
	assert_int_equal(ip.family, 0); /* no IP given: left alone */
	assert_int_equal(guest_spec_parse("52:54:00:12:34:57,198.18.0.100", mac, &ip), 0);
	assert_int_equal(mac[5], 0x57);
	assert_int_equal(ip_parse("198.18.0.100", &want), 0);
	assert_true(ip_equal(&ip, &want));
	assert_int_equal(guest_spec_parse("52:54:00:12:34,198.18.0.1", mac, &ip), -EINVAL);
	assert_int_equal(guest_spec_parse("52:54:00:12:34:56,", mac, &ip), -EINVAL);
	assert_int_equal(guest_spec_parse("52:54:00:12:34:56,300.1.1.1", mac, &ip), -EINVAL);
	assert_int_equal(guest_spec_parse("52:54:00:12:34:56:00:00:00:00:00:00:00", mac, &ip), -EINVAL);
}

static void test_mac_rejects(void **state)
{
	static const char *const bad[] = {
		"", "52:54:00:ab:cd", "52:54:00:ab:cd:ef:01", "52:54:00:ab:cd:efx",
		"52-54-00-ab-cd-ef", "152:54:00:ab:cd:ef", "zz:54:00:ab:cd:ef",
		"52:54:00:ab:cd:", "-1:54:00:ab:cd:ef",
	};
	static const uint8_t untouched[6] = { 1, 2, 3, 4, 5, 6 };
	uint8_t mac[6];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(mac, untouched, 6);
		if (mac_parse(bad[i], mac) != -EINVAL)
			fail_msg("MAC \"%s\" accepted", bad[i]);
		assert_memory_equal(mac, untouched, 6);
	}
}

static void check_ip_round_trip(const char *text, int family, const uint8_t *bytes,
				const char *canonical)
{
	struct ip_addr ip, back;
	char out[ADDR_STR_LEN];

	if (ip_parse(text, &ip))
		fail_msg("IP \"%s\" rejected", text);
	assert_int_equal(ip.family, family);
	assert_memory_equal(ip.bytes, bytes, family == 4 ? 4 : 16);
	ip_format(&ip, out, sizeof(out));
	assert_string_equal(out, canonical);
	assert_int_equal(ip_parse(out, &back), 0);
	assert_true(ip_equal(&ip, &back));
}

static void test_ip_round_trip(void **state)
{
	static const uint8_t v4[4] = { 198, 18, 0, 100 };
	static const uint8_t v6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4 };

	(void)state;
	check_ip_round_trip("198.18.0.100", 4, v4, "198.18.0.100");
	check_ip_round_trip("FD00:0:0::0001", 6, v6, "fd00::1");
	check_ip_round_trip("::ffff:1.2.3.4", 6, mapped, "::ffff:1.2.3.4");
}

static void test_ip_rejects_and_compares(void **state)
{
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.256", "10.0.0.1.2", "fd00::1::2", "fe80::1%eth0",
		"10.0.0.1/24", "host",
	};
	struct ip_addr a, b;
	char out[ADDR_STR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ip_parse(bad[i], &a) != -EINVAL)
			fail_msg("IP \"%s\" accepted", bad[i]);
		assert_int_equal(a.family, 0);
	}
	memset(&a, 0, sizeof(a));
	ip_format(&a, out, sizeof(out));
	assert_string_equal(out, "-");

	/* IPv4 compares its four bytes only; families must match */
	assert_int_equal(ip_parse("10.0.0.1", &a), 0);
	b = a;
	b.bytes[15] = 0x55;
	assert_true(ip_equal(&a, &b));
	b.family = 6;
	assert_false(ip_equal(&a, &b));
	assert_int_equal(ip_parse("10.0.0.2", &b), 0);
	assert_false(ip_equal(&a, &b));
}

/* ---- units ------------------------------------------------------------- */

struct unit_case {
	int64_t ns;
	const char *text;
};

static void check_units(void (*format)(int64_t, char *, size_t), const struct unit_case *c,
			size_t n)
{
	char out[64];

	for (size_t i = 0; i < n; i++) {
		memset(out, 'x', sizeof(out));
		format(c[i].ns, out, sizeof(out));
		assert_string_equal(out, c[i].text);
	}
}

static void test_format_us(void **state)
{
	static const struct unit_case cases[] = {
		{ 0, "0.000" },
		{ 1, "0.001" },
		{ 999, "0.999" },
		{ 1000, "1.000" },
		{ 1234567, "1234.567" },
		{ -1, "-0.001" },
		{ -1234567, "-1234.567" },
		{ INT64_MAX, "9223372036854775.807" },
		{ INT64_MIN, "-9223372036854775.808" },
	};

	(void)state;
	check_units(format_us, cases, sizeof(cases) / sizeof(cases[0]));
}

/* The digit writers agree with printf on every magnitude and sign, and cut
 * a short buffer as snprintf does. */
static void test_format_matches_printf(void **state)
{
	char got[48], want[48];
	uint64_t u = 1;

	(void)state;
	for (int i = 0; i < 64; i++, u = u * 3 + (uint64_t)i) {
		int64_t v = (int64_t)(u & INT64_MAX); /* every magnitude up to 2^63 */
		const int64_t vals[] = { v, -v, v / 7, -(v / 7), v % 1000, INT64_MAX - i,
					 INT64_MIN + i };

		for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
			int64_t x = vals[k];
			uint64_t a = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;

			snprintf(want, sizeof(want), "%" PRId64, x);
			assert_int_equal(format_int(x, got, sizeof(got)), strlen(want));
			assert_string_equal(got, want);
			snprintf(want, sizeof(want), "%s%" PRIu64 ".%03" PRIu64, x < 0 ? "-" : "",
				 a / 1000, a % 1000);
			format_us(x, got, sizeof(got));
			assert_string_equal(got, want);
		}
	}
	assert_int_equal(format_int(-12345, got, 4), 6);
	assert_string_equal(got, "-12");
	format_us(1234567, got, 5);
	assert_string_equal(got, "1234");
	assert_int_equal(format_int(7, got, 0), 1);
}

/* units.h: 1234567 ns renders "1.235" (ms, three decimals, rounded). Only
 * values away from a rounding tie are used, so any round-to-nearest passes. */
static void test_format_ms(void **state)
{
	static const struct unit_case cases[] = {
		{ 0, "0.000" },
		{ 1000, "0.001" },
		{ 1000000, "1.000" },
		{ 33810000, "33.810" },
		{ 1234567, "1.235" },
		{ 1234499, "1.234" },
		{ 999999, "1.000" },
		{ -1234567, "-1.235" },
		{ -2000000, "-2.000" },
	};

	(void)state;
	check_units(format_ms, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_format_time(void **state)
{
	static const struct unit_case cases[] = {
		{ 0, "1970-01-01 00:00:00.000000000" },
		{ 1, "1970-01-01 00:00:00.000000001" },
		{ 1700000001401050000, "2023-11-14 22:13:21.401050000" },
		{ 1700000000999999999, "2023-11-14 22:13:20.999999999" },
		{ -1000000000, "1969-12-31 23:59:59.000000000" },
		/* before the epoch the fraction still counts forward from its second */
		{ -1, "1969-12-31 23:59:59.999999999" },
		{ -1500000000, "1969-12-31 23:59:58.500000000" },
	};

	(void)state;
	check_units(format_time, cases, sizeof(cases) / sizeof(cases[0]));
}

/* ---- json_writer ------------------------------------------------------- */

static void test_json_nested(void **state)
{
	static const char want[] =
		"{\"name\":\"q\\\"b\\\\s\\u000anl\\u0001\\u001f tab\\u0009\","
		"\"n\":-5,"
		"\"list\":[1,null,{\"t\":1234.567,\"neg\":-0.001,\"ok\":true},[]],"
		"\"empty\":{},"
		"\"u\":null,\"b\":null,\"f\":false,\"s\":null,\"big\":9223372036854775807,"
		"\"utf8\":\"\xc3\xa9\"}\n";
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(out);
	memset(&w, 0, sizeof(w));
	w.out = out;
	json_begin(&w, NULL, '{');
	json_str(&w, "name", "q\"b\\s\nnl\x01\x1f tab\t");
	json_int(&w, "n", -5);
	json_begin(&w, "list", '[');
	json_opt_int(&w, NULL, opt_some(1));
	json_opt_int(&w, NULL, (struct opt_i64){ 0 });
	json_begin(&w, NULL, '{');
	json_opt_us(&w, "t", opt_some(1234567));
	json_opt_us(&w, "neg", opt_some(-1));
	json_opt_bool(&w, "ok", opt_some(7));
	json_end(&w, '}');
	json_begin(&w, NULL, '[');
	json_end(&w, ']');
	json_end(&w, ']');
	json_begin(&w, "empty", '{');
	json_end(&w, '}');
	json_opt_us(&w, "u", (struct opt_i64){ 0 });
	json_opt_bool(&w, "b", (struct opt_i64){ 0 });
	json_opt_bool(&w, "f", opt_some(0));
	json_str(&w, "s", NULL);
	json_int(&w, "big", INT64_MAX);
	json_str(&w, "utf8", "\xc3\xa9");
	json_end(&w, '}');
	assert_int_equal(fclose(out), 0);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(w.depth, 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portset_default),
		cmocka_unit_test(test_portset_bounds),
		cmocka_unit_test(test_portset_reparse_clears),
		cmocka_unit_test(test_portset_invalid),
		cmocka_unit_test(test_percentile_nearest_rank),
		cmocka_unit_test(test_percentile_exact_rank),
		cmocka_unit_test(test_percentile_single_and_unsorted),
		cmocka_unit_test(test_mac_round_trip),
		cmocka_unit_test(test_mac_rejects),
		cmocka_unit_test(test_guest_spec),
		cmocka_unit_test(test_ip_round_trip),
		cmocka_unit_test(test_ip_rejects_and_compares),
		cmocka_unit_test(test_format_us),
		cmocka_unit_test(test_format_matches_printf),
		cmocka_unit_test(test_format_ms),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_json_nested),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
