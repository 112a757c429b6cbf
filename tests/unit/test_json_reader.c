/*
 * Unit tests of analysis/json_reader.c: navigation, exact fixed-point
 * numbers, string decoding, and hostile documents (every malformed one is an
 * error naming a byte offset, never a crash; the ASan build runs these too).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/json_reader.h"

static struct json_doc *parse(const char *text)
{
	struct json_doc *d = NULL;
	char err[160] = "";

	if (json_doc__parse(text, strlen(text), &d, err, sizeof(err)))
		fail_msg("parse failed: %s", err);
	return d;
}

static void test_navigation(void **state)
{
	struct json_doc *d = parse(" {\"schema\": \"x\", \"migrations\": [ {\"stream\": {\"out_bytes\": 74831504,"
				   " \"flows\": [1, [2, 3], {}]}, \"verdict\": {\"code\": \"ok\"}},"
				   " {\"verdict\": null} ], \"schema\": \"second\", \"t\": true } ");
	int migs, value;
	int64_t v;

	(void)state;
	assert_int_equal(json_doc__type(d, 0), JSON_OBJECT);
	assert_int_equal(json_doc__len(d, 0), 4);
	assert_string_equal(json_doc__str(d, json_doc__get(d, 0, "schema")), "x"); /* the first */
	migs = json_doc__get(d, 0, "migrations");
	assert_int_equal(json_doc__len(d, migs), 2);
	assert_true(json_doc__fixed(d, json_doc__path(d, json_doc__at(d, migs, 0), "stream.out_bytes"), 0,
				    &v));
	assert_int_equal(v, 74831504);
	assert_string_equal(json_doc__str(d, json_doc__path(d, json_doc__at(d, migs, 0), "verdict.code")),
			    "ok");
	/* siblings after nested containers are found */
	assert_int_equal(json_doc__type(d, json_doc__at(d, migs, 1)), JSON_OBJECT);
	assert_int_equal(json_doc__type(d, json_doc__path(d, json_doc__at(d, migs, 1), "verdict")),
			 JSON_NULL);
	assert_int_equal(json_doc__type(d, json_doc__get(d, 0, "t")), JSON_TRUE);
	assert_string_equal(json_doc__key_at(d, 0, 3, &value), "t");
	assert_int_equal(json_doc__type(d, value), JSON_TRUE);
	/* absent and mistyped lookups chain to -1 */
	assert_int_equal(json_doc__path(d, 0, "nope.deeper"), -1);
	assert_int_equal(json_doc__get(d, migs, "x"), -1);
	assert_int_equal(json_doc__at(d, migs, 2), -1);
	assert_int_equal(json_doc__at(d, -1, 0), -1);
	assert_null(json_doc__str(d, migs));
	assert_false(json_doc__fixed(d, json_doc__get(d, 0, "schema"), 0, &v));
	assert_null(json_doc__key_at(d, 0, 4, &value));
	json_doc__free(d);
}

static void test_fixed_point(void **state)
{
	static const struct {
		const char *num;
		int decimals;
		int64_t want;
		bool ok;
	} cases[] = {
		{ "780836.123", 3, 780836123, true },     /* microseconds with ns digits */
		{ "780836.12", 3, 780836120, true },
		{ "780836.1239", 3, 780836123, true },    /* beyond: dropped */
		{ "-0.5", 3, -500, true },
		{ "0", 3, 0, true },
		{ "12", 0, 12, true },
		{ "1.5e3", 0, 1500, true },
		{ "15e-1", 1, 15, true },
		{ "1234", -2, 12, true },
		{ "2E+2", 1, 2000, true },
		{ "9223372036854775807", 0, INT64_MAX, true },
		{ "9223372036854775808", 0, 0, false },  /* does not fit */
		{ "1e400", 0, 0, false },
		{ "1e19", 0, 0, false },
		{ "0.000000000000000000000000000001", 3, 0, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[64];
		struct json_doc *d;
		int64_t v = -1;

		snprintf(text, sizeof(text), "[%s]", cases[i].num);
		d = parse(text);
		assert_int_equal(json_doc__fixed(d, json_doc__at(d, 0, 0), cases[i].decimals, &v),
				 cases[i].ok);
		if (cases[i].ok && v != cases[i].want)
			fail_msg("%s with %d decimals: got %lld", cases[i].num, cases[i].decimals,
				 (long long)v);
		json_doc__free(d);
	}
}

static void test_strings(void **state)
{
	struct json_doc *d = parse("[\"a\\\"b\\\\c\\/d\\n\", \"\\u00e9\\u20ac\", \"\\ud83d\\ude00\","
				   " \"\\ud83d x\", \"<b>&\", \"\", \"cut\\u0000here\"]");

	(void)state;
	assert_string_equal(json_doc__str(d, json_doc__at(d, 0, 0)), "a\"b\\c/d\n");
	assert_string_equal(json_doc__str(d, json_doc__at(d, 0, 1)), "\xc3\xa9\xe2\x82\xac");
	assert_string_equal(json_doc__str(d, json_doc__at(d, 0, 2)), "\xf0\x9f\x98\x80");
	assert_string_equal(json_doc__str(d, json_doc__at(d, 0, 3)), "\xef\xbf\xbd x"); /* lone */
	assert_string_equal(json_doc__str(d, json_doc__at(d, 0, 4)), "<b>&");
	assert_string_equal(json_doc__str(d, json_doc__at(d, 0, 5)), "");
	assert_string_equal(json_doc__str(d, json_doc__at(d, 0, 6)), "cut");
	json_doc__free(d);
}

static void test_hostile(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{a:1}", "{\"a\":1,}",
		"\"open", "\"bad \\x escape\"", "\"\\u12\"", "\"tab\there\"", "01", "1.", "-", "1e",
		".5", "tru", "nul", "[1] 2", "{\"a\":1}}", "[\"\\ud800\\u12\"]", "\x01",
	};
	char deep[JSON_MAX_DEPTH + 10];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_doc *d = (struct json_doc *)1;
		char err[160] = "";

		assert_int_equal(json_doc__parse(bad[i], strlen(bad[i]), &d, err, sizeof(err)),
				 -EINVAL);
		assert_null(d);
		if (!strstr(err, "at byte"))
			fail_msg("'%s': error does not name the offset: %s", bad[i], err);
	}
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	{
		struct json_doc *d;
		char err[160];

		assert_int_equal(json_doc__parse(deep, strlen(deep), &d, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "nested too deep"));
		/* a NUL inside the text is not whitespace */
		assert_int_equal(json_doc__parse("[1]\0", 4, &d, err, sizeof(err)), -EINVAL);
	}
}

static void test_load_errors(void **state)
{
	struct json_doc *d;
	char err[256];

	(void)state;
	assert_int_equal(json_doc__load("/nonexistent/report.json", &d, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/report.json"));
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_navigation),
		cmocka_unit_test(test_fixed_point),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests_name("json_reader", tests, NULL, NULL);
}
